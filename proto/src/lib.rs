//! The wire format between preld's handler (the client, inside ld-preld) and
//! the capability server of `preld pola`. `no_std`, no allocation: both sides
//! encode into and decode from byte slices they own.
//!
//! # Transport
//!
//! An `AF_UNIX` `SOCK_SEQPACKET` connection: one message is one frame, and
//! every request gets exactly one reply, in order. A request may carry up to
//! [`MAX_FDS`] file descriptors (`SCM_RIGHTS`): the directory fds of `*at()`
//! calls. A successful reply of an op that yields an fd carries exactly one.
//! Each client thread has its own connection; [`Op::Connect`] returns a new
//! one (the client end arrives as the reply's fd) that starts with a copy of
//! the requesting connection's virtual cwd.
//!
//! # Frame
//!
//! All integers little-endian; no padding, no alignment; every byte of a
//! frame belongs to a field, so a valid frame has exactly one encoding
//! (`decode` then `encode` gives the same bytes back: the fuzz target checks
//! it).
//!
//! ```text
//! header (16 bytes)   magic u32 = 0x444c5250 ("PRLD")   version u16 = 1
//!                     op u16                             id u32   len u32
//! payload (len bytes, len <= 65536)
//! ```
//!
//! A reply has `op = request op | 0x8000`, the request's `id`, and a payload
//! that starts with `result: i64`: a value >= 0 on success, `-errno`
//! (-4095..=-1) on failure. A failed reply has nothing after `result` and no
//! fd. Payload fields by op (`path` and `bytes` are defined below):
//!
//! ```text
//! op  name         request payload                        success reply after result
//!  1  Hello        -                                      flags u32 (bit 0: the session has the network)
//!  2  Connect      -                                      -          (+1 fd: the new connection)
//!  3  Open         flags u32, mode u32, path              info u32   (+1 fd; info bit 0: virtual directory)
//!  4  Stat         flags u32, path                        struct stat, 144 raw bytes (x86_64 layout)
//!  5  Access       mode u32, flags u32, path              -
//!  6  Readlink     path                                   the link's bytes (rest of the payload)
//!  7  Mkdir        mode u32, path                         -
//!  8  Unlink       flags u32, path                        -
//!  9  Rename       flags u32, path old, path new          -
//! 10  Link         flags u32, path old, path new          -
//! 11  Symlink      bytes target, path                     -
//! 12  Truncate     length i64, path                       -
//! 13  Chmod        mode u32, flags u32, path              -
//! 14  Utimens      4 x i64 (atime sec, nsec, mtime sec,   -
//!                  nsec), flags u32, path
//! 15  Chdir        path                                   the new cwd's bytes (rest of the payload)
//! 16  Getcwd       -                                      the cwd's bytes (rest of the payload)
//! 17  ReadDir      start u32, path                        count u32, count x entry (below): the
//!                                                         entries from index `start` on, as many
//!                                                         as fit a frame; count 0: none left
//! 18  Exec         path                                   bytes virtual path, bytes host path (+1 fd)
//! 19  (retired: the server made a socket of its own network namespace and
//!     connected it; ConnectOwn connects the program's own)
//! 20  BindUnix     type u32, path                         -          (+1 fd: a bound socket)
//! 21  Chown        uid u32, gid u32, flags u32, path      -          (u32::MAX: id unchanged)
//! 22  Mknod        mode u32 (type and permissions), path  -          (FIFOs and sockets only)
//! 23  SendUnix     flags u32, path (base 0 only), data    -          result: bytes sent
//!                  (the rest of the payload: the datagram, any bytes, possibly none);
//!                  +1 fd attached first: the datagram socket to send it from
//! 24  ConnectOwn   path (base 0 only)                     -
//!                  +1 fd attached first: the socket to connect itself (a datagram
//!                  socket, or a non-blocking one, which the handler makes a blocking
//!                  one for the call: its name, options and namespace kept)
//! 25  Owners       skip u32, flags u32 (bit 0: a walk,    count u32, count x owner (below): the
//!                  small subdirectories' too or the       host's owners of the directory itself
//!                  walker goes on; bit 1: the walk        (first) and of its entries from index
//!                  names directories only); +1 fd         `skip` on, as many as fit a frame;
//!                  attached: a directory (its entries)    of another file, its own
//!                  or another file (itself), on a
//!                  grant's copy
//! 26  OwnersTable  -                                      -          (+1 fd: the session's owners
//!                                                         table, read-only; see `owners_table`)
//! 27  Where        flags u32 (AT_SYMLINK_NOFOLLOW), path  the virtual path the walk reached (rest of the
//!                                                         payload): asked after an ELSEWHERE reply
//!
//! path   = base u8, len u16, len bytes
//!          base 0: relative to the connection's virtual cwd (AT_FDCWD);
//!          base 1: relative to the request's first attached fd; base 2: its second.
//!          len <= 4096, no NUL byte. A request carries exactly as many fds as
//!          its highest base names, and base 2 only with some path on base 1.
//! bytes  = len u16, len bytes; len <= 4096, no NUL byte
//! entry  = ino u64, d_type u8, namelen u8, name (1..=255 bytes, no NUL, no '/',
//!          not "." or ".." unless it is exactly that entry)
//! owner  = dev u64 (glibc's makedev of the major and minor), ino u64, uid u32, gid u32
//! ```
//!
//! Flags and modes are the kernel's own values (`O_*`, `AT_*`, `RENAME_*`,
//! `SOCK_*`, `S_*`), passed through; a flag the server does not accept is an
//! `EINVAL` reply, not a protocol error. A frame that breaks any rule of this
//! format is a protocol error: the server logs it and ends the connection.

