//! The client side of a capability session: requests to the capability
//! server over a per-thread SOCK_SEQPACKET connection, fds in and out with
//! SCM_RIGHTS (proto/ is the wire format).
//!
//! The process's *main* connection (given to ld-preld as `--rpc-fd`) is
//! used, under a lock, to ask for more connections: one per thread, made
//! on the thread's first request. While no other thread shares the
//! process's memory, its one thread makes its requests on the main
//! connection itself (`MAIN_ALONE`): a process that never starts a thread
//! asks for no connection at all (each fork child and each new image asked
//! once, a round trip of 12-30 us). A fork child gets a main connection of
//! its own, made by the parent before the fork, so that parent and child
//! never share a socket. All of it runs in the SIGSYS handler, with every
//! signal blocked, or in the handler gate.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};

use preld_proto::{self as proto, Reply, Request};
use syscalls::Sysno;

use crate::sys::{Iovec, Msghdr};
use crate::abi::{MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, POLLIN, SCM_RIGHTS, SIG_DFL, SOL_SOCKET};
use crate::errno::{EAGAIN, EBADF, EINTR, EIO, EMFILE, ENAMETOOLONG};
use crate::ownfd;
use crate::sys;
use crate::thread::ThreadBlock;
/// Non-blocking attempts at a reply before sleeping for it (each one a
/// recvmsg and a sched_yield, about a microsecond).
const RECV_SPIN_TRIES: u32 = 64;

static MAIN: AtomicI32 = AtomicI32::new(-1);
/// The main connection's lock (it sleeps: the threads a program starts
/// at once all ask for their connection at once, and spinning for it took
/// every CPU from the server).
static MAIN_LOCK: crate::lock::Lock<()> = crate::lock::Lock::new(());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);
/// No other thread of execution shares this memory (a vfork child waits
/// for none: its parent is stopped), so the one thread may make its
/// requests on the main connection. Cleared for good before the first
/// clone that shares this memory (`memory_shared`); set again in a fork
/// child.
static MAIN_ALONE: AtomicBool = AtomicBool::new(true);
/// Threads of this process waiting for a reply by looking again (not
/// asleep). One is enough to keep a CPU busy for the reply; more only
/// take CPU from the server (200 threads looking made a session's opens
/// 60 times slower than one): the others sleep at once.
static LOOKING: AtomicU32 = AtomicU32::new(0);
const MOST_LOOKING: u32 = 1;

/// Whether this process is a capability session.
pub fn active() -> bool {
    MAIN.load(Ordering::Relaxed) >= 0
}

/// Takes `fd` as the process's main connection (hidden, close-on-exec).
pub fn set_main(fd: i32) -> Result<i32, i32> {
    let fd = ownfd::adopt_fd(fd)?;
    MAIN.store(fd, Ordering::Relaxed);
    Ok(fd)
}

pub fn main_fd() -> i32 {
    MAIN.load(Ordering::Relaxed)
}


/// A control buffer for up to two fds: cmsghdr (16 bytes) + 2 ints.
#[repr(C, align(8))]
struct Control([u8; 24]);

