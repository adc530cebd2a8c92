//! The launcher's clean-up: a process of its own, forked as the launcher
//! starts, before any directory of the session exists. It makes the
//! session's host directories (-B's private one, the virtual directories'
//! stand-ins') itself, so that whatever kills the launcher, nobody else's
//! directory is ever removed and none of the session's is left behind.
//!
//! ```text
//! launcher ──fork──► cleaner: mkdir each directory named at the fork
//!     │ ◄── `d` + an errno per directory (0: made)
//!     │ ──► `m` PATH: make another one (a name taken) ◄── errno
//!     │ ──► `h` + SCM_RIGHTS: the init's pidfd (when there is one), then
//!     │          the namespace's copies (detached mounts), before the plan
//!     │ ──► `r`: the launcher ends now
//!     ▼
//! exit, or EOF ──► cleaner: waits for the launcher to be gone; without an
//!                  `r` for the session's init as well (its processes may
//!                  still use the directories); closes the copies; removes
//!                  the directories it made.
//! ```
//!
//! Why a process: each copy is a detached mount tree, whose last close
//! costs the kernel an expedited RCU grace period (30 us here, 1.5 ms for
//! -B's 60 copies), and the private /tmp is removed file by file. The
//! cleaner holds the copies until the launcher is gone, so that the
//! launcher's closes at its exit are never the last (when the cleaner's
//! came first, the launcher's exit paid: 0.8 ms of each session, median),
//! and the launcher ends at once.
//!
//! Why forked first: forked as the program started (after the directories
//! were made), a launcher killed before that left them in TMPDIR, 22 kills
//! in 60 (session-17b adversary); and the fork sat on the way to the
//! program's start (0.1-0.2 ms, a launcher with every grant's fd). Forked
//! here, the launcher is small and single-threaded, and the directories'
//! mkdirs (30-350 us each of ext4's) run on the cleaner's CPU while the
//! launcher works out the grants.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::sys;

/// The launcher's end of the cleaner's socket.
pub struct Cleaner {
    ctl: OwnedFd,
    /// How many directories the fork was told to make, until their report
    /// is read (`made`).
    pending: usize,
}

impl Cleaner {
    /// Forks the cleaner, which makes `dirs` (mode 0700, in order) at once.
    /// None where it could not be forked (the launcher then makes them and
    /// cleans up itself, as it can).
    ///
    /// Called while the launcher is single-threaded and has made no child.
    pub fn start(dirs: &[PathBuf]) -> Option<Cleaner> {
        let (ctl, theirs) = sys::seqpacket_pair().ok()?;
        // SAFETY: pidfd_open of our own pid makes a new fd and touches no memory.
        let me = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) } as RawFd;
        if me < 0 {
            return None;
        }
        // SAFETY: a new fd of ours.
        let me = unsafe { OwnedFd::from_raw_fd(me) };
        // SAFETY: the launcher is single-threaded here (its threads and the
        // session's init come later), so the child may allocate; it runs
        // `cleaner` and _exits.
        match unsafe { libc::fork() } {
            0 => {
                drop(ctl);
                // SAFETY: in the fork's child, which owns its copies.
                unsafe { cleaner(theirs, me, dirs) }
            }
            pid if pid > 0 => Some(Cleaner { ctl, pending: dirs.len() }),
            _ => None,
        }
    }

    /// An errno for each directory `start` was given (0: made, the
    /// launcher's to use now). Waits for the cleaner's report; the first
    /// call only (then empty).
    pub fn made(&mut self) -> Vec<i32> {
        let n = std::mem::take(&mut self.pending);
        if n == 0 {
            return Vec::new();
        }
        let mut buf = vec![0u8; 1 + 4 * n];
        match sys::recv_blocking(self.ctl.as_fd(), &mut buf) {
            Ok(r) if r.len == buf.len() && buf[0] == b'd' => buf[1..].chunks_exact(4).map(|e| i32::from_ne_bytes(e.try_into().unwrap())).collect(),
            _ => vec![libc::EIO; n],
        }
    }

    /// Has the cleaner make `dir` (0700): Err(EEXIST) where the name is
    /// taken.
    pub fn make(&mut self, dir: &Path) -> Result<(), i32> {
        let mut msg = vec![b'm'];
        msg.extend_from_slice(dir.as_os_str().as_bytes());
        sys::send_blocking(self.ctl.as_fd(), &msg, &[])?;
        let mut buf = [0u8; 4];
        match sys::recv_blocking(self.ctl.as_fd(), &mut buf) {
            Ok(r) if r.len == 4 => match i32::from_ne_bytes(buf) {
                0 => Ok(()),
                e => Err(e),
            },
            Ok(_) => Err(libc::EIO),
            Err(e) => Err(e),
        }
    }

    /// Hands the cleaner the session's init (`init`: its pid, 0 where
    /// there is none) and the namespace's copies to hold. Before the plan
    /// is sent: from then on the session's processes may use the
    /// directories, and a launcher gone without a word leaves them to the
    /// init's end.
    pub fn hold(&self, copies: &[RawFd], init: libc::pid_t) {
        // SAFETY: pidfd_open makes a new fd (or fails) and touches no memory.
        let init = (init > 0).then(|| unsafe { libc::syscall(libc::SYS_pidfd_open, init, 0) } as RawFd).filter(|&fd| fd >= 0);
        // SAFETY: a new fd of ours, where made.
        let init = init.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
        // SAFETY: the copies are the namespace's, open until the launcher ends.
        let copies = copies.iter().map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) });
        let all: Vec<BorrowedFd<'_>> = init.iter().map(|f| f.as_fd()).chain(copies).collect();
        let mut first = true;
        for batch in all.chunks(sys::RECV_FDS) {
            // The first message says whether its first fd is the init's.
            let tag = [b'h', (first && init.is_some()) as u8];
            first = false;
            // Nothing to do about a cleaner gone: the copies stay the
            // launcher's, closed as it exits.
            let _ = sys::send_blocking(self.ctl.as_fd(), &tag, batch);
        }
    }

    /// The launcher is about to exit, leaving the copies and directories
    /// to the cleaner. False where the cleaner is gone (killed: SIGKILL
    /// cannot be ignored): the launcher removes them itself then.
    pub fn finish(self) -> bool {
        sys::send_blocking(self.ctl.as_fd(), b"r", &[]).is_ok()
    }
}