#![no_std]

use core::fmt;

pub mod owners_table;
pub mod tracer;

/// `"PRLD"` read as a little-endian u32.
pub const MAGIC: u32 = 0x444c_5250;
/// The version of this format; a frame of any other version is refused.
pub const VERSION: u16 = 1;
/// Size of the frame header.
pub const HEADER_LEN: usize = 16;
/// Largest payload.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Largest frame: the buffer size a receiver needs.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD;
/// Longest path or byte string (PATH_MAX, NUL excluded).
pub const MAX_PATH: usize = 4096;
/// Most fds a request may carry.
pub const MAX_FDS: usize = 2;
/// Set in the op of a reply.
pub const REPLY_BIT: u16 = 0x8000;
/// Size of the x86_64 `struct stat` a Stat reply carries.
pub const STAT_SIZE: usize = 144;
/// Longest directory entry name.
pub const NAME_MAX: usize = 255;
/// Largest errno a reply may carry (negated).
pub const MAX_ERRNO: i64 = 4095;

/// A failed reply's result for a path that leads into what the handler
/// makes itself (the session's /proc, through a symlink or `..`): no
/// errno of the kernel's, never the program's. The handler asks where
/// ([`Op::Where`]) and makes the call again with that path.
pub const ELSEWHERE: i32 = 4000;

/// Open reply info: the fd is an empty stand-in for a virtual directory;
/// list it with [`Op::ReadDir`].
pub const OPEN_VIRTUAL_DIR: u32 = 1;
/// Hello reply flags: the session may use TCP.
pub const HELLO_NET: u32 = 1;

/// What a frame can get wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoError {
    /// Shorter than a header.
    ShortHeader,
    BadMagic(u32),
    BadVersion(u16),
    UnknownOp(u16),
    /// A reply where a request was expected, or the other way round.
    WrongDirection,
    /// The header's len is not the payload's length.
    LengthMismatch { declared: u32, actual: usize },
    /// The payload is longer than MAX_PAYLOAD.
    TooLong(usize),
    /// The payload ends inside a field.
    Truncated,
    /// Bytes left after the last field.
    TrailingBytes(usize),
    PathTooLong(usize),
    NulInPath,
    BadBase(u8),
    /// A path on base 2 with none on base 1.
    FdGap,
    /// A result below -MAX_ERRNO.
    BadResult(i64),
    /// A failed reply with data after its result.
    DataOnError,
    BadEntryName,
    /// The reply is not for the op that was expected.
    UnexpectedOp(u16),
    /// The output buffer is too small (encoding only).
    BufferTooSmall,
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ProtoError::ShortHeader => write!(f, "message shorter than a header"),
            ProtoError::BadMagic(m) => write!(f, "bad magic {m:#x}"),
            ProtoError::BadVersion(v) => write!(f, "unsupported protocol version {v}"),
            ProtoError::UnknownOp(o) => write!(f, "unknown op {o:#x}"),
            ProtoError::WrongDirection => write!(f, "reply/request direction mismatch"),
            ProtoError::LengthMismatch { declared, actual } => {
                write!(f, "header says {declared} payload bytes, message has {actual}")
            }
            ProtoError::TooLong(n) => write!(f, "payload of {n} bytes exceeds {MAX_PAYLOAD}"),
            ProtoError::Truncated => write!(f, "payload ends inside a field"),
            ProtoError::TrailingBytes(n) => write!(f, "{n} trailing bytes after the last field"),
            ProtoError::PathTooLong(n) => write!(f, "path of {n} bytes exceeds {MAX_PATH}"),
            ProtoError::NulInPath => write!(f, "NUL byte inside a path"),
            ProtoError::BadBase(b) => write!(f, "bad path base {b}"),
            ProtoError::FdGap => write!(f, "path on the second fd without one on the first"),
            ProtoError::BadResult(r) => write!(f, "bad result {r}"),
            ProtoError::DataOnError => write!(f, "failed reply carries data"),
            ProtoError::BadEntryName => write!(f, "bad directory entry name"),
            ProtoError::UnexpectedOp(o) => write!(f, "reply for unexpected op {o:#x}"),
            ProtoError::BufferTooSmall => write!(f, "output buffer too small"),
        }
    }
}

