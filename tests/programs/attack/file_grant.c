/* The file grants' fds that preld holds in the process to open granted files
 * itself (handler/src/beneath.rs, modes `f` and `e`: -B's /etc files, the
 * harness's `--exec static_cat` inside the read-only grant): found by
 * scanning the fd table around the handler (ld-preld's `syscall; ret`) for
 * O_PATH fds of regular files, each is used the way the handler never does,
 * through the session's procfs fd (found the same way), as the magic link
 * /proc/thread-self/fd/N:
 *   - opened for writing, read-write, with O_TRUNC, O_APPEND (Landlock gives
 *     these files reading only);
 *   - linked into each directory fd preld holds (the read-write grant's
 *     among them), then that link opened for writing;
 *   - chmod and utimensat through the link, fchmod/fchown/execveat of the
 *     fd itself;
 * and each fd named through the handler (libc open of /proc/self/fd/N).
 * Any write, link or run prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define PROC_SUPER_MAGIC 0x9fa0

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    ARGS
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    long proc = -1, dirs[64];
    int ndirs = 0;
    for (long fd = 3; fd < 65536; fd++) {
        struct stat st;
        struct statfs sf;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        if (g(SYS_fstatfs, fd, (long)&sf, 0, 0) == 0 && sf.f_type == PROC_SUPER_MAGIC) proc = fd;
        else if (ndirs < 64) dirs[ndirs++] = fd;
    }
    printf("procfs fd: %s\n", proc >= 0 ? "found" : "none");
    int files = 0;
    for (long fd = 3; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISREG(st.st_mode)) continue;
        long fl = g(SYS_fcntl, fd, F_GETFL, 0, 0);
        if (fl < 0 || !(fl & O_PATH)) continue;
        files++;
        char link[64], label[160];
        snprintf(link, sizeof link, "thread-self/fd/%ld", fd);
        static const int modes[] = { O_WRONLY, O_RDWR, O_WRONLY | O_TRUNC, O_WRONLY | O_APPEND, O_RDONLY | O_TRUNC };
        for (unsigned i = 0; proc >= 0 && i < sizeof modes / sizeof *modes; i++) {
            snprintf(label, sizeof label, "file fd %ld (inode %lu): open the link with flags %#x", fd, (unsigned long)st.st_ino, modes[i]);
            try_write_ro(label, g(SYS_openat, proc, (long)link, modes[i], 0));
        }
        if (proc >= 0) {
            char full[96];
            snprintf(full, sizeof full, "thread-self/fd/%ld", fd);
            long r = g(SYS_fchmodat, proc, (long)full, 0777, 0);
            printf("file fd %ld: chmod through the link: %s\n", fd, r == 0 ? "ESCAPE: mode changed around the handler (every file grant here is read-only)" : strerror((int)-r));
            struct timespec ts[2] = {{1, 0}, {1, 0}};
            r = g(SYS_utimensat, proc, (long)full, (long)ts, 0);
            printf("file fd %ld: utimensat through the link: %s\n", fd, r == 0 ? "ESCAPE: times changed around the handler" : strerror((int)-r));
            for (int d = 0; d < ndirs; d++) {
                r = call_gadget5(G, SYS_linkat, proc, (long)full, dirs[d], (long)"linked-grant", AT_SYMLINK_FOLLOW);
                if (r == 0) {
                    printf("file fd %ld: linked into dir fd %ld: ESCAPE: linked around the handler\n", fd, dirs[d]);
                    try_write_ro("the link opened for writing", g(SYS_openat, dirs[d], (long)"linked-grant", O_WRONLY, 0));
                } else {
                    printf("file fd %ld: link into a dir fd: %s\n", fd, strerror((int)-r));
                }
            }
        }
        long r = g(SYS_fchmod, fd, 0777, 0, 0);
        printf("file fd %ld: fchmod: %s\n", fd, r == 0 ? "ESCAPE: fchmod'ed around the handler" : strerror((int)-r));
        r = g(SYS_fchown, fd, 0, 0, 0);
        printf("file fd %ld: fchown: %s\n", fd, r == 0 ? "ESCAPE: fchown'ed around the handler" : strerror((int)-r));
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            char *av[] = { "static_cat", "/dev/null", 0 };
            long e = call_gadget5(G, SYS_execveat, fd, (long)"", (long)av, 0, AT_EMPTY_PATH);
            printf("file fd %ld: execveat(fd, \"\", AT_EMPTY_PATH): %s\n", fd, strerror((int)-e));
            fflush(stdout);
            _exit(99);
        }
        int ws = 0;
        waitpid(p, &ws, 0);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 99) printf("file fd %ld: execveat ran ESCAPE: a program run around the handler\n", fd);
        char proc_path[64];
        snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%ld", fd);
        long o = lc(open(proc_path, O_WRONLY));
        snprintf(label, sizeof label, "file fd %ld: libc open(/proc/self/fd/N, O_WRONLY)", fd);
        try_write_ro(label, o);
        fflush(stdout);
    }
    printf("file grant fds found: %d\n", files);
    return 0;
}
