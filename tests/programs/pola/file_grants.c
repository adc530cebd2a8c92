/* file_grants PATH...: what a program sees of files granted one by one
 * (-B's /etc files, --ro FILE, --exec FILE), which a session opens and
 * stats in the process itself (handler/src/beneath.rs, modes f and e):
 * for each PATH, the ways of opening, stat'ing, testing and naming it and
 * the paths through it, each from 4 threads at once, printed so that a
 * native run and a session's compare line by line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

/* FNV-1a of the file's bytes, read through fd. */
static unsigned long sum(int fd, long *len) {
    unsigned long h = 1469598103934665603ul;
    char buf[4096];
    long n, total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n; i++) h = (h ^ (unsigned char)buf[i]) * 1099511628211ul;
        total += n;
    }
    *len = n < 0 ? -1 : total;
    return h;
}

static void look(const char *path, FILE *out) {
    struct stat a, b, c;
    struct statx x;
    char tmp[4200], link[4200];
    long len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    fprintf(out, "%s: open %s", path, err(fd));
    if (fd >= 0) {
        unsigned long h = sum(fd, &len);
        snprintf(tmp, sizeof tmp, "/proc/self/fd/%d", fd);
        long n = readlink(tmp, link, sizeof link - 1);
        link[n > 0 ? n : 0] = 0;
        fprintf(out, ", %ld bytes, sum %lx, /proc/self/fd names %s", len, h, link);
        close(fd);
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    fprintf(out, "\n  O_NOFOLLOW %s", err(fd));
    if (fd >= 0) close(fd);
    fd = open(path, O_RDONLY | O_DIRECTORY);
    fprintf(out, ", O_DIRECTORY %s", err(fd));
    if (fd >= 0) close(fd);
    fd = open(path, O_PATH);
    fprintf(out, ", O_PATH %s", err(fd));
    if (fd >= 0) {
        struct stat p = {0};
        long r = fstat(fd, &p);
        fprintf(out, " (fstat %s, size %ld)", err(r), (long)p.st_size);
        close(fd);
    }
    long rs = stat(path, &a), rl = lstat(path, &b), rf = fstatat(AT_FDCWD, path, &c, 0);
    long rx = statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &x);
    fprintf(out, "\n  stat %s lstat %s fstatat %s statx %s", err(rs), err(rl), err(rf), err(rx));
    if (rs == 0 && rl == 0 && rf == 0 && rx == 0)
        fprintf(out, ": mode %o size %ld ino %lu nlink %lu, same in all four: %s", a.st_mode, (long)a.st_size, (unsigned long)a.st_ino,
                (unsigned long)a.st_nlink,
                a.st_ino == b.st_ino && a.st_ino == c.st_ino && a.st_ino == x.stx_ino && a.st_size == b.st_size && a.st_mode == x.stx_mode ? "yes" : "no");
    fprintf(out, "\n  access F_OK %s R_OK %s", err(access(path, F_OK)), err(access(path, R_OK)));
    fprintf(out, ", readlink %s", err(readlink(path, link, sizeof link)));
    snprintf(tmp, sizeof tmp, "%s/", path);
    fprintf(out, "\n  %s: open %s, stat %s", tmp, err(open(tmp, O_RDONLY)), err(stat(tmp, &a)));
    snprintf(tmp, sizeof tmp, "%s/x", path);
    fprintf(out, "; %s: open %s, stat %s\n", tmp, err(open(tmp, O_RDONLY)), err(stat(tmp, &a)));
}

static char **paths;
static int npaths;
static char *outs[4];

static void *worker(void *arg) {
    long i = (long)arg;
    size_t size;
    FILE *out = open_memstream(&outs[i], &size);
    for (int round = 0; round < 50; round++)
        for (int k = 0; k < npaths; k++) {
            if (round == 0) look(paths[k], out);
            else {
                FILE *null = fopen("/dev/null", "w");
                look(paths[k], null);
                fclose(null);
            }
        }
    fclose(out);
    return NULL;
}

int main(int argc, char **argv) {
    paths = argv + 1;
    npaths = argc - 1;
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    fputs(outs[0], stdout);
    for (int i = 1; i < 4; i++) printf("thread %d saw the same: %s\n", i, strcmp(outs[i], outs[0]) == 0 ? "yes" : "no");
    return 0;
}
