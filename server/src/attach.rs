//! `preld trace -p PID`: trace a process that already runs under preld,
//! then let it go. The process's handler is the other side
//! (handler/src/attach.rs): preld queues it a SIGSYS whose value says
//! ATTACH, listens on the abstract socket `preld-attach-SELF-PID` for its
//! connection (checked to be that process's, of this user), sends it the
//! trace options with the output fd (and the tracer hub's connection with
//! --tracer), and waits for `ok`. Then it waits until the process ends, or
//! until preld itself gets SIGINT, SIGTERM or SIGHUP: it queues DETACH and
//! the process goes on untraced.
//!
//! Only a process under preld is signalled (its memory maps show
//! ld-preld: a SIGSYS would kill any other), only one of this PID
//! namespace (a capability session's are never attachable), and the
//! kernel lets only the process's own user (or root) queue the signal.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{reason, TraceArgs};

/// The sigqueue values the handler knows (handler/src/attach.rs).
const ATTACH: usize = 0x5052_4c44_4154_4348;
const DETACH: usize = 0x5052_4c44_4454_4348;
/// How long a process under preld takes to answer, at most.
const ANSWER: Duration = Duration::from_secs(5);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Why `pid` cannot be attached, if it cannot.
fn check(pid: i32) -> Result<(), String> {
    let proc_dir = format!("/proc/{pid}");
    let maps = fs::read(format!("{proc_dir}/maps")).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => format!("-p {pid}: no such process"),
        Some(libc::EACCES) | Some(libc::EPERM) => format!("-p {pid}: not a process of yours"),
        _ => format!("-p {pid}: {}", reason(&e)),
    })?;
    if !maps.split(|&b| b == b'\n').any(|l| l.ends_with(b"/ld-preld")) {
        return Err(format!("-p {pid}: the process does not run under preld (start it with preld run, or ld-preld)"));
    }
    let ns = |p: &str| fs::read_link(p).map_err(|e| format!("-p {pid}: {}", reason(&e)));
    if ns(&format!("{proc_dir}/ns/pid"))? != ns("/proc/self/ns/pid")? {
        return Err(format!("-p {pid}: the process is in another PID namespace (a capability session): not attachable"));
    }
    Ok(())
}

