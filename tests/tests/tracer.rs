//! `preld trace --tracer`: external tracers (docs/tracer-protocol.md), end to
//! end with target/preld/preld and real programs. Tracers written in sh and
//! in Python answer cont, step, skip-ok, skip-fail, rewrite, set, signals
//! and detach; two tracers nest; a tracer that dies or answers nonsense
//! leaves the program running as natively; the Python client's examples
//! run, and `pip install ./python` works offline. A missing host tool fails
//! the test with the Debian package to install.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use preld_tests::run::{run_limited, Output};
use preld_tests::{preld, require_tool, root};

const LIMIT: Duration = Duration::from_secs(60);

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("preld-tracer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A sh tracer: `body` is the case list of a `while read -r kind seq
    /// rest` loop; every line preld wrote is logged to `name`.log first.
    /// Signals are delivered unless `body` answers them.
    fn sh_tracer(&self, name: &str, body: &str) -> String {
        let log = self.path(&format!("{name}.log"));
        let script = self.path(&format!("{name}.sh"));
        let text = format!(
            "#!/bin/sh\nn=0\nwhile read -r kind seq rest; do\n  printf '%s %s %s\\n' \"$kind\" \"$seq\" \"$rest\" >> {log}\n  case \"$kind\" in\n{body}\n    signal) echo deliver ;;\n  esac\ndone\n",
            log = log.display()
        );
        std::fs::write(&script, text).unwrap();
        format!("sh {}", script.display())
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{name}.log"))).unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(mut cmd: Command) -> Output {
    cmd.env("PYTHONPATH", root().join("python"));
    let shown = format!("{cmd:?}");
    run_limited(cmd, LIMIT).unwrap_or_else(|e| panic!("{shown}: {e}"))
}

/// `preld trace ARGS...`.
fn trace(args: &[&str]) -> Output {
    let mut c = Command::new(preld());
    c.arg("trace").args(args);
    run(c)
}

fn native(args: &[&str]) -> Output {
    let mut c = Command::new(args[0]);
    c.args(&args[1..]);
    run(c)
}

/// The real python3 (not a wrapper script that would make calls of its own).
fn python3() -> String {
    let py = require_tool("python3", "python3");
    let out = Command::new(py).args(["-c", "import sys; print(sys.executable)"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn cont_shows_each_subscribed_call_and_changes_nothing() {
    let s = Scratch::new("cont");
    let f = s.path("data");
    std::fs::write(&f, "some data\n").unwrap();
    let t = s.sh_tracer("t", "    call) echo cont ;;");
    let fs = f.to_str().unwrap();
    let out = trace(&["--tracer", &t, "-e", "trace=openat", "--", "cat", fs]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"some data\n");
    let log = s.log("t");
    assert!(log.contains(&format!("openat(AT_FDCWD, \"{fs}\", O_RDONLY)")), "{log}");
    // Unsubscribed calls never reach the tracer.
    for l in log.lines() {
        assert!(l.starts_with("call ") && l.contains(" openat(") || l.starts_with("exit "), "not subscribed: {l}");
    }
    assert!(log.lines().last().unwrap().starts_with("exit ") && log.ends_with(" 0\n"), "{log}");
}

#[test]
fn skip_fail_and_skip_ok() {
    let s = Scratch::new("skip");
    let f = s.path("data");
    std::fs::write(&f, "some data\n").unwrap();
    let fs = f.to_str().unwrap();
    let t = s.sh_tracer("t", &format!("    call) case \"$rest\" in *'\"{fs}\"'*) echo 'skip-fail EACCES' ;; *) echo cont ;; esac ;;"));
    let out = trace(&["--tracer", &t, "-e", "trace=openat", "--", "cat", fs]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Permission denied"), "{}", text(&out.stderr));
    // skip-ok: cat's write is answered "done" and never made.
    let t = s.sh_tracer("w", "    call) echo 'skip-ok 10' ;;");
    let out = trace(&["--tracer", &t, "-e", "trace=write", "--", "cat", fs]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"", "the write was made");
    assert!(s.log("w").contains("write(1, \"some data\\n\", 10)"), "{}", s.log("w"));
}

#[test]
fn rewrite_places_a_new_string_and_step_sees_the_result() {
    let s = Scratch::new("rewrite");
    let (a, b) = (s.path("a"), s.path("b"));
    std::fs::write(&a, "file a\n").unwrap();
    std::fs::write(&b, "file b\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let t = s.sh_tracer(
        "t",
        &format!(
            "    call) case \"$rest\" in *'\"{a}\"'*) printf 'rewrite openat(AT_FDCWD, \"{b}\", O_RDONLY)\\nstep\\n' ;; *) echo cont ;; esac ;;\n    result) echo \"$rest\" ;;"
        ),
    );
    let out = trace(&["--tracer", &t, "-e", "trace=openat", "--", "cat", a]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"file b\n");
    let log = s.log("t");
    assert!(log.lines().any(|l| l.starts_with("result ") && l.contains(" ok ")), "{log}");
}

#[test]
fn nested_tracers_see_outer_rewrites_and_results_go_inner_to_outer() {
    let s = Scratch::new("nest");
    let (a, b) = (s.path("a"), s.path("b"));
    std::fs::write(&a, "file a\n").unwrap();
    std::fs::write(&b, "file b\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let outer = s.sh_tracer(
        "outer",
        &format!(
            "    call) case \"$rest\" in *'\"{a}\"'*) echo 'rewrite openat(AT_FDCWD, \"{b}\", O_RDONLY)' ;; *getppid*) echo step ;; *) echo cont ;; esac ;;\n    result) echo \"ok ${{rest#ok }}\" ;;"
        ),
    );
    let inner = s.sh_tracer("inner", "    call) case \"$rest\" in *getppid*) echo step ;; *) echo cont ;; esac ;;\n    result) echo 'ok 4242' ;;");
    let py = python3();
    let prog = format!("import os; print(open({a:?}).read(), end=''); print(os.getppid())");
    let out = trace(&["--tracer", &outer, "-e", "trace=openat,getppid", "--tracer", &inner, "-e", "trace=openat,getppid", "--", &py, "-c", &prog]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "file b\n4242\n");
    let (ol, il) = (s.log("outer"), s.log("inner"));
    assert!(il.contains(&format!("openat(AT_FDCWD, \"{b}\", O_RDONLY)")) && !il.contains(&format!("\"{a}\"")), "inner saw: {il}");
    assert!(ol.lines().any(|l| l.starts_with("result ") && l.ends_with("ok 4242")), "outer saw: {ol}");
}

#[test]
fn a_tracer_that_dies_or_detaches_leaves_the_program_as_native() {
    let s = Scratch::new("dies");
    let prog = ["sh", "-c", "for i in 1 2 3 4 5 6; do echo line $i; done; cat /etc/hostname"];
    let want = native(&prog);
    let dies = s.sh_tracer("dies", "    call) n=$((n+1)); [ $n -ge 2 ] && exit 0; echo cont ;;");
    let mut args = vec!["--tracer", &dies, "-e", "trace=write", "--"];
    args.extend(prog);
    let out = trace(&args);
    assert_eq!((text(&out.stdout), out.status.code()), (text(&want.stdout), want.status.code()), "{}", text(&out.stderr));
    assert_eq!(s.log("dies").lines().count(), 2);
    let detach = s.sh_tracer("detach", "    call) echo detach ;;");
    args[1] = &detach;
    let out = trace(&args);
    assert_eq!((text(&out.stdout), out.status.code()), (text(&want.stdout), want.status.code()), "{}", text(&out.stderr));
    let log = s.log("detach");
    assert_eq!(log.lines().filter(|l| l.starts_with("call ")).count(), 1, "asked after detach: {log}");
}

#[test]
fn malformed_answers_are_reported_and_taken_as_cont() {
    let s = Scratch::new("bad");
    let t = s.sh_tracer("t", "    call) echo 'frobnicate 1 2' ;;");
    let out = trace(&["--tracer", &t, "-e", "trace=openat,write", "--", "cat", "/etc/hostname"]);
    let want = native(&["cat", "/etc/hostname"]);
    assert_eq!(out.stdout, want.stdout);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("bad answer `frobnicate 1 2`: unknown answer `frobnicate`; taken as `cont`"), "{}", text(&out.stderr));
    let t = s.sh_tracer("r", "    call) echo 'rewrite openat(AT_FDCWD, \"/x\", O_NOSUCHFLAG)' ;;");
    let out = trace(&["--tracer", &t, "-e", "trace=openat", "--", "cat", "/etc/hostname"]);
    assert_eq!(out.stdout, want.stdout);
    assert!(text(&out.stderr).contains("`O_NOSUCHFLAG` is neither"), "{}", text(&out.stderr));
}

#[test]
fn signals_are_delivered_or_suppressed() {
    let s = Scratch::new("sig");
    let py = python3();
    let prog = "import os, signal\nsignal.signal(signal.SIGUSR1, lambda *a: print('got', flush=True))\nos.kill(os.getpid(), signal.SIGUSR1)\nprint('done')";
    for (answer, want) in [("suppress", "done\n"), ("deliver", "got\ndone\n")] {
        let t = s.sh_tracer(answer, &format!("    signal) echo {answer} ;;\n    call) echo cont ;;"));
        let out = trace(&["--tracer", &t, "-e", "trace=none", "--", &py, "-c", prog]);
        assert_eq!(text(&out.stdout), want, "{answer}: {}", text(&out.stderr));
        let log = s.log(answer);
        assert!(log.lines().any(|l| l.starts_with("signal ") && l.contains("SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER")), "{log}");
        assert!(!log.contains("call "), "trace=none still sent calls: {log}");
    }
}

#[test]
fn exit_lines_follow_children() {
    let s = Scratch::new("exit");
    let t = s.sh_tracer("t", "    call) echo cont ;;");
    let out = trace(&["--tracer", &t, "-e", "trace=openat", "--", "sh", "-c", "cat /etc/hostname >/dev/null; sh -c 'kill -9 $$'; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let log = s.log("t");
    let exits: Vec<&str> = log.lines().filter(|l| l.starts_with("exit ")).collect();
    assert!(exits.iter().any(|l| l.ends_with(" killed SIGKILL")), "{log}");
    assert!(exits.last().is_some_and(|l| l.ends_with(" 3")), "{log}");
    assert!(exits.len() >= 3, "{log}");
    // The child's openat comes from another pid than the shell's.
    let root_pid = exits.last().unwrap().split(' ').nth(1).unwrap();
    assert!(log.lines().any(|l| l.contains("\"/etc/hostname\"") && l.split(' ').nth(2) != Some(root_pid)), "{log}");
}

#[test]
fn a_thread_blocked_in_a_stepped_call_holds_up_no_other() {
    let s = Scratch::new("threads");
    let py = python3();
    let t = s.sh_tracer("t", "    call) echo step ;;\n    result) echo \"$rest\" ;;");
    let prog = "import os, threading, time\nr, w = os.pipe()\ndef later():\n    time.sleep(0.3)\n    os.write(w, b'x')\nth = threading.Thread(target=later)\nth.start()\nprint(os.read(r, 1))\nth.join()";
    let out = trace(&["--tracer", &t, "-e", "trace=read,write", "--", &py, "-c", prog]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "b'x'\n");
    assert!(out.elapsed < Duration::from_secs(20));
}

#[test]
fn python_examples_run() {
    let py = python3();
    let ex = root().join("python/examples");
    let p = preld().display().to_string();
    let ex = |name: &str| ex.join(name).display().to_string();
    // mini strace
    let mut c = Command::new(&py);
    c.args([&ex("mini_strace.py"), "--preld", &p, "-e", "openat,write", "--", "cat", "/etc/hostname"]);
    let out = run(c);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = "), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("+++ exited with 0 +++"));
    // the third write fails with EIO
    let mut c = Command::new(&py);
    c.args([&ex("fail_third_write.py"), "--preld", &p, "--", "sh", "-c", "echo 0; echo 1; echo 2; echo 3"]);
    let out = run(c);
    assert_eq!(text(&out.stdout), "0\n1\n3\n");
    assert!(text(&out.stderr).contains("I/O error"), "{}", text(&out.stderr));
    // /etc/passwd -> /tmp/passwd (the example's own paths)
    let fake = format!("preld-tracer-test:x:{}:0::/:/bin/false\n", std::process::id());
    std::fs::write("/tmp/passwd", &fake).unwrap();
    let mut c = Command::new(&py);
    c.args([&ex("passwd_redirect.py"), "--preld", &p, "--", "cat", "/etc/passwd"]);
    let out = run(c);
    assert_eq!(text(&out.stdout), fake, "{}", text(&out.stderr));
    // the clock ten years ahead
    let year = |o: &Output| text(&o.stdout).trim().parse::<i32>().unwrap_or_else(|_| panic!("{o:?}"));
    let now = year(&native(&["date", "+%Y"]));
    let mut c = Command::new(&py);
    c.args([&ex("clock_shift.py"), "--preld", &p, "315569520", "--", "date", "+%Y"]);
    let out = run(c);
    assert!((now + 9..=now + 10).contains(&year(&out)), "{}", text(&out.stderr));
}

#[test]
fn the_python_client_installs_offline_with_pip() {
    let py = python3();
    let s = Scratch::new("pip");
    let mut c = Command::new(&py);
    c.args(["-m", "pip", "install", "--no-index", "--no-cache-dir", "--quiet", "--target"]).arg(s.path("site")).arg(root().join("python"));
    let out = run(c);
    assert!(out.status.success(), "pip install ./python: {}{}", text(&out.stdout), text(&out.stderr));
    let mut c = Command::new(&py);
    c.env("PYTHONPATH", s.path("site")).args(["-c", "import preld; print(preld.quote(b'a\\n\"'))"]);
    c.env_remove("PYTHONPATH");
    let mut c2 = Command::new(&py);
    c2.args(["-I", "-c", &format!("import sys; sys.path.insert(0, {:?}); import preld; print(preld.__file__); print(preld.quote(b'a\\n\"'))", s.path("site"))]);
    let out = run_limited(c2, LIMIT).unwrap();
    let o = text(&out.stdout);
    assert!(o.contains(&s.path("site").display().to_string()) && o.ends_with("\"a\\n\\\"\"\n"), "{o}{}", text(&out.stderr));
    drop(c);
}
