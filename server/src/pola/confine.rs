//! The session's kernel confinement, made by the launcher before ld-preld
//! starts: what a program holds even when it reaches the kernel without the
//! handler (a `syscall` inside ld-preld's text, an image exec'd from a
//! memfd). Landlock (handler/src/sandbox.rs) and the seccomp filter that
//! ld-preld installs after it are the layers above this one.
//!
//! ```text
//! launcher (host: the capability server)
//!  └─ clone(NEWUSER|NEWNS|NEWPID|NEWIPC|NEWUTS|NEWCGROUP[|NEWNET]) ─► init (pid 1)
//!       uid/gid maps (the caller's own ids), mount tree = a read-only tmpfs
//!       holding ld-preld's file only, loopback up, no nested user namespaces,
//!       a detached read-only procfs of the new PID namespace and a devpts
//!       of its own (fds)
//!       └─ fork ─► program (pid 2): new session keyring, every capability
//!                  dropped (bounding, ambient, securebits locked),
//!                  no_new_privs, fds 0-2 + named ones, exec ld-preld
//! ```
//!
//! The init reaps the session's processes, reports the program's wait
//! status on a pipe as soon as the program ends (the launcher ends like it)
//! and exits when the last process of the session is gone: a PID
//! namespace's processes die with its init, so it outlives them all, as
//! daemons started by the program outlive the program natively.
//!
//! Everything here runs before exec in a copy of the single-threaded
//! launcher; failures are reported as one line on an error pipe that the
//! successful exec closes.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
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

/// What to start: ld-preld's absolute path and its argv (argv[0] included).
pub struct Start<'a> {
    pub loader: &'a Path,
    pub argv: Vec<CString>,
    /// fds that cross into the session (0, 1, 2, the RPC socket, --fd N).
    pub keep: Vec<RawFd>,
    /// The host network (no new network namespace).
    pub net: bool,
    /// The session's terminal: the init makes a pty of the session's own
    /// devpts and sends its master over the first fd (a socket; the
    /// launcher's end is `pty_master`'s), and the slave replaces those of
    /// fds 0-2 that are true (tty.rs).
    pub tty: Option<(RawFd, [bool; 3])>,
    /// An fd of `keep` the init replaces with the root of a read-only
    /// procfs of the session's PID namespace, detached (never a path in
    /// the session's tree): ld-preld's `--beneath FD:r:/proc`.
    pub proc_fd: RawFd,
    /// Likewise for a devpts of the session's own (its ptys only):
    /// `--beneath FD:t:/dev/pts`.
    pub pts_fd: RawFd,
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