/// Queues SIGSYS with `value` to `pid`.
fn queue(pid: i32, value: usize) -> io::Result<()> {
    let v = libc::sigval { sival_ptr: value as *mut libc::c_void };
    // SAFETY: sigqueue with a plain value.
    if unsafe { libc::sigqueue(pid, libc::SIGSYS, v) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// An abstract SOCK_SEQPACKET listener named `name`.
fn listener(name: &[u8]) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) with integer arguments.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new fd of ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_un is plain data; all-zero is valid.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (i, &b) in name.iter().enumerate() {
        sa.sun_path[i + 1] = b as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + 1 + name.len()) as libc::socklen_t;
    // SAFETY: bind on our socket with a sockaddr of `len` bytes.
    if unsafe { libc::bind(fd.as_raw_fd(), &sa as *const _ as *const libc::sockaddr, len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: listen on our socket.
    if unsafe { libc::listen(fd.as_raw_fd(), 1) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Waits until `fd` is readable, at most `limit`.
fn readable(fd: BorrowedFd<'_>, limit: Duration) -> bool {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        // SAFETY: one pollfd.
        let r = unsafe { libc::poll(&mut p, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if r > 0 {
            return true;
        }
        if r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) || STOP.load(Ordering::SeqCst) {
            return false;
        }
    }
}

/// Sends `bytes` with `fds` (SCM_RIGHTS) on `sock`.
fn send_with_fds(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let mut ctl = [0u64; 8];
    // SAFETY: msghdr is plain data; all-zero is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let data = (fds.len() * 4) as u32;
        msg.msg_control = ctl.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE/CMSG_LEN compute sizes only.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(data) } as usize;
        // SAFETY: the control buffer (64 bytes) holds one cmsghdr with two fds.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(data) as usize;
            let p = libc::CMSG_DATA(c) as *mut i32;
            for (i, fd) in fds.iter().enumerate() {
                p.add(i).write_unaligned(fd.as_raw_fd());
            }
        }
    }
    // SAFETY: msg describes live buffers.
    if unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Attaches to `pid`: the process's handler gets `options` (ld-preld's,
/// NUL-separated) with `out` and, with tracers, the hub's connection.
fn attach(pid: i32, options: &[u8], out: BorrowedFd<'_>, hub: Option<BorrowedFd<'_>>) -> Result<(), String> {
    check(pid)?;
    let name = format!("preld-attach-{}-{pid}", std::process::id());
    let l = listener(name.as_bytes()).map_err(|e| format!("cannot listen for the process: {}", reason(&e)))?;
    queue(pid, ATTACH).map_err(|e| format!("-p {pid}: {}", reason(&e)))?;
    if !readable(l.as_fd(), ANSWER) {
        return Err(format!("-p {pid}: the process did not answer (is it in a capability session, or stopped?)"));
    }
    // SAFETY: accept4 on our listener; the new fd is ours.
    let conn = unsafe { libc::accept4(l.as_raw_fd(), std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_CLOEXEC) };
    if conn < 0 {
        return Err(format!("accept: {}", reason(&io::Error::last_os_error())));
    }
    // SAFETY: a new fd of ours.
    let conn = unsafe { OwnedFd::from_raw_fd(conn) };
    // SAFETY: ucred is plain data; SO_PEERCRED fills it.
    let mut cred: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt into `cred` of `len` bytes.
    let r = unsafe { libc::getsockopt(conn.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, &mut cred as *mut _ as *mut libc::c_void, &mut len) };
    // SAFETY: getuid has no arguments.
    if r < 0 || cred.pid != pid || cred.uid != unsafe { libc::getuid() } {
        return Err(format!("-p {pid}: another process answered"));
    }
    let mut fds = vec![out];
    fds.extend(hub);
    send_with_fds(conn.as_fd(), options, &fds).map_err(|e| format!("-p {pid}: {}", reason(&e)))?;
    let mut answer = [0u8; 8];
    if !readable(conn.as_fd(), ANSWER) {
        return Err(format!("-p {pid}: the process did not answer"));
    }
    // SAFETY: read into our buffer.
    let n = unsafe { libc::read(conn.as_raw_fd(), answer.as_mut_ptr().cast(), answer.len()) };
    match &answer[..n.max(0) as usize] {
        b"ok" => Ok(()),
        _ => Err(format!("-p {pid}: the process refused (already traced?)")),
    }
}

/// `preld trace -p PID...`: `lines` is the Command the trace options were
/// added to (its arguments are what the process gets).
pub fn main(args: &TraceArgs, lines: Command, out: OwnedFd, hub: Option<crate::tracer::Started>) -> ExitCode {
    let mut options: Vec<u8> = Vec::new();
    let mut opts: Vec<OsString> = lines.get_args().map(|a| a.to_os_string()).collect();
    opts.push("--trace-attached".into());
    for a in &opts {
        options.extend_from_slice(a.as_bytes());
        options.push(0);
    }
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a handler that only stores to an atomic.
        unsafe { libc::signal(sig, on_stop as *const () as libc::sighandler_t) };
    }
    let hub_fd = hub.as_ref().map(|h| h.child_end.as_fd());
    let mut attached = Vec::new();
    for &pid in &args.pids {
        match attach(pid, &options, out.as_fd(), hub_fd) {
            Ok(()) => {
                if args.more.quiet == 0 {
                    eprintln!("preld: trace: process {pid} attached");
                }
                attached.push(pid);
            }
            Err(why) => {
                eprintln!("preld: trace: {why}");
                for &p in &attached {
                    let _ = queue(p, DETACH);
                }
                return ExitCode::FAILURE;
            }
        }
    }
    // Until every process has ended, or preld is told to stop.
    // (A process that has already ended has no pidfd: it is not waited for.)
    let pidfds: Vec<(i32, OwnedFd)> = attached
        .iter()
        .filter_map(|&p| {
            // SAFETY: pidfd_open with integer arguments; the fd is ours.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, p, 0) } as i32;
            // SAFETY: a new fd of ours.
            (fd >= 0).then(|| (p, unsafe { OwnedFd::from_raw_fd(fd) }))
        })
        .collect();
    let mut alive: Vec<(i32, &OwnedFd)> = pidfds.iter().map(|(p, f)| (*p, f)).collect();
    while !alive.is_empty() && !STOP.load(Ordering::SeqCst) {
        let mut polls: Vec<libc::pollfd> = alive.iter().map(|(_, f)| libc::pollfd { fd: f.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
        // SAFETY: a live array of pollfds.
        let r = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 200) };
        if r > 0 {
            let ended: Vec<bool> = polls.iter().map(|p| p.revents != 0).collect();
            let mut k = 0;
            alive.retain(|_| {
                k += 1;
                !ended[k - 1]
            });
        }
    }
    for (pid, _) in &alive {
        let _ = queue(*pid, DETACH);
        if args.more.quiet == 0 {
            eprintln!("preld: trace: process {pid} detached");
        }
    }
    drop(out);
    // The hub is not waited for: a detached process keeps its connections
    // (unused) until it ends; the tracers see their stdin close when this
    // process exits.
    drop(hub);
    ExitCode::SUCCESS
}
