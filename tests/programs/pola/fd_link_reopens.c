/* fd_link_reopens FIFO FILE: opens of /proc/self/fd/N and /dev/fd/N for
 * an O_PATH fd of a FIFO and of a regular file (each access mode), and
 * truncate through /proc/self/fd/N, printed so that a native run and a
 * session's compare line by line. In a session the FIFO's O_PATH fd was
 * copied rather than reopened (an O_PATH fd again, and O_RDWR refused),
 * and truncate of the link was ENOTDIR (session-20 adversary). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static void reopen(const char *what, const char *path, int how) {
    int p = open(path, O_PATH | O_CLOEXEC);
    const char *names[] = { "/proc/self/fd/%d", "/dev/fd/%d" };
    for (int k = 0; k < 2; k++) {
        char link[64];
        snprintf(link, sizeof link, names[k], p);
        int fd = open(link, how | O_NONBLOCK | O_CLOEXEC);
        int fl = fd >= 0 ? fcntl(fd, F_GETFL) : 0;
        printf("%s %s %s: open %s", what, k ? "/dev/fd" : "/proc/self/fd",
               how == O_RDWR ? "O_RDWR" : how == O_WRONLY ? "O_WRONLY" : "O_RDONLY", err(fd));
        if (fd >= 0) {
            printf(", O_PATH %s, mode %s", fl & O_PATH ? "yes" : "no",
                   (fl & O_ACCMODE) == O_RDWR ? "rw" : (fl & O_ACCMODE) == O_WRONLY ? "w" : "r");
            close(fd);
        }
        printf("\n");
    }
    close(p);
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    reopen("fifo", argv[1], O_RDWR);
    reopen("fifo", argv[1], O_RDONLY);
    reopen("file", argv[2], O_RDWR);
    reopen("file", argv[2], O_RDONLY);
    int p = open(argv[2], O_PATH | O_CLOEXEC);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", p);
    long r = truncate(link, 3);
    struct stat st;
    stat(argv[2], &st);
    printf("truncate of the file's link: %s, size %ld\n", err(r), (long)st.st_size);
    p = open(argv[1], O_PATH | O_CLOEXEC);
    snprintf(link, sizeof link, "/proc/self/fd/%d", p);
    printf("truncate of the fifo's link: %s\n", err(truncate(link, 0)));
    return 0;
}
