//! `preld trace -e inject=` and `-e fault=`: strace's tampering syntax,
//! parsed and checked here, handed to ld-preld as `--inject` rules with
//! numbers only (handler/src/inject.rs makes them in the process).
//!
//! ```text
//! inject=SET[:error=ERRNO|:retval=VALUE][:signal=SIG][:syscall=PURE]
//!           [:delay_enter=DELAY][:delay_exit=DELAY][:when=EXPR]
//! fault=SET[:error=ERRNO][:when=EXPR]            (error defaults to ENOSYS)
//! EXPR: FIRST[..LAST][+[STEP]]     DELAY: a number [s|ms|us|ns], default us
//! ```
//!
//! strace's rules hold: one of error, retval, signal, delay_enter,
//! delay_exit is needed; error and retval exclude each other; one error or
//! retval and one signal at most; the last `when=` counts; FIRST and STEP
//! are 1..65535, LAST 1..65534. Errno and signal names are the trace's
//! own. `syscall=` names a call without side
//! effects (%pure) to make instead of none: preld makes none either way,
//! so it changes nothing but is checked. strace's `poke_enter=` and
//! `poke_exit=` are refused by name.

use syscalls::Sysno;

use crate::filter::{self, Filter};
use crate::tracer::names;

/// One `-e inject=`/`-e fault=` expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inject {
    pub calls: Vec<usize>,
    pub error: Option<u16>,
    pub retval: Option<i64>,
    pub signal: Option<u8>,
    pub delay_enter_ns: u64,
    pub delay_exit_ns: u64,
    /// (first, last, step); step 0: every invocation from first to last.
    pub when: (u32, u32, u32),
}

impl Inject {
    /// ld-preld's `--inject` value.
    pub fn ld_preld_arg(&self) -> String {
        let calls: Vec<String> = self.calls.iter().map(|n| n.to_string()).collect();
        let mut s = calls.join(",");
        if let Some(e) = self.error {
            s += &format!(":error={e}");
        }
        if let Some(r) = self.retval {
            s += &format!(":retval={r}");
        }
        if let Some(sig) = self.signal {
            s += &format!(":signal={sig}");
        }
        if self.delay_enter_ns != 0 {
            s += &format!(":delay_enter={}", self.delay_enter_ns);
        }
        if self.delay_exit_ns != 0 {
            s += &format!(":delay_exit={}", self.delay_exit_ns);
        }
        let (f, l, st) = self.when;
        s + &format!(":when={f},{l},{st}")
    }
}

/// Parses what follows `inject=` (`fault`: what follows `fault=`).
pub fn parse(spec: &str, fault: bool) -> Result<Inject, String> {
    let what = if fault { "fault" } else { "inject" };
    let mut parts = spec.split(':');
    let set = parts.next().unwrap_or("");
    let calls: Vec<usize> = match filter::parse(&format!("trace={set}")).map_err(|e| format!("-e {what}=: {e}"))? {
        Filter::All => Sysno::iter().map(|s| s.id() as usize).collect(),
        Filter::Only(names) => names.iter().map(|n| n.parse::<Sysno>().expect("a name the filter gave").id() as usize).collect(),
    };
    let calls: Vec<usize> = calls.into_iter().filter(|&n| n < 512).collect();
    let mut r = Inject { calls, error: None, retval: None, signal: None, delay_enter_ns: 0, delay_exit_ns: 0, when: (1, u32::MAX, 0) };
    let mut any = false;
    for opt in parts {
        let (key, value) = opt.split_once('=').ok_or_else(|| format!("-e {what}=: `{opt}` is not KEY=VALUE"))?;
        let allowed = !fault || matches!(key, "error" | "when");
        if !allowed {
            return Err(format!("-e fault= takes only error= and when= (`{key}=` is for -e inject=)"));
        }
        match key {
            "error" => {
                if r.error.is_some() || r.retval.is_some() {
                    return Err(format!("-e {what}=: only one error= or retval= in an expression"));
                }
                r.error = Some(errno(value)?);
            }
            "retval" => {
                if r.error.is_some() || r.retval.is_some() {
                    return Err(format!("-e {what}=: only one error= or retval= in an expression"));
                }
                r.retval = Some(value.parse().map_err(|_| format!("-e inject=: retval=`{value}` is no integer"))?);
            }
            "signal" => {
                if r.signal.is_some() {
                    return Err("-e inject=: only one signal= in an expression".into());
                }
                r.signal = Some(signal(value)?);
            }
            "syscall" => {
                let s: Sysno = value.parse().map_err(|_| format!("-e inject=: syscall=`{value}`: unknown x86_64 system call"))?;
                if !crate::filter::PURE.contains(&s.name()) {
                    return Err(format!("-e inject=: syscall={value}: only calls without side effects (%pure) can be injected"));
                }
                continue; // nothing to do: preld makes no call at all
            }
            "delay_enter" => r.delay_enter_ns = delay(value)?,
            "delay_exit" => r.delay_exit_ns = delay(value)?,
            "when" => {
                r.when = when(value)?;
                continue; // not an action
            }
            "poke_enter" | "poke_exit" => return Err(format!("-e inject=: {key}= is not supported by preld")),
            _ => return Err(format!("-e {what}=: unknown option `{key}=`")),
        }
        any = true;
    }
    if fault && r.error.is_none() {
        r.error = Some(libc::ENOSYS as u16); // strace's default for fault=
        any = true;
    }
    if !any {
        return Err("-e inject=: give at least one of error=, retval=, signal=, delay_enter=, delay_exit=".into());
    }
    Ok(r)
}

