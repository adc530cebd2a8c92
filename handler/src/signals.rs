//! Signals: SIGSYS belongs to preld, so the application's view of it is
//! virtual; masks and the sigaltstack are changed in the SIGSYS frame
//! (rt_sigreturn would otherwise put the old ones back).

use preld_arch::abi::SIGINFO_SIZE;
use preld_arch::{Deferral, Ucontext};
use syscalls::Sysno;

use crate::abi::{ARCH_GET_GS, ARCH_SET_GS, MINSIGSTKSZ, PR_SET_SECCOMP, PR_SET_SYSCALL_USER_DISPATCH, SIGKILL, SIGSEGV, SIGSTOP, SIGSYS, SIG_DFL, SIG_IGN, SYS_SECCOMP};
use crate::abi::{SA_EXPOSE_TAGBITS, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_RESTORER, SA_SIGINFO};
use crate::abi::{SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
use crate::call::{Call, Outcome};
use crate::errno::{EFAULT, EINVAL, ENOMEM, EPERM};
use crate::sigactions::AppAction;
use crate::sys::{KernelSigaction, StackT};
use crate::thread::{self, ThreadBlock};
use crate::{sys, trace, tracer, usermem};

const SIGSYS_BIT: u64 = 1 << (SIGSYS - 1);
/// SIGKILL and SIGSTOP cannot be blocked.
const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));


/// (In thread.rs: the fast path, below this module, holds the table too.)
use crate::thread::actions;

/// The flags the kernel keeps (UAPI_SA_FLAGS on x86_64); it clears others.
const SA_KNOWN: usize =
    SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | SA_EXPOSE_TAGBITS | SA_RESTORER;

/// The application's trapped rt_sigreturn: made from the gate with its own
/// frame. The frame's mask carries SIGSYS when the application had it
/// blocked (`enter_handler` puts it there); it is taken out of the real one.
pub fn rt_sigreturn(c: &mut Call<'_>) -> Outcome {
    let mask = c.uc.app_frame_sigmask();
    let mut m = [0usize; 1];
    if usermem::read_words(mask as usize, &mut m) {
        c.t.sigsys_blocked = m[0] as u64 & SIGSYS_BIT != 0;
        if c.t.sigsys_blocked {
            let _ = usermem::write_words(mask as usize, &[m[0] & !(SIGSYS_BIT as usize)]);
        } else {
            requeue_pending_sigsys(c.t);
        }
    }
    c.uc.divert_to_sigreturn();
    Outcome::Diverted
}

/// sigaction: answered from the application's table. Handlers are
/// installed as `signal_entry`, every other action with SIGSYS out of its
/// mask; SIGSYS itself is never installed.
pub fn rt_sigaction(c: &mut Call<'_>) -> Outcome {
    let [sig, act, old, size, ..] = c.args;
    if size != 8 || sig == 0 || sig > 64 {
        return Outcome::err(EINVAL);
    }
    let mut w = [0usize; 4];
    if act != 0 && !usermem::read_words(act, &mut w) {
        return Outcome::err(EFAULT);
    }
    let new = AppAction { handler: w[0], flags: w[1] & SA_KNOWN, restorer: w[2], mask: w[3] as u64 & !UNBLOCKABLE };
    let bit = 1u64 << (sig - 1);
    let r: sys::Result<AppAction> = actions(c.t).with(|known, acts| {
        let prev = if *known & bit != 0 || sig == SIGSYS {
            acts[sig - 1]
        } else {
            let k = sys::get_sigaction(sig)?;
            AppAction { handler: k.handler, flags: k.flags, restorer: k.restorer, mask: k.mask }
        };
        if act != 0 {
            if sig != SIGSYS {
                let real = if new.handler > SIG_IGN {
                    KernelSigaction {
                        handler: preld_arch::signal_entry as *const () as usize,
                        flags: new.flags | SA_SIGINFO,
                        restorer: new.restorer,
                        mask: !0,
                    }
                } else if new.handler == SIG_DFL && shows_fatal(sig) {
                    crate::sigactions::entry_action()
                } else {
                    KernelSigaction { handler: new.handler, flags: new.flags, restorer: new.restorer, mask: new.mask & !SIGSYS_BIT }
                };
                // SAFETY: the application's own action for its own signal,
                // or preld's signal_entry standing for it.
                unsafe { sys::rt_sigaction(sig, Some(&real), None) }?;
            }
            acts[sig - 1] = new;
            *known |= bit;
        }
        Ok(prev)
    });
    let prev = match r {
        Ok(p) => p,
        Err(e) => return Outcome::Return(-(e as isize)),
    };
    if old != 0 && !usermem::write_words(old, &[prev.handler, prev.flags, prev.restorer, prev.mask as usize]) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(0)
}

