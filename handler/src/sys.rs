//! The system calls preld itself makes, as small typed wrappers over
//! `preld_arch::syscall6` (so every one is issued from the gate range).

use preld_arch::syscall6;
use syscalls::Sysno;

use crate::abi::{AT_EMPTY_PATH, AT_FDCWD, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GET_SEALS, F_SETFD, F_SETFL, PR_GET_SECCOMP, PR_SET_MM, PR_SET_MM_MAP, PR_SET_NAME, PR_SET_NO_NEW_PRIVS};
use crate::abi::{PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, PR_SYS_DISPATCH_ON, SOL_SOCKET, SO_TYPE};
use crate::errno::{EINTR, EINVAL};

pub type Result<T> = core::result::Result<T, i32>;

/// `stack_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackT {
    pub sp: usize,
    pub flags: i32,
    pub size: usize,
}

fn check(r: isize) -> Result<usize> {
    if (-4095..0).contains(&r) {
        Err(-r as i32)
    } else {
        Ok(r as usize)
    }
}

macro_rules! sc {
    ($nr:ident $(, $a:expr)*) => {{
        let a: [usize; 6] = {
            let mut v = [0usize; 6];
            let args: &[usize] = &[$($a as usize),*];
            let mut i = 0;
            while i < args.len() { v[i] = args[i]; i += 1; }
            v
        };
        // SAFETY: the safe wrappers below pass no pointers but those of live
        // Rust references (buffers with their lengths, NUL-terminated CPaths,
        // the structures they fill or read) and no integer the kernel takes
        // for an address; the unsafe ones (mmap, munmap, mprotect, madvise,
        // sigaltstack, rt_sigaction, rt_tgsigqueueinfo) hold their callers
        // to the contract each states.
        check(unsafe { syscall6(Sysno::$nr as usize, a[0], a[1], a[2], a[3], a[4], a[5]) })
    }};
}

/// A NUL-terminated path built from bytes.
pub struct CPath(alloc::vec::Vec<u8>);

