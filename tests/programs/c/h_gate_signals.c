/* Signals that come while preld serves a call in the fast path's handler
 * gate (a session's stat and open beneath a grant, a traced getppid): each
 * must reach its handler once, with its own siginfo, in order for queued
 * ones, and a one-shot (SA_RESETHAND) handler must run rather than the
 * default action. Timer signals every 37 us land in the gate often. (A
 * one-shot handler for the timer would race natively: a signal generated
 * between the kernel's reset and its blocking of the signal is fatal.) */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static volatile long alarms, bad_alarm, queued_seen, queued_bad, usr1, oneshot_sent, oneshot_seen, oneshot_bad;

static void on_alarm(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (sig != SIGALRM || si->si_signo != SIGALRM || si->si_code != SI_KERNEL)
        bad_alarm++;
    alarms++;
}

static void on_queued(int sig, siginfo_t *si, void *uc) {
    (void)sig; (void)uc;
    if (si->si_code != SI_QUEUE || si->si_value.sival_int != queued_seen || si->si_pid != getpid())
        queued_bad++;
    queued_seen++;
}

static void on_usr1(int sig) { (void)sig; usr1++; }

static void set_oneshot(void);

/* A one-shot handler (SA_RESETHAND) set again each time, before the
 * sender is told it may send the next one. */
static void on_oneshot(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    if (sig != SIGUSR2 || si->si_code != SI_TKILL)
        oneshot_bad++;
    set_oneshot();
    oneshot_seen++;
}

static void set_oneshot(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_oneshot;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_RESTART;
    sigaction(SIGUSR2, &sa, NULL);
}

static pthread_t main_thread;
static volatile int done;

static void *poker(void *arg) {
    (void)arg;
    while (!done) {
        pthread_kill(main_thread, SIGUSR1);
        if (oneshot_seen == oneshot_sent) {
            oneshot_sent++;
            pthread_kill(main_thread, SIGUSR2);
        }
        usleep(100);
    }
    return NULL;
}

static long wrong;
static int dir;
static struct stat ref;
static pid_t ppid;

/* The calls (through preld's handler gate once their sites are rewritten). */
static void one_round(void) {
    struct stat st;
    char buf[4096];
    if (syscall(SYS_getppid) != ppid)
        wrong++;
    if (stat("/usr/include/stdio.h", &st) != 0 || st.st_ino != ref.st_ino)
        wrong++;
    if (fstatat(dir, "stdio.h", &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_size != ref.st_size)
        wrong++;
    int fd = openat(dir, "linux", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syscall(SYS_getdents64, fd, buf, sizeof buf) <= 0)
        wrong++;
    close(fd);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    set_oneshot();
    sa.sa_sigaction = on_queued;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN, &sa, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);

    dir = open("/usr/include", O_RDONLY | O_DIRECTORY);
    if (dir < 0 || stat("/usr/include/stdio.h", &ref) != 0) {
        perror("/usr/include/stdio.h");
        return 1;
    }
    ppid = getppid();
    /* While the process has one thread, so that preld rewrites the sites. */
    for (int i = 0; i < 4; i++)
        one_round();
    main_thread = pthread_self();
    /* The timer's and the queued signals are for the main thread only
     * (the poker must not take a SIGALRM between a one-shot handler's
     * reset and its setting again). */
    sigset_t for_main, old;
    sigemptyset(&for_main);
    sigaddset(&for_main, SIGALRM);
    sigaddset(&for_main, SIGRTMIN);
    pthread_sigmask(SIG_BLOCK, &for_main, &old);
    pthread_t t;
    pthread_create(&t, NULL, poker, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    struct itimerval it = {{0, 37}, {0, 37}};
    setitimer(ITIMER_REAL, &it, NULL);

    long sent = 0;
    for (long i = 0; i < n; i++) {
        one_round();
        if (i % 64 == 0) {
            union sigval v = {.sival_int = (int)sent++};
            if (sigqueue(getpid(), SIGRTMIN, v) != 0)
                wrong++;
        }
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    done = 1;
    pthread_join(t, NULL);
    for (int k = 0; k < 1000 && (queued_seen != sent || oneshot_seen != oneshot_sent); k++)
        usleep(1000);
    printf("calls right through the signals: %s\n", wrong ? "no" : "yes");
    printf("timer signals, each to its handler with its siginfo: %s\n", alarms > 0 && !bad_alarm ? "yes" : "no");
    printf("one-shot handlers run, none lost: %s\n", oneshot_seen > 0 && oneshot_seen == oneshot_sent && !oneshot_bad ? "yes" : "no");
    printf("queued signals in order, none lost: %s\n", queued_seen == sent && !queued_bad ? "yes" : "no");
    printf("signals from another thread handled: %s\n", usr1 > 0 ? "yes" : "no");
    return 0;
}