/// `FIRST[..LAST][+[STEP]]` → (first, last, step).
fn when(v: &str) -> Result<(u32, u32, u32), String> {
    let bad = || format!("when=`{v}`: expected FIRST[..LAST][+[STEP]]");
    let num = |s: &str, max: u32| s.parse::<u32>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(bad);
    let (range, step) = match v.split_once('+') {
        Some((r, "")) => (r, Some(1)),
        Some((r, s)) => (r, Some(num(s, 65535)?)),
        None => (v, None),
    };
    let (first, last) = match range.split_once("..") {
        Some((f, l)) => (num(f, 65535)?, Some(num(l, 65534)?)),
        None => (num(range, 65535)?, None),
    };
    match (last, step) {
        (Some(l), _) if l < first => Err(bad()),
        (None, None) => Ok((first, first, 0)),
        (Some(l), None) => Ok((first, l, 0)),
        (last, Some(s)) => Ok((first, last.unwrap_or(u32::MAX), s)),
    }
}

/// A delay in strace's time format: a strtod number, then s, ms, us or ns
/// (default us); as nanoseconds.
fn delay(v: &str) -> Result<u64, String> {
    let (num, scale) = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)]
        .iter()
        .find_map(|(suffix, scale)| v.strip_suffix(suffix).map(|n| (n, *scale)))
        .unwrap_or((v, 1e3));
    let n: f64 = num.parse().map_err(|_| format!("delay `{v}`: expected a number with s, ms, us or ns"))?;
    if !n.is_finite() || n < 0.0 || n * scale > u64::MAX as f64 {
        return Err(format!("delay `{v}` is out of range"));
    }
    Ok((n * scale).round() as u64)
}

/// `ENOENT` or 1..4095 (the names the trace prints).
fn errno(v: &str) -> Result<u16, String> {
    if let Ok(n) = v.parse::<u16>() {
        return if (1..4096).contains(&n) { Ok(n) } else { Err(format!("error={v}: errno numbers are 1..4095")) };
    }
    names::errno(v).map(|n| n as u16).ok_or_else(|| format!("error={v}: unknown errno name"))
}

/// `SIGUSR1`, `USR1`, `SIGRTMIN`, `SIGRT_2` or 1..64 (the names the trace
/// prints).
fn signal(v: &str) -> Result<u8, String> {
    if let Ok(n) = v.parse::<u8>() {
        return if (1..=64).contains(&n) { Ok(n) } else { Err(format!("signal={v}: signal numbers are 1..64")) };
    }
    let full = if v.starts_with("SIG") { v.to_string() } else { format!("SIG{v}") };
    names::signal(&full).map(|n| n as u8).ok_or_else(|| format!("signal={v}: unknown signal name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strace_expressions() {
        let r = parse("chdir:error=ENOENT:when=3+", false).unwrap();
        assert_eq!(r.calls, [Sysno::chdir.id() as usize]);
        assert_eq!((r.error, r.when), (Some(2), (3, u32::MAX, 1)));
        let r = parse("getppid,getpid:retval=42:signal=SIGUSR1:delay_enter=1.5ms:delay_exit=10", false).unwrap();
        assert_eq!(r.calls.len(), 2);
        assert_eq!((r.retval, r.signal, r.delay_enter_ns, r.delay_exit_ns), (Some(42), Some(10), 1_500_000, 10_000));
        assert_eq!(r.when, (1, u32::MAX, 0));
        assert_eq!(parse("openat", true).unwrap().error, Some(38));
        assert_eq!(parse("%file:error=EACCES", true).unwrap().error, Some(13));
        assert!(parse("%file:error=EACCES", true).unwrap().calls.contains(&(Sysno::openat.id() as usize)));
        assert_eq!(parse("write:signal=9:when=2..4", false).unwrap().when, (2, 4, 0));
        assert_eq!(parse("write:signal=USR2:when=2..10+3", false).unwrap().when, (2, 10, 3));
        assert_eq!(parse("write:signal=USR2:when=5", false).unwrap().when, (5, 5, 0));
        assert_eq!(parse("write:error=5:syscall=getpid", false).unwrap().error, Some(5));
    }

    #[test]
    fn refusals_say_why() {
        for (spec, fault, why) in [
            ("openat", false, "at least one"),
            ("openat:error=EIO:retval=1", false, "only one"),
            ("openat:error=ENOTANERRNO", false, "unknown errno"),
            ("openat:error=4096", false, "1..4095"),
            ("openat:signal=SIGNOPE", false, "unknown signal"),
            ("openat:signal=65", false, "1..64"),
            ("openat:when=0", false, "FIRST"),
            ("openat:when=5..3", false, "FIRST"),
            ("openat:when=1..65535", false, "FIRST"),
            ("openat:delay_enter=fast", false, "expected a number"),
            ("openat:syscall=write:error=1", false, "%pure"),
            ("openat:poke_enter=@arg1=00", false, "not supported"),
            ("openat:signal=SIGUSR1", true, "only error= and when="),
            ("nosuchcall:error=EIO", false, "unknown"),
            ("openat:bogus=1", false, "unknown option"),
        ] {
            let e = parse(spec, fault).unwrap_err();
            assert!(e.contains(why), "{spec}: {e}");
        }
    }

    #[test]
    fn the_handler_reads_what_this_writes() {
        let r = parse("openat,close:error=EIO:signal=SIGUSR1:delay_exit=2us:when=2+3", false).unwrap();
        let a = r.ld_preld_arg();
        assert_eq!(a, format!("{},{}:error=5:signal=10:delay_exit=2000:when=2,4294967295,3", Sysno::close.id(), Sysno::openat.id()));
    }
}
