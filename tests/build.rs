//! Builds the test programs of the integration matrix into OUT_DIR/programs:
//! the C programs of programs/c in each ELF kind (dynamic PIE, dynamic
//! ET_EXEC, static ET_EXEC, static-pie) with the C compiler the `cc` crate
//! picks, the handler's hard cases (programs/c/h_*.c) as dynamic PIE and
//! static ET_EXEC, two shared libraries, the static Go programs of
//! programs/go/hello and programs/go/fileio; and, with the flags their
//! tests need, the sandbox attack programs (programs/attack into
//! programs/attack/, programs/attack_kernel into programs/attack_kernel/,
//! each GROUP also as GROUP-static) and programs/pola/closeall.
//!
//! A program that fails to build does not fail this script (that would also
//! break the other test binaries of the crate): its compiler output goes to
//! OUT_DIR/programs/NAME.error and the test that needs NAME fails with it.
//! The directory is passed to the tests as PRELD_TEST_PROGRAMS.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The four ways a C program is linked, with their file-name suffixes.
const KINDS: [(&str, &[&str]); 4] = [
    ("dyn-pie", &["-fPIE", "-pie"]),
    ("dyn-exec", &["-fno-pie", "-no-pie"]),
    ("static-exec", &["-fno-pie", "-no-pie", "-static"]),
    ("static-pie", &["-fPIE", "-static-pie"]),
];

/// The C programs of the handler's hard cases, built as dyn-pie and static-exec.
const H_PROGRAMS: [&str; 25] = [
    "h_badstack",
    "h_clone",
    "h_threads200",
    "h_manythreads",
    "h_forkthreads",
    "h_spawn",
    "h_exec",
    "h_signals",
    "h_sigsys",
    "h_fds",
    "h_ptrace",
    "h_nested",
    "h_fast",
    "h_fast_threads",
    "h_fast_mprotect",
    "h_fast_fork",
    "h_exitrace",
    "h_reapers",
    "h_gate_signals",
    "h_pagecache",
    "h_pagecache2",
    "h_vmproc",
    "h_vmleak",
    "h_memrace",
    "h_clone_sighand",
];

struct Job {
    /// Output file name in OUT_DIR/programs.
    out: String,
    args: Vec<String>,
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let progs = out_dir.join("programs");
    std::fs::create_dir_all(&progs).unwrap();
    let src = manifest.join("programs");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=programs");
    println!("cargo:rustc-env=PRELD_TEST_PROGRAMS={}", progs.display());

    let compiler = cc::Build::new()
        .opt_level(2)
        .debug(false)
        .pic(false)
        .cargo_metadata(false)
        .get_compiler();
    let cc_path = compiler.path().to_path_buf();
    let base: Vec<String> = compiler
        .args()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .chain(["-Wall".to_string(), "-pthread".to_string()])
        .collect();
    let c = |name: &str| src.join("c").join(name).display().to_string();
    let p = |name: &str| progs.join(name).display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    // Shared libraries first: the dynamic tls programs link against one.
    let libs = vec![
        Job {
            out: "libtlslib.so".into(),
            args: [s(&["-fPIC", "-shared", "-o"]), vec![p("libtlslib.so"), c("tlslib.c")]].concat(),
        },
        Job {
            out: "libplugin.so".into(),
            args: [s(&["-fPIC", "-shared", "-o"]), vec![p("libplugin.so"), c("plugin.c")]].concat(),
        },
    ];
    run_jobs(&cc_path, &base, &progs, libs);

