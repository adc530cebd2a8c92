//! `cargo xtask bench`: preld measured side by side with native runs, strace, proot and bubblewrap.
//!
//! One table: rows are workloads, columns are the ways of running them.
//! Every repetition runs every (row, column) cell once, in a column order
//! rotated per repetition, so that the noise of a shared machine (load
//! drifting over minutes) spreads over all columns instead of landing on
//! whichever ran last. A cell is the median of its runs and its ratio to the
//! native median of the same row.
//!
//! Two kinds of rows:
//! - per-call loops (C programs of tests/programs/bench, compiled here with
//!   `cc`) time their own loop and print ns per call (the fastest of many
//!   small batches), so the start-up of the tool that runs them does not
//!   count;
//! - whole workloads: wall time from spawn to exit, and the CPU time (user +
//!   sys) of the whole process tree, tracers included (RUSAGE_CHILDREN). On
//!   a loaded machine wall time largely measures the wait for a CPU; CPU
//!   time is the steadier of the two.
//!
//! The `preld pola -B` column runs each workload in a capability session
//! with the base grants (/usr holds what every workload reads; /etc/passwd,
//! /etc/group and /etc/nsswitch.conf, tar's owner names, are named again
//! for older builds) and the bench's scratch directory read-write (gcc's
//! output). The `openat+close` row is an open beneath a directory grant,
//! resolved in the process (tests/programs/pola/open_loop.c); the
//! `/etc/passwd x10000` rows open a file granted as a file (reopened in
//! the process through the session's procfs), from 1 and from 200 threads
//! (tests/programs/pola/open_threads.c). The session's CPU column counts
//! the launcher and server only: the session's processes are reaped by
//! its init, which the launcher does not wait for. The `uid 65534` column
//! is the same session started by an ordinary user (setpriv): the files
//! of /usr are others' there, whose owners the server tells. (The bench
//! runs as root; its ratios are to root's native runs, which read the
//! same files: tar and find as nobody natively take what they take as
//! root.)
//!
//! The tracer round trip (`preld trace --tracer`, docs/tracer-protocol.md)
//! has a table of its own: getppid's per-call cost when an external tracer
//! answers each call `cont` (a C tracer, tests/programs/bench/tracer_cont.c,
//! and the Python client's, tracer_cont.py), against ptrace tracers making
//! the same decision at the same call (strace injecting getppid's result,
//! and tests/programs/bench/ptrace_cont.c, a minimal PTRACE_SYSCALL loop),
//! and the cost of a call no tracer subscribed to against `preld run`'s.
//!
//! Then preld's start-up cost (`ld-preld /bin/true` against `/bin/true`) and
//! the floor under its trap path (tests/programs/bench/sud_floor.c: the bare
//! Syscall User Dispatch round trip, no preld).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo xtask bench [--runs K] [--quick]
  --runs K   runs per cell (median of K; default 5). Per-call loops whose
             first run is slow get fewer runs (the count is shown).
  --quick    smoke run: one run per cell, smaller loops
  --tracer   only the tracer round-trip table";

/// A slow per-call cell gets only as many runs as fit in this much wall time
/// (but at least MIN_RUNS, for a median): strace and ptrace-only proot take
/// tens of seconds for 200000 traced calls, and each run already reports its
/// fastest of 2000 batches.
const PER_CALL_BUDGET: Duration = Duration::from_secs(30);
const MIN_RUNS: usize = 3;

struct Opts {
    runs: usize,
    quick: bool,
    tracer_only: bool,
}

fn parse(args: &[String]) -> Opts {
    let mut o = Opts { runs: 5, quick: false, tracer_only: false };
    let mut runs_given = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--tracer" => o.tracer_only = true,
            "--runs" => match it.next().and_then(|v| v.parse::<usize>().ok()).filter(|&k| k > 0) {
                Some(k) => {
                    o.runs = k;
                    runs_given = true;
                }
                None => usage_error("--runs needs a positive integer"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                exit(0);
            }
            other => usage_error(&format!("unknown argument `{other}`")),
        }
    }
    // --quick means one run unless the user asked for more.
    if o.quick && !runs_given {
        o.runs = 1;
    }
    o
}

