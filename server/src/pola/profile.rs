//! Profiles of `preld pola` (docs/profiles.md): a TOML file listing grants,
//! read by `--profile` and written by `--learn`.
//!
//! ```toml
//! version = 1
//! base = true                      # -B
//! ro = ["/home/u/p/src/main.c"]    # --ro
//! exec = ["/home/u/p/tool"]        # --exec
//! rw = ["/home/u/p/out"]           # --rw
//! [[map]]                          # --map AT=PATH:MODE
//! at = "/work/in"
//! path = "/home/u/p/in"
//! mode = "ro"
//! ```
//!
//! Every path is absolute (a profile names host authority exactly, wherever
//! it is used from). Unknown keys, a missing or other version, a relative
//! path, an unknown mode: an error naming the file and the line. Nothing
//! here panics on any input (the unit tests feed it bad profiles).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::ns::Mode;

/// The format's version this preld reads and writes.
pub const VERSION: i64 = 1;

/// The largest profile read (a quarter of a million paths or so).
pub const MAX_SIZE: u64 = 64 << 20;

/// One grant of a profile: host path, virtual path (the same unless
/// mapped), mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub at: PathBuf,
    pub mode: Mode,
}

/// A profile read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    /// `base = true`: -B.
    pub base: bool,
    pub entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    base: bool,
    #[serde(default)]
    ro: Vec<Spanned<String>>,
    #[serde(default)]
    exec: Vec<Spanned<String>>,
    #[serde(default)]
    rw: Vec<Spanned<String>>,
    #[serde(default)]
    map: Vec<Spanned<MapEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapEntry {
    at: Spanned<String>,
    path: Spanned<String>,
    mode: Option<Spanned<String>>,
}

/// The line (from 1) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&c| c == b'\n').count() + 1
}

/// Reads a profile from `text`; `name` (the file) is only for messages,
/// which are one line: `NAME:LINE: what is wrong`.
pub fn parse(name: &str, text: &str) -> Result<Profile, String> {
    let at = |span: std::ops::Range<usize>, what: String| format!("{name}:{}: {what}", line_of(text, span.start));
    let f: File = toml::from_str(text).map_err(|e| {
        // toml's own message, first line only (its Display draws the line).
        let what = e.message().lines().next().unwrap_or("not valid TOML").to_string();
        match e.span() {
            Some(span) => at(span, what),
            None => format!("{name}: {what}"),
        }
    })?;
    match &f.version {
        None => return Err(format!("{name}:1: no `version` key (this preld reads `version = {VERSION}`)")),
        Some(v) if *v.get_ref() != VERSION => {
            return Err(at(v.span(), format!("version {} (this preld reads version {VERSION})", v.get_ref())));
        }
        Some(_) => {}
    }
    let absolute = |s: &Spanned<String>, key: &str| -> Result<PathBuf, String> {
        let p = s.get_ref();
        if !p.starts_with('/') {
            return Err(at(s.span(), format!("{key} \"{p}\": not an absolute path")));
        }
        if p.contains('\0') {
            return Err(at(s.span(), format!("{key}: a path holds a NUL character")));
        }
        Ok(PathBuf::from(p))
    };
    let mut entries = Vec::new();
    for (list, mode, key) in [(&f.ro, Mode::Ro, "ro"), (&f.exec, Mode::Exec, "exec"), (&f.rw, Mode::Rw, "rw")] {
        for s in list {
            let p = absolute(s, key)?;
            entries.push(Entry { at: p.clone(), path: p, mode });
        }
    }
    for m in &f.map {
        let m = m.get_ref();
        let mode = match &m.mode {
            None => Mode::Ro,
            Some(s) => Mode::parse(s.get_ref()).ok_or_else(|| at(s.span(), format!("mode \"{}\": not ro, exec or rw", s.get_ref())))?,
        };
        entries.push(Entry { at: absolute(&m.at, "at")?, path: absolute(&m.path, "path")?, mode });
    }
    Ok(Profile { base: f.base, entries })
}

/// Reads the profile in file `path`.
pub fn read(path: &Path) -> Result<Profile, String> {
    let name = path.display().to_string();
    let failed = |e: std::io::Error| {
        let why = e.to_string();
        format!("{name}: {}", why.split(" (os error").next().unwrap_or(&why))
    };
    // At most MAX_SIZE: a profile named by a link to /dev/zero (or any
    // endless file) is an error, not all the memory there is (session-20b
    // adversary, test `hostile_profiles_are_usage_errors`).
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(std::fs::File::open(path).map_err(failed)?, MAX_SIZE + 1), &mut bytes).map_err(failed)?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(format!("{name}: larger than {} MiB: not a profile", MAX_SIZE >> 20));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!("{name}:{}: not UTF-8 text", line_of(&String::from_utf8_lossy(&e.as_bytes()[..at]), at))
    })?;
    parse(&name, &text)
}

