//! The few system calls the capability server makes, over libc, with errno
//! as the error: openat2, the *at family on fds, and fd passing on
//! SOCK_SEQPACKET sockets.

use std::ffi::CString;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

pub type Errno = i32;
pub type SysResult<T> = Result<T, Errno>;

pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;

/// How every host lookup below a grant is made: nothing may leave the
/// directory it starts from, and no magic link (/proc/*/fd, /proc/*/root)
/// is followed.
pub const CONFINED: u64 = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;

pub fn errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn check(r: libc::c_int) -> SysResult<libc::c_int> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(r)
    }
}

/// A C string of `b`; EINVAL on an inner NUL (the protocol already refuses
/// those, so this only guards paths made here).
pub fn cstr(b: &[u8]) -> SysResult<CString> {
    CString::new(b).map_err(|_| libc::EINVAL)
}

/// struct open_how (libc's is non-exhaustive).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

pub fn openat2(dir: BorrowedFd<'_>, path: &[u8], flags: i32, mode: u32, resolve: u64) -> SysResult<OwnedFd> {
    let p = cstr(path)?;
    let how = OpenHow { flags: flags as u32 as u64, mode: mode as u64, resolve };
    loop {
        // SAFETY: a valid C string and open_how of the size given.
        let r = unsafe {
            libc::syscall(libc::SYS_openat2, dir.as_raw_fd(), p.as_ptr(), &how as *const OpenHow, size_of::<OpenHow>())
        };
        if r >= 0 {
            // SAFETY: a new fd of ours.
            return Ok(unsafe { OwnedFd::from_raw_fd(r as RawFd) });
        }
        let e = errno();
        if e != libc::EINTR && e != libc::EAGAIN {
            return Err(e);
        }
    }
}

/// "/proc/self/fd/N": reopening an O_PATH fd through it reaches the same
/// inode, whatever happened to its name since (the server's own magic link).
pub fn proc_fd(fd: BorrowedFd<'_>) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()
}

