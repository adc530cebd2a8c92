//! `preld trace`: strace-style lines for the calls of the traced threads,
//! buffered per thread in its block and written to the trace fd in whole
//! lines, without a round trip per call.

pub mod decode;
mod fdinfo;
mod more;
mod siginfo;

use core::fmt::Write;
use core::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};

use preld_arch::Ucontext;
use syscalls::Sysno;

use crate::abi::{CLD_DUMPED, CLD_KILLED, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_THREAD_CPUTIME_ID, SIG_BLOCK, SIG_SETMASK};
use crate::thread::{Interrupted, ThreadBlock, TRACE_BUF};
use crate::{abi, config, ownfd, sys, usermem};

/// The thread traced without --trace-follow (the process's first thread).
static MAIN_TID: AtomicI32 = AtomicI32::new(0);

/// The decoder reads the application's memory through usermem, so a bad
/// pointer prints as an address instead of faulting; `saved` is what
/// `decode::snapshot` read before the call.
struct AppMemory {
    saved: Option<u32>,
    /// -y: an fd argument's decoration as it was before the call (close).
    before: Option<(i32, [u8; 512], usize)>,
}

impl decode::Memory for AppMemory {
    fn read(&self, addr: usize, buf: &mut [u8]) -> bool {
        usermem::read(addr, buf)
    }

    fn saved(&self) -> Option<u32> {
        self.saved
    }

    fn fd_info(&self, out: &mut dyn Write, fd: i32, returned: bool) -> core::fmt::Result {
        more::fd_info(out, fd, returned, self.before.as_ref().map(|(f, b, n)| (*f, &b[..*n])))
    }
}

const MEM: AppMemory = AppMemory { saved: None, before: None };

/// Appends to a thread's trace buffer; a line longer than the buffer (a big
/// `-s`) is written out in pieces.
struct Line<'a>(&'a mut ThreadBlock);

impl Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let t = &mut *self.0;
        let mut s = s.as_bytes();
        while !s.is_empty() {
            if t.trace_len == TRACE_BUF {
                flush(t);
            }
            let n = s.len().min(TRACE_BUF - t.trace_len);
            t.trace[t.trace_len..t.trace_len + n].copy_from_slice(&s[..n]);
            t.trace_len += n;
            s = &s[n..];
        }
        Ok(())
    }
}

/// Called once at startup, on the first thread.
pub fn start(t: &mut ThreadBlock) {
    set_json_seq(config::get().json_seq);
    if let Some(prefix) = per_process() {
        // The output is this process's file, unless it came from another
        // process (a vfork child's exec: the parent's file).
        match config::get().trace.as_ref().and_then(|tr| tr.ff_owner) {
            Some(owner) if owner != sys::getpid() => own_file(prefix),
            _ => FF_PID.store(sys::getpid(), Ordering::Relaxed),
        }
    }
    if let Some(tr) = config::get().trace.as_ref() {
        decode::set_max_str(tr.strsize);
        decode::set_hex(tr.more.hex);
    }
    let root = config::get().trace.as_ref().and_then(|tr| tr.root);
    MAIN_TID.store(root.unwrap_or_else(|| t.tid()), Ordering::Relaxed);
}

/// The traced program's first thread (for `--trace-root` across exec).
pub fn root() -> i32 {
    MAIN_TID.load(Ordering::Relaxed)
}

/// Whether this thread's call `nr` is traced.
/// Whether call `nr` may be traced in some thread of this process.
pub fn may_want(nr: usize) -> bool {
    if !config::tracing() {
        return false;
    }
    match config::get().trace.as_ref().map(|t| &t.filter) {
        None => false,
        Some(None) => true,
        Some(Some(f)) => nr >= 512 || f[nr / 64] & (1 << (nr % 64)) != 0,
    }
}

pub fn wants(t: &mut ThreadBlock, nr: usize) -> bool {
    if !config::tracing() {
        return false;
    }
    let Some(tr) = config::get().trace.as_ref() else { return false };
    if !tr.follow && t.tid() != MAIN_TID.load(Ordering::Relaxed) {
        return false;
    }
    if !more::may_match_paths(nr) {
        return false;
    }
    match &tr.filter {
        None => true,
        Some(f) => nr < 512 && f[nr / 64] & (1 << (nr % 64)) != 0,
    }
}

