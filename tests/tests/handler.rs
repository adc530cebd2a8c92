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
//! status, stdout and stderr compared (preld_tests::modes::Case). A run is
//! killed after 60 s: a hang fails its test instead of blocking CI.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use preld_tests::modes::{path_str, Case, ElfKind, Expect, Mode, BASE_ENV};
use preld_tests::run::{run_limited, LIMIT};
use preld_tests::scratch::{case_dir, test_dir};
use preld_tests::{ld_preld, program};

/// A hard case: PROG run in test_dir() natively and under `ld-preld PROG`
/// (other modes with [`Case::modes`]), stdout, stderr and the status
/// compared.
fn hard_case<I, S>(name: &str, prog: &Path, kind: ElfKind, args: I) -> Case
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Case::exec(name, prog, args).kind(kind).modes(&[Mode::Launcher]).stderr().cwd(test_dir())
}

/// The C program NAME of the hard cases in KIND ("dyn-pie" or
/// "static-exec"); a first argument that names a group goes into the
/// case's name.
fn c(name: &str, kind: &str, args: &[&str]) -> Case {
    let case = match args.first() {
        Some(g) if !g.contains('/') => format!("{name}-{g}-{kind}"),
        _ => format!("{name}-{kind}"),
    };
    let elf = match kind {
        "dyn-pie" => ElfKind::DynPie,
        "static-exec" => ElfKind::StaticExec,
        _ => unreachable!("{kind}"),
    };
    hard_case(&case, &program(&format!("{name}-{kind}")), elf, args)
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
    super::c("h_clone", k, &[])
        .stdout_has("clone3 thread: child on its own stack=yes getppid-matches=yes\n")
        .stdout_has("clone vm process: child on its own stack=yes")
        .stdout_has("tiny-stack pthread (16384 bytes): 100 of 100 opens read\n")
        .stdout_has("300 threads in a row: 300 ok\n")
});

// clone3 with CLONE_CLEAR_SIGHAND (tests/programs/c/h_clone_sighand.c,
// from the session-14 adversary): the kernel resets the child's handlers,
// preld's SIGSYS action among them, and the child died of SIGSYS at its
// first call, in every mode (a fork, and a vfork on a stack of its own).
// preld leaves the flag out (the fork's child installs its SIGSYS action
// again; the clone gate's gets a copy of clone_args without it) and
// clears the child's table of actions itself.
both_kinds!(clone3_clear_sighand, |k| {
    super::c("h_clone_sighand", k, &["clear-fork"])
        .modes(&[super::Mode::Run, super::Mode::Trace, super::Mode::Launcher])
        .stdout_has("clear-fork child: usr1 default, usr2 ignored\n")
        .stdout_has("clear-fork: child exit 0, parent's usr1 handler\n")
});
both_kinds!(clone3_clear_sighand_vfork_on_a_stack, |k| {
    super::c("h_clone_sighand", k, &["clear-vfork"])
        .modes(&[super::Mode::Run, super::Mode::Trace, super::Mode::Launcher])
        .stdout_has("clear-vfork child: usr1 default, usr2 ignored\n")
        .stdout_has("clear-vfork: child exit 0, parent's usr1 handler\n")
});
// The same with a struct of 128 bytes, zero beyond the kernel's 88 (a
// program built with a later kernel's header; the kernel takes it): preld
// copied 88 bytes at most, passed a larger struct as it was, and the
// child died of SIGSYS where natively it runs (session-14 final
// adversary). The copy now stands for it.
both_kinds!(clone3_clear_sighand_with_a_larger_struct, |k| {
    super::c("h_clone_sighand", k, &["clear-fork-big"])
        .modes(&[super::Mode::Run, super::Mode::Trace, super::Mode::Launcher])
        .stdout_has("clear-fork-big child: usr1 default, usr2 ignored\n")
        .stdout_has("clear-fork-big: child exit 0, parent's usr1 handler\n")
});
both_kinds!(clone3_clear_sighand_vfork_on_a_stack_with_a_larger_struct, |k| {
    super::c("h_clone_sighand", k, &["clear-vfork-big"])
        .modes(&[super::Mode::Run, super::Mode::Trace, super::Mode::Launcher])
        .stdout_has("clear-vfork-big child: usr1 default, usr2 ignored\n")
        .stdout_has("clear-vfork-big: child exit 0, parent's usr1 handler\n")
});