/// rt_sigpending: SIGSYS held back while the application blocks it counts.
pub fn rt_sigpending(c: &mut Call<'_>) -> Outcome {
    let [set, size, ..] = c.args;
    if size != 8 {
        return Outcome::err(EINVAL);
    }
    let mut m = match sys::rt_sigpending() {
        Ok(m) => m,
        Err(e) => return Outcome::err(e),
    };
    if c.t.pending_sigsys {
        m |= SIGSYS_BIT;
    }
    if !usermem::write_words(set, &[m as usize]) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(0)
}

/// A SIGSYS held back while the application blocked it: sent again now
/// that it does not, so that it arrives once this trap returns.
fn requeue_pending_sigsys(t: &mut ThreadBlock) {
    if !t.pending_sigsys {
        return;
    }
    t.pending_sigsys = false;
    let info = t.pending_sigsys_info;
    // SAFETY: a siginfo for ourselves (the kernel allows any si_code then),
    // the 128 bytes of the thread block's copy.
    let _ = unsafe { sys::rt_tgsigqueueinfo(sys::getpid(), t.tid(), SIGSYS, info.as_ptr()) };
}

/// rt_sigprocmask acts on the mask saved in the SIGSYS frame, which
/// rt_sigreturn installs; SIGSYS itself is blocked only in the application's
/// view.
pub fn rt_sigprocmask(c: &mut Call<'_>) -> Outcome {
    let [how, set, old, size, ..] = c.args;
    if size != 8 {
        return Outcome::err(EINVAL);
    }
    let t = &mut *c.t;
    let cur = *c.uc.sigmask() | if t.sigsys_blocked { SIGSYS_BIT } else { 0 };
    let mut new = cur;
    if set != 0 {
        let mut s = [0usize; 1];
        if !usermem::read_words(set, &mut s) {
            return Outcome::err(EFAULT);
        }
        let s = s[0] as u64;
        new = match how {
            SIG_BLOCK => cur | s,
            SIG_UNBLOCK => cur & !s,
            SIG_SETMASK => s,
            _ => return Outcome::err(EINVAL),
        };
    }
    if old != 0 && !usermem::write_words(old, &[cur as usize]) {
        return Outcome::err(EFAULT);
    }
    new &= !UNBLOCKABLE;
    t.sigsys_blocked = new & SIGSYS_BIT != 0;
    *c.uc.sigmask() = new & !SIGSYS_BIT;
    if !t.sigsys_blocked {
        requeue_pending_sigsys(t);
    }
    Outcome::Return(0)
}