/// The operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Op {
    Hello = 1,
    Connect = 2,
    Open = 3,
    Stat = 4,
    Access = 5,
    Readlink = 6,
    Mkdir = 7,
    Unlink = 8,
    Rename = 9,
    Link = 10,
    Symlink = 11,
    Truncate = 12,
    Chmod = 13,
    Utimens = 14,
    Chdir = 15,
    Getcwd = 16,
    ReadDir = 17,
    Exec = 18,
    BindUnix = 20,
    Chown = 21,
    Mknod = 22,
    SendUnix = 23,
    ConnectOwn = 24,
    Owners = 25,
    OwnersTable = 26,
    Where = 27,
}

impl Op {
    pub const ALL: [Op; 26] = [
        Op::Hello,
        Op::Connect,
        Op::Open,
        Op::Stat,
        Op::Access,
        Op::Readlink,
        Op::Mkdir,
        Op::Unlink,
        Op::Rename,
        Op::Link,
        Op::Symlink,
        Op::Truncate,
        Op::Chmod,
        Op::Utimens,
        Op::Chdir,
        Op::Getcwd,
        Op::ReadDir,
        Op::Exec,
        Op::BindUnix,
        Op::Chown,
        Op::Mknod,
        Op::SendUnix,
        Op::ConnectOwn,
        Op::Owners,
        Op::OwnersTable,
        Op::Where,
    ];

    pub fn from_u16(v: u16) -> Option<Op> {
        Op::ALL.iter().copied().find(|&o| o as u16 == v)
    }

    /// True if a successful reply to this op carries exactly one fd.
    pub fn reply_has_fd(self) -> bool {
        matches!(self, Op::Connect | Op::Open | Op::Exec | Op::BindUnix | Op::OwnersTable)
    }
}

/// Where a relative path starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// The connection's virtual cwd (AT_FDCWD).
    Cwd,
    /// The request's attached fd number 0 or 1.
    Fd(u8),
}

impl Base {
    fn to_u8(self) -> u8 {
        match self {
            Base::Cwd => 0,
            Base::Fd(i) => i.saturating_add(1),
        }
    }
}

/// A path argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathArg<'a> {
    pub base: Base,
    pub path: &'a [u8],
}

