//! Shared helpers of preld's integration tests: where the built binaries are,
//! and running a command to completion with its output and status.
//!
//! The tests run what `cargo xtask build` left in `target/preld/`; they fail
//! (never skip) when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

pub mod modes;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn built(name: &str) -> PathBuf {
    let p = root().join("target/preld").join(name);
    assert!(p.exists(), "{} is missing: run `cargo xtask build` first (or `cargo xtask test`)", p.display());
    p
}

/// target/preld/ld-preld
pub fn ld_preld() -> PathBuf {
    built("ld-preld")
}

/// target/preld/preld
pub fn preld() -> PathBuf {
    built("preld")
}

/// The environment that chooses preld's path for every program a test
/// starts, also where a test clears the environment: `PRELD_FAST=0` in the
/// test's own environment (the second pass of `cargo xtask test`) turns
/// the fast path off everywhere.
pub fn fast_env() -> Vec<(&'static str, &'static str)> {
    match std::env::var("PRELD_FAST").as_deref() {
        Ok("0") => vec![("PRELD_FAST", "0")],
        _ => Vec::new(),
    }
}

/// What a finished command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: ExitStatus,
}

impl Outcome {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs `cmd` with stdin from /dev/null and returns its output and status.
pub fn run(cmd: &mut Command) -> Outcome {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Outcome { stdout: out.stdout, stderr: out.stderr, status: out.status }
}

/// Fails with a clear message if a host tool the tests need is missing.
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(tool);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{tool}` is missing: install the Debian package `{package}` (.ci/run does)");
}

/// Fails with a clear message if a file a test needs (a program at the path
/// its Debian package installs it to) is missing.
pub fn require_file(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if !p.is_file() {
        panic!("`{path}` is missing: install the Debian package `{package}` (.ci/run does)");
    }
    p
}

/// A test program built by build.rs (a missing one fails with its build log).
pub fn program(name: &str) -> PathBuf {
    let dir = Path::new(env!("PRELD_TEST_PROGRAMS"));
    let p = dir.join(name);
    if !p.is_file() {
        let err = std::fs::read_to_string(dir.join(format!("{name}.error")))
            .unwrap_or_else(|_| "no build log either: rebuild the preld-tests crate".into());
        panic!("test program {} was not built:\n{err}", p.display());
    }
    p
}
