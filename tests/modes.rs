//! The comparison of the integration matrix and the handler's hard cases:
//! run one program natively and under each way preld can start it
//! (launcher, `preld run`, PT_INTERP via `preld patch`, and `preld trace`
//! where a case asks), and compare stdout, the wait status (exit code or
//! terminating signal) and, where the case says it is deterministic, stderr.
//!
//! A case is built with [`Case::exec`] (one program) or [`Case::shell`] (a
//! bash script whose `{name}` placeholders become the mode's way of starting
//! that program, e.g. a pipeline of two programs both under preld; bash itself
//! runs natively). Where preld's output must differ from the native one, the
//! case says how ([`Case::rewrite`], [`Case::preld_stdout`]).
//! [`Case::check`] panics with every mode that differs, the commands, a
//! unified diff of the outputs and the paths of files holding both sides in
//! full (in test_dir()/out, see [`crate::scratch::test_dir`]).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::diff::{indent, unified_diff};
use crate::run::{describe_status, run_limited, shell_quote, show_command, Output};
use crate::scratch::test_dir;
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
    /// `preld trace -f -o FILE -- PROG ARGS`: the handler holds a trace fd
    /// (only where a case asks for it, with [`Case::modes`]).
    Trace,
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
            Mode::Trace => "preld-trace",
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

/// `preld patch PROG test_dir/patched/NAME.patched`, once per program; the
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
    let dir = test_dir().join("patched");
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

