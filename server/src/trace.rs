//! `preld trace`: run a program under ld-preld with its system calls written
//! strace-style, then report how it ended the way strace does.
//!
//! The handler inside the program writes the call lines itself (ld-preld's
//! `--trace-fd`); this side only opens the output, starts ld-preld as a child,
//! waits, writes strace's closing `+++ exited with N +++` or
//! `+++ killed by SIG... +++` line, and ends the way the program ended (same
//! exit code, or the same signal re-raised on itself), so that shells and
//! scripts see preld trace as they would see the program.

use std::ffi::c_int;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::filter::Expr;
use crate::{reason, TraceArgs};

pub const LONG_ABOUT: &str = "\
Run a program under ld-preld and write its system calls strace-style.

Each call is one line, `name(arguments) = result`, as strace writes it; the
handler inside the program writes them, buffered per thread, so tracing costs
no context switch to a tracer. The first line is the execve that started the
program (unless -e leaves execve out); the last is `+++ exited with N +++` or
`+++ killed by SIGNAL +++`. preld trace then exits the way the program did
(same exit code, or the same signal, without a core dump).

Without -o the lines go to stderr, mixed with the program's own. With -f,
threads and child processes are traced too, their lines prefixed with
`[pid N]`, and preld trace waits for all of them, as strace -f does; without
-f only the program's first thread is traced (also across execve).

-c counts calls, errors and time per call (the thread's CPU time, or the
wall clock with -w) and prints strace's summary table at the end instead of
the lines; a process killed by a signal does not add its counts.

-t/-tt/-ttt prefix each line with the time, -T appends the time spent in the
call, -s N shows N bytes of strings (and N elements of arrays), as strace's
options of the same names.

-e takes strace's syntax: `-e trace=openat,close` or `-e openat,close`,
classes (%file, %process, %network, %signal, %desc, %memory, %ipc, %creds,
%clock, %pure, %stat...), `!` to invert, `all`, `none`, `?name` for a name
that may be unknown. Names are x86_64 system calls; a name preld does not
know is an error.

-p PID traces a process already running under preld (started with preld
run, or ld-preld) instead of starting one, and detaches on SIGINT, SIGTERM
or SIGHUP, the process going on untraced; with --tracer, the tracers see
its calls. The process's own user only, never a capability session's.

-e inject=SET:error=ERRNO|retval=N[:signal=SIG][:delay_enter=D][:delay_exit=D][:when=EXPR]
and -e fault=SET[:error=ERRNO][:when=EXPR] tamper with calls as strace's do:
the call is not made and fails with ERRNO or returns N (marked `(INJECTED)`),
is delayed before or after (D: a number with s, ms, us or ns, default us;
marked `(DELAYED)`), and/or SIG is sent once it is over; EXPR (FIRST,
FIRST..LAST, FIRST+, FIRST+STEP, FIRST..LAST+STEP) picks the invocations,
counted per call and per thread. As in strace, only traced calls (the
-e trace= set, -f) are tampered with; fault= fails with ENOSYS by default.

-y shows the path an fd refers to after its number (`read(3</etc/passwd>,
...`, `AT_FDCWD</home/u>`, returned fds too: `= 3</etc/passwd>`); -yy adds
sockets' protocol and addresses (`<TCP:[127.0.0.1:40000->127.0.0.1:5555]>`,
`<UDPv6:[[::1]:53]>`) and devices' numbers (`</dev/null<char 1:3>>`). A
UNIX socket shows its inode and bound path, not its peer's inode (strace
reads that from sock_diag).

-z shows only the calls that succeeded, -Z only those that failed (neither
shows a call that does not return, `= ?`). -x writes strings with a
non-ASCII byte in \\x hex, -xx every string. -P PATH (repeatable) shows only
the calls that access PATH, as strace decides it: a path argument equal to
PATH (or to its resolved path), or an fd argument that refers to it. -qq
leaves out the `+++ exited with N +++` lines; -q, the `process N
attached/detached` messages of -p. --vdso also shows the calls the program makes through
preld's vDSO (clock_gettime, gettimeofday, time, getcpu, clock_getres),
under the same filter as the others; without it they show only when -e
trace= names them.";

