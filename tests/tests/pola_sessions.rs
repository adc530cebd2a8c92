//! Real programs in capability sessions (issue 4, "real sessions work"):
//! `make` building a multi-file C project, python3 reading granted data and
//! writing its result, git in a granted repository, a program that closes
//! every fd, gcc's output run in a second session, `ls -la /`, a shell that
//! changes directory before it runs programs.
//!
//! Each session runs what `cargo xtask build` left in target/preld/, as
//! `preld pola -B ...`, with the environment cleared to a fixed one; where a
//! native run means something it runs the same way without preld and the
//! two are compared (stdout, exit status, and the files they made). A
//! missing tool fails the test and names its Debian package.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use preld_tests::diff::unified_diff;
use preld_tests::run::{describe_status, run_limited, shell_quote, show, Output};
use preld_tests::scratch::{write, Scratch};
use preld_tests::{preld, preld_for_everyone, program, require_file, require_tool, root, tree};

const LIMIT: Duration = Duration::from_secs(180);

/// The environment of every run, native or not (the test's own is not
/// passed on). No HOME, no system git config: both runs read the same.
const ENV: [(&str, &str); 6] = [
    ("PATH", "/usr/bin:/bin"),
    ("LC_ALL", "C"),
    ("TZ", "UTC"),
    ("HOME", "/nonexistent"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
];

/// A scratch directory below /tmp (where users keep such work; with -B it
/// is also below the session's private /tmp, a nested grant).
fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("sessions-{name}"))
}

/// One program run, natively or in a session.
struct Run {
    cwd: PathBuf,
    /// `--ro DIR` style arguments of the session (after -B).
    grants: Vec<OsString>,
    argv: Vec<OsString>,
    /// Run as this unprivileged uid (and gid), with this copy of preld.
    user: Option<(u32, PathBuf)>,
}

impl Run {
    fn new(cwd: &Path, argv: &[&str]) -> Run {
        Run { cwd: cwd.to_path_buf(), grants: Vec::new(), argv: argv.iter().map(OsString::from).collect(), user: None }
    }

    fn grant(mut self, how: &str, path: &Path) -> Run {
        self.grants.push(how.into());
        self.grants.push(path.into());
        self
    }

    /// The current directory, read-only (`--ro .`: -B does not grant it).
    fn here(self) -> Run {
        self.grant("--ro", Path::new("."))
    }

    /// Natively and in the session, as `uid` (gid the same, no groups),
    /// the session started by `preld` (a copy that uid can run).
    fn as_user(mut self, uid: u32, preld: &Path) -> Run {
        self.user = Some((uid, preld.to_path_buf()));
        self
    }

    fn command(&self, session: bool) -> Command {
        let mut c = self.command_as_root(session);
        if let Some((uid, _)) = &self.user {
            use std::os::unix::process::CommandExt;
            // std drops root's supplementary groups with the uid.
            c.uid(*uid).gid(*uid);
        }
        c
    }

    fn command_as_root(&self, session: bool) -> Command {
        let mut c = if session {
            let mut c = Command::new(self.user.as_ref().map_or_else(preld, |u| u.1.clone()));
            c.args(["pola", "-B"]).args(&self.grants).arg("--").args(&self.argv);
            c
        } else {
            let mut c = Command::new(&self.argv[0]);
            c.args(&self.argv[1..]);
            c
        };
        c.env_clear().envs(ENV).envs(preld_tests::fast_env()).current_dir(&self.cwd);
        c
    }

    fn shown(&self, session: bool) -> String {
        show(&self.command(session))
    }

    fn go(&self, session: bool) -> Output {
        run_limited(self.command(session), LIMIT)
            .unwrap_or_else(|e| panic!("`{}`: {e}", self.shown(session)))
    }

    fn native(&self) -> Output {
        self.go(false)
    }

    fn session(&self) -> Output {
        self.go(true)
    }

    /// Runs in a session and fails unless it exits 0.
    fn session_ok(&self) -> Output {
        let o = self.session();
        if !o.status.success() {
            panic!("`{}`: {}", self.shown(true), o.report());
        }
        o
    }

    /// Runs natively and fails unless it exits 0 (a broken setup, not preld).
    fn native_ok(&self) -> Output {
        let o = self.native();
        if !o.status.success() {
            panic!("the NATIVE run `{}` failed (the test setup is wrong, not preld): {}", self.shown(false), o.report());
        }
        o
    }

    /// Runs natively, then in a session; status and stdout must be the same
    /// (and stderr too with `stderr`). Returns the session's output.
    fn same(&self, what: &str, stderr: bool) -> Output {
        let n = self.native();
        let s = self.session();
        compare(what, &self.shown(true), &n, &s, stderr);
        s
    }
}

fn compare(what: &str, shown: &str, n: &Output, s: &Output, stderr: bool) {
    let mut bad = Vec::new();
    if n.status.code() != s.status.code() || n.status.success() != s.status.success() {
        bad.push(format!("status: native {}, session {}", describe_status(n.status), describe_status(s.status)));
    }
    if n.stdout != s.stdout {
        bad.push(format!("stdout differs:\n{}", unified_diff(&n.stdout, &s.stdout, "native", "session")));
    }
    if stderr && n.stderr != s.stderr {
        bad.push(format!("stderr differs:\n{}", unified_diff(&n.stderr, &s.stderr, "native", "session")));
    }
    if !bad.is_empty() {
        panic!(
            "{what}: the session differs from the native run\ncommand: {shown}\n{}\nsession stderr:\n{}",
            bad.join("\n"),
            String::from_utf8_lossy(&s.stderr)
        );
    }
}

/// Fails with the first differences between two trees (tree::contents).
fn same_tree(what: &str, native: &BTreeMap<PathBuf, Vec<u8>>, session: &BTreeMap<PathBuf, Vec<u8>>) {
    let bad = tree::differences(native, session, "the native run's", "the session's");
    assert!(bad.is_empty(), "{what}: the files differ from the native run's:\n  {}", bad.join("\n  "));
}

// ---------------------------------------------------------------- make

const MAKEFILE: &str = "\
CC = gcc
CFLAGS = -O2 -Wall
OBJS = main.o add.o mul.o

calc: $(OBJS) lib/libstr.a
\t$(CC) -o $@ $(OBJS) lib/libstr.a

%.o: %.c calc.h
\t$(CC) $(CFLAGS) -c -o $@ $<

# A recursive make through the shell: `cd` in sh, then make runs there.
lib/libstr.a: lib/str.c lib/str.h
\tcd lib && $(MAKE) --no-print-directory

clean:
\trm -f calc $(OBJS)
\tcd lib && $(MAKE) --no-print-directory clean

.PHONY: clean
";

const LIB_MAKEFILE: &str = "\
libstr.a: str.o
\tar rcs $@ str.o

str.o: str.c str.h
\tgcc -O2 -Wall -c -o $@ str.c

clean:
\trm -f libstr.a str.o
";

/// The project's sources at `dir`.
fn make_project(dir: &Path) {
    write(&dir.join("Makefile"), MAKEFILE);
    write(&dir.join("calc.h"), "int add(int a, int b);\nint mul(int a, int b);\n");
    write(&dir.join("add.c"), "#include \"calc.h\"\nint add(int a, int b) { return a + b; }\n");
    write(&dir.join("mul.c"), "#include \"calc.h\"\nint mul(int a, int b) { return a * b; }\n");
    write(
        &dir.join("main.c"),
        "#include <stdio.h>\n#include <stdlib.h>\n#include \"calc.h\"\n#include \"lib/str.h\"\n\
         int main(int argc, char **argv) {\n\
         \x20   int a = argc > 1 ? atoi(argv[1]) : 2, b = argc > 2 ? atoi(argv[2]) : 3;\n\
         \x20   printf(\"%s: %d %d\\n\", shout(\"calc\"), add(a, b), mul(a, b));\n\
         \x20   return 0;\n}\n",
    );
    write(&dir.join("lib/Makefile"), LIB_MAKEFILE);
    write(&dir.join("lib/str.h"), "const char *shout(const char *s);\n");
    write(
        &dir.join("lib/str.c"),
        "#include <ctype.h>\n#include \"str.h\"\nstatic char buf[64];\n\
         const char *shout(const char *s) {\n\
         \x20   int i = 0;\n    for (; s[i] && i < 63; i++) buf[i] = toupper((unsigned char)s[i]);\n\
         \x20   buf[i] = 0;\n    return buf;\n}\n",
    );
}

/// The steps of the build: (what, argv, file made newer before it).
const MAKE_STEPS: [(&str, &[&str], Option<&str>); 6] = [
    ("first build", &["make"], None),
    ("nothing to do", &["make"], None),
    ("add.c touched", &["make"], Some("add.c")),
    ("lib/str.c touched", &["make"], Some("lib/str.c")),
    ("calc.h touched", &["make"], Some("calc.h")),
    ("clean", &["make", "clean"], None),
];

/// Runs the build steps in `dir` (fresh sources), natively or in sessions
/// that grant `dir` read-write; returns each step's output and the tree
/// after it.
fn make_steps(dir: &Path, session: bool) -> Vec<(Output, BTreeMap<PathBuf, Vec<u8>>)> {
    let _ = fs::remove_dir_all(dir);
    make_project(dir);
    // Fixed times, so that "touched" is newer than every build product
    // whatever the clock's resolution: everything at T0, the touched file
    // at T0 + 10 s.
    let t0 = SystemTime::now() - Duration::from_secs(3600);
    tree::set_mtimes(dir, t0);
    let mut out = Vec::new();
    for (what, argv, touch) in MAKE_STEPS {
        if let Some(f) = touch {
            tree::set_mtimes(dir, t0);
            fs::File::options().write(true).open(dir.join(f)).unwrap().set_modified(t0 + Duration::from_secs(10)).unwrap();
        }
        let r = Run::new(dir, argv).grant("--rw", dir);
        let o = if session { r.session() } else { r.native_ok() };
        assert!(o.status.success(), "make step `{what}` in a session: `{}`: {}", r.shown(true), o.report());
        out.push((o, tree::contents(dir)));
    }
    out
}

fn require_make_tools() {
    require_tool("make", "make");
    require_tool("gcc", "gcc");
    require_tool("ar", "binutils");
}

#[test]
fn make_steps_in_sessions_are_the_native_ones() {
    require_make_tools();
    let tmp = scratch("make");
    let dir = tmp.join("calc");
    // Native first, then the same steps in sessions at the same path, so
    // that make's messages and gcc's outputs can be compared byte for byte.
    let native = make_steps(&dir, false);
    assert!(String::from_utf8_lossy(&native[2].0.stdout).contains("add.c"), "native: add.c was not rebuilt");
    let session = make_steps(&dir, true);
    for (i, ((n, nt), (s, st))) in native.iter().zip(&session).enumerate() {
        let (what, argv, _) = MAKE_STEPS[i];
        compare(&format!("make step `{what}`"), &format!("make {argv:?}"), n, s, true);
        same_tree(&format!("after make step `{what}`"), nt, st);
    }
}

#[test]
fn make_j2_in_a_session_builds_a_program_that_runs() {
    require_make_tools();
    let tmp = scratch("make-j2");
    let dir = tmp.join("calc");
    make_project(&dir);
    Run::new(&dir, &["make", "-j2"]).grant("--rw", &dir).session_ok();
    let ran = Run::new(&dir, &["./calc", "6", "7"]).native_ok();
    assert_eq!(ran.stdout, b"CALC: 13 42\n");
}

// ---------------------------------------------------------------- python

const PY_COMPUTE: &str = r#"
import json, os, subprocess, sys, threading
data, out = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(data))
rows = []
for line in open(os.path.join(data, "table.csv")):
    k, v = line.strip().split(",")
    rows.append((k, int(v)))
conf = json.load(open(os.path.join(data, "conf.json")))
# Files read by threads, and by a program run as a subprocess.
sizes = {}
def size(n):
    with open(os.path.join(data, "sub", n), "rb") as f:
        sizes[n] = len(f.read())
ts = [threading.Thread(target=size, args=(n,)) for n in sorted(os.listdir(os.path.join(data, "sub")))]
for t in ts: t.start()
for t in ts: t.join()
cat = subprocess.run(["cat", os.path.join(data, "conf.json")], capture_output=True, check=True).stdout
result = {
    "names": names,
    "total": sum(v for _, v in rows) * conf["scale"],
    "max": max(rows, key=lambda r: r[1])[0],
    "sizes": sizes,
    "cat_same": cat == open(os.path.join(data, "conf.json"), "rb").read(),
    "is_dir": [os.path.isdir(os.path.join(data, n)) for n in names],
}
tmp = os.path.join(out, "result.json.tmp")
with open(tmp, "w") as f:
    json.dump(result, f, sort_keys=True, indent=1)
os.replace(tmp, os.path.join(out, "result.json"))
print("wrote", sorted(os.listdir(out)))
"#;

/// Every way of writing into the read-only grant `data`; prints one line
/// per attempt with the errno name (or "ok").
const PY_WRITE_RO: &str = r#"
import errno, os, sys
data = sys.argv[1]
p = lambda n: os.path.join(data, n)
def attempt(what, f):
    try:
        f()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode.get(e.errno, e.errno))
attempt("open w existing", lambda: open(p("table.csv"), "w"))
attempt("open a existing", lambda: open(p("table.csv"), "a"))
attempt("open r+ existing", lambda: open(p("table.csv"), "r+"))
attempt("open w new", lambda: open(p("new.txt"), "w"))
attempt("open x new", lambda: open(p("new.txt"), "x"))
attempt("mkdir", lambda: os.mkdir(p("newdir")))
attempt("rmdir", lambda: os.rmdir(p("sub/empty")))
attempt("unlink", lambda: os.unlink(p("table.csv")))
attempt("rename", lambda: os.rename(p("table.csv"), p("t2.csv")))
attempt("link", lambda: os.link(p("table.csv"), p("t3.csv")))
attempt("symlink", lambda: os.symlink("table.csv", p("t4.csv")))
attempt("chmod", lambda: os.chmod(p("table.csv"), 0o600))
attempt("utime", lambda: os.utime(p("table.csv"), (1, 1)))
attempt("truncate", lambda: os.truncate(p("table.csv"), 0))
print("access W_OK", os.access(p("table.csv"), os.W_OK))
print("access R_OK", os.access(p("table.csv"), os.R_OK))
"#;

/// The python3 tests' directory: data/ to read (granted read-only), the
/// scripts, out-native/ and out-session/.
fn python_fixture(name: &str) -> Scratch {
    let tmp = scratch(name);
    let base = tmp.path().to_path_buf();
    let data = base.join("data");
    write(&data.join("table.csv"), "a,3\nb,11\nc,5\n");
    write(&data.join("conf.json"), "{\"scale\": 2}\n");
    write(&data.join("sub/one.bin"), &"x".repeat(1000));
    write(&data.join("sub/two.bin"), &"y".repeat(70000));
    fs::create_dir(data.join("sub/empty")).unwrap();
    write(&base.join("compute.py"), PY_COMPUTE);
    write(&base.join("write_ro.py"), PY_WRITE_RO);
    fs::create_dir(base.join("out-native")).unwrap();
    fs::create_dir(base.join("out-session")).unwrap();
    tmp
}

#[test]
fn python_reads_granted_data_and_writes_its_result() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = python_fixture("python");
    let base = tmp.path().to_path_buf();
    let (data, out_native, out_session) = (base.join("data"), base.join("out-native"), base.join("out-session"));
    let py = py.to_str().unwrap();
    let (d, on, os_) = (data.to_str().unwrap(), out_native.to_str().unwrap(), out_session.to_str().unwrap());

    let n = Run::new(&base, &[py, "compute.py", d, on]).native_ok();
    // The script is below the current directory (granted read-only by -B).
    let s = Run::new(&base, &[py, "compute.py", d, os_]).here().grant("--ro", &data).grant("--rw", &out_session).session();
    compare("python3 compute.py", "preld pola -B --ro data --rw out -- python3 compute.py", &n, &s, true);
    same_tree("python3's result", &tree::contents(&out_native), &tree::contents(&out_session));
    let result = fs::read_to_string(out_session.join("result.json")).unwrap();
    assert!(result.contains("\"total\": 38") && result.contains("\"two.bin\": 70000"), "{result}");
}

/// Writes into the read-only grant fail, all with the same errno.
#[test]
fn python_s_writes_into_a_read_only_grant_fail_with_erofs() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = python_fixture("python-ro");
    let base = tmp.path().to_path_buf();
    let (data, out_session) = (base.join("data"), base.join("out-session"));
    let before = tree::contents(&data);
    let (py, d) = (py.to_str().unwrap(), data.to_str().unwrap());
    let r = Run::new(&base, &[py, "write_ro.py", d]).here().grant("--ro", &data).grant("--rw", &out_session);
    let o = r.session_ok();
    let text = o.stdout_str();
    let mut errnos = Vec::new();
    for line in text.lines() {
        if line.starts_with("access") {
            continue;
        }
        errnos.push(line.rsplit(' ').next().unwrap().to_string());
    }
    assert_eq!(errnos.len(), 14, "{text}");
    assert!(
        errnos.iter().all(|e| e == "EROFS"),
        "writes into a read-only grant must all fail with EROFS (`{}`):\n{text}",
        r.shown(true)
    );
    assert!(text.contains("access W_OK False") && text.contains("access R_OK True"), "{text}");
    assert_eq!(tree::contents(&data), before, "the read-only grant changed");
}

// ---------------------------------------------------------------- git

/// `git ARGS` in `repo`, the current directory (read-only in a session).
fn git(repo: &Path, args: &[&str]) -> Run {
    let mut argv = vec!["git"];
    argv.extend_from_slice(args);
    Run::new(repo, &argv).here()
}

/// The command with fixed author and committer dates.
fn dated(mut c: Command) -> Command {
    c.env("GIT_AUTHOR_DATE", "@1700000000 +0000").env("GIT_COMMITTER_DATE", "@1700000000 +0000");
    c
}

/// A repository made natively in a fresh scratch dir's `repo`: two
/// commits, then a modified file, a staged one, an untracked one.
fn git_fixture(name: &str) -> (Scratch, PathBuf) {
    require_tool("git", "git");
    let tmp = scratch(name);
    let repo = tmp.join("repo");
    fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| git(&repo, args);
    // The repository, made natively: two commits, then a modified file, a
    // staged one, an untracked one.
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["config", "user.name", "Test"],
        &["config", "user.email", "test@example.org"],
    ] {
        git(args).native_ok();
    }
    write(&repo.join("README"), "hello\n");
    write(&repo.join("src/lib.c"), "int f(void) { return 1; }\n");
    write(&repo.join("src/util.c"), "int g(void) { return 2; }\n");
    std::os::unix::fs::symlink("src/lib.c", repo.join("link")).unwrap();
    for args in [&["add", "."][..], &["commit", "-q", "-m", "first"]] {
        let o = run_limited(dated(git(args).command(false)), LIMIT).unwrap();
        assert!(o.status.success(), "git {args:?}: {}", o.report());
    }
    write(&repo.join("src/lib.c"), "int f(void) { return 10; }\n");
    for args in [&["commit", "-q", "-a", "-m", "second\n\nwith a body"][..]] {
        let o = run_limited(dated(git(args).command(false)), LIMIT).unwrap();
        assert!(o.status.success(), "git {args:?}: {}", o.report());
    }
    write(&repo.join("README"), "hello\nworld\n");
    write(&repo.join("src/util.c"), "int g(void) { return 20; }\n");
    git(&["add", "src/util.c"]).native_ok();
    write(&repo.join("untracked.txt"), "new\n");
    // A native status first: it may refresh the index, which sessions with
    // a read-only repository cannot do.
    git(&["status"]).native_ok();
    (tmp, repo)
}

#[test]
fn git_reads_a_granted_repository_as_natively() {
    let (_tmp, repo) = git_fixture("git");
    let git = |args: &[&str]| git(&repo, args);
    let cmds: [&[&str]; 10] = [
        &["status"],
        &["status", "--porcelain=v2", "--branch"],
        &["log"],
        &["log", "--stat", "--format=%H %an %s"],
        &["diff"],
        &["diff", "--cached"],
        &["diff", "HEAD~1", "--stat"],
        &["show", "HEAD~1"],
        &["ls-files", "-s"],
        &["rev-parse", "--show-toplevel", "--git-dir", "HEAD"],
    ];
    for args in cmds {
        // The repository read-only (the current directory, granted by -B),
        // then read-write.
        let o = git(args).same(&format!("git {args:?} (read-only)"), true);
        assert!(!o.stdout.is_empty(), "git {args:?} printed nothing");
        git(args).grant("--rw", &repo).same(&format!("git {args:?} (read-write)"), true);
    }
}

/// A commit made in a session is a good commit.
#[test]
fn git_commits_in_a_granted_repository() {
    let (_tmp, repo) = git_fixture("git-commit");
    let git = |args: &[&str]| git(&repo, args);
    let o = run_limited(dated(git(&["commit", "-q", "-m", "third"]).grant("--rw", &repo).command(true)), LIMIT).unwrap();
    assert!(o.status.success(), "git commit in a session: {}", o.report());
    let log = git(&["log", "--format=%s"]).native_ok();
    assert_eq!(log.stdout, b"third\nsecond\nfirst\n");
    git(&["fsck", "--strict"]).native_ok();
    let st = git(&["status", "--porcelain"]).native_ok();
    assert_eq!(String::from_utf8_lossy(&st.stdout), " M README\n?? untracked.txt\n");
}

// ---------------------------------------------------------------- fds

#[test]
fn a_program_that_closes_every_fd() {
    let tmp = scratch("fds");
    let base = tmp.path().to_path_buf();
    let bin = base.join("bin");
    fs::create_dir(&bin).unwrap();
    let prog = bin.join("closeall");
    fs::copy(program("pola/closeall"), &prog).unwrap();
    write(&base.join("data/in.txt"), "granted data\n");
    let (on, os_) = (base.join("out-native"), base.join("out-session"));
    fs::create_dir(&on).unwrap();
    fs::create_dir(&os_).unwrap();
    let p = prog.to_str().unwrap();
    let input = base.join("data/in.txt");
    let i = input.to_str().unwrap();
    let n = Run::new(&base, &[p, i, on.join("out.txt").to_str().unwrap()]).native_ok();
    let s = Run::new(&base, &[p, i, os_.join("out.txt").to_str().unwrap()])
        .grant("--ro", &base.join("data"))
        .grant("--rw", &os_)
        .session();
    compare("closeall", "preld pola -B ... -- closeall", &n, &s, true);
    let got = fs::read_to_string(os_.join("out.txt")).unwrap();
    assert_eq!(got, fs::read_to_string(on.join("out.txt")).unwrap());
    assert!(got.contains("in fd 0, out fd 1") && got.contains("cat: ok"), "{got}");
}

/// LeakSanitizer (on in every `-fsanitize=address` program) stops the
/// program's threads with ptrace from a thread of its own before it looks
/// for leaks. A session lets its processes trace each other (Landlock
/// keeps them to the session's own): the leak report, its stacks and the
/// exit status are the native ones, with a second thread running.
#[test]
fn leak_sanitizer_reports_in_a_session_as_natively() {
    require_tool("gcc", "gcc");
    let tmp = scratch("lsan");
    write(
        &tmp.join("leak.c"),
        "#include <pthread.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n\
         static void *idle(void *a) { (void)a; for (;;) pause(); }\n\
         void *kept;\n\
         int main(void) {\n  pthread_t t;\n  pthread_create(&t, 0, idle, 0);\n  kept = malloc(7);\n  kept = malloc(13);\n  puts(\"done\");\n  return 0;\n}\n",
    );
    let built = Command::new("gcc").args(["-g", "-fsanitize=address", "-o", "leak", "leak.c", "-lpthread"]).current_dir(tmp.path()).output().unwrap();
    assert!(built.status.success(), "gcc -fsanitize=address (libasan): {}", String::from_utf8_lossy(&built.stderr));
    let r = Run::new(tmp.path(), &["./leak"]).here();
    let n = r.native();
    let s = r.session();
    // The pid (`==2==` in a session) and the addresses differ.
    let norm = |b: &[u8]| {
        let text = String::from_utf8_lossy(b);
        let mut out = String::new();
        for line in text.lines() {
            let mut words = Vec::new();
            for w in line.split(' ') {
                // `==1234==ERROR: ...`
                let pid = w.strip_prefix("==").and_then(|r| r.split_once("==")).filter(|(p, _)| p.bytes().all(|b| b.is_ascii_digit()));
                words.push(match pid {
                    Some((_, rest)) => format!("==PID=={rest}"),
                    None if w.starts_with("0x") => "0xADDR".into(),
                    None => w.to_string(),
                });
            }
            out.push_str(&words.join(" "));
            out.push('\n');
        }
        out
    };
    assert!(norm(&n.stderr).contains("SUMMARY: AddressSanitizer: 7 byte(s) leaked in 1 allocation(s)."), "natively: {}", n.report());
    assert_eq!(n.status.code(), Some(1), "natively: {}", n.report());
    assert_eq!(s.status.code(), n.status.code(), "session: {}", s.report());
    assert_eq!(s.stdout, n.stdout);
    assert_eq!(norm(&s.stderr), norm(&n.stderr), "the reports differ");
}

// ---------------------------------------------------------------- gcc

const HELLO_C: &str = r#"#include <math.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    printf("hello from %s, sqrt(%d) = %.3f\n", argc > 1 ? argv[1] : "nobody", argc, sqrt(argc));
    return argc > 2 ? (int)strlen(argv[2]) : 0;
}
"#;

/// A scratch dir with hello.c, out-native/hello built natively, and out/
/// (empty).
fn gcc_fixture(name: &str) -> Scratch {
    require_tool("gcc", "gcc");
    let tmp = scratch(name);
    let base = tmp.path().to_path_buf();
    write(&base.join("hello.c"), HELLO_C);
    fs::create_dir(base.join("out-native")).unwrap();
    fs::create_dir(base.join("out")).unwrap();
    Run::new(&base, &["gcc", "-O2", "-o", "out-native/hello", "hello.c", "-lm"]).native_ok();
    tmp
}

/// The README's example: the current directory read-only, out read-write.
#[test]
fn gcc_in_a_session_makes_the_native_executable() {
    let tmp = gcc_fixture("gcc");
    let (base, on, os_) = (tmp.path(), tmp.join("out-native"), tmp.join("out"));
    Run::new(base, &["gcc", "-O2", "-o", "out/hello", "hello.c", "-lm"]).here().grant("--rw", &os_).session_ok();
    assert_eq!(
        fs::read(os_.join("hello")).unwrap(),
        fs::read(on.join("hello")).unwrap(),
        "gcc in a session made another executable than natively"
    );
}

/// gcc's output, in one step and in separate compile and link steps, run
/// in a second session that may run what is in out.
#[test]
fn gcc_output_runs_in_a_second_session() {
    let tmp = gcc_fixture("gcc-run");
    let (base, os_) = (tmp.path(), tmp.join("out"));
    Run::new(base, &["gcc", "-O2", "-o", "out/hello", "hello.c", "-lm"]).here().grant("--rw", &os_).session_ok();
    Run::new(base, &["gcc", "-c", "-o", "out/hello.o", "hello.c"]).here().grant("--rw", &os_).session_ok();
    Run::new(base, &["gcc", "-o", "out/hello2", "out/hello.o", "-lm"]).here().grant("--rw", &os_).session_ok();
    let native = Run::new(base, &["out-native/hello", "world", "abcde"]).native();
    assert_eq!(native.status.code(), Some(5), "native: {}", native.report());
    for exe in ["out/hello", "out/hello2"] {
        let s = Run::new(base, &[exe, "world", "abcde"]).here().grant("--exec", &os_).session();
        compare(&format!("{exe} in a second session"), exe, &native, &s, true);
    }
}

/// A program run by a shell in the session: an exec or rw grant lets it
/// run, a read-only one does not.
#[test]
fn only_an_exec_or_rw_grant_lets_a_program_run() {
    let tmp = gcc_fixture("gcc-grants");
    let (base, os_) = (tmp.path(), tmp.join("out"));
    fs::copy(tmp.join("out-native/hello"), os_.join("hello")).unwrap();
    let sh = |how: &str| {
        Run::new(base, &["/bin/sh", "-c", "out/hello shell; echo status $?"]).here().grant(how, &os_).session_ok().stdout_str()
    };
    assert_eq!(sh("--exec"), "hello from shell, sqrt(2) = 1.414\nstatus 0\n", "--exec");
    assert_eq!(sh("--rw"), "hello from shell, sqrt(2) = 1.414\nstatus 0\n", "--rw");
    assert_eq!(sh("--ro"), "status 126\n", "a program in a read-only grant must not run");
}

// ---------------------------------------------------------------- shell, ls

/// What `ls -a /` shows in a session: -B's base and its private /tmp.
fn base_names() -> Vec<String> {
    let mut want: Vec<String> = [".", "..", "bin", "dev", "etc", "lib", "proc", "tmp", "usr"].iter().map(|s| s.to_string()).collect();
    for (name, there) in [("lib64", "/lib64"), ("sbin", "/sbin"), ("var", "/var/cache/man/index.db"), ("var", "/var/cache/fontconfig")] {
        if Path::new(there).exists() && !want.iter().any(|w| w == name) {
            want.push(name.into());
        }
    }
    want.sort();
    want
}

fn sorted_lines(o: &Output) -> Vec<String> {
    let mut names: Vec<String> = o.stdout_str().lines().map(str::to_string).collect();
    names.sort();
    names
}

#[test]
fn ls_a_root_shows_only_the_base_and_tmp() {
    let tmp = scratch("ls");
    let w = tmp.dir("w");
    let o = Run::new(tmp.path(), &["ls", "-a", "/"]).grant("--rw", &w).session_ok();
    // The scratch dir and the grant are below the private /tmp.
    assert_eq!(sorted_lines(&o), base_names(), "`ls -a /` in a session");
}

#[test]
fn ls_la_root_lists_each_name_once() {
    let tmp = scratch("ls-la");
    let o = Run::new(tmp.path(), &["ls", "-la", "/"]).session_ok();
    assert_eq!(o.stdout_str().lines().count(), base_names().len() + 1, "{}", o.stdout_str());
}

/// Run from / (or /dev, /proc), -B does not grant the current directory:
/// that would be the whole host.
#[test]
fn a_session_started_from_root_dev_or_proc_sees_only_the_base() {
    for here in ["/", "/dev", "/proc"] {
        let o = Run::new(Path::new(here), &["ls", "-a", "/"]).session_ok();
        let names = sorted_lines(&o);
        let mut want = base_names();
        want.retain(|n| n != "tmp" || names.contains(n));
        assert_eq!(names, want, "`ls -a /` in a session started from {here}");
    }
}