/// open() of an O_PATH fd's inode with `flags`.
pub fn reopen(fd: BorrowedFd<'_>, flags: i32, mode: u32) -> SysResult<OwnedFd> {
    let p = proc_fd(fd);
    loop {
        // SAFETY: a valid C string.
        let r = unsafe { libc::open(p.as_ptr(), flags, mode as libc::c_uint) };
        if r >= 0 {
            // SAFETY: a new fd of ours.
            return Ok(unsafe { OwnedFd::from_raw_fd(r) });
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// What the kernel has at hand about an fd's object, as a struct stat,
/// without waiting on anyone: statx(fd, "", AT_EMPTY_PATH |
/// AT_STATX_DONT_SYNC), which does not ask a network or FUSE file system's
/// server as fstat may (a client's fd may be on one). `mask`: the STATX_*
/// fields wanted (st_dev is always there); the others are left 0.
pub fn fstat_cached(fd: BorrowedFd<'_>, mask: u32) -> SysResult<libc::stat> {
    let mut x = MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: x is written by the kernel on success; a static empty path.
    let r = unsafe {
        libc::statx(fd.as_raw_fd(), c"".as_ptr(), libc::AT_EMPTY_PATH | libc::AT_STATX_DONT_SYNC, mask, x.as_mut_ptr())
    };
    check(r)?;
    // SAFETY: zeroed, then filled by statx.
    let x = unsafe { x.assume_init() };
    // SAFETY: all-zero is a valid struct stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_dev = libc::makedev(x.stx_dev_major, x.stx_dev_minor);
    st.st_ino = x.stx_ino;
    st.st_nlink = x.stx_nlink as _;
    st.st_mode = x.stx_mode as u32;
    st.st_uid = x.stx_uid;
    st.st_gid = x.stx_gid;
    st.st_rdev = libc::makedev(x.stx_rdev_major, x.stx_rdev_minor);
    st.st_size = x.stx_size as i64;
    st.st_blksize = x.stx_blksize as _;
    st.st_blocks = x.stx_blocks as i64;
    (st.st_atime, st.st_atime_nsec) = (x.stx_atime.tv_sec, x.stx_atime.tv_nsec as i64);
    (st.st_mtime, st.st_mtime_nsec) = (x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec as i64);
    (st.st_ctime, st.st_ctime_nsec) = (x.stx_ctime.tv_sec, x.stx_ctime.tv_nsec as i64);
    Ok(st)
}

/// The fields a check of a client's fd needs: type, inode, links.
pub const STATX_CHECK: u32 = libc::STATX_TYPE | libc::STATX_INO | libc::STATX_NLINK;

/// The soft limit on open fds (RLIMIT_NOFILE).
pub fn fd_limit() -> usize {
    // SAFETY: all-zero is a valid rlimit; getrlimit fills it.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } < 0 || r.rlim_cur == libc::RLIM_INFINITY {
        return 1 << 20;
    }
    r.rlim_cur.min(1 << 30) as usize
}

/// How many fds this process has open now (None if /proc is not there).
pub fn open_fds() -> Option<usize> {
    // The directory's own fd is among the entries while it is read.
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count().saturating_sub(1))
}

pub fn fstat(fd: BorrowedFd<'_>) -> SysResult<libc::stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: st is written by the kernel on success.
    check(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: initialised by fstat.
    Ok(unsafe { st.assume_init() })
}

const _: () = assert!(size_of::<libc::stat>() == preld_proto::STAT_SIZE);

pub fn stat_bytes(st: &libc::stat) -> [u8; preld_proto::STAT_SIZE] {
    let mut b = [0u8; preld_proto::STAT_SIZE];
    // SAFETY: libc::stat is plain data of exactly that size.
    unsafe { std::ptr::copy_nonoverlapping(st as *const libc::stat as *const u8, b.as_mut_ptr(), b.len()) };
    b
}

pub fn file_type(st: &libc::stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

/// readlinkat(fd, "") of an O_PATH|O_NOFOLLOW fd of a symlink.
pub fn readlink_fd(fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: buf is writable for its length.
    let n = unsafe { libc::readlinkat(fd.as_raw_fd(), c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(errno());
    }
    let n = n as usize;
    if n >= buf.len() {
        return Err(libc::ENAMETOOLONG);
    }
    buf.truncate(n);
    Ok(buf)
}

/// faccessat2(fd, "", mode, AT_EMPTY_PATH | flags).
pub fn access_fd(fd: BorrowedFd<'_>, mode: i32, flags: i32) -> SysResult<()> {
    // SAFETY: plain syscall with a static empty string.
    let r = unsafe { libc::syscall(libc::SYS_faccessat2, fd.as_raw_fd(), c"".as_ptr(), mode, flags | libc::AT_EMPTY_PATH) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

pub fn mkdirat(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> SysResult<()> {
    let n = cstr(name)?;
    // SAFETY: valid C string.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), n.as_ptr(), mode) }).map(drop)
}

pub fn unlinkat(dir: BorrowedFd<'_>, name: &[u8], flags: i32) -> SysResult<()> {
    let n = cstr(name)?;
    // SAFETY: valid C string.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), n.as_ptr(), flags) }).map(drop)
}

pub fn renameat2(od: BorrowedFd<'_>, on: &[u8], nd: BorrowedFd<'_>, nn: &[u8], flags: u32) -> SysResult<()> {
    let (o, n) = (cstr(on)?, cstr(nn)?);
    // SAFETY: valid C strings.
    let r = unsafe { libc::syscall(libc::SYS_renameat2, od.as_raw_fd(), o.as_ptr(), nd.as_raw_fd(), n.as_ptr(), flags) };
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

pub fn linkat(od: RawFd, on: &CString, nd: BorrowedFd<'_>, nn: &[u8], flags: i32) -> SysResult<()> {
    let n = cstr(nn)?;
    // SAFETY: valid C strings.
    check(unsafe { libc::linkat(od, on.as_ptr(), nd.as_raw_fd(), n.as_ptr(), flags) }).map(drop)
}

pub fn symlinkat(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> SysResult<()> {
    let (t, n) = (cstr(target)?, cstr(name)?);
    // SAFETY: valid C strings.
    check(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) }).map(drop)
}

pub fn ftruncate(fd: BorrowedFd<'_>, len: i64) -> SysResult<()> {
    // SAFETY: plain syscall.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len) }).map(drop)
}

/// chmod of an O_PATH fd's inode (through its magic link: no race).
pub fn chmod_fd(fd: BorrowedFd<'_>, mode: u32) -> SysResult<()> {
    let p = proc_fd(fd);
    // SAFETY: valid C string.
    check(unsafe { libc::fchmodat(libc::AT_FDCWD, p.as_ptr(), mode, 0) }).map(drop)
}

pub fn utimensat(dir: RawFd, name: &CString, times: &[libc::timespec; 2], flags: i32) -> SysResult<()> {
    // SAFETY: valid C string and two timespecs.
    check(unsafe { libc::utimensat(dir, name.as_ptr(), times.as_ptr(), flags) }).map(drop)
}

/// Clears O_NONBLOCK that the server set to open without blocking.
pub fn clear_nonblock(fd: BorrowedFd<'_>) -> SysResult<()> {
    // SAFETY: fcntl on our fd.
    let fl = check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK) }).map(drop)
}

pub fn socket(ty: i32) -> SysResult<OwnedFd> {
    // SAFETY: plain syscall.
    let fd = check(unsafe { libc::socket(libc::AF_UNIX, ty, 0) })?;
    // SAFETY: a new fd of ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn sockaddr_un(path: &[u8]) -> SysResult<(libc::sockaddr_un, libc::socklen_t)> {
    // SAFETY: all-zero is a valid sockaddr_un.
    let mut a: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    a.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if path.len() >= a.sun_path.len() {
        return Err(libc::ENAMETOOLONG);
    }
    for (d, s) in a.sun_path.iter_mut().zip(path) {
        *d = *s as libc::c_char;
    }
    let len = size_of::<libc::sa_family_t>() + path.len() + 1;
    Ok((a, len as libc::socklen_t))
}

pub fn connect_unix(sock: BorrowedFd<'_>, path: &[u8]) -> SysResult<()> {
    let (a, len) = sockaddr_un(path)?;
    // SAFETY: a valid sockaddr_un of that length.
    check(unsafe { libc::connect(sock.as_raw_fd(), &a as *const _ as *const libc::sockaddr, len) }).map(drop)
}

pub fn bind_unix(sock: BorrowedFd<'_>, path: &[u8]) -> SysResult<()> {
    let (a, len) = sockaddr_un(path)?;
    // SAFETY: a valid sockaddr_un of that length.
    check(unsafe { libc::bind(sock.as_raw_fd(), &a as *const _ as *const libc::sockaddr, len) }).map(drop)
}

/// A pipe, both ends close-on-exec, the read end non-blocking.
pub fn pipe() -> SysResult<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: two new fds of ours.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: fcntl on our fd.
    let fl = check(unsafe { libc::fcntl(rd.as_raw_fd(), libc::F_GETFL) })?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(rd.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK) })?;
    Ok((rd, wr))
}

/// A SOCK_SEQPACKET pair, both ends close-on-exec.
pub fn seqpacket_pair() -> SysResult<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two.
    check(unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) })?;
    // SAFETY: two new fds of ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Room for this many fds in one received message: as many as the kernel
