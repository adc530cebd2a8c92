//! execve and execveat: the new program starts under ld-preld again.
//!
//! The call becomes `execve(ld-preld, [ld-preld, OPTIONS..., --argv0 A0,
//! --, FILE, ARGS...], envp)`. Before that, the handler checks FILE the way
//! the kernel would (exists, executable, an ELF it can load or a `#!` script
//! whose interpreter exists), so that a failing exec fails with the kernel's
//! errno in the caller instead of a new process that exits 126 or 127:
//! shells and subprocess modules depend on that difference.

use alloc::vec::Vec;

use preld_loader::elf::{self, FileSource};
use preld_loader::shebang;
use syscalls::Sysno;

use crate::abi::{self, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, FD_CLOEXEC, F_GETFD, F_SETFD};
use crate::call::{After, Call, Outcome};
use crate::errno::{E2BIG, EACCES, EBADF, EFAULT, EINVAL, EIO, ELOOP, ENOENT, ENOEXEC};
use crate::sys::{self, CPath};
use crate::thread::{ThreadBlock, PATH_MAX};
use crate::{config, ownfd, pathmap, pola, rpc, trace, tracer, usermem};

const MAX_ARGS: usize = 1 << 17;

pub fn execve(c: &mut Call<'_>) -> Outcome {
    match prepare(c) {
        Ok(()) => Outcome::RealThen(After::ExecFailed),
        Err(e) => Outcome::Return(-(e as isize)),
    }
}

/// The exec failed after all: take back what was prepared for it.
/// (`After::ExecFailed`)
pub fn failed(t: &mut ThreadBlock, _nr: usize, _orig: &[usize; 6], ret: isize) -> isize {
    if t.exec_alloc != 0 {
        // SAFETY: as in free_prepared: ours, not freed yet.
        let p = unsafe { &*(t.exec_alloc as *const Prepared) };
        ownfd::after_exec_failed(&p.keep);
        for fd in [p.exec_fd, p.interp_fd] {
            if fd >= 0 {
                sys::close(fd);
            }
        }
    }
    free_prepared(t);
    ret
}

/// Frees what a pending exec of `t` prepared (a vfork child's, once its
/// parent resumes).
pub fn free_prepared(t: &mut ThreadBlock) {
    if t.exec_alloc != 0 {
        // SAFETY: exec_alloc holds a Box<Prepared> leaked by `prepare` on
        // this thread and not freed since (the exec did not happen).
        drop(unsafe { alloc::boxed::Box::from_raw(t.exec_alloc as *mut Prepared) });
        t.exec_alloc = 0;
    }
}

/// What the rewritten call points at; it must live until the exec is done.
struct Prepared {
    strings: Vec<Vec<u8>>,
    argv: Vec<usize>,
    /// preld fds that cross the exec (close-on-exec cleared).
    keep: Vec<i32>,
    /// In a session: the program's fd from the server, for ld-preld.
    exec_fd: i32,
    /// In a session: its PT_INTERP's fd, opened here (-1: none).
    interp_fd: i32,
}

