//! `preld pola --ask`: the questions, asked on the launcher's own
//! controlling terminal (/dev/tty opened at start, outside the session:
//! the program only ever has the session's pty, tty.rs). One question:
//!
//! 1. the relay is paused (it reads neither the user's terminal nor the
//!    pty: the program's output waits, and no keystroke goes to the
//!    program);
//! 2. the terminal is put in the user's own modes (the relay had made it
//!    raw) with line editing and echo, and what was typed before is
//!    discarded (TCSAFLUSH): typeahead meant for the program, or a reply
//!    the terminal sent to an escape sequence the program wrote, is never
//!    taken for an answer;
//! 3. the question is shown on a line of its own (the path escaped,
//!    powerbox::shown), without echo; input is discarded once more after
//!    ANSWER_DELAY (a key pressed before the user could read the question
//!    is no answer), then echo is on and `: ` shows that the answer is
//!    awaited;
//! 4. the answer is one line, exactly one of the letters offered (Enter
//!    alone: deny); anything else is asked again, three times at most, then
//!    denied; end of file or ^C (which the program also gets, as ^C always
//!    does) deny;
//! 5. the terminal's modes are put back and the relay resumes.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::serve::powerbox::{self, Answer, Asker, Question};
use super::tty;

/// How long keys pressed after a question appears are discarded.
pub const ANSWER_DELAY: Duration = Duration::from_millis(300);

/// Asks on the user's terminal.
pub struct TerminalAsker {
    tty: OwnedFd,
    /// Pauses the relay, when the session has a pty.
    pauser: Option<tty::Pauser>,
}

/// The launcher's controlling terminal, opened for questions (not a
/// controlling terminal for anyone new: O_NOCTTY).
pub fn open_terminal() -> Result<OwnedFd, String> {
    // SAFETY: open(2) of a static path; the fd is ours.
    let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "--ask needs a terminal to ask on, and preld has none (/dev/tty: {}); run it from a terminal, or grant what the program needs with --ro, --rw or --profile",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: a new fd of ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether fd `fd` is the launcher's controlling terminal, the one the
/// questions are asked on (an fd of /dev/tty shows /dev/tty's own device
/// number, not the terminal's: the kernel tells, TIOCGSID answers only for
/// the caller's controlling terminal).
pub fn is_our_terminal(fd: RawFd) -> bool {
    // SAFETY: plain queries on an fd and on our own process.
    unsafe { libc::isatty(fd) == 1 && libc::tcgetsid(fd) == libc::getsid(0) }
}

/// The device number of the terminal `fd` is (an fd of /dev/tty too,
/// whose fstat shows /dev/tty's own): TIOCGDEV.
pub fn terminal_device(fd: RawFd) -> Option<u64> {
    let mut dev: libc::c_uint = 0;
    // SAFETY: TIOCGDEV writes one unsigned int to the pointer given.
    let r = unsafe { libc::ioctl(fd, libc::TIOCGDEV, &mut dev) };
    // The kernel's new_encode_dev, which glibc's makedev matches below
    // major 4096 (every terminal's).
    (r == 0).then(|| libc::makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)))
}

impl TerminalAsker {
    pub fn new(tty: OwnedFd, pauser: Option<tty::Pauser>) -> TerminalAsker {
        TerminalAsker { tty, pauser }
    }

    fn write(&self, s: &str) {
        super::sys::write_all_raw(self.tty.as_raw_fd(), s.as_bytes());
    }