/// Only the base's devices and the session's own ptys, not the host's /dev.
#[test]
fn dev_in_a_session_started_there_is_the_base_s() {
    let o = Run::new(Path::new("/dev"), &["ls", "-a", "/dev"]).session();
    let listing = o.stdout_str();
    let extra: Vec<&str> = listing.lines().filter(|n| ![".", "..", "full", "null", "pts", "random", "shm", "tty", "urandom", "zero"].contains(n)).collect();
    assert!(o.status.success() && extra.is_empty(), "/dev from a session started there: {}", o.report());
}

/// /proc is the session's: its own processes only, whoever started it.
#[test]
fn proc_lists_only_the_session_s_processes() {
    let o = Run::new(Path::new("/proc"), &["sh", "-c", "sleep 5 & ls /proc; kill $!"]).session_ok();
    let pids: Vec<u32> = o.stdout_str().lines().filter_map(|l| l.parse().ok()).collect();
    assert!(pids.contains(&1) && pids.contains(&2), "/proc in a session lists no init and program: {}", o.report());
    assert!(pids.iter().all(|&p| p < 10), "/proc in a session lists processes outside it: {:?}\n{}", pids, o.report());
}

/// The program runs on the CPUs its caller may run on, as natively: the
/// session's init and pid 2 start pinned to one CPU each (confine.rs:
/// this machine's scheduler left them queued behind the launcher), and
/// give the caller's set back before anything of the program runs. With
/// every CPU, and started by `taskset -c N` (one CPU: nothing pinned).
#[test]
fn the_program_runs_on_the_callers_cpus() {
    require_tool("taskset", "util-linux");
    let tmp = scratch("cpus");
    let grep = ["grep", "Cpus_allowed_list", "/proc/self/status"];
    for _ in 0..5 {
        Run::new(tmp.path(), &grep).same("the CPUs allowed", true);
    }
    let last = std::thread::available_parallelism().map_or(0, |n| n.get() - 1).to_string();
    let mut native = Command::new("taskset");
    native.args(["-c", &last]).args(grep).env_clear().envs(ENV);
    let n = run_limited(native, LIMIT).unwrap();
    let mut session = Command::new("taskset");
    session.args(["-c", &last]).arg(preld()).args(["pola", "-B", "--"]).args(grep).env_clear().envs(ENV).envs(preld_tests::fast_env()).current_dir(tmp.path());
    let s = run_limited(session, LIMIT).unwrap();
    compare("the CPUs allowed", "taskset -c N preld pola -B -- grep Cpus_allowed_list /proc/self/status", &n, &s, true);
    assert_eq!(n.stdout_str().trim_end(), format!("Cpus_allowed_list:\t{last}"));
}

/// pid_max is one per PID namespace (Linux 6.14), the largest in a new
/// one: the session has the caller's, and ps sizes its PID column as
/// natively (7 wide, natively 5 at 32768).
#[test]
fn the_session_has_the_callers_pid_max() {
    require_tool("ps", "procps");
    let tmp = scratch("pid-max");
    Run::new(tmp.path(), &["sh", "-c", "cat /proc/sys/kernel/pid_max; ps -o pid,comm | head -1"]).same("pid_max and ps's header", true);
}

/// What a program reads of itself in /proc is what it reads natively
/// (pids aside: a session's are its own namespace's).
#[test]
fn proc_self_in_a_session_is_the_native_one() {
    let tmp = scratch("proc-self");
    let script = r#"
        printf 'cmdline: '; tr '\0' ' ' < /proc/self/cmdline; echo
        printf 'environ: '; tr '\0' '\n' < /proc/$$/environ | grep '^PRELD_TEST_VAR='
        echo "exe: $(readlink /proc/self/exe)"
        echo "cwd: $(readlink /proc/self/cwd) $(cd /proc/self/cwd && pwd -P)"
        echo "root: $(readlink /proc/self/root)"
        exec 7< /etc/passwd
        echo "fd: $(ls /proc/self/fd | grep -Ex '[0-7]' | tr '\n' ' ')"
        echo "fdinfo: $(ls /proc/self/fdinfo | grep -Ex '[0-7]' | tr '\n' ' ')"
        echo "fd 1-2: $(readlink /proc/self/fd/1 /dev/fd/2 | sed 's/[0-9]//g' | tr '\n' ' ')"
        echo "fd 7: $(readlink /proc/self/fd/7) $(readlink /proc/$$/fd/7) $(readlink /proc/$$/task/$$/fd/7)"
        echo "comm: $(cat /proc/self/comm)"
        echo "status: $(grep -E '^(Name|Umask|State|Threads):' /proc/self/status | tr '\t\n' '  ')"
        echo "stat: $(cut -d' ' -f2,3 /proc/self/stat)"
        echo "tasks: $(ls /proc/self/task | wc -l) $(ls /proc/thread-self/fd | grep -Ex '[0-7]' | wc -l)"
        echo "maps: $(grep -c '\[stack\]' /proc/self/maps) $(grep -c '\[vdso\]' /proc/self/maps)"
        echo "lstat: $(stat -c %F /proc/self/exe /proc/self/cwd /proc/self/fd/1 | tr '\n' ' ')"
        echo "mounts: $(grep -c . /proc/self/mountinfo | sed 's/[1-9][0-9]*/some/')"
        echo "dev: $(readlink /dev/stdin /dev/fd | tr '\n' ' ') $(ls /dev/fd/ | grep -Ex '[0-7]' | tr '\n' ' ') $(stat -c %F /dev/fd/1)"
    "#;
    let mut r = Run::new(tmp.path(), &["sh", "-c", script, "sh"]).grant("--rw", tmp.path());
    r.argv.insert(0, "env".into());
    r.argv.insert(1, "PRELD_TEST_VAR=x y".into());
    let n = r.native_ok();
    let s = r.session_ok();
    compare("/proc/self", script, &n, &s, true);
}

/// Paths that reach /proc or /dev/stdin only through `..` or a symlink
/// (`/usr/../proc/self/comm`, a link in a granted directory to
/// /proc/self/comm, a relative one, one to /dev/stdin, one to /proc/mounts
/// as Debian's /etc/mtab is) name the session's /proc as natively they
/// name /proc: the server's walk reaches the handler's names there and the
/// handler makes the call again with that path (ELSEWHERE, `Where`); they
/// were ENOENT. -B grants /etc/mtab as the link it is. And with `--ro /`,
/// whose copy holds the host's /proc (covered), /etc/mtab there.
#[test]
fn paths_into_proc_through_links_and_dotdot_as_natively() {
    let tmp = scratch("proc-links");
    let d = tmp.path();
    std::os::unix::fs::symlink("/proc/self/comm", d.join("comm")).unwrap();
    std::os::unix::fs::symlink("/proc/mounts", d.join("mtab")).unwrap();
    std::os::unix::fs::symlink("/dev/stdin", d.join("in")).unwrap();
    std::os::unix::fs::symlink("/proc", d.join("proc")).unwrap();
    let up = "../".repeat(d.components().count() - 1);
    std::os::unix::fs::symlink(format!("{up}proc/self/comm"), d.join("rel")).unwrap();
    let script = r#"
        echo "dotdot: $(cat /usr/../proc/self/comm) $(readlink /usr/../proc/self/exe) $(ls -d /usr/../proc/self/fd)"
        echo "links: $(cat comm) $(cat rel) $(stat -c %F comm) $(readlink comm)"
        echo "in: $(echo piped | cat in)"
        echo "mtab: $(grep -c . mtab | sed 's/[1-9][0-9]*/some/') $(stat -L -c %F mtab)"
        echo "dir link: $(cat proc/self/comm) $(cd proc && pwd -P) $(ls -d proc/self/task)"
        echo "access: $(test -r /usr/../proc/self/status && echo yes) $(test -e /dev/../proc/self/nothing || echo none)"
        echo "etc/mtab: $(grep -c . /etc/mtab | sed 's/[1-9][0-9]*/some/') $(readlink /etc/mtab) $(stat -c %F /etc/mtab)"
    "#;
    let r = Run::new(d, &["sh", "-c", script]).grant("--rw", d);
    let n = r.native_ok();
    let s = r.session_ok();
    compare("paths into /proc", script, &n, &s, true);
    let mtab = Run::new(d, &["sh", "-c", "grep -c . /etc/mtab | sed 's/[1-9][0-9]*/some/'"]).grant("--ro", Path::new("/"));
    let (n, s) = (mtab.native_ok(), mtab.session_ok());
    compare("/etc/mtab in a grant of /", "grep -c . /etc/mtab", &n, &s, true);
}

/// /proc/self/exe names the program as the kernel's link does: its path
/// with every symlink followed, absolute however it was started (here
/// `./py`, a symlink to python3, itself a symlink to python3.11), and a
/// program runs itself again through it (execv of /proc/self/exe, which
/// the server, with no /proc, answered ENOENT; the first image was named
/// `./py` or `/usr/bin/python3` before); /proc and /dev spelt with extra
/// `/` and `.` names are the handler's names still.
#[test]
fn the_program_s_own_exe_as_natively() {
    let tmp = scratch("own-exe");
    let py = require_file("/usr/bin/python3", "python3");
    std::os::unix::fs::symlink(&py, tmp.path().join("py")).unwrap();
    let script = "import os, sys\n\
                  print(sys.argv[1:], os.readlink('/proc/self/exe'), os.path.realpath('/proc/self/exe'), flush=True)\n\
                  print([os.readlink(p) for p in ('//proc/self/exe', '/proc/./self/exe', '/./proc//self/./exe')], flush=True)\n\
                  print(os.path.samefile('//dev/stdout', '/proc/self/fd/1'), os.access('/./proc/self/status', os.R_OK), flush=True)\n\
                  if len(sys.argv) == 1:\n    os.execv('/proc/self/exe', ['again', sys.argv[0], 'again'])\n";
    fs::write(tmp.path().join("own.py"), script).unwrap();
    let o = Run::new(tmp.path(), &["./py", "own.py"]).grant("--exec", tmp.path()).same("own exe", true);
    let out = o.stdout_str();
    assert_eq!(out.lines().count(), 6, "{out}");
    assert!(out.lines().step_by(3).all(|l| !l.contains("/py ") && !l.contains("./") && l.contains(" /usr/")), "{out}");
}

/// -B's symlinks are granted as symlinks (merged /usr's /bin -> usr/bin,
/// /lib64 -> usr/lib64, /etc/localtime -> the zone): readlink, lstat,
/// `ls -l`, `readlink -f`, Python's os.readlink and realpath, and
/// /proc/self/exe of a program run through them show what they show
/// natively (each was a directory or a file of its own at the link's
/// name), and programs run through them as natively: /bin/sh, ld.so at
/// /lib64 as a program and as every exec's PT_INTERP, libraries from
/// /lib/x86_64-linux-gnu.
#[test]
fn base_symlinks_read_as_natively() {
    let tmp = scratch("base-links");
    require_file("/usr/bin/python3", "python3");
    let script = r#"
        for l in /bin /sbin /lib /lib64 /etc/localtime /etc/os-release; do
            echo "$l: $(readlink $l; echo $?) $(readlink -f $l) $(stat -c '%F %N %s %U' $l) $(stat -L -c '%F' $l)"
        done
        ls -l / | grep -E ' (bin|sbin|lib|lib64) -> ' | tr -s ' '
        ls -ld /bin/ /lib64/ | cut -c1
        echo "sh: $(readlink -f /bin/sh) $(readlink -f /sbin/../bin/sh) $(readlink /bin/)"
        echo "exe: $(/bin/readlink /proc/self/exe)"
        echo "ld.so: $(/lib64/ld-linux-x86-64.so.2 /bin/echo run by ld.so) $(/lib64/ld-linux-x86-64.so.2 --version | head -1 | cut -c1-3)"
        echo "libc: $(ls -L /lib/x86_64-linux-gnu/libc.so.6) $(cd /bin && pwd -P && ls -d ../lib64)"
        echo "date: $(date -d @0 '+%F %T %Z')"
        echo "tz: $(stat -L -c '%s %i %F' /etc/localtime) $(wc -c < /etc/localtime) $(readlink /proc/self/fd/3 3</etc/localtime) $(test -r /etc/localtime && echo r) $(stat -L -c %s /etc/localtime/ 2>&1 | sed 's/.*: //')"
        env -u TZ /bin/python3 -S -c 'import time; print([time.strftime("%Z", time.localtime(0)) for _ in range(3)])'
        /bin/python3 -S -c 'import os, sys; print([os.readlink(p) for p in ("/bin", "/lib64", "/etc/localtime")], os.path.realpath("/bin/sh"), os.path.realpath("/lib64/ld-linux-x86-64.so.2"), os.path.islink("/lib"), os.path.isdir("/lib"), sys.executable, os.readlink("/proc/self/exe"))'
    "#;
    let o = Run::new(tmp.path(), &["sh", "-c", script]).same("-B's symlinks", true);
    if fs::symlink_metadata("/bin").is_ok_and(|m| m.file_type().is_symlink()) {
        let out = o.stdout_str();
        assert!(out.contains("0 /usr/bin symbolic link '/bin' -> 'usr/bin' 7 root directory"), "{out}");
        assert!(out.contains(" bin -> usr/bin\n"), "{out}");
    }
}

/// A symlink -B grants as itself cannot be removed, replaced or
/// retargeted from the session (its copy is a read-only mount's root, a
/// grant's root for the server), and a symlink the user grants with
/// `--ro` is granted as what it names (readlink: EINVAL, as before).
#[test]
fn granted_symlinks_stay_as_they_are() {
    let tmp = scratch("links-fixed");
    fs::write(tmp.path().join("data.txt"), "data\n").unwrap();
    std::os::unix::fs::symlink("data.txt", tmp.path().join("lnk")).unwrap();
    let script = r#"
        rm -f /bin 2>/dev/null; echo "rm: $?"
        ln -sfn /etc /bin 2>/dev/null; echo "ln: $?"
        mv /lib64 /tmp/x 2>/dev/null; echo "mv: $?"
        ln -sf /etc/passwd /etc/localtime 2>/dev/null; echo "ln localtime: $?"
        touch -h /bin 2>/dev/null; echo "touch: $?"
        echo "$(readlink /bin) $(readlink /lib64) $(readlink /etc/localtime)"
        readlink lnk; echo "user's link: $? $(cat lnk)"
    "#;
    let o = Run::new(tmp.path(), &["sh", "-c", script]).grant("--ro", &tmp.path().join("lnk")).session_ok();
    let out = o.stdout_str();
    let n = |l: &str| Command::new("readlink").arg(l).output().map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string()).unwrap_or_default();
    let want = format!("{} {} {}\n", n("/bin"), n("/lib64"), n("/etc/localtime"));
    assert!(out.contains(&want), "the links changed:\n{out}");
    for what in ["rm", "ln", "mv", "ln localtime", "touch"] {
        assert!(!out.contains(&format!("{what}: 0\n")), "{what} succeeded:\n{out}");
    }
    assert!(out.ends_with("user's link: 1 data\n"), "{out}");
}

/// A program that replaced itself at its path (a read-write grant holds
/// it) and runs /proc/self/exe never runs the new file as itself: the
/// handler ran whatever the path held (natively the link is the old file;
/// the session answers ENOENT).
#[test]
fn exec_of_own_exe_after_replacing_it_runs_no_other_file() {
    let tmp = scratch("own-exe-replaced");
    let py = require_file("/usr/bin/python3", "python3");
    fs::copy(fs::canonicalize(&py).unwrap(), tmp.path().join("prog")).unwrap();
    fs::copy(fs::canonicalize("/bin/echo").unwrap(), tmp.path().join("other")).unwrap();
    let script = "import os, sys\n\
                  os.rename('other', 'prog')\n\
                  try:\n    os.execv('/proc/self/exe', ['x', 'ran-other'])\n\
                  except OSError as e:\n    print('refused', e.errno, flush=True)\n";
    fs::write(tmp.path().join("swap.py"), script).unwrap();
    let o = Run::new(tmp.path(), &["./prog", "swap.py"]).grant("--rw", tmp.path()).session();
    let out = o.stdout_str();
    assert!(!out.contains("ran-other"), "{}", o.report());
    assert_eq!(out.trim(), format!("refused {}", libc::ENOENT), "{}", o.report());
}

/// A thread's /proc/self/task/TID/exe and fd/N, and /proc/self/root (or
/// cwd) leading back into /proc, are the handler's names as their plain
/// spellings are: they were the kernel's, ld-preld's path for exe and
/// preld's own fds readable by number (`/proc/self/task/2/fd/17470 -> /`).
#[test]
fn the_process_s_own_proc_names_through_task_and_root() {
    let tmp = scratch("own-task");
    let py = require_file("/usr/bin/python3", "python3");
    let script = "import os, threading\n\
                  tid, pid = threading.get_native_id(), os.getpid()\n\
                  exe = os.readlink('/proc/self/exe')\n\
                  for p in (f'/proc/self/task/{tid}/exe', f'/proc/{pid}/task/{tid}/exe', '/proc/self/root/proc/self/exe', '/proc/thread-self/root/proc/self/exe'):\n    print(p.replace(str(tid), 'T').replace(str(pid), 'P'), os.readlink(p) == exe, os.path.samefile(p, '/proc/self/exe'), flush=True)\n\
                  listed = set(int(n) for n in os.listdir('/proc/self/fd'))\n\
                  for d in (f'/proc/self/task/{tid}/fd', '/proc/self/root/proc/self/fd'):\n    seen = set()\n    for n in range(3, 70000):\n        try:\n            os.readlink(f'{d}/{n}')\n            seen.add(n)\n        except OSError:\n            pass\n    print(sorted(seen - listed), flush=True)\n";
    fs::write(tmp.path().join("task.py"), script).unwrap();
    let o = Run::new(tmp.path(), &[py.to_str().unwrap(), "task.py"]).grant("--ro", tmp.path()).same("own /proc names", true);
    assert_eq!(o.stdout_str().lines().count(), 6, "{}", o.stdout_str());
}

/// A grant's copy holds the host's mounts below it (here a tmpfs mounted
/// inside the granted directory, as /run/user/N lies in `--ro /`): an fd
/// on such a mount is named, listed and used as the base of relative
/// paths as natively (the server found the grant by the fd's mount only,
/// and answered ENOENT for `openat(fd, NAME)`, `..` and /proc/self/fd/N
/// there, which find's and os.walk's descent use).
#[test]
fn fds_on_mounts_inside_a_grant_as_natively() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "fds_on_mounts_inside_a_grant_as_natively mounts a tmpfs: run the suite as root");
    let tmp = scratch("submount");
    let g = tmp.dir("g");
    fs::create_dir_all(g.join("sub")).unwrap();
    fs::create_dir_all(g.join("plain")).unwrap();
    fs::write(g.join("plain/y"), "y\n").unwrap();
    struct Mounted(PathBuf);
    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let st = Command::new("mount").args(["-t", "tmpfs", "none"]).arg(g.join("sub")).status().expect("mount (util-linux) runs");
    assert!(st.success(), "mount -t tmpfs failed");
    let _m = Mounted(g.join("sub"));
    fs::create_dir_all(g.join("sub/d")).unwrap();
    fs::write(g.join("sub/x"), "hi\n").unwrap();
    fs::write(g.join("sub/d/z"), "z\n").unwrap();
    let script = format!(
        "import os\n\
         g = {g:?}\n\
         fd = os.open(g + '/sub', os.O_RDONLY | os.O_DIRECTORY)\n\
         print(os.readlink('/proc/self/fd/%d' % fd), sorted(os.listdir(fd)))\n\
         print(os.stat('x', dir_fd=fd).st_size, os.stat('d/z', dir_fd=fd).st_size, os.access('x', os.R_OK, dir_fd=fd))\n\
         d = os.open('d', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)\n\
         print(os.readlink('/proc/self/fd/%d' % d), sorted(os.listdir(d)), open('z', opener=lambda p, f: os.open(p, f, dir_fd=d)).read())\n\
         print(sorted(os.listdir(os.open('..', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd))))\n\
         for root, dirs, files in os.walk(g, topdown=True):\n    print(root, sorted(dirs), sorted(files))\n",
        g = g.to_str().unwrap()
    );
    fs::write(tmp.path().join("walk.py"), script).unwrap();
    let walk = tmp.path().join("walk.py");
    Run::new(tmp.path(), &["python3", walk.to_str().unwrap()]).grant("--ro", &g).grant("--ro", &walk).same("fds on a mount inside a grant", true);
    Run::new(&g, &["find", ".", "-name", "*"]).grant("--ro", &g).same("find across a mount inside a grant", true);
}

/// With the fd table full (RLIMIT_NOFILE lowered), opens fail with
/// EMFILE as natively, those the server makes too (a device, a file
/// grant): the fd in its reply found no room (MSG_CTRUNC), which read as a
/// malformed reply, EIO.
#[test]
fn a_full_fd_table_is_emfile_as_natively() {
    let tmp = scratch("emfile");
    let script = "import resource, os, errno\n\
                  soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n\
                  resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n\
                  fds = []\n\
                  try:\n    while True:\n        fds.append(os.open('/dev/zero', os.O_RDONLY))\n\
                  except OSError as e:\n    print('fill', errno.errorcode[e.errno])\n\
                  for p in ('/dev/null', '/etc/passwd', '/usr/include/stdio.h'):\n    \
                  try:\n        os.open(p, os.O_RDONLY)\n        print(p, 'opened')\n    \
                  except OSError as e:\n        print(p, errno.errorcode[e.errno])\n\
                  os.close(fds.pop())\n\
                  print('after a close', os.open('/dev/null', os.O_RDONLY) > 0)\n";
    let py = tmp.path().join("emfile.py");
    fs::write(&py, script).unwrap();
    let o = Run::new(tmp.path(), &["python3", py.to_str().unwrap()]).grant("--ro", &py).same("a full fd table", true);
    assert!(o.stdout_str().contains("/dev/null EMFILE\n"), "{}", o.report());
}

/// Ptys of the session's own: openpty, a child on the slave as its
/// controlling terminal (forkpty), ttyname, as natively.
#[test]
fn ptys_of_the_session_s_own() {
    let tmp = scratch("pty");
    let script = r#"
import os, pty, re
m, s = os.openpty()
print("ttyname:", re.sub(r"[0-9]+", "N", os.ttyname(s)))
os.write(m, b"typed
"); print("read:", os.read(s, 10))
pid, fd = pty.fork()
if pid == 0:
    print("child:", os.isatty(0), os.getsid(0) == os.getpid(), re.sub(r"[0-9]+", "N", os.ttyname(0)))
    os._exit(3)
out = b""
while True:
    try:
        b = os.read(fd, 100)
    except OSError:
        break
    if not b:
        break
    out += b
print(out.decode().strip()); print("status:", os.waitpid(pid, 0)[1] >> 8)
"#;
    Run::new(tmp.path(), &["python3", "-c", script]).same("ptys", true);
}

/// At a terminal, the session's terminal is a pty of its own devpts (its
/// /dev/pts/0): tty, ttyname, /proc/self/fd and /dev/tty name it, and it
/// has the user's window size, as the user's terminal is named and sized
/// natively (tests/programs/pola/at_pty.py runs both at a pty).
#[test]
fn the_session_s_terminal_is_named_as_natively() {
    let tmp = scratch("tty-name");
    let py = require_file("/usr/bin/python3", "python3");
    let driver = root().join("tests/programs/pola/at_pty.py");
    let cmd = "tty; readlink /proc/self/fd/0; stty size; /usr/bin/python3 -S -c 'import os; print(os.ttyname(0), os.ttyname(2))'; \
               test -t 1 && echo on a tty; echo to /dev/tty >/dev/tty; exit 3";
    let at_pty = |argv: &[&str]| {
        let mut c = Command::new(&py);
        c.arg(&driver).args(argv).current_dir(tmp.path());
        run_limited(c, Duration::from_secs(60)).unwrap()
    };
    let native = at_pty(&["sh", "-c", cmd]);
    let preld = preld();
    let session = at_pty(&[preld.to_str().unwrap(), "pola", "-B", "--", "sh", "-c", cmd]);
    let n = native.stdout_str();
    // The user's pty is the host's /dev/pts/N; the session's, its own first.
    let host = n.lines().next().unwrap_or_default().to_string();
    assert!(host.starts_with("/dev/pts/"), "native: {}", native.report());
    let want = n.replace(&host, "/dev/pts/0");
    assert_eq!(session.stdout_str(), want, "native:\n{n}\nsession: {}", session.report());
    assert!(want.contains("30 100\n") && want.ends_with("to /dev/tty\nstatus 3\n"), "native: {n}");
}

/// FIFOs the server opens (in -B's private /tmp, which a grant below it
/// keeps from being resolved in the process) wait for their other end as
/// natively, and a signal ends the wait.
#[test]
fn fifos_outside_the_in_process_grants_wait() {
    let tmp = scratch("fifo-wait");
    let script = preld_tests::root().join("tests/programs/pola/fifo_waits.py");
    let native_fifo = tmp.path().join("fifo");
    let n = Run::new(tmp.path(), &["python3", script.to_str().unwrap(), native_fifo.to_str().unwrap()]).native_ok();
    let r = Run::new(tmp.path(), &["python3", script.to_str().unwrap(), "/tmp/fifo"]).grant("--rw", tmp.path()).grant("--ro", script.parent().unwrap());
    let s = r.session_ok();
    compare("FIFOs in the private /tmp", &r.shown(true), &n, &s, true);
}

/// stat and lstat of names relative to a directory fd on a grant (served
/// by the kernel's fstatat from that fd where one name is looked up): the
/// native answers, symlinks inside, to another grant, out of every grant,
/// dangling or looping, `..`, FIFOs.
#[test]
fn stat_of_names_beside_a_directory_fd() {
    let tmp = scratch("stat-names");
    let d = tmp.path();
    let script = preld_tests::root().join("tests/programs/pola/stat_names.py");
    std::fs::write(d.join("file"), "twelve bytes").unwrap();
    std::fs::create_dir(d.join("dir")).unwrap();
    std::fs::write(d.join("dir/file"), "x").unwrap();
    let link = |to: &str, at: &str| std::os::unix::fs::symlink(to, d.join(at)).unwrap();
    link("file", "rel-link");
    link(d.join("file").to_str().unwrap(), "abs-link");
    link("/usr/include/stdio.h", "abs-outside");
    link("nothing-here", "dangling");
    link("dir", "dir-link");
    link("loop", "loop");
    link("../dir", "dir/sub-link");
    let fifo = std::ffi::CString::new(d.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let r = Run::new(d, &["python3", script.to_str().unwrap(), d.to_str().unwrap()]).grant("--ro", d).grant("--ro", script.parent().unwrap());
    r.native_ok();
    r.same("stat beside a directory fd", true);
}

/// Signals that come while the handler gate serves a session's stat and
/// open beneath a grant (tests/programs/c/h_gate_signals.c): each reaches
/// its handler once, as natively.
#[test]
fn signals_during_calls_served_beneath_a_grant() {
    let tmp = scratch("gate-signals");
    for kind in ["dyn-pie", "static-exec"] {
        let prog = preld_tests::program(&format!("h_gate_signals-{kind}"));
        let r = Run::new(tmp.path(), &[prog.to_str().unwrap(), "8000"]).grant("--exec", &prog);
        let o = r.same(&format!("h_gate_signals-{kind}"), true);
        assert!(o.stdout_str().contains("queued signals in order, none lost: yes\n"), "{}", o.report());
        assert!(o.stdout_str().contains("one-shot handlers run, none lost: yes\n"), "{}", o.report());
        assert!(o.stdout_str().contains("timer signals, each to its handler with its siginfo: yes\n"), "{}", o.report());
    }
}

/// FIFOs in a grant the process resolves beneath itself: the handler
/// gate's opens of them wait as natively, a signal's handler runs during
/// the wait (the open goes on under SA_RESTART, fails with EINTR without
/// it: tests/programs/pola/fifo_gate.c).
#[test]
fn fifos_in_an_in_process_grant_wait_and_take_signals() {
    let tmp = scratch("fifo-gate");
    let d = tmp.path();
    let fifo = std::ffi::CString::new(d.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    std::fs::write(d.join("plain"), "x").unwrap();
    let prog = d.join("fifo_gate");
    std::fs::copy(preld_tests::program("pola/fifo_gate"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), d.to_str().unwrap()]).grant("--rw", d);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("SA_RESTART: open returned an fd, handler ran 1 time(s) during it, read \"hi\"\n"), "native: {}", n.report());
    r.same("FIFO opens in an in-process grant", true);
}

/// A path with no NUL within PATH_MAX bytes fails with ENAMETOOLONG, as
/// natively (the kernel's getname), also where the handler reads it (the
/// trap path said EFAULT, its read of the path having failed); one that
/// runs into unmapped memory with EFAULT (beneath a directory grant
/// served in the process: tests/programs/pola/long_paths.c).
#[test]
fn paths_of_path_max_bytes_or_more_fail_as_natively() {
    let tmp = scratch("long-paths");
    let d = tmp.path();
    let g = d.join("g");
    fs::create_dir(&g).unwrap();
    write(&g.join("file"), "x");
    let prog = d.join("long_paths");
    fs::copy(program("pola/long_paths"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), g.to_str().unwrap()]).grant("--ro", &g).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("4096 bytes: open ENAMETOOLONG, openat ENAMETOOLONG, stat ENAMETOOLONG\n"), "native: {}", n.report());
    r.same("paths of PATH_MAX bytes and more", true);
}

