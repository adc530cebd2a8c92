//! Directory capabilities: the session's directory grants that the process
//! resolves paths beneath itself, without asking the capability server.
//!
//! The launcher gives ld-preld an O_PATH fd of each directory grant that
//! holds no other grant (`--beneath FD:MODE:VPATH`): the root of the
//! grant's detached mount copy, whose `..` does not climb. A path below
//! such a grant's virtual path is opened (read-only opens, stat, access,
//! readlink: pola.rs) with `openat2(fd, REST, RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)`: the kernel follows the grant's own relative
//! symlinks and `..` inside it, exactly as the server's walk would, and
//! answers EXDEV for anything that would leave it (an absolute symlink, a
//! `..` above the grant's root), which goes to the server, whose walk
//! resolves it in the virtual namespace.
//!
//! Authority: the kernel enforces it as for everything else in a session.
//! Landlock (sandbox.rs) lets the process read beneath these fds and
//! nothing more, so code that goes around the handler gets, through them,
//! what the grants give: reading. Writes, creations and everything else
//! still go to the server.
//!
//! The fds are preld's own (ownfd.rs: above the application's fds, out of
//! its reach), inherited by fork children and given again at exec.
//!
//! Two of them are no grants of the user's but the session's own kernel
//! objects, which the launcher's init made: a read-only procfs of the
//! session's PID namespace at /proc (mode `p` when resolving) and a devpts
//! at /dev/pts (mode `t`, its ptys opened here). The server has no view of
//! either: the kernel's answer beneath them is the answer.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};

use preld_arch::fast::{FAST_FD_GEN, FAST_FDS_COUNTED, FAST_FD_GRANT as FD_GRANT, FAST_FD_GRANT_OFF, FAST_STAT_MARK, GATE_GRANTS, GATE_GRANTS_SET};

use crate::abi::{O_CLOEXEC, O_DIRECTORY, O_PATH, PATH_MAX, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV};
use crate::{ownfd, sys};

/// A path argument as the server takes it (pola.rs reads and resolves
/// it): `buf[..len]`, absolute or relative to `dirfd`.
pub struct PathIn {
    pub buf: [u8; PATH_MAX],
    pub len: usize,
    /// The directory fd to attach, if relative to one.
    pub dirfd: Option<i32>,
}

impl PathIn {
    pub fn arg(&self, index: u8) -> preld_proto::PathArg<'_> {
        match self.dirfd {
            Some(_) => preld_proto::PathArg::fd(index, &self.buf[..self.len]),
            None => preld_proto::PathArg::cwd(&self.buf[..self.len]),
        }
    }
}


/// One directory grant.
pub struct Grant {
    /// Its root (O_PATH), one of preld's fds.
    fd: AtomicI32,
    /// `r` (read-only), `x` (read-only, programs run), `w` (read-write),
    /// `t` (the session's own devpts: its ptys opened and used, nothing
    /// made), or for a grant of one regular file `f` (read here; writes
    /// are the server's) or `e` (the same, programs run); or `l`: the
    /// file a symlink granted as itself names (`linked_file`), no grant
    /// of its own (never found by `find` or `grant_of_fd`).
    pub mode: u8,
    /// Its virtual path: absolute, normalized, no trailing slash but for `/`.
    vpath: Vec<u8>,
    /// The mount id of its copy: an fd on it lies beneath the grant.
    mnt_id: u64,
    /// Its copy does not show the grants nested in it (-B's private /tmp,
    /// whose nested grants stand on empty directories made for them): only
    /// absolute paths that go down through no symlink and into no nested
    /// grant are resolved there (`usable_path`), and an fd on it is not
    /// taken as lying on a grant (`grant_of_fd`).
    pub shadows: bool,
    /// Its copy opens no devices (MOUNT_ATTR_NODEV): an open there needs no
    /// look at what the path names first (a device fails with EACCES and is
    /// the server's), where it may wait (the handler gate).
    pub nodev: bool,
}

impl Grant {
    pub fn fd(&self) -> i32 {
        self.fd.load(Ordering::Relaxed)
    }

    /// Its virtual path.
    pub fn vpath(&self) -> &[u8] {
        &self.vpath
    }

    /// A directory grant an open for reading goes down in with one
    /// openat2 from its copy (`pola::gate_open`, the session open gate,
    /// `arm_open_gate`): read-only or read-write, no devices, a copy that
    /// shows what is nested in it.
    pub fn opens_down(&self) -> bool {
        !self.is_file() && matches!(self.resolve_mode(), b'r' | b'w' | b'x') && self.nodev && !self.shadows
    }

    /// A grant of one regular file (`f`, `e`), not of a directory.
    pub fn is_file(&self) -> bool {
        is_file_mode(self.mode)
    }

    /// The mode paths beneath it are resolved with: its own, or `p` for
    /// the session's /proc (a procfs of the session's PID namespace the
    /// launcher made, read-only), where the kernel's answer is the answer:
    /// the server has no view of it (nor of `t`, the session's devpts).
    pub fn resolve_mode(&self) -> u8 {
        if self.vpath == b"/proc" && self.mode == b'r' {
            b'p'
        } else {
            self.mode
        }
    }
}

/// The table, set once at startup (a leaked Box; never changed after but
/// for fd numbers, which are atomic).
static TABLE: AtomicPtr<Table> = AtomicPtr::new(core::ptr::null_mut());

/// The grants, ordered by the first letter of their path's first name
/// (`/` itself first), and where each letter's run begins: a path is
/// looked up among the grants of its own first letter and `/` alone, not
/// among -B's 48.
struct Table {
    grants: Vec<Grant>,
    first: [u16; 257],
}

fn letter(vpath: &[u8]) -> usize {
    vpath.get(1).copied().unwrap_or(0) as usize
}

fn whole_table() -> Option<&'static Table> {
    let p = TABLE.load(Ordering::Acquire);
    // SAFETY: set once from a leaked Box and never freed.
    unsafe { p.as_ref() }
}

fn table() -> &'static [Grant] {
    whole_table().map_or(&[], |t| t.grants.as_slice())
}

