//! The floor under preld's trap path: the bare Syscall User Dispatch SIGSYS
//! round trip, with no preld at all.
// `sud_floor N [MODE]` prints three lines (or MODE's alone), ns per getppid:
//   native     the call itself
//   trap       SUD traps it, a SIGSYS handler sets rax and returns (the
//              kernel's signal delivery + rt_sigreturn, no real call)
//   trap_call  as trap, but the handler also makes the real getppid from
//              the allowed range: what any passthrough must at least cost
// The action is installed the way preld installs its own (raw rt_sigaction,
// SA_SIGINFO|SA_ONSTACK|SA_RESTORER, every signal masked, a sigaltstack), so
// that the difference to preld's numbers is preld's own work. Each number is
// the fastest of BATCHES batches, as in getppid_loop.c.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define BATCHES 2000

/* N/BATCHES calls a batch, but at least 100 (or N): the two clock reads
   around a batch must stay small against it. */
static long batch_size(long n) {
    long per = n / BATCHES;
    return per >= 100 ? per : n < 100 ? n : 100;
}
enum { NATIVE, TRAP, TRAP_CALL };

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif

// The allowed range: the restorer (rt_sigreturn from anywhere else would
// itself trap) and a raw-syscall helper for the handler and for turning SUD
// off again. Everything else in the process, libc's syscall() included, traps.
long gate_syscall(long nr, long a1, long a2, long a3, long a4, long a5);
void gate_restorer(void);
extern char gate_start[], gate_end[];
__asm__(
    ".pushsection .text.sud_gate,\"ax\",@progbits\n"
    ".globl gate_start\n"
    "gate_start:\n"
    ".globl gate_restorer\n"
    ".type gate_restorer,@function\n"
    "gate_restorer:\n"
    "  mov $15, %eax\n"  // rt_sigreturn
    "  syscall\n"
    "  ud2\n"
    ".globl gate_syscall\n"
    ".type gate_syscall,@function\n"
    "gate_syscall:\n"
    "  mov %rdi, %rax\n"
    "  mov %rsi, %rdi\n"
    "  mov %rdx, %rsi\n"
    "  mov %rcx, %rdx\n"
    "  mov %r8, %r10\n"
    "  mov %r9, %r8\n"
    "  syscall\n"
    "  ret\n"
    ".globl gate_end\n"
    "gate_end:\n"
    ".popsection\n");

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

static volatile int make_real_call;

static void on_sigsys(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    long r = 1;
    if (make_real_call)
        r = gate_syscall(uc->uc_mcontext.gregs[REG_RAX], 0, 0, 0, 0, 0);
    uc->uc_mcontext.gregs[REG_RAX] = r;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: never a system call
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* One batch of `per` calls in `mode`; returns ns per call. */
static double batch(long per, int mode) {
    if (mode != NATIVE) {
        make_real_call = mode == TRAP_CALL;
        if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, (unsigned long)gate_start,
                  (unsigned long)(gate_end - gate_start), 0))
            die("prctl(PR_SET_SYSCALL_USER_DISPATCH)");
    }
    double t0 = now_ns();
    for (long i = 0; i < per; i++)
        syscall(SYS_getppid);
    double t = (now_ns() - t0) / per;
    if (mode != NATIVE) {
        // Turning SUD off is itself a system call: make it from the gate.
        long r = gate_syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
        if (r) {
            fprintf(stderr, "cannot turn SUD off: %ld\n", r);
            exit(1);
        }
    }
    return t;
}

static const char *const names[3] = {"native", "trap", "trap_call"};

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    // An optional MODE runs that mode alone: a profiler then sees only it.
    int only = -1;
    for (int m = 0; argc > 2 && m < 3; m++)
        if (!strcmp(argv[2], names[m]))
            only = m;
    if (n <= 0 || argc > 3 || (argc > 2 && only < 0)) {
        fprintf(stderr, "usage: %s N [native|trap|trap_call] (N > 0)\n", argv[0]);
        return 2;
    }
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    if (sigaltstack(&ss, NULL))
        die("sigaltstack");
    struct kernel_sigaction act = {
        .handler = (void *)on_sigsys,
        .flags = SA_SIGINFO | SA_ONSTACK | 0x04000000 /* SA_RESTORER */,
        .restorer = (void *)gate_restorer,
        .mask = ~0UL,
    };
    if (syscall(SYS_rt_sigaction, SIGSYS, &act, NULL, 8))
        die("rt_sigaction(SIGSYS)");
    // The three modes take turns batch by batch, so that a slow stretch of
    // a shared machine hits all three alike.
    long per = batch_size(n);
    double best[3] = {1e300, 1e300, 1e300};
    for (int m = 0; m < 3; m++)  // warm-up
        batch(100, m);
    for (int b = 0; b < n / per; b++)
        for (int m = 0; m < 3; m++) {
            if (only >= 0 && m != only)
                continue;
            double t = batch(per, m);
            best[m] = t < best[m] ? t : best[m];
        }
    for (int m = 0; m < 3; m++)
        if (only < 0 || m == only)
            printf("%s %.1f\n", names[m], best[m]);
    return 0;
}
