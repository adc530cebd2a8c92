/* The in-process open beneath a grant whose path has no `..` (beneath.rs
 * `openat2`: RESOLVE_NO_SYMLINKS alone first, no RESOLVE_BENEATH; ELOOP
 * takes the confined walk), raced. In the rw grant OUT:
 *   OUT/a/b/c/d/f, OUT/x/b/c/d/f (two trees), OUT/ls -> SECRETDIR
 *   (absolute), OUT/lf -> SECRET, OUT/up -> ../../../..(...)SECRETDIR
 *   (climbing), OUT/dots -> . (a loop);
 * racing threads swap (renameat2 RENAME_EXCHANGE, by the server) OUT/a
 * with OUT/x, OUT/a/b with the symlinks, OUT/a/b/c with OUT/up, while
 * others open, stat, lstat, access and readlink deep paths that would
 * name the secret if a swap let the walk out: OUT/a/b/secret,
 * OUT/a/b/c/secret, OUT/a//b/./c/, relative to a dirfd deep in the tree
 * (the handler's, and one the server handed out: `//OUT/a`), via libc, a
 * raw `syscall` and ld-preld's `syscall; ret`; and O_PATH|O_NOFOLLOW of
 * the symlinks, then the fd used (/proc/self/fd/N/secret, openat(fd,
 * "secret"), AT_EMPTY_PATH stat). An fd or stat whose dev:ino is the
 * secret's or its dir's (argv 4, 5, from the harness) is an ESCAPE, as is
 * the secret's content in the output (the harness looks).
 * With argv 6 (OUT/sub/sealed, a ro grant nested in OUT): its victim is
 * opened for writing at OUT/sub/sealed/victim, OUT/./sub/sealed/victim
 * and OUT/z/sealed/victim while OUT/sub and OUT/z are swapped.
 * With argv 6 = "-" and argv 7, 8 (OUTER a ro grant, OUTER/w a rw grant
 * in it): OUTER/victim written as OUTER/w/../victim, from a dirfd of
 * OUTER/w (../victim), and as OUTER/w/m/victim while OUTER/w/m is swapped
 * with a symlink to OUTER. */
#include "attack.h"
#include "gadget_scan.h"
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdatomic.h>

static unsigned long G;
static const char *S, *SD, *OUT, *SEALED, *OUTER, *INNER;
static unsigned long long sdev, sino, ddev, dino;
static atomic_int stop;
static atomic_long escapes, opened;

static void check_st(const char *label, const struct stat *st) {
    if ((st->st_dev == sdev && st->st_ino == sino) || (st->st_dev == ddev && st->st_ino == dino)) {
        atomic_fetch_add(&escapes, 1);
        printf("%s: dev:ino %llu:%llu ESCAPE: reached the secret or its dir\n", label, (unsigned long long)st->st_dev, (unsigned long long)st->st_ino);
        fflush(stdout);
    }
}
static void check_fd(const char *label, long fd) {
    if (fd < 0) return;
    atomic_fetch_add(&opened, 1);
    struct stat st;
    if (fstat((int)fd, &st) == 0) {
        check_st(label, &st);
        if (S_ISREG(st.st_mode)) {
            char buf[128];
            long n = raw(SYS_read, fd, buf, sizeof buf - 1, 0);
            if (n > 0) {
                buf[n] = 0;
                if (strstr(buf, "preld-secret") || strstr(buf, "SECRET")) printf("%s: READ %s\n", label, buf);
            }
        }
    }
    raw(SYS_close, fd, 0, 0, 0);
}
static char *P(const char *a, const char *b) { return cat2(a, b); }

