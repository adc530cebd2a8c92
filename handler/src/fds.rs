//! The application's fd calls, kept off preld's own fds (ownfd.rs): close,
//! dup2, dup3, close_range, fcntl and the rest fail with EBADF on them, or
//! move them out of the way; listings of /proc/self/fd do not show them.

use crate::abi::{CLONE_FILES, CLOSE_RANGE_UNSHARE, F_DUPFD, F_DUPFD_CLOEXEC, F_DUPFD_QUERY, POLLNVAL, P_PIDFD, RLIMIT_NOFILE, SCM_RIGHTS, SOL_SOCKET};
use crate::call::{After, Call, Outcome};
use crate::errno::{EBADF, EMFILE};

/// kcmp's KCMP_FILE: two fds, of two processes.
const KCMP_FILE: usize = 0;
use crate::ownfd::{any_own, is_own};
use crate::thread::ThreadBlock;
use crate::{ownfd, rpc, sys, tracer, usermem};

/// Moves preld's fd `fd` out of the application's way, updating whoever
/// holds it.
fn relocate(fd: i32) -> bool {
    let Some(new) = ownfd::relocate(fd) else { return false };
    moved(fd, new);
    true
}

/// fcntl(FD, F_DUPFD or F_DUPFD_CLOEXEC, MIN): the copy at the lowest
/// number from MIN on that the program has free, as natively. The kernel
/// skipped preld's fds there (the copy landed above them: the arch dup
/// gate leaves such a MIN, one of preld's fds at or above it, here): those
/// between MIN and the copy move above it, and the copy is made again
/// (session-24 adversary).
fn dupfd(a: [usize; 6]) -> Outcome {
    let min = a[2] as u32 as i32;
    // (A seccomp filter of the program's may trap the call: made where its
    // SIGSYS reaches the program, from the tail gate, as it comes.)
    if min < 0 || crate::sud::seccomp_filtered() || ownfd::next_own(min as usize, usize::MAX).is_none() {
        return Outcome::Real;
    }
    let min = min as usize;
    let mut last = None;
    for _ in 0..4 {
        // SAFETY: the application's own fcntl with its own arguments (an
        // fd of its own: not preld's, checked above).
        let r = match unsafe { sys::raw(syscalls::Sysno::fcntl as usize, a) } {
            Ok(r) => r,
            Err(e) => return Outcome::Return(-(e as isize)),
        };
        if let Some(l) = last {
            sys::close(l);
        }
        let mut clear = true;
        while let Some(fd) = r.checked_sub(1).filter(|&top| top >= min).and_then(|top| ownfd::next_own(min, top)) {
            match ownfd::relocate_from(fd as i32, r + 1) {
                Some(new) => moved(fd as i32, new),
                None => return Outcome::Return(r as isize),
            }
            clear = false;
        }
        if clear {
            return Outcome::Return(r as isize);
        }
        last = Some(r as i32);
    }
    match last {
        Some(l) => Outcome::Return(l as isize),
        None => Outcome::Real,
    }
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
        Sysno::fcntl if matches!(a[1] as u32 as usize, F_DUPFD | F_DUPFD_CLOEXEC) => dupfd(a),
        // F_DUPFD_QUERY's second fd (an int): one of preld's answered 0
        // where natively a number not open is EBADF, telling preld's fds
        // apart (session-24 adversary).
        Sysno::fcntl if a[1] as u32 as usize == F_DUPFD_QUERY && is_own(a[2]) => Outcome::err(EBADF),
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
        // (waitid's first argument is the idtype.)
        Sysno::waitid if a[0] == P_PIDFD && is_own(a[1]) => Outcome::err(EBADF),
        Sysno::waitid => Outcome::Real,
        Sysno::poll => match own_in_poll(a[0], a[1]) {
            Some(r) => Outcome::Return(r),
            None => Outcome::Real,
        },
        Sysno::select if own_in_select(a[0], [a[1], a[2], a[3]]) => Outcome::err(EBADF),
        Sysno::select => Outcome::Real,
        Sysno::sendmsg | Sysno::sendmmsg if !is_own(a[0]) && sends_own_fd(a[1], (c.nr == Sysno::sendmmsg as usize).then_some(a[2])) => {
            Outcome::err(EBADF)
        }
        // Every other call on a preld fd finds no such fd (fstat is how
        // programs probe for open fds).
        _ if is_own(a[0]) => Outcome::err(EBADF),
        _ => Outcome::Real,
    }
}

