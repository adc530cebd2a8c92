//! The SIGSYS handler every trapped call enters (sud.rs installs it).

use preld_arch::{TrapSite, Ucontext};

use crate::abi::{AUDIT_ARCH_X86_64, SYS_USER_DISPATCH};
use crate::{attach, clone, dispatch, signals, thread};

/// The fast path's handler gate (arch `fast_gate_handler`), called on the
/// preld stack (a signal that comes meanwhile is put off): `regs` holds the call's number
/// and its six arguments. Returns the call's result, or
/// `HANDLER_GATE_SLOW` having done nothing (the trap path serves it).
#[unsafe(no_mangle)]
extern "C" fn preld_gate_serve(regs: *mut usize) -> isize {
    // SAFETY: the gate passes 7 words of its own frame, live during this
    // call.
    let r = unsafe { core::slice::from_raw_parts(regs, 7) };
    // SAFETY: as in preld_sigsys: the thread was set up by preld (only a
    // rewritten site, in a thread that traps, reaches the gate), and this
    // is the only preld code running on it (a signal is put off by code
    // that touches only `ArchThread.deferred`).
    let t = unsafe { thread::current() };
    let args = [r[1], r[2], r[3], r[4], r[5], r[6]];
    match dispatch::gate_serve(t, r[0], args) {
        Some(v) => {
            crate::fast::count_handler_gate_call();
            v
        }
        None => preld_arch::fast::HANDLER_GATE_SLOW,
    }
}

/// The SIGSYS handler, called by `sigsys_entry` on the preld stack with
/// every signal blocked.
#[unsafe(no_mangle)]
extern "C" fn preld_sigsys(_sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void) {
    // SAFETY: the kernel's SA_SIGINFO arguments, used during this call only.
    let mut uc = unsafe { Ucontext::from_ptr(uc) };
    // SAFETY: siginfo's si_code is the third int.
    let code = unsafe { *(info as *const i32).add(2) };
    // SAFETY: a thread that traps was set up by preld (a new one arms the
    // trap only after setting gs), and this handler is the only preld code
    // running on it (signals blocked, no nesting). Not so for a SIGSYS
    // sent by kill/tgkill (or an application seccomp filter's trap of
    // clone_gate's own calls) to a clone child in clone_gate's first
    // instructions, before arch_prctl(ARCH_SET_GS): gs is still its
    // parent's, so this would run on the parent's preld stack and block.
    // SIGSYS stays unblocked there because the parent's second trap needs
    // it; the window is a few instructions long, and left open.
    let t = unsafe { thread::current() };
    if code != SYS_USER_DISPATCH {
        // SAFETY: the kernel's siginfo of this SIGSYS.
        if attach::request(t, unsafe { attach::siginfo(info) }) {
            return;
        }
        // SAFETY: this thread's interrupted context.
        if let Some(rip) = unsafe { preld_arch::fast::abort_path_copy(uc.rip(), uc.rsp()) } {
            uc.set_rip(rip);
        }
        signals::foreign_sigsys(t, info, &mut uc);
        return;
    }
    // SAFETY: the kernel's siginfo of a Syscall User Dispatch SIGSYS:
    // _sigsys's si_arch, the u32 at byte 28.
    let arch = unsafe { *(info as *const u32).add(7) };
    if arch != AUDIT_ARCH_X86_64 {
        // `int $0x80` (the i386 table): never the x86_64 call of the same
        // number (i386 execve is x86_64 munmap; session-15b adversary).
        // Made as it came, from preld's text: the kernel's i386 call, as
        // natively; in a session the seccomp filter answers ENOSYS.
        let [b, c, d, si, di, bp] = uc.i386_args();
        // SAFETY: the application's own call, made as it asked it, with
        // its own arguments: what it would have done natively.
        let r = unsafe { preld_arch::int80(uc.rax(), b, c, d, si, di, bp) };
        uc.set_rax(r as usize);
        return;
    }
    match uc.site() {
        TrapSite::App => dispatch::dispatch(t, &mut uc),
        TrapSite::TailPost => dispatch::tail_post(t, &mut uc),
        TrapSite::ClonePost => clone::parent_post(t, &mut uc),
    }
}