fn following() -> bool {
    config::get().trace.as_ref().is_some_and(|t| t.follow)
}

/// -ff: a file per process, whose lines have no `[pid N]`.
fn per_process() -> Option<&'static [u8]> {
    config::get().trace.as_ref().and_then(|t| t.ff.as_deref())
}

/// The process whose FILE.PID the trace output is (-ff).
static FF_PID: AtomicI32 = AtomicI32::new(0);

/// -ff: the trace output becomes FILE.PID of this process (made anew),
/// under the same fd number.
fn own_file(prefix: &[u8]) {
    let pid = sys::getpid();
    let mut path = alloc::vec::Vec::from(prefix);
    let _ = write!(Bytes(&mut path), ".{pid}");
    let fd = ownfd::get(ownfd::TRACE);
    let flags = abi::O_WRONLY | abi::O_CREAT | abi::O_TRUNC | abi::O_APPEND | abi::O_CLOEXEC;
    if let (true, Ok(f)) = (fd >= 0, sys::open_mode(&sys::CPath::new(&path), flags, 0o644)) {
        let _ = sys::dup3(f, fd, abi::O_CLOEXEC);
        sys::close(f);
    }
    FF_PID.store(pid, Ordering::Relaxed);
}

/// The pid whose file the output is, for the next exec's `--trace-ff-owner`.
pub fn ff_owner() -> Option<i32> {
    per_process().map(|_| FF_PID.load(Ordering::Relaxed))
}

/// `write!` into a byte vector.
struct Bytes<'a>(&'a mut alloc::vec::Vec<u8>);
impl Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn prefix(w: &mut Line<'_>) {
    let tid = w.0.tid();
    prefix_for(w, tid);
}

fn prefix_for(w: &mut Line<'_>, tid: i32) {
    prefix_at(w, tid, None);
}

/// `[pid N] ` with -f for threads other than the first, then with -t the
/// time `when` (nanoseconds since the epoch; None: now).
fn prefix_at(w: &mut Line<'_>, tid: i32, when: Option<u64>) {
    if json() {
        // The launcher's JSON converter reads these (server/src/json.rs).
        let seq = JSON_SEQ.fetch_add(1, Ordering::Relaxed);
        let _ = write!(w, "\x1e{} {tid} {seq} {}\t", sys::getpid(), when.unwrap_or_else(now_ns));
        return;
    }
    if following() && per_process().is_none() && tid != MAIN_TID.load(Ordering::Relaxed) {
        let _ = write!(w, "[pid {tid:>5}] ");
    }
    let Some(tr) = config::get().trace.as_ref() else { return };
    if tr.time == 0 {
        return;
    }
    let ns = when.unwrap_or_else(now_ns);
    let (secs, micros) = (ns / 1_000_000_000, ns % 1_000_000_000 / 1000);
    if tr.time >= 3 {
        let _ = write!(w, "{secs}.{micros:06} ");
        return;
    }
    let local = (secs as i64 + tr.tz_offset).rem_euclid(86_400);
    let _ = write!(w, "{:02}:{:02}:{:02}", local / 3600, local / 60 % 60, local % 60);
    let _ = if tr.time == 2 { write!(w, ".{micros:06} ") } else { w.write_str(" ") };
}

/// strace's alignment of results: a line whose call ends before column
/// 39 is padded so that ` = ` starts there (`close(3)` then spaces, then
/// `= 0` at column 40).
fn align_result(w: &mut Line<'_>, line_start: usize) {
    const RESULT_COLUMN: usize = 39;
    if json() {
        return;
    }
    // (A line flushed in pieces has lost its start: left as it is.)
    if let Some(col) = w.0.trace_len.checked_sub(line_start) {
        for _ in col..RESULT_COLUMN {
            let _ = w.write_str(" ");
        }
    }
}

/// The number of the next --json line of this process.
static JSON_SEQ: AtomicU64 = AtomicU64::new(0);

/// The next --json line number, for the exec that goes on numbering them
/// (`--trace-json-seq`), and where a new image starts.
pub fn json_seq() -> u64 {
    JSON_SEQ.load(Ordering::Relaxed)
}

pub fn set_json_seq(n: u64) {
    JSON_SEQ.store(n, Ordering::Relaxed);
}

