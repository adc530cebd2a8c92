/* Signals that come while preld serves a call in the fast path's handler
 * gate, where they are put off (defer_signal) instead of blocked: from
 * another process, one at a time with an acknowledgement (so that none may
 * merge with another natively), while this process makes gated calls (a
 * session's fstatat and open beneath a grant; `getppid` as argv[4]: a
 * traced getppid under `preld trace`). Each case prints "BUG: ..." where
 * the program sees what it would not natively (a signal lost, its handler
 * gone, the wrong stack, a wrong result), and "ok ..." otherwise:
 *  - kill(SIGSEGV) and kill(SIGBUS) (si_code SI_USER): the handler runs;
 *  - SIGSEGV the kernel sends for I/O (fcntl F_SETSIG, si_code POLL_IN,
 *    which is > 0 as a fault's code is): the handler runs every time, and
 *    is still installed after;
 *  - realtime signals queued with sigqueue, one once the one before is
 *    handled: none lost, none twice, in order;
 *  - SA_RESETHAND: the handler once, then the action is SIG_DFL;
 *  - SA_ONSTACK: the handler on the sigaltstack;
 *  - siglongjmp out of a handler in the middle of gated calls.
 * Each case runs in a child of its own, so that a case killed shows as a
 * BUG line and the others still run. No case reads outside the grants:
 * it escapes nothing (attacks.rs counts ESCAPE lines and the secret). */
#include "attack.h"
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static int gated_getppid;
static int dirfd_ro = -1;
static char *victim_path;

/* One call the handler gate serves. */
static void gated_call(unsigned i) {
    if (gated_getppid) {
        (void)getppid();
        return;
    }
    struct stat st;
    if (i & 1) {
        if (fstatat(dirfd_ro, "victim", &st, AT_SYMLINK_NOFOLLOW) != 0) {
            printf("BUG: fstatat(ro, victim) failed: %s\n", strerror(errno));
            fflush(stdout);
            _exit(3);
        }
    } else {
        int fd = open(victim_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            printf("BUG: open(victim) failed: %s\n", strerror(errno));
            fflush(stdout);
            _exit(3);
        }
        close(fd);
    }
}

static int ack[2], data[2];
static volatile long seen, bad;
static volatile int want_sig;

static void ack_one(void) {
    int e = errno;
    if (write(ack[1], "a", 1) != 1) bad++;
    errno = e;
}

static void on_sig(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (sig != want_sig || si->si_signo != sig) bad++;
    seen++;
    if (sig == SIGSEGV && si->si_code > 0) {
        /* F_SETSIG: drain the byte that made the signal. */
        char b;
        int e = errno;
        while (read(data[0], &b, 1) == 1) {}
        errno = e;
    }
    ack_one();
}

/* The sender (a child process): `n` times, makes one signal come to
 * `target` and waits for its acknowledgement. Exits 0 if every one came,
 * 1 if one was lost (no acknowledgement within 2 s). */
static void sender(pid_t target, int sig, int how, int n) {
    close(ack[1]);
    for (int i = 0; i < n; i++) {
        if (how == 0) {
            if (kill(target, sig) != 0) _exit(2);
        } else {
            if (write(data[1], "d", 1) != 1) _exit(2);
        }
        struct pollfd p = { ack[0], POLLIN, 0 };
        if (poll(&p, 1, 2000) != 1) {
            printf("  sender: signal %d of %d not acknowledged in 2 s\n", i + 1, n);
            fflush(stdout);
            _exit(1);
        }
        char b;
        if (read(ack[0], &b, 1) != 1) _exit(2);
    }
    _exit(0);
}

/* Runs one case in a child (the receiver) that makes gated calls while
 * its own child sends; prints ok or BUG. */
static void run_case(const char *name, void (*body)(void)) {
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        signal(SIGPIPE, SIG_IGN);
        body();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st))
        printf("BUG: %s: the program was killed by signal %d\n", name, WTERMSIG(st));
    else if (WEXITSTATUS(st) != 0)
        printf("BUG: %s: exit %d\n", name, WEXITSTATUS(st));
    else
        printf("ok %s\n", name);
    fflush(stdout);
}

/* Gated calls until the sender `s` ends; its status. */
static int gated_until(pid_t s) {
    for (unsigned i = 0;; i++) {
        gated_call(i);
        if ((i & 63) == 0) {
            int st;
            if (waitpid(s, &st, WNOHANG) == s) return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
        }
    }
}

static void install(int sig, int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, 0);
}

