/* openat2 called by the program itself (libc's syscall()), beneath its own
 * read-write grant: the resolve flags and struct open_how checks as the
 * kernel makes them. argv: secret ro rw. Prints one line a call, to be
 * compared with a native run in a directory of its own. */
#include "attack.h"
#include <linux/openat2.h>
#include <sys/stat.h>
static void try(const char *what, int dfd, const char *path, unsigned long long flags, unsigned long long mode, unsigned long long resolve, size_t size, int pad) {
    char buf[64] = {0};
    struct open_how *how = (struct open_how *)buf;
    how->flags = flags; how->mode = mode; how->resolve = resolve;
    if (pad) buf[40] = 1;
    long fd = syscall(SYS_openat2, dfd, path, how, size);
    if (fd < 0) printf("%s: %s\n", what, strerror(errno));
    else {
        char b[32] = {0};
        long n = read(fd, b, sizeof b - 1);
        printf("%s: opened, read %ld: %s\n", what, n, n > 0 ? b : "");
        close(fd);
    }
    fflush(stdout);
}
int main(int argc, char **argv) {
    ARGS
    char *d = cat2(rw, "/d");
    mkdir(d, 0755);
    FILE *f = fopen(cat2(rw, "/top"), "w"); fputs("top\n", f); fclose(f);
    f = fopen(cat2(d, "/f"), "w"); fputs("f\n", f); fclose(f);
    unlink(cat2(d, "/lnk")); symlink("f", cat2(d, "/lnk"));
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    try("beneath ../top", dfd, "../top", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath absolute", dfd, cat2(rw, "/top"), O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("no_symlinks lnk", dfd, "lnk", O_RDONLY, 0, RESOLVE_NO_SYMLINKS, 24, 0);
    try("in_root /f", dfd, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT, 24, 0);
    try("in_root ../../f", dfd, "../../f", O_RDONLY, 0, RESOLVE_IN_ROOT, 24, 0);
    try("no_magiclinks /proc/self/cwd", AT_FDCWD, "/proc/self/cwd/top", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS, 24, 0);
    try("size 48 padded", dfd, "f", O_RDONLY, 0, 0, 48, 1);
    try("size 48 zero", dfd, "f", O_RDONLY, 0, 0, 48, 0);
    try("size 16", dfd, "f", O_RDONLY, 0, 0, 16, 0);
    try("mode without O_CREAT", dfd, "f", O_RDONLY, 0644, 0, 24, 0);
    try("flags bit 40", dfd, "f", O_RDONLY | (1ULL << 40), 0, 0, 24, 0);
    try("resolve bit 20", dfd, "f", O_RDONLY, 0, 1ULL << 20, 24, 0);
    try("plain f", dfd, "f", O_RDONLY, 0, 0, 24, 0);
    printf("openat2_direct: done\n");
    return 0;
}
