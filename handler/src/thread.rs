//! Per-thread state without TLS: the application owns fs, so each thread's
//! block is found through gs, which preld sets in every thread it starts.
//!
//! Blocks live in fixed slots, one per live thread:
//!
//! ```text
//!   slot: [guard 4K][sigaltstack 64K][guard 4K][preld stack ...][block 48K]
//! ```
//!
//! The preld stack is where the SIGSYS handler runs (the application's
//! stacks can be tiny); the sigaltstack receives the SIGSYS frame when the
//! application has none of its own.
//!
//! The slots are cut from chunks of address space reserved as threads need
//! them: the first chunk (8 slots, 4 MiB) at start-up, and whenever every
//! slot is taken the next one, as many slots as all chunks so far (8, 8,
//! 16, 32, ... up to 4096 slots, 2 GiB, a chunk), or half as many, down
//! to 8, while the kernel refuses the reservation (ENOMEM: a low RLIMIT_AS,
//! a crowded address space). Growing is lock-free: the thread that finds
//! no free slot reserves a chunk and publishes it with a compare-and-swap
//! of one word (its address and size); a thread that loses the race unmaps
//! its own reservation, and any thread completes the publication (the
//! chunk's end slot, then the chunk count), so none ever waits for another,
//! and a fork that comes in the middle leaves nothing held. Slots are
//! numbered across chunks (chunk k holds `START[k]..START[k + 1]`, found by
//! binary search), and one bitmap over those numbers says which slots are
//! in use, which are dead and which have been made accessible. A slot is
//! claimed lock-free from the bitmap; a thread that exits marks its slot
//! dead, and the slot is reused once tgkill says the thread is gone.
//!
//! A chunk is reserved PROT_NONE (no memory is committed for it). The first
//! time a slot is used it is made read-write as a whole and its two guard
//! pages are installed with MADV_GUARD_INSTALL, which splits no mapping:
//! neighbouring slots merge into one mapping, so threads cost no entries of
//! vm.max_map_count. On kernels without it (before 6.13) the guard pages
//! are made PROT_NONE again with mprotect (four mappings a slot).
//!
//! **Who may reference a block.** A block belongs to its thread, which
//! reaches it with `current()`: the only `&mut ThreadBlock` to a block
//! whose thread runs. No other thread makes a reference to such a block,
//! shared or not. What other threads need of it they reach through a raw
//! pointer, one field at a time: `rpc_fd`, an atomic (another thread
//! renumbers it when the application dup2's over it: `live_conn_fds`),
//! `own_actions`, a table behind a lock that the threads sharing its signal
//! handlers use (`actions`), and the words
//! `for_each_other_thread` reads for a trace. A block whose
//! thread has not started belongs to the thread that claimed its slot:
//! `alloc` fills it, and the clone parent hands it to the child or, when
//! there is none, frees it (clone.rs). Of a block whose thread is gone,
//! `reap` takes the `rpc_fd` (swapped: several threads may reap at once).

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use preld_arch::ArchThread;

use crate::abi::{self, MADV_GUARD_INSTALL, SS_DISABLE};
use crate::errno::{EAGAIN, EINVAL, ENOMEM, ESRCH};
use crate::sys::{self, StackT};

pub const SLOT_SIZE: usize = 512 * 1024;
/// Slots of the first chunk, reserved at start-up (4 MiB), and of the
/// smallest.
pub const FIRST_SLOTS: usize = 8;
/// Slots of the largest chunk (2 GiB); chunks double up to it.
const CHUNK_MAX_SLOTS: usize = 4096;
/// Slots at most: PID_MAX_LIMIT, more threads than a process can have.
pub const MAX_SLOTS: usize = 1 << 22;
/// Chunks at most: enough for MAX_SLOTS in chunks of 4096 (1034 of them),
/// or for 32768 slots if every reservation had to be the smallest.
const MAX_CHUNKS: usize = 4096;
const WORDS: usize = MAX_SLOTS / 64;
const GUARD: usize = 4096;
pub const ALTSTACK_SIZE: usize = 64 * 1024;
const BLOCK_SIZE: usize = 48 * 1024;
const ALTSTACK_OFF: usize = GUARD;
const BLOCK_OFF: usize = SLOT_SIZE - BLOCK_SIZE;
pub const TRACE_BUF: usize = 8192;
pub use crate::abi::PATH_MAX;
/// Rewritten paths of one call (at most two); a small ring of them, so that
/// a call made from a signal handler during a restartable call does not
/// overwrite the paths the outer call will read again.
const PATH_RING: usize = 2;

