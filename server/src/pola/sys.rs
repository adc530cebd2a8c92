//! The few system calls the capability server makes, with errno as the
//! error: openat2, the *at family on fds, fd passing on SOCK_SEQPACKET
//! sockets, and detached copies of mount trees. Through rustix; raw libc
//! only where rustix has no call that does the same (faccessat2 with
//! AT_EMPTY_PATH, mount_setattr, fork and what a fork child does).

use std::ffi::CString;
use std::io::{IoSlice, IoSliceMut};
use std::mem::{offset_of, size_of, MaybeUninit};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, ResolveFlags, StatxFlags, Timestamps};
use rustix::mount::OpenTreeFlags;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketFlags, SocketType,
};

pub use rustix::fs::CWD;

pub type Errno = i32;
pub type SysResult<T> = Result<T, Errno>;

/// How every host lookup below a grant is made: nothing may leave the
/// directory it starts from, and no magic link (/proc/*/fd, /proc/*/root)
/// is followed.
pub const CONFINED: ResolveFlags =
    ResolveFlags::BENEATH.union(ResolveFlags::NO_MAGICLINKS).union(ResolveFlags::NO_SYMLINKS);

/// errno of the last failed libc call.
pub fn errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// rustix's result with errno as the error.
fn sys<T>(r: rustix::io::Result<T>) -> SysResult<T> {
    r.map_err(|e| e.raw_os_error())
}

/// A C string of `b`; EINVAL on an inner NUL (the protocol already refuses
/// those, so this only guards paths made here). The paths given to rustix
/// as bytes are checked the same way by rustix.
fn cstr(b: &[u8]) -> SysResult<CString> {
    CString::new(b).map_err(|_| libc::EINVAL)
}

fn oflags(flags: i32) -> OFlags {
    OFlags::from_bits_retain(flags as u32)
}

fn at_flags(flags: i32) -> AtFlags {
    AtFlags::from_bits_retain(flags as u32)
}

/// openat2(dir, path, {flags, mode, resolve}), again on EINTR and on EAGAIN
/// (a rename or mount on the way made RESOLVE_BENEATH give up).
pub fn openat2(dir: BorrowedFd<'_>, path: &[u8], flags: i32, mode: u32, resolve: ResolveFlags) -> SysResult<OwnedFd> {
    loop {
        match rustix::fs::openat2(dir, path, oflags(flags), Mode::from_bits_retain(mode), resolve) {
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
            r => return sys(r),
        }
    }
}

/// "/proc/self/fd/N": reopening an O_PATH fd through it reaches the same
/// inode, whatever happened to its name since (the server's own magic link).
pub fn proc_fd(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// open(path, flags, mode).
pub fn open(path: &std::ffi::CStr, flags: i32, mode: u32) -> SysResult<OwnedFd> {
    sys(rustix::fs::open(path, oflags(flags), Mode::from_bits_retain(mode)))
}

/// open() of an O_PATH fd's inode with `flags`, again on EINTR.
pub fn reopen(fd: BorrowedFd<'_>, flags: i32, mode: u32) -> SysResult<OwnedFd> {
    let p = proc_fd(fd);
    loop {
        match rustix::fs::open(p.as_str(), oflags(flags), Mode::from_bits_retain(mode)) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return sys(r),
        }
    }
}

/// The fields of a struct stat, under their names there, as the server
/// keeps them; `stat_bytes` lays them out as the kernel does on x86_64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub st_dev: libc::dev_t,
    pub st_ino: libc::ino_t,
    pub st_nlink: libc::nlink_t,
    pub st_mode: libc::mode_t,
    pub st_uid: libc::uid_t,
    pub st_gid: libc::gid_t,
    pub st_rdev: libc::dev_t,
    pub st_size: libc::off_t,
    pub st_blksize: libc::blksize_t,
    pub st_blocks: libc::blkcnt_t,
    pub st_atime: libc::time_t,
    pub st_atime_nsec: i64,
    pub st_mtime: libc::time_t,
    pub st_mtime_nsec: i64,
    pub st_ctime: libc::time_t,
    pub st_ctime_nsec: i64,
}

/// What the kernel has at hand about an fd's object, without waiting on
/// anyone: statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC), which does
/// not ask a network or FUSE file system's server as fstat may (a client's
/// fd may be on one). `mask`: the STATX_* fields wanted (st_dev is always
/// there); the others are left 0.
pub fn fstat_cached(fd: BorrowedFd<'_>, mask: u32) -> SysResult<Stat> {
    let flags = AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC;
    let x = sys(rustix::fs::statx(fd, c"", flags, StatxFlags::from_bits_retain(mask)))?;
    Ok(from_statx(&x))
}

/// `fstat` and `mount_id` in one call (statx): a grant's root, as the
/// namespace opens it (a call fewer per grant at each start). The id is None
/// where the kernel does not say it.
pub fn fstat_and_mount_id(fd: BorrowedFd<'_>) -> SysResult<(Stat, Option<u64>)> {
    let x = sys(rustix::fs::statx(fd, c"", AtFlags::EMPTY_PATH, StatxFlags::BASIC_STATS | StatxFlags::MNT_ID))?;
    let id = (x.stx_mask & libc::STATX_MNT_ID != 0).then_some(x.stx_mnt_id);
    Ok((from_statx(&x), id))
}

fn from_statx(x: &rustix::fs::Statx) -> Stat {
    Stat {
        st_dev: libc::makedev(x.stx_dev_major, x.stx_dev_minor),
        st_ino: x.stx_ino,
        st_nlink: x.stx_nlink.into(),
        st_mode: x.stx_mode.into(),
        st_uid: x.stx_uid,
        st_gid: x.stx_gid,
        st_rdev: libc::makedev(x.stx_rdev_major, x.stx_rdev_minor),
        st_size: x.stx_size as i64,
        st_blksize: x.stx_blksize.into(),
        st_blocks: x.stx_blocks as i64,
        st_atime: x.stx_atime.tv_sec,
        st_atime_nsec: x.stx_atime.tv_nsec.into(),
        st_mtime: x.stx_mtime.tv_sec,
        st_mtime_nsec: x.stx_mtime.tv_nsec.into(),
        st_ctime: x.stx_ctime.tv_sec,
        st_ctime_nsec: x.stx_ctime.tv_nsec.into(),
    }
}

/// The fields a check of a client's fd needs: type, inode, links.
pub const STATX_CHECK: u32 = libc::STATX_TYPE | libc::STATX_INO | libc::STATX_NLINK;

/// The soft limit on open fds (RLIMIT_NOFILE).
pub fn fd_limit() -> usize {
    match rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
        None => 1 << 20,
        Some(n) => n.min(1 << 30) as usize,
    }
}

