//! The resident handler's hard cases: new threads and processes on new stacks
//! (pthread, raw clone/clone3, vfork, posix_spawn, fork from a busy
//! multithreaded program, 200 threads making calls at once, 6000 threads
//! alive at once), execve/execveat re-entering preld with argv, envp and
//! AT_EXECFN intact, signals around system calls (EINTR, SA_RESTART,
//! sigaltstack, siglongjmp, signal storms, sigsuspend), the program's view of
//! SIGSYS and of preld's own mappings and fds, and a static Go program doing
//! file I/O from 100 goroutines.
//!
//! Each case is a program of tests/programs (built by build.rs, dynamic PIE
//! and static) run natively and under `ld-preld PROG` (`preld run -- PROG`
//! for the many threads, and `preld trace` for the fd cases), with the wait
//! status, stdout and stderr compared. A run is killed after 60 s: a hang
//! fails its test instead of blocking CI.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use preld_tests::modes::{
    describe_status, path_str, run_limited, unified_diff, Expect, Output, BASE_ENV,
};
use preld_tests::{ld_preld, preld};

const LIMIT: Duration = Duration::from_secs(60);

use preld_tests::program;

/// target/tmp/preld-handler, emptied once per test process.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = preld_tests::root().join("target/tmp/preld-handler");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
        d
    })
}

/// A fresh directory for one case.
fn case_dir(name: &str) -> PathBuf {
    let d = scratch().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// How the program is started under preld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    /// `ld-preld PROG ARGS`
    Launcher,
    /// `preld run -- PROG ARGS`
    Run,
    /// `preld trace -f -o FILE -- PROG ARGS`: the handler holds a trace fd.
    Trace,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Launcher => "launcher",
            Way::Run => "run",
            Way::Trace => "trace",
        }
    }
}

/// One program run natively and under preld.
struct Case {
    name: String,
    prog: PathBuf,
    args: Vec<OsString>,
    ways: Vec<Way>,
    expect: Expect,
    /// Text the native stdout must contain (the case's own sanity check).
    native_has: Vec<String>,
    /// Replacements turning the native stdout into the one expected under preld.
    rewrite: Vec<(String, String)>,
    /// The stdout expected under preld when it cannot be the native one.
    preld_stdout: Option<String>,
    /// Text each trace file must contain.
    trace_has: Vec<String>,
}