/// Opens for reading by absolute paths beneath grants and beside their
/// directory fds, and stats by absolute paths, which the fast path's
/// session open and stat gates make themselves where they can (a path
/// whose page is known readable, a grant's name, names with no `..`; one
/// name beside an fd known to lie on a grant), answer as natively: each
/// name and flag twice through open, openat, stat and lstat (files,
/// directories, symlinks and O_NOFOLLOW, a FIFO, missing names, `.`,
/// `..`, `//`, trailing slashes, relative paths), paths across a page
/// boundary, ending before an unmapped page, running into it, in a page
/// unmapped, mapped again or made unreadable since it was read, and stat
/// buffers the program cannot write (tests/programs/pola/open_gate.c);
/// in a read-only and a read-write grant.
#[test]
fn opens_by_the_session_open_gate_answer_as_natively() {
    let tmp = scratch("open-gate");
    let d = tmp.path();
    let prog = d.join("open_gate");
    fs::copy(program("pola/open_gate"), &prog).unwrap();
    for how in ["--ro", "--rw"] {
        let g = d.join(&how[2..]);
        fs::create_dir_all(g.join("sub")).unwrap();
        write(&g.join("file"), "x");
        write(&g.join("sub/file"), "y");
        std::os::unix::fs::symlink("file", g.join("link")).unwrap();
        std::os::unix::fs::symlink("sub", g.join("dirlink")).unwrap();
        let fifo = std::ffi::CString::new(g.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo of a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let r = Run::new(d, &[prog.to_str().unwrap(), g.to_str().unwrap()]).grant(how, &g).grant("--ro", &prog);
        let n = r.native_ok();
        assert!(n.stdout_str().contains("/usr/include/stdio.h\n  open rdonly ok /usr/include/stdio.h "), "native: {}", n.report());
        r.same(&format!("opens for reading beneath a grant ({how})"), true);
    }
}

/// A stat of a virtual directory by its own name (`/`, `/etc`, `/var/cache`,
/// the current directory `.` where it is one) is made in the process from
/// an fd of the directory's stand-in, asked of the server once and kept
/// (`beneath::virtual_dir_fd`, given again at an exec): it says what the
/// server says for the same directory spelt otherwise (`/etc/.`, `//etc`),
/// stat and lstat alike, before and after an exec, as root and as nobody.
#[test]
fn virtual_directories_stat_as_the_server_says() {
    const CHECK: &str = r#"
import os, sys
def key(f, p):
    try:
        st = f(p)
    except OSError as e:
        # (A directory the base does not hold on this machine: the same
        # error both ways.)
        return ("error", e.errno)
    return (st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
os.chdir("/etc")
bad = 0
if key(os.stat, "/")[0] == "error" or key(os.stat, "/etc")[0] == "error":
    print("no stat of / or /etc")
    bad += 1
for d, other in [("/", "//"), ("/etc", "/etc/."), ("/etc", "//etc/"), ("/var/cache", "/var/cache/"), ("/var", "/./var"), (".", "/etc/"), ("/etc/ssl", "/etc/ssl/.")]:
    for f in (os.stat, os.lstat):
        a, b = key(f, d), key(f, other)
        if a != b:
            print(f"{f.__name__}({d!r}) {a} != {f.__name__}({other!r}) {b}")
            bad += 1
print("checked", bad, flush=True)
if bad:
    sys.exit(1)
if len(sys.argv) == 2:
    os.execv(sys.executable, [sys.executable, sys.argv[0], sys.argv[1], "again"])
"#;
    let tmp = scratch("vdir-stat");
    let script = tmp.path().join("check.py");
    write(&script, CHECK);
    let o = Run::new(tmp.path(), &["/usr/bin/python3", script.to_str().unwrap(), "first"]).grant("--ro", &script).session();
    assert!(o.status.success() && o.stdout_str() == "checked 0\nchecked 0\n", "as root: {}", o.report());
    let n = Nobody::new("vdir-stat-nobody");
    let script = n.tmp.path().join("check.py");
    write(&script, CHECK);
    let o = n.run(&["/usr/bin/python3", script.to_str().unwrap(), "first"]).grant("--ro", &script).session();
    assert!(o.status.success() && o.stdout_str() == "checked 0\nchecked 0\n", "as nobody: {}", o.report());
}

/// A program that single-steps itself (the trap flag and a SIGTRAP
/// handler of its own) through the calls the fast path makes in its
/// gates, its handler taking the path's page away (munmap, PROT_NONE) at
/// each step in turn (tests/programs/pola/gate_steps.c): each open and
/// stat opens or says EFAULT, as natively. The session open gate read the
/// path after its look at the known-pages table with signals coming in,
/// and a handler that unmapped the page in between had the process die of
/// SIGSEGV; a step in the handler gate (a SIGTRAP while in it) was fatal
/// at its first instruction (session-23 adversary).
#[test]
fn single_stepped_gates_with_the_path_taken_away_answer_as_natively() {
    let tmp = scratch("gate-steps");
    let d = tmp.path();
    let prog = d.join("gate_steps");
    fs::copy(program("pola/gate_steps"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), "/usr/include/stdio.h"]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("stat, page made PROT_NONE at each step: held"), "native: {}", n.report());
    r.same("single-stepped gates, the path's page taken away at each step", true);
}

/// getcwd, which the handler gate answers in the process since session
/// 23, as natively (tests/programs/pola/getcwd_gate.c): buffers of the
/// exact length and one byte short (ERANGE), 0, 1, NULL, a bad pointer, a
/// huge size, a read-only page, a buffer running into an unmapped page or
/// ending just before it; in the starting directory, `/`, /usr/include,
/// `..`, /etc and /tmp (session-23 adversary).
#[test]
fn getcwd_in_the_gate_answers_as_natively() {
    let tmp = scratch("getcwd-gate");
    let d = tmp.path();
    let prog = d.join("getcwd_gate");
    fs::copy(program("pola/getcwd_gate"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).here();
    let n = r.native_ok();
    assert!(n.stdout_str().contains("/usr/include\n  8192: 13 /usr/include\n"), "native: {}", n.report());
    r.same("getcwd's answers", true);
}

/// Stats of the virtual directories (made in the process from their
/// stand-ins' fds since session 23) spelt many ways answer as natively
/// which object they name or which error (tests/programs/pola/
/// vdir_spellings.c): `//`, `/./`, trailing slashes and dots, `..` into
/// and out of them and after missing names, and relative to a cwd in
/// /etc; stat, lstat and statx (session-23 adversary).
#[test]
fn virtual_directories_spelt_many_ways_stat_as_natively() {
    let tmp = scratch("vdir-spellings");
    let d = tmp.path();
    let prog = d.join("vdir_spellings");
    fs::copy(program("pola/vdir_spellings"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("/etc/..                  stat ok (/)"), "native: {}", n.report());
    r.same("stats of the virtual directories' spellings", true);
}

/// Names beside a file's fd that the session open gate opened and marked
/// as lying on its grant (`..`, `../NAME`, `.`; openat, fstatat,
/// faccessat, readlinkat, fchdir) are ENOTDIR as natively, never the
/// file's directory (tests/programs/pola/file_fd_names.c; session-23
/// adversary).
#[test]
fn names_beside_a_file_fd_the_open_gate_marked_as_natively() {
    let tmp = scratch("file-fd-names");
    let d = tmp.path();
    let prog = d.join("file_fd_names");
    fs::copy(program("pola/file_fd_names"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("4: openat(file, ..) ENOTDIR"), "native: {}", n.report());
    r.same("names beside a file fd", true);
}

/// A path in a page made MADV_WIPEONFORK or MADV_DONTFORK, known readable
/// to the session open gate in the parent, opened by a fork child (zeros,
/// or no page at all there): ENOENT and EFAULT as natively
/// (tests/programs/pola/fork_pages.c; session-23 adversary).
#[test]
fn paths_in_pages_a_fork_child_lacks_open_as_natively() {
    let tmp = scratch("fork-pages");
    let d = tmp.path();
    let prog = d.join("fork_pages");
    fs::copy(program("pola/fork_pages"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), "/usr/include/stdio.h"]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("child: open EFAULT"), "native: {}", n.report());
    r.same("paths in pages a fork child lacks", true);
}

/// A program that lowers its own fd limit, soft and hard, to 32 and fills
/// its table (tests/programs/pola/low_nofile.c) gets as many fds as
/// natively, from a granted file, from /dev/null (the server's open, its
/// fd sent) and from the file again. In a session the device's opens get
/// one fewer (preld's connection to the server, placed below the limit
/// there is no room above, takes fd 3), and after the EMFILE of the last
/// (the reply's fd found no room: MSG_CTRUNC) preld closes it, and the
/// next fill gets its slot back (session-23 adversary; noticed, not
/// analysed further).
#[test]
#[ignore = "bug: with a lowered hard fd limit preld's connection takes one of the program's fd slots for its device opens"]
fn a_lowered_hard_fd_limit_fills_as_natively() {
    let tmp = scratch("low-nofile");
    let d = tmp.path();
    let prog = d.join("low_nofile");
    fs::copy(program("pola/low_nofile"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), "/usr/include/stdio.h"]).grant("--ro", &prog);
    r.native_ok();
    r.same("filling a table of 32 fds", true);
}

/// getcwd in the handler gate and relative stats in a vfork child and a
/// CLONE_VM child without CLONE_FS after their own chdir, then in their
/// parent: each its own cwd, as natively (tests/programs/pola/
/// vfork_cwd.c; session-23 adversary).
#[test]
fn getcwd_of_children_sharing_memory_not_the_cwd_as_natively() {
    let tmp = scratch("vfork-cwd");
    let d = tmp.path();
    let prog = d.join("vfork_cwd");
    fs::copy(program("pola/vfork_cwd"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).here();
    let n = r.native_ok();
    assert!(n.stdout_str().contains("vfork child: /etc, stat passwd ok"), "native: {}", n.report());
    r.same("getcwd of children sharing memory", true);
}

/// open, openat, stat and getcwd from sites rewritten to the session's
/// gates, given NULL, low, non-canonical, kernel and vsyscall addresses:
/// EFAULT as natively (tests/programs/pola/gate_bad_pointers.c;
/// session-23 adversary).
#[test]
fn bad_pointers_to_the_session_s_gates_are_efault_as_natively() {
    let tmp = scratch("gate-bad-pointers");
    let d = tmp.path();
    let prog = d.join("gate_bad_pointers");
    fs::copy(program("pola/gate_bad_pointers"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("(nil): open EFAULT"), "native: {}", n.report());
    r.same("bad pointers to the gates", true);
}

/// A program at its fd limit (its table full) stats, accesses and reads
/// links of virtual directories, grants and file grants as natively
/// (tests/programs/pola/full_fd_table.c): the handler makes them from an
/// fd of its own in the program's table, which found no room, and each
/// said EMFILE (`/`, `/etc` too since session 23 makes their stat in the
/// process); now the server answers those, taking no fd of the program's
/// (session-23 adversary).
#[test]
fn names_stat_as_natively_with_the_fd_table_full() {
    let tmp = scratch("full-fd-table");
    let d = tmp.path();
    let prog = d.join("full_fd_table");
    fs::copy(program("pola/full_fd_table"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("/: stat ok lstat ok statx ok"), "native: {}", n.report());
    r.same("stats with the fd table full", true);
}

/// statfs by a program at its fd limit answers as natively
/// (tests/programs/pola/statfs_full.c). In a session the handler has the
/// server open the path (O_PATH) and send the fd, which finds no room in
/// the full table: EMFILE (session-23 adversary; a Statfs the server
/// answers without an fd would fix it).
#[test]
#[ignore = "bug: statfs of a program at its fd limit says EMFILE (the server's O_PATH fd finds no room)"]
fn statfs_with_the_fd_table_full_as_natively() {
    let tmp = scratch("statfs-full");
    let d = tmp.path();
    let prog = d.join("statfs_full");
    fs::copy(program("pola/statfs_full"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("statfs /: ok"), "native: {}", n.report());
    r.same("statfs with the fd table full", true);
}

/// A program whose libraries lie outside -B's grants (a DT_RUNPATH to
/// the test programs' directory) starts in a session as natively: with
/// -B the launcher skips `ld.so --list` only when every library must lie
/// in the base, and here it must not.
#[test]
fn libraries_outside_the_base_are_granted_with_the_program() {
    let tmp = scratch("runpath");
    let d = tmp.path();
    let prog = d.join("tls");
    fs::copy(program("tls-dyn-pie"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--exec", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("lib"), "native: {}", n.report());
    r.same("a library found through DT_RUNPATH outside the base", true);
}

/// Paths and stat buffers in memory whose access the program then takes
/// away (tests/programs/c/h_pagecache.c), passed again: EFAULT as
/// natively. The process reads a session's paths itself and knows the
/// pages it probed until the mappings change (usermem.rs): with the
/// changes not counted, the program died of SIGSEGV.
#[test]
fn pages_whose_access_went_are_efault_in_a_session() {
    let tmp = scratch("pagecache");
    let d = tmp.path();
    let prog = d.join("h_pagecache");
    std::fs::copy(preld_tests::program("h_pagecache-dyn-pie"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap()]).grant("--exec", d);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("brk              open EFAULT, stat EFAULT, access EFAULT\n"), "native: {}", n.report());
    r.same("access taken away from known pages", true);
}

/// Pages the process knows readable whose access goes otherwise
/// (tests/programs/c/h_pagecache2.c): a MADV_DONTFORK page passed in a
/// fork child, a file mapping the program cuts short itself. Natively
/// EFAULT; in a session the fork child died of SIGSEGV.
#[test]
fn known_pages_after_a_fork_and_a_truncation_in_a_session() {
    let tmp = scratch("pagecache2");
    let d = tmp.path();
    let prog = d.join("h_pagecache2");
    std::fs::copy(preld_tests::program("h_pagecache2-dyn-pie"), &prog).unwrap();
    for case in ["dontfork", "ftruncate-shared", "otrunc"] {
        let r = Run::new(d, &[prog.to_str().unwrap(), case, d.to_str().unwrap()]).grant("--rw", d).grant("--exec", d);
        r.native_ok();
        r.same(case, true);
    }
}

/// man formats a page of its own (`man -l`) in a session as natively:
/// man-db reads /etc/manpath.config, sandboxes groff's processes with a
/// seccomp filter of its own, and troff reads /etc/groff/man.local (-B
/// lacked both files: man refused to start, then troff warned).
#[test]
fn man_formats_a_page_as_natively() {
    preld_tests::require_tool("man", "man-db");
    preld_tests::require_tool("groff", "groff-base");
    let tmp = scratch("man");
    let d = tmp.path();
    std::fs::write(
        d.join("hello.1"),
        ".TH HELLO 1 \"2026-12-06\" \"preld\" \"Test\"\n.SH NAME\nhello \\- say hello\n.SH SYNOPSIS\n.B hello\n[\\fB\\-v\\fR] \\fIname\\fR...\n\
         .SH DESCRIPTION\nPrints a greeting for each \\fIname\\fR, wrapped and justified by groff as man formats any page:\n\
         a paragraph long enough to fill more than one line of output.\n",
    )
    .unwrap();
    let r = Run::new(d, &["/usr/bin/env", "MANPAGER=cat", "MANWIDTH=80", "man", "-l", "hello.1"]).grant("--ro", d);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("DESCRIPTION\n       Prints  a greeting"), "native: {}", n.report());
    r.same("man -l", true);
}

/// whatis and apropos read man-db's index (/var/cache/man/index.db, which
/// -B grants): in a session they said `nothing appropriate`.
#[test]
fn whatis_and_apropos_as_natively() {
    preld_tests::require_tool("whatis", "man-db");
    let tmp = scratch("whatis");
    for argv in [&["whatis", "ls"][..], &["apropos", "-e", "ls"], &["man", "-k", "^ls$"]] {
        Run::new(tmp.path(), argv).same(&argv.join(" "), true);
    }
}

/// fontconfig (graphviz, ImageMagick, matplotlib find fonts through it)
/// reads /etc/fonts and its cache in /var/cache/fontconfig, which -B
/// grants: in a session fc-match said `Cannot load default config file`
/// and that no cache directory was writable.
#[test]
fn fontconfig_finds_the_native_fonts() {
    preld_tests::require_tool("fc-match", "fontconfig");
    let tmp = scratch("fontconfig");
    for argv in [&["fc-match", "sans"][..], &["fc-match", "-s", "monospace"], &["fc-list"]] {
        Run::new(tmp.path(), argv).same(&argv.join(" "), true);
    }
}

/// Another thread keeps passing a page (a path in a directory grant, which
/// the process reads itself, and a stat buffer) that this one maps and
/// unmaps (tests/programs/c/h_pagecache2.c's race-munmap): each call
/// succeeds or says EFAULT, as natively. A page unmapped between the
/// handler's look and its copy made the copy fault: SIGSEGV 3 runs in 3.
#[test]
fn pages_unmapped_by_another_thread_meanwhile_in_a_session() {
    let tmp = scratch("pagecache-race");
    let d = tmp.path();
    let prog = d.join("h_pagecache2");
    std::fs::copy(preld_tests::program("h_pagecache2-dyn-pie"), &prog).unwrap();
    let argv = ["/usr/bin/env", "PC2_PATH=/usr/include/stdio.h", prog.to_str().unwrap(), "race-munmap", d.to_str().unwrap()];
    let r = Run::new(d, &argv).grant("--exec", d);
    let n = r.native_ok();
    assert_eq!(n.stdout_str(), "race-munmap: survived\n", "native: {}", n.report());
    r.same("race-munmap", true);
}

/// tests/programs/c/h_memrace.c in a session (from the session-13
/// adversary): calls after the main thread's pthread_exit (EFAULT: preld
/// named the exited leader to process_vm_readv), a FIFO opened while
/// another thread unmaps, signals whose handlers unmap or jump out while
/// copies and changes are under way, race-munmap under a seccomp filter
/// that refuses process_vm_writev. Each as natively.
#[test]
fn threads_sharing_memory_while_it_is_copied_in_a_session() {
    let tmp = scratch("memrace");
    let d = tmp.path();
    let prog = d.join("h_memrace");
    std::fs::copy(preld_tests::program("h_memrace-dyn-pie"), &prog).unwrap();
    for (case, arg) in [("leader-exit", ""), ("fifo", d.to_str().unwrap()), ("signal-window", "2"), ("lost-end", ""), ("race-seccomp", ""), ("vm-child", ""), ("filter-writes", "")] {
        let mut argv = vec![prog.to_str().unwrap(), case];
        if !arg.is_empty() {
            argv.push(arg);
        }
        let r = Run::new(d, &argv).grant("--rw", d).grant("--exec", d);
        r.native_ok();
        r.same(case, true);
    }
}

/// glibc's clone(fn, stack, SIGCHLD) in a session: the child, a process
/// of its own memory on a new stack, sees its parent's actions and makes
/// its calls (an exec through the server) on a connection of its own, as
/// natively (it was made as a thread: its results went into its parent's
/// memory, its connection was its parent's).
#[test]
fn a_clone_child_on_a_new_stack_in_a_session() {
    let tmp = scratch("clone-stack");
    let d = tmp.path();
    for k in ["dyn-pie", "static-exec"] {
        let prog = d.join(format!("h_clone_sighand-{k}"));
        std::fs::copy(preld_tests::program(&format!("h_clone_sighand-{k}")), &prog).unwrap();
        let r = Run::new(d, &[prog.to_str().unwrap(), "stack-fork"]).grant("--exec", d);
        let n = r.native_ok();
        assert!(n.stdout_str().contains("stack-fork child: usr1 handler, usr2 ignored\n"), "native: {}", n.report());
        r.same(k, true);
    }
}

/// A process of its own memory sharing its parent's fd table
/// (clone(CLONE_FILES), tests/programs/pola/clone_files.c): its calls and
/// those of its parent's threads are served during its life and after,
/// as natively. preld's connections of one were closed in the shared
/// table by the other's fork bookkeeping (every server call then failed).
#[test]
fn a_child_sharing_the_fd_table_and_its_parent_both_keep_their_connections() {
    let tmp = scratch("clone-files");
    let d = tmp.path();
    std::fs::write(d.join("shared"), "shared\n").unwrap();
    let prog = d.join("clone_files");
    std::fs::copy(preld_tests::program("pola/clone_files"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), d.to_str().unwrap()]).grant("--rw", d);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("the child's fd is the parent's: yes\n"), "native: {}", n.report());
    r.same("clone(CLONE_FILES) in a session", true);
}

/// cd, then programs and `#!` scripts run by relative names (one whose
/// `#!` line names its interpreter relatively): each sees its name, its
/// arguments and its cwd as natively, also after an exec (the new image's
/// cwd is its exec's, not asked of the server).
#[test]
fn relative_execs_and_scripts_after_cd() {
    let tmp = scratch("relative-exec");
    let d = tmp.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    let script = d.join("sub/s.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"$0 [$*] in $(pwd)\"\n").unwrap();
    std::fs::write(d.join("rel.sh"), "#!sub/s.sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    for f in [script.clone(), d.join("rel.sh")] {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cmd = format!(
        "cd {} && ./sub/s.sh a && cd sub && ./s.sh b && cd .. && ./rel.sh c && sub/s.sh d; cd sub && exec bash -c 'pwd; exec ./s.sh e'",
        d.display()
    );
    let r = Run::new(d, &["sh", "-c", &cmd]).grant("--rw", d);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("sub/s.sh [./rel.sh c] in "), "native: {}", n.report());
    r.same("relative execs after cd", true);
}

/// Files granted one by one (-B's /etc files, `--ro FILE`, `--exec FILE`),
/// which the process opens and stats itself (modes f and e of
/// handler/src/beneath.rs, through /proc/thread-self/fd/N of the grant's
/// fd): contents, names, O_NOFOLLOW, O_DIRECTORY, O_PATH, the four stats,
/// access, readlink, a trailing slash and a path through the file, from 4
/// threads at once, as natively (tests/programs/pola/file_grants.c).
#[test]
fn files_granted_one_by_one_as_natively() {
    let tmp = scratch("file-grants");
    let ro = tmp.path().join("ro.txt");
    fs::write(&ro, "granted alone\n").unwrap();
    let exe = tmp.path().join("prog");
    fs::copy("/bin/true", &exe).unwrap();
    let prog = tmp.path().join("file_grants");
    fs::copy(program("pola/file_grants"), &prog).unwrap();
    let argv = [prog.to_str().unwrap(), "/etc/passwd", "/etc/ld.so.cache", ro.to_str().unwrap(), exe.to_str().unwrap()];
    let r = Run::new(tmp.path(), &argv).grant("--ro", &ro).grant("--exec", &exe).grant("--exec", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("granted alone") || n.stdout_str().contains("ro.txt: open ok"), "native: {}", n.report());
    r.same("files granted one by one", true);
}

/// A file granted alone (-B's /etc/passwd) reopened from every kind of
/// caller, as natively: the process, which opens its fd directory in the
/// session's procfs for the reopens, a fork child and grandchild (their
/// own), a vfork child and a thread with an fd table of its own (whose
/// numbers are not the process's), and a thread after the leader's exit
/// (whose fd directory lists nothing: this thread's then)
/// (tests/programs/pola/file_grant_reopens.c).
#[test]
fn a_file_grant_reopens_from_children_threads_and_after_the_leader_exits() {
    let tmp = scratch("file-grant-reopens");
    let prog = tmp.path().join("file_grant_reopens");
    fs::copy(program("pola/file_grant_reopens"), &prog).unwrap();
    let r = Run::new(tmp.path(), &[prog.to_str().unwrap(), "/etc/passwd"]).grant("--exec", &prog);
    let n = r.native_ok();
    assert_eq!(
        n.stdout_str(),
        "the process: same bytes\nfork child: same bytes\nfork grandchild: same bytes\nvfork child: same bytes\n\
         thread with its own fd table: same bytes\nthe process again: same bytes\nthread after the leader's exit: same bytes\n",
        "native: {}",
        n.report()
    );
    r.same("a file grant's reopens", true);
}

/// Opens of /proc/self/fd/N and /dev/fd/N for an O_PATH fd of a FIFO and
/// of a file, and truncate through the link, as natively in a read-write
/// grant; in a read-only one the FIFO still opens for writing (as by its
/// path) and the file's truncate is EROFS (session-20 adversary: the
/// FIFO's fd was copied, an O_PATH fd again and O_RDWR refused, and
/// truncate of the link was ENOTDIR) (tests/programs/pola/fd_link_reopens.c).
#[test]
fn fd_links_of_o_path_fds_reopen_and_truncate_as_natively() {
    let tmp = scratch("fd-link-reopens");
    let d = tmp.path().join("d");
    fs::create_dir(&d).unwrap();
    let fifo = d.join("fifo");
    let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(fifo.as_os_str())).unwrap();
    // SAFETY: mkfifo of a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let file = d.join("file");
    let prog = tmp.path().join("fd_link_reopens");
    fs::copy(program("pola/fd_link_reopens"), &prog).unwrap();
    let argv = [prog.to_str().unwrap(), fifo.to_str().unwrap(), file.to_str().unwrap()];
    fs::write(&file, "0123456789").unwrap();
    let r = Run::new(tmp.path(), &argv).grant("--exec", &prog).grant("--rw", &d);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("fifo /proc/self/fd O_RDWR: open ok, O_PATH no, mode rw\n"), "native: {}", n.report());
    assert!(n.stdout_str().contains("truncate of the file's link: ok, size 3\n"), "native: {}", n.report());
    fs::write(&file, "0123456789").unwrap();
    r.same("fd links of O_PATH fds, read-write grant", true);
    fs::write(&file, "0123456789").unwrap();
    let ro = Run::new(tmp.path(), &argv).grant("--exec", &prog).grant("--ro", &d).session_ok();
    let out = ro.stdout_str();
    assert!(out.contains("fifo /proc/self/fd O_RDWR: open ok, O_PATH no, mode rw\n"), "{}", ro.report());
    assert!(out.contains("file /proc/self/fd O_RDWR: open EROFS\n"), "{}", ro.report());
    assert!(out.contains("truncate of the file's link: EROFS, size 10\n"), "{}", ro.report());
}

/// Runs `r` in a session and in one that learns (`--learn`, whose server
/// answers every path call), fails unless both print the same, and gives
/// the first one's output: what the process answers itself must be what
/// the server says.
fn same_as_the_server(r: Run, tmp: &Path) -> Output {
    let here = r.session_ok();
    let learning = r.grant("--learn", &tmp.join("learned.toml")).session_ok();
    assert_eq!(here.stdout_str(), learning.stdout_str(), "answered in the process vs by the server");
    here
}

/// tests/programs/pola/link_targets copied into `tmp`, and the symlinks
/// `links` (name, target) made in `d`, which also holds `plain`: the
/// program's argv and path.
fn link_targets(tmp: &Path, d: &Path, links: &[(&str, String)]) -> (Vec<String>, PathBuf) {
    fs::write(d.join("plain"), "plain\n").unwrap();
    for (name, to) in links {
        std::os::unix::fs::symlink(to, d.join(name)).unwrap();
    }
    let prog = tmp.join("link_targets");
    fs::copy(program("pola/link_targets"), &prog).unwrap();
    let mut argv = vec![prog.to_str().unwrap().to_string(), d.to_str().unwrap().to_string(), "plain".into()];
    argv.extend(links.iter().map(|(n, _)| n.to_string()));
    (argv, prog)
}

/// Names in the session's virtual directories that are none of their
/// entries (/nothere, /root/.cargo/bin/gcc, /etc/shadow...), which the
/// process answers itself (ENOENT, handler/src/beneath.rs `missing`), get
/// the answers the server gives (a session that learns, `--learn`, asks
/// it everything): every lookup, creations, mkdir, exec, `.`, `..`, `//`,
/// trailing slashes, and an execvp through a PATH of missing directories
/// (tests/programs/pola/missing_names.c).
#[test]
fn names_that_are_not_there_as_the_server_says() {
    let tmp = scratch("missing-names");
    let prog = tmp.path().join("missing_names");
    fs::copy(program("pola/missing_names"), &prog).unwrap();
    let r = Run::new(tmp.path(), &[prog.to_str().unwrap(), "/root/.local/bin/x"]).grant("--exec", &prog);
    let here = same_as_the_server(r, tmp.path());
    assert!(here.stdout_str().contains("/root/.cargo/bin/gcc: stat ENOENT"), "{}", here.report());
    assert!(here.stdout_str().contains("through a PATH of missing directories: status 0\n"), "{}", here.report());
}

/// A grant of the root itself (`--ro /`): every host name below it is
/// the grant's, not a name of a virtual directory. The process said ENOENT
/// in itself (beneath::missing) for every path outside the grants nested
/// in it (-B's /usr, /etc/passwd...): /var, /opt, this test's own binary,
/// where the server opens them.
#[test]
fn a_grant_of_the_root_hides_no_name_below_it() {
    let tmp = scratch("root-grant");
    let prog = tmp.path().join("missing_names");
    fs::copy(program("pola/missing_names"), &prog).unwrap();
    let me = std::env::current_exe().unwrap();
    let r = Run::new(tmp.path(), &[prog.to_str().unwrap(), me.to_str().unwrap()]).grant("--ro", Path::new("/")).grant("--exec", &prog);
    let here = same_as_the_server(r, tmp.path());
    let line = format!("{}: stat ok", me.display());
    assert!(here.stdout_str().contains(&line), "a name of the root grant is missing: {}", here.report());
}

/// Paths that end in an absolute symlink out of their grant (every
/// exec's /lib64/ld-linux-x86-64.so.2), which the process follows itself
/// (handler/src/pola.rs `absolute_link_target`): to a file of another
/// grant, a directory, -B's /etc/passwd, a chain of them, a loop (ELOOP),
/// a dangling one, one to a name the session does not have (/etc/shadow),
/// a relative one, with every kind of open and stat: the answers the
/// server gives (a session that learns, `--learn`, asks it everything).
#[test]
fn absolute_symlinks_out_of_a_grant_as_the_server_says() {
    let tmp = scratch("link-targets");
    let (d, other) = (tmp.dir("d"), tmp.dir("other"));
    fs::write(other.join("f"), "data\n").unwrap();
    let links = [
        ("to_passwd", "/etc/passwd".to_string()),
        ("to_other", other.join("f").display().to_string()),
        ("to_otherdir", other.display().to_string()),
        ("dangling", "/nothere/x".into()),
        ("to_shadow", "/etc/shadow".into()),
        ("chain1", d.join("chain2").display().to_string()),
        ("chain2", d.join("to_passwd").display().to_string()),
        ("loop1", d.join("loop2").display().to_string()),
        ("loop2", d.join("loop1").display().to_string()),
        ("to_usr", "/usr/bin/true".into()),
        ("relative", "../other/f".into()),
        ("to_ld", "/lib64/ld-linux-x86-64.so.2".into()),
    ];
    let (argv, prog) = link_targets(tmp.path(), &d, &links);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let r = Run::new(tmp.path(), &argv).grant("--ro", &d).grant("--ro", &other).grant("--exec", &prog);
    let here = same_as_the_server(r, tmp.path());
    assert!(here.stdout_str().contains("to_other: stat ok") && here.stdout_str().contains("[data ]"), "{}", here.report());
    assert!(here.stdout_str().contains("loop1: stat ELOOP"), "{}", here.report());
}

/// Absolute symlinks out of a grant to the names the handler answers for
/// itself (/proc/self/exe, cwd, root, fd/N, /dev/stdin, /dev/fd/N,
/// /dev/ptmx) or the session's procfs: the same answers whether the
/// process follows them or the server does (--learn), which since session
/// 21 are the handler's names' (the server answers ELSEWHERE, the handler
/// makes the call again with the target; they were ENOENT). Followed in
/// the process as plain paths beneath the session's procfs, stat through
/// a link to /proc/self/exe showed ld-preld, one to /proc/self/fd/N the
/// kernel's fd N (preld's own fds too, which the session does not have),
/// opens failed with ELOOP.
#[test]
fn absolute_symlinks_to_proc_and_dev_as_the_server_says() {
    let tmp = scratch("link-targets-proc");
    let d = tmp.dir("d");
    let links: Vec<(&str, String)> = [
        ("to_exe", "/proc/self/exe"),
        ("to_fd0", "/proc/self/fd/0"),
        ("to_fd3", "/proc/self/fd/3"),
        ("to_cwd", "/proc/self/cwd"),
        ("to_root_passwd", "/proc/self/root/etc/passwd"),
        ("to_status", "/proc/self/status"),
        ("to_stdin", "/dev/stdin"),
        ("to_dev_fd0", "/dev/fd/0"),
        ("to_ptmx", "/dev/ptmx"),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.to_string()))
    .collect();
    let (argv, prog) = link_targets(tmp.path(), &d, &links);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let r = Run::new(tmp.path(), &argv).grant("--ro", &d).grant("--exec", &prog);
    let here = r.session_ok();
    let learning = r.grant("--learn", &tmp.path().join("learned.toml")).session_ok();
    // (Each session has a procfs and a stand-in for its cwd of its own:
    // their inode numbers are the session's.)
    let own_inodes = |o: &Output| -> String {
        o.stdout_str()
            .lines()
            .map(|l| if l.starts_with("to_cwd:") || l.starts_with("to_status:") { l.split(' ').map(|w| if w.ends_with(',') || w.ends_with(')') { w.trim_start_matches(|c: char| c.is_ascii_digit()) } else { w }).collect::<Vec<_>>().join(" ") } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(own_inodes(&here), own_inodes(&learning), "answered in the process vs by the server");
    let out = here.stdout_str();
    assert!(out.contains("to_status: stat ok") && out.contains("[Name:\tlink_targets"), "{out}");
}

/// Paths that begin with `..` relative to a directory's fd (find's and
/// fts's way back up), which the process resolves from the grant's root
/// (the fd's place below it as the kernel keeps it), get the answers the
/// server gives (tests/programs/pola/climb.c): from a directory inside a
/// read-write grant, from its root (whose parent is a virtual directory),
/// from a nested read-only grant and back, through a symlink, from a
/// directory moved and one removed while held. Each run changes its tree,
/// so each has one of its own, named alike.
#[test]
fn climbing_from_a_directory_fd_as_the_server_says() {
    let tmp = scratch("climb");
    let tree = |d: &Path| {
        fs::create_dir_all(d.join("a/b/c")).unwrap();
        fs::create_dir_all(d.join("a/sealed/s")).unwrap();
        fs::write(d.join("a/b/f"), "f\n").unwrap();
        std::os::unix::fs::symlink("b", d.join("a/lnk")).unwrap();
    };
    let (here, learned) = in_process_and_by_server(&tmp, "climb", tree, |r, d| r.grant("--ro", &d.join("a/sealed")));
    assert_eq!(here, learned, "answered in the process vs by the server");
    assert!(here.contains("a/b .. O_DIRECTORY: b lnk sealed\n"), "{here}");
    assert!(here.contains("a/b ../lnk O_DIRECTORY: ENOTDIR\n"), "{here}");
    assert!(here.contains("moved c .. O_DIRECTORY: c\n"), "{here}");
}

/// `..` from a directory fd while another thread of the session moves
/// that directory between two parents (tests/programs/pola/
/// climb_renamed.c): natively, and through the server, whose renames and
/// walks take turns, the fd's parent is always one of them. Resolved in
/// the process from the grant's root through the directory's old path,
/// the open failed with ENOENT whenever the rename came between the look
/// at the fd's place and the open (some 10% of 5000 here).
#[test]
fn climbing_while_renamed_never_fails() {
    let tmp = scratch("climb-renamed");
    let tree = |d: &Path| {
        fs::create_dir_all(d.join("p1/x")).unwrap();
        fs::create_dir_all(d.join("p2")).unwrap();
        fs::write(d.join("p1/m"), "1\n").unwrap();
        fs::write(d.join("p2/m"), "2\n").unwrap();
    };
    let (here, learned) = in_process_and_by_server(&tmp, "climb_renamed", tree, |r, _| r);
    assert_eq!(learned, "failed 0\n", "the server's answers");
    assert_eq!(here, "failed 0\n", "answered in the process");
}

/// tests/programs/pola/PROG run on DIR, a tree `tree` makes, granted
/// read-write (with `more` grants), in a session and in one that learns
/// (whose server answers every path call): each run has a tree of its own
/// (the programs change theirs), at `side-in-process/d` and
/// `side-by-server/d`, each name given back as SIDE. The outputs, in that
/// order.
fn in_process_and_by_server(tmp: &Scratch, prog: &str, tree: impl Fn(&Path), more: impl Fn(Run, &Path) -> Run) -> (String, String) {
    let exe = tmp.path().join(prog);
    fs::copy(program(&format!("pola/{prog}")), &exe).unwrap();
    let run = |side: &str, learn: bool| -> String {
        let d = tmp.dir(side).join("d");
        tree(&d);
        let mut r = more(Run::new(tmp.path(), &[exe.to_str().unwrap(), d.to_str().unwrap()]).grant("--rw", &d).grant("--exec", &exe), &d);
        if learn {
            r = r.grant("--learn", &tmp.path().join("learned.toml"));
        }
        r.session_ok().stdout_str().replace(side, "SIDE")
    };
    (run("side-in-process", false), run("side-by-server", true))
}

/// The forms of exec in a session as natively (tests/programs/pola/
/// exec_forms.c): execveat beside a directory fd, AT_EMPTY_PATH, fexecve,
/// AT_FDCWD passed as an int through syscall(2) (0xffffff9c in its
/// register: the handler took it for a directory fd and failed with
/// EBADF), a relative `#!` interpreter, posix_spawn's and vfork's chdir.
#[test]
fn exec_forms_as_natively() {
    let tmp = scratch("exec-forms");
    let d = tmp.dir("dir");
    use std::os::unix::fs::PermissionsExt;
    fs::write(d.join("s.sh"), "#!/bin/sh\necho \"  0=$0 pwd=$(pwd) args=$*\"\n").unwrap();
    fs::write(d.join("r.sh"), "#!./s.sh\n").unwrap();
    fs::copy("/bin/sh", d.join("sh")).unwrap();
    for f in ["s.sh", "r.sh", "sh"] {
        fs::set_permissions(d.join(f), fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::os::unix::fs::symlink("s.sh", d.join("lnk")).unwrap();
    let prog = tmp.path().join("exec_forms");
    fs::copy(program("pola/exec_forms"), &prog).unwrap();
    let r = Run::new(tmp.path(), &[prog.to_str().unwrap(), d.to_str().unwrap()]).grant("--rw", tmp.path());
    let n = r.native_ok();
    assert!(n.stdout_str().contains("0=s.sh pwd=") && n.stdout_str().contains("execveat AT_FDCWD (int): status 0\n"), "native: {}", n.report());
    r.same("exec forms", true);
}

/// SIGCHLD ignored by preld's caller (Python's `signal(SIGCHLD, SIG_IGN)`,
/// a daemon that reaps nothing) is ignored in the program, as natively:
/// the launcher's own waits failed ("No child processes") and no session
/// started.
#[test]
fn sigchld_ignored_by_the_caller_stays_ignored_in_the_program() {
    use std::os::unix::process::CommandExt;
    let tmp = scratch("sigchld");
    let r = Run::new(tmp.path(), &["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]);
    let go = |session: bool| {
        let mut c = r.command(session);
        // SAFETY: signal(2) only, between fork and exec.
        unsafe {
            c.pre_exec(|| {
                libc::signal(libc::SIGCHLD, libc::SIG_IGN);
                Ok(())
            })
        };
        run_limited(c, LIMIT).unwrap()
    };
    let (n, s) = (go(false), go(true));
    let ignored = |o: &Output| o.stdout_str().lines().find_map(|l| l.strip_prefix("SigIgn:\t")).and_then(|m| u64::from_str_radix(m, 16).ok());
    assert!(ignored(&n).is_some_and(|m| m & 1 << (libc::SIGCHLD - 1) != 0), "native: {}", n.report());
    compare("SIGCHLD ignored by the caller", &r.shown(true), &n, &s, true);
}

/// Datagrams to Unix sockets named by path, in a read-write grant: sendto
/// and sendmsg reach them, a reply to the address recvfrom gave comes
/// back, as natively.
#[test]
fn unix_datagrams_to_socket_paths() {
    let tmp = scratch("dgram");
    let script = preld_tests::root().join("tests/programs/pola/unix_dgram.py");
    let dir = tmp.path().to_str().unwrap().to_string();
    let r = Run::new(tmp.path(), &["python3", script.to_str().unwrap(), &dir]).grant("--rw", tmp.path()).grant("--ro", script.parent().unwrap());
    r.same("unix datagrams", true);
}

/// -B's private /tmp, with a grant nested in it (this test's scratch
/// directory, below /tmp), which stands there on an empty directory made
/// for it: the process resolves /tmp's paths itself (beneath.rs
/// `usable_path`) only where that empty directory cannot be reached
/// (absolute paths that go down, through no symlink, into no nested grant;
/// no fd on /tmp's copy): a symlink in /tmp into the grant, an fd of /tmp
/// and `..` give the grant's own file, as the server does (a session that
/// learns, `--learn`, asks it everything).
#[test]
fn the_private_tmp_resolves_around_the_grants_nested_in_it() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("tmp-nested");
    let d = tmp.dir("d");
    fs::write(d.join("f"), "the grant's own\n").unwrap();
    let rel = d.strip_prefix("/tmp").unwrap().to_str().unwrap().to_string();
    let script = format!(
        r#"
import os, stat
rel = {rel:?}
def show(what, f):
    try:
        r = f()
    except OSError as e:
        r = 'error ' + (os.strerror(e.errno))
    print(what, r)
def kind(st):
    return 'dir' if stat.S_ISDIR(st.st_mode) else 'link' if stat.S_ISLNK(st.st_mode) else 'file size %d' % st.st_size
with open('/tmp/a', 'w') as f:
    f.write('in /tmp\n')
os.symlink(rel + '/f', '/tmp/into')
os.symlink('a', '/tmp/toa')
os.mkdir('/tmp/sub')
for p in ['/tmp/a', '/tmp/toa', '/tmp/into', '/tmp/' + rel + '/f', '/tmp/' + rel + '/../' + os.path.basename(rel) + '/f', '/tmp/./' + rel + '/f', '/tmp//' + rel + '//f', '/tmp/sub/../a', '/tmp/nothere']:
    show('open ' + p, lambda: open(p).read())
    show('stat ' + p, lambda: kind(os.stat(p)))
    show('lstat ' + p, lambda: kind(os.lstat(p)))
    show('access ' + p, lambda: os.access(p, os.R_OK))
    show('readlink ' + p, lambda: os.readlink(p))
t = os.open('/tmp', os.O_RDONLY | os.O_DIRECTORY)
show('beside /tmp open', lambda: os.read(os.open(rel + '/f', os.O_RDONLY, dir_fd=t), 100))
show('beside /tmp stat', lambda: kind(os.stat(rel + '/f', dir_fd=t)))
show('beside /tmp stat of the grant', lambda: sorted(os.listdir(os.open(rel, os.O_RDONLY | os.O_DIRECTORY, dir_fd=t))))
show('list /tmp', lambda: sorted(os.listdir('/tmp')))
show('list the grant', lambda: sorted(os.listdir('/tmp/' + rel)))
for p in ['/tmp/a', '/tmp/toa', '/tmp/into']:
    os.unlink(p)
os.rmdir('/tmp/sub')
"#
    );
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", &script]).grant("--rw", &d);
    let here = same_as_the_server(r, tmp.path());
    let out = here.stdout_str();
    assert!(out.contains("open /tmp/into the grant's own\n"), "{}", here.report());
    assert!(out.contains(&format!("open /tmp/./{rel}/f the grant's own\n")), "{}", here.report());
    assert!(out.contains(&format!("open /tmp//{rel}//f the grant's own\n")), "{}", here.report());
    assert!(out.contains("beside /tmp open b\"the grant's own\\n\""), "{}", here.report());
}

/// link of an fd's magic link itself (/proc/self/fd/N, /dev/fd/N,
/// /dev/stdin without AT_SYMLINK_FOLLOW): natively EXDEV (the link is
/// procfs's or devtmpfs's), ENOENT for an fd not open. The server, given
/// the fd, could not tell it from an empty name: ENOTDIR (session-16
/// adversary).
#[test]
fn a_link_of_an_fd_s_magic_link_as_natively() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-link");
    let out = tmp.dir("out");
    let script = format!(
        r#"
import os
fd = os.open('/etc/passwd', os.O_RDONLY)
for name in ['/proc/self/fd/%d' % fd, '/dev/fd/%d' % fd, '/dev/stdin', '/proc/self/fd/999']:
    try:
        os.link(name, {to:?}, follow_symlinks=False)
        print(name.replace(str(fd), 'N'), 'linked')
    except OSError as e:
        print(name.replace(str(fd), 'N'), e.strerror)
"#,
        to = out.join("l").to_str().unwrap()
    );
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", &script]).grant("--rw", &out);
    let s = r.same("link of /proc/self/fd/N", true);
    assert!(s.stdout_str().contains("/proc/self/fd/N Invalid cross-device link"), "{}", s.report());
}

/// rename's own answers before a grant's root counts as a mount point, as
/// natively (where the grant is a plain directory): a grant's root onto
/// itself does nothing; a directory moved into itself is EINVAL, onto
/// the grant's root holding it ENOTEMPTY, with RENAME_NOREPLACE onto
/// itself EEXIST; a file onto its own hard link does nothing. The server
/// answered EBUSY to all but the last (the root is the session's mount
/// point).
#[test]
fn rename_s_own_answers_come_before_a_grant_s_root_is_busy() {
    let tmp = scratch("rename-self");
    let d = tmp.dir("d");
    fs::create_dir(d.join("sub")).unwrap();
    write(&d.join("f"), "f\n");
    fs::hard_link(d.join("f"), d.join("g")).unwrap();
    let body = r#"
def t(a, b, flags=0):
    r = libc.renameat2(-100, (d + a).encode(), -100, (d + b).encode(), flags)
    print(repr(a), '->', repr(b), flags, 'ok' if r == 0 else os.strerror(ctypes.get_errno()))
for a, b in [('', ''), ('/sub', '/sub'), ('/sub', ''), ('/', '/sub/x'), ('', '/sub/x'), ('/f', '/g'), ('/f', '/f')]:
    t(a, b)
t('', '', 1)
t('/sub', '', 2)
print(sorted(os.listdir(d)))
"#;
    renames_as_natively(&tmp, &d, body, "rename onto itself and its ancestors", "'' -> '' 0 ok\n");
}

/// `body` (Python, with `os`, `libc` and the directory `d` defined) run
/// natively and in a session granted `d` read-write: the same output,
/// which begins with `first`.
fn renames_as_natively(tmp: &Scratch, d: &Path, body: &str, label: &str, first: &str) {
    let py = require_file("/usr/bin/python3", "python3");
    let script = format!("import ctypes, os, shutil\nlibc = ctypes.CDLL(None, use_errno=True)\nd = {:?}\n{body}", d.to_str().unwrap());
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", &script]).grant("--rw", d);
    let s = r.same(label, true);
    assert!(s.stdout_str().starts_with(first), "{}", s.report());
}

/// rename's answers in the order the kernel gives them, as natively:
/// RENAME_EXCHANGE with RENAME_NOREPLACE is EINVAL (the server said
/// EEXIST), with no target ENOENT before the target is looked for inside
/// the source (EINVAL); a last name with a trailing slash that is a
/// symlink is ENOTDIR (the server followed it: a directory moved onto
/// `le/`, a symlink to an empty directory, replaced that directory, and
/// `le/` renamed the directory it names). Session-17 adversary.
#[test]
fn rename_answers_in_the_kernel_s_order() {
    let tmp = scratch("rename-order");
    let d = tmp.dir("d");
    let body = r#"
def fresh():
    for n in os.listdir(d):
        p = os.path.join(d, n)
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    os.makedirs(d + '/s/t'); os.mkdir(d + '/x'); os.mkdir(d + '/e'); os.symlink('e', d + '/le')
    open(d + '/a', 'w').close(); open(d + '/b', 'w').close(); os.symlink('b', d + '/lb')
def t(a, b, flags=0):
    fresh()
    r = libc.renameat2(-100, (d + a).encode(), -100, (d + b).encode(), flags)
    print(repr(a), '->', repr(b), flags, 'ok' if r == 0 else os.strerror(ctypes.get_errno()), sorted(os.listdir(d)))
t('/a', '/b', 3)
t('/a', '/a', 3)
t('/s', '/s/missing', 2)
t('/s', '/s/t', 2)
t('/x', '/le/')
t('/le/', '/y')
t('/a', '/lb/')
t('/s', '/le/')
t('/e', '/le/')
"#;
    renames_as_natively(&tmp, &d, body, "rename's answers in the kernel's order", "'/a' -> '/b' 3 Invalid argument");
}

/// Metadata changes of a file named by its fd's magic link
/// (`/proc/self/fd/N`, `/dev/fd/N`: glibc's fchmodat and fchownat with
/// AT_SYMLINK_NOFOLLOW go there through an O_PATH fd, Python's
/// `os.chmod(follow_symlinks=False)`), or by the fd with AT_EMPTY_PATH and
/// "" (fchmodat2, utimensat), answer as natively; fchmod and fchown of an
/// O_PATH fd are EBADF. The server took the fd as a directory with an
/// empty name (ENOTDIR); fchmodat2 and utimensat with "" were ENOENT; fchmod
/// and fchown of an O_PATH fd changed the file. Session-17b adversary (the
/// seccomp filter now sends every metadata change by a path to the
/// server). As root and as nobody, in a read-write grant.
const FD_METADATA_PY: &str = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
for n in os.listdir('.'):
    os.unlink(n)
open('h', 'w').close()
os.chmod('h', 0o644)
os.utime('h', (100, 100))
def t(what, fn):
    try:
        r = fn()
        if isinstance(r, int) and r < 0:
            print(what, os.strerror(ctypes.get_errno()))
        else:
            print(what, 'ok')
    except OSError as e:
        print(what, e.strerror)
    st = os.stat('h')
    print('   ', oct(st.st_mode), st.st_mtime)
def with_fd(flags, f):
    fd = os.open('h', flags)
    try:
        return f(fd)
    finally:
        os.close(fd)
t('chmod nofollow', lambda: os.chmod('h', 0o600, follow_symlinks=False))
t('chown nofollow', lambda: os.chown('h', -1, os.getgid(), follow_symlinks=False))
t('chmod proc fd', lambda: with_fd(os.O_PATH, lambda fd: os.chmod('/proc/self/fd/%d' % fd, 0o640)))
t('chmod dev fd', lambda: with_fd(os.O_RDONLY, lambda fd: os.chmod('/dev/fd/%d' % fd, 0o641)))
t('chown proc fd', lambda: with_fd(os.O_PATH, lambda fd: os.chown('/proc/self/fd/%d' % fd, -1, os.getgid())))
t('utime proc fd', lambda: with_fd(os.O_PATH, lambda fd: os.utime('/proc/self/fd/%d' % fd, (7, 8))))
t('fchmodat2 empty', lambda: with_fd(os.O_PATH, lambda fd: libc.syscall(452, fd, b'', 0o604, 0x1000)))
t('utimensat empty', lambda: with_fd(os.O_PATH, lambda fd: libc.syscall(280, fd, b'', (ctypes.c_long * 4)(9, 0, 10, 0), 0x1000)))
t('fchmod opath', lambda: with_fd(os.O_PATH, lambda fd: libc.fchmod(fd, 0o666)))
t('fchown opath', lambda: with_fd(os.O_PATH, lambda fd: libc.fchown(fd, 0, 0)))
"#;

#[test]
fn metadata_changes_through_an_fd_s_magic_link_answer_as_natively() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-metadata");
    let d = tmp.dir("d");
    let dir = d.to_str().unwrap();
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", FD_METADATA_PY, dir]).grant("--rw", &d);
    let s = r.same("metadata changes through an fd, as root", true);
    assert!(s.stdout_str().contains("chmod proc fd ok\n"), "{}", s.report());
    let n = Nobody::new("fd-metadata-nobody");
    let out = n.tmp.join("out");
    let r = n.run(&[py.to_str().unwrap(), "-c", FD_METADATA_PY, out.to_str().unwrap()]).grant("--rw", &out);
    r.same("metadata changes through an fd, as nobody", true);
}

/// access of an fd's magic link (`/proc/self/fd/N`, `/dev/fd/N`,
/// `/dev/stdin`, `stdin` from /dev) looks at the fd's file, as natively
/// (the server took the fd as a directory with an empty name: false), and
/// lstat of `self/exe`, `self/fd/0`, `self/cwd` from a cwd of /proc is the
/// link's, as of `/proc/self/exe` (it was the file's or directory's it
/// names: the relative name was not joined to the cwd before the handler
/// looked for its links). Session-17b adversary.
#[test]
fn access_and_lstat_of_fd_links_answer_as_natively() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-link-access");
    let script = r#"
import os, stat
def t(what, fn):
    try:
        print(what, fn())
    except OSError as e:
        print(what, e.strerror)
kind = lambda n: stat.S_IFMT(os.lstat(n).st_mode)
r, w = os.pipe()
for n in ['/proc/self/fd/%d' % r, '/dev/fd/%d' % w, '/dev/stdin', '/proc/self/fd/1']:
    t('access ' + n, lambda: (os.access(n, os.R_OK), os.access(n, os.W_OK), os.access(n, os.F_OK)))
os.chdir('/proc')
for n in ['self/exe', 'self/fd/0', 'self/cwd', 'self/fd/%d' % r]:
    t('lstat ' + n, lambda: kind(n))
    t('access ' + n, lambda: os.access(n, os.R_OK))
os.chdir('/dev')
for n in ['stdin', 'fd/%d' % w]:
    t('access ' + n, lambda: (os.access(n, os.R_OK), os.access(n, os.W_OK)))
"#;
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", script]);
    let s = r.same("access and lstat of fd links", true);
    assert!(s.stdout_str().contains("lstat self/exe 40960\n"), "{}", s.report());
}

/// The directories down to the current one list their next name.
#[test]
fn tmp_lists_the_way_to_the_current_directory() {
    let tmp = scratch("ls-tmp");
    let base = tmp.path();
    let w = tmp.dir("w");
    let o = Run::new(base, &["ls", "-a", "/tmp"]).grant("--rw", &w).session_ok();
    let top = base.strip_prefix("/tmp").unwrap().components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    assert_eq!(o.stdout_str(), format!(".\n..\n{top}\n"), "`ls -a /tmp` in a session");
}

/// find opens each directory relative to its parent's fd.
#[test]
fn find_walks_the_base() {
    let tmp = scratch("find");
    let o = Run::new(tmp.path(), &["find", "/dev", "/etc", "-maxdepth", "1"]).session_ok();
    let mut got: Vec<&str> = o.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| std::str::from_utf8(l).unwrap()).collect();
    got.sort();
    // /etc: the first names of -B's /etc grants (`preld pola --help` lists them).
    let help = base_help();
    let mut want: Vec<String> = vec!["/dev".into(), "/etc".into()];
    for p in help.split_whitespace().filter(|p| p.starts_with("/etc/") && Path::new(p).exists()) {
        let first = format!("/etc/{}", p["/etc/".len()..].split('/').next().unwrap());
        if !want.contains(&first) {
            want.push(first);
        }
    }
    want.extend(["/dev/full", "/dev/null", "/dev/random", "/dev/tty", "/dev/urandom", "/dev/zero"].into_iter().filter(|p| Path::new(p).exists()).map(String::from));
    want.push("/dev/pts".into()); // the session's own
    want.push("/dev/shm".into()); // the session's own
    want.sort();
    assert_eq!(got, want, "`find /dev /etc` in a session");
}

/// A virtual directory's fd, listed twice through dups (os.listdir(fd)).
#[test]
fn a_virtual_directory_s_fd_lists_the_same_twice() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("listdir");
    let script = "import os; d = os.open('/dev', os.O_RDONLY | os.O_DIRECTORY); \
                  print(sorted(os.listdir(d)) == sorted(os.listdir(d)) == sorted(os.listdir('/dev')) != [])";
    let o = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", script]).session_ok();
    assert_eq!(o.stdout_str(), "True\n", "os.listdir of a virtual directory's fd");
}