/* Swaps, through the server. */
static void *swapper(void *arg) {
    long k = (long)arg;
    char *a = P(OUT, "/a"), *x = P(OUT, "/x"), *ab = P(OUT, "/a/b"), *ls = P(OUT, "/ls"), *lf = P(OUT, "/lf"), *up = P(OUT, "/up");
    char *abc = P(OUT, "/a/b/c"), *dots = P(OUT, "/dots");
    while (!atomic_load(&stop)) {
        switch (k) {
        case 0: renameat2(AT_FDCWD, a, AT_FDCWD, x, RENAME_EXCHANGE); break;
        case 1: renameat2(AT_FDCWD, ab, AT_FDCWD, ls, RENAME_EXCHANGE); renameat2(AT_FDCWD, ab, AT_FDCWD, lf, RENAME_EXCHANGE); break;
        default: renameat2(AT_FDCWD, abc, AT_FDCWD, up, RENAME_EXCHANGE); renameat2(AT_FDCWD, abc, AT_FDCWD, dots, RENAME_EXCHANGE); break;
        }
    }
    return 0;
}

static const char *rels[] = { "a/b/secret", "a/b/c/secret", "a/b/c/d/f", "a//b/./c/d/f", "a/b/c/d/", "x/b/secret", "a/b", "a/b/c", "./a/b/secret", "a/b/c/../secret" };
#define NR (int)(sizeof rels / sizeof *rels)

static void *opener(void *arg) {
    long k = (long)arg;
    char label[300];
    int iters = 0;
    int da = open(P(OUT, "/a"), O_RDONLY | O_DIRECTORY); /* in process */
    int dsrv = open(P("/", P(OUT, "/a")), O_RDONLY | O_DIRECTORY); /* the server's (`//` path) */
    while (!atomic_load(&stop) && iters++ < 1200) {
        for (int i = 0; i < NR; i++) {
            char *abs = P(P(OUT, "/"), rels[i]);
            const char *sub = strchr(rels[i], '/') ? strchr(rels[i], '/') + 1 : rels[i];
            struct stat st;
            snprintf(label, sizeof label, "[t%ld] %s", k, rels[i]);
            switch (k % 4) {
            case 0:
                check_fd(label, lc(open(abs, O_RDONLY)));
                check_fd(label, lc(openat(da, sub, O_RDONLY)));
                check_fd(label, lc(openat(dsrv, sub, O_RDONLY)));
                if (stat(abs, &st) == 0) check_st(label, &st);
                if (lstat(abs, &st) == 0) check_st(label, &st);
                if (fstatat(da, sub, &st, 0) == 0) check_st(label, &st);
                break;
            case 1:
                check_fd(label, raw(SYS_openat, AT_FDCWD, abs, O_RDONLY, 0));
                check_fd(label, raw(SYS_openat, da, sub, O_PATH, 0));
                check_fd(label, raw(SYS_open, abs, O_PATH, 0, 0));
                if (raw(SYS_newfstatat, da, sub, &st, 0) == 0) check_st(label, &st);
                break;
            case 2:
                /* Around the handler: the kernel (Landlock, the copies). */
                if (G) {
                    check_fd(label, call_gadget(G, SYS_openat, da, (long)sub, O_RDONLY, 0));
                    check_fd(label, call_gadget(G, SYS_openat, dsrv, (long)sub, O_PATH, 0));
                    if (call_gadget(G, SYS_newfstatat, da, (long)sub, (long)&st, 0) == 0) check_st(label, &st);
                }
                check_fd(label, lc(open(abs, O_RDONLY | O_DIRECTORY)));
                break;
            default: {
                /* O_PATH|O_NOFOLLOW of what may be a symlink, then used. */
                long fd = lc(open(abs, O_PATH | O_NOFOLLOW));
                if (fd < 0) fd = lc(openat(da, sub, O_PATH | O_NOFOLLOW));
                if (fd >= 0) {
                    char pp[64];
                    snprintf(pp, sizeof pp, "/proc/self/fd/%ld/secret", fd);
                    check_fd(label, lc(open(pp, O_RDONLY)));
                    snprintf(pp, sizeof pp, "/proc/self/fd/%ld", fd);
                    check_fd(label, lc(open(pp, O_RDONLY)));
                    check_fd(label, lc(openat((int)fd, "secret", O_RDONLY)));
                    if (G) check_fd(label, call_gadget(G, SYS_openat, fd, (long)"secret", O_RDONLY, 0));
                    if (fstatat((int)fd, "", &st, AT_EMPTY_PATH) == 0) check_st(label, &st);
                    if (fstatat((int)fd, "secret", &st, 0) == 0) check_st(label, &st);
                    close((int)fd);
                }
                char l[256];
                long n = lc(readlink(abs, l, sizeof l - 1));
                (void)n;
                if (access(abs, R_OK) == 0 && strstr(rels[i], "secret")) {
                    /* `secret` exists in the tree only as the secret */
                    if (stat(abs, &st) == 0) check_st(label, &st);
                }
            }
            }
            free(abs);
        }
    }
    return 0;
}

