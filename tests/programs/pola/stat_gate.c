/* fstatat(dirfd, NAME, buf, AT_SYMLINK_NOFOLLOW) where the fast path's
 * stat gate makes it itself (arch fast_gate_stat_beside: one thread, a
 * directory fd of a grant): what it must leave to the handler, and what
 * it must never do. Prints one line per case, the same natively and in a
 * session, but the last (argv[1]: a directory holding `file`, `sub/file`,
 * `link` -> `sub`):
 *   names that are no single name (`sub/file`, `..`, ``, `link/file`, a
 *   name of 255 and one of 300 bytes), the name at the very end of a page
 *   whose next page is unmapped, an unreadable name, a buffer that is
 *   unwritable or runs into an unmapped page, the fd closed and its number
 *   given to another directory (dup2, a raw close through libc's
 *   syscall(2)), a flag other than AT_SYMLINK_NOFOLLOW;
 *   and then, where ld-preld is mapped (a session), a buffer in ld-preld's
 *   own writable memory: EFAULT, and not a byte of it changed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, int dirfd, const char *name, struct stat *st, int flags) {
    memset(st, 0, sizeof *st);
    long r = syscall(SYS_newfstatat, dirfd, name, st, flags);
    if (r == 0)
        printf("%s: 0 %s size %lld\n", what, S_ISDIR(st->st_mode) ? "dir" : S_ISLNK(st->st_mode) ? "link" : S_ISREG(st->st_mode) ? "file" : "other",
               (long long)st->st_size);
    else
        printf("%s: %s\n", what, strerrorname_np(errno));
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int d = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (d < 0) { perror(argv[1]); return 1; }
    struct stat st;
    const int nf = AT_SYMLINK_NOFOLLOW;
    show("file", d, "file", &st, nf);
    printf("file, libc: %s\n", fstatat(d, "file", &st, nf) == 0 ? "0" : strerrorname_np(errno));
    show("sub", d, "sub", &st, nf);
    show("link", d, "link", &st, nf);
    show("link followed", d, "link", &st, 0);
    show("sub/file", d, "sub/file", &st, nf);
    show("link/file", d, "link/file", &st, nf);
    show("..", d, "..", &st, nf);
    show(".", d, ".", &st, nf);
    show("empty", d, "", &st, nf);
    show("missing", d, "missing", &st, nf);
    show("file/x", d, "file/x", &st, nf);
    char name[301];
    memset(name, 'n', 255), name[255] = 0;
    show("255 bytes", d, name, &st, nf);
    memset(name, 'n', 300), name[300] = 0;
    show("300 bytes", d, name, &st, nf);
    show("bad flags", d, "file", &st, nf | 0x40000000);
    show("empty path flag", d, "", &st, nf | AT_EMPTY_PATH);

    /* A name ending at a page's end, the next page unmapped; a buffer that
     * runs into it; a name and a buffer at bogus addresses. */
    char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (pages == MAP_FAILED) return 1;
    munmap(pages + 4096, 4096);
    char *at_end = pages + 4096 - 5;
    memcpy(at_end, "file", 5);
    show("name at a page's end", d, at_end, &st, nf);
    memcpy(pages + 4096 - 4, "file", 4); /* no NUL before the hole */
    show("name into the hole", d, pages + 4096 - 4, &st, nf);
    printf("buffer into the hole: %s\n", syscall(SYS_newfstatat, d, "file", pages + 4096 - 64, nf) == 0 ? "0" : strerrorname_np(errno));
    printf("buffer at 8: %s\n", syscall(SYS_newfstatat, d, "file", (void *)8, nf) == 0 ? "0" : strerrorname_np(errno));
    printf("read-only buffer: %s\n", (mprotect(pages, 4096, PROT_READ), syscall(SYS_newfstatat, d, "file", pages, nf) == 0) ? "0" : strerrorname_np(errno));
    show("name at 8", d, (const char *)8, &st, nf);

    /* The fd's number given to another directory: sub. */
    int s = open(argv[1], O_RDONLY | O_DIRECTORY);
    int sub = openat(s, "sub", O_RDONLY | O_DIRECTORY);
    show("before dup2", d, "file", &st, nf);
    dup2(sub, d);
    show("after dup2 (sub)", d, "file", &st, nf);
    show("after dup2 (sub), link", d, "link", &st, nf);
    syscall(SYS_close, d);
    show("closed", d, "file", &st, nf);
    int again = open("/", O_RDONLY | O_DIRECTORY);
    if (again != d) dup2(again, d), close(again);
    show("now /", d, "nothing-here", &st, nf);

    /* ld-preld's own writable memory as the buffer (a session only). */
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long lo = 0, hi = 0;
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long a, b;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3 && perms[1] == 'w' && strstr(line, "ld-preld") && b - a >= 4096) {
            lo = a, hi = b;
            break;
        }
    }
    if (maps) fclose(maps);
    if (!lo) {
        printf("preld's memory: none mapped\n");
        return 0;
    }
    int r = open(argv[1], O_RDONLY | O_DIRECTORY);
    show("file again", r, "file", &st, nf);
    /* (Written there, the stat's first words would be the file's device
     * and inode: preld's own data changes as it runs.) */
    unsigned long id[2] = {st.st_dev, st.st_ino};
    int bad = 0;
    for (unsigned long a = lo; a + 256 <= hi; a += 4096) {
        long ret = syscall(SYS_newfstatat, r, "file", (void *)(a + 16), nf);
        int e = errno;
        if (ret != -1 || e != EFAULT) bad++, printf("preld's memory at %lx: %ld %s\n", a + 16, ret, strerrorname_np(e));
        if (memcmp(id, (void *)(a + 16), sizeof id) == 0) bad++, printf("ESCAPE: a stat wrote ld-preld's memory at %lx\n", a + 16);
    }
    show("file after", r, "file", &st, nf);
    printf("preld's memory: %s\n", bad ? "written" : "EFAULT, unchanged");
    return 0;
}
