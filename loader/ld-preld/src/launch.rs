//! The two ways ld-preld starts a program: as a launcher (it finds, checks and
//! maps the program itself) and as a PT_INTERP (the kernel mapped the program;
//! ld-preld maps the program's original interpreter).

use alloc::vec::Vec;
use preld_loader::elf::{self, FileSource, LoadPlan};
use preld_loader::stack::{self, AuxVal, Str};
use preld_loader::{path, shebang};

use crate::diag::{fail, Errno, EXIT_CANNOT_RUN, EXIT_NOT_FOUND};
use crate::initial::*;
use crate::map::{self, Mapped};
use crate::errno::{EACCES, EINTR, EISDIR, ENOENT};
use crate::sys::{self, CPath};
use crate::{abi, proc_self};
use preld_handler::config::Config;

/// How many `#!` scripts may nest: the kernel's exec_binprm() runs a chain of
/// 5 and fails the 6th with ELOOP (more than its BINPRM_MAX_RECURSION of 4).
const MAX_SCRIPT_DEPTH: usize = 5;
/// x86_64's standard ld.so, for a program given ld-preld as PT_INTERP by hand.
const DEFAULT_INTERP: &[u8] = b"/lib64/ld-linux-x86-64.so.2";

const USAGE: &str = "usage: ld-preld [--] PROGRAM [ARGS...]\n\
Runs PROGRAM (looked up in PATH when it has no slash) with preld's loader.\n\
Users normally run `preld run -- PROGRAM ARGS...`.\n";

/// An open file being loaded.
struct File {
    fd: i32,
    size: u64,
    /// In a session, the virtual path the server found the program at, its
    /// symlinks followed: what /proc/self/exe names, as the kernel's link
    /// names the file itself (`/usr/bin/python3` runs as
    /// `/usr/bin/python3.11`, `./prog` as an absolute path).
    name: Option<Vec<u8>>,
}

