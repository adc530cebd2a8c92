//! What each request does on the host for the session: the checks, the
//! resolution in the namespace, and the call on what it found, by fd.
//!
//! Semantics the client can rely on (see also ns.rs):
//! - Read-only grants behave like read-only mounts: every write (open for
//!   writing or O_TRUNC or creating, mkdir, unlink, rename, link, symlink,
//!   truncate, chmod, utimens, access W_OK, bind) fails with EROFS, after
//!   the checks the kernel makes first (ENOENT, EEXIST, EISDIR, ENOTDIR).
//!   As on a read-only mount, device nodes, fifos and sockets in them may be
//!   opened for writing (/dev/null). Virtual directories are read-only too.
//! - Only `exec` and `rw` grants hold programs: Exec and access(X_OK) of a
//!   regular file in an `ro` grant fail with EACCES (a noexec mount).
//! - Grants are separate file systems: rename and link between two grants
//!   fail with EXDEV; unlink/rmdir/rename of a grant's root with EBUSY.
//! - connect() needs an rw grant (EACCES otherwise): a socket is a channel
//!   to a process outside the session.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use preld_proto::{self as proto, Base, PathArg, Request, MAX_PATH, OPEN_VIRTUAL_DIR};

use super::{ReqState, Server};
use crate::pola::ns::{self, Existing, Mode, Node, Obj};
use crate::pola::sys::{self, Errno, SysResult, CONFINED};

/// What a request produced.
pub(super) enum Data {
    None,
    Hello(u32),
    Open(u32),
    Stat(Box<[u8; proto::STAT_SIZE]>),
    Bytes(Vec<u8>),
    Dir(Vec<(u64, u8, Vec<u8>)>),
    Exec(Vec<u8>, Vec<u8>),
    /// A count as the reply's result (SendUnix: bytes sent).
    Count(usize),
    Owners(Vec<proto::Owner>),
}

pub(super) struct Answer {
    pub(super) result: SysResult<Data>,
    pub(super) fd: Option<OwnedFd>,
    /// An open left to a thread (`open_later`), which sends the reply.
    pub(super) later: Option<Later>,
}

impl Answer {
    fn data(d: Data) -> Answer {
        Answer { result: Ok(d), fd: None, later: None }
    }
    fn with_fd(d: Data, fd: OwnedFd) -> Answer {
        Answer { result: Ok(d), fd: Some(fd), later: None }
    }
    pub(super) fn err(e: Errno) -> Answer {
        Answer { result: Err(e), fd: None, later: None }
    }
}

/// An open that may wait on a client (a FIFO: the pipe's lock, which a
/// client's splice() may hold even against O_NONBLOCK; a device: its
/// driver's open), to be made on a thread of its own (`open_later`).
pub(super) struct Later {
    /// O_PATH fd of the object.
    pub(super) fd: OwnedFd,
    pub(super) flags: i32,
    pub(super) mode: u32,
    /// ConnectOwn of a stream or seqpacket socket: the program's socket,
    /// connected to `fd`'s socket on the thread instead of an open (its
    /// connect waits for room in the listener's backlog unless the open
    /// file has O_NONBLOCK, which the program may clear at any moment).
    pub(super) connect: Option<OwnedFd>,
    /// Opened as asked, waiting as natively (a FIFO's other end: the
    /// client's wait ends with its signals); else never waiting
    /// (O_NONBLOCK, cleared after unless asked for).
    pub(super) waits: bool,
}

/// What `open` made.
enum Opened {
    Now(OwnedFd, u32),
    Later(Later),
}

/// Set-user-ID and set-group-ID bits: a session makes no file that runs
/// with its owner's authority outside it (a root session's setuid-root
/// file would make anyone who runs it root on the host). Creations drop
/// them, chmod with them is EPERM (the seccomp filter refuses the same
/// for fchmod and fchmodat made around the handler).
const SET_ID: u32 = libc::S_ISUID | libc::S_ISGID;

/// How many names of sockets it bound the server keeps (`Server::bound`):
/// each may hold a directory fd (and no more than a quarter of the fd
/// budget).
const MAX_BOUND: usize = 4096;

const O_ALLOWED: i32 = libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_SYNC
    | libc::O_DIRECT
    | libc::O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_TMPFILE
    | libc::O_ASYNC;

fn unit(r: SysResult<()>) -> Answer {
    match r {
        Ok(()) => Answer::data(Data::None),
        Err(e) => Answer::err(e),
    }
}

