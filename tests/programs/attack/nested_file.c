/* A read-only grant of one file nested in the read-write grant of its
 * directory (`--rw OUT --ro OUT/conf`, the same host file; extra argument:
 * OUT/conf). The file is attacked through the outer grant: a hard link of
 * it in OUT (libc, and of an O_PATH fd of it beneath a directory fd of OUT
 * the server handed out, opened around the handler: AT_EMPTY_PATH and
 * /proc/self/fd/N), then that link written; the O_PATH fd reopened for
 * writing, fchmod'ed, fchown'ed, utimensat'ed, truncated through the
 * server; around the handler, opened for writing beneath OUT's fd, linked,
 * renamed over. Any success that changes it prints ESCAPE; the harness
 * compares the file. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }
static long g5(long n, long a, long b, long c, long d, long e) { return call_gadget5(G, n, a, b, c, d, e); }

static void changed(const char *what, long r) {
    printf("%s: %s%s\n", what, r == 0 ? "done" : strerror((int)-r), r == 0 ? " ESCAPE: changed a file of a read-only grant" : "");
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw conf\n"); return 2; }
    const char *conf = argv[4];
    char p[128];
    long r = lc(link(conf, cat2(rw, "/hl")));
    printf("libc link OUT/conf OUT/hl: %s\n", r ? strerror((int)-r) : "done");
    if (r == 0) try_write_ro("libc open OUT/hl O_WRONLY", lc(open(cat2(rw, "/hl"), O_WRONLY)));
    try_write_ro("libc open OUT/conf O_WRONLY", lc(open(conf, O_WRONLY)));
    try_write_ro("libc open OUT/./conf O_WRONLY", lc(open(cat2(rw, "/./conf"), O_WRONLY)));
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing more to try\n"); return 0; }
    G = cands[0];
    long od = lc(open(rw, O_RDONLY | O_DIRECTORY));
    printf("libc open OUT: %ld\n", od);
    if (od < 0) return 0;
    long k = g(SYS_openat, od, (long)"conf", O_PATH | O_CLOEXEC, 0);
    printf("raw O_PATH openat(OUT fd, conf): %ld\n", k);
    if (k >= 0) {
        snprintf(p, sizeof p, "/proc/self/fd/%ld", k);
        r = lc(linkat((int)k, "", AT_FDCWD, cat2(rw, "/hl2"), AT_EMPTY_PATH));
        printf("libc linkat(O_PATH fd, AT_EMPTY_PATH) OUT/hl2: %s\n", r ? strerror((int)-r) : "done");
        if (r == 0) try_write_ro("libc open OUT/hl2 O_WRONLY", lc(open(cat2(rw, "/hl2"), O_WRONLY)));
        r = lc(linkat(AT_FDCWD, p, AT_FDCWD, cat2(rw, "/hl3"), AT_SYMLINK_FOLLOW));
        printf("libc linkat(/proc/self/fd/N, AT_SYMLINK_FOLLOW) OUT/hl3: %s\n", r ? strerror((int)-r) : "done");
        if (r == 0) try_write_ro("libc open OUT/hl3 O_WRONLY", lc(open(cat2(rw, "/hl3"), O_WRONLY)));
        try_write_ro("libc open /proc/self/fd/N O_WRONLY", lc(open(p, O_WRONLY)));
        try_write_ro("libc open /proc/self/fd/N O_RDWR|O_APPEND", lc(open(p, O_RDWR | O_APPEND)));
        changed("libc fchownat(N, \"\", AT_EMPTY_PATH)", lc(fchownat((int)k, "", getuid(), getgid(), AT_EMPTY_PATH)));
        struct timespec ts[2] = {{1, 0}, {1, 0}};
        changed("libc utimensat(N, \"\", AT_EMPTY_PATH)", lc(utimensat((int)k, "", ts, AT_EMPTY_PATH)));
        changed("libc truncate(/proc/self/fd/N, 1)", lc(truncate(p, 1)));
        changed("raw linkat(N, \"\", OUT fd, hl4, AT_EMPTY_PATH)", g5(SYS_linkat, k, (long)"", od, (long)"hl4", AT_EMPTY_PATH));
        try_write_ro("raw open OUT/hl4 O_WRONLY", g(SYS_openat, od, (long)"hl4", O_WRONLY, 0));
    }
    try_write_ro("raw openat(OUT fd, conf) O_WRONLY", g(SYS_openat, od, (long)"conf", O_WRONLY, 0));
    changed("raw linkat(OUT fd, conf, OUT fd, hl5)", g5(SYS_linkat, od, (long)"conf", od, (long)"hl5", 0));
    long w = lc(open(cat2(rw, "/w"), O_WRONLY | O_CREAT, 0644));
    if (w >= 0) { write((int)w, "PWNED", 5); close((int)w); }
    changed("libc rename OUT/w over OUT/conf", lc(rename(cat2(rw, "/w"), conf)));
    changed("raw renameat(OUT fd, w, OUT fd, conf)", g5(SYS_renameat2, od, (long)"w", od, (long)"conf", 0));
    changed("libc unlink OUT/conf", lc(unlink(conf)));
    printf("nested_file: done\n");
    return 0;
}
