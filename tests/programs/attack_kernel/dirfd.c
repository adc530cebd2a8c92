/* The file system through fds the session holds, and through the one file
 * of the host its mount tree shows (ld-preld's).
 *
 * `..` from a directory fd: the server hands out fds of the virtual
 * directories' stand-ins (`/`), of -B's private /tmp, of rw and of ro grants.
 * A `..` walk in the kernel stops at the process's root only if it passes
 * through it: from an fd on a mount outside the session's tree, it climbs
 * that mount's own tree (the host's, unless the mount is a detached copy).
 * O_PATH opens and the metadata calls are not Landlock rights, so through
 * such a climb the kernel would show any host file's metadata, change the
 * metadata of the user's files (chmod, utimensat, setxattr) and connect to
 * host Unix sockets (connect() resolves its path from the cwd: fchdir to the
 * fd first). Items dotdot-stat-{root,tmp,rw,ro} (an O_PATH fd of the
 * harness's victim from each fd), dotdot-chmod, dotdot-utimensat,
 * dotdot-setxattr (the victim changed), dotdot-unix-connect (a tag at the
 * harness's stream socket), dotdot-inotify (a watch on a host directory).
 *
 * ld-preld's bind mount: the file is the host's; chmod (to the mode it has),
 * utimensat (to the times it has), setxattr user.* by its path reach the
 * host's file unless the mount is read-only. Items ld-preld-chmod,
 * ld-preld-utimensat, ld-preld-setxattr.
 * Keys: victim, watch_dir, unix_stream, out (the rw grant), bin (a ro
 * grant), ld (ld-preld's path). */
#include "kattack.h"
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>

NO_HELPERS

#define UP "../../../../../../../../../../../../../../../.."

static char *up(const char *abs) {
    static char b[4][4096];
    static int n;
    char *p = b[n++ % 4];
    snprintf(p, sizeof b[0], "%s%s", UP, abs);
    return p;
}

/* A directory fd the program gets the ordinary way (through the handler
 * under preld), else an O_PATH one (no handler: Landlock refuses the
 * other); -errno. */
static long dir_fd(const char *path) {
    long d = lc(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return d >= 0 ? d : lc(open(path, O_PATH | O_DIRECTORY | O_CLOEXEC));
}

static void attacks(void) {
    const char *v = arg("victim");
    const char *bases[][2] = { { "root", "/" }, { "tmp", "/tmp" }, { "rw", arg("out") }, { "ro", arg("bin") } };
    long from = -1; /* the first fd that reached the victim, else the stand-in of / */
    for (int i = 0; i < 4; i++) {
        char item[64];
        snprintf(item, sizeof item, "dotdot-stat-%s", bases[i][0]);
        long d = dir_fd(bases[i][1]);
        if (d < 0) { held(item, "open %s: %s", bases[i][1], err(d)); continue; }
        long p = TRY(openat((int)d, up(v), O_PATH | O_CLOEXEC), SYS_openat, d, up(v), O_PATH | O_CLOEXEC, 0);
        struct stat st;
        if (p >= 0 && TRY(fstat((int)p, &st), SYS_fstat, p, &st) == 0)
            escape(item, "an O_PATH fd of the victim from the fd of %s: mode %o size %ld", bases[i][1], st.st_mode, (long)st.st_size);
        else
            held(item, "from the fd of %s: %s", bases[i][1], err(p));
        closefd(p);
        if (from < 0 && (p >= 0 || i == 0)) from = d;
        else closefd(d);
    }
    if (from < 0) {
        const char *items[] = { "dotdot-chmod", "dotdot-utimensat", "dotdot-setxattr", "dotdot-unix-connect", "dotdot-inotify" };
        for (unsigned i = 0; i < sizeof items / sizeof *items; i++) held(items[i], "no directory fd");
    } else {
        long r = TRY(fchmodat((int)from, up(v), 0606, 0), SYS_fchmodat, from, up(v), 0606);
        verdict("dotdot-chmod", r, "changed the victim's mode to 606");
        struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
        r = TRY(utimensat((int)from, up(v), ts, 0), SYS_utimensat, from, up(v), ts, 0);
        verdict("dotdot-utimensat", r, "set the victim's times to 2001");
        /* No *at form of setxattr before 6.13: from the fd as cwd (a child). */
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            long f = TRY(fchdir((int)from), SYS_fchdir, from);
            if (f < 0) {
                held("dotdot-setxattr", "fchdir: %s", err(f));
                held("dotdot-unix-connect", "fchdir: %s", err(f));
                held("dotdot-inotify", "fchdir: %s", err(f));
                _exit(0);
            }
            r = TRY(setxattr(up(v), "user.kattack_set", "x", 1, 0), SYS_setxattr, up(v), "user.kattack_set", "x", 1, 0);
            verdict("dotdot-setxattr", r, "set user.kattack_set on the victim");
            struct sockaddr_un a;
            memset(&a, 0, sizeof a);
            a.sun_family = AF_UNIX;
            /* sun_path is short: as few `..` as the depth needs. */
            const char *s = arg("unix_stream");
            int depth = 8;
            snprintf(a.sun_path, sizeof a.sun_path, "%.*s%s", 3 * depth - 1, UP, s);
            long fd = TRY(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            r = fd < 0 ? fd : TRY(connect((int)fd, (struct sockaddr *)&a, sizeof a), SYS_connect, fd, &a, sizeof a);
            if (r == 0) {
                const char *t = tag("dotdot-unix-connect");
                long n = write((int)fd, t, strlen(t));
                escape("dotdot-unix-connect", "connected to %s, sent %ld bytes", s, n);
            } else {
                held("dotdot-unix-connect", "%s", err(r));
            }
            closefd(fd);
            long ifd = TRY(inotify_init1(IN_CLOEXEC), SYS_inotify_init1, IN_CLOEXEC);
            const char *wd = up(arg("watch_dir"));
            r = ifd < 0 ? ifd : TRY(inotify_add_watch((int)ifd, wd, IN_ALL_EVENTS), SYS_inotify_add_watch, ifd, wd, IN_ALL_EVENTS);
            verdict("dotdot-inotify", r, "watching a host directory");
            closefd(ifd);
            _exit(0);
        }
        int st;
        if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st)) held("dotdot-setxattr", "the child did not report (fork %d)", c);
        closefd(from);
    }

    /* ld-preld's own file: nothing changes if these succeed (same mode,
     * same times, the xattr removed again), but success shows the host's
     * file writable from the session. */
    const char *ld = arg("ld");
    struct stat st;
    long r = TRY(stat(ld, &st), SYS_stat, ld, &st);
    if (r < 0) {
        held("ld-preld-chmod", "stat: %s", err(r));
        held("ld-preld-utimensat", "stat: %s", err(r));
    } else {
        r = TRY(chmod(ld, st.st_mode & 07777), SYS_chmod, ld, st.st_mode & 07777);
        verdict("ld-preld-chmod", r, "chmod of ld-preld's host file (to its own mode)");
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        r = TRY(utimensat(AT_FDCWD, ld, ts, 0), SYS_utimensat, AT_FDCWD, ld, ts, 0);
        verdict("ld-preld-utimensat", r, "set ld-preld's host file's times (to its own)");
    }
    r = TRY(setxattr(ld, "user.kattack_set", "x", 1, 0), SYS_setxattr, ld, "user.kattack_set", "x", 1, 0);
    verdict("ld-preld-setxattr", r, "set user.kattack_set on ld-preld's host file");
    if (r == 0) SC(SYS_removexattr, ld, "user.kattack_set");
}
