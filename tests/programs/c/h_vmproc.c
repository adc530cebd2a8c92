/* Threads of two processes that share memory (a CLONE_VM child process
 * without CLONE_VFORK, and its parent) exit while the other process
 * creates threads. preld's reap once freed a dead thread's slot when
 * tgkill(getpid(), tid, 0) said ESRCH, getpid() being the *reaper's*
 * process: for a thread of the other process that was at once, while the
 * thread was still on its way out on its slot, which went to a new thread.
 * Each thread checks that the tid it is told stays its own; prints the
 * counts.
 *   h_vmproc [ROUNDS [CREATORS]]   (CREATORS raw threads in each process) */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_long made, wrong;
static long rounds = 3000;

static long raw(long n, long a, long b, long c, long d, long e, long f) {
    long r;
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return r;
}

static int short_one(void *arg) {
    (void)arg;
    long me = raw(SYS_gettid, 0, 0, 0, 0, 0, 0);
    for (int i = 0; i < 20; i++) {
        if (raw(SYS_gettid, 0, 0, 0, 0, 0, 0) != me) atomic_fetch_add(&wrong, 1);
        raw(SYS_getppid, 0, 0, 0, 0, 0, 0);
    }
    atomic_fetch_add(&made, 1);
    return 0;
}

static void creator_loop(void) {
    char *stack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (long r = 0; r < rounds; r++) {
        static _Thread_local int dummy;
        (void)dummy;
        volatile pid_t ctid = 1;
        pid_t t = clone(short_one, stack + 65536,
                        CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
                        NULL, NULL, NULL, (pid_t *)&ctid);
        if (t < 0) { atomic_fetch_add(&wrong, 1000000); break; }
        for (pid_t v; (v = ctid) != 0;) raw(SYS_futex, (long)&ctid, FUTEX_WAIT, v, 0, 0, 0);
    }
}

static int creators = 1;
static int creator_thread(void *arg) {
    (void)arg;
    creator_loop();
    return 0;
}

/* CREATORS raw threads in the calling process, each creating and
 * joining ROUNDS short threads; returns when all are done. */
static void creators_here(void) {
    volatile pid_t ctid[64];
    for (int i = 0; i < creators; i++) {
        char *st = mmap(NULL, 1 << 18, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ctid[i] = 1;
        if (clone(creator_thread, st + (1 << 18),
                  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
                  NULL, NULL, NULL, (pid_t *)&ctid[i]) < 0) atomic_fetch_add(&wrong, 1000000);
    }
    for (int i = 0; i < creators; i++)
        for (pid_t v; (v = ctid[i]) != 0;) raw(SYS_futex, (long)&ctid[i], FUTEX_WAIT, v, 0, 0, 0);
}

static int vm_process(void *arg) {
    (void)arg;
    creators_here();
    raw(SYS_exit, 0, 0, 0, 0, 0, 0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atol(argv[1]);
    if (argc > 2) creators = atoi(argv[2]);
    if (creators < 1 || creators > 64) return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    char *stack = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pid_t p = clone(vm_process, stack + (1 << 20), CLONE_VM | SIGCHLD, NULL);
    if (p < 0) { perror("clone"); return 2; }
    creators_here();
    int st;
    if (waitpid(p, &st, 0) != p) { perror("waitpid"); return 2; }
    printf("vm process: %s %d\n", WIFEXITED(st) ? "exit" : "killed by", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    printf("threads=%ld wrong=%ld\n", (long)made, (long)wrong);
    return 0;
}
