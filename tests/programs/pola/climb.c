/* climb: paths that begin with `..` relative to a directory's fd (find's
 * and fts's way back up), in DIR (argv[1], granted read-write, with
 * a/b/c, a/lnk -> b and a grant nested at a/sealed): from a directory
 * inside the grant, from the grant's root (whose parent is a virtual
 * directory), from a directory moved and from one removed while its fd
 * is held, through opens, stat, access and readlink. Each result is
 * printed as what it lists (sorted), its errno name, or a yes/no, so that
 * a session that answers them in the process and one whose server does
 * (--learn) compare line by line. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The entries of the directory `fd` is open on, sorted, or the errno. */
static void show(const char *what, int fd) {
    printf("%s:", what);
    if (fd < 0) {
        printf(" %s\n", strerrorname_np(errno));
        return;
    }
    DIR *d = fdopendir(dup(fd));
    if (!d) {
        printf(" fdopendir %s\n", strerrorname_np(errno));
        close(fd);
        return;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    qsort(names, n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    closedir(d);
    close(fd);
}

static void climb(const char *from, int fd) {
    static const char *rels[] = { "..", "../", "../..", "../../..", "../../../../../..", "../b", "../b/c", "../b/../b",
                                  "../lnk", "../lnk/c", "../nothere", "../sealed", "../sealed/..", ".././b" };
    char what[128];
    for (unsigned i = 0; i < sizeof rels / sizeof *rels; i++) {
        snprintf(what, sizeof what, "%s %s O_DIRECTORY", from, rels[i]);
        show(what, openat(fd, rels[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        snprintf(what, sizeof what, "%s %s O_PATH", from, rels[i]);
        int p = openat(fd, rels[i], O_PATH | O_CLOEXEC);
        show(what, p < 0 ? -1 : openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (p >= 0) close(p);
        struct stat st, lst;
        int r = fstatat(fd, rels[i], &st, 0), l = fstatat(fd, rels[i], &lst, AT_SYMLINK_NOFOLLOW);
        printf("%s %s: stat %s %s, lstat %s %s, access %s, W_OK %s\n", from, rels[i], r ? strerrorname_np(errno) : "ok",
               r ? "" : S_ISDIR(st.st_mode) ? "dir" : "other", l ? strerrorname_np(errno) : "ok",
               l ? "" : S_ISLNK(lst.st_mode) ? "link" : S_ISDIR(lst.st_mode) ? "dir" : "other",
               faccessat(fd, rels[i], R_OK, 0) ? strerrorname_np(errno) : "ok",
               faccessat(fd, rels[i], W_OK, 0) ? strerrorname_np(errno) : "ok");
    }
    char buf[64];
    ssize_t n = readlinkat(fd, "../lnk", buf, sizeof buf);
    printf("%s readlink ../lnk: %.*s\n", from, n < 0 ? 0 : (int)n, n < 0 ? strerrorname_np(errno) : buf);
}

int main(int argc, char **argv) {
    if (argc < 2 || chdir(argv[1])) {
        perror("climb DIR");
        return 2;
    }
    int root = open(".", O_RDONLY | O_DIRECTORY), b = open("a/b", O_RDONLY | O_DIRECTORY);
    int c = open("a/b/c", O_RDONLY | O_DIRECTORY), sealed = open("a/sealed", O_RDONLY | O_DIRECTORY);
    if (root < 0 || b < 0 || c < 0 || sealed < 0) {
        perror("open");
        return 2;
    }
    climb("a/b", b);
    climb("a/b/c", c);
    climb("root", root);
    climb("sealed", sealed);
    /* Moved while held: its `..` is where it is now. */
    if (mkdir("m", 0755) || rename("a/b/c", "m/c")) perror("move");
    climb("moved c", c);
    /* Removed while held. */
    int gone = (mkdir("a/gone", 0755), open("a/gone", O_RDONLY | O_DIRECTORY));
    if (rmdir("a/gone")) perror("rmdir");
    climb("removed", gone);
    return 0;
}
