//! `preld trace -p PID`: a tracer that comes and goes while the program
//! runs. The control endpoint is SIGSYS itself: `preld trace -p` queues
//! one (sigqueue: si_code SI_QUEUE) with ATTACH or DETACH as its value.
//! Only a process allowed to signal this one can (its user, or root); a
//! capability session's processes live in a PID namespace of their own
//! and are never attached (their handler ignores the request, so a session
//! cannot reach a tracer either way).
//!
//! Attach: the handler connects to the abstract Unix socket
//! `preld-attach-SENDER-PID` (the sender's pid and this process's), checks
//! that the listener is the sender (SO_PEERCRED: pid and uid), receives
//! ld-preld's trace options (NUL-separated, as on its command line) with
//! the trace output as an fd, and possibly the tracer hub's connection as
//! a second one, installs them (`config::replace`), makes every rewritten
//! site trap again (`fast::suspend`), answers `ok` and lets the program go
//! on. Detach puts the configuration back, and the trace output becomes
//! /dev/null (another thread may be writing a line to it: its number stays
//! preld's until the process ends or execs).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::abi::{AF_UNIX, MSG_CMSG_CLOEXEC, MSG_NOSIGNAL, O_CLOEXEC, O_RDWR, SOCK_CLOEXEC, SOCK_SEQPACKET};
use crate::config::{self, Config};
use crate::thread::ThreadBlock;
use crate::{dispatch, fast, ownfd, sys, trace, tracer, vdso};

/// The sigqueue values of `preld trace -p`: "PRLDATCH" and "PRLDDTCH".
pub const ATTACH: usize = 0x5052_4c44_4154_4348;
pub const DETACH: usize = 0x5052_4c44_4454_4348;

/// Attached now (by -p, not from the start).
static ATTACHED: AtomicBool = AtomicBool::new(false);
/// How many options of the replay list the attach added.
static REPLAY_ADDED: AtomicI32 = AtomicI32::new(0);
/// One attach or detach at a time (a second request meanwhile is dropped).
static BUSY: AtomicBool = AtomicBool::new(false);

/// Whether `info` (a SIGSYS's siginfo) is a request of `preld trace -p`;
/// then it is served here and the application never sees it.
pub fn request(t: &mut ThreadBlock, info: &[u8; 128]) -> bool {
    let word = |o: usize| i32::from_ne_bytes(info[o..o + 4].try_into().unwrap_or_default());
    let (code, pid, uid) = (word(8), word(16), word(20) as u32);
    let value = usize::from_ne_bytes(info[24..32].try_into().unwrap_or_default());
    if code != crate::abi::SI_QUEUE || !(value == ATTACH || value == DETACH) {
        return false;
    }
    // Not in a session; only from this process's own user (the kernel let
    // the signal through: root may signal anyone, but a process's tracer
    // is its user's).
    if config::get().rpc_fd.is_some() || uid != sys::getuid() {
        return true;
    }
    if BUSY.swap(true, Ordering::Acquire) {
        return true;
    }
    if value == ATTACH {
        let _ = attach(t, pid);
    } else {
        detach(t);
    }
    BUSY.store(false, Ordering::Release);
    true
}

/// The connection to the sender's listener, checked to be the sender's.
fn connect(sender: i32) -> Result<i32, i32> {
    let s = sys::socket(AF_UNIX as usize, SOCK_SEQPACKET | SOCK_CLOEXEC)?;
    let mut addr = [0u8; 110];
    addr[..2].copy_from_slice(&(AF_UNIX as u16).to_ne_bytes());
    // Abstract: a NUL, then the name.
    let mut name = Vec::from(&b"preld-attach-"[..]);
    let mut d = [0u8; 20];
    name.extend_from_slice(sys::decimal(sender as u64, &mut d));
    name.push(b'-');
    name.extend_from_slice(sys::decimal(sys::getpid() as u64, &mut d));
    addr[3..3 + name.len()].copy_from_slice(&name);
    if let Err(e) = sys::connect(s, &addr[..3 + name.len()]) {
        sys::close(s);
        return Err(e);
    }
    match sys::peer_cred(s) {
        Ok((pid, uid, _)) if pid == sender && uid == sys::getuid() => Ok(s),
        _ => {
            sys::close(s);
            Err(crate::errno::EPERM)
        }
    }
}