/// How many fds this process has open now (None if /proc is not there).
pub fn open_fds() -> Option<usize> {
    // Linux 6.2 on: the size of /proc/self/fd is the number of open fds,
    // without an entry made for each, which the first listing of a
    // process's fds pays (0.13 ms for 60 fds here: every session's
    // launcher, as its server starts).
    if let Some(n) = std::fs::metadata("/proc/self/fd").ok().map(|m| m.len()).filter(|&n| n > 0) {
        return Some(n as usize);
    }
    // The directory's own fd is among the entries while it is read.
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count().saturating_sub(1))
}

/// Writes all of `b` to `fd`, again after EINTR; stops at any other
/// error (a closed pipe, a gone terminal: nothing the caller can do).
pub fn write_all_raw(fd: std::os::fd::RawFd, mut b: &[u8]) {
    while !b.is_empty() && fd >= 0 {
        // SAFETY: writing our own bytes.
        let n = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        if n > 0 {
            b = &b[n as usize..];
        } else if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        } else {
            return;
        }
    }
}

/// The host's owners of `name` in the directory `dir` (`""`: `dir`
/// itself), not following a symlink, and its size if it is a directory.
pub fn owner_at(dir: BorrowedFd<'_>, name: &std::ffi::CStr, itself: bool) -> SysResult<(preld_proto::Owner, Option<u64>)> {
    let flags = AtFlags::SYMLINK_NOFOLLOW | AtFlags::STATX_DONT_SYNC | if itself { AtFlags::EMPTY_PATH } else { AtFlags::empty() };
    let mask = StatxFlags::TYPE | StatxFlags::INO | StatxFlags::UID | StatxFlags::GID | StatxFlags::SIZE;
    let x = sys(rustix::fs::statx(dir, name, flags, mask))?;
    let owner = preld_proto::Owner { dev: libc::makedev(x.stx_dev_major, x.stx_dev_minor), ino: x.stx_ino, uid: x.stx_uid, gid: x.stx_gid };
    Ok((owner, (u32::from(x.stx_mode) & libc::S_IFMT == libc::S_IFDIR).then_some(x.stx_size)))
}

/// `fd`'s ctime and mtime (seconds, nanoseconds): a directory's change
/// with an entry made, removed or renamed.
pub fn change_times(fd: BorrowedFd<'_>) -> SysResult<(i64, u32, i64, u32)> {
    let flags = AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC;
    let x = sys(rustix::fs::statx(fd, c"", flags, StatxFlags::CTIME | StatxFlags::MTIME))?;
    Ok((x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec, x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec))
}

/// A new open file description of the directory `name` in `dir` (`.`:
/// `dir` itself, whose client's offset stays where it is) to list; a
/// symlink is not followed.
pub fn open_listing(dir: BorrowedFd<'_>, name: &std::ffi::CStr) -> SysResult<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    sys(rustix::fs::openat(dir, name, flags, Mode::empty()))
}

/// The names in the directory `dir` (an fd of its own, read from its
/// start), without `.` and `..`, at most `max` of them.
pub fn entry_names(dir: BorrowedFd<'_>, max: usize) -> SysResult<Vec<std::ffi::CString>> {
    Ok(entries_typed(dir, max)?.into_iter().map(|(name, _, _)| name).collect())
}

/// The id of the mount `fd`'s object is on (statx STATX_MNT_ID, Linux
/// 5.8): a grant's detached copy has one of its own.
pub fn mount_id(fd: BorrowedFd<'_>) -> SysResult<u64> {
    let flags = AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC;
    let x = sys(rustix::fs::statx(fd, c"", flags, StatxFlags::MNT_ID))?;
    if x.stx_mask & libc::STATX_MNT_ID == 0 {
        return Err(libc::ENOSYS);
    }
    Ok(x.stx_mnt_id)
}

pub fn fstat(fd: BorrowedFd<'_>) -> SysResult<Stat> {
    let s = sys(rustix::fs::fstat(fd))?;
    Ok(Stat {
        st_dev: s.st_dev,
        st_ino: s.st_ino,
        st_nlink: s.st_nlink,
        st_mode: s.st_mode,
        st_uid: s.st_uid,
        st_gid: s.st_gid,
        st_rdev: s.st_rdev,
        st_size: s.st_size,
        st_blksize: s.st_blksize,
        st_blocks: s.st_blocks,
        st_atime: s.st_atime,
        st_atime_nsec: s.st_atime_nsec as i64,
        st_mtime: s.st_mtime,
        st_mtime_nsec: s.st_mtime_nsec as i64,
        st_ctime: s.st_ctime,
        st_ctime_nsec: s.st_ctime_nsec as i64,
    })
}

const _: () = assert!(size_of::<libc::stat>() == preld_proto::STAT_SIZE);

/// `st` as the bytes of a struct stat (libc's layout, the kernel's: what
/// a client's fstat fills), padding zero as the kernel leaves it.
pub fn stat_bytes(st: &Stat) -> [u8; preld_proto::STAT_SIZE] {
    let mut b = [0u8; preld_proto::STAT_SIZE];
    macro_rules! put {
        ($($field:ident),*) => {$(
            let v = st.$field.to_ne_bytes();
            let at = offset_of!(libc::stat, $field);
            b[at..at + v.len()].copy_from_slice(&v);
        )*};
    }
    put!(
        st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, st_rdev, st_size, st_blksize, st_blocks, st_atime,
        st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec
    );
    b
}