/// The grants whose path's first letter is `letter` (0: `/` itself).
fn grants_of_letter(t: &'static Table, letter: usize) -> &'static [Grant] {
    &t.grants[t.first[letter] as usize..t.first[letter + 1] as usize]
}

/// The resolve flags of every open beneath a grant.
pub const RESOLVE: u64 = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

/// Whether `mode` is a file grant's (`f`, `e`).
pub fn is_file_mode(mode: u8) -> bool {
    matches!(mode, b'f' | b'e')
}

/// openat2 of `rel` (NUL-terminated) from `base`, a grant's fd or an fd
/// on one, confined beneath it; the grant's mode `grant_mode`. A relative
/// path with no `..` component that meets no symlink only goes down from
/// `base`: it is tried first with RESOLVE_NO_SYMLINKS alone, which costs
/// the kernel nothing, where RESOLVE_BENEATH's last check walks back up
/// the parents (0.17 us an open here). ELOOP from it (a symlink on the way,
/// or O_NOFOLLOW's own answer) takes the confined walk. Not beneath the
/// session's /proc, whose paths go through /proc/self. `restartable`: in
/// the handler gate (`sys::openat2_restartable`), where an EINTR is final.
pub fn openat2(base: i32, rel: &[u8], flags: usize, mode: u64, grant_mode: u8, restartable: bool) -> sys::Result<i32> {
    let open = if restartable { sys::openat2_restartable } else { sys::openat2 };
    if is_file_mode(grant_mode) {
        return open_file_grant(base, rel, flags, open);
    }
    walk(base, rel, flags, mode, grant_mode != b'p', 0, open)
}

/// The walks of `openat2` with `more` resolve flags: down only first (when
/// `down_first` and `rel` has no `..`), then confined.
fn walk(base: i32, rel: &[u8], flags: usize, mode: u64, down_first: bool, more: u64, open: fn(i32, &[u8], &sys::OpenHow) -> sys::Result<i32>) -> sys::Result<i32> {
    let how = |resolve: u64| sys::OpenHow { flags: flags as u64, mode, resolve: resolve | more };
    if is_shadowing_root(base) {
        // A copy that does not show its nested grants (-B's private /tmp):
        // `usable_path` found no symlink on the way, but one swapped in
        // since (a rename by the server for another thread) could lead
        // into an empty directory or file standing for a nested grant,
        // which the process then answered with (ENOENT, an empty read:
        // session-16 adversary, test
        // `the_private_tmp_never_answers_with_a_placeholder`). No symlink
        // is followed here: the server's (EXDEV).
        return match open(base, rel, &how(RESOLVE | RESOLVE_NO_SYMLINKS)) {
            Err(crate::errno::ELOOP) => Err(crate::errno::EXDEV),
            r => r,
        };
    }
    if down_first && descends_only(rel) {
        match open(base, rel, &how(RESOLVE_NO_SYMLINKS)) {
            Err(crate::errno::ELOOP) => {}
            r => return r,
        }
    }
    open(base, rel, &how(RESOLVE))
}

/// `openat2` in the handler gate (restartable) that also stays on the
/// mount of `base` (RESOLVE_NO_XDEV: EXDEV where it would cross one, or
/// leave the grant): the fd is then on the same grant as `base`. Not for
/// file grants or the session's procfs.
pub fn openat2_on_mount(base: i32, rel: &[u8], flags: usize, mode: u64) -> sys::Result<i32> {
    walk(base, rel, flags, mode, true, RESOLVE_NO_XDEV, sys::openat2_restartable)
}

/// `openat2_on_mount`'s first try alone, in the handler gate (restartable):
/// `rel` (NUL-terminated, no `..`) down from `base` through no symlink and
/// onto no other mount. ELOOP or EXDEV: the walks of `openat2_on_mount`
/// may still find it.
pub fn openat2_down(base: i32, rel: &[u8], flags: usize) -> sys::Result<i32> {
    let how = sys::OpenHow { flags: flags as u64, mode: 0, resolve: RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV };
    sys::openat2_restartable(base, rel, &how)
}

/// A file grant's file opened anew from its O_PATH fd `base` (`rel` is
/// empty: the grant's own path), as the server's reopen would: through
/// the session's procfs, a magic link to the same file on the same copy,
/// with `flags` (O_NOFOLLOW taken out: it would refuse the link itself,
/// where the grant is the file, no symlink). Landlock lets the process
/// read this file (its rule, sandbox.rs) and nothing more of it. The link
/// is BASE in the process's own fd directory (`fd_dir`), else
/// TID/fd/BASE (this thread's: its leader may have exited). (Through
/// thread-self/ the kernel formats and follows one more link: 0.5 us of
/// each open; TID/ looks the thread up in the procfs: 0.2 us more than
/// the directory's fd. The names are built on the stack, not the heap,
/// which 200 threads opening at once contended for.)
fn open_file_grant(base: i32, rel: &[u8], flags: usize, open: fn(i32, &[u8], &sys::OpenHow) -> sys::Result<i32>) -> sys::Result<i32> {
    if !matches!(rel, b"" | b"\0") {
        return Err(crate::errno::EXDEV); // the server's
    }
    let proc = procfs().ok_or(crate::errno::ENOSYS)?;
    // (A magic link: no RESOLVE_BENEATH, which refuses them; the path is
    // preld's own.)
    let how = sys::OpenHow { flags: (flags & !crate::abi::O_NOFOLLOW) as u64, mode: 0, resolve: 0 };
    let mut digits = [0u8; 20];
    let fd_name = sys::decimal(base as u64, &mut digits);
    if let Some(dir) = fd_dir(proc) {
        let mut name = [0u8; 24];
        name[..fd_name.len()].copy_from_slice(fd_name);
        match open(dir, &name[..fd_name.len() + 1], &how) {
            // (The process's leader gone: its directory lists no fds.)
            Err(crate::errno::ENOENT) => {}
            r => return r,
        }
    }
    let mut name = [0u8; 48];
    let mut len = 0;
    for part in [sys::decimal(own_tid() as u64, &mut [0u8; 20]), b"/fd/", fd_name] {
        name[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    open(proc.fd(), &name[..len + 1], &how)
}

/// This process's fd directory in the session's procfs (self/fd, an
/// O_PATH fd of preld's), opened at the first file grant's open and kept
/// (-1 before). A fork child closes its parent's copy (`forget_fds`) and
/// opens its own. Only for a thread of the process's fd table: in a vfork
/// child's, or one a thread unshared, the number may be another fd of
/// preld's (TID/fd/BASE there).
static FD_DIR: AtomicI32 = AtomicI32::new(-1);

fn fd_dir(proc: &Grant) -> Option<i32> {
    if !ownfd::in_process_table() {
        return None;
    }
    let known = FD_DIR.load(Ordering::Acquire);
    if known >= 0 {
        return Some(known);
    }
    let how = sys::OpenHow { flags: (O_PATH | O_DIRECTORY | O_CLOEXEC) as u64, mode: 0, resolve: 0 };
    let opened = sys::openat2(proc.fd(), b"self/fd\0", &how).ok()?;
    let Ok(fd) = ownfd::adopt_fd(opened) else {
        sys::close(opened);
        return None;
    };
    match FD_DIR.compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(fd),
        Err(now) => {
            // Another thread's, made meanwhile.
            ownfd::release_fd(fd);
            Some(now)
        }
    }
}

/// The calling thread's id, as its thread block keeps it once known (in
/// the session's PID namespace, whose procfs the session has).
fn own_tid() -> usize {
    // SAFETY: called with a grant table, made after preld set this process
    // up: every thread preld runs on has its block in gs, starting with its
    // ArchThread, whose tid only this thread writes.
    let tid = unsafe { core::ptr::addr_of!((*(preld_arch::thread_block() as *const preld_arch::ArchThread)).tid).read() };
    if tid != 0 {
        tid
    } else {
        sys::gettid() as usize
    }
}

/// Whether a path (as the program spelt it) may name what the handler
/// answers itself (/proc/self/..., /dev/fd, /dev/std*, /dev/ptmx), which
/// the handler gate leaves to the trap path: a /proc or /dev/ prefix, or
/// `//` and `/./`, which may spell one.
pub fn may_be_the_handler_s(path: &[u8]) -> bool {
    path.starts_with(b"/proc") || path.starts_with(b"/dev/") || path.starts_with(b"//") || path.starts_with(b"/./")
}

/// Whether the relative path `rel` (NUL-terminated) has no `..` component.
pub fn descends_only(rel: &[u8]) -> bool {
    let rel = rel.strip_suffix(b"\0").unwrap_or(rel);
    !rel.starts_with(b"/") && !rel.split(|&b| b == b'/').any(|c| c == b"..")
}

/// Takes the `--beneath` fds as preld's own and builds the table. A grant
/// whose fd is unusable is left to the server; without openat2 (before
/// Linux 5.6) or STATX_MNT_ID (5.8) there is no table at all. What an
/// exec's handler passes on (`known`) is not asked of the kernel again.
/// Returns the fds and each grant's mode, for Landlock's rules.
pub fn init(given: &[crate::config::BeneathArg]) -> Vec<(i32, u8)> {
    let mut grants = Vec::new();
    let fds: Vec<i32> = given.iter().map(|g| g.fd).collect();
    for (g, own) in given.iter().zip(ownfd::adopt_fds(&fds)) {
        let Ok(own) = own else {
            sys::close(g.fd);
            continue;
        };
        let known = g.known.or_else(|| {
            if is_file_mode(g.mode) || g.mode == b'l' {
                // A regular file's grant (the launcher's word, checked):
                // its type and mount in one statx.
                return sys::mount_id_and_type(own).ok().filter(|&(_, kind)| kind == crate::abi::S_IFREG).map(|(id, _)| (id, false));
            }
            let probe = sys::OpenHow { flags: (O_PATH | O_DIRECTORY | O_CLOEXEC) as u64, mode: 0, resolve: RESOLVE };
            let usable = sys::openat2(own, b".\0", &probe).map(sys::close).is_ok();
            let nodev = || sys::fs_of(own).is_ok_and(|(_, flags)| flags & crate::abi::ST_NODEV != 0);
            sys::mount_id(own).ok().filter(|_| usable).map(|id| (id, nodev()))
        });
        match known {
            Some((mnt_id, nodev)) => {
                let mut v = g.vpath.clone();
                while v.len() > 1 && v.ends_with(b"/") {
                    v.pop();
                }
                grants.push(Grant { fd: AtomicI32::new(own), mode: g.mode, vpath: v, mnt_id, nodev, shadows: g.shadows });
            }
            None => ownfd::release_fd(own),
        }
    }
    let fds = grants.iter().map(|g| (g.fd(), g.mode)).collect();
    if !grants.is_empty() && grants.len() <= u16::MAX as usize {
        set_table(grants);
    }
    fds
}

/// Orders the grants by letter and sets the table (once).
fn set_table(mut grants: Vec<Grant>) {
    grants.sort_by_key(|g| letter(&g.vpath));
    let mut first = [0u16; 257];
    for g in &grants {
        first[letter(&g.vpath) + 1] += 1;
    }
    for i in 1..first.len() {
        first[i] += first[i - 1];
    }
    if let Some(k) = grants.iter().position(|g| g.shadows) {
        SHADOWING.store(k + 1, Ordering::Relaxed);
    }
    TABLE.store(Box::into_raw(Box::new(Table { grants, first })), Ordering::Release);
}

/// The index + 1 of the grant whose copy does not show its nested grants
/// (-B's private /tmp; there is one at most), 0 for none. Set with the
/// table.
static SHADOWING: AtomicUsize = AtomicUsize::new(0);

/// Whether `base` is the root fd of the grant whose copy does not show its
/// nested grants (`Grant::shadows`).
pub fn is_shadowing_root(base: i32) -> bool {
    match SHADOWING.load(Ordering::Relaxed) {
        0 => false,
        k => table().get(k - 1).is_some_and(|g| g.fd() == base),
    }
}

pub fn active() -> bool {
    !table().is_empty()
}

/// The grant an absolute virtual path lies beneath, and the rest of the
/// path below the grant's root (without leading slashes; may be empty).
/// The grant's part must be spelt plainly (`/usr/lib/x`, not
/// `/usr/./lib/x`): anything else is the server's to resolve.
pub fn find(path: &[u8]) -> Option<(&'static Grant, &[u8])> {
    let t = whole_table()?;
    let mut best: Option<(&'static Grant, &[u8])> = None;
    let own = match letter(path) {
        0 => &[][..],
        l => grants_of_letter(t, l),
    };
    for g in grants_of_letter(t, 0).iter().chain(own).filter(|g| g.mode != b'l') {
        // A file grant names its file alone (`/etc/passwd/` and
        // `/etc/passwd/x` are the server's, ENOTDIR): its length first, as
        // -B's 30 of them are looked at for every path.
        if g.is_file() {
            if g.vpath.len() == path.len() && g.vpath == path && best.is_none_or(|(b, _)| b.vpath.len() < g.vpath.len()) {
                best = Some((g, &path[path.len()..]));
            }
            continue;
        }
        let rest = if g.vpath == b"/" {
            path.strip_prefix(b"/")
        } else if g.vpath.len() > path.len() {
            None
        } else {
            path.strip_prefix(g.vpath.as_slice()).filter(|r| r.is_empty() || r[0] == b'/')
        };
        if let Some(rest) = rest {
            if best.is_none_or(|(b, _)| b.vpath.len() < g.vpath.len()) {
                let start = rest.iter().position(|&c| c != b'/').unwrap_or(rest.len());
                best = Some((g, &rest[start..]));
            }
        }
    }
    best
}

/// The grant directory fd `fd` (an application's) lies on, by its mount
/// (statx: 0.4 us), remembered while the fd's close count stands (find and
/// tar name most files beside a directory fd they hold).
pub fn grant_of_fd(fd: i32) -> Option<&'static Grant> {
    let t = table();
    if t.is_empty() {
        return None;
    }
    let slot = usize::try_from(fd).ok().filter(|&i| i < FAST_FDS_COUNTED && fd_cache_on());
    let generation = slot.map(|i| FAST_FD_GEN[i].load(Ordering::Acquire));
    if let (Some(i), Some(g)) = (slot, generation) {
        let known = FD_GRANT[i].load(Ordering::Acquire);
        let index = (known & (FAST_STAT_MARK - 1)) as usize;
        if known >> 32 == g as u64 && index != 0 {
            return t.get(index - 1);
        }
    }
    let id = sys::mount_id(fd).ok()?;
    // (A linked file's fd lies on its grant's mount: the grant's. An fd on
    // a copy that does not show its nested grants may stand in one of
    // their empty directories: the server's.)
    let k = t.iter().position(|g| g.mnt_id == id && g.mode != b'l')?;
    if t[k].shadows {
        return None;
    }
    if let (Some(i), Some(g)) = (slot, generation) {
        // Learnt under generation `g`: a close since (which raised it)
        // makes this stale, whatever the fd named when statx looked.
        FD_GRANT[i].store(fd_grant_entry(g, &t[k], k), Ordering::Release);
    }
    Some(&t[k])
}

/// `fd`, just opened by the handler gate on `g`'s mount, is known to lie
/// on grant `g` under its present close count (`grant_of_fd` then needs no
/// statx). The count is read after the open: another thread that closed
/// or replaced that number before the open returned it to the program (a
/// race with no defined outcome natively either) leaves this taken for the
/// program's new fd; the kernel's answers hold whatever fd it is, and only
/// a virtual directory's stand-in would list as the grant's directory.
pub fn remember_fd(fd: i32, g: &'static Grant) {
    let t = table();
    let Some(i) = usize::try_from(fd).ok().filter(|&i| i < FAST_FDS_COUNTED && fd_cache_on() && !g.shadows) else { return };
    // The grant's index from its address (every open in the gate asks:
    // a walk of the table cost more than the statx it saves, for files).
    let at = (g as *const Grant as usize).wrapping_sub(t.as_ptr() as usize);
    let k = at / core::mem::size_of::<Grant>();
    if at % core::mem::size_of::<Grant>() != 0 || !t.get(k).is_some_and(|x| core::ptr::eq(x, g)) {
        return;
    }
    let generation = FAST_FD_GEN[i].load(Ordering::Acquire);
    FD_GRANT[i].store(fd_grant_entry(generation, g, k), Ordering::Release);
}

/// Names beside `fd` show owners the handler must fix (an ordinary user's
/// session, others' files): the fast path's stat gate leaves them to the
/// handler gate from now on, rather than make each stat twice (its own,
/// then the handler's). The fd's next close forgets this with the rest.
pub fn owners_beside(fd: i32) {
    if let Some(e) = usize::try_from(fd).ok().and_then(|i| FD_GRANT.get(i)) {
        e.fetch_and(!FAST_STAT_MARK, Ordering::AcqRel);
    }
}

/// A `FAST_FD_GRANT` entry: fd on grant `g`, at index `k` of the table,
/// learnt under `generation`; marked `FAST_STAT_MARK` where the fast path's
/// stat gate may stat a name beside it as the kernel would
/// (`pola::stat_one_name`'s grants: resolved in the process, not the
/// session's procfs or devpts). The gate leaves a stat whose owners the
/// handler must fix (an ordinary user's session, others' files) to the
/// handler gate, which takes the mark off (`owners_beside`).
fn fd_grant_entry(generation: u32, g: &Grant, k: usize) -> u64 {
    let stat = if matches!(g.resolve_mode(), b'r' | b'w' | b'x') && !g.shadows { FAST_STAT_MARK } else { 0 };
    (generation as u64) << 32 | stat | (k as u64 + 1)
}

// What is learnt per fd is in arch's FAST_FD_GRANT (the fast path's stat
// gate reads it too). It holds while FAST_FD_GRANT_OFF is 0, which counts
// the vfork children alive (they share this memory, not the fd table:
// what one learns is not true of its parent's fds), plus one for good
// once threads and fd tables stop going together (`FD_TABLES_DIFFER`).

/// Set once threads and fd tables stop going together: a thread sharing
/// this memory has an fd table of its own (clone with CLONE_VM but not
/// CLONE_FILES and not a vfork, unshare(CLONE_FILES)), or a process with
/// memory of its own shares the fd table (clone with CLONE_FILES without
/// CLONE_VM: its closes count in its own copy).
static FD_TABLES_DIFFER: AtomicBool = AtomicBool::new(false);

fn fd_cache_on() -> bool {
    FAST_FD_GRANT_OFF.load(Ordering::Acquire) == 0
}

/// `fd` was closed or replaced (dup2, dup3) by a call the handler sees.
pub fn fd_closed(fd: usize) {
    if let Some(g) = FAST_FD_GEN.get(fd) {
        g.fetch_add(1, Ordering::AcqRel);
    }
}

/// Every fd in [first, last] was closed (close_range).
pub fn fds_closed(first: usize, last: usize) {
    for g in FAST_FD_GEN.iter().take(last.saturating_add(1)).skip(first) {
        g.fetch_add(1, Ordering::AcqRel);
    }
}

/// Nothing learnt of any fd holds (a fork child, whose other threads'
/// closes in flight were not counted here; a vfork child gone).
pub fn forget_fds() {
    for k in &FD_GRANT {
        k.store(0, Ordering::Release);
    }
}

/// In a fork child: nothing learnt of any fd holds, and the parent's fd
/// directory (copied into this child's table) is closed.
pub fn forked() {
    forget_fds();
    let dir = FD_DIR.swap(-1, Ordering::AcqRel);
    if dir >= 0 {
        ownfd::release_fd(dir);
    }
}

/// A thread with the process's memory and an fd table of its own starts
/// (`vfork`: a vfork child, whose end `vfork_ended` says), or the fd table
/// is to be shared with a process of its own memory; set before the
/// other exists (and copied into it).
pub fn own_fd_table(vfork: bool) {
    if vfork {
        FAST_FD_GRANT_OFF.fetch_add(1, Ordering::AcqRel);
    } else if !FD_TABLES_DIFFER.swap(true, Ordering::AcqRel) {
        FAST_FD_GRANT_OFF.fetch_add(1, Ordering::AcqRel);
    }
}

/// This process's fds may be replaced with no call preld sees (a seccomp
/// listener's ADDFD), or its calls trapped by a seccomp filter of its own
/// (signals::seccomp): what is learnt of an fd's number never holds, for
/// good (`FD_TABLES_DIFFER`'s count).
pub fn fd_numbers_unknowable() {
    own_fd_table(false);
}

/// A vfork child has exec'd or exited (or was never made): what it learnt
/// is forgotten before the cache is used again.
pub fn vfork_ended() {
    forget_fds();
    FAST_FD_GRANT_OFF.fetch_sub(1, Ordering::AcqRel);
}

/// The names of the session's namespace (`--vpath`: its grants' paths,
/// true, and its virtual directories'), set once at startup; none: not
/// known (a session that asks the user, `--ask`, grants paths as it goes).
static NAMES: AtomicPtr<Vec<(bool, Vec<u8>)>> = AtomicPtr::new(core::ptr::null_mut());

/// The session's virtual directories whose stand-in this process holds
/// an O_PATH fd of (the server's answer to an O_PATH open of the
/// directory, `learn_virtual_dir`; given again at an exec, `--vdirs`): a
/// stat of one by its own name is that fd's, the server's answer, made in
/// the process (python's imports stat the current directory, `/` for a
/// program started outside the grants, at each: 55 round trips of 14 to
/// 80 us). Learnt as the program goes, not made at the start: each new
/// directory on the host costs (200 us here, ext4 looking for a free
/// inode). Kept while the fds of this process are one table
/// (`fd_cache_on`: not a vfork child's).
/// (Slots written once each, never freed, and no lock: a fork child of a
/// thread that held one while another thread stat'ed would spin on it
/// for good, test `a_fork_child_fixes_owners_while_another_thread_did`.)
static VDIRS: [AtomicPtr<VirtualDir>; 16] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 16];

struct VirtualDir {
    vpath: Vec<u8>,
    fd: AtomicI32,
}

fn vdirs() -> impl Iterator<Item = &'static VirtualDir> {
    VDIRS.iter().map_while(|p| {
        // SAFETY: each slot is set once from a leaked Box and never freed.
        unsafe { p.load(Ordering::Acquire).as_ref() }
    })
}

