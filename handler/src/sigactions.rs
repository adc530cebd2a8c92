//! The application's signal actions as preld keeps them: the kernel holds
//! others (SIGSYS stays preld's, and handlers are installed as preld's
//! `signal_entry`). A table lives in the process (shared handlers) or in a
//! thread block (a vfork child's own), so it is defined below `thread`.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::abi::SIG_IGN;

/// The real action that makes a signal preld's `signal_entry` where the
/// application's own is SIG_DFL (or SIG_IGN): every signal blocked while
/// preld looks, on the sigaltstack (a stack overflow's SIGSEGV still gets
/// there), preld's restorer. A trace's fatal signals have it
/// (`signals::show_fatal_signals`), and SIGSEGV and SIGBUS while the fast
/// path stores a jump (`fast::faults_caught`).
pub fn entry_action() -> crate::sys::KernelSigaction {
    use crate::abi::{SA_ONSTACK, SA_RESTORER, SA_SIGINFO};
    crate::sys::KernelSigaction {
        handler: preld_arch::signal_entry as *const () as usize,
        flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
        restorer: preld_arch::sigreturn_gate as *const () as usize,
        mask: !0,
    }
}

/// The signal actions as the application set them. The kernel holds
/// others: SIGSYS stays preld's, and a handler is installed as
/// `signal_entry` so that preld sees the signal before the application's
/// handler runs (for SIGSYS in its sa_mask, SA_RESETHAND, the trace). One
/// table per set of shared signal handlers: the process's, or a vfork
/// child's own (it shares memory, not handlers).
pub struct Actions {
    lock: AtomicBool,
    /// Signals whose entry is set (others: ask the kernel).
    known: UnsafeCell<u64>,
    acts: UnsafeCell<[AppAction; 64]>,
}

// SAFETY: `known` and `acts` are only touched with `lock` held.
unsafe impl Sync for Actions {}

/// `struct sigaction` as the application gave it to the kernel.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
#[repr(C)]
pub struct AppAction {
    pub handler: usize,
    pub flags: usize,
    pub restorer: usize,
    pub mask: u64,
}

impl Actions {
    pub const fn new() -> Actions {
        Actions { lock: AtomicBool::new(false), known: UnsafeCell::new(0), acts: UnsafeCell::new([AppAction::ZERO; 64]) }
    }

    /// Runs `f` on the table with its lock held. Callers run with every
    /// signal blocked, so one thread never waits for itself.
    pub fn with<R>(&self, f: impl FnOnce(&mut u64, &mut [AppAction; 64]) -> R) -> R {
        let _g = self.hold();
        // SAFETY: the lock is held, so these are the only references.
        unsafe { f(&mut *self.known.get(), &mut *self.acts.get()) }
    }

    /// Holds the lock until the guard is dropped (across a fork too, so that
    /// the child's copy is consistent and unlocked).
    pub fn hold(&self) -> impl Drop + '_ {
        while self.lock.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        struct Guard<'a>(&'a AtomicBool);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        Guard(&self.lock)
    }

    /// A copy for a child that gets its own handlers (CLONE_VM without
    /// CLONE_SIGHAND), or a cleared one (CLONE_CLEAR_SIGHAND).
    pub fn copy_into(&self, dst: &Actions, clear: bool) {
        let (known, acts) = self.with(|k, a| (*k, *a));
        dst.with(|k, a| {
            *k = known;
            *a = acts;
            if clear {
                // Handlers go back to SIG_DFL; ignored signals stay ignored.
                for (i, act) in a.iter_mut().enumerate() {
                    if *k & (1 << i) != 0 && act.handler > SIG_IGN {
                        *act = AppAction::ZERO;
                    }
                }
            }
        });
    }
}

impl AppAction {
    pub const ZERO: AppAction = AppAction { handler: 0, flags: 0, restorer: 0, mask: 0 };
}