fn send(conn: i32, frame: &[u8], fds_out: &[i32]) -> Result<(), i32> {
    let iov = Iovec { base: frame.as_ptr() as usize, len: frame.len() };
    let mut ctl = Control([0; 24]);
    let mut msg = Msghdr { name: 0, namelen: 0, iov: &iov, iovlen: 1, control: 0, controllen: 0, flags: 0 };
    if !fds_out.is_empty() {
        let len = 16 + 4 * fds_out.len();
        ctl.0[..8].copy_from_slice(&(len as u64).to_ne_bytes());
        ctl.0[8..12].copy_from_slice(&SOL_SOCKET.to_ne_bytes());
        ctl.0[12..16].copy_from_slice(&SCM_RIGHTS.to_ne_bytes());
        for (i, fd) in fds_out.iter().enumerate() {
            ctl.0[16 + 4 * i..20 + 4 * i].copy_from_slice(&fd.to_ne_bytes());
        }
        msg.control = ctl.0.as_ptr() as usize;
        msg.controllen = (len + 7) & !7;
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

/// How long a reply is slept for between looks at the pending signals and
/// at the connection.
const WAIT_SLICE_MS: i32 = 20;

/// What may end the wait for a reply besides the reply.
#[derive(Clone, Copy)]
pub enum Wait {
    /// A signal pending that this mask (the program's) does not block:
    /// EINTR, as it ends a waiting open natively.
    Signals(u64),
    /// Only a signal this mask does not block that kills the process (its
    /// action the default, and that action the end): EINTR, and the
    /// process dies of it as the handler returns, as it would natively
    /// in any call. u64::MAX: no signal.
    Fatal(u64),
}

/// Signals whose default action ends the process (all but SIGCHLD,
/// SIGCONT, SIGURG, SIGWINCH, the stop signals, and SIGKILL, which no wait
/// holds back); SIGSYS is preld's. Bit N-1 is signal N.
const ENDS_BY_DEFAULT: u64 = !(bit(17) | bit(18) | bit(23) | bit(28) | bit(19) | bit(20) | bit(21) | bit(22) | bit(9) | bit(31));

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// Whether a signal pending ends the wait: `wait` says which.
fn signal_ends_wait(wait: Wait) -> bool {
    let Ok(pending) = sys::rt_sigpending() else { return false };
    match wait {
        Wait::Signals(mask) => pending & !mask != 0,
        Wait::Fatal(mask) => {
            let mut ends = pending & !mask & ENDS_BY_DEFAULT;
            while ends != 0 {
                let sig = ends.trailing_zeros() as usize + 1;
                ends &= ends - 1;
                // The program's handlers are the kernel's actions (preld's
                // entry in their place): SIG_DFL there is the program's.
                if sys::get_sigaction(sig).is_ok_and(|a| a.handler == SIG_DFL) {
                    return true;
                }
            }
            false
        }
    }
}

/// Whether `conn` is still a connection to the capability server, which
/// lives outside the session's PID namespace: its peer's pid reads 0 here.
/// A process of the session that put a socket of its own at the
/// connection's number (dup2 through ld-preld's `syscall` instruction, in
/// a child sharing the fd table) never answers for the server.
fn still_the_server(conn: i32) -> bool {
    matches!(sys::peer_cred(conn), Ok((0, _, _)))
}

/// Receives one frame into `buf`; returns its length and the fd it carried.
/// A reply that takes long (an open the server made on a thread, which
/// waits for a FIFO's other end; a session the program broke) is waited
/// for in slices: a signal `wait` names ends it with EINTR, a connection
/// no longer the server's with EIO.
fn recv(conn: i32, buf: &mut [u8], cloexec: bool, wait: Wait) -> Result<(usize, Option<i32>), i32> {
    let iov = Iovec { base: buf.as_mut_ptr() as usize, len: buf.len() };
    let mut ctl = Control([0; 24]);
    let mut msg = Msghdr {
        name: 0,
        namelen: 0,
        iov: &iov,
        iovlen: 1,
        control: ctl.0.as_mut_ptr() as usize,
        controllen: ctl.0.len(),
        flags: 0,
    };
    let flags = if cloexec { MSG_CMSG_CLOEXEC } else { 0 };
    // The server answers within microseconds and keeps polling for a while
    // after each request: asking again (yielding the CPU in between) finds
    // the reply without the cost of sleeping and being woken from another
    // CPU (see SPIN_AFTER_REQUEST in server/src/pola/serve.rs); then sleep.
    let looking = LOOKING.fetch_add(1, Ordering::Relaxed) < MOST_LOOKING;
    let mut tries = if looking { RECV_SPIN_TRIES } else { 0 };
    LOOKING.fetch_sub(!looking as u32, Ordering::Relaxed);
    let n = loop {
        if tries == 0 {
            // Asleep until the reply comes, a signal `wait` names, or the
            // connection is found to be no longer the server's.
            loop {
                // struct pollfd: fd (i32), events (u16), revents (u16).
                let mut pfd = [conn as u32 as u64 | ((POLLIN as u64) << 32)];
                // SAFETY: one struct pollfd in a u64, which the kernel writes
                // revents of.
                let r = unsafe { sys::raw(Sysno::poll as usize, [pfd.as_mut_ptr() as usize, 1, WAIT_SLICE_MS as usize, 0, 0, 0]) };
                if matches!(r, Ok(n) if n > 0) {
                    break;
                }
                if signal_ends_wait(wait) {
                    return Err(EINTR);
                }
                if !still_the_server(conn) {
                    return Err(EIO);
                }
            }
        }
        // SAFETY: msg describes live, writable buffers.
        match unsafe { sys::raw(Sysno::recvmsg as usize, [conn as usize, &mut msg as *mut Msghdr as usize, flags | MSG_DONTWAIT, 0, 0, 0]) } {
            Ok(n) => break n,
            Err(EINTR) => continue,
            Err(EAGAIN) if tries == 0 => continue,
            Err(EAGAIN) => {
                tries -= 1;
                if tries == 0 {
                    LOOKING.fetch_sub(1, Ordering::Relaxed);
                }
                msg.controllen = ctl.0.len();
                // SAFETY: no arguments.
                sys::sched_yield();
            }
            Err(e) => {
                if tries > 0 {
                    LOOKING.fetch_sub(1, Ordering::Relaxed);
                }
                return Err(e);
            }
        }
    };
    if tries > 0 {
        LOOKING.fetch_sub(1, Ordering::Relaxed);
    }
    let mut fd = None;
    if msg.controllen >= 20 {
        let level = i32::from_ne_bytes(ctl.0[8..12].try_into().unwrap_or_default());
        let kind = i32::from_ne_bytes(ctl.0[12..16].try_into().unwrap_or_default());
        if level == SOL_SOCKET && kind == SCM_RIGHTS {
            fd = Some(i32::from_ne_bytes(ctl.0[16..20].try_into().unwrap_or_default()));
        }
    }
    if n == 0 {
        // The server is gone: nothing can be served any more.
        if let Some(f) = fd {
            sys::close(f);
        }
        return Err(EIO);
    }
    if fd.is_none() && msg.flags as usize & MSG_CTRUNC != 0 {
        // The reply's fd found no room in the fd table (RLIMIT_NOFILE):
        // the call fails as the kernel's own open would.
        return Err(EMFILE);
    }
    Ok((n, fd))
}

/// One request and its reply on connection `conn`. The reply borrows `buf`;
/// an fd in it is returned apart (close-on-exec if `cloexec`).
pub fn call_on<'b>(
    conn: i32,
    req: &Request<'_>,
    fds_out: &[i32],
    buf: &'b mut [u8],
    cloexec: bool,
) -> Result<(Reply<'b>, Option<i32>), i32> {
    // (The main connection, an exec's, the first cwd: no signal ends the
    // wait; a connection no longer the server's does.)
    call_on_until(conn, req, fds_out, buf, cloexec, Wait::Fatal(u64::MAX))
}

fn call_on_until<'b>(
    conn: i32,
    req: &Request<'_>,
    fds_out: &[i32],
    buf: &'b mut [u8],
    cloexec: bool,
    wait: Wait,
) -> Result<(Reply<'b>, Option<i32>), i32> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut small = [0u8; proto::HEADER_LEN + 2 * (proto::MAX_PATH + 3) + 64];
    let mut big;
    let out: &mut [u8] = match req {
        // A datagram: up to a frame, on the heap (the handler's stack is 64 KiB).
        Request::SendUnix { data, .. } => {
            big = alloc::vec![0u8; small.len() + data.len()];
            &mut big
        }
        _ => &mut small,
    };
    let n = proto::encode_request(id, req, out).map_err(|_| ENAMETOOLONG)?;
    send(conn, &out[..n], fds_out)?;
    let (len, fd) = recv(conn, buf, cloexec, wait)?;
    let op = req.op();
    match proto::decode_reply(&buf[..len], op) {
        Ok((rid, reply)) if rid == id && reply.has_fd(op) == fd.is_some() => Ok((reply, fd)),
        _ => {
            if let Some(f) = fd {
                sys::close(f);
            }
            Err(EIO)
        }
    }
}

