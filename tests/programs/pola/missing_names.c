/* missing_names: what a session answers for names in its virtual
 * directories that are none of their entries (/root/... where only grants
 * are), at several depths and through every kind of lookup: stat, lstat,
 * statx, access, readlink, open (plain, O_CREAT, O_CREAT|O_EXCL,
 * O_DIRECTORY, O_CREAT|O_DIRECTORY, O_PATH), mkdir, exec, with a trailing
 * slash, `.`, `..` and `//`. Printed as errno names, so that a session
 * whose process answers them itself (beneath::missing) and one whose
 * server does (--learn) compare line by line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *e(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

int main(int argc, char **argv) {
    const char *paths[] = { "/nothere", "/nothere/x", "/nothere/x/y/", "/root/.cargo/bin/gcc", "//nothere", "/./nothere",
                            "/nothere/../usr", "/usr/../nothere", "/etc/nothere", "/etc/nothere/x", "/etc", "/etc/",
                            "/etc/passwd", "/etc/passwd/", "/usr/nothere", "/tmp/nothere", "/", "/nothere/.", argc > 1 ? argv[1] : "/" };
    for (unsigned i = 0; i < sizeof paths / sizeof *paths; i++) {
        const char *p = paths[i];
        struct stat st;
        struct statx sx;
        char buf[64];
        printf("%s: stat %s lstat %s statx %s", p, e(stat(p, &st)), e(lstat(p, &st)), e(statx(AT_FDCWD, p, 0, STATX_BASIC_STATS, &sx)));
        printf(" access %s %s", e(access(p, F_OK)), e(access(p, X_OK)));
        printf(" readlink %s", e(readlink(p, buf, sizeof buf)));
        static const int flags[] = { O_RDONLY, O_RDONLY | O_CREAT, O_RDONLY | O_CREAT | O_EXCL, O_RDONLY | O_DIRECTORY,
                                     O_RDONLY | O_CREAT | O_DIRECTORY, O_PATH, O_WRONLY };
        for (unsigned k = 0; k < sizeof flags / sizeof *flags; k++) {
            int fd = open(p, flags[k], 0644);
            printf(" open%u %s", k, e(fd));
            if (fd >= 0) close(fd);
        }
        printf(" mkdir %s", e(mkdir(p, 0755)));
        pid_t c = fork();
        if (c == 0) {
            char *av[] = { "x", 0 };
            execv(p, av);
            _exit(errno);
        }
        int ws = 0;
        waitpid(c, &ws, 0);
        printf(" exec %s\n", WIFEXITED(ws) ? strerrorname_np(WEXITSTATUS(ws)) : "signal");
        fflush(stdout);
    }
    /* execvp's PATH search through names that are not there. */
    pid_t c = fork();
    if (c == 0) {
        setenv("PATH", "/nothere/bin:/root/.local/bin:/usr/nothere:/usr/bin", 1);
        char *av[] = { "true", 0 };
        execvp("true", av);
        _exit(errno);
    }
    int ws = 0;
    waitpid(c, &ws, 0);
    printf("execvp true through a PATH of missing directories: status %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    return 0;
}
