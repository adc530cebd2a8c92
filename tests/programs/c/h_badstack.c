/* h_badstack: system calls made with rsp where nothing may be written below it (unmapped, read-only, PROT_NONE, near 0, preld's own memory), and clone children given such stacks. Natively a call does not use the stack, so each works; under preld the handler must not write its tail slot (or a clone child's state) there, must not crash, and must leave its own memory alone. Usage: h_badstack syscall|clone */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* Below mmap_min_addr (64 KiB): never mapped. */
#define NEVER_MAPPED ((uintptr_t)0xf000)

/* Under preld, gs:0 is the calling thread's block (natively gs is unset:
   look only when ld-preld is mapped). The slot layout (thread.rs): 512 KiB,
   the block in its top BLOCK_KIB (thread.rs BLOCK_SIZE), the preld stack
   below it down to a guard page above the 64 KiB sigaltstack. */
#define BLOCK_KIB 48
static uintptr_t block;
static int under_preld(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "/ld-preld\n")) found = 1;
    if (f) fclose(f);
    if (found) __asm__ volatile("mov %%gs:0, %0" : "=r"(block));
    return found;
}
static uintptr_t slot_base(void) { return block - (512 - BLOCK_KIB) * 1024; }
/* The deepest pages of the preld stack: the handler never gets that deep. */
static uintptr_t preld_stack_low(void) { return slot_base() + 72 * 1024; }
static uintptr_t preld_altstack(void) { return slot_base() + 4 * 1024; }

/* The system call `nr` with rsp = sp for the call alone. Inlined: every use
   is a site of its own, met once. The `nop` before each `syscall` keeps the
   fast path from rewriting a site (the rewritten call pushes a return
   address below rsp: this program is about the trap path). */
#define CALL_ON(ret, sp, nr, a1, a2, a3)                                                        \
    do {                                                                                        \
        register long r10_ __asm__("r10") = 0;                                                  \
        __asm__ volatile("mov %%rsp, %%r12\n\t"                                                 \
                         "mov %[stk], %%rsp\n\t"                                                \
                         "nop\n\t"                                                              \
                         "syscall\n\t"                                                          \
                         "mov %%r12, %%rsp"                                                     \
                         : "=a"(ret)                                                            \
                         : "0"((long)(nr)), "D"((long)(a1)), "S"((long)(a2)), "d"((long)(a3)),   \
                           "r"(r10_), [stk] "r"((uintptr_t)(sp))                                \
                         : "rcx", "r11", "r12", "memory");                                      \
    } while (0)

/* A fresh page with `prot`, and one whose neighbours are unmapped. */
static char *page(int prot) {
    char *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

static sigjmp_buf segv_jmp;
static volatile int segv_code;
static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    segv_code = si->si_code;
    siglongjmp(segv_jmp, 1);
}

