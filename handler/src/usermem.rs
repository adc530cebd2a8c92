//! Reading and writing the application's memory without trusting its
//! pointers. Writes: process_vm_readv on our own process fails with EFAULT
//! where a plain access would kill the process with SIGSEGV. Reads: the
//! kernel is asked whether each page is readable (`readable`), then the
//! bytes are copied, while no other thread can take the pages away
//! (`Copying`).
//!
//! The application's memory is always the *local* side of those calls,
//! which the kernel accesses as it does an application's own read(2) or
//! write(2) buffer (copy_to_user, copy_from_user): a fault there is handled
//! as for the application, so a stack grows into the pages below it as it
//! would for a signal frame or a push. preld's buffer is the remote side,
//! which the kernel pins (get_user_pages): that would not grow a stack
//! (since Linux 6.5; it warns in the kernel log instead), so the
//! application's memory is never put there.

use core::sync::atomic::{fence, AtomicI32, AtomicUsize, Ordering};

use preld_arch::fast::{copy_stripe, known_page_slot, KnownPage, COPIES, KNOWN_PAGES, MAPPINGS_CHANGING as CHANGING, MEMORY_SHARED as SHARED, PAGES_UNKNOWABLE};
use syscalls::Sysno;

use crate::{resident, sys};

static PID: AtomicI32 = AtomicI32::new(0);

/// Records our pid (at startup, and in every fork child).
pub fn set_pid(pid: i32) {
    PID.store(pid, Ordering::Relaxed);
}

/// The pid process_vm_readv and process_vm_writev name for this memory:
/// the process's, or once another thread shares it, the calling thread's
/// own id. The kernel finds no memory behind a thread group's leader
/// that has exited (pthread_exit in main while other threads go on:
/// ESRCH, and every stat, sigprocmask or readlink of theirs said EFAULT),
/// nor behind the parent of a CLONE_VM child process once it has exited
/// or exec'd (the pid is that parent's, in memory they share).
fn own_pid() -> usize {
    if !SHARED.load(Ordering::Relaxed) {
        return PID.load(Ordering::Relaxed) as usize;
    }
    // SAFETY: with a second thread, every thread preld runs on has its
    // block in gs (set before the thread's first call); its arch.tid is
    // written by this thread only (or before it started), read here.
    let tid = unsafe { core::ptr::addr_of!((*(preld_arch::thread_block() as *const crate::thread::ThreadBlock)).arch.tid).read() };
    if tid != 0 {
        tid
    } else {
        sys::gettid() as usize
    }
}

/// Copies `len` bytes of preld's `buf` into the application's `app` with
/// process_vm_readv (its local side is written). Refused (a seccomp
/// filter of the application's: systemd's @system-service leaves it out),
/// probed and plain copies instead (`write_plain`).
fn copy_to_app(app: usize, buf: usize, len: usize) -> bool {
    let local = [app, len];
    let remote = [buf, len];
    // SAFETY: the remote iovec describes preld memory the caller owns for
    // `len` bytes (only read: the caller's `&`); the local one, the
    // application's, is checked by the kernel.
    let ret = unsafe {
        sys::raw(Sysno::process_vm_readv as usize, [own_pid(), local.as_ptr() as usize, 1, remote.as_ptr() as usize, 1, 0])
    };
    match ret {
        Ok(n) => n == len,
        Err(crate::errno::EFAULT) => false,
        // SAFETY: the caller's `buf` is preld memory of `len` bytes.
        Err(_) => write_plain(app, unsafe { core::slice::from_raw_parts(buf as *const u8, len) }),
    }
}

/// `copy_to_app` where process_vm_readv is refused: pieces of 8 to 4096
/// bytes, each written by the kernel first (`probe_writable`), then
/// copied, counted as in `write_probed` (once any change under way is
/// over). Fewer than 8 bytes: false (EFAULT), since no probe writes so
/// few without touching the bytes beside them.
fn write_plain(addr: usize, buf: &[u8]) -> bool {
    if buf.len() < 8 {
        return false;
    }
    let mut off = 0;
    while off < buf.len() {
        let rest = buf.len() - off;
        let n = if rest <= 4096 {
            rest
        } else if rest < 4096 + 8 {
            rest - 8
        } else {
            4096
        };
        // (None only where a change never ends: its end was lost.)
        let _copying = copying_after_changes();
        let at = addr + off;
        if !probe_writable(at, n) {
            return false;
        }
        // SAFETY: [at, at + n) is writable application memory (the kernel
        // has just written there; no thread takes it away before
        // `_copying` ends), none of preld's (the callers' check); preld's
        // `buf` cannot overlap it.
        unsafe { core::ptr::copy_nonoverlapping(buf[off..].as_ptr(), at as *mut u8, n) };
        off += n;
    }
    true
}

