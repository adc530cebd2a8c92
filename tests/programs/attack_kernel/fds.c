/* Authority nobody named: a secret file the harness left open (not
 * close-on-exec) in the launcher, found by reading fds 3..64; and a secret
 * in the directory the session was started from, by relative and by
 * absolute path. Secrets start with "kattack-secret".
 * Keys: cwd_rel, cwd_abs. */
#include "kattack.h"
#include <sys/stat.h>

NO_HELPERS

/* The secret's first line if fd holds it. */
static int secret_in(long fd, char *buf, size_t len) {
    long n = TRY(pread((int)fd, buf, len - 1, 0), SYS_pread64, fd, buf, len - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return !strncmp(buf, "kattack-secret", 14);
}

static void open_item(const char *item, const char *path) {
    long fd = TRY(open(path, O_RDONLY), SYS_openat, AT_FDCWD, path, O_RDONLY, 0);
    char buf[128];
    if (fd < 0) held(item, "open %s: %s", path, err(fd));
    else if (secret_in(fd, buf, sizeof buf)) escape(item, "read %s: %s", path, buf);
    else held(item, "opened %s, but no secret in it", path);
    closefd(fd);
}

static void attacks(void) {
    char buf[128];
    int found = 0;
    for (long fd = 3; fd <= 64 && !found; fd++) {
        struct stat st;
        long r = TRY(fstat((int)fd, &st), SYS_fstat, fd, &st);
        if (r == 0 && S_ISREG(st.st_mode) && secret_in(fd, buf, sizeof buf)) {
            escape("inherited-fd", "fd %ld holds the secret: %s", fd, buf);
            found = 1;
        }
    }
    if (!found) held("inherited-fd", "no fd of 3..64 holds the secret");
    open_item("cwd-relative", arg("cwd_rel"));
    open_item("cwd-absolute", arg("cwd_abs"));
}
