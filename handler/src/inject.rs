//! strace's `-e inject=` and `-e fault=`, made in the process: a traced
//! call of the set is answered with an error or a value instead of being
//! made, delayed before or after, and/or followed by a signal, on the
//! invocations `when=` names (counted per call and per thread, as strace
//! counts per call and per tracee). As in strace, only calls that are
//! traced (the `-e trace=` set, `-f`) are tampered with.
//!
//! ld-preld's `--inject SPEC` carries one rule, already parsed by the CLI:
//! `NR,NR,...` then `:key=value` fields with numbers only: `error=ERRNO`,
//! `retval=N`, `signal=SIG`, `delay_enter=NS`, `delay_exit=NS`,
//! `when=FIRST,LAST,STEP` (STEP 0: FIRST..LAST every time). A later rule
//! takes a call from an earlier one.

use alloc::vec::Vec;

use crate::{abi, sys};

/// What a rule does to the invocations it matches.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rule {
    /// The calls, as a bitmap of numbers below 512.
    pub calls: [u64; 8],
    /// Not made: fail with this errno (error=), or
    pub error: Option<u16>,
    /// not made: return this (retval=).
    pub retval: Option<isize>,
    /// Sent to the thread once the call is over (signal=).
    pub signal: Option<u8>,
    pub delay_enter_ns: u64,
    pub delay_exit_ns: u64,
    /// when=FIRST..LAST+STEP; STEP 0 means every invocation of the range.
    pub first: u32,
    pub last: u32,
    pub step: u32,
}

impl Rule {
    fn has(&self, nr: usize) -> bool {
        nr < 512 && self.calls[nr / 64] & (1 << (nr % 64)) != 0
    }

    /// Whether invocation `n` (1-based) is one to tamper with.
    pub fn when(&self, n: u32) -> bool {
        n >= self.first && n <= self.last && (self.step == 0 || (n - self.first) % self.step == 0)
    }

    /// Parses ld-preld's `--inject` value.
    pub fn parse(v: &[u8]) -> Result<Rule, &'static str> {
        const BAD: &str = "--inject needs NR,...[:error=N|:retval=N][:signal=N][:delay_enter=NS][:delay_exit=NS][:when=F,L,S]";
        let v = core::str::from_utf8(v).map_err(|_| BAD)?;
        let mut parts = v.split(':');
        let mut r = Rule { first: 1, last: u32::MAX, step: 0, ..Rule::default() };
        for nr in parts.next().unwrap_or("").split(',') {
            let nr: usize = nr.parse().map_err(|_| BAD)?;
            if nr >= 512 {
                return Err("--inject: a call number above 511");
            }
            r.calls[nr / 64] |= 1 << (nr % 64);
        }
        for p in parts {
            let (k, val) = p.split_once('=').ok_or(BAD)?;
            let num = |s: &str| s.parse::<i64>().map_err(|_| BAD);
            match k {
                "error" => r.error = Some(u16::try_from(num(val)?).ok().filter(|e| (1..4096).contains(e)).ok_or(BAD)?),
                "retval" => r.retval = Some(num(val)? as isize),
                "signal" => r.signal = Some(u8::try_from(num(val)?).ok().filter(|s| (1..=64).contains(s)).ok_or(BAD)?),
                "delay_enter" => r.delay_enter_ns = u64::try_from(num(val)?).map_err(|_| BAD)?,
                "delay_exit" => r.delay_exit_ns = u64::try_from(num(val)?).map_err(|_| BAD)?,
                "when" => {
                    let w: Vec<u32> = val.split(',').map(|s| s.parse().map_err(|_| BAD)).collect::<Result<_, _>>()?;
                    let [first, last, step] = w[..] else { return Err(BAD) };
                    if first == 0 || last < first {
                        return Err(BAD);
                    }
                    (r.first, r.last, r.step) = (first, last, step);
                }
                _ => return Err(BAD),
            }
        }
        if r.error.is_some() && r.retval.is_some() {
            return Err("--inject: error and retval exclude each other");
        }
        Ok(r)
    }

    /// Whether the call is answered without being made.
    pub fn answers(&self) -> Option<isize> {
        self.error.map(|e| -(e as isize)).or(self.retval)
    }
}