fn prepare(c: &mut Call<'_>) -> Result<(), i32> {
    let execveat = c.nr == Sysno::execveat as usize;
    // The kernel takes execveat's dirfd and flags as ints: the upper
    // halves of their registers mean nothing (syscall(2) passes an int
    // AT_FDCWD as 0xffffff9c).
    let (dirfd, path, argv, envp, flags) = if execveat {
        (c.args[0] as i32 as isize as usize, c.args[1], c.args[2], c.args[3], c.args[4] as u32 as usize)
    } else {
        (AT_FDCWD as usize, c.args[0], c.args[1], c.args[2], 0)
    };
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(EINVAL);
    }
    let mut name = [0u8; PATH_MAX];
    let n = usermem::read_cstr(path, &mut name).ok_or(EFAULT)?;
    let name = &name[..n];
    if flags & AT_SYMLINK_NOFOLLOW != 0 && !name.is_empty() {
        // The kernel refuses to follow a final symlink here.
        let st = sys::fstatat(dirfd as i32, &CPath::new(name), AT_SYMLINK_NOFOLLOW);
        if st.is_ok_and(|st| st.mode & abi::S_IFMT == abi::S_IFLNK) {
            return Err(ELOOP);
        }
    }
    let cfg = config::get();

    let mut strings: Vec<Vec<u8>> = Vec::new();
    let mut close_fd = None;
    let (mut exec_fd, mut interp_fd) = (-1, -1);
    // An empty name names the fd itself only with AT_EMPTY_PATH (also in a
    // session, whose server runs the fd's file for an empty name).
    if execveat && name.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(ENOENT);
    }
    // The file, as a path ld-preld can open after the exec.
    let file: Vec<u8> = if rpc::active() {
        // A session: the server checks the grant and hands over the file.
        let (vpath, fd) = session_exec(c.t, dirfd, name)?;
        let interp = match check_fd(c.t, fd, 0) {
            Ok(i) => i,
            Err(e) => {
                sys::close(fd);
                return Err(e);
            }
        };
        exec_fd = fd;
        // Its PT_INTERP (ld.so), opened here where it lies beneath a grant
        // the process resolves in: the new image need not ask the server
        // for it (a round trip, often to a server asleep, at every exec).
        interp_fd = interp.and_then(|i| pola::open_in_process(&i)).unwrap_or(-1);
        vpath
    } else if execveat && (dirfd != AT_FDCWD as usize && (name.is_empty() || name[0] != b'/')) {
        // A #! script named by a close-on-exec fd cannot be reopened by its
        // interpreter after the exec: the kernel fails with ENOENT.
        if name.is_empty() && sys::fcntl(dirfd as i32, F_GETFD, 0).unwrap_or(0) & FD_CLOEXEC != 0 {
            let mut head = [0u8; 2];
            if sys::pread(dirfd as i32, &mut head, 0) == Ok(2) && &head == b"#!" {
                return Err(ENOENT);
            }
        }
        // The directory fd may be close-on-exec: give ld-preld its own copy.
        let dup = ownfd::dup_for_exec(dirfd as i32)?;
        close_fd = Some(dup);
        let mut p = Vec::from(&b"/proc/self/fd/"[..]);
        push_int(&mut p, dup as i64);
        if !name.is_empty() {
            p.push(b'/');
            p.extend_from_slice(name);
        }
        p
    } else {
        pathmap::map_bytes(name).unwrap_or_else(|| name.to_vec())
    };
    if exec_fd < 0 {
        if let Err(e) = check(&file, 0) {
            if let Some(fd) = close_fd {
                sys::close(fd);
            }
            return Err(e);
        }
    }

    // argv: the application's strings stay where they are (the kernel copies
    // them); only preld's own arguments are new.
    let mut app_argv: Vec<usize> = Vec::new();
    if argv != 0 {
        loop {
            let mut p = [0usize; 1];
            if !usermem::read_words(argv + 8 * app_argv.len(), &mut p) {
                return Err(EFAULT);
            }
            if p[0] == 0 {
                break;
            }
            if app_argv.len() >= MAX_ARGS {
                return Err(E2BIG);
            }
            app_argv.push(p[0]);
        }
    }
    strings.push(cfg.loader.clone());
    let tracing = config::tracing();
    let mut skip_value = false;
    for o in &cfg.replay {
        if skip_value {
            skip_value = false;
            continue;
        }
        // The trace fd is given anew below: it moved when it was adopted.
        // Not tracing any more (a fork child without -f): no trace options,
        // and no tampering, which strace makes only on traced calls.
        if o == b"--trace-fd\0" || (!tracing && (o.starts_with(b"--trace-") || o == b"--inject\0")) {
            skip_value = config::takes_value(o.strip_suffix(b"\0").unwrap_or(o));
            continue;
        }
        strings.push(o.clone());
    }
    if let (true, Some(owner)) = (tracing, trace::ff_owner()) {
        strings.push(b"--trace-ff-owner\0".to_vec());
        strings.push(int_arg(owner as i64));
    }
    if tracing && cfg.trace.as_ref().is_some_and(|tr| tr.more.json) {
        strings.push(b"--trace-json-seq\0".to_vec());
        strings.push(int_arg(trace::json_seq() as i64));
    }
    if tracing && !cfg.inject.is_empty() {
        // -e inject=...:when= counts on across the exec, as strace's do.
        let mut counts = Vec::new();
        for (nr, &n) in c.t.inject_count.iter().enumerate().filter(|(_, n)| **n != 0) {
            if !counts.is_empty() {
                counts.push(b',');
            }
            counts.extend_from_slice(&int_arg(nr as i64)[..]);
            counts.pop();
            counts.push(b'=');
            counts.extend_from_slice(&int_arg(n as i64));
            counts.pop();
        }
        counts.push(0);
        strings.push(b"--inject-counts\0".to_vec());
        strings.push(counts);
    }
    if tracing {
        strings.push(b"--trace-fd\0".to_vec());
        strings.push(int_arg(ownfd::get(ownfd::TRACE) as i64));
        strings.push(b"--trace-root\0".to_vec());
        strings.push(int_arg(trace::root() as i64));
    }
    let mut keep = alloc::vec![ownfd::get(ownfd::TRACE), -1, -1];
    if tracer::active() {
        // The hub's main connection, shared by every process of the program.
        keep[2] = tracer::main_fd();
        strings.push(b"--tracer-fd\0".to_vec());
        strings.push(int_arg(keep[2] as i64));
    }
    if rpc::active() {
        let conn = rpc::conn(c.t, *c.uc.sigmask())?;
        keep[1] = conn;
        for (opt, v) in [(&b"--rpc-fd\0"[..], conn), (&b"--exec-fd\0"[..], exec_fd)] {
            strings.push(opt.to_vec());
            strings.push(int_arg(v as i64));
        }
        if interp_fd >= 0 {
            strings.push(b"--interp-fd\0".to_vec());
            strings.push(int_arg(interp_fd as i64));
        }
        strings.push(b"--sandboxed\0".to_vec());
        if crate::sud::seccomp_filtered() {
            strings.push(b"--app-seccomp\0".to_vec());
        }
        strings.push(b"--cwd\0".to_vec());
        let mut cwd = crate::pola::cwd(c.t);
        cwd.push(0);
        strings.push(cwd);
        crate::beneath::exec_args(&mut strings, &mut keep);
        if config::get().net {
            strings.push(b"--net\0".to_vec());
        }
    }
    let sigsys = crate::signals::exec_state(c.t);
    if sigsys != 0 {
        strings.push(b"--sigsys\0".to_vec());
        strings.push(int_arg(sigsys as i64));
    }
    if let Some(fd) = close_fd {
        strings.push(b"--close-fd\0".to_vec());
        strings.push(int_arg(fd as i64));
    }
    // AT_EXECFN as the kernel gives it: the name as passed, or /dev/fd/N[/NAME].
    let execfn: Vec<u8> = if execveat && dirfd != AT_FDCWD as usize && !name.starts_with(b"/") {
        let mut v = b"/dev/fd/".to_vec();
        push_int(&mut v, dirfd as i32 as i64);
        if !name.is_empty() {
            v.push(b'/');
            v.extend_from_slice(name);
        }
        v
    } else {
        name.to_vec()
    };
    strings.push(b"--execfn\0".to_vec());
    let mut e = execfn;
    e.push(0);
    strings.push(e);
    strings.push(b"--argv0\0".to_vec());
    let argv0_at = strings.len();
    if app_argv.is_empty() {
        strings.push(b"\0".to_vec());
    }
    let mut f = file;
    f.push(0);
    strings.push(b"--\0".to_vec());
    strings.push(f);

    let mut new_argv: Vec<usize> = strings.iter().map(|s| s.as_ptr() as usize).collect();
    if let Some(&a0) = app_argv.first() {
        new_argv.insert(argv0_at, a0);
    }
    new_argv.extend(app_argv.iter().skip(1));
    new_argv.push(0);

    let prep = alloc::boxed::Box::new(Prepared { strings, argv: new_argv, keep, exec_fd, interp_fd });
    c.args = [prep.strings[0].as_ptr() as usize, prep.argv.as_ptr() as usize, envp, 0, 0, 0];
    c.nr = Sysno::execve as usize;
    free_prepared(c.t);
    ownfd::before_exec(&prep.keep);
    c.t.exec_alloc = alloc::boxed::Box::into_raw(prep) as usize;
    for fd in [exec_fd, interp_fd] {
        if fd >= 0 {
            let _ = sys::fcntl(fd, F_SETFD, 0); // crosses the exec
        }
    }
    Ok(())
}