/// Pages the kernel has found readable, or writable, for the application,
/// while the generation of the process's mappings stood
/// (`sys::mappings_generation`): a probe costs a system call (with a
/// session's seccomp filter 0.15 us; 47,000 of find's 230,000 calls in a
/// session were probes), a look here a few loads. Direct-mapped by page,
/// each entry behind a sequence count (a writer makes it odd while it
/// writes; a reader that saw it odd or changed finds nothing), so a look
/// never takes half of one entry and half of another. Whatever takes
/// access away (munmap, mprotect, mremap, MAP_FIXED, shmat with
/// SHM_REMAP, shmdt, brk, madvise but the advice that keeps pages
/// readable and writable, the program's own truncations, a fork) bumps
/// the generation before and after it (`memory::forgets_pages`, done in
/// dispatch.rs; preld's own calls in sys.rs): then every entry is stale.
/// Another thread's unmap between a look here and the copy: `Copying`. A
/// page of a shared file mapping that another process truncates
/// is known readable here until the generation moves, where a probe would
/// say EFAULT: the program faults on the same bytes itself (SIGBUS).
/// Protection keys change access without a call (WRPKRU), io_uring's
/// madvise and userfaultfd's write protection without one preld sees:
/// once the program has allocated a key, set up a ring or made a
/// userfaultfd, nothing is known of any page. The table is arch's
/// (`KNOWN_PAGES`): the session open gate reads it too.
fn page_entry(page: usize) -> &'static KnownPage {
    &KNOWN_PAGES[known_page_slot(page)]
}

/// Whether the page at `page` is known readable, or writable if `write`.
fn page_known(page: usize, write: bool) -> bool {
    let e = page_entry(page);
    let seq = e.seq.load(Ordering::Acquire);
    if seq & 1 != 0 {
        return false;
    }
    let (p, gen) = (e.page.load(Ordering::Relaxed), e.gen.load(Ordering::Relaxed));
    fence(Ordering::Acquire);
    e.seq.load(Ordering::Relaxed) == seq
        && p & !1 == page
        && (!write || p & 1 != 0)
        && gen == sys::mappings_generation()
        && !PAGES_UNKNOWABLE.load(Ordering::Relaxed)
}

/// Records what a probe found of the page at `page`, made at generation
/// `gen` (read before the probe: a change during it leaves the entry
/// stale). Another thread writing the entry: not recorded.
fn page_learnt(page: usize, write: bool, gen: u64) {
    let e = page_entry(page);
    let seq = e.seq.load(Ordering::Relaxed);
    if seq & 1 != 0 || e.seq.compare_exchange(seq, seq.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed).is_err() {
        return;
    }
    e.page.store(page | write as usize, Ordering::Relaxed);
    e.gen.store(gen, Ordering::Relaxed);
    e.seq.store(seq.wrapping_add(2), Ordering::Release);
}

/// Whether the page at `page` is readable (writable if `write`): known,
/// or found so by `probe` (a system call that has the kernel touch it),
/// which is then remembered under the generation read before it.
fn known_or_probed(page: usize, write: bool, probe: impl FnOnce() -> bool) -> bool {
    if page_known(page, write) {
        return true;
    }
    let gen = sys::mappings_generation();
    let ok = probe();
    if ok {
        page_learnt(page, write, gen);
    }
    ok
}

/// Pages may lose access without a call preld sees from now on (a
/// protection key, an io_uring, a userfaultfd): nothing is known of any.
pub fn pages_unknowable() {
    PAGES_UNKNOWABLE.store(true, Ordering::Relaxed);
}