impl Server {
    /// The virtual directory a relative path of `p` starts from.
    fn start(&self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Vec<u8>> {
        if p.path.first() == Some(&b'/') {
            return Ok(b"/".to_vec());
        }
        match p.base {
            Base::Cwd => Ok(self.conns[i].cwd.clone()),
            Base::Fd(k) => self.dir_of_fd(fds[k as usize].as_fd()),
        }
    }

    /// The virtual path of a directory fd the server handed out, or that
    /// the client opened itself beneath a grant (handler/src/beneath.rs).
    /// A client's fd, which may be anything: looked at with fstat_cached
    /// only (no wait on it), ENOTDIR if it is no directory, as the kernel's
    /// *at() calls.
    fn dir_of_fd(&self, fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
        let st = sys::fstat_cached(fd, sys::STATX_CHECK)?;
        if sys::file_type(&st) != libc::S_IFDIR {
            return Err(libc::ENOTDIR);
        }
        // On a grant's copy (handed out by the server, or opened by the
        // client beneath a grant): where it is now. The virtual path it was
        // handed out at is stale once it was renamed (natively `openat(fd,
        // NAME, O_CREAT)` follows the directory), or removed (ENOENT).
        if self.grant_of_mount(fd).is_some() {
            let (g, inside) = self.place_of_fd(fd)?;
            return Ok(ns::normalize(&ns::join(&self.ns.grants[g].vpath, &inside)));
        }
        // A virtual directory's stand-in.
        if let Some(v) = self.dirs.get(&(st.st_dev, st.st_ino)) {
            return Ok(v.clone());
        }
        // On a mount inside a grant's copy (the copies hold the host's
        // mounts below them: `--ro /` and /run/user/N).
        let (g, inside) = self.place_in_submount(fd, &st).ok_or(libc::ENOENT)?;
        Ok(ns::normalize(&ns::join(&self.ns.grants[g].vpath, &inside)))
    }

    /// The grant and place of a client's fd on a mount that lies inside a
    /// grant's copy (its mount is no grant's): the path the kernel keeps
    /// for it runs from the root of the detached tree it was opened in, and
    /// the grant is the one whose copy holds, at that path, the same object
    /// (device and inode), confined beneath its root. One such grant only
    /// (the same object at the same place in two grants' copies says
    /// nothing of which it came through: None). For naming and for the base
    /// of relative paths, which the server then walks from the virtual
    /// root as any other; never for what an fd itself may do.
    pub(super) fn place_in_submount(&self, fd: BorrowedFd<'_>, st: &sys::Stat) -> Option<(usize, Vec<u8>)> {
        let inside = std::fs::read_link(sys::proc_fd(fd)).ok()?;
        let inside = inside.as_os_str().as_bytes();
        if !inside.starts_with(b"/") || inside.ends_with(b" (deleted)") {
            return None;
        }
        let rel: &[u8] = if inside.len() == 1 { b"." } else { &inside[1..] };
        use rustix::fs::ResolveFlags;
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS | ResolveFlags::NO_SYMLINKS;
        let mut found = None;
        for (k, g) in self.ns.grants.iter().enumerate().filter(|(_, g)| g.live && g.is_dir) {
            let Ok(there) = sys::openat2(g.root.as_fd(), rel, libc::O_PATH | libc::O_CLOEXEC, 0, resolve) else { continue };
            let same = sys::fstat(there.as_fd()).is_ok_and(|t| (t.st_dev, t.st_ino) == (st.st_dev, st.st_ino));
            if same {
                if found.is_some() {
                    return None;
                }
                found = Some((k, inside[1..].to_vec()));
            }
        }
        found
    }

    /// What a client's fd names, as its /proc/self/fd link: a path of the
    /// namespace for a grant's object or a virtual directory's stand-in,
    /// else the kernel's name (`pipe:[N]`, `socket:[N]`, a terminal's
    /// path).
    fn name_of_fd(&self, fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
        if self.grant_of_mount(fd).is_some() {
            let (g, inside) = self.place_of_fd(fd)?;
            return Ok(ns::normalize(&ns::join(&self.ns.grants[g].vpath, &inside)));
        }
        let st = sys::fstat_cached(fd, sys::STATX_CHECK)?;
        if let Some(v) = self.dirs.get(&(st.st_dev, st.st_ino)) {
            return Ok(v.clone());
        }
        if let Some((g, inside)) = self.place_in_submount(fd, &st) {
            return Ok(ns::normalize(&ns::join(&self.ns.grants[g].vpath, &inside)));
        }
        let kernel = std::fs::read_link(sys::proc_fd(fd)).map_err(|_| libc::ENOENT)?;
        let kernel = kernel.as_os_str().as_bytes();
        match sys::file_type(&st) {
            libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK if kernel.starts_with(b"/") => Err(libc::ENOENT),
            _ => Ok(kernel.to_vec()),
        }
    }

    /// The grant whose detached copy `fd` lies on.
    pub(super) fn grant_of_mount(&self, fd: BorrowedFd<'_>) -> Option<usize> {
        let mnt = sys::mount_id(fd).ok()?;
        self.ns.grants.iter().position(|g| g.mnt_id == Some(mnt))
    }

    /// The grant a client's fd lies in and its place there (relative to
    /// the grant's root): the grant is the one whose detached copy the
    /// object is on (its mount), the place the path the kernel keeps for
    /// the fd below the copy's root (which reads `/`). ENOENT when it is
    /// on no grant's copy, or was removed.
    fn place_of_fd(&self, fd: BorrowedFd<'_>) -> SysResult<(usize, Vec<u8>)> {
        let g = self.grant_of_mount(fd).ok_or(libc::ENOENT)?;
        let inside = std::fs::read_link(sys::proc_fd(fd)).map_err(|_| libc::ENOENT)?;
        let inside = inside.as_os_str().as_bytes();
        if !inside.starts_with(b"/") || inside.ends_with(b" (deleted)") {
            return Err(libc::ENOENT);
        }
        Ok((g, inside[1..].to_vec()))
    }


    /// What a client's fd on grant `g`'s copy may do at `inside` (its place
    /// below the copy's root, as the kernel keeps it; None when unknown):
    /// the weakest mode of `g` and of the grants nested in it that hold that
    /// place. A grant nested in another of the same host objects (`--rw OUT
    /// --ro OUT/sealed`) lies in the outer grant's copy too: judged by the
    /// mount alone, a file of OUT/sealed opened through OUT's copy was
    /// reopened for writing, fchmod'ed, fchown'ed and run (attack `nested`).
    fn mode_at(&self, g: usize, inside: Option<&[u8]>) -> Mode {
        let outer = &self.ns.grants[g];
        let place = inside.map(|i| ns::normalize(&ns::join(&outer.vpath, i)));
        self.ns
            .grants
            .iter()
            .filter(|n| n.live && ns::is_within(&n.vpath, &outer.vpath))
            .filter(|n| place.as_ref().is_none_or(|v| ns::is_within(v, &n.vpath)))
            .map(|n| n.mode)
            .fold(outer.mode, Mode::min)
    }

    /// Whether `inside` (a place below grant `g`'s copy root, as the kernel
    /// keeps it; None when unknown: anywhere) lies beneath a grant nested
    /// in `g` that is not the object `g`'s copy holds there: a map (`--ro
    /// H --map H/hidden=EMPTY`) or a placeholder of the private /tmp. H's
    /// copy still holds the host's H/hidden; the server hands out fds of H
    /// on it, beneath which an O_PATH open around the handler is no
    /// Landlock matter, and such an fd of H/hidden/key sent back (a reopen
    /// of /proc/self/fd/N, fchown, utimensat, fexecve) was read, written
    /// and run as a file of H (session-20 adversary, test
    /// `a_map_s_hidden_files_are_not_reached_through_fds_of_the_outer_grant`).
    /// A nested grant of the same host object (`--rw OUT --ro OUT/sealed`)
    /// shadows nothing: `mode_at` judges it.
    pub(super) fn shadowed(&self, g: usize, inside: Option<&[u8]>) -> bool {
        let outer = &self.ns.grants[g];
        let place = inside.map(|i| ns::normalize(&ns::join(&outer.vpath, i)));
        self.ns
            .grants
            .iter()
            .filter(|n| n.live && n.vpath != outer.vpath && ns::is_within(&n.vpath, &outer.vpath))
            .filter(|n| place.as_ref().is_none_or(|v| ns::is_within(v, &n.vpath)))
            .any(|n| {
                let rel = n.vpath.strip_prefix(outer.vpath.as_slice()).unwrap_or(&n.vpath);
                let rel = &rel[rel.iter().position(|&c| c != b'/').unwrap_or(rel.len())..];
                let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                // (Not there on the copy, or not reached without a
                // symlink: not the same object, shadowed.)
                !sys::openat2(outer.root.as_fd(), rel, flags, 0, sys::CONFINED)
                    .and_then(|f| sys::fstat(f.as_fd()))
                    .is_ok_and(|t| (t.st_dev, t.st_ino) == (n.st.st_dev, n.st.st_ino))
            })
    }

    /// Whether a client's fd on grant `g`'s copy lies at a place the
    /// namespace gives another object (`shadowed`): its place as the kernel
    /// keeps it (an unlinked file's is where it was; none known: anywhere).
    pub(super) fn shadowed_fd(&self, g: usize, fd: BorrowedFd<'_>) -> bool {
        let link = std::fs::read_link(sys::proc_fd(fd)).ok();
        let inside = link.as_ref().map(|l| l.as_os_str().as_bytes()).and_then(|l| {
            let l = l.strip_suffix(b" (deleted)").unwrap_or(l);
            l.strip_prefix(b"/")
        });
        self.shadowed(g, inside)
    }

    /// The objects (device, inode) the grants' copies hold where the
    /// namespace shows another grant's (`shadowed`: a map's hidden host
    /// directory or file, the private /tmp's placeholders), which no name
    /// of the session reaches: the owners' listings and walker leave them
    /// out.
    pub(super) fn shadow_ids(&self) -> Vec<(u64, u64)> {
        let mut ids = Vec::new();
        for outer in self.ns.grants.iter().filter(|g| g.live && g.is_dir) {
            for n in self.ns.grants.iter().filter(|n| n.live && n.vpath != outer.vpath && ns::is_within(&n.vpath, &outer.vpath)) {
                let rel = n.vpath.strip_prefix(outer.vpath.as_slice()).unwrap_or(&n.vpath);
                let rel = &rel[rel.iter().position(|&c| c != b'/').unwrap_or(rel.len())..];
                let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                if let Ok(st) = sys::openat2(outer.root.as_fd(), rel, flags, 0, sys::CONFINED).and_then(|f| sys::fstat(f.as_fd())) {
                    if (st.st_dev, st.st_ino) != (n.st.st_dev, n.st.st_ino) {
                        ids.push((st.st_dev, st.st_ino));
                    }
                }
            }
        }
        ids
    }

    /// A stand-in handed out stands for `vpath` (grants' directories are
    /// found by their mount and path instead: `dir_of_fd`).
    fn remember_dir(&mut self, st: &sys::Stat, vpath: &[u8]) {
        if sys::file_type(st) == libc::S_IFDIR {
            self.dirs.insert((st.st_dev, st.st_ino), vpath.to_vec());
        }
    }

    /// Resolves a path argument. An empty path with `empty_ok` names the
    /// base itself (AT_EMPTY_PATH, fchdir). A path outside the namespace
    /// may be granted by the user (`--ask`, `ask_for`), and what is reached
    /// is noted for `--learn`.
    fn resolve(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], follow: bool, empty_ok: bool) -> SysResult<Node> {
        let start = self.start(i, p, fds)?;
        let (path, follow): (&[u8], bool) = match p.path.is_empty() {
            true if !empty_ok => return Err(libc::ENOENT),
            true => (b".", true),
            false => (p.path, follow),
        };
        let mut r = self.ns.resolve(&start, path, follow);
        if matches!(r, Ok(Node::MissingVirtual) | Err(libc::ENOENT)) {
            if let Some(v) = self.ns.take_outside() {
                if handlers_name(&v) {
                    // (The session's /proc through a symlink or `..`: the
                    // handler makes the call again with this path.)
                    self.req.elsewhere = Some(v);
                    return Err(proto::ELSEWHERE);
                }
                if self.ask_for(i, &v) {
                    r = self.ns.resolve(&start, path, follow);
                }
            }
        }
        if let (Some(_), Ok(node)) = (&self.learner, &r) {
            // The path as named, when it says where it leads (no `..`,
            // which the walk takes after symlinks): an object reached
            // through a symlink is learned at the name the program used.
            let named = (!path.split(|&c| c == b'/').any(|c| c == b"..")).then(|| ns::normalize(&ns::join(&start, path)));
            self.note_learned(named, node);
        }
        r
    }

    /// `--ask`: the user's answer for `vpath`, outside the namespace. If
    /// the same path exists on the host (for an open that creates: its
    /// directory), asks, and on an allow adds a grant of it (true). The
    /// host object is pinned (device, inode) before the question; the grant
    /// must copy that same object.
    fn ask_for(&mut self, i: usize, vpath: &[u8]) -> bool {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        use super::powerbox::Want;
        let (Some(want), Some(_)) = (self.req.want, &self.powerbox) else { return false };
        // The host kernel's views of its processes and devices: a session
        // has none (/proc/self there would be the launcher).
        if ns::is_within(vpath, b"/proc") || ns::is_within(vpath, b"/sys") {
            return false;
        }
        let named = std::path::Path::new(std::ffi::OsStr::from_bytes(vpath));
        let mut special = None;
        let (host, want, pin, is_dir) = match std::fs::canonicalize(named).and_then(|h| std::fs::metadata(&h).map(|m| (h, m))) {
            Ok((h, m)) => {
                use std::os::unix::fs::FileTypeExt;
                let t = m.file_type();
                special = if t.is_socket() {
                    Some("socket")
                } else if t.is_char_device() || t.is_block_device() {
                    Some("device")
                } else if t.is_fifo() {
                    Some("FIFO")
                } else {
                    None
                };
                (h, want, Some((m.dev(), m.ino())), m.is_dir())
            }
            Err(_) if self.req.creat => {
                // Its directory exists and the name does not (not even as
                // a dangling symlink).
                let (Some(dir), Some(name)) = (named.parent(), named.file_name()) else { return false };
                let Ok(dir) = std::fs::canonicalize(dir) else { return false };
                let host = dir.join(name);
                if !dir.is_dir() || std::fs::symlink_metadata(&host).is_ok() {
                    return false;
                }
                (host, Want::Create, None, false)
            }
            Err(_) => return false,
        };
        if is_dir && self.req.look {
            return false;
        }
        let Some(pb) = self.powerbox.as_mut() else { return false };
        let running = self.conns[i].running.as_deref();
        let Some((spec, once)) = pb.decide(vpath, &host, want, is_dir, special, running) else { return false };
        let pin = match pin {
            Some(p) => p,
            None => {
                // Made now, as the user's, with the mode the program gave.
                let made = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(self.req.create_mode)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(&host)
                    .and_then(|f| f.metadata());
                match made {
                    Ok(m) => {
                        self.req.created = true;
                        (m.dev(), m.ino())
                    }
                    Err(e) => {
                        (self.log)(&format!("preld pola: --ask: cannot create {}: {e}", host.display()));
                        return false;
                    }
                }
            }
        };
        match self.ns.add(&spec, Some(pin)) {
            Ok(g) => {
                let gr = &self.ns.grants[g];
                if gr.is_dir {
                    let (key, v) = ((gr.st.st_dev, gr.st.st_ino), gr.vpath.clone());
                    self.dirs.insert(key, v);
                }
                if once {
                    self.req.once.push(g);
                }
                true
            }
            Err(e) => {
                (self.log)(&format!("preld pola: --ask: {e}"));
                false
            }
        }
    }

