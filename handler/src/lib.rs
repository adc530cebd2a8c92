//! The resident handler of preld: once the loader has mapped a program, every
//! system call the program makes arrives here (trapped by Syscall User
//! Dispatch, or called directly through preld's vDSO), is served, and returns.
//!
//! Start-up order (see `start` and `arm`): thread block and stacks, the
//! configuration, the SIGSYS action, preld's vDSO; the trap is armed last,
//! just before the loader jumps to the program.
//!
//! The modules form layers, lowest first. A module uses only modules
//! listed before it, on its own line or an earlier one (tests/tests/tidy.rs
//! checks this; there is no cycle):
//!
//! ```text
//! kernel ABI, leaf services: abi errno sys lock heap inject trace_opts clock config ownfd beneath sigactions sud sandbox vdso
//! per-thread state, the call: thread call
//! services over threads:     resident usermem trace rpc owners tracer fast fds
//! the table's entries:       memory signals pathmap pola exec clone clockcalls
//! the transfer table:        dispatch
//! control from outside:      attach
//! the entry from the kernel: trap
//! ```
//!
//! The tracer is told of calls by `dispatch` and the two post traps
//! (`dispatch::tail_post`, `clone::parent_post`), and of signals where they
//! arrive (`signals::preld_signal`, `signals::foreign_sigsys`); entries
//! never call it.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod abi;
pub mod attach;
pub mod beneath;
pub mod call;
pub mod clock;
pub mod clockcalls;
pub mod clone;
pub mod config;
pub mod dispatch;
pub mod errno;
pub mod exec;
pub mod fast;
pub mod fds;
pub mod heap;
pub mod inject;
pub mod lock;
pub mod memory;
pub mod ownfd;
pub mod owners;
pub mod pathmap;
pub mod pola;
pub mod resident;
pub mod rpc;
pub mod sandbox;
pub mod sigactions;
pub mod signals;
pub mod sud;
pub mod sys;
pub mod thread;
pub mod trace;
pub mod tracer;
pub mod trace_opts;
pub mod trap;
pub mod usermem;
pub mod vdso;

