//! External tracers (`preld trace --tracer CMD`): at each call some tracer
//! subscribed to, the thread asks the tracer hub in the preld process and
//! waits for its verdict (make the call, make it and report its result,
//! answer it with a value, or make it with new arguments); signals and
//! exits are reported the same way. The frames are proto/src/tracer.rs's;
//! the text the tracers read and write is docs/tracer-protocol.md's.
//!
//! Each thread has its own connection (a thread blocked in a stepped call
//! must not hold up the others): it makes a socketpair and sends one end to
//! the hub over the process's main connection (`--tracer-fd`), which is
//! shared by every process of the program (only Connect frames travel on
//! it, each one message, so sharing needs no lock). A fork child drops the
//! parent's per-thread connections and makes its own. If the hub is gone
//! or says every tracer has detached, the process stops asking: the
//! program runs on untraced. All of it runs in the SIGSYS handler, with
//! every signal blocked (or, for vDSO calls, with signals blocked here).

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use preld_proto::tracer::{self as wire, Down, Up};
use syscalls::Sysno;

use crate::sys::{Iovec, Msghdr};
use crate::thread::ThreadBlock;
use crate::abi::{AF_UNIX, MSG_DONTWAIT, MSG_NOSIGNAL, SCM_RIGHTS, SOCK_CLOEXEC, SOCK_SEQPACKET, SOL_SOCKET};
use crate::errno::{EAGAIN, EINTR, EIO};
use crate::{config, ownfd, sys, trace, usermem};

static MAIN: AtomicI32 = AtomicI32::new(-1);
/// Every tracer has detached, or the hub is gone: no more questions.
static DETACHED: AtomicBool = AtomicBool::new(false);


/// Takes `fd` as the process's main connection to the hub (at startup).
pub fn start(fd: i32) -> Result<(), i32> {
    let fd = ownfd::adopt_fd(fd)?;
    MAIN.store(fd, Ordering::Relaxed);
    DETACHED.store(false, Ordering::Relaxed);
    if let Some(n) = config::get().tracer.as_ref().and_then(|t| t.strsize) {
        if config::get().trace.is_none() {
            trace::set_strsize(n);
        }
    }
    Ok(())
}

/// The main connection (-1: none), for the next exec's `--tracer-fd`.
pub fn main_fd() -> i32 {
    MAIN.load(Ordering::Relaxed)
}

/// Whether tracers are still asked in this process.
pub fn active() -> bool {
    MAIN.load(Ordering::Relaxed) >= 0 && !DETACHED.load(Ordering::Relaxed)
}

/// Whether some tracer subscribed to call `nr` (the fast path keeps such
/// calls trapping).
pub fn may_want(nr: usize) -> bool {
    if !active() || nr == Sysno::rt_sigreturn as usize {
        return false;
    }
    match config::get().tracer.as_ref().map(|t| &t.filter) {
        None => false,
        Some(None) => true,
        Some(Some(f)) => nr < 512 && f[nr / 64] & (1 << (nr % 64)) != 0,
    }
}

/// Whether the vDSO's calls go to the tracers (some tracer named one).
pub fn wants_vdso() -> bool {
    config::get().tracer.as_ref().is_some_and(|t| t.vdso) && active()
}

fn detach() {
    DETACHED.store(true, Ordering::Relaxed);
}

/// `preld trace -p`'s detach: no more questions to the hub. The main
/// connection becomes /dev/null under its number (another thread may be
/// sending on it this very moment: the number must never be another
/// file's), so the hub sees it close; the threads' own go with them.
pub fn detach_all() {
    detach();
    let main = MAIN.load(Ordering::Relaxed);
    if main >= 0 {
        if let Ok(null) = sys::open(&sys::CPath::new(b"/dev/null"), crate::abi::O_RDWR | crate::abi::O_CLOEXEC) {
            let _ = sys::dup3(null, main, crate::abi::O_CLOEXEC);
            sys::close(null);
        }
    }
}


