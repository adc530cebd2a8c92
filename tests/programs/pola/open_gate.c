/* open_gate: opens for reading by absolute paths and beside directory fds,
 * and stats by absolute paths, as a session's fast path makes them in its
 * session open and stat gates (arch's
 * fast_gate_session_open: the path read where its page is known readable,
 * matched against the grants, openat2 from the grant's copy) or sends
 * them on to the handler: each path through open and openat with each
 * set of flags, twice (the first may teach the handler the path's page,
 * the second then takes the gate), the answer printed as the errno's
 * name or what the fd is (device, inode, its /proc/self/fd link,
 * close-on-exec, status flags). Then the paths placed at page edges: the
 * grant's name across a page boundary, the path ending just before an
 * unmapped page, a page unmapped and mapped again with another path
 * (the mappings' generation moves), an unmapped path, NULL.
 * argv: DIR (a granted directory holding `file`, `sub/file`, `link` ->
 * file, `dirlink` -> sub, `fifo`) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void answer(const char *how, long fd) {
    if (fd < 0) {
        printf("  %s %s\n", how, strerrorname_np(errno));
        return;
    }
    struct stat st;
    char link[256] = "", name[64];
    snprintf(name, sizeof name, "/proc/self/fd/%ld", fd);
    ssize_t n = readlink(name, link, sizeof link - 1);
    if (n >= 0)
        link[n] = 0;
    int fdflags = fcntl((int)fd, F_GETFD), fl = fcntl((int)fd, F_GETFL);
    int ok = fstat((int)fd, &st) == 0;
    printf("  %s ok %s cloexec=%d nonblock=%d dir=%d ino=%llu\n", how, link, fdflags & FD_CLOEXEC ? 1 : 0, fl & O_NONBLOCK ? 1 : 0,
           ok && S_ISDIR(st.st_mode), ok ? (unsigned long long)st.st_ino : 0ULL);
    close((int)fd);
}

static void tries_as(const char *label, const char *p) {
    // (A FIFO's open for reading waits for a writer: not blocking only.)
    int fifo = strstr(label, "fifo") != NULL;
    static const struct { int flags; const char *name; } fl[] = {
        {O_RDONLY, "rdonly"},
        {O_RDONLY | O_CLOEXEC, "cloexec"},
        {O_RDONLY | O_DIRECTORY, "directory"},
        {O_RDONLY | O_NOFOLLOW, "nofollow"},
        {O_RDONLY | O_NONBLOCK | O_CLOEXEC, "nonblock"},
        {O_RDONLY | O_NOCTTY | O_LARGEFILE, "noctty"},
    };
    printf("%s\n", label);
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        if (fifo && !(fl[i].flags & O_NONBLOCK))
            continue;
        for (int twice = 0; twice < 2; twice++) {
            char how[64];
            snprintf(how, sizeof how, "open %s", fl[i].name);
            answer(how, syscall(SYS_open, p, fl[i].flags));
            snprintf(how, sizeof how, "openat %s", fl[i].name);
            answer(how, syscall(SYS_openat, AT_FDCWD, p, fl[i].flags));
        }
    }
}

/* stat and lstat (newfstatat(AT_FDCWD), glibc's: the session stat gate's),
 * twice each, into `buf`. */
static void stats_into(const char *label, const char *p, struct stat *buf) {
    printf("stat %s\n", label);
    for (int nofollow = 0; nofollow < 2; nofollow++) {
        for (int twice = 0; twice < 2; twice++) {
            long r = syscall(SYS_newfstatat, AT_FDCWD, p, buf, nofollow ? AT_SYMLINK_NOFOLLOW : 0);
            if (r < 0)
                printf("  %s %s\n", nofollow ? "lstat" : "stat", strerrorname_np(errno));
            else
                printf("  %s ok mode=%o ino=%llu nlink=%lu uid=%u gid=%u size=%lld\n", nofollow ? "lstat" : "stat", buf->st_mode,
                       (unsigned long long)buf->st_ino, (unsigned long)buf->st_nlink, buf->st_uid, buf->st_gid, (long long)buf->st_size);
        }
    }
}

static void stats(const char *p) {
    struct stat st;
    stats_into(p, p, &st);
}

static void tries(const char *p) {
    tries_as(p, p);
    stats(p);
}

