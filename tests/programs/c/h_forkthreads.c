/* h_forkthreads: fork 50 times from a program whose 4 other threads are busy in system calls (getppid/read loops); each child mallocs, prints to a pipe with stdio, opens a file and leaves with _exit(0) or exit(0); the parent reads every line and reaps every child; no deadlock, deterministic summary. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUSY 4
#define FORKS 50

static atomic_int stop;
static atomic_long calls;

static void *busy(void *arg) {
    int id = (int)(long)arg;
    int fd = open("/dev/zero", O_RDONLY);
    char buf[512];
    long n = 0;
    pid_t pp = getppid();
    while (!atomic_load(&stop)) {
        if (getppid() != pp || read(fd, buf, sizeof buf) != sizeof buf) {
            fprintf(stderr, "busy thread %d: a call failed: %s\n", id, strerror(errno));
            exit(3);
        }
        if (id % 2) {
            /* Some blocking-capable calls too: a pipe round trip. */
            int p[2];
            if (pipe(p) == 0) {
                (void)!write(p[1], "x", 1);
                (void)!read(p[0], buf, 1);
                close(p[0]);
                close(p[1]);
            }
        }
        n++;
    }
    close(fd);
    atomic_fetch_add(&calls, n);
    return NULL;
}

static void child(int i, int wfd) {
    char *m = malloc(1000 + i * 100);
    if (!m) _exit(10);
    memset(m, 'a' + i % 26, 1000);
    FILE *f = fdopen(wfd, "w");
    if (!f) _exit(11);
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) _exit(12);
    char b[16];
    if (read(fd, b, sizeof b) <= 0) _exit(13);
    close(fd);
    fprintf(f, "child %02d: malloc ok (%c), open ok, pid is mine: %s\n", i, m[999],
            syscall(SYS_getpid) == getpid() && getpid() != 1 ? "yes" : "no");
    free(m);
    if (i % 2) {
        fflush(f);
        _exit(0);
    }
    exit(0); /* flushes f */
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pthread_t th[BUSY];
    for (long i = 0; i < BUSY; i++) pthread_create(&th[i], NULL, busy, (void *)i);
    usleep(20000);

    int p[2];
    if (pipe(p) != 0) return 1;
    int ok = 0, bad = 0;
    char *lines = calloc(FORKS, 128);
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            close(p[0]);
            child(i, p[1]);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid) {
            perror("waitpid");
            return 1;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
        else {
            bad++;
            printf("child %d: status %#x\n", i, st);
        }
        /* The child's line is in the pipe now (the child has exited). */
        char line[128];
        ssize_t n = read(p[0], line, sizeof line - 1);
        if (n > 0) {
            line[n] = 0;
            strcpy(lines + i * 128, line);
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < BUSY; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < FORKS; i++) fputs(lines + i * 128, stdout);
    printf("forks=%d ok=%d bad=%d busy threads made calls: %s\n", FORKS, ok, bad,
           atomic_load(&calls) > 0 ? "yes" : "no");
    return bad != 0;
}
