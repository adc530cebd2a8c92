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
        print::result_detail(out, nr, args, mem, ret)?;
    }
    Ok(())
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

/// How many arguments call `nr` takes, if it is a known x86_64 call.
pub fn arity(nr: usize) -> Option<usize> {
    table::kinds(nr).map(|ks| ks.iter().map(|k| k.width()).sum())
}