/// A new connection, asked for over the main one (`mask`: as `call`'s).
pub fn new_connection(mask: u64) -> Result<i32, i32> {
    let _g = MAIN_LOCK.lock();
    let mut buf = [0u8; 64];
    let (reply, fd) = call_on_until(main_fd(), &Request::Connect, &[], &mut buf, true, Wait::Fatal(mask))?;
    if reply.result < 0 {
        return Err(-reply.result as i32);
    }
    let fd = fd.ok_or(EIO)?;
    ownfd::adopt_fd(fd)
}

/// The calling thread's connection, made on first use (`mask`: as
/// `call`'s): the main connection while no other thread shares this
/// memory (a vfork child's parent shares it, stopped: the child asks for
/// one of its own, which its exec gives the new image as its main).
pub fn conn(t: &mut ThreadBlock, mask: u64) -> Result<i32, i32> {
    let fd = t.rpc_fd.load(Ordering::Relaxed);
    if fd > 0 {
        return Ok(fd);
    }
    let main = main_fd();
    if MAIN_ALONE.load(Ordering::Acquire) && main > 0 && crate::thread::only_thread(t) {
        t.rpc_fd.store(main, Ordering::Relaxed);
        return Ok(main);
    }
    let fd = new_connection(mask)?;
    t.rpc_fd.store(fd, Ordering::Relaxed);
    Ok(fd)
}

