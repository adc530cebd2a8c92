/* The virtual directories' stand-in fds preld holds (`--vdirs`: an O_PATH
 * fd of each stand-in, whose fstat answers stat of `/`, `/etc`, ...),
 * found by scanning the fd table around the handler (ld-preld's
 * `syscall; ret`: O_PATH directories of mode 0555 with two links), and the
 * program's own fd of `/` (the server's stand-in), used the way the
 * handler never does:
 *   - names created beneath them (mkdirat, mknodat, symlinkat, openat
 *     O_CREAT, a Unix socket bound at /proc/self/fd/N/s, linkat);
 *   - `..` climbed: the stand-ins' copy's root must stop it;
 *   - their metadata changed by path (chmod, utimensat, fchownat,
 *     fchmodat2 AT_EMPTY_PATH, setxattr at /proc/self/fd/N);
 *   - named through the handler (libc fstat, openat, fchmod): preld's fds
 *     are no fds of the program's (EBADF);
 *   - dup2 of a file over one through the handler (preld moves its fd):
 *     stat of `/` must still be the stand-in's, not the file's, and so
 *     in the image exec'd next (the moved fds passed on).
 * Argument `metadata`: instead, fd-based metadata changes of the
 * program's own fd of `/` through the gadget (fchmod, fchown, futimens,
 * fsetxattr), which the handler answers EROFS.
 * Any success prints ESCAPE (WRONG for a wrong answer). */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }
static long g5(long n, long a, long b, long c, long d, long e) { return call_gadget5(G, n, a, b, c, d, e); }

static void check(long fd, const char *what, long r) {
    printf("stand-in fd %ld: %s: %s%s\n", fd, what, r < 0 ? strerror((int)-r) : "ok", r >= 0 ? " ESCAPE: a stand-in used" : "");
    fflush(stdout);
}

static void metadata(long fd) {
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    check(fd, "gadget fchmod", g(SYS_fchmod, fd, 0777, 0, 0));
    check(fd, "gadget fchown", g(SYS_fchown, fd, getuid(), getgid(), 0));
    check(fd, "gadget futimens", g(SYS_utimensat, fd, 0, (long)ts, 0));
    check(fd, "gadget fsetxattr", g5(SYS_fsetxattr, fd, (long)"user.preld", (long)"x", 1, 0));
}

