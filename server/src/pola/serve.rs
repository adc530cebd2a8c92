//! The capability server: connections, the event loop, and each operation
//! made on the host for the session.
//!
//! One thread polls every connection. A connection sends a request, the
//! server answers it before reading that connection again; one message per
//! ready connection per round, so a busy client cannot starve the others.
//! Sends never block (MSG_DONTWAIT): a client that does not read its replies
//! is disconnected. A malformed message (anything `preld_proto` refuses, or
//! a wrong number of attached fds, a truncated message, foreign control
//! data) ends that connection with the line `preld pola: client N: REASON`
//! and nothing else.
//!
//! The event loop never waits on a client. What a client may make wait is
//! done on threads of the server's own: closing the fds a client has had a
//! hand on (`Closer`: a socket with SO_LINGER, a unix socket with fds queued
//! on it, a FIFO whose lock a client holds), opening a FIFO or a device
//! (`open_later`: the open waits for the pipe's lock, or runs a driver's
//! open), and writing log lines to a pipe the program shares (`Logger`).
//! The fds a client sends are looked at only with statx(AT_STATX_DONT_SYNC)
//! (`sys::fstat_cached`), and the server keeps room in its fd table for
//! every fd a message can carry (`fd_budget`).
//!
//! Semantics the client can rely on (see also ns.rs):
//! - Read-only grants behave like read-only mounts: every write (open for
//!   writing or O_TRUNC or creating, mkdir, unlink, rename, link, symlink,
//!   truncate, chmod, utimens, access W_OK, bind) fails with EROFS, after
//!   the checks the kernel makes first (ENOENT, EEXIST, EISDIR, ENOTDIR).
//!   As on a read-only mount, device nodes, fifos and sockets in them may be
//!   opened for writing (/dev/null). Virtual directories are read-only too.
//! - Only `exec` and `rw` grants hold programs: Exec and access(X_OK) of a
//!   regular file in an `ro` grant fail with EACCES (a noexec mount).
//! - Grants are separate file systems: rename and link between two grants
//!   fail with EXDEV; unlink/rmdir/rename of a grant's root with EBUSY.
//! - connect() needs an rw grant (EACCES otherwise): a socket is a channel
//!   to a process outside the session.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use preld_proto::{
    self as proto, Base, DirEntry, PathArg, Reply, ReplyData, Request, MAX_FRAME, MAX_PATH, OPEN_VIRTUAL_DIR,
};

use super::ns::{self, Existing, Namespace, Node, Obj};
use super::sys::{self, Errno, SysResult, CONFINED};

/// One client connection (one client thread).
pub struct Conn {
    pub id: u64,
    pub sock: OwnedFd,
    /// The virtual cwd (normalized absolute path).
    pub cwd: Vec<u8>,
    /// Its request is answered by an opener thread (`open_later`): the
    /// connection is not read until that reply is sent.
    busy: bool,
}

/// What a request produced.
enum Data {
    None,
    Hello(u32),
    Open(u32),
    Stat(Box<[u8; proto::STAT_SIZE]>),
    Bytes(Vec<u8>),
    Dir(Vec<(u64, u8, Vec<u8>)>),
    Exec(Vec<u8>, Vec<u8>),
}

struct Answer {
    result: SysResult<Data>,
    fd: Option<OwnedFd>,
    /// An open left to a thread (`open_later`), which sends the reply.
    later: Option<Later>,
}

impl Answer {
    fn data(d: Data) -> Answer {
        Answer { result: Ok(d), fd: None, later: None }
    }
    fn with_fd(d: Data, fd: OwnedFd) -> Answer {
        Answer { result: Ok(d), fd: Some(fd), later: None }
    }
    fn err(e: Errno) -> Answer {
        Answer { result: Err(e), fd: None, later: None }
    }
}

/// An open that may wait on a client (a FIFO: the pipe's lock, which a
/// client's splice() may hold even against O_NONBLOCK; a device: its
/// driver's open), to be made on a thread of its own (`open_later`).
struct Later {
    /// O_PATH fd of the object.
    fd: OwnedFd,
    flags: i32,
    mode: u32,
}

/// What `open` made.
enum Opened {
    Now(OwnedFd, u32),
    Later(Later),
}

/// Stack of the server's own threads (they make a few system calls).
/// Set-user-ID and set-group-ID bits: a session makes no file that runs
/// with its owner's authority outside it (a root session's setuid-root
/// file would make anyone who runs it root on the host). Creations drop
/// them, chmod with them is EPERM (the seccomp filter refuses the same
/// for fchmod and fchmodat made around the handler).
const SET_ID: u32 = (libc::S_ISUID | libc::S_ISGID) as u32;

const THREAD_STACK: usize = 256 << 10;

/// Threads of the server's own that take items from a queue and do with
/// each what may wait (close an fd, write a log line), so that the event
/// loop never does.
///
/// A thread starts on first use, and another when an item comes while
/// none is idle (all of them busy with an item that waits), up to `max`;
/// one that has been idle for BACKGROUND_IDLE ends, unless it is the last.
/// An item that waits for ever therefore holds up one thread, not the items
/// behind it (with `max` 1, items are done one after the other, in order).
/// The threads end when this is dropped, and never keep the process alive:
/// exit does not wait for them.
///
/// Threads do not survive fork(). In a fork child (the background server of
/// mod.rs) the first use starts new threads on a new queue, which takes over
/// the items that waited in the parent's (copies of the parent's fds, which
/// must be closed here too), unless a thread held the queue's lock at the
/// fork (only while taking an item): then they are left. So are the items
/// the parent's threads were working on at the fork.
struct Background<T: Send + 'static> {
    name: &'static str,
    work: fn(T),
    max: usize,
    shared: Arc<Shared<T>>,
    /// The process whose threads serve `shared` (0: none started yet).
    pid: u32,
}

struct Shared<T> {
    state: std::sync::Mutex<Queue<T>>,
    more: std::sync::Condvar,
    /// Items queued or being worked on.
    waiting: AtomicUsize,
}

struct Queue<T> {
    items: std::collections::VecDeque<T>,
    threads: usize,
    idle: usize,
    /// No more items: the threads end once the queue is empty.
    closed: bool,
}