/// glibc's clone(fn, stack, SIGCHLD) (the clone(2) man page's example,
/// container tools with CLONE_NEW* flags): a process of its own memory on
/// a new stack sees its parent's actions, as natively. It went through
/// the clone gate as a thread would, missing a fork's bookkeeping: the
/// copies of its calls' results named its parent's pid (process_vm_writev
/// wrote sigaction's old action into the parent; the child read its own
/// untouched stack: SIG_DFL). Found by the session-14 adversary. Now made
/// as a fork, without the stack, the child resuming on it (clone.rs
/// `without_stack`).
#[test]
fn clone_of_a_process_on_a_new_stack() {
    for k in ["dyn-pie", "static-exec"] {
        c("h_clone_sighand", k, &["stack-fork"])
            .modes(&[Mode::Run, Mode::Trace])
            .stdout_has("stack-fork child: usr1 handler, usr2 ignored\n")
            .stdout_has("stack-fork: child exit 0, parent's usr1 handler\n")
            .check();
    }
}

// Calls made with rsp where nothing may be written below it (unmapped,
// read-only, PROT_NONE, near 0, preld's own stack, thread block and
// sigaltstack): natively each works; preld must not write its tail slot
// there, nor crash, nor change its own memory. A call that cannot block is
// made in the handler, as natively; one that may block gets the kernel's
// SIGSEGV for a frame it cannot write (natively made: the one difference).
both_kinds!(calls_with_no_room_below_rsp, |k| {
    super::c("h_badstack", k, &["syscall"])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("getppid, rsp in unmapped memory: right yes\n")
        .stdout_has("getppid, rsp in read-only memory: right yes, memory unchanged yes\n")
        .stdout_has("getppid, rsp in preld's stack: right yes, its memory unchanged yes\n")
        .stdout_has("getppid, rsp in preld's thread block: right yes, its memory unchanged yes\n")
        .stdout_has("getppid, rsp on preld's sigaltstack: right yes\n")
        .stdout_has("read, rsp in unmapped memory: returned 1 'x'\n")
        .stdout_has("still running, calls work: yes\ndone\n")
        .rewrite("read, rsp in unmapped memory: returned 1 'x'", "read, rsp in unmapped memory: SIGSEGV, si_code SI_KERNEL")
});

// clone and clone3 children given a stack that is unmapped, 64 bytes above
// a PROT_NONE page, read-only, or preld's own: nothing of preld's is written
// on it (the child's block travels in a register), so each child runs as
// natively.
both_kinds!(clone_children_on_bad_stacks, |k| {
    super::c("h_badstack", k, &["clone"])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("clone, child stack unmapped: exit 7 (want 7), child's getppid right yes")
        .stdout_has("clone, 64-byte child stack above a PROT_NONE page: exit 8 (want 8), child's getppid right yes")
        .stdout_has("clone, read-only child stack: exit 9 (want 9), child's getppid right yes")
        .stdout_has("clone, child stack in preld's stack: exit 10 (want 10), child's getppid right yes, memory below its sp unchanged yes\n")
        .stdout_has("clone3, child stack unmapped: exit 11 (want 11), child's getppid right yes")
        .stdout_has("clone, child's carry flag as set before the call: yes (exit 12)\n")
        .stdout_has("still running, calls work: yes\ndone\n")
});

// ------------------------------------------------- 2. 200 threads at once
fn threads_file() -> PathBuf {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| {
        let p = test_dir().join("threads200.txt");
        std::fs::write(&p, "the file 200 threads read 1000 times each\n").unwrap();
        p
    })
    .clone()
}

both_kinds!(threads_200_syscalls, |k| {
    let f = super::threads_file();
    super::c("h_threads200", k, &[super::path_str(&f).as_str()])
        .stdout_has("threads=200 rounds=1000 good rounds=200000 bad rounds=0\n")
});

// 6000 threads with 64 KiB stacks alive at once: more than preld's first
// reservations of thread slots hold (chunks are added as threads need them;
// it used to stop at 4095), as natively.
both_kinds!(threads_6000_alive_at_once, |k| {
    super::c("h_manythreads", k, &["6000"])
        .modes(&[super::Mode::Run])
        .stdout_has("threads started=6000 of 6000, alive at once=yes\n")
        .stdout_has("joined=6000, getpid/gettid right in 6000, wrong in 0\n")
        .stdout_has("100 threads after the join: 100 ok\n")
});

// A process that ends while another of its threads creates threads, traced:
// the exit lines of the other threads once read the block of a slot claimed
// but not yet accessible (preld died of SIGSEGV: Go's os.TestStdPipe under
// `preld trace -f` failed 4 times in 40). 1000 processes, each must exit 0.
both_kinds!(exit_while_threads_are_being_created, |k| {
    super::c("h_exitrace", k, &["1000"])
        .modes(&[super::Mode::Trace, super::Mode::Run])
        .stdout_has("rounds=1000 exited=1000 other=0\n")
});

