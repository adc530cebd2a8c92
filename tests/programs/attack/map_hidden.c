/* A directory granted with a part of it mapped over (`--ro H --map
 * H/hidden=EMPTY:ro`, extra argument: H): the namespace shows EMPTY at
 * H/hidden, and H's copy, which still holds the host's H/hidden/key (the
 * secret's content), must not be handed to the process, nor a Landlock rule
 * for it (the launcher gives the process only copies that show what the
 * namespace shows, and -B's private /tmp, which hides only empty
 * directories made for nested grants).
 *   - libc: H/hidden/key, H/./hidden/key, H/x/../hidden/key, relative to
 *     an fd of H and of H/hidden;
 *   - around the handler: every fd of the process (preld's too), openat of
 *     hidden/key, key, ../hidden/key, and `..` climbs from it.
 * Any read of the key prints the secret. */
#include "attack.h"
#include "gadget_scan.h"

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw hidden-parent\n"); return 2; }
    const char *h = argv[4];
    show("libc H/hidden/key", lc(open(cat2(h, "/hidden/key"), O_RDONLY)));
    show("libc H/./hidden/key", lc(open(cat2(h, "/./hidden/key"), O_RDONLY)));
    mkdir(cat2(h, "/x"), 0755);
    show("libc H/x/../hidden/key", lc(open(cat2(h, "/x/../hidden/key"), O_RDONLY)));
    long hd = lc(open(h, O_RDONLY | O_DIRECTORY));
    show("libc openat(H fd, hidden/key)", lc(openat((int)hd, "hidden/key", O_RDONLY)));
    long hid = lc(openat((int)hd, "hidden", O_RDONLY | O_DIRECTORY));
    show("libc openat(H/hidden fd, key)", lc(openat((int)hid, "key", O_RDONLY)));
    show("libc openat(H/hidden fd, ../hidden/key)", lc(openat((int)hid, "../hidden/key", O_RDONLY)));
    show("raw openat(H fd, hidden/key)", raw(SYS_openat, hd, "hidden/key", O_RDONLY, 0));
    /* Beside H's fd with O_NONBLOCK / O_DIRECTORY, four times (the site
       rewritten to the session open gate, whose BESIDE path opens one name
       beside a marked fd from the fd itself): hidden, then key beside it,
       `..` and back (session-23b adversary). */
    for (int i = 0; i < 4; i++) {
        long hd2 = lc(open(h, O_RDONLY | O_DIRECTORY));
        long hid2 = lc(openat((int)hd2, "hidden", O_RDONLY | O_DIRECTORY | O_NONBLOCK));
        char l[96];
        snprintf(l, sizeof l, "gate %d: openat(H/hidden fd, key, O_NONBLOCK)", i);
        show(l, lc(openat((int)hid2, "key", O_RDONLY | O_NONBLOCK)));
        long up = lc(openat((int)hid2, "..", O_RDONLY | O_DIRECTORY));
        long hid3 = lc(openat((int)up, "hidden", O_RDONLY | O_DIRECTORY));
        snprintf(l, sizeof l, "gate %d: openat(H/hidden/.. /hidden fd, key, O_NONBLOCK)", i);
        show(l, lc(openat((int)hid3, "key", O_RDONLY | O_NONBLOCK)));
        snprintf(l, sizeof l, "gate %d: openat(H fd, hidden/key, O_NONBLOCK)", i);
        show(l, lc(openat((int)hd2, "hidden/key", O_RDONLY | O_NONBLOCK)));
        long fds[] = { hd2, hid2, up, hid3 };
        for (int k = 0; k < 4; k++) if (fds[k] >= 0) close((int)fds[k]);
    }
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing more to try\n"); return 0; }
    G = cands[0];
    static const char *names[] = { "hidden/key", "key", "../hidden/key", "./hidden/key", "x/../hidden/key" };
    for (long d = 0; d < 65536; d++) {
        if (g(SYS_fcntl, d, F_GETFD, 0, 0) < 0) continue;
        for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
            long fd = g(SYS_openat, d, (long)names[i], O_RDONLY, 0);
            if (fd >= 0) {
                char label[128];
                snprintf(label, sizeof label, "fd %ld: raw openat %s", d, names[i]);
                show(label, fd);
            }
        }
    }
    printf("map_hidden: done\n");
    return 0;
}
