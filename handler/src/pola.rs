//! A capability session's system calls: every call that names a file is
//! answered by the capability server (rpc.rs); calls that would go around
//! it are refused. The kernel enforces the session anyway (sandbox.rs):
//! this is what makes unmodified programs work inside it.
//!
//! Relative paths are made absolute against the process's virtual cwd,
//! which the client keeps (it is per process, the server's is per
//! connection: a chdir on one thread's connection, or in a parent before a
//! fork, leaves the others behind). The server's cwd is only where a Chdir
//! ends (its reply); an exec gives the new image the process's cwd as an
//! argument (`--cwd`), so no request ever depends on the connection's.
//! `*at()` calls send their directory fd along. Virtual directories (parents of grants, like `/`) arrive as
//! empty stand-in directories; their getdents64 is synthesized from the
//! server's ReadDir of that very fd (the server knows which virtual
//! directory each stand-in is), continuing where the last call stopped;
//! lseek on them sets that position, as on a real directory.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use preld_proto::{PathArg, ReplyData, Request, Timespec, OPEN_VIRTUAL_DIR, STAT_SIZE};
use syscalls::Sysno;

use crate::abi::{AF_UNIX, MSG_DONTWAIT, AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFL};
use crate::abi::{OPEN_HOW_SIZE_VER0, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS};
use crate::abi::{O_CLOEXEC, O_CREAT, O_EXCL, O_TRUNC, O_WRONLY, SEEK_CUR, SEEK_SET, UTIME_NOW};
use crate::abi::{AT_EACCESS, AT_NO_AUTOMOUNT, AT_STATX_DONT_SYNC, AT_STATX_SYNC_TYPE, O_ACCMODE, O_DIRECT, O_DIRECTORY, O_DSYNC, O_LARGEFILE};
use crate::abi::{O_APPEND, O_RDWR, S_IFIFO, O_TMPFILE_BIT, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_SYNC, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, W_OK, X_OK};
use crate::call::{Call, Outcome};
use crate::errno::{E2BIG, EACCES, EAGAIN, EBADF, EEXIST, EFAULT, EINTR, EINVAL, EIO, ELOOP, EMSGSIZE, ENAMETOOLONG, ENOENT, ENOSYS, ENOTSUP, EPERM, ERANGE, EXDEV};
use crate::beneath::PathIn;
use crate::pathmap::own_proc_entry;
use crate::thread::{ThreadBlock, PATH_MAX};
use crate::{beneath, owners, rpc, sys, usermem};


/// The process's virtual cwd.
static CWD_LOCK: AtomicBool = AtomicBool::new(false);
static mut CWD: Vec<u8> = Vec::new();
/// The stand-ins of virtual directories this process opened, by (device,
/// inode): an fd of one, however it was copied, lists the virtual
/// directory. Its position is the kernel's offset of the stand-in's open
/// file (lseek, dup and fork share it as for any directory), which the
/// listing sets to the index of the next entry.
static mut VDIRS: Vec<(u64, u64)> = Vec::new();

/// Names of Unix sockets the server bound for this process: (the name the
/// kernel keeps, the server's `/proc/self/fd/N/NAME`; the name the program
/// gave bind). getsockname and getpeername show the program's.
static mut SOCK_NAMES: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();

/// The spin lock of CWD, VDIRS and SOCK_NAMES (taken with signals blocked).
struct Lock;
impl Lock {
    fn take() -> Lock {
        while CWD_LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        Lock
    }
    fn cwd(&mut self) -> &mut Vec<u8> {
        // SAFETY: the lock is held for as long as `self` lives, and the
        // reference borrows `self` mutably: it is the only one.
        unsafe { &mut *core::ptr::addr_of_mut!(CWD) }
    }
    fn sock_names(&mut self) -> &mut Vec<(Vec<u8>, Vec<u8>)> {
        // SAFETY: as for cwd.
        unsafe { &mut *core::ptr::addr_of_mut!(SOCK_NAMES) }
    }
    fn vdirs(&mut self) -> &mut Vec<(u64, u64)> {
        // SAFETY: as above.
        unsafe { &mut *core::ptr::addr_of_mut!(VDIRS) }
    }
}
impl Drop for Lock {
    fn drop(&mut self) {
        CWD_LOCK.store(false, Ordering::Release);
    }
}

/// In a fork child: another thread may have held the lock at the fork.
pub fn forked() {
    CWD_LOCK.store(false, Ordering::Release);
}

/// At startup: the session's cwd, as the exec that started this image
/// gave it (`--cwd`), else from the server.
pub fn init_cwd(conn: i32, given: Option<Vec<u8>>) {
    if let Some(cwd) = given {
        *Lock::take().cwd() = cwd;
        return;
    }
    let mut buf = [0u8; PATH_MAX + 64];
    if let Ok((r, _)) = rpc::call_on(conn, &Request::Getcwd, &[], &mut buf, true) {
        if let ReplyData::Bytes(b) = r.data {
            *Lock::take().cwd() = b.to_vec();
        }
    }
    if Lock::take().cwd().is_empty() {
        *Lock::take().cwd() = b"/".to_vec();
    }
}

/// The virtual cwd of the calling thread's process: its own in a child
/// that shares memory but not the cwd (vfork, posix_spawn: its chdir must
/// not move its parent), else the process's.
pub fn cwd(t: &ThreadBlock) -> Vec<u8> {
    match &t.own_cwd {
        Some(own) => own.clone(),
        None => Lock::take().cwd().clone(),
    }
}

fn set_cwd(t: &mut ThreadBlock, new: &[u8]) {
    match &mut t.own_cwd {
        Some(own) => *own = new.to_vec(),
        None => *Lock::take().cwd() = new.to_vec(),
    }
}


/// Reads a path argument; relative ones become absolute against the cwd
/// (or stay relative to `dirfd`). Errors are the call's result (-errno).
fn path_in(t: &ThreadBlock, dirfd: i32, addr: usize) -> Result<PathIn, isize> {
    let mut raw = [0u8; PATH_MAX];
    let Some(n) = usermem::read_cstr(addr, &mut raw) else {
        // No NUL within PATH_MAX bytes, all of them readable: the kernel's
        // getname says ENAMETOOLONG (EFAULT only where it cannot read).
        return Err(-(if usermem::read(addr, &mut raw) { ENAMETOOLONG } else { EFAULT } as isize));
    };
    path_from(t, dirfd, &mut raw, n)
}

/// `path_in` of a path already read (`raw[..n]`, as the application gave it).
fn path_from(t: &ThreadBlock, dirfd: i32, raw: &mut [u8; PATH_MAX], mut n: usize) -> Result<PathIn, isize> {
    let mut p = PathIn { buf: [0; PATH_MAX], len: 0, dirfd: None };
    // /proc/self/root and cwd lead to paths that may be the handler's names
    // again (`/proc/self/root/proc/self/exe`): looked at anew, as many
    // times as the kernel follows links (then ELOOP).
    for _ in 0..40 {
        match names_from(t, dirfd, raw, n, &mut p)? {
            Some(again) => {
                raw[..again].copy_from_slice(&p.buf[..again]);
                n = again;
            }
            None => return Ok(p),
        }
    }
    Err(-(ELOOP as isize))
}

/// One look of `path_from` at `raw[..n]`: the path in `p`, or the length
/// of the path to look at again (in `p.buf`: where a /proc/self/root or
/// cwd link led, or a relative name joined to a cwd below /proc or /dev).
fn names_from(t: &ThreadBlock, dirfd: i32, raw: &mut [u8; PATH_MAX], mut n: usize, p: &mut PathIn) -> Result<Option<usize>, isize> {
    // The names the handler makes itself, however spelt (`//proc/self/fd/3`,
    // `/./dev/stdin`): the server has no /proc, and its /dev is the grants'.
    if let Some(c) = crate::pathmap::collapsed(&raw[..n]).filter(|c| c.starts_with(b"/proc") || c.starts_with(b"/dev/")) {
        raw[..c.len()].copy_from_slice(&c);
        n = c.len();
    }
    if let Some(rest) = raw[..n].strip_prefix(b"/dev/fd").filter(|r| r.is_empty() || r[0] == b'/') {
        // /dev/fd is /proc/self/fd, as its symlink says natively (a listing
        // of it is the session's procfs's).
        let (rest_len, head) = (rest.len(), b"/proc/self/fd");
        if head.len() + rest_len >= PATH_MAX {
            return Err(-(ENAMETOOLONG as isize));
        }
        raw.copy_within(7..n, head.len());
        raw[..head.len()].copy_from_slice(head);
        n = head.len() + rest_len;
    }
    let raw = &raw[..n];
    if raw.is_empty() {
        return Err(-(ENOENT as isize));
    }
    if raw == b"/dev/ptmx" && beneath::has_ptys() {
        // The session's own pty multiplexer: its devpts's ptmx, as in a
        // container whose /dev/ptmx links to pts/ptmx.
        let to = b"/dev/pts/ptmx";
        p.buf[..to.len()].copy_from_slice(to);
        p.len = to.len();
        return Ok(None);
    }
    if crate::pathmap::is_self_exe(raw) {
        // /proc/self/exe: the program.
        let prog = program_path();
        if prog.first() == Some(&b'/') && prog.len() < PATH_MAX {
            p.buf[..prog.len()].copy_from_slice(prog);
            p.len = prog.len();
            return Ok(None);
        }
    }
    if let Some((link, rest)) = self_dir_link(raw) {
        // /proc/self/cwd and root: the virtual cwd and the session's root
        // (the kernel's links name the handler's own cwd and root).
        let base = match link {
            SelfDirLink::Cwd => cwd(t),
            SelfDirLink::Root => b"/".to_vec(),
        };
        let sep = usize::from(!base.ends_with(b"/") && !rest.is_empty());
        if base.len() + sep + rest.len() >= PATH_MAX {
            return Err(-(ENAMETOOLONG as isize));
        }
        let len = base.len() + sep + rest.len();
        p.buf[..base.len()].copy_from_slice(&base);
        p.buf[base.len()..base.len() + sep].copy_from_slice(&b"/"[..sep]);
        p.buf[base.len() + sep..len].copy_from_slice(rest);
        return Ok(Some(len));
    }
    if fdinfo_of_own_fd(raw) {
        // (/proc/self/fdinfo/N: preld's fds are none of the program's.)
        return Err(-(ENOENT as isize));
    }
    if let Some((fd, rest)) = fd_path(raw) {
        // A session has no /proc: the fd itself is the directory (or, with
        // nothing after it, the file) the path names. preld's own fds are
        // not there, as natively no fd that is not open.
        if crate::ownfd::is_own(fd as usize) {
            return Err(-(ENOENT as isize));
        }
        p.buf[..rest.len()].copy_from_slice(rest);
        p.len = rest.len();
        p.dirfd = Some(fd);
    } else {
        p.buf[..n].copy_from_slice(raw);
        plain_path(t, dirfd, p, n)?;
        if let Some(named) = beside_procfs(p.dirfd, raw) {
            // `openat(fd of /dev/fd/, "63")`: /proc/PID/fd/63, one of the
            // handler's names, looked at as such.
            p.buf[..named.len()].copy_from_slice(&named);
            p.dirfd = None;
            return Ok(Some(named.len()));
        }
        let joined = &p.buf[..p.len];
        if raw[0] != b'/' && p.dirfd.is_none() && (joined.starts_with(b"/proc/") || joined.starts_with(b"/dev/")) {
            return Ok(Some(p.len)); // (`self/exe` from /proc)
        }
    }
    Ok(None)
}

/// `raw`, relative to directory fd `dirfd` on the session's procfs (of
/// /proc, /proc/self, /dev/fd/...), as an absolute path when that is one of
/// the names the handler makes itself (/proc/PID/fd/N[/REST], exe, cwd,
/// root of this process): gzip opens its input `/dev/fd/63` as
/// `openat(open("/dev/fd/"), "63")`, find and fts stat and read fd/N
/// beside their directory's fd. The kernel's walk there stopped at the
/// magic link (ELOOP) or followed it to preld's own names (ld-preld for
/// exe). Only names that may be such (a number, self, fd...) are looked at.
fn beside_procfs(dirfd: Option<i32>, raw: &[u8]) -> Option<Vec<u8>> {
    let dirfd = dirfd?;
    if raw.first().is_none_or(|&b| b == b'/') {
        return None;
    }
    let first = raw.split(|&b| b == b'/').next()?;
    let may_be = first.first().is_some_and(u8::is_ascii_digit)
        || matches!(first, b"self" | b"thread-self" | b"task" | b"fd" | b"exe" | b"cwd" | b"root");
    if !may_be || beneath::grant_of_fd(dirfd)?.resolve_mode() != b'p' {
        return None;
    }
    let dir = kernel_fd_name(dirfd)?;
    if !dir.starts_with(b"/proc") || dir.len() + 1 + raw.len() >= PATH_MAX {
        return None;
    }
    let joined = [&dir[..], b"/", raw].concat();
    let ours = crate::pathmap::is_self_exe(&joined) || self_dir_link(&joined).is_some() || fd_path(&joined).is_some();
    ours.then_some(joined)
}

/// A path none of whose names the handler answers for itself, as the
/// application gave it in `p.buf[..n]`: absolute, relative to the
/// application's `dirfd`, or to the virtual cwd (joined here).
fn plain_path(t: &ThreadBlock, dirfd: i32, p: &mut PathIn, n: usize) -> Result<(), isize> {
    if p.buf[0] == b'/' {
        p.len = n;
    } else if dirfd != AT_FDCWD {
        // preld's own fds are no fds of the program's (nor sent to the server).
        if crate::ownfd::is_own(dirfd as usize) {
            return Err(-(EBADF as isize));
        }
        p.len = n;
        p.dirfd = Some(dirfd);
    } else {
        let mut l = Lock::take();
        let cwd: &[u8] = match &t.own_cwd {
            Some(own) => own,
            None => l.cwd(),
        };
        let sep = usize::from(!cwd.ends_with(b"/"));
        let k = cwd.len() + sep;
        if cwd.len() + 1 + n > PATH_MAX {
            return Err(-(ENAMETOOLONG as isize));
        }
        p.buf.copy_within(..n, k);
        p.buf[..cwd.len()].copy_from_slice(cwd);
        p.buf[cwd.len()..k].fill(b'/');
        p.len = k + n;
    }
    Ok(())
}

/// An fd argument itself (fchdir, fchmod, fchown, AT_EMPTY_PATH), as the
/// server takes it. preld's own fds are no fds of the program's: EBADF, as
/// the base layer answers (the session's entries come first; fchdir of a
/// directory grant's fd moved the cwd into it).
fn fd_in(fd: i32) -> Result<PathIn, isize> {
    if crate::ownfd::is_own(fd as usize) {
        return Err(-(EBADF as isize));
    }
    Ok(PathIn { buf: [0; PATH_MAX], len: 0, dirfd: Some(fd) })
}

/// fchmod's and fchown's fd: an O_PATH fd is EBADF, as natively (the
/// server, given the fd, changed its file).
fn fd_in_as_given(fd: i32) -> Result<(), isize> {
    match sys::fcntl(fd, F_GETFL, 0) {
        Ok(fl) if fl & O_PATH != 0 => Err(-(EBADF as isize)),
        _ => Ok(()),
    }
}

/// The path of a metadata change (chmod, chown, utimensat) and its flags:
/// with AT_EMPTY_PATH and "", the fd itself; a magic link of an fd
/// (`/proc/self/fd/N`, `/dev/fd/N`, `/dev/stdin`: glibc's fchmodat with
/// AT_SYMLINK_NOFOLLOW, on an O_PATH fd) names the fd itself too, which the
/// server takes with AT_EMPTY_PATH (without: the fd as a directory with an
/// empty name, ENOTDIR where natively the file's mode changed).
fn meta_path_in(t: &ThreadBlock, dirfd: i32, addr: usize, flags: usize) -> Result<(PathIn, usize), isize> {
    let mut first = [0u8; 1];
    if flags & AT_EMPTY_PATH != 0 && usermem::read(addr, &mut first) && first[0] == 0 {
        return Ok((fd_in(dirfd)?, flags));
    }
    let p = path_in(t, dirfd, addr)?;
    let itself = p.len == 0 && p.dirfd.is_some();
    Ok((p, if itself { flags | AT_EMPTY_PATH } else { flags }))
}

/// The program's path, which /proc/self/exe names in a session.
fn program_path() -> &'static [u8] {
    let prog = &crate::config::get().program;
    prog.strip_suffix(b"\0").unwrap_or(prog)
}

/// The symlinks of /dev that name /proc/self/fd, as natively.
fn dev_fd_link(name: &[u8]) -> Option<&'static [u8]> {
    Some(match name {
        b"/dev/fd" => b"/proc/self/fd",
        b"/dev/stdin" => b"/proc/self/fd/0",
        b"/dev/stdout" => b"/proc/self/fd/1",
        b"/dev/stderr" => b"/proc/self/fd/2",
        _ => return None,
    })
}

