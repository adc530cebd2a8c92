//! Signals: names, sets, the kernel's struct sigaction, sigaltstack's
//! stack_t.

use core::fmt::{self, Write};

use crate::trace::decode::xlat::*;
use super::numbers::{flags, hex, ptr, xlat};
use super::le;

pub(super) fn sig(o: &mut dyn Write, s: i32) -> fmt::Result {
    match s {
        1..=31 => o.write_str(SIGNALS[s as usize]),
        32 => o.write_str("SIGRTMIN"),
        33..=64 => write!(o, "SIGRT_{}", s - 32),
        _ => write!(o, "{s}"),
    }
}

/// `[INT TERM]`, or `~[RTMIN RT_1]` (the complement) when most signals are in it.
pub(in crate::trace::decode) fn sigset(o: &mut dyn Write, set: u64) -> fmt::Result {
    let (neg, set) = if set.count_ones() > 32 {
        (true, !set)
    } else {
        (false, set)
    };
    if neg {
        o.write_char('~')?;
    }
    o.write_char('[')?;
    let mut first = true;
    for bit in 0..64 {
        if set >> bit & 1 == 0 {
            continue;
        }
        if !core::mem::take(&mut first) {
            o.write_char(' ')?;
        }
        match bit + 1 {
            s @ 1..=31 => o.write_str(&SIGNALS[s][3..])?,
            32 => o.write_str("RTMIN")?,
            s => write!(o, "RT_{}", s - 32)?,
        }
    }
    o.write_char(']')
}

/// The kernel's struct sigaction of x86_64: handler, flags, restorer, mask.
pub(super) fn sigaction(o: &mut dyn Write, b: &[u8; 32]) -> fmt::Result {
    let (handler, fl, restorer, mask) = (le(b, 0, 8), le(b, 8, 8), le(b, 16, 8), le(b, 24, 8));
    o.write_str("{sa_handler=")?;
    match handler {
        0 => o.write_str("SIG_DFL")?,
        1 => o.write_str("SIG_IGN")?,
        h => hex(o, h)?,
    }
    o.write_str(", sa_mask=")?;
    sigset(o, mask)?;
    o.write_str(", sa_flags=")?;
    flags(o, fl, SA)?;
    if fl & SA_RESTORER != 0 {
        o.write_str(", sa_restorer=")?;
        ptr(o, restorer as usize)?;
    }
    o.write_char('}')
}

pub(super) fn stack_t(o: &mut dyn Write, b: &[u8; 24]) -> fmt::Result {
    o.write_str("{ss_sp=")?;
    ptr(o, le(b, 0, 8) as usize)?;
    o.write_str(", ss_flags=")?;
    xlat(o, le(b, 8, 4) as u32, &SS_FLAGS)?;
    write!(o, ", ss_size={}}}", le(b, 16, 8))
}