impl Case {
    fn new<I, S>(name: &str, prog: PathBuf, args: I) -> Case
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Case {
            name: name.to_string(),
            prog,
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            ways: vec![Way::Launcher],
            expect: Expect::Exit(0),
            native_has: Vec::new(),
            rewrite: Vec::new(),
            preld_stdout: None,
            trace_has: Vec::new(),
        }
    }

    /// A C program of the hard cases in KIND ("dyn-pie" or "static-exec");
    /// a first argument that names a group goes into the case's name.
    fn c(name: &str, kind: &str, args: &[&str]) -> Case {
        let case = match args.first() {
            Some(g) if !g.contains('/') => format!("{name}-{g}-{kind}"),
            _ => format!("{name}-{kind}"),
        };
        Case::new(&case, program(&format!("{name}-{kind}")), args)
    }

    fn ways(mut self, w: &[Way]) -> Case {
        self.ways = w.to_vec();
        self
    }
    fn expect(mut self, e: Expect) -> Case {
        self.expect = e;
        self
    }
    fn native_has(mut self, s: &str) -> Case {
        self.native_has.push(s.to_string());
        self
    }
    /// Under preld, stdout is the native one with every `from` made `to`.
    fn rewrite(mut self, from: &str, to: &str) -> Case {
        self.rewrite.push((from.to_string(), to.to_string()));
        self
    }
    /// Under preld, stdout is exactly `s` (the native run is only checked
    /// against `native_has` and its status).
    fn preld_stdout(mut self, s: &str) -> Case {
        self.preld_stdout = Some(s.to_string());
        self
    }
    fn trace_has(mut self, s: &str) -> Case {
        self.trace_has.push(s.to_string());
        self
    }

    fn command(&self, way: Option<Way>, trace_file: &Path) -> Command {
        let mut c = match way {
            None => Command::new(&self.prog),
            Some(Way::Launcher) => {
                let mut c = Command::new(ld_preld());
                c.arg(&self.prog);
                c
            }
            Some(Way::Run) => {
                let mut c = Command::new(preld());
                c.args(["run", "--"]).arg(&self.prog);
                c
            }
            Some(Way::Trace) => {
                let mut c = Command::new(preld());
                c.args(["trace", "-f", "-o"])
                    .arg(trace_file)
                    .arg("--")
                    .arg(&self.prog);
                c
            }
        };
        c.args(&self.args)
            .env_clear()
            .envs(preld_tests::fast_env())
            .envs(BASE_ENV)
            .current_dir(scratch());
        c
    }

    fn shown(cmd: &Command) -> String {
        let mut s = cmd.get_program().to_string_lossy().into_owned();
        for a in cmd.get_args() {
            let _ = write!(s, " {}", preld_tests::modes::shell_quote(a));
        }
        s
    }

    fn save(&self, way: &str, o: &Output) -> (PathBuf, PathBuf) {
        let dir = scratch().join("out");
        std::fs::create_dir_all(&dir).unwrap();
        let so = dir.join(format!("{}.{way}.stdout", self.name));
        let se = dir.join(format!("{}.{way}.stderr", self.name));
        std::fs::write(&so, &o.stdout).unwrap();
        std::fs::write(&se, &o.stderr).unwrap();
        (so, se)
    }

    /// Runs natively and each way; panics with every difference.
    fn check(self) {
        let trace_file = scratch().join(format!("{}.trace", self.name));
        let cmd = self.command(None, &trace_file);
        let native_shown = Case::shown(&cmd);
        let native = run_limited(cmd, LIMIT)
            .unwrap_or_else(|e| panic!("{}: native run `{native_shown}`: {e}", self.name));
        self.save("native", &native);
        let text = String::from_utf8_lossy(&native.stdout).into_owned();
        let status_ok = match self.expect {
            Expect::Exit(c) => native.status.code() == Some(c),
            Expect::Signal(s) => native.status.signal() == Some(s),
        };
        let missing: Vec<&String> = self
            .native_has
            .iter()
            .filter(|w| !text.contains(w.as_str()))
            .collect();
        assert!(
            status_ok && missing.is_empty() && !native.stdout.is_empty(),
            "{}: the NATIVE run is not what the case expects (status {}, expected {:?}; missing {missing:?}): \
             the test or the host is wrong, not preld.\ncommand: {native_shown}\nstdout:\n{text}\nstderr:\n{}",
            self.name,
            describe_status(native.status),
            self.expect,
            String::from_utf8_lossy(&native.stderr)
        );
        let want_stdout: Vec<u8> = match &self.preld_stdout {
            Some(s) => s.clone().into_bytes(),
            None => {
                let mut t = text.clone();
                for (from, to) in &self.rewrite {
                    t = t.replace(from.as_str(), to);
                }
                t.into_bytes()
            }
        };

        let mut report = String::new();
        let mut summary = Vec::new();
        for &way in &self.ways {
            let _ = std::fs::remove_file(&trace_file);
            let cmd = self.command(Some(way), &trace_file);
            let shown = Case::shown(&cmd);
            let got = match run_limited(cmd, LIMIT) {
                Ok(o) => o,
                Err(e) => {
                    summary.push(format!("{}: FAILED ({e})", way.name()));
                    let _ = writeln!(report, "\n=== {}: {e}\ncommand: {shown}", way.name());
                    continue;
                }
            };
            let (so, se) = self.save(way.name(), &got);
            let mut diffs = Vec::new();
            if got.status.code() != native.status.code()
                || got.status.signal() != native.status.signal()
            {
                diffs.push("status".to_string());
            }
            if got.stdout != want_stdout {
                diffs.push("stdout".to_string());
            }
            if got.stderr != native.stderr {
                diffs.push("stderr".to_string());
            }
            if way == Way::Trace {
                let trace = std::fs::read_to_string(&trace_file).unwrap_or_default();
                for w in &self.trace_has {
                    if !trace.contains(w.as_str()) {
                        diffs.push(format!("trace lacks {w:?} ({})", trace_file.display()));
                    }
                }
            }
            if diffs.is_empty() {
                summary.push(format!(
                    "{}: ok ({:.2}s)",
                    way.name(),
                    got.elapsed.as_secs_f64()
                ));
                continue;
            }
            summary.push(format!("{}: FAILED ({})", way.name(), diffs.join(", ")));
            let _ = writeln!(
                report,
                "\n=== {}: {} differ\ncommand: {shown}",
                way.name(),
                diffs.join(", ")
            );
            let _ = writeln!(
                report,
                "status: native {}, {} {}",
                describe_status(native.status),
                way.name(),
                describe_status(got.status)
            );
            if got.stdout != want_stdout {
                let _ = writeln!(
                    report,
                    "stdout (expected, then got; full: {}):",
                    so.display()
                );
                report.push_str(&unified_diff(
                    &want_stdout,
                    &got.stdout,
                    "expected",
                    way.name(),
                ));
            }
            if got.stderr != native.stderr {
                let _ = writeln!(report, "stderr (native, then got; full: {}):", se.display());
                report.push_str(&unified_diff(
                    &native.stderr,
                    &got.stderr,
                    "native",
                    way.name(),
                ));
            }
        }
        let head = format!(
            "{} ({:.2}s native)",
            self.name,
            native.elapsed.as_secs_f64()
        );
        eprintln!("{head}: {}", summary.join(", "));
        if summary.iter().any(|s| s.contains("FAILED")) {
            panic!(
                "{head}: {}\nnative command: {native_shown}\n{report}",
                summary.join("; ")
            );
        }
    }
}

