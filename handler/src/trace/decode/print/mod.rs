//! The printers behind the decoder: numbers, flags, strings, and the
//! structures it reads from the traced program, in strace's notation.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

use syscalls::Sysno;

use super::table::{self, A, FUTEX_ARGS, FUTEX_OTHER, H4, PRCTL};
use super::xlat::*;
use super::Memory;
use crate::errno;

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
    match nr {
        // mmap, brk, mremap, shmat, map_shadow_stack return addresses.
        9 | 12 | 25 | 30 | 453 => hex(out, ret as u64),
        95 => mode(out, ret as u32), // umask
        72 => match args[1] as u32 {
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
        A::Int | A::Fd => write!(o, "{}", v as i32),
        A::Uint => write!(o, "{}", v as u32),
        A::Long => write!(o, "{}", v as isize),
        A::Ulong => write!(o, "{v}"),
        A::DirFd if v as i32 == -100 => o.write_str("AT_FDCWD"),
        A::DirFd => write!(o, "{}", v as i32),
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
            write!(o, "[{}, {}]", le(b, 0, 4) as i32, le(b, 4, 4) as i32)
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

// ---- numbers, flags, names ----

/// strace's `%#lx`: `0x1f`, and `0` for zero.
fn hex(o: &mut dyn Write, v: u64) -> fmt::Result {
    if v == 0 {
        o.write_char('0')
    } else {
        write!(o, "{v:#x}")
    }
}

fn ptr(o: &mut dyn Write, v: usize) -> fmt::Result {
    if v == 0 {
        o.write_str("NULL")
    } else {
        write!(o, "{v:#x}")
    }
}

/// strace's `%#03o`: `0644`, `022`, `000`.
fn mode(o: &mut dyn Write, v: u32) -> fmt::Result {
    write!(o, "0{v:02o}")
}

/// A mode with its file type and set-id bits named: `S_IFREG|S_ISUID|0755`.
fn mode_t(o: &mut dyn Write, v: u32) -> fmt::Result {
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
fn flags(o: &mut dyn Write, v: u64, set: &[Flag]) -> fmt::Result {
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
fn oflags(o: &mut dyn Write, v: u32) -> fmt::Result {
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

fn xlat(o: &mut dyn Write, v: u32, x: &Xlat) -> fmt::Result {
    match x.get(v) {
        Some(name) => o.write_str(name),
        None if x.unknown.is_empty() => hex(o, v.into()),
        None => {
            hex(o, v.into())?;
            write!(o, " /* {}??? */", x.unknown)
        }
    }
}

fn sig(o: &mut dyn Write, s: i32) -> fmt::Result {
    match s {
        1..=31 => o.write_str(SIGNALS[s as usize]),
        32 => o.write_str("SIGRTMIN"),
        33..=64 => write!(o, "SIGRT_{}", s - 32),
        _ => write!(o, "{s}"),
    }
}

/// `[INT TERM]`, or `~[RTMIN RT_1]` (the complement) when most signals are in it.
pub(super) fn sigset(o: &mut dyn Write, set: u64) -> fmt::Result {
    let (neg, set) = if set.count_ones() > 32 {
        (true, !set)
    } else {
        (false, set)
    };
    if neg {
        o.write_char('~')?;
    }
    o.write_char('[')?;
    let mut first = true;
    for bit in 0..64 {
        if set >> bit & 1 == 0 {
            continue;
        }
        if !core::mem::take(&mut first) {
            o.write_char(' ')?;
        }
        match bit + 1 {
            s @ 1..=31 => o.write_str(&SIGNALS[s][3..])?,
            32 => o.write_str("RTMIN")?,
            s => write!(o, "RT_{}", s - 32)?,
        }
    }
    o.write_char(']')
}

// ---- strings ----

/// C-escapes bytes as strace does: `\n`, `\"`, octal for the rest (three
/// digits only when a digit follows), or all `\xNN` when `hex`. It holds one
/// byte back, since how that byte prints depends on the next.
struct Quoter<'a> {
    o: &'a mut dyn Write,
    held: Option<u8>,
    hex: bool,
}

impl Quoter<'_> {
    fn push(&mut self, b: u8) -> fmt::Result {
        match self.held.replace(b) {
            Some(p) => escape(self.o, p, b.is_ascii_digit(), self.hex),
            None => Ok(()),
        }
    }

    fn end(self) -> fmt::Result {
        match self.held {
            Some(p) => escape(self.o, p, false, self.hex),
            None => Ok(()),
        }
    }
}

fn escape(o: &mut dyn Write, c: u8, digit_next: bool, hex: bool) -> fmt::Result {
    if hex {
        return write!(o, "\\x{c:02x}");
    }
    match c {
        b'"' => o.write_str("\\\""),
        b'\\' => o.write_str("\\\\"),
        b'\t' => o.write_str("\\t"),
        b'\n' => o.write_str("\\n"),
        0x0b => o.write_str("\\v"),
        0x0c => o.write_str("\\f"),
        b'\r' => o.write_str("\\r"),
        0x20..=0x7e => o.write_char(c as char),
        _ if digit_next => write!(o, "\\{c:03o}"),
        _ => write!(o, "\\{c:o}"),
    }
}

/// `"bytes"`, and `...` after it if there was more.
pub(super) fn quote(o: &mut dyn Write, bytes: &[u8], more: bool, hex: bool) -> fmt::Result {
    o.write_char('"')?;
    let mut q = Quoter {
        o: &mut *o,
        held: None,
        hex,
    };
    for &b in bytes {
        q.push(b)?;
    }
    q.end()?;
    o.write_char('"')?;
    if more {
        o.write_str("...")?;
    }
    Ok(())
}

/// Input bytes of known length: the first 32, quoted.
fn buf(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize, hex: bool) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    let n = len.min(max_str());
    let mut b = [0u8; MAX_STR_CAP];
    if n > 0 && !m.read(addr, &mut b[..n]) {
        return ptr(o, addr);
    }
    quote(o, &b[..n], len > n, hex)
}

/// Reads what is readable of `buf.len()` bytes at `addr`: all at once, else
/// byte by byte up to the first unreadable one. Returns the count read.
fn read_some(m: &dyn Memory, addr: usize, buf: &mut [u8]) -> usize {
    if m.read(addr, buf) {
        return buf.len();
    }
    let mut n = 0;
    while n < buf.len() && m.read(addr.wrapping_add(n), &mut buf[n..n + 1]) {
        n += 1;
    }
    n
}

/// The piece of memory to read at `a`, at most `left` bytes: pieces end on
/// 64-byte boundaries, so they never straddle a page and a string that ends
/// just before an unmapped page is read whole.
fn piece(a: usize, left: usize) -> usize {
    (64 - a % 64).min(left)
}

/// The length of the NUL-terminated string at `addr`, looking at `limit`
/// bytes at most (`limit` if none of them is NUL); None if memory ends first.
fn cstr_len(m: &dyn Memory, addr: usize, limit: usize) -> Option<usize> {
    let mut buf = [0u8; 64];
    let mut n = 0;
    while n < limit {
        let a = addr.wrapping_add(n);
        let want = piece(a, limit - n);
        let got = read_some(m, a, &mut buf[..want]);
        if let Some(z) = buf[..got].iter().position(|&b| b == 0) {
            return Some(n + z);
        }
        if got < want {
            return None;
        }
        n += want;
    }
    Some(limit)
}

/// A NUL-terminated string, cut after `max` bytes; its pointer in hex if
/// it is not readable up to its end (or to the cut).
fn string(o: &mut dyn Write, m: &dyn Memory, addr: usize, max: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    let Some(len) = cstr_len(m, addr, max + 1) else {
        return ptr(o, addr);
    };
    // Streamed from memory in pieces, so a long path needs no big buffer.
    let n = len.min(max);
    o.write_char('"')?;
    let mut q = Quoter {
        o: &mut *o,
        held: None,
        hex: false,
    };
    let mut buf = [0u8; 64];
    let mut done = 0;
    while done < n {
        let a = addr.wrapping_add(done);
        let want = piece(a, n - done);
        let got = read_some(m, a, &mut buf[..want]);
        for &b in &buf[..got] {
            q.push(b)?;
        }
        if got < want {
            break;
        }
        done += want;
    }
    q.end()?;
    o.write_char('"')?;
    if len > max {
        o.write_str("...")?;
    }
    Ok(())
}

/// `["ls", "-l"]`: at most 32 strings, then `...`.
fn argv(o: &mut dyn Write, m: &dyn Memory, addr: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    let Some(first) = rd::<8>(m, addr) else {
        return ptr(o, addr);
    };
    o.write_char('[')?;
    let mut p = le(&first, 0, 8) as usize;
    let mut n = 0;
    while p != 0 {
        if n > 0 {
            o.write_str(", ")?;
        }
        if n == max_str() {
            o.write_str("...")?;
            break;
        }
        string(o, m, p, max_str())?;
        n += 1;
        match rd::<8>(m, addr.wrapping_add(8 * n)) {
            Some(b) => p = le(&b, 0, 8) as usize,
            None => {
                o.write_str(", ...")?;
                break;
            }
        }
    }
    o.write_char(']')
}

/// The environment as strace abbreviates it: `0x7ffd... /* 23 vars */`.
fn envp(o: &mut dyn Write, m: &dyn Memory, addr: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    ptr(o, addr)?;
    let mut n = 0usize;
    // Bounded, so a garbage pointer into a large zero-free mapping ends.
    while n < 1 << 16 {
        match rd::<8>(m, addr.wrapping_add(8 * n)) {
            Some(b) if le(&b, 0, 8) != 0 => n += 1,
            Some(_) => break,
            None if n == 0 => return Ok(()),
            None => break,
        }
    }
    write!(o, " /* {n} var{} */", if n == 1 { "" } else { "s" })
}

// ---- structures ----

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

fn int_box(o: &mut dyn Write, b: &[u8; 4]) -> fmt::Result {
    write!(o, "[{}]", le(b, 0, 4) as i32)
}

/// struct stat, as strace abbreviates it: mode, and size or device.
fn stat(o: &mut dyn Write, b: &[u8; 56]) -> fmt::Result {
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

fn statx(o: &mut dyn Write, b: &[u8; 48]) -> fmt::Result {
    o.write_str("{stx_mask=")?;
    flags(o, le(b, 0, 4), STATX_MASK)?;
    o.write_str(", stx_attributes=")?;
    flags(o, le(b, 8, 8), STATX_ATTR)?;
    o.write_str(", stx_mode=")?;
    mode_t(o, le(b, 28, 2) as u32)?;
    write!(o, ", stx_size={}, ...}}", le(b, 40, 8))
}

/// The kernel's struct sigaction of x86_64: handler, flags, restorer, mask.
fn sigaction(o: &mut dyn Write, b: &[u8; 32]) -> fmt::Result {
    let (handler, fl, restorer, mask) = (le(b, 0, 8), le(b, 8, 8), le(b, 16, 8), le(b, 24, 8));
    o.write_str("{sa_handler=")?;
    match handler {
        0 => o.write_str("SIG_DFL")?,
        1 => o.write_str("SIG_IGN")?,
        h => hex(o, h)?,
    }
    o.write_str(", sa_mask=")?;
    sigset(o, mask)?;
    o.write_str(", sa_flags=")?;
    flags(o, fl, SA)?;
    if fl & SA_RESTORER != 0 {
        o.write_str(", sa_restorer=")?;
        ptr(o, restorer as usize)?;
    }
    o.write_char('}')
}

fn timespec(o: &mut dyn Write, b: &[u8; 16], unit: &str) -> fmt::Result {
    write!(
        o,
        "{{tv_sec={}, tv_{unit}={}}}",
        le(b, 0, 8) as i64,
        le(b, 8, 8) as i64
    )
}

fn rlimit(o: &mut dyn Write, b: &[u8; 16]) -> fmt::Result {
    o.write_str("{rlim_cur=")?;
    rlim(o, le(b, 0, 8))?;
    o.write_str(", rlim_max=")?;
    rlim(o, le(b, 8, 8))?;
    o.write_char('}')
}

fn rlim(o: &mut dyn Write, v: u64) -> fmt::Result {
    if v == u64::MAX {
        o.write_str("RLIM64_INFINITY")
    } else if v > 1024 && v.is_multiple_of(1024) {
        write!(o, "{}*1024", v / 1024)
    } else {
        write!(o, "{v}")
    }
}

/// A wait status the way strace spells it: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
fn wstatus(o: &mut dyn Write, s: u32) -> fmt::Result {
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

/// getdents' buffer as strace abbreviates it: `0x55... /* 5 entries */`.
fn dents(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
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

/// A NUL-padded char array of a structure.
fn cfield(o: &mut dyn Write, f: &[u8]) -> fmt::Result {
    let n = f.iter().position(|&c| c == 0).unwrap_or(f.len());
    quote(o, &f[..n], false, false)
}

fn uname(o: &mut dyn Write, b: &[u8; 130]) -> fmt::Result {
    o.write_str("{sysname=")?;
    cfield(o, &b[..65])?;
    o.write_str(", nodename=")?;
    cfield(o, &b[65..])?;
    o.write_str(", ...}")
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

fn open_how(o: &mut dyn Write, b: &[u8; 24]) -> fmt::Result {
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

/// `[{fd=3, events=POLLIN}, ...]`.
fn pollfds(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    if n > 0 && rd::<8>(m, addr).is_none() {
        return ptr(o, addr);
    }
    o.write_char('[')?;
    for i in 0..n {
        if i > 0 {
            o.write_str(", ")?;
        }
        let Some(b) = rd::<8>(m, addr.wrapping_add(8 * i)).filter(|_| i < max_str()) else {
            o.write_str("...")?;
            break;
        };
        write!(o, "{{fd={}, events=", le(&b, 0, 4) as i32)?;
        flags(o, le(&b, 4, 2), POLL)?;
        o.write_char('}')?;
    }
    o.write_char(']')
}

/// `[{iov_base="...", iov_len=5}]`. For a read (`filled` = the bytes the
/// call returned) each buffer shows only what the call put in it.
fn iov(
    o: &mut dyn Write,
    m: &dyn Memory,
    addr: usize,
    n: usize,
    filled: Option<usize>,
) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    if n > 0 && rd::<16>(m, addr).is_none() {
        return ptr(o, addr);
    }
    let mut left = filled;
    o.write_char('[')?;
    for i in 0..n {
        if i > 0 {
            o.write_str(", ")?;
        }
        let Some(b) = rd::<16>(m, addr.wrapping_add(16 * i)).filter(|_| i < max_str()) else {
            o.write_str("...")?;
            break;
        };
        let (base, len) = (le(&b, 0, 8) as usize, le(&b, 8, 8) as usize);
        let shown = match left.as_mut() {
            Some(l) => {
                let s = len.min(*l);
                *l -= s;
                s
            }
            None => len,
        };
        o.write_str("{iov_base=")?;
        buf(o, m, base, shown, false)?;
        write!(o, ", iov_len={len}}}")?;
    }
    o.write_char(']')
}

fn sockaddr(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    let n = len.min(128);
    let mut b = [0u8; 128];
    if n < 2 || !m.read(addr, &mut b[..n]) {
        return ptr(o, addr);
    }
    let b = &b[..n];
    let family = le(b, 0, 2) as u32;
    let port = || u16::from_be_bytes([b[2], b[3]]);
    o.write_str("{sa_family=")?;
    xlat(o, family, &AF)?;
    match family {
        AF_UNIX if n > 2 => {
            o.write_str(", sun_path=")?;
            // An abstract address: a NUL, then a name of the remaining length.
            if b[2] == 0 {
                o.write_char('@')?;
                quote(o, &b[3.min(n)..], false, false)?;
            } else {
                cfield(o, &b[2..])?;
            }
        }
        AF_INET if n >= 8 => write!(
            o,
            ", sin_port=htons({}), sin_addr=inet_addr(\"{}.{}.{}.{}\")",
            port(),
            b[4],
            b[5],
            b[6],
            b[7]
        )?,
        AF_INET6 if n >= 24 => {
            write!(
                o,
                ", sin6_port=htons({}), sin6_flowinfo=htonl({})",
                port(),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]])
            )?;
            o.write_str(", inet_pton(AF_INET6, \"")?;
            ipv6(o, &b[8..24])?;
            o.write_str("\", &sin6_addr)")?;
            if n >= 28 {
                write!(o, ", sin6_scope_id={}", le(b, 24, 4))?;
            }
        }
        AF_NETLINK if n >= 12 => write!(
            o,
            ", nl_pid={}, nl_groups={:08x}",
            le(b, 4, 4) as i32,
            le(b, 8, 4)
        )?,
        _ if n > 2 => {
            o.write_str(", sa_data=")?;
            quote(o, &b[2..], false, false)?;
        }
        _ => {}
    }
    o.write_char('}')
}

/// An IPv6 address as glibc's inet_ntop writes it: the longest run of two
/// or more zero groups as `::`, and IPv4-mapped addresses dotted.
pub(super) fn ipv6(o: &mut dyn Write, a: &[u8]) -> fmt::Result {
    let w = |i: usize| u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    let (mut best, mut best_len, mut i) = (0, 0, 0);
    while i < 8 {
        if w(i) != 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < 8 && w(i) == 0 {
            i += 1;
        }
        if i - start > best_len {
            (best, best_len) = (start, i - start);
        }
    }
    if best_len < 2 {
        best_len = 0;
    }
    let in_run = |i: usize| best_len > 0 && i >= best && i < best + best_len;
    let v4 = best == 0 && (best_len == 6 || (best_len == 5 && w(5) == 0xffff));
    for i in 0..8 {
        if in_run(i) {
            if i == best {
                o.write_char(':')?;
            }
            continue;
        }
        if i != 0 {
            o.write_char(':')?;
        }
        if i == 6 && v4 {
            write!(o, "{}.{}.{}.{}", a[12], a[13], a[14], a[15])?;
            break;
        }
        write!(o, "{:x}", w(i))?;
    }
    if best_len > 0 && best + best_len == 8 {
        o.write_char(':')?;
    }
    Ok(())
}

fn clone3(o: &mut dyn Write, m: &dyn Memory, addr: usize, size: usize, ret: Option<isize>) -> fmt::Result {
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

// ---- calls whose arguments are read together ----

/// clone's registers (flags, stack, parent_tid, child_tid, tls) named and
/// ordered as strace shows them, the pointers only when the flags use them.
fn clone(c: &mut Ctx) -> fmt::Result {
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

/// fcntl's command, then its argument read the way the command takes it.
fn fcntl(c: &mut Ctx, i: usize) -> fmt::Result {
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

/// ioctl's request (named, or `_IOC(...)`), then its argument.
fn ioctl(c: &mut Ctx, i: usize) -> fmt::Result {
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

/// futex's op (`FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`), then the
/// arguments that op uses.
fn futex(c: &mut Ctx, i: usize) -> fmt::Result {
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
fn prctl(c: &mut Ctx, i: usize) -> fmt::Result {
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

// ---- structures added for strace parity ----

/// The value the tracer saved before the call (an in/out length), or `dflt`.
fn saved_len(m: &dyn Memory, dflt: usize) -> usize {
    m.saved().map_or(dflt, |v| v as usize)
}

/// A socket length the caller set and the call updated: `[16]` when it did
/// not change (or the call failed), `[128 => 16]` when it did, as strace.
fn sock_len(o: &mut dyn Write, m: &dyn Memory, addr: usize, ret: Option<isize>) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    let Some(b) = rd::<4>(m, addr) else {
        return ptr(o, addr);
    };
    let now = le(&b, 0, 4) as u32;
    let ok = ret.is_some_and(|r| !is_error(r));
    match m.saved() {
        Some(before) if ok && before != now => write!(o, "[{before} => {now}]"),
        Some(before) if !ok => write!(o, "[{before}]"),
        _ => write!(o, "[{now}]"),
    }
}

fn sysinfo(o: &mut dyn Write, b: &[u8; 112]) -> fmt::Result {
    let w = |i: usize| le(b, 8 * i, 8);
    write!(
        o,
        "{{uptime={}, loads=[{}, {}, {}], totalram={}, freeram={}, sharedram={}, bufferram={}, \
         totalswap={}, freeswap={}, procs={}, totalhigh={}, freehigh={}, mem_unit={}}}",
        w(0) as i64,
        w(1),
        w(2),
        w(3),
        w(4),
        w(5),
        w(6),
        w(7),
        w(8),
        w(9),
        le(b, 80, 2),
        w(11),
        w(12),
        le(b, 104, 4)
    )
}

fn stack_t(o: &mut dyn Write, b: &[u8; 24]) -> fmt::Result {
    o.write_str("{ss_sp=")?;
    ptr(o, le(b, 0, 8) as usize)?;
    o.write_str(", ss_flags=")?;
    xlat(o, le(b, 8, 4) as u32, &SS_FLAGS)?;
    write!(o, ", ss_size={}}}", le(b, 16, 8))
}

/// A CPU set of `len` bytes: `[0 1]`, the CPUs in it.
fn cpuset(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    // 1024 CPUs at most are shown; sets are read 8 bytes at a time.
    let words = len.min(128) / 8;
    if words > 0 && rd::<8>(m, addr).is_none() {
        return ptr(o, addr);
    }
    o.write_char('[')?;
    let mut first = true;
    for w in 0..words {
        let Some(b) = rd::<8>(m, addr.wrapping_add(8 * w)) else { break };
        let mut bits = le(&b, 0, 8);
        while bits != 0 {
            let cpu = w * 64 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !core::mem::take(&mut first) {
                o.write_char(' ')?;
            }
            write!(o, "{cpu}")?;
        }
    }
    o.write_char(']')
}

/// getgroups' list of `n` gids.
fn groups(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    if n > 0 && rd::<4>(m, addr).is_none() {
        return ptr(o, addr);
    }
    o.write_char('[')?;
    for i in 0..n {
        if i > 0 {
            o.write_str(", ")?;
        }
        let Some(b) = rd::<4>(m, addr.wrapping_add(4 * i)).filter(|_| i < max_str()) else {
            o.write_str("...")?;
            break;
        };
        write!(o, "{}", le(&b, 0, 4) as u32)?;
    }
    o.write_char(']')
}

/// Clock ticks as strace shows them: `8 /* 0.08 s */` (USER_HZ is 100).
fn ticks(o: &mut dyn Write, t: u64) -> fmt::Result {
    if t == 0 {
        return o.write_char('0');
    }
    write!(o, "{t} /* {}.{:02} s */", t / 100, t % 100)
}

fn tms(o: &mut dyn Write, b: &[u8; 32]) -> fmt::Result {
    for (i, name) in ["{tms_utime=", ", tms_stime=", ", tms_cutime=", ", tms_cstime="].iter().enumerate() {
        o.write_str(name)?;
        ticks(o, le(b, 8 * i, 8))?;
    }
    o.write_char('}')
}

fn statfs(o: &mut dyn Write, b: &[u8; 120]) -> fmt::Result {
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

/// struct rusage as strace abbreviates it: the two times.
fn rusage(o: &mut dyn Write, b: &[u8; 32]) -> fmt::Result {
    write!(
        o,
        "{{ru_utime={{tv_sec={}, tv_usec={}}}, ru_stime={{tv_sec={}, tv_usec={}}}, ...}}",
        le(b, 0, 8) as i64,
        le(b, 8, 8) as i64,
        le(b, 16, 8) as i64,
        le(b, 24, 8) as i64
    )
}

/// struct epoll_event (packed on x86_64: 4 bytes of events, 8 of data).
fn epoll_event(o: &mut dyn Write, b: &[u8; 12]) -> fmt::Result {
    o.write_str("{events=")?;
    flags(o, le(b, 0, 4), EPOLL_EVENTS)?;
    let data = le(b, 4, 8);
    write!(o, ", data={{u32={}, u64={}}}}}", data as u32, data)
}

fn epoll_events(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
    if n > 0 && rd::<12>(m, addr).is_none() {
        return ptr(o, addr);
    }
    o.write_char('[')?;
    for i in 0..n {
        if i > 0 {
            o.write_str(", ")?;
        }
        let Some(b) = rd::<12>(m, addr.wrapping_add(12 * i)).filter(|_| i < max_str()) else {
            o.write_str("...")?;
            break;
        };
        epoll_event(o, &b)?;
    }
    o.write_char(']')
}

/// struct msghdr. `filled` is recvmsg's result: its iov shows only what the
/// call put there, and msg_namelen what it was and became.
fn msghdr(o: &mut dyn Write, m: &dyn Memory, addr: usize, filled: Option<usize>) -> fmt::Result {
    if addr == 0 {
        return o.write_str("NULL");
    }
    let Some(b) = rd::<56>(m, addr) else {
        return ptr(o, addr);
    };
    let (name, namelen) = (le(&b, 0, 8) as usize, le(&b, 8, 4) as u32);
    let (iov_p, iovlen) = (le(&b, 16, 8) as usize, le(&b, 24, 8) as usize);
    let (ctl, ctllen, fl) = (le(&b, 32, 8) as usize, le(&b, 40, 8) as usize, le(&b, 48, 4));
    o.write_str("{msg_name=")?;
    match filled {
        // recvmsg: the address is shown as strace does, by pointer unless filled.
        Some(_) if name != 0 && namelen > 0 => sockaddr(o, m, name, namelen as usize)?,
        Some(_) => ptr(o, name)?,
        None if name != 0 => sockaddr(o, m, name, namelen as usize)?,
        None => ptr(o, name)?,
    }
    o.write_str(", msg_namelen=")?;
    match (filled, m.saved()) {
        (Some(_), Some(before)) if before != namelen => write!(o, "{before} => {namelen}")?,
        _ => write!(o, "{namelen}")?,
    }
    o.write_str(", msg_iov=")?;
    iov(o, m, iov_p, iovlen, filled)?;
    write!(o, ", msg_iovlen={iovlen}")?;
    if ctllen > 0 && ctl != 0 {
        o.write_str(", msg_control=")?;
        cmsgs(o, m, ctl, ctllen)?;
    }
    write!(o, ", msg_controllen={ctllen}, msg_flags=")?;
    flags(o, fl, MSG)?;
    o.write_char('}')
}

/// The control messages of a msghdr: fds passed, credentials, or the
/// header only for the others.
fn cmsgs(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
    o.write_char('[')?;
    let mut off: usize = 0;
    let mut n = 0;
    while off.checked_add(16).is_some_and(|end| end <= len) && n < max_str() {
        let Some(h) = rd::<16>(m, addr.wrapping_add(off)) else { break };
        let (clen, level, ty) = (le(&h, 0, 8) as usize, le(&h, 8, 4) as u32, le(&h, 12, 4) as u32);
        if clen < 16 {
            break;
        }
        if n > 0 {
            o.write_str(", ")?;
        }
        write!(o, "{{cmsg_len={clen}, cmsg_level=")?;
        xlat(o, level, &SOL)?;
        o.write_str(", cmsg_type=")?;
        let data = addr.wrapping_add(off + 16);
        let dlen = clen.min(len - off) - 16;
        if level == SOL_SOCKET {
            xlat(o, ty, &SCM)?;
            match ty {
                1 => {
                    o.write_str(", cmsg_data=")?;
                    groups_i32(o, m, data, dlen / 4)?;
                }
                2 if dlen >= 12 => {
                    if let Some(c) = rd::<12>(m, data) {
                        write!(
                            o,
                            ", cmsg_data={{pid={}, uid={}, gid={}}}",
                            le(&c, 0, 4) as i32,
                            le(&c, 4, 4),
                            le(&c, 8, 4)
                        )?;
                    }
                }
                _ => {}
            }
        } else {
            hex(o, ty.into())?;
        }
        o.write_char('}')?;
        // cmsg_len is the program's: a huge one ends the list.
        match clen.checked_add(7).and_then(|l| off.checked_add(l & !7)) {
            Some(next) => off = next,
            None => break,
        }
        n += 1;
    }
    o.write_char(']')
}

/// `[3, 4]`: the fds of an SCM_RIGHTS message.
fn groups_i32(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
    o.write_char('[')?;
    for i in 0..n.min(max_str()) {
        if i > 0 {
            o.write_str(", ")?;
        }
        match rd::<4>(m, addr.wrapping_add(4 * i)) {
            Some(b) => write!(o, "{}", le(&b, 0, 4) as i32)?,
            None => break,
        }
    }
    o.write_char(']')
}

/// What strace appends to some results: poll's ready fds, a timeout.
pub(super) fn result_detail(o: &mut dyn Write, nr: usize, args: &[usize; 6], m: &dyn Memory, ret: isize) -> fmt::Result {
    match nr {
        // poll, ppoll
        7 | 271 if ret == 0 => o.write_str(" (Timeout)"),
        7 | 271 if ret > 0 => revents(o, m, args[0], args[1] as u32 as usize),
        // select, pselect6
        23 | 270 if ret == 0 => o.write_str(" (Timeout)"),
        _ => Ok(()),
    }
}

/// ` ([{fd=5, revents=POLLIN}])`: the entries of a pollfd array with
/// events (nothing if none is readable).
fn revents(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
    let mut first = true;
    for i in 0..n.min(1 << 16) {
        let Some(b) = rd::<8>(m, addr.wrapping_add(8 * i)) else { break };
        let re = le(&b, 6, 2);
        if re == 0 {
            continue;
        }
        o.write_str(if core::mem::take(&mut first) { " ([" } else { ", " })?;
        write!(o, "{{fd={}, revents=", le(&b, 0, 4) as i32)?;
        flags(o, re, POLL)?;
        o.write_char('}')?;
    }
    if !first {
        o.write_str("])")?;
    }
    Ok(())
}
