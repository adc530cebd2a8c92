/* file_grant_reopens PATH: a file granted alone (-B's /etc/passwd), which a
 * session reopens in the process through its fd directory in the
 * session's procfs (handler/src/beneath.rs, `fd_dir`), opened from every
 * kind of caller: the process that opened its directory first, a fork
 * child and grandchild, a vfork child, a thread with an fd table of its
 * own (unshare(CLONE_FILES)), and a thread after the leader's exit (the
 * leader's fd directory lists nothing then). Each prints what it read, so
 * that a native run and a session's compare line by line. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *path;

/* FNV-1a of the file's bytes, or 0 where it cannot be opened. */
static unsigned long sum(void) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    unsigned long h = 1469598103934665603ul;
    char buf[4096];
    long n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (long i = 0; i < n; i++) h = (h ^ (unsigned char)buf[i]) * 1099511628211ul;
    close(fd);
    return h;
}

static unsigned long first;

static void report(const char *who) {
    unsigned long s = sum();
    printf("%s: %s\n", who, s == 0 ? "cannot open" : s == first ? "same bytes" : "other bytes");
    fflush(stdout);
}

static void *unshared(void *arg) {
    (void)arg;
    if (unshare(CLONE_FILES) != 0) perror("unshare");
    report("thread with its own fd table");
    return NULL;
}

static void *after_leader(void *arg) {
    (void)arg;
    usleep(200 * 1000);
    report("thread after the leader's exit");
    exit(0);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    path = argv[1];
    first = sum();
    report("the process");
    pid_t c = fork();
    if (c == 0) {
        report("fork child");
        pid_t g = fork();
        if (g == 0) {
            report("fork grandchild");
            _exit(0);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    /* (A vfork child may only call what is safe there: open, read, close
     * and _exit; its verdict goes out as its status.) */
    c = vfork();
    if (c == 0) _exit(sum() == first ? 0 : 1);
    int st = 0;
    waitpid(c, &st, 0);
    printf("vfork child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "same bytes" : "not the same");
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, NULL, unshared, NULL);
    pthread_join(t, NULL);
    report("the process again");
    pthread_create(&t, NULL, after_leader, NULL);
    pthread_exit(NULL);
}