/// One #[test] per build of a C program: `dyn_pie` and `static_exec`.
macro_rules! both_kinds {
    ($module:ident, $build:expr) => {
        mod $module {
            #[test]
            fn dyn_pie() {
                let build: fn(&str) -> super::Case = $build;
                build("dyn-pie").check();
            }
            #[test]
            fn static_exec() {
                let build: fn(&str) -> super::Case = $build;
                build("static-exec").check();
            }
        }
    };
}

// ------------------------------------------------- 1. threads and clones
both_kinds!(clone_new_stacks, |k| {
    super::Case::c("h_clone", k, &[])
        .native_has("clone3 thread: child on its own stack=yes getppid-matches=yes\n")
        .native_has("clone vm process: child on its own stack=yes")
        .native_has("tiny-stack pthread (16384 bytes): 100 of 100 opens read\n")
        .native_has("300 threads in a row: 300 ok\n")
});

// Calls made with rsp where nothing may be written below it (unmapped,
// read-only, PROT_NONE, near 0, preld's own stack, thread block and
// sigaltstack): natively each works; preld must not write its tail slot
// there, nor crash, nor change its own memory. A call that cannot block is
// made in the handler, as natively; one that may block gets the kernel's
// SIGSEGV for a frame it cannot write (natively made: the one difference).
both_kinds!(calls_with_no_room_below_rsp, |k| {
    super::Case::c("h_badstack", k, &["syscall"])
        .ways(&[super::Way::Launcher, super::Way::Trace])
        .native_has("getppid, rsp in unmapped memory: right yes\n")
        .native_has("getppid, rsp in read-only memory: right yes, memory unchanged yes\n")
        .native_has("getppid, rsp in preld's stack: right yes, its memory unchanged yes\n")
        .native_has("getppid, rsp in preld's thread block: right yes, its memory unchanged yes\n")
        .native_has("getppid, rsp on preld's sigaltstack: right yes\n")
        .native_has("read, rsp in unmapped memory: returned 1 'x'\n")
        .native_has("still running, calls work: yes\ndone\n")
        .rewrite("read, rsp in unmapped memory: returned 1 'x'", "read, rsp in unmapped memory: SIGSEGV, si_code SI_KERNEL")
});

// clone and clone3 children given a stack that is unmapped, 64 bytes above
// a PROT_NONE page, read-only, or preld's own: nothing of preld's is written
// on it (the child's block travels in a register), so each child runs as
// natively.
both_kinds!(clone_children_on_bad_stacks, |k| {
    super::Case::c("h_badstack", k, &["clone"])
        .ways(&[super::Way::Launcher, super::Way::Trace])
        .native_has("clone, child stack unmapped: exit 7 (want 7), child's getppid right yes")
        .native_has("clone, 64-byte child stack above a PROT_NONE page: exit 8 (want 8), child's getppid right yes")
        .native_has("clone, read-only child stack: exit 9 (want 9), child's getppid right yes")
        .native_has("clone, child stack in preld's stack: exit 10 (want 10), child's getppid right yes, memory below its sp unchanged yes\n")
        .native_has("clone3, child stack unmapped: exit 11 (want 11), child's getppid right yes")
        .native_has("clone, child's carry flag as set before the call: yes (exit 12)\n")
        .native_has("still running, calls work: yes\ndone\n")
});

