/* openat2 called by the program itself (libc's syscall()), beneath its own
 * read-write grant: the resolve flags and struct open_how checks as the
 * kernel makes them. argv: secret ro rw. Prints one line a call, to be
 * compared with a native run in a directory of its own. */
#include "attack.h"
#include <linux/openat2.h>
#include <sys/stat.h>
#include <fcntl.h>
static void try(const char *what, int dfd, const char *path, unsigned long long flags, unsigned long long mode, unsigned long long resolve, size_t size, int pad) {
    char buf[64] = {0};
    struct open_how *how = (struct open_how *)buf;
    how->flags = flags; how->mode = mode; how->resolve = resolve;
    if (pad) buf[40] = 1;
    long fd = syscall(SYS_openat2, dfd, path, how, size);
    /* EAGAIN: a `..` walked with RESOLVE_BENEATH or IN_ROOT while any
     * mount or rename happened on the machine (the kernel's scoped
     * lookups retry no further); openat2(2) says to try again. */
    for (int i = 0; fd < 0 && errno == EAGAIN && !(how->resolve & RESOLVE_CACHED) && i < 1000; i++)
        fd = syscall(SYS_openat2, dfd, path, how, size);
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
    char *sub = cat2(d, "/sub");
    mkdir(sub, 0755);
    f = fopen(cat2(sub, "/g"), "w"); fputs("g\n", f); fclose(f);
    unlink(cat2(d, "/abs")); symlink("/f", cat2(d, "/abs"));
    unlink(cat2(d, "/subl")); symlink("sub", cat2(d, "/subl"));
    unlink(cat2(d, "/up")); symlink("../top", cat2(d, "/up"));
    unlink(cat2(d, "/fifo")); mkfifo(cat2(d, "/fifo"), 0644);
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
    try("beneath sub/../f", dfd, "sub/../f", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath sub/../../top", dfd, "sub/../../top", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath up (a link out)", dfd, "up", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath abs (a link to /f)", dfd, "abs", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("in_root abs (a link to /f)", dfd, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT, 24, 0);
    try("in_root up", dfd, "up", O_RDONLY, 0, RESOLVE_IN_ROOT, 24, 0);
    try("beneath subl/g", dfd, "subl/g", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("no_symlinks subl/g", dfd, "subl/g", O_RDONLY, 0, RESOLVE_NO_SYMLINKS, 24, 0);
    try("no_symlinks sub/g", dfd, "sub/g", O_RDONLY, 0, RESOLVE_NO_SYMLINKS, 24, 0);
    try("beneath lnk nofollow", dfd, "lnk", O_RDONLY | O_NOFOLLOW, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath f as a directory", dfd, "f", O_RDONLY | O_DIRECTORY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath missing", dfd, "missing", O_RDONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath fifo nonblocking", dfd, "fifo", O_RDONLY | O_NONBLOCK, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath ../top for writing", dfd, "../top", O_WRONLY, 0, RESOLVE_BENEATH, 24, 0);
    try("beneath ../new created", dfd, "../new", O_WRONLY | O_CREAT, 0644, RESOLVE_BENEATH, 24, 0);
    try("beneath up for writing", dfd, "up", O_WRONLY | O_APPEND, 0, RESOLVE_BENEATH, 24, 0);
    try("no_symlinks lnk for writing", dfd, "lnk", O_WRONLY | O_APPEND, 0, RESOLVE_NO_SYMLINKS, 24, 0);
    try("beneath created2 created", dfd, "created2", O_WRONLY | O_CREAT | O_EXCL, 0644, RESOLVE_BENEATH, 24, 0);
    {
        /* O_PATH, then whether it names the same file. */
        struct open_how how = {.flags = O_PATH, .resolve = RESOLVE_BENEATH};
        long fd = syscall(SYS_openat2, dfd, "sub/g", &how, sizeof how);
        struct stat a, b;
        printf("O_PATH beneath sub/g: %s\n", fd < 0 ? strerror(errno) : fstat(fd, &a) == 0 && stat(cat2(sub, "/g"), &b) == 0 && a.st_ino == b.st_ino ? "the file" : "another file");
        if (fd >= 0) close(fd);
        how.flags = O_RDONLY;
        fd = syscall(SYS_openat2, dfd, "f", &how, sizeof how);
        printf("O_NONBLOCK after: %s\n", fd < 0 ? strerror(errno) : fcntl(fd, F_GETFL) & O_NONBLOCK ? "set" : "clear");
        if (fd >= 0) close(fd);
        how.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
        fd = syscall(SYS_openat2, dfd, "f", &how, sizeof how);
        printf("beneath and in_root: %s\n", fd < 0 ? strerror(errno) : "opened");
        how.resolve = RESOLVE_CACHED; how.flags = O_RDONLY | O_CREAT; how.mode = 0644;
        fd = syscall(SYS_openat2, dfd, "cached", &how, sizeof how);
        printf("cached creation: %s\n", fd < 0 ? strerror(errno) : "opened");
        how.resolve = 0; how.flags = O_RDONLY | O_DIRECTORY | O_CREAT;
        fd = syscall(SYS_openat2, dfd, "dircreat", &how, sizeof how);
        printf("O_DIRECTORY|O_CREAT: %s\n", fd < 0 ? strerror(errno) : "opened");
        how.flags = O_PATH | O_RDWR; how.mode = 0;
        fd = syscall(SYS_openat2, dfd, "f", &how, sizeof how);
        printf("O_PATH|O_RDWR: %s\n", fd < 0 ? strerror(errno) : "opened");
        printf("bad how pointer: %s\n", syscall(SYS_openat2, dfd, "f", (void *)8, 24) < 0 ? strerror(errno) : "opened");
        printf("size above a page: %s\n", syscall(SYS_openat2, dfd, "f", &how, 8192) < 0 ? strerror(errno) : "opened");
    }
    printf("openat2_direct: done\n");
    return 0;
}