impl<'a> PathArg<'a> {
    pub fn cwd(path: &'a [u8]) -> PathArg<'a> {
        PathArg { base: Base::Cwd, path }
    }
    pub fn fd(index: u8, path: &'a [u8]) -> PathArg<'a> {
        PathArg { base: Base::Fd(index), path }
    }
}

/// `struct timespec` of Utimens (UTIME_NOW / UTIME_OMIT in nsec as usual).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

/// A decoded request; byte fields borrow the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Hello,
    Connect,
    Open { flags: u32, mode: u32, path: PathArg<'a> },
    Stat { flags: u32, path: PathArg<'a> },
    Access { mode: u32, flags: u32, path: PathArg<'a> },
    Readlink { path: PathArg<'a> },
    Mkdir { mode: u32, path: PathArg<'a> },
    /// mknod of a FIFO or a socket (`mode` has the type bits).
    Mknod { mode: u32, path: PathArg<'a> },
    Unlink { flags: u32, path: PathArg<'a> },
    Rename { flags: u32, old: PathArg<'a>, new: PathArg<'a> },
    Link { flags: u32, old: PathArg<'a>, new: PathArg<'a> },
    Symlink { target: &'a [u8], path: PathArg<'a> },
    Truncate { length: i64, path: PathArg<'a> },
    Chmod { mode: u32, flags: u32, path: PathArg<'a> },
    Utimens { times: [Timespec; 2], flags: u32, path: PathArg<'a> },
    Chdir { path: PathArg<'a> },
    Getcwd,
    ReadDir { start: u32, path: PathArg<'a> },
    Exec { path: PathArg<'a> },
    BindUnix { ty: u32, path: PathArg<'a> },
    Chown { uid: u32, gid: u32, flags: u32, path: PathArg<'a> },
    /// sendto/sendmsg of a datagram to a socket path, from the attached
    /// socket (the program's own, so the datagram's sender is its name).
    SendUnix { flags: u32, path: PathArg<'a>, data: &'a [u8] },
    /// connect of the attached socket itself to a socket path (a datagram
    /// socket, or a non-blocking one: a name bound to it before and its
    /// options stay).
    ConnectOwn { path: PathArg<'a> },
    /// The host's owners (uid, gid) of the attached directory and of its
    /// entries from index `skip` on, or of the attached file itself: what
    /// the kernel shows a session of an ordinary user as the overflow id.
    /// `flags` OWNERS_SUBDIRS: small subdirectories' entries may follow.
    Owners { skip: u32, flags: u32 },
    /// The session's owners table (`owners_table`), to map read-only.
    OwnersTable,
    /// Where the path leads in the virtual namespace, after an
    /// [`ELSEWHERE`] reply to it.
    Where { flags: u32, path: PathArg<'a> },
}

impl<'a> Request<'a> {
    pub fn op(&self) -> Op {
        match self {
            Request::Hello => Op::Hello,
            Request::Connect => Op::Connect,
            Request::Open { .. } => Op::Open,
            Request::Stat { .. } => Op::Stat,
            Request::Access { .. } => Op::Access,
            Request::Readlink { .. } => Op::Readlink,
            Request::Mkdir { .. } => Op::Mkdir,
            Request::Mknod { .. } => Op::Mknod,
            Request::Unlink { .. } => Op::Unlink,
            Request::Rename { .. } => Op::Rename,
            Request::Link { .. } => Op::Link,
            Request::Symlink { .. } => Op::Symlink,
            Request::Truncate { .. } => Op::Truncate,
            Request::Chmod { .. } => Op::Chmod,
            Request::Utimens { .. } => Op::Utimens,
            Request::Chdir { .. } => Op::Chdir,
            Request::Getcwd => Op::Getcwd,
            Request::ReadDir { .. } => Op::ReadDir,
            Request::Exec { .. } => Op::Exec,
            Request::BindUnix { .. } => Op::BindUnix,
            Request::Chown { .. } => Op::Chown,
            Request::SendUnix { .. } => Op::SendUnix,
            Request::ConnectOwn { .. } => Op::ConnectOwn,
            Request::Owners { .. } => Op::Owners,
            Request::OwnersTable => Op::OwnersTable,
            Request::Where { .. } => Op::Where,
        }
    }

    /// The request's path arguments, in order (at most two).
    pub fn paths(&self) -> [Option<PathArg<'a>>; 2] {
        match *self {
            Request::Hello | Request::Connect | Request::Getcwd | Request::Owners { .. } | Request::OwnersTable => [None, None],
            Request::Rename { old, new, .. } | Request::Link { old, new, .. } => [Some(old), Some(new)],
            Request::Open { path, .. }
            | Request::Stat { path, .. }
            | Request::Where { path, .. }
            | Request::Access { path, .. }
            | Request::Readlink { path }
            | Request::Mkdir { path, .. }
            | Request::Mknod { path, .. }
            | Request::Unlink { path, .. }
            | Request::Symlink { path, .. }
            | Request::Truncate { path, .. }
            | Request::Chmod { path, .. }
            | Request::Utimens { path, .. }
            | Request::Chdir { path }
            | Request::ReadDir { path, .. }
            | Request::Exec { path }
            | Request::BindUnix { path, .. }
            | Request::Chown { path, .. }
            | Request::SendUnix { path, .. }
            | Request::ConnectOwn { path } => [Some(path), None],
        }
    }

    /// How many fds must be attached to this request.
    pub fn fds_needed(&self) -> usize {
        if let Request::SendUnix { .. } | Request::ConnectOwn { .. } | Request::Owners { .. } = self {
            return 1; // the socket, or the file; no path relative to an fd
        }
        self.paths()
            .iter()
            .flatten()
            .map(|p| match p.base {
                Base::Cwd => 0,
                Base::Fd(i) => i as usize + 1,
            })
            .max()
            .unwrap_or(0)
    }

    fn check_bases(&self) -> Result<(), ProtoError> {
        if let Request::SendUnix { path, .. } | Request::ConnectOwn { path } = self {
            return match path.base {
                Base::Cwd => Ok(()),
                b => Err(ProtoError::BadBase(b.to_u8())),
            };
        }
        let mut uses = [false; MAX_FDS];
        for p in self.paths().iter().flatten() {
            if let Base::Fd(i) = p.base {
                match uses.get_mut(i as usize) {
                    Some(u) => *u = true,
                    None => return Err(ProtoError::BadBase(p.base.to_u8())),
                }
            }
        }
        if uses[1] && !uses[0] {
            return Err(ProtoError::FdGap);
        }
        Ok(())
    }
}

/// The header of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub op: u16,
    pub id: u32,
    pub len: u32,
}

// ---------------------------------------------------------------- reading

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        let end = self.pos.checked_add(n).ok_or(ProtoError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(ProtoError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtoError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, ProtoError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ProtoError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, ProtoError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, ProtoError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, ProtoError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos.min(self.buf.len())..];
        self.pos = self.buf.len();
        s
    }
    fn bytes(&mut self) -> Result<&'a [u8], ProtoError> {
        let len = self.u16()? as usize;
        if len > MAX_PATH {
            return Err(ProtoError::PathTooLong(len));
        }
        let s = self.take(len)?;
        check_path_bytes(s)?;
        Ok(s)
    }
    fn path(&mut self) -> Result<PathArg<'a>, ProtoError> {
        let base = match self.u8()? {
            0 => Base::Cwd,
            b @ 1..=2 => Base::Fd(b - 1),
            b => return Err(ProtoError::BadBase(b)),
        };
        Ok(PathArg { base, path: self.bytes()? })
    }
    fn finish(&self) -> Result<(), ProtoError> {
        match self.buf.len() - self.pos.min(self.buf.len()) {
            0 => Ok(()),
            n => Err(ProtoError::TrailingBytes(n)),
        }
    }
}

fn check_path_bytes(s: &[u8]) -> Result<(), ProtoError> {
    if s.len() > MAX_PATH {
        return Err(ProtoError::PathTooLong(s.len()));
    }
    if s.contains(&0) {
        return Err(ProtoError::NulInPath);
    }
    Ok(())
}

/// Decodes and checks a header and returns it with the payload.
pub fn decode_header(msg: &[u8]) -> Result<(Header, &[u8]), ProtoError> {
    if msg.len() < HEADER_LEN {
        return Err(ProtoError::ShortHeader);
    }
    let mut r = Reader::new(&msg[..HEADER_LEN]);
    let magic = r.u32()?;
    if magic != MAGIC {
        return Err(ProtoError::BadMagic(magic));
    }
    let version = r.u16()?;
    if version != VERSION {
        return Err(ProtoError::BadVersion(version));
    }
    let op = r.u16()?;
    let id = r.u32()?;
    let len = r.u32()?;
    let payload = &msg[HEADER_LEN..];
    if payload.len() > MAX_PAYLOAD {
        return Err(ProtoError::TooLong(payload.len()));
    }
    if len as usize != payload.len() {
        return Err(ProtoError::LengthMismatch { declared: len, actual: payload.len() });
    }
    Ok((Header { op, id, len }, payload))
}

/// Decodes a request frame: `(id, request)`. Every field is checked; the
/// number of attached fds must then equal `request.fds_needed()`.
pub fn decode_request(msg: &[u8]) -> Result<(u32, Request<'_>), ProtoError> {
    let (h, payload) = decode_header(msg)?;
    if h.op & REPLY_BIT != 0 {
        return Err(ProtoError::WrongDirection);
    }
    let op = Op::from_u16(h.op).ok_or(ProtoError::UnknownOp(h.op))?;
    let mut r = Reader::new(payload);
    let req = match op {
        Op::Hello => Request::Hello,
        Op::Connect => Request::Connect,
        Op::Open => Request::Open { flags: r.u32()?, mode: r.u32()?, path: r.path()? },
        Op::Stat => Request::Stat { flags: r.u32()?, path: r.path()? },
        Op::Access => Request::Access { mode: r.u32()?, flags: r.u32()?, path: r.path()? },
        Op::Readlink => Request::Readlink { path: r.path()? },
        Op::Mkdir => Request::Mkdir { mode: r.u32()?, path: r.path()? },
        Op::Mknod => Request::Mknod { mode: r.u32()?, path: r.path()? },
        Op::Unlink => Request::Unlink { flags: r.u32()?, path: r.path()? },
        Op::Rename => Request::Rename { flags: r.u32()?, old: r.path()?, new: r.path()? },
        Op::Link => Request::Link { flags: r.u32()?, old: r.path()?, new: r.path()? },
        Op::Symlink => Request::Symlink { target: r.bytes()?, path: r.path()? },
        Op::Truncate => Request::Truncate { length: r.i64()?, path: r.path()? },
        Op::Chmod => Request::Chmod { mode: r.u32()?, flags: r.u32()?, path: r.path()? },
        Op::Utimens => {
            let times = [Timespec { sec: r.i64()?, nsec: r.i64()? }, Timespec { sec: r.i64()?, nsec: r.i64()? }];
            Request::Utimens { times, flags: r.u32()?, path: r.path()? }
        }
        Op::Chdir => Request::Chdir { path: r.path()? },
        Op::Getcwd => Request::Getcwd,
        Op::ReadDir => Request::ReadDir { start: r.u32()?, path: r.path()? },
        Op::Exec => Request::Exec { path: r.path()? },
        Op::BindUnix => Request::BindUnix { ty: r.u32()?, path: r.path()? },
        Op::Chown => Request::Chown { uid: r.u32()?, gid: r.u32()?, flags: r.u32()?, path: r.path()? },
        Op::SendUnix => Request::SendUnix { flags: r.u32()?, path: r.path()?, data: r.rest() },
        Op::ConnectOwn => Request::ConnectOwn { path: r.path()? },
        Op::Owners => Request::Owners { skip: r.u32()?, flags: r.u32()? },
        Op::OwnersTable => Request::OwnersTable,
        Op::Where => Request::Where { flags: r.u32()?, path: r.path()? },
    };
    r.finish()?;
    req.check_bases()?;
    Ok((h.id, req))
}

// ---------------------------------------------------------------- writing

struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    fn new(buf: &'a mut [u8]) -> Writer<'a> {
        Writer { buf, pos: 0 }
    }
    fn put(&mut self, s: &[u8]) -> Result<(), ProtoError> {
        let end = self.pos.checked_add(s.len()).ok_or(ProtoError::BufferTooSmall)?;
        if end > MAX_FRAME {
            return Err(ProtoError::TooLong(end - HEADER_LEN.min(end)));
        }
        self.buf.get_mut(self.pos..end).ok_or(ProtoError::BufferTooSmall)?.copy_from_slice(s);
        self.pos = end;
        Ok(())
    }
    fn u8(&mut self, v: u8) -> Result<(), ProtoError> {
        self.put(&[v])
    }
    fn u16(&mut self, v: u16) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }
    fn u32(&mut self, v: u32) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }
    fn u64(&mut self, v: u64) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }
    fn i64(&mut self, v: i64) -> Result<(), ProtoError> {
        self.put(&v.to_le_bytes())
    }
    fn bytes(&mut self, s: &[u8]) -> Result<(), ProtoError> {
        check_path_bytes(s)?;
        self.u16(s.len() as u16)?;
        self.put(s)
    }
    fn path(&mut self, p: &PathArg<'_>) -> Result<(), ProtoError> {
        let b = p.base.to_u8();
        if b > MAX_FDS as u8 {
            return Err(ProtoError::BadBase(b));
        }
        self.u8(b)?;
        self.bytes(p.path)
    }
    /// Writes a header for `op`/`id`; its len is patched by `finish`.
    fn header(&mut self, op: u16, id: u32) -> Result<(), ProtoError> {
        self.u32(MAGIC)?;
        self.u16(VERSION)?;
        self.u16(op)?;
        self.u32(id)?;
        self.u32(0)
    }
    fn finish(self) -> Result<usize, ProtoError> {
        let len = self.pos - HEADER_LEN;
        if len > MAX_PAYLOAD {
            return Err(ProtoError::TooLong(len));
        }
        self.buf[12..16].copy_from_slice(&(len as u32).to_le_bytes());
        Ok(self.pos)
    }
}

/// Encodes a request into `buf` and returns the frame's length. Fails on
/// anything `decode_request` would refuse (bad paths, bad bases).
pub fn encode_request(id: u32, req: &Request<'_>, buf: &mut [u8]) -> Result<usize, ProtoError> {
    req.check_bases()?;
    let mut w = Writer::new(buf);
    w.header(req.op() as u16, id)?;
    match req {
        Request::Hello | Request::Connect | Request::Getcwd | Request::OwnersTable => {}
        Request::Owners { skip, flags } => {
            w.u32(*skip)?;
            w.u32(*flags)?;
        }
        Request::Open { flags, mode, path } => {
            w.u32(*flags)?;
            w.u32(*mode)?;
            w.path(path)?;
        }
        Request::Stat { flags, path } | Request::Unlink { flags, path } | Request::Where { flags, path } => {
            w.u32(*flags)?;
            w.path(path)?;
        }
        Request::Access { mode, flags, path } | Request::Chmod { mode, flags, path } => {
            w.u32(*mode)?;
            w.u32(*flags)?;
            w.path(path)?;
        }
        Request::Chown { uid, gid, flags, path } => {
            w.u32(*uid)?;
            w.u32(*gid)?;
            w.u32(*flags)?;
            w.path(path)?;
        }
        Request::Readlink { path }
        | Request::ConnectOwn { path }
        | Request::Chdir { path }
        | Request::Exec { path } => w.path(path)?,
        Request::Mkdir { mode: v, path } | Request::Mknod { mode: v, path } | Request::ReadDir { start: v, path } | Request::BindUnix { ty: v, path } => {
            w.u32(*v)?;
            w.path(path)?;
        }
        Request::Rename { flags, old, new } | Request::Link { flags, old, new } => {
            w.u32(*flags)?;
            w.path(old)?;
            w.path(new)?;
        }
        Request::Symlink { target, path } => {
            w.bytes(target)?;
            w.path(path)?;
        }
        Request::SendUnix { flags, path, data } => {
            w.u32(*flags)?;
            w.path(path)?;
            w.put(data)?;
        }
        Request::Truncate { length, path } => {
            w.i64(*length)?;
            w.path(path)?;
        }
        Request::Utimens { times, flags, path } => {
            for t in times {
                w.i64(t.sec)?;
                w.i64(t.nsec)?;
            }
            w.u32(*flags)?;
            w.path(path)?;
        }
    }
    w.finish()
}

// ---------------------------------------------------------------- replies

/// One entry of a virtual directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    pub ino: u64,
    pub d_type: u8,
    pub name: &'a [u8],
}

fn check_entry_name(name: &[u8]) -> Result<(), ProtoError> {
    if name.is_empty() || name.len() > NAME_MAX || name.contains(&0) {
        return Err(ProtoError::BadEntryName);
    }
    if name != b"." && name != b".." && name.contains(&b'/') {
        return Err(ProtoError::BadEntryName);
    }
    Ok(())
}

/// The checked entries of a ReadDir reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntries<'a> {
    count: u32,
    bytes: &'a [u8],
}

impl<'a> DirEntries<'a> {
    pub fn len(&self) -> usize {
        self.count as usize
    }
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    pub fn iter(&self) -> DirIter<'a> {
        DirIter { r: Reader::new(self.bytes), left: self.count }
    }
}

/// Iterator over checked entries (never fails: they were checked).
pub struct DirIter<'a> {
    r: Reader<'a>,
    left: u32,
}

fn read_entry<'a>(r: &mut Reader<'a>) -> Result<DirEntry<'a>, ProtoError> {
    let ino = r.u64()?;
    let d_type = r.u8()?;
    let n = r.u8()? as usize;
    let name = r.take(n)?;
    check_entry_name(name)?;
    Ok(DirEntry { ino, d_type, name })
}

impl<'a> Iterator for DirIter<'a> {
    type Item = DirEntry<'a>;
    fn next(&mut self) -> Option<DirEntry<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        read_entry(&mut self.r).ok()
    }
}

/// Owners' flag: the program walks the directory's tree (it named the
/// file beside a directory fd): the entries of small subdirectories may
/// follow, or the server's walker goes on into them.
pub const OWNERS_SUBDIRS: u32 = 1;
/// Owners' flag, with OWNERS_SUBDIRS: the program has named only
/// directories so (find, which knows the other entries' types from
/// getdents): the walker need only stat those.
pub const OWNERS_DIRS_ONLY: u32 = 2;

/// One file's owners on the host (an Owners reply's entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Owner {
    pub dev: u64,
    pub ino: u64,
    pub uid: u32,
    pub gid: u32,
}

/// Bytes of one `Owner` on the wire.
pub const OWNER_SIZE: usize = 24;
/// The most owners one reply carries.
pub const OWNERS_MAX: usize = (MAX_PAYLOAD - 8 - 4) / OWNER_SIZE;

/// The entries of an Owners reply (any bytes are some owners: nothing to
/// check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owners<'a> {
    bytes: &'a [u8],
}

impl<'a> Owners<'a> {
    pub fn len(&self) -> usize {
        self.bytes.len() / OWNER_SIZE
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = Owner> + 'a {
        self.bytes.chunks_exact(OWNER_SIZE).map(|c| {
            let u64_at = |i: usize| u64::from_le_bytes(c[i..i + 8].try_into().unwrap_or_default());
            let u32_at = |i: usize| u32::from_le_bytes(c[i..i + 4].try_into().unwrap_or_default());
            Owner { dev: u64_at(0), ino: u64_at(8), uid: u32_at(16), gid: u32_at(20) }
        })
    }
}

/// What a reply carries after its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyData<'a> {
    /// Nothing (every failed reply, and ops without data).
    None,
    Hello { flags: u32 },
    Open { info: u32 },
    Stat(&'a [u8; STAT_SIZE]),
    /// Readlink, Getcwd.
    Bytes(&'a [u8]),
    Dir(DirEntries<'a>),
    Exec { vpath: &'a [u8], host: &'a [u8] },
    Owners(Owners<'a>),
}

/// A decoded reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    pub result: i64,
    pub data: ReplyData<'a>,
}

impl<'a> Reply<'a> {
    pub fn err(errno: i32) -> Reply<'static> {
        Reply { result: -(errno as i64), data: ReplyData::None }
    }
    pub fn ok(data: ReplyData<'a>) -> Reply<'a> {
        Reply { result: 0, data }
    }
    /// True if this reply must carry one fd.
    pub fn has_fd(&self, op: Op) -> bool {
        self.result >= 0 && op.reply_has_fd()
    }
}

/// Decodes a reply frame to a request of `op`: `(id, reply)`.
pub fn decode_reply(msg: &[u8], op: Op) -> Result<(u32, Reply<'_>), ProtoError> {
    let (h, payload) = decode_header(msg)?;
    if h.op & REPLY_BIT == 0 {
        return Err(ProtoError::WrongDirection);
    }
    let got = h.op & !REPLY_BIT;
    if Op::from_u16(got).is_none() {
        return Err(ProtoError::UnknownOp(h.op));
    }
    if got != op as u16 {
        return Err(ProtoError::UnexpectedOp(got));
    }
    let mut r = Reader::new(payload);
    let result = r.i64()?;
    if result < -MAX_ERRNO {
        return Err(ProtoError::BadResult(result));
    }
    if result < 0 {
        r.finish().map_err(|_| ProtoError::DataOnError)?;
        return Ok((h.id, Reply { result, data: ReplyData::None }));
    }
    let data = match op {
        Op::Hello => ReplyData::Hello { flags: r.u32()? },
        Op::Open => ReplyData::Open { info: r.u32()? },
        Op::Stat => {
            let s = r.take(STAT_SIZE)?;
            match <&[u8; STAT_SIZE]>::try_from(s) {
                Ok(a) => ReplyData::Stat(a),
                Err(_) => return Err(ProtoError::Truncated),
            }
        }
        Op::Readlink | Op::Getcwd | Op::Chdir | Op::Where => {
            let s = r.rest();
            check_path_bytes(s)?;
            ReplyData::Bytes(s)
        }
        Op::ReadDir => {
            let count = r.u32()?;
            let start = r.pos;
            for _ in 0..count {
                read_entry(&mut r)?;
            }
            ReplyData::Dir(DirEntries { count, bytes: &payload[start..r.pos] })
        }
        Op::Exec => ReplyData::Exec { vpath: r.bytes()?, host: r.bytes()? },
        Op::Owners => {
            let count = r.u32()? as usize;
            if count > OWNERS_MAX {
                return Err(ProtoError::TooLong(count * OWNER_SIZE));
            }
            ReplyData::Owners(Owners { bytes: r.take(count * OWNER_SIZE)? })
        }
        _ => ReplyData::None,
    };
    r.finish()?;
    Ok((h.id, Reply { result, data }))
}

/// Encodes a reply to a request of `op` into `buf`; returns the frame's
/// length. `data` must be the kind `op` has (or None for a failed reply).
pub fn encode_reply(op: Op, id: u32, reply: &Reply<'_>, buf: &mut [u8]) -> Result<usize, ProtoError> {
    encode_reply_entries(op, id, reply, &[], buf)
}

/// Like `encode_reply`; a ReadDir reply takes its entries from `entries`
/// (its `data` is then ignored).
pub fn encode_reply_entries(
    op: Op,
    id: u32,
    reply: &Reply<'_>,
    entries: &[DirEntry<'_>],
    buf: &mut [u8],
) -> Result<usize, ProtoError> {
    encode_reply_with(op, id, reply, entries, &[], buf)
}

/// Like `encode_reply`; an Owners reply takes its entries from `owners`
/// (at most `OWNERS_MAX`; its `data` is then ignored).
pub fn encode_reply_owners(op: Op, id: u32, reply: &Reply<'_>, owners: &[Owner], buf: &mut [u8]) -> Result<usize, ProtoError> {
    encode_reply_with(op, id, reply, &[], owners, buf)
}

fn encode_reply_with(
    op: Op,
    id: u32,
    reply: &Reply<'_>,
    entries: &[DirEntry<'_>],
    owners: &[Owner],
    buf: &mut [u8],
) -> Result<usize, ProtoError> {
    if reply.result < -MAX_ERRNO {
        return Err(ProtoError::BadResult(reply.result));
    }
    let mut w = Writer::new(buf);
    w.header(op as u16 | REPLY_BIT, id)?;
    w.i64(reply.result)?;
    if reply.result < 0 {
        if reply.data != ReplyData::None {
            return Err(ProtoError::DataOnError);
        }
        return w.finish();
    }
    match (op, &reply.data) {
        (Op::Hello, ReplyData::Hello { flags }) => w.u32(*flags)?,
        (Op::Open, ReplyData::Open { info }) => w.u32(*info)?,
        (Op::Stat, ReplyData::Stat(s)) => w.put(&s[..])?,
        (Op::Readlink | Op::Getcwd | Op::Chdir | Op::Where, ReplyData::Bytes(s)) => {
            check_path_bytes(s)?;
            w.put(s)?
        }
        (Op::ReadDir, _) => {
            let count = u32::try_from(entries.len()).map_err(|_| ProtoError::TooLong(usize::MAX))?;
            w.u32(count)?;
            for e in entries {
                check_entry_name(e.name)?;
                w.u64(e.ino)?;
                w.u8(e.d_type)?;
                w.u8(e.name.len() as u8)?;
                w.put(e.name)?;
            }
        }
        (Op::Exec, ReplyData::Exec { vpath, host }) => {
            w.bytes(vpath)?;
            w.bytes(host)?;
        }
        (Op::Owners, _) => {
            if owners.len() > OWNERS_MAX {
                return Err(ProtoError::TooLong(owners.len() * OWNER_SIZE));
            }
            w.u32(owners.len() as u32)?;
            for o in owners {
                w.u64(o.dev)?;
                w.u64(o.ino)?;
                w.u32(o.uid)?;
                w.u32(o.gid)?;
            }
        }
        (
            Op::Connect
            | Op::Access
            | Op::Mkdir
            | Op::Mknod
            | Op::Unlink
            | Op::Rename
            | Op::Link
            | Op::Symlink
            | Op::Truncate
            | Op::Chmod
            | Op::Chown
            | Op::Utimens
            | Op::BindUnix
            | Op::SendUnix
            | Op::ConnectOwn
            | Op::OwnersTable,
            ReplyData::None,
        ) => {}
        _ => return Err(ProtoError::UnexpectedOp(op as u16)),
    }
    w.finish()
}

#[cfg(test)]
mod tests;
