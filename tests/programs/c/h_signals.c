/* h_signals: signals around system calls: EINTR of a blocking read (alarm, no SA_RESTART), SA_RESTART reads completed by data sent later by a thread or a child, a SIGSEGV handler on a sigaltstack catching stack overflows (main thread and a thread) and siglongjmp out, siglongjmp out of a blocking read, a thread making calls while another sends it SIGUSR1 in a tight loop, sigsuspend, sigtimedwait, signalfd and sigprocmask round trips; deterministic output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;

static void count(int sig) {
    (void)sig;
    hits++;
    /* A trapped call inside the handler. */
    (void)syscall(SYS_getpid);
}

static void on(int sig, void (*h)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        exit(1);
    }
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* The state letter of thread tid of process pid (R, S, D...). */
static char state_of(pid_t pid, pid_t tid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits until the thread is asleep (blocked in a call). */
static void wait_asleep(pid_t pid, pid_t tid) {
    for (int i = 0; i < 20000 && state_of(pid, tid) != 'S'; i++) usleep(500);
}

static void mask_line(const char *what, const sigset_t *s) {
    printf("%s:", what);
    int any = 0;
    for (int i = 1; i < 65; i++)
        if (sigismember(s, i) == 1) {
            printf(" %d", i);
            any = 1;
        }
    printf("%s\n", any ? "" : " (none)");
}

/* ---- 1. EINTR with an alarm ---- */
static void eintr_alarm(void) {
    int p[2];
    if (pipe(p) != 0) exit(1);
    on(SIGALRM, count, 0);
    hits = 0;
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    char c;
    errno = 0;
    ssize_t n = read(p[0], &c, 1);
    printf("EINTR: read returned %zd %s, handler ran %d time(s)\n", n, strerrorname_np(errno), (int)hits);
    close(p[0]);
    close(p[1]);
}

/* ---- 2. SA_RESTART, data from a thread ---- */
static int rp[2];
static pid_t main_tid;
static atomic_int about_to_read;

static void *restart_sender(void *arg) {
    (void)arg;
    while (!atomic_load(&about_to_read)) usleep(100);
    wait_asleep(getpid(), main_tid);
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
    while (hits == 0) usleep(100);
    usleep(20000);
    (void)!write(rp[1], "late", 4);
    return NULL;
}

static void restart_thread(void) {
    if (pipe(rp) != 0) exit(1);
    on(SIGUSR1, count, SA_RESTART);
    hits = 0;
    main_tid = gettid_();
    pthread_t t;
    pthread_create(&t, NULL, restart_sender, NULL);
    char buf[8] = {0};
    atomic_store(&about_to_read, 1);
    ssize_t n = read(rp[0], buf, sizeof buf - 1);
    pthread_join(t, NULL);
    atomic_store(&about_to_read, 0);
    printf("SA_RESTART (thread): read returned %zd \"%s\", handler ran %d time(s)\n", n, buf, (int)hits);
    close(rp[0]);
    close(rp[1]);
}

/* ---- 3. SA_RESTART, data and signal from a child process ---- */
static void restart_child(void) {
    if (pipe(rp) != 0) exit(1);
    on(SIGUSR1, count, SA_RESTART);
    hits = 0;
    pid_t parent = getpid();
    int go[2];
    if (pipe(go) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(rp[0]);
        (void)!read(go[0], &c, 1);
        wait_asleep(parent, parent);
        kill(parent, SIGUSR1);
        usleep(50000);
        (void)!write(rp[1], "from child", 10);
        _exit(0);
    }
    close(rp[1]);
    (void)!write(go[1], "g", 1);
    char buf[16] = {0};
    ssize_t n = read(rp[0], buf, sizeof buf - 1);
    waitpid(pid, NULL, 0);
    printf("SA_RESTART (child): read returned %zd \"%s\", handler ran %d time(s)\n", n, buf, (int)hits);
    close(rp[0]);
    close(go[0]);
    close(go[1]);
}

/* ---- 4. stack overflow caught on a sigaltstack ---- */
static sigjmp_buf overflow_env;
static char *alt_lo, *alt_hi;
static volatile int on_alt;

static void segv(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)si;
    (void)uc;
    char here;
    on_alt = &here >= alt_lo && &here < alt_hi;
    siglongjmp(overflow_env, 1);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(volatile char *prev, int depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = prev ? prev[0] : 0;
    return recurse(frame, depth + 1) + frame[100];
}

static void overflow_once(const char *who) {
    size_t sz = 64 * 1024;
    alt_lo = malloc(sz);
    alt_hi = alt_lo + sz;
    stack_t ss = {.ss_sp = alt_lo, .ss_size = sz, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0) perror("sigaltstack");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    for (int round = 1; round <= 2; round++) {
        on_alt = 0;
        if (sigsetjmp(overflow_env, 1) == 0) {
            recurse(NULL, 0);
            printf("%s: recursion returned?\n", who);
        }
        stack_t cur;
        sigaltstack(NULL, &cur);
        sigset_t m;
        sigprocmask(SIG_BLOCK, NULL, &m);
        printf("%s: overflow %d caught on the sigaltstack: %s; after siglongjmp: altstack %s, SS_ONSTACK %s, "
               "SIGSEGV blocked %s\n",
               who, round, on_alt ? "yes" : "no", cur.ss_sp == alt_lo && cur.ss_size == sz ? "kept" : "changed",
               cur.ss_flags & SS_ONSTACK ? "set" : "clear", sigismember(&m, SIGSEGV) ? "yes" : "no");
    }
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    signal(SIGSEGV, SIG_DFL);
    free(alt_lo);
}

static void *overflow_thread(void *arg) {
    (void)arg;
    overflow_once("thread");
    return NULL;
}

/* ---- 5. siglongjmp out of a blocking read ---- */
static sigjmp_buf read_env;

static void jump(int sig) {
    (void)sig;
    siglongjmp(read_env, 1);
}

static void *jump_sender(void *arg) {
    (void)arg;
    for (int i = 0; i < 30; i++) {
        while (atomic_load(&about_to_read) != i + 1) usleep(100);
        wait_asleep(getpid(), main_tid);
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
    }
    return NULL;
}

static void longjmp_read(void) {
    int p[2];
    if (pipe(p) != 0) exit(1);
    on(SIGUSR2, jump, 0);
    main_tid = gettid_();
    atomic_store(&about_to_read, 0);
    pthread_t t;
    pthread_create(&t, NULL, jump_sender, NULL);
    int jumped = 0;
    for (int i = 0; i < 30; i++) {
        if (sigsetjmp(read_env, 1) == 0) {
            char c;
            atomic_store(&about_to_read, i + 1);
            ssize_t n = read(p[0], &c, 1);
            printf("longjmp: read returned %zd?\n", n);
        } else {
            jumped++;
        }
    }
    pthread_join(t, NULL);
    atomic_store(&about_to_read, 0);
    sigset_t m;
    sigprocmask(SIG_BLOCK, NULL, &m);
    char c = 0;
    int ok = write(p[1], "z", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'z';
    printf("siglongjmp out of a blocking read: %d of 30, SIGUSR2 blocked after: %s, pipe works after: %s\n", jumped,
           sigismember(&m, SIGUSR2) ? "yes" : "no", ok ? "yes" : "no");
    close(p[0]);
    close(p[1]);
}

/* ---- 6. a signal storm on a thread making calls ---- */
static atomic_int storm_done;
static atomic_long storm_sent;
static volatile sig_atomic_t storm_hits;
static atomic_int storm_tid;

static void storm_handler(int sig) {
    (void)sig;
    storm_hits++;
    (void)syscall(SYS_getppid);
}

static void *storm_victim(void *arg) {
    long bad = 0;
    int fd = open("/dev/zero", O_RDONLY);
    pid_t pp = getppid();
    atomic_store(&storm_tid, gettid_());
    /* Start once the first signal has been handled. */
    while (storm_hits == 0) sched_yield();
    char buf[64];
    struct timespec ts;
    for (int i = 0; i < 5000; i++) {
        if (getppid() != pp) bad++;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n != sizeof buf) bad++;
        if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) bad++;
    }
    close(fd);
    atomic_store(&storm_done, 1);
    *(long *)arg = bad;
    return NULL;
}

