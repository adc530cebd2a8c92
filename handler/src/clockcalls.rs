//! The transfer table's entries for time, under virtual time (clock.rs):
//! the trapped readings of the wall clock (clock_gettime, gettimeofday,
//! time: a static binary's raw calls, or a vDSO's fallback) are shifted,
//! and every absolute deadline a program gives the kernel on a shifted
//! clock is converted back to real time (else a program sleeping until
//! "virtual now + 1 s" would sleep for the offset). With a rate, relative
//! sleeps on a shifted clock last their virtual length divided by the rate.
//!
//! Deadlines converted: clock_nanosleep with TIMER_ABSTIME, timerfd_settime
//! with TFD_TIMER_ABSTIME and timer_settime with TIMER_ABSTIME (the timer's
//! clock read from /proc/self/fdinfo or /proc/self/timers), futex's
//! absolute waits (FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_LOCK_PI,
//! FUTEX_LOCK_PI2: pthread_cond_timedwait, sem_timedwait,
//! pthread_mutex_timedlock), futex_waitv, mq_timedsend and mq_timedreceive.
//! Scaled with a rate: nanosleep (CLOCK_MONOTONIC's: only with
//! `--clock-monotonic`), relative clock_nanosleep, and the relative values
//! and intervals of timerfd_settime and timer_settime. The timeouts of
//! poll, select, epoll and futex's relative waits are not scaled; the time
//! left that an interrupted sleep writes back is (a second trap, after it).
//!
//! Each entry answers Real at once while virtual time is off; while it is
//! on, `dispatch::fast_gate` keeps these calls off the fast path
//! ([`traps`]). A rewritten argument points at a buffer of the thread
//! block (`ThreadBlock::time_buf`), never at the program's memory.

use syscalls::Sysno;

use crate::call::{After, Call, Outcome};
use crate::errno::{EFAULT, EINTR};
use crate::thread::ThreadBlock;
use crate::{abi, clock, sys, usermem};

/// The calls whose entries are here: while virtual time is on, a rewritten
/// site must not make them without the handler.
pub fn traps(nr: usize) -> bool {
    use Sysno::*;
    clock::active()
        && matches!(
            Sysno::new(nr),
            Some(
                clock_gettime | gettimeofday | time | clock_nanosleep | nanosleep | timerfd_settime | timer_settime
                    | futex | futex_waitv | mq_timedsend | mq_timedreceive
            )
        )
}

fn read_ts(addr: usize) -> Option<[i64; 2]> {
    let mut w = [0usize; 2];
    usermem::read_words(addr, &mut w).then_some([w[0] as i64, w[1] as i64])
}

fn write_ts(addr: usize, ts: [i64; 2]) -> bool {
    usermem::write_words(addr, &[ts[0] as usize, ts[1] as usize])
}

/// clock_gettime: made here (it cannot block), its reading shifted.
pub fn clock_gettime(c: &mut Call<'_>) -> Outcome {
    let clk = c.args[0];
    if !clock::shifts(clk) {
        return Outcome::Real;
    }
    // SAFETY: the application's clock_gettime; the kernel checks the pointer.
    if let Err(e) = unsafe { sys::raw(c.nr, c.args) } {
        return Outcome::err(e);
    }
    match read_ts(c.args[1]) {
        Some(ts) if write_ts(c.args[1], clock::virtual_ts(clk, ts)) => Outcome::Return(0),
        _ => Outcome::err(EFAULT),
    }
}

/// gettimeofday: made here, the timeval shifted (the time zone is the
/// kernel's).
pub fn gettimeofday(c: &mut Call<'_>) -> Outcome {
    if !clock::active() || c.args[0] == 0 {
        return Outcome::Real;
    }
    // SAFETY: the application's gettimeofday; the kernel checks the pointers.
    if let Err(e) = unsafe { sys::raw(c.nr, c.args) } {
        return Outcome::err(e);
    }
    let Some([s, us]) = read_ts(c.args[0]) else { return Outcome::err(EFAULT) };
    let [s, ns] = clock::ns_ts(clock::to_virtual(abi::CLOCK_REALTIME, clock::ts_ns(s, us.wrapping_mul(1000))));
    if !write_ts(c.args[0], [s, ns / 1000]) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(0)
}

/// time: CLOCK_REALTIME_COARSE's seconds (what the kernel's time() is),
/// shifted.
pub fn time(c: &mut Call<'_>) -> Outcome {
    if !clock::active() {
        return Outcome::Real;
    }
    let ts = match sys::clock_gettime(abi::CLOCK_REALTIME_COARSE) {
        Ok(ts) => ts,
        Err(e) => return Outcome::err(e),
    };
    let secs = clock::ns_ts(clock::to_virtual(abi::CLOCK_REALTIME, clock::ts_ns(ts.sec, ts.nsec)))[0];
    if c.args[0] != 0 && !usermem::write_words(c.args[0], &[secs as usize]) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(secs as isize)
}