// Threads that end while several other threads create threads at once:
// two creators reaping a gone thread's slot at once both freed it, the
// second after the first had given it to its new thread, and two threads
// shared one block (SIGSEGV, SIGABRT from glibc, "rseq registration failed":
// 3 runs in 3 under `preld run` before the fix; Go's syscall.TestSetuidEtc
// in a session 1 in 10 to 40).
both_kinds!(threads_created_from_several_threads_at_once, |k| {
    super::c("h_reapers", k, &["4", "3000"])
        .modes(&[super::Mode::Run, super::Mode::Trace])
        .stdout_has("creators=4 threads=12000 wrong=0\n")
});

// Memory a call read or wrote, whose access is then taken away in each
// way (munmap, mprotect, MAP_FIXED, mremap, madvise guard, shmdt, brk,
// another thread, protection keys), passed again: EFAULT as natively. The
// handler knows pages it probed until the mappings change (usermem.rs);
// in a session, where paths are read in the process, forgetting none of
// them crashed the program (pola_sessions has that case).
both_kinds!(pages_whose_access_went_are_efault, |k| {
    super::c("h_pagecache", k, &[]).modes(&[super::Mode::Launcher, super::Mode::Run, super::Mode::Trace]).stdout_has("munmap           open EFAULT")
});

// More ways access goes (tests/programs/c/h_pagecache2.c, from the
// session-12 adversary): a file mapping the program truncates itself
// (ftruncate, io_uring's IORING_OP_FTRUNCATE), userfaultfd with
// UFFD_FEATURE_SIGBUS then MADV_DONTNEED, io_uring's
// IORING_OP_MADVISE(MADV_GUARD_INSTALL), a MADV_DONTFORK page passed in a
// fork child. Each natively says EFAULT; the handler copied a page it
// still knew with a plain load or store and the process died of SIGBUS or
// SIGSEGV under `preld trace` (and in a session for the fork child). Its
// race-munmap case: another thread passes a page this one unmaps; a page
// unmapped between the kernel's look (or the probe) and preld's copy made
// the copy fault (the path gates' few bytes under `preld run` too): SIGSEGV
// in every mode, 3 runs in 3.
macro_rules! pagecache2 {
    ($name:ident, $case:literal, $expect:literal) => {
        both_kinds!($name, |k| {
            super::c("h_pagecache2", k, &[$case, "."])
                .modes(&[super::Mode::Run, super::Mode::Trace])
                .stdout_has($expect)
        });
    };
}
pagecache2!(pages_of_a_file_cut_short_shared, "ftruncate-shared", "ftruncate-shared: open EFAULT, stat EFAULT, access EFAULT\n");
pagecache2!(pages_of_a_file_cut_short_private, "ftruncate-private", "ftruncate-private: open EFAULT, stat EFAULT, access EFAULT\n");
pagecache2!(pages_kept_from_a_fork_child, "dontfork", "dontfork child: exit 0\n");
pagecache2!(pages_dropped_under_userfaultfd, "uffd-dontneed", "uffd-dontneed: ");
pagecache2!(pages_guarded_through_io_uring, "uring-guard", "uring-guard: ");
pagecache2!(a_file_cut_short_through_io_uring, "uring-ftruncate", "uring-ftruncate: ");
pagecache2!(pages_unmapped_by_another_thread_meanwhile, "race-munmap", "race-munmap: survived\n");
// process_madvise over preld's own memory (its bss after ld-preld's data:
// heap, tables, stacks), which since Linux 6.13 takes every advice for the
// caller: MADV_DONTNEED zeroed preld's bss and MADV_GUARD_INSTALL killed
// the process under `preld run` (SIGSEGV), where natively the range is a
// hole (ENOMEM). Now EPERM, and a page of the program's own is advised as
// natively (session-14 adversary).
pagecache2!(process_madvise_keeps_off_preld_s_memory, "preld-madvise", "preld-madvise: refused, own page ok\n");
// mseal (Linux 6.10) over preld's memory: a sealed range can no longer be
// mprotected, so preld's thread arena, sealed in its reserved part, gave
// no new thread its slot: every pthread_create failed under preld, where
// natively the ranges are holes (ENOMEM) (session-14 adversary).
pagecache2!(mseal_keeps_off_preld_s_memory, "preld-mseal", "preld-mseal: threads made 100\n");

/// userfaultfd's UFFDIO_REGISTER over preld's bss (natively a hole:
/// EINVAL): preld's first touch of a page there not yet populated raised
/// SIGBUS (UFFD_FEATURE_SIGBUS; without it preld would wait for a fault
/// handler nobody runs). The handler now refuses a userfaultfd ioctl's
/// range over preld's memory with EINVAL (memory::uffd_ioctl), when the
/// ioctl goes through it. Session-14 adversary.
#[test]
fn userfaultfd_keeps_off_preld_s_memory() {
    c("h_pagecache2", "dyn-pie", &["preld-uffd", "."])
        .modes(&[Mode::Run, Mode::Trace])
        .stdout_has("preld-uffd: refused, threads made 100\n")
        .check();
}