/// ioctls that name fds besides the one they are made on: FICLONE's
/// source (the argument itself), FICLONERANGE's (struct
/// file_clone_range's src_fd), FIDEDUPERANGE's destinations (each struct
/// file_dedupe_range_info's dest_fd). One of preld's is no fd of the
/// program's: FICLONE and FICLONERANGE fail with EBADF, as natively for a
/// closed one; FIDEDUPERANGE is made on a copy where it is -1, which the
/// kernel answers as it would natively (that destination's status
/// -EBADF), and the program's struct gets the kernel's results with its
/// own fds. The structs are copied into preld's memory and the call made
/// with the copy, so that another thread cannot put one of preld's fds in
/// after the look. Session-18b adversary: FICLONE from the session's
/// connection gave EXDEV, the kernel having reached it. A struct the look
/// cannot read, or a FIDEDUPERANGE count over a page, is the kernel's to
/// answer (EFAULT, ENOMEM) but not from the program's memory: made as it
/// came, another thread had mapped the struct back, or lowered the count,
/// with one of preld's fds in it before the kernel read it (session-19b
/// adversary, test `preld_s_fds_are_not_reached_through_a_racing_ioctl`).
/// None: not such an ioctl, or the program's own seccomp filter must see
/// the call made from its code (made as it came after the look: another
/// thread's change of the struct meanwhile reaches preld's fds; ignored
/// test `preld_s_fds_are_not_reached_through_a_racing_filtered_ioctl`).
pub fn ioctl_fds(c: &mut Call<'_>) -> Option<Outcome> {
    use crate::abi::{CLONE_RANGE_SIZE, CLONE_RANGE_SRC_FD_AT, DEDUPE_COUNT_AT, DEDUPE_DEST_FD_AT, DEDUPE_HEADER, DEDUPE_INFO, FICLONE, FICLONERANGE, FIDEDUPERANGE};
    let cmd = c.args[1] as u32;
    let mut buf = [0u8; preld_arch::PAGE_SIZE];
    let filtered = crate::sud::seccomp_filtered();
    // The call on `at` instead of the program's struct: the kernel's
    // answer (EBADF for the ioctl's own fd first, as natively), from
    // nothing another thread can change.
    let instead = |c: &Call<'_>, at: usize| {
        let mut args = c.args;
        args[2] = at;
        // SAFETY: the application's own ioctl on its own fd, with `at`
        // either no address at all or preld's copy of the struct's
        // header, whose count the kernel finds too large and reads no
        // further.
        let r = unsafe { sys::raw(c.nr, args) }.map_or_else(|e| -(e as isize), |v| v as isize);
        Some(Outcome::Return(r))
    };
    // Never mapped (not canonical): the kernel's EFAULT.
    const NO_ADDRESS: usize = 1 << 63;
    let len = match cmd {
        FICLONE => return is_own(c.args[2]).then(|| Outcome::err(EBADF)),
        FICLONERANGE => CLONE_RANGE_SIZE,
        FIDEDUPERANGE => {
            if !usermem::read(c.args[2], &mut buf[..DEDUPE_HEADER]) {
                return if filtered { None } else { instead(c, NO_ADDRESS) };
            }
            let count = u16::from_ne_bytes([buf[DEDUPE_COUNT_AT], buf[DEDUPE_COUNT_AT + 1]]) as usize;
            // (Larger than a page: ENOMEM, before any fd is looked at.)
            match DEDUPE_HEADER + count * DEDUPE_INFO {
                n if n <= buf.len() => n,
                _ if filtered => return None,
                _ => return instead(c, buf.as_ptr() as usize),
            }
        }
        _ => return None,
    };
    // (FIDEDUPERANGE's count as sized: read again with the rest, another
    // thread's larger one would have the kernel read past the copy.)
    let count = [buf[DEDUPE_COUNT_AT], buf[DEDUPE_COUNT_AT + 1]];
    if !usermem::read(c.args[2], &mut buf[..len]) {
        return if filtered { None } else { instead(c, NO_ADDRESS) };
    }
    if cmd == FIDEDUPERANGE {
        buf[DEDUPE_COUNT_AT..DEDUPE_COUNT_AT + 2].copy_from_slice(&count);
    }
    let bytes = &mut buf[..len];
    let fd_at = |b: &[u8], at: usize| usize::from_ne_bytes(b[at..at + 8].try_into().unwrap_or_default());
    // Where the struct holds fds (an s64 each).
    let fds_at: alloc::vec::Vec<usize> = match cmd {
        FICLONERANGE => alloc::vec![CLONE_RANGE_SRC_FD_AT],
        _ => (0..(len - DEDUPE_HEADER) / DEDUPE_INFO).map(|i| DEDUPE_HEADER + i * DEDUPE_INFO + DEDUPE_DEST_FD_AT).collect(),
    };
    let own_at: alloc::vec::Vec<usize> = fds_at.into_iter().filter(|&at| is_own(fd_at(bytes, at))).collect();
    if cmd == FICLONERANGE && !own_at.is_empty() {
        return Some(Outcome::err(EBADF));
    }
    if filtered {
        return (!own_at.is_empty()).then(|| Outcome::err(EBADF));
    }
    let theirs: alloc::vec::Vec<usize> = own_at.iter().map(|&at| fd_at(bytes, at)).collect();
    for &at in &own_at {
        bytes[at..at + 8].copy_from_slice(&(-1i64).to_ne_bytes());
    }
    let mut args = c.args;
    args[2] = bytes.as_ptr() as usize;
    // SAFETY: the application's own ioctl on its own fd, with preld's copy
    // of its struct (`len` bytes, as the kernel reads it), which the kernel
    // reads and, for FIDEDUPERANGE, writes its results into.
    let r = unsafe { sys::raw(c.nr, args) }.map_or_else(|e| -(e as isize), |v| v as isize);
    // (The kernel writes the struct back only when the call succeeds.)
    if cmd == FIDEDUPERANGE && r >= 0 {
        for (&at, &fd) in own_at.iter().zip(&theirs) {
            bytes[at..at + 8].copy_from_slice(&fd.to_ne_bytes());
        }
        if !usermem::write(c.args[2], bytes) {
            return Some(Outcome::err(crate::errno::EFAULT));
        }
    }
    Some(Outcome::Return(r))
}

