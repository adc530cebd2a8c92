//! The one set of helpers of preld's integration tests (tests/tests/*.rs):
//!
//! - here: where the built binaries are ([`ld_preld`], [`preld`]), the test
//!   programs build.rs built ([`program`]), host tools a test needs
//!   ([`require_tool`], [`require_file`]: missing, the test fails naming
//!   the Debian package, it never skips), [`fast_env`], [`random_hex`];
//! - [`run`]: running a command with a time limit, its output captured;
//! - [`modes`]: [`modes::Case`], one program run natively and under preld
//!   in several ways, outputs compared;
//! - [`diff`]: unified diffs for failure messages;
//! - [`scratch`]: temporary directories and the test binary's kept one;
//! - [`tree`]: snapshots of a directory tree (contents, metadata).
//!
//! The tests run what `cargo xtask build` left in `target/preld/`; they fail
//! (never skip) when it is missing.

use std::path::{Path, PathBuf};

pub mod diff;
pub mod modes;
pub mod run;
pub mod scratch;
pub mod tree;

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

/// 16 random hex digits (names and markers that no other run shares).
pub fn random_hex() -> String {
    use std::io::Read;
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A copy of preld and ld-preld that any uid can run (the checkout may lie
/// below a directory only root can enter).
pub fn preld_for_everyone(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    for name in ["preld", "ld-preld"] {
        std::fs::copy(preld().with_file_name(name), dir.join(name)).unwrap();
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir.join("preld")
}

/// A test program built by build.rs: `hello-dyn-pie`, `attack/gadget`,
/// `attack_kernel/net-static`... (a missing one fails with its build log).
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
