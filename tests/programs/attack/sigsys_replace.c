#include "attack.h"
#include <signal.h>
static volatile int got;
static void mine(int sig, siginfo_t *si, void *uc) { (void)sig; (void)si; (void)uc; got++; }
int main(int argc, char **argv) {
    ARGS
    struct sigaction sa = {0};
    sa.sa_sigaction = mine;
    sa.sa_flags = SA_SIGINFO;
    printf("sigaction(SIGSYS): %d\n", sigaction(SIGSYS, &sa, 0));
    long r = raw6(SYS_rt_sigaction, SIGSYS, (long)&sa, 0, 8, 0, 0);
    printf("raw rt_sigaction(SIGSYS): %ld\n", r);
    signal(SIGSYS, SIG_IGN);
    printf("signal(SIGSYS, SIG_IGN) done\n");
    signal(SIGSYS, SIG_DFL);
    printf("signal(SIGSYS, SIG_DFL) done\n");
    fflush(stdout);
    show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    show("libc open secret", lc(open(secret, O_RDONLY)));
    try_write_ro("raw open ro/victim O_WRONLY", raw(SYS_openat, AT_FDCWD, cat2(ro, "/victim"), O_WRONLY, 0));
    printf("my handler ran %d times\n", got);
    return 0;
}
