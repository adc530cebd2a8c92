/* Opens from many threads: TOTAL open+read+close of one file (argv[3],
 * default /etc/passwd, which -B grants as a file: every open of it is a
 * reopen of the grant's fd through the session's procfs, in the process)
 * split over THREADS threads
 * (argv[1], argv[2]: THREADS TOTAL). Prints nothing; the bench times the
 * whole run and the CPU the process tree used. In a session, issue 11's
 * 200 threads took 60 times as long as one, spinning for the server. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long per;
static const char *path;

static void *worker(void *arg) {
    (void)arg;
    char buf[256];
    for (long i = 0; i < per; i++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror(path);
            exit(1);
        }
        if (read(fd, buf, sizeof buf) < 0) {
            perror("read");
            exit(1);
        }
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long threads = argc > 1 ? atol(argv[1]) : 200;
    long total = argc > 2 ? atol(argv[2]) : 10000;
    path = argc > 3 ? argv[3] : "/etc/passwd";
    if (threads < 1 || threads > 4096 || total < threads) {
        fprintf(stderr, "usage: open_threads THREADS TOTAL [FILE]\n");
        return 2;
    }
    per = total / threads;
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    for (long i = 0; i < threads; i++) {
        int e = pthread_create(&t[i], NULL, worker, NULL);
        if (e) {
            fprintf(stderr, "pthread_create: error %d\n", e);
            return 1;
        }
    }
    for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
    return 0;
}