/// Calls that install a mask for their duration: SIGSYS is taken out of it.
pub fn mask_arg(c: &mut Call<'_>) -> Outcome {
    let nr = Sysno::from(c.nr as u32);
    if matches!(nr, Sysno::epoll_pwait | Sysno::epoll_pwait2) && crate::ownfd::is_own(c.args[0]) {
        return Outcome::err(crate::errno::EBADF); // (preld's fd: none of the program's)
    }
    // preld's fds polled or selected: POLLNVAL, EBADF (fds.rs).
    if nr == Sysno::ppoll {
        if let Some(r) = crate::fds::own_in_poll(c.args[0], c.args[1]) {
            return Outcome::Return(r);
        }
    }
    if nr == Sysno::pselect6 && crate::fds::own_in_select(c.args[0], [c.args[1], c.args[2], c.args[3]]) {
        return Outcome::err(crate::errno::EBADF);
    }
    let idx = match nr {
        Sysno::rt_sigsuspend => 0,
        Sysno::ppoll => 3,
        Sysno::epoll_pwait | Sysno::epoll_pwait2 => 4,
        Sysno::pselect6 => {
            // The sixth argument points at { const sigset_t *ss; size_t len; }.
            return pselect_mask(c);
        }
        _ => return Outcome::Real,
    };
    let p = c.args[idx];
    if p == 0 {
        return Outcome::Real;
    }
    let mut m = [0usize; 1];
    if !usermem::read_words(p, &mut m) || m[0] as u64 & SIGSYS_BIT == 0 {
        return Outcome::Real; // the kernel reports the fault, or nothing to strip
    }
    c.t.scratch_mask = m[0] & !(SIGSYS_BIT as usize);
    c.args[idx] = &c.t.scratch_mask as *const usize as usize;
    Outcome::Real
}

fn pselect_mask(c: &mut Call<'_>) -> Outcome {
    let p = c.args[5];
    let mut pair = [0usize; 2];
    if p == 0 || !usermem::read_words(p, &mut pair) || pair[0] == 0 {
        return Outcome::Real;
    }
    let mut m = [0usize; 1];
    if !usermem::read_words(pair[0], &mut m) || m[0] as u64 & SIGSYS_BIT == 0 {
        return Outcome::Real;
    }
    c.t.scratch_mask = m[0] & !(SIGSYS_BIT as usize);
    c.t.scratch_pair = [&c.t.scratch_mask as *const usize as usize, pair[1]];
    c.args[5] = c.t.scratch_pair.as_ptr() as usize;
    Outcome::Real
}

/// sigaltstack: the application sees the one it set; SIGSYS frames go on
/// it, or on preld's when the application has none.
pub fn sigaltstack(c: &mut Call<'_>) -> Outcome {
    let [ss, old, ..] = c.args;
    let t = &mut *c.t;
    let app = t.app_altstack;
    let rsp = c.uc.rsp();
    let on = app.flags & SS_DISABLE == 0 && rsp.wrapping_sub(app.sp) < app.size;
    if ss != 0 {
        let mut w = [0usize; 3];
        if !usermem::read_words(ss, &mut w) {
            return Outcome::err(EFAULT);
        }
        if on {
            return Outcome::err(EPERM);
        }
        let flags = w[1] as i32;
        // SS_AUTODISARM is accepted with the mode bits.
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Outcome::err(EINVAL);
        }
        let new = if mode == SS_DISABLE {
            StackT { sp: 0, flags: SS_DISABLE, size: 0 }
        } else {
            if w[2] < MINSIGSTKSZ {
                return Outcome::err(ENOMEM);
            }
            StackT { sp: w[0], flags: flags & !SS_ONSTACK, size: w[2] }
        };
        // Set it for real from the preld stack (the kernel refuses while
        // running on the current sigaltstack, where this SIGSYS frame may
        // be), and in the frame too: rt_sigreturn reinstalls what it holds.
        let real = if new.flags & SS_DISABLE != 0 { t.preld_altstack() } else { new };
        // SAFETY: either preld's own stack of this thread, or the stack the
        // application asks for, where natively too the kernel would write
        // its signal frames.
        if let Err(e) = unsafe { sys::sigaltstack(&real) } {
            return Outcome::Return(-(e as isize));
        }
        t.app_altstack = new;
        c.uc.set_altstack(real.sp, real.flags, real.size);
    }
    if old != 0 {
        let flags = if on { app.flags | SS_ONSTACK } else { app.flags };
        if !usermem::write_words(old, &[app.sp, flags as u32 as usize, app.size]) {
            return Outcome::err(EFAULT);
        }
    }
    Outcome::Return(0)
}

