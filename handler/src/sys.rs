//! The system calls preld itself makes, as small typed wrappers over
//! `preld_arch::syscall6` (so every one is issued from the gate range).

use preld_arch::syscall6;
use syscalls::Sysno;

pub type Result<T> = core::result::Result<T, i32>;

pub const AT_FDCWD: i32 = -100;
pub const O_RDONLY: usize = 0;
pub const O_CLOEXEC: usize = 0o2000000;
pub const X_OK: usize = 1;
pub const PROT_NONE: usize = 0;
pub const PROT_READ: usize = 1;
pub const PROT_WRITE: usize = 2;
pub const PROT_EXEC: usize = 4;
pub const PROT_GROWSDOWN: usize = 0x0100_0000;
pub const MAP_PRIVATE: usize = 0x02;
pub const MAP_FIXED: usize = 0x10;
pub const MAP_ANONYMOUS: usize = 0x20;
pub const MAP_NORESERVE: usize = 0x4000;
pub const MAP_FIXED_NOREPLACE: usize = 0x10_0000;
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;

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
        // Rust references (buffers with their lengths, NUL-terminated CPaths)
        // and no integer the kernel takes for an address; the unsafe ones
        // (mmap, munmap, mprotect, madvise, sigaltstack) hold their
        // callers to the contract each states.
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
    // SAFETY: as in fstat.
    let mut st: RawStat = unsafe { core::mem::zeroed() };
    sc!(newfstatat, AT_FDCWD as isize, path.ptr(), &mut st as *mut RawStat, 0)?;
    Ok(Stat { mode: st.st_mode, size: st.st_size as u64 })
}

/// mmap(2). Mapping over memory that Rust code still uses is the caller's
/// responsibility, hence `unsafe`.
///
/// # Safety
/// With MAP_FIXED, `addr..addr+len` must hold nothing the loader still uses.
pub unsafe fn mmap(addr: usize, len: usize, prot: usize, flags: usize, fd: i32, off: u64) -> Result<usize> {
    sc!(mmap, addr, len, prot, flags, fd as isize, off)
}

/// # Safety
/// The range must hold nothing the loader still uses.
pub unsafe fn munmap(addr: usize, len: usize) -> Result<()> {
    sc!(munmap, addr, len).map(|_| ())
}

/// # Safety
/// Removing access from memory the loader still uses would fault.
pub unsafe fn mprotect(addr: usize, len: usize, prot: usize) -> Result<()> {
    sc!(mprotect, addr, len, prot).map(|_| ())
}

/// # Safety
/// Advice that drops or guards pages (MADV_DONTNEED, MADV_GUARD_INSTALL)
/// must not reach memory the loader still uses.
pub unsafe fn madvise(addr: usize, len: usize, advice: usize) -> Result<()> {
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

/// fcntl(2) with an integer argument: F_DUPFD, F_GETFD, F_SETFD, F_GETFL,
/// F_SETFL, F_DUPFD_CLOEXEC. Commands whose argument is a pointer (locks,
/// owners) fail with EINVAL here, without a call.
pub fn fcntl(fd: i32, cmd: usize, arg: usize) -> Result<usize> {
    const INTEGER_COMMANDS: [usize; 6] = [0, 1, 2, 3, 4, 1030];
    if !INTEGER_COMMANDS.contains(&cmd) {
        return Err(22); // EINVAL
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
            Err(4) => continue,
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

/// Sends `sig` to thread `tid` of this process with the siginfo `info`
/// (any si_code is allowed to oneself).
pub fn queue_signal_to_self(tid: i32, sig: i32, info: &[u8; 128]) -> Result<()> {
    sc!(rt_tgsigqueueinfo, getpid(), tid, sig, info.as_ptr()).map(|_| ())
}

/// Sleeps `ns` nanoseconds of CLOCK_MONOTONIC (the rest again after an
/// interruption).
pub fn sleep_ns(ns: u64) {
    let mut ts = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    loop {
        let p = ts.as_mut_ptr();
        // CLOCK_MONOTONIC = 1, relative; the remainder is written back into ts.
        match sc!(clock_nanosleep, 1, 0, p, p) {
            Err(4) => continue,
            _ => return,
        }
    }
}