static void attack(long fd, int own) {
    char p[64], label[96];
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    struct stat st;
    snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
    check(fd, "mkdirat", g(SYS_mkdirat, fd, (long)"x", 0777, 0));
    check(fd, "mknodat FIFO", g(SYS_mknodat, fd, (long)"f", S_IFIFO | 0666, 0));
    check(fd, "symlinkat", g(SYS_symlinkat, (long)"/", fd, (long)"l", 0));
    check(fd, "openat O_CREAT", g(SYS_openat, fd, (long)"c", O_CREAT | O_WRONLY, 0666));
    check(fd, "openat(., O_RDWR)", g(SYS_openat, fd, (long)".", O_RDWR, 0));
    long s = g(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0);
    struct sockaddr_un a = {AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s/s", p);
    check(fd, "bind /proc/self/fd/N/s", g(SYS_bind, s, (long)&a, sizeof a, 0));
    raw(SYS_close, s, 0, 0, 0);
    long file = g(SYS_openat, AT_FDCWD, (long)"/proc/self/exe", O_RDONLY, 0);
    check(fd, "linkat(exe, AT_EMPTY_PATH) into it", g5(SYS_linkat, file, (long)"", fd, (long)"hl", AT_EMPTY_PATH));
    raw(SYS_close, file, 0, 0, 0);
    check(fd, "chmod /proc/self/fd/N", g(SYS_chmod, (long)p, 0777, 0, 0));
    check(fd, "utimensat AT_EMPTY_PATH", g(SYS_utimensat, fd, (long)"", (long)ts, AT_EMPTY_PATH));
    check(fd, "fchownat AT_EMPTY_PATH", g5(SYS_fchownat, fd, (long)"", getuid(), getgid(), AT_EMPTY_PATH));
    check(fd, "fchmodat2 AT_EMPTY_PATH", g5(452, fd, (long)"", 0777, AT_EMPTY_PATH, 0));
    check(fd, "setxattr /proc/self/fd/N", g5(SYS_setxattr, (long)p, (long)"user.preld", (long)"x", 1, 0));
    /* `..`, then `..` again: the same directory (the copy's root). */
    long up = g(SYS_openat, fd, (long)"..", O_PATH | O_DIRECTORY, 0);
    long up2 = up >= 0 ? g(SYS_openat, up, (long)"..", O_PATH | O_DIRECTORY, 0) : -1;
    struct stat s1, s2;
    if (up >= 0 && up2 >= 0 && g(SYS_fstat, up, (long)&s1, 0, 0) == 0 && g(SYS_fstat, up2, (long)&s2, 0, 0) == 0)
        printf("stand-in fd %ld: `..` twice: %s\n", fd,
               s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev ? "stopped at the copy's root" : "ESCAPE: climbed past the copy's root");
    if (up >= 0) {
        check(fd, "mkdirat(.., x)", g(SYS_mkdirat, up, (long)"x", 0777, 0));
        check(fd, "openat(.., ., O_RDONLY)", g(SYS_openat, up, (long)".", O_RDONLY | O_DIRECTORY, 0));
    }
    raw(SYS_close, up, 0, 0, 0);
    raw(SYS_close, up2, 0, 0, 0);
    if (own)
        return;
    /* Through the handler: no fd of the program's. */
    snprintf(label, sizeof label, "libc fstat");
    check(fd, label, lc(fstat((int)fd, &st)));
    check(fd, "libc openat(fd, .)", lc(openat((int)fd, ".", O_RDONLY)));
    check(fd, "libc fchmod", lc(fchmod((int)fd, 0777)));
    check(fd, "libc fchdir", lc(fchdir((int)fd)));
}

int main(int argc, char **argv) {
    ARGS
    if (argc > 6 && strcmp(argv[4], "child") == 0) {
        /* The image exec'd after the dup2s: `/` and /etc still the
           stand-ins' (the relocated fds passed on). */
        struct stat r, e;
        int ok = stat("/", &r) == 0 && stat("/etc", &e) == 0 && (unsigned long)r.st_ino == strtoul(argv[5], 0, 10)
                 && (unsigned long)e.st_ino == strtoul(argv[6], 0, 10);
        printf("after exec: stat / and /etc %s\n", ok ? "as before" : "changed WRONG");
        printf("vdirs: done\n");
        return 0;
    }
    int meta = argc > 4 && strcmp(argv[4], "metadata") == 0;
    find_gadgets();
    if (!ncand) {
        printf("no gadget\n");
        return 1;
    }
    G = cands[0];
    long root = lc(open("/", O_RDONLY | O_DIRECTORY));
    if (meta) {
        metadata(root);
        struct stat st;
        if (stat("/", &st) == 0)
            printf("stat / mode %o\n", st.st_mode & 07777);
        return 0;
    }
    struct stat before, st;
    if (stat("/", &before) != 0) {
        printf("stat /: %s\n", strerror(errno));
        return 1;
    }
    long found[64];
    int n = 0;
    for (long fd = 3; fd < 65536 && n < 64; fd++) {
        if (g(SYS_fstat, fd, (long)&st, 0, 0) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0555 || st.st_nlink != 2)
            continue;
        if (!(g(SYS_fcntl, fd, F_GETFL, 0, 0) & O_PATH))
            continue;
        found[n++] = fd;
    }
    printf("stand-in fds found: %s\n", n ? "some" : "none");
    for (int i = 0; i < n; i++)
        attack(found[i], 0);
    attack(root, 1);
    /* A file dup2'ed over each (preld moves its own fd first): `/` still
       the stand-in's. */
    long file = lc(open(argv[0], O_RDONLY));
    for (int i = 0; i < n; i++) {
        long r = lc(dup2((int)file, (int)found[i]));
        if (r < 0) {
            printf("dup2 over a stand-in fd: %s\n", strerror((int)-r));
            continue;
        }
        if (stat("/", &st) != 0)
            printf("after dup2 over a stand-in fd: stat /: %s WRONG\n", strerror(errno));
        else if (st.st_ino != before.st_ino || st.st_dev != before.st_dev)
            printf("after dup2 over a stand-in fd: stat / is another object WRONG\n");
        close((int)found[i]);
    }
    if (stat("/", &st) == 0 && st.st_ino == before.st_ino && (st.st_mode & 07777) == (before.st_mode & 07777))
        printf("stat / as before\n");
    else
        printf("stat / changed WRONG\n");
    struct stat etc;
    if (stat("/etc", &etc) != 0)
        return 1;
    char a[32], b[32];
    snprintf(a, sizeof a, "%lu", (unsigned long)before.st_ino);
    snprintf(b, sizeof b, "%lu", (unsigned long)etc.st_ino);
    fflush(stdout);
    execl(argv[0], argv[0], argv[1], argv[2], argv[3], "child", a, b, (char *)0);
    printf("exec: %s\n", strerror(errno));
    return 1;
}
