//! The owners a session of an ordinary user cannot see (handler/src/
//! owners.rs): its user namespace maps only the user's ids, so the kernel
//! shows root's /usr as the overflow id there, and the handler asks the
//! server, on the host, for the real ones.
//!
//! Three ways the server tells them:
//! - `Owners`: of one file, or of a directory and its entries (and small
//!   subdirectories' entries), in the reply;
//! - the owners table (`proto::owners_table`), a memfd the server writes
//!   and every process of the session maps read-only (`OwnersTable` hands
//!   out a read-only fd of it): what one process was told, the others find
//!   without asking (each of gcc's processes stats the same libraries);
//! - the walker, a thread of the server's own that goes on from a
//!   directory a program walks (an `Owners` request for names beside a
//!   directory fd: tar, find, du, cp -r walk so) into its subdirectories,
//!   depth first in the order a walk takes them, and writes their owners
//!   into the table ahead of the program: on 2 CPUs the host's stats run
//!   beside the program's own instead of between them.

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use preld_proto::{self as proto, owners_table};

use super::{Server, THREAD_STACK};
use crate::pola::sys::{self, SysResult};

/// Large directories whose owners the server keeps (`Owners::lists`).
const OWNER_LISTS: usize = 64;
/// The most entries of one large directory whose owners it reads.
const OWNER_LIST_MAX: usize = 16384;

/// A directory of one block of entries (ext4's size of a small one):
/// `owners` goes into such subdirectories.
const SMALL_DIR: u64 = 4096;
/// Owners of subdirectories' entries one Owners reply may add.
const SUBDIR_OWNERS: usize = 512;

/// Files the walker stats for one walking request before it stops (about
/// 30 ms of a CPU): a program that walks on past them asks again, from
/// where it is, and the walker starts over from there.
const WALK_BUDGET: usize = 16384;
/// Directories the walker goes down into (one fd each, held while it is
/// below): deeper ones are left to the program's own requests.
const WALK_DEPTH: usize = 24;
/// The most names the walker lists of one directory.
const WALK_NAMES: usize = 16384;

/// fds the owners' machinery may hold: the table's two, the walker's
/// directories, the one it opens and the next walk's, the large
/// directories waiting to be listed and those it took to list.
pub(super) const OWNERS_FDS: usize = 2 + WALK_DEPTH + 2 + 2 * LISTS_QUEUED;

/// The server's part of the owners: what `Server::owners` keeps.
#[derive(Default)]
pub(super) struct Owners {
    /// Owners of the entries of large directories, by the directory's
    /// (st_dev, st_ino), with its ctime and mtime when they were read:
    /// each of a session's processes asks again for the same ones (ld.so's
    /// and ld's libraries), at most OWNER_LISTS of them.
    lists: HashMap<(u64, u64), ((i64, u32, i64, u32), std::rc::Rc<Vec<proto::Owner>>)>,
    /// The owners table, made on the first `OwnersTable` request (a
    /// session of root's never asks).
    table: Option<Arc<Table>>,
    /// The walker, started with the table (again in a fork child: threads
    /// do not survive fork).
    walker: Option<Walker>,
    /// Large directories the walker was given to list, with their ctime
    /// and mtime then (`list_later`), at most LISTED_KEPT.
    listed: HashMap<(u64, u64), (i64, u32, i64, u32)>,
    /// `Server::shadow_ids`, kept while the grants (how many, how many
    /// live) stay as they were.
    shadows: Option<((usize, usize), Shadows)>,
}

/// Objects no name of the session reaches (`Server::shadow_ids`), which
/// the owners leave out: a map's hidden part of the outer grant's copy
/// (session-20 adversary: its files' owners were told for O_PATH fds of
/// them and written into the table by the walker; test
/// `a_map_s_hidden_files_owners_are_not_told`).
type Shadows = Arc<Vec<(u64, u64)>>;

const LISTED_KEPT: usize = 4096;