/// `/proc/self/{exe,cwd,root,fd/N}` (absolute, nothing after the link)
/// as a path to look at the link itself in the session's procfs.
fn proc_link_itself(t: &ThreadBlock, dirfd: i32, addr: usize) -> Option<PathIn> {
    let mut got = [0u8; 64];
    let n = usermem::read_cstr(addr, &mut got)?;
    let mut name = Vec::from(&got[..n]);
    if let Some(abs) = beside_procfs(Some(dirfd).filter(|&d| d != AT_FDCWD), &name) {
        // fd/N beside a directory fd of the session's procfs (find's lstat).
        name = abs;
    }
    // (lstat answered for what the link names: a regular file;
    // session-17b adversary.)
    join_proc_cwd(t, dirfd, &mut name);
    if let Some(fd) = name.strip_prefix(b"/dev/fd/") {
        // /dev/fd/N: /proc/self/fd/N through /dev/fd's symlink.
        name = [&b"/proc/self/fd/"[..], fd].concat();
    }
    let raw = &name[..];
    let is_link = crate::pathmap::is_self_exe(raw)
        || matches!(self_dir_link(raw), Some((_, b"")))
        // (Not preld's fds' links: the session's procfs has them, the
        // program's fds do not; left to `names_from`'s ENOENT. Session-18b
        // adversary: lstat of /proc/self/fd/1008 was 0.)
        || (raw.starts_with(b"/proc/") && matches!(fd_path(raw), Some((fd, b"")) if !crate::ownfd::is_own(fd as usize)));
    if !is_link {
        return None;
    }
    let mut p = PathIn { buf: [0; PATH_MAX], len: raw.len(), dirfd: None };
    p.buf[..raw.len()].copy_from_slice(raw);
    Some(p)
}

/// A name relative to a cwd below /proc or /dev (`self/exe` from /proc),
/// joined to it: it may be one of the handler's own names there.
fn join_proc_cwd(t: &ThreadBlock, dirfd: i32, name: &mut Vec<u8>) {
    if dirfd == AT_FDCWD && name.first().is_some_and(|&b| b != b'/') {
        let cwd = cwd(t);
        if cwd.starts_with(b"/proc") || cwd.starts_with(b"/dev") {
            *name = [&cwd[..], b"/", &name[..]].concat();
        }
    }
}

/// The links of /proc/self that name directories of the process's own.
#[derive(Clone, Copy)]
enum SelfDirLink {
    Cwd,
    Root,
}

/// `/proc/self/cwd[/REST]` or `/proc/self/root[/REST]` (also thread-self
/// and this process's pid): which link, and REST.
fn self_dir_link(raw: &[u8]) -> Option<(SelfDirLink, &[u8])> {
    let r = own_proc_entry(raw)?;
    let end = r.iter().position(|&b| b == b'/').unwrap_or(r.len());
    let link = match &r[..end] {
        b"cwd" => SelfDirLink::Cwd,
        b"root" => SelfDirLink::Root,
        _ => return None,
    };
    let rest = &r[end..];
    let start = rest.iter().position(|&b| b != b'/').unwrap_or(rest.len());
    Some((link, &rest[start..]))
}


/// `/proc/self/fd/N[/REST]` (also thread-self, this process's pid, and
/// `/dev/fd/N`, `/dev/stdin`, `/dev/stdout`, `/dev/stderr`): fd N and REST
/// (empty: the fd itself).
fn fd_path(raw: &[u8]) -> Option<(i32, &[u8])> {
    for (name, fd) in [(&b"/dev/stdin"[..], 0), (b"/dev/stdout", 1), (b"/dev/stderr", 2)] {
        if raw == name {
            return Some((fd, b""));
        }
    }
    let rest = if let Some(r) = raw.strip_prefix(b"/dev/fd/") {
        r
    } else {
        own_proc_entry(raw)?.strip_prefix(b"fd/")?
    };
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let fd = digits.iter().fold(0i32, |n, &d| n * 10 + (d - b'0') as i32);
    let rest = rest[end..].strip_prefix(b"/").unwrap_or(&rest[end..]);
    Some((fd, rest))
}

/// Whether `raw` is `/proc/self/fdinfo/N[/...]` (or thread-self's, this
/// process's pid's) of one of preld's fds.
fn fdinfo_of_own_fd(raw: &[u8]) -> bool {
    let Some(rest) = own_proc_entry(raw).and_then(|r| r.strip_prefix(b"fdinfo/")) else { return false };
    let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
    let digits = &rest[..end];
    !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit) && crate::ownfd::is_own(digits.iter().fold(0usize, |n, &d| n * 10 + (d - b'0') as usize))
}

/// link of an fd's magic link itself (/proc/self/fd/N, /dev/fd/N,
/// /dev/stdin... at `addr`, without AT_SYMLINK_FOLLOW): the link, an
/// object of procfs or devtmpfs, is on another file system than any name
/// it could get (EXDEV; ENOENT for no such fd), where the server, given
/// the fd, could not tell it from an empty name (it said ENOTDIR). None:
/// another name.
fn link_of_fd_link(addr: usize) -> Option<Outcome> {
    let mut raw = [0u8; 64];
    let n = usermem::read_cstr(addr, &mut raw)?;
    let (fd, b"") = fd_path(&raw[..n])? else { return None };
    Some(if !crate::ownfd::is_own(fd as usize) && sys::fcntl(fd, F_GETFD, 0).is_ok() { Outcome::err(EXDEV) } else { Outcome::err(ENOENT) })
}

/// A call the server answered ELSEWHERE: its path leads, through a
/// symlink or `..`, into what the handler makes itself (the session's
/// /proc: `/etc/mtab` -> /proc/mounts). The server tells where (`Where`);
/// that path, in one of the thread's path buffers, becomes the call's
/// (relative to no fd), for the table to serve again. False: a call of two
/// paths or none, or the server could not say (the caller answers ENOENT).
pub fn elsewhere(c: &mut Call<'_>) -> bool {
    use Sysno::*;
    let a = c.args;
    let Some(call) = Sysno::new(c.nr) else { return false };
    // (the path's argument, whether a directory fd comes before it, and
    // whether a symlink at its end is followed)
    let (i, at, follow) = match call {
        open | creat => (0, false, a[1] & O_NOFOLLOW == 0 || call == creat),
        stat | access | chdir | truncate | mkdir | chmod | chown | mknod | statfs | getxattr | listxattr | setxattr | removexattr => (0, false, true),
        lstat | readlink | rmdir | unlink | lchown | lgetxattr | llistxattr | lsetxattr | lremovexattr => (0, false, false),
        openat => (1, true, a[2] & O_NOFOLLOW == 0),
        openat2 => {
            let mut how = [0usize; 1];
            (1, true, usermem::read_words(a[2], &mut how) && how[0] & O_NOFOLLOW == 0)
        }
        newfstatat => (1, true, a[3] & AT_SYMLINK_NOFOLLOW == 0),
        fchownat => (1, true, a[4] & AT_SYMLINK_NOFOLLOW == 0),
        statx => (1, true, a[2] & AT_SYMLINK_NOFOLLOW == 0),
        utimensat => (1, true, a[3] & AT_SYMLINK_NOFOLLOW == 0),
        fchmodat2 => (1, true, a[3] & AT_SYMLINK_NOFOLLOW == 0),
        faccessat | fchmodat | mkdirat | mknodat => (1, true, true),
        faccessat2 => (1, true, a[3] & AT_SYMLINK_NOFOLLOW == 0),
        readlinkat | unlinkat => (1, true, false),
        _ => return false,
    };
    if a[i] == 0 {
        return false;
    }
    let dirfd = if at { a[0] as i32 } else { AT_FDCWD };
    let Ok(p) = path_in(c.t, dirfd, a[i]) else { return false };
    let flags = if follow { 0 } else { AT_SYMLINK_NOFOLLOW as u32 };
    let mut buf = [0u8; PATH_MAX + 64];
    let (fds, n) = fds_of(&[&p]);
    let Ok((reply, _)) = rpc::call(c.t, &Request::Where { flags, path: p.arg(0) }, &fds[..n], &mut buf, true, *c.uc.sigmask()) else { return false };
    // The path leads elsewhere no more (a link swapped since): the call
    // again as it is, as the path now resolves (it was ENOENT; session-21b
    // adversary, test `a_link_swapped_into_proc_never_fails_an_open`).
    if reply.result == -(EAGAIN as i64) {
        return true;
    }
    let ReplyData::Bytes(v) = reply.data else { return false };
    // (The same path again: the handler's names do not take it either,
    // ENOENT rather than the same question until ELOOP.)
    if reply.result < 0 || v.first() != Some(&b'/') || v.len() >= PATH_MAX || (p.dirfd.is_none() && v == &p.buf[..p.len]) {
        return false;
    }
    let bufs = c.t.path_bufs();
    bufs[0][..v.len()].copy_from_slice(v);
    bufs[0][v.len()] = 0;
    c.args[i] = bufs[0].as_ptr() as usize;
    if at {
        c.args[0] = AT_FDCWD as usize;
    }
    true
}

fn fds_of(paths: &[&PathIn]) -> ([i32; 2], usize) {
    let mut fds = [0i32; 2];
    let mut n = 0;
    for p in paths {
        if let Some(fd) = p.dirfd {
            fds[n] = fd;
            n += 1;
        }
    }
    (fds, n)
}

/// Makes a request with the paths' fds attached; the raw result and fd.
fn ask(c: &mut Call<'_>, req: &Request<'_>, paths: &[&PathIn], buf: &mut [u8], cloexec: bool) -> Result<(isize, Option<i32>, usize), isize> {
    let (fds, n) = fds_of(paths);
    let (reply, fd) = rpc::call(c.t, req, &fds[..n], buf, cloexec, *c.uc.sigmask()).map_err(|e| -(e as isize))?;
    // Where reply data starts, for callers that read it.
    let data = match reply.data {
        ReplyData::Open { info } => info as usize,
        _ => 0,
    };
    Ok((reply.result as isize, fd, data))
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Outcome::Return(e),
        }
    };
}

/// Second path argument index: 1 if the first path also uses an fd.
fn second(first: &PathIn) -> u8 {
    if first.dirfd.is_some() { 1 } else { 0 }
}

// The session's entries: a layer of the transfer table (dispatch.rs),
// consulted before the base layer while a session is active. `Next` hands
// a call on to the base layer.

pub fn open(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    open_at(c, AT_FDCWD, a[0], a[1] as u32, a[2] as u32)
}

pub fn creat(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    open_at(c, AT_FDCWD, a[0], (O_CREAT | O_WRONLY | O_TRUNC) as u32, a[1] as u32)
}

pub fn openat(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    open_at(c, a[0] as i32, a[1], a[2] as u32, a[3] as u32)
}

pub fn openat2(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    let how = match open_how(a[2], a[3]) {
        Ok(how) => how,
        Err(e) => return Outcome::err(e),
    };
    if how.resolve != 0 {
        if let Some(o) = open_resolving(a[0] as i32, a[1], &how) {
            return o;
        }
    }
    open_at(c, a[0] as i32, a[1], how.flags as u32, how.mode as u32)
}

/// The program's struct open_how at `addr`, `size` bytes long, checked as
/// openat2 checks it: the size (EINVAL below the first version's, E2BIG
/// above a page), the bytes past the first version's (E2BIG unless all
/// zero), then the kernel's own checks of flags, mode and resolve
/// (EINVAL, EAGAIN), made on a copy: openat2 of an empty name, which
/// says ENOENT only once they hold, and opens nothing.
fn open_how(addr: usize, size: usize) -> Result<sys::OpenHow, i32> {
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(EINVAL);
    }
    if size > preld_arch::PAGE_SIZE {
        return Err(E2BIG);
    }
    let mut words = [0usize; 3];
    if !usermem::read_words(addr, &mut words) {
        return Err(EFAULT);
    }
    let mut more = [0u8; 256];
    let mut at = OPEN_HOW_SIZE_VER0;
    while at < size {
        let n = (size - at).min(more.len());
        if !usermem::read(addr + at, &mut more[..n]) {
            return Err(EFAULT);
        }
        if more[..n].iter().any(|&b| b != 0) {
            return Err(E2BIG);
        }
        at += n;
    }
    let how = sys::OpenHow { flags: words[0] as u64, mode: words[1] as u64, resolve: words[2] as u64 };
    match sys::openat2(AT_FDCWD, b"\0", &how) {
        Err(ENOENT) => Ok(how),
        Err(e) => Err(e),
        Ok(fd) => {
            sys::close(fd); // (an empty name opens nothing)
            Ok(how)
        }
    }
}

/// openat2 with resolve flags, where their answer can be the kernel's
/// (`open_at`, which resolves paths in the session's namespace, keeps
/// only flags and mode): None for the others, which `open_at` serves as
/// before (docs/DESIGN.md, "Limits known").
/// - An absolute name with RESOLVE_BENEATH: EXDEV, whatever the fd.
/// - A name beneath /proc with RESOLVE_NO_MAGICLINKS or NO_SYMLINKS (not
///   IN_ROOT, where `/` is the fd): the
///   session's procfs has the same links (/proc/self, the magic links of
///   a process of the session); an error the kernel's walk there meets
///   (ELOOP) is the answer, else `open_at`'s.
/// - From a directory fd of the program's on a grant the process resolves
///   in whose copy shows what the namespace shows (as for the stat gate),
///   scoped by RESOLVE_BENEATH or IN_ROOT, or going only down (no `..`)
///   with RESOLVE_NO_SYMLINKS: the kernel's walk from that fd never
///   leaves the grant's copy, and meets what the namespace shows there,
///   so its answer is the native one. A look with O_PATH first, whose
///   error is the answer; then an open for reading (or O_PATH) of a
///   regular file or directory is made here (a FIFO's open would wait in
///   the handler: `open_at`'s), never waiting (O_NONBLOCK, taken off
///   again); a write or a creation by a relative name is `open_at`'s.
fn open_resolving(dirfd: i32, addr: usize, how: &sys::OpenHow) -> Option<Outcome> {
    let mut raw = [0u8; PATH_MAX];
    // (No NUL, unreadable: `open_at` says so.)
    let n = usermem::read_cstr(addr, &mut raw)?;
    let path = &raw[..n];
    if path.is_empty() {
        return None;
    }
    if how.resolve & RESOLVE_BENEATH != 0 && path[0] == b'/' {
        return Some(Outcome::err(EXDEV));
    }
    let f = how.flags as usize;
    // (With RESOLVE_IN_ROOT an absolute name is the fd's: its /proc is
    // no procfs.)
    if how.resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS) != 0 && how.resolve & RESOLVE_IN_ROOT == 0 && (path == b"/proc" || path.starts_with(b"/proc/")) {
        let (g, rest) = beneath::find(path)?;
        if g.resolve_mode() != b'p' || rest.len() + 1 >= PATH_MAX {
            return None;
        }
        let mut name = [0u8; PATH_MAX];
        let rest = if rest.is_empty() { &b"."[..] } else { rest };
        name[..rest.len()].copy_from_slice(rest);
        let look = sys::OpenHow { flags: (O_PATH | O_CLOEXEC | (f & (O_NOFOLLOW | O_DIRECTORY))) as u64, mode: 0, resolve: how.resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS) };
        return match sys::openat2(g.fd(), &name[..=rest.len()], &look) {
            Ok(fd) => {
                sys::close(fd);
                None
            }
            Err(e) => Some(Outcome::err(e)),
        };
    }
    if dirfd == AT_FDCWD || crate::ownfd::is_own(dirfd as usize) {
        return None;
    }
    let g = beneath::grant_of_fd(dirfd)?;
    if !matches!(g.resolve_mode(), b'r' | b'w' | b'x') || g.shadows || !g.nodev {
        return None;
    }
    let scoped = how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0;
    let down = path[0] != b'/' && !path.split(|&b| b == b'/').any(|c| c == b"..");
    if !scoped && !(down && how.resolve & RESOLVE_NO_SYMLINKS != 0) {
        return None;
    }
    let reads = f & O_PATH != 0 || (f & O_ACCMODE == O_RDONLY && f & (O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE_BIT) == 0);
    // A write or a creation is `open_at`'s (the server makes creations),
    // whose walk of a relative name meets what the kernel's meets: the
    // kernel's look says only what the resolve flags refuse (EXDEV,
    // ELOOP). With RESOLVE_IN_ROOT, `/` and absolute symlinks would be
    // the namespace's root there: left as before.
    if !reads && (path[0] == b'/' || how.resolve & RESOLVE_IN_ROOT != 0) {
        return None;
    }
    let name = &raw[..=n];
    let creates = f & (O_CREAT | O_TMPFILE_BIT) != 0;
    let nofollow = if f & O_NOFOLLOW != 0 || (f & O_CREAT != 0 && f & O_EXCL != 0) { O_NOFOLLOW } else { 0 };
    let dir = if creates { 0 } else { f & O_DIRECTORY };
    let look = sys::OpenHow { flags: (O_PATH | O_CLOEXEC | nofollow | dir) as u64, mode: 0, resolve: how.resolve };
    let kind = match sys::openat2(dirfd, name, &look) {
        Ok(fd) => {
            let kind = sys::fstat(fd).map(|st| st.mode & S_IFMT);
            sys::close(fd);
            kind
        }
        // (A name to create is not there yet.)
        Err(ENOENT) if creates => return None,
        Err(e) => return Some(Outcome::err(e)),
    };
    if !reads {
        return None;
    }
    // (A symlink itself, with O_NOFOLLOW: the open says ELOOP.)
    if f & O_PATH == 0 && !matches!(kind, Ok(S_IFREG | S_IFDIR | S_IFLNK)) {
        return None;
    }
    let open = sys::OpenHow { flags: how.flags | if f & O_PATH == 0 { O_NONBLOCK as u64 } else { 0 }, ..*how };
    Some(match sys::openat2(dirfd, name, &open) {
        Err(e) => Outcome::err(e),
        Ok(fd) => {
            let kind = sys::fstat(fd).map(|st| st.mode & S_IFMT);
            if f & O_PATH == 0 && !matches!(kind, Ok(S_IFREG | S_IFDIR)) {
                // (Swapped for something else since the look.)
                sys::close(fd);
                return None;
            }
            if f & (O_PATH | O_NONBLOCK) == 0 {
                let fl = sys::fcntl(fd, F_GETFL, 0).unwrap_or(0);
                let _ = sys::fcntl(fd, F_SETFL, fl & !O_NONBLOCK);
            }
            Outcome::Return(fd as isize)
        }
    })
}

