/* preld's vDSO, x86_64: the text of the small shared object that ld-preld
 * hands to programs as AT_SYSINFO_EHDR instead of the kernel's vDSO.
 *
 * Built by handler/build.rs (gcc -shared -nostdlib, linker script
 * linker-scripts/vdso.ld, which also gives every exported name the
 * version LINUX_2.6 and the image the soname linux-vdso.so.1); never
 * linked into Rust code.
 *
 * Each exported function is a single indirect jump through one 8-byte
 * slot of `preld_vdso_slots`, a table inside the image. The slots are zero
 * in the file; handler::vdso::install writes the handler addresses into them
 * before it makes the image read-only and executable. The jump is a tail
 * call: the handler gets the caller's arguments in the caller's registers
 * (rdi, rsi, rdx) and returns straight to the caller.
 *
 * Registers: none is read or written here, except rip by the jump (and the
 * memory read of the slot). No stack use, no relocation: the slot is
 * addressed rip-relative to a symbol local to this image.
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
	jmp *(preld_vdso_slots + 8 * \slot)(%rip) /* tail-jump to the handler in this slot; touches only rip */
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
