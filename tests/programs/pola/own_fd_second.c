/* argv: none, or "ioctl". Like own_fd_leaks.c (fds 1000-1099, none of the program's;
   with the fd limit's soft and hard values equal preld's own fds lie there
   from 1008 up), the calls whose second fd is not their first argument,
   each made from one site in a loop (the first call traps and rewrites
   the site; the next ones go through its gate): epoll_ctl's watched fd,
   splice's fd_out (from an empty pipe, without waiting) and sendfile's
   in_fd: natively EBADF each. Session-18b adversary: the Fd gate looks at
   the first argument only, and after the first call the session's
   connection was added to an epoll set (0), spliced into (EAGAIN: with
   data in the pipe, bytes of the program's among the session's
   messages) and sent from (EINVAL). With "ioctl": the ioctls that name
   fds besides their first instead: FICLONE's source (the third argument)
   and FICLONERANGE's (in its struct), natively EBADF; FIDEDUPERANGE's
   destinations (in its struct). Session-18b adversary: FICLONE gave
   EXDEV in a session (the kernel reached preld's fd).
   Prints each that answered otherwise, then "done: N wrong". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>

static int bad;

static void check(const char *what, int fd, long r) {
    if (r >= 0 || errno != EBADF) {
        printf("%s(%d): %ld (%s)\n", what, fd, r, r >= 0 ? "no error" : strerror(errno));
        bad++;
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int ep = epoll_create1(0);
    int pp[2];
    int out = open("/dev/null", O_WRONLY);
    if (ep < 0 || pipe2(pp, O_NONBLOCK) != 0 || out < 0) return 1;
    if (argc > 1 && strcmp(argv[1], "ioctl") == 0) {
        int dst = open("/tmp", O_TMPFILE | O_RDWR, 0600);
        if (dst < 0) return 1;
        for (int fd = 1000; fd < 1100; fd++) {
            check("ioctl FICLONE", fd, ioctl(dst, FICLONE, fd));
            struct file_clone_range r = {.src_fd = fd};
            check("ioctl FICLONERANGE", fd, ioctl(dst, FICLONERANGE, &r));
            /* The destinations: natively each one's status says EBADF
               (the call itself succeeds), or the file system clones no
               ranges at all (EOPNOTSUPP, tmpfs and ext4), whatever the
               fds; either way the fds come back as they were. */
            struct { struct file_dedupe_range h; struct file_dedupe_range_info i[2]; } d = {0};
            d.h.src_length = 1;
            d.h.dest_count = 2;
            d.i[0].dest_fd = fd;
            d.i[1].dest_fd = fd;
            long rr = ioctl(dst, FIDEDUPERANGE, &d);
            int e = errno;
            if (!(rr == 0 && d.i[0].status == -EBADF && d.i[1].status == -EBADF) && !(rr < 0 && e == EOPNOTSUPP)) {
                printf("ioctl FIDEDUPERANGE(%d): %ld (%s), statuses %d %d\n", fd, rr, rr < 0 ? strerror(e) : "no error", d.i[0].status, d.i[1].status);
                bad++;
            }
            if (d.i[0].dest_fd != fd || d.i[1].dest_fd != fd) {
                printf("ioctl FIDEDUPERANGE(%d): the destinations came back as %lld %lld\n", fd, (long long)d.i[0].dest_fd, (long long)d.i[1].dest_fd);
                bad++;
            }
        }
        printf("done: %d wrong\n", bad);
        return 0;
    }
    for (int fd = 1000; fd < 1100; fd++) {
        struct epoll_event ev = {.events = EPOLLIN};
        check("epoll_ctl", fd, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
        check("splice", fd, splice(pp[0], NULL, fd, NULL, 1, SPLICE_F_NONBLOCK));
        check("sendfile", fd, sendfile(out, fd, NULL, 1));
    }
    printf("done: %d wrong\n", bad);
    return 0;
}