/// What a tampered invocation still needs once its call is over, and how
/// its trace line is marked.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Tampered {
    pub nr: usize,
    /// Answered without the call: ` (INJECTED)`.
    pub injected: bool,
    /// Delayed before or after: ` (DELAYED)`.
    pub delayed: bool,
}

/// The rule for call `nr`: the last one naming it.
pub fn rule(rules: &[Rule], nr: usize) -> Option<&Rule> {
    rules.iter().rev().find(|r| r.has(nr))
}

/// A traced call enters: counts it in the thread's `counts`, and if this
/// invocation is one to tamper with, makes the entry delay. Returns the
/// tampering, and the answer when the call is not to be made.
pub fn enter(counts: &mut [u32; 512], rules: &[Rule], nr: usize) -> Option<(Tampered, Option<isize>)> {
    let r = rule(rules, nr)?;
    let n = counts.get_mut(nr)?;
    *n = n.saturating_add(1);
    if !r.when(*n) {
        return None;
    }
    sleep(r.delay_enter_ns);
    let answer = r.answers();
    let tampered = Tampered { nr, injected: answer.is_some(), delayed: r.delay_enter_ns != 0 || r.delay_exit_ns != 0 };
    Some((tampered, answer))
}

/// A tampered call is over (made or answered): the exit delay, then the
/// signal, which arrives as soon as the handler returns, with si_code
/// SI_KERNEL as strace's does.
pub fn exit(tid: i32, rules: &[Rule], nr: usize) {
    let Some(r) = rule(rules, nr) else { return };
    sleep(r.delay_exit_ns);
    if let Some(sig) = r.signal {
        let mut info = [0u8; 128];
        info[0..4].copy_from_slice(&(sig as i32).to_ne_bytes());
        info[8..12].copy_from_slice(&abi::SI_KERNEL.to_ne_bytes());
        let _ = sys::queue_signal_to_self(tid, sig as usize, &info);
    }
}

fn sleep(ns: u64) {
    if ns != 0 {
        sys::sleep_ns(ns);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_cli_gives() {
        let r = Rule::parse(b"2,257:error=2:when=3,65535,1").unwrap();
        assert!(r.has(2) && r.has(257) && !r.has(3));
        assert_eq!((r.error, r.answers()), (Some(2), Some(-2)));
        assert_eq!((r.first, r.last, r.step), (3, 65535, 1));
        let r = Rule::parse(b"110:retval=-7:signal=10:delay_enter=1000:delay_exit=5").unwrap();
        assert_eq!((r.retval, r.signal, r.delay_enter_ns, r.delay_exit_ns), (Some(-7), Some(10), 1000, 5));
        assert!(r.when(1) && r.when(70000));
        for bad in [&b""[..], b"x", b"600", b"1:error=0", b"1:error=4096", b"1:error=1:retval=2", b"1:when=0,1,0", b"1:when=3,2,0", b"1:what=1", b"1:signal=65"] {
            assert!(Rule::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn when_picks_strace_invocations() {
        let w = |f, l, s| Rule { first: f, last: l, step: s, ..Rule::default() };
        let picked = |r: Rule| (1..=12).filter(|&n| r.when(n)).collect::<Vec<_>>();
        assert_eq!(picked(w(3, 3, 0)), [3]); // 3
        assert_eq!(picked(w(3, u32::MAX, 1)), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // 3+
        assert_eq!(picked(w(2, u32::MAX, 4)), [2, 6, 10]); // 2+4
        assert_eq!(picked(w(2, 5, 0)), [2, 3, 4, 5]); // 2..5
        assert_eq!(picked(w(2, 9, 3)), [2, 5, 8]); // 2..9+3
    }

    #[test]
    fn the_last_rule_naming_a_call_wins() {
        let a = Rule::parse(b"1,2:error=1").unwrap();
        let b = Rule::parse(b"2:retval=5").unwrap();
        let rules = [a, b];
        assert_eq!(rule(&rules, 1).and_then(Rule::answers), Some(-1));
        assert_eq!(rule(&rules, 2).and_then(Rule::answers), Some(5));
        assert!(rule(&rules, 3).is_none());
    }
}
