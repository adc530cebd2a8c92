//! Virtual time: the wall clock a program sees under `preld run
//! --clock-offset`, `--clock-start` or `--clock-rate`, as ld-preld's
//! options `--clock-anchor REAL_NS:VIRTUAL_NS`, `--clock-rate R` and
//! `--clock-monotonic MONO_NS:RAW_NS:BOOT_NS` give it.
//!
//! One time line for the whole run: the launcher read CLOCK_REALTIME once
//! (REAL_NS) and chose the virtual time that instant stands for
//! (VIRTUAL_NS); every process of the run, across fork and exec (the
//! options are replayed), computes
//!
//! ```text
//!   virtual = VIRTUAL_NS + (real − REAL_NS) × R
//! ```
//!
//! for CLOCK_REALTIME, _COARSE and _ALARM, and the same line shifted by
//! TAI − UTC for CLOCK_TAI. The monotonic clocks (MONOTONIC, _COARSE, _RAW,
//! BOOTTIME, _ALARM) keep their values unless `--clock-monotonic` is given:
//! then each runs at the rate R from its own reading at the anchor (never
//! offset, so it stays monotonic and near its real value). CPU-time clocks
//! are never changed.
//!
//! Here only the arithmetic and the settings, read lock-free (preld's vDSO
//! functions run in any thread, inside signal handlers too); vdso.rs
//! shifts what its functions return, clockcalls.rs serves the trapped
//! calls (readings, and the deadlines and sleeps that must be converted
//! back to real time).

use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use crate::{abi, sys};

/// Nanoseconds in a second.
const NS: i128 = 1_000_000_000;

/// The time line of a run (ld-preld's `--clock-*` options).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// CLOCK_REALTIME at the anchor, ns since the epoch.
    pub real0: i64,
    /// The virtual time that instant stands for, ns since the epoch.
    pub virt0: i64,
    /// Virtual seconds per real second (1: an offset only).
    pub rate: f64,
    /// `--clock-monotonic`: CLOCK_MONOTONIC, _RAW and BOOTTIME at the
    /// anchor; these clocks then run at `rate` too.
    pub mono: Option<[i64; 3]>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { real0: 0, virt0: 0, rate: 1.0, mono: None }
    }
}

/// `REAL_NS:VIRTUAL_NS`, two signed integers.
pub fn parse_anchor(v: &[u8]) -> Option<(i64, i64)> {
    let v = core::str::from_utf8(v).ok()?;
    let (r, w) = v.split_once(':')?;
    Some((r.parse().ok()?, w.parse().ok()?))
}

/// A rate: a finite number above 0.
pub fn parse_rate(v: &[u8]) -> Option<f64> {
    let r: f64 = core::str::from_utf8(v).ok()?.parse().ok()?;
    (r.is_finite() && r > 0.0).then_some(r)
}