/// poll (ppoll) of `nfds` struct pollfd at `fds` naming one of preld's
/// fds: natively that entry is POLLNVAL (an fd not open), counted as
/// ready, and the call returns at once: made here without waiting
/// (timeout 0), on a copy where preld's fds are -1 (which the kernel
/// passes over), their entries POLLNVAL; the result. None: none of
/// preld's fds there (or unreadable): the call as it came. Looked at in
/// place (another thread may change the array after the look; code
/// around the handler reaches preld's fds anyway).
pub fn own_in_poll(fds: usize, nfds: usize) -> Option<isize> {
    // (struct pollfd: int fd, short events, short revents. Natively more
    // than RLIMIT_NOFILE entries is EINVAL: the kernel's.)
    const MOST: usize = 1 << 16;
    if nfds == 0 || nfds > MOST || !any_own() {
        return None;
    }
    // The look, 32 entries at a time on the stack (every poll of a
    // session's comes here: no allocation for it).
    // (Bytes through usermem::read: read_words reads at most 8 words, and
    // a look that failed let the kernel poll preld's fds; session-18b
    // adversary.)
    let mut chunk = [0u8; 32 * 8];
    let mut any = false;
    for first in (0..nfds).step_by(32) {
        let n = 32.min(nfds - first);
        if !usermem::read(fds + first * 8, &mut chunk[..n * 8]) {
            return None;
        }
        if chunk[..n * 8].chunks_exact(8).any(|e| is_own(i32::from_ne_bytes(e[..4].try_into().unwrap()) as u32 as usize)) {
            any = true;
            break;
        }
    }
    if !any {
        return None;
    }
    let mut copy = alloc::vec![0u8; nfds * 8];
    if !usermem::read(fds, &mut copy) {
        return None;
    }
    let own: alloc::vec::Vec<bool> = copy.chunks_exact(8).map(|e| is_own(i32::from_ne_bytes(e[..4].try_into().unwrap()) as u32 as usize)).collect();
    if !own.contains(&true) {
        return None;
    }
    for (e, &o) in copy.chunks_exact_mut(8).zip(&own) {
        if o {
            e[..4].copy_from_slice(&(-1i32).to_ne_bytes());
        }
    }
    // SAFETY: poll of our own copy of the array, without waiting.
    if let Err(e) = unsafe { sys::raw(syscalls::Sysno::poll as usize, [copy.as_mut_ptr() as usize, nfds, 0, 0, 0, 0]) } {
        return Some(-(e as isize));
    }
    let mut ready = 0;
    for (i, (e, &o)) in copy.chunks_exact(8).zip(&own).enumerate() {
        let revents = if o { POLLNVAL } else { u16::from_ne_bytes(e[6..8].try_into().unwrap()) };
        ready += (revents != 0) as isize;
        if !usermem::write(fds + i * 8 + 6, &revents.to_ne_bytes()) {
            return Some(-(crate::errno::EFAULT as isize));
        }
    }
    Some(ready)
}

