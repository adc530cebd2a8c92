//! preld's own file descriptors (the trace output) live high in the fd
//! table and are invisible to close, dup2, dup3, close_range and fcntl of
//! the application: a program that closes every fd keeps running traced.

use core::sync::atomic::{AtomicI32, Ordering};

use crate::dispatch::{Call, Outcome};
use crate::sys;

const EBADF: isize = 9;
const F_DUPFD: usize = 0;
const F_DUPFD_CLOEXEC: usize = 1030;
const F_GETFD: usize = 1;
const F_SETFD: usize = 2;
const FD_CLOEXEC: usize = 1;
/// How far below the fd limit preld's fds go.
const HEADROOM: usize = 16;

/// preld's fds; -1 when unused.
static OWN: [AtomicI32; 2] = [const { AtomicI32::new(-1) }; 2];

/// Slot names in OWN.
pub const TRACE: usize = 0;

pub fn get(which: usize) -> i32 {
    OWN[which].load(Ordering::Relaxed)
}

fn is_own(fd: usize) -> bool {
    fd < i32::MAX as usize && OWN.iter().any(|o| o.load(Ordering::Relaxed) == fd as i32)
}

fn high_base() -> usize {
    let mut lim = [0u64; 2];
    // SAFETY: prlimit64(0, RLIMIT_NOFILE, NULL, &lim) writes two u64.
    let r = unsafe { sys::raw(syscalls::Sysno::prlimit64 as usize, [0, 7, 0, lim.as_mut_ptr() as usize, 0, 0]) };
    let soft = if r.is_ok() { lim[0].min(1 << 20) as usize } else { 1024 };
    soft.saturating_sub(HEADROOM).max(3)
}

/// Moves `fd` high and records it as preld's (close-on-exec).
pub fn adopt(which: usize, fd: i32) -> Result<i32, i32> {
    let new = sys::fcntl(fd, F_DUPFD_CLOEXEC, high_base())? as i32;
    sys::close(fd);
    OWN[which].store(new, Ordering::Relaxed);
    Ok(new)
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
            if is_own(a[1]) {
                // The application wants that number: preld's fd moves away.
                for (i, o) in OWN.iter().enumerate() {
                    if o.load(Ordering::Relaxed) == a[1] as i32 {
                        let _ = adopt(i, a[1] as i32);
                    }
                }
            }
            Outcome::Real
        }
        Sysno::close_range => close_range(a[0], a[1], a[2]),
        _ => Outcome::Real,
    }
}

/// close_range over every fd in [first, last] but preld's.
fn close_range(first: usize, last: usize, flags: usize) -> Outcome {
    let (first, last) = (first as u32 as usize, last as u32 as usize);
    let mut own: [usize; 2] = [usize::MAX; 2];
    for (i, o) in OWN.iter().enumerate() {
        let fd = o.load(Ordering::Relaxed);
        if fd >= 0 && (first..=last).contains(&(fd as usize)) {
            own[i] = fd as usize;
        }
    }
    if own.iter().all(|&f| f == usize::MAX) || first > last {
        return Outcome::Real;
    }
    own.sort_unstable();
    let mut lo = first;
    for &fd in own.iter().filter(|&&f| f != usize::MAX) {
        if fd > lo {
            if let Err(e) = raw_close_range(lo, fd - 1, flags) {
                return Outcome::Return(-(e as isize));
            }
        }
        lo = fd + 1;
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

/// Before an exec: preld's fds cross it (ld-preld takes them back).
pub fn before_exec() {
    for o in &OWN {
        let fd = o.load(Ordering::Relaxed);
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, 0);
        }
    }
}

pub fn after_exec_failed() {
    for o in &OWN {
        let fd = o.load(Ordering::Relaxed);
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
}

/// A copy of `fd` that survives exec, for ld-preld to open through /proc.
pub fn dup_for_exec(fd: i32) -> Result<i32, i32> {
    let _ = (F_GETFD, F_DUPFD);
    sys::fcntl(fd, F_DUPFD, high_base().saturating_sub(HEADROOM))
        .map(|d| d as i32)
}
