//! The names the tracers write in answers, turned back into numbers: the
//! decoder's own tables (handler/src/trace/decode/xlat.rs, included here as
//! source: the handler crate is no_std and not linked into preld), errno
//! names (handler/src/errno.rs) and signal names.

use std::collections::HashMap;
use std::sync::OnceLock;

#[allow(dead_code, clippy::all)]
#[path = "../../../handler/src/trace/decode/xlat.rs"]
mod xlat;

#[allow(dead_code, clippy::all)]
#[path = "../../../handler/src/errno.rs"]
mod errno;

fn constants() -> &'static HashMap<&'static str, i64> {
    static T: OnceLock<HashMap<&'static str, i64>> = OnceLock::new();
    T.get_or_init(|| {
        let mut m = HashMap::new();
        let flags: &[&[xlat::Flag]] = &[
            &xlat::O_FLAGS, &xlat::ACCESS, &xlat::AT, &xlat::AT_ACCESS, &xlat::AT_STATX, &xlat::STATX_MASK,
            &xlat::STATX_ATTR, &xlat::PROT, &xlat::MAP, &xlat::MREMAP, &xlat::MSYNC, &xlat::MCL, &xlat::MLOCK,
            &xlat::CLONE, &xlat::SA, &xlat::WAIT4, &xlat::WAITID, &xlat::SOCK_TYPE, &xlat::SOCK_FLAGS, &xlat::MSG,
            &xlat::FD_FLAGS, &xlat::SEALS, &xlat::LOCK, &xlat::XATTR, &xlat::RENAME, &xlat::UMOUNT, &xlat::MOUNT,
            &xlat::INOTIFY, &xlat::IN_INIT, &xlat::EFD, &xlat::SFD, &xlat::TFD, &xlat::TFD_TIMER, &xlat::TIMER,
            &xlat::EPOLL, &xlat::SPLICE, &xlat::SYNC_RANGE, &xlat::FALLOC, &xlat::MFD, &xlat::GRND, &xlat::RWF,
            &xlat::CLOSE_RANGE, &xlat::RESOLVE, &xlat::POLL, &xlat::ST_FLAGS, &xlat::EPOLL_EVENTS,
        ];
        for set in flags {
            for f in set.iter() {
                m.entry(f.n).or_insert(f.v as i64);
            }
        }
        let enums: &[&xlat::Xlat] = &[
            &xlat::WHENCE, &xlat::SIGHOW, &xlat::ITIMER, &xlat::SHUT, &xlat::PRIO, &xlat::RUSAGE, &xlat::IDTYPE,
            &xlat::EPOLL_CTL, &xlat::LEASE, &xlat::FUTEX_BITSET, &xlat::SYS_DISPATCH, &xlat::PR_VMA,
            &xlat::SECCOMP_MODE, &xlat::SECCOMP_OP, &xlat::FADV, &xlat::SCHED, &xlat::RLIMIT, &xlat::CLOCK,
            &xlat::MADV, &xlat::ARCH, &xlat::FCNTL, &xlat::FUTEX, &xlat::PTRACE, &xlat::PTRACE_EVENT, &xlat::AF,
            &xlat::IPPROTO, &xlat::NETLINK, &xlat::SOL, &xlat::SO, &xlat::TCP, &xlat::IOCTL, &xlat::SS_FLAGS,
            &xlat::FS_MAGIC, &xlat::SCM,
        ];
        for x in enums {
            for &(v, n) in x.v {
                m.entry(n).or_insert(v as i32 as i64);
            }
        }
        // Printed by the decoder's code rather than from a table
        // (print/numbers.rs: the access mode of open's flags).
        m.insert("AT_FDCWD", -100);
        m.insert("O_RDONLY", 0);
        m.insert("O_WRONLY", 1);
        m.insert("O_RDWR", 2);
        m
    })
}

/// The value of a symbolic constant the decoder prints (`O_RDONLY`,
/// `AT_FDCWD`, `CLOCK_REALTIME`...).
pub fn constant(name: &str) -> Option<i64> {
    constants().get(name).copied()
}

/// An errno by name (`ENOENT`), or a number.
pub fn errno(name: &str) -> Option<i32> {
    if let Ok(n) = name.parse::<i32>() {
        return (1..4096).contains(&n).then_some(n);
    }
    errno::ERRNOS.iter().find(|e| e.1 == name).map(|e| e.0)
        .or_else(|| xlat::KERNEL_ERRNOS.iter().find(|e| e.1 == name).map(|e| e.0))
}

/// An errno's name (`EIO`), as results show it.
pub fn errno_name(e: i32) -> String {
    errno::ERRNOS.iter().find(|x| x.0 == e).map(|x| x.1)
        .or_else(|| xlat::KERNEL_ERRNOS.iter().find(|x| x.0 == e).map(|x| x.1))
        .map_or_else(|| e.to_string(), str::to_string)
}

/// A signal by name (`SIGUSR1`, `SIGRTMIN`, `SIGRT_2`) or number.
pub fn signal(name: &str) -> Option<i32> {
    if let Ok(n) = name.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    (1..=64).find(|&s| crate::trace::signal_name(s) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(constant("O_RDONLY"), Some(0));
        assert_eq!(constant("O_CLOEXEC"), Some(0o2000000));
        assert_eq!(constant("AT_FDCWD"), Some(-100));
        assert_eq!(constant("CLOCK_MONOTONIC"), Some(1));
        assert_eq!(constant("NOPE"), None);
        assert_eq!(errno("EIO"), Some(5));
        assert_eq!(errno("ENOENT"), Some(2));
        assert_eq!(errno("EBOGUS"), None);
        assert_eq!(errno_name(2), "ENOENT");
        assert_eq!(signal("SIGUSR1"), Some(10));
        assert_eq!(signal("SIGRT_2"), Some(34));
        assert_eq!(signal("SIGNOPE"), None);
    }
}