/// stat, lstat, newfstatat, statx.
pub fn stat(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    match Sysno::new(c.nr) {
        Some(Sysno::stat) => stat_at(c, AT_FDCWD, a[0], a[1], 0, None),
        Some(Sysno::lstat) => stat_at(c, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW as u32, None),
        Some(Sysno::newfstatat) => stat_at(c, a[0] as i32, a[1], a[2], a[3] as u32, None),
        // (In the table for a session of an ordinary user's owners only.)
        Some(Sysno::fstat) if owners::on() => Outcome::Return(fd_stat_owned(c.t, c.nr, c.args)),
        Some(Sysno::fstat) => Outcome::Next,
        _ => stat_at(c, a[0] as i32, a[1], a[4], a[2] as u32, Some(a[3] as u32)),
    }
}

/// fstat, or newfstatat or statx of an fd itself (AT_EMPTY_PATH), in a
/// session of an ordinary user: made into preld's buffer, the owners the
/// kernel shows as the overflow id taken from the server
/// (`owners::fix`), then written to the application's. preld's own fds
/// are no fds of the program's: EBADF.
fn fd_stat_owned(t: &mut ThreadBlock, nr: usize, a: [usize; 6]) -> isize {
    let (fd, out, statx) = match Sysno::new(nr) {
        Some(Sysno::fstat) => (a[0], a[1], false),
        Some(Sysno::newfstatat) => (a[0], a[2], false),
        _ => (a[0], a[4], true),
    };
    if crate::ownfd::is_own(fd) {
        return -(EBADF as isize);
    }
    let size = if statx { 256 } else { STAT_SIZE };
    let mut own = [0u8; 256];
    let mut args = a;
    match Sysno::new(nr) {
        Some(Sysno::fstat) => args[1] = own.as_mut_ptr() as usize,
        Some(Sysno::newfstatat) => args[2] = own.as_mut_ptr() as usize,
        _ => args[4] = own.as_mut_ptr() as usize,
    }
    // SAFETY: the application's own call on its own fd (its path "", read
    // by the kernel), the result into preld's `own` (256 bytes, the larger
    // of the two structs).
    if let Err(e) = unsafe { sys::raw(nr, args) } {
        return -(e as isize);
    }
    if owners::unknown(t, &own[..size], statx) {
        // The directory the file lies in first: its neighbours come with it
        // (ld.so's fstat of each library in turn).
        let dir = directory_of_fd(fd as i32);
        owners::fix(t, &mut own[..size], statx, dir, Some(fd as i32), false);
        if let Some(d) = dir {
            sys::close(d);
        }
    } else {
        owners::fix(t, &mut own[..size], statx, None, None, false);
    }
    if crate::resident::touches(out, size) || !usermem::write_probed(out, &own[..size]) {
        return -(EFAULT as isize);
    }
    0
}

/// statfs: of the file system the path's object is on, found as an O_PATH
/// fd (in the process beneath a grant, else from the server), whose
/// fstatfs the kernel writes into the application's buffer.
pub fn statfs(c: &mut Call<'_>) -> Outcome {
    let [addr, out, ..] = c.args;
    let mut p = tri!(path_in(c.t, AT_FDCWD, addr));
    if let (Some(fd), 0) = (p.dirfd, p.len) {
        // `/proc/self/fd/N`, `/dev/stdin`: the fd's own file system, as
        // natively (a terminal or a pipe is in no grant: the server has
        // nothing to open).
        c.nr = Sysno::fstatfs as usize;
        c.args = [fd as usize, out, 0, 0, 0, 0];
        return Outcome::Next;
    }
    let fd = match beneath_path(&mut p, false) {
        Some(Ok((fd, _))) => fd,
        Some(Err(e)) => return Outcome::Return(e),
        None => {
            let mut buf = [0u8; 256];
            let req = Request::Open { flags: (O_PATH | O_CLOEXEC) as u32, mode: 0, path: p.arg(0) };
            match tri!(ask(c, &req, &[&p], &mut buf, true)) {
                (r, _, _) if r < 0 => return Outcome::Return(r),
                (_, Some(fd), _) => fd,
                _ => return Outcome::err(EIO),
            }
        }
    };
    // struct statfs is 120 bytes on x86_64.
    let r = if crate::resident::touches(out, 120) {
        Err(EFAULT)
    } else {
        // SAFETY: fstatfs of our own fd into the application's buffer,
        // checked to be none of preld's memory; the kernel checks the rest.
        unsafe { sys::raw(Sysno::fstatfs as usize, [fd as usize, out, 0, 0, 0, 0]) }
    };
    sys::close(fd);
    Outcome::Return(r.map_or_else(|e| -(e as isize), |_| 0))
}

/// access, faccessat, faccessat2.
pub fn access(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    match Sysno::new(c.nr) {
        Some(Sysno::access) => access_at(c, AT_FDCWD, a[0], a[1] as u32, 0),
        Some(Sysno::faccessat) => access_at(c, a[0] as i32, a[1], a[2] as u32, 0),
        _ => access_at(c, a[0] as i32, a[1], a[2] as u32, a[3] as u32),
    }
}

/// readlink, readlinkat.
pub fn readlink(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    if c.nr == Sysno::readlink as usize {
        readlink_at(c, AT_FDCWD, a[0], a[1], a[2])
    } else {
        readlink_at(c, a[0] as i32, a[1], a[2], a[3])
    }
}

/// The calls on one path that the server answers with a result alone.
pub fn one_path(c: &mut Call<'_>) -> Outcome {
    use Sysno::*;
    let a = c.args;
    let Some(nr) = Sysno::new(c.nr) else { return Outcome::Next };
    match nr {
        mkdir => simple(c, AT_FDCWD, a[0], |p| Request::Mkdir { mode: a[1] as u32 & !program_umask(), path: p }),
        mkdirat => simple(c, a[0] as i32, a[1], |p| Request::Mkdir { mode: a[2] as u32 & !program_umask(), path: p }),
        // FIFOs, sockets and regular files, made by the server (devices: EPERM).
        mknod => simple(c, AT_FDCWD, a[0], |p| Request::Mknod { mode: a[1] as u32 & !program_umask(), path: p }),
        mknodat => simple(c, a[0] as i32, a[1], |p| Request::Mknod { mode: a[2] as u32 & !program_umask(), path: p }),
        rmdir => simple(c, AT_FDCWD, a[0], |p| Request::Unlink { flags: AT_REMOVEDIR, path: p }),
        unlink => simple(c, AT_FDCWD, a[0], |p| Request::Unlink { flags: 0, path: p }),
        unlinkat => simple(c, a[0] as i32, a[1], |p| Request::Unlink { flags: a[2] as u32, path: p }),
        truncate => simple(c, AT_FDCWD, a[0], |p| Request::Truncate { length: a[1] as i64, path: p }),
        chmod => chmod_at(c, AT_FDCWD, a[0], a[1], 0),
        fchmodat => chmod_at(c, a[0] as i32, a[1], a[2], 0),
        fchmodat2 => chmod_at(c, a[0] as i32, a[1], a[2], a[3]),
        // utimensat on an fd (no path) is the kernel's, but on none of preld's.
        utimensat if a[1] != 0 => utimens_at(c, a[0] as i32, a[1], a[2], a[3] as u32),
        utimensat if crate::ownfd::is_own(a[0]) => Outcome::err(EBADF),
        _ => Outcome::Next,
    }
}

/// The calls on two paths.
pub fn two_paths(c: &mut Call<'_>) -> Outcome {
    use Sysno::*;
    let a = c.args;
    let Some(nr) = Sysno::new(c.nr) else { return Outcome::Next };
    if matches!(nr, link | linkat) {
        let (old, follow) = if nr == link { (a[0], false) } else { (a[1], a[4] & crate::abi::AT_SYMLINK_FOLLOW != 0) };
        if let Some(o) = (!follow && old != 0).then(|| link_of_fd_link(old)).flatten() {
            return o;
        }
    }
    match nr {
        rename => two(c, AT_FDCWD, a[0], AT_FDCWD, a[1], |o, n| Request::Rename { flags: 0, old: o, new: n }),
        renameat => two(c, a[0] as i32, a[1], a[2] as i32, a[3], |o, n| Request::Rename { flags: 0, old: o, new: n }),
        renameat2 => two(c, a[0] as i32, a[1], a[2] as i32, a[3], |o, n| Request::Rename { flags: a[4] as u32, old: o, new: n }),
        link => two(c, AT_FDCWD, a[0], AT_FDCWD, a[1], |o, n| Request::Link { flags: 0, old: o, new: n }),
        linkat => two(c, a[0] as i32, a[1], a[2] as i32, a[3], |o, n| Request::Link { flags: a[4] as u32, old: o, new: n }),
        symlink => symlink_at(c, a[0], AT_FDCWD, a[1]),
        symlinkat => symlink_at(c, a[0], a[1] as i32, a[2]),
        _ => Outcome::Next,
    }
}

/// chown, lchown, fchownat, fchown: made by the server in read-write
/// grants, with the user's own authority.
pub fn chown(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    let (dirfd, addr, uid, gid, flags) = match Sysno::new(c.nr) {
        Some(Sysno::chown) => (AT_FDCWD, a[0], a[1], a[2], 0),
        Some(Sysno::lchown) => (AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW),
        Some(Sysno::fchownat) => (a[0] as i32, a[1], a[2], a[3], a[4]),
        // fchown: the fd itself.
        _ => (a[0] as i32, 0, a[1], a[2], AT_EMPTY_PATH),
    };
    let (p, flags) = if addr == 0 {
        tri!(fd_in_as_given(dirfd));
        (tri!(fd_in(dirfd)), flags)
    } else {
        tri!(meta_path_in(c.t, dirfd, addr, flags))
    };
    // The kernel takes the ids as 32 bits: -1 is "unchanged".
    let req = Request::Chown { uid: uid as u32, gid: gid as u32, flags: flags as u32, path: p.arg(0) };
    let mut buf = [0u8; 256];
    let (r, _, _) = tri!(ask(c, &req, &[&p], &mut buf, true));
    if addr == 0 && r == -(ENOTSUP as isize) {
        // An fd whose file is in no grant (a pipe, an inherited fd): the
        // kernel's to answer.
        return Outcome::Next;
    }
    Outcome::Return(r.min(0))
}

/// fchmod: made by the server when the fd's file is in a grant (read-only
/// grants refuse it; in a read-write one the user's authority decides, as
/// for chmod by path); other fds (pipes, sockets) are the kernel's.
pub fn fchmod(c: &mut Call<'_>) -> Outcome {
    let [fd, mode, ..] = c.args;
    tri!(fd_in_as_given(fd as i32));
    let p = tri!(fd_in(fd as i32));
    let req = Request::Chmod { mode: mode as u32, flags: AT_EMPTY_PATH as u32, path: p.arg(0) };
    let mut buf = [0u8; 256];
    let (r, _, _) = tri!(ask(c, &req, &[&p], &mut buf, true));
    if r == -(ENOTSUP as isize) {
        return Outcome::Next;
    }
    Outcome::Return(r.min(0))
}

/// chdir, fchdir.
pub fn chdir(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    if c.nr == Sysno::chdir as usize { change_dir(c, AT_FDCWD, a[0]) } else { change_dir(c, a[0] as i32, 0) }
}

pub fn getcwd(c: &mut Call<'_>) -> Outcome {
    get_cwd(c.t, c.args[0], c.args[1])
}

pub fn getdents(c: &mut Call<'_>) -> Outcome {
    if let Some(o) = list_virtual_dir(c) {
        return o;
    }
    // (The trap path's first calls, PRELD_FAST=0.)
    c.args[1] = listing_buffer(c.args[1], c.args[2]);
    Outcome::Next
}

/// connect, bind.
pub fn socket_address(c: &mut Call<'_>) -> Outcome {
    // preld's own fds are no sockets of the program's: the base layer's
    // EBADF (a bind took the server's new socket onto the session's
    // connection, dup3 over it, and every later request failed ENOTCONN;
    // session-17 adversary).
    if crate::ownfd::is_own(c.args[0]) {
        return Outcome::Next;
    }
    unix_socket(c).unwrap_or(Outcome::Next)
}

/// sendto, sendmsg: a datagram to a Unix socket's path (the kernel would
/// look for it in the session's empty tree) goes to the server, which
/// sends it from the program's own socket (the receiver sees the program's
/// name as the sender) to the socket the path names in a read-write grant.
/// Anything else (no address, an abstract name, another family, a stream
/// socket, control data) is the kernel's.
pub fn send_to(c: &mut Call<'_>) -> Outcome {
    if crate::ownfd::is_own(c.args[0]) {
        return Outcome::Next; // the base layer's EBADF
    }
    send_datagram(c).unwrap_or(Outcome::Next)
}

/// A session's calls in the fast path's handler gate (arch `fast_gate_handler`): a call served
/// beneath a directory grant in the process, without a trap, when it needs
/// nothing the trap gives (the server, a rewritten call as for a FIFO, a
/// path the handler makes virtual, a creation's umask). None: nothing was
/// done, and the site's own `syscall` traps as before. Runs on the
/// thread's preld stack, as the SIGSYS handler does; a signal that comes
/// meanwhile is put off until the gate ends (arch `defer_signal`).
pub fn gate_serve(t: &mut ThreadBlock, nr: usize, a: [usize; 6]) -> Option<isize> {
    use Sysno::*;
    if !beneath::active() {
        return None;
    }
    if let Some(r) = stat_beside_fd(t, nr, a) {
        return Some(r);
    }
    let call = Sysno::new(nr)?;
    if call == getdents64 {
        return gate_listing(t, a);
    }
    if call == getcwd {
        // (The process keeps its virtual cwd: python's imports ask for it
        // at each, 3.4 us a trap.)
        return match get_cwd(t, a[0], a[1]) {
            Outcome::Return(r) => Some(r),
            _ => None,
        };
    }
    if let Some(r) = gate_on_fd(t, call, a) {
        return r;
    }
    let (dirfd, addr) = match call {
        open | stat | lstat | access | readlink => (AT_FDCWD, a[0]),
        openat | newfstatat | statx | faccessat | faccessat2 | readlinkat => (a[0] as i32, a[1]),
        _ => return None,
    };
    // The path is read into the buffer it is resolved from: the thread's
    // own, kept from call to call (a PathIn made anew is 4 KiB cleared, a
    // tenth of a microsecond's work per call here). The gate is entered
    // once at a time on a thread (signals wait until it ends).
    let mut p = t.gate_path.take().unwrap_or_else(|| alloc::boxed::Box::new(PathIn { buf: [0; PATH_MAX], len: 0, dirfd: None }));
    p.len = 0;
    p.dirfd = None;
    let r = gate_serve_path(t, call, a, dirfd, addr, &mut p);
    t.gate_path = Some(p);
    r
}

/// The open flags of `gate_open`: reading, none that creates, writes,
/// waits on the page cache or opens without opening (O_PATH).
const PLAIN_OPEN_FLAGS: usize = O_CLOEXEC | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW | O_NOCTTY | O_LARGEFILE | O_NOATIME;

/// The handler gate's most common call in a session, in few instructions:
/// open(PATH) and openat(AT_FDCWD, PATH) for reading, PATH absolute and
/// beneath a directory grant the process resolves in (not through a
/// symlink the session grants as itself, no `..`), opened from the
/// grant's copy as the general way's first try would (`open_beneath_once`,
/// `beneath::openat2_on_mount`). An open the general way took about 880
/// cycles more than the same openat2 made alone in the session (gate
/// included; the handler's code and data between the program's and the
/// kernel's also slow the kernel's part), this way 600: the open pair
/// 1.52x `preld run`'s rather than 1.57x (about 1.35x for the kernel's
/// part alone, Landlock's walk and the seccomp filter). None: not
/// such a call, or an answer only the general way gives (a symlink on the
/// way, a path that leaves the copy's mount, the server's), which then
/// begins anew; Some(None): the trap path's (a restart after a signal).
pub fn gate_open(t: &mut ThreadBlock, nr: usize, a: &[usize; 6]) -> Option<Option<isize>> {
    let (addr, flags) = if nr == Sysno::openat as usize && a[0] as i32 == AT_FDCWD {
        (a[1], a[2])
    } else if nr == Sysno::open as usize {
        (a[0], a[1])
    } else {
        return None;
    };
    if flags & !PLAIN_OPEN_FLAGS != 0 {
        return None; // (O_RDONLY is 0)
    }
    let p = t.gate_path.get_or_insert_with(|| alloc::boxed::Box::new(PathIn { buf: [0; PATH_MAX], len: 0, dirfd: None }));
    match gate_open_path(p, addr, flags)? {
        Ok(fd) => Some(Some(fd as isize)),
        Err(e) if e == EINTR && crate::signals::take_restarted(t) => Some(None),
        Err(e) => Some(Some(-(e as isize))),
    }
}