    /// `--learn`: notes what `node` is to this request (`ReqState::uses`).
    fn note_learned(&mut self, named: Option<Vec<u8>>, node: &Node) {
        use super::learn::Use;
        let Some(uses) = self.req.uses else { return };
        // A symlink itself (lstat, readlink, a link() of it) is not learned:
        // a profile grants the object a path leads to, so a grant of the
        // link's name would grant its target, which the run never reached
        // (a link in a read-only grant to a secret: session-20b adversary,
        // test `a_symlink_looked_at_is_not_learned_as_its_target`).
        if let (Use::Object { .. } | Use::Link, Node::Existing(o)) = (uses, node) {
            if sys::file_type(&o.st) == libc::S_IFLNK {
                return;
            }
        }
        // (grant, virtual path, mode, only looked at, at the name used).
        let (g, v, mode, look, alias) = match (uses, node) {
            (Use::Object { mode, look, probe, .. }, Node::Existing(o)) => {
                // access() of a directory: a look, read-only.
                let (mode, look) = match probe && sys::file_type(&o.st) == libc::S_IFDIR {
                    true => (Mode::Ro, true),
                    false => (mode, look),
                };
                (o.grant, o.vpath.clone(), mode, look, true)
            }
            (Use::Link, Node::Existing(o)) => (o.grant, o.vpath.clone(), Mode::Ro, false, true),
            (Use::Directory, Node::Existing(o)) => (o.grant, ns::parent(&o.vpath).to_vec(), Mode::Rw, false, false),
            (Use::Object { create: true, .. } | Use::Directory | Use::Link, Node::Missing { grant, vpath, .. }) => {
                (*grant, ns::parent(vpath).to_vec(), Mode::Rw, false, false)
            }
            _ => return,
        };
        let gv = &self.ns.grants[g].vpath;
        let Some(learner) = &mut self.learner else { return };
        if !learner.learns(gv) || !ns::is_within(&v, gv) {
            return;
        }
        let host = self.ns.host_path(g, &v);
        let at = match named {
            Some(n) if alias && n != v => n,
            _ => v,
        };
        // A grant's own mode bounds what it gave.
        learner.note(at, host, mode.min(self.ns.grants[g].mode), look);
    }

    /// What a request wants of its paths (`ReqState`).
    fn purpose(req: &Request<'_>) -> ReqState {
        use super::learn::Use;
        use super::powerbox::Want;
        let obj = |mode, look| Some(Use::Object { mode, look, create: false, probe: false });
        let probe = |mode| Some(Use::Object { mode, look: false, create: false, probe: true });
        let (want, uses) = match *req {
            Request::Open { flags, mode, .. } => {
                let flags = flags as i32;
                let path_only = flags & libc::O_PATH != 0;
                let writes = !path_only && (flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0);
                if flags & libc::O_TMPFILE == libc::O_TMPFILE {
                    (None, obj(Mode::Rw, false))
                } else {
                    let creat = flags & libc::O_CREAT != 0;
                    let mode_ = if writes { Mode::Rw } else { Mode::Ro };
                    let st = ReqState {
                        want: Some(if writes { Want::Write } else { Want::Read }),
                        creat,
                        look: path_only,
                        create_mode: mode & 0o777,
                        uses: Some(Use::Object { mode: mode_, look: path_only, create: creat, probe: false }),
                        ..ReqState::default()
                    };
                    return st;
                }
            }
            Request::Stat { .. } | Request::Readlink { .. } | Request::Chdir { .. } => (Some(Want::Read), obj(Mode::Ro, true)),
            Request::Access { mode, .. } => {
                let mode = mode as i32;
                if mode & libc::W_OK != 0 {
                    (Some(Want::Write), probe(Mode::Rw))
                } else if mode & libc::X_OK != 0 {
                    (Some(Want::Run), probe(Mode::Exec))
                } else {
                    (Some(Want::Read), obj(Mode::Ro, true))
                }
            }
            Request::Exec { .. } => (Some(Want::Run), obj(Mode::Exec, false)),
            Request::Truncate { .. } | Request::Chmod { .. } | Request::Utimens { .. } | Request::Chown { .. } | Request::SendUnix { .. } | Request::ConnectOwn { .. } => {
                (Some(Want::Write), obj(Mode::Rw, false))
            }
            Request::Mkdir { .. } | Request::Mknod { .. } | Request::Unlink { .. } | Request::Rename { .. } | Request::Symlink { .. } | Request::BindUnix { .. } => {
                (None, Some(Use::Directory))
            }
            Request::Link { .. } => (None, Some(Use::Link)),
            Request::Hello | Request::Connect | Request::Getcwd | Request::ReadDir { .. } | Request::Owners { .. } | Request::OwnersTable | Request::Where { .. } => (None, None),
        };
        let look = matches!(uses, Some(Use::Object { look: true, .. }));
        ReqState { want, uses, look, ..ReqState::default() }
    }

    /// Answers a request: what it wants of its paths is set for `resolve`,
    /// and undone after (grants made for it only are retired; what it used
    /// is learned if it succeeded).
    pub(super) fn handle(&mut self, i: usize, req: &Request<'_>, fds: &[OwnedFd]) -> Answer {
        self.req = Self::purpose(req);
        let ans = self.handle_op(i, req, fds);
        let req = std::mem::take(&mut self.req);
        for g in req.once {
            self.ns.retire(g);
        }
        if let Some(l) = &mut self.learner {
            l.done(ans.result.is_ok());
        }
        ans
    }

    fn handle_op(&mut self, i: usize, req: &Request<'_>, fds: &[OwnedFd]) -> Answer {
        match *req {
            Request::Hello => Answer::data(Data::Hello(if self.net { proto::HELLO_NET } else { 0 })),
            // Two fds more, one of them the server's while the connection lasts.
            Request::Connect if self.fds_left() < 2 => Answer::err(libc::EMFILE),
            Request::Connect => match sys::seqpacket_pair() {
                Ok((ours, theirs)) => {
                    let cwd = self.conns[i].cwd.clone();
                    let running = self.conns[i].running.clone();
                    self.add(ours, cwd);
                    if let Some(c) = self.conns.last_mut() {
                        c.running = running;
                    }
                    Answer::with_fd(Data::None, theirs)
                }
                Err(e) => Answer::err(e),
            },
            Request::Open { flags, mode, path } => match self.open(i, &path, fds, flags as i32, mode) {
                Ok(Opened::Now(fd, info)) => Answer::with_fd(Data::Open(info), fd),
                Ok(Opened::Later(later)) => Answer { result: Ok(Data::None), fd: None, later: Some(later) },
                Err(e) => Answer::err(e),
            },
            Request::Stat { flags, path } => match self.stat(i, &path, fds, flags as i32) {
                Ok(st) => Answer::data(Data::Stat(Box::new(sys::stat_bytes(&st)))),
                Err(e) => Answer::err(e),
            },
            Request::Access { mode, flags, path } => unit(self.access(i, &path, fds, mode as i32, flags as i32)),
            Request::Where { flags, path } => {
                let follow = flags as i32 & libc::AT_SYMLINK_NOFOLLOW == 0;
                match self.resolve(i, &path, fds, follow, false) {
                    Err(proto::ELSEWHERE) => Answer::data(Data::Bytes(self.req.elsewhere.take().unwrap_or_default())),
                    // (It leads elsewhere no more: the program's call is
                    // answered as the path now resolves.)
                    Err(e) => Answer::err(e),
                    Ok(_) => Answer::err(libc::EAGAIN),
                }
            }
            Request::Readlink { path } => match self.readlink(i, &path, fds) {
                Ok(b) => Answer::data(Data::Bytes(b)),
                Err(e) => Answer::err(e),
            },
            Request::Mkdir { mode, path } => unit(self.mkdir(i, &path, fds, mode)),
            Request::Mknod { mode, path } => unit(self.mknod(i, &path, fds, mode)),
            Request::Unlink { flags, path } => unit(self.unlink(i, &path, fds, flags as i32)),
            Request::Rename { flags, old, new } => unit(self.rename(i, &old, &new, fds, flags)),
            Request::Link { flags, old, new } => unit(self.link(i, &old, &new, fds, flags as i32)),
            Request::Symlink { target, path } => unit(self.symlink(i, target, &path, fds)),
            Request::Truncate { length, path } => unit(self.truncate(i, &path, fds, length)),
            Request::Chmod { mode, flags, path } => unit(self.chmod(i, &path, fds, mode, flags as i32)),
            Request::Utimens { times, flags, path } => unit(self.utimens(i, &path, fds, &times, flags as i32)),
            Request::Chown { uid, gid, flags, path } => unit(self.chown(i, &path, fds, uid, gid, flags as i32)),
            // The reply is the new cwd: the client keeps it without asking.
            Request::Chdir { path } => match self.chdir(i, &path, fds) {
                Ok(()) => Answer::data(Data::Bytes(self.conns[i].cwd.clone())),
                Err(e) => Answer::err(e),
            },
            Request::Getcwd => Answer::data(Data::Bytes(self.conns[i].cwd.clone())),
            Request::ReadDir { start, path } => match self.readdir(i, &path, fds, start) {
                Ok(list) => Answer::data(Data::Dir(list)),
                Err(e) => Answer::err(e),
            },
            Request::Exec { path } => match self.exec(i, &path, fds) {
                Ok((fd, v, h)) => {
                    self.conns[i].running = Some(v.clone());
                    Answer::with_fd(Data::Exec(v, h), fd)
                }
                Err(e) => Answer::err(e),
            },
            Request::SendUnix { flags, path, data } => match self.send_unix(i, &path, fds, flags as i32, data) {
                Ok(n) => Answer::data(Data::Count(n)),
                Err(e) => Answer::err(e),
            },
            Request::ConnectOwn { path } => match self.connect_own(i, &path, fds) {
                Ok(None) => Answer::data(Data::None),
                Ok(Some(later)) => Answer { result: Ok(Data::None), fd: None, later: Some(later) },
                Err(e) => Answer::err(e),
            },
            Request::BindUnix { ty, path } => match self.bound_unix_socket(i, &path, fds, ty as i32) {
                Ok(fd) => Answer::with_fd(Data::None, fd),
                Err(e) => Answer::err(e),
            },
            Request::Owners { skip, flags } => match self.owners(fds, skip, flags) {
                Ok(list) => Answer::data(Data::Owners(list)),
                Err(e) => Answer::err(e),
            },
            Request::OwnersTable => match self.owners_table() {
                Ok(fd) => Answer::with_fd(Data::None, fd),
                Err(e) => Answer::err(e),
            },
        }
    }

