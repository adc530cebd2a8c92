//! Go's own standard-library tests in a capability session (issue 11): each
//! package's test binary (`go test -c`) runs natively and inside
//! `preld pola -B --net` with the Go tree granted `--exec` (tests run the
//! `go` tool and read their testdata) and its build cache read-write, in
//! the package's source directory as natively; every test must end the same
//! way (PASS, FAIL or SKIP) in the session as natively, except the ones a
//! session lacks by design ([`SESSION`], each with its reason).
//!
//! Tests that leave the process in a state that breaks the tests after
//! them when they fail in a session ([`NOT_RUN`]) run in neither: Go 1.19's
//! test binaries have no -test.skip, so both runs get a `-test.run` of
//! every other name `-test.list` gives.
//!
//! The net package runs with the session's network (`--net`): its TCP and
//! UDP tests use the loopback, its Unix socket tests the session's private
//! /tmp.
//!
//! Logs: target/tmp/preld-go_std/{native,pola}-PKG.log.
//!
//! `go_file_tests_as_nobody_in_a_session_end_as_natively` runs os, io/fs,
//! path/filepath and os/user as nobody, natively and in nobody's own
//! session (root's files' owners the server's to tell there).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use preld_tests::run::{run_logged, Waited};
use preld_tests::scratch::test_dir;
use preld_tests::{preld, require_tool};

/// The packages, as the issue lists them.
const PACKAGES: &[&str] = &["os", "os/exec", "os/signal", "syscall", "net", "sync", "io/fs", "path/filepath", "bufio", "os/user"];

/// Tests whose outcome in a session differs by design, with the reason.
const SESSION: &[(&str, &str)] = &[
    ("net.TestInterfaces", NO_NETLINK),
    ("net.TestInterfaceAddrs", NO_NETLINK),
    ("net.TestInterfaceUnicastAddrs", NO_NETLINK),
    ("net.TestInterfaceMulticastAddrs", NO_NETLINK),
    ("net.TestIPConnLocalName", NO_RAW),
    ("net.TestIPConnRemoteName", NO_RAW),
    ("net.TestIPConnSpecificMethods", NO_RAW),
    ("os.TestMkdirAllAtSlash", "a session's / holds only its grants and is read-only (natively root makes /_go_os_test)"),
    ("syscall.TestAmbientCapsUserns", NO_USERNS_HERE),
    ("syscall.TestCloneNEWUSERAndRemapRootDisableSetgroups", NO_USERNS_HERE),
    ("syscall.TestCloneNEWUSERAndRemapRootEnableSetgroups", NO_USERNS_HERE),
    ("syscall.TestEmptyCredGroupsDisableSetgroups", NO_USERNS_HERE),
    ("syscall.TestGroupCleanupUserNamespace", NO_USERNS_HERE),
    ("syscall.TestUnshare", NO_USERNS_HERE),
    ("syscall.TestDeathSignal", NO_CAPS),
    ("syscall.TestGroupCleanup", NO_CAPS),
    ("syscall.TestSetuidEtc", NO_CAPS),
    ("syscall.TestUnshareMountNameSpace", NO_USERNS),
    ("syscall.TestUnshareMountNameSpaceChroot", NO_USERNS),
];
const NO_USERNS_HERE: &str = "no user or network namespaces of its own in a session (natively skipped in a container: /.dockerenv, which a session does not show)";
const NO_NETLINK: &str = "netlink sockets are refused in a session (Go lists interfaces through them)";
const NO_RAW: &str = "raw IP sockets need CAP_NET_RAW, which a session lacks (the suite runs as root natively)";
const NO_CAPS: &str = "no capabilities in a session (the tests switch ids as root natively)";
const NO_USERNS: &str = "no namespaces of its own in a session (mount namespaces need CAP_SYS_ADMIN)";

/// Run in neither: (test, why).
const NOT_RUN: &[(&str, &str)] = &[
    (
        "os.TestRemoveAllLongPath",
        "its cwd goes 4100 bytes deep, past PATH_MAX once made absolute, which a session's paths are: \
         it fails in a session leaving that cwd removed, and the tests after it fail",
    ),
];

/// The per-package time limit of each run.
const LIMIT: Duration = Duration::from_secs(300);