fn attach(t: &mut ThreadBlock, sender: i32) -> Result<(), i32> {
    let s = connect(sender)?;
    let r = attach_on(t, s);
    let _ = sys::send_bytes(s, if r.is_ok() { b"ok" } else { b"no" }, MSG_NOSIGNAL);
    sys::close(s);
    r
}

fn attach_on(t: &mut ThreadBlock, s: i32) -> Result<(), i32> {
    if config::tracing() || config::get().tracer.is_some() {
        return Err(crate::errno::EBUSY);
    }
    let mut buf = alloc::vec![0u8; 8192];
    let (n, fds) = sys::recv_with_fds(s, &mut buf, MSG_CMSG_CLOEXEC)?;
    buf.truncate(n);
    let [out, hub] = fds;
    // The options, parsed as ld-preld parses its own (they live as long as
    // the configuration that refers to them).
    let text: &'static [u8] = Vec::leak(buf);
    let args: Vec<&'static [u8]> = text.split(|&b| b == 0).filter(|a| !a.is_empty()).collect();
    let parsed = Config::parse(&args);
    let close_all = || {
        for fd in [out, hub].into_iter().flatten() {
            sys::close(fd);
        }
    };
    let Ok((mut parsed, _)) = parsed else {
        close_all();
        return Err(crate::errno::EINVAL);
    };
    match (parsed.trace.as_mut(), out) {
        (Some(tr), Some(fd)) => {
            tr.fd = ownfd::adopt(ownfd::TRACE, fd)?;
            // The program's first thread, whose lines have no [pid N].
            tr.root = Some(sys::getpid());
        }
        // Tracers only: the lines' output is not needed.
        (None, Some(fd)) => sys::close(fd),
        (Some(_), None) => return Err(crate::errno::EINVAL),
        (None, None) => {}
    }
    let replay: Vec<Vec<u8>> = parsed.replay.clone();
    REPLAY_ADDED.store(replay.len() as i32, Ordering::Relaxed);
    config::replace(|c| {
        c.trace = parsed.trace.take();
        c.inject = core::mem::take(&mut parsed.inject);
        c.tracer = parsed.tracer.take();
        c.replay.extend(replay);
        c.attached = parsed.attached;
    });
    trace::start(t);
    // The vDSO's calls as at start-up (lib.rs `start`).
    if config::get().trace.as_ref().is_some_and(|tr| tr.vdso || tr.more.vdso) {
        vdso::set_observer(Some(trace::vdso_call));
    }
    if let (Some(_), Some(fd)) = (config::get().tracer.as_ref(), hub) {
        tracer::start(fd)?;
        if tracer::wants_vdso() {
            vdso::set_interceptor(Some(tracer::vdso_call));
        }
    }
    ATTACHED.store(true, Ordering::Release);
    // Every rewritten site traps again, and none is rewritten meanwhile.
    fast::suspend();
    Ok(())
}

fn detach(t: &mut ThreadBlock) {
    if !ATTACHED.swap(false, Ordering::AcqRel) {
        return;
    }
    trace::flush(t);
    let added = REPLAY_ADDED.swap(0, Ordering::Relaxed) as usize;
    config::replace(|c| {
        c.trace = None;
        c.tracer = None;
        c.inject.clear();
        let keep = c.replay.len().saturating_sub(added);
        c.replay.truncate(keep);
        c.attached = false;
    });
    vdso::set_observer(None);
    vdso::set_interceptor(None);
    // The output gives way to /dev/null under the same number: a line
    // another thread is writing goes nowhere, and the number is never
    // another file's.
    let fd = ownfd::get(ownfd::TRACE);
    if fd >= 0 {
        if let Ok(null) = sys::open(&sys::CPath::new(b"/dev/null"), O_RDWR | O_CLOEXEC) {
            let _ = sys::dup3(null, fd, O_CLOEXEC);
            sys::close(null);
        }
    }
    tracer::detach_all();
    fast::resume(dispatch::fast_gate);
}

/// Used by the SIGSYS entry: the siginfo the kernel gave.
///
/// # Safety
/// `info` must point at the kernel's 128-byte siginfo of this signal.
pub unsafe fn siginfo<'a>(info: *const core::ffi::c_void) -> &'a [u8; 128] {
    // SAFETY: per the contract.
    unsafe { &*(info as *const [u8; 128]) }
}