/// Starts the confined session. Returns once ld-preld has been exec'd in it
/// (or with the reason it could not be). `meanwhile` runs in the launcher
/// while the init sets the session up (after the clone: it may start
/// threads).
pub fn spawn(s: &Start<'_>, pty_master: Option<(OwnedFd, &mut dyn FnMut(OwnedFd))>, meanwhile: &mut dyn FnMut()) -> Result<Session, String> {
    let (status_r, status_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    // The launcher writes the child's id maps (a map of more than one's own
    // id must be written from the parent namespace), then lets it go on.
    let (go_r, go_w) = pipe()?;
    // Everything the child needs is made here (it allocates only to report
    // a failure, which is sound: the launcher is single-threaded until the
    // session has started).
    // SAFETY: plain getters.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let root = uid == 0;
    // Root maps every id (files keep their owners, as natively); a user may
    // map only its own ids (others show as the overflow id 65534).
    let uid_map = CString::new(if root { "0 0 4294967295".to_string() } else { format!("{uid} {uid} 1") }).unwrap();
    let gid_map = CString::new(if root { "0 0 4294967295".to_string() } else { format!("{gid} {gid} 1") }).unwrap();
    let loader = CString::new(s.loader.as_os_str().as_bytes()).map_err(|_| "ld-preld's path holds a NUL".to_string())?;
    if s.loader.as_os_str().as_bytes().first() != Some(&b'/') {
        return Err(format!("ld-preld's path {} is not absolute", s.loader.display()));
    }
    // The directories of ld-preld's path below the new root, and the file.
    let stage = b"/tmp";
    let mut dirs = Vec::new();
    let lb = s.loader.as_os_str().as_bytes();
    for (i, c) in lb.iter().enumerate().skip(1) {
        if *c == b'/' {
            dirs.push(CString::new([&stage[..], &lb[..i]].concat()).unwrap());
        }
    }
    let target = CString::new([&stage[..], lb].concat()).unwrap();
    let mut argv: Vec<*const libc::c_char> = s.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut keep = s.keep.clone();
    keep.extend([status_w.as_raw_fd(), err_w.as_raw_fd(), go_r.as_raw_fd()]);
    if let Some((chan, _)) = s.tty {
        keep.push(chan);
    }
    keep.sort_unstable();
    keep.dedup();
    let plan = Plan {
        go_r: go_r.as_raw_fd(),
        loader: &loader,
        dirs: &dirs,
        target: &target,
        argv: &argv,
        keep: &keep,
        program_fds: &s.keep,
        status_w: status_w.as_raw_fd(),
        err_w: err_w.as_raw_fd(),
        net: s.net,
        tty: s.tty,
        proc_fd: s.proc_fd,
        pts_fd: s.pts_fd,
    };
    let mut flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWCGROUP;
    if !s.net {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: a fork-like clone (no CLONE_VM, no new stack) of this
    // single-threaded process; the child runs `init` on its copy of the
    // memory and never returns from it.
    let pid = unsafe { libc::syscall(libc::SYS_clone, (flags | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize) };
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
        // SAFETY: in the new child; `plan` points into the parent's copy of
        // memory, which this process owns a copy of.
        unsafe { init(&plan) }
    }
    drop(status_w);
    drop(err_w);
    drop(go_r);
    // Ids: the caller's own, inside as outside.
    let mapped = (|| {
        let dir = format!("/proc/{pid}");
        if !root {
            std::fs::write(format!("{dir}/setgroups"), "deny").map_err(|e| format!("{dir}/setgroups: {e}"))?;
        }
        std::fs::write(format!("{dir}/uid_map"), uid_map.as_bytes()).map_err(|e| format!("{dir}/uid_map: {e}"))?;
        std::fs::write(format!("{dir}/gid_map"), gid_map.as_bytes()).map_err(|e| format!("{dir}/gid_map: {e}"))
    })();
    if let Err(why) = mapped {
        // SAFETY: killing and reaping our own child.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
            libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0);
        }
        return Err(format!("cannot map the session's user ids: {why}"));
    }
    // SAFETY: one byte to our pipe.
    unsafe { libc::write(go_w.as_raw_fd(), b"g".as_ptr().cast(), 1) };
    drop(go_w);
    meanwhile();
    if let Some((chan, take)) = pty_master {
        // The session's pty: its master comes once the init has made it;
        // the init starts the program once the launcher has set it up
        // (one byte back). Nothing comes if the init failed first: its
        // reason follows on the error pipe.
        let mut buf = [0u8; 1];
        if let Ok(r) = super::sys::recv_blocking(std::os::fd::AsFd::as_fd(&chan), &mut buf) {
            if let Some(master) = r.fds.into_iter().next() {
                take(master);
                // SAFETY: one byte to our socket.
                unsafe { libc::send(chan.as_raw_fd(), b"k".as_ptr().cast(), 1, libc::MSG_NOSIGNAL) };
            }
        }
    }
    let mut why = Vec::new();
    let _ = std::fs::File::from(err_r).read_to_end(&mut why);
    if !why.is_empty() {
        // The init has exited (or is exiting) after its report.
        let mut st = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid as libc::pid_t, &mut st, 0) };
        return Err(format!("cannot start the session: {}", String::from_utf8_lossy(&why).trim_end()));
    }
    Ok(Session { status: status_r, init: pid as libc::pid_t })
}

struct Plan<'a> {
    go_r: RawFd,
    loader: &'a CString,
    dirs: &'a [CString],
    target: &'a CString,
    argv: &'a [*const libc::c_char],
    keep: &'a [RawFd],
    program_fds: &'a [RawFd],
    status_w: RawFd,
    err_w: RawFd,
    net: bool,
    tty: Option<(RawFd, [bool; 3])>,
    proc_fd: RawFd,
    pts_fd: RawFd,
}

/// Writes `what: strerror(errno)` to the error pipe and exits.
///
/// # Safety
/// In the children of `spawn` only (it `_exit`s).
unsafe fn fail(p: &Plan<'_>, what: &str) -> ! {
    let e = std::io::Error::last_os_error();
    let msg = format!("{what}: {e}\n");
    libc::write(p.err_w, msg.as_ptr().cast(), msg.len());
    libc::_exit(125)
}

