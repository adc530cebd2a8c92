//! The wire format between the handler and the tracer hub of `preld trace
//! --tracer` (server/src/tracer/): binary frames on `SOCK_SEQPACKET`
//! connections, one per traced thread, plus the process's main connection,
//! which only carries `Connect` frames (each with the new connection's other
//! end as its fd). The hub turns them into the text protocol of
//! docs/tracer-protocol.md. All integers little-endian, no alignment.
//!
//! ```text
//! handler → hub
//!  1 Call     kind u8, 0 u8 x3, pid i32, tid i32, nr u32, args u64 x6 (64 bytes), then `NAME(ARGS)` text
//!  2 Result   kind, 0 x3, seq u32, ret i64 (16 bytes): the stepped call `seq` returned `ret` (value or -errno)
//!  3 Signal   kind, 0 x3, pid i32, tid i32, sig u32 (16 bytes), then `SIGNAME {si_code=...}` text
//!  4 Exit     kind, 0 x3, pid i32, tid i32, status i32 (16 bytes): exit code 0..=255, or -SIG when killed
//!  5 Connect  kind, 0 x3, pid i32, tid i32 (12 bytes) + 1 fd: a new connection for thread `tid`
//! hub → handler
//!  1 Verdict  kind u8, action u8, strmask u8, 0 u8, seq u32, value i64, args u64 x6 (64 bytes),
//!             blob_len u32, blob, then sets
//!  2 Final    kind, 0 x3, seq u32, value i64 (16 bytes), then sets
//!  3 Signal   kind, 0 x3, sig i32 (8 bytes): 0 suppress, else deliver that signal
//! sets: (index u8, len u32, bytes) until the frame ends
//! ```
//!
//! A Verdict's action: 0 make the call with `args`, 1 the same and send its
//! Result (a Final comes back), 2 do not make it: return `value` (after the
//! sets), 3 make it and stop asking (every tracer detached). `args[i]` with
//! bit i of `strmask` set is an offset into `blob`, where a NUL-terminated
//! string starts that the handler copies into memory of its own. A set
//! writes its bytes at the address argument `index` had as the program
//! passed it.

/// Handler → hub frame kinds.
pub const CALL: u8 = 1;
pub const RESULT: u8 = 2;
pub const SIGNAL: u8 = 3;
pub const EXIT: u8 = 4;
pub const CONNECT: u8 = 5;

/// Hub → handler frame kinds.
pub const VERDICT: u8 = 1;
pub const FINAL: u8 = 2;
pub const SIGNAL_VERDICT: u8 = 3;

/// Verdict actions.
pub const CONT: u8 = 0;
pub const STEP: u8 = 1;
pub const RETURN: u8 = 2;
pub const DETACH: u8 = 3;

/// The most bytes of strings one verdict carries (the handler's per-thread
/// buffer) and of sets one answer writes.
pub const MAX_BLOB: usize = 4096;
pub const MAX_SETS: usize = 4096;
/// The largest frame either side sends (a Call's text is cut to fit).
pub const MAX_FRAME: usize = 64 + 4 + MAX_BLOB + MAX_SETS + 64;
pub const CALL_HEADER: usize = 64;
pub const VERDICT_HEADER: usize = 68;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    Short,
    Kind,
    Bad,
    TooBig,
}

fn u32_at(b: &[u8], o: usize) -> Result<u32, Error> {
    b.get(o..o + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]])).ok_or(Error::Short)
}