/// Local time minus UTC now, in seconds (the handler writes -t times with
/// it, without reading the time zone itself).
fn utc_offset() -> i64 {
    // SAFETY: time(NULL) and localtime_r into a zeroed local struct tm.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff
    }
}

/// Exit statuses of a shell that could not start a command.
const EXIT_NOT_FOUND: u8 = 127;
const EXIT_CANNOT_EXEC: u8 = 126;

/// Signals handed on to the program (strace forwards these as well).
const FORWARDED: [c_int; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

/// The traced child's pid while it may receive signals; 0 before it exists
/// and once it has ended (its pid may then be reused).
static CHILD: AtomicI32 = AtomicI32::new(0);

/// The combinations of options preld trace refuses, before it starts
/// anything (tracers, the JSON converter).
fn usage(args: &TraceArgs, ff: bool) -> Result<(), String> {
    let lines = args.specs.is_empty() || args.output.is_some();
    let injects = args.expr.iter().any(|e| matches!(e, Expr::Inject(_)));
    if args.count && args.more.json {
        return Err("-c and --json do not go together".into());
    }
    if ff && (args.count || args.more.json) {
        return Err("-ff -o does not go with -c or --json".into());
    }
    if args.count && !args.pids.is_empty() {
        return Err("-c with -p is not supported".into());
    }
    if !lines && (injects || args.more.any_for_lines()) {
        return Err("with --tracer, the strace lines' options (-e inject=, -z, -Z, -x, -y, -P, -q, --vdso, --json) need -o".into());
    }
    Ok(())
}

pub fn main(args: TraceArgs) -> ExitCode {
    // Its waits need SIGCHLD's default (the program gets the caller's).
    crate::dispositions::reset_sigchld();
    let ld = match crate::ld_preld() {
        Ok(ld) => ld,
        Err(why) => {
            eprintln!("preld: trace: {why}");
            return ExitCode::from(EXIT_NOT_FOUND);
        }
    };
    let ff = args.follow > 1 && args.output.is_some() && args.pids.is_empty();
    let out = match &args.output {
        // -ff -o FILE: each process opens FILE.PID itself (the first one in
        // pre_exec, under this placeholder's number).
        Some(_) if ff => OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|e| format!("cannot open /dev/null: {}", reason(&e))),
        // O_APPEND: the lines of every traced process, and the closing line
        // written here, land at the end whatever the others wrote.
        Some(path) => OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_APPEND)
            .open(path)
            .map(OwnedFd::from)
            .map_err(|e| format!("cannot open {}: {}", path.display(), reason(&e))),
        // A duplicate, not fd 2 itself: ld-preld moves the trace fd away and
        // closes the number it was given, and the program keeps its stderr.
        None => {
            io::stderr().as_fd().try_clone_to_owned().map_err(|e| format!("cannot duplicate stderr: {}", reason(&e)))
        }
    };
    // -c: the handler writes count records to a file of its own, which is
    // read back into the table once everything has ended.
    let counts = if args.count {
        match tempfile::tempfile().map_err(|e| format!("cannot create a file for -c: {}", reason(&e))).and_then(|f| {
            let fd = OwnedFd::from(f);
            // SAFETY: F_SETFL on an fd this process owns.
            if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_APPEND) } < 0 {
                return Err(format!("fcntl: {}", reason(&io::Error::last_os_error())));
            }
            inheritable(&fd).map(|()| fd)
        }) {
            Ok(fd) => Some(fd),
            Err(why) => {
                eprintln!("preld: trace: {why}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    if let Err(why) = usage(&args, ff) {
        eprintln!("preld: trace: {why}");
        return ExitCode::from(2);
    }
    // --json: the handler's lines go through a pipe to the converter.
    let out = match (out, args.more.json) {
        (Ok(real), true) => json_pipe(real),
        (o, _) => o,
    };
    let out = match out.and_then(|fd| inheritable(&fd).map(|()| fd)) {
        Ok(fd) => fd,
        Err(why) => {
            eprintln!("preld: trace: {why}");
            return ExitCode::FAILURE;
        }
    };

    // With tracers, strace lines are written only when -o asks for them.
    let lines = args.specs.is_empty() || args.output.is_some();
    let tracers = !args.specs.is_empty();
    let hub = if tracers {
        match crate::tracer::start(&args.specs) {
            Ok(h) => Some(h),
            Err(why) => {
                eprintln!("preld: trace: {why}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let mut cmd = Command::new(&ld);
    cmd.arg0(&ld);
    if let Some(h) = &hub {
        cmd.arg("--tracer-fd").arg(h.child_end.as_raw_fd().to_string());
        if let Some(list) = crate::tracer::filter_arg(&args.specs) {
            cmd.arg("--tracer-filter").arg(list);
        }
        if let Some(n) = args.strsize {
            cmd.arg("--tracer-strsize").arg(n.to_string());
        }
    }
    let lines_fd = counts.as_ref().unwrap_or(&out).as_raw_fd();
    if lines {
        trace_options(&mut cmd, &args, lines_fd);
    }
    for m in &args.maps {
        cmd.arg("--map").arg(m.arg());
    }
    if let (true, Some(path)) = (ff && lines, &args.output) {
        cmd.arg("--trace-ff").arg(path);
    }
    if lines {
        args.more.add_to(&mut cmd);
    }
    if !args.pids.is_empty() {
        // -p: these options go to running processes instead (attach.rs).
        let opts = cmd;
        let code = crate::attach::main(&args, opts, counts.unwrap_or(out), hub);
        wait_json_pump();
        return code;
    }
    cmd.arg("--").args(&args.command);
    spawn_and_wait(cmd, &args, ld, out, counts, hub, lines)
}

/// ld-preld's options of the strace lines.
fn trace_options(cmd: &mut Command, args: &TraceArgs, lines_fd: i32) {
    cmd.arg("--trace-fd").arg(lines_fd.to_string());
    if args.count {
        cmd.arg("--trace-count").arg(if args.wall { "2" } else { "1" });
    }
    if args.follow > 0 {
        cmd.arg("--trace-follow");
    }
    if args.time > 0 {
        cmd.arg("--trace-time").arg(args.time.min(3).to_string());
        cmd.arg("--trace-tz-offset").arg(utc_offset().to_string());
    }
    if args.durations {
        cmd.arg("--trace-durations");
    }
    if let Some(n) = args.strsize {
        cmd.arg("--trace-strsize").arg(n.to_string());
    }
    let last_trace = args.expr.iter().rev().find_map(|e| match e {
        Expr::Trace(f) => Some(f),
        Expr::Inject(_) => None,
    });
    let filter = if args.specs.is_empty() { last_trace } else { args.line_expr.as_ref() };
    if let Some(list) = filter.and_then(|f| f.ld_preld_arg()) {
        cmd.arg("--trace-filter").arg(list);
    }
    // -e inject= tampers with the calls of these lines (strace's rule: only
    // traced calls are), whichever tracer the -e stands after.
    for e in &args.expr {
        if let Expr::Inject(i) = e {
            cmd.arg("--inject").arg(i.ld_preld_arg());
        }
    }
}

fn spawn_and_wait(
    mut cmd: Command,
    args: &TraceArgs,
    ld: std::path::PathBuf,
    out: OwnedFd,
    counts: Option<OwnedFd>,
    hub: Option<crate::tracer::Started>,
    lines: bool,
) -> ExitCode {
    let follow = args.follow > 0 || hub.is_some();
    if follow {
        // Orphaned descendants are reparented to preld trace, which waits for
        // them all as strace -f does: their trace lines are complete when the
        // shell gets its prompt back.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    }
    install_forwarding();
    // Blocked until CHILD is known, so that a signal arriving meanwhile is
    // forwarded rather than killing preld trace and orphaning the program.
    // The child unblocks them before exec: std passes the mask on as it is.
    // (pre_exec also makes std fork instead of posix_spawn, whose child
    // leaves glibc's internal signals 32 and 33 ignored across exec.)
    mask_forwarded(libc::SIG_BLOCK);
    let hub_fd = hub.as_ref().map_or(-1, |h| h.child_end.as_raw_fd());
    // -ff -o FILE: the first process's FILE.PID, made in the child, where
    // the pid is known, under the output's number.
    let ff = (args.follow > 1).then_some(args.output.as_ref()).flatten().map(|p| {
        (std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default(), out.as_raw_fd())
    });
    let ff_child = ff.clone();
    // SAFETY: the closure runs in the forked child before exec and only calls
    // sigprocmask (async-signal-safe), on a local sigset_t, and fcntl (also
    // async-signal-safe: ld-preld inherits the hub's connection, which is
    // close-on-exec everywhere else).
    unsafe {
        cmd.pre_exec(move || {
            mask_forwarded(libc::SIG_UNBLOCK);
            // As the caller left them (std sets SIGPIPE's default; preld
            // trace took SIGCHLD's for its own waits).
            crate::dispositions::for_the_program();
            if hub_fd >= 0 {
                libc::fcntl(hub_fd, libc::F_SETFD, 0);
            }
            if let Some((prefix, fd)) = &ff_child {
                // FILE.PID by hand: no allocation after fork.
                let mut path = [0u8; 4200];
                let p = prefix.as_bytes();
                if p.len() + 24 > path.len() {
                    return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
                }
                path[..p.len()].copy_from_slice(p);
                let mut n = p.len();
                path[n] = b'.';
                n += 1;
                let mut digits = [0u8; 12];
                let mut k = digits.len();
                let mut pid = libc::getpid() as u32;
                loop {
                    k -= 1;
                    digits[k] = b'0' + (pid % 10) as u8;
                    pid /= 10;
                    if pid == 0 {
                        break;
                    }
                }
                path[n..n + digits.len() - k].copy_from_slice(&digits[k..]);
                let f = libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND, 0o644);
                if f < 0 || libc::dup2(f, *fd) < 0 {
                    return Err(io::Error::last_os_error());
                }
                libc::close(f);
            }
            Ok(())
        });
    }
    let spawned = cmd.spawn();
    // The program's end of the hub's connection is the program's alone:
    // the hub ends when every traced process has closed it.
    let hub = hub.map(|h| h.thread);
    if let Ok(child) = &spawned {
        CHILD.store(child.id() as i32, Ordering::SeqCst);
    }
    mask_forwarded(libc::SIG_UNBLOCK);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            eprintln!("preld: trace: cannot execute {}: {}", ld.display(), reason(&e));
            return ExitCode::from(EXIT_CANNOT_EXEC);
        }
    };

    // Wait without reaping, then stop forwarding, then reap: a signal can
    // never be sent to a pid that was reaped and possibly reused.
    if let Err(e) = wait_ended(child.id() as i32) {
        eprintln!("preld: trace: wait: {}", reason(&e));
    }
    CHILD.store(0, Ordering::SeqCst);
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("preld: trace: wait: {}", reason(&e));
            return ExitCode::FAILURE;
        }
    };
    if let Some(h) = hub {
        match h.join() {
            Ok(mut hub) => {
                let code = status.code().unwrap_or_else(|| -status.signal().unwrap_or(9));
                if !hub.exit_reported(child.id() as i32) {
                    hub.root_ended(child.id() as i32, code);
                }
                hub.finish();
            }
            Err(_) => eprintln!("preld: trace: the tracer hub failed"),
        }
    }
    let mut out = File::from(out);
    if let Some((prefix, _)) = &ff {
        // The closing line goes to the first process's own file.
        let mut p = prefix.as_bytes().to_vec();
        p.extend_from_slice(format!(".{}", child.id()).as_bytes());
        if let Ok(f) = OpenOptions::new().append(true).open(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&p)) {
            out = f;
        }
    }
    if counts.is_none() && lines && !(args.more.quiet_exit() && status.code().is_some()) {
        // The trace may go to a closed pipe: the program's status still matters.
        let when = if args.more.json { String::new() } else { time_prefix(args.time) };
        let _ = out.write_all(format!("{when}{}", closing_line(status)).as_bytes());
    }
    if follow {
        reap_descendants();
    }
    if let Some(fd) = counts {
        let mut text = String::new();
        let mut f = File::from(fd);
        use std::io::{Read, Seek};
        let _ = f.seek(io::SeekFrom::Start(0)).and_then(|_| f.read_to_string(&mut text));
        let _ = out.write_all(summary_table(&text).as_bytes());
    }
    drop(out);
    wait_json_pump();
    end_like(status)
}

