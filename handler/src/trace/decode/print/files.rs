//! Files: struct stat, statx and statfs, directory entries, openat2's
//! open_how, fcntl's commands and struct flock.

use core::fmt::{self, Write};

use crate::trace::decode::{Memory, table::A, xlat::*};
use super::numbers::{flags, hex, mode, mode_t, oflags, ptr, xlat};
use super::{Ctx, arg, le, rd, with};

/// struct stat, as strace abbreviates it: mode, and size or device.
pub(super) fn stat(o: &mut dyn Write, b: &[u8; 56]) -> fmt::Result {
    let mode = le(b, 24, 4) as u32;
    o.write_str("{st_mode=")?;
    mode_t(o, mode)?;
    match mode & 0o170000 {
        0o020000 | 0o060000 => {
            let d = le(b, 40, 8);
            o.write_str(", st_rdev=makedev(")?;
            hex(o, ((d >> 8) & 0xfff) | ((d >> 32) & 0xffff_f000))?;
            o.write_str(", ")?;
            hex(o, (d & 0xff) | ((d >> 12) & 0xffff_ff00))?;
            o.write_char(')')?;
        }
        _ => write!(o, ", st_size={}", le(b, 48, 8) as i64)?,
    }
    o.write_str(", ...}")
}

pub(super) fn statx(o: &mut dyn Write, b: &[u8; 48]) -> fmt::Result {
    o.write_str("{stx_mask=")?;
    flags(o, le(b, 0, 4), STATX_MASK)?;
    o.write_str(", stx_attributes=")?;
    flags(o, le(b, 8, 8), STATX_ATTR)?;
    o.write_str(", stx_mode=")?;
    mode_t(o, le(b, 28, 2) as u32)?;
    write!(o, ", stx_size={}, ...}}", le(b, 40, 8))
}

pub(super) fn statfs(o: &mut dyn Write, b: &[u8; 120]) -> fmt::Result {
    let w = |i: usize| le(b, 8 * i, 8);
    o.write_str("{f_type=")?;
    xlat(o, w(0) as u32, &FS_MAGIC)?;
    write!(
        o,
        ", f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, f_ffree={}, f_fsid={{val=[",
        w(1),
        w(2),
        w(3),
        w(4),
        w(5),
        w(6)
    )?;
    hex(o, le(b, 56, 4))?;
    o.write_str(", ")?;
    hex(o, le(b, 60, 4))?;
    write!(o, "]}}, f_namelen={}, f_frsize={}, f_flags=", w(8), w(9))?;
    flags(o, w(10), ST_FLAGS)?;
    o.write_char('}')
}

/// getdents' buffer as strace abbreviates it: `0x55... /* 5 entries */`.
pub(super) fn dents(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
    ptr(o, addr)?;
    let (mut off, mut n) = (0usize, 0u32);
    while off < len && n < 1 << 16 {
        // d_reclen is at offset 16 in both linux_dirent and linux_dirent64.
        let Some(b) = rd::<2>(m, addr.wrapping_add(off).wrapping_add(16)) else {
            break;
        };
        match le(&b, 0, 2) as usize {
            0 => break,
            reclen => off = off.saturating_add(reclen),
        }
        n += 1;
    }
    write!(o, " /* {n} entries */")
}

pub(super) fn open_how(o: &mut dyn Write, b: &[u8; 24]) -> fmt::Result {
    let (fl, mode_, resolve) = (le(b, 0, 8), le(b, 8, 8), le(b, 16, 8));
    o.write_str("{flags=")?;
    oflags(o, fl as u32)?;
    if fl & (O_CREAT | O_TMPFILE_BIT) != 0 || mode_ != 0 {
        o.write_str(", mode=")?;
        mode(o, mode_ as u32)?;
    }
    o.write_str(", resolve=")?;
    flags(o, resolve, RESOLVE)?;
    o.write_char('}')
}

/// fcntl's command, then its argument read the way the command takes it.
pub(super) fn fcntl(c: &mut Ctx, i: usize) -> fmt::Result {
    let cmd = c.arg(i) as u32;
    c.sep()?;
    xlat(c.out, cmd, &FCNTL)?;
    let k = match cmd {
        // F_GETFD, F_GETFL, F_GETOWN, F_GETSIG, F_GETLEASE, F_GETPIPE_SZ, F_GET_SEALS
        1 | 3 | 9 | 11 | 1025 | 1032 | 1034 => return Ok(()),
        2 => A::Flags(FD_FLAGS),
        4 => A::OFlags,
        0 | 8 | 1027 | 1030 | 1031 => A::Int,
        10 => A::Sig,
        1024 => A::Enum(&LEASE),
        1033 => A::Flags(SEALS),
        5 | 6 | 7 | 36 | 37 | 38 => {
            let a = c.arg(i + 1);
            c.sep()?;
            return with(c.out, c.mem, a, flock);
        }
        _ => A::Hex,
    };
    arg(c, k, i + 1)
}

fn flock(o: &mut dyn Write, b: &[u8; 24]) -> fmt::Result {
    o.write_str("{l_type=")?;
    xlat(o, le(b, 0, 2) as u32, &LEASE)?;
    o.write_str(", l_whence=")?;
    xlat(o, le(b, 2, 2) as u32, &WHENCE)?;
    write!(
        o,
        ", l_start={}, l_len={}}}",
        le(b, 8, 8) as i64,
        le(b, 16, 8) as i64
    )
}
