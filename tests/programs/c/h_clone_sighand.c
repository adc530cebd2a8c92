/* Children of clone3 and clone that get their own copy of the signal
 * actions (from the session-14 adversary). SIGUSR1 has a handler and
 * SIGUSR2 is ignored in the parent; each child prints what sigaction
 * shows it and execs echo.
 *
 *   h_clone_sighand CASE
 *
 * CASE:
 *   clear-fork    clone3(CLONE_CLEAR_SIGHAND), no stack: a fork whose
 *                 handlers go back to SIG_DFL. The kernel reset preld's
 *                 SIGSYS action too: the child died of SIGSYS at its
 *                 first call.
 *   clear-vfork   clone3(CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND)
 *                 on a stack of its own: likewise (the clone gate)
 *   clear-fork-big, clear-vfork-big
 *                 the same with a struct of 128 bytes (zero beyond the
 *                 kernel's 88: a program built with a later kernel's
 *                 header): preld's copy took 88 bytes at most, and the
 *                 struct went as it was, flag and all (the child died of
 *                 SIGSYS)
 *   stack-fork    glibc's clone(fn, stack, SIGCHLD): a process of its
 *                 own memory on a new stack; it must see its parent's
 *                 actions (under preld it saw its handler as not set)
 */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void h(int s) { (void)s; }
static char stack[1 << 16] __attribute__((aligned(16)));
static const char *name;

static int child(void *arg) {
    (void)arg;
    struct sigaction a, b;
    memset(&a, 0x55, sizeof a);
    memset(&b, 0x55, sizeof b);
    sigaction(SIGUSR1, NULL, &a);
    sigaction(SIGUSR2, NULL, &b);
    char line[128];
    int n = snprintf(line, sizeof line, "%s child: usr1 %s, usr2 %s\n", name,
                     a.sa_handler == h ? "handler" : a.sa_handler == SIG_DFL ? "default" : "other",
                     b.sa_handler == SIG_IGN ? "ignored" : "not ignored");
    if (write(1, line, n) != n) _exit(4);
    execl("/bin/echo", "echo", name, "child exec ok", (char *)NULL);
    _exit(3);
}

static void child_entry(void) { child(NULL); }

/* clone3 onto `stack`: the child calls child_entry, which never returns. */
static long clone3_on_stack(struct clone_args *a, unsigned long size) {
    long r;
    register void (*f)(void) __asm__("r12") = child_entry;
    __asm__ volatile("syscall\n\ttest %%rax, %%rax\n\tjnz 1f\n\tand $-16, %%rsp\n\tcall *%%r12\n\thlt\n1:"
                     : "=a"(r)
                     : "a"((long)SYS_clone3), "D"(a), "S"(size), "r"(f)
                     : "rcx", "r11", "memory");
    return r;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: h_clone_sighand CASE\n"); return 2; }
    name = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGUSR1, h);
    signal(SIGUSR2, SIG_IGN);
    long pid;
    /* Room for a struct larger than the kernel's (zero beyond it). */
    static union { struct clone_args a; char bytes[128]; } big;
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    unsigned long size = sizeof a;
    if (strstr(name, "-big")) size = sizeof big;
    if (!strncmp(name, "clear-fork", 10)) {
        a.flags = CLONE_CLEAR_SIGHAND;
        big.a = a;
        pid = syscall(SYS_clone3, &big.a, size);
        if (pid == 0) child(NULL);
    } else if (!strncmp(name, "clear-vfork", 11)) {
        a.flags = CLONE_CLEAR_SIGHAND | CLONE_VM | CLONE_VFORK;
        a.stack = (unsigned long)stack;
        a.stack_size = sizeof stack;
        big.a = a;
        pid = clone3_on_stack(&big.a, size);
    } else if (!strcmp(name, "stack-fork")) {
        pid = clone(child, stack + sizeof stack, SIGCHLD, NULL);
    } else {
        fprintf(stderr, "unknown case %s\n", name);
        return 2;
    }
    if (pid < 0) { perror("clone"); return 2; }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) printf("%s: child killed by %s\n", name, sigabbrev_np(WTERMSIG(st)));
    else printf("%s: child exit %d, parent's usr1 %s\n", name, WEXITSTATUS(st), signal(SIGUSR1, h) == h ? "handler" : "lost");
    return 0;
}