/// Keeps `fd` (preld's own) for `vpath` in the first free slot; false if
/// there is none, or another thread took it (the caller closes the fd).
fn keep_vdir(vpath: &[u8], fd: i32) -> bool {
    let d = Box::into_raw(Box::new(VirtualDir { vpath: vpath.to_vec(), fd: AtomicI32::new(fd) }));
    for slot in &VDIRS {
        match slot.compare_exchange(core::ptr::null_mut(), d, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return true,
            // (Another thread's, for this very directory: ours is not needed.)
            // SAFETY: a slot holds null or a leaked Box, never freed.
            Err(p) if unsafe { p.as_ref() }.is_some_and(|o| o.vpath == vpath) => break,
            Err(_) => continue,
        }
    }
    // SAFETY: `d` was never published: ours to free.
    drop(unsafe { Box::from_raw(d) });
    false
}

/// Takes the `--vdirs` fds as preld's own (those that cannot be are
/// closed: the server answers).
pub fn set_vdirs(given: &[(i32, Vec<u8>)]) {
    let fds: Vec<i32> = given.iter().map(|(fd, _)| *fd).collect();
    for ((fd, vpath), own) in given.iter().zip(ownfd::adopt_fds(&fds)) {
        match own {
            Ok(own) if keep_vdir(vpath, own) => {}
            Ok(own) => ownfd::release_fd(own),
            Err(_) => sys::close(*fd),
        }
    }
}

