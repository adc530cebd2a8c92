/* The fast path's changes attacked (session-20c adversary):
 * 1. the program's own .eh_frame_hdr (and libc's, dynamic) scribbled with
 *    garbage (huge counts, tables and .eh_frame pointers into preld's
 *    memory, the kernel, unmapped pages, entries in the middle of
 *    instructions), also by a racing thread, while fresh sites are called
 *    5 times each: preld must not crash, each call must still give its
 *    result, and no byte but a site's `mov eax, NR` may change;
 * 2. madvise (DONTNEED, FREE, WIPEONFORK, DONTFORK, COLD, PAGEOUT, REMOVE)
 *    over ld-preld's image and over the stub a rewritten site jumps to,
 *    6 times from one libc site and from one raw site (the gate serves
 *    it): a 0 return is an escape; then opens, a fork child's open;
 * 3. preld's cached O_PATH fd of self/fd found by ld-preld's `syscall; ret`
 *    (every fd number up to 65536 looked at):
 *    every fd of preld's and a read-only file grant's (/etc/passwd) fd
 *    reopened O_RDWR through every directory fd, written;
 * 4. the cache around fork, vfork and unshare(CLONE_FILES) (libc and
 *    gadget, the number then dup2'ed to the rw dir holding a symlink named
 *    as the grant's base fd to the secret);
 * 5. truncate and open O_RDWR of /proc/self/fd/N for a ro grant's file, a
 *    ro grant's dir, /etc/passwd, preld's fds (the server's reopen by fd).
 * argv: secret ro rw */
#include "attack.h"
#include "gadget_scan.h"
#include <sched.h>
#include <pthread.h>
#include <sys/wait.h>
#include <sys/stat.h>
static unsigned long preld_lo, preld_hi;
#define preld_lo_ preld_lo
#define preld_hi_ preld_hi

static unsigned long G;
static long call_gadget6(unsigned long g, long n, long a, long b, long c, long d, long e) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = 0;
    __asm__ volatile("call *%[g]" : "=a"(ret), "+r"(r8), "+r"(r9) : [g] "r"(g), "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}
#include <ucontext.h>
/* A fault after the gadget scan: where (preld's code reading a hostile
 * table in place shows here), then the program ends. */
static void on_segv(int sig, siginfo_t *si, void *uc) {
    unsigned long ip = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
    char m[160];
    int n = snprintf(m, sizeof m, "FAULT: signal %d at ip %#lx, addr %#lx%s\n", sig, ip, (unsigned long)si->si_addr,
                     ip >= preld_lo_ && ip < preld_hi_ ? " (in ld-preld: preld crashed on the program's data) ESCAPE" : "");
    write(1, m, n);
    _exit(7);
}
static const char *secret_path;
static volatile int stop;

/* Sites: distinct functions, each `mov eax, 39; syscall; ret` (getpid). */
#define SITE(n) extern long site##n(void); __asm__(".text\n.globl site" #n "\n.type site" #n ",@function\nsite" #n ":\n.cfi_startproc\nmov $39, %eax\nsyscall\nret\n.cfi_endproc\n.size site" #n ", .-site" #n "\n");
SITE(0) SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7) SITE(8) SITE(9) SITE(10) SITE(11)
SITE(12) SITE(13) SITE(14) SITE(15) SITE(16)
/* A `mov eax, 39` that is an immediate's bytes: an FDE says a function
 * starts there, the CPU runs a movabs over it. */
extern long midsite(void); extern char midsite_inner[];
__asm__(".text\n.globl midsite\n.type midsite,@function\nmidsite:\nmov $39, %eax\n.byte 0x48, 0xb9, 0x11, 0x22, 0x33\n"
        ".globl midsite_inner\nmidsite_inner:\n.cfi_startproc\n.byte 0xb8, 0x27, 0, 0, 0\nsyscall\nret\n.cfi_endproc\n");
/* 8 pages of sites, one function: each `mov eax, 39; syscall; ret`. */
extern char sitepages[];
__asm__(".text\n.p2align 12\n.globl sitepages\n.type sitepages,@function\nsitepages:\n.cfi_startproc\n.rept 4096\nmov $39, %eax\nsyscall\nret\n.endr\n.cfi_endproc\n.p2align 12\n");
static long (*sites[])(void) = { site0, site1, site2, site3, site4, site5, site6, site7, site8, site9, site10, site11, site12, site13, site14, site15 };