/// prctl: Syscall User Dispatch is preld's; everything else goes through.
pub fn prctl(c: &mut Call<'_>) -> Outcome {
    if c.args[0] == PR_SET_SYSCALL_USER_DISPATCH {
        return Outcome::err(EPERM);
    }
    if c.args[0] == PR_SET_SECCOMP {
        crate::sud::set_seccomp_filtered();
        crate::beneath::fd_numbers_unknowable();
    }
    if c.args[0] == crate::abi::PR_SET_MM {
        // (PR_SET_MM_BRK may move the break where brk did not.)
        crate::memory::brk_made(0);
    }
    Outcome::Real
}

/// seccomp(2): from now on, calls are made where a filter's SIGSYS can
/// reach the application. And nothing learnt of an fd's number holds from
/// now on (`beneath::fd_numbers_unknowable`): a filter with a listener
/// lets whoever holds it replace this process's fds
/// (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SETFD) with no call
/// preld sees (the listing and stat gates made the kernel's listing of
/// /proc/self/fd put there, preld's fds in it); and the close, dup and
/// listing gates then put no signal off around their calls, whose
/// SECCOMP_RET_TRAP's SIGSYS must reach the program's handler in the gate
/// (it may set the answer: put off, it set it in vain; session-24
/// adversary).
pub fn seccomp(_c: &mut Call<'_>) -> Outcome {
    crate::sud::set_seccomp_filtered();
    crate::beneath::fd_numbers_unknowable();
    Outcome::Real
}

/// arch_prctl: gs holds preld's thread pointer; the application's view of
/// it is an unset gs.
pub fn arch_prctl(c: &mut Call<'_>) -> Outcome {
    match c.args[0] {
        ARCH_SET_GS => Outcome::err(EPERM),
        ARCH_GET_GS => {
            if usermem::write_words(c.args[1], &[0]) {
                Outcome::Return(0)
            } else {
                Outcome::err(EFAULT)
            }
        }
        _ => Outcome::Real,
    }
}

/// `--sigsys` bits: the application's SIGSYS state that an exec keeps
/// (an ignored action stays ignored, the mask stays).
pub const EXEC_SIGSYS_IGNORED: usize = 1;
pub const EXEC_SIGSYS_BLOCKED: usize = 2;

/// What an exec from this thread must carry over of SIGSYS.
pub fn exec_state(t: &ThreadBlock) -> usize {
    let ignored = actions(t).with(|_, acts| acts[SIGSYS - 1].handler == SIG_IGN);
    (if ignored { EXEC_SIGSYS_IGNORED } else { 0 }) | if t.sigsys_blocked { EXEC_SIGSYS_BLOCKED } else { 0 }
}

/// At startup after an exec: the SIGSYS state the program had.
pub fn restore_exec_state(t: &mut ThreadBlock, state: usize) {
    if state & EXEC_SIGSYS_IGNORED != 0 {
        actions(t).with(|known, acts| {
            acts[SIGSYS - 1] = AppAction { handler: SIG_IGN, ..AppAction::ZERO };
            *known |= SIGSYS_BIT;
        });
    }
    t.sigsys_blocked = state & EXEC_SIGSYS_BLOCKED != 0;
}

/// How a signal enters the application's handler, as the kernel would
/// have done it: the frame's saved mask gets SIGSYS if the application had
/// it blocked, and the handler runs with that mask, its sa_mask and the
/// signal itself (unless SA_NODEFER) blocked — SIGSYS only virtually.
/// Returns the real mask for the handler, or None if the action is no
/// longer a handler (changed while the signal was on its way).
fn enter_handler(t: &mut ThreadBlock, sig: usize, frame_mask: &mut u64) -> Option<(AppAction, u64)> {
    let act = actions(t).with(|_, acts| {
        let a = acts[sig - 1];
        if a.handler > SIG_IGN && a.flags & SA_RESETHAND != 0 {
            // The kernel reset its action's handler on delivery (flags and
            // mask stay); so does the view.
            acts[sig - 1].handler = SIG_DFL;
        }
        a
    });
    if act.handler <= SIG_IGN {
        return None;
    }
    if t.sigsys_blocked {
        *frame_mask |= SIGSYS_BIT;
    }
    let mut m = *frame_mask | act.mask;
    if act.flags & SA_NODEFER == 0 {
        m |= 1 << (sig - 1);
    }
    t.sigsys_blocked = m & SIGSYS_BIT != 0;
    Some((act, m & !SIGSYS_BIT & !UNBLOCKABLE))
}

