//! The transfer table: what happens to each system call, by number.
//!
//! Most calls have no entry and are made as the application made them,
//! through the tail gate (with the application's signal mask, so blocking
//! calls, EINTR and SA_RESTART behave as natively). An entry answers a call
//! itself, rewrites its arguments, or asks to see its result afterwards.

use preld_arch::fast::Gate;
use preld_arch::{Ucontext, TAIL_SLOT_LEN};
use syscalls::Sysno;

use crate::abi::PTRACE_TRACEME;
use crate::call::{After, Call, Outcome};
use crate::thread::ThreadBlock;
use crate::tracer::{self, Decision};
use crate::{clockcalls, clone, config, exec, fast, fds, inject, memory, ownfd, pathmap, pola, resident, rpc, signals, sud, sys, trace, usermem};

type Entry = fn(&mut Call<'_>) -> Outcome;

/// A row of the transfer table. Two layers: `session`, the capability
/// session's entry (consulted first, while a session is active), and
/// `entry`, the base layer's (None: made as the application made it); an
/// entry may answer `Outcome::Next` to hand the call on to the layer
/// below. `gate`: how a rewritten site may make the call without the
/// handler (see `fast_gate`; None: the handler must see every such call).
#[derive(Clone, Copy)]
struct Route {
    session: Option<Entry>,
    entry: Option<Entry>,
    gate: Option<Gate>,
}

const TABLE_LEN: usize = 512;

const fn table() -> [Route; TABLE_LEN] {
    let mut t = [Route { session: None, entry: None, gate: Some(Gate::Plain) }; TABLE_LEN];
    // The base layer: every process under preld.
    macro_rules! set {
        ($f:expr => $($nr:ident),+) => { $( t[Sysno::$nr as usize].entry = Some($f); t[Sysno::$nr as usize].gate = None; )+ };
        ($f:expr, $g:expr => $($nr:ident),+) => { $( t[Sysno::$nr as usize].entry = Some($f); t[Sysno::$nr as usize].gate = Some($g); )+ };
    }
    // The session layer (pola.rs): every call that names a file is the
    // capability server's; calls that would go around it are refused.
    macro_rules! session {
        ($f:expr => $($nr:ident),+) => { $( t[Sysno::$nr as usize].session = Some($f); )+ };
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
    // Only /proc/self/exe and its kin need the handler: the handler gate
    // makes every other readlink without a trap (`exec::readlink_in_gate`).
    set!(exec::readlink, Gate::Handler => readlink, readlinkat);
    set!(exit_group => exit_group);
    set!(ptrace => ptrace);
    // memory::guard and fast::memory_call look only at fixed mappings.
    // (A fixed mmap goes from its gate to the handler gate, as munmap and
    // mprotect do: memory::serve_in_gate.)
    set!(memory::guard, Gate::MmapNotFixed => mmap);
    set!(memory::guard, Gate::Handler => munmap, mprotect);
    set!(memory::guard => pkey_mprotect, mremap, madvise, shmat);
    set!(memory::forget_pages => shmdt, process_madvise, remap_file_pages);
    set!(memory::seal => mseal);
    // brk through the handler gate, which makes it without a trap (cc1
    // calls it 45 times) and the page cache forgets around it.
    set!(memory::forget_pages, Gate::Handler => brk);
    set!(memory::access_unknowable => pkey_alloc, io_uring_setup, userfaultfd);
    set!(fds::guard => dup2, dup3, close_range);
    set!(fds::unshare => unshare);
    // The fd guard only refuses preld's own fds: the Fd gate checks that.
    // The close gate counts each fd's closes (beneath.rs keeps what it
    // learnt of an fd while its count stands).
    set!(fds::guard, Gate::Close => close);
    set!(fds::guard, Gate::Fd => fcntl, fstat, newfstatat, statx, lseek, fstatfs, read, write, pread64, pwrite64,
        readv, writev, fsync, fdatasync, fchmod, fchown, flock, fchdir);
    // A second fd in the second or third argument: its gate looks at those
    // too (Gate::Fds; session-18b adversary).
    set!(fds::guard, Gate::Fds => sendfile, splice, epoll_ctl);
    // Every other call whose first argument is an fd (those with an fd
    // further on too: fds::guard looks at it): dup gave the program a copy
    // of the session's connection, bind put a socket over it, shutdown,
    // recvmsg, getsockopt, preadv, poll-free probes... reached preld's fds,
    // which now lie among the program's numbers (from 1008 up; session-17
    // adversary, test `preld_s_fds_are_no_fds_of_the_program_s`).
    set!(fds::guard, Gate::Fd => dup, preadv, pwritev, preadv2, pwritev2, readahead, fadvise64, sync_file_range, syncfs,
        fgetxattr, fsetxattr, flistxattr, fremovexattr, vmsplice, connect, bind, listen, accept,
        accept4, shutdown, getsockopt, setsockopt, getsockname, getpeername, sendto, recvfrom, sendmsg, recvmsg,
        sendmmsg, recvmmsg, epoll_wait, inotify_rm_watch, fanotify_mark);
    // (Their second fd is looked at only here: rare calls, they trap.)
    set!(fds::guard => copy_file_range, tee, pidfd_getfd, kcmp);
    // More calls on an fd, first argument (session-17c adversary: they
    // reached the session's connection: ENODEV, EINVAL, EBADFD where
    // natively EBADF), and the rare ones that trap: an fd in SCM_RIGHTS
    // (sendmsg, sendmmsg: `fast_gate` keeps them trapping while preld has
    // fds), waitid's P_PIDFD.
    set!(fds::guard, Gate::Fd => signalfd4, timerfd_gettime, setns, landlock_restrict_self, landlock_add_rule,
        pidfd_send_signal, process_mrelease, inotify_add_watch, fsconfig, quotactl_fd, cachestat);
    set!(fds::guard => fallocate, waitid);
    // poll and select of preld's fds (POLLNVAL, EBADF: fds::guard): made
    // as they come, but where preld holds fds, when the handler gate looks
    // at them first (`fast_gate`).
    set!(fds::guard, Gate::Plain => poll, select);
    // ... and userfaultfd's ranges keep off preld's memory.
    set!(memory::ioctl, Gate::Ioctl => ioctl);
    // Calls that may cut a file short under a mapping: the handler sees
    // each (memory::truncates), so none has a gate.
    set!(fds::guard => ftruncate);
    macro_rules! no_gate {
        ($($nr:ident),+) => { $( t[Sysno::$nr as usize].gate = None; )+ };
    }
    no_gate!(truncate, fallocate, creat, openat2);
    // Only while preld holds no fd (then listings need filtering): see fast_gate.
    set!(fds::getdents, Gate::Fd => getdents64);
    set!(fds::rlimit => setrlimit, prlimit64);
    // Virtual time (clockcalls.rs): Real at once while it is off; while it
    // is on, fast_gate keeps these calls trapping.
    set!(clockcalls::clock_gettime, Gate::Plain => clock_gettime);
    set!(clockcalls::gettimeofday, Gate::Plain => gettimeofday);
    set!(clockcalls::time, Gate::Plain => time);
    set!(clockcalls::clock_nanosleep, Gate::Plain => clock_nanosleep);
    set!(clockcalls::nanosleep, Gate::Plain => nanosleep);
    set!(clockcalls::timerfd_settime, Gate::Plain => timerfd_settime);
    set!(clockcalls::timer_settime, Gate::Plain => timer_settime);
    set!(clockcalls::futex, Gate::Plain => futex);
    set!(clockcalls::futex_waitv, Gate::Plain => futex_waitv);
    set!(clockcalls::mq_timed, Gate::Plain => mq_timedsend, mq_timedreceive);

    session!(pola::open => open);
    session!(pola::creat => creat);
    session!(pola::openat => openat);
    session!(pola::openat2 => openat2);
    session!(pola::stat => stat, lstat, newfstatat, statx, fstat);
    session!(pola::access => access, faccessat, faccessat2);
    session!(pola::readlink => readlink, readlinkat);
    session!(pola::one_path => mkdir, mkdirat, mknod, mknodat, rmdir, unlink, unlinkat, truncate, chmod, fchmodat, fchmodat2, utimensat);
    session!(pola::two_paths => rename, renameat, renameat2, link, linkat, symlink, symlinkat);
    session!(pola::chown => chown, lchown, fchownat, fchown);
    session!(pola::fchmod => fchmod);
    session!(pola::chdir => chdir, fchdir);
    session!(pola::getcwd => getcwd);
    session!(pola::getdents => getdents64);
    session!(pola::socket_address => connect, bind);
    session!(pola::send_to => sendto, sendmsg);
    session!(pola::sock_name => getsockname, getpeername);
    session!(pola::ptrace => ptrace);
    session!(pola::refuse => io_uring_setup, io_uring_enter, io_uring_register, process_vm_readv,
        process_vm_writev, open_by_handle_at, name_to_handle_at, mount, umount2, pivot_root, chroot,
        uselib, acct, swapon, swapoff, bpf, kexec_load, kexec_file_load, init_module,
        finit_module, delete_module, quotactl, fanotify_init, fanotify_mark, open_tree, move_mount, fsopen, fsmount,
        fspick, mount_setattr, inotify_add_watch, utime, utimes, futimesat, memfd_secret, userfaultfd,
        perf_event_open, lookup_dcookie);
    session!(pola::statfs => statfs);
    session!(pola::xattr => getxattr, lgetxattr, listxattr, llistxattr, setxattr, lsetxattr, removexattr,
        lremovexattr);
    t
}

/// The functions behind `After`: each sees a real call's result.
fn after_fn(a: After) -> fn(&mut ThreadBlock, usize, &[usize; 6], isize) -> isize {
    match a {
        After::ExecFailed => exec::failed,
        After::RlimitSet => fds::after_rlimit,
        After::HideOwnFds => fds::hide_own_in_listing,
        After::TracerStep => tracer_step_after,
        After::SleepRemaining => clockcalls::sleep_remaining,
        After::PagesForgotten => |_, _, _, ret| ret,
    }
}

/// The post trap of a call a tracer stepped: the table's own continuation
/// first (kept with the step), then the tracers see the result and give
/// the program's.
fn tracer_step_after(t: &mut ThreadBlock, nr: usize, orig: &[usize; 6], ret: isize) -> isize {
    // (A forged slot that names this finds no step, or takes an outer
    // one's: the program confuses only its own tracers.)
    let Some((seq, inner)) = tracer::pop_step(t) else { return ret };
    let ret = match After::from_word(inner).filter(|&a| a != After::TracerStep) {
        Some(a) => after_fn(a)(t, nr, orig, ret),
        None => ret,
    };
    tracer::result(t, seq, ret, orig)
}

static TABLE: [Route; TABLE_LEN] = table();

fn exit_group(_c: &mut Call<'_>) -> Outcome {
    fast::report();
    rpc::exiting();
    Outcome::Real
}

/// ptrace(PTRACE_TRACEME): from now on every SIGSYS would stop this
/// process for its tracer, which is typically its vfork parent, waiting
/// for this child's exec: a deadlock (gdb starting its inferior). Under a
/// debugger a program runs without preld, so the trap goes off here and
/// the exec that follows is the kernel's own. (A session refuses ptrace
/// before this.)
fn ptrace(c: &mut Call<'_>) -> Outcome {
    if c.args[0] != PTRACE_TRACEME {
        return Outcome::Real;
    }
    // SAFETY: the application's own ptrace(PTRACE_TRACEME).
    let r = unsafe { sys::raw(c.nr, c.args) };
    match r {
        Ok(v) => {
            if sud::disarm().is_err() {
                sys::exit_group(127);
            }
            trace::flush(c.t);
            Outcome::Return(v as isize)
        }
        Err(e) => Outcome::Return(-(e as isize)),
    }
}

/// How a rewritten site of call `nr` may make it without the handler: its
/// row's gate, unless the call is traced, served by a session, takes a
/// path to map, or is a time call under virtual time. None: every such call needs the handler.
pub fn fast_gate(nr: usize) -> Option<Gate> {
    use Sysno::*;
    let route = TABLE.get(nr)?;
    if tracer::may_want(nr) || clockcalls::traps(nr) {
        return None;
    }
    if trace::may_want(nr) {
        return traced_in_gate(nr, route).then_some(Gate::Handler);
    }
    if rpc::active() && route.session.is_some() && !(nr == fstat as usize && !crate::owners::on()) {
        // The session's path calls that it may serve beneath a grant in
        // the process go through its gate; the others trap. (fstat is the
        // session's only for the owners in a session of an ordinary user.)
        let gated = [open, openat, stat, lstat, newfstatat, statx, fstat, access, faccessat, faccessat2, readlink, readlinkat, getdents64, getcwd];
        if !crate::beneath::active() || !gated.iter().any(|&s| s as usize == nr) {
            return None;
        }
        // A stat of one name beside a grant's directory fd is made in the
        // arch gate itself where it can be (and its owners need no fixing:
        // the gate looks); every other goes on to the handler gate from
        // there.
        // So is an open for reading beneath a grant by an absolute path
        // (`fast_gate_session_open`).
        let open_gate = crate::beneath::open_gate_armed();
        return Some(match Sysno::new(nr) {
            Some(newfstatat) => Gate::StatBeside,
            Some(open) if open_gate => Gate::SessionOpen,
            Some(openat) if open_gate => Gate::SessionOpenAt,
            // A listing of a grant's directory: the kernel's, in the arch
            // gate (`fast_gate_listing`).
            Some(getdents64) => Gate::Listing,
            _ => Gate::Handler,
        });
    }
    let session_copies = rpc::active() && crate::beneath::active();
    if (nr == fcntl as usize || (session_copies && nr == dup as usize)) && route.gate == Some(Gate::Fd) {
        // A copy of a directory fd takes what was learnt of the original
        // (`fast_gate_dup`): find stats beside and lists through copies.
        // fcntl's everywhere: its F_DUPFD_QUERY names a second fd, which
        // must not be one of preld's (the Fd gate looked at the first only).
        return Some(Gate::Dup);
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
            readlink | readlinkat => Some(Gate::Handler),
            _ => None,
        };
    }
    if (nr == getdents64 as usize || nr == sendmsg as usize || nr == sendmmsg as usize) && ownfd::any_own() {
        // (A listing of /proc/self/fd, an SCM_RIGHTS message: fds::guard.)
        return None;
    }
    if (nr == poll as usize || nr == select as usize) && ownfd::any_own() {
        return Some(Gate::Handler);
    }
    if nr == madvise as usize && !crate::sud::seccomp_filtered() {
        // Most advice is made in the handler gate (memory::serve_in_gate);
        // the rest traps from there.
        return Some(Gate::Handler);
    }
    route.gate
}

/// Whether a traced call is one the handler would make in its trap and
/// trace in one go (it cannot block, nothing in the table serves it, no
/// tamper, no path rewrite, no filter of the application's that must see
/// it made from its own code): then the handler gate makes and traces it
/// without a trap.
fn traced_in_gate(nr: usize, route: &Route) -> bool {
    let cfg = config::get();
    trace::nonblocking(nr)
        && route.entry.is_none()
        && route.gate == Some(Gate::Plain)
        && !(rpc::active() && route.session.is_some())
        && cfg.inject.is_empty()
        && !(cfg.rewrites_paths() && pathmap::takes_paths(nr))
        && !tracer::may_want(nr)
        && !clockcalls::traps(nr)
        && !crate::sud::seccomp_filtered()
}

/// The fast path's handler gate (`preld_gate_serve`): a session's call
/// served beneath a grant in the process (pola.rs), or a traced call made
/// and traced as the trap path would, without a trap. None: nothing was
/// done; the site's own `syscall` traps.
pub fn gate_serve(t: &mut ThreadBlock, nr: usize, args: [usize; 6]) -> Option<isize> {
    // A seccomp filter of the program's: its SECCOMP_RET_TRAP's SIGSYS,
    // raised by a call made here (signals put off), reached the program's
    // handler after the gate, whose answer (rax) it set in vain (a
    // session's getdents64 answered with its number, 217). The trap path
    // makes such a process's calls from the tail gate, where it reaches
    // the handler as natively (session-24 adversary).
    if crate::sud::seccomp_filtered() {
        return None;
    }
    // A session's path calls, first: nothing below but the session serves
    // them (the routing table, the memory calls' checks), and their
    // walk beneath a grant costs less than that (an open: 1655 ns the pair
    // with a close, 1047 under `preld run`, Landlock 250 of the
    // difference). Not an open that may truncate: the page cache must
    // forget first (`memory::forgets_pages`). An open for reading by an
    // absolute path first, in few instructions (`pola::gate_open`).
    if session_path_call(nr, &args) && rpc::active() && !trace::may_want(nr) && !tracer::may_want(nr) {
        if let Some(r) = pola::gate_open(t, nr, &args) {
            return r;
        }
        return pola::gate_serve(t, nr, args);
    }
    let route = TABLE.get(nr)?;
    let forgets = memory::forgets_pages(nr, &args);
    if forgets {
        usermem::mappings_begin();
    }
    let r = gate_serve_call(t, nr, args, route);
    if forgets {
        // (Not served here: the trap path begins anew.)
        usermem::mappings_end();
    }
    r
}

/// Whether call `nr` is one of the path calls the handler gate serves for
/// a session (`fast_gate`'s list, but fstat), and takes nothing the page
/// cache must forget (an open with O_TRUNC).
fn session_path_call(nr: usize, a: &[usize; 6]) -> bool {
    use Sysno::*;
    const CALLS: [Sysno; 13] = [open, openat, stat, lstat, newfstatat, statx, access, faccessat, faccessat2, readlink, readlinkat, getdents64, getcwd];
    CALLS.iter().any(|&s| s as usize == nr) && !memory::truncates(nr, a)
}

fn gate_serve_call(t: &mut ThreadBlock, nr: usize, args: [usize; 6], route: &Route) -> Option<isize> {
    if (nr == Sysno::poll as usize || nr == Sysno::select as usize) && !trace::may_want(nr) && !tracer::may_want(nr) && config::get().inject.is_empty() {
        // Looked at for preld's fds here; made by the gate itself (it may
        // wait) unless one is there.
        let own = match nr == Sysno::poll as usize {
            true => fds::own_in_poll(args[0], args[1]),
            false => fds::own_in_select(args[0], [args[1], args[2], args[3]]).then_some(-(crate::errno::EBADF as isize)),
        };
        return Some(own.unwrap_or(preld_arch::fast::HANDLER_GATE_MAKE));
    }
    if nr == Sysno::brk as usize && !trace::may_want(nr) && !tracer::may_want(nr) && config::get().inject.is_empty() && !crate::sud::seccomp_filtered() {
        // SAFETY: the application's brk with its argument: it moves the
        // program's break, never into preld's memory (the kernel places
        // the heap; preld's image and slots are mappings it will not
        // grow over).
        let r = unsafe { sys::raw(nr, args) }.map_or_else(|e| -(e as isize), |v| v as isize);
        memory::brk_made(r);
        return Some(r);
    }
    if !trace::may_want(nr) && !tracer::may_want(nr) && config::get().inject.is_empty() {
        if let Some(r) = memory::serve_in_gate(nr, &args) {
            return Some(r);
        }
    }
    if rpc::active() && route.session.is_some() && !(nr == Sysno::fstat as usize && !crate::owners::on()) {
        return pola::gate_serve(t, nr, args);
    }
    if (nr == Sysno::readlink as usize || nr == Sysno::readlinkat as usize)
        && !trace::may_want(nr)
        && !tracer::may_want(nr)
        && config::get().maps.is_empty()
        && !crate::sud::seccomp_filtered()
    {
        return exec::readlink_in_gate(nr, args);
    }
    // (Asked again: tracing may have changed since the site was rewritten.)
    if !trace::may_want(nr) || !traced_in_gate(nr, route) {
        return None;
    }
    let traced = trace::before(t, nr, &args);
    // SAFETY: the application's call with its own arguments, one that
    // cannot block, as the trap path makes it for a traced call (see
    // `dispatch`): nothing in the table guards it.
    let r = unsafe { sys::raw(nr, args) }.map_or_else(|e| -(e as isize), |v| v as isize);
    if traced {
        trace::record(t, nr, &args, r);
    }
    Some(r)
}

/// Serves a system call the application trapped on.
pub fn dispatch(t: &mut ThreadBlock, uc: &mut Ucontext) {
    let nr = uc.rax();
    let args = uc.args();
    if fast::enabled() {
        fast::on_trap(t, nr, uc.rip(), || fast_gate(nr));
    }
    let forgets = memory::forgets_pages(nr, &args);
    if forgets {
        usermem::mappings_begin();
    }
    let mut c = Call { t, uc, nr, args, orig: args, forked_child: false };
    // First: an entry that never comes back here (rt_sigreturn, exit) or
    // records the call itself finds it marked and timed.
    let traced = trace::before(c.t, nr, &c.orig);
    // strace's -e inject=: only calls that are traced are tampered with.
    let rules: &[inject::Rule] = if traced { &config::get().inject } else { &[] };
    let tampered = if rules.is_empty() { None } else { inject::enter(&mut c.t.inject_count, rules, nr) };
    if let Some((_, Some(answer))) = tampered {
        // Not made at all (strace makes it call -1 instead).
        inject::exit(c.t.tid(), rules, nr);
        c.t.trace_tamper = tamper_marks(tampered);
        c.uc.set_rax(answer as usize);
        trace::record(c.t, nr, &c.orig, answer);
        if forgets {
            usermem::mappings_end();
        }
        return;
    }
    if config::tracing() {
        trace_before_serving(&mut c);
    }
    // The external tracers see the call as the program made it; their
    // rewrite goes through the table like the program's own arguments.
    let mut step = None;
    if tracer::may_want(nr) {
        match tracer::ask(c.t, nr, &mut c.args, &c.orig) {
            Decision::Proceed => {}
            Decision::Step(seq) => step = Some(seq),
            Decision::Return(r) => {
                c.uc.set_rax(r as usize);
                if traced {
                    trace::record(c.t, nr, &c.orig, r);
                }
                if forgets {
                    usermem::mappings_end();
                }
                return;
            }
        }
    }
    if nr == Sysno::exit_group as usize && tracer::active() {
        tracer::exiting(c.t, c.args[0] as i32 & 0xff);
    }
    let mut outcome = serve(&mut c);
    if config::tracing() {
        trace_after_serving(&mut c, &outcome);
    }
    if c.forked_child {
        tracer::forked(c.t);
        // The child's side of a stepped fork is the parent's to report.
        step = None;
    }
    if matches!(outcome, Outcome::Real | Outcome::RealThen(_)) && config::get().rewrites_paths() {
        if let Err(e) = pathmap::rewrite(&mut c) {
            outcome = Outcome::Return(-(e as isize));
        }
    }
    if forgets {
        match outcome {
            // Made (by an entry, or the server): forgotten after it too.
            Outcome::Return(_) | Outcome::Diverted => usermem::mappings_end(),
            // A change of the mappings, which cannot block: made here, so
            // that its end is never lost (from the tail gate, a signal
            // handler that jumped out between the call and its post trap
            // left every copy of every thread to the kernel for good).
            Outcome::Real if memory::changes_mappings(nr) && !crate::sud::seccomp_filtered() => {
                // SAFETY: the application's own call with its arguments,
                // which `memory::guard` has kept off preld's memory (as
                // from the tail gate); none of these blocks.
                let r = unsafe { sys::raw(c.nr, c.args) }.map_or_else(|e| -(e as isize), |v| v as isize);
                usermem::mappings_end();
                outcome = Outcome::Return(r);
            }
            // Made from the tail gate: its post trap forgets.
            Outcome::Real | Outcome::Next => {
                outcome = Outcome::RealThen(After::PagesForgotten);
                c.t.change_open = true;
            }
            // (its post trap likewise: `after_call`)
            Outcome::RealThen(_) => c.t.change_open = true,
        }
    }
    match outcome {
        Outcome::Return(r) => {
            let r = match step {
                Some(seq) => tracer::result(c.t, seq, r, &c.orig),
                None => r,
            };
            c.uc.set_rax(r as usize);
            if tampered.is_some() {
                inject::exit(c.t.tid(), rules, nr);
                c.t.trace_tamper = tamper_marks(tampered);
            }
            if traced {
                trace::record(c.t, nr, &c.orig, r);
            }
        }
        Outcome::Real if (traced || step.is_some()) && trace::nonblocking(nr) && !crate::sud::seccomp_filtered() => {
            // Cannot block: make it here and trace it in one trap.
            // SAFETY: the application's call, with arguments it chose (or
            // paths rewritten into preld's buffers, or a tracer's). The
            // table's entries keep it from changing preld's mappings and
            // fds; a pointer argument into preld's memory is not checked:
            // the kernel writes there as it would from the tail gate (and
            // the application can write there itself).
            let r = unsafe { sys::raw(c.nr, c.args) }.map_or_else(|e| -(e as isize), |v| v as isize);
            if forgets {
                usermem::mappings_end();
            }
            let r = match step {
                Some(seq) => tracer::result(c.t, seq, r, &c.orig),
                None => r,
            };
            c.uc.set_rax(r as usize);
            if tampered.is_some() {
                inject::exit(c.t.tid(), rules, nr);
                c.t.trace_tamper = tamper_marks(tampered);
            }
            if traced {
                trace::record(c.t, nr, &c.orig, r);
            }
        }
        // (serve turns a last Next into Real)
        Outcome::Real | Outcome::RealThen(_) | Outcome::Next => {
            if traced {
                // The call may block for long, or for good: what was traced
                // so far is written first.
                trace::flush(c.t);
            }
            let mut after = match outcome {
                Outcome::RealThen(a) => a.word(),
                _ => 0,
            };
            if let Some(seq) = step {
                // The table's own continuation waits with the step.
                if tracer::push_step(c.t, seq, after) {
                    after = After::TracerStep.word();
                }
            }
            if tampered.is_some() {
                after |= TAMPERED_EXIT;
            }
            if traced {
                after |= TRACED_EXIT;
            }
            let post = (after != 0).then_some([nr, after]);
            // An entry may have changed the call itself (execveat → execve).
            c.uc.set_rax(c.nr);
            c.uc.set_args(&c.args);
            match c.uc.tail_slot() {
                Some(slot) if app_writable(slot, TAIL_SLOT_LEN) => {
                    // SAFETY: app_writable has just checked the slot: the
                    // application's, writable, none of preld's.
                    unsafe { c.uc.divert_to_tail(&c.orig, post) };
                }
                _ => no_room_for_tail(&mut c, nr, after, traced),
            }
        }
        Outcome::Diverted => {}
    }
}

/// Whether [addr, addr + len) is application memory preld may write: none
/// of preld's resident memory, and writable (the kernel has just written
/// there). The fast path's stub pages, preld's too, are never writable
/// while another thread can trap (they are written only while the process
/// has one thread): the probe refuses them without taking their lock.
fn app_writable(addr: usize, len: usize) -> bool {
    !resident::touches(addr, len) && usermem::probe_writable(addr, len)
}

/// A real call whose tail slot cannot be written below the application's
/// rsp: unmapped or read-only memory, preld's own, or no room below it.
/// Natively the call would be made (a bad rsp only matters at the next
/// push or signal frame), so a call that cannot block (or never returns)
/// is made here, where no signal can come during it anyway, and the
/// thread goes on with the bad rsp as natively. One that may block would
/// keep every signal out for as long as it blocks here (and some, like
/// rt_sigsuspend or execve, depend on the mask the call is made with):
/// the thread takes the SIGSEGV the kernel gives when it cannot write a
/// signal frame (`stack_fault`), which natively the first signal during
/// the call would have brought. So does every call once the application
/// has a seccomp filter (none of its calls is made in the handler then).
fn no_room_for_tail(c: &mut Call<'_>, nr: usize, after: usize, traced: bool) {
    let here = trace::nonblocking(c.nr) || c.nr == Sysno::exit as usize || c.nr == Sysno::exit_group as usize;
    c.uc.set_args(&c.orig);
    if !here || crate::sud::seccomp_filtered() {
        c.uc.set_rax(nr);
        c.uc.divert_to_stack_fault();
        return;
    }
    // SAFETY: the application's call, as the tail gate would have made it
    // (arguments as rewritten); as for a traced call made here above, the
    // entries guard preld's mappings and fds, not its memory from pointer
    // arguments.
    let r = unsafe { sys::raw(c.nr, c.args) }.map_or_else(|e| -(e as isize), |v| v as isize);
    let r = after_call(c.t, nr, &c.orig, after, r);
    c.uc.set_rax(r as usize);
    if traced {
        trace::record(c.t, nr, &c.orig, r);
    }
}

/// What follows a real call made through the tail gate (or in its stead),
/// by the word stored for it: its `After`, and the exit actions of a call
/// -e inject= tampered with. A word that names no continuation (0, or one
/// an application forged in the slot) runs none; a forged tamper bit only
/// delays or signals as the rules say anyway.
fn after_call(t: &mut ThreadBlock, nr: usize, orig: &[usize; 6], word: usize, ret: isize) -> isize {
    if core::mem::take(&mut t.change_open) {
        // (Whatever the word: a traced call's post trap, or a step's; not
        // a post trap the application forged, nor one whose change a
        // signal ended: `change_made`.)
        usermem::mappings_end();
    }
    let ret = match After::from_word(word & !(TAMPERED_EXIT | TRACED_EXIT)) {
        Some(a) => after_fn(a)(t, nr, orig, ret),
        None => ret,
    };
    if word & TAMPERED_EXIT != 0 {
        let rules = &config::get().inject;
        inject::exit(t.tid(), rules, nr);
        let delayed = inject::rule(rules, nr).is_some_and(|r| r.delay_enter_ns != 0 || r.delay_exit_ns != 0);
        t.trace_tamper = if delayed { trace::TAMPER_DELAYED } else { 0 };
    }
    ret
}

/// In the tail slot's continuation word, beside an `After`: the call was
/// tampered with (-e inject=) and its exit actions are due in the post trap.
const TAMPERED_EXIT: usize = 1 << 16;
/// ... and that the call was traced as it was made (its line comes from
/// the post trap).
const TRACED_EXIT: usize = 1 << 17;

/// How a tampered call's trace line is marked.
fn tamper_marks(t: Option<(inject::Tampered, Option<isize>)>) -> u8 {
    match t {
        Some((t, _)) => (if t.injected { trace::TAMPER_INJECTED } else { 0 }) | (if t.delayed { trace::TAMPER_DELAYED } else { 0 }),
        None => 0,
    }
}

/// What the tracer learns of a call before the table serves it: the line
/// of a call that does not return (exit, exit_group) goes out now; what was
/// traced before a clone is written before the child copies the buffer; an
/// rt_sigreturn ends a signal handler's traced calls.
fn trace_before_serving(c: &mut Call<'_>) {
    use Sysno::*;
    match Sysno::new(c.nr) {
        Some(exit | exit_group) => trace::exiting(c.t, c.nr, &c.orig),
        Some(clone | clone3 | fork | vfork) => trace::flush(c.t),
        Some(rt_sigreturn) => trace::sigreturn_call(c.t, c.uc),
        _ => {}
    }
}

/// What the tracer learns of how the table served a call: a fork child
/// starts a trace of its own; an exec about to be made writes the process's
/// lines and counts first (the image that holds them goes away).
fn trace_after_serving(c: &mut Call<'_>, outcome: &Outcome) {
    if c.forked_child {
        trace::forked(c.t);
        // A new process counts its own invocations (strace's new tracee).
        c.t.inject_count.fill(0);
    }
    if let Outcome::RealThen(After::ExecFailed) = outcome {
        trace::flush(c.t);
        trace::write_counts(c.t);
    }
}

/// The table's decision on a call: the session layer's entry (while a
/// session is active), then the base layer's; Real where neither decides.
/// A session's answer ELSEWHERE (the server's walk reached the session's
/// /proc through a symlink or `..`) makes the call again with the path it
/// reached (`pola::elsewhere`), a few times at most; it is never the
/// program's errno.
fn serve(c: &mut Call<'_>) -> Outcome {
    let Some(route) = TABLE.get(c.nr) else { return Outcome::Real };
    let layers = [route.session.filter(|_| rpc::active()), route.entry];
    const ELSEWHERE: isize = -(preld_proto::ELSEWHERE as isize);
    for _ in 0..8 {
        let mut o = Outcome::Real;
        for f in layers.into_iter().flatten() {
            match f(c) {
                Outcome::Next => continue,
                d => {
                    o = d;
                    break;
                }
            }
        }
        match o {
            Outcome::Return(ELSEWHERE) if !crate::pola::elsewhere(c) => return Outcome::err(crate::errno::ENOENT),
            Outcome::Return(ELSEWHERE) => continue,
            o => return o,
        }
    }
    Outcome::err(crate::errno::ELOOP)
}

/// The second trap of a call made through `tail_gate_post`.
pub fn tail_post(t: &mut ThreadBlock, uc: &mut Ucontext) {
    let ret = uc.rax() as isize;
    // Where divert_to_tail wrote the slot, unless the application jumped
    // to the post trap itself, with rsp anywhere.
    if !usermem::probe_readable(uc.posted_slot(), TAIL_SLOT_LEN) {
        uc.divert_to_stack_fault();
        return;
    }
    // SAFETY: just checked readable.
    let slot = unsafe { uc.tail_state() };
    let (orig, [nr, word]) = (slot.args, slot.words);
    let ret = after_call(t, nr, &orig, word, ret);
    uc.finish_tail(&slot, ret as usize);
    // Only a call traced as it was made (a post trap for an `After` alone,
    // a page cache's second bump, is no trace line: -P had filtered it).
    if word & TRACED_EXIT != 0 && trace::wants(t, nr) {
        trace::record(t, nr, &orig, ret);
    }
}