pub fn file_type(st: &Stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

/// readlinkat(fd, "") of an O_PATH|O_NOFOLLOW fd of a symlink.
pub fn readlink_fd(fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    let n = sys(rustix::fs::readlinkat_raw(fd, c"", &mut buf[..]))?;
    if n >= buf.len() {
        return Err(libc::ENAMETOOLONG);
    }
    buf.truncate(n);
    Ok(buf)
}

/// faccessat2(fd, "", mode, AT_EMPTY_PATH | flags). Not rustix's accessat:
/// it refuses AT_EMPTY_PATH (EINVAL).
pub fn access_fd(fd: BorrowedFd<'_>, mode: i32, flags: i32) -> SysResult<()> {
    // SAFETY: faccessat2 takes an fd, which `fd` keeps open, a path, here a
    // static NUL-terminated empty string, and two integers; it writes
    // nothing of ours.
    let r = unsafe { libc::syscall(libc::SYS_faccessat2, fd.as_raw_fd(), c"".as_ptr(), mode, flags | libc::AT_EMPTY_PATH) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// Runs `f` with the server's umask 0: a creation's mode comes from the
/// client already masked with the program's umask (handler/src/pola.rs),
/// as the kernel would have masked it for the program. The server serves
/// on one thread: nothing else creates files meanwhile.
pub fn unmasked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: umask only swaps the process's file mode mask.
    let old = unsafe { libc::umask(0) };
    let r = f();
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    r
}

/// mknodat(dir, name, mode, 0): a FIFO, a socket or a regular file.
pub fn mknodat(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> SysResult<()> {
    let name = std::ffi::CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: a NUL-terminated name and a borrowed directory fd.
    let r = unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) };
    if r < 0 { Err(errno()) } else { Ok(()) }
}

pub fn mkdirat(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> SysResult<()> {
    sys(rustix::fs::mkdirat(dir, name, Mode::from_bits_retain(mode)))
}

pub fn unlinkat(dir: BorrowedFd<'_>, name: &[u8], flags: i32) -> SysResult<()> {
    sys(rustix::fs::unlinkat(dir, name, at_flags(flags)))
}

pub fn renameat2(od: BorrowedFd<'_>, on: &[u8], nd: BorrowedFd<'_>, nn: &[u8], flags: u32) -> SysResult<()> {
    sys(rustix::fs::renameat_with(od, on, nd, nn, RenameFlags::from_bits_retain(flags)))
}

pub fn linkat(od: BorrowedFd<'_>, on: &[u8], nd: BorrowedFd<'_>, nn: &[u8], flags: i32) -> SysResult<()> {
    sys(rustix::fs::linkat(od, on, nd, nn, at_flags(flags)))
}

pub fn symlinkat(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> SysResult<()> {
    sys(rustix::fs::symlinkat(target, dir, name))
}

/// ftruncate(fd, len); `len` goes to the kernel as it is (a negative one
/// is EINVAL there).
pub fn ftruncate(fd: BorrowedFd<'_>, len: i64) -> SysResult<()> {
    sys(rustix::fs::ftruncate(fd, len as u64))
}

/// chmod of an O_PATH fd's inode (through its magic link: no race).
pub fn chmod_fd(fd: BorrowedFd<'_>, mode: u32) -> SysResult<()> {
    sys(rustix::fs::chmodat(CWD, proc_fd(fd).as_str(), Mode::from_bits_retain(mode), AtFlags::empty()))
}

/// fchownat(dir, name, uid, gid, flags); u32::MAX leaves an id as it is.
pub fn chownat(dir: BorrowedFd<'_>, name: &[u8], uid: u32, gid: u32, flags: i32) -> SysResult<()> {
    let uid = (uid != u32::MAX).then(|| rustix::fs::Uid::from_raw(uid));
    let gid = (gid != u32::MAX).then(|| rustix::fs::Gid::from_raw(gid));
    sys(rustix::fs::chownat(dir, name, uid, gid, at_flags(flags)))
}

/// utimensat(dir, name, times, flags); times as given (UTIME_NOW and
/// UTIME_OMIT included).
pub fn utimensat(dir: BorrowedFd<'_>, name: &[u8], times: &[preld_proto::Timespec; 2], flags: i32) -> SysResult<()> {
    let ts = |t: &preld_proto::Timespec| rustix::fs::Timespec { tv_sec: t.sec, tv_nsec: t.nsec };
    let times = Timestamps { last_access: ts(&times[0]), last_modification: ts(&times[1]) };
    sys(rustix::fs::utimensat(dir, name, &times, at_flags(flags)))
}

/// Clears O_NONBLOCK that the server set to open without blocking.
pub fn clear_nonblock(fd: BorrowedFd<'_>) -> SysResult<()> {
    let fl = sys(rustix::fs::fcntl_getfl(fd))?;
    sys(rustix::fs::fcntl_setfl(fd, fl.difference(OFlags::NONBLOCK)))
}

/// socket(AF_UNIX, ty, 0); `ty` may hold SOCK_NONBLOCK and SOCK_CLOEXEC.
pub fn socket(ty: i32) -> SysResult<OwnedFd> {
    let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let (base, flags) = (SocketType::from_raw((ty & !flags) as u32), SocketFlags::from_bits_retain((ty & flags) as u32));
    sys(rustix::net::socket_with(AddressFamily::UNIX, base, flags, None))
}

/// The address of the unix socket at `path`. ENAMETOOLONG unless it fits
/// sun_path with its NUL (rustix would take one that only fits without).
fn sockaddr_un(path: &[u8]) -> SysResult<SocketAddrUnix> {
    const SUN_PATH: usize = size_of::<libc::sockaddr_un>() - offset_of!(libc::sockaddr_un, sun_path);
    if path.len() >= SUN_PATH {
        return Err(libc::ENAMETOOLONG);
    }
    sys(SocketAddrUnix::new(path))
}

pub fn connect_unix(sock: BorrowedFd<'_>, path: &[u8]) -> SysResult<()> {
    sys(rustix::net::connect(sock, &sockaddr_un(path)?))
}

pub fn bind_unix(sock: BorrowedFd<'_>, path: &[u8]) -> SysResult<()> {
    sys(rustix::net::bind(sock, &sockaddr_un(path)?))
}

/// Whether the open file description of `fd` has O_NONBLOCK.
pub fn is_nonblocking(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fcntl_getfl(fd).is_ok_and(|f| f.contains(OFlags::NONBLOCK))
}

/// SO_TYPE of a socket (SOCK_STREAM, SOCK_DGRAM, ...).
pub fn socket_type(sock: BorrowedFd<'_>) -> SysResult<i32> {
    sys(rustix::net::sockopt::socket_type(sock)).map(|t| t.as_raw() as i32)
}

/// SO_DOMAIN of a socket (AF_UNIX, AF_INET, ...).
pub fn socket_domain(sock: BorrowedFd<'_>) -> SysResult<i32> {
    sys(rustix::net::sockopt::socket_domain(sock)).map(|f| f.as_raw() as i32)
}

/// sendto(sock, data, flags, path) of a datagram, never waiting
/// (MSG_DONTWAIT) nor raising SIGPIPE: the bytes sent.
pub fn send_unix(sock: BorrowedFd<'_>, data: &[u8], flags: i32, path: &[u8]) -> SysResult<usize> {
    let flags = rustix::net::SendFlags::from_bits_retain(flags as u32) | rustix::net::SendFlags::DONTWAIT | rustix::net::SendFlags::NOSIGNAL;
    sys(rustix::net::sendto(sock, data, flags, &sockaddr_un(path)?))
}

/// A pipe, both ends close-on-exec, the read end non-blocking.
pub fn pipe() -> SysResult<(OwnedFd, OwnedFd)> {
    let (rd, wr) = sys(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC))?;
    let fl = sys(rustix::fs::fcntl_getfl(&rd))?;
    sys(rustix::fs::fcntl_setfl(&rd, fl | OFlags::NONBLOCK))?;
    Ok((rd, wr))
}

/// A SOCK_SEQPACKET pair, both ends close-on-exec.
pub fn seqpacket_pair() -> SysResult<(OwnedFd, OwnedFd)> {
    sys(rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None))
}

/// Room for this many fds in one received message: as many as the kernel
/// lets one message carry (SCM_MAX_FD). Fds that do not fit are released
/// by the kernel inside recvmsg, in the receiving thread, and the release
/// of a client's object may wait (a lingering socket): the server takes
/// every fd in, and lets its closer release them (serve/background.rs).
/// For the same reason the table must have room for them (serve.rs,
/// `fd_budget`).
pub const RECV_FDS: usize = 253;

/// The most fds a message sent here carries.
const SEND_FDS: usize = 4;

/// CMSG_SPACE of `n` fds: one SCM_RIGHTS message's room (not rustix's
/// `cmsg_space!`, which adds room to align an unaligned buffer: `Control`
/// is aligned).
const fn fds_space(n: usize) -> usize {
    rustix::cmsg_aligned_space!(ScmRights(n))
}

/// A control buffer aligned for a cmsghdr: rustix uses all of it
/// (msg_controllen is N, CMSG_SPACE(253 * 4) = 1032 bytes for RECV_FDS).
#[repr(C, align(8))]
struct Control<const N: usize>([MaybeUninit<u8>; N]);

const _: () = assert!(std::mem::align_of::<libc::cmsghdr>() <= 8);

impl<const N: usize> Control<N> {
    fn new() -> Self {
        Control([MaybeUninit::uninit(); N])
    }
}

/// One received message.
pub struct Received {
    pub len: usize,
    pub fds: Vec<OwnedFd>,
    /// The message was longer than the buffer.
    pub truncated: bool,
    /// More fds or control data than there was room for.
    pub ctrunc: bool,
    /// Control messages other than SCM_RIGHTS. (rustix reports only
    /// SCM_RIGHTS and SCM_CREDENTIALS, and passes over the other kinds,
    /// which a unix socket receives only with an option set on it, as
    /// SO_PASSSEC, SO_PASSPIDFD or SO_TIMESTAMP: the server sets none.)
    pub foreign: bool,
}

/// recvmsg(MSG_DONTWAIT | MSG_CMSG_CLOEXEC) into `buf`; every fd received is
/// owned by the result (closed with it), whatever else is wrong.
pub fn recv_msg(sock: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<Received> {
    recv_with(sock, buf, RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC)
}

/// As `recv_msg`, waiting for a message.
pub fn recv_blocking(sock: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<Received> {
    recv_with(sock, buf, RecvFlags::CMSG_CLOEXEC)
}

fn recv_with(sock: BorrowedFd<'_>, buf: &mut [u8], flags: RecvFlags) -> SysResult<Received> {
    let mut space = Control::<{ fds_space(RECV_FDS) }>::new();
    let mut control = RecvAncillaryBuffer::new(&mut space.0);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match rustix::net::recvmsg(sock, &mut iov, &mut control, flags) {
            Err(rustix::io::Errno::INTR) => continue,
            r => break sys(r)?,
        }
    };
    let mut r = Received {
        len: msg.bytes,
        fds: Vec::new(),
        truncated: msg.flags.contains(ReturnFlags::TRUNC),
        ctrunc: msg.flags.contains(ReturnFlags::CTRUNC),
        foreign: false,
    };
    for m in control.drain() {
        match m {
            RecvAncillaryMessage::ScmRights(fds) => r.fds.extend(fds),
            _ => r.foreign = true,
        }
    }
    Ok(r)
}

/// sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL) of one message with `fds` attached.
pub fn send_msg(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> SysResult<()> {
    send_with(sock, bytes, fds, SendFlags::DONTWAIT | SendFlags::NOSIGNAL)
}

/// sendmsg(flags) of one message with `fds` attached (no control message
/// without fds), again on EINTR. No allocation (the helper of
/// `mount_clones` uses it after fork).
fn send_with(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>], flags: SendFlags) -> SysResult<()> {
    assert!(fds.len() <= SEND_FDS);
    send_in::<{ fds_space(SEND_FDS) }>(sock, bytes, fds, flags)
}

/// sendmsg(MSG_NOSIGNAL) of one message with up to `RECV_FDS` (253, the
/// kernel's most) fds attached, waiting for room: the launcher's plan for
/// the session's init (confine.rs).
pub fn send_blocking(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> SysResult<()> {
    assert!(fds.len() <= RECV_FDS);
    send_in::<{ fds_space(RECV_FDS) }>(sock, bytes, fds, SendFlags::NOSIGNAL)
}

fn send_in<const N: usize>(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>], flags: SendFlags) -> SysResult<()> {
    let mut space = Control::<N>::new();
    let mut control = SendAncillaryBuffer::new(&mut space.0);
    if !fds.is_empty() {
        assert!(control.push(SendAncillaryMessage::ScmRights(fds)));
    }
    let iov = [IoSlice::new(bytes)];
    loop {
        match rustix::net::sendmsg(sock, &iov, &mut control, flags) {
            Err(rustix::io::Errno::INTR) => continue,
            r => return sys(r).map(drop),
        }
    }
}

/// struct mount_attr.
#[repr(C)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

/// A detached copy of the mount tree at `path` (open_tree
/// OPEN_TREE_CLONE): its root as an O_PATH fd. Every fd the server hands
/// out lies on such a copy, whose root is the grant: `..` from a directory
/// fd stops there, as at a mount's root, instead of climbing the host's
/// tree (where Landlock has no right for stat, chmod, utimensat, setxattr,
/// connect to a socket path or inotify). `attrs` (mount_setattr's
/// MOUNT_ATTR_* bits, `copy_attrs`) are set on the whole copy: read-only
/// (the kernel then refuses fchmod, fchown, futimens and fsetxattr on its
/// files' fds with EROFS), no device opens.
/// Needs CAP_SYS_ADMIN over the current mount namespace. Only
/// async-signal-safe calls, no allocation (the helper of `mount_clones`
/// runs it after fork).
fn clone_tree(path: &CString, attrs: u64) -> SysResult<OwnedFd> {
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::AT_RECURSIVE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if attrs & LINK_ITSELF != 0 {
        flags |= OpenTreeFlags::AT_SYMLINK_NOFOLLOW;
    }
    let fd = if attrs & NO_SYMLINKS_ON_PATH != 0 {
        // The object the launcher's realpath of the grant found: no
        // symlink on the way (a name swapped for a link since gave a copy
        // of the link's target, the host's / with its /proc uncovered;
        // session-21b adversary, test
        // `a_grant_swapped_for_a_symlink_during_the_start_is_refused`).
        let how = OFlags::PATH | OFlags::CLOEXEC;
        let at = loop {
            match rustix::fs::openat2(CWD, path.as_c_str(), how, Mode::empty(), ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS) {
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
                r => break sys(r)?,
            }
        };
        sys(rustix::mount::open_tree(&at, c"", flags | OpenTreeFlags::AT_EMPTY_PATH))?
    } else {
        sys(rustix::mount::open_tree(CWD, path.as_c_str(), flags))?
    };
    let mut attrs = attrs & !(LINK_ITSELF | NO_SYMLINKS_ON_PATH);
    if attrs & NODEV_IF_DIR != 0 {
        // The type of the copy's root itself (a statx of the path first
        // was 60 path walks of -B's start).
        attrs &= !NODEV_IF_DIR;
        if file_kind(fd.as_fd())? == libc::S_IFDIR {
            attrs |= libc::MOUNT_ATTR_NODEV;
        }
    }
    // Private, the whole copy: its mounts are peers of the host's where
    // those are shared (a systemd host's / and /proc are), and a cover
    // mounted in the copy (`cover`) would propagate to the host's tree
    // (the first cover of the host's /proc covered the machine's;
    // session-21 adversary, test
    // `the_cover_of_the_host_s_proc_stays_in_the_grant_s_copy`).
    set_mount_attrs(fd.as_fd(), attrs, libc::MS_PRIVATE, true)?;
    Ok(fd)
}

/// mount_setattr(2) of the mount whose root is `fd` (and of every mount
/// below it with `recursive`): the MOUNT_ATTR_* bits `attrs` set, the
/// propagation `propagation` (0: unchanged). Async-signal-safe.
fn set_mount_attrs(fd: BorrowedFd<'_>, attrs: u64, propagation: u64, recursive: bool) -> SysResult<()> {
    let attr = MountAttr { attr_set: attrs, attr_clr: 0, propagation, userns_fd: 0 };
    let flags = libc::AT_EMPTY_PATH as libc::c_uint | if recursive { libc::AT_RECURSIVE as libc::c_uint } else { 0 };
    // SAFETY: mount_setattr (rustix has none) reads a static NUL-terminated
    // empty path and a live mount_attr of the size given, on `fd`, which is
    // open; it writes nothing of ours.
    let r = unsafe { libc::syscall(libc::SYS_mount_setattr, fd.as_raw_fd(), c"".as_ptr(), flags, &attr as *const MountAttr, size_of::<MountAttr>()) };
    if r < 0 {
        return Err(errno());
    }
    Ok(())
}

/// The type bits (S_IFMT) of what `fd` is.
fn file_kind(fd: BorrowedFd<'_>) -> SysResult<u32> {
    Ok(u32::from(sys(rustix::fs::statx(fd, c"", AtFlags::EMPTY_PATH, StatxFlags::TYPE))?.stx_mode) & libc::S_IFMT)
}

/// What lies at `rel` inside the copy `outer` (O_PATH, the last name not
/// followed), no symlink on the way and never above `outer`. Async-
/// signal-safe.
fn place_in(outer: BorrowedFd<'_>, rel: &std::ffi::CStr) -> rustix::io::Result<OwnedFd> {
    let how = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat2(outer, rel, how, Mode::empty(), ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS)
}

/// An empty read-only mount to put over a place of type `kind`: a
/// directory for a directory, else a file.
fn empty_mount_for(kind: u32) -> SysResult<OwnedFd> {
    if kind == libc::S_IFDIR { empty_dir_mount() } else { empty_file_mount() }
}

/// Not a MOUNT_ATTR_* bit: `clone_tree` sets MOUNT_ATTR_NODEV where the
/// copy's root is a directory.
const NODEV_IF_DIR: u64 = 1 << 63;

/// Not a MOUNT_ATTR_* bit either: `clone_tree` reaches the path without
/// following a symlink on it (a grant's host path, a realpath: one there
/// now was put there since).
pub const NO_SYMLINKS_ON_PATH: u64 = 1 << 61;

/// Not a MOUNT_ATTR_* bit either: `clone_tree` copies a symlink at the
/// path itself (AT_SYMLINK_NOFOLLOW: a detached mount whose root is the
/// link, read-only like the others), not what it names.
pub const LINK_ITSELF: u64 = 1 << 62;

/// The MOUNT_ATTR_* bits of a copy (`clone_tree`): read-only, and no
/// device opens where it is a directory (a directory grant's; a grant of a
/// device is the device's).
pub fn copy_attrs(readonly: bool) -> u64 {
    (if readonly { libc::MOUNT_ATTR_RDONLY } else { 0 }) | NODEV_IF_DIR
}

/// Copies of the trees at `paths` (with the MOUNT_ATTR_* bits given; see
/// `clone_tree`), in order; an error for each that could not be made.
/// Without the privilege to do it here, a short-lived helper process makes
/// them in a user and mount namespace of its own (where it has it) and
/// sends them back: a detached mount is usable from any namespace.
///
/// `covers` (indices into `paths`, `cover_all`) are made on the copies
/// before they are returned, where they were made: by the helper, which
/// alone may mount into its copies.
pub fn mount_clones(paths: &[(&[u8], u64)], covers: &[Cover]) -> Vec<SysResult<OwnedFd>> {
    match mount_clones_here(paths) {
        Some(mut out) => {
            cover_all(&mut out, covers);
            out
        }
        None => {
            let cpaths: Vec<(CString, u64)> = match paths.iter().map(|(p, attrs)| cstr(p).map(|c| (c, *attrs))).collect() {
                Ok(v) => v,
                Err(e) => return paths.iter().map(|_| Err(e)).collect(),
            };
            match clones_in_helper(&cpaths, covers) {
                Ok(v) => v,
                Err(e) => paths.iter().map(|_| Err(e)).collect(),
            }
        }
    }
}

/// What is mounted over `rel` inside the copy `outer` (indices among the
/// copies): the copy of grant `inner`, nested there in the namespace
/// (`cover`), or, with none, an empty read-only file system over a mount
/// of the kernel's own there (`PSEUDO`: the host's /proc in a grant of /).
pub struct Cover {
    pub inner: Option<usize>,
    pub outer: usize,
    pub rel: CString,
    /// A kernel file system's: the devices (st_dev) mountinfo gave for
    /// mounts at `rel`, one of which the place must be the root of a mount
    /// of (`cover_pseudo`).
    pub devs: Vec<u64>,
}

/// Makes `covers` on `copies`, in their order (the kernel's file systems
/// first, then nested grants, the deepest first, so that a copy mounted
/// holds the covers made in it). A kernel file system that cannot be
/// covered fails its copy (the grant is refused rather than made with
/// it); a nested grant that cannot be leaves that place as the outer copy
/// has it. Only async-signal-safe calls, no allocation (the helper runs it
/// after fork).
pub fn cover_all(copies: &mut [SysResult<OwnedFd>], covers: &[Cover]) {
    for c in covers {
        let Some(Ok(outer)) = copies.get(c.outer) else { continue };
        match c.inner {
            None => {
                if let Err(e) = cover_pseudo(outer.as_fd(), &c.rel, &c.devs) {
                    copies[c.outer] = Err(e);
                }
            }
            Some(i) => {
                if let Some(Ok(inner)) = copies.get(i) {
                    let _ = cover(outer.as_fd(), inner.as_fd(), &c.rel);
                }
            }
        }
    }
}

/// The file systems of the kernel's own (its views of processes, of
/// itself and of the machine, and the objects it keeps for everyone: a
/// cgroup hierarchy's release_agent runs as root, sysfs and procfs files
/// write to the kernel) whose mounts inside a grant are covered with an
/// empty read-only one in its copy: the host's /proc, /sys, /sys/fs/cgroup,
/// /dev/mqueue... in a grant of /, a chroot's /proc in a grant of its
/// parent. A session has its own /proc and /dev/pts (the handler's), and
/// no /sys, in every grant as in -B's base. Not autofs (a look at its
/// mount point may mount what it stands for).
const PSEUDO: &[&[u8]] = &[
    b"proc", b"sysfs", b"cgroup", b"cgroup2", b"debugfs", b"tracefs", b"securityfs", b"bpf", b"configfs", b"efivarfs", b"pstore",
    b"fusectl", b"binfmt_misc", b"mqueue", b"devpts", b"hugetlbfs", b"nsfs", b"rpc_pipefs", b"nfsd", b"selinuxfs", b"smackfs",
];

/// The mount points of the kernel's own file systems (`PSEUDO`) in this
/// process's mount namespace (/proc/self/mountinfo), shallowest first,
/// each once with the devices (mountinfo's major:minor) mounted there.
pub fn pseudo_mounts() -> Vec<(Vec<u8>, Vec<u64>)> {
    let Ok(info) = std::fs::read("/proc/self/mountinfo") else { return Vec::new() };
    let mut out: Vec<(Vec<u8>, Vec<u64>)> = Vec::new();
    for line in info.split(|&b| b == b'\n') {
        let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == b"-") else { continue };
        let (Some(point), Some(fstype), Some(dev)) = (fields.get(4), fields.get(dash + 1), fields.get(2)) else { continue };
        // (A mount point removed since: no path reaches it to cover, nor
        // to read through.)
        if PSEUDO.contains(fstype) && !point.ends_with(b"\\040(deleted)") {
            let dev = std::str::from_utf8(dev).ok().and_then(|d| d.split_once(':')).and_then(|(a, b)| Some(libc::makedev(a.parse().ok()?, b.parse().ok()?)));
            out.push((unescape_mountinfo(point), dev.into_iter().collect()));
        }
    }
    out.sort_by(|a, b| (a.0.iter().filter(|&&c| c == b'/').count(), &a.0).cmp(&(b.0.iter().filter(|&&c| c == b'/').count(), &b.0)));
    // (Mounts stacked at one place: one cover, over whichever is on top.)
    let mut merged: Vec<(Vec<u8>, Vec<u64>)> = Vec::new();
    for (p, devs) in out {
        match merged.last_mut() {
            Some((q, d)) if *q == p => d.extend(devs),
            _ => merged.push((p, devs)),
        }
    }
    merged
}

/// A mountinfo field with its octal escapes (`\040` for a space, `\011`,
/// `\012`, `\134`) turned back into their bytes.
fn unescape_mountinfo(f: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(f.len());
    let mut i = 0;
    while i < f.len() {
        if f[i] == b'\\' && i + 3 < f.len() && f[i + 1..i + 4].iter().all(|d| (b'0'..=b'7').contains(d)) {
            let v = u32::from(f[i + 1] - b'0') * 64 + u32::from(f[i + 2] - b'0') * 8 + u32::from(f[i + 3] - b'0');
            out.push(v as u8);
            i += 4;
        } else {
            out.push(f[i]);
            i += 1;
        }
    }
    out
}

/// Covers the kernel file system mounted at `rel` inside the copy `outer`
/// (`PSEUDO`) with an empty read-only one: a directory, or a file where
/// one of its files is mounted alone. The place must be the root of a
/// mount of one of `devs` (what mountinfo said is mounted there): a name
/// the copy does not reach, or reaches elsewhere, fails the copy. The
/// copy shares the host's directories, and a directory holding the mount
/// point, renamed on the host between the launcher's read of mountinfo
/// and this, was left uncovered (the session started with the host's
/// procfs in its grant about once in 5 starts; session-21b adversary,
/// test `a_procfs_moved_during_the_start_is_covered_still`); a plain
/// directory put in its place got the cover. (Mounts below another
/// covered are not looked for: `cover_plan`.) Async-signal-safe, no
/// allocation.
fn cover_pseudo(outer: BorrowedFd<'_>, rel: &std::ffi::CStr, devs: &[u64]) -> SysResult<()> {
    use rustix::fs::StatxAttributes;
    use rustix::mount::{move_mount, MoveMountFlags};
    let target = match place_in(outer, rel) {
        Ok(t) => t,
        // (Moved: not the grant's "No such file or directory".)
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => return Err(libc::EAGAIN),
        Err(e) => return Err(e.raw_os_error()),
    };
    let t = sys(rustix::fs::statx(&target, c"", AtFlags::EMPTY_PATH, StatxFlags::TYPE))?;
    let root = !t.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT) || t.stx_attributes.contains(StatxAttributes::MOUNT_ROOT);
    if !root || !devs.contains(&libc::makedev(t.stx_dev_major, t.stx_dev_minor)) {
        return Err(libc::EAGAIN);
    }
    let empty = empty_mount_for(u32::from(t.stx_mode) & libc::S_IFMT)?;
    match move_mount(&empty, c"", &target, c"", MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH) {
        // The mount's root is gone (unhashed: a bind mount of a file or
        // directory of a process that has exited, /proc/PID/status bound
        // over a file once PID is dead; a removed cgroup): nothing can be
        // mounted on it (the kernel's ENOENT), and nothing is read through
        // it either. Before, the whole grant failed with ENOENT ("DIR: No
        // such file or directory": a grant of / on a host holding one such
        // mount anywhere; session-21b adversary, test
        // `a_stale_proc_file_mount_in_a_grant_is_covered`).
        Err(rustix::io::Errno::NOENT) => Ok(()),
        r => sys(r),
    }
}

