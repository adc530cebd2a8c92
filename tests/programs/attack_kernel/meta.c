/* Host file metadata by path, outside the grants: stat, statx, access,
 * getxattr (the harness set user.kattack), setxattr, chmod, chown,
 * utimensat of the harness's victim file, and stat of /etc/shadow.
 * Keys: victim (a host file outside every grant). */
#include "kattack.h"
#include <sys/stat.h>
#include <sys/xattr.h>

NO_HELPERS

static void attacks(void) {
    const char *v = arg("victim");
    struct stat st;
    long r = TRY(stat(v, &st), SYS_stat, v, &st);
    if (r == 0) escape("stat", "mode %o uid %d size %ld", st.st_mode, st.st_uid, (long)st.st_size);
    else held("stat", "%s", err(r));

    struct statx sx;
    r = TRY(statx(AT_FDCWD, v, 0, STATX_BASIC_STATS, &sx), SYS_statx, AT_FDCWD, v, 0, STATX_BASIC_STATS, &sx);
    if (r == 0) escape("statx", "mode %o ino %llu", sx.stx_mode, (unsigned long long)sx.stx_ino);
    else held("statx", "%s", err(r));

    r = TRY(access(v, F_OK), SYS_access, v, F_OK);
    verdict("access", r, "the victim exists");

    char buf[128];
    r = TRY(getxattr(v, "user.kattack", buf, sizeof buf - 1), SYS_getxattr, v, "user.kattack", buf, sizeof buf - 1);
    if (r >= 0) { buf[r] = 0; escape("getxattr", "user.kattack = %s", buf); }
    else held("getxattr", "%s", err(r));

    r = TRY(setxattr(v, "user.kattack_set", "x", 1, 0), SYS_setxattr, v, "user.kattack_set", "x", 1, 0);
    verdict("setxattr", r, "set user.kattack_set on the victim");

    r = TRY(chmod(v, 0606), SYS_chmod, v, 0606);
    verdict("chmod", r, "changed the victim's mode to 606");

    /* root gives the victim away; others "change" it to themselves, which
     * the kernel allows the owner: success says the path was reached. */
    int uid = geteuid() == 0 ? 1 : (int)geteuid(), gid = geteuid() == 0 ? 1 : (int)getegid();
    r = TRY(chown(v, uid, gid), SYS_chown, v, uid, gid);
    if (r == 0) escape("chown", "chowned the victim to %d:%d", uid, gid);
    else held("chown", "%s", err(r));

    struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    r = TRY(utimensat(AT_FDCWD, v, ts, 0), SYS_utimensat, AT_FDCWD, v, ts, 0);
    verdict("utimensat", r, "set the victim's times to 2001");

    r = TRY(stat("/etc/shadow", &st), SYS_stat, "/etc/shadow", &st);
    if (r == 0) escape("stat-etc-shadow", "mode %o size %ld", st.st_mode, (long)st.st_size);
    else held("stat-etc-shadow", "%s", err(r));
}
