/* dupfd_minimums: fcntl(0, F_DUPFD, N) and F_DUPFD_CLOEXEC for every N
 * from 3 up to the fd limit (at most 4096) that the program has no fd at:
 * natively the copy lands at N itself. Prints how many landed elsewhere
 * or failed (preld's own fds at N in a session: the kernel skips them).
 * First the program makes its soft fd limit its hard one, at most 4096,
 * and runs itself again (where preld puts its fds below the limit). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (argc < 2) {
        if (rl.rlim_max > 4096)
            rl.rlim_max = 4096;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return 1;
        execl(argv[0], argv[0], "again", (char *)0);
        return 1;
    }
    long top = rl.rlim_cur < 4096 ? (long)rl.rlim_cur : 4096;
    int elsewhere = 0, failed = 0, tried = 0;
    for (long n = 3; n < top; n++) {
        if (fcntl((int)n, F_GETFD) >= 0 || errno != EBADF)
            continue;
        for (int cmd = 0; cmd < 2; cmd++) {
            int r = fcntl(0, cmd ? F_DUPFD_CLOEXEC : F_DUPFD, (int)n);
            tried++;
            if (r < 0)
                failed++;
            else {
                if (r != n)
                    elsewhere++;
                close(r);
            }
        }
    }
    printf("F_DUPFD at numbers not open: %s; elsewhere %d, failed %d\n", tried ? "tried" : "none", elsewhere, failed);
    return 0;
}