static void syscalls(void) {
    int preld = under_preld();
    long want = getppid(), r;
    char *ro = page(PROT_READ | PROT_WRITE);
    memset(ro, 0x5a, 4096);
    mprotect(ro, 4096, PROT_READ);
    char *none = page(PROT_NONE);

    CALL_ON(r, NEVER_MAPPED, SYS_getppid, 0, 0, 0);
    printf("getppid, rsp in unmapped memory: right %s\n", yesno(r == want));
    CALL_ON(r, ro + 2048, SYS_getppid, 0, 0, 0);
    int same = 1;
    for (int i = 0; i < 4096; i++) same &= ro[i] == 0x5a;
    printf("getppid, rsp in read-only memory: right %s, memory unchanged %s\n", yesno(r == want), yesno(same));
    CALL_ON(r, none + 2048, SYS_getppid, 0, 0, 0);
    printf("getppid, rsp in a PROT_NONE page: right %s\n", yesno(r == want));
    CALL_ON(r, 100, SYS_getppid, 0, 0, 0);
    printf("getppid, rsp = 100: right %s\n", yesno(r == want));

    /* preld's memory (natively: an unmapped stand-in). Its bytes below rsp
       must be what they were. */
    struct {
        const char *what;
        uintptr_t sp;
    } own[] = {
        {"preld's stack", preld ? preld_stack_low() + 4096 + 512 : NEVER_MAPPED},
        {"preld's thread block", preld ? block + 1024 + 208 : NEVER_MAPPED},
    };
    for (int k = 0; k < 2; k++) {
        unsigned char before[256];
        if (preld) memcpy(before, (void *)(own[k].sp - 256), 256);
        /* Two sites, not a loop: each is met once. */
        if (k == 0)
            CALL_ON(r, own[0].sp, SYS_getppid, 0, 0, 0);
        else
            CALL_ON(r, own[1].sp, SYS_getppid, 0, 0, 0);
        int intact = !preld || memcmp(before, (void *)(own[k].sp - 256), 256) == 0;
        printf("getppid, rsp in %s: right %s, its memory unchanged %s\n", own[k].what, yesno(r == want), yesno(intact));
    }
    /* rsp on preld's sigaltstack, the real one while the program has none:
       the kernel puts the SIGSYS frame right below rsp there. */
    CALL_ON(r, preld ? preld_altstack() + 32 * 1024 : NEVER_MAPPED, SYS_getppid, 0, 0, 0);
    printf("getppid, rsp on preld's sigaltstack: right %s\n", yesno(r == want));

    /* A call that may block, with no room below rsp: natively made; under
       preld the kernel's SIGSEGV for a frame it cannot write (si_code
       SI_KERNEL), caught on a sigaltstack. */
    static char alt[64 * 1024];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigaction(SIGSEGV, &sa, NULL);
    int p[2];
    if (pipe(p) != 0 || write(p[1], "x", 1) != 1) {
        perror("pipe");
        exit(1);
    }
    char c = 0;
    if (sigsetjmp(segv_jmp, 1) == 0) {
        CALL_ON(r, NEVER_MAPPED, SYS_read, p[0], &c, 1);
        printf("read, rsp in unmapped memory: returned %ld '%c'\n", r, c);
    } else {
        printf("read, rsp in unmapped memory: SIGSEGV, si_code %s\n", segv_code == SI_KERNEL ? "SI_KERNEL" : "other");
    }
    signal(SIGSEGV, SIG_DFL);
    printf("still running, calls work: %s\n", yesno(getppid() == want));
}

/* clone(flags, sp) whose child, on that stack, makes a raw getppid into
   *ppid and exits with `code`; nothing of it touches the stack. Inlined:
   one site per use. */
#define CLONE_ON(ret, flags, sp, ppid, status)                                                    \
    do {                                                                                        \
        register long r10_ __asm__("r10") = 0;                                                  \
        register long r8_ __asm__("r8") = 0;                                                    \
        __asm__ volatile("nop\n\t"                                                              \
                         "syscall\n\t"                                                          \
                         "test %%rax, %%rax\n\t"                                                \
                         "jnz 1f\n\t"                                                           \
                         "mov $%c[getppid], %%eax\n\t"                                          \
                         "nop\n\t"                                                              \
                         "syscall\n\t"                                                          \
                         "mov %%rax, (%%rbx)\n\t"                                               \
                         "mov $%c[exit], %%eax\n\t"                                             \
                         "mov %[code], %%edi\n\t"                                               \
                         "nop\n\t"                                                              \
                         "syscall\n\t"                                                          \
                         "ud2\n\t"                                                              \
                         "1:"                                                                   \
                         : "=a"(ret)                                                            \
                         : "0"((long)SYS_clone), "D"((long)(flags)), "S"((uintptr_t)(sp)),       \
                           "d"(0L), "r"(r10_), "r"(r8_), "b"(ppid), [code] "i"(status),         \
                           [getppid] "i"(SYS_getppid), [exit] "i"(SYS_exit)                    \
                         : "rcx", "r11", "memory");                                             \
    } while (0)

static volatile long child_ppid;

static void report(const char *what, long pid, int code, int intact) {
    int st = 0;
    if (pid < 0) {
        printf("%s: clone failed: %s\n", what, strerror((int)-pid));
        return;
    }
    if (waitpid((pid_t)pid, &st, 0) != pid) {
        printf("%s: waitpid: %s\n", what, strerror(errno));
        return;
    }
    printf("%s: exit %d (want %d), child's getppid right %s, memory below its sp unchanged %s\n", what,
           WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), code, yesno(child_ppid == getpid()), yesno(intact));
    child_ppid = 0;
}