fn goroot() -> PathBuf {
    let out = Command::new("go").args(["env", "GOROOT"]).output().expect("go env GOROOT");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// `--- PASS|FAIL|SKIP: Name` lines (subtests too).
fn outcomes(log: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for l in log.lines() {
        let t = l.trim_start();
        for verdict in ["PASS", "FAIL", "SKIP"] {
            if let Some(rest) = t.strip_prefix(&format!("--- {verdict}: ")) {
                if let Some(name) = rest.split_whitespace().next() {
                    m.insert(name.to_string(), verdict.to_string());
                }
            }
        }
    }
    m
}

fn status(w: &Waited) -> String {
    let s = preld_tests::run::describe_status(w.status);
    if w.timed_out { format!("{s}, killed at the time limit") } else { s }
}

#[test]
fn go_std_tests_in_a_session_end_as_natively() {
    require_tool("go", "golang-go");
    let root = goroot();
    let work = test_dir().to_path_buf();
    let bins = work.join("bin");
    let cache = work.join("gocache");
    std::fs::create_dir_all(&bins).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let mut report = String::new();
    let mut differences = 0;
    for pkg in PACKAGES {
        let name = pkg.replace('/', "_");
        let bin = bins.join(format!("{name}.test"));
        let src = root.join("src").join(pkg);
        let run_re = build(pkg, &bin, &cache, &src);
        let args = ["-test.v", "-test.short", "-test.timeout", "240s", "-test.run", run_re.as_str()];

        let native_log = work.join(format!("native-{name}.log"));
        let mut native = Command::new(&bin);
        native.args(args).current_dir(&src).env("GOCACHE", &cache);
        only_std_fds(&mut native);
        let native_status = run_logged(native, &native_log, LIMIT);

        let pola_log = work.join(format!("pola-{name}.log"));
        let mut pola = Command::new(preld());
        pola.args(["pola", "-B", "--net", "--exec"]).arg(&root).arg("--exec").arg(&bin).arg("--rw").arg(&cache);
        pola.arg("--cwd").arg(&src).arg("--").arg(&bin).args(args).current_dir(&src).env("GOCACHE", &cache);
        let pola_status = run_logged(pola, &pola_log, LIMIT);

        differences += compare(pkg, &native_log, &native_status, &pola_log, &pola_status, &mut report);
    }
    let path = work.join("report.txt");
    std::fs::write(&path, &report).unwrap();
    eprintln!("{report}");
    assert_eq!(differences, 0, "Go's tests end differently in a session: {differences} difference(s), see {}", path.display());
}

/// The native run gets fds 0, 1 and 2 only, as a session does (os/exec's
/// TestExtraFiles skips itself when the test harness's fds leak into it).
fn only_std_fds(c: &mut Command) {
    // SAFETY: close_range is async-signal-safe and touches only fds.
    unsafe {
        c.pre_exec(|| {
            libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
            Ok(())
        });
    }
}

/// Builds `pkg`'s test binary at `bin` (with Go's cache `cache`) and
/// returns the `-test.run` pattern of every test it lists in `src` but
/// NOT_RUN's, by name.
fn build(pkg: &str, bin: &std::path::Path, cache: &std::path::Path, src: &std::path::Path) -> String {
    let built = Command::new("go").args(["test", "-c", "-o"]).arg(bin).arg(pkg).env("GOCACHE", cache).output().expect("go test -c");
    assert!(built.status.success(), "go test -c {pkg}: {}", String::from_utf8_lossy(&built.stderr));
    let listed = Command::new(bin).args(["-test.list", ".*"]).current_dir(src).output().expect("-test.list");
    let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|n| !n.is_empty() && !n.starts_with("ok ") && !NOT_RUN.iter().any(|(k, _)| *k == format!("{pkg}.{n}")))
        .map(str::to_string)
        .collect();
    format!("^({})$", names.join("|"))
}

/// Compares one package's runs (their logs): each test's outcome, but for
/// [`SESSION`]'s; writes what differs into `report` and returns how many
/// differences count.
fn compare(pkg: &str, native_log: &std::path::Path, native_status: &Waited, pola_log: &std::path::Path, pola_status: &Waited, report: &mut String) -> usize {
    let mut differences = 0;
    let a = outcomes(&std::fs::read_to_string(native_log).unwrap_or_default());
    let b = outcomes(&std::fs::read_to_string(pola_log).unwrap_or_default());
    assert!(!a.is_empty(), "{pkg}: the native run printed no test result: see {}", native_log.display());
    report.push_str(&format!("{pkg}: {} tests; native {}, session {}\n", a.len(), status(native_status), status(pola_status)));
    for k in a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (x, y) = (a.get(k), b.get(k));
        if x == y {
            continue;
        }
        // A subtest belongs to its test's entry.
        let top = k.split('/').next().unwrap_or(k);
        // A subtest line Go's own output lost on one side (seen natively:
        // os/signal's TestNohup printed 3 of its 4 subtests' results)
        // while its test ended the same on both: no difference.
        if (x.is_none() || y.is_none()) && top != k.as_str() && a.get(top).is_some() && a.get(top) == b.get(top) {
            report.push_str(&format!("  note {k}: a result on one side only, its test {top} the same on both\n"));
            continue;
        }
        let key = format!("{pkg}.{top}");
        let show = |o: Option<&String>| o.map_or("(no result)".to_string(), |s| s.clone());
        match SESSION.iter().find(|(n, _)| *n == key) {
            Some((_, why)) => report.push_str(&format!("  by design {k}: native {}, session {} ({why})\n", show(x), show(y))),
            None => {
                differences += 1;
                report.push_str(&format!("  DIFFERS {k}: native {}, session {}\n", show(x), show(y)));
            }
        }
    }
    differences
}