impl CPath {
    pub fn new(bytes: &[u8]) -> CPath {
        let mut v = alloc::vec::Vec::with_capacity(bytes.len() + 1);
        v.extend_from_slice(bytes);
        v.push(0);
        CPath(v)
    }
    pub fn ptr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

pub fn open(path: &CPath, flags: usize) -> Result<i32> {
    sc!(openat, AT_FDCWD as isize, path.ptr(), flags, 0).map(|fd| fd as i32)
}

/// open(2) that may create `path` with `mode`.
pub fn open_mode(path: &CPath, flags: usize, mode: usize) -> Result<i32> {
    sc!(openat, AT_FDCWD as isize, path.ptr(), flags, mode).map(|fd| fd as i32)
}

pub fn close(fd: i32) {
    let _ = sc!(close, fd);
}

pub fn pread(fd: i32, buf: &mut [u8], off: u64) -> Result<usize> {
    sc!(pread64, fd, buf.as_mut_ptr(), buf.len(), off)
}

pub fn write(fd: i32, buf: &[u8]) -> Result<usize> {
    sc!(write, fd, buf.as_ptr(), buf.len())
}

pub fn access(path: &CPath, mode: usize) -> Result<()> {
    sc!(faccessat, AT_FDCWD as isize, path.ptr(), mode).map(|_| ())
}

/// The fields of `struct stat` the loader looks at.
pub struct Stat {
    pub mode: u32,
    pub size: u64,
}

#[repr(C)]
struct RawStat {
    st_dev: u64,
    st_ino: u64,
    st_nlink: u64,
    st_mode: u32,
    st_uid: u32,
    st_gid: u32,
    pad0: u32,
    st_rdev: u64,
    st_size: i64,
    st_blksize: i64,
    st_blocks: i64,
    times: [u64; 6],
    reserved: [i64; 3],
}

pub fn fstat(fd: i32) -> Result<Stat> {
    // SAFETY: RawStat is plain integers, for which all-zero is a valid value.
    let mut st: RawStat = unsafe { core::mem::zeroed() };
    sc!(fstat, fd, &mut st as *mut RawStat)?;
    Ok(Stat { mode: st.st_mode, size: st.st_size as u64 })
}

pub fn stat(path: &CPath) -> Result<Stat> {
    fstatat(AT_FDCWD, path, 0)
}

/// newfstatat(2) of `path` relative to `dirfd`, with `flags`
/// (AT_SYMLINK_NOFOLLOW...).
pub fn fstatat(dirfd: i32, path: &CPath, flags: usize) -> Result<Stat> {
    // SAFETY: as in fstat.
    let mut st: RawStat = unsafe { core::mem::zeroed() };
    sc!(newfstatat, dirfd as isize, path.ptr(), &mut st as *mut RawStat, flags)?;
    Ok(Stat { mode: st.st_mode, size: st.st_size as u64 })
}

/// openat2(2)'s `struct open_how`.
#[repr(C)]
pub struct OpenHow {
    pub flags: u64,
    pub mode: u64,
    pub resolve: u64,
}

/// Checks that `path` is NUL-terminated: the kernel reads up to the NUL.
fn nul_ended(path: &[u8]) -> Result<()> {
    if path.last() == Some(&0) { Ok(()) } else { Err(EINVAL) }
}

/// openat2(2) of `path` (NUL-terminated) relative to `dirfd`.
pub fn openat2(dirfd: i32, path: &[u8], how: &OpenHow) -> Result<i32> {
    nul_ended(path)?;
    sc!(openat2, dirfd as isize, path.as_ptr(), how as *const OpenHow, core::mem::size_of::<OpenHow>()).map(|fd| fd as i32)
}

/// rt_sigtimedwait for `sig` with a zero timeout: takes out one pending
/// instance (thread's, then process's) into `info`; Err(EAGAIN) if none.
pub fn rt_sigtimedwait_now(sig: usize, info: &mut [u8; preld_arch::abi::SIGINFO_SIZE]) -> Result<usize> {
    let set: u64 = 1 << (sig - 1);
    let zero = [0i64; 2];
    sc!(rt_sigtimedwait, &set as *const u64, info.as_mut_ptr(), zero.as_ptr(), SIGSET_SIZE)
}

/// openat2 as the handler gate makes it for the application
/// (`preld_arch::syscall6_restartable`): EINTR also where a signal would
/// have the kernel restart it, or came before it was made
/// (`crate::signals::take_restarted` says which).
pub fn openat2_restartable(dirfd: i32, path: &[u8], how: &OpenHow) -> Result<i32> {
    nul_ended(path)?;
    // SAFETY: a NUL-terminated path and an open_how, both live references.
    let r = unsafe {
        preld_arch::syscall6_restartable(
            Sysno::openat2 as usize,
            dirfd as isize as usize,
            path.as_ptr() as usize,
            how as *const OpenHow as usize,
            core::mem::size_of::<OpenHow>(),
            0,
            0,
        )
    };
    check(r).map(|fd| fd as i32)
}

/// Sleeps while `*word == expected` (futex(2) FUTEX_WAIT_PRIVATE); any
/// error (EAGAIN: it changed, EINTR) is a wake-up for the caller.
pub fn futex_wait(word: &core::sync::atomic::AtomicU32, expected: u32) {
    let _ = sc!(futex, word.as_ptr(), crate::abi::FUTEX_WAIT_PRIVATE, expected, 0);
}

/// Wakes one thread sleeping on `word`.
pub fn futex_wake_one(word: &core::sync::atomic::AtomicU32) {
    let _ = sc!(futex, word.as_ptr(), crate::abi::FUTEX_WAKE_PRIVATE, 1);
}

/// umask(2): sets the file mode creation mask, returns the old one.
pub fn umask(mask: u32) -> u32 {
    sc!(umask, mask).map_or(0, |m| m as u32)
}

/// lseek(2).
pub fn lseek(fd: i32, off: u64, whence: usize) -> Result<u64> {
    sc!(lseek, fd, off, whence).map(|o| o as u64)
}

/// The kernel's `struct stat` of `fd` (an O_PATH fd too), as bytes.
pub fn fstat_bytes(fd: i32, out: &mut [u8; 144]) -> Result<()> {
    const _: () = assert!(core::mem::size_of::<RawStat>() == 144);
    sc!(fstat, fd, out.as_mut_ptr()).map(|_| ())
}

/// statx(2) of `fd` itself (AT_EMPTY_PATH, with `flags` beside it) into
/// `out` (the kernel's `struct statx`, 256 bytes).
pub fn statx_fd(fd: i32, flags: usize, mask: u32, out: &mut [u8; 256]) -> Result<()> {
    sc!(statx, fd as isize, b"\0".as_ptr(), AT_EMPTY_PATH | flags, mask, out.as_mut_ptr()).map(|_| ())
}

/// The file type (S_IFMT bits) of `path` (NUL-terminated) relative to
/// `dirfd`, by statx STATX_TYPE with `flags` (AT_SYMLINK_NOFOLLOW...).
pub fn file_type_at(dirfd: i32, path: &[u8], flags: usize) -> Result<u32> {
    nul_ended(path)?;
    let mut x = [0u8; 256];
    sc!(statx, dirfd as isize, path.as_ptr(), flags, crate::abi::STATX_TYPE, x.as_mut_ptr())?;
    // struct statx: stx_mode (u16) at 28.
    Ok(u16::from_ne_bytes([x[28], x[29]]) as u32 & crate::abi::S_IFMT)
}

/// fstatfs of `fd`: the file system's type (f_type, its magic number) and
/// the flags of the mount the object is on (f_flags: ST_*).
pub fn fs_of(fd: i32) -> Result<(u64, u64)> {
    let mut sfs = [0u64; 15]; // struct statfs: 120 bytes, f_type the 1st word, f_flags the 11th
    sc!(fstatfs, fd as isize, sfs.as_mut_ptr())?;
    Ok((sfs[0], sfs[10]))
}

/// The id of the mount `fd`'s object is on (statx STATX_MNT_ID).
pub fn mount_id(fd: i32) -> Result<u64> {
    let mut x = [0u8; 256];
    statx_fd(fd, 0, crate::abi::STATX_MNT_ID, &mut x)?;
    // struct statx: stx_mask at 0, stx_mnt_id at 144.
    let mask = u32::from_ne_bytes([x[0], x[1], x[2], x[3]]);
    if mask & crate::abi::STATX_MNT_ID == 0 {
        return Err(EINVAL);
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&x[144..152]);
    Ok(u64::from_ne_bytes(id))
}

/// The mount id of `fd`'s object and its file type (S_IFMT bits), in one
/// statx (STATX_MNT_ID | STATX_TYPE).
pub fn mount_id_and_type(fd: i32) -> Result<(u64, u32)> {
    let mut x = [0u8; 256];
    statx_fd(fd, 0, crate::abi::STATX_MNT_ID | crate::abi::STATX_TYPE, &mut x)?;
    // struct statx: stx_mask at 0, stx_mode at 28, stx_mnt_id at 144.
    let mask = u32::from_ne_bytes([x[0], x[1], x[2], x[3]]);
    if mask & (crate::abi::STATX_MNT_ID | crate::abi::STATX_TYPE) != crate::abi::STATX_MNT_ID | crate::abi::STATX_TYPE {
        return Err(EINVAL);
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&x[144..152]);
    Ok((u64::from_ne_bytes(id), u16::from_ne_bytes([x[28], x[29]]) as u32 & crate::abi::S_IFMT))
}

/// faccessat2(2) of `fd` itself (AT_EMPTY_PATH, with `flags` beside it).
pub fn faccess_fd(fd: i32, mode: usize, flags: usize) -> Result<()> {
    sc!(faccessat2, fd as isize, b"\0".as_ptr(), mode, AT_EMPTY_PATH | flags).map(|_| ())
}

/// readlinkat(2) of the symlink `fd` (O_PATH|O_NOFOLLOW) itself.
pub fn readlink_fd(fd: i32, buf: &mut [u8]) -> Result<usize> {
    sc!(readlinkat, fd as isize, b"\0".as_ptr(), buf.as_mut_ptr(), buf.len())
}

/// The generation of the process's mappings (`preld_arch::fast::
/// MAPPINGS_GEN`): bumped around every call that can take read or write
/// access away from memory (preld's own below, the application's in
/// dispatch.rs: `memory::forgets_pages`, through `usermem::mappings_begin`
/// and `mappings_end`), so that what was found of a page before stays true
/// while the generation stands (usermem.rs's page cache; the path gates).
/// Shared by every thread and every process sharing this memory (vfork,
/// CLONE_VM), whose calls bump it too.
pub fn mappings_change() {
    preld_arch::fast::MAPPINGS_GEN.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
}

pub fn mappings_generation() -> u64 {
    preld_arch::fast::MAPPINGS_GEN.load(core::sync::atomic::Ordering::SeqCst)
}

/// mmap(2). Mapping over memory that Rust code still uses is the caller's
/// responsibility, hence `unsafe`.
///
/// # Safety
/// With MAP_FIXED, `addr..addr+len` must hold nothing the loader still uses.
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: i32, off: u64) -> Result<usize> {
    if flags & crate::abi::MAP_FIXED != 0 {
        mappings_change();
    }
    sc!(mmap, addr, len, prot, flags, fd as isize, off)
}