impl FileSource for File {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_exact_at(&self, mut off: u64, mut buf: &mut [u8]) -> Result<(), i32> {
        while !buf.is_empty() {
            match sys::pread(self.fd, buf, off) {
                Ok(0) => return Err(0),
                Ok(n) => {
                    off += n as u64;
                    buf = &mut buf[n..];
                }
                Err(EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Drop for File {
    fn drop(&mut self) {
        sys::close(self.fd);
    }
}

/// Opens a file to execute, with the checks execve(2) makes, failing with
/// `missing` as the exit status if it does not exist.
fn open_executable(path: &[u8], missing: i32) -> File {
    if let Some(conn) = session() {
        return session_open(conn, path, true, missing);
    }
    let c = CPath::new(path);
    let mut file = match sys::open(&c, abi::O_RDONLY | abi::O_CLOEXEC) {
        Ok(fd) => File { fd, size: 0, name: None },
        Err(ENOENT) => fail(missing, path, Errno(ENOENT)),
        Err(e) => fail(EXIT_CANNOT_RUN, path, Errno(e)),
    };
    let st = match sys::fstat(file.fd) {
        Ok(st) => st,
        Err(e) => fail(EXIT_CANNOT_RUN, path, Errno(e)),
    };
    match st.mode & abi::S_IFMT {
        abi::S_IFREG => {}
        abi::S_IFDIR => fail(EXIT_CANNOT_RUN, path, Errno(EISDIR)),
        _ => fail(EXIT_CANNOT_RUN, path, "not a regular file"),
    }
    if let Err(e) = sys::access(&c, abi::X_OK) {
        fail(EXIT_CANNOT_RUN, path, Errno(e));
    }
    file.size = st.size;
    file
}

/// Resolves a command name as a shell does: a name with a slash is a path;
/// otherwise the first executable regular file in PATH. A match that is
/// not executable is reported as such if nothing better follows.
fn resolve(name: &[u8], init: &Initial) -> Vec<u8> {
    if name.is_empty() {
        fail(EXIT_NOT_FOUND, b"''", Errno(ENOENT));
    }
    if path::has_slash(name) {
        return name.to_vec();
    }
    let search = init.env(b"PATH").unwrap_or(path::DEFAULT_PATH);
    let mut denied = None;
    for cand in path::candidates(search, name) {
        let c = CPath::new(&cand);
        match sys::stat(&c) {
            Ok(st) if st.mode & abi::S_IFMT == abi::S_IFREG => {
                if sys::access(&c, abi::X_OK).is_ok() {
                    return cand;
                }
                denied.get_or_insert(cand);
            }
            _ => {}
        }
    }
    match denied {
        Some(path) => fail(EXIT_CANNOT_RUN, &path, Errno(EACCES)),
        None => fail(EXIT_NOT_FOUND, name, "command not found"),
    }
}

fn leak(bytes: &[u8]) -> &'static [u8] {
    Vec::leak(bytes.to_vec())
}

/// Plans a file as an ELF program, or fails naming it.
fn plan_or_fail(file: &File, path: &[u8]) -> LoadPlan {
    match elf::plan(file) {
        Ok(plan) => plan,
        Err(e) => fail(EXIT_CANNOT_RUN, path, e),
    }
}

fn map_or_fail(file: &File, plan: &LoadPlan, path: &[u8]) -> Mapped {
    match map::map_image(file.fd, plan) {
        Ok(m) => m,
        Err(e) => match e.errno {
            0 => fail(EXIT_CANNOT_RUN, path, e.what),
            n => {
                let mut b = crate::rt::Buf::<160>::new();
                b.push_bytes(b"cannot ");
                b.push_bytes(e.what.as_bytes());
                b.push_bytes(b": ");
                b.push_bytes(preld_handler::errno::message(n).as_bytes());
                fail(EXIT_CANNOT_RUN, path, core::str::from_utf8(b.as_bytes()).unwrap_or("cannot map"))
            }
        },
    }
}

/// Opens, plans and maps a program's interpreter (its ld.so).
fn load_interpreter(interp: &[u8], program: &[u8]) -> Mapped {
    let file = match session() {
        Some(conn) => session_open(conn, interp, false, EXIT_CANNOT_RUN),
        None => open_executable(interp, EXIT_CANNOT_RUN),
    };
    map_interpreter(file, interp, program)
}

/// `load_interpreter` of the interpreter opened already as `fd`
/// (`--interp-fd`: the exec that started this image opened it).
fn load_interpreter_from(fd: i32, interp: &[u8], program: &[u8]) -> Mapped {
    let file = match sys::fstat(fd) {
        Ok(st) if st.mode & abi::S_IFMT == abi::S_IFREG => File { fd, size: st.size, name: None },
        Ok(_) => fail(EXIT_CANNOT_RUN, interp, Errno(EACCES)),
        Err(e) => fail(EXIT_CANNOT_RUN, interp, Errno(e)),
    };
    map_interpreter(file, interp, program)
}

fn map_interpreter(file: File, interp: &[u8], program: &[u8]) -> Mapped {
    let plan = match elf::plan(&file) {
        Ok(plan) => plan,
        Err(e) => {
            let mut b = crate::rt::Buf::<256>::new();
            let _ = core::fmt::Write::write_fmt(&mut b, format_args!("{e} (interpreter of "));
            b.push_bytes(program);
            b.push_bytes(b")");
            fail(EXIT_CANNOT_RUN, interp, core::str::from_utf8(b.as_bytes()).unwrap_or("bad interpreter"))
        }
    };
    map_or_fail(&file, &plan, interp)
}

/// `ld-preld [OPTIONS] [--] PROG ARGS...`: the kernel started ld-preld itself.
pub fn launcher(init: Initial) -> ! {
    let args: Vec<&'static [u8]> = (1..init.argc()).map(|i| init.arg(i)).collect();
    if matches!(args.first().copied(), Some(b"--help" | b"-h")) {
        let _ = sys::write(1, USAGE.as_bytes());
        sys::exit_group(0);
    }
    let (mut cfg, launch) = match Config::parse(&args) {
        Ok(v) => v,
        Err(why) => fail(EXIT_NOT_FOUND, b"", format_args!("{why}\n{USAGE}")),
    };
    SESSION.store(cfg.rpc_fd.unwrap_or(-1), core::sync::atomic::Ordering::Relaxed);
    if let Some(cwd) = &cfg.cwd {
        SESSION_CWD.store(alloc::boxed::Box::into_raw(alloc::boxed::Box::new(cwd.clone())), core::sync::atomic::Ordering::Release);
    }
    let first = launch.program + 1;
    if first >= init.argc() {
        fail(EXIT_NOT_FOUND, b"", format_args!("missing program name\n{USAGE}"));
    }

    // With --argv0 (an exec re-entering ld-preld), PROG is a path as
    // execve(2) takes it, never searched in PATH; in a session, paths are
    // the server's (the launcher resolved PROG).
    let execfn = match launch.argv0 {
        Some(_) => init.arg(first),
        None if session().is_some() => init.arg(first),
        None => leak(&resolve(init.arg(first), &init)),
    };
    let mut argv: Vec<Str<'static>> = (first..init.argc()).map(|i| Str::At(init.arg_ptr(i))).collect();
    if let Some(a0) = launch.argv0 {
        argv[0] = Str::New(a0);
    }

    // The trace's first line shows the exec as it was asked for, before the
    // `#!` lines below rewrite argv.
    let shown: Vec<&[u8]> = argv
        .iter()
        .map(|a| match *a {
            Str::New(b) => b,
            // SAFETY: an argv string of the kernel's stack, NUL-terminated.
            Str::At(p) => unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char).to_bytes() },
        })
        .collect();

    // Follow `#!` lines to the ELF program that really runs.
    let mut path = execfn;
    let mut depth = 0;
    let (plan, file) = loop {
        let file = match (depth, launch.exec_fd) {
            // The server handed the program over with the exec.
            (0, Some(fd)) => match sys::fstat(fd) {
                Ok(st) => File { fd, size: st.size, name: None },
                Err(e) => fail(EXIT_CANNOT_RUN, path, Errno(e)),
            },
            _ => open_executable(path, if depth == 0 { EXIT_NOT_FOUND } else { EXIT_CANNOT_RUN }),
        };
        let mut head = [0u8; shebang::PEEK];
        let n = (file.size as usize).min(head.len());
        if let Err(e) = file.read_exact_at(0, &mut head[..n]) {
            fail(EXIT_CANNOT_RUN, path, Errno(if e == 0 { 5 } else { e }));
        }
        match shebang::parse(&head[..n]) {
            None => break (plan_or_fail(&file, path), file),
            Some(Err(e)) => fail(EXIT_CANNOT_RUN, path, e.message()),
            Some(Ok(sb)) => {
                depth += 1;
                if depth > MAX_SCRIPT_DEPTH {
                    fail(EXIT_CANNOT_RUN, execfn, "too many levels of #! interpreters");
                }
                // The kernel's argv for a script: interpreter, its optional
                // argument, the script's path, then the script's arguments.
                let interp = leak(sb.interpreter);
                let mut new = Vec::with_capacity(argv.len() + 2);
                new.push(Str::New(interp));
                if let Some(arg) = sb.argument {
                    new.push(Str::New(leak(arg)));
                }
                // The script's path as the kernel gives it (`--execfn`:
                // the name execve got, /dev/fd/N[/NAME] for execveat),
                // not PROG: in a session the server's virtual path, else
                // /proc/self/fd/M of a copy of the fd that ld-preld closes.
                let script = match (depth, launch.execfn) {
                    (1, Some(name)) => name,
                    _ => path,
                };
                new.push(Str::New(script));
                new.extend_from_slice(&argv[1..]);
                argv = new;
                path = interp;
            }
        }
    };
    let program = map_or_fail(&file, &plan, path);
    let eh_frame = eh_frame_section(&file, &plan, program.bias);
    cfg.program = match session() {
        Some(_) => file.name.clone().unwrap_or_else(|| path.to_vec()),
        None => canonical(file.fd).unwrap_or_else(|| absolute(path)),
    };
    // (Only a session re-resolves the program's path for /proc/self/exe.)
    cfg.program_id = session().and_then(|_| preld_handler::pola::file_id(file.fd));
    drop(file);
    if let Some(fd) = launch.close_fd {
        sys::close(fd);
    }
    // (The exec that started this image opened the program's PT_INTERP
    // already, in a session: not for an interpreter of a `#!` line's.)
    let interp_fd = launch.interp_fd.filter(|_| session().is_some() && depth == 0);
    if let (Some(fd), None) = (launch.interp_fd, interp_fd) {
        sys::close(fd);
    }
    let interp = plan.interp.as_deref().map(|i| match interp_fd {
        Some(fd) => load_interpreter_from(fd, i, path),
        None => load_interpreter(i, path),
    });
    if interp.is_none() && plan.exec_stack {
        map::make_stack_executable(init.sp);
    }

    cfg.loader = own_path(&init);
    cfg.virtual_exe = session().is_none();
    fast_from_env(&mut cfg, &init);
    let vdso = start_handler(cfg, &init, path);
    preld_handler::note_program(Some(program.bias), program.phdr, plan.phnum as usize, eh_frame);
    if let Some(m) = interp.as_ref() {
        preld_handler::note_interpreter(m.bias);
    }
    preld_handler::announce_exec(launch.execfn.unwrap_or(execfn), &shown, init.envp_addr(), init.env_ptrs().count());

    let auxv: Vec<(usize, AuxVal<'static>)> = init
        .auxv()
        .iter()
        .map(|&[key, val]| {
            let v = match key {
                AT_PHDR => AuxVal::Word(program.phdr),
                AT_PHENT => AuxVal::Word(56),
                AT_PHNUM => AuxVal::Word(plan.phnum as usize),
                AT_BASE => AuxVal::Word(interp.as_ref().map_or(0, |m| m.bias)),
                AT_ENTRY => AuxVal::Word(program.entry),
                AT_EXECFN => AuxVal::Str(Str::New(launch.execfn.unwrap_or(execfn))),
                AT_SYSINFO_EHDR => AuxVal::Word(vdso),
                _ => AuxVal::Word(val),
            };
            (key, v)
        })
        .collect();
    let envp: Vec<usize> = init.env_ptrs().collect();
    let stack_end = init.sp & !15;
    let argv = proc_self::one_run(argv);
    let image = stack::build(stack_end, &argv, &envp, &auxv);
    proc_self::show_program(&image, stack_end, &argv, &envp, &plan, program.bias);
    let entry = interp.as_ref().map_or(program.entry, |m| m.entry);
    // The thread's name, as the kernel sets it at exec: the basename of the
    // path executed (ps and top show it; /proc/self/comm).
    let shown_name = launch.execfn.unwrap_or(execfn);
    let base = shown_name.rsplit(|&c| c == b'/').next().unwrap_or(shown_name);
    let mut comm = [0u8; 16];
    let n = base.len().min(15);
    comm[..n].copy_from_slice(&base[..n]);
    let _ = sys::set_thread_name(&comm);
    if let Some(m) = interp.as_ref() {
        rewrite_interpreter_or_fail(m, execfn);
    }
    arm_or_fail(execfn);
    // SAFETY: the image is on the heap, its length a multiple of 16; the
    // initial stack has room below argc (the loader's frames lived there);
    // `entry` belongs to the image(s) just mapped for this stack.
    unsafe { preld_arch::enter_program(entry, image.bytes.as_ptr(), image.bytes.len(), stack_end) }
}

/// ld-preld as PT_INTERP of a patched program: the kernel mapped the program
/// and described it in auxv; map its original interpreter and enter that.
pub fn as_interpreter(init: &mut Initial) -> ! {
    let execfn: &[u8] = match init.aux(AT_EXECFN) {
        // SAFETY: AT_EXECFN points at the NUL-terminated path on the stack.
        Some(p) if p != 0 => unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char).to_bytes() },
        _ => b"program",
    };
    let (phdr, phnum) = match (init.aux(AT_PHDR), init.aux(AT_PHNUM)) {
        (Some(p), Some(n)) if p != 0 && n > 0 && n <= 4096 / 56 => (p, n),
        _ => fail(EXIT_CANNOT_RUN, execfn, "no program headers in the auxiliary vector"),
    };
    // SAFETY: the kernel mapped the program and points AT_PHDR at its
    // program headers, AT_PHNUM of them; they stay mapped read-only.
    let table = unsafe { core::slice::from_raw_parts(phdr as *const u8, phnum * 56) };
    let interp = match elf::recorded_interpreter(table, phdr) {
        Ok(Some((addr, len))) => {
            // SAFETY: recorded_interpreter checked that the string lies in the
            // file-backed part of one of the program's PT_LOADs.
            let s = unsafe { core::slice::from_raw_parts(addr as *const u8, len) };
            match s.split_last() {
                Some((0, path)) if !path.is_empty() && !path.contains(&0) => path,
                _ => fail(EXIT_CANNOT_RUN, execfn, "corrupt recorded interpreter path"),
            }
        }
        Ok(None) => DEFAULT_INTERP,
        Err(why) => fail(EXIT_CANNOT_RUN, execfn, why),
    };
    let m = load_interpreter(interp, execfn);
    init.set_aux(AT_BASE, m.bias);
    let mut cfg = Config::default();
    cfg.loader = nul(own_interp_path(table, phdr).unwrap_or(b"/proc/self/exe"));
    cfg.program = {
        let mut b = [0u8; 4096];
        match sys::readlink(&CPath::new(b"/proc/self/exe"), &mut b) {
            Ok(n) => b[..n].to_vec(),
            Err(_) => execfn.to_vec(),
        }
    };
    fast_from_env(&mut cfg, init);
    let vdso = start_handler(cfg, init, execfn);
    preld_handler::note_program(None, phdr, phnum, None);
    preld_handler::note_interpreter(m.bias);
    init.set_aux(AT_SYSINFO_EHDR, vdso);
    rewrite_interpreter_or_fail(&m, execfn);
    arm_or_fail(execfn);
    // SAFETY: an empty image: rsp goes back to the kernel's argc, with the
    // auxv updated in place; `entry` is the interpreter just mapped.
    unsafe { preld_arch::enter_program(m.entry, core::ptr::null(), 0, init.sp) }
}

/// The program's .eh_frame section (address, size) when it has no
/// PT_GNU_EH_FRAME (static executables): the fast path finds function
/// starts there. Read from the section headers, which are not mapped.
fn eh_frame_section(file: &File, plan: &LoadPlan, bias: usize) -> Option<(usize, usize)> {
    use preld_handler::fast::funcs::PT_GNU_EH_FRAME;
    if plan.program_headers.iter().any(|p| p.p_type == PT_GNU_EH_FRAME) {
        return None;
    }
    let mut eh = [0u8; 64];
    file.read_exact_at(0, &mut eh).ok()?;
    let word = |b: &[u8], at: usize| -> Option<u64> { Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)) };
    let size = |b: &[u8], at: usize| -> Option<usize> { usize::try_from(word(b, at)?).ok() };
    let half = |b: &[u8], at: usize| Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize);
    let (shoff, shentsize, shnum, shstrndx) = (word(&eh, 0x28)?, half(&eh, 0x3a)?, half(&eh, 0x3c)?, half(&eh, 0x3e)?);
    if shentsize != 64 || shnum == 0 || shnum > 4096 || shstrndx >= shnum {
        return None;
    }
    let mut sh = alloc::vec![0u8; shnum * 64];
    file.read_exact_at(shoff, &mut sh).ok()?;
    let strtab = sh.get(shstrndx * 64..shstrndx * 64 + 64)?;
    let (str_off, str_size) = (word(strtab, 0x18)?, size(strtab, 0x20)?);
    let mut names = alloc::vec![0u8; str_size.min(1 << 20)];
    file.read_exact_at(str_off, &mut names).ok()?;
    sh.chunks_exact(64).find_map(|s| {
        let name = u32::from_le_bytes(s[0..4].try_into().ok()?) as usize;
        let n = names.get(name..)?;
        let n = &n[..n.iter().position(|&c| c == 0)?];
        let (addr, len) = (size(s, 0x10)?, size(s, 0x20)?);
        (n == b".eh_frame" && addr != 0 && len != 0).then(|| (bias.wrapping_add(addr), len))
    })
}

