/* A read-only grant nested in the read-write one (`--rw OUT --ro
OUT/sub/sealed`, the same host directory: the launcher still hands the
 * process OUT's copy to resolve in, as it shows its nested grant). The
 * sealed grant's victim (extra argument: OUT/sub/sealed) is attacked through the
 * outer grant:
 *   - opened for writing by names the process resolves itself that do not
 *     spell the nested grant's path plainly (OUT/./sub/sealed/victim,
 *     OUT/d/../sub/sealed/victim, relative to an fd of OUT);
 *   - opened for reading that way, then reopened for writing by
 *     /proc/self/fd/N (the server judges the fd by the grant its mount is),
 *     fchmod'ed, fchown'ed, truncated by the fd's name;
 *   - around the handler, from the directory fds preld holds and OUT's fd
 *     (openat sub/sealed/victim for writing: the outer grant's copy is resolved
 *     read-only then; its metadata, fchmodat and utimensat through OUT's
 *     copy, stays within reach: docs/DESIGN.md, "Limits known");
 *   - executed by fd (fexecve of OUT/./sub/sealed/prog, a copy of a program:
 *     a read-only grant runs no program).
 *   - moved: its parent directory renamed, or exchanged with another
 *     (RENAME_EXCHANGE), then the victim written at its new name (the
 *     grant is a virtual path: what was beneath it would be the outer
 *     grant's).
 * Any success prints ESCAPE; the harness also compares the sealed grant. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void changed(const char *what, long r) {
    printf("%s: %s%s\n", what, r == 0 ? "done" : strerror((int)-r), r == 0 ? " ESCAPE: changed a file of a read-only grant" : "");
    fflush(stdout);
}

static void fexec(const char *label, long fd) {
    if (fd < 0) {
        printf("%s: open: %s\n", label, strerror((int)-fd));
        return;
    }
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        char *av[] = { "prog", "/dev/null", 0 };
        extern char **environ;
        long r = lc(fexecve((int)fd, av, environ));
        printf("%s: fexecve: %s\n", label, strerror((int)-r));
        fflush(stdout);
        _exit(99);
    }
    int st = 0;
    waitpid(p, &st, 0);
    int ran = WIFEXITED(st) && WEXITSTATUS(st) != 99;
    printf("%s: status %#x%s\n", label, st, ran ? " ESCAPE: ran a program of a read-only grant" : "");
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw sealed\n"); return 2; }
    const char *sealed = argv[4];
    char *dot = cat2(rw, "/./sub/sealed/victim"), *up = cat2(rw, "/d/../sub/sealed/victim");
    mkdir(cat2(rw, "/d"), 0755);
    try_write_ro("plain name O_WRONLY", lc(open(cat2(sealed, "/victim"), O_WRONLY)));
    try_write_ro("OUT/./sub/sealed/victim O_WRONLY", lc(open(dot, O_WRONLY)));
    try_write_ro("OUT/d/../sub/sealed/victim O_WRONLY", lc(open(up, O_WRONLY)));
    try_write_ro("OUT/./sub/sealed/victim O_RDWR|O_APPEND", lc(open(dot, O_RDWR | O_APPEND)));
    long acc = lc(access(dot, W_OK));
    printf("access OUT/./sub/sealed/victim W_OK: %s\n", acc == 0 ? "writable (wrong: it is not)" : strerror((int)-acc));
    long dir = lc(open(rw, O_RDONLY | O_DIRECTORY));
    try_write_ro("openat(OUT fd, sub/sealed/victim) O_WRONLY", lc(openat((int)dir, "sub/sealed/victim", O_WRONLY)));
    long sdir = lc(openat((int)dir, "sub/sealed", O_RDONLY | O_DIRECTORY));
    try_write_ro("openat(OUT fd, sub/sealed) then victim O_WRONLY", lc(openat((int)sdir, "victim", O_WRONLY)));
    long fd = lc(open(dot, O_RDONLY));
    printf("OUT/./sub/sealed/victim O_RDONLY: %ld\n", fd);
    if (fd >= 0) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        try_write_ro("its /proc/self/fd/N reopened O_WRONLY", lc(open(p, O_WRONLY)));
        changed("fchmod 0600", lc(fchmod((int)fd, 0600)));
        changed("fchown", lc(fchown((int)fd, getuid(), getgid())));
        changed("truncate /proc/self/fd/N", lc(truncate(p, 1)));
        struct timespec ts[2] = {{1, 0}, {1, 0}};
        changed("utimensat /proc/self/fd/N", lc(utimensat(AT_FDCWD, p, ts, 0)));
    }
    fexec("fexecve OUT/./sub/sealed/prog", lc(open(cat2(rw, "/./sub/sealed/prog"), O_RDONLY)));
    fexec("fexecve OUT/./sub/sealed/prog O_PATH", lc(open(cat2(rw, "/./sub/sealed/prog"), O_PATH)));
    fexec("fexecve sealed/prog", lc(open(cat2(sealed, "/prog"), O_RDONLY)));

    changed("unlinkat(OUT fd's sealed fd, prog)", lc(unlinkat((int)sdir, "prog", 0)));
    mkdir(cat2(rw, "/other"), 0755);
    long r = lc(rename(cat2(rw, "/sub"), cat2(rw, "/sub2")));
    printf("rename OUT/sub OUT/sub2: %s\n", r == 0 ? "done" : strerror((int)-r));
    try_write_ro("then OUT/sub2/sealed/victim O_WRONLY", lc(open(cat2(rw, "/sub2/sealed/victim"), O_WRONLY)));
    if (r == 0) rename(cat2(rw, "/sub2"), cat2(rw, "/sub"));
    r = lc(renameat2(AT_FDCWD, cat2(rw, "/sub"), AT_FDCWD, cat2(rw, "/other"), RENAME_EXCHANGE));
    printf("exchange OUT/sub OUT/other: %s\n", r == 0 ? "done" : strerror((int)-r));
    try_write_ro("then OUT/other/sealed/victim O_WRONLY", lc(open(cat2(rw, "/other/sealed/victim"), O_WRONLY)));
    if (r == 0) renameat2(AT_FDCWD, cat2(rw, "/sub"), AT_FDCWD, cat2(rw, "/other"), RENAME_EXCHANGE);
    r = lc(renameat2(AT_FDCWD, cat2(rw, "/other"), AT_FDCWD, cat2(rw, "/sub"), RENAME_EXCHANGE));
    printf("exchange OUT/other OUT/sub: %s\n", r == 0 ? "done" : strerror((int)-r));
    try_write_ro("then OUT/other/sealed/victim O_WRONLY", lc(open(cat2(rw, "/other/sealed/victim"), O_WRONLY)));
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing more to try\n"); return 0; }
    G = cands[0];
    for (long d = 3; d < 65536; d++) {
        if (g(SYS_fcntl, d, F_GETFD, 0, 0) < 0) continue;
        struct stat st;
        if (g(SYS_fstat, d, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        char label[128];
        snprintf(label, sizeof label, "dir fd %ld: raw openat sub/sealed/victim O_WRONLY", d);
        try_write_ro(label, g(SYS_openat, d, (long)"sub/sealed/victim", O_WRONLY, 0));
        snprintf(label, sizeof label, "dir fd %ld: raw openat sub/sealed/victim O_RDWR|O_TRUNC", d);
        try_write_ro(label, g(SYS_openat, d, (long)"sub/sealed/victim", O_RDWR | O_TRUNC, 0));
    }
    return 0;
}
