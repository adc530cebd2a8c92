/* h_fast_fork: the main thread forks over and over while two others make
   calls from syscall sites nothing ran before (16,384 of them, `mov eax,
   39; syscall; ret` one per 16 bytes), which preld rewrites meanwhile.
   Each child reads /proc/self/maps: no mapping may be writable and
   executable (a fork in the middle of a rewrite left the child the page
   of code the rewrite had made writable, for good). Deterministic
   output. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SITES 16384
#define WORKERS 2

#include "fast_sites.h"
_Static_assert(SITES <= 16384, "fast_sites.h holds 16384 sites");

static atomic_int finished, wrong;
static long pid;

static void *worker(void *arg) {
    long me = (long)arg;
    for (int i = 0; i < SITES; i++) {
        int j = me ? SITES - 1 - i : i;
        long (*site)(void) = (long (*)(void))(fast_sites + 16 * j);
        /* Twice: a site is rewritten at its second trap. */
        if (site() != pid)
            atomic_fetch_add(&wrong, 1);
        if (site() != pid)
            atomic_fetch_add(&wrong, 1);
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

int main(void) {
    pid = getpid();
    pthread_t t[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    int writable = 0, failed = 0;
    while (atomic_load(&finished) < WORKERS) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            return 2;
        }
        if (p == 0) {
            FILE *f = fopen("/proc/self/maps", "r");
            if (!f)
                _exit(2);
            char line[512];
            int rwx = 0;
            while (fgets(line, sizeof line, f))
                if (strstr(line, " rwx")) {
                    rwx = 1;
                    fprintf(stderr, "child: %s", line);
                }
            _exit(rwx);
        }
        int st;
        if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) > 1)
            failed++;
        else
            writable += WEXITSTATUS(st);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    printf("children with code writable: %s; children failed: %d; every result right: %s\n",
           writable ? "some" : "none", failed, atomic_load(&wrong) == 0 ? "yes" : "no");
    return writable || failed || wrong;
}