    /// Opens the object of `obj` anew with `flags` (never blocking here:
    /// O_NONBLOCK is added for the open and taken away after unless asked).
    pub(super) fn reopen(fd: BorrowedFd<'_>, flags: i32, mode: u32) -> SysResult<OwnedFd> {
        let want_nb = flags & libc::O_NONBLOCK != 0;
        let f = (flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW))
            | libc::O_CLOEXEC
            | libc::O_NOCTTY
            | libc::O_NONBLOCK;
        let new = sys::reopen(fd, f, mode)?;
        if !want_nb && flags & libc::O_PATH == 0 {
            sys::clear_nonblock(new.as_fd())?;
        }
        Ok(new)
    }

    fn open(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32, mode: u32) -> SysResult<Opened> {
        if flags & !O_ALLOWED != 0 {
            return Err(libc::EINVAL);
        }
        let mode = mode & 0o7777 & !SET_ID;
        let tmpfile = flags & libc::O_TMPFILE == libc::O_TMPFILE;
        let creat = flags & libc::O_CREAT != 0;
        let excl = creat && flags & libc::O_EXCL != 0;
        let path_only = flags & libc::O_PATH != 0;
        let acc = flags & libc::O_ACCMODE;
        let writes = !path_only && (acc != libc::O_RDONLY || flags & libc::O_TRUNC != 0);
        let follow = flags & libc::O_NOFOLLOW == 0 && !excl;
        if let (true, Base::Fd(k)) = (p.path.is_empty(), p.base) {
            // /proc/self/fd/N, /dev/fd/N, /dev/stdin (the client makes them
            // this): a new open of the fd's file, as the kernel's reopen
            // through /proc is. A directory is known by its virtual path; a
            // file by the grant it lies in, whose mode still decides.
            let fd = fds[k as usize].as_fd();
            let st = sys::fstat_cached(fd, sys::STATX_CHECK)?;
            if sys::file_type(&st) != libc::S_IFDIR {
                if creat && excl || tmpfile {
                    return Err(libc::EEXIST);
                }
                // (A read-only grant's FIFO or device opens for writing, as
                // by its path: only a regular file is EROFS there.)
                if writes && sys::file_type(&st) == libc::S_IFREG {
                    self.writable_file_fd(fd)?;
                } else {
                    self.granted_file_fd(fd)?;
                }
                let flags = flags & !(libc::O_CREAT | libc::O_EXCL);
                // As an open by path: a FIFO or a device on a thread, /dev/tty
                // the session's (made here, in the event loop, a client's
                // splice() holding the FIFO's lock stalled every client, and
                // an O_PATH fd of -B's /dev/tty reopened the launcher's
                // terminal; session-20 adversary).
                if !path_only {
                    if let Some(later) = self.open_on_thread(fd, &st, flags, 0)? {
                        return Ok(Opened::Later(later));
                    }
                }
                return Ok(Opened::Now(Self::reopen(fd, flags, 0)?, 0));
            }
        }
        let empty_ok = p.path.is_empty() && matches!(p.base, Base::Fd(_));
        match self.resolve(i, p, fds, follow, empty_ok)? {
            Node::Virtual(vpath) => {
                if excl {
                    return Err(libc::EEXIST);
                }
                if tmpfile {
                    return Err(libc::EROFS);
                }
                if writes || creat {
                    return Err(libc::EISDIR);
                }
                let backing = self.ns.backing(&vpath)?;
                let f = flags & (libc::O_PATH | libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_NOATIME | libc::O_LARGEFILE);
                let fd = Self::reopen(backing, f | libc::O_DIRECTORY, 0)?;
                let st = sys::fstat(fd.as_fd())?;
                self.remember_dir(&st, &vpath);
                Ok(Opened::Now(fd, OPEN_VIRTUAL_DIR))
            }
            Node::MissingVirtual => Err(if creat { libc::EROFS } else { libc::ENOENT }),
            Node::Missing { grant, parent, name, trailing_slash, .. } => {
                if !creat {
                    return Err(libc::ENOENT);
                }
                if trailing_slash {
                    return Err(libc::EISDIR);
                }
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                let want_nb = flags & libc::O_NONBLOCK != 0;
                let f = flags | libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NONBLOCK;
                let fd = sys::unmasked(|| sys::openat2(parent.as_fd(), &name, f, mode, CONFINED))?;
                if !want_nb {
                    sys::clear_nonblock(fd.as_fd())?;
                }
                Ok(Opened::Now(fd, 0))
            }
            Node::Existing(obj) => {
                // (A file the powerbox made for this open is its own.)
                if excl && !self.req.created {
                    return Err(libc::EEXIST);
                }
                let t = sys::file_type(&obj.st);
                let writable = self.ns.grants[obj.grant].mode.writable();
                if t == libc::S_IFLNK {
                    // Only reached with O_NOFOLLOW. O_DIRECTORY is checked
                    // first, as the kernel's do_open does (ENOTDIR, also
                    // with O_PATH).
                    if flags & libc::O_DIRECTORY != 0 {
                        return Err(libc::ENOTDIR);
                    }
                    return if path_only { Self::reopen(obj.fd.as_fd(), libc::O_PATH, 0).map(|f| Opened::Now(f, 0)) } else { Err(libc::ELOOP) };
                }
                if tmpfile {
                    if t != libc::S_IFDIR {
                        return Err(libc::ENOTDIR);
                    }
                    if !writable {
                        return Err(libc::EROFS);
                    }
                    let fd = sys::unmasked(|| sys::reopen(obj.fd.as_fd(), flags | libc::O_CLOEXEC, mode))?;
                    return Ok(Opened::Now(fd, 0));
                }
                if flags & libc::O_DIRECTORY != 0 && t != libc::S_IFDIR {
                    return Err(libc::ENOTDIR);
                }
                if t == libc::S_IFDIR && (writes || (creat && !path_only)) {
                    return Err(libc::EISDIR);
                }
                if writes && !writable && t == libc::S_IFREG {
                    return Err(libc::EROFS);
                }
                if !path_only {
                    if let Some(later) = self.open_on_thread(obj.fd.as_fd(), &obj.st, flags, mode)? {
                        return Ok(Opened::Later(later));
                    }
                }
                let fd = Self::reopen(obj.fd.as_fd(), flags, mode)?;
                Ok(Opened::Now(fd, 0))
            }
        }
    }

    /// The open (not O_PATH) of `fd`'s object (`st`) when it is to be made
    /// on a thread of its own (`Later`), else None: /dev/tty is the
    /// session's controlling terminal, not the launcher's (the user's),
    /// opened on a thread as any terminal (its open takes the tty's lock,
    /// which a client's ioctl on it may hold: TIOCSETD waits up to 5 s for
    /// the line discipline holding it); a FIFO or another device whose open
    /// may wait (`open_may_wait`) is opened there too.
    fn open_on_thread(&self, fd: BorrowedFd<'_>, st: &sys::Stat, flags: i32, mode: u32) -> SysResult<Option<Later>> {
        let t = sys::file_type(st);
        let dup = |f: BorrowedFd<'_>| f.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE));
        if t == libc::S_IFCHR && self.question_tty == Some(st.st_rdev) {
            // The terminal --ask asks on, by its own name (a grant of the
            // host's /dev/pts/N, /proc/self/fd/0 in a profile, a directory
            // holding it) or by an fd of it: the program would write over a
            // question while it waits for the answer, which the paused
            // relay keeps for its own pty only (session-20b adversary, test
            // `a_grant_of_the_terminal_does_not_reach_the_question_s_terminal`).
            return Err(libc::EACCES);
        }
        if t == libc::S_IFCHR && st.st_rdev == libc::makedev(5, 0) {
            let Some(tty) = &self.tty else { return Err(libc::ENXIO) };
            let f = flags & (libc::O_ACCMODE | libc::O_NONBLOCK | libc::O_APPEND);
            return Ok(Some(Later { fd: dup(tty.as_fd())?, flags: f, mode: 0, connect: None, waits: false }));
        }
        if open_may_wait(st) {
            return Ok(Some(Later { fd: dup(fd)?, flags, mode, connect: None, waits: t == libc::S_IFIFO }));
        }
        Ok(None)
    }

    fn stat(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<sys::Stat> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) != 0 {
            return Err(libc::EINVAL);
        }
        let empty = flags & libc::AT_EMPTY_PATH != 0;
        if p.path.is_empty() && empty {
            if let Base::Fd(k) = p.base {
                // A client's fd: what the kernel has at hand (fstat could
                // wait for a network or FUSE file system's server).
                return sys::fstat_cached(fds[k as usize].as_fd(), libc::STATX_BASIC_STATS);
            }
        }
        let node = self.resolve(i, p, fds, flags & libc::AT_SYMLINK_NOFOLLOW == 0, empty)?;
        match node.existing()? {
            Existing::Virtual(v) => sys::fstat(self.ns.backing(&v)?),
            Existing::Real(o) => Ok(o.st),
        }
    }

    fn access(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: i32, flags: i32) -> SysResult<()> {
        if mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0
            || flags & !(libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0
        {
            return Err(libc::EINVAL);
        }
        let node = self.resolve(
            i,
            p,
            fds,
            flags & libc::AT_SYMLINK_NOFOLLOW == 0,
            flags & libc::AT_EMPTY_PATH != 0,
        )?;
        match node.existing()? {
            Existing::Virtual(_) => {
                if mode & libc::W_OK != 0 {
                    Err(libc::EROFS)
                } else {
                    Ok(())
                }
            }
            Existing::Real(o) => {
                sys::access_fd(o.fd.as_fd(), mode, flags & libc::AT_EACCESS)?;
                let t = sys::file_type(&o.st);
                let gm = self.ns.grants[o.grant].mode;
                if mode & libc::W_OK != 0 && !gm.writable() && matches!(t, libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK) {
                    return Err(libc::EROFS);
                }
                if mode & libc::X_OK != 0 && !gm.executable() && t == libc::S_IFREG {
                    return Err(libc::EACCES);
                }
                Ok(())
            }
        }
    }

    fn readlink(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Vec<u8>> {
        if let (true, Base::Fd(k)) = (p.path.is_empty(), p.base) {
            // /proc/self/fd/N: what the fd names in the namespace, or the
            // kernel's name for what is no path (pipe:[N], socket:[N]).
            let fd = fds.get(k as usize).ok_or(libc::EBADF)?.as_fd();
            return self.name_of_fd(fd);
        }
        match self.resolve(i, p, fds, false, false)?.existing()? {
            Existing::Real(o) if sys::file_type(&o.st) == libc::S_IFLNK => {
                let b = sys::readlink_fd(o.fd.as_fd())?;
                if b.len() > MAX_PATH {
                    return Err(libc::ENAMETOOLONG);
                }
                Ok(b)
            }
            _ => Err(libc::EINVAL),
        }
    }

    /// Where a new name goes: its grant's parent directory and name.
    /// `exists`: the errno when it already exists.
    fn new_name(&self, node: Node, exists: Errno) -> SysResult<(usize, std::rc::Rc<OwnedFd>, Vec<u8>)> {
        match node {
            Node::Missing { grant, parent, name, trailing_slash, .. } => {
                if trailing_slash {
                    return Err(libc::ENOENT);
                }
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                Ok((grant, parent, name))
            }
            Node::MissingVirtual => Err(libc::EROFS),
            Node::Virtual(_) | Node::Existing(_) => Err(exists),
        }
    }

    fn mkdir(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: u32) -> SysResult<()> {
        if ns::dot_last(p.path).is_some() {
            return Err(libc::EEXIST);
        }
        match self.resolve(i, p, fds, false, false)? {
            Node::Missing { grant, parent, name, .. } => {
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                sys::unmasked(|| sys::mkdirat(parent.as_fd(), &name, mode & 0o7777 & !SET_ID))
            }
            Node::MissingVirtual => Err(libc::EROFS),
            _ => Err(libc::EEXIST),
        }
    }

    /// mknod of a FIFO, a socket or a regular file in a read-write grant
    /// (a device needs CAP_MKNOD, which no session has: EPERM, as the
    /// kernel says without it).
    fn mknod(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: u32) -> SysResult<()> {
        // The kernel's order: the type first (a directory: EPERM), then
        // EEXIST, EROFS, and a device's missing CAP_MKNOD last.
        let kind = mode & libc::S_IFMT;
        let device = matches!(kind, libc::S_IFCHR | libc::S_IFBLK);
        if !device && !matches!(kind, 0 | libc::S_IFREG | libc::S_IFIFO | libc::S_IFSOCK) {
            return Err(if kind == libc::S_IFDIR { libc::EPERM } else { libc::EINVAL });
        }
        if ns::dot_last(p.path).is_some() {
            return Err(libc::EEXIST);
        }
        match self.resolve(i, p, fds, false, false)? {
            Node::Missing { grant, parent, name, trailing_slash, .. } => {
                if trailing_slash {
                    return Err(libc::ENOENT);
                }
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                if device {
                    return Err(libc::EPERM);
                }
                let kind = if kind == 0 { libc::S_IFREG } else { kind };
                sys::unmasked(|| sys::mknodat(parent.as_fd(), &name, kind | (mode & 0o7777 & !SET_ID)))
            }
            Node::MissingVirtual => Err(libc::EROFS),
            _ => Err(libc::EEXIST),
        }
    }

    /// The parent and name of an existing object that a write may change.
    fn changeable(&self, o: &Obj) -> SysResult<(std::rc::Rc<OwnedFd>, Vec<u8>)> {
        let Some((parent, name)) = &o.parent else { return Err(libc::EBUSY) };
        if !self.ns.grants[o.grant].mode.writable() {
            return Err(libc::EROFS);
        }
        Ok((parent.clone(), name.clone()))
    }

    /// Whether `o` is a directory above a grant nested in its own. A grant
    /// is a virtual path: such a directory moved (`--rw OUT --ro
    /// OUT/sub/sealed`, OUT/sub renamed to OUT/sub2) takes the nested
    /// grant's files to a name of the outer grant, where they were written
    /// (attack `nested`). Refused as a mount point's move is (EBUSY).
    fn holds_grant(&self, o: &Obj) -> bool {
        sys::file_type(&o.st) == libc::S_IFDIR
            && self.ns.grants.iter().any(|n| n.live && n.vpath != o.vpath && ns::is_within(&n.vpath, &o.vpath))
    }

    fn unlink(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<()> {
        if flags & !libc::AT_REMOVEDIR != 0 {
            return Err(libc::EINVAL);
        }
        let rmdir = flags & libc::AT_REMOVEDIR != 0;
        match ns::dot_last(p.path) {
            Some(b".") if rmdir => return Err(libc::EINVAL),
            Some(b"..") if rmdir => return Err(libc::ENOTEMPTY),
            Some(b"/") if rmdir => return Err(libc::EBUSY),
            Some(_) if !rmdir => return Err(libc::EISDIR),
            _ => {}
        }
        match self.resolve(i, p, fds, false, false)?.existing()? {
            Existing::Virtual(_) => Err(if rmdir { libc::EROFS } else { libc::EISDIR }),
            Existing::Real(o) => {
                let (parent, name) = self.changeable(&o)?;
                sys::unlinkat(parent.as_fd(), &name, flags)
            }
        }
    }

    fn rename(&mut self, i: usize, old: &PathArg<'_>, new: &PathArg<'_>, fds: &[OwnedFd], flags: u32) -> SysResult<()> {
        if flags & !(libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT) != 0 {
            return Err(libc::EINVAL);
        }
        // (do_renameat2's first check: the kernel's EINVAL before any
        // other answer; RENAME_NOREPLACE's EEXIST below came first.)
        if flags & libc::RENAME_EXCHANGE != 0 && flags & (libc::RENAME_NOREPLACE | libc::RENAME_WHITEOUT) != 0 {
            return Err(libc::EINVAL);
        }
        if ns::dot_last(old.path).is_some() || ns::dot_last(new.path).is_some() {
            return Err(libc::EBUSY);
        }
        // A last name with a trailing slash that is a symlink: the kernel's
        // rename takes the link itself, no directory: ENOTDIR. Resolving
        // the path followed it (session-17 adversary: `x` onto `le/`, a
        // symlink to an empty directory `e`, replaced `e`; `le/` renamed
        // `e`).
        for p in [old, new] {
            let bare = &p.path[..p.path.iter().rposition(|&c| c != b'/').map_or(0, |k| k + 1)];
            if !bare.is_empty() && bare.len() < p.path.len() {
                let node = self.resolve(i, &PathArg { base: p.base, path: bare }, fds, false, false);
                if matches!(node, Ok(Node::Existing(ref n)) if sys::file_type(&n.st) == libc::S_IFLNK) {
                    return Err(libc::ENOTDIR);
                }
            }
        }
        let o = match self.resolve(i, old, fds, false, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::EROFS),
            Existing::Real(o) => o,
        };
        let target = self.resolve(i, new, fds, false, false)?;
        // What the kernel answers before it looks at mounts, as it would on
        // the host, where the grants are plain directories (do_renameat2's
        // checks, then vfs_rename's first): the target taken with
        // RENAME_NOREPLACE, one name moved into itself or a directory onto
        // one that holds it, one file onto itself (the same inode: two
        // hard links too), nothing done. A grant's root moved onto itself
        // was EBUSY.
        if flags & libc::RENAME_NOREPLACE != 0 && matches!(target, Node::Existing(_) | Node::Virtual(_)) {
            return Err(libc::EEXIST);
        }
        // RENAME_EXCHANGE with no target is the kernel's ENOENT before it
        // looks for either name inside the other (the way below asks it).
        let exchange_missing = flags & libc::RENAME_EXCHANGE != 0 && !matches!(target, Node::Existing(_) | Node::Virtual(_));
        let to: Option<&[u8]> = match &target {
            _ if exchange_missing => None,
            Node::Existing(n) => Some(&n.vpath),
            Node::Missing { vpath, .. } | Node::Virtual(vpath) => Some(vpath),
            Node::MissingVirtual => None,
        };
        if let Some(to) = to.filter(|&to| to != o.vpath.as_slice()) {
            if ns::is_within(to, &o.vpath) {
                return Err(libc::EINVAL);
            }
            if ns::is_within(&o.vpath, to) {
                return Err(if flags & libc::RENAME_EXCHANGE != 0 { libc::EINVAL } else { libc::ENOTEMPTY });
            }
        }
        // (Not with a trailing slash: resolving the name then followed a
        // symlink the kernel's rename does not, ENOTDIR where the link is
        // not a directory: `d` onto `ld/`, a symlink to `d`, did nothing
        // and said 0.)
        let slash = |p: &[u8]| p.len() > 1 && p.ends_with(b"/");
        if let Node::Existing(n) = &target {
            if (n.st.st_dev, n.st.st_ino) == (o.st.st_dev, o.st.st_ino) && !slash(old.path) && !slash(new.path) {
                return Ok(());
            }
        }
        // A grant's root (a mount point, its parent on the enclosing
        // grant's copy) or a directory holding one: EBUSY, as for a mount
        // point, whatever the new name (session-16 adversary: EXDEV).
        if o.parent.is_none() || self.holds_grant(&o) {
            return Err(libc::EBUSY);
        }
        // Across grants (across mounts) the kernel says EXDEV before it
        // looks at either side's writability: `mv` from a read-only grant
        // into /tmp then copies, as natively (EROFS made it fail).
        if let Node::Existing(Obj { grant, .. }) | Node::Missing { grant, .. } = &target {
            if *grant != o.grant {
                return Err(libc::EXDEV);
            }
        }
        let (op, on) = self.changeable(&o)?;
        let (ng, np, nn) = match target {
            Node::Existing(n) => {
                let (np, nn) = self.changeable(&n)?;
                if self.holds_grant(&n) {
                    return Err(libc::EBUSY);
                }
                (n.grant, np, nn)
            }
            Node::Missing { grant, parent, name, .. } => {
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                (grant, parent, name)
            }
            Node::Virtual(_) | Node::MissingVirtual => return Err(libc::EROFS),
        };
        if ng != o.grant {
            return Err(libc::EXDEV);
        }
        sys::renameat2(op.as_fd(), &on, np.as_fd(), &nn, flags)
    }

    fn link(&mut self, i: usize, old: &PathArg<'_>, new: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        if ns::dot_last(new.path).is_some() {
            return Err(libc::EEXIST);
        }
        let node = self.resolve(i, new, fds, false, false)?;
        let (ng, np, nn) = self.new_name(node, libc::EEXIST)?;
        // linkat(fd, "", ..., AT_EMPTY_PATH), or of `/proc/self/fd/N` with
        // AT_SYMLINK_FOLLOW (open(2)'s way to name an O_TMPFILE): only a
        // file without any name (O_TMPFILE, or unlinked), which can belong
        // to no other grant.
        if old.path.is_empty() && flags & (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_FOLLOW) != 0 {
            let Base::Fd(k) = old.base else { return Err(libc::ENOENT) };
            let fd = fds[k as usize].as_fd();
            let st = sys::fstat_cached(fd, sys::STATX_CHECK)?;
            if sys::file_type(&st) != libc::S_IFREG || st.st_nlink != 0 {
                return Err(libc::EXDEV);
            }
            // The client may have made it itself around the handler:
            // Landlock checks an O_TMPFILE open as a write, not as a
            // creation, and openat2's mode is out of seccomp's sight, so it
            // can hold set-ID bits no creation of the server's gives (a root
            // session linked a setuid-root file into its rw grant; attack
            // `setid`). Nothing can add them after the check.
            if st.st_mode & SET_ID != 0 {
                return Err(libc::EPERM);
            }
            return sys::linkat(sys::CWD, sys::proc_fd(fd).as_bytes(), np.as_fd(), &nn, libc::AT_SYMLINK_FOLLOW);
        }
        let o = match self.resolve(i, old, fds, flags & libc::AT_SYMLINK_FOLLOW != 0, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::EPERM),
            Existing::Real(o) => o,
        };
        if sys::file_type(&o.st) == libc::S_IFDIR {
            return Err(libc::EPERM);
        }
        let Some((op, on)) = &o.parent else { return Err(libc::EXDEV) };
        if o.grant != ng {
            return Err(libc::EXDEV);
        }
        sys::linkat(op.as_fd(), on, np.as_fd(), &nn, 0)
    }

    fn symlink(&mut self, i: usize, target: &[u8], p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<()> {
        if target.is_empty() {
            return Err(libc::ENOENT);
        }
        if ns::dot_last(p.path).is_some() {
            return Err(libc::EEXIST);
        }
        let node = self.resolve(i, p, fds, false, false)?;
        let (_, parent, name) = self.new_name(node, libc::EEXIST)?;
        sys::symlinkat(target, parent.as_fd(), &name)
    }

    /// An existing object (following symlinks unless `nofollow`) that a
    /// metadata write may change.
    fn writable_obj(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<Obj> {
        let node = self.resolve(
            i,
            p,
            fds,
            flags & libc::AT_SYMLINK_NOFOLLOW == 0,
            flags & libc::AT_EMPTY_PATH != 0,
        )?;
        match node.existing()? {
            Existing::Virtual(_) => Err(libc::EROFS),
            Existing::Real(o) => {
                if !self.ns.grants[o.grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                Ok(o)
            }
        }
    }

    fn truncate(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], length: i64) -> SysResult<()> {
        if length < 0 {
            return Err(libc::EINVAL);
        }
        if let (true, Base::Fd(k)) = (p.path.is_empty(), p.base) {
            // A file fd itself (truncate of /proc/self/fd/N: the magic link
            // followed, as natively, whatever the fd's own access): as
            // fchmod; resolved as a directory with an empty name, it was
            // ENOTDIR (session-20 adversary).
            let fd = fds[k as usize].as_fd();
            match sys::file_type(&sys::fstat_cached(fd, sys::STATX_CHECK)?) {
                libc::S_IFDIR => return Err(libc::EISDIR),
                libc::S_IFREG => {}
                _ => return Err(libc::EINVAL),
            }
            match self.writable_file_fd(fd) {
                Err(libc::EOPNOTSUPP) => return Err(libc::EACCES),
                r => r?,
            }
            let fd = Self::reopen(fd, libc::O_WRONLY, 0)?;
            return sys::ftruncate(fd.as_fd(), length);
        }
        let node = self.resolve(i, p, fds, true, false)?;
        let o = match node.existing()? {
            Existing::Virtual(_) => return Err(libc::EISDIR),
            Existing::Real(o) => o,
        };
        match sys::file_type(&o.st) {
            libc::S_IFDIR => return Err(libc::EISDIR),
            libc::S_IFREG => {}
            _ => return Err(libc::EINVAL),
        }
        if !self.ns.grants[o.grant].mode.writable() {
            return Err(libc::EROFS);
        }
        let fd = Self::reopen(o.fd.as_fd(), libc::O_WRONLY, 0)?;
        sys::ftruncate(fd.as_fd(), length)
    }

    fn chmod(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: u32, flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        if let (true, Base::Fd(k)) = (p.path.is_empty() && flags & libc::AT_EMPTY_PATH != 0, p.base) {
            // fchmod of a file fd: as fchown.
            let fd = fds[k as usize].as_fd();
            if sys::file_type(&sys::fstat_cached(fd, sys::STATX_CHECK)?) != libc::S_IFDIR {
                self.writable_file_fd(fd)?;
                if mode & SET_ID != 0 {
                    return Err(libc::EPERM);
                }
                return sys::chmod_fd(fd, mode & 0o7777);
            }
        }
        let o = self.writable_obj(i, p, fds, flags)?;
        if sys::file_type(&o.st) == libc::S_IFLNK {
            return Err(libc::EOPNOTSUPP);
        }
        if mode & SET_ID != 0 {
            return Err(libc::EPERM);
        }
        sys::chmod_fd(o.fd.as_fd(), mode & 0o7777)
    }

    /// chown, lchown, fchownat, fchown (AT_EMPTY_PATH on the fd) in a
    /// writable grant, made with the server's own credentials: the user's,
    /// so the kernel allows what it would allow the user natively.
    fn chown(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], uid: u32, gid: u32, flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        if let (true, Base::Fd(k)) = (p.path.is_empty() && flags & libc::AT_EMPTY_PATH != 0, p.base) {
            // fchown: directories the server handed out are known by their
            // virtual path; another fd by the grant its file lies in.
            let fd = fds[k as usize].as_fd();
            if sys::file_type(&sys::fstat_cached(fd, sys::STATX_CHECK)?) != libc::S_IFDIR {
                return self.chown_file_fd(fd, uid, gid);
            }
        }
        let o = self.writable_obj(i, p, fds, flags)?;
        if sys::file_type(&o.st) == libc::S_IFLNK {
            let Some((parent, name)) = &o.parent else { return Err(libc::EINVAL) };
            return sys::chownat(parent.as_fd(), name, uid, gid, libc::AT_SYMLINK_NOFOLLOW);
        }
        sys::chownat(sys::CWD, sys::proc_fd(o.fd.as_fd()).as_bytes(), uid, gid, 0)
    }

    /// fchown of a client's fd that is no directory: made if its file lies
    /// in a writable grant (its path as the kernel knows it, below the
    /// grant's host root), EROFS in a read-only one, and EOPNOTSUPP when
    /// it is in no grant (a pipe, a socket, an inherited fd): the client
    /// then lets the kernel answer.
    fn chown_file_fd(&self, fd: BorrowedFd<'_>, uid: u32, gid: u32) -> SysResult<()> {
        self.writable_file_fd(fd)?;
        sys::chownat(sys::CWD, sys::proc_fd(fd).as_bytes(), uid, gid, 0)
    }

    /// Whether a client's fd that is no directory is a file of some grant
    /// (Ok), or of none (EOPNOTSUPP: the client lets the kernel answer).
    fn granted_file_fd(&self, fd: BorrowedFd<'_>) -> SysResult<()> {
        match self.writable_file_fd(fd) {
            Ok(()) | Err(libc::EROFS) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether a client's fd that is no directory is a file of a writable
    /// grant: Ok, EROFS (a read-only grant) or EOPNOTSUPP (in no grant: a
    /// pipe, a socket, an inherited fd; the client lets the kernel answer).
    fn writable_file_fd(&self, fd: BorrowedFd<'_>) -> SysResult<()> {
        // The grant is the one whose detached copy the file is on: the
        // mount, not a path (every copy's root reads `/` in /proc, and a
        // host file passed in is on none of them).
        let Some(g) = self.grant_of_mount(fd) else { return Err(libc::EOPNOTSUPP) };
        // (A place the namespace gives another object: none of the grant's.)
        if self.shadowed_fd(g, fd) {
            return Err(libc::EACCES);
        }
        // Its place in the grant (an unlinked file's is where it was; none
        // known: the weakest grant nested anywhere in it).
        let link = std::fs::read_link(sys::proc_fd(fd)).ok();
        let inside = link.as_ref().map(|l| l.as_os_str().as_bytes()).and_then(|l| {
            let l = l.strip_suffix(b" (deleted)").unwrap_or(l);
            l.strip_prefix(b"/")
        });
        if self.mode_at(g, inside).writable() { Ok(()) } else { Err(libc::EROFS) }
    }

    fn utimens(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], times: &[proto::Timespec; 2], flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        if let (true, Base::Fd(k)) = (p.path.is_empty() && flags & libc::AT_EMPTY_PATH != 0, p.base) {
            // A file fd itself (utimensat(fd, "", AT_EMPTY_PATH), or
            // through /proc/self/fd/N): as fchmod (the resolution below
            // takes the fd as a directory: ENOTDIR).
            let fd = fds[k as usize].as_fd();
            if sys::file_type(&sys::fstat_cached(fd, sys::STATX_CHECK)?) != libc::S_IFDIR {
                self.writable_file_fd(fd)?;
                return sys::utimensat(sys::CWD, sys::proc_fd(fd).as_bytes(), times, 0);
            }
        }
        let o = self.writable_obj(i, p, fds, flags)?;
        if sys::file_type(&o.st) == libc::S_IFLNK {
            let Some((parent, name)) = &o.parent else { return Err(libc::EINVAL) };
            return sys::utimensat(parent.as_fd(), name, times, libc::AT_SYMLINK_NOFOLLOW);
        }
        sys::utimensat(sys::CWD, sys::proc_fd(o.fd.as_fd()).as_bytes(), times, 0)
    }

    fn chdir(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<()> {
        let empty_ok = matches!(p.base, Base::Fd(_));
        let resolved = match self.resolve(i, p, fds, true, empty_ok) {
            // A directory of the session's /proc named as such (`cd
            // /proc/self`): the handler looked, the server has no view of
            // it. The cwd is its name (what the walk reached: /proc/self,
            // as the shell's $PWD), and relative names from it are the
            // handler's. Through a symlink or `..` it is ELSEWHERE still:
            // the handler looks at the path it names, then asks again.
            Err(proto::ELSEWHERE) if p.base == Base::Cwd && p.path.starts_with(b"/proc/") && !p.path.split(|&c| c == b'/').any(|c| c == b"..") => {
                self.conns[i].cwd = self.req.elsewhere.take().unwrap_or_else(|| ns::normalize(p.path));
                return Ok(());
            }
            r => r?,
        };
        let vpath = match resolved.existing()? {
            Existing::Virtual(v) => v,
            Existing::Real(o) => {
                if sys::file_type(&o.st) != libc::S_IFDIR {
                    return Err(libc::ENOTDIR);
                }
                sys::access_fd(o.fd.as_fd(), libc::X_OK, 0)?;
                o.vpath
            }
        };
        self.conns[i].cwd = vpath;
        Ok(())
    }

    /// A virtual directory's entries from index `start` on, as many as fit
    /// a reply (the client asks again from where this one stops).
    fn readdir(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], start: u32) -> SysResult<Vec<(u64, u8, Vec<u8>)>> {
        let empty_ok = matches!(p.base, Base::Fd(_));
        let vpath = match self.resolve(i, p, fds, true, empty_ok)?.existing()? {
            Existing::Virtual(v) => v,
            Existing::Real(o) if sys::file_type(&o.st) == libc::S_IFDIR => return Err(libc::EOPNOTSUPP),
            Existing::Real(_) => return Err(libc::ENOTDIR),
        };
        let ino_of = |s: &mut Self, v: &[u8]| -> SysResult<u64> {
            Ok(match s.ns.grant_at(v) {
                Some(g) => s.ns.grants[g].st.st_ino,
                None => sys::fstat(s.ns.backing(v)?)?.st_ino,
            })
        };
        let mut list = vec![
            (ino_of(self, &vpath)?, libc::DT_DIR, b".".to_vec()),
            (ino_of(self, ns::parent(&vpath))?, libc::DT_DIR, b"..".to_vec()),
        ];
        let children: Vec<Vec<u8>> = self.ns.vdir_children(&vpath).cloned().collect();
        for name in children {
            let child = ns::join(&vpath, &name);
            let (ino, t) = match self.ns.grant_at(&child) {
                Some(g) => {
                    let st = &self.ns.grants[g].st;
                    (st.st_ino, dtype(st))
                }
                None => (ino_of(self, &child)?, libc::DT_DIR),
            };
            list.push((ino, t, name));
        }
        list.drain(..(start as usize).min(list.len()));
        // An entry takes ino u64, d_type u8, namelen u8 and the name; the
        // payload also holds the result and the count.
        let budget = proto::MAX_PAYLOAD - 64;
        let mut used = 0;
        let fit = list.iter().take_while(|(_, _, n)| {
            used += 10 + n.len();
            used <= budget
        });
        let fit = fit.count();
        list.truncate(fit);
        Ok(list)
    }

    fn exec(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<(OwnedFd, Vec<u8>, Vec<u8>)> {
        if let (true, Base::Fd(k)) = (p.path.is_empty(), p.base) {
            // execveat(fd, "", AT_EMPTY_PATH), fexecve: the fd's own file,
            // if it lies in a grant that holds programs.
            let fd = fds[k as usize].as_fd();
            if sys::file_type(&sys::fstat_cached(fd, sys::STATX_CHECK)?) != libc::S_IFREG {
                return Err(libc::EACCES);
            }
            let (g, inside) = self.place_of_fd(fd)?;
            if self.shadowed(g, Some(&inside)) || !self.mode_at(g, Some(&inside)).executable() {
                return Err(libc::EACCES);
            }
            sys::access_fd(fd, libc::X_OK, 0)?;
            let new = Self::reopen(fd, libc::O_RDONLY, 0)?;
            let vpath = ns::normalize(&ns::join(&self.ns.grants[g].vpath, &inside));
            let host = self.ns.host_path(g, &vpath).as_os_str().as_bytes().to_vec();
            if vpath.len() > MAX_PATH || host.len() > MAX_PATH {
                return Err(libc::ENAMETOOLONG);
            }
            return Ok((new, vpath, host));
        }
        let o = match self.resolve(i, p, fds, true, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::EACCES),
            Existing::Real(o) => o,
        };
        if sys::file_type(&o.st) != libc::S_IFREG || !self.ns.grants[o.grant].mode.executable() {
            return Err(libc::EACCES);
        }
        sys::access_fd(o.fd.as_fd(), libc::X_OK, 0)?;
        let fd = Self::reopen(o.fd.as_fd(), libc::O_RDONLY, 0)?;
        let host = self.ns.host_path(o.grant, &o.vpath).as_os_str().as_bytes().to_vec();
        if o.vpath.len() > MAX_PATH || host.len() > MAX_PATH {
            return Err(libc::ENAMETOOLONG);
        }
        Ok((fd, o.vpath, host))
    }

    /// The virtual path of a socket the server bound, named as the kernel
    /// keeps it (a program passing on what recvfrom or accept gave it).
    fn bound_name(&self, p: &PathArg<'_>) -> Option<Vec<u8>> {
        match p.base {
            Base::Cwd if p.path.starts_with(b"/proc/self/fd/") => self.bound.get(p.path).map(|(v, _)| v.clone()),
            _ => None,
        }
    }

    /// The socket `p` names for a datagram or a connect of the client's
    /// own socket (its first fd, which must be an AF_UNIX socket): a
    /// socket in a read-write grant, as for connect.
    fn own_socket_target<'f>(&mut self, i: usize, p: &PathArg<'_>, fds: &'f [OwnedFd]) -> SysResult<(BorrowedFd<'f>, Obj)> {
        let sock = fds.first().ok_or(libc::EBADF)?.as_fd();
        if sys::file_type(&sys::fstat_cached(sock, sys::STATX_CHECK)?) != libc::S_IFSOCK {
            return Err(libc::ENOTSOCK);
        }
        // Another family's socket given a Unix address: the kernel's
        // answer, without calling it (an inet socket's connect and send
        // take the socket's lock, which the client may hold).
        if sys::socket_domain(sock)? != libc::AF_UNIX {
            return Err(libc::EAFNOSUPPORT);
        }
        Ok((sock, self.peer_socket(i, p, fds)?))
    }

    /// The socket `p` names (or the kernel's name of one the server bound)
    /// as a peer: in a read-write grant, as connecting to it is a channel
    /// out of the session.
    fn peer_socket(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Obj> {
        let named = self.bound_name(p);
        let p = named.as_ref().map_or(*p, |v| PathArg::cwd(v));
        let o = match self.resolve(i, &p, fds, true, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::ECONNREFUSED),
            Existing::Real(o) => o,
        };
        if !self.ns.grants[o.grant].mode.writable() {
            return Err(libc::EACCES);
        }
        if sys::file_type(&o.st) != libc::S_IFSOCK {
            return Err(libc::ECONNREFUSED);
        }
        Ok(o)
    }

    /// A datagram from the client's socket (its first fd) to the socket
    /// `p` names, which must lie in a read-write grant as for connect.
    /// Never waits: EAGAIN when the receiver has no room (the client asks
    /// again if its call may wait).
    fn send_unix(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32, data: &[u8]) -> SysResult<usize> {
        let (sock, o) = self.own_socket_target(i, p, fds)?;
        if sys::socket_type(sock)? != libc::SOCK_DGRAM {
            return Err(libc::EOPNOTSUPP);
        }
        // The flags a datagram's send may take; the rest are the kernel's
        // EOPNOTSUPP or meaningless here.
        let flags = flags & (libc::MSG_EOR | libc::MSG_CONFIRM | libc::MSG_DONTROUTE | libc::MSG_MORE);
        sys::send_unix(sock, data, flags, sys::proc_fd(o.fd.as_fd()).as_bytes())
    }

    /// The client's own socket (its first fd) connected to the socket `p`
    /// names: a datagram socket here (its connect never waits); a
    /// non-blocking stream or seqpacket socket on a thread of its own
    /// (`Later`): O_NONBLOCK is a flag of the open file, which the client
    /// may clear between the server's look and its connect, and a blocking
    /// connect to a listener whose backlog is full waits (it held every
    /// client of the session).
    fn connect_own(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Option<Later>> {
        let (sock, o) = self.own_socket_target(i, p, fds)?;
        if sys::socket_type(sock)? == libc::SOCK_DGRAM {
            return sys::connect_unix(sock, sys::proc_fd(o.fd.as_fd()).as_bytes()).map(|()| None);
        }
        if !sys::is_nonblocking(sock) {
            return Err(libc::EINVAL);
        }
        let dup = |f: BorrowedFd<'_>| f.try_clone_to_owned().map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE));
        Ok(Some(Later { fd: dup(o.fd.as_fd())?, flags: 0, mode: 0, connect: Some(dup(sock)?), waits: false }))
    }

    /// Keeps the kernel's name `path` of a socket the server bound (through
    /// `dir`, the directory `key` names) as virtual path `vpath`, within
    /// MAX_BOUND names.
    fn remember_bound(&mut self, path: Vec<u8>, vpath: Vec<u8>, key: (u64, u64, u64), dir: std::rc::Rc<OwnedFd>) {
        // A quarter of the fd budget at most (the directories kept count in
        // it: `fds_left`).
        let max = MAX_BOUND.min(self.fd_budget / 4);
        if self.bound.len() >= max && !self.bound.contains_key(&path) {
            // Forget the names whose socket is gone (unlinked, replaced),
            // and the directories no name goes through any more.
            self.bound.retain(|k, (_, d)| {
                let name = &k[k.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1)..];
                let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                sys::openat2(d.as_fd(), name, flags, 0, sys::CONFINED)
                    .and_then(|f| sys::fstat_cached(f.as_fd(), sys::STATX_CHECK))
                    .is_ok_and(|st| sys::file_type(&st) == libc::S_IFSOCK)
            });
            self.bound_dirs.retain(|_, d| std::rc::Rc::strong_count(d) > 1);
            if self.bound.len() >= max {
                return;
            }
        }
        self.bound_dirs.entry(key).or_insert_with(|| dir.clone());
        self.bound.insert(path, (vpath, dir));
    }

    /// A socket of `ty`, made here and bound at the path (in a read-write
    /// grant). (It is of the launcher's network namespace; bound, it takes
    /// no abstract name after. A connect is the program's own socket's:
    /// `connect_own`.)
    fn bound_unix_socket(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], ty: i32) -> SysResult<OwnedFd> {
        let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        if !matches!(base, libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET) {
            return Err(libc::EINVAL);
        }
        let want_nb = ty & libc::SOCK_NONBLOCK != 0;
        let sock = sys::socket(base | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)?;
        let node = self.resolve(i, p, fds, false, false)?;
        let vpath = match &node {
            Node::Missing { vpath, .. } => vpath.clone(),
            _ => Vec::new(),
        };
        let (_, parent, name) = self.new_name(node, libc::EADDRINUSE)?;
        // The directory's fd kept for an earlier bind there, if any.
        let st = sys::fstat_cached(parent.as_fd(), sys::STATX_CHECK)?;
        let key = (sys::mount_id(parent.as_fd())?, st.st_dev, st.st_ino);
        let dir = self.bound_dirs.get(&key).cloned().unwrap_or(parent);
        let mut path = sys::proc_fd(dir.as_fd()).into_bytes();
        path.push(b'/');
        path.extend_from_slice(&name);
        sys::bind_unix(sock.as_fd(), &path)?;
        self.remember_bound(path, vpath, key, dir);
        if !want_nb {
            sys::clear_nonblock(sock.as_fd())?;
        }
        Ok(sock)
    }
}

