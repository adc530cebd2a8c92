//! The application's fd calls, kept off preld's own fds (ownfd.rs): close,
//! dup2, dup3, close_range, fcntl and the rest fail with EBADF on them, or
//! move them out of the way; listings of /proc/self/fd do not show them.

use crate::abi::{CLONE_FILES, CLOSE_RANGE_UNSHARE, RLIMIT_NOFILE};
use crate::call::{After, Call, Outcome};
use crate::errno::{EBADF, EMFILE};

/// kcmp's KCMP_FILE: two fds, of two processes.
const KCMP_FILE: usize = 0;
use crate::ownfd::{any_own, is_own};
use crate::thread::ThreadBlock;
use crate::{ownfd, rpc, sys, tracer};

/// Moves preld's fd `fd` out of the application's way, updating whoever
/// holds it.
fn relocate(fd: i32) -> bool {
    let Some(new) = ownfd::relocate(fd) else { return false };
    moved(fd, new);
    true
}

/// Tells the holders of preld's fds that `old` is now `new`.
fn moved(old: i32, new: i32) {
    rpc::relocated(old, new);
    crate::beneath::relocated(old, new);
    tracer::relocated(old, new);
}

/// setrlimit/prlimit64 of this process's RLIMIT_NOFILE: once the limit
/// is raised over preld's fds, they move above it.
pub fn rlimit(c: &mut Call<'_>) -> Outcome {
    use syscalls::Sysno;
    if c.nr == Sysno::prlimit64 as usize && c.args[0] != 0 && c.args[0] == sys::getpid() as usize {
        // The process itself, named as pid 0: a session's seccomp filter
        // refuses setting another process's limits, and this is none.
        c.args[0] = 0;
    }
    let a = c.args;
    let ours = match Sysno::from(c.nr as u32) {
        Sysno::setrlimit => a[0] == RLIMIT_NOFILE,
        _ => a[1] == RLIMIT_NOFILE && a[2] != 0 && (a[0] == 0 || a[0] == sys::getpid() as usize),
    };
    if ours && any_own() { Outcome::RealThen(After::RlimitSet) } else { Outcome::Real }
}

/// After a setrlimit of RLIMIT_NOFILE (`After::RlimitSet`).
pub fn after_rlimit(_t: &mut ThreadBlock, _nr: usize, _orig: &[usize; 6], ret: isize) -> isize {
    if ret == 0 {
        ownfd::relocate_below_limit(moved);
    }
    ret
}

/// The table entry for close, dup2, dup3, close_range, fcntl and every
/// other call on an fd (dispatch.rs's table).
pub fn guard(c: &mut Call<'_>) -> Outcome {
    use syscalls::Sysno;
    let a = c.args;
    // What beneath.rs learnt of an fd the call closes or replaces no longer
    // holds: its generation goes up here, before the call (the close gate
    // raises it after: a statx of the old object racing with this close
    // and another thread's reuse of the number could still be taken for
    // the new one's, until the number's next close).
    match Sysno::from(c.nr as u32) {
        Sysno::close if is_own(a[0]) => Outcome::err(EBADF),
        Sysno::close => {
            crate::beneath::fd_closed(a[0] as u32 as usize);
            Outcome::Real
        }
        Sysno::fcntl if is_own(a[0]) => Outcome::err(EBADF),
        Sysno::dup2 | Sysno::dup3 => {
            if is_own(a[0]) {
                return Outcome::err(EBADF);
            }
            if is_own(a[1]) && !relocate(a[1] as i32) {
                // Nowhere to move preld's fd: the table is full.
                return Outcome::err(EMFILE);
            }
            crate::beneath::fd_closed(a[1] as u32 as usize);
            Outcome::Real
        }
        Sysno::close_range => {
            if a[2] & CLOSE_RANGE_UNSHARE != 0 {
                crate::beneath::own_fd_table(false);
            }
            crate::beneath::fds_closed(a[0] as u32 as usize, a[1] as u32 as usize);
            close_range(a[0], a[1], a[2])
        }
        // A second fd: sendfile's in_fd, tee's out, splice's and
        // copy_file_range's out, epoll_ctl's watched fd.
        Sysno::sendfile | Sysno::tee if is_own(a[0]) || is_own(a[1]) => Outcome::err(EBADF),
        Sysno::splice | Sysno::copy_file_range | Sysno::epoll_ctl if is_own(a[0]) || is_own(a[2]) => Outcome::err(EBADF),
        // Another process's fd number, or this one's: pidfd_getfd copied
        // the session's connection from the program's own pidfd, kcmp
        // compared it (a child's preld holds its fds at the same numbers,
        // hidden likewise).
        Sysno::pidfd_getfd if is_own(a[0]) || is_own(a[1]) => Outcome::err(EBADF),
        Sysno::kcmp => match a[2] == KCMP_FILE && (is_own(a[3]) || is_own(a[4])) {
            true => Outcome::err(EBADF),
            false => Outcome::Real,
        },
        // Every other call on a preld fd finds no such fd (fstat is how
        // programs probe for open fds).
        _ if is_own(a[0]) => Outcome::err(EBADF),
        _ => Outcome::Real,
    }
}

