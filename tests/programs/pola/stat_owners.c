/* stat and lstat by absolute path, each path three times (the first may
 * teach the session's owners table what the later ones find there: the
 * session stat gate, arch fast_gate_session_stat, looks there in an
 * ordinary user's session): one line per path with the owners, type,
 * mode, size and inode, or the errno. The same natively and in a session
 * for the paths the session grants. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

static void show(const char *how, const char *path, int flags) {
    struct stat st[3];
    long r[3];
    for (int i = 0; i < 3; i++) {
        memset(&st[i], 0xa5, sizeof st[i]);
        r[i] = syscall(SYS_newfstatat, AT_FDCWD, path, &st[i], flags) == 0 ? 0 : errno;
    }
    for (int i = 1; i < 3; i++)
        if (r[i] != r[0] || (r[0] == 0 && (st[i].st_uid != st[0].st_uid || st[i].st_gid != st[0].st_gid || st[i].st_ino != st[0].st_ino)))
            printf("%s %s: CHANGED at try %d\n", how, path, i + 1);
    if (r[0]) {
        printf("%s %s: %s\n", how, path, strerrorname_np(r[0]));
        return;
    }
    printf("%s %s: uid %u gid %u %s mode %o size %lld ino %llu\n", how, path, st[0].st_uid, st[0].st_gid,
           S_ISDIR(st[0].st_mode) ? "dir" : S_ISLNK(st[0].st_mode) ? "link" : S_ISREG(st[0].st_mode) ? "file" : "other",
           st[0].st_mode & 07777, S_ISDIR(st[0].st_mode) ? 0LL : (long long)st[0].st_size, (unsigned long long)st[0].st_ino);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        show("stat", argv[i], 0);
        show("lstat", argv[i], AT_SYMLINK_NOFOLLOW);
    }
    return 0;
}