/// `signal_entry`'s decision for a signal the application handles: the
/// handler to enter, with its mask left in the thread block.
#[unsafe(no_mangle)]
extern "C" fn preld_signal(sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void) -> usize {
    // SAFETY: signal_entry runs on a thread preld set up, with every signal
    // blocked: no other preld code is using the block.
    let t = unsafe { thread::current() };
    // SAFETY: the kernel's handler arguments, used during this call only.
    let mut uc = unsafe { Ucontext::from_ptr(uc) };
    // SAFETY: this thread's interrupted context.
    if let Some(rip) = unsafe { preld_arch::fast::abort_path_copy(uc.rip(), uc.rsp()) } {
        uc.set_rip(rip);
    }
    crate::usermem::change_interrupted(t, &mut uc);
    let sig = sig as usize;
    trace::signal(t, sig, info.cast());
    if tracer::signal(t, sig, info.cast()).is_none() {
        // Suppressed by a tracer (or replaced by another, already sent):
        // as if it were ignored.
        t.arch.handler_mask = *uc.sigmask() & !SIGSYS_BIT;
        return preld_arch::ignore_signal as *const () as usize;
    }
    match enter_handler(t, sig, uc.sigmask()) {
        Some((act, mask)) => {
            t.arch.handler_mask = mask;
            let frame = off_preld_altstack(t, &act, sig, info.cast(), &mut uc).unwrap_or(uc.as_ptr() as usize);
            trace::enter_handler(t, frame);
            act.handler
        }
        None => {
            // SIG_DFL: installed as signal_entry to show a fatal signal in
            // a trace (or changed while the signal was on its way). The
            // kernel's default action, whatever it is, applies.
            if actions(t).with(|_, acts| acts[sig - 1].handler == SIG_DFL) {
                if FATAL_BY_DEFAULT & (1 << (sig - 1)) != 0 {
                    tracer::exiting(t, -(sig as i32));
                }
                default_action(t, sig, info.cast());
            }
            t.arch.handler_mask = *uc.sigmask() & !SIGSYS_BIT;
            preld_arch::ignore_signal as *const () as usize
        }
    }
}

