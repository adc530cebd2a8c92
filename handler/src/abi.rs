//! The kernel's constants as the handler uses them: taken from linux-raw-sys
//! (the kernel's UAPI headers) and cast once, here, to the type the
//! handler's calls and comparisons take (`usize` for a system call's
//! argument, `i32` for an fd or a mode field, `u32`/`u64` for a field of a
//! structure). No other module of the handler writes a kernel constant by
//! hand (tests/tests/tidy.rs checks); errno values are in errno.rs, system
//! call numbers are `syscalls::Sysno`, the trace's name tables
//! (trace/decode/xlat.rs) are strace's and stay as they are.

use linux_raw_sys::{general, ioctl, landlock, net, prctl, ptrace};

pub use preld_arch::abi::{ARCH_GET_GS, ARCH_SET_GS};

// Files: *at calls, open flags, fcntl, modes, lseek.
pub const AT_FDCWD: i32 = general::AT_FDCWD;
/// The longest path the kernel takes, its NUL included.
pub const PATH_MAX: usize = general::PATH_MAX as usize;
pub const AT_EMPTY_PATH: usize = general::AT_EMPTY_PATH as usize;
pub const AT_SYMLINK_NOFOLLOW: usize = general::AT_SYMLINK_NOFOLLOW as usize;
pub const AT_SYMLINK_FOLLOW: usize = general::AT_SYMLINK_FOLLOW as usize;
pub const AT_REMOVEDIR: u32 = general::AT_REMOVEDIR;
pub const O_RDONLY: usize = general::O_RDONLY as usize;
pub const O_WRONLY: usize = general::O_WRONLY as usize;
pub const O_RDWR: usize = general::O_RDWR as usize;
pub const O_ACCMODE: usize = general::O_ACCMODE as usize;
pub const O_CREAT: usize = general::O_CREAT as usize;
pub const O_EXCL: usize = general::O_EXCL as usize;
pub const O_APPEND: usize = general::O_APPEND as usize;
pub const O_TRUNC: usize = general::O_TRUNC as usize;
pub const O_CLOEXEC: usize = general::O_CLOEXEC as usize;
pub const O_PATH: usize = general::O_PATH as usize;
pub const O_NONBLOCK: usize = general::O_NONBLOCK as usize;
pub const O_NOCTTY: usize = general::O_NOCTTY as usize;
/// O_TMPFILE's own bit (O_TMPFILE is it with O_DIRECTORY).
pub const O_TMPFILE_BIT: usize = general::__O_TMPFILE as usize;
pub const O_DIRECTORY: usize = general::O_DIRECTORY as usize;
pub const O_NOFOLLOW: usize = general::O_NOFOLLOW as usize;
pub const O_LARGEFILE: usize = general::O_LARGEFILE as usize;
pub const O_NOATIME: usize = general::O_NOATIME as usize;
pub const O_DIRECT: usize = general::O_DIRECT as usize;
pub const O_DSYNC: usize = general::O_DSYNC as usize;
/// O_SYNC is __O_SYNC | O_DSYNC.
pub const O_SYNC: usize = (general::__O_SYNC | general::O_DSYNC) as usize;
/// openat2's resolve flags.
pub const RESOLVE_BENEATH: u64 = general::RESOLVE_BENEATH as u64;
pub const RESOLVE_NO_MAGICLINKS: u64 = general::RESOLVE_NO_MAGICLINKS as u64;
pub const RESOLVE_NO_SYMLINKS: u64 = general::RESOLVE_NO_SYMLINKS as u64;
pub const RESOLVE_NO_XDEV: u64 = general::RESOLVE_NO_XDEV as u64;
pub const RESOLVE_IN_ROOT: u64 = general::RESOLVE_IN_ROOT as u64;
/// The first struct open_how openat2 takes (flags, mode, resolve).
pub const OPEN_HOW_SIZE_VER0: usize = 24;
pub const AT_EACCESS: usize = general::AT_EACCESS as usize;
pub const AT_NO_AUTOMOUNT: usize = general::AT_NO_AUTOMOUNT as usize;
pub const AT_STATX_SYNC_TYPE: usize = general::AT_STATX_SYNC_TYPE as usize;
pub const STATX_MNT_ID: u32 = general::STATX_MNT_ID;
pub const STATX_TYPE: u32 = general::STATX_TYPE;
pub const AT_STATX_DONT_SYNC: usize = general::AT_STATX_DONT_SYNC as usize;
pub const R_OK: usize = general::R_OK as usize;
pub const W_OK: usize = general::W_OK as usize;
pub const X_OK: usize = general::X_OK as usize;
pub const F_DUPFD: usize = general::F_DUPFD as usize;
pub const F_GETFD: usize = general::F_GETFD as usize;
pub const F_SETFD: usize = general::F_SETFD as usize;
pub const F_GETFL: usize = general::F_GETFL as usize;
pub const F_SETFL: usize = general::F_SETFL as usize;
pub const F_DUPFD_CLOEXEC: usize = general::F_DUPFD_CLOEXEC as usize;
/// fcntl(FD, F_DUPFD_QUERY, FD2): whether FD2 is a copy of FD (Linux 6.10).
pub const F_DUPFD_QUERY: usize = general::F_DUPFD_QUERY as usize;
/// A memfd's seals, and the one that keeps it from shrinking (the owners
/// table's: a mapping of it never faults).
pub const F_GET_SEALS: usize = general::F_GET_SEALS as usize;
pub const F_SEAL_SHRINK: usize = general::F_SEAL_SHRINK as usize;
pub const FD_CLOEXEC: usize = general::FD_CLOEXEC as usize;
pub const S_IFMT: u32 = general::S_IFMT;
pub const S_IFDIR: u32 = general::S_IFDIR;
pub const S_IFREG: u32 = general::S_IFREG;
pub const S_IFLNK: u32 = general::S_IFLNK;
pub const S_IFIFO: u32 = general::S_IFIFO;
/// The set-user-ID and set-group-ID bits of a mode.
pub const S_ISUID: u32 = general::S_ISUID;
pub const S_ISGID: u32 = general::S_ISGID;
pub const SEEK_SET: usize = general::SEEK_SET as usize;
pub const SEEK_CUR: usize = general::SEEK_CUR as usize;
/// utimensat's "now" in a timespec's nsec.
pub const UTIME_NOW: i64 = general::UTIME_NOW as i64;

