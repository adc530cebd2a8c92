/* A clone(CLONE_FILES) child dup2s a socket of the program's own over
 * every connection of its parent to the capability server (through
 * ld-preld's `syscall; ret`, which the handler does not see), and nobody
 * answers on it: the parent's next server call (a mkdir in the rw grant)
 * must not wait in the handler for good. A bystander child sleeps
 * meanwhile: killing the launcher must end it and the parent too.
 *   argv[4...] (optional): "hang-only" leaves out the bystander; "fd=N"
 *   puts fd N (a socket passed in from outside, whose peer never answers)
 *   over the connections instead of a socketpair of its own.
 * Prints "bystander PID", "calling", then "mkdir: RESULT" once the call
 * has ended. */
#include "attack.h"
#include "gadget_scan.h"
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static unsigned long G;
static long gc(long n, long a, long b, long c, long d) { return G ? call_gadget(G, n, a, b, c, d) : raw(n, a, b, c, d); }

int main(int argc, char **argv) {
    ARGS
    setvbuf(stdout, 0, _IOLBF, 0);
    find_gadgets();
    G = ncand ? cands[0] : 0;
    int outside = -1, bystander = 1;
    for (int i = 4; i < argc; i++) {
        if (strncmp(argv[i], "fd=", 3) == 0) outside = atoi(argv[i] + 3);
        if (strcmp(argv[i], "hang-only") == 0) bystander = 0;
    }
    if (bystander) {
        pid_t b = fork();
        if (b == 0) {
            for (;;) pause();
        }
        printf("bystander %d\n", (int)b);
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0) { perror("socketpair"); return 1; }
    long c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
    if (c == 0) {
        /* The sockets in the table but the pair: preld's connections. */
        int n = 0;
        for (int fd = 0; fd < 65536; fd++) {
            struct stat st;
            int with = outside >= 0 ? outside : sp[0];
            if (fd == sp[0] || fd == sp[1] || fd == outside) continue;
            if (gc(SYS_fstat, fd, (long)&st, 0, 0) == 0 && S_ISSOCK(st.st_mode) && gc(SYS_dup2, with, fd, 0, 0) == fd) n++;
        }
        printf("replaced %d connections\n", n);
        _exit(0);
    }
    waitpid(c, 0, 0);
    printf("calling\n");
    long r = lc(mkdir(cat2(rw, "/made"), 0755));
    printf("mkdir: %s\n", r < 0 ? strerror((int)-r) : "made");
    return 0;
}
