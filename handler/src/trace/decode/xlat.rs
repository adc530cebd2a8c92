//! Symbolic names of the constants the decoder prints (x86_64 Linux values),
//! ordered the way strace lists them, since a flag set prints in table order.

/// A flag of a set, named when `value & m == v`; its `m` bits are then used
/// up. Most flags are single bits (`m == v`); a field inside a wider mask
/// (O_ACCMODE, MAP_TYPE, the socket type) lists one entry per value, and a
/// zero value names the empty field (`AT_STATX_SYNC_AS_STAT`, `PROT_NONE`).
pub(super) struct Flag {
    pub v: u64,
    pub m: u64,
    pub n: &'static str,
}

const fn b(v: u64, n: &'static str) -> Flag {
    Flag { v, m: v, n }
}

const fn f(v: u64, m: u64, n: &'static str) -> Flag {
    Flag { v, m, n }
}

/// Named values of an enumeration. A value it lacks prints as
/// `0x9 /* SEEK_??? */` as strace does, with `unknown` as the stem (or as
/// plain hex when `unknown` is empty).
pub(super) struct Xlat {
    pub unknown: &'static str,
    pub v: &'static [(u32, &'static str)],
}

impl Xlat {
    pub fn get(&self, v: u32) -> Option<&'static str> {
        self.v.iter().find(|e| e.0 == v).map(|e| e.1)
    }
}

