/* file_fd_names: names beside a file fd that the session open gate opened
 * and marked as lying on its grant (`..`, `../NAME`, `.`) through openat,
 * fstatat, faccessat, readlinkat, and fchdir of it: ENOTDIR as natively,
 * never the file's directory. Five times (the first open the handler's, the
 * others the gate's). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static const char *e(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }
int main(void) {
    for (int i = 0; i < 5; i++) {
        int fd = open("/usr/include/stdio.h", O_RDONLY);
        struct stat st; char b[256];
        int d = openat(fd, "..", O_RDONLY);
        int d2 = openat(fd, "../stdio.h", O_RDONLY);
        int d3 = openat(fd, ".", O_RDONLY);
        printf("%d: openat(file, ..) %s, ../stdio.h %s, . %s, fstatat(file, ..) %s, faccessat(file, ..) %s, readlinkat(file, ..) %s, fchdir(file) %s\n", i, e(d), e(d2), e(d3),
               e(fstatat(fd, "..", &st, 0)), e(faccessat(fd, "..", R_OK, 0)), e(readlinkat(fd, "..", b, sizeof b)), e(fchdir(fd)));
        if (d >= 0)
            close(d);
        if (d2 >= 0)
            close(d2);
        if (d3 >= 0)
            close(d3);
        close(fd);
    }
    return 0;
}