/// A traced call a signal handler interrupted: what `trace::before` stored
/// for it, which the handler's own traced calls overwrite (trace.rs keeps
/// these in `ThreadBlock::trace_nest`).
#[derive(Clone, Copy, Default)]
pub struct Interrupted {
    /// The handler's frame (its ucontext), as its rt_sigreturn finds it.
    pub frame: usize,
    pub pending: usize,
    pub args: [usize; 6],
    pub saved: Option<u32>,
    pub start_ns: u64,
}

/// A thread's state. `arch` must come first: assembly reads it through gs.
#[repr(C)]
pub struct ThreadBlock {
    pub arch: ArchThread,
    /// This thread's slot index.
    pub slot: usize,
    /// What runs on the block, which says who frees it (a zero byte is
    /// `Task::Thread`).
    pub task: Task,
    /// The thread group the thread exited from (`exiting`): tgkill looks
    /// for it there. A thread of another process sharing this memory is
    /// never found in the reaper's own (it was freed at once, while still
    /// on its way out: attack h_vmproc).
    pub tgid: i32,
    /// A `Task::Process`'s pid, as its parent's clone returned it (0:
    /// not yet known, or its slot being freed), and that parent's: only it
    /// asks kcmp (the pid is its namespace's).
    pub proc_pid: AtomicI32,
    pub proc_parent: AtomicI32,
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
    pub own_actions: crate::sigactions::Actions,
    /// A clone parent: where it resumes, with which mask, and its child's
    /// slot (freed when the call fails or a vfork child has let go).
    pub clone_resume: usize,
    pub clone_mask: u64,
    pub clone_child: usize,
    pub clone_vfork: bool,
    /// ... and a process of its own sharing memory (`Task::Process`).
    pub clone_process: bool,
    /// ... and it has an fd table of its own (beneath::own_fd_table).
    pub clone_vfork_files: bool,
    pub clone_nr: usize,
    pub clone_args: [usize; 6],
    /// clone3's struct clone_args as the kernel reads it when the
    /// application's asks for CLONE_CLEAR_SIGHAND, which preld leaves out
    /// (the child's SIGSYS action must stay preld's): 88 bytes, version 2.
    pub clone3_copy: [u64; 11],
    /// A change of the mappings (`usermem::mappings_begin`) whose end is
    /// the tail gate's post trap: its call is on its way.
    pub change_open: bool,
    /// What a pending execve points at (freed if it fails).
    pub exec_alloc: usize,
    /// A session's cwd of a child that shares memory but not its parent's
    /// cwd (vfork, posix_spawn: no CLONE_FS); None: the process's
    /// (pola.rs).
    pub own_cwd: Option<alloc::vec::Vec<u8>>,
    /// This thread's connection to the capability server (0: none yet).
    /// Atomic: other threads renumber it (`live_conn_fds`).
    pub rpc_fd: AtomicI32,
    /// This thread's connection to the tracer hub (0: none yet); right
    /// after `rpc_fd` and atomic as it is, for the same reasons.
    pub tracer_fd: AtomicI32,
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
    pub trace_nest: [Interrupted; 8],
    pub trace_nest_len: usize,
    /// Invocations of each call so far, for `-e inject=...:when=` (inject.rs).
    pub inject_count: [u32; 512],
    /// How the next trace line is marked: trace::TAMPER_* bits.
    pub trace_tamper: u8,
    /// A signal the tracers answered `deliver SIG` with, sent again: it
    /// goes to the program without asking them once more.
    pub tracer_pass_sig: i32,
    /// The stepped calls this thread is in (`tracer::push_step`),
    /// innermost last: their sequence numbers and the table's own `After`
    /// word for each.
    pub tracer_steps: [(u32, usize); 8],
    pub tracer_depth: usize,
    /// strace -y: an fd argument the traced call closes or replaces (close,
    /// dup2's target), as fd + 1 (0: none), and its `<path>` as it was
    /// before the call (trace_fd_len bytes; 0: it was not open).
    pub trace_fd_before: i32,
    pub trace_fd_len: usize,
    pub trace_fd_text: [u8; 512],
    /// Trace lines not yet written.
    pub trace_len: usize,
    pub trace: [u8; TRACE_BUF],
    /// Strings a tracer's `rewrite` placed in memory preld owns (valid
    /// until the call returns).
    pub tracer_strs: [u8; preld_proto::tracer::MAX_BLOB],
    /// The handler gate's path (pola.rs `gate_serve`), kept for the next
    /// call and for the next thread of this slot (after `trace`: a slot
    /// taken again is not cleared there; zero bytes are None).
    pub gate_path: Option<alloc::boxed::Box<crate::beneath::PathIn>>,
    /// Next path buffer set of the ring.
    path_next: usize,
    paths: [[[u8; PATH_MAX]; 2]; PATH_RING],
    /// Rewritten time arguments (a timespec or an itimerspec, clockcalls.rs),
    /// a ring as the paths' is.
    time_next: usize,
    times: [[i64; 4]; PATH_RING],
}

