/* newfstatat(fd, "", buf, AT_EMPTY_PATH) (glibc's fstat), which the fast
 * path's stat gate makes itself for an fd on a grant (arch
 * fast_gate_stat_beside), and its neighbours: a NULL name (Linux 6.11 and
 * later: the fd's own stat, as ""), a name other than "", flags other
 * than AT_EMPTY_PATH, an fd closed and its number given to a pipe or to
 * /dev/null, a buffer the kernel refuses, statx's NULL name, a name
 * inside the buffer (which the kernel writes after it read the name). Prints one
 * line per case (result, type, size, owners), the same natively and in a
 * session. argv[1]: a directory holding `file` (7 bytes) and `sub/`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r, const struct stat *st) {
    if (r != 0) {
        printf("%s: %s\n", what, strerrorname_np(errno));
        return;
    }
    const char *type = S_ISDIR(st->st_mode) ? "dir" : S_ISREG(st->st_mode) ? "file" : S_ISFIFO(st->st_mode) ? "fifo" : S_ISCHR(st->st_mode) ? "chr" : "other";
    printf("%s: 0 %s size %lld owners %u:%u\n", what, type, S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, st->st_uid, st->st_gid);
}

static long at(int fd, const char *name, struct stat *st, int flags) {
    memset(st, 0, sizeof *st);
    return syscall(SYS_newfstatat, fd, name, st, flags);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int d = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (d < 0) { perror(argv[1]); return 1; }
    int f = openat(d, "file", O_RDONLY);
    struct stat st;
    /* glibc's fstat, a few times (the handler learns the fds meanwhile). */
    for (int i = 0; i < 3; i++) {
        show("fstat file", fstat(f, &st), &st);
        show("fstat dir", fstat(d, &st), &st);
        show("file beside dir", fstatat(d, "file", &st, AT_SYMLINK_NOFOLLOW), &st);
    }
    /* NULL: the fd's own stat on Linux 6.11 and later, EFAULT before. glibc's
     * fstatat reaches the same `syscall` as its fstat. */
    const char *volatile null = NULL;
    memset(&st, 0, sizeof st);
    show("libc fstatat file NULL", fstatat(f, null, &st, AT_EMPTY_PATH), &st);
    memset(&st, 0, sizeof st);
    show("libc fstatat dir NULL", fstatat(d, null, &st, AT_EMPTY_PATH), &st);
    show("raw file NULL", at(f, null, &st, AT_EMPTY_PATH), &st);
    show("raw file NULL nofollow too", at(f, null, &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), &st);
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    long r = syscall(SYS_statx, f, null, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx);
    if (r == 0) printf("statx file NULL: 0 size %llu owners %u:%u\n", (unsigned long long)sx.stx_size, sx.stx_uid, sx.stx_gid);
    else printf("statx file NULL: %s\n", strerrorname_np(errno));
    /* Other names and flags with AT_EMPTY_PATH. */
    memset(&st, 0, sizeof st);
    show("libc fstatat dir file AT_EMPTY_PATH", fstatat(d, "file", &st, AT_EMPTY_PATH), &st);
    memset(&st, 0, sizeof st);
    show("libc fstatat dir sub AT_EMPTY_PATH", fstatat(d, "sub", &st, AT_EMPTY_PATH), &st);
    memset(&st, 0, sizeof st);
    show("libc fstatat dir sub/.. AT_EMPTY_PATH", fstatat(d, "sub/..", &st, AT_EMPTY_PATH), &st);
    memset(&st, 0, sizeof st);
    show("libc fstatat file missing AT_EMPTY_PATH", fstatat(f, "missing", &st, AT_EMPTY_PATH), &st);
    show("raw dir \"\" nofollow too", at(d, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), &st);
    show("raw name at 8", at(f, (const char *)8, &st, AT_EMPTY_PATH), &st);
    printf("raw buffer at 8: %s\n", syscall(SYS_newfstatat, f, "", (void *)8, AT_EMPTY_PATH) == 0 ? "0" : strerrorname_np(errno));
    char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("libc read-only buffer: %s\n", fstatat(f, "", (struct stat *)page, AT_EMPTY_PATH) == 0 ? "0" : strerrorname_np(errno));
    /* A name inside the buffer, which the kernel reads, then writes the
     * stat over. */
    static union { struct stat st; char b[512]; } u;
    memset(&u, 0, sizeof u);
    r = fstatat(d, u.b + 8, &u.st, AT_EMPTY_PATH);
    show("libc dir \"\" inside the buffer", r, &u.st);
    memset(&u, 0, sizeof u);
    r = fstatat(f, u.b + 8, &u.st, AT_EMPTY_PATH);
    show("libc file \"\" inside the buffer", r, &u.st);
    memset(&u, 0, sizeof u);
    strcpy(u.b + 48, "file");
    r = fstatat(d, u.b + 48, &u.st, AT_SYMLINK_NOFOLLOW);
    show("libc dir file inside the buffer", r, &u.st);
    memset(&u, 0, sizeof u);
    strcpy(u.b + 140, "file");
    r = fstatat(d, u.b + 140, &u.st, AT_SYMLINK_NOFOLLOW);
    show("libc dir file across the buffer's end", r, &u.st);
    memset(&u, 0, sizeof u);
    strcpy(u.b + 144, "file");
    r = fstatat(d, u.b + 144, &u.st, AT_SYMLINK_NOFOLLOW);
    show("libc dir file just past the buffer", r, &u.st);
    /* The file's fd number given to a pipe, then to /dev/null, behind
     * the handler's back (libc's syscall(2)). */
    show("fstat file again", fstat(f, &st), &st);
    syscall(SYS_close, f);
    int p[2];
    if (pipe(p) != 0) return 1;
    if (p[0] != f) dup2(p[0], f), close(p[0]);
    show("fstat of the number, a pipe now", fstat(f, &st), &st);
    int n = open("/dev/null", O_RDONLY);
    dup2(n, f);
    close(n);
    show("fstat of the number, /dev/null now", fstat(f, &st), &st);
    dup2(d, f);
    show("fstat of the number, the dir now", fstat(f, &st), &st);
    close(f);
    show("fstat of the number closed", fstat(f, &st), &st);
    return 0;
}
