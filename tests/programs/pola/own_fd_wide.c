/* argv: none. Like own_fd_leaks.c (fds 1000-1099, none of the program's;
   with the fd limit's soft and hard values equal preld's own fds lie there
   from 1008 up), poll and select as programs make them with many fds:
   poll of 40 entries (a ready pipe first, fd N last, the rest -1), which
   natively answers 2 at once (POLLIN, POLLNVAL), and select of fd N with
   the fd table grown past it first (dup2 to 2047 and close: natively a
   bit past the table's size is passed over), natively EBADF, by select
   and pselect6. Session-18b adversary: the handler read the pollfd array
   32 entries at a time and the fd_set whole through usermem::read_words,
   which reads at most 8 words: more than 8 entries, or nfds past 512,
   read as unreadable and the call went to the kernel on preld's fds (the
   session's connection polled or selected ready; a poll waiting for
   preld's fd alone would wait for it). Prints each that answered
   otherwise, then "done: N wrong". */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int bad = 0;
    /* The fd table past fd 2047, as natively in a session. */
    if (dup2(0, 2047) != 2047) return 1;
    close(2047);
    int pp[2];
    if (pipe(pp) != 0) return 1;
    if (write(pp[1], "x", 1) != 1) return 1;
    for (int fd = 1000; fd < 1100; fd++) {
        struct pollfd p[40];
        for (int i = 0; i < 40; i++) p[i] = (struct pollfd){-1, POLLIN, 0};
        p[0].fd = pp[0];
        p[39].fd = fd;
        int n = poll(p, 40, 1000);
        if (n != 2 || p[0].revents != POLLIN || p[39].revents != POLLNVAL) {
            printf("poll(pipe, -1 x38, %d): %d, revents %#x %#x\n", fd, n, p[0].revents, p[39].revents);
            bad++;
        }
        /* (An fd_set holds 1024 fds: a set of 2048 bits.) */
        unsigned long rs[2048 / 64];
        memset(rs, 0, sizeof rs);
        rs[fd / 64] = 1UL << (fd % 64);
        struct timeval tv = {0, 0};
        long r = syscall(SYS_select, fd + 1, rs, NULL, NULL, &tv);
        if (r != -1 || errno != EBADF) {
            printf("select(%d): %ld (%s)\n", fd, r, r >= 0 ? "no error" : strerror(errno));
            bad++;
        }
        memset(rs, 0, sizeof rs);
        rs[fd / 64] = 1UL << (fd % 64);
        struct timespec ts = {0, 0};
        r = syscall(SYS_pselect6, fd + 1, rs, NULL, NULL, &ts, NULL);
        if (r != -1 || errno != EBADF) {
            printf("pselect6(%d): %ld (%s)\n", fd, r, r >= 0 ? "no error" : strerror(errno));
            bad++;
        }
    }
    printf("done: %d wrong\n", bad);
    return 0;
}
