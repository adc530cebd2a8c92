//! The session's kernel confinement, made by the launcher before ld-preld
//! starts: what a program holds even when it reaches the kernel without the
//! handler (a `syscall` inside ld-preld's text, an image exec'd from a
//! memfd). Landlock (handler/src/sandbox.rs) and the seccomp filter that
//! ld-preld installs after it are the layers above this one.
//!
//! ```text
//! launcher (host: the capability server)
//!  ├─ clone(NEWUSER|NEWPID) ─► init (pid 1), as soon as the launcher knows
//!  │    ld-preld's path and --net (`early`): unshares
//!  │    NEWNS|NEWIPC|NEWUTS|NEWCGROUP[|NEWNET]; once the launcher has
//!  │    written its uid/gid maps (the caller's own ids): a read-only tmpfs
//!  │    root holding ld-preld's file only (pivot_root), no nested user
//!  │    namespaces, a detached read-only procfs of the new PID namespace
//!  │    and a devpts of its own (fds), the session's pty, loopback up
//!  │    └─ clone(VM|VFORK) ─► pid 2: waits for the plan
//!  │  meanwhile the launcher makes the grants and the namespace (mod.rs)
//!  └─ the plan (`Early::start`: argv, the fds that cross, each at its
//!     number; SCM_RIGHTS over a socket) ─► pid 2: the fds in place, a new
//!     session keyring, every capability dropped (bounding, ambient,
//!     securebits locked), no_new_privs, fds 0-2 + named ones, exec
//!     ld-preld (the init goes on from there)
//! ```
//!
//! The init is cloned first and sets the session up while the launcher
//! works out the grants: its set-up (a network namespace alone is 0.35 ms
//! of the kernel's, the mounts as much again) and the launcher's grants
//! run on two CPUs at once instead of one after the other. The launcher
//! puts it on a CPU other than its own (this machine's scheduler leaves a
//! new process queued behind its parent), and the init pid 2 on its own;
//! each takes the caller's CPUs again before anything of the program runs. The clone makes
//! only the user and PID namespaces (the PID one must be the clone's, to
//! make the init its pid 1): the init unshares the others itself, so that
//! their cost is the init's, not the launcher's. They belong to the
//! session's user namespace either way. pid 2 is made before the plan
//! comes, vfork's way (it shares the init's memory until its exec: no page
//! tables copied and torn down). The unmount of the old root, which waits
//! for an expedited RCU grace period, is the init's, while the launcher
//! still makes the grants (in pid 2, while the plan was on its way, it
//! waited for the launcher's fork of its cleaner).
//!
//! The init reaps the session's processes, reports the program's wait
//! status on a pipe as soon as the program ends (the launcher ends like it)
//! and exits when the last process of the session is gone: a PID
//! namespace's processes die with its init, so it outlives them all, as
//! daemons started by the program outlive the program natively.
//!
//! The init is a copy of the single-threaded launcher as it started; it
//! never execs. Failures are reported as one line on an error pipe that
//! the program's successful exec closes; the launcher reads it once it has
//! sent the plan (a failure of the set-up waits there for it). A launcher
//! that gives up before the plan kills and reaps the init (nothing is
//! reported), and removes the host directories it made.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// What the launcher keeps of a started session.
pub struct Session {
    /// The program's wait statuses, 4 bytes each: one when it is stopped,
    /// the last when it has ended.
    pub status: OwnedFd,
    /// The session's init (pid 1 of its PID namespace): the launcher
    /// passes it the signals meant for the program.
    pub init: libc::pid_t,
}

/// The session's terminal: the init makes a pty of the session's own
/// devpts and sends its master over the socket (the init's end; the
/// launcher's is `Early::start`'s `pty_master`), and the slave replaces
/// those of fds 0-2 that are true (tty.rs).
pub type Tty = (OwnedFd, [bool; 3]);

/// A session's init, cloned before the launcher knows the plan (`early`),
/// setting up all that does not depend on it.
pub struct Early {
    /// The numbers the init gives the root of a read-only procfs of the
    /// session's PID namespace and of a devpts of the session's own (its
    /// ptys only), detached (never paths in the session's tree): ld-preld's
    /// `--beneath FD:r:/proc` and `--beneath FD:t:/dev/pts`. Placeholders
    /// here (/dev/null), held until the session has started, so that no fd
    /// of the launcher's takes their numbers.
    proc_fd: OwnedFd,
    pts_fd: OwnedFd,
    /// The init, or why it could not be made (said when the launcher
    /// starts the session: after the errors of the grants, as before).
    init: Result<Pending, String>,
}

/// The init before its plan. Dropped unstarted (the launcher gave up), it
/// is killed and reaped.
struct Pending {
    /// 0 once reaped or handed over.
    pid: libc::pid_t,
    /// The launcher's end of the plan's socket.
    plan: Option<OwnedFd>,
    status: Option<OwnedFd>,
    err: Option<OwnedFd>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.pid > 0 {
            // SAFETY: killing and reaping our own child, the init (SIGKILL
            // reaches a PID namespace's init from its parent namespace).
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

/// Why a session could not be confined: one line for the user.
fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut p = [0; 2];
    // SAFETY: pipe2 writes two fds into `p`.
    if unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(os_err("pipe"));
    }
    // SAFETY: two new fds of ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) })
}

/// Clones the session's init (ld-preld at `loader`; the host's network
/// with `net`; the session's pty with `tty`), which sets the session up
/// while the launcher goes on. Fails only where /dev/null cannot be opened; a failure to make the init is
/// reported by `Early::start`.
pub fn early(loader: &Path, net: bool, tty: Option<Tty>) -> Result<Early, String> {
    let null = || std::fs::File::open("/dev/null").map(OwnedFd::from).map_err(|e| format!("/dev/null: {e}"));
    let (proc_fd, pts_fd) = (null()?, null()?);
    let init = clone_init(loader, net, tty, proc_fd.as_raw_fd(), pts_fd.as_raw_fd());
    Ok(Early { proc_fd, pts_fd, init })
}

/// What the init is given by its clone (made before it).
struct Boot {
    /// The init's end of the plan's socket.
    plan: RawFd,
    status_w: RawFd,
    err_w: RawFd,
    tty: Option<(RawFd, [bool; 3])>,
    loader: CString,
    /// The directories of ld-preld's path below the new root, and the file.
    dirs: Vec<CString>,
    target: CString,
    net: bool,
    proc_fd: RawFd,
    pts_fd: RawFd,
    /// The CPUs the launcher may run on, when the init was put on the
    /// others of them to start (`other_cpus`): the init's own again once
    /// it has the go (the program inherits them).
    cpus: Option<libc::cpu_set_t>,
    /// The caller's /proc/sys/kernel/pid_max, the session's too.
    pid_max: Option<Vec<u8>>,
}