// Memory.
pub const PROT_NONE: usize = general::PROT_NONE as usize;
pub const PROT_READ: usize = general::PROT_READ as usize;
pub const PROT_WRITE: usize = general::PROT_WRITE as usize;
pub const PROT_EXEC: usize = general::PROT_EXEC as usize;
pub const PROT_GROWSDOWN: usize = general::PROT_GROWSDOWN as usize;
pub const MAP_PRIVATE: usize = general::MAP_PRIVATE as usize;
pub const MAP_SHARED: usize = general::MAP_SHARED as usize;
pub const MAP_FIXED: usize = general::MAP_FIXED as usize;
pub const MAP_ANONYMOUS: usize = general::MAP_ANONYMOUS as usize;
pub const POLLNVAL: u16 = general::POLLNVAL as u16;
/// waitid's idtype for a pidfd.
pub const P_PIDFD: usize = general::P_PIDFD as usize;
pub const MAP_NORESERVE: usize = general::MAP_NORESERVE as usize;
pub const MAP_FIXED_NOREPLACE: usize = general::MAP_FIXED_NOREPLACE as usize;
pub const MREMAP_FIXED: usize = general::MREMAP_FIXED as usize;
pub const MADV_GUARD_INSTALL: usize = general::MADV_GUARD_INSTALL as usize;
/// madvise advice that leaves every page readable and writable (dropped
/// pages read as zeros or from their file again).
pub const MADV_KEEPING_ACCESS: [u32; 21] = {
    use general::*;
    [
        MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_DONTFORK, MADV_DOFORK,
        MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK,
        MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_COLLAPSE,
    ]
};

/// The advice of MADV_KEEPING_ACCESS that never waits long (not
/// MADV_PAGEOUT, MADV_POPULATE_*, MADV_COLLAPSE): madvise with it is made
/// in the fast path's handler gate (memory::serve_in_gate).
pub const MADV_IN_GATE: [u32; 17] = {
    use general::*;
    [
        MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_DONTFORK, MADV_DOFORK,
        MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK,
        MADV_KEEPONFORK, MADV_COLD,
    ]
};

