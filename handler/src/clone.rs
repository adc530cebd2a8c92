//! fork, vfork, clone and clone3: new threads and processes start trapped.
//!
//! Syscall User Dispatch is not inherited by new threads nor by fork
//! children, so every child arms it before it runs application code.
//! - A plain fork (no shared memory, no new stack) is made inside the
//!   handler: the child is a copy of the parent, handler stack included,
//!   and returns through the same SIGSYS frame.
//! - Anything that shares memory or starts on another stack (threads,
//!   vfork, posix_spawn) is made in `clone_gate` with the application's own
//!   registers; the child starts there on its own stack with a thread block
//!   of its own, and the parent comes back through a second trap.

use syscalls::Sysno;

use crate::abi::{CLONE_CLEAR_SIGHAND, CLONE_FILES, CLONE_FS, CLONE_SIGHAND, CLONE_THREAD, CLONE_VFORK, CLONE_VM, SIGCHLD};
use crate::call::{Call, Outcome};
use crate::errno::{EFAULT, EINVAL};
use crate::thread::{self, Task, ThreadBlock};
use crate::sigactions::Actions;
use crate::{fast, heap, rpc, sud, sys, trace, usermem};

pub fn clone(c: &mut Call<'_>) -> Outcome {
    let (flags, child_sp) = match Sysno::from(c.nr as u32) {
        Sysno::fork => (SIGCHLD as u64, 0),
        Sysno::vfork => (CLONE_VM | CLONE_VFORK | SIGCHLD as u64, 0),
        Sysno::clone => (c.args[0] as u64, c.args[1]),
        _ => {
            // clone3(struct clone_args *, size): flags at 0, stack at 40,
            // stack_size at 48; the kernel starts the child at stack + size.
            if c.args[1] < 64 {
                return Outcome::err(EINVAL);
            }
            let mut a = [0usize; 8];
            if !usermem::read_words(c.args[0], &mut a) {
                return Outcome::err(EFAULT);
            }
            let sp = if a[5] != 0 { a[5].wrapping_add(a[6]) } else { 0 };
            (a[0] as u64, sp)
        }
    };
    if flags & CLONE_FILES != 0 && flags & CLONE_VM == 0 {
        // A process of its own memory sharing this fd table: its closes
        // are counted in its copy of the counts, not in ours (attack
        // fd_cache).
        crate::beneath::own_fd_table(false);
    }
    if flags & CLONE_VM == 0 && (child_sp == 0 || without_stack(c)) {
        fork(c, flags, child_sp)
    } else {
        gate(c, flags)
    }
}

/// A process of its own memory on a new stack (glibc's `clone(fn, stack,
/// SIGCHLD)`) is a fork too: the call is made without the stack (the
/// argument registers, or a copy of clone3's struct), and the child
/// resumes on it (`fork`). Made in the clone gate, it missed every fork's
/// bookkeeping: its copies of memory named its parent's pid (the results
/// of its calls went into its parent), its connection was its parent's.
/// False (the gate's way) for a clone3 struct preld cannot copy.
fn without_stack(c: &mut Call<'_>) -> bool {
    if c.nr == Sysno::clone as usize {
        // (The application's registers stay as they were: the child's
        // rsi is its stack, as natively.)
        c.args[1] = 0;
        return true;
    }
    if c.nr != Sysno::clone3 as usize {
        return false;
    }
    // clone_args: stack at 40, stack_size at 48.
    let Some(Ok((copy, size))) = clone3_copy(c, |a| (a[5], a[6]) = (0, 0)) else { return false };
    (c.args[0], c.args[1]) = (copy, size);
    true
}

/// clone3's struct copied into the thread's `clone3_copy` and changed by
/// `edit`, for a call the kernel makes on the copy: its address and size.
/// A struct larger than the copy (88 bytes, the kernel's version 2) is
/// what the kernel takes when the bytes beyond its own fields are zero
/// (else E2BIG): the copy stands for it where the bytes beyond the copy
/// are zero (a program built for a later kernel's header); None where
/// they are not (the struct then goes as it is: the kernel knows fields
/// preld does not), Err(()) where it cannot be read.
fn clone3_copy(c: &mut Call<'_>, edit: impl FnOnce(&mut [u64; 11])) -> Option<Result<(usize, usize), ()>> {
    let size = c.args[1];
    let known = 8 * c.t.clone3_copy.len();
    // The kernel reads at most a page (E2BIG beyond).
    if size > known && (size > preld_arch::PAGE_SIZE || !beyond_is_zero(c.args[0], known, size)?) {
        return None;
    }
    let copy = &mut c.t.clone3_copy;
    *copy = [0; 11];
    // SAFETY: the copy's 88 bytes, plain integers, seen as bytes.
    let bytes = unsafe { core::slice::from_raw_parts_mut(copy.as_mut_ptr().cast::<u8>(), 8 * copy.len()) };
    let size = size.min(known);
    if !usermem::read(c.args[0], &mut bytes[..size]) {
        return Some(Err(()));
    }
    edit(copy);
    Some(Ok((copy.as_ptr() as usize, size)))
}