/// `gate_open`'s path, read into `p`, and its open: None for the general
/// way.
fn gate_open_path(p: &mut PathIn, addr: usize, flags: usize) -> Option<Result<i32, i32>> {
    // (One byte short: the NUL the open's name needs.)
    let n = usermem::read_cstr(addr, &mut p.buf[..PATH_MAX - 1])?;
    let path = &p.buf[..n];
    if path.first() != Some(&b'/') || beneath::may_be_the_handler_s(path) {
        return None;
    }
    let (g, rest) = beneath::find(path)?;
    if !g.opens_down() || rest.is_empty() {
        return None;
    }
    if beneath::link_in(path, true).is_some() || !beneath::descends_only(rest) {
        return None;
    }
    let start = n - rest.len();
    p.buf[n] = 0;
    match beneath::openat2_down(g.fd(), &p.buf[start..=n], flags | O_NOCTTY) {
        Ok(fd) => {
            beneath::remember_fd(fd, g);
            Some(Ok(fd))
        }
        Err(ELOOP | EXDEV) => None,
        // (O_NOATIME of a file the user does not own: the general way's
        // answer, which in root's session opens without it.)
        Err(EPERM) if flags & O_NOATIME != 0 => None,
        Err(e) if server_decides(e, g.resolve_mode()) => None,
        Err(e) => Some(Err(e)),
    }
}

/// newfstatat and statx of one name beside a directory fd on a file or
/// directory grant, or of an fd itself (AT_EMPTY_PATH): the cases
/// `stat_one_name` and `gate_on_fd` serve, taken first in `gate_serve`
/// (before the call's number is decoded and the path read into a
/// `PathIn` of the general way). A tree walk makes little
/// else (tar: 16,669 of its 25,000 calls for /usr/include), and the
/// general way to it cost more than the kernel's stat. None: the gate's
/// general way (which also gets the few cases `stat_one_name` leaves).
pub fn stat_beside_fd(t: &mut ThreadBlock, nr: usize, a: [usize; 6]) -> Option<isize> {
    let (fd, addr, out, flags, mask) = if nr == Sysno::newfstatat as usize {
        (a[0] as i32, a[1], a[2], a[3], None)
    } else if nr == Sysno::statx as usize {
        (a[0] as i32, a[1], a[4], a[2], Some(a[3] as u32))
    } else {
        return None;
    };
    if flags & AT_EMPTY_PATH != 0 {
        // (glibc's fstat)
        let call = if mask.is_some() { Sysno::statx } else { Sysno::newfstatat };
        return gate_on_fd(t, call, a).flatten();
    }
    let known = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | if mask.is_some() { AT_STATX_SYNC_TYPE } else { 0 };
    if fd < 0 || flags & !known != 0 || crate::ownfd::is_own(fd as usize) {
        return None;
    }
    let mut p = t.gate_path.take().unwrap_or_else(|| alloc::boxed::Box::new(PathIn { buf: [0; PATH_MAX], len: 0, dirfd: None }));
    // (A name is at most NAME_MAX long: a longer one, or a path, is the
    // general way's.)
    let o = usermem::read_cstr(addr, &mut p.buf[..256]).and_then(|n| {
        p.len = n;
        p.dirfd = Some(fd);
        stat_one_name(t, &mut p, flags, out, mask)
    });
    t.gate_path = Some(p);
    match o? {
        Outcome::Return(r) if r != -(EINTR as isize) => Some(r),
        _ => None,
    }
}


/// `gate_serve` of a call that names a path (at `addr`, relative to
/// `dirfd`), read into `p`.
fn gate_serve_path(t: &mut ThreadBlock, call: Sysno, a: [usize; 6], dirfd: i32, addr: usize, p: &mut PathIn) -> Option<isize> {
    use Sysno::*;
    // Paths the handler answers for itself take the trap path.
    let n = usermem::read_cstr(addr, &mut p.buf)?;
    if n == 0 || beneath::may_be_the_handler_s(&p.buf[..n]) {
        return None;
    }
    let relative = p.buf[0] != b'/';
    if plain_path(t, dirfd, p, n).is_err() {
        return None; // the trap path's answer
    }
    if p.dirfd.is_some() && p.len == 0 {
        return None;
    }
    if p.dirfd.is_none() && relative && (p.buf[..p.len].starts_with(b"/proc") || p.buf[..p.len].starts_with(b"/dev/")) {
        // A relative name from a cwd below /proc or /dev (`self/exe` from
        // /proc) may be one of the handler's names too: the trap path
        // looks at it joined (`path_from`).
        return None;
    }
    if p.dirfd.is_some() && beside_procfs(p.dirfd, &p.buf[..p.len]).is_some() {
        return None; // (fd/N beside a directory fd of /proc)
    }
    let o = match call {
        open | openat => {
            let flags = if call == open { a[1] } else { a[2] } as u32;
            if flags as usize & (O_CREAT | O_TMPFILE_BIT) != 0 {
                return None;
            }
            open_beneath(None, p, flags, 0)?
        }
        stat | lstat | newfstatat | statx => {
            let (out, flags, mask) = match call {
                stat => (a[1], 0, None),
                lstat => (a[1], AT_SYMLINK_NOFOLLOW as u32, None),
                newfstatat => (a[2], a[3] as u32, None),
                _ => (a[4], a[2] as u32, Some(a[3] as u32)),
            };
            if flags as usize & AT_EMPTY_PATH != 0 {
                return None;
            }
            stat_beneath(t, p, flags, out, mask)?
        }
        access => access_beneath(p, a[1] as u32, 0)?,
        faccessat => access_beneath(p, a[2] as u32, 0)?,
        faccessat2 => access_beneath(p, a[2] as u32, a[3] as u32)?,
        _ => {
            let (out, size) = if call == readlink { (a[1], a[2]) } else { (a[2], a[3]) };
            if size == 0 || size > isize::MAX as usize {
                return None;
            }
            readlink_beneath(p, out, size)?
        }
    };
    match o {
        // A signal came during an open that may wait and its handler asks
        // for the call to be restarted (or it came before the open was
        // made): the trap path makes the call again after the handler.
        Outcome::Return(r) if r == -(EINTR as isize) && crate::signals::take_restarted(t) => None,
        Outcome::Return(r) => Some(r),
        _ => None,
    }
}

/// newfstatat and statx of an fd itself (AT_EMPTY_PATH, "": glibc's
/// fstat) in the handler gate: the kernel's, as the trap path leaves it
/// (preld's own fds: EBADF). None: not such a call; Some(None): the trap
/// path's after all.
fn gate_on_fd(t: &mut ThreadBlock, call: Sysno, a: [usize; 6]) -> Option<Option<isize>> {
    if call == Sysno::fstat {
        // (Through this gate in a session of an ordinary user only.)
        return Some(owners::on().then(|| fd_stat_owned(t, call as usize, a)));
    }
    let (fd, addr, flags) = match call {
        Sysno::newfstatat => (a[0], a[1], a[3]),
        Sysno::statx => (a[0], a[1], a[2]),
        _ => return None,
    };
    if flags & AT_EMPTY_PATH == 0 {
        return None;
    }
    // A NULL name is the fd's own stat too on Linux 6.11 and later (as
    // natively, the kernel's call below says EFAULT before).
    let mut first = [1u8];
    if (addr != 0 && (!usermem::read(addr, &mut first) || first[0] != 0)) || fd as i32 == AT_FDCWD {
        return Some(None);
    }
    if crate::ownfd::is_own(fd) {
        return Some(Some(-(EBADF as isize)));
    }
    if owners::on() {
        return Some(Some(fd_stat_owned(t, call as usize, a)));
    }
    // SAFETY: the application's own call on its own fd, writing its buffer
    // as the kernel would from the application's code.
    Some(Some(unsafe { sys::raw(call as usize, a) }.map_or_else(|e| -(e as isize), |v| v as isize)))
}

/// getdents64 in the handler gate: the kernel's listing with preld's fds
/// left out of an fd directory, as the trap path gives it; a virtual
/// directory's stand-in (whose entries the server gives) takes the trap
/// path.
fn gate_listing(t: &mut ThreadBlock, a: [usize; 6]) -> Option<isize> {
    let fd = a[0] as i32;
    if crate::ownfd::is_own(a[0]) {
        return Some(-(EBADF as isize));
    }
    // A directory of a grant (not the session's procfs, whose fd
    // directories hide preld's fds): the kernel's listing as it is. The
    // stand-ins of virtual directories lie on a mount of their own.
    let on_grant = beneath::grant_of_fd(fd).is_some_and(|g| g.resolve_mode() != b'p');
    if !on_grant && is_stand_in(fd) {
        return None;
    }
    // (A buffer in preld's memory: the arch listing gate leaves it here.)
    let mut a = a;
    a[1] = listing_buffer(a[1], a[2]);
    // SAFETY: the application's own listing into its own buffer, none of
    // preld's memory.
    let r = unsafe { sys::raw(Sysno::getdents64 as usize, a) }.map_or_else(|e| -(e as isize), |v| v as isize);
    if on_grant {
        return Some(r);
    }
    Some(crate::fds::hide_own_in_listing(t, Sysno::getdents64 as usize, &a, r))
}

/// getdents64's buffer `buf` of `count` bytes as the kernel is given it:
/// one in preld's memory becomes an address in the kernel's half, which no
/// call writes for the program, so that the kernel gives its own answer to
/// memory not mapped, as natively (EFAULT; EBADF, EINVAL for a count too
/// small, 0 at the end first; session-24 adversary).
fn listing_buffer(buf: usize, count: usize) -> usize {
    const NEVER_WRITABLE: usize = !0xfff;
    if crate::resident::touches(buf, count as u32 as usize) { NEVER_WRITABLE } else { buf }
}

/// A socket's path as the server takes it: absolute, from the virtual cwd.
fn socket_path(t: &ThreadBlock, path: &[u8]) -> Result<PathIn, i32> {
    let mut p = PathIn { buf: [0; PATH_MAX], len: 0, dirfd: None };
    let cwd = if path.first() == Some(&b'/') { Vec::new() } else { cwd(t) };
    let sep = usize::from(!cwd.is_empty());
    let len = cwd.len() + sep + path.len();
    if len > PATH_MAX {
        return Err(ENAMETOOLONG);
    }
    p.buf[..cwd.len()].copy_from_slice(&cwd);
    p.buf[cwd.len()..cwd.len() + sep].copy_from_slice(&b"/"[..sep]);
    p.buf[cwd.len() + sep..len].copy_from_slice(path);
    p.len = len;
    Ok(p)
}

/// The largest datagram sent through the server (one frame).
const MAX_DATAGRAM: usize = preld_proto::MAX_PAYLOAD - 4 - 3 - PATH_MAX;

fn send_datagram(c: &mut Call<'_>) -> Option<Outcome> {
    let fd = c.args[0] as i32;
    // (address, its length, the data's pieces, flags)
    let mut iov = [0usize; 2 * 64];
    let (addr, alen, pieces, flags) = if c.nr == Sysno::sendto as usize {
        iov[0] = c.args[1];
        iov[1] = c.args[2];
        (c.args[4], c.args[5], 1, c.args[3])
    } else {
        // struct msghdr: name, namelen (u32, padded), iov, iovlen, control, controllen, flags
        let mut m = [0usize; 7];
        if !usermem::read_words(c.args[1], &mut m) {
            return None; // the kernel's EFAULT
        }
        let (iovs, n) = (m[2], m[3]);
        if m[5] != 0 || n > 64 {
            return None;
        }
        // read_words reads 8 words at most: 4 iovecs at a time (more went
        // to the kernel, which found no path: ENOENT).
        for (k, chunk) in iov[..2 * n].chunks_mut(8).enumerate() {
            if !usermem::read_words(iovs.wrapping_add(k * 64), chunk) {
                return None;
            }
        }
        (m[0], m[1] & 0xffff_ffff, n, c.args[2])
    };
    if addr == 0 || alen < 3 {
        return None;
    }
    let mut sa = [0u8; 110];
    let n = alen.min(sa.len());
    if !usermem::read(addr, &mut sa[..n]) || u16::from_ne_bytes([sa[0], sa[1]]) as u32 != AF_UNIX || sa[2] == 0 {
        return None;
    }
    if sys::socket_type(fd).ok()? & 0xf != crate::abi::SOCK_DGRAM {
        return None;
    }
    let p = match socket_path(c.t, unix_path(&sa[..n])) {
        Ok(p) => p,
        Err(e) => return Some(Outcome::err(e)),
    };
    let total: usize = (0..pieces).map(|i| iov[2 * i + 1]).fold(0usize, |a, l| a.saturating_add(l));
    if total > MAX_DATAGRAM {
        return Some(Outcome::err(EMSGSIZE));
    }
    let mut data = Vec::with_capacity(total);
    for i in 0..pieces {
        let (base, len) = (iov[2 * i], iov[2 * i + 1]);
        let at = data.len();
        data.resize(at + len, 0);
        if len > 0 && !usermem::read(base, &mut data[at..]) {
            return Some(Outcome::err(EFAULT));
        }
    }
    let req = Request::SendUnix { flags: flags as u32, path: p.arg(0), data: &data };
    // A datagram waits for room at the receiver as natively, unless the
    // socket or the call says not to: the server never waits, so the
    // handler asks again, letting in a pending signal the program does not
    // block (EINTR).
    let app_mask = *c.uc.sigmask();
    let blocking = flags & MSG_DONTWAIT == 0 && sys::fcntl(fd, crate::abi::F_GETFL, 0).is_ok_and(|f| f & O_NONBLOCK == 0);
    loop {
        let mut buf = [0u8; 64];
        let r = match rpc::call(c.t, &req, &[fd], &mut buf, true, *c.uc.sigmask()) {
            Ok((reply, _)) => reply.result as isize,
            Err(e) => return Some(Outcome::err(e)),
        };
        if r != -(EAGAIN as isize) || !blocking {
            return Some(Outcome::Return(r));
        }
        if sys::rt_sigpending().is_ok_and(|m| m & !app_mask != 0) {
            return Some(Outcome::err(EINTR));
        }
        sys::sleep_ns(1_000_000);
    }
}

/// Ways around the handler, or authority a session does not have.
pub fn refuse(_c: &mut Call<'_>) -> Outcome {
    Outcome::err(EPERM)
}

/// ptrace in a session: attaching to a process of the session is the
/// kernel's (LeakSanitizer stops its own threads so; gdb -p, strace -p),
/// which lets a process trace only processes of its own Landlock domain.
/// PTRACE_TRACEME is refused (the seccomp filter too): a traced process
/// runs without the handler (`dispatch::ptrace`), and the program's
/// parent, the session's init, never waits for a traced child.
pub fn ptrace(c: &mut Call<'_>) -> Outcome {
    if c.args[0] == crate::abi::PTRACE_TRACEME {
        return Outcome::err(EPERM);
    }
    Outcome::Real
}

/// getxattr, lgetxattr, listxattr, llistxattr, setxattr, lsetxattr,
/// removexattr, lremovexattr by path: made on an fd of the file or
/// directory (opened as any open in a session: beneath a grant in the
/// process, else by the server), whose f*xattr the kernel answers; on a
/// read-only grant's copy, a read-only mount, a change fails with EROFS.
/// A symlink (the l* calls) holds no user.* attribute and cannot have
/// one (ENODATA, an empty list, EPERM); a FIFO, socket or device, which a
/// session opens only for real, gets ENOTSUP.
pub fn xattr(c: &mut Call<'_>) -> Outcome {
    use Sysno::*;
    let a = c.args;
    let Some(nr) = Sysno::new(c.nr) else { return Outcome::Next };
    let nofollow = matches!(nr, lgetxattr | llistxattr | lsetxattr | lremovexattr);
    let mut p = tri!(path_in(c.t, AT_FDCWD, a[0]));
    let look = tri!(fd_of_path(c, &mut p, O_PATH | O_CLOEXEC | if nofollow { O_NOFOLLOW } else { 0 }));
    let kind = sys::fstat_dev(look).map(|(mode, _)| mode & crate::abi::S_IFMT);
    sys::close(look);
    let kind = tri!(kind.map_err(|e| -(e as isize)));
    if kind == crate::abi::S_IFLNK {
        return match nr {
            lgetxattr | lremovexattr => Outcome::err(crate::errno::ENODATA),
            llistxattr => Outcome::Return(0),
            _ => Outcome::err(EPERM),
        };
    }
    if kind != S_IFREG && kind != S_IFDIR {
        return Outcome::err(ENOTSUP);
    }
    let dir = if kind == S_IFDIR { O_DIRECTORY } else { 0 };
    let fd = tri!(fd_of_path(c, &mut p, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | dir | if nofollow { O_NOFOLLOW } else { 0 }));
    // The f* call on our fd, with the application's own name, value and
    // list buffers, which the kernel reads and writes as for its call.
    let (fnr, args) = match nr {
        getxattr | lgetxattr => (fgetxattr, [fd as usize, a[1], a[2], a[3], 0, 0]),
        listxattr | llistxattr => (flistxattr, [fd as usize, a[1], a[2], 0, 0, 0]),
        setxattr | lsetxattr => (fsetxattr, [fd as usize, a[1], a[2], a[3], a[4], 0]),
        _ => (fremovexattr, [fd as usize, a[1], 0, 0, 0, 0]),
    };
    let out = match nr {
        getxattr | lgetxattr => Some((a[2], a[3])),
        listxattr | llistxattr => Some((a[1], a[2])),
        _ => None,
    };
    let r = match out {
        Some((buf, size)) if size != 0 && crate::resident::touches(buf, size.min(1 << 16)) => Err(EFAULT),
        // SAFETY: our own fd; the pointers are the application's for its
        // own call, the buffer it has the kernel write checked to be none
        // of preld's memory.
        _ => unsafe { sys::raw(fnr as usize, args) },
    };
    sys::close(fd);
    Outcome::Return(r.map_or_else(|e| -(e as isize), |v| v as isize))
}