// Processes and resources.
pub const CLONE_VM: u64 = general::CLONE_VM as u64;
pub const CLONE_VFORK: u64 = general::CLONE_VFORK as u64;
pub const CLONE_FILES: u64 = general::CLONE_FILES as u64;
pub const CLONE_FS: u64 = general::CLONE_FS as u64;
pub const CLONE_SIGHAND: u64 = general::CLONE_SIGHAND as u64;
pub const CLONE_THREAD: u64 = general::CLONE_THREAD as u64;
pub const CLONE_CLEAR_SIGHAND: u64 = general::CLONE_CLEAR_SIGHAND;
pub const RLIMIT_NOFILE: usize = general::RLIMIT_NOFILE as usize;
pub const CLOCK_REALTIME: usize = general::CLOCK_REALTIME as usize;
pub const CLOCK_MONOTONIC: usize = general::CLOCK_MONOTONIC as usize;
pub const CLOCK_THREAD_CPUTIME_ID: usize = general::CLOCK_THREAD_CPUTIME_ID as usize;

// Clocks and timers (clock.rs, clockcalls.rs: virtual time).
pub const CLOCK_PROCESS_CPUTIME_ID: usize = general::CLOCK_PROCESS_CPUTIME_ID as usize;
pub const CLOCK_MONOTONIC_RAW: usize = general::CLOCK_MONOTONIC_RAW as usize;
pub const CLOCK_REALTIME_COARSE: usize = general::CLOCK_REALTIME_COARSE as usize;
pub const CLOCK_MONOTONIC_COARSE: usize = general::CLOCK_MONOTONIC_COARSE as usize;
pub const CLOCK_BOOTTIME: usize = general::CLOCK_BOOTTIME as usize;
pub const CLOCK_REALTIME_ALARM: usize = general::CLOCK_REALTIME_ALARM as usize;
pub const CLOCK_BOOTTIME_ALARM: usize = general::CLOCK_BOOTTIME_ALARM as usize;
pub const CLOCK_TAI: usize = general::CLOCK_TAI as usize;
/// clock_nanosleep's and timer_settime's flag.
pub const TIMER_ABSTIME: usize = general::TIMER_ABSTIME as usize;
pub const TFD_TIMER_ABSTIME: usize = general::TFD_TIMER_ABSTIME as usize;
/// futex(2)'s operations whose timeout is a deadline, and its flags.
pub const FUTEX_CMD_MASK: usize = general::FUTEX_CMD_MASK as u32 as usize;
pub const FUTEX_WAIT_PRIVATE: usize = general::FUTEX_WAIT_PRIVATE as usize;
pub const FUTEX_WAKE_PRIVATE: usize = general::FUTEX_WAKE_PRIVATE as usize;
pub const FUTEX_CLOCK_REALTIME: usize = general::FUTEX_CLOCK_REALTIME as usize;
pub const FUTEX_LOCK_PI: usize = general::FUTEX_LOCK_PI as usize;
pub const FUTEX_WAIT_BITSET: usize = general::FUTEX_WAIT_BITSET as usize;
pub const FUTEX_WAIT_REQUEUE_PI: usize = general::FUTEX_WAIT_REQUEUE_PI as usize;
pub const FUTEX_LOCK_PI2: usize = general::FUTEX_LOCK_PI2 as usize;
pub const PTRACE_TRACEME: usize = ptrace::PTRACE_TRACEME as usize;

