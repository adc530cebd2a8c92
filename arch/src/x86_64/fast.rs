//! The fast path on x86_64: a rewritten syscall site, its stub, and the
//! gates the stub calls.
//!
//! ```text
//!  site (application text, rewritten once):
//!    A:   mov eax, NR        →   A:   jmp STUB        (same 5 bytes)
//!    A+5: syscall                A+5: syscall         (untouched: a jump to
//!                                                      it still traps)
//!  STUB (preld's page within ±2 GiB of A):
//!    mov eax, NR
//!    lea rsp, [rsp - 128]        keep the red zone: the call's return
//!    call [rip + gate]           address lands below it
//!    lea rsp, [rsp + 128]        (lea: the flags stay the application's)
//!    lea rcx, [rip + A+7]        rcx as a native syscall leaves it
//!    jmp A+7
//!   slow:                        (a gate returns here when the handler
//!    lea rsp, [rsp + 128]         must see the call)
//!    mov eax, NR
//!    jmp A+5                     the original syscall: it traps as before
//!  gate (preld_gate, the range Syscall User Dispatch lets through):
//!    [check]  syscall  ret
//! ```
//!
//! Nothing is kept anywhere but on the stack below the red zone, for the
//! length of the call: a signal during the call finds the thread in the
//! gate (its frame starts 128 bytes below the return address), SA_RESTART
//! and restart_syscall re-execute the gate's own `syscall`, and siglongjmp
//! out of a handler leaves nothing behind. The gate a stub calls is read
//! from a word of the stub's page, so switching every stub of a page to
//! the slow path is one aligned store.

use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};

use crate::abi;
use preld_proto::owners_table;

/// Fds at or above this are never preld's (it places its fds below).
pub const OWN_FDS_BITS: usize = 1 << 16;

/// preld's own fds in one fd table, a bit each (the handler's ownfd.rs
/// keeps them): calls on them must be seen by the handler. The gates test
/// the fd's bit, not just `min`: preld's fds may lie among the
/// application's (from 1008 up where the limit leaves no room above it),
/// whose calls would otherwise all go the slow way. Each thread's block
/// names the set of its fd table (`ArchThread.own_fds`): the process's
/// (`OWN_FDS`), or a vfork child's own copy, whose fds are another table's
/// though it runs in its parent's memory.
#[repr(C)]
pub struct OwnFds {
    /// The lowest of them (i32::MAX: none), or lower: calls on fds below
    /// it are the application's, without a look at `bits`.
    pub min: AtomicI32,
    /// How many bits are set.
    pub count: AtomicUsize,
    /// How many thread blocks name this set (a copy's; the process's
    /// `OWN_FDS` is never freed): the handler frees a copy with its last.
    pub refs: AtomicUsize,
    pub bits: [AtomicU64; OWN_FDS_BITS / 64],
}

impl OwnFds {
    pub const fn new() -> OwnFds {
        OwnFds { min: AtomicI32::new(i32::MAX), count: AtomicUsize::new(0), refs: AtomicUsize::new(0), bits: [const { AtomicU64::new(0) }; OWN_FDS_BITS / 64] }
    }
}

impl Default for OwnFds {
    fn default() -> OwnFds {
        OwnFds::new()
    }
}

/// The process's own fd table's set (every thread's but a vfork child's).
pub static OWN_FDS: OwnFds = OwnFds::new();
const OWN_MIN: usize = core::mem::offset_of!(OwnFds, min);
const OWN_BITS: usize = core::mem::offset_of!(OwnFds, bits);

/// The gates' test of the fd in edi (an int): to `$own` if it is one of
/// preld's (the thread's `OwnFds`), else on. Clobbers rcx, r11 and the
/// flags (the gates use it before their `syscall`, which clobbers them
/// anyway); reads gs:[own_ptr] (every thread that runs the application's
/// code has its block in gs). Needs `own_ptr = const`, `own_min = const`,
/// `own_bits_at = const` and `own_bits = const`.
macro_rules! own_fd {
    ($own:literal) => {
        own_fd!($own, "edi", "rdi")
    };
    // The fd in another register (its 32- and 64-bit names).
    ($own:literal, $r32:literal, $r64:literal) => {
        concat!(
            "mov rcx, gs:[{own_ptr}]\n",          // the fd table's set
            "cmp ", $r32, ", dword ptr [rcx + {own_min}]\n",
            "jl 31f\n",                           // below every fd of preld's (or negative)
            "cmp ", $r32, ", {own_bits}\n",
            "jae 31f\n",
            "mov r11d, ", $r32, "\n",
            "shr r11d, 6\n",
            "mov r11, qword ptr [rcx + r11 * 8 + {own_bits_at}]\n",
            "bt r11, ", $r64, "\n",               // (the fd's bit: the fd mod 64)
            "jc ", $own, "\n",
            "31:",
        )
    };
}

/// Fds below this have a generation in `FAST_FD_GEN`.
pub const FAST_FDS_COUNTED: usize = 1024;
/// Per fd number, how many times it was closed (or replaced) so far, made
/// one more after each close (`fast_gate_close`; the handler for closes it
/// sees): what the handler learnt of an fd while its generation is
/// unchanged is still true of it.
pub static FAST_FD_GEN: [AtomicU32; FAST_FDS_COUNTED] = [const { AtomicU32::new(0) }; FAST_FDS_COUNTED];
/// What the handler learnt of each fd below FAST_FDS_COUNTED (its
/// `beneath::grant_of_fd`): the generation it was learnt under (high
/// half), `FAST_STAT_MARK`, and the index + 1 of the grant the fd lies on
/// (the low 31 bits; 0: none known). Written by the handler only.
pub static FAST_FD_GRANT: [AtomicU64; FAST_FDS_COUNTED] = [const { AtomicU64::new(0) }; FAST_FDS_COUNTED];
/// In a `FAST_FD_GRANT` entry: one name beside the fd may be stat'd by the
/// kernel as it is (`fast_gate_stat_beside`): a directory grant the process
/// resolves in itself, whose copy shows what the namespace shows.
pub const FAST_STAT_MARK: u64 = 1 << FAST_STAT_MARK_BIT;
const FAST_STAT_MARK_BIT: u32 = 31;
/// Not 0 while `FAST_FD_GRANT` may not hold for the calling thread's fds:
/// the vfork children alive, and one more for good once threads and fd
/// tables stop going together (the handler's `beneath::own_fd_table`).
pub static FAST_FD_GRANT_OFF: AtomicUsize = AtomicUsize::new(0);
/// preld's resident memory, as [start, end) ranges (start, end, start,
/// end...; an empty slot meets nothing), each written by the module that
/// places it: ld-preld's image (`RESIDENT_IMAGE`), preld's vDSO
/// (`RESIDENT_VDSO`), the thread slots' first chunks (from
/// `RESIDENT_CHUNKS` on); `RESIDENT_MORE` once there are more chunks than
/// slots (a gate that must not write there then leaves its call to the
/// handler). Written before anything of the range is handed out.
pub static RESIDENT: [AtomicUsize; 2 * RESIDENT_SLOTS] = [const { AtomicUsize::new(0) }; 2 * RESIDENT_SLOTS];
pub const RESIDENT_SLOTS: usize = 8;
pub const RESIDENT_IMAGE: usize = 0;
pub const RESIDENT_VDSO: usize = 1;
pub const RESIDENT_CHUNKS: usize = 2;
pub static RESIDENT_MORE: AtomicBool = AtomicBool::new(false);

/// Where this process maps the session's owners table (preld_proto::
/// owners_table, read-only), 0 if it does not: the stat gate looks there
/// for the owners of a file the session's user namespace shows as the
/// overflow id. Set once by the handler's owners.rs, which keeps the
/// mapping for the process's life.
pub static OWNERS_TABLE: AtomicUsize = AtomicUsize::new(0);

/// A page the kernel has found readable (or writable) for the application
/// while the mappings' generation (`MAPPINGS_GEN`) stood: the handler's
/// usermem.rs writes these, behind the sequence count (odd while it
/// writes), and reads them before it reads the application's memory
/// itself; the session open gate reads them before it reads a path.
#[repr(C)]
pub struct KnownPage {
    pub seq: AtomicU32,
    /// The page's address, | 1 if writable.
    pub page: AtomicUsize,
    /// The generation the page was found so under.
    pub gen: AtomicU64,
}

pub const KNOWN_PAGE_SLOTS: usize = 64;
pub static KNOWN_PAGES: [KnownPage; KNOWN_PAGE_SLOTS] =
    [const { KnownPage { seq: AtomicU32::new(0), page: AtomicUsize::new(0), gen: AtomicU64::new(0) } }; KNOWN_PAGE_SLOTS];
const _: () = assert!(core::mem::size_of::<KnownPage>() == 24 && KNOWN_PAGE_SLOTS == 64);
/// Pages may lose access without a call preld sees (a protection key, an
/// io_uring, a userfaultfd): nothing in `KNOWN_PAGES` holds.
pub static PAGES_UNKNOWABLE: AtomicBool = AtomicBool::new(false);

/// The slot of `KNOWN_PAGES` the page at `page` is kept in (the session
/// open gate computes the same).
pub fn known_page_slot(page: usize) -> usize {
    let n = page / 4096;
    (n ^ (n >> 6)) % KNOWN_PAGE_SLOTS
}

/// A directory grant of a session that the session open gate resolves
/// paths beneath (the handler's `beneath::arm_open_gate`): its virtual
/// path, its copy's fd (preld's) and its place in the handler's table.
#[repr(C)]
pub struct GateGrant {
    /// The virtual path's length (no trailing slash; never `/` alone).
    pub len: AtomicU32,
    /// The O_PATH fd of its copy.
    pub fd: AtomicI32,
    /// Its index in the handler's table, + 1: the low bits of the
    /// `FAST_FD_GRANT` entry of an fd opened beneath it.
    pub index: AtomicU32,
    _pad: u32,
    /// The virtual path's bytes.
    pub vpath: [AtomicU8; GATE_VPATH_MAX],
}

/// The longest virtual path a `GateGrant` holds.
pub const GATE_VPATH_MAX: usize = 48;
pub const GATE_GRANTS_MAX: usize = 16;
const _: () = assert!(core::mem::size_of::<GateGrant>() == 64);
pub static GATE_GRANTS: [GateGrant; GATE_GRANTS_MAX] = [const {
    GateGrant { len: AtomicU32::new(0), fd: AtomicI32::new(-1), index: AtomicU32::new(0), _pad: 0, vpath: [const { AtomicU8::new(0) }; GATE_VPATH_MAX] }
}; GATE_GRANTS_MAX];
/// How many of `GATE_GRANTS` are set: written once (Release) after them,
/// before the program runs; 0: no session open gate.
pub static GATE_GRANTS_SET: AtomicUsize = AtomicUsize::new(0);
/// The stat gate goes on to the session stat gate (`fast_gate_session_stat`)
/// for a stat by an absolute path: a session with `GATE_GRANTS` set.
pub static GATE_STAT: AtomicBool = AtomicBool::new(false);

/// Records [start, end) in slot `slot` of `RESIDENT`.
pub fn set_resident(slot: usize, start: usize, end: usize) {
    if slot >= RESIDENT_SLOTS {
        RESIDENT_MORE.store(true, core::sync::atomic::Ordering::Release);
        return;
    }
    RESIDENT[2 * slot].store(start, core::sync::atomic::Ordering::Release);
    RESIDENT[2 * slot + 1].store(end, core::sync::atomic::Ordering::Release);
}
/// Calls made by the counting gates (only with statistics on).
pub static FAST_CALLS: AtomicU64 = AtomicU64::new(0);
/// The generation of the process's mappings: one more before and after
/// every call that may take access to memory away (the handler's
/// `sys::mappings_change`). A path gate reads it before its call.
pub static MAPPINGS_GEN: AtomicU64 = AtomicU64::new(1);
/// Whether a second thread of execution shares this memory (clone with
/// CLONE_VM, not a vfork): until then no copy of preld's can race a change
/// of the mappings, and none of the counting below is done.
pub static MEMORY_SHARED: AtomicBool = AtomicBool::new(false);
/// Changes of the mappings the application asked for, under way (the
/// handler's `usermem::mappings_begin` to `mappings_end`).
pub static MAPPINGS_CHANGING: AtomicUsize = AtomicUsize::new(0);
/// Plain reads and writes of the application's memory under way, counted
/// by thread block in stripes of a cache line each: a change of the
/// mappings waits for them to end before its call (handler/src/usermem.rs).
pub static COPIES: [CopyStripe; COPY_STRIPES] = [const { CopyStripe(AtomicUsize::new(0)) }; COPY_STRIPES];
/// A stripe of `COPIES`: a count on a cache line of its own.
#[repr(C, align(64))]
pub struct CopyStripe(pub AtomicUsize);
pub const COPY_STRIPES: usize = 32;
/// Blocks 2^19 bytes apart (a thread slot's size) count in neighbouring
/// stripes.
const COPY_STRIPE_SHIFT: u32 = 19;
const _: () = assert!(core::mem::size_of::<CopyStripe>() == 64 && COPY_STRIPES.is_power_of_two());

/// The stripe of `COPIES` the thread whose block is at `block` counts in
/// (the path gates compute the same from gs:[0]).
pub fn copy_stripe(block: usize) -> &'static AtomicUsize {
    &COPIES[(block >> COPY_STRIPE_SHIFT) & (COPY_STRIPES - 1)].0
}

/// Numbers below this have a gate in `GATE_BY_NUMBER`.
pub const BY_NUMBER: usize = 512;
/// The gate of each call number for `Gate::ByNumber` sites (set once at
/// start-up, before the first rewrite): `fast_gate_slow` for the calls the
/// handler must see.
pub static GATE_BY_NUMBER: [AtomicUsize; BY_NUMBER] = [const { AtomicUsize::new(0) }; BY_NUMBER];

/// Bytes of one stub (at most 15 + 11 + 20 + 18 bytes of code).
pub const STUB_SIZE: usize = 64;
/// Bytes of `jmp rel32`.
pub const JUMP_LEN: usize = 5;
/// From a stub's return address (after its `call`) to its slow label.
const SLOW_FROM_RETURN: usize = 20;