static unsigned long long vdev, vino;
static void *nested_writer(void *arg) {
    long k = (long)arg;
    char *paths[] = { P(OUT, "/sub/sealed/victim"), P(OUT, "/./sub/sealed/victim"), P(OUT, "/z/sealed/victim"), P(OUT, "/z//sealed/./victim") };
    int dout = open(OUT, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 1500 && !atomic_load(&stop); i++)
        for (int j = 0; j < 4; j++) {
            long fd = k ? lc(open(paths[j], O_WRONLY)) : lc(openat(dout, paths[j] + strlen(OUT) + 1, O_WRONLY | O_APPEND));
            struct stat st;
            if (fd >= 0 && fstat((int)fd, &st) == 0 && st.st_dev == vdev && st.st_ino == vino) try_write_ro(paths[j], fd);
            else if (fd >= 0) close((int)fd);
        }
    return 0;
}
static void *nested_swapper(void *arg) {
    (void)arg;
    char *sub = P(OUT, "/sub"), *z = P(OUT, "/z");
    while (!atomic_load(&stop)) {
        long r = lc(renameat2(AT_FDCWD, sub, AT_FDCWD, z, RENAME_EXCHANGE));
        static int said;
        if (!said++) printf("exchange OUT/sub with OUT/z: %s\n", r == 0 ? "done" : strerror((int)-r));
    }
    return 0;
}