    let mut jobs = Vec::new();
    for (kind, flags) in KINDS {
        let dynamic = kind.starts_with("dyn");
        let mut add = |name: &str, extra: Vec<String>| {
            let out = format!("{name}-{kind}");
            let mut args = s(flags);
            args.extend(["-o".to_string(), p(&out), c(&format!("{name}.c"))]);
            args.extend(extra);
            jobs.push(Job { out, args });
        };
        add("hello", vec![]);
        add("fault", vec![]);
        add("bigbss", vec![]);
        add("threads", vec![]);
        add("auxv", vec![]);
        if dynamic {
            add(
                "tls",
                vec![
                    format!("-L{}", progs.display()),
                    "-ltlslib".into(),
                    format!("-Wl,-rpath,{}", progs.display()),
                ],
            );
            add(
                "dlopen",
                vec![format!("-DPLUGIN_PATH=\"{}\"", p("libplugin.so")), "-ldl".into()],
            );
        } else {
            add("tls", vec!["-DNO_SHLIB".into()]);
        }
    }
    // The handler's hard cases (tests/handler.rs): dynamic PIE and static.
    for name in H_PROGRAMS {
        for kind in ["dyn-pie", "static-exec"] {
            let flags = KINDS.iter().find(|(k, _)| *k == kind).unwrap().1;
            let out = format!("{name}-{kind}");
            let mut args = s(flags);
            args.extend(["-o".to_string(), p(&out), c(&format!("{name}.c"))]);
            jobs.push(Job { out, args });
        }
    }
    // Virtual time's probe (tests/clock.rs): dynamic PIE and static.
    for (kind, flags) in [("dyn-pie", KINDS[0].1), ("static-exec", KINDS[2].1)] {
        let out = format!("clock-{kind}");
        jobs.push(Job { out: out.clone(), args: [s(flags), vec!["-o".into(), p(&out), c("clock.c")]].concat() });
    }
    run_jobs(&cc_path, &base, &progs, jobs);