/// The converter (--json) ends when every traced process has closed the
/// pipe; one left behind (a daemon) is not waited for long.
fn wait_json_pump() {
    if let Some(pump) = JSON_PUMP.lock().ok().and_then(|mut p| p.take()) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while !pump.is_finished() && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// The JSON converter's thread (`--json`), waited for before preld trace
/// ends (its handle outlives main's frames: spawn_and_wait may not return).
static JSON_PUMP: std::sync::Mutex<Option<std::thread::JoinHandle<()>>> = std::sync::Mutex::new(None);

/// A pipe whose write end replaces `real` as the output; a thread turns
/// what comes through into JSON lines on `real`.
fn json_pipe(real: OwnedFd) -> Result<OwnedFd, String> {
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let pump = std::thread::spawn(move || crate::json::pump(r, real));
    if let Ok(mut p) = JSON_PUMP.lock() {
        *p = Some(pump);
    }
    Ok(w)
}

/// Clears FD_CLOEXEC (std opens and duplicates with it) so that ld-preld
/// inherits `fd`.
fn inheritable(fd: &OwnedFd) -> Result<(), String> {
    // SAFETY: F_SETFD on an fd this process owns; no memory is passed.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) };
    if r < 0 {
        return Err(format!("fcntl: {}", reason(&io::Error::last_os_error())));
    }
    Ok(())
}

/// The -t/-tt/-ttt time in front of a line, as the handler writes it.
fn time_prefix(level: u8) -> String {
    if level == 0 {
        return String::new();
    }
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let (secs, micros) = (d.as_secs() as i64, d.subsec_micros());
    if level >= 3 {
        return format!("{secs}.{micros:06} ");
    }
    let local = (secs + utc_offset()).rem_euclid(86_400);
    let hms = format!("{:02}:{:02}:{:02}", local / 3600, local / 60 % 60, local % 60);
    if level == 2 { format!("{hms}.{micros:06} ") } else { format!("{hms} ") }
}

/// strace -c's table from the handlers' records (`NR CALLS ERRORS NS` per
/// line, any number per call from any number of processes): the calls by
/// time spent, then the total.
pub fn summary_table(records: &str) -> String {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<usize, (u64, u64, u64)> = BTreeMap::new();
    for l in records.lines() {
        let f: Vec<u64> = l.split(' ').filter_map(|w| w.parse().ok()).collect();
        if let [nr, calls, errors, ns] = f[..] {
            let e = by.entry(nr as usize).or_default();
            e.0 += calls;
            e.1 += errors;
            e.2 += ns;
        }
    }
    let mut rows: Vec<(usize, (u64, u64, u64))> = by.into_iter().collect();
    // By time, most first; equal times in call-number order (sort is stable).
    rows.sort_by(|a, b| b.1 .2.cmp(&a.1 .2));
    let total_ns: u64 = rows.iter().map(|r| r.1 .2).sum();
    let sep = "------ ----------- ----------- --------- --------- ----------------\n";
    let mut t = String::from("% time     seconds  usecs/call     calls    errors syscall\n");
    t.push_str(sep);
    let row = |pct: f64, ns: u64, calls: u64, errors: u64, name: &str| {
        let errs = if errors == 0 { String::new() } else { errors.to_string() };
        let per_call = if calls == 0 { 0 } else { ns / 1000 / calls };
        format!("{pct:6.2} {:11.6} {per_call:11} {calls:9} {errs:>9} {name}\n", ns as f64 / 1e9)
    };
    for (nr, (calls, errors, ns)) in &rows {
        let name = syscalls::Sysno::new(*nr).map_or_else(|| format!("syscall_{nr:#x}"), |s| s.name().to_string());
        let pct = if total_ns == 0 { 0.0 } else { 100.0 * *ns as f64 / total_ns as f64 };
        t.push_str(&row(pct, *ns, *calls, *errors, &name));
    }
    t.push_str(sep);
    let (calls, errors) = rows.iter().fold((0, 0), |a, r| (a.0 + r.1 .0, a.1 + r.1 .1));
    t.push_str(&row(100.0, total_ns, calls, errors, "total"));
    t
}

/// strace's last line for a process that ended with `status`.
pub fn closing_line(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("+++ exited with {code} +++\n"),
        (None, Some(sig)) => format!(
            "+++ killed by {}{} +++\n",
            signal_name(sig),
            if status.core_dumped() { " (core dumped)" } else { "" }
        ),
        // wait() reports only ended processes: one of the two above.
        (None, None) => format!("+++ ended with status {:#x} +++\n", status.into_raw()),
    }
}