impl<T> Shared<T> {
    fn new(items: std::collections::VecDeque<T>) -> Arc<Shared<T>> {
        let waiting = AtomicUsize::new(items.len());
        let q = Queue { items, threads: 0, idle: 0, closed: false };
        Arc::new(Shared { state: std::sync::Mutex::new(q), more: std::sync::Condvar::new(), waiting })
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long an extra background thread stays without work.
const BACKGROUND_IDLE: Duration = Duration::from_secs(2);

impl<T: Send + 'static> Background<T> {
    fn new(name: &'static str, max: usize, work: fn(T)) -> Self {
        Background { name, work, max, shared: Shared::new(Default::default()), pid: 0 }
    }

    fn waiting(&self) -> usize {
        self.shared.waiting.load(Ordering::Relaxed)
    }

    /// True if this process's threads serve the queue (not a fork child's
    /// copy of the parent's).
    fn running(&self) -> bool {
        self.pid == std::process::id()
    }

    /// Hands `item` to a thread; gives it back if none could be started
    /// (the user's process limit reached).
    fn give(&mut self, item: T) -> Result<(), T> {
        let pid = std::process::id();
        if self.pid != pid {
            if self.pid != 0 {
                // A fork child: take over what waited in the parent's queue.
                let parents = std::mem::replace(&mut self.shared, Shared::new(Default::default()));
                let items = match parents.state.try_lock() {
                    Ok(mut q) => std::mem::take(&mut q.items),
                    Err(std::sync::TryLockError::Poisoned(e)) => std::mem::take(&mut e.into_inner().items),
                    Err(std::sync::TryLockError::WouldBlock) => Default::default(),
                };
                self.shared = Shared::new(items);
                // Its count includes the parent's threads, which are not here.
                std::mem::forget(parents);
            }
            self.pid = pid;
        }
        let mut q = self.shared.lock();
        if q.threads == 0 || (q.idle == 0 && q.threads < self.max) {
            if self.spawn() {
                q.threads += 1;
            } else if q.threads == 0 {
                return Err(item);
            }
        }
        q.items.push_back(item);
        self.shared.waiting.fetch_add(1, Ordering::Relaxed);
        drop(q);
        self.shared.more.notify_one();
        Ok(())
    }

    fn spawn(&self) -> bool {
        let (shared, work) = (self.shared.clone(), self.work);
        let thread = move || {
            let mut q = shared.lock();
            loop {
                if let Some(item) = q.items.pop_front() {
                    drop(q);
                    work(item);
                    shared.waiting.fetch_sub(1, Ordering::Relaxed);
                    q = shared.lock();
                    continue;
                }
                if q.closed {
                    q.threads -= 1;
                    return;
                }
                q.idle += 1;
                let (g, t) = shared.more.wait_timeout(q, BACKGROUND_IDLE).unwrap_or_else(|e| e.into_inner());
                q = g;
                q.idle -= 1;
                if t.timed_out() && q.items.is_empty() && q.threads > 1 {
                    q.threads -= 1;
                    return;
                }
            }
        };
        std::thread::Builder::new().name(self.name.into()).stack_size(THREAD_STACK).spawn(thread).is_ok()
    }
}

impl<T: Send + 'static> Drop for Background<T> {
    fn drop(&mut self) {
        // (A fork child's copy of the parent's queue is not touched.)
        if self.running() {
            self.shared.lock().closed = true;
            self.shared.more.notify_all();
        }
    }
}

/// Closes the fds whose close() may wait, on threads of its own.
///
/// A close runs whatever the object does when it goes away, and a client
/// chooses the object: a TCP socket with SO_LINGER and data it cannot send
/// waits up to l_linger seconds (issue 8), a unix socket first releases
/// the messages and fds still queued on it, a FIFO waits for the pipe's
/// lock (a client's splice() may hold it), a file of a network or FUSE file
/// system for its server. Such fds go to these threads (`Server::release`
/// says which), CLOSERS at most: a client needs that many objects whose
/// close waits to make the next closes wait their turn. The fds handed
/// over and not yet closed still take room in the fd table
/// (`Server::fd_budget`); if no thread can be started they stay open,
/// counted, and the next close tries again.
struct Closer {
    thread: Background<OwnedFd>,
    stash: Vec<OwnedFd>,
}

impl Closer {
    fn new() -> Closer {
        Closer { thread: Background::new("preld-pola-close", CLOSERS, drop), stash: Vec::new() }
    }

    /// fds given to `close` and still open.
    fn waiting(&self) -> usize {
        self.thread.waiting() + self.stash.len()
    }

    /// Closes `fd` on a closer thread.
    fn close(&mut self, fd: OwnedFd) {
        self.stash.push(fd);
        while let Some(fd) = self.stash.pop() {
            if let Err(fd) = self.thread.give(fd) {
                self.stash.push(fd);
                return;
            }
        }
    }
}

/// Most closer threads.
const CLOSERS: usize = 64;

/// The default log: a line on stderr, written without ever waiting there.
///
/// The program shares the launcher's stderr. A terminal is written through
/// an open file description of the server's own with O_NONBLOCK (opened
/// anew through /proc/self/fd/2: O_NONBLOCK on fd 2 would change the
/// program's stderr too), so a terminal the program stopped (tcflow TCOOFF)
/// refuses the line instead of holding it; a socket with MSG_DONTWAIT; a
/// regular file as it is. A pipe cannot be written without waiting: its
/// write takes the pipe's lock even with O_NONBLOCK, and a client's splice()
/// into it holds that lock for as long as the splice waits; the lines go
/// to a thread (`Background`, one: in order), LOG_QUEUE of them at most
/// waiting. What cannot be written at once is left out. Dropping the
/// logger gives its thread up to LOG_FLUSH to write what waits (the end of
/// the session).
struct Logger {
    /// Where it writes (2, or a test's fd).
    fd: i32,
    out: LogOut,
}

enum LogOut {
    /// `fd` as it is (a regular file).
    Plain,
    /// `fd`, a socket: send with MSG_DONTWAIT.
    Socket,
    /// Our own O_NONBLOCK open file description of it (a terminal or
    /// other device).
    Own(OwnedFd),
    /// A thread that writes to `fd` (a pipe or FIFO).
    Thread(Background<(i32, Vec<u8>)>),
    /// Nothing open there.
    Nowhere,
}

/// Most log lines waiting for the log thread; more are left out.
const LOG_QUEUE: usize = 256;
/// How long dropping the log waits for the lines still queued.
const LOG_FLUSH: Duration = Duration::from_millis(200);

/// write(2) of all of `b` to `fd` (on the log thread: it may wait).
fn write_all_to((fd, b): (i32, Vec<u8>)) {
    let mut b = &b[..];
    while !b.is_empty() {
        // SAFETY: a valid buffer.
        let n = unsafe { libc::write(fd, b.as_ptr().cast(), b.len()) };
        if n < 0 && sys::errno() == libc::EINTR {
            continue;
        }
        if n <= 0 {
            return;
        }
        b = &b[n as usize..];
    }
}

impl Logger {
    /// A logger for this process's stderr, as it is now.
    fn stderr() -> Logger {
        Logger::to(2)
    }

