//! `preld`: the command line that starts programs under ld-preld.

mod attach;
mod dispositions;
mod docs;
mod clock;
mod filter;
mod inject;
mod json;
mod patch;
mod pola;
mod run;
mod shell;
mod trace;
mod tracer;
mod trace_opts;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use filter::{Expr, Filter};

#[derive(Parser)]
#[command(
    name = "preld",
    version,
    about = "Run Linux programs with an in-process system-call handler underneath them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(RunArgs),
    Trace(TraceArgs),
    Patch(PatchArgs),
    Pola(pola::PolaArgs),
    Shell(shell::ShellArgs),
    /// Write preld's man pages (DIR/man1) and bash, zsh and fish
    /// completions (DIR/completions) into DIR; `cargo xtask install` puts
    /// them in place
    GenerateDocs {
        dir: PathBuf,
    },
}

/// Run a program under ld-preld.
#[derive(Args)]
struct RunArgs {
    /// Let the program see HOST (a file or a directory tree) at the absolute
    /// path VIRT; repeatable
    #[arg(long = "map", value_name = "VIRT=HOST", value_parser = OsStringValueParser::new().try_map(PathMap::parse))]
    maps: Vec<PathMap>,
    /// Trap every system call: rewrite no call site (the fast path off, as
    /// PRELD_FAST=0 does)
    #[arg(long = "no-fast")]
    no_fast: bool,
    /// At each process's exit, print on its stderr how many calls took the
    /// fast path and how many trapped, and why (as PRELD_STATS=1 does)
    #[arg(long = "stats")]
    stats: bool,
    #[command(flatten)]
    clock: clock::ClockArgs,
    /// The program (searched in PATH when it has no slash) and its arguments.
    // trailing_var_arg: everything from PROG on belongs to the program, so its
    // own options are never taken for preld's.
    #[arg(value_name = "PROG", required = true, trailing_var_arg = true)]
    command: Vec<OsString>,
}

/// Run a program under ld-preld, writing its system calls strace-style.
#[derive(Args)]
#[command(long_about = trace::LONG_ABOUT)]
struct TraceArgs {
    /// Trace child processes and threads too (lines prefixed `[pid N]`);
    /// -ff with -o FILE: a file per process, FILE.PID, without the prefix
    #[arg(short = 'f', action = clap::ArgAction::Count)]
    follow: u8,
    /// Write the trace to FILE (truncated) instead of stderr
    #[arg(short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Prefix each line with the time: -t HH:MM:SS, -tt with microseconds,
    /// -ttt seconds since the epoch with microseconds
    #[arg(short = 't', action = clap::ArgAction::Count)]
    time: u8,
    /// Show the time spent in each call, ` <seconds>` at the end of its line
    #[arg(short = 'T')]
    durations: bool,
    /// Count calls, errors and time per call and print strace's summary
    /// table at the end instead of the lines (time: the thread's CPU time)
    #[arg(short = 'c')]
    count: bool,
    /// With -c: time calls by the wall clock
    #[arg(short = 'w')]
    wall: bool,
    /// Show at most N bytes of each string and N elements of each array
    /// (default 32, at most 4096)
    #[arg(short = 's', value_name = "N", value_parser = clap::value_parser!(u16).range(0..=4096))]
    strsize: Option<u16>,
    /// Which calls to show: `trace=NAME,...`, `NAME,...`, `%file`,
    /// `%process`, `!NAME`... (strace's syntax; the last trace= wins);
    /// `inject=SET:error=E|retval=N[:signal=S][:delay_enter=D][:delay_exit=D][:when=W]`
    /// and `fault=SET[:error=E][:when=W]` tamper with traced calls as strace's
    #[arg(short = 'e', value_name = "EXPR", value_parser = filter::parse_expr)]
    expr: Vec<Expr>,
    /// As for `preld run`: the program sees HOST at VIRT; repeatable
    #[arg(long = "map", value_name = "VIRT=HOST", value_parser = OsStringValueParser::new().try_map(PathMap::parse))]
    maps: Vec<PathMap>,
    /// Start CMD (with `sh -c`) as an external tracer that answers each
    /// call on its stdin/stdout (docs/tracer-protocol.md); repeatable, the
    /// first given is the outermost; an -e after it is its subscription.
    /// Without -o, no strace lines are written
    #[arg(long = "tracer", value_name = "CMD")]
    tracers: Vec<String>,
    /// A tracer already running, that reads questions from W and writes
    /// answers to R (both inherited fds): as --tracer otherwise
    #[arg(long = "tracer-fds", value_name = "R,W", value_parser = tracer::parse_fds)]
    tracer_fds: Vec<(i32, i32)>,
    /// The tracers in order, each with its subscription (from the order of
    /// --tracer, --tracer-fds and -e on the command line).
    #[arg(skip)]
    specs: Vec<tracer::Spec>,
    /// The -e of the strace lines: the last one given before any tracer.
    #[arg(skip)]
    line_expr: Option<Filter>,
    /// strace's -z, -Z, -x, -y, -P, -q, --json, --vdso
    #[command(flatten)]
    more: trace_opts::MoreTraceArgs,
    /// Trace the process PID, which runs under preld (`preld run`, or
    /// ld-preld), instead of starting a program; repeatable. preld trace
    /// detaches on SIGINT, SIGTERM or SIGHUP and the process goes on
    #[arg(short = 'p', value_name = "PID", conflicts_with = "command")]
    pids: Vec<i32>,
    /// The program (searched in PATH when it has no slash) and its arguments.
    #[arg(value_name = "PROG", required_unless_present = "pids", trailing_var_arg = true)]
    command: Vec<OsString>,
}

