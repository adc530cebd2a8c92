/* argv: RW_DIR. Names fds 1000-1099, none of them the program's: with the
   fd limit's soft and hard values equal preld's own fds (the session's
   connection, its grants' directories) lie there, from 1008 up. Every
   call on them must fail with EBADF as natively: dup, socket calls (bind
   put the server's new socket over the session's connection), preadv,
   xattrs, pidfd_getfd of the program's own pidfd, kcmp, close and fcntl of the fd with bits above its 32 set (the
   kernel takes the low 32), openat beside it (a connection the handler
   made for the open took the number and was sent as the directory: ENOTDIR).
   Then the session must still work: a directory made in RW_DIR (the
   server's). Prints each call that did not fail with EBADF, then "done"
   (pola_sessions.rs, preld_s_fds_are_no_fds_of_the_program_s). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/xattr.h>
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
    char sock[256], dir[256];
    snprintf(sock, sizeof sock, "%s/sock", argv[1]);
    snprintf(dir, sizeof dir, "%s/made", argv[1]);
    int self = syscall(SYS_pidfd_open, getpid(), 0);
    for (int fd = 1000; fd < 1100; fd++) {
        char b[8];
        struct iovec iov = {b, 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        int t;
        socklen_t l = sizeof t;
        struct sockaddr_un a = {AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
        unlink(sock);
        check("openat", fd, openat(fd, ".", O_RDONLY | O_DIRECTORY));
        check("dup", fd, dup(fd));
        check("getsockopt", fd, getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &l));
        check("shutdown", fd, shutdown(fd, SHUT_RDWR));
        check("recvmsg", fd, recvmsg(fd, &m, MSG_DONTWAIT));
        check("preadv", fd, preadv(fd, &iov, 1, 0));
        check("flistxattr", fd, flistxattr(fd, b, sizeof b));
        check("bind", fd, bind(fd, (struct sockaddr *)&a, sizeof a));
        check("connect", fd, connect(fd, (struct sockaddr *)&a, sizeof a));
        check("fcntl(1 << 32 | fd)", fd, syscall(SYS_fcntl, 1L << 32 | fd, F_GETFD));
        check("close(1 << 32 | fd)", fd, syscall(SYS_close, 1L << 32 | fd));
        if (self >= 0)
            check("pidfd_getfd", fd, syscall(SYS_pidfd_getfd, self, fd, 0));
        check("kcmp", fd, syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, fd, fd));
    }
    unlink(sock);
    rmdir(dir);
    if (mkdir(dir, 0755) != 0) {
        printf("mkdir %s after: %s\n", dir, strerror(errno));
        bad++;
    }
    rmdir(dir);
    printf("done: %d wrong\n", bad);
    return bad != 0;
}
