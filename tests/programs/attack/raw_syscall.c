#include "attack.h"
int main(int argc, char **argv) {
    ARGS
    show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    show("raw open secret", raw(SYS_open, secret, O_RDONLY, 0, 0));
    show("raw openat /proc/self/root/secret", raw(SYS_openat, AT_FDCWD, cat2("/proc/self/root", secret), O_RDONLY, 0));
    struct { unsigned long long flags, mode, resolve; } how = { O_RDONLY, 0, 0 };
    show("raw openat2 secret", raw6(SYS_openat2, AT_FDCWD, (long)secret, (long)&how, sizeof how, 0, 0));
    try_write_ro("raw open ro/victim O_WRONLY", raw(SYS_openat, AT_FDCWD, cat2(ro, "/victim"), O_WRONLY | O_TRUNC, 0));
    try_write_ro("raw creat ro/new", raw(SYS_openat, AT_FDCWD, cat2(ro, "/new"), O_WRONLY | O_CREAT, 0644));
    long r = raw(SYS_unlink, cat2(ro, "/victim"), 0, 0, 0);
    printf("raw unlink ro/victim: %ld%s\n", r, r == 0 ? " ESCAPE: unlinked in a read-only grant" : "");
    r = raw(SYS_rename, cat2(ro, "/victim"), cat2(rw, "/moved"), 0, 0);
    printf("raw rename ro/victim: %ld%s\n", r, r == 0 ? " ESCAPE: renamed out of a read-only grant" : "");
    r = raw(SYS_truncate, cat2(ro, "/victim"), 0, 0, 0);
    printf("raw truncate ro/victim: %ld%s\n", r, r == 0 ? " ESCAPE: truncated in a read-only grant" : "");
    r = raw(SYS_chmod, cat2(ro, "/victim"), 0777, 0, 0);
    printf("raw chmod ro/victim: %ld%s\n", r, r == 0 ? " ESCAPE: chmod in a read-only grant" : "");
    show("libc open secret", lc(open(secret, O_RDONLY)));
    try_write_ro("libc open ro/victim O_RDWR", lc(open(cat2(ro, "/victim"), O_RDWR)));
    return 0;
}