/// A detached mount of an empty read-only file (mode 0444), to mount over
/// a file that must not be seen. Async-signal-safe, no allocation.
fn empty_file_mount() -> SysResult<OwnedFd> {
    use rustix::mount::{fsconfig_create, fsconfig_set_string, fsmount, fsopen, FsMountFlags, FsOpenFlags, MountAttrFlags};
    let fs = sys(fsopen(c"tmpfs", FsOpenFlags::FSOPEN_CLOEXEC))?;
    sys(fsconfig_set_string(&fs, c"size", c"4k"))?;
    sys(fsconfig_create(&fs))?;
    let dir = sys(fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV | MountAttrFlags::MOUNT_ATTR_NOEXEC))?;
    drop(sys(rustix::fs::openat(&dir, c"empty", OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC, Mode::from_raw_mode(0o444)))?);
    let file = sys(rustix::mount::open_tree(&dir, c"empty", OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC))?;
    set_mount_attrs(file.as_fd(), libc::MOUNT_ATTR_RDONLY, 0, false)?;
    Ok(file)
}

/// Mounts a copy of the grant copy `inner` (with what is mounted in it)
/// over `rel` inside the directory grant's copy `outer`, where the
/// namespace shows the inner grant: code around the handler holding an
/// fd of the outer grant then meets, as the server's walk does, the
/// inner grant there (read-only if it is: its files' metadata too), not
/// the host's object that the inner grant covers in the namespace (a
/// `--map`'s hidden files, the host's /tmp under -B's private one). A
/// name that is missing, or leads through a symlink, or is one, hides
/// nothing of the outer copy (the host object is then reached by its own
/// path anyway): left. A directory that a file grant covers gets an
/// empty read-only directory, a file that a directory grant covers an
/// empty read-only file. Mounting into a detached tree needs Linux
/// 6.15 and CAP_SYS_ADMIN over the copies' mount namespace. Only
/// async-signal-safe calls, no allocation (the helper runs it after fork).
pub fn cover(outer: BorrowedFd<'_>, inner: BorrowedFd<'_>, rel: &std::ffi::CStr) -> SysResult<()> {
    use rustix::mount::{move_mount, MoveMountFlags};
    let target = match place_in(outer, rel) {
        Ok(t) => t,
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => return Ok(()),
        Err(e) => return Err(e.raw_os_error()),
    };
    let (t, i) = (file_kind(target.as_fd())?, file_kind(inner)?);
    if t == libc::S_IFLNK || i == libc::S_IFLNK {
        return Ok(());
    }
    let both = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
    if (t == libc::S_IFDIR) == (i == libc::S_IFDIR) {
        let flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::AT_RECURSIVE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_EMPTY_PATH;
        let copy = sys(rustix::mount::open_tree(inner, c"", flags))?;
        return sys(move_mount(&copy, c"", &target, c"", both));
    }
    // A directory that a file grant covers gets an empty read-only
    // directory; a file that a directory grant covers (`--map H/f=DIR`
    // with H/f a file) an empty read-only file: it was left, and code
    // around the handler stat'ed the hidden host file (size, owner,
    // times; session-21b adversary, test
    // `a_map_s_hidden_file_under_a_directory_stats_nothing`).
    sys(move_mount(&empty_mount_for(t)?, c"", &target, c"", both))
}