/// --json: lines for the launcher's converter.
fn json() -> bool {
    config::get().trace.as_ref().is_some_and(|tr| tr.more.json)
}

/// The wall clock, for -t and -T.
fn now_ns() -> u64 {
    sys::clock_gettime(CLOCK_REALTIME).unwrap_or_default().ns()
}

/// Whether lines carry times (-t) or durations (-T).
fn timed() -> bool {
    config::get().trace.as_ref().is_some_and(|tr| tr.time != 0 || tr.durations)
}

/// Called when a call is trapped, before it is made: whether it is traced;
/// if it is, remembers it (an exit_group elsewhere shows it unfinished) and
/// what of its inputs the call will overwrite.
pub fn before(t: &mut ThreadBlock, nr: usize, args: &[usize; 6]) -> bool {
    if !wants(t, nr) || !more::matches_paths(nr, args) {
        return false;
    }
    more::before(t, nr, args);
    // Known from here on, so that an exit_group elsewhere can name this thread.
    t.tid();
    t.trace_pending = nr + 1;
    t.trace_pending_args = *args;
    t.trace_saved = decode::snapshot(nr, args, &MEM);
    if let Some(mode) = counting() {
        t.trace_start_ns = clock(mode);
    } else if timed() {
        t.trace_start_ns = now_ns();
    }
    true
}

/// With -c: the clock calls are timed with (1: the thread's CPU time, 2:
/// monotonic wall time, -w); None without -c.
fn counting() -> Option<u8> {
    config::get().trace.as_ref().map(|tr| tr.count).filter(|&c| c != 0)
}

fn clock(mode: u8) -> u64 {
    let id = if mode == 2 { CLOCK_MONOTONIC } else { CLOCK_THREAD_CPUTIME_ID };
    sys::clock_gettime(id).unwrap_or_default().ns()
}

/// -c's counts of this process (since its exec): calls, errors, nanoseconds.
static COUNTS: [[AtomicU64; 3]; 512] = [const { [const { AtomicU64::new(0) }; 3] }; 512];

fn count(nr: usize, ret: isize, ns: u64) {
    if let Some(c) = COUNTS.get(nr) {
        c[0].fetch_add(1, Ordering::Relaxed);
        if (-4095..0).contains(&ret) {
            c[1].fetch_add(1, Ordering::Relaxed);
        }
        c[2].fetch_add(ns, Ordering::Relaxed);
    }
}

/// -c: this process's counts as records `NR CALLS ERRORS NS`, one per call
/// made, for the launcher to add up; then zero (before an exec, the new
/// image counts afresh).
pub fn write_counts(t: &mut ThreadBlock) {
    if counting().is_none() {
        return;
    }
    flush(t);
    for (nr, c) in COUNTS.iter().enumerate() {
        let calls = c[0].swap(0, Ordering::Relaxed);
        let (errors, ns) = (c[1].swap(0, Ordering::Relaxed), c[2].swap(0, Ordering::Relaxed));
        if calls != 0 {
            if t.trace_len > TRACE_BUF - 128 {
                flush(t);
            }
            let _ = writeln!(Line(t), "{nr} {calls} {errors} {ns}");
        }
    }
    flush(t);
}

/// A child killed by a signal writes no line of its own; strace shows
/// `[pid N] +++ killed by SIGx +++` when it dies. With -f, the line comes
/// when its parent reaps it (wait4, waitid), before the reaping call.
fn reaped_killed_child(w: &mut Line<'_>, nr: usize, args: &[usize; 6], pid: i32) {
    if !following() {
        return;
    }
    let (sig, core) = match Sysno::new(nr).unwrap_or(Sysno::read) {
        Sysno::wait4 if args[1] != 0 => {
            let mut st = [0u8; 4];
            if !usermem::read(args[1], &mut st) {
                return;
            }
            let st = i32::from_ne_bytes(st);
            // WIFSIGNALED: the low 7 bits are the signal, neither 0 nor 0x7f.
            let sig = st & 0x7f;
            if sig == 0 || sig == 0x7f {
                return;
            }
            (sig, st & 0x80 != 0)
        }
        Sysno::waitid if args[2] != 0 => {
            // siginfo: si_code at 8, si_pid at 16, si_status at 24.
            let mut si = [0u8; 28];
            if !usermem::read(args[2], &mut si) {
                return;
            }
            let word = |o: usize| i32::from_ne_bytes([si[o], si[o + 1], si[o + 2], si[o + 3]]);
            let code = word(8);
            if code != CLD_KILLED && code != CLD_DUMPED {
                return;
            }
            let _ = pid;
            return killed_line(w, word(16), word(24), code == CLD_DUMPED);
        }
        _ => return,
    };
    killed_line(w, pid, sig, core);
}

