//! `preld pola --learn`: what a session used. The server notes, for each
//! request that succeeded, the host objects it reached in grants that are
//! not automatic (neither -B's base nor the program's own start-up files),
//! with the least mode the request needed: read-only to read, list or look
//! at an object; exec to run it; read-write to write to it, and read-write
//! of its directory to create, remove or rename a name there. The launcher
//! writes the result as a profile (profile.rs) when the session ends.
//!
//! Learning needs every path to reach the server: a session that learns
//! must not resolve paths inside the program's process
//! (`PolaArgs::learning`).

use std::collections::{BTreeMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::pola::ns::{self, Mode};

/// What a request does with the objects it names (set per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Nothing to note (no path, or a virtual directory's listing).
    None,
    /// An existing object: with this mode; `look`: only looked at (stat,
    /// access, readlink, chdir, an O_PATH open). A missing one is created
    /// (`create`: note its directory read-write). `probe`: access(), which
    /// of a directory only looks at it (`test -x DIR` learned the whole
    /// directory: session-20b adversary, test
    /// `checking_a_directory_s_access_learns_no_more_than_a_look`).
    Object { mode: Mode, look: bool, create: bool, probe: bool },
    /// The directory of the object named, existing or not: read-write
    /// (mkdir, unlink, rename, symlink, bind).
    Directory,
    /// link(): the first path read-only, the new name's directory
    /// read-write.
    Link,
}

/// One learned grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    pub host: PathBuf,
    pub mode: Mode,
    /// Only looked at (a directory that something learned lies below is
    /// left out: it is a virtual directory then).
    pub look: bool,
}

/// The grants a session used, by virtual path.
pub struct Learner {
    /// Virtual paths of the grants not to learn (the automatic ones).
    skip: HashSet<Vec<u8>>,
    /// Whether -B was on (written as `base = true`).
    pub base: bool,
    used: BTreeMap<Vec<u8>, Learned>,
    /// Noted during the current request, kept if it succeeds.
    pending: Vec<(Vec<u8>, Learned)>,
}

impl Learner {
    pub fn new(skip: HashSet<Vec<u8>>, base: bool) -> Learner {
        Learner { skip, base, used: BTreeMap::new(), pending: Vec::new() }
    }

    /// Whether objects of the grant at `grant_vpath` are learned.
    pub fn learns(&self, grant_vpath: &[u8]) -> bool {
        !self.skip.contains(grant_vpath)
    }

    /// Notes `vpath` (virtual) → `host` with `mode` for the current request.
    pub fn note(&mut self, vpath: Vec<u8>, host: PathBuf, mode: Mode, look: bool) {
        self.pending.push((vpath, Learned { host, mode, look }));
    }

    /// The current request succeeded (keep what it noted) or not.
    pub fn done(&mut self, ok: bool) {
        for (v, l) in std::mem::take(&mut self.pending) {
            if !ok {
                continue;
            }
            match self.used.get_mut(&v) {
                Some(old) if old.host == l.host => {
                    old.mode = old.mode.max(l.mode);
                    old.look &= l.look;
                }
                // Another host object at the same virtual path (a grant
                // retired and another made): the last one.
                _ => {
                    self.used.insert(v, l);
                }
            }
        }
    }

    /// What to write: each virtual path with its host path and mode, less
    /// what another entry already grants (below a directory of at least the
    /// same mode, at the same place on the host) and the directories only
    /// looked at that hold another entry (virtual directories then).
    pub fn grants(&self) -> Vec<(Vec<u8>, PathBuf, Mode)> {
        let all: Vec<(&Vec<u8>, &Learned)> = self.used.iter().collect();
        let holds_another = |v: &[u8]| all.iter().any(|(o, _)| o.as_slice() != v && ns::is_within(o, v));
        // Directories only looked at that hold another entry: left out.
        let kept: Vec<(&Vec<u8>, &Learned)> = all.iter().copied().filter(|(v, l)| !(l.look && holds_another(v))).collect();
        let covered = |v: &[u8], l: &Learned| {
            kept.iter().any(|(o, ol)| {
                o.as_slice() != v
                    && ns::is_within(v, o)
                    && ol.mode >= l.mode
                    && {
                        let rest = &v[o.len()..];
                        let rest = rest.strip_prefix(b"/").unwrap_or(rest);
                        ol.host.join(std::ffi::OsStr::from_bytes(rest)) == l.host
                    }
            })
        };
        kept.iter().filter(|(v, l)| !covered(v, l)).map(|(v, l)| ((*v).clone(), l.host.clone(), l.mode)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learner() -> Learner {
        Learner::new(HashSet::new(), false)
    }

    fn note(l: &mut Learner, v: &str, h: &str, mode: Mode, look: bool) {
        l.note(v.as_bytes().to_vec(), h.into(), mode, look);
        l.done(true);
    }

    fn shown(l: &Learner) -> Vec<String> {
        l.grants().iter().map(|(v, h, m)| format!("{} {} {}", String::from_utf8_lossy(v), h.display(), m.name())).collect()
    }

    #[test]
    fn the_least_mode_and_only_what_succeeded() {
        let mut l = learner();
        note(&mut l, "/p/a", "/p/a", Mode::Ro, false);
        note(&mut l, "/p/a", "/p/a", Mode::Rw, false);
        note(&mut l, "/p/b", "/p/b", Mode::Exec, false);
        l.note(b"/p/c".to_vec(), "/p/c".into(), Mode::Rw, false);
        l.done(false);
        assert_eq!(shown(&l), ["/p/a /p/a rw", "/p/b /p/b exec"]);
    }

    #[test]
    fn a_file_read_is_that_file_not_its_directory() {
        let mut l = learner();
        note(&mut l, "/p", "/p", Mode::Ro, true);
        note(&mut l, "/p/d", "/p/d", Mode::Ro, true);
        note(&mut l, "/p/d/f", "/p/d/f", Mode::Ro, false);
        assert_eq!(shown(&l), ["/p/d/f /p/d/f ro"], "directories only looked at are virtual");
        // A directory listed holds what was read below it.
        note(&mut l, "/p/d", "/p/d", Mode::Ro, false);
        assert_eq!(shown(&l), ["/p/d /p/d ro"]);
        // But not what was written there.
        note(&mut l, "/p/d/g", "/p/d/g", Mode::Rw, false);
        assert_eq!(shown(&l), ["/p/d /p/d ro", "/p/d/g /p/d/g rw"]);
        // A directory looked at that holds nothing learned stays.
        note(&mut l, "/q", "/q", Mode::Ro, true);
        assert_eq!(shown(&l).last().unwrap(), "/q /q ro");
    }

    #[test]
    fn maps_keep_their_places() {
        let mut l = learner();
        note(&mut l, "/v", "/h", Mode::Rw, false);
        note(&mut l, "/v/x", "/h/x", Mode::Ro, false);
        note(&mut l, "/v/y", "/elsewhere/y", Mode::Ro, false);
        assert_eq!(shown(&l), ["/v /h rw", "/v/y /elsewhere/y ro"]);
    }
}
