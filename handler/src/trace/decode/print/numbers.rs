//! Numbers, flags and named constants: hex, pointers, modes, flag sets,
//! enums, an int the call reads or writes.

use core::fmt::{self, Write};

use crate::trace::decode::xlat::*;
use super::le;

/// strace's `%#lx`: `0x1f`, and `0` for zero.
pub(super) fn hex(o: &mut dyn Write, v: u64) -> fmt::Result {
    if v == 0 {
        o.write_char('0')
    } else {
        write!(o, "{v:#x}")
    }
}

pub(super) fn ptr(o: &mut dyn Write, v: usize) -> fmt::Result {
    if v == 0 {
        o.write_str("NULL")
    } else {
        write!(o, "{v:#x}")
    }
}

/// strace's `%#03o`: `0644`, `022`, `000`.
pub(super) fn mode(o: &mut dyn Write, v: u32) -> fmt::Result {
    write!(o, "0{v:02o}")
}

/// A mode with its file type and set-id bits named: `S_IFREG|S_ISUID|0755`.
pub(super) fn mode_t(o: &mut dyn Write, v: u32) -> fmt::Result {
    let t = v & 0o170000;
    if t != 0 {
        match FILE_TYPES.iter().find(|e| e.0 == t) {
            Some(e) => write!(o, "{}|", e.1)?,
            None => write!(o, "{t:#o}|")?,
        }
    }
    for (bit, name) in [
        (0o4000, "S_ISUID"),
        (0o2000, "S_ISGID"),
        (0o1000, "S_ISVTX"),
    ] {
        if v & bit != 0 {
            write!(o, "{name}|")?;
        }
    }
    mode(o, v & 0o777)
}

/// `A|B|0x40` (unknown bits last, in hex), or `0`.
pub(super) fn flags(o: &mut dyn Write, v: u64, set: &[Flag]) -> fmt::Result {
    let mut rest = v;
    let mut any = false;
    for fl in set {
        // A zero value names an empty field of the original value; the
        // others must still be there, not used up by an earlier name.
        let hit = if fl.v == 0 {
            v & fl.m == 0
        } else {
            rest & fl.m == fl.v
        };
        if hit {
            if any {
                o.write_char('|')?;
            }
            o.write_str(fl.n)?;
            any = true;
            rest &= !fl.m;
        }
    }
    if rest != 0 {
        if any {
            o.write_char('|')?;
        }
        write!(o, "{rest:#x}")?;
    } else if !any {
        o.write_char('0')?;
    }
    Ok(())
}

/// Open flags: the access mode always, then the other flags.
pub(super) fn oflags(o: &mut dyn Write, v: u32) -> fmt::Result {
    o.write_str(match v & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    })?;
    let rest = u64::from(v & !3);
    if rest != 0 {
        o.write_char('|')?;
        flags(o, rest, O_FLAGS)?;
    }
    Ok(())
}

pub(super) fn xlat(o: &mut dyn Write, v: u32, x: &Xlat) -> fmt::Result {
    match x.get(v) {
        Some(name) => o.write_str(name),
        None if x.unknown.is_empty() => hex(o, v.into()),
        None => {
            hex(o, v.into())?;
            write!(o, " /* {}??? */", x.unknown)
        }
    }
}

pub(super) fn int_box(o: &mut dyn Write, b: &[u8; 4]) -> fmt::Result {
    write!(o, "[{}]", le(b, 0, 4) as i32)
}
