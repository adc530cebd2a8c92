//! Kernel-level escapes from `preld pola` (issue 8): what a session can
//! reach without going through the capability server. The programs of
//! tests/programs/attack_kernel/ try, each item via libc, via a raw
//! `syscall` instruction (both through the handler) and via a `syscall; ret`
//! gadget found in ld-preld's text (straight to the kernel), built dynamic
//! and static, the static one also copied into a memfd and exec'd through
//! the gadget (no handler at all, ways memfd-libc and memfd-raw):
//!
//! - unix: connect to a listening pathname Unix socket outside the grants,
//!   sendto a datagram socket outside;
//! - net (no --net): UDP to a listener on 127.0.0.1, TCP and MPTCP connect,
//!   MPTCP bind+listen and listen() on an unbound TCP socket (the harness
//!   connects from outside), raw IP / AF_PACKET / AF_NETLINK sockets, a
//!   hand-made UDP packet;
//! - tty: TIOCSTI into the pty the session was started from (fd 0,
//!   /dev/tty, after setsid), TIOCLINUX, TIOCSPGRP (the session's process
//!   group made the terminal's foreground group: it then reads what the
//!   user types, also after the session); the pty is the launcher's stdin
//!   and controlling tty (stdout and stderr stay pipes, for the report);
//! - caps: bpf, system-wide perf_event_open, fanotify permission events,
//!   finit_module's capability check, capget, setuid(0), PTRACE_TRACEME
//!   in a child; pid 1 (the
//!   session's init holds capabilities) through kcmp, process_vm_readv,
//!   pidfd_getfd, setns, kill 0, prlimit64 (a no-op set of RLIMIT_CPU);
//!   unshare of every namespace type;
//! - meta: stat, statx, access, getxattr, setxattr, chmod, chown, utimensat
//!   of a file outside the grants, stat of /etc/shadow;
//! - shared: inotify on a host directory, a key of the user's keyring,
//!   SysV shm and msg queues made outside, prlimit64 / setpriority /
//!   sched_setaffinity / ioprio_set / kill of a process outside;
//! - fds: a secret left open (not close-on-exec) at fd 7 of the launcher,
//!   a secret in the directory the session is started from;
//! - grants: between the grants through the server's fds: a ro grant's
//!   file hard-linked or moved into the rw grant and written, reopened
//!   O_RDWR by file handle, a forged handle of the file system's root,
//!   exec of a ro grant's file, a device node and (root) a setuid-root file
//!   made in the rw grant (fchmod, open O_CREAT 04755), process_madvise and
//!   pidfd_send_signal on the init;
//! - dirfd: `..` from the directory fds the server hands out (the stand-in
//!   of `/`, -B's /tmp, the rw and a ro grant) to the victim file (O_PATH
//!   stat, chmod, utimensat, setxattr), to the harness's Unix socket and to
//!   a host directory (inotify) after fchdir to such an fd; chmod,
//!   utimensat and setxattr of ld-preld's host file by its path in the
//!   session's mount tree (it is owned by the uid here, as a user's own
//!   install of preld is).
//! - fast: the fast path (docs/DESIGN.md): the program's own `mov eax, NR;
//!   syscall` sites and libc's syscall() rewritten by preld, then used for
//!   openat/open/stat/connect of what the session lacks (also in a fork
//!   child and another thread); each of ld-preld's gates called directly,
//!   fast_gate_by_number with numbers out of its table; GATE_BY_NUMBER
//!   and a stub's gate word pointed at the plain gate.
//!
//! An attempt got out when the program prints `ESCAPE:` for it, or when
//! the harness sees its effect outside (its tag at a listener, its marker in
//! the pty's input, the victim file's or process's state changed; the
//! tty's foreground group is checked by the program itself, with
//! TIOCGPGRP: once the session leader has exited, the tty has none).
//!
//! Each test first runs everything natively and asserts that what must get
//! out natively does (so the suite can fail), then under `preld pola -B`
//! (which must hold everything; the gadget must be found in ld-preld and
//! be seen going around the handler: through it the kernel shows preld's
//! SIGSYS handler, which the handler hides from the program), then
//! under `bwrap --unshare-all --new-session` for comparison (reported, not
//! asserted). One test runs as root, one as nobody (65534): both need root
//! to start. PRELD_KATTACK_DIR names another directory holding preld and
//! ld-preld to attack instead of target/preld/ (an older build, say).
//!
//! The programs are built by build.rs (`preld_tests::program(
//! "attack_kernel/GROUP")` and `GROUP-static`) and copied into a directory
//! every uid can read, the read-only grant of every run.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use preld_tests::run::{kill_group, wait_or_kill};
use preld_tests::scratch::Scratch;
use preld_tests::{preld, program, random_hex, require_tool};

/// The attack programs (tests/programs/attack_kernel/NAME.c).
const GROUPS: [&str; 10] = ["unix", "net", "tty", "caps", "meta", "shared", "fds", "dirfd", "grants", "fast"];
/// How each program is built and started: (name, binary suffix, mode).
const VARIANTS: [(&str, &str, &str); 3] = [("dyn", "", "attack"), ("static", "-static", "attack"), ("static-memfd", "-static", "memfd")];
const LIMIT: Duration = Duration::from_secs(20);
const NOBODY: u32 = 65534;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Env {
    Native,
    Preld,
    Bwrap,
}

impl Env {
    fn name(self) -> &'static str {
        match self {
            Env::Native => "native",
            Env::Preld => "preld pola",
            Env::Bwrap => "bwrap",
        }
    }
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
}

/// Puts every attack program, dynamic and `-static`, into `bin`.
fn copy_programs(bin: &Path) {
    for g in GROUPS {
        for name in [g.to_string(), format!("{g}-static")] {
            let from = program(&format!("attack_kernel/{name}"));
            fs::copy(&from, bin.join(&name)).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
            chmod(&bin.join(&name), 0o755);
        }
    }
}

