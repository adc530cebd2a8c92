/* threads: 8 pthreads with a mutex, a condition variable and a barrier, joined with return values; the result is deterministic. */
#include <pthread.h>
#include <stdio.h>

#define N 8
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t barrier;
static unsigned long total;
static int arrived;

static void *worker(void *arg) {
    long id = (long)arg;
    unsigned long local = 0;
    for (unsigned long i = id * 1000000; i < (id + 1) * 1000000; i++)
        local += i % 7 * i % 13;
    pthread_barrier_wait(&barrier);
    pthread_mutex_lock(&mu);
    total += local;
    arrived++;
    pthread_cond_broadcast(&cv);
    while (arrived < N)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return (void *)(local % 1000 + id);
}

int main(void) {
    pthread_t th[N];
    pthread_barrier_init(&barrier, 0, N);
    for (long i = 0; i < N; i++)
        if (pthread_create(&th[i], 0, worker, (void *)i) != 0) {
            printf("pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < N; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        printf("thread %d returned %ld\n", i, (long)ret);
    }
    printf("total=%lu arrived=%d\n", total, arrived);
    return 0;
}
