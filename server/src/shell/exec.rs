//! Running a parsed line: each simple command is a `preld pola -B` session
//! (grants.rs says with what), started as a child of the shell with its
//! fds 0-9 set from the pipeline and the redirections, which the shell
//! opens itself with the user's authority (so nothing is granted for
//! them: the session gets the open file, as any fd 0, 1, 2 or `--fd`).
//!
//! Builtins (cd, pwd, exit, export, unset, jobs, fg, bg, wait, help) run in the
//! shell; in a pipeline or in the background, in a forked copy of it, as
//! sh runs them in a subshell.
//!
//! Job control, when the shell is interactive: each pipeline is a process
//! group, made the terminal's foreground while it runs (the sessions'
//! launchers then relay the user's keystrokes, ^C included, to their own
//! terminals); ^Z stops it (a launcher stops when its program does, and
//! the shell stops the rest of the group), `fg` and `bg` continue it, `&`
//! starts it in the background. Statuses are sh's: a pipeline's is its
//! last command's, 128+N for a command killed by signal N, 127 for a
//! command not found, 126 for one that cannot run, 2 for a syntax error.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::expand::{self, Env, Value};
use super::grants::{self, Options};
use super::syntax::{AndOr, Cmd, Cond, GrantKind, Item, List, Pipeline, RedirOp};

/// Highest fd a redirection may name (sh's single digit).
const MAX_FD: usize = 9;