/// Whether the application can read [addr, addr + len), found by having
/// the kernel read 8 bytes of each page of it, as it would for the
/// application: rt_sigprocmask with an invalid `how` copies the new set
/// in (EFAULT where it cannot) and then refuses (EINVAL), changing
/// nothing. A fraction of process_vm_writev's cost (which pins the pages:
/// 1.5 us a call here).
fn readable(addr: usize, len: usize) -> bool {
    const PAGE: usize = 4096;
    let Some(end) = addr.checked_add(len) else { return false };
    let mut at = addr;
    while at < end {
        let page_end = (at | (PAGE - 1)).saturating_add(1);
        // 8 bytes within this page (they may begin before `addr`: the same
        // page is readable or not as a whole).
        let probe = if page_end - at >= 8 { at } else { page_end - 8 };
        let readable = known_or_probed(at & !(PAGE - 1), false, || {
            // SAFETY: the kernel only reads the 8 bytes at `probe` (or
            // fails with EFAULT); `how` = -1 makes it change no mask.
            (unsafe { sys::raw(Sysno::rt_sigprocmask as usize, [usize::MAX, probe, 0, 8, 0, 0]) }) == Err(crate::errno::EINVAL)
        });
        if !readable {
            return false;
        }
        at = page_end;
    }
    true
}

/// Fills `buf` from application address `addr`; false if any of it is
/// unreadable. The copy is a plain one once the kernel has found every
/// page readable, made while no change of the application's mappings is
/// under way (`Copying`); during one, the kernel copies (`read_by_kernel`).
pub fn read(addr: usize, buf: &mut [u8]) -> bool {
    if buf.is_empty() {
        return true;
    }
    let Some(_copying) = Copying::enter() else {
        return read_by_kernel(addr, buf);
    };
    if !readable(addr, buf.len()) {
        return false;
    }
    // SAFETY: [addr, addr + len) is readable application memory (just
    // checked, and no thread takes access away before `_copying` ends),
    // copied as bytes into preld's buffer, which it cannot overlap with
    // any meaning (preld's buffers are preld's).
    unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
    true
}

/// `read` by the kernel: process_vm_writev from the application's memory
/// (its local side, read as the application's own write(2) buffer is)
/// into preld's `buf`. 1.5 us (it pins preld's page), so only while
/// another thread changes the mappings.
fn read_by_kernel(addr: usize, buf: &mut [u8]) -> bool {
    let local = [addr, buf.len()];
    let remote = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: the remote iovec is preld's `buf`, written for at most its
    // length; the local one, the application's, is read and checked by the
    // kernel (EFAULT, or fewer bytes).
    let ret = unsafe {
        sys::raw(Sysno::process_vm_writev as usize, [own_pid(), local.as_ptr() as usize, 1, remote.as_ptr() as usize, 1, 0])
    };
    match ret {
        Ok(n) => n == buf.len(),
        // Refused (a seccomp filter of the application's): the plain copy
        // once the change is over, as before there was this way round.
        Err(e) if e != crate::errno::EFAULT => {
            // Counted again once the change is over (None only where one
            // never ends: its end was lost).
            let _copying = copying_after_changes();
            readable(addr, buf.len()) && {
                // SAFETY: as in `read` (without `Copying` only after a
                // change whose end was lost: the window the rest of this
                // module closes).
                unsafe { core::ptr::copy_nonoverlapping(addr as *const u8, buf.as_mut_ptr(), buf.len()) };
                true
            }
        }
        Err(_) => false,
    }
}

/// Another thread's munmap (mprotect, MAP_FIXED, mremap, shmdt, brk...)
/// between the kernel's look at a page and preld's plain copy would make
/// the copy fault, and a fault in preld's code ends the process, where
/// natively the call succeeds or fails with EFAULT. So a plain copy of the
/// application's memory is made inside `Copying` (counted in
/// `preld_arch::fast::COPIES`), and a change of the mappings the
/// application asks for waits, between `mappings_begin` and its call, for
/// the copies under way to end; a copy that starts while a change is under
/// way (`MAPPINGS_CHANGING`) is the kernel's. Before the process has a
/// second thread sharing its memory (`MEMORY_SHARED`) there is nothing to
/// race with, and none of this is done. The path gates (arch's fast.rs)
/// read their few bytes the same way.
///
/// The process is about to have a second thread of execution sharing its
/// memory (clone with CLONE_VM, not a vfork: its parent waits).
pub fn shared_memory() {
    SHARED.store(true, Ordering::SeqCst);
}

