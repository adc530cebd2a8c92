//! Sockets: addresses (IPv6 as inet_ntop writes it), lengths given and
//! returned, struct msghdr and its control messages.

use core::fmt::{self, Write};

use crate::trace::decode::{Memory, xlat::*};
use super::numbers::{flags, hex, ptr, xlat};
use super::strings::{cfield, iov, quote};
use super::{is_error, le, max_str, rd};

pub(super) fn sockaddr(o: &mut dyn Write, m: &dyn Memory, addr: usize, len: usize) -> fmt::Result {
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
pub(in crate::trace::decode) fn ipv6(o: &mut dyn Write, a: &[u8]) -> fmt::Result {
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

/// The value the tracer saved before the call (an in/out length), or `dflt`.
pub(super) fn saved_len(m: &dyn Memory, dflt: usize) -> usize {
    m.saved().map_or(dflt, |v| v as usize)
}

/// A socket length the caller set and the call updated: `[16]` when it did
/// not change (or the call failed), `[128 => 16]` when it did, as strace.
pub(super) fn sock_len(o: &mut dyn Write, m: &dyn Memory, addr: usize, ret: Option<isize>) -> fmt::Result {
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

/// struct msghdr. `filled` is recvmsg's result: its iov shows only what the
/// call put there, and msg_namelen what it was and became.
pub(super) fn msghdr(o: &mut dyn Write, m: &dyn Memory, addr: usize, filled: Option<usize>) -> fmt::Result {
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