#[test]
fn a_shell_changes_directory_then_runs_programs() {
    let tmp = scratch("cd");
    let base = tmp.path().to_path_buf();
    write(&base.join("a/b/file.txt"), "in b\n");
    fs::create_dir(base.join("out")).unwrap();
    let script = "cd a; /bin/pwd; cat b/file.txt; cd b && /bin/pwd && ls; \
                  (cd .. && /bin/pwd); sh -c '/bin/pwd; cd ..; /bin/pwd'; cd ../../out && touch made && ls";
    let o = Run::new(&base, &["/bin/sh", "-c", script]).here().grant("--rw", &base.join("out")).same("sh cd", true);
    assert!(o.stdout_str().contains("/a/b\nfile.txt\n"), "{}", o.stdout_str());
}

/// Run from /tmp itself: -B's private /tmp and the current directory are
/// the same name; the private one wins and the session starts there.
#[test]
fn a_session_started_in_tmp_starts_in_its_private_tmp() {
    let o = Run::new(Path::new("/tmp"), &["/bin/sh", "-c", "pwd; touch x && ls"]).session_ok();
    assert_eq!(o.stdout_str(), "/tmp\nx\n", "a session started in /tmp");
}


const NOBODY: u32 = 65534;

/// The sessions of an ordinary user: the confinement (namespaces, no
/// capabilities, Landlock, seccomp) needs no privilege, and programs run as
/// they do natively for that user. A scratch dir everyone may read, with
/// bin/preld (and ld-preld), hello.c, and out-native/ and out/ everyone may
/// write; and `run`, to make a Run as nobody.
struct Nobody {
    tmp: Scratch,
    preld: PathBuf,
}

impl Nobody {
    fn new(name: &str) -> Nobody {
        use std::os::unix::fs::PermissionsExt;
        let tmp = scratch(name);
        let base = tmp.path();
        fs::set_permissions(base, fs::Permissions::from_mode(0o755)).unwrap();
        let preld = preld_for_everyone(&tmp.dir("bin"));
        write(&base.join("hello.c"), HELLO_C);
        for d in ["out-native", "out"] {
            let d = tmp.dir(d);
            fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).unwrap();
        }
        Nobody { tmp, preld }
    }

    fn run(&self, argv: &[&str]) -> Run {
        Run::new(self.tmp.path(), argv).as_user(NOBODY, &self.preld)
    }

    /// gcc as nobody: out-native/hello natively, out/hello in a session.
    fn build_hello(&self) {
        require_tool("gcc", "gcc");
        self.run(&["gcc", "-O2", "-o", "out-native/hello", "hello.c", "-lm"]).native_ok();
        self.run(&["gcc", "-O2", "-o", "out/hello", "hello.c", "-lm"]).here().grant("--rw", &self.tmp.join("out")).session_ok();
    }
}

#[test]
fn gcc_as_nobody_in_a_session_makes_the_native_executable() {
    use std::os::unix::fs::MetadataExt;
    let n = Nobody::new("nobody-gcc");
    n.build_hello();
    let (on, os_) = (n.tmp.join("out-native"), n.tmp.join("out"));
    assert_eq!(fs::read(os_.join("hello")).unwrap(), fs::read(on.join("hello")).unwrap(), "gcc as nobody in a session");
    assert_eq!(fs::metadata(os_.join("hello")).unwrap().uid(), NOBODY, "the session's files belong to its user");
}

#[test]
fn a_program_runs_as_nobody_in_a_second_session() {
    let n = Nobody::new("nobody-run");
    n.build_hello();
    let native = n.run(&["out-native/hello", "world", "abcde"]).native();
    let s = n.run(&["out/hello", "world", "abcde"]).grant("--exec", &n.tmp.join("out")).session();
    compare("out/hello as nobody in a second session", "out/hello", &native, &s, true);
}

/// The user's own ids inside, a shell writing in its grant.
#[test]
fn a_shell_as_nobody_has_its_own_ids() {
    let n = Nobody::new("nobody-sh");
    let script = "id -u; id -g; cd out && echo made > f && cat f && rm f && ls -a";
    n.run(&["/bin/sh", "-c", script]).grant("--rw", &n.tmp.join("out")).same("sh as nobody", true);
}

/// The owners of others' files as natively: the session's user namespace
/// maps only nobody's ids, so the kernel showed root's /usr as 65534 to
/// stat by path (ls, stat), stat beside a directory fd (tar, find) and
/// fstat (tar's header, Go's File.Stat); the server tells the real ones
/// (handler/src/owners.rs). A file it cannot tell the owners of (the
/// session's procfs) comes first: marked by device, it left every later
/// file of ld-preld's device unfixed.
#[test]
fn others_files_show_their_owners_as_nobody() {
    let n = Nobody::new("nobody-owners");
    let py = require_file("/usr/bin/python3", "python3");
    let script = format!(
        "stat /proc/sys/kernel/ostype >/dev/null; ls -ln /usr/bin/ls /etc/passwd /usr/include/stdio.h; stat -c '%u:%g %n' /usr/bin /usr/include /usr/bin/sh; \
         find /usr/include/linux -maxdepth 1 -name 'a*' -printf '%U:%G %p\\n'; \
         tar cf - /usr/include/linux 2>/dev/null | tar tvf -; \
         {} -c 'import os; f = open(\"/usr/bin/ls\", \"rb\"); print(os.fstat(f.fileno()).st_uid, os.stat(\"/usr/lib\").st_gid)'",
        py.display()
    );
    let r = n.run(&["/bin/sh", "-c", &script]);
    let native = r.native_ok();
    assert!(native.stdout_str().contains(" 0 0 "), "native: {}", native.report());
    r.same("owners as nobody", true);
}