/// A detached, empty, read-only tmpfs (mode 0555), to mount over what
/// must not be seen. Async-signal-safe, no allocation.
fn empty_dir_mount() -> SysResult<OwnedFd> {
    use rustix::mount::{fsconfig_create, fsconfig_set_string, fsmount, fsopen, FsMountFlags, FsOpenFlags, MountAttrFlags};
    let fs = sys(fsopen(c"tmpfs", FsOpenFlags::FSOPEN_CLOEXEC))?;
    sys(fsconfig_set_string(&fs, c"mode", c"0555"))?;
    sys(fsconfig_create(&fs))?;
    sys(fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::MOUNT_ATTR_RDONLY | MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV | MountAttrFlags::MOUNT_ATTR_NOEXEC))
}

/// As `mount_clones`, made by this process itself; None where it may not
/// (the first copy was refused: EPERM), when only the helper can.
pub fn mount_clones_here(paths: &[(&[u8], u64)]) -> Option<Vec<SysResult<OwnedFd>>> {
    let cpaths: Vec<(CString, u64)> = match paths.iter().map(|(p, attrs)| cstr(p).map(|c| (c, *attrs))).collect() {
        Ok(v) => v,
        Err(e) => return Some(paths.iter().map(|_| Err(e)).collect()),
    };
    let first = match cpaths.first() {
        None => return Some(Vec::new()),
        Some((p, attrs)) => clone_tree(p, *attrs),
    };
    if matches!(first, Err(libc::EPERM)) {
        return None;
    }
    let mut out = vec![first];
    out.extend(cpaths[1..].iter().map(|(p, attrs)| clone_tree(p, *attrs)));
    Some(out)
}

