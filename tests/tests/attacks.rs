//! The attack suite of `preld pola` (issue 4): each program of
//! tests/programs/attack/ tries to read a secret outside its grants or to
//! write into a read-only grant, run as
//! `preld pola -B --ro <bin dir> --rw <out dir> -- <attack> SECRET RO RW ...`.
//! An attack "got out" if the secret's content shows in its output or in its
//! out dir, if it prints `ESCAPE:` (a write into the read-only grant, an
//! io_uring set up, ...), if the read-only grant changed, or if the launcher
//! crashed. A crash of the attack itself is a fine outcome.
//!
//! The programs are compiled here with `cc` at run time, once per version
//! of their sources: the binaries are kept in target/tmp/attack-bin/ with
//! a hash of the sources and flags, and copied into a temp dir for each run
//! (compiling 16 programs was most of the suite's time on a loaded machine).

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use preld_tests::{ld_preld, preld, require_tool, root};

const VICTIM: &str = "victim file: read-only grant\n";

fn random_hex() -> String {
    let mut b = [0u8; 8];
    fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b)).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Puts every attack program into `bin`: copies of the cached binaries if
/// they were built from these very sources, else compiled anew (and cached).
fn compile(bin: &Path) {
    use std::hash::{Hash, Hasher};
    let src = root().join("tests/programs/attack");
    let mut names: Vec<PathBuf> = fs::read_dir(&src).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    "cc -O0 -pthread -w; static_cat -static".hash(&mut h);
    // A new compiler builds anew.
    Command::new("cc").arg("--version").output().expect("cc").stdout.hash(&mut h);
    for p in &names {
        p.file_name().hash(&mut h);
        fs::read(p).unwrap().hash(&mut h);
    }
    // One directory per version of the sources, made complete under a
    // temporary name and renamed into place: concurrent test runs share it.
    let cache = root().join(format!("target/tmp/attack-bin/{:016x}", h.finish()));
    if !cache.is_dir() {
        let tmp = cache.with_extension(format!("tmp{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).unwrap();
        compile_into(&src, &tmp);
        if fs::rename(&tmp, &cache).is_err() {
            // Another run got there first.
            let _ = fs::remove_dir_all(&tmp);
        }
    }
    for p in names.iter().filter(|p| p.extension().is_some_and(|x| x == "c")) {
        let name = p.file_stem().unwrap();
        fs::copy(cache.join(name), bin.join(name)).unwrap_or_else(|e| panic!("{}: {e}", cache.join(name).display()));
    }
}

/// Compiles every attack program of `src` into `bin`, in parallel.
fn compile_into(src: &Path, bin: &Path) {
    let mut jobs = Vec::new();
    for e in fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        if p.extension().map_or(true, |x| x != "c") {
            continue;
        }
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        let mut cmd = Command::new("cc");
        cmd.args(["-O0", "-pthread", "-w", "-o"]).arg(bin.join(&name)).arg(&p);
        if name == "static_cat" {
            cmd.arg("-static");
        }
        jobs.push((name, cmd.stderr(Stdio::piped()).spawn().expect("cc")));
    }
    for (name, child) in jobs {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "cc {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The secret's file handle (type, hex bytes) for open_by_handle_at.
fn handle_of(path: &Path) -> (i32, String) {
    #[repr(C)]
    struct Fh {
        bytes: u32,
        ty: i32,
        h: [u8; 128],
    }
    let mut fh = Fh { bytes: 128, ty: 0, h: [0; 128] };
    let mut mnt = 0i32;
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: name_to_handle_at writes at most `bytes` handle bytes into
    // `fh` (sized for them) and an int into `mnt`; `c` is NUL-terminated.
    let r = unsafe {
        libc::syscall(libc::SYS_name_to_handle_at, libc::AT_FDCWD, c.as_ptr(), &mut fh as *mut Fh, &mut mnt as *mut i32, 0)
    };
    if r != 0 {
        return (1, "00".repeat(8)); // no handles here: a forged one
    }
    (fh.ty, fh.h[..fh.bytes as usize].iter().map(|x| format!("{x:02x}")).collect())
}

/// Mode, owner and modification time of every entry of a tree, for
/// metadata writes into the read-only grant.
fn metadata(dir: &Path) -> BTreeMap<PathBuf, (u32, u32, u32, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut m = BTreeMap::new();
    for p in snapshot(dir).into_keys().chain([dir.to_path_buf()]) {
        let md = fs::symlink_metadata(&p).unwrap();
        m.insert(p, (md.mode(), md.uid(), md.gid(), md.mtime(), md.mtime_nsec()));
    }
    m
}

/// Names and contents of the files of a tree (symlinks by target).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                stack.push(p.clone());
                m.insert(p, Vec::new());
            } else if md.file_type().is_symlink() {
                m.insert(p.clone(), fs::read_link(&p).unwrap().as_os_str().as_bytes().to_vec());
            } else if md.is_file() {
                m.insert(p.clone(), fs::read(&p).unwrap_or_default());
            }
        }
    }
    m
}

