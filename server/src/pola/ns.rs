//! The session's namespace: a tree of grants (virtual path → host path, with
//! a mode), the virtual directories above them, and the resolution of a
//! virtual path to what it names.
//!
//! # Resolution
//!
//! A path is resolved one component at a time from the namespace's root,
//! like the kernel's path walk, with the virtual path of every directory
//! reached kept on a stack:
//!
//! - `.` stays, `..` pops the stack: it goes to the parent of the directory
//!   actually reached (symlinks already followed), and never above `/`.
//! - A component whose virtual path is a grant's enters that grant (grants
//!   nested in other grants shadow what the outer grant's host holds there).
//! - Inside a grant, the component is looked up on the host with
//!   `openat2(dir, name, O_PATH|O_NOFOLLOW, RESOLVE_BENEATH |
//!   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)` relative to the O_PATH fd
//!   of the directory reached: one name, no slash, nothing followed by the
//!   host. A symlink found there is read from that same fd (readlinkat on
//!   the O_PATH fd: no window for a swap) and its target is spliced into the
//!   path, resolved in the *virtual* namespace: an absolute target restarts
//!   at the virtual root, `..` pops virtual directories. A symlink that points
//!   out of its grant therefore lands in another grant or on ENOENT, never
//!   on the host past the grant. 40 symlinks at most (ELOOP), as the kernel.
//! - Outside every grant, only virtual directories exist (the strict
//!   ancestors of grants); any other name is ENOENT.
//!
//! Fast path: a path with no `.`/`..` inside a grant that has no grant
//! nested in it opens its directory part with one openat2 from the grant's
//! root (RESOLVE_NO_SYMLINKS: any symlink on the way sends it to the full
//! walk), then looks up the last name as above.
//!
//! A path that leaves the namespace (a name that is neither a grant nor a
//! virtual directory, where the walk answers ENOENT) is remembered as the
//! virtual path it would have named (`take_outside`): what `preld pola
//! --ask` asks the user about. A grant can be added to a live namespace
//! (`add`: a detached mount copy, made as at start) and retired again
//! (`retire`: resolution no longer reaches it; fds already handed out
//! stay as they are, and the server still knows their grant by its mount).
//!
//! The result keeps an O_PATH|O_NOFOLLOW fd of the object found (and of its
//! parent directory), so that the operation is then made on that inode, by
//! fd, and a name swapped on the host after the walk changes nothing.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rustix::fs::ResolveFlags;

use super::sys::{self, SysResult, CONFINED};

/// Most symlinks followed in one resolution (the kernel's MAXSYMLINKS).
pub const MAX_HOPS: u32 = 40;

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Read (a read-only mount).
    Ro,
    /// Read and execute programs (a read-only mount without noexec).
    Exec,
    /// Read, write and execute (a writable mount).
    Rw,
}

impl Grant {
    /// A grant of a symlink itself (`GrantSpec::link`).
    pub fn is_link(&self) -> bool {
        sys::file_type(&self.st) == libc::S_IFLNK
    }
}

impl Mode {
    pub fn writable(self) -> bool {
        self == Mode::Rw
    }
    pub fn executable(self) -> bool {
        self != Mode::Ro
    }
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ro => "ro",
            Mode::Exec => "exec",
            Mode::Rw => "rw",
        }
    }
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "ro" => Some(Mode::Ro),
            "exec" => Some(Mode::Exec),
            "rw" => Some(Mode::Rw),
            _ => None,
        }
    }
}

/// A grant as asked for: virtual path (absolute, normalized), host path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantSpec {
    pub vpath: Vec<u8>,
    pub host: PathBuf,
    pub mode: Mode,
    /// HOST is a symlink granted as itself (-B's /bin -> usr/bin, its
    /// /etc/localtime): a copy of the link, whose target resolves in the
    /// namespace like a symlink found in a grant.
    pub link: bool,
}

impl GrantSpec {
    /// The MOUNT_ATTR_* bits (and `sys::LINK_ITSELF`) of its copy
    /// (`sys::mount_clones`): read-only unless it is writable (see
    /// `Namespace::with_clones`).
    pub fn copy_attrs(&self) -> u64 {
        sys::copy_attrs(!self.mode.writable()) | if self.link { sys::LINK_ITSELF } else { sys::NO_SYMLINKS_ON_PATH }
    }
}

/// A grant made: its host root is held open (O_PATH).
pub struct Grant {
    pub vpath: Vec<u8>,
    pub host: PathBuf,
    pub mode: Mode,
    pub root: Rc<OwnedFd>,
    pub st: sys::Stat,
    pub is_dir: bool,
    /// Another grant lies below this one.
    pub nested: bool,
    /// Resolution reaches it (false: retired, `Namespace::retire`).
    pub live: bool,
    /// The mount id of its detached copy: a client's fd on it lies in
    /// this grant (None: statx could not say).
    pub mnt_id: Option<u64>,
}

/// An object found by a resolution.
pub struct Obj {
    pub grant: usize,
    /// O_PATH|O_NOFOLLOW fd of the object itself.
    pub fd: Rc<OwnedFd>,
    pub st: sys::Stat,
    /// Its directory (O_PATH) and name there; None for a grant's root.
    pub parent: Option<(Rc<OwnedFd>, Vec<u8>)>,
    pub vpath: Vec<u8>,
}

