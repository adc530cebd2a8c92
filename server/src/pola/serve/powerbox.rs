//! The powerbox (`preld pola --ask`): when a request names a path outside
//! every grant that exists on the host, the server asks the user (an
//! `Asker`: the launcher's asks on its own terminal, pola/ask.rs) and, if
//! allowed, adds a grant of exactly that path to the live namespace
//! (`Namespace::add`: a detached mount copy, as the grants of the start),
//! then resolves the request again. "Once" grants are retired when the
//! request has been answered; "for the session" grants stay. Denied paths
//! may be remembered for the session, and asking may be turned off for good
//! ("deny all further"). A denied request gets what it would have got
//! without --ask (ENOENT: a path outside the namespace does not exist), so
//! a denial tells the program nothing it could not learn otherwise.
//!
//! What is asked about: the virtual path where the resolution left the
//! namespace, taken as the same path on the host, when it exists there (or,
//! for an open that creates, when its directory does). The host object is
//! pinned (its device and inode) before the question and the copy made
//! after the answer must be of the same object: a name swapped on the host
//! meanwhile is refused. Requests that need a directory's authority (mkdir,
//! unlink, rename, link, symlink, bind) never ask: a grant of one file
//! cannot serve them.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::pola::ns::{GrantSpec, Mode};

/// What the request wants of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Read it, list it, look at it.
    Read,
    /// Write to it (it exists).
    Write,
    /// Create it (its directory exists, the name does not).
    Create,
    /// Run it.
    Run,
}

impl Want {
    pub fn verb(self) -> &'static str {
        match self {
            Want::Read => "read",
            Want::Write => "write to",
            Want::Create => "create",
            Want::Run => "run",
        }
    }
}

/// One question for the user.
#[derive(Clone, Debug)]
pub struct Question {
    /// The session's command (argv[0] as the user gave it).
    pub prog: Vec<u8>,
    /// The program that asks, as the session exec'd it (virtual path;
    /// the program's own choice, so shown as what it runs, after `prog`).
    pub running: Option<Vec<u8>>,
    /// The path the program named (virtual, absolute, normalized).
    pub vpath: Vec<u8>,
    /// The same path on the host, symlinks resolved (for Create: its
    /// directory's, joined with the new name).
    pub host: PathBuf,
    pub want: Want,
    pub is_dir: bool,
    /// What the path names when it is no file and no directory: "socket"
    /// (a write to it is a connection to whatever listens there: a session
    /// bus, an agent), "device", "FIFO"; shown before the path, as "the
    /// directory" is.
    pub special: Option<&'static str>,
}

/// The user's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A grant: read-write (`write`) or read-only (read and run for Run);
    /// for this request only, or for the session.
    Allow { write: bool, session: bool },
    /// No grant: this time only, or this path for the session.
    Deny { session: bool },
    /// Deny this and every further request without asking.
    DenyAll,
}

/// Asks the user; the launcher's asks on its terminal (pola/ask.rs), the
/// tests' answer from a script.
pub trait Asker {
    fn ask(&mut self, q: &Question) -> Answer;
}

/// The powerbox's state for a session.
pub struct Powerbox {
    asker: Box<dyn Asker>,
    /// The session's command, shown in every question.
    prog: Vec<u8>,
    /// Paths denied for the session.
    denied: HashSet<Vec<u8>>,
    /// "Deny all further": no more questions.
    off: bool,
    /// How many questions were asked (for the tests).
    pub asked: u64,
}

impl Powerbox {
    pub fn new(prog: &[u8], asker: Box<dyn Asker>) -> Powerbox {
        Powerbox { asker, prog: prog.to_vec(), denied: HashSet::new(), off: false, asked: 0 }
    }

    /// Asks no more (the background server after the launcher's exit: the
    /// terminal is the user's shell's again).
    pub fn turn_off(&mut self) {
        self.off = true;
    }

