//! preld's own file descriptors (the trace output, the connections of a
//! capability session) live just above the fd limit, where the application
//! cannot allocate (below it, when the hard limit leaves no room), and are
//! invisible to close, dup2, dup3, close_range, fcntl and every other fd
//! call of the application: a program that closes every fd, or fills its
//! table to the limit, sees what it would natively.

use core::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};

use crate::dispatch::{Call, Outcome};
use crate::sys;

const EBADF: isize = 9;
const F_DUPFD_CLOEXEC: usize = 1030;
const F_GETFD: usize = 1;
const F_SETFD: usize = 2;
const FD_CLOEXEC: usize = 1;
/// How far below the fd limit preld's fds go.
const HEADROOM: usize = 16;

/// preld's fds, as a bitmap (fds at or above its size are never preld's:
/// preld places its fds below it).
const BITMAP_FDS: usize = 1 << 16;
static OWN: [AtomicU64; BITMAP_FDS / 64] = [const { AtomicU64::new(0) }; BITMAP_FDS / 64];
/// How many bits of OWN are set (getdents64 and setrlimit ask on every call).
static OWN_COUNT: AtomicUsize = AtomicUsize::new(0);
/// The trace output, -1 when not tracing.
static TRACE_FD: AtomicI32 = AtomicI32::new(-1);

/// Slot names for `get` and `adopt`.
pub const TRACE: usize = 0;

pub fn get(which: usize) -> i32 {
    match which {
        TRACE => TRACE_FD.load(Ordering::Relaxed),
        _ => -1,
    }
}

fn is_own(fd: usize) -> bool {
    fd < BITMAP_FDS && OWN[fd / 64].load(Ordering::Relaxed) & (1 << (fd % 64)) != 0
}

fn mark(fd: i32, own: bool) {
    if fd >= 0 && (fd as usize) < BITMAP_FDS {
        let (w, m) = (fd as usize / 64, 1u64 << (fd as usize % 64));
        let before = if own { OWN[w].fetch_or(m, Ordering::Relaxed) } else { OWN[w].fetch_and(!m, Ordering::Relaxed) };
        match (before & m != 0, own) {
            (false, true) => OWN_COUNT.fetch_add(1, Ordering::Relaxed),
            (true, false) => OWN_COUNT.fetch_sub(1, Ordering::Relaxed),
            _ => 0,
        };
        crate::fast::set_own_fd_min(lowest_own());
    }
}

/// The lowest of preld's fds (i32::MAX: none), for the fast path's gate.
fn lowest_own() -> i32 {
    OWN.iter()
        .enumerate()
        .find_map(|(w, b)| {
            let bits = b.load(Ordering::Relaxed);
            (bits != 0).then(|| (w * 64) as i32 + bits.trailing_zeros() as i32)
        })
        .unwrap_or(i32::MAX)
}

const RLIMIT_NOFILE: usize = 7;

/// The fd limit (soft, hard).
fn nofile() -> (usize, usize) {
    let mut lim = [0u64; 2];
    // SAFETY: prlimit64(0, RLIMIT_NOFILE, NULL, &lim) writes two u64.
    let r = unsafe { sys::raw(syscalls::Sysno::prlimit64 as usize, [0, RLIMIT_NOFILE, 0, lim.as_mut_ptr() as usize, 0, 0]) };
    match r {
        Ok(_) => (lim[0].min(usize::MAX as u64) as usize, lim[1].min(usize::MAX as u64) as usize),
        Err(_) => (1024, 1024),
    }
}

fn set_nofile(soft: usize, hard: usize) -> sys::Result<usize> {
    let lim = [soft as u64, hard as u64];
    // SAFETY: prlimit64(0, RLIMIT_NOFILE, &lim, NULL) reads two u64.
    unsafe { sys::raw(syscalls::Sysno::prlimit64 as usize, [0, RLIMIT_NOFILE, lim.as_ptr() as usize, 0, 0, 0]) }
}

/// A copy of `fd` where the application cannot allocate it, close-on-exec:
/// at or above the fd limit when the hard limit leaves room (the soft
/// limit is raised for this one call: an fd stays open above the limit,
/// and the kernel then hands out, refuses and dup2s every number below
/// it exactly as without preld), else as high as possible below it.
fn place(fd: i32) -> Result<i32, i32> {
    let (soft, hard) = nofile();
    if soft < hard && soft < BITMAP_FDS {
        let room = hard.min(BITMAP_FDS).min(soft + 1024);
        if set_nofile(room, hard).is_ok() {
            let r = sys::fcntl(fd, F_DUPFD_CLOEXEC, soft);
            let _ = set_nofile(soft, hard);
            if let Ok(n) = r {
                return Ok(n as i32);
            }
        }
    }
    // Above the usual place first, then further down when the application
    // has taken every fd up there.
    let mut base = soft.min(BITMAP_FDS).saturating_sub(HEADROOM).max(3);
    loop {
        match sys::fcntl(fd, F_DUPFD_CLOEXEC, base) {
            Ok(n) => return Ok(n as i32),
            Err(_) if base > 3 => base = base.saturating_sub(base / 8 + HEADROOM).max(3),
            Err(e) => return Err(e),
        }
    }
}

/// Moves `fd` out of the application's reach and hides it as preld's;
/// returns the new number.
pub fn adopt_fd(fd: i32) -> Result<i32, i32> {
    let new = place(fd)?;
    sys::close(fd);
    mark(new, true);
    Ok(new)
}

/// Closes one of preld's fds.
pub fn release_fd(fd: i32) {
    if fd >= 0 && is_own(fd as usize) {
        mark(fd, false);
        sys::close(fd);
    }
}

