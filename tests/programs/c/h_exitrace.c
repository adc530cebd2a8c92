// A process that ends (exit_group) while another of its threads is creating
// threads: under `preld trace -f` the exit line of every other thread is
// written at exit_group, which once read the thread block of a slot that a
// new thread had claimed but not yet made accessible (SIGSEGV in preld, the
// process killed by SIGSEGV instead of exiting). Forks ROUNDS children; each
// starts a spawner thread that creates threads as fast as it can, then
// exits from the main thread after a moment; every child must exit 0.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *idle(void *arg) {
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void *spawner(void *arg) {
    (void)arg;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (int i = 0; i < 4000; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, idle, NULL) != 0)
            break;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int ok = 0, bad = 0;
    for (int r = 0; r < rounds; r++) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            pthread_t s;
            pthread_create(&s, NULL, spawner, NULL);
            // A moment for the spawner to be in the middle of creating.
            struct timespec ts = {0, 200000 + (r % 10) * 100000};
            nanosleep(&ts, NULL);
            exit(0);
        }
        int st;
        waitpid(p, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
        else {
            bad++;
            if (bad <= 3)
                printf("child %d: %s %d\n", r, WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        }
    }
    printf("rounds=%d exited=%d other=%d\n", rounds, ok, bad);
    return bad != 0;
}
