//! `preld trace` and `preld run --map`, end to end, with target/preld/preld:
//! the strace-style lines the handler writes (first execve line, decoded
//! calls, errors, exit_group), the closing `+++` line and exit status the CLI
//! adds, -e filters, -f, tracing across exec and after the program closes
//! every fd, signals, and path maps. Where it is cheap, preld's trace is
//! compared with real strace's for the same command.
//!
//! Every command runs with a fixed small environment (BASE_ENV) so that both
//! tracers see the same program behaviour; a missing host tool fails the test
//! with the Debian package to install.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use preld_tests::modes::BASE_ENV;
use preld_tests::run::{describe_status, run, wait_or_kill, Output, LIMIT};
use preld_tests::scratch::Scratch;
use preld_tests::{preld, program, require_file, require_tool};

/// A command with only BASE_ENV in its environment.
fn command(prog: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new(prog);
    c.env_clear().envs(BASE_ENV).envs(preld_tests::fast_env());
    c
}

/// What one `preld trace -o FILE ARGS...` did, and the trace it wrote.
struct Traced {
    out: Output,
    /// The trace with strace's alignment padding taken out (see `unpad`).
    trace: String,
    /// The trace as written.
    raw: String,
    shown: String,
}

impl Traced {
    fn lines(&self) -> Vec<&str> {
        self.trace.lines().collect()
    }

    fn has_line(&self, want: &str) -> bool {
        self.trace.lines().any(|l| l == want)
    }

    fn position(&self, pred: impl Fn(&str) -> bool) -> Option<usize> {
        self.trace.lines().position(pred)
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Panics with `what`, the command, its status, stderr and the trace.
    fn fail(&self, what: &str) -> ! {
        panic!(
            "{what}\ncommand: {}\nstatus: {}\nstderr:\n{}\ntrace:\n{}",
            self.shown,
            describe_status(self.out.status),
            self.stderr(),
            self.trace
        );
    }

    fn expect(&self, ok: bool, what: &str) {
        if !ok {
            self.fail(what);
        }
    }

    fn expect_line(&self, want: &str) {
        self.expect(self.has_line(want), &format!("the trace lacks the line {want:?}"));
    }

    /// The trace ends with `exit_line` (`exit_group(N) = ?`, unless
    /// filtered) and the `+++` line.
    fn expect_end(&self, exit_line: Option<&str>, last: &str) {
        let lines = self.lines();
        self.expect(lines.last() == Some(&last), &format!("the last line is not {last:?}"));
        if let Some(e) = exit_line {
            let before = lines.len().checked_sub(2).map(|i| lines[i]);
            self.expect(before == Some(e), &format!("the line before the last is not {e:?}"));
        }
    }
}

/// `preld trace -o DIR/trace.txt OPTS... -- ARGS...`
fn trace(dir: &Scratch, opts: &[&str], args: &[&dyn AsRef<OsStr>]) -> Traced {
    let file = dir.join("trace.txt");
    let _ = std::fs::remove_file(&file);
    let mut cmd = command(preld());
    cmd.arg("trace").arg("-o").arg(&file).args(opts).arg("--");
    for a in args {
        cmd.arg(a);
    }
    let shown = format!("{cmd:?}");
    let out = run(cmd);
    let trace = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{shown}: no trace file {} ({e}); status {}, stderr:\n{}",
            file.display(),
            describe_status(out.status),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let raw = trace;
    let trace = raw.lines().map(|l| unpad(l) + "\n").collect();
    Traced { out, trace, raw, shown }
}

/// `strace -o FILE OPTS... -- ARGS...`, lines without the `PID ` prefix
/// strace -f -o writes and without strace's alignment padding before ` = `
/// (compared with `Traced::trace`, unpadded too).
fn strace(dir: &Scratch, opts: &[&str], args: &[&dyn AsRef<OsStr>]) -> (Output, Vec<String>) {
    let (out, lines) = strace_raw(dir, opts, args);
    let no_pid = |l: &str| match l.split_once(' ') {
        Some((pid, rest)) if pid.bytes().all(|c| c.is_ascii_digit()) => rest.trim_start().to_string(),
        _ => l.to_string(),
    };
    (out, lines.iter().map(|l| unpad(&no_pid(l))).collect())
}

/// strace's lines as it wrote them (`PID ` prefixes with -f).
fn strace_raw(dir: &Scratch, opts: &[&str], args: &[&dyn AsRef<OsStr>]) -> (Output, Vec<String>) {
    let file = dir.join("strace.txt");
    let mut cmd = command(require_tool("strace", "strace"));
    cmd.arg("-o").arg(&file).args(opts).arg("--");
    for a in args {
        cmd.arg(a);
    }
    let out = run(cmd);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("strace wrote no {}: {e}", file.display()));
    (out, text.lines().map(str::to_string).collect())
}

/// `close(3)                                = 0` → `close(3) = 0`. The
/// result is the last ` = ` of a line (a result never contains one).
fn unpad(line: &str) -> String {
    match line.rfind(" = ") {
        Some(i) => format!("{} = {}", line[..i].trim_end(), &line[i + 3..]),
        None => line.to_string(),
    }
}

/// The names of the calls in trace lines (`[pid N] ` prefixes dropped).
fn call_names<'a>(lines: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    lines
        .into_iter()
        .map(strip_pid)
        .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
        .filter_map(|l| l.split_once('(').map(|(name, _)| name.to_string()))
        .collect()
}

/// `[pid  123] rest` → `rest`.
fn strip_pid(line: &str) -> &str {
    match line.strip_prefix("[pid ").and_then(|r| r.split_once("] ")) {
        Some((_, rest)) => rest,
        None => line,
    }
}

/// `0x7ffd1234` → `ADDR`: addresses differ between runs.
fn no_addrs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("0x") {
        out.push_str(&rest[..i]);
        let hex = rest[i + 2..].bytes().take_while(|c| c.is_ascii_hexdigit()).count();
        // Short hex values are flags and offsets, not addresses.
        if hex >= 5 {
            out.push_str("ADDR");
        } else {
            out.push_str(&rest[i..i + 2 + hex]);
        }
        rest = &rest[i + 2 + hex..];
    }
    out.push_str(rest);
    out
}

/// Each process's lines, `[pid N] ` prefixes (or strace's `N ` ones)
/// dropped, keyed by pid (0 for preld's unprefixed first process); strace's
/// `<unfinished ...>`/`<... resumed>` pairs are joined.
fn per_process<'a>(lines: impl IntoIterator<Item = &'a str>) -> std::collections::BTreeMap<u32, Vec<String>> {
    let mut by: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    let mut open: std::collections::HashMap<u32, String> = Default::default();
    for l in lines {
        let (pid, rest) = match pid_of(l) {
            Some(p) => (p, strip_pid(l)),
            None => match l.split_once(' ') {
                Some((p, r)) if p.bytes().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
                    (p.parse().unwrap(), r.trim_start())
                }
                _ => (0, l),
            },
        };
        if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            open.insert(pid, head.to_string());
            continue;
        }
        let line = match (rest.strip_prefix("<... "), open.remove(&pid)) {
            (Some(r), Some(head)) => format!("{head}{}", r.split_once("resumed>").map_or("", |x| x.1)),
            _ => rest.to_string(),
        };
        by.entry(pid).or_default().push(unpad(&line));
    }
    by
}

/// The pid in a `[pid N] ` prefix.
fn pid_of(line: &str) -> Option<u32> {
    line.strip_prefix("[pid ")?.split_once(']')?.0.trim().parse().ok()
}

fn bash() -> PathBuf {
    require_file("/usr/bin/bash", "bash")
}

fn hostname() -> Vec<u8> {
    std::fs::read("/etc/hostname").expect("the tests read /etc/hostname, which this machine lacks")
}

// --------------------------------------------------------------- the basics

