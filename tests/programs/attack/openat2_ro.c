/* openat2 called by the program (libc's syscall() into the handler, and
 * through ld-preld's `syscall; ret`) against the read-only grant: writes,
 * truncations, creations and O_TMPFILE, with every resolve flag, how.flags
 * and how.mode bits past 32, sizes past 24, from a dirfd of the grant and
 * AT_FDCWD. argv: secret ro rw. */
#include "attack.h"
#include "gadget_scan.h"
#include <linux/openat2.h>
#include <sys/stat.h>
static unsigned long g;
static long o2(int via, int dfd, const char *p, unsigned long long fl, unsigned long long mode, unsigned long long res, size_t size) {
    char buf[64] = {0};
    struct open_how *how = (struct open_how *)buf;
    how->flags = fl; how->mode = mode; how->resolve = res;
    return via ? call_gadget(g, SYS_openat2, dfd, (long)p, (long)how, (long)size) : lc(syscall(SYS_openat2, dfd, p, how, size));
}
int main(int argc, char **argv) {
    ARGS
    find_gadgets();
    g = ncand ? cands[0] : 0;
    int dfd = open(ro, O_RDONLY | O_DIRECTORY);
    const char *victim = cat2(ro, "/victim");
    unsigned long long flags[] = { O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND, O_CREAT | O_WRONLY, O_CREAT | O_EXCL | O_RDWR,
                                   O_TMPFILE | O_RDWR, O_RDONLY | O_TRUNC | (1ULL << 33), O_WRONLY | (1ULL << 40), O_PATH | O_RDWR };
    unsigned long long res[] = { 0, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS, RESOLVE_CACHED };
    size_t sizes[] = { 24, 32, 4096 };
    int tries = 0;
    for (int via = 0; via < (g ? 2 : 1); via++)
        for (unsigned f = 0; f < sizeof flags / sizeof *flags; f++)
            for (unsigned r = 0; r < sizeof res / sizeof *res; r++)
                for (unsigned s = 0; s < 3; s++) {
                    const char *names[] = { "victim", "new", ".", victim, cat2(ro, "/new"), cat2(ro, "/.") };
                    for (int n = 0; n < 6; n++) {
                        int at = n < 3 ? dfd : AT_FDCWD;
                        long fd = o2(via, at, names[n], flags[f], 0100644ULL | (1ULL << 35), res[r], sizes[s]);
                        tries++;
                        if (fd >= 0) {
                            long w = raw(SYS_write, fd, "PWNED", 5, 0);
                            struct stat st;
                            fstat(fd, &st);
                            if (w > 0) printf("ESCAPE: openat2 %s flags %#llx resolve %#llx via %d wrote into the read-only grant\n", names[n], flags[f], res[r], via);
                            raw(SYS_close, fd, 0, 0, 0);
                        }
                    }
                }
    struct stat st;
    if (stat(cat2(ro, "/new"), &st) == 0) printf("ESCAPE: created %s/new\n", ro);
    char b[64] = {0};
    int fd = open(victim, O_RDONLY);
    read(fd, b, sizeof b - 1);
    printf("victim now: %s", b);
    printf("openat2_ro: %d tries, done\n", tries);
    return 0;
}
