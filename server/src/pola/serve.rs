//! The capability server: a `Server` holds the session's namespace, its
//! connections (one per client thread) and what it has handed out. Split
//! by what it does: event_loop.rs reads and answers the connections and
//! never waits on a client, background.rs has the server's own threads
//! that do what may wait (closes, log lines), ops.rs is what each request
//! does on the host, powerbox.rs asks the user for paths outside the
//! namespace (`--ask`), learn.rs notes what a session used (`--learn`).

mod background;
mod event_loop;
pub mod learn;
mod ops;
mod owners;
pub mod powerbox;

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Instant;

use preld_proto::MAX_FRAME;

use super::ns::Namespace;
use super::sys;
use background::{Closer, Logger};

/// One client connection (one client thread).
pub struct Conn {
    pub id: u64,
    pub sock: OwnedFd,
    /// The virtual cwd (normalized absolute path).
    pub cwd: Vec<u8>,
    /// Its request is answered by an opener thread (`open_later`): the
    /// connection is not read until that reply is sent.
    busy: bool,
    /// The program it last exec'd (virtual path), as `--ask` shows it.
    pub running: Option<Vec<u8>>,
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
    /// The names the kernel keeps for the Unix sockets the server bound
    /// (`/proc/self/fd/N/NAME`, what accept, recvfrom and getpeername show
    /// the session's processes) and the virtual paths they were bound at:
    /// an address a program got from the kernel works as one.
    /// Each holds the directory fd its name goes through, so that the fd
    /// number, and the name, is never another socket's: one fd for each
    /// directory (`bound_dirs`, by mount, device and inode), and at most
    /// MAX_BOUND names (a name whose socket is gone is forgotten when the
    /// table is full; past that a name is not kept). Keeping an fd for
    /// every bind let a program fill the server's fd table (binds below a
    /// subdirectory of /tmp: every client's requests then failed).
    bound: HashMap<Vec<u8>, (Vec<u8>, std::rc::Rc<OwnedFd>)>,
    bound_dirs: HashMap<(u64, u64, u64), std::rc::Rc<OwnedFd>>,
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
    /// What the server keeps to tell the owners a session of an ordinary
    /// user cannot see (owners.rs).
    owners: owners::Owners,
    /// Opener threads alive (`open_later`), with the process that started
    /// them (a fork child has none of its parent's). Each holds up to 3
    /// fds (the object's, the connection's dup, and the slot its open()
    /// reserves while it waits) until it ends, which for a FIFO's open is
    /// when the other end shows up, whether or not its connection is still
    /// there: a program that interrupts its waiting opens (EINTR drops the
    /// connection) left ~6600 threads waiting, uncounted, and the server's
    /// fd table full (attack fifo_wait). Counted in the budget; at most
    /// `fd_budget / 12` at a time (a quarter of the budget), past which an
    /// open that would start one fails with EMFILE.
    openers: (u32, Arc<std::sync::atomic::AtomicUsize>),
    /// The opener threads' reports (`open_later`): a pipe, made on first
    /// use; the read end is polled.
    done: Option<(OwnedFd, Arc<OwnedFd>)>,
    /// The session's own terminal (pola/tty.rs), which /dev/tty opens in
    /// the session; without one, /dev/tty is ENXIO (no controlling
    /// terminal), never the user's.
    tty: Option<OwnedFd>,
    /// `--ask`: asks the user for paths outside the namespace.
    pub powerbox: Option<powerbox::Powerbox>,
    /// `--ask`: the device number of the terminal the questions are asked
    /// on, which no open in the session reaches (`open`).
    pub question_tty: Option<u64>,
    /// `--learn`: notes what the session used.
    pub learner: Option<learn::Learner>,
    /// The request being answered: what it wants of its paths.
    req: ReqState,
}

