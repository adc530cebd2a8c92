/* stat_edges: stat and lstat (newfstatat(AT_FDCWD, PATH, BUF, 0 or
 * AT_SYMLINK_NOFOLLOW): the session stat gate's, made in asm from the
 * grant's copy) of absolute paths in the current directory (the test's
 * scratch, which it fills itself): symlinks at the end and on the way,
 * `..`, `//`, `/./`, trailing slashes, a path longer than PATH_MAX, a file
 * and a directory owned by nobody (65534) and by ids no session maps, a
 * FIFO; with BUF read-only,
 * NULL, across the end of a mapping, and in a vfork child. Each four
 * times (the sites rewritten to the gate); errno or the type, mode, owners,
 * size and link count. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char cwd[4096];

static const char *show(long r, const struct stat *st) {
    static char b[128];
    if (r < 0)
        return strerrorname_np((int)-r);
    snprintf(b, sizeof b, "ok %s mode %o uid %u gid %u size %lld nlink %lu", S_ISDIR(st->st_mode) ? "dir" : S_ISREG(st->st_mode) ? "file" : S_ISLNK(st->st_mode) ? "lnk" : S_ISFIFO(st->st_mode) ? "fifo" : "other",
             st->st_mode & 07777, st->st_uid, st->st_gid, S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, S_ISDIR(st->st_mode) ? 0UL : (unsigned long)st->st_nlink);
    return b;
}

static long fstatat_(const char *p, void *buf, int flags) {
    long r = syscall(SYS_newfstatat, AT_FDCWD, p, buf, flags);
    return r < 0 ? -errno : r;
}

static void tries(const char *rel, void *buf, const char *bufname) {
    char p[8192];
    if (rel[0] == '@')
        snprintf(p, sizeof p, "%s", rel + 1);
    else
        snprintf(p, sizeof p, "%s/%s", cwd, rel);
    for (int nf = 0; nf < 2; nf++) {
        struct stat own;
        void *b = buf ? buf : &own;
        if (buf == (void *)1)
            b = NULL;
        char last[160] = "";
        for (int k = 0; k < 4; k++) {
            memset(&own, 0, sizeof own);
            long r = fstatat_(p, b, nf ? AT_SYMLINK_NOFOLLOW : 0);
            snprintf(last, sizeof last, "%s", show(r, b == &own ? &own : (r < 0 ? NULL : &own)));
            if (r == 0 && b != &own)
                snprintf(last, sizeof last, "ok (into %s)", bufname);
        }
        printf("%s(%s%s%s): %s\n", nf ? "lstat" : "stat", strlen(rel) > 100 ? "(long)" : rel, bufname ? ", " : "", bufname ? bufname : "", last);
    }
}

int main(void) {
    if (!getcwd(cwd, sizeof cwd))
        return 2;
    mkdir("d", 0755);
    mkdir("d/sub", 0750);
    int w = open("d/f", O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (w < 0 || write(w, "hello\n", 6) != 6)
        return 2;
    close(w);
    w = open("d/nob", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    close(w);
    if (chown("d/nob", 65534, 65534))
        return 3;
    mkdir("d/nobdir", 0700);
    if (chown("d/nobdir", 65534, 65534))
        return 3;
    w = open("d/nobdir/in", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(w);
    w = open("d/halfnob", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(w);
    if (chown("d/halfnob", 0, 65534))
        return 3;
    /* Owners the session's user namespace may not map (the overflow id
       there: the handler's). */
    w = open("d/odd", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(w);
    if (chown("d/odd", 12345, 23456))
        return 3;
    w = open("d/oddgid", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(w);
    if (chown("d/oddgid", 0, 23456))
        return 3;
    symlink("odd", "d/oddln");
    if (lchown("d/oddln", 12345, 12345))
        return 3;
    link("d/f", "d/f2");
    symlink("f", "d/ln");
    symlink("sub", "d/lnd");
    symlink("..", "d/up");
    symlink("nowhere", "d/dangling");
    symlink("ln", "d/ln2");
    mkfifo("d/fifo", 0600);

    const char *rels[] = {"d", "d/", "d/.", "d/f", "d/f/", "d/f/.", "d/sub/", "d/sub/..", "d/sub/../f", "d//f", "d/./f", "d/ln", "d/ln/", "d/ln2", "d/lnd", "d/lnd/",
                          "d/lnd/..", "d/up", "d/up/d/f", "d/dangling", "d/missing", "d/missing/x", "d/nob", "d/nobdir", "d/nobdir/in", "d/halfnob", "d/odd", "d/oddgid", "d/oddln", "d/fifo", "d/ln/x", ""};
    for (unsigned i = 0; i < sizeof rels / sizeof *rels; i++)
        tries(rels[i], NULL, NULL);
    /* Longer than PATH_MAX, and a name longer than NAME_MAX. */
    static char lp[6000];
    strcpy(lp, "d");
    while (strlen(lp) < 4200)
        strcat(lp, "/sub/..");
    strcat(lp, "/f");
    tries(lp, NULL, NULL);
    static char ln[400];
    strcpy(ln, "d/");
    memset(ln + 2, 'n', 300);
    tries(ln, NULL, NULL);

    /* Buffers: read-only, NULL, across a mapping's end, at its very end. */
    long pg = sysconf(_SC_PAGESIZE);
    char *ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    tries("d/f", ro, "read-only");
    tries("d/missing", ro, "read-only");
    tries("d/f", (void *)1, "NULL");
    tries("d/missing", (void *)1, "NULL");
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(m + pg, pg);
    tries("d/f", m + pg - 64, "across the end");
    tries("d/f", m + pg - sizeof(struct stat), "at the end");
    tries("d/nob", m + pg - 64, "across the end");

    /* The path inside the buffer the stat is written to (read first by
       the kernel, then overwritten). */
    static const int offs[] = {0, 16, 48, 100, 143};
    for (unsigned i = 0; i < sizeof offs / sizeof *offs; i++)
        for (int nf = 0; nf < 2; nf++) {
            const char *rel[] = {"d/f", "d/ln", "d/nob", "d/missing"};
            for (int j = 0; j < 4; j++) {
                static char big[8192 + 512] __attribute__((aligned(16)));
                long r = 0;
                for (int k = 0; k < 4; k++) {
                    snprintf(big + offs[i], sizeof big - offs[i], "%s/%s", cwd, rel[j]);
                    r = fstatat_(big + offs[i], big, nf ? AT_SYMLINK_NOFOLLOW : 0);
                }
                printf("path inside the buffer at %d: %s(%s): %s\n", offs[i], nf ? "lstat" : "stat", rel[j], show(r, (struct stat *)big));
            }
        }

    /* In a vfork child (sharing the memory and the buffer). */
    static struct stat vst;
    static long vr;
    char p[8192];
    snprintf(p, sizeof p, "%s/d/nob", cwd);
    pid_t c = vfork();
    if (c == 0) {
        vr = syscall(SYS_newfstatat, AT_FDCWD, p, &vst, 0);
        vr = syscall(SYS_newfstatat, AT_FDCWD, p, &vst, 0);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("vfork child stat(d/nob): %s\n", show(vr < 0 ? -errno : 0, &vst));
    return 0;
}