/// What a virtual path names.
pub enum Node {
    /// A virtual directory (an ancestor of grants).
    Virtual(Vec<u8>),
    Existing(Obj),
    /// The last name does not exist, in a directory of a grant; `vpath`
    /// is the virtual path it would have.
    Missing { grant: usize, parent: Rc<OwnedFd>, name: Vec<u8>, trailing_slash: bool, vpath: Vec<u8> },
    /// The last name does not exist, in a virtual directory.
    MissingVirtual,
}

#[derive(Clone)]
enum Level {
    Virtual,
    Real { grant: usize, fd: Rc<OwnedFd>, parent: Option<(Rc<OwnedFd>, Vec<u8>)> },
}

pub struct Namespace {
    pub grants: Vec<Grant>,
    by_vpath: HashMap<Vec<u8>, usize>,
    /// Virtual directories and their children's names.
    vdirs: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>,
    /// Where the empty stand-ins of virtual directories are made (the
    /// host directory, removed with the namespace), and a detached mount
    /// copy of it through which they are made and opened.
    _backing_dir: HostDir,
    backing_root: OwnedFd,
    backing: HashMap<Vec<u8>, OwnedFd>,
    /// Where the last resolution left the namespace (`take_outside`).
    outside: RefCell<Option<Vec<u8>>>,
    /// Virtual directories kept without a grant below them (`keep_dir`).
    kept: Vec<Vec<u8>>,
}

/// A directory of the host's that a session makes for itself (the
/// virtual directories' stand-ins, -B's private directory): removed with
/// what it holds when dropped, unless kept.
pub struct HostDir(Option<PathBuf>);

impl HostDir {
    /// A new directory in the temporary directory, named PREFIX and six
    /// random characters.
    pub fn new(prefix: &str) -> std::io::Result<HostDir> {
        Ok(HostDir(Some(tempfile::Builder::new().prefix(prefix).tempdir()?.keep())))
    }

    /// A directory made already (by the session's init: confine.rs), at a
    /// name from `temp_name`.
    pub fn adopt(path: PathBuf) -> HostDir {
        HostDir(Some(path))
    }

    pub fn path(&self) -> &Path {
        self.0.as_deref().expect("a host directory not kept")
    }

    /// Leaves the directory on the host; its path.
    pub fn keep(mut self) -> PathBuf {
        self.0.take().expect("a host directory not kept")
    }
}

impl Drop for HostDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            remove_tree(&p);
        }
    }
}

/// Removes the tree at `path` (a symlink there is removed, never
/// followed), also where the session left directories in it that its user
/// may not read, search or write (Go's module cache makes its directories
/// 0555, a program may `chmod 0` one): those are made 0700 first.
///
/// Why: the user's `remove_dir_all` gave up at the first of them, and an
/// ordinary user's private /tmp stayed in TMPDIR for good (session-18
/// adversary). Each directory is changed through an fd of its own, opened
/// with O_NOFOLLOW|O_DIRECTORY (a name the session swapped for a symlink
/// meanwhile changes nothing outside the tree), by its /proc/self/fd name
/// (fchmod takes no O_PATH fd).
pub fn remove_tree(path: &Path) {
    if std::fs::remove_dir_all(path).is_ok() || std::fs::symlink_metadata(path).is_err() {
        return;
    }
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return };
    open_up(libc::AT_FDCWD, &c, 0);
    let _ = std::fs::remove_dir_all(path);
}

