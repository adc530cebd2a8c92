//! The printers behind the decoder: one call's line (its name, each
//! argument as its kind in `table.rs` says, the result) and what the
//! printers share (`-s`, the call being printed, reads of the program's
//! memory). The printers of each kind of value are in the files beside
//! this one, named for what they print.

mod files;
mod ioctl;
mod numbers;
mod poll;
mod process;
mod signals;
mod sockets;
mod strings;
mod system;
mod time;

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

use syscalls::Sysno;
use super::table::{self, A};
use super::xlat::*;
use super::Memory;
use crate::errno;

use files::{dents, fcntl, open_how, stat, statfs, statx};
use ioctl::ioctl;
use numbers::{flags, hex, int_box, mode, mode_t, oflags, ptr, xlat};
use poll::{epoll_event, epoll_events, pollfds, revents};
use process::{clone, clone3, futex, prctl, wstatus};
use signals::{sig, sigaction, stack_t};
use sockets::{msghdr, saved_len, sock_len, sockaddr};
use strings::{argv, buf, envp, iov, string};
use system::{cpuset, groups, rlimit, sysinfo, uname};
use time::{rusage, timespec, tms};

// What decode.rs (and its tests) call besides `call` and `result`.
pub(super) use signals::sigset;
pub(super) use strings::{angle_quoted, quote, set_hex};
#[cfg(test)]
pub(super) use strings::hex_at;
pub(super) use sockets::ipv6;

/// strace's `-s` (32 by default): strings are cut after this many bytes,
/// arrays after this many elements; set by [`set_max_str`].
static MAX_STR_NOW: AtomicUsize = AtomicUsize::new(32);

/// The most `-s` may ask for (a data buffer of this size is on the stack).
const MAX_STR_CAP: usize = 4096;

fn max_str() -> usize {
    MAX_STR_NOW.load(Ordering::Relaxed)
}

pub(super) fn set_max_str(n: usize) {
    MAX_STR_NOW.store(n.min(MAX_STR_CAP), Ordering::Relaxed);
}

/// Paths print whole, up to PATH_MAX, as strace prints them.
const PATH_MAX: usize = 4096;

/// One call being printed.
struct Ctx<'a> {
    out: &'a mut dyn Write,
    mem: &'a dyn Memory,
    args: &'a [usize; 6],
    ret: Option<isize>,
    first: bool,
}

impl Ctx<'_> {
    fn arg(&self, i: usize) -> usize {
        self.args.get(i).copied().unwrap_or(0)
    }

    /// Writes the `, ` between arguments.
    fn sep(&mut self) -> fmt::Result {
        if core::mem::take(&mut self.first) {
            Ok(())
        } else {
            self.out.write_str(", ")
        }
    }

    /// The call's result if it returned and succeeded: only then do its
    /// output arguments hold anything.
    fn done(&self) -> Option<usize> {
        self.ret.filter(|&r| !is_error(r)).map(|r| r as usize)
    }
}

fn is_error(ret: isize) -> bool {
    (-4095..0).contains(&ret)
}

pub(super) fn call(
    out: &mut dyn Write,
    nr: usize,
    args: &[usize; 6],
    mem: &dyn Memory,
    ret: Option<isize>,
) -> fmt::Result {
    match Sysno::new(nr) {
        Some(s) => out.write_str(s.name())?,
        None => write!(out, "syscall_{nr:#x}")?,
    }
    out.write_char('(')?;
    let mut c = Ctx {
        out,
        mem,
        args,
        ret,
        first: true,
    };
    match table::kinds(nr) {
        Some(kinds) => {
            let mut i = 0;
            for &k in kinds {
                arg(&mut c, k, i)?;
                i += k.width();
            }
        }
        // Not a call: all the registers, as strace shows them.
        None => {
            for &v in args {
                c.sep()?;
                hex(c.out, v as u64)?;
            }
        }
    }
    c.out.write_char(')')
}

pub(super) fn result(out: &mut dyn Write, nr: usize, args: &[usize; 6], ret: isize) -> fmt::Result {
    if is_error(ret) {
        return errno_result(out, -ret as i32);
    }
    out.write_str(" = ")?;
    match Sysno::new(nr) {
        // These return addresses.
        Some(Sysno::mmap | Sysno::brk | Sysno::mremap | Sysno::shmat | Sysno::map_shadow_stack) => {
            hex(out, ret as u64)
        }
        Some(Sysno::umask) => mode(out, ret as u32),
        Some(Sysno::fcntl) => match args[1] as u32 {
            1 if ret != 0 => {
                hex(out, ret as u64)?;
                out.write_str(" (flags ")?;
                flags(out, ret as u64, FD_FLAGS)?;
                out.write_char(')')
            }
            3 => {
                hex(out, ret as u64)?;
                out.write_str(" (flags ")?;
                oflags(out, ret as u32)?;
                out.write_char(')')
            }
            _ => write!(out, "{ret}"),
        },
        _ => write!(out, "{ret}"),
    }
}