/// Which gate a stub calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Makes the call.
    Plain,
    /// Makes the call unless its first argument (an int fd) is one of
    /// preld's (`OWN_FDS`).
    Fd,
    /// close: as `Fd`, then the fd's generation (`FAST_FD_GEN`) goes up.
    Close,
    /// As `Fd`, and the low 32 bits of the second and third arguments not
    /// one of preld's fds either (epoll_ctl's watched fd, splice's fd_out,
    /// sendfile's in_fd; a pointer's low half that happens to be one only
    /// sends the call the slow way, where `fds::guard` looks at the right
    /// one). Why: with `Fd`, once the first call had rewritten the site,
    /// the session's connection was added to epoll sets, spliced into and
    /// sent from (session-18b adversary).
    Fds,
    /// ioctl: as `Fd`, and not the ioctls that name fds of their own
    /// (FICLONE, FICLONERANGE, FIDEDUPERANGE: the handler looks at those,
    /// the slow way).
    Ioctl,
    /// Never makes it: back to the site's own `syscall`.
    Slow,
    /// A call whose path (first argument) must not start with "/proc/"
    /// (nor with "//" or "/.", which may spell it otherwise): made, then,
    /// if the path did start so, made again by the handler (launcher mode
    /// maps /proc/self/exe). Only calls without side
    /// effects, or whose effect the gate undoes (`PathOpen`: the fd).
    Path0,
    /// As `Path0` with the path second and an fd first (checked as `Fd`).
    Path1,
    /// open(path, flags): as `Path0`, read-only opens only (the flags go
    /// to the handler otherwise); a /proc/ path's fd is closed again.
    Path0Open,
    /// openat(fd, path, flags): as `Path1` and `Path0Open`.
    Path1Open,
    /// A site whose number is known only at run time: the gate of each
    /// number is looked up in `GATE_BY_NUMBER`.
    ByNumber,
    /// mmap: made unless its flags (the fourth argument) ask for a fixed
    /// address (the handler guards preld's memory and sees what a mapping
    /// over rewritten code replaces).
    MmapNotFixed,
    /// newfstatat(fd, NAME, buf, AT_SYMLINK_NOFOLLOW) of one name beside a
    /// directory fd of a grant (`fast_gate_stat_beside`): made as it is,
    /// in a process of one thread; else the handler gate's.
    StatBeside,
    /// getdents64(fd, ...) in a session: made as it is when the fd is
    /// known to lie on a directory grant the process resolves in (marked
    /// `FAST_STAT_MARK`, as for `StatBeside`); else the handler gate's
    /// (`fast_gate_listing`).
    Listing,
    /// fcntl (everywhere) and dup in a session: as `Fd`, and
    /// F_DUPFD_QUERY's second fd none of preld's either; a copy of an fd (dup,
    /// F_DUPFD, F_DUPFD_CLOEXEC) takes what the handler learnt of the
    /// original (`FAST_FD_GRANT`), so that the stat-beside and listing
    /// gates know it too (`fast_gate_dup`).
    Dup,
    /// open(PATH, FLAGS) in a session, for reading beneath a grant of
    /// `GATE_GRANTS` (`fast_gate_session_open`); else the handler gate's.
    SessionOpen,
    /// openat(AT_FDCWD, PATH, FLAGS): as `SessionOpen`.
    SessionOpenAt,
    /// A call the handler serves: `preld_gate_serve` serves it without a
    /// trap when it can (a session's path beneath a grant resolved in the
    /// process, a traced call made and traced in one go); else the stub's
    /// slow way.
    Handler,
}

/// The address of a gate, counting the calls it makes or not.
pub fn gate_address(g: Gate, counted: bool) -> usize {
    let f: unsafe extern "C" fn() -> ! = match (g, counted) {
        (Gate::Plain, false) => fast_gate_plain,
        (Gate::Plain, true) => fast_gate_plain_counted,
        (Gate::Fd, false) => fast_gate_fd,
        (Gate::Fd, true) => fast_gate_fd_counted,
        (Gate::Fds, false) => fast_gate_fds,
        (Gate::Fds, true) => fast_gate_fds_counted,
        (Gate::Ioctl, false) => fast_gate_ioctl,
        (Gate::Ioctl, true) => fast_gate_ioctl_counted,
        (Gate::Close, false) => fast_gate_close,
        (Gate::Close, true) => fast_gate_close_counted,
        (Gate::Slow, _) => fast_gate_slow,
        (Gate::Path0, false) => fast_gate_path0,
        (Gate::Path0, true) => fast_gate_path0_counted,
        (Gate::Path1, false) => fast_gate_path1,
        (Gate::Path1, true) => fast_gate_path1_counted,
        (Gate::Path0Open, false) => fast_gate_path0_open,
        (Gate::Path0Open, true) => fast_gate_path0_open_counted,
        (Gate::Path1Open, false) => fast_gate_path1_open,
        (Gate::Path1Open, true) => fast_gate_path1_open_counted,
        (Gate::MmapNotFixed, false) => fast_gate_mmap,
        (Gate::MmapNotFixed, true) => fast_gate_mmap_counted,
        (Gate::ByNumber, _) => fast_gate_by_number,
        (Gate::Handler, _) => fast_gate_handler,
        (Gate::SessionOpen, _) => fast_gate_session_open,
        (Gate::SessionOpenAt, _) => fast_gate_session_openat,
        (Gate::StatBeside, false) => fast_gate_stat_beside,
        (Gate::StatBeside, true) => fast_gate_stat_beside_counted,
        (Gate::Listing, false) => fast_gate_listing,
        (Gate::Listing, true) => fast_gate_listing_counted,
        (Gate::Dup, false) => fast_gate_dup,
        (Gate::Dup, true) => fast_gate_dup_counted,
    };
    f as usize
}

fn rel32(from_next: usize, to: usize) -> Option<[u8; 4]> {
    let d = (to as i64).wrapping_sub(from_next as i64);
    i32::try_from(d).ok().map(i32::to_le_bytes)
}

/// What sets eax before a site's `syscall`: the instruction a rewrite
/// replaces, which the stub executes in its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetNr {
    /// `mov eax, imm32` (5 bytes).
    Mov(u32),
    /// `xor eax, eax` (2 bytes: 31 c0 or 33 c0), read's number, 0.
    Xor,
    /// Another instruction of 5 to 15 bytes that `relocatable` accepts
    /// (eax was set before it): the stub executes a copy of it, and the
    /// number is looked up per call (`Gate::ByNumber`).
    Relocated { insn: [u8; 15], len: u8 },
}

/// The stub for the site whose `syscall` is at `syscall`, eax set by `nr`,
/// placed at `stub`, calling the gate whose address is stored at
/// `gate_word`. None if something is out of rel32 reach.
pub fn encode_stub(stub: usize, syscall: usize, nr: SetNr, gate_word: usize) -> Option<[u8; STUB_SIZE]> {
    let after = syscall + SYSCALL_INSN.len();
    let mut s = [0xcc_u8; STUB_SIZE];
    // The replaced instruction, then the call; `return_at` is where the
    // gate returns.
    let head: &[u8] = match nr {
        SetNr::Mov(n) => {
            let n = n.to_le_bytes();
            &[0xb8, n[0], n[1], n[2], n[3]][..]
        }
        // xor eax, eax (its flags, as at the site)
        SetNr::Xor => &[0x31, 0xc0][..],
        SetNr::Relocated { ref insn, len } => insn.get(..len as usize)?,
    };
    let mut at = 0;
    fn put_at(s: &mut [u8; STUB_SIZE], at: &mut usize, b: &[u8]) -> Option<()> {
        s.get_mut(*at..*at + b.len())?.copy_from_slice(b);
        *at += b.len();
        Some(())
    }
    put_at(&mut s, &mut at, head)?;
    put_at(&mut s, &mut at, &[0x48, 0x8d, 0x64, 0x24, 0x80])?; // lea rsp, [rsp - 128]
    let call_at = at;
    put_at(&mut s, &mut at, &[0xff, 0x15, 0, 0, 0, 0])?; // call [rip + rel32]
    let return_at = at;
    s[call_at + 2..call_at + 6].copy_from_slice(&rel32(stub + return_at, gate_word)?);
    put_at(&mut s, &mut at, &[0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0])?; // lea rsp, [rsp + 128]
    put_at(&mut s, &mut at, &[0x48, 0x8d, 0x0d])?; // lea rcx, [rip + rel32]: rcx as natively
    let r = rel32(stub + at + 4, after)?;
    put_at(&mut s, &mut at, &r)?;
    put_at(&mut s, &mut at, &[0xe9])?; // jmp after the syscall
    let r = rel32(stub + at + 4, after)?;
    put_at(&mut s, &mut at, &r)?;
    // The slow label, at a fixed distance from the return address.
    if at > return_at + SLOW_FROM_RETURN {
        return None;
    }
    at = return_at + SLOW_FROM_RETURN;
    put_at(&mut s, &mut at, &[0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0])?; // lea rsp, [rsp + 128]
    match nr {
        // eax again (a path gate made the call, and rax is its result), and
        // the flags `xor` leaves, as the site's syscall would find them. A
        // relocated site's gate leaves rax as it found it.
        SetNr::Mov(_) | SetNr::Xor => put_at(&mut s, &mut at, head)?,
        SetNr::Relocated { .. } => {}
    }
    put_at(&mut s, &mut at, &[0xe9])?; // jmp the site's syscall
    let r = rel32(stub + at + 4, syscall)?;
    put_at(&mut s, &mut at, &r)?;
    Some(s)
}

/// Whether the instruction `insn` (decoded whole) may run at another
/// address: a plain mov or lea without a rip-relative operand, not on the
/// stack pointer's push/pop; no prefix but REX.
pub fn relocatable(insn: &[u8]) -> bool {
    let body = match insn {
        [0x40..=0x4f, rest @ ..] => rest,
        _ => insn,
    };
    let modrm_ok = |m: u8| !(m & 0xc7 == 0x05); // mod 00, rm 101: rip-relative
    match body {
        [0xb8..=0xbf, ..] => true,
        [0x88 | 0x89 | 0x8a | 0x8b | 0x8d, m, ..] => modrm_ok(*m),
        [0xc7, m, ..] => m & 0x38 == 0 && modrm_ok(*m),
        _ => false,
    }
}

/// Whether a stub at `stub` can reach the site's `syscall` at `syscall`
/// and be reached from `from` (the end of the jump to it) with rel32.
pub fn in_reach(from: usize, syscall: usize, stub: usize) -> bool {
    rel32(from, stub).is_some() && rel32(stub + STUB_SIZE, syscall).is_some() && rel32(stub, syscall + 2).is_some()
}

/// Code is replaced under running threads only inside one aligned 16-byte
/// block: a CPU fetches instructions in such blocks, so one instruction
/// there is never read in two fetches (one before a write, one after).
const FETCH_BLOCK: usize = 16;

/// Whether `len` bytes of code at `at` can be replaced by
/// `store_code_whole`: at most 8, inside one aligned 16-byte block.
pub fn fits_whole_store(at: usize, len: usize) -> bool {
    len <= 8 && at % FETCH_BLOCK + len <= FETCH_BLOCK
}

/// What a store of code (`store_code_whole`, `store_code_pieces`) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// The new bytes are in place.
    Done,
    /// The bytes there were not the expected old ones (the page was mapped
    /// over, or written, since they were read): nothing written.
    Changed,
    /// The page could not be read or written (unmapped or made read-only
    /// meanwhile): the fault was caught, nothing written.
    Faulted,
}

/// Replaces the code at `at` with `new` while other threads may be
/// executing it, if and only if the bytes there are still `old` (what the
/// rewrite read and decoded): one `lock cmpxchg` of the 8 bytes around
/// them, inside their aligned 16-byte block (so inside one cache line: one
/// atomic write, no split lock), whose expected value holds `old` at their
/// place and the bytes around as read just before. A CPU fetching there
/// meanwhile decodes the old instruction or the new one, never a mix: the
/// practice of JITs and of other syscall rewriters; the kernel's own
/// text_poke goes through int3 instead, which a user process cannot own.
/// A thread that fetched the old instruction before the write runs it once
/// more, which is harmless for a site (its `syscall` traps as before). The
/// bytes around are written back unchanged (the cmpxchg fails if another
/// writer changed them meanwhile: `Changed`, as when `old` is not there).
/// A fault of the read or the write (another thread unmapped the page or
/// made it read-only after the caller made it writable) is caught
/// (`code_store_signal`): `Faulted`. Not `fits_whole_store`, or `old` and
/// `new` of different lengths: `Changed`.
///
/// # Safety
/// As `code_cmpxchg`: called with every signal blocked, SIGSEGV's and
/// SIGBUS's real actions `signal_entry` (or the kernel's default while no
/// fault of this store must be survived), and the thread's sigaltstack
/// disabled. [at, at+len) is application code, never memory a Rust
/// reference of preld's points to.
pub unsafe fn store_code_whole(at: usize, old: &[u8], new: &[u8]) -> Stored {
    if old.len() != new.len() || !fits_whole_store(at, new.len()) {
        return Stored::Changed;
    }
    // The 8-byte window holding the bytes, inside their block.
    let block = at & !(FETCH_BLOCK - 1);
    let window = at.min(block + FETCH_BLOCK - 8);
    let off = at - window;
    let (mut mask, mut o, mut n) = ([0u8; 8], [0u8; 8], [0u8; 8]);
    mask[off..off + new.len()].fill(0xff);
    o[off..off + old.len()].copy_from_slice(old);
    n[off..off + new.len()].copy_from_slice(new);
    let keep = !u64::from_le_bytes(mask);
    // SAFETY: the caller's promises are `code_cmpxchg`'s; the window lies
    // in the block of [at, at+len).
    match unsafe { code_cmpxchg(window, keep, u64::from_le_bytes(o), u64::from_le_bytes(n)) } {
        CMPXCHG_DONE => Stored::Done,
        CMPXCHG_CHANGED => Stored::Changed,
        _ => Stored::Faulted,
    }
}

/// As `store_code_whole` for at most 8 bytes that may straddle two
/// 16-byte blocks, for a process no other thread of which runs the code:
/// one store per block, the first put back (if still the new bytes) when
/// the second finds other bytes or faults. Not one write: never while
/// other threads may execute the bytes.
///
/// # Safety
/// As `store_code_whole`; and no other thread executes [at, at+len).
pub unsafe fn store_code_pieces(at: usize, old: &[u8], new: &[u8]) -> Stored {
    if fits_whole_store(at, new.len()) {
        // SAFETY: the caller's promises.
        return unsafe { store_code_whole(at, old, new) };
    }
    if old.len() != new.len() || new.len() > 8 {
        return Stored::Changed;
    }
    let split = (at | (FETCH_BLOCK - 1)) + 1 - at;
    // SAFETY: the caller's promises, for each part.
    let first = unsafe { store_code_whole(at, &old[..split], &new[..split]) };
    if first != Stored::Done {
        return first;
    }
    // SAFETY: as above.
    let second = unsafe { store_code_whole(at + split, &old[split..], &new[split..]) };
    if second != Stored::Done {
        // SAFETY: as above: the first part back as it was.
        let _ = unsafe { store_code_whole(at, &new[..split], &old[..split]) };
    }
    second
}

const CMPXCHG_CHANGED: usize = 0;
const CMPXCHG_DONE: usize = 1;
const CMPXCHG_FAULTED: usize = 2;
/// SIGSEGV and SIGBUS as a signal set: what a store of code unblocks.
const CODE_FAULTS: usize = (1 << (abi::SIGSEGV - 1)) | (1 << (abi::SIGBUS - 1));

