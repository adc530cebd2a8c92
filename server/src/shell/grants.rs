//! The grants rule: what a command line gives the session that runs it.
//!
//! Plash's rule: the user's words are the authority. Every argument after
//! the program that names an existing file or directory (relative to the
//! shell's directory) is granted read-only, recursively for a directory;
//! `=> FILE` grants FILE read-write (an empty file is made if missing) and
//! `+ DIR` grants the existing directory DIR read-write; both are passed to
//! the program as typed. Each grant is made at its own absolute name, and the
//! session starts in the shell's directory (`--cwd`), so the argument
//! itself stays as typed and a relative name finds it. Nothing else is
//! granted but `-B`'s base and what the program needs to start (pola's),
//! and redirections, which the shell opens with the user's authority.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::syntax::GrantKind;
use crate::pola::ns;

/// An argument after expansion, with how it is granted.
pub struct Word {
    pub bytes: Vec<u8>,
    pub grant: GrantKind,
    /// A glob's match: how many of its leading components the pattern
    /// spelt out (`leads_out`).
    pub matched: Option<usize>,
}

/// Whether `word`, a name a glob matched (relative to `cwd`, its first
/// `literal` components typed as such), goes through a symlink the
/// pattern matched that leads out of the directory it lies in. Such a
/// match is not granted: the user typed a pattern and never saw the name,
/// which a previous command could have made in a directory granted to it
/// (`+ out`, then `tar cf => t.tar out/*` would have granted what
/// `out/x -> ~/.ssh` leads to, where tar natively archives the link:
/// session-20b adversary, test
/// `a_symlink_a_glob_matches_does_not_grant_its_target`). A link to a
/// sibling (lib.so -> lib.so.1) is granted as before.
fn leads_out(cwd: &Path, word: &[u8], literal: usize) -> bool {
    let mut at = if word.first() == Some(&b'/') { PathBuf::from("/") } else { cwd.to_path_buf() };
    for (i, c) in word.split(|&b| b == b'/').filter(|c| !c.is_empty()).enumerate() {
        let dir = at.clone();
        at.push(OsStr::from_bytes(c));
        if i < literal || !std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            continue;
        }
        match (std::fs::canonicalize(&dir), std::fs::canonicalize(&at)) {
            (Ok(d), Ok(t)) if t.starts_with(&d) => {}
            _ => return true,
        }
    }
    false
}

/// How the sessions are started (`preld shell`'s own options).
pub struct Options {
    /// This preld (sessions are `preld pola` processes).
    pub preld: PathBuf,
    /// `--net` for every session.
    pub net: bool,
}

/// Why a command cannot run: its status (126, 127, 1) and one line.
pub struct CannotRun {
    pub status: i32,
    pub why: String,
}

fn cannot(status: i32, why: String) -> CannotRun {
    CannotRun { status, why }
}

/// `path`, absolute and lexically normalized, from the shell's directory.
fn absolute(cwd: &Path, path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') {
        ns::normalize(path)
    } else {
        ns::normalize(&ns::join(cwd.as_os_str().as_bytes(), path))
    }
}

/// Checks the program as sh would before running it: 127 when it is not
/// found, 126 when it cannot be executed. A name without a slash is looked
/// up in PATH the way pola itself does.
pub fn check_program(name: &[u8]) -> Result<(), CannotRun> {
    let shown = String::from_utf8_lossy(name).into_owned();
    if name.is_empty() {
        return Err(cannot(127, ": command not found".into()));
    }
    if !name.contains(&b'/') {
        return crate::pola::find_program(OsStr::from_bytes(name))
            .map(drop)
            .map_err(|_| cannot(127, format!("{shown}: command not found")));
    }
    let md = std::fs::metadata(OsStr::from_bytes(name)).map_err(|e| cannot(127, format!("{shown}: {}", crate::reason(&e))))?;
    if md.is_dir() {
        return Err(cannot(126, format!("{shown}: Is a directory")));
    }
    if md.permissions().mode() & 0o111 == 0 {
        return Err(cannot(126, format!("{shown}: Permission denied")));
    }
    Ok(())
}

/// Makes the FILE of `=> FILE` when it is missing (as Plash does: the
/// program is to write it). A dangling symlink is left alone (pola then
/// refuses the grant): the shell creates nothing through a link.
fn make_file(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(());
    }
    // O_EXCL|O_NOFOLLOW: a symlink a background command puts there after
    // the look above is not created through (session-20b adversary).
    match std::fs::OpenOptions::new().write(true).create_new(true).custom_flags(libc::O_NOFOLLOW).mode(0o666).open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        r => r.map(drop),
    }
}

