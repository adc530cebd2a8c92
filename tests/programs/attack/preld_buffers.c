/* Calls the session's handler gate now answers in the process given
 * buffers in preld's memory (ld-preld's writable segment, the mapping
 * after it, a buffer ending in it): getcwd (served in the gate since
 * session 23) and the stat family of a virtual directory (`/`, `/etc`:
 * the stand-in's fstat made in the process). Each must fail with EFAULT,
 * as for any address the program may not write; a success wrote into
 * preld (ESCAPE). Then preld must still work: opens, stats, getcwd. */
#include "attack.h"
#include <sys/stat.h>

/* Through libc's syscall(), four times (its site rewritten to the gate
   at the third), the last answer; and once as a raw `syscall` (the trap
   path). */
static long lsys(long n, long a, long b, long c, long d, long e) {
    long r = 0;
    for (int i = 0; i < 4; i++) {
        r = syscall(n, a, b, c, d, e);
        if (r < 0)
            r = -errno;
    }
    long t = raw6(n, a, b, c, d, e, 0);
    return r >= 0 ? r : t;
}

static void check(const char *what, long r) {
    printf("%s: %s%s\n", what, r < 0 ? strerror((int)-r) : "ok", r >= 0 ? " ESCAPE: wrote into preld's memory" : "");
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    char maps[65536];
    int m = open("/proc/self/maps", O_RDONLY);
    long n = 0, k;
    while (m >= 0 && (k = read(m, maps + n, sizeof maps - 1 - n)) > 0)
        n += k;
    maps[n] = 0;
    unsigned long starts[8];
    int ns = 0;
    for (char *l = maps; *l && ns < 8;) {
        char *e = strchr(l, '\n');
        if (e)
            *e = 0;
        unsigned long lo, hi;
        char perms[8];
        if (strstr(l, "ld-preld") && sscanf(l, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[1] == 'w') {
            starts[ns++] = lo;
            starts[ns++] = hi; /* the mapping after it: preld's too (thread slots, heap) */
        }
        l = e ? e + 1 : l + strlen(l);
    }
    printf("preld's writable memory: %s\n", ns ? "found" : "none");
    /* Deeper in: the middle and the end of the mapping after ld-preld's
       writable segment (its bss: the handler's heap arena), and the thread
       block gs points at (rdgsbase), given to the session stat gate with a
       granted path (session-23b adversary). */
    {
        unsigned long more[16];
        int nm = 0;
        for (int i = 1; i < ns && nm < 12; i += 2) {
            for (char *l = maps; l < maps + n;) {
                unsigned long lo, hi;
                if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && lo == starts[i]) {
                    printf("the mapping after ld-preld's: %lx-%lx\n", lo, hi);
                    more[nm++] = lo + ((hi - lo) / 2 & ~4095UL);
                    more[nm++] = hi - 144;
                    more[nm++] = hi - 4096;
                    break;
                }
                l += strlen(l) + 1;
            }
        }
        unsigned long gs = 0;
        __asm__ volatile("rdgsbase %0" : "=r"(gs));
        if (gs) {
            more[nm++] = gs;
            more[nm++] = gs & ~4095UL;
        }
        printf("deeper: %d places%s\n", nm, gs ? " (gs base found)" : "");
        const char *paths[] = {"/usr/include/stdio.h", cat2(ro, "/victim"), "/usr/include"};
        for (int i = 0; i < nm; i++)
            for (int j = 0; j < 3; j++) {
                char what[160];
                snprintf(what, sizeof what, "deeper stat(%s, place %d)", paths[j], i);
                check(what, lsys(SYS_stat, (long)paths[j], (long)more[i], 0, 0, 0));
                snprintf(what, sizeof what, "deeper lstat(%s, place %d)", paths[j], i);
                check(what, lsys(SYS_newfstatat, AT_FDCWD, (long)paths[j], (long)more[i], AT_SYMLINK_NOFOLLOW, 0));
            }
    }
    for (int i = 0; i < ns; i++) {
        char what[96];
        long b = (long)starts[i];
        snprintf(what, sizeof what, "getcwd(preld %d)", i);
        check(what, lsys(SYS_getcwd, b, 4096, 0, 0, 0));
        snprintf(what, sizeof what, "getcwd(ending in preld %d)", i);
        check(what, lsys(SYS_getcwd, b - 2, 4096, 0, 0, 0));
        /* (Then paths beneath grants: the session stat gate's, made in
           asm from the grant's copy; session-23b adversary.) */
        const char *names[] = {"/", "/etc", "/usr", "/usr/include/stdio.h", "/usr/include/", "/usr/bin/sh", cat2(ro, "/victim")};
        for (int j = 0; j < 7; j++) {
            snprintf(what, sizeof what, "stat(%s, preld %d)", names[j], i);
            check(what, lsys(SYS_stat, (long)names[j], b, 0, 0, 0));
            snprintf(what, sizeof what, "lstat(%s, preld %d)", names[j], i);
            check(what, lsys(SYS_lstat, (long)names[j], b, 0, 0, 0));
            snprintf(what, sizeof what, "newfstatat(%s, preld %d)", names[j], i);
            check(what, lsys(SYS_newfstatat, AT_FDCWD, (long)names[j], b, 0, 0));
            snprintf(what, sizeof what, "statx(%s, preld %d)", names[j], i);
            check(what, lsys(SYS_statx, AT_FDCWD, (long)names[j], 0, 0xfff, b));
            snprintf(what, sizeof what, "stat(%s, ending in preld %d)", names[j], i);
            check(what, lsys(SYS_stat, (long)names[j], b - 16, 0, 0, 0));
        }
    }
    /* Still working. */
    char cwd[256];
    struct stat st;
    printf("after: getcwd %s, stat / %s, open victim %s\n", getcwd(cwd, sizeof cwd) ? "ok" : strerror(errno),
           stat("/", &st) == 0 ? "ok" : strerror(errno), lc(open(cat2(ro, "/victim"), O_RDONLY)) >= 0 ? "ok" : "fails");
    printf("preld_buffers: done\n");
    return 0;
}
