/* The session's /proc: a procfs of the session's PID namespace that preld
 * holds as an fd (never mounted in the session's tree). Found by scanning
 * the fd table around the handler (ld-preld's `syscall; ret`), it is used
 * the way the handler never does:
 *   - /proc/self/mem opened for writing (it would rewrite the handler);
 *   - writes to /proc files (attr, oom_score_adj, sysrq-trigger, sys/...);
 *   - the init's (pid 1) memory, environment, root, cwd and fds;
 *   - the magic links /proc/self/fd/D/... of every directory fd of the
 *     process (the grants' copies preld holds among them): the read-only
 *     grant's victim opened for writing, files made there;
 *   - connect() to the read-only grant's socket by a /proc path (extra
 *     argument: that grant's directory, holding `ro.sock`);
 *   - /proc/keys and /proc/key-users (the user's keyrings' descriptions
 *     and counts), read, and their covers unmounted first.
 * The same through the handler (libc). Any success that is no right of
 * the session prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>

#define PROC_SUPER_MAGIC 0x9fa0

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void writable(const char *label, long fd, int escape) {
    printf("%s: %s%s\n", label, fd >= 0 ? "opened for writing" : strerror((int)-fd),
           fd >= 0 && escape ? " ESCAPE: a /proc file written around the handler" : "");
    if (fd >= 0) g(SYS_close, fd, 0, 0, 0);
    fflush(stdout);
}

/* Reads a keyring listing: any byte of it is out of the session. */
static void keys(const char *label, long fd, int raw_call) {
    char b[256];
    long n = fd < 0 ? fd : raw_call ? g(SYS_read, fd, (long)b, sizeof b, 0) : lc(read((int)fd, b, sizeof b));
    printf("%s: %s%s\n", label, n > 0 ? "read" : n == 0 ? "empty" : strerror((int)-n), n > 0 ? " ESCAPE: the user's keyrings listed" : "");
    if (fd >= 0) close((int)fd);
    fflush(stdout);
}

