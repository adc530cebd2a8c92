//! The fast path: a system call that needs nothing of the handler is made
//! from preld's gate without a trap.
//!
//! When a `syscall` traps, its address is a known instruction boundary. At
//! a site's third trap, the instruction before the `syscall` (decoded from
//! the start of its function, as the object's unwind table gives it, never
//! guessed from bytes) becomes a jump to a stub that runs that instruction
//! and makes the call through a gate in preld's text (arch's `fast` module
//! shows the code): `mov eax, NR` and `xor eax, eax` sites get the gate
//! their call needs (`dispatch::fast_gate`), sites that set the number
//! earlier one that picks the gate per call. The `syscall` stays where it
//! was, so every place a thread can be stopped at (signal frames,
//! restarts) is still an instruction of the program, and whatever the gate
//! must not make (a call on one of preld's fds, a /proc/ path in launcher
//! mode) goes back to it and traps as before. The dynamic linker's
//! wrappers of the calls it makes for every library are rewritten before
//! it runs, in one batch, the same way (`rewrite_interpreter`).
//!
//! Rewriting happens one site at a time. While other threads run (and may
//! be executing the bytes being changed), a site is rewritten only when
//! its jump lies in one aligned 16-byte block and is written in one locked
//! store (arch's `store_code_whole`): a CPU fetching there sees the old
//! instruction or the jump, never a mix. Every store is made only over
//! the bytes the rewrite decoded, and a fault of it is caught (`patch`).
//! Rewriting happens only in executable, non-writable segments of objects
//! the dynamic linker (or preld) loaded, never in memory that was made
//! writable. A program that reads its own code sees the jumps.

pub mod funcs;
pub mod insn;
mod objects;
mod stubs;

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use preld_arch::fast::{self as arch, Gate, SetNr, JUMP_LEN, SYSCALL_INSN};
use crate::lock::Lock;

use crate::abi::{self, F_DUPFD_CLOEXEC};
use crate::errno::EFAULT;
use crate::thread::ThreadBlock;
use crate::{sys, usermem};

static ON: AtomicBool = AtomicBool::new(false);
/// What `configure` said (ON is off meanwhile while a tracer is attached).
static CONFIGURED_ON: AtomicBool = AtomicBool::new(false);
static STATS: AtomicBool = AtomicBool::new(false);
/// Where the exit report goes: the process's stderr as it was at start-up
/// (programs close theirs at exit, as coreutils' close_stdout does).
static REPORT_FD: AtomicI32 = AtomicI32::new(2);
/// The process whose threads rewrite sites: a child that shares its
/// memory without being one of its threads (vfork, posix_spawn,
/// clone(CLONE_VM)) does not: it can be killed alone, and would leave
/// `REWRITING` taken for good, or `WRITING` set (every call that changes
/// memory would then wait for good).
static OWNER: AtomicI32 = AtomicI32::new(0);

/// What became of a site, once decided for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Site {
    /// Trapped this many times (below REWRITE_AT): rewritten at its
    /// REWRITE_AT-th trap.
    Seen(u8),
    /// Rewritten: its traps are calls the gate sent back.
    Fast,
    /// Its call always needs the handler.
    Handler,
    /// Cannot be rewritten (no `mov eax, NR` before it, not verifiable,
    /// not in a loaded object, out of reach).
    Unpatchable,
}

static SITES: Lock<BTreeMap<usize, Site>> = Lock::new(BTreeMap::new());

/// A site is rewritten at its third trap. A rewrite costs about ten
/// traps (15 us: the site's page and a stub page made writable and given
/// back their protection, the function's bounds and code read), so a
/// site that runs only a few times costs more rewritten than trapping;
/// most of a short process's run twice or three times (`ls`: rewritten
/// at the second trap, 10 sites for 4 at the third; gcc's cc1, 18 for
/// 15), and each rewritten one that runs on pays one trap more.
const REWRITE_AT: u8 = 3;

/// Trapped calls, by why they trapped.
struct Counts {
    first: AtomicU64,
    rewritten: AtomicU64,
    handler: AtomicU64,
    unpatchable: AtomicU64,
    threads: AtomicU64,
}
static COUNTS: Counts =
    Counts { first: AtomicU64::new(0), rewritten: AtomicU64::new(0), handler: AtomicU64::new(0), unpatchable: AtomicU64::new(0), threads: AtomicU64::new(0) };

/// Turns the fast path on or off for this process (at start-up), and
/// whether it counts calls for the exit report.
pub fn configure(on: bool, stats: bool) {
    ON.store(on, Ordering::Relaxed);
    CONFIGURED_ON.store(on, Ordering::Relaxed);
    OWNER.store(sys::getpid(), Ordering::Relaxed);
    STATS.store(stats, Ordering::Relaxed);
    if stats {
        // Not one of preld's hidden fds: those would change which calls
        // the fast path may take (fd listings need the handler then).
        if let Ok(fd) = sys::fcntl(2, F_DUPFD_CLOEXEC, 900) {
            REPORT_FD.store(fd as i32, Ordering::Relaxed);
        }
    }
}

pub fn enabled() -> bool {
    ON.load(Ordering::Relaxed)
}

/// The program preld mapped (its program headers in memory), for finding
/// the objects of the process.
pub fn note_program(bias: Option<usize>, phdr: usize, phnum: usize, eh_frame: Option<(usize, usize)>) {
    objects::note_program(bias, phdr, phnum, eh_frame);
}

/// The dynamic linker preld mapped (its ELF header at `bias`).
pub fn note_interpreter(bias: usize) {
    objects::note_interpreter(bias);
}

