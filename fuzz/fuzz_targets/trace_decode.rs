//! Fuzz target: the strace-style decoder of `preld trace` on arbitrary
//! calls and arbitrary memory. A traced program controls every argument
//! register and every byte its pointers reach (and can change them while
//! the decoder reads), so whatever the call, the decoder must not panic,
//! loop or read outside what `Memory::read` gives it.
//!
//! Input: a call number (u16), six arguments (u64 each), a result (i64),
//! then the bytes of a fake address space: addresses 0x1000.. map onto the
//! rest of the input, anything else is unreadable. The arguments are
//! biased into that window half of the time so that pointers decode.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preld_handler::trace::decode::{self, Memory};

const BASE: usize = 0x1000;

struct Fake<'a>(&'a [u8]);

impl Memory for Fake<'_> {
    fn read(&self, addr: usize, buf: &mut [u8]) -> bool {
        let Some(off) = addr.checked_sub(BASE) else { return false };
        match self.0.get(off..).and_then(|m| m.get(..buf.len())) {
            Some(src) => {
                buf.copy_from_slice(src);
                true
            }
            None => false,
        }
    }
}

/// Counts what is written (and checks it is bounded): strace lines are
/// short, whatever the memory holds.
struct Sink(usize);

impl core::fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        assert!(self.0 < 1 << 20, "a line of more than 1 MiB");
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 + 48 + 8 + 1 {
        return;
    }
    let nr = u16::from_le_bytes([data[0], data[1]]) as usize % 512;
    let word = |i: usize| u64::from_le_bytes(data[2 + 8 * i..10 + 8 * i].try_into().unwrap());
    let bias = data[58];
    let mut args = [0usize; 6];
    for (i, a) in args.iter_mut().enumerate() {
        let w = word(i) as usize;
        // Bit i of the bias byte: make the argument a pointer into memory.
        *a = if bias & (1 << i) != 0 { BASE + (w % 4096) } else { w };
    }
    let ret = word(6) as i64 as isize;
    let mem = Fake(&data[59..]);
    let mut out = Sink(0);
    let _ = decode::snapshot(nr, &args, &mem);
    let _ = decode::write_call(&mut out, nr, &args, &mem, None);
    let _ = decode::write_call(&mut out, nr, &args, &mem, Some(ret));
    let _ = decode::write_result_in(&mut out, nr, &args, &mem, ret);
    let _ = decode::write_result(&mut out, nr, &args, ret);
    let _ = decode::decode_after(nr);
    let _ = decode::arity(nr);
});
