/* Threads sharing memory while preld copies it (handler/src/usermem.rs,
 * the path gates of arch/src/x86_64/fast.rs): each case does natively
 * what it prints; under preld it must neither die, hang nor say EFAULT
 * where natively a call succeeds. From the session-13 adversary.
 *
 *   h_memrace CASE [ARG]
 *
 * CASE:
 *   leader-exit     main calls pthread_exit; the other thread then makes
 *                   calls whose results preld writes (sigprocmask's old
 *                   set, sigaction's old action, sigaltstack, stat)
 *   fifo DIR        a FIFO opened for reading (a path gate's open) while
 *                   another thread maps and unmaps: the writer comes,
 *                   writes and goes; 10 rounds
 *   signal-window S for S seconds, stat in a loop while SIGPROF (every
 *                   100 us of CPU) runs a handler that maps and unmaps a
 *                   page, or jumps out with siglongjmp; then munmap once
 *   lost-end        a SIGALRM handler jumps out of ftruncate and munmap
 *                   (after the call, before preld's post trap) 300
 *                   times; then a seccomp filter refuses
 *                   process_vm_writev and process_vm_readv (EPERM), and
 *                   20000 stat and access calls are timed
 *   race-seccomp    h_pagecache2's race-munmap (another thread passes a
 *                   page this one maps and unmaps) under a seccomp filter
 *                   that refuses process_vm_writev and process_vm_readv
 *   vm-child        a CLONE_VM child process (no CLONE_THREAD) makes such
 *                   calls after its parent has exec'd a shell, which then
 *                   shows what the child wrote to memrace-vm-child-PID.out
 *   filter-writes   under a seccomp filter that refuses process_vm_readv
 *                   and process_vm_writev (EPERM), calls whose results
 *                   preld writes: sigprocmask's old set, sigaction's old
 *                   action, sigaltstack
 *   ptrace-stop N   a thread making path calls is stopped by a ptrace
 *                   tracer (PTRACE_INTERRUPT) N times; meanwhile another
 *                   thread's munmap must go on
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *name(int e) { return e ? strerrorname_np(e) : "ok"; }

/* ------------------------------------------------------------ leader-exit */
static void *after_leader(void *a) {
    (void)a;
    usleep(100000);
    sigset_t s, old;
    sigemptyset(&s);
    int r1 = pthread_sigmask(SIG_BLOCK, &s, &old);
    struct sigaction sa;
    int r2 = sigaction(SIGUSR1, NULL, &sa) ? errno : 0;
    struct stat st;
    int r3 = stat("/", &st) ? errno : 0;
    stack_t ss;
    int r4 = sigaltstack(NULL, &ss) ? errno : 0;
    printf("leader-exit: sigmask %s, sigaction %s, stat %s, sigaltstack %s\n", name(r1), name(r2), name(r3), name(r4));
    fflush(stdout);
    return NULL;
}

/* ------------------------------------------------------------------ fifo */
static _Atomic int stop;
static void *mapper(void *a) {
    int pause_us = (int)(long)a;
    while (!stop) {
        void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p, 4096);
        if (pause_us) usleep(pause_us);
    }
    return NULL;
}

static int fifo(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/memrace-fifo-%d", dir, (int)getpid());
    unlink(path);
    if (mkfifo(path, 0600)) { perror("mkfifo"); return 2; }
    pthread_t t;
    pthread_create(&t, NULL, mapper, (void *)500L);
    int good = 0, rounds = 10;
    for (int i = 0; i < rounds; i++) {
        pid_t w = fork();
        if (w == 0) {
            usleep(20000);
            int fd = open(path, O_WRONLY);
            if (fd < 0) _exit(3);
            if (write(fd, "hello", 5) != 5) _exit(4);
            close(fd);
            _exit(0);
        }
        int fd = open(path, O_RDONLY);
        char buf[16] = {0};
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0) close(fd);
        int st;
        waitpid(w, &st, 0);
        if (n == 5 && st == 0) good++;
        else printf("round %d: read %zd, writer status %d\n", i, n, st);
    }
    stop = 1;
    pthread_join(t, NULL);
    unlink(path);
    printf("fifo: %d of %d rounds read\n", good, rounds);
    return 0;
}

/* --------------------------------------------------------- signal-window */
static sigjmp_buf jump;
static _Atomic int jumping, signals;
static void on_prof(int s) {
    (void)s;
    signals++;
    void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 4096);
    if (jumping) siglongjmp(jump, 1);
}
static void *idle(void *a) { (void)a; for (;;) pause(); return NULL; }
/* A second thread sharing the memory, with every signal blocked (the
 * process's timer signals must come to the thread whose stack the
 * handler jumps to). */