/// The guarded store: reads the 8 bytes at `window` (rdi), keeps the bits
/// of `keep` (rsi), and with `old` (rdx) or `new` (rcx) in the others
/// makes the expected and the new value of one `lock cmpxchg` there.
/// Returns CMPXCHG_DONE, CMPXCHG_CHANGED, or CMPXCHG_FAULTED.
///
/// From `preld_code_store_win` to `preld_code_store_end` (between an
/// rt_sigprocmask that unblocks SIGSEGV and SIGBUS and the one that
/// blocks them again) a fault of the read or of the cmpxchg reaches
/// `signal_entry`, which hands it to `code_store_signal`: the thread goes
/// on at `preld_code_store_fixup` (CMPXCHG_FAULTED) instead of dying in
/// preld. Owns: rax, rcx, rdx, rsi, rdi, r8-r11 (scratch; `syscall`
/// clobbers rcx and r11), r12-r15 (saved on the caller's stack and put
/// back); stack: the caller's, 40 bytes below its rsp (the four registers
/// and the signal set), which a signal's frame lies below (the kernel
/// skips the red zone).
///
/// # Safety
/// Called with every signal blocked (inside the SIGSYS handler), the
/// thread's sigaltstack disabled (a fault's frame then goes on this stack,
/// never over the SIGSYS frame on the sigaltstack), and SIGSEGV's and
/// SIGBUS's real actions `signal_entry`, or SIG_DFL (the fault is then
/// fatal, as before). The window is application code, which no Rust
/// reference of preld's points into.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
unsafe extern "C" fn code_cmpxchg(window: usize, keep: u64, old: u64, new: u64) -> usize {
    core::arch::naked_asm!(
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "mov r12, rdi",
        "mov r13, rsi",
        "mov r14, rdx",
        "mov r15, rcx",
        "push {faults}",                     // the set, for rt_sigprocmask
        "mov edi, {unblock}",
        "mov rsi, rsp",
        "xor edx, edx",
        "mov r10d, 8",
        "mov eax, {sigprocmask}",
        "syscall",
        ".globl preld_code_store_win",
        ".hidden preld_code_store_win",
        "preld_code_store_win:",             // from here a fault is caught
        "mov rax, qword ptr [r12]",          // the window as it is now
        "and rax, r13",
        "mov r8, rax",
        "or rax, r14",                       // expected: the old bytes
        "or r8, r15",                        // and the new
        "lock cmpxchg qword ptr [r12], r8",
        ".globl preld_code_store_done",
        ".hidden preld_code_store_done",
        "preld_code_store_done:",            // from here nothing can fault
        "mov r9d, {changed}",
        "mov r8d, {done}",
        "cmovz r9d, r8d",
        "jmp 2f",
        ".globl preld_code_store_fixup",
        ".hidden preld_code_store_fixup",
        "preld_code_store_fixup:",           // a fault's signal returns here
        "mov r9d, {faulted}",
        "2:",
        "mov edi, {block}",
        "mov rsi, rsp",
        "xor edx, edx",
        "mov r10d, 8",
        "mov eax, {sigprocmask}",
        "syscall",
        ".globl preld_code_store_end",
        ".hidden preld_code_store_end",
        "preld_code_store_end:",
        "add rsp, 8",
        "mov rax, r9",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "ret",
        faults = const CODE_FAULTS,
        unblock = const abi::SIG_UNBLOCK,
        block = const abi::SIG_BLOCK,
        sigprocmask = const abi::SYS_RT_SIGPROCMASK,
        changed = const CMPXCHG_CHANGED,
        done = const CMPXCHG_DONE,
        faulted = const CMPXCHG_FAULTED,
    )
}

/// The addresses of `code_cmpxchg`'s labels: its window, the end of its
/// store, its fixup, the end of its window (`signal_entry` tests the
/// window in its first instructions).
fn code_store_labels() -> (usize, usize, usize, usize) {
    let (win, done, fixup, end): (usize, usize, usize, usize);
    // SAFETY: only the addresses of four labels of this crate's text.
    unsafe {
        core::arch::asm!(
            "lea {0}, [rip + preld_code_store_win]",
            "lea {1}, [rip + preld_code_store_done]",
            "lea {2}, [rip + preld_code_store_fixup]",
            "lea {3}, [rip + preld_code_store_end]",
            out(reg) win, out(reg) done, out(reg) fixup, out(reg) end,
            options(nomem, nostack, preserves_flags),
        );
    }
    (win, done, fixup, end)
}

/// A signal that came inside `code_cmpxchg`'s window (only SIGSEGV and
/// SIGBUS are unblocked there), sent on by `signal_entry` before it looks
/// at anything else.
///
/// Assumes: the kernel's SA_SIGINFO call (rdi, rsi, rdx; rsp = the frame,
/// 8 off 16-alignment, on the preld stack below `code_cmpxchg`'s: the
/// sigaltstack is disabled there) with every signal blocked.
/// Does: `code_store_decide` there, then the rt_sigreturn itself (the
/// frame's restorer may be the application's, whose `syscall` would trap
/// inside the SIGSYS handler). Owns: every register (rt_sigreturn restores
/// them).
///
/// # Safety
/// Never called from Rust: only jumped to by `signal_entry`, in the state
/// "Assumes" describes.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn code_store_signal() {
    core::arch::naked_asm!(
        "sub rsp, 8",                         // 16-aligned for the call
        "call {decide}",
        "add rsp, 16",                        // and the restorer's word
        "jmp {sigreturn}",
        decide = sym code_store_decide,
        sigreturn = sym super::trap::sigreturn_gate,
    )
}

/// What becomes of a signal inside `code_cmpxchg`'s window. A fault of its
/// read or store (a kernel's SIGSEGV or SIGBUS, si_code > 0, at an
/// instruction before `preld_code_store_done`, its si_addr in the 8 bytes
/// at the window, which r12 holds there): the thread goes on at the fixup,
/// the store not made. Any other (a SIGSEGV or SIGBUS sent by kill or
/// tgkill, or by the kernel for I/O, F_SETSIG, whose si_code POLL_IN is > 0
/// too): queued again to this thread and blocked in the mask rt_sigreturn
/// restores, so that it comes when the SIGSYS handler returns (the
/// application's mask then); before the store is made, the store is given
/// up too (a fault with SIGSEGV blocked would be fatal).
extern "C" fn code_store_decide(sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void) {
    let (win, done, fixup, _) = code_store_labels();
    // SAFETY: the kernel's SA_SIGINFO arguments, used during this call only.
    let mut uc = unsafe { super::trap::Ucontext::from_ptr(uc) };
    // SAFETY: the kernel's siginfo: si_code is the int at byte 8.
    let code = unsafe { info.cast::<u8>().add(8).cast::<i32>().read_unaligned() };
    // SAFETY: as above: si_addr (a fault's) is the word at byte 16.
    let addr = unsafe { info.cast::<u8>().add(16).cast::<usize>().read_unaligned() };
    let sig = sig as usize;
    let before = (win..done).contains(&uc.rip());
    let fault = code > 0 && (sig == abi::SIGSEGV || sig == abi::SIGBUS) && before && addr.wrapping_sub(uc.r12()) < 8;
    if !fault && (1..=64).contains(&sig) {
        // SAFETY: getpid, gettid, then a signal to this very thread with
        // the kernel's siginfo (any si_code may be sent to oneself).
        unsafe {
            let pid = super::syscall::syscall6(abi::SYS_GETPID, 0, 0, 0, 0, 0, 0);
            let tid = super::syscall::syscall6(abi::SYS_GETTID, 0, 0, 0, 0, 0, 0);
            let _ = super::syscall::syscall6(abi::SYS_RT_TGSIGQUEUEINFO, pid as usize, tid as usize, sig, info as usize, 0, 0);
        }
        *uc.sigmask() |= 1 << (sig - 1);
    }
    if before {
        uc.set_rip(fixup);
    }
}

/// `jmp rel8` at `at` to `to`, if in reach.
pub fn encode_short_jump(at: usize, to: usize) -> Option<[u8; 2]> {
    let d = (to as i64).wrapping_sub(at as i64 + 2);
    i8::try_from(d).ok().map(|d| [0xeb, d as u8])
}

/// What sets eax if `insn` (the whole instruction before a `syscall`) is
/// one of the two forms a rewrite takes with the call's own gate.
pub fn set_nr(insn: &[u8]) -> Option<SetNr> {
    match insn {
        [0xb8, a, b, c, d] => Some(SetNr::Mov(u32::from_le_bytes([*a, *b, *c, *d]))),
        [0x31 | 0x33, 0xc0] => Some(SetNr::Xor),
        _ => None,
    }
}

/// Whether the instruction `insn` is padding no code runs: nop forms and
/// int3, what linkers and assemblers put between functions.
pub fn is_padding(insn: &[u8]) -> bool {
    let body = {
        let mut b = insn;
        while let [0x66 | 0x2e, rest @ ..] = b {
            b = rest;
        }
        b
    };
    matches!(insn, [0x90] | [0xcc]) || matches!(body, [0x90] | [0x0f, 0x1f, ..])
}

/// `jmp rel32` at `at` to `to` (what replaces a site's `mov`, or fills
/// padding a short jump leads to).
pub fn encode_jump(at: usize, to: usize) -> Option<[u8; JUMP_LEN]> {
    let r = rel32(at + JUMP_LEN, to)?;
    Some([0xe9, r[0], r[1], r[2], r[3]])
}

/// The two bytes of `syscall`.
pub const SYSCALL_INSN: [u8; 2] = [0x0f, 0x05];

/// The offsets in `code` where the bytes of `SYSCALL_INSN` are (candidate
/// sites: whether one is an instruction there is for the caller to
/// verify), found 16 bytes at a time with SSE2 (x86_64's baseline): the
/// dynamic linker's 150 KiB of code in a few microseconds.
pub fn syscall_offsets(code: &[u8], mut found: impl FnMut(usize)) {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    const CHUNK: usize = 16;
    let mut i = 0;
    // Each round reads [i, i + 17).
    while i + CHUNK < code.len() {
        // SAFETY: [i, i + 16) and [i + 1, i + 17) lie in `code` (the loop's
        // condition); unaligned loads; SSE2 is part of x86_64.
        let mask = unsafe {
            let first = _mm_loadu_si128(code.as_ptr().add(i) as *const __m128i);
            let second = _mm_loadu_si128(code.as_ptr().add(i + 1) as *const __m128i);
            let a = _mm_movemask_epi8(_mm_cmpeq_epi8(first, _mm_set1_epi8(SYSCALL_INSN[0] as i8)));
            let b = _mm_movemask_epi8(_mm_cmpeq_epi8(second, _mm_set1_epi8(SYSCALL_INSN[1] as i8)));
            (a & b) as u32
        };
        let mut m = mask;
        while m != 0 {
            found(i + m.trailing_zeros() as usize);
            m &= m - 1;
        }
        i += CHUNK;
    }
    while i + 1 < code.len() {
        if code[i..i + 2] == SYSCALL_INSN {
            found(i);
        }
        i += 1;
    }
}

/// The plain gate: the call, and back to the stub.
///
/// # Safety
/// Only a stub calls it: rax = the call's number, argument registers the
/// application's, [rsp] = the stub's return address, 128 bytes of the
/// application's stack below its red zone in use.
/// Owns: rcx, r11 (the `syscall` clobbers them; the stub resets rcx).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_plain() -> ! {
    core::arch::naked_asm!("syscall", "ret")
}

/// As `fast_gate_plain`, counting the call in `FAST_CALLS`.
///
/// # Safety
/// As `fast_gate_plain`; uses 8 more bytes of stack for the flags.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_plain_counted() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "lock inc qword ptr [rip + {calls}]",
        "popfq",
        "syscall",
        "ret",
        calls = sym FAST_CALLS,
    )
}

/// MAP_FIXED | MAP_FIXED_NOREPLACE.
const MAP_FIXED_ANY: u32 = abi::MAP_FIXED | abi::MAP_FIXED_NOREPLACE;

/// The gates that check an argument before the call, counting the calls
/// they make or not: `fd` (the first argument, an int, none of preld's
/// `OWN_FDS`: preld's own fds go to the handler, which hides them, the
/// slow way; `fds`, `ioctl`: see `Gate`) or `mmap` (no fixed address in the flags, the fourth
/// argument: a fixed mapping goes to the handler gate, where the handler
/// guards preld's memory and sees what the mapping replaces, or sends it
/// the slow way; nor, for a file's, one of preld's fds, the fifth). The flags are saved for the check and restored before
/// the call (r11 then holds the application's, as natively).
macro_rules! checked_gate {
    ($name:ident, $check:literal, counted: $counted:literal) => {
        #[doc = concat!("A checked gate (", $check, "), counting: ", stringify!($counted), ".")]
        ///
        /// # Safety
        /// As `fast_gate_plain`; uses 8 more bytes of stack for the flags.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",
                concat!(".ifc ", $check, ",mmap"),
                "test r10d, {fixed}",
                "jnz 2f",
                // A mapping of a file: not of one of preld's fds (r8).
                "test r10d, {anonymous}",
                "jnz 32f",
                own_fd!("2f", "r8d", "r8"),
                "32:",
                ".else",
                own_fd!("2f"),
                // `fds`: the second and third arguments too (Gate::Fds).
                concat!(".ifc ", $check, ",fds"),
                own_fd!("2f", "esi", "rsi"),
                own_fd!("2f", "edx", "rdx"),
                ".endif",
                // `ioctl`: not the ioctls that name other fds (Gate::Ioctl).
                concat!(".ifc ", $check, ",ioctl"),
                "cmp esi, {ficlone}",
                "je 2f",
                "cmp esi, {ficlonerange}",
                "je 2f",
                "cmp esi, {fideduperange}",
                "je 2f",
                ".endif",
                ".endif",
                ".if {counted}",
                "lock inc qword ptr [rip + {calls}]",
                ".endif",
                "popfq",
                "syscall",
                "ret",
                "2:",
                "popfq",
                concat!(".ifc ", $check, ",mmap"),
                "jmp {handler}",                     // as a stub's call to it
                ".else",
                "jmp {slow}",
                ".endif",
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                fixed = const MAP_FIXED_ANY,
                anonymous = const abi::MAP_ANONYMOUS,
                ficlone = const abi::FICLONE,
                ficlonerange = const abi::FICLONERANGE,
                fideduperange = const abi::FIDEDUPERANGE,
                calls = sym FAST_CALLS,
                counted = const $counted,
                slow = sym fast_gate_slow,
                handler = sym fast_gate_handler,
            )
        }
    };
}

checked_gate!(fast_gate_fd, "fd", counted: 0);
checked_gate!(fast_gate_fd_counted, "fd", counted: 1);
checked_gate!(fast_gate_fds, "fds", counted: 0);
checked_gate!(fast_gate_fds_counted, "fds", counted: 1);
checked_gate!(fast_gate_ioctl, "ioctl", counted: 0);
checked_gate!(fast_gate_ioctl_counted, "ioctl", counted: 1);
checked_gate!(fast_gate_mmap, "mmap", counted: 0);
checked_gate!(fast_gate_mmap_counted, "mmap", counted: 1);

/// The end of a gate that put signals off around its call (`close_gate!`,
/// `listing_gate!`, `dup_gate!`), whose frame holds the flags as the call
/// came (at [rsp]), rax the answer: signals put off come in now (`in_gate`
/// cleared, those queued meanwhile unblocked, with rax, rdi, rsi, rdx and
/// r10 saved on the stack below the flags and put back: 48 bytes), r11 the
/// flags, as a `syscall` leaves it, and back to the stub. Why: a signal
/// handler of the application's that ran between such a gate's look at an
/// fd (or its call) and what it does after, and put another file at that
/// number, had the gate take the grant's mark for that file: the kernel
/// listed /proc/self/fd with preld's own fds (session-24 adversary). Needs
/// `in_gate`, `deferred`, `sig_unblock` and `sigprocmask`; uses label 19.
macro_rules! put_off_gate_end {
    () => {
        concat!(
            "mov qword ptr gs:[{in_gate}], 0\n", // from here a signal comes in
            "mov r11, gs:[{deferred}]\n",
            "test r11, r11\n",
            "jz 19f\n",
            "push rax\n",                        // the answer
            "push rdi\n",
            "push rsi\n",
            "push rdx\n",
            "push r10\n",
            "push r11\n",                        // the put-off set
            "mov qword ptr gs:[{deferred}], 0\n",
            "mov edi, {sig_unblock}\n",
            "mov rsi, rsp\n",
            "xor edx, edx\n",
            "mov r10d, 8\n",
            "mov eax, {sigprocmask}\n",
            "syscall\n",
            "lea rsp, [rsp + 8]\n",
            "pop r10\n",
            "pop rdx\n",
            "pop rsi\n",
            "pop rdi\n",
            "pop rax\n",
            "19:\n",
            "mov r11, [rsp]\n",                  // r11 = the flags, as natively
            "popfq\n",
            "ret\n",
        )
    };
}

