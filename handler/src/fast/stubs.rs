//! Pages of stubs, each within rel32 reach of the sites that jump to it.
//!
//! ```text
//!   page: [gate words: one per gate, counted or not][pad to HEADER]
//!         [stub][stub]...                          (64 bytes each)
//! ```
//! A stub calls its gate through one of its page's words. Pages are
//! preld's memory (the application cannot unmap or reprotect them),
//! writable only while a stub is added.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use preld_arch::fast::{self as arch, Gate, SetNr, STUB_SIZE};
use crate::lock::Lock;

use crate::{abi, sys};

const PAGE: usize = preld_arch::PAGE_SIZE;
/// The gate words, then the stubs.
const HEADER: usize = 256;
const STUBS_PER_PAGE: usize = (PAGE - HEADER) / STUB_SIZE;
const GATE_WORDS: [(Gate, bool); 31] = [
    (Gate::Plain, false),
    (Gate::Fd, false),
    (Gate::Slow, false),
    (Gate::Plain, true),
    (Gate::Fd, true),
    (Gate::Path0, false),
    (Gate::Path0, true),
    (Gate::Path1, false),
    (Gate::Path1, true),
    (Gate::Path0Open, false),
    (Gate::Path0Open, true),
    (Gate::Path1Open, false),
    (Gate::Path1Open, true),
    (Gate::MmapNotFixed, false),
    (Gate::MmapNotFixed, true),
    (Gate::ByNumber, false),
    (Gate::Handler, false),
    (Gate::StatBeside, false),
    (Gate::StatBeside, true),
    (Gate::Close, false),
    (Gate::Close, true),
    (Gate::Fds, false),
    (Gate::Fds, true),
    (Gate::Ioctl, false),
    (Gate::Ioctl, true),
    (Gate::SessionOpen, false),
    (Gate::SessionOpenAt, false),
    (Gate::Listing, false),
    (Gate::Listing, true),
    (Gate::Dup, false),
    (Gate::Dup, true),
];
const _: () = assert!(8 * GATE_WORDS.len() <= HEADER);

struct Page {
    addr: usize,
    used: usize,
}

static PAGES: Lock<Vec<Page>> = Lock::new(Vec::new());

/// Pages left writable (and not executable) by a batch of rewrites made
/// before the program runs (`begin_batch`), until `end_batch`.
static OPEN: Lock<Vec<usize>> = Lock::new(Vec::new());
static BATCH: AtomicBool = AtomicBool::new(false);

/// From here to `end_batch`, stub pages are written without changing
/// their protection each time: nothing runs them yet (one thread, no
/// code of the program's has run).
pub fn begin_batch() {
    BATCH.store(true, Ordering::Relaxed);
}

/// Makes the pages written since `begin_batch` executable (and no longer
/// writable).
pub fn end_batch() -> sys::Result<()> {
    BATCH.store(false, Ordering::Relaxed);
    let mut r = Ok(());
    for page in core::mem::take(&mut *OPEN.lock()) {
        // SAFETY: a stub page of preld's, made writable for the batch,
        // which nothing has run yet.
        if let Err(e) = unsafe { sys::mprotect(page, PAGE, abi::PROT_READ | abi::PROT_EXEC) } {
            r = Err(e);
        }
    }
    r
}

fn word_of(page: usize, gate: Gate, counted: bool) -> usize {
    // The slow gate and the by-number one count nothing themselves.
    let i = GATE_WORDS.iter().position(|&(g, c)| g == gate && (c == counted || matches!(g, Gate::Slow | Gate::ByNumber | Gate::Handler | Gate::SessionOpen | Gate::SessionOpenAt))).unwrap_or(2);
    page + 8 * i
}

fn stub_at(page: usize, i: usize) -> usize {
    page + HEADER + STUB_SIZE * i
}

/// Writes a stub for the site whose `syscall` is at `syscall`, reached
/// by a jump that ends at `from`; returns its address, or None when no
/// page in reach can be had.
pub fn place(from: usize, syscall: usize, nr: SetNr, gate: Gate, counted: bool) -> Option<usize> {
    let mut pages = PAGES.lock();
    let idx = match pages.iter().position(|p| p.used < STUBS_PER_PAGE && arch::in_reach(from, syscall, stub_at(p.addr, p.used))) {
        Some(i) => i,
        None => {
            let addr = map_near(from, syscall)?;
            pages.push(Page { addr, used: 0 });
            pages.len() - 1
        }
    };
    let p = &mut pages[idx];
    let at = stub_at(p.addr, p.used);
    let code = arch::encode_stub(at, syscall, nr, word_of(p.addr, gate, counted))?;
    write(p.addr, at, &code).ok()?;
    p.used += 1;
    Some(at)
}