struct ehf { unsigned char *hdr; unsigned long len; int raw_frame; };
static struct ehf ehs[16];
static int nehs;
static int ehcb(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size; (void)data;
    for (int i = 0; i < info->dlpi_phnum && nehs < 16; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME && !strstr(info->dlpi_name, "vdso") && info->dlpi_addr != getauxval(AT_SYSINFO_EHDR)) {
            ehs[nehs].hdr = (unsigned char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
            ehs[nehs].len = info->dlpi_phdr[i].p_memsz;
            nehs++;
        }
    return 0;
}
static void find_preld(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (strstr(line, "ld-preld") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
            if (!preld_lo) preld_lo = lo;
            preld_hi = hi;
        }
    }
    fclose(f);
}
static void scribble_frame(unsigned char *h, unsigned long len, int v) {
    uint32_t *w = (uint32_t *)h;
    switch (v % 6) {
    case 0: w[0] = 0x7ffffff0; break;                      /* huge first length */
    case 1: w[0] = 0xffffffff; *(uint64_t *)(h + 4) = ~0UL >> 1; break; /* 64-bit length */
    case 2: for (unsigned long i = 0; i + 4 <= len; i += 4) if (w[i / 4] > 8 && w[i / 4] < 0x10000) w[i / 4] ^= 0x7ff00000; break;
    case 3: for (unsigned long i = 4; i + 8 <= len; i += 4) if (w[i / 4] > 0x10 && w[i / 4] < 0x100000) w[i / 4] = (uint32_t)(i + 4); break; /* CIE pointers to themselves */
    case 4: for (unsigned long i = 0; i < len; i++) h[i] = (unsigned char)rand(); break;
    default: for (unsigned long i = 8; i + 8 <= len; i += 4) ((int32_t *)h)[i / 4] = (int32_t)(preld_lo - (unsigned long)(h + i)); break; /* pc fields into preld */
    }
}
static void scribble(unsigned char *h, unsigned long len, int v, int raw_frame) {
    if (len < 12) return;
    unsigned char *page = (unsigned char *)((unsigned long)h & ~0xfffUL);
    if (mprotect(page, ((unsigned long)h + len - (unsigned long)page + 0xfff) & ~0xfffUL, PROT_READ | PROT_WRITE)) return;
    if (raw_frame) { scribble_frame(h, len, v); return; }
    int32_t *w = (int32_t *)(h + 4);
    switch (v % 10) {
    case 0: h[0] = 1; h[1] = 0x1b; h[2] = 0x03; h[3] = 0x3b; w[1] = 0x7fffffff; break; /* huge count */
    case 1: h[1] = 0x1b; w[0] = (int32_t)(preld_lo - (unsigned long)(h + 4)); break; /* .eh_frame in preld */
    case 2: h[1] = 0x00; *(unsigned long *)(h + 4) = 0xffffffff81000000UL; break; /* absptr, kernel */
    case 3: h[1] = 0x1b; w[0] = 0x40000000; break; /* unmapped */
    case 4: for (unsigned long i = 12; i + 8 <= len; i += 8) { ((int32_t *)(h + i))[0] = (int32_t)((unsigned long)site0 + 1 - (unsigned long)h); } break;
    case 5: for (unsigned long i = 12; i + 8 <= len; i += 8) { ((int32_t *)(h + i))[1] = (int32_t)(preld_lo - (unsigned long)h); } break;
    case 6: h[3] = 0xff; h[2] = 0xff; break; /* bad encodings */
    case 7: for (unsigned long i = 12; i + 8 <= len; i += 8) { ((int32_t *)(h + i))[1] = 0; } break; /* FDE = the table itself */
    case 8: for (unsigned long i = 0; i < len; i++) h[i] = (unsigned char)(rand()); break;
    default: h[3] = 0x3b; w[1] = 3; for (unsigned long i = 12; i + 8 <= len && i < 36; i += 8) ((int32_t *)(h + i))[0] = 0x7fffffff; break;
    }
}
static void *scribbler(void *a) {
    (void)a;
    int v = 0;
    while (!stop) for (int i = 0; i < nehs; i++) scribble(ehs[i].hdr, ehs[i].len, v++, ehs[i].raw_frame);
    return 0;
}