/// The close gates, counting the calls they make or not: as `fast_gate_fd`,
/// and after the call (made or failed: a close that fails with EINTR or EIO
/// has released the fd all the same) the fd's generation goes up, if it has
/// one. After, not before: what the handler learns of the fd from now on
/// is of whatever the number names next.
macro_rules! close_gate {
    ($name:ident, counted: $counted:literal) => {
        #[doc = concat!("The close gate, counting: ", stringify!($counted), ".")]
        ///
        /// # Safety
        /// As `fast_gate_plain`; uses 8 more bytes of stack for the flags,
        /// 48 more while it unblocks signals put off (`put_off_gate_end!`).
        /// Owns rcx and r11 (the `syscall` clobbers them; r11 is left
        /// holding the flags, as the `syscall` leaves it).
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",                          // the flags, as the call came
                own_fd!("2f"),
                ".if {counted}",
                "lock inc qword ptr [rip + {calls}]",
                ".endif",
                // From the call to the generation's rise a signal waits:
                // a handler run between them found the number free under
                // the old generation (an open there took the closed fd's
                // mark; session-24 adversary). Not while nothing is learnt
                // of fds (`FAST_FD_GRANT_OFF`: a vfork child alive, whose
                // end forgets it all; for good, a seccomp filter of the
                // program's, whose SIGSYS must reach its handler in the
                // gate, which may set the call's answer, rax): the call
                // made with signals coming in, and the generation still
                // raised after it (the cache may come back on meanwhile,
                // a vfork child ending).
                "cmp qword ptr [rip + {grants_off}], 0",
                "je 4f",
                "popfq",
                "syscall",
                "pushfq",                          // the flags, as after the call
                "cmp edi, {n}",
                "jae 5f",                          // unsigned: no negative fd either
                "mov r11d, edi",                   // the fd, zero-extended
                "lea rcx, [rip + {gens}]",
                "lock inc dword ptr [rcx + r11 * 4]",
                "5:",
                "mov r11, [rsp]",                  // r11 = the flags, as natively
                "popfq",
                "ret",
                "4:",
                "mov qword ptr gs:[{in_gate}], 1",
                "syscall",
                "cmp edi, {n}",
                "jae 3f",                          // unsigned: no negative fd either
                "mov r11d, edi",                   // the fd, zero-extended
                "lea rcx, [rip + {gens}]",
                "lock inc dword ptr [rcx + r11 * 4]",
                "3:",
                put_off_gate_end!(),
                "2:",
                "popfq",
                "jmp {slow}",
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                calls = sym FAST_CALLS,
                counted = const $counted,
                n = const FAST_FDS_COUNTED,
                gens = sym FAST_FD_GEN,
                grants_off = sym FAST_FD_GRANT_OFF,
                slow = sym fast_gate_slow,
                in_gate = const super::trap::TB_IN_GATE,
                deferred = const super::trap::TB_DEFERRED,
                sig_unblock = const abi::SIG_UNBLOCK,
                sigprocmask = const abi::SYS_RT_SIGPROCMASK,
            )
        }
    };
}

close_gate!(fast_gate_close, counted: 0);
close_gate!(fast_gate_close_counted, counted: 1);

/// Sends the stub to its slow label: the site's own `syscall`, which traps.
///
/// # Safety
/// As `fast_gate_plain`. Owns: rcx; the flags are untouched (lea).
#[unsafe(naked)]
pub unsafe extern "C" fn fast_gate_slow() -> ! {
    core::arch::naked_asm!(
        "pop rcx",
        "lea rcx, [rcx + {slow}]",
        "jmp rcx",
        slow = const SLOW_FROM_RETURN,
    )
}

/// The bytes of a path the kernel has read (at `$path`, a register), to
/// label `$yes` if the handler must see it (`/proc/`, or `//` and `/.`,
/// which may spell /proc), else to `$no`; byte by byte up to the first that
/// decides, so no byte past the NUL is read. Flags clobbered.
macro_rules! proc_path {
    ($path:literal, $yes:literal, $no:literal) => {
        concat!(
            "cmp byte ptr [", $path, "], 0x2f\n", "jne ", $no, "\n",
            "cmp byte ptr [", $path, " + 1], 0x2f\n", "je ", $yes, "\n",
            "cmp byte ptr [", $path, " + 1], 0x2e\n", "je ", $yes, "\n",
            "cmp byte ptr [", $path, " + 1], 0x70\n", "jne ", $no, "\n",
            "cmp byte ptr [", $path, " + 2], 0x72\n", "jne ", $no, "\n",
            "cmp byte ptr [", $path, " + 3], 0x6f\n", "jne ", $no, "\n",
            "cmp byte ptr [", $path, " + 4], 0x63\n", "jne ", $no, "\n",
            "cmp byte ptr [", $path, " + 5], 0x2f\n", "jne ", $no,
        )
    };
}

/// The path gates. Assumes and owns as the checked gates (`fast_gate_fd`); after the call,
/// r11 holds the application's flags (the kernel's copy), which the gate
/// restores after its own comparisons; 32 more bytes of stack. The path
/// is read only after the kernel has read it (the call did not fail with
/// EFAULT, nor with EINVAL or EBADF, which flags or an fd can cause
/// before the path is looked at), byte by byte up to its NUL: no byte the
/// kernel did not read. Once another thread shares the memory, that
/// thread may unmap the path in between: the bytes are read counted in
/// `COPIES` (a change of the mappings waits for the count), and only if
/// no change was under way and none was made since before the call
/// (`MAPPINGS_GEN`); otherwise the handler makes the call again, as for
/// a /proc path.
macro_rules! path_gate {
    ($name:ident, $path:literal, fd: $fd:literal, open: $open:literal, counted: $counted:literal) => {
        #[doc = concat!("A path gate: the path in ", $path, ", open family: ", stringify!($open), ", counting: ", stringify!($counted), ".")]
        ///
        /// # Safety
        /// As `fast_gate_fd`.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",
                // An fd first (the *at calls): preld's own go to the handler.
                ".if {fd}",
                own_fd!("7f"),
                ".endif",
                // Opens that may write or create go to the handler.
                ".if {open}",
                ".if {fd}",
                "test edx, {writes}",
                ".else",
                "test esi, {writes}",
                ".endif",
                "jnz 7f",
                ".endif",
                ".if {counted}",
                "lock inc qword ptr [rip + {calls}]",
                ".endif",
                "popfq",
                "push rax",                         // the number, for the handler's turn
                "push qword ptr [rip + {gen}]",     // the mappings' generation before the call
                "syscall",
                // EFAULT: the path may be unreadable; EINVAL, EBADF: the
                // kernel may have refused before reading it (bad flags, bad
                // fd), and the answer is the same for any path.
                "cmp rax, -14",
                "je 19f",
                "cmp rax, -22",
                "je 19f",
                "cmp rax, -9",
                "je 19f",
                "cmp byte ptr [rip + {shared}], 0",
                "jne 5f",
                "call 20f",                         // one thread: read the path
                "jmp 4f",
                // Another thread may unmap the path: read counted
                // (`path_copy_rdi` / `path_copy_rsi`).
                "5:",
                ".if {fd}",
                "call {path_copy_rsi}",
                ".else",
                "call {path_copy_rdi}",
                ".endif",
                "4:",
                "lea rsp, [rsp + 8]",               // the generation
                "test ecx, ecx",
                "jnz 6f",
                "jmp 9f",
                "19:",
                "lea rsp, [rsp + 8]",
                "jmp 9f",
                // The verdict on the path: ecx = 1 if the handler must
                // see it (flags clobbered).
                "20:",
                "xor ecx, ecx",
                proc_path!($path, "21f", "22f"),
                "21:",
                "mov ecx, 1",
                "22:",
                "ret",
                // A /proc/ path: the handler makes the call again.
                "6:",
                ".if {open}",
                "test rax, rax",
                "js 8f",
                "push rdi",
                "push r11",
                "mov edi, eax",                     // close(the fd just opened)
                "mov eax, {sys_close}",
                "syscall",
                "pop r11",
                "pop rdi",
                ".endif",
                "8:",
                "pop rax",                          // the number again
                "push r11",
                "popfq",
                "jmp {slow}",
                "7:",
                "popfq",
                "jmp {slow}",
                "9:",
                "lea rsp, [rsp + 8]",               // the number, not needed
                "push r11",                         // the application's flags
                "popfq",
                "ret",
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                calls = sym FAST_CALLS,
                slow = sym fast_gate_slow,
                fd = const $fd,
                open = const $open,
                counted = const $counted,
                writes = const OPEN_WRITES,
                sys_close = const abi::SYS_CLOSE,
                gen = sym MAPPINGS_GEN,
                shared = sym MEMORY_SHARED,
                path_copy_rdi = sym path_copy_rdi,
                path_copy_rsi = sym path_copy_rsi,
            )
        }
    };
}

/// O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | __O_TMPFILE: an open
/// that may change something.
const OPEN_WRITES: u32 = abi::O_WRONLY | abi::O_RDWR | abi::O_CREAT | abi::O_TRUNC | abi::O_APPEND | abi::__O_TMPFILE;

path_gate!(fast_gate_path0, "rdi", fd: 0, open: 0, counted: 0);
path_gate!(fast_gate_path0_counted, "rdi", fd: 0, open: 0, counted: 1);
path_gate!(fast_gate_path1, "rsi", fd: 1, open: 0, counted: 0);
path_gate!(fast_gate_path1_counted, "rsi", fd: 1, open: 0, counted: 1);
path_gate!(fast_gate_path0_open, "rdi", fd: 0, open: 1, counted: 0);
path_gate!(fast_gate_path0_open_counted, "rdi", fd: 0, open: 1, counted: 1);
path_gate!(fast_gate_path1_open, "rsi", fd: 1, open: 1, counted: 0);
path_gate!(fast_gate_path1_open_counted, "rsi", fd: 1, open: 1, counted: 1);

/// The stat gates' look in the session's owners table (`OWNERS_TABLE`)
/// for the owners of the file whose stat the kernel just wrote at rdx
/// (its st_dev and st_ino): to `$found` with them written into the
/// buffer's st_uid and st_gid, else (no table, no entry, an entry being
/// written) to `$miss`. The bucket's slots in turn: seq even and not 0,
/// dev and ino ours, the owners, seq unchanged (x86 keeps loads in
/// order). Clobbers rax, rcx, r8, r9, r11 and the flags. Needs
/// `owners_table`, `dev_at`, `ino_at`, `rotate`, `mul`, `shift`,
/// `ino_low`, `pages_mask`, `low_mask`, `bucket_shift`, `ways`,
/// `slot_bytes`, `uid_at` and `gid_at`.
macro_rules! owners_from_table {
    ($found:literal, $miss:literal) => {
        concat!(
            "mov rcx, qword ptr [rip + {owners_table}]\n",
            "test rcx, rcx\n",
            "jz ", $miss, "\n",
            "mov r8, qword ptr [rdx + {dev_at}]\n",
            "mov r9, qword ptr [rdx + {ino_at}]\n",
            "mov rax, r8\n",
            "rol rax, {rotate}\n",
            "mov r11, r9\n",
            "shr r11, {ino_low}\n",
            "xor rax, r11\n",
            "mov r11, {mul}\n",
            "imul rax, r11\n",
            "shr rax, {shift}\n",
            "and eax, {pages_mask}\n",           // the page
            "shl rax, {ino_low}\n",
            "mov r11d, r9d\n",
            "and r11d, {low_mask}\n",            // its bucket there
            "or rax, r11\n",
            "shl rax, {bucket_shift}\n",
            "add rcx, rax\n",                    // the bucket
            "mov r11d, {ways}\n",
            "41:\n",
            "mov rax, qword ptr [rcx]\n",        // seq
            "test rax, rax\n",
            "jz 42f\n",
            "test al, 1\n",
            "jnz 42f\n",
            "cmp qword ptr [rcx + 8], r8\n",
            "jne 42f\n",
            "cmp qword ptr [rcx + 16], r9\n",
            "jne 42f\n",
            "test r9, r9\n",                     // (inode 0: never kept)
            "jz ", $miss, "\n",
            "mov r8, qword ptr [rcx + 24]\n",    // uid << 32 | gid
            "cmp qword ptr [rcx], rax\n",
            "jne ", $miss, "\n",
            "mov dword ptr [rdx + {gid_at}], r8d\n",
            "shr r8, 32\n",
            "mov dword ptr [rdx + {uid_at}], r8d\n",
            "jmp ", $found, "\n",
            "42:\n",
            "add rcx, {slot_bytes}\n",
            "dec r11d\n",
            "jnz 41b\n",
            "jmp ", $miss, "\n",
        )
    };
}

/// The stat and listing gates' look at the fd in edi (below
/// FAST_FDS_COUNTED): to `$not` unless `FAST_FD_GRANT` marks it
/// `FAST_STAT_MARK` under its present generation (`FAST_FD_GEN`), else on.
/// Clobbers rax, rcx, r11 and the flags. Needs `gens`, `grants` and
/// `stat_bit`.
macro_rules! fd_marked {
    ($not:literal) => {
        concat!(
            "mov r11d, edi\n",                   // the fd, zero-extended
            "lea rax, [rip + {gens}]\n",
            "mov eax, dword ptr [rax + r11 * 4]\n", // its generation
            "lea rcx, [rip + {grants}]\n",
            "mov rcx, qword ptr [rcx + r11 * 8]\n", // what the handler learnt of it
            "bt rcx, {stat_bit}\n",
            "jnc ", $not, "\n",
            "shr rcx, 32\n",
            "cmp ecx, eax\n",
            "jne ", $not, "\n",                  // learnt of an fd closed since
        )
    };
}

/// A gate's look at the buffer [`$start`, rax): to `$meets` where it meets
/// a range of preld's memory (`RESIDENT`; or may, with `RESIDENT_MORE`),
/// else on from its `3:`. Clobbers rcx, r11 and the flags. Needs
/// `res_more`, `res_slots` and `res`.
macro_rules! range_not_preld_s {
    ($start:literal, $meets:literal) => {
        concat!(
            "cmp byte ptr [rip + {res_more}], 0\n",
            "jne ", $meets, "\n",
            "mov ecx, {res_slots}\n",
            "lea r11, [rip + {res}]\n",
            "2:\n",
            "test rcx, rcx\n",
            "jz 3f\n",
            "cmp ", $start, ", qword ptr [r11 + 8]\n", // below its end...
            "jae 4f\n",
            "cmp qword ptr [r11], rax\n",       // ...and its start below ours: it meets
            "jb ", $meets, "\n",
            "4:\n",
            "add r11, 16\n",
            "dec rcx\n",
            "jmp 2b\n",
            "3:",
        )
    };
}

/// The stat gates' look at the buffer [rdx, rdx + STAT_SIZE)
/// (`range_not_preld_s!`). Clobbers rax (the buffer's end), rcx, r11 and
/// the flags. Needs `res_more`, `res_slots`, `res` and `stat_size`.
macro_rules! stat_buffer_not_preld_s {
    ($meets:literal) => {
        concat!("lea rax, [rdx + {stat_size}]\n", range_not_preld_s!("rdx", $meets))
    };
}

