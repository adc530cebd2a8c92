/* fast_sites.h: 16384 fresh syscall sites for the fast-path tests, one per
   aligned 16-byte block from `fast_sites` on (pages of their own), each
   `mov $39, %eax; syscall; ret` (getpid) in a function of its own (an
   unwind entry, so that preld can verify and rewrite it). */
__asm__(".text\n"
        ".p2align 12\n"
        ".globl fast_sites\n"
        "fast_sites:\n"
        ".rept 16384\n"
        ".p2align 4, 0xcc\n"
        ".cfi_startproc\n"
        "mov $39, %eax\n"
        "syscall\n"
        "ret\n"
        ".cfi_endproc\n"
        ".endr\n"
        ".p2align 12, 0xcc\n");
extern char fast_sites[];