fn clone_init(loader: &Path, net: bool, tty: Option<Tty>, proc_fd: RawFd, pts_fd: RawFd) -> Result<Pending, String> {
    let (status_r, status_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    // The go (once the id maps are written) and the plan come over this.
    let (plan, plan_init) = super::sys::seqpacket_pair().map_err(|e| format!("socketpair: {}", std::io::Error::from_raw_os_error(e)))?;
    // SAFETY: plain getters.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let root = uid == 0;
    // Root maps every id (files keep their owners, as natively); a user may
    // map only its own ids (others show as the overflow id 65534).
    let uid_map = if root { "0 0 4294967295".to_string() } else { format!("{uid} {uid} 1") };
    let gid_map = if root { "0 0 4294967295".to_string() } else { format!("{gid} {gid} 1") };
    let lb = loader.as_os_str().as_bytes();
    let loader_c = CString::new(lb).map_err(|_| "ld-preld's path holds a NUL".to_string())?;
    if lb.first() != Some(&b'/') {
        return Err(format!("ld-preld's path {} is not absolute", loader.display()));
    }
    let stage = b"/tmp";
    let mut dirs = Vec::new();
    for (i, c) in lb.iter().enumerate().skip(1) {
        if *c == b'/' {
            dirs.push(CString::new([&stage[..], &lb[..i]].concat()).unwrap());
        }
    }
    let target = CString::new([&stage[..], lb].concat()).unwrap();
    let (cpus, others) = match other_cpus() {
        Some((all, others)) => (Some(all), Some(others)),
        None => (None, None),
    };
    // Per PID namespace since Linux 6.14, and 4194304 in a new one: ps
    // sizes its PID column by it (7 wide, natively 5).
    let pid_max = std::fs::read("/proc/sys/kernel/pid_max").ok().filter(|v| !v.is_empty() && v.iter().all(|b| b.is_ascii_digit() || *b == b'\n'));
    let boot = Boot {
        pid_max,
        cpus,
        plan: plan_init.as_raw_fd(),
        status_w: status_w.as_raw_fd(),
        err_w: err_w.as_raw_fd(),
        tty: tty.as_ref().map(|(chan, fds)| (chan.as_raw_fd(), *fds)),
        loader: loader_c,
        dirs,
        target,
        net,
        proc_fd,
        pts_fd,
    };
    // SAFETY: a fork-like clone (no CLONE_VM, no new stack) of this
    // process, single-threaded still (the launcher starts threads and
    // children only after `early`); the child runs `init` on its copy of
    // the memory and never returns from it.
    let pid = unsafe {
        libc::syscall(libc::SYS_clone, (libc::CLONE_NEWUSER | libc::CLONE_NEWPID | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize)
    };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::ENOSPC) | Some(libc::EINVAL) | Some(libc::EUSERS) => format!(
                "cannot make the session's namespaces: {e} (a session needs unprivileged user namespaces: sysctl user.max_user_namespaces > 0)"
            ),
            _ => format!("cannot make the session's namespaces: {e}"),
        });
    }
    if pid == 0 {
        // SAFETY: in the new child, which owns its copy of `boot`.
        unsafe { init(&boot) }
    }
    // The init starts on another CPU than the launcher's: left to the
    // kernel, it was queued on the launcher's (this machine's scheduler
    // packs new processes onto their parent's CPU and does not balance
    // them off it) and ran only when the launcher first waited for it,
    // so that the two set-ups ran one after the other. Before the go
    // below: the init takes all the launcher's CPUs again only after it.
    if let Some(others) = &others {
        // SAFETY: sets the CPUs of our own child from a set of ours.
        unsafe { libc::sched_setaffinity(pid as libc::pid_t, std::mem::size_of::<libc::cpu_set_t>(), others) };
    }
    // The init's ends are the init's alone: its exit is then seen here.
    drop((status_w, err_w, plan_init, tty));
    let pending = Pending { pid: pid as libc::pid_t, plan: Some(plan), status: Some(status_r), err: Some(err_r) };
    // Ids: the caller's own, inside as outside. A map of more than one's
    // own id must be written from the parent namespace.
    let dir = format!("/proc/{pid}");
    let mapped = (|| {
        if !root {
            std::fs::write(format!("{dir}/setgroups"), "deny").map_err(|e| format!("{dir}/setgroups: {e}"))?;
        }
        std::fs::write(format!("{dir}/uid_map"), uid_map.as_bytes()).map_err(|e| format!("{dir}/uid_map: {e}"))?;
        std::fs::write(format!("{dir}/gid_map"), gid_map.as_bytes()).map_err(|e| format!("{dir}/gid_map: {e}"))
    })();
    if let Err(why) = mapped {
        return Err(format!("cannot map the session's user ids: {why}"));
    }
    // Go on (the plan follows later on the same socket).
    if let Some(p) = &pending.plan {
        // SAFETY: one byte to our socket.
        unsafe { libc::send(p.as_raw_fd(), b"g".as_ptr().cast(), 1, libc::MSG_NOSIGNAL) };
    }
    Ok(pending)
}

/// The CPUs this process may run on, and those of them but the one it runs
/// on now; None when there is no other (or they cannot be told).
fn other_cpus() -> Option<(libc::cpu_set_t, libc::cpu_set_t)> {
    // SAFETY: a zeroed cpu_set_t is an empty set; the calls write into ours.
    unsafe {
        let mut all: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut all) < 0 {
            return None;
        }
        let here = libc::sched_getcpu();
        if here < 0 || !libc::CPU_ISSET(here as usize, &all) || libc::CPU_COUNT(&all) < 2 || !alone() {
            return None;
        }
        let mut others = all;
        libc::CPU_CLR(here as usize, &mut others);
        Some((all, others))
    }
}

/// Whether this process is the only one the kernel has running or ready
/// to run (the 4th field of /proc/loadavg: running/all): the other CPUs
/// are idle then. A process started on a CPU busy with another waited
/// there for its turn (1 ms), longer than behind the launcher.
fn alone() -> bool {
    let mut buf = [0u8; 128];
    let Ok(mut f) = std::fs::File::open("/proc/loadavg") else { return false };
    let Ok(n) = f.read(&mut buf) else { return false };
    let running = buf[..n].split(|&c| c == b' ').nth(3).and_then(|r| r.split(|&c| c == b'/').next());
    running == Some(b"1")
}

/// Keeps this process on the CPU it runs on now (until told otherwise);
/// whether it could.
///
/// # Safety
/// Plain calls on our own process.
unsafe fn pin_here() -> bool {
    let here = libc::sched_getcpu();
    if here < 0 {
        return false;
    }
    let mut one: libc::cpu_set_t = std::mem::zeroed();
    libc::CPU_SET(here as usize, &mut one);
    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one) == 0
}