static void *storm_sender(void *arg) {
    (void)arg;
    while (!atomic_load(&storm_tid)) sched_yield();
    /* Back to back, but each signal waits for the previous one to be
     * handled: a sender faster than the handler would starve the victim
     * (natively too). */
    while (!atomic_load(&storm_done)) {
        sig_atomic_t before = storm_hits;
        if (syscall(SYS_tgkill, getpid(), storm_tid, SIGUSR1) != 0) break;
        atomic_fetch_add(&storm_sent, 1);
        while (storm_hits == before && !atomic_load(&storm_done)) sched_yield();
    }
    return NULL;
}

static void storm(void) {
    on(SIGUSR1, storm_handler, SA_RESTART);
    storm_hits = 0;
    atomic_store(&storm_tid, 0);
    long bad = -1;
    pthread_t v, s;
    pthread_create(&v, NULL, storm_victim, &bad);
    pthread_create(&s, NULL, storm_sender, NULL);
    pthread_join(v, NULL);
    pthread_join(s, NULL);
    long sent = atomic_load(&storm_sent);
    printf("signal storm: victim's calls all right: %s, handler ran: %s, handled <= sent: %s\n", bad == 0 ? "yes" : "no",
           storm_hits > 0 ? "yes" : "no", storm_hits <= sent ? "yes" : "no");
}