/// PRELD_FAST=0 turns the fast path off and PRELD_STATS=1 makes each
/// process report its calls at exit, in every way preld is started (a
/// program with ld-preld as PT_INTERP has no options).
fn fast_from_env(cfg: &mut Config, init: &Initial) {
    for p in init.env_ptrs() {
        // SAFETY: an environment string of the kernel's stack, NUL-terminated.
        let e = unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char).to_bytes() };
        match e {
            b"PRELD_FAST=0" => cfg.no_fast = true,
            b"PRELD_STATS=1" => cfg.fast_stats = true,
            _ => {}
        }
    }
}

/// Installs the handler; returns the program's AT_SYSINFO_EHDR.
fn start_handler(cfg: Config, init: &Initial, program: &[u8]) -> usize {
    unsafe extern "C" {
        static __ehdr_start: u8;
        static __preld_image_end: u8;
    }
    // Linker-defined symbols of our own image: only their addresses are taken.
    let image = (&raw const __ehdr_start as usize, &raw const __preld_image_end as usize);
    match preld_handler::start(cfg, image, init.aux(AT_SYSINFO_EHDR).unwrap_or(0)) {
        Ok(vdso) => vdso,
        Err((what, e)) => fail(EXIT_CANNOT_RUN, program, format_args!("{what}: {}", Errno(e))),
    }
}