/// Signal names as strace prints them on x86_64.
pub fn signal_name(sig: c_int) -> String {
    #[rustfmt::skip]
    const NAMES: [&str; 32] = [
        "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR",
        "SIGSYS",
    ];
    match sig {
        1..=31 => NAMES[sig as usize].to_string(),
        32 => "SIGRTMIN".to_string(),
        33..=64 => format!("SIGRT_{}", sig - 32),
        _ => sig.to_string(),
    }
}

/// Ends this process the way the program ended (preld trace, preld pola):
/// same exit code, or the same signal, without a core file of ours.
pub(crate) fn end_like(status: ExitStatus) -> ExitCode {
    let Some(sig) = status.signal() else {
        return ExitCode::from(status.code().unwrap_or(1) as u8);
    };
    // Like strace: no core file of preld trace (it would overwrite the
    // program's), default action, unblocked, raised.
    let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: setrlimit reads a valid rlimit; signal, sigprocmask and raise
    // take integers and a sigset_t initialized by sigemptyset/sigaddset.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    // Still here: the signal's default action is not to terminate (it cannot
    // have killed the program then, but stay defined): a shell's convention.
    ExitCode::from((128 + sig) as u8)
}

/// Hands SIGHUP, SIGINT, SIGQUIT and SIGTERM on to the program.
///
/// A handler rather than SIG_IGN: the kernel resets handlers to the default
/// at execve, so ld-preld and the program start with default dispositions,
/// while ignored signals would stay ignored in them.
fn install_forwarding() {
    for sig in FORWARDED {
        // SAFETY: a zeroed sigaction is valid; its fields are set before use;
        // `forward` has the SA_SIGINFO handler signature and only makes
        // async-signal-safe calls.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = forward as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            for s in FORWARDED {
                libc::sigaddset(&mut sa.sa_mask, s);
            }
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// The signal handler: forwards a signal sent to preld trace by a process
/// (kill, a supervisor) to the program. A terminal's ^C or ^\ (or a hangup)
/// comes from the kernel (SI_KERNEL) to the whole foreground process group,
/// program included: forwarding it would deliver it twice, so preld trace
/// just survives it and reports how the program took it. With no program to
/// forward to, the signal takes its default action on preld trace.
extern "C" fn forward(sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: errno is this thread's, saved and restored around the calls;
    // `info` is the kernel's siginfo for this SA_SIGINFO handler; signal,
    // raise and kill are async-signal-safe.
    unsafe {
        let errno = libc::__errno_location();
        let saved = *errno;
        let child = CHILD.load(Ordering::SeqCst);
        if child <= 0 {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        } else if info.is_null() || (*info).si_code != libc::SI_KERNEL {
            libc::kill(child, sig);
        }
        *errno = saved;
    }
}

fn mask_forwarded(how: c_int) {
    // SAFETY: the sigset_t is initialized by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(how, &set, std::ptr::null_mut());
    }
}

