/* h_fast_threads: syscall sites executed first by threads running side by
   side, so preld rewrites them while other threads are executing them.
   8 threads leave a barrier together; each makes 20,000 rounds of getppid,
   getuid, geteuid, getgid, getegid, gettid and a write then read on a pipe
   of its own, through glibc's wrappers (whose sites nothing ran before),
   and checks every result against what syscall(2), a site of its own, said
   in main. Deterministic output. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define THREADS 8
#define ROUNDS 20000

static long want_ppid, want_uid, want_euid, want_gid, want_egid;
static pthread_barrier_t start;
static int wrong[THREADS];

static void *worker(void *arg) {
    int me = (int)(long)arg;
    int p[2];
    if (pipe(p) != 0) {
        wrong[me] = -1;
        return NULL;
    }
    long tid = syscall(SYS_gettid);
    pthread_barrier_wait(&start);
    for (int i = 0; i < ROUNDS; i++) {
        char out[16], in[16] = {0};
        int n = snprintf(out, sizeof out, "%d:%d", me, i);
        wrong[me] += getppid() != want_ppid;
        wrong[me] += getuid() != want_uid;
        wrong[me] += geteuid() != want_euid;
        wrong[me] += getgid() != want_gid;
        wrong[me] += getegid() != want_egid;
        wrong[me] += gettid() != tid;
        wrong[me] += write(p[1], out, n) != n;
        wrong[me] += read(p[0], in, sizeof in) != n || memcmp(in, out, n) != 0;
    }
    close(p[0]);
    close(p[1]);
    return NULL;
}

int main(void) {
    want_ppid = syscall(SYS_getppid);
    want_uid = syscall(SYS_getuid);
    want_euid = syscall(SYS_geteuid);
    want_gid = syscall(SYS_getgid);
    want_egid = syscall(SYS_getegid);
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    int bad = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        bad += wrong[i];
    }
    printf("%d threads, %d rounds each, every result right: %s\n", THREADS, ROUNDS, bad == 0 ? "yes" : "no");
    return bad != 0;
}
