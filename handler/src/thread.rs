//! Per-thread state without TLS: the application owns fs, so each thread's
//! block is found through gs, which preld sets in every thread it starts.
//!
//! Blocks live in one address-space reservation made at startup, cut into
//! fixed slots, one per live thread:
//!
//! ```text
//!   slot: [guard 4K][sigaltstack 64K][guard 4K][preld stack ...][block 32K]
//! ```
//!
//! The preld stack is where the SIGSYS handler runs (the application's
//! stacks can be tiny); the sigaltstack receives the SIGSYS frame when the
//! application has none of its own. A slot is claimed lock-free from a
//! bitmap; a thread that exits marks its slot dead, and the slot is reused
//! once tgkill says the thread is gone.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use preld_arch::ArchThread;

use crate::sys;

pub const SLOT_SIZE: usize = 512 * 1024;
pub const MAX_THREADS: usize = 4096;
const GUARD: usize = 4096;
pub const ALTSTACK_SIZE: usize = 64 * 1024;
const BLOCK_SIZE: usize = 32 * 1024;
const ALTSTACK_OFF: usize = GUARD;
const STACK_OFF: usize = ALTSTACK_OFF + ALTSTACK_SIZE + GUARD;
const BLOCK_OFF: usize = SLOT_SIZE - BLOCK_SIZE;
pub const TRACE_BUF: usize = 8192;
pub const PATH_MAX: usize = 4096;
/// Rewritten paths of one call (at most two); a small ring of them, so that
/// a call made from a signal handler during a restartable call does not
/// overwrite the paths the outer call will read again.
const PATH_RING: usize = 2;

/// `stack_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackT {
    pub sp: usize,
    pub flags: i32,
    pub size: usize,
}

pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;

/// A thread's state. `arch` must come first: assembly reads it through gs.
#[repr(C)]
pub struct ThreadBlock {
    pub arch: ArchThread,
    /// This thread's slot index.
    pub slot: usize,
    /// The sigaltstack the application believes it has.
    pub app_altstack: StackT,
    /// The application asked to block SIGSYS (never really blocked).
    pub sigsys_blocked: bool,
    /// A SIGSYS sent while the application blocked it, held back.
    pub pending_sigsys: bool,
    pub pending_sigsys_info: [u8; 128],
    /// This thread's signal action table (`signals::Actions`); 0: the
    /// process's.
    pub actions: usize,
    /// The table of a child that shares memory but not signal handlers.
    pub own_actions: crate::signals::Actions,
    /// A clone parent: where it resumes, with which mask, and its child's
    /// slot (freed when the call fails or a vfork child has let go).
    pub clone_resume: usize,
    pub clone_mask: u64,
    pub clone_child: usize,
    pub clone_vfork: bool,
    pub clone_nr: usize,
    pub clone_args: [usize; 6],
    /// What a pending execve points at (freed if it fails).
    pub exec_alloc: usize,
    /// This thread's connection to the capability server (0: none yet).
    pub rpc_fd: i32,
    /// A call's mask with SIGSYS taken out, and pselect6's pair pointing at it.
    pub scratch_mask: usize,
    pub scratch_pair: [usize; 2],
    /// The traced call this thread is in, as its number + 1 (0: none), and
    /// its arguments: an exit_group of another thread shows it as `= ?`.
    pub trace_pending: usize,
    pub trace_pending_args: [usize; 6],
    /// The in/out length of the traced call, read before it was made.
    pub trace_saved: Option<u32>,
    /// When the traced call was trapped (for -t and -T), ns since the epoch.
    pub trace_start_ns: u64,
    /// The traced calls a signal handler interrupted (blocked in the tail
    /// gate), innermost last, keyed by the handler's frame; put back when
    /// that frame's rt_sigreturn comes.
    pub trace_nest: [crate::trace::Interrupted; 8],
    pub trace_nest_len: usize,
    /// Trace lines not yet written.
    pub trace_len: usize,
    pub trace: [u8; TRACE_BUF],
    /// Next path buffer set of the ring.
    path_next: usize,
    paths: [[[u8; PATH_MAX]; 2]; PATH_RING],
}

const _: () = assert!(core::mem::size_of::<ThreadBlock>() <= BLOCK_SIZE);

impl ThreadBlock {
    pub fn tid(&mut self) -> i32 {
        if self.arch.tid == 0 {
            self.arch.tid = sys::gettid() as usize;
        }
        self.arch.tid as i32
    }

    /// Two path buffers for one call.
    pub fn path_bufs(&mut self) -> &mut [[u8; PATH_MAX]; 2] {
        let i = self.path_next;
        self.path_next = (i + 1) % PATH_RING;
        &mut self.paths[i]
    }

    /// The sigaltstack preld gives a thread that has none of its own.
    pub fn preld_altstack(&self) -> StackT {
        StackT { sp: slot_base(self.slot) + ALTSTACK_OFF, flags: 0, size: ALTSTACK_SIZE }
    }
}