/// io_uring's IORING_OP_MADVISE(MADV_GUARD_INSTALL) over preld's bss made
/// preld's next thread slot fault (SIGSEGV), where natively the advice
/// over a hole is refused. Not fixed: the advice is a ring's entry, no
/// call preld looks at. Session-14 adversary.
#[test]
#[ignore = "bug: io_uring's MADV_GUARD_INSTALL over preld's memory kills the program (SIGSEGV)"]
fn io_uring_madvise_keeps_off_preld_s_memory() {
    c("h_pagecache2", "dyn-pie", &["preld-uffd", ".", "uring"])
        .modes(&[Mode::Run, Mode::Trace])
        .stdout_has("preld-uffd: uring refused, threads made 100\n")
        .check();
}

// Threads sharing memory while preld copies it (tests/programs/c/h_memrace.c,
// from the session-13 adversary), each as natively:
macro_rules! memrace {
    ($name:ident, [$($arg:literal),*], $expect:literal) => {
        both_kinds!($name, |k| {
            super::c("h_memrace", k, &[$($arg),*])
                .modes(&[super::Mode::Run, super::Mode::Trace])
                .stdout_has($expect)
        });
    };
}
// Main's pthread_exit, then another thread's calls whose results preld
// writes with process_vm_readv naming the process's pid: the kernel finds
// no memory behind an exited leader (ESRCH), and sigprocmask, sigaction
// and sigaltstack said EFAULT in every mode.
memrace!(calls_after_the_main_thread_exited, ["leader-exit"], "leader-exit: sigmask ok, sigaction ok, stat ok, sigaltstack ok\n");
// ... and likewise a CLONE_VM child process once its parent has exec'd
// (the pid then named the shell's memory).
memrace!(calls_of_a_clone_vm_child_after_its_parent_execd, ["vm-child"], "vm-child: sigmask ok, sigaction ok, stat ok\n");
// A FIFO opened for reading from a path gate while another thread maps and
// unmaps: a change of the mappings during the open made the gate close
// the fd and the handler open the FIFO again, whose writer had come and
// gone (the reader waited for good under `preld run`).
memrace!(a_fifo_opened_while_another_thread_unmaps, ["fifo", "."], "fifo: 10 of 10 rounds read\n");
// A signal whose handler maps and unmaps (or jumps out) while a path gate
// holds its count of a copy: munmap waited for that count with every
// signal blocked, for good (`preld run` hung 3 runs in 3, deaf to
// SIGTERM); the count now goes with the signal (abort_path_copy).
memrace!(signals_while_a_path_gate_reads, ["signal-window", "3"], "signal-window: survived\n");
// A handler that jumps out of ftruncate and munmap before their post
// trap: the change never ended, and with a seccomp filter refusing
// process_vm_writev every later copy waited 10,000 turns (hung in run
// and trace; SIGSEGV under run before the path gates' fix).
memrace!(changes_of_the_mappings_a_handler_jumps_out_of, ["lost-end"], "lost-end: 20000 calls in less than 2 s\n");
// race-munmap under a seccomp filter that refuses process_vm_writev: a
// copy during a change waits for it and is counted again.
memrace!(pages_unmapped_meanwhile_under_a_filter, ["race-seccomp"], "race-seccomp: survived\n");

// Results preld writes into the program's memory (an old signal mask, an
// old action, a sigaltstack) under a seccomp filter of the program's that
// refuses process_vm_readv with EPERM (systemd's
// SystemCallFilter=@system-service leaves out @debug, which holds it):
// preld wrote them with process_vm_readv alone, and each call said EFAULT;
// now probed plain copies (fewer than 8 bytes still say EFAULT).
both_kinds!(results_written_under_a_filter_refusing_process_vm_readv, |k| {
    super::c("h_memrace", k, &["filter-writes"])
        .modes(&[super::Mode::Launcher, super::Mode::Run, super::Mode::Trace])
        .stdout_has("filter-writes: sigmask ok, sigaction ok, sigaltstack ok\n")
});

/// A thread stopped by a ptrace tracer while it holds a count of a copy
/// (a path gate's, or the handler's between its probe and its copy): the
/// other threads' munmap waits until the tracer lets it go, where natively
/// it goes on (1 round in 300 here). Not fixed: nothing of preld's runs
/// at a ptrace stop to let the count go.
#[test]
#[ignore = "known: munmap waits for a thread ptrace keeps stopped mid-copy"]
fn munmap_while_a_copying_thread_is_stopped_by_ptrace() {
    c("h_memrace", "dyn-pie", &["ptrace-stop", "300"])
        .modes(&[Mode::Run, Mode::Trace])
        .stdout_has("ptrace-stop: 300 rounds, the mapper stuck in 0\n")
        .check();
}