struct Run {
    stdout: String,
    stderr: String,
    status: std::process::ExitStatus,
    secs: f64,
}

fn run_with_timeout(mut cmd: Command, limit: Duration) -> Run {
    let t = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let ro = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let re = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t.elapsed() > limit {
            child.kill().ok();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        stdout: String::from_utf8_lossy(&ro.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&re.join().unwrap()).into_owned(),
        status,
        secs: t.elapsed().as_secs_f64(),
    }
}

#[test]
fn attacks() {
    require_tool("cc", "gcc");
    let preld = preld();
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    compile(&bin);
    fs::write(bin.join("victim"), VICTIM).unwrap();

    let token = format!("preld-secret-token-{}", random_hex());
    let secret_dir = PathBuf::from(format!("/tmp/preld-secret-{}", random_hex()));
    fs::create_dir(&secret_dir).unwrap();
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            fs::remove_dir_all(&self.0).ok();
        }
    }
    let _cleanup = Cleanup(secret_dir.clone());
    let secret = secret_dir.join("secret");
    fs::write(&secret, format!("{token}\n")).unwrap();
    let outside_cat = secret_dir.join("static-cat");
    fs::copy(bin.join("static_cat"), &outside_cat).unwrap();
    let (hty, hhex) = handle_of(&secret);
    let ro_before = snapshot(&bin);
    let meta_before = metadata(&bin);

    let s = |p: &Path| p.to_str().unwrap().to_string();
    let attacks: Vec<(&str, &str, Vec<String>)> = vec![
        ("raw syscall instructions (openat, open, openat2, /proc/self/root, writes to ro)", "raw_syscall", vec![]),
        ("jump into ld-preld's `syscall; ret` with crafted registers", "gadget", vec![]),
        ("prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF), then raw syscalls", "prctl_off", vec![]),
        ("replace the SIGSYS handler, then raw syscalls", "sigsys_replace", vec![]),
        ("block SIGSYS, then raw syscalls", "sigsys_block", vec![]),
        ("mprotect/munmap of ld-preld's image", "unmap", vec![]),
        ("`..` escapes from granted dirs and dirfds", "dotdot", vec![]),
        ("symlink and hard-link escapes from the rw grant", "symlink", vec![]),
        ("symlink swapped by a racing thread (10000 opens)", "symlink_race", vec![]),
        ("/proc/self/root, /proc/<launcher>/root, /proc/<launcher>/fd/*", "proc", vec![]),
        ("io_uring_setup (and IORING_OP_OPENAT)", "io_uring", vec![]),
        ("open_by_handle_at of the secret's real handle", "by_handle", vec![hty.to_string(), hhex]),
        ("forged and truncated RPC frames on every socket fd", "forge_rpc", vec![]),
        (
            "exec of a static binary outside the grants (and via ld-preld)",
            "exec_static",
            vec![s(&outside_cat), s(&bin.join("static_cat")), s(&ld_preld())],
        ),
        ("path argument rewritten by another thread (20000 opens)", "path_race", vec![]),
        ("fchmod/fchown/futimens/fsetxattr on fds of the read-only grant", "metadata", vec![]),
    ];

    let mut report = Vec::new();
    let mut escapes = Vec::new();
    for (i, (what, prog, extra)) in attacks.iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        fs::create_dir(&out).unwrap();
        let mut cmd = Command::new(&preld);
        cmd.args(["pola", "-B", "--ro"]).arg(&bin).arg("--exec").arg(bin.join("static_cat")).arg("--rw").arg(&out).arg("--").arg(bin.join(prog));
        cmd.arg(&secret).arg(&bin).arg(&out).args(extra);
        let r = run_with_timeout(cmd, Duration::from_secs(30));

        let mut why = Vec::new();
        if r.stdout.contains(&token) || r.stderr.contains(&token) {
            why.push("the secret's content is in its output".to_string());
        }
        for l in r.stdout.lines().filter(|l| l.contains("ESCAPE")) {
            why.push(l.to_string());
        }
        for (p, c) in snapshot(&out) {
            if String::from_utf8_lossy(&c).contains(&token) {
                why.push(format!("{} holds the secret", p.display()));
            }
        }
        if snapshot(&bin) != ro_before {
            why.push("the read-only grant changed".to_string());
            // Restore it for the next attacks.
            fs::write(bin.join("victim"), VICTIM).ok();
        }
        let meta_after = metadata(&bin);
        if meta_after != meta_before {
            let changed: Vec<String> = meta_after
                .iter()
                .filter(|(p, m)| meta_before.get(*p) != Some(m))
                .map(|(p, m)| format!("{} {m:?} (was {:?})", p.display(), meta_before.get(p)))
                .collect();
            why.push(format!("the read-only grant's metadata changed: {}", changed.join(", ")));
            // Restore it for the next attacks.
            for (p, (mode, uid, gid, sec, nsec)) in &meta_before {
                use std::os::unix::fs::PermissionsExt;
                std::os::unix::fs::lchown(p, Some(*uid), Some(*gid)).ok();
                fs::set_permissions(p, fs::Permissions::from_mode(*mode)).ok();
                let t = std::time::UNIX_EPOCH + Duration::new(*sec as u64, *nsec as u32);
                fs::File::open(p).and_then(|f| f.set_modified(t)).ok();
            }
        }
        if r.stderr.contains("panicked") {
            why.push("the launcher panicked".to_string());
        }
        // The launcher mirrors the session's death by a signal (a crashed
        // attack is fine); a launcher crash of its own shows as a panic.
        let foreign: Vec<&str> = r.stderr.lines().filter(|l| !l.starts_with("preld pola:") && !l.starts_with("static-cat")).collect();
        let timed_out = r.secs >= 30.0;
        let verdict = if why.is_empty() { "held" } else { "GOT OUT" };
        report.push(format!(
            "[{verdict}] {what} ({prog}): launcher {:?}, {:.1}s{}{}",
            r.status,
            r.secs,
            if timed_out { ", timed out" } else { "" },
            if foreign.is_empty() { String::new() } else { format!(", stderr: {foreign:?}") }
        ));
        eprintln!("---- {prog}\n{}{}", r.stdout, r.stderr);
        if !why.is_empty() {
            escapes.push(format!("{prog}: {}", why.join("; ")));
        }
        if prog == &"forge_rpc" {
            assert!(
                r.stderr.lines().filter(|l| !l.starts_with("preld pola:")).count() == 0,
                "forge_rpc: the launcher wrote more than its log lines: {}",
                r.stderr
            );
        }
    }
    eprintln!("\n==== preld pola attack report");
    for l in &report {
        eprintln!("{l}");
    }
    eprintln!("{} attacks tried, {} got out", attacks.len(), escapes.len());
    for e in &escapes {
        eprintln!("  ESCAPE {e}");
    }
    assert!(escapes.is_empty(), "{} of {} attacks got out:\n{}", escapes.len(), attacks.len(), escapes.join("\n"));
}