/// Points argument `i` at a copy of the timespec it points at, converted
/// by `f` (None: left as it is, also when it cannot be read: the kernel
/// then reports EFAULT).
fn convert_ts(c: &mut Call<'_>, i: usize, f: impl FnOnce([i64; 2]) -> Option<[i64; 2]>) {
    if c.args[i] == 0 {
        return;
    }
    if let Some(new) = read_ts(c.args[i]).and_then(f) {
        let buf = c.t.time_buf();
        buf[..2].copy_from_slice(&new);
        c.args[i] = buf.as_ptr() as usize;
    }
}

/// clock_nanosleep: an absolute deadline converted, a relative sleep
/// scaled.
pub fn clock_nanosleep(c: &mut Call<'_>) -> Outcome {
    let clk = c.args[0];
    if !clock::shifts(clk) {
        return Outcome::Real;
    }
    if c.args[1] & abi::TIMER_ABSTIME != 0 {
        convert_ts(c, 2, |ts| clock::real_deadline(clk, ts));
        return Outcome::Real;
    }
    scaled_sleep(c, clk, 2, 3)
}

/// nanosleep: CLOCK_MONOTONIC's relative sleep, scaled when that clock
/// runs at the rate.
pub fn nanosleep(c: &mut Call<'_>) -> Outcome {
    scaled_sleep(c, abi::CLOCK_MONOTONIC, 0, 1)
}

/// A relative sleep on `clk` (request in argument `req`, remaining time
/// written to argument `rem`): scaled, and its remaining time scaled back
/// when a signal interrupts it (a loop that sleeps again for the
/// remainder then sleeps for the rest of the virtual length).
fn scaled_sleep(c: &mut Call<'_>, clk: usize, req: usize, rem: usize) -> Outcome {
    let before = c.args[req];
    convert_ts(c, req, |ts| clock::real_interval(clk, ts));
    if c.args[req] != before && c.args[rem] != 0 {
        return Outcome::RealThen(After::SleepRemaining);
    }
    Outcome::Real
}

/// After a scaled relative sleep (nanosleep, clock_nanosleep): the real
/// time left that an interrupted one wrote, as virtual time.
pub fn sleep_remaining(_t: &mut ThreadBlock, nr: usize, orig: &[usize; 6], ret: isize) -> isize {
    let rem = if nr == Sysno::nanosleep as usize { orig[1] } else { orig[3] };
    if ret == -(EINTR as isize) && rem != 0 {
        if let Some(left) = read_ts(rem) {
            write_ts(rem, clock::virtual_interval(left));
        }
    }
    ret
}

/// timerfd_settime and timer_settime: the new `struct itimerspec`
/// (interval, then value) converted for the timer's clock.
fn settime(c: &mut Call<'_>, abstime: usize, clock_of: fn(usize) -> Option<usize>) -> Outcome {
    let abs = c.args[1] & abstime != 0;
    if !clock::active() || (!abs && !clock::scaled()) || c.args[2] == 0 {
        return Outcome::Real;
    }
    let Some(clk) = clock_of(c.args[0]) else { return Outcome::Real };
    let mut w = [0usize; 4];
    if !clock::shifts(clk) || !usermem::read_words(c.args[2], &mut w) {
        return Outcome::Real;
    }
    let (interval, value) = ([w[0] as i64, w[1] as i64], [w[2] as i64, w[3] as i64]);
    let new_interval = clock::real_interval(clk, interval);
    let new_value = if abs { clock::real_deadline(clk, value) } else { clock::real_interval(clk, value) };
    if new_interval.is_none() && new_value.is_none() {
        return Outcome::Real;
    }
    let buf = c.t.time_buf();
    buf[..2].copy_from_slice(&new_interval.unwrap_or(interval));
    buf[2..].copy_from_slice(&new_value.unwrap_or(value));
    c.args[2] = buf.as_ptr() as usize;
    Outcome::Real
}

pub fn timerfd_settime(c: &mut Call<'_>) -> Outcome {
    if crate::ownfd::is_own(c.args[0]) {
        return Outcome::err(crate::errno::EBADF); // (preld's fd: none of the program's)
    }
    settime(c, abi::TFD_TIMER_ABSTIME, timerfd_clock)
}

pub fn timer_settime(c: &mut Call<'_>) -> Outcome {
    settime(c, abi::TIMER_ABSTIME, timer_clock)
}