/// Whether call `nr` (with `args`) returns a new fd, which strace -y
/// decorates as it does fd arguments (strace's RVAL_FD).
pub(super) fn returns_fd(nr: usize, args: &[usize; 6]) -> bool {
    use Sysno::*;
    let Some(s) = Sysno::new(nr) else { return false };
    match s {
        fcntl => [crate::abi::F_DUPFD, crate::abi::F_DUPFD_CLOEXEC].contains(&(args[1] as u32 as usize)),
        open | openat | openat2 | creat | dup | dup2 | dup3 | socket | accept | accept4 | epoll_create
        | epoll_create1 | eventfd | eventfd2 | signalfd | signalfd4 | timerfd_create | inotify_init | inotify_init1
        | fanotify_init | memfd_create | memfd_secret | perf_event_open | pidfd_open | pidfd_getfd | open_tree
        | fsopen | fspick | fsmount | userfaultfd | open_by_handle_at | mq_open | io_uring_setup => true,
        _ => false,
    }
}

fn errno_result(out: &mut dyn Write, e: i32) -> fmt::Result {
    // The kernel's internal errnos: a restart is no failure yet, so strace
    // shows it as `?` with its own message; the others have no libc text.
    if let Some(&(_, name, msg)) = KERNEL_ERRNOS.iter().find(|k| k.0 == e) {
        return match msg {
            Some(msg) => write!(out, " = ? {name} ({msg})"),
            None => write!(out, " = -1 {name} (Unknown error {e})"),
        };
    }
    match errno::name(e) {
        Some(name) => write!(out, " = -1 {name} ({})", errno::message(e)),
        None => write!(out, " = -1 ERRNO_{e} (Unknown error {e})"),
    }
}

/// What strace appends to some results: poll's ready fds, a timeout.
pub(super) fn result_detail(o: &mut dyn Write, nr: usize, args: &[usize; 6], m: &dyn Memory, ret: isize) -> fmt::Result {
    match Sysno::new(nr) {
        Some(Sysno::poll | Sysno::ppoll) if ret == 0 => o.write_str(" (Timeout)"),
        Some(Sysno::poll | Sysno::ppoll) if ret > 0 => revents(o, m, args[0], args[1] as u32 as usize),
        Some(Sysno::select | Sysno::pselect6) if ret == 0 => o.write_str(" (Timeout)"),
        _ => Ok(()),
    }
}

/// Writes argument `i` of kind `k` (with its separator), or nothing for
/// kinds that are absent here; the grouped kinds write all theirs.
fn arg(c: &mut Ctx, k: A, i: usize) -> fmt::Result {
    match k {
        A::Skip => Ok(()),
        A::OpenMode(f) => {
            if c.arg(f as usize) as u64 & (O_CREAT | O_TMPFILE_BIT) != 0 {
                let v = c.arg(i) as u32;
                c.sep()?;
                mode(c.out, v)
            } else {
                Ok(())
            }
        }
        A::Clone => clone(c),
        A::Fcntl => fcntl(c, i),
        A::Ioctl => ioctl(c, i),
        A::Futex => futex(c, i),
        A::Prctl => prctl(c, i),
        _ => {
            c.sep()?;
            value(c, k, i)
        }
    }
}

