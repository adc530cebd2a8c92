/* Another process's fd and fdinfo directories (/proc/PID/fd of the
 * parent, listed by its child) show no more fds than the process's own
 * listing of itself: preld's fds of the parent (its connection to the
 * server, its fd of its own fd directory) are not the child's to see.
 * Prints "own: ..." (the parent's fds as it lists them itself, its
 * directory's fd left out) and "child fd: ...", "child fdinfo: ...";
 * differing lists print LEAK.
 * argv: none */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void list(const char *dir, char *out, size_t cap, int skip) {
    DIR *d = opendir(dir);
    out[0] = 0;
    if (!d) { snprintf(out, cap, "(opendir: error)"); return; }
    long fds[4096]; int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        if (e->d_name[0] == '.') continue;
        long fd = atol(e->d_name);
        if (fd == dirfd(d) && skip) continue;
        fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) if (fds[j] < fds[i]) { long t = fds[i]; fds[i] = fds[j]; fds[j] = t; }
    for (int i = 0; i < n; i++) { size_t l = strlen(out); snprintf(out + l, cap - l, " %ld", fds[i]); }
}

/* A child's listings of its parent's fd and fdinfo directories. */
static void parent_lists(pid_t parent, char *fd, char *info, size_t cap) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/fd", (int)parent);
    list(p, fd, cap, 0);
    snprintf(p, sizeof p, "/proc/%d/fdinfo", (int)parent);
    list(p, info, cap, 0);
}

int main(void) {
    static char own[65536], cfd[65536], cinfo[65536];
    setvbuf(stdout, 0, _IONBF, 0);
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        parent_lists(parent, cfd, cinfo, sizeof cfd);
        printf("child fd:%s\nchild fdinfo:%s\n", cfd, cinfo);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    list("/proc/self/fd", own, sizeof own, 1);
    printf("own:%s\n", own);
    /* the child printed its lists first; read them back from nowhere:
     * compare here by listing again as the child would (another fork) */
    c = fork();
    if (c == 0) {
        parent_lists(parent, cfd, cinfo, sizeof cfd);
        if (strcmp(cfd, own) || strcmp(cinfo, own)) printf("LEAK: the parent's fds as its child lists them differ from its own listing\n");
        else printf("same\n");
        _exit(0);
    }
    waitpid(c, &st, 0);
    return 0;
}