/// Why the handler could not be installed: what failed and the errno.
pub type StartError = (&'static str, i32);

/// Installs the handler in the calling thread, the process's only one.
/// `image` is ld-preld's own address range, `kernel_vdso` the kernel's
/// AT_SYSINFO_EHDR (0 if none). Returns the program's AT_SYSINFO_EHDR.
pub fn start(cfg: config::Config, image: (usize, usize), kernel_vdso: usize) -> Result<usize, StartError> {
    let t = thread::start_main()?;
    usermem::set_pid(sys::getpid());
    resident::set_image(image.0, image.1);
    let mut cfg = cfg;
    if let Some(tr) = cfg.trace.as_mut() {
        tr.fd = ownfd::adopt(ownfd::TRACE, tr.fd).map_err(|e| ("bad --trace-fd", e))?;
    }
    let tracer_fd = cfg.tracer.as_ref().map(|t| t.fd).filter(|&fd| fd >= 0);
    // A seccomp filter of the program's own, which could trap a call made
    // in the handler (`sud::seccomp_filtered`): the kernel says so before
    // a session's filter is installed; in a session's later images (their
    // filter is there already, and only ever answers with an error) the
    // image before says so.
    let app_filter = if cfg.sandboxed { cfg.app_seccomp } else { sys::prctl_get_seccomp() != Ok(0) };
    if let Some(fd) = cfg.rpc_fd {
        let main = rpc::set_main(fd).map_err(|e| ("bad --rpc-fd", e))?;
        pola::init_cwd(main, cfg.cwd.take());
        owners::start_session();
        let grants = beneath::init(&cfg.beneath);
        beneath::set_names(core::mem::take(&mut cfg.vpaths));
        beneath::set_links(core::mem::take(&mut cfg.links));
        beneath::set_vdirs(&core::mem::take(&mut cfg.vdirs));
        beneath::arm_open_gate();
        if !cfg.sandboxed {
            let loader = cfg.loader.strip_suffix(b"\0").unwrap_or(&cfg.loader);
            sandbox::enter(loader, cfg.net || cfg.own_net, &grants)?;
        }
    }
    let vdso_traced = cfg.trace.as_ref().is_some_and(|t| t.vdso || t.more.vdso);
    for &(nr, n) in &cfg.inject_counts {
        t.inject_count[nr] = n;
    }
    fast::configure(!cfg.no_fast, cfg.fast_stats);
    signals::restore_exec_state(t, cfg.sigsys);
    if let Some(s) = &cfg.clock {
        // Before the fast path's gates are chosen: the time calls then trap.
        clock::set(s);
    }
    config::set(cfg);
    // Before the fast path's gates: calls the tracers want keep trapping.
    if let Some(fd) = tracer_fd {
        tracer::start(fd).map_err(|e| ("bad --tracer-fd", e))?;
    }
    if fast::enabled() {
        fast::set_gates_by_number(dispatch::fast_gate);
    }
    trace::start(t);
    if vdso_traced {
        vdso::set_observer(Some(trace::vdso_call));
    }
    if tracer::wants_vdso() {
        vdso::set_interceptor(Some(tracer::vdso_call));
    }
    sud::install_action().map_err(|e| ("cannot install the SIGSYS action", e))?;
    if app_filter {
        sud::set_seccomp_filtered();
        // (A filter from before its exec may have a listener, which may
        // replace fds unseen, or trap calls the gates make: signals::seccomp.)
        beneath::fd_numbers_unknowable();
    }
    signals::show_fatal_signals(t);
    // SAFETY: kernel_vdso is the kernel's vDSO or 0, as the caller says.
    let vdso = unsafe { vdso::install_default(kernel_vdso) }.map_err(|e| ("cannot map preld's vDSO", e))?;
    Ok(vdso)
}

/// Turns the trap on for the calling thread: from here on, every system
/// call outside preld's gate is served by the handler.
pub fn arm() -> Result<(), StartError> {
    sud::arm().map_err(|e| ("cannot enable Syscall User Dispatch", e))
}

/// The program preld mapped (load bias, None: from its PT_PHDR; program
/// headers in memory; its .eh_frame's address and size when the loader
/// found the section and no .eh_frame_hdr), whose code the fast path may
/// rewrite.
pub fn note_program(bias: Option<usize>, phdr: usize, phnum: usize, eh_frame: Option<(usize, usize)>) {
    fast::note_program(bias, phdr, phnum, eh_frame);
}

/// The dynamic linker preld mapped, at `bias` (its ELF header): its code
/// runs before the link map that lists it is reachable.
pub fn note_interpreter(bias: usize) {
    fast::note_interpreter(bias);
}

/// Rewrites the system-call sites of the dynamic linker noted by
/// `note_interpreter` before it runs (the fast path's, when it is on);
/// `plain`: its readable, file-backed extents in memory.
pub fn rewrite_interpreter(plain: &[(usize, usize)]) -> Result<(), StartError> {
    fast::rewrite_interpreter(plain, dispatch::fast_gate).map_err(|e| ("cannot rewrite the dynamic linker's system calls", e))
}

/// The traced program's first line (ld-preld calls it at startup).
pub fn announce_exec(path: &[u8], argv: &[&[u8]], envp: usize, envc: usize) {
    if config::tracing() {
        // SAFETY: called after `start`, before the program runs: the only
        // preld code on this thread.
        let t = unsafe { thread::current() };
        trace::announce_exec(t, path, argv, envp, envc);
    }
}

/// ld-preld's own mem* functions (preld_arch's, which the loader binary
/// defines), here in place of libc's for the whole of the handler's unit
/// tests, and compared with plain Rust on their own.
#[cfg(test)]
mod mem_functions {
    preld_arch::define_mem_functions!();

    #[test]
    fn memcmp_orders_as_unsigned_bytes_at_any_length_and_offset() {
        let sign = |x: i32| x.signum();
        let mut a = [0u8; 80];
        let mut b = [0u8; 80];
        for (i, (x, y)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
            *x = (i * 7 + 3) as u8;
            *y = *x;
        }
        for off in 0..9 {
            for n in 0..64 {
                // SAFETY: both ranges lie within the arrays.
                assert_eq!(unsafe { memcmp(a[off..].as_ptr(), b[off..].as_ptr(), n) }, 0, "equal, off {off} n {n}");
                for at in 0..n {
                    for (p, q) in [(0x01u8, 0x80u8), (0x80, 0x01), (0x00, 0xff), (0x41, 0x42)] {
                        let (mut a2, mut b2) = (a, b);
                        a2[off + at] = p;
                        b2[off + at] = q;
                        // A difference after the first must not count.
                        if off + at + 1 < 80 {
                            b2[off + at + 1] ^= 0xff;
                        }
                        let want = (p as i32 - q as i32).signum();
                        // SAFETY: as above.
                        let got = unsafe { memcmp(a2[off..].as_ptr(), b2[off..].as_ptr(), n) };
                        assert_eq!(sign(got), want, "off {off} n {n} at {at} {p:#x} vs {q:#x}");
                        // SAFETY: as above.
                        assert_eq!(sign(unsafe { bcmp(a2[off..].as_ptr(), b2[off..].as_ptr(), n) }) != 0, true);
                    }
                }
            }
        }
    }

    #[test]
    fn slices_compare_through_them_as_through_libc() {
        let words: [&[u8]; 6] = [b"/usr", b"/usr/include", b"/usr/include/stdio.h", b"/usr/lib", b"/tmp", b""];
        for x in words {
            for y in words {
                assert_eq!(x == y, x.iter().zip(y).all(|(p, q)| p == q) && x.len() == y.len());
                assert_eq!(x.cmp(y), x.iter().cmp(y.iter()), "{x:?} {y:?}");
                assert_eq!(x.starts_with(y), x.len() >= y.len() && x.iter().zip(y).all(|(p, q)| p == q));
            }
        }
    }
}
