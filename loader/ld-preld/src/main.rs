//! ld-preld: maps a program and its ld.so, then hands over control as the
//! kernel would have. Started by the kernel either as a program (launcher
//! mode: `ld-preld [OPTIONS] PROG ARGS...`) or as the PT_INTERP of a program
//! patched by `preld patch` (the kernel has then mapped the program itself).
#![no_std]
#![no_main]

extern crate alloc;

mod diag;
mod initial;
mod launch;
mod map;
mod proc_self;
mod rt;

use preld_handler::{abi, errno, sys};

use initial::*;

/// Entered from `_start` once relocated, on the kernel's initial stack;
/// `relro` is the result of making the image's RELRO range read-only.
extern "C" fn preld_main(sp: *mut usize, relro: preld_arch::Sysret) -> ! {
    if relro < 0 {
        // ld.so too gives up on an object whose RELRO it cannot protect.
        let reason = format_args!("cannot make its relocated data read-only: {}", diag::Errno(-relro as i32));
        diag::fail(diag::EXIT_CANNOT_RUN, b"", reason);
    }
    preld_handler::heap::init();
    // SAFETY: `sp` is the kernel's initial stack pointer, read once.
    let mut init = unsafe { Initial::from_sp(sp) };
    let own_entry = rt::_start as *const () as usize;
    if init.aux(AT_ENTRY) == Some(own_entry) {
        launch::launcher(init)
    } else {
        launch::as_interpreter(&mut init)
    }
}