/// The stand-in's fd of the virtual directory `path` names (spelt
/// plainly, as `is_virtual_dir` takes it: `/`, `/etc`, `/etc/`), if this
/// process holds one.
pub fn virtual_dir_fd(path: &[u8]) -> Option<i32> {
    if !fd_cache_on() {
        return None;
    }
    let path = without_trailing_slash(path);
    vdirs().find(|d| d.vpath == path).map(|d| d.fd.load(Ordering::Relaxed))
}

/// `path` without one trailing slash (but `/`).
fn without_trailing_slash(path: &[u8]) -> &[u8] {
    if path.len() > 1 { path.strip_suffix(b"/").unwrap_or(path) } else { path }
}

/// Keeps `fd` (an O_PATH fd of the stand-in of the virtual directory
/// `path`, from the server) for `virtual_dir_fd`, as one of preld's; else
/// closes it.
pub fn learn_virtual_dir(path: &[u8], fd: i32) {
    let path = without_trailing_slash(path);
    if !fd_cache_on() || virtual_dir_fd(path).is_some() {
        sys::close(fd);
        return;
    }
    match ownfd::adopt_fds(&[fd]).pop() {
        Some(Ok(own)) if keep_vdir(path, own) => {}
        Some(Ok(own)) => ownfd::release_fd(own),
        _ => sys::close(fd),
    }
}

