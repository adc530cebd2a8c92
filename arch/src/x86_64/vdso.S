/* preld's vDSO, x86_64: the text of the small shared object that ld-preld
 * hands to programs as AT_SYSINFO_EHDR instead of the kernel's vDSO.
 *
 * Built by handler/build.rs (gcc -shared -nostdlib, linker script
 * linker-scripts/vdso.ld, which also gives every exported name the
 * version LINUX_2.6 and the image the soname linux-vdso.so.1); never
 * linked into Rust code.
 *
 * Each exported function calls the handler in one 8-byte slot of
 * `preld_vdso_slots`, a table inside the image, with the stack aligned to
 * 16 bytes first: the handlers are Rust functions, which may keep SSE
 * values on the stack with aligned moves, and not every caller keeps the
 * ABI's alignment for a vDSO call (Go's syscall.Gettimeofday calls it from
 * a frameless function: rsp is off by 8, which the kernel's vDSO code
 * tolerates). The slots are zero in the file; handler::vdso::install
 * writes the handler addresses into them before it makes the image
 * read-only and executable. The handler gets the caller's arguments in the
 * caller's registers (rdi, rsi, rdx) and its result in rax.
 *
 * Registers: rbp is saved and restored (it holds the caller's rsp during
 * the call); nothing else is touched here. Stack: 16 to 24 bytes below
 * the caller's rsp (rbp, the alignment, the return address). No
 * relocation: the slot is addressed rip-relative to a symbol local to this
 * image.
 *
 * The slot order is part of the interface with handler/src/vdso.rs
 * (`Func` there): 0 clock_gettime, 1 gettimeofday, 2 time, 3 getcpu,
 * 4 clock_getres.
 */

/* VDSO_FUNC name, slot: one exported function and its weak unprefixed alias. */
.macro VDSO_FUNC name, slot
	.globl __vdso_\name                     /* exported: glibc and Go look up the __vdso_ name */
	.type __vdso_\name, @function           /* STT_FUNC: Go skips symbols of any other type */
	.balign 16                              /* each entry on its own 16-byte boundary */
__vdso_\name:                               /* entry point */
	.cfi_startproc                          /* unwind info: CFA = rsp + 8, return address at CFA - 8 */
	push %rbp                               /* the caller's rbp */
	.cfi_def_cfa_offset 16                  /* CFA = rsp + 16 */
	.cfi_offset %rbp, -16                   /* rbp saved at CFA - 16 */
	mov %rsp, %rbp                          /* rbp = the frame, to come back to */
	.cfi_def_cfa_register %rbp              /* CFA = rbp + 16 from here */
	and $-16, %rsp                          /* the ABI's alignment for the call */
	call *(preld_vdso_slots + 8 * \slot)(%rip) /* the handler in this slot; result in rax */
	leave                                   /* rsp = rbp, rbp = the caller's */
	.cfi_def_cfa %rsp, 8                    /* CFA = rsp + 8 again */
	ret                                     /* to the caller, rax as the handler left it */
	.cfi_endproc                            /* end of unwind info */
	.size __vdso_\name, . - __vdso_\name    /* symbol size, as the kernel's vDSO has */
	.weak \name                             /* the kernel's vDSO also exports a weak unprefixed alias */
	.type \name, @function                  /* of type function too */
	.set \name, __vdso_\name                /* same address as the __vdso_ name */
.endm

	.text                                   /* everything below is code */
	VDSO_FUNC clock_gettime, 0              /* int clock_gettime(clockid_t, struct timespec *) */
	VDSO_FUNC gettimeofday, 1               /* int gettimeofday(struct timeval *, struct timezone *) */
	VDSO_FUNC time, 2                       /* time_t time(time_t *) */
	VDSO_FUNC getcpu, 3                     /* long getcpu(unsigned *, unsigned *, void *) */
	VDSO_FUNC clock_getres, 4               /* int clock_getres(clockid_t, struct timespec *) */

	.section .rodata.preld_vdso_slots, "a", @progbits /* read-only in the image: written once before mprotect */
	.balign 8                               /* each slot is one aligned 8-byte code address */
	.type preld_vdso_slots, @object         /* data, not code */
preld_vdso_slots:                           /* local symbol: not exported; build.rs reads its offset with nm */
	.quad 0, 0, 0, 0, 0                     /* five slots, filled by handler::vdso::install */
	.size preld_vdso_slots, . - preld_vdso_slots /* 40 bytes */

	.section .note.GNU-stack, "", @progbits /* no executable stack wanted */