impl Owners {
    /// Whether the table (and the walker's fds) may be held.
    pub(super) fn fds(&self) -> usize {
        if self.table.is_some() {
            OWNERS_FDS
        } else {
            0
        }
    }
}

/// The owners table, mapped read-write here.
struct Table {
    words: &'static [AtomicU64],
    /// Its memfd (read-write) and a read-only fd of it, the one handed out.
    _rw: OwnedFd,
    ro: OwnedFd,
    /// Picks which slot of a full bucket goes.
    victim: AtomicUsize,
}

impl Table {
    fn new() -> SysResult<Table> {
        let (rw, ro, at) = sys::shared_table(owners_table::BYTES)?;
        // SAFETY: `at` is a read-write shared mapping of BYTES bytes that
        // is never unmapped (the table lives as long as the server), page
        // aligned; any bytes are valid AtomicU64s.
        let words = unsafe { std::slice::from_raw_parts(at as *const AtomicU64, owners_table::WORDS) };
        Ok(Table { words, _rw: rw, ro, victim: AtomicUsize::new(0) })
    }

    fn record(&self, o: &proto::Owner) {
        let v = self.victim.fetch_add(1, Ordering::Relaxed);
        owners_table::insert(self.words, o.dev, o.ino, o.uid, o.gid, v);
    }
}

/// What the walker is to do: walk on from `dir`'s subdirectories (stat
/// only directories if `dirs_only`), unless a later job has come
/// (`generation` moved on).
struct Job {
    dir: OwnedFd,
    dirs_only: bool,
    generation: u64,
    shadows: Shadows,
}

/// The walker's work, shared with the event loop: the walk to go on with,
/// and large directories to list (their entries' owners, not below),
/// which come first, between two directories of a walk.
#[derive(Default)]
struct Jobs {
    walk: Option<Job>,
    lists: Vec<(OwnedFd, Shadows)>,
}

/// Large directories waiting to be listed, at most: a program asks about
/// one file of each at a time.
const LISTS_QUEUED: usize = 16;

#[derive(Default)]
struct Shared {
    jobs: Mutex<Jobs>,
    wake: Condvar,
    /// Goes up with every walk asked for, and when the walker is dropped.
    generation: AtomicU64,
    /// Whether `jobs.lists` may hold a directory (looked at between two
    /// directories of a walk without the lock).
    lists_waiting: std::sync::atomic::AtomicBool,
}

struct Walker {
    /// The process the walker thread runs in.
    pid: u32,
    shared: Arc<Shared>,
}

impl Walker {
    fn start(table: Arc<Table>) -> Option<Walker> {
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("preld-owners".into())
            .stack_size(THREAD_STACK)
            .spawn(move || walker_thread(&table, &theirs))
            .ok()?;
        Some(Walker { pid: std::process::id(), shared })
    }

    /// Walks on from `dir` instead of whatever the walker was doing.
    fn walk(&self, dir: OwnedFd, dirs_only: bool, shadows: Shadows) {
        let s = &*self.shared;
        let g = s.generation.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut j) = s.jobs.lock() {
            j.walk = Some(Job { dir, dirs_only, generation: g, shadows });
            s.wake.notify_one();
        }
    }

    /// Lists `dir` (a large directory) when it can. False if too many
    /// wait already.
    fn list(&self, dir: OwnedFd, shadows: Shadows) -> bool {
        let s = &*self.shared;
        let Ok(mut j) = s.jobs.lock() else { return false };
        if j.lists.len() >= LISTS_QUEUED {
            return false;
        }
        j.lists.push((dir, shadows));
        s.lists_waiting.store(true, Ordering::Release);
        s.wake.notify_one();
        true
    }
}

impl Drop for Walker {
    fn drop(&mut self) {
        // Stops its walk; the thread itself waits for a job that never
        // comes, and does not keep the process alive.
        self.shared.generation.fetch_add(1, Ordering::Relaxed);
    }
}