/// The `preld pola` command line that runs `words` (the program first) as
/// a session started in `cwd`, with the fds above 2 in `fds` crossing.
pub fn session_argv(opts: &Options, words: &[Word], cwd: &Path, fds: &[i32]) -> Result<Vec<OsString>, CannotRun> {
    let mut argv: Vec<OsString> = vec![opts.preld.clone().into(), "pola".into(), "-B".into()];
    if opts.net {
        argv.push("--net".into());
    }
    for (i, w) in words.iter().enumerate() {
        if w.bytes.is_empty() {
            continue;
        }
        let path = cwd.join(OsStr::from_bytes(&w.bytes));
        let abs = OsStr::from_bytes(&absolute(cwd, &w.bytes)).to_owned();
        if i > 0 && w.matched.is_some_and(|literal| leads_out(cwd, &w.bytes, literal)) {
            eprintln!("preld shell: {}: a symlink a pattern matched, leading out of its directory: not granted (name it to grant it)", String::from_utf8_lossy(&w.bytes));
            continue;
        }
        let opt = match w.grant {
            // The program itself is pola's to grant (executable, with what
            // it needs to start).
            GrantKind::Auto if i == 0 => continue,
            // A name that exists (a dangling symlink does not).
            GrantKind::Auto if std::fs::metadata(&path).is_ok() => "--ro=",
            GrantKind::Auto => continue,
            GrantKind::RwFile => {
                make_file(&path).map_err(|e| cannot(1, format!("{}: {}", String::from_utf8_lossy(&w.bytes), crate::reason(&e))))?;
                "--rw="
            }
            // Not made when missing: a lone `+` is also arithmetic
            // (`expr 1 + 2`), which must not make a directory `2`.
            GrantKind::RwDir if std::fs::metadata(&path).is_ok() => "--rw=",
            GrantKind::RwDir => {
                let shown = String::from_utf8_lossy(&w.bytes);
                return Err(cannot(
                    1,
                    format!("{shown}: No such directory (`+ DIR` grants an existing directory read-write; quote a plus sign to pass it: '+')"),
                ));
            }
        };
        let mut a = OsString::from(opt);
        a.push(&abs);
        if !argv.contains(&a) {
            argv.push(a);
        }
    }
    for fd in fds {
        argv.push(format!("--fd={fd}").into());
    }
    argv.push("--cwd".into());
    argv.push(cwd.as_os_str().to_owned());
    argv.push("--".into());
    argv.extend(words.iter().map(|w| OsStr::from_bytes(&w.bytes).to_owned()));
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str, grant: GrantKind) -> Word {
        Word { bytes: s.as_bytes().to_vec(), grant, matched: None }
    }

    #[test]
    fn the_rule() {
        let dir = tempfile::tempdir().unwrap();
        let d = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(d.join("a"), "a").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("dangling")).unwrap();
        let opts = Options { preld: "/p/preld".into(), net: false };
        let words = [
            w("cat", GrantKind::Auto),
            w("a", GrantKind::Auto),
            w("-n", GrantKind::Auto),
            w("missing", GrantKind::Auto),
            w("dangling", GrantKind::Auto),
            w("sub/../a", GrantKind::Auto),
            w("out", GrantKind::RwFile),
            w("sub", GrantKind::RwDir),
            w("/", GrantKind::Auto),
            w("", GrantKind::Auto),
        ];
        let argv = session_argv(&opts, &words, &d, &[3]).unwrap_or_else(|e| panic!("{}", e.why));
        let argv: Vec<String> = argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let ds = d.to_string_lossy();
        let mut want: Vec<String> = vec!["/p/preld".into(), "pola".into(), "-B".into()];
        want.extend([
            format!("--ro={ds}/a"),
            format!("--rw={ds}/out"),
            format!("--rw={ds}/sub"),
            "--ro=/".into(),
            "--fd=3".into(),
            "--cwd".into(),
            ds.to_string(),
            "--".into(),
        ]);
        want.extend(["cat", "a", "-n", "missing", "dangling", "sub/../a", "out", "sub", "/", ""].map(String::from));
        assert_eq!(argv, want);
        assert!(d.join("out").is_file(), "=> makes a missing file");
        let e = session_argv(&opts, &[w("expr", GrantKind::Auto), w("1", GrantKind::Auto), w("2", GrantKind::RwDir)], &d, &[]);
        assert!(e.is_err_and(|e| e.status == 1 && e.why.contains("quote a plus sign")));
        assert!(!d.join("2").exists(), "+ makes no directory");
        let e = session_argv(&opts, &[w("cat", GrantKind::Auto), w("dangling", GrantKind::RwFile)], &d, &[]);
        assert!(e.is_ok() && !d.join("nowhere").exists(), "nothing is made through a symlink");
        let opts = Options { net: true, ..opts };
        let argv = session_argv(&opts, &[w("true", GrantKind::Auto)], &d, &[]).unwrap_or_else(|e| panic!("{}", e.why));
        assert_eq!(argv[3], "--net");
        assert!(session_argv(&opts, &[w("cat", GrantKind::Auto), w("no/such/dir/f", GrantKind::RwFile)], &d, &[]).is_err());
    }

    #[test]
    fn programs_as_sh_finds_them() {
        let code = |n: &str| check_program(n.as_bytes()).err().map(|e| e.status);
        assert_eq!(code("true"), None);
        assert_eq!(code("/bin/true"), None);
        assert_eq!(code("no-such-program-here"), Some(127));
        assert_eq!(code("/no/such/program"), Some(127));
        assert_eq!(code("/etc"), Some(126));
        assert_eq!(code("/etc/passwd"), Some(126));
        assert_eq!(code(""), Some(127));
    }
}