/// Waits until child `pid` has ended, leaving it unreaped (WNOWAIT).
fn wait_ended(pid: i32) -> io::Result<()> {
    loop {
        // SAFETY: waitid writes a siginfo_t into `info`, which is valid and
        // may be all zeroes.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Waits for every remaining descendant (reparented here, preld trace being
/// their subreaper) to end.
fn reap_descendants() {
    loop {
        // SAFETY: waitpid with a null status pointer writes nothing.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return; // ECHILD: none left
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_lines_are_strace_s() {
        assert_eq!(closing_line(ExitStatus::from_raw(0)), "+++ exited with 0 +++\n");
        assert_eq!(closing_line(ExitStatus::from_raw(3 << 8)), "+++ exited with 3 +++\n");
        assert_eq!(closing_line(ExitStatus::from_raw(11)), "+++ killed by SIGSEGV +++\n");
        assert_eq!(closing_line(ExitStatus::from_raw(6 | 0x80)), "+++ killed by SIGABRT (core dumped) +++\n");
        assert_eq!(closing_line(ExitStatus::from_raw(9)), "+++ killed by SIGKILL +++\n");
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(signal_name(libc::SIGSYS), "SIGSYS");
        assert_eq!(signal_name(libc::SIGSTKFLT), "SIGSTKFLT");
        assert_eq!(signal_name(32), "SIGRTMIN");
        assert_eq!(signal_name(34), "SIGRT_2");
        for sig in 1..=31 {
            assert_eq!(signal_name(sig), signal_name_from_libc(sig), "signal {sig}");
        }
    }

    /// The same names from libc's constants, to catch a slip in the table.
    fn signal_name_from_libc(sig: c_int) -> String {
        use libc::*;
        #[rustfmt::skip]
        let all = [
            (SIGHUP, "SIGHUP"), (SIGINT, "SIGINT"), (SIGQUIT, "SIGQUIT"), (SIGILL, "SIGILL"), (SIGTRAP, "SIGTRAP"),
            (SIGABRT, "SIGABRT"), (SIGBUS, "SIGBUS"), (SIGFPE, "SIGFPE"), (SIGKILL, "SIGKILL"), (SIGUSR1, "SIGUSR1"),
            (SIGSEGV, "SIGSEGV"), (SIGUSR2, "SIGUSR2"), (SIGPIPE, "SIGPIPE"), (SIGALRM, "SIGALRM"),
            (SIGTERM, "SIGTERM"), (SIGSTKFLT, "SIGSTKFLT"), (SIGCHLD, "SIGCHLD"), (SIGCONT, "SIGCONT"),
            (SIGSTOP, "SIGSTOP"), (SIGTSTP, "SIGTSTP"), (SIGTTIN, "SIGTTIN"), (SIGTTOU, "SIGTTOU"), (SIGURG, "SIGURG"),
            (SIGXCPU, "SIGXCPU"), (SIGXFSZ, "SIGXFSZ"), (SIGVTALRM, "SIGVTALRM"), (SIGPROF, "SIGPROF"),
            (SIGWINCH, "SIGWINCH"), (SIGIO, "SIGIO"), (SIGPWR, "SIGPWR"), (SIGSYS, "SIGSYS"),
        ];
        all.iter().find(|(n, _)| *n == sig).map(|(_, s)| s.to_string()).unwrap()
    }
}
