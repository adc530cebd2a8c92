/* A directory granted with a part of it mapped over (`--MODE H --map
 * H/hidden=EMPTY:MODE`, extra arguments: H, MODE). The server hands out
 * directory fds of H on H's copy, which still holds the host's H/hidden
 * (key: the secret's content; prog: a program). Around the handler
 * (ld-preld's `syscall; ret`) an O_PATH open beneath such an fd is no
 * Landlock matter: O_PATH fds of the hidden files are easy to get. Each
 * is then handed to the server through the handler, which takes the fd
 * for the file it names:
 *   - open("/proc/self/fd/N") for reading and for writing (a reopen by the
 *     server, judged by the grant and place of the fd);
 *   - fchmodat, fchownat, utimensat with AT_EMPTY_PATH, truncate of the
 *     fd's name;
 *   - fexecve of the hidden program;
 *   - the Owners request's listing of the hidden directory (as a
 *     directory fd sent to the server: owners of files no name reaches).
 * Any read of the key prints the secret; a change of the hidden files is
 * seen by the harness; ESCAPE for the rest. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
#include <sys/wait.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

static void changed(const char *what, long r) {
    printf("%s: %s%s\n", what, r == 0 ? "done" : strerror((int)-r), r == 0 ? " ESCAPE: changed a hidden host file" : "");
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 6) { fprintf(stderr, "usage: secret ro rw hidden-parent mode\n"); return 2; }
    const char *h = argv[4], *mode = argv[5];
    /* The hidden file and program, relative to H (argv[6], argv[7]: a
       session `--ro /` whose private /tmp hides the host's). */
    const char *keyname = argc > 6 ? argv[6] : "hidden/key", *progname = argc > 7 ? argv[7] : "hidden/prog";
    char p[128];
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    long hd = lc(open(h, O_RDONLY | O_DIRECTORY));
    printf("libc open H: %ld\n", hd);
    if (hd < 0) return 0;
    long k = g(SYS_openat, hd, (long)keyname, O_PATH | O_CLOEXEC, 0);
    printf("raw O_PATH openat(H fd, hidden/key): %ld\n", k);
    /* The kernel's stat of it (a known limit: LEAK, not ESCAPE). */
    struct stat hs;
    long sr = g(SYS_newfstatat, hd, (long)keyname, (long)&hs, 0);
    if (sr == 0) printf("LEAK: raw fstatat(H fd, hidden/key): size %ld ino %lu\n", (long)hs.st_size, (unsigned long)hs.st_ino);
    else printf("raw fstatat(H fd, hidden/key): %s\n", strerror((int)-sr));
    if (k >= 0) {
        snprintf(p, sizeof p, "/proc/self/fd/%ld", k);
        show("libc open /proc/self/fd/N (hidden/key) O_RDONLY", lc(open(p, O_RDONLY)));
        try_write_ro("libc open /proc/self/fd/N (hidden/key) O_WRONLY", lc(open(p, O_WRONLY)));
        try_write_ro("libc open /proc/self/fd/N (hidden/key) O_RDWR|O_APPEND", lc(open(p, O_RDWR | O_APPEND)));
        changed("libc fchmodat(N, \"\", 0604, AT_EMPTY_PATH)", lc(fchmodat((int)k, "", 0604, AT_EMPTY_PATH)));
        changed("libc fchownat(N, \"\", uid, gid, AT_EMPTY_PATH)", lc(fchownat((int)k, "", getuid(), getgid(), AT_EMPTY_PATH)));
        struct timespec ts[2] = {{1, 0}, {1, 0}};
        changed("libc utimensat(N, \"\", AT_EMPTY_PATH)", lc(utimensat((int)k, "", ts, AT_EMPTY_PATH)));
        changed("libc utimensat(/proc/self/fd/N)", lc(utimensat(AT_FDCWD, p, ts, 0)));
        changed("libc truncate(/proc/self/fd/N, 1)", lc(truncate(p, 1)));
        struct stat st;
        long r = lc(stat(p, &st));
        printf("libc stat /proc/self/fd/N: %s (size %ld)\n", r == 0 ? "ok" : strerror((int)-r), r == 0 ? (long)st.st_size : -1L);
    }
    long x = g(SYS_openat, hd, (long)progname, O_PATH | O_CLOEXEC, 0);
    printf("raw O_PATH openat(H fd, hidden/prog): %ld\n", x);
    if (x >= 0) {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            char *av[] = { "prog", "/dev/null", 0 };
            extern char **environ;
            long e = lc(fexecve((int)x, av, environ));
            printf("fexecve hidden/prog: %s\n", strerror((int)-e));
            fflush(stdout);
            _exit(99);
        }
        int s = 0;
        waitpid(c, &s, 0);
        int ran = WIFEXITED(s) && WEXITSTATUS(s) != 99;
        printf("fexecve hidden/prog: status %#x%s\n", s, ran ? " ESCAPE: ran a hidden program" : "");
    }
    /* The hidden directory itself, as a base: its names are the map's. */
    long hid = g(SYS_openat, hd, (long)"hidden", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    printf("raw O_PATH openat(H fd, hidden): %ld\n", hid);
    if (hid >= 0) {
        show("libc openat(hidden O_PATH fd, key)", lc(openat((int)hid, "key", O_RDONLY)));
        snprintf(p, sizeof p, "/proc/self/fd/%ld/key", hid);
        show("libc open /proc/self/fd/N/key", lc(open(p, O_RDONLY)));
    }
    printf("map_reopen (%s): done\n", mode);
    return 0;
}