/// The helper of `mount_clones`: fork, unshare a user and a mount
/// namespace, map our own uid and gid, clone, send every result (an fd,
/// or an errno as a 4-byte message), exit.
fn clones_in_helper(cpaths: &[(CString, u64)], covers: &[Cover]) -> SysResult<Vec<SysResult<OwnedFd>>> {
    let (ours, theirs) = seqpacket_pair()?;
    // Everything the child writes is made before the fork (no allocation
    // after it: the caller may have other threads).
    let (uid, gid) = (rustix::process::getuid().as_raw(), rustix::process::getgid().as_raw());
    let uid_map = CString::new(format!("{uid} {uid} 1")).unwrap();
    let gid_map = CString::new(format!("{gid} {gid} 1")).unwrap();
    let maps = [(c"/proc/self/setgroups", c"deny"), (c"/proc/self/uid_map", &uid_map), (c"/proc/self/gid_map", &gid_map)];
    // SAFETY: fork() of a process that may have other threads: the child
    // (`helper_child`) makes only async-signal-safe calls, allocates
    // nothing, and ends with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(errno());
    }
    // The child's copies, kept until its covers are made: room for all
    // made here (the child allocates nothing).
    let mut made: Vec<SysResult<OwnedFd>> = Vec::with_capacity(cpaths.len());
    if pid == 0 {
        drop(ours);
        helper_child(theirs.as_fd(), &maps, cpaths, covers, &mut made);
    }
    drop(theirs);
    let mut out = Vec::new();
    let mut buf = [0u8; 16];
    let five_s = rustix::event::Timespec { tv_sec: 5, tv_nsec: 0 };
    for _ in cpaths {
        // recv_msg does not block: wait for each answer (the helper is
        // quick; a stuck one costs 5 s, and read-only copies).
        let mut pfd = [PollFd::new(&ours, PollFlags::IN)];
        if !matches!(rustix::event::poll(&mut pfd, Some(&five_s)), Ok(1)) {
            out.push(Err(libc::ETIMEDOUT));
            continue;
        }
        let r = match recv_msg(ours.as_fd(), &mut buf) {
            Ok(m) if m.len == 4 => {
                let e = i32::from_ne_bytes(buf[..4].try_into().unwrap());
                let mut fds = m.fds;
                match (e, fds.pop()) {
                    (0, Some(fd)) if fds.is_empty() => Ok(fd),
                    (0, _) => Err(libc::EIO),
                    (e, _) => Err(e),
                }
            }
            Ok(_) => Err(libc::EIO),
            Err(e) => Err(e),
        };
        out.push(r);
    }
    // Reaping our own child (an error would only mean it is gone already).
    let _ = rustix::process::waitpid(rustix::process::Pid::from_raw(pid), rustix::process::WaitOptions::empty());
    Ok(out)
}