/// The two ends of a session gate (`session_open_gate!`,
/// `fast_gate_session_stat`), whose frame holds the flags, then rax, rdi,
/// rsi, rdx, r10, r8 and r9 as the call came. `16:` made, rax the answer:
/// signals put off come in now (`in_gate` cleared, those the kernel
/// queued meanwhile unblocked), the registers but rax back, r11 the
/// flags, as a `syscall` leaves it. `7:` the handler gate's: the call as
/// it came, falling into the gate's own `9:` (signals put off stay
/// blocked until the handler gate ends: it unblocks them). Needs
/// `in_gate`, `deferred`, `sig_unblock` and `sigprocmask`.
macro_rules! session_gate_ends {
    () => {
        concat!(
            "16:\n",
            "mov qword ptr gs:[{in_gate}], 0\n", // from here a signal comes in
            "mov r11, gs:[{deferred}]\n",
            "test r11, r11\n",
            "jz 18f\n",
            "push rax\n",                        // the answer
            "push r11\n",                        // the put-off slot
            "mov qword ptr gs:[{deferred}], 0\n",
            "mov edi, {sig_unblock}\n",
            "mov rsi, rsp\n",
            "xor edx, edx\n",
            "mov r10d, 8\n",
            "mov eax, {sigprocmask}\n",
            "syscall\n",
            "pop r11\n",
            "pop rax\n",
            "18:\n",
            "pop r9\n",
            "pop r8\n",
            "pop r10\n",
            "pop rdx\n",
            "pop rsi\n",
            "pop rdi\n",
            "lea rsp, [rsp + 8]\n",              // the number
            "mov r11, [rsp]\n",                  // r11 = the flags
            "popfq\n",
            "ret\n",
            "7:\n",
            "mov qword ptr gs:[{in_gate}], 0\n",
            "pop r9\n",
            "pop r8\n",
            "pop r10\n",
            "pop rdx\n",
            "pop rsi\n",
            "pop rdi\n",
            "pop rax\n",
        )
    };
}

/// The grant a session gate resolves a path beneath (`fast_gate_session_open`,
/// `fast_gate_session_stat`), called with the path in r8: on return rdx
/// is the grant of `GATE_GRANTS` whose virtual path the path begins with,
/// then `/` (0: none, or the path not read: the handler's), and rsi the
/// rest (names, none empty, none `..`, at least one byte). The path is
/// read before the call the gate makes, and only where the kernel found
/// its page readable under the mappings' present generation
/// (`KNOWN_PAGES`; a page not known the kernel reads 8 bytes of first, as
/// the handler's `usermem::readable` has it do, and it is recorded), up
/// to its NUL within that page (nothing else runs in this memory: no
/// other thread unmaps it meanwhile).
///
/// # Safety
/// For the session gates only, on the application's stack (16 bytes below
/// their frame). Owns rax, rcx, rdx, rsi, rdi, r9, r10, r11 and the flags;
/// keeps r8.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
unsafe extern "C" fn session_grant_of() {
    core::arch::naked_asm!(
        "cmp byte ptr [rip + {unknowable}], 0",
        "jne 7f",
        // The slot (n ^ n >> 6) % 64 of page n: its count even, the page,
        // the generation now.
        "mov r9, r8",
        "shr r9, 12",
        "mov rax, r9",
        "shr rax, 6",
        "xor rax, r9",
        "and eax, {slot_mask}",
        "lea rax, [rax + rax * 2]",
        "lea rdx, [rip + {pages}]",
        "lea rdx, [rdx + rax * 8]",        // 24 bytes a slot
        "mov r9, r8",
        "and r9, {page_mask}",             // r9: the page
        "test byte ptr [rdx], 1",
        "jnz 20f",
        "mov rax, qword ptr [rdx + 8]",
        "and rax, -2",                     // (| 1: writable too)
        "cmp rax, r9",
        "jne 20f",
        "mov rax, qword ptr [rdx + 16]",
        "cmp rax, qword ptr [rip + {gen}]",
        "jne 20f",
        "19:",
        "add r9, {page}",                  // r9: the page's end, never read
        // The grant whose virtual path the path begins with, then `/`.
        "lea rdx, [rip + {grants}]",
        "mov rcx, qword ptr [rip + {set}]",
        "test rcx, rcx",
        "jz 7f",
        "2:",
        "mov eax, dword ptr [rdx]",        // its length
        "lea rdi, [r8 + rax]",             // where the `/` must be
        "cmp rdi, r9",
        "jae 4f",
        "xor esi, esi",
        "3:",
        "cmp esi, eax",
        "jae 5f",
        "movzx r10d, byte ptr [r8 + rsi]",
        "cmp r10b, byte ptr [rdx + rsi + {vpath_at}]",
        "jne 4f",
        "inc esi",
        "jmp 3b",
        "5:",
        "cmp byte ptr [rdi], {slash}",
        "je 6f",
        "4:",
        "add rdx, {grant_size}",
        "dec rcx",
        "jnz 2b",
        "jmp 7f",
        // rdx: the grant. The rest (rsi) up to the NUL in the page: names
        // (r10: where this one began), none empty, none `..`.
        "6:",
        "inc rdi",
        "mov rsi, rdi",
        "mov r10, rdi",
        "10:",
        "cmp rdi, r9",
        "jae 7f",
        "movzx eax, byte ptr [rdi]",
        "test eax, eax",
        "jz 11f",
        "cmp eax, {slash}",
        "je 12f",
        "inc rdi",
        "jmp 10b",
        "12:",
        "cmp rdi, r10",
        "je 7f",
        "lea rax, [r10 + 2]",
        "cmp rax, rdi",
        "jne 13f",
        "cmp word ptr [r10], {dotdot}",
        "je 7f",
        "13:",
        "inc rdi",
        "mov r10, rdi",
        "jmp 10b",
        "11:",
        "cmp rdi, rsi",
        "je 7f",
        "lea rax, [r10 + 2]",
        "cmp rax, rdi",
        "jne 14f",
        "cmp word ptr [r10], {dotdot}",
        "je 7f",
        "14:",
        "ret",
        "7:",
        "xor edx, edx",
        "ret",
        // The page not known: the kernel reads 8 bytes of it
        // (rt_sigprocmask with an invalid `how` reads the set, then says
        // EINVAL; EFAULT: unreadable, the handler's), and the page is
        // recorded under the generation read before.
        "20:",
        "push qword ptr [rip + {gen}]",
        "push rdx",                        // the slot
        "mov rsi, r8",
        "lea rax, [r9 + {page} - 8]",      // (8 bytes within the page)
        "cmp rsi, rax",
        "cmova rsi, rax",
        "mov rdi, -1",
        "xor edx, edx",
        "mov r10d, 8",
        "mov eax, {sigprocmask}",
        "syscall",
        "pop rdx",
        "pop r10",
        "cmp rax, {einval}",
        "jne 7b",
        "mov eax, dword ptr [rdx]",        // (odd: being written, left)
        "test al, 1",
        "jnz 19b",
        "lea ecx, [rax + 1]",
        "mov dword ptr [rdx], ecx",
        "mov qword ptr [rdx + 8], r9",
        "mov qword ptr [rdx + 16], r10",
        "add eax, 2",
        "mov dword ptr [rdx], eax",
        "jmp 19b",
        unknowable = sym PAGES_UNKNOWABLE,
        slot_mask = const KNOWN_PAGE_SLOTS - 1,
        pages = sym KNOWN_PAGES,
        page_mask = const !(super::PAGE_SIZE - 1),
        page = const super::PAGE_SIZE,
        gen = sym MAPPINGS_GEN,
        grants = sym GATE_GRANTS,
        set = sym GATE_GRANTS_SET,
        vpath_at = const core::mem::offset_of!(GateGrant, vpath),
        grant_size = const core::mem::size_of::<GateGrant>(),
        slash = const b'/',
        dotdot = const u16::from_le_bytes([b'.', b'.']),
        sigprocmask = const abi::SYS_RT_SIGPROCMASK,
        einval = const abi::NEG_EINVAL,
    )
}

/// The session open gates: open(PATH, FLAGS) and openat(AT_FDCWD, PATH,
/// FLAGS) for reading (FLAGS among `abi::O_PLAIN`) in a process of one
/// thread, PATH beneath a grant of `GATE_GRANTS` (`session_grant_of`):
/// made as openat2(the grant's fd, the rest, {FLAGS | O_NOCTTY, 0,
/// RESOLVE_NO_SYMLINKS | NO_XDEV}), the open the handler's
/// `pola::gate_open` makes after it has read the path and found its
/// grant, without the handler gate (about 350 cycles of an open here: the
/// handler's code, and the kernel's own part made slower by it). The
/// answer is the call's where it is an fd (marked in `FAST_FD_GRANT` as
/// lying on the grant, as the handler's `remember_fd` does), ENOENT,
/// ENOTDIR or EINTR (a signal's: SA_RESTART makes the gate's `syscall`
/// again, as in any gate; the open waits for a FIFO's other end as
/// natively); anything else goes on to the handler gate with the call as
/// it came (ELOOP: a symlink on the way; EXDEV: a mount in the grant;
/// EACCES: a device, or what the server says; a longer path, a relative
/// one: the handler's way). While the path is looked at, a signal waits
/// (`ArchThread.in_gate`, as in the handler gate: a handler of the
/// program's could take the path's page away between the look and the
/// reads); those put off come in before the call, which may wait. And
/// openat(FD, NAME, FLAGS) beside a directory fd of the program's known
/// to lie on a grant (`FAST_FD_GRANT`, marked as one the stat gate may
/// stat beside, its grant known, its close count unchanged), none of
/// preld's, FLAGS with O_NONBLOCK or O_DIRECTORY (an open that never
/// waits: a signal waits during it): tar's and find's opens, made as the
/// handler would make them (one name beneath the fd: openat2
/// RESOLVE_NO_SYMLINKS | NO_XDEV), the name looked at after the call,
/// which read it (one name, not `..`, shorter than 256 bytes; else the fd
/// is closed again and the handler makes the call).
///
/// ```text
///  application stack, below the stub's 128 bytes, during the call:
///    [ret][flags][rax][rdi][rsi][rdx][r10][r8][r9][open_how: 24 bytes]   <- rsp
/// ```
///
/// # Safety
/// As `fast_gate_handler`. Owns rcx and r11 (the `syscall` clobbers them;
/// r11 is left holding the flags, as a `syscall` leaves it); 88 bytes of
/// the application's stack below the stub's.
macro_rules! session_open_gate {
    ($name:ident, path: $path:literal, flags: $flags:literal, flags_at: $flags_at:literal, at: $at:literal) => {
        #[doc = concat!("A session open gate: the path in ", $path, ", the flags in ", $flags, ".")]
        ///
        /// # Safety
        /// See the gates' comment above.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",
                "cmp byte ptr [rip + {shared}], 0",
                "jne 9f",
                concat!("test ", $flags, ", {not_plain}"),
                "jnz 9f",
                ".if {at}",
                "cmp edi, {at_fdcwd}",
                "jne 30f",
                ".endif",
                "push rax",                        // the call as it came
                "push rdi",
                "push rsi",
                "push rdx",
                "push r10",
                "push r8",
                "push r9",
                // From here to the path's end a signal waits (its handler
                // could take the path's page away between the look and the
                // reads: the process died of SIGSEGV where the kernel says
                // EFAULT; session-23 adversary), as in the handler gate.
                "mov qword ptr gs:[{in_gate}], 1",
                concat!("mov r8, ", $path),
                "call {grant_of}",
                "test rdx, rdx",
                "jz 7f",
                "mov r8, rdx",                     // r8: the grant (a syscall keeps it)
                "mov r9d, dword ptr [rdx + {index_at}]", // r9: the grant's index + 1 (a syscall keeps it)
                // The path looked at: signals put off come now (their
                // handlers may unmap it: the kernel's EFAULT, the handler
                // gate's way; and the open may wait, for a FIFO's other end).
                "mov qword ptr gs:[{in_gate}], 0",
                "mov r11, gs:[{deferred}]",
                "test r11, r11",
                "jz 17f",
                "push rsi",                        // the rest
                "push r11",                        // the put-off slot
                "mov qword ptr gs:[{deferred}], 0",
                "mov edi, {sig_unblock}",
                "mov rsi, rsp",
                "xor edx, edx",
                "mov r10d, 8",
                "mov eax, {sigprocmask}",
                "syscall",
                "pop r11",
                "pop rsi",
                "17:",
                "mov edi, dword ptr [r8 + {fd_at}]",
                "push {resolve}",                  // open_how.resolve
                "push 0",                          // open_how.mode
                concat!("mov eax, dword ptr [rsp + ", $flags_at, "]"), // the flags, saved
                "or eax, {noctty}",
                "push rax",                        // open_how.flags
                "mov rdx, rsp",
                "mov r10d, {how_size}",
                "mov eax, {openat2}",
                "syscall",
                "lea rsp, [rsp + {how_size}]",
                "test rax, rax",
                "js 15f",
                // Known to lie on the grant, while its close count stands.
                "37:",
                "cmp qword ptr [rip + {grants_off}], 0",
                "jne 16f",
                "cmp eax, {n}",
                "jae 16f",
                "mov r11d, eax",
                "lea rcx, [rip + {gens}]",
                "mov ecx, dword ptr [rcx + r11 * 4]",
                "shl rcx, 32",
                "bts rcx, {stat_bit}",
                "mov edx, r9d",
                "or rcx, rdx",
                "lea rdx, [rip + {fd_grants}]",
                "mov qword ptr [rdx + r11 * 8], rcx",
                "jmp 16f",
                "15:",
                "cmp rax, {eintr}",
                "je 16f",
                "cmp rax, {enoent}",
                "je 16f",
                "cmp rax, {enotdir}",
                "je 16f",
                "jmp 7f",
                ".if {at}",
                // Beside a directory fd (the comment above).
                "30:",
                // (Only opens that never wait: O_NONBLOCK, O_DIRECTORY. A
                // signal waits during the call, whose name is read after.)
                "test edx, {never_waits}",
                "jz 9f",
                "cmp edi, {n}",
                "jae 9f",                          // (unsigned: no negative fd)
                "cmp qword ptr [rip + {grants_off}], 0",
                "jne 9f",
                own_fd!("9f"),
                "push rax",                        // the call as it came
                "push rdi",
                "push rsi",
                "push rdx",
                "push r10",
                "push r8",
                "push r9",
                "mov r11d, edi",
                "lea rax, [rip + {gens}]",
                "mov eax, dword ptr [rax + r11 * 4]", // its close count
                "lea rcx, [rip + {fd_grants}]",
                "mov rcx, qword ptr [rcx + r11 * 8]", // what the handler learnt of it
                "bt rcx, {stat_bit}",
                "jnc 7f",
                "mov r8, rcx",
                "shr r8, 32",
                "cmp r8d, eax",
                "jne 7f",                          // learnt of an fd closed since
                "and ecx, {index_mask}",
                "jz 7f",                           // (its grant not known)
                "mov r9d, ecx",                    // r9: the grant's index + 1
                "mov qword ptr gs:[{in_gate}], 1", // from here a signal waits
                "push {resolve}",
                "push 0",
                concat!("mov eax, dword ptr [rsp + ", $flags_at, "]"),
                "or eax, {noctty}",
                "push rax",
                "mov rdx, rsp",
                "mov r10d, {how_size}",
                "mov eax, {openat2}",
                "syscall",                         // (rdi, rsi: the fd and the name)
                "lea rsp, [rsp + {how_size}]",
                "test rax, rax",
                "jns 32f",
                "cmp rax, {eintr}",
                "je 32f",
                "cmp rax, {enoent}",
                "je 32f",
                "cmp rax, {enotdir}",
                "jne 7f",
                // The name the kernel read: one, not `..`, < 256 bytes.
                "32:",
                "xor ecx, ecx",
                "33:",
                "movzx r11d, byte ptr [rsi + rcx]",
                "test r11d, r11d",
                "jz 34f",
                "cmp r11d, {slash}",
                "je 35f",
                "inc ecx",
                "cmp ecx, {name_max}",
                "jb 33b",
                "jmp 35f",
                "34:",
                "test ecx, ecx",
                "jz 35f",
                "cmp ecx, 2",
                "jne 36f",
                "cmp word ptr [rsi], {dotdot}",
                "je 35f",
                "36:",
                "test rax, rax",
                "js 16f",
                "jmp 37b",
                // Not one name: closed again, the handler's.
                "35:",
                "test rax, rax",
                "js 7f",
                "mov edi, eax",
                "mov eax, {sys_close}",
                "syscall",
                "jmp 7f",
                ".endif",
                session_gate_ends!(),
                "9:",
                "popfq",
                "jmp {handler}",
                shared = sym MEMORY_SHARED,
                at = const $at,
                at_fdcwd = const abi::AT_FDCWD,
                not_plain = const !abi::O_PLAIN,
                grant_of = sym session_grant_of,
                fd_at = const core::mem::offset_of!(GateGrant, fd),
                index_at = const core::mem::offset_of!(GateGrant, index),
                slash = const b'/',
                dotdot = const u16::from_le_bytes([b'.', b'.']),
                resolve = const abi::RESOLVE_DOWN,
                noctty = const abi::O_NOCTTY,
                how_size = const abi::OPEN_HOW_SIZE,
                openat2 = const abi::SYS_OPENAT2,
                grants_off = sym FAST_FD_GRANT_OFF,
                n = const FAST_FDS_COUNTED,
                gens = sym FAST_FD_GEN,
                fd_grants = sym FAST_FD_GRANT,
                stat_bit = const FAST_STAT_MARK_BIT,
                eintr = const abi::NEG_EINTR,
                enoent = const abi::NEG_ENOENT,
                enotdir = const abi::NEG_ENOTDIR,
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                index_mask = const FAST_STAT_MARK - 1,
                name_max = const GATE_NAME_MAX,
                sys_close = const abi::SYS_CLOSE,
                never_waits = const abi::O_NONBLOCK | abi::O_DIRECTORY,
                in_gate = const super::trap::TB_IN_GATE,
                deferred = const super::trap::TB_DEFERRED,
                sig_unblock = const abi::SIG_UNBLOCK,
                sigprocmask = const abi::SYS_RT_SIGPROCMASK,
                handler = sym fast_gate_handler,
            )
        }
    };
}