/// The harness's listeners outside every session: a pathname Unix stream
/// and datagram socket, UDP and TCP on 127.0.0.1. Each records the tags
/// (`KATTACK run item way`) that reach it and answers "ACK".
struct Listeners {
    unix_stream: PathBuf,
    unix_dgram: PathBuf,
    udp_port: u16,
    tcp_port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Listeners {
    fn start(dir: &Path, uid: u32, gid: u32) -> Listeners {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let unix_stream = dir.join("stream.sock");
        let unix_dgram = dir.join("dgram.sock");
        let us = UnixListener::bind(&unix_stream).unwrap();
        let ud = UnixDatagram::bind(&unix_dgram).unwrap();
        for p in [&unix_stream, &unix_dgram] {
            chown(p, uid, gid);
        }
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let (udp_port, tcp_port) = (udp.local_addr().unwrap().port(), tcp.local_addr().unwrap().port());
        let mut threads = Vec::new();
        fn record(seen: &Arc<Mutex<Vec<String>>>, b: &[u8]) {
            let s = String::from_utf8_lossy(b);
            for l in s.lines().filter(|l| l.starts_with("KATTACK ")) {
                seen.lock().unwrap().push(l.to_string());
            }
        }
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            udp.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            threads.push(std::thread::spawn(move || {
                let mut b = [0u8; 512];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((n, from)) = udp.recv_from(&mut b) {
                        record(&seen, &b[..n]);
                        udp.send_to(b"ACK\n", from).ok();
                    }
                }
            }));
        }
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            ud.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            threads.push(std::thread::spawn(move || {
                let mut b = [0u8; 512];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(n) = ud.recv(&mut b) {
                        record(&seen, &b[..n]);
                    }
                }
            }));
        }
        // Stream listeners: accept without blocking, read one line (bounded
        // by a timeout), answer.
        fn serve<S: Read + Write>(mut s: S, seen: &Arc<Mutex<Vec<String>>>) {
            let mut b = [0u8; 512];
            let mut n = 0;
            while n < b.len() {
                match s.read(&mut b[n..]) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
                if b[..n].contains(&b'\n') {
                    break;
                }
            }
            record(seen, &b[..n]);
            s.write_all(b"ACK\n").ok();
        }
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            tcp.set_nonblocking(true).unwrap();
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match tcp.accept() {
                        Ok((s, _)) => {
                            s.set_nonblocking(false).unwrap();
                            s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
                            serve(s, &seen);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }));
        }
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            us.set_nonblocking(true).unwrap();
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match us.accept() {
                        Ok((s, _)) => {
                            s.set_nonblocking(false).unwrap();
                            s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
                            serve(s, &seen);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            }));
        }
        Listeners { unix_stream, unix_dgram, udp_port, tcp_port, seen, stop, threads }
    }

    /// Returns once everything sent to the listeners before it has been
    /// recorded: each serves its queue in order, so a barrier tag sent to
    /// every one of them arrives after all that came before.
    fn sync(&self) {
        let id = format!("barrier-{}", random_hex());
        let line = format!("KATTACK {id} - -\n");
        let b = line.as_bytes();
        UnixDatagram::unbound().unwrap().send_to(b, &self.unix_dgram).unwrap();
        std::os::unix::net::UnixStream::connect(&self.unix_stream).unwrap().write_all(b).unwrap();
        UdpSocket::bind("127.0.0.1:0").unwrap().send_to(b, ("127.0.0.1", self.udp_port)).unwrap();
        TcpStream::connect(("127.0.0.1", self.tcp_port)).unwrap().write_all(b).unwrap();
        let t = Instant::now();
        while self.arrived(&id).len() < 4 {
            assert!(t.elapsed() < Duration::from_secs(5), "the harness's listeners do not answer: {:?}", self.arrived(&id));
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// (item, way) of the tags of `run` that arrived.
    fn arrived(&self, run: &str) -> Vec<(String, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w.len() == 4 && w[1] == run).then(|| (w[2].to_string(), w[3].to_string()))
            })
            .collect()
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().ok();
        }
    }
}

/// A fresh pty whose slave is the session's stdin and controlling tty:
/// non-canonical, no echo, so injected characters stay in its input queue.
struct Pty {
    _master: OwnedFd,
    slave: fs::File,
}

