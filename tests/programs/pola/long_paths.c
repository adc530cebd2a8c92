/* long_paths: paths of PATH_MAX bytes and more (no NUL within PATH_MAX)
 * fail with ENAMETOOLONG, as the kernel's getname says; a path that runs
 * into unmapped memory before its NUL with EFAULT; one that ends just
 * before an unmapped page opens. Each length through open, openat (the
 * handler gate's `gate_open` for an absolute path beneath a directory
 * grant, else the trap path) and stat, the path spelt with `./` to the
 * length wanted: DIR/././.../file.
 * argv: DIR (holding a file `file`) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *e(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static void tries(const char *what, const char *p) {
    long fd = syscall(SYS_open, p, O_RDONLY);
    printf("%s: open %s", what, e(fd));
    if (fd >= 0) close((int)fd);
    fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
    printf(", openat %s", e(fd));
    if (fd >= 0) close((int)fd);
    struct stat st;
    printf(", stat %s\n", e(syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0)));
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: long_paths DIR\n"); return 2; }
    static char p[8192];
    for (size_t len = 4090; len <= 4100; len++) {
        size_t b = strlen(argv[1]);
        memcpy(p, argv[1], b);
        p[b++] = '/';
        size_t fill = len - b - 4;
        if (fill % 2) { p[b++] = '/'; fill--; }
        for (size_t i = 0; i < fill; i += 2) memcpy(p + b + i, "./", 2);
        memcpy(p + b + fill, "file", 5);
        char what[32];
        snprintf(what, sizeof what, "%zu bytes", strlen(p));
        tries(what, p);
    }
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + 4096, 4096);
    snprintf(p, sizeof p, "%s/file", argv[1]);
    size_t n = strlen(p);
    memcpy(m + 4096 - n - 1, p, n + 1);
    tries("ending before an unmapped page", m + 4096 - n - 1);
    memcpy(m + 4096 - n, p, n);
    tries("running into an unmapped page", m + 4096 - n);
    return 0;
}
