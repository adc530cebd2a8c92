//! `preld trace -p PID`: attaching to a program already running under
//! `preld run`, seeing its calls (also those of call sites the fast path
//! had rewritten), detaching on SIGINT with the program going on as if
//! nothing happened, the program's own exit line when it ends attached,
//! `--tracer` with -p, and the refusals: a process not under preld (which a
//! SIGSYS would kill), one that does not exist, one in a capability session.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use preld_tests::run::{run, wait_or_kill, LIMIT};
use preld_tests::scratch::Scratch;
use preld_tests::{preld, require_file};

/// A python3 under `preld run` that calls getppid and appends a tick to
/// `ticks` every 10 ms until `stop` exists, then prints `done N`.
fn looping(d: &Scratch) -> Child {
    let py = require_file("/usr/bin/python3", "python3");
    let script = format!(
        "import os, time\nn = 0\nwhile not os.path.exists({stop:?}):\n    os.getppid()\n    n += 1\n    \
         open({ticks:?}, 'a').write('tick\\n')\n    time.sleep(0.01)\nprint('done', n > 0)\n",
        stop = d.join("stop").display().to_string(),
        ticks = d.join("ticks").display().to_string()
    );
    let child = Command::new(preld())
        .args(["run", "--"])
        .arg(py)
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Running, and far enough for its sites to be rewritten.
    wait_for(|| std::fs::read_to_string(d.join("ticks")).is_ok_and(|t| t.lines().count() >= 20), "the program never ticked");
    child
}

fn wait_for(mut ok: impl FnMut() -> bool, what: &str) {
    let end = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < end, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lines_of(p: &Path, start: &str) -> usize {
    std::fs::read_to_string(p).unwrap_or_default().lines().filter(|l| l.starts_with(start)).count()
}

#[test]
fn attach_sees_the_calls_and_detach_lets_the_program_go_on() {
    let d = Scratch::new("attach");
    let prog = looping(&d);
    let out = d.join("trace.txt");
    let mut tracer = Command::new(preld())
        .args(["trace", "-e", "trace=getppid,openat", "-o"])
        .arg(&out)
        .arg("-p")
        .arg(prog.id().to_string())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Calls of sites rewritten before the attach are seen too.
    wait_for(|| lines_of(&out, "getppid()") >= 10, "no getppid lines after attaching");
    assert!(lines_of(&out, "openat(AT_FDCWD, ") > 0, "no openat lines");
    // SAFETY: kill(2) with integer arguments.
    unsafe { libc::kill(tracer.id() as i32, libc::SIGINT) };
    let st = wait_or_kill(&mut tracer, LIMIT);
    assert_eq!(st.status.code(), Some(0), "preld trace -p after SIGINT: {:?}", st.status);
    let mut err = String::new();
    std::io::Read::read_to_string(tracer.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains(&format!("process {} attached", prog.id())) && err.contains("detached"), "{err}");
    // Detached: no more lines, and the program goes on.
    let n = lines_of(&out, "getppid()");
    let ticks = lines_of(&d.join("ticks"), "tick");
    wait_for(|| lines_of(&d.join("ticks"), "tick") >= ticks + 20, "the program stopped after the detach");
    assert_eq!(lines_of(&out, "getppid()"), n, "lines were written after the detach");
    std::fs::write(d.join("stop"), "").unwrap();
    let o = prog.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "the program: {:?} {}", o.status, String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "done True\n");
    assert!(o.stderr.is_empty(), "the program said: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_process_that_ends_attached_gets_its_exit_line() {
    let d = Scratch::new("attach-exit");
    let prog = looping(&d);
    let out = d.join("trace.txt");
    let mut tracer = Command::new(preld()).args(["trace", "-e", "trace=exit_group", "-o"]).arg(&out).arg("-p").arg(prog.id().to_string()).spawn().unwrap();
    wait_for(|| std::fs::metadata(&out).is_ok(), "no trace file");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(d.join("stop"), "").unwrap();
    let st = wait_or_kill(&mut tracer, LIMIT);
    assert_eq!(st.status.code(), Some(0), "preld trace -p when the process ended: {:?}", st.status);
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    assert!(lines.iter().any(|l| l.starts_with("exit_group(0)") && l.ends_with("= ?")), "{text}");
    assert_eq!(lines.last(), Some(&"+++ exited with 0 +++"), "{text}");
    assert!(prog.wait_with_output().unwrap().status.success());
}

#[test]
fn a_tracer_attaches_with_p() {
    let d = Scratch::new("attach-tracer");
    let prog = looping(&d);
    let seen = d.join("seen.txt");
    let cmd = format!("while read -r l; do echo \"$l\" >> {}; echo cont; done", seen.display());
    let mut tracer = Command::new(preld()).args(["trace", "--tracer", &cmd, "-e", "trace=getppid", "-p"]).arg(prog.id().to_string()).spawn().unwrap();
    wait_for(|| lines_of(&seen, "call ") >= 5, "the tracer saw no calls");
    let l = std::fs::read_to_string(&seen).unwrap();
    assert!(l.lines().all(|l| l.starts_with("call ") && l.ends_with(" getppid()")), "{l}");
    // SAFETY: kill(2) with integer arguments.
    unsafe { libc::kill(tracer.id() as i32, libc::SIGTERM) };
    assert_eq!(wait_or_kill(&mut tracer, LIMIT).status.code(), Some(0));
    std::fs::write(d.join("stop"), "").unwrap();
    assert!(prog.wait_with_output().unwrap().status.success());
}

#[test]
fn a_process_not_under_preld_is_refused_and_left_alive() {
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let o = run({
        let mut c = Command::new(preld());
        c.args(["trace", "-p"]).arg(sleeper.id().to_string());
        c
    });
    assert_eq!(o.status.code(), Some(1), "{}", o.report());
    assert!(o.stderr_str().contains("does not run under preld"), "{}", o.report());
    assert!(sleeper.try_wait().unwrap().is_none(), "the process was killed");
    sleeper.kill().unwrap();
    let _ = sleeper.wait();
}

#[test]
fn a_process_that_does_not_exist_is_refused() {
    let o = run({
        let mut c = Command::new(preld());
        c.args(["trace", "-p", "999999999"]);
        c
    });
    assert_eq!(o.status.code(), Some(1), "{}", o.report());
    assert!(o.stderr_str().contains("no such process"), "{}", o.report());
}

#[test]
fn a_process_in_a_capability_session_is_not_attachable() {
    let d = Scratch::new("attach-session");
    let mut session = Command::new(preld()).args(["pola", "-B", "--", "sleep", "30"]).current_dir(d.path()).spawn().unwrap();
    // The session's sleep, under ld-preld in its own PID namespace.
    let mut pid = None;
    wait_for(
        || {
            pid = std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).find(|p| {
                std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0") || c.ends_with(b"sleep\x0030\0"))
                    && std::fs::read_to_string(format!("/proc/{p}/maps")).is_ok_and(|m| m.contains("/ld-preld"))
            });
            pid.is_some()
        },
        "the session's sleep never started",
    );
    let o = run({
        let mut c = Command::new(preld());
        c.args(["trace", "-p"]).arg(pid.unwrap().to_string());
        c
    });
    assert_eq!(o.status.code(), Some(1), "{}", o.report());
    assert!(o.stderr_str().contains("not attachable"), "{}", o.report());
    assert!(session.try_wait().unwrap().is_none(), "the session ended");
    session.kill().unwrap();
    let _ = session.wait();
}