/// stat and lstat by absolute path as an ordinary user (the session stat
/// gate, arch `fast_gate_session_stat`, which now looks up the owners the
/// user namespace shows as the overflow id in the session's owners table,
/// as the stat gate beside a directory fd does; before, every such stat
/// of another user's file went to the handler gate)
/// (`programs/pola/stat_owners.c`, each path three times: the first may
/// fill the table): root's files, directories and symlinks beneath /usr,
/// a file of uid 1000's, one of nobody's own, a directory of root's with
/// nobody's group, a missing name, a name below a file: as natively,
/// dynamic and static.
#[test]
fn stats_by_path_of_others_files_as_nobody_as_natively() {
    use std::os::unix::fs::{chown, symlink, PermissionsExt};
    let n = Nobody::new("nobody-stat-gate");
    let d = n.tmp.dir("own");
    fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    for (name, uid, gid) in [("theirs", 1000, 1000), ("mine", NOBODY, NOBODY), ("roots", 0, 0)] {
        let f = d.join(name);
        write(&f, name);
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        chown(&f, Some(uid), Some(gid)).unwrap();
    }
    let mixed = d.join("mixed");
    fs::create_dir(&mixed).unwrap();
    chown(&mixed, Some(0), Some(NOBODY)).unwrap();
    symlink("theirs", d.join("link")).unwrap();
    let bin = n.tmp.dir("progs");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let own = |name: &str| d.join(name).to_str().unwrap().to_string();
    let paths = [
        "/usr/bin".to_string(),
        "/usr/bin/ls".to_string(),
        "/usr/include/stdio.h".to_string(),
        "/usr/lib/x86_64-linux-gnu".to_string(),
        "/usr/lib64/ld-linux-x86-64.so.2".to_string(),
        "/usr/nonexistent".to_string(),
        "/usr/bin/ls/x".to_string(),
        own("theirs"),
        own("mine"),
        own("roots"),
        own("mixed"),
        own("link"),
    ];
    for prog in ["stat_owners", "stat_owners-static"] {
        let p = bin.join(prog);
        fs::copy(program(&format!("pola/{prog}")), &p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        let mut argv = vec![p.to_str().unwrap()];
        argv.extend(paths.iter().map(String::as_str));
        let out = n.run(&argv).grant("--ro", &d).same(&format!("{prog} as nobody"), true);
        let out = out.stdout_str();
        assert!(out.contains("stat /usr/bin/ls: uid 0 gid 0 file") && out.contains("/own/theirs: uid 1000 gid 1000 file"), "{prog}: {out}");
    }
}

/// Owners of others' files in a grant as natively, each way the session
/// may name them (from the session-13 adversary): hard links, symlinks
/// (lstat and stat), a FIFO, nobody's file with root's group, a
/// directory of 20,000 files past the server's 16,384 (by path, beside
/// a directory fd, fstat), and files on mounts below the grant (a tmpfs,
/// a bind mount): the server said EXDEV for those (not on the grant's
/// own copy) and they showed 65534.
#[test]
fn others_files_in_a_grant_and_on_mounts_below_it_show_their_owners() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let n = Nobody::new("nobody-owners-mounts");
    let d = n.tmp.dir("own");
    let chown = |p: &Path, u: u32, g: u32| std::os::unix::fs::lchown(p, Some(u), Some(g)).unwrap();
    write(&d.join("f1234"), "b\n");
    chown(&d.join("f1234"), 1234, 1234);
    write(&d.join("nobody_root"), "c\n");
    chown(&d.join("nobody_root"), NOBODY, 0);
    fs::create_dir(d.join("sub")).unwrap();
    fs::hard_link(d.join("f1234"), d.join("sub/hardlink")).unwrap();
    symlink("f1234", d.join("link_root")).unwrap();
    symlink("nobody_root", d.join("link1234")).unwrap();
    chown(&d.join("link1234"), 1234, 1234);
    let fifo = std::ffi::CString::new(d.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path of ours.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    chown(&d.join("fifo"), 77, 77);
    fs::create_dir(d.join("big")).unwrap();
    for i in 0..20_000u32 {
        let f = d.join(format!("big/f{i:05}"));
        fs::File::create(&f).unwrap();
        chown(&f, 1000 + i % 7, 2000 + i % 5);
    }
    for sub in ["tm", "bsrc", "bind"] {
        fs::create_dir(d.join(sub)).unwrap();
    }
    write(&d.join("bsrc/b"), "y\n");
    chown(&d.join("bsrc/b"), 4321, 4321);
    struct Mounts(Vec<PathBuf>);
    impl Drop for Mounts {
        fn drop(&mut self) {
            for m in self.0.iter().rev() {
                let _ = Command::new("umount").arg(m).status();
            }
        }
    }
    let mut mounts = Mounts(Vec::new());
    let tm = d.join("tm");
    assert!(Command::new("mount").args(["-t", "tmpfs", "tmpfs"]).arg(&tm).status().unwrap().success());
    mounts.0.push(tm.clone());
    let bind = d.join("bind");
    assert!(Command::new("mount").arg("--bind").arg(d.join("bsrc")).arg(&bind).status().unwrap().success());
    mounts.0.push(bind);
    fs::set_permissions(&tm, fs::Permissions::from_mode(0o755)).unwrap();
    write(&tm.join("t"), "x\n");
    chown(&tm.join("t"), 1234, 1234);
    for p in ["", "sub", "big"] {
        fs::set_permissions(d.join(p), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let py = require_file("/usr/bin/python3", "python3");
    let script = format!(
        "cd own; stat -c '%u:%g %n' f1234 nobody_root sub/hardlink fifo tm/t bind/b big/f00000 big/f19999 big/f16384; \
         stat -L -c 'L %u:%g %n' link_root link1234; stat -c 'l %u:%g %n' link_root link1234; \
         ls -ln . sub tm bind | sort; find . -path ./big -prune -o -printf '%U:%G %p\\n' | sort; \
         find big -name 'f1999*' -printf '%U:%G %p\\n' | sort; \
         {} -c 'import os; fs = [open(p) for p in (\"tm/t\", \"bind/b\", \"big/f19998\", \"sub/hardlink\")]; print([os.fstat(f.fileno()).st_uid for f in fs])'",
        py.display()
    );
    let r = n.run(&["/bin/sh", "-c", &script]).grant("--ro", &d);
    let native = r.native_ok();
    assert!(native.stdout_str().contains("1234:1234 tm/t\n"), "native: {}", native.report());
    r.same("owners in a grant and on mounts below it, as nobody", true);
}

/// The owners table holds no file outside the grants (as nobody): a grant
/// of a subdirectory of a tree of others' files, walked by tar, find and
/// ls -R, and named `..` from each directory beside it (the walker climbs
/// with `..` to where the walk began, never past the grant's copy's root);
/// then a process of the session reads the whole table (it maps it
/// read-only) and finds none of the files around the grant: its parent,
/// its siblings and theirs.
#[test]
fn the_owners_table_holds_nothing_from_outside_the_grants() {
    use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};
    fn walk_all(d: &Path) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                v.extend(walk_all(&p));
            }
            v.push(p);
        }
        v
    }
    let n = Nobody::new("nobody-owners-bounds");
    let top = n.tmp.dir("tree");
    let mut k = 0u32;
    for d in ["outside/a", "outside/b/c", "granted/d0/e", "granted/d1", "granted/d2/f/g"] {
        fs::create_dir_all(top.join(d)).unwrap();
        for f in 0..6 {
            let p = top.join(d).join(format!("f{f}"));
            write(&p, "x\n");
            k += 1;
            lchown(&p, Some([0, 1234, 4321][k as usize % 3]), Some(k % 5)).unwrap();
        }
    }
    for e in walk_all(&top) {
        if e.is_dir() {
            fs::set_permissions(&e, fs::Permissions::from_mode(0o755)).unwrap();
            lchown(&e, Some(77), Some(77)).unwrap();
        }
    }
    let granted = top.join("granted");
    let outside: Vec<String> = std::iter::once(top.clone())
        .chain(walk_all(&top).into_iter().filter(|p| !p.starts_with(&granted)))
        .map(|p| fs::symlink_metadata(&p).unwrap())
        .map(|m| format!("{}:{}", m.dev(), m.ino()))
        .collect();
    assert!(outside.len() > 12);
    let scan = "import array, ctypes, os, sys\n\
                os.lstat('d1/f0')\n\
                lo = hi = 0\n\
                for l in open('/proc/self/maps'):\n    \
                    if 'preld-owners' in l: lo, hi = (int(x, 16) for x in l.split()[0].split('-'))\n\
                t = array.array('Q', ctypes.string_at(lo, hi - lo)) if lo else []\n\
                seen = {(t[k + 1], t[k + 2]) for k in range(0, len(t), 4) if t[k]}\n\
                ids = {tuple(map(int, a.split(':'))) for a in sys.argv[1:]}\n\
                print('table', 'mapped' if lo else 'missing', 'owners', len(seen) >= 24, 'outside', sorted(seen & ids))\n";
    let py = require_file("/usr/bin/python3", "python3");
    let script = format!(
        "cd tree/granted && tar cf /dev/null . && find . -printf '%U:%G' >/dev/null && ls -lnR . >/dev/null && \
         for d in $(find . -type d); do (cd $d && ls -ln .. >/dev/null); done; sleep 1; {} -c \"$0\" \"$@\"",
        py.display()
    );
    let mut argv = vec!["/bin/sh", "-c", &script, scan];
    argv.extend(outside.iter().map(String::as_str));
    let out = n.run(&argv).grant("--ro", &granted).session_ok();
    assert_eq!(out.stdout_str(), "table mapped owners True outside []\n", "{}", out.report());
}

/// A walk of a tree of others' files shows each one's owners as natively
/// (tar, find, ls -R, as nobody): the server's walker writes them into
/// the session's owners table ahead of the walk, depth first as tar and
/// fts walk, and the fast path's stat gate finds them there. Owners of
/// every kind (root's, nobody's, ids with no name), directories of other
/// owners, a directory large enough for the walker to keep its listing,
/// symlinks. A second walk in the session finds every owner in the table:
/// few fixed by the handler, none asked of the server (PRELD_STATS=1's
/// count).
#[test]
fn a_walk_of_others_files_finds_their_owners_in_the_session_s_table() {
    use std::os::unix::fs::{lchown, symlink};
    let n = Nobody::new("nobody-owners-walk");
    let top = n.tmp.dir("tree");
    fs::set_permissions(&top, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let uids = [0u32, 1234, NOBODY, 4321];
    let gids = [0u32, 27, 100, 4321];
    let mut k = 0usize;
    let mut files = 0usize;
    for a in 0..4 {
        for b in 0..5 {
            let d = top.join(format!("d{a}/s{b}"));
            fs::create_dir_all(&d).unwrap();
            for f in 0..20 {
                let p = d.join(format!("f{f:02}"));
                write(&p, "x\n");
                lchown(&p, Some(uids[k % 4]), Some(gids[k / 4 % 4])).unwrap();
                k += 1;
                files += 1;
            }
            symlink("f00", d.join("link")).unwrap();
            lchown(d.join("link"), Some(4321), Some(0)).unwrap();
            lchown(&d, Some(77), Some(77)).unwrap();
        }
    }
    let big = top.join("d0/big");
    fs::create_dir(&big).unwrap();
    for f in 0..100 {
        let p = big.join(format!("b{f:03}"));
        write(&p, "");
        lchown(&p, Some(uids[f % 4]), Some(gids[f % 3])).unwrap();
        files += 1;
    }
    let r = n
        .run(&[
            "/bin/sh",
            "-c",
            "cd tree && tar cf - --numeric-owner . | tar tvf - --numeric-owner | sort; find . -printf '%U:%G %y %p\n' | sort; ls -lnR . ",
        ])
        .grant("--ro", &top);
    let native = r.native_ok();
    assert!(native.stdout_str().contains("4321:4321 f ./d3/s4/f19\n"), "native: {}", native.report());
    r.same("owners of a walked tree, as nobody", false);
    // Walked again by another process of the same session: from the table.
    let again = n
        .run(&["/bin/sh", "-c", "cd tree && find . -printf '%U' >/dev/null && PRELD_STATS=1 find . -printf '%U:%G %p\n' | sort"])
        .grant("--ro", &top)
        .session_ok();
    let err = again.stderr_str();
    let count = |what: &str| -> u64 {
        err.split(what).nth(1).and_then(|s| s.trim_start().split(|c: char| !c.is_ascii_digit()).next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no `{what}` in PRELD_STATS's report: {err}"))
    };
    let (fixed, asked) = (count("owners fixed by the handler"), count("asked of the server"));
    // (A bucket of the table may lose a file to a third one: asked again.)
    assert!(asked <= 2, "the second walk asked the server {asked} times: {err}");
    if preld_tests::fast_env().is_empty() {
        // (The handler's: the first stat beside each directory fd, which
        // find dups; stats by path.)
        assert!(fixed < files as u64 / 5, "the second walk's owners ({files} files) were fixed by the handler {fixed} times, not found by the stat gate: {err}");
    }
}

/// fstat of fds a session of nobody inherited from outside (`--fd 3`,
/// its stdin), host files of others: the server said EXDEV (on no grant)
/// and they showed 65534; now it tells an fd's own owners wherever it lies
/// (never a listing of its directory).
#[test]
fn owners_of_inherited_fds_as_nobody() {
    let setpriv = require_tool("setpriv", "util-linux");
    let n = Nobody::new("nobody-owners-fds");
    let d = n.tmp.path();
    write(&d.join("f1234"), "b\n");
    std::os::unix::fs::chown(d.join("f1234"), Some(1234), Some(1234)).unwrap();
    write(&d.join("f4321"), "c\n");
    std::os::unix::fs::chown(d.join("f4321"), Some(4321), Some(54)).unwrap();
    let py = require_file("/usr/bin/python3", "python3");
    let code = "import os; print(os.fstat(3).st_uid, os.fstat(3).st_gid, os.fstat(0).st_uid, os.fstat(0).st_gid)";
    let run = |session: bool| {
        let preld = if session { format!("{} pola -B --fd 3 --", shell_quote(n.preld.as_os_str())) } else { String::new() };
        let line = format!(
            "exec 3<f1234 <f4321; exec {} --reuid={NOBODY} --regid={NOBODY} --clear-groups {preld} {} -c '{code}'",
            shell_quote(setpriv.as_os_str()),
            shell_quote(py.as_os_str())
        );
        let mut c = Command::new("/bin/sh");
        c.args(["-c", &line]).env_clear().envs(ENV).envs(preld_tests::fast_env()).current_dir(d);
        run_limited(c, Duration::from_secs(60)).unwrap()
    };
    let (native, session) = (run(false), run(true));
    assert_eq!(String::from_utf8_lossy(&native.stdout), "1234 1234 4321 54\n", "native: {}", native.report());
    assert_eq!(native.stdout, session.stdout, "session: {}", session.report());
}

#[test]
fn python3_as_nobody_writes_its_result() {
    let n = Nobody::new("nobody-py");
    let (on, os_) = (n.tmp.join("out-native"), n.tmp.join("out"));
    let py = require_file("/usr/bin/python3", "python3");
    let code = "import os, json; json.dump(sorted(os.listdir('.')), open('out/r.json', 'w')); print(os.getuid(), open('hello.c').read().count('\\n'))";
    let native = n.run(&[py.to_str().unwrap(), "-c", code]).native_ok();
    fs::rename(os_.join("r.json"), on.join("r.json")).unwrap();
    let s = n.run(&[py.to_str().unwrap(), "-c", code]).here().grant("--rw", &os_).session_ok();
    assert_eq!(native.stdout, s.stdout, "python3 as nobody");
    assert_eq!(fs::read(os_.join("r.json")).unwrap(), fs::read(on.join("r.json")).unwrap());
}

/// An interactive shell on a terminal: bash -i puts itself in a process
/// group of its own and makes it the terminal's foreground (tcsetpgrp) as
/// natively; with that refused it stopped itself for good.
#[test]
fn an_interactive_shell_on_a_terminal() {
    let script = require_tool("script", "bsdutils");
    let tmp = scratch("tty");
    let line = "/bin/bash --norc --noprofile -i -c 'echo interactive; exit 3'";
    let mut native = Command::new(&script);
    native.args(["-qec", line, "/dev/null"]).env_clear().envs(ENV).envs(preld_tests::fast_env()).current_dir(tmp.path());
    let n = run_limited(native, Duration::from_secs(20)).unwrap();
    let mut session = Command::new(&script);
    let cmd = format!("{} pola -B -- {line}", shell_quote(preld().as_os_str()));
    session.args(["-qec", &cmd, "/dev/null"]).env_clear().envs(ENV).envs(preld_tests::fast_env()).current_dir(tmp.path());
    let s = run_limited(session, Duration::from_secs(20)).unwrap_or_else(|e| panic!("`{cmd}` under script: {e}"));
    assert_eq!(n.status.code(), Some(3), "native: {}", n.report());
    assert_eq!(s.status.code(), Some(3), "session: {}", s.report());
    assert!(String::from_utf8_lossy(&s.stdout).contains("interactive"), "session: {}", s.report());
}

/// A user at a terminal: a program in a session reads what is typed, ^C
/// ends it, ^Z stops it and fg continues it, and a shell in a session has
/// job control of its own (the session's pty, relayed by the launcher).
#[test]
fn job_control_on_the_session_terminal() {
    let py = require_file("/usr/bin/python3", "python3");
    let script = root().join("tests/programs/pola/job_control.py");
    let mut c = Command::new(py);
    c.arg(&script).arg(preld());
    let o = run_limited(c, Duration::from_secs(120)).unwrap();
    assert!(o.status.success(), "{}", o.report());
}

/// Processes whose command line holds `marker` (NUL-separated arguments).
fn processes_with(marker: &[u8]) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.windows(marker.len()).any(|w| w == marker)))
        .collect()
}

/// A launcher killed outright (nothing serves its session any more) takes
/// the session with it: no process of it is left behind.
#[test]
fn a_killed_launcher_ends_its_session() {
    let marker = format!("{}.{}", 500 + std::process::id() % 400, std::process::id() % 1000);
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--", "/bin/sh", "-c", &format!("sleep {marker} & sleep {marker}")]);
    c.stdin(std::process::Stdio::null());
    let mut child = c.spawn().unwrap();
    let t = std::time::Instant::now();
    // The two sleeps, exec'd in the session (`... /usr/bin/sleep MARKER`).
    let exec = format!("sleep\0{marker}\0").into_bytes();
    while processes_with(&exec).len() < 2 {
        assert!(t.elapsed() < Duration::from_secs(10), "the session's sleeps did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let t = std::time::Instant::now();
    loop {
        let left = processes_with(&exec);
        if left.is_empty() {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "left behind by a killed launcher: {left:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A program sets its own limits by its pid (prlimit --pid $$), as
/// natively: the session's filter refuses only other processes' limits.
#[test]
fn a_program_sets_its_own_limits_by_pid() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("prlimit");
    let code = "import os, resource as r; r.prlimit(os.getpid(), r.RLIMIT_NOFILE, (512, 1024)); \
                print(r.getrlimit(r.RLIMIT_NOFILE), r.prlimit(os.getpid(), r.RLIMIT_NOFILE))";
    let o = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", code]).same("prlimit of its own pid", true);
    assert_eq!(o.stdout_str(), "(512, 1024) (512, 1024)\n");
}

/// Bad path arguments fail as natively (an empty path is ENOENT, an
/// unmapped one EFAULT), never read as a successful result.
#[test]
fn bad_path_arguments_fail_as_natively() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("badpath");
    let code = "import ctypes, os\n\
                libc = ctypes.CDLL(None, use_errno=True)\n\
                for name, call in [('open', lambda: libc.open(b'', 0)), ('open NULL+1', lambda: libc.open(ctypes.c_void_p(1), 0)),\n\
                                   ('unlink', lambda: libc.unlink(b'')), ('mkdir', lambda: libc.mkdir(b'', 0o755)),\n\
                                   ('rename', lambda: libc.rename(b'', b'x'))]:\n\
                \x20   r = call(); print(name, r, os.strerror(ctypes.get_errno()) if r < 0 else '')\n";
    let o = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", code]).same("bad path arguments", true);
    assert!(o.stdout_str().starts_with("open -1 No such file or directory\n"), "{}", o.stdout_str());
}

// ---------------------------------------------------------------- -B, a working base

/// Everyday programs that read the system configuration give the native
/// answer in a -B session: users and groups, name lookup, the time zone,
/// the certificate store, alternatives.
#[test]
fn the_base_holds_the_configuration_everyday_programs_read() {
    let tmp = scratch("base-config");
    for argv in [
        &["id"][..],
        &["id", "-nG"],
        &["getent", "passwd", "root"],
        &["getent", "group", "root"],
        &["getent", "services", "ssh"],
        &["getent", "protocols", "tcp"],
        &["getent", "hosts", "localhost"],
        &["date", "-d", "@0", "+%Z %z"],
        &["ls", "-ln", "/usr/bin/env"],
        &["readlink", "-f", "/usr/bin/cc"],
        // /usr/bin/pidof -> /sbin/killall5 (merged /usr): /sbin too.
        &["/bin/sh", "-c", "pidof sh >/dev/null; echo $?"],
        // The private /tmp and /dev/shm as natively: sticky, everyone's.
        &["stat", "-c", "%n %a %F", "/tmp", "/dev/shm"],
        &["/usr/bin/python3", "-c", "import ssl; print(ssl.create_default_context().cert_store_stats()['x509_ca'] > 0)"],
        &["/usr/bin/python3", "-c", "import time; print(time.tzname)"],
    ] {
        Run::new(tmp.path(), argv).same(&argv.join(" "), true);
    }
}

/// Python's multiprocessing (its locks, queues and pools are POSIX
/// semaphores, sem_open's files in /dev/shm) and shared_memory (shm_open)
/// work in a -B session as natively: -B gives it a private, empty
/// /dev/shm. Without it every Pool and Queue failed with FileNotFoundError.
/// What the session leaves there is its own: not the host's /dev/shm, and
/// gone with the session.
#[test]
fn python_multiprocessing_and_shared_memory_in_a_session() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("multiprocessing");
    let marker = format!("preld-test-{}", preld_tests::random_hex());
    let code = format!(
        "import multiprocessing as mp, os\n\
         from multiprocessing import shared_memory\n\
         def sq(x): return x * x\n\
         if __name__ == '__main__':\n\
         \x20   for how in ('fork', 'spawn', 'forkserver'):\n\
         \x20       with mp.get_context(how).Pool(2) as p: print(how, p.map(sq, range(5)))\n\
         \x20   q = mp.Queue(); w = mp.Process(target=q.put, args=(42,)); w.start(); print(q.get()); w.join()\n\
         \x20   m = shared_memory.SharedMemory(create=True, size=10); m.buf[0] = 7\n\
         \x20   o = shared_memory.SharedMemory(m.name); print('shm', o.buf[0]); o.close(); m.close(); m.unlink()\n\
         \x20   open('/dev/shm/{marker}', 'w').close()\n"
    );
    let script = tmp.write("mp.py", code);
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), script.to_str().unwrap()]).here();
    let host = Path::new("/dev/shm").join(&marker);
    let o = r.same("multiprocessing", true);
    assert!(o.stdout_str().ends_with("42\nshm 7\n"), "{}", o.report());
    // (The native run's marker.)
    fs::remove_file(&host).unwrap();
    r.session_ok();
    assert!(!host.exists(), "a session's /dev/shm is not the host's");
}

/// Names relative to a directory fd of the session's procfs are the
/// handler's names as their absolute spelling is: gzip opens its input
/// `/dev/fd/63` (bash's `<(...)`, zgrep's) as openat(open("/dev/fd/"),
/// "63"), which failed with ELOOP (the kernel's walk beneath /proc stops at
/// the magic link); stat and readlink beside /proc or /proc/self named
/// ld-preld for exe.
#[test]
fn names_beside_a_directory_fd_of_proc_as_natively() {
    require_tool("gzip", "gzip");
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("beside-proc");
    Run::new(tmp.path(), &["/bin/bash", "-c", "gzip -cdfq -- <(gzip -c /etc/hostname); zcat <(gzip -c /etc/hostname)"]).same("gzip of /dev/fd/63", true);
    let code = "import os\n\
                r, w = os.pipe()\n\
                fd, proc, me = os.open('/dev/fd/', os.O_RDONLY), os.open('/proc', os.O_RDONLY), os.open('/proc/self', os.O_RDONLY)\n\
                for what, f in [('open', lambda: os.read(os.open(str(r), os.O_RDONLY, dir_fd=fd), 0)), ('readlink', lambda: os.readlink(str(r), dir_fd=fd)[:6]),\n\
                \x20             ('stat', lambda: oct(os.stat(str(r), dir_fd=fd).st_mode)), ('lstat', lambda: oct(os.lstat(str(w), dir_fd=fd).st_mode)),\n\
                \x20             ('exe', lambda: os.readlink('self/exe', dir_fd=proc)), ('exe size', lambda: os.stat('exe', dir_fd=me).st_size == os.stat('/usr/bin/python3').st_size),\n\
                \x20             ('fd/N', lambda: os.read(os.open('fd/%d' % r, os.O_RDONLY, dir_fd=me), 0)), ('cwd', lambda: os.readlink('cwd', dir_fd=me))]:\n\
                \x20   try: print(what, f())\n\
                \x20   except OSError as e: print(what, e)\n";
    let o = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", code]).here().same("names beside a directory fd of /proc", true);
    assert!(o.stdout_str().starts_with("open b''\nreadlink pipe:[\n"), "{}", o.stdout_str());
}

/// The base is /etc's configuration file by file: none of its secrets.
#[test]
fn the_base_holds_no_secret() {
    let tmp = scratch("base-secrets");
    for secret in ["/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh", "/etc/ssl/private", "/etc/shadow-", "/root"] {
        let o = Run::new(tmp.path(), &["stat", secret]).session();
        assert!(!o.status.success(), "{secret} is reachable in a -B session: {}", o.report());
        assert!(o.stderr_str().contains("No such file or directory"), "{secret}: {}", o.report());
    }
    let o = Run::new(tmp.path(), &["ls", "/etc/ssl"]).session_ok();
    assert_eq!(sorted_lines(&o), ["certs", "openssl.cnf"], "/etc/ssl in a session");
}

/// `preld pola --help`.
fn base_help() -> String {
    let o = run_limited(
        {
            let mut c = Command::new(preld());
            c.args(["pola", "--help"]);
            c
        },
        LIMIT,
    )
    .unwrap();
    o.stdout_str().to_string()
}

#[test]
fn pola_help_lists_the_base() {
    let help = base_help();
    for p in ["/etc/passwd", "/etc/ssl/certs", "/etc/localtime", "/etc/alternatives", "no shadow"] {
        assert!(help.contains(p), "`preld pola --help` does not mention {p}:\n{help}");
    }
}

// ---------------------------------------------------------------- chown

/// Owners as `stat -c %u:%g` shows them, for each name in `dir`.
fn owners(dir: &Path, names: &[&str]) -> String {
    use std::os::unix::fs::MetadataExt;
    names.iter().map(|n| {
        let m = fs::symlink_metadata(dir.join(n)).unwrap();
        format!("{n} {}:{}\n", m.uid(), m.gid())
    }).collect()
}

/// A fresh directory with a file, a symlink to it and a subdirectory.
fn chown_fixture(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir.join("file"), "x\n");
    std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
}

/// chown, lchown (chown -h), fchownat and fchown (python) in a read-write
/// grant change owners as they do natively (as root here: any owner).
#[test]
fn chown_in_a_read_write_grant_as_natively() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("chown");
    let script = format!(
        "chown 1234:5678 w/file && chown -h 42:43 w/link && chown 7 w/sub && chgrp 8 w/sub && \
         {} -c \"import os; fd = os.open('w/file', os.O_RDONLY); os.fchown(fd, 99, -1); \
         d = os.open('w', os.O_RDONLY); os.chown('sub', -1, 77, dir_fd=d); os.fchown(d, 5, 6)\"",
        py.display()
    );
    let run = Run::new(tmp.path(), &["/bin/sh", "-c", &script]);
    let w = tmp.join("w");
    let names = [".", "file", "link", "sub"];
    chown_fixture(&w);
    run.native_ok();
    let native = owners(&w, &names);
    chown_fixture(&w);
    Run::new(tmp.path(), &["/bin/sh", "-c", &script]).grant("--rw", &w).session_ok();
    assert_eq!(owners(&w, &names), native, "owners after chown in a session");
    assert!(native.contains("file 99:5678") && native.contains("link 42:43"), "{native}");
}

/// In a read-only grant chown fails with EROFS, as on a read-only mount.
#[test]
fn chown_in_a_read_only_grant_fails_with_erofs() {
    let tmp = scratch("chown-ro");
    let w = tmp.join("w");
    chown_fixture(&w);
    let o = Run::new(tmp.path(), &["chown", "1:1", "w/file"]).grant("--ro", &w).session();
    assert_eq!(o.status.code(), Some(1), "{}", o.report());
    assert!(o.stderr_str().contains("Read-only file system"), "{}", o.report());
    assert_eq!(owners(&w, &["file"]), "file 0:0\n");
}

/// tar as root keeps the archive's owners, in a session as natively.
#[test]
fn tar_extracts_owners_in_a_session_as_natively() {
    let tmp = scratch("chown-tar");
    let src = tmp.join("src");
    chown_fixture(&src);
    std::os::unix::fs::chown(src.join("file"), Some(321), Some(654)).unwrap();
    let tar = require_tool("tar", "tar");
    let made = run_limited({
        let mut c = Command::new(&tar);
        c.arg("-C").arg(&src).args(["-cf"]).arg(tmp.join("a.tar")).arg(".");
        c
    }, LIMIT).unwrap();
    assert!(made.status.success(), "{}", made.report());
    let w = tmp.join("w");
    let run = Run::new(tmp.path(), &["tar", "--same-owner", "-xf", "a.tar", "-C", "w"]);
    let _ = fs::remove_dir_all(&w);
    fs::create_dir(&w).unwrap();
    run.native_ok();
    let native = owners(&w, &["file", "link", "sub"]);
    fs::remove_dir_all(&w).unwrap();
    fs::create_dir(&w).unwrap();
    run.here().grant("--rw", &w).session_ok();
    assert_eq!(owners(&w, &["file", "link", "sub"]), native);
    assert!(native.contains("file 321:654"), "{native}");
}