const _: () = assert!(core::mem::size_of::<ThreadBlock>() <= BLOCK_SIZE);

/// What runs on a block, and so who may free it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Task {
    /// A thread, of this process or of another sharing this memory (a
    /// CLONE_VM child's): `reap` frees it once tgkill no longer finds it
    /// in the thread group it exited from.
    Thread = 0,
    /// A vfork child (CLONE_VM|CLONE_VFORK): its parent frees it when the
    /// vfork returns (`clone::parent_post`), never `reap`. Marked dead at
    /// its raw exit, another thread's reap freed it while it ran, or
    /// after its parent had, under the slot's next thread: two threads on
    /// one block (Go's syscall tests in a session: "morestack on g0",
    /// SIGSEGV, hangs).
    VforkChild = 1,
    /// A process of its own sharing this memory (clone(CLONE_VM) without
    /// CLONE_THREAD or CLONE_VFORK): as a thread when it calls exit, and
    /// also once kcmp says it no longer shares this memory (killed by a
    /// signal, or exec'd, it never calls exit: its slot leaked, 512 KiB of
    /// address space each; the adversary's h_vmleak).
    Process = 2,
}

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

    /// A buffer for one call's rewritten timespec or itimerspec.
    pub fn time_buf(&mut self) -> &mut [i64; 4] {
        let i = self.time_next;
        self.time_next = (i + 1) % PATH_RING;
        &mut self.times[i]
    }

    /// The sigaltstack preld gives a thread that has none of its own.
    pub fn preld_altstack(&self) -> StackT {
        let base = self as *const ThreadBlock as usize - BLOCK_OFF;
        StackT { sp: base + ALTSTACK_OFF, flags: 0, size: ALTSTACK_SIZE }
    }
}

/// A published chunk: its address with log2 of its slots in the low bits
/// (the address is page-aligned, the slots a power of two below 2^12).
const SHIFT_MASK: usize = 0xfff;
const _: () = assert!(FIRST_SLOTS * SLOT_SIZE == 4 << 20, "start_main's message says 4 MiB");
const _: () = assert!(FIRST_SLOTS.is_power_of_two() && CHUNK_MAX_SLOTS.is_power_of_two() && MAX_SLOTS % 64 == 0);

/// Each chunk as published (0: not reserved yet).
static CHUNKS: [AtomicUsize; MAX_CHUNKS] = [const { AtomicUsize::new(0) }; MAX_CHUNKS];
/// The first slot of each chunk; `START[k + 1]` is one past chunk k's last.
/// Set before NCHUNKS passes k.
static START: [AtomicUsize; MAX_CHUNKS + 1] = [const { AtomicUsize::new(0) }; MAX_CHUNKS + 1];
/// Chunks published: `CHUNKS[..NCHUNKS]` and `START[..=NCHUNKS]` are set.
static NCHUNKS: AtomicUsize = AtomicUsize::new(0);
/// Slots in use, and slots whose thread has exited (waiting to be reaped);
/// only the words of the slots reserved so far are ever touched.
static USED: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
static DEAD: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
/// Slots whose pages have been made accessible once.
static READY: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
/// Slots of `Task::Process` blocks (looked at by `reap` without a dead
/// mark).
static PROCS: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
/// Whether MADV_GUARD_INSTALL is worth trying (cleared when the kernel
/// says EINVAL: older than 6.13, or a locked mapping).
static GUARD_ADVICE: AtomicBool = AtomicBool::new(true);

fn start(k: usize) -> usize {
    START[k].load(Ordering::Relaxed)
}

/// The slots reserved so far (those of the published chunks).
fn reserved() -> usize {
    start(NCHUNKS.load(Ordering::Acquire))
}

/// The bitmap words that cover the reserved slots.
fn words() -> usize {
    reserved().div_ceil(64)
}

