/* -B's private /tmp with grants nested below it (the harness's scratch
 * directories lie in /tmp): their places in the private /tmp are empty
 * placeholder directories and files, which the process must never answer
 * with (beneath.rs `usable_path`: a look with RESOLVE_NO_SYMLINKS, then the
 * open). A racing thread swaps (RENAME_EXCHANGE, by the server) a directory
 * /tmp/race-d holding `victim` with a relative symlink to the read-only
 * grant RO, and a file /tmp/race-f with a symlink to this program's own
 * file grant, while the main thread opens and reads /tmp/race-d/victim and
 * /tmp/race-f. Natively each open gives one side of the swap: our own
 * content or the grant's (the victim, the program's ELF). An empty
 * placeholder read (ENOENT for the victim, 0 bytes of the program) is a
 * wrong answer: printed `WRONG:`.
 * argv: secret ro rw */
#include "attack.h"
#include <pthread.h>
#include <stdatomic.h>
#include <linux/fs.h>

static atomic_int stop;
static const char *d = "/tmp/race-d", *s = "/tmp/race-s", *f = "/tmp/race-f", *t = "/tmp/race-t";

static void *racer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        renameat2(AT_FDCWD, d, AT_FDCWD, s, RENAME_EXCHANGE);
        renameat2(AT_FDCWD, f, AT_FDCWD, t, RENAME_EXCHANGE);
    }
    return NULL;
}

int main(int argc, char **argv) {
    ARGS
    if (strncmp(ro, "/tmp/", 5) != 0) {
        printf("tmp_race: %s is not below /tmp: nothing to try\n", ro);
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 5 || strncmp(self, "/tmp/", 5) != 0) {
        printf("tmp_race: the program is not below /tmp: nothing to try\n");
        return 0;
    }
    self[n] = 0;
    if (mkdir(d, 0755) != 0) { perror("mkdir"); return 1; }
    int w = open("/tmp/race-d/victim", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "mine\n", 5) != 5) { perror("race-d/victim"); return 1; }
    close(w);
    w = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (w < 0 || write(w, "mine\n", 5) != 5) { perror("race-f"); return 1; }
    close(w);
    if (symlink(ro + 5, s) != 0 || symlink(self + 5, t) != 0) { perror("symlink"); return 1; }
    pthread_t th;
    pthread_create(&th, NULL, racer, NULL);
    long mine = 0, grant = 0, wrong = 0, other = 0;
    char buf[64];
    for (int i = 0; i < 20000; i++) {
        const char *p = (i & 1) ? f : "/tmp/race-d/victim";
        int fd = open(p, O_RDONLY);
        if (fd < 0) {
            if (errno == ENOENT && !(i & 1)) {
                if (wrong++ < 5) printf("WRONG: open %s: ENOENT (an empty placeholder directory)\n", p);
            } else if (other++ < 5) {
                printf("open %s: %s\n", p, strerror(errno));
            }
            continue;
        }
        ssize_t r = read(fd, buf, sizeof buf);
        close(fd);
        if (r == 5 && memcmp(buf, "mine\n", 5) == 0) mine++;
        else if (r == 0) {
            if (wrong++ < 5) printf("WRONG: read %s: 0 bytes (an empty placeholder file)\n", p);
        } else grant++;
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
    printf("tmp_race: %ld ours, %ld the grants', %ld wrong, %ld other failures\n", mine, grant, wrong, other);
    unlink(s); unlink(t); unlink(f);
    unlink("/tmp/race-d/victim"); rmdir(d);
    printf("tmp_race: done\n");
    return 0;
}
