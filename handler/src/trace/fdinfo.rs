//! strace's -y and -yy: what an fd refers to, written after its number
//! (`3</etc/passwd>`, `AT_FDCWD</home/u>`, `4<pipe:[123]>`, with -yy
//! `5<TCP:[127.0.0.1:5555->127.0.0.1:40000]>`, `1</dev/null<char 1:3>>`).
//!
//! Read in the process without an fd of preld's: readlink of
//! /proc/thread-self/fd/N (or /cwd), and for -yy the fd itself:
//! fgetxattr("system.sockprotoname") for a socket's protocol (as strace
//! names it), getsockname/getpeername for its addresses, fstat for a
//! device's numbers. strace reads sockets' details from sock_diag; what
//! that adds and this cannot see is a UNIX socket's peer inode.

use core::fmt::{self, Write};

use crate::abi::{AT_FDCWD, S_IFMT};
use crate::trace::decode;
use crate::{ownfd, sys};

/// The longest link read (PATH_MAX).
pub const LINK_MAX: usize = 4096;

/// `/proc/thread-self/fd/N\0` (or `/proc/thread-self/cwd\0` for AT_FDCWD)
/// in `buf`; its length.
fn link_path(fd: i32, buf: &mut [u8; 40]) -> usize {
    let head: &[u8] = if fd == AT_FDCWD { b"/proc/thread-self/cwd" } else { b"/proc/thread-self/fd/" };
    buf[..head.len()].copy_from_slice(head);
    let mut n = head.len();
    if fd != AT_FDCWD {
        let mut digits = [0u8; 10];
        let (mut v, mut d) = (fd as u32, 0);
        loop {
            digits[d] = b'0' + (v % 10) as u8;
            d += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in (0..d).rev() {
            buf[n] = digits[i];
            n += 1;
        }
    }
    buf[n] = 0;
    n + 1
}

/// What fd `fd` (or AT_FDCWD: the working directory) links to in
/// /proc/thread-self: its length in `buf`.
pub fn link(fd: i32, buf: &mut [u8; LINK_MAX]) -> Option<usize> {
    let mut lp = [0u8; 40];
    let n = link_path(fd, &mut lp);
    sys::readlink_nul(&lp[..n], buf).ok()
}

/// Writes fd `fd`'s decoration at -y `level` (1: its path, 2: sockets'
/// and devices' details too); nothing for an fd that is not open (or is
/// preld's own, which the program cannot see).
pub fn write(out: &mut dyn Write, fd: i32, level: u8) -> fmt::Result {
    if level == 0 || (fd < 0 && fd != AT_FDCWD) || (fd >= 0 && ownfd::is_own(fd as usize)) {
        return Ok(());
    }
    let mut link = [0u8; LINK_MAX];
    let Some(len) = self::link(fd, &mut link) else { return Ok(()) };
    let mut path = &link[..len];
    // strace shows a deleted file's path, then `(deleted)` outside the brackets.
    let deleted = fd != AT_FDCWD && path.ends_with(b" (deleted)");
    if deleted {
        path = &path[..path.len() - b" (deleted)".len()];
    }
    if level >= 2 && fd != AT_FDCWD {
        if let Some(ino) = path.strip_prefix(b"socket:[").and_then(|r| r.strip_suffix(b"]")) {
            if socket(out, fd, ino)? {
                return Ok(());
            }
        } else if path.starts_with(b"/") && device(out, fd, path)? {
            return Ok(());
        }
    }
    decode::write_fd_path(&mut Out(out), path)?;
    if deleted {
        out.write_str("(deleted)")?;
    }
    Ok(())
}

/// `&mut dyn Write` as an `impl Write` for the decoder's generic functions.
struct Out<'a>(&'a mut dyn Write);

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_str(s)
    }
}

/// `<PROTO:[details]>` for socket inode `ino` (digits): `src->dst` when
/// connected, `src` when bound to a port (inet), `ino,"path"` when bound
/// (UNIX), else the inode. False when the protocol is unknown (then the
/// plain `socket:[N]` is shown, as strace does).
fn socket(out: &mut dyn Write, fd: i32, ino: &[u8]) -> Result<bool, fmt::Error> {
    let mut proto = [0u8; 32];
    let Ok(n) = sys::fgetxattr(fd, b"system.sockprotoname\0", &mut proto) else { return Ok(false) };
    let proto = &proto[..n];
    let proto = proto.strip_suffix(b"\0").unwrap_or(proto);
    let Ok(proto) = core::str::from_utf8(proto) else { return Ok(false) };
    write!(out, "<{proto}:[")?;
    let (mut local, mut peer) = ([0u8; 128], [0u8; 128]);
    let ln = sys::sock_name(fd, false, &mut local).unwrap_or(0);
    let pn = sys::sock_name(fd, true, &mut peer).unwrap_or(0);
    let (local, peer) = (&local[..ln], &peer[..pn]);
    let bound_port = local.len() >= 4 && (local[2] != 0 || local[3] != 0);
    let mut o = Out(out);
    let inet = if pn > 0 && ln > 0 {
        let mut tmp = Probe(false);
        if decode::write_inet_address(&mut tmp, local)? && decode::write_inet_address(&mut tmp, peer)? {
            decode::write_inet_address(&mut o, local)?;
            o.write_str("->")?;
            decode::write_inet_address(&mut o, peer)?;
            true
        } else {
            false
        }
    } else if bound_port {
        decode::write_inet_address(&mut o, local)?
    } else {
        false
    };
    if !inet {
        o.write_str(core::str::from_utf8(ino).unwrap_or("?"))?;
        // A UNIX socket bound to a path (sun_path from offset 2, NUL-ended).
        if proto.starts_with("UNIX") && ln > 2 && local[2] != 0 {
            let p = &local[2..];
            let p = &p[..p.iter().position(|&c| c == 0).unwrap_or(p.len())];
            o.write_str(",")?;
            decode::write_quoted(&mut o, p, usize::MAX)?;
        }
    }
    o.write_str("]>")?;
    Ok(true)
}

/// A writer that only checks (the address is printable) without output.
struct Probe(bool);

impl Write for Probe {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        self.0 = true;
        Ok(())
    }
}

/// `</dev/null<char 1:3>>` for a character or block device; false for
/// other files.
fn device(out: &mut dyn Write, fd: i32, path: &[u8]) -> Result<bool, fmt::Error> {
    let Ok((mode, rdev)) = sys::fstat_dev(fd) else { return Ok(false) };
    let kind = match mode & S_IFMT {
        crate::abi::S_IFCHR => "char",
        crate::abi::S_IFBLK => "block",
        _ => return Ok(false),
    };
    // glibc's major() and minor() of a dev_t.
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    // Inside the path's brackets: `</dev/null` + `<char 1:3>` + `>`.
    decode::write_fd_path_open(&mut Out(out), path)?;
    write!(out, "<{kind} {major}:{minor}>>")?;
    Ok(true)
}
