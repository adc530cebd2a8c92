/* h_manythreads: starts N threads (default 6000) with 64 KiB stacks that all stay alive until every one has started (each checks getpid/gettid through raw system calls, then waits), counts them in /proc/self/task while they are all alive, releases and joins them; prints a deterministic summary. Exit 0 only if every thread started and checked out. Usage: h_manythreads [N] */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STACK (64 * 1024)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int started, bad, go;
static pid_t pid;

static void *worker(void *arg) {
    (void)arg;
    /* Raw calls, trapped under preld. */
    long p = syscall(SYS_getpid), tid = syscall(SYS_gettid);
    int ok = p == pid && tid > 0 && tid != pid;
    pthread_mutex_lock(&lock);
    started++;
    if (!ok) bad++;
    pthread_cond_broadcast(&changed);
    while (!go) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    return (void *)(long)(ok ? 1 : 2);
}

static int count_tasks(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 6000;
    pid = getpid();
    pthread_t *th = calloc(n, sizeof *th);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if ((errno = pthread_attr_setstacksize(&attr, STACK)) != 0) {
        perror("pthread_attr_setstacksize");
        return 1;
    }
    int created = 0, err = 0;
    for (; created < n; created++)
        if ((err = pthread_create(&th[created], &attr, worker, NULL)) != 0) break;
    if (err) printf("pthread_create failed after %d threads: %s\n", created, strerror(err));

    pthread_mutex_lock(&lock);
    while (started < created) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    /* Every thread is alive here: none returns before `go`. */
    int tasks = count_tasks();
    printf("threads started=%d of %d, alive at once=%s\n", created, n, tasks == created + 1 ? "yes" : "no");
    if (tasks != created + 1) printf("/proc/self/task has %d entries, expected %d\n", tasks, created + 1);

    pthread_mutex_lock(&lock);
    go = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    int joined = 0, good = 0;
    for (int i = 0; i < created; i++) {
        void *r;
        if (pthread_join(th[i], &r) == 0) {
            joined++;
            good += r == (void *)1L;
        }
    }
    printf("joined=%d, getpid/gettid right in %d, wrong in %d\n", joined, good, bad);
    /* A second round in the slots the first one left. */
    int again = 0;
    for (int i = 0; i < 100; i++) {
        pthread_t x;
        void *r;
        go = 1;
        if (pthread_create(&x, &attr, worker, NULL) == 0 && pthread_join(x, &r) == 0 && r == (void *)1L) again++;
    }
    printf("100 threads after the join: %d ok\n", again);
    return !(created == n && tasks == n + 1 && joined == n && good == n && again == 100);
}
