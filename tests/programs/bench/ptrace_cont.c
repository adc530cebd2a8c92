//! A minimal ptrace tracer making the decision a tracer's `cont` makes, for
//! the bench's tracer row (xtask/src/bench.rs): `ptrace_cont PROG ARGS...`
//! runs PROG stopped at every system call's entry and exit (PTRACE_SYSCALL,
//! PTRACE_O_TRACESYSGOOD), reads the registers at each entry to decide (the
//! call number, as any tracer must), and lets the call go on unchanged. One
//! process, no threads or children: enough for a per-call loop. The floor of
//! what a ptrace tracer pays per call.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROG ARGS...\n", argv[0]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execvp(argv[1], argv + 1);
        perror("execvp");
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
    long decided = 0, entering = 1;
    int sig = 0;
    for (;;) {
        if (ptrace(PTRACE_SYSCALL, pid, 0, sig) < 0)
            break;
        sig = 0;
        if (waitpid(pid, &st, 0) < 0)
            break;
        if (WIFEXITED(st))
            return WEXITSTATUS(st);
        if (WIFSIGNALED(st))
            return 128 + WTERMSIG(st);
        if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80)) {
            if (entering) {
                struct user_regs_struct r;
                ptrace(PTRACE_GETREGS, pid, 0, &r);
                decided += r.orig_rax != (unsigned long)-1;  // the decision: cont
            }
            entering = !entering;
        } else if (WIFSTOPPED(st) && WSTOPSIG(st) != SIGTRAP) {
            sig = WSTOPSIG(st);
        }
    }
    return decided < 0;
}
