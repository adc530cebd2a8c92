//! The pure part of ld-preld: everything it decides before it maps anything,
//! and the reader of vDSO images the handler uses at start-up (to find the
//! kernel's vDSO functions) and its tests use on preld's own image.
//!
//! These modules read bytes and produce plans; they make no system calls, so
//! they are unit-tested and fuzzed on the host, with std, exactly as the
//! loader runs them.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod abi;
pub mod elf;
pub mod path;
pub mod shebang;
pub mod stack;
pub mod vdso;

/// Page size of the target: segments are mapped in whole pages.
pub const PAGE: u64 = 4096;

/// Rounds `x` down to a page boundary.
pub const fn page_down(x: u64) -> u64 {
    x & !(PAGE - 1)
}

/// Rounds `x` up to a page boundary, or None on overflow.
pub const fn page_up(x: u64) -> Option<u64> {
    match x.checked_add(PAGE - 1) {
        Some(v) => Some(v & !(PAGE - 1)),
        None => None,
    }
}
