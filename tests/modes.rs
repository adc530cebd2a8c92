//! The mode matrix: run one program natively and under each way preld can
//! start it (launcher, `preld run`, PT_INTERP via `preld patch`), and compare
//! stdout, the wait status (exit code or terminating signal) and, where the
//! case says it is deterministic, stderr.
//!
//! A case is built with [`Case::exec`] (one program) or [`Case::shell`] (a
//! bash script whose `{name}` placeholders become the mode's way of starting
//! that program, e.g. a pipeline of two programs both under preld; bash itself
//! runs natively). [`Case::check`] panics with every mode that differs, the
//! commands, a unified diff of the outputs and the paths of files holding
//! both sides in full.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::{ld_preld, preld};

/// How a program is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `PROG ARGS`
    Native,
    /// `ld-preld PROG ARGS`
    Launcher,
    /// `preld run -- PROG ARGS`
    Run,
    /// `preld patch PROG tmp/PROG.patched`, then `tmp/PROG.patched ARGS`
    PtInterp,
}

impl Mode {
    /// The modes compared against [`Mode::Native`].
    pub const PRELD: [Mode; 3] = [Mode::Launcher, Mode::Run, Mode::PtInterp];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Launcher => "launcher",
            Mode::Run => "preld-run",
            Mode::PtInterp => "pt-interp",
        }
    }
}

/// The ELF kind a program under test must have; checked before it runs, so
/// that skipping PT_INTERP mode for a static program is never a silent guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfKind {
    /// ET_DYN with PT_INTERP (the usual PIE).
    DynPie,
    /// ET_EXEC with PT_INTERP (-no-pie).
    DynExec,
    /// Dynamic, PIE or not (system programs whose kind is not the point).
    Dynamic,
    /// ET_EXEC without PT_INTERP (-static, Go, busybox-static).
    StaticExec,
    /// ET_DYN without PT_INTERP (-static-pie).
    StaticPie,
    /// Static, PIE or not.
    Static,
}

impl ElfKind {
    pub fn is_static(self) -> bool {
        matches!(self, ElfKind::StaticExec | ElfKind::StaticPie | ElfKind::Static)
    }

    fn matches(self, e_type: u16, interp: bool) -> bool {
        const ET_EXEC: u16 = 2;
        const ET_DYN: u16 = 3;
        match self {
            ElfKind::DynPie => e_type == ET_DYN && interp,
            ElfKind::DynExec => e_type == ET_EXEC && interp,
            ElfKind::Dynamic => interp,
            ElfKind::StaticExec => e_type == ET_EXEC && !interp,
            ElfKind::StaticPie => e_type == ET_DYN && !interp,
            ElfKind::Static => !interp,
        }
    }
}

/// e_type and whether there is a PT_INTERP, read from an ELF64 file.
pub fn elf_type_and_interp(path: &Path) -> Result<(u16, bool), String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let u16_at = |o: usize| data.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| data.get(o..o + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |o: usize| data.get(o..o + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));
    if data.get(..5) != Some(b"\x7fELF\x02") {
        return Err(format!("{} is not an ELF64 file", path.display()));
    }
    let bad = || format!("{}: truncated ELF header", path.display());
    let e_type = u16_at(16).ok_or_else(bad)?;
    let phoff = u64_at(0x20).ok_or_else(bad)? as usize;
    let phentsize = u16_at(0x36).ok_or_else(bad)? as usize;
    let phnum = u16_at(0x38).ok_or_else(bad)? as usize;
    let mut interp = false;
    for i in 0..phnum {
        const PT_INTERP: u32 = 3;
        if u32_at(phoff + i * phentsize).ok_or_else(bad)? == PT_INTERP {
            interp = true;
        }
    }
    Ok((e_type, interp))
}

/// The scratch directory of the matrix: target/tmp/preld-matrix, emptied
/// once per test process.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = crate::root().join("target/tmp/preld-matrix");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
        d
    })
}