static void acked_storm(int sig, int how, int n) {
    if (pipe(ack) != 0 || pipe2(data, O_NONBLOCK) != 0) _exit(4);
    want_sig = sig;
    pid_t me = getpid();
    pid_t s = fork();
    if (s == 0) sender(me, sig, how, n);
    close(ack[0]);
    int r = gated_until(s);
    if (r != 0) {
        printf("  %d signals sent, %ld handled; sender status %d\n", n, seen, r);
        fflush(stdout), _exit(1);
    }
    if (bad) {
        printf("  %ld signals with a wrong siginfo\n", bad);
        fflush(stdout), _exit(1);
    }
}

static void kill_segv(void) {
    install(SIGSEGV, 0);
    acked_storm(SIGSEGV, 0, 3000);
}

static void kill_bus(void) {
    install(SIGBUS, 0);
    acked_storm(SIGBUS, 0, 3000);
}

static void setsig_segv(void) {
    install(SIGSEGV, 0);
    if (pipe(ack) != 0 || pipe2(data, O_NONBLOCK) != 0) _exit(4);
    fcntl(data[0], F_SETOWN, getpid());
    fcntl(data[0], F_SETSIG, SIGSEGV);
    fcntl(data[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    want_sig = SIGSEGV;
    pid_t me = getpid();
    pid_t s = fork();
    if (s == 0) sender(me, SIGSEGV, 1, 3000);
    close(ack[0]);
    int r = gated_until(s);
    struct sigaction now;
    sigaction(SIGSEGV, 0, &now);
    if (r != 0 || bad) {
        printf("  3000 I/O signals (SIGSEGV, POLL_IN) sent, %ld handled; sender status %d\n", seen, r);
        fflush(stdout), _exit(1);
    }
    if (now.sa_sigaction != on_sig) {
        printf("  the SIGSEGV handler is gone\n");
        fflush(stdout), _exit(1);
    }
    /* A SIGSEGV sent now must still reach the handler. */
    long before = seen;
    raise(SIGSEGV);
    if (seen != before + 1) fflush(stdout), _exit(1);
}

/* The same, as fast as the sender can write, for a second, without
 * waiting for acknowledgements (signals merge, so only the handler's
 * survival is looked at). */
static void setsig_segv_flood(void) {
    install(SIGSEGV, 0);
    if (pipe(ack) != 0 || pipe2(data, O_NONBLOCK) != 0) _exit(4);
    fcntl(data[0], F_SETOWN, getpid());
    fcntl(data[0], F_SETSIG, SIGSEGV);
    fcntl(data[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    want_sig = SIGSEGV;
    pid_t s = fork();
    if (s == 0) {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
            if (write(data[1], "d", 1) != 1) usleep(10);
            clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 1000000000L);
        _exit(0);
    }
    int r = gated_until(s);
    struct sigaction now;
    sigaction(SIGSEGV, 0, &now);
    printf("  %ld I/O signals (SIGSEGV, POLL_IN) handled\n", seen);
    if (r != 0 || bad || now.sa_sigaction != on_sig) {
        printf("  sender status %d, %ld bad, handler %s\n", r, bad, now.sa_sigaction == on_sig ? "kept" : "gone");
        fflush(stdout), _exit(1);
    }
    long before = seen;
    raise(SIGSEGV);
    if (seen != before + 1) fflush(stdout), _exit(1);
}

/* RT signals queued while the receiver makes gated calls: the sender
 * queues `n` with values in order, each once the one before it is handled
 * (so none waits for a slot of RLIMIT_SIGPENDING: a signal put off while a
 * sender fills the queue to the limit can be lost, docs/DESIGN.md);
 * each must come once, in order, with its siginfo. */
static volatile long rt_next, rt_bad, rt_count, rt_twice;
static unsigned char rt_seen[20000];
static int rt_ack[2];
static void on_rt(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    int v = si->si_value.sival_int;
    if (si->si_code != SI_QUEUE || v < 0 || v >= 20000) { rt_bad++; return; }
    if (v != rt_next) rt_bad++;
    if (rt_seen[v]++) rt_twice++;
    rt_count++;
    rt_next = v + 1;
    (void)!write(rt_ack[1], "", 1);
}
static void rt_at_limit(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN + 3, &sa, 0);
    const int n = 20000;
    if (pipe(rt_ack) != 0) _exit(4);
    pid_t me = getpid();
    pid_t s = fork();
    if (s == 0) {
        char c;
        for (int i = 0; i < n; i++) {
            union sigval v = { .sival_int = i };
            if (sigqueue(me, SIGRTMIN + 3, v) != 0) _exit(2);
            if (read(rt_ack[0], &c, 1) != 1) _exit(3);
        }
        _exit(0);
    }
    int r = gated_until(s);
    if (r != 0 || rt_count != n || rt_bad || rt_twice) {
        printf("  %d realtime signals queued, %ld handled (%ld twice), %ld out of order; sender status %d\n", n, rt_count, rt_twice, rt_bad, r);
        fflush(stdout), _exit(1);
    }
}

static void resethand(void) {
    for (int k = 0; k < 300; k++) {
        install(SIGUSR1, SA_RESETHAND);
        seen = 0;
        acked_storm(SIGUSR1, 0, 1);
        struct sigaction now;
        sigaction(SIGUSR1, 0, &now);
        if (seen != 1 || now.sa_handler != SIG_DFL) {
            printf("  round %d: handler ran %ld times, action now %p\n", k, seen, (void *)now.sa_handler);
            fflush(stdout), _exit(1);
        }
    }
}

static char *alt;
static volatile long off_stack;
static void on_alt(int sig, siginfo_t *si, void *uc) {
    char here;
    if (&here < alt || &here >= alt + 65536) off_stack++;
    on_sig(sig, si, uc);
}
static void onstack(void) {
    alt = malloc(65536);
    stack_t ss = { .ss_sp = alt, .ss_size = 65536, .ss_flags = 0 };
    if (sigaltstack(&ss, 0) != 0) _exit(4);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alt;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigaction(SIGUSR2, &sa, 0);
    acked_storm(SIGUSR2, 0, 3000);
    if (off_stack) {
        printf("  %ld handlers not on the sigaltstack\n", off_stack);
        fflush(stdout), _exit(1);
    }
}

static sigjmp_buf jump;
static volatile long jumped;
static volatile sig_atomic_t armed;
static void on_jump(int sig, siginfo_t *si, void *uc) {
    on_sig(sig, si, uc);
    jumped++;
    /* The sender starts at once: a signal before sigsetjmp has been made
     * returns as a plain handler would. */
    if (armed)
        siglongjmp(jump, 1);
}
static void longjmp_out(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_jump;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    if (pipe(ack) != 0 || pipe2(data, O_NONBLOCK) != 0) _exit(4);
    want_sig = SIGUSR1;
    pid_t me = getpid();
    pid_t s = fork();
    if (s == 0) sender(me, SIGUSR1, 0, 2000);
    close(ack[0]);
    volatile unsigned i = 0;
    sigsetjmp(jump, 1);
    armed = 1;
    for (;; i++) {
        gated_call(i);
        if ((i & 63) == 0) {
            int st;
            if (waitpid(s, &st, WNOHANG) == s) {
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || jumped != 2000) {
                    printf("  2000 sent, %ld jumped out\n", jumped);
                    fflush(stdout), _exit(1);
                }
                break;
            }
        }
    }
    /* Still whole: a gated call gives the right answer, SIGUSR1 is not
     * left blocked. */
    struct stat a, b;
    if (!gated_getppid && (fstatat(dirfd_ro, "victim", &a, 0) != 0 || stat(victim_path, &b) != 0 || a.st_ino != b.st_ino)) fflush(stdout), _exit(1);
    sigset_t m;
    sigprocmask(SIG_BLOCK, 0, &m);
    if (sigismember(&m, SIGUSR1)) {
        printf("  SIGUSR1 left blocked\n");
        fflush(stdout), _exit(1);
    }
}

int main(int argc, char **argv) {
    ARGS
    gated_getppid = argc > 4 && strcmp(argv[4], "getppid") == 0;
    victim_path = cat2(ro, "/victim");
    dirfd_ro = open(ro, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!gated_getppid && dirfd_ro < 0) {
        printf("BUG: open(ro) failed: %s\n", strerror(errno));
        return 1;
    }
    /* Warm the sites up: rewritten at their second execution. */
    for (unsigned i = 0; i < 100; i++) gated_call(i);
    run_case("kill(SIGSEGV) during gated calls reaches the handler (3000, acknowledged)", kill_segv);
    run_case("kill(SIGBUS) during gated calls reaches the handler (3000, acknowledged)", kill_bus);
    run_case("SIGSEGV of F_SETSIG (si_code POLL_IN) during gated calls reaches the handler, which stays", setsig_segv);
    run_case("SIGSEGV of F_SETSIG flooding gated calls for a second: the handler stays", setsig_segv_flood);
    run_case("realtime signals queued one by one during gated calls: none lost, in order", rt_at_limit);
    run_case("SA_RESETHAND during gated calls: once, then SIG_DFL (300 rounds)", resethand);
    run_case("SA_ONSTACK during gated calls: on the sigaltstack", onstack);
    run_case("siglongjmp out of handlers during gated calls", longjmp_out);
    return 0;
}
