//! Decoding of x86_64 Linux system calls into strace-style text.
//!
//! ```text
//! openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//! read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
//! newfstatat(AT_FDCWD, "/x", 0x7ffc2a10, 0) = -1 ENOENT (No such file or directory)
//! ```
//!
//! The API, for a tracer holding a call's number, its six argument registers
//! and a view of the traced program's memory:
//!
//! * [`write_call`] writes `name(args...)`. Given `ret = None` (before the
//!   call) it decodes the inputs and shows output arguments as pointers;
//!   given `Some(ret)` (after the call) it also decodes the outputs, if the
//!   call succeeded: a read's bytes, a stat's struct, pipe's fds...
//! * [`write_result`] writes ` = 3`, ` = 0x7f0a1c000000` (mmap, brk),
//!   ` = -1 ENOENT (No such file or directory)` or
//!   ` = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`. Calls that do
//!   not return (exit_group, a successful execve seen from the new image) are
//!   the tracer's business: strace writes ` = ?`.
//! * [`decode_after`] says whether the call has such outputs, so a tracer
//!   writes the line once the call returned (`write_call(.., Some(ret))`
//!   then `write_result`); for the others it may write `write_call(.., None)`
//!   before the call (needed for execve, whose memory is gone after it, and
//!   for calls that block) and `write_result` after.
//! * [`arity`] gives how many arguments a call takes.
//!
//! Output goes to any `core::fmt::Write`, with no allocation; strings are
//! C-escaped and cut at 32 bytes with `...` (strace's default `-s 32`),
//! paths are printed whole, unreadable pointers print in hex. Every call of
//! x86_64 has an entry in a table of argument kinds (`table.rs`, keyed by
//! `Sysno`; the names of flags and constants are in `xlat.rs`, the printers
//! of each kind in `print/`, a file per topic): calls without a better
//! reading show their arguments in hex, as many as they take; numbers that
//! are no call print as `syscall_0x190(...)` with all six registers.

mod print;
mod table;
// Tables of names, laid out by hand to stay compact.
#[rustfmt::skip]
mod xlat;

#[cfg(test)]
mod tests;

use core::fmt;

use syscalls::Sysno;

/// The traced program's memory, as the decoder reads it.
pub trait Memory {
    /// Fills `buf` from `addr..addr + buf.len()`; returns false (and the
    /// decoder prints the pointer in hex, as strace does) if the range is not
    /// all readable.
    fn read(&self, addr: usize, buf: &mut [u8]) -> bool;

    /// The value [`snapshot`] took before the call, if the tracer kept it:
    /// an in/out length (`[128 => 16]`).
    fn saved(&self) -> Option<u32> {
        None
    }

    /// strace's -y: writes what follows fd `fd` in a line (`</etc/passwd>`,
    /// with [`write_fd_path`]), or nothing. `returned`: the fd is an output
    /// of the call (its result, pipe's pair), to be looked at after it; an
    /// argument is shown as it was when the call was made (a close's fd).
    fn fd_info(&self, out: &mut dyn fmt::Write, fd: i32, returned: bool) -> fmt::Result {
        let _ = (out, fd, returned);
        Ok(())
    }
}

/// Writes `name(args...)` for call `nr`. `ret` is `None` before the call
/// (output arguments show as pointers), the call's return value after it
/// (outputs are decoded when it succeeded).
pub fn write_call(
    out: &mut impl fmt::Write,
    nr: usize,
    args: &[usize; 6],
    mem: &impl Memory,
    ret: Option<isize>,
) -> fmt::Result {
    print::call(out, nr, args, mem, ret)
}

/// Writes ` = RESULT` for call `nr` that returned `ret` (`args` are its
/// arguments, which some results are read with, e.g. fcntl's F_GETFL).
pub fn write_result(
    out: &mut impl fmt::Write,
    nr: usize,
    args: &[usize; 6],
    ret: isize,
) -> fmt::Result {
    print::result(out, nr, args, ret)
}

/// Writes ` = RESULT` and what strace adds after it for some calls (poll's
/// ready fds, `(Timeout)`), which needs the program's memory.
pub fn write_result_in(
    out: &mut impl fmt::Write,
    nr: usize,
    args: &[usize; 6],
    mem: &impl Memory,
    ret: isize,
) -> fmt::Result {
    print::result(out, nr, args, ret)?;
    if !(-4095..0).contains(&ret) {
        if print::returns_fd(nr, args) {
            mem.fd_info(out, ret as i32, true)?;
        }
        print::result_detail(out, nr, args, mem, ret)?;
    }
    Ok(())
}