static void start_idle(void) {
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &was);
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
}

static int signal_window(int secs) {
    start_idle();
    struct sigaction sa = {0};
    sa.sa_handler = on_prof;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval it = {{0, 100}, {0, 100}};
    setitimer(ITIMER_PROF, &it, NULL);
    struct stat st;
    time_t end = time(NULL) + secs;
    /* sigsetjmp with SIGPROF blocked (a jump into a buffer half saved
     * would crash natively); the handler's jump leaves it blocked. */
    sigset_t prof;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    sigprocmask(SIG_BLOCK, &prof, NULL);
    for (volatile int round = 0; time(NULL) < end; round++) {
        jumping = round & 1;
        if (sigsetjmp(jump, 0)) continue;
        sigprocmask(SIG_UNBLOCK, &prof, NULL);
        for (int i = 0; i < 1000; i++) { stat("/", &st); access("/", F_OK); }
        sigprocmask(SIG_BLOCK, &prof, NULL);
    }
    jumping = 0;
    sigprocmask(SIG_UNBLOCK, &prof, NULL);
    struct itimerval off = {0};
    setitimer(ITIMER_PROF, &off, NULL);
    void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, 4096);
    printf("signal-window: survived\n");
    return 0;
}

/* -------------------------------------------------------------- seccomp */
static void refuse_process_vm(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
        perror("seccomp");
        exit(2);
    }
}

/* ------------------------------------------------------------- lost-end */
static void on_alrm(int s) { (void)s; if (jumping) siglongjmp(jump, 1); }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int lost_end(void) {
    start_idle();
    char f[] = "memrace-XXXXXX";   /* in the cwd */
    int fd = mkstemp(f);
    if (fd < 0) { perror("mkstemp"); return 2; }
    unlink(f);
    struct sigaction sa = {0};
    sa.sa_handler = on_alrm;
    sigaction(SIGALRM, &sa, NULL);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    struct itimerval it = {{0, 20}, {0, 20}};
    setitimer(ITIMER_REAL, &it, NULL);
    jumping = 1;
    for (volatile int i = 0; i < 300; i++) {
        /* (as in signal_window: SIGALRM blocked around sigsetjmp) */
        if (sigsetjmp(jump, 0)) continue;
        sigprocmask(SIG_UNBLOCK, &alrm, NULL);
        for (;;) {
            if (ftruncate(fd, i & 1 ? 8192 : 0)) {}
            void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            munmap(p, 4096);
        }
    }
    jumping = 0;
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    refuse_process_vm();
    struct stat st;
    double t0 = now();
    for (int i = 0; i < 10000; i++) { stat("/", &st); access("/", F_OK); }
    double dt = now() - t0;
    printf("lost-end: 20000 calls %s\n", dt < 2.0 ? "in less than 2 s" : "took 2 s or more");
    if (dt >= 2.0) fprintf(stderr, "lost-end: %.1f s\n", dt);
    return 0;
}

/* ---------------------------------------------------------- race-seccomp */
static char *volatile race_page;
static void *racer(void *a) {
    (void)a;
    struct stat st;
    while (!stop) {
        char *p = race_page;
        if (p) {
            syscall(SYS_faccessat, AT_FDCWD, p, R_OK);
            int fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) close(fd);
            syscall(SYS_newfstatat, AT_FDCWD, "/dev/null", p + 2048, 0);
            (void)st;
        }
    }
    return NULL;
}

