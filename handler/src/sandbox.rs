//! The kernel side of a capability session that ld-preld applies itself
//! (the launcher made the namespaces and dropped the capabilities before,
//! server/src/pola/confine.rs): no_new_privs and a Landlock ruleset that
//! leaves the process no file-system authority but reading and executing
//! ld-preld itself (to re-enter it at exec) and reading beneath the
//! directory grants it resolves paths in itself (beneath.rs), no TCP unless the
//! session grants the network, and no signals or abstract Unix sockets
//! beyond its own Landlock domain; then a seccomp filter refusing the calls
//! that reach kernel state no namespace covers. Whatever the program does,
//! handler or not, it only has the fds the capability server gave it.

use syscalls::Sysno;

use crate::abi::{LANDLOCK_ACCESS_FS_EXECUTE, LANDLOCK_ACCESS_FS_IOCTL_DEV, LANDLOCK_ACCESS_FS_MAKE_SYM, LANDLOCK_ACCESS_FS_READ_DIR, LANDLOCK_ACCESS_FS_READ_FILE};
use crate::abi::LANDLOCK_ACCESS_FS_WRITE_FILE;
use crate::abi::{LANDLOCK_ACCESS_FS_REFER, LANDLOCK_ACCESS_FS_TRUNCATE, LANDLOCK_ACCESS_NET_BIND_TCP, LANDLOCK_ACCESS_NET_CONNECT_TCP};
use crate::abi::{LANDLOCK_CREATE_RULESET_VERSION, LANDLOCK_RULE_PATH_BENEATH, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET, LANDLOCK_SCOPE_SIGNAL};
use crate::abi::{O_CLOEXEC, O_PATH};
use crate::sys::{self, CPath};

/// Every file-system access right of Landlock ABI `abi`.
fn fs_rights(abi: usize) -> u64 {
    let mut r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; // EXECUTE .. MAKE_SYM (ABI 1)
    if abi >= 2 {
        r |= LANDLOCK_ACCESS_FS_REFER;
    }
    if abi >= 3 {
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    }
    if abi >= 5 {
        r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    }
    r
}

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneath {
    allowed_access: u64,
    parent_fd: i32,
}

/// What the session enforces, for `preld pola -v` and the closing note.
pub struct Enforced {
    pub abi: usize,
    pub net_restricted: bool,
    pub scoped: bool,
}