/// A signal that came while this thread was in the fast path's handler
/// gate (`preld_arch::defer_signal`): preld code runs there with the
/// application's mask, to spare the gate two rt_sigprocmask calls per
/// call, and must not be entered again. The signal is queued again to
/// this thread with its own siginfo (any si_code may be sent to oneself)
/// and blocked in the mask the gate goes on with; the gate unblocks it
/// when it is done, and it comes in then, where a signal pending across
/// a call's return comes in natively. A fault of preld's own code (a
/// SIGSEGV, SIGBUS, SIGILL, SIGFPE or SIGTRAP of the kernel's) is fatal, as
/// when the gate blocked every signal: the action goes back to SIG_DFL and
/// the faulting instruction runs again. Returns the bit put off (0: none).
/// (A process-directed signal comes back directed to this thread; two of
/// a standard signal, one put off and one sent meanwhile, arrive as one.)
#[unsafe(no_mangle)]
extern "C" fn preld_defer_signal(sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void) -> Deferral {
    let sig = sig as usize;
    let none = Deferral { bit: 0, restarted: 0 };
    if !(1..=64).contains(&sig) {
        return none;
    }
    // SAFETY: the kernel's siginfo (si_code at 8), read during this call.
    let code = unsafe { info.cast::<u8>().add(8).cast::<i32>().read_unaligned() };
    const FAULTS: [usize; 5] = [crate::abi::SIGSEGV, crate::abi::SIGBUS, crate::abi::SIGILL, crate::abi::SIGFPE, crate::abi::SIGTRAP];
    // The program single-steps itself (the trap flag it set, TRAP_TRACE):
    // no fault of preld's, and the gate's code is no instruction of the
    // program's. Stepping stops until the gate ends (its popfq gives the
    // program's flags back), as natively a `syscall` is one step; it
    // killed the program at the gate's first instruction.
    const TRAP_TRACE: i32 = 2;
    if sig == crate::abi::SIGTRAP && code == TRAP_TRACE {
        // SAFETY: the kernel's ucontext, used during this call only.
        let mut uc = unsafe { Ucontext::from_ptr(uc) };
        if uc.clear_trap_flag() {
            return none;
        }
    }
    if code > 0 && FAULTS.contains(&sig) {
        let dfl = KernelSigaction { handler: SIG_DFL, ..KernelSigaction::default() };
        // SAFETY: SIG_DFL for the signal: the fault comes again, fatal.
        let _ = unsafe { sys::rt_sigaction(sig, Some(&dfl), None) };
        return none;
    }
    if sig != SIGSYS {
        // A handler with SA_RESETHAND: the kernel has just reset its action
        // to SIG_DFL for this delivery, which is not the one that counts;
        // it is signal_entry again for that one.
        if let Ok(k) = sys::get_sigaction(sig) {
            if k.handler == SIG_DFL && k.flags & SA_RESETHAND != 0 {
                let again = KernelSigaction { handler: preld_arch::signal_entry as *const () as usize, flags: k.flags, restorer: k.restorer, mask: k.mask };
                // SAFETY: preld's signal_entry with the flags, restorer and
                // mask the kernel had for it.
                let _ = unsafe { sys::rt_sigaction(sig, Some(&again), None) };
            }
        }
    }
    // A realtime signal's later instances, pending now, come after it:
    // taken out and queued again behind it (at most a few; beyond them
    // the order is the kernel's).
    let mut later = [[0u8; SIGINFO_SIZE]; 16];
    let mut n = 0;
    if sig >= crate::abi::SIGRTMIN_KERNEL {
        while n < later.len() && sys::rt_sigtimedwait_now(sig, &mut later[n]).is_ok() {
            n += 1;
        }
    }
    let (pid, tid) = (sys::getpid(), sys::gettid());
    // SAFETY: the kernel's siginfo, SIGINFO_SIZE bytes.
    let first = unsafe { core::slice::from_raw_parts(info.cast::<u8>(), SIGINFO_SIZE) };
    if !requeue(pid, tid, sig, first) {
        // A realtime signal with RLIMIT_SIGPENDING reached (a sender took
        // the slot it left): lost (docs/DESIGN.md, limits).
        return none;
    }
    for l in &later[..n] {
        requeue(pid, tid, sig, l);
    }
    // SAFETY: the kernel's ucontext, used during this call only.
    let mut uc = unsafe { Ucontext::from_ptr(uc) };
    let bit = 1u64 << (sig - 1);
    *uc.sigmask() |= bit;
    // The application's open that may wait (the gate's only such call):
    // -EINTR rather than restarted with the signal held back, so that the
    // trap path makes it again after the signal's handler (`take_restarted`).
    let rip = uc.rip();
    let restarted = preld_arch::is_restartable_call(rip);
    if restarted {
        uc.resume_at(rip + 2, -(crate::errno::EINTR as isize) as usize);
    }
    Deferral { bit, restarted: restarted as u64 }
}

/// Queues `info` (SIGINFO_SIZE bytes) again to thread `tid`; false if the
/// kernel refused (a realtime signal over RLIMIT_SIGPENDING).
fn requeue(pid: i32, tid: i32, sig: usize, info: &[u8]) -> bool {
    // SAFETY: a signal to this very thread (any si_code may be sent to
    // oneself) with a siginfo of SIGINFO_SIZE bytes.
    unsafe { sys::rt_tgsigqueueinfo(pid, tid, sig, info.as_ptr()) }.is_ok()
}

