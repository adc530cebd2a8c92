/* beside_names: openat(DIRFD, NAME, FLAGS) beside a directory fd of a
 * granted directory, FLAGS with O_NONBLOCK or O_DIRECTORY (the session open
 * gate's BESIDE path: openat2 in asm, the name looked at after the call),
 * for names that are not one plain name (`..`, `/`, absolute, trailing
 * slash, too long, NUL-less at a page's end), symlinks, a FIFO, a file
 * opened O_DIRECTORY; then the same beside the fds it made (marked
 * with the grant), O_NOATIME, beside an O_PATH fd of the directory, and
 * beside an fd number dup2'd over to a file and to another directory;
 * from -B's private /tmp down to the current directory.
 * Each four times (the sites rewritten to the gate); the answer's errno or
 * the file's type and size. Works in the current directory only (the
 * test's scratch), which it fills itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *what(int fd) {
    static char b[64];
    if (fd < 0)
        return strerrorname_np(errno);
    struct stat st;
    if (fstat(fd, &st))
        return "fstat failed";
    snprintf(b, sizeof b, "ok %s %lld", S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISFIFO(st.st_mode) ? "fifo" : S_ISCHR(st.st_mode) ? "chr" : S_ISLNK(st.st_mode) ? "lnk" : "other",
             S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    return b;
}

static const int FLAGS[] = {O_RDONLY | O_NONBLOCK, O_RDONLY | O_DIRECTORY, O_RDONLY | O_NONBLOCK | O_NOFOLLOW, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC};

static void tries(const char *tag, int dfd, const char *name, const char *shown) {
    for (unsigned f = 0; f < sizeof FLAGS / sizeof *FLAGS; f++) {
        char last[64] = "";
        char inner[64] = "";
        for (int k = 0; k < 4; k++) {
            int fd = openat(dfd, name, FLAGS[f]);
            snprintf(last, sizeof last, "%s", what(fd));
            if (fd >= 0) {
                /* Beside the fd made (marked with the grant when a directory). */
                int g = openat(fd, "f", O_RDONLY | O_NONBLOCK);
                snprintf(inner, sizeof inner, "%s", what(g));
                if (g >= 0)
                    close(g);
                int h = openat(fd, "..", O_RDONLY | O_DIRECTORY);
                snprintf(inner + strlen(inner), sizeof inner - strlen(inner), " / .. %s", what(h));
                if (h >= 0)
                    close(h);
                close(fd);
            }
        }
        printf("%s: openat(%s, flags %d): %s%s%s\n", tag, shown ? shown : name, f, last, *inner ? "; beside it f: " : "", inner);
    }
}

