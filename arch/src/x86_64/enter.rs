//! Hand-over to a loaded program with the initial-process register state.

/// Copies the prepared initial stack `image[..len]` so that it ends at
/// `stack_end`, points rsp at its first word (argc), clears every general
/// register and jumps to `entry`.
///
/// Owns: all general registers. Stack: switches to the new initial stack; the
/// caller's frames below `stack_end` are dead from the first store on, so the
/// copy runs on registers only. The word written below the new rsp by the
/// final `push`/`ret` lies outside the program's initial stack.
///
/// rdx is zero at entry: a static program registers it with atexit(3) as
/// ld.so's finalizer; ld.so itself ignores it.
///
/// # Safety
/// `image` must hold `len` readable bytes outside `[stack_end - len,
/// stack_end)`, `len` must be a multiple of 16, `stack_end` 16-aligned and in
/// the current stack mapping with room for `len + 8` bytes below it, and
/// `entry` the entry point of a program mapped for that stack image.
#[unsafe(naked)]
pub unsafe extern "C" fn enter_program(
    entry: usize,
    image: *const u8,
    len: usize,
    stack_end: usize,
) -> ! {
    core::arch::naked_asm!(
        "mov r8, rdi",         // r8 = entry
        "mov rdi, rcx",
        "sub rdi, rdx",        // rdi = destination = stack_end - len
        "mov rsp, rdi",        // rsp = new initial stack (argc); nothing below is live
        "mov rcx, rdx",        // count; rsi = image already
        "cld",
        "rep movsb",           // copy the image onto the stack
        "push r8",             // entry address, consumed by `ret`
        "xor eax, eax",        // the program sees nothing of the loader
        "xor ebx, ebx",
        "xor ecx, ecx",
        "xor edx, edx",        // rdx = 0: no finalizer for atexit
        "xor esi, esi",
        "xor edi, edi",
        "xor ebp, ebp",        // outermost frame
        "xor r8d, r8d",
        "xor r9d, r9d",
        "xor r10d, r10d",
        "xor r11d, r11d",
        "xor r12d, r12d",
        "xor r13d, r13d",
        "xor r14d, r14d",
        "xor r15d, r15d",
        "ret",                 // pops entry; rsp is back at argc
    )
}
