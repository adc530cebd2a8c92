//! Syscall User Dispatch: preld's SIGSYS action, and the switch that makes
//! every call outside the gate trap. The kernel interface, with nothing of
//! the handler above it (trap.rs is the entry that serves the traps).

use core::sync::atomic::{AtomicBool, Ordering};

use crate::abi::{SA_ONSTACK, SA_RESTORER, SA_SIGINFO, SIGSYS};
use crate::sys::{self, KernelSigaction};

/// Whether a seccomp filter of the application may apply to the calls
/// preld makes. A filter returning SECCOMP_RET_TRAP raises a SIGSYS that
/// the kernel forces even when blocked: a call made inside the handler
/// (every signal blocked) would die of it, so such a process makes every
/// application call from the tail gate, where that SIGSYS reaches its
/// handler (signals.rs sets it).
static SECCOMP_FILTERED: AtomicBool = AtomicBool::new(false);

pub fn seccomp_filtered() -> bool {
    SECCOMP_FILTERED.load(Ordering::Relaxed)
}

pub fn set_seccomp_filtered() {
    SECCOMP_FILTERED.store(true, Ordering::Relaxed);
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
    // SAFETY: preld's SIGSYS entry and its restorer in the gate, for SIGSYS;
    // the old action is not read.
    unsafe { sys::rt_sigaction(SIGSYS, Some(&act), None) }
}

/// Turns Syscall User Dispatch on for the calling thread: from now on, every
/// system call outside the gate traps.
pub fn arm() -> sys::Result<()> {
    sys::set_syscall_user_dispatch(Some(preld_arch::gate_range()))
}

/// Turns Syscall User Dispatch off for the calling thread: its calls go
/// straight to the kernel from now on.
pub fn disarm() -> sys::Result<()> {
    sys::set_syscall_user_dispatch(None)
}