static ARENA: AtomicUsize = AtomicUsize::new(0);
/// Slots in use, and slots whose thread has exited (waiting to be reaped).
static USED: [AtomicU64; MAX_THREADS / 64] = [const { AtomicU64::new(0) }; MAX_THREADS / 64];
static DEAD: [AtomicU64; MAX_THREADS / 64] = [const { AtomicU64::new(0) }; MAX_THREADS / 64];
/// Slots whose pages have been made accessible once.
static READY: [AtomicU64; MAX_THREADS / 64] = [const { AtomicU64::new(0) }; MAX_THREADS / 64];

fn slot_base(i: usize) -> usize {
    ARENA.load(Ordering::Relaxed) + i * SLOT_SIZE
}

/// The address range of all thread slots (preld's memory).
pub fn arena_range() -> (usize, usize) {
    let a = ARENA.load(Ordering::Relaxed);
    (a, a + SLOT_SIZE * MAX_THREADS)
}

/// Reserves the slots' address space. Called once at startup.
pub fn init_arena() -> Result<(), i32> {
    // SAFETY: a fresh reservation where the kernel chooses.
    let a = unsafe {
        sys::mmap(
            0,
            SLOT_SIZE * MAX_THREADS,
            sys::PROT_NONE,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS | sys::MAP_NORESERVE,
            -1,
            0,
        )?
    };
    ARENA.store(a, Ordering::Relaxed);
    Ok(())
}

/// Whether `t`'s thread is the only one of the process that may run
/// application code (every other slot free, or its thread exiting): code
/// can then be rewritten without another thread executing it.
pub fn only_thread(t: &ThreadBlock) -> bool {
    let (mine_w, mine) = bit(t.slot);
    (0..USED.len()).all(|w| {
        let live = USED[w].load(Ordering::Acquire) & !DEAD[w].load(Ordering::Acquire);
        live == if w == mine_w { mine } else { 0 }
    })
}

fn bit(i: usize) -> (usize, u64) {
    (i / 64, 1u64 << (i % 64))
}

/// Frees slots of threads that have exited.
fn reap() {
    let pid = sys::getpid();
    for w in 0..DEAD.len() {
        let mut dead = DEAD[w].load(Ordering::Acquire);
        while dead != 0 {
            let b = dead.trailing_zeros() as usize;
            dead &= dead - 1;
            let i = w * 64 + b;
            // SAFETY: a dead slot's block stays mapped and initialized; its
            // thread wrote the tid before marking it dead.
            let tid = unsafe { (*block_at(i)).arch.tid as i32 };
            if sys::tgkill(pid, tid, 0) == Err(3) {
                // ESRCH: the thread is gone, and with it every use of the slot.
                // SAFETY: as above; nobody else uses a dead thread's block.
                let gone = unsafe { &mut *block_at(i) };
                if gone.rpc_fd > 0 {
                    crate::fds::release_fd(gone.rpc_fd);
                    gone.rpc_fd = 0;
                }
                DEAD[w].fetch_and(!(1 << b), Ordering::AcqRel);
                USED[w].fetch_and(!(1 << b), Ordering::AcqRel);
            }
        }
    }
}

fn block_at(i: usize) -> *mut ThreadBlock {
    (slot_base(i) + BLOCK_OFF) as *mut ThreadBlock
}

/// Claims a slot for a new thread and prepares its block: stacks mapped,
/// `arch` filled but for the resume state, which the caller sets.
pub fn alloc() -> Result<&'static mut ThreadBlock, i32> {
    reap();
    let i = claim().ok_or(11)?; // EAGAIN, as the kernel says when out of threads
    let base = slot_base(i);
    let (w, m) = bit(i);
    if READY[w].load(Ordering::Acquire) & m == 0 {
        // SAFETY: the slot lies in preld's reservation and is ours (claimed).
        unsafe {
            let rw = sys::PROT_READ | sys::PROT_WRITE;
            if let Err(e) = sys::mprotect(base + ALTSTACK_OFF, ALTSTACK_SIZE, rw)
                .and_then(|_| sys::mprotect(base + STACK_OFF, SLOT_SIZE - STACK_OFF, rw))
            {
                USED[w].fetch_and(!m, Ordering::AcqRel);
                return Err(e);
            }
        }
        READY[w].fetch_or(m, Ordering::AcqRel);
    }
    let b = block_at(i);
    // SAFETY: the block is accessible (above), ours alone (claimed), and a
    // ThreadBlock of plain integers, for which these writes are valid.
    let t = unsafe {
        core::ptr::write_bytes(b as *mut u8, 0, core::mem::offset_of!(ThreadBlock, trace));
        &mut *b
    };
    t.arch.self_ptr = b as usize;
    t.arch.stack_hi = b as usize; // the stack ends where the block starts
    t.slot = i;
    t.app_altstack = StackT { sp: 0, flags: SS_DISABLE, size: 0 };
    let alt = t.preld_altstack();
    t.arch.altstack = [alt.sp, alt.flags as usize, alt.size];
    Ok(t)
}