/// /dev/null, zero, full, random, urandom and the other character devices
/// of major 1, whose open and close do nothing that waits.
pub(super) fn memory_device(st: &sys::Stat) -> bool {
    sys::file_type(st) == libc::S_IFCHR && libc::major(st.st_rdev) == 1
}

/// An open (not O_PATH) of this object may wait on a client: a FIFO takes
/// the pipe's lock, which a client's splice() holds for as long as it
/// waits for data, even with O_NONBLOCK; a device runs its driver's open (a
/// terminal takes the tty's locks). The memory devices do not.
fn open_may_wait(st: &sys::Stat) -> bool {
    match sys::file_type(st) {
        libc::S_IFIFO | libc::S_IFBLK => true,
        libc::S_IFCHR => !memory_device(st),
        _ => false,
    }
}

fn dtype(st: &sys::Stat) -> u8 {
    match sys::file_type(st) {
        libc::S_IFDIR => libc::DT_DIR,
        libc::S_IFREG => libc::DT_REG,
        libc::S_IFLNK => libc::DT_LNK,
        libc::S_IFCHR => libc::DT_CHR,
        libc::S_IFBLK => libc::DT_BLK,
        libc::S_IFIFO => libc::DT_FIFO,
        libc::S_IFSOCK => libc::DT_SOCK,
        _ => libc::DT_UNKNOWN,
    }
}

/// Whether the virtual path `v` names what the handler makes itself, not
/// the server: the session's /proc and ptys, /dev/fd and /dev/std*, the
/// session's ptmx. A walk that reaches one through a symlink or `..` is
/// answered ELSEWHERE.
fn handlers_name(v: &[u8]) -> bool {
    ns::is_within(v, b"/proc") || ns::is_within(v, b"/dev/pts") || ns::is_within(v, b"/dev/fd") || matches!(v, b"/dev/stdin" | b"/dev/stdout" | b"/dev/stderr" | b"/dev/ptmx")
}
