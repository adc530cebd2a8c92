//! The owners a session of an ordinary user cannot see. Its user namespace
//! maps only the user's own uid and gid (no id of the host's root can be
//! mapped without privilege), so the kernel shows every other owner, root's
//! /usr among them, as the overflow id: `ls -ln /usr/bin/ls` said 65534
//! 65534 and tar recorded it. Where a stat the process makes itself shows
//! that id, the server, on the host, is asked for the real ones (Owners):
//! for the whole directory the file is in at once (tar and ls stat every
//! name of a directory in turn), remembered by device and inode. What the
//! server learns, for this process or any other of the session, it also
//! writes into the owners table (preld_proto::owners_table), which this
//! process maps read-only on first need and looks in before it asks: the
//! server's walker fills it ahead of a tar or find (server/src/pola/serve/
//! owners.rs). A session started by root maps every id: none of this is
//! done there.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use preld_proto::{owners_table, ReplyData, Request, OWNERS_MAX};

use crate::abi::{F_GET_SEALS, F_SEAL_SHRINK, MAP_SHARED, PROT_READ, S_IFDIR, S_IFMT};
use crate::errno::{EIO, EXDEV};
use crate::thread::ThreadBlock;
use crate::{ownfd, rpc, sys};

/// The id the kernel shows for one its user namespace does not map
/// (/proc/sys/kernel/overflowuid and overflowgid, 65534 unless an
/// administrator changed them).
const OVERFLOW: u32 = 65534;

static ON: AtomicBool = AtomicBool::new(false);

/// In a session: whether its user namespace maps only the user's own ids
/// (any session but root's). At start, and again in an exec'd image.
pub fn start_session() {
    ON.store(sys::getuid() != 0, Ordering::Relaxed);
}

/// Remembered owners: direct-mapped by (dev, ino), behind one lock (taken
/// for a few loads or stores; never across a call).
const ENTRIES: usize = 65536;
struct Entry {
    dev: AtomicU64,
    ino: AtomicU64,
        /// uid << 32 | gid; UNTOLD: the server cannot tell (not on a grant's
    /// copy: the session's procfs, devpts, ld-preld's own file).
    ids: AtomicU64,
}
const UNTOLD: u64 = u64::MAX;
static TABLE: [Entry; ENTRIES] = [const { Entry { dev: AtomicU64::new(0), ino: AtomicU64::new(0), ids: AtomicU64::new(0) } }; ENTRIES];
static LOCK: AtomicBool = AtomicBool::new(false);

fn locked<T>(f: impl FnOnce() -> T) -> T {
    while LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        core::hint::spin_loop();
    }
    let r = f();
    LOCK.store(false, Ordering::Release);
    r
}

/// In a fork child: another thread may have held the lock at the fork (a
/// child of a process whose other thread was fixing owners spun on it for
/// good; session-19b adversary, test
/// `a_fork_child_fixes_owners_while_another_thread_did`), or been mapping
/// the table (the child maps it again).
pub fn forked() {
    LOCK.store(false, Ordering::Release);
    let _ = SHARED.compare_exchange(MAPPING, 0, Ordering::AcqRel, Ordering::Relaxed);
}

fn slot(dev: u64, ino: u64) -> &'static Entry {
    let h = (ino ^ dev.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    &TABLE[(h >> 50) as usize % ENTRIES]
}

/// The remembered owners of (dev, ino): Some(None) if the server could
/// not tell them.
fn lookup(dev: u64, ino: u64) -> Option<Option<(u32, u32)>> {
    let e = slot(dev, ino);
    locked(|| {
        let ids = e.ids.load(Ordering::Relaxed);
        (e.ino.load(Ordering::Relaxed) == ino && e.dev.load(Ordering::Relaxed) == dev && ino != 0)
            .then_some((ids != UNTOLD).then_some(((ids >> 32) as u32, ids as u32)))
    })
}

