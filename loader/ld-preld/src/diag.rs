//! One-line diagnostics on stderr, and the exit statuses a shell would use:
//! 127 when the program is not found, 126 when it is found but cannot run.

use core::fmt::{Display, Write};

use crate::rt::Buf;
use crate::sys;

pub const EXIT_NOT_FOUND: i32 = 127;
pub const EXIT_CANNOT_RUN: i32 = 126;

/// Prints `ld-preld: FILE: REASON` and exits with `code`.
pub fn fail(code: i32, file: &[u8], reason: impl Display) -> ! {
    let mut b = Buf::<1024>::new();
    b.push_bytes(b"ld-preld: ");
    if !file.is_empty() {
        b.push_bytes(file);
        b.push_bytes(b": ");
    }
    let _ = write!(b, "{reason}");
    if b.len == b.bytes.len() {
        b.len -= 1;
    }
    b.push_bytes(b"\n");
    let _ = sys::write(2, b.as_bytes());
    sys::exit_group(code)
}

/// An errno as glibc's message.
pub struct Errno(pub i32);

impl Display for Errno {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(preld_handler::errno::message(self.0))
    }
}