/// The signals an interactive shell ignores; its children get them back.
const SHELL_IGNORES: [libc::c_int; 5] = [libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

/// The user's terminal, when the shell runs jobs on it.
pub struct Terminal {
    fd: RawFd,
    /// The shell's process group.
    pgid: libc::pid_t,
    /// Its modes at the prompt, put back after each job (a session's
    /// launcher makes it raw while it relays).
    modes: Option<libc::termios>,
}

impl Terminal {
    /// Takes the terminal for an interactive shell on fd 0: waits to be in
    /// its foreground, ignores the job-control signals, leads a process
    /// group of its own and makes it the foreground.
    /// None when fd 0 is not the shell's controlling terminal.
    pub fn take() -> Option<Terminal> {
        let fd = 0;
        // SAFETY: process-group and signal calls on our own process and
        // terminal; the modes are read into a zeroed termios.
        unsafe {
            loop {
                let fg = libc::tcgetpgrp(fd);
                if fg < 0 {
                    return None;
                }
                if fg == libc::getpgrp() {
                    break;
                }
                // Started in the background: stop until made foreground.
                libc::kill(-libc::getpgrp(), libc::SIGTTIN);
            }
            for sig in SHELL_IGNORES {
                libc::signal(sig, libc::SIG_IGN);
            }
            let me = libc::getpid();
            if libc::getpgrp() != me {
                libc::setpgid(0, 0);
            }
            libc::tcsetpgrp(fd, me);
            let mut t: libc::termios = std::mem::zeroed();
            let modes = (libc::tcgetattr(fd, &mut t) == 0).then_some(t);
            Some(Terminal { fd, pgid: me, modes })
        }
    }

    /// The terminal back to the shell, in the modes of the prompt.
    fn reclaim(&self) {
        // SAFETY: terminal calls on our own terminal (SIGTTOU is ignored).
        unsafe {
            libc::tcsetpgrp(self.fd, self.pgid);
            if let Some(t) = &self.modes {
                libc::tcsetattr(self.fd, libc::TCSADRAIN, t);
            }
        }
    }

    fn give(&self, pgid: libc::pid_t) {
        // SAFETY: as above.
        unsafe { libc::tcsetpgrp(self.fd, pgid) };
    }
}

/// Where one of a command's fds 0-9 comes from.
#[derive(Clone)]
enum Src {
    /// The shell's own fd of that number.
    Inherit(RawFd),
    /// A file or pipe end the shell opened.
    Own(Rc<OwnedFd>),
    /// `N>&-`.
    Closed,
}

/// A command's fds 0-9 (None: not given).
#[derive(Clone)]
struct Fds([Option<Src>; MAX_FD + 1]);

impl Fds {
    fn new() -> Fds {
        let mut t: [Option<Src>; MAX_FD + 1] = Default::default();
        for (fd, slot) in t.iter_mut().enumerate().take(3) {
            *slot = Some(Src::Inherit(fd as RawFd));
        }
        Fds(t)
    }

    /// The raw fd the shell holds for `n` (for builtins run in the shell).
    fn raw(&self, n: usize) -> RawFd {
        match &self.0[n] {
            Some(Src::Inherit(fd)) => *fd,
            Some(Src::Own(f)) => f.as_raw_fd(),
            _ => -1,
        }
    }

    /// What a child does to get these fds: (source, target) pairs, the
    /// sources first copied above every target so that no dup2 clobbers
    /// another's source, and the fds to close. The copies are held until
    /// the child has started.
    fn plan(&self) -> std::io::Result<ChildFds> {
        let mut c = ChildFds { held: Vec::new(), dups: Vec::new(), close: Vec::new() };
        for (t, src) in self.0.iter().enumerate() {
            let from = match src {
                None => continue,
                Some(Src::Closed) => {
                    c.close.push(t as RawFd);
                    continue;
                }
                Some(Src::Inherit(fd)) if *fd == t as RawFd => continue,
                Some(Src::Inherit(fd)) => *fd,
                Some(Src::Own(f)) => f.as_raw_fd(),
            };
            // SAFETY: F_DUPFD_CLOEXEC makes a new fd we own.
            let copy = unsafe { libc::fcntl(from, libc::F_DUPFD_CLOEXEC, (MAX_FD + 1) as libc::c_int) };
            if copy < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: just made, owned by nobody else.
            c.held.push(unsafe { OwnedFd::from_raw_fd(copy) });
            c.dups.push((copy, t as RawFd));
        }
        Ok(c)
    }

    /// fds above 2 that the session must be given (`--fd N`).
    fn extra(&self) -> Vec<i32> {
        (3..=MAX_FD).filter(|&n| matches!(self.0[n], Some(Src::Inherit(_) | Src::Own(_)))).map(|n| n as i32).collect()
    }
}

/// A child's fd set-up (see [`Fds::plan`]).
struct ChildFds {
    held: Vec<OwnedFd>,
    dups: Vec<(RawFd, RawFd)>,
    close: Vec<RawFd>,
}

/// Job control in a child (between fork and exec, or in a forked
/// builtin): join the job's group (0: a new one led by the child), take
/// the terminal if it is a foreground job, get the signals the shell
/// ignores back, and set up the fds. Only async-signal-safe calls.
fn child_setup(job: Option<(libc::pid_t, Option<RawFd>)>, dups: &[(RawFd, RawFd)], close: &[RawFd]) {
    // SAFETY: setpgid, tcsetpgrp, signal, dup2 and close are
    // async-signal-safe and act on this child only.
    unsafe {
        if let Some((pgid, tty)) = job {
            libc::setpgid(0, pgid);
            if let Some(tty) = tty {
                // SIGTTOU is still ignored here, so a background group
                // may take the terminal.
                libc::tcsetpgrp(tty, libc::getpgrp());
            }
        }
        for sig in SHELL_IGNORES {
            libc::signal(sig, libc::SIG_DFL);
        }
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        for &(from, to) in dups {
            libc::dup2(from, to);
        }
        for &fd in close {
            libc::close(fd);
        }
    }
}

/// One process of a job.
struct Proc {
    pid: libc::pid_t,
    /// Its wait status once it has ended.
    ended: Option<i32>,
    stopped: bool,
}

/// A pipeline (or a background and-or list) being run.
pub struct Job {
    id: usize,
    /// Its process group (0: none, every command failed to start).
    pgid: libc::pid_t,
    procs: Vec<Proc>,
    /// The status when the last command did not start (127, 1...).
    last_fixed: Option<i32>,
    negate: bool,
    text: String,
    /// Stopped and reported as such.
    reported_stop: bool,
}

impl Job {
    fn done(&self) -> bool {
        self.procs.iter().all(|p| p.ended.is_some())
    }

    /// Every process that still runs is stopped (and one is).
    fn stopped(&self) -> bool {
        self.procs.iter().any(|p| p.stopped) && self.procs.iter().all(|p| p.ended.is_some() || p.stopped)
    }

    /// The pipeline's status: its last command's.
    fn status(&self) -> i32 {
        let s = match (self.last_fixed, self.procs.last()) {
            (Some(s), _) => s,
            (None, Some(p)) => p.ended.map_or(0, status_of),
            (None, None) => 0,
        };
        if self.negate {
            i32::from(s == 0)
        } else {
            s
        }
    }
}

/// sh's status of a wait status.
fn status_of(st: i32) -> i32 {
    if libc::WIFEXITED(st) {
        libc::WEXITSTATUS(st)
    } else if libc::WIFSIGNALED(st) {
        128 + libc::WTERMSIG(st)
    } else {
        1
    }
}

/// What a builtin writes to.
#[derive(Clone, Copy)]
struct Io {
    out: RawFd,
    err: RawFd,
}

/// Writes all of `b` to `fd`; a closed pipe or fd is not an error of the
/// shell's.
fn put(fd: RawFd, b: &[u8]) {
    crate::pola::sys::write_all_raw(fd, b);
}

/// A message of the shell's: `preld shell: MSG`.
fn complain(fd: RawFd, msg: &str) {
    put(fd, format!("preld shell: {msg}\n").as_bytes());
}

/// A word as sh would show it (for -v and job lists).
fn quoted(w: &OsStr) -> String {
    let s = w.to_string_lossy();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b)) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn errno_text(e: &std::io::Error) -> String {
    crate::reason(e)
}

