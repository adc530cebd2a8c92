/* The host's sysfs and cgroup hierarchy in a grant of / (`--ro /` or
 * `--rw /`), covered in the copy: neither libc's open (the handler's
 * gate_open and the server's walk) nor code around the handler (ld-preld's
 * `syscall; ret`) with any fd of the process opens a file of them, nor
 * makes a cgroup. Each that works prints ESCAPE.
 * argv: none */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }
int main(void) {
    setvbuf(stdout, 0, _IONBF, 0);
    const char *names[] = {"/sys/kernel/notes", "/sys/fs/cgroup/cgroup.procs", "/sys/./kernel/notes", "/usr/../sys/kernel/notes", "/dev/mqueue/x", 0};
    for (int i = 0; names[i]; i++) {
        long fd = lc(open(names[i], O_RDONLY));
        printf("libc open %s: %s%s\n", names[i], fd >= 0 ? "opened" : strerror((int)-fd), fd >= 0 ? " ESCAPE" : "");
        if (fd >= 0) close(fd);
    }
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    const char *rels[] = {"sys/kernel/notes", "sys/fs/cgroup/cgroup.procs", "kernel/notes", "fs/cgroup/cgroup.procs", "cgroup.procs", 0};
    int dirs = 0;
    for (long fd = 0; fd < 4096; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        for (int i = 0; rels[i]; i++) {
            long r = g(SYS_openat, fd, (long)rels[i], O_RDONLY, 0);
            if (r >= 0) { printf("openat(fd %ld, %s): opened ESCAPE\n", fd, rels[i]); g(SYS_close, r, 0, 0, 0); }
        }
        if (g(SYS_mkdirat, fd, (long)"sys/fs/cgroup/preld-x", 0755, 0) == 0) printf("mkdirat(fd %ld, a cgroup): made ESCAPE\n", fd);
    }
    printf("directory fds: %d\n", dirs);
    return 0;
}