// Signals: numbers, actions, masks, stacks, siginfo codes.
pub const SIGKILL: usize = general::SIGKILL as usize;
pub const SIGSEGV: usize = general::SIGSEGV as usize;
pub const SIGBUS: usize = general::SIGBUS as usize;
pub const SIGILL: usize = general::SIGILL as usize;
pub const SIGFPE: usize = general::SIGFPE as usize;
pub const SIGTRAP: usize = general::SIGTRAP as usize;
pub const SIGCHLD: usize = general::SIGCHLD as usize;
pub const SIGSTOP: usize = general::SIGSTOP as usize;
pub const SIGSYS: usize = general::SIGSYS as usize;
/// The first realtime signal as the kernel numbers them (glibc keeps 32
/// and 33 for itself; SIGRTMIN in C is 34).
pub const SIGRTMIN_KERNEL: usize = general::SIGRTMIN as usize;
/// si_code of a signal the kernel sent (as strace's injected ones).
pub const SI_KERNEL: i32 = general::SI_KERNEL as i32;
/// si_code of a signal sent with sigqueue (rt_sigqueueinfo).
pub const SI_QUEUE: i32 = general::SI_QUEUE;
/// statfs's f_type of a procfs.
pub const PROC_SUPER_MAGIC: u64 = general::PROC_SUPER_MAGIC as u64;
/// statfs's f_flags bit of a mount without device opens (its value is the
/// mount flag's, MS_NODEV, which linux-raw-sys carries; ST_NODEV is libc's).
pub const ST_NODEV: u64 = general::MS_NODEV as u64;
/// close_range's flag that gives the caller an fd table of its own
/// (linux/close_range.h, which linux-raw-sys does not carry).
pub const CLOSE_RANGE_UNSHARE: usize = 1 << 1;
/// close_range's flag that sets close-on-exec instead of closing (the same
/// header).
pub const CLOSE_RANGE_CLOEXEC: usize = 1 << 2;
/// The handler values of `SIG_DFL` and `SIG_IGN` (asm-generic/signal-defs.h
/// defines them as casts, which linux-raw-sys does not carry).
pub const SIG_DFL: usize = 0;
pub const SIG_IGN: usize = 1;
pub const SA_NOCLDSTOP: usize = general::SA_NOCLDSTOP as usize;
pub const SA_NOCLDWAIT: usize = general::SA_NOCLDWAIT as usize;
pub const SA_SIGINFO: usize = general::SA_SIGINFO as usize;
pub const SA_EXPOSE_TAGBITS: usize = general::SA_EXPOSE_TAGBITS as usize;
pub const SA_RESTORER: usize = general::SA_RESTORER as usize;
pub const SA_ONSTACK: usize = general::SA_ONSTACK as usize;
pub const SA_RESTART: usize = general::SA_RESTART as usize;
pub const SA_NODEFER: usize = general::SA_NODEFER as usize;
pub const SA_RESETHAND: usize = general::SA_RESETHAND as usize;
pub const SIG_BLOCK: usize = general::SIG_BLOCK as usize;
pub const SIG_UNBLOCK: usize = general::SIG_UNBLOCK as usize;
pub const SIG_SETMASK: usize = general::SIG_SETMASK as usize;
pub const MINSIGSTKSZ: usize = general::MINSIGSTKSZ as usize;
pub const SS_ONSTACK: i32 = general::SS_ONSTACK as i32;
pub const SS_DISABLE: i32 = general::SS_DISABLE as i32;
pub const SS_AUTODISARM: i32 = general::SS_AUTODISARM as i32;
pub const SYS_SECCOMP: i32 = general::SYS_SECCOMP as i32;
pub const SYS_USER_DISPATCH: i32 = general::SYS_USER_DISPATCH as i32;
pub const CLD_KILLED: i32 = general::CLD_KILLED as i32;
pub const CLD_DUMPED: i32 = general::CLD_DUMPED as i32;

