//! Processes and threads: clone's registers, clone3's struct clone_args,
//! wait statuses, futex ops, prctl options.

use core::fmt::{self, Write};

use crate::trace::decode::{Memory, table::{FUTEX_ARGS, FUTEX_OTHER, H4, PRCTL}, xlat::*};
use super::numbers::{flags, hex, ptr, xlat};
use super::signals::sig;
use super::{Ctx, arg, le, rd};

/// clone's registers (flags, stack, parent_tid, child_tid, tls) named and
/// ordered as strace shows them, the pointers only when the flags use them.
pub(super) fn clone(c: &mut Ctx) -> fmt::Result {
    let a = *c.args;
    let fl = a[0] as u64;
    c.sep()?;
    c.out.write_str("child_stack=")?;
    ptr(c.out, a[1])?;
    c.sep()?;
    c.out.write_str("flags=")?;
    // The low byte is the signal sent to the parent when the child ends.
    let (signal, rest) = (fl & 0xff, fl & !0xff);
    if rest != 0 || signal == 0 {
        flags(c.out, rest, CLONE)?;
    }
    if signal != 0 {
        if rest != 0 {
            c.out.write_char('|')?;
        }
        sig(c.out, signal as i32)?;
    }
    for (mask, name, v) in [
        (CLONE_PARENT_SETTID | CLONE_PIDFD, "parent_tid=", a[2]),
        (CLONE_SETTLS, "tls=", a[4]),
        (
            CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
            "child_tidptr=",
            a[3],
        ),
    ] {
        if fl & mask != 0 {
            c.sep()?;
            c.out.write_str(name)?;
            // After the call, the parent's tid word holds the child's tid.
            let stored = (mask & CLONE_PARENT_SETTID != 0 && c.ret.is_some_and(|r| r > 0))
                .then(|| rd::<4>(c.mem, v))
                .flatten();
            match stored {
                Some(t) => write!(c.out, "[{}]", le(&t, 0, 4) as i32)?,
                None => ptr(c.out, v)?,
            }
        }
    }
    Ok(())
}

pub(super) fn clone3(o: &mut dyn Write, m: &dyn Memory, addr: usize, size: usize, ret: Option<isize>) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    // struct clone_args: 64 bytes in its first version, 88 now.
    let n = size.min(88);
    let mut b = [0u8; 88];
    if n < 64 || !m.read(addr, &mut b[..n]) {
        return ptr(o, addr);
    }
    let f = |i: usize| le(&b, 8 * i, 8);
    let fl = f(0);
    o.write_str("{flags=")?;
    flags(o, fl, CLONE)?;
    if fl & CLONE_PIDFD != 0 {
        o.write_str(", pidfd=")?;
        ptr(o, f(1) as usize)?;
    }
    if fl & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) != 0 {
        o.write_str(", child_tid=")?;
        ptr(o, f(2) as usize)?;
    }
    if fl & CLONE_PARENT_SETTID != 0 {
        o.write_str(", parent_tid=")?;
        ptr(o, f(3) as usize)?;
    }
    o.write_str(", exit_signal=")?;
    match i32::try_from(f(4)) {
        Ok(s) => sig(o, s)?,
        Err(_) => write!(o, "{}", f(4))?,
    }
    o.write_str(", stack=")?;
    ptr(o, f(5) as usize)?;
    o.write_str(", stack_size=")?;
    hex(o, f(6))?;
    if fl & CLONE_SETTLS != 0 {
        o.write_str(", tls=")?;
        ptr(o, f(7) as usize)?;
    }
    if n >= 80 && f(9) != 0 {
        o.write_str(", set_tid=")?;
        ptr(o, f(8) as usize)?;
        write!(o, ", set_tid_size={}", f(9))?;
    }
    if n >= 88 && fl & CLONE_INTO_CGROUP != 0 {
        write!(o, ", cgroup={}", f(10))?;
    }
    o.write_char('}')?;
    // The parent's view after the call: the tid the kernel stored.
    if ret.is_some_and(|r| r > 0) && fl & CLONE_PARENT_SETTID != 0 {
        if let Some(t) = rd::<4>(m, f(3) as usize) {
            write!(o, " => {{parent_tid=[{}]}}", le(&t, 0, 4) as i32)?;
        }
    }
    Ok(())
}

/// A wait status the way strace spells it: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
pub(super) fn wstatus(o: &mut dyn Write, s: u32) -> fmt::Result {
    let mut rest = s;
    if s & 0xff == 0x7f {
        let stop = (s >> 8) & 0xff;
        o.write_str("[{WIFSTOPPED(s) && WSTOPSIG(s) == ")?;
        sig(o, (stop & 0x7f) as i32)?;
        if stop & 0x80 != 0 {
            o.write_str(" | 0x80")?;
        }
        rest &= !0xffff;
    } else if (1..0x7f).contains(&(s & 0x7f)) {
        o.write_str("[{WIFSIGNALED(s) && WTERMSIG(s) == ")?;
        sig(o, (s & 0x7f) as i32)?;
        if s & 0x80 != 0 {
            o.write_str(" && WCOREDUMP(s)")?;
        }
        rest &= !0xff;
    } else if s & 0x7f == 0 {
        write!(
            o,
            "[{{WIFEXITED(s) && WEXITSTATUS(s) == {}",
            (s >> 8) & 0xff
        )?;
        rest &= !0xff00;
    } else if s == 0xffff {
        o.write_str("[{WIFCONTINUED(s)")?;
        rest = 0;
    } else {
        return write!(o, "[{s:#x}]");
    }
    o.write_char('}')?;
    if rest >> 16 != 0 {
        o.write_str(" | ")?;
        xlat(o, rest >> 16, &PTRACE_EVENT)?;
        o.write_str(" << 16")?;
    }
    if rest & 0xffff != 0 {
        write!(o, " | {:#x}", rest & 0xffff)?;
    }
    o.write_char(']')
}

/// futex's op (`FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`), then the
/// arguments that op uses.
pub(super) fn futex(c: &mut Ctx, i: usize) -> fmt::Result {
    let op = c.arg(i) as u32;
    let cmd = op & 0x7f;
    c.sep()?;
    match FUTEX.get(cmd) {
        Some(name) => {
            c.out.write_str(name)?;
            if op & 128 != 0 {
                c.out.write_str("_PRIVATE")?;
            }
            if op & 256 != 0 {
                c.out.write_str("|FUTEX_CLOCK_REALTIME")?;
            }
            if op & !0x1ff != 0 {
                write!(c.out, "|{:#x}", op & !0x1ff)?;
            }
        }
        None => xlat(c.out, op, &FUTEX)?,
    }
    let rest = FUTEX_ARGS.get(cmd as usize).copied().unwrap_or(FUTEX_OTHER);
    for &(k, j) in rest {
        arg(c, k, j as usize)?;
    }
    Ok(())
}

/// prctl's option, then the arguments that option uses.
pub(super) fn prctl(c: &mut Ctx, i: usize) -> fmt::Result {
    let opt = c.arg(i) as u32;
    c.sep()?;
    let rest = match PRCTL.iter().find(|e| e.0 == opt) {
        Some(e) => {
            c.out.write_str(e.1)?;
            e.2
        }
        None => {
            hex(c.out, opt.into())?;
            c.out.write_str(" /* PR_??? */")?;
            H4
        }
    };
    for (j, &k) in rest.iter().enumerate() {
        arg(c, k, i + 1 + j)?;
    }
    Ok(())
}