/// The most bytes of the plan one message carries (it is as long as the
/// command line, which may be longer than a socket's buffer).
const CHUNK: usize = 32 << 10;

impl Early {
    /// The init's pid (0 where it could not be made).
    pub fn init_pid(&self) -> libc::pid_t {
        self.init.as_ref().map_or(0, |p| p.pid)
    }

    pub fn proc_fd(&self) -> RawFd {
        self.proc_fd.as_raw_fd()
    }

    pub fn pts_fd(&self) -> RawFd {
        self.pts_fd.as_raw_fd()
    }

    /// Starts the program: ld-preld with `argv` (argv[0] included), with
    /// the launcher's fds `fds` (0, 1, 2, the RPC socket, --fd N, the
    /// grants') at the same numbers, and the session's procfs and devpts
    /// at `proc_fd` and `pts_fd`. The session's pty's master, when there is
    /// one, is taken first (`pty_master`: the launcher's end of the `Tty`
    /// socket, and what sets the master up): the program starts only
    /// after. `meanwhile` runs in the launcher while the init starts the
    /// program (it may start threads). Returns once ld-preld has been
    /// exec'd (or with the reason it could not be).
    pub fn start(
        self,
        argv: &[CString],
        fds: &[RawFd],
        pty_master: Option<(OwnedFd, &mut dyn FnMut(OwnedFd))>,
        meanwhile: &mut dyn FnMut(),
    ) -> Result<Session, String> {
        let Early { proc_fd, pts_fd, init } = self;
        let mut init = init?;
        if let Some((chan, take)) = pty_master {
            // The session's pty: its master comes once the init has made
            // it. Nothing comes if the init failed first: its reason
            // follows on the error pipe.
            let mut buf = [0u8; 1];
            if let Ok(r) = super::sys::recv_blocking(chan.as_fd(), &mut buf) {
                if let Some(master) = r.fds.into_iter().next() {
                    take(master);
                }
            }
        }
        let sent = send_plan(init.plan.take().expect("the plan's socket"), argv, fds);
        meanwhile();
        let mut why = Vec::new();
        let _ = std::fs::File::from(init.err.take().expect("the error pipe")).read_to_end(&mut why);
        drop((proc_fd, pts_fd));
        if !why.is_empty() {
            // The init has exited (or is exiting) after its report.
            let mut st = 0;
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(init.pid, &mut st, 0) };
            init.pid = 0;
            return Err(format!("cannot start the session: {}", String::from_utf8_lossy(&why).trim_end()));
        }
        if let Err(e) = sent {
            return Err(format!("cannot start the session: sending its plan: {}", std::io::Error::from_raw_os_error(e)));
        }
        let pid = std::mem::take(&mut init.pid);
        Ok(Session { status: init.status.take().expect("the status pipe"), init: pid })
    }
}

/// Sends the plan: first its bytes, a u32 length, then the fd count
/// (u32), the fds' numbers (i32 each, ascending) and argv (NUL-terminated
/// strings), in messages of a tag byte `p` and at most `CHUNK` bytes; then
/// the fds, in that order, in messages of a tag byte `f` and at most 253
/// fds (SCM_MAX_FD). The init learns the numbers before the fds come, and
/// leaves exactly those numbers free, lowest first: the kernel puts each
/// fd received on the lowest free number, so each lands on its own.
fn send_plan(sock: OwnedFd, argv: &[CString], fds: &[RawFd]) -> Result<(), i32> {
    let mut fds = fds.to_vec();
    fds.sort_unstable();
    let mut body = Vec::new();
    body.extend((fds.len() as u32).to_ne_bytes());
    for fd in &fds {
        body.extend(fd.to_ne_bytes());
    }
    for a in argv {
        body.extend(a.as_bytes_with_nul());
    }
    let mut stream = (body.len() as u32).to_ne_bytes().to_vec();
    stream.extend(body);
    let mut msg = Vec::with_capacity(CHUNK + 1);
    for chunk in stream.chunks(CHUNK) {
        msg.clear();
        msg.push(b'p');
        msg.extend_from_slice(chunk);
        super::sys::send_blocking(sock.as_fd(), &msg, &[])?;
    }
    // SAFETY: the fds are the launcher's, open until `start` returns.
    let fds: Vec<BorrowedFd<'_>> = fds.iter().map(|&fd| unsafe { BorrowedFd::borrow_raw(fd) }).collect();
    for batch in fds.chunks(super::sys::RECV_FDS) {
        super::sys::send_blocking(sock.as_fd(), b"f", batch)?;
    }
    Ok(())
}

/// The init's error pipe (its `Boot::err_w`, or where the plan moved it).
static ERR_W: AtomicI32 = AtomicI32::new(-1);

/// Writes `what: strerror(errno)` to the error pipe and exits.
///
/// # Safety
/// In the init and the program's process before exec only (it `_exit`s).
unsafe fn fail(what: &str) -> ! {
    let e = std::io::Error::last_os_error();
    let msg = format!("{what}: {e}\n");
    libc::write(ERR_W.load(Ordering::Relaxed), msg.as_ptr().cast(), msg.len());
    libc::_exit(125)
}

/// `r`'s value, or `fail(what)` with its error.
///
/// # Safety
/// As `fail`.
unsafe fn or_fail<T>(r: rustix::io::Result<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            // rustix makes raw calls: errno is set here, for `fail`.
            *libc::__errno_location() = e.raw_os_error();
            fail(what)
        }
    }
}

/// A new detached mount (fsopen, fsconfig, fsmount) of a file system of
/// type `fstype` with the options `flags` and `strings` and the mount
/// attributes `attrs`; `what` names it in a failure.
///
/// # Safety
/// As `fail`.
unsafe fn new_mount(fstype: &std::ffi::CStr, flags: &[&std::ffi::CStr], strings: &[(&std::ffi::CStr, &std::ffi::CStr)], attrs: rustix::mount::MountAttrFlags, what: &str) -> OwnedFd {
    use rustix::mount::{fsconfig_create, fsconfig_set_flag, fsconfig_set_string, fsmount, fsopen, FsMountFlags, FsOpenFlags};
    let fs = or_fail(fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC), &format!("mounting {what}"));
    for f in flags {
        or_fail(fsconfig_set_flag(&fs, *f), &format!("mounting {what}"));
    }
    for (k, v) in strings {
        or_fail(fsconfig_set_string(&fs, *k, *v), &format!("mounting {what}"));
    }
    or_fail(fsconfig_create(&fs), &format!("mounting {what}"));
    or_fail(fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs), &format!("mounting {what}"))
}

