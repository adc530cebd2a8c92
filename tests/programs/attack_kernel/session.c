/* The session's own lifecycle, attacked from inside (run by the test
 * `the_session_cannot_end_its_launcher_badly` of tests/tests/attacks_kernel.rs,
 * not by the per-item suite: each mode ends or stops the session itself).
 *
 *   kill-init  sets the RLIMIT_CPU hard limit of pid 1 (the session's init,
 *              same uid: prlimit64 checks ids only) to 1 s, then makes the
 *              init burn CPU: 1500 orphans (children of the init) in a
 *              process group of their own, stopped and continued over and
 *              over, each round a SIGCHLD and O(n^2) waitpid scans in the
 *              init. The kernel SIGKILLs the init at its hard limit, every
 *              process of the session dies with it and the launcher exits
 *              (125) without putting the user's terminal back from raw mode.
 *              Refuses to run unless it is pid 2 (pid 1 the session's init):
 *              natively pid 1 is the machine's init.
 *   stop-self  stops itself (SIGSTOP); a child continues it 0.5 s later and
 *              it exits 0. Natively that takes 0.5 s; the launcher, told by
 *              the init that the program stopped, stops itself with SIGSTOP
 *              and nothing in the session can continue it.
 *   tty-reopen opens -B's /dev/tty O_PATH (the grant's copy of the host's
 *              node), then reopens that fd by its /proc/self/fd name: the
 *              terminal it gets must be the session's own (what /dev/tty
 *              opens), never the launcher's (the user's terminal: its
 *              keystrokes, its modes). ESCAPE if another. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "../attack/attack.h"
#include "../attack/gadget_scan.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The same reopen asked of the server itself, as the handler would for a
   file (a forged Open with an empty path beside the O_PATH fd, on each of
   preld's connections, found and used through ld-preld's `syscall; ret`):
   the terminal it answers with must be the session's. */
static unsigned long G;
static long gc(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }
static void forged_reopen(int path_fd, int own) {
    find_gadgets();
    G = 0;
    for (int i = 0; i < ncand && !G; i++) {
        if (sigsetjmp(jb, 1)) continue;
        if (call_gadget(cands[i], SYS_getpid, 0, 0, 0, 0) > 0) G = cands[i];
    }
    signal(SIGSEGV, SIG_DFL);
    if (!G) { printf("tty-reopen: no gadget\n"); return; }
    printf("tty-reopen: gadget %#lx\n", G);
    fflush(stdout);
    pid_t own_sid = -1;
    ioctl(own, TIOCGSID, &own_sid);
    for (int s = 0; s < 65536; s++) {
        struct stat st;
        if (gc(SYS_fstat, s, (long)&st, 0, 0) != 0 || !S_ISSOCK(st.st_mode)) continue;
        unsigned char b[64];
        unsigned magic = 0x444c5250, id = 0x7777, plen = 11, flags = O_RDONLY | O_NOCTTY, mode = 0;
        unsigned short ver = 1, op = 3, len = 0;
        memcpy(b, &magic, 4); memcpy(b + 4, &ver, 2); memcpy(b + 6, &op, 2); memcpy(b + 8, &id, 4); memcpy(b + 12, &plen, 4);
        memcpy(b + 16, &flags, 4); memcpy(b + 20, &mode, 4); b[24] = 1; memcpy(b + 25, &len, 2);
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = { b, 27 };
        struct msghdr mh = { 0, 0, &iov, 1, cbuf, sizeof cbuf, 0 };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &path_fd, sizeof(int));
        long w = gc(SYS_sendmsg, s, (long)&mh, MSG_NOSIGNAL | MSG_DONTWAIT, 0);
        if (w < 0) { printf("tty-reopen: fd %d: forged Open: send %s\n", s, strerror((int)-w)); continue; }
        struct pollfd pf = { s, POLLIN, 0 };
        if (gc(SYS_poll, (long)&pf, 1, 3000, 0) <= 0) { printf("tty-reopen: fd %d: forged Open: no reply\n", s); continue; }
        unsigned char rb[70000];
        char rc[CMSG_SPACE(8 * sizeof(int))];
        struct iovec riov = { rb, sizeof rb };
        struct msghdr rh = { 0, 0, &riov, 1, rc, sizeof rc, 0 };
        long r = gc(SYS_recvmsg, s, (long)&rh, MSG_DONTWAIT, 0);
        long result = -9999;
        if (r >= 24) memcpy(&result, rb + 16, 8);
        printf("tty-reopen: fd %d: forged Open: reply %ld\n", s, result);
        for (struct cmsghdr *k = CMSG_FIRSTHDR(&rh); k; k = CMSG_NXTHDR(&rh, k))
            if (k->cmsg_type == SCM_RIGHTS) {
                int fd = *(int *)CMSG_DATA(k);
                pid_t sid = -1;
                int e = ioctl(fd, TIOCGSID, &sid) == 0 ? 0 : errno;
                int other = e != 0 || sid != own_sid;
                printf("tty-reopen: fd %d: forged Open's fd: sid %d (%s; the session's %d)%s\n", s, sid, e ? strerror(e) : "ok", own_sid,
                       other ? " ESCAPE: the server opened a terminal that is not the session's" : "");
                close(fd);
            }
    }
}