#include <elf.h>
/* A static program has no .eh_frame_hdr: its .eh_frame, from the section
 * headers of its file. */
static void find_eh_frame(const char *exe) {
    FILE *f = fopen(exe, "r");
    if (!f) return;
    Elf64_Ehdr e;
    if (fread(&e, sizeof e, 1, f) != 1 || e.e_type != ET_EXEC) { fclose(f); return; }
    Elf64_Shdr sh[256];
    if (e.e_shnum > 256 || fseek(f, e.e_shoff, SEEK_SET) || fread(sh, sizeof *sh, e.e_shnum, f) != e.e_shnum) { fclose(f); return; }
    char names[4096] = {0};
    fseek(f, sh[e.e_shstrndx].sh_offset, SEEK_SET);
    if (fread(names, 1, sizeof names - 1, f) == 0) { fclose(f); return; }
    for (int i = 0; i < e.e_shnum && nehs < 16; i++)
        if (sh[i].sh_name < sizeof names && !strcmp(names + sh[i].sh_name, ".eh_frame")) {
            ehs[nehs].hdr = (unsigned char *)sh[i].sh_addr;
            ehs[nehs].len = sh[i].sh_size;
            ehs[nehs].raw_frame = 1;
            nehs++;
        }
    fclose(f);
}
static void eh_attacks(const char *exe) {
    dl_iterate_phdr(ehcb, 0);
    if (!nehs) find_eh_frame(exe);
    printf("unwind tables scribbled: %d (%s)\n", nehs, nehs && ehs[0].raw_frame ? ".eh_frame" : ".eh_frame_hdr");
    long pid = getpid();
    unsigned char before[16][16];
    for (int s = 0; s < 16; s++) memcpy(before[s], (void *)sites[s], 16);
    /* Sites 0-9: one garbage kind each, everywhere; 10-15 with a racing
     * scribbler. */
    for (int s = 0; s < 10; s++) {
        printf("garbage kind %d\n", s);
        for (int i = 0; i < nehs; i++) scribble(ehs[i].hdr, ehs[i].len, s, ehs[i].raw_frame);
        for (int k = 0; k < 5; k++) {
            long r = sites[s]();
            if (r != pid) printf("ESCAPE: site %d call %d gave %ld (pid %ld)\n", s, k, r, pid);
        }
        /* libc sites too (dynamic: libc's table scribbled). */
        for (int k = 0; k < 5; k++) { getppid(); sched_yield(); umask(022); getpgrp(); }
    }
    printf("racing scribbler\n");
    pthread_t t;
    pthread_create(&t, 0, scribbler, 0);
    for (int s = 10; s < 16; s++)
        for (int k = 0; k < 5; k++) {
            long r = sites[s]();
            if (r != pid) printf("ESCAPE: raced site %d call %d gave %ld\n", s, k, r);
        }
    for (int k = 0; k < 5; k++) { long r = midsite(); if (r != pid) printf("ESCAPE: midsite gave %ld\n", r); }
    stop = 1;
    pthread_join(t, 0);
    for (int s = 0; s < 16; s++) {
        unsigned char *b = (unsigned char *)sites[s];
        /* Bytes 0-4 may be the jump; syscall and ret stay. */
        if (memcmp(b + 5, before[s] + 5, 3)) printf("ESCAPE: site %d's syscall/ret bytes changed\n", s);
        if (b[0] != 0xb8) printf("site %d rewritten (%02x)\n", s, b[0]);
    }
    unsigned char *m = (unsigned char *)midsite_inner;
    if (m[0] != 0xb8 || m[1] != 0x27) printf("NOTE: midsite's immediate bytes rewritten (%02x %02x): its own FDE lied\n", m[0], m[1]);
    printf("eh_frame attacks done, preld alive: open /etc/passwd %ld\n", lc(open("/etc/passwd", O_RDONLY)));
    fflush(stdout);
}

