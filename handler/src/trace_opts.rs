//! ld-preld's options for strace's -z/-Z, -x/-xx, -y/-yy, -P, -qq and
//! preld's --vdso (what `preld trace` passes for them), parsed into
//! [`Options`]; config.rs hands them here and keeps them in its `Trace`.
//! They cross exec like the other `--trace-*` options (config's replay).
//!
//! ```text
//! --trace-status ok|failed   -z: only calls that succeeded; -Z: only failed ones
//! --trace-hex 1|2            -x: non-ASCII strings in \x hex; -xx: all strings
//! --trace-fd-paths 1|2       -y: paths of fds; -yy: sockets' details too
//! --trace-path PATH          -P: only calls that touch PATH (repeatable)
//! --trace-quiet N            -qq (2): no `+++ exited with N +++` lines
//! --trace-vdso               calls made through preld's vDSO are traced too
//! ```

use alloc::vec::Vec;

/// Why an option is wrong (config's `OptError`).
type OptError = &'static str;

#[derive(Default, Clone)]
pub struct Options {
    /// -z (1): only calls that returned without an error; -Z (2): only
    /// those that failed; 0: all.
    pub status: u8,
    /// -x (1), -xx (2).
    pub hex: u8,
    /// -y (1), -yy (2).
    pub fd_paths: u8,
    /// -P: the paths (as given, and resolved by the launcher).
    pub paths: Vec<Vec<u8>>,
    /// -q's count (2: no exit lines).
    pub quiet: u8,
    pub vdso: bool,
    /// --json: every line starts with `\x1e PID TID SEQ NS\t` (a record
    /// separator, then pid, tid, the line's number in its process, the time
    /// in ns since the epoch), unpadded; the launcher turns them into JSON.
    pub json: bool,
}

pub fn is_option(a: &[u8]) -> bool {
    takes_value(a) || a == b"--trace-vdso" || a == b"--trace-json"
}

pub fn takes_value(a: &[u8]) -> bool {
    matches!(
        a,
        b"--trace-status" | b"--trace-hex" | b"--trace-fd-paths" | b"--trace-path" | b"--trace-quiet"
    )
}

fn level(v: &[u8], what: OptError) -> Result<u8, OptError> {
    match v {
        b"0" => Ok(0),
        b"1" => Ok(1),
        b"2" => Ok(2),
        b"3" => Ok(3),
        _ => Err(what),
    }
}

/// Takes option `a` (value `v`) into `o`.
pub fn parse(o: &mut Options, a: &[u8], v: Option<&[u8]>) -> Result<(), OptError> {
    match (a, v) {
        (b"--trace-status", Some(b"ok")) => o.status = 1,
        (b"--trace-status", Some(b"failed")) => o.status = 2,
        (b"--trace-status", _) => return Err("--trace-status needs ok or failed"),
        (b"--trace-hex", Some(v)) => o.hex = level(v, "--trace-hex needs 0 to 2")?.min(2),
        (b"--trace-fd-paths", Some(v)) => o.fd_paths = level(v, "--trace-fd-paths needs 0 to 2")?.min(2),
        (b"--trace-path", Some(v)) if !v.is_empty() => o.paths.push(v.to_vec()),
        (b"--trace-path", _) => return Err("--trace-path needs a path"),
        (b"--trace-quiet", Some(v)) => o.quiet = level(v, "--trace-quiet needs 0 to 3")?,
        (b"--trace-vdso", None) => o.vdso = true,
        (b"--trace-json", None) => o.json = true,
        _ => return Err("unknown option"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let mut o = Options::default();
        parse(&mut o, b"--trace-status", Some(b"failed")).unwrap();
        parse(&mut o, b"--trace-hex", Some(b"2")).unwrap();
        parse(&mut o, b"--trace-path", Some(b"/etc/passwd")).unwrap();
        parse(&mut o, b"--trace-path", Some(b"x")).unwrap();
        parse(&mut o, b"--trace-vdso", None).unwrap();
        assert_eq!((o.status, o.hex, o.paths.len(), o.vdso), (2, 2, 2, true));
        assert!(parse(&mut o, b"--trace-status", Some(b"maybe")).is_err());
        assert!(parse(&mut o, b"--trace-hex", Some(b"x")).is_err());
    }
}
