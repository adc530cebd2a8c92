//! Test oracle: Linux's binfmt_script `load_script()` parsing of a `#!` line,
//! transcribed statement by statement from fs/binfmt_script.c (v5.1+), so
//! that preld's own parser can be compared with the kernel's behaviour on
//! arbitrary bytes. Shared by the fuzz target and the loader's unit tests.

/// Why the kernel refuses a `#!` line. Both are ENOEXEC in the kernel (or, for
/// an empty name, a failed open of ""); preld reports them separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Nothing but blanks, or the name is an empty C string.
    NoInterpreter,
    /// No newline in the buffer and nothing ends the interpreter's name.
    Truncated,
}

/// The interpreter's name and optional argument, as the kernel copies them to
/// the new argv.
pub type Script = (Vec<u8>, Option<Vec<u8>>);

/// Parses `file`'s `#!` line; None when `file` does not start with `#!`.
pub fn load_script(file: &[u8]) -> Option<Result<Script, Refused>> {
    // bprm->buf: the first BINPRM_BUF_SIZE bytes, NUL-padded past the end
    // of a shorter file.
    let mut buf = [0u8; 256];
    let n = file.len().min(buf.len());
    buf[..n].copy_from_slice(&file[..n]);
    if buf[0] != b'#' || buf[1] != b'!' {
        return None;
    }
    let spacetab = |c: u8| c == b' ' || c == b'\t';
    let next_non_spacetab = |buf: &[u8; 256], first: usize, last: usize| (first..last).find(|&i| !spacetab(buf[i]));
    let next_terminator = |buf: &[u8; 256], first: usize, last: usize| (first..last).find(|&i| spacetab(buf[i]) || buf[i] == 0);

    let buf_end = buf.len() - 1;
    let mut i_end = match buf.iter().position(|&c| c == b'\n') {
        Some(nl) => nl,
        None => {
            // "Entire buf is spaces/tabs"
            let Some(first) = next_non_spacetab(&buf, 2, buf_end) else {
                return Some(Err(Refused::NoInterpreter));
            };
            // "If there is no later space/tab/NUL we must assume the
            // interpreter path is truncated."
            if next_terminator(&buf, first, buf_end).is_none() {
                return Some(Err(Refused::Truncated));
            }
            buf_end
        }
    };
    while spacetab(buf[i_end - 1]) {
        i_end -= 1;
    }
    let Some(i_name) = next_non_spacetab(&buf, 2, i_end) else {
        return Some(Err(Refused::NoInterpreter));
    };
    let i_sep = next_terminator(&buf, i_name, i_end);
    let i_arg = match i_sep {
        Some(sep) if buf[sep] != 0 => next_non_spacetab(&buf, sep, i_end),
        _ => None,
    };
    buf[i_end] = 0;
    if let Some(sep) = i_sep {
        buf[sep] = 0;
    }
    let cstr = |from: usize| {
        let len = buf[from..].iter().position(|&c| c == 0).unwrap_or(buf.len() - from);
        buf[from..from + len].to_vec()
    };
    let name = cstr(i_name);
    if name.is_empty() {
        return Some(Err(Refused::NoInterpreter));
    }
    Some(Ok((name, i_arg.map(cstr))))
}