static void connect_to(const char *label, const char *path, int raw_call) {
    long s = raw_call ? g(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0) : lc(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    long r = s < 0 ? s : raw_call ? g(SYS_connect, s, (long)&a, sizeof a, 0) : lc(connect((int)s, (struct sockaddr *)&a, sizeof a));
    printf("%s: connect %s: %s%s\n", label, path, r == 0 ? "connected" : strerror((int)-r),
           r == 0 ? " ESCAPE: reached a socket of a read-only grant" : "");
    if (s >= 0) close((int)s);
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw sockdir\n"); return 2; }
    const char *sockdir = argv[4];
    char p[512], label[256];

    /* Through the handler first. */
    writable("libc open /proc/self/mem O_RDWR", lc(open("/proc/self/mem", O_RDWR)), 1);
    writable("libc open /proc/self/attr/current O_WRONLY", lc(open("/proc/self/attr/current", O_WRONLY)), 1);
    writable("libc open /proc/sysrq-trigger O_WRONLY", lc(open("/proc/sysrq-trigger", O_WRONLY)), 1);
    show("libc open /proc/1/environ", lc(open("/proc/1/environ", O_RDONLY)));
    show("libc open /proc/1/mem", lc(open("/proc/1/mem", O_RDONLY)));
    show("libc open /proc/1/root/secret", lc(open(cat2("/proc/1/root", secret), O_RDONLY)));
    show("libc open /proc/self/root/secret", lc(open(cat2("/proc/self/root", secret), O_RDONLY)));
    for (int i = 0; i < 16; i++) {
        snprintf(p, sizeof p, "/proc/1/fd/%d", i);
        long fd = lc(open(p, O_RDONLY));
        if (fd >= 0) { snprintf(label, sizeof label, "libc open %s", p); show(label, fd); }
    }
    keys("libc read /proc/keys", lc(open("/proc/keys", O_RDONLY)), 0);
    keys("libc read /proc/key-users", lc(open("/proc/key-users", O_RDONLY)), 0);
    long d = lc(open(sockdir, O_RDONLY | O_DIRECTORY));
    if (d >= 0) {
        snprintf(p, sizeof p, "/proc/self/fd/%ld/ro.sock", d);
        connect_to("libc, the ro grant's fd opened the usual way", p, 0);
    }

    /* Datagrams to the read-only grant's datagram socket (ro.dgram, bound
     * by the harness), through the server's sendto and connect. */
    {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        snprintf(a.sun_path, sizeof a.sun_path, "%s/ro.dgram", sockdir);
        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
        long r = lc(sendto(s, "PWNED", 5, 0, (struct sockaddr *)&a, sizeof a));
        printf("libc sendto ro.dgram: %s%s\n", r >= 0 ? "sent" : strerror((int)-r), r >= 0 ? " ESCAPE: a datagram into a read-only grant" : "");
        struct iovec v = { "PWNED", 5 };
        struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &v, .msg_iovlen = 1 };
        r = lc(sendmsg(s, &m, 0));
        printf("libc sendmsg ro.dgram: %s%s\n", r >= 0 ? "sent" : strerror((int)-r), r >= 0 ? " ESCAPE: a datagram into a read-only grant" : "");
        r = lc(connect(s, (struct sockaddr *)&a, sizeof a));
        printf("libc connect ro.dgram: %s%s\n", r >= 0 ? "connected" : strerror((int)-r), r >= 0 ? " ESCAPE: connected into a read-only grant" : "");
        r = raw(SYS_sendto, s, "PWNED", 5, 0);
        printf("send after: %s\n", r >= 0 ? "sent" : strerror((int)-r));
        close(s);
        fflush(stdout);
    }

    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    long proc = -1;
    for (long fd = 3; fd < 65536 && proc < 0; fd++) {
        struct statfs sf;
        if (g(SYS_fstatfs, fd, (long)&sf, 0, 0) == 0 && sf.f_type == PROC_SUPER_MAGIC) proc = fd;
    }
    printf("procfs fd: %s\n", proc >= 0 ? "found" : "none");
    if (proc < 0) return 0;
    writable("openat(proc, self/mem, O_RDWR)", g(SYS_openat, proc, (long)"self/mem", O_RDWR, 0), 1);
    writable("openat(proc, thread-self/mem, O_WRONLY)", g(SYS_openat, proc, (long)"thread-self/mem", O_WRONLY, 0), 1);
    writable("openat(proc, self/attr/current, O_WRONLY)", g(SYS_openat, proc, (long)"self/attr/current", O_WRONLY, 0), 1);
    writable("openat(proc, self/oom_score_adj, O_WRONLY)", g(SYS_openat, proc, (long)"self/oom_score_adj", O_WRONLY, 0), 1);
    writable("openat(proc, sysrq-trigger, O_WRONLY)", g(SYS_openat, proc, (long)"sysrq-trigger", O_WRONLY, 0), 1);
    writable("openat(proc, sys/vm/drop_caches, O_WRONLY)", g(SYS_openat, proc, (long)"sys/vm/drop_caches", O_WRONLY, 0), 1);
    writable("openat(proc, sys/user/max_user_namespaces, O_WRONLY)", g(SYS_openat, proc, (long)"sys/user/max_user_namespaces", O_WRONLY, 0), 1);
    writable("openat(proc, self/setgroups, O_WRONLY)", g(SYS_openat, proc, (long)"self/setgroups", O_WRONLY, 0), 1);
    keys("openat(proc, keys)", g(SYS_openat, proc, (long)"keys", O_RDONLY, 0), 1);
    keys("openat(proc, key-users)", g(SYS_openat, proc, (long)"key-users", O_RDONLY, 0), 1);
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "key-users" : "keys";
        /* (umount2 takes no directory fd: from the procfs as cwd.) */
        long r = g(SYS_fchdir, proc, 0, 0, 0);
        if (r == 0) r = g(SYS_umount2, (long)name, MNT_DETACH, 0, 0);
        printf("umount2 %s's cover: %s%s\n", name, r == 0 ? "unmounted" : strerror((int)-r), r == 0 ? " ESCAPE: a cover of the session's procfs unmounted" : "");
        long fd = g(SYS_openat, proc, (long)name, O_RDONLY, 0);
        snprintf(label, sizeof label, "openat(proc, %s) after the umount", name);
        keys(label, fd, 1);
    }
    show("openat(proc, 1/mem)", g(SYS_openat, proc, (long)"1/mem", O_RDONLY, 0));
    show("openat(proc, 1/environ)", g(SYS_openat, proc, (long)"1/environ", O_RDONLY, 0));
    snprintf(p, sizeof p, "1/root%s", secret);
    show("openat(proc, 1/root/secret)", g(SYS_openat, proc, (long)p, O_RDONLY, 0));
    snprintf(p, sizeof p, "1/cwd/../../../../../..%s", secret);
    show("openat(proc, 1/cwd/../secret)", g(SYS_openat, proc, (long)p, O_RDONLY, 0));
    snprintf(p, sizeof p, "self/root%s", secret);
    show("openat(proc, self/root/secret)", g(SYS_openat, proc, (long)p, O_RDONLY, 0));
    for (int i = 0; i < 64; i++) {
        snprintf(p, sizeof p, "1/fd/%d", i);
        long fd = g(SYS_openat, proc, (long)p, O_RDONLY, 0);
        if (fd >= 0) { snprintf(label, sizeof label, "openat(proc, %s)", p); show(label, fd); }
    }
    /* Every directory fd of the process, through its magic link. */
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode) || fd == proc) continue;
        dirs++;
        snprintf(p, sizeof p, "self/fd/%ld/victim", fd);
        snprintf(label, sizeof label, "openat(proc, self/fd/%ld/victim, O_WRONLY)", fd);
        try_write_ro(label, g(SYS_openat, proc, (long)p, O_WRONLY, 0));
        snprintf(p, sizeof p, "self/fd/%ld/procfs-made", fd);
        long r = g(SYS_openat, proc, (long)p, O_WRONLY | O_CREAT | O_EXCL, 0644);
        printf("openat(proc, self/fd/%ld/procfs-made, O_CREAT): %s\n", fd, r >= 0 ? "ESCAPE: created around the handler" : strerror((int)-r));
        snprintf(p, sizeof p, "self/fd/%ld/../../../../../../../..%s", fd, secret);
        snprintf(label, sizeof label, "openat(proc, self/fd/%ld/../secret)", fd);
        show(label, g(SYS_openat, proc, (long)p, O_RDONLY, 0));
        snprintf(p, sizeof p, "/proc/self/fd/%ld/ro.sock", fd);
        snprintf(label, sizeof label, "raw, dir fd %ld", fd);
        connect_to(label, p, 1);
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
