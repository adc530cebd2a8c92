//! x86_64: the System V ABI and the Linux syscall convention.
//!
//! Every `syscall` instruction preld executes lies in the section
//! `.text.preld_gate`, which the linker script gathers into one range: the
//! only range that Syscall User Dispatch will let through untrapped.

mod enter;
#[cfg(feature = "mem")]
mod mem;
#[cfg(feature = "start")]
mod start;
mod syscall;

pub use enter::enter_program;
#[cfg(feature = "start")]
pub use start::_start;
pub use syscall::{syscall6, Sysret};

/// Size of a page; x86_64 Linux has no other base page size.
pub const PAGE_SIZE: usize = 4096;

/// The lowest address that is not user space (47-bit virtual addresses).
pub const USER_ADDRESS_END: u64 = 0x7fff_ffff_f000;

/// ELF `e_machine` of this architecture.
pub const ELF_MACHINE: u16 = 62; // EM_X86_64
