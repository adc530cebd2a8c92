/* A symlink in a grant swapped, by a second thread, between a link into
 * the session's /proc (/proc/self/comm) and a link to a file of the
 * grant, while the main thread opens it: natively every open succeeds
 * (the link names one or the other, both there). In a session the first
 * answer may be ELSEWHERE and the server's answer to `Where` (the link
 * swapped since) EAGAIN. Prints how many opens failed and with which
 * errno (each a WRONG line).
 * argv: DIR (read-write, holding a file `real`) */
#include "attack.h"
#include <pthread.h>

static char link_path[4096], tmp1[4096], tmp2[4096];
static volatile int stop;

static void *flip(void *arg) {
    (void)arg;
    while (!stop) {
        rename(tmp1, link_path);
        symlink("/proc/self/comm", tmp1);
        rename(tmp2, link_path);
        symlink("real", tmp2);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: elsewhere_race DIR\n"); return 2; }
    snprintf(link_path, sizeof link_path, "%s/link", argv[1]);
    snprintf(tmp1, sizeof tmp1, "%s/link.proc", argv[1]);
    snprintf(tmp2, sizeof tmp2, "%s/link.real", argv[1]);
    symlink("real", link_path);
    symlink("/proc/self/comm", tmp1);
    symlink("real", tmp2);
    pthread_t t;
    pthread_create(&t, 0, flip, 0);
    int fails[4096] = {0}, total = 0;
    for (int i = 0; i < 20000; i++) {
        int fd = open(link_path, O_RDONLY);
        if (fd < 0) { total++; if (errno < 4096) fails[errno]++; else fails[0]++; }
        else close(fd);
    }
    stop = 1;
    pthread_join(t, 0);
    for (int e = 0; e < 4096; e++)
        if (fails[e]) printf("open failed %d times: %s WRONG\n", fails[e], e ? strerror(e) : "errno >= 4096");
    printf("opens failed: %d of 20000\n", total);
    fflush(stdout);
    return 0;
}