// ------------------------------------------------- 2. 200 threads at once
fn threads_file() -> PathBuf {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        let p = scratch().join("threads200.txt");
        std::fs::write(&p, "the file 200 threads read 1000 times each\n").unwrap();
        p
    })
    .clone()
}

both_kinds!(threads_200_syscalls, |k| {
    let f = super::threads_file();
    super::Case::c("h_threads200", k, &[super::path_str(&f).as_str()])
        .native_has("threads=200 rounds=1000 good rounds=200000 bad rounds=0\n")
});

// 6000 threads with 64 KiB stacks alive at once: more than preld's first
// reservations of thread slots hold (chunks are added as threads need them;
// it used to stop at 4095), as natively.
both_kinds!(threads_6000_alive_at_once, |k| {
    super::Case::c("h_manythreads", k, &["6000"])
        .ways(&[super::Way::Run])
        .native_has("threads started=6000 of 6000, alive at once=yes\n")
        .native_has("joined=6000, getpid/gettid right in 6000, wrong in 0\n")
        .native_has("100 threads after the join: 100 ok\n")
});

// ------------------------------------------------- 3. fork while threads are in calls
both_kinds!(fork_with_busy_threads, |k| {
    super::Case::c("h_forkthreads", k, &[])
        .native_has("child 49: malloc ok")
        .native_has("forks=50 ok=50 bad=0 busy threads made calls: yes\n")
});

// ------------------------------------------------- 4. vfork, posix_spawn, system
both_kinds!(vfork_posix_spawn_system, |k| {
    super::Case::c("h_spawn", k, &[])
        .native_has("from vfork+execve\nvfork+execve: exit 0\n")
        .native_has("raw vfork+exit: exit 6\n")
        .native_has("from posix_spawn\nposix_spawn: exit 0\n")
        .native_has("hi\nsystem(\"echo hi\"): exit 0\n")
});

// ------------------------------------------------- 5. execve / execveat
/// h_exec GROUP: the new programs must be under preld again.
fn exec_case(group: &str, kind: &str) -> Case {
    let dir = case_dir(&format!("h_exec-{group}-{kind}"));
    Case::c("h_exec", kind, &[group, path_str(&dir).as_str()])
        .native_has("caller: ld-preld mapped: no\n")
        .rewrite("ld-preld mapped: no", "ld-preld mapped: yes")
}

both_kinds!(execve_argv_envp_execfn, |k| {
    super::exec_case("execve", k)
        .native_has("  argv[0]=\"custom-name\"\n  argv[1]=\"child\"\n  argv[2]=\"one\"\n  argv[3]=\"two words\"\n  argv[4]=\"\"\n")
        .native_has("  env \"B=two words\"\n  env \"EMPTY=\"\n")
        .native_has("  AT_EXECFN=\"./h_exec-")
        .native_has("execve, empty argv\n  new program: argc=1\n  argv[0]=\"\"\n")
        .native_has("  argv[0]=\"from-threads\"\n")
        .native_has("  argv[0]=\"via-execvp\"\n")
});

both_kinds!(execveat_fds, |k| {
    super::exec_case("execveat", k)
        .native_has("  argv[0]=\"at-opath\"\n")
        .native_has("  argv[0]=\"at-cloexec\"\n")
        .native_has("  argv[0]=\"at-opath-cloexec\"\n")
        .native_has("  argv[0]=\"fexecve\"\n")
        .native_has("  /proc/self/exe is the program: yes\n")
});

// AT_EXECFN after execveat names the caller's fd: "/dev/fd/3", "/dev/fd/3/NAME".
both_kinds!(execveat_execfn, |k| {
    super::exec_case("execfn-at", k)
        .native_has("  AT_EXECFN=\"/dev/fd/3\"\n")
        .native_has("  AT_EXECFN=\"/dev/fd/3/h_exec-")
});

both_kinds!(exec_errors, |k| {
    super::exec_case("errors", k)
        .native_has("execve of a missing file: returned -1 ENOENT\n")
        .native_has("execve of a file without execute permission: returned -1 EACCES\n")
        .native_has("execve of an executable text file without #!: returned -1 ENOEXEC\n")
        .native_has(
            "execveat AT_EMPTY_PATH of a #! script on an O_CLOEXEC fd: returned -1 ENOENT\n",
        )
        .native_has("execveat with an unknown flag: returned -1 EINVAL\n")
        .native_has("execveat AT_SYMLINK_NOFOLLOW of a symlink: returned -1 ELOOP\n")
});

