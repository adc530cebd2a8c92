//! Snapshots of a directory tree, to tell what a run changed in it:
//! [`contents`] (names and bytes: what was written, made, removed) and
//! [`metadata`] (mode, owner, modification time: what was chmod'ed,
//! chown'ed, touched). Both key entries by their path relative to the
//! tree's root.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Every entry below `dir`, relative to it, depth first.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let list = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in list {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

/// What the tree below `dir` holds: relative path → a file's bytes,
/// `-> TARGET` for a symlink, `/` for a directory, `<fifo>`, `<socket>`,
/// `<device>` for the others, `<unreadable: ERROR>` for a file it cannot
/// read.
pub fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    for rel in entries(dir) {
        let p = dir.join(&rel);
        let ty = std::fs::symlink_metadata(&p).unwrap().file_type();
        let v = if ty.is_symlink() {
            let mut v = b"-> ".to_vec();
            v.extend_from_slice(std::fs::read_link(&p).unwrap().as_os_str().as_bytes());
            v
        } else if ty.is_dir() {
            b"/".to_vec()
        } else if ty.is_fifo() {
            b"<fifo>".to_vec()
        } else if ty.is_socket() {
            b"<socket>".to_vec()
        } else if ty.is_block_device() || ty.is_char_device() {
            b"<device>".to_vec()
        } else {
            std::fs::read(&p).unwrap_or_else(|e| format!("<unreadable: {e}>").into_bytes())
        };
        m.insert(rel, v);
    }
    m
}

/// Mode, owner and modification time of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

/// The [`Meta`] of `dir` itself (at the empty path) and of every entry
/// below it.
pub fn metadata(dir: &Path) -> BTreeMap<PathBuf, Meta> {
    let mut m = BTreeMap::new();
    for rel in std::iter::once(PathBuf::new()).chain(entries(dir)) {
        let md = std::fs::symlink_metadata(dir.join(&rel)).unwrap();
        let meta = Meta { mode: md.mode(), uid: md.uid(), gid: md.gid(), mtime: md.mtime(), mtime_nsec: md.mtime_nsec() };
        m.insert(rel, meta);
    }
    m
}

/// Puts back the owners, modes and modification times `metadata` took
/// (best effort: entries made since are left alone).
pub fn restore_metadata(dir: &Path, before: &BTreeMap<PathBuf, Meta>) {
    use std::os::unix::fs::PermissionsExt;
    for (rel, m) in before {
        let p = dir.join(rel);
        std::os::unix::fs::lchown(&p, Some(m.uid), Some(m.gid)).ok();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m.mode)).ok();
        let t = std::time::UNIX_EPOCH + Duration::new(m.mtime as u64, m.mtime_nsec as u32);
        std::fs::File::open(&p).and_then(|f| f.set_modified(t)).ok();
    }
}

/// Sets the modification time of every regular file below `dir`.
pub fn set_mtimes(dir: &Path, t: SystemTime) {
    for rel in entries(dir) {
        let p = dir.join(rel);
        if std::fs::symlink_metadata(&p).unwrap().is_file() {
            std::fs::File::options().write(true).open(&p).unwrap().set_modified(t).unwrap();
        }
    }
}

/// How two [`contents`] differ, one line per path (empty: the same).
pub fn differences(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>, a_name: &str, b_name: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (p, v) in a {
        match b.get(p) {
            None => bad.push(format!("{} is only in {a_name}", p.display())),
            Some(w) if w != v => {
                bad.push(format!("{} differs ({} bytes in {a_name}, {} in {b_name})", p.display(), v.len(), w.len()))
            }
            _ => {}
        }
    }
    for p in b.keys().filter(|p| !a.contains_key(*p)) {
        bad.push(format!("{} is only in {b_name}", p.display()));
    }
    bad
}
