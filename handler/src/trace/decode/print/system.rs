//! What a process learns of the system and of itself: resource limits,
//! sysinfo, uname, CPU sets, group lists.

use core::fmt::{self, Write};

use crate::trace::decode::Memory;
use super::numbers::ptr;
use super::strings::cfield;
use super::{le, max_str, rd};

pub(super) fn rlimit(o: &mut dyn Write, b: &[u8; 16]) -> fmt::Result {
    o.write_str("{rlim_cur=")?;
    rlim(o, le(b, 0, 8))?;
    o.write_str(", rlim_max=")?;
    rlim(o, le(b, 8, 8))?;
    o.write_char('}')
}

fn rlim(o: &mut dyn Write, v: u64) -> fmt::Result {
    if v == u64::MAX {
        o.write_str("RLIM64_INFINITY")
    } else if v > 1024 && v.is_multiple_of(1024) {
        write!(o, "{}*1024", v / 1024)
    } else {
        write!(o, "{v}")
    }
}

pub(super) fn sysinfo(o: &mut dyn Write, b: &[u8; 112]) -> fmt::Result {
    let w = |i: usize| le(b, 8 * i, 8);
    write!(
        o,
        "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, bufferram={}, \
         totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, mem_unit={}}}",
        w(0) as i64,
        w(1),
        w(2),
        w(3),
        w(4),
        w(5),
        w(6),
        w(7),
        w(8),
        w(9),
        le(b, 80, 2),
        w(11),
        w(12),
        le(b, 104, 4)
    )
}

pub(super) fn uname(o: &mut dyn Write, b: &[u8; 130]) -> fmt::Result {
    o.write_str("{sysname=")?;
    cfield(o, &b[..65])?;
    o.write_str(", nodename=")?;
    cfield(o, &b[65..])?;
    o.write_str(", ...}")
}

/// A CPU set of `len` bytes: `[0 1]`, the CPUs in it.
pub(super) fn cpuset(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    // 1024 CPUs at most are shown; sets are read 8 bytes at a time.
    let words = len.min(128) / 8;
    if words > 0 && rd::<8>(m, addr).is_none() {
        return ptr(o, addr);
    }
    o.write_char('[')?;
    let mut first = true;
    for w in 0..words {
        let Some(b) = rd::<8>(m, addr.wrapping_add(8 * w)) else { break };
        let mut bits = le(&b, 0, 8);
        while bits != 0 {
            let cpu = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !core::mem::take(&mut first) {
                o.write_char(' ')?;
            }
            write!(o, "{cpu}")?;
        }
    }
    o.write_char(']')
}

/// getgroups' list of `n` gids.
pub(super) fn groups(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    if n > 0 && rd::<4>(m, addr).is_none() {
        return ptr(o, addr);
    }
    o.write_char('[')?;
    for i in 0..n {
        if i > 0 {
            o.write_str(", ")?;
        }
        let Some(b) = rd::<4>(m, addr.wrapping_add(4 * i)).filter(|_| i < max_str()) else {
            o.write_str("...")?;
            break;
        };
        write!(o, "{}", le(&b, 0, 4) as u32)?;
    }
    o.write_char(']')
}