// prctl, seccomp, Landlock.
pub const PR_SET_SYSCALL_USER_DISPATCH: usize = prctl::PR_SET_SYSCALL_USER_DISPATCH as usize;
pub const PR_SYS_DISPATCH_OFF: usize = prctl::PR_SYS_DISPATCH_OFF as usize;
pub const PR_SYS_DISPATCH_ON: usize = prctl::PR_SYS_DISPATCH_ON as usize;
pub const PR_GET_SECCOMP: usize = prctl::PR_GET_SECCOMP as usize;
pub const PR_SET_SECCOMP: usize = prctl::PR_SET_SECCOMP as usize;
pub const PR_SET_NO_NEW_PRIVS: usize = prctl::PR_SET_NO_NEW_PRIVS as usize;
pub const PR_SET_NAME: usize = prctl::PR_SET_NAME as usize;
pub const PR_SET_MM: usize = prctl::PR_SET_MM as usize;
pub const PR_SET_MM_MAP: usize = prctl::PR_SET_MM_MAP as usize;
pub use prctl::prctl_mm_map as PrctlMmMap;
pub const SECCOMP_SET_MODE_FILTER: usize = ptrace::SECCOMP_SET_MODE_FILTER as usize;
pub const SECCOMP_RET_ALLOW: u32 = ptrace::SECCOMP_RET_ALLOW;
pub const SECCOMP_RET_ERRNO: u32 = ptrace::SECCOMP_RET_ERRNO;
pub const AUDIT_ARCH_X86_64: u32 = ptrace::AUDIT_ARCH_X86_64;
/// The bit of x32 system call numbers.
pub const X32_SYSCALL_BIT: u32 = general::__X32_SYSCALL_BIT;
/// Classic BPF opcodes (linux/bpf_common.h), as a filter's `code` field.
pub const BPF_LD: u16 = ptrace::BPF_LD as u16;
pub const BPF_W: u16 = ptrace::BPF_W as u16;
pub const BPF_ABS: u16 = ptrace::BPF_ABS as u16;
pub const BPF_JMP: u16 = ptrace::BPF_JMP as u16;
pub const BPF_JEQ: u16 = ptrace::BPF_JEQ as u16;
pub const BPF_JGE: u16 = ptrace::BPF_JGE as u16;
pub const BPF_JSET: u16 = ptrace::BPF_JSET as u16;
pub const BPF_RET: u16 = ptrace::BPF_RET as u16;
pub const BPF_K: u16 = ptrace::BPF_K as u16;
pub const LANDLOCK_CREATE_RULESET_VERSION: usize = landlock::LANDLOCK_CREATE_RULESET_VERSION as usize;
pub const LANDLOCK_RULE_PATH_BENEATH: usize = landlock::landlock_rule_type::LANDLOCK_RULE_PATH_BENEATH as usize;
pub const LANDLOCK_ACCESS_FS_EXECUTE: u64 = landlock::LANDLOCK_ACCESS_FS_EXECUTE as u64;
pub const LANDLOCK_ACCESS_FS_READ_FILE: u64 = landlock::LANDLOCK_ACCESS_FS_READ_FILE as u64;
pub const LANDLOCK_ACCESS_FS_READ_DIR: u64 = landlock::LANDLOCK_ACCESS_FS_READ_DIR as u64;
pub const LANDLOCK_ACCESS_FS_WRITE_FILE: u64 = landlock::LANDLOCK_ACCESS_FS_WRITE_FILE as u64;
pub const LANDLOCK_ACCESS_FS_MAKE_SYM: u64 = landlock::LANDLOCK_ACCESS_FS_MAKE_SYM as u64;
pub const LANDLOCK_ACCESS_FS_REFER: u64 = landlock::LANDLOCK_ACCESS_FS_REFER as u64;
pub const LANDLOCK_ACCESS_FS_TRUNCATE: u64 = landlock::LANDLOCK_ACCESS_FS_TRUNCATE as u64;
pub const LANDLOCK_ACCESS_FS_IOCTL_DEV: u64 = landlock::LANDLOCK_ACCESS_FS_IOCTL_DEV as u64;
pub const LANDLOCK_ACCESS_NET_BIND_TCP: u64 = landlock::LANDLOCK_ACCESS_NET_BIND_TCP as u64;
pub const LANDLOCK_ACCESS_NET_CONNECT_TCP: u64 = landlock::LANDLOCK_ACCESS_NET_CONNECT_TCP as u64;
pub const LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET: u64 = landlock::LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET as u64;
pub const LANDLOCK_SCOPE_SIGNAL: u64 = landlock::LANDLOCK_SCOPE_SIGNAL as u64;

// Terminals: the ioctl requests a session refuses.
pub const TIOCSTI: u32 = ioctl::TIOCSTI;
pub const TIOCLINUX: u32 = ioctl::TIOCLINUX;
pub const TIOCSCTTY: u32 = ioctl::TIOCSCTTY;
pub const TIOCSETD: u32 = ioctl::TIOCSETD;
pub const TIOCCONS: u32 = ioctl::TIOCCONS;

