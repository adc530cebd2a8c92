//! `#!` lines, parsed as the kernel's binfmt_script does.
//!
//! The kernel reads the first 256 bytes of the file. The line ends at the
//! first newline or NUL; the interpreter is the first word after `#!` and
//! optional blanks; everything after the blanks that follow it, with trailing
//! blanks removed, is one optional argument.

/// How many bytes of a file the kernel looks at (BINPRM_BUF_SIZE).
pub const PEEK: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shebang<'a> {
    pub interpreter: &'a [u8],
    pub argument: Option<&'a [u8]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShebangError {
    /// `#!` followed by nothing but blanks.
    NoInterpreter,
    /// The interpreter path does not end within the first 256 bytes.
    TooLong,
}

impl ShebangError {
    pub fn message(self) -> &'static str {
        match self {
            ShebangError::NoInterpreter => "#! line names no interpreter",
            ShebangError::TooLong => "#! line: interpreter path longer than 256 bytes",
        }
    }
}

fn blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Parses the start of a file; None when it does not begin with `#!`.
pub fn parse(head: &[u8]) -> Option<Result<Shebang<'_>, ShebangError>> {
    let head = &head[..head.len().min(PEEK)];
    let rest = head.strip_prefix(b"#!")?;
    // The kernel's buffer is NUL-padded after a file shorter than PEEK, so
    // the end of such a file ends the line; a full buffer without a newline
    // is cut to its first PEEK - 1 bytes (binfmt_script's buf_end).
    let terminated = rest.iter().position(|&c| c == b'\n' || c == 0);
    let terminated = terminated.or((head.len() < PEEK).then_some(rest.len()));
    let line = &rest[..terminated.unwrap_or_else(|| rest.len() - 1)];
    let start = line.iter().position(|&c| !blank(c)).unwrap_or(line.len());
    let line = &line[start..];
    let end = line.iter().rposition(|&c| !blank(c)).map_or(0, |i| i + 1);
    let line = &line[..end];
    if line.is_empty() {
        return Some(Err(ShebangError::NoInterpreter));
    }
    let name_end = line.iter().position(|&c| blank(c));
    if terminated.is_none() && name_end.is_none() {
        // The whole buffer is the interpreter's name: it may go on.
        return Some(Err(ShebangError::TooLong));
    }
    let interpreter = &line[..name_end.unwrap_or(line.len())];
    let argument = name_end.and_then(|e| {
        let arg = &line[e..];
        let s = arg.iter().position(|&c| !blank(c))?;
        Some(&arg[s..])
    });
    Some(Ok(Shebang { interpreter, argument }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
        let sb = parse(s).unwrap().unwrap();
        (sb.interpreter.to_vec(), sb.argument.map(|a| a.to_vec()))
    }

    #[test]
    fn plain_and_with_argument() {
        assert_eq!(ok(b"#!/bin/sh\necho"), (b"/bin/sh".to_vec(), None));
        assert_eq!(ok(b"#! /usr/bin/env  python3 -u \n"), (b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec())));
        assert_eq!(ok(b"#!/bin/sh\t\r\n"), (b"/bin/sh".to_vec(), Some(b"\r".to_vec())));
        assert_eq!(ok(b"#!/bin/bash"), (b"/bin/bash".to_vec(), None));
    }

    #[test]
    fn not_a_script_or_empty() {
        assert!(parse(b"\x7fELF").is_none());
        assert!(parse(b"#").is_none());
        assert_eq!(parse(b"#!   \n/bin/sh"), Some(Err(ShebangError::NoInterpreter)));
        assert_eq!(parse(b"#!"), Some(Err(ShebangError::NoInterpreter)));
    }

    #[test]
    fn long_lines() {
        let mut long = b"#!/".to_vec();
        long.extend(std::iter::repeat(b'a').take(400));
        assert_eq!(parse(&long), Some(Err(ShebangError::TooLong)));
        // A long argument is cut at 255 bytes, as by the kernel.
        let mut arg = b"#!/bin/sh ".to_vec();
        arg.extend(std::iter::repeat(b'x').take(400));
        let (i, a) = ok(&arg);
        assert_eq!(i, b"/bin/sh");
        assert_eq!(a.unwrap().len(), PEEK - 1 - 10);
    }
}
