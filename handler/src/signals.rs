//! Signals: SIGSYS belongs to preld, so the application's view of it is
//! virtual; masks and the sigaltstack are changed in the SIGSYS frame
//! (rt_sigreturn would otherwise put the old ones back).

use core::sync::atomic::{AtomicUsize, Ordering};

use preld_arch::Ucontext;

use crate::dispatch::{Call, Outcome};
use crate::thread::{StackT, SS_DISABLE, SS_ONSTACK};
use crate::trap::{KernelSigaction, SIGSYS};
use crate::{sys, usermem};

const EINVAL: isize = 22;
const EFAULT: isize = 14;
const EPERM: isize = 1;
const ENOMEM: isize = 12;
const SIGSYS_BIT: u64 = 1 << (SIGSYS - 1);
/// SIGKILL and SIGSTOP cannot be blocked.
const UNBLOCKABLE: u64 = (1 << 8) | (1 << 18);
const SIG_BLOCK: usize = 0;
const SIG_UNBLOCK: usize = 1;
const SIG_SETMASK: usize = 2;
const MINSIGSTKSZ: usize = 2048;

/// The application's SIGSYS action, never installed (preld's stays).
static APP_SIGSYS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// The application's trapped rt_sigreturn: made from the gate with its own
/// frame, after making sure that frame does not block SIGSYS.
pub fn rt_sigreturn(c: &mut Call<'_>) -> Outcome {
    let mask = c.uc.app_frame_sigmask();
    // SAFETY: rsp points at the application's signal frame (it is making
    // rt_sigreturn); if it lies, the write faults like the kernel's read would.
    unsafe {
        if *mask & SIGSYS_BIT != 0 {
            c.t.sigsys_blocked = true;
            *mask &= !SIGSYS_BIT;
        }
    }
    c.uc.divert_to_sigreturn();
    Outcome::Diverted
}

/// sigaction(SIGSYS) is answered from the virtual action.
pub fn rt_sigaction(c: &mut Call<'_>) -> Outcome {
    let [sig, act, old, size, ..] = c.args;
    if sig != SIGSYS {
        // A handler's sa_mask must not block SIGSYS: its own calls (its
        // rt_sigreturn at least) trap, and a blocked SIGSYS kills.
        let mut a = [0usize; 4];
        if act != 0 && usermem::read_words(act, &mut a) && a[3] as u64 & SIGSYS_BIT != 0 {
            a[3] &= !(SIGSYS_BIT as usize);
            c.t.scratch_act = a;
            c.args[1] = c.t.scratch_act.as_ptr() as usize;
        }
        return Outcome::Real;
    }
    if size != 8 {
        return Outcome::Return(-EINVAL);
    }
    let mut new = [0usize; 4];
    if act != 0 && !usermem::read_words(act, &mut new) {
        return Outcome::Return(-EFAULT);
    }
    let prev: [usize; 4] = core::array::from_fn(|i| APP_SIGSYS[i].load(Ordering::Relaxed));
    if old != 0 && !usermem::write_words(old, &prev) {
        return Outcome::Return(-EFAULT);
    }
    if act != 0 {
        for (slot, v) in APP_SIGSYS.iter().zip(new) {
            slot.store(v, Ordering::Relaxed);
        }
    }
    Outcome::Return(0)
}

/// rt_sigprocmask acts on the mask saved in the SIGSYS frame, which
/// rt_sigreturn installs; SIGSYS itself is blocked only in the application's
/// view.
pub fn rt_sigprocmask(c: &mut Call<'_>) -> Outcome {
    let [how, set, old, size, ..] = c.args;
    if size != 8 {
        return Outcome::Return(-EINVAL);
    }
    let t = &mut *c.t;
    let cur = *c.uc.sigmask() | if t.sigsys_blocked { SIGSYS_BIT } else { 0 };
    let mut new = cur;
    if set != 0 {
        let mut s = [0usize; 1];
        if !usermem::read_words(set, &mut s) {
            return Outcome::Return(-EFAULT);
        }
        let s = s[0] as u64;
        new = match how {
            SIG_BLOCK => cur | s,
            SIG_UNBLOCK => cur & !s,
            SIG_SETMASK => s,
            _ => return Outcome::Return(-EINVAL),
        };
    }
    if old != 0 && !usermem::write_words(old, &[cur as usize]) {
        return Outcome::Return(-EFAULT);
    }
    new &= !UNBLOCKABLE;
    t.sigsys_blocked = new & SIGSYS_BIT != 0;
    *c.uc.sigmask() = new & !SIGSYS_BIT;
    Outcome::Return(0)
}

