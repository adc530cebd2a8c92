//! `preld trace`'s options -z, -Z, -x, -y, -P, -q and --vdso: parsed here
//! (flattened into TraceArgs) and handed to ld-preld as its `--trace-*`
//! options (handler/src/trace_opts.rs), whose handler applies them.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use clap::Args;

#[derive(Args, Debug, Default, Clone, PartialEq)]
pub struct MoreTraceArgs {
    /// Show only the calls that returned without an error (as strace -z)
    #[arg(short = 'z', overrides_with = "failed")]
    pub successful: bool,
    /// Show only the calls that failed (as strace -Z)
    #[arg(short = 'Z', overrides_with = "successful")]
    pub failed: bool,
    /// -x: strings with a non-ASCII byte in \x hex; -xx: every string
    #[arg(short = 'x', action = clap::ArgAction::Count)]
    pub hex: u8,
    /// -y: show the path an fd refers to (`3</etc/passwd>`); -yy: sockets'
    /// protocol and addresses and devices' numbers too
    #[arg(short = 'y', action = clap::ArgAction::Count)]
    pub fd_paths: u8,
    /// Show only the calls that access PATH (a path argument, or an fd
    /// argument that refers to it); repeatable
    #[arg(short = 'P', value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// -q: no `process N attached/detached` messages (-p); -qq: no
    /// `+++ exited with N +++` lines either
    #[arg(short = 'q', action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// Show the calls the program makes through preld's vDSO
    /// (clock_gettime, gettimeofday, time, getcpu, clock_getres) under the
    /// same filter as the others
    #[arg(long = "vdso")]
    pub vdso: bool,
    /// One JSON object per line instead of strace's text: calls with pid,
    /// tid, seq, time, name, args as values, result, errno (docs/trace-json.md)
    #[arg(long = "json")]
    pub json: bool,
}

impl MoreTraceArgs {
    /// Adds ld-preld's options for these to `cmd`.
    pub fn add_to(&self, cmd: &mut Command) {
        // (Of -z and -Z, the last given wins, as in strace: clap keeps one.)
        if self.successful || self.failed {
            cmd.arg("--trace-status").arg(if self.successful { "ok" } else { "failed" });
        }
        if self.hex > 0 {
            cmd.arg("--trace-hex").arg(self.hex.min(2).to_string());
        }
        if self.fd_paths > 0 {
            cmd.arg("--trace-fd-paths").arg(self.fd_paths.min(2).to_string());
        }
        for p in self.resolved_paths() {
            cmd.arg("--trace-path").arg(p);
        }
        if self.json {
            cmd.arg("--trace-json");
        }
        if self.quiet > 0 {
            cmd.arg("--trace-quiet").arg(self.quiet.min(3).to_string());
        }
        if self.vdso {
            cmd.arg("--trace-vdso");
        }
    }

    /// Whether an option of the strace lines is given (-q aside, which also
    /// quiets `-p`'s messages).
    pub fn any_for_lines(&self) -> bool {
        MoreTraceArgs { quiet: 0, ..self.clone() } != MoreTraceArgs::default()
    }

    /// -P's paths as given, and each one's resolved path when that differs
    /// (strace's rule: a path matches what the program wrote or the file).
    fn resolved_paths(&self) -> Vec<OsString> {
        let mut all: Vec<OsString> = Vec::new();
        for p in &self.paths {
            let mut add = |p: OsString| {
                if !p.is_empty() && !all.contains(&p) {
                    all.push(p);
                }
            };
            add(p.clone().into_os_string());
            if let Ok(real) = std::fs::canonicalize(p) {
                add(real.into_os_string());
            }
        }
        all
    }

    /// Whether the closing `+++ exited with N +++` line is left out (-qq;
    /// strace still shows `+++ killed by`).
    pub fn quiet_exit(&self) -> bool {
        self.quiet >= 2
    }
}