// Threads of a CLONE_VM child process (no CLONE_VFORK) and of its parent
// end while the other process creates threads (tests/programs/c/h_vmproc.c,
// from the session-12 adversary): reap looked for a dead thread with
// tgkill(getpid(), tid, 0), the reaper's own process, so a thread of the
// other one was gone at once while still on its way out on its slot, which
// went to a new thread (the child died of SIGSEGV 3 runs in 3 under
// `preld trace -f`, tids mixed up). A block records the thread group its
// thread exited from.
both_kinds!(threads_of_two_processes_sharing_memory_end, |k| {
    super::c("h_vmproc", k, &["3000", "8"])
        .modes(&[super::Mode::Run, super::Mode::Trace])
        .stdout_has("vm process: exit 0\nthreads=48000 wrong=0\n")
});

// CLONE_VM child processes killed by a signal, or exec'd, never call exit:
// their slots are reaped once kcmp says they no longer share the memory
// (tests/programs/c/h_vmleak.c; they leaked 512 KiB of address space each).
both_kinds!(clone_vm_children_killed_or_execd_leave_no_slot, |k| {
    super::c("h_vmleak", k, &["2000"])
        .modes(&[super::Mode::Run])
        .stdout_has("children=2000 killed=2000 exited=0 VmSize grew over 64 MiB: no\n")
});
both_kinds!(clone_vm_children_execd_leave_no_slot, |k| {
    super::c("h_vmleak", k, &["2000", "exec"])
        .modes(&[super::Mode::Run])
        .stdout_has("children=2000 killed=0 exited=2000 VmSize grew over 64 MiB: no\n")
});

// vfork children that end with a raw exit (Go's ForkExec when the exec
// fails) while other threads create threads: the child's exit marked its
// block dead, a creator's reap freed it under the still-waiting parent,
// which freed it again under a new thread (SIGSEGV, glibc's
// "advise_stack_range" assertion: 3 runs in 3 before the fix; Go's
// syscall tests in a session 1 in 60: "morestack on g0", hangs).
both_kinds!(vfork_children_exit_while_threads_are_created, |k| {
    super::c("h_reapers", k, &["2", "3000", "2"])
        .modes(&[super::Mode::Run, super::Mode::Trace])
        .stdout_has("creators=2 threads=6000 wrong=0\nvforkers=2 children=6000 bad=0\n")
});

// ------------------------------------------------- 3. fork while threads are in calls
both_kinds!(fork_with_busy_threads, |k| {
    super::c("h_forkthreads", k, &[])
        .stdout_has("child 49: malloc ok")
        .stdout_has("forks=50 ok=50 bad=0 busy threads made calls: yes\n")
});

// ------------------------------------------------- 4. vfork, posix_spawn, system
both_kinds!(vfork_posix_spawn_system, |k| {
    super::c("h_spawn", k, &[])
        .stdout_has("from vfork+execve\nvfork+execve: exit 0\n")
        .stdout_has("raw vfork+exit: exit 6\n")
        .stdout_has("from posix_spawn\nposix_spawn: exit 0\n")
        .stdout_has("hi\nsystem(\"echo hi\"): exit 0\n")
});

// ------------------------------------------------- 5. execve / execveat
/// h_exec GROUP: the new programs must be under preld again.
fn exec_case(group: &str, kind: &str) -> Case {
    let dir = case_dir(&format!("h_exec-{group}-{kind}"));
    c("h_exec", kind, &[group, path_str(&dir).as_str()])
        .stdout_has("caller: ld-preld mapped: no\n")
        .rewrite("ld-preld mapped: no", "ld-preld mapped: yes")
}

both_kinds!(execve_argv_envp_execfn, |k| {
    super::exec_case("execve", k)
        .stdout_has("  argv[0]=\"custom-name\"\n  argv[1]=\"child\"\n  argv[2]=\"one\"\n  argv[3]=\"two words\"\n  argv[4]=\"\"\n")
        .stdout_has("  env \"B=two words\"\n  env \"EMPTY=\"\n")
        .stdout_has("  AT_EXECFN=\"./h_exec-")
        .stdout_has("execve, empty argv\n  new program: argc=1\n  argv[0]=\"\"\n")
        .stdout_has("  argv[0]=\"from-threads\"\n")
        .stdout_has("  argv[0]=\"via-execvp\"\n")
});

both_kinds!(execveat_fds, |k| {
    super::exec_case("execveat", k)
        .stdout_has("  argv[0]=\"at-opath\"\n")
        .stdout_has("  argv[0]=\"at-cloexec\"\n")
        .stdout_has("  argv[0]=\"at-opath-cloexec\"\n")
        .stdout_has("  argv[0]=\"fexecve\"\n")
        .stdout_has("  /proc/self/exe is the program: yes\n")
});