/// Covers /proc/keys and /proc/key-users of the session's procfs `procfs`
/// (detached) with an empty read-only file: they list the descriptions
/// and counts of the user's keyrings and keys (the kernel shows every key
/// the caller may view, in any namespace), which the session has no use
/// for: its seccomp filter refuses the keyring calls. The file is made on
/// the session's root (the tmpfs staged on /tmp) and unlinked once
/// mounted. Mounting into a detached tree needs Linux 6.15; before, the
/// two stay as natively (what `sandbox` documents).
///
/// # Safety
/// As `fail`; in the init, on the staged root.
unsafe fn cover_keys(procfs: libc::c_int) {
    let name = c"/tmp/.keys";
    let f = libc::open(name.as_ptr(), libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC, 0o444);
    if f < 0 {
        fail("making the cover of /proc/keys");
    }
    libc::close(f);
    for what in [c"keys", c"key-users"] {
        let copy = detached_copy(name, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOEXEC, "the cover of /proc/keys");
        let moved = libc::syscall(libc::SYS_move_mount, copy, c"".as_ptr(), procfs, what.as_ptr(), libc::MOVE_MOUNT_F_EMPTY_PATH as libc::c_uint);
        let errno = *libc::__errno_location();
        libc::close(copy);
        // EINVAL: a kernel that mounts nothing into a detached tree;
        // ENOENT: one without keyrings (CONFIG_KEYS off), no file to cover.
        if moved < 0 && errno != libc::EINVAL && errno != libc::ENOENT {
            fail(&format!("covering /proc/{}", what.to_string_lossy()));
        }
    }
    libc::unlink(name.as_ptr());
}

/// A detached copy of the mount at `path` (open_tree OPEN_TREE_CLONE), with
/// the mount attributes `attrs` set (none: 0), as an fd; `what` names it
/// in a failure.
///
/// # Safety
/// As `fail`.
unsafe fn detached_copy(path: &std::ffi::CStr, attrs: u64, what: &str) -> libc::c_int {
    let fd = libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) as libc::c_uint);
    if fd < 0 {
        fail(&format!("open_tree of {what}"));
    }
    if attrs != 0 {
        set_attrs(fd as libc::c_int, attrs, what);
    }
    fd as libc::c_int
}

/// Sets the mount attributes `attrs` on the mount of `fd` (its root).
///
/// # Safety
/// As `fail`.
unsafe fn set_attrs(fd: libc::c_int, attrs: u64, what: &str) {
    let attr = super::sys::MountAttr { attr_set: attrs, attr_clr: 0, propagation: 0, userns_fd: 0 };
    let size = std::mem::size_of::<super::sys::MountAttr>();
    if libc::syscall(libc::SYS_mount_setattr, fd, c"".as_ptr(), libc::AT_EMPTY_PATH as libc::c_uint, &attr as *const super::sys::MountAttr, size) < 0 {
        fail(&format!("making {what} read-only"));
    }
}

/// Moves `fd` to the number `onto` (close-on-exec: the program's exec
/// clears it, as for every fd that crosses).
///
/// # Safety
/// As `fail`.
unsafe fn place(fd: libc::c_int, onto: RawFd, what: &str) {
    if libc::dup3(fd, onto, libc::O_CLOEXEC) < 0 {
        fail(&format!("placing {what}"));
    }
    libc::close(fd);
}

/// Closes every fd but those of `keep` (sorted).
///
/// # Safety
/// Only where no fd but those kept is owned by live code: the init.
unsafe fn close_others(keep: &[RawFd]) {
    let mut from: u32 = 0;
    for &k in keep {
        let k = k as u32;
        if k > from {
            libc::syscall(libc::SYS_close_range, from, k - 1, 0u32);
        }
        from = k + 1;
    }
    libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32);
}

/// pid 2's own fds (the set-up's, not the plan's), where they are now
/// (-1: none).
struct Own {
    plan: RawFd,
    status_w: RawFd,
    err_w: RawFd,
    tty_slave: RawFd,
}

/// What the plan gives pid 2.
struct Plan {
    argv: Vec<CString>,
    /// The numbers the fds received go to, in order.
    targets: Vec<RawFd>,
    fds: Vec<OwnedFd>,
}

/// Receives the plan (`send_plan`). None when the launcher gave up first
/// (the socket closed): pid 2 then exits without a word. Before the
/// fds come, every number below the plan's highest that is not the
/// plan's is taken (pid 2's own fds moved off the plan's numbers, a
/// filler on each other free one, closed after), so that the fds land on
/// their numbers (50 dup3 and close calls fewer for -B than placing them
/// after; `place_plan` puts right whatever did not land).
///
/// # Safety
/// As `fail`, in pid 2; `own` are its open fds (updated where they move).
unsafe fn receive_plan(p: &Boot, own: &mut Own) -> Option<Plan> {
    let mut stream = Vec::new();
    let mut buf = vec![0u8; CHUNK + 1];
    let mut fds = Vec::new();
    let mut want = None::<usize>;
    let recv = |own: &Own, buf: &mut [u8], tag: u8| -> Option<super::sys::Received> {
        let r = match super::sys::recv_blocking(BorrowedFd::borrow_raw(own.plan), buf) {
            Ok(r) if r.len > 0 => r,
            _ => return None,
        };
        if r.truncated || r.ctrunc || r.foreign || buf[0] != tag {
            fail("a malformed plan from the launcher");
        }
        Some(r)
    };
    while want.is_none_or(|w| stream.len() < w + 4) {
        let r = recv(own, &mut buf, b'p')?;
        stream.extend_from_slice(&buf[1..r.len]);
        fds.extend(r.fds);
        if want.is_none() && stream.len() >= 4 {
            want = Some(u32::from_ne_bytes(stream[..4].try_into().unwrap()) as usize);
        }
    }
    let body = &stream[4..];
    let nfds = body.get(..4).map_or(0, |n| u32::from_ne_bytes(n.try_into().unwrap()) as usize);
    if body.len() != want.unwrap_or(0) || body.len() < 4 + 4 * nfds || !fds.is_empty() {
        fail("a malformed plan from the launcher");
    }
    let targets: Vec<RawFd> = body[4..4 + 4 * nfds].chunks_exact(4).map(|c| RawFd::from_ne_bytes(c.try_into().unwrap())).collect();
    let strings = &body[4 + 4 * nfds..];
    let argv: Vec<CString> = match strings.strip_suffix(b"\0") {
        Some(s) => s.split(|&c| c == 0).map(|a| CString::new(a).unwrap()).collect(),
        None => fail("a malformed plan from the launcher"),
    };
    let fillers = make_room(p, &targets, own);
    while fds.len() < nfds {
        let r = recv(own, &mut buf, b'f')?;
        fds.extend(r.fds);
    }
    for &f in &fillers {
        libc::close(f);
    }
    if fds.len() != nfds {
        fail("a malformed plan from the launcher");
    }
    Some(Plan { argv, targets, fds })
}