fn rewrite_interpreter_or_fail(interp: &Mapped, program: &[u8]) {
    if let Err((what, e)) = preld_handler::rewrite_interpreter(&interp.file_backed) {
        fail(EXIT_CANNOT_RUN, program, format_args!("{what}: {}", Errno(e)));
    }
}

fn arm_or_fail(program: &[u8]) {
    if let Err((what, e)) = preld_handler::arm() {
        fail(EXIT_CANNOT_RUN, program, format_args!("{what}: {}", Errno(e)));
    }
}

fn nul(b: &[u8]) -> Vec<u8> {
    let mut v = b.to_vec();
    v.push(0);
    v
}

/// ld-preld's own absolute path, NUL-terminated, for re-entering it at exec.
/// The path the kernel was given (AT_EXECFN) when it is absolute, as it is
/// when preld or an exec under preld started ld-preld: reading
/// /proc/self/exe costs a path walk through procfs on every start.
fn own_path(init: &Initial) -> Vec<u8> {
    if let Some(p) = init.aux(AT_EXECFN).filter(|&p| p != 0) {
        // SAFETY: AT_EXECFN points at the NUL-terminated path on the stack.
        let given = unsafe { core::ffi::CStr::from_ptr(p as *const core::ffi::c_char).to_bytes() };
        if given.starts_with(b"/") {
            return nul(given);
        }
    }
    let mut b = [0u8; 4096];
    match sys::readlink(&CPath::new(b"/proc/self/exe"), &mut b) {
        Ok(n) => nul(&b[..n]),
        Err(_) => nul(b"/proc/self/exe"),
    }
}