fn int_arg(n: i64) -> Vec<u8> {
    let mut v = Vec::new();
    push_int(&mut v, n);
    v.push(0);
    v
}

fn push_int(v: &mut Vec<u8>, mut n: i64) {
    let mut d = [0u8; 20];
    let mut i = d.len();
    if n == 0 {
        v.push(b'0');
        return;
    }
    while n > 0 {
        i -= 1;
        d[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    v.extend_from_slice(&d[i..]);
}

/// In a session: the server's verdict on executing `name` (relative to
/// `dirfd` for execveat): the virtual path and an fd of the file.
fn session_exec(t: &mut ThreadBlock, dirfd: usize, name: &[u8]) -> Result<(Vec<u8>, i32), i32> {
    use preld_proto::{PathArg, ReplyData, Request};
    // /proc/self/exe is the program (a session's procfs is no place the
    // server resolves in): a program running itself again.
    let program = &config::get().program;
    let program = program.strip_suffix(b"\0").unwrap_or(program);
    let self_exe = pathmap::is_self_exe(name) && program.first() == Some(&b'/');
    let name = if self_exe { program } else { name };
    let at_fd = dirfd != AT_FDCWD as usize && !name.starts_with(b"/");
    if at_fd && ownfd::is_own(dirfd) {
        return Err(EBADF); // no fd of the program's (a directory grant's fd)
    }
    // A relative name is the process's cwd's (the client keeps it: the
    // connection's on the server may lag behind).
    let absolute;
    let path = if at_fd {
        PathArg::fd(0, name)
    } else if name.is_empty() || name.starts_with(b"/") {
        PathArg::cwd(name)
    } else {
        let mut v = pola::cwd(t);
        if !v.ends_with(b"/") {
            v.push(b'/');
        }
        v.extend_from_slice(name);
        absolute = v;
        PathArg::cwd(&absolute)
    };
    // A name that is not there, in a grant the process resolves in or in
    // a virtual directory (execvp's PATH search): ENOENT without asking.
    if !at_fd && pola::nothing_at(path.path) {
        return Err(crate::errno::ENOENT);
    }
    let dir = [dirfd as i32];
    let mut buf = [0u8; 2 * PATH_MAX + 64];
    let conn = rpc::conn(t, u64::MAX)?;
    let (reply, fd) = rpc::call_on(conn, &Request::Exec { path }, if at_fd { &dir } else { &[] }, &mut buf, true)?;
    if reply.result < 0 {
        return Err(-reply.result as i32);
    }
    match (reply.data, fd) {
        // The program renamed, removed or replaced at its path (in a
        // read-write grant) since it started: never another file as
        // itself. (Natively the link still runs the old file.)
        (ReplyData::Exec { .. }, Some(fd)) if self_exe && pola::file_id(fd) != config::get().program_id => {
            sys::close(fd);
            Err(crate::errno::ENOENT)
        }
        (ReplyData::Exec { vpath, .. }, Some(fd)) => Ok((vpath.to_vec(), fd)),
        (_, fd) => {
            if let Some(fd) = fd {
                sys::close(fd);
            }
            Err(EIO)
        }
    }
}

/// The kernel's verdict on executing `path`, without executing it.
fn check(path: &[u8], depth: usize) -> Result<(), i32> {
    if depth > 4 {
        return Err(ELOOP);
    }
    let c = CPath::new(path);
    let fd = sys::open(&c, abi::O_RDONLY | abi::O_CLOEXEC)?;
    let file = Fd(fd);
    sys::access(&c, abi::X_OK)?;
    let elf_interp = check_open(fd, depth, &|interp, depth| check(interp, depth))?;
    drop(file);
    if let Some(interp) = elf_interp {
        // The kernel fails with ENOENT when the ELF interpreter is missing.
        drop(Fd(sys::open(&CPath::new(&interp), abi::O_RDONLY | abi::O_CLOEXEC)?));
    }
    Ok(())
}

/// The same for a file the server opened (its grant says it may run).
fn check_fd(t: &mut ThreadBlock, fd: i32, depth: usize) -> Result<Option<Vec<u8>>, i32> {
    let t = core::cell::RefCell::new(t);
    check_open(fd, depth, &|interp, depth| {
        if depth > 4 {
            return Err(ELOOP);
        }
        let (_, f) = session_exec(&mut t.borrow_mut(), AT_FDCWD as usize, interp)?;
        let r = check_fd(&mut t.borrow_mut(), f, depth);
        sys::close(f);
        r.map(|_| ())
    })
}

/// What both checks share: a regular file, an ELF ld-preld can load or a
/// `#!` script whose interpreter `interp` accepts. Returns the ELF's
/// PT_INTERP, if any.
fn check_open(fd: i32, depth: usize, interp: &dyn Fn(&[u8], usize) -> Result<(), i32>) -> Result<Option<Vec<u8>>, i32> {
    let st = sys::fstat(fd)?;
    if st.mode & abi::S_IFMT != abi::S_IFREG {
        return Err(EACCES);
    }
    let mut head = [0u8; shebang::PEEK];
    let n = sys::pread(fd, &mut head, 0)?;
    let head = &head[..n];
    if let Some(sb) = shebang::parse(head) {
        let sb = sb.map_err(|_| ENOEXEC)?;
        return interp(sb.interpreter, depth + 1).map(|_| None);
    }
    let src = SizedFd { fd, size: st.size };
    Ok(elf::plan(&src).map_err(|_| ENOEXEC)?.interp)
}

struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        sys::close(self.0);
    }
}