    /// A logger writing to `fd`, which stays open as long as the logger.
    fn to(fd: i32) -> Logger {
        let thread = || LogOut::Thread(Background::new("preld-pola-log", 1, write_all_to));
        // SAFETY: a plain fcntl on an fd that may be closed.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Logger { fd, out: LogOut::Nowhere };
        }
        // SAFETY: fd is open (above), and stays so while we look at it.
        let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
        let out = match sys::fstat_cached(bfd, libc::STATX_TYPE).map(|st| sys::file_type(&st)) {
            Err(_) => LogOut::Nowhere,
            Ok(libc::S_IFREG) => LogOut::Plain,
            Ok(libc::S_IFSOCK) => LogOut::Socket,
            Ok(libc::S_IFIFO) => thread(),
            Ok(_) => match sys::reopen(bfd, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC, 0) {
                Ok(own) => LogOut::Own(own),
                Err(_) => thread(),
            },
        };
        Logger { fd, out }
    }

    /// Writes `line` and a newline, or leaves it out.
    fn line(&mut self, line: &str) {
        let mut b = Vec::with_capacity(line.len() + 1);
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
        let fd = self.fd;
        // SAFETY (both): a valid buffer; a failure (EAGAIN) leaves the line out.
        match &mut self.out {
            LogOut::Plain => unsafe {
                libc::write(fd, b.as_ptr().cast(), b.len());
            },
            LogOut::Socket => unsafe {
                libc::send(fd, b.as_ptr().cast(), b.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL);
            },
            LogOut::Own(own) => unsafe {
                libc::write(own.as_raw_fd(), b.as_ptr().cast(), b.len());
            },
            LogOut::Thread(t) => {
                if t.waiting() < LOG_QUEUE {
                    let _ = t.give((fd, b));
                }
            }
            LogOut::Nowhere => {}
        }
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        if let LogOut::Thread(t) = &self.out {
            let until = Instant::now() + LOG_FLUSH;
            while t.waiting() > 0 && t.running() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

fn unit(r: SysResult<()>) -> Answer {
    match r {
        Ok(()) => Answer::data(Data::None),
        Err(e) => Answer::err(e),
    }
}

pub struct Server {
    pub ns: Namespace,
    pub conns: Vec<Conn>,
    next_id: u64,
    /// The session may use TCP (reported by Hello).
    pub net: bool,
    /// Directories handed out (as fds or cwds): (st_dev, st_ino) → the
    /// virtual path they were reached by. A directory fd attached to a
    /// request stands for that path.
    dirs: HashMap<(u64, u64), Vec<u8>>,
    /// Where log lines go (stderr in `preld pola`, through a `Logger`).
    pub log: Box<dyn FnMut(&str)>,
    buf: Vec<u8>,
    out: Vec<u8>,
    /// Until when `round` polls without sleeping: a program that just made
    /// a request is likely to make the next one within microseconds, and
    /// waking a sleeping process on another CPU costs more than the
    /// request itself (SPIN_AFTER_REQUEST).
    spin_until: Option<Instant>,
    /// Closes the fds whose close may wait on a client.
    closer: Closer,
    /// How many fds connections, the closer's backlog and the opener
    /// threads may take (3 each) while connections are still read: the fd
    /// table must have room for every fd one message may carry, or the
    /// kernel releases those that do not fit inside recvmsg, in the event
    /// loop, where the release of a client's object may wait. Past it, no
    /// connection is read (Connect fails with EMFILE) until the closer has
    /// made room: RLIMIT_NOFILE less the fds open at the start and
    /// FD_RESERVE.
    fd_budget: usize,
    /// Connections waiting for an opener thread's reply.
    busy: usize,
    /// The opener threads' reports (`open_later`): a pipe, made on first
    /// use; the read end is polled.
    done: Option<(OwnedFd, Arc<OwnedFd>)>,
    /// The session's own terminal (pola/tty.rs), which /dev/tty opens in
    /// the session; without one, /dev/tty is ENXIO (no controlling
    /// terminal), never the user's.
    tty: Option<std::ffi::CString>,
}

/// fds kept free beyond `Server::fd_budget`: what one message may carry,
/// and the server's own use during a request (a quarter of the table at
/// most, under a low RLIMIT_NOFILE).
const FD_RESERVE: usize = sys::RECV_FDS + 64;

/// While connections cannot be read for want of fds, poll wakes up this
/// often to see whether the closer has made room.
const PAUSED_POLL_MS: i32 = 10;

/// How long the server keeps polling without sleeping after a request.
/// Measured with a SOCK_SEQPACKET ping-pong passing an fd, 2 CPUs: 24-32
/// us a round trip when both sides sleep, 11.5 us when both poll with
/// sched_yield (which keeps a single shared CPU usable: 17 us there).
const SPIN_AFTER_REQUEST: Duration = Duration::from_micros(50);

const O_ALLOWED: i32 = libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_SYNC
    | libc::O_DIRECT
    | libc::O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_TMPFILE
    | libc::O_ASYNC;

impl Server {
    pub fn new(ns: Namespace, net: bool) -> Server {
        let limit = sys::fd_limit();
        let fd_budget = limit.saturating_sub(sys::open_fds().unwrap_or(64) + FD_RESERVE.min(limit / 4));
        let mut logger = Logger::stderr();
        let mut s = Server {
            ns,
            conns: Vec::new(),
            next_id: 1,
            net,
            dirs: HashMap::new(),
            log: Box::new(move |line| logger.line(line)),
            buf: vec![0; MAX_FRAME],
            out: vec![0; MAX_FRAME],
            spin_until: None,
            closer: Closer::new(),
            fd_budget,
            busy: 0,
            done: None,
            tty: None,
        };
        for i in 0..s.ns.grants.len() {
            let g = &s.ns.grants[i];
            if g.is_dir {
                s.dirs.insert((g.st.st_dev, g.st.st_ino), g.vpath.clone());
            }
        }
        s
    }

    /// The session's terminal (a pty's path) that /dev/tty stands for.
    pub fn set_tty(&mut self, path: Option<std::ffi::CString>) {
        self.tty = path;
    }

    /// Adds a connection with virtual cwd `cwd`; returns its id.
    pub fn add(&mut self, sock: OwnedFd, cwd: Vec<u8>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.conns.push(Conn { id, sock, cwd, busy: false });
        id
    }

    /// The fds the server may still take (`fd_budget`).
    fn fds_left(&self) -> usize {
        self.fd_budget.saturating_sub(self.conns.len() + self.closer.waiting() + 3 * self.busy)
    }

    fn logf(&mut self, id: u64, why: &str) {
        (self.log)(&format!("preld pola: client {id}: {why}"));
    }

    /// One round: waits up to `timeout_ms` (-1: for ever) for a connection
    /// or `extra` to be ready, serves one message of each ready connection,
    /// drops the closed ones. Returns true if `extra` is ready.
    pub fn round(&mut self, extra: Option<BorrowedFd<'_>>, timeout_ms: i32) -> std::io::Result<bool> {
        // A connection is read only with room for a message's fds (poll
        // skips negative fds), and not while an opener thread answers it:
        // then only its hang-up is seen (POLLHUP comes without asking).
        let room = self.fds_left() > 0;
        let mut pfds: Vec<libc::pollfd> = self
            .conns
            .iter()
            .map(|c| match (c.busy, room) {
                (true, _) => libc::pollfd { fd: c.sock.as_raw_fd(), events: 0, revents: 0 },
                (false, true) => libc::pollfd { fd: c.sock.as_raw_fd(), events: libc::POLLIN, revents: 0 },
                (false, false) => libc::pollfd { fd: -1, events: 0, revents: 0 },
            })
            .collect();
        let nconns = self.conns.len();
        let done_fd = self.done.as_ref().map_or(-1, |d| d.0.as_raw_fd());
        pfds.push(libc::pollfd { fd: done_fd, events: libc::POLLIN, revents: 0 });
        if let Some(e) = extra {
            pfds.push(libc::pollfd { fd: e.as_raw_fd(), events: libc::POLLIN, revents: 0 });
        }
        let timeout_ms = match (room, timeout_ms) {
            (true, t) => t,
            (false, t) if t < 0 => PAUSED_POLL_MS,
            (false, t) => t.min(PAUSED_POLL_MS),
        };
        let poll = |pfds: &mut Vec<libc::pollfd>, t: i32| {
            // SAFETY: pfds is a valid array of pollfd.
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, t) }
        };
        let mut n = 0;
        if let Some(until) = self.spin_until {
            while n == 0 && Instant::now() < until {
                n = poll(&mut pfds, 0);
                if n == 0 {
                    // SAFETY: no arguments.
                    unsafe { libc::sched_yield() };
                }
            }
        }
        if n == 0 {
            self.spin_until = None;
            n = poll(&mut pfds, timeout_ms);
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(e);
        }
        let extra_ready = extra.is_some() && pfds.last().unwrap().revents != 0;
        let mut dead = Vec::new();
        if pfds[nconns].revents != 0 {
            dead = self.opened_later();
        }
        for i in 0..nconns {
            if pfds[i].revents == 0 || dead.contains(&i) {
                continue;
            }
            if self.conns[i].busy {
                // Gone while its open waits: the opener's report will find
                // no connection.
                dead.push(i);
                continue;
            }
            if self.fds_left() == 0 {
                // The next round waits for room.
                break;
            }
            self.spin_until = Some(Instant::now() + SPIN_AFTER_REQUEST);
            if let Err(why) = self.serve_one(i) {
                if let Some(why) = why {
                    let id = self.conns[i].id;
                    self.logf(id, &why);
                }
                dead.push(i);
            }
        }
        dead.sort_unstable();
        for i in dead.into_iter().rev() {
            let c = self.conns.remove(i);
            if c.busy {
                self.busy -= 1;
            }
            // Messages may still be queued on it, fds with them: they are
            // released when its socket is closed.
            self.closer.close(c.sock);
        }
        Ok(extra_ready)
    }

    /// Reads the opener threads' reports: their connections are read again,
    /// or ended (the reply could not be sent). Returns the ended ones.
    fn opened_later(&mut self) -> Vec<usize> {
        let mut dead = Vec::new();
        let Some((rd, _)) = &self.done else { return dead };
        let mut buf = [0u8; 16 * 64];
        // SAFETY: a valid buffer; the read end is non-blocking. Writes of
        // 16 bytes to a pipe are whole, so reads come in whole records.
        let n = unsafe { libc::read(rd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        for rec in buf[..n.max(0) as usize].chunks_exact(16) {
            let id = u64::from_ne_bytes(rec[..8].try_into().unwrap());
            let err = i64::from_ne_bytes(rec[8..].try_into().unwrap()) as i32;
            let Some(i) = self.conns.iter().position(|c| c.id == id && c.busy) else { continue };
            self.conns[i].busy = false;
            self.busy -= 1;
            match err {
                0 => continue,
                libc::EAGAIN => self.logf(id, "does not read its replies"),
                libc::EPIPE | libc::ECONNRESET => {}
                e => self.logf(id, &format!("send: {}", std::io::Error::from_raw_os_error(e))),
            }
            dead.push(i);
        }
        dead
    }

    /// Serves every connection until none is left.
    pub fn run(&mut self) -> std::io::Result<()> {
        while !self.conns.is_empty() {
            self.round(None, -1)?;
        }
        Ok(())
    }

    /// Reads and answers one message of connection `i`. Err(Some(reason)):
    /// end it with a log line; Err(None): it closed.
    fn serve_one(&mut self, i: usize) -> Result<(), Option<String>> {
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.serve_one_in(i, &mut buf);
        self.buf = buf;
        r
    }

    fn serve_one_in(&mut self, i: usize, buf: &mut [u8]) -> Result<(), Option<String>> {
        let mut m = match sys::recv_msg(self.conns[i].sock.as_fd(), buf) {
            Ok(m) => m,
            Err(libc::EAGAIN) => return Ok(()),
            Err(libc::ECONNRESET) => return Err(None),
            Err(e) => return Err(Some(format!("receive: {}", std::io::Error::from_raw_os_error(e)))),
        };
        // The client's fds, whatever the message is worth, are let go of
        // by `release` once it is answered.
        let fds = std::mem::take(&mut m.fds);
        let r = self.answer(i, &m, &fds, buf);
        for fd in fds {
            self.release(fd, Came::FromClient);
        }
        r
    }

    /// Checks and answers a message of connection `i` received with `fds`.
    fn answer(&mut self, i: usize, m: &sys::Received, fds: &[OwnedFd], buf: &[u8]) -> Result<(), Option<String>> {
        if m.len == 0 && fds.is_empty() && !m.truncated {
            return Err(None);
        }
        if m.truncated {
            return Err(Some(format!("message longer than {MAX_FRAME} bytes")));
        }
        if m.ctrunc {
            return Err(Some("too many fds or too much control data attached".into()));
        }
        if m.foreign {
            return Err(Some("control message other than SCM_RIGHTS".into()));
        }
        let (id, req) = proto::decode_request(&buf[..m.len]).map_err(|e| Some(e.to_string()))?;
        if fds.len() != req.fds_needed() {
            return Err(Some(format!(
                "{} fds attached to a request that names {}",
                fds.len(),
                req.fds_needed()
            )));
        }
        let op = req.op();
        let mut ans = self.handle(i, &req, fds);
        if let Some(later) = ans.later.take() {
            match self.open_later(i, op, id, later) {
                Ok(()) => return Ok(()),
                Err(e) => ans = Answer::err(e),
            }
        }
        let reply_fd = ans.fd;
        let mut entries: Vec<DirEntry<'_>> = Vec::new();
        let reply = match &ans.result {
            Err(e) => Reply::err(*e),
            Ok(d) => Reply::ok(match d {
                Data::None => ReplyData::None,
                Data::Hello(f) => ReplyData::Hello { flags: *f },
                Data::Open(info) => ReplyData::Open { info: *info },
                Data::Stat(s) => ReplyData::Stat(s),
                Data::Bytes(b) => ReplyData::Bytes(b),
                Data::Dir(list) => {
                    entries = list.iter().map(|(ino, t, n)| DirEntry { ino: *ino, d_type: *t, name: n }).collect();
                    ReplyData::None
                }
                Data::Exec(v, h) => ReplyData::Exec { vpath: v, host: h },
            }),
        };
        let data = &entries[..];
        let mut out = std::mem::take(&mut self.out);
        let n = proto::encode_reply_entries(op, id, &reply, data, &mut out);
        let r = match n {
            Ok(n) => {
                let fds: Vec<BorrowedFd<'_>> = reply_fd.iter().map(|f| f.as_fd()).collect();
                match sys::send_msg(self.conns[i].sock.as_fd(), &out[..n], &fds) {
                    Ok(()) => Ok(()),
                    Err(libc::EAGAIN) => Err(Some("does not read its replies".into())),
                    Err(libc::EPIPE | libc::ECONNRESET) => Err(None),
                    Err(e) => Err(Some(format!("send: {}", std::io::Error::from_raw_os_error(e)))),
                }
            }
            // Only a reply too large for a frame can get here (a huge
            // virtual directory): the client gets EOVERFLOW instead.
            Err(_) => {
                let n = proto::encode_reply(op, id, &Reply::err(libc::EOVERFLOW), &mut out).unwrap();
                sys::send_msg(self.conns[i].sock.as_fd(), &out[..n], &[]).map_err(|_| None)
            }
        };
        self.out = out;
        match reply_fd {
            // The client's end of a new connection is closed now: while the
            // server holds a copy, the connection does not end when the
            // client closes its own. Its close cannot wait: nothing can be
            // queued on it yet (only the server's end sends to it, and that
            // connection has not been served).
            Some(fd) if op == proto::Op::Connect => drop(fd),
            Some(fd) => self.release(fd, Came::ToClient),
            None => {}
        }
        r
    }

    /// Lets go of an fd a client has had a hand on: closes it here only if
    /// its close cannot wait on anything a client controls, else on the
    /// closer's thread (`Closer`). Here: a directory the server handed out,
    /// sent back as the base of a path (the common case), and of the fds
    /// the server sent, regular files, directories, O_PATH fds of symlinks
    /// and the memory devices (/dev/null, zero, full, random, urandom: major
    /// 1). The closer's: the rest, sockets (SO_LINGER; a unix socket
    /// releases what is queued on it), FIFOs (the pipe's lock), terminals
    /// and other devices, anything else a client sends.
    fn release(&mut self, fd: OwnedFd, came: Came) {
        let here = match sys::fstat_cached(fd.as_fd(), sys::STATX_CHECK) {
            Err(_) => false,
            Ok(st) => match (came, sys::file_type(&st)) {
                (Came::FromClient, libc::S_IFDIR) => self.dirs.contains_key(&(st.st_dev, st.st_ino)),
                (Came::FromClient, _) => false,
                (Came::ToClient, libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK) => true,
                (Came::ToClient, _) => memory_device(&st),
            },
        };
        if !here {
            self.closer.close(fd);
        }
    }

    /// Makes the open of `later` on a thread of its own, which sends the
    /// reply on connection `i` (through a dup of its socket) and reports to
    /// the event loop through the `done` pipe: connection id and 0, or the
    /// send's errno. Connection `i` is not read meanwhile, so its replies
    /// stay in order; the others are served. An open that waits for ever
    /// (a client holds the FIFO's lock) holds that connection and thread
    /// only. Err: no thread could be started.
    fn open_later(&mut self, i: usize, op: proto::Op, id: u32, later: Later) -> SysResult<()> {
        if self.done.is_none() {
            let (rd, wr) = sys::pipe()?;
            self.done = Some((rd, Arc::new(wr)));
        }
        let done = self.done.as_ref().unwrap().1.clone();
        let sock = self.conns[i].sock.try_clone().map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))?;
        let conn = self.conns[i].id;
        let opener = move || {
            let opened = Server::reopen(later.fd.as_fd(), later.flags, later.mode);
            let reply = match &opened {
                Ok(_) => Reply::ok(ReplyData::Open { info: 0 }),
                Err(e) => Reply::err(*e),
            };
            let mut out = [0u8; 64];
            let n = proto::encode_reply(op, id, &reply, &mut out).unwrap();
            let fds: Vec<BorrowedFd<'_>> = opened.iter().map(|f| f.as_fd()).collect();
            let err = sys::send_msg(sock.as_fd(), &out[..n], &fds).err().unwrap_or(0);
            let mut rec = [0u8; 16];
            rec[..8].copy_from_slice(&conn.to_ne_bytes());
            rec[8..].copy_from_slice(&(err as i64).to_ne_bytes());
            // SAFETY: 16 bytes to our pipe (whole: less than PIPE_BUF).
            unsafe { libc::write(done.as_raw_fd(), rec.as_ptr().cast(), rec.len()) };
            // The FIFO or device and the socket's dup are closed here, on
            // this thread, whatever their close waits for.
        };
        std::thread::Builder::new()
            .name("preld-pola-open".into())
            .stack_size(THREAD_STACK)
            .spawn(opener)
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EAGAIN))?;
        self.conns[i].busy = true;
        self.busy += 1;
        Ok(())
    }

    /// The virtual directory a relative path of `p` starts from.
    fn start(&self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Vec<u8>> {
        if p.path.first() == Some(&b'/') {
            return Ok(b"/".to_vec());
        }
        match p.base {
            Base::Cwd => Ok(self.conns[i].cwd.clone()),
            Base::Fd(k) => self.dir_of_fd(fds[k as usize].as_fd()),
        }
    }

    /// The virtual path of a directory fd the server handed out. A client's
    /// fd, which may be anything: looked at with fstat_cached only (no wait
    /// on it), ENOTDIR if it is no directory, as the kernel's *at() calls.
    fn dir_of_fd(&self, fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
        let st = sys::fstat_cached(fd, sys::STATX_CHECK)?;
        if sys::file_type(&st) != libc::S_IFDIR {
            return Err(libc::ENOTDIR);
        }
        self.dirs.get(&(st.st_dev, st.st_ino)).cloned().ok_or(libc::ENOENT)
    }

    fn remember_dir(&mut self, st: &libc::stat, vpath: &[u8]) {
        if sys::file_type(st) == libc::S_IFDIR {
            self.dirs.insert((st.st_dev, st.st_ino), vpath.to_vec());
        }
    }

    /// Resolves a path argument. An empty path with `empty_ok` names the
    /// base itself (AT_EMPTY_PATH, fchdir).
    fn resolve(&self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], follow: bool, empty_ok: bool) -> SysResult<Node> {
        let start = self.start(i, p, fds)?;
        if p.path.is_empty() {
            if !empty_ok {
                return Err(libc::ENOENT);
            }
            return self.ns.resolve(&start, b".", true);
        }
        self.ns.resolve(&start, p.path, follow)
    }

    fn handle(&mut self, i: usize, req: &Request<'_>, fds: &[OwnedFd]) -> Answer {
        match *req {
            Request::Hello => Answer::data(Data::Hello(if self.net { proto::HELLO_NET } else { 0 })),
            // Two fds more, one of them the server's while the connection lasts.
            Request::Connect if self.fds_left() < 2 => Answer::err(libc::EMFILE),
            Request::Connect => match sys::seqpacket_pair() {
                Ok((ours, theirs)) => {
                    let cwd = self.conns[i].cwd.clone();
                    self.add(ours, cwd);
                    Answer::with_fd(Data::None, theirs)
                }
                Err(e) => Answer::err(e),
            },
            Request::Open { flags, mode, path } => match self.open(i, &path, fds, flags as i32, mode) {
                Ok(Opened::Now(fd, info)) => Answer::with_fd(Data::Open(info), fd),
                Ok(Opened::Later(later)) => Answer { result: Ok(Data::None), fd: None, later: Some(later) },
                Err(e) => Answer::err(e),
            },
            Request::Stat { flags, path } => match self.stat(i, &path, fds, flags as i32) {
                Ok(st) => Answer::data(Data::Stat(Box::new(sys::stat_bytes(&st)))),
                Err(e) => Answer::err(e),
            },
            Request::Access { mode, flags, path } => unit(self.access(i, &path, fds, mode as i32, flags as i32)),
            Request::Readlink { path } => match self.readlink(i, &path, fds) {
                Ok(b) => Answer::data(Data::Bytes(b)),
                Err(e) => Answer::err(e),
            },
            Request::Mkdir { mode, path } => unit(self.mkdir(i, &path, fds, mode)),
            Request::Unlink { flags, path } => unit(self.unlink(i, &path, fds, flags as i32)),
            Request::Rename { flags, old, new } => unit(self.rename(i, &old, &new, fds, flags)),
            Request::Link { flags, old, new } => unit(self.link(i, &old, &new, fds, flags as i32)),
            Request::Symlink { target, path } => unit(self.symlink(i, target, &path, fds)),
            Request::Truncate { length, path } => unit(self.truncate(i, &path, fds, length)),
            Request::Chmod { mode, flags, path } => unit(self.chmod(i, &path, fds, mode, flags as i32)),
            Request::Utimens { times, flags, path } => unit(self.utimens(i, &path, fds, &times, flags as i32)),
            Request::Chdir { path } => unit(self.chdir(i, &path, fds)),
            Request::Getcwd => Answer::data(Data::Bytes(self.conns[i].cwd.clone())),
            Request::ReadDir { path } => match self.readdir(i, &path, fds) {
                Ok(list) => Answer::data(Data::Dir(list)),
                Err(e) => Answer::err(e),
            },
            Request::Exec { path } => match self.exec(i, &path, fds) {
                Ok((fd, v, h)) => Answer::with_fd(Data::Exec(v, h), fd),
                Err(e) => Answer::err(e),
            },
            Request::ConnectUnix { ty, path } => match self.unix_socket(i, &path, fds, ty as i32, false) {
                Ok(fd) => Answer::with_fd(Data::None, fd),
                Err(e) => Answer::err(e),
            },
            Request::BindUnix { ty, path } => match self.unix_socket(i, &path, fds, ty as i32, true) {
                Ok(fd) => Answer::with_fd(Data::None, fd),
                Err(e) => Answer::err(e),
            },
        }
    }

    /// Opens the object of `obj` anew with `flags` (never blocking here:
    /// O_NONBLOCK is added for the open and taken away after unless asked).
    fn reopen(fd: BorrowedFd<'_>, flags: i32, mode: u32) -> SysResult<OwnedFd> {
        let want_nb = flags & libc::O_NONBLOCK != 0;
        let f = (flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW))
            | libc::O_CLOEXEC
            | libc::O_NOCTTY
            | libc::O_NONBLOCK;
        let new = sys::reopen(fd, f, mode)?;
        if !want_nb && flags & libc::O_PATH == 0 {
            sys::clear_nonblock(new.as_fd())?;
        }
        Ok(new)
    }

    fn open(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32, mode: u32) -> SysResult<Opened> {
        if flags & !O_ALLOWED != 0 {
            return Err(libc::EINVAL);
        }
        let mode = mode & 0o7777 & !SET_ID;
        let tmpfile = flags & libc::O_TMPFILE == libc::O_TMPFILE;
        let creat = flags & libc::O_CREAT != 0;
        let excl = creat && flags & libc::O_EXCL != 0;
        let path_only = flags & libc::O_PATH != 0;
        let acc = flags & libc::O_ACCMODE;
        let writes = !path_only && (acc != libc::O_RDONLY || flags & libc::O_TRUNC != 0);
        let follow = flags & libc::O_NOFOLLOW == 0 && !excl;
        match self.resolve(i, p, fds, follow, false)? {
            Node::Virtual(vpath) => {
                if excl {
                    return Err(libc::EEXIST);
                }
                if tmpfile {
                    return Err(libc::EROFS);
                }
                if writes || creat {
                    return Err(libc::EISDIR);
                }
                let backing = self.ns.backing(&vpath)?;
                let f = flags & (libc::O_PATH | libc::O_DIRECTORY | libc::O_NONBLOCK | libc::O_NOATIME | libc::O_LARGEFILE);
                let fd = Self::reopen(backing, f | libc::O_DIRECTORY, 0)?;
                let st = sys::fstat(fd.as_fd())?;
                self.remember_dir(&st, &vpath);
                Ok(Opened::Now(fd, OPEN_VIRTUAL_DIR))
            }
            Node::MissingVirtual => Err(if creat { libc::EROFS } else { libc::ENOENT }),
            Node::Missing { grant, parent, name, trailing_slash, .. } => {
                if !creat {
                    return Err(libc::ENOENT);
                }
                if trailing_slash {
                    return Err(libc::EISDIR);
                }
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                let want_nb = flags & libc::O_NONBLOCK != 0;
                let f = flags | libc::O_CLOEXEC | libc::O_NOCTTY | libc::O_NONBLOCK;
                let fd = sys::openat2(parent.as_fd(), &name, f, mode, CONFINED)?;
                if !want_nb {
                    sys::clear_nonblock(fd.as_fd())?;
                }
                Ok(Opened::Now(fd, 0))
            }
            Node::Existing(obj) => {
                if excl {
                    return Err(libc::EEXIST);
                }
                let t = sys::file_type(&obj.st);
                let writable = self.ns.grants[obj.grant].mode.writable();
                if t == libc::S_IFLNK {
                    // Only reached with O_NOFOLLOW.
                    return if path_only { Self::reopen(obj.fd.as_fd(), libc::O_PATH, 0).map(|f| Opened::Now(f, 0)) } else { Err(libc::ELOOP) };
                }
                if tmpfile {
                    if t != libc::S_IFDIR {
                        return Err(libc::ENOTDIR);
                    }
                    if !writable {
                        return Err(libc::EROFS);
                    }
                    let fd = sys::reopen(obj.fd.as_fd(), flags | libc::O_CLOEXEC, mode)?;
                    return Ok(Opened::Now(fd, 0));
                }
                if flags & libc::O_DIRECTORY != 0 && t != libc::S_IFDIR {
                    return Err(libc::ENOTDIR);
                }
                if t == libc::S_IFDIR && (writes || (creat && !path_only)) {
                    return Err(libc::EISDIR);
                }
                if writes && !writable && t == libc::S_IFREG {
                    return Err(libc::EROFS);
                }
                if !path_only && t == libc::S_IFCHR && obj.st.st_rdev == libc::makedev(5, 0) {
                    // /dev/tty: the session's controlling terminal, not the
                    // launcher's (the user's). Opened on a thread as any
                    // terminal (`open_may_wait`): its open takes the tty's
                    // lock, which a client's ioctl on it may hold (TIOCSETD
                    // waits up to 5 s for the line discipline holding it).
                    let Some(tty) = &self.tty else { return Err(libc::ENXIO) };
                    let f = flags & (libc::O_ACCMODE | libc::O_NONBLOCK | libc::O_APPEND);
                    // SAFETY: a NUL-terminated path; a new fd or an error.
                    let fd = unsafe { libc::open(tty.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
                    if fd < 0 {
                        return Err(sys::errno());
                    }
                    // SAFETY: a new fd of ours.
                    let fd = unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) };
                    return Ok(Opened::Later(Later { fd, flags: f, mode: 0 }));
                }
                if !path_only && open_may_wait(&obj.st) {
                    let fd = obj.fd.try_clone().map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))?;
                    return Ok(Opened::Later(Later { fd, flags, mode }));
                }
                let fd = Self::reopen(obj.fd.as_fd(), flags, mode)?;
                if t == libc::S_IFDIR {
                    self.remember_dir(&obj.st, &obj.vpath);
                }
                Ok(Opened::Now(fd, 0))
            }
        }
    }

    fn stat(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<libc::stat> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) != 0 {
            return Err(libc::EINVAL);
        }
        let empty = flags & libc::AT_EMPTY_PATH != 0;
        if p.path.is_empty() && empty {
            if let Base::Fd(k) = p.base {
                // A client's fd: what the kernel has at hand (fstat could
                // wait for a network or FUSE file system's server).
                return sys::fstat_cached(fds[k as usize].as_fd(), libc::STATX_BASIC_STATS);
            }
        }
        let node = self.resolve(i, p, fds, flags & libc::AT_SYMLINK_NOFOLLOW == 0, empty)?;
        match node.existing()? {
            Existing::Virtual(v) => sys::fstat(self.ns.backing(&v)?),
            Existing::Real(o) => Ok(o.st),
        }
    }

    fn access(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: i32, flags: i32) -> SysResult<()> {
        if mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0
            || flags & !(libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0
        {
            return Err(libc::EINVAL);
        }
        let node = self.resolve(
            i,
            p,
            fds,
            flags & libc::AT_SYMLINK_NOFOLLOW == 0,
            flags & libc::AT_EMPTY_PATH != 0,
        )?;
        match node.existing()? {
            Existing::Virtual(_) => {
                if mode & libc::W_OK != 0 {
                    Err(libc::EROFS)
                } else {
                    Ok(())
                }
            }
            Existing::Real(o) => {
                sys::access_fd(o.fd.as_fd(), mode, flags & libc::AT_EACCESS)?;
                let t = sys::file_type(&o.st);
                let gm = self.ns.grants[o.grant].mode;
                if mode & libc::W_OK != 0 && !gm.writable() && matches!(t, libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK) {
                    return Err(libc::EROFS);
                }
                if mode & libc::X_OK != 0 && !gm.executable() && t == libc::S_IFREG {
                    return Err(libc::EACCES);
                }
                Ok(())
            }
        }
    }

    fn readlink(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Vec<u8>> {
        match self.resolve(i, p, fds, false, false)?.existing()? {
            Existing::Real(o) if sys::file_type(&o.st) == libc::S_IFLNK => {
                let b = sys::readlink_fd(o.fd.as_fd())?;
                if b.len() > MAX_PATH {
                    return Err(libc::ENAMETOOLONG);
                }
                Ok(b)
            }
            _ => Err(libc::EINVAL),
        }
    }

    /// Where a new name goes: its grant's parent directory and name.
    /// `exists`: the errno when it already exists.
    fn new_name(&self, node: Node, exists: Errno) -> SysResult<(usize, std::rc::Rc<OwnedFd>, Vec<u8>)> {
        match node {
            Node::Missing { grant, parent, name, trailing_slash, .. } => {
                if trailing_slash {
                    return Err(libc::ENOENT);
                }
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                Ok((grant, parent, name))
            }
            Node::MissingVirtual => Err(libc::EROFS),
            Node::Virtual(_) | Node::Existing(_) => Err(exists),
        }
    }

    fn mkdir(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: u32) -> SysResult<()> {
        if ns::dot_last(p.path).is_some() {
            return Err(libc::EEXIST);
        }
        match self.resolve(i, p, fds, false, false)? {
            Node::Missing { grant, parent, name, .. } => {
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                sys::mkdirat(parent.as_fd(), &name, mode & 0o7777 & !SET_ID)
            }
            Node::MissingVirtual => Err(libc::EROFS),
            _ => Err(libc::EEXIST),
        }
    }

    /// The parent and name of an existing object that a write may change.
    fn changeable(&self, o: &Obj) -> SysResult<(std::rc::Rc<OwnedFd>, Vec<u8>)> {
        let Some((parent, name)) = &o.parent else { return Err(libc::EBUSY) };
        if !self.ns.grants[o.grant].mode.writable() {
            return Err(libc::EROFS);
        }
        Ok((parent.clone(), name.clone()))
    }

    fn unlink(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<()> {
        if flags & !libc::AT_REMOVEDIR != 0 {
            return Err(libc::EINVAL);
        }
        let rmdir = flags & libc::AT_REMOVEDIR != 0;
        match ns::dot_last(p.path) {
            Some(b".") if rmdir => return Err(libc::EINVAL),
            Some(b"..") if rmdir => return Err(libc::ENOTEMPTY),
            Some(b"/") if rmdir => return Err(libc::EBUSY),
            Some(_) if !rmdir => return Err(libc::EISDIR),
            _ => {}
        }
        match self.resolve(i, p, fds, false, false)?.existing()? {
            Existing::Virtual(_) => Err(if rmdir { libc::EROFS } else { libc::EISDIR }),
            Existing::Real(o) => {
                let (parent, name) = self.changeable(&o)?;
                sys::unlinkat(parent.as_fd(), &name, flags)
            }
        }
    }

    fn rename(&mut self, i: usize, old: &PathArg<'_>, new: &PathArg<'_>, fds: &[OwnedFd], flags: u32) -> SysResult<()> {
        if flags & !(libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT) != 0 {
            return Err(libc::EINVAL);
        }
        if ns::dot_last(old.path).is_some() || ns::dot_last(new.path).is_some() {
            return Err(libc::EBUSY);
        }
        let o = match self.resolve(i, old, fds, false, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::EROFS),
            Existing::Real(o) => o,
        };
        let (op, on) = self.changeable(&o)?;
        let (ng, np, nn) = match self.resolve(i, new, fds, false, false)? {
            Node::Existing(n) => {
                let (np, nn) = self.changeable(&n)?;
                (n.grant, np, nn)
            }
            Node::Missing { grant, parent, name, .. } => {
                if !self.ns.grants[grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                (grant, parent, name)
            }
            Node::Virtual(_) | Node::MissingVirtual => return Err(libc::EROFS),
        };
        if ng != o.grant {
            return Err(libc::EXDEV);
        }
        sys::renameat2(op.as_fd(), &on, np.as_fd(), &nn, flags)
    }

    fn link(&mut self, i: usize, old: &PathArg<'_>, new: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        if ns::dot_last(new.path).is_some() {
            return Err(libc::EEXIST);
        }
        let node = self.resolve(i, new, fds, false, false)?;
        let (ng, np, nn) = self.new_name(node, libc::EEXIST)?;
        // linkat(fd, "", ..., AT_EMPTY_PATH): only a file without any name
        // (O_TMPFILE, or unlinked), which can belong to no other grant.
        if old.path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
            let Base::Fd(k) = old.base else { return Err(libc::ENOENT) };
            let fd = fds[k as usize].as_fd();
            let st = sys::fstat_cached(fd, sys::STATX_CHECK)?;
            if sys::file_type(&st) != libc::S_IFREG || st.st_nlink != 0 {
                return Err(libc::EXDEV);
            }
            return sys::linkat(libc::AT_FDCWD, &sys::proc_fd(fd), np.as_fd(), &nn, libc::AT_SYMLINK_FOLLOW);
        }
        let o = match self.resolve(i, old, fds, flags & libc::AT_SYMLINK_FOLLOW != 0, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::EPERM),
            Existing::Real(o) => o,
        };
        if sys::file_type(&o.st) == libc::S_IFDIR {
            return Err(libc::EPERM);
        }
        let Some((op, on)) = &o.parent else { return Err(libc::EXDEV) };
        if o.grant != ng {
            return Err(libc::EXDEV);
        }
        let on = sys::cstr(on)?;
        sys::linkat(op.as_raw_fd(), &on, np.as_fd(), &nn, 0)
    }

    fn symlink(&mut self, i: usize, target: &[u8], p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<()> {
        if target.is_empty() {
            return Err(libc::ENOENT);
        }
        if ns::dot_last(p.path).is_some() {
            return Err(libc::EEXIST);
        }
        let node = self.resolve(i, p, fds, false, false)?;
        let (_, parent, name) = self.new_name(node, libc::EEXIST)?;
        sys::symlinkat(target, parent.as_fd(), &name)
    }

    /// An existing object (following symlinks unless `nofollow`) that a
    /// metadata write may change.
    fn writable_obj(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], flags: i32) -> SysResult<Obj> {
        let node = self.resolve(
            i,
            p,
            fds,
            flags & libc::AT_SYMLINK_NOFOLLOW == 0,
            flags & libc::AT_EMPTY_PATH != 0,
        )?;
        match node.existing()? {
            Existing::Virtual(_) => Err(libc::EROFS),
            Existing::Real(o) => {
                if !self.ns.grants[o.grant].mode.writable() {
                    return Err(libc::EROFS);
                }
                Ok(o)
            }
        }
    }

    fn truncate(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], length: i64) -> SysResult<()> {
        if length < 0 {
            return Err(libc::EINVAL);
        }
        let node = self.resolve(i, p, fds, true, false)?;
        let o = match node.existing()? {
            Existing::Virtual(_) => return Err(libc::EISDIR),
            Existing::Real(o) => o,
        };
        match sys::file_type(&o.st) {
            libc::S_IFDIR => return Err(libc::EISDIR),
            libc::S_IFREG => {}
            _ => return Err(libc::EINVAL),
        }
        if !self.ns.grants[o.grant].mode.writable() {
            return Err(libc::EROFS);
        }
        let fd = Self::reopen(o.fd.as_fd(), libc::O_WRONLY, 0)?;
        sys::ftruncate(fd.as_fd(), length)
    }

    fn chmod(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], mode: u32, flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        let o = self.writable_obj(i, p, fds, flags)?;
        if sys::file_type(&o.st) == libc::S_IFLNK {
            return Err(libc::EOPNOTSUPP);
        }
        if mode & SET_ID != 0 {
            return Err(libc::EPERM);
        }
        sys::chmod_fd(o.fd.as_fd(), mode & 0o7777)
    }

    fn utimens(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], times: &[proto::Timespec; 2], flags: i32) -> SysResult<()> {
        if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
            return Err(libc::EINVAL);
        }
        let ts = times.map(|t| libc::timespec { tv_sec: t.sec, tv_nsec: t.nsec });
        let o = self.writable_obj(i, p, fds, flags)?;
        if sys::file_type(&o.st) == libc::S_IFLNK {
            let Some((parent, name)) = &o.parent else { return Err(libc::EINVAL) };
            return sys::utimensat(parent.as_raw_fd(), &sys::cstr(name)?, &ts, libc::AT_SYMLINK_NOFOLLOW);
        }
        sys::utimensat(libc::AT_FDCWD, &sys::proc_fd(o.fd.as_fd()), &ts, 0)
    }

    fn chdir(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<()> {
        let empty_ok = matches!(p.base, Base::Fd(_));
        let vpath = match self.resolve(i, p, fds, true, empty_ok)?.existing()? {
            Existing::Virtual(v) => v,
            Existing::Real(o) => {
                if sys::file_type(&o.st) != libc::S_IFDIR {
                    return Err(libc::ENOTDIR);
                }
                sys::access_fd(o.fd.as_fd(), libc::X_OK, 0)?;
                self.remember_dir(&o.st, &o.vpath);
                o.vpath
            }
        };
        self.conns[i].cwd = vpath;
        Ok(())
    }

    fn readdir(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<Vec<(u64, u8, Vec<u8>)>> {
        let empty_ok = matches!(p.base, Base::Fd(_));
        let vpath = match self.resolve(i, p, fds, true, empty_ok)?.existing()? {
            Existing::Virtual(v) => v,
            Existing::Real(o) if sys::file_type(&o.st) == libc::S_IFDIR => return Err(libc::EOPNOTSUPP),
            Existing::Real(_) => return Err(libc::ENOTDIR),
        };
        let ino_of = |s: &mut Self, v: &[u8]| -> SysResult<u64> {
            Ok(match s.ns.grant_at(v) {
                Some(g) => s.ns.grants[g].st.st_ino,
                None => sys::fstat(s.ns.backing(v)?)?.st_ino,
            })
        };
        let mut list = vec![
            (ino_of(self, &vpath)?, libc::DT_DIR, b".".to_vec()),
            (ino_of(self, ns::parent(&vpath))?, libc::DT_DIR, b"..".to_vec()),
        ];
        let children: Vec<Vec<u8>> = self.ns.vdir_children(&vpath).cloned().collect();
        for name in children {
            let child = ns::join(&vpath, &name);
            let (ino, t) = match self.ns.grant_at(&child) {
                Some(g) => {
                    let st = &self.ns.grants[g].st;
                    (st.st_ino, dtype(st))
                }
                None => (ino_of(self, &child)?, libc::DT_DIR),
            };
            list.push((ino, t, name));
        }
        Ok(list)
    }

    fn exec(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd]) -> SysResult<(OwnedFd, Vec<u8>, Vec<u8>)> {
        let o = match self.resolve(i, p, fds, true, false)?.existing()? {
            Existing::Virtual(_) => return Err(libc::EACCES),
            Existing::Real(o) => o,
        };
        if sys::file_type(&o.st) != libc::S_IFREG || !self.ns.grants[o.grant].mode.executable() {
            return Err(libc::EACCES);
        }
        sys::access_fd(o.fd.as_fd(), libc::X_OK, 0)?;
        let fd = Self::reopen(o.fd.as_fd(), libc::O_RDONLY, 0)?;
        let host = self.ns.host_path(o.grant, &o.vpath).as_os_str().as_bytes().to_vec();
        if o.vpath.len() > MAX_PATH || host.len() > MAX_PATH {
            return Err(libc::ENAMETOOLONG);
        }
        Ok((fd, o.vpath, host))
    }

    fn unix_socket(&mut self, i: usize, p: &PathArg<'_>, fds: &[OwnedFd], ty: i32, bind: bool) -> SysResult<OwnedFd> {
        let base = ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
        if !matches!(base, libc::SOCK_STREAM | libc::SOCK_DGRAM | libc::SOCK_SEQPACKET) {
            return Err(libc::EINVAL);
        }
        let want_nb = ty & libc::SOCK_NONBLOCK != 0;
        let sock = sys::socket(base | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)?;
        if bind {
            let node = self.resolve(i, p, fds, false, false)?;
            let (_, parent, name) = self.new_name(node, libc::EADDRINUSE)?;
            let mut path = sys::proc_fd(parent.as_fd()).into_bytes();
            path.push(b'/');
            path.extend_from_slice(&name);
            sys::bind_unix(sock.as_fd(), &path)?;
        } else {
            let o = match self.resolve(i, p, fds, true, false)?.existing()? {
                Existing::Virtual(_) => return Err(libc::ECONNREFUSED),
                Existing::Real(o) => o,
            };
            if !self.ns.grants[o.grant].mode.writable() {
                return Err(libc::EACCES);
            }
            if sys::file_type(&o.st) != libc::S_IFSOCK {
                return Err(libc::ECONNREFUSED);
            }
            match sys::connect_unix(sock.as_fd(), sys::proc_fd(o.fd.as_fd()).as_bytes()) {
                Ok(()) | Err(libc::EINPROGRESS) => {}
                Err(e) => return Err(e),
            }
        }
        if !want_nb {
            sys::clear_nonblock(sock.as_fd())?;
        }
        Ok(sock)
    }
}