/// Of `n` chunks whose first slots `start` gives (increasing, `start(0)`
/// = 0), the one that holds slot `i` (< `start(n)`).
fn find_chunk(n: usize, i: usize, start: impl Fn(usize) -> usize) -> usize {
    let (mut lo, mut hi) = (0, n);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if start(mid) <= i {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// How many slots the next chunk has when `have` are reserved: as many
/// (the first: 8), up to 4096, and no more than MAX_SLOTS leaves; as log2.
fn next_shift(have: usize) -> u32 {
    let mut shift = have.clamp(FIRST_SLOTS, CHUNK_MAX_SLOTS).ilog2();
    while shift > FIRST_SLOTS.ilog2() && have + (1 << shift) > MAX_SLOTS {
        shift -= 1;
    }
    shift
}

fn slot_base(i: usize) -> usize {
    let k = find_chunk(NCHUNKS.load(Ordering::Acquire), i, start);
    (CHUNKS[k].load(Ordering::Relaxed) & !SHIFT_MASK) + (i - start(k)) * SLOT_SIZE
}

/// The address ranges of the chunks reserved so far (preld's memory).
pub fn arena_ranges() -> impl Iterator<Item = (usize, usize)> {
    (0..NCHUNKS.load(Ordering::Acquire)).map(|k| {
        let c = CHUNKS[k].load(Ordering::Relaxed);
        let a = c & !SHIFT_MASK;
        (a, a + (SLOT_SIZE << (c & SHIFT_MASK)))
    })
}

/// Reserves chunk `k` unless another thread has, and publishes it. Called
/// with `k` the number of chunks published when it was read.
fn grow(k: usize) -> Result<(), i32> {
    if k >= MAX_CHUNKS {
        return Err(EAGAIN);
    }
    let have = start(k);
    if have >= MAX_SLOTS {
        return Err(EAGAIN);
    }
    let mut shift = next_shift(have);
    while CHUNKS[k].load(Ordering::Acquire) == 0 {
        let len = SLOT_SIZE << shift;
        // SAFETY: a fresh reservation where the kernel chooses.
        let r = unsafe {
            sys::mmap(0, len, abi::PROT_NONE, abi::MAP_PRIVATE | abi::MAP_ANONYMOUS | abi::MAP_NORESERVE, -1, 0)
        };
        match r {
            Ok(a) => {
                if CHUNKS[k].compare_exchange(0, a | shift as usize, Ordering::AcqRel, Ordering::Acquire).is_err() {
                    // SAFETY: another thread published chunk k first; this
                    // reservation was never published, so nothing uses it.
                    let _ = unsafe { sys::munmap(a, len) };
                }
            }
            Err(ENOMEM) if (1 << shift) > FIRST_SLOTS => shift -= 1,
            Err(e) => return Err(e),
        }
    }
    publish(k);
    Ok(())
}

/// Completes the publication of chunk `k`, set in CHUNKS: every thread that
/// does computes the same end slot.
fn publish(k: usize) {
    let c = CHUNKS[k].load(Ordering::Acquire);
    // preld's memory, where the fast path's stat gate writes no stat.
    let a = c & !SHIFT_MASK;
    preld_arch::fast::set_resident(preld_arch::fast::RESIDENT_CHUNKS + k, a, a + (SLOT_SIZE << (c & SHIFT_MASK)));
    START[k + 1].store(start(k) + (1 << (c & SHIFT_MASK)), Ordering::Relaxed);
    NCHUNKS.fetch_max(k + 1, Ordering::AcqRel);
}

/// Reserves the first chunk. Called once at startup.
pub fn init_arena() -> Result<(), i32> {
    grow(0)
}

static PROCESS_ACTIONS: crate::sigactions::Actions = crate::sigactions::Actions::new();

/// The table of the calling thread's signal handlers.
pub fn actions(t: &ThreadBlock) -> &'static crate::sigactions::Actions {
    if t.actions == 0 {
        &PROCESS_ACTIONS
    } else {
        // SAFETY: set by clone::gate to the `own_actions` of the block of
        // the thread that was made with a table of its own, or of the
        // thread this one was cloned from; a shared reference to that
        // field alone (an Actions is Sync: its lock guards the table), never
        // to the block. Assumed, not checked: that the block's thread
        // outlives the threads that share its table. It may not: in a
        // clone(CLONE_VM) child without CLONE_SIGHAND, whose first thread
        // exits while threads it made run on, the slot can be reaped and
        // reused under them (their table then reads as the new thread's).
        unsafe { &*(t.actions as *const crate::sigactions::Actions) }
    }
}

/// Whether `t`'s thread is the only one of the process that may run
/// application code (every other slot free, or its thread exiting): code
/// can then be rewritten without another thread executing it.
pub fn only_thread(t: &ThreadBlock) -> bool {
    let (mine_w, mine) = bit(t.slot);
    (0..words()).all(|w| {
        let live = USED[w].load(Ordering::Acquire) & !DEAD[w].load(Ordering::Acquire);
        live == if w == mine_w { mine } else { 0 }
    })
}

fn bit(i: usize) -> (usize, u64) {
    (i / 64, 1u64 << (i % 64))
}

/// Marks `t`'s slot as a process's sharing this memory, with its pid
/// (`clone::parent_post`, once the clone has returned it).
pub fn process_started(block: usize, pid: i32) {
    let p = block as *mut ThreadBlock;
    // SAFETY: `block` is the child's block, which the child may be running
    // on: only its atomic `proc_pid` and `proc_parent` and its `slot`, written before the
    // child was made and never after, are read or written here.
    let slot = unsafe {
        (*(&raw const (*p).proc_parent)).store(sys::getpid(), Ordering::Relaxed);
        (*(&raw const (*p).proc_pid)).store(pid, Ordering::Release);
        (&raw const (*p).slot).read()
    };
    let (w, m) = bit(slot);
    PROCS[w].fetch_or(m, Ordering::AcqRel);
}

/// Frees slots of threads that have exited.
fn reap() {
    reap_processes();
    for w in 0..words() {
        let mut dead = DEAD[w].load(Ordering::Acquire);
        while dead != 0 {
            let b = dead.trailing_zeros() as usize;
            dead &= dead - 1;
            let i = w * 64 + b;
            let p = block_at(i);
            // SAFETY: a dead slot's block stays mapped and initialized; its
            // thread wrote the tid before marking it dead (the DEAD bit's
            // AcqRel orders that write before this read), and writes it no
            // more. Read through the raw pointer: the thread may still be
            // on its way out.
            let tid = unsafe { (&raw const (*p).arch.tid).read() as i32 };
            // SAFETY: as above (`tgid` is written with the tid).
            let group = unsafe { (&raw const (*p).tgid).read() };
            if sys::tgkill(group, tid, 0) == Err(ESRCH) {
                // The thread is gone. Only the thread that takes the dead
                // mark away frees the slot: two threads reaping at once
                // (two pthread_creates) both saw it dead, and the second
                // freed it again after the first had given it to its new
                // thread, so two new threads were given one block (Go's
                // syscall.TestSetuidEtc in a session died of SIGSEGV).
                if DEAD[w].fetch_and(!(1 << b), Ordering::AcqRel) & (1 << b) == 0 {
                    continue;
                }
                release_slot(w, b);
            }
        }
    }
}

/// Frees the slots of processes that shared this memory and no longer do
/// (gone, killed, exec'd: kcmp's KCMP_VM says so), and never called exit.
fn reap_processes() {
    // (Asked once there is such a slot: every thread creation comes here.)
    let mut me = 0;
    for w in 0..words() {
        let mut procs = PROCS[w].load(Ordering::Acquire) & !DEAD[w].load(Ordering::Acquire);
        if procs != 0 && me == 0 {
            me = sys::getpid() as usize;
        }
        while procs != 0 {
            let b = procs.trailing_zeros() as usize;
            procs &= procs - 1;
            let m = 1u64 << b;
            let p = block_at(w * 64 + b);
            // SAFETY: a PROCS slot's block is mapped and initialized; only
            // its atomic `proc_pid` and `proc_parent` are referenced.
            let (pid, parent) = unsafe { ((*(&raw const (*p).proc_pid)).load(Ordering::Acquire), (*(&raw const (*p).proc_parent)).load(Ordering::Relaxed)) };
            // (Another process sharing the memory, the child itself among
            // them, may see pids of another namespace: its parent asks.)
            if pid <= 0 || parent != me as i32 {
                continue;
            }
            // 0: it shares this memory still; anything else (another
            // memory, ESRCH: gone) means it will never run on the block
            // again. EPERM (kcmp refused): left alone.
            // SAFETY: kcmp only compares two processes' objects.
            match unsafe { sys::raw(syscalls::Sysno::kcmp as usize, [me, pid as usize, crate::abi::KCMP_VM, 0, 0, 0]) } {
                Ok(0) | Err(crate::errno::EPERM) => continue,
                _ => {}
            }
            // Claimed by whoever sets its dead mark (a thread of it cannot:
            // it runs no more here); the mark's reapers find no thread
            // group recorded (tgkill: EINVAL) and leave it.
            if DEAD[w].fetch_or(m, Ordering::AcqRel) & m != 0 {
                continue;
            }
            // SAFETY: as above (an atomic field only); this thread alone
            // frees the slot now.
            unsafe { (*(&raw const (*p).proc_pid)).store(0, Ordering::Release) };
            release_slot(w, b);
            DEAD[w].fetch_and(!m, Ordering::AcqRel);
        }
    }
}

/// Frees slot `w * 64 + b`, whose thread no longer runs on it (its
/// reaper alone gets here): its connections are let go of, the slot is
/// free to claim. Every use of the block is gone with its thread but
/// `live_conn_fds` of other threads, which the atomic swaps allow.
fn release_slot(w: usize, b: usize) {
    let p = block_at(w * 64 + b);
    // SAFETY: a used slot's block stays mapped; only its atomic
    // connection fields are referenced.
    let fds = unsafe { [(*(&raw const (*p).rpc_fd)).swap(0, Ordering::Relaxed), (*(&raw const (*p).tracer_fd)).swap(0, Ordering::Relaxed)] };
    // SAFETY: as above; its thread no longer runs, so `own_fds`, written
    // before it ran, is not written now.
    let set = unsafe { (&raw const (*p).arch.own_fds).read() };
    // Its connections are fds of its fd table: closed here only if that is
    // the reaper's (a process made with CLONE_VM but not CLONE_FILES had
    // its own; the same numbers here may be the reaper's own connections).
    if crate::ownfd::is_table(set) {
        for fd in fds {
            if fd > 0 {
                crate::ownfd::release_fd(fd);
            }
        }
    }
    crate::ownfd::release(set);
    PROCS[w].fetch_and(!(1 << b), Ordering::AcqRel);
    USED[w].fetch_and(!(1 << b), Ordering::AcqRel);
}

fn block_at(i: usize) -> *mut ThreadBlock {
    (slot_base(i) + BLOCK_OFF) as *mut ThreadBlock
}

/// Makes a claimed slot usable the first time: read-write, but for its two
/// guard pages.
fn prepare(base: usize) -> Result<(), i32> {
    // SAFETY: the slot lies in one of preld's chunks and is ours (claimed);
    // nothing uses its pages yet.
    unsafe { sys::mprotect(base, SLOT_SIZE, abi::PROT_READ | abi::PROT_WRITE)? };
    for g in [base, base + ALTSTACK_OFF + ALTSTACK_SIZE] {
        if GUARD_ADVICE.load(Ordering::Relaxed) {
            // SAFETY: as above; the guard page is in the slot and unused.
            match unsafe { sys::madvise(g, GUARD, MADV_GUARD_INSTALL) } {
                Ok(()) => continue,
                Err(EINVAL) => GUARD_ADVICE.store(false, Ordering::Relaxed),
                Err(_) => {}
            }
        }
        // SAFETY: as above.
        unsafe { sys::mprotect(g, GUARD, abi::PROT_NONE)? };
    }
    Ok(())
}

/// Claims a slot for a new thread and prepares its block: stacks mapped,
/// `arch` filled but for the resume state, which the caller sets. EAGAIN
/// when no slot is free and no chunk can be reserved (as the kernel says
/// when out of threads, and glibc when it cannot map a thread's stack).
pub fn alloc() -> Result<&'static mut ThreadBlock, i32> {
    reap();
    let i = loop {
        let n = NCHUNKS.load(Ordering::Acquire);
        if let Some(i) = claim(start(n)) {
            break i;
        }
        grow(n).map_err(|_| EAGAIN)?;
    };
    let (w, m) = bit(i);
    if READY[w].load(Ordering::Acquire) & m == 0 {
        if let Err(e) = prepare(slot_base(i)) {
            USED[w].fetch_and(!m, Ordering::AcqRel);
            return Err(e);
        }
        READY[w].fetch_or(m, Ordering::AcqRel);
    }
    let b = block_at(i);
    // SAFETY: the block is accessible (above) and ours (claimed): no thread
    // runs on it, and the others reach only its `rpc_fd` (`live_conn_fds`
    // sees used slots, this one included), which is stored atomically, the
    // bytes around it plainly. Zero bytes are a valid value of every field
    // up to `trace` (integers, bools, atomics, cells of integers) but the
    // Options, whose layout Rust does not promise: those are written as
    // values before the reference is made.
    let t = unsafe {
        let fd_at = core::mem::offset_of!(ThreadBlock, rpc_fd);
        let fd_end = core::mem::offset_of!(ThreadBlock, tracer_fd) + core::mem::size_of::<AtomicI32>();
        core::ptr::write_bytes(b as *mut u8, 0, fd_at);
        core::ptr::write_bytes((b as *mut u8).add(fd_end), 0, core::mem::offset_of!(ThreadBlock, trace) - fd_end);
        (*b).rpc_fd.store(0, Ordering::Relaxed);
        (*b).tracer_fd.store(0, Ordering::Relaxed);
        (&raw mut (*b).trace_saved).write(None);
        (&raw mut (*b).own_cwd).write(None);
        (&raw mut (*b).trace_nest).write([Default::default(); 8]);
        &mut *b
    };
    t.arch.self_ptr = b as usize;
    t.arch.stack_hi = b as usize; // the stack ends where the block starts
    t.arch.own_fds = crate::ownfd::process_table();
    t.slot = i;
    t.app_altstack = StackT { sp: 0, flags: SS_DISABLE, size: 0 };
    let alt = t.preld_altstack();
    t.arch.altstack = [alt.sp, alt.flags as usize, alt.size];
    Ok(t)
}

