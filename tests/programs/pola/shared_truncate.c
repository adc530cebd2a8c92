/* fstatat(dirfd, NAME, buf, AT_SYMLINK_NOFOLLOW) where NAME lies in a
 * shared file mapping that another process cuts short and extends again
 * all the while (argv[1]: a directory the program may write, holding
 * `file`; argv[2]: how many stats). The program never touches those bytes
 * itself: natively each stat is 0 (the kernel read the name), EFAULT
 * (the page lay beyond the file's end then) or ENOENT (extended again,
 * not yet written: an empty name), never a signal. Prints
 * "survived" with the counts; a SIGBUS the program's own handler sees is
 * counted too (it returns, so that a fault of preld's code, passed on as
 * the program's, is made again once the page is back). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long buses;
static void on_bus(int sig, siginfo_t *si, void *uc) { (void)sig, (void)si, (void)uc; buses++; }

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int d = open(argv[1], O_RDONLY | O_DIRECTORY);
    char path[4096];
    snprintf(path, sizeof path, "%s/mapped", argv[1]);
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (d < 0 || f < 0 || ftruncate(f, 8192) != 0) { perror(argv[1]); return 1; }
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 1; }
    memcpy(m + 4096, "file", 5);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGBUS, &sa, NULL);
    pid_t c = fork();
    if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) {
            if (ftruncate(f, 4096) || ftruncate(f, 8192) || pwrite(f, "file", 5, 4096) != 5) _exit(1);
        }
    }
    long ok = 0, efault = 0, other = 0, n = atol(argv[2]);
    struct stat st;
    for (long i = 0; i < n; i++) {
        if (fstatat(d, m + 4096, &st, AT_SYMLINK_NOFOLLOW) == 0) ok++;
        else if (errno == EFAULT || errno == ENOENT) efault++; /* (ENOENT: the page read back as zeros, an empty name) */
        else other++;
    }
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    unlink(path);
    printf("survived: %s (other errors %ld, SIGBUS in the handler %ld)\n", ok && !other ? "stats made" : "no stat made", other, buses);
    return 0;
}