/* A handler that raises its own signal (SA_NODEFER): it nests once. */
static volatile sig_atomic_t depth, max_depth, raised;

static void nest(int sig) {
    depth++;
    if (depth > max_depth) max_depth = depth;
    if (!raised) {
        raised = 1;
        raise(sig);
    }
    depth--;
}

static void nodefer(void) {
    on(SIGUSR1, nest, SA_NODEFER);
    raise(SIGUSR1);
    int nested = max_depth;
    max_depth = 0;
    raised = 0;
    on(SIGUSR1, nest, 0);
    raise(SIGUSR1);
    printf("handler raising its own signal: nests to depth %d with SA_NODEFER, %d without\n", nested,
           (int)max_depth);
}

/* ---- 7. sigsuspend, sigtimedwait, signalfd ---- */
static void *late_kill(void *arg) {
    (void)arg;
    wait_asleep(getpid(), main_tid);
    usleep(10000);
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
    return NULL;
}

static void waits(void) {
    on(SIGUSR1, count, 0);
    sigset_t usr1, old, empty, pend, now;
    sigemptyset(&usr1);
    sigemptyset(&empty);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old);

    /* pending before sigsuspend */
    hits = 0;
    kill(getpid(), SIGUSR1);
    sigpending(&pend);
    printf("sigpending after kill: SIGUSR1 %s\n", sigismember(&pend, SIGUSR1) ? "pending" : "not pending");
    errno = 0;
    int r = sigsuspend(&empty);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend (pending): returned %d %s, handler ran %d, SIGUSR1 blocked again: %s\n", r,
           strerrorname_np(errno), (int)hits, sigismember(&now, SIGUSR1) ? "yes" : "no");

    /* arriving while suspended */
    hits = 0;
    main_tid = gettid_();
    pthread_t t;
    pthread_create(&t, NULL, late_kill, NULL);
    errno = 0;
    r = sigsuspend(&empty);
    pthread_join(t, NULL);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("sigsuspend (later): returned %d %s, handler ran %d, SIGUSR1 blocked again: %s\n", r,
           strerrorname_np(errno), (int)hits, sigismember(&now, SIGUSR1) ? "yes" : "no");

    /* sigtimedwait takes a blocked pending signal without the handler */
    hits = 0;
    kill(getpid(), SIGUSR1);
    struct timespec ts = {5, 0};
    siginfo_t si;
    int s = sigtimedwait(&usr1, &si, &ts);
    printf("sigtimedwait: got %d (SIGUSR1=%d), si_code is SI_USER: %s, handler ran %d\n", s, SIGUSR1,
           si.si_code == SI_USER ? "yes" : "no", (int)hits);
    ts.tv_sec = 0;
    ts.tv_nsec = 10000000;
    errno = 0;
    s = sigtimedwait(&usr1, &si, &ts);
    printf("sigtimedwait with nothing pending: %d %s\n", s, strerrorname_np(errno));

    /* signalfd */
    int sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
    kill(getpid(), SIGUSR1);
    struct signalfd_siginfo fi;
    ssize_t n = read(sfd, &fi, sizeof fi);
    printf("signalfd: read %zd bytes, signal %u, sender is me: %s\n", n, fi.ssi_signo,
           fi.ssi_pid == (unsigned)getpid() ? "yes" : "no");
    close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- 8. masks ---- */