/// Whether a second thread of execution has shared this memory.
pub fn memory_shared() -> bool {
    SHARED.load(Ordering::Relaxed)
}

/// A plain copy of the application's memory under way; None: a change of
/// the mappings is (the kernel must copy).
struct Copying(Option<&'static AtomicUsize>);

impl Copying {
    fn enter() -> Option<Copying> {
        if !SHARED.load(Ordering::Relaxed) {
            // One thread: it is here, not changing the mappings.
            return Some(Copying(None));
        }
        // SAFETY: with a second thread, every thread preld runs on has its
        // block in gs (set before the thread's first call).
        let stripe = copy_stripe(unsafe { preld_arch::thread_block() });
        if CHANGING.load(Ordering::SeqCst) != 0 {
            return None;
        }
        // Counted, then the changes looked at again: a change that began
        // before either sees this count (and waits) or is seen here.
        stripe.fetch_add(1, Ordering::SeqCst);
        if CHANGING.load(Ordering::SeqCst) != 0 {
            stripe.fetch_sub(1, Ordering::Release);
            return None;
        }
        Some(Copying(Some(stripe)))
    }
}

impl Drop for Copying {
    fn drop(&mut self) {
        if let Some(s) = self.0 {
            s.fetch_sub(1, Ordering::Release);
        }
    }
}

/// Before a call of the application's that may take access to pages away
/// (`memory::forgets_pages`): the known pages are forgotten, copies
/// starting from now are the kernel's, and those under way end first.
/// Paired with `mappings_end` after the call (a call whose end is lost, as
/// when a signal handler jumps out of the tail gate before its post trap,
/// only leaves the copies to the kernel from then on).
pub fn mappings_begin() {
    sys::mappings_change();
    if !SHARED.load(Ordering::Relaxed) {
        return;
    }
    CHANGING.fetch_add(1, Ordering::SeqCst);
    for s in &COPIES {
        while s.0.load(Ordering::SeqCst) != 0 {
            sys::sched_yield();
        }
    }
}

/// After the call `mappings_begin` went before.
pub fn mappings_end() {
    sys::mappings_change();
    if SHARED.load(Ordering::Relaxed) {
        let _ = CHANGING.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

/// A signal has come while a call of the tail gate that changes the
/// mappings is on its way (`c.t.change_open`): the application's handler
/// may jump out, and the post trap that ends the change never come (every
/// copy of every thread then went to the kernel for good, and with a
/// seccomp filter of the application's that refuses process_vm_writev,
/// waited 10,000 turns each: h_memrace's lost-end hung). After the call
/// (`uc` between it and the post trap), the change is made and ends now.
/// Before it (the signal came as the SIGSYS handler returned), it ends
/// now too, and the application is put back at its own `syscall` with the
/// call's number and arguments, as if the signal had come just before it:
/// if the handler returns, the call traps again and is made anew.
pub fn change_interrupted(t: &mut crate::thread::ThreadBlock, uc: &mut preld_arch::Ucontext) {
    if !t.change_open {
        return;
    }
    let rip = uc.rip();
    if preld_arch::after_tail_call(rip) {
        t.change_open = false;
        mappings_end();
    } else if rip == preld_arch::tail_gate_post as *const () as usize && probe_readable(uc.posted_slot(), preld_arch::TAIL_SLOT_LEN) {
        // SAFETY: just checked readable.
        let slot = unsafe { uc.tail_state() };
        t.change_open = false;
        mappings_end();
        uc.finish_tail(&slot, slot.words[0]);
        // (The `syscall` instruction that trapped: two bytes.)
        uc.set_rip(slot.rip.wrapping_sub(2));
    }
}

/// In a fork child: the parent's other threads, whose copies and changes
/// the counts may hold, are not here.
pub fn forked() {
    sys::mappings_change();
    CHANGING.store(0, Ordering::SeqCst);
    for s in &COPIES {
        s.0.store(0, Ordering::SeqCst);
    }
}

/// Until no change of the mappings is under way (a bounded wait: a lost
/// end must not hold a thread for good): whether none is.
fn wait_for_changes() -> bool {
    for _ in 0..10_000 {
        if CHANGING.load(Ordering::SeqCst) == 0 {
            return true;
        }
        sys::sched_yield();
    }
    false
}

/// A plain copy counted once no change of the mappings is under way. A
/// change may begin again between the wait and the count (another thread
/// mapping and unmapping a page in a loop): then the wait again, a bounded
/// number of times. Copying without the count there read a page that
/// thread's munmap took away meanwhile: preld died of SIGSEGV under a
/// filter refusing process_vm_writev (h_memrace's race-seccomp, 1 run in
/// many hundreds under load). None: a change that never ends (its end
/// lost), or one after another for good.
fn copying_after_changes() -> Option<Copying> {
    for _ in 0..1000 {
        if !wait_for_changes() {
            return None;
        }
        if let Some(c) = Copying::enter() {
            return Some(c);
        }
    }
    None
}

/// Writes `buf` at application address `addr`; false if it is not writable,
/// or is preld's memory (image, thread slots, vDSO: `resident::touches`),
/// which an application's pointer never makes preld write: natively
/// nothing is mapped there, and the kernel would say EFAULT.
pub fn write(addr: usize, buf: &[u8]) -> bool {
    if buf.is_empty() {
        return true;
    }
    !resident::touches(addr, buf.len()) && copy_to_app(addr, buf.as_ptr() as usize, buf.len())
}

/// `write` of 8 to 4096 bytes without process_vm_readv's cost (it pins
/// the pages): the kernel writes into each page first (`probe_writable`,
/// which grows a stack as the application's own call would), then the
/// bytes are copied, inside `Copying` as for `read`.
pub fn write_probed(addr: usize, buf: &[u8]) -> bool {
    if !(8..=4096).contains(&buf.len()) {
        return write(addr, buf);
    }
    if resident::touches(addr, buf.len()) {
        return false;
    }
    let Some(_copying) = Copying::enter() else {
        return copy_to_app(addr, buf.as_ptr() as usize, buf.len());
    };
    if !probe_writable(addr, buf.len()) {
        return false;
    }
    // SAFETY: [addr, addr + len) is writable application memory (the
    // kernel has just written there, and no thread takes access away
    // before `_copying` ends), none of preld's; preld's `buf` cannot
    // overlap it.
    unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), addr as *mut u8, buf.len()) };
    true
}