/// # Safety
/// The range must hold nothing the loader still uses.
pub unsafe fn munmap(addr: usize, len: usize) -> Result<()> {
    mappings_change();
    sc!(munmap, addr, len).map(|_| ())
}

/// # Safety
/// Removing access from memory the loader still uses would fault.
pub unsafe fn mprotect(addr: usize, len: usize, prot: usize) -> Result<()> {
    mappings_change();
    sc!(mprotect, addr, len, prot).map(|_| ())
}

/// # Safety
/// Advice that drops or guards pages (MADV_DONTNEED, MADV_GUARD_INSTALL)
/// must not reach memory the loader still uses.
pub unsafe fn madvise(addr: usize, len: usize, advice: usize) -> Result<()> {
    mappings_change();
    sc!(madvise, addr, len, advice).map(|_| ())
}

pub fn exit_group(code: i32) -> ! {
    let _ = sc!(exit_group, code);
    // exit_group does not return; if it somehow did, stop here for good.
    loop {
        let _ = sc!(exit, code);
    }
}

/// A raw call with a checked result, for calls whose arguments the caller
/// has already validated or takes from the application unchanged.
///
/// # Safety
/// The arguments must be valid for call `nr` (pointers the kernel will
/// dereference are the kernel's to check; preld's own memory must not be
/// handed out).
pub unsafe fn raw(nr: usize, a: [usize; 6]) -> Result<usize> {
    // SAFETY: per the contract.
    check(unsafe { syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) })
}