/// An ordinary user may not give a file away, in a session as natively.
#[test]
fn chown_as_nobody_is_refused_as_natively() {
    let n = Nobody::new("nobody-chown");
    let out = n.tmp.join("out");
    write(&out.join("mine"), "x\n");
    std::os::unix::fs::chown(out.join("mine"), Some(NOBODY), Some(NOBODY)).unwrap();
    let o = n.run(&["chown", "0", "out/mine"]).grant("--rw", &out).same("chown 0 as nobody", true);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stderr_str().contains("Operation not permitted"), "{}", o.report());
}

// ---------------------------------------------------------------- /dev/fd, /proc/self/fd

/// A session has no /proc, yet programs name their fds by path: `/dev/stdin`,
/// bash's process substitution (`/dev/fd/63`), `/proc/self/fd/N/NAME` for
/// a name in directory fd N (Go's net tests bind sockets there). Each
/// behaves as natively.
#[test]
fn fds_named_by_path_work_in_a_session() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-paths");
    write(&tmp.join("in.txt"), "hello\n");
    write(&tmp.join("d/inside.txt"), "inside\n");
    let script = format!(
        "cat /dev/stdin < in.txt; cat /proc/self/fd/0 < in.txt; stat -L -c %F /dev/stdin < in.txt; \
         bash -c 'cat <(echo procsub); diff <(echo a) <(echo a) && echo same'; echo to-stderr > /dev/stderr; \
         {} -c \"import os; d = os.open('d', os.O_RDONLY); print(open('/proc/self/fd/%d/inside.txt' % d).read(), end=''); \
         print(os.path.exists('/dev/fd/%d/inside.txt' % d), os.path.exists('/dev/fd/%d/nope' % d))\"",
        py.display()
    );
    let o = Run::new(tmp.path(), &["/bin/sh", "-c", &script]).here().same("fds named by path", true);
    assert_eq!(o.stdout_str(), "hello\nhello\nregular file\nprocsub\nsame\ninside\nTrue False\n");
}

/// preld's own fds (its connections to the server, placed high) are not
/// found by path either: the fds a program finds at /dev/fd/N are its own,
/// as natively (attack: a session reaching preld's connection by a path).
#[test]
fn preld_s_own_fds_are_not_found_by_path() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-paths-own");
    let script = "import os\n\
        found = [n for n in range(0, 70000) if os.path.exists('/dev/fd/%d' % n)]\n\
        opened = []\n\
        for n in range(0, 70000):\n\
            try:\n\
                opened.append(os.open('/proc/self/fd/%d' % n, os.O_RDONLY))\n\
            except OSError:\n\
                pass\n\
        print(found, len(opened))\n";
    Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", script]).same("/dev/fd scan", true);
}

/// Attack: an fd passed into a session gives no more than the fd itself.
/// A host file given as read-only stdin and an append-only stdout, in no
/// grant, with a read-write grant beside them: reopening them through
/// /dev/fd must not give write access or read access the fds lack, and
/// fchown must not give the file away (the server once took any fd for a
/// file of the last grant: every grant copy's root reads `/` in /proc).
#[test]
fn an_inherited_fd_gives_no_more_than_itself() {
    use std::os::unix::fs::MetadataExt;
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-amplify");
    let w = tmp.dir("w");
    write(&tmp.join("victim"), "untouched\n");
    write(&tmp.join("log"), "secret already in the log\n");
    let script = r#"import os
def t(what, f):
    try:
        f(); print(what, 'done')
    except OSError:
        print(what, 'refused')
t('fchown', lambda: os.fchown(0, 1234, 1234))
t('write', lambda: os.write(os.open('/proc/self/fd/0', os.O_RDWR), b'PWNED'))
t('read', lambda: os.read(os.open('/dev/fd/1', os.O_RDONLY), 100) or (_ for _ in ()).throw(OSError()))
"#;
    let victim = fs::File::open(tmp.join("victim")).unwrap();
    let log = fs::OpenOptions::new().append(true).open(tmp.join("log")).unwrap();
    // (Not the runner: it would replace stdin and stdout by its own.)
    let mut child = Command::new(preld())
        .args(["pola", "-B", "--rw"])
        .arg(&w)
        .arg("--")
        .arg(&py)
        .args(["-c", script])
        .current_dir(&w)
        .stdin(victim)
        .stdout(log)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let st = preld_tests::run::wait_or_kill(&mut child, LIMIT);
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(st.status.success(), "the session: {:?}: {err}", st.status);
    let said = fs::read_to_string(tmp.join("log")).unwrap();
    assert_eq!(said, "secret already in the log\nfchown refused\nwrite refused\nread refused\n");
    assert_eq!(fs::read_to_string(tmp.join("victim")).unwrap(), "untouched\n");
    assert_eq!(fs::metadata(tmp.join("victim")).unwrap().uid(), 0);
}

/// An open of `/proc/self/fd/0` or `/dev/stdin` with O_TRUNC, where fd 0
/// is an inherited file (the handler's copy of the fd: `reopen_unlisted`),
/// cuts the file short where the fd may write it, as the kernel's reopen
/// does, and is refused (EACCES) where it may not: the copy of a read-only
/// fd opened with O_RDONLY|O_TRUNC said it had opened, and the file was
/// whole (adversary 22).
#[test]
fn a_reopen_of_an_inherited_file_with_o_trunc_truncates_only_through_a_writable_fd() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("fd-reopen-trunc");
    let w = tmp.dir("w");
    let script = r#"import os
for p in ['/proc/self/fd/0', '/dev/stdin']:
    try:
        fd = os.open(p, os.O_RDONLY | os.O_TRUNC); print(p, 'opened, size', os.fstat(fd).st_size); os.close(fd)
    except OSError as e:
        print(p, 'refused', e.strerror)
"#;
    for writable in [false, true] {
        let victim = tmp.join("victim");
        write(&victim, "the victim's bytes\n");
        let stdin = fs::OpenOptions::new().read(true).write(writable).open(&victim).unwrap();
        let mut child = Command::new(preld())
            .args(["pola", "-B", "--rw"])
            .arg(&w)
            .arg("--")
            .arg(&py)
            .args(["-c", script])
            .current_dir(&w)
            .stdin(stdin)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let st = preld_tests::run::wait_or_kill(&mut child, LIMIT);
        let (mut out, mut err) = (String::new(), String::new());
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(st.status.success(), "the session: {:?}: {err}", st.status);
        let left = fs::read_to_string(&victim).unwrap();
        if writable {
            assert_eq!(out, "/proc/self/fd/0 opened, size 0\n/dev/stdin opened, size 0\n", "stdin read-write");
            assert_eq!(left, "", "stdin read-write: the file was not cut short");
        } else {
            assert_eq!(out, "/proc/self/fd/0 refused Permission denied\n/dev/stdin refused Permission denied\n", "stdin read-only");
            assert_eq!(left, "the victim's bytes\n", "stdin read-only: the file changed");
        }
    }
}

/// TCP on the session's own loopback works as natively (a test server and
/// its client: Python's and Go's net tests, pytest fixtures): the session
/// has a network namespace of its own, so Landlock's TCP rules are left
/// off. It refused bind and connect with EACCES.
#[test]
fn tcp_on_the_sessions_own_loopback_as_natively() {
    let tmp = scratch("tcp-loopback");
    let py = require_file("/usr/bin/python3", "python3");
    let code = "import socket\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n\
                c = socket.create_connection(s.getsockname()); a, _ = s.accept()\n\
                c.sendall(b'over tcp'); print(a.recv(8).decode())";
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", code]);
    let n = r.native_ok();
    assert_eq!(n.stdout_str(), "over tcp\n", "native: {}", n.report());
    r.same("tcp on the loopback", true);
}

/// `cmd` with `fd` (one of ours) left open across its exec.
fn with_fd(mut c: Command, fd: i32) -> Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec, only fcntl on an fd of ours.
    unsafe {
        c.pre_exec(move || {
            libc::fcntl(fd, libc::F_SETFD, 0);
            Ok(())
        });
    }
    c
}

/// A socket of the host's network that could reach more than one peer
/// (an unconnected TCP socket, UDP, netlink) handed to a session without
/// --net would be network authority the session cannot confine: an
/// unbound TCP socket's listen() binds a host port by itself (Landlock
/// sees no bind), UDP sends anywhere. The launcher refuses it with one
/// clear message and status 125, at fd 0-2 as with --fd; natively the
/// same unconnected socket connects out.
#[test]
fn host_network_sockets_that_reach_anyone_are_refused_without_net() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let py = require_file("/usr/bin/python3", "python3");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let new_socket = |domain, kind, proto| {
        // SAFETY: a new socket of our own, owned from here on.
        let fd = unsafe { libc::socket(domain, kind, proto) };
        assert!(fd >= 0, "socket({domain}, {kind}): {}", std::io::Error::last_os_error());
        // SAFETY: as above.
        unsafe { OwnedFd::from_raw_fd(fd) }
    };
    let accepted = |l: &std::net::TcpListener| std::iter::from_fn(|| l.accept().ok()).count();
    // Natively an unconnected socket handed over connects.
    let tcp = new_socket(libc::AF_INET, libc::SOCK_STREAM, 0);
    let fd = tcp.as_raw_fd();
    let code = format!("import socket\ns = socket.socket(fileno={fd})\ns.connect(('127.0.0.1', {port})); print('connected')");
    let mut c = Command::new(&py);
    c.args(["-c", &code]);
    let out = with_fd(c, fd).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "connected\n", "natively the handed socket connects");
    assert_eq!(accepted(&listener), 1);
    drop(tcp);
    let cases = [
        ("an unconnected TCP socket", new_socket(libc::AF_INET, libc::SOCK_STREAM, 0)),
        ("an unconnected TCP socket", new_socket(libc::AF_INET6, libc::SOCK_STREAM, 0)),
        ("a datagram socket", new_socket(libc::AF_INET, libc::SOCK_DGRAM, 0)),
        ("a datagram socket", new_socket(libc::AF_NETLINK, libc::SOCK_DGRAM, libc::NETLINK_ROUTE)),
    ];
    for (what, sock) in &cases {
        let fd = sock.as_raw_fd();
        for at_stdin in [false, true] {
            let mut c = Command::new(preld());
            let shown = if at_stdin { "fd 0".to_string() } else { format!("--fd {fd}") };
            if at_stdin {
                c.args(["pola", "-B", "--", py.to_str().unwrap(), "-c", "print('ran')"]);
                c.stdin(std::process::Stdio::from(sock.try_clone().unwrap()));
            } else {
                c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c", "print('ran')"]);
            }
            let out = with_fd(c, fd).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(125), "{what} at {shown}: {err}");
            assert!(out.stdout.is_empty(), "{what} at {shown}: the program ran");
            assert!(err.starts_with(&format!("preld pola: {shown} is {what}")) && err.contains("--net") && err.lines().count() == 1, "{what} at {shown}: {err}");
        }
    }
    assert_eq!(accepted(&listener), 0);
}

/// Attack (session-14b adversary): an unbound AF_UNIX socket of the
/// host's (`--fd`) is of the host's network namespace, whose abstract
/// names the session's own namespace does not reach. Bound in the session
/// to an abstract name and listened on, it takes that name in the host's
/// namespace: host programs that connect to it (an X display's
/// `@/tmp/.X11-unix/X0`, a D-Bus address) reach the session, which can
/// squat the name and pose as the service. Landlock's abstract scope only
/// stops connections out of the domain. Like an unconnected TCP socket, it
/// does not cross without --net (the launcher refuses it).
#[test]
fn an_unbound_host_unix_socket_takes_no_abstract_name_of_the_host() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::linux::net::SocketAddrExt;
    let py = require_file("/usr/bin/python3", "python3");
    // SAFETY: a new socket of our own, owned from here on.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
    assert!(fd >= 0);
    // SAFETY: as above.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let fd = sock.as_raw_fd();
    let name = format!("preld-test-unbound-{}", std::process::id());
    let code = format!(
        "import socket, sys\ns = socket.socket(fileno={fd})\ntry:\n s.bind(b'\\0{name}'); s.listen(1)\nexcept OSError as e:\n print('refused', e.errno); sys.exit(0)\nprint('listening', flush=True)\ns.settimeout(5)\ntry:\n s.accept(); print('accepted')\nexcept OSError: pass\n"
    );
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c", &code]);
    c.stdout(std::process::Stdio::piped());
    let mut child = with_fd(c, fd).spawn().unwrap();
    drop(sock);
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let mut reached = false;
    for _ in 0..40 {
        if std::os::unix::net::UnixStream::connect_addr(&addr).is_ok() {
            reached = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!reached, "a host program connected to the session's abstract name @{name} in the host's namespace: {stdout}");
}

/// Sends `fd` over the Unix socket `sock` (SCM_RIGHTS) with one byte.
fn send_fd(sock: i32, fd: i32) -> std::io::Result<()> {
    send_fd_with(sock, fd, b'x', 0)
}

/// Sends `fd` over the Unix socket `sock` with the byte `b`, sendmsg's
/// `flags` (MSG_OOB).
fn send_fd_with(sock: i32, fd: i32, b: u8, flags: i32) -> std::io::Result<()> {
    let mut byte = [b];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; all zeroes is an empty one.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as usize;
    // SAFETY: the one control message fits in `control` (CMSG_SPACE(4)
    // bytes of its 32), as msg_controllen says.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
        (libc::CMSG_DATA(c) as *mut i32).write_unaligned(fd);
    }
    // SAFETY: the buffers msg names are alive for the call.
    if unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL | flags) } == 1 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Attack (session-14 final adversary): a host process at the other end
/// of a Unix socket handed to the session (`--fd`, fd 0-2) sends it a
/// directory of the host's later (SCM_RIGHTS); `..` from it climbs the
/// host's tree for chmod, chown and utimensat made around the handler.
/// The launcher turns SCM_RIGHTS off on such sockets (SO_PASSRIGHTS: the
/// sender's sendmsg fails with EPERM), the session cannot turn it on again
/// (seccomp), and the launcher turns it back on when it ends. Natively the
/// same program receives the directory. A socket with fds queued in it
/// before does not cross (status 125); one with data only does, data
/// intact.
#[test]
fn a_host_process_cannot_send_fds_into_a_session() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("passrights");
    fs::create_dir(tmp.join("dir")).unwrap();
    let dir = fs::File::open(tmp.join("dir")).unwrap();
    let passrights = |fd: i32| {
        let (mut v, mut len) = (-1i32, 4u32);
        // SAFETY: getsockopt writes one int into `v`.
        unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, 83 /* SO_PASSRIGHTS */, (&mut v as *mut i32).cast(), &mut len) };
        v
    };
    for session in [false, true] {
        let (mut host, theirs) = UnixStream::pair().unwrap();
        let fd = theirs.as_raw_fd();
        let code = format!(
            "import socket\ns = socket.socket(fileno={fd})\ntry:\n s.setsockopt(socket.SOL_SOCKET, 83, 1); print('on', flush=True)\nexcept OSError as e:\n print('refused', e.errno, flush=True)\nprint(s.recv(5).decode(), flush=True)\nmsg, fds, _, _ = socket.recv_fds(s, 1, 4)\nprint('got', len(fds), flush=True)\n"
        );
        let mut c = Command::new(if session { preld() } else { py.clone() });
        if session {
            c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap()]);
        }
        c.args(["-c", &code]).stdout(std::process::Stdio::piped());
        let mut child = with_fd(c, fd).spawn().unwrap();
        drop(theirs);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        host.write_all(b"hello").unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), "hello");
        let sent = send_fd(host.as_raw_fd(), dir.as_raw_fd());
        if sent.is_err() {
            host.write_all(b"y").unwrap();
        }
        let got = lines.next().unwrap().unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "session {session}: {status:?}");
        if session {
            assert_eq!(first, "refused 1", "SO_PASSRIGHTS turned on again in the session");
            assert_eq!(sent.map_err(|e| e.raw_os_error()), Err(Some(libc::EPERM)), "the host sent a directory into the session");
            assert_eq!(got, "got 0");
            assert_eq!(passrights(host.as_raw_fd()), 1, "the host's own end is untouched");
        } else {
            assert_eq!((first.as_str(), got.as_str()), ("on", "got 1"), "natively the directory arrives");
            assert!(sent.is_ok());
        }
    }
    // The launcher turns SCM_RIGHTS on again when it ends; a socket with
    // an fd queued does not cross; one with data only crosses.
    let (host, theirs) = UnixStream::pair().unwrap();
    let fd = theirs.as_raw_fd();
    let run = || {
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c"]);
        c.arg(format!("import socket\nprint(socket.socket(fileno={fd}).recv(100).decode())"));
        with_fd(c, fd).output().unwrap()
    };
    (&host).write_all(b"data only").unwrap();
    let out = run();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "data only\n", "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(passrights(fd), 1, "SCM_RIGHTS stays off after the session");
    (&host).write_all(b"before").unwrap();
    send_fd(host.as_raw_fd(), dir.as_raw_fd()).unwrap();
    let out = run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(out.stdout.is_empty());
    assert!(err.starts_with(&format!("preld pola: --fd {fd} is a Unix socket with file descriptors queued")) && err.lines().count() == 1, "{err}");
    assert_eq!(passrights(fd), 1);
}

/// A connected TCP socket (inetd's stdin, `--fd`) is its one peer's
/// authority: it crosses without --net and talks as natively. Disconnected
/// (connect to AF_UNSPEC) it connects nowhere again (Landlock's TCP rules
/// stay on while a socket of the host's crosses), and listen() on it binds
/// no port the host's network reaches. A listening one accepts its own
/// connections.
#[test]
fn a_connected_host_tcp_socket_reaches_its_peer_only() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let py = require_file("/usr/bin/python3", "python3");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    listener.set_nonblocking(true).unwrap();
    peer.write_all(b"ping").unwrap();
    let fd = client.as_raw_fd();
    let code = format!(
        "import socket, struct, ctypes\n\
         s = socket.socket(fileno={fd})\n\
         print(s.recv(4).decode()); s.sendall(b'pong')\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         unspec = struct.pack('H14x', 0)\n\
         print('disconnect', libc.connect({fd}, unspec, len(unspec)))\n\
         try:\n    s.connect(('127.0.0.1', {port})); print('connected again')\n\
         except OSError as e: print('connect', type(e).__name__)\n\
         try:\n    s.listen(); print('listening', s.getsockname()[1], flush=True)\n\
         except OSError as e: print('listen', type(e).__name__)\n"
    );
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c", &code]);
    let out = with_fd(c, fd).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}{}", text, String::from_utf8_lossy(&out.stderr));
    let mut got = [0u8; 4];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"pong");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("ping"));
    assert_eq!(lines.next(), Some("disconnect 0"));
    assert_eq!(lines.next(), Some("connect PermissionError"), "{text}");
    // listen() after the disconnect: refused, or on no port the host reaches.
    match lines.next() {
        Some(l) if l.starts_with("listen ") => {}
        Some(l) if l.starts_with("listening ") => {
            let p: u16 = l[10..].parse().unwrap();
            assert!(std::net::TcpStream::connect(("127.0.0.1", p)).is_err(), "the session listens on host port {p}");
        }
        other => panic!("{other:?} in {text}"),
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(std::iter::from_fn(|| listener.accept().ok()).count(), 0, "the host's listener saw a connection from the session");

    // A listening socket accepts what comes to it.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = server.local_addr().unwrap().port();
    let mut waiting = std::net::TcpStream::connect(("127.0.0.1", sport)).unwrap();
    waiting.write_all(b"hello").unwrap();
    let sfd = server.as_raw_fd();
    let code = format!("import socket\ns = socket.socket(fileno={sfd})\na, _ = s.accept(); print(a.recv(5).decode())");
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--fd", &sfd.to_string(), "--", py.to_str().unwrap(), "-c", &code]);
    let out = with_fd(c, sfd).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n", "{}", String::from_utf8_lossy(&out.stderr));
}

/// Attack: a directory of the host handed to a session (stdin, `--fd`)
/// is a way up the host's tree: the kernel's `..` from it stops only at a
/// mount's root, and Landlock has no right for chmod, chown, utimensat,
/// setxattr or stat, so `fchmodat(0, "../victim", 0666)` made around the
/// handler (ld-preld's `syscall; ret`) made a file beside the directory
/// world-readable. The launcher refuses such an fd (status 125, one
/// line); natively the same program changes the file.
#[test]
fn a_host_directory_fd_does_not_cross_into_a_session() {
    use std::os::unix::fs::PermissionsExt;
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("host-dir-fd");
    let dir = tmp.path().join("given");
    fs::create_dir(&dir).unwrap();
    let victim = tmp.path().join("victim");
    fs::write(&victim, "secret\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    let given = fs::File::open(&dir).unwrap();
    let gfd = std::os::fd::AsRawFd::as_raw_fd(&given);
    let code = format!("import os\nos.chmod('../victim', 0o666, dir_fd={gfd})\nprint('changed')");
    let mut c = Command::new(&py);
    c.args(["-c", &code]);
    let out = with_fd(c, gfd).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "changed\n", "natively: {}", String::from_utf8_lossy(&out.stderr));
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
    for at_stdin in [true, false] {
        let mut c = Command::new(preld());
        let fd = if at_stdin { 0 } else { gfd };
        if at_stdin {
            // (Python refuses a directory as stdin: sh reads none.)
            c.args(["pola", "-B", "--", "/bin/sh", "-c", "echo ran"]);
            c.stdin(fs::File::open(&dir).unwrap());
        } else {
            c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c", &code]);
        }
        let out = with_fd(c, fd).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let shown = if at_stdin { "fd 0".to_string() } else { format!("--fd {fd}") };
        assert_eq!(out.status.code(), Some(125), "{shown}: {}{err}", String::from_utf8_lossy(&out.stdout));
        assert!(out.stdout.is_empty(), "{shown}: the program ran");
        assert!(err.starts_with(&format!("preld pola: {shown} is a directory of the host")) && err.lines().count() == 1, "{err}");
        assert_eq!(fs::metadata(&victim).unwrap().permissions().mode() & 0o777, 0o600, "{shown}: the victim's mode changed");
    }
}

/// Many processes under a low hard fd limit: natively each process has
/// a table of its own, and 150 background jobs of sh under `ulimit -n 200`
/// each open /dev/null. In a session the server holds one fd per
/// connection against the launcher's limit (the caller's hard one), so
/// the processes past its budget fail their calls: dash's `cannot open
/// /dev/null` with EIO or EMFILE (session-14 adversary). Root without
/// CAP_SYS_RESOURCE (this machine's) cannot raise the hard limit either;
/// a fix needs the server to hold fewer fds than connections.
#[test]
#[ignore = "bug: a session's processes past the server's fd budget fail (EIO, EMFILE) under a low hard limit"]
fn many_processes_under_a_low_hard_fd_limit() {
    let script = "for i in $(seq 150); do /bin/sleep 2 & done; wait; echo waited";
    let run = |session: bool| {
        let c = sh_in(session, script);
        run_limited(with_fd_limit(c, 200, 200), LIMIT).unwrap_or_else(|e| panic!("fd limit 200: {e}"))
    };
    let native = run(false);
    assert_eq!((native.stdout_str(), native.stderr_str()), ("waited\n".to_string(), String::new()), "natively");
    let s = run(true);
    let err = s.stderr_str();
    assert_eq!((s.stdout_str(), s.status.code()), ("waited\n".to_string(), Some(0)), "{err}");
    assert!(err.is_empty(), "{} lines like: {}", err.lines().count(), err.lines().next().unwrap_or(""));
}

/// `sh -c SCRIPT`, in a `pola -B` session or natively.
fn sh_in(session: bool, script: &str) -> Command {
    let mut c = Command::new(if session { preld() } else { "/bin/sh".into() });
    if session {
        c.args(["pola", "-B", "--", "/bin/sh"]);
    }
    c.args(["-c", script]);
    c
}

/// `cmd` run with RLIMIT_NOFILE at (soft, hard).
fn with_fd_limit(mut c: Command, soft: u64, hard: u64) -> Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec, only setrlimit of the child itself.
    unsafe {
        c.pre_exec(move || {
            let r = libc::rlimit { rlim_cur: soft, rlim_max: hard };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &r) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c
}

/// Low fd limits: a low soft limit (the hard one high) starts the
/// session, whose grants' fds the launcher holds above it, and the
/// program sees the caller's soft limit, as natively; a hard limit that
/// leaves the server no room for the session's connections is refused at
/// once with the limit it needs (status 125). Both hung: the first when
/// the plan's fds could not land in pid 2, the second in a server that
/// read no connection for want of fds.
#[test]
fn low_fd_limits_start_or_are_refused_clearly() {
    let script = "ulimit -n; seq 100 | cat | cat | cat | cat | cat | cat | cat | cat | wc -l";
    let run = |session: bool, soft: u64, hard: u64| {
        let c = sh_in(session, script);
        run_limited(with_fd_limit(c, soft, hard), LIMIT).unwrap_or_else(|e| panic!("fd limit {soft}/{hard}: {e}"))
    };
    let native = run(false, 60, 4096);
    assert_eq!(native.stdout_str(), "60\n100\n");
    let s = run(true, 60, 4096);
    assert_eq!((s.stdout_str(), s.status.code()), (native.stdout_str(), Some(0)), "soft limit 60: {}", s.stderr_str());
    let s = run(true, 100, 100);
    let err = s.stderr_str();
    assert_eq!(s.status.code(), Some(125), "hard limit 100: {} {err}", s.stdout_str());
    assert!(s.stdout.is_empty() && err.starts_with("preld pola: the fd limit (100, ulimit -n) is too low") && err.lines().count() == 1, "{err}");
    let need: u64 = err.trim_end().rsplit(' ').next().unwrap().parse().unwrap();
    let s = run(true, need, need);
    assert_eq!((s.stdout_str(), s.status.code()), (format!("{need}\n100\n"), Some(0)), "hard limit {need}, the one asked for: {}", s.stderr_str());
}

/// preld's fds keep the fd table small: where the fd limit leaves no room
/// above it (soft = hard, as here and in containers), they go from 1008
/// up, not just below the limit, where every fork, vfork and posix_spawn
/// of the session copied a table that large (32,768 entries at this
/// machine's 20,000; 65,536 at a container's 1,048,576: the hard limit
/// this test can set is the one it has). The program's own
/// fds among and above them keep the fast path (PRELD_STATS: the gates
/// test preld's fds bit by bit, not from the lowest up), and a dup2 onto
/// one of preld's numbers moves preld's away, the session still working.
#[test]
fn preld_s_fds_keep_the_fd_table_small() {
    let tmp = scratch("high-fds");
    let granted = tmp.join("granted");
    write(&granted, "granted\n");
    let n = 100_000u64;
    // The soft limit raised to the hard one (this machine's: 20,000; root
    // here cannot raise the hard one), as Go programs do as they start.
    let mut hard = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit into a local.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut hard) }, 0);
    for prog in ["pola/high_fds", "pola/high_fds-static"] {
        for limit in [hard.rlim_max.min(1 << 20), 4096.min(hard.rlim_max)] {
            let mut c = Command::new(preld());
            c.args(["pola", "-B", "--ro"]).arg(&granted).arg("--").arg(program(prog)).arg(n.to_string()).arg(&granted);
            c.env_clear().envs(ENV).envs(preld_tests::fast_env()).env("PRELD_STATS", "1");
            let out = run_limited(with_fd_limit(c, limit, limit), LIMIT).unwrap_or_else(|e| panic!("{prog}, limit {limit}: {e}"));
            let (stdout, err) = (out.stdout_str(), out.stderr_str());
            assert_eq!(out.status.code(), Some(0), "{prog}, limit {limit}: {stdout}{err}");
            let size: u64 = stdout
                .lines()
                .find_map(|l| l.strip_prefix("FDSize:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{prog}: no FDSize in {stdout:?}"));
            assert!(size <= 2048, "{prog}, limit {limit}: an fd table of {size} entries: {stdout}");
            assert!(
                stdout.ends_with(&format!(
                    "fcntl on 1100, {n} times: ok\nwritten through 1010\nwritten through 1030\nopen after: granted\n"
                )),
                "{prog}, limit {limit}: {stdout}{err}"
            );
            // (The main process's line is the last: its children end first.)
            let stats = err.lines().rev().find(|l| l.contains("calls fast ")).unwrap_or_else(|| panic!("no statistics: {err}"));
            let fast: u64 = stats.split("calls fast ").nth(1).and_then(|r| r.split(',').next()).and_then(|v| v.parse().ok()).unwrap();
            if preld_tests::fast_env().is_empty() {
                assert!(fast >= n, "{prog}, limit {limit}: only {fast} calls from the gate: {stats}");
            }
        }
    }
}

/// A program with more fds than preld's place (1008 up) spawns a child
/// (CPython's subprocess: a vfork child, sharing the memory, not the fd
/// table) while another thread runs: the child took a connection for its
/// exec at a number of the parent's own fds, marked preld's in the bitmap
/// they share, and the parent's close of its fd there failed with EBADF
/// (CPython's test_subprocess `test_no_leaking`). Which fds are preld's
/// is now kept per fd table: a vfork child marks its own in a copy.
#[test]
fn a_vfork_child_leaves_its_parent_s_fds_the_parent_s() {
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("vfork-fds");
    let script = r#"
import os, subprocess, sys, tempfile, threading
ev = threading.Event()
t = threading.Thread(target=ev.wait)
t.start()
d = tempfile.mkdtemp()
hs = [os.open(os.path.join(d, 'f'), os.O_WRONLY | os.O_CREAT) for _ in range(1100)]
for _ in range(10):
    os.close(hs.pop())
for _ in range(3):
    p = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdout.write(sys.stdin.read())'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    print(p.communicate(b'lime')[0].decode())
bad = []
for h in hs:
    try:
        os.close(h)
    except OSError as e:
        bad.append((h, e.strerror))
print('closed', len(hs), 'failed', bad)
ev.set()
t.join()
"#;
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", script]);
    let s = r.same("closing the fds after a spawn", true);
    assert!(s.stdout_str().ends_with("closed 1090 failed []\n"), "{}", s.report());
}