pub fn set_names(names: Vec<(bool, Vec<u8>)>) {
    if !names.is_empty() {
        NAMES.store(Box::into_raw(Box::new(names)), Ordering::Release);
    }
}

/// Whether the absolute path `path` names nothing of the session because a
/// component of it lies in a virtual directory (an ancestor of grants,
/// which holds only them) and is none of its entries: ENOENT, the server's
/// answer, known here. `creating`: the last component may be made (then
/// only a missing directory on the way counts; a creation in a virtual
/// directory is the server's, EROFS). Paths the handler names itself
/// (/proc, /dev) and paths with `..` or names longer than NAME_MAX are
/// not judged here.
pub fn missing(path: &[u8], creating: bool) -> bool {
    let p = NAMES.load(Ordering::Acquire);
    // SAFETY: set once from a leaked Box and never freed.
    let Some(names) = (unsafe { p.as_ref() }) else { return false };
    if path.first() != Some(&b'/') || path.starts_with(b"/proc") || path.starts_with(b"/dev") {
        return false;
    }
    if names.iter().any(|(grant, n)| *grant && n == b"/") {
        return false; // a grant of the root: every name is its own
    }
    // The names on the way, as a path spelt plainly (`/a/b/c`) is cut:
    // without copying when it is (most are), else rebuilt without `//`
    // and `/./`.
    let plain = !path.windows(2).any(|w| w == b"//") && !path.windows(3).any(|w| w == b"/./") && !path.ends_with(b"/.");
    let rebuilt: Vec<u8>;
    let path = if plain {
        path.strip_suffix(b"/").filter(|p| !p.is_empty()).unwrap_or(path)
    } else {
        let mut v = Vec::with_capacity(path.len());
        for c in path.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
            v.push(b'/');
            v.extend_from_slice(c);
        }
        rebuilt = v;
        &rebuilt
    };
    if path.len() <= 1 {
        return false; // the root
    }
    let mut end = 0;
    while end < path.len() {
        let next = path[end + 1..].iter().position(|&b| b == b'/').map_or(path.len(), |k| end + 1 + k);
        let (at, name) = (&path[..next], &path[end + 1..next]);
        if name == b".." || name.len() > 255 {
            return false;
        }
        if names.iter().any(|(grant, n)| *grant && n.as_slice() == at) {
            return false; // a grant: what lies in it is its own
        }
        // A virtual directory: one of them, or above one.
        let virtual_dir = |(grant, n): &(bool, Vec<u8>)| (!grant && n.as_slice() == at) || (n.len() > at.len() && n.starts_with(at) && n[at.len()] == b'/');
        if !names.iter().any(virtual_dir) {
            // No such entry: ENOENT, unless it is the last name and may be
            // made (then, or if `..` follows, the server's).
            let rest = &path[next..];
            if rest.split(|&b| b == b'/').any(|c| c == b"..") {
                return false;
            }
            return !(creating && next == path.len());
        }
        end = next;
    }
    false
}

