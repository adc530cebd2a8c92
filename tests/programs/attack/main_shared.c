/* A process with one thread makes its requests on its main connection
 * (rpc.rs MAIN_ALONE), which every thread also uses, under a lock, to ask
 * for a connection of its own. Before the first clone that shares the
 * memory, the thread that used it so gets its own (`memory_shared`). Here
 * that clone is made by a vfork child (clone(CLONE_VM) of a grandchild
 * process), while the parent, which used the main connection, waits for
 * the vfork: the parent must not go on making its requests on the main
 * connection without the lock, where its threads then ask for theirs
 * (replies crossed: EIO, a Connect's fd taken as a reply's).
 * The parent then starts threads, each making requests at once, while it
 * makes its own. Any failure but the expected ones prints `WRONG:`.
 * argv: secret ro rw */
#define _GNU_SOURCE
#include "attack.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *rw_dir;
static long wrong;

static int grandchild(void *arg) {
    (void)arg;
    return 0;
}

static void work(int who, int rounds) {
    char p[4096];
    for (int k = 0; k < rounds; k++) {
        snprintf(p, sizeof p, "%s/m%d_%d", rw_dir, who, k);
        if (mkdir(p, 0755) != 0) {
            if (__atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED) < 10) printf("WRONG: mkdir %s: %s\n", p, strerror(errno));
            continue;
        }
        struct stat st;
        if (stat(p, &st) != 0 && __atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED) < 10) printf("WRONG: stat %s: %s\n", p, strerror(errno));
        if (rmdir(p) != 0 && __atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED) < 10) printf("WRONG: rmdir %s: %s\n", p, strerror(errno));
    }
    fflush(stdout);
}

static void *thread(void *arg) {
    work((int)(long)arg, 5);
    return NULL;
}

int main(int argc, char **argv) {
    ARGS
    rw_dir = rw;
    work(0, 3); /* on the main connection */
    static char stack[1 << 16];
    pid_t v = vfork();
    if (v == 0) {
        pid_t g = clone(grandchild, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL);
        (void)g;
        _exit(0);
    }
    waitpid(-1, NULL, 0);
    waitpid(-1, NULL, __WALL);
    for (int round = 0; round < 40; round++) {
        pthread_t th[4];
        for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, thread, (void *)(1 + round * 4 + i));
        work(1000 + round, 5);
        for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    }
    printf("main_shared: %ld wrong\nmain_shared: done\n", wrong);
    return 0;
}
