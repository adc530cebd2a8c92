//! Word expansion, made when a command runs (so that `false; echo $?` sees
//! the status of `false`): variables, `~`, then globs.
//!
//! Unlike sh, a variable's value is never split into several words nor
//! taken as a glob pattern: `$F` is one argument whatever F holds, so a
//! file name in a variable cannot turn into grants of other files. An
//! unquoted variable that is empty and alone in its word removes the word,
//! as in sh. A glob that matches nothing stays as typed (sh's default).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};

use super::syntax::{Part, Var, Word};

/// A shell variable: its value, and whether commands get it in their
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub bytes: Vec<u8>,
    pub exported: bool,
}

/// What expansion reads.
pub struct Env<'a> {
    pub status: i32,
    pub vars: &'a BTreeMap<String, Value>,
}

impl Env<'_> {
    fn var(&self, v: &Var) -> Vec<u8> {
        match v {
            Var::Status => self.status.to_string().into_bytes(),
            Var::Pid => std::process::id().to_string().into_bytes(),
            Var::Named(n) => self.vars.get(n).map(|v| v.bytes.clone()).unwrap_or_default(),
        }
    }

    /// `~` (HOME, else the user's entry) or `~USER`'s home directory.
    fn home(&self, user: &[u8]) -> Option<Vec<u8>> {
        if user.is_empty() {
            if let Some(h) = self.vars.get("HOME").filter(|h| !h.bytes.is_empty()) {
                return Some(h.bytes.clone());
            }
        }
        passwd_home(user)
    }
}