/// The canonical path of an open file (its /proc/self/exe to be).
fn canonical(fd: i32) -> Option<Vec<u8>> {
    let mut p = Vec::from(&b"/proc/self/fd/"[..]);
    let mut d = [0u8; 12];
    let mut i = d.len();
    let mut n = fd as u32;
    loop {
        i -= 1;
        d[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    p.extend_from_slice(&d[i..]);
    let mut b = [0u8; 4096];
    let n = sys::readlink(&CPath::new(&p), &mut b).ok()?;
    Some(b[..n].to_vec())
}

fn absolute(path: &[u8]) -> Vec<u8> {
    if path.starts_with(b"/") {
        return path.to_vec();
    }
    let mut b = [0u8; 4096];
    match sys::getcwd(&mut b) {
        Ok(n) if n > 0 => {
            let mut v = b[..n - 1].to_vec();
            v.push(b'/');
            v.extend_from_slice(path);
            v
        }
        _ => path.to_vec(),
    }
}

/// In PT_INTERP mode, ld-preld's path is the program's PT_INTERP.
fn own_interp_path(table: &[u8], phdr: usize) -> Option<&'static [u8]> {
    let (addr, len) = elf::interp_in_memory(table, phdr)?;
    // SAFETY: interp_in_memory checked that the string lies in a PT_LOAD of
    // the program the kernel mapped.
    let s = unsafe { core::slice::from_raw_parts(addr as *const u8, len) };
    let (&last, path) = s.split_last()?;
    (last == 0 && !path.contains(&0)).then_some(path)
}

/// The capability session's connection, if ld-preld runs in one.
static SESSION: core::sync::atomic::AtomicI32 = core::sync::atomic::AtomicI32::new(-1);

/// The session's cwd as the exec gave it (`--cwd`), if it did: a leaked
/// Vec (set once, before any lookup).
static SESSION_CWD: core::sync::atomic::AtomicPtr<Vec<u8>> = core::sync::atomic::AtomicPtr::new(core::ptr::null_mut());

fn session_cwd() -> Option<&'static [u8]> {
    let p = SESSION_CWD.load(core::sync::atomic::Ordering::Acquire);
    // SAFETY: null, or a Box leaked by `launcher` and never freed.
    unsafe { p.as_ref() }.map(|v| v.as_slice())
}