    /// One line typed (without its newline); None: end of file, an error,
    /// or a signal meant for the program (^C).
    fn read_line(&self) -> Option<Vec<u8>> {
        let mut line = Vec::new();
        let passed = super::PASSED.load(Ordering::Relaxed);
        loop {
            let mut p = libc::pollfd { fd: self.tty.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut p, 1, -1) } < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) && super::PASSED.load(Ordering::Relaxed) == passed {
                    // Another signal (a window resized): go on waiting.
                    continue;
                }
                return None;
            }
            let mut buf = [0u8; 256];
            // SAFETY: reading into our buffer.
            let n = unsafe { libc::read(self.tty.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            if n <= 0 {
                return None;
            }
            let got = &buf[..n as usize];
            // A line longer than any answer is no answer: keep a little.
            if line.len() < 64 {
                line.extend_from_slice(got);
            }
            if got.contains(&b'\n') {
                let end = line.iter().position(|&c| c == b'\n').unwrap_or(line.len());
                line.truncate(end);
                return Some(line);
            }
        }
    }

    fn flush_input(&self) {
        // SAFETY: discarding the terminal's pending input.
        unsafe { libc::tcflush(self.tty.as_raw_fd(), libc::TCIFLUSH) };
    }

    /// Sets the terminal's modes, discarding what was typed before.
    fn modes(&self, t: &libc::termios) {
        // SAFETY: tcsetattr on our fd with a termios of ours.
        unsafe { libc::tcsetattr(self.tty.as_raw_fd(), libc::TCSAFLUSH, t) };
    }

    /// Asks `q` in modes `t` (line editing, echo).
    fn question(&self, q: &Question, t: &libc::termios) -> Answer {
        let mut lead = terminal_reset();
        // No echo while keys are discarded: nothing typed then shows.
        let mut quiet = *t;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK);
        for tries in 0..3 {
            self.modes(&quiet);
            self.write(&format!("{lead}{}", powerbox::prompt(q)));
            lead.clear();
            std::thread::sleep(ANSWER_DELAY);
            self.modes(t);
            self.flush_input();
            self.write(": ");
            let Some(line) = self.read_line() else {
                self.write("\n");
                return Answer::Deny { session: false };
            };
            if let Some(a) = powerbox::parse_answer(&line, q.want) {
                return a;
            }
            if tries < 2 {
                self.write("preld pola: answer with one letter of those offered, then Enter (Enter alone: d)\n");
            }
        }
        Answer::Deny { session: false }
    }
}

/// What precedes a question: the terminal's state the program may have
/// set through its output put back, so that the question shows whole, as
/// itself, where it is read last (session-20b adversary, test
/// `the_terminal_state_the_program_set_is_reset_before_the_question`). A
/// program could otherwise print a question of its own, then make the real
/// one unreadable or keep it to one line: default colours redefined to
/// the background's (OSC 10/11; SGR 0 gives the default ones), a scrolling
/// region of one row (only the question's last row, "[d]: ", shows, under
/// the fake), insert mode, autowrap off, a line-drawing character set, a
/// double-width line. So: SGR 0, replace mode, autowrap, ASCII in G0 and
/// shifted in, origin mode off and full margins, the default colours and
/// palette (the Linux console's own sequence there: an xterm OSC would be
/// printed), then the last row and a new line, single-width: the question
/// starts on a blank row at the bottom, below all the program wrote.
fn terminal_reset() -> String {
    let mut s = String::from("\x1b[0m\x1b[4l\x1b[?7h\x1b(B\x0f\x1b[?6l\x1b[r");
    let linux = std::env::var_os("TERM").is_some_and(|t| t.as_encoded_bytes().starts_with(b"linux"));
    s.push_str(if linux { "\x1b]R" } else { "\x1b]104\x1b\\\x1b]110\x1b\\\x1b]111\x1b\\" });
    s.push_str("\x1b[999;1H\r\n\x1b#5");
    s
}

impl Asker for TerminalAsker {
    fn ask(&mut self, q: &Question) -> Answer {
        if let Some(p) = &self.pauser {
            p.pause();
        }
        let fd = self.tty.as_raw_fd();
        // SAFETY: termios calls on our terminal fd with structures of ours.
        let before = unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            (libc::tcgetattr(fd, &mut t) == 0).then_some(t)
        };
        let answer = match before {
            None => Answer::Deny { session: false },
            Some(before) => {
                let mut t = tty::user_modes().filter(|_| is_our_terminal(tty::user_fd())).unwrap_or(before);
                t.c_lflag |= libc::ICANON | libc::ECHO | libc::ECHOE | libc::ECHOK | libc::ISIG;
                t.c_iflag |= libc::ICRNL;
                t.c_oflag |= libc::OPOST | libc::ONLCR;
                let a = self.question(q, &t);
                // SAFETY: as above.
                unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, &before) };
                a
            }
        };
        if let Some(p) = &self.pauser {
            p.resume();
        }
        answer
    }
}
