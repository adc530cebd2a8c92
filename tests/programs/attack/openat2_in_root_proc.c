/* openat2 with RESOLVE_IN_ROOT (and NO_SYMLINKS or NO_MAGICLINKS) of an
 * absolute name beneath /proc from a directory fd of the program's grant:
 * natively `/` is that fd, so /proc/... names the grant's own proc/...
 * (here a fake proc/cpuinfo and proc/self/status), never the session's
 * procfs. argv: secret ro rw. Prints one line a call, to be compared with
 * a native run. */
#include "attack.h"
#include <linux/openat2.h>
#include <sys/stat.h>
static void try(const char *what, int dfd, const char *path, unsigned long long resolve) {
    struct open_how how = {.flags = O_RDONLY, .resolve = resolve};
    long fd = syscall(SYS_openat2, dfd, path, &how, sizeof how);
    for (int i = 0; fd < 0 && errno == EAGAIN && i < 1000; i++) fd = syscall(SYS_openat2, dfd, path, &how, sizeof how);
    if (fd < 0) printf("%s: %s\n", what, strerror(errno));
    else {
        char b[16] = {0};
        long n = read(fd, b, 5);
        printf("%s: opened, read %ld: %s\n", what, n, n > 0 ? b : "");
        close(fd);
    }
    fflush(stdout);
}
int main(int argc, char **argv) {
    ARGS
    char *d = cat2(rw, "/root");
    mkdir(d, 0755);
    mkdir(cat2(d, "/proc"), 0755);
    mkdir(cat2(d, "/proc/self"), 0755);
    FILE *f = fopen(cat2(d, "/proc/cpuinfo"), "w"); fputs("fake\n", f); fclose(f);
    f = fopen(cat2(d, "/proc/self/status"), "w"); fputs("fak2\n", f); fclose(f);
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    try("in_root|no_symlinks /proc/cpuinfo", dfd, "/proc/cpuinfo", RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    try("in_root|no_magiclinks /proc/cpuinfo", dfd, "/proc/cpuinfo", RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    try("in_root|no_magiclinks /proc/self/status", dfd, "/proc/self/status", RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    try("in_root|no_symlinks /proc/self/status", dfd, "/proc/self/status", RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
    try("in_root /proc/cpuinfo", dfd, "/proc/cpuinfo", RESOLVE_IN_ROOT);
    try("in_root|no_magiclinks /proc/missing", dfd, "/proc/missing", RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    printf("openat2_in_root_proc: done\n");
    return 0;
}
