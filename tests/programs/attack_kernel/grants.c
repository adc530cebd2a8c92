/* Between the grants, through the fds the server hands out: what the kernel
 * lets a program do with a ro grant's file and the rw grant's directory
 * when it goes around the handler.
 *
 * - link-ro-rw: linkat(ro dir, NAME, rw dir, NEW) then open NEW for writing
 *   and write back the byte it holds: a ro grant's file written through a
 *   name in the rw grant;
 * - link-fd-ro-rw: the same with linkat(fd of the file, "", AT_EMPTY_PATH);
 * - rename-ro-rw: renameat(ro dir, NAME, rw dir, NEW) (moved back at once);
 * - handle-ro-rdwr: name_to_handle_at of the ro file, open_by_handle_at of
 *   that handle O_RDWR with the rw dir as mount fd, then with the ro dir;
 * - handle-forged-root: open_by_handle_at of a forged handle (the handle of
 *   the rw grant's directory with inode 2, the root of ext4/xfs-like file
 *   systems): the host's root directory past every grant;
 * - exec-ro: execveat of the ro grant's file by its fd (a ro grant holds no
 *   programs: a noexec mount natively);
 * - mknod-chr-rw: a character device (1,3: /dev/null) in the rw grant,
 *   which the host would honour;
 * - setuid-rw-root: as root, a file of the rw grant made setuid root
 *   (fchmod 04755): a setuid-root program left on the host for anyone who
 *   can reach the directory (root only: another uid's setuid is its own);
 * - setuid-create-rw-root: the same made by open(O_CREAT, 04755);
 * - pidfd-init-madvise: process_madvise on the init (it holds capabilities);
 * - pidfd-init-signal: pidfd_send_signal(SIGCONT) to the init.
 * Keys: out (the rw grant), bin (a ro grant: the attack programs). */
#include "kattack.h"
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>

static int helper(const char *mode) {
    if (!strcmp(mode, "exec-probe")) {
        printf("exec-probe: running\n");
        fflush(stdout);
        return 42;
    }
    fprintf(stderr, "kattack: unknown mode %s\n", mode);
    return 2;
}