/// futex: the absolute timeouts (on CLOCK_REALTIME with
/// FUTEX_CLOCK_REALTIME, or FUTEX_LOCK_PI's always; else
/// CLOCK_MONOTONIC's). FUTEX_WAIT's timeout is relative and stays.
pub fn futex(c: &mut Call<'_>) -> Outcome {
    let op = c.args[1];
    let realtime = op & abi::FUTEX_CLOCK_REALTIME != 0;
    let clk = match op & abi::FUTEX_CMD_MASK {
        abi::FUTEX_LOCK_PI => abi::CLOCK_REALTIME,
        abi::FUTEX_WAIT_BITSET | abi::FUTEX_WAIT_REQUEUE_PI | abi::FUTEX_LOCK_PI2 if realtime => abi::CLOCK_REALTIME,
        abi::FUTEX_WAIT_BITSET | abi::FUTEX_WAIT_REQUEUE_PI | abi::FUTEX_LOCK_PI2 => abi::CLOCK_MONOTONIC,
        _ => return Outcome::Real,
    };
    if clock::shifts(clk) {
        convert_ts(c, 3, |ts| clock::real_deadline(clk, ts));
    }
    Outcome::Real
}

/// futex_waitv(waiters, n, flags, timeout, clockid): an absolute timeout.
pub fn futex_waitv(c: &mut Call<'_>) -> Outcome {
    let clk = c.args[4];
    if clock::shifts(clk) {
        convert_ts(c, 3, |ts| clock::real_deadline(clk, ts));
    }
    Outcome::Real
}

/// mq_timedsend and mq_timedreceive: an absolute CLOCK_REALTIME timeout.
pub fn mq_timed(c: &mut Call<'_>) -> Outcome {
    if clock::active() {
        convert_ts(c, 4, |ts| clock::real_deadline(abi::CLOCK_REALTIME, ts));
    }
    Outcome::Real
}

/// The clock of timerfd `fd`: `clockid:` in /proc/self/fdinfo/FD.
fn timerfd_clock(fd: usize) -> Option<usize> {
    let mut path = *b"/proc/self/fdinfo/\0\0\0\0\0\0\0\0\0\0\0";
    let n = b"/proc/self/fdinfo/".len();
    let len = n + put_decimal(&mut path[n..], fd as u32 as u64)?;
    let mut found = None;
    scan_lines(&path[..len], |line| {
        if let Some(v) = line.strip_prefix(b"clockid:") {
            found = parse_decimal(v);
        }
        found.is_none()
    });
    found
}

/// The clock of POSIX timer `id`: in /proc/self/timers, the `ClockID:`
/// line of the block that starts with `ID: id`.
fn timer_clock(id: usize) -> Option<usize> {
    let id = id as u32 as usize;
    let (mut ours, mut found) = (false, None);
    scan_lines(b"/proc/self/timers", |line| {
        if let Some(v) = line.strip_prefix(b"ID:") {
            ours = parse_decimal(v) == Some(id);
        } else if let Some(v) = line.strip_prefix(b"ClockID:").filter(|_| ours) {
            found = parse_decimal(v);
        }
        found.is_none()
    });
    found
}

/// Writes `n` in decimal at the start of `out`; its length.
fn put_decimal(out: &mut [u8], mut n: u64) -> Option<usize> {
    let mut d = [0u8; 20];
    let mut i = d.len();
    loop {
        i -= 1;
        d[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = &d[i..];
    out.get_mut(..digits.len())?.copy_from_slice(digits);
    Some(digits.len())
}

fn parse_decimal(v: &[u8]) -> Option<usize> {
    core::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// Calls `f` with each line of the file at `path` (short lines: longer
/// ones are cut) until it returns false.
fn scan_lines(path: &[u8], mut f: impl FnMut(&[u8]) -> bool) {
    let Ok(fd) = sys::open(&sys::CPath::new(path), abi::O_RDONLY | abi::O_CLOEXEC) else { return };
    let mut buf = [0u8; 1024];
    let mut line = [0u8; 128];
    let mut len = 0;
    let mut off = 0;
    'read: while let Ok(n) = sys::pread(fd, &mut buf, off) {
        if n == 0 {
            if len > 0 {
                f(&line[..len]);
            }
            break;
        }
        off += n as u64;
        for &b in &buf[..n] {
            if b == b'\n' {
                if !f(&line[..len]) {
                    break 'read;
                }
                len = 0;
            } else if len < line.len() {
                line[len] = b;
                len += 1;
            }
        }
    }
    sys::close(fd);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let mut b = [0u8; 4];
        assert_eq!(put_decimal(&mut b, 407), Some(3));
        assert_eq!(&b[..3], b"407");
        assert_eq!(put_decimal(&mut b, 12345), None);
        assert_eq!(parse_decimal(b"\t 11"), Some(11));
    }

    #[test]
    fn timer_clocks_from_proc() {
        // A timerfd on CLOCK_BOOTTIME, read back from fdinfo.
        // SAFETY: timerfd_create takes no pointer.
        let fd = unsafe { sys::raw(Sysno::timerfd_create as usize, [abi::CLOCK_BOOTTIME, 0, 0, 0, 0, 0]) }.unwrap();
        assert_eq!(timerfd_clock(fd), Some(abi::CLOCK_BOOTTIME));
        sys::close(fd as i32);
        assert_eq!(timerfd_clock(fd), None);
    }
}
