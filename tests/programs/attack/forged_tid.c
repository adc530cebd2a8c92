/* A file grant's reopen goes through TID/fd/N of the session's procfs,
 * TID read from preld's thread block (beneath.rs `own_tid`), which the
 * program can write: here forged (the thread block's `tid`, at gs:[0] +
 * 120) to the session's init (1), a pid that does not exist, the parent's
 * pid from a fork child, and a child whose fd table holds, at every number
 * preld's fds may have, the secret's directory or an fd on the rw grant
 * (up to the fd limit, dup2 through ld-preld's `syscall; ret`), then -B's file grants
 * (/etc/passwd, /etc/hostname) opened, read and opened for writing. Only
 * the program may suffer: a secret's byte read, a write that lands, or a
 * crash of preld's launcher is an escape.
 * argv: secret ro rw */
#include "attack.h"
#include "gadget_scan.h"
#include <signal.h>
#include <sys/wait.h>
#include <sys/resource.h>

static unsigned long G;

static unsigned long block(void) {
    unsigned long b;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(b));
    return b;
}

static void forge(long tid) {
    *(volatile unsigned long *)(block() + 120) = (unsigned long)tid;
}

static void opens(const char *who) {
    static const char *files[] = { "/etc/passwd", "/etc/hostname", "/etc/ld.so.cache" };
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) {
        char label[256];
        snprintf(label, sizeof label, "%s: open %s", who, files[i]);
        long fd = lc(open(files[i], O_RDONLY));
        if (fd >= 0) {
            char b[8];
            long n = read((int)fd, b, sizeof b);
            printf("%s: fd %ld, read %ld\n", label, fd, n);
            close((int)fd);
        } else {
            printf("%s: fail %s\n", label, strerror((int)-fd));
        }
        snprintf(label, sizeof label, "%s: open %s for writing", who, files[i]);
        try_write_ro(label, lc(open(files[i], O_WRONLY)));
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    long mine = *(volatile unsigned long *)(block() + 120);
    printf("forged_tid: own tid in the block %ld, gettid %ld\n", mine, (long)syscall(SYS_gettid));
    forge(1);
    opens("tid 1 (the init)");
    forge(4000000);
    opens("tid 4000000 (none)");
    forge(0);
    opens("tid 0 (gettid)");
    /* A child whose fd table has the secret's directory and the rw grant's
     * fds at every number above 2 (around the handler), pausing; the
     * parent forges its tid to the child's. */
    find_gadgets();
    int sync[2];
    if (pipe(sync) != 0) return 1;
    pid_t c = fork();
    if (c == 0) {
        if (ncand) {
            G = cands[0];
            long d = lc(open(rw, O_RDONLY | O_DIRECTORY));
            long w = lc(open(cat2(rw, "/w"), O_RDWR | O_CREAT, 0644));
            struct rlimit rl;
            long top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1048576 ? (long)rl.rlim_cur : 65536;
            for (long n = 3; n < top; n++) {
                if (n == d || n == w || n == sync[1]) continue;
                call_gadget(G, SYS_dup2, (n & 1) ? d : w, n, 0, 0);
            }
        }
        forge(getppid());
        opens("child, tid forged to its parent's");
        if (write(sync[1], "x", 1) != 1) _exit(1);
        pause();
        _exit(0);
    }
    char x;
    if (read(sync[0], &x, 1) != 1) return 1;
    forge(c);
    opens("parent, tid forged to the child's");
    forge(0);
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    opens("parent, own tid again");
    printf("forged_tid: done\n");
    return 0;
}