/// Children whose `+++ killed by` line was shown by the first of their
/// SIGCHLD and their reap (the second shows none).
static SHOWN_KILLED: [AtomicI32; 16] = [const { AtomicI32::new(0) }; 16];
static SHOWN_NEXT: AtomicUsize = AtomicUsize::new(0);

/// `[pid N] +++ killed by SIGx +++`, once per child.
fn killed_line(w: &mut Line<'_>, pid: i32, sig: i32, core: bool) {
    if let Some(s) = SHOWN_KILLED.iter().find(|s| s.load(Ordering::Relaxed) == pid) {
        s.store(0, Ordering::Relaxed);
        return;
    }
    let i = SHOWN_NEXT.fetch_add(1, Ordering::Relaxed) % SHOWN_KILLED.len();
    SHOWN_KILLED[i].store(pid, Ordering::Relaxed);
    prefix_for(w, pid);
    let _ = w.write_str("+++ killed by ");
    let _ = siginfo::signal_name(w, sig);
    let _ = w.write_str(if core { " (core dumped) +++\n" } else { " +++\n" });
}

/// Records a finished call.
/// `ThreadBlock::trace_tamper` bits: the call was answered by -e inject=
/// (` (INJECTED)`), or delayed (` (DELAYED)`).
pub const TAMPER_INJECTED: u8 = 1;
pub const TAMPER_DELAYED: u8 = 2;

pub fn record(t: &mut ThreadBlock, nr: usize, args: &[usize; 6], ret: isize) {
    let saved = core::mem::take(&mut t.trace_saved);
    let tamper = core::mem::take(&mut t.trace_tamper);
    t.trace_pending = 0;
    // The child's side of a fork or clone: strace shows the call once, in
    // the parent, with the child's pid.
    if ret == 0 && is_clone(nr) {
        return;
    }
    let before = more::take_before(t);
    if let Some(mode) = counting() {
        count(nr, ret, clock(mode).saturating_sub(t.trace_start_ns));
        return;
    }
    if !more::shown(Some(ret)) {
        return;
    }
    if t.trace_len > TRACE_BUF - 1024 {
        flush(t);
    }
    let mem = AppMemory { saved, before };
    let mut w = Line(t);
    if ret > 0 {
        reaped_killed_child(&mut w, nr, args, ret as i32);
    }
    let start = w.0.trace_start_ns;
    let tid = w.0.tid();
    let line_start = w.0.trace_len;
    prefix_at(&mut w, tid, Some(start));
    let _ = decode::write_call(&mut w, nr, args, &mem, Some(ret));
    align_result(&mut w, line_start);
    let _ = decode::write_result_in(&mut w, nr, args, &mem, ret);
    if tamper & TAMPER_INJECTED != 0 {
        let _ = w.write_str(" (INJECTED)");
    }
    if tamper & TAMPER_DELAYED != 0 {
        let _ = w.write_str(" (DELAYED)");
    }
    if config::get().trace.as_ref().is_some_and(|tr| tr.durations) {
        let d = now_ns().saturating_sub(start);
        let _ = write!(w, " <{}.{:06}>", d / 1_000_000_000, d % 1_000_000_000 / 1000);
    }
    let _ = w.write_str("\n");
    // A call that may have blocked: show what happened so far.
    if !nonblocking(nr) || t.trace_len > TRACE_BUF / 2 {
        flush(t);
    }
}

/// A signal handler is entered with `frame`: keeps the traced call the
/// thread is blocked in, if any.
pub fn enter_handler(t: &mut ThreadBlock, frame: usize) {
    if t.trace_pending == 0 || !config::tracing() {
        return;
    }
    if t.trace_nest_len == t.trace_nest.len() {
        // Deeper than kept: the oldest goes (abandoned by siglongjmp, or
        // shown with the inner call's times).
        t.trace_nest.copy_within(1.., 0);
        t.trace_nest_len -= 1;
    }
    let i = t.trace_nest_len;
    t.trace_nest[i] =
        Interrupted { frame, pending: t.trace_pending, args: t.trace_pending_args, saved: t.trace_saved, start_ns: t.trace_start_ns };
    t.trace_nest_len = i + 1;
}