/// A TOML string holding `s`.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The profile's text (what `--learn` writes). Paths that are not UTF-8
/// cannot be written in TOML: they are left out and returned.
pub fn to_text(p: &Profile, comment: &str) -> (String, Vec<PathBuf>) {
    let mut left_out = Vec::new();
    let mut s = String::new();
    for l in comment.lines() {
        s.push_str(&format!("# {l}\n"));
    }
    s.push_str(&format!("version = {VERSION}\n"));
    if p.base {
        s.push_str("base = true\n");
    }
    let text = |e: &Entry, left_out: &mut Vec<PathBuf>| -> Option<(String, String)> {
        match (e.path.to_str(), e.at.to_str()) {
            (Some(h), Some(a)) => Some((h.to_string(), a.to_string())),
            _ => {
                left_out.push(e.at.clone());
                None
            }
        }
    };
    let mut maps = Vec::new();
    for (mode, key) in [(Mode::Ro, "ro"), (Mode::Exec, "exec"), (Mode::Rw, "rw")] {
        let mut list = Vec::new();
        for e in p.entries.iter().filter(|e| e.mode == mode) {
            let Some((h, a)) = text(e, &mut left_out) else { continue };
            if h == a {
                list.push(h);
            } else {
                maps.push((a, h, mode));
            }
        }
        if !list.is_empty() {
            s.push_str(&format!("{key} = [\n"));
            for h in list {
                s.push_str(&format!("    {},\n", quoted(&h)));
            }
            s.push_str("]\n");
        }
    }
    for (a, h, mode) in maps {
        s.push_str(&format!("\n[[map]]\nat = {}\npath = {}\nmode = \"{}\"\n", quoted(&a), quoted(&h), mode.name()));
    }
    (s, left_out)
}

/// Writes `text` to `path` atomically: a temporary file beside it, then a
/// rename over it.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    Target::open(path)?.write(text)
}

/// Where `--learn` writes: the file's directory, opened when the session
/// starts, and the file's name in it. Written by path at the session's end,
/// the profile went where a program with a read-write grant holding that
/// directory had made its path lead meanwhile (a symlink in place of the
/// directory: another profile of the user's replaced; session-20b
/// adversary, test `the_learned_profile_is_written_where_it_was_asked_for`).
pub struct Target {
    dir: std::os::fd::OwnedFd,
    name: std::ffi::CString,
    shown: PathBuf,
}