/// Leaves free, below the highest of `targets`, only the numbers of
/// `targets`: pid 2's own fds on them move to a number outside them,
/// and every other free one gets a filler (returned, to close once the
/// fds are in). Numbers the fd limit does not allow are left alone.
///
/// # Safety
/// As `fail`, in pid 2; `own` are its open fds (updated where they move).
unsafe fn make_room(p: &Boot, targets: &[RawFd], own: &mut Own) -> Vec<RawFd> {
    let mut planned = targets.to_vec();
    planned.sort_unstable();
    let Some(&top) = planned.last() else { return Vec::new() };
    let mut open: Vec<RawFd> = [own.plan, own.status_w, own.err_w, own.tty_slave, p.proc_fd, p.pts_fd].into_iter().filter(|&fd| fd >= 0).collect();
    let free = |open: &[RawFd]| (0..).find(|n| planned.binary_search(n).is_err() && !open.contains(n)).unwrap_or(-1);
    for fd in [&mut own.plan, &mut own.status_w, &mut own.err_w, &mut own.tty_slave] {
        if *fd >= 0 && planned.binary_search(fd).is_ok() {
            let to = free(&open);
            if libc::dup3(*fd, to, libc::O_CLOEXEC) < 0 {
                fail("moving an fd of the program's process");
            }
            libc::close(*fd);
            open.retain(|o| o != fd);
            open.push(to);
            *fd = to;
        }
    }
    ERR_W.store(own.err_w, Ordering::Relaxed);
    let mut fillers = Vec::new();
    for n in 0..top {
        if planned.binary_search(&n).is_err() && !open.contains(&n) && libc::dup3(own.plan, n, libc::O_CLOEXEC) >= 0 {
            fillers.push(n);
        }
    }
    fillers
}

/// Puts each fd of the plan at its number. pid 2's own fds (`own`)
/// and the fds received may sit on those numbers (the launcher closed its
/// copies of the init's ends, and the kernel gives received fds the
/// lowest free ones). An fd goes to its number once that is free; one of
/// pid 2's own leaves a number of the plan for the lowest free one
/// outside it; where the fds received only wait on each other (a cycle),
/// one of them is parked on such a number. So pid 2 needs one fd more
/// than the launcher held at most, however dense the numbers are under
/// the fd limit. Returns the numbers the program gets.
///
/// # Safety
/// As `fail`, in pid 2; `own` are its open fds (updated where they move).
unsafe fn place_plan(p: &Boot, targets: Vec<RawFd>, fds: Vec<OwnedFd>, own: &mut Own) -> Vec<RawFd> {
    let mut planned = targets.clone();
    planned.sort_unstable();
    if targets.len() != fds.len()
        || planned.windows(2).any(|w| w[0] == w[1])
        || planned.first().is_some_and(|&t| t < 0)
        || planned.binary_search(&p.proc_fd).is_ok()
        || planned.binary_search(&p.pts_fd).is_ok()
    {
        fail("a malformed plan from the launcher (fd numbers)");
    }
    let mut limit: libc::rlimit = std::mem::zeroed();
    libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    let limit = RawFd::try_from(limit.rlim_cur).unwrap_or(RawFd::MAX);
    // Every fd pid 2 holds, and those still to place (where, whither).
    let mut open: Vec<RawFd> = [own.status_w, own.err_w, own.tty_slave, p.proc_fd, p.pts_fd].into_iter().filter(|&fd| fd >= 0).collect();
    let mut pending: Vec<(RawFd, RawFd)> = fds.into_iter().map(IntoRawFd::into_raw_fd).zip(targets.iter().copied()).filter(|&(fd, to)| fd != to).collect();
    open.extend(targets.iter().filter(|to| !pending.iter().any(|(_, t)| t == *to)));
    open.extend(pending.iter().map(|&(fd, _)| fd));
    let mv = |fd: RawFd, to: RawFd, open: &mut Vec<RawFd>| {
        if libc::dup3(fd, to, libc::O_CLOEXEC) < 0 {
            fail(&format!("placing fd {to}"));
        }
        libc::close(fd);
        open.retain(|&o| o != fd);
        open.push(to);
    };
    let free = |open: &[RawFd]| (0..limit).find(|n| planned.binary_search(n).is_err() && !open.contains(n));
    for fd in [&mut own.status_w, &mut own.err_w, &mut own.tty_slave] {
        while *fd >= 0 && planned.binary_search(fd).is_ok() {
            match free(&open) {
                Some(f) => {
                    mv(*fd, f, &mut open);
                    *fd = f;
                }
                // Only the fds received hold the numbers outside the
                // plan: one goes to its number first.
                None => match pending.iter().position(|&(_, to)| !open.contains(&to)) {
                    Some(i) => {
                        let (from, to) = pending.swap_remove(i);
                        mv(from, to, &mut open);
                    }
                    None => fail("no room for the session's fds"),
                },
            }
        }
    }
    ERR_W.store(own.err_w, Ordering::Relaxed);
    while !pending.is_empty() {
        let before = pending.len();
        let mut i = 0;
        while i < pending.len() {
            let (from, to) = pending[i];
            if open.contains(&to) {
                i += 1;
                continue;
            }
            mv(from, to, &mut open);
            pending.swap_remove(i);
        }
        if pending.len() == before {
            // A cycle: every number wanted is held by another fd to place.
            let Some(f) = free(&open) else { fail("no room for the session's fds") };
            mv(pending[0].0, f, &mut open);
            pending[0].0 = f;
        }
    }
    let mut program_fds = targets;
    program_fds.extend([p.proc_fd, p.pts_fd]);
    program_fds
}