/// Whose an fd the server lets go of is (`Server::release`).
#[derive(Clone, Copy)]
enum Came {
    /// Sent by a client (a request's fds): anything at all.
    FromClient,
    /// Made by the server and sent to a client (a reply's fd), which may
    /// have acted on it since.
    ToClient,
}

/// /dev/null, zero, full, random, urandom and the other character devices
/// of major 1, whose open and close do nothing that waits.
fn memory_device(st: &libc::stat) -> bool {
    sys::file_type(st) == libc::S_IFCHR && libc::major(st.st_rdev) == 1
}

/// An open (not O_PATH) of this object may wait on a client: a FIFO takes
/// the pipe's lock, which a client's splice() holds for as long as it
/// waits for data, even with O_NONBLOCK; a device runs its driver's open (a
/// terminal takes the tty's locks). The memory devices do not.
fn open_may_wait(st: &libc::stat) -> bool {
    match sys::file_type(st) {
        libc::S_IFIFO | libc::S_IFBLK => true,
        libc::S_IFCHR => !memory_device(st),
        _ => false,
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in std::mem::take(&mut self.conns) {
            self.closer.close(c.sock);
        }
    }
}

fn dtype(st: &libc::stat) -> u8 {
    match sys::file_type(st) {
        libc::S_IFDIR => libc::DT_DIR,
        libc::S_IFREG => libc::DT_REG,
        libc::S_IFLNK => libc::DT_LNK,
        libc::S_IFCHR => libc::DT_CHR,
        libc::S_IFBLK => libc::DT_BLK,
        libc::S_IFIFO => libc::DT_FIFO,
        libc::S_IFSOCK => libc::DT_SOCK,
        _ => libc::DT_UNKNOWN,
    }
}

#[cfg(test)]
mod tests;