pub struct Shell {
    /// `$?`.
    pub status: i32,
    pub vars: BTreeMap<String, Value>,
    pub opts: Options,
    /// `-v`: show each session's command line.
    pub verbose: bool,
    /// Job control (an interactive shell).
    pub term: Option<Terminal>,
    jobs: Vec<Job>,
    /// Set by `exit`: the shell ends with this status.
    pub exit: Option<i32>,
    /// `exit` was refused once because of stopped jobs.
    warned_stopped: bool,
}

const HELP: &str = "\
preld shell: each command runs in a capability session of its own (preld pola -B)
with only the base system and what its command line names:
  cmd FILE...        FILE (an existing file or directory) is granted read-only
  cmd => FILE        FILE is granted read-write (an empty one is made if missing)
  cmd + DIR          DIR (an existing directory) is granted read-write
                     (quote a plus sign to pass it: '+')
  cmd < in > out     redirections are opened by the shell: nothing is granted
                     (also >>, 2>, 2>&1, &>, <>, N>&-)
  a | b, a && b, a || b, a; b, a &, ! a, NAME=value cmd
  'single', \"double $VAR\", back\\slash, ~, *.c globs, $?, $$, # comments
builtins: cd [DIR|-], pwd, exit [N], export [NAME[=VALUE]], unset NAME,
          jobs, fg [%N], bg [%N], wait, help
";