/// Sends one frame on `conn`, with `fd` as SCM_RIGHTS if given.
fn send(conn: i32, frame: &[u8], fd: Option<i32>) -> Result<(), i32> {
    let iov = Iovec { base: frame.as_ptr() as usize, len: frame.len() };
    #[repr(C, align(8))]
    struct Control([u8; 24]);
    let mut ctl = Control([0; 24]);
    let mut msg = Msghdr { name: 0, namelen: 0, iov: &iov, iovlen: 1, control: 0, controllen: 0, flags: 0 };
    if let Some(fd) = fd {
        ctl.0[..8].copy_from_slice(&20u64.to_ne_bytes());
        ctl.0[8..12].copy_from_slice(&SOL_SOCKET.to_ne_bytes());
        ctl.0[12..16].copy_from_slice(&SCM_RIGHTS.to_ne_bytes());
        ctl.0[16..20].copy_from_slice(&fd.to_ne_bytes());
        msg.control = ctl.0.as_ptr() as usize;
        msg.controllen = 24;
    }
    loop {
        // SAFETY: msg describes live buffers of this frame.
        match unsafe { sys::raw(Sysno::sendmsg as usize, [conn as usize, &msg as *const Msghdr as usize, MSG_NOSIGNAL, 0, 0, 0]) } {
            Ok(_) => return Ok(()),
            Err(EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Receives one frame into `buf` (0 bytes: the hub is gone).
fn recv(conn: i32, buf: &mut [u8]) -> Result<usize, i32> {
    loop {
        // SAFETY: recvfrom into a live, writable buffer, no address.
        match unsafe { sys::raw(Sysno::recvfrom as usize, [conn as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0]) } {
            Ok(0) => return Err(EIO),
            Ok(n) => return Ok(n),
            Err(EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// How many times a thread looks for the answer, yielding its CPU between
/// looks, before it sleeps in recv (docs/DESIGN.md, "External tracers":
/// an answer is usually back within this; a thread that slept must be
/// woken, which costs tens of µs on an idle vCPU).
const SPINS: usize = 64;

/// Sends `frame` and receives the answer into `buf`, first by polling
/// (non-blocking recv and sched_yield, SPINS times), then blocking.
fn ask_hub(conn: i32, frame_len: usize, buf: &mut [u8]) -> Result<usize, i32> {
    send(conn, &buf[..frame_len], None)?;
    for _ in 0..SPINS {
        // SAFETY: recvfrom into a live, writable buffer, no address.
        match unsafe { sys::raw(Sysno::recvfrom as usize, [conn as usize, buf.as_mut_ptr() as usize, buf.len(), MSG_DONTWAIT, 0, 0]) } {
            Ok(0) => return Err(EIO),
            Ok(n) => return Ok(n),
            Err(EAGAIN) | Err(EINTR) => sys::sched_yield(),
            Err(e) => return Err(e),
        }
    }
    recv(conn, buf)
}

/// The calling thread's connection, made on first use.
fn conn(t: &mut ThreadBlock) -> Result<i32, i32> {
    let fd = t.tracer_fd.load(Ordering::Relaxed);
    if fd > 0 {
        return Ok(fd);
    }
    let mut pair = [0i32; 2];
    // SAFETY: socketpair writes two ints into `pair`.
    unsafe {
        sys::raw(Sysno::socketpair as usize, [AF_UNIX as usize, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair.as_mut_ptr() as usize, 0, 0])?;
    }
    let mut f = [0u8; 16];
    let n = wire::encode_up(&Up::Connect { pid: sys::getpid(), tid: t.tid() }, &mut f).map_err(|_| EIO)?;
    let sent = send(MAIN.load(Ordering::Relaxed), &f[..n], Some(pair[1]));
    sys::close(pair[1]);
    if let Err(e) = sent {
        sys::close(pair[0]);
        return Err(e);
    }
    let fd = ownfd::adopt_fd(pair[0])?;
    t.tracer_fd.store(fd, Ordering::Relaxed);
    Ok(fd)
}

/// Writes into a frame, cutting what does not fit (a `...` marks the cut).
struct Frame<'a> {
    buf: &'a mut [u8],
    len: usize,
    cut: bool,
}

impl Write for Frame<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() {
            self.cut = true;
            return Err(core::fmt::Error);
        }
        Ok(())
    }
}

/// What the tracers decided on a call.
pub enum Decision {
    /// Make the call (with the arguments as the tracers left them).
    Proceed,
    /// Make it, then report its result (`result`) under this number.
    Step(u32),
    /// Do not make it: the program gets this (a value or -errno).
    Return(isize),
}

/// Asks the tracers about call `nr`; `args` become the arguments they
/// rewrote it with (strings in the thread's own buffer). `orig`: the
/// arguments as the program passed them, where `set` writes.
pub fn ask(t: &mut ThreadBlock, nr: usize, args: &mut [usize; 6], orig: &[usize; 6]) -> Decision {
    let Ok(c) = conn(t) else {
        detach();
        return Decision::Proceed;
    };
    let mut buf = [0u8; wire::MAX_FRAME];
    let words = args.map(|a| a as u64);
    let head = Up::Call { pid: sys::getpid(), tid: t.tid(), nr: nr as u32, args: words, text: &[] };
    let Ok(h) = wire::encode_up(&head, &mut buf) else { return Decision::Proceed };
    // The text leaves room at the end for the `...` of a cut line.
    let limit = buf.len() - 8;
    let mut w = Frame { buf: &mut buf[..limit], len: h, cut: false };
    let _ = trace::write_call_text(&mut w, nr, args);
    let (mut len, cut) = (w.len, w.cut);
    if cut {
        buf[len..len + 3].copy_from_slice(b"...");
        len += 3;
    }
    let answer = ask_hub(c, len, &mut buf);
    let Ok(n) = answer else {
        detach();
        return Decision::Proceed;
    };
    let Ok(Down::Verdict { action, strmask, seq, value, args: new, blob, sets }) = wire::decode_down(&buf[..n]) else {
        return Decision::Proceed;
    };
    apply_sets(orig, sets);
    if action == wire::RETURN {
        return Decision::Return(value as isize);
    }
    if action == wire::DETACH {
        detach();
    }
    if strmask != 0 {
        t.tracer_strs[..blob.len()].copy_from_slice(blob);
    }
    let base = t.tracer_strs.as_ptr() as usize;
    for (i, a) in args.iter_mut().enumerate() {
        *a = if strmask & (1 << i) != 0 { base + new[i] as usize } else { new[i] as usize };
    }
    if action == wire::STEP {
        Decision::Step(seq)
    } else {
        Decision::Proceed
    }
}

/// `set` lines: bytes written where argument I pointed as the program
/// passed it (a pointer the program cannot write is left alone).
fn apply_sets(orig: &[usize; 6], sets: &[u8]) {
    for (i, bytes) in wire::Sets(sets) {
        if let Some(&addr) = orig.get(i as usize) {
            if addr != 0 && !bytes.is_empty() {
                let _ = usermem::write(addr, bytes);
            }
        }
    }
}

/// The stepped call `seq` returned `ret` (a value or -errno): the tracers
/// see it and give the value the program gets (after their `set`s).
pub fn result(t: &mut ThreadBlock, seq: u32, ret: isize, orig: &[usize; 6]) -> isize {
    let Ok(c) = conn(t) else { return ret };
    let mut buf = [0u8; wire::MAX_FRAME];
    let Ok(n) = wire::encode_up(&Up::Result { seq, ret: ret as i64 }, &mut buf) else { return ret };
    let Ok(n) = ask_hub(c, n, &mut buf) else {
        detach();
        return ret;
    };
    match wire::decode_down(&buf[..n]) {
        Ok(Down::Final { seq: s, value, sets }) if s == seq => {
            apply_sets(orig, sets);
            value as isize
        }
        _ => ret,
    }
}

/// A stepped call goes through the tail gate: its number (and the table's
/// own `After` word) wait here for the post trap. False when the thread
/// is too deep in signal handlers' stepped calls (the call then is not
/// reported).
pub fn push_step(t: &mut ThreadBlock, seq: u32, after: usize) -> bool {
    if t.tracer_depth >= t.tracer_steps.len() {
        return false;
    }
    t.tracer_steps[t.tracer_depth] = (seq, after);
    t.tracer_depth += 1;
    true
}

/// The innermost stepped call's number and `After` word, at its post trap.
pub fn pop_step(t: &mut ThreadBlock) -> Option<(u32, usize)> {
    t.tracer_depth = t.tracer_depth.checked_sub(1)?;
    Some(t.tracer_steps[t.tracer_depth])
}

/// A signal about to reach the program's handler or default action: the
/// signal the program gets (the same, another) or None (suppressed).
pub fn signal(t: &mut ThreadBlock, sig: usize, info: *const u8) -> Option<usize> {
    if !active() {
        return Some(sig);
    }
    if t.tracer_pass_sig == sig as i32 {
        t.tracer_pass_sig = 0;
        return Some(sig);
    }
    let Ok(c) = conn(t) else { return Some(sig) };
    let mut si = [0u8; 128];
    // SAFETY: the kernel's siginfo_t for this signal, 128 bytes.
    unsafe { core::ptr::copy_nonoverlapping(info, si.as_mut_ptr(), 128) };
    let mut buf = [0u8; 1024];
    let head = Up::Signal { pid: sys::getpid(), tid: t.tid(), sig: sig as u32, text: &[] };
    let Ok(h) = wire::encode_up(&head, &mut buf) else { return Some(sig) };
    let mut w = Frame { buf: &mut buf, len: h, cut: false };
    let _ = trace::write_signal_text(&mut w, sig, &si);
    let len = w.len;
    let Ok(n) = ask_hub(c, len, &mut buf) else {
        detach();
        return Some(sig);
    };
    match wire::decode_down(&buf[..n]) {
        Ok(Down::Signal { sig: 0 }) => None,
        Ok(Down::Signal { sig: s }) if s as usize == sig => Some(sig),
        Ok(Down::Signal { sig: s }) if (1..=64).contains(&s) => {
            // Another signal instead: this one goes, that one is sent to
            // this thread and reaches the program unasked.
            t.tracer_pass_sig = s;
            let _ = sys::tgkill(sys::getpid(), t.tid(), s);
            None
        }
        _ => Some(sig),
    }
}

/// The process ends: exit_group's status (0..=255), or -SIG for a signal
/// that kills it by default.
pub fn exiting(t: &mut ThreadBlock, status: i32) {
    if !active() {
        return;
    }
    let Ok(c) = conn(t) else { return };
    let mut buf = [0u8; 16];
    if let Ok(n) = wire::encode_up(&Up::Exit { pid: sys::getpid(), tid: t.tid(), status }, &mut buf) {
        let _ = send(c, &buf[..n], None);
    }
}

/// In a fork child: the thread's connection is the parent's.
pub fn forked(t: &mut ThreadBlock) {
    let fd = t.tracer_fd.swap(0, Ordering::Relaxed);
    if fd > 0 {
        ownfd::release_fd(fd);
    }
    t.tracer_depth = 0;
}

/// preld's fd `old` moved to `new` (the application dup2'ed onto it).
pub fn relocated(old: i32, new: i32) {
    let _ = MAIN.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    crate::thread::live_conn_fds(|_, _, fd| {
        let _ = fd.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    });
}

/// preld's vDSO's interceptor: a time call some tracer subscribed to is
/// asked about like a trapped one (it runs in the program's context, so
/// signals are blocked meanwhile). None: not subscribed, the vDSO serves it.
pub fn vdso_call(nr: usize, args: &[usize; 6]) -> Option<isize> {
    if !may_want(nr) {
        return None;
    }
    let all: u64 = !0;
    let mut old: u64 = 0;
    let mask = |how: usize, set: usize, old: usize| {
        // SAFETY: rt_sigprocmask with valid 8-byte masks.
        unsafe { sys::raw(Sysno::rt_sigprocmask as usize, [how, set, old, 8, 0, 0]) }
    };
    if mask(0, &all as *const u64 as usize, &mut old as *mut u64 as usize).is_err() {
        return None;
    }
    // SAFETY: a thread of the program, set up by preld; with every signal
    // blocked no SIGSYS handler runs on it while the block is used here.
    let t = unsafe { crate::thread::current() };
    let mut a = *args;
    let make = |a: &[usize; 6]| {
        // SAFETY: a time call (clock_gettime, gettimeofday, time, getcpu,
        // clock_getres) with the program's arguments or the tracer's: the
        // kernel checks the pointers.
        unsafe { sys::raw(nr, *a) }.map_or_else(|e| -(e as isize), |v| v as isize)
    };
    let r = match ask(t, nr, &mut a, args) {
        Decision::Return(v) => v,
        Decision::Proceed => make(&a),
        Decision::Step(seq) => {
            let r = make(&a);
            result(t, seq, r, args)
        }
    };
    let _ = mask(2, &old as *const u64 as usize, 0);
    Some(r)
}