/// An fd of what `p` names, opened with `flags` (no creation): beneath a
/// grant in the process, else by the server.
fn fd_of_path(c: &mut Call<'_>, p: &mut PathIn, flags: usize) -> Result<i32, isize> {
    if let Some((base, rel, mode, _)) = beneath_target(p) {
        match beneath::openat2(base, rel, flags, 0, mode, false) {
            Ok(fd) => return Ok(fd),
            Err(e) if server_decides(e, mode) => {}
            Err(e) => return Err(-(e as isize)),
        }
    }
    let mut buf = [0u8; 256];
    let req = Request::Open { flags: flags as u32, mode: 0, path: p.arg(0) };
    match ask(c, &req, &[&*p], &mut buf, true)? {
        (r, _, _) if r < 0 => Err(r),
        (_, Some(fd), _) => Ok(fd),
        _ => Err(-(EIO as isize)),
    }
}

/// The program's umask (read by setting it and back: a session's files
/// are created by the server, so no creation of the program's own sees
/// the moment between).
fn program_umask() -> u32 {
    let old = sys::umask(0o077);
    sys::umask(old);
    old
}

fn open_at(c: &mut Call<'_>, dirfd: i32, addr: usize, flags: u32, mode: u32) -> Outcome {
    // The server creates with the program's umask applied here.
    let mode = if flags as usize & (O_CREAT | O_TMPFILE_BIT) != 0 { mode & !program_umask() } else { mode };
    let mut p = tri!(path_in(c.t, dirfd, addr));
    if let (Some(fd), 0) = (p.dirfd, p.len) {
        if let Some(o) = reopen_unlisted(fd, flags, false) {
            return o;
        }
    }
    if let Some(o) = open_beneath(Some(c), &mut p, flags, mode) {
        return o;
    }
    let mut buf = [0u8; 256];
    let cloexec = flags & O_CLOEXEC as u32 != 0;
    // The server opens a FIFO on a thread, waiting for its other end as
    // natively; a signal of the program's ends the wait (EINTR).
    let (fds, n) = fds_of(&[&p]);
    let app_mask = *c.uc.sigmask();
    let req = Request::Open { flags, mode, path: p.arg(0) };
    let (reply, fd) = tri!(rpc::call_may_wait(c.t, &req, &fds[..n], &mut buf, cloexec, app_mask).map_err(|e| -(e as isize)));
    let info = match reply.data {
        ReplyData::Open { info } => info as usize,
        _ => 0,
    };
    let r = reply.result as isize;
    if let (Some(own), 0, true) = (p.dirfd, p.len, r == -(ENOTSUP as isize)) {
        // A file of no grant (an inherited one): its copy.
        return reopen_unlisted(own, flags, true).unwrap_or(Outcome::Return(r));
    }
    match (r, fd) {
        (r, _) if r < 0 => Outcome::Return(r),
        (_, Some(fd)) => {
            if info as u32 & OPEN_VIRTUAL_DIR != 0 {
                if let Some(id) = file_id(fd) {
                    let mut l = Lock::take();
                    if !l.vdirs().contains(&id) {
                        l.vdirs().push(id);
                    }
                }
            }
            Outcome::Return(fd as isize)
        }
        _ => Outcome::err(EIO),
    }
}

/// open of `/dev/fd/N` where fd N is no file of a grant (a pipe, a
/// socket, a terminal, an inherited file): a copy of the fd, as near as a
/// session gets to the kernel's reopen of it (same file; a pipe's or a
/// socket's reopen is the same object anyway). None: a file or directory
/// the server knows how to open anew.
fn reopen_unlisted(fd: i32, flags: u32, ungranted: bool) -> Option<Outcome> {
    let (creat, excl) = (O_CREAT as u32, O_EXCL as u32);
    if flags & (creat | excl) == creat | excl {
        return Some(Outcome::err(EEXIST)); // the file exists: it is open
    }
    let st = match sys::fstat(fd) {
        Ok(st) => st,
        Err(e) => return Some(Outcome::Return(-(e as isize))),
    };
    let t = st.mode & crate::abi::S_IFMT;
    // (`ungranted`: the server said the file is in no grant: copy it anyway.)
    if (t == crate::abi::S_IFREG || t == crate::abi::S_IFDIR) && !ungranted {
        return None;
    }
    // An O_PATH fd of a FIFO or a device: opened anew by the server, as
    // the kernel's reopen would (a copy of the fd was an O_PATH fd again,
    // and access it lacked refused; session-20 adversary).
    let fifo_or_device = matches!(t, crate::abi::S_IFIFO | crate::abi::S_IFCHR | crate::abi::S_IFBLK);
    if fifo_or_device && !ungranted && sys::fcntl(fd, crate::abi::F_GETFL, 0).is_ok_and(|f| f & O_PATH != 0) {
        return None;
    }
    // The copy gives what the fd gives, never more: access it lacks is
    // refused, as the session has no other way to the file.
    let has = sys::fcntl(fd, crate::abi::F_GETFL, 0).unwrap_or(0) & crate::abi::O_ACCMODE;
    let (reads, writes) = (has != crate::abi::O_WRONLY, has != crate::abi::O_RDONLY);
    let wanted = flags as usize & crate::abi::O_ACCMODE;
    let ok = match wanted {
        w if w == crate::abi::O_RDONLY => reads,
        w if w == crate::abi::O_WRONLY => writes,
        _ => reads && writes,
    };
    // O_TRUNC on a regular file cuts it short, whatever the access asked
    // (O_RDONLY too): a write the fd must give. Its copy did not cut it,
    // and the open said it had (adversary 22).
    let truncates = t == crate::abi::S_IFREG && flags as usize & O_TRUNC != 0;
    if !ok || (truncates && !writes) {
        return Some(Outcome::err(crate::errno::EACCES));
    }
    let cmd = if flags & O_CLOEXEC as u32 != 0 { F_DUPFD_CLOEXEC } else { F_DUPFD };
    Some(match sys::fcntl(fd, cmd, 0) {
        Ok(n) if truncates => {
            // (The open counts as a truncation already: `memory::truncates`.)
            // SAFETY: ftruncate of the fd just made; no memory is passed.
            match unsafe { sys::raw(Sysno::ftruncate as usize, [n as usize, 0, 0, 0, 0, 0]) } {
                Ok(_) => Outcome::Return(n as isize),
                Err(e) => {
                    sys::close(n as i32);
                    Outcome::Return(-(e as isize))
                }
            }
        }
        Ok(n) => Outcome::Return(n as isize),
        Err(e) => Outcome::Return(-(e as isize)),
    })
}

fn stat_at(c: &mut Call<'_>, dirfd: i32, addr: usize, out: usize, flags: u32, statx: Option<u32>) -> Outcome {
    let mut first = [0u8; 1];
    // (A NULL name with AT_EMPTY_PATH: the fd's own stat on Linux 6.11
    // and later; the kernel's call says EFAULT before.)
    if flags & AT_EMPTY_PATH as u32 != 0 && (addr == 0 || usermem::read(addr, &mut first) && first[0] == 0) {
        if owners::on() && dirfd != AT_FDCWD {
            return Outcome::Return(fd_stat_owned(c.t, c.nr, c.args));
        }
        return Outcome::Next; // on an fd: the base layer and the kernel answer
    }
    // Flags the kernel does not know: EINVAL (the server is sent only
    // those it needs, so it would not see them).
    let known = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | if statx.is_some() { AT_STATX_SYNC_TYPE } else { 0 };
    if flags as usize & !known != 0 {
        return Outcome::err(EINVAL);
    }
    if flags as usize & AT_SYMLINK_NOFOLLOW != 0 {
        if let Some(mut link) = proc_link_itself(c.t, dirfd, addr) {
            // lstat of /proc/self/exe, cwd, root or fd/N: the link, as the
            // session's procfs shows it (what it names is virtual).
            if let Some(o) = stat_beneath(c.t, &mut link, flags, out, statx) {
                return o;
            }
        }
    }
    let mut p = tri!(path_in(c.t, dirfd, addr));
    if let (Some(fd), 0) = (p.dirfd, p.len) {
        // `/dev/stdin`, `/proc/self/fd/N`: the fd's own stat, by the kernel
        // (path_in found none of preld's fds; the base layer still keeps
        // them out).
        static EMPTY: [u8; 1] = [0];
        let (e, a) = (EMPTY.as_ptr() as usize, c.args);
        c.args = match Sysno::new(c.nr) {
            Some(Sysno::stat | Sysno::lstat) => [fd as usize, e, a[1], AT_EMPTY_PATH, 0, 0],
            Some(Sysno::newfstatat) => [fd as usize, e, a[2], a[3] | AT_EMPTY_PATH, 0, 0],
            _ => [fd as usize, e, a[2] | AT_EMPTY_PATH, a[3], a[4], 0],
        };
        if matches!(Sysno::new(c.nr), Some(Sysno::stat | Sysno::lstat)) {
            c.nr = Sysno::newfstatat as usize;
        }
        return Outcome::Next;
    }
    if let Some(o) = stat_beneath(c.t, &mut p, flags, out, statx) {
        return o;
    }
    if p.dirfd.is_none() && beneath::is_virtual_dir(&p.buf[..p.len]) {
        // A virtual directory by its own name: its stand-in's fd, asked for
        // once, and its stat made here from now on (`virtual_dir_fd`).
        let mut buf = [0u8; 256];
        let req = Request::Open { flags: (O_PATH | O_DIRECTORY | O_CLOEXEC) as u32, mode: 0, path: p.arg(0) };
        if let Ok((r, Some(fd), _)) = ask(c, &req, &[&p], &mut buf, true) {
            if r >= 0 {
                beneath::learn_virtual_dir(&p.buf[..p.len], fd);
                if let Some(o) = stat_beneath(c.t, &mut p, flags, out, statx) {
                    return o;
                }
            } else {
                sys::close(fd);
            }
        }
    }
    let statx = statx.is_some();
    let mut buf = [0u8; 256 + STAT_SIZE];
    let req = Request::Stat { flags: flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) as u32, path: p.arg(0) };
    let (fds, n) = fds_of(&[&p]);
    let (reply, _) = tri!(rpc::call(c.t, &req, &fds[..n], &mut buf, true, *c.uc.sigmask()).map_err(|e| -(e as isize)));
    if reply.result < 0 {
        return Outcome::Return(reply.result as isize);
    }
    let ReplyData::Stat(st) = reply.data else { return Outcome::err(EIO) };
    let ok = if statx { usermem::write(out, &to_statx(st)) } else { usermem::write(out, st) };
    if ok { Outcome::Return(0) } else { Outcome::err(EFAULT) }
}

/// struct stat (x86_64) → struct statx, with the basic fields.
fn to_statx(st: &[u8; STAT_SIZE]) -> [u8; 256] {
    let u64at = |o: usize| u64::from_ne_bytes(st[o..o + 8].try_into().unwrap_or_default());
    let u32at = |o: usize| u32::from_ne_bytes(st[o..o + 4].try_into().unwrap_or_default());
    let mut x = [0u8; 256];
    let mut put = |o: usize, b: &[u8]| x[o..o + b.len()].copy_from_slice(b);
    let (dev, ino, nlink, mode, uid, gid, rdev) = (u64at(0), u64at(8), u64at(16), u32at(24), u32at(28), u32at(32), u64at(40));
    let (size, blksize, blocks) = (u64at(48), u64at(56), u64at(64));
    put(0, &0x7ffu32.to_ne_bytes()); // STATX_BASIC_STATS
    put(4, &(blksize as u32).to_ne_bytes());
    put(16, &(nlink as u32).to_ne_bytes());
    put(20, &uid.to_ne_bytes());
    put(24, &gid.to_ne_bytes());
    put(28, &(mode as u16).to_ne_bytes());
    put(32, &ino.to_ne_bytes());
    put(40, &size.to_ne_bytes());
    put(48, &blocks.to_ne_bytes());
    // atime 72..88, mtime 88.., ctime 104..: stat has (sec, nsec) at 72, 88, 104.
    for (so, xo) in [(72usize, 64usize), (88, 112), (104, 96)] {
        put(xo, &u64at(so).to_ne_bytes());
        put(xo + 8, &(u64at(so + 8) as u32).to_ne_bytes());
    }
    let split = |d: u64| ((((d >> 8) & 0xfff) | ((d >> 32) & !0xfff)) as u32, ((d & 0xff) | ((d >> 12) & !0xff)) as u32);
    let (rmaj, rmin) = split(rdev);
    let (dmaj, dmin) = split(dev);
    put(128, &rmaj.to_ne_bytes());
    put(132, &rmin.to_ne_bytes());
    put(136, &dmaj.to_ne_bytes());
    put(140, &dmin.to_ne_bytes());
    x
}

fn access_at(c: &mut Call<'_>, dirfd: i32, addr: usize, mode: u32, flags: u32) -> Outcome {
    let mut p = tri!(path_in(c.t, dirfd, addr));
    if let (Some(fd), 0) = (p.dirfd, p.len) {
        // `/dev/stdin`, `/proc/self/fd/N`: the fd's own file, by the kernel
        // (faccessat2 with AT_EMPTY_PATH), as stat does: the server took
        // the fd as a directory with an empty name (access of /dev/stdin
        // was false; session-17b adversary).
        static EMPTY: [u8; 1] = [0];
        c.args = [fd as usize, EMPTY.as_ptr() as usize, mode as usize, (flags as usize & !AT_SYMLINK_NOFOLLOW) | AT_EMPTY_PATH, 0, 0];
        c.nr = Sysno::faccessat2 as usize;
        return Outcome::Next;
    }
    if let Some(o) = access_beneath(&mut p, mode, flags) {
        return o;
    }
    let mut buf = [0u8; 256];
    let (r, fd, _) = tri!(ask(c, &Request::Access { mode, flags, path: p.arg(0) }, &[&p], &mut buf, true));
    if let Some(fd) = fd {
        sys::close(fd);
    }
    Outcome::Return(r.min(0))
}

/// chmod, fchmodat, fchmodat2: made by the server.
fn chmod_at(c: &mut Call<'_>, dirfd: i32, addr: usize, mode: usize, flags: usize) -> Outcome {
    let (p, flags) = tri!(meta_path_in(c.t, dirfd, addr, flags));
    ask_about(c, &p, |path| Request::Chmod { mode: mode as u32, flags: flags as u32, path })
}

fn simple(c: &mut Call<'_>, dirfd: i32, addr: usize, req: impl Fn(PathArg<'_>) -> Request<'_>) -> Outcome {
    let p = tri!(path_in(c.t, dirfd, addr));
    ask_about(c, &p, req)
}

/// The server's answer to `req` about `p` (an fd it sends back closed).
fn ask_about(c: &mut Call<'_>, p: &PathIn, req: impl Fn(PathArg<'_>) -> Request<'_>) -> Outcome {
    let mut buf = [0u8; 256];
    let (r, fd, _) = tri!(ask(c, &req(p.arg(0)), &[p], &mut buf, true));
    if let Some(fd) = fd {
        sys::close(fd);
    }
    Outcome::Return(r.min(0))
}

fn two(
    c: &mut Call<'_>,
    d1: i32,
    a1: usize,
    d2: i32,
    a2: usize,
    req: impl for<'x> Fn(PathArg<'x>, PathArg<'x>) -> Request<'x>,
) -> Outcome {
    let p1 = tri!(path_in(c.t, d1, a1));
    let p2 = tri!(path_in(c.t, d2, a2));
    let mut buf = [0u8; 256];
    let (r, _, _) = tri!(ask(c, &req(p1.arg(0), p2.arg(second(&p1))), &[&p1, &p2], &mut buf, true));
    Outcome::Return(r.min(0))
}

fn symlink_at(c: &mut Call<'_>, target: usize, dirfd: i32, addr: usize) -> Outcome {
    let mut t = [0u8; PATH_MAX];
    let n = tri!(usermem::read_cstr(target, &mut t).ok_or(-(EFAULT as isize)));
    let p = tri!(path_in(c.t, dirfd, addr));
    let mut buf = [0u8; 256];
    let (r, _, _) = tri!(ask(c, &Request::Symlink { target: &t[..n], path: p.arg(0) }, &[&p], &mut buf, true));
    Outcome::Return(r.min(0))
}

fn utimens_at(c: &mut Call<'_>, dirfd: i32, addr: usize, times: usize, flags: u32) -> Outcome {
    // NULL times: both now.
    let mut t = [0, UTIME_NOW as usize, 0, UTIME_NOW as usize];
    if times != 0 && !usermem::read_words(times, &mut t) {
        return Outcome::err(EFAULT);
    }
    let ts = [Timespec { sec: t[0] as i64, nsec: t[1] as i64 }, Timespec { sec: t[2] as i64, nsec: t[3] as i64 }];
    let (p, flags) = tri!(meta_path_in(c.t, dirfd, addr, flags as usize));
    ask_about(c, &p, |path| Request::Utimens { times: ts, flags: flags as u32, path })
}

