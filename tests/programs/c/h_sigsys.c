/* h_sigsys: a program that touches what preld needs (the SIGSYS action and mask, Syscall User Dispatch, ld-preld's own mappings) keeps running and making system calls, and sees SIGSYS behave as natively. Usage: h_sigsys basic|virtual|stack|onstack|seccomp|exec|image|relro|arena|kill */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#endif

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* A few raw and libc calls whose results are checked. */
static int calls_work(void) {
    if (syscall(SYS_getpid) != getpid()) return 0;
    int fd = open("/proc/self/stat", O_RDONLY);
    char b[32];
    if (fd < 0 || read(fd, b, sizeof b) <= 0 || close(fd) != 0) return 0;
    int p[2];
    if (pipe(p) != 0 || write(p[1], "ok", 2) != 2 || read(p[0], b, 2) != 2) return 0;
    close(p[0]);
    close(p[1]);
    return memcmp(b, "ok", 2) == 0;
}

static volatile sig_atomic_t sys_hits, sys_code, sys_signo, handler_write_ok, sys_blocked_inside;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    sys_blocked_inside = sigismember(&m, SIGSYS);
    sys_hits++;
    sys_signo = sig;
    sys_code = si->si_code;
    /* System calls inside the SIGSYS handler. */
    handler_write_ok = syscall(SYS_getppid) == getppid() && write(1, "  (in the SIGSYS handler)\n", 26) == 26;
}

static volatile sig_atomic_t usr_hits, usr_sigsys_blocked, usr_calls_ok;

static void on_usr1(int sig) {
    (void)sig;
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    usr_sigsys_blocked = sigismember(&m, SIGSYS);
    usr_calls_ok = calls_work();
    usr_hits++;
}

static void *blocked_thread(void *arg) {
    (void)arg;
    sigset_t s, cur;
    sigemptyset(&s);
    sigaddset(&s, SIGSYS);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    printf("thread blocking SIGSYS: mask has SIGSYS %s, calls work %s\n", yesno(sigismember(&cur, SIGSYS)),
           yesno(calls_work()));
    return NULL;
}