// userfaultfd's ioctls (memory.rs): their type, and each command's number.
pub const UFFDIO: u32 = general::UFFDIO;
// The ioctls that name fds besides the one they are made on (fds.rs).
pub const FICLONE: u32 = ioctl::FICLONE;
pub const FICLONERANGE: u32 = ioctl::FICLONERANGE;
pub const FIDEDUPERANGE: u32 = ioctl::FIDEDUPERANGE;
/// struct file_clone_range's size and where its src_fd (s64) lies.
pub const CLONE_RANGE_SIZE: usize = core::mem::size_of::<general::file_clone_range>();
pub const CLONE_RANGE_SRC_FD_AT: usize = core::mem::offset_of!(general::file_clone_range, src_fd);
/// struct file_dedupe_range: the header's size (where its array starts),
/// where dest_count (u16) lies, and the size of each struct
/// file_dedupe_range_info of the array and where its dest_fd (s64) lies.
pub const DEDUPE_HEADER: usize = core::mem::offset_of!(general::file_dedupe_range, info);
pub const DEDUPE_COUNT_AT: usize = core::mem::offset_of!(general::file_dedupe_range, dest_count);
pub const DEDUPE_INFO: usize = core::mem::size_of::<general::file_dedupe_range_info>();
pub const DEDUPE_DEST_FD_AT: usize = core::mem::offset_of!(general::file_dedupe_range_info, dest_fd);
pub use general::{_UFFDIO_CONTINUE, _UFFDIO_COPY, _UFFDIO_MOVE, _UFFDIO_POISON, _UFFDIO_REGISTER, _UFFDIO_UNREGISTER, _UFFDIO_WAKE, _UFFDIO_WRITEPROTECT, _UFFDIO_ZEROPAGE};

// Sockets.
pub const AF_UNIX: u32 = net::AF_UNIX;
pub const AF_INET: u32 = net::AF_INET;
pub const AF_INET6: u32 = net::AF_INET6;
pub const SOL_SOCKET: i32 = net::SOL_SOCKET as i32;
pub const SO_TYPE: i32 = net::SO_TYPE as i32;
pub const SO_PEERCRED: i32 = net::SO_PEERCRED as i32;
pub const SO_PASSRIGHTS: u32 = net::SO_PASSRIGHTS;
pub const SCM_RIGHTS: i32 = net::SCM_RIGHTS as i32;
pub const MSG_DONTWAIT: usize = net::MSG_DONTWAIT as usize;
pub const POLLIN: u16 = general::POLLIN as u16;
pub const MSG_NOSIGNAL: usize = net::MSG_NOSIGNAL as usize;
pub const MSG_CMSG_CLOEXEC: usize = net::MSG_CMSG_CLOEXEC as usize;
pub const MSG_CTRUNC: usize = net::MSG_CTRUNC as usize;
pub const SOCK_SEQPACKET: usize = net::SOCK_SEQPACKET as usize;
pub const SOCK_DGRAM: u32 = net::SOCK_DGRAM;
pub const SOCK_CLOEXEC: usize = general::O_CLOEXEC as usize;

// strace -yy's devices (trace/fdinfo.rs).
pub const S_IFCHR: u32 = general::S_IFCHR;
pub const S_IFBLK: u32 = general::S_IFBLK;

// SysV shared memory (memory.rs), which linux-raw-sys does not have:
// include/uapi/linux/shm.h and ipc.h.
/// shmat: round the address down to SHMLBA (a page on x86-64).
pub const SHM_RND: usize = 0o20000;
/// shmat: replace what is mapped there.
pub const SHM_REMAP: usize = 0o40000;
/// kcmp(2)'s type: do the two processes share their memory
/// (<linux/kcmp.h>, which linux-raw-sys lacks).
pub const KCMP_VM: usize = 1;
/// shmctl: the segment's struct shmid64_ds.
pub const IPC_STAT: usize = 2;
/// struct shmid64_ds's shm_segsz, in u64 words: after the 48 bytes of
/// struct ipc64_perm.
pub const SHMID64_DS_SEGSZ_WORD: usize = 6;
