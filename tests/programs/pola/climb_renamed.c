/* climb_renamed: `..` from a directory's fd while another thread moves
 * that directory back and forth (DIR, argv[1], granted read-write, holds
 * p1/x, p1/m and p2/m). Natively, and through the server (whose renames
 * and walks take turns), the fd's `..` is always one of the two parents:
 * openat(fd, "../m") and fstatat of it never fail. Prints the failures
 * and their errno names. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_int stop;

static void *mover(void *arg) {
    (void)arg;
    while (!atomic_load(&stop))
        if (rename("p1/x", "p2/x") == 0 && rename("p2/x", "p1/x")) {
            perror("rename back");
            break;
        }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1])) {
        perror("climb_renamed DIR");
        return 2;
    }
    int fd = open("p1/x", O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        perror("p1/x");
        return 2;
    }
    pthread_t t;
    pthread_create(&t, NULL, mover, NULL);
    int failed = 0, first = 0;
    for (int i = 0; i < 5000; i++) {
        struct stat st;
        int m = openat(fd, "../m", O_RDONLY | O_CLOEXEC);
        if (m >= 0)
            close(m);
        int e = m < 0 ? errno : fstatat(fd, "../m", &st, 0) ? errno : 0;
        if (e && !failed++)
            first = e;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("failed %d%s%s\n", failed, failed ? ", first " : "", failed ? strerrorname_np(first) : "");
    return 0;
}