pub fn gettid() -> i32 {
    sc!(gettid).unwrap_or(0) as i32
}

pub fn getpid() -> i32 {
    sc!(getpid).unwrap_or(0) as i32
}

pub fn tgkill(pid: i32, tid: i32, sig: i32) -> Result<()> {
    sc!(tgkill, pid, tid, sig).map(|_| ())
}

/// sigaltstack(2): installs `ss` as this thread's signal stack (the old
/// one is not asked for).
///
/// # Safety
/// The kernel writes signal frames into `ss` from then on: it must be a
/// stack of this thread's that nothing else uses while it is installed
/// (preld's own for the thread, or one the application chose for itself).
pub unsafe fn sigaltstack(ss: &StackT) -> Result<()> {
    sc!(sigaltstack, ss as *const StackT, 0).map(|_| ())
}

/// sigaltstack(2) asked for this thread's signal stack only.
pub fn get_sigaltstack() -> Result<StackT> {
    let mut old = StackT { sp: 0, flags: 0, size: 0 };
    sc!(sigaltstack, 0, &mut old as *mut StackT).map(|_| old)
}

/// fcntl(2) with an integer argument: F_DUPFD, F_GETFD, F_SETFD, F_GETFL,
/// F_SETFL, F_DUPFD_CLOEXEC, F_GET_SEALS. Commands whose argument is a pointer (locks,
/// owners) fail with EINVAL here, without a call.
pub fn fcntl(fd: i32, cmd: usize, arg: usize) -> Result<usize> {
    const INTEGER_COMMANDS: [usize; 7] = [F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_GET_SEALS];
    if !INTEGER_COMMANDS.contains(&cmd) {
        return Err(EINVAL);
    }
    sc!(fcntl, fd, cmd, arg)
}

pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize> {
    sc!(read, fd, buf.as_mut_ptr(), buf.len())
}

/// Writes all of `buf`, retrying short writes and EINTR.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(n) => buf = &buf[n..],
            Err(EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// readlink(2) into `buf`; the length read.
pub fn readlink(path: &CPath, buf: &mut [u8]) -> Result<usize> {
    sc!(readlinkat, AT_FDCWD as isize, path.ptr(), buf.as_mut_ptr(), buf.len())
}

pub fn getcwd(buf: &mut [u8]) -> Result<usize> {
    sc!(getcwd, buf.as_mut_ptr(), buf.len())
}

/// `struct sigaction` as the kernel takes it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigaction {
    pub handler: usize,
    pub flags: usize,
    pub restorer: usize,
    pub mask: u64,
}