/// pid 1 of the session. Never returns.
///
/// # Safety
/// Only in the child of `clone_init`'s clone.
unsafe fn init(p: &Boot) -> ! {
    ERR_W.store(p.err_w, Ordering::Relaxed);
    // Started on the CPUs the launcher chose (`clone_init`), it may run
    // on all the caller's from now on (again on the go below: the
    // launcher may choose after this).
    if let Some(cpus) = &p.cpus {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cpus);
    }
    // Nothing of the launcher's but the init's own ends and the two
    // placeholders (the fds that cross come with the plan).
    let mut keep = vec![p.plan, p.status_w, p.err_w, p.proc_fd, p.pts_fd];
    keep.extend(p.tty.map(|(chan, _)| chan));
    keep.sort_unstable();
    close_others(&keep);
    // The other namespaces, made here: their cost (a network namespace's
    // above all) is the init's, while the launcher makes the grants. The
    // id maps need not be there yet (a clone with every flag made them
    // before the maps too).
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS | libc::CLONE_NEWCGROUP;
    if !p.net {
        flags |= libc::CLONE_NEWNET;
    }
    if libc::unshare(flags) < 0 {
        fail("cannot make the session's namespaces");
    }
    // Wait for the launcher to write our id maps (what follows makes
    // files in file systems of this user namespace).
    let mut b = 0u8;
    if libc::recv(p.plan, (&mut b as *mut u8).cast(), 1, 0) != 1 {
        libc::_exit(125);
    }
    // The CPUs it started on were the launcher's others (`clone_init`):
    // all the launcher's again, for the program to inherit.
    if let Some(cpus) = &p.cpus {
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cpus) < 0 {
            fail("restoring the CPU affinity");
        }
    }

    // ld-preld's file, as a detached mount, before /tmp is covered.
    // Read-only: through its path the program could otherwise chmod, touch
    // or set xattrs on the host's ld-preld (Landlock has no right for
    // that), e.g. make it setuid when root owns it.
    let ld = detached_copy(&p.loader, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV, "ld-preld");
    if libc::mount(std::ptr::null(), c"/".as_ptr(), std::ptr::null(), libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) < 0 {
        fail("making the mount tree private");
    }
    // The new root: an empty tmpfs, staged on /tmp of this namespace.
    if libc::mount(c"tmpfs".as_ptr(), c"/tmp".as_ptr(), c"tmpfs".as_ptr(), libc::MS_NOSUID | libc::MS_NODEV, c"mode=0755,size=64k".as_ptr().cast()) < 0 {
        fail("mounting the session's root (tmpfs on /tmp)");
    }
    // The program's /proc: a procfs of this PID namespace (the session's
    // processes only), made as a detached mount (fsmount), held as an fd
    // and never mounted in the session's tree: paths through its magic
    // links (/proc/self/fd/N/...) are then no route for calls that take no
    // directory fd (connect, bind). (It was mounted on a staging directory
    // and copied: the unmount of each staging mount waited for an
    // expedited RCU grace period, 40-60 us, on the session's start.)
    use rustix::mount::MountAttrFlags as A;
    let procfs = new_mount(c"proc", &[], &[], A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_NODEV | A::MOUNT_ATTR_NOEXEC, "proc");
    // No user namespaces inside: each would give the program every
    // capability over new namespaces of its own (more kernel to attack).
    // The limit is per user namespace, set through this namespace's proc.
    let limit = libc::openat(procfs.as_raw_fd(), c"sys/user/max_user_namespaces".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if limit < 0 || libc::write(limit, b"0".as_ptr().cast(), 1) != 1 {
        fail("/proc/sys/user/max_user_namespaces");
    }
    libc::close(limit);
    // The caller's pid_max (the kernel's default for a new namespace is
    // its largest). Where it is one for the whole machine (before 6.14)
    // the write fails (EPERM): the session shows the machine's anyway.
    if let Some(v) = &p.pid_max {
        let f = libc::openat(procfs.as_raw_fd(), c"sys/kernel/pid_max".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if f >= 0 {
            libc::write(f, v.as_ptr().cast(), v.len());
            libc::close(f);
        }
    }
    cover_keys(procfs.as_raw_fd());
    // Read-only from now on: no write to /proc/self/mem, attr, sys...
    // whoever makes it.
    set_attrs(procfs.as_raw_fd(), libc::MOUNT_ATTR_RDONLY, "the session's proc");
    place(procfs.into_raw_fd(), p.proc_fd, "the session's proc");
    // Ptys of the session's own: a new devpts instance (a user namespace
    // may mount one), detached the same way. Its ptys are none of the
    // user's other terminals. At most 256: the machine's ptys beyond the
    // initial instance's reserve are shared by every instance (a session
    // must not take them all from containers and other sessions).
    let devpts = new_mount(c"devpts", &[c"newinstance"], &[(c"ptmxmode", c"0666"), (c"mode", c"0620"), (c"max", c"256")], A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_NOEXEC, "the session's devpts");
    place(devpts.into_raw_fd(), p.pts_fd, "the session's devpts");
    // The session's terminal, one of its own ptys, opened on that mount
    // (the program's /dev/pts): its /dev/pts/0, which ttyname finds there.
    let tty_slave = match p.tty {
        Some((chan, _)) => session_pty(p, chan),
        None => -1,
    };
    for d in &p.dirs {
        if libc::mkdir(d.as_ptr(), 0o755) < 0 && *libc::__errno_location() != libc::EEXIST {
            fail(&format!("mkdir {}", d.to_string_lossy()));
        }
    }
    let f = libc::open(p.target.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o755);
    if f < 0 {
        fail("making ld-preld's mount point");
    }
    libc::close(f);
    if libc::syscall(libc::SYS_move_mount, ld, c"".as_ptr(), libc::AT_FDCWD, p.target.as_ptr(), libc::MOVE_MOUNT_F_EMPTY_PATH as libc::c_uint) < 0 {
        fail("mounting ld-preld in the session's root");
    }
    libc::close(ld);
    // pivot_root(".", "."): the old root ends up stacked on the new one,
    // and is detached at once. (pid 2 detached it, to overlap the unmount,
    // which waits for an expedited RCU grace period, with the plan on its
    // way: the launcher then forked its cleaner and started the server's
    // closer thread, and in 4 of 10 traces the grace period waited for
    // them, 0.15-0.5 ms on the way to the program's exec. Here it overlaps
    // the launcher's grants, which end later.)
    if libc::chdir(c"/tmp".as_ptr()) < 0 || libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) < 0 {
        fail("pivot_root into the session's root");
    }
    if let Err((errno, what)) = detach_old_root() {
        *libc::__errno_location() = errno;
        fail(what);
    }
    if !p.net {
        loopback_up();
    }

    // A tty session of the session's own, its pty as controlling terminal:
    // nothing in it can take the user's terminal or its foreground.
    if libc::setsid() < 0 {
        fail("setsid");
    }
    if tty_slave >= 0 && libc::ioctl(tty_slave, libc::TIOCSCTTY, 0) < 0 {
        fail("making the pty the session's terminal");
    }

    // The program: pid 2, in the init's memory until its exec (vfork's
    // way: the init waits meanwhile). A fork copied the init's page
    // tables, and the program's exec tore the copy down again, both on
    // the way to the program's start. It is made before the plan comes,
    // takes the plan (its fds in its own fd table) and becomes the
    // program.
    // It starts on the init's CPU, which the init leaves to it until its
    // exec: left to the kernel, it was queued on the launcher's (busy
    // then: the server, the cleaner) as often as not, and waited there.
    // It takes all the launcher's CPUs again just before its exec
    // (`program`).
    let pinned = p.cpus.is_some() && pin_here();
    let start = Pid2 { boot: p, tty_slave, init_pinned: pinned };
    let mut stack = vec![0u128; (256 << 10) / 16];
    let top = stack.as_mut_ptr().add(stack.len()).cast::<libc::c_void>();
    let pid = libc::clone(pid2, top, libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD, (&start as *const Pid2<'_>).cast_mut().cast());
    if pid < 0 {
        fail("clone of the program's process");
    }
    drop(stack);
    if let (true, Some(cpus)) = (pinned, &p.cpus) {
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cpus);
    }
    // pid 2 may have moved its error pipe (in its own fd table).
    ERR_W.store(p.err_w, Ordering::Relaxed);
    // The init keeps nothing of the session's but the status pipe (the
    // program's stdout closes when the program and its children close it)
    // and, until it has reported the program's status, the session's
    // procfs and devpts: the program holds the only other reference to
    // these detached mounts, and their last close (each an expedited RCU
    // grace period, and a superblock's end) came at its exit, before its
    // parent heard of it. The error pipe closes here: the program's exec
    // closes the last copy.
    let status_w = p.status_w;
    let mut keep = [status_w, p.proc_fd, p.pts_fd];
    keep.sort_unstable();
    close_others(&keep);
    // Signals the launcher passes on (the user's ^C without a pty, kill of
    // the launcher, SIGCONT after ^Z) go to the program's process group.
    PROGRAM.store(pid, Ordering::Relaxed);
    for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGTERM, libc::SIGTSTP, libc::SIGCONT] {
        libc::signal(sig, pass_on as *const () as usize);
    }
    for sig in [libc::SIGPIPE, libc::SIGTTIN, libc::SIGTTOU] {
        libc::signal(sig, libc::SIG_IGN);
    }
    // Reap until the last process of the session is gone. If the launcher
    // and any background copy of it are gone too (killed: the status
    // pipe has no reader), nothing serves the session any more: the init
    // exits, and the kernel ends every process of its PID namespace.
    let mut chld: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut chld);
    libc::sigaddset(&mut chld, libc::SIGCHLD);
    let mut waiting: libc::sigset_t = std::mem::zeroed();
    libc::sigprocmask(libc::SIG_BLOCK, &chld, &mut waiting);
    libc::sigdelset(&mut waiting, libc::SIGCHLD);
    libc::signal(libc::SIGCHLD, woken as *const () as usize);
    let mut reported = false;
    loop {
        loop {
            let mut st = 0;
            let r = libc::waitpid(-1, &mut st, libc::WNOHANG | libc::WUNTRACED);
            if r == 0 {
                break;
            }
            if r < 0 {
                if *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                libc::_exit(0);
            }
            if r == pid && libc::WIFSTOPPED(st) {
                // ^Z on the session's terminal: the launcher stops too.
                let b = st.to_ne_bytes();
                libc::write(status_w, b.as_ptr().cast(), 4);
            } else if r == pid && !reported {
                let b = st.to_ne_bytes();
                libc::write(status_w, b.as_ptr().cast(), 4);
                reported = true;
                libc::close(p.proc_fd);
                libc::close(p.pts_fd);
            }
        }
        // SIGCHLD is unblocked only while waiting here: none is missed.
        let mut pfd = libc::pollfd { fd: status_w, events: 0, revents: 0 };
        libc::ppoll(&mut pfd, 1, std::ptr::null(), &waiting);
        if pfd.revents & libc::POLLERR != 0 {
            libc::_exit(0);
        }
    }
}

