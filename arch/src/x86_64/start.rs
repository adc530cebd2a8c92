//! `_start` of ld-preld: self-relocation, then the loader's Rust entry.
//!
//! A macro, expanded in the loader binary only: as a plain item of this
//! library, `_start` would be linked into every test binary that uses it.

/// Defines `_start` in the invoking crate; `$main` is its Rust entry,
/// `extern "C" fn(sp: *mut usize, relro: Sysret) -> !`, called with sp
/// pointing at argc and `relro` the result of the mprotect that made the
/// image's RELRO range read-only (0, or `-errno`: the entry reports it).
#[macro_export]
macro_rules! define_start {
    ($main:path) => {
        /// The first instruction of ld-preld, whether the kernel started it as a
        /// program or as some program's PT_INTERP.
        ///
        /// Assumes: rsp points at argc on the kernel's initial stack; nothing is
        /// relocated. Does: applies the image's own `R_X86_64_RELATIVE` relocations
        /// (the only kind a static-pie of ours has; any other kind traps with `ud2`)
        /// before any Rust code runs, because Rust code may load pointers from the GOT;
        /// then makes the RELRO range (.data.rel.ro, .dynamic, .got, which nothing
        /// writes after relocation) read-only, as ld.so does for the objects it loads.
        /// The load base is the runtime address of `__ehdr_start`, linked at 0; the
        /// relocation table and the RELRO range are delimited by symbols of
        /// linker-scripts/ld-preld.ld. Owns: rax, rcx, rdx, rsi, rdi, r8, r9, r10,
        /// r11, r12; stack: the kernel's initial stack.
        ///
        /// # Safety
        /// Only the kernel may enter it, as a program's or an interpreter's entry
        /// point, with the image as the linker script lays it out: it writes the
        /// image's relocated words and changes the protection of its pages.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn _start() -> ! {
            ::core::arch::naked_asm!(
                "xor ebp, ebp",                          // outermost frame for debuggers
                "mov r12, rsp",                          // r12 = &argc (callee-saved across the loop)
                "lea rsi, [rip + __ehdr_start]",         // rsi = load base
                "lea rcx, [rip + __rela_dyn_start]",     // rcx = first Elf64_Rela
                "lea rdx, [rip + __rela_dyn_end]",       // rdx = end of table
                "2:",
                "cmp rcx, rdx",
                "jae 4f",
                "mov eax, dword ptr [rcx + 8]",          // ELF64_R_TYPE(r_info)
                "test eax, eax",
                "jz 3f",                                 // R_X86_64_NONE: nothing to do
                "cmp eax, {relative}",
                "jne 5f",
                "mov rax, [rcx + 16]",                   // r_addend
                "add rax, rsi",                          // + base
                "mov r8, [rcx]",                         // r_offset
                "mov [rsi + r8], rax",                   // *(base + r_offset) = base + r_addend
                "3:",
                "add rcx, 24",                           // sizeof(Elf64_Rela)
                "jmp 2b",
                "5:",
                "ud2",                                   // a relocation we cannot apply
                "4:",
                "and rsp, -16",                          // ABI alignment before the calls
                "mov edi, {mprotect}",                   // mprotect(start, len, PROT_READ)
                "lea rsi, [rip + __preld_relro_start]",  // page-aligned by the script
                "lea rdx, [rip + __preld_relro_end]",
                "sub rdx, rsi",
                "mov ecx, {prot_read}",
                "call {syscall6}",                       // the `syscall` of preld_gate
                "mov rsi, rax",                          // preld_main(sp, mprotect's result)
                "mov rdi, r12",
                "call {main}",
                "ud2",
                relative = const $crate::abi::R_RELATIVE,
                mprotect = const $crate::abi::SYS_MPROTECT,
                prot_read = const $crate::abi::PROT_READ,
                syscall6 = sym $crate::syscall6,
                main = sym $main,
            )
        }
    };
}