/// The handler of `frame` returns (its rt_sigreturn): the call it
/// interrupted is the thread's again. Frames above it in the list were
/// left by siglongjmp and go too.
fn leave_handler(t: &mut ThreadBlock, frame: usize) {
    let n = t.trace_nest_len;
    if let Some(i) = t.trace_nest[..n].iter().rposition(|s| s.frame == frame) {
        let s = t.trace_nest[i];
        t.trace_pending = s.pending;
        t.trace_pending_args = s.args;
        t.trace_saved = s.saved;
        t.trace_start_ns = s.start_ns;
        t.trace_nest_len = i;
    }
}

/// The application's rt_sigreturn, made from the gate (it never returns
/// to the handler): shown with the mask its frame restores and the rax it
/// puts back, as strace shows it.
/// An rt_sigreturn, before it is served: its line (with the mask and
/// result the frame restores), and the handler's own traced calls are
/// done: the call it interrupted is the one the thread is in again
/// (after this line, shown first).
pub fn sigreturn_call(t: &mut ThreadBlock, uc: &Ucontext) {
    let mask = uc.app_frame_sigmask();
    if wants(t, Sysno::rt_sigreturn as usize) {
        let (mut m, mut rax) = ([0usize; 1], [0usize; 1]);
        if usermem::read_words(mask as usize, &mut m) && usermem::read_words(uc.app_frame_rax() as usize, &mut rax) {
            sigreturn(t, m[0] as u64, rax[0]);
        }
    }
    leave_handler(t, uc.rsp());
}

fn sigreturn(t: &mut ThreadBlock, mask: u64, rax: usize) {
    let nr = Sysno::rt_sigreturn as usize;
    if !wants(t, nr) {
        return;
    }
    t.trace_pending = 0;
    if counting().is_some() {
        count(nr, 0, 0);
        return;
    }
    if !more::shown(Some(rax as isize)) {
        return;
    }
    if t.trace_len > TRACE_BUF - 1024 {
        flush(t);
    }
    let start = t.trace_start_ns;
    let mut w = Line(t);
    let tid = w.0.tid();
    let line_start = w.0.trace_len;
    prefix_at(&mut w, tid, Some(start));
    let _ = decode::write_sigreturn(&mut w, mask);
    align_result(&mut w, line_start);
    let _ = decode::write_result(&mut w, nr, &[0; 6], rax as isize);
    let _ = w.write_str("\n");
}

/// The vDSO's observer when the trace asks for time calls: it runs in the
/// program's own context (a plain call, not a trap), so it blocks signals
/// while it touches the thread's buffer.
pub fn vdso_call(nr: usize, args: &[usize; 6], ret: isize) {
    let mut old: u64 = 0;
    if sys::rt_sigprocmask(SIG_BLOCK, Some(&!0), Some(&mut old)).is_err() {
        return;
    }
    // SAFETY: a thread of the program, set up by preld; with every signal
    // blocked no SIGSYS handler runs on it while the block is used here.
    let t = unsafe { crate::thread::current() };
    if wants(t, nr) {
        if timed() {
            t.trace_start_ns = now_ns();
        }
        record(t, nr, args, ret);
    }
    let _ = sys::rt_sigprocmask(SIG_SETMASK, Some(&old), None);
}

fn is_clone(nr: usize) -> bool {
    use Sysno::*;
    [clone as usize, clone3 as usize, fork as usize, vfork as usize].contains(&nr)
}

