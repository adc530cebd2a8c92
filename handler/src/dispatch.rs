//! The transfer table: what happens to each system call, by number.
//!
//! Most calls have no entry and are made as the application made them,
//! through the tail gate (with the application's signal mask, so blocking
//! calls, EINTR and SA_RESTART behave as natively). An entry answers a call
//! itself, rewrites its arguments, or asks to see its result afterwards.

use preld_arch::Ucontext;
use syscalls::Sysno;

use crate::thread::ThreadBlock;
use crate::{clone, config, exec, fast, fds, memory, pathmap, pola, rpc, signals, sys, trace, trap};
use preld_arch::fast::Gate;

/// A trapped call being served.
pub struct Call<'a> {
    pub t: &'a mut ThreadBlock,
    pub uc: &'a mut Ucontext,
    pub nr: usize,
    /// The arguments the real call will get (an entry may rewrite them).
    pub args: [usize; 6],
    /// The arguments as the application passed them.
    pub orig: [usize; 6],
}

/// What an entry decided.
pub enum Outcome {
    /// Answer the application with this (a value or -errno).
    Return(isize),
    /// Make the call with `args`.
    Real,
    /// Make the call with `args`, then pass its result through `After`.
    RealThen(After),
    /// The entry redirected the context itself (clone, sigreturn).
    Diverted,
}

/// Sees a real call's result (raw: value or -errno) and returns the one the
/// application gets. Runs in a second trap, with the original arguments.
pub type After = fn(t: &mut ThreadBlock, nr: usize, orig: &[usize; 6], ret: isize) -> isize;