fn u64_at(b: &[u8], o: usize) -> Result<u64, Error> {
    let s = b.get(o..o + 8).ok_or(Error::Short)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn put(buf: &mut [u8], o: usize, v: &[u8]) -> Result<(), Error> {
    buf.get_mut(o..o + v.len()).ok_or(Error::TooBig)?.copy_from_slice(v);
    Ok(())
}

/// A handler → hub frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Up<'a> {
    Call { pid: i32, tid: i32, nr: u32, args: [u64; 6], text: &'a [u8] },
    Result { seq: u32, ret: i64 },
    Signal { pid: i32, tid: i32, sig: u32, text: &'a [u8] },
    Exit { pid: i32, tid: i32, status: i32 },
    Connect { pid: i32, tid: i32 },
}

/// Encodes the fixed part of `m` into `buf`; returns its length. The text
/// of a Call or Signal follows it (the caller writes it after).
pub fn encode_up(m: &Up<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    let head = |buf: &mut [u8], kind: u8, a: i32, b: i32| -> Result<(), Error> {
        put(buf, 0, &[kind, 0, 0, 0])?;
        put(buf, 4, &a.to_le_bytes())?;
        put(buf, 8, &b.to_le_bytes())
    };
    Ok(match *m {
        Up::Call { pid, tid, nr, args, text } => {
            head(buf, CALL, pid, tid)?;
            put(buf, 12, &nr.to_le_bytes())?;
            for (i, a) in args.iter().enumerate() {
                put(buf, 16 + 8 * i, &a.to_le_bytes())?;
            }
            put(buf, 64, text)?;
            64 + text.len()
        }
        Up::Result { seq, ret } => {
            put(buf, 0, &[RESULT, 0, 0, 0])?;
            put(buf, 4, &seq.to_le_bytes())?;
            put(buf, 8, &ret.to_le_bytes())?;
            16
        }
        Up::Signal { pid, tid, sig, text } => {
            head(buf, SIGNAL, pid, tid)?;
            put(buf, 12, &sig.to_le_bytes())?;
            put(buf, 16, text)?;
            16 + text.len()
        }
        Up::Exit { pid, tid, status } => {
            head(buf, EXIT, pid, tid)?;
            put(buf, 12, &status.to_le_bytes())?;
            16
        }
        Up::Connect { pid, tid } => {
            head(buf, CONNECT, pid, tid)?;
            12
        }
    })
}

pub fn decode_up(b: &[u8]) -> Result<Up<'_>, Error> {
    let kind = *b.first().ok_or(Error::Short)?;
    let i32_at = |o| u32_at(b, o).map(|v| v as i32);
    Ok(match kind {
        CALL => {
            let mut args = [0u64; 6];
            for (i, a) in args.iter_mut().enumerate() {
                *a = u64_at(b, 16 + 8 * i)?;
            }
            Up::Call { pid: i32_at(4)?, tid: i32_at(8)?, nr: u32_at(b, 12)?, args, text: &b[64..] }
        }
        RESULT if b.len() == 16 => Up::Result { seq: u32_at(b, 4)?, ret: u64_at(b, 8)? as i64 },
        SIGNAL if b.len() >= 16 => Up::Signal { pid: i32_at(4)?, tid: i32_at(8)?, sig: u32_at(b, 12)?, text: &b[16..] },
        EXIT if b.len() == 16 => Up::Exit { pid: i32_at(4)?, tid: i32_at(8)?, status: i32_at(12)? },
        CONNECT if b.len() == 12 => Up::Connect { pid: i32_at(4)?, tid: i32_at(8)? },
        RESULT | SIGNAL | EXIT | CONNECT => return Err(Error::Short),
        _ => return Err(Error::Kind),
    })
}

/// A hub → handler frame. `blob` and `sets` are raw: see `sets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Down<'a> {
    Verdict { action: u8, strmask: u8, seq: u32, value: i64, args: [u64; 6], blob: &'a [u8], sets: &'a [u8] },
    Final { seq: u32, value: i64, sets: &'a [u8] },
    Signal { sig: i32 },
}

pub fn encode_down(m: &Down<'_>, buf: &mut [u8]) -> Result<usize, Error> {
    Ok(match *m {
        Down::Verdict { action, strmask, seq, value, args, blob, sets } => {
            if blob.len() > MAX_BLOB || sets.len() > MAX_SETS {
                return Err(Error::TooBig);
            }
            put(buf, 0, &[VERDICT, action, strmask, 0])?;
            put(buf, 4, &seq.to_le_bytes())?;
            put(buf, 8, &value.to_le_bytes())?;
            for (i, a) in args.iter().enumerate() {
                put(buf, 16 + 8 * i, &a.to_le_bytes())?;
            }
            put(buf, 64, &(blob.len() as u32).to_le_bytes())?;
            put(buf, 68, blob)?;
            put(buf, 68 + blob.len(), sets)?;
            68 + blob.len() + sets.len()
        }
        Down::Final { seq, value, sets } => {
            if sets.len() > MAX_SETS {
                return Err(Error::TooBig);
            }
            put(buf, 0, &[FINAL, 0, 0, 0])?;
            put(buf, 4, &seq.to_le_bytes())?;
            put(buf, 8, &value.to_le_bytes())?;
            put(buf, 16, sets)?;
            16 + sets.len()
        }
        Down::Signal { sig } => {
            put(buf, 0, &[SIGNAL_VERDICT, 0, 0, 0])?;
            put(buf, 4, &sig.to_le_bytes())?;
            8
        }
    })
}

pub fn decode_down(b: &[u8]) -> Result<Down<'_>, Error> {
    let kind = *b.first().ok_or(Error::Short)?;
    Ok(match kind {
        VERDICT => {
            if b.len() < VERDICT_HEADER {
                return Err(Error::Short);
            }
            let (action, strmask) = (b[1], b[2]);
            if action > DETACH || strmask >= 1 << 6 {
                return Err(Error::Bad);
            }
            let mut args = [0u64; 6];
            for (i, a) in args.iter_mut().enumerate() {
                *a = u64_at(b, 16 + 8 * i)?;
            }
            let blob_len = u32_at(b, 64)? as usize;
            if blob_len > MAX_BLOB {
                return Err(Error::TooBig);
            }
            let blob = b.get(68..68 + blob_len).ok_or(Error::Short)?;
            let sets = &b[68 + blob_len..];
            // Each string offset must start a NUL-terminated string inside the blob.
            for (i, &a) in args.iter().enumerate() {
                if strmask & (1 << i) != 0 {
                    let rest = blob.get(a as usize..).ok_or(Error::Bad)?;
                    if !rest.contains(&0) {
                        return Err(Error::Bad);
                    }
                }
            }
            check_sets(sets)?;
            Down::Verdict { action, strmask, seq: u32_at(b, 4)?, value: u64_at(b, 8)? as i64, args, blob, sets }
        }
        FINAL if b.len() >= 16 => {
            let sets = &b[16..];
            check_sets(sets)?;
            Down::Final { seq: u32_at(b, 4)?, value: u64_at(b, 8)? as i64, sets }
        }
        SIGNAL_VERDICT if b.len() == 8 => Down::Signal { sig: u32_at(b, 4)? as i32 },
        FINAL | SIGNAL_VERDICT => return Err(Error::Short),
        _ => return Err(Error::Kind),
    })
}