/// Claims a free slot below `limit` (the slots reserved).
fn claim(limit: usize) -> Option<usize> {
    for (w, word) in USED[..limit.div_ceil(64)].iter().enumerate() {
        // Bits of slots not reserved yet count as taken.
        let beyond = if (w + 1) * 64 <= limit { 0 } else { u64::MAX << (limit - w * 64) };
        let mut cur = word.load(Ordering::Relaxed);
        while cur | beyond != u64::MAX {
            let b = (!(cur | beyond)).trailing_zeros() as usize;
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
    // Blocks freed here (a vfork child's, one whose clone failed) are never
    // marked dead (`exiting`), so no `reap` frees them too.
    USED[w].fetch_and(!m, Ordering::AcqRel);
}

/// Marks the calling thread's slot for reuse once the thread has exited.
pub fn exiting(t: &mut ThreadBlock) {
    if t.task == Task::VforkChild {
        // Its parent frees the slot once it has gone.
        return;
    }
    t.tid();
    t.tgid = sys::getpid();
    let (w, m) = bit(t.slot);
    DEAD[w].fetch_or(m, Ordering::AcqRel);
}

/// Calls `f(slot, rpc_fd, tracer_fd)` for every slot in use, with that
/// block's connection fields: the block's thread may be running (or being
/// set up by `alloc`), so only these atomic fields are handed out, never
/// the block.
pub fn live_conn_fds(mut f: impl FnMut(usize, &AtomicI32, &AtomicI32)) {
    for (w, word) in USED[..words()].iter().enumerate() {
        // A slot is claimed before its pages are made accessible: only
        // those that are can be looked at.
        let mut used = word.load(Ordering::Acquire) & READY[w].load(Ordering::Acquire);
        while used != 0 {
            let b = used.trailing_zeros() as usize;
            used &= used - 1;
            let i = w * 64 + b;
            let p = block_at(i);
            // SAFETY: a used slot's block is mapped (slots are never
            // unmapped) and its `rpc_fd` and `tracer_fd` are only ever
            // accessed atomically, by its own thread and others alike
            // (alloc too); references to those fields alone are made, none
            // to the block.
            f(i, unsafe { &*(&raw const (*p).rpc_fd) }, unsafe { &*(&raw const (*p).tracer_fd) });
        }
    }
}

/// Calls `f(tid, pending, args)` for every other thread of this process
/// that is alive and whose tid is known: the traced call it is in (number
/// + 1, or 0) and that call's arguments. The fields are read volatile: the
/// threads may be running.
pub fn for_each_other_thread(me: usize, mut f: impl FnMut(i32, usize, [usize; 6])) {
    let pid = sys::getpid();
    for (w, word) in USED[..words()].iter().enumerate() {
        // Claimed slots whose pages are accessible (a thread being created
        // may hold one that is not yet), but not those of exited threads.
        let mut used = word.load(Ordering::Acquire) & READY[w].load(Ordering::Acquire) & !DEAD[w].load(Ordering::Acquire);
        while used != 0 {
            let b = used.trailing_zeros() as usize;
            used &= used - 1;
            let i = w * 64 + b;
            if i == me {
                continue;
            }
            let p = block_at(i);
            // SAFETY: a used slot's block is mapped (slots are never
            // unmapped); no reference to it is made. Not free of races: its
            // thread (or `alloc`) may be writing these words plainly as
            // they are read, a data race in Rust's model that volatile does
            // not make defined; on x86_64 an aligned word is read whole, and
            // a stale or torn value is only printed (`= ?` lines at exit).
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
pub fn forked(t: &mut ThreadBlock, shared_fds: bool) {
    let me = t.slot;
    // The one thread of a new process, whatever its block was.
    t.task = Task::Thread;
    // The parent's other threads' connections: closed, unless the fd table
    // is the parent's too (CLONE_FILES), where they are still theirs.
    live_conn_fds(|slot, rpc, tracer| {
        for fd in [rpc.load(Ordering::Relaxed), tracer.load(Ordering::Relaxed)] {
            if slot != me && fd > 0 && !shared_fds {
                crate::ownfd::release_fd(fd);
            }
        }
    });
    // A chunk another thread had reserved but not yet counted when the
    // fork came: counted now, so that it is guarded and used.
    let n = NCHUNKS.load(Ordering::Acquire);
    if n < MAX_CHUNKS && CHUNKS[n].load(Ordering::Acquire) != 0 {
        publish(n);
    }
    for w in 0..words() {
        USED[w].store(0, Ordering::Relaxed);
        DEAD[w].store(0, Ordering::Relaxed);
        PROCS[w].store(0, Ordering::Relaxed);
    }
    let (w, m) = bit(t.slot);
    USED[w].store(m, Ordering::Relaxed);
    t.arch.tid = 0;
}

/// The calling thread's block: the one `&mut` to it (see the module's
/// doc: other threads reach only `rpc_fd`, atomically, and read a few words
/// for a trace).
///
/// # Safety
/// Only in preld code running on a thread preld set up (gs is its block),
/// and only while no other reference to the block is live (the SIGSYS
/// handler runs with every signal blocked, so it is never re-entered; a
/// signal during the handler gate is put off by code that touches only
/// `ArchThread.deferred`, through gs).
pub unsafe fn current() -> &'static mut ThreadBlock {
    // SAFETY: per the contract, gs:[0] is this thread's block.
    unsafe { &mut *(preld_arch::thread_block() as *mut ThreadBlock) }
}

/// Sets the calling thread up as the first thread: a block, gs, sigaltstack.
/// Errors say what failed: the first chunk's reservation is the one a low
/// RLIMIT_AS (`ulimit -v`) refuses.
pub fn start_main() -> Result<&'static mut ThreadBlock, crate::StartError> {
    const FAILED: &str = "cannot set up the first thread";
    init_arena().map_err(|e| {
        (
            "cannot reserve 4 MiB of address space for preld's thread stacks (is the address-space limit, ulimit -v, too low?)",
            e,
        )
    })?;
    let t = alloc().map_err(|e| (FAILED, e))?;
    // SAFETY: the block starts with its ArchThread and lives as long as the process.
    let r = unsafe { preld_arch::set_thread_block(t.arch.self_ptr) };
    if r < 0 {
        return Err((FAILED, -r as i32));
    }
    crate::ownfd::blocks_ready();
    let alt = t.preld_altstack();
    // SAFETY: the sigaltstack of this thread's own slot, which nothing else
    // uses and which lives as long as the thread.
    unsafe { sys::sigaltstack(&alt) }.map_err(|e| (FAILED, e))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunk sizes as slots are claimed one after another.
    fn sizes(upto: usize) -> Vec<usize> {
        let mut have = 0;
        let mut v = Vec::new();
        while have < upto {
            let n = 1 << next_shift(have);
            v.push(n);
            have += n;
        }
        v
    }

    #[test]
    fn chunks_double_then_stay_at_the_largest() {
        assert_eq!(sizes(12288), [8, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 4096]);
        let all = sizes(MAX_SLOTS);
        assert_eq!(all.iter().sum::<usize>(), MAX_SLOTS);
        assert!(all.len() <= MAX_CHUNKS);
        // The last ones before MAX_SLOTS never pass it.
        assert_eq!(1 << next_shift(MAX_SLOTS - 8), 8);
    }

    #[test]
    fn every_slot_is_in_the_chunk_that_holds_it() {
        // Sizes as after refused reservations: not monotonic.
        let sz = [8, 8, 16, 8, 8, 32, 64, 16, 4096, 8];
        let mut starts = vec![0];
        for s in sz {
            starts.push(starts.last().unwrap() + s);
        }
        for n in 1..=sz.len() {
            for i in 0..starts[n] {
                let k = find_chunk(n, i, |j| starts[j]);
                assert!(k < n && starts[k] <= i && i < starts[k + 1], "n={n} slot {i}: chunk {k}");
            }
        }
    }
}
