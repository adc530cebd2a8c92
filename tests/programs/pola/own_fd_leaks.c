/* argv: none. Like own_fd_calls.c (fds 1000-1099, none of them the
   program's; with the fd limit's soft and hard values equal preld's own
   fds lie there from 1008 up), the calls that name an fd somewhere other
   than their first argument, or not as a number the handler's fd guard
   sees: an SCM_RIGHTS message (sendmsg on a socketpair: natively EBADF;
   in a session it carried preld's fd, received as a new fd of the
   program's: the session's connection, its grants' directories), poll
   (POLLNVAL), mmap's fd, fallocate, signalfd4, timerfd_gettime,
   epoll_pwait2, setns, landlock_restrict_self (EBADF; in a session
   ENODEV, EINVAL, EBADFD: the kernel reached the session's connection), and
   /proc/self/fdinfo/N (ENOENT). Prints each that answered otherwise, then
   "done: N wrong" (session-17c adversary). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bad;

static void check(const char *what, int fd, long r, int want) {
    if (r >= 0 || errno != want) {
        printf("%s(%d): %ld (%s)\n", what, fd, r, r >= 0 ? "no error" : strerror(errno));
        bad++;
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    for (int fd = 1000; fd < 1100; fd++) {
        char c = 'x';
        struct iovec iov = {&c, 1};
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        long r = sendmsg(sv[0], &m, MSG_DONTWAIT);
        check("sendmsg SCM_RIGHTS", fd, r, EBADF);
        if (r > 0) {
            memset(cbuf, 0, sizeof cbuf);
            m.msg_controllen = sizeof cbuf;
            if (recvmsg(sv[1], &m, 0) > 0 && (cm = CMSG_FIRSTHDR(&m))) {
                int got;
                memcpy(&got, CMSG_DATA(cm), sizeof got);
                printf("  received it as fd %d\n", got);
                close(got);
            }
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) != 1 || p.revents != POLLNVAL) {
            printf("poll(%d): revents %#x\n", fd, p.revents);
            bad++;
        }
        /* Beside a pipe with data, waiting: both at once. */
        int pp[2];
        if (pipe(pp) != 0) return 1;
        if (write(pp[1], "x", 1) != 1) return 1;
        struct pollfd two[3] = {{pp[0], POLLIN, 0}, {fd, POLLIN, 0}, {pp[1], 0, 0}};
        int n = poll(two, 3, 1000);
        if (n != 2 || two[0].revents != POLLIN || two[1].revents != POLLNVAL || two[2].revents != 0) {
            printf("poll(pipe, %d, pipe): %d, revents %#x %#x %#x\n", fd, n, two[0].revents, two[1].revents, two[2].revents);
            bad++;
        }
        struct timespec zero = {0, 0};
        two[1].revents = 0;
        n = ppoll(&two[1], 1, &zero, NULL);
        if (n != 1 || two[1].revents != POLLNVAL) {
            printf("ppoll(%d): %d, revents %#x\n", fd, n, two[1].revents);
            bad++;
        }
        /* (Not select: natively a bit past the fd table's size, 64 or
         * 256 fds here, is passed over; preld's fds make the table
         * larger.) */
        close(pp[0]);
        close(pp[1]);
        {
            struct mmsghdr mm = {.msg_hdr = m};
            mm.msg_hdr.msg_controllen = sizeof cbuf;
            cm = CMSG_FIRSTHDR(&mm.msg_hdr);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            cm->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(cm), &fd, sizeof(int));
            check("sendmmsg SCM_RIGHTS", fd, sendmmsg(sv[0], &mm, 1, MSG_DONTWAIT), EBADF);
        }
        void *a = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        check("mmap", fd, a == MAP_FAILED ? -1 : 0, EBADF);
        if (a != MAP_FAILED) munmap(a, 4096);
        check("fallocate", fd, fallocate(fd, 0, 0, 1), EBADF);
        sigset_t none;
        sigemptyset(&none);
        char b[64];
        check("signalfd4", fd, syscall(SYS_signalfd4, fd, &none, 8, 0), EBADF);
        check("timerfd_gettime", fd, syscall(SYS_timerfd_gettime, fd, b), EBADF);
        check("epoll_pwait2", fd, syscall(SYS_epoll_pwait2, fd, b, 1, NULL, NULL, 0), EBADF);
        check("setns", fd, syscall(SYS_setns, fd, 0), EBADF);
        check("landlock_restrict_self", fd, syscall(SYS_landlock_restrict_self, fd, 0), EBADF);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
        int i = open(path, O_RDONLY);
        check("open /proc/self/fdinfo/N", fd, i, ENOENT);
        if (i >= 0) close(i);
    }
    printf("done: %d wrong\n", bad);
    return 0;
}