// AT_EXECFN after execveat names the caller's fd: "/dev/fd/3", "/dev/fd/3/NAME".
both_kinds!(execveat_execfn, |k| {
    super::exec_case("execfn-at", k)
        .stdout_has("  AT_EXECFN=\"/dev/fd/3\"\n")
        .stdout_has("  AT_EXECFN=\"/dev/fd/3/h_exec-")
});

both_kinds!(exec_errors, |k| {
    super::exec_case("errors", k)
        .stdout_has("execve of a missing file: returned -1 ENOENT\n")
        .stdout_has("execve of a file without execute permission: returned -1 EACCES\n")
        .stdout_has("execve of an executable text file without #!: returned -1 ENOEXEC\n")
        .stdout_has(
            "execveat AT_EMPTY_PATH of a #! script on an O_CLOEXEC fd: returned -1 ENOENT\n",
        )
        .stdout_has("execveat with an unknown flag: returned -1 EINVAL\n")
        .stdout_has("execveat AT_SYMLINK_NOFOLLOW of a symlink: returned -1 ELOOP\n")
});

// The thread name (/proc/self/comm, what ps and top show) after exec.
both_kinds!(exec_comm, |k| super::exec_case("comm", k)
    .stdout_has("caller's comm: h_exec-"));

both_kinds!(exec_proc_self_exe, |k| {
    super::exec_case("self", k)
        .stdout_has("  argv[0]=\"selfexe\"\n  argv[1]=\"child\"\n  argv[2]=\"again\"\n")
        .stdout_has("  AT_EXECFN=\"/proc/self/exe\"\n")
});

// Filling the fd table up to the limit: preld's fds (the trace output) take
// no slot of it.
both_kinds!(fd_table_to_the_limit, |k| {
    super::c("h_fds", k, &["limit"])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("F_DUPFD from limit-40 until it fails: EMFILE after 40 fds\n")
});

// ------------------------------------------------- 6. signals
both_kinds!(signals_around_calls, |k| {
    super::c("h_signals", k, &[])
        .stdout_has("EINTR: read returned -1 EINTR, handler ran 1 time(s)\n")
        .stdout_has("SA_RESTART (thread): read returned 4 \"late\", handler ran 1 time(s)\n")
        .stdout_has("SA_RESTART (child): read returned 10 \"from child\", handler ran 1 time(s)\n")
        .stdout_has("thread: overflow 2 caught on the sigaltstack: yes")
        .stdout_has("siglongjmp out of a blocking read: 30 of 30, SIGUSR2 blocked after: no, pipe works after: yes\n")
        .stdout_has("signal storm: victim's calls all right: yes, handler ran: yes, handled <= sent: yes\n")
        .stdout_has("sigsuspend (later): returned -1 EINTR, handler ran 1")
        .stdout_has("done\n")
});

// A vfork child asking to be traced, then exec'ing (gdb's inferior): it
// runs without preld from PTRACE_TRACEME on, so no SIGSYS stops it while
// its parent waits in vfork.
both_kinds!(traceme_in_vfork_child, |k| {
    super::c("h_ptrace", k, &[])
        .stdout_has("stopped by SIGTRAP at its exec: yes\nthe traced child ran\nthen exited with 0: yes\n")
});

// ------------------------------------------------- 7. SIGSYS and preld's memory
both_kinds!(sigsys_basic, |k| {
    super::c("h_sigsys", k, &["basic"])
        .stdout_has("sigaction(SIGSYS, NULL, &old): 0, handler is mine, SA_SIGINFO yes, sa_mask has SIGUSR2 yes\n")
        .stdout_has("sigprocmask(SIG_BLOCK, SIGSYS): 0, mask has SIGSYS yes, calls work yes\n")
        .stdout_has("after prctl(PR_SET_SYSCALL_USER_DISPATCH, OFF): calls work yes\n")
        .stdout_has("done\n")
});

// SIGSYS sent by kill/tgkill, blocked and pending, SA_RESETHAND, SIGSYS in
// another handler's sa_mask: the program's view is the native one.
both_kinds!(sigsys_virtual_signal, |k| {
    super::c("h_sigsys", k, &["virtual"])
        .stdout_has("SIGUSR1 handler with SIGSYS in sa_mask: ran 1, calls in it work yes, SIGSYS blocked in it yes\n")
        .stdout_has("kill(SIGSYS) with a handler: handler ran 1, signo 31, si_code SI_USER yes, calls in it worked yes\n")
        .stdout_has("SIGSYS blocked, kill(SIGSYS): handler ran 0, pending yes\n")
        .stdout_has("after SIG_UNBLOCK: handler ran 1\n")
        .stdout_has("SA_RESETHAND: handler ran 1, action is SIG_DFL afterwards yes, flags 0x84000004")
        .stdout_has("SA_RESETHAND on SIGUSR1: action is SIG_DFL afterwards yes, flags 0x84000004, sa_mask kept yes\n")
        .stdout_has("done\n")
});

