//! The initial process stack a program expects at its entry point:
//!
//! ```text
//!   stack_end - len:  argc
//!                     argv[0..argc], NULL
//!                     envp[..], NULL
//!                     auxv (type, value) pairs, AT_NULL
//!                     strings the loader adds (new argv entries, AT_EXECFN)
//!                     padding to 16 bytes
//!   stack_end
//! ```
//!
//! Strings the kernel already put on the stack (argv, envp, AT_RANDOM's
//! bytes, AT_PLATFORM) stay where they are and are referred to by address.

use alloc::vec::Vec;

/// A string for the new stack: already in memory, or to be copied onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Str<'a> {
    /// Address of a NUL-terminated string that stays mapped.
    At(usize),
    /// Bytes without NUL, placed on the new stack.
    New(&'a [u8]),
}

/// An auxiliary vector value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuxVal<'a> {
    Word(usize),
    Str(Str<'a>),
}

pub use crate::abi::AT_NULL;

/// A stack image ready to be copied so that it ends at `stack_end`.
#[derive(Debug)]
pub struct StackImage {
    pub bytes: Vec<u8>,
}

/// Lays out the stack for a program. `stack_end` must be 16-aligned; the image
/// length is a multiple of 16, so the program's rsp (argc) is 16-aligned.
pub fn build(stack_end: usize, argv: &[Str<'_>], envp: &[usize], auxv: &[(usize, AuxVal<'_>)]) -> StackImage {
    let words = 1 + argv.len() + 1 + envp.len() + 1 + 2 * (auxv.len() + 1);
    let new_len = |s: &Str<'_>| match s {
        Str::New(b) => b.len() + 1,
        Str::At(_) => 0,
    };
    let strings: usize = argv.iter().map(new_len).sum::<usize>()
        + auxv
            .iter()
            .map(|(_, v)| match v {
                AuxVal::Str(s) => new_len(s),
                AuxVal::Word(_) => 0,
            })
            .sum::<usize>();
    let len = (words * 8 + strings + 15) & !15;
    let base = stack_end - len;

    let mut bytes = Vec::with_capacity(len);
    let mut pool = Vec::with_capacity(strings);
    let mut string_at = |s: &Str<'_>| -> usize {
        match *s {
            Str::At(addr) => addr,
            Str::New(b) => {
                let addr = base + words * 8 + pool.len();
                pool.extend_from_slice(b);
                pool.push(0);
                addr
            }
        }
    };
    let push = |bytes: &mut Vec<u8>, w: usize| bytes.extend_from_slice(&w.to_ne_bytes());
    push(&mut bytes, argv.len());
    for a in argv {
        let addr = string_at(a);
        push(&mut bytes, addr);
    }
    push(&mut bytes, 0);
    for &e in envp {
        push(&mut bytes, e);
    }
    push(&mut bytes, 0);
    for (key, val) in auxv {
        let v = match val {
            AuxVal::Word(w) => *w,
            AuxVal::Str(s) => string_at(s),
        };
        push(&mut bytes, *key);
        push(&mut bytes, v);
    }
    push(&mut bytes, AT_NULL);
    push(&mut bytes, 0);
    bytes.extend_from_slice(&pool);
    bytes.resize(len, 0);
    StackImage { bytes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(b: &[u8], i: usize) -> usize {
        usize::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().unwrap())
    }

    #[test]
    fn layout_and_new_strings() {
        let end = 0x7fff_0000_0000usize;
        let img = build(
            end,
            &[Str::New(b"/bin/sh"), Str::At(0x1234)],
            &[0x5000],
            &[(31, AuxVal::Str(Str::New(b"/x"))), (6, AuxVal::Word(4096))],
        );
        let b = &img.bytes;
        assert_eq!(b.len() % 16, 0);
        let base = end - b.len();
        assert_eq!(word(b, 0), 2);
        let s0 = word(b, 1) - base;
        assert_eq!(&b[s0..s0 + 8], b"/bin/sh\0");
        assert_eq!(word(b, 2), 0x1234);
        assert_eq!(word(b, 3), 0);
        assert_eq!(word(b, 4), 0x5000);
        assert_eq!(word(b, 5), 0);
        assert_eq!(word(b, 6), 31);
        let s1 = word(b, 7) - base;
        assert_eq!(&b[s1..s1 + 3], b"/x\0");
        assert_eq!((word(b, 8), word(b, 9)), (6, 4096));
        assert_eq!((word(b, 10), word(b, 11)), (0, 0));
    }
}
