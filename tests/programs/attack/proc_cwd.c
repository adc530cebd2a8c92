/* cd into the session's /proc (cd /proc/self, /proc/1, /proc/self/fd) and
 * then relative names, through libc and through ld-preld's `syscall; ret`:
 * preld's fds (1000+), the init's environ/mem and the host must stay out of
 * reach; errno 4000 never reaches the program. ESCAPE marks a leak. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/wait.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void tryp(const char *how, const char *cwd, const char *p, int raw_call, int bad) {
    long fd = raw_call ? g(SYS_openat, AT_FDCWD, (long)p, O_RDONLY, 0) : lc(open(p, O_RDONLY));
    char b[128] = {0};
    long n = fd >= 0 ? (raw_call ? g(SYS_read, fd, (long)b, sizeof b - 1, 0) : lc(read((int)fd, b, sizeof b - 1))) : fd;
    char lk[256] = {0};
    long ln = raw_call ? g(SYS_readlinkat, AT_FDCWD, (long)p, (long)lk, 255) : lc(readlink(p, lk, 255));
    int e4000 = fd == -4000 || n == -4000 || ln == -4000;
    printf("%s cd %s: %s: open %s read %ld link %s%s%s\n", how, cwd, p, fd >= 0 ? "ok" : strerror((int)-fd), n,
           ln >= 0 ? lk : strerror((int)-ln), (bad && (n >= 0 || ln >= 0)) ? " ESCAPE" : "", e4000 ? " ESCAPE: errno 4000" : "");
    if (fd >= 0) { if (raw_call) g(SYS_close, fd, 0, 0, 0); else close((int)fd); }
    fflush(stdout);
}

int main(void) {
    const char *dirs[] = {"/proc/self", "/proc/1", "/proc/self/fd", "/proc/thread-self", "/proc/1/task/1", "/proc/self/task/2/fd", "/proc/1/fd"};
    const char *names[] = {"fd/1000", "fd/1001", "fd/1002", "fd/1003", "1000", "1001", "1002", "../1/environ", "../1/mem", "environ", "mem",
                           "../1/fd/0", "../1/fd/1000", "../1/fd/3", "../1/cwd/.", "../1/root/.", "../../1/environ", "../../../1/environ"};
    find_gadgets();
    if (ncand) G = cands[0];
    for (int raw_call = 0; raw_call < 2 && (!raw_call || G); raw_call++)
        for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
            long r = raw_call ? g(SYS_chdir, (long)dirs[i], 0, 0, 0) : lc(chdir(dirs[i]));
            if (r == -4000) printf("ESCAPE: errno 4000\n");
            printf("%s chdir %s: %s\n", raw_call ? "raw" : "libc", dirs[i], r ? strerror((int)-r) : "ok");
            /* both ways after either chdir */
            for (int h = 0; h < 2 && (!h || G); h++)
                for (unsigned k = 0; k < sizeof names / sizeof *names; k++) {
                    int bad = strstr(names[k], "1/") && strncmp(dirs[i], "/proc/self", 10) && strncmp(dirs[i], "/proc/thread", 12) ? 1 : 0;
                    if (strstr(names[k], "../1/") || strstr(names[k], "../../1") || strstr(names[k], "100")) bad = 1;
                    if (!strcmp(dirs[i], "/proc/1") || !strcmp(dirs[i], "/proc/1/task/1") || !strcmp(dirs[i], "/proc/1/fd")) bad = 1;
                    tryp(h ? "raw" : "libc", dirs[i], names[k], h, bad);
                }
            pid_t c = fork();
            if (!c) {
                for (int h = 0; h < 2 && (!h || G); h++) {
                    tryp(h ? "child raw" : "child libc", dirs[i], "fd/1000", h, 1);
                    tryp(h ? "child raw" : "child libc", dirs[i], "../1/environ", h, 1);
                    tryp(h ? "child raw" : "child libc", dirs[i], "environ", h, !strcmp(dirs[i], "/proc/1"));
                }
                _exit(0);
            }
            waitpid(c, 0, 0);
            chdir("/");
        }
    return 0;
}