static int tty_reopen(void) {
    struct stat own, got;
    int t = open("/dev/tty", O_RDONLY | O_CLOEXEC);
    if (t < 0 || fstat(t, &own) != 0) { printf("tty-reopen: /dev/tty: %s\n", strerror(errno)); return 1; }
    int p = open("/dev/tty", O_PATH | O_CLOEXEC);
    printf("tty-reopen: /dev/tty O_PATH: %d\n", p);
    if (p < 0) return 0;
    char name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%d", p);
    for (int k = 0; k < 2; k++) {
        int r = open(name, (k ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
        if (r < 0) { printf("tty-reopen: %s %s: %s\n", name, k ? "O_RDWR" : "O_RDONLY", strerror(errno)); continue; }
        fstat(r, &got);
        /* The session's terminal is the program's controlling one: its
           session id answers; another terminal's is ENOTTY. */
        pid_t sid = -1, own_sid = -1;
        int e = ioctl(r, TIOCGSID, &sid) == 0 ? 0 : errno;
        ioctl(t, TIOCGSID, &own_sid);
        /* (EBADF: the handler's copy of the O_PATH fd, no terminal.) */
        int other = e != EBADF && (e != 0 || sid != own_sid);
        printf("tty-reopen: %s %s: rdev %lx (the session's %lx), sid %d (%s; the session's %d)%s\n", name, k ? "O_RDWR" : "O_RDONLY",
               (unsigned long)got.st_rdev, (unsigned long)own.st_rdev, sid, e ? strerror(e) : "ok", own_sid,
               other ? " ESCAPE: a terminal that is not the session's" : "");
        close(r);
    }
    forged_reopen(p, t);
    printf("tty-reopen: done\n");
    return 0;
}

static int kill_init(void) {
    if (getpid() != 2) {
        printf("kill-init: not pid 2 of a session (pid %d): refused\n", getpid());
        return 3;
    }
    struct rlimit r = { 1, 1 };
    long x = syscall(SYS_prlimit64, 1, RLIMIT_CPU, &r, 0);
    printf("kill-init: prlimit64(1, RLIMIT_CPU, 1 s): %s\n", x < 0 ? strerror(errno) : "set");
    fflush(stdout);
    if (x < 0) return 0;
    int p[2], pg = 0;
    if (pipe(p) < 0) return 4;
    for (int i = 0; i < 1500; i++) {
        pid_t c = fork();
        if (c < 0) break;
        if (c == 0) {
            if (fork() == 0) {
                if (setpgid(0, pg) < 0) _exit(1);
                if (!pg) { int me = getpid(); (void)!write(p[1], &me, 4); }
                for (;;) pause();
            }
            _exit(0);
        }
        waitpid(c, 0, 0);
        if (!pg && read(p[0], &pg, 4) != 4) return 5;
    }
    printf("kill-init: orphans in group %d, stopping and continuing them\n", pg);
    fflush(stdout);
    for (int k = 0; k < 200000; k++) {
        kill(-pg, SIGSTOP);
        kill(-pg, SIGCONT);
    }
    kill(-pg, SIGKILL);
    printf("kill-init: the init survived\n");
    return 0;
}

static int stop_self(void) {
    pid_t me = getpid(), c = fork();
    if (c == 0) {
        usleep(500000);
        kill(me, SIGCONT);
        _exit(0);
    }
    printf("stop-self: stopping\n");
    fflush(stdout);
    raise(SIGSTOP);
    waitpid(c, 0, 0);
    printf("stop-self: continued by my child, exiting\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "kill-init")) return kill_init();
    if (argc > 1 && !strcmp(argv[1], "stop-self")) return stop_self();
    if (argc > 1 && !strcmp(argv[1], "tty-reopen")) return tty_reopen();
    fprintf(stderr, "usage: %s kill-init|stop-self\n", argv[0]);
    return 2;
}
