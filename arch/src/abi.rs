//! The kernel constants the architecture code uses, in one place: system
//! call numbers and flags from linux-raw-sys, cast to the types the asm
//! operands and callers take. The asm of this crate names these, never a
//! bare number (tests/tests/tidy.rs checks).

use linux_raw_sys::{elf, general, ioctl, prctl};

pub const SYS_RT_SIGRETURN: usize = general::__NR_rt_sigreturn as usize;
pub const SYS_RT_SIGPROCMASK: usize = general::__NR_rt_sigprocmask as usize;
pub const SYS_SIGALTSTACK: usize = general::__NR_sigaltstack as usize;
pub const SYS_MPROTECT: usize = general::__NR_mprotect as usize;
pub const SYS_CLOSE: usize = general::__NR_close as usize;
pub const SYS_PRCTL: usize = general::__NR_prctl as usize;
pub const SYS_ARCH_PRCTL: usize = general::__NR_arch_prctl as usize;
pub const SYS_EXIT: usize = general::__NR_exit as usize;
pub const SYS_GETTID: usize = general::__NR_gettid as usize;
pub const SYS_GETPID: usize = general::__NR_getpid as usize;
pub const SYS_RT_TGSIGQUEUEINFO: usize = general::__NR_rt_tgsigqueueinfo as usize;
pub const SYS_SCHED_YIELD: usize = general::__NR_sched_yield as usize;
pub const SYS_OPENAT2: usize = general::__NR_openat2 as usize;
pub const SYS_FSTAT: usize = general::__NR_fstat as usize;
pub const SYS_NEWFSTATAT: usize = general::__NR_newfstatat as usize;
pub const SYS_DUP: usize = general::__NR_dup as usize;

pub const SIGSYS: usize = general::SIGSYS as usize;
pub const SIG_SETMASK: usize = general::SIG_SETMASK as usize;
pub const SIG_UNBLOCK: usize = general::SIG_UNBLOCK as usize;
pub const SIG_BLOCK: usize = general::SIG_BLOCK as usize;
pub const SIGSEGV: usize = general::SIGSEGV as usize;
pub const SIGBUS: usize = general::SIGBUS as usize;
pub const PROT_READ: usize = general::PROT_READ as usize;
pub const MAP_FIXED: u32 = general::MAP_FIXED;
pub const MAP_ANONYMOUS: u32 = general::MAP_ANONYMOUS;
pub const MAP_FIXED_NOREPLACE: u32 = general::MAP_FIXED_NOREPLACE;
pub const O_WRONLY: u32 = general::O_WRONLY;
pub const O_RDWR: u32 = general::O_RDWR;
pub const O_CREAT: u32 = general::O_CREAT;
pub const O_TRUNC: u32 = general::O_TRUNC;
pub const O_APPEND: u32 = general::O_APPEND;
pub const __O_TMPFILE: u32 = general::__O_TMPFILE;
/// The flags of an open for reading that change nothing but the fd
/// (O_RDONLY is 0): the session open gate's.
pub const O_PLAIN: u32 = general::O_CLOEXEC | general::O_NONBLOCK | general::O_DIRECTORY | general::O_NOFOLLOW | general::O_NOCTTY | general::O_LARGEFILE | general::O_NOATIME;
pub const O_NOCTTY: u32 = general::O_NOCTTY;
pub const O_PATH: u32 = general::O_PATH;
pub const O_CLOEXEC: u32 = general::O_CLOEXEC;
pub const O_NOFOLLOW: u32 = general::O_NOFOLLOW;
pub const O_NONBLOCK: u32 = general::O_NONBLOCK;
pub const O_DIRECTORY: u32 = general::O_DIRECTORY;
pub const AT_FDCWD: i32 = general::AT_FDCWD;
/// openat2's resolve flags of a walk that only goes down from a grant's
/// copy (the session open gate's, the handler's `beneath::openat2_down`):
/// no symlink followed, no mount crossed.
pub const RESOLVE_DOWN: u64 = (general::RESOLVE_NO_SYMLINKS | general::RESOLVE_NO_XDEV) as u64;
/// sizeof(struct open_how).
pub const OPEN_HOW_SIZE: usize = core::mem::size_of::<general::open_how>();
const _: () = assert!(OPEN_HOW_SIZE == 24);
pub const AT_SYMLINK_NOFOLLOW: u32 = general::AT_SYMLINK_NOFOLLOW;
/// fcntl's commands that make a copy of the fd.
pub const F_DUPFD: u32 = general::F_DUPFD;
pub const F_DUPFD_CLOEXEC: u32 = general::F_DUPFD_CLOEXEC;
/// fcntl(FD, F_DUPFD_QUERY, FD2): whether FD2 is a copy of FD (Linux 6.10).
pub const F_DUPFD_QUERY: u32 = general::F_DUPFD_QUERY;
pub const AT_EMPTY_PATH: u32 = general::AT_EMPTY_PATH;
/// The ioctls that name fds of their own besides the one they are made on.
pub const FICLONE: u32 = ioctl::FICLONE;
pub const FICLONERANGE: u32 = ioctl::FICLONERANGE;
pub const FIDEDUPERANGE: u32 = ioctl::FIDEDUPERANGE;
/// sizeof(struct stat), what newfstatat writes.
pub const STAT_SIZE: usize = core::mem::size_of::<general::stat>();
const _: () = assert!(STAT_SIZE == 144);
/// Where struct stat holds st_dev and st_ino.
pub const STAT_DEV_AT: usize = core::mem::offset_of!(general::stat, st_dev);
pub const STAT_INO_AT: usize = core::mem::offset_of!(general::stat, st_ino);
/// Where struct stat holds st_uid and st_gid.
pub const STAT_UID_AT: usize = core::mem::offset_of!(general::stat, st_uid);
pub const STAT_GID_AT: usize = core::mem::offset_of!(general::stat, st_gid);
/// The id the kernel shows for one a user namespace does not map
/// (/proc/sys/kernel/overflowuid and overflowgid, 65534 unless an
/// administrator changed them).
pub const OVERFLOW_ID: u32 = 65534;
/// -ENOENT and -ENOTDIR, as a call returns them in rax.
pub const NEG_ENOENT: isize = -(linux_raw_sys::errno::ENOENT as isize);
pub const NEG_ENOTDIR: isize = -(linux_raw_sys::errno::ENOTDIR as isize);
pub const NEG_EINTR: isize = -(linux_raw_sys::errno::EINTR as isize);
pub const NEG_EINVAL: isize = -(linux_raw_sys::errno::EINVAL as isize);
pub const PR_SET_SYSCALL_USER_DISPATCH: usize = prctl::PR_SET_SYSCALL_USER_DISPATCH as usize;
pub const PR_SYS_DISPATCH_ON: usize = prctl::PR_SYS_DISPATCH_ON as usize;

/// sizeof(siginfo_t), as the kernel lays it out in a signal frame.
pub const SIGINFO_SIZE: usize = core::mem::size_of::<general::siginfo_t>();
const _: () = assert!(SIGINFO_SIZE == 128);

/// arch_prctl's codes for gs (asm/prctl.h; linux-raw-sys has only
/// ARCH_SET_FS).
pub const ARCH_SET_GS: usize = 0x1001;
pub const ARCH_GET_GS: usize = 0x1004;

/// `R_X86_64_RELATIVE`, the only relocation ld-preld's static-pie image has.
pub const R_RELATIVE: u32 = elf::R_RELATIVE;
