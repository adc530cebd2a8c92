//! The server's own threads, which do what may wait on a client so that
//! the event loop never does: closing the fds a client has had a hand on
//! (`Closer`) and writing log lines (`Logger`), each on a `Background`
//! queue.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::THREAD_STACK;
use crate::pola::sys;

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
pub(super) struct Background<T: Send + 'static> {
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
    pub(super) fn new(name: &'static str, max: usize, work: fn(T)) -> Self {
        Background { name, work, max, shared: Shared::new(Default::default()), pid: 0 }
    }

    pub(super) fn waiting(&self) -> usize {
        self.shared.waiting.load(Ordering::Relaxed)
    }

    /// True if this process's threads serve the queue (not a fork child's
    /// copy of the parent's).
    pub(super) fn running(&self) -> bool {
        self.pid == std::process::id()
    }

    /// Starts the first thread now, if none runs: when the first item
    /// comes (the program's connection, as it exits) its start would wait
    /// for a CPU the exiting program and the init need.
    pub(super) fn start(&mut self) {
        if self.pid == 0 {
            self.pid = std::process::id();
            let mut q = self.shared.lock();
            if q.threads == 0 && self.spawn() {
                q.threads += 1;
            }
        }
    }

    /// Hands `item` to a thread; gives it back if none could be started
    /// (the user's process limit reached).
    pub(super) fn give(&mut self, item: T) -> Result<(), T> {
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
pub(super) struct Closer {
    thread: Background<OwnedFd>,
    stash: Vec<OwnedFd>,
}

impl Closer {
    pub(super) fn new() -> Closer {
        Closer { thread: Background::new("preld-pola-close", CLOSERS, drop), stash: Vec::new() }
    }

    /// fds given to `close` and still open.
    pub(super) fn waiting(&self) -> usize {
        self.thread.waiting() + self.stash.len()
    }

    /// Starts a closer thread ahead of the first close (`Background::start`).
    pub(super) fn start(&mut self) {
        self.thread.start();
    }

    /// Closes `fd` on a closer thread.
    pub(super) fn close(&mut self, fd: OwnedFd) {
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
pub(super) struct Logger {
    /// Where it writes (2, or a test's fd).
    fd: i32,
    pub(super) out: LogOut,
}

pub(super) enum LogOut {
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
    pub(super) fn stderr() -> Logger {
        Logger::to(2)
    }

    /// A logger writing to `fd`, which stays open as long as the logger.
    pub(super) fn to(fd: i32) -> Logger {
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
    pub(super) fn line(&mut self, line: &str) {
        let mut b = Vec::with_capacity(line.len() + 1);
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
        let fd = self.fd;
        // A failure (EAGAIN) leaves the line out.
        match &mut self.out {
            // SAFETY: write only reads b.len() bytes of `b`, which outlives
            // the call.
            LogOut::Plain => unsafe {
                libc::write(fd, b.as_ptr().cast(), b.len());
            },
            // SAFETY: as for write; MSG_NOSIGNAL: no SIGPIPE if the peer left.
            LogOut::Socket => unsafe {
                libc::send(fd, b.as_ptr().cast(), b.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL);
            },
            // SAFETY: as above; `own` is an open fd of ours.
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