/// The size of the kernel's sigset_t, as the rt_sig* calls take it.
const SIGSET_SIZE: usize = core::mem::size_of::<u64>();

/// rt_sigaction(2): installs `new` (if given) as the action of `sig` and
/// fills `old` (if given) with the previous one.
///
/// # Safety
/// From the next signal on, the kernel jumps to `new`'s handler and
/// restorer on this process's threads: they must be code that may run as
/// this signal's handler (preld's entries, or the application's own
/// action, installed for its own signal), or SIG_DFL/SIG_IGN.
pub unsafe fn rt_sigaction(sig: usize, new: Option<&KernelSigaction>, old: Option<&mut KernelSigaction>) -> Result<()> {
    let new = new.map_or(0, |n| n as *const KernelSigaction as usize);
    let old = old.map_or(0, |o| o as *mut KernelSigaction as usize);
    sc!(rt_sigaction, sig, new, old, SIGSET_SIZE).map(|_| ())
}

/// The action of `sig` as the kernel has it.
pub fn get_sigaction(sig: usize) -> Result<KernelSigaction> {
    let mut k = KernelSigaction::default();
    // SAFETY: no new action: the kernel only fills `k`.
    unsafe { rt_sigaction(sig, None, Some(&mut k)) }?;
    Ok(k)
}

/// rt_sigprocmask(2) on the calling thread's real mask: `how` (SIG_BLOCK,
/// SIG_UNBLOCK, SIG_SETMASK) with `new`, the previous mask into `old`.
pub fn rt_sigprocmask(how: usize, new: Option<&u64>, old: Option<&mut u64>) -> Result<()> {
    let new = new.map_or(0, |n| n as *const u64 as usize);
    let old = old.map_or(0, |o| o as *mut u64 as usize);
    sc!(rt_sigprocmask, how, new, old, SIGSET_SIZE).map(|_| ())
}

/// rt_sigpending(2): the signals pending for the calling thread.
pub fn rt_sigpending() -> Result<u64> {
    let mut m: u64 = 0;
    sc!(rt_sigpending, &mut m as *mut u64, SIGSET_SIZE)?;
    Ok(m)
}

/// rt_tgsigqueueinfo(2): sends `sig` with the siginfo at `info` to thread
/// `tid` of process `pid`.
///
/// # Safety
/// `info` must point at 128 readable bytes of a siginfo (the kernel's, or
/// one the caller built); the kernel reads it as such.
pub unsafe fn rt_tgsigqueueinfo(pid: i32, tid: i32, sig: usize, info: *const u8) -> Result<()> {
    sc!(rt_tgsigqueueinfo, pid, tid, sig, info).map(|_| ())
}

/// prctl(PR_GET_SECCOMP): the calling thread's seccomp mode (0: none).
pub fn prctl_get_seccomp() -> Result<usize> {
    sc!(prctl, PR_GET_SECCOMP)
}

/// prctl(PR_SET_SYSCALL_USER_DISPATCH) for the calling thread: on, with
/// `[start, end)` the only range whose system calls do not trap and no
/// selector byte (nothing in memory can switch the trap off), or off.
pub fn set_syscall_user_dispatch(allowed: Option<(usize, usize)>) -> Result<()> {
    match allowed {
        Some((start, end)) => sc!(prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, start, end - start, 0),
        None => sc!(prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0),
    }
    .map(|_| ())
}

/// prctl(PR_SET_NO_NEW_PRIVS, 1): for good, for this process and its
/// children.
pub fn set_no_new_privs() -> Result<()> {
    sc!(prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).map(|_| ())
}

/// prctl(PR_SET_NAME): the calling thread's name (/proc/self/comm), NUL
/// terminated within its 16 bytes.
pub fn set_thread_name(name: &[u8; 16]) -> Result<()> {
    if !name.contains(&0) {
        return Err(EINVAL);
    }
    sc!(prctl, PR_SET_NAME, name.as_ptr()).map(|_| ())
}

/// prctl(PR_SET_MM, PR_SET_MM_MAP): what /proc/self shows of the process's
/// memory layout (cmdline, environ, auxv, stat's addresses). Needs no
/// privilege as long as the executable's link is left alone (exe_fd -1).
pub fn set_mm_map(map: &crate::abi::PrctlMmMap) -> Result<()> {
    sc!(prctl, PR_SET_MM, PR_SET_MM_MAP, map as *const crate::abi::PrctlMmMap, core::mem::size_of::<crate::abi::PrctlMmMap>(), 0).map(|_| ())
}

