/* Metadata changes through the handler (libc calls only) of a read-only
 * grant nested in a read-write one (`--rw OUT --ro OUT/sub`, the same host
 * directory): argv[1] is OUT; OUT/sub/victim a file, OUT/sub a directory,
 * each with the attribute user.keep. Names that reach the nested grant
 * through the outer one (an fd of OUT and `sub/victim`, `OUT/./sub/..`,
 * /proc/thread-self/fd/N/sub/victim) opened for reading, then futimens,
 * fsetxattr, fremovexattr on the fd, setxattr by its magic link; setxattr,
 * lsetxattr, removexattr by those names. Each must fail (EROFS); prints
 * "changed: WHAT" for each that did not, then "done".
 * Session-17c adversary: the process opened those itself through the outer
 * grant's read-write copy (resolved read-only: no writes, but the fd's file
 * lay on a writable mount), and the kernel made the changes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static void check(const char *what, const char *name, int r) {
    if (r == 0) printf("changed: %s %s\n", what, name);
    fflush(stdout);
}

static void by_fd(const char *name, int fd) {
    if (fd < 0) {
        printf("open %s: %s\n", name, strerror(errno));
        return;
    }
    struct timespec ts[2] = {{12345, 0}, {12345, 0}};
    check("futimens", name, futimens(fd, ts));
    check("fsetxattr", name, fsetxattr(fd, "user.pwn", "1", 1, 0));
    check("fremovexattr", name, fremovexattr(fd, "user.keep"));
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    check("setxattr /proc/self/fd/N", name, setxattr(p, "user.pwn", "1", 1, 0));
    close(fd);
}

static void by_name(const char *name) {
    check("setxattr", name, setxattr(name, "user.pwn", "1", 1, 0));
    check("lsetxattr", name, lsetxattr(name, "user.pwn", "1", 1, 0));
    check("removexattr", name, removexattr(name, "user.keep"));
    by_fd(name, open(name, O_RDONLY));
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *out = argv[1];
    char p[4096];
    int dout = open(out, O_RDONLY | O_DIRECTORY);
    if (dout < 0) {
        perror("open OUT");
        return 1;
    }
    by_fd("OUT fd + sub/victim", openat(dout, "sub/victim", O_RDONLY));
    by_fd("OUT fd + sub", openat(dout, "sub", O_RDONLY | O_DIRECTORY));
    by_fd("OUT fd + ./sub/victim", openat(dout, "./sub/victim", O_RDONLY));
    snprintf(p, sizeof p, "%s/./sub/../sub//victim", out);
    by_name(p);
    snprintf(p, sizeof p, "%s/./sub", out);
    by_name(p);
    snprintf(p, sizeof p, "/proc/thread-self/fd/%d/sub/victim", dout);
    by_name(p);
    snprintf(p, sizeof p, "/dev/fd/%d/sub/victim", dout);
    by_name(p);
    printf("done\n");
    return 0;
}
