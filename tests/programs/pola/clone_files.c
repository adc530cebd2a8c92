//! A process of its own memory that shares its parent's fd table
//! (clone(CLONE_FILES) without CLONE_VM or a stack), in a capability
//! session: the parent's threads and the child each go on making calls
//! the capability server serves (mkdir and rmdir in DIR, a read-write
//! grant; opens of /etc/passwd, which -B grants as a file), during the
//! child's life and after it; an fd the child opens is the parent's too.
//! Usage: clone_files DIR. Prints one line per check.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *dir;

/// N rounds of server calls, each mkdir+rmdir of DIR/NAME and a read of
/// /etc/passwd's first byte: how many failed.
static int served_calls(const char *name, int n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (mkdir(path, 0755) != 0 || rmdir(path) != 0) {
            failed++;
        }
        int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
        char c;
        if (fd < 0 || read(fd, &c, 1) != 1) {
            failed++;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return failed;
}

static void *thread_main(void *arg) {
    (void)arg;
    return (void *)(long)served_calls("thread", 300);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    char shared[4096];
    snprintf(shared, sizeof shared, "%s/shared", dir);
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    printf("parent before the child: %d failed\n", served_calls("before", 50));
    long pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
    if (pid < 0) {
        perror("clone");
        return 1;
    }
    if (pid == 0) {
        // The child: its exit status is the fd it opened (or 255).
        int failed = served_calls("child", 50);
        int fd = open(shared, O_RDONLY);
        _exit(failed == 0 && fd >= 0 && fd < 255 ? fd : 255);
    }
    printf("parent while the child lives: %d failed\n", served_calls("during", 50));
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    int fd = WIFEXITED(st) ? WEXITSTATUS(st) : 255;
    printf("child's calls served: %s\n", fd != 255 ? "yes" : "no");
    char buf[16] = {0};
    printf("the child's fd is the parent's: %s\n", fd != 255 && pread(fd, buf, sizeof buf - 1, 0) > 0 && strcmp(buf, "shared\n") == 0 ? "yes" : "no");
    printf("parent after the child: %d failed\n", served_calls("after", 50));
    void *r;
    pthread_join(th, &r);
    printf("the parent's other thread: %ld failed\n", (long)r);
    return 0;
}