static long raw_madvise(long a, long l, long adv) { return raw(SYS_madvise, a, l, adv, 0); }
static void madvise_attacks(void) {
    static const int advs[] = { MADV_DONTNEED, MADV_FREE, MADV_WIPEONFORK, MADV_DONTFORK, MADV_COLD, MADV_PAGEOUT, MADV_REMOVE, MADV_KEEPONFORK, MADV_DOFORK };
    find_preld();
    printf("ld-preld %#lx-%#lx\n", preld_lo, preld_hi);
    /* A rewritten site's stub: the jump libc's madvise (or site16) now holds. */
    unsigned long stub = 0;
    for (int k = 0; k < 6; k++) site16();
    unsigned char *b = (unsigned char *)site16;
    if (b[0] == 0xe9) stub = (unsigned long)(b + 5) + *(int32_t *)(b + 1);
    printf("site16's stub %#lx\n", stub);
    unsigned long targets[4][2] = { { preld_lo, preld_hi - preld_lo }, { stub & ~0xfffUL, 4096 }, { preld_hi - 4096, 4096 }, { preld_lo + 4096, 8192 } };
    for (int t = 0; t < 4; t++) {
        if (!targets[t][0]) continue;
        for (unsigned a = 0; a < sizeof advs / sizeof *advs; a++) {
            for (int k = 0; k < 6; k++) {
                long r1 = lc(madvise((void *)targets[t][0], targets[t][1], advs[a]));
                long r2 = raw_madvise(targets[t][0], targets[t][1], advs[a]);
                if (r1 == 0 || r2 == 0)
                    printf("ESCAPE: madvise(%#lx, %#lx, %d) call %d: libc %ld raw %ld\n", targets[t][0], targets[t][1], advs[a], k, r1, r2);
            }
        }
    }
    /* The same through the gate of a site already rewritten, on an
     * ordinary page of the program's: must work. */
    void *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int k = 0; k < 6; k++) if (madvise(p, 8192, MADV_DONTNEED)) printf("madvise of own page fails %d\n", errno);
    long pid = getpid();
    for (int k = 0; k < 6; k++) if (site16() != pid) printf("ESCAPE: site16 after madvise\n");
    pid_t c = fork();
    if (c == 0) { long fd = lc(open("/etc/passwd", O_RDONLY)); _exit(fd >= 0 && site16() == getpid() ? 0 : 3); }
    int st = 0;
    waitpid(c, &st, 0);
    printf("madvise attacks done; fork child %#x, open %ld\n", st, lc(open("/etc/passwd", O_RDONLY)));
    fflush(stdout);
}

/* fds the program sees through libc (preld's are hidden: EBADF). */
static int mine[1024];
static void note_mine(void) { for (int i = 0; i < 1024; i++) mine[i] = fcntl(i, F_GETFD) >= 0; }