/// Restricts the calling process for good. `loader` is ld-preld's path
/// (without NUL). With `net`, TCP stays allowed. `grants`: directories
/// (O_PATH fds of grants' roots) beneath which files may be read and
/// directories listed, and, where the flag says so (read-write grants),
/// existing files written and truncated; nothing else (no creation,
/// removal, rename or link: those stay the server's).
pub fn enter(loader: &[u8], net: bool, grants: &[(i32, u8)]) -> Result<Enforced, (&'static str, i32)> {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns the ABI.
    let abi = unsafe { sys::raw(Sysno::landlock_create_ruleset as usize, [0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0, 0, 0]) }
        .map_err(|e| ("Landlock is not available in this kernel", e))?;
    let attr = RulesetAttr {
        handled_access_fs: fs_rights(abi),
        handled_access_net: if abi >= 4 && !net { LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP } else { 0 },
        scoped: if abi >= 6 { LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL } else { 0 },
    };
    // Older ABIs reject the fields they do not know: pass only what they have.
    let size = if abi >= 6 { 24 } else if abi >= 4 { 16 } else { 8 };
    // SAFETY: a valid ruleset attribute of `size` bytes.
    let ruleset = unsafe {
        sys::raw(Sysno::landlock_create_ruleset as usize, [&attr as *const RulesetAttr as usize, size, 0, 0, 0, 0])
    }
    .map_err(|e| ("cannot create the Landlock ruleset", e))? as i32;
    let ld = sys::open(&CPath::new(loader), O_PATH | O_CLOEXEC).map_err(|e| ("cannot open ld-preld", e))?;
    let rule = PathBeneath { allowed_access: LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE, parent_fd: ld };
    // SAFETY: a valid path-beneath rule for an fd we own.
    let r = unsafe {
        sys::raw(Sysno::landlock_add_rule as usize, [ruleset as usize, LANDLOCK_RULE_PATH_BENEATH, &rule as *const PathBeneath as usize, 0, 0, 0])
    };
    sys::close(ld);
    r.map_err(|e| ("cannot add the Landlock rule for ld-preld", e))?;
    for &(dir, mode) in grants {
        if mode == b'l' {
            // A granted symlink's target file, on a grant's copy that has
            // its rule: looked at through the fd only (fstat), no rule.
            continue;
        }
        // No TRUNCATE for a read-only grant, though its copy is a
        // read-only mount (where the kernel refuses truncations with EROFS
        // first): Landlock's rules hold for inodes, whatever mount they are
        // reached through, and the same files reached through a writable
        // mount of the host's (a file beneath the grant given as stdin,
        // reopened through the session's procfs with O_RDONLY|O_TRUNC) were
        // truncated while the right was allowed on read-only copies
        // (adversary 22; test
        // `a_read_only_grant_s_file_given_as_stdin_is_never_truncated`).
        // Denied, the right costs each open about 0.08 us (Landlock records
        // the denial for the fd).
        let mut allowed = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
        match mode {
            // A grant of one file: reading it (a rule on a file takes no
            // directory rights).
            b'f' | b'e' => allowed = LANDLOCK_ACCESS_FS_READ_FILE,
            b'w' => allowed |= LANDLOCK_ACCESS_FS_WRITE_FILE | if abi >= 3 { LANDLOCK_ACCESS_FS_TRUNCATE } else { 0 },
            // The session's devpts: its ptys, read, written and ioctl'ed.
            b't' => allowed |= LANDLOCK_ACCESS_FS_WRITE_FILE | if abi >= 5 { LANDLOCK_ACCESS_FS_IOCTL_DEV } else { 0 },
            _ => {}
        }
        let rule = PathBeneath { allowed_access: allowed, parent_fd: dir };
        // SAFETY: a valid path-beneath rule; the kernel only reads it.
        unsafe {
            sys::raw(Sysno::landlock_add_rule as usize, [ruleset as usize, LANDLOCK_RULE_PATH_BENEATH, &rule as *const PathBeneath as usize, 0, 0, 0])
        }
        .map_err(|e| ("cannot add a Landlock rule for a grant", e))?;
    }
    sys::set_no_new_privs().map_err(|e| ("cannot set no_new_privs", e))?;
    // SAFETY: landlock_restrict_self on the ruleset fd we created.
    let r = unsafe { sys::raw(Sysno::landlock_restrict_self as usize, [ruleset as usize, 0, 0, 0, 0, 0]) };
    sys::close(ruleset);
    r.map_err(|e| ("cannot enforce the Landlock ruleset", e))?;
    seccomp::install().map_err(|e| ("cannot install the session's seccomp filter", e))?;
    Ok(Enforced { abi, net_restricted: attr.handled_access_net != 0, scoped: attr.scoped != 0 })
}

/// The session's seccomp filter: the last layer, for calls that reach
/// kernel state shared beyond the session's namespaces, or that only
/// widen the kernel's attack surface. It survives exec; the handler itself
/// never needs any of these calls in a session. docs/DESIGN.md lists the
/// entries with their reasons.
pub mod seccomp {
    use alloc::vec::Vec;
    use syscalls::Sysno;