/// Before the first clone that shares this memory (a thread, or a process
/// with CLONE_VM but not a vfork child): the main connection is no longer
/// one thread's to make requests on. The thread that used it so gets a
/// connection of its own on its next request, or now if it is the caller.
/// That thread may be another than the caller: a vfork child's clone
/// leaves its parent, waiting for the vfork, with the main connection,
/// where it went on making its requests without the lock while its threads
/// asked for theirs on it (replies crossed: EIO), and its thread's exit
/// closed the main connection for all (session-16 adversary, test
/// `memory_shared_by_a_vfork_child_keeps_the_main_connection_to_itself`).
pub fn memory_shared(t: &mut ThreadBlock, mask: u64) {
    if !MAIN_ALONE.swap(false, Ordering::AcqRel) {
        return;
    }
    let main = main_fd();
    if main <= 0 {
        return;
    }
    let mine = t.rpc_fd.load(Ordering::Relaxed) == main;
    // (No other thread is in a request: the one that may hold the main
    // connection is this one or a vfork child's parent, stopped.)
    crate::thread::live_conn_fds(|_, rpc, _| {
        let _ = rpc.compare_exchange(main, 0, Ordering::Relaxed, Ordering::Relaxed);
    });
    if mine {
        t.rpc_fd.store(new_connection(mask).unwrap_or(0), Ordering::Relaxed);
    }
}

/// One request on the thread's connection. A signal that kills the
/// process, pending and not blocked by the program's `mask`, ends a long
/// wait for the reply (the process dies of it as the handler returns:
/// natively it dies in any call, and the launcher's SIGTERM must end a
/// session whatever it waits for).
pub fn call<'b>(
    t: &mut ThreadBlock,
    req: &Request<'_>,
    fds_out: &[i32],
    buf: &'b mut [u8],
    cloexec: bool,
    mask: u64,
) -> Result<(Reply<'b>, Option<i32>), i32> {
    call_waiting(t, req, fds_out, buf, cloexec, Wait::Fatal(mask))
}

/// As `call`, for a request whose reply may wait for another process (an
/// open: a FIFO's waits for its other end, on a server thread): a signal
/// the program's `mask` does not block ends the wait with EINTR, as it
/// ends a waiting open natively.
pub fn call_may_wait<'b>(
    t: &mut ThreadBlock,
    req: &Request<'_>,
    fds_out: &[i32],
    buf: &'b mut [u8],
    cloexec: bool,
    mask: u64,
) -> Result<(Reply<'b>, Option<i32>), i32> {
    call_waiting(t, req, fds_out, buf, cloexec, Wait::Signals(mask))
}

