//! The session's own terminal. A session must not share the user's tty
//! session: a process left behind could make its process group the
//! terminal's foreground one (TIOCSPGRP, which shells need, so no filter
//! can refuse it) and read what the user types next, or type into it. So
//! when fd 0, 1 or 2 is a terminal the session gets a pty: the session's
//! init makes one of its own devpts (its /dev/pts/0: ttyname and tty work
//! in the session), sends the master to the launcher, which gives it the
//! user's terminal modes and window size, and makes it its controlling
//! terminal in a tty session of its own; the program is its foreground
//! process group, and the fds that were the user's terminal are its slave. The launcher relays bytes between the
//! user's terminal (raw while it relays) and the pty's master, passes on
//! window sizes, and stops itself when the program is stopped (^Z), as
//! sudo's use_pty does. The user's terminal never enters the session.
//!
//! The relay runs on a thread of its own: input from the user's terminal
//! to the master (only while the launcher is in the terminal's foreground
//! at start), output from the master to the user's terminal, until every
//! slave is closed (EIO). After the launcher's exit, a background server
//! that still serves processes left behind relays their output only: the
//! user's keystrokes belong to the user's shell again.
//!
//! `preld pola --ask` asks its questions on the same terminal: the relay is
//! paused first (`Pauser`: it then reads neither the user's terminal nor
//! the master, so the program's output waits in the pty and the user's
//! answer goes to no one but the launcher), the question is asked in the
//! user's own terminal modes (pola/ask.rs), and the relay resumes.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// A pty for the session and the user's terminal it stands in for.
pub struct Pty {
    /// None until the session's init has sent it (`take_master`).
    master: Option<OwnedFd>,
    /// The channel the init sends the master on (the launcher's end, the
    /// init's), taken for `confine::early`.
    pub chan: Option<(OwnedFd, OwnedFd)>,
    /// The slave (O_PATH), for /dev/tty in the session.
    pub slave: Option<OwnedFd>,
    /// Which of fds 0, 1, 2 are the user's terminal (and become the slave).
    pub fds: [bool; 3],
    /// The user's terminal (one of fds 0-2).
    user: RawFd,
    /// Its modes before raw mode, when the launcher relays input.
    saved: Option<libc::termios>,
    /// Written once the program has ended: the relay stops taking the
    /// user's keystrokes (they are the user's shell's again).
    input_off: (OwnedFd, Option<OwnedFd>),
    /// The relay's ends of its pause control (`Pauser`): commands in,
    /// acknowledgements out. Moved to the relay thread when it starts.
    control: Option<(OwnedFd, OwnedFd)>,
    /// The launcher's ends, until `pauser` takes them.
    pauser: Option<Pauser>,
}

/// Pauses and resumes the relay (for `--ask`'s questions).
pub struct Pauser {
    command: OwnedFd,
    ack: OwnedFd,
}

impl Pauser {
    /// Returns once the relay has stopped reading and writing (or is gone).
    pub fn pause(&self) {
        if write_byte(self.command.as_raw_fd(), b'p') {
            let mut b = [0u8; 1];
            // SAFETY: reading one byte into our buffer; 0 (the relay is
            // gone) or an error end the wait too.
            while unsafe { libc::read(self.ack.as_raw_fd(), b.as_mut_ptr().cast(), 1) } < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
    }

    pub fn resume(&self) {
        write_byte(self.command.as_raw_fd(), b'r');
    }
}

/// Writes one byte (false if it could not: the other end is gone).
fn write_byte(fd: RawFd, b: u8) -> bool {
    loop {
        // SAFETY: writing one byte of ours.
        let n = unsafe { libc::write(fd, [b].as_ptr().cast(), 1) };
        if n == 1 {
            return true;
        }
        if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return false;
    }
}

/// The user's own terminal modes, from before the relay made it raw.
pub fn user_modes() -> Option<libc::termios> {
    if USER.load(Ordering::Relaxed) < 0 {
        return None;
    }
    // SAFETY: SAVED is written once before USER is set.
    unsafe { *std::ptr::addr_of!(SAVED) }
}

/// The user's terminal the relay relays (-1: none).
pub fn user_fd() -> RawFd {
    USER.load(Ordering::Relaxed)
}

/// For the signal handlers: the user's terminal and the master (-1: none).
static USER: AtomicI32 = AtomicI32::new(-1);
static MASTER: AtomicI32 = AtomicI32::new(-1);
/// The user's terminal modes to put back (set once, before raw mode).
static mut SAVED: Option<libc::termios> = None;

fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty only looks at the fd.
    unsafe { libc::isatty(fd) == 1 }
}