/// lets one message carry (SCM_MAX_FD). Fds that do not fit are released
/// by the kernel inside recvmsg, in the receiving thread, and the release
/// of a client's object may wait (a lingering socket): the server takes
/// every fd in, and lets its closer release them (serve.rs). For the same
/// reason the table must have room for them (serve.rs, `fd_budget`).
pub const RECV_FDS: usize = 253;

/// The most fds a message sent here carries.
const SEND_FDS: usize = 4;

/// A control buffer for RECV_FDS fds (CMSG_SPACE(253 * 4) = 1032 bytes).
const CMSG_BYTES: usize = 1040;

/// One received message.
pub struct Received {
    pub len: usize,
    pub fds: Vec<OwnedFd>,
    /// The message was longer than the buffer.
    pub truncated: bool,
    /// More fds or control data than there was room for.
    pub ctrunc: bool,
    /// Control messages other than SCM_RIGHTS.
    pub foreign: bool,
}

#[repr(C)]
union CmsgBuf {
    _align: libc::cmsghdr,
    bytes: [u8; CMSG_BYTES],
}

/// recvmsg(MSG_DONTWAIT | MSG_CMSG_CLOEXEC) into `buf`; every fd received is
/// owned by the result (closed with it), whatever else is wrong.
pub fn recv_msg(sock: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<Received> {
    let mut cbuf = CmsgBuf { bytes: [0; CMSG_BYTES] };
    // SAFETY: CMSG_SPACE is a pure computation.
    debug_assert!(unsafe { libc::CMSG_SPACE((RECV_FDS * size_of::<RawFd>()) as u32) } as usize <= CMSG_BYTES);
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    // SAFETY: union field of plain bytes.
    msg.msg_control = unsafe { cbuf.bytes.as_mut_ptr() }.cast();
    // SAFETY: as above.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE((RECV_FDS * size_of::<RawFd>()) as u32) } as usize;
    let n = loop {
        // SAFETY: msg points at live buffers.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    };
    let mut r = Received {
        len: n,
        fds: Vec::new(),
        truncated: msg.msg_flags & libc::MSG_TRUNC != 0,
        ctrunc: msg.msg_flags & libc::MSG_CTRUNC != 0,
        foreign: false,
    };
    // SAFETY: walking the control buffer the kernel filled, with its macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c);
                let bytes = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..bytes / size_of::<RawFd>() {
                    let fd = std::ptr::read_unaligned((data as *const RawFd).add(i));
                    r.fds.push(OwnedFd::from_raw_fd(fd));
                }
            } else {
                r.foreign = true;
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(r)
}

/// sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL) of one message with `fds` attached.
pub fn send_msg(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) -> SysResult<()> {
    assert!(fds.len() <= SEND_FDS);
    let mut cbuf = CmsgBuf { bytes: [0; CMSG_BYTES] };
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    // SAFETY: all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        // SAFETY: filling our own control buffer with the kernel's macros.
        unsafe {
            let dlen = (fds.len() * size_of::<RawFd>()) as u32;
            msg.msg_control = cbuf.bytes.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(dlen) as usize;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(dlen) as usize;
            let data = libc::CMSG_DATA(c) as *mut RawFd;
            for (i, fd) in fds.iter().enumerate() {
                std::ptr::write_unaligned(data.add(i), fd.as_raw_fd());
            }
        }
    }
    loop {
        // SAFETY: msg points at live buffers.
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(());
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

const OPEN_TREE_CLONE: u32 = 1;
const AT_RECURSIVE: u32 = 0x8000;
const MOUNT_ATTR_RDONLY: u64 = 1;

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
/// connect to a socket path or inotify). `readonly` also makes it
/// read-only (mount_setattr MOUNT_ATTR_RDONLY): the kernel then refuses
/// fchmod, fchown, futimens and fsetxattr on its files' fds with EROFS.
/// Needs CAP_SYS_ADMIN over the current mount namespace. Only
/// async-signal-safe calls (the helper of `mount_clones` runs it after
/// fork).
fn clone_raw(path: &CString, readonly: bool) -> Result<RawFd, Errno> {
    // SAFETY: a valid C string; the kernel returns a new fd or an error.
    let fd = unsafe {
        libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as u32)
    };
    if fd < 0 {
        return Err(errno());
    }
    let fd = fd as RawFd;
    if !readonly {
        return Ok(fd);
    }
    let attr = MountAttr { attr_set: MOUNT_ATTR_RDONLY, attr_clr: 0, propagation: 0, userns_fd: 0 };
    // SAFETY: a mount_attr of the size given, on the fd just made.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            (libc::AT_EMPTY_PATH as u32) | AT_RECURSIVE,
            &attr as *const MountAttr,
            size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        let e = errno();
        // SAFETY: our fd.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    Ok(fd)
}

/// Copies of the trees at `paths` (read-only where the flag says; see
/// `clone_raw`), in order; an error for each that could not be made. Without the privilege
/// to do it here, a short-lived helper process makes them in a user and
/// mount namespace of its own (where it has it) and sends them back: a
/// detached mount is usable from any namespace.
pub fn mount_clones(paths: &[(&[u8], bool)]) -> Vec<SysResult<OwnedFd>> {
    let cpaths: Vec<(CString, bool)> = match paths.iter().map(|(p, ro)| cstr(p).map(|c| (c, *ro))).collect() {
        Ok(v) => v,
        Err(e) => return paths.iter().map(|_| Err(e)).collect(),
    };
    let first = match cpaths.first() {
        None => return Vec::new(),
        Some((p, ro)) => clone_raw(p, *ro),
    };
    if first != Err(libc::EPERM) {
        let mut out = vec![first.map(own)];
        out.extend(cpaths[1..].iter().map(|(p, ro)| clone_raw(p, *ro).map(own)));
        return out;
    }
    match clones_in_helper(&cpaths) {
        Ok(v) => v,
        Err(e) => paths.iter().map(|_| Err(e)).collect(),
    }
}

fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: a new fd of ours.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The helper of `mount_clones`: fork, unshare a user and a mount
/// namespace, map our own uid and gid, clone, send every result (an fd,
/// or an errno as a 4-byte message), exit.
fn clones_in_helper(cpaths: &[(CString, bool)]) -> SysResult<Vec<SysResult<OwnedFd>>> {
    let (ours, theirs) = seqpacket_pair()?;
    // Everything the child writes is made before the fork (no allocation
    // after it: the caller may have other threads).
    // SAFETY: plain getters.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let uid_map = CString::new(format!("{uid} {uid} 1")).unwrap();
    let gid_map = CString::new(format!("{gid} {gid} 1")).unwrap();
    let files = [c"/proc/self/setgroups", c"/proc/self/uid_map", c"/proc/self/gid_map"];
    let contents: [&CString; 3] = [&CString::new("deny").unwrap(), &uid_map, &gid_map];
    // SAFETY: the child only makes async-signal-safe calls and _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(errno());
    }
    if pid == 0 {
        drop(ours);
        let s = theirs.as_raw_fd();
        let send_errno = |e: Errno| {
            let b = e.to_ne_bytes();
            // SAFETY: a 4-byte buffer on our socket.
            unsafe { libc::send(s, b.as_ptr().cast(), 4, libc::MSG_NOSIGNAL) };
        };
        // SAFETY: unshare, open/write/close of /proc files, then the clones.
        unsafe {
            let mut err = 0;
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) < 0 {
                err = errno();
            }
            for (f, c) in files.iter().zip(contents) {
                if err != 0 {
                    break;
                }
                let fd = libc::open(f.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                let n = c.as_bytes().len();
                if fd < 0 || libc::write(fd, c.as_ptr().cast(), n) != n as isize {
                    err = errno();
                }
                if fd >= 0 {
                    libc::close(fd);
                }
            }
            for (p, ro) in cpaths {
                match if err != 0 { Err(err) } else { clone_raw(p, *ro) } {
                    Ok(fd) => {
                        let b = 0i32.to_ne_bytes();
                        let iov = libc::iovec { iov_base: b.as_ptr() as *mut _, iov_len: 4 };
                        let mut ctl = [0u64; 3]; // a cmsghdr and one int, aligned
                        let mut msg: libc::msghdr = std::mem::zeroed();
                        msg.msg_iov = &iov as *const _ as *mut _;
                        msg.msg_iovlen = 1;
                        msg.msg_control = ctl.as_mut_ptr().cast();
                        msg.msg_controllen = libc::CMSG_SPACE(4) as usize;
                        let cm = libc::CMSG_FIRSTHDR(&msg);
                        (*cm).cmsg_level = libc::SOL_SOCKET;
                        (*cm).cmsg_type = libc::SCM_RIGHTS;
                        (*cm).cmsg_len = libc::CMSG_LEN(4) as usize;
                        std::ptr::copy_nonoverlapping(fd.to_ne_bytes().as_ptr(), libc::CMSG_DATA(cm), 4);
                        libc::sendmsg(s, &msg, libc::MSG_NOSIGNAL);
                        libc::close(fd);
                    }
                    Err(e) => send_errno(e),
                }
            }
            libc::_exit(0);
        }
    }
    drop(theirs);
    let mut out = Vec::new();
    let mut buf = [0u8; 16];
    for _ in cpaths {
        // recv_msg does not block: wait for each answer (the helper is
        // quick; a stuck one costs 5 s, and read-only copies).
        let mut pfd = libc::pollfd { fd: ours.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 5000) } != 1 {
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
    let mut st = 0;
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    Ok(out)
}