static void fd_dir_attacks(const char *ro) {
    char buf[64];
    long pw = lc(open("/etc/passwd", O_RDONLY)); /* opened through the cached self/fd */
    long vict = lc(open(cat2(ro, "/victim"), O_RDONLY));
    printf("passwd fd %ld, victim fd %ld\n", pw, vict);
    note_mine();
    if (!G) { printf("no gadget\n"); return; }
    static int preld_fds[1024];
    int np = 0;
    for (int i = 0; i < 65536 && np < 1000; i++)
        if ((i >= 1024 || !mine[i]) && call_gadget(G, SYS_fcntl, i, F_GETFD, 0, 0) >= 0) preld_fds[np++] = i;
    printf("preld's fds (gadget):");
    for (int i = 0; i < np; i++) printf(" %d", preld_fds[i]);
    printf("\n");
    static int targets[1030];
    int nt = 0;
    for (int i = 0; i < np; i++) targets[nt++] = preld_fds[i];
    if (pw >= 0) targets[nt++] = (int)pw;
    if (vict >= 0) targets[nt++] = (int)vict;
    for (int d = 0; d < 1400; d++) {
        if (call_gadget(G, SYS_fcntl, d, F_GETFD, 0, 0) < 0) continue;
        for (int t = 0; t < nt; t++) {
            snprintf(buf, sizeof buf, "%d", targets[t]);
            for (int fl = 0; fl < 3; fl++) {
                int flags = fl == 0 ? O_RDWR : fl == 1 ? O_WRONLY | O_APPEND : O_RDWR | O_TRUNC;
                long fd = call_gadget(G, SYS_openat, d, (long)buf, flags, 0);
                if (fd >= 0) {
                    struct stat st;
                    fstat((int)fd, &st);
                    long n = call_gadget(G, SYS_pwrite64, fd, (long)"", 0, 0);
                    long n1 = S_ISREG(st.st_mode) || S_ISLNK(st.st_mode) ? call_gadget(G, SYS_write, fd, (long)"X", 1, 0) : -1;
                    printf("%s: gadget openat(%d, \"%s\", %#x) = %ld mode %o, pwrite0 %ld, write %ld\n",
                           n1 > 0 ? "ESCAPE" : "opened", d, buf, flags, fd, st.st_mode, n, n1);
                    call_gadget(G, SYS_close, fd, 0, 0, 0);
                }
                long lfd = lc(openat(d, buf, flags));
                if (lfd >= 0) {
                    long n1 = write((int)lfd, "X", 1);
                    printf("%s: libc openat(%d, \"%s\", %#x) = %ld, write %ld\n", n1 > 0 ? "ESCAPE" : "opened", d, buf, flags, lfd, n1);
                    close((int)lfd);
                }
            }
        }
    }
    /* preld's own dir fds (its self/fd among them) asked for the grant's fd. */
    for (int i = 0; i < np; i++) {
        snprintf(buf, sizeof buf, "%ld", pw);
        long r = call_gadget(G, SYS_openat, preld_fds[i], (long)buf, O_RDONLY, 0);
        long w = call_gadget(G, SYS_openat, preld_fds[i], (long)buf, O_RDWR, 0);
        printf("through preld's fd %d: openat(\"%s\") O_RDONLY %ld, O_RDWR %ld\n", preld_fds[i], buf, r, w);
        if (w >= 0) try_write_ro("preld's dir fd: grant reopened O_RDWR", w);
        if (r >= 0) call_gadget(G, SYS_close, r, 0, 0, 0);
    }
    /* 5. The server's reopen/truncate by /proc/self/fd/N. */
    for (int t = 0; t < nt; t++) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", targets[t]);
        long tr = lc(truncate(p, 0));
        if (tr == 0) printf("ESCAPE: truncate(%s) (fd %d) worked\n", p, targets[t]);
        try_write_ro(cat2("open O_RDWR ", p), lc(open(p, O_RDWR)));
        try_write_ro(cat2("open O_WRONLY|O_TRUNC ", p), lc(open(p, O_WRONLY | O_TRUNC)));
        snprintf(p, sizeof p, "/dev/fd/%d", targets[t]);
        if (lc(truncate(p, 0)) == 0) printf("ESCAPE: truncate(%s) worked\n", p);
        try_write_ro(cat2("open O_RDWR ", p), lc(open(p, O_RDWR)));
    }
    long dro = lc(open(ro, O_RDONLY | O_DIRECTORY));
    long opro = lc(open(cat2(ro, "/victim"), O_PATH));
    char p[64];
    if (opro >= 0) {
        snprintf(p, sizeof p, "/proc/self/fd/%ld", opro);
        if (lc(truncate(p, 0)) == 0) printf("ESCAPE: truncate of O_PATH ro victim worked\n");
        try_write_ro("open O_RDWR of O_PATH ro victim", lc(open(p, O_RDWR)));
    }
    if (dro >= 0) {
        snprintf(p, sizeof p, "/proc/self/fd/%ld/victim", dro);
        if (lc(truncate(p, 0)) == 0) printf("ESCAPE: truncate of ro dir fd/victim worked\n");
        try_write_ro("open O_RDWR of ro dir fd/victim", lc(open(p, O_RDWR)));
    }
    fflush(stdout);
}

/* 6. A thread maps an anonymous page of int3 over a page of sites (through
 * ld-preld's `syscall; ret`, the handler not told; and by libc) while the
 * main thread's calls make its sites' third traps: preld must not write a
 * jump into memory no object loaded. */
