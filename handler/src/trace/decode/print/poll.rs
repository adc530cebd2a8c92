//! Polling: pollfd arrays and the ready fds poll returns, epoll events.

use core::fmt::{self, Write};

use crate::trace::decode::{Memory, xlat::*};
use super::numbers::{flags, ptr};
use super::{le, max_str, rd};

/// `[{fd=3, events=POLLIN}, ...]`.
pub(super) fn pollfds(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
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

/// ` ([{fd=5, revents=POLLIN}])`: the entries of a pollfd array with
/// events (nothing if none is readable).
pub(super) fn revents(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
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

/// struct epoll_event (packed on x86_64: 4 bytes of events, 8 of data).
pub(super) fn epoll_event(o: &mut dyn Write, b: &[u8; 12]) -> fmt::Result {
    o.write_str("{events=")?;
    flags(o, le(b, 0, 4), EPOLL_EVENTS)?;
    let data = le(b, 4, 8);
    write!(o, ", data={{u32={}, u64={}}}}}", data as u32, data)
}

pub(super) fn epoll_events(o: &mut dyn Write, m: &dyn Memory, addr: usize, n: usize) -> fmt::Result {
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