    /// The grant to make for `vpath` (None: deny), and whether it is for
    /// this request only. Remembers session denials and "deny all".
    pub fn decide(&mut self, vpath: &[u8], host: &Path, want: Want, is_dir: bool, special: Option<&'static str>, running: Option<&[u8]>) -> Option<(GrantSpec, bool)> {
        if self.off || self.denied.contains(vpath) {
            return None;
        }
        self.asked += 1;
        let running = running.map(<[u8]>::to_vec);
        let q = Question { prog: self.prog.clone(), running, vpath: vpath.to_vec(), host: host.to_path_buf(), want, is_dir, special };
        match self.asker.ask(&q) {
            Answer::DenyAll => {
                self.off = true;
                None
            }
            Answer::Deny { session } => {
                if session {
                    self.denied.insert(vpath.to_vec());
                }
                None
            }
            // Creating needs writing; a read-only grant of a name that does
            // not exist cannot be made.
            Answer::Allow { write: false, .. } if want == Want::Create => None,
            Answer::Allow { write, session } => {
                let mode = match (write, want) {
                    (true, _) => Mode::Rw,
                    (false, Want::Run) => Mode::Exec,
                    (false, _) => Mode::Ro,
                };
                Some((GrantSpec { vpath: vpath.to_vec(), host: host.to_path_buf(), mode, link: false }, !session))
            }
        }
    }
}

