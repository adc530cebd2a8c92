/* A program that closes every fd it has, then works on: opens a granted
 * file (it must get fd 0, the lowest free), an output file (fd 1), reads
 * the first from a new thread too, and runs `cat FILE` with fd 1 as its
 * stdout. In a capability session every one of those needs the server
 * connections that preld keeps out of the program's reach.
 *
 * usage: closeall IN OUT    (exit 0 when all went well; the output file
 *                            holds what it found) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *in_path;
static char from_thread[256];

static void *reader(void *arg) {
    (void)arg;
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return (void *)1;
    ssize_t n = read(fd, from_thread, sizeof from_thread - 1);
    close(fd);
    return n > 0 ? NULL : (void *)1;
}

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    in_path = argv[1];
    long cr = syscall(SYS_close_range, 0U, ~0U, 0U);
    int closed = 0;
    for (int fd = 0; fd <= 65535; fd++)
        if (close(fd) == 0)
            closed++;
    int in = open(argv[1], O_RDONLY);
    if (in < 0)
        return 10;
    char buf[256];
    ssize_t n = read(in, buf, sizeof buf - 1);
    if (n <= 0)
        return 11;
    buf[n] = 0;
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0)
        return 12;
    pthread_t t;
    void *tr = (void *)1;
    if (pthread_create(&t, NULL, reader, NULL) != 0 || pthread_join(t, &tr) != 0 || tr != NULL)
        return 13;
    dprintf(out, "close_range %ld, closed by the loop %d, in fd %d, out fd %d\n", cr, closed, in, out);
    dprintf(out, "read: %s", buf);
    dprintf(out, "thread read: %s", from_thread);
    pid_t pid = fork();
    if (pid == 0) {
        /* cat's stdout is the output file; no stdin, no stderr. */
        execl("/bin/cat", "cat", argv[1], (char *)NULL);
        _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 14;
    dprintf(out, "cat: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
    return 0;
}