impl TraceArgs {
    /// Pairs each -e with the tracer given just before it (by position on
    /// the command line); an -e before any tracer is the strace lines'.
    fn assign_tracers(&mut self, m: &ArgMatches) {
        let idx = |id: &str| m.indices_of(id).map(|i| i.collect::<Vec<_>>()).unwrap_or_default();
        let mut sources: Vec<(usize, tracer::Source)> = Vec::new();
        for (i, c) in idx("tracers").into_iter().zip(&self.tracers) {
            sources.push((i, tracer::Source::Command(c.clone())));
        }
        for (i, &(r, w)) in idx("tracer_fds").into_iter().zip(&self.tracer_fds) {
            sources.push((i, tracer::Source::Fds(r, w)));
        }
        sources.sort_by_key(|s| s.0);
        let mut filters: Vec<Option<Filter>> = vec![None; sources.len()];
        self.line_expr = None;
        for (i, e) in idx("expr").into_iter().zip(&self.expr) {
            // -e inject= is the strace lines' whatever its place (trace.rs).
            let Expr::Trace(f) = e else { continue };
            match sources.iter().rposition(|s| s.0 < i) {
                Some(t) => filters[t] = Some(f.clone()),
                None => self.line_expr = Some(f.clone()),
            }
        }
        self.specs = sources
            .into_iter()
            .zip(filters)
            .map(|((_, source), f)| {
                let names = match f {
                    Some(Filter::Only(n)) => Some(n),
                    _ => None,
                };
                let calls = names.as_ref().map(|n| {
                    n.iter().filter_map(|c| c.parse::<syscalls::Sysno>().ok()).map(|s| s as usize).collect()
                });
                tracer::Spec { source, calls, names }
            })
            .collect();
    }
}

/// `--map VIRT=HOST`: both absolute, checked here so that a mistake is a
/// usage error rather than ld-preld refusing to start.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PathMap {
    virt: PathBuf,
    host: PathBuf,
}

impl PathMap {
    fn parse(v: OsString) -> Result<PathMap, String> {
        let b = v.as_bytes();
        let Some(eq) = b.iter().position(|&c| c == b'=') else {
            return Err("expected VIRT=HOST (two absolute paths)".into());
        };
        let (virt, host) = (&b[..eq], &b[eq + 1..]);
        for (what, p) in [("VIRT", virt), ("HOST", host)] {
            if !p.starts_with(b"/") {
                return Err(format!("{what} must be an absolute path, not `{}`", String::from_utf8_lossy(p)));
            }
        }
        Ok(PathMap { virt: OsStr::from_bytes(virt).into(), host: OsStr::from_bytes(host).into() })
    }

    /// The value of ld-preld's `--map`.
    fn arg(&self) -> OsString {
        let mut a = self.virt.clone().into_os_string();
        a.push("=");
        a.push(&self.host);
        a
    }
}

/// Write a copy of a dynamically linked program whose interpreter is ld-preld.
#[derive(Args)]
#[command(long_about = patch::LONG_ABOUT)]
struct PatchArgs {
    /// Absolute path OUT will name as its interpreter [default: the ld-preld
    /// next to this preld]
    #[arg(long, value_name = "PATH")]
    interp: Option<PathBuf>,
    /// The program to copy (x86_64 ELF, dynamically linked, or already patched)
    #[arg(value_name = "IN")]
    input: PathBuf,
    /// Where to write the patched copy (may be IN itself)
    #[arg(value_name = "OUT")]
    output: PathBuf,
}

