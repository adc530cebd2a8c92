/* h_threads200: 200 threads started together each make 1000 rounds of getpid/open/read/close on one file and check every result; joined, they print a deterministic summary. Usage: h_threads200 FILE [THREADS ROUNDS] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path;
static char expect[256];
static ssize_t expect_len;
static pid_t pid;
static int rounds;
static pthread_barrier_t start;

struct result {
    long ok;
    long bad_pid, bad_open, bad_read, bad_close;
    int first_errno;
};

static void *worker(void *arg) {
    struct result *r = arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < rounds; i++) {
        /* The raw call: glibc's getpid does not cache, but be sure. */
        if (syscall(SYS_getpid) != pid) {
            r->bad_pid++;
            continue;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            r->bad_open++;
            if (!r->first_errno) r->first_errno = errno;
            continue;
        }
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n != expect_len || memcmp(buf, expect, n) != 0) {
            r->bad_read++;
            if (!r->first_errno) r->first_errno = n < 0 ? errno : -1;
        }
        if (close(fd) != 0) {
            r->bad_close++;
            if (!r->first_errno) r->first_errno = errno;
            continue;
        }
        r->ok++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: h_threads200 FILE [THREADS ROUNDS]\n");
        return 2;
    }
    path = argv[1];
    int nthreads = argc == 4 ? atoi(argv[2]) : 200;
    rounds = argc == 4 ? atoi(argv[3]) : 1000;
    pid = getpid();
    int fd = open(path, O_RDONLY);
    if (fd < 0 || (expect_len = read(fd, expect, sizeof expect)) <= 0) {
        perror(path);
        return 1;
    }
    close(fd);

    pthread_t *th = calloc(nthreads, sizeof *th);
    struct result *res = calloc(nthreads, sizeof *res);
    pthread_barrier_init(&start, NULL, nthreads + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < nthreads; i++)
        if ((errno = pthread_create(&th[i], &attr, worker, &res[i])) != 0) {
            fprintf(stderr, "pthread_create %d: %s\n", i, strerror(errno));
            return 1;
        }
    pthread_barrier_wait(&start);
    long ok = 0, bad = 0;
    int shown = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        struct result *r = &res[i];
        ok += r->ok;
        long b = r->bad_pid + r->bad_open + r->bad_read + r->bad_close;
        bad += b;
        if (b && shown++ < 5)
            printf("thread %d: bad pid=%ld open=%ld read=%ld close=%ld first error: %s\n", i, r->bad_pid,
                   r->bad_open, r->bad_read, r->bad_close,
                   r->first_errno > 0 ? strerror(r->first_errno) : "short or wrong read");
    }
    printf("threads=%d rounds=%d good rounds=%ld bad rounds=%ld\n", nthreads, rounds, ok, bad);
    return bad != 0;
}
