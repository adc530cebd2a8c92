#include "attack.h"
#include <signal.h>
int main(int argc, char **argv) {
    ARGS
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGSYS);
    printf("sigprocmask block SIGSYS: %d\n", sigprocmask(SIG_BLOCK, &s, 0));
    unsigned long all = ~0UL;
    printf("raw rt_sigprocmask block all: %ld\n", raw(SYS_rt_sigprocmask, SIG_BLOCK, &all, 0, 8));
    fflush(stdout);
    show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    show("libc open secret", lc(open(secret, O_RDONLY)));
    try_write_ro("raw open ro/victim O_WRONLY", raw(SYS_openat, AT_FDCWD, cat2(ro, "/victim"), O_WRONLY, 0));
    return 0;
}
