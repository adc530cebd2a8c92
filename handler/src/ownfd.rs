//! preld's own file descriptors (the trace output, the connections of a
//! capability session) live just above the fd limit, where the application
//! cannot allocate (from 1008 up when the hard limit leaves no room above
//! the soft one: not at the top of a large limit, which would make every
//! fork copy a table that large), and are
//! invisible to close, dup2, dup3, close_range, fcntl and every other fd
//! call of the application: a program that closes every fd, or fills its
//! table to the limit, sees what it would natively.
//! (fds.rs keeps the application's fd calls off them.)

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use preld_arch::fast::{OwnFds, OWN_FDS};

use crate::abi::{CLOSE_RANGE_CLOEXEC, FD_CLOEXEC, F_DUPFD_CLOEXEC, F_SETFD, RLIMIT_NOFILE};
use crate::sys::{self, Rlimit};
/// How far below the fd limit preld's fds go.
const HEADROOM: usize = 16;

/// preld's fds, as a bitmap the fast path's gates test too (fds at or
/// above its size are never preld's: preld places its fds below it).
const BITMAP_FDS: usize = preld_arch::fast::OWN_FDS_BITS;
/// Where preld's fds go at the highest when none can go above the limit:
/// the kernel copies a process's fd table up to its highest open fd at
/// every fork, vfork and posix_spawn (a vfork, exit and wait with 60 fds at
/// 17470: 73.7 us here, 16.6 without them, 23.4 with them at 1024).
const LOW_PLACE: usize = 1024;
/// The trace output, -1 when not tracing.
static TRACE_FD: AtomicI32 = AtomicI32::new(-1);
/// Set once the first thread's block is in gs (`thread::start_main`):
/// from then on each thread's block names its fd table's set.
static BLOCKS: AtomicBool = AtomicBool::new(false);

/// Slot names for `get` and `adopt`.
pub const TRACE: usize = 0;

pub fn get(which: usize) -> i32 {
    match which {
        TRACE => TRACE_FD.load(Ordering::Relaxed),
        _ => -1,
    }
}

/// The first thread's block is set up (gs): `table` may read it.
pub fn blocks_ready() {
    BLOCKS.store(true, Ordering::Release);
}

/// The set of preld's fds of the calling thread's fd table: the
/// process's, or a copy of its own (`for_child`). A vfork child
/// (vfork, posix_spawn) runs in its parent's memory with an fd table of
/// its own: in one set it marked the connection it took for its exec at
/// a number of one of its parent's own fds (preld's fds sit among the
/// program's from 1008 up), and the parent's close of that fd failed
/// with EBADF (CPython's test_subprocess, `test_no_leaking`).
fn table() -> &'static OwnFds {
    if BLOCKS.load(Ordering::Acquire) {
        // SAFETY: once `blocks_ready`, every thread preld runs on has its
        // block in gs (a new thread's is set before its first call),
        // starting with its ArchThread, whose own_fds only that thread and
        // its creator (before the thread runs) write.
        let p = unsafe { core::ptr::addr_of!((*(preld_arch::thread_block() as *const preld_arch::ArchThread)).own_fds).read() };
        if p != 0 {
            // SAFETY: own_fds names OWN_FDS or a set `for_child` made,
            // which lives until `release` by the last block naming it.
            return unsafe { &*(p as *const OwnFds) };
        }
    }
    &OWN_FDS
}

/// Whether the calling thread's fd table is the process's (not a vfork
/// child's, nor one a thread unshared).
pub fn in_process_table() -> bool {
    core::ptr::eq(table(), &OWN_FDS)
}

/// The process's set, for a new thread's block.
pub fn process_table() -> usize {
    &OWN_FDS as *const OwnFds as usize
}