/// `<path>` as strace -y shows what an fd refers to: escaped as in a
/// string (or in hex, with -x/-xx), `<` and `>` in octal.
pub fn write_fd_path(out: &mut impl fmt::Write, path: &[u8]) -> fmt::Result {
    print::angle_quoted(out, path)?;
    out.write_char('>')
}

/// [`write_fd_path`] without its closing `>` (-yy's devices add theirs).
pub fn write_fd_path_open(out: &mut impl fmt::Write, path: &[u8]) -> fmt::Result {
    print::angle_quoted(out, path)
}

/// An IPv4 or IPv6 socket address as strace -yy shows it in `<TCP:[...]>`:
/// `127.0.0.1:5555`, `[::1]:5555`; false (nothing written) for others.
pub fn write_inet_address(out: &mut impl fmt::Write, sa: &[u8]) -> Result<bool, fmt::Error> {
    let port = |b: &[u8]| u16::from_be_bytes([b[2], b[3]]);
    match sa.get(..2).map(|f| u16::from_le_bytes([f[0], f[1]]) as u32) {
        Some(crate::abi::AF_INET) if sa.len() >= 8 => {
            write!(out, "{}.{}.{}.{}:{}", sa[4], sa[5], sa[6], sa[7], port(sa))?;
        }
        Some(crate::abi::AF_INET6) if sa.len() >= 24 => {
            out.write_char('[')?;
            print::ipv6(out, &sa[8..24])?;
            write!(out, "]:{}", port(sa))?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// strace's `-x` (1: a string with a non-ASCII byte is shown all in `\x`
/// escapes) and `-xx` (2: every string); 0: C escapes (the default).
pub fn set_hex(level: u8) {
    print::set_hex(level)
}

/// `rt_sigreturn({mask=[...]})`, as strace shows it: the mask the frame
/// restores (the tracer reads it from the frame at the stack pointer).
pub fn write_sigreturn(out: &mut impl fmt::Write, mask: u64) -> fmt::Result {
    out.write_str("rt_sigreturn({mask=")?;
    print::sigset(out, mask)?;
    out.write_str("})")
}

/// strace's `-s N`: how much of each string, and how many elements of each
/// array, are shown (32 unless set; at most 4096).
pub fn set_max_str(n: usize) {
    print::set_max_str(n)
}

/// Reads, before call `nr` is made, the input value of its in/out length
/// (getsockname's, accept's, recvfrom's, getsockopt's, recvmsg's
/// msg_namelen), which the call overwrites; the tracer hands it back
/// through [`Memory::saved`].
pub fn snapshot(nr: usize, args: &[usize; 6], mem: &impl Memory) -> Option<u32> {
    let at = match Sysno::new(nr)? {
        Sysno::accept | Sysno::getsockname | Sysno::getpeername | Sysno::accept4 => args[2],
        Sysno::recvfrom => args[5],
        Sysno::getsockopt => args[4],
        Sysno::recvmsg => args[1].checked_add(8)?, // msg_namelen
        _ => return None,
    };
    if at < 8 {
        return None;
    }
    let mut b = [0u8; 4];
    mem.read(at, &mut b).then(|| u32::from_le_bytes(b))
}

/// Writes `bytes` as a C string literal, cut at `max` bytes with `...`
/// (for lines the tracer composes itself, like the first execve).
pub fn write_quoted(out: &mut impl fmt::Write, bytes: &[u8], max: usize) -> fmt::Result {
    print::quote(out, &bytes[..bytes.len().min(max)], bytes.len() > max, false)
}

/// Whether call `nr` has arguments that are outputs (read's buffer, stat's
/// struct, pipe's fds...), so its arguments are best decoded after the call.
pub fn decode_after(nr: usize) -> bool {
    table::kinds(nr).is_some_and(|ks| ks.iter().any(|k| k.is_output()))
}

/// What an argument names, for strace's -P: a path, or an fd (a directory
/// fd of an *at call too).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Names {
    Path,
    Fd,
}

/// Which of call `nr`'s registers are paths and fds (none for an unknown call).
pub fn names(nr: usize) -> [Option<Names>; 6] {
    let mut r = [None; 6];
    let mut i = 0;
    for &k in table::kinds(nr).unwrap_or(&[]) {
        if i < 6 {
            r[i] = match k {
                table::A::Path => Some(Names::Path),
                table::A::Fd | table::A::DirFd => Some(Names::Fd),
                _ => None,
            };
        }
        i += k.width();
    }
    r
}

/// How many arguments call `nr` takes, if it is a known x86_64 call.
pub fn arity(nr: usize) -> Option<usize> {
    table::kinds(nr).map(|ks| ks.iter().map(|k| k.width()).sum())
}
