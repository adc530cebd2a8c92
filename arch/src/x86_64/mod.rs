//! x86_64: the System V ABI and the Linux syscall convention.
//!
//! Every `syscall` instruction preld executes lies in the section
//! `preld_gate`, which the linker script gathers into one range: the
//! only range that Syscall User Dispatch will let through untrapped.

mod enter;
pub mod fast;
mod mem;
mod start;
mod syscall;
mod trap;

pub use enter::enter_program;
pub use syscall::{int80, is_restartable_call, syscall6, syscall6_restartable, Sysret};
pub use trap::{
    after_tail_call, clone_gate, gate_range, handler_frame_context, handler_frame_entry, ignore_signal, set_thread_block, signal_entry, sigreturn_gate, sigsys_entry, stack_fault, tail_gate, tail_gate_post, thread_block,
    ArchThread, Deferral, TailState, TrapSite, Ucontext, RED_ZONE, TAIL_SLOT_LEN,
};

/// Size of a page; x86_64 Linux has no other base page size.
pub const PAGE_SIZE: usize = 4096;

/// The lowest address that is not user space (47-bit virtual addresses).
pub const USER_ADDRESS_END: u64 = 0x7fff_ffff_f000;

/// ELF `e_machine` of this architecture.
pub const ELF_MACHINE: u16 = 62; // EM_X86_64