static void clones(void) {
    int preld = under_preld();
    long pid;
    const unsigned long flags = CLONE_VM | SIGCHLD;

    CLONE_ON(pid, flags, NEVER_MAPPED, &child_ppid, 7);
    report("clone, child stack unmapped", pid, 7, 1);

    /* 64 bytes of stack at the bottom of a mapping, a PROT_NONE page below. */
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(two, 4096, PROT_NONE);
    CLONE_ON(pid, flags, two + 4096 + 64, &child_ppid, 8);
    report("clone, 64-byte child stack above a PROT_NONE page", pid, 8, 1);

    /* A read-only child stack. */
    char *ro = page(PROT_READ);
    CLONE_ON(pid, flags, ro + 4096, &child_ppid, 9);
    report("clone, read-only child stack", pid, 9, 1);

    /* preld's memory as the child's stack (natively: unmapped). */
    uintptr_t sp = preld ? preld_stack_low() + 8192 : NEVER_MAPPED;
    unsigned char before[512];
    if (preld) memcpy(before, (void *)(sp - 512), 512);
    CLONE_ON(pid, flags, sp, &child_ppid, 10);
    int intact = !preld;
    if (pid > 0) {
        int st;
        waitpid((pid_t)pid, &st, 0);
        intact = !preld || memcmp(before, (void *)(sp - 512), 512) == 0;
        printf("clone, child stack in preld's stack: exit %d (want 10), child's getppid right %s, memory below its sp unchanged %s\n",
               WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), yesno(child_ppid == getpid()), yesno(intact));
        child_ppid = 0;
    } else {
        printf("clone, child stack in preld's stack: clone failed: %s\n", strerror((int)-pid));
    }

    /* clone3 with an unmapped stack (the kernel starts the child at
       stack + stack_size). */
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VM;
    ca.exit_signal = SIGCHLD;
    ca.stack = NEVER_MAPPED - 4096;
    ca.stack_size = 4096;
    {
        register long r10_ __asm__("r10") = 0;
        __asm__ volatile("nop\n\t"
                         "syscall\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "mov $%c[getppid], %%eax\n\t"
                         "nop\n\t"
                         "syscall\n\t"
                         "mov %%rax, (%%rbx)\n\t"
                         "mov $%c[exit], %%eax\n\t"
                         "mov $11, %%edi\n\t"
                         "nop\n\t"
                         "syscall\n\t"
                         "ud2\n\t"
                         "1:"
                         : "=a"(pid)
                         : "0"((long)SYS_clone3), "D"(&ca), "S"(sizeof ca), "d"(0L), "r"(r10_), "b"(&child_ppid),
                           [getppid] "i"(SYS_getppid), [exit] "i"(SYS_exit)
                         : "rcx", "r11", "memory");
    }
    report("clone3, child stack unmapped", pid, 11, 1);

    /* The child's flags are the parent's at its `syscall` (CF set here). */
    static volatile long child_cf = -1;
    {
        register long r10_ __asm__("r10") = 0;
        register long r8_ __asm__("r8") = 0;
        __asm__ volatile("stc\n\t"
                         "syscall\n\t"
                         "setc %%cl\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "movzbl %%cl, %%ecx\n\t"
                         "mov %%rcx, (%%rbx)\n\t"
                         "mov $%c[exit], %%eax\n\t"
                         "mov $12, %%edi\n\t"
                         "nop\n\t"
                         "syscall\n\t"
                         "ud2\n\t"
                         "1:"
                         : "=a"(pid)
                         : "0"((long)SYS_clone), "D"((long)flags), "S"(NEVER_MAPPED), "d"(0L), "r"(r10_), "r"(r8_),
                           "b"(&child_cf), [exit] "i"(SYS_exit)
                         : "rcx", "r11", "memory", "cc");
    }
    if (pid > 0) {
        int st;
        waitpid((pid_t)pid, &st, 0);
        printf("clone, child's carry flag as set before the call: %s (exit %d)\n", yesno(child_cf == 1),
               WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
    }
    printf("still running, calls work: %s\n", yesno(getppid() > 0 && getpid() > 0));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *g = argc > 1 ? argv[1] : "";
    if (strcmp(g, "syscall") == 0)
        syscalls();
    else if (strcmp(g, "clone") == 0)
        clones();
    else {
        fprintf(stderr, "usage: h_badstack syscall|clone\n");
        return 2;
    }
    printf("done\n");
    return 0;
}
