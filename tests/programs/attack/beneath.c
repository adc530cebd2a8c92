/* The directory grants' fds that preld holds in the process to resolve paths
 * beneath them itself (handler/src/beneath.rs): found by scanning the fd
 * table around the handler (ld-preld's `syscall; ret`), each is used the way
 * the handler never does:
 *   - `..` out of it towards the secret (openat and openat2 without
 *     RESOLVE_BENEATH): the copy's root must stop it;
 *   - the read-only grant's victim opened for writing;
 *   - a file, a directory and a symlink created beneath it (Landlock gives
 *     these fds reading only, in every grant: creations are the server's);
 *   - fchdir into it, then connect() to the socket of a read-only grant by
 *     its relative name (extra argument: that grant's directory, which
 *     holds `ro.sock`, listened on by the harness): a socket is a channel
 *     out of the session and a read-only grant gives none.
 * The same fchdir and connect with the directory fd the program opens the
 * usual way. And each of preld's fds named through the handler (libc), as
 * a directory fd or as /proc/self/fd/N: openat, fstatat, faccessat,
 * readlinkat, statfs, fstatfs, fchdir, fchmod, fchown, futimens, execveat
 * (the server once took fchdir's fd as the program's); none may work (EBADF, ENOENT: preld's
 * fds are no fds of the program's). Any success prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

static unsigned long G;

static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void through_handler(long fd) {
    char label[128], proc[64], buf[256];
    struct stat st;
    struct statfs sf;
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    snprintf(label, sizeof label, "preld's fd %ld: libc openat(fd, victim)", fd);
    show(label, lc(openat((int)fd, "victim", O_RDONLY)));
    snprintf(label, sizeof label, "preld's fd %ld: libc open(/proc/self/fd/N/victim)", fd);
    show(label, lc(open(cat2(proc, "/victim"), O_RDONLY)));
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    char *av[] = { "static_cat", "/dev/null", 0 };
    long r[12] = {
        lc(fstatat((int)fd, "victim", &st, 0)),
        lc(fstatat(AT_FDCWD, proc, &st, 0)),
        lc(faccessat((int)fd, "victim", R_OK, 0)),
        lc(readlinkat((int)fd, "victim", buf, sizeof buf)),
        lc(statfs(proc, &sf)),
        lc(fstatfs((int)fd, &sf)),
        lc(fchdir((int)fd)),
        lc(fcntl((int)fd, F_GETFD)),
        lc(fchmod((int)fd, 0755)),
        lc(fchown((int)fd, -1, -1)),
        lc(fchownat((int)fd, "", -1, -1, AT_EMPTY_PATH)),
        lc(futimens((int)fd, ts)),
    };
    const char *what[12] = { "fstatat(fd, victim)", "stat(/proc/self/fd/N)", "faccessat(fd, victim)", "readlinkat(fd, victim)",
                             "statfs(/proc/self/fd/N)", "fstatfs(fd)", "fchdir(fd)", "fcntl(fd, F_GETFD)", "fchmod(fd)",
                             "fchown(fd)", "fchownat(fd, \"\", AT_EMPTY_PATH)", "futimens(fd)" };
    for (int i = 0; i < 12; i++) {
        /* readlinkat of a file that is no symlink: EINVAL means it was reached. */
        int ok = r[i] >= 0 || (i == 3 && r[i] == -EINVAL);
        printf("preld's fd %ld: libc %s: %s%s\n", fd, what[i], r[i] >= 0 ? "ok" : strerror((int)-r[i]),
               ok ? " ESCAPE: preld's fd used through the handler" : "");
    }
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        long e = lc(execveat((int)fd, "static_cat", av, 0, 0));
        printf("preld's fd %ld: libc execveat(fd, static_cat): %s\n", fd, strerror((int)-e));
        fflush(stdout);
        _exit(99);
    }
    int ws = 0;
    waitpid(p, &ws, 0);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 99) printf("preld's fd %ld: execveat(fd, static_cat) ran ESCAPE: preld's fd used through the handler\n", fd);
    fflush(stdout);
}

static void connect_from(const char *label, long dir) {
    long r = g(SYS_fchdir, dir, 0, 0, 0);
    if (r < 0) {
        printf("%s: fchdir: %s\n", label, strerror((int)-r));
        return;
    }
    long s = g(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strcpy(a.sun_path, "ro.sock");
    r = s < 0 ? s : g(SYS_connect, s, (long)&a, sizeof a, 0);
    printf("%s: connect ro.sock: %s%s\n", label, r == 0 ? "connected" : strerror((int)-r),
           r == 0 ? " ESCAPE: reached a socket of a read-only grant" : "");
    if (s >= 0) g(SYS_close, s, 0, 0, 0);
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw sockdir\n"); return 2; }
    const char *sockdir = argv[4];
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    char up[4200];
    snprintf(up, sizeof up, "../../../../../../../../../../../../..%s", secret);
    int found = 0;
    for (long fd = 3; fd < 65536; fd++) {
        if (g(SYS_fcntl, fd, F_GETFD, 0, 0) < 0) continue;
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        found++;
        char label[128];
        snprintf(label, sizeof label, "dir fd %ld: openat ../secret", fd);
        show(label, g(SYS_openat, fd, (long)up, O_RDONLY, 0));
        struct { unsigned long long flags, mode, resolve; } how = { O_RDONLY, 0, 0 };
        snprintf(label, sizeof label, "dir fd %ld: openat2 ../secret", fd);
        show(label, g(SYS_openat2, fd, (long)up, (long)&how, sizeof how));
        snprintf(label, sizeof label, "dir fd %ld (inode %lu): open victim O_WRONLY", fd, (unsigned long)st.st_ino);
        try_write_ro(label, g(SYS_openat, fd, (long)"victim", O_WRONLY, 0));
        long r = g(SYS_openat, fd, (long)"beneath-made", O_WRONLY | O_CREAT | O_EXCL, 0644);
        printf("dir fd %ld: create a file: %s\n", fd, r >= 0 ? "ESCAPE: created around the handler" : strerror((int)-r));
        r = g(SYS_mkdirat, fd, (long)"beneath-dir", 0755, 0);
        printf("dir fd %ld: mkdir: %s\n", fd, r == 0 ? "ESCAPE: made around the handler" : strerror((int)-r));
        r = g(SYS_symlinkat, (long)secret, fd, (long)"beneath-link", 0);
        printf("dir fd %ld: symlink: %s\n", fd, r == 0 ? "ESCAPE: made around the handler" : strerror((int)-r));
        if (fcntl((int)fd, F_GETFD) < 0) through_handler(fd);
        snprintf(label, sizeof label, "dir fd %ld", fd);
        connect_from(label, fd);
    }
    printf("directory fds found: %d\n", found);
    long d = lc(open(sockdir, O_RDONLY | O_DIRECTORY));
    if (d >= 0) connect_from("the read-only grant's fd, opened the usual way", d);
    else printf("open %s: %s\n", sockdir, strerror((int)-d));
    fflush(stdout);
    return 0;
}