/// The cleaner: makes `dirs`, answers the launcher on `ctl` until it says
/// `r` or is gone (`me`: its pidfd), then cleans up and exits.
///
/// # Safety
/// In the fork's child of a single-threaded launcher only (it closes every
/// other fd of the table and `_exit`s).
unsafe fn cleaner(ctl: OwnedFd, me: OwnedFd, dirs: &[PathBuf]) -> ! {
    // Why: the cleaner is a `preld` too, and signals meant for preld reach
    // it (`pkill preld`, a service manager's stop that signals every
    // process of the unit). Dead of one, it left the directories behind:
    // the launcher, ending after its program as usual, leaves them to it.
    // It ends by itself once the launcher (and the session) are gone.
    for sig in [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGUSR1, libc::SIGUSR2, libc::SIGALRM, libc::SIGPIPE] {
        libc::signal(sig, libc::SIG_IGN);
    }
    let (ctl_fd, me_fd) = (ctl.as_raw_fd(), me.as_raw_fd());
    // None of the caller's fds (a pipe reading the launcher's output ends
    // when the launcher does), nor the terminal's session.
    let mut from = 0u32;
    let mut keep = [ctl_fd, me_fd];
    keep.sort_unstable();
    for k in keep {
        if k as u32 > from {
            libc::syscall(libc::SYS_close_range, from, k as u32 - 1, 0u32);
        }
        from = k as u32 + 1;
    }
    libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32);
    libc::setsid();
    let mkdir = |d: &Path| match std::ffi::CString::new(d.as_os_str().as_bytes()) {
        Ok(c) if libc::mkdir(c.as_ptr(), 0o700) == 0 => 0,
        Ok(_) => *libc::__errno_location(),
        Err(_) => libc::EINVAL,
    };
    let mut mine: Vec<PathBuf> = Vec::new();
    let mut report = vec![b'd'];
    for d in dirs {
        let e = mkdir(d);
        if e == 0 {
            mine.push(d.clone());
        }
        report.extend(e.to_ne_bytes());
    }
    if !dirs.is_empty() {
        let _ = sys::send_blocking(ctl.as_fd(), &report, &[]);
    }
    let (mut held, mut init): (Vec<OwnedFd>, Option<OwnedFd>) = (Vec::new(), None);
    let mut buf = vec![0u8; 4096 + 1];
    let said = loop {
        let Ok(r) = sys::recv_blocking(ctl.as_fd(), &mut buf) else { break false };
        match (r.len, buf[0]) {
            (0, _) => break false,
            (1, b'r') => break true,
            (n, b'm') if n > 1 => {
                // Why: a path longer than the buffer (a TMPDIR of more than
                // 4 KiB) went unanswered, and the launcher waited for the
                // answer for good. It is longer than any path the kernel
                // takes: its answer, ENAMETOOLONG.
                let e = if r.truncated {
                    libc::ENAMETOOLONG
                } else {
                    let d = PathBuf::from(std::ffi::OsStr::from_bytes(&buf[1..n]));
                    let e = mkdir(&d);
                    if e == 0 {
                        mine.push(d);
                    }
                    e
                };
                let _ = sys::send_blocking(ctl.as_fd(), &e.to_ne_bytes(), &[]);
            }
            (2, b'h') => {
                let mut fds = r.fds.into_iter();
                if buf[1] == 1 {
                    init = fds.next();
                }
                held.extend(fds);
            }
            _ => {}
        }
    };
    drop(ctl);
    let gone = |fd: RawFd| {
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        while libc::poll(&mut pfd, 1, -1) < 0 && *libc::__errno_location() == libc::EINTR {}
    };
    gone(me_fd);
    // Gone without a word after the plan: the session's processes may
    // still use the directories until its init ends (every process of
    // the session ends before it). Before the plan, none can.
    if let (false, Some(i)) = (said, &init) {
        gone(i.as_raw_fd());
    }
    drop((held, init, me));
    for d in &mine {
        super::ns::remove_tree(d);
    }
    libc::_exit(0)
}