/// unshare: with CLONE_FILES the thread's fd table becomes its own, while
/// it shares memory with the process's other threads (beneath.rs stops
/// remembering what it learns of fds).
pub fn unshare(c: &mut Call<'_>) -> Outcome {
    if c.args[0] as u64 & CLONE_FILES != 0 {
        crate::beneath::own_fd_table(false);
    }
    Outcome::Real
}

/// close_range over every fd in [first, last] but preld's.
fn close_range(first: usize, last: usize, flags: usize) -> Outcome {
    let (first, last) = (first as u32 as usize, last as u32 as usize);
    if first > last {
        return Outcome::Real;
    }
    let mut lo = first;
    let mut any = false;
    let mut from = first;
    while let Some(fd) = ownfd::next_own(from, last) {
        any = true;
        if fd > lo {
            if let Err(e) = sys::close_range(lo, fd - 1, flags) {
                return Outcome::Return(-(e as isize));
            }
        }
        lo = fd + 1;
        from = fd + 1;
    }
    if !any {
        return Outcome::Real;
    }
    if lo <= last && lo != 0 {
        if let Err(e) = sys::close_range(lo, last, flags) {
            return Outcome::Return(-(e as isize));
        }
    }
    Outcome::Return(0)
}

/// getdents64: a listing of /proc/self/fd (or /dev/fd) must not show
/// preld's fds.
pub fn getdents(c: &mut Call<'_>) -> Outcome {
    if is_own(c.args[0]) {
        return Outcome::err(EBADF);
    }
    if any_own() {
        Outcome::RealThen(After::HideOwnFds)
    } else {
        Outcome::Real
    }
}

/// Whether `fd` is open on this process's own fd or fdinfo directory.
/// (In a session, through the session's procfs, where the link reads
/// `/PID/fd`.)
fn is_own_fd_dir(fd: usize) -> bool {
    // Only a procfs directory can be one (one fstatfs, where the link's
    // reading costs an open).
    if !sys::fs_of(fd as i32).is_ok_and(|(kind, _)| kind == crate::abi::PROC_SUPER_MAGIC) {
        return false;
    }
    let mut target = [0u8; 64];
    // (A session's only procfs is its own: fd_link reads through it.)
    let (n, head): (usize, &[u8]) = match crate::beneath::fd_link(fd as i32, &mut target) {
        Some(n) => (n, b"/"),
        None => {
            let mut p = alloc::vec::Vec::from(&b"/proc/self/fd/"[..]);
            p.extend_from_slice(sys::decimal(fd as u64, &mut [0u8; 20]));
            let Ok(n) = sys::readlink(&sys::CPath::new(&p), &mut target) else { return false };
            (n, b"/proc/")
        }
    };
    let t = &target[..n];
    let mut pid = [0u8; 20];
    let pid = sys::decimal(sys::getpid() as u64, &mut pid);
    let Some(rest) = t.strip_prefix(head) else { return false };
    // Natively, this process's only; in a session any process's: every one
    // there is preld's, with its fds in the same range.
    let digits = rest.iter().position(|c| !c.is_ascii_digit()).unwrap_or(rest.len());
    let ours = &rest[..digits] == pid || (head == b"/" && digits > 0);
    let rest = &rest[digits..];
    let fd_dir = |r: &[u8]| r == b"/fd" || r == b"/fdinfo";
    ours && (fd_dir(rest) || rest.strip_prefix(b"/task/").is_some_and(|r| r.iter().position(|&c| c == b'/').is_some_and(|i| fd_dir(&r[i..]))))
}

/// Drops the entries naming preld's fds from a getdents64 result.
/// (`After::HideOwnFds`)
pub fn hide_own_in_listing(_t: &mut ThreadBlock, _nr: usize, orig: &[usize; 6], ret: isize) -> isize {
    if ret <= 0 || !is_own_fd_dir(orig[0]) {
        return ret;
    }
    let mut buf = alloc::vec![0u8; ret as usize];
    if !crate::usermem::read(orig[1], &mut buf) {
        return ret;
    }
    let (mut src, mut dst) = (0usize, 0usize);
    while src + 19 <= buf.len() {
        let reclen = u16::from_ne_bytes([buf[src + 16], buf[src + 17]]) as usize;
        if reclen < 19 || src + reclen > buf.len() {
            return ret; // not a listing we understand: leave it
        }
        let name = &buf[src + 19..src + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        let own = core::str::from_utf8(name).ok().and_then(|s| s.parse::<usize>().ok()).is_some_and(is_own);
        if !own {
            buf.copy_within(src..src + reclen, dst);
            dst += reclen;
        }
        src += reclen;
    }
    if dst == buf.len() || !crate::usermem::write(orig[1], &buf[..dst]) {
        return ret;
    }
    dst as isize
}

