/* Metadata writes through an fd of a file in the read-only grant: open the
 * victim (and the grant's directory) for reading, then fchmod, fchown,
 * futimens, fsetxattr and fremovexattr on those fds, through the handler
 * and as raw syscalls. Landlock has no right for these; the server hands
 * out read-only grants through a read-only mount, so each must fail. */
#include "attack.h"
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

static void check(const char *what, long r) {
    printf("%s: %ld%s\n", what, r, r == 0 ? " ESCAPE: changed the metadata of a read-only grant" : "");
    fflush(stdout);
}

static void attack_fd(const char *label, long fd) {
    char what[128];
    if (fd < 0) {
        printf("%s: open fails %s\n", label, strerror((int)-fd));
        return;
    }
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    snprintf(what, sizeof what, "%s raw fchmod", label);
    check(what, raw(SYS_fchmod, fd, 0777, 0, 0));
    snprintf(what, sizeof what, "%s libc fchmod", label);
    check(what, lc(fchmod((int)fd, 0700)));
    snprintf(what, sizeof what, "%s raw fchown", label);
    check(what, raw(SYS_fchown, fd, 1, 1, 0));
    snprintf(what, sizeof what, "%s raw futimens", label);
    check(what, raw(SYS_utimensat, fd, 0, ts, 0));
    snprintf(what, sizeof what, "%s libc futimens", label);
    check(what, lc(futimens((int)fd, ts)));
    snprintf(what, sizeof what, "%s raw fsetxattr", label);
    check(what, raw6(SYS_fsetxattr, fd, (long)"user.preld", (long)"x", 1, 0, 0));
    snprintf(what, sizeof what, "%s raw fremovexattr", label);
    long r = raw(SYS_fremovexattr, fd, "user.preld", 0, 0);
    printf("%s: %ld\n", what, r); /* ENODATA is fine: there is none */
    snprintf(what, sizeof what, "%s O_PATH fd via /proc/self/fd chmod", label);
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
    check(what, raw(SYS_fchmodat, AT_FDCWD, p, 0777, 0));
    raw(SYS_close, fd, 0, 0, 0);
}

int main(int argc, char **argv) {
    ARGS
    attack_fd("victim (libc open)", lc(open(cat2(ro, "/victim"), O_RDONLY)));
    attack_fd("victim (raw openat)", raw(SYS_openat, AT_FDCWD, cat2(ro, "/victim"), O_RDONLY, 0));
    attack_fd("ro dir", lc(open(ro, O_RDONLY | O_DIRECTORY)));
    attack_fd("victim O_PATH", lc(open(cat2(ro, "/victim"), O_PATH)));
    return 0;
}
