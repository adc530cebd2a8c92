//! ioctl: requests by name or as `_IOC(...)`, and the arguments of the
//! terminal and fd requests (an int, struct winsize).

use core::fmt::{self, Write};

use crate::trace::decode::xlat::*;
use super::numbers::{hex, int_box, ptr};
use super::{Ctx, le, with};

/// ioctl's request (named, or `_IOC(...)`), then its argument.
pub(super) fn ioctl(c: &mut Ctx, i: usize) -> fmt::Result {
    let req = c.arg(i) as u32;
    let a = c.arg(i + 1);
    let done = c.done().is_some();
    c.sep()?;
    match IOCTL.get(req) {
        Some(name) => c.out.write_str(name)?,
        None if req >> 16 == 0 => hex(c.out, req.into())?,
        None => {
            let dir = [
                "_IOC_NONE",
                "_IOC_WRITE",
                "_IOC_READ",
                "_IOC_READ|_IOC_WRITE",
            ][(req >> 30) as usize];
            write!(c.out, "_IOC({dir}, ")?;
            hex(c.out, ((req >> 8) & 0xff).into())?;
            c.out.write_str(", ")?;
            hex(c.out, (req & 0xff).into())?;
            c.out.write_str(", ")?;
            hex(c.out, ((req >> 16) & 0x3fff).into())?;
            c.out.write_char(')')?;
        }
    }
    match req {
        // FIOCLEX, FIONCLEX, TIOCNOTTY, TIOCEXCL, TIOCNXCL, TIOCSBRK,
        // TIOCCBRK, TIOCVHANGUP, TIOCCONS take no argument.
        0x5451 | 0x5450 | 0x5422 | 0x540c | 0x540d | 0x5427 | 0x5428 | 0x5437 | 0x541d => Ok(()),
        // FIONBIO, FIOASYNC, TIOCSPGRP, TIOCSPTLCK, TIOCSETD read an int.
        0x5421 | 0x5452 | 0x5410 | 0x40045431 | 0x5423 => {
            c.sep()?;
            with(c.out, c.mem, a, int_box)
        }
        // FIONREAD, TIOCOUTQ, TIOCGPGRP, TIOCGPTN, TIOCGETD, TIOCGSID, TIOCMGET write one.
        0x541b | 0x5411 | 0x540f | 0x80045430 | 0x5424 | 0x5429 | 0x5415 => {
            c.sep()?;
            if done {
                with(c.out, c.mem, a, int_box)
            } else {
                ptr(c.out, a)
            }
        }
        0x5413 | 0x5414 => {
            c.sep()?;
            // TIOCGWINSZ fills the struct, TIOCSWINSZ reads it.
            if done || req == 0x5414 {
                with(c.out, c.mem, a, winsize)
            } else {
                ptr(c.out, a)
            }
        }
        _ => {
            c.sep()?;
            hex(c.out, a as u64)
        }
    }
}

fn winsize(o: &mut dyn Write, b: &[u8; 8]) -> fmt::Result {
    write!(
        o,
        "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
        le(b, 0, 2),
        le(b, 2, 2),
        le(b, 4, 2),
        le(b, 6, 2)
    )
}
