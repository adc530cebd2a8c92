//! The x86_64 system-call table: for each call, what its arguments are and
//! so how each prints. The kinds' registers add up to the call's arity.

use syscalls::Sysno;

use super::xlat::*;
use A::*;

/// How one argument (or, for the last few kinds, a group of arguments) prints.
#[derive(Clone, Copy)]
pub(super) enum A {
    /// A register the call takes but x86_64 does not use (preadv2's high
    /// offset word): strace leaves it out.
    Skip,
    /// `0x1f` (`0` for zero), for values with no better reading.
    Hex,
    /// `NULL` or `0x7ffd...`.
    Ptr,
    /// C `int` (pids, uids, plain counts): signed decimal of the low 32 bits.
    Int,
    Uint,
    /// `off_t`, `long`: signed decimal.
    Long,
    /// `size_t`: unsigned decimal.
    Ulong,
    Fd,
    /// A directory fd of an *at call: `AT_FDCWD` or the number.
    DirFd,
    /// `0644`.
    Mode,
    /// `S_IFCHR|0620`: a mode with its file type (mknod, stat).
    ModeT,
    /// `O_RDONLY|O_CLOEXEC`: access mode then flags.
    OFlags,
    /// open's mode, shown only when the flags (argument n) create a file.
    OpenMode(u8),
    Flags(&'static [Flag]),
    Enum(&'static Xlat),
    Sig,
    /// A NUL-terminated path, printed whole.
    Path,
    /// A NUL-terminated string, cut at 32 bytes like strace's `-s 32`.
    Str,
    /// Input bytes whose count is argument n.
    Buf(u8),
    SockType,
    /// The protocol, named after the family in argument n.
    SockProto(u8),
    /// A socket option, named after the level in argument n.
    SockOpt(u8),
    /// setsockopt's value, whose length is argument n: `[1]` for an int.
    OptVal(u8),
    Argv,
    /// `0x7ffd... /* 23 vars */`.
    Envp,
    SigSet,
    Sigaction,
    Timespec,
    Timeval,
    Rlimit,
    /// A socket address of the length in argument n.
    Sockaddr(u8),
    /// An array of pollfd of the count in argument n.
    Pollfd(u8),
    /// An iovec array of the count in argument n.
    Iov(u8),
    OpenHow,
    /// clone3's struct clone_args, of the size in the next argument.
    Clone3,
    /// clone: all five registers, named and shown as strace does.
    Clone,
    /// fcntl's command and its argument (or none).
    Fcntl,
    /// ioctl's request and its argument.
    Ioctl,
    /// futex's op and the arguments that op uses.
    Futex,
    /// prctl's option and the arguments that option uses.
    Prctl,
    // Outputs: filled by the call, so decoded only after it succeeded
    // (a pointer otherwise).
    /// Bytes the call wrote: as many as it returned (at most the next argument).
    OBuf,
    /// The same, all in `\x` escapes (getrandom, as strace shows it).
    OBufHex,
    /// getcwd's NUL-terminated result.
    OCwd,
    OStat,
    OStatx,
    /// Two ints: pipe, socketpair.
    OFds,
    /// wait4's status.
    OWait,
    OSigSet,
    OSigaction,
    OTimespec,
    OTimeval,
    ORlimit,
    /// An iovec array of the count in argument n, holding as many bytes as returned.
    OIov(u8),
    /// `0x55... /* 5 entries */`.
    ODents,
    OUname,
    OSysinfo,
    /// sigaltstack's `stack_t`, given and returned.
    Stack,
    OStack,
    /// A CPU set of the byte size in argument n: `[0 1]`.
    CpuSet(u8),
    /// The CPU set sched_getaffinity filled: as many bytes as it returned.
    OCpuSet,
    /// An int the call writes: `[0]`.
    OInt,
    /// getgroups' list: as many gids as it returned.
    OGroups,
    OTms,
    OStatfs,
    ORusage,
    /// A socket address the call writes, its length in the int argument n points to.
    OSockaddr(u8),
    /// A socket length the caller sets and the call updates: `[16]`, `[128 => 16]`.
    SockLen,
    /// getsockopt's value, its length in the int argument n points to.
    OOptVal(u8),
    /// PR_GET_NAME's 16-byte name.
    OName,
    /// epoll_ctl's event.
    EpollEvent,
    /// The events epoll_wait returned, as many as its result.
    OEpollEvents,
    /// sendmsg's struct msghdr.
    Msghdr,
    /// recvmsg's, filled by the call.
    OMsghdr,
}

impl A {
    /// How many registers the kind covers.
    pub fn width(self) -> usize {
        match self {
            Fcntl | Ioctl => 2,
            Futex | Prctl | Clone => 5,
            _ => 1,
        }
    }

    /// Whether it is filled by the call (then the call is best decoded after it returns).
    pub fn is_output(self) -> bool {
        matches!(
            self,
            OBuf | OBufHex
                | OCwd
                | OStat
                | OStatx
                | OFds
                | OWait
                | OSigSet
                | OSigaction
                | OTimespec
                | OTimeval
                | ORlimit
                | OIov(_)
                | ODents
                | OUname
                | OSysinfo
                | OStack
                | OCpuSet
                | OInt
                | OGroups
                | OTms
                | OStatfs
                | ORusage
                | OSockaddr(_)
                | OOptVal(_)
                | OName
                | OEpollEvents
                | OMsghdr
                | Ioctl
                // PR_GET_NAME and the other getters write their argument.
                | Prctl
        )
    }
}

const AT_F: A = Flags(AT);
const O_BITS: A = Flags(O_FLAGS);
const H: A = Hex;

/// The table's length: one entry per number up to the last call's.
const LEN: usize = Sysno::table_size();

/// Builds [`CALLS`] from rows `name: [kinds]`, each keyed by its `Sysno`, so
/// that no row can stand at another call's number (a call given two rows
/// stops the build). Under test, `ROWS` lists each row's call with the
/// name it was written with.
macro_rules! calls {
    ($($nr:ident: [$($k:expr),*],)*) => {
        const fn calls() -> [Option<&'static [A]>; LEN] {
            let mut t: [Option<&'static [A]>; LEN] = [None; LEN];
            $(
                assert!(t[Sysno::$nr as usize].is_none(), concat!("two rows for ", stringify!($nr)));
                t[Sysno::$nr as usize] = Some(const { &[$($k),*] });
            )*
            t
        }

        #[cfg(test)]
        pub(super) static ROWS: &[(Sysno, &str)] = &[$((Sysno::$nr, stringify!($nr))),*];
    };
}

// Every call of x86_64 Linux up to 469 (none are numbered 337..=423), in
// the order of their numbers.
#[rustfmt::skip]
calls! {
    read: [Fd, OBuf, Ulong],
    write: [Fd, Buf(2), Ulong],
    open: [Path, OFlags, OpenMode(1)],
    close: [Fd],
    stat: [Path, OStat],
    fstat: [Fd, OStat],
    lstat: [Path, OStat],
    poll: [Pollfd(1), Uint, Int],
    lseek: [Fd, Long, Enum(&WHENCE)],
    mmap: [Ptr, Ulong, Flags(PROT), Flags(MAP), Fd, Hex],
    mprotect: [Ptr, Ulong, Flags(PROT)],
    munmap: [Ptr, Ulong],
    brk: [Ptr],
    rt_sigaction: [Sig, Sigaction, OSigaction, Ulong],
    rt_sigprocmask: [Enum(&SIGHOW), SigSet, OSigSet, Ulong],
    rt_sigreturn: [],
    ioctl: [Fd, Ioctl],
    pread64: [Fd, OBuf, Ulong, Long],
    pwrite64: [Fd, Buf(2), Ulong, Long],
    readv: [Fd, OIov(2), Int],
    writev: [Fd, Iov(2), Int],
    access: [Path, Flags(ACCESS)],
    pipe: [OFds],
    select: [Int, Ptr, Ptr, Ptr, Timeval],
    sched_yield: [],
    mremap: [Ptr, Ulong, Ulong, Flags(MREMAP), Ptr],
    msync: [Ptr, Ulong, Flags(MSYNC)],
    mincore: [Ptr, Ulong, Ptr],
    madvise: [Ptr, Ulong, Enum(&MADV)],
    shmget: [H, Ulong, H],
    shmat: [Int, Ptr, H],
    shmctl: [Int, H, Ptr],
    dup: [Fd],
    dup2: [Fd, Fd],
    pause: [],
    nanosleep: [Timespec, Ptr],
    getitimer: [Enum(&ITIMER), Ptr],
    alarm: [Uint],
    setitimer: [Enum(&ITIMER), Ptr, Ptr],
    getpid: [],
    sendfile: [Fd, Fd, Ptr, Ulong],
    socket: [Enum(&AF), SockType, SockProto(0)],
    connect: [Fd, Sockaddr(2), Int],
    accept: [Fd, OSockaddr(2), SockLen],
    sendto: [Fd, Buf(2), Ulong, Flags(MSG), Sockaddr(5), Int],
    recvfrom: [Fd, OBuf, Ulong, Flags(MSG), OSockaddr(5), SockLen],
    sendmsg: [Fd, Msghdr, Flags(MSG)],
    recvmsg: [Fd, OMsghdr, Flags(MSG)],
    shutdown: [Fd, Enum(&SHUT)],
    bind: [Fd, Sockaddr(2), Int],
    listen: [Fd, Int],
    getsockname: [Fd, OSockaddr(2), SockLen],
    getpeername: [Fd, OSockaddr(2), SockLen],
    socketpair: [Enum(&AF), SockType, SockProto(0), OFds],
    setsockopt: [Fd, Enum(&SOL), SockOpt(1), OptVal(4), Int],
    getsockopt: [Fd, Enum(&SOL), SockOpt(1), OOptVal(4), SockLen],
    clone: [Clone],
    fork: [],
    vfork: [],
    execve: [Path, Argv, Envp],
    exit: [Int],
    wait4: [Int, OWait, Flags(WAIT4), ORusage],
    kill: [Int, Sig],
    uname: [OUname],
    semget: [H, Int, H],
    semop: [Int, Ptr, Ulong],
    semctl: [Int, Int, H, H],
    shmdt: [Ptr],
    msgget: [H, H],
    msgsnd: [Int, Ptr, Ulong, H],
    msgrcv: [Int, Ptr, Ulong, Long, H],
    msgctl: [Int, H, Ptr],
    fcntl: [Fd, Fcntl],
    flock: [Fd, Flags(LOCK)],
    fsync: [Fd],
    fdatasync: [Fd],
    truncate: [Path, Long],
    ftruncate: [Fd, Long],
    getdents: [Fd, ODents, Uint],
    getcwd: [OCwd, Ulong],
    chdir: [Path],
    fchdir: [Fd],
    rename: [Path, Path],
    mkdir: [Path, Mode],
    rmdir: [Path],
    creat: [Path, Mode],
    link: [Path, Path],
    unlink: [Path],
    symlink: [Path, Path],
    readlink: [Path, OBuf, Ulong],
    chmod: [Path, Mode],
    fchmod: [Fd, Mode],
    chown: [Path, Int, Int],
    fchown: [Fd, Int, Int],
    lchown: [Path, Int, Int],
    umask: [Mode],
    gettimeofday: [OTimeval, Ptr],
    getrlimit: [Enum(&RLIMIT), ORlimit],
    getrusage: [Enum(&RUSAGE), ORusage],
    sysinfo: [OSysinfo],
    times: [OTms],
    ptrace: [Enum(&PTRACE), Int, Ptr, H],
    getuid: [],
    syslog: [Int, Ptr, Int],
    getgid: [],
    setuid: [Int],
    setgid: [Int],
    geteuid: [],
    getegid: [],
    setpgid: [Int, Int],
    getppid: [],
    getpgrp: [],
    setsid: [],
    setreuid: [Int, Int],
    setregid: [Int, Int],
    getgroups: [Int, OGroups],
    setgroups: [Int, Ptr],
    setresuid: [Int, Int, Int],
    getresuid: [OInt, OInt, OInt],
    setresgid: [Int, Int, Int],
    getresgid: [OInt, OInt, OInt],
    getpgid: [Int],
    setfsuid: [Int],
    setfsgid: [Int],
    getsid: [Int],
    capget: [Ptr, Ptr],
    capset: [Ptr, Ptr],
    rt_sigpending: [OSigSet, Ulong],
    rt_sigtimedwait: [SigSet, Ptr, Timespec, Ulong],
    rt_sigqueueinfo: [Int, Sig, Ptr],
    rt_sigsuspend: [SigSet, Ulong],
    sigaltstack: [Stack, OStack],
    utime: [Path, Ptr],
    mknod: [Path, ModeT, H],
    uselib: [Path],
    personality: [H],
    ustat: [H, Ptr],
    statfs: [Path, OStatfs],
    fstatfs: [Fd, OStatfs],
    sysfs: [Int, H, H],
    getpriority: [Enum(&PRIO), Int],
    setpriority: [Enum(&PRIO), Int, Int],
    sched_setparam: [Int, Ptr],
    sched_getparam: [Int, Ptr],
    sched_setscheduler: [Int, Enum(&SCHED), Ptr],
    sched_getscheduler: [Int],
    sched_get_priority_max: [Enum(&SCHED)],
    sched_get_priority_min: [Enum(&SCHED)],
    sched_rr_get_interval: [Int, Ptr],
    mlock: [Ptr, Ulong],
    munlock: [Ptr, Ulong],
    mlockall: [Flags(MCL)],
    munlockall: [],
    vhangup: [],
    modify_ldt: [Int, Ptr, Ulong],
    pivot_root: [Path, Path],
    _sysctl: [Ptr],
    prctl: [Prctl],
    arch_prctl: [Enum(&ARCH), H],
    adjtimex: [Ptr],
    setrlimit: [Enum(&RLIMIT), Rlimit],
    chroot: [Path],
    sync: [],
    acct: [Path],
    settimeofday: [Timeval, Ptr],
    mount: [Path, Path, Str, Flags(MOUNT), Str],
    umount2: [Path, Flags(UMOUNT)],
    swapon: [Path, H],
    swapoff: [Path],
    reboot: [H, H, H, Ptr],
    sethostname: [Buf(1), Ulong],
    setdomainname: [Buf(1), Ulong],
    iopl: [Int],
    ioperm: [H, H, Int],
    create_module: [Str, Ulong],
    init_module: [Ptr, Ulong, Str],
    delete_module: [Str, O_BITS],
    get_kernel_syms: [Ptr],
    query_module: [Str, Int, Ptr, Ulong, Ptr],
    quotactl: [H, Path, Int, Ptr],
    nfsservctl: [Int, Ptr, Ptr],
    getpmsg: [H, H, H, H, H],
    putpmsg: [H, H, H, H, H],
    afs_syscall: [H, H, H, H, H],
    tuxcall: [H, H, H],
    security: [H, H, H],
    gettid: [],
    readahead: [Fd, Long, Ulong],
    setxattr: [Path, Str, Buf(3), Ulong, Flags(XATTR)],
    lsetxattr: [Path, Str, Buf(3), Ulong, Flags(XATTR)],
    fsetxattr: [Fd, Str, Buf(3), Ulong, Flags(XATTR)],
    getxattr: [Path, Str, OBuf, Ulong],
    lgetxattr: [Path, Str, OBuf, Ulong],
    fgetxattr: [Fd, Str, OBuf, Ulong],
    listxattr: [Path, OBuf, Ulong],
    llistxattr: [Path, OBuf, Ulong],
    flistxattr: [Fd, OBuf, Ulong],
    removexattr: [Path, Str],
    lremovexattr: [Path, Str],
    fremovexattr: [Fd, Str],
    tkill: [Int, Sig],
    time: [Ptr],
    futex: [Ptr, Futex],
    sched_setaffinity: [Int, Uint, CpuSet(1)],
    sched_getaffinity: [Int, Uint, OCpuSet],
    set_thread_area: [Ptr],
    io_setup: [Uint, Ptr],
    io_destroy: [H],
    io_getevents: [H, Long, Long, Ptr, Timespec],
    io_submit: [H, Long, Ptr],
    io_cancel: [H, Ptr, Ptr],
    get_thread_area: [Ptr],
    lookup_dcookie: [H, Ptr, Ulong],
    epoll_create: [Int],
    epoll_ctl_old: [H, H, H, H],
    epoll_wait_old: [H, H, H, H],
    remap_file_pages: [Ptr, Ulong, H, Ulong, H],
    getdents64: [Fd, ODents, Uint],
    set_tid_address: [Ptr],
    restart_syscall: [],
    semtimedop: [Int, Ptr, Ulong, Timespec],
    fadvise64: [Fd, Long, Long, Enum(&FADV)],
    timer_create: [Enum(&CLOCK), Ptr, Ptr],
    timer_settime: [Int, Flags(TIMER), Ptr, Ptr],
    timer_gettime: [Int, Ptr],
    timer_getoverrun: [Int],
    timer_delete: [Int],
    clock_settime: [Enum(&CLOCK), Timespec],
    clock_gettime: [Enum(&CLOCK), OTimespec],
    clock_getres: [Enum(&CLOCK), OTimespec],
    clock_nanosleep: [Enum(&CLOCK), Flags(TIMER), Timespec, Ptr],
    exit_group: [Int],
    epoll_wait: [Fd, OEpollEvents, Int, Int],
    epoll_ctl: [Fd, Enum(&EPOLL_CTL), Fd, EpollEvent],
    tgkill: [Int, Int, Sig],
    utimes: [Path, Ptr],
    vserver: [H, H, H, H, H],
    mbind: [Ptr, Ulong, H, Ptr, Ulong, H],
    set_mempolicy: [H, Ptr, Ulong],
    get_mempolicy: [Ptr, Ptr, Ulong, Ptr, H],
    mq_open: [Str, OFlags, Mode, Ptr],
    mq_unlink: [Str],
    mq_timedsend: [Fd, Buf(2), Ulong, Uint, Timespec],
    mq_timedreceive: [Fd, OBuf, Ulong, Ptr, Timespec],
    mq_notify: [Fd, Ptr],
    mq_getsetattr: [Fd, Ptr, Ptr],
    kexec_load: [H, Ulong, Ptr, H],
    waitid: [Enum(&IDTYPE), Int, Ptr, Flags(WAITID), Ptr],
    add_key: [Str, Str, Ptr, Ulong, Int],
    request_key: [Str, Str, Str, Int],
    keyctl: [Int, H, H, H, H],
    ioprio_set: [Int, Int, Int],
    ioprio_get: [Int, Int],
    inotify_init: [],
    inotify_add_watch: [Fd, Path, Flags(INOTIFY)],
    inotify_rm_watch: [Fd, Int],
    migrate_pages: [Int, Ulong, Ptr, Ptr],
    openat: [DirFd, Path, OFlags, OpenMode(2)],
    mkdirat: [DirFd, Path, Mode],
    mknodat: [DirFd, Path, ModeT, H],
    fchownat: [DirFd, Path, Int, Int, AT_F],
    futimesat: [DirFd, Path, Ptr],
    newfstatat: [DirFd, Path, OStat, AT_F],
    unlinkat: [DirFd, Path, AT_F],
    renameat: [DirFd, Path, DirFd, Path],
    linkat: [DirFd, Path, DirFd, Path, AT_F],
    symlinkat: [Path, DirFd, Path],
    readlinkat: [DirFd, Path, OBuf, Ulong],
    fchmodat: [DirFd, Path, Mode],
    faccessat: [DirFd, Path, Flags(ACCESS)],
    pselect6: [Int, Ptr, Ptr, Ptr, Timespec, Ptr],
    ppoll: [Pollfd(1), Uint, Timespec, SigSet, Ulong],
    unshare: [Flags(CLONE)],
    set_robust_list: [Ptr, Ulong],
    get_robust_list: [Int, Ptr, Ptr],
    splice: [Fd, Ptr, Fd, Ptr, Ulong, Flags(SPLICE)],
    tee: [Fd, Fd, Ulong, Flags(SPLICE)],
    sync_file_range: [Fd, Long, Long, Flags(SYNC_RANGE)],
    vmsplice: [Fd, Iov(2), Ulong, Flags(SPLICE)],
    move_pages: [Int, Ulong, Ptr, Ptr, Ptr, H],
    utimensat: [DirFd, Path, Ptr, AT_F],
    epoll_pwait: [Fd, OEpollEvents, Int, Int, SigSet, Ulong],
    signalfd: [Fd, SigSet, Ulong],
    timerfd_create: [Enum(&CLOCK), Flags(TFD)],
    eventfd: [Uint],
    fallocate: [Fd, Flags(FALLOC), Long, Long],
    timerfd_settime: [Fd, Flags(TFD_TIMER), Ptr, Ptr],
    timerfd_gettime: [Fd, Ptr],
    accept4: [Fd, OSockaddr(2), SockLen, Flags(SOCK_FLAGS)],
    signalfd4: [Fd, SigSet, Ulong, Flags(SFD)],
    eventfd2: [Uint, Flags(EFD)],
    epoll_create1: [Flags(EPOLL)],
    dup3: [Fd, Fd, O_BITS],
    pipe2: [OFds, O_BITS],
    inotify_init1: [Flags(IN_INIT)],
    preadv: [Fd, OIov(2), Int, Long],
    pwritev: [Fd, Iov(2), Int, Long],
    rt_tgsigqueueinfo: [Int, Int, Sig, Ptr],
    perf_event_open: [Ptr, Int, Int, Fd, H],
    recvmmsg: [Fd, Ptr, Uint, Flags(MSG), Timespec],
    fanotify_init: [H, H],
    fanotify_mark: [Fd, H, H, DirFd, Path],
    prlimit64: [Int, Enum(&RLIMIT), Rlimit, ORlimit],
    name_to_handle_at: [DirFd, Path, Ptr, Ptr, AT_F],
    open_by_handle_at: [Fd, Ptr, OFlags],
    clock_adjtime: [Enum(&CLOCK), Ptr],
    syncfs: [Fd],
    sendmmsg: [Fd, Ptr, Uint, Flags(MSG)],
    setns: [Fd, Flags(CLONE)],
    getcpu: [Ptr, Ptr, Ptr],
    process_vm_readv: [Int, Ptr, Ulong, Ptr, Ulong, H],
    process_vm_writev: [Int, Ptr, Ulong, Ptr, Ulong, H],
    kcmp: [Int, Int, Int, H, H],
    finit_module: [Fd, Str, H],
    sched_setattr: [Int, Ptr, H],
    sched_getattr: [Int, Ptr, Uint, H],
    renameat2: [DirFd, Path, DirFd, Path, Flags(RENAME)],
    seccomp: [Enum(&SECCOMP_OP), H, Ptr],
    getrandom: [OBufHex, Ulong, Flags(GRND)],
    memfd_create: [Str, Flags(MFD)],
    kexec_file_load: [Fd, Fd, Ulong, Str, H],
    bpf: [Int, Ptr, Uint],
    execveat: [DirFd, Path, Argv, Envp, AT_F],
    userfaultfd: [O_BITS],
    membarrier: [Int, H, Int],
    mlock2: [Ptr, Ulong, Flags(MLOCK)],
    copy_file_range: [Fd, Ptr, Fd, Ptr, Ulong, H],
    preadv2: [Fd, OIov(2), Int, Long, Skip, Flags(RWF)],
    pwritev2: [Fd, Iov(2), Int, Long, Skip, Flags(RWF)],
    pkey_mprotect: [Ptr, Ulong, Flags(PROT), Int],
    pkey_alloc: [H, H],
    pkey_free: [Int],
    statx: [DirFd, Path, Flags(AT_STATX), Flags(STATX_MASK), OStatx],
    io_pgetevents: [H, Long, Long, Ptr, Timespec, Ptr],
    rseq: [Ptr, H, H, H],
    uretprobe: [],
    uprobe: [],
    pidfd_send_signal: [Fd, Sig, Ptr, H],
    io_uring_setup: [Uint, Ptr],
    io_uring_enter: [Fd, Uint, Uint, H, Ptr, Ulong],
    io_uring_register: [Fd, Uint, Ptr, Uint],
    open_tree: [DirFd, Path, H],
    move_mount: [DirFd, Path, DirFd, Path, H],
    fsopen: [Str, H],
    fsconfig: [Fd, Int, Str, Ptr, Int],
    fsmount: [Fd, H, H],
    fspick: [DirFd, Path, H],
    pidfd_open: [Int, H],
    clone3: [Clone3, Ulong],
    close_range: [Uint, Uint, Flags(CLOSE_RANGE)],
    openat2: [DirFd, Path, OpenHow, Ulong],
    pidfd_getfd: [Fd, Fd, H],
    faccessat2: [DirFd, Path, Flags(ACCESS), Flags(AT_ACCESS)],
    process_madvise: [Fd, Ptr, Ulong, Enum(&MADV), H],
    epoll_pwait2: [Fd, OEpollEvents, Int, Timespec, SigSet, Ulong],
    mount_setattr: [DirFd, Path, AT_F, Ptr, Ulong],
    quotactl_fd: [Fd, H, Int, Ptr],
    landlock_create_ruleset: [Ptr, Ulong, H],
    landlock_add_rule: [Fd, Int, Ptr, H],
    landlock_restrict_self: [Fd, H],
    memfd_secret: [H],
    process_mrelease: [Fd, H],
    futex_waitv: [Ptr, Uint, H, Timespec, Enum(&CLOCK)],
    set_mempolicy_home_node: [Ptr, Ulong, Ulong, H],
    cachestat: [Fd, Ptr, Ptr, H],
    fchmodat2: [DirFd, Path, Mode, AT_F],
    map_shadow_stack: [Ptr, Ulong, H],
    futex_wake: [Ptr, H, Int, H],
    futex_wait: [Ptr, H, H, H, Timespec, Enum(&CLOCK)],
    futex_requeue: [Ptr, H, Int, Int],
    statmount: [Ptr, Ptr, Ulong, H],
    listmount: [Ptr, Ptr, Ulong, H],
    lsm_get_self_attr: [H, Ptr, Ptr, H],
    lsm_set_self_attr: [H, Ptr, Ulong, H],
    lsm_list_modules: [Ptr, Ptr, H],
    mseal: [Ptr, Ulong, H],
    setxattrat: [DirFd, Path, AT_F, Str, Ptr, Ulong],
    getxattrat: [DirFd, Path, AT_F, Str, Ptr, Ulong],
    listxattrat: [DirFd, Path, AT_F, Ptr, Ulong],
    removexattrat: [DirFd, Path, AT_F, Str],
    open_tree_attr: [DirFd, Path, H, Ptr, Ulong],
    file_getattr: [DirFd, Path, Ptr, Ulong, AT_F],
    file_setattr: [DirFd, Path, Ptr, Ulong, AT_F],
}

/// The argument kinds of each call, at its number (None: no call).
static CALLS: [Option<&[A]>; LEN] = calls();

/// The argument kinds of call `nr`, if it is a known x86_64 call.
pub(super) fn kinds(nr: usize) -> Option<&'static [A]> {
    CALLS.get(nr).copied().flatten()
}

const NONE: &[A] = &[];
const U1: &[A] = &[Ulong];
const P1: &[A] = &[Ptr];
const H1: &[A] = &[H];
const U4: &[A] = &[Ulong, Ulong, Ulong, Ulong];
/// What strace shows for an option it has no better reading of.
pub(super) const H4: &[A] = &[H, H, H, H];

/// prctl options: name and the kinds of the arguments after the option.
#[rustfmt::skip]
pub(super) static PRCTL: &[(u32, &str, &[A])] = &[
    (1, "PR_SET_PDEATHSIG", &[Sig]),
    (2, "PR_GET_PDEATHSIG", P1),
    (3, "PR_GET_DUMPABLE", NONE),
    (4, "PR_SET_DUMPABLE", U1),
    (5, "PR_GET_UNALIGN", P1),
    (6, "PR_SET_UNALIGN", H1),
    (7, "PR_GET_KEEPCAPS", NONE),
    (8, "PR_SET_KEEPCAPS", U1),
    (9, "PR_GET_FPEMU", P1),
    (10, "PR_SET_FPEMU", H1),
    (11, "PR_GET_FPEXC", P1),
    (12, "PR_SET_FPEXC", H1),
    (13, "PR_GET_TIMING", NONE),
    (14, "PR_SET_TIMING", U1),
    (15, "PR_SET_NAME", &[Str]),
    (16, "PR_GET_NAME", &[OName]),
    (19, "PR_GET_ENDIAN", P1),
    (20, "PR_SET_ENDIAN", H1),
    (21, "PR_GET_SECCOMP", NONE),
    (22, "PR_SET_SECCOMP", &[Enum(&SECCOMP_MODE), Ptr]),
    (23, "PR_CAPBSET_READ", U1),
    (24, "PR_CAPBSET_DROP", U1),
    (25, "PR_GET_TSC", P1),
    (26, "PR_SET_TSC", H1),
    (27, "PR_GET_SECUREBITS", NONE),
    (28, "PR_SET_SECUREBITS", H1),
    (29, "PR_SET_TIMERSLACK", U1),
    (30, "PR_GET_TIMERSLACK", NONE),
    (31, "PR_TASK_PERF_EVENTS_DISABLE", NONE),
    (32, "PR_TASK_PERF_EVENTS_ENABLE", NONE),
    (33, "PR_MCE_KILL", H4),
    (34, "PR_MCE_KILL_GET", H4),
    (35, "PR_SET_MM", H4),
    (36, "PR_SET_CHILD_SUBREAPER", U1),
    (37, "PR_GET_CHILD_SUBREAPER", P1),
    (38, "PR_SET_NO_NEW_PRIVS", U4),
    (39, "PR_GET_NO_NEW_PRIVS", U4),
    (40, "PR_GET_TID_ADDRESS", P1),
    (41, "PR_SET_THP_DISABLE", U4),
    (42, "PR_GET_THP_DISABLE", U4),
    (43, "PR_MPX_ENABLE_MANAGEMENT", H4),
    (44, "PR_MPX_DISABLE_MANAGEMENT", H4),
    (45, "PR_SET_FP_MODE", H1),
    (46, "PR_GET_FP_MODE", NONE),
    (47, "PR_CAP_AMBIENT", H4),
    (50, "PR_SVE_SET_VL", H4),
    (51, "PR_SVE_GET_VL", H4),
    (52, "PR_GET_SPECULATION_CTRL", H4),
    (53, "PR_SET_SPECULATION_CTRL", H4),
    (54, "PR_PAC_RESET_KEYS", H4),
    (55, "PR_SET_TAGGED_ADDR_CTRL", H4),
    (56, "PR_GET_TAGGED_ADDR_CTRL", H4),
    (57, "PR_SET_IO_FLUSHER", U4),
    (58, "PR_GET_IO_FLUSHER", U4),
    (59, "PR_SET_SYSCALL_USER_DISPATCH", &[Enum(&SYS_DISPATCH), H, Ulong, Ptr]),
    (60, "PR_PAC_SET_ENABLED_KEYS", H4),
    (61, "PR_PAC_GET_ENABLED_KEYS", H4),
    (62, "PR_SCHED_CORE", H4),
    (63, "PR_SME_SET_VL", H4),
    (64, "PR_SME_GET_VL", H4),
    (65, "PR_SET_MDWE", H4),
    (66, "PR_GET_MDWE", H4),
    (67, "PR_SET_MEMORY_MERGE", H4),
    (68, "PR_GET_MEMORY_MERGE", H4),
    (69, "PR_RISCV_V_SET_CONTROL", H4),
    (70, "PR_RISCV_V_GET_CONTROL", H4),
    (71, "PR_RISCV_SET_ICACHE_FLUSH_CTX", H4),
    (72, "PR_PPC_GET_DEXCR", H4),
    (73, "PR_PPC_SET_DEXCR", H4),
    (74, "PR_GET_SHADOW_STACK_STATUS", H4),
    (75, "PR_SET_SHADOW_STACK_STATUS", H4),
    (76, "PR_LOCK_SHADOW_STACK_STATUS", H4),
    (77, "PR_TIMER_CREATE_RESTORE_IDS", H4),
    (78, "PR_FUTEX_HASH", H4),
    (0x53564d41, "PR_SET_VMA", &[Enum(&PR_VMA), H, Ulong, Str]),
    (0x59616d61, "PR_SET_PTRACER", &[Int]),
];

/// futex: for each command (`op & 0x7f`) the arguments that follow the op,
/// as (kind, register); strace shows only those the command uses.
#[rustfmt::skip]
pub(super) static FUTEX_ARGS: &[&[(A, u8)]] = &[
    &[(Uint, 2), (Timespec, 3)],                            // FUTEX_WAIT
    &[(Uint, 2)],                                           // FUTEX_WAKE
    &[(Uint, 2)],                                           // FUTEX_FD
    &[(Uint, 2), (Uint, 3), (Ptr, 4)],                      // FUTEX_REQUEUE
    &[(Uint, 2), (Uint, 3), (Ptr, 4), (Uint, 5)],           // FUTEX_CMP_REQUEUE
    &[(Uint, 2), (Uint, 3), (Ptr, 4), (H, 5)],              // FUTEX_WAKE_OP
    &[(Timespec, 3)],                                       // FUTEX_LOCK_PI
    &[],                                                    // FUTEX_UNLOCK_PI
    &[],                                                    // FUTEX_TRYLOCK_PI
    &[(Uint, 2), (Timespec, 3), (Enum(&FUTEX_BITSET), 5)],  // FUTEX_WAIT_BITSET
    &[(Uint, 2), (Enum(&FUTEX_BITSET), 5)],                 // FUTEX_WAKE_BITSET
    &[(Uint, 2), (Timespec, 3), (Ptr, 4)],                  // FUTEX_WAIT_REQUEUE_PI
    &[(Uint, 2), (Uint, 3), (Ptr, 4), (Uint, 5)],           // FUTEX_CMP_REQUEUE_PI
    &[(Timespec, 3)],                                       // FUTEX_LOCK_PI2
];
/// An unknown futex command: its four remaining registers in hex.
pub(super) static FUTEX_OTHER: &[(A, u8)] = &[(H, 2), (H, 3), (H, 4), (H, 5)];
