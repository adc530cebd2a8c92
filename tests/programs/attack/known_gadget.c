/* A page the session gates know readable (KNOWN_PAGES, under the mappings'
 * generation) made PROT_NONE, then unmapped, by mprotect/munmap made through
 * ld-preld's own `syscall; ret` (no gate, no handler: the generation does
 * not move): the next open, openat and stat of a path there must be
 * EFAULT as natively, not a fault in preld's look at the path.
 * argv: secret ro rw [step] */
#include "attack.h"
#include "gadget_scan.h"
#include <sys/stat.h>
int main(int argc, char **argv) {
    ARGS
    find_gadgets();
    if (!ncand) { printf("known_gadget: no gadget\n"); return 0; }
    int how = argc > 4 ? atoi(argv[4]) : 0;
    int pick = argc > 5 ? atoi(argv[5]) : 0;
    if (pick >= ncand) { printf("known_gadget: no gadget %d\n", pick); return 0; }
    printf("gadget %d at %#lx\n", pick, cands[pick]);
    char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    snprintf(page, 4096, "%s/victim", ro);
    struct stat st;
    long a = lc(open(page, O_RDONLY)), b = lc(openat(AT_FDCWD, page, O_RDONLY)), c = lc(stat(page, &st));
    printf("before: open %s, openat %s, stat %s\n", a >= 0 ? "ok" : strerror(-a), b >= 0 ? "ok" : strerror(-b), c >= 0 ? "ok" : strerror(-c));
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    fflush(stdout);
    long r = how ? call_gadget(cands[pick], SYS_munmap, (long)page, 4096, 0, 0) : call_gadget(cands[pick], SYS_mprotect, (long)page, 4096, PROT_NONE, 0);
    printf("%s through the gadget: %ld\n", how ? "munmap" : "mprotect PROT_NONE", r);
    fflush(stdout);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    a = lc(open(page, O_RDONLY));
    printf("after: open %s\n", a >= 0 ? "ok" : strerror(-a)); fflush(stdout);
    b = lc(openat(AT_FDCWD, page, O_RDONLY));
    printf("after: openat %s\n", b >= 0 ? "ok" : strerror(-b)); fflush(stdout);
    c = lc(stat(page, &st));
    printf("after: stat %s\n", c >= 0 ? "ok" : strerror(-c)); fflush(stdout);
    printf("known_gadget: done\n");
    return 0;
}