/// Whether a signal made the handler gate's last restartable call
/// (`sys::openat2_restartable`) return EINTR where the kernel would have
/// restarted it, or before it was made; clears the mark.
pub fn take_restarted(t: &mut ThreadBlock) -> bool {
    let at = &raw mut t.arch.restarted;
    // SAFETY: a field of this thread's block that `defer_signal` writes
    // through gs when a signal comes: read and cleared as memory, never
    // kept in a register across the call that a signal interrupts.
    unsafe {
        let r = core::ptr::read_volatile(at) != 0;
        core::ptr::write_volatile(at, 0);
        r
    }
}

/// Signals whose default action ends the process (signal(7)): Term and Core.
const FATAL_BY_DEFAULT: u64 = {
    let mut m: u64 = 0;
    let sigs = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 24, 25, 26, 27, 29, 30];
    let mut i = 0;
    while i < sigs.len() {
        m |= 1 << (sigs[i] - 1);
        i += 1;
    }
    m | !((1u64 << 33) - 1) // SIGRTMIN+1 .. 64 (32 and 33 are glibc's own)
};

/// Whether a SIG_DFL action of `sig` is installed as `signal_entry`: in a
/// trace, for the signals that kill by default, so that the trace shows
/// `--- SIGx {...} ---` before the process dies of it, as strace does.
fn shows_fatal(sig: usize) -> bool {
    sig != SIGSYS && (1..=64).contains(&sig) && FATAL_BY_DEFAULT & (1 << (sig - 1)) != 0 && crate::config::tracing()
}

/// In a trace, at startup: the signals that kill by default, left at
/// SIG_DFL by the exec, get `sigactions::entry_action`; the application's
/// view stays SIG_DFL.
pub fn show_fatal_signals(t: &ThreadBlock) {
    if !crate::config::tracing() && !tracer::active() {
        return;
    }
    actions(t).with(|known, acts| {
        for sig in 1..=64usize {
            if !shows_fatal(sig) {
                continue;
            }
            if sys::get_sigaction(sig).map_or(true, |k| k.handler != SIG_DFL) {
                continue; // ignored across exec, or not a signal here
            }
            let real = crate::sigactions::entry_action();
            // SAFETY: preld's signal_entry and restorer, for a signal that
            // is at SIG_DFL.
            if unsafe { sys::rt_sigaction(sig, Some(&real), None) }.is_ok() {
                acts[sig - 1] = AppAction::ZERO;
                *known |= 1 << (sig - 1);
            }
        }
    });
}

/// The default action of a signal that reached `signal_entry` at SIG_DFL
/// (a fatal one in a trace: its line is written): see `resend_default`.
fn default_action(t: &mut ThreadBlock, sig: usize, info: *const u8) {
    resend_default(t, sig, Some(info));
}

/// A signal's kernel default action from inside a handler: the real action
/// goes back to SIG_DFL and the signal is sent again to this thread (with
/// `info`, else as tgkill would), to arrive as soon as this handler returns
/// and end (or stop) the process as it would have. The caller makes sure
/// the mask it returns to does not block it.
fn resend_default(t: &mut ThreadBlock, sig: usize, info: Option<*const u8>) {
    let dfl = KernelSigaction { handler: SIG_DFL, ..KernelSigaction::default() };
    // SAFETY: SIG_DFL; then a signal to this very thread, with the kernel's
    // siginfo when given (allowed for any si_code to oneself).
    unsafe {
        let _ = sys::rt_sigaction(sig, Some(&dfl), None);
        match info {
            Some(i) => {
                let _ = sys::rt_tgsigqueueinfo(sys::getpid(), t.tid(), sig, i);
            }
            None => {
                let _ = sys::tgkill(sys::getpid(), t.tid(), sig as i32);
            }
        }
    }
}

