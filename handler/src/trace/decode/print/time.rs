//! Times: timespec and timeval, times()'s struct tms in clock ticks,
//! struct rusage.

use core::fmt::{self, Write};

use super::le;

pub(super) fn timespec(o: &mut dyn Write, b: &[u8; 16], unit: &str) -> fmt::Result {
    write!(
        o,
        "{{tv_sec={}, tv_{unit}={}}}",
        le(b, 0, 8) as i64,
        le(b, 8, 8) as i64
    )
}

pub(super) fn tms(o: &mut dyn Write, b: &[u8; 32]) -> fmt::Result {
    for (i, name) in ["{tms_utime=", ", tms_stime=", ", tms_cutime=", ", tms_cstime="].iter().enumerate() {
        o.write_str(name)?;
        ticks(o, le(b, 8 * i, 8))?;
    }
    o.write_char('}')
}

/// Clock ticks as strace shows them: `8 /* 0.08 s */` (USER_HZ is 100).
fn ticks(o: &mut dyn Write, t: u64) -> fmt::Result {
    if t == 0 {
        return o.write_char('0');
    }
    write!(o, "{t} /* {}.{:02} s */", t / 100, t % 100)
}

/// struct rusage as strace abbreviates it: the two times.
pub(super) fn rusage(o: &mut dyn Write, b: &[u8; 32]) -> fmt::Result {
    write!(
        o,
        "{{ru_utime={{tv_sec={}, tv_usec={}}}, ru_stime={{tv_sec={}, tv_usec={}}}, ...}}",
        le(b, 0, 8) as i64,
        le(b, 8, 8) as i64,
        le(b, 16, 8) as i64,
        le(b, 24, 8) as i64
    )
}
