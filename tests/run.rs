//! Running a command the way every test does: stdin from /dev/null, in a
//! process group of its own, stdout and stderr captured (or written to a
//! log file), and the whole group killed at a time limit so that a hang
//! fails its test instead of blocking CI. Also the text the tests show for
//! a command and for a wait status.
//!
//! - [`run_limited`]: captured output, an error at the limit;
//! - [`capture`]: the same, but what the program wrote before it was
//!   killed is kept ([`Output::timed_out`] says it was);
//! - [`run`]: [`run_limited`] with [`LIMIT`], failing the test on error;
//! - [`run_logged`]: stdout and stderr both to a file (long runs);
//! - [`wait_or_kill`]: for a child a test spawned itself (a terminal's,
//!   or one it signals while it runs).

use std::borrow::BorrowMut;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The time limit of [`run`].
pub const LIMIT: Duration = Duration::from_secs(60);

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: ExitStatus,
    pub elapsed: Duration,
    /// Killed at the limit (with its process group), or a process it left
    /// behind still held its stdout or stderr at the limit.
    pub timed_out: bool,
}

impl Output {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The status, stdout and stderr, for a failure message.
    pub fn report(&self) -> String {
        format!(
            "{}\nstdout:\n{}stderr:\n{}",
            describe_status(self.status),
            self.stdout_str(),
            self.stderr_str()
        )
    }
}

/// Sends SIGKILL to the process group `pgid` (a child started in a group
/// of its own, or as a session leader, leads the group of its pid).
pub fn kill_group(pgid: u32) {
    // SAFETY: kill has no memory effects; a group that is gone is ESRCH.
    unsafe { libc::kill(-(pgid as i32), libc::SIGKILL) };
}

/// How a child that [`wait_or_kill`] waited for ended.
#[derive(Debug, Clone, Copy)]
pub struct Waited {
    pub status: ExitStatus,
    /// It was still running at the limit and was killed.
    pub timed_out: bool,
}

/// Waits for `child` until `limit` from now; then kills its process group
/// and itself, and reaps it.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> Waited {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("wait for {}: {e}", child.id())) {
            return Waited { status, timed_out: false };
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.kill();
            let status = child.wait().unwrap_or_else(|e| panic!("wait for {}: {e}", child.id()));
            return Waited { status, timed_out: true };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `cmd` in its own process group with stdin from /dev/null; kills the
/// group at `limit`, and returns what it wrote until then. A process left
/// behind that holds the pipes past the limit is killed too (if it is in
/// the group) and not waited for. Errors only when `cmd` cannot start.
pub fn capture(mut cmd: impl BorrowMut<Command>, limit: Duration) -> Result<Output, String> {
    let cmd = cmd.borrow_mut();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    // A program a test has just copied into place: another test thread
    // that forked meanwhile holds the copy's write fd until its child
    // execs, and the exec fails with ETXTBSY until then.
    let mut tries = 0;
    let mut child = loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            r => break r.map_err(|e| format!("cannot start: {e}"))?,
        }
    };
    let pgid = child.id();
    let reader = |mut pipe: Box<dyn Read + Send>| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let b = buf.clone();
        let t = std::thread::spawn(move || {
            let mut chunk = [0u8; 65536];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => b.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        (buf, t)
    };
    let (out, t_out) = reader(Box::new(child.stdout.take().unwrap()));
    let (err, t_err) = reader(Box::new(child.stderr.take().unwrap()));
    let waited = wait_or_kill(&mut child, limit);
    let mut timed_out = waited.timed_out;
    // A grandchild may keep the pipes open past its parent's exit: wait for
    // it until the limit, then kill the group and give up on the rest.
    let deadline = start + limit;
    let closed = || t_out.is_finished() && t_err.is_finished();
    while !closed() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if !closed() {
        timed_out = true;
        kill_group(pgid);
        let grace = Instant::now() + Duration::from_secs(2);
        while !closed() && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let take = |b: &Arc<Mutex<Vec<u8>>>| std::mem::take(&mut *b.lock().unwrap());
    Ok(Output {
        stdout: take(&out),
        stderr: take(&err),
        status: waited.status,
        elapsed: start.elapsed(),
        timed_out,
    })
}

/// [`capture`], with an error also when the limit was reached.
pub fn run_limited(cmd: impl BorrowMut<Command>, limit: Duration) -> Result<Output, String> {
    let o = capture(cmd, limit)?;
    if o.timed_out {
        return Err(format!(
            "timed out after {limit:?} (process group killed; {}); stderr so far:\n{}",
            describe_status(o.status),
            o.stderr_str()
        ));
    }
    Ok(o)
}

/// [`run_limited`] with [`LIMIT`]; fails the test, showing the command, if
/// it cannot start or times out.
pub fn run(mut cmd: impl BorrowMut<Command>) -> Output {
    let shown = show(cmd.borrow_mut());
    run_limited(cmd, LIMIT).unwrap_or_else(|e| panic!("`{shown}`: {e}"))
}

/// Runs `cmd` in its own process group with stdin from /dev/null and its
/// stdout and stderr both to the file `log`; kills the group at `limit`.
pub fn run_logged(mut cmd: impl BorrowMut<Command>, log: &Path, limit: Duration) -> Waited {
    let cmd = cmd.borrow_mut();
    let file = std::fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    cmd.stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .process_group(0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    wait_or_kill(&mut child, limit)
}

/// "exit 0", "signal 11 (SIGSEGV)", "signal 6 (SIGABRT), core dumped".
pub fn describe_status(s: ExitStatus) -> String {
    if let Some(c) = s.code() {
        return format!("exit {c}");
    }
    let sig = s.signal().unwrap_or(0);
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => "?",
    };
    format!(
        "signal {sig} ({name}){}",
        if s.core_dumped() { ", core dumped" } else { "" }
    )
}

/// Quotes for bash, unless plainly safe.
pub fn shell_quote(w: &OsStr) -> String {
    let s = w.to_string_lossy();
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `cd DIR && PROG ARGS`, shell-quoted (the environment left out).
pub fn show(cmd: &Command) -> String {
    show_command(cmd, &[])
}

/// A copy-pasteable view: `cd DIR && env -i K=V... PROG ARGS`, with `env`
/// the command's whole environment (it was cleared), or none.
pub fn show_command(cmd: &Command, env: &[(OsString, OsString)]) -> String {
    let mut s = String::new();
    if let Some(d) = cmd.get_current_dir() {
        let _ = write!(s, "cd {} && ", shell_quote(d.as_os_str()));
    }
    if !env.is_empty() {
        s.push_str("env -i ");
        for (k, v) in env {
            let mut kv = k.clone();
            kv.push("=");
            kv.push(v);
            let _ = write!(s, "{} ", shell_quote(&kv));
        }
    }
    s.push_str(&shell_quote(cmd.get_program()));
    for a in cmd.get_args() {
        let _ = write!(s, " {}", shell_quote(a));
    }
    s
}
