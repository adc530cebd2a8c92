/* Truncations of read-only grants' files around the handler. Landlock's
 * rules give no TRUNCATE beneath read-only grants (handler/src/sandbox.rs;
 * given on their read-only copies, it held for the same inodes on the
 * host's writable mounts: a victim given as stdin, reopened through
 * procfs, was truncated); this tries each way the kernel offers, through
 * every fd of the process (the grants' copies preld holds, the file
 * grants' O_PATH fds, an inherited stdin) with ld-preld's `syscall; ret`:
 *   - openat(dir fd, NAME, O_RDONLY|O_TRUNC), which asks Landlock for the
 *     TRUNCATE right alone (no write right: the file is opened for
 *     reading), and O_WRONLY|O_TRUNC, O_RDWR|O_TRUNC;
 *   - truncate of /proc/self/fd/D/NAME and /proc/self/fd/F (the process's
 *     root is the session's empty one: these fail to resolve), and the
 *     same names opened with O_RDONLY|O_TRUNC from the session's procfs
 *     fd preld holds (self/fd/F: the magic link reopened, to the copy);
 *   - ftruncate of each fd itself;
 * and through libc (the handler and the server): truncate(PATH),
 * open(PATH, O_RDONLY|O_TRUNC). A truncation that succeeds prints ESCAPE;
 * the harness also compares the files' sizes.
 * argv: NAME PATH... (NAME: the victims' name within a directory grant;
 * PATH: the victims' paths in the session) */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/vfs.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void truncated(const char *what, long r, int opened) {
    printf("%s: %s%s\n", what, r >= 0 ? "done" : strerror((int)-r),
           r >= 0 && !opened ? " ESCAPE: truncated a read-only grant's file" : "");
    fflush(stdout);
}

/* An open with O_TRUNC: its success truncated the file (the harness sees
 * the size); the fd is closed. */
static void opened(const char *what, long fd) {
    printf("%s: %s%s\n", what, fd >= 0 ? "opened" : strerror((int)-fd), fd >= 0 ? " ESCAPE: opened a read-only grant's file with O_TRUNC" : "");
    fflush(stdout);
    if (fd >= 0) g(SYS_close, fd, 0, 0, 0);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: ro_truncate NAME PATH...\n"); return 2; }
    const char *name = argv[1];
    char label[300];
    for (int i = 2; i < argc; i++) {
        snprintf(label, sizeof label, "libc truncate %s", argv[i]);
        truncated(label, lc(truncate(argv[i], 0)), 0);
        snprintf(label, sizeof label, "libc open %s O_RDONLY|O_TRUNC", argv[i]);
        long fd = lc(open(argv[i], O_RDONLY | O_TRUNC));
        opened(label, fd);
        /* Opened for reading, so that the loop below meets its fd too. */
        lc(open(argv[i], O_RDONLY));
    }
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing more to try\n"); return 0; }
    G = cands[0];
    int dirs = 0, files = 0;
    long procfs = -1;
    for (long d = 0; d < 65536 && procfs < 0; d++) {
        struct statfs sf;
        if (g(SYS_fstatfs, d, (long)&sf, 0, 0) == 0 && sf.f_type == 0x9fa0) procfs = d;
    }
    printf("the session's procfs: fd %ld\n", procfs);
    for (long d = 0; d < 65536; d++) {
        struct stat st;
        if (g(SYS_fstat, d, (long)&st, 0, 0) < 0) continue;
        char p[96];
        if (S_ISDIR(st.st_mode)) {
            dirs++;
            static const int modes[] = { O_RDONLY | O_TRUNC, O_WRONLY | O_TRUNC, O_RDWR | O_TRUNC };
            static const char *names[] = { "O_RDONLY|O_TRUNC", "O_WRONLY|O_TRUNC", "O_RDWR|O_TRUNC" };
            for (int m = 0; m < 3; m++) {
                snprintf(label, sizeof label, "openat(dir fd %ld, %s, %s)", d, name, names[m]);
                opened(label, g(SYS_openat, d, (long)name, modes[m], 0));
            }
            snprintf(p, sizeof p, "/proc/self/fd/%ld/%s", d, name);
            snprintf(label, sizeof label, "truncate %s", p);
            truncated(label, g(SYS_truncate, (long)p, 0, 0, 0), 0);
            snprintf(p, sizeof p, "self/fd/%ld/%s", d, name);
            snprintf(label, sizeof label, "openat(procfs, %s, O_RDONLY|O_TRUNC)", p);
            if (procfs >= 0) opened(label, g(SYS_openat, procfs, (long)p, O_RDONLY | O_TRUNC, 0));
        } else if (S_ISREG(st.st_mode)) {
            files++;
            snprintf(p, sizeof p, "/proc/self/fd/%ld", d);
            snprintf(label, sizeof label, "truncate %s", p);
            truncated(label, g(SYS_truncate, (long)p, 0, 0, 0), 0);
            snprintf(p, sizeof p, "self/fd/%ld", d);
            snprintf(label, sizeof label, "openat(procfs, %s, O_RDONLY|O_TRUNC)", p);
            if (procfs >= 0) opened(label, g(SYS_openat, procfs, (long)p, O_RDONLY | O_TRUNC, 0));
            snprintf(label, sizeof label, "ftruncate fd %ld", d);
            truncated(label, g(SYS_ftruncate, d, 0, 0, 0), 0);
        }
    }
    printf("directory fds: %d, file fds: %d\n", dirs, files);
    fflush(stdout);
    return 0;
}