/// A call that does not return (exit, exit_group): shown now, `= ?`, then
/// with -f strace's `+++ exited with N +++` for the threads it ends: the
/// caller, and for exit_group the process's other threads (their calls in
/// progress first, `= ?`). The first thread's line is the launcher's, which
/// knows how the process really ended; a thread killed by a signal is not
/// seen here.
pub fn exiting(t: &mut ThreadBlock, nr: usize, args: &[usize; 6]) {
    if !config::tracing() {
        return;
    }
    if counting().is_some() {
        // Calls that do not return are not counted (as strace); the
        // process's counts go out with its end.
        t.trace_pending = 0;
        if nr == Sysno::exit_group as usize {
            write_counts(t);
        }
        return;
    }
    let status = args[0] as i32 & 0xff;
    if wants(t, nr) && more::shown(None) {
        let mut w = Line(t);
        let line_start = w.0.trace_len;
        prefix(&mut w);
        let _ = decode::write_call(&mut w, nr, args, &MEM, None);
        align_result(&mut w, line_start);
        let _ = w.write_str(" = ?\n");
    }
    t.trace_pending = 0;
    if !following() {
        if config::get().attached && nr == Sysno::exit_group as usize {
            let tid = t.tid();
            exited_line(t, tid, status);
        }
        flush(t);
        return;
    }
    let root = MAIN_TID.load(Ordering::Relaxed);
    if nr == Sysno::exit_group as usize {
        let me = t.slot;
        crate::thread::for_each_other_thread(me, |tid, pending, pargs| {
            if pending != 0 && wants(t, pending - 1) && more::shown(None) {
                if t.trace_len > TRACE_BUF - 1024 {
                    flush(t);
                }
                let mut w = Line(t);
                prefix_for(&mut w, tid);
                let _ = decode::write_call(&mut w, pending - 1, &pargs, &MEM, None);
                let _ = w.write_str(" = ?\n");
            }
        });
        crate::thread::for_each_other_thread(me, |tid, _, _| {
            if tid != root {
                exited_line(t, tid, status);
            }
        });
    }
    let tid = t.tid();
    // The root's is the launcher's, which waits for it; unless it came by
    // `preld trace -p`, which cannot.
    if tid != root || config::get().attached {
        exited_line(t, tid, status);
    }
    flush(t);
}

fn exited_line(t: &mut ThreadBlock, tid: i32, status: i32) {
    if more::quiet_exits() {
        return;
    }
    if t.trace_len > TRACE_BUF - 256 {
        flush(t);
    }
    let mut w = Line(t);
    prefix_for(&mut w, tid);
    let _ = writeln!(w, "+++ exited with {status} +++");
}

/// The first line of a traced program, as strace shows the execve that
/// started it: written by ld-preld at startup.
pub fn announce_exec(t: &mut ThreadBlock, path: &[u8], argv: &[&[u8]], envp: usize, envc: usize) {
    if !wants(t, Sysno::execve as usize) || !more::exec_shown(path) {
        return;
    }
    if counting().is_some() {
        count(Sysno::execve as usize, 0, 0);
        return;
    }
    let mut w = Line(t);
    prefix(&mut w);
    let _ = w.write_str("execve(");
    let _ = decode::write_quoted(&mut w, path, usize::MAX);
    let _ = w.write_str(", [");
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            let _ = w.write_str(", ");
        }
        let _ = decode::write_quoted(&mut w, a, 32);
    }
    let s = if envc == 1 { "" } else { "s" };
    let _ = write!(w, "], {envp:#x} /* {envc} var{s} */) = 0\n");
    flush(t);
}

/// Writes the thread's buffered lines.
pub fn flush(t: &mut ThreadBlock) {
    if t.trace_len == 0 {
        return;
    }
    let fd = ownfd::get(ownfd::TRACE);
    if fd >= 0 {
        let _ = sys::write_all(fd, &t.trace[..t.trace_len]);
    }
    t.trace_len = 0;
}

/// In a fork child: lines buffered before the fork were the parent's, and
/// without --trace-follow the child is not traced.
pub fn forked(t: &mut ThreadBlock) {
    t.trace_len = 0;
    if let Some(prefix) = per_process() {
        if config::get().trace.as_ref().is_some_and(|t| t.follow) {
            own_file(prefix);
        }
    }
    // A new process numbers its own --json lines.
    JSON_SEQ.store(0, Ordering::Relaxed);
    // The parent's counts are the parent's to write.
    for c in COUNTS.iter().flatten() {
        c.store(0, Ordering::Relaxed);
    }
    if !config::get().trace.as_ref().is_some_and(|t| t.follow) {
        config::stop_tracing();
    }
}