fn session() -> Option<i32> {
    let fd = SESSION.load(core::sync::atomic::Ordering::Relaxed);
    (fd >= 0).then_some(fd)
}

/// Opens a file through the capability server: `exec` asks for a program
/// (its grant must allow running it), otherwise a plain read-only open.
fn session_open(conn: i32, path: &[u8], exec: bool, missing: i32) -> File {
    use preld_proto::{PathArg, Request};
    // A relative name (a `#!` line's) is the session's cwd's, which an
    // exec inside the session gives (`--cwd`); the first image's is the
    // connection's own.
    let absolute;
    let path = match session_cwd() {
        Some(cwd) if !path.is_empty() && !path.starts_with(b"/") => {
            absolute = [&cwd[..], if cwd.ends_with(b"/") { b"" } else { b"/" }, path].concat();
            &absolute[..]
        }
        _ => path,
    };
    let mut buf = [0u8; 2 * 4096 + 64];
    let req = if exec {
        Request::Exec { path: PathArg::cwd(path) }
    } else {
        Request::Open { flags: (abi::O_RDONLY | abi::O_CLOEXEC) as u32, mode: 0, path: PathArg::cwd(path) }
    };
    let (fd, name) = match preld_handler::rpc::call_on(conn, &req, &[], &mut buf, true) {
        Ok((r, Some(fd))) if r.result >= 0 => match r.data {
            preld_proto::ReplyData::Exec { vpath, .. } if vpath.first() == Some(&b'/') => (fd, Some(vpath.to_vec())),
            _ => (fd, None),
        },
        Ok((r, _)) if r.result < 0 => {
            let e = (-r.result) as i32;
            fail(if e == ENOENT { missing } else { EXIT_CANNOT_RUN }, path, Errno(e))
        }
        Ok(_) => fail(EXIT_CANNOT_RUN, path, "the capability server sent no file"),
        Err(e) => fail(EXIT_CANNOT_RUN, path, format_args!("capability server: {}", Errno(e))),
    };
    match sys::fstat(fd) {
        Ok(st) if st.mode & abi::S_IFMT == abi::S_IFREG => File { fd, size: st.size, name },
        Ok(_) => fail(EXIT_CANNOT_RUN, path, Errno(EACCES)),
        Err(e) => fail(EXIT_CANNOT_RUN, path, Errno(e)),
    }
}
