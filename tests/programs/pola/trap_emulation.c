/* trap_emulation: a program's own seccomp filter traps close, dup and
 * getdents64 (SECCOMP_RET_TRAP), and its SIGSYS handler answers each
 * (REG_RAX = 4242), as a sandbox that emulates calls does. The sites
 * were rewritten to a session's close, dup and listing gates before the
 * filter (a grant's directory fd listed and copied): each answer must be
 * the handler's, as natively. The gates put signals off around their
 * calls (session-24): the handler's answer was set in a later context
 * and lost (close 3, dup 32, getdents64 217: the call's numbers). Prints
 * the answers (argv[1]: a directory the session grants). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static volatile int traps;

static void on_sys(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    traps++;
    uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int d = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (d < 0)
        return 1;
    static char buf[4096];
    for (int i = 0; i < 4; i++) {
        int c = dup(d);
        close(c);
        lseek(d, 0, SEEK_SET);
        syscall(SYS_getdents64, d, buf, sizeof buf);
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = on_sys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, 0);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_dup, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getdents64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("seccomp");
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        long a = close(12345);
        long b = dup(d);
        lseek(d, 0, SEEK_SET);
        long c = syscall(SYS_getdents64, d, buf, sizeof buf);
        printf("answers: close %ld, dup %ld, getdents64 %ld\n", a, b, c);
    }
    printf("traps %d\n", traps);
    return 0;
}
