//! The resident handler of preld: once the loader has mapped a program, every
//! system call the program makes arrives here (trapped by Syscall User
//! Dispatch, or called directly through preld's vDSO), is served, and returns.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod errno;
pub mod sys;
pub mod trace;
pub mod vdso;
