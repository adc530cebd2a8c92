//! Decoding of system calls into strace-style text.
