//! The one raw system call entry of preld.

/// A raw syscall result: a value, or `-errno` in `-4095..=-1`.
pub type Sysret = isize;

/// Issues system call `nr` with up to six arguments and returns the raw result.
///
/// Owns: rax, rdi, rsi, rdx, r10, r8, r9 (arguments), rcx and r11 (clobbered by
/// `syscall`); uses the caller's stack only to read the sixth argument. It is
/// a naked function in `preld_gate` so that the `syscall` instruction is
/// inside the range Syscall User Dispatch allows.
///
/// # Safety
/// The call is whatever `nr` means: the caller answers for its arguments
/// (pointers valid for what the kernel will read or write, memory that a
/// mapping change would remove not in use, and so on).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn syscall6(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> Sysret {
    core::arch::naked_asm!(
        "mov rax, rdi",        // syscall number
        "mov rdi, rsi",        // arg 0
        "mov rsi, rdx",        // arg 1
        "mov rdx, rcx",        // arg 2
        "mov r10, r8",         // arg 3: the kernel takes r10 where C passes rcx
        "mov r8, r9",          // arg 4
        "mov r9, [rsp + 8]",   // arg 5 was passed on the stack, above the return address
        "syscall",             // clobbers rcx (return rip) and r11 (rflags)
        "ret",
    )
}