int main(int argc, char **argv) {
    int noatime = argc > 1 && !strcmp(argv[1], "noatime");
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return 2;
    mkdir("top", 0755);
    mkdir("top/sub", 0755);
    mkdir("top/sub/inner", 0755);
    int w = open("top/sub/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "hello\n", 6) != 6)
        return 2;
    close(w);
    w = open("top/sub/inner/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "inner!!\n", 8) != 8)
        return 2;
    close(w);
    w = open("top/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "top file, longer\n", 17) != 17)
        return 2;
    close(w);
    symlink("f", "top/sub/ln");
    symlink("inner", "top/sub/lnd");
    symlink("..", "top/sub/up");
    char abs_f[4200];
    snprintf(abs_f, sizeof abs_f, "%s/top/sub/f", cwd);
    symlink(abs_f, "top/sub/absln");
    mkfifo("top/sub/fifo", 0644);

    char sub[4200];
    snprintf(sub, sizeof sub, "%s/top/sub", cwd);
    /* The directory fd: opened by its absolute path several times (the
       open gate's own, marked with the grant from the start). */
    int dfd = -1;
    for (int k = 0; k < 4; k++) {
        if (dfd >= 0)
            close(dfd);
        dfd = open(sub, O_RDONLY | O_DIRECTORY);
    }
    if (dfd < 0)
        return 3;

    char long255[256], long256[257];
    memset(long255, 'a', 255);
    long255[255] = 0;
    memset(long256, 'a', 256);
    long256[256] = 0;
    const char *names[] = {"f", "inner", ".", "..", "../f", "../sub/f", "inner/f", "inner/..", "inner/../f", "f/", "inner/", "f/.", "./f",
                           "", "ln", "lnd", "up", "absln", "lnd/f", "fifo", "mnt", "mnt/g", "mnt/..", "missing", "missing/x", abs_f, "/", "//", "...", long255, long256};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        tries("dir", dfd, names[i], names[i] == long255 ? "a*255" : names[i] == long256 ? "a*256" : names[i] == abs_f ? "ABS/top/sub/f" : NULL);

    /* Names at a page's end: NUL-less (EFAULT), and with the NUL its last byte. */
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 4;
    munmap(m + pg, pg);
    memcpy(m + pg - 1, "f", 1);
    tries("page-end", dfd, m + pg - 1, "f (no NUL)");
    memcpy(m + pg - 2, "f", 2);
    tries("page-end", dfd, m + pg - 2, "f\\0 at the end");
    memcpy(m + pg - 3, "..", 3);
    tries("page-end", dfd, m + pg - 3, "..\\0 at the end");
    memcpy(m + pg - 2, "..", 2);
    tries("page-end", dfd, m + pg - 2, ".. (no NUL)");

    /* O_NOATIME (the owner's or CAP_FOWNER's) beside the fd: files of
       root's, nobody's and of ids no session maps; then from an O_PATH fd
       of the directory. */
    int w2 = open("top/sub/nob", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(w2);
    chown("top/sub/nob", 65534, 65534);
    w2 = open("top/sub/odd", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(w2);
    chown("top/sub/odd", 12345, 12345);
    /* (Files of ids the session does not map only with the argument
       `noatime`: EPERM in a session, the ignored test's.) */
    const char *owned[] = {"f", "nob", "odd"};
    for (int i = 0; i < (noatime ? 3 : 1); i++)
        for (int k = 0; k < 4; k++) {
            int fd = openat(dfd, owned[i], O_RDONLY | O_NONBLOCK | O_NOATIME);
            if (k == 3)
                printf("noatime: openat(%s, O_NONBLOCK | O_NOATIME): %s\n", owned[i], what(fd));
            if (fd >= 0)
                close(fd);
        }
    if (noatime)
        return 0;
    int pfd = open(sub, O_PATH | O_DIRECTORY);
    tries("o_path", pfd, "f", NULL);
    tries("o_path", pfd, "inner", NULL);
    close(pfd);

    /* The number dup2'd over to a file fd (dup2 through the handler). */
    int file = open(abs_f, O_RDONLY);
    int saved = dup(dfd);
    dup2(file, dfd);
    tries("dup2-file", dfd, "f", NULL);
    tries("dup2-file", dfd, "..", NULL);
    /* And back to another directory (the top). */
    char top[4200];
    snprintf(top, sizeof top, "%s/top", cwd);
    int t = open(top, O_RDONLY | O_DIRECTORY);
    dup2(t, dfd);
    tries("dup2-top", dfd, "f", NULL);
    tries("dup2-top", dfd, "sub", NULL);
    /* The saved copy: still the sub directory. */
    tries("dup", saved, "f", NULL);

    /* From /tmp (-B's private /tmp, the scratch a grant nested in it) down
       to the current directory one name at a time, O_DIRECTORY |
       O_NONBLOCK, each four times: the last must be the cwd. */
    if (!strncmp(cwd, "/tmp/", 5)) {
        int at = -1;
        for (int k = 0; k < 4; k++) {
            if (at >= 0)
                close(at);
            at = open("/tmp", O_RDONLY | O_DIRECTORY);
        }
        char *rest = strdup(cwd + 5), *save = NULL;
        int step = 0;
        for (char *c = strtok_r(rest, "/", &save); c && at >= 0; c = strtok_r(NULL, "/", &save), step++) {
            int next = -1;
            for (int k = 0; k < 4; k++) {
                if (next >= 0)
                    close(next);
                next = openat(at, c, step & 1 ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK);
            }
            printf("down from /tmp, step %d: %s\n", step, next >= 0 ? "ok" : strerrorname_np(errno));
            close(at);
            at = next;
        }
        struct stat a, b;
        printf("down from /tmp: %s\n", at >= 0 && fstat(at, &a) == 0 && stat(".", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "the cwd" : "NOT the cwd");
        int t2 = at >= 0 ? openat(at, "top", O_RDONLY | O_DIRECTORY) : -1;
        tries("down-top", t2, "f", NULL);
    }
    return 0;
}