/// brk(0): the current program break.
pub fn current_brk() -> usize {
    sc!(brk, 0).unwrap_or(0)
}

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

impl Timespec {
    /// Nanoseconds since the clock's epoch (wrapping).
    pub fn ns(self) -> u64 {
        (self.sec as u64).wrapping_mul(1_000_000_000).wrapping_add(self.nsec as u64)
    }
}

/// clock_gettime(2) of `clock` (CLOCK_REALTIME, CLOCK_MONOTONIC, ...).
pub fn clock_gettime(clock: usize) -> Result<Timespec> {
    let mut ts = Timespec::default();
    sc!(clock_gettime, clock, &mut ts as *mut Timespec)?;
    Ok(ts)
}

/// `struct rlimit64`: the soft and the hard limit.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

/// prlimit64(2) of the calling process: sets `resource` to `new` (if
/// given), the previous limits into `old` (if given).
pub fn prlimit64(resource: usize, new: Option<&Rlimit>, old: Option<&mut Rlimit>) -> Result<()> {
    let new = new.map_or(0, |n| n as *const Rlimit as usize);
    let old = old.map_or(0, |o| o as *mut Rlimit as usize);
    sc!(prlimit64, 0, resource, new, old).map(|_| ())
}

/// close_range(2) of `[first, last]` with `flags` (CLOSE_RANGE_CLOEXEC...).
pub fn close_range(first: usize, last: usize, flags: usize) -> Result<()> {
    sc!(close_range, first, last, flags).map(|_| ())
}

/// dup3(2): `old` onto `new`, with `flags` (O_CLOEXEC or 0).
pub fn dup3(old: i32, new: i32, flags: usize) -> Result<i32> {
    sc!(dup3, old, new, flags).map(|fd| fd as i32)
}

/// getsockopt(fd, SOL_SOCKET, SO_TYPE): the socket's type (SOCK_STREAM...).
pub fn socket_type(fd: i32) -> Result<u32> {
    let mut ty: u32 = 0;
    let mut len = core::mem::size_of::<u32>() as u32;
    sc!(getsockopt, fd, SOL_SOCKET, SO_TYPE, &mut ty as *mut u32, &mut len as *mut u32)?;
    Ok(ty)
}

pub fn sched_yield() {
    let _ = sc!(sched_yield);
}

/// Sends `sig` to thread `tid` of this process with the siginfo `info`
/// (any si_code is allowed to oneself).
pub fn queue_signal_to_self(tid: i32, sig: usize, info: &[u8; 128]) -> Result<()> {
    // SAFETY: `info` is 128 bytes of a siginfo the caller built.
    unsafe { rt_tgsigqueueinfo(getpid(), tid, sig, info.as_ptr()) }
}

/// Sleeps `ns` nanoseconds of CLOCK_MONOTONIC (the rest again after an
/// interruption).
pub fn sleep_ns(ns: u64) {
    let mut ts = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    loop {
        let p = ts.as_mut_ptr();
        // Relative; the remainder is written back into ts.
        match sc!(clock_nanosleep, crate::abi::CLOCK_MONOTONIC, 0, p, p) {
            Err(EINTR) => continue,
            _ => return,
        }
    }
}

pub fn getuid() -> u32 {
    sc!(getuid).unwrap_or(u32::MAX as usize) as u32
}

/// socket(2): a new socket of `domain` and `ty` (flags included).
pub fn socket(domain: usize, ty: usize) -> Result<i32> {
    sc!(socket, domain, ty, 0).map(|fd| fd as i32)
}

/// connect(2) to the socket address `addr` (its bytes, length included).
pub fn connect(fd: i32, addr: &[u8]) -> Result<()> {
    sc!(connect, fd, addr.as_ptr(), addr.len()).map(|_| ())
}

/// SO_PEERCRED of a connected Unix socket: (pid, uid, gid) of its peer.
pub fn peer_cred(fd: i32) -> Result<(i32, u32, u32)> {
    let mut cred = [0u32; 3];
    let mut len = core::mem::size_of_val(&cred) as u32;
    sc!(getsockopt, fd, SOL_SOCKET, crate::abi::SO_PEERCRED, cred.as_mut_ptr(), &mut len as *mut u32)?;
    Ok((cred[0] as i32, cred[1], cred[2]))
}