static sigjmp_buf rjb;
static volatile int round_page, replaced, called, jumps;
/* `unmap_race_dfl`: SIGSEGV and SIGBUS left at SIG_DFL (preld must catch
 * its own fault without the program's handler), the int3 page made
 * elsewhere (executable: no moment of a page the main thread could fault
 * on natively) and moved over the sites with one mremap, then made
 * read-only (under preld's store, when it just made the page writable). */
static int dfl_mode;
/* The replacer's own fault: preld's mprotect back to the segment's
 * protection, made after a store over the old page, can land on the page
 * the replacer just mapped there and is filling through the gadget (the
 * handler never hears of that mmap): only this program suffers, it went
 * round preld. The replacer gives that round up rather than jump into the
 * main thread's buffer. */
static __thread sigjmp_buf *own_jb;
static volatile int replacer_faults;
static void on_trap(int sig) { (void)sig; if (own_jb) siglongjmp(*own_jb, 1); siglongjmp(rjb, 1); }
static void *replacer(void *a) {
    long way = (long)a;
    unsigned long pg = (unsigned long)sitepages + 4096UL * round_page;
    if (dfl_mode) {
        void *src = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (src == MAP_FAILED) return 0;
        memset(src, 0xcc, 4096);
        for (volatile int k = 0; k < (rand() % 20000); k++) ;
        long r = way ? call_gadget6(G, SYS_mremap, (long)src, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, pg)
                     : (long)mremap(src, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)pg);
        if (r == (long)pg) {
            if (way) call_gadget(G, SYS_mprotect, pg, 4096, PROT_READ | PROT_EXEC, 0);
            else mprotect((void *)pg, 4096, PROT_READ | PROT_EXEC);
            replaced = 1;
        }
        return 0;
    }
    static __thread sigjmp_buf jb;
    if (sigsetjmp(jb, 1)) {
        own_jb = 0;
        replacer_faults++;
        return 0;
    }
    own_jb = &jb;
    for (volatile int k = 0; k < (rand() % 20000); k++) ;
    long r = way ? call_gadget6(G, SYS_mmap, pg, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1)
                 : (long)mmap((void *)pg, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (r == (long)pg) {
        memset((void *)pg, 0xcc, 4096);
        if (way) call_gadget(G, SYS_mprotect, pg, 4096, PROT_READ | PROT_EXEC, 0);
        else mprotect((void *)pg, 4096, PROT_READ | PROT_EXEC);
        replaced = 1;
    }
    return 0;
}
static void unmap_race(void) {
    signal(SIGTRAP, on_trap);
    struct sigaction sa = { 0 };
    sa.sa_handler = on_trap;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGILL, &sa, 0);
    if (dfl_mode) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
    }
    long pid = getpid();
    for (int r = 0; r < 8; r++) {
        round_page = r;
        replaced = 0;
        called = 0;
        pthread_t t;
        pthread_create(&t, 0, replacer, (void *)(long)(r & 1));
        if (!sigsetjmp(rjb, 1)) {
            for (int i = 0; i < 512; i++) {
                long (*f)(void) = (long (*)(void))(sitepages + 4096 * r + 8 * i);
                for (int k = 0; k < 4; k++) if (f() != pid) printf("ESCAPE: unmap race site gave a wrong result\n");
                called = i + 1;
                if (*(unsigned char *)f == 0xe9) jumps++;
            }
        }
        pthread_join(t, 0);
        unsigned char *pg = (unsigned char *)sitepages + 4096 * r;
        int bad = 0;
        if (replaced) for (int i = 0; i < 4096; i++) if (pg[i] != 0xcc) bad++;
        printf("unmap race round %d (%s): %d sites called, %d rewritten so far, replaced %d, %d bytes of the anonymous page changed%s\n", r, r & 1 ? "gadget" : "libc", called, jumps, replaced, bad,
               bad ? " ESCAPE: preld wrote into memory no object loaded" : "");
    }
}
static void check_passwd(const char *who) {
    char b[64] = {0};
    long fd = lc(open("/etc/passwd", O_RDONLY));
    long n = fd >= 0 ? read((int)fd, b, 40) : fd;
    printf("%s: open /etc/passwd %ld read %ld '%.40s'\n", who, fd, n, b);
    try_write_ro(cat2(who, ": /etc/passwd O_RDWR"), lc(open("/etc/passwd", O_RDWR)));
    if (fd >= 0) close((int)fd);
    fflush(stdout);
}
static int unshared(void *a) {
    (void)a;
    check_passwd("clone(no CLONE_FILES) thread");
    return 0;
}
static void cache_games(const char *rw) {
    int preld_fds[1024], np = 0;
    note_mine();
    if (G) for (int i = 0; i < 1024; i++) if (!mine[i] && call_gadget(G, SYS_fcntl, i, F_GETFD, 0, 0) >= 0) preld_fds[np++] = i;
    pid_t c = fork();
    if (c == 0) { check_passwd("fork child"); _exit(0); }
    waitpid(c, 0, 0);
    c = vfork();
    if (c == 0) { long fd = raw(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDWR, 0); _exit(fd >= 0 ? 9 : 0); }
    int st;
    waitpid(c, &st, 0);
    printf("vfork child's raw O_RDWR /etc/passwd: %s\n", WEXITSTATUS(st) == 9 ? "ESCAPE: opened" : "refused");
    check_passwd("after vfork");
    /* A thread of its own fd table (libc unshare; then one by the gadget, the
     * handler not told), preld's fd numbers made the rw dir, holding a
     * symlink to the secret at every number. */
    for (int i = 0; i < 1024; i++) { char n[300]; snprintf(n, sizeof n, "%s/%d", rw, i); symlink(secret_path, n); }
    for (int way = 0; way < 2; way++) {
        c = fork();
        if (c == 0) {
            if (way == 0) unshare(CLONE_FILES);
            else if (G) call_gadget(G, SYS_unshare, CLONE_FILES, 0, 0, 0);
            long d = lc(open(rw, O_RDONLY | O_DIRECTORY));
            if (G) for (int i = 0; i < np; i++) call_gadget(G, SYS_dup2, d, preld_fds[i], 0, 0);
            check_passwd(way ? "gadget-unshared child, preld's fds = rw dir" : "unshared child, preld's fds = rw dir");
            _exit(0);
        }
        waitpid(c, 0, 0);
    }
    static char stack[65536];
    c = clone(unshared, stack + sizeof stack, CLONE_VM | SIGCHLD, 0);
    if (c > 0) waitpid(c, 0, 0);
    /* The parent: a thread unshares by the gadget, breaks the numbers. */
    if (G) {
        long d = lc(open(rw, O_RDONLY | O_DIRECTORY));
        call_gadget(G, SYS_unshare, CLONE_FILES, 0, 0, 0);
        for (int i = 0; i < np; i++) call_gadget(G, SYS_dup2, d, preld_fds[i], 0, 0);
        check_passwd("parent after gadget unshare, preld's fds = rw dir");
    }
}