static void outer_ro(void) {
    char *victim = P(OUTER, "/victim");
    char *m = P(INNER, "/m"), *lo = P(INNER, "/lo");
    mkdir(m, 0755);
    long s = lc(symlink(OUTER, lo));
    printf("symlink in the inner rw grant to the outer ro one: %ld\n", s);
    int din = open(INNER, O_RDONLY | O_DIRECTORY);
    try_write_ro("OUTER/w/../victim O_WRONLY", lc(open(P(INNER, "/../victim"), O_WRONLY)));
    try_write_ro("openat(OUTER/w fd, ../victim) O_WRONLY", lc(openat(din, "../victim", O_WRONLY)));
    try_write_ro("openat(OUTER/w fd, lo/victim) O_WRONLY", lc(openat(din, "lo/victim", O_WRONLY)));
    try_write_ro("OUTER/w/lo/victim O_RDWR", lc(open(P(INNER, "/lo/victim"), O_RDWR)));
    if (G) try_write_ro("gadget openat(OUTER/w fd, ../victim)", call_gadget(G, SYS_openat, din, (long)"../victim", O_WRONLY, 0));
    if (G) try_write_ro("gadget openat(OUTER/w fd, lo/victim)", call_gadget(G, SYS_openat, din, (long)"lo/victim", O_WRONLY, 0));
    try_write_ro("OUTER/victim O_WRONLY", lc(open(victim, O_WRONLY)));
    long r = lc(renameat2(AT_FDCWD, m, AT_FDCWD, lo, RENAME_EXCHANGE));
    printf("exchange OUTER/w/m with the symlink: %s\n", r == 0 ? "done" : strerror((int)-r));
    pid_t p = fork();
    if (p == 0) {
        for (int i = 0; i < 8000; i++) renameat2(AT_FDCWD, m, AT_FDCWD, lo, RENAME_EXCHANGE);
        _exit(0);
    }
    for (int i = 0; i < 8000; i++) {
        long fd = lc(open(P(INNER, "/m/victim"), O_WRONLY));
        if (fd < 0) fd = lc(openat(din, "m/victim", O_RDWR));
        if (fd >= 0) try_write_ro("racing OUTER/w/m/victim", fd);
        long rd = lc(open(P(INNER, "/m/victim"), O_RDONLY));
        if (rd >= 0) close((int)rd);
    }
    waitpid(p, 0, 0);
    long dir = lc(open(P(INNER, "/lo"), O_RDONLY | O_DIRECTORY));
    if (dir >= 0) {
        try_write_ro("openat(OUTER/w/lo -> OUTER dir fd, victim)", lc(openat((int)dir, "victim", O_WRONLY)));
        if (G) try_write_ro("gadget openat(OUTER/w/lo dir fd, victim)", call_gadget(G, SYS_openat, dir, (long)"victim", O_WRONLY, 0));
    }
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 6) { fprintf(stderr, "usage: secret ro rw secret-dev:ino dir-dev:ino [sealed | - outer inner]\n"); return 2; }
    setvbuf(stdout, 0, _IOLBF, 0);
    S = secret; OUT = rw;
    sscanf(argv[4], "%llu:%llu", &sdev, &sino);
    sscanf(argv[5], "%llu:%llu", &ddev, &dino);
    char *sd = strdup(secret);
    *strrchr(sd, '/') = 0;
    SD = sd;
    find_gadgets();
    G = ncand ? cands[0] : 0;
    /* Natively (no session) the secret is here: the check works. */
    check_fd("plain open(secret)", lc(open(secret, O_RDONLY)));
    show("plain open(secret)", lc(open(secret, O_RDONLY)));
    if (argc > 8 && strcmp(argv[6], "-") == 0) {
        OUTER = argv[7]; INNER = argv[8];
        outer_ro();
        return 0;
    }
    SEALED = argc > 6 ? argv[6] : 0;
    mkdir(P(rw, "/a"), 0755); mkdir(P(rw, "/a/b"), 0755); mkdir(P(rw, "/a/b/c"), 0755); mkdir(P(rw, "/a/b/c/d"), 0755);
    mkdir(P(rw, "/x"), 0755); mkdir(P(rw, "/x/b"), 0755); mkdir(P(rw, "/x/b/c"), 0755); mkdir(P(rw, "/x/b/c/d"), 0755);
    int f = open(P(rw, "/a/b/c/d/f"), O_WRONLY | O_CREAT, 0644); write(f, "inside\n", 7); close(f);
    f = open(P(rw, "/x/b/c/d/f"), O_WRONLY | O_CREAT, 0644); write(f, "inside\n", 7); close(f);
    symlink(SD, P(rw, "/ls"));
    symlink(secret, P(rw, "/lf"));
    char up[4096] = "";
    for (int i = 0; i < 20; i++) strcat(up, "../");
    strcat(up, SD + 1);
    symlink(up, P(rw, "/up"));
    symlink(".", P(rw, "/dots"));
    pthread_t th[16];
    int nt = 0;
    for (long k = 0; k < 3; k++) pthread_create(&th[nt++], 0, swapper, (void *)k);
    for (long k = 0; k < 8; k++) pthread_create(&th[nt++], 0, opener, (void *)k);
    if (SEALED) {
        struct stat vs;
        if (stat(P(SEALED, "/victim"), &vs) == 0) vdev = vs.st_dev, vino = vs.st_ino;
        printf("sealed victim: %llu:%llu\n", vdev, vino);
        mkdir(P(rw, "/z"), 0755);
        mkdir(P(rw, "/z/sealed"), 0755);
        f = open(P(rw, "/z/sealed/victim"), O_WRONLY | O_CREAT, 0644); close(f);
        pthread_create(&th[nt++], 0, nested_swapper, 0);
        pthread_create(&th[nt++], 0, nested_writer, (void *)0);
        pthread_create(&th[nt++], 0, nested_writer, (void *)1);
    }
    for (int i = 3; i < nt; i++) if (i < 11 || i > 11) pthread_join(th[i], 0);
    atomic_store(&stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], 0);
    if (SEALED) pthread_join(th[11], 0);
    printf("opens that succeeded: %ld, escapes: %ld\n", atomic_load(&opened), atomic_load(&escapes));
    return 0;
}
