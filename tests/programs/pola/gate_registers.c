/* gate_registers: the registers and flags after getdents64, dup,
 * fcntl(F_DUPFD_CLOEXEC), fcntl(F_GETFD) and close made from sites of the
 * program's own (`mov eax, N; syscall`, rewritten to a session's listing,
 * dup and close gates after their first calls), every register but rax,
 * rcx and r11 set to a pattern before: each must come back as it went in,
 * r11 the flags, the flags (CF set before) as they were, as natively.
 * Each call 20,000 times with a 50 us timer's signals coming in (some
 * while a gate puts them off, then unblocks them in its end), through a
 * grant's directory fd, /proc/self/fd and a number not open. Prints one
 * line per case: whether every call's registers held and the last
 * answer's kind (argv[1]: a directory the session grants). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* io: rdi rsi rdx r10 r8 r9 rbx rbp r12 r13 r14 r15 (in and out), then
   rax, r11, the flags after (out). */
#define REGS_CALL(name, nr)                                                        \
    __asm__(".text\n.intel_syntax noprefix\n.globl " #name "\n.type " #name ", @function\n" #name ":\n.cfi_startproc\n"        \
            "push rbx\npush rbp\npush r12\npush r13\npush r14\npush r15\n"          \
            "push rdi\n"                                                            \
            "mov rax, rdi\n"                                                        \
            "mov rbx, [rax + 48]\nmov rbp, [rax + 56]\nmov r12, [rax + 64]\n"       \
            "mov r13, [rax + 72]\nmov r14, [rax + 80]\nmov r15, [rax + 88]\n"       \
            "mov rsi, [rax + 8]\nmov rdx, [rax + 16]\nmov r10, [rax + 24]\n"        \
            "mov r8, [rax + 32]\nmov r9, [rax + 40]\nmov rdi, [rax + 0]\n"          \
            "stc\n"                                                                 \
            "mov eax, " #nr "\n"                                                    \
            "syscall\n"                                                             \
            "pushfq\n"                                                              \
            "xchg rdi, [rsp + 8]\n"                                                 \
            "mov [rdi + 96], rax\nmov [rdi + 104], r11\n"                           \
            "pop rax\nmov [rdi + 112], rax\n"                                       \
            "mov [rdi + 8], rsi\nmov [rdi + 16], rdx\nmov [rdi + 24], r10\n"        \
            "mov [rdi + 32], r8\nmov [rdi + 40], r9\nmov [rdi + 48], rbx\n"         \
            "mov [rdi + 56], rbp\nmov [rdi + 64], r12\nmov [rdi + 72], r13\n"       \
            "mov [rdi + 80], r14\nmov [rdi + 88], r15\n"                            \
            "pop rax\nmov [rdi + 0], rax\n"                                         \
            "pop r15\npop r14\npop r13\npop r12\npop rbp\npop rbx\nret\n.cfi_endproc\n"           \
            ".size " #name ", . - " #name "\n.att_syntax prefix\n");                                                \
    long name(long *io);

REGS_CALL(call_getdents64, 217)
REGS_CALL(call_dup, 32)
REGS_CALL(call_fcntl, 72)
REGS_CALL(call_close, 3)

static volatile long ticks;
static void on_alarm(int sig) { (void)sig; ticks++; }

/* n calls of f(a0, a1, a2): whether every call's registers held; the last
   answer in *last. undo: close an fd the call made. */
static int held(long (*f)(long *), long a0, long a1, long a2, int n, int undo, long *last) {
    int ok = 1;
    for (int i = 0; i < n; i++) {
        long io[15], in[12];
        for (int k = 0; k < 12; k++)
            in[k] = io[k] = (long)0x5a5a000000000000UL + (long)k * 0x0101010101UL + i;
        in[0] = io[0] = a0;
        in[1] = io[1] = a1;
        in[2] = io[2] = a2;
        f(io);
        for (int k = 0; k < 12; k++)
            if (io[k] != in[k])
                ok = 0;
        /* r11 the flags (but RF), CF as it was before the call. */
        if ((io[13] & ~0x10000L) != (io[14] & ~0x10000L) || !(io[14] & 1))
            ok = 0;
        *last = io[12];
        if (undo && io[12] >= 0)
            close((int)io[12]);
    }
    return ok;
}

static const char *kind(long r) {
    static char b[64];
    if (r < 0)
        return strerrorname_np((int)-r);
    snprintf(b, sizeof b, "%s", r > 0 ? "positive" : "0");
    return b;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int d = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int pf = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0 || pf < 0)
        return 1;
    static char buf[1 << 15];
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &it, 0);
    const int n = 20000;
    long last;
    int ok;
    /* A grant's directory, listed from its end (0) and once from the start. */
    lseek(d, 0, SEEK_SET);
    ok = held(call_getdents64, d, (long)buf, sizeof buf, 1, 0, &last);
    printf("getdents64 of the grant's directory: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    ok = held(call_getdents64, d, (long)buf, sizeof buf, n, 0, &last);
    printf("getdents64 at its end: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    ok = held(call_getdents64, pf, (long)buf, sizeof buf, n / 10, 0, &last);
    printf("getdents64 of /proc/self/fd: %s\n", ok ? "held" : "CHANGED");
    ok = held(call_getdents64, 700, (long)buf, sizeof buf, n, 0, &last);
    printf("getdents64 of a number not open: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    ok = held(call_getdents64, d, 8, sizeof buf, n / 10, 0, &last);
    printf("getdents64 into a bad buffer: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    ok = held(call_dup, d, 0, 0, n, 1, &last);
    printf("dup: %s, %s\n", ok ? "held" : "CHANGED", last >= 0 ? "an fd" : kind(last));
    ok = held(call_dup, (long)0xdead00000000L | d, 0, 0, n, 1, &last);
    printf("dup, the fd's upper half set: %s, %s\n", ok ? "held" : "CHANGED", last >= 0 ? "an fd" : kind(last));
    ok = held(call_fcntl, d, F_DUPFD_CLOEXEC, 0, n, 1, &last);
    printf("F_DUPFD_CLOEXEC: %s, %s\n", ok ? "held" : "CHANGED", last >= 0 ? "an fd" : kind(last));
    ok = held(call_fcntl, d, F_DUPFD, 1000, n / 10, 1, &last);
    printf("F_DUPFD 1000: %s, %s\n", ok ? "held" : "CHANGED", last >= 1000 ? "an fd at or above 1000" : kind(last));
    ok = held(call_fcntl, d, (long)0x100000000L | F_DUPFD_CLOEXEC, 0, n, 1, &last);
    printf("F_DUPFD_CLOEXEC, the command's upper half set: %s, %s\n", ok ? "held" : "CHANGED", last >= 0 ? "an fd" : kind(last));
    ok = held(call_fcntl, d, F_DUPFD, -1, n / 10, 1, &last);
    printf("F_DUPFD -1: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    ok = held(call_fcntl, d, F_GETFD, 0, n, 0, &last);
    printf("F_GETFD: %s, %ld\n", ok ? "held" : "CHANGED", last);
    ok = held(call_fcntl, 700, F_DUPFD_CLOEXEC, 0, n, 1, &last);
    printf("F_DUPFD_CLOEXEC of a number not open: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    int closes_ok = 1;
    for (int i = 0; i < n; i++) {
        int c = dup(d);
        long r;
        if (!held(call_close, c, 0, 0, 1, 0, &r) || r != 0)
            closes_ok = 0;
    }
    printf("close of a copy: %s\n", closes_ok ? "held" : "CHANGED");
    ok = held(call_close, 700, 0, 0, n, 0, &last);
    printf("close of a number not open: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    /* F_DUPFD_QUERY against each number the program has not opened
       (preld's own among them in a session): EBADF natively (Linux 6.10
       and later; EINVAL before, for every number). */
    int answered = 0, einval = 0;
    for (int fd = 3; fd < 1100; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        for (int i = 0; i < 4; i++) {
            long r = 0;
            int okq = held(call_fcntl, d, 1027 /* F_DUPFD_QUERY */, fd, 1, 0, &r);
            if (!okq || r >= 0)
                answered++;
            else if (r == -EINVAL)
                einval++;
        }
    }
    printf("F_DUPFD_QUERY against numbers not open: answered %d%s\n", answered, einval ? " (EINVAL: an older kernel)" : "");
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, 0);
    /* The grant's directory still lists as itself after all that. */
    lseek(d, 0, SEEK_SET);
    ok = held(call_getdents64, d, (long)buf, sizeof buf, 1, 0, &last);
    printf("getdents64 of the grant's directory again: %s, %s\n", ok ? "held" : "CHANGED", kind(last));
    fprintf(stderr, "ticks %ld\n", ticks);
    return 0;
}
