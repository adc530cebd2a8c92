//! Virtual time: `preld run --clock-offset`, `--clock-start`, `--clock-rate`,
//! `--clock-monotonic`. Every way a program reads the wall clock (the vDSO
//! from glibc, a static glibc and Go; raw clock_gettime, gettimeofday and
//! time) must see the virtual time, compared here with the real clock read
//! around the run; the monotonic clock stays real unless asked; a fork
//! child and an exec'd program are on the same time line; absolute
//! deadlines (clock_nanosleep, timerfd, pthread_cond_timedwait, POSIX
//! timers) are reached after the real time they stand for. Times are
//! checked against the real clock read before and after each run, with
//! margins only for what happens between a reading and its print (the
//! machine is shared and loaded); durations have generous sanity bounds.

use std::collections::HashMap;
use std::process::Command;

use preld_tests::run::{run, Output};
use preld_tests::{preld, program, require_file, require_tool};

const DAY: f64 = 86_400.0;
/// 2030-01-01T00:00:00Z.
const Y2030: f64 = 1_893_456_000.0;

fn clock_now(c: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec given.
    assert_eq!(unsafe { libc::clock_gettime(c, &mut ts) }, 0);
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn wall() -> f64 {
    clock_now(libc::CLOCK_REALTIME)
}

fn mono() -> f64 {
    clock_now(libc::CLOCK_MONOTONIC)
}

/// `preld run OPTIONS -- PROG ARGS`, which must succeed, and the real
/// wall clock just before and just after it.
fn preld_run(opts: &[&str], prog: &str, args: &[&str]) -> (Output, f64, f64) {
    let mut cmd = Command::new(preld());
    cmd.arg("run").args(opts).arg("--").arg(prog).args(args);
    let before = wall();
    let out = run(&mut cmd);
    let after = wall();
    assert!(out.status.success(), "preld run {opts:?} {prog} {args:?}: {}", out.report());
    (out, before, after)
}

/// The `NAME VALUE` lines of a probe's output.
fn values(out: &Output) -> HashMap<String, f64> {
    out.stdout_str()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn get(v: &HashMap<String, f64>, k: &str, out: &Output) -> f64 {
    *v.get(k).unwrap_or_else(|| panic!("no `{k}` line: {}", out.report()))
}

/// `v` lies in [lo, hi].
fn within(what: &str, v: f64, lo: f64, hi: f64, out: &Output) {
    assert!(v >= lo && v <= hi, "{what} = {v:.6}, expected {lo:.6} ..= {hi:.6}\n{}", out.report());
}

fn date() -> String {
    require_tool("date", "coreutils").display().to_string()
}

fn probe(kind: &str) -> String {
    program(&format!("clock-{kind}")).display().to_string()
}

const KINDS: [&str; 2] = ["dyn-pie", "static-exec"];

#[test]
fn date_under_an_offset() {
    for (opt, off) in [("--clock-offset=+1d", DAY), ("--clock-offset=-1h30m", -5_400.0), ("--clock-offset=+90s", 90.0)] {
        let (out, before, after) = preld_run(&[opt], &date(), &["+%s"]);
        let v: f64 = out.stdout_str().trim().parse().unwrap_or_else(|_| panic!("{}", out.report()));
        // date prints whole seconds: floor of a time in [before, after].
        within(opt, v, (before + off).floor(), after + off, &out);
    }
    // The option's value as a separate argument, also negative.
    let (out, before, after) = preld_run(&["--clock-offset", "-2d"], &date(), &["+%s"]);
    let v: f64 = out.stdout_str().trim().parse().unwrap();
    within("--clock-offset -2d", v, (before - 2.0 * DAY).floor(), after - 2.0 * DAY, &out);
}

#[test]
fn time_starts_at_clock_start() {
    for start in ["2030-01-01T00:00:00Z", "2030-01-01 01:00+01:00", "@1893456000", "2030-01-01"] {
        let opt = format!("--clock-start={start}");
        let (out, before, after) = preld_run(&[&opt], &date(), &["-u", "+%FT%T.%N"]);
        let s = out.stdout_str();
        assert!(s.starts_with("2030-01-01T00:00:"), "{opt}: {}", out.report());
        let secs: f64 = s.trim()["2030-01-01T00:00:".len()..].parse().unwrap();
        within(&opt, secs, 0.0, after - before, &out);
    }
}

/// Every reading of the C probe, dynamic and static: the wall clocks
/// shifted by a day, the monotonic ones as they are.
#[test]
fn every_wall_clock_reading_is_shifted_and_monotonic_is_not() {
    for kind in KINDS {
        let m0 = mono();
        let (out, before, after) = preld_run(&["--clock-offset=+1d"], &probe(kind), &["now"]);
        let m1 = mono();
        let v = values(&out);
        for k in ["vdso_realtime", "vdso_tai", "raw_realtime", "raw_realtime_alarm", "gettimeofday", "raw_gettimeofday"] {
            // CLOCK_TAI is ahead of UTC by the kernel's TAI offset (0 unless
            // set): within a minute.
            let slack = if k == "vdso_tai" { 60.0 } else { 0.0 };
            within(&format!("{kind} {k}"), get(&v, k, &out), before + DAY - 0.001, after + DAY + slack, &out);
        }
        // Coarse clocks lag by up to a tick; time() is whole seconds.
        for k in ["vdso_realtime_coarse", "time", "raw_time"] {
            within(&format!("{kind} {k}"), get(&v, k, &out), (before + DAY - 0.1).floor(), after + DAY, &out);
        }
        for k in ["monotonic", "raw_monotonic"] {
            within(&format!("{kind} {k}"), get(&v, k, &out), m0, m1, &out);
        }
    }
}

#[test]
fn python_and_bash_read_the_virtual_time() {
    let python = require_file("/usr/bin/python3", "python3").display().to_string();
    let code = "import time, datetime\n\
        print('time', time.time())\n\
        print('now', datetime.datetime.now(datetime.timezone.utc).timestamp())\n\
        print('local', datetime.datetime.now().timestamp())\n\
        print('ns', time.time_ns() / 1e9)\n";
    let (out, before, after) = preld_run(&["--clock-offset=+3d"], &python, &["-c", code]);
    let v = values(&out);
    for k in ["time", "now", "local", "ns"] {
        within(&format!("python3 {k}"), get(&v, k, &out), before + 3.0 * DAY - 0.001, after + 3.0 * DAY, &out);
    }
    let bash = require_tool("bash", "bash").display().to_string();
    let (out, before, after) = preld_run(&["--clock-offset=-1h30m"], &bash, &["-c", "printf '%(%s)T\\n' -1; printf '%(%s)T\\n'"]);
    for l in out.stdout_str().lines() {
        let v: f64 = l.parse().unwrap();
        within("bash printf %(%s)T", v, (before - 5_400.0).floor(), after - 5_400.0, &out);
    }
}

#[test]
fn a_static_go_program_reads_the_virtual_time() {
    let (out, before, after) = preld_run(&["--clock-start=2030-01-01T00:00:00Z"], &program("go-clock").display().to_string(), &[]);
    let s = out.stdout_str();
    assert!(s.contains("\nutc 2030-01-01T00:00:0"), "{}", out.report());
    let v = values(&out);
    within("go time.Now()", get(&v, "now", &out), Y2030, Y2030 + (after - before), &out);
    within("go gettimeofday", get(&v, "raw_gettimeofday", &out), Y2030, Y2030 + (after - before), &out);
    // Its timer (on the monotonic clock) is not thrown off.
    within("go 200 ms timer", get(&v, "timer", &out), 0.199, 10.0, &out);
}

/// Rate 2: a second of real time (a busy wait on the monotonic clock) is
/// two of the wall clock's.
#[test]
fn a_rate_scales_elapsed_time() {
    let python = require_file("/usr/bin/python3", "python3").display().to_string();
    let code = "import time\n\
        w, m = time.time(), time.monotonic()\n\
        while time.monotonic() - m < 1: pass\n\
        w2, m2 = time.time(), time.monotonic()\n\
        print('wall', w2 - w)\nprint('mono', m2 - m)\nprint('start', w)\n";
    let (out, before, after) = preld_run(&["--clock-rate=2", "--clock-start=@1000000000"], &python, &["-c", code]);
    let v = values(&out);
    let mono = get(&v, "mono", &out);
    within("monotonic elapsed", mono, 1.0, 10.0, &out);
    within("wall elapsed at rate 2", get(&v, "wall", &out), 2.0 * mono - 0.01, 2.0 * mono + 0.01, &out);
    within("wall at the start", get(&v, "start", &out), 1e9, 1e9 + 2.0 * (after - before), &out);
    // With --clock-monotonic the monotonic clock runs at the rate too.
    let (out, ..) = preld_run(&["--clock-rate=2", "--clock-monotonic"], &python, &["-c", code]);
    let v = values(&out);
    let mono = get(&v, "mono", &out);
    within("monotonic elapsed (virtual)", mono, 1.0, 10.0, &out);
    within("wall elapsed (virtual)", get(&v, "wall", &out), mono - 0.01, mono + 0.01, &out);
}

/// A fork child and an exec'd program (and a program started later by a
/// shell) are on the parent's time line, not one of their own.
#[test]
fn fork_and_exec_keep_the_time_line() {
    let opts = ["--clock-offset=-3d", "--clock-rate=2"];
    for kind in KINDS {
        let (out, before, after) = preld_run(&opts, &probe(kind), &["fork"]);
        let v = values(&out);
        let (p, c, a) = (get(&v, "parent", &out), get(&v, "child", &out), get(&v, "after", &out));
        assert!(p <= c && c <= a, "{kind}: fork child out of line: {}", out.report());
        within(&format!("{kind} parent"), p, before - 3.0 * DAY, after - 3.0 * DAY + (after - before), &out);
        let (out, ..) = preld_run(&opts, &probe(kind), &["exec"]);
        let v = values(&out);
        let (b, n) = (get(&v, "before", &out), get(&v, "vdso_realtime", &out));
        within(&format!("{kind} exec'd program"), n, b, b + 2.0 * 10.0, &out);
        within(&format!("{kind} exec'd program's raw call"), get(&v, "raw_realtime", &out), n, n + 20.0, &out);
    }
    let sh = require_tool("sh", "dash").display().to_string();
    let script = format!("{p} now; sleep 0.3; {p} now", p = probe("static-exec"));
    let (out, before, after) = preld_run(&["--clock-start=@1000000000", "--clock-rate=2"], &sh, &["-c", &script]);
    let firsts: Vec<f64> = out.stdout_str().lines().filter_map(|l| l.strip_prefix("vdso_realtime ")?.parse().ok()).collect();
    assert_eq!(firsts.len(), 2, "{}", out.report());
    within("first program", firsts[0], 1e9, 1e9 + 2.0 * (after - before), &out);
    // sleep 0.3 lasts 0.15 s at rate 2: 0.3 s of virtual time, at least.
    within("second program", firsts[1], firsts[0] + 0.3, 1e9 + 2.0 * (after - before), &out);
}

/// An absolute deadline of virtual now + 0.5 s is reached after 0.5 s of
/// real time (not after the offset), however the program waits.
#[test]
fn absolute_deadlines_are_converted() {
    for kind in KINDS {
        for wait in ["sleepabs", "timerfd", "cond", "timer"] {
            for opt in ["--clock-offset=+1d", "--clock-offset=-1d", "--clock-start=2030-01-01T00:00:00Z"] {
                let (out, ..) = preld_run(&[opt], &probe(kind), &[wait, "500"]);
                let v = values(&out);
                let what = format!("{kind} {wait} {opt}");
                within(&format!("{what}: real time waited"), get(&v, "real", &out), 0.499, 10.0, &out);
                within(&format!("{what}: wall time waited"), get(&v, "wall", &out), 0.499, 10.0, &out);
            }
        }
    }
}

/// Rate 2 from 1970 + 1 s: a deadline 1 s of virtual time away is 0.5 s of
/// real time away (unconverted it would be long past); relative sleeps
/// last half as long.
#[test]
fn deadlines_and_sleeps_at_a_rate() {
    for wait in ["sleepabs", "timerfd", "cond", "timer", "sleeprel"] {
        let (out, ..) = preld_run(&["--clock-rate=2", "--clock-start=@1"], &probe("dyn-pie"), &[wait, "1000"]);
        let v = values(&out);
        within(&format!("{wait} at rate 2: wall time waited"), get(&v, "wall", &out), 0.999, 20.0, &out);
        within(&format!("{wait} at rate 2: real time waited"), get(&v, "real", &out), 0.499, 10.0, &out);
        assert!(get(&v, "real", &out) < get(&v, "wall", &out) * 0.75, "{wait}: not scaled: {}", out.report());
    }
}

/// A relative sleep cut short by a signal leaves its remainder in virtual
/// time: a program that sleeps again for it sleeps for the rest.
#[test]
fn an_interrupted_sleep_leaves_virtual_time() {
    // The time left is 3 s less the virtual time slept: twice the real time
    // at rate 2, which is what the program's CLOCK_MONOTONIC shows only
    // with --clock-monotonic.
    for (opts, k) in [(&["--clock-rate=2"][..], 2.0), (&["--clock-rate=2", "--clock-monotonic"], 1.0), (&[], 1.0)] {
        let (out, ..) = preld_run(opts, &probe("dyn-pie"), &["sleeprem", "3000"]);
        let v = values(&out);
        let left = 3.0 - k * get(&v, "real", &out);
        within(&format!("{opts:?}: time left"), get(&v, "rem", &out), left - 0.05, left + 0.05, &out);
    }
}

#[test]
fn bad_values_are_usage_errors() {
    for (opt, says) in [
        ("--clock-offset=3x", "--clock-offset"),
        ("--clock-offset=", "--clock-offset"),
        ("--clock-start=2030-13-01", "--clock-start"),
        ("--clock-start=yesterday", "--clock-start"),
        ("--clock-start=9999-01-01", "out of range"),
        ("--clock-rate=0", "--clock-rate"),
        ("--clock-rate=-2", "--clock-rate"),
        ("--clock-rate=fast", "--clock-rate"),
        ("--clock-monotonic", "--clock-rate"),
    ] {
        let out = run(Command::new(preld()).args(["run", opt, "--", "true"]));
        assert_eq!(out.status.code(), Some(2), "{opt}: {}", out.report());
        let first = out.stderr_str().lines().next().unwrap_or_default().to_string();
        assert!(first.starts_with("error: ") && out.stderr_str().contains(says), "{opt}: {}", out.report());
        assert!(out.stdout.is_empty(), "{opt}: {}", out.report());
    }
    let out = run(Command::new(preld()).args(["run", "--clock-offset=1d", "--clock-start=@0", "--", "true"]));
    assert_eq!(out.status.code(), Some(2), "{}", out.report());
    let help = run(Command::new(preld()).args(["run", "--help"])).stdout_str();
    for opt in ["--clock-offset", "--clock-start", "--clock-rate", "--clock-monotonic"] {
        assert!(help.contains(opt), "`preld run --help` does not show {opt}:\n{help}");
    }
}