/// `MONO_NS:RAW_NS:BOOT_NS`.
pub fn parse_mono(v: &[u8]) -> Option<[i64; 3]> {
    let mut out = [0i64; 3];
    let mut parts = core::str::from_utf8(v).ok()?.split(':');
    for o in &mut out {
        *o = parts.next()?.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

static ON: AtomicBool = AtomicBool::new(false);
static REAL0: AtomicI64 = AtomicI64::new(0);
static VIRT0: AtomicI64 = AtomicI64::new(0);
/// The rate's bits (f64).
static RATE: AtomicU64 = AtomicU64::new(0);
static MONO_ON: AtomicBool = AtomicBool::new(false);
static MONO: [AtomicI64; 3] = [const { AtomicI64::new(0) }; 3];
/// CLOCK_TAI − CLOCK_REALTIME, whole seconds as ns (read only when the
/// rate is not 1: with an offset alone it cancels out).
static TAI: AtomicI64 = AtomicI64::new(0);

/// Turns virtual time on for this process; once, at startup, before the
/// first call is served.
pub fn set(s: &Settings) {
    REAL0.store(s.real0, Ordering::Relaxed);
    VIRT0.store(s.virt0, Ordering::Relaxed);
    RATE.store(s.rate.to_bits(), Ordering::Relaxed);
    if let Some(m) = s.mono {
        for (a, v) in MONO.iter().zip(m) {
            a.store(v, Ordering::Relaxed);
        }
        MONO_ON.store(true, Ordering::Relaxed);
    }
    if s.rate != 1.0 {
        if let (Ok(tai), Ok(rt)) = (sys::clock_gettime(abi::CLOCK_TAI), sys::clock_gettime(abi::CLOCK_REALTIME)) {
            TAI.store(whole_seconds(ts_ns(tai.sec, tai.nsec) - ts_ns(rt.sec, rt.nsec)), Ordering::Relaxed);
        }
    }
    ON.store(true, Ordering::Release);
}

/// `d` ns rounded to the nearest whole second.
fn whole_seconds(d: i128) -> i64 {
    ((d + NS / 2).div_euclid(NS) * NS) as i64
}

/// Virtual time is on in this process.
#[inline]
pub fn active() -> bool {
    ON.load(Ordering::Acquire)
}

/// The time line in force, if any.
fn line() -> Option<Line> {
    if !active() {
        return None;
    }
    let mono = MONO_ON.load(Ordering::Relaxed).then(|| MONO.each_ref().map(|m| m.load(Ordering::Relaxed)));
    Some(Line {
        s: Settings {
            real0: REAL0.load(Ordering::Relaxed),
            virt0: VIRT0.load(Ordering::Relaxed),
            rate: f64::from_bits(RATE.load(Ordering::Relaxed)),
            mono,
        },
        tai: TAI.load(Ordering::Relaxed),
    })
}

/// The rate is not 1: durations on a shifted clock are scaled.
pub fn scaled() -> bool {
    line().is_some_and(|l| l.s.rate != 1.0)
}

/// A clockid as the kernel reads it from a register (an int).
pub fn clock_id(arg: usize) -> usize {
    arg as u32 as usize
}

/// Whether readings of clock `clk` are changed.
pub fn shifts(clk: usize) -> bool {
    line().is_some_and(|l| l.anchor(clk).is_some())
}

/// A reading of clock `clk` (ns) as the program sees it.
pub fn to_virtual(clk: usize, ns: i128) -> i128 {
    line().map_or(ns, |l| l.to_virtual(clk, ns))
}

/// A reading of clock `clk` as a timespec, as the program sees it.
pub fn virtual_ts(clk: usize, ts: [i64; 2]) -> [i64; 2] {
    match line() {
        Some(l) if valid(ts) => ns_ts(l.to_virtual(clk, ts_ns(ts[0], ts[1]))),
        _ => ts,
    }
}

/// The real deadline on clock `clk` for the program's absolute (virtual)
/// one; None: unchanged (clock not shifted, or a timespec the kernel will
/// refuse). {0, 0} stays (it disarms timers); a deadline before the
/// epoch becomes 1 ns after it (already past, and valid).
pub fn real_deadline(clk: usize, ts: [i64; 2]) -> Option<[i64; 2]> {
    line()?.real_deadline(clk, ts)
}

/// The real length of the program's relative sleep or interval on clock
/// `clk`: its virtual length divided by the rate; None: unchanged (rate 1,
/// clock not shifted, invalid).
pub fn real_interval(clk: usize, ts: [i64; 2]) -> Option<[i64; 2]> {
    line()?.real_interval(clk, ts)
}

/// A real duration as the program sees it (times the rate).
pub fn virtual_interval(ts: [i64; 2]) -> [i64; 2] {
    match line() {
        Some(l) if valid(ts) => ns_ts(l.stretch(ts_ns(ts[0], ts[1]))),
        _ => ts,
    }
}

/// A timespec's nanoseconds.
pub fn ts_ns(sec: i64, nsec: i64) -> i128 {
    sec as i128 * NS + nsec as i128
}

/// Nanoseconds as a timespec (nsec in 0..1e9; seconds saturated).
pub fn ns_ts(ns: i128) -> [i64; 2] {
    let s = ns.div_euclid(NS);
    if s > i64::MAX as i128 {
        return [i64::MAX, (NS - 1) as i64];
    }
    if s < i64::MIN as i128 {
        return [i64::MIN, 0];
    }
    [s as i64, ns.rem_euclid(NS) as i64]
}

fn valid(ts: [i64; 2]) -> bool {
    (0..NS as i64).contains(&ts[1])
}

/// The settings and TAI's offset: the arithmetic, on values.
#[derive(Clone, Copy, Debug)]
struct Line {
    s: Settings,
    tai: i64,
}

impl Line {
    /// Where clock `clk`'s line is anchored: (real, virtual) ns; None when
    /// the clock is not shifted.
    fn anchor(&self, clk: usize) -> Option<(i128, i128)> {
        let (r0, v0) = (self.s.real0 as i128, self.s.virt0 as i128);
        let mono = |i: usize| self.s.mono.map(|m| (m[i] as i128, m[i] as i128));
        match clock_id(clk) {
            abi::CLOCK_REALTIME | abi::CLOCK_REALTIME_COARSE | abi::CLOCK_REALTIME_ALARM => Some((r0, v0)),
            abi::CLOCK_TAI => Some((r0 + self.tai as i128, v0 + self.tai as i128)),
            _ if self.s.rate == 1.0 => None,
            abi::CLOCK_MONOTONIC | abi::CLOCK_MONOTONIC_COARSE => mono(0),
            abi::CLOCK_MONOTONIC_RAW => mono(1),
            abi::CLOCK_BOOTTIME | abi::CLOCK_BOOTTIME_ALARM => mono(2),
            _ => None,
        }
    }

    /// Real elapsed ns as virtual ones.
    fn stretch(&self, d: i128) -> i128 {
        if self.s.rate == 1.0 {
            d
        } else {
            (d as f64 * self.s.rate) as i128
        }
    }

    /// Virtual elapsed ns as real ones, rounded up (a deadline or a sleep
    /// is never reached early in virtual time).
    fn shrink(&self, d: i128) -> i128 {
        if self.s.rate == 1.0 || d == 0 {
            d
        } else {
            (d as f64 / self.s.rate) as i128 + 1
        }
    }

    fn to_virtual(&self, clk: usize, ns: i128) -> i128 {
        match self.anchor(clk) {
            Some((r0, v0)) => v0 + self.stretch(ns - r0),
            None => ns,
        }
    }

    fn real_deadline(&self, clk: usize, ts: [i64; 2]) -> Option<[i64; 2]> {
        let (r0, v0) = self.anchor(clk)?;
        if !valid(ts) || ts == [0, 0] {
            return None;
        }
        let real = r0 + self.shrink(ts_ns(ts[0], ts[1]) - v0);
        Some(ns_ts(real.max(1)))
    }

    fn real_interval(&self, clk: usize, ts: [i64; 2]) -> Option<[i64; 2]> {
        if self.s.rate == 1.0 || self.anchor(clk).is_none() || !valid(ts) || ts[0] < 0 {
            return None;
        }
        Some(ns_ts(self.shrink(ts_ns(ts[0], ts[1]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        assert_eq!(parse_anchor(b"100:-5"), Some((100, -5)));
        assert_eq!(parse_anchor(b"100"), None);
        assert_eq!(parse_rate(b"2.5"), Some(2.5));
        for bad in [&b"0"[..], b"-1", b"inf", b"NaN", b"x"] {
            assert_eq!(parse_rate(bad), None);
        }
        assert_eq!(parse_mono(b"1:2:3"), Some([1, 2, 3]));
        assert_eq!(parse_mono(b"1:2"), None);
        assert_eq!(parse_mono(b"1:2:3:4"), None);
    }

    #[test]
    fn timespecs() {
        assert_eq!(ns_ts(-1), [-1, 999_999_999]);
        assert_eq!(ns_ts(ts_ns(5, 7)), [5, 7]);
        assert_eq!(ns_ts(i128::MAX), [i64::MAX, 999_999_999]);
    }

    fn ts(l: &Line, clk: usize, t: [i64; 2]) -> [i64; 2] {
        ns_ts(l.to_virtual(clk, ts_ns(t[0], t[1])))
    }

    #[test]
    fn offset_line() {
        let day = 86_400 * NS as i64;
        let s = Settings { real0: 1_000 * NS as i64, virt0: 1_000 * NS as i64 + day, rate: 1.0, mono: None };
        let l = Line { s, tai: 0 };
        assert_eq!(ts(&l, abi::CLOCK_REALTIME, [1_005, 3]), [1_005 + 86_400, 3]);
        assert_eq!(ts(&l, abi::CLOCK_REALTIME_COARSE, [1_005, 3]), [1_005 + 86_400, 3]);
        assert_eq!(ts(&l, abi::CLOCK_TAI, [1_042, 0]), [1_042 + 86_400, 0]);
        assert_eq!(ts(&l, abi::CLOCK_MONOTONIC, [7, 0]), [7, 0]);
        assert_eq!(ts(&l, abi::CLOCK_THREAD_CPUTIME_ID, [7, 0]), [7, 0]);
        // A bad nsec is left for the kernel to refuse; {0, 0} disarms.
        assert_eq!(l.real_deadline(abi::CLOCK_REALTIME, [90_000, NS as i64]), None);
        assert_eq!(l.real_deadline(abi::CLOCK_REALTIME, [0, 0]), None);
        assert_eq!(l.real_deadline(abi::CLOCK_REALTIME, [1_000 + 86_400 + 2, 5]), Some([1_002, 5]));
        assert_eq!(l.real_deadline(abi::CLOCK_REALTIME, [5, 0]), Some([0, 1]));
        assert_eq!(l.real_deadline(abi::CLOCK_MONOTONIC, [5, 0]), None);
        assert_eq!(l.real_interval(abi::CLOCK_REALTIME, [5, 0]), None);
    }

    #[test]
    fn rate_line() {
        // Rate 2 from 2030, monotonic clocks too; TAI 37 s ahead.
        let s = Settings {
            real0: 1_000 * NS as i64,
            virt0: 1_893_456_000 * NS as i64,
            rate: 2.0,
            mono: Some([50 * NS as i64, 40 * NS as i64, 60 * NS as i64]),
        };
        let l = Line { s, tai: 37 * NS as i64 };
        assert_eq!(ts(&l, abi::CLOCK_REALTIME, [1_010, 0]), [1_893_456_020, 0]);
        assert_eq!(ts(&l, abi::CLOCK_TAI, [1_047, 0]), [1_893_456_057, 0]);
        assert_eq!(ts(&l, abi::CLOCK_MONOTONIC, [51, 500_000_000]), [53, 0]);
        assert_eq!(ts(&l, abi::CLOCK_MONOTONIC_RAW, [41, 0]), [42, 0]);
        assert_eq!(ts(&l, abi::CLOCK_BOOTTIME, [59, 0]), [58, 0]);
        assert_eq!(l.real_deadline(abi::CLOCK_REALTIME, [1_893_456_020, 0]), Some([1_010, 1]));
        assert_eq!(l.real_interval(abi::CLOCK_REALTIME, [1, 0]), Some([0, 500_000_001]));
        assert_eq!(l.real_interval(abi::CLOCK_MONOTONIC, [0, 0]), Some([0, 0]));
        assert_eq!(l.real_interval(abi::CLOCK_PROCESS_CPUTIME_ID, [1, 0]), None);
        let no_mono = Line { s: Settings { mono: None, ..s }, tai: 0 };
        assert_eq!(ts(&no_mono, abi::CLOCK_MONOTONIC, [51, 0]), [51, 0]);
        assert_eq!(whole_seconds(37 * NS - 3), 37 * NS as i64);
    }
}
