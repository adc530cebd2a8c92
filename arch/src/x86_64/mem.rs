//! memcpy, memmove, memset, memcmp, bcmp and strlen for ld-preld, which links
//! no libc. They are written with string instructions because a Rust loop
//! here could be compiled back into a call to the very function it defines.
//! Each owns rdi, rsi, rcx and rax (memmove, memset and memcmp r8 too,
//! memcmp and strlen rdx) and uses no stack.
//!
//! A macro, expanded in the loader binary only: as items of this library
//! they would replace libc's functions in every program that links it.

/// Defines the mem* functions in the invoking crate.
#[macro_export]
macro_rules! define_mem_functions {
    () => {
        /// C's memcpy: copies `n` bytes from `src` to `dst`, returns `dst`.
        ///
        /// # Safety
        /// `src` must be readable and `dst` writable for `n` bytes, and the
        /// two ranges must not overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov rax, rdi",   // return dst
                "mov rcx, rdx",   // count
                "cld",
                "rep movsb",
                "ret",
            )
        }

        /// C's memmove: copies `n` bytes from `src` to `dst` as if through a
        /// buffer (backwards when `dst` lies inside the source), returns `dst`.
        ///
        /// # Safety
        /// `src` must be readable and `dst` writable for `n` bytes; they may
        /// overlap.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov rax, rdi",   // return dst
                "mov rcx, rdx",
                "mov r8, rdi",
                "sub r8, rsi",    // dst - src, unsigned
                "cmp r8, rdx",
                "jb 2f",          // dst inside (src, src+n): copy backwards
                "cld",
                "rep movsb",
                "ret",
                "2:",
                "lea rsi, [rsi + rdx - 1]",
                "lea rdi, [rdi + rdx - 1]",
                "std",            // backwards...
                "rep movsb",
                "cld",            // ...and the ABI's direction flag again
                "ret",
            )
        }

        /// C's memset: sets `n` bytes at `dst` to the low byte of `c`,
        /// returns `dst`.
        ///
        /// # Safety
        /// `dst` must be writable for `n` bytes.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
            ::core::arch::naked_asm!(
                "mov r8, rdi",    // return dst
                "mov eax, esi",   // byte value
                "mov rcx, rdx",
                "cld",
                "rep stosb",
                "mov rax, r8",
                "ret",
            )
        }

        /// C's memcmp: compares `n` bytes as unsigned chars, returns a
        /// negative, zero or positive int as the first pair that differs
        /// does (0 if none does). Eight bytes at a time, then one by one:
        /// `repe cmpsb` is microcoded (some 20 cycles to start, then
        /// cycles per byte), and the handler compares path prefixes on
        /// every path call (a grant's vpath, the session's names). Owns
        /// r8 too.
        ///
        /// # Safety
        /// `a` and `b` must be readable for `n` bytes (it reads both only up
        /// to the eight bytes that hold the first difference, all within
        /// the `n`).
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!(
                "xor eax, eax",
                "cmp rdx, 8",
                "jb 3f",
                "1:",
                "mov rcx, [rdi]",
                "mov r8, [rsi]",
                "cmp rcx, r8",
                "jne 4f",
                "add rdi, 8",
                "add rsi, 8",
                "sub rdx, 8",
                "cmp rdx, 8",
                "jae 1b",
                "3:",             // fewer than 8 left
                "test rdx, rdx",
                "jz 9f",
                "5:",
                "movzx eax, byte ptr [rdi]",
                "movzx ecx, byte ptr [rsi]",
                "sub eax, ecx",   // a[i] - b[i]
                "jnz 9f",
                "inc rdi",
                "inc rsi",
                "dec rdx",
                "jnz 5b",
                "ret",
                "4:",             // these 8 differ: the first byte that does
                "bswap rcx",      // decides, the most significant once swapped
                "bswap r8",
                "cmp rcx, r8",
                "sbb eax, eax",   // -1 if a's is below, else 0...
                "or eax, 1",      // ...-1 or 1
                "9:",
                "ret",
            )
        }

        /// C's bcmp: 0 when the `n` bytes are equal (it is memcmp).
        ///
        /// # Safety
        /// As for memcmp: `a` and `b` readable for `n` bytes.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
            ::core::arch::naked_asm!("jmp {memcmp}", memcmp = sym memcmp)
        }

        /// C's strlen: the number of bytes before the first NUL at `s`.
        ///
        /// # Safety
        /// `s` must point at a NUL-terminated string, readable up to its NUL.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
            ::core::arch::naked_asm!(
                "mov rdx, rdi",   // start
                "xor eax, eax",   // looking for NUL
                "mov rcx, -1",
                "cld",
                "repne scasb",    // rdi ends one past the NUL
                "lea rax, [rdi - 1]",
                "sub rax, rdx",
                "ret",
            )
        }
    };
}