/// preld's fds among the program's numbers (from 1008 up where the fd
/// limit's soft value is its hard one) are no fds of the program's: every
/// call on one fails with EBADF, as natively, and leaves the session
/// working. Session-17 adversary: dup, preadv, getsockopt, shutdown,
/// recvmsg went to them (the table had no entry for them); bind put the
/// server's new socket over the session's connection (every later request:
/// ENOTCONN); close and fcntl of the fd with a bit above its 32 set (the
/// kernel's fd) closed the connection; openat beside a number not open was
/// ENOTDIR where a connection preld made for the open had taken it.
#[test]
fn preld_s_fds_are_no_fds_of_the_program_s() {
    let tmp = scratch("own-fd-calls");
    let rw = tmp.join("rw");
    fs::create_dir_all(&rw).unwrap();
    let mut hard = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit into a local.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut hard) }, 0);
    let limit = 4096.min(hard.rlim_max);
    for prog in ["pola/own_fd_calls", "pola/own_fd_calls-static"] {
        let mut n = Command::new(program(prog));
        n.arg(&rw);
        let native = run_limited(with_fd_limit(n, limit, limit), LIMIT).unwrap();
        assert_eq!(native.stdout_str(), "done: 0 wrong\n", "{prog} natively");
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--rw"]).arg(&rw).arg("--").arg(program(prog)).arg(&rw);
        c.env_clear().envs(ENV);
        let out = run_limited(with_fd_limit(c, limit, limit), LIMIT).unwrap_or_else(|e| panic!("{prog}: {e}"));
        assert_eq!(out.stdout_str(), "done: 0 wrong\n", "{prog} in a session: {}", out.stderr_str());
        assert_eq!(out.status.code(), Some(0), "{prog}: {}", out.stderr_str());
    }
}

/// `prog` (with `args`), which probes fds 1000-1099 and ends with
/// "done: N wrong", natively and in a `-B` session, with the fd limit's
/// soft value its hard one (up to 4096: preld's fds from 1008 up, among
/// the numbers probed): "done: 0 wrong" both times.
fn done_with_no_wrong_as_natively(prog: &str, args: &[&str]) {
    let mut hard = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit into a local.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut hard) }, 0);
    let limit = 4096.min(hard.rlim_max);
    let mut n = Command::new(program(prog));
    n.args(args);
    let native = run_limited(with_fd_limit(n, limit, limit), LIMIT).unwrap();
    assert_eq!(native.stdout_str(), "done: 0 wrong\n", "{prog} natively");
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--"]).arg(program(prog)).args(args);
    c.env_clear().envs(ENV);
    let out = run_limited(with_fd_limit(c, limit, limit), LIMIT).unwrap_or_else(|e| panic!("{prog}: {e}"));
    assert!(out.stdout_str().ends_with("done: 0 wrong\n"), "{prog} in a session: {}", out.stdout_str());
}

/// preld's fds named where the fd guard did not look (session-17c
/// adversary): `programs/pola/own_fd_leaks.c` sends each of fds 1000-1099
/// in an SCM_RIGHTS message (sendmsg, sendmmsg), polls it (poll with a
/// ready pipe beside it, ppoll), maps it,
/// fallocates it, gives it to signalfd4, timerfd_gettime, epoll_pwait2,
/// setns and landlock_restrict_self, opens its /proc/self/fdinfo entry;
/// natively each fails (EBADF, POLLNVAL, ENOENT). In a session the message
/// carried preld's fds (the session's connection, its grants' directories
/// and files), received as the program's own; the others reached the
/// session's connection (ENODEV, EINVAL, EBADFD); fdinfo showed each.
/// (io_submit's iocbs reach them still: docs/DESIGN.md. Code around the
/// handler reaches them anyway; the program only hurts itself.)
#[test]
fn preld_s_fds_are_not_reached_through_messages_poll_or_mmap() {
    for prog in ["pola/own_fd_leaks", "pola/own_fd_leaks-static"] {
        done_with_no_wrong_as_natively(prog, &[]);
    }
}

/// preld's fds polled among many entries, or selected with nfds past 512
/// (session-18b adversary): `programs/pola/own_fd_wide.c` polls each of
/// fds 1000-1099 as the 40th entry beside a ready pipe, and selects it
/// (select, pselect6) with the fd table grown past it; natively POLLNVAL
/// (2 ready at once) and EBADF. The handler read the pollfd array 32
/// entries at a time, and the fd_set whole, with usermem::read_words,
/// which reads at most 8 words: the look failed and the kernel polled
/// and selected preld's fds (the session's connection not ready: a poll
/// of it with no timeout waited for good; its grants' fds selected ready).
#[test]
fn preld_s_fds_are_not_reached_through_wide_poll_or_select() {
    for prog in ["pola/own_fd_wide", "pola/own_fd_wide-static"] {
        done_with_no_wrong_as_natively(prog, &[]);
    }
}

/// preld's fds as the second fd of a call whose site has a gate
/// (session-18b adversary): `programs/pola/own_fd_second.c` gives each of
/// fds 1000-1099 to epoll_ctl (the watched fd), splice (fd_out) and
/// sendfile (in_fd), each from one site in a loop; natively EBADF. The
/// Fd gate looked at the first argument only: once the first call had
/// rewritten the site, the session's connection was added to an epoll
/// set, spliced into and sent from.
#[test]
fn preld_s_fds_are_not_reached_as_a_second_fd_through_a_gate() {
    for prog in ["pola/own_fd_second", "pola/own_fd_second-static"] {
        done_with_no_wrong_as_natively(prog, &[]);
    }
}

/// preld's fds as ioctl FICLONE's source fd (the third argument;
/// session-18b adversary), FICLONERANGE's (in its struct) and
/// FIDEDUPERANGE's destinations: `programs/pola/own_fd_second.c ioctl`
/// clones each of fds 1000-1099 into a file of its private /tmp; natively
/// EBADF, in a session FICLONE gave EXDEV for the session's connection
/// (the kernel reached it). The ioctl gate now sends those three ioctls
/// the slow way, where `fds::ioctl_fds` looks at their fds; dynamic and
/// static.
#[test]
fn preld_s_fds_are_not_reached_as_ficlone_s_source() {
    for prog in ["pola/own_fd_second", "pola/own_fd_second-static"] {
        done_with_no_wrong_as_natively(prog, &["ioctl"]);
    }
}

/// preld's fds as FICLONERANGE's source while another thread takes the
/// struct's page away and gives it back (session-19b adversary):
/// `programs/pola/own_fd_ioctl_race.c fault` names each of fds 1000-1099,
/// 2000 times; natively EBADF or EFAULT. A look that found the struct
/// unreadable let the ioctl go to the kernel as it came, which read it
/// once mapped again: EXDEV from the session's connection.
#[test]
fn preld_s_fds_are_not_reached_through_a_racing_ioctl() {
    for prog in ["pola/own_fd_ioctl_race", "pola/own_fd_ioctl_race-static"] {
        done_with_no_wrong_as_natively(prog, &["fault"]);
    }
}

/// As above, in a process with a seccomp filter of its own (allowing
/// everything), another thread flipping the struct's src_fd between a
/// closed fd and the one named (session-19b adversary): such a process's
/// ioctl is made from its code as it came after the look
/// (`fds::ioctl_fds`), and the kernel reads the struct again: EXDEV from
/// the session's connection.
#[test]
#[ignore = "bug: a seccomp-filtered process's FICLONERANGE/FIDEDUPERANGE is made as it came after the look: a racing thread puts one of preld's fds in the struct"]
fn preld_s_fds_are_not_reached_through_a_racing_filtered_ioctl() {
    for prog in ["pola/own_fd_ioctl_race", "pola/own_fd_ioctl_race-static"] {
        done_with_no_wrong_as_natively(prog, &["seccomp"]);
    }
}

/// preld's fds' magic links looked at themselves (session-18b adversary):
/// `programs/pola/own_fd_links.c` lstats (and fstatat with
/// AT_SYMLINK_NOFOLLOW) /proc/self/fd/N, /proc/PID/fd/N,
/// /proc/thread-self/fd/N and /dev/fd/N for each of fds 1000-1099;
/// natively ENOENT. The link itself was looked at in the session's
/// procfs, where preld's fds are open: 0.
#[test]
fn preld_s_fds_magic_links_are_not_there() {
    for prog in ["pola/own_fd_links", "pola/own_fd_links-static"] {
        done_with_no_wrong_as_natively(prog, &[]);
    }
}

/// A read-only grant nested in a read-write one (`--rw OUT --ro OUT/sub`,
/// the same host directory) keeps its metadata against the program's own
/// calls through the handler: `programs/pola/nested_metadata.c` opens the
/// nested grant's file and directory for reading by names through the
/// outer grant (an fd of OUT and `sub/victim`, `OUT/./sub/..`, OUT's fd's
/// magic link), then futimens, fsetxattr, fremovexattr, and setxattr,
/// lsetxattr, removexattr by those names. Session-17c adversary: the
/// process resolved those itself on the outer grant's read-write copy
/// (read-only, but the fd's file lay on a writable mount) and the kernel
/// changed the times and attributes of the nested read-only grant's files.
/// (Code around the handler still can: docs/DESIGN.md, "Limits known".)
#[test]
fn a_nested_read_only_grant_keeps_its_metadata_through_the_outer_grant() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = scratch("nested-metadata");
    let out = tmp.join("out");
    let sub = out.join("sub");
    fs::create_dir_all(&sub).unwrap();
    let victim = sub.join("victim");
    fs::write(&victim, "victim\n").unwrap();
    let state = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(p).unwrap();
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        let mut names = vec![0u8; 4096];
        // SAFETY: a NUL-terminated path and a buffer of the length given.
        let n = unsafe { libc::listxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
        names.truncate(n.max(0) as usize);
        (m.mode(), m.mtime(), m.mtime_nsec(), names)
    };
    for p in [&victim, &sub] {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: NUL-terminated strings and a buffer of the length given.
        let r = unsafe { libc::setxattr(c.as_ptr(), c"user.keep".as_ptr(), c"1".as_ptr().cast(), 1, 0) };
        if r != 0 {
            eprintln!("skipped: no user.* attributes here ({})", std::io::Error::last_os_error());
            return;
        }
    }
    for prog in ["pola/nested_metadata", "pola/nested_metadata-static"] {
        let before = (state(&victim), state(&sub));
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--rw"]).arg(&out).arg("--ro").arg(&sub).arg("--").arg(program(prog)).arg(&out);
        c.env_clear().envs(ENV);
        let r = run_limited(c, LIMIT).unwrap_or_else(|e| panic!("{prog}: {e}"));
        assert_eq!(r.stdout_str(), "done\n", "{prog}: {}", r.stderr_str());
        assert_eq!((state(&victim), state(&sub)), before, "{prog}: the nested read-only grant's metadata changed");
    }
}

/// `programs/pola/shared_memory_fds.c` in `mode`, natively and in a
/// session, with the fd limit's soft value its hard one (preld's fds from
/// 1008 up, among the program's numbers): "done: 0 wrong" both times.
fn shared_memory_fds(mode: &str) {
    let tmp = scratch(&format!("shared-memory-fds-{mode}"));
    let mut hard = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit into a local.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut hard) }, 0);
    let limit = 4096.min(hard.rlim_max);
    for session in [false, true] {
        let rw = tmp.join(if session { "rw-session" } else { "rw-native" });
        fs::create_dir_all(&rw).unwrap();
        let prog = program("pola/shared_memory_fds");
        let c = if session {
            let mut c = Command::new(preld());
            c.args(["pola", "-B", "--rw"]).arg(&rw).arg("--").arg(prog).arg(mode).arg(&rw);
            c.env_clear().envs(ENV);
            c
        } else {
            let mut c = Command::new(prog);
            c.arg(mode).arg(&rw);
            c
        };
        let out = run_limited(with_fd_limit(c, limit, limit), LIMIT).unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(out.stdout_str().ends_with("done: 0 wrong\n"), "{mode} (session: {session}): {}{}", out.stdout_str(), out.stderr_str());
    }
}

/// A vfork child makes a process that shares its memory and fd table
/// (CLONE_VM | CLONE_FILES) and exits; that process runs on, with the
/// set of preld's fds of the vfork child's table, which the parent freed
/// once the vfork child was gone: its gates and the handler then read
/// (and its marks wrote) freed heap memory. A copy of the set now lives
/// as long as a thread block names it. Session-17b adversary. (The use
/// after free shows only when the allocator has put something else there:
/// once in four runs of a variant, the process's dup2 over its table's
/// connection went through and its next request failed with EBADF; this
/// test passes without the fix too, mostly.)
#[test]
fn a_process_made_by_a_vfork_child_keeps_its_set_of_preld_s_fds() {
    shared_memory_fds("vfork-grandchild");
}

/// A process sharing the memory but not the fd table (clone with CLONE_VM,
/// without CLONE_FILES or CLONE_VFORK) and its parent both dup2 over
/// 1000-1099. preld's fds are now marked per fd table (each such process
/// has its own set), but which numbers its connections have (rpc.rs's
/// MAIN, every block's connection, beneath.rs's grant fds, the tracer's)
/// is kept per memory: one's dup2 over a connection moves it and tells
/// all, and the other's next request goes to a number that is not its
/// connection (EBADF). Session-17b adversary.
#[test]
#[ignore = "bug: preld's connection numbers are kept per memory, not per fd table (a CLONE_VM process's relocation of its connection moves its parent's)"]
fn a_process_sharing_memory_but_not_fds_keeps_its_connections() {
    shared_memory_fds("clone-vm");
}

/// A vfork child (its own fd table, its parent's memory) dup2s over
/// 1000-1099, as posix_spawn's dup2 file actions there do: it moves
/// preld's connection in its table and tells the holders of the number,
/// which are its parent's (rpc.rs's MAIN, beneath.rs's grant fds): the
/// parent's every later request fails with EBADF, and posix_spawn with
/// such file actions fails. Older than session 17 (found by the
/// session-17b adversary); the fix is to keep the connection numbers per
/// fd table (with `OwnFds`, say), not per memory.
#[test]
#[ignore = "bug: a vfork child's dup2 over preld's fds in its own table moves its parent's connection numbers"]
fn a_vfork_child_s_dup2_over_preld_s_fds_leaves_its_parent_s_session() {
    shared_memory_fds("vfork-dup2");
}

/// Threads that dup2 over 1000-1039 (moving preld's fds there: its
/// connection, its grants' directories) while another posix_spawns: a
/// spawned child's fd table was copied before a move its parent's memory
/// then told it of, and its exec found a grant's number that was not its
/// grant in its table (/bin/true: "libc.so.6: cannot open shared object
/// file: Error 20", ENOTDIR; 4 to 10 of 300 spawns here). The same root as
/// above: preld's fd numbers are kept per memory, not per fd table.
/// Session-17b adversary; older than session 17.
#[test]
#[ignore = "bug: a spawn racing with another thread's dup2 over preld's fds execs with the parent's moved fd numbers"]
fn spawns_racing_with_dup2_over_preld_s_fds_exec() {
    shared_memory_fds("spawn-race");
}

/// One fd received from the Unix socket `sock` (SCM_RIGHTS), if any came.
fn recv_fd(sock: i32) -> Option<i32> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 4];
    // SAFETY: msghdr is plain data; all zeroes is an empty one.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control);
    // SAFETY: the buffers msg names are alive for the call.
    if unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) } < 0 {
        return None;
    }
    // SAFETY: the walk stays within msg_controllen bytes of `control`.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        if c.is_null() || (*c).cmsg_level != libc::SOL_SOCKET || (*c).cmsg_type != libc::SCM_RIGHTS {
            return None;
        }
        Some((libc::CMSG_DATA(c) as *const i32).read_unaligned())
    }
}

/// SO_PASSRIGHTS is off on the host's socket that crossed, not on the
/// sockets the session makes: the program sends one end of a socketpair
/// of its own out through the crossing socket (fds going out are not
/// refused: the host's end takes them), and the host process at the other
/// end sends a directory of the host's back through it. Around the handler
/// (ld-preld's own `syscall; ret`), fchmodat and utimensat beside that
/// directory (Landlock has no right for them) changed a file outside every
/// grant (session-15 adversary; programs/pola/relay_out.c). Dynamic and
/// static alike; as nobody too.
#[test]
fn a_host_process_cannot_send_fds_back_through_a_socket_the_session_sent_out() {
    use std::io::{BufRead, BufReader};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;
    let tmp = scratch("relay-out");
    let dir = tmp.join("dir");
    fs::create_dir(&dir).unwrap();
    let victim = dir.join("victim");
    for prog in ["pola/relay_out", "pola/relay_out-static"] {
        write(&victim, "victim\n");
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let before = fs::metadata(&victim).unwrap().modified().unwrap();
        let (host, theirs) = UnixStream::pair().unwrap();
        let fd = theirs.as_raw_fd();
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--fd", &fd.to_string(), "--"]).arg(program(prog)).arg(fd.to_string());
        c.stdout(std::process::Stdio::piped());
        let mut child = with_fd(c, fd).spawn().unwrap();
        drop(theirs);
        // The session's own socket, sent out; the host's directory, sent back.
        let mut sent_back = false;
        if let Some(relay) = recv_fd(host.as_raw_fd()) {
            let d = fs::File::open(&dir).unwrap();
            sent_back = send_fd(relay, d.as_raw_fd()).is_ok();
            // SAFETY: `relay` is ours, received just now.
            unsafe { libc::close(relay) };
        }
        drop(host);
        let out: Vec<String> = BufReader::new(child.stdout.take().unwrap()).lines().map(|l| l.unwrap()).collect();
        child.wait().unwrap();
        let meta = fs::metadata(&victim).unwrap();
        let (mode, mtime) = (meta.permissions().mode() & 0o7777, meta.modified().unwrap());
        assert!(
            mode == 0o600 && mtime == before,
            "{prog}: a host directory came in through the session's own socket (sent back: {sent_back}) and a file outside the grants changed: mode {mode:o}, mtime {mtime:?} (was {before:?}); program said {out:?}"
        );
    }
}

/// The launcher turns SCM_RIGHTS off on a crossing Unix socket and on
/// again when it ends, but the session's processes live on after the
/// program (daemons, as natively): one that keeps the socket then receives
/// what the host process at the other end sends, a directory of the host's
/// among it (a D-Bus peer sends fds a method returns), and around the
/// handler chmods a file beside it (Landlock has no right for chmod;
/// session-15b adversary; programs/pola/late_fd.c). SCM_RIGHTS must stay
/// off while any process of the session may hold the socket.
#[test]
fn a_daemon_left_behind_takes_no_fds_through_a_crossing_socket() {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;
    let tmp = scratch("late-fd");
    let dir = tmp.join("dir");
    fs::create_dir(&dir).unwrap();
    let victim = tmp.join("victim");
    for prog in ["pola/late_fd", "pola/late_fd-static"] {
        write(&victim, "victim\n");
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let (mut host, theirs) = UnixStream::pair().unwrap();
        let fd = theirs.as_raw_fd();
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--fd", &fd.to_string(), "--"]).arg(program(prog)).args([&fd.to_string(), "../victim"]);
        // (Not piped: the background server holds the caller's stdout
        // while the daemon lives.)
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let status = with_fd(c, fd).status().unwrap();
        assert!(status.success(), "{prog}: {status:?}");
        drop(theirs);
        // The launcher has ended; the daemon holds the socket.
        let d = fs::File::open(&dir).unwrap();
        let sent = send_fd(host.as_raw_fd(), d.as_raw_fd());
        if sent.is_err() {
            std::io::Write::write_all(&mut host, b"y").unwrap();
        }
        host.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut reply = [0u8; 128];
        let n = host.read(&mut reply).unwrap_or(0);
        let reply = String::from_utf8_lossy(&reply[..n]).into_owned();
        drop(host);
        let mode = fs::metadata(&victim).unwrap().permissions().mode() & 0o7777;
        assert!(
            sent.is_err() && mode == 0o600,
            "{prog}: a host directory reached a daemon of the session after the launcher ended (send: {sent:?}, daemon: {reply:?}), and a file outside the grants became mode {mode:o}"
        );
    }
}

/// A daemon the program starts that closes its stdout and stderr (setsid,
/// `>/dev/null 2>&1`: ssh-agent, dbus-launch) holds the caller's pipe no
/// longer: natively `$(cmd)` ends with the program. In a session the
/// background server that serves the processes left behind keeps the
/// launcher's fds 1 and 2 (the caller's pipe) until the daemon is gone:
/// `eval $(preld pola -B -- ssh-agent)` waits for the agent to end
/// (session-15b adversary).
#[test]
fn a_daemon_that_closes_its_stdout_does_not_hold_the_callers_pipe() {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--", "/bin/sh", "-c", "setsid sleep 20 </dev/null >/dev/null 2>&1 &"]);
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let took = started.elapsed();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(took < std::time::Duration::from_secs(10), "the caller's stdout stayed open {took:?} after the program ended (the daemon's sleep)");
}

/// `int $0x80` in a 64-bit program is a call of the i386 table, which the
/// session's seccomp filter refuses (ENOSYS). Syscall User Dispatch hands
/// it to the handler too, which served it as the x86_64 call of the same
/// number: i386 mkdir (39) returned the pid (x86_64 getpid), i386 execve
/// (11) would munmap (session-15b adversary; programs/pola/int80.c). The
/// handler makes it as it came: the kernel's i386 call under `preld run`,
/// as natively (i386 mkdir of NULL: EFAULT; i386 getpid, 20: the pid).
/// Dynamic and static.
#[test]
fn int80_calls_are_not_served_as_x86_64_calls() {
    for prog in ["pola/int80", "pola/int80-static"] {
        for (nr, native) in [("39", "-14\n"), ("20", "pid\n")] {
            let out = Command::new(program(prog)).arg(nr).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), native, "{prog} {nr} natively");
            let out = Command::new(preld()).args(["pola", "-B", "--"]).arg(program(prog)).arg(nr).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), "-38\n", "{prog} {nr} in a session: {}", String::from_utf8_lossy(&out.stderr));
            for mode in ["run", "trace"] {
                let mut c = Command::new(preld());
                c.args([mode, "-o", "/dev/null"]);
                if mode == "run" {
                    c = Command::new(preld());
                    c.arg("run");
                }
                let out = c.arg("--").arg(program(prog)).arg(nr).envs(preld_tests::fast_env()).output().unwrap();
                assert_eq!(String::from_utf8_lossy(&out.stdout), native, "{prog} {nr} under preld {mode}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
}

/// The launcher looks through a crossing Unix socket's queue for fds sent
/// before the session (a peek of the whole queue), but a stream peek skips
/// the out-of-band byte (MSG_OOB) unless SO_OOBINLINE is on: a directory
/// sent with the OOB byte, first in the queue, crossed unseen, and the
/// program took it with SO_OOBINLINE on and one recvmsg (session-15
/// adversary). The launcher must refuse such a socket as any other with
/// fds queued (status 125).
#[test]
fn fds_queued_with_an_out_of_band_byte_are_found() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("oob-queued");
    fs::create_dir(tmp.join("dir")).unwrap();
    let dir = fs::File::open(tmp.join("dir")).unwrap();
    for data_after in [false, true] {
        let (host, theirs) = UnixStream::pair().unwrap();
        let fd = theirs.as_raw_fd();
        // One byte out of band, with the directory.
        send_fd_with(host.as_raw_fd(), dir.as_raw_fd(), b'Z', libc::MSG_OOB).unwrap();
        if data_after {
            use std::io::Write;
            (&host).write_all(b"abc").unwrap();
        }
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c"]);
        c.arg(format!(
            "import socket\ns = socket.socket(fileno={fd})\ns.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)\nmsg, anc, _, _ = s.recvmsg(10, 256)\nprint('got', msg, len(anc))"
        ));
        let out = with_fd(c, fd).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(125),
            "data after: {data_after}: the fd queued with the OOB byte crossed: {}{err}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(err.starts_with(&format!("preld pola: --fd {fd} is a Unix socket with file descriptors queued")), "{err}");
    }
}

/// A connected Unix socket of the host's crosses (its one peer's
/// authority), but a datagram one disconnects (connect to AF_UNSPEC), and
/// bind() then names it in the host's abstract namespace (the socket's
/// network namespace is the host's): host programs sent to the session
/// posing as a service of theirs. A connected stream socket (journald's
/// stdout of a service, a socketpair) binds too: the session squats any
/// abstract name of the host's, and the host's service cannot bind it
/// (EADDRINUSE). Session-15 adversary; the unconnected one's case is
/// `an_unbound_host_unix_socket_takes_no_abstract_name_of_the_host`.
/// The launcher now names such a socket itself (autobind) before it
/// crosses: bind() in the session fails with EINVAL.
#[test]
fn a_connected_host_unix_socket_takes_no_abstract_name_of_the_host() {
    use std::io::{BufRead, BufReader};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
    use std::os::linux::net::SocketAddrExt;
    let py = require_file("/usr/bin/python3", "python3");
    for dgram in [true, false] {
        let name = format!("preld-adv15-{}-{}", if dgram { "dgram" } else { "stream" }, std::process::id());
        let (host_dgram, theirs_dgram);
        let (host_stream, theirs_stream);
        let fd = if dgram {
            (host_dgram, theirs_dgram) = UnixDatagram::pair().unwrap();
            let _ = &host_dgram;
            theirs_dgram.as_raw_fd()
        } else {
            (host_stream, theirs_stream) = UnixStream::pair().unwrap();
            let _ = &host_stream;
            theirs_stream.as_raw_fd()
        };
        let code = format!(
            "import socket, ctypes, struct, sys\n\
             libc = ctypes.CDLL(None, use_errno=True)\n\
             s = socket.socket(fileno={fd})\n\
             unspec = struct.pack('H14x', 0)\n\
             if {d}: libc.connect({fd}, unspec, len(unspec))\n\
             try:\n    s.bind(b'\\0{name}'); print('bound', flush=True)\n\
             except OSError as e: print('refused', e.errno, flush=True)\n\
             sys.stdin.read()\n",
            d = dgram as u8
        );
        let mut c = Command::new(preld());
        c.args(["pola", "-B", "--fd", &fd.to_string(), "--", py.to_str().unwrap(), "-c", &code]);
        c.stdout(std::process::Stdio::piped()).stdin(std::process::Stdio::piped());
        let mut child = with_fd(c, fd).spawn().unwrap();
        let said = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let reached = if dgram {
            let probe = UnixDatagram::unbound().unwrap();
            probe.send_to_addr(b"to the service", &addr).map(|_| "a host program's datagram to it arrived")
        } else {
            UnixListener::bind_addr(&addr).map(|_| "")
        };
        drop(child.stdin.take());
        child.wait().unwrap();
        match reached {
            Ok(what) if dgram => panic!("dgram: the session bound @{name} in the host's namespace ({said}): {what}"),
            Err(e) if !dgram => panic!("stream: the session squats @{name} in the host's namespace ({said}): the host's bind fails: {e}"),
            _ => {}
        }
    }
}

