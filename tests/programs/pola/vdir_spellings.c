/* vdir_spellings: stat, lstat and statx of the virtual directories' names
 * spelt many ways (since session 23 a virtual directory's stat is made in
 * the process from its stand-in's fd when the path names it exactly),
 * each four times (the sites rewritten to the gate): the answer's errno or
 * whether it is `/`, a directory or something else; then the same
 * relative to the cwd in /etc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static struct stat root;

static const char *what(int r, const struct stat *st) {
    if (r)
        return strerrorname_np(errno);
    return st->st_ino == root.st_ino && st->st_dev == root.st_dev ? "ok (/)" : S_ISDIR(st->st_mode) ? "ok (dir)" : "ok (other)";
}

static void tries(const char *p) {
    struct stat st;
    struct statx sx;
    const char *a = "", *b = "", *c = "";
    for (int k = 0; k < 4; k++) {
        a = what(stat(p, &st), &st);
        b = what(lstat(p, &st), &st);
        int r = statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx);
        st.st_ino = sx.stx_ino;
        st.st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
        st.st_mode = sx.stx_mode;
        c = what(r, &st);
    }
    printf("%-24s stat %s, lstat %s, statx %s\n", p, a, b, c);
}

int main(void) {
    if (stat("/", &root) != 0)
        return 1;
    const char *p[] = {"/", "//", "/.", "/./", "/etc", "/etc/", "/etc//", "/etc/.", "/etc/./.", "///etc", "/./etc",
                       "/etc/..", "/etc/../etc/.", "/usr/..", "/usr/../etc", "/tmp/..", "/dev", "/dev/", "/dev/..",
                       "/nonexistent/..", "/etc/nonexistent/..", "/etc/nonexistent", "/usr/include/../..", NULL};
    for (int i = 0; p[i]; i++)
        tries(p[i]);
    if (chdir("/etc") != 0)
        return 1;
    const char *rel[] = {".", "./", "..", "../etc", "../etc/..", "./.", "../.", "nonexistent/..", NULL};
    for (int i = 0; rel[i]; i++)
        tries(rel[i]);
    return 0;
}