static void basic(void) {
    /* 1. A SIGSYS handler, read back. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    int r = sigaction(SIGSYS, &sa, &old);
    printf("sigaction(SIGSYS, handler): %d, the previous action was SIG_DFL: %s\n", r, yesno(old.sa_handler == SIG_DFL));
    memset(&old, 0, sizeof old);
    r = sigaction(SIGSYS, NULL, &old);
    printf("sigaction(SIGSYS, NULL, &old): %d, handler %s, SA_SIGINFO %s, sa_mask has SIGUSR2 %s\n", r,
           old.sa_sigaction == on_sigsys ? "is mine" : "differs", yesno(old.sa_flags & SA_SIGINFO),
           yesno(sigismember(&old.sa_mask, SIGUSR2)));
    printf("calls work with a SIGSYS handler installed: %s\n", yesno(calls_work()));
    errno = 0;
    r = syscall(SYS_rt_sigaction, SIGSYS, NULL, &old, 4);
    printf("rt_sigaction(SIGSYS) with a bad size: %d %s\n", r, strerrorname_np(errno));

    /* 2. SIGSYS blocked, in this thread and in a new one. */
    sigset_t s, cur;
    sigemptyset(&s);
    sigaddset(&s, SIGSYS);
    r = sigprocmask(SIG_BLOCK, &s, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("sigprocmask(SIG_BLOCK, SIGSYS): %d, mask has SIGSYS %s, calls work %s\n", r,
           yesno(sigismember(&cur, SIGSYS)), yesno(calls_work()));
    pthread_t t;
    pthread_create(&t, NULL, blocked_thread, NULL);
    pthread_join(t, NULL);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after SIG_UNBLOCK: mask has SIGSYS %s, calls work %s\n", yesno(sigismember(&cur, SIGSYS)), yesno(calls_work()));
    sigfillset(&s);
    sigprocmask(SIG_SETMASK, &s, &cur);
    int ok = calls_work();
    sigset_t full;
    sigprocmask(SIG_BLOCK, NULL, &full);
    sigprocmask(SIG_SETMASK, &cur, NULL);
    printf("every signal blocked: mask has SIGSYS %s, calls work %s\n", yesno(sigismember(&full, SIGSYS)), yesno(ok));
    pthread_create(&t, NULL, blocked_thread, NULL); /* created with all blocked by glibc */
    pthread_join(t, NULL);

    /* 3. Turning Syscall User Dispatch off: preld refuses, natively it is
     * already off; either way the program goes on. */
    (void)prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    printf("after prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): calls work %s\n", yesno(calls_work()));

    /* 4. SIGSYS ignored: kill is harmless. */
    signal(SIGSYS, SIG_IGN);
    kill(getpid(), SIGSYS);
    sigaction(SIGSYS, NULL, &old);
    printf("SIGSYS ignored, kill(SIGSYS): still running, action reads back SIG_IGN %s, calls work %s\n",
           yesno(old.sa_handler == SIG_IGN), yesno(calls_work()));
    signal(SIGSYS, SIG_DFL);
}

/* SIGSYS as a signal like the others: in another handler's sa_mask; sent by
 * kill or tgkill it reaches the program's handler, which may make calls;
 * blocked, it stays pending; SA_RESETHAND resets it. */
static void virtual(void) {
    struct sigaction sa, old;
    /* A handler whose sa_mask blocks SIGSYS: blocked while it runs, and
     * read back as set. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGSYS);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SIGUSR1 handler with SIGSYS in sa_mask: ran %d, calls in it work %s, SIGSYS blocked in it %s\n",
           (int)usr_hits, yesno(usr_calls_ok), yesno(usr_sigsys_blocked));
    sigaction(SIGUSR1, NULL, &old);
    printf("SIGUSR1's sa_mask read back has SIGSYS: %s\n", yesno(sigismember(&old.sa_mask, SIGSYS)));

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    kill(getpid(), SIGSYS);
    printf("kill(SIGSYS) with a handler: handler ran %d, signo %d, si_code SI_USER %s, calls in it worked %s\n",
           (int)sys_hits, (int)sys_signo, yesno(sys_code == SI_USER), yesno(handler_write_ok));
    sys_hits = 0;
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGSYS);
    printf("tgkill(SIGSYS): handler ran %d, si_code SI_TKILL %s\n", (int)sys_hits, yesno(sys_code == SI_TKILL));

    sigset_t s, p;
    sigemptyset(&s);
    sigaddset(&s, SIGSYS);
    sigprocmask(SIG_BLOCK, &s, NULL);
    sys_hits = 0;
    kill(getpid(), SIGSYS);
    sigpending(&p);
    printf("SIGSYS blocked, kill(SIGSYS): handler ran %d, pending %s\n", (int)sys_hits, yesno(sigismember(&p, SIGSYS)));
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    printf("after SIG_UNBLOCK: handler ran %d\n", (int)sys_hits);

    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGSYS, &sa, NULL);
    sys_hits = 0;
    kill(getpid(), SIGSYS);
    sigaction(SIGSYS, NULL, &old);
    printf("SA_RESETHAND: handler ran %d, action is SIG_DFL afterwards %s, flags %#x, sa_mask kept %s\n",
           (int)sys_hits, yesno(old.sa_handler == SIG_DFL), (unsigned)old.sa_flags, yesno(sigismember(&old.sa_mask, SIGUSR2)));
    /* The same for another signal. */
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &old);
    printf("SA_RESETHAND on SIGUSR1: action is SIG_DFL afterwards %s, flags %#x, sa_mask kept %s\n",
           yesno(old.sa_handler == SIG_DFL), (unsigned)old.sa_flags, yesno(sigismember(&old.sa_mask, SIGUSR2)));
    /* While the handler runs, SIGSYS is blocked (no SA_NODEFER). */
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    sys_hits = 0;
    kill(getpid(), SIGSYS);
    printf("handler ran %d, SIGSYS blocked inside it %s; calls work after %s\n", (int)sys_hits,
           yesno(sys_blocked_inside), yesno(calls_work()));
}

static volatile sig_atomic_t alt_hits, alt_on_stack;
static char altstack_mem[65536];

static void on_sigsys_alt(int sig) {
    (void)sig;
    char here;
    alt_on_stack = &here > altstack_mem && &here < altstack_mem + sizeof altstack_mem;
    alt_hits++;
}

/* SIGSYS through a sigaltstack, and nested in another handler. */
static void virtual_stack(void) {
    stack_t ss = {.ss_sp = altstack_mem, .ss_size = sizeof altstack_mem, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigsys_alt;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSYS, &sa, NULL);
    raise(SIGSYS);
    printf("SA_ONSTACK SIGSYS handler: ran %d, on the sigaltstack %s\n", (int)alt_hits, yesno(alt_on_stack));
    sa.sa_flags = 0;
    sigaction(SIGSYS, &sa, NULL);
    alt_hits = 0;
    raise(SIGSYS);
    printf("SIGSYS handler without SA_ONSTACK: ran %d, on the sigaltstack %s\n", (int)alt_hits, yesno(alt_on_stack));
}