struct SizedFd {
    fd: i32,
    size: u64,
}

impl FileSource for SizedFd {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, off: u64, buf: &mut [u8]) -> Result<(), i32> {
        match sys::pread(self.fd, buf, off) {
            Ok(n) if n == buf.len() => Ok(()),
            Ok(_) => Err(0),
            Err(e) => Err(e),
        }
    }
}

/// readlink and readlinkat in the handler gate, without a trap: the
/// kernel's, unless the path is one `readlink` answers (None: the trap
/// path's). A path that cannot be read here, or is longer than any such
/// name, is the kernel's too (EFAULT is its answer). The names are
/// absolute: readlinkat's directory fd plays no part (the kernel ignores
/// it; from the gate, readlinkat(fd, "/proc/self/exe") named ld-preld).
pub fn readlink_in_gate(nr: usize, a: [usize; 6]) -> Option<isize> {
    let path = if nr == Sysno::readlink as usize { a[0] } else { a[1] };
    let mut name = [0u8; 64];
    if usermem::read_cstr(path, &mut name).is_some_and(|n| pathmap::is_self_exe(&name[..n])) {
        return None;
    }
    // SAFETY: the application's own readlink with its own arguments, as
    // the trap path makes it (`Outcome::Real`): the kernel writes the
    // application's buffer.
    Some(unsafe { sys::raw(nr, a) }.map_or_else(|e| -(e as isize), |v| v as isize))
}

/// readlink of /proc/self/exe names the program, not ld-preld. The name
/// is absolute: readlinkat's directory fd plays no part (the kernel
/// ignores it; made as the kernel's, pathmap's rewrite to the program's
/// file answered EINVAL).
pub fn readlink(c: &mut Call<'_>) -> Outcome {
    let (path, buf, len) = if c.nr == Sysno::readlink as usize {
        (c.args[0], c.args[1], c.args[2])
    } else {
        (c.args[1], c.args[2], c.args[3])
    };
    let mut name = [0u8; 64];
    let Some(n) = usermem::read_cstr(path, &mut name) else { return Outcome::Real };
    if !pathmap::is_self_exe(&name[..n]) {
        return Outcome::Real;
    }
    let prog = &config::get().program;
    if prog.is_empty() {
        return Outcome::Real;
    }
    // The kernel's bufsiz is an int: EINVAL unless positive (the length
    // as given had readlink(.., 0) answer 0 and a negative one the whole
    // path).
    let len = len as i32;
    if len <= 0 {
        return Outcome::err(EINVAL);
    }
    let n = prog.len().min(len as usize);
    if !usermem::write(buf, &prog[..n]) {
        return Outcome::err(EFAULT);
    }
    Outcome::Return(n as isize)
}