/// Whether the application can write [addr, addr + len) (8 to 4096 bytes:
/// at most two pages), found by having the kernel write there, as it would
/// for the application (a stack grows): one rt_sigprocmask(SIG_BLOCK, NULL,
/// oldset) into the first page and, if the range crosses into a second,
/// one into it. The probes leave the current mask in the first and last 8
/// bytes: for a caller that writes the whole range next. Says nothing of
/// whose memory it is (see `memory::touches_preld`).
pub fn probe_writable(addr: usize, len: usize) -> bool {
    const PAGE: usize = 4096;
    debug_assert!((8..=PAGE).contains(&len));
    let Some(last) = addr.checked_add(len - 8) else { return false };
    let probe = |at: usize| {
        known_or_probed(at & !(PAGE - 1), true, || {
            // SAFETY: SIG_BLOCK with no new set changes no mask; the kernel
            // writes the current one (8 bytes) at `at` or fails with EFAULT.
            unsafe { sys::raw(Sysno::rt_sigprocmask as usize, [0, 0, at, 8, 0, 0]) }.is_ok()
        })
    };
    probe(addr) && (addr / PAGE == (last + 7) / PAGE || probe(last))
}

/// Whether the application's [addr, addr + len) (at most 4096 bytes: two
/// pages) can be read, found by having the kernel read 8 bytes of each page
/// as a new signal set to block. Only where every signal is blocked
/// already (in the SIGSYS handler), so that blocking more changes nothing.
pub fn probe_readable(addr: usize, len: usize) -> bool {
    const PAGE: usize = 4096;
    debug_assert!((8..=PAGE).contains(&len));
    let Some(last) = addr.checked_add(len - 8) else { return false };
    let probe = |at: usize| {
        known_or_probed(at & !(PAGE - 1), false, || {
            // SAFETY: rt_sigprocmask(SIG_BLOCK, at, NULL) with every signal
            // blocked (the caller's contract): reads 8 bytes at `at` or
            // fails with EFAULT, and blocks nothing that is not blocked
            // already.
            unsafe { sys::raw(Sysno::rt_sigprocmask as usize, [0, at, 0, 8, 0, 0]) }.is_ok()
        })
    };
    probe(addr) && (addr / PAGE == (last + 7) / PAGE || probe(last))
}