/// Signal names by number (1..=31); 32 is SIGRTMIN and 33.. SIGRT_n, as strace writes them.
pub(super) static SIGNALS: [&str; 32] = [
    "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
    "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
    "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
    "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

pub(super) const O_CREAT: u64 = 0o100;
pub(super) const O_TMPFILE_BIT: u64 = 0o20000000;

/// Open flags other than the access mode (printed first, on its own).
pub(super) static O_FLAGS: &[Flag] = &[
    b(0o100, "O_CREAT"),
    b(0o200, "O_EXCL"),
    b(0o400, "O_NOCTTY"),
    b(0o1000, "O_TRUNC"),
    b(0o2000, "O_APPEND"),
    b(0o4000, "O_NONBLOCK"),
    b(0o4010000, "O_SYNC"), // before O_DSYNC, whose bit it includes
    b(0o10000, "O_DSYNC"),
    b(0o20000, "O_ASYNC"),
    b(0o40000, "O_DIRECT"),
    b(0o100000, "O_LARGEFILE"),
    b(0o400000, "O_NOFOLLOW"),
    b(0o1000000, "O_NOATIME"),
    b(0o2000000, "O_CLOEXEC"),
    b(0o10000000, "O_PATH"),
    b(0o20200000, "O_TMPFILE"), // before O_DIRECTORY, whose bit it includes
    b(0o200000, "O_DIRECTORY"),
];

pub(super) static ACCESS: &[Flag] =
    &[f(0, 7, "F_OK"), b(4, "R_OK"), b(2, "W_OK"), b(1, "X_OK")];

pub(super) static AT: &[Flag] = &[
    b(0x100, "AT_SYMLINK_NOFOLLOW"),
    b(0x200, "AT_REMOVEDIR"),
    b(0x400, "AT_SYMLINK_FOLLOW"),
    b(0x800, "AT_NO_AUTOMOUNT"),
    b(0x1000, "AT_EMPTY_PATH"),
    b(0x8000, "AT_RECURSIVE"),
];

/// faccessat2: 0x200 is AT_EACCESS there, not AT_REMOVEDIR.
pub(super) static AT_ACCESS: &[Flag] =
    &[b(0x100, "AT_SYMLINK_NOFOLLOW"), b(0x200, "AT_EACCESS"), b(0x1000, "AT_EMPTY_PATH")];

pub(super) static AT_STATX: &[Flag] = &[
    f(0, 0x6000, "AT_STATX_SYNC_AS_STAT"),
    f(0x2000, 0x6000, "AT_STATX_FORCE_SYNC"),
    f(0x4000, 0x6000, "AT_STATX_DONT_SYNC"),
    b(0x100, "AT_SYMLINK_NOFOLLOW"),
    b(0x800, "AT_NO_AUTOMOUNT"),
    b(0x1000, "AT_EMPTY_PATH"),
];

pub(super) static STATX_MASK: &[Flag] = &[
    b(0xfff, "STATX_ALL"),
    b(0x7ff, "STATX_BASIC_STATS"),
    b(0x1, "STATX_TYPE"),
    b(0x2, "STATX_MODE"),
    b(0x4, "STATX_NLINK"),
    b(0x8, "STATX_UID"),
    b(0x10, "STATX_GID"),
    b(0x20, "STATX_ATIME"),
    b(0x40, "STATX_MTIME"),
    b(0x80, "STATX_CTIME"),
    b(0x100, "STATX_INO"),
    b(0x200, "STATX_SIZE"),
    b(0x400, "STATX_BLOCKS"),
    b(0x800, "STATX_BTIME"),
    b(0x1000, "STATX_MNT_ID"),
    b(0x2000, "STATX_DIOALIGN"),
    b(0x4000, "STATX_MNT_ID_UNIQUE"),
    b(0x8000, "STATX_SUBVOL"),
    b(0x10000, "STATX_WRITE_ATOMIC"),
    b(0x20000, "STATX_DIO_READ_ALIGN"),
];

pub(super) static STATX_ATTR: &[Flag] = &[
    b(0x4, "STATX_ATTR_COMPRESSED"),
    b(0x10, "STATX_ATTR_IMMUTABLE"),
    b(0x20, "STATX_ATTR_APPEND"),
    b(0x40, "STATX_ATTR_NODUMP"),
    b(0x800, "STATX_ATTR_ENCRYPTED"),
    b(0x1000, "STATX_ATTR_AUTOMOUNT"),
    b(0x2000, "STATX_ATTR_MOUNT_ROOT"),
    b(0x100000, "STATX_ATTR_VERITY"),
    b(0x200000, "STATX_ATTR_DAX"),
    b(0x400000, "STATX_ATTR_WRITE_ATOMIC"),
];

pub(super) static FILE_TYPES: &[(u32, &str)] = &[
    (0o140000, "S_IFSOCK"),
    (0o120000, "S_IFLNK"),
    (0o100000, "S_IFREG"),
    (0o060000, "S_IFBLK"),
    (0o040000, "S_IFDIR"),
    (0o020000, "S_IFCHR"),
    (0o010000, "S_IFIFO"),
];

pub(super) static PROT: &[Flag] = &[
    f(0, u64::MAX, "PROT_NONE"),
    b(1, "PROT_READ"),
    b(2, "PROT_WRITE"),
    b(4, "PROT_EXEC"),
    b(8, "PROT_SEM"),
    b(0x1000000, "PROT_GROWSDOWN"),
    b(0x2000000, "PROT_GROWSUP"),
];

pub(super) static MAP: &[Flag] = &[
    f(1, 0xf, "MAP_SHARED"),
    f(2, 0xf, "MAP_PRIVATE"),
    f(3, 0xf, "MAP_SHARED_VALIDATE"),
    b(0x10, "MAP_FIXED"),
    b(0x20, "MAP_ANONYMOUS"),
    b(0x40, "MAP_32BIT"),
    b(0x100, "MAP_GROWSDOWN"),
    b(0x800, "MAP_DENYWRITE"),
    b(0x1000, "MAP_EXECUTABLE"),
    b(0x2000, "MAP_LOCKED"),
    b(0x4000, "MAP_NORESERVE"),
    b(0x8000, "MAP_POPULATE"),
    b(0x10000, "MAP_NONBLOCK"),
    b(0x20000, "MAP_STACK"),
    b(0x40000, "MAP_HUGETLB"),
    b(0x80000, "MAP_SYNC"),
    b(0x100000, "MAP_FIXED_NOREPLACE"),
    b(0x4000000, "MAP_UNINITIALIZED"),
];

pub(super) static MREMAP: &[Flag] =
    &[b(1, "MREMAP_MAYMOVE"), b(2, "MREMAP_FIXED"), b(4, "MREMAP_DONTUNMAP")];
pub(super) static MSYNC: &[Flag] = &[b(1, "MS_ASYNC"), b(2, "MS_INVALIDATE"), b(4, "MS_SYNC")];
pub(super) static MCL: &[Flag] = &[b(1, "MCL_CURRENT"), b(2, "MCL_FUTURE"), b(4, "MCL_ONFAULT")];
pub(super) static MLOCK: &[Flag] = &[b(1, "MLOCK_ONFAULT")];

pub(super) static CLONE: &[Flag] = &[
    b(0x80, "CLONE_NEWTIME"),
    b(0x100, "CLONE_VM"),
    b(0x200, "CLONE_FS"),
    b(0x400, "CLONE_FILES"),
    b(0x800, "CLONE_SIGHAND"),
    b(0x1000, "CLONE_PIDFD"),
    b(0x2000, "CLONE_PTRACE"),
    b(0x4000, "CLONE_VFORK"),
    b(0x8000, "CLONE_PARENT"),
    b(0x10000, "CLONE_THREAD"),
    b(0x20000, "CLONE_NEWNS"),
    b(0x40000, "CLONE_SYSVSEM"),
    b(0x80000, "CLONE_SETTLS"),
    b(0x100000, "CLONE_PARENT_SETTID"),
    b(0x200000, "CLONE_CHILD_CLEARTID"),
    b(0x400000, "CLONE_DETACHED"),
    b(0x800000, "CLONE_UNTRACED"),
    b(0x1000000, "CLONE_CHILD_SETTID"),
    b(0x2000000, "CLONE_NEWCGROUP"),
    b(0x4000000, "CLONE_NEWUTS"),
    b(0x8000000, "CLONE_NEWIPC"),
    b(0x10000000, "CLONE_NEWUSER"),
    b(0x20000000, "CLONE_NEWPID"),
    b(0x40000000, "CLONE_NEWNET"),
    b(0x80000000, "CLONE_IO"),
    b(0x100000000, "CLONE_CLEAR_SIGHAND"),
    b(0x200000000, "CLONE_INTO_CGROUP"),
];
pub(super) const CLONE_PIDFD: u64 = 0x1000;
pub(super) const CLONE_SETTLS: u64 = 0x80000;
pub(super) const CLONE_PARENT_SETTID: u64 = 0x100000;
pub(super) const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub(super) const CLONE_CHILD_SETTID: u64 = 0x1000000;
pub(super) const CLONE_INTO_CGROUP: u64 = 0x200000000;

pub(super) const SA_RESTORER: u64 = 0x04000000;
pub(super) static SA: &[Flag] = &[
    b(0x04000000, "SA_RESTORER"),
    b(0x08000000, "SA_ONSTACK"),
    b(0x10000000, "SA_RESTART"),
    b(0x40000000, "SA_NODEFER"),
    b(0x80000000, "SA_RESETHAND"),
    b(4, "SA_SIGINFO"),
    b(1, "SA_NOCLDSTOP"),
    b(2, "SA_NOCLDWAIT"),
    b(0x400, "SA_UNSUPPORTED"),
    b(0x800, "SA_EXPOSE_TAGBITS"),
];

pub(super) static WAIT4: &[Flag] = &[
    b(1, "WNOHANG"),
    b(2, "WUNTRACED"),
    b(8, "WCONTINUED"),
    b(0x20000000, "__WNOTHREAD"),
    b(0x40000000, "__WALL"),
    b(0x80000000, "__WCLONE"),
];
pub(super) static WAITID: &[Flag] = &[
    b(1, "WNOHANG"),
    b(2, "WSTOPPED"),
    b(4, "WEXITED"),
    b(8, "WCONTINUED"),
    b(0x1000000, "WNOWAIT"),
    b(0x20000000, "__WNOTHREAD"),
    b(0x40000000, "__WALL"),
    b(0x80000000, "__WCLONE"),
];

pub(super) static SOCK_TYPE: &[Flag] = &[
    f(1, 0xf, "SOCK_STREAM"),
    f(2, 0xf, "SOCK_DGRAM"),
    f(3, 0xf, "SOCK_RAW"),
    f(4, 0xf, "SOCK_RDM"),
    f(5, 0xf, "SOCK_SEQPACKET"),
    f(6, 0xf, "SOCK_DCCP"),
    f(10, 0xf, "SOCK_PACKET"),
    b(0o2000000, "SOCK_CLOEXEC"),
    b(0o4000, "SOCK_NONBLOCK"),
];
pub(super) static SOCK_FLAGS: &[Flag] = &[b(0o2000000, "SOCK_CLOEXEC"), b(0o4000, "SOCK_NONBLOCK")];

pub(super) static MSG: &[Flag] = &[
    b(0x1, "MSG_OOB"),
    b(0x2, "MSG_PEEK"),
    b(0x4, "MSG_DONTROUTE"),
    b(0x8, "MSG_CTRUNC"),
    b(0x10, "MSG_PROXY"),
    b(0x20, "MSG_TRUNC"),
    b(0x40, "MSG_DONTWAIT"),
    b(0x80, "MSG_EOR"),
    b(0x100, "MSG_WAITALL"),
    b(0x200, "MSG_FIN"),
    b(0x400, "MSG_SYN"),
    b(0x800, "MSG_CONFIRM"),
    b(0x1000, "MSG_RST"),
    b(0x2000, "MSG_ERRQUEUE"),
    b(0x4000, "MSG_NOSIGNAL"),
    b(0x8000, "MSG_MORE"),
    b(0x10000, "MSG_WAITFORONE"),
    b(0x40000, "MSG_BATCH"),
    b(0x2000000, "MSG_SOCK_DEVMEM"),
    b(0x4000000, "MSG_ZEROCOPY"),
    b(0x20000000, "MSG_FASTOPEN"),
    b(0x40000000, "MSG_CMSG_CLOEXEC"),
];

pub(super) static FD_FLAGS: &[Flag] = &[b(1, "FD_CLOEXEC")];
pub(super) static SEALS: &[Flag] = &[
    b(1, "F_SEAL_SEAL"),
    b(2, "F_SEAL_SHRINK"),
    b(4, "F_SEAL_GROW"),
    b(8, "F_SEAL_WRITE"),
    b(0x10, "F_SEAL_FUTURE_WRITE"),
    b(0x20, "F_SEAL_EXEC"),
];
pub(super) static LOCK: &[Flag] = &[b(1, "LOCK_SH"), b(2, "LOCK_EX"), b(4, "LOCK_NB"), b(8, "LOCK_UN")];
pub(super) static XATTR: &[Flag] = &[b(1, "XATTR_CREATE"), b(2, "XATTR_REPLACE")];
pub(super) static RENAME: &[Flag] =
    &[b(1, "RENAME_NOREPLACE"), b(2, "RENAME_EXCHANGE"), b(4, "RENAME_WHITEOUT")];
pub(super) static UMOUNT: &[Flag] =
    &[b(1, "MNT_FORCE"), b(2, "MNT_DETACH"), b(4, "MNT_EXPIRE"), b(8, "UMOUNT_NOFOLLOW")];
pub(super) static MOUNT: &[Flag] = &[
    b(1, "MS_RDONLY"),
    b(2, "MS_NOSUID"),
    b(4, "MS_NODEV"),
    b(8, "MS_NOEXEC"),
    b(0x10, "MS_SYNCHRONOUS"),
    b(0x20, "MS_REMOUNT"),
    b(0x40, "MS_MANDLOCK"),
    b(0x80, "MS_DIRSYNC"),
    b(0x100, "MS_NOSYMFOLLOW"),
    b(0x400, "MS_NOATIME"),
    b(0x800, "MS_NODIRATIME"),
    b(0x1000, "MS_BIND"),
    b(0x2000, "MS_MOVE"),
    b(0x4000, "MS_REC"),
    b(0x8000, "MS_SILENT"),
    b(0x10000, "MS_POSIXACL"),
    b(0x20000, "MS_UNBINDABLE"),
    b(0x40000, "MS_PRIVATE"),
    b(0x80000, "MS_SLAVE"),
    b(0x100000, "MS_SHARED"),
    b(0x200000, "MS_RELATIME"),
    b(0x400000, "MS_KERNMOUNT"),
    b(0x800000, "MS_I_VERSION"),
    b(0x1000000, "MS_STRICTATIME"),
    b(0x2000000, "MS_LAZYTIME"),
    f(0xc0ed0000, 0xffff0000, "MS_MGC_VAL"),
];
pub(super) static INOTIFY: &[Flag] = &[
    b(0x1, "IN_ACCESS"),
    b(0x2, "IN_MODIFY"),
    b(0x4, "IN_ATTRIB"),
    b(0x8, "IN_CLOSE_WRITE"),
    b(0x10, "IN_CLOSE_NOWRITE"),
    b(0x20, "IN_OPEN"),
    b(0x40, "IN_MOVED_FROM"),
    b(0x80, "IN_MOVED_TO"),
    b(0x100, "IN_CREATE"),
    b(0x200, "IN_DELETE"),
    b(0x400, "IN_DELETE_SELF"),
    b(0x800, "IN_MOVE_SELF"),
    b(0x2000, "IN_UNMOUNT"),
    b(0x4000, "IN_Q_OVERFLOW"),
    b(0x8000, "IN_IGNORED"),
    b(0x1000000, "IN_ONLYDIR"),
    b(0x2000000, "IN_DONT_FOLLOW"),
    b(0x4000000, "IN_EXCL_UNLINK"),
    b(0x10000000, "IN_MASK_CREATE"),
    b(0x20000000, "IN_MASK_ADD"),
    b(0x40000000, "IN_ISDIR"),
    b(0x80000000, "IN_ONESHOT"),
];
pub(super) static IN_INIT: &[Flag] = &[b(0o4000, "IN_NONBLOCK"), b(0o2000000, "IN_CLOEXEC")];
pub(super) static EFD: &[Flag] =
    &[b(1, "EFD_SEMAPHORE"), b(0o4000, "EFD_NONBLOCK"), b(0o2000000, "EFD_CLOEXEC")];
pub(super) static SFD: &[Flag] = &[b(0o4000, "SFD_NONBLOCK"), b(0o2000000, "SFD_CLOEXEC")];
pub(super) static TFD: &[Flag] = &[b(0o4000, "TFD_NONBLOCK"), b(0o2000000, "TFD_CLOEXEC")];
pub(super) static TFD_TIMER: &[Flag] = &[b(1, "TFD_TIMER_ABSTIME"), b(2, "TFD_TIMER_CANCEL_ON_SET")];
pub(super) static TIMER: &[Flag] = &[b(1, "TIMER_ABSTIME")];
pub(super) static EPOLL: &[Flag] = &[b(0o2000000, "EPOLL_CLOEXEC")];
pub(super) static SPLICE: &[Flag] =
    &[b(1, "SPLICE_F_MOVE"), b(2, "SPLICE_F_NONBLOCK"), b(4, "SPLICE_F_MORE"), b(8, "SPLICE_F_GIFT")];
pub(super) static SYNC_RANGE: &[Flag] = &[
    b(1, "SYNC_FILE_RANGE_WAIT_BEFORE"),
    b(2, "SYNC_FILE_RANGE_WRITE"),
    b(4, "SYNC_FILE_RANGE_WAIT_AFTER"),
];
pub(super) static FALLOC: &[Flag] = &[
    b(1, "FALLOC_FL_KEEP_SIZE"),
    b(2, "FALLOC_FL_PUNCH_HOLE"),
    b(4, "FALLOC_FL_NO_HIDE_STALE"),
    b(8, "FALLOC_FL_COLLAPSE_RANGE"),
    b(0x10, "FALLOC_FL_ZERO_RANGE"),
    b(0x20, "FALLOC_FL_INSERT_RANGE"),
    b(0x40, "FALLOC_FL_UNSHARE_RANGE"),
];
pub(super) static MFD: &[Flag] = &[
    b(1, "MFD_CLOEXEC"),
    b(2, "MFD_ALLOW_SEALING"),
    b(4, "MFD_HUGETLB"),
    b(8, "MFD_NOEXEC_SEAL"),
    b(0x10, "MFD_EXEC"),
];
pub(super) static GRND: &[Flag] = &[b(1, "GRND_NONBLOCK"), b(2, "GRND_RANDOM"), b(4, "GRND_INSECURE")];
pub(super) static RWF: &[Flag] = &[
    b(1, "RWF_HIPRI"),
    b(2, "RWF_DSYNC"),
    b(4, "RWF_SYNC"),
    b(8, "RWF_NOWAIT"),
    b(0x10, "RWF_APPEND"),
    b(0x20, "RWF_NOAPPEND"),
    b(0x40, "RWF_ATOMIC"),
    b(0x80, "RWF_DONTCACHE"),
];
pub(super) static CLOSE_RANGE: &[Flag] = &[b(2, "CLOSE_RANGE_UNSHARE"), b(4, "CLOSE_RANGE_CLOEXEC")];
pub(super) static RESOLVE: &[Flag] = &[
    b(1, "RESOLVE_NO_XDEV"),
    b(2, "RESOLVE_NO_MAGICLINKS"),
    b(4, "RESOLVE_NO_SYMLINKS"),
    b(8, "RESOLVE_BENEATH"),
    b(0x10, "RESOLVE_IN_ROOT"),
    b(0x20, "RESOLVE_CACHED"),
];
pub(super) static POLL: &[Flag] = &[
    b(0x1, "POLLIN"),
    b(0x2, "POLLPRI"),
    b(0x4, "POLLOUT"),
    b(0x8, "POLLERR"),
    b(0x10, "POLLHUP"),
    b(0x20, "POLLNVAL"),
    b(0x40, "POLLRDNORM"),
    b(0x80, "POLLRDBAND"),
    b(0x100, "POLLWRNORM"),
    b(0x200, "POLLWRBAND"),
    b(0x400, "POLLMSG"),
    b(0x2000, "POLLRDHUP"),
];

macro_rules! xlat {
    ($name:ident, $unknown:literal, [$(($v:expr, $n:literal)),* $(,)?]) => {
        pub(super) static $name: Xlat = Xlat { unknown: $unknown, v: &[$(($v, $n)),*] };
    };
}

xlat!(WHENCE, "SEEK_", [(0, "SEEK_SET"), (1, "SEEK_CUR"), (2, "SEEK_END"), (3, "SEEK_DATA"), (4, "SEEK_HOLE")]);
xlat!(SIGHOW, "SIG_", [(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")]);
xlat!(ITIMER, "ITIMER_", [(0, "ITIMER_REAL"), (1, "ITIMER_VIRTUAL"), (2, "ITIMER_PROF")]);
xlat!(SHUT, "SHUT_", [(0, "SHUT_RD"), (1, "SHUT_WR"), (2, "SHUT_RDWR")]);
xlat!(PRIO, "PRIO_", [(0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER")]);
xlat!(RUSAGE, "RUSAGE_", [(0, "RUSAGE_SELF"), (0xffffffff, "RUSAGE_CHILDREN"), (1, "RUSAGE_THREAD")]);
xlat!(IDTYPE, "P_", [(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")]);
xlat!(EPOLL_CTL, "EPOLL_CTL_", [(1, "EPOLL_CTL_ADD"), (2, "EPOLL_CTL_DEL"), (3, "EPOLL_CTL_MOD")]);
xlat!(LEASE, "F_", [(0, "F_RDLCK"), (1, "F_WRLCK"), (2, "F_UNLCK")]);
xlat!(FUTEX_BITSET, "", [(0xffffffff, "FUTEX_BITSET_MATCH_ANY")]);
xlat!(SYS_DISPATCH, "PR_SYS_DISPATCH_", [(0, "PR_SYS_DISPATCH_OFF"), (1, "PR_SYS_DISPATCH_ON")]);
xlat!(PR_VMA, "PR_SET_VMA_", [(0, "PR_SET_VMA_ANON_NAME")]);
xlat!(SECCOMP_MODE, "SECCOMP_MODE_", [(0, "SECCOMP_MODE_DISABLED"), (1, "SECCOMP_MODE_STRICT"), (2, "SECCOMP_MODE_FILTER")]);
xlat!(SECCOMP_OP, "SECCOMP_", [
    (0, "SECCOMP_SET_MODE_STRICT"), (1, "SECCOMP_SET_MODE_FILTER"),
    (2, "SECCOMP_GET_ACTION_AVAIL"), (3, "SECCOMP_GET_NOTIF_SIZES"),
]);
xlat!(FADV, "POSIX_FADV_", [
    (0, "POSIX_FADV_NORMAL"), (1, "POSIX_FADV_RANDOM"), (2, "POSIX_FADV_SEQUENTIAL"),
    (3, "POSIX_FADV_WILLNEED"), (4, "POSIX_FADV_DONTNEED"), (5, "POSIX_FADV_NOREUSE"),
]);
xlat!(SCHED, "SCHED_", [
    (0, "SCHED_OTHER"), (1, "SCHED_FIFO"), (2, "SCHED_RR"), (3, "SCHED_BATCH"),
    (4, "SCHED_ISO"), (5, "SCHED_IDLE"), (6, "SCHED_DEADLINE"), (7, "SCHED_EXT"),
]);
xlat!(RLIMIT, "RLIMIT_", [
    (0, "RLIMIT_CPU"), (1, "RLIMIT_FSIZE"), (2, "RLIMIT_DATA"), (3, "RLIMIT_STACK"),
    (4, "RLIMIT_CORE"), (5, "RLIMIT_RSS"), (6, "RLIMIT_NPROC"), (7, "RLIMIT_NOFILE"),
    (8, "RLIMIT_MEMLOCK"), (9, "RLIMIT_AS"), (10, "RLIMIT_LOCKS"), (11, "RLIMIT_SIGPENDING"),
    (12, "RLIMIT_MSGQUEUE"), (13, "RLIMIT_NICE"), (14, "RLIMIT_RTPRIO"), (15, "RLIMIT_RTTIME"),
]);
xlat!(CLOCK, "CLOCK_", [
    (0, "CLOCK_REALTIME"), (1, "CLOCK_MONOTONIC"), (2, "CLOCK_PROCESS_CPUTIME_ID"),
    (3, "CLOCK_THREAD_CPUTIME_ID"), (4, "CLOCK_MONOTONIC_RAW"), (5, "CLOCK_REALTIME_COARSE"),
    (6, "CLOCK_MONOTONIC_COARSE"), (7, "CLOCK_BOOTTIME"), (8, "CLOCK_REALTIME_ALARM"),
    (9, "CLOCK_BOOTTIME_ALARM"), (11, "CLOCK_TAI"),
]);
xlat!(MADV, "MADV_", [
    (0, "MADV_NORMAL"), (1, "MADV_RANDOM"), (2, "MADV_SEQUENTIAL"), (3, "MADV_WILLNEED"),
    (4, "MADV_DONTNEED"), (8, "MADV_FREE"), (9, "MADV_REMOVE"), (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"), (12, "MADV_MERGEABLE"), (13, "MADV_UNMERGEABLE"), (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"), (16, "MADV_DONTDUMP"), (17, "MADV_DODUMP"), (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"), (20, "MADV_COLD"), (21, "MADV_PAGEOUT"), (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"), (24, "MADV_DONTNEED_LOCKED"), (25, "MADV_COLLAPSE"),
    (100, "MADV_HWPOISON"), (101, "MADV_SOFT_OFFLINE"), (102, "MADV_GUARD_INSTALL"),
    (103, "MADV_GUARD_REMOVE"),
]);
xlat!(ARCH, "ARCH_", [
    (0x1001, "ARCH_SET_GS"), (0x1002, "ARCH_SET_FS"), (0x1003, "ARCH_GET_FS"), (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"), (0x1012, "ARCH_SET_CPUID"), (0x1021, "ARCH_GET_XCOMP_SUPP"),
    (0x1022, "ARCH_GET_XCOMP_PERM"), (0x1023, "ARCH_REQ_XCOMP_PERM"),
    (0x1024, "ARCH_GET_XCOMP_GUEST_PERM"), (0x1025, "ARCH_REQ_XCOMP_GUEST_PERM"),
    (0x2001, "ARCH_MAP_VDSO_X32"), (0x2002, "ARCH_MAP_VDSO_32"), (0x2003, "ARCH_MAP_VDSO_64"),
    (0x4001, "ARCH_GET_UNTAG_MASK"), (0x4002, "ARCH_ENABLE_TAGGED_ADDR"),
    (0x4003, "ARCH_GET_MAX_TAG_BITS"), (0x4004, "ARCH_FORCE_TAGGED_SVA"),
    (0x5001, "ARCH_SHSTK_ENABLE"), (0x5002, "ARCH_SHSTK_DISABLE"), (0x5003, "ARCH_SHSTK_LOCK"),
    (0x5004, "ARCH_SHSTK_UNLOCK"), (0x5005, "ARCH_SHSTK_STATUS"),
]);
xlat!(FCNTL, "F_", [
    (0, "F_DUPFD"), (1, "F_GETFD"), (2, "F_SETFD"), (3, "F_GETFL"), (4, "F_SETFL"), (5, "F_GETLK"),
    (6, "F_SETLK"), (7, "F_SETLKW"), (8, "F_SETOWN"), (9, "F_GETOWN"), (10, "F_SETSIG"),
    (11, "F_GETSIG"), (15, "F_SETOWN_EX"), (16, "F_GETOWN_EX"), (17, "F_GETOWNER_UIDS"),
    (36, "F_OFD_GETLK"), (37, "F_OFD_SETLK"), (38, "F_OFD_SETLKW"), (1024, "F_SETLEASE"),
    (1025, "F_GETLEASE"), (1026, "F_NOTIFY"), (1027, "F_DUPFD_QUERY"), (1028, "F_CREATED_QUERY"),
    (1029, "F_CANCELLK"), (1030, "F_DUPFD_CLOEXEC"), (1031, "F_SETPIPE_SZ"), (1032, "F_GETPIPE_SZ"),
    (1033, "F_ADD_SEALS"), (1034, "F_GET_SEALS"), (1035, "F_GET_RW_HINT"), (1036, "F_SET_RW_HINT"),
    (1037, "F_GET_FILE_RW_HINT"), (1038, "F_SET_FILE_RW_HINT"),
]);
xlat!(FUTEX, "FUTEX_", [
    (0, "FUTEX_WAIT"), (1, "FUTEX_WAKE"), (2, "FUTEX_FD"), (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"), (5, "FUTEX_WAKE_OP"), (6, "FUTEX_LOCK_PI"), (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"), (9, "FUTEX_WAIT_BITSET"), (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"), (12, "FUTEX_CMP_REQUEUE_PI"), (13, "FUTEX_LOCK_PI2"),
]);
xlat!(PTRACE, "PTRACE_", [
    (0, "PTRACE_TRACEME"), (1, "PTRACE_PEEKTEXT"), (2, "PTRACE_PEEKDATA"), (3, "PTRACE_PEEKUSER"),
    (4, "PTRACE_POKETEXT"), (5, "PTRACE_POKEDATA"), (6, "PTRACE_POKEUSER"), (7, "PTRACE_CONT"),
    (8, "PTRACE_KILL"), (9, "PTRACE_SINGLESTEP"), (12, "PTRACE_GETREGS"), (13, "PTRACE_SETREGS"),
    (14, "PTRACE_GETFPREGS"), (15, "PTRACE_SETFPREGS"), (16, "PTRACE_ATTACH"), (17, "PTRACE_DETACH"),
    (18, "PTRACE_GETFPXREGS"), (19, "PTRACE_SETFPXREGS"), (24, "PTRACE_SYSCALL"),
    (25, "PTRACE_GET_THREAD_AREA"), (26, "PTRACE_SET_THREAD_AREA"), (30, "PTRACE_ARCH_PRCTL"),
    (31, "PTRACE_SYSEMU"), (32, "PTRACE_SYSEMU_SINGLESTEP"), (33, "PTRACE_SINGLEBLOCK"),
    (0x4200, "PTRACE_SETOPTIONS"), (0x4201, "PTRACE_GETEVENTMSG"), (0x4202, "PTRACE_GETSIGINFO"),
    (0x4203, "PTRACE_SETSIGINFO"), (0x4204, "PTRACE_GETREGSET"), (0x4205, "PTRACE_SETREGSET"),
    (0x4206, "PTRACE_SEIZE"), (0x4207, "PTRACE_INTERRUPT"), (0x4208, "PTRACE_LISTEN"),
    (0x4209, "PTRACE_PEEKSIGINFO"), (0x420a, "PTRACE_GETSIGMASK"), (0x420b, "PTRACE_SETSIGMASK"),
    (0x420c, "PTRACE_SECCOMP_GET_FILTER"), (0x420d, "PTRACE_SECCOMP_GET_METADATA"),
    (0x420e, "PTRACE_GET_SYSCALL_INFO"), (0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"),
    (0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"),
    (0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"),
]);
xlat!(PTRACE_EVENT, "PTRACE_EVENT_", [
    (1, "PTRACE_EVENT_FORK"), (2, "PTRACE_EVENT_VFORK"), (3, "PTRACE_EVENT_CLONE"),
    (4, "PTRACE_EVENT_EXEC"), (5, "PTRACE_EVENT_VFORK_DONE"), (6, "PTRACE_EVENT_EXIT"),
    (7, "PTRACE_EVENT_SECCOMP"), (128, "PTRACE_EVENT_STOP"),
]);
pub(super) const AF_UNIX: u32 = 1;
pub(super) const AF_INET: u32 = 2;
pub(super) const AF_INET6: u32 = 10;
pub(super) const AF_NETLINK: u32 = 16;
xlat!(AF, "AF_", [
    (0, "AF_UNSPEC"), (1, "AF_UNIX"), (2, "AF_INET"), (3, "AF_AX25"), (4, "AF_IPX"),
    (5, "AF_APPLETALK"), (6, "AF_NETROM"), (7, "AF_BRIDGE"), (8, "AF_ATMPVC"), (9, "AF_X25"),
    (10, "AF_INET6"), (11, "AF_ROSE"), (12, "AF_DECnet"), (13, "AF_NETBEUI"), (14, "AF_SECURITY"),
    (15, "AF_KEY"), (16, "AF_NETLINK"), (17, "AF_PACKET"), (18, "AF_ASH"), (19, "AF_ECONET"),
    (20, "AF_ATMSVC"), (21, "AF_RDS"), (22, "AF_SNA"), (23, "AF_IRDA"), (24, "AF_PPPOX"),
    (25, "AF_WANPIPE"), (26, "AF_LLC"), (27, "AF_IB"), (28, "AF_MPLS"), (29, "AF_CAN"),
    (30, "AF_TIPC"), (31, "AF_BLUETOOTH"), (32, "AF_IUCV"), (33, "AF_RXRPC"), (34, "AF_ISDN"),
    (35, "AF_PHONET"), (36, "AF_IEEE802154"), (37, "AF_CAIF"), (38, "AF_ALG"), (39, "AF_NFC"),
    (40, "AF_VSOCK"), (41, "AF_KCM"), (42, "AF_QIPCRTR"), (43, "AF_SMC"), (44, "AF_XDP"),
    (45, "AF_MCTP"),
]);
xlat!(IPPROTO, "IPPROTO_", [
    (0, "IPPROTO_IP"), (1, "IPPROTO_ICMP"), (2, "IPPROTO_IGMP"), (4, "IPPROTO_IPIP"),
    (6, "IPPROTO_TCP"), (8, "IPPROTO_EGP"), (12, "IPPROTO_PUP"), (17, "IPPROTO_UDP"),
    (22, "IPPROTO_IDP"), (29, "IPPROTO_TP"), (33, "IPPROTO_DCCP"), (41, "IPPROTO_IPV6"),
    (46, "IPPROTO_RSVP"), (47, "IPPROTO_GRE"), (50, "IPPROTO_ESP"), (51, "IPPROTO_AH"),
    (58, "IPPROTO_ICMPV6"), (92, "IPPROTO_MTP"), (94, "IPPROTO_BEETPH"), (98, "IPPROTO_ENCAP"),
    (103, "IPPROTO_PIM"), (108, "IPPROTO_COMP"), (115, "IPPROTO_L2TP"), (132, "IPPROTO_SCTP"),
    (136, "IPPROTO_UDPLITE"), (137, "IPPROTO_MPLS"), (143, "IPPROTO_ETHERNET"), (255, "IPPROTO_RAW"),
    (262, "IPPROTO_MPTCP"),
]);
xlat!(NETLINK, "NETLINK_", [
    (0, "NETLINK_ROUTE"), (1, "NETLINK_UNUSED"), (2, "NETLINK_USERSOCK"), (3, "NETLINK_FIREWALL"),
    (4, "NETLINK_SOCK_DIAG"), (5, "NETLINK_NFLOG"), (6, "NETLINK_XFRM"), (7, "NETLINK_SELINUX"),
    (8, "NETLINK_ISCSI"), (9, "NETLINK_AUDIT"), (10, "NETLINK_FIB_LOOKUP"), (11, "NETLINK_CONNECTOR"),
    (12, "NETLINK_NETFILTER"), (13, "NETLINK_IP6_FW"), (14, "NETLINK_DNRTMSG"),
    (15, "NETLINK_KOBJECT_UEVENT"), (16, "NETLINK_GENERIC"), (18, "NETLINK_SCSITRANSPORT"),
    (19, "NETLINK_ECRYPTFS"), (20, "NETLINK_RDMA"), (21, "NETLINK_CRYPTO"), (22, "NETLINK_SMC"),
]);
pub(super) const SOL_SOCKET: u32 = 1;
pub(super) const SOL_TCP: u32 = 6;
xlat!(SOL, "SOL_", [
    (0, "SOL_IP"), (1, "SOL_SOCKET"), (6, "SOL_TCP"), (17, "SOL_UDP"), (41, "SOL_IPV6"),
    (58, "SOL_ICMPV6"), (255, "SOL_RAW"), (263, "SOL_PACKET"), (270, "SOL_NETLINK"),
    (279, "SOL_ALG"), (282, "SOL_TLS"), (283, "SOL_XDP"), (284, "SOL_MPTCP"),
]);
xlat!(SO, "SO_", [
    (1, "SO_DEBUG"), (2, "SO_REUSEADDR"), (3, "SO_TYPE"), (4, "SO_ERROR"), (5, "SO_DONTROUTE"),
    (6, "SO_BROADCAST"), (7, "SO_SNDBUF"), (8, "SO_RCVBUF"), (9, "SO_KEEPALIVE"),
    (10, "SO_OOBINLINE"), (11, "SO_NO_CHECK"), (12, "SO_PRIORITY"), (13, "SO_LINGER"),
    (14, "SO_BSDCOMPAT"), (15, "SO_REUSEPORT"), (16, "SO_PASSCRED"), (17, "SO_PEERCRED"),
    (18, "SO_RCVLOWAT"), (19, "SO_SNDLOWAT"), (20, "SO_RCVTIMEO_OLD"), (21, "SO_SNDTIMEO_OLD"),
    (25, "SO_BINDTODEVICE"), (26, "SO_ATTACH_FILTER"), (27, "SO_DETACH_FILTER"),
    (28, "SO_PEERNAME"), (29, "SO_TIMESTAMP_OLD"), (30, "SO_ACCEPTCONN"), (31, "SO_PEERSEC"),
    (32, "SO_SNDBUFFORCE"), (33, "SO_RCVBUFFORCE"), (34, "SO_PASSSEC"), (36, "SO_MARK"),
    (38, "SO_PROTOCOL"), (39, "SO_DOMAIN"), (40, "SO_RXQ_OVFL"), (42, "SO_PEEK_OFF"),
    (46, "SO_BUSY_POLL"), (49, "SO_INCOMING_CPU"), (57, "SO_COOKIE"), (59, "SO_PEERGROUPS"),
    (60, "SO_ZEROCOPY"), (66, "SO_RCVTIMEO_NEW"), (67, "SO_SNDTIMEO_NEW"), (77, "SO_PEERPIDFD"),
]);
xlat!(TCP, "TCP_", [
    (1, "TCP_NODELAY"), (2, "TCP_MAXSEG"), (3, "TCP_CORK"), (4, "TCP_KEEPIDLE"),
    (5, "TCP_KEEPINTVL"), (6, "TCP_KEEPCNT"), (7, "TCP_SYNCNT"), (8, "TCP_LINGER2"),
    (9, "TCP_DEFER_ACCEPT"), (10, "TCP_WINDOW_CLAMP"), (11, "TCP_INFO"), (12, "TCP_QUICKACK"),
    (13, "TCP_CONGESTION"), (18, "TCP_USER_TIMEOUT"), (23, "TCP_FASTOPEN"),
    (25, "TCP_NOTSENT_LOWAT"),
]);
xlat!(IOCTL, "", [
    (0x5401, "TCGETS"), (0x5402, "TCSETS"), (0x5403, "TCSETSW"), (0x5404, "TCSETSF"),
    (0x5405, "TCGETA"), (0x5406, "TCSETA"), (0x5407, "TCSETAW"), (0x5408, "TCSETAF"),
    (0x5409, "TCSBRK"), (0x540a, "TCXONC"), (0x540b, "TCFLSH"), (0x540c, "TIOCEXCL"),
    (0x540d, "TIOCNXCL"), (0x540e, "TIOCSCTTY"), (0x540f, "TIOCGPGRP"), (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"), (0x5412, "TIOCSTI"), (0x5413, "TIOCGWINSZ"), (0x5414, "TIOCSWINSZ"),
    (0x5415, "TIOCMGET"), (0x5416, "TIOCMBIS"), (0x5417, "TIOCMBIC"), (0x5418, "TIOCMSET"),
    (0x5419, "TIOCGSOFTCAR"), (0x541a, "TIOCSSOFTCAR"), (0x541b, "FIONREAD"), (0x541c, "TIOCLINUX"),
    (0x541d, "TIOCCONS"), (0x541e, "TIOCGSERIAL"), (0x541f, "TIOCSSERIAL"), (0x5420, "TIOCPKT"),
    (0x5421, "FIONBIO"), (0x5422, "TIOCNOTTY"), (0x5423, "TIOCSETD"), (0x5424, "TIOCGETD"),
    (0x5425, "TCSBRKP"), (0x5427, "TIOCSBRK"), (0x5428, "TIOCCBRK"), (0x5429, "TIOCGSID"),
    (0x802c542a, "TCGETS2"), (0x402c542b, "TCSETS2"), (0x402c542c, "TCSETSW2"),
    (0x402c542d, "TCSETSF2"), (0x80045430, "TIOCGPTN"), (0x40045431, "TIOCSPTLCK"),
    (0x80045432, "TIOCGDEV"), (0x40045436, "TIOCSIG"), (0x5437, "TIOCVHANGUP"),
    (0x80045438, "TIOCGPKT"), (0x80045439, "TIOCGPTLCK"), (0x80045440, "TIOCGEXCL"),
    (0x5441, "TIOCGPTPEER"), (0x5450, "FIONCLEX"), (0x5451, "FIOCLEX"), (0x5452, "FIOASYNC"),
    (0x5456, "TIOCGLCKTRMIOS"), (0x5457, "TIOCSLCKTRMIOS"), (0x5460, "FIOQSIZE"),
    (0x8901, "FIOSETOWN"), (0x8902, "SIOCSPGRP"), (0x8903, "FIOGETOWN"), (0x8904, "SIOCGPGRP"),
    (0x8905, "SIOCATMARK"), (0x8906, "SIOCGSTAMP"), (0x8910, "SIOCGIFNAME"), (0x8912, "SIOCGIFCONF"),
    (0x8913, "SIOCGIFFLAGS"), (0x8914, "SIOCSIFFLAGS"), (0x8915, "SIOCGIFADDR"),
    (0x8921, "SIOCGIFMTU"), (0x8927, "SIOCGIFHWADDR"), (0x8933, "SIOCGIFINDEX"),
    (1, "FIBMAP"), (2, "FIGETBSZ"), (0x1268, "BLKSSZGET"), (0x80081272, "BLKGETSIZE64"),
    (0x40049409, "FICLONE"), (0x4020940d, "FICLONERANGE"), (0xc0189436, "FIDEDUPERANGE"),
    (0x80086601, "FS_IOC_GETFLAGS"), (0x40086602, "FS_IOC_SETFLAGS"), (0x80045200, "RNDGETENTCNT"),
    (0x400454ca, "TUNSETIFF"), (0x2400, "PERF_EVENT_IOC_ENABLE"), (0x2401, "PERF_EVENT_IOC_DISABLE"),
    (0x2403, "PERF_EVENT_IOC_RESET"), (0xb701, "NS_GET_USERNS"), (0xb702, "NS_GET_PARENT"),
]);

/// The kernel's own errnos (512..), which strace shows when a call is
/// interrupted; only the restart ones carry messages (strace's, not libc's).
pub(super) static KERNEL_ERRNOS: &[(i32, &str, Option<&str>)] = &[
    (512, "ERESTARTSYS", Some("To be restarted if SA_RESTART is set")),
    (513, "ERESTARTNOINTR", Some("To be restarted")),
    (514, "ERESTARTNOHAND", Some("To be restarted if no handler")),
    (515, "ENOIOCTLCMD", None),
    (516, "ERESTART_RESTARTBLOCK", Some("Interrupted by signal")),
    (517, "EPROBE_DEFER", None),
    (518, "EOPENSTALE", None),
    (519, "ENOPARAM", None),
    (521, "EBADHANDLE", None),
    (522, "ENOTSYNC", None),
    (523, "EBADCOOKIE", None),
    (524, "ENOTSUPP", None),
    (525, "ETOOSMALL", None),
    (526, "ESERVERFAULT", None),
    (527, "EBADTYPE", None),
    (528, "EJUKEBOX", None),
    (529, "EIOCBQUEUED", None),
    (530, "ERECALLCONFLICT", None),
];

/// statfs' f_flags (ST_*), in strace's order.
pub(super) static ST_FLAGS: &[Flag] = &[
    b(0x1, "ST_RDONLY"),
    b(0x2, "ST_NOSUID"),
    b(0x4, "ST_NODEV"),
    b(0x8, "ST_NOEXEC"),
    b(0x10, "ST_SYNCHRONOUS"),
    b(0x20, "ST_VALID"),
    b(0x40, "ST_MANDLOCK"),
    b(0x400, "ST_NOATIME"),
    b(0x800, "ST_NODIRATIME"),
    b(0x1000, "ST_RELATIME"),
    b(0x2000, "ST_NOSYMFOLLOW"),
];
/// epoll event bits.
pub(super) static EPOLL_EVENTS: &[Flag] = &[
    b(0x1, "EPOLLIN"),
    b(0x2, "EPOLLPRI"),
    b(0x4, "EPOLLOUT"),
    b(0x8, "EPOLLERR"),
    b(0x10, "EPOLLHUP"),
    b(0x20, "EPOLLNVAL"),
    b(0x40, "EPOLLRDNORM"),
    b(0x80, "EPOLLRDBAND"),
    b(0x100, "EPOLLWRNORM"),
    b(0x200, "EPOLLWRBAND"),
    b(0x400, "EPOLLMSG"),
    b(0x2000, "EPOLLRDHUP"),
    b(1 << 28, "EPOLLEXCLUSIVE"),
    b(1 << 29, "EPOLLWAKEUP"),
    b(1 << 30, "EPOLLONESHOT"),
    b(1 << 31, "EPOLLET"),
];
xlat!(SS_FLAGS, "", [(0, "0"), (1, "SS_ONSTACK"), (2, "SS_DISABLE"), (0x80000000, "SS_AUTODISARM")]);
// File-system magic numbers (statfs' f_type) of the file systems met here.
xlat!(FS_MAGIC, "", [
    (0xef53, "EXT2_SUPER_MAGIC"), (0x01021994, "TMPFS_MAGIC"), (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x62656572, "SYSFS_MAGIC"), (0x794c7630, "OVERLAYFS_SUPER_MAGIC"), (0x9123683e, "BTRFS_SUPER_MAGIC"),
    (0x58465342, "XFS_SUPER_MAGIC"), (0x63677270, "CGROUP2_SUPER_MAGIC"), (0x27e0eb, "CGROUP_SUPER_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"), (0x6969, "NFS_SUPER_MAGIC"), (0x65735546, "FUSE_SUPER_MAGIC"),
    (0x73717368, "SQUASHFS_MAGIC"), (0x4d44, "MSDOS_SUPER_MAGIC"), (0x858458f6, "RAMFS_MAGIC"),
    (0x01021997, "V9FS_MAGIC"), (0x2fc12fc1, "ZFS_SUPER_MAGIC"), (0x64626720, "DEBUGFS_MAGIC"),
    (0x73636673, "SECURITYFS_MAGIC"), (0xf97cff8c, "SELINUX_MAGIC"), (0x42494e4d, "BINFMTFS_MAGIC"),
    (0x6e736673, "NSFS_MAGIC"), (0x50495045, "PIPEFS_MAGIC"), (0x534f434b, "SOCKFS_MAGIC"),
    (0xcafe4a11, "BPF_FS_MAGIC"), (0x74726163, "TRACEFS_MAGIC"), (0x09041934, "ANON_INODE_FS_MAGIC"),
    (0x5a3c69f0, "AAFS_MAGIC"), (0x6165676c, "PSTOREFS_MAGIC"), (0xde5e81e4, "EFIVARFS_MAGIC"),
    (0x958458f6, "HUGETLBFS_MAGIC"), (0x19800202, "MQUEUE_MAGIC"),
    (0x3434, "NILFS_SUPER_MAGIC"), (0x2011bab0, "EXFAT_SUPER_MAGIC"), (0x5346544e, "NTFS_SB_MAGIC"),
    (0xff534d42, "CIFS_SUPER_MAGIC"), (0xf2f52010, "F2FS_SUPER_MAGIC"), (0x9660, "ISOFS_SUPER_MAGIC"),
]);
// cmsg types of SOL_SOCKET.
xlat!(SCM, "SCM_", [(1, "SCM_RIGHTS"), (2, "SCM_CREDENTIALS"), (29, "SCM_TIMESTAMPNS"), (35, "SCM_TIMESTAMP")]);