fn count(c: &AtomicU64) {
    if STATS.load(Ordering::Relaxed) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// Trapped calls by number (with statistics on), for the report's list of
/// what still traps most.
static BY_NR: [AtomicU64; 512] = [const { AtomicU64::new(0) }; 512];

/// Sees an application call that trapped at `rip` (the address after its
/// `syscall`) before it is served, and rewrites its site when it can (the
/// caller checks `enabled`). `gate` says how a rewritten site may make
/// call `nr` (None: never); it is asked only when a site is rewritten.
pub fn on_trap(t: &ThreadBlock, nr: usize, rip: usize, gate: impl FnOnce() -> Option<Gate>) {
    if STATS.load(Ordering::Relaxed) {
        if let Some(c) = BY_NR.get(nr) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
    let site = rip.wrapping_sub(SYSCALL_INSN.len());
    let known = SITES.lock().get(&site).copied();
    match known {
        Some(Site::Fast | Site::Handler) => return count(&COUNTS.handler),
        Some(Site::Unpatchable) => return count(&COUNTS.unpatchable),
        Some(Site::Seen(n)) if n + 1 < REWRITE_AT => {
            SITES.lock().insert(site, Site::Seen(n + 1));
            return count(&COUNTS.first);
        }
        Some(Site::Seen(_)) => {}
        None => {
            SITES.lock().insert(site, Site::Seen(1));
            return count(&COUNTS.first);
        }
    }
    // One rewrite at a time: a thread that finds another rewriting traps
    // on, and rewrites the site at a later trap. Not in a child sharing
    // the memory (see OWNER).
    if !owner() {
        return count(&COUNTS.threads);
    }
    let Some(_one) = REWRITING.try_lock() else { return count(&COUNTS.threads) };
    if !matches!(SITES.lock().get(&site), Some(Site::Seen(_))) {
        return count(&COUNTS.handler); // rewritten (or given up) meanwhile
    }
    // Other threads may be executing the bytes that change: then only a
    // rewrite the CPU makes in one store (`patch`).
    let alone = crate::thread::only_thread(t);
    let changes = CHANGES.load(Ordering::SeqCst);
    let state = match rewrite(site, Some(nr), |_| gate(), alone, changes, Some(t)) {
        Ok(()) => {
            count(&COUNTS.rewritten);
            Site::Fast
        }
        Err(Refused::Handler) => {
            count(&COUNTS.handler);
            Site::Handler
        }
        // Still `Seen`.
        Err(Refused::Busy) => return count(&COUNTS.threads),
        Err(why) => {
            count(&COUNTS.unpatchable);
            if STATS.load(Ordering::Relaxed) {
                REFUSED[why as usize].fetch_add(1, Ordering::Relaxed);
            }
            Site::Unpatchable
        }
    };
    SITES.lock().insert(site, state);
}

/// Sites not rewritten, by `Refused` (with statistics on).
static REFUSED: [AtomicU64; 9] = [const { AtomicU64::new(0) }; 9];

/// Held while a site is rewritten.
static REWRITING: Lock<()> = Lock::new(());

/// Application calls that change memory being made (`change_memory`),
/// and forks (`hold_rewrites`).
static CHANGING: AtomicUsize = AtomicUsize::new(0);
/// Calls that change memory made so far (a rewrite that looked at its
/// site's segment before one of them ended must look again).
static CHANGES: AtomicUsize = AtomicUsize::new(0);
/// A rewrite is writing: from the first mprotect of a stub page or of the
/// site's page to the last one back.
static WRITING: AtomicBool = AtomicBool::new(false);

/// A rewrite's writes and the application's calls that change memory
/// never overlap: a rewrite makes a page writable and then gives it back
/// the segment's protection, and another thread's mprotect between the
/// two was undone (its write then faulted), or made the page read-only
/// under the rewrite's store (a fault of preld's, fatal); a fork between
/// them left the child the page writable (tests h_fast_mprotect,
/// h_fast_fork). The call waits for the writes under way (a few
/// mprotects); a rewrite that finds a call being made gives up, and the
/// site is rewritten at a later trap. (Each side announces itself, then
/// looks at the other: both with sequential consistency, at least one
/// sees the other.)
struct Changing;

impl Changing {
    fn begin() -> Changing {
        CHANGING.fetch_add(1, Ordering::SeqCst);
        let mut spins = 0u32;
        while WRITING.load(Ordering::SeqCst) {
            spins += 1;
            if spins.is_multiple_of(64) {
                // The rewriting thread may be off its CPU.
                sys::sched_yield();
            } else {
                core::hint::spin_loop();
            }
        }
        Changing
    }
}

impl Drop for Changing {
    fn drop(&mut self) {
        // Counted as made before it stops being under way: a rewrite
        // that looked at its site's segment meanwhile sees one or the
        // other.
        CHANGES.fetch_add(1, Ordering::SeqCst);
        CHANGING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The write phase of a rewrite (under `REWRITING`) that began to look at
/// its site when CHANGES was `seen`; None: a call that changes memory is
/// being made, or was made since (what the rewrite found of the site's
/// segment may be stale): the rewrite waits for a later trap.
struct Writing;

impl Writing {
    fn begin(seen: usize) -> Option<Writing> {
        WRITING.store(true, Ordering::SeqCst);
        if CHANGING.load(Ordering::SeqCst) != 0 || CHANGES.load(Ordering::SeqCst) != seen {
            WRITING.store(false, Ordering::SeqCst);
            return None;
        }
        Some(Writing)
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.store(false, Ordering::SeqCst);
    }
}

fn owner() -> bool {
    sys::getpid() == OWNER.load(Ordering::Relaxed)
}

/// No rewrite writes while the guard lives (a fork: the child must not
/// find a page of code, or of stubs, left writable).
pub fn hold_rewrites() -> impl Drop {
    Changing::begin()
}

/// Makes the application's call `nr` that changes memory (munmap,
/// mprotect, pkey_mprotect, a fixed mmap, mremap) here, in the handler,
/// while no rewrite writes (`Changing`), after `memory_call`. These calls
/// do not block (a fixed mmap with MAP_POPULATE reads the file in first,
/// with signals held off meanwhile). None: the caller makes it the usual
/// way (after `memory_call`): the fast path is off, or a seccomp filter
/// of the application's must see it made from the application's code
/// (a rewrite may then overlap it).
pub fn change_memory(nr: usize, a: &[usize; 6]) -> Option<isize> {
    use syscalls::Sysno;
    let fixed = |flags: usize| flags & (abi::MAP_FIXED | abi::MAP_FIXED_NOREPLACE) != 0;
    let changes = match Sysno::new(nr)? {
        Sysno::munmap | Sysno::mprotect | Sysno::pkey_mprotect | Sysno::mremap => true,
        Sysno::mmap => fixed(a[3]),
        _ => false,
    };
    if !changes || !enabled() || crate::sud::seccomp_filtered() {
        return None;
    }
    let _changing = Changing::begin();
    memory_call(nr, a);
    // SAFETY: the application's own call, with its arguments, which
    // memory::guard has checked touch none of preld's memory; made here
    // rather than from the tail gate, as the trap path makes a traced
    // call that cannot block.
    let r = unsafe { sys::raw(nr, *a) };
    Some(r.map_or_else(|e| -(e as isize), |v| v as isize))
}

/// Why a site was not rewritten (the statistics count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    NotMov,
    /// The call needs the handler, and its site sets its number itself.
    Handler,
    NoObject,
    NoFunction,
    Decode,
    NoStub,
    NoPadding,
    Protect,
    /// Other threads run, and the jump cannot be written in one store.
    NotWhole,
    /// A call that changes memory is being made: rewritten at a later
    /// trap (not counted in REFUSED).
    Busy,
}

/// `nr`: the call the site made (None: not made yet, `rewrite_interpreter`:
/// the number its `mov` or `xor` sets, if it sets one); `gate`: how a
/// rewritten site may make a call of that number (None: never).
/// `changes`: CHANGES when the rewrite began (see `Writing`). `trapped`:
/// the thread whose trap rewrites the site; None: a batch, before the
/// program runs, with the code's pages made writable already and stub
/// pages left writable (`rewrite_interpreter`).
fn rewrite(
    site: usize,
    nr: Option<usize>,
    gate: impl FnOnce(usize) -> Option<Gate>,
    alone: bool,
    changes: usize,
    trapped: Option<&ThreadBlock>,
) -> Result<(), Refused> {
    let mut tail = [0u8; 2];
    if !read_code(site, &mut tail) || tail != SYSCALL_INSN {
        return Err(Refused::NotMov);
    }
    let seg = objects::text_segment(site, site + SYSCALL_INSN.len()).ok_or(Refused::NoObject)?;
    let (start, end) = function_bounds(seg, site).ok_or(Refused::NoFunction)?;
    if start < seg.start || end > seg.end || site + SYSCALL_INSN.len() > end || start >= site {
        return Err(Refused::NoFunction);
    }
    // The instruction before the syscall, decoded from the function's start.
    let at = instruction_before(start, site)?;
    let mut insn = [0u8; insn::MAX_LEN];
    let len = site - at;
    if len > insn.len() || !read_code(at, &mut insn[..len]) {
        return Err(Refused::Decode);
    }
    let insn_bytes = &insn[..len];
    let set_nr = arch::set_nr(insn_bytes);
    let gate = match (nr, set_nr) {
        (Some(nr), _) => gate(nr),
        (None, Some(SetNr::Mov(n))) => gate(n as usize),
        (None, Some(SetNr::Xor)) => gate(0),
        (None, _) => None,
    };
    let (set, gate) = match (set_nr, gate) {
        (Some(SetNr::Mov(n)), Some(g)) if nr.is_none_or(|nr| n as usize == nr) => (SetNr::Mov(n), g),
        (Some(SetNr::Xor), Some(g)) if nr.is_none_or(|nr| nr == 0) => (SetNr::Xor, g),
        // The number is set right here and the handler must see every call
        // of it: a stub would only lead back to the trap.
        (Some(SetNr::Mov(_) | SetNr::Xor), None) => return Err(Refused::Handler),
        // eax set earlier: a copy of this instruction runs in the stub, and
        // the gate is chosen per call by its number.
        _ if len >= JUMP_LEN && arch::relocatable(insn_bytes) && BY_NUMBER_READY.load(Ordering::Relaxed) => {
            (SetNr::Relocated { insn, len: len as u8 }, Gate::ByNumber)
        }
        _ if gate.is_none() && nr.is_some() => return Err(Refused::Handler),
        _ => return Err(Refused::NotMov),
    };
    let jump_len = if matches!(set, SetNr::Xor) { 2 } else { JUMP_LEN };
    if !alone && !arch::fits_whole_store(at, jump_len) {
        return Err(Refused::NotWhole);
    }
    let counted = STATS.load(Ordering::Relaxed);
    let _writing = Writing::begin(changes).ok_or(Refused::Busy)?;
    match set {
        SetNr::Mov(_) | SetNr::Relocated { .. } => {
            let stub = stubs::place(at + JUMP_LEN, site, set, gate, counted).ok_or(Refused::NoStub)?;
            let jump = arch::encode_jump(at, stub).ok_or(Refused::NoStub)?;
            // Written only over the bytes decoded: the instruction's first 5.
            patch(at, &insn[..JUMP_LEN], &jump, seg.prot, alone, trapped).map_err(|_| Refused::Protect)
        }
        SetNr::Xor => {
            // Two bytes: a short jump to padding next to the function, where
            // a long jump to the stub goes.
            let (pad, pad_bytes) = padding_near(seg, (start, end), at + 2).ok_or(Refused::NoPadding)?;
            let short = arch::encode_short_jump(at, pad).ok_or(Refused::NoPadding)?;
            let stub = stubs::place(pad + JUMP_LEN, site, set, gate, counted).ok_or(Refused::NoStub)?;
            let jump = arch::encode_jump(pad, stub).ok_or(Refused::NoStub)?;
            // Padding runs nothing: written as it is, threads or not.
            patch(pad, &pad_bytes, &jump, seg.prot, true, trapped).map_err(|_| Refused::Protect)?;
            PADDING.lock().insert(pad);
            patch(at, &insn[..2], &short, seg.prot, alone, trapped).map_err(|_| Refused::Protect)
        }
    }
}

/// While `rewrite_interpreter` works: the dynamic linker's readable,
/// file-backed extents (read plainly), and the pages of its code made
/// writable (written plainly).
struct Batch {
    plain: alloc::vec::Vec<(usize, usize)>,
    writable: (usize, usize),
}
static BATCH: Lock<Batch> = Lock::new(Batch { plain: alloc::vec::Vec::new(), writable: (0, 0) });
static BATCHING: AtomicBool = AtomicBool::new(false);

/// Whether [addr, addr+len) lies in one of the extents `rewrite_interpreter`
/// reads plainly (`write`: and in the pages it made writable).
fn in_batch(addr: usize, len: usize, write: bool) -> bool {
    if !BATCHING.load(Ordering::Relaxed) {
        return false;
    }
    let Some(end) = addr.checked_add(len) else { return false };
    let b = BATCH.lock();
    b.plain.iter().any(|&(s, e)| s <= addr && end <= e) && (!write || (b.writable.0 <= addr && end <= b.writable.1))
}

fn plain(addr: usize, len: usize) -> bool {
    in_batch(addr, len, true)
}

/// Reads application code for a rewrite: checked (`usermem::read`: other
/// threads may unmap it meanwhile), or plainly the dynamic linker's while
/// `rewrite_interpreter` works.
fn read_code(addr: usize, buf: &mut [u8]) -> bool {
    if in_batch(addr, buf.len(), false) {
        // SAFETY: a readable, file-backed extent of the dynamic linker that
        // preld mapped itself; nothing of the program has run yet, so
        // nothing has unmapped or reprotected it.
        unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
        return true;
    }
    usermem::read(addr, buf)
}

/// Rewrites the sites of the dynamic linker preld mapped, before it runs:
/// every process runs its few dozen calls (open, read, mmap, close...)
/// at start, each site trapping once, and those made twice being
/// rewritten one by one at 15 us each (mprotects of the site's page and
/// of a stub page, checked reads). Here its pages of code are made
/// writable once, every site whose call needs nothing of the handler is
/// rewritten as its third trap would rewrite it (the same verification,
/// the same gate, decided now from `gate_of`), and the pages go back to
/// their protection. `plain`: the dynamic linker's readable, file-backed
/// extents, which are read without the checks (one thread, no code of
/// the program's has run). Sites not rewritten here are left to their
/// traps.
pub fn rewrite_interpreter(plain: &[(usize, usize)], gate_of: impl Fn(usize) -> Option<Gate>) -> sys::Result<()> {
    if !enabled() || !owner() || plain.is_empty() {
        return Ok(());
    }
    BATCH.lock().plain = plain.to_vec();
    BATCHING.store(true, Ordering::Relaxed);
    let r = rewrite_interpreter_segments(&gate_of);
    let sealed = stubs::end_batch();
    BATCHING.store(false, Ordering::Relaxed);
    *BATCH.lock() = Batch { plain: alloc::vec::Vec::new(), writable: (0, 0) };
    r.and(sealed)
}

fn rewrite_interpreter_segments(gate_of: &impl Fn(usize) -> Option<Gate>) -> sys::Result<()> {
    const PAGE: usize = preld_arch::PAGE_SIZE;
    let _one = REWRITING.lock();
    for seg in objects::interpreter_segments() {
        let len = seg.end.saturating_sub(seg.start);
        if seg.eh_frame_hdr == 0 || len < SYSCALL_INSN.len() || !in_batch(seg.start, len, false) {
            continue;
        }
        // Pages wholly in the segment: no other segment's protection changes.
        let (lo, hi) = (seg.start.next_multiple_of(PAGE), seg.end & !(PAGE - 1));
        let sites = small_function_sites(seg, lo, hi);
        let (Some(&first), Some(&last)) = (sites.first(), sites.last()) else { continue };
        // What a rewrite may write: from the longest instruction before the
        // first site (or padding a short jump away) to padding after the last.
        let from = first.saturating_sub(insn::MAX_LEN + 128).max(lo) & !(PAGE - 1);
        let to = (last + SYSCALL_INSN.len() + 127 + JUMP_LEN).next_multiple_of(PAGE).min(hi);
        // SAFETY: the dynamic linker's code, which nothing runs yet; made
        // writable (not executable) while the sites are written, then
        // given back its protection below.
        if from >= to || unsafe { sys::mprotect(from, to - from, abi::PROT_READ | abi::PROT_WRITE) }.is_err() {
            continue;
        }
        BATCH.lock().writable = (from, to);
        stubs::begin_batch();
        for site in sites {
            if SITES.lock().contains_key(&site) {
                continue;
            }
            let changes = CHANGES.load(Ordering::SeqCst);
            let state = match rewrite(site, None, gate_of, true, changes, None) {
                Ok(()) => Site::Fast,
                // Its `mov` or `xor` sets a number whose calls the handler
                // must see.
                Err(Refused::Handler) => Site::Handler,
                // Its traps decide.
                Err(_) => continue,
            };
            SITES.lock().insert(site, state);
        }
        BATCH.lock().writable = (0, 0);
        // SAFETY: as above: back to the segment's own protection.
        unsafe { sys::mprotect(from, to - from, seg.prot)? };
    }
    Ok(())
}

/// The candidate sites of `seg` in [lo, hi) that lie in functions of at
/// most `BATCH_FUNCTION_MAX` bytes (by the unwind table's starts): the
/// dynamic linker's system-call wrappers. Sites in longer functions would
/// cost more to verify (decoding from the function's start) than their
/// traps, and are left to them; so is reading the rest of the code.
fn small_function_sites(seg: objects::Segment, lo: usize, hi: usize) -> alloc::vec::Vec<usize> {
    let mut sites = alloc::vec::Vec::new();
    // Loads the table (`function_bounds` keeps it for the rewrites).
    let _ = function_bounds(seg, lo);
    let Some(t) = TABLES.lock().get(&seg.eh_frame_hdr).and_then(|t| t.search.clone()) else { return sites };
    // (Plain reads of the dynamic linker's extents: `read_code`.)
    let read = |a: usize, b: &mut [u8]| read_code(a, b);
    let mut starts = alloc::vec::Vec::with_capacity(t.entries());
    for i in 0..t.entries() {
        match t.entry(&read, i) {
            Some((loc, _)) => starts.push(loc),
            None => return sites,
        }
    }
    let ends = starts.iter().skip(1).copied().chain(core::iter::once(seg.end));
    for (start, end) in starts.iter().copied().zip(ends) {
        let (start, end) = (start.max(lo), end.min(hi));
        if end <= start || end - start > BATCH_FUNCTION_MAX {
            continue;
        }
        // SAFETY: [start, end) lies in the segment, a readable, file-backed
        // extent of the dynamic linker (the caller checked); the slice is
        // dropped before anything there is written.
        let code = unsafe { core::slice::from_raw_parts(start as *const u8, end - start) };
        arch::syscall_offsets(code, |i| {
            // A number set right before the site: one of the loader's
            // calls. Any other instruction there: decoding decides.
            let set = |n: usize| i.checked_sub(n).and_then(|b| arch::set_nr(&code[b..i]));
            let wanted = match set(JUMP_LEN).or_else(|| set(2)) {
                Some(SetNr::Mov(n)) => LOADER_CALLS.iter().any(|&c| c as usize == n as usize),
                Some(SetNr::Xor) => LOADER_CALLS.iter().any(|&c| c as usize == 0),
                _ => true,
            };
            if wanted {
                sites.push(start + i);
            }
        });
    }
    sites
}

/// See `small_function_sites`.
const BATCH_FUNCTION_MAX: usize = 128;

/// The calls a dynamic linker makes for every object it loads (so
/// their sites run many times in every process): the sites that set one
/// of these numbers are the ones `rewrite_interpreter` rewrites (or, for
/// the calls the handler must see, marks as such), other sites that set
/// their number being left to their traps (most run once, if at all).
const LOADER_CALLS: [syscalls::Sysno; 9] = {
    use syscalls::Sysno::*;
    [read, pread64, mmap, openat, close, fstat, newfstatat, mprotect, munmap]
};

/// Whether `GATE_BY_NUMBER` is filled in (then relocated sites may be
/// rewritten).
static BY_NUMBER_READY: AtomicBool = AtomicBool::new(false);

/// Fills in the gate of each call number for sites whose number is known
/// only at run time, from `gate_of` (the transfer table's answer for this
/// process). Called once the configuration is set, before the first trap.
/// While a tracer attached at run time (`preld trace -p`) is there, every
/// rewritten site traps again and none is rewritten: its calls must be
/// seen. `resume(gate_of)` goes back.
pub fn suspend() {
    if !CONFIGURED_ON.load(Ordering::Relaxed) {
        return;
    }
    ON.store(false, Ordering::Relaxed);
    stubs::switch_all(true);
    for g in arch::GATE_BY_NUMBER.iter() {
        g.store(arch::gate_address(Gate::Slow, false), Ordering::Relaxed);
    }
}

pub fn resume(gate_of: impl Fn(usize) -> Option<Gate>) {
    if !CONFIGURED_ON.load(Ordering::Relaxed) {
        return;
    }
    set_gates_by_number(gate_of);
    stubs::switch_all(false);
    ON.store(true, Ordering::Relaxed);
}

pub fn set_gates_by_number(gate_of: impl Fn(usize) -> Option<Gate>) {
    let counted = STATS.load(Ordering::Relaxed);
    for (nr, g) in arch::GATE_BY_NUMBER.iter().enumerate() {
        let gate = gate_of(nr).filter(|g| *g != Gate::ByNumber).unwrap_or(Gate::Slow);
        g.store(arch::gate_address(gate, counted), Ordering::Relaxed);
    }
    BY_NUMBER_READY.store(true, Ordering::Relaxed);
}

/// The start of the instruction that ends at `site`, decoding from the
/// function's `start`.
fn instruction_before(start: usize, site: usize) -> Result<usize, Refused> {
    let lead = site - start;
    if lead > DECODE_MAX {
        return Err(Refused::Decode);
    }
    let mut code = alloc::vec![0u8; lead];
    if !read_code(start, &mut code) {
        return Err(Refused::Decode);
    }
    insn::insn_before(&code, lead).map(|off| start + off).ok_or(Refused::Decode)
}

/// The function of `seg`'s object that holds `addr`, from its unwind table.
/// Each object's .eh_frame_hdr is looked at once, each FDE read at most
/// once: reads of the application's memory are system calls.
fn function_bounds(seg: objects::Segment, addr: usize) -> Option<(usize, usize)> {
    if seg.eh_frame_hdr == 0 {
        return objects::program_function(addr);
    }
    let read = |a: usize, b: &mut [u8]| read_code(a, b);
    let mut tables = TABLES.lock();
    if !tables.contains_key(&seg.eh_frame_hdr) {
        if tables.len() >= MAX_TABLES {
            tables.clear();
        }
        let t = Table { search: funcs::hdr_table(&read, seg.eh_frame_hdr), bounds: BTreeMap::new() };
        tables.insert(seg.eh_frame_hdr, t);
    }
    let t = tables.get_mut(&seg.eh_frame_hdr)?;
    let Table { search, bounds } = t;
    search.as_ref()?.lookup(&read, addr, |fde| {
        if let Some(&b) = bounds.get(&fde) {
            return Some(b);
        }
        let b = funcs::fde_bounds(&read, fde)?;
        bounds.insert(fde, b);
        Some(b)
    })
}

/// An object's .eh_frame_hdr table (None: unusable), and the FDE bounds
/// read so far.
struct Table {
    search: Option<funcs::HdrTable>,
    bounds: BTreeMap<usize, (usize, usize)>,
}

/// By .eh_frame_hdr address. Objects are few; past this many, start over.
static TABLES: Lock<BTreeMap<usize, Table>> = Lock::new(BTreeMap::new());
const MAX_TABLES: usize = 256;

/// Padding windows already holding a jump.
static PADDING: Lock<alloc::collections::BTreeSet<usize>> = Lock::new(alloc::collections::BTreeSet::new());

/// Five bytes of padding next to the function [start, end) (after it,
/// or before it back to the previous function's end), within a short jump
/// of `from` (the end of that jump): decoded as nop forms or int3, in no
/// function of the unwind table, in the segment, not used before.
fn padding_near(seg: objects::Segment, (start, end): (usize, usize), from: usize) -> Option<(usize, [u8; JUMP_LEN])> {
    const BACK: usize = 128;
    const FORWARD: usize = 127;
    let lo = from.saturating_sub(BACK).max(seg.start);
    let hi = (from + FORWARD + JUMP_LEN).min(seg.end);
    let mut runs = [(0usize, 0usize); 2];
    // The bytes each run was found in (its start's): the jump is written
    // only over these.
    let mut code = [[0u8; PADDING_READ]; 2];
    // After the function: as far as the padding goes.
    runs[0] = (end, padding_run(seg, end, hi, &mut code[0]));
    // Before it: the previous function's end, then padding exactly to `start`.
    if let Some(prev_end) = (1..=64).find_map(|k| function_bounds(seg, start.checked_sub(k)?).map(|(_, e)| e)) {
        if prev_end <= start && prev_end >= lo && padding_run(seg, prev_end, start, &mut code[1]) == start {
            runs[1] = (prev_end, start);
        }
    }
    let used = PADDING.lock();
    for (i, (a, b)) in runs.into_iter().enumerate() {
        let mut p = a.max(lo);
        while p + JUMP_LEN <= b && p + JUMP_LEN <= hi {
            let reach = (p as isize - from as isize).unsigned_abs() <= BACK;
            if reach && !used.iter().any(|&u| u < p + JUMP_LEN && p < u + JUMP_LEN) {
                // (A run is at most 256 bytes from its start: in `code`.)
                let mut bytes = [0u8; JUMP_LEN];
                bytes.copy_from_slice(code[i].get(p - a..p - a + JUMP_LEN)?);
                return Some((p, bytes));
            }
            p += 1;
        }
    }
    None
}

/// What `padding_run` reads: at most 256 bytes of padding, and the
/// longest instruction that may end past them.
const PADDING_READ: usize = 256 + insn::MAX_LEN;

/// Where the padding that starts at `at` ends (at most `limit`): whole nop
/// or int3 instructions outside every function.
/// `code`: the bytes from `at` it read.
fn padding_run(seg: objects::Segment, at: usize, limit: usize, code: &mut [u8; PADDING_READ]) -> usize {
    let want = limit.saturating_sub(at).min(256);
    let n = (want + insn::MAX_LEN).min(seg.end.saturating_sub(at));
    if n == 0 || !read_code(at, &mut code[..n]) {
        return at;
    }
    let mut off = 0;
    while off < want {
        if function_bounds(seg, at + off).is_some() {
            break;
        }
        let Some(l) = insn::length(&code[off..n]) else { break };
        if !arch::is_padding(&code[off..off + l]) || off + l > want {
            break;
        }
        off += l;
    }
    at + off
}

/// The longest stretch of code decoded to reach a site.
const DECODE_MAX: usize = 1 << 20;

/// Writes `bytes` over application code at `at`, in pages whose
/// protection is `prot` and goes back to it, if the code there is still
/// `old`, the bytes the rewrite read and decoded (another thread may have
/// mapped something else there since, bypassing the handler through
/// ld-preld's own `syscall; ret`, which the handler never hears of).
/// `trapped`: the thread whose trap rewrites; None: a batch, pages that
/// `rewrite_interpreter` made writable for all its writes, and no thread
/// runs them.
fn patch(at: usize, old: &[u8], bytes: &[u8], prot: usize, alone: bool, trapped: Option<&ThreadBlock>) -> sys::Result<()> {
    let Some(t) = trapped else {
        return if plain(at, bytes.len()) {
            // SAFETY: the dynamic linker's code, which preld mapped and made
            // writable (`rewrite_interpreter`) before any of it runs; no
            // Rust reference of preld's points into it.
            let here = unsafe { core::slice::from_raw_parts(at as *const u8, old.len()) };
            if here != old {
                return Err(EFAULT);
            }
            // SAFETY: as above; `here` is not used from here on.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, bytes.len()) };
            Ok(())
        } else {
            Err(EFAULT)
        };
    };
    let page = at & !(preld_arch::PAGE_SIZE - 1);
    let len = (at + bytes.len() - page).next_multiple_of(preld_arch::PAGE_SIZE);
    // SAFETY: application text (an executable segment of a loaded object),
    // made writable (and still executable: other threads may run it) only
    // while this thread writes it with every signal blocked; preld's
    // memory is not in it.
    unsafe { sys::mprotect(page, len, prot | abi::PROT_WRITE)? };
    // Another thread may unmap the page, or make it read-only, between the
    // mprotect and the store (through the gadget, as above): the store's
    // fault is caught, and reported.
    let stored = faults_caught(t, || {
        if alone {
            // SAFETY: application text, which no Rust reference of preld's
            // points into; no other thread of the program runs (one store
            // per 16-byte block then); `faults_caught` set up what a fault
            // needs.
            unsafe { arch::store_code_pieces(at, old, bytes) }
        } else {
            // SAFETY: as above; one locked store, for threads that may be
            // executing the code.
            unsafe { arch::store_code_whole(at, old, bytes) }
        }
    });
    if stored != arch::Stored::Done {
        // Not the code decoded any more: the page is no longer (only) the
        // object's, and its protection the program's now (made read-only,
        // or a page of its own mapped there, which it may be filling:
        // made read-only under it, the program would fault). Left as it
        // is; only a program that went round the handler sees it.
        return Err(EFAULT);
    }
    // SAFETY: as above; back to the segment's own protection.
    unsafe { sys::mprotect(page, len, prot)? };
    Ok(())
}

/// Runs `store` (arch's `store_code_whole` or `store_code_pieces`, made
/// inside the SIGSYS handler: every signal blocked) so that a fault of
/// its store is caught rather than fatal (arch's `code_cmpxchg` unblocks
/// SIGSEGV and SIGBUS for the store alone): their real actions are
/// preld's `signal_entry` meanwhile (they are already when the
/// application handles them; else they are put back after, as the kernel
/// had them), and the thread's sigaltstack is disabled (the fault's frame
/// would go over the SIGSYS frame there). The table of actions is held
/// meanwhile: no sigaction of another thread comes between. Another
/// thread's SIGSEGV or SIGBUS meanwhile reaches `signal_entry` too, where
/// the application's action decides as for any signal (its SIG_DFL: the
/// kernel's default action; SIG_IGN: ignored, a fault made again until the
/// action is back, then fatal as natively). A few system calls per
/// rewrite.
fn faults_caught(t: &ThreadBlock, store: impl FnOnce() -> arch::Stored) -> arch::Stored {
    use crate::abi::{SA_RESETHAND, SIGBUS, SIGSEGV, SS_DISABLE};
    use crate::sigactions::AppAction;
    use crate::sys::{KernelSigaction, StackT};
    let entry = preld_arch::signal_entry as *const () as usize;
    let Ok(alt) = sys::get_sigaltstack() else { return arch::Stored::Faulted };
    if alt.flags & SS_DISABLE == 0 {
        // SAFETY: no signal stack (this thread runs on the preld stack,
        // not on the one it disables), until it is put back below.
        if unsafe { sys::sigaltstack(&StackT { sp: 0, flags: SS_DISABLE, size: 0 }) }.is_err() {
            return arch::Stored::Faulted;
        }
    }
    let stored = crate::thread::actions(t).with(|known, acts| {
        let mut back: [Option<KernelSigaction>; 2] = [None, None];
        let mut ready = true;
        for (i, sig) in [SIGSEGV, SIGBUS].into_iter().enumerate() {
            let Ok(k) = sys::get_sigaction(sig) else {
                ready = false;
                break;
            };
            let bit = 1u64 << (sig - 1);
            if *known & bit == 0 {
                // Not set since exec: the kernel's is the application's.
                acts[sig - 1] = AppAction { handler: k.handler, flags: k.flags, restorer: k.restorer, mask: k.mask };
                *known |= bit;
            }
            if k.handler == entry {
                // (A fault resets an SA_RESETHAND action: put back.)
                if k.flags & SA_RESETHAND != 0 {
                    back[i] = Some(k);
                }
                continue;
            }
            // As a trace installs it for a SIG_DFL it shows.
            let catch = crate::sigactions::entry_action();
            // SAFETY: preld's signal_entry for a signal whose application
            // action (SIG_DFL or SIG_IGN) it honours (`signals::preld_signal`).
            if unsafe { sys::rt_sigaction(sig, Some(&catch), None) }.is_err() {
                ready = false;
                break;
            }
            back[i] = Some(k);
        }
        // (Not ready: no store, which a fault would end fatally.)
        let stored = if ready { store() } else { arch::Stored::Faulted };
        for (i, sig) in [SIGSEGV, SIGBUS].into_iter().enumerate() {
            if let Some(k) = back[i] {
                // SAFETY: the action the kernel had before.
                let _ = unsafe { sys::rt_sigaction(sig, Some(&k), None) };
            }
        }
        stored
    });
    if alt.flags & SS_DISABLE == 0 {
        // SAFETY: the thread's signal stack as it was (rt_sigreturn of the
        // SIGSYS frame would put it back too).
        let _ = unsafe { sys::sigaltstack(&StackT { sp: alt.sp, flags: alt.flags, size: alt.size }) };
    }
    stored
}

/// The application changes [addr, addr+len) (unmaps, maps over, makes it
/// writable): sites there are forgotten and its objects looked up anew.
fn forget(addr: usize, len: usize) {
    let end = addr.saturating_add(len);
    if end <= addr {
        return;
    }
    SITES.lock().retain(|&s, _| s < addr.saturating_sub(JUMP_LEN) || s >= end);
    TABLES.lock().retain(|&h, _| h < addr || h >= end);
    PADDING.lock().retain(|&p| p + JUMP_LEN <= addr || p >= end);
    objects::forget(addr, end);
}

/// A call of the application's that changes memory: what it means for
/// rewritten code.
pub fn memory_call(nr: usize, a: &[usize; 6]) {
    use crate::abi::{MAP_FIXED, MAP_FIXED_NOREPLACE, MREMAP_FIXED, PROT_EXEC, PROT_WRITE};
    use syscalls::Sysno;
    if !enabled() {
        return;
    }
    let end = a[0].saturating_add(a[1]);
    match Sysno::new(nr).unwrap_or(Sysno::read) {
        Sysno::munmap => {
            forget(a[0], a[1]);
            objects::untaint(a[0], end);
        }
        Sysno::mprotect | Sysno::pkey_mprotect if a[2] & PROT_WRITE != 0 => {
            forget(a[0], a[1]);
            objects::taint(a[0], end, a[2] & PROT_EXEC != 0);
        }
        Sysno::mprotect | Sysno::pkey_mprotect => objects::untaint(a[0], end),
        Sysno::mmap if a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 => {
            forget(a[0], a[1]);
            objects::untaint(a[0], end);
            if a[2] & PROT_WRITE != 0 && a[2] & PROT_EXEC != 0 {
                objects::taint(a[0], end, true);
            }
        }
        Sysno::mremap => {
            forget(a[0], a[1]);
            if a[3] & MREMAP_FIXED != 0 {
                forget(a[4], a[2]);
            }
        }
        _ => {}
    }
}

/// In a fork child: locks held by threads that do not exist here.
pub fn forked() {
    OWNER.store(sys::getpid(), Ordering::Relaxed);
    // The parent's other threads' calls and writes: not here.
    CHANGING.store(0, Ordering::Relaxed);
    WRITING.store(false, Ordering::Relaxed);
    // SAFETY: the child has one thread, this one, which holds no lock.
    unsafe {
        SITES.force_unlock();
        REWRITING.force_unlock();
        PADDING.force_unlock();
        TABLES.force_unlock();
    }
    objects::forked();
    stubs::forked();
}

/// Whether [addr, addr+len) touches a stub page (preld's memory).
pub fn touches_stubs(addr: usize, len: usize) -> bool {
    stubs::touches(addr, len)
}

/// Calls the handler gate served without a trap (counted with
/// statistics on; its calls sent the slow way count as traps).
static HANDLER_GATE_CALLS: AtomicU64 = AtomicU64::new(0);

/// Counts a call the handler gate served (statistics only).
pub fn count_handler_gate_call() {
    if STATS.load(Ordering::Relaxed) {
        HANDLER_GATE_CALLS.fetch_add(1, Ordering::Relaxed);
    }
}

/// At exit, with statistics on: one line on stderr.
pub fn report() {
    if !STATS.load(Ordering::Relaxed) {
        return;
    }
    use core::fmt::Write;
    let c = &COUNTS;
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let fast = arch::FAST_CALLS.load(Ordering::Relaxed) + HANDLER_GATE_CALLS.load(Ordering::Relaxed);
    let trapped = l(&c.first) + l(&c.rewritten) + l(&c.handler) + l(&c.unpatchable) + l(&c.threads);
    let mut s = alloc::string::String::new();
    let _ = writeln!(
        s,
        "preld: pid {}: calls fast {fast}, trapped {trapped} (first executions {}, rewrote the site {}, the handler's {}, site not rewritable {}, other threads {}); sites fast {}",
        sys::getpid(),
        l(&c.first),
        l(&c.rewritten),
        l(&c.handler),
        l(&c.unpatchable),
        l(&c.threads),
        SITES.lock().values().filter(|s| **s == Site::Fast).count(),
    );
    if let Some((fixed, asked)) = crate::owners::counts() {
        s.pop();
        let _ = writeln!(s, "; owners fixed by the handler {fixed}, asked of the server {asked}");
    }
    const WHY: [&str; 9] =
        ["not mov/xor/relocatable before it", "the handler's", "no object", "no function", "decoding", "no stub page", "no padding", "mprotect", "no whole store with threads"];
    if REFUSED.iter().any(|r| r.load(Ordering::Relaxed) > 0) {
        s.pop();
        s.push_str("; sites not rewritten:");
        for (i, w) in WHY.iter().enumerate() {
            let n = REFUSED[i].load(Ordering::Relaxed);
            if n > 0 {
                let _ = write!(s, " {w} {n}");
            }
        }
        s.push('\n');
    }
    let mut top: alloc::vec::Vec<(u64, usize)> =
        BY_NR.iter().enumerate().map(|(nr, c)| (c.load(Ordering::Relaxed), nr)).filter(|&(n, _)| n > 0).collect();
    top.sort_unstable_by(|a, b| b.cmp(a));
    if !top.is_empty() {
        s.pop();
        s.push_str("; trapped most:");
        for (n, nr) in top.iter().take(6) {
            match syscalls::Sysno::new(*nr) {
                Some(c) => {
                    let _ = write!(s, " {} {n}", c.name());
                }
                None => {
                    let _ = write!(s, " #{nr} {n}");
                }
            }
        }
        s.push('\n');
    }
    let _ = sys::write(REPORT_FD.load(Ordering::Relaxed), s.as_bytes());
}
