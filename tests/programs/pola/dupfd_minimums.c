/* dupfd_minimums: fcntl(0, F_DUPFD, N) and F_DUPFD_CLOEXEC for every N
 * from 3 up to 128 below the fd limit (at most 4096) that the program has
 * no fd at: natively the copy lands at N itself. Prints how many landed
 * elsewhere or failed (preld's own fds at N in a session, where the soft
 * limit is the hard one and preld's fds sit below it: the kernel skipped
 * them). Near the limit preld's fds may leave no room above the copy:
 * not looked at. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
    (void)argc;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    long top = (rl.rlim_cur < 4096 ? (long)rl.rlim_cur : 4096) - 128;
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
    /* Then the program goes on as before (preld's fds moved in a session). */
    int f = open(argv[0], O_RDONLY | O_CLOEXEC), u = open("/usr/include", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char b[4];
    printf("after: open itself %s, read %s, /usr/include %s\n", f >= 0 ? "ok" : "fails", f >= 0 && read(f, b, 4) == 4 ? "ok" : "fails", u >= 0 ? "ok" : "fails");
    return 0;
}