static long dir_fd(const char *path) {
    long d = lc(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return d >= 0 ? d : lc(open(path, O_PATH | O_DIRECTORY | O_CLOEXEC));
}

/* Open NAME in DIR for writing and write back its first byte: success is a
 * write to that file. */
static long write_same(long dir, const char *name) {
    long f = TRY(openat((int)dir, name, O_RDWR | O_CLOEXEC), SYS_openat, dir, name, O_RDWR | O_CLOEXEC, 0);
    if (f < 0) return f;
    char c;
    long r = TRY(pread((int)f, &c, 1, 0), SYS_pread64, f, &c, 1, 0);
    if (r == 1) r = TRY(pwrite((int)f, &c, 1, 0), SYS_pwrite64, f, &c, 1, 0);
    closefd(f);
    return r;
}

struct fh {
    unsigned int bytes;
    int type;
    unsigned char h[128];
};

static void attacks(void) {
    const char *out = arg("out"), *bin = arg("bin");
    /* A file of the ro grant: the other build's (a static program is also
     * granted exec, as PROG). */
    size_t al = strlen(g_argv[0]);
    const char *name = al > 7 && !strcmp(g_argv[0] + al - 7, "-static") ? "grants" : "grants-static";
    char newname[64];
    snprintf(newname, sizeof newname, "kattack-link-%d", (int)getpid());
    long ro = dir_fd(bin), rw = dir_fd(out);
    if (ro < 0 || rw < 0) {
        const char *items[] = { "link-ro-rw", "link-fd-ro-rw", "rename-ro-rw", "handle-ro-rdwr", "handle-forged-root", "exec-ro",
                                "mknod-chr-rw", "pidfd-init-madvise", "pidfd-init-signal", "setuid-rw-root", "setuid-create-rw-root" };
        for (unsigned i = 0; i < sizeof items / sizeof *items - (geteuid() == 0 ? 0 : 2); i++)
            held(items[i], "open %s: %s, %s: %s", bin, err(ro), out, err(rw));
        closefd(ro);
        closefd(rw);
        return;
    }

    long r = TRY(linkat((int)ro, name, (int)rw, newname, 0), SYS_linkat, ro, name, rw, newname, 0);
    if (r == 0) {
        long w = write_same(rw, newname);
        if (w == 1) escape("link-ro-rw", "linked %s/%s into %s and wrote it", bin, name, out);
        else held("link-ro-rw", "linked (%s), not writable: %s", out, err(w));
        TRY(unlinkat((int)rw, newname, 0), SYS_unlinkat, rw, newname, 0);
    } else {
        held("link-ro-rw", "%s", err(r));
    }

    long f = lc(openat((int)ro, name, O_RDONLY | O_CLOEXEC));
    if (f < 0) f = lc(openat((int)ro, name, O_PATH | O_CLOEXEC));
    r = f < 0 ? f : TRY(linkat((int)f, "", (int)rw, newname, AT_EMPTY_PATH), SYS_linkat, f, "", rw, newname, AT_EMPTY_PATH);
    if (r == 0) {
        long w = write_same(rw, newname);
        if (w == 1) escape("link-fd-ro-rw", "linked the fd of %s/%s into %s and wrote it", bin, name, out);
        else held("link-fd-ro-rw", "linked (%s), not writable: %s", out, err(w));
        TRY(unlinkat((int)rw, newname, 0), SYS_unlinkat, rw, newname, 0);
    } else {
        held("link-fd-ro-rw", "%s (%ld)", err(r), r);
    }

    r = TRY(renameat((int)ro, name, (int)rw, newname), SYS_renameat, ro, name, rw, newname);
    if (r == 0) {
        escape("rename-ro-rw", "moved %s/%s into %s", bin, name, out);
        TRY(renameat((int)rw, newname, (int)ro, name), SYS_renameat, rw, newname, ro, name);
    } else {
        held("rename-ro-rw", "%s", err(r));
    }

    struct fh h = { .bytes = sizeof h.h };
    int mnt;
    long fr = f < 0 ? f : TRY(syscall(SYS_name_to_handle_at, (int)f, "", &h, &mnt, AT_EMPTY_PATH), SYS_name_to_handle_at, f, "", &h, &mnt, AT_EMPTY_PATH);
    if (fr < 0) {
        held("handle-ro-rdwr", "name_to_handle_at: %s", err(fr));
    } else {
        long o = TRY(syscall(SYS_open_by_handle_at, (int)rw, &h, O_RDWR | O_CLOEXEC), SYS_open_by_handle_at, rw, &h, O_RDWR | O_CLOEXEC);
        if (o < 0) o = TRY(syscall(SYS_open_by_handle_at, (int)ro, &h, O_RDWR | O_CLOEXEC), SYS_open_by_handle_at, ro, &h, O_RDWR | O_CLOEXEC);
        verdict("handle-ro-rdwr", o, "the ro grant's file opened O_RDWR by handle");
        closefd(o);
    }
    struct fh hd = { .bytes = sizeof hd.h };
    fr = TRY(syscall(SYS_name_to_handle_at, (int)rw, "", &hd, &mnt, AT_EMPTY_PATH), SYS_name_to_handle_at, rw, "", &hd, &mnt, AT_EMPTY_PATH);
    if (fr < 0) {
        held("handle-forged-root", "name_to_handle_at: %s", err(fr));
    } else {
        /* ext4's FILEID_INO32_GEN: u32 inode, u32 generation. */
        unsigned int ino = 2, gen = 0;
        memcpy(hd.h, &ino, 4);
        memcpy(hd.h + 4, &gen, 4);
        long o = TRY(syscall(SYS_open_by_handle_at, (int)rw, &hd, O_RDONLY | O_DIRECTORY | O_CLOEXEC), SYS_open_by_handle_at, rw, &hd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        verdict("handle-forged-root", o, "a forged handle (inode 2) opened past the grant");
        closefd(o);
    }

    /* exec-ro: in a child, so that a success does not end the program. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *av[] = { (char *)name, "exec-probe", 0 };
        extern char **environ;
        long e = f < 0 ? f : TRY(execveat((int)f, "", av, environ, AT_EMPTY_PATH), SYS_execveat, f, "", av, environ, AT_EMPTY_PATH);
        if (e < 0) e = TRY(execveat((int)ro, name, av, environ, 0), SYS_execveat, ro, name, av, environ, 0);
        _exit(e == -EACCES ? 13 : 14);
    }
    int st = 0;
    waitpid(c, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 42) escape("exec-ro", "ran %s/%s from the ro grant", bin, name);
    else held("exec-ro", "child status %#x (13: EACCES)", st);
    closefd(f);

    char dev[64];
    snprintf(dev, sizeof dev, "kattack-null-%d", (int)getpid());
    r = TRY(mknodat((int)rw, dev, S_IFCHR | 0666, makedev(1, 3)), SYS_mknodat, rw, dev, S_IFCHR | 0666, makedev(1, 3));
    verdict("mknod-chr-rw", r, "made a character device in the rw grant");
    if (r == 0) TRY(unlinkat((int)rw, dev, 0), SYS_unlinkat, rw, dev, 0);

    if (geteuid() == 0) {
        char su[64];
        snprintf(su, sizeof su, "kattack-suid-%d", (int)getpid());
        long s = lc(openat((int)rw, su, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0755));
        if (s < 0) {
            held("setuid-rw-root", "create: %s", err(s));
        } else {
            long m = TRY(fchmod((int)s, 04755), SYS_fchmod, s, 04755);
            if (m < 0) m = TRY(fchmodat((int)rw, su, 04755, 0), SYS_fchmodat, rw, su, 04755);
            struct stat sst;
            long q = TRY(fstat((int)s, &sst), SYS_fstat, s, &sst);
            if (m == 0 && q == 0 && (sst.st_mode & S_ISUID) && sst.st_uid == 0)
                escape("setuid-rw-root", "made %s/%s setuid root (mode %o)", out, su, sst.st_mode & 07777);
            else
                held("setuid-rw-root", "fchmod: %s, mode %o uid %d", err(m), sst.st_mode & 07777, sst.st_uid);
            closefd(s);
            unlinkat((int)rw, su, 0);
        }
    }
    if (geteuid() == 0) {
        char su[64];
        snprintf(su, sizeof su, "kattack-suidc-%d", (int)getpid());
        long s = TRY(openat((int)rw, su, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 04755), SYS_openat, rw, su, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 04755);
        struct stat sst;
        long q = s < 0 ? s : TRY(fstat((int)s, &sst), SYS_fstat, s, &sst);
        if (q == 0 && (sst.st_mode & S_ISUID) && sst.st_uid == 0)
            escape("setuid-create-rw-root", "created %s/%s setuid root (mode %o)", out, su, sst.st_mode & 07777);
        else
            held("setuid-create-rw-root", "%s", q < 0 ? err(q) : "made without S_ISUID");
        closefd(s);
        if (s >= 0) unlinkat((int)rw, su, 0);
    }
    closefd(ro);
    closefd(rw);

    long pfd = TRY(syscall(SYS_pidfd_open, 1, 0), SYS_pidfd_open, 1, 0);
    if (pfd < 0) {
        held("pidfd-init-madvise", "pidfd_open(1): %s", err(pfd));
        held("pidfd-init-signal", "pidfd_open(1): %s", err(pfd));
    } else {
        /* An address the init surely has mapped: none is known; the
         * permission check comes first, so any range shows it. */
        struct iovec iov = { (void *)0x400000, 4096 };
        r = TRY(syscall(SYS_process_madvise, (int)pfd, &iov, 1, MADV_COLD, 0), SYS_process_madvise, pfd, &iov, 1, MADV_COLD, 0);
        if (r >= 0 || r == -ENOMEM || r == -EFAULT) escape("pidfd-init-madvise", "process_madvise on the init passed its permission check (%s)", err(r));
        else held("pidfd-init-madvise", "%s", err(r));
        r = TRY(syscall(SYS_pidfd_send_signal, (int)pfd, SIGCONT, 0, 0), SYS_pidfd_send_signal, pfd, SIGCONT, 0, 0);
        verdict("pidfd-init-signal", r, "sent SIGCONT to the init");
        closefd(pfd);
    }
}
