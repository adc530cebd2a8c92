//! `preld trace -e`: strace's `trace=` qualifier, expanded here into the plain
//! list of system-call names that ld-preld's `--trace-filter` takes.
//!
//! The grammar is strace's: `[trace=][!...]SET`, SET being `all`, `none`, or
//! comma-separated tokens, each a call name, a call number, or a class
//! (`%file`, `%process`...; the old spellings `file`, `process`... too); a
//! token prefixed with `?` may be unknown. The last `-e trace=` wins, as in
//! strace. Names are checked against the same `syscalls` crate the handler
//! parses them with, so that a typo is an error here and never a filter that
//! silently matches nothing. strace's `/REGEX` tokens and its other
//! qualifiers (`signal=`, `abbrev=`, `inject=`...) are refused, by name.

use syscalls::Sysno;

/// What `-e` selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Every call: ld-preld gets no `--trace-filter`.
    All,
    /// Exactly these calls (possibly none), by their x86_64 names.
    Only(Vec<&'static str>),
}

impl Filter {
    /// The value of ld-preld's `--trace-filter`, or None for all calls.
    pub fn ld_preld_arg(&self) -> Option<String> {
        match self {
            Filter::All => None,
            Filter::Only(names) => Some(names.join(",")),
        }
    }
}

/// strace's syscall classes for x86_64 (the TD, TF, TM, TP, TS, TN, TI, TC,
/// TCL, stat and PU flags of strace's src/linux/x86_64/syscallent.h and
/// syscallent-common.h), listed by name.
#[rustfmt::skip]
const CLASSES: &[(&str, &[&str])] = &[
    ("desc", DESC),
    ("file", FILE),
    ("memory", MEMORY),
    ("process", PROCESS),
    ("signal", SIGNAL),
    ("ipc", IPC),
    ("network", NETWORK),
    ("net", NETWORK),
    ("creds", CREDS),
    ("clock", CLOCK),
    ("pure", PURE),
    ("stat", &["stat"]),
    ("lstat", &["lstat"]),
    ("fstat", &["fstat", "newfstatat", "statx"]),
    ("%stat", &["stat", "fstat", "lstat", "newfstatat", "statx"]),
    ("statfs", &["statfs"]),
    ("fstatfs", &["fstatfs"]),
    ("%statfs", &["ustat", "statfs", "fstatfs"]),
];

/// Classes strace also accepts without the `%` (its older spelling).
const BARE_CLASSES: &[&str] = &["desc", "file", "memory", "process", "signal", "ipc", "network"];

/// Calls that take or return a file descriptor (strace's TD).
#[rustfmt::skip]
const DESC: &[&str] = &[
    "read", "write", "open", "close", "fstat", "poll", "lseek", "mmap", "ioctl", "pread64", "pwrite64", "readv",
    "writev", "pipe", "select", "dup", "dup2", "sendfile", "fcntl", "flock", "fsync", "fdatasync", "ftruncate",
    "getdents", "fchdir", "creat", "fchmod", "fchown", "fstatfs", "readahead", "fsetxattr", "fgetxattr",
    "flistxattr", "fremovexattr", "epoll_create", "getdents64", "fadvise64", "epoll_wait", "epoll_ctl", "mq_open",
    "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "inotify_init", "inotify_add_watch",
    "inotify_rm_watch", "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "newfstatat", "unlinkat",
    "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat", "pselect6", "ppoll", "splice", "tee",
    "sync_file_range", "vmsplice", "utimensat", "epoll_pwait", "signalfd", "timerfd_create", "eventfd",
    "fallocate", "timerfd_settime", "timerfd_gettime", "signalfd4", "eventfd2", "epoll_create1", "dup3", "pipe2",
    "inotify_init1", "preadv", "pwritev", "perf_event_open", "fanotify_init", "fanotify_mark", "name_to_handle_at",
    "open_by_handle_at", "syncfs", "setns", "finit_module", "renameat2", "memfd_create", "kexec_file_load", "bpf",
    "execveat", "userfaultfd", "copy_file_range", "preadv2", "pwritev2", "statx", "pidfd_send_signal",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig",
    "fsmount", "fspick", "pidfd_open", "openat2", "pidfd_getfd", "faccessat2", "process_madvise", "epoll_pwait2",
    "mount_setattr", "quotactl_fd", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "memfd_secret", "process_mrelease", "cachestat", "fchmodat2",
];

/// Calls that take a file name (strace's TF).
#[rustfmt::skip]
const FILE: &[&str] = &[
    "open", "stat", "lstat", "access", "execve", "truncate", "getcwd", "chdir", "rename", "mkdir", "rmdir", "creat",
    "link", "unlink", "symlink", "readlink", "chmod", "chown", "lchown", "utime", "mknod", "uselib", "statfs",
    "pivot_root", "chroot", "acct", "mount", "umount2", "swapon", "swapoff", "quotactl", "setxattr", "lsetxattr",
    "getxattr", "lgetxattr", "listxattr", "llistxattr", "removexattr", "lremovexattr", "utimes",
    "inotify_add_watch", "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "newfstatat", "unlinkat",
    "renameat", "linkat", "symlinkat", "readlinkat", "fchmodat", "faccessat", "utimensat", "fanotify_mark",
    "name_to_handle_at", "renameat2", "execveat", "statx", "open_tree", "move_mount", "fsconfig", "fspick",
    "openat2", "faccessat2", "mount_setattr", "fchmodat2",
];