impl Shell {
    pub fn new(opts: Options, verbose: bool, term: Option<Terminal>) -> Shell {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, Value { bytes: v.into_vec(), exported: true })))
            .collect();
        Shell { status: 0, vars, opts, verbose, term, jobs: Vec::new(), exit: None, warned_stopped: false }
    }

    fn env(&self) -> Env<'_> {
        Env { status: self.status, vars: &self.vars }
    }

    /// Runs a parsed line.
    pub fn run_list(&mut self, list: &List) {
        for item in list {
            if self.exit.is_some() {
                return;
            }
            self.run_item(item);
        }
    }

    fn run_item(&mut self, item: &Item) {
        if !item.background {
            self.status = self.run_and_or(&item.and_or);
            return;
        }
        let job = if item.and_or.rest.is_empty() {
            self.start_pipeline(&item.and_or.first, &item.text, false)
        } else {
            self.fork_and_or(&item.and_or, &item.text)
        };
        if self.term.is_some() && job.pgid > 0 {
            eprintln!("[{}] {}", job.id, job.pgid);
        }
        self.jobs.push(job);
        self.status = 0;
    }

    fn run_and_or(&mut self, a: &AndOr) -> i32 {
        let mut status = self.run_pipeline(&a.first);
        for (cond, p) in &a.rest {
            if self.exit.is_some() {
                break;
            }
            self.status = status;
            if (*cond == Cond::And) == (status == 0) {
                status = self.run_pipeline(p);
            }
        }
        status
    }

    /// A background and-or list: a forked copy of the shell runs it
    /// without job control.
    fn fork_and_or(&mut self, a: &AndOr, text: &str) -> Job {
        let id = self.next_id();
        let job_control = self.term.is_some();
        // SAFETY: the shell is single-threaded; the child runs the list and
        // leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // sh: without job control, a background list does not read
            // the shell's input.
            let null = (!job_control).then(|| std::fs::File::open("/dev/null").ok()).flatten();
            let dups: Vec<(RawFd, RawFd)> = null.iter().map(|f| (f.as_raw_fd(), 0)).collect();
            child_setup(job_control.then_some((0, None)), &dups, &[]);
            self.term = None;
            self.jobs.clear();
            let st = self.run_and_or(a);
            // SAFETY: ends the forked copy without running the parent's
            // exit-time code.
            unsafe { libc::_exit(st) };
        }
        let mut job = Job { id, pgid: pid.max(0), procs: Vec::new(), last_fixed: None, negate: false, text: text.into(), reported_stop: false };
        if pid < 0 {
            complain(2, &format!("fork: {}", std::io::Error::last_os_error()));
            job.last_fixed = Some(1);
        } else {
            if job_control {
                // SAFETY: the child's group, as the child sets it (whoever
                // is first).
                unsafe { libc::setpgid(pid, pid) };
            }
            job.procs.push(Proc { pid, ended: None, stopped: false });
        }
        job
    }

    fn run_pipeline(&mut self, p: &Pipeline) -> i32 {
        // A lone builtin or a command of assignments or redirections only
        // runs in the shell itself (cd must change the shell's directory).
        if let [cmd] = p.cmds.as_slice() {
            let first = cmd.args.first().map(|a| expand::words(&a.word, &self.env()));
            let builtin = first.as_ref().and_then(|w| w.first()).is_some_and(|w| is_builtin(w));
            if cmd.args.is_empty() || builtin {
                let st = self.run_here(cmd);
                return if p.negate { i32::from(st == 0) } else { st };
            }
        }
        let job = self.start_pipeline(p, &p.text, true);
        self.wait_foreground(job)
    }

    /// Starts every command of a pipeline, each in its session.
    fn start_pipeline(&mut self, p: &Pipeline, text: &str, foreground: bool) -> Job {
        let mut job = Job {
            id: if foreground { 0 } else { self.next_id() },
            pgid: 0,
            procs: Vec::new(),
            last_fixed: None,
            negate: p.negate,
            text: text.into(),
            reported_stop: false,
        };
        let n = p.cmds.len();
        let mut input: Option<OwnedFd> = None;
        for (i, cmd) in p.cmds.iter().enumerate() {
            let mut fds = Fds::new();
            if let Some(r) = input.take() {
                fds.0[0] = Some(Src::Own(Rc::new(r)));
            } else if !foreground && self.term.is_none() {
                // sh: without job control, a background command does not
                // read the shell's input.
                if let Ok(null) = std::fs::File::open("/dev/null") {
                    fds.0[0] = Some(Src::Own(Rc::new(null.into())));
                }
            }
            if i + 1 < n {
                match rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC) {
                    Ok((r, w)) => {
                        input = Some(r);
                        fds.0[1] = Some(Src::Own(Rc::new(w)));
                    }
                    Err(e) => {
                        complain(2, &format!("pipe: {e}"));
                        job.last_fixed = Some(1);
                        break;
                    }
                }
            }
            let tty = self.term.as_ref().filter(|_| foreground).map(|t| t.fd);
            let started = self.start_command(cmd, fds, job.pgid, tty);
            match started {
                Ok(pid) => {
                    if job.pgid == 0 {
                        job.pgid = pid;
                    }
                    if self.term.is_some() {
                        // SAFETY: as the child does (whichever runs first).
                        unsafe { libc::setpgid(pid, job.pgid) };
                        if let Some(t) = self.term.as_ref().filter(|_| foreground) {
                            t.give(job.pgid);
                        }
                    }
                    job.procs.push(Proc { pid, ended: None, stopped: false });
                    if i + 1 == n {
                        job.last_fixed = None;
                    }
                }
                Err(st) => {
                    if i + 1 == n {
                        job.last_fixed = Some(st);
                    }
                }
            }
        }
        job
    }

    /// Expands a command, opens its redirections and starts it (a session,
    /// or a forked builtin): its pid, or the status of a command that could
    /// not start (its reason already said).
    fn start_command(&mut self, cmd: &Cmd, mut fds: Fds, pgid: libc::pid_t, tty: Option<RawFd>) -> Result<libc::pid_t, i32> {
        let env = self.env();
        let mut words = Vec::new();
        for a in &cmd.args {
            let (ws, matched) = expand::words_matched(&a.word, &env);
            for w in ws {
                words.push(grants::Word { bytes: w, grant: a.grant, matched });
            }
        }
        let assigns: Vec<(String, Vec<u8>)> = cmd.assigns.iter().map(|(n, w)| (n.clone(), expand::value(w, &env))).collect();
        if let Err(msg) = self.redirect(cmd, &mut fds) {
            complain(2, &msg);
            return Err(1);
        }
        let Some(first) = words.first() else { return Err(0) };
        let job = self.term.as_ref().map(|_| (pgid, tty));
        if is_builtin(&first.bytes) {
            return self.fork_builtin(&words, &fds, job);
        }
        if let Err(e) = grants::check_program(&first.bytes) {
            complain(2, &e.why);
            return Err(e.status);
        }
        let cwd = match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => {
                complain(2, &format!("cannot get the current directory: {}", errno_text(&e)));
                return Err(1);
            }
        };
        let argv = match grants::session_argv(&self.opts, &words, &cwd, &fds.extra()) {
            Ok(a) => a,
            Err(e) => {
                complain(2, &e.why);
                return Err(e.status);
            }
        };
        if self.verbose {
            let shown: Vec<String> = argv.iter().map(|a| quoted(a)).collect();
            put(2, format!("+ {}\n", shown.join(" ")).as_bytes());
        }
        let plan = match fds.plan() {
            Ok(p) => p,
            Err(e) => {
                complain(2, &format!("cannot set up the fds: {e}"));
                return Err(1);
            }
        };
        let mut c = std::process::Command::new(&argv[0]);
        c.args(&argv[1..]).env_clear();
        c.envs(self.vars.iter().filter(|(_, v)| v.exported).map(|(k, v)| (OsString::from(k), OsString::from_vec(v.bytes.clone()))));
        c.envs(assigns.iter().map(|(k, v)| (OsString::from(k), OsString::from_vec(v.clone()))));
        let (dups, close) = (plan.dups.clone(), plan.close.clone());
        // SAFETY: child_setup makes only async-signal-safe calls.
        unsafe {
            c.pre_exec(move || {
                child_setup(job, &dups, &close);
                Ok(())
            });
        }
        let spawned = c.spawn();
        drop(plan);
        match spawned {
            Ok(child) => Ok(child.id() as libc::pid_t),
            Err(e) => {
                complain(2, &format!("cannot start {}: {}", argv[0].to_string_lossy(), errno_text(&e)));
                Err(126)
            }
        }
    }

    /// A builtin in a pipeline or the background: a forked copy of the
    /// shell runs it.
    fn fork_builtin(&mut self, words: &[grants::Word], fds: &Fds, job: Option<(libc::pid_t, Option<RawFd>)>) -> Result<libc::pid_t, i32> {
        let plan = fds.plan().map_err(|e| {
            complain(2, &format!("cannot set up the fds: {e}"));
            1
        })?;
        // SAFETY: the shell is single-threaded; the child runs the builtin
        // and leaves with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            child_setup(job, &plan.dups, &plan.close);
            self.term = None;
            let st = self.builtin(words, Io { out: 1, err: 2 });
            // SAFETY: ends the forked copy.
            unsafe { libc::_exit(self.exit.unwrap_or(st)) };
        }
        if pid < 0 {
            complain(2, &format!("fork: {}", std::io::Error::last_os_error()));
            return Err(1);
        }
        Ok(pid)
    }

    /// Opens a command's redirections, in order, into `fds`.
    fn redirect(&self, cmd: &Cmd, fds: &mut Fds) -> Result<(), String> {
        let env = self.env();
        for r in &cmd.redirs {
            let fd = r.fd as usize;
            let target = expand::one(&r.target, &env).map_err(|e| format!("redirection: {e}"))?;
            if r.op == RedirOp::Dup {
                fds.0[fd] = match target.as_slice() {
                    b"-" => Some(Src::Closed),
                    [d] if d.is_ascii_digit() => match &fds.0[usize::from(d - b'0')] {
                        Some(s @ (Src::Inherit(_) | Src::Own(_))) => Some(s.clone()),
                        _ => return Err(format!("{}: bad file descriptor", *d as char)),
                    },
                    t => return Err(format!("{}: not an fd number (0-9 or -)", String::from_utf8_lossy(t))),
                };
                continue;
            }
            let mut o = std::fs::OpenOptions::new();
            match r.op {
                RedirOp::In => o.read(true),
                RedirOp::Out | RedirOp::OutErr => o.write(true).create(true).truncate(true),
                RedirOp::Append | RedirOp::AppendErr => o.append(true).create(true),
                RedirOp::ReadWrite => o.read(true).write(true).create(true),
                RedirOp::Dup => unreachable!("handled above"),
            };
            let path = PathBuf::from(OsStr::from_bytes(&target));
            let f = o.open(&path).map_err(|e| format!("{}: {}", path.display(), errno_text(&e)))?;
            let f = Rc::new(OwnedFd::from(f));
            if matches!(r.op, RedirOp::OutErr | RedirOp::AppendErr) {
                fds.0[1] = Some(Src::Own(f.clone()));
                fds.0[2] = Some(Src::Own(f));
            } else {
                fds.0[fd] = Some(Src::Own(f));
            }
        }
        Ok(())
    }

    /// A builtin, assignments or bare redirections, in the shell itself.
    fn run_here(&mut self, cmd: &Cmd) -> i32 {
        let mut fds = Fds::new();
        if let Err(msg) = self.redirect(cmd, &mut fds) {
            complain(2, &msg);
            return 1;
        }
        let env = self.env();
        let mut words = Vec::new();
        for a in &cmd.args {
            for w in expand::words(&a.word, &env) {
                words.push(grants::Word { bytes: w, grant: GrantKind::Auto, matched: None });
            }
        }
        if words.is_empty() {
            let values: Vec<(String, Vec<u8>)> = cmd.assigns.iter().map(|(n, w)| (n.clone(), expand::value(w, &env))).collect();
            for (name, bytes) in values {
                let exported = self.vars.get(&name).is_some_and(|v| v.exported);
                self.vars.insert(name, Value { bytes, exported });
            }
            return 0;
        }
        self.builtin(&words, Io { out: fds.raw(1), err: fds.raw(2) })
    }

    fn next_id(&self) -> usize {
        self.jobs.iter().map(|j| j.id).max().unwrap_or(0) + 1
    }

    /// Records a wait status for whichever job has that process.
    fn record(&mut self, fg: Option<&mut Job>, pid: libc::pid_t, st: i32) {
        let jobs = fg.into_iter().chain(self.jobs.iter_mut());
        for job in jobs {
            if let Some(p) = job.procs.iter_mut().find(|p| p.pid == pid) {
                if libc::WIFSTOPPED(st) {
                    p.stopped = true;
                } else if libc::WIFCONTINUED(st) {
                    p.stopped = false;
                } else {
                    p.ended = Some(st);
                    p.stopped = false;
                }
                return;
            }
        }
    }

    /// Waits for a foreground job to end or stop; its status.
    fn wait_foreground(&mut self, mut job: Job) -> i32 {
        // After a first stop: until when the rest of the group may take to
        // stop too.
        let mut stopping: Option<Instant> = None;
        // Without job control a stopped command is waited for until it
        // ends, as sh does (nothing could continue it from here).
        let untraced = if self.term.is_some() { libc::WUNTRACED } else { 0 };
        while !job.done() && !job.stopped() {
            let block = stopping.is_none();
            let mut st = 0;
            // SAFETY: waitpid into a local int.
            let pid = unsafe { libc::waitpid(-1, &mut st, untraced | if block { 0 } else { libc::WNOHANG }) };
            if pid < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                // No child left to wait for: nothing more will end.
                for p in job.procs.iter_mut().filter(|p| p.ended.is_none()) {
                    p.ended = Some(0);
                }
                break;
            }
            if pid == 0 {
                if stopping.is_some_and(|t| Instant::now() >= t) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            self.record(Some(&mut job), pid, st);
            if libc::WIFSTOPPED(st) && stopping.is_none() && job.procs.iter().any(|p| p.pid == pid) && self.term.is_some() {
                // One session stopped (^Z reached its terminal): stop the
                // rest of the pipeline as a terminal would.
                // SAFETY: a signal to the job's own group.
                unsafe { libc::kill(-job.pgid, libc::SIGTSTP) };
                stopping = Some(Instant::now() + Duration::from_secs(1));
            }
        }
        if let Some(t) = &self.term {
            t.reclaim();
        }
        if !job.done() {
            job.id = self.next_id();
            job.reported_stop = true;
            eprintln!("\n[{}]+  Stopped                 {}", job.id, job.text_or_pids());
            self.jobs.push(job);
            return 128 + libc::SIGTSTP;
        }
        self.say_signals(&job);
        job.status()
    }

    /// sh's words for a foreground job killed by a signal (not ^C or a
    /// closed pipe, which say nothing).
    fn say_signals(&self, job: &Job) {
        let sig = job.procs.iter().filter_map(|p| p.ended).find(|&st| libc::WIFSIGNALED(st)).map(|st| libc::WTERMSIG(st));
        match sig {
            Some(libc::SIGINT) if self.term.is_some() => put(2, b"\n"),
            Some(libc::SIGINT | libc::SIGPIPE) | None => {}
            Some(s) => {
                // SAFETY: strsignal returns a static (or thread-local)
                // string, copied at once.
                let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(s)) }.to_string_lossy().into_owned();
                put(2, format!("{name}\n").as_bytes());
            }
        }
    }

    /// Collects what background jobs did; reports (interactive) those that
    /// ended or stopped, and forgets the ended ones.
    pub fn reap(&mut self) {
        loop {
            let mut st = 0;
            // SAFETY: waitpid into a local int.
            let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG | libc::WUNTRACED | libc::WCONTINUED) };
            if pid <= 0 {
                break;
            }
            self.record(None, pid, st);
        }
        let interactive = self.term.is_some();
        let mut keep = Vec::new();
        for mut job in std::mem::take(&mut self.jobs) {
            if job.done() {
                if interactive {
                    let how = match job.status() {
                        0 => "Done".to_owned(),
                        s => format!("Exit {s}"),
                    };
                    eprintln!("[{}]+  {how:<24}{}", job.id, job.text_or_pids());
                }
                continue;
            }
            if job.stopped() && !job.reported_stop && interactive {
                eprintln!("[{}]+  Stopped                 {}", job.id, job.text_or_pids());
                job.reported_stop = true;
            }
            keep.push(job);
        }
        self.jobs = keep;
    }

    /// Stopped jobs are left: `exit` warns once, as bash does.
    pub fn refuse_exit(&mut self) -> bool {
        if self.jobs.iter().any(|j| j.stopped()) && !self.warned_stopped {
            self.warned_stopped = true;
            eprintln!("There are stopped jobs.");
            return true;
        }
        false
    }

    fn builtin(&mut self, words: &[grants::Word], io: Io) -> i32 {
        let name = String::from_utf8_lossy(&words[0].bytes).into_owned();
        let args: Vec<&[u8]> = words[1..].iter().map(|w| w.bytes.as_slice()).collect();
        let fail = |msg: String| {
            complain(io.err, &format!("{name}: {msg}"));
            1
        };
        match name.as_str() {
            "cd" => self.cd(&args, io),
            "pwd" => match std::env::current_dir() {
                Ok(d) => {
                    let mut b = d.into_os_string().into_vec();
                    b.push(b'\n');
                    put(io.out, &b);
                    0
                }
                Err(e) => fail(errno_text(&e)),
            },
            "exit" => {
                let code = match args.as_slice() {
                    [] => self.status,
                    [n] => match std::str::from_utf8(n).ok().and_then(|n| n.parse::<i64>().ok()) {
                        Some(n) => (n & 0xff) as i32,
                        None => {
                            complain(io.err, &format!("exit: {}: numeric argument required", String::from_utf8_lossy(n)));
                            2
                        }
                    },
                    _ => return fail("too many arguments".into()),
                };
                if self.term.is_some() && self.refuse_exit() {
                    return 1;
                }
                self.exit = Some(code);
                code
            }
            "export" => {
                if args.is_empty() {
                    for (k, v) in self.vars.iter().filter(|(_, v)| v.exported) {
                        put(io.out, format!("export {k}={}\n", quoted(OsStr::from_bytes(&v.bytes))).as_bytes());
                    }
                    return 0;
                }
                let mut st = 0;
                for a in args {
                    let (name, value) = match a.iter().position(|&b| b == b'=') {
                        Some(i) => (&a[..i], Some(a[i + 1..].to_vec())),
                        None => (a, None),
                    };
                    let Some(name) = std::str::from_utf8(name).ok().filter(|n| valid_name(n)) else {
                        st = fail(format!("`{}`: not a valid name", String::from_utf8_lossy(a)));
                        continue;
                    };
                    let v = self.vars.entry(name.to_owned()).or_insert(Value { bytes: Vec::new(), exported: true });
                    v.exported = true;
                    if let Some(value) = value {
                        v.bytes = value;
                    }
                }
                st
            }
            "unset" => {
                for a in args {
                    self.vars.remove(String::from_utf8_lossy(a).as_ref());
                }
                0
            }
            "jobs" => {
                for j in &self.jobs {
                    let state = if j.stopped() { "Stopped" } else { "Running" };
                    put(io.out, format!("[{}]   {state:<24}{}\n", j.id, j.text_or_pids()).as_bytes());
                }
                0
            }
            "fg" | "bg" => {
                let Some(i) = self.job_index(args.first().copied()) else {
                    return fail(match args.first() {
                        Some(a) => format!("{}: no such job", String::from_utf8_lossy(a)),
                        None => "no current job".into(),
                    });
                };
                if name == "fg" {
                    self.fg(i, io)
                } else {
                    self.bg(i, io)
                }
            }
            "wait" => self.wait_all(),
            "help" => {
                put(io.out, HELP.as_bytes());
                if let Some(h) = super::edit::history_file() {
                    put(io.out, format!("history: {}\n", h.display()).as_bytes());
                }
                0
            }
            _ => fail("not a builtin".into()),
        }
    }

    fn cd(&mut self, args: &[&[u8]], io: Io) -> i32 {
        let var = |s: &Self, n: &str| s.vars.get(n).map(|v| v.bytes.clone()).filter(|v| !v.is_empty());
        let (dir, show) = match args {
            [] => match var(self, "HOME") {
                Some(h) => (h, false),
                None => {
                    complain(io.err, "cd: HOME not set");
                    return 1;
                }
            },
            [b"-"] => match var(self, "OLDPWD") {
                Some(o) => (o, true),
                None => {
                    complain(io.err, "cd: OLDPWD not set");
                    return 1;
                }
            },
            [d] => (d.to_vec(), false),
            _ => {
                complain(io.err, "cd: too many arguments");
                return 1;
            }
        };
        let old = std::env::current_dir().ok();
        if let Err(e) = std::env::set_current_dir(OsStr::from_bytes(&dir)) {
            complain(io.err, &format!("cd: {}: {}", String::from_utf8_lossy(&dir), errno_text(&e)));
            return 1;
        }
        let new = std::env::current_dir().map(|d| d.into_os_string().into_vec()).unwrap_or(dir);
        if let Some(old) = old {
            let exported = self.vars.get("OLDPWD").is_none_or(|v| v.exported);
            self.vars.insert("OLDPWD".into(), Value { bytes: old.into_os_string().into_vec(), exported });
        }
        let exported = self.vars.get("PWD").is_none_or(|v| v.exported);
        self.vars.insert("PWD".into(), Value { bytes: new.clone(), exported });
        if show {
            let mut b = new;
            b.push(b'\n');
            put(io.out, &b);
        }
        0
    }

    /// `wait`: until every background job has ended (or stopped); the
    /// status of the last one.
    fn wait_all(&mut self) -> i32 {
        while self.jobs.iter().any(|j| !j.done() && !j.stopped()) {
            let mut st = 0;
            // SAFETY: waitpid into a local int.
            let pid = unsafe { libc::waitpid(-1, &mut st, libc::WUNTRACED) };
            if pid < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                break;
            }
            self.record(None, pid, st);
        }
        let status = self.jobs.iter().rev().find(|j| j.done()).map_or(0, Job::status);
        self.jobs.retain(|j| !j.done());
        status
    }

    /// The job `%N` or `N` names, or the most recent one.
    fn job_index(&self, spec: Option<&[u8]>) -> Option<usize> {
        match spec {
            None => self.jobs.len().checked_sub(1),
            Some(s) => {
                let n: usize = std::str::from_utf8(s.strip_prefix(b"%").unwrap_or(s)).ok()?.parse().ok()?;
                self.jobs.iter().position(|j| j.id == n)
            }
        }
    }

    fn fg(&mut self, i: usize, io: Io) -> i32 {
        let mut job = self.jobs.remove(i);
        put(io.out, format!("{}\n", job.text_or_pids()).as_bytes());
        if let Some(t) = &self.term {
            t.give(job.pgid);
        }
        for p in &mut job.procs {
            p.stopped = false;
        }
        job.reported_stop = false;
        if job.pgid > 0 {
            // SAFETY: a signal to the job's own group.
            unsafe { libc::kill(-job.pgid, libc::SIGCONT) };
        }
        self.wait_foreground(job)
    }

    fn bg(&mut self, i: usize, io: Io) -> i32 {
        let job = &mut self.jobs[i];
        for p in &mut job.procs {
            p.stopped = false;
        }
        job.reported_stop = false;
        put(io.out, format!("[{}]+ {} &\n", job.id, job.text_or_pids()).as_bytes());
        if job.pgid > 0 {
            // SAFETY: a signal to the job's own group.
            unsafe { libc::kill(-job.pgid, libc::SIGCONT) };
        }
        0
    }
}

impl Job {
    /// What `jobs` shows: the text typed, or (a job started by a line of
    /// several) its group.
    fn text_or_pids(&self) -> String {
        if self.text.is_empty() {
            format!("(process group {})", self.pgid)
        } else {
            self.text.clone()
        }
    }
}

fn valid_name(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty() && (b[0] == b'_' || b[0].is_ascii_alphabetic()) && b.iter().all(|&c| c == b'_' || c.is_ascii_alphanumeric())
}

fn is_builtin(w: &[u8]) -> bool {
    super::edit::BUILTINS.iter().any(|b| b.as_bytes() == w)
}
