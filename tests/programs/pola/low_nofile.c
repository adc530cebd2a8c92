/* low_nofile: the program lowers its own fd limit, soft and hard (32),
 * then fills its fd table with opens of a granted file, of /dev/null (a
 * device: the server opens it and sends the fd) and of the file again,
 * each until EMFILE, closing them in between: how many fit each time,
 * and whether the lowest fd it got first is still its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void fill(const char *p) {
    int fds[64], n = 0, fd;
    while (n < 64 && (fd = open(p, O_RDONLY)) >= 0)
        fds[n++] = fd;
    int e = errno;
    int first = n ? fds[0] : -1;
    int again = open(p, O_RDONLY);
    printf("%s: %d opened, then %s; the first (fd %d) %s; one more: %s\n", p, n, strerrorname_np(e), first,
           n && fcntl(first, F_GETFD) >= 0 ? "still open" : "GONE", again >= 0 ? "opened" : strerrorname_np(errno));
    if (again >= 0)
        close(again);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

int main(int argc, char **argv) {
    /* (Whatever the caller left open, closed: the session's program
       inherits none of it.) */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    struct rlimit rl = {32, 32};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1;
    fill(argv[1]);
    fill("/dev/null");
    fill(argv[1]);
    return 0;
}