/// A request that failed where it waits for a signal of the program's
/// (`Wait::Signals`), or that a signal ended, closes the thread's
/// connection, which the server takes as the end of the request: its
/// reply may still come on it (a new one is made for the thread's next
/// request).
fn call_waiting<'b>(
    t: &mut ThreadBlock,
    req: &Request<'_>,
    fds_out: &[i32],
    buf: &'b mut [u8],
    cloexec: bool,
    wait: Wait,
) -> Result<(Reply<'b>, Option<i32>), i32> {
    let (Wait::Signals(mask) | Wait::Fatal(mask)) = wait;
    let mut c = conn(t, mask)?;
    let main = main_fd();
    if c == main && matches!(wait, Wait::Signals(_)) {
        // A request a signal may abandon: closing its connection ends it
        // at the server, which the main connection must not be (its late
        // reply would answer the next request there).
        c = new_connection(mask)?;
        t.rpc_fd.store(c, Ordering::Relaxed);
    }
    if fds_out.contains(&c) {
        // The program's fd was not open: a connection made for this
        // request (or the thread's first) took its number, and was sent
        // to the server in its stead (openat(1066, ".") was ENOTDIR,
        // where 1066 was the next free number from 1008 up; session-17
        // adversary). The program's fds never are preld's.
        return Err(EBADF);
    }
    let r = call_on_until(c, req, fds_out, buf, cloexec, wait);
    let ended = matches!(r, Err(EINTR)) || matches!(wait, Wait::Signals(_)) && r.is_err();
    if ended && t.rpc_fd.compare_exchange(c, 0, Ordering::Relaxed, Ordering::Relaxed).is_ok() && c != main {
        ownfd::release_fd(c);
    }
    r
}

/// Before a fork: the child's own main connection (`mask`: as `call`'s).
/// Err(EINTR): a signal that kills came meanwhile (no fork then).
pub fn prepare_fork(mask: u64) -> Result<Option<i32>, i32> {
    if !active() {
        return Ok(None);
    }
    match new_connection(mask) {
        Err(EINTR) => Err(EINTR),
        r => Ok(r.ok()),
    }
}

/// In the fork child: its own main connection; per-thread ones are made
/// anew. `shared_fds` (CLONE_FILES): the parent's connections are in the
/// child's fd table too, and stay open (and preld's) for the parent.
pub fn forked_child(t: &mut ThreadBlock, child_main: Option<i32>, shared_fds: bool) {
    // The parent's other threads, looking at the fork, are not the child's.
    LOOKING.store(0, Ordering::Relaxed);
    MAIN_ALONE.store(child_main.is_some(), Ordering::Release);
    if let Some(m) = child_main {
        let old = MAIN.swap(m, Ordering::Relaxed);
        let fd = t.rpc_fd.swap(0, Ordering::Relaxed);
        if !shared_fds {
            ownfd::release_fd(old);
            if fd > 0 {
                ownfd::release_fd(fd);
            }
        }
        // SAFETY: a fork child: a thread of the parent's that held the
        // lock does not exist here.
        unsafe { MAIN_LOCK.force_unlock() };
    }
    SHARED_TABLE.store(shared_fds, Ordering::Relaxed);
}

/// In the fork parent: the child's main connection is the child's. With
/// `shared_fds` (CLONE_FILES) it stays open in the shared table, as any fd
/// the child opens there: no longer preld's here, and the child closes it
/// (and those of its threads) when it exits (`exiting`).
pub fn forked_parent(child_main: Option<i32>, shared_fds: bool) {
    match child_main {
        Some(m) if shared_fds => ownfd::disown_fd(m),
        Some(m) => ownfd::release_fd(m),
        None => {}
    }
}

/// This process is a fork child sharing its parent's fd table (until its
/// exec, which gives it a table of its own).
static SHARED_TABLE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// At exit_group: in a process that shares its fd table with its parent,
/// its connections would outlive it there (thousands of such children
/// filled the parent's table): closed. Elsewhere the kernel closes them.
pub fn exiting() {
    if !active() || !SHARED_TABLE.load(Ordering::Relaxed) {
        return;
    }
    crate::thread::live_conn_fds(|_, rpc, _| {
        let fd = rpc.swap(0, Ordering::Relaxed);
        if fd > 0 {
            ownfd::release_fd(fd);
        }
    });
    ownfd::release_fd(MAIN.swap(-1, Ordering::Relaxed));
}

/// preld's fd `old` moved to `new` (the application dup2'ed onto it).
pub fn relocated(old: i32, new: i32) {
    let _ = MAIN.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    crate::thread::live_conn_fds(|_, fd, _| {
        let _ = fd.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    });
}