/// `preld patch PROG scratch/patched/NAME.patched`, once per program; the
/// result must exist, be executable and have a PT_INTERP.
pub fn patched(prog: &Path) -> Result<PathBuf, String> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Result<PathBuf, String>>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(r) = cache.get(prog) {
        return r.clone();
    }
    let dir = scratch().join("patched");
    std::fs::create_dir_all(&dir).unwrap();
    let name: String = prog.to_string_lossy().trim_start_matches('/').replace('/', "_");
    let out = dir.join(format!("{name}.patched"));
    let mut cmd = Command::new(preld());
    cmd.arg("patch").arg(prog).arg(&out);
    let shown = show_command(&cmd, &[]);
    let r = match run_limited(cmd, Duration::from_secs(60)) {
        Err(e) => Err(format!("`{shown}`: {e}")),
        Ok(o) if !o.status.success() => Err(format!(
            "`{shown}` failed with {}; stderr:\n{}",
            describe_status(o.status),
            String::from_utf8_lossy(&o.stderr)
        )),
        Ok(_) => match std::fs::metadata(&out) {
            Err(e) => Err(format!("`{shown}` succeeded but {} is missing: {e}", out.display())),
            Ok(m) if m.permissions().mode() & 0o111 == 0 => {
                Err(format!("`{shown}` wrote {} without execute permission", out.display()))
            }
            Ok(_) => match elf_type_and_interp(&out) {
                Ok((_, true)) => Ok(out),
                Ok((_, false)) => Err(format!("`{shown}` wrote {} without a PT_INTERP", out.display())),
                Err(e) => Err(format!("`{shown}`: {e}")),
            },
        },
    };
    cache.insert(prog.to_path_buf(), r.clone());
    r
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: ExitStatus,
    pub elapsed: Duration,
}

/// Runs `cmd` in its own process group with stdin from /dev/null; kills the
/// group after `limit`.
pub fn run_limited(mut cmd: Command, limit: Duration) -> Result<Output, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > limit => {
                let pgid = child.id();
                // The whole group: a shell case's children too.
                let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {limit:?} (process group {pgid} killed)"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    // A grandchild may keep the pipes open past its parent's exit.
    let stdout = t_out.join().unwrap();
    let stderr = t_err.join().unwrap();
    Ok(Output {
        stdout,
        stderr,
        status,
        elapsed: start.elapsed(),
    })
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

/// What the native run must do, so that a case whose program is broken (or
/// missing a feature) fails instead of comparing two identical failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Exit(i32),
    Signal(i32),
}

enum Target {
    Exec {
        prog: PathBuf,
        args: Vec<OsString>,
    },
    Shell {
        script: String,
        progs: Vec<(String, PathBuf)>,
    },
}

/// One row of the matrix.
pub struct Case {
    name: String,
    target: Target,
    kind: ElfKind,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
    compare_stderr: bool,
    expect: Expect,
    stdout_has: Vec<String>,
    stdout_is: Option<Vec<u8>>,
    limit: Duration,
}

/// The environment every mode gets (the test's own is not passed on).
pub const BASE_ENV: [(&str, &str); 3] = [("PATH", "/usr/bin:/bin"), ("LC_ALL", "C"), ("TZ", "UTC")];

