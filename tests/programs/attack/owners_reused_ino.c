/* The owners table keyed by (st_dev, st_ino): in an ordinary user's session
 * (nobody), a file of another user (argv[4]/victim, uid 1000) in the
 * program's read-write grant is stat'ed (its owners learnt), unlinked, and
 * files of the program's own made until one gets the victim's inode
 * number (ext4 reuses it at once). Natively that file is the program's
 * (uid 65534); stat, statx and fstat must not say 1000. argv: secret ro rw */
#include "attack.h"
#include <sys/stat.h>
int main(int argc, char **argv) {
    ARGS
    char *p = cat2(rw, "/victim");
    struct stat st;
    for (int i = 0; i < 3; i++) stat(p, &st);
    unsigned long ino = st.st_ino;
    printf("victim uid %u\n", st.st_uid);
    if (unlink(p)) { printf("unlink: %s\n", strerror(errno)); return 1; }
    for (int i = 0; i < 2000; i++) {
        char q[600];
        snprintf(q, sizeof q, "%s/n%d", rw, i);
        int fd = open(q, O_CREAT | O_WRONLY, 0644);
        close(fd);
        struct stat s2, s3;
        for (int k = 0; k < 3; k++) stat(q, &s2);
        if (s2.st_ino == ino) {
            struct statx sx;
            statx(AT_FDCWD, q, 0, STATX_BASIC_STATS, &sx);
            fd = open(q, O_RDONLY);
            fstat(fd, &s3);
            printf("reused: stat uid %u, statx uid %u, fstat uid %u\n", s2.st_uid, sx.stx_uid, s3.st_uid);
            printf("owners_reused_ino: done\n");
            return 0;
        }
        unlink(q);
    }
    printf("no reuse\nowners_reused_ino: done\n");
    return 0;
}