fn remember(dev: u64, ino: u64, ids: u64) {
    let e = slot(dev, ino);
    locked(|| {
        e.dev.store(dev, Ordering::Relaxed);
        e.ino.store(ino, Ordering::Relaxed);
        e.ids.store(ids, Ordering::Relaxed);
    });
}

/// Where the session's owners table is mapped in this process: 0 before
/// it was asked for, MAPPING while a thread asks, NONE if it could not be
/// had (the server made none: not asked again).
static SHARED: AtomicUsize = AtomicUsize::new(0);
const MAPPING: usize = 1;
const NONE: usize = 2;

/// The session's owners table, mapped on first use (read-only: the fd the
/// server hands out is, and preld's memory guard keeps the application
/// from unmapping or remapping it). Inherited by a fork child; an exec'd
/// image asks again.
fn shared(t: &mut ThreadBlock) -> Option<&'static [AtomicU64]> {
    let mut at = SHARED.load(Ordering::Acquire);
    if at == 0 && SHARED.compare_exchange(0, MAPPING, Ordering::Acquire, Ordering::Relaxed).is_ok() {
        at = map_shared(t).unwrap_or(NONE);
        SHARED.store(at, Ordering::Release);
    }
    if at <= NONE {
        return None;
    }
    // SAFETY: `at` is a read-only shared mapping of the owners table,
    // owners_table::BYTES long, page aligned, kept for the process's life
    // (preld's memory: the application's munmap, mremap, mprotect and
    // MAP_FIXED over it fail with EPERM); its memfd is sealed against
    // shrinking, so no page of it faults. Only atomic loads read it.
    Some(unsafe { core::slice::from_raw_parts(at as *const AtomicU64, owners_table::WORDS) })
}

fn map_shared(t: &mut ThreadBlock) -> Option<usize> {
    let mut buf = [0u8; 64];
    let (reply, fd) = rpc::call(t, &Request::OwnersTable, &[], &mut buf, true, u64::MAX).ok()?;
    let fd = fd.filter(|_| reply.result >= 0)?;
    // The fd came at the lowest free number, where another thread of the
    // program may have closed it or put a file of its own meanwhile (a
    // memfd it cuts short: preld's reads of the mapping past its end were
    // SIGBUS, test `the_owners_table_s_fd_swapped_on_arrival_...`). Out of
    // the program's reach first (preld's: the fd guard keeps its close and
    // dup2 off), and mapped only if it can never shrink below the table.
    let fd = match ownfd::adopt_fd(fd) {
        Ok(own) => own,
        Err(_) => {
            sys::close(fd);
            return None;
        }
    };
    let whole = sys::fcntl(fd, F_GET_SEALS, 0).is_ok_and(|s| s & F_SEAL_SHRINK != 0)
        && sys::fstat(fd).is_ok_and(|st| st.size >= owners_table::BYTES as u64);
    // SAFETY: a new mapping at an address the kernel picks: it overlaps
    // nothing of preld's or the application's.
    let at = if whole { unsafe { sys::mmap(0, owners_table::BYTES, PROT_READ, MAP_SHARED, fd, 0) } } else { Err(EIO) };
    ownfd::release_fd(fd);
    let at = at.ok()?;
    // (preld's memory from here: resident.rs and the stat gate read it.)
    preld_arch::fast::OWNERS_TABLE.store(at, Ordering::Release);
    Some(at)
}

/// Stats whose owners the handler fixed (those the fast path's stat gate
/// found in the table are not counted), and Owners requests made: for
/// PRELD_STATS's report.
static FIXED: AtomicU64 = AtomicU64::new(0);
static ASKED: AtomicU64 = AtomicU64::new(0);

/// (stats the handler fixed the owners of, Owners requests), if this
/// session's owners need fixing.
pub fn counts() -> Option<(u64, u64)> {
    on().then(|| (FIXED.load(Ordering::Relaxed), ASKED.load(Ordering::Relaxed)))
}

/// Whether this process has the session's owners table mapped (the stat
/// gate looks there too).
pub fn in_table() -> bool {
    SHARED.load(Ordering::Relaxed) > NONE
}