/// The fork child of `clones_in_helper`, on its end `s` of the socket:
/// writes `maps` (file, contents) after unsharing, makes a copy of each
/// of `cpaths` (into `made`, whose room the parent reserved), then the
/// `covers` on them, then sends each copy or its errno. Async-signal-safe
/// calls only (rustix's are plain system calls), nothing allocated.
fn helper_child(s: BorrowedFd<'_>, maps: &[(&std::ffi::CStr, &std::ffi::CStr)], cpaths: &[(CString, u64)], covers: &[Cover], made: &mut Vec<SysResult<OwnedFd>>) -> ! {
    let unshare = rustix::thread::UnshareFlags::NEWUSER | rustix::thread::UnshareFlags::NEWNS;
    // SAFETY: unshare_unsafe is unsafe for CLONE_FILES (fds made by other
    // threads would be missing), which is not among these flags.
    let mut err = sys(unsafe { rustix::thread::unshare_unsafe(unshare) }).err();
    for (file, contents) in maps {
        if err.is_some() {
            break;
        }
        let wrote = rustix::fs::open(*file, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())
            .and_then(|fd| rustix::io::write(&fd, contents.to_bytes()));
        err = match wrote {
            Ok(n) if n == contents.to_bytes().len() => None,
            Ok(_) => Some(libc::EIO),
            Err(e) => Some(e.raw_os_error()),
        };
    }
    // (Within the capacity reserved before the fork: no allocation.)
    for (p, attrs) in cpaths {
        made.push(err.map_or_else(|| clone_tree(p, *attrs), Err));
    }
    cover_all(made.as_mut_slice(), covers);
    for copy in made.iter() {
        let sent = match copy {
            Ok(fd) => send_with(s, &0i32.to_ne_bytes(), &[fd.as_fd()], SendFlags::NOSIGNAL),
            Err(e) => send_with(s, &e.to_ne_bytes(), &[], SendFlags::NOSIGNAL),
        };
        // Nothing to do about it: the parent takes a missing answer for
        // an error.
        let _ = sent;
    }
    // SAFETY: _exit ends the child at once (no atexit handlers, no
    // unwinding into the parent's copy of the stack); nothing is pending.
    unsafe { libc::_exit(0) }
}