/// The home directory in the user database of `user` (empty: the real uid).
fn passwd_home(user: &[u8]) -> Option<Vec<u8>> {
    let name = CString::new(user).ok()?;
    let mut buf = vec![0 as libc::c_char; 16384];
    // SAFETY: all-zero is a valid passwd; getpw*_r fill it and point its
    // strings into `buf`, which outlives their use here.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: as above; every pointer is to a live local of the stated size.
    let r = unsafe {
        if user.is_empty() {
            libc::getpwuid_r(libc::getuid(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut found)
        } else {
            libc::getpwnam_r(name.as_ptr(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut found)
        }
    };
    if r != 0 || found.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a NUL-terminated string in `buf`.
    Some(unsafe { CStr::from_ptr(pw.pw_dir) }.to_bytes().to_vec())
}

/// Backslash before each glob metacharacter: text that must match itself.
fn escape_glob(out: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        if matches!(c, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(c);
    }
}

/// The names `pattern` matches, sorted; none when it matches nothing.
fn glob(pattern: &[u8]) -> Vec<Vec<u8>> {
    let Ok(c) = CString::new(pattern) else { return Vec::new() };
    // SAFETY: all-zero is glob_t's initial state.
    let mut g: libc::glob_t = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated pattern and our glob_t; globfree releases
    // what glob allocated, after the names are copied out.
    unsafe {
        let mut out = Vec::new();
        if libc::glob(c.as_ptr(), 0, None, &mut g) == 0 {
            for i in 0..g.gl_pathc {
                out.push(CStr::from_ptr(*g.gl_pathv.add(i)).to_bytes().to_vec());
            }
        }
        libc::globfree(&mut g);
        out
    }
}

/// The arguments a word stands for: one, none (an empty unquoted
/// variable), or a glob's matches.
pub fn words(w: &Word, env: &Env) -> Vec<Vec<u8>> {
    words_matched(w, env).0
}

/// `words`, and when they are a glob's matches (names the user never saw:
/// grants.rs does not follow a symlink among them out of its directory)
/// how many of their leading components the pattern spelt out (no glob
/// character).
pub fn words_matched(w: &Word, env: &Env) -> (Vec<Vec<u8>>, Option<usize>) {
    let mut value = Vec::new();
    let mut pattern = Vec::new();
    let mut globbing = false;
    // Only unquoted variables: an empty result is no word at all.
    let mut only_vars = true;
    for p in &w.parts {
        match p {
            Part::Text { bytes, quoted } => {
                only_vars = false;
                value.extend_from_slice(bytes);
                if *quoted {
                    escape_glob(&mut pattern, bytes);
                } else {
                    globbing |= bytes.iter().any(|c| matches!(c, b'*' | b'?' | b'['));
                    pattern.extend_from_slice(bytes);
                }
            }
            Part::Var { var, quoted } => {
                only_vars &= !quoted;
                let v = env.var(var);
                escape_glob(&mut pattern, &v);
                value.extend_from_slice(&v);
            }
            Part::Tilde(user) => {
                only_vars = false;
                let home = env.home(user).unwrap_or_else(|| [&b"~"[..], user].concat());
                escape_glob(&mut pattern, &home);
                value.extend_from_slice(&home);
            }
        }
    }
    if only_vars && value.is_empty() {
        return (Vec::new(), None);
    }
    if globbing {
        let found = glob(&pattern);
        if !found.is_empty() {
            return (found, Some(literal_components(&pattern)));
        }
    }
    (vec![value], None)
}

/// How many leading non-empty components of glob pattern `p` hold no
/// unescaped glob character.
fn literal_components(p: &[u8]) -> usize {
    let mut n = 0;
    for c in p.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        let mut escaped = false;
        for &b in c {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if matches!(b, b'*' | b'?' | b'[') {
                return n;
            }
        }
        n += 1;
    }
    n
}

/// A word that must stand for exactly one (a redirection's file).
pub fn one(w: &Word, env: &Env) -> Result<Vec<u8>, String> {
    let mut v = words(w, env);
    match v.len() {
        1 => Ok(v.remove(0)),
        0 => Err("empty file name".into()),
        n => Err(format!("the pattern matches {n} files, one is needed")),
    }
}

/// An assignment's value: expanded, never globbed or removed.
pub fn value(w: &Word, env: &Env) -> Vec<u8> {
    let mut v = Vec::new();
    for p in &w.parts {
        match p {
            Part::Text { bytes, .. } => v.extend_from_slice(bytes),
            Part::Var { var, .. } => v.extend(env.var(var)),
            Part::Tilde(user) => v.extend(env.home(user).unwrap_or_else(|| [&b"~"[..], user].concat())),
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::syntax::parse;

    fn expand(src: &str, vars: &BTreeMap<String, Value>) -> Vec<String> {
        let l = parse(src.as_bytes()).unwrap();
        let env = Env { status: 3, vars };
        l[0].and_or.first.cmds[0]
            .args
            .iter()
            .flat_map(|a| words(&a.word, &env))
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn variables_tilde_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.c", "b.c", "c.h", ".hidden.c", "x*y"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let d = dir.path().to_str().unwrap();
        let mut vars = BTreeMap::new();
        let val = |s: &str| Value { bytes: s.as_bytes().to_vec(), exported: true };
        vars.insert("HOME".to_owned(), val("/home/me"));
        vars.insert("F".to_owned(), val(&format!("{d}/*.c")));
        vars.insert("E".to_owned(), val(""));
        assert_eq!(expand("echo $? ~ ~/x \"~\" $E \"$E\" a$E", &vars), ["echo", "3", "/home/me", "/home/me/x", "~", "", "a"]);
        assert_eq!(expand(&format!("ls {d}/*.c"), &vars), ["ls".to_owned(), format!("{d}/a.c"), format!("{d}/b.c")]);
        assert_eq!(expand(&format!("ls '{d}'/?.h {d}/\\*.c {d}/*.none"), &vars), [
            "ls".to_owned(),
            format!("{d}/c.h"),
            format!("{d}/*.c"),
            format!("{d}/*.none")
        ]);
        assert_eq!(expand("ls $F", &vars), ["ls".to_owned(), format!("{d}/*.c")], "a variable is never a pattern");
        assert_eq!(expand(&format!("ls {d}/x\\*y {d}/x*y"), &vars), ["ls".to_owned(), format!("{d}/x*y"), format!("{d}/x*y")]);
        assert_eq!(expand("echo ~root/a ~no-such-user-here", &vars), ["echo", "/root/a", "~no-such-user-here"]);
    }
}