// The thread name (/proc/self/comm, what ps and top show) after exec.
both_kinds!(exec_comm, |k| super::exec_case("comm", k)
    .native_has("caller's comm: h_exec-"));

both_kinds!(exec_proc_self_exe, |k| {
    super::exec_case("self", k)
        .native_has("  argv[0]=\"selfexe\"\n  argv[1]=\"child\"\n  argv[2]=\"again\"\n")
        .native_has("  AT_EXECFN=\"/proc/self/exe\"\n")
});

// Filling the fd table up to the limit: preld's fds (the trace output) take
// no slot of it.
both_kinds!(fd_table_to_the_limit, |k| {
    super::Case::c("h_fds", k, &["limit"])
        .ways(&[super::Way::Launcher, super::Way::Trace])
        .native_has("F_DUPFD from limit-40 until it fails: EMFILE after 40 fds\n")
});

// ------------------------------------------------- 6. signals
both_kinds!(signals_around_calls, |k| {
    super::Case::c("h_signals", k, &[])
        .native_has("EINTR: read returned -1 EINTR, handler ran 1 time(s)\n")
        .native_has("SA_RESTART (thread): read returned 4 \"late\", handler ran 1 time(s)\n")
        .native_has("SA_RESTART (child): read returned 10 \"from child\", handler ran 1 time(s)\n")
        .native_has("thread: overflow 2 caught on the sigaltstack: yes")
        .native_has("siglongjmp out of a blocking read: 30 of 30, SIGUSR2 blocked after: no, pipe works after: yes\n")
        .native_has("signal storm: victim's calls all right: yes, handler ran: yes, handled <= sent: yes\n")
        .native_has("sigsuspend (later): returned -1 EINTR, handler ran 1")
        .native_has("done\n")
});

// A vfork child asking to be traced, then exec'ing (gdb's inferior): it
// runs without preld from PTRACE_TRACEME on, so no SIGSYS stops it while
// its parent waits in vfork.
both_kinds!(traceme_in_vfork_child, |k| {
    super::Case::c("h_ptrace", k, &[])
        .native_has("stopped by SIGTRAP at its exec: yes\nthe traced child ran\nthen exited with 0: yes\n")
});

// ------------------------------------------------- 7. SIGSYS and preld's memory
both_kinds!(sigsys_basic, |k| {
    super::Case::c("h_sigsys", k, &["basic"])
        .native_has("sigaction(SIGSYS, NULL, &old): 0, handler is mine, SA_SIGINFO yes, sa_mask has SIGUSR2 yes\n")
        .native_has("sigprocmask(SIG_BLOCK, SIGSYS): 0, mask has SIGSYS yes, calls work yes\n")
        .native_has("after prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): calls work yes\n")
        .native_has("done\n")
});

// SIGSYS sent by kill/tgkill, blocked and pending, SA_RESETHAND, SIGSYS in
// another handler's sa_mask: the program's view is the native one.
both_kinds!(sigsys_virtual_signal, |k| {
    super::Case::c("h_sigsys", k, &["virtual"])
        .native_has("SIGUSR1 handler with SIGSYS in sa_mask: ran 1, calls in it work yes, SIGSYS blocked in it yes\n")
        .native_has("kill(SIGSYS) with a handler: handler ran 1, signo 31, si_code SI_USER yes, calls in it worked yes\n")
        .native_has("SIGSYS blocked, kill(SIGSYS): handler ran 0, pending yes\n")
        .native_has("after SIG_UNBLOCK: handler ran 1\n")
        .native_has("SA_RESETHAND: handler ran 1, action is SIG_DFL afterwards yes, flags 0x84000004")
        .native_has("SA_RESETHAND on SIGUSR1: action is SIG_DFL afterwards yes, flags 0x84000004, sa_mask kept yes\n")
        .native_has("done\n")
});

both_kinds!(sigsys_on_sigaltstack, |k| {
    super::Case::c("h_sigsys", k, &["stack"])
        .native_has("SA_ONSTACK SIGSYS handler: ran 1, on the sigaltstack yes\n")
        .native_has("SIGSYS handler without SA_ONSTACK: ran 1, on the sigaltstack no\n")
});