/// A set for a child with an fd table of its own in this memory (a vfork
/// child, posix_spawn's; a process made with CLONE_VM but not CLONE_FILES):
/// a copy of the caller's (the child's fd table is a copy of the caller's),
/// named by one block (`share` for more), freed by `release` of the last.
/// 0 if none could be made (the child then shares the caller's).
pub fn for_child() -> usize {
    let from = table();
    let layout = core::alloc::Layout::new::<OwnFds>();
    // SAFETY: a layout of non-zero size. (Made in place: 8 KiB on the
    // handler's stack is more than it has to spare.)
    let p = unsafe { alloc::alloc::alloc_zeroed(layout) } as *mut OwnFds;
    if p.is_null() {
        return 0;
    }
    // SAFETY: zeroed memory of OwnFds's layout is a valid OwnFds (atomic
    // integers all), owned by this Box alone.
    let b = unsafe { alloc::boxed::Box::from_raw(p) };
    for (to, w) in b.bits.iter().zip(from.bits.iter()) {
        to.store(w.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    b.count.store(from.count.load(Ordering::Relaxed), Ordering::Relaxed);
    b.min.store(from.min.load(Ordering::Relaxed), Ordering::Relaxed);
    b.refs.store(1, Ordering::Relaxed);
    alloc::boxed::Box::into_raw(b) as usize
}

/// One more block names `set` (a thread or process sharing the fd table
/// of a block that names it): a vfork child's thread, or a process it made
/// with CLONE_VM and CLONE_FILES, ran on after the child had exited, its
/// parent had freed the copy, and its gates read the allocator's free
/// list as the set (session-17b adversary).
pub fn share(set: usize) {
    if set != 0 && set != process_table() {
        // SAFETY: a copy `for_child` made, named by the calling thread's
        // block or its child's to be, so not freed yet.
        unsafe { &*(set as *const OwnFds) }.refs.fetch_add(1, Ordering::AcqRel);
    }
}

/// A block that named `set` is done with it (its thread exited or exec'd,
/// or was never made): the last frees a copy.
pub fn release(set: usize) {
    if set != 0 && set != process_table() {
        // SAFETY: a copy `for_child` made, still named by the block given
        // up here (its reference counted in `refs`).
        if unsafe { &*(set as *const OwnFds) }.refs.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: made by `for_child` (Box::into_raw); no block names
            // it any more, so no thread uses it: freed once.
            drop(unsafe { alloc::boxed::Box::from_raw(set as *mut OwnFds) });
        }
    }
}

/// Whether the calling thread's fd table is the one whose set is `set`
/// (a block's `own_fds`): its fds are this table's.
pub fn is_table(set: usize) -> bool {
    core::ptr::eq(table(), set as *const OwnFds) || set == 0
}

/// Whether `fd` is one of preld's. `fd` is a call's argument as the
/// program gave it: the kernel takes an fd's low 32 bits (an int or an
/// unsigned int), and so does this (close(1 << 32 | 1008) closed the
/// session's connection, where the 64-bit number was none of preld's;
/// session-17 adversary).
pub fn is_own(fd: usize) -> bool {
    let fd = fd as u32 as usize;
    fd < BITMAP_FDS && table().bits[fd / 64].load(Ordering::Relaxed) & (1 << (fd % 64)) != 0
}

fn mark(fd: i32, own: bool) {
    if fd >= 0 && (fd as usize) < BITMAP_FDS {
        let t = table();
        let (w, m) = (fd as usize / 64, 1u64 << (fd as usize % 64));
        if own {
            // The lowest first (the gates look at the bit only from it up):
            // never above a bit that is set, whatever other threads do.
            t.min.fetch_min(fd, Ordering::SeqCst);
        }
        let before = if own { t.bits[w].fetch_or(m, Ordering::SeqCst) } else { t.bits[w].fetch_and(!m, Ordering::SeqCst) };
        match (before & m != 0, own) {
            (false, true) => t.count.fetch_add(1, Ordering::Relaxed),
            (true, false) => t.count.fetch_sub(1, Ordering::Relaxed),
            _ => 0,
        };
        // (Not raised again as preld's fds go: a lower `min` only has the
        // gates look at the bit of more fds.)
    }
}

/// The fd limit (soft, hard).
fn nofile() -> (usize, usize) {
    let mut lim = Rlimit::default();
    match sys::prlimit64(RLIMIT_NOFILE, None, Some(&mut lim)) {
        Ok(()) => (lim.cur.min(usize::MAX as u64) as usize, lim.max.min(usize::MAX as u64) as usize),
        Err(_) => (1024, 1024),
    }
}

fn set_nofile(soft: usize, hard: usize) -> sys::Result<()> {
    sys::prlimit64(RLIMIT_NOFILE, Some(&Rlimit { cur: soft as u64, max: hard as u64 }), None)
}

/// A copy of `fd` where the application cannot allocate it, close-on-exec:
/// at or above the fd limit when the hard limit leaves room (the soft
/// limit is raised for this one call: an fd stays open above the limit,
/// and the kernel then hands out, refuses and dup2s every number below
/// it exactly as without preld), else as high as possible below it.
/// The usual place of preld's fds when none can go above the limit.
fn below_limit(soft: usize) -> usize {
    soft.min(LOW_PLACE).saturating_sub(HEADROOM).max(3)
}

fn place(fd: i32, limits: (usize, usize)) -> Result<i32, i32> {
    place_from(fd, limits, &mut below_limit(limits.0))
}

/// `place`, trying below the limit from `*base` down (and leaving there
/// the base that found room): placing many fds in turn, the next one
/// starts where the last went instead of failing again above it (EMFILE
/// once for each fd that no longer fits the usual place; nothing of
/// preld's is closed meanwhile, so the numbers are those `place` gives).
fn place_from(fd: i32, (soft, hard): (usize, usize), base: &mut usize) -> Result<i32, i32> {
    if soft < hard && soft < BITMAP_FDS {
        let room = hard.min(BITMAP_FDS).min(soft + 1024);
        if set_nofile(room, hard).is_ok() {
            let r = sys::fcntl(fd, F_DUPFD_CLOEXEC, soft);
            let _ = set_nofile(soft, hard);
            if let Ok(n) = r {
                return Ok(n as i32);
            }
        }
    }
    // Above the usual place first, then further down when the application
    // has taken every fd up there.
    loop {
        match sys::fcntl(fd, F_DUPFD_CLOEXEC, *base) {
            Ok(n) => return Ok(n as i32),
            Err(_) if *base > 3 => *base = base.saturating_sub(*base / 8 + HEADROOM).max(3),
            Err(e) => return Err(e),
        }
    }
}

/// Moves `fd` out of the application's reach and hides it as preld's;
/// returns the new number.
pub fn adopt_fd(fd: i32) -> Result<i32, i32> {
    adopt_with(fd, nofile())
}

/// `adopt_fd` of each of `fds`, the fd limit asked once. One already where
/// `place` puts fds (an exec passing preld's fds on to its new image) stays
/// where it is.
pub fn adopt_fds(fds: &[i32]) -> Vec<Result<i32, i32>> {
    let limits = nofile();
    // Those in place are made close-on-exec a run of consecutive numbers
    // at a time (close_range; a session's ~60 grant fds cross every exec).
    // close_range passes over a number that is not open, where fcntl
    // failed: these are preld's own fds of the image before, which the
    // application cannot close (the fd guard), only code around the
    // handler, which then confuses its own process. (poll cannot tell:
    // the grants' O_PATH fds are POLLNVAL too.)
    let mut placed: Vec<i32> = fds.iter().copied().filter(|&fd| in_place(fd, limits)).collect();
    placed.sort_unstable();
    placed.dedup();
    let mut ok: Vec<i32> = Vec::with_capacity(placed.len());
    for run in placed.chunk_by(|a, b| b - a == 1) {
        let (first, last) = (run[0], run[run.len() - 1]);
        if sys::close_range(first as usize, last as usize, CLOSE_RANGE_CLOEXEC).is_ok() {
            ok.extend_from_slice(run);
        }
    }
    // The others are copied up one by one, and their old numbers closed
    // together afterwards, a run of consecutive numbers at a time (the
    // launcher gives a session's grants as 3, 4, 5, ...): a fcntl each
    // and a close_range a run, where each took a close of its own.
    let mut base = below_limit(limits.0);
    let mut moved: Vec<i32> = Vec::new();
    let adopted = fds
        .iter()
        .map(|&fd| {
            if ok.binary_search(&fd).is_ok() && !is_own(fd as usize) {
                mark(fd, true);
                return Ok(fd);
            }
            if in_place(fd, limits) {
                return adopt_with(fd, limits);
            }
            if moved.contains(&fd) {
                // Given twice: moved already (closed, as one at a time).
                return Err(crate::errno::EBADF);
            }
            let new = place_from(fd, limits, &mut base)?;
            moved.push(fd);
            mark(new, true);
            Ok(new)
        })
        .collect();
    moved.sort_unstable();
    for run in moved.chunk_by(|a, b| b - a == 1) {
        let (first, last) = (run[0], run[run.len() - 1]);
        if first == last || sys::close_range(first as usize, last as usize, 0).is_err() {
            run.iter().for_each(|&fd| sys::close(fd));
        }
    }
    adopted
}

/// Whether `fd` is where `place` puts preld's fds (the image before this
/// one put it there): at or above the usual place, or at or above the
/// first place further down that `place` tries when the usual one is full
/// (a session holds more fds than the usual place's HEADROOM). Moving
/// them again at every exec cost three calls each.
fn in_place(fd: i32, limits: (usize, usize)) -> bool {
    placed(fd, limits) && !is_own(fd as usize)
}

/// Whether fd number `fd` lies where `place` puts preld's fds under
/// `limits` (see `in_place`).
fn placed(fd: i32, (soft, hard): (usize, usize)) -> bool {
    let low = if soft < hard && soft < BITMAP_FDS { soft } else { below_limit(soft) };
    let floor = if soft < hard && soft < BITMAP_FDS { low } else { low.saturating_sub(low / 8 + HEADROOM).max(3) };
    (floor..BITMAP_FDS).contains(&(fd as usize))
}

fn adopt_with(fd: i32, limits: (usize, usize)) -> Result<i32, i32> {
    if in_place(fd, limits) {
        sys::fcntl(fd, F_SETFD, FD_CLOEXEC)?;
        mark(fd, true);
        return Ok(fd);
    }
    let new = place(fd, limits)?;
    sys::close(fd);
    mark(new, true);
    Ok(new)
}

/// Stops counting `fd` as preld's without closing it: a fork child that
/// shares the fd table (CLONE_FILES) owns its connection there, which is
/// then, for this process, one more fd of that child's in the table.
pub fn disown_fd(fd: i32) {
    if fd >= 0 && is_own(fd as usize) {
        mark(fd, false);
    }
}

/// Closes one of preld's fds.
pub fn release_fd(fd: i32) {
    if fd >= 0 && is_own(fd as usize) {
        mark(fd, false);
        sys::close(fd);
    }
}

/// Adopts `fd` as the trace output.
pub fn adopt(which: usize, fd: i32) -> Result<i32, i32> {
    let new = adopt_fd(fd)?;
    if which == TRACE {
        TRACE_FD.store(new, Ordering::Relaxed);
    }
    Ok(new)
}

/// Moves preld's fd `fd` out of the application's way; the new number
/// (the caller tells whoever else holds it: rpc's connections).
pub fn relocate(fd: i32) -> Option<i32> {
    let new = place(fd, nofile()).ok()?;
    mark(new, true);
    let _ = TRACE_FD.compare_exchange(fd, new, Ordering::Relaxed, Ordering::Relaxed);
    mark(fd, false);
    sys::close(fd);
    Some(new)
}

/// Moves preld's fd `fd` to the lowest free number from `from` on (out of
/// the way of the application's F_DUPFD: `fds::dupfd`); None if there is
/// none preld can hide.
pub fn relocate_from(fd: i32, from: usize) -> Option<i32> {
    let new = sys::fcntl(fd, F_DUPFD_CLOEXEC, from).ok()? as i32;
    if new as usize >= BITMAP_FDS {
        sys::close(new);
        return None;
    }
    mark(new, true);
    let _ = TRACE_FD.compare_exchange(fd, new, Ordering::Relaxed, Ordering::Relaxed);
    mark(fd, false);
    sys::close(fd);
    Some(new)
}

/// After the application raised its fd limit: each of preld's fds now
/// below it moves above it (or where `place` puts them when there is no
/// room above: those there already stay); `moved(old, new)` tells whoever
/// holds it.
pub fn relocate_below_limit(mut moved: impl FnMut(i32, i32)) {
    let limits = nofile();
    let soft = limits.0.min(BITMAP_FDS);
    for fd in 0..soft {
        if is_own(fd) && !placed(fd as i32, limits) {
            if let Some(new) = relocate(fd as i32) {
                moved(fd as i32, new);
            }
        }
    }
}

/// The lowest of preld's fds in [from, last], if any.
pub fn next_own(from: usize, last: usize) -> Option<usize> {
    let top = last.min(BITMAP_FDS - 1);
    let mut fd = from;
    while fd <= top {
        let word = table().bits[fd / 64].load(Ordering::Relaxed) >> (fd % 64);
        if word == 0 {
            fd = (fd / 64 + 1) * 64;
            continue;
        }
        fd += word.trailing_zeros() as usize;
        return (fd <= top).then_some(fd);
    }
    None
}

/// Whether preld holds any fd (then fd listings need filtering).
pub fn any_own() -> bool {
    table().count.load(Ordering::Relaxed) != 0
}

/// Before an exec: the fds ld-preld is given cross it (it takes them back).
pub fn before_exec(keep: &[i32]) {
    for &fd in keep {
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, 0);
        }
    }
}

pub fn after_exec_failed(keep: &[i32]) {
    for &fd in keep {
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
}

/// A copy of `fd` that survives exec, for ld-preld to open through /proc.
pub fn dup_for_exec(fd: i32) -> Result<i32, i32> {
    let d = place(fd, nofile())?;
    let _ = sys::fcntl(d, F_SETFD, 0);
    Ok(d)
}