fn rdev(fd: RawFd) -> Option<libc::dev_t> {
    // SAFETY: all-zero is a valid stat; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st.st_rdev)
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// A pty standing for the user's terminal, if fd 0, 1 or 2 is one: what
/// the launcher needs before the session's init makes it (`take_master`).
pub fn open() -> Result<Option<Pty>, String> {
    let Some(user) = (0..3).find(|&fd| is_tty(fd)) else { return Ok(None) };
    let dev = rdev(user);
    let fds = [0, 1, 2].map(|fd| is_tty(fd) && rdev(fd) == dev);
    let chan = super::sys::seqpacket_pair().map_err(|e| format!("socketpair: {}", std::io::Error::from_raw_os_error(e)))?;
    // SAFETY: plain calls on fds we own.
    unsafe {
        let mut p = [0; 2];
        if libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
            return Err(os_err("pipe"));
        }
        let input_off = (OwnedFd::from_raw_fd(p[0]), Some(OwnedFd::from_raw_fd(p[1])));
        let mut q = [0; 2];
        let mut a = [0; 2];
        if libc::pipe2(q.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
            return Err(os_err("pipe"));
        }
        let (cmd_r, cmd_w) = (OwnedFd::from_raw_fd(q[0]), OwnedFd::from_raw_fd(q[1]));
        if libc::pipe2(a.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
            return Err(os_err("pipe"));
        }
        let (ack_r, ack_w) = (OwnedFd::from_raw_fd(a[0]), OwnedFd::from_raw_fd(a[1]));
        Ok(Some(Pty {
            master: None,
            chan: Some(chan),
            slave: None,
            fds,
            user,
            saved: None,
            input_off,
            control: Some((cmd_r, ack_w)),
            pauser: Some(Pauser { command: cmd_w, ack: ack_r }),
        }))
    }
}

/// Takes the master the session's init made: gives its slave the user's
/// terminal modes and window size (the program starts only after this),
/// and returns an O_PATH fd of the slave, for /dev/tty.
pub fn set_up_master(user: RawFd, master: &OwnedFd) -> Option<OwnedFd> {
    // SAFETY: termios and pty ioctls on fds we own.
    unsafe {
        let m = master.as_raw_fd();
        let s = libc::ioctl(m, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if s < 0 {
            return None;
        }
        let s = OwnedFd::from_raw_fd(s);
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(user, &mut t) == 0 {
            libc::tcsetattr(s.as_raw_fd(), libc::TCSANOW, &t);
        }
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(user, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(m, libc::TIOCSWINSZ, &ws);
        }
        // An open slave here would keep the relay from seeing the session's
        // last one close: only a path to it.
        let path = std::ffi::CString::new(super::sys::proc_fd(s.as_fd())).ok()?;
        super::sys::open(&path, libc::O_PATH | libc::O_CLOEXEC, 0).ok()
    }
}

impl Pty {
    /// The master the init sent (see `set_up_master`).
    pub fn take_master(&mut self, master: OwnedFd) {
        self.slave = set_up_master(self.user, &master);
        self.master = Some(master);
    }

    /// Whether the init sent the master.
    pub fn has_master(&self) -> bool {
        self.master.is_some()
    }

    fn master_fd(&self) -> RawFd {
        self.master.as_ref().map_or(-1, |m| m.as_raw_fd())
    }
}

extern "C" fn on_winch(_: libc::c_int) {
    let (u, m) = (USER.load(Ordering::Relaxed), MASTER.load(Ordering::Relaxed));
    if u >= 0 && m >= 0 {
        // SAFETY: two ioctls (async-signal-safe) on fds that stay open
        // while the handler is installed.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(u, libc::TIOCGWINSZ, &mut ws) == 0 {
                libc::ioctl(m, libc::TIOCSWINSZ, &ws);
            }
        }
    }
}