/// Makes the directory `name` (beside `at`) and every directory below it
/// 0700; `depth`: how deep this one is (a tree deeper than 4096 is left).
fn open_up(at: std::os::fd::RawFd, name: &std::ffi::CStr, depth: usize) {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    if depth > 4096 {
        return;
    }
    // SAFETY: openat of a NUL-terminated name; the fd is ours.
    let fd = unsafe { libc::openat(at, name.as_ptr(), libc::O_PATH | libc::O_NOFOLLOW | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return;
    }
    // SAFETY: a new fd of ours.
    let dir = unsafe { OwnedFd::from_raw_fd(fd) };
    let by_fd = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL");
    // SAFETY: chmod of the directory the fd holds (the magic link is that
    // directory, whatever its name names now).
    unsafe { libc::chmod(by_fd.as_ptr(), 0o700) };
    // SAFETY: a NUL-terminated name; the fd is ours (closed by closedir).
    let listing = unsafe { libc::openat(dir.as_raw_fd(), c".".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if listing < 0 {
        return;
    }
    // SAFETY: fdopendir takes the fd over.
    let d = unsafe { libc::fdopendir(listing) };
    if d.is_null() {
        // SAFETY: ours, not taken over.
        unsafe { libc::close(listing) };
        return;
    }
    let mut subdirs = Vec::new();
    loop {
        // SAFETY: `d` is an open DIR of ours; the entry is read before the next readdir.
        let e = unsafe { libc::readdir(d) };
        if e.is_null() {
            break;
        }
        // SAFETY: d_name is NUL-terminated.
        let n = unsafe { std::ffi::CStr::from_ptr((*e).d_name.as_ptr()) };
        // SAFETY: as above.
        let ty = unsafe { (*e).d_type };
        if n.to_bytes() != b"." && n.to_bytes() != b".." && (ty == libc::DT_DIR || ty == libc::DT_UNKNOWN) {
            subdirs.push(n.to_owned());
        }
    }
    // SAFETY: ours, closed once.
    unsafe { libc::closedir(d) };
    for n in subdirs {
        open_up(dir.as_raw_fd(), &n, depth + 1);
    }
}

/// A name for a new directory in the temporary directory, as `HostDir::new`
/// makes: PREFIX and six random characters (someone else makes the
/// directory, which is then adopted; a name taken meanwhile is found by
/// that mkdir: EEXIST).
pub fn temp_name(prefix: &str) -> PathBuf {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut r = [0u8; 6];
    // SAFETY: getrandom writes at most r.len() bytes into r.
    if unsafe { libc::getrandom(r.as_mut_ptr().cast(), r.len(), 0) } != r.len() as isize {
        // (No randomness: the clock and pid, never one name again and again,
        // which a name taken would then refuse for good.)
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        r.copy_from_slice(&(t ^ (std::process::id() as u64) << 40).to_le_bytes()[..6]);
    }
    let name: String = r.iter().map(|b| CHARS[*b as usize % CHARS.len()] as char).collect();
    // (Resolved: a grant's host path has no symlink on it, `GrantSpec::copy_attrs`.)
    let tmp = std::env::temp_dir();
    std::fs::canonicalize(&tmp).unwrap_or(tmp).join(format!("{prefix}{name}"))
}

/// `/a/b` + `c` → `/a/b/c`.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut v = dir.to_vec();
    if !v.ends_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    v
}

/// Lexical normalization of an absolute path: `.` dropped, `..` pops (never
/// above `/`), no repeated or trailing slash.
pub fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut v = Vec::new();
    for p in &parts {
        v.push(b'/');
        v.extend_from_slice(p);
    }
    if v.is_empty() {
        v.push(b'/');
    }
    v
}

/// The parent of a normalized absolute path ("/" for "/").
pub fn parent(vpath: &[u8]) -> &[u8] {
    match vpath.iter().rposition(|&b| b == b'/') {
        Some(0) | None => b"/",
        Some(i) => &vpath[..i],
    }
}

/// True if `inner` is `outer` or below it (both normalized).
pub fn is_within(inner: &[u8], outer: &[u8]) -> bool {
    outer == b"/" || inner == outer || (inner.starts_with(outer) && inner.get(outer.len()) == Some(&b'/'))
}

fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

impl Namespace {
    /// The host directory of the virtual directories' stand-ins (removed
    /// when the namespace is dropped; by hand where it is forgotten).
    pub fn backing_dir(&self) -> &Path {
        self._backing_dir.path()
    }

    /// An fd of each detached mount the namespace holds (every grant's
    /// copy, the stand-ins' directory's): what keeps them.
    pub fn copies(&self) -> Vec<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.grants.iter().map(|g| g.root.as_raw_fd()).chain([self.backing_root.as_raw_fd()]).collect()
    }

    /// Opens every grant's host root. Errors name the grant.
    pub fn new(specs: &[GrantSpec]) -> Result<Namespace, String> {
        let backing_dir = HostDir::new("preld-pola-").map_err(|e| format!("cannot make a private directory: {e}"))?;
        Namespace::with_backing(specs, backing_dir)
    }

    /// As `new`, with the stand-ins' host directory made already.
    pub fn with_backing(specs: &[GrantSpec], backing_dir: HostDir) -> Result<Namespace, String> {
        let mut paths: Vec<(&[u8], u64)> = specs.iter().map(|s| (s.host.as_os_str().as_bytes(), s.copy_attrs())).collect();
        paths.push((backing_dir.path().as_os_str().as_bytes(), 0));
        let clones = sys::mount_clones(&paths, &cover_plan(specs));
        Namespace::with_clones(specs, backing_dir, clones, true)
    }

    /// As `with_backing`, with the copies made already (`sys::mount_clones`
    /// of each spec's host and `GrantSpec::copy_attrs`, then of the
    /// stand-ins' directory with none). `covered`: the covers
    /// (`cover_plan`) were made with the copies; else they are made here.
    pub fn with_clones(specs: &[GrantSpec], backing_dir: HostDir, mut clones: Vec<SysResult<OwnedFd>>, covered: bool) -> Result<Namespace, String> {
        if !covered {
            sys::cover_all(&mut clones, &cover_plan(specs));
        }
        let mut grants: Vec<Grant> = Vec::new();
        let mut by_vpath = HashMap::new();
        // Every grant, and the stand-ins' directory, is reached through a
        // detached copy of its mount whose root it is: `..` from any fd
        // handed out stops at the grant, never climbs the host's tree.
        // Read-only grants get read-only copies: their fds then refuse
        // fchmod, fchown, futimens and fsetxattr (EROFS) whoever calls them.
        // Directory grants' copies open no devices (MOUNT_ATTR_NODEV): a
        // directory grant gives its files, not the devices that may lie in
        // it (a loop device there is a disk: attack `devices`). A device is
        // granted by naming it (a file grant: -B's /dev/null). Opens
        // beneath them then need no look at what a path names first
        // (`GrantSpec::copy_attrs`).
        let mut clones = clones.into_iter();
        let no_copy = |what: &Path, e: sys::Errno| {
            format!(
                "{}: cannot make a copy of its mount: {} (a session needs open_tree and, without root, user namespaces)",
                what.display(),
                std::io::Error::from_raw_os_error(e)
            )
        };
        for s in specs {
            if s.vpath.first() != Some(&b'/') || normalize(&s.vpath) != s.vpath {
                return Err(format!("{}: not a normalized absolute path", String::from_utf8_lossy(&s.vpath)));
            }
            if by_vpath.contains_key(&s.vpath) {
                return Err(format!("{}: granted twice", String::from_utf8_lossy(&s.vpath)));
            }
            // A missing or unreachable path is said as such; any other
            // failure is the copy's.
            let fd = clones.next().expect("one clone per grant").map_err(|e| match e {
                libc::ENOENT | libc::ENOTDIR | libc::EACCES | libc::ELOOP => {
                    format!("{}: {}", s.host.display(), std::io::Error::from_raw_os_error(e))
                }
                e => no_copy(&s.host, e),
            })?;
            let (st, mnt_id) = sys::fstat_and_mount_id(fd.as_fd()).map_err(|e| format!("{}: {}", s.host.display(), std::io::Error::from_raw_os_error(e)))?;
            by_vpath.insert(s.vpath.clone(), grants.len());
            grants.push(Grant {
                vpath: s.vpath.clone(),
                host: s.host.clone(),
                mode: s.mode,
                root: Rc::new(fd),
                is_dir: sys::file_type(&st) == libc::S_IFDIR,
                st,
                nested: false,
                live: true,
                mnt_id,
            });
        }
        let backing_root = clones.next().expect("the backing clone").map_err(|e| no_copy(backing_dir.path(), e))?;
        let mut ns = Namespace {
            grants,
            by_vpath,
            vdirs: BTreeMap::new(),
            _backing_dir: backing_dir,
            backing_root,
            backing: HashMap::new(),
            outside: RefCell::new(None),
            kept: Vec::new(),
        };
        ns.index()?;
        Ok(ns)
    }

    /// Recomputes what the live grants imply: which grant each virtual path
    /// is, the virtual directories above them, which grants hold others.
    fn index(&mut self) -> Result<(), String> {
        self.by_vpath = self.grants.iter().enumerate().filter(|(_, g)| g.live).map(|(i, g)| (g.vpath.clone(), i)).collect();
        let mut vdirs: BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>> = BTreeMap::new();
        // Which grants hold others: those below `v` sort together, from
        // `v/` on (a binary search each, not every grant against every
        // other).
        let mut live: Vec<&[u8]> = self.grants.iter().filter(|g| g.live).map(|g| g.vpath.as_slice()).collect();
        live.sort_unstable();
        let holds = |v: &[u8]| {
            if v == b"/" {
                return live.len() > 1;
            }
            let below = [v, b"/"].concat();
            let at = live.partition_point(|g| *g < below.as_slice());
            live.get(at).is_some_and(|g| g.starts_with(&below))
        };
        let nested: Vec<bool> = self.grants.iter().map(|g| g.live && holds(&g.vpath)).collect();
        let any_live = !live.is_empty();
        for (g, nested) in self.grants.iter_mut().zip(nested) {
            g.nested = nested;
            if g.live && !g.is_dir && nested {
                return Err(format!("{}: a file grant cannot hold other grants", String::from_utf8_lossy(&g.vpath)));
            }
        }
        for g in self.grants.iter().filter(|g| g.live) {
            // Every strict ancestor that is not itself a grant is a virtual
            // directory holding the next component; where one holds it
            // already, so do those above (they were walked for it).
            let mut child = g.vpath.as_slice();
            while child != b"/" {
                let p = parent(child);
                let name = &child[child.iter().rposition(|&b| b == b'/').unwrap() + 1..];
                if !self.by_vpath.contains_key(p) {
                    let names = vdirs.entry(p.to_vec()).or_default();
                    if names.contains(name) {
                        break;
                    }
                    names.insert(name.to_vec());
                }
                child = p;
            }
        }
        for k in &self.kept {
            add_kept(&mut vdirs, &self.by_vpath, k);
        }
        if !any_live {
            vdirs.entry(b"/".to_vec()).or_default();
        }
        self.vdirs = vdirs;
        Ok(())
    }

    /// Adds a grant to the live namespace, made as the grants of the start
    /// are (a detached copy of its mount, read-only unless `rw`, by the
    /// launcher or its unprivileged helper). `vpath` must lie outside every
    /// live grant's own name and hold no grant. `expect`: the (st_dev,
    /// st_ino) the host object had when the user was asked about it; a
    /// copy of anything else (a name swapped on the host since) is refused.
    pub fn add(&mut self, spec: &GrantSpec, expect: Option<(u64, u64)>) -> Result<usize, String> {
        let shown = || String::from_utf8_lossy(&spec.vpath).into_owned();
        if spec.vpath.first() != Some(&b'/') || normalize(&spec.vpath) != spec.vpath {
            return Err(format!("{}: not a normalized absolute path", shown()));
        }
        if self.by_vpath.contains_key(&spec.vpath) || self.vdirs.contains_key(&spec.vpath) {
            return Err(format!("{}: already in the namespace", shown()));
        }
        let host = spec.host.as_os_str().as_bytes();
        // (The kernel's file systems in it covered, as at the start.)
        let fd = sys::mount_clones(&[(host, sys::copy_attrs(!spec.mode.writable()))], &cover_plan(std::slice::from_ref(spec)))
            .pop()
            .unwrap_or(Err(libc::EIO))
            .map_err(|e| format!("{}: cannot make a copy of its mount: {}", spec.host.display(), std::io::Error::from_raw_os_error(e)))?;
        let st = sys::fstat(fd.as_fd()).map_err(|e| format!("{}: {}", spec.host.display(), std::io::Error::from_raw_os_error(e)))?;
        if expect.is_some_and(|(dev, ino)| (st.st_dev, st.st_ino) != (dev, ino)) {
            return Err(format!("{}: changed on the host since it was asked about", spec.host.display()));
        }
        let mnt_id = sys::mount_id(fd.as_fd()).ok();
        self.grants.push(Grant {
            vpath: spec.vpath.clone(),
            host: spec.host.clone(),
            mode: spec.mode,
            root: Rc::new(fd),
            is_dir: sys::file_type(&st) == libc::S_IFDIR,
            st,
            nested: false,
            live: true,
            mnt_id,
        });
        let g = self.grants.len() - 1;
        if let Err(e) = self.index() {
            self.grants[g].live = false;
            let _ = self.index();
            return Err(e);
        }
        Ok(g)
    }

    /// Makes `vpath` (absolute, normalized, in no grant) a virtual
    /// directory even with no grant below it: `--ask` keeps the current
    /// directory, so that relative paths name what they name natively and
    /// can be asked about.
    pub fn keep_dir(&mut self, vpath: &[u8]) {
        if vpath.first() == Some(&b'/') && normalize(vpath) == vpath {
            self.kept.push(vpath.to_vec());
            // What `index` would add for it (nothing else changes), not a
            // whole index again (every grant against every other).
            add_kept(&mut self.vdirs, &self.by_vpath, vpath);
        }
    }

    /// Takes grant `g` out of the namespace: no resolution reaches it any
    /// more. Its index stays (objects and fds made from it keep naming it).
    pub fn retire(&mut self, g: usize) {
        if let Some(gr) = self.grants.get_mut(g) {
            gr.live = false;
        }
        // Removing a grant cannot break the rules `index` checks.
        let _ = self.index();
    }

    /// The virtual path where the last `resolve` left the namespace (a name
    /// outside every grant and virtual directory), if it did, once.
    pub fn take_outside(&self) -> Option<Vec<u8>> {
        self.outside.borrow_mut().take()
    }

    /// Records where a walk left the namespace: the path it was at and
    /// the components still to walk (none of them `..`: then the path named
    /// depends on what does not exist, and nothing is recorded).
    fn left_at(&self, vpath: &[u8], rest: &VecDeque<Vec<u8>>) {
        if rest.iter().any(|c| c == b"..") {
            return;
        }
        let mut v = vpath.to_vec();
        for c in rest.iter().filter(|c| c.as_slice() != b".") {
            v = join(&v, c);
        }
        *self.outside.borrow_mut() = Some(v);
    }

    /// Makes `vpath`, which lies in no grant, an empty virtual directory
    /// (and its ancestors virtual directories holding it): a session's
    /// working directory may be where nothing is granted, as a directory
    /// one may search but not read. It grants nothing: a virtual directory
    /// lists only the grants below it, and nothing can be made in it.
    pub fn add_vdir(&mut self, vpath: &[u8]) -> Result<(), String> {
        if vpath.first() != Some(&b'/') || normalize(vpath) != vpath {
            return Err(format!("{}: not a normalized absolute path", String::from_utf8_lossy(vpath)));
        }
        if self.grants.iter().any(|g| is_within(vpath, &g.vpath)) {
            return Err(format!("{}: lies in a grant", String::from_utf8_lossy(vpath)));
        }
        self.vdirs.entry(vpath.to_vec()).or_default();
        let mut child = vpath.to_vec();
        while child != b"/" {
            let p = parent(&child).to_vec();
            let name = child[child.iter().rposition(|&b| b == b'/').unwrap_or(0) + 1..].to_vec();
            self.vdirs.entry(p.clone()).or_default().insert(name);
            child = p;
        }
        Ok(())
    }

    pub fn grant_at(&self, vpath: &[u8]) -> Option<usize> {
        self.by_vpath.get(vpath).copied()
    }

    /// Every virtual directory's path.
    pub fn vdir_paths(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.vdirs.keys()
    }

    pub fn is_vdir(&self, vpath: &[u8]) -> bool {
        self.vdirs.contains_key(vpath)
    }

    pub fn vdir_children(&self, vpath: &[u8]) -> impl Iterator<Item = &Vec<u8>> {
        self.vdirs.get(vpath).into_iter().flatten()
    }

    /// The host path of an object below a grant (for messages only).
    pub fn host_path(&self, grant: usize, vpath: &[u8]) -> PathBuf {
        let g = &self.grants[grant];
        let rest = &vpath[g.vpath.len().min(vpath.len())..];
        let rest = rest.strip_prefix(b"/").unwrap_or(rest);
        if rest.is_empty() {
            g.host.clone()
        } else {
            g.host.join(Path::new(std::ffi::OsStr::from_bytes(rest)))
        }
    }

    /// The O_PATH fd of the empty directory that stands for virtual
    /// directory `vpath` (made on first use, mode 0555).
    pub fn backing(&mut self, vpath: &[u8]) -> SysResult<BorrowedFd<'_>> {
        if !self.backing.contains_key(vpath) {
            let name = format!("v{}", self.backing.len());
            sys::mkdirat(self.backing_root.as_fd(), name.as_bytes(), 0o555)?;
            let fd = sys::openat2(self.backing_root.as_fd(), name.as_bytes(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0, ResolveFlags::empty())?;
            sys::chmod_fd(fd.as_fd(), 0o555)?;
            self.backing.insert(vpath.to_vec(), fd);
        }
        Ok(self.backing[vpath].as_fd())
    }

    /// Resolves `path` (absolute, or relative to the virtual directory
    /// `start`). `follow`: follow a symlink in the last component.
    pub fn resolve(&self, start: &[u8], path: &[u8], follow: bool) -> SysResult<Node> {
        if path.is_empty() {
            return Err(libc::ENOENT);
        }
        self.outside.borrow_mut().take();
        let full = if path[0] == b'/' { path.to_vec() } else { join(start, path) };
        let trailing_slash = full.len() > 1 && full.ends_with(b"/");
        if let Some(r) = self.fast(&full, follow, trailing_slash) {
            return r;
        }
        self.walk(&full, follow, trailing_slash)
    }

    /// The fast path (see the module doc); None when the full walk is needed.
    fn fast(&self, full: &[u8], follow: bool, trailing_slash: bool) -> Option<SysResult<Node>> {
        let comps: Vec<&[u8]> = components(full).collect();
        if comps.iter().any(|c| *c == b"." || *c == b"..") || comps.is_empty() {
            return None;
        }
        // The longest grant prefix.
        let mut prefix = Vec::new();
        let mut found = None;
        if let Some(g) = self.grant_at(b"/") {
            found = Some((g, 0));
        }
        for (i, c) in comps.iter().enumerate() {
            prefix.push(b'/');
            prefix.extend_from_slice(c);
            if let Some(g) = self.grant_at(&prefix) {
                found = Some((g, i + 1));
            }
        }
        let (g, k) = found?;
        let grant = &self.grants[g];
        if grant.nested || !grant.is_dir || k == comps.len() {
            return None;
        }
        let (dir_part, last) = (&comps[k..comps.len() - 1], comps[comps.len() - 1]);
        let dir = if dir_part.is_empty() {
            grant.root.clone()
        } else {
            let rel = dir_part.join(&b'/');
            match sys::openat2(grant.root.as_fd(), &rel, libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC, 0, CONFINED) {
                Ok(fd) => Rc::new(fd),
                Err(libc::ELOOP | libc::EXDEV) => return None,
                Err(e) => return Some(Err(e)),
            }
        };
        let vpath = full_vpath(&comps);
        match self.lookup_host(g, &dir, last, &vpath) {
            Err(libc::ENOENT) => {
                Some(Ok(Node::Missing { grant: g, parent: dir, name: last.to_vec(), trailing_slash, vpath }))
            }
            Err(e) => Some(Err(e)),
            Ok(obj) => {
                let t = sys::file_type(&obj.st);
                if t == libc::S_IFLNK && (follow || trailing_slash) {
                    return None;
                }
                if trailing_slash && t != libc::S_IFDIR && t != libc::S_IFLNK {
                    return Some(Err(libc::ENOTDIR));
                }
                Some(Ok(Node::Existing(obj)))
            }
        }
    }

    /// One host lookup of `name` in directory `dir` of grant `g`.
    fn lookup_host(&self, g: usize, dir: &Rc<OwnedFd>, name: &[u8], vpath: &[u8]) -> SysResult<Obj> {
        let fd = sys::openat2(dir.as_fd(), name, libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0, CONFINED)?;
        let st = sys::fstat(fd.as_fd())?;
        Ok(Obj { grant: g, fd: Rc::new(fd), st, parent: Some((dir.clone(), name.to_vec())), vpath: vpath.to_vec() })
    }

    fn grant_obj(&self, g: usize) -> Obj {
        let gr = &self.grants[g];
        Obj { grant: g, fd: gr.root.clone(), st: gr.st, parent: None, vpath: gr.vpath.clone() }
    }

    fn root_level(&self) -> Level {
        match self.grant_at(b"/") {
            Some(g) => Level::Real { grant: g, fd: self.grants[g].root.clone(), parent: None },
            None => Level::Virtual,
        }
    }

    /// The full walk (see the module doc).
    fn walk(&self, full: &[u8], follow: bool, trailing_slash: bool) -> SysResult<Node> {
        let literal_own = full.starts_with(b"/proc") || full.starts_with(b"/dev/pts");
        let mut queue: VecDeque<Vec<u8>> = components(full).map(|c| c.to_vec()).collect();
        // (name, level) from the root down; the root itself is implicit.
        let mut stack: Vec<(Vec<u8>, Level)> = Vec::new();
        let root = self.root_level();
        let mut hops = 0;
        while let Some(c) = queue.pop_front() {
            if c == b"." {
                continue;
            }
            if c == b".." {
                stack.pop();
                continue;
            }
            let is_last = queue.is_empty();
            let cur_vpath = full_vpath(&stack.iter().map(|(n, _)| n.as_slice()).collect::<Vec<_>>());
            let vpath = join(&cur_vpath, &c);
            // The session's /proc and ptys are the handler's (in a grant of
            // / the host's are covered; else a kept virtual directory): a
            // walk that reaches one through a symlink or `..` leaves the
            // namespace there, and the handler makes the call again with
            // the path it names (`take_outside`, ELSEWHERE). /proc or
            // /dev/pts named itself is the virtual directory (chdir /proc).
            if !(literal_own && is_last) && (vpath == b"/proc" || vpath == b"/dev/pts") && self.grant_at(&vpath).is_none() && !queue.iter().any(|q| q == b"..") {
                self.left_at(&vpath, &queue);
                return if is_last { Ok(Node::MissingVirtual) } else { Err(libc::ENOENT) };
            }
            let cur = stack.last().map(|(_, l)| l.clone()).unwrap_or_else(|| root.clone());
            // A grant's root shadows whatever is there.
            if let Some(g) = self.grant_at(&vpath) {
                if self.grants[g].is_link() && (!is_last || follow || trailing_slash) {
                    // A symlink granted as itself: its target resolves here,
                    // from the link's virtual directory, as a symlink found
                    // in a grant (never on the host).
                    hops += 1;
                    if hops > MAX_HOPS {
                        return Err(libc::ELOOP);
                    }
                    splice_link(&sys::readlink_fd(self.grants[g].root.as_fd())?, &mut stack, &mut queue)?;
                    continue;
                }
                if !self.grants[g].is_dir {
                    if !is_last || trailing_slash {
                        return Err(libc::ENOTDIR);
                    }
                    return Ok(Node::Existing(self.grant_obj(g)));
                }
                if is_last {
                    return Ok(Node::Existing(self.grant_obj(g)));
                }
                stack.push((c, Level::Real { grant: g, fd: self.grants[g].root.clone(), parent: None }));
                continue;
            }
            let (g, dir) = match cur {
                Level::Virtual => {
                    if self.is_vdir(&vpath) {
                        if is_last {
                            return Ok(Node::Virtual(vpath));
                        }
                        stack.push((c, Level::Virtual));
                        continue;
                    }
                    self.left_at(&vpath, &queue);
                    return if is_last { Ok(Node::MissingVirtual) } else { Err(libc::ENOENT) };
                }
                Level::Real { grant, fd, .. } => (grant, fd),
            };
            let obj = match self.lookup_host(g, &dir, &c, &vpath) {
                Ok(o) => o,
                Err(libc::ENOENT) if self.is_vdir(&vpath) => {
                    // An ancestor of a nested grant that the outer grant's
                    // host does not have.
                    if is_last {
                        return Ok(Node::Virtual(vpath));
                    }
                    stack.push((c, Level::Virtual));
                    continue;
                }
                Err(libc::ENOENT) if is_last => {
                    return Ok(Node::Missing { grant: g, parent: dir, name: c, trailing_slash, vpath });
                }
                Err(e) => return Err(e),
            };
            let t = sys::file_type(&obj.st);
            if t == libc::S_IFLNK && (!is_last || follow || trailing_slash) {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(libc::ELOOP);
                }
                splice_link(&sys::readlink_fd(obj.fd.as_fd())?, &mut stack, &mut queue)?;
                continue;
            }
            if t == libc::S_IFDIR {
                if is_last {
                    return Ok(Node::Existing(obj));
                }
                stack.push((c, Level::Real { grant: g, fd: obj.fd, parent: obj.parent }));
                continue;
            }
            if !is_last || trailing_slash {
                return Err(libc::ENOTDIR);
            }
            return Ok(Node::Existing(obj));
        }
        // The path ended on `/`, `.` or `..`: the directory reached.
        let vpath = full_vpath(&stack.iter().map(|(n, _)| n.as_slice()).collect::<Vec<_>>());
        match stack.pop().map(|(_, l)| l).unwrap_or(root) {
            Level::Virtual => Ok(Node::Virtual(vpath)),
            Level::Real { grant, fd, parent } => {
                let st = sys::fstat(fd.as_fd())?;
                Ok(Node::Existing(Obj { grant, fd, st, parent, vpath }))
            }
        }
    }
}