/// Copies `bytes` to `at` in the stub page `page`, writable meanwhile and
/// still executable: other threads may be running its other stubs.
fn write(page: usize, at: usize, bytes: &[u8]) -> sys::Result<()> {
    if BATCH.load(Ordering::Relaxed) && !OPEN.lock().contains(&page) {
        // A page from before the batch: writable (not executable) until
        // `end_batch`, as a new one.
        // SAFETY: the page is preld's, and nothing runs its stubs yet.
        unsafe { sys::mprotect(page, PAGE, abi::PROT_READ | abi::PROT_WRITE)? };
        OPEN.lock().push(page);
    }
    if OPEN.lock().contains(&page) {
        // SAFETY: a page of preld's left writable by the batch (`begin_batch`);
        // nothing runs its stubs yet.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, bytes.len()) };
        return Ok(());
    }
    // SAFETY: the page is preld's; the slot written is one no site jumps
    // to yet (its jump is written after), so no thread runs these bytes.
    unsafe {
        sys::mprotect(page, PAGE, abi::PROT_READ | abi::PROT_WRITE | abi::PROT_EXEC)?;
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, bytes.len());
        sys::mprotect(page, PAGE, abi::PROT_READ | abi::PROT_EXEC)
    }
}

/// A new stub page within reach of `site`, its gate words filled in.
fn map_near(from: usize, syscall: usize) -> Option<usize> {
    let base = syscall & !(PAGE - 1);
    // Below the object first (where the kernel's top-down allocation
    // leaves room), then above it, a little further each time.
    let tries = [base.saturating_sub(1 << 20), base.saturating_sub(64 << 20), base.saturating_sub(1 << 30), base + (64 << 20), base + (1 << 30)];
    for (k, &hint) in tries.iter().enumerate() {
        let flags = abi::MAP_PRIVATE | abi::MAP_ANONYMOUS | if k == 0 { 0 } else { abi::MAP_FIXED_NOREPLACE };
        if hint < 0x10000 {
            continue;
        }
        // SAFETY: a new anonymous page; without MAP_FIXED nothing is replaced.
        let Ok(addr) = (unsafe { sys::mmap(hint, PAGE, abi::PROT_READ | abi::PROT_WRITE, flags, -1, 0) }) else { continue };
        if !arch::in_reach(from, syscall, stub_at(addr, 0)) || !arch::in_reach(from, syscall, stub_at(addr, STUBS_PER_PAGE - 1)) {
            // SAFETY: the page just mapped, not used.
            let _ = unsafe { sys::munmap(addr, PAGE) };
            continue;
        }
        let mut words = [0u8; 8 * GATE_WORDS.len()];
        for (i, &(g, c)) in GATE_WORDS.iter().enumerate() {
            words[8 * i..8 * i + 8].copy_from_slice(&arch::gate_address(g, c).to_ne_bytes());
        }
        // SAFETY: the page is ours, writable, 4096 bytes.
        unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), addr as *mut u8, words.len()) };
        if BATCH.load(Ordering::Relaxed) {
            // Made executable at `end_batch`.
            OPEN.lock().push(addr);
            return Some(addr);
        }
        // SAFETY: as above.
        if unsafe { sys::mprotect(addr, PAGE, abi::PROT_READ | abi::PROT_EXEC) }.is_err() {
            // SAFETY: as above.
            let _ = unsafe { sys::munmap(addr, PAGE) };
            return None;
        }
        return Some(addr);
    }
    None
}

/// Points every gate word of every stub page at the slow gate (`slow`),
/// or back at its own gate: with other threads running stubs, one aligned
/// store per word (a stub reads its word once per call), the page briefly
/// writable and still executable.
pub fn switch_all(slow: bool) {
    let pages = PAGES.lock();
    for p in pages.iter() {
        // SAFETY: the page is preld's; it stays executable for the threads
        // running its stubs, and only the gate words (not code) are written.
        if unsafe { sys::mprotect(p.addr, PAGE, abi::PROT_READ | abi::PROT_WRITE | abi::PROT_EXEC) }.is_err() {
            continue;
        }
        for (i, &(g, c)) in GATE_WORDS.iter().enumerate() {
            let to = if slow { arch::gate_address(Gate::Slow, false) } else { arch::gate_address(g, c) };
            // SAFETY: an aligned word of the page's header, writable now;
            // stubs read it with one aligned load.
            unsafe { core::sync::atomic::AtomicUsize::from_ptr((p.addr + 8 * i) as *mut usize) }.store(to, core::sync::atomic::Ordering::Release);
        }
        // SAFETY: as above.
        let _ = unsafe { sys::mprotect(p.addr, PAGE, abi::PROT_READ | abi::PROT_EXEC) };
    }
}

/// Whether [addr, addr+len) touches a stub page.
pub fn touches(addr: usize, len: usize) -> bool {
    let end = addr.saturating_add(len.max(1));
    PAGES.lock().iter().any(|p| addr < p.addr + PAGE && p.addr < end)
}

/// In a fork child: a lock held by a thread that does not exist here.
pub fn forked() {
    // SAFETY: the child has one thread, this one, which holds no lock.
    unsafe {
        PAGES.force_unlock();
        OPEN.force_unlock();
    }
}