int main(int argc, char **argv) {
    ARGS
    secret_path = secret;
    setvbuf(stdout, 0, _IOLBF, 0);
    find_preld();
    find_gadgets();
    if (!ncand) { printf("fast_rewrite: no ld-preld gadget: not in a session, refusing to run (it writes to /etc/passwd)\n"); return 0; }
    G = cands[0];
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGILL, &sa, 0);
    /* A program's own FDE that starts inside an instruction (midsite_inner,
     * an immediate's bytes): its `mov eax, 39` is trusted and rewritten.
     * Only the program's own code suffers (the CPU runs a movabs whose
     * immediate changed, then the `syscall` traps as before). */
    for (int k = 0; k < 5; k++) if (midsite() != getpid()) printf("ESCAPE: midsite gave a wrong result\n");
    if (((unsigned char *)midsite_inner)[0] != 0xb8) printf("NOTE: midsite's immediate bytes rewritten: its own FDE lied\n");
    madvise_attacks();
    /* `unmap_race` or `unmap_race_dfl` (argv[4]): only the race of 6.,
     * run many times by its own test. */
    if (argc > 4 && (!strcmp(argv[4], "unmap_race") || !strcmp(argv[4], "unmap_race_dfl"))) {
        dfl_mode = !strcmp(argv[4], "unmap_race_dfl");
        unmap_race();
        printf("fast_rewrite: done\n");
        return 0;
    }
    eh_attacks(argv[0]);
    fd_dir_attacks(ro);
    cache_games(rw);
    printf("fast_rewrite: done\n");
    return 0;
}