impl Pty {
    fn new(uid: u32, gid: u32) -> Pty {
        // SAFETY: plain libc calls on fds this function owns; ptsname_r
        // writes at most buf.len() bytes, NUL-terminated.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            let master = OwnedFd::from_raw_fd(m);
            assert!(libc::grantpt(m) == 0 && libc::unlockpt(m) == 0, "grantpt/unlockpt: {}", std::io::Error::last_os_error());
            let mut buf = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
            let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap().to_string();
            chown(Path::new(&name), uid, gid);
            let s = libc::open(buf.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(s >= 0, "open {name}: {}", std::io::Error::last_os_error());
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(s, &mut t), 0);
            t.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
            t.c_cc[libc::VMIN] = 0;
            t.c_cc[libc::VTIME] = 0;
            assert_eq!(libc::tcsetattr(s, libc::TCSANOW, &t), 0);
            Pty { _master: master, slave: fs::File::from_raw_fd(s) }
        }
    }

    /// What waits in the slave's input queue (what the user's shell would
    /// read after the session).
    fn pending(&mut self) -> String {
        let mut out = Vec::new();
        let mut b = [0u8; 4096];
        for _ in 0..64 {
            match self.slave.read(&mut b) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&b[..n]),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A victim file's metadata: mode, owner, mtime, its user xattrs.
type FileState = (u32, u32, u32, i64, BTreeMap<String, Vec<u8>>);

fn file_state(p: &Path) -> FileState {
    let md = fs::symlink_metadata(p).unwrap();
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let mut names = vec![0u8; 4096];
    // SAFETY: listxattr/getxattr write at most the given lengths into the
    // buffers; `c` is NUL-terminated.
    let n = unsafe { libc::listxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    let mut x = BTreeMap::new();
    for name in names[..n.max(0) as usize].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let cn = std::ffi::CString::new(name).unwrap();
        let mut v = vec![0u8; 256];
        // SAFETY: getxattr writes at most v.len() bytes into `v`; `c` and
        // `cn` are NUL-terminated.
        let k = unsafe { libc::getxattr(c.as_ptr(), cn.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
        v.truncate(k.max(0) as usize);
        x.insert(String::from_utf8_lossy(name).into_owned(), v);
    }
    (md.mode(), md.uid(), md.gid(), md.mtime(), x)
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a buffer of the length given.
    let r = unsafe { libc::setxattr(c.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    assert_eq!(r, 0, "setxattr {name} on {}: {}", p.display(), std::io::Error::last_os_error());
}

fn restore_file(p: &Path, s: &FileState) {
    chmod(p, s.0 & 0o7777);
    chown(p, s.1, s.2);
    fs::File::open(p).unwrap().set_modified(UNIX_EPOCH + Duration::from_secs(s.3 as u64)).unwrap();
    let now = file_state(p);
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    for name in now.4.keys().filter(|k| !s.4.contains_key(*k)) {
        let n = std::ffi::CString::new(name.as_str()).unwrap();
        // SAFETY: NUL-terminated strings.
        unsafe { libc::removexattr(c.as_ptr(), n.as_ptr()) };
    }
    for (k, v) in &s.4 {
        set_xattr(p, k, v);
    }
}

/// A victim process's state: nice, RLIMIT_NOFILE, CPUs allowed, I/O priority.
fn proc_state(pid: u32) -> (String, String, String, i64) {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let nice = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().nth(16).unwrap_or("?").to_string()).unwrap_or_default();
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
    let nofile = limits.lines().find(|l| l.starts_with("Max open files")).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let cpus = status.lines().find(|l| l.starts_with("Cpus_allowed_list")).unwrap_or("").to_string();
    // SAFETY: ioprio_get takes two integers.
    let io = unsafe { libc::syscall(libc::SYS_ioprio_get, 1, pid as libc::c_long) };
    (nice, nofile, cpus, io)
}

/// One attempt: an item, in one way, of one build.
#[derive(Clone, Debug)]
struct Attempt {
    variant: &'static str,
    item: String,
    way: String,
    escaped: bool,
    detail: String,
}

/// Everything one run of one program showed.
struct RunOut {
    run: String,
    attempts: Vec<Attempt>,
    gadget: Option<String>,
    /// The SIGSYS handler as the program sees it through the handler and
    /// as the kernel shows it through the gadget.
    bypass: Option<(u64, u64)>,
    ended: bool,
    memfd_child: bool,
    notes: Vec<String>,
    status: ExitStatus,
    stderr: String,
    secs: f64,
}

/// The uid's world: its programs, the files and objects outside every
/// grant, the listeners.
struct World {
    who: &'static str,
    uid: u32,
    gid: u32,
    _tmp: Scratch,
    base: PathBuf,
    bin: PathBuf,
    preld: PathBuf,
    victim: PathBuf,
    victim_state: FileState,
    watch_dir: PathBuf,
    home: PathBuf,
    cwd_abs: PathBuf,
    fd_secret: fs::File,
    empty: PathBuf,
    listeners: Listeners,
    key_desc: String,
    key_id: String,
    shm: String,
    msg: String,
    nrun: std::cell::Cell<usize>,
}

impl World {
    fn new(who: &'static str, uid: u32, gid: u32) -> World {
        let tmp = Scratch::new(&format!("kattack-{who}"));
        let base = tmp.path().to_path_buf();
        chmod(&base, 0o755);
        let bin = base.join("bin");
        fs::create_dir(&bin).unwrap();
        chmod(&bin, 0o755);
        copy_programs(&bin);
        // A copy of preld and ld-preld that any uid can run (preld finds
        // ld-preld beside itself; the checkout may be closed to others).
        let from = std::env::var_os("PRELD_KATTACK_DIR").map(PathBuf::from).unwrap_or_else(|| preld().parent().unwrap().to_path_buf());
        let pdir = base.join("preld");
        fs::create_dir(&pdir).unwrap();
        chmod(&pdir, 0o755);
        for name in ["preld", "ld-preld"] {
            fs::copy(from.join(name), pdir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", from.join(name).display()));
            chmod(&pdir.join(name), 0o755);
            // The uid's own, as a user's install of preld is (dirfd's
            // ld-preld-* items need an owner inside the session).
            chown(&pdir.join(name), uid, gid);
        }
        // Outside every grant, owned by the uid like its own files.
        let secret = base.join("secret");
        let home = secret.join("home");
        let watch_dir = secret.join("watched");
        let sock = secret.join("sock");
        for d in [&secret, &home, &home.join(".ssh"), &watch_dir, &sock] {
            fs::create_dir(d).unwrap();
            chmod(d, 0o700);
            chown(d, uid, gid);
        }
        let victim = secret.join("victim");
        fs::write(&victim, "victim file outside the grants\n").unwrap();
        chmod(&victim, 0o640);
        chown(&victim, uid, gid);
        set_xattr(&victim, "user.kattack", format!("kattack-xattr-{}", random_hex()).as_bytes());
        fs::File::open(&victim).unwrap().set_modified(UNIX_EPOCH + Duration::from_secs(1_600_000_000)).unwrap();
        let victim_state = file_state(&victim);
        let cwd_abs = home.join(".ssh/id_kattack");
        fs::write(&cwd_abs, format!("kattack-secret-ssh-{}\n", random_hex())).unwrap();
        chmod(&cwd_abs, 0o600);
        chown(&cwd_abs, uid, gid);
        let fdp = secret.join("fd-secret");
        fs::write(&fdp, format!("kattack-secret-fd-{}\n", random_hex())).unwrap();
        let fd_secret = fs::File::open(&fdp).unwrap();
        let empty = base.join("empty");
        fs::create_dir(&empty).unwrap();
        chmod(&empty, 0o755);
        let listeners = Listeners::start(&sock, uid, gid);

        let mut w = World {
            who,
            uid,
            gid,
            _tmp: tmp,
            base,
            bin,
            preld: pdir.join("preld"),
            victim,
            victim_state,
            watch_dir,
            home,
            cwd_abs,
            fd_secret,
            empty,
            listeners,
            key_desc: format!("kattack-{who}-{}", random_hex()),
            key_id: String::new(),
            shm: String::new(),
            msg: String::new(),
            nrun: std::cell::Cell::new(0),
        };
        // The key and the SysV objects are made by the uid itself.
        let o = w.helper(&["setup-key", &format!("key_desc={}", w.key_desc), &format!("key_payload=kattack-key-{}", random_hex())]);
        w.key_id = o.trim().strip_prefix("key=").unwrap_or_else(|| panic!("setup-key: {o}")).to_string();
        let o = w.helper(&["setup-ipc", &format!("ipc_marker=kattack-ipc-{}", random_hex())]);
        for kv in o.split_whitespace() {
            match kv.split_once('=') {
                Some(("shm", v)) => w.shm = v.to_string(),
                Some(("msg", v)) => w.msg = v.to_string(),
                _ => {}
            }
        }
        assert!(!w.shm.is_empty() && !w.msg.is_empty(), "setup-ipc: {o}");
        w
    }

    /// Runs a helper mode of the shared program natively as the uid.
    fn helper(&self, args: &[&str]) -> String {
        let mut c = Command::new(self.bin.join("shared-static"));
        c.args(args).uid(self.uid).gid(self.gid).current_dir(&self.empty).stdin(Stdio::null());
        let o = c.output().unwrap();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn spawn_victim(&self) -> std::process::Child {
        Command::new(self.bin.join("shared-static"))
            .arg("victim")
            .uid(self.uid)
            .gid(self.gid)
            .current_dir(&self.empty)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// A fresh read-write directory for one run.
    fn out_dir(&self) -> PathBuf {
        let n = self.nrun.get();
        self.nrun.set(n + 1);
        let d = self.base.join(format!("out{n}"));
        fs::create_dir(&d).unwrap();
        chmod(&d, 0o755);
        chown(&d, self.uid, self.gid);
        d
    }

    /// Runs `group` built as `variant` in `env`, with everything set up
    /// around it, and collects what it showed and what the harness saw.
    fn run(&self, env: Env, group: &str, variant: &'static str, suffix: &str, mode: &str) -> RunOut {
        let prog = self.bin.join(format!("{group}{suffix}"));
        let out = self.out_dir();
        let run = format!("{}-{}-{group}-{variant}", self.who, env.name().replace(' ', "-"));
        let mut victim = (group == "shared").then(|| self.spawn_victim());
        let victim_pid = victim.as_ref().map_or(0, |v| v.id());
        let proc_before = (victim_pid != 0).then(|| {
            std::thread::sleep(Duration::from_millis(5));
            proc_state(victim_pid)
        });
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let mut pty = (group == "tty").then(|| Pty::new(self.uid, self.gid));
        // The user's terminal, by device number and devpts instance: a
        // terminal of the session's own is not the user's (its devpts
        // numbers its ptys from 0 too).
        let (tty_rdev, tty_dev) = pty.as_ref().map_or((0, 0), |p| {
            use std::os::unix::fs::MetadataExt;
            let m = p.slave.metadata().unwrap();
            (m.rdev(), m.dev())
        });
        let kv = vec![
            format!("run={run}"),
            format!("tty_rdev={tty_rdev}"),
            format!("tty_dev={tty_dev}"),
            format!("unix_stream={}", s(&self.listeners.unix_stream)),
            format!("unix_dgram={}", s(&self.listeners.unix_dgram)),
            format!("udp_port={}", self.listeners.udp_port),
            format!("tcp_port={}", self.listeners.tcp_port),
            format!("victim={}", s(&self.victim)),
            format!("watch_dir={}", s(&self.watch_dir)),
            format!("key_desc={}", self.key_desc),
            format!("shm={}", self.shm),
            format!("msg={}", self.msg),
            format!("victim_pid={victim_pid}"),
            "cwd_rel=.ssh/id_kattack".to_string(),
            format!("cwd_abs={}", s(&self.cwd_abs)),
            format!("out={}", s(&out)),
            format!("bin={}", s(&self.bin)),
            format!("ld={}", s(&self.preld.with_file_name("ld-preld"))),
        ];
        let mut cmd = match env {
            Env::Native => Command::new(&prog),
            Env::Preld => {
                let mut c = Command::new(&self.preld);
                c.args(["pola", "-B", "--ro"]).arg(&self.bin);
                if suffix == "-static" {
                    c.arg("--exec").arg(&prog);
                }
                c.arg("--rw").arg(&out).arg("--").arg(&prog);
                c
            }
            Env::Bwrap => {
                let mut c = Command::new("bwrap");
                c.args(["--unshare-all", "--new-session", "--die-with-parent", "--ro-bind", "/usr", "/usr"]);
                c.args(["--symlink", "usr/lib64", "/lib64", "--symlink", "usr/lib", "/lib", "--symlink", "usr/bin", "/bin"]);
                c.arg("--ro-bind").arg(&self.bin).arg(&self.bin).arg("--bind").arg(&out).arg(&out);
                c.args(["--dev", "/dev", "--proc", "/proc", "--"]).arg(&prog);
                c
            }
        };
        cmd.arg(mode).args(&kv);
        cmd.env_clear().env("PATH", "/usr/bin:/bin").env("LC_ALL", "C").envs(preld_tests::fast_env());
        cmd.uid(self.uid).gid(self.gid);
        cmd.current_dir(if group == "fds" { &self.home } else { &self.empty });

        if let Some(p) = &pty {
            cmd.stdin(Stdio::from(p.slave.try_clone().unwrap()));
            // SAFETY: setsid and ioctl are async-signal-safe; fd 0 is the
            // pty's slave.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        } else {
            cmd.process_group(0);
            cmd.stdin(if group == "net" { Stdio::piped() } else { Stdio::null() });
        }
        if group == "fds" {
            let fd = self.fd_secret.as_raw_fd();
            // SAFETY: dup2 and fcntl are async-signal-safe. fd 7 is left not
            // close-on-exec, like an fd a careless parent leaves open (dup2
            // clears the flag, except when the secret already is fd 7).
            unsafe {
                cmd.pre_exec(move || {
                    if libc::dup2(fd, 7) < 0 || libc::fcntl(7, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }

        let t = Instant::now();
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let pid = child.id();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let mut stdin = child.stdin.take();
        // stdout line by line: a LISTENING line makes the harness connect
        // from outside, then tell the program DONE on its stdin.
        let run_id = run.clone();
        let lines_t = std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut acks = Vec::new();
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { break };
                if let Some(rest) = l.strip_prefix("LISTENING ") {
                    if let Some((what, port)) = rest.rsplit_once(" port=") {
                        if let Some((item, way)) = what.split_once(" via ") {
                            if let Some(ack) = connect_from_outside(port.parse().unwrap_or(0), &format!("{run_id} {item} {way}")) {
                                acks.push((what.to_string(), ack));
                            }
                        }
                    }
                    if let Some(i) = stdin.as_mut() {
                        i.write_all(b"DONE\n").ok();
                    }
                }
                lines.push(l);
            }
            (lines, acks)
        });
        let err_t = std::thread::spawn(move || {
            let mut s = Vec::new();
            stderr.read_to_end(&mut s).ok();
            String::from_utf8_lossy(&s).into_owned()
        });
        let waited = wait_or_kill(&mut child, LIMIT);
        let (status, timed_out) = (waited.status, waited.timed_out);
        // What the session left behind may still hold the pipes: bounded.
        let deadline = Instant::now() + Duration::from_secs(3);
        while !lines_t.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if !lines_t.is_finished() {
            kill_group(pid);
            let deadline = Instant::now() + Duration::from_secs(2);
            while !lines_t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert!(lines_t.is_finished(), "{run}: a process outside the run's process group still holds its stdout");
        }
        let (lines, acks) = lines_t.join().unwrap();
        let stderr = err_t.join().unwrap();
        let secs = t.elapsed().as_secs_f64();

        let mut r = RunOut {
            run: run.clone(),
            attempts: Vec::new(),
            gadget: None,
            bypass: None,
            ended: lines.iter().any(|l| l == "END"),
            memfd_child: lines.iter().any(|l| l.starts_with("memfd-child:")),
            notes: Vec::new(),
            status,
            stderr,
            secs,
        };
        if timed_out {
            r.notes.push(format!("timed out after {LIMIT:?}"));
        }
        for l in &lines {
            if let Some(g) = l.strip_prefix("gadget: ") {
                r.gadget = Some(g.to_string());
            } else if let Some(b) = l.strip_prefix("bypass: SIGSYS action via raw ") {
                let hex = |s: &str| u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap_or(0);
                r.bypass = b.split_once(", via gadget ").map(|(a, b)| (hex(a), hex(b)));
            } else if l.starts_with("memfd-exec:") || l.starts_with("info:") {
                r.notes.push(l.clone());
            } else if let Some(a) = parse_attempt(l, variant) {
                r.attempts.push(a);
            }
        }

        // What the harness saw outside, attributed to the attempts.
        let mut saw: Vec<(String, String, String)> = Vec::new();
        self.listeners.sync();
        for (item, way) in self.listeners.arrived(&run) {
            saw.push((item, way, "its tag reached the harness's listener".into()));
        }
        for (what, ack) in acks {
            if let Some((item, way)) = what.split_once(" via ") {
                saw.push((item.to_string(), way.to_string(), format!("the harness connected from outside ({ack})")));
            }
        }
        if let Some(p) = pty.as_mut() {
            let pending = p.pending();
            for m in pending.split('[').skip(1).filter_map(|m| m.split_once(']')).map(|(m, _)| m) {
                if let Some((item, way)) = m.split_once('/') {
                    saw.push((item.to_string(), way.to_string(), "its marker is in the terminal's input queue".into()));
                }
            }
            if !pending.is_empty() {
                r.notes.push(format!("the pty's input queue after the run: {pending:?}"));
            }
        }
        if group == "meta" || group == "dirfd" {
            // meta changes the victim by path, dirfd by `..` from an fd.
            let pre = if group == "dirfd" { "dotdot-" } else { "" };
            let now = file_state(&self.victim);
            let b = &self.victim_state;
            let mut changed = Vec::new();
            if now.0 != b.0 {
                changed.push(("chmod", format!("mode {:o} -> {:o}", b.0, now.0)));
            }
            if (now.1, now.2) != (b.1, b.2) {
                changed.push(("chown", format!("owner {}:{} -> {}:{}", b.1, b.2, now.1, now.2)));
            }
            if now.3 != b.3 {
                changed.push(("utimensat", format!("mtime {} -> {}", b.3, now.3)));
            }
            if now.4 != b.4 {
                changed
                    .push(("setxattr", format!("xattrs {:?} -> {:?}", b.4.keys().collect::<Vec<_>>(), now.4.keys().collect::<Vec<_>>())));
            }
            for (item, what) in changed {
                saw.push((format!("{pre}{item}"), "?".into(), format!("the victim file changed: {what}")));
            }
            restore_file(&self.victim, b);
        }
        if let (Some(v), Some(before)) = (victim.as_mut(), proc_before) {
            let now = proc_state(victim_pid);
            for (item, b, a) in [
                ("setpriority", &before.0, &now.0),
                ("prlimit", &before.1, &now.1),
                ("sched-setaffinity", &before.2, &now.2),
                ("ioprio-set", &before.3.to_string(), &now.3.to_string()),
            ] {
                if b != a {
                    saw.push((item.to_string(), "?".into(), format!("the victim process changed: {b:?} -> {a:?}")));
                }
            }
            v.kill().ok();
            v.wait().ok();
        }
        for (item, way, what) in saw {
            let found = r.attempts.iter_mut().find(|a| a.item == item && (a.way == way || (way == "?" && a.escaped)));
            match found {
                Some(a) if a.escaped => {}
                Some(a) => {
                    a.escaped = true;
                    a.detail = format!("the program said held ({}), but {what}", a.detail);
                }
                None => {
                    let said = if r.attempts.iter().any(|a| a.item == item) { "every attempt said held" } else { "no line of the program" };
                    let way = if way == "?" { "an unknown way".to_string() } else { way };
                    r.attempts.push(Attempt { variant, item, way, escaped: true, detail: format!("{said}, but {what}") });
                }
            }
        }
        r
    }
}

/// The harness's side of a listening item: connect to 127.0.0.1:port from
/// outside, say `HELLO <run> <item> <way>`, wait for the program's ACK of
/// that very line (a listener of another run, say the other test's native
/// one on the same port number, does not answer it).
fn connect_from_outside(port: u16, what: &str) -> Option<String> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()?;
    s.set_read_timeout(Some(Duration::from_millis(1000))).ok();
    s.write_all(format!("HELLO {what}\n").as_bytes()).ok()?;
    let mut b = [0u8; 256];
    let n = s.read(&mut b).ok()?;
    (b[..n] == *format!("ACK {what}\n").as_bytes()).then(|| format!("port {port} answered"))
}

fn parse_attempt(l: &str, variant: &'static str) -> Option<Attempt> {
    if let Some(rest) = l.strip_prefix("ESCAPE: ") {
        let (item, rest) = rest.split_once(" via ")?;
        let (way, detail) = rest.split_once(" -- ").unwrap_or((rest, ""));
        return Some(Attempt { variant, item: item.into(), way: way.into(), escaped: true, detail: detail.into() });
    }
    let rest = l.strip_prefix("held: ")?;
    let (item, rest) = rest.split_once(" via ")?;
    let (way, detail) = rest.split_once(": ").unwrap_or((rest, ""));
    Some(Attempt { variant, item: item.into(), way: way.into(), escaped: false, detail: detail.into() })
}

fn sysctl(path: &str) -> String {
    fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Items that still get out of a session, documented in docs/DESIGN.md
/// ("What a session can still do"): reported, not failed. None now.
const KNOWN_OPEN: &[&str] = &[];

/// The items that must get out natively, in every way of every build (the
/// proof that the suite can fail).
fn must_escape_natively(root_run: bool) -> Vec<&'static str> {
    let mut v = vec![
        "unix-stream-connect",
        "unix-dgram-sendto",
        "udp-sendto",
        "tcp-connect",
        "tcp-listen-unbound",
        "netlink-socket",
        "stat",
        "statx",
        "access",
        "getxattr",
        "setxattr",
        "chmod",
        "chown",
        "utimensat",
        "stat-etc-shadow",
        "inotify-watch",
        "keyctl-read",
        "request-key",
        "sysv-shm",
        "sysv-msg",
        "prlimit",
        "setpriority",
        "sched-setaffinity",
        "ioprio-set",
        "kill-0",
        "inherited-fd",
        "cwd-relative",
        "cwd-absolute",
        "dotdot-stat-root",
        "dotdot-stat-tmp",
        "dotdot-stat-rw",
        "dotdot-stat-ro",
        "dotdot-chmod",
        "dotdot-utimensat",
        "dotdot-setxattr",
        "dotdot-unix-connect",
        "dotdot-inotify",
        "ld-preld-chmod",
        "ld-preld-utimensat",
        "ld-preld-setxattr",
        "tiocspgrp",
        "tiocspgrp-dev-tty",
        "exec-ro",
        "ptrace-traceme",
    ];
    // fast.c: rewritten sites, ld-preld's gates, its table and stubs.
    v.extend(["site-mov-openat", "site-mov-open", "site-mov-stat", "site-mov-connect", "syscall-fn-openat", "syscall-fn-connect"]);
    v.extend(["fork-site-openat", "fork-syscall-fn-openat", "thread-site-openat", "thread-syscall-fn-openat"]);
    for g in ["plain", "fd", "mmap", "path0", "path1", "path0_open", "path1_open", "by_number"] {
        for call in ["openat", "open", "connect"] {
            v.push(Box::leak(format!("gate-{g}-{call}").into_boxed_str()));
        }
    }
    v.extend(["table-write-openat", "table-write-connect", "stub-write-openat"]);
    if sysctl("/proc/sys/net/mptcp/enabled") == "1" {
        v.extend(["mptcp-connect", "mptcp-listen"]);
    }
    // TIOCSTI on the caller's own controlling tty needs dev.tty.legacy_tiocsti
    // (absent before 6.2: always allowed); with CAP_SYS_ADMIN it always works.
    if root_run || sysctl("/proc/sys/dev/tty/legacy_tiocsti") != "0" {
        v.extend(["tiocsti-stdin", "tiocsti-dev-tty"]);
    }
    if root_run {
        v.extend(["tiocsti-setsid", "bpf-prog-load", "perf-system-wide", "fanotify-init", "capabilities"]);
        v.extend(["raw-ip-socket", "packet-socket", "raw-udp-packet"]);
        // pid 1 natively is the machine's init.
        v.extend(["kill-0-init", "prlimit-init", "unshare"]);
        // grants.c: root may link, move and reopen any file, make devices
        // and setuid-root files, signal the machine's init.
        v.extend(["link-ro-rw", "link-fd-ro-rw", "rename-ro-rw", "handle-ro-rdwr", "mknod-chr-rw"]);
        v.extend(["setuid-rw-root", "setuid-create-rw-root", "pidfd-init-signal"]);
    }
    v
}

/// The ways each build tries each item in.
fn ways(variant: &str) -> &'static [&'static str] {
    if variant == "static-memfd" {
        &["memfd-libc", "memfd-raw"]
    } else {
        &["libc", "raw", "gadget"]
    }
}

fn suite(who: &'static str, uid: u32) {
    require_tool("bwrap", "bubblewrap");
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid,
        0,
        "the kernel attack suite starts its runs as root and as nobody, so it must run as root (.ci/run does)"
    );
    let started = Instant::now();
    let w = World::new(who, uid, uid);
    struct Cleanup<'a>(&'a World);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            let w = self.0;
            let _ = Command::new(w.bin.join("shared-static"))
                .args(["remove-ipc", &format!("shm={}", w.shm), &format!("msg={}", w.msg)])
                .uid(w.uid)
                .gid(w.gid)
                .status();
            let _ = Command::new(w.bin.join("shared-static"))
                .args(["unlink-key", &format!("key_id={}", w.key_id)])
                .uid(w.uid)
                .gid(w.gid)
                .status();
        }
    }
    let _cleanup = Cleanup(&w);

    let mut all: BTreeMap<Env, Vec<RunOut>> = BTreeMap::new();
    for env in [Env::Native, Env::Preld, Env::Bwrap] {
        for g in GROUPS {
            for (variant, suffix, mode) in VARIANTS {
                let r = w.run(env, g, variant, suffix, mode);
                eprintln!(
                    "---- {} ({:.2}s, {}): {} attempts, {} got out{}",
                    r.run,
                    r.secs,
                    r.status,
                    r.attempts.len(),
                    r.attempts.iter().filter(|a| a.escaped).count(),
                    r.gadget.as_ref().map_or(String::new(), |g| format!("; gadget: {g}"))
                );
                // Under preld, every attempt with its outcome: why each held.
                if env == Env::Preld {
                    for a in &r.attempts {
                        eprintln!("  {} {} via {}: {}", if a.escaped { "ESCAPE" } else { "held" }, a.item, a.way, a.detail);
                    }
                    for n in &r.notes {
                        eprintln!("  {n}");
                    }
                }
                all.entry(env).or_default().push(r);
            }
        }
        if env == Env::Native {
            check_native(&all[&env], uid == 0);
        }
    }

    // The report: per item, attempts and escapes in each environment.
    let mut items: BTreeSet<String> = BTreeSet::new();
    let mut count: BTreeMap<(Env, String), (usize, usize)> = BTreeMap::new();
    for (env, runs) in &all {
        for a in runs.iter().flat_map(|r| &r.attempts) {
            items.insert(a.item.clone());
            let c = count.entry((*env, a.item.clone())).or_default();
            c.0 += 1;
            c.1 += a.escaped as usize;
        }
    }
    let envs = [Env::Native, Env::Preld, Env::Bwrap];
    let mut report = format!(
        "\n==== kernel-level attacks as {who} (uid {uid}): escaped/tried, each item via libc, raw and gadget of the dynamic and static builds, memfd-libc and memfd-raw of the static one exec'd from a memfd\n{:<22} {:>10} {:>12} {:>10}\n",
        "item", "native", "preld pola", "bwrap"
    );
    for it in &items {
        report += &format!("{it:<22}");
        for (env, width) in envs.iter().zip([11, 13, 11]) {
            let (t, e) = count.get(&(*env, it.clone())).copied().unwrap_or_default();
            report += &format!("{:>width$}", format!("{e}/{t}"));
        }
        report += "\n";
    }
    report += &format!("{:<22}", "total");
    for (env, width) in envs.iter().zip([11, 13, 11]) {
        let (t, e) = items.iter().filter_map(|it| count.get(&(*env, it.clone()))).fold((0, 0), |s, c| (s.0 + c.0, s.1 + c.1));
        report += &format!("{:>width$}", format!("{e}/{t}"));
    }
    report += "\n";
    for env in envs {
        let runs = &all[&env];
        let memfd: Vec<String> = runs
            .iter()
            .filter(|r| r.run.ends_with("static-memfd"))
            .map(|r| {
                if r.memfd_child {
                    "ran".to_string()
                } else {
                    r.notes.iter().find(|n| n.starts_with("memfd-exec:")).cloned().unwrap_or_else(|| "did not run".into())
                }
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let gadgets: BTreeSet<&str> = runs
            .iter()
            .filter_map(|r| {
                let g = r.gadget.as_deref()?;
                Some(match r.bypass {
                    _ if g.starts_with("own stub") => "the program's own (none found outside it)",
                    Some((raw, kernel)) if raw != kernel => "found outside the program, goes around the handler",
                    _ => "found outside the program",
                })
            })
            .collect();
        let gadgets: Vec<&str> = gadgets.into_iter().collect();
        report += &format!("{}: gadget: {}; exec from a memfd through it: {}\n", env.name(), gadgets.join(" / "), memfd.join(" / "));
    }
    let preld_esc: Vec<String> = all[&Env::Preld]
        .iter()
        .flat_map(|r| {
            r.attempts
                .iter()
                .filter(|a| a.escaped && !KNOWN_OPEN.contains(&a.item.as_str()))
                .map(move |a| format!("{} via {} ({}, run {}): {}", a.item, a.way, a.variant, r.run, a.detail))
        })
        .collect();
    for e in &preld_esc {
        report += &format!("  preld pola ESCAPE {e}\n");
    }
    for item in KNOWN_OPEN {
        let n = all[&Env::Preld].iter().flat_map(|r| &r.attempts).filter(|a| a.escaped && a.item == *item).count();
        report += &format!("  preld pola known open (docs/DESIGN.md, \"What a session can still do\"): {item}, {n} attempts got out\n");
    }
    report += &format!("{:.1}s in all\n", started.elapsed().as_secs_f64());
    eprintln!("{report}");

    // Under preld: every run finished, the gadget came from ld-preld, the
    // same attempts were made as natively (a memfd exec that the session
    // refuses is reported above, not counted), nothing got out.
    let mut problems = Vec::new();
    for r in &all[&Env::Preld] {
        if !r.ended {
            problems.push(format!("{}: did not finish ({}), stderr: {}", r.run, r.status, r.stderr.trim()));
        }
        if !r.run.ends_with("memfd") {
            // The gadget must be ld-preld's: it reaches the kernel without
            // the handler (the kernel shows preld's SIGSYS handler, which
            // the handler hides), and lies in the same image as that handler.
            let gadget = r.gadget.as_deref().unwrap_or("none");
            let addr = u64::from_str_radix(gadget.split(',').next().unwrap_or("").trim_start_matches("0x"), 16).unwrap_or(0);
            match r.bypass {
                _ if gadget.starts_with("own stub") || addr == 0 => {
                    problems.push(format!("{}: no `syscall; ret` found in ld-preld ({gadget}): the gadget way was not tried", r.run))
                }
                Some((raw, kernel)) if raw != kernel && kernel != 0 && addr.abs_diff(kernel) < 64 << 20 => {}
                b => problems.push(format!(
                    "{}: the gadget {gadget} was not shown to go around the handler in ld-preld (SIGSYS action via raw, via gadget: {b:x?})",
                    r.run
                )),
            }
        }
        if r.stderr.contains("panicked") {
            problems.push(format!("{}: the launcher panicked: {}", r.run, r.stderr.trim()));
        }
    }
    for (n, p) in all[&Env::Native].iter().zip(&all[&Env::Preld]) {
        let key = |a: &Attempt| (a.item.clone(), a.way.clone());
        let nk: BTreeSet<_> = n.attempts.iter().map(key).collect();
        let pk: BTreeSet<_> = p.attempts.iter().map(key).collect();
        let missing: Vec<_> = nk.difference(&pk).collect();
        // (A memfd exec the session refused made no attempts: reported above.)
        let exec_refused = p.run.ends_with("memfd") && !p.memfd_child;
        if !missing.is_empty() && !exec_refused {
            problems.push(format!("{}: attempts missing under preld: {missing:?}", p.run));
        }
    }
    for r in &all[&Env::Bwrap] {
        if !r.ended {
            problems.push(format!("bwrap {}: did not finish ({}), stderr: {}", r.run, r.status, r.stderr.trim()));
        }
    }
    assert!(problems.is_empty(), "the suite did not run as it must:\n{}", problems.join("\n"));
    assert!(preld_esc.is_empty(), "{} attempts got out of preld pola as {who}:\n{}", preld_esc.len(), preld_esc.join("\n"));
}

/// Natively every run finishes and every item that must get out does, in
/// every way of every build.
fn check_native(runs: &[RunOut], root_run: bool) {
    let mut bad = Vec::new();
    for r in runs {
        if !r.ended || !r.status.success() {
            bad.push(format!("{}: did not finish ({}), stderr: {}", r.run, r.status, r.stderr.trim()));
        }
        if r.run.ends_with("memfd") && !r.memfd_child {
            bad.push(format!("{}: the exec from a memfd failed natively: {:?}", r.run, r.notes));
        }
    }
    for item in must_escape_natively(root_run) {
        for (variant, _, _) in VARIANTS {
            for way in ways(variant) {
                let a = runs.iter().flat_map(|r| &r.attempts).find(|a| a.item == item && a.variant == variant && a.way == *way);
                match a {
                    Some(a) if a.escaped => {}
                    Some(a) => bad.push(format!("{item} via {way} ({variant}) did not get out natively: {}", a.detail)),
                    None => bad.push(format!("{item} via {way} ({variant}) was not tried natively")),
                }
            }
        }
    }
    assert!(bad.is_empty(), "natively, the attacks must get out (else this suite proves nothing):\n{}", bad.join("\n"));
}

#[test]
fn kernel_escapes_as_root() {
    suite("root", 0);
}

#[test]
fn kernel_escapes_as_nobody() {
    suite("nobody", NOBODY);
}

/// The user's terminal for `session_run`: a pty whose slave is the
/// launcher's fds 0-2 and controlling terminal, left in its default
/// (cooked) modes; the master is drained by a thread.
fn session_run(preld: &Path, bin: &Path, uid: u32, mode: &str, limit: Duration) -> (Option<ExitStatus>, bool, String) {
    // SAFETY: plain libc calls on fds this function owns.
    let (master, slave, name) = unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0 && libc::grantpt(m) == 0 && libc::unlockpt(m) == 0);
        let mut buf = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
        let name = std::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap().to_string();
        chown(Path::new(&name), uid, uid);
        let s = libc::open(buf.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(s >= 0);
        (fs::File::from_raw_fd(m), fs::File::from_raw_fd(s), name)
    };
    let cooked = |f: &fs::File| {
        // SAFETY: termios is plain integers and arrays: all zeroes is a value.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: tcgetattr writes one termios into `t`; `f` keeps the fd open.
        assert_eq!(unsafe { libc::tcgetattr(f.as_raw_fd(), &mut t) }, 0);
        t.c_lflag & (libc::ICANON | libc::ECHO) == (libc::ICANON | libc::ECHO)
    };
    assert!(cooked(&slave), "{name} starts cooked");
    let out = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (mut m, out, stop) = (master.try_clone().unwrap(), out.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                let mut p = libc::pollfd { fd: m.as_raw_fd(), events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut p, 1, 100) } <= 0 || p.revents & libc::POLLIN == 0 {
                    continue;
                }
                match m.read(&mut b) {
                    Ok(n) if n > 0 => out.lock().unwrap().extend_from_slice(&b[..n]),
                    _ => break,
                }
            }
        })
    };
    let mut cmd = Command::new(preld);
    cmd.args(["pola", "-B", "--ro"]).arg(bin).arg("--").arg(bin.join("session")).arg(mode);
    cmd.env_clear().env("PATH", "/usr/bin:/bin").envs(preld_tests::fast_env()).current_dir(bin).uid(uid).gid(uid);
    cmd.stdin(Stdio::from(slave.try_clone().unwrap())).stdout(Stdio::from(slave.try_clone().unwrap()));
    cmd.stderr(Stdio::from(slave.try_clone().unwrap()));
    // SAFETY: setsid and ioctl are async-signal-safe; fd 0 is the slave.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // its copies of the slave
    // SIGKILL at the limit ends a stopped launcher too.
    let waited = wait_or_kill(&mut child, limit);
    let status = (!waited.timed_out).then_some(waited.status);
    std::thread::sleep(Duration::from_millis(200));
    let still_cooked = cooked(&slave);
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    drop(slave);
    drop(master);
    let text = String::from_utf8_lossy(&out.lock().unwrap()).replace('\r', "");
    (status, still_cooked, text)
}