static int race_seccomp(void) {
    refuse_process_vm();
    pthread_t t;
    pthread_create(&t, NULL, racer, NULL);
    for (int i = 0; i < 20000; i++) {
        char *p = mmap((void *)0x7e0000000000, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED) { perror("mmap"); return 2; }
        strcpy(p, "/dev/null");
        race_page = p;
        munmap(p, 4096);
        for (volatile int k = 0; k < 2000; k++) ;
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("race-seccomp: survived\n");
    return 0;
}

/* -------------------------------------------------------------- vm-child */
static char vm_stack[1 << 16] __attribute__((aligned(16)));
static int vm_out;
static int vm_child(void *a) {
    (void)a;
    usleep(200000); /* the parent has exec'd by now */
    sigset_t s, old;
    sigemptyset(&s);
    int r1 = sigprocmask(SIG_BLOCK, &s, &old) ? errno : 0;
    struct sigaction sa;
    int r2 = sigaction(SIGUSR1, NULL, &sa) ? errno : 0;
    struct stat st;
    int r3 = stat("/", &st) ? errno : 0;
    dprintf(vm_out, "vm-child: sigmask %s, sigaction %s, stat %s\n", name(r1), name(r2), name(r3));
    close(vm_out);
    syscall(SYS_exit, 0);
    return 0;
}

static int vm_child_case(void) {
    /* (the shell's $$ is this pid) */
    char out[64];
    snprintf(out, sizeof out, "memrace-vm-child-%d.out", (int)getpid());
    vm_out = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (vm_out < 0) { perror(out); return 2; }
    if (clone(vm_child, vm_stack + sizeof vm_stack, CLONE_VM | SIGCHLD, NULL) < 0) { perror("clone"); return 2; }
    execl("/bin/sh", "sh", "-c", "sleep 1; cat memrace-vm-child-$$.out; rm -f memrace-vm-child-$$.out", (char *)NULL);
    perror("execl");
    return 2;
}

/* ----------------------------------------------------------- ptrace-stop */
static _Atomic long maps;
static _Atomic int copier_tid;
static void *copier(void *a) {
    (void)a;
    copier_tid = syscall(SYS_gettid);
    struct stat st;
    for (;;) { stat("/", &st); access("/", R_OK); }
    return NULL;
}
static void *counting_mapper(void *a) {
    (void)a;
    for (;;) {
        void *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p, 4096);
        maps++;
    }
    return NULL;
}

static int ptrace_stop(int rounds) {
    prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
    pthread_t a, b;
    pthread_create(&a, NULL, copier, NULL);
    pthread_create(&b, NULL, counting_mapper, NULL);
    while (!copier_tid) usleep(1000);
    int tid = copier_tid;
    int to_parent[2], to_tracer[2];
    if (pipe(to_parent) || pipe(to_tracer)) return 2;
    pid_t tracer = fork();
    if (tracer == 0) {
        close(to_parent[0]);
        close(to_tracer[1]);
        if (ptrace(PTRACE_SEIZE, tid, 0, 0)) { dprintf(to_parent[1], "seize %s\n", strerrorname_np(errno)); _exit(1); }
        for (int i = 0; i < rounds; i++) {
            ptrace(PTRACE_INTERRUPT, tid, 0, 0);
            int st;
            if (waitpid(tid, &st, __WALL) < 0) { dprintf(to_parent[1], "wait %s\n", strerrorname_np(errno)); _exit(1); }
            dprintf(to_parent[1], "s\n");
            char c;
            if (read(to_tracer[0], &c, 1) != 1) _exit(1);   /* the parent has looked */
            ptrace(PTRACE_CONT, tid, 0, 0);
            usleep(100);
        }
        _exit(0);
    }
    close(to_parent[1]);
    close(to_tracer[0]);
    FILE *f = fdopen(to_parent[0], "r");
    char line[64];
    int n = 0, stuck = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] != 's') { printf("tracer: %s", line); break; }
        n++;
        /* The copier is stopped: the mapper goes on, natively. */
        long m0 = maps;
        for (int k = 0; k < 200 && maps == m0; k++) usleep(100);
        if (maps == m0) stuck++;
        if (write(to_tracer[1], "c", 1) != 1) break;
    }
    int st;
    waitpid(tracer, &st, 0);
    printf("ptrace-stop: %d rounds, the mapper stuck in %d\n", n, stuck);
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: h_memrace CASE [ARG]\n"); return 2; }
    const char *c = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(c, "leader-exit")) {
        pthread_t t;
        pthread_create(&t, NULL, after_leader, NULL);
        pthread_exit(NULL);
    }
    if (!strcmp(c, "fifo")) return fifo(argc > 2 ? argv[2] : ".");
    if (!strcmp(c, "signal-window")) return signal_window(argc > 2 ? atoi(argv[2]) : 3);
    if (!strcmp(c, "lost-end")) return lost_end();
    if (!strcmp(c, "race-seccomp")) return race_seccomp();
    if (!strcmp(c, "vm-child")) return vm_child_case();
    if (!strcmp(c, "filter-writes")) {
        refuse_process_vm();
        sigset_t s, old;
        sigemptyset(&s);
        int r1 = sigprocmask(SIG_BLOCK, &s, &old) ? errno : 0;
        struct sigaction sa;
        int r2 = sigaction(SIGUSR1, NULL, &sa) ? errno : 0;
        stack_t ss;
        int r3 = sigaltstack(NULL, &ss) ? errno : 0;
        printf("filter-writes: sigmask %s, sigaction %s, sigaltstack %s\n", name(r1), name(r2), name(r3));
        return 0;
    }
    if (!strcmp(c, "ptrace-stop")) return ptrace_stop(argc > 2 ? atoi(argv[2]) : 300);
    fprintf(stderr, "unknown case %s\n", c);
    return 2;
}