fn readlink_at(c: &mut Call<'_>, dirfd: i32, addr: usize, out: usize, size: usize) -> Outcome {
    if size == 0 || size > isize::MAX as usize {
        return Outcome::err(EINVAL);
    }
    let mut head = [0u8; 40];
    if let Some(n) = usermem::read_cstr(addr, &mut head) {
        // Through /proc/self/root or cwd to one of these links
        // (`/proc/self/root/proc/self/exe`): that link; beside a directory
        // fd of the session's procfs (`readlinkat(fd of /proc, "self/exe")`)
        // too.
        let mut name = head[..n].to_vec();
        if let Some(abs) = beside_procfs(Some(dirfd).filter(|&d| d != AT_FDCWD), &name) {
            name = abs;
        }
        join_proc_cwd(c.t, dirfd, &mut name);
        for _ in 0..40 {
            name = match self_dir_link(&name) {
                Some((SelfDirLink::Root, rest)) if !rest.is_empty() => [&b"/"[..], rest].concat(),
                Some((SelfDirLink::Cwd, rest)) if !rest.is_empty() => [&cwd(c.t)[..], b"/", rest].concat(),
                _ => break,
            };
        }
        let (head, n) = (&name[..], name.len());
        let link: Option<Vec<u8>> = if crate::pathmap::is_self_exe(&head[..n]) {
            // /proc/self/exe names the program, as natively.
            Some(program_path().to_vec())
        } else if let Some(to) = dev_fd_link(&head[..n]) {
            Some(to.to_vec())
        } else {
            match self_dir_link(&head[..n]) {
                Some((SelfDirLink::Cwd, b"")) => Some(cwd(c.t)),
                Some((SelfDirLink::Root, b"")) => Some(b"/".to_vec()),
                _ => None,
            }
        };
        let link = link.or_else(|| match fd_path(&head[..n]) {
            Some((fd, b"")) if !crate::ownfd::is_own(fd as usize) => kernel_fd_name(fd),
            _ => None,
        });
        if let Some(v) = link {
            let n = v.len().min(size);
            return if usermem::write(out, &v[..n]) { Outcome::Return(n as isize) } else { Outcome::err(EFAULT) };
        }
    }
    let mut p = tri!(path_in(c.t, dirfd, addr));
    if let Some(name) = other_process_fd_name(c, &mut p) {
        let n = name.len().min(size);
        return if usermem::write(out, &name[..n]) { Outcome::Return(n as isize) } else { Outcome::err(EFAULT) };
    }
    if let Some(o) = readlink_beneath(&mut p, out, size) {
        return o;
    }
    let mut buf = [0u8; PATH_MAX + 64];
    let (fds, n) = fds_of(&[&p]);
    let (reply, _) = tri!(rpc::call(c.t, &Request::Readlink { path: p.arg(0) }, &fds[..n], &mut buf, true, *c.uc.sigmask()).map_err(|e| -(e as isize)));
    if reply.result < 0 {
        return Outcome::Return(reply.result as isize);
    }
    let ReplyData::Bytes(b) = reply.data else { return Outcome::err(EIO) };
    let n = b.len().min(size);
    if !usermem::write(out, &b[..n]) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(n as isize)
}

fn change_dir(c: &mut Call<'_>, dirfd: i32, addr: usize) -> Outcome {
    let mut p = if addr == 0 {
        // fchdir: the directory is the fd itself.
        tri!(fd_in(dirfd))
    } else {
        tri!(path_in(c.t, dirfd, addr))
    };
    if p.dirfd.is_none() && p.buf[..p.len].starts_with(b"/proc/") {
        tri!(proc_dir(&mut p).map_err(|e| -(e as isize)));
    }
    let mut buf = [0u8; PATH_MAX + 64];
    // The reply is the new cwd as the server's walk found it (physical).
    let (fds, n) = fds_of(&[&p]);
    let (reply, _) = tri!(rpc::call(c.t, &Request::Chdir { path: p.arg(0) }, &fds[..n], &mut buf, true, *c.uc.sigmask()).map_err(|e| -(e as isize)));
    match reply.data {
        _ if reply.result < 0 => Outcome::Return(reply.result as isize),
        ReplyData::Bytes(b) => {
            set_cwd(c.t, b);
            Outcome::Return(0)
        }
        _ => Outcome::err(EIO),
    }
}

/// A directory of the session's /proc named for chdir (`p`, absolute): the
/// handler looks (the server has none, and takes the name as the cwd
/// after this). /proc/self and thread-self become this process's and
/// thread's directories by number, as the kernel's cwd would be (a child,
/// or a program run there, reads its parent's). Err: chdir's errno.
fn proc_dir(p: &mut PathIn) -> Result<(), i32> {
    let pid = sys::getpid();
    for (link, ours) in [(&b"/proc/thread-self"[..], alloc::format!("/proc/{pid}/task/{}", sys::gettid())), (b"/proc/self", alloc::format!("/proc/{pid}"))] {
        let Some(rest) = p.buf[..p.len].strip_prefix(link) else { continue };
        if (rest.is_empty() || rest[0] == b'/') && ours.len() + rest.len() < PATH_MAX {
            p.buf.copy_within(link.len()..p.len, ours.len());
            p.buf[..ours.len()].copy_from_slice(ours.as_bytes());
            p.len = p.len - link.len() + ours.len();
            break;
        }
    }
    let mut q = PathIn { buf: [0; PATH_MAX], len: p.len, dirfd: None };
    q.buf[..p.len].copy_from_slice(&p.buf[..p.len]);
    let Some((base, rel, _, _)) = beneath_target(&mut q) else { return Ok(()) };
    let how = sys::OpenHow { flags: (O_PATH | O_DIRECTORY | O_CLOEXEC) as u64, mode: 0, resolve: beneath::RESOLVE };
    let fd = sys::openat2(base, rel, &how)?;
    let x = sys::faccess_fd(fd, crate::abi::X_OK, 0);
    sys::close(fd);
    x
}

fn get_cwd(t: &ThreadBlock, out: usize, size: usize) -> Outcome {
    let cwd = cwd(t);
    if cwd.len() + 1 > size {
        return Outcome::err(ERANGE);
    }
    let mut v = cwd;
    v.push(0);
    if !usermem::write(out, &v) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(v.len() as isize)
}

// Paths beneath a directory grant the process resolves itself
// (beneath.rs): one openat2 confined beneath the grant, the rest on the fd
// it gives. None from these: the server's to answer after all.

/// Where path `p` lies beneath a directory grant the process resolves in
/// itself: the directory fd to resolve from, the rest of the path
/// (NUL-terminated, in `p`'s buffer) and the grant's mode; or, for a file
/// grant's own path, its fd, an empty rest and its mode (`f`, `e`:
/// beneath::openat2 opens the file itself anew).
fn beneath_target(p: &mut PathIn) -> Option<(i32, &[u8], u8, &'static beneath::Grant)> {
    if !beneath::active() || p.len >= PATH_MAX {
        return None;
    }
    let len = p.len;
    match p.dirfd {
        None => {
            let (g, rest) = beneath::find(&p.buf[..len])?;
            if rest.is_empty() {
                let itself: &[u8] = if g.is_file() { b"\0" } else { b".\0" };
                return Some((g.fd(), itself, g.resolve_mode(), g));
            }
            let start = len - rest.len();
            p.buf[len] = 0;
            if !beneath::usable_path(g, &p.buf[start..=len]) {
                return None;
            }
            Some((g.fd(), &p.buf[start..=len], g.resolve_mode(), g))
        }
        // Relative to an fd of the application's on a grant (a directory
        // opened here or handed out by the server): from that fd, confined
        // beneath it.
        Some(fd) if len > 0 => {
            let g = beneath::grant_of_fd(fd).filter(|g| !g.is_file())?;
            if climbs(&p.buf[..len]) && matches!(g.resolve_mode(), b'r' | b'w' | b'x') {
                // Confined beneath the fd, `..` would fail (EXDEV): the
                // same path from the grant's root instead.
                return if climbing_from_fd(p, fd, g) { beneath_target(p) } else { None };
            }
            p.buf[len] = 0;
            Some((fd, &p.buf[..=len], g.resolve_mode(), g))
        }
        _ => None,
    }
}

/// Whether a relative path begins with `..` (find's and fts's way back up
/// from a directory's fd).
fn climbs(rel: &[u8]) -> bool {
    rel == b".." || rel.starts_with(b"../")
}

/// `p`, relative to the application's `fd` on grant `g`'s copy, made the
/// absolute virtual path it names: the grant's virtual path, the
/// directory's path below the copy's root as the kernel keeps it, then
/// `p` (its leading `..` taken off that path). That path is checked to
/// name `fd`'s directory still (one moved on the host since, or removed,
/// stays the server's: false). The confined
/// walk from the grant's root then goes where the server's walk would go,
/// and `..` above the grant's root fails with EXDEV there (the server's).
fn climbing_from_fd(p: &mut PathIn, fd: i32, g: &beneath::Grant) -> bool {
    let mut inside = [0u8; PATH_MAX];
    let Some(n) = beneath::fd_link(fd, &mut inside) else { return false };
    if n == 0 || n >= PATH_MAX - 1 || inside[0] != b'/' || inside[..n].ends_with(b" (deleted)") {
        return false;
    }
    let below = if n == 1 { &b"."[..] } else { &inside[1..n] };
    let mut rel = [0u8; PATH_MAX];
    rel[..below.len()].copy_from_slice(below);
    let how = sys::OpenHow { flags: (O_PATH | O_DIRECTORY | O_CLOEXEC) as u64, mode: 0, resolve: beneath::RESOLVE };
    let Ok(there) = sys::openat2(g.fd(), &rel[..=below.len()], &how) else { return false };
    let same = file_id(there).is_some_and(|id| file_id(fd) == Some(id));
    sys::close(there);
    let vpath = g.vpath();
    let head = if vpath == b"/" { 0 } else { vpath.len() };
    // The leading `..` are taken off the directory's own path (the
    // kernel's, with no symlink in it: each `..` is its parent), so the
    // walk looks up none of the names it would climb back over. Walked
    // through them, a directory moved away from its place meanwhile (a
    // rename the server made for another thread, between the look above
    // and the open) failed with ENOENT, which the kernel's `..` from the
    // fd never does (test `climbing_while_renamed_never_fails`). `..`
    // above the grant's root stays in the path: the server's (EXDEV).
    let mut keep = if n == 1 { 0 } else { n };
    let mut from = 0;
    while from < p.len {
        let end = p.buf[from..p.len].iter().position(|&b| b == b'/').map_or(p.len, |k| from + k);
        match &p.buf[from..end] {
            b".." if keep > 0 => keep = inside[..keep].iter().rposition(|&b| b == b'/').unwrap_or(0),
            b"" | b"." => {}
            _ => break,
        }
        from = (end + 1).min(p.len);
    }
    let inside = &inside[..keep];
    let rest = p.len - from;
    let total = head + inside.len() + 1 + rest;
    if !same || total >= PATH_MAX {
        return false;
    }
    p.buf.copy_within(from..p.len, head + inside.len() + 1);
    p.buf[..head].copy_from_slice(&vpath[..head]);
    p.buf[head..head + inside.len()].copy_from_slice(inside);
    p.buf[head + inside.len()] = b'/';
    p.len = total;
    p.dirfd = None;
    true
}

/// Whether an error of the confined open is the server's to decide: EXDEV
/// (the path leaves the grant: an absolute symlink, `..` above its root),
/// EACCES (a Landlock domain made without this grant's rule, or a
/// directory the user cannot search: the server says which), EAGAIN, and
/// what a kernel without openat2 says. Beneath the session's /proc (mode
/// `p`) only a path that leaves it: the server has no view of procfs.
fn server_decides(e: i32, mode: u8) -> bool {
    match mode {
        b'p' | b't' => matches!(e, EXDEV | ENOSYS),
        _ => matches!(e, EXDEV | EACCES | EAGAIN | ENOSYS | EBADF),
    }
}

/// ENOENT for a path that lies in a virtual directory of the session and
/// is none of its entries (`beneath::missing`): the server's answer,
/// without asking it (a PATH search or a library search tries many such
/// names). `creating`: the last name may be made (the server's then).
fn nothing_there(p: &PathIn, creating: bool) -> Option<Outcome> {
    (p.dirfd.is_none() && p.len < PATH_MAX && beneath::missing(&p.buf[..p.len], creating)).then(|| Outcome::err(ENOENT))
}

/// An O_PATH fd of what `p` names beneath a grant (the last symlink
/// followed unless `nofollow`); Err: the call's result.
fn beneath_path(p: &mut PathIn, nofollow: bool) -> Option<Result<(i32, u8), isize>> {
    if let Some(g) = (!nofollow && p.dirfd.is_none()).then(|| beneath::linked_file(&p.buf[..p.len])).flatten() {
        // A symlink granted as itself naming a file (/etc/localtime): a
        // copy of that file's fd, as for a file grant's own path.
        return Some(sys::fcntl(g.fd(), F_DUPFD_CLOEXEC, 0).map(|fd| (fd as i32, b'f')).map_err(|e| -(e as isize)));
    }
    following_links(p, !nofollow, |p| beneath_path_once(p, nofollow))
}

/// `once(p)`; where it leaves `p` to the server and `follow` allows, and
/// `p` ends in an absolute symlink out of its grant, `once` of the link's
/// target, as the server's walk goes on (`absolute_link_target`), up to
/// LINKS_FOLLOWED links.
fn following_links<T>(p: &mut PathIn, follow: bool, mut once: impl FnMut(&mut PathIn) -> Option<T>) -> Option<T> {
    through_granted_links(p, follow);
    let first = once(p);
    if first.is_some() || !follow {
        return first;
    }
    let mut q = absolute_link_target(p)?;
    for _ in 0..LINKS_FOLLOWED {
        through_granted_links(&mut q, true);
        match once(&mut q) {
            None => q = absolute_link_target(&mut q)?,
            r => return r,
        }
    }
    None
}

/// `p` (absolute) with the target of each symlink the session grants as
/// itself that it goes through in place of the link's name
/// (`beneath::link_in`: /bin/sh is /usr/bin/sh), as the server's walk
/// splices it in; the last name's only when `follow_last`. Up to
/// LINKS_FOLLOWED links, and not past PATH_MAX: then the path as it
/// stands, for the server.
fn through_granted_links(p: &mut PathIn, follow_last: bool) {
    if p.dirfd.is_some() {
        return;
    }
    for _ in 0..LINKS_FOLLOWED {
        let Some((k, target)) = beneath::link_in(&p.buf[..p.len], follow_last) else { return };
        // (A link to `/` followed by more: the rest alone, spelt plainly.)
        let target = if target == b"/" && k < p.len { &b""[..] } else { target };
        let len = target.len() + (p.len - k);
        if len >= PATH_MAX {
            return;
        }
        p.buf.copy_within(k..p.len, target.len());
        p.buf[..target.len()].copy_from_slice(target);
        p.len = len;
    }
}

/// Whether the absolute path `path` names nothing, as the process can tell
/// by itself: beneath a grant it resolves in (the confined walk says
/// ENOENT) or in a virtual directory (`beneath::missing`). For an exec's
/// PATH search (execvp tries /usr/local/sbin/NAME, /usr/local/bin/NAME...
/// before the one that is there), which then need not ask the server.
pub fn nothing_at(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') || path.len() >= PATH_MAX {
        return false;
    }
    let mut p = PathIn { buf: [0; PATH_MAX], len: path.len(), dirfd: None };
    p.buf[..path.len()].copy_from_slice(path);
    match beneath_path(&mut p, false) {
        Some(Ok((fd, _))) => {
            sys::close(fd);
            false
        }
        Some(Err(e)) => e == -(ENOENT as isize),
        None => false,
    }
}

/// How many absolute symlinks at the end of a path the process follows
/// itself (`absolute_link_target`) before it leaves the rest to the server
/// (which allows 40 in all, ELOOP).
const LINKS_FOLLOWED: usize = 8;

/// The absolute target of a symlink that ends path `p` beneath a grant the
/// process resolves in: the confined walk stops there with EXDEV (the link
/// leaves the grant: /lib64/ld-linux-x86-64.so.2 -> /lib/..., every exec's
/// interpreter), where the server's walk goes on at the virtual root with
/// the target, as the caller then does. None: no such link (none at the
/// end, a relative one, or a path that leaves the grant on the way: the
/// server's).
fn absolute_link_target(p: &mut PathIn) -> Option<PathIn> {
    let (base, rel, mode, _) = beneath_target(p)?;
    if !matches!(mode, b'r' | b'x' | b'w') {
        return None;
    }
    let fd = beneath::openat2(base, rel, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, mode, false).ok()?;
    let mut q = PathIn { buf: [0; PATH_MAX], len: 0, dirfd: None };
    let n = sys::readlink_fd(fd, &mut q.buf[..PATH_MAX - 1]);
    sys::close(fd);
    let n = n.ok()?;
    if n == 0 || n >= PATH_MAX - 1 || q.buf[0] != b'/' {
        return None;
    }
    // /proc and /dev hold the names the handler makes itself (/proc/self/
    // exe, fd/N, /dev/stdin...) and the session's procfs, which a target
    // must not reach as a plain path (its magic links followed by stat):
    // the server's, as for `missing`.
    let to = &q.buf[..n];
    let under = |d: &[u8]| to.strip_prefix(d).is_some_and(|r| r.is_empty() || r[0] == b'/');
    if to.starts_with(b"//") || under(b"/proc") || under(b"/dev") {
        return None;
    }
    q.len = n;
    Some(q)
}

