/* ld-preld exec'd through its own `syscall; ret` gate (no handler to
 * build its arguments) with forged preld arguments: each directory fd
 * preld holds (a grant's) given as a read-write `--beneath` grant at `/`,
 * at the ro grant's path and at the secret's directory, with made-up mount
 * ids and nodev flags, `--sandboxed`, `--cwd` in the secret's directory,
 * each socket fd as `--rpc-fd`, and the ro grant's static_cat handed over
 * as `--exec-fd` (or, without a session, run as /proc/self/fd/N); static_cat then reads the secret and opens the ro
 * grant's victim for writing. Landlock and the mount copies must keep both
 * out, whatever the new image's handler believes it was given.
 * argv[4]: ld-preld's path. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/wait.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) return 2;
    const char *ldp = argv[4];
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    long dirs[64], socks[16];
    int nd = 0, ns = 0;
    for (long fd = 3; fd < 65536 && nd < 64; fd++) {
        struct stat st;
        if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0) continue;
        if (S_ISDIR(st.st_mode)) dirs[nd++] = fd;
        else if (S_ISSOCK(st.st_mode) && ns < 16) socks[ns++] = fd;
    }
    printf("%d dir fds, %d socket fds\n", nd, ns);
    char *cat = cat2(ro, "/static_cat"), *victim = cat2(ro, "/victim");
    char secret_dir[4096];
    snprintf(secret_dir, sizeof secret_dir, "%s", secret);
    *strrchr(secret_dir, '/') = 0;
    const char *vpaths[] = { "/", ro, secret_dir };
    const char *known[] = { "", ",1,1", ",4294967296,0" };
    int tries = 0;
    for (int d = 0; d < nd; d++)
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++)
                for (int s = 0; s <= ns; s++)
                for (int what = 0; what < 2; what++) {
                    if (s == ns && (d || v || k)) continue; /* no session: once */
                    long exe = lc(open(cat, O_RDONLY));
                    if (exe < 0) { printf("open static_cat: %s\n", strerror((int)-exe)); return 0; }
                    char bn[4200], rpc[32], efd[32];
                    snprintf(bn, sizeof bn, "%ld:w%s:%s", dirs[d], known[k], vpaths[v]);
                    snprintf(efd, sizeof efd, "%ld", exe);
                    char *av[24];
                    int n = 0;
                    av[n++] = (char *)ldp;
                    if (s < ns) {
                        snprintf(rpc, sizeof rpc, "%ld", socks[s]);
                        av[n++] = "--rpc-fd"; av[n++] = rpc;
                        av[n++] = "--exec-fd"; av[n++] = efd;
                    }
                    av[n++] = "--sandboxed";
                    av[n++] = "--cwd"; av[n++] = secret_dir;
                    av[n++] = "--beneath"; av[n++] = bn;
                    av[n++] = "--";
                    char self_fd[64];
                    snprintf(self_fd, sizeof self_fd, "/proc/self/fd/%ld", exe);
                    av[n++] = s < ns ? cat : self_fd;
                    /* the secret, else the victim (readable) then the victim for writing */
                    av[n++] = what ? victim : (char *)secret; av[n++] = victim; av[n] = 0;
                    fflush(stdout);
                    pid_t p = fork();
                    if (p == 0) {
                        /* preld's fds are close-on-exec: these cross. */
                        g(SYS_fcntl, exe, F_SETFD, 0, 0);
                        for (int i = 0; i < nd; i++) g(SYS_fcntl, dirs[i], F_SETFD, 0, 0);
                        /* The fork gave the child connections of its own:
                         * the s-th socket of its table is the one to forge. */
                        int k2 = 0;
                        for (long fd = 3; fd < 65536; fd++) {
                            struct stat st;
                            if (g(SYS_fstat, fd, (long)&st, 0, 0) < 0 || !S_ISSOCK(st.st_mode)) continue;
                            g(SYS_fcntl, fd, F_SETFD, 0, 0);
                            if (s < ns && k2++ == s) snprintf(rpc, sizeof rpc, "%ld", fd);
                        }
                        long r = g(SYS_execve, (long)ldp, (long)av, (long)(char *[]){0}, 0);
                        printf("execve ld-preld %s: %s\n", bn, strerror((int)-r));
                        fflush(stdout);
                        _exit(0);
                    }
                    int st;
                    waitpid(p, &st, 0);
                    close((int)exe);
                    tries++;
                }
    printf("forged execs tried: %d\n", tries);
    return 0;
}
