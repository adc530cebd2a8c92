//! The x86_64 system-call table: for each call, what its arguments are and
//! so how each prints. The kinds' registers add up to the call's arity.

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

/// (number, argument kinds), sorted by number: every call of x86_64 Linux
/// up to 469 (none are numbered 337..=423).
#[rustfmt::skip]
pub(super) static CALLS: &[(u16, &[A])] = &[
    (0, &[Fd, OBuf, Ulong]),                      // read
    (1, &[Fd, Buf(2), Ulong]),                    // write
    (2, &[Path, OFlags, OpenMode(1)]),            // open
    (3, &[Fd]),                                   // close
    (4, &[Path, OStat]),                          // stat
    (5, &[Fd, OStat]),                            // fstat
    (6, &[Path, OStat]),                          // lstat
    (7, &[Pollfd(1), Uint, Int]),                 // poll
    (8, &[Fd, Long, Enum(&WHENCE)]),              // lseek
    (9, &[Ptr, Ulong, Flags(PROT), Flags(MAP), Fd, Hex]), // mmap
    (10, &[Ptr, Ulong, Flags(PROT)]),             // mprotect
    (11, &[Ptr, Ulong]),                          // munmap
    (12, &[Ptr]),                                 // brk
    (13, &[Sig, Sigaction, OSigaction, Ulong]),   // rt_sigaction
    (14, &[Enum(&SIGHOW), SigSet, OSigSet, Ulong]), // rt_sigprocmask
    (15, &[]),                                    // rt_sigreturn
    (16, &[Fd, Ioctl]),                           // ioctl
    (17, &[Fd, OBuf, Ulong, Long]),               // pread64
    (18, &[Fd, Buf(2), Ulong, Long]),             // pwrite64
    (19, &[Fd, OIov(2), Int]),                    // readv
    (20, &[Fd, Iov(2), Int]),                     // writev
    (21, &[Path, Flags(ACCESS)]),                 // access
    (22, &[OFds]),                                // pipe
    (23, &[Int, Ptr, Ptr, Ptr, Timeval]),         // select
    (24, &[]),                                    // sched_yield
    (25, &[Ptr, Ulong, Ulong, Flags(MREMAP), Ptr]), // mremap
    (26, &[Ptr, Ulong, Flags(MSYNC)]),            // msync
    (27, &[Ptr, Ulong, Ptr]),                     // mincore
    (28, &[Ptr, Ulong, Enum(&MADV)]),             // madvise
    (29, &[H, Ulong, H]),                         // shmget
    (30, &[Int, Ptr, H]),                         // shmat
    (31, &[Int, H, Ptr]),                         // shmctl
    (32, &[Fd]),                                  // dup
    (33, &[Fd, Fd]),                              // dup2
    (34, &[]),                                    // pause
    (35, &[Timespec, Ptr]),                       // nanosleep
    (36, &[Enum(&ITIMER), Ptr]),                  // getitimer
    (37, &[Uint]),                                // alarm
    (38, &[Enum(&ITIMER), Ptr, Ptr]),             // setitimer
    (39, &[]),                                    // getpid
    (40, &[Fd, Fd, Ptr, Ulong]),                  // sendfile
    (41, &[Enum(&AF), SockType, SockProto(0)]),   // socket
    (42, &[Fd, Sockaddr(2), Int]),                // connect
    (43, &[Fd, OSockaddr(2), SockLen]),           // accept
    (44, &[Fd, Buf(2), Ulong, Flags(MSG), Sockaddr(5), Int]), // sendto
    (45, &[Fd, OBuf, Ulong, Flags(MSG), OSockaddr(5), SockLen]), // recvfrom
    (46, &[Fd, Msghdr, Flags(MSG)]),              // sendmsg
    (47, &[Fd, OMsghdr, Flags(MSG)]),             // recvmsg
    (48, &[Fd, Enum(&SHUT)]),                     // shutdown
    (49, &[Fd, Sockaddr(2), Int]),                // bind
    (50, &[Fd, Int]),                             // listen
    (51, &[Fd, OSockaddr(2), SockLen]),           // getsockname
    (52, &[Fd, OSockaddr(2), SockLen]),           // getpeername
    (53, &[Enum(&AF), SockType, SockProto(0), OFds]), // socketpair
    (54, &[Fd, Enum(&SOL), SockOpt(1), OptVal(4), Int]), // setsockopt
    (55, &[Fd, Enum(&SOL), SockOpt(1), OOptVal(4), SockLen]), // getsockopt
    (56, &[Clone]),                               // clone
    (57, &[]),                                    // fork
    (58, &[]),                                    // vfork
    (59, &[Path, Argv, Envp]),                    // execve
    (60, &[Int]),                                 // exit
    (61, &[Int, OWait, Flags(WAIT4), ORusage]),   // wait4
    (62, &[Int, Sig]),                            // kill
    (63, &[OUname]),                              // uname
    (64, &[H, Int, H]),                           // semget
    (65, &[Int, Ptr, Ulong]),                     // semop
    (66, &[Int, Int, H, H]),                      // semctl
    (67, &[Ptr]),                                 // shmdt
    (68, &[H, H]),                                // msgget
    (69, &[Int, Ptr, Ulong, H]),                  // msgsnd
    (70, &[Int, Ptr, Ulong, Long, H]),            // msgrcv
    (71, &[Int, H, Ptr]),                         // msgctl
    (72, &[Fd, Fcntl]),                           // fcntl
    (73, &[Fd, Flags(LOCK)]),                     // flock
    (74, &[Fd]),                                  // fsync
    (75, &[Fd]),                                  // fdatasync
    (76, &[Path, Long]),                          // truncate
    (77, &[Fd, Long]),                            // ftruncate
    (78, &[Fd, ODents, Uint]),                    // getdents
    (79, &[OCwd, Ulong]),                         // getcwd
    (80, &[Path]),                                // chdir
    (81, &[Fd]),                                  // fchdir
    (82, &[Path, Path]),                          // rename
    (83, &[Path, Mode]),                          // mkdir
    (84, &[Path]),                                // rmdir
    (85, &[Path, Mode]),                          // creat
    (86, &[Path, Path]),                          // link
    (87, &[Path]),                                // unlink
    (88, &[Path, Path]),                          // symlink
    (89, &[Path, OBuf, Ulong]),                   // readlink
    (90, &[Path, Mode]),                          // chmod
    (91, &[Fd, Mode]),                            // fchmod
    (92, &[Path, Int, Int]),                      // chown
    (93, &[Fd, Int, Int]),                        // fchown
    (94, &[Path, Int, Int]),                      // lchown
    (95, &[Mode]),                                // umask
    (96, &[OTimeval, Ptr]),                       // gettimeofday
    (97, &[Enum(&RLIMIT), ORlimit]),              // getrlimit
    (98, &[Enum(&RUSAGE), ORusage]),              // getrusage
    (99, &[OSysinfo]),                            // sysinfo
    (100, &[OTms]),                               // times
    (101, &[Enum(&PTRACE), Int, Ptr, H]),         // ptrace
    (102, &[]),                                   // getuid
    (103, &[Int, Ptr, Int]),                      // syslog
    (104, &[]),                                   // getgid
    (105, &[Int]),                                // setuid
    (106, &[Int]),                                // setgid
    (107, &[]),                                   // geteuid
    (108, &[]),                                   // getegid
    (109, &[Int, Int]),                           // setpgid
    (110, &[]),                                   // getppid
    (111, &[]),                                   // getpgrp
    (112, &[]),                                   // setsid
    (113, &[Int, Int]),                           // setreuid
    (114, &[Int, Int]),                           // setregid
    (115, &[Int, OGroups]),                       // getgroups
    (116, &[Int, Ptr]),                           // setgroups
    (117, &[Int, Int, Int]),                      // setresuid
    (118, &[OInt, OInt, OInt]),                   // getresuid
    (119, &[Int, Int, Int]),                      // setresgid
    (120, &[OInt, OInt, OInt]),                   // getresgid
    (121, &[Int]),                                // getpgid
    (122, &[Int]),                                // setfsuid
    (123, &[Int]),                                // setfsgid
    (124, &[Int]),                                // getsid
    (125, &[Ptr, Ptr]),                           // capget
    (126, &[Ptr, Ptr]),                           // capset
    (127, &[OSigSet, Ulong]),                     // rt_sigpending
    (128, &[SigSet, Ptr, Timespec, Ulong]),       // rt_sigtimedwait
    (129, &[Int, Sig, Ptr]),                      // rt_sigqueueinfo
    (130, &[SigSet, Ulong]),                      // rt_sigsuspend
    (131, &[Stack, OStack]),                      // sigaltstack
    (132, &[Path, Ptr]),                          // utime
    (133, &[Path, ModeT, H]),                     // mknod
    (134, &[Path]),                               // uselib
    (135, &[H]),                                  // personality
    (136, &[H, Ptr]),                             // ustat
    (137, &[Path, OStatfs]),                      // statfs
    (138, &[Fd, OStatfs]),                        // fstatfs
    (139, &[Int, H, H]),                          // sysfs
    (140, &[Enum(&PRIO), Int]),                   // getpriority
    (141, &[Enum(&PRIO), Int, Int]),              // setpriority
    (142, &[Int, Ptr]),                           // sched_setparam
    (143, &[Int, Ptr]),                           // sched_getparam
    (144, &[Int, Enum(&SCHED), Ptr]),             // sched_setscheduler
    (145, &[Int]),                                // sched_getscheduler
    (146, &[Enum(&SCHED)]),                       // sched_get_priority_max
    (147, &[Enum(&SCHED)]),                       // sched_get_priority_min
    (148, &[Int, Ptr]),                           // sched_rr_get_interval
    (149, &[Ptr, Ulong]),                         // mlock
    (150, &[Ptr, Ulong]),                         // munlock
    (151, &[Flags(MCL)]),                         // mlockall
    (152, &[]),                                   // munlockall
    (153, &[]),                                   // vhangup
    (154, &[Int, Ptr, Ulong]),                    // modify_ldt
    (155, &[Path, Path]),                         // pivot_root
    (156, &[Ptr]),                                // _sysctl
    (157, &[Prctl]),                              // prctl
    (158, &[Enum(&ARCH), H]),                     // arch_prctl
    (159, &[Ptr]),                                // adjtimex
    (160, &[Enum(&RLIMIT), Rlimit]),              // setrlimit
    (161, &[Path]),                               // chroot
    (162, &[]),                                   // sync
    (163, &[Path]),                               // acct
    (164, &[Timeval, Ptr]),                       // settimeofday
    (165, &[Path, Path, Str, Flags(MOUNT), Str]), // mount
    (166, &[Path, Flags(UMOUNT)]),                // umount2
    (167, &[Path, H]),                            // swapon
    (168, &[Path]),                               // swapoff
    (169, &[H, H, H, Ptr]),                       // reboot
    (170, &[Buf(1), Ulong]),                      // sethostname
    (171, &[Buf(1), Ulong]),                      // setdomainname
    (172, &[Int]),                                // iopl
    (173, &[H, H, Int]),                          // ioperm
    (174, &[Str, Ulong]),                         // create_module
    (175, &[Ptr, Ulong, Str]),                    // init_module
    (176, &[Str, O_BITS]),                        // delete_module
    (177, &[Ptr]),                                // get_kernel_syms
    (178, &[Str, Int, Ptr, Ulong, Ptr]),          // query_module
    (179, &[H, Path, Int, Ptr]),                  // quotactl
    (180, &[Int, Ptr, Ptr]),                      // nfsservctl
    (181, &[H, H, H, H, H]),                      // getpmsg
    (182, &[H, H, H, H, H]),                      // putpmsg
    (183, &[H, H, H, H, H]),                      // afs_syscall
    (184, &[H, H, H]),                            // tuxcall
    (185, &[H, H, H]),                            // security
    (186, &[]),                                   // gettid
    (187, &[Fd, Long, Ulong]),                    // readahead
    (188, &[Path, Str, Buf(3), Ulong, Flags(XATTR)]), // setxattr
    (189, &[Path, Str, Buf(3), Ulong, Flags(XATTR)]), // lsetxattr
    (190, &[Fd, Str, Buf(3), Ulong, Flags(XATTR)]), // fsetxattr
    (191, &[Path, Str, OBuf, Ulong]),             // getxattr
    (192, &[Path, Str, OBuf, Ulong]),             // lgetxattr
    (193, &[Fd, Str, OBuf, Ulong]),               // fgetxattr
    (194, &[Path, OBuf, Ulong]),                  // listxattr
    (195, &[Path, OBuf, Ulong]),                  // llistxattr
    (196, &[Fd, OBuf, Ulong]),                    // flistxattr
    (197, &[Path, Str]),                          // removexattr
    (198, &[Path, Str]),                          // lremovexattr
    (199, &[Fd, Str]),                            // fremovexattr
    (200, &[Int, Sig]),                           // tkill
    (201, &[Ptr]),                                // time
    (202, &[Ptr, Futex]),                         // futex
    (203, &[Int, Uint, CpuSet(1)]),               // sched_setaffinity
    (204, &[Int, Uint, OCpuSet]),                 // sched_getaffinity
    (205, &[Ptr]),                                // set_thread_area
    (206, &[Uint, Ptr]),                          // io_setup
    (207, &[H]),                                  // io_destroy
    (208, &[H, Long, Long, Ptr, Timespec]),       // io_getevents
    (209, &[H, Long, Ptr]),                       // io_submit
    (210, &[H, Ptr, Ptr]),                        // io_cancel
    (211, &[Ptr]),                                // get_thread_area
    (212, &[H, Ptr, Ulong]),                      // lookup_dcookie
    (213, &[Int]),                                // epoll_create
    (214, &[H, H, H, H]),                         // epoll_ctl_old
    (215, &[H, H, H, H]),                         // epoll_wait_old
    (216, &[Ptr, Ulong, H, Ulong, H]),            // remap_file_pages
    (217, &[Fd, ODents, Uint]),                   // getdents64
    (218, &[Ptr]),                                // set_tid_address
    (219, &[]),                                   // restart_syscall
    (220, &[Int, Ptr, Ulong, Timespec]),          // semtimedop
    (221, &[Fd, Long, Long, Enum(&FADV)]),        // fadvise64
    (222, &[Enum(&CLOCK), Ptr, Ptr]),             // timer_create
    (223, &[Int, Flags(TIMER), Ptr, Ptr]),        // timer_settime
    (224, &[Int, Ptr]),                           // timer_gettime
    (225, &[Int]),                                // timer_getoverrun
    (226, &[Int]),                                // timer_delete
    (227, &[Enum(&CLOCK), Timespec]),             // clock_settime
    (228, &[Enum(&CLOCK), OTimespec]),            // clock_gettime
    (229, &[Enum(&CLOCK), OTimespec]),            // clock_getres
    (230, &[Enum(&CLOCK), Flags(TIMER), Timespec, Ptr]), // clock_nanosleep
    (231, &[Int]),                                // exit_group
    (232, &[Fd, OEpollEvents, Int, Int]),         // epoll_wait
    (233, &[Fd, Enum(&EPOLL_CTL), Fd, EpollEvent]), // epoll_ctl
    (234, &[Int, Int, Sig]),                      // tgkill
    (235, &[Path, Ptr]),                          // utimes
    (236, &[H, H, H, H, H]),                      // vserver
    (237, &[Ptr, Ulong, H, Ptr, Ulong, H]),       // mbind
    (238, &[H, Ptr, Ulong]),                      // set_mempolicy
    (239, &[Ptr, Ptr, Ulong, Ptr, H]),            // get_mempolicy
    (240, &[Str, OFlags, Mode, Ptr]),             // mq_open
    (241, &[Str]),                                // mq_unlink
    (242, &[Fd, Buf(2), Ulong, Uint, Timespec]),  // mq_timedsend
    (243, &[Fd, OBuf, Ulong, Ptr, Timespec]),     // mq_timedreceive
    (244, &[Fd, Ptr]),                            // mq_notify
    (245, &[Fd, Ptr, Ptr]),                       // mq_getsetattr
    (246, &[H, Ulong, Ptr, H]),                   // kexec_load
    (247, &[Enum(&IDTYPE), Int, Ptr, Flags(WAITID), Ptr]), // waitid
    (248, &[Str, Str, Ptr, Ulong, Int]),          // add_key
    (249, &[Str, Str, Str, Int]),                 // request_key
    (250, &[Int, H, H, H, H]),                    // keyctl
    (251, &[Int, Int, Int]),                      // ioprio_set
    (252, &[Int, Int]),                           // ioprio_get
    (253, &[]),                                   // inotify_init
    (254, &[Fd, Path, Flags(INOTIFY)]),           // inotify_add_watch
    (255, &[Fd, Int]),                            // inotify_rm_watch
    (256, &[Int, Ulong, Ptr, Ptr]),               // migrate_pages
    (257, &[DirFd, Path, OFlags, OpenMode(2)]),   // openat
    (258, &[DirFd, Path, Mode]),                  // mkdirat
    (259, &[DirFd, Path, ModeT, H]),              // mknodat
    (260, &[DirFd, Path, Int, Int, AT_F]),        // fchownat
    (261, &[DirFd, Path, Ptr]),                   // futimesat
    (262, &[DirFd, Path, OStat, AT_F]),           // newfstatat
    (263, &[DirFd, Path, AT_F]),                  // unlinkat
    (264, &[DirFd, Path, DirFd, Path]),           // renameat
    (265, &[DirFd, Path, DirFd, Path, AT_F]),     // linkat
    (266, &[Path, DirFd, Path]),                  // symlinkat
    (267, &[DirFd, Path, OBuf, Ulong]),           // readlinkat
    (268, &[DirFd, Path, Mode]),                  // fchmodat
    (269, &[DirFd, Path, Flags(ACCESS)]),         // faccessat
    (270, &[Int, Ptr, Ptr, Ptr, Timespec, Ptr]),  // pselect6
    (271, &[Pollfd(1), Uint, Timespec, SigSet, Ulong]), // ppoll
    (272, &[Flags(CLONE)]),                       // unshare
    (273, &[Ptr, Ulong]),                         // set_robust_list
    (274, &[Int, Ptr, Ptr]),                      // get_robust_list
    (275, &[Fd, Ptr, Fd, Ptr, Ulong, Flags(SPLICE)]), // splice
    (276, &[Fd, Fd, Ulong, Flags(SPLICE)]),       // tee
    (277, &[Fd, Long, Long, Flags(SYNC_RANGE)]),  // sync_file_range
    (278, &[Fd, Iov(2), Ulong, Flags(SPLICE)]),   // vmsplice
    (279, &[Int, Ulong, Ptr, Ptr, Ptr, H]),       // move_pages
    (280, &[DirFd, Path, Ptr, AT_F]),             // utimensat
    (281, &[Fd, OEpollEvents, Int, Int, SigSet, Ulong]), // epoll_pwait
    (282, &[Fd, SigSet, Ulong]),                  // signalfd
    (283, &[Enum(&CLOCK), Flags(TFD)]),           // timerfd_create
    (284, &[Uint]),                               // eventfd
    (285, &[Fd, Flags(FALLOC), Long, Long]),      // fallocate
    (286, &[Fd, Flags(TFD_TIMER), Ptr, Ptr]),     // timerfd_settime
    (287, &[Fd, Ptr]),                            // timerfd_gettime
    (288, &[Fd, OSockaddr(2), SockLen, Flags(SOCK_FLAGS)]), // accept4
    (289, &[Fd, SigSet, Ulong, Flags(SFD)]),      // signalfd4
    (290, &[Uint, Flags(EFD)]),                   // eventfd2
    (291, &[Flags(EPOLL)]),                       // epoll_create1
    (292, &[Fd, Fd, O_BITS]),                     // dup3
    (293, &[OFds, O_BITS]),                       // pipe2
    (294, &[Flags(IN_INIT)]),                     // inotify_init1
    (295, &[Fd, OIov(2), Int, Long]),             // preadv
    (296, &[Fd, Iov(2), Int, Long]),              // pwritev
    (297, &[Int, Int, Sig, Ptr]),                 // rt_tgsigqueueinfo
    (298, &[Ptr, Int, Int, Fd, H]),               // perf_event_open
    (299, &[Fd, Ptr, Uint, Flags(MSG), Timespec]), // recvmmsg
    (300, &[H, H]),                               // fanotify_init
    (301, &[Fd, H, H, DirFd, Path]),              // fanotify_mark
    (302, &[Int, Enum(&RLIMIT), Rlimit, ORlimit]), // prlimit64
    (303, &[DirFd, Path, Ptr, Ptr, AT_F]),        // name_to_handle_at
    (304, &[Fd, Ptr, OFlags]),                    // open_by_handle_at
    (305, &[Enum(&CLOCK), Ptr]),                  // clock_adjtime
    (306, &[Fd]),                                 // syncfs
    (307, &[Fd, Ptr, Uint, Flags(MSG)]),          // sendmmsg
    (308, &[Fd, Flags(CLONE)]),                   // setns
    (309, &[Ptr, Ptr, Ptr]),                      // getcpu
    (310, &[Int, Ptr, Ulong, Ptr, Ulong, H]),     // process_vm_readv
    (311, &[Int, Ptr, Ulong, Ptr, Ulong, H]),     // process_vm_writev
    (312, &[Int, Int, Int, H, H]),                // kcmp
    (313, &[Fd, Str, H]),                         // finit_module
    (314, &[Int, Ptr, H]),                        // sched_setattr
    (315, &[Int, Ptr, Uint, H]),                  // sched_getattr
    (316, &[DirFd, Path, DirFd, Path, Flags(RENAME)]), // renameat2
    (317, &[Enum(&SECCOMP_OP), H, Ptr]),          // seccomp
    (318, &[OBufHex, Ulong, Flags(GRND)]),        // getrandom
    (319, &[Str, Flags(MFD)]),                    // memfd_create
    (320, &[Fd, Fd, Ulong, Str, H]),              // kexec_file_load
    (321, &[Int, Ptr, Uint]),                     // bpf
    (322, &[DirFd, Path, Argv, Envp, AT_F]),      // execveat
    (323, &[O_BITS]),                             // userfaultfd
    (324, &[Int, H, Int]),                        // membarrier
    (325, &[Ptr, Ulong, Flags(MLOCK)]),           // mlock2
    (326, &[Fd, Ptr, Fd, Ptr, Ulong, H]),         // copy_file_range
    (327, &[Fd, OIov(2), Int, Long, Skip, Flags(RWF)]), // preadv2
    (328, &[Fd, Iov(2), Int, Long, Skip, Flags(RWF)]), // pwritev2
    (329, &[Ptr, Ulong, Flags(PROT), Int]),       // pkey_mprotect
    (330, &[H, H]),                               // pkey_alloc
    (331, &[Int]),                                // pkey_free
    (332, &[DirFd, Path, Flags(AT_STATX), Flags(STATX_MASK), OStatx]), // statx
    (333, &[H, Long, Long, Ptr, Timespec, Ptr]),  // io_pgetevents
    (334, &[Ptr, H, H, H]),                       // rseq
    (335, &[]),                                   // uretprobe
    (336, &[]),                                   // uprobe
    (424, &[Fd, Sig, Ptr, H]),                    // pidfd_send_signal
    (425, &[Uint, Ptr]),                          // io_uring_setup
    (426, &[Fd, Uint, Uint, H, Ptr, Ulong]),      // io_uring_enter
    (427, &[Fd, Uint, Ptr, Uint]),                // io_uring_register
    (428, &[DirFd, Path, H]),                     // open_tree
    (429, &[DirFd, Path, DirFd, Path, H]),        // move_mount
    (430, &[Str, H]),                             // fsopen
    (431, &[Fd, Int, Str, Ptr, Int]),             // fsconfig
    (432, &[Fd, H, H]),                           // fsmount
    (433, &[DirFd, Path, H]),                     // fspick
    (434, &[Int, H]),                             // pidfd_open
    (435, &[Clone3, Ulong]),                      // clone3
    (436, &[Uint, Uint, Flags(CLOSE_RANGE)]),     // close_range
    (437, &[DirFd, Path, OpenHow, Ulong]),        // openat2
    (438, &[Fd, Fd, H]),                          // pidfd_getfd
    (439, &[DirFd, Path, Flags(ACCESS), Flags(AT_ACCESS)]), // faccessat2
    (440, &[Fd, Ptr, Ulong, Enum(&MADV), H]),     // process_madvise
    (441, &[Fd, OEpollEvents, Int, Timespec, SigSet, Ulong]), // epoll_pwait2
    (442, &[DirFd, Path, AT_F, Ptr, Ulong]),      // mount_setattr
    (443, &[Fd, H, Int, Ptr]),                    // quotactl_fd
    (444, &[Ptr, Ulong, H]),                      // landlock_create_ruleset
    (445, &[Fd, Int, Ptr, H]),                    // landlock_add_rule
    (446, &[Fd, H]),                              // landlock_restrict_self
    (447, &[H]),                                  // memfd_secret
    (448, &[Fd, H]),                              // process_mrelease
    (449, &[Ptr, Uint, H, Timespec, Enum(&CLOCK)]), // futex_waitv
    (450, &[Ptr, Ulong, Ulong, H]),               // set_mempolicy_home_node
    (451, &[Fd, Ptr, Ptr, H]),                    // cachestat
    (452, &[DirFd, Path, Mode, AT_F]),            // fchmodat2
    (453, &[Ptr, Ulong, H]),                      // map_shadow_stack
    (454, &[Ptr, H, Int, H]),                     // futex_wake
    (455, &[Ptr, H, H, H, Timespec, Enum(&CLOCK)]), // futex_wait
    (456, &[Ptr, H, Int, Int]),                   // futex_requeue
    (457, &[Ptr, Ptr, Ulong, H]),                 // statmount
    (458, &[Ptr, Ptr, Ulong, H]),                 // listmount
    (459, &[H, Ptr, Ptr, H]),                     // lsm_get_self_attr
    (460, &[H, Ptr, Ulong, H]),                   // lsm_set_self_attr
    (461, &[Ptr, Ptr, H]),                        // lsm_list_modules
    (462, &[Ptr, Ulong, H]),                      // mseal
    (463, &[DirFd, Path, AT_F, Str, Ptr, Ulong]), // setxattrat
    (464, &[DirFd, Path, AT_F, Str, Ptr, Ulong]), // getxattrat
    (465, &[DirFd, Path, AT_F, Ptr, Ulong]),      // listxattrat
    (466, &[DirFd, Path, AT_F, Str]),             // removexattrat
    (467, &[DirFd, Path, H, Ptr, Ulong]),         // open_tree_attr
    (468, &[DirFd, Path, Ptr, Ulong, AT_F]),      // file_getattr
    (469, &[DirFd, Path, Ptr, Ulong, AT_F]),      // file_setattr
];

/// The argument kinds of call `nr`, if it is a known x86_64 call.
pub(super) fn kinds(nr: usize) -> Option<&'static [A]> {
    let nr = u16::try_from(nr).ok()?;
    CALLS
        .binary_search_by_key(&nr, |e| e.0)
        .ok()
        .map(|i| CALLS[i].1)
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
