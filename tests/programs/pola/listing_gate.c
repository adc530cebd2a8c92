/* getdents64 and the copies of directory fds where a session's fast path
 * makes them itself (arch fast_gate_listing: a listing of a grant's
 * directory; fast_gate_dup: a copy of an fd takes what was learnt of the
 * original, so stats beside it and its listings stay in the gate). Prints
 * one line per case, the same natively and in a session (argv[1]: a
 * directory holding `file`, `sub/file`, `sub/more` and nothing else, whose
 * parent holds it as `dir`):
 *   listings through the fd, through copies made by dup, F_DUPFD (below
 *   and above fd 1024) and F_DUPFD_CLOEXEC, after the original is closed,
 *   of a directory opened beside it, of the parent (a virtual directory in
 *   a session, which must list what it lists natively: argv[1]'s parent
 *   must hold only what the session grants) through a copy and through a
 *   number that was a grant's directory fd before (dup2, a raw close and a
 *   new open); stats beside each copy; listings and copies that fail
 *   (a file, a bad buffer, a buffer too small, fds that are not open:
 *   preld's own numbers among them). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of a listing from the start, sorted, or the error. */
static void list(const char *what, int fd) {
    static char buf[1 << 16];
    char *names[256];
    int n = 0;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        long r = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (r < 0) {
            printf("%s: %s\n", what, strerrorname_np(errno));
            return;
        }
        if (r == 0) break;
        for (long at = 0; at < r;) {
            unsigned short reclen = *(unsigned short *)(buf + at + 16);
            const char *name = buf + at + 19;
            if (strcmp(name, ".") && strcmp(name, "..") && n < 256) names[n++] = strdup(name);
            at += reclen;
        }
    }
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", what);
    for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}