fn beneath_path_once(p: &mut PathIn, nofollow: bool) -> Option<Result<(i32, u8), isize>> {
    let Some((base, rel, mode, _)) = beneath_target(p) else {
        // In no grant the process resolves in: maybe nothing at all.
        return nothing_there(p, false).map(|_| Err(-(ENOENT as isize)));
    };
    // A file grant's own path: a copy of its O_PATH fd serves stat,
    // access and readlink as well as the reopen through the session's
    // procfs (/proc/thread-self/fd/N: the lookups of procfs, 2 us, where
    // glibc's localtime looks at /etc/localtime on every call).
    if beneath::is_file_mode(mode) && matches!(rel, b"" | b"\0") {
        return Some(sys::fcntl(base, F_DUPFD_CLOEXEC, 0).map(|fd| (fd as i32, mode)).map_err(|e| -(e as isize)));
    }
    let f = O_PATH | O_CLOEXEC | if nofollow { O_NOFOLLOW } else { 0 };
    match beneath::openat2(base, rel, f, 0, mode, false) {
        Ok(fd) => Some(Ok((fd, mode))),
        // A magic link of the session's procfs (/proc/self/ns/net) looked
        // at through: the O_PATH fd only serves stat, access and the like
        // here, never the program.
        Err(ELOOP) if mode == b'p' && !nofollow => {
            let how = sys::OpenHow { flags: f as u64, mode: 0, resolve: 0 };
            Some(sys::openat2(base, rel, &how).map(|fd| (fd, mode)).map_err(|e| -(e as isize)))
        }
        Err(e) if server_decides(e, mode) => None,
        Err(e) => Some(Err(-(e as isize))),
    }
}

/// The open flags served beneath a grant (no O_TMPFILE, which creates;
/// no O_ASYNC, which open ignores but F_GETFL would show).
const BENEATH_OPEN_FLAGS: usize = O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY
    | O_NOFOLLOW | O_NOCTTY | O_LARGEFILE | O_NOATIME | O_PATH | O_DIRECT | O_SYNC | O_DSYNC;

/// An open beneath a grant of a file, a directory or a FIFO: reading in
/// any grant, writing (an existing file: Landlock lets the process write
/// and truncate there but create nothing, so a creation fails with EACCES
/// and is the server's) in a read-write one. Devices go to the server:
/// their open is their driver's business and their ioctls are no right a
/// session has through Landlock. So the type of what the path names is
/// looked at first (statx, which opens nothing), unless the open itself
/// refuses anything but a directory (O_DIRECTORY without writing) or
/// opens nothing (O_PATH). statx is not confined beneath the grant, but
/// where its walk and the confined open's part (an absolute symlink, `..`
/// above the grant's root) the open fails with EXDEV, and the server
/// decides; where statx fails, the confined open without opening (O_PATH)
/// says what the path is. A FIFO's open may wait for its other end: it is
/// made outside the handler (the call is rewritten into preld's buffers
/// and made as the application's own), where signals reach it as
/// natively. (A file swapped for a FIFO between the look and the open
/// makes the open wait in the handler, with signals held back: only
/// someone who may write the grant can do that, to this program only.)
/// In the handler gate, beneath a directory grant's copy, which opens no
/// devices (MOUNT_ATTR_NODEV), nothing is looked at first: the
/// open is the application's own, and one that waits for a FIFO's other
/// end is interrupted by a signal as natively (EINTR, or given back to the
/// trap path when the kernel would restart it: `gate_serve`).
fn open_beneath(mut c: Option<&mut Call<'_>>, p: &mut PathIn, flags: u32, mode: u32) -> Option<Outcome> {
    // An absolute symlink at the end is followed here as the server would
    // (not for O_NOFOLLOW or a creation).
    let follow = flags as usize & (O_NOFOLLOW | O_CREAT) == 0;
    following_links(p, follow, |p| open_beneath_once(c.as_deref_mut(), p, flags, mode))
}

fn open_beneath_once(c: Option<&mut Call<'_>>, p: &mut PathIn, flags: u32, mode: u32) -> Option<Outcome> {
    let f = flags as usize;
    let creat = f & O_CREAT != 0;
    let writes = f & O_ACCMODE != O_RDONLY || f & (O_TRUNC | O_APPEND | O_CREAT) != 0;
    if f & !BENEATH_OPEN_FLAGS != 0 || f & O_ACCMODE == O_ACCMODE {
        return None;
    }
    let Some((base, rel, grant_mode, grant)) = beneath_target(p) else {
        // In no grant the process resolves in: maybe nothing at all. (O_CREAT
        // with O_DIRECTORY: EINVAL before any lookup, the server's.)
        return if f & (O_CREAT | O_DIRECTORY) == O_CREAT | O_DIRECTORY { None } else { nothing_there(p, creat) };
    };
    // In the handler gate (no trap's call), on a copy that opens no
    // devices: the open itself, as the application asked it, with no look
    // first; one that waits (a FIFO) is interrupted by a signal as natively
    // (`sys::openat2_restartable`).
    let in_gate = c.is_none() && grant.nodev && f & O_PATH == 0;
    if f & O_PATH != 0 {
        if creat {
            return None;
        }
    } else if writes && !matches!(grant_mode, b'w' | b'p' | b't') {
        return None; // EROFS and the rest: the server's
    } else if (f & O_DIRECTORY == 0 || writes) && !in_gate && !beneath::is_file_mode(grant_mode) {
        let nofollow = if f & O_NOFOLLOW != 0 || (creat && f & O_EXCL != 0) { AT_SYMLINK_NOFOLLOW } else { 0 };
        let kind = match sys::file_type_at(base, rel, nofollow | AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT) {
            Ok(k) => k,
            Err(_) => {
                // What the confined walk finds (an error, most often):
                // through no symlink beneath a copy that does not show its
                // nested grants (`walk`), where one met is the server's.
                let no_links = if grant.shadows { crate::abi::RESOLVE_NO_SYMLINKS } else { 0 };
                let look = sys::OpenHow { flags: (O_PATH | O_CLOEXEC | (f & O_NOFOLLOW)) as u64, mode: 0, resolve: beneath::RESOLVE | no_links };
                match sys::openat2(base, rel, &look) {
                    Ok(fd) => {
                        sys::close(fd);
                        return None;
                    }
                    Err(ELOOP) if grant.shadows => return None,
                    Err(e) if server_decides(e, grant_mode) || (creat && e == ENOENT) => return None,
                    Err(e) => return Some(Outcome::Return(-(e as isize))),
                }
            }
        };
        if kind == S_IFIFO {
            // (The handler gate has no call to rewrite: the trap path's.
            // Nor beneath a copy that does not show its nested grants: the
            // application's open follows symlinks, one swapped in since
            // `usable_path` looked may lead to a nested grant's empty
            // stand-in there.)
            return if grant.shadows { None } else { c.map(|c| open_fifo(c, base, rel, f)) };
        }
        // The session's own ptys are opened here; other devices are the
        // server's.
        if kind != S_IFREG && kind != S_IFDIR && !(grant_mode == b't' && kind == crate::abi::S_IFCHR) {
            return None;
        }
    }
    let want = if f & O_PATH != 0 { f & (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } else { f | O_NOCTTY };
    let mode = if creat { (mode & 0o7777) as u64 } else { 0 };
    // An fd opened in the gate (find's and fts's walk: a directory opened,
    // then named beside; tar opens its directories without O_DIRECTORY)
    // is known to lie on the grant from the start when its walk stayed on
    // the grant's mount (RESOLVE_NO_XDEV; else the walk again without, and
    // statx tells later): one statx less each (tar: 989 of them).
    let remember = in_gate && matches!(grant_mode, b'r' | b'w' | b'x');
    let open = |want: usize| match remember {
        true => match beneath::openat2_on_mount(base, rel, want, mode) {
            Ok(fd) => {
                beneath::remember_fd(fd, grant);
                Ok(fd)
            }
            Err(EXDEV) => beneath::openat2(base, rel, want, mode, grant_mode, in_gate),
            Err(e) => Err(e),
        },
        false => beneath::openat2(base, rel, want, mode, grant_mode, in_gate),
    };
    let opened = match open(want) {
        // O_NOATIME of a file the user does not own: root's CAP_FOWNER
        // allows it natively, and a session's processes have no
        // capabilities. In root's session (no owners to fix: every id
        // mapped) the open is made without it, as near as the session
        // gets (the file's atime may then change on a read, as under
        // relatime).
        Err(EPERM) if want & O_NOATIME != 0 && !owners::on() => open(want & !O_NOATIME),
        o => o,
    };
    Some(match opened {
        Ok(fd) => Outcome::Return(fd as isize),
        Err(e) if server_decides(e, grant_mode) => return None,
        Err(e) => Outcome::Return(-(e as isize)),
    })
}

/// `path` (absolute, as an ELF's PT_INTERP names ld.so) opened for
/// reading beneath a grant the process resolves in, absolute symlinks
/// followed as the server's walk does; None where the server would have
/// to be asked (or anything fails: the caller asks it then).
pub fn open_in_process(path: &[u8]) -> Option<i32> {
    let path = path.strip_suffix(b"\0").unwrap_or(path);
    if path.first() != Some(&b'/') || path.len() >= PATH_MAX || path.contains(&0) {
        return None;
    }
    let mut p = PathIn { buf: [0; PATH_MAX], len: path.len(), dirfd: None };
    p.buf[..path.len()].copy_from_slice(path);
    match open_beneath(None, &mut p, (O_RDONLY | O_CLOEXEC) as u32, 0)? {
        Outcome::Return(fd) if fd >= 0 => Some(fd as i32),
        _ => None,
    }
}

/// A FIFO's open beneath a grant, made as the application's call (it may
/// wait): openat2 from the grant's fd, its path and `struct open_how` in
/// the thread's ring of path buffers, which a signal handler's calls
/// during the wait do not reuse (the kernel reads them again when it
/// restarts the call).
fn open_fifo(c: &mut Call<'_>, base: i32, rel: &[u8], f: usize) -> Outcome {
    let bufs = c.t.path_bufs();
    bufs[0][..rel.len()].copy_from_slice(rel); // rel ends with its NUL
    let how = [(f | O_NOCTTY) as u64, 0, beneath::RESOLVE];
    for (i, w) in how.iter().enumerate() {
        bufs[1][i * 8..i * 8 + 8].copy_from_slice(&w.to_ne_bytes());
    }
    c.nr = Sysno::openat2 as usize;
    c.args = [base as usize, bufs[0].as_ptr() as usize, bufs[1].as_ptr() as usize, core::mem::size_of::<sys::OpenHow>(), 0, 0];
    Outcome::Real
}

/// stat, lstat, newfstatat, statx (`statx`: its mask) beneath a grant.
fn stat_beneath(t: &mut ThreadBlock, p: &mut PathIn, flags: u32, out: usize, statx: Option<u32>) -> Option<Outcome> {
    let f = flags as usize;
    let known = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | if statx.is_some() { AT_STATX_SYNC_TYPE } else { 0 };
    if f & !known != 0 {
        return None; // EINVAL, the server's
    }
    if let Some(o) = stat_one_name(t, p, f, out, statx) {
        return Some(o);
    }
    // (The path as named, for its directory: `beneath_path` may follow a
    // symlink on it.)
    let named = (p.dirfd, p.len);
    // A virtual directory's stat is its stand-in's, as the server says
    // (one learnt as such: `learn_virtual_dir`).
    let vdir = if p.dirfd.is_none() { beneath::virtual_dir_fd(&p.buf[..p.len]) } else { None };
    // (A virtual directory's fd is preld's own, kept: the stat is made
    // from it as it is. Another's is a new O_PATH fd, whose EMFILE, with
    // the program's fd table full, is the server's to answer: natively a
    // stat takes no fd; every stat of a program at its fd limit said
    // EMFILE, session-23 adversary.)
    let (fd, ours) = match vdir {
        Some(d) => (d, false),
        None => match beneath_path(p, f & AT_SYMLINK_NOFOLLOW != 0)? {
            Ok((fd, _)) => (fd, true),
            Err(e) if e == -(crate::errno::EMFILE as isize) => return None,
            Err(e) => return Some(Outcome::Return(e)),
        },
    };
    // The kernel writes the application's buffer itself, as for its own
    // fstat (never preld's memory: EFAULT there, as natively for an
    // address where nothing of the application is); in a session of an
    // ordinary user preld's first, for the owners (`owners::fix`).
    let size = if statx.is_some() { 256 } else { 144 };
    let mut own = [0u8; 256];
    let fixing = owners::on();
    let to = if fixing { own.as_mut_ptr() as usize } else { out };
    let (nr, args) = match statx {
        Some(mask) => (Sysno::statx, [fd as usize, b"\0".as_ptr() as usize, AT_EMPTY_PATH | (f & (AT_STATX_SYNC_TYPE | AT_NO_AUTOMOUNT)), mask as usize, to, 0]),
        None => (Sysno::fstat, [fd as usize, to, 0, 0, 0, 0]),
    };
    let r = if crate::resident::touches(out, size) {
        Err(EFAULT)
    } else {
        // SAFETY: fstat/statx of our own O_PATH fd into the application's
        // buffer, checked to be none of preld's memory (the kernel checks
        // the rest: EFAULT), or into preld's `own` (256 bytes, the larger
        // of the two structs).
        unsafe { sys::raw(nr as usize, args) }
    };
    let r = match r {
        Ok(_) if fixing => {
            if owners::unknown(t, &own[..size], statx.is_some()) {
                let dir = named_directory(p, named);
                owners::fix(t, &mut own[..size], statx.is_some(), dir, Some(fd), false);
                if let Some(d) = dir.filter(|&d| Some(d) != named.0) {
                    sys::close(d);
                }
            } else {
                owners::fix(t, &mut own[..size], statx.is_some(), None, None, false);
            }
            if usermem::write_probed(out, &own[..size]) { Ok(0) } else { Err(EFAULT) }
        }
        r => r,
    };
    if ours {
        sys::close(fd);
    }
    Some(Outcome::Return(r.map_or_else(|e| -(e as isize), |_| 0)))
}

/// An O_PATH fd of the directory the file of the application's `fd` lies
/// in, found from the path the kernel keeps for it below its grant's copy
/// (not for file grants, nor off the grants). For `owners::fix`.
fn directory_of_fd(fd: i32) -> Option<i32> {
    let g = beneath::grant_of_fd(fd)?;
    if g.is_file() {
        return None;
    }
    let mut link = [0u8; PATH_MAX];
    let n = beneath::fd_link(fd, &mut link)?;
    if n == 0 || n >= PATH_MAX - 1 || link[0] != b'/' || link[..n].ends_with(b" (deleted)") {
        return None;
    }
    let slash = link[..n].iter().rposition(|&b| b == b'/')?;
    let rel_len = if slash == 0 {
        link[0] = b'.';
        1
    } else {
        link.copy_within(1..slash, 0);
        slash - 1
    };
    link[rel_len] = 0;
    let how = sys::OpenHow { flags: (O_PATH | O_DIRECTORY | O_CLOEXEC) as u64, mode: 0, resolve: beneath::RESOLVE };
    sys::openat2(g.fd(), &link[..=rel_len], &how).ok()
}

/// The directory the path `p` held as named (`named`: its dirfd and
/// length then) lies in: an O_PATH fd beneath its grant (or the dirfd
/// itself for a single name), for `owners::fix`. None if it cannot be had.
fn named_directory(p: &PathIn, named: (Option<i32>, usize)) -> Option<i32> {
    let (dirfd, len) = named;
    let path = p.buf.get(..len)?;
    let Some(slash) = path.iter().rposition(|&b| b == b'/') else { return dirfd };
    let mut q = PathIn { buf: [0; PATH_MAX], len: slash.max(1), dirfd };
    q.buf[..q.len].copy_from_slice(&path[..q.len]);
    match beneath_path(&mut q, false)? {
        Ok((fd, _)) => Some(fd),
        Err(_) => None,
    }
}

/// stat of one name in a directory of a grant, from the application's fd
/// on it (tar's and find's fstatat(dirfd, NAME, AT_SYMLINK_NOFOLLOW)): the
/// kernel's own call, without the confined open, fstat and close of
/// `beneath_path`. A lookup of one name that is not `..`, its symlink not
/// followed, cannot leave the directory. Following: the answer if the name
/// is no symlink (looked at into preld's buffer first: on the way a
/// symlink takes, the application's buffer stays as the kernel leaves it
/// for the call's own result). The session's procfs and devpts are not
/// served here (their names are partly the handler's).
fn stat_one_name(t: &mut ThreadBlock, p: &mut PathIn, f: usize, out: usize, statx: Option<u32>) -> Option<Outcome> {
    let fd = p.dirfd?;
    let name = &p.buf[..p.len];
    if name.is_empty() || name == b".." || name.contains(&b'/') || p.len >= PATH_MAX {
        return None;
    }
    let mode = beneath::grant_of_fd(fd)?.resolve_mode();
    if !matches!(mode, b'r' | b'w' | b'x') {
        return None;
    }
    p.buf[p.len] = 0;
    let size = if statx.is_some() { 256 } else { STAT_SIZE };
    if crate::resident::touches(out, size) {
        return None; // the way below says EFAULT
    }
    let follow = f & AT_SYMLINK_NOFOLLOW == 0;
    // (Into preld's buffer also where the owners may need the server's
    // answer: `owners::fix`.)
    let fixing = owners::on();
    let call = |to: usize| {
        let (nr, args) = match statx {
            Some(mask) => (Sysno::statx, [fd as usize, p.buf.as_ptr() as usize, f | AT_SYMLINK_NOFOLLOW, mask as usize, to, 0]),
            None => (Sysno::newfstatat, [fd as usize, p.buf.as_ptr() as usize, to, f | AT_SYMLINK_NOFOLLOW, 0, 0]),
        };
        // SAFETY: the kernel reads the NUL-terminated name in preld's
        // buffer and writes the stat at `to`: preld's `own` (256 bytes, the
        // larger of the two structs) or the application's buffer, checked
        // to be none of preld's memory (the kernel checks the rest: EFAULT,
        // as natively).
        unsafe { sys::raw(nr as usize, args) }
    };
    if !follow && !fixing {
        // (The common case, with no buffer of preld's cleared for it.)
        return match call(out) {
            Ok(_) => Some(Outcome::Return(0)),
            Err(e) if server_decides(e, mode) => None,
            Err(e) => Some(Outcome::Return(-(e as isize))),
        };
    }
    let mut own = [0u8; 256];
    match call(own.as_mut_ptr() as usize) {
        Ok(_) => {
            let kind = match statx {
                // struct statx: stx_mode (u16) at 28; struct stat: st_mode at 24.
                Some(_) => u16::from_ne_bytes([own[28], own[29]]) as u32,
                None => u32::from_ne_bytes([own[24], own[25], own[26], own[27]]),
            } & S_IFMT;
            if kind == S_IFLNK && follow {
                return None;
            }
            let unknown = owners::unknown(t, &own[..size], statx.is_some());
            if owners::overflows(&own[..size], statx.is_some()) && !owners::in_table() {
                // (With the session's owners table, the stat gate finds
                // them there.)
                beneath::owners_beside(fd);
            }
            if unknown {
                // The name itself too, as an O_PATH fd (one name, not
                // `..`, not followed: it cannot leave the directory).
                let how = sys::OpenHow { flags: (O_PATH | O_NOFOLLOW | O_CLOEXEC) as u64, mode: 0, resolve: beneath::RESOLVE };
                let file = sys::openat2(fd, &p.buf[..=p.len], &how).ok();
                owners::fix(t, &mut own[..size], statx.is_some(), Some(fd), file, true);
                if let Some(f) = file {
                    sys::close(f);
                }
            } else {
                owners::fix(t, &mut own[..size], statx.is_some(), None, None, true);
            }
            Some(if usermem::write_probed(out, &own[..size]) { Outcome::Return(0) } else { Outcome::err(EFAULT) })
        }
        Err(e) if server_decides(e, mode) => None,
        Err(e) => Some(Outcome::Return(-(e as isize))),
    }
}

/// access, faccessat, faccessat2 beneath a grant. A read-only grant holds
/// no programs (X_OK: the server's EACCES, as on a noexec mount).
fn access_beneath(p: &mut PathIn, mode: u32, flags: u32) -> Option<Outcome> {
    let f = flags as usize;
    if f & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW) != 0 || mode & !7 != 0 {
        return None; // EINVAL, the server's
    }
    let (fd, grant_mode) = match beneath_path(p, f & AT_SYMLINK_NOFOLLOW != 0)? {
        Ok(v) => v,
        // (The program's fd table full: the server's answer, as for stat.)
        Err(e) if e == -(crate::errno::EMFILE as isize) => return None,
        Err(e) => return Some(Outcome::Return(e)),
    };
    // W_OK where the grant is not read-write: the server's (EROFS). The
    // copy may be writable all the same: a read-write grant holding a
    // read-only one is resolved here as read-only (the launcher's
    // `weakest`), and the kernel would say yes for the nested grant's files.
    if (mode as usize & X_OK != 0 && matches!(grant_mode, b'r' | b'f')) || (mode as usize & W_OK != 0 && !matches!(grant_mode, b'w' | b'p' | b't')) {
        sys::close(fd);
        return None;
    }
    let r = sys::faccess_fd(fd, mode as usize, f & AT_EACCESS);
    sys::close(fd);
    match r {
        // The program has no capabilities, the server has the user's: a
        // session started by root reads what another user's mode bits
        // refuse (opens that fail here go to the server), and access must
        // say so.
        Err(e) if server_decides(e, grant_mode) => None,
        r => Some(Outcome::Return(r.map_or_else(|e| -(e as isize), |()| 0))),
    }
}