fn main() -> ExitCode {
    // `preld pola` (and so every command of `preld shell`): its own
    // options only. Building every subcommand's parser took 0.1 ms of each
    // session's start. Help, --version and errors are the full parser's,
    // below, which says them as ever.
    if std::env::args_os().nth(1).is_some_and(|a| a == "pola") {
        let cmd = <pola::PolaArgs as Args>::augment_args(clap::Command::new("pola"));
        if let Some(args) = cmd.try_get_matches_from(std::env::args_os().skip(1)).ok().and_then(|m| pola::PolaArgs::from_arg_matches(&m).ok()) {
            return pola::main(args);
        }
    }
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let (Command::Trace(t), Some(("trace", m))) = (&mut cli.command, matches.subcommand()) {
        t.assign_tracers(m);
    }
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Trace(args) => trace::main(args),
        Command::Patch(args) => patch::main(args),
        Command::Pola(args) => pola::main(args),
        Command::Shell(args) => {
            // Its sessions give the programs SIGCHLD as the caller left it.
            dispositions::reset_sigchld();
            shell::main(args)
        }
        Command::GenerateDocs { dir } => match docs::generate(Cli::command(), &dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("preld: generate-docs: {}: {}", dir.display(), reason(&e));
                ExitCode::FAILURE
            }
        },
    }
}

/// The ld-preld installed beside this preld binary: the two are built and
/// installed together, and ld-preld must match preld's private arguments.
fn ld_preld() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot locate the preld binary: {e}"))?;
    let ld = me.with_file_name("ld-preld");
    if ld.is_file() {
        Ok(ld)
    } else {
        Err(format!("cannot find ld-preld next to {}", me.display()))
    }
}