fn usage_error(why: &str) -> ! {
    eprintln!("bench: {why}\n{USAGE}");
    exit(2)
}

fn fail(why: impl std::fmt::Display) -> ! {
    eprintln!("bench: {why}");
    exit(1)
}

/// A way of running a program: a command prefix and environment.
struct Config {
    name: &'static str,
    prefix: Vec<OsString>,
    env: Vec<(&'static str, &'static str)>,
}

enum Kind {
    /// A loop program that prints its own ns per call; it gets N as argv[1].
    PerCall { exe: PathBuf, n: u64 },
    /// A whole program, stdout to /dev/null.
    Workload { argv: Vec<OsString> },
}

struct Row {
    name: String,
    kind: Kind,
}

#[derive(Default)]
struct Cell {
    /// Per-call rows: ns/call; workloads: wall ms.
    samples: Vec<f64>,
    /// Workloads: CPU ms of the process tree.
    cpu: Vec<f64>,
    /// How many runs this cell gets (fewer than K for slow per-call cells).
    cap: usize,
    failed: Option<String>,
}

/// Where programs found in PATH come from, so that a missing one is named by
/// the Debian package that provides it.
const TOOLS: [(&str, &str); 8] = [
    ("strace", "strace"),
    ("setpriv", "util-linux"),
    ("proot", "proot"),
    ("bwrap", "bubblewrap"),
    ("cc", "gcc"),
    ("gcc", "gcc"),
    ("tar", "tar"),
    ("find", "findutils"),
];

/// The Debian python3, not whatever `python3` is first in PATH: a pyenv shim
/// there is a bash script, and the row would measure bash and pyenv.
const PYTHON: &str = "/usr/bin/python3";

fn in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    })
}

/// Fails, naming the Debian packages, if a program the bench runs is missing.
fn check_tools() {
    let mut missing = Vec::new();
    for (tool, pkg) in TOOLS {
        if in_path(tool).is_none() {
            missing.push(format!("`{tool}` (Debian package {pkg})"));
        }
    }
    if !Path::new(PYTHON).is_file() {
        missing.push(format!("`{PYTHON}` (Debian package python3)"));
    }
    if !missing.is_empty() {
        fail(format!(
            "missing {}; as root: apt-get install -y strace proot bubblewrap gcc tar findutils python3",
            missing.join(", ")
        ));
    }
}