#[cfg(test)]
mod tests;


/// Memory to share with the session's processes, `len` bytes of zeros:
/// its memfd (sealed at that size, so that no mapping of it is ever cut
/// short), a read-only fd of it (opened anew through /proc/self/fd: a
/// shared mapping of it can never be made writable, and it can add no
/// seals), and its address here, mapped read-write for good.
pub fn shared_table(len: usize) -> SysResult<(OwnedFd, OwnedFd, usize)> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let rw = sys(rustix::fs::memfd_create(c"preld-owners", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING))?;
    sys(rustix::fs::ftruncate(&rw, len as u64))?;
    sys(rustix::fs::fcntl_add_seals(&rw, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL))?;
    let path = format!("/proc/self/fd/{}", rw.as_raw_fd());
    let ro = sys(rustix::fs::open(path.as_str(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()))?;
    use rustix::mm::{MapFlags, ProtFlags};
    // SAFETY: a new shared mapping at an address the kernel picks, of a
    // file this function just made `len` bytes long and sealed against
    // shrinking: it overlaps no Rust object and never faults.
    let at = sys(unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED, &rw, 0) })?;
    Ok((rw, ro, at as usize))
}

/// The names in the directory `dir` (an fd of its own, read from its
/// start) with each one's inode number and whether it may be a directory
/// (DT_DIR, or DT_UNKNOWN: the file system does not say), without `.` and
/// `..`, at most `max` of them.
pub fn entries_typed(dir: BorrowedFd<'_>, max: usize) -> SysResult<Vec<(std::ffi::CString, u64, bool)>> {
    let mut d = sys(rustix::fs::Dir::read_from(dir))?;
    let mut names = Vec::new();
    while names.len() < max {
        let Some(e) = d.read() else { break };
        let e = sys(e)?;
        let n = e.file_name();
        if n != c"." && n != c".." {
            let dir = matches!(e.file_type(), rustix::fs::FileType::Directory | rustix::fs::FileType::Unknown);
            names.push((n.to_owned(), e.ino(), dir));
        }
    }
    Ok(names)
}

/// The directory `fd`'s (dev, ino) and whether it is the root of its mount
/// (STATX_ATTR_MOUNT_ROOT, Linux 5.8; where the kernel does not say, every
/// directory counts as one).
pub fn dir_place(fd: BorrowedFd<'_>) -> SysResult<(u64, u64, bool)> {
    let flags = AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC;
    let x = sys(rustix::fs::statx(fd, c"", flags, StatxFlags::INO))?;
    use rustix::fs::StatxAttributes;
    let root = !x.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT) || x.stx_attributes.contains(StatxAttributes::MOUNT_ROOT);
    Ok((libc::makedev(x.stx_dev_major, x.stx_dev_minor), x.stx_ino, root))
}