/// Writes `data` to the file at `path` or fails.
///
/// # Safety
/// As `fail`.
unsafe fn write_file(p: &Plan<'_>, path: &std::ffi::CStr, data: &[u8]) {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 || libc::write(fd, data.as_ptr().cast(), data.len()) != data.len() as isize {
        fail(p, &path.to_string_lossy());
    }
    libc::close(fd);
}

/// A detached copy of the mount at `path` (open_tree OPEN_TREE_CLONE), with
/// the mount attributes `attrs` set (none: 0), as an fd; `what` names it
/// in a failure.
///
/// # Safety
/// As `fail`.
unsafe fn detached_copy(p: &Plan<'_>, path: &std::ffi::CStr, attrs: u64, what: &str) -> libc::c_int {
    let fd = libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), (libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC) as libc::c_uint);
    if fd < 0 {
        fail(p, &format!("open_tree of {what}"));
    }
    let attr = super::sys::MountAttr { attr_set: attrs, attr_clr: 0, propagation: 0, userns_fd: 0 };
    let size = std::mem::size_of::<super::sys::MountAttr>();
    if attrs != 0 && libc::syscall(libc::SYS_mount_setattr, fd as libc::c_int, c"".as_ptr(), libc::AT_EMPTY_PATH as libc::c_uint, &attr as *const super::sys::MountAttr, size) < 0 {
        fail(p, &format!("making {what} read-only"));
    }
    fd as libc::c_int
}

/// Moves `fd` to the number `onto` (close-on-exec: the program's exec
/// clears it, as for every fd that crosses).
///
/// # Safety
/// As `fail`.
unsafe fn place(p: &Plan<'_>, fd: libc::c_int, onto: RawFd, what: &str) {
    if libc::dup3(fd, onto, libc::O_CLOEXEC) < 0 {
        fail(p, &format!("placing {what}"));
    }
    libc::close(fd);
}

/// Closes every fd but those of `keep` (sorted).
///
/// # Safety
/// Only where no fd but those kept is owned by live code: the child of
/// `spawn`'s clone.
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