/* SA_ONSTACK without a sigaltstack: the kernel ignores the flag, the
 * handler runs on the interrupted stack, with its arguments. */
static volatile sig_atomic_t os_hits, os_signo_ok;
static char *volatile os_here;

static void on_usr1_onstack(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    char here;
    os_here = &here;
    os_signo_ok = sig == SIGUSR1 && si->si_signo == SIGUSR1 && si->si_code == SI_TKILL;
    (void)getppid();
    os_hits++;
}

static const char *near(char *a, char *b) {
    long d = a > b ? a - b : b - a;
    return d < 256 * 1024 ? "yes" : "no";
}

static void *onstack_thread(void *arg) {
    (void)arg;
    char mine;
    os_hits = 0;
    raise(SIGUSR1);
    printf("thread: handler ran %d, args right %s, on the thread's stack %s\n", (int)os_hits, yesno(os_signo_ok),
           near(&mine, os_here));
    return NULL;
}

static void onstack(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1_onstack;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    char mine;
    raise(SIGUSR1);
    printf("main: handler ran %d, args right %s, on the main stack %s\n", (int)os_hits, yesno(os_signo_ok),
           near(&mine, os_here));
    pthread_t t;
    pthread_create(&t, NULL, onstack_thread, NULL);
    pthread_join(t, NULL);
    printf("calls work after: %s\n", yesno(calls_work()));
}

/* A seccomp filter of the program's own that traps getppid: its SIGSYS
 * (si_code SYS_SECCOMP) reaches the program's handler, which answers the
 * call through the signal frame's registers. */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <ucontext.h>

static volatile sig_atomic_t sc_hits, sc_code, sc_nr;

static void on_seccomp(int sig, siginfo_t *si, void *ucv) {
    (void)sig;
    ucontext_t *uc = ucv;
    sc_hits++;
    sc_code = si->si_code;
    sc_nr = si->si_syscall;
    uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static int trap_getppid(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static void seccomp_trap(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_seccomp;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    printf("seccomp filter: %d\n", trap_getppid());
    long r = syscall(SYS_getppid);
    printf("getppid under the filter: %ld, handler ran %d, si_code SYS_SECCOMP %s, si_syscall getppid %s\n", r,
           (int)sc_hits, yesno(sc_code == 1), yesno(sc_nr == SYS_getppid));
    printf("other calls work: %s\n", yesno(calls_work()));
    /* Blocked, a seccomp SIGSYS is forced: the process dies of it. */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSYS);
    sigprocmask(SIG_BLOCK, &s, NULL);
    printf("SIGSYS blocked, getppid again\n");
    syscall(SYS_getppid);
    printf("still alive\n");
}

/* ld-preld's own mappings cannot be changed by the program. */
static void image(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    uintptr_t lo[64], hi[64];
    int n = 0;
    while (f && fgets(line, sizeof line, f) && n < 64) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = 0;
        if (len >= 9 && strcmp(line + len - 9, "/ld-preld") == 0 &&
            sscanf(line, "%lx-%lx", (unsigned long *)&lo[n], (unsigned long *)&hi[n]) == 2)
            n++;
    }
    if (f) fclose(f);
    if (n == 0) {
        printf("no ld-preld mapping\n");
        return;
    }
    const long pg = 4096;
    int all[6] = {1, 1, 1, 1, 1, 1};
    for (int i = 0; i < n; i++) {
        size_t len = hi[i] - lo[i];
        void *a = (void *)lo[i];
        errno = 0;
        all[0] &= mprotect(a, pg, PROT_READ | PROT_WRITE | PROT_EXEC) == -1 && errno == EPERM;
        errno = 0;
        all[0] &= mprotect(a, len, PROT_NONE) == -1 && errno == EPERM;
        errno = 0;
        all[1] &= munmap(a, len) == -1 && errno == EPERM;
        errno = 0;
        /* a range that only starts below the mapping */
        all[1] &= munmap((char *)a - pg, 2 * pg) == -1 && errno == EPERM;
        errno = 0;
        all[2] &= mremap(a, len, len + pg, MREMAP_MAYMOVE) == MAP_FAILED && errno == EPERM;
        errno = 0;
        all[2] &= mremap(a, pg, pg, 0) == MAP_FAILED && errno == EPERM;
        /* Several times from one site: its later calls take the fast
         * path's handler gate (a site is rewritten at its third trap). */
        for (int k = 0; k < 4; k++) {
            errno = 0;
            all[3] &= madvise(a, len, MADV_DONTNEED) == -1 && errno == EPERM;
        }
        errno = 0;
        all[4] &= mmap(a, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && errno == EPERM;
    }
    /* Moving another mapping on top of it. */
    void *m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    all[5] = mremap(m, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)lo[0]) == MAP_FAILED && errno == EPERM;
    munmap(m, pg);
    printf("ld-preld mappings found: %s\n", yesno(n > 0));
    printf("mprotect: EPERM for all: %s\n", yesno(all[0]));
    printf("munmap: EPERM for all: %s\n", yesno(all[1]));
    printf("mremap: EPERM for all: %s\n", yesno(all[2]));
    printf("madvise(MADV_DONTNEED): EPERM for all: %s\n", yesno(all[3]));
    printf("mmap(MAP_FIXED) over it: EPERM for all: %s\n", yesno(all[4]));
    printf("mremap(MREMAP_FIXED) onto it: EPERM: %s\n", yesno(all[5]));
    printf("still running, calls work: %s\n", yesno(calls_work()));
}

