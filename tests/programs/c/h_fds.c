/* h_fds: a program that closes every fd (close_range(3, ~0U) and close() of 3..65535), then keeps working (files, pipes, a thread, fork+exec), and dup2s stdout onto high fd numbers (1010, the top of the fd limit) whose writes must reach stdout; preld's own fds must stay invisible. Usage: h_fds closeall|high|limit */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* The open fds below `limit`, as fcntl sees them. */
static void show_open(const char *when, int limit) {
    printf("%s: open fds:", when);
    int n = 0;
    for (int fd = 0; fd < limit; fd++)
        if (fcntl(fd, F_GETFD) != -1) {
            if (n++ < 20) printf(" %d", fd);
        } else if (errno != EBADF) {
            printf(" (fcntl(%d): %s)", fd, strerrorname_np(errno));
        }
    printf(" (%d)\n", n);
}

static void *thread_body(void *arg) {
    (void)arg;
    int fd = open("/proc/self/stat", O_RDONLY);
    char b[8];
    long ok = fd >= 0 && read(fd, b, sizeof b) == sizeof b && close(fd) == 0;
    return (void *)ok;
}

/* Files, pipes and a thread; new fds get the lowest free numbers, from `low`. */
static int work(int low) {
    int fd = open("/proc/self/status", O_RDONLY);
    char b[64];
    int ok = fd == low && read(fd, b, sizeof b) == sizeof b;
    int p[2];
    ok &= pipe(p) == 0 && p[0] == low + 1 && p[1] == low + 2 && write(p[1], "hi", 2) == 2 && read(p[0], b, 2) == 2;
    close(p[0]);
    close(p[1]);
    close(fd);
    pthread_t t;
    void *r = NULL;
    ok &= pthread_create(&t, NULL, thread_body, NULL) == 0 && pthread_join(t, &r) == 0 && r == (void *)1;
    return ok;
}

static void closeall(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int soft = (int)(rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur);
    for (int i = 0; i < 5; i++) open("/dev/null", O_RDONLY);
    dup2(1, 200);
    errno = 0;
    int r = syscall(SYS_close_range, 3, ~0U, 0);
    printf("close_range(3, ~0U, 0): %d %s\n", r, r ? strerrorname_np(errno) : "");
    printf("still working: %s\n", yesno(work(3)));
    /* The same numbers again, closed one by one. */
    for (int i = 0; i < 5; i++) open("/dev/null", O_RDONLY);
    int closed = 0, ebadf = 0;
    for (int fd = 3; fd < 65536; fd++) {
        if (close(fd) == 0)
            closed++;
        else if (errno == EBADF)
            ebadf++;
    }
    printf("close(3..65535): %d closed, the rest EBADF: %s\n", closed, yesno(closed + ebadf == 65536 - 3));
    show_open("after the close loop", soft);
    printf("still working: %s\n", yesno(work(3)));
    /* CLOSE_RANGE_CLOEXEC over everything above stderr, then exec. */
    for (int i = 0; i < 5; i++) open("/dev/null", O_RDONLY);
    r = syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
    printf("close_range(3, ~0U, CLOEXEC): %d\n", r);
    fflush(stdout);
    r = system("echo exec after closing everything: ok");
    printf("system: exit %d\n", WEXITSTATUS(r));
    pid_t pid = fork();
    if (pid == 0) {
        syscall(SYS_close_range, 0, ~0U, 0);
        _exit(work(0) ? 0 : 1); /* no stdout at all: only the status says */
    }
    int st;
    waitpid(pid, &st, 0);
    printf("fork child closing 0..~0U and working: exit %d\n", WEXITSTATUS(st));
}

static void high(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int soft = (int)(rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur);
    char line[64];
    int r = dup2(1, 1010);
    int n = snprintf(line, sizeof line, "dup2(1, 1010) = %d: written through 1010\n", r);
    if (write(1010, line, n) != n) printf("write(1010): %s\n", strerror(errno));
    close(1010);
    /* Every one of the top 24 fd numbers under the limit. */
    int good = 0;
    for (int fd = soft - 24; fd < soft; fd++) {
        errno = 0;
        int d = dup2(1, fd);
        if (d != fd) {
            printf("dup2(1, limit-%d) = %d %s\n", soft - fd, d, strerrorname_np(errno));
            continue;
        }
        n = snprintf(line, sizeof line, "written through limit-%d\n", soft - fd);
        if (write(fd, line, n) == n) good++;
    }
    printf("dup2 onto the top 24 fds: %d written\n", good);
    show_open("with the top 24 fds open", soft);
    for (int fd = soft - 24; fd < soft; fd++) {
        n = snprintf(line, sizeof line, "again through limit-%d\n", soft - fd);
        if (write(fd, line, n) != n) printf("write(limit-%d): %s\n", soft - fd, strerror(errno));
    }
    for (int fd = soft - 24; fd < soft; fd++) close(fd);
    /* dup3 and F_DUPFD_CLOEXEC at the limit. */
    r = dup3(1, soft - 1, O_CLOEXEC);
    printf("dup3(1, limit-1, O_CLOEXEC) is limit-1: %s, FD_CLOEXEC: %s\n", yesno(r == soft - 1),
           yesno(fcntl(soft - 1, F_GETFD) == FD_CLOEXEC));
    close(soft - 1);
    errno = 0;
    r = dup2(1, soft);
    printf("dup2(1, limit): %d %s\n", r, strerrorname_np(errno));
    printf("still working: %s\n", yesno(work(3)));
}

/* Filling the fd table to the limit: every number is the program's. */
static void limit(void) {
    struct rlimit rl = {1024, 1024};
    /* A soft limit under the hard one, as on most systems (1024 of 524288):
     * preld's fds then live above it. (With soft = hard, preld has no room
     * above and takes slots at the top of the table.) */
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max > 1024) {
        rl.rlim_cur = 1024;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int soft = (int)(rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur);
    int got = 0, first = -1, last = -1;
    for (;;) {
        int fd = fcntl(1, F_DUPFD, soft - 40);
        if (fd < 0) {
            printf("F_DUPFD from limit-40 until it fails: %s after %d fds\n", strerrorname_np(errno), got);
            break;
        }
        if (first < 0) first = fd;
        last = fd;
        got++;
    }
    printf("first is limit-40: %s, last is limit-1: %s\n", yesno(first == soft - 40), yesno(last == soft - 1));
    for (int fd = soft - 40; fd < soft; fd++) close(fd);
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    printf("entries of /proc/self/fd (0, 1, 2 and the directory's own): %d\n", n);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *g = argc > 1 ? argv[1] : "";
    if (strcmp(g, "closeall") == 0)
        closeall();
    else if (strcmp(g, "high") == 0)
        high();
    else if (strcmp(g, "limit") == 0)
        limit();
    else {
        fprintf(stderr, "usage: h_fds closeall|high|limit\n");
        return 2;
    }
    return 0;
}