/// Whether the bytes [from, to) of the struct at `addr` are all zero; None
/// where they cannot be read (the kernel's EFAULT: the struct goes as it
/// is).
fn beyond_is_zero(addr: usize, from: usize, to: usize) -> Option<bool> {
    let mut chunk = [0u8; 256];
    let mut at = from;
    while at < to {
        let n = (to - at).min(chunk.len());
        if !usermem::read(addr.wrapping_add(at), &mut chunk[..n]) {
            return None;
        }
        if chunk[..n].iter().any(|&b| b != 0) {
            return Some(false);
        }
        at += n;
    }
    Some(true)
}

/// A copy of the process: made here, with preld's locks held so that the
/// child finds them free and its heap consistent.
fn fork(c: &mut Call<'_>, flags: u64, child_sp: usize) -> Outcome {
    // In a session the child needs a connection of its own.
    let child_main = match rpc::prepare_fork(*c.uc.sigmask()) {
        Ok(m) => m,
        // The process dies of the signal as the handler returns.
        Err(e) => return Outcome::err(e),
    };
    // With CLONE_FILES the child shares this fd table: preld's fds in it
    // (this process's connections, the child's new one) stay open for both.
    let shared_fds = flags & CLONE_FILES != 0;
    let actions = crate::thread::actions(c.t);
    // No rewrite under way either: the child would keep the page of code
    // (or of stubs) it had made writable.
    let guard = (fast::hold_rewrites(), heap::lock(), actions.hold());
    // SAFETY: the application's own fork/clone, without shared memory and
    // without a new stack (taken out by `without_stack`): the child
    // continues on a copy of this very stack.
    let r = unsafe { sys::raw(c.nr, c.args) };
    drop(guard);
    match r {
        Ok(0) => {
            if flags & CLONE_CLEAR_SIGHAND != 0 {
                actions.copy_into(actions, true);
                // The kernel has reset every handler, preld's SIGSYS action
                // too: the child's next call would have killed it.
                if sud::install_action().is_err() {
                    sys::exit_group(127);
                }
            }
            // The child: only this thread exists here now, and memory
            // the parent kept from it (MADV_DONTFORK) is not here: the
            // pages known readable are forgotten.
            usermem::forked();
            thread::forked(c.t, shared_fds);
            fast::forked();
            rpc::forked_child(c.t, child_main, shared_fds);
            crate::pola::forked();
            crate::owners::forked();
            crate::beneath::forked();
            usermem::set_pid(sys::getpid());
            c.forked_child = true;
            if child_sp != 0 {
                // The stack the application gave the child.
                c.uc.set_rsp(child_sp);
            }
            if sud::arm().is_err() {
                sys::exit_group(127);
            }
            Outcome::Return(0)
        }
        Ok(pid) => {
            rpc::forked_parent(child_main, shared_fds);
            Outcome::Return(pid as isize)
        }
        Err(e) => {
            // No child: its connection is nobody's.
            rpc::forked_parent(child_main, false);
            Outcome::Return(-(e as isize))
        }
    }
}