#[test]
fn cat_is_traced_like_strace() {
    let d = Scratch::new("cat");
    let t = trace(&d, &[], &[&"cat", &"/etc/hostname"]);
    t.expect(t.out.status.code() == Some(0), "cat did not exit 0");
    t.expect(t.out.stdout == hostname(), "cat's stdout changed under preld trace");
    t.expect(t.out.stderr.is_empty(), "preld trace -o wrote to stderr");
    let lines = t.lines();
    // The program's environment is BASE_ENV exactly; its address is shown as strace does.
    let first = format!(r#"execve("/usr/bin/cat", ["cat", "/etc/hostname"], ADDR /* {} vars */) = 0"#, BASE_ENV.len() + preld_tests::fast_env().len());
    t.expect(lines.first().map(|l| no_addrs(l)) == Some(first.clone()), &format!("the first line is not {first:?}"));
    t.expect_line(r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#);
    let content = String::from_utf8_lossy(&hostname()).replace('\n', "\\n");
    t.expect(
        lines.iter().any(|l| l.starts_with(&format!("read(3, \"{content}\", "))),
        "no read(3, \"CONTENT\", ...) line",
    );
    t.expect_line("close(3) = 0");
    t.expect_end(Some("exit_group(0) = ?"), "+++ exited with 0 +++");

    // The same command under strace shows the same open and ending, and the
    // calls that matter are in both.
    let (_, s) = strace(&d, &["-f"], &[&"cat", &"/etc/hostname"]);
    let s_text = s.join("\n");
    for line in [r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#, "close(3) = 0", "exit_group(0) = ?"] {
        assert!(s.iter().any(|l| l == line), "strace itself lacks {line:?}:\n{s_text}");
    }
    assert_eq!(s.last().map(String::as_str), Some("+++ exited with 0 +++"));
    let ours = call_names(t.trace.lines());
    let theirs = call_names(s.iter().map(String::as_str));
    for key in ["execve", "brk", "mmap", "openat", "read", "write", "close", "exit_group"] {
        assert!(
            ours.contains(key) && theirs.contains(key),
            "`{key}` is not in both traces; preld only: {:?}, strace only: {:?}",
            ours.difference(&theirs).collect::<Vec<_>>(),
            theirs.difference(&ours).collect::<Vec<_>>()
        );
    }
}

#[test]
fn exit_status_is_the_program_s() {
    let d = Scratch::new("status");
    let t = trace(&d, &[], &[&"false"]);
    t.expect(t.out.status.code() == Some(1), "`false` under preld trace did not exit 1");
    t.expect_end(Some("exit_group(1) = ?"), "+++ exited with 1 +++");
    t.expect(t.out.stderr.is_empty(), "stderr is not empty");
}

#[test]
fn exit_status_42_is_the_program_s() {
    let d = Scratch::new("status42");
    let t = trace(&d, &[], &[&bash(), &"-c", &"exit 42"]);
    t.expect(t.out.status.code() == Some(42), "`exit 42` did not exit 42");
    t.expect_end(Some("exit_group(42) = ?"), "+++ exited with 42 +++");
}

#[test]
fn failed_calls_show_errno() {
    let d = Scratch::new("enoent");
    let t = trace(&d, &[], &[&"cat", &"/nonexistent-preld-test/x"]);
    t.expect_line(r#"openat(AT_FDCWD, "/nonexistent-preld-test/x", O_RDONLY) = -1 ENOENT (No such file or directory)"#);
    t.expect(t.out.status.code() == Some(1), "cat did not exit 1");
    t.expect(t.stderr().contains("No such file or directory"), "cat's own error message is missing from stderr");
    t.expect_end(Some("exit_group(1) = ?"), "+++ exited with 1 +++");
}

#[test]
fn killed_by_sigsegv() {
    killed_by_a_signal("fault-dyn-pie", "segv", 11, "SIGSEGV");
}

#[test]
fn killed_by_sigsegv_static() {
    killed_by_a_signal("fault-static-exec", "segv", 11, "SIGSEGV");
}

#[test]
fn killed_by_sigabrt() {
    killed_by_a_signal("fault-dyn-pie", "abort", 6, "SIGABRT");
}

/// `PROG HOW` dies of signal `sig` (`name`), natively and under preld trace.
fn killed_by_a_signal(prog: &str, how: &str, sig: i32, name: &str) {
    let d = Scratch::new("segv");
    {
        let p = program(prog);
        let mut native = command(&p);
        native.arg(how);
        let native = run(native);
        assert_eq!(native.status.signal(), Some(sig), "{prog} {how} natively: {}", describe_status(native.status));
        let t = trace(&d, &[], &[&p, &how]);
        // The caller sees what it sees natively: the signal, no core dump.
        t.expect(
            t.out.status.signal() == native.status.signal()
                && t.out.status.core_dumped() == native.status.core_dumped(),
            &format!("{prog} {how}: status differs from native {}", describe_status(native.status)),
        );
        t.expect(t.out.stdout == native.stdout, &format!("{prog} {how}: stdout differs from native"));
        t.expect(t.out.stderr.is_empty(), &format!("{prog} {how}: stderr is not empty"));
        t.expect_end(None, &format!("+++ killed by {name} +++"));
        t.expect_line(&format!(r#"write(1, "fault: {how}\n", {}) = {0}"#, 8 + how.len()));
    }
}

// ---------------------------------------------------------------- filtering

#[test]
fn filter_shows_only_the_named_calls_like_strace() {
    let d = Scratch::new("filter");
    let t = trace(&d, &["-e", "trace=openat"], &[&"cat", &"/etc/hostname"]);
    t.expect(t.out.stdout == hostname(), "stdout changed");
    let lines = t.lines();
    let (last, calls) = lines.split_last().unwrap_or_else(|| t.fail("empty trace"));
    t.expect(*last == "+++ exited with 0 +++", "the last line is not +++ exited with 0 +++");
    t.expect(calls.iter().all(|l| l.starts_with("openat(")), "a line other than openat");
    t.expect_line(r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#);

    // strace -e trace=openat writes exactly the same lines.
    let (_, s) = strace(&d, &["-e", "trace=openat"], &[&"cat", &"/etc/hostname"]);
    assert_eq!(lines, s, "preld trace -e trace=openat (left) and strace's (right) differ");
}

/// The bare form and several names.
#[test]
fn filter_without_trace_takes_several_names() {
    let d = Scratch::new("filter2");
    let t = trace(&d, &["-e", "openat,close"], &[&"cat", &"/etc/hostname"]);
    let names = call_names(t.trace.lines());
    t.expect(names == BTreeSet::from(["openat".into(), "close".into()]), &format!("calls shown: {names:?}"));
}

#[test]
fn class_filter_matches_strace_s() {
    let d = Scratch::new("class");
    let t = trace(&d, &["-e", "trace=%file"], &[&"cat", &"/etc/hostname"]);
    let ours = call_names(t.trace.lines());
    for name in ["execve", "openat", "access"] {
        t.expect(ours.contains(name), &format!("%file lacks {name}"));
    }
    for name in ["read", "mmap", "close", "exit_group"] {
        t.expect(!ours.contains(name), &format!("%file shows {name}"));
    }
    let (_, s) = strace(&d, &["-e", "trace=%file"], &[&"cat", &"/etc/hostname"]);
    let theirs = call_names(s.iter().map(String::as_str));
    assert_eq!(ours, theirs, "-e trace=%file: preld trace's calls (left) and strace's (right)");
}

#[test]
fn unknown_names_are_refused_before_running() {
    let d = Scratch::new("unknown");
    let file = d.join("trace.txt");
    for (expr, says) in [
        ("trace=openat,opne", "unknown x86_64 system call `opne`"),
        ("%files", "unknown system call class `%files`"),
        ("signal=SIGINT", "`-e signal=` is not supported"),
    ] {
        let mut cmd = command(preld());
        cmd.args(["trace", "-o"]).arg(&file).args(["-e", expr, "--", "touch"]).arg(d.join("ran"));
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "-e {expr}: {}; stderr: {err}", describe_status(out.status));
        assert!(err.contains(says), "-e {expr}: stderr lacks {says:?}: {err}");
        assert!(!file.exists() && !d.join("ran").exists(), "-e {expr}: the program ran or the trace was opened");
    }
}

// -------------------------------------------------- processes, exec, fds

#[test]
fn follow_shows_children_with_their_pid() {
    let d = Scratch::new("follow");
    let native = run({
        let mut c = command(bash());
        c.args(["-c", "ls /; true"]);
        c
    });
    let t = trace(&d, &["-f"], &[&bash(), &"-c", &"ls /; true"]);
    t.expect(t.out.stdout == native.stdout, "ls's output differs from native");
    t.expect(t.out.status.code() == Some(0), "did not exit 0");
    let lines = t.lines();
    // The child's lines, each prefixed with its pid.
    let ls_exec = lines
        .iter()
        .find(|l| strip_pid(l).starts_with(r#"execve("/usr/bin/ls", ["ls", "/"], "#))
        .unwrap_or_else(|| t.fail("no execve of ls"));
    let child = pid_of(ls_exec).unwrap_or_else(|| t.fail("the execve of ls in the child has no [pid N] prefix"));
    let of_child: Vec<&str> = lines.iter().filter(|l| pid_of(l) == Some(child)).map(|l| strip_pid(l)).collect();
    t.expect(
        of_child.contains(&r#"openat(AT_FDCWD, "/", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3"#),
        "the child's open of / is not shown with its [pid N]",
    );
    t.expect(of_child.contains(&"exit_group(0) = ?"), "the child's exit_group is not shown with its [pid N]");
    // The main process's lines have no prefix: its execve and exit only.
    let main: Vec<&str> = lines.iter().copied().filter(|l| !l.starts_with("[pid ")).collect();
    t.expect(
        main.iter().filter(|l| l.starts_with("execve(")).count() == 1,
        "an execve other than bash's has no [pid N] prefix",
    );
    t.expect(
        main.iter().filter(|l| l.starts_with("exit_group(")).count() == 1,
        "an exit_group other than bash's has no [pid N] prefix",
    );
    t.expect(
        // Blocking, or WNOHANG in bash's SIGCHLD handler when the child
        // ended first.
        main.iter().any(|l| l.starts_with("wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], ")),
        "bash's wait4 for ls is missing",
    );
    t.expect_end(Some("exit_group(0) = ?"), "+++ exited with 0 +++");
}

#[test]
fn without_follow_children_are_not_traced() {
    let d = Scratch::new("nofollow");
    let t = trace(&d, &[], &[&bash(), &"-c", &"ls /; true"]);
    t.expect(t.out.status.code() == Some(0), "did not exit 0");
    t.expect(!t.trace.contains("[pid "), "a [pid N] line without -f");
    t.expect(!t.trace.contains(r#"execve("/usr/bin/ls""#), "the child's execve is traced without -f");
    t.expect(!t.trace.contains(r#"openat(AT_FDCWD, "/", "#), "the child's open of / is traced without -f");
    t.expect(t.position(|l| l.starts_with("clone(")).is_some(), "bash's clone is missing");
    t.expect(t.position(|l| l.starts_with("wait4(")).is_some(), "bash's wait4 is missing");
    t.expect_end(Some("exit_group(0) = ?"), "+++ exited with 0 +++");
}

// Options without a value (-T, -tt) once made an untraced child's exec
// take the next option as their value: `ls` then failed to start (127).
#[test]
fn without_follow_a_child_s_exec_keeps_its_options() {
    let d = Scratch::new("nofollow-opts");
    let t = trace(&d, &["-T", "-e", "trace=execve,wait4"], &[&bash(), &"-c", &"ls / >/dev/null; exit 3"]);
    t.expect(t.out.status.code() == Some(3), "did not exit 3 (the child's ls did not run?)");
    t.expect(t.out.stderr.is_empty(), "something was said on stderr");
    t.expect(t.trace.lines().any(|l| l.starts_with("wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], ")), "ls did not exit 0");
}

#[test]
fn tracing_continues_across_exec() {
    let d = Scratch::new("exec");
    let t = trace(&d, &[], &[&bash(), &"-c", &"exec cat /etc/hostname"]);
    t.expect(t.out.stdout == hostname(), "stdout changed");
    let exec = t
        .position(|l| l.starts_with(r#"execve("/usr/bin/cat", ["cat", "/etc/hostname"], "#))
        .unwrap_or_else(|| t.fail("no execve of cat"));
    let open = t
        .position(|l| l == r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#)
        .unwrap_or_else(|| t.fail("no openat of /etc/hostname after the exec"));
    t.expect(exec > 0 && open > exec, "the lines are out of order");
    t.expect(!t.trace.contains("[pid "), "the exec'd program's lines have a [pid N] prefix");
    t.expect_end(Some("exit_group(0) = ?"), "+++ exited with 0 +++");
}

#[test]
fn a_program_that_closes_every_fd_is_still_traced() {
    let d = Scratch::new("closerange");
    let py = require_file("/usr/bin/python3", "python3");
    let script = "import os; os.closerange(3, 1<<20); print(open('/etc/hostname').read(), end='')";
    let t = trace(&d, &[], &[&py, &"-c", &script]);
    t.expect(t.out.stdout == hostname(), "python's stdout differs");
    t.expect(t.out.status.code() == Some(0), "python did not exit 0");
    let closed = t
        .position(|l| l.starts_with("close_range(3, ") || l.starts_with("close(1048575)"))
        .unwrap_or_else(|| t.fail("no close_range (or close loop) of every fd"));
    let open = t
        .position(|l| l.starts_with(r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = "#))
        .unwrap_or_else(|| t.fail("the openat of /etc/hostname after the close is not traced"));
    t.expect(open > closed, "the openat of /etc/hostname is not after the close");
    t.expect_end(Some("exit_group(0) = ?"), "+++ exited with 0 +++");
}

#[test]
fn the_program_s_own_output_is_untouched() {
    let d = Scratch::new("output");
    let script = "echo out; echo err >&2; echo out2";
    let t = trace(&d, &[], &[&bash(), &"-c", &script]);
    t.expect(t.stdout() == "out\nout2\n", "stdout differs");
    t.expect(t.stderr() == "err\n", "stderr differs: it must be the program's only");
    // bash's `>&2`: stdout saved, fd 2 dup'ed onto 1, written, restored.
    let dup = t.position(|l| l == "dup2(2, 1) = 1").unwrap_or_else(|| t.fail("no dup2(2, 1)"));
    let err = t.position(|l| l == r#"write(1, "err\n", 4) = 4"#).unwrap_or_else(|| t.fail("no write of err"));
    t.expect(err > dup, "the write of err is not after the dup2");
}

/// Without -o the trace goes to stderr, mixed with the program's own.
#[test]
fn without_o_the_trace_goes_to_stderr() {
    let mut cmd = command(preld());
    cmd.args(["trace", "--", "cat", "/etc/hostname"]);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.stdout, hostname(), "stdout differs; stderr:\n{err}");
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    assert!(err.starts_with(r#"execve("/usr/bin/cat", ["cat", "/etc/hostname"], "#), "stderr:\n{err}");
    assert!(err.contains("\nopenat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3\n"), "stderr:\n{err}");
    assert!(err.ends_with("\nexit_group(0)                           = ?\n+++ exited with 0 +++\n"), "stderr:\n{err}");
}

// ------------------------------------------------------------------ signals

/// Starts `preld trace -o FILE -- sleep 60` in a process group of its own
/// and waits until the program runs (its execve line is in the trace).
fn sleeping(d: &Scratch) -> (std::process::Child, PathBuf) {
    let file = d.join("trace.txt");
    let mut cmd = command(preld());
    cmd.arg("trace").arg("-o").arg(&file).args(["--", "sleep", "60"]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
    let child = cmd.spawn().unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.starts_with("execve(")) {
        assert!(start.elapsed() < LIMIT, "sleep under preld trace did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, file)
}

fn kill(sig: &str, target: &str) {
    let st = Command::new(require_tool("kill", "procps")).args([sig, "--", target]).status().unwrap();
    assert!(st.success(), "kill {sig} {target} failed");
}

fn wait_limited(child: &mut std::process::Child) -> std::process::ExitStatus {
    let w = wait_or_kill(child, LIMIT);
    assert!(!w.timed_out, "preld trace did not end within {LIMIT:?}");
    w.status
}

#[test]
fn sigterm_is_forwarded_and_the_termination_mirrored() {
    let d = Scratch::new("sigterm");
    let (mut child, file) = sleeping(&d);
    let start = Instant::now();
    kill("-TERM", &child.id().to_string());
    let st = wait_limited(&mut child);
    let trace = std::fs::read_to_string(&file).unwrap();
    assert_eq!(st.signal(), Some(15), "preld trace ended with {}; trace:\n{trace}", describe_status(st));
    assert!(!st.core_dumped());
    assert!(start.elapsed() < Duration::from_secs(30), "sleep was not interrupted");
    assert!(trace.ends_with("\n+++ killed by SIGTERM +++\n"), "trace:\n{trace}");
}

#[test]
fn sigint_to_the_group_reaches_the_program_and_preld_trace_reports_it() {
    let d = Scratch::new("sigint");
    let (mut child, file) = sleeping(&d);
    // What a terminal's ^C does: the whole foreground group gets SIGINT.
    kill("-INT", &format!("-{}", child.id()));
    let st = wait_limited(&mut child);
    let trace = std::fs::read_to_string(&file).unwrap();
    assert_eq!(st.signal(), Some(2), "preld trace ended with {}; trace:\n{trace}", describe_status(st));
    // preld trace outlived the SIGINT long enough to write this.
    assert!(trace.ends_with("\n+++ killed by SIGINT +++\n"), "trace:\n{trace}");
}

/// The first child of `parent` once it is blocked in clock_nanosleep.
fn blocked_child(parent: u32) -> u32 {
    const CLOCK_NANOSLEEP: &str = "230 ";
    let start = Instant::now();
    loop {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next().and_then(|p| p.parse::<u32>().ok()) {
            let call = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
            if call.starts_with(CLOCK_NANOSLEEP) {
                return pid;
            }
        }
        assert!(start.elapsed() < LIMIT, "the child of {parent} never blocked in clock_nanosleep");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_program_killed_while_blocked_keeps_the_calls_it_made() {
    // `sleep 60` killed by SIGTERM while it sleeps, under preld trace and
    // under strace: every call that completed before the sleep must be in
    // both traces (strace also shows the interrupted call and the signal).
    let d = Scratch::new("blocked");
    let names_before_the_end = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| !l.starts_with("+++") && !l.starts_with("---") && !l.ends_with("(Interrupted by signal)"))
            .filter_map(|l| l.split_once('(').map(|(n, _)| n.to_string()))
            .collect()
    };
    let mut traces = Vec::new();
    for tracer in ["preld", "strace"] {
        let file = d.join(&format!("{tracer}.txt"));
        let mut cmd = if tracer == "preld" {
            let mut c = command(preld());
            c.arg("trace");
            c
        } else {
            command(require_tool("strace", "strace"))
        };
        cmd.arg("-o").arg(&file).args(["--", "sleep", "60"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let sleeper = blocked_child(child.id());
        kill("-TERM", &sleeper.to_string());
        let st = wait_limited(&mut child);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(st.signal(), Some(15), "{tracer}: {}; trace:\n{text}", describe_status(st));
        assert!(text.ends_with("+++ killed by SIGTERM +++\n"), "{tracer}: trace:\n{text}");
        let lines: Vec<String> = text.lines().map(unpad).collect();
        traces.push((names_before_the_end(&lines), text));
    }
    let ((ours, our_text), (theirs, their_text)) = (&traces[0], &traces[1]);
    assert_eq!(
        ours, theirs,
        "the calls sleep completed before it was killed: preld trace (left) lost some that strace (right) \
         shows\npreld trace:\n{our_text}\nstrace:\n{their_text}"
    );
}

// ---------------------------------------------------------------- path maps

/// A virtual path that does not exist on this machine.
fn virtual_dir(name: &str) -> PathBuf {
    let v = PathBuf::from(format!("/preld-test-map-{}-{name}", std::process::id()));
    assert!(!v.exists(), "{} exists on the host", v.display());
    v
}

fn preld_run(maps: &[(&Path, &Path)], args: &[&dyn AsRef<OsStr>]) -> Output {
    let mut cmd = command(preld());
    cmd.arg("run");
    for (virt, host) in maps {
        let mut m = virt.as_os_str().to_owned();
        m.push("=");
        m.push(host);
        cmd.arg("--map").arg(m);
    }
    cmd.arg("--");
    for a in args {
        cmd.arg(a);
    }
    run(cmd)
}

#[test]
fn map_a_file() {
    let d = Scratch::new("mapfile");
    let host = d.join("hostname");
    std::fs::write(&host, "mapped-by-preld\n").unwrap();
    let out = preld_run(&[(Path::new("/etc/hostname"), &host)], &[&"cat", &"/etc/hostname"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "mapped-by-preld\n");
}

/// The trace shows the path the program used, not the host's.
#[test]
fn a_mapped_file_is_traced_by_the_program_s_path() {
    let d = Scratch::new("mapfile-trace");
    let host = d.write("hostname", "mapped-by-preld\n");
    let mut cmd = command(preld());
    let file = d.join("trace.txt");
    cmd.arg("trace").arg("-o").arg(&file).arg("--map").arg(format!("/etc/hostname={}", host.display()));
    cmd.args(["--", "cat", "/etc/hostname"]);
    let out = run(cmd);
    let trace = std::fs::read_to_string(&file).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "mapped-by-preld\n", "trace:\n{trace}");
    assert!(trace.lines().any(|l| l == r#"openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3"#), "trace:\n{trace}");
    assert!(!trace.contains(&host.display().to_string()), "the host path shows in the trace:\n{trace}");
    assert!(trace.ends_with("+++ exited with 0 +++\n"), "trace:\n{trace}");
}

/// A host tree with sub/f, mapped at a virtual directory.
struct MappedDir {
    _d: Scratch,
    host: PathBuf,
    virt: PathBuf,
}

impl MappedDir {
    fn new(name: &str) -> MappedDir {
        let d = Scratch::new(name);
        let host = d.join("tree");
        d.write("tree/sub/f", "inside\n");
        MappedDir { _d: d, host, virt: virtual_dir(name) }
    }

    fn run(&self, args: &[&dyn AsRef<OsStr>]) -> Output {
        preld_run(&[(self.virt.as_path(), self.host.as_path())], args)
    }
}

#[test]
fn map_a_directory_ls() {
    let m = MappedDir::new("mapdir-ls");
    let out = m.run(&[&"ls", &m.virt]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sub\n", "ls; stderr: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn map_a_directory_cat_and_stat() {
    let m = MappedDir::new("mapdir-cat");
    let f = m.virt.join("sub/f");
    let out = m.run(&[&"cat", &f]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "inside\n",
        "cat; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = m.run(&[&"stat", &"-c", &"%F %s", &f]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "regular file 7\n",
        "stat; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn map_a_directory_test_e_and_d() {
    let m = MappedDir::new("mapdir-test");
    let f = m.virt.join("sub/f");
    let out = m.run(&[&"test", &"-e", &f]);
    assert_eq!(out.status.code(), Some(0), "test -e on a mapped file");
    let out = m.run(&[&"test", &"-d", &m.virt.join("sub")]);
    assert_eq!(out.status.code(), Some(0), "test -d on a mapped directory");
    let out = m.run(&[&"test", &"-e", &m.virt.join("nope")]);
    assert_eq!(out.status.code(), Some(1), "test -e on a missing mapped path");
    // Natively the virtual path does not exist.
    let mut native = command("test");
    native.arg("-e").arg(&f);
    assert_eq!(run(native).status.code(), Some(1));
}

#[test]
fn bad_maps_are_refused() {
    for map in ["relative=/tmp", "/etc/hostname=tmp/x", "/etc/hostname"] {
        let mut cmd = command(preld());
        cmd.args(["run", "--map", map, "--", "true"]);
        let out = run(cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--map {map}: {}; stderr: {err}", describe_status(out.status));
        assert!(err.contains("--map") && (err.contains("absolute") || err.contains("VIRT=HOST")), "--map {map}: {err}");
    }
}

// ------------------------------------------------------- fidelity to strace

/// The lines of one process, without what differs between runs: addresses,
/// random bytes, and pids (given as `pids`, replaced by `PID`).
fn stable(lines: &[String], pids: &[u32]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.starts_with("getrandom(") && !l.starts_with("---") && !l.starts_with("rt_sigreturn("))
        .map(|l| {
            let mut l = no_addrs(l);
            for p in pids.iter().filter(|&&p| p > 0) {
                l = l.replace(&p.to_string(), "PID");
            }
            l
        })
        .collect()
}

#[test]
fn follow_ends_each_child_with_its_exit_line_like_strace() {
    let d = Scratch::new("childexit");
    let script = "(exit 3); /bin/true; (echo x; exit 5) >/dev/null; exit 2";
    let t = trace(&d, &["-f"], &[&bash(), &"-c", &script]);
    t.expect(t.out.status.code() == Some(2), "bash did not exit 2");
    t.expect(!t.lines().iter().any(|l| pid_of(l).is_some() && strip_pid(l).starts_with("clone(")), "a child shows its side of clone");
    // Per child process: the exit line strace writes, last of its lines.
    let ours: Vec<String> = per_process(t.trace.lines())
        .into_iter()
        .filter(|(p, _)| *p != 0)
        .map(|(_, l)| l.last().cloned().unwrap_or_default())
        .collect();
    let (_, s) = strace_raw(&d, &["-f"], &[&bash(), &"-c", &script]);
    let all = per_process(s.iter().map(String::as_str));
    let main = *all.keys().next().unwrap();
    let theirs: Vec<String> = all
        .into_iter()
        .filter(|(p, _)| *p != main)
        .map(|(_, l)| l.last().cloned().unwrap_or_default())
        .collect();
    let mut ours_sorted = ours.clone();
    let mut theirs_sorted = theirs.clone();
    ours_sorted.sort();
    theirs_sorted.sort();
    t.expect(
        ours_sorted == theirs_sorted,
        &format!("the children's last lines differ from strace's: preld {ours:?}, strace {theirs:?}"),
    );
    for code in ["3", "0", "5"] {
        t.expect(ours.contains(&format!("+++ exited with {code} +++")), &format!("no child exited with {code}"));
    }
    t.expect_end(Some("exit_group(2) = ?"), "+++ exited with 2 +++");
}

#[test]
fn signals_show_like_strace() {
    // A handled signal, SIGCHLD to a handler, and children killed by
    // signals: `--- SIGx {...} ---` lines and `+++ killed by SIGx +++`.
    let d = Scratch::new("signals");
    // (The child is given time to start: a signal that comes during its exec,
    // before the new image's ld-preld has installed anything, shows no line.)
    let script = "trap 'echo usr1' USR1; kill -USR1 $$; sleep 5 & sleep 0.2; kill -TERM $!; wait; \
                  sh -c 'kill -SEGV $$'; trap 'echo chld' CHLD; /bin/true; exit 0";
    let t = trace(&d, &["-f"], &[&bash(), &"-c", &script]);
    t.expect(t.out.status.code() == Some(0), "bash did not exit 0");
    let (_, s) = strace_raw(&d, &["-f"], &[&bash(), &"-c", &script]);
    // The same kinds of signal lines, in the same order, pids aside
    // (preld: `[pid N] `, strace -o: `N `).
    let kinds = |lines: Vec<String>| -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                let l = strip_pid(l);
                match l.split_once(' ') {
                    Some((p, r)) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => r.trim_start(),
                    _ => l,
                }
            })
            .filter(|l| l.starts_with("--- ") || l.starts_with("+++ killed"))
            .map(|l| l.split(" {").next().unwrap_or("").to_string())
            .collect()
    };
    let ours = kinds(t.trace.lines().map(String::from).collect());
    let theirs = kinds(s.clone());
    t.expect(ours == theirs, &format!("signal lines differ from strace's: preld {ours:?}, strace {theirs:?}"));
    for want in ["--- SIGUSR1", "--- SIGTERM", "+++ killed by SIGTERM +++", "--- SIGSEGV", "+++ killed by SIGSEGV +++", "--- SIGCHLD"] {
        t.expect(ours.iter().any(|l| l.starts_with(want)), &format!("no `{want}` line"));
    }
    let usr1 = t.lines().into_iter().find(|l| l.starts_with("--- SIGUSR1")).unwrap_or_default();
    t.expect(
        usr1.starts_with("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=") && usr1.ends_with(", si_uid=0} ---"),
        &format!("the SIGUSR1 line is not strace's: {usr1}"),
    );
}

#[test]
fn a_crash_shows_its_signal_like_strace() {
    // A NULL store and abort(): the signal's line (with si_addr for the
    // fault) and the process's end, as strace writes them.
    let d = Scratch::new("crash");
    for (kind, how) in [("dyn-pie", "segv"), ("static-exec", "segv"), ("dyn-pie", "abort")] {
        let prog = program(&format!("fault-{kind}"));
        let t = trace(&d, &[], &[&prog, &how]);
        let (_, s) = strace_raw(&d, &[], &[&prog, &how]);
        // si_pid is the process's own pid, different in each run.
        let ends = |lines: Vec<String>| -> Vec<String> {
            lines
                .into_iter()
                .filter(|l| l.starts_with("--- ") || l.starts_with("+++ "))
                .map(|l| match l.split_once("si_pid=") {
                    Some((a, b)) => format!("{a}si_pid=PID{}", &b[b.find(',').unwrap_or(b.len())..]),
                    None => l,
                })
                .collect()
        };
        let ours = ends(t.trace.lines().map(String::from).collect());
        let theirs = ends(s.clone());
        t.expect(ours == theirs, &format!("{how} ({kind}): preld {ours:?}, strace {theirs:?}"));
        t.expect(ours.len() == 2, &format!("{how} ({kind}): not a signal line and an end line: {ours:?}"));
    }
}

#[test]
fn times_durations_and_string_size_like_strace() {
    // -tt, -T and -s as strace writes them, padding included: the lines are
    // the same once the times themselves are masked.
    let d = Scratch::new("timed");
    let opts = ["-tt", "-T", "-s", "8", "-e", "trace=openat,read,close"];
    let before = std::time::SystemTime::now();
    let t = trace(&d, &opts, &[&"/bin/cat", &"/etc/hostname"]);
    let after = std::time::SystemTime::now();
    let (_, s) = strace_raw(&d, &opts, &[&"/bin/cat", &"/etc/hostname"]);
    // `12:34:56.123456 ` → `HH:MM:SS.UUUUUU `, ` <0.000012>` → ` <S.UUUUUU>`.
    let mask = |l: &str| -> String {
        let mut out = l.to_string();
        if l.len() > 16 && l.as_bytes()[2] == b':' && l.as_bytes()[8] == b'.' {
            out.replace_range(..15, "HH:MM:SS.UUUUUU");
        }
        if let Some(i) = out.rfind(" <") {
            if out.ends_with('>') {
                out.replace_range(i.., " <S.UUUUUU>");
            }
        }
        out
    };
    let ours: Vec<String> = t.raw.lines().map(mask).collect();
    let theirs: Vec<String> = s.iter().map(|l| mask(l)).collect();
    t.expect(ours == theirs, &format!("preld:\n{}\nstrace:\n{}", ours.join("\n"), theirs.join("\n")));
    // The times are the wall clock's, in local time, within the run.
    let secs_of_day = |l: &str| -> Option<u64> {
        let (h, m, sec) = (l.get(0..2)?.parse::<u64>().ok()?, l.get(3..5)?.parse::<u64>().ok()?, l.get(6..8)?.parse::<u64>().ok()?);
        Some(h * 3600 + m * 60 + sec)
    };
    let local_offset = |at: std::time::SystemTime| -> u64 {
        let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        // SAFETY: localtime_r into a zeroed local struct tm.
        let off = unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            libc::localtime_r(&secs, &mut tm);
            tm.tm_gmtoff
        };
        (secs + off).rem_euclid(86_400) as u64
    };
    let (lo, hi) = (local_offset(before), local_offset(after) + 1);
    for l in t.trace.lines() {
        let at = secs_of_day(l);
        t.expect(at.is_some_and(|x| lo <= x && x <= hi || lo > hi), &format!("a line's time is not the run's: {l}"));
    }
    // -s 8: strings cut after 8 bytes.
    t.expect(t.trace.contains("read(3, \"\\177ELF\\2\\1\\1\\3\"..., 832)"), "-s 8 did not cut the ELF header read");
}

#[test]
fn count_summary_like_strace() {
    // -c: the table strace -c prints, with the same calls and errors per
    // system call (the times are each tool's own), for one process and,
    // with -f, for a shell and its child.
    let d = Scratch::new("count");
    let rows = |text: &str| -> Vec<(String, String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('%') && !l.starts_with("---"))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                // % seconds usecs calls [errors] name
                let (calls, errors) = (f[3].to_string(), if f.len() == 6 { f[4].to_string() } else { String::new() });
                (f[f.len() - 1].to_string(), calls, errors)
            })
            .collect()
    };
    for (opts, args) in [
        (vec!["-c"], vec!["/bin/ls", "-la", "/usr/include"]),
        (vec!["-c", "-f"], vec!["/bin/sh", "-c", "cat /etc/hostname; true"]),
        (vec!["-c", "-w"], vec!["/bin/cat", "/etc/hostname"]),
    ] {
        let a: Vec<&dyn AsRef<OsStr>> = args.iter().map(|s| s as &dyn AsRef<OsStr>).collect();
        let t = trace(&d, &opts, &a);
        let (_, s) = strace_raw(&d, &opts, &a);
        let theirs = s.join("\n");
        t.expect(t.out.status.code() == Some(0), "the program did not exit 0");
        t.expect(t.raw.starts_with("% time     seconds  usecs/call     calls    errors syscall\n"), "no table header");
        let (mut ours, mut want) = (rows(&t.raw), rows(&theirs));
        ours.sort();
        want.sort();
        t.expect(ours == want, &format!("{opts:?} {args:?}: rows differ from strace -c's:\n{theirs}"));
    }
}

#[test]
fn a_call_interrupted_by_a_handler_keeps_its_own_time() {
    // The read blocks 300 ms; a SIGALRM handler makes calls 250 ms in. The
    // read's line keeps its arguments and its whole time (-T), not the
    // handler's calls' (they run while it is blocked).
    let d = Scratch::new("nested");
    let prog = program("h_nested-dyn-pie");
    let t = trace(&d, &["-T", "-e", "trace=read,getppid"], &[&prog]);
    t.expect(t.out.status.code() == Some(0), "the program did not exit 0");
    let read = t.lines().into_iter().rev().find(|l| l.starts_with("read(") && l.contains(", \"x\", 1) = 1 <"));
    let Some(read) = read else { t.fail("no read of the pipe's byte") };
    let secs: f64 = read.rsplit_once(" <").and_then(|(_, d)| d.trim_end_matches('>').parse().ok()).unwrap_or(0.0);
    t.expect(secs >= 0.28, &format!("the read's time is {secs} s, not its own 0.3 s: {read}"));
    let getppid = t.position(|l| l.starts_with("getppid()")).unwrap_or_else(|| t.fail("no getppid from the handler"));
    let read_at = t.position(|l| l == read).unwrap();
    t.expect(getppid < read_at, "the handler's getppid is not shown before the read ends");
}

#[test]
fn threads_end_with_their_exit_lines() {
    let d = Scratch::new("threadexit");
    let python = require_file("/usr/bin/python3", "python3");
    let code = "import threading\nts=[threading.Thread(target=lambda: None) for _ in range(3)]\n\
                [t.start() for t in ts]\n[t.join() for t in ts]\n";
    let t = trace(&d, &["-f", "-e", "trace=exit,exit_group"], &[&python, &"-c", &code]);
    t.expect(t.out.status.code() == Some(0), "python3 did not exit 0");
    let procs = per_process(t.trace.lines());
    let threads: Vec<&Vec<String>> = procs.iter().filter(|(p, _)| **p != 0).map(|(_, l)| l).collect();
    t.expect(threads.len() == 3, "not three threads traced");
    for l in threads {
        // A thread that the main thread's exit_group ends before it reaches
        // its own exit shows only its exit line (so does strace).
        t.expect(
            l == &["exit(0) = ?".to_string(), "+++ exited with 0 +++".to_string()]
                || l == &["+++ exited with 0 +++".to_string()],
            &format!("a thread's lines are not [exit(0) = ?,] then its exit line: {l:?}"),
        );
    }
    // The main thread's own lines end with its exit_group and the process's
    // exit line, which ends the trace; a thread that exit_group ended (it
    // had not reached its exit yet: joined threads may still be running
    // pthread's exit path) has its exit line after the exit_group, as in
    // strace's output.
    let main = procs.get(&0).unwrap_or_else(|| t.fail("no lines of the main thread"));
    t.expect(
        main.ends_with(&["exit_group(0) = ?".to_string(), "+++ exited with 0 +++".to_string()]),
        &format!("the main thread's lines do not end with its exit_group and exit line: {main:?}"),
    );
    t.expect_end(None, "+++ exited with 0 +++");
}

#[test]
fn an_exit_group_ends_the_other_threads_and_their_calls() {
    let d = Scratch::new("groupexit");
    let python = require_file("/usr/bin/python3", "python3");
    // A thread blocked in a read when the main thread exits the process.
    let code = "import os, threading\nr, w = os.pipe()\nthreading.Thread(target=os.read, args=(r, 1), daemon=True).start()\n\
                import time; time.sleep(0.2)\nos._exit(4)\n";
    let t = trace(&d, &["-f", "-e", "trace=read,exit_group"], &[&python, &"-c", &code]);
    t.expect(t.out.status.code() == Some(4), "python3 did not exit 4");
    let procs = per_process(t.trace.lines());
    let thread = procs.iter().find(|(p, _)| **p != 0).map(|(_, l)| l).unwrap_or_else(|| t.fail("no thread traced"));
    let n = thread.len();
    t.expect(
        n >= 2 && thread[n - 2].starts_with("read(") && thread[n - 2].ends_with(", 1) = ?"),
        "the blocked read is not shown as `read(..., 1) = ?`",
    );
    t.expect(thread[n - 1] == "+++ exited with 4 +++", "the thread's exit line is not the process's status");
    t.expect_end(None, "+++ exited with 4 +++");
}

#[test]
fn filtered_lines_equal_strace_s() {
    // Calls whose lines are the same in every run once addresses, ports and
    // pids are masked: sockets of every kind of address length, poll,
    // epoll, affinity, ids, sigaltstack, sysinfo's shape.
    let d = Scratch::new("equal");
    let python = require_file("/usr/bin/python3", "python3");
    let code = r#"
import os, socket, select, signal
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept(); c.getpeername()
c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
u.sendto(b"x", u.getsockname()); u.recvfrom(10)
x = socket.socketpair(); x[0].sendmsg([b"abc"]); x[1].recvmsg(10)
x[0].sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(4))]); x[1].recvmsg(10, 64)
p = select.poll(); p.register(a, select.POLLIN); c.send(b"y"); p.poll(0); select.poll().poll(0)
e = select.epoll(); e.register(a); e.poll(0)
os.sched_getaffinity(0); os.getresuid(); os.getresgid(); os.getgroups()
signal.signal(signal.SIGUSR1, lambda *a: None)
"#;
    let calls = "trace=socket,bind,listen,getsockname,getpeername,connect,accept4,sendto,recvfrom,getsockopt,\
                 socketpair,sendmsg,recvmsg,poll,epoll_create1,epoll_ctl,epoll_wait,sched_getaffinity,getresuid,\
                 getresgid,getgroups";
    let t = trace(&d, &["-e", calls], &[&python, &"-c", &code]);
    t.expect(t.out.status.code() == Some(0), "python3 did not exit 0");
    let (_, s) = strace(&d, &["-e", calls], &[&python, &"-c", &code]);
    let mask = |l: &str| {
        let mut out = no_addrs(l);
        // Ports and the epoll data (a pointer python stores) change between runs.
        while let Some(i) = out.find("htons(").filter(|&i| out[i + 6..].starts_with(|c: char| c.is_ascii_digit())) {
            let end = out[i + 6..].find(')').unwrap() + i + 6;
            out.replace_range(i + 6..end, "PORT");
        }
        if let Some(i) = out.find(", u64=") {
            let end = out[i..].find('}').unwrap() + i;
            out.replace_range(i + 6..end, "DATA");
        }
        out
    };
    let ours: Vec<String> = t.lines().iter().filter(|l| !l.starts_with("+++")).map(|l| mask(&unpad(l))).collect();
    let theirs: Vec<String> = s.iter().filter(|l| !l.starts_with("+++")).map(|l| mask(l)).collect();
    if ours != theirs {
        t.fail(&format!("lines differ from strace's:\npreld:\n{}\nstrace:\n{}", ours.join("\n"), theirs.join("\n")));
    }
}

#[test]
fn a_static_go_program_is_traced_like_strace() {
    // Go's runtime start-up: sigaltstack, affinity, its clone of threads.
    let d = Scratch::new("go");
    let go = program("go-hello");
    let calls = "trace=sigaltstack,sched_getaffinity,clone,exit_group";
    let t = trace(&d, &["-f", "-e", calls], &[&go]);
    let (_, s) = strace_raw(&d, &["-f", "-e", calls], &[&go]);
    let pids: Vec<u32> = per_process(s.iter().map(String::as_str)).keys().copied().chain(
        per_process(t.trace.lines()).keys().copied(),
    ).collect();
    let sa = |lines: Vec<String>| -> BTreeSet<String> {
        // A thread may make none of the traced calls, so its pid is not
        // among the known ones: clone results are normalized here.
        stable(&lines, &pids)
            .into_iter()
            .map(|l| l.replace("child_stack=ADDR", "child_stack=STACK"))
            .map(|l| match l.rsplit_once(") = ") {
                Some((head, pid)) if l.starts_with("clone(") && pid.bytes().all(|c| c.is_ascii_digit()) => {
                    format!("{head}) = PID")
                }
                _ => l,
            })
            // A call another thread was in when exit_group ended it
            // (`= ?`) depends on timing, for strace as for preld.
            .filter(|l| !l.ends_with(" = ?") || l.starts_with("exit_group("))
            .collect()
    };
    let ours = sa(per_process(t.trace.lines()).into_values().flatten().collect());
    let theirs = sa(per_process(s.iter().map(String::as_str)).into_values().flatten().collect());
    t.expect(
        ours == theirs,
        &format!(
            "the set of lines differs from strace's; preld only: {:?}, strace only: {:?}",
            ours.difference(&theirs).collect::<Vec<_>>(),
            theirs.difference(&ours).collect::<Vec<_>>()
        ),
    );
}

// ---------------------------------------------------------- -e inject=, -e fault=

/// preld's and strace's lines for the same tampering of `python3 -c CODE`:
/// the calls' lines (alignment padding out) and the program's stdout.
fn tampered(name: &str, opts: &[&str], code: &str) -> ((Vec<String>, String), (Vec<String>, String)) {
    let d = Scratch::new(name);
    let py = require_file("/usr/bin/python3", "python3");
    let t = trace(&d, opts, &[&py, &"-c", &code]);
    let (so, sl) = strace(&d, opts, &[&py, &"-c", &code]);
    let keep = |l: &&str| !l.starts_with("+++") && !l.starts_with("---");
    let mine = (t.trace.lines().filter(keep).map(str::to_string).collect(), t.stdout());
    let theirs = (sl.iter().map(String::as_str).filter(keep).map(str::to_string).collect(), String::from_utf8_lossy(&so.stdout).into_owned());
    (mine, theirs)
}

#[test]
fn inject_retval_and_error_as_strace() {
    let code = "import os\nfor i in range(5): print(os.getppid() == 7, os.getuid())";
    let opts = ["-e", "trace=getppid,getuid", "-e", "inject=getppid:retval=7:when=2+2", "-e", "inject=getuid:error=EPERM:when=3..4"];
    let (mine, theirs) = tampered("inject", &opts, code);
    assert_eq!(mine.1, theirs.1, "the program's output differs from strace's");
    let no_ids = |v: &Vec<String>| v.iter().map(|l| l.split(" = ").next().unwrap().to_string() + if l.contains("(INJECTED)") { " INJECTED " } else { "" } + l.split(" = ").nth(1).filter(|r| r.starts_with("-1")).unwrap_or("")).collect::<Vec<_>>();
    assert_eq!(no_ids(&mine.0), no_ids(&theirs.0), "the lines differ from strace's:\n{:#?}\n{:#?}", mine.0, theirs.0);
    assert_eq!(mine.0.iter().filter(|l| l.ends_with("= 7 (INJECTED)")).count(), 2, "{:#?}", mine.0);
    assert!(mine.0.contains(&"getuid() = -1 EPERM (Operation not permitted) (INJECTED)".to_string()), "{:#?}", mine.0);
}

#[test]
fn fault_defaults_to_enosys_and_only_traced_calls_are_tampered() {
    let code = "import os\ntry:\n  os.chdir('/')\nexcept OSError as e: print(e.errno)\nprint(os.getcwd())";
    let (mine, theirs) = tampered("fault", &["-e", "trace=chdir", "-e", "fault=chdir"], code);
    assert_eq!(mine.1, theirs.1, "the program's output differs from strace's");
    assert_eq!(mine.1.lines().next(), Some("38"));
    assert!(mine.0.contains(&"chdir(\"/\") = -1 ENOSYS (Function not implemented) (INJECTED)".to_string()), "{:#?}", mine.0);
    // Not traced: not tampered with (strace's rule).
    let (mine, theirs) = tampered("fault-untraced", &["-e", "trace=getcwd", "-e", "fault=chdir:error=EACCES"], code);
    assert_eq!(mine.1, theirs.1);
    assert_eq!(mine.1, "/\n");
}

#[test]
fn inject_signal_as_strace() {
    let code = "import os, signal\nsignal.signal(signal.SIGUSR1, lambda *a: print('usr1', flush=True))\nos.getppid()\nprint('after', flush=True)";
    let opts = ["-e", "trace=getppid", "-e", "inject=getppid:signal=SIGUSR1"];
    let d = Scratch::new("inject-signal");
    let py = require_file("/usr/bin/python3", "python3");
    let t = trace(&d, &opts, &[&py, &"-c", &code]);
    let (so, sl) = strace(&d, &opts, &[&py, &"-c", &code]);
    assert_eq!(t.stdout(), String::from_utf8_lossy(&so.stdout), "the program's output differs from strace's");
    assert_eq!(t.stdout(), "usr1\nafter\n");
    let sig = |v: Vec<&str>| v.into_iter().find(|l| l.starts_with("--- SIGUSR1")).map(str::to_string);
    assert_eq!(sig(t.lines()), sig(sl.iter().map(String::as_str).collect()), "the signal lines differ from strace's");
    assert_eq!(sig(t.lines()).as_deref(), Some("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_KERNEL} ---"));
}

#[test]
fn inject_delays_as_strace() {
    let code = "import os\nos.getppid()";
    let opts = ["-T", "-e", "trace=getppid", "-e", "inject=getppid:delay_enter=20ms:delay_exit=30000"];
    let d = Scratch::new("inject-delay");
    let py = require_file("/usr/bin/python3", "python3");
    let t = trace(&d, &opts, &[&py, &"-c", &code]);
    let (_, sl) = strace(&d, &opts, &[&py, &"-c", &code]);
    // -T: the call's own time holds the delay after it (at least 30 ms).
    let line = t.lines().into_iter().find(|l| l.starts_with("getppid()")).unwrap_or_else(|| t.fail("no getppid line"));
    let secs: f64 = line.rsplit_once(" <").and_then(|(_, d)| d.strip_suffix('>')).and_then(|d| d.parse().ok()).unwrap_or(0.0);
    assert!(secs >= 0.030, "the exit delay was not made: {line}");
    let marks = |v: Vec<&str>| {
        v.into_iter()
            .filter(|l| l.starts_with("getppid()"))
            .map(|l| l.split_once(") = ").unwrap().1.split(' ').filter(|w| w.starts_with('(')).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(marks(t.lines()), marks(sl.iter().map(String::as_str).collect()), "the markers differ from strace's");
    assert_eq!(marks(t.lines()), ["(DELAYED)"]);
}

#[test]
fn inject_expressions_strace_refuses_are_refused() {
    for e in ["inject=openat", "inject=openat:error=EIO:retval=1", "inject=openat:when=0", "fault=openat:signal=SIGUSR1", "inject=openat:error=EWHAT"] {
        let out = run({
            let mut c = command(preld());
            c.args(["trace", "-e", e, "--", "true"]);
            c
        });
        assert_eq!(out.status.code(), Some(2), "-e {e}: not refused as a usage error");
        assert!(String::from_utf8_lossy(&out.stderr).contains("-e"), "-e {e}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

// strace counts a tracee's invocations across execve: bash's getppid (for
// $PPID) are the first three, the exec'd python's the fourth.
#[test]
fn inject_counts_on_across_exec_as_strace() {
    let d = Scratch::new("inject-exec");
    let py = require_file("/usr/bin/python3", "python3");
    let script = format!("exec {} -c 'import os; print(os.getppid() == 7)'", py.display());
    let opts = ["-e", "trace=getppid", "-e", "inject=getppid:retval=7:when=4"];
    let t = trace(&d, &opts, &[&bash(), &"-c", &script]);
    let (so, _) = strace(&d, &opts, &[&bash(), &"-c", &script]);
    assert_eq!(t.stdout(), String::from_utf8_lossy(&so.stdout), "the program's output differs from strace's");
    assert_eq!(t.stdout(), "True\n");
}

// ------------------------------------- -y, -z/-Z, -x, -P, -qq, --vdso

/// The lines of `lines` that `keep` selects, comparable between runs and
/// tracers: unpadded, without pid prefixes (preld's `[pid N] `, strace's
/// `N `), addresses and inodes (`pipe:[123]`) masked.
fn picked<'a>(lines: impl IntoIterator<Item = &'a str>, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let no_pid = |l: &'a str| -> &'a str {
        match l.split_once(' ') {
            Some((pid, rest)) if !pid.is_empty() && pid.bytes().all(|c| c.is_ascii_digit()) => rest.trim_start(),
            _ => strip_pid(l),
        }
    };
    let no_inodes = |l: &str| -> String {
        let mut out = String::new();
        let mut rest = l;
        while let Some(i) = rest.find(":[") {
            out.push_str(&rest[..i + 2]);
            rest = &rest[i + 2..];
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n > 0 && rest[n..].starts_with(']') {
                out.push_str("INODE");
                rest = &rest[n..];
            }
        }
        out.push_str(rest);
        out
    };
    lines.into_iter().map(no_pid).filter(|l| keep(l)).map(|l| no_inodes(&no_addrs(&unpad(l)))).collect()
}

/// preld's and strace's traces of `args` with `opts`, the lines `keep`
/// selects compared (and at least `min` of them).
fn same_lines_as_strace(name: &str, opts: &[&str], args: &[&dyn AsRef<OsStr>], min: usize, keep: impl Fn(&str) -> bool) -> Traced {
    let d = Scratch::new(name);
    let t = trace(&d, opts, args);
    let (_, s) = strace_raw(&d, opts, args);
    let ours = picked(t.raw.lines(), &keep);
    let theirs = picked(s.iter().map(String::as_str), &keep);
    t.expect(
        ours == theirs && ours.len() >= min,
        &format!("{opts:?}: preld's lines:\n{}\nstrace's:\n{}", ours.join("\n"), theirs.join("\n")),
    );
    t
}

#[test]
fn fd_paths_like_strace() {
    // -y: fd arguments (close's as it was before the call), AT_FDCWD (the
    // working directory) and returned fds carry their paths.
    let t = same_lines_as_strace(
        "fdpaths",
        &["-y", "-e", "trace=openat,read,newfstatat,fadvise64,close"],
        &[&"cat", &"/etc/hostname"],
        4,
        |l| l.contains("hostname"),
    );
    t.expect_line(r#"close(3</etc/hostname>) = 0"#);
    // A shell's dup2 and close of /dev/null: arguments before the call.
    same_lines_as_strace(
        "fdpaths-sh",
        &["-y", "-e", "trace=dup2,close,write"],
        &[&"/bin/sh", &"-c", &"echo hi > /dev/null; exec 5>&1; exec 5>&-"],
        4,
        |l| !l.contains("ld.so.cache") && !l.contains("libc.so"),
    );
}

#[test]
fn fd_paths_of_pipes_sockets_and_devices_like_strace() {
    // -yy: TCP and UDP sockets with their addresses (bound, connected),
    // pipes, devices. Ports and inodes differ between runs: digits masked.
    let d = Scratch::new("fdpaths2");
    let script = d.write(
        "net.py",
        r#"import socket, os
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.send(b"hi"); a.recv(10)
r, w = os.pipe(); os.write(w, b"p"); os.read(r, 1)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 0)); u.sendto(b"d", u.getsockname())
n = open("/dev/null", "wb", buffering=0); n.write(b"x")
"#,
    );
    let python = require_file("/usr/bin/python3", "python3");
    let opts = ["-yy", "-e", "trace=listen,connect,accept4,sendto,recvfrom,pipe2,read,write"];
    let t = trace(&d, &opts, &[&python, &script]);
    let (_, s) = strace_raw(&d, &opts, &[&python, &script]);
    let digits = |l: &str| -> String {
        let mut o = String::new();
        for c in l.chars() {
            if !c.is_ascii_digit() {
                o.push(c);
            } else if !o.ends_with('N') {
                o.push('N');
            }
        }
        o
    };
    let keep = |l: &str| ["<TCP", "<UDP", "<pipe", "</dev/null"].iter().any(|k| l.contains(k));
    let ours: Vec<String> = picked(t.raw.lines(), keep).iter().map(|l| digits(l)).collect();
    let theirs: Vec<String> = picked(s.iter().map(String::as_str), keep).iter().map(|l| digits(l)).collect();
    t.expect(ours == theirs && ours.len() >= 8, &format!("preld:\n{}\nstrace:\n{}", ours.join("\n"), theirs.join("\n")));
    t.expect(t.raw.contains("->127.0.0.1:"), "no connected TCP socket's addresses");
}

#[test]
fn successful_or_failed_calls_only_like_strace() {
    for (opt, name) in [("-z", "onlyok"), ("-Z", "onlyfailed")] {
        // -Z: the whole trace (failed calls only, without exit_group's `= ?`).
        let t = same_lines_as_strace(name, &[opt], &[&"cat", &"/nonexistent-preld-test", &"/etc/hostname"], 3, |l| {
            opt == "-Z" || ["openat(", "read(", "close(", "exit_group(", "+++"].iter().any(|p| l.starts_with(p))
        });
        let failed = |l: &&str| l.contains(" = -1 ");
        let all_calls = t.lines().into_iter().filter(|l| !l.starts_with("+++")).collect::<Vec<_>>();
        let ok = if opt == "-z" { all_calls.iter().all(|l| !failed(l)) } else { all_calls.iter().all(failed) };
        t.expect(ok, &format!("{opt} shows a call it should not"));
        t.expect_end(None, "+++ exited with 1 +++");
    }
}

#[test]
fn strings_in_hex_like_strace() {
    let d = Scratch::new("hexfiles");
    let files = [d.write("u.txt", "h\u{e9}llo\n"), d.write("t.txt", "a\tb\n"), d.write("c.txt", "a\x01b\n")];
    for opt in ["-x", "-xx"] {
        let args: Vec<&dyn AsRef<OsStr>> = [&"cat" as &dyn AsRef<OsStr>].into_iter().chain(files.iter().map(|f| f as &dyn AsRef<OsStr>)).collect();
        same_lines_as_strace(&format!("hex{opt}"), &[opt, "-e", "trace=openat,read,write"], &args, 9, |l| {
            !l.contains("ld.so") && !l.contains("/lib") && !l.contains("\\x2f\\x6c\\x69\\x62") && !l.contains("locale")
                && !l.contains("\\x6c\\x6f\\x63\\x61\\x6c\\x65")
        });
    }
}

#[test]
fn path_filter_like_strace() {
    // -P through a symlink: the calls with the path as written, those on
    // the fd it opened (which refers to the resolved file).
    let d = Scratch::new("pathfilter");
    let link = d.join("hn");
    std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
    let link_s = link.to_str().unwrap();
    let t = same_lines_as_strace("pathfilter-run", &["-P", link_s], &[&"cat", &link], 4, |_| true);
    t.expect(t.raw.lines().any(|l| l.starts_with("read(3, ")), "no read of the fd");
    same_lines_as_strace("pathfilter-exec", &["-P", "/usr/bin/cat"], &[&"/usr/bin/cat", &"/etc/hostname"], 2, |_| true);
}

#[test]
fn quiet_exit_lines_like_strace() {
    same_lines_as_strace("quiet", &["-qq", "-e", "trace=exit_group"], &[&"true"], 1, |_| true);
    let t = same_lines_as_strace("quiet-f", &["-qq", "-f", "-e", "trace=exit_group"], &[&"/bin/sh", &"-c", &"/bin/true; exit 3"], 2, |l| {
        l.starts_with("+++") || l.ends_with("= ?")
    });
    t.expect(!t.raw.contains("+++ exited"), "-qq shows an exit line");
    let t = trace(&Scratch::new("quiet-q"), &["-q", "-e", "trace=none"], &[&"true"]);
    t.expect(t.raw == "+++ exited with 0 +++\n", "-q changed the trace");
}

#[test]
fn vdso_calls_are_traced_with_vdso() {
    let d = Scratch::new("vdso");
    let python = require_file("/usr/bin/python3", "python3");
    let prog = [&python as &dyn AsRef<OsStr>, &"-c", &"import time; time.time(); time.monotonic()"];
    let t = trace(&d, &["--vdso"], &prog);
    t.expect(t.raw.contains("clock_gettime(CLOCK_REALTIME, {tv_sec="), "--vdso: no clock_gettime line");
    let t = trace(&d, &["--vdso", "-e", "trace=clock_gettime"], &prog);
    t.expect(t.lines().iter().all(|l| l.starts_with("clock_gettime(") || l.starts_with("+++")), "--vdso -e: other calls");
    let t = trace(&d, &[], &prog);
    t.expect(!t.raw.contains("clock_gettime("), "without --vdso: vDSO calls shown");
}

// ---------------------------------------------------------------- --json

#[test]
fn json_lines_are_objects_with_the_call_s_parts() {
    let d = Scratch::new("json");
    let t = trace(&d, &["--json", "-f", "-e", "trace=openat,exit_group"], &[&bash(), &"-c", &"cat /etc/hostname >/dev/null; exit 3"]);
    let py = require_file("/usr/bin/python3", "python3");
    let check = "import json, sys\n\
        objs = [json.loads(l) for l in open(sys.argv[1])]\n\
        calls = [o for o in objs if o['type'] == 'call']\n\
        assert all({'pid', 'tid', 'seq', 'time', 'name', 'args', 'result', 'errno'} <= o.keys() for o in calls), calls\n\
        opens = [o for o in calls if o['name'] == 'openat' and o['args'][1] == '/etc/hostname']\n\
        assert opens and opens[0]['args'][0] == 'AT_FDCWD' and opens[0]['args'][2] == 'O_RDONLY' and isinstance(opens[0]['result'], int), opens\n\
        fails = [o for o in calls if o['errno'] == 'ENOENT']\n\
        assert all(o['result'] == -1 and o['error'] == 'No such file or directory' for o in fails), fails\n\
        assert any(o['name'] == 'exit_group' and o['result'] is None for o in calls)\n\
        assert objs[-1] == {'type': 'exit', 'status': 3}, objs[-1]\n\
        seqs = {}\n\
        for o in calls: seqs.setdefault(o['pid'], []).append(o['seq'])\n\
        assert all(v == sorted(v) for v in seqs.values()), seqs\n\
        print('ok', len(calls))\n";
    let o = run({
        let mut c = Command::new(py);
        c.args(["-c", check]).arg(d.join("trace.txt"));
        c
    });
    assert!(o.stdout_str().starts_with("ok "), "{}\n{}", o.report(), t.raw);
    assert_eq!(t.out.status.code(), Some(3));
}

// ---------------------------------------------------------------- -ff -o

/// `si_pid=1234` → `si_pid=PID`, and the child's CPU times (which differ
/// from run to run, `si_stime=1 /* 0.01 s */`) → `si_utime=T`, `si_stime=T`.
fn no_pids(line: &str) -> String {
    let mut out = line.to_string();
    for (key, mark) in [("si_pid=", "PID"), ("si_utime=", "T"), ("si_stime=", "T")] {
        let mut done = String::new();
        let mut rest = out.as_str();
        while let Some(i) = rest.find(key) {
            done.push_str(&rest[..i + key.len()]);
            rest = rest[i + key.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
            if let Some(after) = rest.strip_prefix(" /*") {
                rest = after.find("*/").map_or(rest, |j| &after[j + 2..]);
            }
            done.push_str(mark);
        }
        out = done + rest;
    }
    out
}

/// The files FILE.PID of `dir` (prefix `t`), each as its lines with
/// alignment padding and addresses out, sorted by content.
fn per_process_files(dir: &Path) -> Vec<Vec<String>> {
    let mut files: Vec<Vec<String>> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("t."))
        .map(|e| std::fs::read_to_string(e.path()).unwrap().lines().map(|l| no_pids(&no_addrs(&unpad(l)))).collect())
        .collect();
    files.sort();
    files
}

#[test]
fn ff_writes_a_file_per_process_like_strace() {
    let d = Scratch::new("ff");
    let (mine, theirs) = (d.join("preld"), d.join("strace"));
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    let script = "/bin/true; ls / >/dev/null; exit 3";
    let o = run({
        let mut c = command(preld());
        c.args(["trace", "-ff", "-e", "trace=execve,exit_group", "-o"]).arg(mine.join("t")).arg("--").arg(bash()).args(["-c", script]);
        c
    });
    assert_eq!(o.status.code(), Some(3), "{}", o.report());
    let s = run({
        let mut c = command(require_tool("strace", "strace"));
        c.args(["-ff", "-e", "trace=execve,exit_group", "-o"]).arg(theirs.join("t")).arg("--").arg(bash()).args(["-c", script]);
        c
    });
    assert_eq!(s.status.code(), Some(3));
    let (p, t) = (per_process_files(&mine), per_process_files(&theirs));
    assert_eq!(p.len(), 3, "one file per process: {p:#?}");
    assert_eq!(p, t, "the files differ from strace's");
}

/// With --tracer and no -o there are no strace lines: their options are
/// refused before anything starts, not dropped without a word.
#[test]
fn line_options_without_lines_are_refused() {
    for opts in [&["-e", "inject=getppid:retval=1"][..], &["--json"], &["-y"]] {
        let out = run({
            let mut c = command(preld());
            c.args(["trace", "--tracer", "cat >/dev/null"]).args(opts).args(["--", "true"]);
            c
        });
        assert_eq!(out.status.code(), Some(2), "{opts:?}: {}", out.report());
        assert!(out.stderr_str().contains("need -o"), "{opts:?}: {}", out.report());
    }
}

/// SIGPIPE and SIGCHLD as preld's caller left them reach the program under
/// `preld run` and `preld trace`, as natively: ignored stays ignored (std's
/// exec set SIGPIPE's default; preld trace's waits failed with "No child
/// processes" when SIGCHLD was ignored), default stays default.
#[test]
fn the_caller_s_ignored_sigpipe_and_sigchld_reach_the_program() {
    let preld = preld();
    let status = |prefix: &[&str], ignore: bool| {
        let mut c = Command::new(prefix[0]);
        c.args(&prefix[1..]).args(["grep", "-E", "^SigIgn", "/proc/self/status"]);
        // SAFETY: signal(2) only, between fork and exec.
        unsafe {
            c.pre_exec(move || {
                let d = if ignore { libc::SIG_IGN } else { libc::SIG_DFL };
                libc::signal(libc::SIGPIPE, d);
                libc::signal(libc::SIGCHLD, d);
                Ok(())
            })
        };
        let o = run(c);
        assert!(o.status.success(), "{prefix:?}: {}", o.report());
        o.stdout_str()
    };
    let p = preld.to_str().unwrap();
    for ignore in [true, false] {
        let native = status(&["env"], ignore);
        let bits = u64::from_str_radix(native.trim().trim_start_matches("SigIgn:").trim(), 16).unwrap();
        let both = (1u64 << (libc::SIGPIPE - 1)) | (1 << (libc::SIGCHLD - 1));
        assert_eq!(bits & both, if ignore { both } else { 0 }, "native: {native}");
        for prefix in [&[p, "run", "--"][..], &[p, "trace", "-o", "/dev/null", "--"][..]] {
            assert_eq!(status(prefix, ignore), native, "{prefix:?}, caller ignoring: {ignore}");
        }
    }
}

/// The forms of exec (tests/programs/pola/exec_forms.c: execveat beside
/// directory fds, AT_EMPTY_PATH, fexecve, `#!` scripts by those names)
/// under `preld run` and `preld trace`, as natively. A script exec'd
/// beside an fd got /proc/self/fd/M/NAME of preld's copy of the fd, which
/// ld-preld had closed, where the kernel gives /dev/fd/N/NAME.
#[test]
fn exec_forms_under_run_and_trace_as_natively() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = Scratch::new("exec_forms_run");
    let d = tmp.dir("dir");
    std::fs::write(d.join("s.sh"), "#!/bin/sh\necho \"  0=$0 pwd=$(pwd) args=$*\"\n").unwrap();
    std::fs::write(d.join("r.sh"), "#!./s.sh\n").unwrap();
    std::fs::copy("/bin/sh", d.join("sh")).unwrap();
    for f in ["s.sh", "r.sh", "sh"] {
        std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::os::unix::fs::symlink("s.sh", d.join("lnk")).unwrap();
    let prog = program("pola/exec_forms");
    let preld = preld();
    let go = |prefix: &[&OsStr]| {
        let mut c = Command::new(prefix.first().copied().unwrap_or(prog.as_os_str()));
        c.args(prefix.iter().skip(1)).args(if prefix.is_empty() { vec![] } else { vec![prog.as_os_str()] }).arg(&d).current_dir(tmp.path());
        run(c)
    };
    let native = go(&[]);
    assert!(native.status.success() && native.stdout_str().contains("0=/dev/fd/"), "native: {}", native.report());
    for prefix in [vec![preld.as_os_str(), OsStr::new("run"), OsStr::new("--")], vec![preld.as_os_str(), OsStr::new("trace"), OsStr::new("-o"), OsStr::new("/dev/null"), OsStr::new("--")]] {
        let o = go(&prefix);
        assert_eq!((o.stdout_str(), o.status.code()), (native.stdout_str(), native.status.code()), "{prefix:?}: {}\nnative:\n{}", o.report(), native.stdout_str());
    }
}

/// Session-20b adversary: a traced program chooses file names, the bytes it
/// writes and the links it reads; with newlines, tabs, preld's record
/// separator (0x1e), escape sequences and `<>` in them, each call is still
/// one line, in text (-yy, its fd paths too) and in --json, and no line of
/// the program's making appears.
#[test]
fn a_traced_program_cannot_forge_lines() {
    let d = Scratch::new("forge");
    let forged = "x\n\x1e1 1 1 1\tforged(1) = 0\n\x1b[2J\x1b]0;t\x07>, \"f\", 1) = 1\nforged2(3<y>) = 0\r";
    let script = format!(
        "import os, sys\nos.chdir(sys.argv[2])\nn = sys.argv[1]\nfd = os.open(n, os.O_CREAT | os.O_RDWR, 0o644)\nos.write(fd, n.encode())\nos.lseek(fd, 0, 0)\nos.read(fd, 100)\nos.symlink(n, 'l')\nos.readlink('l')\nos.write(1, n.encode())\n"
    );
    let py = require_file("/usr/bin/python3", "python3");
    for opts in [&["-f", "-yy", "-s", "200", "-e", "trace=openat,write,read,readlink,symlink"][..], &["--json", "-f", "-yy", "-s", "200", "-e", "trace=openat,write,read,readlink,symlink"][..]] {
        let _ = std::fs::remove_file(d.join("l"));
        let t = trace(&d, opts, &[&py, &"-S", &"-c", &script, &forged, &d.path()]);
        assert!(t.out.status.success(), "{}: {}", t.shown, t.stderr());
        for l in t.raw.lines() {
            assert!(!l.bytes().any(|c| c < 0x20 || c == 0x7f), "a raw control byte in {l:?}");
            assert!(!l.contains("forged") || l.contains("\\n"), "{opts:?}: a forged line: {l:?}\n{}", t.raw);
            let first = l.trim_start_matches("{\"type\":\"call\"").split(['(', ' ', '"', ',']).next().unwrap_or("");
            assert!(!first.starts_with("forged") && !first.starts_with('\u{1e}'), "{l:?}");
        }
        let lines = |pat: &str| t.raw.lines().filter(|l| l.contains(pat)).count();
        assert_eq!(lines("forged2"), 6, "{opts:?}: each call naming the name is one line:\n{}", t.raw);
    }
}