both_kinds!(sigsys_on_sigaltstack, |k| {
    super::c("h_sigsys", k, &["stack"])
        .stdout_has("SA_ONSTACK SIGSYS handler: ran 1, on the sigaltstack yes\n")
        .stdout_has("SIGSYS handler without SA_ONSTACK: ran 1, on the sigaltstack no\n")
});

// SA_ONSTACK in threads without a sigaltstack: the handler runs on the
// interrupted stack as natively (the real sigaltstack is preld's).
both_kinds!(onstack_without_sigaltstack, |k| {
    super::c("h_sigsys", k, &["onstack"])
        .stdout_has("main: handler ran 1, args right yes, on the main stack yes\n")
        .stdout_has("thread: handler ran 1, args right yes, on the thread's stack yes\n")
        .stdout_has("calls work after: yes\ndone\n")
});

// The program's own seccomp filter with SECCOMP_RET_TRAP: its handler
// answers the call; blocked, the SIGSYS is forced and kills.
both_kinds!(sigsys_seccomp_trap, |k| {
    super::c("h_sigsys", k, &["seccomp"])
        .expect(super::Expect::Signal(31))
        .stdout_has("getppid under the filter: 4242, handler ran 1, si_code SYS_SECCOMP yes, si_syscall getppid yes\n")
        .stdout_has("other calls work: yes\nSIGSYS blocked, getppid again\n")
});

both_kinds!(sigsys_state_across_exec, |k| {
    super::c("h_sigsys", k, &["exec"])
        .stdout_has("after exec: SIGSYS ignored yes, blocked yes, calls work yes\n")
        .stdout_has("kill(SIGSYS) after exec: still running\ndone\n")
});

both_kinds!(sigsys_kill_default, |k| {
    super::c("h_sigsys", k, &["kill"])
        .expect(super::Expect::Signal(31))
        .stdout_has("kill(getpid(), SIGSYS) with the default action\n")
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
    super::c("h_sigsys", k, &["image"])
        .stdout_has("no ld-preld mapping\ndone\n")
        .preld_stdout(super::IMAGE_GUARDED)
});