/// After the init's pivot_root(".", "."): detaches the old root (stacked
/// on the new one), and makes the new root read-only. The errno and what
/// failed.
///
/// # Safety
/// In the init, right after its pivot_root.
unsafe fn detach_old_root() -> Result<(), (i32, &'static str)> {
    let errno = || *libc::__errno_location();
    if libc::umount2(c".".as_ptr(), libc::MNT_DETACH) < 0 || libc::chdir(c"/".as_ptr()) < 0 {
        return Err((errno(), "pivot_root into the session's root"));
    }
    if libc::mount(std::ptr::null(), c"/".as_ptr(), std::ptr::null(), libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV, std::ptr::null()) < 0 {
        return Err((errno(), "making the session's root read-only"));
    }
    Ok(())
}

extern "C" fn woken(_: libc::c_int) {}

static PROGRAM: AtomicI32 = AtomicI32::new(0);

/// The init's handler: the signal to the program's process group (the
/// program's own, which it may since have left: then to the program).
extern "C" fn pass_on(sig: libc::c_int) {
    let pid = PROGRAM.load(Ordering::Relaxed);
    // SAFETY: kill is async-signal-safe.
    unsafe {
        if pid > 0 && libc::kill(-pid, sig) < 0 {
            libc::kill(pid, sig);
        }
    }
}

/// A new network namespace has its loopback down: bring it up (the
/// session's own; nothing else exists there).
///
/// # Safety
/// As `fail`.
unsafe fn loopback_up() {
    let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if s < 0 {
        fail("socket for the loopback");
    }
    let mut ifr: libc::ifreq = std::mem::zeroed();
    for (d, c) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *c as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    if libc::ioctl(s, libc::SIOCSIFFLAGS, &ifr) < 0 {
        fail("bringing the loopback up");
    }
    libc::close(s);
}

/// The session's pty, from the copy of its devpts (`pts_fd`): sends its
/// master over `chan` to the launcher and returns the slave. The launcher
/// gives the pty the user's terminal modes and size before it sends the
/// plan: the program starts after that.
///
/// # Safety
/// As `fail`.
unsafe fn session_pty(p: &Boot, chan: RawFd) -> RawFd {
    let m = libc::openat(p.pts_fd, c"ptmx".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
    if m < 0 {
        fail("opening the session's ptmx");
    }
    let unlock: libc::c_int = 0;
    if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) < 0 {
        fail("unlocking the session's pty");
    }
    // The slave through the same mount as the master (the copy).
    let s = libc::ioctl(m, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
    if s < 0 {
        fail("opening the session's pty");
    }
    // One byte with the master attached (the socket is empty, so it does
    // not wait).
    let (chan_fd, master) = (BorrowedFd::borrow_raw(chan), BorrowedFd::borrow_raw(m));
    if super::sys::send_msg(chan_fd, b"m", &[master]).is_err() {
        fail("sending the session's pty to the launcher");
    }
    libc::close(m);
    libc::close(chan);
    s
}

/// What `pid2` runs with (in the init's memory).
struct Pid2<'a> {
    boot: &'a Boot,
    tty_slave: RawFd,
    /// The init kept itself on its CPU to start this process there: this
    /// process gives it the caller's CPUs again.
    init_pinned: bool,
}