// SA_ONSTACK in threads without a sigaltstack: the handler runs on the
// interrupted stack as natively (the real sigaltstack is preld's).
both_kinds!(onstack_without_sigaltstack, |k| {
    super::Case::c("h_sigsys", k, &["onstack"])
        .native_has("main: handler ran 1, args right yes, on the main stack yes\n")
        .native_has("thread: handler ran 1, args right yes, on the thread's stack yes\n")
        .native_has("calls work after: yes\ndone\n")
});

// The program's own seccomp filter with SECCOMP_RET_TRAP: its handler
// answers the call; blocked, the SIGSYS is forced and kills.
both_kinds!(sigsys_seccomp_trap, |k| {
    super::Case::c("h_sigsys", k, &["seccomp"])
        .expect(super::Expect::Signal(31))
        .native_has("getppid under the filter: 4242, handler ran 1, si_code SYS_SECCOMP yes, si_syscall getppid yes\n")
        .native_has("other calls work: yes\nSIGSYS blocked, getppid again\n")
});

both_kinds!(sigsys_state_across_exec, |k| {
    super::Case::c("h_sigsys", k, &["exec"])
        .native_has("after exec: SIGSYS ignored yes, blocked yes, calls work yes\n")
        .native_has("kill(SIGSYS) after exec: still running\ndone\n")
});

both_kinds!(sigsys_kill_default, |k| {
    super::Case::c("h_sigsys", k, &["kill"])
        .expect(super::Expect::Signal(31))
        .native_has("kill(getpid(), SIGSYS) with the default action\n")
});

// Natively there is no ld-preld mapping; under preld every change to one
// fails with EPERM and the program goes on.
const IMAGE_GUARDED: &str = "ld-preld mappings found: yes
mprotect: EPERM for all: yes
munmap: EPERM for all: yes
mremap: EPERM for all: yes
madvise(MADV_DONTNEED): EPERM for all: yes
mmap(MAP_FIXED) over it: EPERM for all: yes
mremap(MREMAP_FIXED) onto it: EPERM: yes
still running, calls work: yes
done
";

both_kinds!(preld_image_guarded, |k| {
    super::Case::c("h_sigsys", k, &["image"])
        .native_has("no ld-preld mapping\ndone\n")
        .preld_stdout(super::IMAGE_GUARDED)
});

// ld-preld's RELRO (.data.rel.ro, .dynamic, .got) is read-only once
// _start has relocated the image: a store into it faults.
both_kinds!(preld_relro_read_only, |k| {
    super::Case::c("h_sigsys", k, &["relro"])
        .native_has("no ld-preld mapping\ndone\n")
        .preld_stdout(
            "PT_GNU_RELRO found, page-aligned: yes
every page of it read-only (r--p): yes
the page after it (.data) writable (rw-p): yes
a store into it: SIGSEGV SEGV_ACCERR at its address: yes
mprotect(PROT_WRITE) of it: EPERM: yes
still running, calls work: yes
done
",
        )
});

// preld's thread blocks, in the first chunk of slots and in one reserved
// later, are as guarded as its image.
both_kinds!(preld_thread_blocks_guarded, |k| {
    super::Case::c("h_sigsys", k, &["arena"])
        .native_has("no ld-preld mapping\ndone\n")
        .preld_stdout(
            "thread blocks: 101, all different: yes
first thread's block: EPERM for all: yes
100th thread's block: EPERM for all: yes
still running, calls work: yes
done
",
        )
});

// ------------------------------------------------- 8. Go: goroutines doing file I/O, os/exec
#[test]
fn go_static_file_io_and_exec() {
    let dir = case_dir("go-fileio");
    Case::new("go-fileio", program("go-fileio"), [&dir])
        .native_has("workers=100 files each=20 failed=0 left over=0 sha256=")
        .native_has("exec /bin/true x3 done; concurrent /bin/echo outputs: [\"echo 0\\n\" \"echo 1\\n\" \"echo 2\\n\" \"echo 3\\n\"]\n")
        .check();
}

/// Asynchronous preemption (SIGURG) of a goroutine that never yields,
/// os/signal, and a timer waking a goroutine blocked in read: the fast path
/// and the trap path alike must leave the Go runtime's signals as natively.
#[test]
fn go_static_preemption_and_signals() {
    Case::new("go-signals", program("go-signals"), Vec::<&str>::new())
        .native_has("main ran again while a goroutine spun: yes\n")
        .native_has("os/signal received: user defined signal 1\nos/signal received: hangup\n")
        .native_has("read woken by a timer's write: 1 byte\n")
        .check();
}

