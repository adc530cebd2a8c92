//! Strings and buffers: C escapes as strace writes them, byte buffers,
//! NUL-terminated strings, argv and envp, iovec arrays, char arrays of
//! structures.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU8, Ordering};

use crate::trace::decode::Memory;
use super::numbers::ptr;
use super::{MAX_STR_CAP, le, max_str, rd};

/// C-escapes bytes as strace does: `\n`, `\"`, octal for the rest (three
/// digits only when a digit follows), or all `\xNN` when `hex`. It holds one
/// byte back, since how that byte prints depends on the next.
struct Quoter<'a> {
    o: &'a mut dyn Write,
    held: Option<u8>,
    hex: bool,
}

/// strace's -x (1: strings with a non-ASCII byte are all in hex) and -xx
/// (2: every string in hex); 0: C escapes.
static HEX: AtomicU8 = AtomicU8::new(0);

pub(in crate::trace::decode) fn set_hex(level: u8) {
    HEX.store(level, Ordering::Relaxed);
}

/// Whether `bytes` (the part of a string that is shown) print in hex: with
/// -xx always, with -x when one is neither printable ASCII nor one of
/// `\t\n\v\f\r` (strace's rule).
fn hex_for(bytes: &[u8], forced: bool) -> bool {
    hex_at(HEX.load(Ordering::Relaxed), bytes, forced)
}

/// [`hex_for`] at -x level `level`.
pub(in crate::trace::decode) fn hex_at(level: u8, bytes: &[u8], forced: bool) -> bool {
    match level {
        _ if forced => true,
        0 => false,
        1 => bytes.iter().any(|&c| c > 0x7e || (c < b' ' && !(9..=13).contains(&c))),
        _ => true,
    }
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
pub(in crate::trace::decode) fn quote(o: &mut dyn Write, bytes: &[u8], more: bool, hex: bool) -> fmt::Result {
    o.write_char('"')?;
    let mut q = Quoter {
        o: &mut *o,
        held: None,
        hex: hex_for(bytes, hex),
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
pub(super) fn buf(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize, hex: bool) -> fmt::Result {
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
pub(super) fn string(o: &mut dyn Write, m: &dyn Memory, addr: usize, max: usize) -> fmt::Result {
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
        hex: string_in_hex(m, addr, n),
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

/// Whether the `n` bytes of the string at `addr` print in hex (-x, -xx):
/// -x reads them once more to look for a byte that asks for it.
fn string_in_hex(m: &dyn Memory, addr: usize, n: usize) -> bool {
    if HEX.load(Ordering::Relaxed) != 1 {
        return hex_for(&[], false);
    }
    let mut buf = [0u8; 64];
    let mut done = 0;
    while done < n {
        let a = addr.wrapping_add(done);
        let want = piece(a, n - done);
        let got = read_some(m, a, &mut buf[..want]);
        if hex_for(&buf[..got], false) {
            return true;
        }
        if got < want {
            return false;
        }
        done += want;
    }
    false
}

/// A path after `<` (strace -y; the caller closes it): escaped as in a
/// string, without the quotes, `<` and `>` in octal too.
pub(in crate::trace::decode) fn angle_quoted(o: &mut dyn Write, bytes: &[u8]) -> fmt::Result {
    o.write_char('<')?;
    if hex_for(bytes, false) {
        for &c in bytes {
            write!(o, "\\x{c:02x}")?;
        }
    } else {
        for (i, &c) in bytes.iter().enumerate() {
            let digit_next = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            match c {
                b'<' | b'>' if digit_next => write!(o, "\\{c:03o}")?,
                b'<' | b'>' => write!(o, "\\{c:o}")?,
                _ => escape(o, c, digit_next, false)?,
            }
        }
    }
    Ok(())
}

/// `["ls", "-l"]`: at most 32 strings, then `...`.
pub(super) fn argv(o: &mut dyn Write, m: &dyn Memory, addr: usize) -> fmt::Result {
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
pub(super) fn envp(o: &mut dyn Write, m: &dyn Memory, addr: usize) -> fmt::Result {
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

/// A NUL-padded char array of a structure.
pub(super) fn cfield(o: &mut dyn Write, f: &[u8]) -> fmt::Result {
    let n = f.iter().position(|&c| c == 0).unwrap_or(f.len());
    quote(o, &f[..n], false, false)
}

/// `[{iov_base="...", iov_len=5}]`. For a read (`filled` = the bytes the
/// call returned) each buffer shows only what the call put in it.
pub(super) fn iov(
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
