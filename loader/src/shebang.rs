//! `#!` lines, parsed as the kernel's binfmt_script does.
//!
//! The kernel reads the first 256 bytes of the file (NUL-padded when the file
//! is shorter). The line ends at the first newline or, without one, before
//! the buffer's last byte; trailing blanks are dropped. The interpreter is
//! the first word after `#!` and optional blanks, ended by a blank or NUL;
//! after a blank, the rest of the line from its first non-blank byte up to a
//! NUL is one optional argument, possibly empty.

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

/// Parses the start of a file (its first PEEK bytes, or all of a shorter
/// file); None when it does not begin with `#!`. Mirrors load_script() in
/// fs/binfmt_script.c step by step, NULs included: fuzzing compares the two.
pub fn parse(head: &[u8]) -> Option<Result<Shebang<'_>, ShebangError>> {
    let head = &head[..head.len().min(PEEK)];
    if !head.starts_with(b"#!") {
        return None;
    }
    // The kernel's buffer: NUL past the end of a short file.
    let at = |i: usize| head.get(i).copied().unwrap_or(0);
    let first = |from: usize, to: usize, f: fn(u8) -> bool| (from..to).find(|&i| f(at(i)));
    let not_blank = |c: u8| !blank(c);
    let terminator = |c: u8| blank(c) || c == 0;
    let buf_end = PEEK - 1;
    let mut end = match head.iter().position(|&c| c == b'\n') {
        Some(nl) => nl,
        None => {
            let Some(name) = first(2, buf_end, not_blank) else {
                return Some(Err(ShebangError::NoInterpreter));
            };
            if first(name, buf_end, terminator).is_none() {
                // Nothing ends the name within the buffer: it may go on.
                return Some(Err(ShebangError::TooLong));
            }
            buf_end
        }
    };
    // Stops at the `!` at the latest.
    while blank(at(end - 1)) {
        end -= 1;
    }
    let Some(name) = first(2, end, not_blank) else {
        return Some(Err(ShebangError::NoInterpreter));
    };
    let sep = first(name, end, terminator);
    let name_end = sep.unwrap_or(end);
    if name_end == name {
        // The name starts at a NUL: the kernel would look up "".
        return Some(Err(ShebangError::NoInterpreter));
    }
    // Indices past `head` are padding NULs; a string stops at the first one,
    // so clamping to head.len() changes nothing.
    let cut = |from: usize, to: usize| &head[from.min(head.len())..to.min(head.len())];
    let argument = match sep {
        Some(s) if at(s) != 0 => first(s, end, not_blank).map(|a| cut(a, first(a, end, |c| c == 0).unwrap_or(end))),
        _ => None,
    };
    Some(Ok(Shebang { interpreter: cut(name, name_end), argument }))
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