/// Calls that never block for long: made inside the handler when traced,
/// so that one trap shows their result.
pub fn nonblocking(nr: usize) -> bool {
    use Sysno::*;
    let Some(n) = Sysno::new(nr) else { return false };
    matches!(
        n,
        getpid | getppid | gettid | getuid | geteuid | getgid | getegid | getgroups | getpgrp | getpgid | getsid
            | getresuid | getresgid | brk | mmap | munmap | mprotect | mremap | madvise | close | fstat | newfstatat
            | stat | lstat | statx | lseek | getcwd | readlink | readlinkat | access | faccessat | faccessat2
            | uname | arch_prctl | set_tid_address | set_robust_list | rseq | prlimit64 | getrlimit | setrlimit
            | rt_sigaction | sigaltstack | getdents64 | getrandom | umask | dup | dup2 | dup3 | pipe | pipe2
            | socket | socketpair | getsockname | getpeername | setsockopt | getsockopt | fcntl
            | sched_getaffinity | sched_yield | clock_gettime | clock_getres | gettimeofday | time | times
            | sysinfo | getrusage | getpriority | getcpu | mkdir | mkdirat | rmdir | unlink | unlinkat | rename
            | renameat | renameat2 | symlink | symlinkat | link | linkat | chmod | fchmod | fchmodat | chown
            | fchown | lchown | fchownat | truncate | ftruncate | utimensat | eventfd2 | epoll_create1
            | epoll_ctl | timerfd_create | timerfd_settime | signalfd4 | inotify_init1 | inotify_add_watch
            | memfd_create | statfs | fstatfs | kill | tgkill | tkill | personality | prctl | capget
            | close_range | getxattr | lgetxattr | fgetxattr | listxattr | llistxattr | flistxattr
    )
}

/// A signal on its way to the application's handler (or killing it, for
/// SIGSYS), as strace shows it: `--- SIGUSR1 {si_signo=...} ---`.
pub fn signal(t: &mut ThreadBlock, sig: usize, info: *const u8) {
    if !config::tracing() || counting().is_some() {
        return;
    }
    let Some(tr) = config::get().trace.as_ref() else { return };
    if !tr.follow && t.tid() != MAIN_TID.load(Ordering::Relaxed) {
        return;
    }
    let mut b = [0u8; 128];
    // SAFETY: the kernel's siginfo_t for this signal, 128 bytes.
    unsafe { core::ptr::copy_nonoverlapping(info, b.as_mut_ptr(), 128) };
    if t.trace_len > TRACE_BUF - 1024 {
        flush(t);
    }
    let mut w = Line(t);
    if sig == 17 {
        // SIGCHLD for a child killed by a signal: its `+++ killed by` line
        // comes now, when it died, as strace shows it (not at the reap).
        let word = |o: usize| i32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let (code, pid, status) = (word(8), word(16), word(24));
        if following() && (code == CLD_KILLED || code == CLD_DUMPED) && pid > 0 {
            killed_line(&mut w, pid, status, code == CLD_DUMPED);
        }
    }
    prefix(&mut w);
    let _ = siginfo::write_signal(&mut w, sig as i32, &b);
    let _ = w.write_str("\n");
    flush(t);
}

/// `NAME(ARGS)` of call `nr` as it is about to be made, strace's syntax
/// (the external tracers' `call` line: output arguments show as pointers).
pub fn write_call_text(w: &mut impl Write, nr: usize, args: &[usize; 6]) -> core::fmt::Result {
    decode::write_call(w, nr, args, &MEM, None)
}

/// `SIGNAME {si_signo=..., si_code=...}`: a signal as the external tracers'
/// `signal` line shows it (strace's `--- ... ---` line without the dashes).
pub fn write_signal_text(w: &mut impl Write, sig: usize, info: &[u8; 128]) -> core::fmt::Result {
    struct Strip<'a, W: Write>(&'a mut W, usize);
    impl<W: Write> Write for Strip<'_, W> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            // Drops the leading `--- ` (and the trailing ` ---`, written last).
            let skip = self.1.min(s.len());
            self.1 -= skip;
            match &s[skip..] {
                "} ---" => self.0.write_str("}"),
                rest => self.0.write_str(rest),
            }
        }
    }
    siginfo::write_signal(&mut Strip(w, 4), sig as i32, info)
}

/// Lines buffered for the external tracers are none: the strace lines'
/// decoder limit (`-s`) applies to both (set here when only tracers run).
pub fn set_strsize(n: usize) {
    decode::set_max_str(n);
}