/* ld-preld's RELRO (.data.rel.ro, .dynamic, .got: what only its start-up
   relocation writes) is read-only once it runs, as ld.so makes the RELRO of
   the objects it loads: PT_GNU_RELRO, read from ld-preld's ELF header in
   memory, lies in r--p mappings of ld-preld, the page after it (.data) is
   still writable, and a store into it faults. */
static sigjmp_buf relro_jmp;
static volatile sig_atomic_t segv_code;
static void *volatile segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    segv_code = si->si_code;
    segv_addr = si->si_addr;
    siglongjmp(relro_jmp, 1);
}

/* The permissions of the ld-preld mapping that holds `a`, or "" if none. */
static const char *preld_perms(uintptr_t a) {
    static char perms[8];
    perms[0] = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[8];
        if (strstr(line, "/ld-preld\n") && sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && lo <= a && a < hi) {
            strcpy(perms, p);
            break;
        }
    }
    if (f) fclose(f);
    return perms;
}

static void relro(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    uintptr_t base = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off;
        if (strstr(line, "/ld-preld\n") && sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 && off == 0) {
            base = lo;
            break;
        }
    }
    if (f) fclose(f);
    if (!base) {
        printf("no ld-preld mapping\n");
        return;
    }
    /* The first PT_LOAD starts with the ELF header (linker-scripts/ld-preld.ld). */
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
    uintptr_t start = 0, end = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_GNU_RELRO) {
            start = base + ph[i].p_vaddr;
            end = base + ph[i].p_vaddr + ph[i].p_memsz;
        }
    const uintptr_t pg = 4096;
    printf("PT_GNU_RELRO found, page-aligned: %s\n", yesno(start && start % pg == 0 && end % pg == 0 && end > start));
    if (!start) return;
    int ro = 1;
    for (uintptr_t a = start; a < end; a += pg) ro &= strcmp(preld_perms(a), "r--p") == 0;
    printf("every page of it read-only (r--p): %s\n", yesno(ro));
    printf("the page after it (.data) writable (rw-p): %s\n", yesno(strcmp(preld_perms(end), "rw-p") == 0));
    struct sigaction sa = {0}, old;
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, &old);
    volatile uintptr_t *w = (volatile uintptr_t *)start;
    int faulted = 0;
    if (sigsetjmp(relro_jmp, 1) == 0)
        *w = *w; /* the same value: harmless if it were writable */
    else
        faulted = 1;
    sigaction(SIGSEGV, &old, NULL);
    printf("a store into it: SIGSEGV SEGV_ACCERR at its address: %s\n",
           yesno(faulted && segv_code == SEGV_ACCERR && segv_addr == (void *)start));
    errno = 0;
    printf("mprotect(PROT_WRITE) of it: EPERM: %s\n",
           yesno(mprotect((void *)start, pg, PROT_READ | PROT_WRITE) == -1 && errno == EPERM));
    printf("still running, calls work: %s\n", yesno(calls_work()));
}

/* preld's thread blocks (gs:0 points at the calling thread's, under preld)
   cannot be changed by the program either: those of the first thread and of
   the 100th, which is in a chunk of slots reserved after start-up. */
#define ARENA_THREADS 100
static pthread_barrier_t arena_bar;
static uintptr_t arena_block[ARENA_THREADS + 1];

static uintptr_t gs_block(void) {
    uintptr_t v;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v));
    return v;
}

