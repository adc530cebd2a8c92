//! The signal dispositions preld's caller gave it, recorded before Rust's
//! runtime changes them (it ignores SIGPIPE before main), so that the
//! program preld starts gets them as it would natively: an ignored signal
//! stays ignored across exec (nohup, `trap '' PIPE`, a parent that ignores
//! SIGCHLD), a default one is the default.

use std::sync::atomic::{AtomicBool, Ordering};

/// SIGPIPE and SIGCHLD ignored when preld started.
static PIPE_IGNORED: AtomicBool = AtomicBool::new(false);
static CHLD_IGNORED: AtomicBool = AtomicBool::new(false);

/// Runs before main (an ELF constructor), so before the runtime's own
/// set-up: the dispositions preld's caller gave.
extern "C" fn record() {
    for (sig, ignored) in [(libc::SIGPIPE, &PIPE_IGNORED), (libc::SIGCHLD, &CHLD_IGNORED)] {
        // SAFETY: reads the signal's disposition into a zeroed sigaction.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0 {
                ignored.store(old.sa_sigaction == libc::SIG_IGN, Ordering::Relaxed);
            }
        }
    }
}

#[used]
#[link_section = ".init_array"]
static RECORD: extern "C" fn() = record;

/// Whether `sig` (SIGPIPE or SIGCHLD) was ignored when preld started.
pub fn ignored_at_start(sig: libc::c_int) -> bool {
    match sig {
        libc::SIGPIPE => PIPE_IGNORED.load(Ordering::Relaxed),
        libc::SIGCHLD => CHLD_IGNORED.load(Ordering::Relaxed),
        _ => false,
    }
}

/// SIGCHLD ignored by preld's caller (a parent that does not wait for its
/// children, Python's `signal(SIGCHLD, SIG_IGN)`) is inherited across exec:
/// every child of preld's would be reaped by the kernel and no wait of
/// preld's would find it (`preld pola` and `preld trace` failed with "No
/// child processes"). preld takes the default; the program gets it back
/// (`for_the_program`).
pub fn reset_sigchld() {
    if ignored_at_start(libc::SIGCHLD) {
        // SAFETY: sets SIGCHLD's disposition to the default.
        unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    }
}

/// In the child about to exec the program (or ld-preld): SIGPIPE and
/// SIGCHLD as preld's caller left them. Only async-signal-safe calls.
pub fn for_the_program() {
    for sig in [libc::SIGPIPE, libc::SIGCHLD] {
        let d = if ignored_at_start(sig) { libc::SIG_IGN } else { libc::SIG_DFL };
        // SAFETY: sets a disposition (async-signal-safe).
        unsafe { libc::signal(sig, d) };
    }
}
