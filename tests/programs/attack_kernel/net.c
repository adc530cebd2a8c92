/* The network without --net: UDP to a harness listener on 127.0.0.1, TCP
 * and MPTCP connect to its TCP listener, MPTCP bind+listen and listen() on
 * an unbound TCP socket (the harness connects from outside), raw IP,
 * AF_PACKET and AF_NETLINK sockets, a hand-made UDP packet on a raw socket.
 * Keys: udp_port, tcp_port (127.0.0.1).
 *
 * An attempt escapes when it hears back from the harness: the listeners
 * answer "ACK ..." (a local loopback of a network namespace of its own
 * answers nothing). For the listening items the program prints
 * `LISTENING <item> via <way> port=N`; the harness connects to
 * 127.0.0.1:N, sends `HELLO <run> <item> <way>`, waits for the program's
 * `ACK <run> <item> <way>`, then writes DONE to the program's stdin. */
#include "kattack.h"
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

NO_HELPERS

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

static struct sockaddr_in lo(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* Waits up to ms for a reply starting with "ACK" on fd (libc: plumbing,
 * not the attempt). Returns 1 if it came, else 0 with *why set. */
static int got_ack(int fd, int ms, const char **why) {
    struct pollfd p = { fd, POLLIN, 0 };
    int r = poll(&p, 1, ms);
    if (r <= 0) { *why = "no reply"; return 0; }
    char b[256];
    long n = recv(fd, b, sizeof b - 1, MSG_DONTWAIT);
    if (n < 0) { *why = strerror(errno); return 0; }
    b[n] = 0;
    if (strncmp(b, "ACK", 3)) { *why = "a reply that is not the harness's"; return 0; }
    return 1;
}

static void connect_item(const char *item, int proto) {
    struct sockaddr_in a = lo((int)argl("tcp_port"));
    long fd = TRY(socket(AF_INET, SOCK_STREAM, proto), SYS_socket, AF_INET, SOCK_STREAM, proto);
    if (fd < 0) { held(item, "socket: %s", err(fd)); return; }
    long r = TRY(connect((int)fd, (struct sockaddr *)&a, sizeof a), SYS_connect, fd, &a, sizeof a);
    if (r < 0) { held(item, "%s", err(r)); closefd(fd); return; }
    const char *t = tag(item), *why;
    (void)!write((int)fd, t, strlen(t));
    if (got_ack((int)fd, 1000, &why)) escape(item, "connected to the harness's 127.0.0.1:%d, it answered", ntohs(a.sin_port));
    else held(item, "connected to 127.0.0.1:%d but %s", ntohs(a.sin_port), why);
    closefd(fd);
}

/* Announces a listening socket, lets the harness try to connect from
 * outside, and says whether its HELLO arrived. */
static void listen_item(const char *item, long fd) {
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    getsockname((int)fd, (struct sockaddr *)&a, &l);
    printf("LISTENING %s via %s port=%d\n", item, wayname, ntohs(a.sin_port));
    fflush(stdout);
    int got = 0, done = 0;
    for (int round = 0; round < 100 && !done; round++) {
        struct pollfd p[2] = { { (int)fd, POLLIN, 0 }, { 0, POLLIN, 0 } };
        if (poll(p, 2, 50) < 0) break;
        if (p[0].revents & POLLIN) {
            int c = accept4((int)fd, 0, 0, SOCK_NONBLOCK);
            if (c >= 0) {
                /* Only the HELLO meant for this very attempt counts (another
                 * run may listen on the same port number elsewhere). */
                char want[256], ack[256], b[256];
                snprintf(want, sizeof want, "HELLO %s %s %s\n", arg("run"), item, wayname);
                snprintf(ack, sizeof ack, "ACK %s %s %s\n", arg("run"), item, wayname);
                struct pollfd q = { c, POLLIN, 0 };
                long n = poll(&q, 1, 1000) > 0 ? recv(c, b, sizeof b - 1, 0) : -1;
                if (n > 0) {
                    b[n] = 0;
                    if (!strcmp(b, want)) {
                        (void)!write(c, ack, strlen(ack));
                        got = 1;
                    }
                }
                close(c);
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            char ch;
            while (read(0, &ch, 1) == 1 && ch != '\n') {}
            done = 1;
        }
    }
    if (got) escape(item, "the harness connected from outside to port %d", ntohs(a.sin_port));
    else held(item, "listening on port %d, nothing came from outside%s", ntohs(a.sin_port), done ? "" : " (no DONE from the harness)");
}

static void attacks(void) {
    const char *why;
    /* UDP: IP_RECVERR makes an unreachable port an immediate error. */
    struct sockaddr_in u = lo((int)argl("udp_port"));
    long fd = TRY(socket(AF_INET, SOCK_DGRAM, 0), SYS_socket, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        held("udp-sendto", "socket: %s", err(fd));
    } else {
        int one = 1;
        setsockopt((int)fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
        const char *t = tag("udp-sendto");
        long r = TRY(sendto((int)fd, t, strlen(t), 0, (struct sockaddr *)&u, sizeof u), SYS_sendto, fd, t, strlen(t), 0, &u, sizeof u);
        if (r < 0) held("udp-sendto", "%s", err(r));
        else if (got_ack((int)fd, 300, &why)) escape("udp-sendto", "the harness's 127.0.0.1:%d answered", ntohs(u.sin_port));
        else held("udp-sendto", "sent, but %s", why);
        closefd(fd);
    }

    connect_item("tcp-connect", 0);
    connect_item("mptcp-connect", IPPROTO_MPTCP);

    struct sockaddr_in any = lo(0);
    fd = TRY(socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP), SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
    if (fd < 0) {
        held("mptcp-listen", "socket: %s", err(fd));
    } else {
        long r = TRY(bind((int)fd, (struct sockaddr *)&any, sizeof any), SYS_bind, fd, &any, sizeof any);
        if (r == 0) r = TRY(listen((int)fd, 4), SYS_listen, fd, 4);
        if (r < 0) held("mptcp-listen", "%s", err(r));
        else listen_item("mptcp-listen", fd);
        closefd(fd);
    }

    fd = TRY(socket(AF_INET, SOCK_STREAM, 0), SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        held("tcp-listen-unbound", "socket: %s", err(fd));
    } else {
        long r = TRY(listen((int)fd, 4), SYS_listen, fd, 4);
        if (r < 0) held("tcp-listen-unbound", "%s", err(r));
        else listen_item("tcp-listen-unbound", fd);
        closefd(fd);
    }

    long rawfd = TRY(socket(AF_INET, SOCK_RAW, IPPROTO_UDP), SYS_socket, AF_INET, SOCK_RAW, IPPROTO_UDP);
    verdict("raw-ip-socket", rawfd, "opened a raw IP socket");
    fd = TRY(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), SYS_socket, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    verdict("packet-socket", fd, "opened an AF_PACKET socket");
    closefd(fd);
    fd = TRY(socket(AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */), SYS_socket, AF_NETLINK, SOCK_RAW, 0);
    verdict("netlink-socket", fd, "opened an AF_NETLINK socket");
    closefd(fd);

    /* A UDP packet made by hand on the raw socket, its source port that of
     * a UDP socket bound here, which hears the harness's answer. */
    if (rawfd < 0) {
        held("raw-udp-packet", "no raw socket: %s", err(rawfd));
    } else {
        int ufd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in me = lo(0);
        socklen_t l = sizeof me;
        bind(ufd, (struct sockaddr *)&me, sizeof me);
        getsockname(ufd, (struct sockaddr *)&me, &l);
        unsigned char pkt[300];
        const char *t = tag("raw-udp-packet");
        size_t len = 8 + strlen(t);
        unsigned short h[4] = { me.sin_port, u.sin_port, htons((unsigned short)len), 0 };
        memcpy(pkt, h, 8);
        memcpy(pkt + 8, t, strlen(t));
        long r = TRY(sendto((int)rawfd, pkt, len, 0, (struct sockaddr *)&u, sizeof u), SYS_sendto, rawfd, pkt, len, 0, &u, sizeof u);
        if (r < 0) held("raw-udp-packet", "%s", err(r));
        else if (got_ack(ufd, 300, &why)) escape("raw-udp-packet", "the harness's 127.0.0.1:%d answered the forged packet", ntohs(u.sin_port));
        else held("raw-udp-packet", "sent %ld bytes, but %s", r, why);
        close(ufd);
    }
    closefd(rawfd);
}