/// The file-system packages as an ordinary user (nobody), natively and in
/// nobody's own session, where root's files' owners (the Go tree's, /usr,
/// /etc) are the server's to tell: os's Stat, Lstat and File.Stat, io/fs's
/// and filepath's walks, os/user's lookups. The test binaries, Go's cache,
/// HOME and TMPDIR in a directory of nobody's; the same grants as above
/// with a copy of preld nobody may run.
#[test]
fn go_file_tests_as_nobody_in_a_session_end_as_natively() {
    use std::os::unix::fs::PermissionsExt;
    require_tool("go", "golang-go");
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "the suite runs as root (these tests run as nobody)");
    const NOBODY: u32 = 65534;
    let root = goroot();
    let tmp = preld_tests::scratch::Scratch::new("go-nobody");
    let work = tmp.path();
    let cache = work.join("gocache");
    std::fs::create_dir_all(&cache).unwrap();
    let preld = preld_tests::preld_for_everyone(work);
    let mut report = String::new();
    let mut differences = 0;
    for pkg in ["os", "io/fs", "path/filepath", "os/user"] {
        let name = pkg.replace('/', "_");
        let bin = work.join(format!("{name}.test"));
        let src = root.join("src").join(pkg);
        let run_re = build(pkg, &bin, &cache, &src);
        let args = ["-test.v", "-test.short", "-test.timeout", "240s", "-test.run", run_re.as_str()];
        // Everything of nobody's there: the cache go test -c filled, too.
        for e in walk(work).iter().map(PathBuf::as_path).chain([work]) {
            let _ = std::os::unix::fs::lchown(e, Some(NOBODY), Some(NOBODY));
        }
        std::fs::set_permissions(work, std::fs::Permissions::from_mode(0o755)).unwrap();
        let as_nobody = |c: &mut Command| {
            c.current_dir(&src).env("GOCACHE", &cache).env("HOME", work).env("TMPDIR", work).uid(NOBODY).gid(NOBODY);
        };
        let native_log = work.join(format!("native-{name}.log"));
        let mut native = Command::new(&bin);
        native.args(args);
        as_nobody(&mut native);
        only_std_fds(&mut native);
        let native_status = run_logged(native, &native_log, LIMIT);
        let pola_log = work.join(format!("pola-{name}.log"));
        let mut pola = Command::new(&preld);
        pola.args(["pola", "-B", "--net", "--exec"]).arg(&root).arg("--exec").arg(&bin).arg("--rw").arg(&cache);
        pola.arg("--rw").arg(work).arg("--cwd").arg(&src).arg("--").arg(&bin).args(args);
        as_nobody(&mut pola);
        let pola_status = run_logged(pola, &pola_log, LIMIT);
        let d = compare(pkg, &native_log, &native_status, &pola_log, &pola_status, &mut report);
        if d > 0 {
            let log = std::fs::read_to_string(&pola_log).unwrap_or_default();
            report.push_str(&format!("  the session's log begins:\n{}\n", log.lines().take(5).collect::<Vec<_>>().join("\n")));
        }
        differences += d;
    }
    eprintln!("{report}");
    assert_eq!(differences, 0, "Go's file tests as nobody end differently in a session: {differences} difference(s):\n{report}");
}

/// Every path below `dir` (not following symlinks).
fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn the_outcome_parser_reads_subtests() {
    let o = outcomes("=== RUN   TestA\n--- PASS: TestA (0.00s)\n    --- SKIP: TestB/x (0.01s)\n--- FAIL: TestC (1.2s)\n");
    assert_eq!(o.get("TestA").map(String::as_str), Some("PASS"));
    assert_eq!(o.get("TestB/x").map(String::as_str), Some("SKIP"));
    assert_eq!(o.get("TestC").map(String::as_str), Some("FAIL"));
    assert_eq!(o.len(), 3);
}