/// readlink, readlinkat beneath a grant.
/// What /proc/self/fd/`fd` names: the kernel's name where it is no path
/// (`pipe:[N]`, `socket:[N]`, `anon_inode:[eventfd]`), as natively; for an
/// fd on a directory grant the process resolves in (the session's procfs
/// among them), the grant's virtual path and the kernel's path below the
/// copy's root. None: the server's (it knows the namespace's paths).
fn kernel_fd_name(fd: i32) -> Option<Vec<u8>> {
    let mut buf = [0u8; 256];
    let n = beneath::fd_link(fd, &mut buf)?;
    if n > 0 && buf[0] != b'/' {
        return Some(buf[..n].to_vec());
    }
    let inside = &buf[..n];
    if n == buf.len() || inside.ends_with(b" (deleted)") {
        return None;
    }
    let g = beneath::grant_of_fd(fd)?;
    let mut v = g.vpath().to_vec();
    if inside != b"/" {
        if v == b"/" {
            v.clear();
        }
        v.extend_from_slice(inside);
    }
    Some(v)
}

/// readlink of /proc/PID/fd/N (or task/TID/fd/N) of another process of
/// the session whose link the kernel shows as a path: that path is below
/// the root of a grant's copy, which only the server can name. The handler
/// opens the link (the kernel lets a process of the same Landlock domain
/// follow it) and asks the server what that object is called.
fn other_process_fd_name(c: &mut Call<'_>, p: &mut PathIn) -> Option<Vec<u8>> {
    let len = p.len;
    let rest = p.buf[..len].strip_prefix(b"/proc/")?;
    let parts: Vec<&[u8]> = rest.split(|&b| b == b'/').collect();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let fd_link = match parts.as_slice() {
        [pid, b"fd", n] => digits(pid) && digits(n),
        [pid, b"task", tid, b"fd", n] => digits(pid) && digits(tid) && digits(n),
        _ => false,
    };
    if !fd_link || p.dirfd.is_some() {
        return None;
    }
    let (base, rel, mode, _) = beneath_target(p)?;
    if mode != b'p' {
        return None;
    }
    let mut buf = [0u8; 256];
    let how = sys::OpenHow { flags: (O_PATH | O_NOFOLLOW | O_CLOEXEC) as u64, mode: 0, resolve: beneath::RESOLVE };
    let link = sys::openat2(base, rel, &how).ok()?;
    let n = sys::readlink_fd(link, &mut buf);
    sys::close(link);
    if !buf[..n.ok()?].starts_with(b"/") {
        return None; // pipe:[N] and the like: the kernel's name is the name
    }
    // Followed (a magic link, which every RESOLVE_ flag but 0 refuses):
    // the path is PID/fd/N from the session's procfs, checked above.
    let target = sys::openat2(base, rel, &sys::OpenHow { flags: (O_PATH | O_CLOEXEC) as u64, mode: 0, resolve: 0 }).ok()?;
    let mut reply_buf = [0u8; PATH_MAX + 64];
    let named = rpc::call(c.t, &Request::Readlink { path: PathArg::fd(0, b"") }, &[target], &mut reply_buf, true, *c.uc.sigmask());
    sys::close(target);
    let (reply, _) = named.ok()?;
    match reply.data {
        ReplyData::Bytes(b) if reply.result >= 0 => Some(b.to_vec()),
        _ => None,
    }
}

fn readlink_beneath(p: &mut PathIn, out: usize, size: usize) -> Option<Outcome> {
    if p.dirfd.is_none() && beneath::is_virtual_dir(&p.buf[..p.len]) {
        return Some(Outcome::err(EINVAL)); // a directory, no link
    }
    let (fd, _) = match beneath_path(p, true)? {
        Ok(v) => v,
        // (The program's fd table full: the server's answer, as for stat.)
        Err(e) if e == -(crate::errno::EMFILE as isize) => return None,
        Err(e) => return Some(Outcome::Return(e)),
    };
    let mut buf = [0u8; PATH_MAX];
    let r = sys::readlink_fd(fd, &mut buf[..size.min(PATH_MAX)]);
    sys::close(fd);
    Some(match r {
        Ok(n) if usermem::write(out, &buf[..n]) => Outcome::Return(n as isize),
        Ok(_) => Outcome::err(EFAULT),
        // The object exists (it was opened): it is no symlink.
        Err(ENOENT) => Outcome::err(EINVAL),
        Err(e) => Outcome::Return(-(e as isize)),
    })
}

/// The (device, inode) of what `fd` is open on.
pub fn file_id(fd: i32) -> Option<(u64, u64)> {
    let mut st = [0u8; 144];
    sys::fstat_bytes(fd, &mut st).ok()?;
    let word = |o: usize| u64::from_ne_bytes([st[o], st[o + 1], st[o + 2], st[o + 3], st[o + 4], st[o + 5], st[o + 6], st[o + 7]]);
    Some((word(0), word(8)))
}

/// Whether `fd` is open on a virtual directory's stand-in (known by its
/// device and inode; none looked up while this process opened none).
fn is_stand_in(fd: i32) -> bool {
    if Lock::take().vdirs().is_empty() {
        return false;
    }
    file_id(fd).is_some_and(|id| Lock::take().vdirs().contains(&id))
}

/// getdents64 of a virtual directory: its entries from the server, in
/// linux_dirent64 records, from the stand-in's offset on.
fn list_virtual_dir(c: &mut Call<'_>) -> Option<Outcome> {
    let [fd, out, count, ..] = c.args;
    let fd = fd as i32;
    if !is_stand_in(fd) {
        return None;
    }
    let start = sys::lseek(fd, 0, SEEK_CUR).ok()? as usize;
    let mut buf = [0u8; preld_proto::MAX_FRAME];
    // The fd itself names the directory: the server knows which virtual
    // directory the stand-in is, however the fd was opened (openat of a
    // name relative to another directory fd, as find and fts do).
    // Entries from the position on: a listing of any size comes in as many
    // replies as it takes.
    let req = Request::ReadDir { start: start.min(u32::MAX as usize) as u32, path: PathArg::fd(0, b"") };
    let (reply, _) = match rpc::call(c.t, &req, &[fd], &mut buf, true, *c.uc.sigmask()) {
        Ok(v) => v,
        Err(e) => return Some(Outcome::Return(-(e as isize))),
    };
    if reply.result < 0 {
        return Some(Outcome::Return(reply.result as isize));
    }
    let ReplyData::Dir(entries) = reply.data else { return Some(Outcome::err(EIO)) };
    let mut img: Vec<u8> = Vec::new();
    let mut next = start;
    let mut more = false;
    for (i, e) in entries.iter().enumerate().map(|(k, e)| (start + k, e)) {
        let reclen = (19 + e.name.len() + 1 + 7) & !7;
        if img.len() + reclen > count {
            more = true;
            break;
        }
        let base = img.len();
        img.resize(base + reclen, 0);
        img[base..base + 8].copy_from_slice(&e.ino.to_ne_bytes());
        // d_off: the position after this entry, which lseek takes back.
        img[base + 8..base + 16].copy_from_slice(&((i + 1) as u64).to_ne_bytes());
        img[base + 16..base + 18].copy_from_slice(&(reclen as u16).to_ne_bytes());
        img[base + 18] = e.d_type;
        img[base + 19..base + 19 + e.name.len()].copy_from_slice(e.name);
        next = i + 1;
    }
    if img.is_empty() && more {
        return Some(Outcome::err(EINVAL)); // buffer too small for one entry
    }
    if !usermem::write(out, &img) {
        return Some(Outcome::err(EFAULT));
    }
    let _ = sys::lseek(fd, next as u64, SEEK_SET);
    Some(Outcome::Return(img.len() as isize))
}

/// The path of a `struct sockaddr_un` (without its family and NUL).
fn unix_path(sa: &[u8]) -> &[u8] {
    let p = sa.get(2..).unwrap_or(&[]);
    &p[..p.iter().position(|&b| b == 0).unwrap_or(p.len())]
}

/// getsockname, getpeername: the kernel's answer, with the name of a Unix
/// socket the server bound for this process shown as the program gave it
/// to bind (the kernel keeps the server's `/proc/self/fd/N/NAME`).
pub fn sock_name(c: &mut Call<'_>) -> Outcome {
    let [fd, addr, lenp, ..] = c.args;
    if crate::ownfd::is_own(fd) {
        return Outcome::Next; // the base layer's EBADF
    }
    if Lock::take().sock_names().is_empty() {
        return Outcome::Next;
    }
    let mut len = [0u8; 4];
    if !usermem::read(lenp, &mut len) {
        return Outcome::Next; // the kernel's EFAULT
    }
    let room = u32::from_ne_bytes(len) as usize;
    let mut sa = [0u8; 128];
    let peer = c.nr == Sysno::getpeername as usize;
    let n = match sys::sock_name(fd as i32, peer, &mut sa) {
        Ok(n) => n,
        Err(_) => return Outcome::Next,
    };
    if n < 3 || u16::from_ne_bytes([sa[0], sa[1]]) as u32 != AF_UNIX {
        return Outcome::Next;
    }
    let known = {
        let mut l = Lock::take();
        let kernel = unix_path(&sa[..n]);
        l.sock_names().iter().find(|(k, _)| k.as_slice() == kernel).map(|(_, v)| v.clone())
    };
    let Some(name) = known else { return Outcome::Next };
    let mut out = [0u8; 110];
    out[..2].copy_from_slice(&(AF_UNIX as u16).to_ne_bytes());
    let end = (2 + name.len()).min(out.len() - 1);
    out[2..end].copy_from_slice(&name[..end - 2]);
    let full = end + 1; // with the NUL, as the kernel gives a path
    if !usermem::write(addr, &out[..full.min(room)]) || !usermem::write(lenp, &(full as u32).to_ne_bytes()) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(0)
}

/// connect/bind of a Unix socket to a path (inside a read-write grant):
/// a connect is the server's of the application's own socket; for a bind
/// the server makes the socket and it takes the application's fd number.
fn unix_socket(c: &mut Call<'_>) -> Option<Outcome> {
    let [fd, addr, len, ..] = c.args;
    let mut sa = [0u8; 110];
    let n = len.min(sa.len());
    if n < 3 || !usermem::read(addr, &mut sa[..n]) {
        return None; // let the kernel judge
    }
    let family = u16::from_ne_bytes([sa[0], sa[1]]);
    if family as u32 != AF_UNIX || sa[2] == 0 {
        return None; // not AF_UNIX, or an abstract name: Landlock scopes those
    }
    let path_end = sa[2..n].iter().position(|&b| b == 0).map_or(n, |z| z + 2);
    let path = &sa[2..path_end];
    let Ok(ty) = sys::socket_type(fd as i32) else { return None };
    let p = match socket_path(c.t, path) {
        Ok(p) => p,
        Err(e) => return Some(Outcome::err(e)),
    };
    if c.nr == Sysno::connect as usize {
        // The socket is connected itself, by the server, where its connect
        // never waits: a name bound to it before stays its name, its
        // options stay, and it stays a socket of the session's network
        // namespace. (A socket the server made was its own namespace's,
        // the host's: bound to an abstract name after, it took that name
        // from the host's programs; session-15 adversary, test
        // `a_socket_the_server_connects_takes_no_abstract_name_of_the_host`.)
        // A blocking stream socket is made non-blocking for the server's
        // connect, which a Unix socket's completes at once (EAGAIN where
        // the listener's backlog is full, as before).
        let status = sys::fcntl(fd as i32, crate::abi::F_GETFL, 0).ok();
        let blocking = ty & 0xf != crate::abi::SOCK_DGRAM && status.is_some_and(|f| f & O_NONBLOCK == 0);
        if let (true, Some(f)) = (blocking, status) {
            let _ = sys::fcntl(fd as i32, crate::abi::F_SETFL, f | O_NONBLOCK);
        }
        let mut buf = [0u8; 64];
        let req = Request::ConnectOwn { path: p.arg(0) };
        let r = match rpc::call(c.t, &req, &[fd as i32], &mut buf, true, *c.uc.sigmask()) {
            Ok((reply, _)) => Outcome::Return(reply.result as isize),
            Err(e) => Outcome::err(e),
        };
        if let (true, Some(f)) = (blocking, status) {
            let _ = sys::fcntl(fd as i32, crate::abi::F_SETFL, f);
        }
        return Some(r);
    }
    let req = Request::BindUnix { ty, path: p.arg(0) };
    let mut buf = [0u8; 256];
    let (r, got, _) = match ask(c, &req, &[], &mut buf, true) {
        Ok(v) => v,
        Err(e) => return Some(Outcome::Return(e)),
    };
    let Some(new) = got else { return Some(Outcome::Return(r.min(0))) };
    if c.nr == Sysno::bind as usize {
        // The kernel keeps the server's name for it: remember the program's.
        let mut kernel = [0u8; 110];
        if let Ok(k) = sys::sock_name(new, false, &mut kernel) {
            let kname = unix_path(&kernel[..k]).to_vec();
            let mut l = Lock::take();
            l.sock_names().retain(|(k, _)| *k != kname);
            l.sock_names().push((kname, path.to_vec()));
        }
    }
    // Keep the application's fd number, its close-on-exec flag and its
    // file status flags (O_NONBLOCK: Go's sockets never wait in read).
    let cloexec = sys::fcntl(fd as i32, F_GETFD, 0).unwrap_or(0) & FD_CLOEXEC != 0;
    let status = sys::fcntl(fd as i32, crate::abi::F_GETFL, 0).ok();
    // The server's socket onto the application's fd.
    let d = sys::dup3(new, fd as i32, if cloexec { O_CLOEXEC } else { 0 });
    sys::close(new);
    if let (Ok(_), Some(fl)) = (d, status) {
        let _ = sys::fcntl(fd as i32, crate::abi::F_SETFL, fl);
    }
    Some(Outcome::Return(match d {
        Ok(_) => 0,
        Err(e) => -(e as isize),
    }))
}