/// The program's process, cloned with CLONE_VM | CLONE_VFORK on a stack of
/// its own: it shares the init's memory (the init waits) until its exec.
/// Its fd table is its own copy: the plan's fds are placed there only.
extern "C" fn pid2(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the init's `Pid2`, alive while the init waits for
    // this process's exec or exit; the init allocates nothing meanwhile
    // (it is stopped), so this process may.
    unsafe {
        let s = &*(arg as *const Pid2<'_>);
        let p = s.boot;
        // The init, woken by the exec, runs on the other CPUs (it takes
        // them all again then): on this one it waited for ld-preld and
        // the program to stop or end, and so did the launcher, which
        // learns of the exec once the init has closed its end of the
        // error pipe, and the program's status, which the init reports
        // once its set-up after the clone is done.
        if let (true, Some(cpus)) = (s.init_pinned, &p.cpus) {
            let here = libc::sched_getcpu();
            let mut others = *cpus;
            if here >= 0 {
                libc::CPU_CLR(here as usize, &mut others);
            }
            if libc::CPU_COUNT(&others) > 0 && libc::sched_setaffinity(1, std::mem::size_of::<libc::cpu_set_t>(), &others) < 0 {
                fail("setting the init's CPU affinity");
            }
        }
        libc::close(p.status_w);
        // The plan's fds keep the launcher's numbers, which its raised
        // limit allowed (-B's grants are about 60): this process's soft
        // limit goes up to the hard one while they land, and back to the
        // caller's before the exec.
        let mut caller_limit: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut caller_limit);
        libc::setrlimit(libc::RLIMIT_NOFILE, &libc::rlimit { rlim_cur: caller_limit.rlim_max, ..caller_limit });
        // The plan: what to run, with which fds. It comes once the
        // launcher has taken the pty's master and set it up.
        let mut own = Own { plan: p.plan, status_w: -1, err_w: p.err_w, tty_slave: s.tty_slave };
        let Some(Plan { argv: argv_c, targets, fds }) = receive_plan(p, &mut own) else { libc::_exit(125) };
        libc::close(own.plan);
        own.plan = -1;
        let program_fds = place_plan(p, targets, fds, &mut own);
        let mut argv: Vec<*const libc::c_char> = argv_c.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        program(p, &argv, &program_fds, own.tty_slave, &caller_limit)
    }
}

/// pid 2: drops every capability and becomes ld-preld.
///
/// # Safety
/// Only in the init's fork child.
unsafe fn program(p: &Boot, argv: &[*const libc::c_char], program_fds: &[RawFd], tty_slave: RawFd, limit: &libc::rlimit) -> ! {
    // Keys: a new, empty session keyring (the seccomp filter refuses the key
    // calls; this leaves nothing to find should one get through).
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    if libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) < 0 && *libc::__errno_location() != libc::ENOSYS {
        fail("joining a new session keyring");
    }
    // Capabilities: none, for good (an exec as uid 0 gains none either).
    // The kernel's are numbered from 0 up to its last: EINVAL is the first
    // number past it (41 here: CAP_LAST_CAP is 40), and the rest would be
    // EINVAL too.
    for cap in 0..64 {
        if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 {
            if *libc::__errno_location() == libc::EINVAL {
                break;
            }
            fail("dropping the capability bounding set");
        }
    }
    if libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 {
        fail("clearing the ambient capabilities");
    }
    // NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE, each locked; KEEP_CAPS off, locked.
    const SECBITS_LOCKED: libc::c_ulong = (libc::SECBIT_NOROOT
        | libc::SECBIT_NOROOT_LOCKED
        | libc::SECBIT_NO_SETUID_FIXUP
        | libc::SECBIT_NO_SETUID_FIXUP_LOCKED
        | libc::SECBIT_KEEP_CAPS_LOCKED
        | libc::SECBIT_NO_CAP_AMBIENT_RAISE
        | libc::SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) as libc::c_ulong;
    const _: () = assert!(SECBITS_LOCKED == 0xef);
    if libc::prctl(libc::PR_SET_SECUREBITS, SECBITS_LOCKED, 0, 0, 0) < 0 {
        fail("locking the securebits");
    }
    // struct __user_cap_header_struct { version = _LINUX_CAPABILITY_VERSION_3, pid = 0 }
    // and two struct __user_cap_data_struct { effective, permitted, inheritable }.
    let hdr: [u32; 2] = [linux_raw_sys::general::_LINUX_CAPABILITY_VERSION_3, 0];
    let data = [0u32; 6];
    if libc::syscall(libc::SYS_capset, hdr.as_ptr(), data.as_ptr()) < 0 {
        fail("dropping the capabilities");
    }
    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
        fail("setting no_new_privs");
    }
    // The program leads a process group of its own, the foreground one of
    // the session's terminal, which stands in for the user's on its fds.
    libc::setpgid(0, 0);
    if let (Some((_, fds)), slave) = (p.tty, tty_slave) {
        let mut ttou: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut ttou);
        libc::sigaddset(&mut ttou, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &ttou, std::ptr::null_mut());
        if libc::tcsetpgrp(slave, libc::getpid()) < 0 {
            fail("making the program the terminal's foreground");
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &ttou, std::ptr::null_mut());
        for (fd, on) in fds.iter().enumerate() {
            if *on && libc::dup2(slave, fd as i32) < 0 {
                fail("dup2 of the session's terminal");
            }
        }
        libc::close(slave);
    }
    // The fds that cross: inherited across exec.
    for &fd in program_fds {
        if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
            fail(&format!("fd {fd}"));
        }
    }
    // SIGPIPE as preld found it: the launcher's Rust runtime ignores it,
    // and an ignored signal stays ignored across exec (a session's
    // `yes | head` then failed with EPIPE, "Broken pipe", where it dies of
    // SIGPIPE); SIGCHLD too, which the launcher took at its default.
    crate::dispositions::for_the_program();
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    // The caller's fd limit (the fds above it stay open, as natively).
    libc::setrlimit(libc::RLIMIT_NOFILE, limit);
    // The CPUs the init started pid 2 on: all the launcher's again, as the
    // program's, only now (the plan's wake-up had moved it to the
    // launcher's CPU, busy then).
    if let Some(cpus) = &p.cpus {
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cpus) < 0 {
            fail("restoring the CPU affinity");
        }
    }
    // The environment is the launcher's as it started (it changes none).
    libc::execve(p.loader.as_ptr(), argv.as_ptr(), environ);
    fail(&format!("cannot execute {}", p.loader.to_string_lossy()))
}