/// The `preld trace` column needs the subcommand.
fn check_trace(preld: &Path) {
    // An older preld without it would fail every cell of the column with a
    // usage error; one clear message is better.
    let ok = Command::new(preld)
        .args(["trace", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        fail(format!("{} has no working `trace` subcommand (`preld trace --help` fails)", preld.display()));
    }
}

/// Compiles tests/programs/bench/NAME.c into target/bench/NAME.
fn compile(name: &str) -> PathBuf {
    compile_from("bench", name)
}

/// Compiles tests/programs/DIR/NAME.c into target/bench/NAME.
fn compile_from(dir: &str, name: &str) -> PathBuf {
    let src = crate::root().join("tests/programs").join(dir).join(format!("{name}.c"));
    let out_dir = crate::root().join("target/bench");
    std::fs::create_dir_all(&out_dir).unwrap_or_else(|e| fail(format!("mkdir {}: {e}", out_dir.display())));
    let exe = out_dir.join(name);
    let out = Command::new("cc")
        .args(["-O2", "-Wall", "-pthread", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| fail(format!("cannot run cc: {e}")));
    if !out.status.success() {
        fail(format!("cc {} failed ({}):\n{}", src.display(), out.status, String::from_utf8_lossy(&out.stderr)));
    }
    exe
}

fn os(v: &[&str]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

/// `scratch`: the bench's directory, read-write in the session column.
fn configs(preld: &Path, scratch: &Path) -> Vec<Config> {
    let p = preld.as_os_str().to_owned();
    let session = {
        let mut v: Vec<OsString> = vec![p.clone(), "pola".into(), "-B".into(), "--rw".into(), scratch.into()];
        // tar names each file's owner: without these every lookup
        // fails, is not cached, and tar redoes it per file.
        for f in ["/etc/passwd", "/etc/group", "/etc/nsswitch.conf"] {
            if Path::new(f).exists() {
                v.extend(["--ro".into(), f.into()]);
            }
        }
        v.push("--".into());
        v
    };
    vec![
        Config { name: "native", prefix: vec![], env: vec![] },
        Config { name: "preld run", prefix: vec![p.clone(), "run".into(), "--".into()], env: vec![] },
        // The trap path alone: every call a SIGSYS (no site rewritten).
        Config { name: "preld run, no fast path", prefix: vec![p.clone(), "run".into(), "--".into()], env: vec![("PRELD_FAST", "0")] },
        Config { name: "preld pola -B", prefix: session.clone(), env: vec![] },
        // An ordinary user's session (most users' own): its user namespace
        // maps only the user's ids, so /usr's owners are the server's to
        // tell (the owners table and its walker).
        Config {
            name: "preld pola -B, uid 65534",
            prefix: {
                let mut v = os(&["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
                v.extend(session);
                v
            },
            env: vec![],
        },
        // -f, like strace's: gcc's cc1, as and ld are traced in both columns
        // (without it preld keeps children under the handler, untraced).
        Config {
            name: "preld trace -f",
            prefix: vec![p, "trace".into(), "-f".into(), "-o".into(), "/dev/null".into(), "--".into()],
            env: vec![],
        },
        Config { name: "strace -f", prefix: os(&["strace", "-f", "-o", "/dev/null"]), env: vec![] },
        // proot filters with seccomp by default and ptrace-stops only the
        // calls it needs; PROOT_NO_SECCOMP=1 stops at every call, as strace
        // does. Both work here; which one a user gets depends on the kernel.
        Config { name: "proot", prefix: os(&["proot", "-r", "/"]), env: vec![] },
        Config { name: "proot noseccomp", prefix: os(&["proot", "-r", "/"]), env: vec![("PROOT_NO_SECCOMP", "1")] },
        Config { name: "bwrap", prefix: os(&["bwrap", "--dev-bind", "/", "/", "--"]), env: vec![] },
    ]
}

/// `struct rusage` of x86_64 glibc: two timevals, then 14 longs.
#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    rest: [i64; 14],
}

unsafe extern "C" {
    // From the libc std already links: xtask has no dependencies to add.
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

/// User + sys time of every child waited for so far, with their waited-for
/// descendants. The kernel derives the sum from its precise runtime
/// accounting (only the user/sys split is sampled by ticks), so deltas of a
/// millisecond mean something.
fn children_cpu() -> Duration {
    const RUSAGE_CHILDREN: i32 = -1;
    let mut ru = Rusage { utime: [0; 2], stime: [0; 2], rest: [0; 14] };
    // SAFETY: getrusage writes one struct rusage, which Rusage lays out.
    if unsafe { getrusage(RUSAGE_CHILDREN, &mut ru) } != 0 {
        fail(format!("getrusage: {}", std::io::Error::last_os_error()));
    }
    let us = (ru.utime[0] + ru.stime[0]) * 1_000_000 + ru.utime[1] + ru.stime[1];
    Duration::from_micros(us as u64)
}

struct RunOut {
    stdout: String,
    wall: Duration,
    cpu: Duration,
}

/// Runs `argv` under `cfg` once, alone (its CPU time is a delta over all
/// children of this process). Returns its output and times, or why it failed.
fn run_once(cfg: &Config, argv: &[OsString], capture: bool, stderr_file: &Path) -> Result<RunOut, String> {
    let full: Vec<&OsString> = cfg.prefix.iter().chain(argv).collect();
    let mut c = Command::new(full[0]);
    c.args(&full[1..]).envs(cfg.env.iter().copied()).stdin(Stdio::null());
    // stderr to a file, not a pipe: nothing to drain while timing, and the
    // text is there when a run fails.
    let err = std::fs::File::create(stderr_file).map_err(|e| format!("create {}: {e}", stderr_file.display()))?;
    c.stderr(err);
    c.stdout(if capture { Stdio::piped() } else { Stdio::null() });
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let out = c.spawn().and_then(|ch| ch.wait_with_output()).map_err(|e| format!("cannot run {c:?}: {e}"))?;
    let wall = t0.elapsed();
    let cpu = children_cpu().saturating_sub(cpu0);
    if !out.status.success() {
        let text = std::fs::read_to_string(stderr_file).unwrap_or_default();
        let mut tail: Vec<&str> = text.lines().rev().take(5).collect();
        tail.reverse();
        return Err(format!("{c:?}: {}\n      {}", out.status, tail.join("\n      ")));
    }
    Ok(RunOut { stdout: String::from_utf8_lossy(&out.stdout).into_owned(), wall, cpu })
}

/// Runs a per-call loop and reads the ns per call it prints.
fn run_loop(cfg: &Config, exe: &Path, n: u64, stderr_file: &Path) -> Result<(f64, Duration), String> {
    let r = run_once(cfg, &[exe.into(), n.to_string().into()], true, stderr_file)?;
    let v = r.stdout.trim().parse::<f64>().map_err(|e| format!("{}: bad output {:?}: {e}", exe.display(), r.stdout))?;
    Ok((v, r.wall))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

pub fn bench(args: &[String]) {
    let o = parse(args);
    // Before the build, which takes minutes: a missing tool fails at once.
    check_tools();
    crate::build();
    let root = crate::root();
    let preld = root.join("target/preld/preld");
    let ld_preld = root.join("target/preld/ld-preld");
    check_trace(&preld);

    let getppid = compile("getppid_loop");
    let stderr_file = root.join("target/bench/stderr.txt");
    if o.tracer_only {
        let (text, failures) = tracer_round_trip(&o, &preld, &getppid, &stderr_file);
        print!("{text}");
        if !failures.is_empty() {
            println!("\nFAILED cells:\n{}", failures.join("\n"));
            exit(1);
        }
        return;
    }
    let clock = compile("clock_loop");
    let floor = compile("sud_floor");
    let open_loop = compile_from("pola", "open_loop");
    let open_threads = compile_from("pola", "open_threads");

    // gcc's input and output in a directory of their own, removed at the end.
    let tmp = std::env::temp_dir().join(format!("preld-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap_or_else(|e| fail(format!("mkdir {}: {e}", tmp.display())));
    // (Written by gcc in the sessions of uid 65534 too: not sticky, so
    // that its ld may replace the output root's runs made.)
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o777));
    }
    let hello_c = tmp.join("hello.c");
    std::fs::write(&hello_c, "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n")
        .unwrap_or_else(|e| fail(format!("write {}: {e}", hello_c.display())));

    let (n_getppid, n_clock, n_open): (u64, u64, u64) =
        if o.quick { (20_000, 200_000, 2_000) } else { (200_000, 2_000_000, 40_000) };
    let rows = vec![
        Row {
            name: format!("getppid, ns/call (N={n_getppid})"),
            kind: Kind::PerCall { exe: getppid.clone(), n: n_getppid },
        },
        Row { name: format!("clock_gettime, ns/call (N={n_clock})"), kind: Kind::PerCall { exe: clock, n: n_clock } },
        Row {
            name: format!("openat+close /usr/include/stdio.h, ns/pair (N={n_open})"),
            kind: Kind::PerCall { exe: open_loop, n: n_open },
        },
        Row {
            name: "tar cf /dev/null /usr/include".into(),
            kind: Kind::Workload { argv: os(&["tar", "cf", "/dev/null", "/usr/include"]) },
        },
        Row {
            name: "find /usr/lib -name '*.so*'".into(),
            kind: Kind::Workload { argv: os(&["find", "/usr/lib", "-name", "*.so*"]) },
        },
        Row {
            name: "python3 -c 'import json,email,http.client,unittest'".into(),
            kind: Kind::Workload { argv: os(&[PYTHON, "-c", "import json, email, http.client, unittest"]) },
        },
        // Opens of a file granted as a file (the server's, in a session),
        // 10000 from one thread and from 200.
        Row {
            name: "open+read+close /etc/passwd x10000, 1 thread".into(),
            kind: Kind::Workload { argv: vec![open_threads.clone().into(), "1".into(), "10000".into()] },
        },
        Row {
            name: "open+read+close /etc/passwd x10000, 200 threads".into(),
            kind: Kind::Workload { argv: vec![open_threads.clone().into(), "200".into(), "10000".into()] },
        },
        Row {
            name: "gcc -o hello hello.c".into(),
            kind: Kind::Workload {
                argv: vec!["gcc".into(), "-o".into(), tmp.join("hello").into(), hello_c.clone().into()],
            },
        },
    ];
    let cfgs = configs(&preld, &tmp);

    let load_before = loadavg();
    // Each configuration must work at all before anything is timed; this run
    // also brings the tools' files into the page cache.
    for cfg in &cfgs {
        if let Err(e) = run_once(cfg, &os(&["/bin/true"]), false, &stderr_file) {
            fail(format!("`{}` cannot run /bin/true: {e}", cfg.name));
        }
    }
    // Warm the page cache for the workloads' files natively: the first
    // column to meet a cold /usr/lib would otherwise pay for the disk.
    for row in &rows {
        if let Kind::Workload { argv } = &row.kind {
            if let Err(e) = run_once(&cfgs[0], argv, false, &stderr_file) {
                fail(format!("native warm-up failed: {e}"));
            }
        }
    }

    let mut cells: Vec<Vec<Cell>> =
        rows.iter().map(|_| cfgs.iter().map(|_| Cell { cap: o.runs, ..Cell::default() }).collect()).collect();
    let started = Instant::now();
    for rep in 0..o.runs {
        for (ri, row) in rows.iter().enumerate() {
            for k in 0..cfgs.len() {
                let ci = (k + rep) % cfgs.len();
                let cell = &mut cells[ri][ci];
                if cell.failed.is_some() || cell.samples.len() >= cell.cap {
                    continue;
                }
                let r = match &row.kind {
                    Kind::PerCall { exe, n } => run_loop(&cfgs[ci], exe, *n, &stderr_file).map(|(v, wall)| {
                        if cell.samples.is_empty() {
                            let fit = (PER_CALL_BUDGET.as_secs_f64() / wall.as_secs_f64()) as usize;
                            cell.cap = fit.clamp(MIN_RUNS.min(o.runs), o.runs);
                        }
                        (v, None)
                    }),
                    Kind::Workload { argv } => run_once(&cfgs[ci], argv, false, &stderr_file)
                        .map(|r| (r.wall.as_secs_f64() * 1e3, Some(r.cpu.as_secs_f64() * 1e3))),
                };
                match r {
                    Ok((v, cpu)) => {
                        cell.samples.push(v);
                        cell.cpu.extend(cpu);
                    }
                    Err(e) => cell.failed = Some(e),
                }
            }
        }
        eprintln!("bench: repetition {}/{} done ({:.0?} so far)", rep + 1, o.runs, started.elapsed());
    }

    // How each workload's calls went under preld run: made from the gate
    // (fast) or trapped, summed over its processes (PRELD_STATS=1).
    let mut paths = String::new();
    for row in &rows {
        let argv = match &row.kind {
            Kind::Workload { argv } => argv.clone(),
            Kind::PerCall { exe, n } => vec![exe.clone().into(), n.to_string().into()],
        };
        let mut cfg = Config { name: "preld run, PRELD_STATS=1", prefix: cfgs[1].prefix.clone(), env: vec![("PRELD_STATS", "1")] };
        cfg.env.extend(cfgs[1].env.iter().copied());
        if let Err(e) = run_once(&cfg, &argv, false, &stderr_file) {
            fail(format!("{} under preld run with PRELD_STATS=1: {e}", row.name));
        }
        let err = std::fs::read_to_string(&stderr_file).unwrap_or_default();
        let (mut fast, mut trapped, mut handler, mut procs) = (0u64, 0u64, 0u64, 0);
        let num = |l: &str, key: &str| -> u64 {
            l.split(key).nth(1).and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()).and_then(|n| n.parse().ok()).unwrap_or(0)
        };
        for l in err.lines().filter(|l| l.starts_with("preld: pid ")) {
            procs += 1;
            fast += num(l, "calls fast ");
            trapped += num(l, "trapped ");
            handler += num(l, "the handler's ");
        }
        let total = (fast + trapped).max(1);
        let _ = writeln!(
            paths,
            "  {}: {procs} processes, {} calls: fast {fast} ({:.1}%), trapped {trapped} ({:.1}%; of them the handler's own work {handler})",
            row.name,
            fast + trapped,
            100.0 * fast as f64 / total as f64,
            100.0 * trapped as f64 / total as f64,
        );
    }

    // Start-up: whole-process time of the loader alone on /bin/true.
    let startup_runs = if o.quick { 20 } else { 200 };
    let native_cfg = &cfgs[0];
    let ld_cfg = Config { name: "ld-preld", prefix: vec![ld_preld.into_os_string()], env: vec![] };
    // [native, ld-preld] x [wall, cpu], microseconds.
    let mut startup: [[Vec<f64>; 2]; 2] = Default::default();
    for i in 0..startup_runs {
        // Alternate which goes first, so neither always follows the other.
        let order = if i % 2 == 0 { [(native_cfg, 0), (&ld_cfg, 1)] } else { [(&ld_cfg, 1), (native_cfg, 0)] };
        for (cfg, which) in order {
            let r = run_once(cfg, &os(&["/bin/true"]), false, &stderr_file)
                .unwrap_or_else(|e| fail(format!("start-up run failed: {e}")));
            startup[which][0].push(r.wall.as_secs_f64() * 1e6);
            startup[which][1].push(r.cpu.as_secs_f64() * 1e6);
        }
    }

    // The floor: the same getppid calls trapped by SUD into a SIGSYS handler
    // that does nothing else. Its runs pair up with runs of preld's own
    // getppid loop, and preld's own work is the median of the differences
    // within pairs: two runs seconds apart share most of the machine's load.
    let mut floor_samples: [Vec<f64>; 3] = Default::default();
    let mut preld_samples = Vec::new();
    let pairs = if o.quick { o.runs } else { 4 * o.runs };
    for _ in 0..pairs {
        let out = run_once(native_cfg, &[floor.clone().into(), n_getppid.to_string().into()], true, &stderr_file)
            .unwrap_or_else(|e| fail(format!("sud_floor failed: {e}")))
            .stdout;
        for (i, key) in ["native", "trap", "trap_call"].iter().enumerate() {
            let v = out
                .lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or_else(|| fail(format!("sud_floor printed no `{key}` line: {out:?}")));
            floor_samples[i].push(v);
        }
        // The trap path (the fast path makes no trap to compare with).
        let (v, _) = run_loop(&cfgs[2], &getppid, n_getppid, &stderr_file)
            .unwrap_or_else(|e| fail(format!("getppid loop under preld run with PRELD_FAST=0 failed: {e}")));
        preld_samples.push(v);
    }
    let load_after = loadavg();
    let _ = std::fs::remove_dir_all(&tmp);

    let (tracer_table, tracer_failures) = tracer_round_trip(&o, &preld, &getppid, &stderr_file);

    print!("{}", table(&rows, &cfgs, &cells, &o));
    print!("{tracer_table}");
    let [[nw, nc], [lw, lc]] = startup.each_ref().map(|m| m.each_ref().map(|v| median(v)));
    println!(
        "\nstart-up, median of {startup_runs} interleaved runs each: /bin/true {nw:.0} us wall, {nc:.0} us cpu; \
         ld-preld /bin/true {lw:.0} us wall, {lc:.0} us cpu: x{:.2} wall, x{:.2} cpu",
        lw / nw,
        lc / nc
    );
    let [fnat, ftrap, fcall] = floor_samples.each_ref().map(|v| median(v));
    let p = median(&preld_samples);
    let own: Vec<f64> = preld_samples.iter().zip(&floor_samples[2]).map(|(p, f)| p - f).collect();
    let own = median(&own);
    println!(
        "floor (sud_floor.c, no preld, median of {} runs, N={n_getppid}): getppid native {fnat:.0} ns; \
         SUD trap + empty SIGSYS handler {ftrap:.0} ns; trap + the real call from the handler {fcall:.0} ns",
        floor_samples[0].len()
    );
    println!(
        "preld run getppid on the trap path (PRELD_FAST=0), paired with those runs: {p:.0} ns; preld's own work \
         over the floor (median of the {pairs} paired differences): {own:.0} ns, {:.0}% of the call",
        own / p * 100.0
    );
    println!(
        "load average before/after: {load_before} / {load_after} ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("\nCalls by path under preld run (PRELD_STATS=1, one run each):\n{paths}");

    let mut failures: Vec<String> = rows
        .iter()
        .zip(&cells)
        .flat_map(|(row, cs)| {
            cfgs.iter()
                .zip(cs)
                .filter_map(move |(cfg, c)| c.failed.as_ref().map(|e| format!("  {} / {}: {e}", row.name, cfg.name)))
        })
        .collect();
    failures.extend(tracer_failures);
    if !failures.is_empty() {
        println!("\nFAILED cells:\n{}", failures.join("\n"));
        exit(1);
    }
}

/// The tracer round trip: getppid_loop under each way of deciding on each
/// call, interleaved over the repetitions (the order rotated per
/// repetition, as the main table's columns); returns the table's text.
fn tracer_round_trip(o: &Opts, preld: &Path, getppid: &Path, stderr_file: &Path) -> (String, Vec<String>) {
    let tracer_c = compile("tracer_cont");
    let ptrace_c = compile("ptrace_cont");
    let tracer_py = crate::root().join("tests/programs/bench/tracer_cont.py");
    let p = preld.as_os_str().to_owned();
    let trace = |filter: &str| -> Vec<OsString> {
        vec![p.clone(), "trace".into(), "--tracer".into(), tracer_c.clone().into(), "-e".into(), filter.into(), "--".into()]
    };
    let n: u64 = if o.quick { 4_000 } else { 20_000 };
    // (name, config); the indices below name the ones ratios refer to.
    let cfgs = [
        Config { name: "native", prefix: vec![], env: vec![] },
        Config { name: "preld run", prefix: vec![p.clone(), "run".into(), "--".into()], env: vec![] },
        Config { name: "--tracer C, getppid not subscribed (-e trace=getpid)", prefix: trace("trace=getpid"), env: vec![] },
        Config { name: "--tracer C answering cont", prefix: trace("trace=getppid"), env: vec![] },
        Config {
            name: "Python client (python/preld) answering cont",
            prefix: vec![PYTHON.into(), tracer_py.into(), p.clone()],
            env: vec![("PYTHONPATH", python_path())],
        },
        Config { name: "ptrace_cont.c (PTRACE_SYSCALL)", prefix: vec![ptrace_c.into()], env: vec![] },
        Config { name: "strace -f -e inject=getppid:retval=1", prefix: os(&["strace", "-f", "-o", "/dev/null", "-e", "inject=getppid:retval=1"]), env: vec![] },
    ];
    let (run, ptrace, strace) = (1, 5, 6);
    let mut samples: Vec<Vec<f64>> = cfgs.iter().map(|_| Vec::new()).collect();
    let mut failed: Vec<Option<String>> = cfgs.iter().map(|_| None).collect();
    for rep in 0..o.runs {
        for k in 0..cfgs.len() {
            let ci = (k + rep) % cfgs.len();
            if failed[ci].is_some() {
                continue;
            }
            match run_loop(&cfgs[ci], getppid, n, stderr_file) {
                Ok((v, _)) => samples[ci].push(v),
                Err(e) => failed[ci] = Some(e),
            }
        }
    }
    let med: Vec<f64> = samples.iter().map(|v| median(v)).collect();
    let mut errors = Vec::new();
    let mut grid = vec![["".to_string(), "ns/call".into(), "x native".into(), "x preld run".into(),
        "ptrace_cont / this".into(), "strace / this".into()]];
    for (i, c) in cfgs.iter().enumerate() {
        let Some(why) = &failed[i] else {
            let m = med[i];
            let r = |j: usize| format!("{:.2}", med[j] / m);
            let tracer = i >= 3;
            grid.push([
                c.name.to_string(),
                if m >= 100.0 { format!("{m:.0}") } else { format!("{m:.1}") },
                format!("{:.2}", m / med[0]),
                format!("{:.2}", m / med[run]),
                if tracer { r(ptrace) } else { String::new() },
                if tracer { r(strace) } else { String::new() },
            ]);
            continue;
        };
        grid.push([c.name.to_string(), "FAILED".into(), String::new(), String::new(), String::new(), String::new()]);
        errors.push(format!("  tracer round trip / {}: {why}", c.name));
    }
    let widths: Vec<usize> = (0..6).map(|i| grid.iter().map(|l| l[i].len()).max().unwrap_or(0)).collect();
    let mut out = format!("\nTracer round trip: getppid, ns/call (N={n}), median of {} runs each\n", o.runs);
    for l in &grid {
        for (i, (c, w)) in l.iter().zip(&widths).enumerate() {
            if i == 0 {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "  {c:>w$}");
            }
        }
        out.push('\n');
    }
    out.push_str("(a run reports its fastest batch, as in the main table; `ptrace_cont / this`: how many times faster \
                  than the minimal ptrace tracer making the same decision)\n");
    (out, errors)
}

/// PYTHONPATH for the Python client: the repository's python/ (static, as
/// Config's environment is).
fn python_path() -> &'static str {
    let s = crate::root().join("python").to_string_lossy().into_owned();
    Box::leak(s.into_boxed_str())
}

/// One line of the table: a label, then per column the median of `pick`'s
/// samples and its ratio to the first (native) column.
fn table_line(label: String, cs: &[Cell], pick: fn(&Cell) -> &Vec<f64>, o: &Opts, short: &mut bool) -> Vec<String> {
    let fmt_v = |v: f64| if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.1}") };
    let native = median(pick(&cs[0]));
    let mut line = vec![label];
    for c in cs {
        let v = pick(c);
        let s = if c.failed.is_some() {
            "FAILED".to_string()
        } else if v.is_empty() {
            "-".to_string()
        } else {
            let m = median(v);
            let mut s = fmt_v(m);
            if native.is_finite() {
                let _ = write!(s, " x{:.2}", m / native);
            }
            if v.len() < o.runs {
                *short = true;
                let _ = write!(s, " ({})", v.len());
            }
            s
        };
        line.push(s);
    }
    line
}

fn table(rows: &[Row], cfgs: &[Config], cells: &[Vec<Cell>], o: &Opts) -> String {
    let mut grid: Vec<Vec<String>> =
        vec![std::iter::once("".to_string()).chain(cfgs.iter().map(|c| c.name.to_string())).collect()];
    let mut short = false;
    for (row, cs) in rows.iter().zip(cells) {
        match row.kind {
            Kind::PerCall { .. } => grid.push(table_line(row.name.clone(), cs, |c| &c.samples, o, &mut short)),
            Kind::Workload { .. } => {
                grid.push(table_line(format!("{}: wall ms", row.name), cs, |c| &c.samples, o, &mut short));
                grid.push(table_line("  cpu ms (user+sys, whole tree)".into(), cs, |c| &c.cpu, o, &mut short));
            }
        }
    }
    let widths: Vec<usize> = (0..grid[0].len()).map(|i| grid.iter().map(|l| l[i].len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (li, l) in grid.iter().enumerate() {
        for (i, (c, w)) in l.iter().zip(&widths).enumerate() {
            if i == 0 {
                let _ = write!(out, "{c:<w$}");
            } else {
                let _ = write!(out, "  {c:>w$}");
            }
        }
        out.push('\n');
        if li == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "cells: median of {} runs and xratio to native; a per-call run reports its fastest batch of N/2000 calls \
         (at least 100)",
        o.runs
    );
    if short {
        let _ = writeln!(
            out,
            "(n): a slow per-call cell got only n runs (as many as fit in {}s, at least {MIN_RUNS})",
            PER_CALL_BUDGET.as_secs()
        );
    }
    out
}