type Entry = fn(&mut Call<'_>) -> Outcome;

/// A row of the transfer table: the entry that serves the call (None: made
/// as the application made it), and the gate a rewritten site may make it
/// through (see `fast_gate`; None: the handler must see every such call).
#[derive(Clone, Copy)]
struct Route {
    entry: Option<Entry>,
    gate: Option<Gate>,
}

const TABLE_LEN: usize = 512;

const fn table() -> [Route; TABLE_LEN] {
    let mut t = [Route { entry: None, gate: Some(Gate::Plain) }; TABLE_LEN];
    macro_rules! set {
        ($f:expr => $($nr:ident),+) => { $( t[Sysno::$nr as usize] = Route { entry: Some($f), gate: None }; )+ };
        ($f:expr, $g:expr => $($nr:ident),+) => { $( t[Sysno::$nr as usize] = Route { entry: Some($f), gate: Some($g) }; )+ };
    }
    set!(signals::rt_sigreturn => rt_sigreturn);
    set!(signals::rt_sigaction => rt_sigaction);
    set!(signals::rt_sigprocmask => rt_sigprocmask);
    set!(signals::rt_sigpending => rt_sigpending);
    set!(signals::sigaltstack => sigaltstack);
    set!(signals::mask_arg => rt_sigsuspend, ppoll, pselect6, epoll_pwait, epoll_pwait2);
    set!(signals::prctl => prctl);
    set!(signals::seccomp => seccomp);
    set!(signals::arch_prctl => arch_prctl);
    set!(clone::clone => clone, clone3, fork, vfork);
    set!(clone::exit => exit);
    set!(exec::execve => execve, execveat);
    set!(exec::readlink => readlink, readlinkat);
    set!(exit_group => exit_group);
    set!(ptrace => ptrace);
    // memory::guard and fast::memory_call look only at fixed mappings.
    set!(memory::guard, Gate::MmapNotFixed => mmap);
    set!(memory::guard => munmap, mprotect, pkey_mprotect, mremap, madvise, shmat);
    set!(fds::guard => dup2, dup3, close_range);
    // The fd guard only refuses preld's own fds: the Fd gate checks that.
    set!(fds::guard, Gate::Fd => close, fcntl, fstat, newfstatat, statx, lseek, fstatfs, read, write, pread64, pwrite64,
        readv, writev, ioctl, fsync, fdatasync, ftruncate, fchmod, fchown, flock, fchdir, sendfile, splice);
    // Only while preld holds no fd (then listings need filtering): see fast_gate.
    set!(fds::getdents, Gate::Fd => getdents64);
    set!(fds::rlimit => setrlimit, prlimit64);
    t
}

static TABLE: [Route; TABLE_LEN] = table();

fn exit_group(c: &mut Call<'_>) -> Outcome {
    trace::exiting(c.t, c.nr, &c.orig);
    fast::report();
    Outcome::Real
}

/// ptrace(PTRACE_TRACEME): from now on every SIGSYS would stop this
/// process for its tracer, which is typically its vfork parent, waiting
/// for this child's exec: a deadlock (gdb starting its inferior). Under a
/// debugger a program runs without preld, so the trap goes off here and
/// the exec that follows is the kernel's own. (A session refuses ptrace
/// before this.)
fn ptrace(c: &mut Call<'_>) -> Outcome {
    const PTRACE_TRACEME: usize = 0;
    if c.args[0] != PTRACE_TRACEME {
        return Outcome::Real;
    }
    // SAFETY: the application's own ptrace(PTRACE_TRACEME).
    let r = unsafe { sys::raw(c.nr, c.args) };
    match r {
        Ok(v) => {
            if trap::disarm().is_err() {
                sys::exit_group(127);
            }
            trace::flush(c.t);
            Outcome::Return(v as isize)
        }
        Err(e) => Outcome::Return(-(e as isize)),
    }
}

/// How a rewritten site of call `nr` may make it without the handler: its
/// row's gate, unless the call is traced, served by a session, or takes a
/// path to map. None: every such call needs the handler.
pub fn fast_gate(nr: usize) -> Option<Gate> {
    use Sysno::*;
    let route = TABLE.get(nr)?;
    if trace::may_want(nr) || (rpc::active() && pola::serves(nr)) {
        return None;
    }
    let cfg = config::get();
    if cfg.rewrites_paths() && pathmap::takes_paths(nr) {
        // Launcher mode's /proc/self/exe: the gate sends /proc/ paths back,
        // for the calls whose effect it can take back (none, or an fd).
        if !cfg.maps.is_empty() {
            return None;
        }
        return match Sysno::new(nr)? {
            stat | lstat | access => Some(Gate::Path0),
            open => Some(Gate::Path0Open),
            newfstatat | statx | faccessat | faccessat2 => Some(Gate::Path1),
            openat => Some(Gate::Path1Open),
            _ => None,
        };
    }
    if nr == getdents64 as usize && fds::any_own() {
        return None;
    }
    route.gate
}

/// Serves a system call the application trapped on.
pub fn dispatch(t: &mut ThreadBlock, uc: &mut Ucontext) {
    let nr = uc.rax();
    let args = uc.args();
    if fast::enabled() {
        fast::on_trap(t, nr, uc.rip(), || fast_gate(nr));
    }
    let mut c = Call { t, uc, nr, args, orig: args };
    // First: an entry that never comes back here (rt_sigreturn, exit) or
    // records the call itself finds it marked and timed.
    let traced = trace::before(c.t, nr, &c.orig);
    let session = if rpc::active() { pola::serve(&mut c) } else { None };
    let mut outcome = match session {
        Some(o) => o,
        None => match TABLE.get(nr).and_then(|r| r.entry) {
            Some(f) => f(&mut c),
            None => Outcome::Real,
        },
    };
    if matches!(outcome, Outcome::Real | Outcome::RealThen(_)) && config::get().rewrites_paths() {
        if let Err(e) = pathmap::rewrite(&mut c) {
            outcome = Outcome::Return(-(e as isize));
        }
    }
    match outcome {
        Outcome::Return(r) => {
            c.uc.set_rax(r as usize);
            if traced {
                trace::record(c.t, nr, &c.orig, r);
            }
        }
        Outcome::Real if traced && trace::nonblocking(nr) && !signals::seccomp_filtered() => {
            // Cannot block: make it here and trace it in one trap.
            // SAFETY: the application's call, with arguments it chose (or
            // paths rewritten into preld's buffers); preld's own memory is
            // guarded by the table's entries.
            let r = unsafe { sys::raw(c.nr, c.args) }.map_or_else(|e| -(e as isize), |v| v as isize);
            c.uc.set_rax(r as usize);
            trace::record(c.t, nr, &c.orig, r);
        }
        Outcome::Real | Outcome::RealThen(_) => {
            if traced {
                // The call may block for long, or for good: what was traced
                // so far is written first.
                trace::flush(c.t);
            }
            let after = match outcome {
                Outcome::RealThen(f) => f as usize,
                _ => 0,
            };
            let post = (after != 0 || traced).then_some([nr, after]);
            // An entry may have changed the call itself (execveat → execve).
            c.uc.set_rax(c.nr);
            c.uc.set_args(&c.args);
            // SAFETY: the application's stack has room for a signal frame,
            // so for the 80-byte slot.
            unsafe { c.uc.divert_to_tail(&c.orig, post) };
        }
        Outcome::Diverted => {}
    }
}

/// The second trap of a call made through `tail_gate_post`.
pub fn tail_post(t: &mut ThreadBlock, uc: &mut Ucontext) {
    let ret = uc.rax() as isize;
    let (orig, [nr, after]) = uc.tail_state();
    let ret = if after != 0 {
        // SAFETY: the word was stored by `dispatch` from an `After`. (An
        // application that forges a post trap calls its own code.)
        let f: After = unsafe { core::mem::transmute::<usize, After>(after) };
        f(t, nr, &orig, ret)
    } else {
        ret
    };
    uc.finish_tail(ret as usize);
    if trace::wants(t, nr) {
        trace::record(t, nr, &orig, ret);
    }
}
