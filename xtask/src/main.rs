//! `cargo xtask build | test | bench`: the entry points of the project.
//!
//! ld-preld is built by cargo like everything else; its special link flags
//! are confined to its own binary by loader/build.rs. xtask only orders the
//! steps and puts the user-facing binaries in `target/preld/`.

mod bench;

use std::path::{Path, PathBuf};
use std::process::{exit, Command};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut c: Command) {
    eprintln!("xtask: running {c:?}");
    match c.status() {
        Ok(s) if s.success() => {}
        Ok(s) => {
            eprintln!("xtask: {c:?} failed: {s}");
            exit(s.code().unwrap_or(1));
        }
        Err(e) => {
            eprintln!("xtask: cannot run {c:?}: {e}");
            exit(1);
        }
    }
}

/// Builds ld-preld and preld in release mode into target/preld/.
fn build() {
    let mut c = cargo();
    c.args(["build", "--release", "-p", "ld-preld", "--bin", "ld-preld", "-p", "preld", "--bin", "preld"]);
    run(c);
    let out = root().join("target/preld");
    std::fs::create_dir_all(&out).unwrap();
    for bin in ["ld-preld", "preld"] {
        let src = root().join("target/release").join(bin);
        let dst = out.join(bin);
        // Replace, never write through: a running ld-preld keeps its inode.
        let tmp = out.join(format!(".{bin}.new"));
        std::fs::copy(&src, &tmp).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        std::fs::rename(&tmp, &dst).unwrap();
    }
    eprintln!("xtask: built {}", out.display());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => build(),
        Some("bench") => bench::bench(&args[1..]),
        Some("test") => {
            build();
            let mut c = cargo();
            c.args(["test", "--release", "--workspace", "--exclude", "xtask"]);
            // --quick: a subset of CPython's OS tests instead of the whole
            // list (the test reads PRELD_CPYTHON_SUBSET).
            let mut rest: Vec<&String> = args[1..].iter().collect();
            if let Some(i) = rest.iter().position(|a| *a == "--quick") {
                rest.remove(i);
                c.env("PRELD_CPYTHON_SUBSET", "1");
            }
            c.args(&rest);
            run(c);
            // Again with the fast path off: every program then traps on
            // every call, and must behave the same (the unit tests and the
            // benches' own crates need no second run).
            eprintln!("xtask: the integration tests again with PRELD_FAST=0");
            let mut c = cargo();
            c.args(["test", "--release", "-p", "preld-tests"]).env("PRELD_FAST", "0");
            c.args(&rest);
            if args[1..].iter().any(|a| a == "--quick") {
                c.env("PRELD_CPYTHON_SUBSET", "1");
            }
            run(c);
        }
        _ => {
            eprintln!("usage: cargo xtask build | test [--quick] [cargo test args]");
            exit(2);
        }
    }
}