fn walker_thread(table: &Table, shared: &Shared) {
    // The directory the walk being followed started from.
    let mut root = None;
    let mut listings = Listings::default();
    loop {
        let next = {
            let Ok(mut j) = shared.jobs.lock() else { return };
            loop {
                if !j.lists.is_empty() || j.walk.is_some() {
                    break std::mem::take(&mut *j);
                }
                let Ok(again) = shared.wake.wait(j) else { return };
                j = again;
            }
        };
        shared.lists_waiting.store(false, Ordering::Release);
        for (dir, shadows) in next.lists {
            list(table, dir.as_fd(), &shadows);
        }
        let Some(walk_job) = next.walk else { continue };
        if let Some(stack) = walk_from(walk_job.dir, &mut root, &mut listings) {
            let lists_between = || {
                if shared.lists_waiting.swap(false, Ordering::AcqRel) {
                    let lists = shared.jobs.lock().map(|mut j| std::mem::take(&mut j.lists)).unwrap_or_default();
                    for (dir, shadows) in lists {
                        list(table, dir.as_fd(), &shadows);
                    }
                }
            };
            let stop = || shared.generation.load(Ordering::Relaxed) != walk_job.generation;
            walk(table, stack, &mut listings, walk_job.dirs_only, &walk_job.shadows, lists_between, stop);
        }
    }
}

/// Writes the owners of the entries of `dir` into `table`.
fn list(table: &Table, dir: BorrowedFd<'_>, shadows: &[(u64, u64)]) {
    let Ok(names) = sys::entry_names(dir, OWNER_LIST_MAX) else { return };
    for n in names {
        if let Ok((o, _)) = sys::owner_at(dir, &n, false) {
            if !shadows.contains(&(o.dev, o.ino)) {
                table.record(&o);
            }
        }
    }
}

/// A directory's entries: name, inode number, whether it may be a
/// directory (`sys::entries_typed`).
type Listing = std::rc::Rc<Vec<(std::ffi::CString, u64, bool)>>;

/// The listings of the large directories the walker has listed, by (dev,
/// ino): a walk started again further on (the program got ahead of the
/// walker, or a new one) lists each directory above it again to find
/// where it is, and /usr/lib's thousands of entries took longer than the
/// walk it saved. At most LISTINGS_KEPT of them; what a directory held
/// when it was listed (a stale one only walks wrongly, owners are each
/// file's own).
#[derive(Default)]
struct Listings {
    kept: HashMap<(u64, u64), Listing>,
    /// Entries kept, in all.
    entries: usize,
}

/// Directories of at least this many entries are kept in `Listings`, at
/// most LISTINGS_KEPT of them and LISTED_ENTRIES_KEPT entries in all.
const LISTING_KEPT_FROM: usize = 64;
const LISTINGS_KEPT: usize = 256;
const LISTED_ENTRIES_KEPT: usize = 1 << 18;

impl Listings {
    /// The entries of `dir`, whose (dev, ino) is `id`.
    fn of(&mut self, dir: BorrowedFd<'_>, id: (u64, u64)) -> Option<Listing> {
        if let Some(l) = self.kept.get(&id) {
            return Some(l.clone());
        }
        let list = sys::open_listing(dir, c".").and_then(|d| sys::entries_typed(d.as_fd(), WALK_NAMES)).ok()?;
        Some(self.keep(id, list))
    }

    fn keep(&mut self, id: (u64, u64), list: Vec<(std::ffi::CString, u64, bool)>) -> Listing {
        let list = std::rc::Rc::new(list);
        if list.len() >= LISTING_KEPT_FROM {
            if self.kept.len() >= LISTINGS_KEPT || self.entries + list.len() > LISTED_ENTRIES_KEPT {
                self.kept.clear();
                self.entries = 0;
            }
            self.entries += list.len();
            if let Some(old) = self.kept.insert(id, list.clone()) {
                self.entries -= old.len();
            }
        }
        list
    }
}