/// Calls that install a mask for their duration: SIGSYS is taken out of it.
pub fn mask_arg(c: &mut Call<'_>) -> Outcome {
    use syscalls::Sysno;
    let idx = match Sysno::from(c.nr as u32) {
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
            return Outcome::Return(-EFAULT);
        }
        if on {
            return Outcome::Return(-EPERM);
        }
        let flags = w[1] as i32;
        // SS_AUTODISARM (1 << 31) is accepted with the mode bits.
        let mode = flags & !(1 << 31);
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Outcome::Return(-EINVAL);
        }
        let new = if mode == SS_DISABLE {
            StackT { sp: 0, flags: SS_DISABLE, size: 0 }
        } else {
            if w[2] < MINSIGSTKSZ {
                return Outcome::Return(-ENOMEM);
            }
            StackT { sp: w[0], flags: flags & !SS_ONSTACK, size: w[2] }
        };
        // Set it for real from the preld stack (the kernel refuses while
        // running on the current sigaltstack, where this SIGSYS frame may
        // be), and in the frame too: rt_sigreturn reinstalls what it holds.
        let real = if new.flags & SS_DISABLE != 0 { t.preld_altstack() } else { new };
        if let Err(e) = sys::sigaltstack(&real as *const StackT as usize, 0) {
            return Outcome::Return(-(e as isize));
        }
        t.app_altstack = new;
        c.uc.set_altstack(real.sp, real.flags, real.size);
    }
    if old != 0 {
        let flags = if on { app.flags | SS_ONSTACK } else { app.flags };
        if !usermem::write_words(old, &[app.sp, flags as u32 as usize, app.size]) {
            return Outcome::Return(-EFAULT);
        }
    }
    Outcome::Return(0)
}

/// prctl: Syscall User Dispatch is preld's; everything else goes through.
pub fn prctl(c: &mut Call<'_>) -> Outcome {
    const PR_SET_SYSCALL_USER_DISPATCH: usize = 59;
    if c.args[0] == PR_SET_SYSCALL_USER_DISPATCH {
        return Outcome::Return(-EPERM);
    }
    Outcome::Real
}

/// arch_prctl: gs holds preld's thread pointer; the application's view of
/// it is an unset gs.
pub fn arch_prctl(c: &mut Call<'_>) -> Outcome {
    const ARCH_SET_GS: usize = 0x1001;
    const ARCH_GET_GS: usize = 0x1004;
    match c.args[0] {
        ARCH_SET_GS => Outcome::Return(-EPERM),
        ARCH_GET_GS => {
            if usermem::write_words(c.args[1], &[0]) {
                Outcome::Return(0)
            } else {
                Outcome::Return(-EFAULT)
            }
        }
        _ => Outcome::Real,
    }
}

/// A SIGSYS that Syscall User Dispatch did not raise (kill(2), or a seccomp
/// filter of the application returning SECCOMP_RET_TRAP): the
/// application's virtual action decides.
pub fn foreign_sigsys(info: *mut core::ffi::c_void, uc: &mut Ucontext) {
    const SIG_DFL: usize = 0;
    const SIG_IGN: usize = 1;
    let handler = APP_SIGSYS[0].load(Ordering::Relaxed);
    match handler {
        SIG_IGN => {}
        SIG_DFL => {
            // The default action: die of SIGSYS. Reset the action, and let
            // the signal arrive again once this handler has returned.
            let dfl = KernelSigaction { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0 };
            // SAFETY: a valid sigaction; then a signal to ourselves.
            unsafe {
                let _ = sys::raw(syscalls::Sysno::rt_sigaction as usize, [SIGSYS, &dfl as *const _ as usize, 0, 8, 0, 0]);
            }
            *uc.sigmask() &= !SIGSYS_BIT;
            let _ = sys::tgkill(sys::getpid(), sys::gettid(), SIGSYS as i32);
        }
        f => {
            // SAFETY: the application registered `f` as its SA_SIGINFO (or
            // plain) SIGSYS handler; it gets the kernel's arguments.
            let f: extern "C" fn(i32, *mut core::ffi::c_void, *mut core::ffi::c_void) = unsafe { core::mem::transmute(f) };
            f(SIGSYS as i32, info, uc.as_ptr());
        }
    }
}
