/* shmat(SHM_REMAP) of a segment whose first page lies outside preld's
 * memory and whose next page covers preld's (a page of ld-preld's image
 * or arena, a stub page of the fast path): the handler must refuse it as
 * it refuses a fixed mmap, munmap or mremap of the same range (EPERM).
 * preld's mappings are found by madvise(MADV_NORMAL), which the handler
 * refuses over preld's memory only; the page before each must be
 * unmapped (ENOMEM), so that nothing of the program is replaced. Via libc
 * and a raw `syscall`. A crash is a fine outcome once ESCAPE is printed. */
#include "attack.h"
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/mman.h>
#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif
#define PG 4096UL
int main(int argc, char **argv) {
    ARGS
    int id = shmget(IPC_PRIVATE, 2 * PG, IPC_CREAT | 0600);
    printf("shmget: %d\n", id);
    if (id < 0) return 0;
    char *mine = shmat(id, 0, 0);
    memset(mine, 0xcc, 2 * PG);
    strcpy(mine + PG, "MARK-shm_over");
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) { printf("no /proc/self/maps\n"); return 0; }
    unsigned long starts[512];
    int n = 0;
    char line[512];
    while (n < 512 && fgets(line, sizeof line, f)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) == 2) starts[n++] = s;
    }
    fclose(f);
    int tried = 0;
    for (int i = 0; i < n && tried < 8; i++) {
        unsigned long s = starts[i];
        long own = raw(SYS_madvise, s, PG, MADV_NORMAL, 0);
        long before = raw(SYS_madvise, s - PG, PG, MADV_NORMAL, 0);
        if (own != -EPERM || before != -ENOMEM) continue;
        tried++;
        long r;
        if (tried % 2) {
            r = raw(SYS_shmat, id, s - PG, SHM_REMAP | SHM_RDONLY, 0);
        } else {
            void *q = shmat(id, (void *)(s - PG), SHM_REMAP | SHM_RDONLY);
            r = q == (void *)-1 ? -errno : (long)q;
        }
        printf("%s shmat(SHM_REMAP) at %#lx over preld's %#lx: %s\n", tried % 2 ? "raw" : "libc", s - PG, s,
               r < 0 ? strerror((int)-r) : "attached");
        fflush(stdout);
        if (r == (long)(s - PG)) {
            if (!strcmp((const char *)s, "MARK-shm_over"))
                printf("ESCAPE: shmat replaced preld's memory at %#lx with the program's segment\n", s);
            fflush(stdout);
        }
    }
    printf("%d of preld's mappings tried\n", tried);
    show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    return 0;
}
