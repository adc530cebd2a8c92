/* argv[4]: static-cat outside the grants, argv[5]: static-cat inside the ro
 * grant, argv[6]: ld-preld's host path. */
#include "attack.h"
#include <sys/wait.h>
static void run(const char *label, const char *prog, char *const *av, int raw_exec) {
    pid_t p = fork();
    if (p == 0) {
        long r = raw_exec ? raw(SYS_execve, prog, av, 0, 0) : lc(execv(prog, av));
        printf("%s: exec failed %s\n", label, strerror((int)-r));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("%s: status %#x\n", label, st);
    fflush(stdout);
}
int main(int argc, char **argv) {
    ARGS
    if (argc < 7) return 2;
    const char *out = argv[4], *in = argv[5], *ldp = argv[6];
    char *victim = cat2(ro, "/victim");
    char *a1[] = { (char *)out, (char *)secret, victim, 0 };
    run("execv ungranted static", out, a1, 0);
    run("raw execve ungranted static", out, a1, 1);
    char *a2[] = { (char *)in, (char *)secret, victim, 0 };
    run("execv granted static", in, a2, 0);
    run("raw execve granted static", in, a2, 1);
    char *a3[] = { (char *)ldp, (char *)out, (char *)secret, 0 };
    run("execv ld-preld ungranted static", ldp, a3, 0);
    run("raw execve ld-preld ungranted static", ldp, a3, 1);
    char *a4[] = { (char *)ldp, "/bin/cat", (char *)secret, 0 };
    run("raw execve ld-preld /bin/cat secret", ldp, a4, 1);
    char *pr = cat2("/proc/self/root", out);
    run("execv /proc/self/root/ungranted", pr, a1, 0);
    return 0;
}