/// Memory mapping calls (strace's TM).
#[rustfmt::skip]
const MEMORY: &[&str] = &[
    "mmap", "mprotect", "munmap", "brk", "mremap", "msync", "mincore", "madvise", "shmat", "shmdt", "mlock",
    "munlock", "mlockall", "munlockall", "io_setup", "io_destroy", "remap_file_pages", "mbind", "set_mempolicy",
    "get_mempolicy", "migrate_pages", "move_pages", "mlock2", "pkey_mprotect", "io_uring_register",
    "set_mempolicy_home_node", "map_shadow_stack",
];

/// Process management (strace's TP).
#[rustfmt::skip]
const PROCESS: &[&str] = &[
    "clone", "fork", "vfork", "execve", "exit", "wait4", "kill", "rt_sigqueueinfo", "tkill", "exit_group", "tgkill",
    "waitid", "rt_tgsigqueueinfo", "execveat", "pidfd_send_signal", "clone3",
];

/// Signal-related calls (strace's TS).
#[rustfmt::skip]
const SIGNAL: &[&str] = &[
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "pause", "kill", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigqueueinfo", "rt_sigsuspend", "sigaltstack", "tkill", "tgkill", "signalfd", "signalfd4",
    "rt_tgsigqueueinfo", "pidfd_send_signal", "io_uring_enter",
];

/// Network-related calls (strace's TN).
#[rustfmt::skip]
const NETWORK: &[&str] = &[
    "sendfile", "socket", "connect", "accept", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
    "listen", "getsockname", "getpeername", "socketpair", "setsockopt", "getsockopt", "getpmsg", "putpmsg",
    "accept4", "recvmmsg", "sendmmsg",
];

/// System V IPC (strace's TI).
#[rustfmt::skip]
const IPC: &[&str] = &[
    "shmget", "shmat", "shmctl", "semget", "semop", "semctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semtimedop",
];

/// User and group identifiers, capabilities (strace's TC).
#[rustfmt::skip]
const CREDS: &[&str] = &[
    "getuid", "getgid", "setuid", "setgid", "geteuid", "getegid", "setreuid", "setregid", "getgroups", "setgroups",
    "setresuid", "getresuid", "setresgid", "getresgid", "setfsuid", "setfsgid", "capget", "capset", "prctl",
];

/// System clocks (strace's TCL).
#[rustfmt::skip]
const CLOCK: &[&str] = &[
    "gettimeofday", "adjtimex", "settimeofday", "time", "clock_settime", "clock_gettime", "clock_getres",
    "clock_adjtime",
];

/// Calls that always succeed and take no arguments (strace's PU).
pub(crate) const PURE: &[&str] = &["getpid", "getuid", "getgid", "geteuid", "getegid", "getppid", "getpgrp", "gettid"];

/// One `-e` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `trace=SET`, or a bare SET: which calls are shown.
    Trace(Filter),
    /// `inject=...` or `fault=...`: calls tampered with (inject.rs).
    Inject(crate::inject::Inject),
}

/// Parses one `-e` argument (clap's value parser for it).
pub fn parse_expr(expr: &str) -> Result<Expr, String> {
    match expr.split_once('=') {
        Some(("inject", spec)) => crate::inject::parse(spec, false).map(Expr::Inject),
        Some(("fault", spec)) => crate::inject::parse(spec, true).map(Expr::Inject),
        _ => parse(expr).map(Expr::Trace),
    }
}

/// Parses a `trace=SET` (or bare SET) expression.
pub fn parse(expr: &str) -> Result<Filter, String> {
    let set = match expr.split_once('=') {
        Some(("trace" | "t", set)) => set,
        Some((q, _)) => {
            return Err(format!("`-e {q}=` is not supported: preld trace knows `-e trace=SET`, `-e inject=` and `-e fault=`"));
        }
        None => expr,
    };
    // Each leading `!` inverts the rest, as in strace.
    let invert = set.bytes().take_while(|&c| c == b'!').count() % 2 == 1;
    let set = set.trim_start_matches('!');
    let mut chosen = [false; 1024];
    match set {
        "all" => chosen.fill(true),
        "none" => {}
        "" => return Err("empty system call list".into()),
        _ => {
            for token in set.split(',') {
                add(token, &mut chosen)?;
            }
        }
    }
    if invert {
        for c in chosen.iter_mut() {
            *c = !*c;
        }
    }
    let names: Vec<&'static str> = Sysno::iter().filter(|s| chosen[s.id() as usize]).map(|s| s.name()).collect();
    if names.len() == Sysno::iter().count() {
        Ok(Filter::All)
    } else {
        Ok(Filter::Only(names))
    }
}