/// A child that shares memory or has its own stack: made in the clone gate.
fn gate(c: &mut Call<'_>, flags: u64) -> Outcome {
    if flags & CLONE_CLEAR_SIGHAND != 0 && c.nr == Sysno::clone3 as usize {
        // The kernel would reset the child's SIGSYS action to SIG_DFL too,
        // and its first call would kill it: the flag is left out of a copy
        // the kernel reads instead (a larger struct with fields preld does
        // not know goes as it is); the child's table is cleared below, and the
        // signals of its handlers reach signal_entry, which acts as
        // SIG_DFL for them.
        match clone3_copy(c, |a| a[0] &= !CLONE_CLEAR_SIGHAND) {
            Some(Ok((copy, size))) => {
                let mut a = c.orig;
                (a[0], a[1]) = (copy, size);
                c.uc.set_args(&a);
            }
            Some(Err(())) => return Outcome::err(EFAULT),
            None => {}
        }
    }
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        // Two threads of execution in this memory from now on (a vfork's
        // parent waits): copies and mapping changes may race, and the main
        // connection is no longer this thread's to make requests on.
        usermem::shared_memory();
        crate::rpc::memory_shared(c.t, *c.uc.sigmask());
    }
    let child = match thread::alloc() {
        Ok(b) => b,
        Err(e) => return Outcome::Return(-(e as isize)),
    };
    let app_mask = *c.uc.sigmask();
    child.arch.resume_rip = c.uc.rip();
    child.arch.rflags = c.uc.rflags();
    child.arch.regs = c.orig;
    child.arch.sigmask = app_mask;
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK != 0 {
        // A vfork child keeps its parent's sigaltstack (the kernel does not
        // reset it), so the application's view does too.
        child.app_altstack = c.t.app_altstack;
    }
    child.sigsys_blocked = c.t.sigsys_blocked;
    child.task = match flags & (CLONE_VM | CLONE_THREAD | CLONE_VFORK) {
        f if f == CLONE_VM | CLONE_VFORK => Task::VforkChild,
        CLONE_VM => Task::Process,
        _ => Task::Thread,
    };
    if flags & CLONE_VM != 0 && flags & CLONE_FS == 0 && crate::rpc::active() {
        // Memory shared, cwd not (vfork, posix_spawn): the child's chdir in
        // a session must not move its parent's virtual cwd.
        child.own_cwd = Some(crate::pola::cwd(c.t));
    }
    if flags & CLONE_VM != 0 && flags & CLONE_FILES == 0 {
        // Memory shared, fds not: what either learns of an fd is not true
        // of the other's (undone in parent_post for a vfork child), nor
        // which fds are preld's.
        crate::beneath::own_fd_table(flags & CLONE_VFORK != 0);
    }
    // Which fds are preld's is a property of the fd table: a child with
    // a table of its own in this memory (a vfork child; a process made
    // with CLONE_VM but not CLONE_FILES) marks its own in a copy of the
    // caller's set, freed with the last block that names it. (A process
    // of the latter kind shared the caller's set: its connection's number
    // was preld's in its parent's table too, the parent's dup2 there
    // moved "preld's" fd and unmarked it, and the child's dup2 then
    // replaced its connection; session-17b adversary.)
    let own = if flags & (CLONE_VM | CLONE_FILES) == CLONE_VM { crate::ownfd::for_child() } else { 0 };
    child.arch.own_fds = if own != 0 {
        own
    } else {
        // (Without CLONE_VM the count is the child's copy's, and parent_post
        // gives this one back if the clone failed or was a vfork.)
        crate::ownfd::share(c.t.arch.own_fds);
        c.t.arch.own_fds
    };
    let parent_actions = crate::thread::actions(c.t);
    if flags & CLONE_VM != 0 && flags & CLONE_SIGHAND == 0 || flags & CLONE_CLEAR_SIGHAND != 0 {
        // Memory shared, handlers not (vfork, posix_spawn): the child's
        // sigaction calls must not change the parent's table.
        parent_actions.copy_into(&child.own_actions, flags & CLONE_CLEAR_SIGHAND != 0);
        child.actions = &child.own_actions as *const Actions as usize;
    } else {
        child.actions = c.t.actions;
    }
    let t = &mut *c.t;
    t.clone_resume = c.uc.rip();
    t.clone_mask = app_mask;
    t.clone_child = child as *mut ThreadBlock as usize;
    t.clone_vfork = flags & CLONE_VFORK != 0;
    t.clone_process = child.task == Task::Process;
    t.clone_vfork_files = flags & (CLONE_VM | CLONE_VFORK | CLONE_FILES) == CLONE_VM | CLONE_VFORK;
    t.clone_nr = c.nr;
    t.clone_args = c.orig;
    // SAFETY: `child` is a block thread::alloc prepared (its ArchThread
    // first, self_ptr its address), filled above; it stays the child's
    // until the child exits (or parent_post frees it when there is none).
    // Nothing is written on the child's stack, whatever it is.
    unsafe { c.uc.divert_to_clone(child.arch.self_ptr) };
    Outcome::Diverted
}

/// The parent's second trap after `clone_gate`: rax is the result.
pub fn parent_post(t: &mut ThreadBlock, uc: &mut preld_arch::Ucontext) {
    let r = uc.rax() as isize;
    if r < 0 || t.clone_vfork {
        // No child, or a vfork child that has exec'd or exited: the block
        // is not used any more, nor what its exec prepared.
        // SAFETY: stored by `gate` from a block thread::alloc gave, which
        // only this thread frees (here); no thread runs on it now (none was
        // made, or the vfork child no longer uses this memory), so this is
        // the only reference to it. (A running child's block is never
        // referenced here: it is that thread's `thread::current`.)
        let child = unsafe { &mut *(t.clone_child as *mut ThreadBlock) };
        crate::ownfd::release(child.arch.own_fds);
        crate::exec::free_prepared(child);
        child.own_cwd = None;
        thread::free(child);
    }
    if r > 0 && t.clone_process {
        // A process sharing this memory: its slot is reaped once it no
        // longer does, whether or not it calls exit.
        thread::process_started(t.clone_child, r as i32);
    }
    if t.clone_vfork_files {
        // The vfork child has exec'd or exited (or was never made).
        crate::beneath::vfork_ended();
        t.clone_vfork_files = false;
    }
    *uc.sigmask() = t.clone_mask;
    // r9 carried the child's block through the gate.
    uc.set_args(&t.clone_args);
    uc.resume_at(t.clone_resume, r as usize);
    if trace::wants(t, t.clone_nr) {
        let (nr, args) = (t.clone_nr, t.clone_args);
        trace::record(t, nr, &args, r);
    }
}

/// A thread's exit: its slot is reused once it is gone.
pub fn exit(c: &mut Call<'_>) -> Outcome {
    thread::exiting(c.t);
    Outcome::Real
}