/// A Unix stream socket the server connected for the session (a path
/// beneath a grant) was made in the launcher's network namespace, the
/// host's, not the session's: bind() of an abstract name on it, connected
/// as it was, took that name in the host's namespace. With a read-write
/// grant only (no socket of the host's crossing), a session listening on
/// a socket of its own there and connecting to it squatted any abstract
/// name of the host's (an X display's, a D-Bus address): the host's
/// service could not bind it (EADDRINUSE). Session-15 adversary. The
/// server now connects the program's own socket, of the session's
/// namespace.
#[test]
fn a_socket_the_server_connects_takes_no_abstract_name_of_the_host() {
    use std::io::{BufRead, BufReader};
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("server-socket-abstract");
    let rw = tmp.join("rw");
    fs::create_dir(&rw).unwrap();
    let name = format!("preld-adv15-server-{}", std::process::id());
    let sock = rw.join("l.sock");
    let code = format!(
        "import socket, sys\n\
         l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind('{p}'); l.listen(1)\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect('{p}')\n\
         try:\n    s.bind(b'\\0{name}'); print('bound', flush=True)\n\
         except OSError as e: print('refused', e.errno, flush=True)\n\
         sys.stdin.read()\n",
        p = sock.display()
    );
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--rw"]).arg(&rw).args(["--", py.to_str().unwrap(), "-c", &code]);
    c.stdout(std::process::Stdio::piped()).stdin(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let said = BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let host = UnixListener::bind_addr(&addr);
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(host.is_ok(), "the session ({said}) squats @{name} in the host's namespace: {:?}", host.err());
}

/// A host listener in a read-write grant sees who connected to it
/// (SO_PEERCRED, SO_PEERPIDFD): natively, or under bubblewrap, the
/// connecting process itself. In a session the server makes the connect
/// (ConnectOwn, as ConnectUnix did), so the listener's peer is the
/// launcher's process: a host service that judges its clients by their
/// pid (/proc/PID/exe, its cgroup, its root or its seccomp and
/// NoNewPrivs status: xdg-desktop-portal's app identification, polkit's
/// unix-process subject) takes the confined program for the unconfined
/// launcher (session-15c adversary; not fixed).
#[test]
#[ignore = "not fixed: a Unix connect made by the server shows the launcher as the listener's peer (session-15c adversary)"]
fn a_host_listener_sees_the_session_s_process_as_its_peer_not_the_launcher() {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixListener;
    let py = require_file("/usr/bin/python3", "python3");
    let tmp = scratch("peer-is-the-launcher");
    let rw = tmp.join("rw");
    fs::create_dir(&rw).unwrap();
    let sock = rw.join("l.sock");
    let l = UnixListener::bind(&sock).unwrap();
    let code = format!(
        "import socket, sys\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect('{p}')\n\
         sys.stdin.read()\n",
        p = sock.display()
    );
    let mut c = Command::new(preld());
    c.args(["pola", "-B", "--rw"]).arg(&rw).args(["--", py.to_str().unwrap(), "-c", &code]);
    c.stdin(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let (conn, _) = l.accept().unwrap();
    let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes one struct ucred into `cred`.
    let r = unsafe { libc::getsockopt(conn.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, (&mut cred as *mut libc::ucred).cast(), &mut len) };
    assert_eq!(r, 0);
    let exe = fs::read_link(format!("/proc/{}/exe", cred.pid)).unwrap_or_default();
    drop(child.stdin.take());
    child.wait().unwrap();
    assert_ne!(cred.pid as u32, child.id(), "the listener's peer is the launcher ({})", exe.display());
    assert!(!exe.ends_with("preld"), "the listener's peer runs {}", exe.display());
}

/// With the current directory /proc, the names the handler answers for
/// itself spelt relative to it (`self/exe`, `self/cwd`) name what they
/// name spelt from /proc: the program (the handler gives ld-preld's path),
/// the virtual cwd (it gives `/`), and an open of `self/exe` opens the
/// program (ELOOP). The handler looks for its own names in the path as
/// given, before the cwd is joined to it; a session that learns answered
/// the same, wrongly (found by the session-16 adversary): the handler
/// gate now leaves a relative name from a cwd below /proc or /dev to the
/// trap path, which looks at it joined.
#[test]
fn proc_names_relative_to_a_cwd_of_proc() {
    let tmp = scratch("proc-cwd");
    let script = r#"
import os
os.chdir('/proc')
for p in ['exe', 'cwd', 'root']:
    print(p, os.readlink('self/' + p) == os.readlink('/proc/self/' + p))
try:
    print('open', len(open('self/exe', 'rb').read(64)))
except OSError as e:
    print('open', os.strerror(e.errno))
print('stat', os.stat('self/exe').st_ino == os.stat('/proc/self/exe').st_ino)
print('fd', sorted(os.listdir('self/fd')) == sorted(os.listdir('/proc/self/fd')))
os.chdir('/dev')
print('dev', os.readlink('fd'), os.readlink('stdin'), os.path.exists('fd/0'))
"#;
    let py = require_file("/usr/bin/python3", "python3");
    let r = Run::new(tmp.path(), &[py.to_str().unwrap(), "-c", script]);
    let native = r.native_ok();
    let here = r.session_ok();
    assert_eq!(here.stdout_str(), native.stdout_str(), "{}", here.report());
}

/// The fast path's stat gate (arch `fast_gate_stat_beside`: fstatat of one
/// name beside a grant's directory fd, made in the gate itself):
/// `programs/pola/stat_gate.c` answers as natively for every name it must
/// leave to the handler (paths, `..`, empty, too long, unreadable), for
/// buffers the kernel refuses, and for an fd closed or replaced behind the
/// handler's back; and a buffer in ld-preld's own memory is EFAULT there,
/// never written. Read-only and read-write grants, dynamic and static,
/// with the statistics on (the counting gate) and off; PRELD_STATS shows
/// the gate made calls. Also as an ordinary user (uid 1000) whose files
/// they are: the gate makes the stats there too (owners it sees mapped).
#[test]
fn stats_beside_a_grant_s_fd_in_the_gate_as_natively() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = scratch("stat-gate");
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.join("dir");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("file"), "hello\n").unwrap();
    fs::write(dir.join("sub/file"), "sub file\n").unwrap();
    std::os::unix::fs::symlink("sub", dir.join("link")).unwrap();
    let bin = tmp.dir("bin");
    let everyone = preld_for_everyone(&bin);
    let setpriv = require_tool("setpriv", "util-linux");
    for prog in ["pola/stat_gate", "pola/stat_gate-static"] {
        let native = run_limited(
            {
                let mut c = Command::new(program(prog));
                c.arg(&dir).env_clear().envs(ENV);
                c
            },
            LIMIT,
        )
        .unwrap();
        let native = native.stdout_str();
        assert!(native.ends_with("preld's memory: none mapped\n"), "{prog} natively: {native}");
        let expected = native.strip_suffix("preld's memory: none mapped\n").unwrap();
        for (mode, stats) in [("--ro", false), ("--rw", true)] {
            let mut c = Command::new(preld());
            c.args(["pola", "-B", mode]).arg(&dir).arg("--").arg(program(prog)).arg(&dir);
            c.env_clear().envs(ENV).envs(preld_tests::fast_env());
            if stats {
                c.env("PRELD_STATS", "1");
            }
            let r = run_limited(c, LIMIT).unwrap_or_else(|e| panic!("{prog} {mode}: {e}"));
            let out = r.stdout_str();
            assert_eq!(r.status.code(), Some(0), "{prog} {mode}: {out}{}", r.stderr_str());
            let (head, tail) = out.split_at(out.find("file again:").unwrap_or_else(|| panic!("{prog} {mode}: ld-preld's memory not found: {out}")));
            assert_eq!(head, expected, "{prog} {mode}");
            assert!(tail.ends_with("file after: 0 file size 6\npreld's memory: EFAULT, unchanged\n"), "{prog} {mode}: {tail}");
            if stats && preld_tests::fast_env().is_empty() {
                let err = r.stderr_str();
                let fast: u64 = err.split("calls fast ").nth(1).and_then(|s| s.split(',').next()).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
                assert!(fast > 0, "{prog} {mode}: no call made in the gate: {err}");
            }
        }
    }
    // An ordinary user's own files: the program copied where uid 1000 may
    // run it, the tree made its own.
    let prog = bin.join("stat_gate");
    fs::copy(program("pola/stat_gate"), &prog).unwrap();
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    for p in [&dir, &dir.join("sub"), &dir.join("file"), &dir.join("sub/file")] {
        std::os::unix::fs::chown(p, Some(1000), Some(1000)).unwrap();
    }
    std::os::unix::fs::lchown(dir.join("link"), Some(1000), Some(1000)).unwrap();
    let as_user = |args: &[&std::ffi::OsStr]| {
        let mut c = Command::new(&setpriv);
        c.args(["--reuid=1000", "--regid=1000", "--clear-groups", "--"]).args(args);
        c.env_clear().envs(ENV).envs(preld_tests::fast_env());
        run_limited(c, LIMIT).unwrap()
    };
    let native = as_user(&[prog.as_os_str(), dir.as_os_str()]).stdout_str();
    assert!(native.ends_with("preld's memory: none mapped\n"), "natively as uid 1000: {native}");
    let r = as_user(&[everyone.as_os_str(), "pola".as_ref(), "-B".as_ref(), "--ro".as_ref(), dir.as_os_str(), "--".as_ref(), prog.as_os_str(), dir.as_os_str()]);
    let out = r.stdout_str();
    let at = out.find("file again:").unwrap_or_else(|| panic!("as uid 1000: ld-preld's memory not found: {out}{}", r.stderr_str()));
    assert_eq!(&out[..at], native.strip_suffix("preld's memory: none mapped\n").unwrap(), "as uid 1000");
    assert!(out.ends_with("preld's memory: EFAULT, unchanged\n"), "as uid 1000: {out}");
}

/// glibc's fstat (newfstatat(fd, "", buf, AT_EMPTY_PATH)), which the fast
/// path's stat gate makes itself for an fd on a grant, and its neighbours
/// (`programs/pola/fstat_gate.c`): a NULL name (Linux 6.11 and later make
/// the fd's own stat of it: 0 natively), a name other than "", other
/// flags, a bad name or buffer, the fd's number given to a pipe,
/// /dev/null, a directory, closed: as natively, as root and as nobody (a
/// tree of root's: the owners fixed), with the fast path and without,
/// dynamic and static. (The gate read the name after the kernel's 0: a
/// NULL one killed the program with SIGSEGV; the handler said EFAULT.)
#[test]
fn fstat_of_a_grant_s_fd_and_its_neighbours_as_natively() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = scratch("fstat-gate");
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.join("dir");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("file"), "123456\n").unwrap();
    for d in [&dir, &dir.join("sub")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(dir.join("file"), fs::Permissions::from_mode(0o644)).unwrap();
    let wrong = as_root_and_nobody(&tmp, "fstat_gate", &dir, |_| true);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Runs `pola/PROG` and `pola/PROG-static` (copied where everyone may run
/// them) with `dir` as their argument natively and in `preld pola -B --ro
/// DIR`, as root and as nobody, with the fast path as the suite runs it,
/// off, and with statistics on (the counting gates): each way the session
/// differs from the native run (exit status, stdout), with what it wrote
/// to stderr. `expected` checks each native stdout first (a broken setup
/// fails the test there).
fn as_root_and_nobody(tmp: &Scratch, prog: &str, dir: &Path, expected: impl Fn(&str) -> bool) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let bin = tmp.dir("bin");
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let everyone = preld_for_everyone(&bin);
    let setpriv = require_tool("setpriv", "util-linux");
    let mut wrong = Vec::new();
    for prog in [prog.to_string(), format!("{prog}-static")] {
        let p = bin.join(&prog);
        fs::copy(program(&format!("pola/{prog}")), &p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        for nobody in [false, true] {
            let cmd = |args: &[&std::ffi::OsStr], env: &[(&str, &str)]| {
                let mut c = if nobody {
                    let mut c = Command::new(&setpriv);
                    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).args(args);
                    c
                } else {
                    let mut c = Command::new(args[0]);
                    c.args(&args[1..]);
                    c
                };
                c.env_clear().envs(ENV).envs(env.iter().copied());
                run_limited(c, LIMIT).unwrap()
            };
            let native = cmd(&[p.as_os_str(), dir.as_os_str()], &[]);
            assert_eq!(native.status.code(), Some(0), "{prog} natively: {}", native.stderr_str());
            let native = native.stdout_str();
            assert!(expected(&native), "{prog} natively (nobody: {nobody}): {native}");
            let mut stats = preld_tests::fast_env();
            stats.push(("PRELD_STATS", "1"));
            for env in [preld_tests::fast_env(), vec![("PRELD_FAST", "0")], stats] {
                let args = [everyone.as_os_str(), "pola".as_ref(), "-B".as_ref(), "--ro".as_ref(), dir.as_os_str(), "--".as_ref(), p.as_os_str(), dir.as_os_str()];
                let r = cmd(&args, &env);
                let out = r.stdout_str();
                if r.status.code() != Some(0) || out != native {
                    let who = if nobody { "nobody" } else { "root" };
                    wrong.push(format!("{prog} as {who} {env:?} ({}):\n{}{}", describe_status(r.status), unified_diff(native.as_bytes(), out.as_bytes(), "native", "session"), r.stderr_str()));
                }
            }
        }
    }
    wrong
}

/// Listings and copies of directory fds, which a session's fast path makes
/// itself (arch `fast_gate_listing`: getdents64 of a grant's directory;
/// `fast_gate_dup`: dup and fcntl's F_DUPFD and F_DUPFD_CLOEXEC, whose copy
/// takes what was learnt of the original, so that stats beside it and its
/// listings stay in the gates: find walks each directory through a copy)
/// (`programs/pola/listing_gate.c`): listings through the fd and through
/// copies below and above fd 1024, after the original is closed; the
/// parent, a virtual directory, through a copy and at the number of a
/// grant's directory fd replaced by dup2 and by a raw close and a new open
/// (the server's listing, never the stand-in's); a file, bad and small
/// buffers, numbers not open (preld's own among them): as natively, as
/// root and as nobody, with the fast path and without, dynamic and static.
#[test]
fn listings_and_copies_of_a_grant_s_directory_fds_as_natively() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = scratch("listing-gate");
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.join("dir");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("file"), "hello\n").unwrap();
    fs::write(dir.join("sub/file"), "a\n").unwrap();
    fs::write(dir.join("sub/more"), "b\n").unwrap();
    for d in [&dir, &dir.join("sub")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let wrong = as_root_and_nobody(&tmp, "listing_gate", &dir, |native| native.contains("parent, copied: bin dir\n") && native.ends_with("listed 0, copied 0, other errors 0\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A stat whose name lies in a shared file mapping that another process
/// cuts short and extends again all the while
/// (`programs/pola/shared_truncate.c`, which never touches those bytes
/// itself): natively each stat is 0, EFAULT or ENOENT, and the program goes on.
/// In a session it dies of SIGBUS, its own SIGBUS handler notwithstanding,
/// as root (the stat gate's look at the name after the call,
/// `fast_gate_stat_beside`) and as an ordinary user (the handler gate's
/// copy of it, `usermem::read_to_nul`), with the fast path off too (the
/// trap path's), dynamic and static, 8 runs in 8: each reads the name
/// with plain loads once the page is known readable, and a fault of
/// preld's own code is fatal. (Under `preld run` the path gate's faults
/// reach the program's SIGBUS handler as its own, 64,000 in 100,000 stats,
/// none natively.) (docs/DESIGN.md
/// says a mapping truncated by another process "stays known readable ...
/// (the program's own access to those bytes faults too)": here the
/// program makes no such access.) A fix: a fault fixup for preld's plain
/// copies of the program's memory (the faulting rip in a copy routine
/// resumes at its EFAULT way), in the gates and in the handler.
#[test]
#[ignore = "bug: a name in a shared mapping another process truncates kills a session's program with SIGBUS (preld's plain read of it faults; natively the stat says EFAULT)"]
fn a_stat_of_a_name_in_a_mapping_cut_short_elsewhere_is_efault_not_sigbus() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let tmp = scratch("shared-truncate");
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.dir("dir");
    fs::write(dir.join("file"), "x\n").unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    for prog in ["pola/shared_truncate", "pola/shared_truncate-static"] {
        let mut c = Command::new(program(prog));
        c.arg(&dir).arg("100000").env_clear().envs(ENV);
        let native = run_limited(c, LIMIT).unwrap();
        assert!(native.stdout_str().starts_with("survived: stats made"), "{prog} natively: {}", native.stdout_str());
        for (uid, fast) in [(0u32, true), (65534, true), (0, false)] {
            let mut c = Command::new(preld());
            c.args(["pola", "-B", "--rw"]).arg(&dir).arg("--ro").arg(program(prog).parent().unwrap());
            c.arg("--").arg(program(prog)).arg(&dir).arg("100000");
            c.env_clear().envs(ENV).uid(uid).gid(uid);
            if !fast {
                c.env("PRELD_FAST", "0");
            }
            let r = run_limited(c, LIMIT).unwrap();
            assert!(
                r.stdout_str().starts_with("survived: stats made"),
                "{prog} as uid {uid}, fast path {fast}: {} {}{}",
                describe_status(r.status),
                r.stdout_str(),
                r.stderr_str()
            );
        }
    }
}

/// statfs and the xattr calls by path on a path that reaches the session's
/// /proc through `..` or a symlink (`/usr/../proc/self/status`, a link to
/// /proc/mounts, -B's /etc/mtab) answer as on the path it leads to, as
/// natively: the server answers them ELSEWHERE, and `pola::elsewhere` made
/// the call again only for opens, stat, access, readlink, chdir and the
/// calls that change a file, so these were ENOENT (`stat -f /etc/mtab`:
/// "cannot read file system information for '/etc/mtab': No such file or
/// directory"; `ls -lL /etc/mtab` printed "No such file or directory"
/// from its listxattr and lgetxattr). Found by the session-21b adversary.
#[test]
fn statfs_and_xattrs_through_links_into_proc_as_natively() {
    let tmp = scratch("proc-links-statfs");
    let d = tmp.path();
    std::os::unix::fs::symlink("/proc/mounts", d.join("mtab")).unwrap();
    std::os::unix::fs::symlink("/proc/self/status", d.join("status")).unwrap();
    let script = "import os\n\
                  for p in ['/usr/../proc/self/status', '/usr/../proc', 'mtab', 'status', '/etc/mtab']:\n\
                  \x20   for name, f in [('statvfs', lambda: (os.statvfs(p).f_namemax, os.statvfs(p).f_bsize)),\n\
                  \x20                   ('listxattr', lambda: os.listxattr(p)), ('llistxattr', lambda: os.listxattr(p, follow_symlinks=False)),\n\
                  \x20                   ('getxattr', lambda: os.getxattr(p, 'user.preld')), ('lgetxattr', lambda: os.getxattr(p, 'user.preld', follow_symlinks=False))]:\n\
                  \x20       try:\n\
                  \x20           print(p, name, f(), flush=True)\n\
                  \x20       except OSError as e:\n\
                  \x20           print(p, name, 'errno', e.errno, flush=True)\n";
    fs::write(d.join("statfs.py"), script).unwrap();
    let py = require_file("/usr/bin/python3", "python3");
    let r = Run::new(d, &[py.to_str().unwrap(), "statfs.py"]).grant("--rw", d);
    let (n, s) = (r.native_ok(), r.session_ok());
    compare("statfs and xattrs through links into /proc", script, &n, &s, true);
    assert!(!s.stdout_str().contains("errno 2\n"), "ENOENT for a path into the session's /proc:\n{}", s.stdout_str());
}

/// chdir into a process's directory of /proc (`cd /proc/self`, `cd
/// /proc/1`, also through `..`: `cd /usr/../proc/self`) as natively:
/// relative names then are the process's files (`head -1 status`). It
/// failed with ELOOP (found by the session-21b adversary): the server
/// has no /proc, and answered ELSEWHERE to the same path each time. Now
/// the handler looks in the session's procfs and the server takes the
/// name as the cwd. Missing and non-directories fail as natively.
#[test]
fn chdir_into_a_process_s_proc_directory_as_natively() {
    let tmp = scratch("proc-chdir");
    let script = "cd /proc/self && pwd && head -1 status; cd /usr/../proc/self && pwd && head -1 status; cd /proc/1 && pwd && ls -d fd; \
                  cd /proc/self/status 2>/dev/null || echo notdir $?; cd /proc/nothing 2>/dev/null || echo missing $?; cd /proc/self/task && ls | wc -l";
    Run::new(tmp.path(), &["sh", "-c", script]).grant("--rw", tmp.path()).same("cd /proc/self", true);
}

/// Another process's /proc/PID/root and cwd (a child's look at its
/// shell's: `cat /proc/$$/cwd/h`) as natively: the links read as the
/// session's paths and lead there. In a session `readlink /proc/PID/cwd`
/// says `/` for a cwd elsewhere, and a path through either link is ELOOP
/// (only the process's own /proc/self/root and cwd are the handler's).
/// Found by the session-22b adversary.
#[test]
#[ignore = "bug: /proc/PID/root and /proc/PID/cwd of another session process: readlink of cwd says /, and paths through either are ELOOP"]
fn another_process_s_proc_root_and_cwd_as_natively() {
    let tmp = scratch("proc-other-root");
    fs::write(tmp.path().join("h"), "here\n").unwrap();
    let script = "readlink /proc/$$/root; readlink /proc/$$/cwd; cat /proc/$$/cwd/h; ls /proc/$$/root/ >/dev/null && echo listed";
    Run::new(tmp.path(), &["sh", "-c", script]).grant("--ro", tmp.path()).same("another process's /proc/PID/root and cwd", true);
}

/// openat(DIRFD, NAME, O_NONBLOCK or O_DIRECTORY ...) beside a granted
/// directory's fd (the session open gate's BESIDE path, the name looked at
/// after the call): `..`, `../f`, `inner/..`, `f/`, `/`, `//`, an absolute
/// name, symlinks (to a file, a directory, `..`, absolute), a FIFO (device
/// nodes: `device_nodes_in_grants`; a session cannot mknod), names of 255
/// and 256 bytes, NUL-less names at a page's end, then beside the fds it
/// made, O_NOATIME, beside an O_PATH fd of the directory and beside the
/// number dup2'd over to a file and to another directory, and from -B's
/// private /tmp down to the scratch (a grant nested in it): as natively
/// (tests/programs/pola/beside_names.c; session-23b adversary).
#[test]
fn names_beside_a_directory_fd_open_as_natively() {
    let tmp = scratch("beside-names");
    let d = tmp.path();
    let prog = d.join("beside_names");
    fs::copy(program("pola/beside_names"), &prog).unwrap();
    let w = d.join("w");
    fs::create_dir(&w).unwrap();
    let wn = d.join("wn");
    fs::create_dir(&wn).unwrap();
    let n = Run::new(&wn, &[prog.to_str().unwrap()]).native_ok();
    let s = Run::new(&w, &[prog.to_str().unwrap()]).grant("--ro", &prog).grant("--rw", &w).session();
    compare("names beside a directory fd", "beside_names", &n, &s, true);
}

/// stat and lstat by absolute paths beneath a grant (the session stat
/// gate's, in asm from the grant's copy): symlinks at the end and on the
/// way, `..`, `//`, trailing slashes, paths past PATH_MAX and NAME_MAX,
/// files and a directory owned by nobody, a FIFO, a buffer read-only,
/// NULL, across a mapping's end, and in a vfork child: as natively
/// (tests/programs/pola/stat_edges.c; session-23b adversary). And the
/// path inside the buffer: a file owned by nobody (the overflow id, which
/// the gate hands to the handler after its fstat) was ENOENT, the handler
/// reading as the path the stat the gate had written over it (fixed: a
/// buffer that meets the path goes to the handler first).
#[test]
fn stats_beneath_a_grant_at_the_edges_as_natively() {
    let tmp = scratch("stat-edges");
    let d = tmp.path();
    let prog = d.join("stat_edges");
    fs::copy(program("pola/stat_edges"), &prog).unwrap();
    let w = d.join("w");
    fs::create_dir(&w).unwrap();
    let wn = d.join("wn");
    fs::create_dir(&wn).unwrap();
    let n = Run::new(&wn, &[prog.to_str().unwrap()]).native_ok();
    let s = Run::new(&w, &[prog.to_str().unwrap()]).grant("--ro", &prog).grant("--rw", &w).session();
    compare("stats at the edges", "stat_edges", &n, &s, true);
}

/// More than 16 virtual directories (the ancestors of a deep grant), each
/// stat'ed by its own name (its stand-in's fd kept by the process at its
/// first stat, 16 slots at most) and spelt `P/.` (the server's answer):
/// the same, by 8 threads racing the first stats, then in a fork child, a
/// vfork child and the image exec'd next (`--vdirs`)
/// (tests/programs/pola/vdirs_many.c; session-23b adversary).
#[test]
fn many_virtual_directories_stat_as_the_server_says() {
    let tmp = scratch("vdirs-many");
    let d = tmp.path();
    let prog = d.join("vdirs_many");
    fs::copy(program("pola/vdirs_many"), &prog).unwrap();
    let mut deep = d.join("v");
    for i in 0..20 {
        deep.push(format!("a{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    let target = deep.join("x");
    fs::write(&target, "x\n").unwrap();
    let s = Run::new(d, &[prog.to_str().unwrap(), target.to_str().unwrap()]).grant("--ro", &prog).grant("--ro", &deep).session_ok();
    let out = s.stdout_str();
    let lines: Vec<&str> = out.lines().filter(|l| l.contains(": ") && !l.ends_with(": same")).collect();
    assert!(out.contains("exec'd: ") && out.matches("ancestors").count() == 2, "{}", s.report());
    assert!(lines.is_empty(), "virtual directories' stats differ from the server's:\n{}\n{}", lines.join("\n"), s.report());
}

/// A stat through libc's syscall() whose buffer lies in the stack below
/// the caller's stack pointer, past the red zone (at 128 to 512 bytes
/// below it): natively the kernel writes it there and the call returns
/// (tests/programs/pola/stat_below_rsp.c). In a session the program dies
/// of SIGSEGV at the first offset (the buffer right below the red zone),
/// and so under `preld run`, even with PRELD_FAST=0 (the tail gate's slot
/// and a rewritten site's stub's return address and the session gates'
/// saved registers lie there, and the kernel's write of the stat
/// overwrites them); a session with PRELD_FAST=0 (the stat made in the
/// handler) answers as natively. The x86-64 ABI lets signal handlers
/// clobber that memory, so only a program with no signals may rely on it
/// (session-23b adversary; not fixed: the slot's place is the design's,
/// DESIGN "Calls that really happen go through the tail gate").
#[test]
#[ignore = "bug: a buffer below the caller's red zone is written over preld's return address and saved registers (tail gate slot, stub, session gates): SIGSEGV where natively the call works"]
fn a_stat_into_the_stack_below_the_red_zone_works_as_natively() {
    let tmp = scratch("stat-below-rsp");
    let d = tmp.path();
    let prog = d.join("stat_below_rsp");
    fs::copy(program("pola/stat_below_rsp"), &prog).unwrap();
    let r = Run::new(d, &[prog.to_str().unwrap(), "/usr/include/stdio.h"]).grant("--ro", &prog);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("stat_below_rsp: 0 wrong"), "native: {}", n.report());
    r.same("a stat into the stack below the red zone", true);
}

/// O_NOATIME opens (root's: CAP_FOWNER) of files owned by nobody and by
/// another id, beside a granted directory's fd
/// (tests/programs/pola/beside_names.c `noatime`): natively they open; in
/// a root session they were EPERM, the gate's and the handler's alike
/// (PRELD_FAST=0 too), as a session's processes have no capabilities
/// (session-23b adversary). Now made without O_NOATIME where the kernel
/// says EPERM in root's session (`pola::open_beneath_once`).
#[test]
fn noatime_opens_of_unmapped_owners_files_as_natively() {
    let tmp = scratch("beside-noatime");
    let d = tmp.path();
    let prog = d.join("beside_names");
    fs::copy(program("pola/beside_names"), &prog).unwrap();
    let w = d.join("w");
    fs::create_dir(&w).unwrap();
    let wn = d.join("wn");
    fs::create_dir(&wn).unwrap();
    let n = Run::new(&wn, &[prog.to_str().unwrap(), "noatime"]).native_ok();
    let s = Run::new(&w, &[prog.to_str().unwrap(), "noatime"]).grant("--ro", &prog).grant("--rw", &w).session();
    compare("O_NOATIME opens of unmapped owners' files", "beside_names noatime", &n, &s, true);
}

/// beside_names.c with a host mount (a tmpfs, made in a mount namespace of
/// the test's own, natively and around the session) at top/sub/mnt of the
/// granted directory: `mnt`, `mnt/g`, `mnt/..` beside the directory's fd
/// and `g`, `..` beside the mount's (the BESIDE path's RESOLVE_NO_XDEV
/// hands those to the handler): as natively (session-23b adversary).
#[test]
fn names_beside_a_directory_fd_across_a_host_mount_open_as_natively() {
    let tmp = scratch("beside-mount");
    let d = tmp.path();
    let prog = d.join("beside_names");
    fs::copy(program("pola/beside_names"), &prog).unwrap();
    let go = |w: &Path, session: bool| {
        fs::create_dir_all(w.join("top/sub/mnt")).unwrap();
        let mut script = format!(
            "mount --make-rprivate / && mount -t tmpfs -o size=1m none top/sub/mnt && echo gg > top/sub/mnt/f && echo g > top/sub/mnt/g && exec {} ",
            if session { format!("{} pola -B --ro {} --rw {} --", preld().display(), prog.display(), w.display()) } else { String::new() }
        );
        script.push_str(&prog.display().to_string());
        let mut c = Command::new("unshare");
        c.args(["-m", "sh", "-c", &script]).current_dir(w).env_clear().envs(ENV).envs(preld_tests::fast_env());
        run_limited(c, LIMIT).unwrap()
    };
    let wn = d.join("wn");
    let w = d.join("w");
    let n = go(&wn, false);
    assert!(n.status.success(), "native: {}", n.report());
    assert!(n.stdout_str().contains("openat(mnt/g, flags 0): ok file 2"), "native: {}", n.report());
    let s = go(&w, true);
    compare("names beside a directory fd across a host mount", "beside_names (mount)", &n, &s, true);
}

/// The registers and flags after getdents64, dup, fcntl (F_DUPFD,
/// F_DUPFD_CLOEXEC, F_GETFD) and close from sites of the program's own,
/// which a session rewrites to its listing, dup and close gates: every
/// register but rax, rcx and r11 as it went in, r11 the flags, CF kept,
/// as natively, with a 50 us timer's signals coming in (some put off by
/// a gate and unblocked in its end); a grant's directory, /proc/self/fd,
/// numbers not open, a bad buffer, upper halves set in the fd and the
/// command (tests/programs/pola/gate_registers.c), dynamic and static
/// (session-24 adversary).
#[test]
fn registers_through_the_listing_dup_and_close_gates_as_natively() {
    let tmp = scratch("gate-registers");
    let d = tmp.path();
    let dir = d.join("dir");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("file"), "x\n").unwrap();
    for prog in ["gate_registers", "gate_registers-static"] {
        let p = d.join(prog);
        fs::copy(program(&format!("pola/{prog}")), &p).unwrap();
        let r = Run::new(d, &[p.to_str().unwrap(), dir.to_str().unwrap()]).grant("--ro", &p).grant("--ro", &dir);
        let n = r.native_ok();
        assert!(n.stdout_str().contains("F_DUPFD_CLOEXEC: held, an fd\n") && !n.stdout_str().contains("CHANGED"), "native: {}", n.report());
        r.same(&format!("{prog}: registers through the listing, dup and close gates"), false);
    }
}

/// A program's own seccomp filter traps close, dup and getdents64 and its
/// SIGSYS handler answers them (tests/programs/pola/trap_emulation.c),
/// their sites rewritten to the close, dup and listing gates before: the
/// handler's answers, as natively. The gates' putting signals off
/// (session-24) lost them; a filter of the program's turns the fd cache
/// off, so they put none off, and the handler gate leaves such a
/// process's calls to the trap path (session-24 adversary). Dynamic and
/// static.
#[test]
fn a_program_s_own_trapping_filter_answers_through_the_gates_as_natively() {
    let tmp = scratch("trap-emulation");
    let d = tmp.path();
    let dir = d.join("dir");
    fs::create_dir_all(dir.join("sub")).unwrap();
    for prog in ["trap_emulation", "trap_emulation-static"] {
        let p = d.join(prog);
        fs::copy(program(&format!("pola/{prog}")), &p).unwrap();
        let r = Run::new(d, &[p.to_str().unwrap(), dir.to_str().unwrap()]).grant("--ro", &p).grant("--ro", &dir);
        let n = r.native_ok();
        assert!(n.stdout_str().contains("answers: close 4242, dup 4242, getdents64 4242\n") && n.stdout_str().contains("traps 9\n"), "native: {}", n.report());
        r.same(&format!("{prog}: a trapping filter's answers"), false);
    }
}

/// fcntl(F_DUPFD / F_DUPFD_CLOEXEC) with each minimum the program has no
/// fd at, but the last 128 below the fd limit, lands at that number, as
/// natively (tests/programs/pola/dupfd_minimums.c; it can fail only where
/// the soft fd limit is the hard one, as where the suite runs here). In a
/// session preld's own fds sit at numbers below
/// the limit where the soft limit is the hard one (ownfd `below_limit`):
/// the kernel skipped them, and the copy landed above. Now the dup gate
/// leaves such a minimum to the handler, which moves preld's fds between
/// it and the copy above the copy and makes it again (fds `dupfd`), as
/// dup2 moves preld's fd away (session-24 adversary).
#[test]
fn f_dupfd_at_preld_s_numbers_lands_as_natively() {
    let tmp = scratch("dupfd-minimums");
    let d = tmp.path();
    let p = d.join("dupfd_minimums");
    fs::copy(program("pola/dupfd_minimums"), &p).unwrap();
    let r = Run::new(d, &[p.to_str().unwrap()]).grant("--ro", &p);
    let n = r.native_ok();
    assert!(n.stdout_str().contains("tried; elsewhere 0, failed 0"), "native: {}", n.report());
    let s = r.session_ok();
    assert_eq!(s.stdout_str(), n.stdout_str(), "session: {}", s.report());
}
