/* h_ptrace: a child that asks to be traced (PTRACE_TRACEME) from a vfork,
 * as gdb starts its inferior, then execs; the parent waits for the exec's
 * SIGTRAP stop, lets it go on, and reaps it. Under preld the traced child
 * must not stop for preld's SIGSYS while its parent waits in vfork. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t pid = vfork();
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0) _exit(126);
        execl("/bin/echo", "echo", "the traced child ran", (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        perror("vfork");
        return 1;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("stopped by SIGTRAP at its exec: %s\n", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP ? "yes" : "no");
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    waitpid(pid, &st, 0);
    printf("then exited with 0: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
    return 0;
}