/// `b` as the user may safely see it: printable ASCII as it is, `"` and
/// `\` escaped, every other byte (control characters, escape sequences,
/// newlines, DEL, and any byte of a non-ASCII character: bidirectional
/// overrides and look-alikes included) as `\xNN`. A hostile program chooses
/// the path; on the terminal it can neither end the line, move the cursor,
/// recolour the text nor pass for another path.
pub fn shown(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// The question as one line (no newline): what is wanted of which path,
/// and the answers.
pub fn prompt(q: &Question) -> String {
    let mut what = format!("\"{}\"", shown(&q.vpath));
    if q.is_dir {
        what = format!("the directory {what} (and everything in it)");
    } else if let Some(kind) = q.special {
        // A socket's "write to" is a connection (session-20b adversary:
        // "write to /run/user/1000/bus" read as a file's).
        what = format!("the {kind} {what}");
    }
    if q.host.as_os_str().as_bytes() != q.vpath.as_slice() {
        what.push_str(&format!(" (on the host: \"{}\")", shown(q.host.as_os_str().as_bytes())));
    }
    let read = match q.want {
        Want::Create => "",
        Want::Run => "r read and run, ",
        _ => "r read-only, ",
    };
    let mut who = shown(&q.prog);
    if let Some(r) = q.running.as_deref().filter(|r| *r != q.prog.as_slice()) {
        who.push_str(&format!(" (running \"{}\")", shown(r)));
    }
    format!(
        "preld pola: {who} wants to {} {what}. {read}w read-write, d deny: this time; capitals {}W D: for the session; N: deny all from now on [d]",
        q.want.verb(),
        if q.want == Want::Create { "" } else { "R " },
    )
}

/// The answer a line typed by the user gives: exactly one of r w d R W D
/// N (spaces around it ignored; empty: d). None: anything else (asked
/// again), also a letter the question does not offer.
pub fn parse_answer(line: &[u8], want: Want) -> Option<Answer> {
    let t = line.trim_ascii();
    let a = match t {
        b"" | b"d" => Answer::Deny { session: false },
        b"D" => Answer::Deny { session: true },
        b"N" => Answer::DenyAll,
        b"r" | b"R" if want == Want::Create => return None,
        b"r" => Answer::Allow { write: false, session: false },
        b"R" => Answer::Allow { write: false, session: true },
        b"w" => Answer::Allow { write: true, session: false },
        b"W" => Answer::Allow { write: true, session: true },
        _ => return None,
    };
    Some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_escaped() {
        assert_eq!(shown(b"/home/u/notes.txt"), "/home/u/notes.txt");
        assert_eq!(shown(b"/a b/c"), "/a b/c");
        assert_eq!(shown(b"/x\n/y\x1b[2J\r"), "/x\\x0a/y\\x1b[2J\\x0d");
        assert_eq!(shown(b"/q\"uote\\"), "/q\\\"uote\\\\");
        assert_eq!(shown("/\u{202e}txt.exe".as_bytes()), "/\\xe2\\x80\\xaetxt.exe");
        assert_eq!(shown(b"\x7f\x00\xff"), "\\x7f\\x00\\xff");
        assert!(shown(&(0u8..=255).collect::<Vec<_>>()).bytes().all(|c| (0x20..0x7f).contains(&c)));
    }

    #[test]
    fn the_prompt_is_one_line() {
        let q = Question { prog: b"cat".to_vec(), running: None, vpath: b"/home/u/x\nfake".to_vec(), host: "/home/u/x\nfake".into(), want: Want::Read, is_dir: false, special: None };
        let p = prompt(&q);
        assert!(!p.contains('\n') && !p.contains('\x1b'), "{p}");
        assert!(p.starts_with("preld pola: cat wants to read \"/home/u/x\\x0afake\". r read-only, w read-write"), "{p}");
        let q = Question { vpath: b"/v".to_vec(), host: "/h".into(), want: Want::Create, is_dir: false, ..q };
        let p = prompt(&q);
        assert!(p.contains("wants to create \"/v\" (on the host: \"/h\"). w read-write"), "{p}");
        assert!(!p.contains("r read") && !p.contains("R W"), "{p}");
        let q = Question { prog: b"sh".to_vec(), running: Some(b"/bin/x\x1b".to_vec()), ..q };
        assert!(prompt(&q).starts_with("preld pola: sh (running \"/bin/x\\x1b\") wants to create"), "{}", prompt(&q));
    }

    #[test]
    fn answers() {
        let w = Want::Read;
        assert_eq!(parse_answer(b"r\n", w), Some(Answer::Allow { write: false, session: false }));
        assert_eq!(parse_answer(b" W ", w), Some(Answer::Allow { write: true, session: true }));
        assert_eq!(parse_answer(b"\n", w), Some(Answer::Deny { session: false }));
        assert_eq!(parse_answer(b"D", w), Some(Answer::Deny { session: true }));
        assert_eq!(parse_answer(b"N", w), Some(Answer::DenyAll));
        for bad in [&b"rw"[..], b"yes", b"\x1b]lr", b"n", b"x"] {
            assert_eq!(parse_answer(bad, w), None, "{bad:?}");
        }
        assert_eq!(parse_answer(b"r", Want::Create), None);
        assert_eq!(parse_answer(b"w", Want::Create), Some(Answer::Allow { write: true, session: false }));
    }

    struct Say(Vec<Answer>);
    impl Asker for Say {
        fn ask(&mut self, _: &Question) -> Answer {
            self.0.remove(0)
        }
    }

    #[test]
    fn denials_are_remembered() {
        let answers = vec![
            Answer::Deny { session: true },
            Answer::Allow { write: false, session: false },
            Answer::Allow { write: false, session: true },
            Answer::DenyAll,
        ];
        let mut pb = Powerbox::new(b"p", Box::new(Say(answers)));
        let h = Path::new("/h");
        assert!(pb.decide(b"/a", h, Want::Read, false, None, None).is_none());
        assert!(pb.decide(b"/a", h, Want::Read, false, None, None).is_none(), "not asked again");
        let (g, once) = pb.decide(b"/b", h, Want::Run, false, None, None).unwrap();
        assert_eq!((g.mode, once), (Mode::Exec, true));
        let (g, once) = pb.decide(b"/c", h, Want::Write, false, None, None).unwrap();
        assert_eq!((g.mode, once), (Mode::Ro, false), "read-only although it wants to write: the write fails");
        assert!(pb.decide(b"/d", h, Want::Read, false, None, None).is_none());
        assert!(pb.decide(b"/e", h, Want::Read, false, None, None).is_none(), "N: not asked again");
        assert_eq!(pb.asked, 4);
    }
}