    // The sandbox attacks, built as the attack suites always built them
    // (plain `cc`, -O0: the raw syscall sites and gadget scans are written
    // for unoptimized code), not with the flags above.
    let mut jobs = Vec::new();
    let own = |dir: &str, name: &str, flags: &[&str], static_too: bool, jobs: &mut Vec<Job>| {
        std::fs::create_dir_all(progs.join(dir)).unwrap();
        let src = src.join(dir).join(format!("{name}.c")).display().to_string();
        let mut variants = vec![(name.to_string(), Vec::new())];
        if static_too {
            variants.push((format!("{name}-static"), vec!["-static".to_string()]));
        }
        for (out, extra) in variants {
            let out = format!("{dir}/{out}");
            let mut args = s(flags);
            args.extend(extra);
            args.extend(["-o".to_string(), p(&out), src.clone()]);
            jobs.push(Job { out, args });
        }
    };
    for name in c_sources(&src.join("attack")) {
        // static_cat is exec'd from outside the grants, static_memfd from a
        // memfd around the handler: they must need no ld.so.
        let flags: &[&str] = if name.starts_with("static_") { &["-O0", "-pthread", "-w", "-static"] } else { &["-O0", "-pthread", "-w"] };
        // The gate's races, also as static programs (no ld.so, libc's own
        // syscall sites rewritten in the program's image).
        let static_too = ["stat_race", "fifo_race", "fd_cache", "gadget", "beneath_race", "forged_exec", "shm_over", "owners_table", "owners_forge", "owners_swap", "owners_fork", "fast_rewrite", "proc_cwd", "nested_fdcopy", "host_sys", "shared_flip", "known_gadget", "vdirs", "open_gate_fds", "preld_buffers", "openat2_ro", "listing_steps", "notif_addfd"].contains(&name.as_str());
        own("attack", &name, flags, static_too, &mut jobs);
    }
    for name in c_sources(&src.join("attack_kernel")) {
        // session.c attacks the launcher's lifecycle: dynamic only.
        own("attack_kernel", &name, &["-O0", "-w", "-mno-red-zone"], name != "session", &mut jobs);
    }
    own("pola", "closeall", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    own("pola", "fifo_gate", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "clone_files", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    own("pola", "exec_forms", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "file_grants", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    own("pola", "file_grant_reopens", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    own("pola", "fd_link_reopens", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "missing_names", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "long_paths", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "open_gate", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "gate_steps", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "getcwd_gate", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "vdir_spellings", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "file_fd_names", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "fork_pages", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "low_nofile", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "vfork_cwd", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "full_fd_table", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "beside_names", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "stat_edges", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "listing_gate", &["-O2", "-Wall", "-Wno-nonnull"], true, &mut jobs);
    own("pola", "stat_owners", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "gate_registers", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "trap_emulation", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "dupfd_minimums", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "vdirs_many", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    own("pola", "stat_below_rsp", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "statfs_full", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "gate_bad_pointers", &["-O2", "-Wall", "-Wno-nonnull"], false, &mut jobs);
    own("pola", "link_targets", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "climb", &["-O2", "-Wall"], false, &mut jobs);
    own("pola", "climb_renamed", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    own("pola", "relay_out", &["-O0", "-w", "-mno-red-zone"], true, &mut jobs);
    own("pola", "late_fd", &["-O0", "-w", "-mno-red-zone"], true, &mut jobs);
    own("pola", "int80", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "high_fds", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "own_fd_calls", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "nested_metadata", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "own_fd_leaks", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "own_fd_wide", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "own_fd_second", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "own_fd_links", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "own_fd_ioctl_race", &["-O2", "-Wall", "-pthread"], true, &mut jobs);
    own("pola", "stat_gate", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "fstat_gate", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "shared_truncate", &["-O2", "-Wall"], true, &mut jobs);
    own("pola", "shared_memory_fds", &["-O2", "-Wall", "-pthread"], false, &mut jobs);
    run_jobs(&cc_path, &[], &progs, jobs);

    build_go(&src.join("go/hello"), &out_dir.join("go"), &progs.join("go-hello"));
    build_go(&src.join("go/fileio"), &out_dir.join("go"), &progs.join("go-fileio"));
    build_go(&src.join("go/signals"), &out_dir.join("go"), &progs.join("go-signals"));
    build_go(&src.join("go/clock"), &out_dir.join("go"), &progs.join("go-clock"));
}

/// The names of the C programs of `dir` (NAME of NAME.c), sorted.
fn c_sources(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "c").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

/// Runs the compile jobs two at a time (the machine has two cores).
fn run_jobs(cc: &Path, base: &[String], progs: &Path, jobs: Vec<Job>) {
    for chunk in jobs.chunks(2) {
        std::thread::scope(|scope| {
            for job in chunk {
                scope.spawn(move || {
                    let mut cmd = Command::new(cc);
                    cmd.args(base).args(&job.args);
                    record(progs, &job.out, cmd);
                });
            }
        });
    }
}

/// Runs one build command for OUT; leaves OUT or OUT.error.
fn record(progs: &Path, out: &str, mut cmd: Command) {
    let target = progs.join(out);
    let error = progs.join(format!("{out}.error"));
    let _ = std::fs::remove_file(&target);
    let _ = std::fs::remove_file(&error);
    let msg = match cmd.output() {
        Ok(o) if o.status.success() && target.exists() => return,
        Ok(o) => format!(
            "building {out} failed ({}): {cmd:?}\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("cannot run {cmd:?}: {e}"),
    };
    println!("cargo:warning=preld-tests: {}", msg.lines().next().unwrap_or(""));
    std::fs::write(&error, msg).unwrap();
}

/// `CGO_ENABLED=0 go build` with every cache under OUT_DIR/go and no network.
fn build_go(src: &Path, work: &Path, out: &Path) {
    let go = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("go"))
        .find(|p| p.is_file());
    let Some(go) = go else {
        let name = out.file_name().unwrap().to_string_lossy().into_owned();
        let _ = std::fs::remove_file(out);
        std::fs::write(
            out.with_file_name(format!("{name}.error")),
            "`go` is missing: install the Debian package `golang-go` (.ci/run does)",
        )
        .unwrap();
        // Build again once Go appears (a missing path counts as changed).
        println!("cargo:rerun-if-changed=/usr/bin/go");
        return;
    };
    let mut cmd = Command::new(go);
    cmd.current_dir(src)
        .args(["build", "-trimpath", "-o"])
        .arg(out)
        .arg(".")
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", work.join("cache"))
        .env("GOPATH", work.join("path"))
        .env("GOMODCACHE", work.join("path/pkg/mod"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        .env("GOENV", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GO111MODULE", "on");
    record(out.parent().unwrap(), &out.file_name().unwrap().to_string_lossy(), cmd);
}