/// select (pselect6) whose sets (`sets`: read, write, except; each 0 or an
/// fd_set of `nfds` bits) name one of preld's fds: natively EBADF, at once.
pub fn own_in_select(nfds: usize, sets: [usize; 3]) -> bool {
    let nfds = (nfds as i32).clamp(0, 1 << 16) as usize;
    let Some(lo) = ownfd::next_own(0, nfds.saturating_sub(1)).filter(|_| nfds > 0) else { return false };
    // (Read as bytes: usermem::read_words reads at most 8 words, 512 fds,
    // and a set it could not read let the kernel select preld's fds;
    // session-18b adversary. The kernel reads whole longs.)
    let bytes = nfds.div_ceil(64) * 8;
    sets.iter().filter(|&&s| s != 0).any(|&s| {
        let mut b = alloc::vec![0u8; bytes];
        usermem::read(s, &mut b) && (lo..nfds).any(|fd| b[fd / 8] >> (fd % 8) & 1 != 0 && is_own(fd))
    })
}

/// Whether the message at `msg` (a struct msghdr; with `many`, the
/// sendmmsg vector of that many struct mmsghdr) carries one of preld's
/// fds in an SCM_RIGHTS message: natively EBADF, an fd not open; in a
/// session it sent the session's connection or a grant's directory, which
/// the receiver got as an fd of its own (session-17c adversary). Looked at
/// in place: another thread may change the message after the look (code
/// around the handler reaches preld's fds anyway). Unreadable: the
/// kernel's answer (EFAULT).
fn sends_own_fd(msg: usize, many: Option<usize>) -> bool {
    // struct msghdr: msg_control at 32, msg_controllen at 40; 56 bytes,
    // 64 in a struct mmsghdr. The kernel sends at most UIO_MAXIOV of them.
    const MSGHDR: usize = 56;
    const MMSGHDR: usize = 64;
    const UIO_MAXIOV: usize = 1024;
    let count = many.map_or(1, |n| (n as u32 as usize).min(UIO_MAXIOV));
    (0..count).any(|i| {
        let mut h = [0usize; MSGHDR / 8];
        if !usermem::read_words(msg.wrapping_add(i * MMSGHDR), &mut h) {
            return false;
        }
        control_has_own_fd(h[4], h[5])
    })
}

/// Whether the control data at `addr` (`len` bytes) holds an SCM_RIGHTS
/// message naming one of preld's fds, walked as the kernel walks it
/// (cmsghdr: len, level, type, then the data, 8-aligned).
fn control_has_own_fd(addr: usize, len: usize) -> bool {
    // (The kernel refuses more than its optmem limit: ENOBUFS.)
    const MOST: usize = 1 << 20;
    const HDR: usize = 16;
    if addr == 0 || len < HDR || len > MOST {
        return false;
    }
    let mut buf = alloc::vec![0u8; len];
    if !usermem::read(addr, &mut buf) {
        return false;
    }
    let mut at = 0;
    while at + HDR <= len {
        let clen = usize::from_ne_bytes(buf[at..at + 8].try_into().unwrap());
        let level = i32::from_ne_bytes(buf[at + 8..at + 12].try_into().unwrap());
        let kind = i32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap());
        if clen < HDR || clen > len - at {
            return false; // the kernel's EINVAL
        }
        if level == SOL_SOCKET && kind == SCM_RIGHTS {
            let fds = &buf[at + HDR..at + clen];
            if fds.chunks_exact(4).any(|f| is_own(i32::from_ne_bytes(f.try_into().unwrap()) as u32 as usize)) {
                return true;
            }
        }
        at += (clen + 7) & !7;
    }
    false
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

