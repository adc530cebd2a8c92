//! The architecture seam of preld: everything that is written in assembly or
//! depends on one instruction set lives below this module, one file set per
//! architecture, each exporting the same short list of items.
#![no_std]

#[cfg_attr(target_arch = "x86_64", path = "x86_64/mod.rs")]
mod imp;

pub mod abi;

pub use imp::*;