/// Marks the calls one token names.
fn add(token: &str, chosen: &mut [bool; 1024]) -> Result<(), String> {
    let may_fail = token.starts_with('?');
    let t = token.trim_start_matches('?');
    let found: Vec<Sysno> = if t.is_empty() {
        return Err(format!("empty system call name in `{token}`"));
    } else if t.starts_with('/') {
        return Err(format!("`{t}`: regular expressions are not supported; name the calls or a %class"));
    } else if let Some(class) = class(t) {
        class.iter().map(|n| n.parse().expect("class member checked by unit test")).collect()
    } else if t.bytes().all(|c| c.is_ascii_digit()) {
        t.parse::<usize>().ok().and_then(Sysno::new).into_iter().collect()
    } else {
        t.parse::<Sysno>().into_iter().collect()
    };
    if found.is_empty() && !may_fail {
        return Err(if t.starts_with('%') {
            format!("unknown system call class `{t}` (known: {})", class_names())
        } else {
            format!("unknown x86_64 system call `{t}`")
        });
    }
    for s in found {
        chosen[s.id() as usize] = true;
    }
    Ok(())
}

fn class(token: &str) -> Option<&'static [&'static str]> {
    let name = match token.strip_prefix('%') {
        Some(n) => n,
        None if BARE_CLASSES.contains(&token) => token,
        None => return None,
    };
    CLASSES.iter().find(|(n, _)| *n == name).map(|(_, members)| *members)
}

fn class_names() -> String {
    CLASSES.iter().map(|(n, _)| format!("%{n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(expr: &str) -> Vec<&'static str> {
        match parse(expr).unwrap() {
            Filter::Only(v) => v,
            Filter::All => panic!("{expr}: all"),
        }
    }

    #[test]
    fn every_class_member_is_a_call_the_handler_knows() {
        for (class, members) in CLASSES {
            for m in *members {
                assert!(m.parse::<Sysno>().is_ok(), "%{class}: `{m}` unknown to the syscalls crate");
            }
        }
    }

    #[test]
    fn names_with_and_without_trace_prefix() {
        assert_eq!(only("trace=openat"), ["openat"]);
        assert_eq!(only("openat,close"), ["close", "openat"]);
        assert_eq!(only("t=read"), ["read"]);
        assert_eq!(only("trace=0"), ["read"]);
        assert_eq!(only("trace=none"), Vec::<&str>::new());
        assert_eq!(parse("trace=all").unwrap(), Filter::All);
        assert_eq!(parse("trace=!none").unwrap(), Filter::All);
        assert_eq!(only("?nosuchcall,read"), ["read"]);
    }

    #[test]
    fn classes_expand() {
        let file = only("trace=%file");
        assert!(file.contains(&"openat") && file.contains(&"execve") && !file.contains(&"read"));
        assert_eq!(only("file"), file);
        let net = only("%net");
        assert_eq!(net, only("%network"));
        assert!(net.contains(&"socket") && net.contains(&"sendmmsg"));
        assert!(only("%process").contains(&"clone3"));
        assert!(only("%memory").contains(&"mmap"));
        assert!(only("%signal").contains(&"rt_sigaction"));
        assert!(only("%desc").contains(&"close"));
        assert_eq!(only("%%stat"), ["stat", "fstat", "lstat", "newfstatat", "statx"]);
        // A name that is also a member is counted once.
        assert_eq!(only("%pure,getpid").iter().filter(|n| **n == "getpid").count(), 1);
    }

    #[test]
    fn inversion() {
        let not_open = only("trace=!openat");
        assert!(!not_open.contains(&"openat") && not_open.contains(&"read"));
        assert_eq!(not_open.len(), Sysno::iter().count() - 1);
        assert_eq!(only("!!openat"), ["openat"]);
        assert_eq!(only("!all"), Vec::<&str>::new());
    }

    #[test]
    fn errors_name_the_problem() {
        let e = parse("trace=openat,nosuchcall").unwrap_err();
        assert!(e.contains("nosuchcall"), "{e}");
        assert!(parse("trace=%nosuchclass").unwrap_err().contains("%file"));
        assert!(parse("signal=SIGINT").unwrap_err().contains("signal="));
        assert!(parse("trace=/^open").unwrap_err().contains("regular expressions"));
        assert!(parse("trace=").is_err());
        assert!(parse("trace=openat,,read").is_err());
        assert!(parse("trace=99999").is_err());
    }

    #[test]
    fn filter_argument() {
        assert_eq!(parse("openat,read").unwrap().ld_preld_arg().as_deref(), Some("read,openat"));
        assert_eq!(parse("none").unwrap().ld_preld_arg().as_deref(), Some(""));
        assert_eq!(parse("all").unwrap().ld_preld_arg(), None);
    }
}