/// `make()`'s status. The program was just copied into place: another
/// test thread that forked meanwhile holds the copy's write fd until its
/// child execs, and an exec then fails with ETXTBSY; it is tried again.
fn status_despite_etxtbsy(make: impl Fn() -> Command) -> ExitStatus {
    for _ in 0..100 {
        match make().status() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::sleep(Duration::from_millis(20)),
            r => return r.unwrap(),
        }
    }
    panic!("{:?}: text file busy for 2 s", make())
}

/// The session program (tests/programs/attack_kernel/session.c) in a
/// directory every uid can read, and the preld to run it with.
fn session_setup() -> (Scratch, PathBuf, PathBuf) {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "runs sessions as root and as nobody: must run as root");
    let dir = Scratch::new("kattack-session");
    let bin = dir.path().to_path_buf();
    chmod(&bin, 0o755);
    fs::copy(program("attack_kernel/session"), bin.join("session")).unwrap();
    chmod(&bin.join("session"), 0o755);
    let preld = std::env::var_os("PRELD_KATTACK_DIR").map(|d| PathBuf::from(d).join("preld")).unwrap_or_else(preld);
    (dir, bin, preld)
}

/// kill-init: the program lowers its init's RLIMIT_CPU hard limit
/// (prlimit64 on pid 1, same uid) and makes it burn CPU: the kernel
/// SIGKILLs the init, the session dies, and the launcher must still put
/// the user's terminal back as it was (not leave it raw). As root and as
/// nobody, on a terminal (tests/programs/attack_kernel/session.c).
#[test]
fn a_killed_init_leaves_the_terminal_cooked() {
    let (_dir, bin, preld) = session_setup();
    let mut bad = Vec::new();
    for (who, uid) in [("root", 0), ("nobody", NOBODY)] {
        let (st, cooked, text) = session_run(&preld, &bin, uid, "kill-init", Duration::from_secs(60));
        eprintln!("kill-init as {who}: {st:?}, terminal {}\n{}", if cooked { "cooked" } else { "RAW" }, text.trim_end());
        if !cooked {
            bad.push(format!(
                "kill-init as {who}: the session killed its init ({st:?}) and the launcher left the user's terminal raw (-icanon -echo)"
            ));
        }
    }
    assert!(bad.is_empty(), "the session ended its launcher badly:\n{}", bad.join("\n"));
}