/// Whether path `at` is `dir` or below it (both spelt plainly; `dir` may
/// be `/`).
fn within(at: &[u8], dir: &[u8]) -> bool {
    at.starts_with(dir) && (dir == b"/" || at.len() == dir.len() || at[dir.len()] == b'/')
}

/// Whether the absolute path `path`, spelt plainly (no `//`, `/./`, `.`
/// or `..` component), names one of the session's virtual directories
/// (an ancestor of grants that holds only them; the root where no grant
/// is the root): readlink's EINVAL, known here. realpath() reads each
/// directory above a file as a link, and each such look at /home or
/// /work was a round trip to the server (gcc: 10 of its 33).
pub fn is_virtual_dir(path: &[u8]) -> bool {
    let p = NAMES.load(Ordering::Acquire);
    // SAFETY: set once from a leaked Box and never freed.
    let Some(names) = (unsafe { p.as_ref() }) else { return false };
    if path.first() != Some(&b'/') || path.starts_with(b"/proc") || path.starts_with(b"/dev") {
        return false;
    }
    let path = if path.len() > 1 { path.strip_suffix(b"/").unwrap_or(path) } else { path };
    if path.split(|&b| b == b'/').skip(1).any(|c| matches!(c, b"" | b"." | b"..")) && path != b"/" {
        return false;
    }
    if link_in(path, true).is_some() {
        return false; // through a symlink granted as itself
    }
    if names.iter().any(|(grant, n)| *grant && within(path, n)) {
        return false; // a grant or in one
    }
    names.iter().any(|(grant, n)| (!grant && n.as_slice() == path) || (n.len() > path.len() && within(n, path)))
}

/// Whether the path found beneath grant `g` with `rest` (relative,
/// NUL-terminated) left may be resolved there by the process. Always, for
/// a copy that shows what the namespace shows below it. For one that does
/// not (`Grant::shadows`: -B's private /tmp with grants nested in it,
/// standing on empty directories made for them), only a path spelt
/// plainly (no `//`, `.`, `..`) that goes into no nested grant (one the
/// process does not resolve in itself: `find` gave the longest) and meets
/// no symlink on the copy, whose target could lead into such an empty
/// directory: a look with RESOLVE_NO_SYMLINKS first (1 us, where the
/// server's answer is a round trip of 12-30 us). A symlink swapped in
/// between the look and the call is not followed either (`walk`: the
/// server's then).
pub fn usable_path(g: &Grant, rest: &[u8]) -> bool {
    if !g.shadows {
        return true;
    }
    let p = NAMES.load(Ordering::Acquire);
    // SAFETY: set once from a leaked Box and never freed.
    let Some(names) = (unsafe { p.as_ref() }) else { return false };
    // Spelt plainly (no `//`, `.` or `..`), so that a nested grant's path
    // is seen as a prefix of it.
    let Some(rest_nul) = Some(rest).filter(|r| r.ends_with(b"\0")) else { return false };
    let rest = &rest[..rest.len() - 1];
    if rest.split(|&b| b == b'/').any(|c| matches!(c, b"" | b"." | b"..")) {
        return false;
    }
    // The nested grants' paths below the grant's.
    let below = |n: &'static [u8]| match g.vpath.as_slice() {
        b"/" => n.strip_prefix(b"/"),
        v => n.strip_prefix(v).and_then(|r| r.strip_prefix(b"/")),
    };
    if names.iter().filter(|(grant, _)| *grant).filter_map(|(_, n)| below(n)).any(|n| !n.is_empty() && within(rest, n)) {
        return false;
    }
    let how = sys::OpenHow { flags: (O_PATH | O_CLOEXEC) as u64, mode: 0, resolve: RESOLVE | RESOLVE_NO_SYMLINKS };
    match sys::openat2(g.fd(), rest_nul, &how) {
        Ok(fd) => {
            sys::close(fd);
            true
        }
        // Nothing there: no symlink on the way to it either.
        Err(crate::errno::ENOENT) => true,
        Err(_) => false,
    }
}

/// The symlinks the session grants as themselves (`--vpath l:`: -B's
/// /bin -> usr/bin, /lib64 -> usr/lib64, /etc/localtime), each with the
/// absolute virtual path it names; set once at startup. The launcher gives
/// only those no other grant holds and whose target climbs (`..`) only
/// out of the link's own virtual directories: the target spliced in
/// lexically is then where the server's walk goes.
static LINKS: AtomicPtr<Links> = AtomicPtr::new(core::ptr::null_mut());

struct Links {
    /// The byte after the first `/` of each link's name, as a bit: most
    /// paths (/usr/..., /tmp/...) go through none, told at one look
    /// (every path call in the process asks).
    first: [u64; 4],
    links: Vec<(Vec<u8>, Vec<u8>)>,
}

pub fn set_links(links: Vec<(Vec<u8>, Vec<u8>)>) {
    if !links.is_empty() {
        let mut first = [0u64; 4];
        for (link, _) in &links {
            let b = link.get(1).copied().unwrap_or(0) as usize;
            first[b / 64] |= 1 << (b % 64);
        }
        LINKS.store(Box::into_raw(Box::new(Links { first, links })), Ordering::Release);
    }
}

/// The granted symlink the absolute, plainly spelt `path` goes through
/// first: the length of its name at the start of `path` and the virtual
/// path it names. A link that ends the path counts when `follow_last`
/// (a trailing slash always follows it). The path with that target in
/// place of the name is resolved as the path itself would be, in the
/// process (beneath the target's grant) or by the server: an exec's
/// /lib64/ld-linux-x86-64.so.2 and ld.so's /lib/x86_64-linux-gnu/libc.so.6
/// need no server.
pub fn link_in(path: &[u8], follow_last: bool) -> Option<(usize, &'static [u8])> {
    let p = LINKS.load(Ordering::Acquire);
    // SAFETY: set once from a leaked Box and never freed.
    let l = unsafe { p.as_ref() }?;
    let b = path.get(1).copied().unwrap_or(0) as usize;
    if l.first[b / 64] & (1 << (b % 64)) == 0 {
        return None;
    }
    l.links.iter().find_map(|(link, target)| {
        let rest = path.strip_prefix(link.as_slice())?;
        let through = match rest.first() {
            None => follow_last,
            Some(&b) => b == b'/',
        };
        through.then_some((link.len(), target.as_slice()))
    })
}