/// One directory on the walk: its fd (on the walk's mount), and the
/// subdirectories of it still to walk, in the order a walk takes them
/// (reversed: the next is last).
struct Frame {
    fd: OwnedFd,
    mnt: u64,
    subdirs: Vec<std::ffi::CString>,
}

/// The walk as it stands once a program walking from `root` has come to
/// `dir` (whose entries it was just told): `dir`'s subdirectories, then
/// each directory above `dir` up to `root` with its subdirectories that
/// come after the one the program is in. Where `dir` is not below `root`
/// (no longer than WALK_DEPTH up, never past its mount's root: a grant's
/// copy, or a mount below it), a new walk: `dir` becomes `root`.
fn walk_from(dir: OwnedFd, root: &mut Option<(u64, u64)>, listings: &mut Listings) -> Option<Vec<Frame>> {
    let mnt = sys::mount_id(dir.as_fd()).ok()?;
    let (dev, ino, mut at_top) = sys::dir_place(dir.as_fd()).ok()?;
    let subdirs = subdirs_after(&listings.of(dir.as_fd(), (dev, ino))?, None);
    let mut up = vec![Frame { fd: dir, mnt, subdirs }];
    let mut here = (dev, ino);
    let below_root = loop {
        if Some(here) == *root {
            break true;
        }
        if at_top || up.len() >= WALK_DEPTH {
            break false;
        }
        let Some(last) = up.last() else { break false };
        let Ok(parent) = sys::open_listing(last.fd.as_fd(), c"..") else { break false };
        let Ok((d, i, top)) = sys::dir_place(parent.as_fd()) else { break false };
        if sys::mount_id(parent.as_fd()).ok() != Some(mnt) {
            break false;
        }
        let Some(list) = listings.of(parent.as_fd(), (d, i)) else { break false };
        up.push(Frame { fd: parent, mnt, subdirs: subdirs_after(&list, Some(here.1)) });
        here = (d, i);
        at_top = top;
    };
    if !below_root {
        up.truncate(1);
        *root = Some((dev, ino));
    }
    up.reverse();
    Some(up)
}

/// The entries of `list` that may be directories, in the order listed,
/// reversed; with `after`, only those listed after the entry of that inode.
fn subdirs_after(list: &Listing, after: Option<u64>) -> Vec<std::ffi::CString> {
    let from = match after {
        Some(ino) => list.iter().position(|e| e.1 == ino).map_or(list.len(), |k| k + 1),
        None => 0,
    };
    list[from..].iter().filter(|e| e.2).map(|e| e.0.clone()).rev().collect()
}

/// Walks on from `stack` (`walk_from`), writing the owners of each
/// directory's entries (its subdirectories' only, if `dirs_only`) into
/// `table`, depth first, a directory's entries before its subdirectories
/// (the order of tar's and fts's walks), on the walk's mount only, until
/// WALK_BUDGET files, or `stop()`; `between()` between two directories
/// (the lists asked for meanwhile).
fn walk(table: &Table, mut stack: Vec<Frame>, listings: &mut Listings, dirs_only: bool, shadows: &[(u64, u64)], between: impl Fn(), stop: impl Fn() -> bool) {
    let mut budget = WALK_BUDGET;
    while budget > 0 && !stop() {
        between();
        let Some(f) = stack.last_mut() else { return };
        let Some(name) = f.subdirs.pop() else {
            stack.pop();
            continue;
        };
        let mnt = f.mnt;
        let Ok(dir) = sys::open_listing(f.fd.as_fd(), &name) else { continue };
        // (A mount point: another file system, or a bind mount, whose
        // place beneath a grant the server has not checked.)
        if sys::mount_id(dir.as_fd()).ok() != Some(mnt) {
            continue;
        }
        // (Nor a directory no name reaches, whose entries no name does.)
        if sys::dir_place(dir.as_fd()).is_ok_and(|(d, i, _)| shadows.contains(&(d, i))) {
            continue;
        }
        let Ok(mut names) = sys::entries_typed(dir.as_fd(), WALK_NAMES) else { continue };
        let mut below = Vec::new();
        for (n, _, maybe_dir) in names.iter_mut() {
            if dirs_only && !*maybe_dir {
                continue;
            }
            budget = budget.saturating_sub(1);
            match sys::owner_at(dir.as_fd(), n, false) {
                Ok((o, _)) if shadows.contains(&(o.dev, o.ino)) => *maybe_dir = false,
                Ok((o, d)) => {
                    table.record(&o);
                    *maybe_dir = d.is_some();
                    if d.is_some() {
                        below.push(n.clone());
                    }
                }
                Err(_) => *maybe_dir = false,
            }
        }
        if names.len() >= LISTING_KEPT_FROM {
            if let Ok((d, i, _)) = sys::dir_place(dir.as_fd()) {
                listings.keep((d, i), names);
            }
        }
        if stack.len() < WALK_DEPTH && !below.is_empty() {
            below.reverse();
            stack.push(Frame { fd: dir, mnt, subdirs: below });
        }
    }
}