// (The flags' saved register, once open_how's resolve and mode are pushed:
// rsi's for open, rdx's for openat.)
session_open_gate!(fast_gate_session_open, path: "rdi", flags: "esi", flags_at: "48", at: 0);
session_open_gate!(fast_gate_session_openat, path: "rsi", flags: "edx", flags_at: "40", at: 1);

/// The session stat gate, which the stat gate (`fast_gate_stat_beside`)
/// goes on to for newfstatat(AT_FDCWD, PATH, BUF, FLAGS), FLAGS 0 or
/// AT_SYMLINK_NOFOLLOW (glibc's stat and lstat), in a process of one
/// thread, where `GATE_STAT` is set: PATH beneath a grant of `GATE_GRANTS`
/// (`session_grant_of`), BUF none of preld's memory (`RESIDENT`). Made as
/// the handler's `pola::stat_beneath` makes it, without the handler gate:
/// openat2(the grant's fd, the rest, {O_PATH | O_CLOEXEC (| O_NOFOLLOW),
/// 0, RESOLVE_NO_SYMLINKS | NO_XDEV}), fstat of that fd into BUF, its
/// close. The answer is fstat's (0, or EFAULT for a BUF the program
/// cannot write), or the open's ENOENT or ENOTDIR; an owner the session's
/// user namespace shows as the overflow id (an ordinary user's session,
/// others' files) is the session's owners table's, as in the stat gate;
/// one the table does not hold, or anything else, goes on to the handler
/// gate with the call as it came (a stat changes nothing but
/// BUF, which the handler writes again; a BUF that meets PATH goes there
/// first, its path not yet overwritten). A signal waits from the look at
/// the path to the end (a stat never waits), as in the stat gate.
///
/// ```text
///  application stack, below the stub's 128 bytes, during the call:
///    [ret][flags][rax][rdi][rsi][rdx][r10][r8][r9][open_how: 24 bytes]   <- rsp
/// ```
///
/// # Safety
/// As `fast_gate_handler`. Owns rcx and r11 (the `syscall` clobbers them;
/// r11 is left holding the flags, as a `syscall` leaves it); 88 bytes of
/// the application's stack below the stub's.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_session_stat() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "cmp byte ptr [rip + {shared}], 0",
        "jne 9f",
        "cmp byte ptr [rip + {stat_on}], 0",
        "je 9f",
        "test r10d, {not_nofollow}",
        "jnz 9f",
        stat_buffer_not_preld_s!("9f"),
        "mov eax, {nr}",                   // (the number, clobbered above)
        "push rax",                        // the call as it came
        "push rdi",
        "push rsi",
        "push rdx",
        "push r10",
        "push r8",
        "push r9",
        "mov qword ptr gs:[{in_gate}], 1", // from here a signal waits (a stat never does)
        "mov r8, rsi",
        "call {grant_of}",
        "test rdx, rdx",
        "jz 7f",
        // A buffer that meets the path (r8 to its NUL, rdi): the
        // handler's (the fstat would overwrite the path, which the handler
        // reads again for the owners it shows as the overflow id: it
        // answered ENOENT; session-23b adversary).
        "mov rax, qword ptr [rsp + 24]",   // the buffer, saved
        "cmp rax, rdi",
        "ja 21f",
        "add rax, {stat_size}",
        "cmp rax, r8",
        "ja 7f",
        "21:",
        "mov edi, dword ptr [rdx + {fd_at}]",
        "push {resolve}",                  // open_how.resolve
        "push 0",                          // open_how.mode
        "mov eax, {o_path}",
        "test dword ptr [rsp + 32], {nofollow}", // the flags, saved
        "jz 5f",
        "or eax, {o_nofollow}",
        "5:",
        "push rax",                        // open_how.flags
        "mov rdx, rsp",
        "mov r10d, {how_size}",
        "mov eax, {openat2}",
        "syscall",
        "lea rsp, [rsp + {how_size}]",
        "test rax, rax",
        "js 15f",
        "mov r9, rax",                     // the O_PATH fd (a syscall keeps r9)
        "mov edi, eax",
        "mov rsi, qword ptr [rsp + 24]",   // the buffer, saved
        "mov eax, {fstat}",
        "syscall",
        "mov r8, rax",                     // fstat's answer
        "mov edi, r9d",
        "mov eax, {sys_close}",
        "syscall",
        "mov rax, r8",
        "test rax, rax",
        "jnz 16f",                         // (EFAULT: the program's buffer)
        // Owners the session's user namespace does not map (an ordinary
        // user's session, others' files: the overflow id): the session's
        // table's, else the handler's (r8 and r9 are free: saved above).
        "mov rdx, qword ptr [rsp + 24]",
        "cmp dword ptr [rdx + {uid_at}], {overflow}",
        "je 20f",
        "cmp dword ptr [rdx + {gid_at}], {overflow}",
        "jne 16f",
        "20:",
        owners_from_table!("24f", "7f"),
        "24:",
        "xor eax, eax",                    // the answer: 0
        "jmp 16f",
        "15:",
        "cmp rax, {enoent}",
        "je 16f",
        "cmp rax, {enotdir}",
        "je 16f",
        "jmp 7f",
        session_gate_ends!(),
        "9:",
        "mov eax, {nr}",
        "popfq",
        "jmp {handler}",
        shared = sym MEMORY_SHARED,
        stat_on = sym GATE_STAT,
        not_nofollow = const !abi::AT_SYMLINK_NOFOLLOW,
        nofollow = const abi::AT_SYMLINK_NOFOLLOW,
        res_more = sym RESIDENT_MORE,
        res_slots = const RESIDENT_SLOTS,
        res = sym RESIDENT,
        stat_size = const abi::STAT_SIZE,
        nr = const abi::SYS_NEWFSTATAT,
        grant_of = sym session_grant_of,
        fd_at = const core::mem::offset_of!(GateGrant, fd),
        resolve = const abi::RESOLVE_DOWN,
        o_path = const abi::O_PATH | abi::O_CLOEXEC,
        o_nofollow = const abi::O_NOFOLLOW,
        how_size = const abi::OPEN_HOW_SIZE,
        openat2 = const abi::SYS_OPENAT2,
        fstat = const abi::SYS_FSTAT,
        sys_close = const abi::SYS_CLOSE,
        uid_at = const abi::STAT_UID_AT,
        gid_at = const abi::STAT_GID_AT,
        overflow = const abi::OVERFLOW_ID,
        owners_table = sym OWNERS_TABLE,
        dev_at = const abi::STAT_DEV_AT,
        ino_at = const abi::STAT_INO_AT,
        rotate = const owners_table::HASH_ROTATE,
        mul = const owners_table::HASH_MUL,
        shift = const owners_table::HASH_SHIFT,
        ino_low = const owners_table::INO_LOW_BITS,
        pages_mask = const owners_table::PAGES - 1,
        low_mask = const owners_table::PAGE_BUCKETS - 1,
        bucket_shift = const owners_table::BUCKET_BYTES.trailing_zeros(),
        ways = const owners_table::WAYS,
        slot_bytes = const owners_table::SLOT_WORDS * 8,
        enoent = const abi::NEG_ENOENT,
        enotdir = const abi::NEG_ENOTDIR,
        in_gate = const super::trap::TB_IN_GATE,
        deferred = const super::trap::TB_DEFERRED,
        sig_unblock = const abi::SIG_UNBLOCK,
        sigprocmask = const abi::SYS_RT_SIGPROCMASK,
        handler = sym fast_gate_handler,
    )
}

/// How long a path gate waits for another thread's change of the mappings
/// to end before it hands its call to the handler (a change whose end was
/// lost must not cost more than that).
const PATH_COPY_WAITS: usize = 16;
/// How many times a path gate looks at its pages again after the mappings
/// changed before it hands its call to the handler.
const PATH_COPY_TRIES: usize = 4;
/// What the slot of the generation holds once the count is let go: look
/// at the pages, or wait for a change to end first (never a generation).
const PATH_COPY_PROBE: isize = -4;
const PATH_COPY_WAIT: isize = -3;

/// The verdict on a path (`path_gate!`'s) read while another thread shares
/// the memory and may unmap it: counted in this thread's stripe of
/// `COPIES` (a change of the mappings waits for the count), and read only
/// while no change is under way and none was made since the generation in
/// the caller's slot (before the call, or before the pages were last
/// found readable). A change made meanwhile: the path's pages (of its
/// first and sixth bytes, all the verdict reads) are looked at by the
/// kernel (rt_sigprocmask with an invalid `how` reads 8 bytes or says
/// EFAULT) and the path read again, rather than the call made again (an
/// open of a FIFO made twice waited for a writer that had come and gone).
/// A change under way: waited for a little, then the handler's.
///
/// Between the count's increment and its decrement (`*_win` to `*_end`)
/// rsp stays where it is and the stripe's address is at [rsp]: a signal
/// that comes there lets the count go and resumes at `*_restart`
/// (`abort_path_copy`, from the signal's entry), since the application's
/// handler may unmap the path, or jump out and never come back.
///
/// Assumes: called by a path gate right after its call: [rsp + 8] the
/// generation before the call, [rsp + 16] the call's number; rax its
/// result, r11 the application's flags. Returns ecx = 1 if the handler
/// must see the call; keeps every register but rcx and the flags.
macro_rules! path_copy {
    ($name:ident, $path:literal, $win:literal, $end:literal, $restart:literal) => {
        #[doc = concat!("`path_copy!` of the path in ", $path, ".")]
        ///
        /// # Safety
        /// Only called by a path gate, as the macro's doc says.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() {
            core::arch::naked_asm!(
                "push {tries}",                     // [rsp + 8]: looks left
                "sub rsp, 8",                       // [rsp]: the stripe's address
                concat!(".globl ", $restart),
                concat!(".hidden ", $restart),
                concat!($restart, ":"),
                "mov rcx, qword ptr gs:[0]",
                "shr rcx, {stripe_shift}",
                "and ecx, {stripe_mask}",
                "shl ecx, 6",
                "push rdx",
                "lea rdx, [rip + {copies}]",
                "add rcx, rdx",
                "pop rdx",
                "mov qword ptr [rsp], rcx",
                "lock inc qword ptr [rcx]",         // (a full barrier: the loads below come after)
                concat!(".globl ", $win),
                concat!(".hidden ", $win),
                concat!($win, ":"),
                "cmp qword ptr [rip + {changing}], 0",
                "jne 3f",
                "mov rcx, qword ptr [rip + {gen}]",
                "cmp rcx, qword ptr [rsp + 24]",    // the generation in the slot
                "jne 4f",
                "xor ecx, ecx",
                proc_path!($path, "1f", "2f"),
                "1:",
                "mov ecx, 1",
                "2:",
                "not rcx",                          // the verdict, never a generation
                "jmp 5f",
                "3:",
                "mov rcx, {wait}",
                "jmp 5f",
                "4:",
                "mov rcx, {probe}",
                "5:",
                "mov qword ptr [rsp + 24], rcx",
                "mov rcx, qword ptr [rsp]",
                "lock dec qword ptr [rcx]",
                concat!(".globl ", $end),
                concat!(".hidden ", $end),
                concat!($end, ":"),
                "mov rcx, qword ptr [rsp + 24]",
                "cmp rcx, {wait}",
                "je 6f",
                "cmp rcx, {probe}",
                "je 7f",
                "not rcx",                          // ecx: the verdict
                "lea rsp, [rsp + 16]",
                "ret",
                // A change under way: a few turns for it to end.
                "6:",
                "push rax",
                "push r11",
                "push rdx",
                "mov edx, {waits}",
                "61:",
                "mov eax, {sys_sched_yield}",
                "syscall",
                "cmp qword ptr [rip + {changing}], 0",
                "je 62f",
                "dec edx",
                "jnz 61b",
                "62:",
                "test edx, edx",
                "pop rdx",
                "pop r11",
                "pop rax",
                "jz 9f",                            // not over: the handler's
                // The mappings changed: are the path's pages there?
                "7:",
                "dec qword ptr [rsp + 8]",
                "jz 9f",
                "push rax",
                "push rdi",
                "push rsi",
                "push rdx",
                "push r10",
                "push r8",
                "push r11",
                "push qword ptr [rip + {gen}]",     // the generation the look holds for
                concat!("lea r8, [", $path, " + 5]"),
                concat!("mov rsi, ", $path),
                "and rsi, -4096",
                "and r8, -4096",
                "71:",
                "mov rdi, -1",                      // rt_sigprocmask(-1, page, NULL, 8)
                "xor edx, edx",
                "mov r10d, 8",
                "mov eax, {sys_rt_sigprocmask}",
                "syscall",
                "cmp rax, -22",                     // EINVAL: read, then refused
                "jne 72f",
                "cmp rsi, r8",
                "mov rsi, r8",
                "jne 71b",
                "pop rcx",
                "mov qword ptr [rsp + 56 + 24], rcx", // the slot: that generation
                "pop r11",
                "pop r8",
                "pop r10",
                "pop rdx",
                "pop rsi",
                "pop rdi",
                "pop rax",
                concat!("jmp ", $restart),
                "72:",                              // unreadable (EFAULT): the handler's
                "pop rcx",
                "pop r11",
                "pop r8",
                "pop r10",
                "pop rdx",
                "pop rsi",
                "pop rdi",
                "pop rax",
                "9:",
                "mov ecx, 1",
                "lea rsp, [rsp + 16]",
                "ret",
                tries = const PATH_COPY_TRIES,
                waits = const PATH_COPY_WAITS,
                wait = const PATH_COPY_WAIT,
                probe = const PATH_COPY_PROBE,
                gen = sym MAPPINGS_GEN,
                changing = sym MAPPINGS_CHANGING,
                copies = sym COPIES,
                stripe_shift = const COPY_STRIPE_SHIFT,
                stripe_mask = const COPY_STRIPES - 1,
                sys_sched_yield = const abi::SYS_SCHED_YIELD,
                sys_rt_sigprocmask = const abi::SYS_RT_SIGPROCMASK,
            )
        }
    };
}

