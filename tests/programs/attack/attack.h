/* Shared helpers of the attack programs of tests/tests/attacks.rs.
 * Every attack prints what it got; a read that succeeds prints the bytes, so
 * the test sees the secret in stdout if any attack got it.  Attacks that
 * succeed without reading (a write into a read-only grant, io_uring set up)
 * print "ESCAPE:". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static long raw6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define raw(n, a, b, c, d) raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* Prints what the fd (or -errno) gave: the first bytes read from it. */
static void show(const char *label, long fd) {
    if (fd < 0) {
        printf("%s: fail %s\n", label, strerror((int)-fd));
        fflush(stdout);
        return;
    }
    char buf[256];
    long n = raw(SYS_read, fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        printf("%s: opened fd %ld, read fails %s\n", label, fd, strerror((int)-n));
    } else {
        buf[n] = 0;
        printf("%s: opened fd %ld, READ %ld bytes: %s\n", label, fd, n, buf);
    }
    fflush(stdout);
    raw(SYS_close, fd, 0, 0, 0);
}
/* libc call result: fd or -1 with errno. */
static long lc(long r) { return r < 0 ? -errno : r; }

static void try_write_ro(const char *label, long fd) {
    if (fd < 0) {
        printf("%s: fail %s\n", label, strerror((int)-fd));
    } else {
        long n = raw(SYS_write, fd, "PWNED", 5, 0);
        printf("%s: opened fd %ld for writing, write %ld%s\n", label, fd, n, n > 0 ? " ESCAPE: wrote into a read-only grant" : "");
        raw(SYS_close, fd, 0, 0, 0);
    }
    fflush(stdout);
}
/* argv: secret-path ro-dir rw-dir [extra...] */
#define ARGS const char *secret = argv[1], *ro = argv[2], *rw = argv[3]; (void)secret; (void)ro; (void)rw; \
    if (argc < 4) { fprintf(stderr, "usage: secret ro rw\n"); return 2; }
static char *cat2(const char *a, const char *b) { char *s; if (asprintf(&s, "%s%s", a, b) < 0) abort(); return s; }
