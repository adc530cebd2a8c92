/* Threads that end while other threads create threads, from several
 * creators at once: each pthread_create first reaps the slots of threads
 * that are gone, and two creators reaping at once both saw a slot dead;
 * the second freed it again after the first had given it to its new
 * thread, so two new threads shared one thread block (Go's
 * syscall.TestSetuidEtc in a session died of SIGSEGV 1 run in 10 to 40).
 * CREATORS threads each create and join ROUNDS short threads; every short
 * thread checks, over a few calls, that the tid the kernel gives it stays
 * its own (a shared block mixes them up, or crashes).
 * VFORKERS more threads (third argument, default 0) each vfork ROUNDS
 * children that end with a raw exit, as Go's ForkExec does when the exec
 * fails: the child's exit marked its block dead, and a creator's reap
 * (tgkill finds no such thread in this process) freed it while its parent
 * still held it, then the parent freed it again under a new thread (Go's
 * syscall tests in a session: "morestack on g0", SIGSEGV, hangs, 1 run in
 * 60). Prints the counts. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_long made, wrong, vforked, vfork_bad;
static long rounds = 2000;

static void *short_one(void *arg) {
    (void)arg;
    long me = syscall(SYS_gettid);
    for (int i = 0; i < 20; i++) {
        if (syscall(SYS_gettid) != me || gettid() != me) atomic_fetch_add(&wrong, 1);
        syscall(SYS_getppid);
    }
    atomic_fetch_add(&made, 1);
    return NULL;
}

static void *creator(void *arg) {
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_one, NULL)) { perror("pthread_create"); exit(2); }
        pthread_join(t, NULL);
    }
    return NULL;
}

static void *vforker(void *arg) {
    (void)arg;
    for (long r = 0; r < rounds; r++) {
        pid_t p = vfork();
        if (p == 0) syscall(SYS_exit, 7);
        int st;
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
            atomic_fetch_add(&vfork_bad, 1);
        else
            atomic_fetch_add(&vforked, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int creators = argc > 1 ? atoi(argv[1]) : 4;
    if (argc > 2) rounds = atol(argv[2]);
    int vforkers = argc > 3 ? atoi(argv[3]) : 0;
    pthread_t c[64], v[64];
    if (creators < 1 || creators > 64 || vforkers < 0 || vforkers > 64) return 2;
    for (int i = 0; i < vforkers; i++) pthread_create(&v[i], NULL, vforker, NULL);
    for (int i = 0; i < creators; i++) pthread_create(&c[i], NULL, creator, NULL);
    for (int i = 0; i < creators; i++) pthread_join(c[i], NULL);
    for (int i = 0; i < vforkers; i++) pthread_join(v[i], NULL);
    printf("creators=%d threads=%ld wrong=%ld\n", creators, (long)made, (long)wrong);
    if (vforkers) printf("vforkers=%d children=%ld bad=%ld\n", vforkers, (long)vforked, (long)vfork_bad);
    return 0;
}