/// What the request being answered wants of the paths it names (set by
/// `handle` from the request).
#[derive(Default)]
struct ReqState {
    /// What to ask the user about a path outside the namespace, if anything
    /// (`creat`: an open that may create it).
    want: Option<powerbox::Want>,
    creat: bool,
    /// It only looks at its path (stat, access, readlink, chdir, O_PATH):
    /// no question for a directory (shells stat $PWD at start).
    look: bool,
    /// The mode of a file the powerbox creates (O_CREAT's).
    create_mode: u32,
    /// The powerbox created the file this request opens (O_EXCL then holds).
    created: bool,
    /// Grants made for this request only: retired when it is answered.
    once: Vec<usize>,
    /// What --learn notes of the objects it names.
    uses: Option<learn::Use>,
    /// Where its path led, when that is the handler's (`ELSEWHERE`).
    elsewhere: Option<Vec<u8>>,
}


/// fds kept free beyond `Server::fd_budget`: what one message may carry,
/// and the server's own use during a request (a quarter of the table at
/// most, under a low RLIMIT_NOFILE).
const FD_RESERVE: usize = sys::RECV_FDS + 64;


/// Stack of the server's own threads (they make a few system calls).
const THREAD_STACK: usize = 256 << 10;

/// The least budget a session starts with: connections for a few threads
/// and processes. Under it the server would read no connection until the
/// closer made room, and nothing would make any: the session would hang.
const MIN_BUDGET: usize = 32;

/// The fds the server may take under `limit` when it starts with `open`.
fn budget(limit: usize, open: usize) -> usize {
    limit.saturating_sub(open + FD_RESERVE.min(limit / 4))
}

/// The least fd limit under which a server that starts with `open` fds
/// open has MIN_BUDGET.
pub fn fd_limit_needed(open: usize) -> usize {
    (open..).find(|&l| budget(l, open) >= MIN_BUDGET).unwrap_or(usize::MAX)
}

impl Server {
    pub fn new(ns: Namespace, net: bool) -> Server {
        let fd_budget = budget(sys::fd_limit(), sys::open_fds().unwrap_or(64));
        let mut logger = Logger::stderr();
        let mut s = Server {
            ns,
            conns: Vec::new(),
            next_id: 1,
            net,
            dirs: HashMap::new(),
            bound: HashMap::new(),
            bound_dirs: HashMap::new(),
            log: Box::new(move |line| logger.line(line)),
            buf: vec![0; MAX_FRAME],
            out: vec![0; MAX_FRAME],
            spin_until: None,
            closer: Closer::new(),
            fd_budget,
            busy: 0,
            owners: owners::Owners::default(),
            openers: (std::process::id(), Arc::new(std::sync::atomic::AtomicUsize::new(0))),
            done: None,
            tty: None,
            question_tty: None,
            powerbox: None,
            learner: None,
            req: ReqState::default(),
        };
        for i in 0..s.ns.grants.len() {
            let g = &s.ns.grants[i];
            if g.is_dir {
                s.dirs.insert((g.st.st_dev, g.st.st_ino), g.vpath.clone());
            }
        }
        s
    }

    /// Starts the server's first closer thread now, while the launcher
    /// waits for the session to start (a thread costs 0.1 ms to start, which
    /// the program's exit waited for when its connection was the first fd
    /// closed there).
    pub fn start_closer(&mut self) {
        self.closer.start();
    }

    /// The session's terminal (an O_PATH fd of a pty's slave) that
    /// /dev/tty stands for.
    pub fn set_tty(&mut self, slave: Option<OwnedFd>) {
        self.tty = slave;
    }

    /// Adds a connection with virtual cwd `cwd`; returns its id.
    pub fn add(&mut self, sock: OwnedFd, cwd: Vec<u8>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.conns.push(Conn { id, sock, cwd, busy: false, running: None });
        id
    }

}

impl Drop for Server {
    fn drop(&mut self) {
        for c in std::mem::take(&mut self.conns) {
            self.closer.close(c.sock);
        }
    }
}


#[cfg(test)]
mod tests;