/// What each grant's copy gets mounted over (`sys::Cover`): the kernel's
/// own file systems in it (the host's /proc in a grant of /) an empty one;
/// then each grant nested in a directory grant is mounted inside the
/// nearest enclosing grant's copy (`sys::cover`): the kernel then shows
/// code around the handler what the namespace shows (a nested read-only
/// grant read-only, a map's own tree in place of the host's). Deepest
/// first. Not for symlinks granted as themselves (either side), nor for
/// grants added later (`add`: the copies may be the helper's, which is
/// gone).
pub fn cover_plan(specs: &[GrantSpec]) -> Vec<sys::Cover> {
    // The kernel's own file systems below each grant's host path first
    // (`sys::PSEUDO`), shallowest first: one covered hides those below it.
    let mut first = Vec::new();
    let pseudo = sys::pseudo_mounts();
    for (i, s) in specs.iter().enumerate().filter(|(_, s)| !s.link) {
        let host = s.host.as_os_str().as_bytes();
        let mut taken: Vec<&[u8]> = Vec::new();
        for (m, devs) in &pseudo {
            let rel = if host == b"/" { m.strip_prefix(b"/") } else { m.strip_prefix(host).and_then(|r| r.strip_prefix(b"/")) };
            let Some(rel) = rel.filter(|r| !r.is_empty()) else { continue };
            // Below a mount covered already: hidden with it.
            if taken.iter().any(|t| rel.strip_prefix(*t).is_some_and(|r| r.first() == Some(&b'/'))) {
                continue;
            }
            if let Ok(c) = std::ffi::CString::new(rel) {
                taken.push(rel);
                first.push(sys::Cover { inner: None, outer: i, rel: c, devs: devs.clone() });
            }
        }
    }
    let mut plan: Vec<(usize, sys::Cover)> = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        if s.link || s.vpath == b"/" {
            continue;
        }
        let outer = specs
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && !o.link && o.vpath != s.vpath && is_within(&s.vpath, &o.vpath))
            .max_by_key(|(_, o)| o.vpath.len());
        let Some((j, o)) = outer else { continue };
        let rel = s.vpath[o.vpath.len()..].strip_prefix(b"/").unwrap_or(&s.vpath[o.vpath.len()..]);
        let Ok(rel) = std::ffi::CString::new(rel) else { continue };
        plan.push((s.vpath.iter().filter(|&&b| b == b'/').count(), sys::Cover { inner: Some(i), outer: j, rel, devs: Vec::new() }));
    }
    plan.sort_by(|a, b| b.0.cmp(&a.0));
    first.extend(plan.into_iter().map(|(_, c)| c));
    first
}