/// Puts the user's terminal back as it was (async-signal-safe).
pub fn restore() {
    let u = USER.load(Ordering::Relaxed);
    // SAFETY: SAVED is written once before USER is set; tcsetattr is
    // async-signal-safe.
    unsafe {
        if u >= 0 {
            if let Some(t) = (*std::ptr::addr_of!(SAVED)).as_ref() {
                libc::tcsetattr(u, libc::TCSADRAIN, t);
            }
        }
    }
}

/// Raw mode on the user's terminal (the pty's line discipline does the
/// editing and the signals now), when the launcher is its foreground.
fn raw(user: RawFd) -> Option<libc::termios> {
    // SAFETY: termios calls on the user's terminal.
    unsafe {
        if libc::tcgetpgrp(user) != libc::getpgrp() {
            return None;
        }
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(user, &mut t) < 0 {
            return None;
        }
        let saved = t;
        libc::cfmakeraw(&mut t);
        if libc::tcsetattr(user, libc::TCSADRAIN, &t) < 0 {
            return None;
        }
        Some(saved)
    }
}

impl Pty {
    /// Starts relaying (input too when the launcher is the terminal's
    /// foreground: then the user's terminal is raw). Returns the relay
    /// thread, which ends when no slave is left open.
    pub fn start(&mut self) -> std::thread::JoinHandle<()> {
        self.saved = raw(self.user);
        // SAFETY: written before USER publishes it to the handlers.
        unsafe { SAVED = self.saved };
        USER.store(self.user, Ordering::Relaxed);
        MASTER.store(self.master_fd(), Ordering::Relaxed);
        // SAFETY: a handler that only makes async-signal-safe calls.
        unsafe { libc::signal(libc::SIGWINCH, on_winch as *const () as usize) };
        let (user, master) = (self.user, self.master_fd());
        let input = if self.saved.is_some() { self.input_off.0.as_raw_fd() } else { NO_INPUT };
        let control = self.control.take();
        std::thread::spawn(move || relay(user, master, input, control.as_ref().map(|(c, a)| (c.as_raw_fd(), a.as_raw_fd()))))
    }

    /// What pauses the relay (once: the asker's).
    pub fn pauser(&mut self) -> Option<Pauser> {
        self.pauser.take()
    }

    /// The program has ended: no more keystrokes go to the session (a
    /// process left behind must not read what the user types next).
    pub fn stop_input(&mut self) {
        // Closing the write end wakes the relay (its read end stays open
        // in `self` for as long as the relay may poll it).
        self.input_off.1 = None;
    }

    /// Whether the launcher is the user's terminal's foreground (a shell
    /// with job control can continue it if it stops).
    pub fn foreground(&self) -> bool {
        // SAFETY: plain queries.
        unsafe { libc::tcgetpgrp(self.user) == libc::getpgrp() }
    }


    /// After the launcher's exit, in the background server: only the
    /// output of processes left behind.
    pub fn start_output_only(&self) {
        let (user, master) = (self.user, self.master_fd());
        std::thread::spawn(move || relay(user, master, NO_INPUT, None));
    }