fn check_sets(sets: &[u8]) -> Result<(), Error> {
    if sets.len() > MAX_SETS {
        return Err(Error::TooBig);
    }
    let mut it = Sets(sets);
    for s in &mut it {
        if s.0 >= 6 {
            return Err(Error::Bad);
        }
    }
    if !it.0.is_empty() {
        return Err(Error::Short);
    }
    Ok(())
}

/// The sets of a frame: (argument index, bytes).
pub struct Sets<'a>(pub &'a [u8]);

impl<'a> Iterator for Sets<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let idx = *self.0.first()?;
        let len = u32_at(self.0, 1).ok()? as usize;
        let bytes = self.0.get(5..5usize.checked_add(len)?)?;
        self.0 = &self.0[5 + len..];
        Some((idx, bytes))
    }
}

/// Appends one set to `out` at `*len`.
pub fn push_set(out: &mut [u8], len: &mut usize, idx: u8, bytes: &[u8]) -> Result<(), Error> {
    let need = 5 + bytes.len();
    if *len + need > out.len().min(MAX_SETS) {
        return Err(Error::TooBig);
    }
    out[*len] = idx;
    put(out, *len + 1, &(bytes.len() as u32).to_le_bytes())?;
    put(out, *len + 5, bytes)?;
    *len += need;
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;

    #[test]
    fn round_trips() {
        let mut b = [0u8; MAX_FRAME];
        let ups = [
            Up::Call { pid: 5, tid: 6, nr: 257, args: [1, 2, 3, 4, 5, u64::MAX], text: b"openat(AT_FDCWD, \"x\")" },
            Up::Result { seq: 9, ret: -2 },
            Up::Signal { pid: 1, tid: 2, sig: 10, text: b"SIGUSR1 {}" },
            Up::Exit { pid: 1, tid: 1, status: -9 },
            Up::Connect { pid: 3, tid: 4 },
        ];
        for u in ups {
            let n = encode_up(&u, &mut b).unwrap();
            assert_eq!(decode_up(&b[..n]).unwrap(), u);
        }
        let mut sets = [0u8; 64];
        let mut sl = 0;
        push_set(&mut sets, &mut sl, 1, b"abc").unwrap();
        push_set(&mut sets, &mut sl, 0, b"").unwrap();
        let downs = [
            Down::Verdict { action: STEP, strmask: 2, seq: 1, value: 0, args: [0, 2, 0, 0, 0, 0], blob: b"ab\0cd\0", sets: &sets[..sl] },
            Down::Final { seq: 3, value: -5, sets: &sets[..sl] },
            Down::Signal { sig: 0 },
        ];
        for d in downs {
            let n = encode_down(&d, &mut b).unwrap();
            assert_eq!(decode_down(&b[..n]).unwrap(), d);
        }
        assert_eq!(Sets(&sets[..sl]).collect::<Vec<_>>(), [(1, &b"abc"[..]), (0, &b""[..])]);
    }

    #[test]
    fn bad_frames_are_refused() {
        let mut b = [0u8; MAX_FRAME];
        let v = Down::Verdict { action: CONT, strmask: 1, seq: 1, value: 0, args: [3, 0, 0, 0, 0, 0], blob: b"ab\0", sets: &[] };
        let n = encode_down(&v, &mut b).unwrap();
        assert_eq!(decode_down(&b[..n]), Err(Error::Bad), "a string offset past the blob's last NUL");
        // Every truncation and every single-byte change decodes or fails, never panics.
        let v = Down::Verdict { action: STEP, strmask: 1, seq: 1, value: 0, args: [0; 6], blob: b"a\0", sets: &[1, 2, 0, 0, 0, 7, 7] };
        let n = encode_down(&v, &mut b).unwrap();
        for cut in 0..n {
            let _ = decode_down(&b[..cut]);
            let _ = decode_up(&b[..cut]);
        }
        for i in 0..n {
            for x in [0u8, 1, 0x7f, 0xff] {
                let mut c = b;
                c[i] = x;
                let _ = decode_down(&c[..n]);
                let _ = decode_up(&c[..n]);
            }
        }
        assert!(decode_down(&[9]).is_err() && decode_up(&[]).is_err());
    }
}