/// send(2) of `bytes` with `flags`.
pub fn send_bytes(fd: i32, bytes: &[u8], flags: usize) -> Result<usize> {
    sc!(sendto, fd, bytes.as_ptr(), bytes.len(), flags, 0, 0)
}

/// recvmsg(2) of one message into `buf` with up to two fds (SCM_RIGHTS);
/// its length and the fds. Fds past two are closed.
pub fn recv_with_fds(fd: i32, buf: &mut [u8], flags: usize) -> Result<(usize, [Option<i32>; 2])> {    #[repr(C, align(8))]
    struct Control([u8; 64]);
    let iov = Iovec { base: buf.as_mut_ptr() as usize, len: buf.len() };
    let mut ctl = Control([0; 64]);
    let mut msg = Msghdr { name: 0, namelen: 0, iov: &iov, iovlen: 1, control: ctl.0.as_mut_ptr() as usize, controllen: ctl.0.len(), flags: 0 };
    let n = loop {
        match sc!(recvmsg, fd, &mut msg as *mut Msghdr, flags) {
            Err(EINTR) => continue,
            r => break r?,
        }
    };
    let mut fds = [None, None];
    if msg.controllen >= 16 {
        let len = u64::from_ne_bytes(ctl.0[..8].try_into().unwrap_or_default()) as usize;
        let level = i32::from_ne_bytes(ctl.0[8..12].try_into().unwrap_or_default());
        let kind = i32::from_ne_bytes(ctl.0[12..16].try_into().unwrap_or_default());
        if level == SOL_SOCKET && kind == crate::abi::SCM_RIGHTS {
            let count = len.min(ctl.0.len()).saturating_sub(16) / 4;
            for i in 0..count {
                let f = i32::from_ne_bytes(ctl.0[16 + 4 * i..20 + 4 * i].try_into().unwrap_or_default());
                match fds.get_mut(i) {
                    Some(slot) => *slot = Some(f),
                    None => close(f),
                }
            }
        }
    }
    Ok((n, fds))
}

/// readlink(2) of `path`, which ends with its NUL, into `buf`, without
/// allocating (the tracer's -y reads /proc/self/fd/N while a call is traced).
pub fn readlink_nul(path: &[u8], buf: &mut [u8]) -> Result<usize> {
    if path.last() != Some(&0) {
        return Err(EINVAL);
    }
    sc!(readlinkat, AT_FDCWD as isize, path.as_ptr(), buf.as_mut_ptr(), buf.len())
}

/// getsockname(2), or getpeername(2) when `peer`, of `fd` into `buf`: the
/// address's length (at most `buf`'s).
pub fn sock_name(fd: i32, peer: bool, buf: &mut [u8]) -> Result<usize> {
    let mut len = buf.len() as u32;
    if peer {
        sc!(getpeername, fd, buf.as_mut_ptr(), &mut len as *mut u32)?;
    } else {
        sc!(getsockname, fd, buf.as_mut_ptr(), &mut len as *mut u32)?;
    }
    Ok((len as usize).min(buf.len()))
}

/// fgetxattr(2): attribute `name` (ending with its NUL) of `fd` into `buf`.
pub fn fgetxattr(fd: i32, name: &[u8], buf: &mut [u8]) -> Result<usize> {
    if name.last() != Some(&0) {
        return Err(EINVAL);
    }
    sc!(fgetxattr, fd, name.as_ptr(), buf.as_mut_ptr(), buf.len())
}

/// fstat(2)'s st_mode and st_rdev of `fd`.
pub fn fstat_dev(fd: i32) -> Result<(u32, u64)> {
    // SAFETY: RawStat is plain integers, for which all-zero is a valid value.
    let mut st: RawStat = unsafe { core::mem::zeroed() };
    sc!(fstat, fd, &mut st as *mut RawStat)?;
    Ok((st.st_mode, st.st_rdev))
}

/// `struct iovec`.
#[repr(C)]
pub struct Iovec {
    pub base: usize,
    pub len: usize,
}

/// `struct msghdr` (x86_64 layout).
#[repr(C)]
pub struct Msghdr {
    pub name: usize,
    pub namelen: u32,
    pub iov: *const Iovec,
    pub iovlen: usize,
    pub control: usize,
    pub controllen: usize,
    pub flags: i32,
}

/// `n` in decimal, in the end of `buf` (no allocation: also for paths made
/// in the SIGSYS handler).
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let (mut n, mut i) = (n, buf.len());
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}