/// An io::Error as a one-line reason, without std's "(os error N)" suffix.
fn reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(argv: &[&str]) -> Vec<OsString> {
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Run(r) => r.command,
            _ => panic!("not parsed as run"),
        }
    }

    fn trace_args(argv: &[&str]) -> TraceArgs {
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Trace(t) => t,
            _ => panic!("not parsed as trace"),
        }
    }

    fn error_of(argv: &[&str]) -> String {
        match Cli::try_parse_from(argv) {
            Ok(_) => panic!("{argv:?} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn run_takes_fast_path_switches_before_the_program() {
        let Command::Run(r) = Cli::try_parse_from(["preld", "run", "--no-fast", "--stats", "ls", "--no-fast"]).unwrap().command else {
            panic!("not parsed as run")
        };
        assert!(r.no_fast && r.stats);
        assert_eq!(r.command, ["ls", "--no-fast"]);
    }

    #[test]
    fn run_passes_the_program_its_own_options() {
        assert_eq!(run_args(&["preld", "run", "--", "ls", "-la", "--", "x"]), ["ls", "-la", "--", "x"]);
        assert_eq!(run_args(&["preld", "run", "ls", "--help"]), ["ls", "--help"]);
        assert!(Cli::try_parse_from(["preld", "run"]).is_err());
    }

    #[test]
    fn run_maps() {
        let maps = match Cli::try_parse_from(["preld", "run", "--map", "/etc/x=/tmp/y", "--map", "/a=/b=c", "cat"])
            .unwrap()
            .command
        {
            Command::Run(r) => r.maps,
            _ => panic!("not parsed as run"),
        };
        assert_eq!(maps.iter().map(|m| m.arg()).collect::<Vec<_>>(), ["/etc/x=/tmp/y", "/a=/b=c"]);
        assert_eq!(maps[1].host, PathBuf::from("/b=c"));
        // After PROG, --map belongs to the program.
        assert_eq!(run_args(&["preld", "run", "cat", "--map", "x"]), ["cat", "--map", "x"]);
    }

    #[test]
    fn bad_maps_are_usage_errors() {
        for (map, says) in [
            ("/etc/x", "VIRT=HOST"),
            ("etc/x=/tmp/y", "VIRT must be an absolute path, not `etc/x`"),
            ("/etc/x=tmp/y", "HOST must be an absolute path, not `tmp/y`"),
            ("=/tmp/y", "VIRT must be an absolute path"),
            ("/etc/x=", "HOST must be an absolute path"),
        ] {
            let e = error_of(&["preld", "run", "--map", map, "cat"]);
            assert!(e.contains(says), "--map {map}: {e}");
            let e = error_of(&["preld", "trace", "--map", map, "cat"]);
            assert!(e.contains(says), "trace --map {map}: {e}");
        }
    }

    #[test]
    fn run_clock_options() {
        let Command::Run(r) = Cli::try_parse_from(["preld", "run", "--clock-offset", "-1h30m", "--clock-rate=2", "date", "-u"])
            .unwrap()
            .command
        else {
            panic!("not parsed as run")
        };
        assert_eq!((r.clock.offset, r.clock.rate), (Some(-5_400_000_000_000), Some(2.0)));
        assert_eq!(r.command, ["date", "-u"]);
        for (argv, says) in [
            (&["preld", "run", "--clock-offset=3x", "date"][..], "expected a duration"),
            (&["preld", "run", "--clock-start=2030-13-01", "date"], "expected a date and time"),
            (&["preld", "run", "--clock-rate=0", "date"], "the rate must be above 0"),
            (&["preld", "run", "--clock-offset=1d", "--clock-start=@0", "date"], "cannot be used with"),
            (&["preld", "run", "--clock-monotonic", "date"], "--clock-rate"),
        ] {
            let e = error_of(argv);
            assert!(e.contains(says), "{argv:?}: {e}");
        }
    }

    #[test]
    fn trace_options() {
        let t = trace_args(&["preld", "trace", "-f", "-o", "/tmp/t", "-e", "trace=openat", "--", "ls", "-f", "-o"]);
        assert!(t.follow == 1);
        assert_eq!(t.output, Some(PathBuf::from("/tmp/t")));
        assert_eq!(t.expr, [Expr::Trace(Filter::Only(vec!["openat"]))]);
        assert_eq!(t.command, ["ls", "-f", "-o"]);
        let t = trace_args(&["preld", "trace", "-e", "openat", "-e", "close", "ls", "-e", "x"]);
        assert_eq!(t.expr.last(), Some(&Expr::Trace(Filter::Only(vec!["close"]))));
        assert_eq!(t.command, ["ls", "-e", "x"]);
        assert!(trace_args(&["preld", "trace", "true"]).follow == 0);
        assert!(Cli::try_parse_from(["preld", "trace"]).is_err());
    }

    fn trace_with_tracers(argv: &[&str]) -> TraceArgs {
        let m = Cli::command().try_get_matches_from(argv).unwrap();
        let mut cli = Cli::from_arg_matches(&m).unwrap();
        let Command::Trace(t) = &mut cli.command else { panic!("not parsed as trace") };
        t.assign_tracers(m.subcommand_matches("trace").unwrap());
        std::mem::replace(t, trace_args(&["preld", "trace", "true"]))
    }

    #[test]
    fn each_e_belongs_to_the_tracer_before_it() {
        let t = trace_with_tracers(&[
            "preld", "trace", "-e", "close", "--tracer", "a", "-e", "openat,write", "--tracer-fds", "5,6", "--tracer",
            "b", "-e", "read", "--", "ls", "-e", "x",
        ]);
        assert_eq!(t.line_expr, Some(Filter::Only(vec!["close"])));
        assert_eq!(t.specs.len(), 3);
        assert_eq!(t.specs[0].source, tracer::Source::Command("a".into()));
        assert_eq!(t.specs[0].names, Some(vec!["write", "openat"]));
        assert_eq!(t.specs[0].calls, Some(vec![1, 257]));
        assert_eq!(t.specs[1].source, tracer::Source::Fds(5, 6));
        assert_eq!(t.specs[1].calls, None);
        assert_eq!(t.specs[2].names, Some(vec!["read"]));
        assert_eq!(tracer::filter_arg(&t.specs), None, "one tracer wants every call");
        assert_eq!(tracer::filter_arg(&[t.specs[0].clone(), t.specs[2].clone()]).as_deref(), Some("openat,read,write"));
    }

    #[test]
    fn unknown_calls_are_usage_errors() {
        let e = error_of(&["preld", "trace", "-e", "trace=openat,opne", "ls"]);
        assert!(e.contains("unknown x86_64 system call `opne`"), "{e}");
        let e = error_of(&["preld", "trace", "-e", "%files", "ls"]);
        assert!(e.contains("unknown system call class `%files`"), "{e}");
    }
}
