//! The raw system call entries of preld: `syscall6`, and `syscall6_restartable` for the handler gate's application opens that may wait.

/// A raw syscall result: a value, or `-errno` in `-4095..=-1`.
pub type Sysret = isize;

/// The C call's number and six arguments (rdi, rsi, rdx, rcx, r8, r9, then
/// the stack) moved where the kernel takes them (rax, rdi, rsi, rdx, r10,
/// r8, r9): the kernel takes r10 where C passes rcx, and the sixth
/// argument is on the stack above the return address.
macro_rules! args_to_kernel {
    () => {
        "mov rax, rdi\nmov rdi, rsi\nmov rsi, rdx\nmov rdx, rcx\nmov r10, r8\nmov r8, r9\nmov r9, [rsp + 8]"
    };
}

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
    core::arch::naked_asm!(args_to_kernel!(), "syscall", "ret")
}

/// Issues `int $0x80`, a call of the i386 table, `nr` with up to six
/// arguments (ebx, ecx, edx, esi, edi, ebp), for a program that made one
/// (Syscall User Dispatch hands those over too): the kernel's i386 call,
/// as natively, never the x86_64 call of the same number.
///
/// Owns: rax, rbx, rcx, rdx, rsi, rdi, rbp (rbx and rbp saved on the
/// caller's stack and restored), r10 (scratch), r8-r11 (the kernel clears
/// them); reads the sixth argument from the caller's stack.
///
/// # Safety
/// As `syscall6`: the call is whatever `nr` means in the i386 table.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn int80(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> Sysret {
    core::arch::naked_asm!(
        "push rbx",
        "push rbp",
        "mov rax, rdi",
        "mov rbx, rsi",
        "mov rsi, r8",
        "mov rdi, r9",
        "mov r10, rcx",
        "mov rcx, rdx",
        "mov rdx, r10",
        // The sixth: above the return address and the two saved registers.
        "mov rbp, [rsp + 24]",
        "int 0x80",
        "pop rbp",
        "pop rbx",
        "ret"
    )
}

/// As `syscall6`, for a call the handler gate makes for the application
/// that may block (an open that may wait for a FIFO's other end): a signal
/// that comes during it, and that the kernel would restart it for (or that
/// comes before it is made), makes it return -EINTR instead
/// (`is_restartable_call`, trap.rs `defer_signal`), so that the gate gives
/// the call back to the trap path, which makes it again as the
/// application's own after the signal's handler has run.
///
/// # Safety
/// As `syscall6`.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn syscall6_restartable(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> Sysret {
    core::arch::naked_asm!(
        args_to_kernel!(),
        ".globl preld_restartable_syscall",
        "preld_restartable_syscall:",
        "syscall",
        "ret",
    )
}

unsafe extern "C" {
    /// The `syscall` instruction of `syscall6_restartable`.
    static preld_restartable_syscall: u8;
}

/// Whether `rip`, where a signal interrupted the thread, is the `syscall`
/// of `syscall6_restartable`: the call is being restarted, or was not made.
pub fn is_restartable_call(rip: usize) -> bool {
    rip == &raw const preld_restartable_syscall as usize
}
