/* The session's owners table (an ordinary user's session: the host's owners
 * of files on the grants, which the server writes and each process maps
 * read-only) stays the server's. After a stat of a file of root's (which
 * maps it), tries to make it writable, unmap it, map over it, remap it,
 * write it through /proc/self/mem and process_vm_writev, and reopen it
 * writable through /proc/self/map_files: through libc (preld's memory
 * guard) and through ld-preld's own `syscall; ret` (the kernel itself).
 * A write that lands, or owners that change, print ESCAPE. argv[4]: a file
 * of root's on a grant (its owners must show 0:0 throughout). */
#include "attack.h"
#include "gadget_scan.h"
#include "owners.h"
#include <sys/stat.h>
#include <sys/uio.h>

static unsigned long lo, hi;

static int find_table(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (strstr(line, "preld-owners")) {
            sscanf(line, "%lx-%lx", &lo, &hi);
            fclose(f);
            return 1;
        }
    fclose(f);
    return 0;
}

/* A write to the table that went through: ESCAPE. */
static void landed(const char *how, long r) {
    printf("%s: %ld%s\n", how, r, r >= 0 ? " ESCAPE: the table was written or made writable" : "");
    fflush(stdout);
}

int main(int argc, char **argv) {
    ARGS
    if (argc < 5) { fprintf(stderr, "usage: secret ro rw root-file\n"); return 2; }
    const char *file = argv[4];
    owners("first", file);
    if (!find_table()) { printf("no owners table mapped (not a session of an ordinary user?)\n"); return 0; }
    printf("table: %lu bytes\n", hi - lo);
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    if (sigsetjmp(jb, 1)) printf("a write into the table faulted, as into any read-only memory\n");
    else { *(volatile unsigned long *)lo = 0x4141414141414141UL; landed("store into the table", 0); }
    printf("libc mprotect rw: %s\n", mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) ? strerror(errno) : "ESCAPE: made writable");
    printf("libc munmap: %s\n", munmap((void *)lo, 4096) ? strerror(errno) : "ESCAPE: preld's memory unmapped");
    void *m = mmap((void *)lo, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("libc mmap MAP_FIXED over it: %s\n", m == MAP_FAILED ? strerror(errno) : "ESCAPE: preld's memory mapped over");
    m = mremap((void *)lo, hi - lo, hi - lo, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(hi + (64UL << 20)));
    printf("libc mremap elsewhere: %s\n", m == MAP_FAILED ? strerror(errno) : "ESCAPE: preld's memory moved");
    fflush(stdout);
    unsigned long bad = 0x4242424242424242UL;
    int mem = open("/proc/self/mem", O_RDWR);
    if (mem >= 0) {
        landed("pwrite /proc/self/mem", pwrite(mem, &bad, 8, (off_t)lo) < 0 ? -errno : 8);
        close(mem);
    } else printf("open /proc/self/mem: %s\n", strerror(errno));
    struct iovec local = {&bad, 8}, remote = {(void *)lo, 8};
    landed("process_vm_writev", lc(process_vm_writev(getpid(), &local, 1, &remote, 1, 0)));
    char mf[128];
    snprintf(mf, sizeof mf, "/proc/self/map_files/%lx-%lx", lo, hi);
    landed("open map_files O_RDWR", lc(open(mf, O_RDWR)));
    find_gadgets();
    for (int i = 0; i < ncand; i++) {
        if (sigsetjmp(jb, 1)) { printf("gate call faulted\n"); continue; }
        landed("mprotect rw via the gate", call_gadget(cands[i], SYS_mprotect, lo, hi - lo, PROT_READ | PROT_WRITE, 0));
        long r = call_gadget(cands[i], SYS_mmap, lo, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS);
        printf("mmap MAP_FIXED over the table via the gate: %s\n", r < 0 ? strerror((int)-r) : "mapped over (the process's own memory now)");
        fflush(stdout);
        break;
    }
    owners("after", file);
    return 0;
}