/// stop-self: the program stops itself and its child continues it: the
/// launcher (which stops itself when the init reports the program
/// stopped) must not stay stopped for good while the program finishes, as
/// it does not natively. As root and as nobody, on a terminal.
#[test]
fn a_program_that_stops_itself_does_not_stop_its_launcher_for_good() {
    let (_dir, bin, preld) = session_setup();
    // Natively stop-self ends at once (kill-init refuses to run outside a
    // session: pid 1 is the machine's init).
    let t = Instant::now();
    let st = status_despite_etxtbsy(|| {
        let mut c = Command::new(bin.join("session"));
        c.arg("stop-self").stdout(Stdio::null());
        c
    });
    assert!(st.success() && t.elapsed() < Duration::from_secs(5), "stop-self natively: {st} in {:?}", t.elapsed());
    let mut bad = Vec::new();
    for (who, uid) in [("root", 0), ("nobody", NOBODY)] {
        let (st, _, text) = session_run(&preld, &bin, uid, "stop-self", Duration::from_secs(10));
        eprintln!("stop-self as {who}: {st:?}\n{}", text.trim_end());
        if st.is_none() {
            bad.push(format!("stop-self as {who}: the program stopped itself and was continued, the launcher stayed stopped (killed after 10 s)"));
        }
    }
    assert!(bad.is_empty(), "the session ended its launcher badly:\n{}", bad.join("\n"));
}

