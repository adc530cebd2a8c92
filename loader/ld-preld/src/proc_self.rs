//! What /proc/self shows of a program ld-preld started: the kernel set the
//! process's memory layout fields for ld-preld's own exec (cmdline would
//! read `ld-preld [OPTIONS] -- PROG ARGS`, auxv would be ld-preld's), so
//! they are set again for the program, as its own exec would have
//! (prctl PR_SET_MM_MAP, which needs no privilege: the exe link stays).
//! ps, top, pgrep -f and programs reading their own cmdline then see the
//! program's.

use alloc::vec::Vec;
use preld_loader::elf::LoadPlan;
use preld_loader::stack::{StackImage, Str};

use crate::abi::PrctlMmMap;
use crate::sys;

/// The length of the NUL-terminated string at `addr`.
///
/// # Safety
/// `addr` must point at a NUL-terminated string that stays mapped.
unsafe fn strlen(addr: usize) -> usize {
    core::ffi::CStr::from_ptr(addr as *const core::ffi::c_char).to_bytes().len()
}

/// argv as one run of strings (cmdline is the memory from the first
/// string to the end of the last): as the kernel placed them if they
/// still are one run, else every string copied onto the new stack.
pub fn one_run(argv: Vec<Str<'static>>) -> Vec<Str<'static>> {
    let mut next = None;
    let mut kept = true;
    for a in &argv {
        match *a {
            Str::At(p) if next.is_none_or(|n| n == p) => {
                // SAFETY: an argv string of the kernel's initial stack.
                next = Some(p + unsafe { strlen(p) } + 1);
            }
            _ => kept = false,
        }
    }
    if kept {
        return argv;
    }
    argv.into_iter()
        .map(|a| match a {
            // SAFETY: as above; the initial stack's strings stay mapped for
            // the life of the process.
            Str::At(p) => Str::New(unsafe { core::slice::from_raw_parts(p as *const u8, strlen(p)) }),
            n => n,
        })
        .collect()
}

/// Sets the layout the program's own exec would have: its code and data
/// (from `plan` at `bias`), its argv and environment strings, its initial
/// stack and auxv as `image` places them below `stack_end`. The break
/// stays where it is. Nothing is changed if the kernel refuses (a kernel
/// without CONFIG_CHECKPOINT_RESTORE): /proc then shows ld-preld's.
pub fn show_program(image: &StackImage, stack_end: usize, argv: &[Str<'_>], envp: &[usize], plan: &LoadPlan, bias: usize) {
    let word = |i: usize| usize::from_ne_bytes(image.bytes[i * 8..i * 8 + 8].try_into().unwrap());
    let argc = argv.len();
    let Some(last) = argv.last() else { return };
    let last_len = match *last {
        Str::New(b) => b.len(),
        // SAFETY: a string of the kernel's initial stack.
        Str::At(p) => unsafe { strlen(p) },
    };
    let arg_start = word(1);
    let arg_end = word(argc) + last_len + 1;
    let (env_start, env_end) = match (envp.first(), envp.last()) {
        // SAFETY: environment strings of the kernel's initial stack.
        (Some(&f), Some(&l)) => (f, l + unsafe { strlen(l) } + 1),
        _ => (arg_end, arg_end),
    };
    // auxv: after argc, argv, NULL, envp, NULL; pairs up to AT_NULL's.
    let mut at = 1 + argc + 1 + envp.len() + 1;
    let auxv_from = at;
    while (at + 1) * 8 < image.bytes.len() && word(at) != 0 {
        at += 2;
    }
    let auxv_words = at + 2 - auxv_from;
    let loads = || plan.segments.iter().map(|s| (s.vaddr as usize + bias, (s.vaddr + s.filesz) as usize + bias, s.executable));
    let start_code = loads().filter(|s| s.2).map(|s| s.0).min().unwrap_or(0);
    let end_code = loads().filter(|s| s.2).map(|s| s.1).max().unwrap_or(0);
    let end_data = loads().map(|s| s.1).max().unwrap_or(0);
    // The kernel's start_data is the last segment's start; one holding
    // only .bss starts past end_data, which the prctl refuses.
    let start_data = loads().map(|s| s.0).max().unwrap_or(0).min(end_data.saturating_sub(1));
    let brk = sys::current_brk();
    let map = PrctlMmMap {
        start_code: start_code as u64,
        end_code: end_code as u64,
        start_data: start_data as u64,
        end_data: end_data as u64,
        start_brk: brk as u64,
        brk: brk as u64,
        start_stack: (stack_end - image.bytes.len()) as u64,
        arg_start: arg_start as u64,
        arg_end: arg_end as u64,
        env_start: env_start as u64,
        env_end: env_end as u64,
        auxv: image.bytes[auxv_from * 8..].as_ptr() as *mut u64,
        auxv_size: (auxv_words * 8) as u32,
        exe_fd: u32::MAX,
    };
    if sys::set_mm_map(&map).is_err() {
        // An auxv longer than the kernel keeps: the rest without it.
        let _ = sys::set_mm_map(&PrctlMmMap { auxv: core::ptr::null_mut(), auxv_size: 0, ..map });
    }
}
