//! Tracing: strace-style decoding of system calls.

pub mod decode;