// ------------------------------------------------- 9. preld's own fds
both_kinds!(close_every_fd, |k| {
    super::Case::c("h_fds", k, &["closeall"])
        .ways(&[super::Way::Launcher, super::Way::Trace])
        .native_has("after the close loop: open fds: 0 1 2 (3)\n")
        .native_has("close(3..65535): 5 closed, the rest EBADF: yes\n")
        .native_has("exec after closing everything: ok\n")
        .native_has("fork child closing 0..~0U and working: exit 0\n")
        // The trace kept going after the program closed everything.
        .trace_has("close_range(3, ")
        .trace_has("+++ exited with 0 +++")
});

both_kinds!(dup2_onto_high_fds, |k| {
    super::Case::c("h_fds", k, &["high"])
        .ways(&[super::Way::Launcher, super::Way::Trace])
        .native_has("dup2(1, 1010) = 1010: written through 1010\n")
        .native_has("dup2 onto the top 24 fds: 24 written\n")
        .native_has("again through limit-1\n")
        .trace_has("+++ exited with 0 +++")
});


// ------------------------------------------------- 10. the fast path (rewritten syscall sites)
both_kinds!(fast_path_sites, |k| {
    super::Case::c("h_fast", k, &[])
        .ways(&[super::Way::Launcher, super::Way::Trace])
        .native_has("syscall() with numbers that are no call: -1 ENOSYS each: yes\n")
        .native_has("/proc/self/exe is the program for stat, open, openat, fstatat, each 3 times: yes; the fd is the lowest free: yes\n")
        .native_has("/proc/self/exe is a link for lstat: yes; realpath of it is the program's: yes\n")
        .native_has("registers, flags and red zone across 1000 calls as natively: yes\n")
        .native_has("SA_RESTART: read returned 1 byte 'y' after signals: yes\n")
        .native_has("no SA_RESTART: read returned -EINTR after signals: yes\n")
        .native_has("nanosleep across SIGSTOP/SIGCONT (restart_syscall): returned 0\n")
        .native_has("siglongjmp out of a handler: 100000 times, getppid still right: yes\n")
        .native_has("fork child's rewritten call: yes\nvfork child's rewritten call: yes\n")
        .native_has("posix_spawn: 0, exit 7\n")
        .native_has("failed execve: No such file or directory; rewritten call after it: yes\n")
        .native_has("self-modifying RWX code: every call as written at the time: yes\n")
        .native_has("64 threads racing on a site's first execution, 20 processes: 20 good\n")
        .native_has("100000 rewritten calls right: yes\n")
        .native_has("100000 reads from an xor-eax site: 1600000 bytes of zeros\n")
        .native_has("mmap from a rewritten site, placed, fixed and fixed-noreplace: yes\n")
});

/// `PRELD_STATS=1`: the calls of h_fast's sites are made from the gate
/// (or, in the PRELD_FAST=0 pass, none is).
fn fast_path_taken(kind: &str) {
    let prog = program(&format!("h_fast-{kind}"));
    let mut c = Command::new(ld_preld());
    c.arg(&prog).env_clear().envs(BASE_ENV).envs(preld_tests::fast_env()).env("PRELD_STATS", "1");
    c.current_dir(scratch());
    let out = run_limited(c, LIMIT).unwrap_or_else(|e| panic!("{}: {e}", prog.display()));
    let err = String::from_utf8_lossy(&out.stderr);
    // The last line is the main process's (its children exit first).
    let main = err.lines().last().unwrap_or_else(|| panic!("no statistics on stderr: {err:?}"));
    let fast: u64 = main
        .split("calls fast ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `calls fast N` in {main:?}"));
    if preld_tests::fast_env().is_empty() {
        assert!(fast >= 300_000, "h_fast made only {fast} calls from the gate: {main}");
    } else {
        assert_eq!(fast, 0, "PRELD_FAST=0, yet: {main}");
    }
}

/// (A static ET_EXEC has no .eh_frame_hdr to verify its sites with: it
/// runs on the trap path, which fast_path_sites checks.)
#[test]
fn fast_path_taken_dyn_pie() {
    fast_path_taken("dyn-pie");
}