/// pid 1 of the session. Never returns.
///
/// # Safety
/// Only in the child of `spawn`'s clone.
unsafe fn init(p: &Plan<'_>) -> ! {
    close_others(p.keep);
    // Wait for the launcher to write our id maps.
    let mut b = 0u8;
    if libc::read(p.go_r, (&mut b as *mut u8).cast(), 1) != 1 {
        libc::_exit(125);
    }
    libc::close(p.go_r);

    // ld-preld's file, as a detached mount, before /tmp is covered.
    // Read-only: through its path the program could otherwise chmod, touch
    // or set xattrs on the host's ld-preld (Landlock has no right for
    // that), e.g. make it setuid when root owns it.
    let ld = detached_copy(p, p.loader, libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV, "ld-preld");
    if libc::mount(std::ptr::null(), c"/".as_ptr(), std::ptr::null(), libc::MS_REC | libc::MS_PRIVATE, std::ptr::null()) < 0 {
        fail(p, "making the mount tree private");
    }
    // The new root: an empty tmpfs, staged on /tmp of this namespace.
    if libc::mount(c"tmpfs".as_ptr(), c"/tmp".as_ptr(), c"tmpfs".as_ptr(), libc::MS_NOSUID | libc::MS_NODEV, c"mode=0755,size=64k".as_ptr().cast()) < 0 {
        fail(p, "mounting the session's root (tmpfs on /tmp)");
    }
    // No user namespaces inside: each would give the program every
    // capability over new namespaces of its own (more kernel to attack).
    // The limit is per user namespace, set through this namespace's proc.
    if libc::mkdir(c"/tmp/proc".as_ptr(), 0o700) < 0 {
        fail(p, "mkdir /tmp/proc");
    }
    if libc::mount(c"proc".as_ptr(), c"/tmp/proc".as_ptr(), c"proc".as_ptr(), libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC, std::ptr::null()) < 0 {
        fail(p, "mounting proc");
    }
    write_file(p, c"/tmp/proc/sys/user/max_user_namespaces", b"0");
    // The program's /proc: a copy of this procfs (the session's processes
    // only), read-only (no write to /proc/self/mem, attr, sys... whoever
    // makes it), held as an fd and never mounted in the session's tree:
    // paths through its magic links (/proc/self/fd/N/...) are then no
    // route for calls that take no directory fd (connect, bind).
    let ro = libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOEXEC;
    place(p, detached_copy(p, c"/tmp/proc", ro, "the session's proc"), p.proc_fd, "the session's proc");
    // Ptys of the session's own: a new devpts instance (a user namespace
    // may mount one), detached the same way. Its ptys are none of the
    // user's other terminals. At most 256: the machine's ptys beyond the
    // initial instance's reserve are shared by every instance (a session
    // must not take them all from containers and other sessions).
    if libc::mkdir(c"/tmp/pts".as_ptr(), 0o700) < 0 {
        fail(p, "mkdir /tmp/pts");
    }
    if libc::mount(c"devpts".as_ptr(), c"/tmp/pts".as_ptr(), c"devpts".as_ptr(), libc::MS_NOSUID | libc::MS_NOEXEC, c"newinstance,ptmxmode=0666,mode=0620,max=256".as_ptr().cast()) < 0 {
        fail(p, "mounting the session's devpts");
    }

    place(p, detached_copy(p, c"/tmp/pts", 0, "the session's devpts"), p.pts_fd, "the session's devpts");
    // The session's terminal, one of its own ptys, opened on that copy
    // (the program's /dev/pts): its /dev/pts/0, which ttyname finds there.
    let tty_slave = match p.tty {
        Some((chan, _)) => session_pty(p, chan),
        None => -1,
    };
    if libc::umount2(c"/tmp/pts".as_ptr(), libc::MNT_DETACH) < 0 || libc::rmdir(c"/tmp/pts".as_ptr()) < 0 {
        fail(p, "unmounting the staged devpts");
    }
    if libc::umount2(c"/tmp/proc".as_ptr(), libc::MNT_DETACH) < 0 || libc::rmdir(c"/tmp/proc".as_ptr()) < 0 {
        fail(p, "unmounting proc");
    }
    for d in p.dirs {
        if libc::mkdir(d.as_ptr(), 0o755) < 0 && *libc::__errno_location() != libc::EEXIST {
            fail(p, &format!("mkdir {}", d.to_string_lossy()));
        }
    }
    let f = libc::open(p.target.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o755);
    if f < 0 {
        fail(p, "making ld-preld's mount point");
    }
    libc::close(f);
    if libc::syscall(libc::SYS_move_mount, ld, c"".as_ptr(), libc::AT_FDCWD, p.target.as_ptr(), libc::MOVE_MOUNT_F_EMPTY_PATH as libc::c_uint) < 0 {
        fail(p, "mounting ld-preld in the session's root");
    }
    libc::close(ld);
    // pivot_root(".", "."): the old root ends up stacked on the new one and
    // is detached at once.
    if libc::chdir(c"/tmp".as_ptr()) < 0
        || libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) < 0
        || libc::umount2(c".".as_ptr(), libc::MNT_DETACH) < 0
        || libc::chdir(c"/".as_ptr()) < 0
    {
        fail(p, "pivot_root into the session's root");
    }
    if libc::mount(std::ptr::null(), c"/".as_ptr(), std::ptr::null(), libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV, std::ptr::null()) < 0 {
        fail(p, "making the session's root read-only");
    }
    if !p.net {
        loopback_up(p);
    }

    // A tty session of the session's own, its pty as controlling terminal:
    // nothing in it can take the user's terminal or its foreground.
    if libc::setsid() < 0 {
        fail(p, "setsid");
    }
    if tty_slave >= 0 && libc::ioctl(tty_slave, libc::TIOCSCTTY, 0) < 0 {
        fail(p, "making the pty the session's terminal");
    }

    // The program: pid 2.
    let pid = libc::fork();
    if pid < 0 {
        fail(p, "fork");
    }
    if pid == 0 {
        libc::close(p.status_w);
        program(p, tty_slave);
    }
    if tty_slave >= 0 {
        libc::close(tty_slave);
    }
    // The init keeps nothing of the session's but the status pipe (the
    // program's stdout closes when the program and its children close it)
    // and, until it has reported the program's status, the session's
    // procfs and devpts: the program holds the only other reference to
    // these detached mounts, and their last close (each an expedited RCU
    // grace period, and a superblock's end) came at its exit, before its
    // parent heard of it.
    for &fd in p.keep {
        if fd != p.status_w && fd != p.go_r && fd != p.proc_fd && fd != p.pts_fd {
            libc::close(fd);
        }
    }
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
                libc::write(p.status_w, b.as_ptr().cast(), 4);
            } else if r == pid && !reported {
                let b = st.to_ne_bytes();
                libc::write(p.status_w, b.as_ptr().cast(), 4);
                reported = true;
                libc::close(p.proc_fd);
                libc::close(p.pts_fd);
            }
        }
        // SIGCHLD is unblocked only while waiting here: none is missed.
        let mut pfd = libc::pollfd { fd: p.status_w, events: 0, revents: 0 };
        libc::ppoll(&mut pfd, 1, std::ptr::null(), &waiting);
        if pfd.revents & libc::POLLERR != 0 {
            libc::_exit(0);
        }
    }
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
unsafe fn loopback_up(p: &Plan<'_>) {
    let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if s < 0 {
        fail(p, "socket for the loopback");
    }
    let mut ifr: libc::ifreq = std::mem::zeroed();
    for (d, c) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *c as libc::c_char;
    }
    ifr.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    if libc::ioctl(s, libc::SIOCSIFFLAGS, &ifr) < 0 {
        fail(p, "bringing the loopback up");
    }
    libc::close(s);
}

