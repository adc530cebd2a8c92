/* The in-process open beneath a grant looks at the type first (statx), then
 * opens (openat2 confined beneath the grant; a FIFO's open rewritten and
 * made as the program's own call). A racing thread swaps the name between
 * the two, in the rw grant: a FIFO, a regular file, a directory, symlinks to
 * the secret (absolute, and relative climbing out), to the read-only victim,
 * to /dev/null. The main thread opens it for reading and for writing
 * (non-blocking, or O_RDWR: a FIFO's open never waits then) 6000 times.
 * The secret read, the victim written or a device other than /dev/null
 * opened (the server's /dev/null is the grant's) prints ESCAPE or shows in
 * the output. */
#include "attack.h"
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static const char *names[7];
static const char *target;
static volatile int stop;

static void *flip(void *a) {
    (void)a;
    for (int i = 0; !stop; i++) renameat2(AT_FDCWD, names[i % 7], AT_FDCWD, target, RENAME_EXCHANGE);
    return 0;
}

int main(int argc, char **argv) {
    ARGS
    char *up = cat2("../../../../../../../../../../../..", secret);
    names[0] = cat2(rw, "/n-fifo");
    names[1] = cat2(rw, "/n-file");
    names[2] = cat2(rw, "/n-dir");
    names[3] = cat2(rw, "/n-abs");
    names[4] = cat2(rw, "/n-rel");
    names[5] = cat2(rw, "/n-victim");
    names[6] = cat2(rw, "/n-null");
    target = cat2(rw, "/x");
    int made = 0;
    made += mkfifo(names[0], 0644) == 0;
    int f = open(names[1], O_CREAT | O_WRONLY, 0644);
    made += f >= 0 && write(f, "benign\n", 7) == 7;
    close(f);
    made += mkdir(names[2], 0755) == 0;
    made += symlink(secret, names[3]) == 0;
    made += symlink(up, names[4]) == 0;
    made += symlink(cat2(ro, "/victim"), names[5]) == 0;
    made += symlink("/dev/null", names[6]) == 0;
    printf("made %d of 7\n", made);
    /* x starts as a file; the flipper exchanges it with each name in turn. */
    f = open(target, O_CREAT | O_WRONLY, 0644);
    close(f);
    pthread_t t;
    pthread_create(&t, 0, flip, 0);
    int flags[4] = { O_RDONLY | O_NONBLOCK, O_WRONLY | O_NONBLOCK, O_RDWR, O_WRONLY | O_APPEND | O_NONBLOCK };
    int opened = 0, fails = 0, devices = 0, errs[256] = { 0 };
    char buf[256];
    for (int i = 0; i < 6000; i++) {
        int fl = flags[i % 4];
        long fd = lc(open(target, fl));
        if (fd < 0) { fails++; errs[-fd & 255]++; continue; }
        opened++;
        struct stat st;
        if (fstat((int)fd, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
            devices++;
            if (st.st_rdev != makedev(1, 3)) printf("opened device %u:%u ESCAPE: a device opened\n", major(st.st_rdev), minor(st.st_rdev));
        }
        if ((fl & O_ACCMODE) != O_WRONLY && S_ISREG(st.st_mode)) {
            long n = read((int)fd, buf, sizeof buf - 1);
            if (n > 0) { buf[n] = 0; if (strncmp(buf, "benign", 6) && strncmp(buf, "victim", 6)) printf("READ something else: %s\n", buf); }
        }
        if ((fl & O_ACCMODE) != O_RDONLY && S_ISREG(st.st_mode)) {
            /* Only the rw grant's own file may take it. */
            struct stat v;
            if (stat(cat2(ro, "/victim"), &v) == 0 && v.st_ino == st.st_ino && v.st_dev == st.st_dev)
                printf("the victim opened for writing ESCAPE: wrote into a read-only grant\n");
        }
        close((int)fd);
    }
    stop = 1;
    pthread_join(t, 0);
    printf("opened %d (devices %d), failed %d\n", opened, devices, fails);
    for (int e = 1; e < 256; e++)
        if (errs[e]) printf("  %s: %d\n", strerror(e), errs[e]);
    return 0;
}