    /// The session's program was stopped (^Z): give the terminal back and
    /// stop as it did; once continued, take it again.
    pub fn stopped(&mut self) {
        restore();
        // SAFETY: stopping ourselves (SIGTSTP is passed on to the session).
        unsafe { libc::raise(libc::SIGSTOP) };
        if self.saved.is_some() {
            raw(self.user);
        }
        on_winch(0);
    }

    /// The user's terminal as it was.
    pub fn finish(&mut self) {
        restore();
        USER.store(-1, Ordering::Relaxed);
    }
}

/// Waits for the relay to have copied what the session wrote (every slave
/// closed: EIO on the master), at most `ms` milliseconds.
pub fn drain(relay: std::thread::JoinHandle<()>, ms: u64) -> Option<std::thread::JoinHandle<()>> {
    let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while !relay.is_finished() {
        if std::time::Instant::now() >= until {
            return Some(relay);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = relay.join();
    None
}

/// `relay` takes no input at all.
const NO_INPUT: RawFd = -2;

/// Copies the master's output to the user's terminal for good, and the
/// user's input to the master until `input_off` is readable (NO_INPUT:
/// never). `control` (command, acknowledgement): on `p` the relay
/// acknowledges and touches neither terminal until `r` (`Pauser`).
pub fn relay(user: RawFd, master: RawFd, input_off: RawFd, control: Option<(RawFd, RawFd)>) {
    let mut control = control;
    let mut input = input_off != NO_INPUT;
    // SAFETY: flags of our own fd. Non-blocking: input the program does not
    // read waits here, and its output keeps flowing meanwhile.
    unsafe {
        let fl = libc::fcntl(master, libc::F_GETFL);
        libc::fcntl(master, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    let mut buf = [0u8; 4096];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let mut p = [
            libc::pollfd { fd: master, events: libc::POLLIN | if pending.is_empty() { 0 } else { libc::POLLOUT }, revents: 0 },
            libc::pollfd { fd: if input && pending.is_empty() { user } else { -1 }, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: if input { input_off } else { -1 }, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: control.map_or(-1, |c| c.0), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: four valid pollfds.
        if unsafe { libc::poll(p.as_mut_ptr(), 4, -1) } < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return;
        }
        if p[3].revents != 0 {
            if let Some((cmd, ack)) = control {
                if read_byte(cmd) == Some(b'p') && write_byte(ack, b'a') {
                    // Paused: nothing is read or written until `r`.
                    while let Some(c) = read_byte(cmd) {
                        if c == b'r' {
                            break;
                        }
                    }
                } else {
                    control = None;
                }
            }
            continue;
        }
        if p[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::read(master, buf.as_mut_ptr().cast(), buf.len()) };
            let e = std::io::Error::last_os_error().raw_os_error();
            if n > 0 {
                write_all(user, &buf[..n as usize]);
            } else if n == 0 || !matches!(e, Some(libc::EINTR) | Some(libc::EAGAIN)) {
                // EIO: no slave is open any more.
                return;
            }
        }
        if p[0].revents & libc::POLLOUT != 0 && !pending.is_empty() {
            // SAFETY: writing our bytes; the master is non-blocking.
            let n = unsafe { libc::write(master, pending.as_ptr().cast(), pending.len()) };
            if n > 0 {
                pending.drain(..n as usize);
            }
        }
        if p[2].revents != 0 {
            input = false;
            pending.clear();
            continue;
        }
        if p[1].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::read(user, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                // The user's terminal hung up: hang the session's up too
                // (its foreground gets SIGHUP, as natively).
                return;
            }
            pending.extend_from_slice(&buf[..n as usize]);
        }
    }
}

/// One byte read (None: end of file or an error), blocking.
fn read_byte(fd: RawFd) -> Option<u8> {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: reading one byte into our buffer.
        let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
        match n {
            1 => return Some(b[0]),
            n if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => continue,
            _ => return None,
        }
    }
}

/// Writes all of `b` to the user's terminal (blocking: it drains).
fn write_all(fd: RawFd, b: &[u8]) {
    super::sys::write_all_raw(fd, b);
}
