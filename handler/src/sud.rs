//! Syscall User Dispatch: preld's SIGSYS action, and the switch that makes
//! every call outside the gate trap. The kernel interface, with nothing of
//! the handler above it (trap.rs is the entry that serves the traps).

use crate::sys;

pub const SIGSYS: usize = 31;
const SA_SIGINFO: usize = 0x4;
const SA_ONSTACK: usize = 0x0800_0000;
const SA_RESTORER: usize = 0x0400_0000;
const PR_SET_SYSCALL_USER_DISPATCH: usize = 59;
const PR_SYS_DISPATCH_ON: usize = 1;

/// `struct sigaction` as the kernel takes it.
#[repr(C)]
pub struct KernelSigaction {
    pub handler: usize,
    pub flags: usize,
    pub restorer: usize,
    pub mask: u64,
}

/// Installs preld's SIGSYS action: on the sigaltstack, every signal blocked
/// while it runs, and a restorer inside the gate (rt_sigreturn made from
/// anywhere else would itself trap).
pub fn install_action() -> sys::Result<()> {
    let act = KernelSigaction {
        handler: preld_arch::sigsys_entry as *const () as usize,
        flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
        restorer: preld_arch::sigreturn_gate as *const () as usize,
        mask: !0,
    };
    // SAFETY: a valid sigaction for SIGSYS; the old one is not read.
    unsafe { sys::raw(syscalls::Sysno::rt_sigaction as usize, [SIGSYS, &act as *const _ as usize, 0, 8, 0, 0]) }
        .map(|_| ())
}

/// Turns Syscall User Dispatch on for the calling thread: from now on, every
/// system call outside the gate traps.
pub fn arm() -> sys::Result<()> {
    let (start, end) = preld_arch::gate_range();
    // SAFETY: prctl with plain integers; no selector byte, so nothing in
    // memory can switch the trap off.
    unsafe {
        sys::raw(syscalls::Sysno::prctl as usize, [PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, start, end - start, 0, 0])
    }
    .map(|_| ())
}

/// Turns Syscall User Dispatch off for the calling thread: its calls go
/// straight to the kernel from now on.
pub fn disarm() -> sys::Result<()> {
    const PR_SYS_DISPATCH_OFF: usize = 0;
    // SAFETY: prctl with plain integers.
    unsafe { sys::raw(syscalls::Sysno::prctl as usize, [PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0, 0]) }
        .map(|_| ())
}