path_copy!(path_copy_rdi, "rdi", "preld_path_copy_rdi_win", "preld_path_copy_rdi_end", "preld_path_copy_rdi_restart");
path_copy!(path_copy_rsi, "rsi", "preld_path_copy_rsi_win", "preld_path_copy_rsi_end", "preld_path_copy_rsi_restart");

/// A signal that came while this thread held a count of a path gate's
/// copy (`path_copy!`, between `*_win` and `*_end`): lets the count go and
/// has the gate start its copy again when the signal's handler returns.
/// The application's handler may change the mappings (it would wait for
/// this very count for good) or jump out (the count would never go).
/// `rip`, `rsp`: the interrupted context's; returns the rip to resume at
/// instead, if any.
///
/// # Safety
/// Only with the interrupted context of a signal of this thread.
pub unsafe fn abort_path_copy(rip: usize, rsp: usize) -> Option<usize> {
    let (win_rdi, end_rdi, restart_rdi, win_rsi, end_rsi, restart_rsi): (usize, usize, usize, usize, usize, usize);
    // SAFETY: only the addresses of six labels of this crate's text.
    unsafe {
        core::arch::asm!(
            "lea {0}, [rip + preld_path_copy_rdi_win]",
            "lea {1}, [rip + preld_path_copy_rdi_end]",
            "lea {2}, [rip + preld_path_copy_rdi_restart]",
            "lea {3}, [rip + preld_path_copy_rsi_win]",
            "lea {4}, [rip + preld_path_copy_rsi_end]",
            "lea {5}, [rip + preld_path_copy_rsi_restart]",
            out(reg) win_rdi, out(reg) end_rdi, out(reg) restart_rdi,
            out(reg) win_rsi, out(reg) end_rsi, out(reg) restart_rsi,
            options(nomem, nostack, preserves_flags),
        );
    }
    let restart = if (win_rdi..end_rdi).contains(&rip) {
        restart_rdi
    } else if (win_rsi..end_rsi).contains(&rip) {
        restart_rsi
    } else {
        return None;
    };
    // SAFETY: in the window rsp is the gate's own and [rsp] holds the
    // address of the stripe whose count this thread took (the caller's
    // contract: this thread's interrupted context).
    let stripe = unsafe { (rsp as *const usize).read() } as *const AtomicUsize;
    // SAFETY: a stripe of COPIES (a static), as stored by the gate.
    unsafe { &*stripe }.fetch_sub(1, core::sync::atomic::Ordering::Release);
    Some(restart)
}

/// What `preld_gate_serve` returns for a call it leaves to the trap
/// path (no result of a call is this: -errno is at least -4095).
pub const HANDLER_GATE_SLOW: isize = -4096;
/// What `preld_gate_serve` returns for a call the gate is to make itself,
/// as it came, once back on the application's stack with its signals
/// coming in again: a call that may block (poll, select), looked at by the
/// handler first.
pub const HANDLER_GATE_MAKE: isize = -4097;

unsafe extern "C" {
    /// Serves a call in the handler, or says HANDLER_GATE_SLOW having done
    /// nothing, or HANDLER_GATE_MAKE for the gate to make it as it came:
    /// `regs` points at the number and the six argument registers (rdi,
    /// rsi, rdx, r10, r8, r9).
    fn preld_gate_serve(regs: *mut usize) -> isize;
}

/// The handler gate: the handler serves the call without a signal, as the
/// SIGSYS handler would (on the thread's preld stack), or sends the stub
/// the slow way (the site's own `syscall` traps, and the trap path serves
/// the call from the start), or has the gate make it as it came, back on
/// the application's stack with the signals put off unblocked (a call
/// that may block, which the handler only looked at).
///
/// ```text
///  application stack, below the stub's 128 bytes:
///    [ret][flags][r9][r8][r10][rdx][rsi][rdi][nr][put off]   <- rsp
///  preld stack (gs:[stack_hi]): the application's rsp there, xmm0-15
///  (the handler's code uses them; the application's upper halves of
///  ymm/zmm are left alone by SSE instructions)
/// ```
///
/// The thread is marked as in the gate (`ArchThread.in_gate`) before the
/// preld stack is taken and unmarked after it is left: a signal that comes
/// in between is put off (trap.rs `defer_signal`: queued again, blocked),
/// and the signals put off are unblocked at the end, on the application's
/// stack, where they come in as in any gate. No rt_sigprocmask otherwise.
///
/// # Safety
/// As `fast_gate_plain`, gs = the thread's block. Owns: rcx, r11 (a
/// `syscall` clobbers them; the stub resets rcx, and r11 is left holding
/// the flags, as a `syscall` leaves it); every other register is the
/// application's again on return but rax, the result.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_handler() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "push r9",
        "push r8",
        "push r10",
        "push rdx",
        "push rsi",
        "push rdi",
        "push rax",                          // the number
        "sub rsp, 8",                        // the signals put off, to unblock
        "mov qword ptr gs:[{in_gate}], 1",   // from here a signal waits
        "mov r11, rsp",                      // the application's side
        "mov rsp, gs:[{stack_hi}]",          // free: no preld code is running
        "push r11",
        "sub rsp, 264",                      // xmm0-15, and rsp 16-aligned
        "movdqu [rsp + 0], xmm0",
        "movdqu [rsp + 16], xmm1",
        "movdqu [rsp + 32], xmm2",
        "movdqu [rsp + 48], xmm3",
        "movdqu [rsp + 64], xmm4",
        "movdqu [rsp + 80], xmm5",
        "movdqu [rsp + 96], xmm6",
        "movdqu [rsp + 112], xmm7",
        "movdqu [rsp + 128], xmm8",
        "movdqu [rsp + 144], xmm9",
        "movdqu [rsp + 160], xmm10",
        "movdqu [rsp + 176], xmm11",
        "movdqu [rsp + 192], xmm12",
        "movdqu [rsp + 208], xmm13",
        "movdqu [rsp + 224], xmm14",
        "movdqu [rsp + 240], xmm15",
        "lea rdi, [r11 + 8]",                // the number and the arguments
        "cld",                               // as a C call expects
        "call {serve}",
        "movdqu xmm0, [rsp + 0]",
        "movdqu xmm1, [rsp + 16]",
        "movdqu xmm2, [rsp + 32]",
        "movdqu xmm3, [rsp + 48]",
        "movdqu xmm4, [rsp + 64]",
        "movdqu xmm5, [rsp + 80]",
        "movdqu xmm6, [rsp + 96]",
        "movdqu xmm7, [rsp + 112]",
        "movdqu xmm8, [rsp + 128]",
        "movdqu xmm9, [rsp + 144]",
        "movdqu xmm10, [rsp + 160]",
        "movdqu xmm11, [rsp + 176]",
        "movdqu xmm12, [rsp + 192]",
        "movdqu xmm13, [rsp + 208]",
        "movdqu xmm14, [rsp + 224]",
        "movdqu xmm15, [rsp + 240]",
        "mov rsp, [rsp + 264]",              // back on the application's stack
        "mov qword ptr gs:[{in_gate}], 0",   // from here a signal comes in
        "mov r9, rax",                       // the result (r9 is reloaded below)
        "mov rax, gs:[{deferred}]",          // signals that came meanwhile
        "test rax, rax",
        "jz 3f",
        "mov [rsp], rax",
        "mov qword ptr gs:[{deferred}], 0",
        "mov edi, {sig_unblock}",            // they come now
        "mov rsi, rsp",
        "xor edx, edx",
        "mov r10d, 8",
        "mov eax, {sigprocmask}",
        "syscall",
        "3:",
        "lea rsp, [rsp + 8]",                // the signals put off
        "mov rax, r9",                       // the result...
        "xor ecx, ecx",
        "cmp r9, {make_result}",
        "jne 4f",
        "mov rax, [rsp]",                    // ...or the number, to make the call here
        "mov ecx, 2",
        "jmp 1f",
        "4:",
        "cmp r9, {slow_result}",
        "jne 1f",
        "mov rax, [rsp]",                    // ...or the number, for the site's own syscall
        "mov ecx, 1",
        "1:",
        "lea rsp, [rsp + 8]",                // the number
        "pop rdi",
        "pop rsi",
        "pop rdx",
        "pop r10",
        "pop r8",
        "pop r9",
        "cmp ecx, 1",
        "je 2f",
        "ja 5f",
        "mov r11, [rsp]",                    // r11 = the flags, as a syscall leaves it
        "popfq",
        "ret",
        "5:",
        "popfq",                             // the application's flags, for r11
        "syscall",
        "ret",
        "2:",
        "popfq",
        "jmp {slow}",
        sigprocmask = const abi::SYS_RT_SIGPROCMASK,
        sig_unblock = const abi::SIG_UNBLOCK,
        stack_hi = const super::trap::TB_STACK_HI_OFFSET,
        in_gate = const super::trap::TB_IN_GATE,
        deferred = const super::trap::TB_DEFERRED,
        serve = sym preld_gate_serve,
        slow_result = const HANDLER_GATE_SLOW,
        make_result = const HANDLER_GATE_MAKE,
        slow = sym fast_gate_slow,
    )
}

/// The gates of `Gate::StatBeside`, counting the calls they make or not:
/// newfstatat(fd, NAME, buf, AT_SYMLINK_NOFOLLOW), tar's and find's stat of
/// each name of a directory they walk, made as it is when the handler
/// would make it so (its `pola::stat_one_name`, 20,000 calls of a tar of
/// /usr/include), and newfstatat(fd, "", buf, AT_EMPTY_PATH), glibc's
/// fstat of such an fd (its `pola::gate_on_fd`: the fd's own stat, which
/// the kernel makes of any fd): the flags exactly AT_SYMLINK_NOFOLLOW (or
/// AT_EMPTY_PATH, and after the call the name "" and the result 0), no other thread
/// shares the memory, the fd below FAST_FDS_COUNTED and none of preld's,
/// known (`FAST_FD_GRANT`, its generation unchanged) to lie on a grant
/// marked `FAST_STAT_MARK`, and the buffer none of preld's memory
/// (`RESIDENT`) nor the name's first GATE_NAME_MAX bytes (the kernel
/// writes it after it read the name). The name is looked at after the call, which reads it
/// first (no page of it can fault then: nothing else runs in this memory,
/// and a signal waits, as in the handler gate, until the gate ends): one
/// name, not `..`, shorter than 256 bytes; for a result of 0, owners the
/// user namespace maps, or else (the overflow id, which an ordinary user's
/// session shows for others' files) the owners the session's table
/// (`OWNERS_TABLE`) holds, written into the buffer. Else, or
/// for a result other than 0, ENOENT or ENOTDIR, on to `fast_gate_handler` with the call as
/// it came, which makes it again its own way (a stat has no effect but on
/// the buffer, which it writes again). A name with a `/` or `..` never
/// leaves the grant's copy, whose root it is, in the kernel: the answer
/// written meanwhile shows nothing the grant does not hold.
///
/// ```text
///  application stack, below the stub's 128 bytes:
///    [ret][flags][nr][put off]   <- rsp
/// ```
///
/// # Safety
/// As `fast_gate_handler`. Owns rcx and r11 (the `syscall` clobbers them;
/// the stub resets rcx, and r11 is left holding the flags, as a `syscall`
/// leaves it); 24 bytes of the application's stack below the stub's, 16
/// more while it looks in the owners table (r8 and r9 saved there and
/// put back), 40 more while it unblocks signals put off.
macro_rules! stat_gate {
    ($name:ident, counted: $counted:literal) => {
        #[doc = concat!("The stat-beside gate, counting: ", stringify!($counted), ".")]
        ///
        /// # Safety
        /// See the gates' comment above.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",
                // A stat by a path (glibc's stat and lstat): the session
                // stat gate's.
                "cmp edi, {at_fdcwd}",
                "jne 17f",
                "popfq",
                "jmp {session_stat}",
                "17:",
                "cmp r10d, {nofollow}",
                "je 14f",
                "cmp r10d, {empty_path}",
                "jne 9f",
                "14:",
                "cmp byte ptr [rip + {shared}], 0",
                "jne 9f",
                "cmp qword ptr [rip + {grants_off}], 0",
                "jne 9f",
                "cmp edi, {n}",
                "jae 9f",                          // unsigned: no negative fd either
                own_fd!("9f"),
                "push rax",                        // the number; rax is free
                // From the look at the fd a signal waits: a handler run
                // between the look and the call that put /proc/self/fd at
                // the number had preld's own fds statted beside it
                // (session-24 adversary).
                "mov qword ptr gs:[{in_gate}], 1",
                fd_marked!("8f"),
                stat_buffer_not_preld_s!("8f"),
                // The name's first GATE_NAME_MAX bytes (all the gate looks
                // at) apart from the buffer: the kernel reads the name,
                // then writes the buffer over it, and the name looked at
                // after the call would not be the one it read.
                "lea rax, [rdx + {stat_size}]",
                "cmp rsi, rax",
                "jae 16f",                         // the name above the buffer
                "lea rax, [rsi + {name_max}]",
                "cmp rax, rdx",
                "ja 8f",                           // and not below it: they meet
                "16:",
                ".if {counted}",
                "lock inc qword ptr [rip + {calls}]",
                ".endif",
                "sub rsp, 8",                      // the signals put off, to unblock
                "mov rax, [rsp + 8]",
                "syscall",
                "test rax, rax",
                "jz 5f",
                "cmp rax, {enoent}",
                "je 5f",
                "cmp rax, {enotdir}",
                "jne 7f",
                // The fd's own stat (glibc's fstat): made, its name "".
                "5:",
                "cmp r10d, {empty_path}",
                "jne 15f",
                "test rax, rax",
                "jnz 7f",
                // (A NULL name: Linux 6.11 and later make the fd's own
                // stat of it, as of "": there is no name to look at.)
                "test rsi, rsi",
                "jz 11f",
                "cmp byte ptr [rsi], 0",
                "je 11f",
                "jmp 7f",
                // The name the kernel read: one, not `..`, < 256 bytes.
                "15:",
                "xor ecx, ecx",
                "6:",
                "movzx r11d, byte ptr [rsi + rcx]",
                "test r11d, r11d",
                "jz 10f",
                "cmp r11d, {slash}",
                "je 7f",
                "inc ecx",
                "cmp ecx, {name_max}",
                "jb 6b",
                "jmp 7f",
                "10:",
                "test ecx, ecx",
                "jz 7f",
                "cmp ecx, 2",
                "jne 11f",
                "cmp word ptr [rsi], {dotdot}",
                "je 7f",
                // Owners the session's user namespace does not map (the
                // overflow id: an ordinary user's session, others' files)
                // are the handler's to fix (its owners.rs). The buffer is
                // the one the kernel just wrote.
                "11:",
                "test rax, rax",
                "jnz 13f",
                "cmp dword ptr [rdx + {uid_at}], {overflow}",
                "je 20f",
                "cmp dword ptr [rdx + {gid_at}], {overflow}",
                "je 20f",
                // Made: signals put off come now, r11 the flags, as natively.
                "13:",
                "mov qword ptr gs:[{in_gate}], 0", // from here a signal comes in
                "mov r11, gs:[{deferred}]",
                "test r11, r11",
                "jz 12f",
                "push rax",                        // the result
                "push rdi",
                "push rsi",
                "push rdx",
                "push r10",
                "mov [rsp + 40], r11",             // the put-off slot
                "mov qword ptr gs:[{deferred}], 0",
                "mov edi, {sig_unblock}",
                "lea rsi, [rsp + 40]",
                "xor edx, edx",
                "mov r10d, 8",
                "mov eax, {sigprocmask}",
                "syscall",
                "pop r10",
                "pop rdx",
                "pop rsi",
                "pop rdi",
                "pop rax",
                "12:",
                "lea rsp, [rsp + 16]",             // the put-off slot, the number
                "mov r11, [rsp]",                  // r11 = the flags
                "popfq",
                "ret",
                // The owners the session's table holds for the file, into
                // the buffer; else the handler's (which asks the server).
                "20:",
                "push r8",
                "push r9",
                owners_from_table!("24f", "23f"),
                "24:",
                "pop r9",
                "pop r8",
                "xor eax, eax",                    // the result: 0
                "jmp 13b",
                "23:",
                "pop r9",
                "pop r8",
                // Not for this gate after the call: the handler gate makes
                // it again (signals put off stay blocked until it ends:
                // it unblocks them).
                "7:",
                "lea rsp, [rsp + 8]",              // the put-off slot
                "8:",
                "mov qword ptr gs:[{in_gate}], 0",
                "pop rax",                         // the number
                "9:",
                "popfq",
                "jmp {handler}",
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                nofollow = const abi::AT_SYMLINK_NOFOLLOW,
                empty_path = const abi::AT_EMPTY_PATH,
                at_fdcwd = const abi::AT_FDCWD,
                session_stat = sym fast_gate_session_stat,
                shared = sym MEMORY_SHARED,
                grants_off = sym FAST_FD_GRANT_OFF,
                n = const FAST_FDS_COUNTED,
                gens = sym FAST_FD_GEN,
                grants = sym FAST_FD_GRANT,
                stat_bit = const FAST_STAT_MARK_BIT,
                res_more = sym RESIDENT_MORE,
                res_slots = const RESIDENT_SLOTS,
                res = sym RESIDENT,
                stat_size = const abi::STAT_SIZE,
                counted = const $counted,
                calls = sym FAST_CALLS,
                in_gate = const super::trap::TB_IN_GATE,
                deferred = const super::trap::TB_DEFERRED,
                enoent = const abi::NEG_ENOENT,
                enotdir = const abi::NEG_ENOTDIR,
                slash = const b'/',
                name_max = const GATE_NAME_MAX,
                dotdot = const DOTDOT,
                uid_at = const abi::STAT_UID_AT,
                gid_at = const abi::STAT_GID_AT,
                overflow = const abi::OVERFLOW_ID,
                owners_table = sym OWNERS_TABLE,
                dev_at = const abi::STAT_DEV_AT,
                ino_at = const abi::STAT_INO_AT,
                rotate = const owners_table::HASH_ROTATE,
                mul = const owners_table::HASH_MUL,
                shift = const owners_table::HASH_SHIFT,
                ino_low = const owners_table::INO_LOW_BITS,
                pages_mask = const owners_table::PAGES - 1,
                low_mask = const owners_table::PAGE_BUCKETS - 1,
                bucket_shift = const owners_table::BUCKET_BYTES.trailing_zeros(),
                ways = const owners_table::WAYS,
                slot_bytes = const owners_table::SLOT_WORDS * 8,
                sig_unblock = const abi::SIG_UNBLOCK,
                sigprocmask = const abi::SYS_RT_SIGPROCMASK,
                handler = sym fast_gate_handler,
            )
        }
    };
}

