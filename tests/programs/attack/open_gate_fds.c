/* The session open gate's grant fds (arch's GATE_GRANTS: the O_PATH fd of
 * each grant's copy that it opens beneath, preld's): found around the
 * handler (ld-preld's `syscall; ret`: the fd on /usr's copy), then a file
 * dup2'ed over it through the handler (preld moves its fd first, and the
 * gate's table must follow), then the fd closed through the handler
 * (EBADF: preld's). Each open of /usr/include/stdio.h afterwards (libc
 * open, its site rewritten to the gate) must open that very file, never
 * the file dup2'ed there (WRONG). */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static const char *P = "/usr/include/stdio.h";

__attribute__((noinline)) static int do_open(const char *p) { return open(p, O_RDONLY | O_CLOEXEC); }

static void opens(const char *when, const struct stat *want) {
    for (int i = 0; i < 4; i++) {
        struct stat st;
        int fd = do_open(P);
        if (fd < 0) {
            printf("%s: open %s: %s WRONG\n", when, P, strerror(errno));
            continue;
        }
        if (fstat(fd, &st) != 0 || st.st_ino != want->st_ino || st.st_dev != want->st_dev)
            printf("%s: open %s opened another file WRONG\n", when, P);
        close(fd);
    }
    printf("%s: opens done\n", when);
}

int main(int argc, char **argv) {
    ARGS
    find_gadgets();
    if (!ncand) {
        printf("no gadget\n");
        return 1;
    }
    G = cands[0];
    struct stat usr, want, st;
    if (stat("/usr", &usr) != 0 || stat(P, &want) != 0) {
        printf("no %s\n", P);
        return 1;
    }
    opens("before", &want);
    long found = -1;
    for (long fd = 3; fd < 65536 && found < 0; fd++)
        if (call_gadget(G, SYS_fstat, fd, (long)&st, 0, 0) == 0 && st.st_ino == usr.st_ino && st.st_dev == usr.st_dev
            && (call_gadget(G, SYS_fcntl, fd, F_GETFL, 0, 0) & O_PATH))
            found = fd;
    printf("/usr's grant fd: %s\n", found >= 0 ? "found" : "none");
    if (found < 0)
        return 1;
    int f = open(cat2(ro, "/victim"), O_RDONLY);
    long r = lc(dup2(f, (int)found));
    printf("dup2 over it: %s\n", r >= 0 ? "ok" : strerror((int)-r));
    opens("after dup2", &want);
    r = lc(close((int)found));
    printf("close of it: %s\n", r >= 0 ? "ok" : strerror((int)-r));
    opens("after close", &want);
    printf("open_gate_fds: done\n");
    return 0;
}
