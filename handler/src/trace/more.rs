//! What strace's -z/-Z, -y/-yy, -P and -qq change in the tracer's lines
//! (the options are in trace_opts.rs): which calls are shown, and the
//! decorations of fds.

use core::fmt::{self, Write};

use syscalls::Sysno;

use super::decode::{self, Names};
use super::fdinfo;
use crate::thread::ThreadBlock;
use crate::trace_opts::Options;
use crate::{config, usermem};

fn opts() -> Option<&'static Options> {
    config::get().trace.as_ref().map(|t| &t.more)
}

/// -z/-Z: whether a call that returned `ret` (None: it did not return,
/// `= ?`) is shown. strace shows neither a call that does not return.
pub fn shown(ret: Option<isize>) -> bool {
    match (opts().map_or(0, |o| o.status), ret) {
        (0, _) => true,
        (_, None) => false,
        (1, Some(r)) => !(-4095..0).contains(&r),
        (_, Some(r)) => (-4095..0).contains(&r),
    }
}

/// -qq: no `+++ exited with N +++` lines.
pub fn quiet_exits() -> bool {
    opts().is_some_and(|o| o.quiet >= 2)
}

/// The first execve line (which succeeded): shown unless -Z, or -P names
/// none of its path.
pub fn exec_shown(path: &[u8]) -> bool {
    let Some(o) = opts() else { return true };
    shown(Some(0)) && (o.paths.is_empty() || o.paths.iter().any(|p| p[..] == *path))
}

/// -P: whether call `nr` can touch a path at all (it has a path or an fd
/// argument); true without -P.
pub fn may_match_paths(nr: usize) -> bool {
    match opts() {
        Some(o) if !o.paths.is_empty() => decode::names(nr).iter().any(Option::is_some),
        _ => true,
    }
}

/// -P: whether call `nr` with `args` touches one of the paths, as strace
/// decides it when the call is made: a path argument that is one of them
/// (as written, or as resolved by the launcher), or an fd argument whose
/// /proc/thread-self/fd link is. True without -P.
pub fn matches_paths(nr: usize, args: &[usize; 6]) -> bool {
    let Some(o) = opts().filter(|o| !o.paths.is_empty()) else { return true };
    decode::names(nr).iter().zip(args).any(|(n, &a)| match n {
        Some(Names::Path) => o.paths.iter().any(|p| path_is(a, p)),
        Some(Names::Fd) => fd_is(a as i32, &o.paths),
        None => false,
    })
}

/// Whether the program's string at `addr` is `p`.
fn path_is(addr: usize, p: &[u8]) -> bool {
    let mut b = [0u8; 4097];
    let n = p.len() + 1;
    // A shorter string cannot match: reading past its end matters not.
    n <= b.len() && addr != 0 && usermem::read(addr, &mut b[..n]) && b[..p.len()] == *p && b[p.len()] == 0
}

/// Whether fd `fd` refers to one of `paths` (its link as the kernel shows it).
fn fd_is(fd: i32, paths: &[alloc::vec::Vec<u8>]) -> bool {
    if fd < 0 || crate::ownfd::is_own(fd as usize) {
        return false;
    }
    let mut link = [0u8; 4096];
    let Some(n) = fdinfo::link(fd, &mut link) else { return false };
    paths.iter().any(|p| p[..] == link[..n])
}

/// -y: `ThreadBlock::trace_fd_text` filled as far as it goes.
struct Text<'a>(&'a mut [u8; 512], usize, bool);

impl Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let b = s.as_bytes();
        if self.1 + b.len() > self.0.len() {
            self.2 = true;
            return Err(fmt::Error);
        }
        self.0[self.1..self.1 + b.len()].copy_from_slice(b);
        self.1 += b.len();
        Ok(())
    }
}

/// Before a traced call is made: with -y, the decoration of the fd
/// argument it closes (close) or replaces (dup2's and dup3's target),
/// which after the call refers to something else or nothing, or whose
/// addresses it sets (bind, connect).
pub fn before(t: &mut ThreadBlock, nr: usize, args: &[usize; 6]) {
    t.trace_fd_before = 0;
    let level = opts().map_or(0, |o| o.fd_paths);
    if level == 0 {
        return;
    }
    let fd = match Sysno::new(nr) {
        // (-yy: a socket's addresses as they were before bind or connect.)
        Some(Sysno::close | Sysno::bind | Sysno::connect) => args[0],
        Some(Sysno::dup2 | Sysno::dup3) => args[1],
        _ => return,
    } as i32;
    let mut w = Text(&mut t.trace_fd_text, 0, false);
    let _ = fdinfo::write(&mut w, fd, level);
    // Too long to keep: shown as the fd is after the call.
    if !w.2 {
        t.trace_fd_len = w.1;
        t.trace_fd_before = fd.wrapping_add(1);
    }
}

/// What `before` kept for the call being recorded (then forgotten).
pub fn take_before(t: &mut ThreadBlock) -> Option<(i32, [u8; 512], usize)> {
    let fd = core::mem::take(&mut t.trace_fd_before);
    (fd != 0).then(|| (fd - 1, t.trace_fd_text, t.trace_fd_len.min(512)))
}

/// The decoder's `Memory::fd_info`: -y's decoration of `fd`, from `before`
/// when that is this argument's.
pub fn fd_info(out: &mut dyn Write, fd: i32, returned: bool, before: Option<(i32, &[u8])>) -> fmt::Result {
    let level = opts().map_or(0, |o| o.fd_paths);
    if level == 0 {
        return Ok(());
    }
    match before {
        Some((b, text)) if b == fd && !returned => out.write_str(core::str::from_utf8(text).unwrap_or("")),
        _ => fdinfo::write(out, fd, level),
    }
}