pub fn read_words(addr: usize, w: &mut [usize]) -> bool {
    let mut b = [0u8; 64];
    let n = w.len() * 8;
    if n > b.len() || !read(addr, &mut b[..n]) {
        return false;
    }
    for (i, v) in w.iter_mut().enumerate() {
        *v = usize::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    }
    true
}

pub fn write_words(addr: usize, w: &[usize]) -> bool {
    let mut b = [0u8; 64];
    let n = w.len() * 8;
    if n > b.len() {
        return false;
    }
    for (i, v) in w.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
    }
    write(addr, &b[..n])
}

/// Reads a NUL-terminated string at `addr` into `buf` (without the NUL).
/// None if unreadable or longer than `buf`.
pub fn read_cstr(addr: usize, buf: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    while n < buf.len() {
        // Page by page: a string may end just before an unmapped page.
        let a = addr.checked_add(n)?;
        let chunk = (4096 - a % 4096).min(buf.len() - n);
        if let Some(z) = read_to_nul(a, &mut buf[n..n + chunk])? {
            return Some(n + z);
        }
        n += chunk;
    }
    None
}

/// Copies bytes at `addr` (all within one page) into `buf` up to and
/// including the first NUL: Some(Some(its index)), Some(None) if `buf`
/// filled first, None if unreadable. Eight bytes at a time: a copy of the
/// whole page's rest (rep movsb, 50 ns for 256 bytes here) cost more than
/// the rest of a stat's handling.
fn read_to_nul(addr: usize, buf: &mut [u8]) -> Option<Option<usize>> {
    let Some(_copying) = Copying::enter() else {
        return read_by_kernel(addr, buf).then(|| buf.iter().position(|&b| b == 0));
    };
    if !readable(addr, buf.len()) {
        return None;
    }
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= buf.len() {
        // SAFETY: [addr + i, addr + i + 8) lies in the readable range just
        // checked (no thread takes it away before `_copying` ends); an
        // unaligned load of application bytes.
        let w = unsafe { core::ptr::read_unaligned((addr + i) as *const u64) };
        buf[i..i + 8].copy_from_slice(&w.to_ne_bytes());
        if w.wrapping_sub(ONES) & !w & HIGHS != 0 {
            return Some(buf[i..i + 8].iter().position(|&b| b == 0).map(|z| i + z));
        }
        i += 8;
    }
    while i < buf.len() {
        // SAFETY: as above, one byte.
        let b = unsafe { core::ptr::read((addr + i) as *const u8) };
        buf[i] = b;
        if b == 0 {
            return Some(Some(i));
        }
        i += 1;
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};

    /// Strings of every length up to 40 bytes ending at every distance
    /// from the end of a page followed by unmapped memory, read word by
    /// word; an unterminated one at the end is None (EFAULT), as is one
    /// longer than the buffer.
    #[test]
    fn strings_read_up_to_their_nul_and_never_past_a_page() {
        // SAFETY: two fresh pages of our own, the second then unmapped.
        let base = unsafe { sys::mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) }.unwrap();
        // SAFETY: the second page is ours and used by nothing.
        unsafe { sys::munmap(base + 4096, 4096) }.unwrap();
        // SAFETY: the first page, ours, writable.
        let page = unsafe { core::slice::from_raw_parts_mut(base as *mut u8, 4096) };
        let mut buf = [0u8; 64];
        for len in 0..40 {
            for room in len + 1..len + 12 {
                page.fill(b'x');
                let at = 4096 - room;
                page[at + len] = 0;
                assert_eq!(read_cstr(base + at, &mut buf), Some(len), "len {len} room {room}");
                assert!(buf[..len].iter().all(|&b| b == b'x'));
            }
        }
        page.fill(b'x');
        assert_eq!(read_cstr(base + 4096 - 13, &mut buf), None, "runs into the unmapped page");
        page[100] = 0;
        assert_eq!(read_cstr(base, &mut buf), None, "longer than the buffer");
        assert_eq!(read_cstr(base + 90, &mut buf), Some(10));
        // SAFETY: the first page, ours.
        unsafe { sys::munmap(base, 4096) }.unwrap();
    }
}
