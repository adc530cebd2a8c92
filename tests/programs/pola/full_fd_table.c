/* full_fd_table: the program lowers its soft fd limit to 32 and fills its
 * fd table, then stats, lstats, statxes, accesses and readlinks names of
 * the virtual directories, of grants and of file grants, and asks for its
 * cwd: natively none of them takes an fd (in a session the handler made
 * them from an fd of its own in the program's table, and each said
 * EMFILE; `/` too since its stat is made in the process). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
    struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl); rl.rlim_cur = 32; setrlimit(RLIMIT_NOFILE, &rl);
    int n = 0; while (open("/usr/include/stdio.h", O_RDONLY) >= 0) n++;
    printf("filled %d: %s\n", n, strerrorname_np(errno));
    const char *p[] = {"/", "/etc", "/dev", "/usr", "/usr/include/stdio.h", ".", "/tmp", NULL};
    struct stat st; struct statx sx;
    for (int i = 0; p[i]; i++) { const char *a = "", *b = "", *c = "";
        for (int k = 0; k < 4; k++) { a = stat(p[i], &st) ? strerrorname_np(errno) : "ok"; b = lstat(p[i], &st) ? strerrorname_np(errno) : "ok"; c = statx(AT_FDCWD, p[i], 0, STATX_BASIC_STATS, &sx) ? strerrorname_np(errno) : "ok"; }
        printf("%s: stat %s lstat %s statx %s\n", p[i], a, b, c); }
    char buf[256]; printf("getcwd %s\n", getcwd(buf, sizeof buf) ? "ok" : strerrorname_np(errno));
    const char *q[] = {"/", "/etc", "/usr/include/stdio.h", "/etc/passwd", "/usr/bin/cc", NULL};
    for (int i = 0; q[i]; i++) { const char *a = "", *b = ""; char l[256]; for (int k = 0; k < 4; k++) { a = access(q[i], R_OK) ? strerrorname_np(errno) : "ok"; b = readlink(q[i], l, sizeof l) < 0 ? strerrorname_np(errno) : "ok"; } printf("%s: access %s readlink %s\n", q[i], a, b); }
    return 0;
}