/// The session's pty, from the copy of its devpts (`pts_fd`): sends its
/// master over `chan` to the launcher, waits until the launcher has given
/// it the user's terminal modes and size, and returns the slave.
///
/// # Safety
/// As `fail`.
unsafe fn session_pty(p: &Plan<'_>, chan: RawFd) -> RawFd {
    let m = libc::openat(p.pts_fd, c"ptmx".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
    if m < 0 {
        fail(p, "opening the session's ptmx");
    }
    let unlock: libc::c_int = 0;
    if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) < 0 {
        fail(p, "unlocking the session's pty");
    }
    // The slave through the same mount as the master (the copy).
    let s = libc::ioctl(m, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
    if s < 0 {
        fail(p, "opening the session's pty");
    }
    // One byte with the master attached (no allocation; the socket is
    // empty, so it does not wait).
    let (chan_fd, master) = (BorrowedFd::borrow_raw(chan), BorrowedFd::borrow_raw(m));
    if super::sys::send_msg(chan_fd, b"m", &[master]).is_err() {
        fail(p, "sending the session's pty to the launcher");
    }
    libc::close(m);
    let mut ack = 0u8;
    if libc::read(chan, (&mut ack as *mut u8).cast(), 1) != 1 {
        fail(p, "the launcher did not take the session's pty");
    }
    s
}

/// pid 2: drops every capability and becomes ld-preld.
///
/// # Safety
/// Only in the init's fork child.
unsafe fn program(p: &Plan<'_>, tty_slave: RawFd) -> ! {
    // Keys: a new, empty session keyring (the seccomp filter refuses the key
    // calls; this leaves nothing to find should one get through).
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    if libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) < 0 && *libc::__errno_location() != libc::ENOSYS {
        fail(p, "joining a new session keyring");
    }
    // Capabilities: none, for good (an exec as uid 0 gains none either).
    for cap in 0..64 {
        if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && *libc::__errno_location() != libc::EINVAL {
            fail(p, "dropping the capability bounding set");
        }
    }
    if libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 {
        fail(p, "clearing the ambient capabilities");
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
        fail(p, "locking the securebits");
    }
    // struct __user_cap_header_struct { version = _LINUX_CAPABILITY_VERSION_3, pid = 0 }
    // and two struct __user_cap_data_struct { effective, permitted, inheritable }.
    let hdr: [u32; 2] = [linux_raw_sys::general::_LINUX_CAPABILITY_VERSION_3, 0];
    let data = [0u32; 6];
    if libc::syscall(libc::SYS_capset, hdr.as_ptr(), data.as_ptr()) < 0 {
        fail(p, "dropping the capabilities");
    }
    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 {
        fail(p, "setting no_new_privs");
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
            fail(p, "making the program the terminal's foreground");
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &ttou, std::ptr::null_mut());
        for (fd, on) in fds.iter().enumerate() {
            if *on && libc::dup2(slave, fd as i32) < 0 {
                fail(p, "dup2 of the session's terminal");
            }
        }
        libc::close(slave);
    }
    // The fds that cross: inherited across exec.
    for &fd in p.program_fds {
        if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
            fail(p, &format!("fd {fd}"));
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
    libc::execve(p.loader.as_ptr(), p.argv.as_ptr(), environ);
    fail(p, &format!("cannot execute {}", p.loader.to_string_lossy()))
}