/// One program (or script of programs) run natively and in each mode.
pub struct Case {
    name: String,
    target: Target,
    kind: ElfKind,
    modes: Option<Vec<Mode>>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
    compare_stderr: bool,
    expect: Expect,
    stdout_has: Vec<String>,
    stdout_is: Option<Vec<u8>>,
    /// Replacements turning the native stdout into the one expected under preld.
    rewrite: Vec<(String, String)>,
    /// The stdout expected under preld when it cannot be the native one.
    preld_stdout: Option<Vec<u8>>,
    /// Text the trace file of [`Mode::Trace`] must contain.
    trace_has: Vec<String>,
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
            modes: None,
            env: Vec::new(),
            cwd: None,
            compare_stderr: false,
            expect: Expect::Exit(0),
            stdout_has: Vec::new(),
            stdout_is: None,
            rewrite: Vec::new(),
            preld_stdout: None,
            trace_has: Vec::new(),
            limit: Duration::from_secs(60),
        }
    }

    /// The ELF kind of the program(s); default [`ElfKind::Dynamic`]. A static
    /// kind skips PT_INTERP mode (static programs have no PT_INTERP to patch).
    pub fn kind(mut self, k: ElfKind) -> Case {
        self.kind = k;
        self
    }
    /// The modes compared with the native run, instead of the default
    /// (launcher, `preld run`, and PT_INTERP for a dynamic program).
    pub fn modes(mut self, m: &[Mode]) -> Case {
        assert!(!m.contains(&Mode::Native), "case `{}`: the native run is always made", self.name);
        assert!(
            !(self.kind.is_static() && m.contains(&Mode::PtInterp)),
            "case `{}`: a static program has no PT_INTERP to patch",
            self.name
        );
        self.modes = Some(m.to_vec());
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

    /// Under preld, stdout is the native one with every `from` made `to`.
    pub fn rewrite(mut self, from: &str, to: &str) -> Case {
        self.rewrite.push((from.to_string(), to.to_string()));
        self
    }

    /// Under preld, stdout is exactly `s` (the native run is only checked
    /// against `stdout_has` and its status).
    pub fn preld_stdout(mut self, s: &str) -> Case {
        self.preld_stdout = Some(s.as_bytes().to_vec());
        self
    }

    /// Text the trace of [`Mode::Trace`] must contain.
    pub fn trace_has(mut self, s: &str) -> Case {
        self.trace_has.push(s.to_string());
        self
    }

    fn modes_to_run(&self) -> Vec<Mode> {
        if let Some(m) = &self.modes {
            return m.clone();
        }
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

    /// Where [`Mode::Trace`] writes the trace.
    fn trace_file(&self) -> PathBuf {
        out_dir().join(format!("{}.trace", self.name))
    }

    /// The command for `mode`, or why it cannot be made.
    fn command(&self, mode: Mode) -> Result<(Command, Vec<(OsString, OsString)>), String> {
        let start = |prog: &Path| -> Result<Vec<OsString>, String> {
            Ok(match mode {
                Mode::Native => vec![prog.into()],
                Mode::Launcher => vec![ld_preld().into(), prog.into()],
                Mode::Run => vec![preld().into(), "run".into(), "--".into(), prog.into()],
                Mode::PtInterp => vec![patched(prog)?.into()],
                Mode::Trace => vec![
                    preld().into(),
                    "trace".into(),
                    "-f".into(),
                    "-o".into(),
                    self.trace_file().into(),
                    "--".into(),
                    prog.into(),
                ],
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
        let out_dir = out_dir();

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
        // The stdout every mode must write: the native one, unless the case
        // says what it is under preld.
        let (want_stdout, want_name): (Vec<u8>, &str) = match &self.preld_stdout {
            Some(s) => (s.clone(), "expected"),
            None if self.rewrite.is_empty() => (native.stdout.clone(), "native"),
            None => {
                let mut t = text.clone().into_owned();
                for (from, to) in &self.rewrite {
                    t = t.replace(from.as_str(), to);
                }
                (t.into_bytes(), "expected")
            }
        };

        let mut report = String::new();
        let mut summary = Vec::new();
        for mode in self.modes_to_run() {
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
            let trace_file = self.trace_file();
            let _ = std::fs::remove_file(&trace_file);
            let got = match run_limited(cmd, self.limit) {
                Ok(o) => o,
                Err(e) => {
                    summary.push(format!("{}: FAILED ({})", mode.name(), first_line(&e)));
                    let _ = writeln!(report, "\n=== mode {}: {e}\ncommand: {shown}", mode.name());
                    continue;
                }
            };
            let files = save(&out_dir, &self.name, mode, &got);
            let mut diffs = Vec::new();
            if !same_status(native.status, got.status) {
                diffs.push("status".to_string());
            }
            if want_stdout != got.stdout {
                diffs.push("stdout".to_string());
            }
            if self.compare_stderr && native.stderr != got.stderr {
                diffs.push("stderr".to_string());
            }
            if mode == Mode::Trace {
                let trace = std::fs::read_to_string(&trace_file).unwrap_or_default();
                for w in &self.trace_has {
                    if !trace.contains(w.as_str()) {
                        diffs.push(format!("trace lacks {w:?} ({})", trace_file.display()));
                    }
                }
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
            for (what, a, b, fa, fb, name_a) in [
                ("stdout", &want_stdout, &got.stdout, &native_files.0, &files.0, want_name),
                ("stderr", &native.stderr, &got.stderr, &native_files.1, &files.1, "native"),
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
                if what == "stdout" && name_a != "native" {
                    let _ = writeln!(report, "  (the {name_a} stdout is the native one as the case rewrites it)");
                }
                report.push_str(&unified_diff(a, b, name_a, mode.name()));
            }
        }
        let failed = summary.iter().any(|s| s.contains("FAILED"));
        let mut head = format!("case `{}` ({:.2}s native):", self.name, native.elapsed.as_secs_f64());
        if self.kind.is_static() && self.modes.is_none() {
            head.push_str(" [pt-interp: skipped, static program without PT_INTERP]");
        }
        eprintln!("{head} {}", summary.join(", "));
        if failed {
            panic!("{head}\n  {}\n{report}", summary.join("\n  "));
        }
    }
}

/// Where the outputs of every run are kept: test_dir()/out.
fn out_dir() -> PathBuf {
    let d = test_dir().join("out");
    std::fs::create_dir_all(&d).unwrap();
    d
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