/// tty-reopen: -B's /dev/tty opened O_PATH (the grant's copy of the host's
/// node, which the server hands out as any O_PATH open), then reopened by
/// its /proc/self/fd name, which the server makes: the terminal must be
/// the session's own, never the launcher's, the user's (session-20
/// adversary: the server reopened the node itself, in its own session,
/// and handed the program the user's terminal, for reading and termios
/// ioctls after the session too). As root and as nobody, on a terminal.
#[test]
fn a_reopen_of_dev_tty_by_fd_is_the_session_s_terminal() {
    let (_dir, bin, preld) = session_setup();
    let mut bad = Vec::new();
    for (who, uid) in [("root", 0), ("nobody", NOBODY)] {
        let (st, _, text) = session_run(&preld, &bin, uid, "tty-reopen", Duration::from_secs(60));
        eprintln!("tty-reopen as {who}: {st:?}\n{}", text.trim_end());
        assert!(text.contains("tty-reopen: done"), "tty-reopen as {who} did not run to its end ({st:?}):\n{text}");
        bad.extend(text.lines().filter(|l| l.contains("ESCAPE")).map(|l| format!("{who}: {l}")));
    }
    assert!(bad.is_empty(), "a reopen of /dev/tty by fd reached another terminal:\n{}", bad.join("\n"));
}