static void *arena_thread(void *arg) {
    arena_block[(long)arg] = gs_block();
    pthread_barrier_wait(&arena_bar); /* recorded */
    pthread_barrier_wait(&arena_bar); /* checked */
    return NULL;
}

static int refused(uintptr_t block) {
    const long pg = 4096;
    void *a = (void *)(block & ~(uintptr_t)(pg - 1));
    int ok = 1;
    errno = 0;
    ok &= mprotect(a, pg, PROT_READ) == -1 && errno == EPERM;
    errno = 0;
    ok &= munmap(a, pg) == -1 && errno == EPERM;
    errno = 0;
    ok &= madvise(a, pg, MADV_DONTNEED) == -1 && errno == EPERM;
    errno = 0;
    ok &= mmap(a, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED && errno == EPERM;
    errno = 0;
    ok &= mremap(a, pg, 2 * pg, 0) == MAP_FAILED && errno == EPERM;
    return ok;
}

static void arena(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int preld = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "/ld-preld\n")) preld = 1;
    if (f) fclose(f);
    if (!preld) {
        /* Natively gs is unset: there is nothing to look at. */
        printf("no ld-preld mapping\n");
        return;
    }
    pthread_barrier_init(&arena_bar, NULL, ARENA_THREADS + 1);
    pthread_t th[ARENA_THREADS];
    arena_block[0] = gs_block();
    for (long i = 0; i < ARENA_THREADS; i++)
        if ((errno = pthread_create(&th[i], NULL, arena_thread, (void *)(i + 1))) != 0) {
            printf("pthread_create %ld: %s\n", i, strerror(errno));
            return;
        }
    pthread_barrier_wait(&arena_bar);
    int distinct = 1;
    for (int i = 0; i <= ARENA_THREADS; i++)
        for (int j = 0; j < i; j++) distinct &= arena_block[i] != 0 && arena_block[i] != arena_block[j];
    printf("thread blocks: %d, all different: %s\n", ARENA_THREADS + 1, yesno(distinct));
    printf("first thread's block: EPERM for all: %s\n", yesno(refused(arena_block[0])));
    printf("100th thread's block: EPERM for all: %s\n", yesno(refused(arena_block[ARENA_THREADS])));
    pthread_barrier_wait(&arena_bar);
    for (int i = 0; i < ARENA_THREADS; i++) pthread_join(th[i], NULL);
    printf("still running, calls work: %s\n", yesno(calls_work()));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *g = argc > 1 ? argv[1] : "";
    if (strcmp(g, "basic") == 0)
        basic();
    else if (strcmp(g, "virtual") == 0)
        virtual();
    else if (strcmp(g, "image") == 0)
        image();
    else if (strcmp(g, "relro") == 0)
        relro();
    else if (strcmp(g, "arena") == 0)
        arena();
    else if (strcmp(g, "stack") == 0)
        virtual_stack();
    else if (strcmp(g, "onstack") == 0)
        onstack();
    else if (strcmp(g, "exec") == 0) {
        /* An ignored SIGSYS stays ignored across exec, a blocked one blocked. */
        signal(SIGSYS, SIG_IGN);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSYS);
        sigprocmask(SIG_BLOCK, &s, NULL);
        execl("/proc/self/exe", argv[0], "exec-child", (char *)NULL);
        printf("exec failed\n");
        return 1;
    } else if (strcmp(g, "exec-child") == 0) {
        struct sigaction old;
        sigaction(SIGSYS, NULL, &old);
        sigset_t m;
        sigprocmask(SIG_BLOCK, NULL, &m);
        printf("after exec: SIGSYS ignored %s, blocked %s, calls work %s\n", yesno(old.sa_handler == SIG_IGN),
               yesno(sigismember(&m, SIGSYS)), yesno(calls_work()));
        kill(getpid(), SIGSYS);
        printf("kill(SIGSYS) after exec: still running\n");
    }
    else if (strcmp(g, "seccomp") == 0) {
        seccomp_trap();
        return 1;
    }
    else if (strcmp(g, "kill") == 0) {
        /* A handler, then the default again: kill(SIGSYS) ends the process. */
        signal(SIGSYS, SIG_IGN);
        signal(SIGSYS, SIG_DFL);
        printf("kill(getpid(), SIGSYS) with the default action\n");
        kill(getpid(), SIGSYS);
        printf("still alive after kill(SIGSYS)\n");
        return 1;
    } else {
        fprintf(stderr, "usage: h_sigsys basic|virtual|stack|onstack|seccomp|exec|image|relro|arena|kill\n");
        return 2;
    }
    printf("done\n");
    return 0;
}