/// The file a symlink granted as itself names, when `path` is that link's
/// name (`--beneath FD:l:VPATH`: an O_PATH fd of the file on its grant's
/// copy): stat and access of /etc/localtime, which glibc's localtime
/// makes at every call where TZ is unset, from a copy of that fd (as a
/// file grant's), not a walk beneath /usr from the link's target. Only
/// where the call follows the link.
pub fn linked_file(path: &[u8]) -> Option<&'static Grant> {
    let t = whole_table()?;
    let l = letter(path);
    if l == 0 {
        return None;
    }
    grants_of_letter(t, l).iter().find(|g| g.mode == b'l' && g.vpath == path)
}

/// Whether the session has ptys of its own (a devpts the launcher made).
pub fn has_ptys() -> bool {
    table().iter().any(|g| g.mode == b't')
}

/// The session's procfs (the grant at /proc the launcher made), if any.
fn procfs() -> Option<&'static Grant> {
    // (Among the grants under `/p` only: every file grant's open asks.)
    grants_of_letter(whole_table()?, b'p' as usize).iter().find(|g| g.resolve_mode() == b'p')
}

/// In a session, the link /proc/thread-self/fd/`fd` (this thread's fd
/// table, which a thread may have of its own) as the session's procfs
/// shows it (paths below the root of the mount the object is on) into
/// `buf`: its length.
pub fn fd_link(fd: i32, buf: &mut [u8]) -> Option<usize> {
    let proc = procfs()?;
    let mut name = Vec::from(&b"thread-self/fd/"[..]);
    name.extend_from_slice(sys::decimal(fd as u64, &mut [0u8; 20]));
    name.push(0);
    let how = sys::OpenHow { flags: (O_PATH | O_CLOEXEC | crate::abi::O_NOFOLLOW) as u64, mode: 0, resolve: RESOLVE };
    let link = sys::openat2(proc.fd(), &name, &how).ok()?;
    let r = sys::readlink_fd(link, buf);
    sys::close(link);
    r.ok()
}

/// The grants for an exec (one `--beneaths`, NUL-terminated strings) and
/// their fds.
pub fn exec_args(strings: &mut Vec<Vec<u8>>, keep: &mut Vec<i32>) {
    let mut packed = Vec::new();
    let mut v = Vec::new();
    for g in table() {
        v.clear();
        let mut digits = [0u8; 20];
        v.extend_from_slice(sys::decimal(g.fd() as u64, &mut digits));
        v.push(b':');
        v.push(if g.shadows { g.mode.to_ascii_uppercase() } else { g.mode });
        // What the new image need not ask the kernel again.
        v.push(b',');
        v.extend_from_slice(sys::decimal(g.mnt_id, &mut digits));
        v.extend_from_slice(if g.nodev { b",1:" } else { b",0:" });
        v.extend_from_slice(&g.vpath);
        crate::config::pack_into(&mut packed, &v);
        keep.push(g.fd());
    }
    if !packed.is_empty() {
        packed.push(0);
        strings.push(b"--beneaths\0".to_vec());
        strings.push(packed);
    }
    let mut packed = Vec::new();
    for d in vdirs() {
        let (vpath, fd) = (&d.vpath, d.fd.load(Ordering::Relaxed));
        v.clear();
        v.extend_from_slice(sys::decimal(fd as u64, &mut [0u8; 20]));
        v.push(b':');
        v.extend_from_slice(vpath);
        crate::config::pack_into(&mut packed, &v);
        keep.push(fd);
    }
    if !packed.is_empty() {
        packed.push(0);
        strings.push(b"--vdirs\0".to_vec());
        strings.push(packed);
    }
}

