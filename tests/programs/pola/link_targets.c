/* link_targets DIR NAME...: what a session answers for paths that end in an
 * absolute symlink leaving its grant (DIR/NAME), which the process follows
 * itself (handler/src/pola.rs absolute_link_target) where the server would
 * restart at the virtual root: open (plain, O_DIRECTORY, O_NOFOLLOW,
 * O_PATH), stat, lstat, statx, access, readlink, and the bytes and inode
 * it reaches. Printed so that this and a session whose server answers
 * everything (--learn) compare line by line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *e(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

int main(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", argv[1], argv[i]);
        struct stat st = {0}, lst = {0};
        struct statx sx = {0};
        char buf[128] = {0}, link[256] = {0};
        long rs = stat(p, &st), rl = lstat(p, &lst), rx = statx(AT_FDCWD, p, 0, STATX_BASIC_STATS, &sx);
        printf("%s: stat %s (ino %lu, mode %o) lstat %s (mode %o) statx %s (ino %llu)", argv[i], e(rs), rs ? 0ul : (unsigned long)st.st_ino,
               rs ? 0 : st.st_mode, e(rl), rl ? 0 : lst.st_mode, e(rx), rx ? 0ull : (unsigned long long)sx.stx_ino);
        printf(" access %s", e(access(p, R_OK)));
        long n = readlink(p, link, sizeof link - 1);
        printf(" readlink %s", n < 0 ? e(n) : "ok");
        static const int flags[] = { O_RDONLY, O_RDONLY | O_DIRECTORY, O_RDONLY | O_NOFOLLOW, O_PATH };
        for (unsigned k = 0; k < sizeof flags / sizeof *flags; k++) {
            int fd = open(p, flags[k]);
            printf(" open%u %s", k, e(fd));
            if (fd >= 0) {
                struct stat fst;
                /* (A regular file's bytes only: a pty master or a pipe
                 * would wait.) */
                if (k == 0 && fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode)) {
                    long got = read(fd, buf, sizeof buf - 1);
                    for (long j = 0; j < got; j++) if (buf[j] == '\n') buf[j] = ' ';
                    printf(" [%s]", got >= 0 ? buf : "read failed");
                }
                close(fd);
            }
        }
        printf("\n");
    }
    return 0;
}
