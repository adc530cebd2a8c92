/* Pathname Unix sockets outside the grants: connect() to the harness's
 * listening stream socket, sendto() to its datagram socket.
 * Keys: unix_stream, unix_dgram (host paths outside every grant). */
#include "kattack.h"
#include <sys/socket.h>
#include <sys/un.h>

NO_HELPERS

static struct sockaddr_un addr(const char *path) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    return a;
}

static void attacks(void) {
    struct sockaddr_un s = addr(arg("unix_stream")), d = addr(arg("unix_dgram"));

    /* A connect that succeeds has reached the socket at that path: the
     * harness's listener (it also records the tag sent). */
    long fd = TRY(socket(AF_UNIX, SOCK_STREAM, 0), SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        held("unix-stream-connect", "socket: %s", err(fd));
    } else {
        long r = TRY(connect((int)fd, (struct sockaddr *)&s, sizeof s), SYS_connect, fd, &s, sizeof s);
        if (r == 0) {
            const char *t = tag("unix-stream-connect");
            long n = write((int)fd, t, strlen(t));
            escape("unix-stream-connect", "connected to %s, sent %ld bytes", s.sun_path, n);
        } else {
            held("unix-stream-connect", "%s", err(r));
        }
        closefd(fd);
    }

    /* sendto() of a datagram socket delivers into the socket found at the
     * path, or fails. */
    fd = TRY(socket(AF_UNIX, SOCK_DGRAM, 0), SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0) {
        held("unix-dgram-sendto", "socket: %s", err(fd));
    } else {
        const char *t = tag("unix-dgram-sendto");
        long r = TRY(sendto((int)fd, t, strlen(t), 0, (struct sockaddr *)&d, sizeof d), SYS_sendto, fd, t, strlen(t), 0, &d,
                     sizeof d);
        if (r > 0) escape("unix-dgram-sendto", "delivered %ld bytes to %s", r, d.sun_path);
        else held("unix-dgram-sendto", "%s", err(r));
        closefd(fd);
    }
}
