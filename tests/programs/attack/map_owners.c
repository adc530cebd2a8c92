/* A grant with a part mapped over (`--ro H --map H/hidden=EMPTY:ro`, extra
 * argument: H) in a session of an ordinary user, whose kernel shows
 * others' files as the overflow id and whose handler asks the server for
 * the host's owners. H/hidden (the host's, on H's copy) holds files of uid
 * 4243 that no name of the namespace reaches. Their owners must not be
 * told: not for an O_PATH fd of one (opened around the handler beneath a
 * directory fd of H the server handed out, then fstat'ed through libc),
 * not in the owners table the server fills as the program walks H (a stat
 * beside H's fd: the reply's subdirectories and the server's walker).
 * Owners 4243 seen: ESCAPE. */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>

static unsigned long G;
static long g(long n, long a, long b, long c, long d) { return call_gadget(G, n, a, b, c, d); }

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw hidden-parent\n"); return 2; }
    const char *h = argv[4];
    find_gadgets();
    if (!ncand) { printf("no gadget: nothing to try\n"); return 0; }
    G = cands[0];
    long hd = lc(open(h, O_RDONLY | O_DIRECTORY));
    printf("libc open H: %ld\n", hd);
    if (hd < 0) return 0;
    struct stat st;
    /* hidden/m: a mount below the hidden part (a tmpfs, when the harness
       could make one). */
    const char *names[] = { "hidden/key", "hidden", "hidden/sub", "hidden/sub/deep", "hidden/m", "hidden/m/f" };
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        long k = g(SYS_openat, hd, (long)names[i], O_PATH | O_CLOEXEC, 0);
        if (k < 0) { printf("raw O_PATH %s: %s\n", names[i], strerror((int)-k)); continue; }
        long r = lc(fstat((int)k, &st));
        printf("libc fstat of O_PATH %s: %s owners %u:%u%s\n", names[i], r ? strerror((int)-r) : "ok", st.st_uid, st.st_gid,
               r == 0 && st.st_uid == 4243 ? " ESCAPE: owners of a hidden file told" : "");
        r = lc(fstatat((int)k, "", &st, AT_EMPTY_PATH));
        printf("libc fstatat(O_PATH %s, \"\", AT_EMPTY_PATH): owners %u:%u%s\n", names[i], st.st_uid, st.st_gid,
               r == 0 && st.st_uid == 4243 ? " ESCAPE: owners of a hidden file told" : "");
    }
    /* A walk of H: names beside its fd, then the table. */
    fstatat((int)hd, "visible", &st, 0);
    fstatat((int)hd, "hidden", &st, 0);
    long m = g(SYS_openat, hd, (long)"hidden/m", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (m >= 0) fstatat((int)m, "f", &st, 0);
    usleep(300000);
    FILE *f = fopen("/proc/self/maps", "r");
    unsigned long lo = 0, hi = 0;
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "preld-owners")) { sscanf(line, "%lx-%lx", &lo, &hi); break; }
    if (f) fclose(f);
    if (!lo) printf("no owners table mapped\n");
    int seen = 0;
    for (unsigned long *w = (unsigned long *)lo; lo && (unsigned long)(w + 4) <= hi; w += 4)
        if (w[0] && !(w[0] & 1) && (w[3] >> 32) == 4243) seen++;
    printf("owners table: %d slots of uid 4243%s\n", seen, seen ? " ESCAPE: owners of hidden files in the table" : "");
    printf("map_owners: done\n");
    return 0;
}