// ld-preld's RELRO (.data.rel.ro, .dynamic, .got) is read-only once
// _start has relocated the image: a store into it faults.
both_kinds!(preld_relro_read_only, |k| {
    super::c("h_sigsys", k, &["relro"])
        .stdout_has("no ld-preld mapping\ndone\n")
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
    super::c("h_sigsys", k, &["arena"])
        .stdout_has("no ld-preld mapping\ndone\n")
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
    hard_case("go-fileio", &program("go-fileio"), ElfKind::StaticExec, [&dir])
        .stdout_has("workers=100 files each=20 failed=0 left over=0 sha256=")
        .stdout_has("exec /bin/true x3 done; concurrent /bin/echo outputs: [\"echo 0\\n\" \"echo 1\\n\" \"echo 2\\n\" \"echo 3\\n\"]\n")
        .check();
}

/// Asynchronous preemption (SIGURG) of a goroutine that never yields,
/// os/signal, and a timer waking a goroutine blocked in read: the fast path
/// and the trap path alike must leave the Go runtime's signals as natively.
#[test]
fn go_static_preemption_and_signals() {
    hard_case("go-signals", &program("go-signals"), ElfKind::StaticExec, Vec::<&str>::new())
        .stdout_has("main ran again while a goroutine spun: yes\n")
        .stdout_has("os/signal received: user defined signal 1\nos/signal received: hangup\n")
        .stdout_has("read woken by a timer's write: 1 byte\n")
        .check();
}

// ------------------------------------------------- 9. preld's own fds
both_kinds!(close_every_fd, |k| {
    super::c("h_fds", k, &["closeall"])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("after the close loop: open fds: 0 1 2 (3)\n")
        .stdout_has("close(3..65535): 5 closed, the rest EBADF: yes\n")
        .stdout_has("exec after closing everything: ok\n")
        .stdout_has("fork child closing 0..~0U and working: exit 0\n")
        // The trace kept going after the program closed everything.
        .trace_has("close_range(3, ")
        .trace_has("+++ exited with 0 +++")
});

both_kinds!(dup2_onto_high_fds, |k| {
    super::c("h_fds", k, &["high"])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("dup2(1, 1010) = 1010: written through 1010\n")
        .stdout_has("dup2 onto the top 24 fds: 24 written\n")
        .stdout_has("again through limit-1\n")
        .trace_has("+++ exited with 0 +++")
});


// ------------------------------------------------- 10. the fast path (rewritten syscall sites)
both_kinds!(fast_path_sites, |k| {
    super::c("h_fast", k, &[])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("syscall() with numbers that are no call: -1 ENOSYS each: yes\n")
        .stdout_has("/proc/self/exe is the program for stat, open, openat, fstatat, each 3 times: yes; the fd is the lowest free: yes\n")
        .stdout_has("/proc/self/exe is a link for lstat: yes; realpath of it is the program's: yes\n")
        .stdout_has("readlink and readlinkat of /proc/self/exe are the program, others the kernel's, 3 times: yes\n")
        .stdout_has("readlinkat of /proc/self/exe beside a directory fd is the program, bufsiz 0 and -1 EINVAL, 3 times: yes\n")
        .stdout_has("registers, flags and red zone across 1000 calls as natively: yes\n")
        .stdout_has("SA_RESTART: read returned 1 byte 'y' after signals: yes\n")
        .stdout_has("no SA_RESTART: read returned -EINTR after signals: yes\n")
        .stdout_has("nanosleep across SIGSTOP/SIGCONT (restart_syscall): returned 0\n")
        .stdout_has("siglongjmp out of a handler: 100000 times, getppid still right: yes\n")
        .stdout_has("fork child's rewritten call: yes\nvfork child's rewritten call: yes\n")
        .stdout_has("posix_spawn: 0, exit 7\n")
        .stdout_has("failed execve: No such file or directory; rewritten call after it: yes\n")
        .stdout_has("self-modifying RWX code: every call as written at the time: yes\n")
        .stdout_has("64 threads racing on a site's first execution, 20 processes: 20 good\n")
        .stdout_has("100000 rewritten calls right: yes\n")
        .stdout_has("100000 reads from an xor-eax site: 1600000 bytes of zeros\n")
        .stdout_has("mmap from a rewritten site, placed, fixed and fixed-noreplace: yes\n")
});

// Signals that come while the handler gate serves a call (a traced
// getppid under `preld trace`; a session's paths: pola_sessions.rs).
both_kinds!(signals_during_the_handler_gate, |k| {
    super::c("h_gate_signals", k, &["8000"])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("calls right through the signals: yes\n")
        .stdout_has("timer signals, each to its handler with its siginfo: yes\n")
        .stdout_has("one-shot handlers run, none lost: yes\n")
        .stdout_has("queued signals in order, none lost: yes\n")
        .stdout_has("signals from another thread handled: yes\n")
});

/// `PRELD_STATS=1`: the calls of `name`'s sites are made from the gate, at
/// least `min` of them (or, in the PRELD_FAST=0 pass, none is).
fn fast_path_taken(name: &str, kind: &str, min: u64) {
    let prog = program(&format!("{name}-{kind}"));
    let mut c = Command::new(ld_preld());
    c.arg(&prog).env_clear().envs(BASE_ENV).envs(preld_tests::fast_env()).env("PRELD_STATS", "1");
    c.current_dir(test_dir());
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
        assert!(fast >= min, "{name} made only {fast} calls from the gate: {main}");
    } else {
        assert_eq!(fast, 0, "PRELD_FAST=0, yet: {main}");
    }
}

/// (A static ET_EXEC has no .eh_frame_hdr to verify its sites with: it
/// runs on the trap path, which fast_path_sites checks.)
#[test]
fn fast_path_taken_dyn_pie() {
    fast_path_taken("h_fast", "dyn-pie", 300_000);
}

// Sites first made by threads running side by side are rewritten while
// the others run them (one locked store of the jump), and every call's
// result stays right.
both_kinds!(sites_rewritten_while_threads_run_them, |k| {
    super::c("h_fast_threads", k, &[])
        .modes(&[super::Mode::Launcher, super::Mode::Trace])
        .stdout_has("8 threads, 20000 rounds each, every result right: yes\n")
});

/// ... and their calls are made from the gate: 8 threads x 20,000 rounds x
/// 8 calls, most of them (a site whose jump would cross a cache line
/// keeps trapping while threads run).
#[test]
fn fast_path_taken_by_threads_dyn_pie() {
    fast_path_taken("h_fast_threads", "dyn-pie", 8 * 20_000 * 4);
}

// A thread that makes the program's code writable, writes it and makes it
// read-only again while other threads' sites there are rewritten: the
// rewrite's mprotects (writable, then back) must not undo the program's
// (its write faulted), nor the program's undo the rewrite's (preld's
// locked store faulted).
both_kinds!(sites_rewritten_while_the_program_reprotects_them, |k| {
    super::c("h_fast_mprotect", k, &[]).modes(&[super::Mode::Launcher]).stdout_has(
        "8 rounds of 2048 sites made by 2 threads while a third wrote their pages: every result right: yes\n",
    )
});

// A fork while other threads' sites are rewritten: the child never keeps
// a page of code (or of stubs) that a rewrite had made writable.
both_kinds!(fork_while_sites_are_rewritten, |k| {
    super::c("h_fast_fork", k, &[])
        .modes(&[super::Mode::Launcher])
        .stdout_has("children with code writable: none; children failed: 0; every result right: yes\n")
});
