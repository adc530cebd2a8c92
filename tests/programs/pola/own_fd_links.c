/* argv: none. Like own_fd_leaks.c (fds 1000-1099, none of the program's;
   with the fd limit's soft and hard values equal preld's own fds lie there
   from 1008 up), each fd's magic link looked at itself: lstat and
   fstatat(AT_SYMLINK_NOFOLLOW) of /proc/self/fd/N, /proc/PID/fd/N,
   /proc/thread-self/fd/N and /dev/fd/N; natively ENOENT. Session-18b
   adversary: the link itself was looked at in the session's procfs,
   where preld's fds are open: 0 for each of them. Prints each that
   answered otherwise, then "done: N wrong". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int bad = 0;
    for (int fd = 1000; fd < 1100; fd++) {
        char p[4][64];
        snprintf(p[0], 64, "/proc/self/fd/%d", fd);
        snprintf(p[1], 64, "/proc/%d/fd/%d", (int)getpid(), fd);
        snprintf(p[2], 64, "/proc/thread-self/fd/%d", fd);
        snprintf(p[3], 64, "/dev/fd/%d", fd);
        for (int i = 0; i < 4; i++) {
            struct stat st;
            int a = lstat(p[i], &st);
            int ea = errno;
            int b = fstatat(AT_FDCWD, p[i], &st, AT_SYMLINK_NOFOLLOW);
            int eb = errno;
            if (a != -1 || ea != ENOENT || b != -1 || eb != ENOENT) {
                printf("%s: lstat %d (%s), fstatat %d (%s)\n", p[i], a, a ? strerror(ea) : "", b, b ? strerror(eb) : "");
                bad++;
            }
        }
    }
    printf("done: %d wrong\n", bad);
    return 0;
}