/// The owners the session's table holds for (dev, ino).
fn shared_lookup(t: &mut ThreadBlock, dev: u64, ino: u64) -> Option<(u32, u32)> {
    owners_table::lookup(shared(t)?, dev, ino)
}

/// Asks the server for the owners of `fd` (a directory: of it and its
/// entries; another file: its own) and remembers them. Err: why it could
/// not say (EXDEV: not on a grant's copy).
fn fetch(t: &mut ThreadBlock, fd: i32, subdirs_too: bool) -> Result<(), i32> {
    let mut buf = alloc::vec![0u8; preld_proto::MAX_FRAME];
    let mut skip = 0usize;
    loop {
        let flags = match (subdirs_too, WALK_NAMED_OTHERS.load(Ordering::Relaxed)) {
            (false, _) => 0,
            (true, true) => preld_proto::OWNERS_SUBDIRS,
            (true, false) => preld_proto::OWNERS_SUBDIRS | preld_proto::OWNERS_DIRS_ONLY,
        };
        let req = Request::Owners { skip: skip.min(u32::MAX as usize) as u32, flags };
        ASKED.fetch_add(1, Ordering::Relaxed);
        let (reply, _) = rpc::call(t, &req, &[fd], &mut buf, true, u64::MAX)?;
        if reply.result < 0 {
            return Err(-reply.result as i32);
        }
        let ReplyData::Owners(owners) = reply.data else { return Err(EIO) };
        for o in owners.iter() {
            remember(o.dev, o.ino, (o.uid as u64) << 32 | o.gid as u64);
        }
        if owners.len() < OWNERS_MAX {
            return Ok(());
        }
        skip += owners.len();
    }
}

/// glibc's makedev, as `struct stat`'s st_dev holds it.
fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    (ma & 0xffff_f000) << 32 | (ma & 0xfff) << 8 | (mi & 0xffff_ff00) << 12 | (mi & 0xff)
}

/// Whether this process has named beside a directory fd a file other than
/// a directory whose owners needed fixing (tar has; find, which learns the
/// other entries' types from getdents, has not: the server's walker then
/// stats only directories ahead of it).
static WALK_NAMED_OTHERS: AtomicBool = AtomicBool::new(false);

/// `st`, a `struct stat` (or a `struct statx` if `statx`) the kernel filled
/// in the session, with the host's owners where it shows the overflow id:
/// remembered, or asked of the server. For `dir`, the directory the file
/// was named in (all its entries, and small subdirectories': tar, find and
/// ls name each in turn) where that directory is small (one block) or has
/// missed often (ld.so's fstat of a few libraries in a directory of a
/// thousand stays a few questions of one file each); else, or if that
/// said nothing of it, for `file` alone. `walking`: the file was named
/// beside a directory fd (tar, find, fts walk a tree so): `dir`'s reply
/// has small subdirectories' owners too, or the server's walker goes on
/// into them.
pub fn fix(t: &mut ThreadBlock, st: &mut [u8], statx: bool, dir: Option<i32>, file: Option<i32>, walking: bool) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let u32_at = |b: &[u8], i: usize| u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    // struct stat: st_dev 0, st_ino 8, st_uid 28, st_gid 32; struct statx:
    // stx_uid 20, stx_gid 24, stx_ino 32, stx_dev_major 136, minor 140.
    let (uid_at, gid_at) = if statx { (20, 24) } else { (28, 32) };
    if st.len() < if statx { 144 } else { 36 } {
        return;
    }
    if u32_at(st, uid_at) != OVERFLOW && u32_at(st, gid_at) != OVERFLOW {
        return;
    }
    FIXED.fetch_add(1, Ordering::Relaxed);
    if walking && !WALK_NAMED_OTHERS.load(Ordering::Relaxed) {
        // struct stat: st_mode (u32) at 24; struct statx: stx_mode (u16) at 28.
        let mode = if statx { u16::from_ne_bytes([st[28], st[29]]) as u32 } else { u32_at(st, 24) };
        if mode & S_IFMT != S_IFDIR {
            WALK_NAMED_OTHERS.store(true, Ordering::Relaxed);
        }
    }
    let (dev, ino) = key(st, statx);
    let mut known = lookup(dev, ino).or_else(|| shared_lookup(t, dev, ino).map(Some));
    let listed = dir.filter(|&d| known.is_none() && worth_listing(d));
    for fd in [listed, file].into_iter().flatten() {
        if known.is_some() {
            break;
        }
        match fetch(t, fd, walking && Some(fd) == listed) {
            Ok(()) => known = lookup(dev, ino),
            Err(EXDEV) => {}
            Err(_) => return,
        }
    }
    if known.is_none() {
        // Not asked about again.
        remember(dev, ino, UNTOLD);
    }
    if let Some(Some((uid, gid))) = known {
        st[uid_at..uid_at + 4].copy_from_slice(&uid.to_ne_bytes());
        st[gid_at..gid_at + 4].copy_from_slice(&gid.to_ne_bytes());
    }
}