static void *mask_thread(void *arg) {
    sigset_t m, add;
    sigprocmask(SIG_BLOCK, NULL, &m);
    mask_line("  thread inherits", &m);
    sigemptyset(&add);
    sigaddset(&add, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &add, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &m);
    mask_line("  thread after blocking SIGTERM", &m);
    (void)arg;
    return NULL;
}

static void masks(void) {
    sigset_t s, old, cur;
    sigprocmask(SIG_SETMASK, NULL, &old);
    mask_line("initial mask", &old);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGRTMIN + 3);
    sigaddset(&s, 64);
    sigprocmask(SIG_BLOCK, &s, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    mask_line("after SIG_BLOCK USR1 USR2 RTMIN+3 64", &cur);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &s, &old);
    mask_line("old mask returned by SIG_UNBLOCK USR1", &old);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    mask_line("after SIG_UNBLOCK USR1", &cur);
    sigfillset(&s);
    sigprocmask(SIG_SETMASK, &s, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    mask_line("after SIG_SETMASK of a full set (KILL and STOP cannot be blocked)", &cur);
    sigemptyset(&s);
    sigaddset(&s, SIGHUP);
    sigaddset(&s, SIGCHLD);
    sigprocmask(SIG_SETMASK, &s, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    mask_line("after SIG_SETMASK HUP CHLD", &cur);
    errno = 0;
    int r = syscall(SYS_rt_sigprocmask, 99, &s, NULL, 8);
    printf("rt_sigprocmask with a bad how: %d %s\n", r, strerrorname_np(errno));
    errno = 0;
    r = syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 4);
    printf("rt_sigprocmask with a bad size: %d %s\n", r, strerrorname_np(errno));
    pthread_t t;
    pthread_create(&t, NULL, mask_thread, NULL);
    pthread_join(t, NULL);
    sigprocmask(SIG_BLOCK, NULL, &cur);
    mask_line("main after the thread", &cur);
    pid_t pid = fork();
    if (pid == 0) {
        sigprocmask(SIG_BLOCK, NULL, &cur);
        mask_line("  fork child inherits", &cur);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    /* A handler's sa_mask is added while it runs. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    struct sigaction back;
    sigaction(SIGUSR1, NULL, &back);
    printf("sigaction reads back: handler same %s, sa_mask has USR2 %s\n", back.sa_handler == count ? "yes" : "no",
           sigismember(&back.sa_mask, SIGUSR2) ? "yes" : "no");
    sigemptyset(&s);
    sigprocmask(SIG_SETMASK, &s, NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    eintr_alarm();
    restart_thread();
    restart_child();
    overflow_once("main");
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    pthread_create(&t, &a, overflow_thread, NULL);
    pthread_join(t, NULL);
    longjmp_read();
    storm();
    nodefer();
    waits();
    masks();
    printf("done\n");
    return 0;
}
