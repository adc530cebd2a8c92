/* The host's /proc inside a grant of / (`--ro /`): the session's /proc is
 * its own, the host's would list every process of the machine with its
 * command line, and the user's keyrings. Tried through the server's walk
 * (`/usr/../proc/...`, which names the session's /proc as /proc does; a
 * directory fd of / and a name below it) and around the handler: every
 * directory fd of the process (the grant of / among them, handed out by
 * the server), with `proc/...` opened and listed through ld-preld's
 * `syscall; ret`. Anything of the host's /proc prints ESCAPE: the host
 * pid argv[1] (the test's own, outside the session) found, a keyring
 * listed. */
#include "attack.h"
#include "gadget_scan.h"
#include <dirent.h>
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void got(const char *label, long r, int escape) {
    printf("%s: %s%s\n", label, r >= 0 ? "opened" : strerror((int)-r), r >= 0 && escape ? " ESCAPE: the host's /proc" : "");
    fflush(stdout);
}

/* How many entries other than . and .. the directory at fd lists. */
static long entries(long fd, int raw_call) {
    char buf[4096];
    long n = raw_call ? g(SYS_getdents64, fd, (long)buf, sizeof buf, 0) : raw(SYS_getdents64, fd, buf, sizeof buf, 0);
    if (n < 0) return n;
    long count = 0;
    for (long off = 0; off < n;) {
        struct dirent64 *d = (struct dirent64 *)(buf + off);
        if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) count++;
        off += d->d_reclen;
    }
    return count;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: host_proc HOST_PID\n"); return 2; }
    char p[256], label[300];
    snprintf(p, sizeof p, "/usr/../proc/%s/cmdline", argv[1]);
    got("libc open /usr/../proc/HOST_PID/cmdline", lc(open(p, O_RDONLY)), 1);
    long k = lc(open("/usr/../proc/keys", O_RDONLY));
    char kb[64];
    long kn = k < 0 ? k : lc(read((int)k, kb, sizeof kb));
    printf("libc read /usr/../proc/keys: %ld%s\n", kn, kn > 0 ? " ESCAPE: keyrings listed" : "");
    long d = lc(open("/usr/../proc", O_RDONLY | O_DIRECTORY));
    snprintf(p, sizeof p, "/usr/../proc/%s", argv[1]);
    long hp = lc(open(p, O_RDONLY | O_DIRECTORY));
    printf("libc list /usr/../proc: %s; HOST_PID there: %s%s\n", d >= 0 ? "opened" : strerror((int)-d), hp >= 0 ? "yes" : strerror((int)-hp),
           hp >= 0 ? " ESCAPE: the host's /proc" : "");
    long root = lc(open("/", O_RDONLY | O_DIRECTORY));
    snprintf(p, sizeof p, "proc/%s/cmdline", argv[1]);
    got("libc openat(/, proc/HOST_PID/cmdline)", root < 0 ? root : lc(openat((int)root, p, O_RDONLY)), 1);
    /* The session's own /proc still works. */
    got("libc open /proc/self/status", lc(open("/proc/self/status", O_RDONLY)), 0);
    fflush(stdout);

    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    int dirs = 0;
    for (long fd = 0; fd < 65536; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISDIR(st.st_mode)) continue;
        dirs++;
        snprintf(label, sizeof label, "openat(dir fd %ld, proc/HOST_PID/cmdline)", fd);
        long r = g(SYS_openat, fd, (long)p, O_RDONLY, 0);
        got(label, r, 1);
        if (r >= 0) g(SYS_close, r, 0, 0, 0);
        snprintf(label, sizeof label, "openat(dir fd %ld, proc/keys)", fd);
        r = g(SYS_openat, fd, (long)"proc/keys", O_RDONLY, 0);
        got(label, r, 1);
        if (r >= 0) g(SYS_close, r, 0, 0, 0);
        long pd = g(SYS_openat, fd, (long)"proc", O_RDONLY | O_DIRECTORY, 0);
        if (pd >= 0) {
            long k = entries(pd, 1);
            printf("list dir fd %ld's proc: %ld%s\n", fd, k, k > 0 ? " ESCAPE: the host's /proc listed" : "");
            g(SYS_close, pd, 0, 0, 0);
        }
    }
    printf("directory fds: %d\n", dirs);
    fflush(stdout);
    return 0;
}
