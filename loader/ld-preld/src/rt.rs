//! What a Rust binary without std and libc must supply: `_start`, the mem*
//! functions, a panic handler, and the unwinding symbols that the
//! precompiled `core` refers to even with panic=abort. (The global
//! allocator is the handler's heap.)

use core::fmt::Write;

preld_arch::define_start!(crate::preld_main);
preld_arch::define_mem_functions!();

/// A fixed buffer implementing `fmt::Write`, for messages without allocating.
pub struct Buf<const N: usize> {
    pub bytes: [u8; N],
    pub len: usize,
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Buf { bytes: [0; N], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
    pub fn push_bytes(&mut self, b: &[u8]) {
        let n = b.len().min(N - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }
}

impl<const N: usize> Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push_bytes(s.as_bytes());
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut b = Buf::<512>::new();
    let _ = write!(b, "ld-preld: internal error: {}\n", info.message());
    let _ = crate::sys::write(2, b.as_bytes());
    crate::sys::exit_group(127)
}

#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    crate::sys::exit_group(127)
}