/// The virtual directories a kept directory `k` makes: itself (unless a
/// grant is there) and each ancestor that is no grant, holding the next
/// name.
fn add_kept(vdirs: &mut BTreeMap<Vec<u8>, BTreeSet<Vec<u8>>>, by_vpath: &HashMap<Vec<u8>, usize>, k: &[u8]) {
    let mut child = k.to_vec();
    if !by_vpath.contains_key(&child) {
        vdirs.entry(child.clone()).or_default();
    }
    while child != b"/" {
        let p = parent(&child).to_vec();
        let name = child[child.iter().rposition(|&b| b == b'/').unwrap() + 1..].to_vec();
        if !by_vpath.contains_key(&p) {
            vdirs.entry(p.clone()).or_default().insert(name);
        }
        child = p;
    }
}

/// A symlink's `target` put in the walk's place: its names first in the
/// queue, the walk back at the root for an absolute one (the names walked
/// so far gone). An empty target names nothing.
fn splice_link(target: &[u8], stack: &mut Vec<(Vec<u8>, Level)>, queue: &mut VecDeque<Vec<u8>>) -> Result<(), i32> {
    if target.is_empty() {
        return Err(libc::ENOENT);
    }
    if target[0] == b'/' {
        stack.clear();
    }
    for comp in components(target).rev() {
        queue.push_front(comp.to_vec());
    }
    Ok(())
}

fn full_vpath(comps: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for c in comps {
        v.push(b'/');
        v.extend_from_slice(c);
    }
    if v.is_empty() {
        v.push(b'/');
    }
    v
}

/// The last component of a path, if it is `.` or `..` (or the path is
/// only slashes: then `Some(b"/")`).
pub fn dot_last(path: &[u8]) -> Option<&'static [u8]> {
    match components(path).next_back() {
        None if !path.is_empty() => Some(b"/"),
        Some(b".") => Some(b"."),
        Some(b"..") => Some(b".."),
        _ => None,
    }
}

impl Node {
    /// The errno of "this must exist" for a node that does not.
    pub fn existing(self) -> SysResult<Existing> {
        match self {
            Node::Virtual(v) => Ok(Existing::Virtual(v)),
            Node::Existing(o) => Ok(Existing::Real(o)),
            Node::Missing { .. } | Node::MissingVirtual => Err(libc::ENOENT),
        }
    }
}

/// A node that exists.
pub enum Existing {
    Virtual(Vec<u8>),
    Real(Obj),
}

#[cfg(test)]
pub mod tests;
