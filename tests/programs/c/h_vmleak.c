/* CLONE_VM child processes (no CLONE_VFORK) that end without exit(2):
 * killed by a signal, or exec'd. preld freed a slot only once its thread
 * had called exit: these children's 512 KiB slots were never reaped (the
 * session-12 adversary: +1 GB of address space for 2000 children, and
 * under `ulimit -v 1000000` clone failed with EAGAIN after about 1,900).
 *   h_vmleak N [exec]   prints whether VmSize grew by more than 64 MiB */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int child(void *a) {
    if (a) {
        char *argv[] = {"true", 0};
        syscall(SYS_execve, "/bin/true", argv, 0);
    }
    syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
    return 0;
}

static long vm(const char *k) {
    FILE *f = fopen("/proc/self/status", "r");
    char l[256];
    long v = 0;
    while (fgets(l, sizeof l, f))
        if (!strncmp(l, k, strlen(k))) v = atol(l + strlen(k) + 1);
    fclose(f);
    return v;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    void *ex = argc > 2 ? (void *)1 : 0;
    char *st = mmap(0, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long v0 = vm("VmSize:");
    int killed = 0, exited = 0;
    for (int i = 0; i < n; i++) {
        pid_t p = clone(child, st + (1 << 16), CLONE_VM | SIGCHLD, ex);
        int s;
        if (p < 0) { printf("clone %d failed: %m\n", i); return 1; }
        waitpid(p, &s, 0);
        if (WIFSIGNALED(s)) killed++; else exited++;
    }
    long grew = vm("VmSize:") - v0;
    printf("children=%d killed=%d exited=%d VmSize grew over 64 MiB: %s\n", n, killed, exited, grew > 65536 ? "yes" : "no");
    return 0;
}