/// A handler with SA_ONSTACK in a thread without a sigaltstack of its own:
/// the kernel put the frame on preld's (the real one), where natively it
/// would be on the interrupted stack (SA_ONSTACK without a sigaltstack is
/// ignored). The frame is written again there and `signal_entry` enters the
/// handler on it. Returns the new frame's context, or None (frame left
/// where it is, also when the interrupted stack has no room).
fn off_preld_altstack(t: &mut ThreadBlock, act: &AppAction, sig: usize, info: *const u8, uc: &mut Ucontext) -> Option<usize> {
    let alt = t.preld_altstack();
    let here = uc.as_ptr() as usize;
    if act.flags & SA_ONSTACK == 0 || t.app_altstack.flags & SS_DISABLE == 0 || here.wrapping_sub(alt.sp) >= alt.size {
        return None;
    }
    let sp = uc.rsp().checked_sub(preld_arch::RED_ZONE)?;
    let saved = uc.sigmask_value();
    // SAFETY: info and uc are the kernel's, for this signal.
    let f = unsafe { uc.write_handler_frame(info, sp, act.restorer, saved, usermem::write) }?;
    let (words, handler_sp) = preld_arch::handler_frame_entry(f, sig);
    if !usermem::write_words(handler_sp, &words) {
        return None;
    }
    t.arch.handler_sp = handler_sp;
    Some(preld_arch::handler_frame_context(f))
}

/// A SIGSYS that Syscall User Dispatch did not raise (kill(2), or a seccomp
/// filter of the application returning SECCOMP_RET_TRAP): the application's
/// virtual action decides. A handler gets a signal frame of its own on the
/// stack it asked for, and this SIGSYS returns into it.
pub fn foreign_sigsys(t: &mut ThreadBlock, info: *mut core::ffi::c_void, uc: &mut Ucontext) {
    // SAFETY: siginfo's si_code is the third int.
    let code = unsafe { *(info as *const i32).add(2) };
    let act = actions(t).with(|_, acts| acts[SIGSYS - 1]);
    // A seccomp trap is forced: blocked or ignored, it kills (as the kernel's
    // force_sig_seccomp does).
    let forced = code == SYS_SECCOMP && (t.sigsys_blocked || act.handler == SIG_IGN);
    if forced || act.handler == SIG_DFL {
        trace::signal(t, SIGSYS, info.cast());
        // SIGSYS is never blocked for real: it arrives when this returns.
        resend_default(t, SIGSYS, Some(info as *const u8));
        return;
    }
    if act.handler == SIG_IGN {
        return;
    }
    if t.sigsys_blocked {
        // SAFETY: the kernel's siginfo is 128 bytes.
        unsafe { core::ptr::copy_nonoverlapping(info as *const u8, t.pending_sigsys_info.as_mut_ptr(), 128) };
        t.pending_sigsys = true;
        return;
    }
    trace::signal(t, SIGSYS, info.cast());
    let rsp = uc.rsp();
    let alt = t.app_altstack;
    let on_alt = alt.flags & SS_DISABLE == 0 && rsp.wrapping_sub(alt.sp) < alt.size;
    let mut sp = if act.flags & SA_ONSTACK != 0 && alt.flags & SS_DISABLE == 0 && !on_alt {
        alt.sp + alt.size
    } else {
        rsp - preld_arch::RED_ZONE
    };
    // This SIGSYS's own frame may lie on the application's sigaltstack
    // (preld's action is SA_ONSTACK): the handler's frame goes below it.
    let here = uc.as_ptr() as usize;
    let in_alt = |a: usize| alt.flags & SS_DISABLE == 0 && a.wrapping_sub(alt.sp) < alt.size;
    if in_alt(here) && in_alt(sp - 1) {
        sp = sp.min(here - 8);
    }
    let mut saved = *uc.sigmask();
    let Some((act, mask)) = enter_handler(t, SIGSYS, &mut saved) else { return };
    // SAFETY: info and uc are the kernel's, for this SIGSYS.
    let frame = unsafe { uc.write_handler_frame(info as *const u8, sp, act.restorer, saved, usermem::write) };
    match frame {
        Some(f) => {
            uc.enter_handler(act.handler, f, SIGSYS);
            *uc.sigmask() = mask;
            trace::enter_handler(t, preld_arch::handler_frame_context(f));
        }
        None => {
            // No room for the frame: the kernel would kill with SIGSEGV.
            *uc.sigmask() &= !(1 << (SIGSEGV - 1));
            resend_default(t, SIGSEGV, None);
        }
    }
}