impl Case {
    /// `PROG ARGS...` (PROG must be a path).
    pub fn exec<I, S>(name: &str, prog: impl AsRef<Path>, args: I) -> Case
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let prog = prog.as_ref().to_path_buf();
        Case::new(
            name,
            Target::Exec {
                prog,
                args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            },
        )
    }

    /// `bash -c SCRIPT` run natively, where each `{NAME}` of `progs` becomes
    /// that program started in the mode under test (shell-quoted).
    pub fn shell(name: &str, script: &str, progs: &[(&str, &Path)]) -> Case {
        let progs = progs.iter().map(|(n, p)| (n.to_string(), p.to_path_buf())).collect();
        Case::new(
            name,
            Target::Shell {
                script: script.to_string(),
                progs,
            },
        )
    }

    fn new(name: &str, target: Target) -> Case {
        Case {
            name: name.to_string(),
            target,
            kind: ElfKind::Dynamic,
            env: Vec::new(),
            cwd: None,
            compare_stderr: false,
            expect: Expect::Exit(0),
            stdout_has: Vec::new(),
            stdout_is: None,
            limit: Duration::from_secs(60),
        }
    }

    /// The ELF kind of the program(s); default [`ElfKind::Dynamic`]. A static
    /// kind skips PT_INTERP mode (static programs have no PT_INTERP to patch).
    pub fn kind(mut self, k: ElfKind) -> Case {
        self.kind = k;
        self
    }
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Case {
        self.env.push((k.into(), v.as_ref().to_owned()));
        self
    }
    pub fn cwd(mut self, d: impl AsRef<Path>) -> Case {
        self.cwd = Some(d.as_ref().to_path_buf());
        self
    }
    /// Compare stderr too (it is deterministic for this case).
    pub fn stderr(mut self) -> Case {
        self.compare_stderr = true;
        self
    }
    /// The native status (default: exit 0).
    pub fn expect(mut self, e: Expect) -> Case {
        self.expect = e;
        self
    }
    /// A string the native stdout must contain (at least one per case).
    pub fn stdout_has(mut self, s: &str) -> Case {
        self.stdout_has.push(s.to_string());
        self
    }

    /// The exact native stdout (for cases whose output is known).
    pub fn stdout_is(mut self, s: &str) -> Case {
        self.stdout_is = Some(s.as_bytes().to_vec());
        self
    }

    fn modes(&self) -> Vec<Mode> {
        let mut m = vec![Mode::Launcher, Mode::Run];
        // Static programs have no PT_INTERP: there is nothing to patch.
        if !self.kind.is_static() {
            m.push(Mode::PtInterp);
        }
        m
    }

    fn programs(&self) -> Vec<&Path> {
        match &self.target {
            Target::Exec { prog, .. } => vec![prog.as_path()],
            Target::Shell { progs, .. } => progs.iter().map(|(_, p)| p.as_path()).collect(),
        }
    }

    /// The command for `mode`, or why it cannot be made.
    fn command(&self, mode: Mode) -> Result<(Command, Vec<(OsString, OsString)>), String> {
        let start = |prog: &Path| -> Result<Vec<OsString>, String> {
            Ok(match mode {
                Mode::Native => vec![prog.into()],
                Mode::Launcher => vec![ld_preld().into(), prog.into()],
                Mode::Run => vec![preld().into(), "run".into(), "--".into(), prog.into()],
                Mode::PtInterp => vec![patched(prog)?.into()],
            })
        };
        let mut env: Vec<(OsString, OsString)> = BASE_ENV.iter().map(|(k, v)| (k.into(), v.into())).collect();
        env.extend(self.env.iter().cloned());
        let mut cmd = match &self.target {
            Target::Exec { prog, args } => {
                let words = start(prog)?;
                // The path the program is run by: what AT_EXECFN must say.
                let execfn = if mode == Mode::PtInterp {
                    words[0].clone()
                } else {
                    prog.into()
                };
                env.push(("PRELD_TEST_EXECFN".into(), execfn));
                let mut c = Command::new(&words[0]);
                c.args(&words[1..]).args(args);
                c
            }
            Target::Shell { script, progs } => {
                let mut s = script.clone();
                for (name, prog) in progs {
                    let words: Vec<String> = start(prog)?.iter().map(|w| shell_quote(w)).collect();
                    s = s.replace(&format!("{{{name}}}"), &words.join(" "));
                }
                let mut c = Command::new("/bin/bash");
                c.arg("-c").arg(s);
                c
            }
        };
        cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v))).envs(crate::fast_env());
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        Ok((cmd, env))
    }

    /// Runs every mode and panics with all the differences found.
    pub fn check(self) {
        for prog in self.programs() {
            let (e_type, interp) = elf_type_and_interp(prog).unwrap_or_else(|e| panic!("case `{}`: {e}", self.name));
            assert!(
                self.kind.matches(e_type, interp),
                "case `{}`: {} should be {:?} but has e_type {e_type} and {} PT_INTERP",
                self.name,
                prog.display(),
                self.kind,
                if interp { "a" } else { "no" }
            );
        }
        assert!(
            !self.stdout_has.is_empty() || self.stdout_is.is_some(),
            "case `{}` checks nothing about its native stdout",
            self.name
        );
        let out_dir = scratch().join("out");
        std::fs::create_dir_all(&out_dir).unwrap();

        let (native_cmd, native_env) = self.command(Mode::Native).unwrap();
        let native_shown = show_command(&native_cmd, &native_env);
        let native = run_limited(native_cmd, self.limit)
            .unwrap_or_else(|e| panic!("case `{}`: native run `{native_shown}`: {e}", self.name));
        let native_files = save(&out_dir, &self.name, Mode::Native, &native);
        let mut sanity = Vec::new();
        let status_ok = match self.expect {
            Expect::Exit(c) => native.status.code() == Some(c),
            Expect::Signal(s) => native.status.signal() == Some(s),
        };
        if !status_ok {
            sanity.push(format!(
                "status is {}, expected {:?}",
                describe_status(native.status),
                self.expect
            ));
        }
        let text = String::from_utf8_lossy(&native.stdout);
        for want in &self.stdout_has {
            if !text.contains(want.as_str()) {
                sanity.push(format!("stdout lacks {want:?}"));
            }
        }
        if let Some(want) = &self.stdout_is {
            if &native.stdout != want {
                sanity.push(format!("stdout is not {:?}", String::from_utf8_lossy(want)));
            }
        }
        if !sanity.is_empty() {
            panic!(
                "case `{}`: the NATIVE run is not what the case expects ({}); the test setup or the host is \
                 wrong, not preld.\ncommand: {native_shown}\nstdout:\n{}\nstderr:\n{}",
                self.name,
                sanity.join("; "),
                indent(&text),
                indent(&String::from_utf8_lossy(&native.stderr))
            );
        }

        let mut report = String::new();
        let mut summary = Vec::new();
        for mode in self.modes() {
            let (cmd, env) = match self.command(mode) {
                Ok(c) => c,
                Err(e) => {
                    summary.push(format!("{}: FAILED (cannot prepare: {})", mode.name(), first_line(&e)));
                    let _ = writeln!(
                        report,
                        "\n=== mode {}: cannot prepare the command\n{}",
                        mode.name(),
                        indent(&e)
                    );
                    continue;
                }
            };
            let shown = show_command(&cmd, &env);
            let got = match run_limited(cmd, self.limit) {
                Ok(o) => o,
                Err(e) => {
                    summary.push(format!("{}: FAILED ({e})", mode.name()));
                    let _ = writeln!(report, "\n=== mode {}: {e}\ncommand: {shown}", mode.name());
                    continue;
                }
            };
            let files = save(&out_dir, &self.name, mode, &got);
            let mut diffs = Vec::new();
            if !same_status(native.status, got.status) {
                diffs.push("status");
            }
            if native.stdout != got.stdout {
                diffs.push("stdout");
            }
            if self.compare_stderr && native.stderr != got.stderr {
                diffs.push("stderr");
            }
            if diffs.is_empty() {
                summary.push(format!("{}: ok ({:.2}s)", mode.name(), got.elapsed.as_secs_f64()));
                continue;
            }
            summary.push(format!("{}: FAILED ({} differ)", mode.name(), diffs.join(", ")));
            let _ = writeln!(report, "\n=== mode {}: {} differ", mode.name(), diffs.join(", "));
            let _ = writeln!(report, "command:        {shown}");
            let _ = writeln!(report, "native command: {native_shown}");
            let _ = writeln!(
                report,
                "status: native {}, {} {}",
                describe_status(native.status),
                mode.name(),
                describe_status(got.status)
            );
            for (what, a, b, fa, fb) in [
                ("stdout", &native.stdout, &got.stdout, &native_files.0, &files.0),
                ("stderr", &native.stderr, &got.stderr, &native_files.1, &files.1),
            ] {
                if a == b {
                    let _ = writeln!(report, "{what}: identical ({} bytes)", a.len());
                    continue;
                }
                let _ = writeln!(
                    report,
                    "{what}: differs; full text: diff -u {} {}",
                    fa.display(),
                    fb.display()
                );
                if what == "stderr" && !self.compare_stderr {
                    let _ = writeln!(report, "  (stderr is not compared for this case; shown for context)");
                }
                report.push_str(&unified_diff(a, b, "native", mode.name()));
            }
        }
        let failed = summary.iter().any(|s| s.contains("FAILED"));
        let mut head = format!("case `{}` ({:.2}s native):", self.name, native.elapsed.as_secs_f64());
        if self.kind.is_static() {
            head.push_str(" [pt-interp: skipped, static program without PT_INTERP]");
        }
        eprintln!("{head} {}", summary.join(", "));
        if failed {
            panic!("{head}\n  {}\n{report}", summary.join("\n  "));
        }
    }
}

