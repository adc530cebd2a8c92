/* The clocks a program reads and the deadlines it sets, for tests/tests/clock.rs
 * (virtual time). Each line is `NAME SECONDS` (a decimal with nanoseconds).
 *
 *   clock now            every way to read the wall clock, and CLOCK_MONOTONIC
 *   clock fork           `parent T`, then a fork child's `child T`
 *   clock exec           `before T`, then execs itself with `now`
 *   clock KIND MS        waits until the wall clock reads now + MS ms, with
 *                        KIND: sleepabs (clock_nanosleep TIMER_ABSTIME),
 *                        timerfd (TFD_TIMER_ABSTIME), cond
 *                        (pthread_cond_timedwait), timer (timer_settime
 *                        TIMER_ABSTIME), or sleeprel (nanosleep of MS ms); prints
 *                        `real S` (CLOCK_MONOTONIC) and `wall S` elapsed
 *   clock sleeprem MS    nanosleep of MS ms interrupted by a signal 0.2 s (of
 *                        real time) later: `real S` elapsed and `rem S` left */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ts(struct timespec t) { return t.tv_sec + t.tv_nsec / 1e9; }

static double get(clockid_t c) {
    struct timespec t;
    if (clock_gettime(c, &t) != 0) { perror("clock_gettime"); exit(1); }
    return ts(t);
}

static void line(const char *name, double v) { printf("%s %.9f\n", name, v); }

static void now(void) {
    struct timespec t;
    struct timeval tv;
    line("vdso_realtime", get(CLOCK_REALTIME));
    line("vdso_realtime_coarse", get(CLOCK_REALTIME_COARSE));
    line("vdso_tai", get(CLOCK_TAI));
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &t);
    line("raw_realtime", ts(t));
    syscall(SYS_clock_gettime, CLOCK_REALTIME_ALARM, &t);
    line("raw_realtime_alarm", ts(t));
    gettimeofday(&tv, NULL);
    line("gettimeofday", tv.tv_sec + tv.tv_usec / 1e6);
    syscall(SYS_gettimeofday, &tv, NULL);
    line("raw_gettimeofday", tv.tv_sec + tv.tv_usec / 1e6);
    line("time", (double)time(NULL));
    line("raw_time", (double)syscall(SYS_time, NULL));
    line("monotonic", get(CLOCK_MONOTONIC));
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    line("raw_monotonic", ts(t));
    line("boottime", get(CLOCK_BOOTTIME));
}

static struct timespec deadline(int ms) {
    struct timespec d;
    clock_gettime(CLOCK_REALTIME, &d);
    d.tv_sec += ms / 1000;
    d.tv_nsec += (long)(ms % 1000) * 1000000;
    if (d.tv_nsec >= 1000000000) { d.tv_sec++; d.tv_nsec -= 1000000000; }
    return d;
}

static void wait_for(const char *kind, int ms) {
    double r0 = get(CLOCK_MONOTONIC), w0 = get(CLOCK_REALTIME);
    struct timespec d = deadline(ms);
    if (!strcmp(kind, "sleepabs")) {
        int e = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &d, NULL);
        if (e) { fprintf(stderr, "clock_nanosleep: %s\n", strerror(e)); exit(1); }
    } else if (!strcmp(kind, "sleeprel")) {
        struct timespec rel = { ms / 1000, (long)(ms % 1000) * 1000000 };
        if (nanosleep(&rel, NULL)) { perror("nanosleep"); exit(1); }
    } else if (!strcmp(kind, "timerfd")) {
        int fd = timerfd_create(CLOCK_REALTIME, 0);
        struct itimerspec it = { { 0, 0 }, d };
        uint64_t n;
        if (fd < 0 || timerfd_settime(fd, TFD_TIMER_ABSTIME, &it, NULL) || read(fd, &n, 8) != 8) {
            perror("timerfd"); exit(1);
        }
    } else if (!strcmp(kind, "cond")) {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t c = PTHREAD_COND_INITIALIZER;
        pthread_mutex_lock(&m);
        int e;
        while ((e = pthread_cond_timedwait(&c, &m, &d)) == 0) {}
        if (e != ETIMEDOUT) { fprintf(stderr, "pthread_cond_timedwait: %s\n", strerror(e)); exit(1); }
    } else if (!strcmp(kind, "timer")) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
        timer_t t;
        struct itimerspec it = { { 0, 0 }, d };
        int sig;
        if (timer_create(CLOCK_REALTIME, &ev, &t) || timer_settime(t, TIMER_ABSTIME, &it, NULL) || sigwait(&set, &sig)) {
            perror("timer"); exit(1);
        }
    } else {
        fprintf(stderr, "unknown kind %s\n", kind);
        exit(2);
    }
    line("real", get(CLOCK_MONOTONIC) - r0);
    line("wall", get(CLOCK_REALTIME) - w0);
}

static void on_alarm(int sig) { (void)sig; }

static void sleeprem(int ms) {
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 0 }, { 0, 200000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec rel = { ms / 1000, (long)(ms % 1000) * 1000000 }, rem = { -1, -1 };
    double r0 = get(CLOCK_MONOTONIC);
    if (nanosleep(&rel, &rem) == 0 || errno != EINTR) { fprintf(stderr, "nanosleep was not interrupted\n"); exit(1); }
    line("real", get(CLOCK_MONOTONIC) - r0);
    line("rem", ts(rem));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 2 && !strcmp(argv[1], "now")) {
        now();
    } else if (argc == 2 && !strcmp(argv[1], "fork")) {
        line("parent", get(CLOCK_REALTIME));
        pid_t p = fork();
        if (p == 0) {
            line("child", get(CLOCK_REALTIME));
            _exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        line("after", get(CLOCK_REALTIME));
    } else if (argc == 2 && !strcmp(argv[1], "exec")) {
        line("before", get(CLOCK_REALTIME));
        execl("/proc/self/exe", argv[0], "now", (char *)NULL);
        perror("exec");
        return 1;
    } else if (argc == 3 && !strcmp(argv[1], "sleeprem")) {
        sleeprem(atoi(argv[2]));
    } else if (argc == 3) {
        wait_for(argv[1], atoi(argv[2]));
    } else {
        fprintf(stderr, "usage: clock now|fork|exec|KIND MS\n");
        return 2;
    }
    return 0;
}
