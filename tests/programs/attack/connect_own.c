/* The capability server's new Unix socket operations (ConnectOwn, SendUnix,
 * the names of sockets it bound), made to hold or exhaust the server:
 *   - ConnectOwn: the server connects the program's own non-blocking
 *     socket itself, after looking at O_NONBLOCK, a flag of the open file
 *     the program shares; a thread clears it meanwhile, and the listener's
 *     backlog is full: a connect made in the event loop would wait, and
 *     every client of the session with it (a probe thread times the
 *     server's answers; the attack releases it by accepting);
 *   - binds below a subdirectory of the rw grant /tmp, many of them: the
 *     server kept a directory fd for every name it bound, until its fd
 *     table was full (a child's requests failed with EMFILE);
 *   - SendUnix and ConnectOwn with an AF_INET socket, a listening socket,
 *     the listener's own name.
 * ESCAPE: the server held (no answer for 3 s) or failed a child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static volatile int race_fd = -1, stop, listener = -1, released;
static volatile double last_answer;

static void *toggler(void *x) {
    (void)x;
    while (!stop) {
        int s = race_fd;
        if (s >= 0) { fcntl(s, F_SETFL, O_NONBLOCK); fcntl(s, F_SETFL, 0); }
    }
    return 0;
}
/* A request the server answers (mkdir and rmdir in /tmp), every 20 ms. */
static void *prober(void *x) {
    (void)x;
    while (!stop) {
        mkdir("/tmp/probe", 0700);
        rmdir("/tmp/probe");
        last_answer = now();
        usleep(20000);
    }
    return 0;
}
static void release(void) {
    released = 1;
    fcntl(listener, F_SETFL, O_NONBLOCK);
    for (int k = 0; k < 64; k++) {
        int c = accept4(listener, 0, 0, SOCK_NONBLOCK);
        if (c < 0) break;
        close(c);
    }
}
static void *watchdog(void *x) {
    double until = *(double *)x;
    while (!stop) {
        usleep(100000);
        double d = now() - last_answer;
        if (d > 3.0) {
            printf("no answer from the server for %.1fs ESCAPE: a ConnectOwn raced to blocking held the server for every client\n", d);
            fflush(stdout);
            release();
            return 0;
        }
        if (now() > until) {
            /* The race's connect waits, as a blocking connect does: let it end. */
            release();
            return 0;
        }
    }
    return 0;
}

static void nonblock_race(void) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "/tmp/listener");
    unlink(a.sun_path);
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(listener, (void *)&a, sizeof a) < 0 || listen(listener, 0) < 0) {
        printf("race: no listener: %s\n", strerror(errno));
        return;
    }
    for (int i = 0; i < 8; i++) {
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(c, (void *)&a, sizeof a) < 0) { close(c); break; }
    }
    last_answer = now();
    double start = now(), until = start + 12;
    pthread_t t, p, w;
    pthread_create(&p, 0, prober, 0);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    race_fd = s;
    pthread_create(&t, 0, toggler, 0);
    pthread_create(&w, 0, watchdog, &until);
    long tries = 0;
    while (!released && now() < until) {
        tries++;
        if (connect(s, (void *)&a, sizeof a) == 0) break;
    }
    stop = 1;
    pthread_join(t, 0);
    pthread_join(p, 0);
    pthread_join(w, 0);
    printf("race: %ld connects in %.1fs\n", tries, now() - start);
    fflush(stdout);
    close(s);
}

static int child_probe(const char *what) {
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        int fd = open("/tmp/child-probe", O_RDWR | O_CREAT, 0600);
        if (fd < 0) { printf("%s: a child's open O_CREAT: %s\n", what, strerror(errno)); fflush(stdout); _exit(1); }
        close(fd);
        unlink("/tmp/child-probe");
        _exit(0);
    }
    int st = 0;
    if (k < 0 || waitpid(k, &st, 0) < 0) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void bind_many(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    long n = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 60000 ? 60000 : (long)rl.rlim_max + 1000;
    mkdir("/tmp/d", 0700);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "/tmp/d/s");
    long i = 0;
    int err = 0;
    double start = now();
    for (; i < n && now() - start < 12; i++) {
        int s = socket(AF_UNIX, SOCK_DGRAM, 0);
        int r = bind(s, (void *)&a, sizeof a);
        err = errno;
        close(s);
        if (r < 0) break;
        unlink(a.sun_path);
    }
    printf("binds below /tmp/d: %ld of %ld%s%s\n", i, n, i < n ? ", then " : "", i < n ? strerror(err) : "");
    int ok = child_probe("after the binds");
    if (!ok || (i < n && err == EMFILE))
        printf("ESCAPE: binds filled the server's fd table: its requests fail for every client\n");
    fflush(stdout);
}

static void odd_sockets(void) {
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "/tmp/listener");
    int in = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    long r = in < 0 ? -errno : sendto(in, "x", 1, 0, (void *)&a, sizeof a) < 0 ? -errno : 0;
    printf("sendto from an AF_INET socket: %s\n", r ? strerror((int)-r) : "sent");
    r = in < 0 ? -errno : connect(in, (void *)&a, sizeof a) < 0 ? -errno : 0;
    printf("connect of an AF_INET socket: %s\n", r ? strerror((int)-r) : "connected");
    int l2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un b = { .sun_family = AF_UNIX };
    snprintf(b.sun_path, sizeof b.sun_path, "/tmp/l2");
    unlink(b.sun_path);
    if (bind(l2, (void *)&b, sizeof b) == 0 && listen(l2, 4) == 0) {
        r = connect(l2, (void *)&a, sizeof a) < 0 ? -errno : 0;
        printf("connect of a listening socket: %s\n", r ? strerror((int)-r) : "connected");
        r = connect(l2, (void *)&b, sizeof b) < 0 ? -errno : 0;
        printf("connect of a listening socket to itself: %s\n", r ? strerror((int)-r) : "connected");
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    (void)argc; (void)argv;
    nonblock_race();
    odd_sockets();
    bind_many();
    if (child_probe("at the end")) printf("a child's request at the end: answered\n");
    return 0;
}
