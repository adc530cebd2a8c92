//! `cargo xtask build | test | bench | install`: the entry points of the
//! project.
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

/// The host's target triple: preld is built statically for it.
fn host_triple() -> String {
    format!("{}-unknown-linux-gnu", std::env::consts::ARCH)
}

/// Builds ld-preld and preld in release mode into target/preld/. preld is
/// linked statically (glibc's static libc): it starts 0.5 ms sooner than
/// linked dynamically (`preld run -- /bin/true` 1.95 -> 1.40 ms), every
/// `preld run`, `trace` and `pola` paying that once. And not as a
/// static-pie (relocation-model=static): a static-pie relocates itself at
/// start (_dl_relocate_static_pie, and the copy-on-write faults of the
/// pages it writes): `preld --version` 0.54 -> 0.47 ms. Built for the host
/// triple given as `--target`, so that the flag leaves build scripts and
/// proc macros alone (they are built for the host without it), in
/// target/TRIPLE/release.
fn build() {
    let mut c = cargo();
    c.args(["build", "--release", "-p", "ld-preld", "--bin", "ld-preld"]);
    run(c);
    let triple = host_triple();
    let mut c = cargo();
    c.args(["build", "--release", "-p", "preld", "--bin", "preld", "--target", &triple]);
    c.env("RUSTFLAGS", "-C target-feature=+crt-static -C relocation-model=static");
    run(c);
    let out = root().join("target/preld");
    std::fs::create_dir_all(&out).unwrap();
    for (bin, dir) in [("ld-preld", "target/release".to_string()), ("preld", format!("target/{triple}/release"))] {
        let src = root().join(dir).join(bin);
        let dst = out.join(bin);
        // Replace, never write through: a running ld-preld keeps its inode.
        let tmp = out.join(format!(".{bin}.new"));
        std::fs::copy(&src, &tmp).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        std::fs::rename(&tmp, &dst).unwrap();
    }
    eprintln!("xtask: built {}", out.display());
}

/// `install [--prefix DIR] [--destdir DIR]`: builds, then installs preld
/// and ld-preld (side by side: preld finds ld-preld next to itself) in
/// PREFIX/bin, the man pages in PREFIX/share/man/man1 and the completions
/// where bash, zsh and fish look under PREFIX/share. PREFIX defaults to
/// /usr/local; DESTDIR (for packagers) is prepended to every path.
fn install(args: &[String]) {
    let mut prefix = PathBuf::from("/usr/local");
    let mut destdir = PathBuf::from("/");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--prefix", Some(v)) => prefix = PathBuf::from(v),
            ("--destdir", Some(v)) => destdir = PathBuf::from(v),
            _ => {
                eprintln!("usage: cargo xtask install [--prefix DIR] [--destdir DIR]");
                exit(2);
            }
        }
    }
    if !prefix.is_absolute() {
        eprintln!("xtask: install: --prefix must be absolute");
        exit(2);
    }
    build();
    let built = root().join("target/preld");
    let docs = built.join("docs");
    let _ = std::fs::remove_dir_all(&docs);
    let mut gen = Command::new(built.join("preld"));
    gen.arg("generate-docs").arg(&docs);
    run(gen);
    let under = |p: &str| destdir.join(prefix.strip_prefix("/").unwrap()).join(p);
    let copies = [
        (built.join("preld"), under("bin/preld"), 0o755),
        (built.join("ld-preld"), under("bin/ld-preld"), 0o755),
        (docs.join("completions/preld.bash"), under("share/bash-completion/completions/preld"), 0o644),
        (docs.join("completions/_preld"), under("share/zsh/site-functions/_preld"), 0o644),
        (docs.join("completions/preld.fish"), under("share/fish/vendor_completions.d/preld.fish"), 0o644),
    ];
    let mut all: Vec<(PathBuf, PathBuf, u32)> = copies.into_iter().collect();
    for page in std::fs::read_dir(docs.join("man1")).unwrap() {
        let page = page.unwrap().path();
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        all.push((page, under(&format!("share/man/man1/{name}")), 0o644));
    }
    for (src, dst, mode) in all {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap_or_else(|e| panic!("{}: {e}", dst.display()));
        // Replace, never write through: a running ld-preld keeps its inode.
        let tmp = dst.with_extension("xtask-new");
        std::fs::copy(&src, &tmp).unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), tmp.display()));
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).unwrap();
        std::fs::rename(&tmp, &dst).unwrap();
        eprintln!("xtask: installed {}", dst.display());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => build(),
        Some("install") => install(&args[1..]),
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
            eprintln!("usage: cargo xtask build | test [--quick] [cargo test args] | bench [...] | install [--prefix DIR] [--destdir DIR]");
            exit(2);
        }
    }
}