/// Adopts `fd` as the trace output.
pub fn adopt(which: usize, fd: i32) -> Result<i32, i32> {
    let new = adopt_fd(fd)?;
    if which == TRACE {
        TRACE_FD.store(new, Ordering::Relaxed);
    }
    Ok(new)
}

/// Moves preld's fd `fd` out of the application's way, updating whoever
/// holds it.
fn relocate(fd: i32) -> bool {
    let Ok(new) = place(fd) else { return false };
    mark(new, true);
    let _ = TRACE_FD.compare_exchange(fd, new, Ordering::Relaxed, Ordering::Relaxed);
    crate::rpc::relocated(fd, new);
    mark(fd, false);
    sys::close(fd);
    true
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
    if ours && any_own() { Outcome::RealThen(after_rlimit) } else { Outcome::Real }
}

fn after_rlimit(_t: &mut crate::thread::ThreadBlock, _nr: usize, _orig: &[usize; 6], ret: isize) -> isize {
    if ret == 0 {
        let soft = nofile().0.min(BITMAP_FDS);
        for fd in 0..soft {
            if is_own(fd) {
                relocate(fd as i32);
            }
        }
    }
    ret
}

/// The table entry for close, dup2, dup3, close_range and fcntl.
pub fn guard(c: &mut Call<'_>) -> Outcome {
    use syscalls::Sysno;
    let a = c.args;
    match Sysno::from(c.nr as u32) {
        Sysno::close if is_own(a[0]) => Outcome::Return(-EBADF),
        Sysno::fcntl if is_own(a[0]) => Outcome::Return(-EBADF),
        Sysno::dup2 | Sysno::dup3 => {
            if is_own(a[0]) {
                return Outcome::Return(-EBADF);
            }
            if is_own(a[1]) && !relocate(a[1] as i32) {
                // Nowhere to move preld's fd: the table is full.
                return Outcome::Return(-24); // EMFILE
            }
            Outcome::Real
        }
        Sysno::close_range => close_range(a[0], a[1], a[2]),
        // Every other call on a preld fd finds no such fd (fstat is how
        // programs probe for open fds).
        _ if is_own(a[0]) => Outcome::Return(-EBADF),
        _ => Outcome::Real,
    }
}

/// close_range over every fd in [first, last] but preld's.
fn close_range(first: usize, last: usize, flags: usize) -> Outcome {
    let (first, last) = (first as u32 as usize, last as u32 as usize);
    if first > last {
        return Outcome::Real;
    }
    let mut lo = first;
    let mut any = false;
    let top = last.min(BITMAP_FDS - 1);
    let mut fd = first;
    while fd <= top {
        let word = OWN[fd / 64].load(Ordering::Relaxed) >> (fd % 64);
        if word == 0 {
            fd = (fd / 64 + 1) * 64;
            continue;
        }
        fd += word.trailing_zeros() as usize;
        if fd > top {
            break;
        }
        any = true;
        if fd > lo {
            if let Err(e) = raw_close_range(lo, fd - 1, flags) {
                return Outcome::Return(-(e as isize));
            }
        }
        lo = fd + 1;
        fd += 1;
    }
    if !any {
        return Outcome::Real;
    }
    if lo <= last && lo != 0 {
        if let Err(e) = raw_close_range(lo, last, flags) {
            return Outcome::Return(-(e as isize));
        }
    }
    Outcome::Return(0)
}

fn raw_close_range(a: usize, b: usize, flags: usize) -> sys::Result<usize> {
    // SAFETY: close_range on a range without preld's fds.
    unsafe { sys::raw(syscalls::Sysno::close_range as usize, [a, b, flags, 0, 0, 0]) }
}

/// Whether preld holds any fd (then fd listings need filtering).
pub fn any_own() -> bool {
    OWN_COUNT.load(Ordering::Relaxed) != 0
}

/// getdents64: a listing of /proc/self/fd (or /dev/fd) must not show
/// preld's fds.
pub fn getdents(c: &mut Call<'_>) -> Outcome {
    if is_own(c.args[0]) {
        return Outcome::Return(-EBADF);
    }
    if any_own() {
        Outcome::RealThen(hide_own_in_listing)
    } else {
        Outcome::Real
    }
}

/// Whether `fd` is open on this process's own fd directory.
fn is_own_fd_dir(fd: usize) -> bool {
    let mut p = alloc::vec::Vec::from(&b"/proc/self/fd/"[..]);
    p.extend_from_slice(itoa(fd, &mut [0u8; 20]));
    let mut target = [0u8; 64];
    let Ok(n) = sys::readlink(&sys::CPath::new(&p), &mut target) else { return false };
    let t = &target[..n];
    let mut pid = [0u8; 20];
    let pid = itoa(sys::getpid() as usize, &mut pid);
    let Some(rest) = t.strip_prefix(b"/proc/").and_then(|r| r.strip_prefix(pid)) else { return false };
    rest == b"/fd" || (rest.starts_with(b"/task/") && rest.ends_with(b"/fd"))
}

fn itoa(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Drops the entries naming preld's fds from a getdents64 result.
fn hide_own_in_listing(_t: &mut crate::thread::ThreadBlock, _nr: usize, orig: &[usize; 6], ret: isize) -> isize {
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

/// Before an exec: the fds ld-preld is given cross it (it takes them back).
pub fn before_exec(keep: &[i32]) {
    for &fd in keep {
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, 0);
        }
    }
}

pub fn after_exec_failed(keep: &[i32]) {
    for &fd in keep {
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
}

/// A copy of `fd` that survives exec, for ld-preld to open through /proc.
pub fn dup_for_exec(fd: i32) -> Result<i32, i32> {
    let _ = F_GETFD;
    let d = place(fd)?;
    let _ = sys::fcntl(d, F_SETFD, 0);
    Ok(d)
}