/// Misses in a directory after which it is listed whatever its size.
const MISSES_TO_LIST: u32 = 8;
/// Misses by directory (dev, ino), direct-mapped: (key hash, count).
static MISSES: [AtomicU64; 256] = [const { AtomicU64::new(0) }; 256];

/// Whether the directory `d` is worth listing for one of its files: small
/// (one block of entries), or missed in MISSES_TO_LIST times.
fn worth_listing(d: i32) -> bool {
    let mut st = [0u8; 144];
    // SAFETY: fstat of an fd into preld's buffer of struct stat's size.
    if unsafe { sys::raw(syscalls::Sysno::fstat as usize, [d as usize, st.as_mut_ptr() as usize, 0, 0, 0, 0]) }.is_err() {
        return false;
    }
    let size = i64::from_ne_bytes(st[48..56].try_into().unwrap_or_default());
    if (0..=4096).contains(&size) {
        return true;
    }
    let (dev, ino) = key(&st, false);
    let h = (ino ^ dev.rotate_left(29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    let e = &MISSES[h as usize % MISSES.len()];
    let was = e.load(Ordering::Relaxed);
    let n = if was >> 32 == h { (was as u32).saturating_add(1) } else { 1 };
    e.store(h << 32 | n as u64, Ordering::Relaxed);
    n >= MISSES_TO_LIST
}

/// Whether `st` (as for `fix`) shows the overflow id for a file whose
/// owners are not remembered: `fix` would ask the server.
pub fn unknown(t: &mut ThreadBlock, st: &[u8], statx: bool) -> bool {
    if !overflows(st, statx) {
        return false;
    }
    let (dev, ino) = key(st, statx);
    lookup(dev, ino).is_none() && shared_lookup(t, dev, ino).is_none()
}

/// Whether `st` (as for `fix`) shows the overflow id in a session whose
/// owners need fixing: `fix` changes it (from what it remembers, or the
/// server's answer).
pub fn overflows(st: &[u8], statx: bool) -> bool {
    if !ON.load(Ordering::Relaxed) || st.len() < if statx { 144 } else { 36 } {
        return false;
    }
    let u32_at = |i: usize| u32::from_ne_bytes([st[i], st[i + 1], st[i + 2], st[i + 3]]);
    let (uid_at, gid_at) = if statx { (20, 24) } else { (28, 32) };
    u32_at(uid_at) == OVERFLOW || u32_at(gid_at) == OVERFLOW
}

fn key(st: &[u8], statx: bool) -> (u64, u64) {
    let u32_at = |i: usize| u32::from_ne_bytes([st[i], st[i + 1], st[i + 2], st[i + 3]]);
    let u64_at = |i: usize| u64::from_ne_bytes(st[i..i + 8].try_into().unwrap_or_default());
    if statx {
        (makedev(u32_at(136), u32_at(140)), u64_at(32))
    } else {
        (u64_at(0), u64_at(8))
    }
}

/// Whether stats in this session may need `fix` (then they are made into
/// preld's buffer first).
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}