    use crate::abi::{AF_INET, AF_INET6, AF_UNIX, AUDIT_ARCH_X86_64, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_SET_MODE_FILTER, X32_SYSCALL_BIT};
    use crate::abi::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W, S_ISGID, S_ISUID};
    use crate::abi::{PTRACE_TRACEME, SOL_SOCKET, SO_PASSRIGHTS, TIOCCONS, TIOCLINUX, TIOCSETD, TIOCSTI};
    use crate::errno::{EAFNOSUPPORT, ENOSYS, EPERM};
    use crate::sys;

    /// Refused with EPERM.
    pub const REFUSED: &[Sysno] = &[
        // Keyrings are the user's, across namespaces.
        Sysno::keyctl,
        Sysno::add_key,
        Sysno::request_key,
        // Code and observation in the kernel.
        Sysno::bpf,
        Sysno::perf_event_open,
        Sysno::fanotify_init,
        Sysno::syslog,
        Sysno::lookup_dcookie,
        // The machine.
        Sysno::init_module,
        Sysno::finit_module,
        Sysno::delete_module,
        Sysno::kexec_load,
        Sysno::kexec_file_load,
        Sysno::reboot,
        Sysno::swapon,
        Sysno::swapoff,
        Sysno::settimeofday,
        Sysno::clock_settime,
        Sysno::acct,
        Sysno::quotactl,
        Sysno::quotactl_fd,
        Sysno::nfsservctl,
        Sysno::vhangup,
        Sysno::iopl,
        Sysno::ioperm,
        Sysno::uselib,
        // A security module's attributes of the process's own (what the
        // read-only procfs keeps /proc/self/attr from: a profile or
        // context changed; session-21 adversary).
        Sysno::lsm_set_self_attr,
        // The mount tree (the session's is fixed).
        Sysno::mount,
        Sysno::umount2,
        Sysno::pivot_root,
        Sysno::open_tree,
        Sysno::open_tree_attr,
        Sysno::move_mount,
        Sysno::fsopen,
        Sysno::fsconfig,
        Sysno::fsmount,
        Sysno::fspick,
        Sysno::mount_setattr,
        Sysno::listmount,
        Sysno::statmount,
        // The kernel's cwd stays the session's empty root: the session's
        // cwd is the handler's (virtual), and a kernel cwd inside a grant
        // would let connect, bind or sendto of a relative socket path
        // reach a socket of a read-only grant (a channel out of the session).
        Sysno::chdir,
        Sysno::fchdir,
        // Kernel-side workers where no filter looks; kernel races.
        Sysno::io_uring_setup,
        Sysno::io_uring_enter,
        Sysno::io_uring_register,
        Sysno::userfaultfd,
        // A file's metadata changed by its path: Landlock has no right for
        // it, and a directory fd of the host's that reached the session
        // (sent back by a host process through a socket of the session's
        // that went out) let code around the handler change the files
        // below it (attack `relay_out`). The handler never makes these in
        // a session (the server does); utimensat with a path, below.
        Sysno::chmod,
        Sysno::fchmodat,
        Sysno::fchmodat2,
        Sysno::chown,
        Sysno::lchown,
        Sysno::fchownat,
        Sysno::utime,
        Sysno::utimes,
        Sysno::futimesat,
        Sysno::setxattr,
        Sysno::lsetxattr,
        Sysno::removexattr,
        Sysno::lremovexattr,
    ];

    /// Refused with ENOSYS, as on a kernel without them (a program falls
    /// back to the older calls, which the handler serves): setxattrat and
    /// removexattrat (Linux 6.13) change metadata by a path, as above;
    /// so does file_setattr (Linux 6.17: fsxattr flags, nodump, noatime,
    /// sync, by a directory fd and a path; the fallback is the
    /// FS_IOC_FSSETXATTR ioctl on an fd; session-21 adversary, test
    /// `file_setattr_changes_no_flags_of_a_nested_read_only_grant`).
    pub const ABSENT: &[Sysno] = &[Sysno::setxattrat, Sysno::removexattrat, Sysno::file_setattr];

    /// ioctl requests refused with EPERM (compared on the low 32 bits, as
    /// the tty layer reads them). A terminal of the user's may reach the
    /// session (--fd): it must not type into it (TIOCSTI; TIOCLINUX pastes
    /// the console's selection) nor change its line discipline or console
    /// (TIOCSETD, TIOCCONS). TIOCSCTTY stays: taking a terminal that is
    /// another session's controlling tty (the user's is its shell's) needs
    /// CAP_SYS_ADMIN of the host, and forkpty/login_tty on the session's
    /// own ptys need it (attack tty: `tiocsctty-steal`). TIOCSPGRP stays: shells need it (an interactive bash
    /// whose tcsetpgrp fails stops itself for good); docs/DESIGN.md says
    /// what that leaves open.
    pub const IOCTLS: &[u32] = &[
        TIOCSTI,
        TIOCLINUX,
        TIOCSETD,
        TIOCCONS,
    ];

    /// Socket families allowed; the others fail with EAFNOSUPPORT, as on a
    /// kernel without them (netlink, packet, vsock, ...).
    pub const FAMILIES: &[u32] = &[AF_UNIX, AF_INET, AF_INET6];

    const LD_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
    const JEQ: u16 = BPF_JMP | BPF_JEQ | BPF_K;
    const JGE: u16 = BPF_JMP | BPF_JGE | BPF_K;
    const JSET: u16 = BPF_JMP | BPF_JSET | BPF_K;
    const RET: u16 = BPF_RET | BPF_K;
    // struct seccomp_data: nr, arch, instruction_pointer, args[6]
    const OFF_NR: u32 = 0;
    const OFF_ARCH: u32 = 4;
    const fn off_arg(i: u32) -> u32 {
        16 + 8 * i
    }

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Insn {
        pub code: u16,
        pub jt: u8,
        pub jf: u8,
        pub k: u32,
    }
    const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
        Insn { code, jt, jf, k }
    }

    /// Where a call number leads when it is one of the filter's.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Target {
        Eperm,
        Enosys,
        Ioctl,
        Socket,
        Prlimit,
        /// fchmod: the mode is argument 1.
        Mode1,
        /// utimensat: a path (argument 1) given.
        PathArg1,
        /// setsockopt: level and option, arguments 1 and 2.
        Sockopt,
        /// ptrace: the request, argument 0 (a long).
        Traceme,
    }
    const TARGETS: [Target; 9] = [
        Target::Eperm,
        Target::Enosys,
        Target::Ioctl,
        Target::Socket,
        Target::Prlimit,
        Target::Mode1,
        Target::PathArg1,
        Target::Sockopt,
        Target::Traceme,
    ];

    /// At most this many numbers are compared one by one at a leaf of the
    /// search tree.
    const LEAF: usize = 4;
    /// The set-user-ID and set-group-ID bits of a mode.
    const SET_ID: u32 = S_ISUID | S_ISGID;

    /// The numbers the filter looks at, sorted, each with its target.
    fn numbers() -> Vec<(u32, Target)> {
        let mut v: Vec<(u32, Target)> = REFUSED.iter().map(|&s| (s as u32, Target::Eperm)).collect();
        v.extend(ABSENT.iter().map(|&s| (s as u32, Target::Enosys)));
        v.extend([
            (Sysno::ioctl as u32, Target::Ioctl),
            (Sysno::socket as u32, Target::Socket),
            (Sysno::prlimit64 as u32, Target::Prlimit),
            (Sysno::fchmod as u32, Target::Mode1),
            (Sysno::utimensat as u32, Target::PathArg1),
            (Sysno::setsockopt as u32, Target::Sockopt),
            (Sysno::ptrace as u32, Target::Traceme),
        ]);
        v.sort_unstable_by_key(|&(nr, _)| nr);
        v.dedup_by_key(|&mut (nr, _)| nr);
        v
    }

    /// A binary search over `keys` (sorted): a leaf of at most LEAF numbers
    /// compares each (a match jumps to its target, patched by `program`)
    /// and allows the others; a node sends the upper half to its second
    /// subtree. Jumps to a target are recorded in `to`.
    fn search(keys: &[(u32, Target)], p: &mut Vec<Insn>, to: &mut Vec<(usize, Target)>) {
        if keys.len() <= LEAF {
            for &(nr, t) in keys {
                to.push((p.len(), t));
                p.push(insn(JEQ, 0, 0, nr));
            }
            p.push(insn(RET, 0, 0, SECCOMP_RET_ALLOW));
            return;
        }
        let mid = keys.len() / 2;
        let node = p.len();
        p.push(insn(JGE, 0, 0, keys[mid].0));
        search(&keys[..mid], p, to);
        // (Within u8 reach: the tree has about 80 instructions.)
        p[node].jt = (p.len() - node - 1) as u8;
        search(&keys[mid..], p, to);
    }

    /// The filter program. The call number is looked up by binary search
    /// (JGE nodes, then a few JEQ at a leaf), not one comparison after
    /// another: the kernel runs the filter over every call number when it
    /// installs it (to cache those always allowed) and on every call that
    /// is not, and a list of 50 comparisons cost 0.1 ms at each start.
    pub fn program() -> Vec<Insn> {
        let mut p = Vec::with_capacity(128);
        // Only x86_64 calls: int 0x80's i386 table and x32 numbers would
        // name other calls by these numbers.
        p.push(insn(LD_ABS, 0, 0, OFF_ARCH));
        p.push(insn(JEQ, 1, 0, AUDIT_ARCH_X86_64));
        p.push(insn(RET, 0, 0, SECCOMP_RET_ERRNO | ENOSYS as u32));
        p.push(insn(LD_ABS, 0, 0, OFF_NR));
        p.push(insn(JGE, 0, 1, X32_SYSCALL_BIT));
        p.push(insn(RET, 0, 0, SECCOMP_RET_ERRNO | ENOSYS as u32));
        let mut to = Vec::new();
        search(&numbers(), &mut p, &mut to);
        // Then the targets (BPF jumps forward only).
        let mut at = [0usize; TARGETS.len()];
        for (i, t) in TARGETS.iter().enumerate() {
            at[i] = p.len();
            match t {
                Target::Eperm => p.push(insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32)),
                Target::Enosys => p.push(insn(RET, 0, 0, SECCOMP_RET_ERRNO | ENOSYS as u32)),
                Target::Ioctl => {
                    p.push(insn(LD_ABS, 0, 0, off_arg(1)));
                    jump_past_on_match(&mut p, IOCTLS);
                    p.push(insn(RET, 0, 0, SECCOMP_RET_ALLOW));
                    p.push(insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32));
                }
                Target::Socket => {
                    p.push(insn(LD_ABS, 0, 0, off_arg(0)));
                    jump_past_on_match(&mut p, FAMILIES);
                    p.push(insn(RET, 0, 0, SECCOMP_RET_ERRNO | EAFNOSUPPORT as u32));
                    p.push(insn(RET, 0, 0, SECCOMP_RET_ALLOW));
                }
                // prlimit64(pid, res, new, old): setting another process's
                // limits (pid != 0 and new != NULL) is refused. The only
                // other processes a session can name are its own and its
                // init; the init's limits are the session's life
                // (RLIMIT_CPU on it ended the session).
                Target::Prlimit => p.extend([
                    insn(LD_ABS, 0, 0, off_arg(0)),
                    insn(JEQ, 4, 0, 0), // pid 0: allow
                    insn(LD_ABS, 0, 0, off_arg(2)),
                    insn(JEQ, 0, 3, 0), // new's low half
                    insn(LD_ABS, 0, 0, off_arg(2) + 4),
                    insn(JEQ, 0, 1, 0), // new's high half: NULL, allow
                    insn(RET, 0, 0, SECCOMP_RET_ALLOW),
                    insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32),
                ]),
                // fchmod with a set-user-ID or set-group-ID bit: a file
                // that runs with its owner's authority outside the session
                // (a root session's setuid-root file makes its runner root
                // on the host).
                Target::Mode1 => p.extend([
                    insn(LD_ABS, 0, 0, off_arg(1)),
                    insn(JSET, 1, 0, SET_ID),
                    insn(RET, 0, 0, SECCOMP_RET_ALLOW),
                    insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32),
                ]),
                // utimensat(fd, PATH, ...): times changed by a path, as for
                // REFUSED's metadata calls; with NULL (futimens) the fd's
                // own file, an fd the program opened (an O_PATH fd: EBADF).
                Target::PathArg1 => p.extend([
                    insn(LD_ABS, 0, 0, off_arg(1)),
                    insn(JEQ, 0, 3, 0), // the pointer's low half
                    insn(LD_ABS, 0, 0, off_arg(1) + 4),
                    insn(JEQ, 0, 1, 0), // its high half: NULL, allow
                    insn(RET, 0, 0, SECCOMP_RET_ALLOW),
                    insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32),
                ]),
                // setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS): the launcher
                // turned SCM_RIGHTS off on the host's Unix sockets that
                // crossed (server/src/pola/crossing.rs); on again, a host
                // process at the other end could send the session a
                // directory of the host's. (The kernel reads both as ints.)
                Target::Sockopt => p.extend([
                    insn(LD_ABS, 0, 0, off_arg(1)),
                    insn(JEQ, 0, 3, SOL_SOCKET as u32),
                    insn(LD_ABS, 0, 0, off_arg(2)),
                    insn(JEQ, 0, 1, SO_PASSRIGHTS),
                    insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32),
                    insn(RET, 0, 0, SECCOMP_RET_ALLOW),
                ]),
                // ptrace(PTRACE_TRACEME): the caller's parent becomes its
                // tracer; for the program that is the session's init, which
                // never waits for a traced child (the session hung), and a
                // traced process runs without the handler (dispatch.rs).
                // Attaching stays (LeakSanitizer stops its own threads so;
                // gdb -p, strace -p): Landlock lets a process trace only
                // processes of its own domain, so never the init nor the
                // launcher, and the session's user namespace gives no
                // CAP_SYS_PTRACE over anything.
                Target::Traceme => p.extend([
                    insn(LD_ABS, 0, 0, off_arg(0)),
                    insn(JEQ, 0, 3, PTRACE_TRACEME as u32),
                    insn(LD_ABS, 0, 0, off_arg(0) + 4),
                    insn(JEQ, 0, 1, 0),
                    insn(RET, 0, 0, SECCOMP_RET_ERRNO | EPERM as u32),
                    insn(RET, 0, 0, SECCOMP_RET_ALLOW),
                ]),
            }
        }
        for (pc, t) in to {
            let i = TARGETS.iter().position(|&x| x == t).unwrap_or(0);
            p[pc].jt = (at[i] - pc - 1) as u8;
        }
        p
    }

    /// One comparison per value: a match jumps to the second instruction
    /// after them, no match falls through to the first.
    fn jump_past_on_match(p: &mut Vec<Insn>, values: &[u32]) {
        for (i, &v) in values.iter().enumerate() {
            p.push(insn(JEQ, (values.len() - i) as u8, 0, v));
        }
    }

    /// What the filter answers for a call: Ok(()) to allow, Err(errno).
    /// A small interpreter of the instructions `program` uses, for tests.
    pub fn verdict(arch: u32, nr: u32, args: [u64; 6]) -> Result<(), u32> {
        let p = program();
        let word = |off: u32| -> u32 {
            match off {
                OFF_NR => nr,
                OFF_ARCH => arch,
                o => {
                    let i = ((o - 16) / 8) as usize;
                    (if (o - 16) % 8 == 0 { args[i] } else { args[i] >> 32 }) as u32
                }
            }
        };
        let (mut pc, mut a) = (0usize, 0u32);
        loop {
            let x = p[pc];
            match x.code {
                LD_ABS => a = word(x.k),
                JEQ | JGE | JSET => {
                    let hit = match x.code {
                        JEQ => a == x.k,
                        JGE => a >= x.k,
                        _ => a & x.k != 0,
                    };
                    pc += if hit { x.jt } else { x.jf } as usize;
                }
                RET if x.k == SECCOMP_RET_ALLOW => return Ok(()),
                RET => return Err(x.k & 0xffff),
                _ => unreachable!("instruction {x:?}"),
            }
            pc += 1;
        }
    }

    /// Installs the filter on the calling thread (the process's only one),
    /// after no_new_privs.
    pub fn install() -> Result<(), i32> {
        let program = program();
        #[repr(C)]
        struct Fprog {
            len: u16,
            filter: *const Insn,
        }
        let prog = Fprog { len: program.len() as u16, filter: program.as_ptr() };
        // SAFETY: a valid sock_fprog pointing at the program, alive for
        // the call; the kernel copies it.
        unsafe { sys::raw(Sysno::seccomp as usize, [SECCOMP_SET_MODE_FILTER, 0, &prog as *const Fprog as usize, 0, 0, 0]) }.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::seccomp::{verdict, ABSENT, FAMILIES, IOCTLS, REFUSED};
    use crate::abi::AUDIT_ARCH_X86_64 as X86_64;
    use crate::errno::{EAFNOSUPPORT, ENOSYS, EPERM};
    use syscalls::Sysno;

    #[test]
    fn the_filter_refuses_its_list_and_nothing_else() {
        for nr in 0..512u32 {
            let refused = REFUSED.iter().any(|s| *s as u32 == nr);
            let v = verdict(X86_64, nr, [0, 0x5401, 0, 0, 0, 0]);
            if nr == Sysno::socket as u32 {
                assert_eq!(v, Err(EAFNOSUPPORT as u32), "socket(0)");
            } else if nr == Sysno::prlimit64 as u32 {
                assert_eq!(v, Ok(()), "prlimit64 of pid 0");
            } else if nr == Sysno::fchmod as u32 {
                assert_eq!(v, Err(EPERM as u32), "fchmod to 0x5401 (S_ISGID)");
            } else if nr == Sysno::ptrace as u32 {
                assert_eq!(v, Err(EPERM as u32), "ptrace(PTRACE_TRACEME)");
            } else if nr == Sysno::utimensat as u32 {
                assert_eq!(v, Err(EPERM as u32), "utimensat with a path");
            } else if ABSENT.iter().any(|s| *s as u32 == nr) {
                assert_eq!(v, Err(ENOSYS as u32), "{:?}", Sysno::new(nr as usize));
            } else if refused {
                assert_eq!(v, Err(EPERM as u32), "{:?}", Sysno::new(nr as usize));
            } else {
                assert_eq!(v, Ok(()), "{:?}", Sysno::new(nr as usize));
            }
        }
    }

    /// The filter's answer, as docs/DESIGN.md's table states it.
    fn spec(arch: u32, nr: u32, a: [u64; 6]) -> Result<(), u32> {
        if arch != X86_64 || nr >= 0x4000_0000 {
            return Err(ENOSYS as u32);
        }
        let set_id = |mode: u64| if mode as u32 & 0o6000 != 0 { Err(EPERM as u32) } else { Ok(()) };
        match Sysno::new(nr as usize) {
            Some(s) if REFUSED.contains(&s) => Err(EPERM as u32),
            Some(s) if ABSENT.contains(&s) => Err(ENOSYS as u32),
            Some(Sysno::ioctl) if IOCTLS.contains(&(a[1] as u32)) => Err(EPERM as u32),
            Some(Sysno::socket) if !FAMILIES.contains(&(a[0] as u32)) => Err(EAFNOSUPPORT as u32),
            Some(Sysno::prlimit64) if a[0] as u32 != 0 && a[2] != 0 => Err(EPERM as u32),
            Some(Sysno::fchmod) => set_id(a[1]),
            Some(Sysno::utimensat) if a[1] != 0 => Err(EPERM as u32),
            Some(Sysno::setsockopt) if a[1] as u32 == 1 && a[2] as u32 == 83 => Err(EPERM as u32),
            Some(Sysno::ptrace) if a[0] == 0 => Err(EPERM as u32),
            _ => Ok(()),
        }
    }

    #[test]
    fn the_filter_answers_as_its_specification() {
        let args: [[u64; 6]; 7] = [
            [0; 6],
            [3, 1 /* SOL_SOCKET */, 83 /* SO_PASSRIGHTS */, 0x7ff0_0000_1000, 4, 0],
            [1, 0x5412 /* TIOCSTI */, 0o4755, 0, 0, 0],
            [16, 0x541c /* TIOCLINUX */, 0x7ff0_0000_1000, 0, 0, 0],
            [2, 0x5401, 0o2755, 0, 0, 0],
            [u64::MAX, u64::MAX, u64::MAX, u64::MAX, u64::MAX, u64::MAX],
            [0x1_0000_0000, 0x1_0000_5412, 0x7ff0_0000_0000, 0, 0, 0],
        ];
        for arch in [X86_64, 0x4000_0003, 0xc000_00b7, 0] {
            for nr in (0..1024u32).chain([0x4000_0000, 0x4000_0001 + 16, u32::MAX, 0x3fff_ffff]) {
                for a in args {
                    assert_eq!(verdict(arch, nr, a), spec(arch, nr, a), "arch {arch:#x} nr {nr} args {a:x?}");
                }
            }
        }
    }

    /// The kernel runs the filter over every call number when it installs
    /// it: each number's walk is a binary search, not the whole list.
    #[test]
    fn every_number_is_found_in_a_few_steps() {
        let p = super::seccomp::program();
        assert!(p.len() < 256, "jumps must stay within a u8: {} instructions", p.len());
        for nr in 0..1024u32 {
            let (mut pc, mut steps) = (3usize, 0);
            // From the number's load, count until a return or an argument's load.
            loop {
                let x = p[pc];
                steps += 1;
                if x.code & 0x07 == 0x06 || (x.code == 0x20 && x.k >= 16) {
                    break;
                }
                let hit = match x.code & 0xf0 {
                    0x10 => nr == x.k,
                    0x30 => nr >= x.k,
                    _ => false,
                };
                pc += 1 + if x.code == 0x20 { 0 } else if hit { x.jt as usize } else { x.jf as usize };
            }
            assert!(steps <= 14, "nr {nr}: {steps} instructions");
        }
    }

    #[test]
    fn ioctls_sockets_and_other_abis() {
        let ioctl = Sysno::ioctl as u32;
        for &cmd in IOCTLS {
            assert_eq!(verdict(X86_64, ioctl, [0, cmd as u64, 0, 0, 0, 0]), Err(EPERM as u32));
            // The tty layer reads an int: high bits do not hide it.
            assert_eq!(verdict(X86_64, ioctl, [0, 0xffff_ffff_0000_0000 | cmd as u64, 0, 0, 0, 0]), Err(EPERM as u32));
        }
        assert_eq!(verdict(X86_64, ioctl, [0, 0x5401 /* TCGETS */, 0, 0, 0, 0]), Ok(()));
        let socket = Sysno::socket as u32;
        for &f in FAMILIES {
            assert_eq!(verdict(X86_64, socket, [f as u64, 1, 0, 0, 0, 0]), Ok(()));
        }
        for f in [16u64 /* AF_NETLINK */, 17 /* AF_PACKET */, 40 /* AF_VSOCK */, 38 /* AF_ALG */] {
            assert_eq!(verdict(X86_64, socket, [f, 3, 0, 0, 0, 0]), Err(EAFNOSUPPORT as u32));
        }
        let prlimit = Sysno::prlimit64 as u32;
        assert_eq!(verdict(X86_64, prlimit, [0, 7, 0x7ff0_0000_1000, 0, 0, 0]), Ok(()), "its own limits");
        assert_eq!(verdict(X86_64, prlimit, [1, 7, 0, 0x7ff0_0000_1000, 0, 0]), Ok(()), "reading another's");
        assert_eq!(verdict(X86_64, prlimit, [1, 0, 0x7ff0_0000_1000, 0, 0, 0]), Err(EPERM as u32), "setting another's");
        assert_eq!(verdict(X86_64, prlimit, [1, 0, 0x7ff0_0000_0000, 0, 0, 0]), Err(EPERM as u32), "a pointer with a zero low half");
        let fchmod = |mode: u64| verdict(X86_64, Sysno::fchmod as u32, [3, mode, 0, 0, 0, 0]);
        assert_eq!(fchmod(0o755), Ok(()), "fchmod 0755");
        assert_eq!(fchmod(0o4755), Err(EPERM as u32), "fchmod 04755");
        assert_eq!(fchmod(0o2775), Err(EPERM as u32), "fchmod 02775");
        for nr in [Sysno::fchmodat, Sysno::fchmodat2, Sysno::fchownat, Sysno::chmod, Sysno::lsetxattr] {
            assert_eq!(verdict(X86_64, nr as u32, [3, 0x7ff0_0000_1000, 0o644, 0, 0, 0]), Err(EPERM as u32), "{nr:?}");
        }
        let utimensat = Sysno::utimensat as u32;
        assert_eq!(verdict(X86_64, utimensat, [3, 0, 0, 0, 0, 0]), Ok(()), "futimens");
        assert_eq!(verdict(X86_64, utimensat, [3, 0x7ff0_0000_1000, 0, 0, 0, 0]), Err(EPERM as u32), "a path");
        assert_eq!(verdict(X86_64, utimensat, [3, 0x7ff0_0000_0000, 0, 0, 0, 0]), Err(EPERM as u32), "a pointer with a zero low half");
        assert_eq!(verdict(X86_64, Sysno::setxattrat as u32, [3, 0x7ff0_0000_1000, 0, 0, 0, 0]), Err(ENOSYS as u32));
        assert_eq!(verdict(X86_64, Sysno::file_setattr as u32, [3, 0x7ff0_0000_1000, 0x7ff0_0000_2000, 24, 0, 0]), Err(ENOSYS as u32));
        let setsockopt = Sysno::setsockopt as u32;
        assert_eq!(verdict(X86_64, setsockopt, [3, 1 /* SOL_SOCKET */, 83 /* SO_PASSRIGHTS */, 0, 4, 0]), Err(EPERM as u32));
        assert_eq!(verdict(X86_64, setsockopt, [3, 0x1_0000_0001, 0x1_0000_0053, 0, 4, 0]), Err(EPERM as u32), "high halves");
        assert_eq!(verdict(X86_64, setsockopt, [3, 1, 2 /* SO_REUSEADDR */, 0, 4, 0]), Ok(()));
        assert_eq!(verdict(X86_64, setsockopt, [3, 6 /* IPPROTO_TCP */, 83, 0, 4, 0]), Ok(()));
        let ptrace = Sysno::ptrace as u32;
        assert_eq!(verdict(X86_64, ptrace, [0 /* PTRACE_TRACEME */, 0, 0, 0, 0, 0]), Err(EPERM as u32));
        assert_eq!(verdict(X86_64, ptrace, [0x1_0000_0000, 0, 0, 0, 0, 0]), Ok(()), "a long, not TRACEME");
        assert_eq!(verdict(X86_64, ptrace, [0x4206 /* PTRACE_SEIZE */, 5, 0, 0, 0, 0]), Ok(()));
        assert_eq!(verdict(X86_64, ptrace, [16 /* PTRACE_ATTACH */, 5, 0, 0, 0, 0]), Ok(()));
        assert_eq!(verdict(0x4000_0003 /* i386 */, 20, [0; 6]), Err(ENOSYS as u32));
        assert_eq!(verdict(X86_64, 0x4000_0000 | Sysno::getpid as u32, [0; 6]), Err(ENOSYS as u32));
    }
}