static void stat_beside(const char *what, int fd, const char *name) {
    struct stat st;
    long r = syscall(SYS_newfstatat, fd, name, &st, AT_SYMLINK_NOFOLLOW);
    if (r == 0)
        printf("%s: %s size %lld\n", what, S_ISDIR(st.st_mode) ? "dir" : "file", S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    else
        printf("%s: %s\n", what, strerrorname_np(errno));
}

static void copy(const char *what, long r) {
    if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const int dirflags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY;
    int d = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (d < 0) { perror(argv[1]); return 1; }
    list("dir", d);
    list("dir again", d);
    int sub = openat(d, "sub", dirflags);
    list("sub", sub);
    stat_beside("sub/file", sub, "file");

    int c1 = dup(d);
    list("dup", c1);
    stat_beside("dup: file", c1, "file");
    int c2 = fcntl(d, F_DUPFD, 0);
    list("F_DUPFD", c2);
    int c3 = fcntl(sub, F_DUPFD_CLOEXEC, 3);
    stat_beside("F_DUPFD_CLOEXEC: more", c3, "more");
    list("F_DUPFD_CLOEXEC", c3);
    int c4 = fcntl(d, F_DUPFD_CLOEXEC, 1000);
    printf("F_DUPFD_CLOEXEC 1000: %s\n", c4 >= 1000 ? "at or above 1000" : "below");
    list("F_DUPFD_CLOEXEC 1000", c4);
    stat_beside("F_DUPFD_CLOEXEC 1000: sub", c4, "sub");
    int c5 = fcntl(d, F_DUPFD, 1500);
    printf("F_DUPFD 1500: %s\n", c5 >= 1500 ? "at or above 1500" : c5 < 0 ? strerrorname_np(errno) : "below");
    if (c5 >= 0) list("F_DUPFD 1500", c5), stat_beside("F_DUPFD 1500: file", c5, "file");
    /* A copy of a copy, the original closed. */
    int c6 = fcntl(c1, F_DUPFD_CLOEXEC, 0);
    close(c1);
    list("copy of a closed copy", c6);
    stat_beside("copy of a closed copy: sub", c6, "sub");
    /* A directory beside a copy, and its copy. */
    int s2 = openat(c6, "sub", dirflags);
    int s3 = dup(s2);
    list("sub beside a copy, copied", s3);

    /* The parent: a virtual directory in a session. */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s/..", argv[1]);
    int p = open(parent, O_RDONLY | O_DIRECTORY);
    int pc = fcntl(p, F_DUPFD_CLOEXEC, 0);
    list("parent", p);
    list("parent, copied", pc);
    /* The parent put at the number of a grant's directory fd (dup2: the
     * handler sees it), then the same through a raw close and a new open
     * at that number. */
    dup2(p, c2);
    list("parent over a copy", c2);
    syscall(SYS_close, c3);
    int again = open(parent, O_RDONLY | O_DIRECTORY);
    printf("reopened at the closed number: %s\n", again == c3 ? "yes" : "no");
    list("parent at a closed copy's number", again);
    /* /proc/self/fd (a session's procfs: preld's own fds left out of its
     * listing) at the number of a copy of a grant's directory fd: the same
     * names as through an fd of its own. */
    int pf = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    int fds_at = fcntl(d, F_DUPFD_CLOEXEC, 0);
    dup2(pf, fds_at);
    static char fbuf[1 << 16];
    int fds_copy = dup(fds_at);
    /* And at a number closed behind the handler (a raw close), taken again
     * by /proc/self/fd, then copied. */
    int marked = fcntl(d, F_DUPFD_CLOEXEC, 0);
    syscall(SYS_close, marked);
    int pf2 = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    printf("/proc/self/fd at the closed number: %s\n", pf2 == marked ? "yes" : "no");
    int pf2_copy = dup(pf2);
    int agree = 1, seen[5] = {0, 0, 0, 0, 0};
    int which[5] = {pf, fds_at, fds_copy, pf2, pf2_copy};
    for (int i = 0; i < 5; i++) {
        int fd = which[i];
        lseek(fd, 0, SEEK_SET);
        long r;
        while ((r = syscall(SYS_getdents64, fd, fbuf, sizeof fbuf)) > 0)
            for (long at = 0; at < r; at += *(unsigned short *)(fbuf + at + 16)) seen[i]++;
        if (r < 0) agree = 0;
    }
    printf("/proc/self/fd at a copy's number lists as itself: %s\n", agree && seen[0] == seen[1] ? "yes" : "no");
    if (getenv("LG_DEBUG")) printf("counts %d %d %d %d %d\n", seen[0], seen[1], seen[2], seen[3], seen[4]);
    printf("and its copy: %s\n", agree && seen[0] == seen[2] ? "yes" : "no");
    printf("at a number closed behind the handler, and its copy: %s %s\n", agree && seen[0] == seen[3] ? "yes" : "no", agree && seen[0] == seen[4] ? "yes" : "no");

    /* What fails. */
    int f = openat(d, "file", O_RDONLY);
    list("a file", f);
    int fc = dup(f);
    list("a file's copy", fc);
    char small[8];
    lseek(d, 0, SEEK_SET);
    printf("buffer too small: %s\n", syscall(SYS_getdents64, d, small, sizeof small) < 0 ? strerrorname_np(errno) : "listed");
    lseek(d, 0, SEEK_SET);
    printf("bad buffer: %s\n", syscall(SYS_getdents64, d, (void *)8, 4096) < 0 ? strerrorname_np(errno) : "listed");
    lseek(d, 0, SEEK_SET);
    printf("NULL buffer: %s\n", syscall(SYS_getdents64, d, NULL, 4096) < 0 ? strerrorname_np(errno) : "listed");
    printf("fd -1: %s\n", syscall(SYS_getdents64, -1, small, sizeof small) < 0 ? strerrorname_np(errno) : "listed");
    printf("fd 5000: %s\n", syscall(SYS_getdents64, 5000, small, sizeof small) < 0 ? strerrorname_np(errno) : "listed");
    copy("dup of -1", dup(-1));
    copy("F_DUPFD of 5000", fcntl(5000, F_DUPFD, 0));
    copy("F_DUPFD, a bad minimum", fcntl(d, F_DUPFD, -1));
    /* Numbers this program has not opened (preld's own fds among them in
     * a session): EBADF for each, as natively. */
    int listed = 0, copied = 0, other = 0;
    for (int fd = 3; fd < 1024; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
        long r = syscall(SYS_getdents64, fd, small, sizeof small);
        if (r >= 0 || errno != EBADF) listed++;
        int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (c >= 0) copied++, close(c);
        else if (errno != EBADF) other++;
        c = dup(fd);
        if (c >= 0) copied++, close(c);
        else if (errno != EBADF) other++;
    }
    printf("numbers not open: listed %d, copied %d, other errors %d\n", listed, copied, other);
    return 0;
}