fn same_status(a: ExitStatus, b: ExitStatus) -> bool {
    a.code() == b.code() && a.signal() == b.signal() && a.core_dumped() == b.core_dumped()
}

fn save(dir: &Path, case: &str, mode: Mode, o: &Output) -> (PathBuf, PathBuf) {
    let so = dir.join(format!("{case}.{}.stdout", mode.name()));
    let se = dir.join(format!("{case}.{}.stderr", mode.name()));
    std::fs::write(&so, &o.stdout).unwrap();
    std::fs::write(&se, &o.stderr).unwrap();
    (so, se)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  | {l}\n")).collect()
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

/// A copy-pasteable view: `cd DIR && env -i K=V... PROG ARGS`.
fn show_command(cmd: &Command, env: &[(OsString, OsString)]) -> String {
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

/// A unified diff of two outputs by line (the first 60 lines of it), or a
/// note on the first differing byte when they are too large or binary.
pub fn unified_diff(a: &[u8], b: &[u8], name_a: &str, name_b: &str) -> String {
    const MAX_LINES: usize = 60;
    let la: Vec<&[u8]> = a.split_inclusive(|&c| c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split_inclusive(|&c| c == b'\n').collect();
    let binary = a.contains(&0) || b.contains(&0);
    if binary || la.len() * lb.len() > 4_000_000 {
        let first = a
            .iter()
            .zip(b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        return format!(
            "  ({} vs {} bytes, {} lines vs {}; first difference at byte {first})\n",
            a.len(),
            b.len(),
            la.len(),
            lb.len()
        );
    }
    // Longest common subsequence table, from the end.
    let (n, m) = (la.len(), lb.len());
    let mut t = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i * (m + 1) + j] = if la[i] == lb[j] {
                t[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
            };
        }
    }
    // The edit script: ' ' common, '-' only in a, '+' only in b.
    let mut ops: Vec<(char, &[u8])> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && la[i] == lb[j] {
            ops.push((' ', la[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || t[i * (m + 1) + j + 1] >= t[(i + 1) * (m + 1) + j]) {
            ops.push(('+', lb[j]));
            j += 1;
        } else {
            ops.push(('-', la[i]));
            i += 1;
        }
    }
    // Changed lines with 3 lines of context, at most MAX_LINES lines.
    let near = |k: usize| {
        ops[k.saturating_sub(3)..(k + 4).min(ops.len())]
            .iter()
            .any(|(c, _)| *c != ' ')
    };
    let mut out = format!("  --- {name_a}\n  +++ {name_b}\n");
    let (mut shown, mut skipped) = (0, false);
    for (k, (c, l)) in ops.iter().enumerate() {
        if !near(k) {
            skipped = true;
            continue;
        }
        if skipped {
            out.push_str("  @@ ...\n");
            skipped = false;
        }
        if shown == MAX_LINES {
            out.push_str("  ... (diff cut; see the files)\n");
            break;
        }
        let s = String::from_utf8_lossy(l);
        match s.strip_suffix('\n') {
            Some(s) => out.push_str(&format!("  {c}{s}\n")),
            None => out.push_str(&format!("  {c}{s}\n  \\ no newline at end\n")),
        }
        shown += 1;
    }
    if ops.is_empty() {
        out.push_str("  (both empty)\n");
    }
    out
}

/// Writes a file whose bytes are a fixed pseudo-random sequence.
pub fn write_pseudo_random(path: &Path, len: usize) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut buf = Vec::with_capacity(len);
    while buf.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf.extend_from_slice(&x.to_le_bytes());
    }
    buf.truncate(len);
    std::fs::write(path, buf).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Bytes of a path (for building shell scripts).
pub fn path_str(p: &Path) -> String {
    String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned()
}