/// The longest name the stat gate makes (NAME_MAX is 255): a longer one,
/// the handler's.
const GATE_NAME_MAX: usize = 256;
/// `..` as the two bytes a `word ptr` load reads.
const DOTDOT: u16 = u16::from_le_bytes(*b"..");

stat_gate!(fast_gate_stat_beside, counted: 0);
stat_gate!(fast_gate_stat_beside_counted, counted: 1);

/// The gates of `Gate::Listing`, counting the calls they make or not:
/// getdents64(fd, buf, count), tar's and find's listing of each directory
/// they walk (23,000 of find's calls over /usr/lib), made as it is when
/// the handler gate would make it so (its `pola::gate_listing`: the
/// kernel's listing of a directory of a grant): the fd below
/// FAST_FDS_COUNTED and none of preld's, known (`FAST_FD_GRANT`, its
/// generation unchanged, nothing making that cache wrong:
/// `FAST_FD_GRANT_OFF`) to lie on a grant marked `FAST_STAT_MARK` (a
/// directory grant the process resolves in, whose copy shows what the
/// namespace shows: never a virtual directory's stand-in, the session's
/// procfs or devpts), and the buffer (its count bytes) none of preld's
/// memory (`RESIDENT`). Else on to `fast_gate_handler` with the call as it
/// came. The listing itself is the kernel's, as from the handler gate:
/// another thread that replaces the fd meanwhile gets what the kernel
/// lists for whatever the fd is then; a signal that comes from the look
/// to the call waits until the gate ends (`in_gate`), as in the stat gate.
///
/// # Safety
/// As `fast_gate_handler`. Owns rcx and r11 (the `syscall` clobbers them;
/// the stub resets rcx, and r11 is left holding the flags, as a `syscall`
/// leaves it); 16 bytes of the application's stack below the stub's (the
/// flags, then rax while it looks), 48 more while it unblocks signals put
/// off (`put_off_gate_end!`).
macro_rules! listing_gate {
    ($name:ident, counted: $counted:literal) => {
        #[doc = concat!("The listing gate, counting: ", stringify!($counted), ".")]
        ///
        /// # Safety
        /// See the gates' comment above.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",                          // the flags, as the call came
                "cmp qword ptr [rip + {grants_off}], 0",
                "jne 9f",
                "cmp edi, {n}",
                "jae 9f",                          // unsigned: no negative fd either
                own_fd!("9f"),
                "push rax",                        // the number; rax is free
                // From the look at the fd to the call a signal waits: a
                // handler run between them that put /proc/self/fd at the
                // number had it listed with preld's fds (session-24
                // adversary).
                "mov qword ptr gs:[{in_gate}], 1",
                fd_marked!("8f"),
                // The buffer [rsi, rsi + count) none of preld's memory, as
                // the stat gate's (the kernel wrote listings there).
                "mov eax, edx",                    // the count: an unsigned int
                "add rax, rsi",                    // the buffer's end
                "jc 8f",
                range_not_preld_s!("rsi", "8f"),
                "pop rax",
                ".if {counted}",
                "lock inc qword ptr [rip + {calls}]",
                ".endif",
                "syscall",
                put_off_gate_end!(),
                // (Signals put off stay blocked until the handler gate
                // ends: it unblocks them.)
                "8:",
                "mov qword ptr gs:[{in_gate}], 0",
                "pop rax",
                "9:",
                "popfq",
                "jmp {handler}",
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                grants_off = sym FAST_FD_GRANT_OFF,
                n = const FAST_FDS_COUNTED,
                gens = sym FAST_FD_GEN,
                grants = sym FAST_FD_GRANT,
                stat_bit = const FAST_STAT_MARK_BIT,
                res_more = sym RESIDENT_MORE,
                res_slots = const RESIDENT_SLOTS,
                res = sym RESIDENT,
                counted = const $counted,
                calls = sym FAST_CALLS,
                handler = sym fast_gate_handler,
                in_gate = const super::trap::TB_IN_GATE,
                deferred = const super::trap::TB_DEFERRED,
                sig_unblock = const abi::SIG_UNBLOCK,
                sigprocmask = const abi::SYS_RT_SIGPROCMASK,
            )
        }
    };
}

listing_gate!(fast_gate_listing, counted: 0);
listing_gate!(fast_gate_listing_counted, counted: 1);

/// The gates of `Gate::Dup`, counting the calls they make or not: fcntl
/// and dup, as `fast_gate_fd` (one of preld's fds goes the slow way; so
/// does F_DUPFD_QUERY's second fd, the third argument);
/// after a copy that worked (dup, or fcntl's F_DUPFD or F_DUPFD_CLOEXEC:
/// find walks each directory through one), the copy's `FAST_FD_GRANT`
/// entry becomes the original's (the same open file, so the same grant)
/// under the copy's generation as read after the call, where the
/// original's holds (its generation unchanged; nothing making the cache
/// wrong). Before, the first stat beside each copy went to the handler
/// gate, which learnt the fd's mount with a statx. Another thread that
/// closes the copy's number before its generation is read, and opens
/// another file there, leaves this entry taken for that file, as
/// `beneath::remember_fd` does (a race with no defined outcome natively
/// either; the kernel's answers hold whatever the fd is).
///
/// A signal that comes from the call to the copy's entry waits until the
/// gate ends (`in_gate`).
///
/// # Safety
/// As `fast_gate_plain`. Owns rcx and r11 (the `syscall` clobbers them;
/// the stub resets rcx, and r11 is left holding the flags, as a `syscall`
/// leaves it); 16 bytes of the application's stack below the stub's (the
/// flags, then rdx, saved and put back), 48 while it unblocks signals put
/// off (`put_off_gate_end!`, after rdx is back).
macro_rules! dup_gate {
    ($name:ident, counted: $counted:literal) => {
        #[doc = concat!("The dup gate, counting: ", stringify!($counted), ".")]
        ///
        /// # Safety
        /// See the gates' comment above.
        #[unsafe(naked)]
        #[unsafe(link_section = "preld_gate")]
        pub unsafe extern "C" fn $name() -> ! {
            core::arch::naked_asm!(
                "pushfq",
                own_fd!("2f"),
                // fcntl's F_DUPFD_QUERY: its second fd (an int, edx) none
                // of preld's either (one of them answered 0, not EBADF;
                // session-24 adversary).
                "cmp eax, {sys_dup}",
                "je 6f",
                "cmp esi, {f_dupfd_query}",
                "jne 6f",
                own_fd!("2f", "edx", "rdx"),
                "6:",
                ".if {counted}",
                "lock inc qword ptr [rip + {calls}]",
                ".endif",
                "cmp eax, {sys_dup}",
                "je 3f",
                "cmp esi, {f_dupfd}",
                "je 3f",
                "cmp esi, {f_dupfd_cloexec}",
                "je 3f",
                "popfq",
                "syscall",
                "ret",
                // A copy. From the call to the copy's entry a signal waits:
                // a handler run between them that closed the copy and put
                // another file at its number (its generation read after)
                // had that file take the original's mark (session-24
                // adversary). The flags stay at [rsp] as the call came.
                // Not while nothing is learnt of fds (`FAST_FD_GRANT_OFF`;
                // as in the close gate): the call alone. F_DUPFD's minimum
                // (an int, edx) at or above preld's lowest fd (rcx: the
                // set `own_fd!` looked in): the handler's, which moves
                // preld's fds out of the copy's way (the kernel skipped
                // them, the copy landed above them; session-24 adversary).
                "3:",
                "cmp eax, {sys_dup}",
                "je 8f",
                "cmp edx, dword ptr [rcx + {own_min}]",
                "jge 2f",
                "8:",
                "cmp qword ptr [rip + {grants_off}], 0",
                "je 7f",
                "popfq",
                "syscall",
                "ret",
                "7:",
                "mov qword ptr gs:[{in_gate}], 1",
                "syscall",
                "cmp rax, {n}",
                "jae 5f",                          // unsigned: no error either
                "cmp edi, {n}",
                "jae 5f",
                "cmp qword ptr [rip + {grants_off}], 0",
                "jne 5f",
                "push rdx",
                "mov r11d, edi",                   // the original, zero-extended
                "lea rdx, [rip + {gens}]",
                "mov edx, dword ptr [rdx + r11 * 4]", // its generation
                "lea rcx, [rip + {grants}]",
                "mov rcx, qword ptr [rcx + r11 * 8]", // what the handler learnt of it
                "mov r11, rcx",
                "shr r11, 32",
                "cmp r11d, edx",
                "jne 4f",                          // learnt of an fd closed since
                "test ecx, {index_mask}",
                "jz 4f",                           // nothing learnt
                "lea rdx, [rip + {gens}]",
                "mov edx, dword ptr [rdx + rax * 4]", // the copy's generation, now
                "shl rdx, 32",
                "mov ecx, ecx",                    // the mark and the grant
                "or rcx, rdx",
                "lea rdx, [rip + {grants}]",
                "mov qword ptr [rdx + rax * 8], rcx",
                "4:",
                "pop rdx",
                "5:",
                put_off_gate_end!(),
                "2:",
                "popfq",
                "jmp {slow}",
                own_ptr = const super::trap::TB_OWN_FDS,
                own_min = const OWN_MIN,
                own_bits_at = const OWN_BITS,
                own_bits = const OWN_FDS_BITS,
                sys_dup = const abi::SYS_DUP,
                f_dupfd = const abi::F_DUPFD,
                f_dupfd_cloexec = const abi::F_DUPFD_CLOEXEC,
                f_dupfd_query = const abi::F_DUPFD_QUERY,
                grants_off = sym FAST_FD_GRANT_OFF,
                n = const FAST_FDS_COUNTED,
                gens = sym FAST_FD_GEN,
                grants = sym FAST_FD_GRANT,
                index_mask = const FAST_STAT_MARK - 1,
                counted = const $counted,
                calls = sym FAST_CALLS,
                slow = sym fast_gate_slow,
                in_gate = const super::trap::TB_IN_GATE,
                deferred = const super::trap::TB_DEFERRED,
                sig_unblock = const abi::SIG_UNBLOCK,
                sigprocmask = const abi::SYS_RT_SIGPROCMASK,
            )
        }
    };
}

dup_gate!(fast_gate_dup, counted: 0);
dup_gate!(fast_gate_dup_counted, counted: 1);

/// The gate of `Gate::ByNumber` sites: on to the gate `GATE_BY_NUMBER`
/// names for the call's number (or the slow way).
///
/// # Safety
/// As `fast_gate_fd`; owns r11 (the `syscall` clobbers it anyway).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_by_number() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "cmp rax, {n}",
        "jae 2f",
        "lea r11, [rip + {table}]",
        "mov r11, [r11 + rax * 8]",
        "popfq",
        "jmp r11",                          // with [rsp] = the stub's return
        "2:",
        "popfq",
        "jmp {slow}",
        n = const BY_NUMBER,
        table = sym GATE_BY_NUMBER,
        slow = sym fast_gate_slow,
    )
}
