/* auxv: prints the deterministic auxiliary-vector values and yes/no checks that AT_PHDR, AT_ENTRY, AT_BASE, AT_EXECFN, AT_RANDOM and AT_SYSINFO_EHDR describe this process, plus the keys of /proc/self/auxv. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern const ElfW(Ehdr) __ehdr_start;
extern void _start(void);

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* Whether n bytes at p can be read: write(2) into a pipe says EFAULT otherwise. */
static int readable(const void *p, size_t n) {
    int fds[2];
    if (!p || pipe(fds) != 0) return 0;
    ssize_t w = write(fds[1], p, n);
    close(fds[0]);
    close(fds[1]);
    return w == (ssize_t)n;
}

/* The PT_INTERP string of the running program, from its own headers in memory. */
static const char *own_interp(void) {
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)&__ehdr_start + __ehdr_start.e_phoff);
    uintptr_t bias = 0;
    for (int i = 0; i < __ehdr_start.e_phnum; i++)
        if (ph[i].p_type == PT_PHDR) bias = (uintptr_t)ph - ph[i].p_vaddr;
    for (int i = 0; i < __ehdr_start.e_phnum; i++)
        if (ph[i].p_type == PT_INTERP) return (const char *)(bias + ph[i].p_vaddr);
    return 0;
}

struct ldso { const char *interp; uintptr_t addr; int found; };

/* ld.so names itself after the program's PT_INTERP; Debian's is .../ld-linux-x86-64.so.2. */
static int find_ldso(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct ldso *l = data;
    const char *n = info->dlpi_name;
    if (n && *n && (strstr(n, "ld-linux") || (l->interp && strcmp(n, l->interp) == 0))) {
        l->addr = info->dlpi_addr;
        l->found = 1;
        return 1;
    }
    return 0;
}

/* Start of ld.so's first mapping (offset 0) in /proc/self/maps, or 0. */
static uintptr_t ldso_from_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 1; /* never a valid AT_BASE: reported as a mismatch */
    char line[4096];
    uintptr_t found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end, off;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s %lx", &start, &end, perms, &off) != 4) continue;
        if (off == 0 && strstr(line, "/ld-linux")) {
            found = start;
            break;
        }
    }
    fclose(f);
    return found;
}

static int cmp_ul(const void *a, const void *b) {
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
    printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
    /* AT_PHNUM's value is not printed: a copy patched by `preld patch` has
       more program headers than the original. It is checked against e_phnum. */
    printf("AT_UID=%lu AT_EUID=%lu AT_GID=%lu AT_EGID=%lu\n", getauxval(AT_UID), getauxval(AT_EUID),
           getauxval(AT_GID), getauxval(AT_EGID));
    printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
    printf("AT_FLAGS=%lu\n", getauxval(AT_FLAGS));
    printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
    printf("AT_HWCAP=%#lx AT_HWCAP2=%#lx\n", getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
    const char *plat = (const char *)getauxval(AT_PLATFORM);
    printf("AT_PLATFORM=%s\n", plat && readable(plat, 1) ? plat : "(none)");

    const ElfW(Phdr) *own = (const ElfW(Phdr) *)((const char *)&__ehdr_start + __ehdr_start.e_phoff);
    printf("AT_PHDR is this program's headers: %s\n", yesno(getauxval(AT_PHDR) == (uintptr_t)own));
    printf("AT_PHNUM is e_phnum: %s\n", yesno(getauxval(AT_PHNUM) == __ehdr_start.e_phnum));
    printf("AT_ENTRY is _start: %s\n", yesno(getauxval(AT_ENTRY) == (uintptr_t)&_start));

    struct ldso l = {own_interp(), 0, 0};
    dl_iterate_phdr(find_ldso, &l);
    uintptr_t base = getauxval(AT_BASE);
    printf("has PT_INTERP: %s\n", yesno(l.interp != 0));
    printf("AT_BASE is ld.so (dl_iterate_phdr): %s\n", yesno(l.found ? base == l.addr : base == 0));
    printf("AT_BASE is ld.so (/proc/self/maps): %s\n", yesno(base == ldso_from_maps()));

    const char *execfn = (const char *)getauxval(AT_EXECFN);
    const char *want = getenv("PRELD_TEST_EXECFN");
    printf("AT_EXECFN is the path run: %s\n",
           want ? yesno(execfn && readable(execfn, 1) && strcmp(execfn, want) == 0) : "PRELD_TEST_EXECFN unset");

    printf("AT_RANDOM has 16 readable bytes: %s\n", yesno(readable((void *)getauxval(AT_RANDOM), 16)));
    const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    printf("AT_SYSINFO_EHDR is an ELF header: %s\n",
           yesno(readable(vdso, 4) && memcmp(vdso, ELFMAG, SELFMAG) == 0));

    FILE *f = fopen("/proc/self/auxv", "rb");
    unsigned long keys[128];
    int n = 0;
    if (f) {
        unsigned long kv[2];
        while (n < 128 && fread(kv, sizeof kv, 1, f) == 1 && kv[0] != AT_NULL)
            keys[n++] = kv[0];
        fclose(f);
    }
    qsort(keys, n, sizeof keys[0], cmp_ul);
    printf("/proc/self/auxv keys:");
    for (int i = 0; i < n; i++)
        if (i == 0 || keys[i] != keys[i - 1]) printf(" %lu", keys[i]);
    printf("\n");
    return 0;
}