/// preld moved fd `old` to `new` (ownfd::relocate_below_limit).
pub fn relocated(old: i32, new: i32) {
    for g in table() {
        let _ = g.fd.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    }
    for g in &GATE_GRANTS[..GATE_GRANTS_SET.load(Ordering::Acquire)] {
        let _ = g.fd.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    }
    for d in vdirs() {
        let _ = d.fd.compare_exchange(old, new, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// Fills the session open gate's table (arch's `GATE_GRANTS`, then
/// `GATE_GRANTS_SET`): the directory grants in which `pola::gate_open`
/// would make an open with one openat2 from the grant's copy whatever
/// names follow (read-only or read-write, no devices, not a copy that
/// hides what is nested in it, not a name of the handler's own) and
/// that hold no other grant and no symlink granted as itself (where
/// `find` and `link_in` would say otherwise for a path below); the
/// session stat gate makes stats there too (`fast_gate_session_stat`).
/// Before the program runs (the fast path's gates are chosen after).
pub fn arm_open_gate() {
    let t = table();
    let links = LINKS.load(Ordering::Acquire);
    // SAFETY: set once from a leaked Box and never freed.
    let links = unsafe { links.as_ref() }.map_or(&[][..], |l| l.links.as_slice());
    let mut n = 0;
    for (k, g) in t.iter().enumerate() {
        let v = g.vpath.as_slice();
        // (`/` itself is left out by its length: `within` of it is all.)
        let eligible = g.opens_down()
            && (2..=preld_arch::fast::GATE_VPATH_MAX).contains(&v.len())
            && !may_be_the_handler_s(v)
            && v != b"/dev"
            && t.iter().enumerate().all(|(j, o)| j == k || !within(&o.vpath, v))
            && links.iter().all(|(l, _)| !within(l, v));
        if !eligible || n == GATE_GRANTS.len() || k + 1 >= 1 << 31 {
            continue;
        }
        let e = &GATE_GRANTS[n];
        for (i, &b) in v.iter().enumerate() {
            e.vpath[i].store(b, Ordering::Relaxed);
        }
        e.len.store(v.len() as u32, Ordering::Relaxed);
        e.fd.store(g.fd(), Ordering::Relaxed);
        e.index.store(k as u32 + 1, Ordering::Relaxed);
        n += 1;
    }
    GATE_GRANTS_SET.store(n, Ordering::Release);
    // A stat there too (owners shown as the overflow id, in an ordinary
    // user's session, are the owners table's or the handler's).
    preld_arch::fast::GATE_STAT.store(n > 0, Ordering::Release);
}

/// Whether the session open gate has grants to open beneath.
pub fn open_gate_armed() -> bool {
    GATE_GRANTS_SET.load(Ordering::Acquire) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_table(vpaths: &[&str]) {
        let grants = vpaths
            .iter()
            .enumerate()
            .map(|(i, v)| Grant { fd: AtomicI32::new(100 + i as i32), mode: b'r', vpath: v.as_bytes().to_vec(), mnt_id: i as u64, nodev: false, shadows: false })
            .collect();
        set_table(grants);
    }

    /// (Called from `the_longest_plainly_spelt_grant_prefix`: the table is
    /// one for the process, and tests run at once.)
    fn a_path_is_found_among_its_letter_s_grants_and_the_root() {
        with_table(&["/var/x", "/", "/usr", "/u", "/etc"]);
        let f = |p: &str| find(p.as_bytes()).map(|(g, r)| (g.fd(), core::str::from_utf8(r).unwrap().to_owned()));
        assert_eq!(f("/usr/a"), Some((102, "a".into())));
        assert_eq!(f("/u/a"), Some((103, "a".into())));
        assert_eq!(f("/ux/a"), Some((101, "ux/a".into())));
        assert_eq!(f("/var/x/y"), Some((100, "y".into())));
        assert_eq!(f("/var/y"), Some((101, "var/y".into())));
        assert_eq!(f("/bin/sh"), Some((101, "bin/sh".into())));
        assert_eq!(f("/"), Some((101, "".into())));
        assert_eq!(f("/etc"), Some((104, "".into())));
    }

    #[test]
    fn the_longest_plainly_spelt_grant_prefix() {
        // (The launcher never gives a grant that holds another.)
        with_table(&["/usr", "/opt/share", "/home/u/p"]);
        let f = |p: &str| find(p.as_bytes()).map(|(g, r)| (g.fd(), core::str::from_utf8(r).unwrap().to_owned()));
        assert_eq!(f("/usr/lib/x.so"), Some((100, "lib/x.so".into())));
        assert_eq!(f("/usr"), Some((100, "".into())));
        assert_eq!(f("/usr/"), Some((100, "".into())));
        assert_eq!(f("/usr//lib/../x"), Some((100, "lib/../x".into())));
        assert_eq!(f("/opt/share/a"), Some((101, "a".into())));
        assert_eq!(f("/opt"), None);
        assert_eq!(f("/usrx/lib"), None);
        assert_eq!(f("/usr/./local/a"), Some((100, "./local/a".into())));
        assert_eq!(f("/home/u/p2"), None);
        assert_eq!(f("/home/u"), None);
        assert_eq!(f("/./usr/lib"), None);
        assert_eq!(f("/"), None);
        a_path_is_found_among_its_letter_s_grants_and_the_root();
    }

    #[test]
    fn names_in_virtual_directories_that_are_none_of_their_entries_are_missing() {
        let n = |k: bool, v: &str| (k, v.as_bytes().to_vec());
        // Grants /usr, /usr/share/doc (nested), /home/u/w, /etc/passwd; the
        // virtual directories above them and a kept one, /k.
        set_names(alloc::vec![
            n(true, "/usr"), n(true, "/usr/share/doc"), n(true, "/home/u/w"), n(true, "/etc/passwd"),
            n(false, "/"), n(false, "/home"), n(false, "/home/u"), n(false, "/etc"), n(false, "/k"),
        ]);
        let m = |p: &str| missing(p.as_bytes(), false);
        for p in ["/root", "/root/.cargo/bin/gcc", "/home/v", "/home/u/x/y", "/etc/shadow", "/k/x", "//root", "/./root/"] {
            assert!(m(p), "{p}");
        }
        // In a grant (its own walk), a virtual directory itself, the
        // handler's own names, `..`, an overlong name: not judged here.
        let long = alloc::format!("/{}", "a".repeat(256));
        for p in ["/usr/nothing", "/usr/share/doc/x", "/home/u/w/x", "/etc/passwd/x", "/", "/home/u", "/k", "/proc/self/x", "/dev/nothing", "/root/../usr", "/home/../root", &long] {
            assert!(!m(p), "{p}");
        }
        // A name made in a virtual directory is the server's (EROFS); a
        // missing directory on the way is ENOENT all the same.
        assert!(!missing(b"/newfile", true));
        assert!(missing(b"/nodir/newfile", true));
        // The virtual directories themselves (readlink: EINVAL here); not
        // grants, names in them, or paths not spelt plainly.
        for p in ["/", "/home", "/home/u", "/home/u/", "/etc", "/k"] {
            assert!(is_virtual_dir(p.as_bytes()), "{p}");
        }
        for p in ["/usr", "/usr/share", "/home/u/w", "/home/u/w/x", "/etc/passwd", "/root", "/home/v", "/home//u", "/home/./u", "/home/u/..", "/proc", "/dev", "home"] {
            assert!(!is_virtual_dir(p.as_bytes()), "{p}");
        }
        // A grant of the root itself (`--ro /`): nothing is a virtual
        // directory's name.
        set_names(alloc::vec![n(true, "/"), n(true, "/usr"), n(true, "/etc/passwd")]);
        for p in ["/var", "/etc/shadow", "/opt/x/y"] {
            assert!(!m(p), "{p}");
        }
        assert!(!is_virtual_dir(b"/"));
    }

    #[test]
    fn paths_go_through_granted_links_by_name() {
        let l = |a: &str, b: &str| (a.as_bytes().to_vec(), b.as_bytes().to_vec());
        set_links(alloc::vec![l("/bin", "/usr/bin"), l("/lib64", "/usr/lib64"), l("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC")]);
        let f = |p: &str, follow: bool| link_in(p.as_bytes(), follow).map(|(k, t)| (k, core::str::from_utf8(t).unwrap().to_owned()));
        assert_eq!(f("/bin/sh", false), Some((4, "/usr/bin".into())), "a link on the way is always followed");
        assert_eq!(f("/bin", true), Some((4, "/usr/bin".into())));
        assert_eq!(f("/bin", false), None, "lstat, readlink: the link itself (the server's)");
        assert_eq!(f("/bin/", false), Some((4, "/usr/bin".into())), "a trailing slash follows");
        assert_eq!(f("/lib64/ld-linux-x86-64.so.2", true), Some((6, "/usr/lib64".into())));
        assert_eq!(f("/etc/localtime", true), Some((14, "/usr/share/zoneinfo/Etc/UTC".into())));
        for p in ["/binx/sh", "/lib/x", "/usr/bin/sh", "bin/sh", "/etc/localtimes", "/./bin/sh"] {
            assert_eq!(f(p, true), None, "{p}");
        }
    }

    #[test]
    fn only_paths_without_dot_dot_go_down_unconfined() {
        for p in ["a\0", "a/b/c\0", ".\0", "./a\0", "a//b/\0", "..a/b..\0", "a/...\0"] {
            assert!(descends_only(p.as_bytes()), "{p}");
        }
        for p in ["..\0", "../a\0", "a/..\0", "a/../b\0", "a//..//b\0", "/a\0", "/\0"] {
            assert!(!descends_only(p.as_bytes()), "{p}");
        }
        // Without the NUL too, as `pola::gate_open` asks (its path's rest).
        for climbs in ["..", "../x", "a/..", "a/../b", "a//../b", "a/b/c/.."] {
            assert!(!descends_only(climbs.as_bytes()), "{climbs}");
        }
        for plain in ["", ".", "a", "a..", "..a", "a/..b", "a/b..", "a/.../b", "a/./b", "include/stdio.h", ".a/.b/c."] {
            assert!(descends_only(plain.as_bytes()), "{plain}");
        }
    }
}