fn claim() -> Option<usize> {
    for (w, word) in USED.iter().enumerate() {
        let mut cur = word.load(Ordering::Relaxed);
        while cur != u64::MAX {
            let b = (!cur).trailing_zeros() as usize;
            match word.compare_exchange_weak(cur, cur | (1 << b), Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(w * 64 + b),
                Err(now) => cur = now,
            }
        }
    }
    None
}

/// Returns a slot whose thread never ran (its clone failed) or has let go.
pub fn free(t: &mut ThreadBlock) {
    let (w, m) = bit(t.slot);
    USED[w].fetch_and(!m, Ordering::AcqRel);
}

/// Marks the calling thread's slot for reuse once the thread has exited.
pub fn exiting(t: &mut ThreadBlock) {
    t.tid();
    let (w, m) = bit(t.slot);
    DEAD[w].fetch_or(m, Ordering::AcqRel);
}

/// Calls `f` on the block of every thread in use.
pub fn for_each_live(mut f: impl FnMut(&mut ThreadBlock)) {
    for (w, word) in USED.iter().enumerate() {
        let mut used = word.load(Ordering::Acquire);
        while used != 0 {
            let b = used.trailing_zeros() as usize;
            used &= used - 1;
            // SAFETY: a used slot's block is mapped and initialized; callers
            // only touch fields that are not in use concurrently (fd numbers).
            f(unsafe { &mut *block_at(w * 64 + b) });
        }
    }
}

/// Calls `f(tid, pending, args)` for every other thread of this process
/// that is alive and whose tid is known: the traced call it is in (number
/// + 1, or 0) and that call's arguments. The fields are read volatile: the
/// threads may be running.
pub fn for_each_other_thread(me: usize, mut f: impl FnMut(i32, usize, [usize; 6])) {
    let pid = sys::getpid();
    for (w, word) in USED.iter().enumerate() {
        let mut used = word.load(Ordering::Acquire) & !DEAD[w].load(Ordering::Acquire);
        while used != 0 {
            let b = used.trailing_zeros() as usize;
            used &= used - 1;
            let i = w * 64 + b;
            if i == me {
                continue;
            }
            let p = block_at(i);
            // SAFETY: a used slot's block is mapped and initialized; these
            // words are only read, and a torn value is only printed.
            let (tid, pending, args) = unsafe {
                (
                    core::ptr::read_volatile(&raw const (*p).arch.tid) as i32,
                    core::ptr::read_volatile(&raw const (*p).trace_pending),
                    core::ptr::read_volatile(&raw const (*p).trace_pending_args),
                )
            };
            // A vfork child shares the slots with its parent's threads:
            // only this thread group's are ours.
            if tid > 0 && sys::tgkill(pid, tid, 0).is_ok() {
                f(tid, pending, args);
            }
        }
    }
}

/// In a fork child: only the calling thread exists now; the fds the other
/// threads' blocks hold are the parent's.
pub fn forked(t: &mut ThreadBlock) {
    crate::fast::forked();
    let me = t.slot;
    for_each_live(|o| {
        if o.slot != me && o.rpc_fd > 0 {
            crate::fds::release_fd(o.rpc_fd);
        }
    });
    for w in 0..USED.len() {
        USED[w].store(0, Ordering::Relaxed);
        DEAD[w].store(0, Ordering::Relaxed);
    }
    let (w, m) = bit(t.slot);
    USED[w].store(m, Ordering::Relaxed);
    t.arch.tid = 0;
}

/// The calling thread's block.
///
/// # Safety
/// Only in preld code running on a thread preld set up (gs is its block),
/// and only while no other reference to the block is live (the SIGSYS
/// handler runs with every signal blocked, so it is never re-entered).
pub unsafe fn current() -> &'static mut ThreadBlock {
    // SAFETY: per the contract, gs:[0] is this thread's block.
    unsafe { &mut *(preld_arch::thread_block() as *mut ThreadBlock) }
}

/// Sets the calling thread up as the first thread: a block, gs, sigaltstack.
pub fn start_main() -> Result<&'static mut ThreadBlock, i32> {
    init_arena()?;
    let t = alloc()?;
    // SAFETY: the block starts with its ArchThread and lives as long as the process.
    let r = unsafe { preld_arch::set_thread_block(t.arch.self_ptr) };
    if r < 0 {
        return Err(-r as i32);
    }
    let alt = t.preld_altstack();
    sys::sigaltstack(&alt as *const StackT as usize, 0)?;
    Ok(t)
}