/* The same beside a directory fd (tar's and find's opens). */
static void tries_beside(int dfd, const char *label, const char *name) {
    static const struct { int flags; const char *name; } fl[] = {
        {O_RDONLY, "rdonly"},
        {O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, "tar"},
        {O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, "find"},
        {O_RDONLY | O_DIRECTORY, "directory"},
    };
    int fifo = strstr(name, "fifo") != NULL;
    printf("%s: %s\n", label, name);
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        if (fifo && !(fl[i].flags & O_NONBLOCK))
            continue;
        for (int twice = 0; twice < 2; twice++)
            answer(fl[i].name, syscall(SYS_openat, dfd, name, fl[i].flags));
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: open_gate DIR\n");
        return 2;
    }
    const char *d = argv[1];
    const char *names[] = {
        "file", "sub/file", "sub", "sub/", "sub/.", "sub/..", "./file", "sub/../file", "sub//file", "link", "dirlink",
        "dirlink/file", "fifo", "missing", "file/", "file/x", "sub/missing/x", "", ".", NULL,
    };
    char p[4096];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        tries(p);
    }
    snprintf(p, sizeof p, "%s", d);
    tries(p);
    snprintf(p, sizeof p, "%s//file", d);
    tries(p);
    snprintf(p, sizeof p, "%sx/file", d);
    tries(p);
    // Beside directory fds of the grant, its subdirectory and /usr.
    // (`..` beside the grant's root is the virtual directory above it in a
    // session: beside the others only.)
    const char *beside[] = {"file", "sub", "sub/file", "sub/..", ".", "link", "dirlink", "dirlink/file", "fifo",
                            "missing", "", "file/", "file/x", "/usr/include/stdio.h", NULL};
    snprintf(p, sizeof p, "%s/sub", d);
    const char *dirs[] = {d, p, "/usr/include", NULL};
    for (int k = 0; dirs[k]; k++) {
        int dfd = open(dirs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            perror(dirs[k]);
            return 1;
        }
        for (int i = 0; beside[i]; i++)
            tries_beside(dfd, dirs[k], beside[i]);
        tries_beside(dfd, dirs[k], "stdio.h");
        if (k > 0) {
            tries_beside(dfd, dirs[k], "..");
            tries_beside(dfd, dirs[k], "../file");
        }
        // The number closed and opened again on another directory: what
        // was learnt of it is gone.
        close(dfd);
        int again = open("/usr", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (again != dfd)
            printf("(fd %d, then %d)\n", dfd, again);
        tries_beside(again, "/usr again", "include");
        tries_beside(again, "/usr again", "file");
        close(again);
    }
    // -B's /usr and names around it.
    const char *usr[] = {"/usr/include/stdio.h", "/usr/include", "/usr/include/", "/usr", "/usr/", "/usr/./include/stdio.h",
                         "/usr/include/../include/stdio.h", "/usr/bin/sh", "/usr/nonexistent", "/usrx", "/usr/include/stdio.h/",
                         "//usr/include/stdio.h", "/./usr/include/stdio.h", "/usr/../etc/passwd", "usr/include/stdio.h", NULL};
    for (int i = 0; usr[i]; i++)
        tries(usr[i]);

    // Page edges: the grant's name across a page boundary; a path ending
    // just before an unmapped page.
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || munmap(m + 2 * page, page) != 0) {
        perror("mmap");
        return 1;
    }
    const char *f = "/usr/include/stdio.h";
    size_t len = strlen(f);
    for (size_t cut = 1; cut < 12; cut++) {
        char *at = m + page - cut;
        memcpy(at, f, len + 1);
        char label[64];
        snprintf(label, sizeof label, "across the page boundary after %zu bytes", cut);
        tries_as(label, at);
    }
    char *end = m + 2 * page - (len + 1);
    memcpy(end, f, len + 1);
    tries_as("ending at the unmapped page", end);
    // No NUL before the unmapped page: EFAULT.
    memset(m + page, 'a', page);
    memcpy(m + page, "/usr/include/", 13);
    tries_as("running into the unmapped page", m + page);
    // A page known readable, unmapped, mapped again with another path.
    memcpy(m, f, len + 1);
    tries(m);
    if (munmap(m, page) != 0) {
        perror("munmap");
        return 1;
    }
    tries_as("unmapped", m);
    char *again = mmap(m, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (again != m) {
        perror("mmap again");
        return 1;
    }
    snprintf(again, page, "%s/file", d);
    tries_as("mapped again", again);
    if (mprotect(again, page, PROT_NONE) != 0) {
        perror("mprotect");
        return 1;
    }
    tries_as("made unreadable", again);
    tries_as("NULL", NULL);
    // Stat buffers the program cannot write: NULL, unmapped, read-only,
    // running into an unmapped page.
    printf("stat into NULL: %s\n", syscall(SYS_newfstatat, AT_FDCWD, "/usr/include/stdio.h", NULL, 0) < 0 ? strerrorname_np(errno) : "ok");
    char *bufs = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bufs == MAP_FAILED || munmap(bufs + 2 * page, page) != 0 || mprotect(bufs, page, PROT_READ) != 0) {
        perror("mmap");
        return 1;
    }
    const char *where[] = {"read-only", "running into the unmapped page", "unmapped"};
    char *at[] = {bufs + 16, bufs + 2 * page - 64, bufs + 2 * page + 16};
    for (int i = 0; i < 3; i++) {
        long r = syscall(SYS_newfstatat, AT_FDCWD, "/usr/include/stdio.h", at[i], 0);
        printf("stat into %s: %s\n", where[i], r < 0 ? strerrorname_np(errno) : "ok");
    }
    return 0;
}