impl Target {
    pub fn open(path: &Path) -> Result<Target, String> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path.file_name().ok_or_else(|| format!("{}: not a file's name", path.display()))?;
        let name = std::ffi::CString::new(name.as_bytes()).map_err(|_| format!("{}: a NUL in the name", path.display()))?;
        let d = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .map_err(|e| format!("{}: {}", path.display(), e))?;
        Ok(Target { dir: d.into(), name, shown: path.to_path_buf() })
    }

    /// Writes `text` as the file: a temporary file in the directory, then a
    /// rename over the name.
    pub fn write(&self, text: &str) -> Result<(), String> {
        use std::io::Write;
        use std::os::fd::{AsRawFd, FromRawFd};
        let why = |e: std::io::Error| format!("{}: {}", self.shown.display(), e);
        let dir = self.dir.as_raw_fd();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        for i in 0..64 {
            let Ok(tmp) = std::ffi::CString::new(format!(".preld-profile-{}-{nanos:x}-{i}", std::process::id())) else { break };
            // SAFETY: openat on our directory fd with a NUL-terminated name.
            let fd = unsafe { libc::openat(dir, tmp.as_ptr(), libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0o600) };
            if fd < 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EEXIST) {
                    continue;
                }
                return Err(why(e));
            }
            // SAFETY: a new fd, ours alone.
            let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
            let done = f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).and_then(|()| {
                // SAFETY: renameat within our directory fd, NUL-terminated names.
                match unsafe { libc::renameat(dir, tmp.as_ptr(), dir, self.name.as_ptr()) } {
                    0 => Ok(()),
                    _ => Err(std::io::Error::last_os_error()),
                }
            });
            if let Err(e) = done {
                // SAFETY: unlinkat of our own temporary file's name.
                unsafe { libc::unlinkat(dir, tmp.as_ptr(), 0) };
                return Err(why(e));
            }
            return Ok(());
        }
        Err(why(std::io::Error::from_raw_os_error(libc::EEXIST)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse("p.toml", text).expect_err(text)
    }

    #[test]
    fn a_profile_reads() {
        let p = parse(
            "p.toml",
            "# c\nversion = 1\nbase = true\nro = [\"/a\", \"/b c\"]\nexec = [\"/x\"]\nrw = []\n[[map]]\nat = \"/v\"\npath = \"/h\"\nmode = \"rw\"\n[[map]]\nat = \"/w\"\npath = \"/i\"\n",
        )
        .unwrap();
        assert!(p.base);
        let e = |path: &str, at: &str, mode| Entry { path: path.into(), at: at.into(), mode };
        assert_eq!(
            p.entries,
            [e("/a", "/a", Mode::Ro), e("/b c", "/b c", Mode::Ro), e("/x", "/x", Mode::Exec), e("/h", "/v", Mode::Rw), e("/i", "/w", Mode::Ro)]
        );
        assert_eq!(parse("p", "version = 1").unwrap(), Profile::default());
    }

    #[test]
    fn bad_profiles_are_one_line_errors_with_their_line() {
        for (text, want) in [
            ("", "p.toml:1: no `version` key"),
            ("ro = [\"/a\"]\n", "p.toml:1: no `version` key"),
            ("version = 2\n", "p.toml:1: version 2 (this preld reads version 1)"),
            ("version = \"1\"\n", "p.toml:1: invalid type"),
            ("version = 1\n\nrx = [\"/a\"]\n", "p.toml:3: unknown field `rx`"),
            ("version = 1\nro = [\"a/b\"]\n", "p.toml:2: ro \"a/b\": not an absolute path"),
            ("version = 1\nro = [\n  \"/a\",\n  \"./b\",\n]\n", "p.toml:4: ro \"./b\": not an absolute path"),
            ("version = 1\nrw = \"/a\"\n", "p.toml:2: invalid type"),
            ("version = 1\nro = [1]\n", "p.toml:2: invalid type"),
            ("version = 1\nbase = \"yes\"\n", "p.toml:2: invalid type"),
            ("version = 1\n[[map]]\nat = \"/v\"\n", "p.toml:2: missing field `path`"),
            ("version = 1\n[[map]]\nat = \"/v\"\npath = \"/h\"\nmode = \"rwx\"\n", "p.toml:5: mode \"rwx\": not ro, exec or rw"),
            ("version = 1\n[[map]]\nat = \"v\"\npath = \"/h\"\n", "p.toml:3: at \"v\": not an absolute path"),
            ("version = 1\n[[map]]\nat = \"/v\"\npath = \"/h\"\nro = true\n", "p.toml:5: unknown field `ro`"),
            ("version = 1\nversion = 1\n", "p.toml:2: duplicate key"),
            ("version = 1\nro = [\"/a\"\n", "p.toml:3: invalid array"),
            ("version = 1\nro = [\"/a\\u0000\"]\n", "p.toml:2: ro: a path holds a NUL"),
            ("version = 1\n[ro]\n", "p.toml:2: invalid type"),
            ("version = 1\nro = [\"/a\"]\n[[ro]]\n", "p.toml:3:"),
            ("\u{feff}version = 1\nbogus\n", "p.toml:2:"),
            ("version = 99999999999999999999\n", "p.toml:1:"),
        ] {
            let e = err(text);
            assert!(e.starts_with(want), "{text:?}: {e:?} does not start with {want:?}");
            assert!(!e.contains('\n'), "{text:?}: not one line: {e:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 7u64;
        let pieces = ["version = 1\n", "[[map]]\n", "at = \"/v\"\n", "ro = [", "\"/a\"", "]", "\n", "=", "\"", "[", "mode = 3\n", "\u{1}", "'''", "#"];
        for _ in 0..2000 {
            let mut t = String::new();
            for _ in 0..(seed % 9) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                t.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let _ = parse("g", &t);
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let p = Profile {
            base: true,
            entries: vec![
                Entry { path: "/a \"q\"".into(), at: "/a \"q\"".into(), mode: Mode::Ro },
                Entry { path: "/h".into(), at: "/v".into(), mode: Mode::Rw },
                Entry { path: "/x\\y\n".into(), at: "/x\\y\n".into(), mode: Mode::Exec },
            ],
        };
        let (text, left) = to_text(&p, "learned\nby a test");
        assert!(left.is_empty());
        assert!(text.starts_with("# learned\n# by a test\nversion = 1\nbase = true\n"), "{text}");
        let mut back = parse("t", &text).unwrap();
        back.entries.sort_by(|a, b| a.at.cmp(&b.at));
        let mut want = p.clone();
        want.entries.sort_by(|a, b| a.at.cmp(&b.at));
        assert_eq!(back, want);
        use std::os::unix::ffi::OsStrExt;
        let bad = Profile { base: false, entries: vec![Entry { path: std::ffi::OsStr::from_bytes(b"/\xff").into(), at: std::ffi::OsStr::from_bytes(b"/\xff").into(), mode: Mode::Ro }] };
        let (text, left) = to_text(&bad, "");
        assert_eq!(left.len(), 1);
        assert_eq!(parse("t", &text).unwrap(), Profile::default());
    }

    #[test]
    fn written_atomically() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("p.toml");
        write_atomic(&f, "version = 1\n").unwrap();
        write_atomic(&f, "version = 1\nbase = true\n").unwrap();
        assert!(read(&f).unwrap().base);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "no temporary file left");
        assert!(write_atomic(&d.path().join("no/such/dir/p.toml"), "").is_err());
        std::fs::write(&f, b"version = 1\nro = [\"/\xff\"]\n").unwrap();
        assert!(read(&f).unwrap_err().ends_with(":2: not UTF-8 text"), "{}", read(&f).unwrap_err());
        assert!(read(&d.path().join("none")).unwrap_err().contains("No such file"));
    }
}
