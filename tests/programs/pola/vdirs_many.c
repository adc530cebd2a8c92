/* vdirs_many: every ancestor of the path given (a grant deep enough that
 * its ancestors, the session's virtual directories, are more than the 16
 * stand-in fds a process keeps) stat'ed by its own name (the stand-in's
 * fd kept at its first stat, made in the process) and spelt `P/.` (the
 * server's answer): the two must agree (type, mode, owners, links, inode,
 * device). First by 8 threads at once, each in its own order (racing the
 * first stat of each), then in a fork child, a vfork child, and an image
 * exec'd (`--vdirs`), which does the same again. Prints one line per
 * ancestor and way, "same" or the difference. Each is also stat'ed with
 * its path inside the buffer the stat is written to. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *anc[64];
static int nanc;
static char result[64][128];

static void check(int i, char *out, size_t n) {
    struct stat a, b;
    char dot[4200];
    snprintf(dot, sizeof dot, "%s/.", strcmp(anc[i], "/") ? anc[i] : "");
    int ra = stat(anc[i], &a), ea = errno;
    int rb = stat(dot, &b), eb = errno;
    int la = -1;
    struct stat c;
    la = lstat(anc[i], &c);
    if (ra || rb)
        snprintf(out, n, "stat %s, P/. %s", ra ? strerrorname_np(ea) : "ok", rb ? strerrorname_np(eb) : "ok");
    else if (a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid || a.st_nlink != b.st_nlink || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        snprintf(out, n, "DIFF mode %o/%o uid %u/%u nlink %lu/%lu ino %lu/%lu", a.st_mode, b.st_mode, a.st_uid, b.st_uid, (unsigned long)a.st_nlink, (unsigned long)b.st_nlink, (unsigned long)a.st_ino,
                 (unsigned long)b.st_ino);
    else if (la || c.st_ino != a.st_ino || c.st_dev != a.st_dev)
        snprintf(out, n, "lstat DIFF");
    else {
        /* The path inside the buffer the stat is written to. */
        static __thread char big[8192] __attribute__((aligned(16)));
        snprintf(big + 40, sizeof big - 40, "%s", anc[i]);
        int rc = stat(big + 40, (struct stat *)big);
        struct stat *d = (struct stat *)big;
        if (rc || d->st_ino != a.st_ino || d->st_dev != a.st_dev || d->st_mode != a.st_mode)
            snprintf(out, n, "path inside the buffer: %s", rc ? strerrorname_np(errno) : "DIFF");
        else
            snprintf(out, n, "same");
    }
}

static void *thread(void *arg) {
    long t = (long)arg;
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < nanc; j++) {
            int i = (t & 1) ? nanc - 1 - j : (j + (int)t) % nanc;
            char out[128];
            check(i, out, sizeof out);
            if (strcmp(out, "same"))
                snprintf(result[i], sizeof result[i], "thread %ld: %s", t, out);
        }
    return NULL;
}

static void all(const char *way) {
    for (int i = 0; i < nanc; i++) {
        char out[128];
        for (int k = 0; k < 4; k++)
            check(i, out, sizeof out);
        printf("%s: %d: %s\n", way, i, out);
    }
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    /* The ancestors: `/`, then each prefix of the path. */
    anc[nanc++] = "/";
    for (char *p = argv[1] + 1; *p && nanc < 64; p++)
        if (*p == '/')
            anc[nanc++] = strndup(argv[1], p - argv[1]);
    printf("%d ancestors\n", nanc);
    if (argc > 2) { /* the image exec'd */
        all("exec'd");
        return 0;
    }
    pthread_t th[8];
    for (long t = 0; t < 8; t++)
        pthread_create(&th[t], NULL, thread, (void *)t);
    for (int t = 0; t < 8; t++)
        pthread_join(th[t], NULL);
    for (int i = 0; i < nanc; i++)
        printf("threads: %d: %s\n", i, result[i][0] ? result[i] : "same");
    all("after");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        all("fork child");
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    static char vout[64][128];
    c = vfork();
    if (c == 0) {
        for (int i = 0; i < nanc; i++)
            check(i, vout[i], sizeof vout[i]);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    for (int i = 0; i < nanc; i++)
        printf("vfork child: %d: %s\n", i, vout[i]);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], argv[1], "exec'd", (char *)NULL);
    printf("exec: %s\n", strerror(errno));
    return 1;
}