/// Writes the value of argument `i`, a single-register kind.
fn value(c: &mut Ctx, k: A, i: usize) -> fmt::Result {
    let v = c.arg(i);
    let next = c.arg(i + 1);
    let args = c.args;
    let r = if k.is_output() {
        match c.done() {
            Some(r) => r,
            None => return ptr(c.out, v),
        }
    } else {
        0
    };
    let ret = c.ret;
    let (o, m) = (&mut *c.out, c.mem);
    let at = |n: u8| args.get(n as usize).copied().unwrap_or(0);
    match k {
        A::Hex => hex(o, v as u64),
        A::Ptr => ptr(o, v),
        A::Int => write!(o, "{}", v as i32),
        A::Fd => {
            write!(o, "{}", v as i32)?;
            m.fd_info(o, v as i32, false)
        }
        A::Uint => write!(o, "{}", v as u32),
        A::Long => write!(o, "{}", v as isize),
        A::Ulong => write!(o, "{v}"),
        A::DirFd => {
            if v as i32 == crate::abi::AT_FDCWD {
                o.write_str("AT_FDCWD")?;
            } else {
                write!(o, "{}", v as i32)?;
            }
            m.fd_info(o, v as i32, false)
        }
        A::Mode => mode(o, v as u32),
        A::ModeT => mode_t(o, v as u32),
        A::OFlags => oflags(o, v as u32),
        A::Flags(set) => flags(o, v as u32 as u64, set),
        A::Enum(x) => xlat(o, v as u32, x),
        A::Sig => sig(o, v as i32),
        A::Path | A::OCwd => string(o, m, v, PATH_MAX),
        A::Str => string(o, m, v, max_str()),
        A::Buf(n) => buf(o, m, v, at(n), false),
        A::SockType => flags(o, v as u32 as u64, SOCK_TYPE),
        A::SockProto(f) => match at(f) as u32 {
            AF_INET | AF_INET6 => xlat(o, v as u32, &IPPROTO),
            AF_NETLINK => xlat(o, v as u32, &NETLINK),
            _ => write!(o, "{}", v as i32),
        },
        A::SockOpt(l) => match at(l) as u32 {
            SOL_SOCKET => xlat(o, v as u32, &SO),
            SOL_TCP => xlat(o, v as u32, &TCP),
            _ => write!(o, "{}", v as i32),
        },
        A::OptVal(n) => match at(n) as u32 {
            4 => with(o, m, v, int_box),
            len => buf(o, m, v, len as usize, false),
        },
        A::Argv => argv(o, m, v),
        A::Envp => envp(o, m, v),
        A::SigSet | A::OSigSet => with(o, m, v, |o, b: &[u8; 8]| sigset(o, le(b, 0, 8))),
        A::Sigaction | A::OSigaction => with(o, m, v, sigaction),
        A::Timespec | A::OTimespec => with(o, m, v, |o, b: &[u8; 16]| timespec(o, b, "nsec")),
        A::Timeval | A::OTimeval => with(o, m, v, |o, b: &[u8; 16]| timespec(o, b, "usec")),
        A::Rlimit | A::ORlimit => with(o, m, v, rlimit),
        A::Sockaddr(n) => sockaddr(o, m, v, at(n) as u32 as usize),
        A::Pollfd(n) => pollfds(o, m, v, at(n) as u32 as usize),
        A::Iov(n) => iov(o, m, v, at(n), None),
        A::OpenHow => with(o, m, v, open_how),
        A::Clone3 => clone3(o, m, v, next, ret),
        A::OBuf => buf(o, m, v, r.min(next), false),
        A::OBufHex => buf(o, m, v, r.min(next), true),
        A::OStat => with(o, m, v, stat),
        A::OStatx => with(o, m, v, statx),
        A::OFds => with(o, m, v, |o, b: &[u8; 8]| {
            let (a, b) = (le(b, 0, 4) as i32, le(b, 4, 4) as i32);
            write!(o, "[{a}")?;
            m.fd_info(o, a, true)?;
            write!(o, ", {b}")?;
            m.fd_info(o, b, true)?;
            o.write_char(']')
        }),
        // wait4 returning 0 (WNOHANG, nobody ready) wrote no status.
        A::OWait if r == 0 => ptr(o, v),
        A::OWait => with(o, m, v, |o, b: &[u8; 4]| wstatus(o, le(b, 0, 4) as u32)),
        A::OIov(n) => iov(o, m, v, at(n), Some(r)),
        A::ODents => dents(o, m, v, r),
        A::OUname => with(o, m, v, uname),
        A::OSysinfo => with(o, m, v, sysinfo),
        A::Stack | A::OStack => with(o, m, v, stack_t),
        A::CpuSet(n) => cpuset(o, m, v, at(n)),
        A::OCpuSet => cpuset(o, m, v, r),
        A::OInt => with(o, m, v, int_box),
        A::OGroups => groups(o, m, v, r),
        A::OTms => with(o, m, v, tms),
        A::OStatfs => with(o, m, v, statfs),
        A::ORusage => with(o, m, v, rusage),
        A::OSockaddr(n) => match rd::<4>(m, at(n)) {
            Some(len) => sockaddr(o, m, v, (le(&len, 0, 4) as usize).min(saved_len(m, 128))),
            None => ptr(o, v),
        },
        A::SockLen => sock_len(o, m, v, ret),
        A::OOptVal(n) => match rd::<4>(m, at(n)).map(|l| le(&l, 0, 4)) {
            Some(4) => with(o, m, v, int_box),
            Some(len) => buf(o, m, v, len as usize, false),
            None => ptr(o, v),
        },
        A::OName => string(o, m, v, 16),
        A::EpollEvent => with(o, m, v, epoll_event),
        A::OEpollEvents => epoll_events(o, m, v, r),
        A::Msghdr => msghdr(o, m, v, None),
        A::OMsghdr => msghdr(o, m, v, Some(r)),
        // Grouped kinds are written by `arg`.
        A::Skip | A::OpenMode(_) | A::Clone | A::Fcntl | A::Ioctl | A::Futex | A::Prctl => {
            hex(o, v as u64)
        }
    }
}

// ---- reading the program's memory, for the printers of every file ----

/// The `N` bytes at `addr`, if they are all readable.
fn rd<const N: usize>(m: &dyn Memory, addr: usize) -> Option<[u8; N]> {
    let mut b = [0u8; N];
    m.read(addr, &mut b).then_some(b)
}

/// The little-endian number of `n` bytes at `off` in `b` (0 past its end).
fn le(b: &[u8], off: usize, n: usize) -> u64 {
    b.get(off..off + n)
        .map_or(0, |s| s.iter().rev().fold(0, |a, &x| a << 8 | u64::from(x)))
}

/// Prints the `N` bytes at `addr` with `f`; `NULL`, or the pointer in hex
/// if they are not readable.
fn with<const N: usize>(
    o: &mut dyn Write,
    m: &dyn Memory,
    addr: usize,
    f: impl FnOnce(&mut dyn Write, &[u8; N]) -> fmt::Result,
) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    match rd::<N>(m, addr) {
        Some(b) => f(o, &b),
        None => ptr(o, addr),
    }
}
