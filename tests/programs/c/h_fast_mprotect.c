/* h_fast_mprotect: a thread makes the program's own code writable, writes
   a byte of it (the same value back, in padding nothing runs) and makes
   it read-only again, over and over, while two other threads make calls
   from syscall sites there that nothing ran before: 8 rounds, each over a
   block of 2048 sites (`mov eax, 39; syscall; ret`, one per 16 bytes) of
   its own. Under preld those sites are rewritten while the writer runs:
   the rewrite's own mprotect (writable, then back) must neither take the
   writer's writable page away under its write (SIGSEGV in the program)
   nor find the page made read-only under its own store (SIGSEGV in
   preld). Every getpid's result is checked. Deterministic output. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define ROUNDS 8
#define SITES 2048 /* per round: 8 pages */
#define WORKERS 2

#include "fast_sites.h"
_Static_assert(ROUNDS * SITES <= 16384, "fast_sites.h holds 16384 sites");

static atomic_int round_now, done;
static long pid;
static atomic_int wrong;
static pthread_barrier_t between;

static void spin(int n) {
    for (volatile int k = 0; k < n; k++) {
    }
}

static void *writer(void *arg) {
    (void)arg;
    while (!atomic_load(&done)) {
        char *block = fast_sites + (size_t)atomic_load(&round_now) * SITES * 16;
        size_t len = SITES * 16;
        if (mprotect(block, len, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
            perror("mprotect rwx");
            exit(2);
        }
        spin(1000);
        /* The last byte of each page: padding after a site's `ret`. */
        for (char *p = block; p < block + len; p += 4096) {
            volatile char *b = p + 4095;
            *b = *b;
        }
        if (mprotect(block, len, PROT_READ | PROT_EXEC) != 0) {
            perror("mprotect rx");
            exit(2);
        }
        spin(5000);
    }
    return NULL;
}

static void *worker(void *arg) {
    long me = (long)arg;
    for (int r = 0; r < ROUNDS; r++) {
        char *block = fast_sites + (size_t)r * SITES * 16;
        for (int pass = 0; pass < 3; pass++)
            for (int i = 0; i < SITES; i++) {
                int j = me ? SITES - 1 - i : i;
                long (*site)(void) = (long (*)(void))(block + 16 * j);
                /* Twice: a site is rewritten at its second trap. */
                if (site() != pid)
                    atomic_fetch_add(&wrong, 1);
                if (site() != pid)
                    atomic_fetch_add(&wrong, 1);
            }
        if (pthread_barrier_wait(&between) == PTHREAD_BARRIER_SERIAL_THREAD)
            atomic_store(&round_now, r + 1 < ROUNDS ? r + 1 : r);
        pthread_barrier_wait(&between);
    }
    return NULL;
}

int main(void) {
    pid = getpid();
    pthread_barrier_init(&between, NULL, WORKERS);
    pthread_t w, t[WORKERS];
    pthread_create(&w, NULL, writer, NULL);
    for (long i = 0; i < WORKERS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    atomic_store(&done, 1);
    pthread_join(w, NULL);
    printf("%d rounds of %d sites made by %d threads while a third wrote their pages: every result right: %s\n",
           ROUNDS, SITES, WORKERS, atomic_load(&wrong) == 0 ? "yes" : "no");
    return atomic_load(&wrong) != 0;
}