impl Server {
    /// A read-only fd of the owners table, made on first use, and the
    /// walker with it.
    pub(super) fn owners_table(&mut self) -> SysResult<OwnedFd> {
        if self.owners.table.is_none() {
            // (Under a low fd limit the connections keep the fds: the
            // handler asks the server each time instead.)
            if self.fds_left() < 2 * OWNERS_FDS {
                return Err(libc::EMFILE);
            }
            let t = Arc::new(Table::new()?);
            self.owners.table = Some(t);
        }
        let t = self.owners.table.as_ref().ok_or(libc::EIO)?;
        t.ro.try_clone().map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))
    }

    /// `shadow_ids`, kept while the grants stay as they were.
    fn shadows(&mut self) -> Shadows {
        let key = (self.ns.grants.len(), self.ns.grants.iter().filter(|g| g.live).count());
        match &self.owners.shadows {
            Some((k, s)) if *k == key => s.clone(),
            _ => {
                let s = Arc::new(self.shadow_ids());
                self.owners.shadows = Some((key, s.clone()));
                s
            }
        }
    }

    /// Has the walker go on from `dir` (a directory on a grant a program
    /// walks), if there is a table; started again in a fork child.
    fn walk_on(&mut self, dir: BorrowedFd<'_>, dirs_only: bool) {
        let Some(table) = self.owners.table.clone() else { return };
        if self.owners.walker.as_ref().is_none_or(|w| w.pid != std::process::id()) {
            self.owners.walker = Walker::start(table);
        }
        let shadows = self.shadows();
        if let (Some(w), Ok(fd)) = (&self.owners.walker, sys::open_listing(dir, c".")) {
            w.walk(fd, dirs_only, shadows);
        }
    }

    /// Has the walker list the large directory `fd` (whose own owners
    /// are `dir`) into the table, if there is one, once a session (again
    /// once it changed, as `owner_list`'s). False: no table, or too much
    /// waits already (the reply lists it then).
    fn list_later(&mut self, fd: BorrowedFd<'_>, dir: proto::Owner) -> bool {
        let Some(table) = self.owners.table.clone() else { return false };
        let Ok(stamp) = sys::change_times(fd) else { return false };
        if self.owners.listed.get(&(dir.dev, dir.ino)) == Some(&stamp) {
            return true;
        }
        if self.owners.walker.as_ref().is_none_or(|w| w.pid != std::process::id()) {
            self.owners.walker = Walker::start(table);
        }
        let shadows = self.shadows();
        let (Some(w), Ok(dup)) = (&self.owners.walker, sys::open_listing(fd, c".")) else { return false };
        if !w.list(dup, shadows) {
            return false;
        }
        if self.owners.listed.len() >= LISTED_KEPT {
            self.owners.listed.clear();
        }
        self.owners.listed.insert((dir.dev, dir.ino), stamp);
        true
    }

    /// Writes what an `Owners` reply tells into the table, if there is one.
    fn record_owners(&self, list: &[proto::Owner]) {
        if let Some(t) = &self.owners.table {
            for o in list {
                t.record(o);
            }
        }
    }

    /// The host's owners of the attached file, and if it is a directory of
    /// its entries, from index `skip` on (0: the directory itself): what a
    /// session of an ordinary user sees as the overflow id, since its user
    /// namespace maps no id but the user's (handler/src/owners.rs). With
    /// room left in the frame after a whole directory, its subdirectories'
    /// entries follow, breadth first (tar, find and ls -R walk on into
    /// them: one round trip for many small directories), up to one entry
    /// less than a full frame, which alone means "ask again from `skip`".
    /// Entries only of a directory on one of the grants' copies, or on a
    /// mount below one found at its place beneath the grant: a directory
    /// elsewhere (an inherited fd on FUSE or NFS) could keep the event loop
    /// waiting, and the owners of files the session can name anyway are all
    /// it learns; of an fd elsewhere, its object's own owners alone.
    pub(super) fn owners(&mut self, fds: &[OwnedFd], skip: u32, flags: u32) -> SysResult<Vec<proto::Owner>> {
        let fd = fds.first().ok_or(libc::EINVAL)?.as_fd();
        let walking = flags & proto::OWNERS_SUBDIRS != 0;
        let (list, listed) = self.owners_of(fd, skip, walking)?;
        self.record_owners(&list);
        if listed && walking && skip == 0 {
            self.walk_on(fd, flags & proto::OWNERS_DIRS_ONLY != 0);
        }
        Ok(list)
    }

    /// `owners`' list, and whether it lists a directory on a grant.
    fn owners_of(&mut self, fd: BorrowedFd<'_>, skip: u32, subdirs_too: bool) -> SysResult<(Vec<proto::Owner>, bool)> {
        let mnt = sys::mount_id(fd)?;
        // On a mount below a grant's copy (another file system mounted in
        // the granted tree, a bind mount there): only where the same
        // object lies at its place beneath a grant (the session's files
        // there showed 65534).
        let by_mount = self.ns.grants.iter().position(|g| g.mnt_id == Some(mnt));
        // (At a place the namespace gives another object: a map's hidden
        // part of the grant's copy, which no name reaches.)
        if by_mount.is_some_and(|g| self.shadowed_fd(g, fd)) {
            return Err(libc::ENOENT);
        }
        let in_submount = match by_mount {
            Some(_) => None,
            None => sys::fstat_cached(fd, sys::STATX_CHECK).ok().and_then(|st| self.place_in_submount(fd, &st)),
        };
        if in_submount.as_ref().is_some_and(|(g, inside)| self.shadowed(*g, Some(inside))) {
            return Err(libc::ENOENT);
        }
        let on_grant = by_mount.is_some() || in_submount.is_some();
        let shadows = self.shadows();
        let own = sys::owner_at(fd, c"", true)?;
        if !on_grant {
            // Elsewhere (an fd the program inherited from outside, `--fd`
            // or its stdin: a host file showed 65534; a pipe, the
            // session's procfs): the object's own owners only, which its
            // holder may see natively (statx that never waits), never a
            // listing.
            return Ok((vec![own.0], false));
        }
        let Some(size) = own.1 else { return Ok((vec![own.0], false)) };
        if size > SMALL_DIR && skip == 0 && self.list_later(fd, own.0) {
            // A large directory, with the table: its entries' owners go
            // there from the walker's thread, and the program asks about
            // its file alone meanwhile (1,078 host stats of /usr/bin were
            // 2 ms of a gcc's in a session of nobody's).
            return Ok((vec![own.0], false));
        }
        if size > SMALL_DIR {
            // A large directory: all its entries' owners, read once while
            // it is unchanged, then in pages.
            let list = self.owner_list(fd, own.0, &shadows)?;
            let from = (skip as usize).saturating_sub(1).min(list.len());
            let mut page = if skip == 0 { vec![own.0] } else { Vec::new() };
            let take = proto::OWNERS_MAX - page.len();
            page.extend(list[from..].iter().take(take).copied());
            return Ok((page, true));
        }
        let mut list = if skip == 0 { vec![own.0] } else { Vec::new() };
        // (With the table, the walker goes on into the subdirectories,
        // and the reply goes now.)
        let subdirs_too = subdirs_too && self.owners.table.is_none();
        let top = sys::open_listing(fd, c".")?;
        let mut subdirs = Vec::new();
        let mut index = 0u32;
        for name in sys::entry_names(top.as_fd(), (skip as usize).saturating_add(proto::OWNERS_MAX))? {
            index += 1;
            if index < skip {
                continue;
            }
            if list.len() == proto::OWNERS_MAX {
                return Ok((list, true));
            }
            // (Gone since it was listed, or no name reaches it: left out.)
            if let Ok((o, dir)) = sys::owner_at(top.as_fd(), &name, false) {
                if shadows.contains(&(o.dev, o.ino)) {
                    continue;
                }
                list.push(o);
                if subdirs_too && dir.is_some_and(|size| size <= SMALL_DIR) && o.dev == own.0.dev {
                    subdirs.push((None, name));
                }
            }
        }
        // Small subdirectories', breadth first, while they fit whole in
        // what is left of SUBDIR_OWNERS (the host's stat of each is the
        // cost: a millisecond a thousand).
        let room = (list.len() + SUBDIR_OWNERS).min(proto::OWNERS_MAX - 1);
        let mut parents: Vec<OwnedFd> = vec![top];
        let mut next = 0;
        while next < subdirs.len() && list.len() < room {
            let (parent, name) = std::mem::take(&mut subdirs[next]);
            next += 1;
            let at = parent.map_or(0, |p: usize| p);
            let Ok(dir) = sys::open_listing(parents[at].as_fd(), &name) else { continue };
            let Ok(names) = sys::entry_names(dir.as_fd(), SUBDIR_OWNERS + 1) else { continue };
            if list.len() + names.len() > room {
                break;
            }
            parents.push(dir);
            let here = parents.len() - 1;
            for name in names {
                if let Ok((o, dir)) = sys::owner_at(parents[here].as_fd(), &name, false) {
                    if shadows.contains(&(o.dev, o.ino)) {
                        continue;
                    }
                    list.push(o);
                    if dir.is_some_and(|size| size <= SMALL_DIR) && o.dev == own.0.dev {
                        subdirs.push((Some(here), name));
                    }
                }
            }
        }
        Ok((list, true))
    }

    /// The owners of every entry of the large directory `fd` (whose own
    /// are `dir`), kept while its ctime and mtime stand.
    fn owner_list(&mut self, fd: BorrowedFd<'_>, dir: proto::Owner, shadows: &[(u64, u64)]) -> SysResult<std::rc::Rc<Vec<proto::Owner>>> {
        let stamp = sys::change_times(fd)?;
        if let Some((was, list)) = self.owners.lists.get(&(dir.dev, dir.ino)) {
            if *was == stamp {
                return Ok(list.clone());
            }
        }
        let top = sys::open_listing(fd, c".")?;
        let mut list = Vec::new();
        // (At most OWNER_LIST_MAX: past them, a file's own owners are asked
        // about alone; a client's huge directory takes no more memory.)
        for name in sys::entry_names(top.as_fd(), OWNER_LIST_MAX)? {
            if let Ok((o, _)) = sys::owner_at(top.as_fd(), &name, false) {
                if !shadows.contains(&(o.dev, o.ino)) {
                    list.push(o);
                }
            }
        }
        let list = std::rc::Rc::new(list);
        if self.owners.lists.len() >= OWNER_LISTS {
            self.owners.lists.clear();
        }
        self.owners.lists.insert((dir.dev, dir.ino), (stamp, list.clone()));
        Ok(list)
    }
}
