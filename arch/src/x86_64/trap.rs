//! The trap path on x86_64: the SIGSYS entry, and the gates through which a
//! trapped call is really made when it cannot be made inside the handler.
//!
//! ```text
//!  app: syscall ──SUD──► kernel: SIGSYS frame on the thread's sigaltstack
//!  sigsys_entry: switch to the thread's preld stack, call the handler with
//!     every signal blocked; the handler serves the call and edits the frame:
//!   - answered/made in the handler: rax = result, return to the app
//!   - made with the app's own signal mask (anything that may block):
//!        app stack: [rsp_app-128, rsp_app) red zone, untouched
//!                   [rsp_app-208, rsp_app-128) slot: resume rip, the six
//!                   original argument registers, rflags, two handler words
//!        uc.rsp = slot, uc.rip = tail_gate (or tail_gate_post)
//!     rt_sigreturn restores the app's mask and registers atomically, the
//!     gate makes the call, reloads the arguments and jumps back. A signal
//!     during the call sees a thread outside preld: EINTR, SA_RESTART and
//!     siglongjmp behave as natively, and the slot survives the signal frame
//!     (which starts 128 bytes below the slot).
//!     The slot is written only where the handler has checked it may be
//!     (`tail_slot`); otherwise the call is made in the handler or the
//!     thread is sent to `stack_fault` (handler/src/dispatch.rs).
//!   - clone family: uc.rip = clone_gate with the app's registers (r9, which
//!     no clone-family call reads, carrying the child's thread block) and
//!     every signal but SIGSYS blocked; the child starts in the gate on the stack
//!     the app gave it, which preld code never touches.
//!   - "post" variants trap once more after the call (a `syscall` outside the
//!     gate) so that the handler sees the result: tracing, exec failures.
//! ```
//!
//! preld code runs inside the SIGSYS handler, with all signals blocked, or
//! in the fast path's handler gate, where a signal is put off until the
//! gate ends (`defer_signal`), so the preld stack is never in use when a
//! trap or a signal's handler needs it: no nesting.

use core::mem::offset_of;

use crate::abi::{self, SIGINFO_SIZE, SIGSYS};

/// The System V red zone below rsp, which no preld code writes.
pub const RED_ZONE: usize = 128;
/// The slot below the red zone: resume rip, six arguments, rflags, and two
/// words the handler keeps for its second look at a `tail_gate_post` call.
const SLOT_SIZE: usize = 80;
/// From a tail gate's rsp (the slot) back to the application's rsp.
const TAIL: usize = RED_ZONE + SLOT_SIZE;
/// The bytes `Ucontext::divert_to_tail` writes at `Ucontext::tail_slot`.
pub const TAIL_SLOT_LEN: usize = SLOT_SIZE;

/// A tail slot as read back at a `TailPost` trap.
pub struct TailState {
    /// Where the application resumes.
    pub rip: usize,
    /// Its original argument registers.
    pub args: [usize; 6],
    /// The handler's two words (`divert_to_tail`'s `post`).
    pub words: [usize; 2],
}

/// The per-thread part of preld's state that assembly reads through `gs`.
/// The handler's thread block starts with it; gs base points at it.
#[repr(C)]
pub struct ArchThread {
    /// Address of this block: `gs:[0]`, so Rust can find it.
    pub self_ptr: usize,
    /// Top of the thread's preld stack (16-aligned): the SIGSYS handler's stack.
    pub stack_hi: usize,
    /// For a new child: where its prologue resumes the application...
    pub resume_rip: usize,
    pub rflags: usize,
    /// ...with these argument registers: rdi, rsi, rdx, r10, r8, r9...
    pub regs: [usize; 6],
    /// ...this signal mask...
    pub sigmask: u64,
    /// ...and this sigaltstack (a `stack_t`: ss_sp, ss_flags, ss_size).
    pub altstack: [usize; 3],
    /// The mask `signal_entry` installs before it enters an application
    /// handler (written by the handler with every signal blocked).
    pub handler_mask: u64,
    /// The thread's id once known (0 before): a new child stores it first
    /// thing, so that it is known even if the thread never traps.
    pub tid: usize,
    /// Set by the handler for `signal_entry` when the application's handler
    /// must run on another frame than the kernel's: the stack pointer with
    /// the handler's arguments below that frame (see `handler_frame_entry`);
    /// 0: the kernel's frame.
    pub handler_sp: usize,
    /// Non-zero while the fast path's handler gate runs preld code on the
    /// preld stack with the application's signal mask (`fast_gate_handler`):
    /// a signal that comes then is put off (`defer_signal`).
    pub in_gate: usize,
    /// The signals put off during the gate, blocked until it ends.
    pub deferred: u64,
    /// Non-zero when a signal put off made `syscall6_restartable`'s call
    /// return -EINTR instead of being restarted (or made): the handler
    /// reads and clears it.
    pub restarted: u64,
    /// The set of preld's fds in this thread's fd table
    /// (`fast::OwnFds`; never null once the block is set up).
    pub own_fds: usize,
}

const TB_SELF: usize = offset_of!(ArchThread, self_ptr);
const TB_STACK_HI: usize = offset_of!(ArchThread, stack_hi);
/// For the fast path's handler gate, which takes the preld stack too.
pub(crate) const TB_STACK_HI_OFFSET: usize = TB_STACK_HI;
const TB_RESUME: usize = offset_of!(ArchThread, resume_rip);
const TB_RFLAGS: usize = offset_of!(ArchThread, rflags);
const TB_REGS: usize = offset_of!(ArchThread, regs);
const TB_SIGMASK: usize = offset_of!(ArchThread, sigmask);
const TB_ALTSTACK: usize = offset_of!(ArchThread, altstack);
const TB_HANDLER_MASK: usize = offset_of!(ArchThread, handler_mask);
const TB_TID: usize = offset_of!(ArchThread, tid);
const TB_HANDLER_SP: usize = offset_of!(ArchThread, handler_sp);
/// For the fast path's handler gate, which marks the thread as in it.
pub(crate) const TB_IN_GATE: usize = offset_of!(ArchThread, in_gate);
pub(crate) const TB_DEFERRED: usize = offset_of!(ArchThread, deferred);
const TB_RESTARTED: usize = offset_of!(ArchThread, restarted);
/// For the fast path's fd gates.
pub(crate) const TB_OWN_FDS: usize = offset_of!(ArchThread, own_fds);
const _: () = assert!(TB_SELF == 0);

// ucontext_t / struct sigcontext of x86_64 (asm/sigcontext.h, asm/ucontext.h).
const UC_MCONTEXT: usize = 40;
const UC_SIGMASK: usize = 296;
const G_R8: usize = 0;
const G_R9: usize = 1;
const G_R10: usize = 2;
const G_R12: usize = 4;
const G_RDI: usize = 8;
const G_RSI: usize = 9;
const G_RBP: usize = 10;
const G_RBX: usize = 11;
const G_RDX: usize = 12;
const G_RAX: usize = 13;
const G_RCX: usize = 14;
const G_RSP: usize = 15;
const G_RIP: usize = 16;
const G_EFL: usize = 17;
const G_FPSTATE: usize = 23;
/// sizeof(struct ucontext) (linux-raw-sys has no ucontext); sizeof(siginfo_t)
/// is abi.rs's.
const UC_SIZE: usize = 304;
/// struct rt_sigframe: the return address (pretcode), ucontext, siginfo;
/// the FPU state lies above it, 64-aligned.
const RT_SIGFRAME: usize = 8 + UC_SIZE + SIGINFO_SIZE;
/// The legacy FXSAVE area, and where its software-reserved bytes say how
/// large the XSAVE area that extends it is (asm/sigcontext.h).
const FXSAVE_SIZE: usize = 512;
const FP_SW_BYTES: usize = 464;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// Flags the kernel clears when it enters a signal handler.
const EFLAGS_CLEARED_FOR_HANDLER: usize = 0x400 /* DF */ | 0x100 /* TF */ | 0x1_0000 /* RF */;
const ARG_REGS: [usize; 6] = [G_RDI, G_RSI, G_RDX, G_R10, G_R8, G_R9];
/// Where `int $0x80` (the i386 table) takes its six arguments.
const I386_ARG_REGS: [usize; 6] = [G_RBX, G_RCX, G_RDX, G_RSI, G_RDI, G_RBP];

/// Which trap brought us into the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapSite {
    /// A system call of the application.
    App,
    /// The second trap of `tail_gate_post`: rax holds the call's result.
    TailPost,
    /// The parent's second trap after `clone_gate`: rax holds the result.
    ClonePost,
}

/// The interrupted context of a SIGSYS, as the kernel passed it to a
/// SA_SIGINFO handler.
pub struct Ucontext(*mut u8);

impl Ucontext {
    /// # Safety
    /// `uc` is the third argument of a SA_SIGINFO handler, used only while
    /// that handler runs.
    pub unsafe fn from_ptr(uc: *mut core::ffi::c_void) -> Ucontext {
        Ucontext(uc.cast())
    }

    /// Word `i` of uc_mcontext: a general register (`G_*` < 23) or, at
    /// `G_FPSTATE` = 23, the FPU state pointer that follows gregs.
    fn greg(&self, i: usize) -> *mut usize {
        debug_assert!(i <= G_FPSTATE);
        // SAFETY: every caller passes a G_* constant, at most G_FPSTATE = 23:
        // one of the 23 gregs or the fpstate pointer after them, all within
        // the 256-byte uc_mcontext of the frame `from_ptr` was given.
        unsafe { self.0.add(UC_MCONTEXT + 8 * i).cast() }
    }
    fn get(&self, i: usize) -> usize {
        // SAFETY: greg returns a pointer into the frame, live while the
        // handler runs (from_ptr's contract) and 8-aligned (the kernel
        // aligns the ucontext; uc_mcontext is at offset 40).
        unsafe { *self.greg(i) }
    }
    fn set(&mut self, i: usize, v: usize) {
        // SAFETY: as in get.
        unsafe { *self.greg(i) = v }
    }

    /// The trapped call's number (the kernel rolls rax back to it), or the
    /// result of the call for the post sites.
    pub fn rax(&self) -> usize {
        self.get(G_RAX)
    }
    pub fn set_rax(&mut self, v: usize) {
        self.set(G_RAX, v)
    }
    pub fn args(&self) -> [usize; 6] {
        ARG_REGS.map(|r| self.get(r))
    }
    /// The arguments of a trapped `int $0x80` (ebx, ecx, edx, esi, edi,
    /// ebp).
    pub fn i386_args(&self) -> [usize; 6] {
        I386_ARG_REGS.map(|r| self.get(r))
    }
    /// Replaces the argument registers the real call will see.
    pub fn set_args(&mut self, args: &[usize; 6]) {
        for (r, v) in ARG_REGS.iter().zip(args) {
            self.set(*r, *v);
        }
    }
    pub fn rip(&self) -> usize {
        self.get(G_RIP)
    }
    pub fn rsp(&self) -> usize {
        self.get(G_RSP)
    }
    /// r12 (the fast path's store of code keeps its window there).
    pub fn r12(&self) -> usize {
        self.get(G_R12)
    }
    /// The stack pointer rt_sigreturn resumes with.
    pub fn set_rsp(&mut self, v: usize) {
        self.set(G_RSP, v)
    }
    /// Where rt_sigreturn resumes.
    pub fn set_rip(&mut self, v: usize) {
        self.set(G_RIP, v)
    }
    pub fn rflags(&self) -> usize {
        self.get(G_EFL)
    }
    /// Clears the trap flag (single-stepping) in the flags rt_sigreturn
    /// restores; whether it was set.
    pub fn clear_trap_flag(&mut self) -> bool {
        let f = self.rflags();
        self.set(G_EFL, f & !0x100);
        f & 0x100 != 0
    }
    /// The signal mask rt_sigreturn will restore, read.
    pub fn sigmask_value(&self) -> u64 {
        // SAFETY: uc_sigmask lies in the live frame; 8-aligned.
        unsafe { *self.0.add(UC_SIGMASK).cast::<u64>() }
    }

    /// The signal mask rt_sigreturn will restore.
    pub fn sigmask(&mut self) -> &mut u64 {
        // SAFETY: uc_sigmask lies in the live frame; 8-aligned.
        unsafe { &mut *self.0.add(UC_SIGMASK).cast() }
    }

    /// The raw pointer, to hand the context on to an application handler.
    pub fn as_ptr(&mut self) -> *mut core::ffi::c_void {
        self.0.cast()
    }

    /// The sigaltstack rt_sigreturn will install (uc_stack).
    pub fn set_altstack(&mut self, sp: usize, flags: i32, size: usize) {
        // SAFETY: uc_stack (ss_sp, ss_flags, ss_size) lies at 16..40 of the
        // live frame.
        unsafe {
            *(self.0.add(16) as *mut usize) = sp;
            *(self.0.add(24) as *mut i32) = flags;
            *(self.0.add(32) as *mut usize) = size;
        }
    }

    /// Which trap this is, from where it happened.
    pub fn site(&self) -> TrapSite {
        let rip = self.rip();
        if rip == post_site(tail_post_trap as *const ()) {
            TrapSite::TailPost
        } else if rip == post_site(clone_post_trap as *const ()) {
            TrapSite::ClonePost
        } else {
            TrapSite::App
        }
    }

    /// Where `divert_to_tail` would write its slot: the `TAIL_SLOT_LEN`
    /// bytes from the returned address, just below the red zone under the
    /// application's rsp. None when rsp is too low to have them.
    pub fn tail_slot(&self) -> Option<usize> {
        self.rsp().checked_sub(TAIL)
    }

    /// Makes the return from this SIGSYS make the call in `tail_gate` (or
    /// `tail_gate_post` when `post` carries the handler's two words) with the
    /// application's signal mask and the current argument registers (possibly
    /// rewritten), then restore the original ones `orig_args` and resume.
    ///
    /// # Safety
    /// `tail_slot()` is Some, and its `TAIL_SLOT_LEN` bytes are application
    /// memory, mapped and writable, that no Rust reference covers (none of
    /// preld's): the caller has checked, nothing here does. A signal frame
    /// having room is no such check: the SIGSYS frame is on a sigaltstack.
    pub unsafe fn divert_to_tail(&mut self, orig_args: &[usize; 6], post: Option<[usize; 2]>) {
        let slot = self.rsp().wrapping_sub(TAIL);
        let [a, b] = post.unwrap_or_default();
        let mut words = [0usize; SLOT_SIZE / 8];
        words[0] = self.rip();
        words[1..7].copy_from_slice(orig_args);
        words[7] = self.rflags();
        words[8] = a;
        words[9] = b;
        // SAFETY: per the contract, [slot, slot + 80) is writable memory of
        // the application outside Rust's objects, below its red zone (where
        // it keeps nothing); copied as bytes, as rsp need not be aligned.
        // Only another thread of the application can unmap or protect it
        // after the caller's check: the copy then faults with every signal
        // blocked and the kernel ends the process with SIGSEGV, as natively
        // the program's next push onto the stack taken from under it would.
        unsafe { core::ptr::copy_nonoverlapping(words.as_ptr().cast::<u8>(), slot as *mut u8, SLOT_SIZE) };
        self.set(G_RSP, slot);
        let gate = if post.is_some() { tail_gate_post as *const () } else { tail_gate as *const () };
        self.set(G_RIP, gate as usize);
    }

    /// At a `TailPost` trap: the slot `divert_to_tail` wrote, where rsp
    /// points (its `TAIL_SLOT_LEN` bytes; an application that jumped to
    /// `tail_post_trap` itself may have put rsp anywhere).
    pub fn posted_slot(&self) -> usize {
        self.rsp()
    }

    /// At a `TailPost` trap: what the slot holds.
    ///
    /// # Safety
    /// The `TAIL_SLOT_LEN` bytes at `posted_slot()` are readable: the caller
    /// has checked.
    pub unsafe fn tail_state(&self) -> TailState {
        let mut w = [0usize; SLOT_SIZE / 8];
        // SAFETY: readable per the contract; copied as bytes (rsp need not be
        // aligned). A concurrent unmap by another application thread makes
        // this fault and the kernel end the process, as in divert_to_tail.
        unsafe { core::ptr::copy_nonoverlapping(self.rsp() as *const u8, w.as_mut_ptr().cast::<u8>(), SLOT_SIZE) };
        TailState { rip: w[0], args: core::array::from_fn(|i| w[1 + i]), words: [w[8], w[9]] }
    }

    /// At a `TailPost` trap: finishes like `tail_gate` would have, with
    /// `result` in rax and the slot's original arguments.
    pub fn finish_tail(&mut self, slot: &TailState, result: usize) {
        self.set_args(&slot.args);
        self.set(G_RSP, self.rsp().wrapping_add(TAIL));
        self.set(G_RIP, slot.rip);
        self.set(G_RAX, result);
    }

    /// Makes the return from this SIGSYS make the clone-family call in
    /// `clone_gate` with all of the application's registers but r9, which
    /// carries `child_block` (no clone-family call reads r9), every signal
    /// but SIGSYS blocked. The child finds its block in r9 and never touches
    /// its stack in preld code; the parent comes back as a `ClonePost`
    /// trap, which puts the application's r9 back (`set_args`).
    ///
    /// # Safety
    /// `child_block` is a thread block that starts with an `ArchThread`
    /// whose `self_ptr` is its address, filled for the child (resume state,
    /// mask, altstack), and that lives as long as the child.
    pub unsafe fn divert_to_clone(&mut self, child_block: usize) {
        self.set(G_R9, child_block);
        // Everything blocked but SIGSYS: the parent's second trap must not
        // find SIGSYS blocked (the kernel would reset the action and kill).
        *self.sigmask() = !(1u64 << (SIGSYS - 1));
        self.set(G_RIP, clone_gate as *const () as usize);
    }

    /// Makes the return from this SIGSYS fault as the kernel's own failure to
    /// write a signal frame does: `stack_fault` raises SIGSEGV (SI_KERNEL),
    /// forced, with the application's registers and mask. For a call whose
    /// tail slot cannot be written and which cannot be made in the handler.
    pub fn divert_to_stack_fault(&mut self) {
        self.set(G_RIP, stack_fault as *const () as usize);
    }

    /// Resumes the application at `rip` with `rax`.
    pub fn resume_at(&mut self, rip: usize, rax: usize) {
        self.set(G_RIP, rip);
        self.set(G_RAX, rax);
    }

    /// Makes the return from this SIGSYS execute the application's own
    /// rt_sigreturn from the gate: rsp still points at the application's
    /// signal frame, which the kernel then restores.
    pub fn divert_to_sigreturn(&mut self) {
        self.set(G_RIP, sigreturn_gate as *const () as usize);
    }

    /// Builds, below `sp`, the signal frame the kernel would have built for
    /// an application handler: this context (with `saved_mask` as the mask
    /// its rt_sigreturn restores), `info`, the FPU state, and `restorer` as
    /// the return address. `write` stores bytes in the application's memory
    /// and says whether it could. Returns the frame's address (the handler's
    /// rsp), or None if the memory is not writable.
    ///
    /// # Safety
    /// `info` points at a siginfo_t, and this context's FPU state pointer at
    /// the kernel's (or is null).
    pub unsafe fn write_handler_frame(
        &self,
        info: *const u8,
        sp: usize,
        restorer: usize,
        saved_mask: u64,
        write: impl Fn(usize, &[u8]) -> bool,
    ) -> Option<usize> {
        let fp_src = self.get(G_FPSTATE) as *const u8;
        let fp_len = if fp_src.is_null() {
            0
        } else {
            // SAFETY: the kernel's FXSAVE area is at least 512 bytes; its
            // software bytes (magic1, extended_size) say whether an XSAVE
            // area of extended_size bytes follows from the same start. As
            // the kernel wrote them: when the frame lies on the
            // application's own sigaltstack, another of its threads could
            // change them (and the state) meanwhile, and the copy below
            // then reads what it finds, up to faulting (SIGSEGV, the
            // process's own doing); preld's memory is not written.
            unsafe {
                let sw = fp_src.add(FP_SW_BYTES).cast::<u32>();
                if sw.read_unaligned() == FP_XSTATE_MAGIC1 { sw.add(1).read_unaligned() as usize } else { FXSAVE_SIZE }
            }
        };
        let fp = (sp - fp_len) & !63;
        let frame = ((fp - RT_SIGFRAME) & !15) - 8;
        let mut head = [0u8; RT_SIGFRAME];
        head[..8].copy_from_slice(&restorer.to_ne_bytes());
        // SAFETY: this context and `info` are readable for their sizes.
        unsafe {
            core::ptr::copy_nonoverlapping(self.0, head.as_mut_ptr().add(8), UC_SIZE);
            core::ptr::copy_nonoverlapping(info, head.as_mut_ptr().add(8 + UC_SIZE), SIGINFO_SIZE);
        }
        let fp_ptr = if fp_len == 0 { 0 } else { fp };
        let at = 8 + UC_MCONTEXT + 8 * G_FPSTATE;
        head[at..at + 8].copy_from_slice(&fp_ptr.to_ne_bytes());
        head[8 + UC_SIGMASK..8 + UC_SIGMASK + 8].copy_from_slice(&saved_mask.to_ne_bytes());
        if fp_len != 0 {
            // SAFETY: fp_len bytes of the kernel's FPU state, per above.
            let src = unsafe { core::slice::from_raw_parts(fp_src, fp_len) };
            if !write(fp, src) {
                return None;
            }
        }
        write(frame, &head).then_some(frame)
    }

    /// Makes the return from this signal enter an application handler as
    /// the kernel does: rsp = its frame, rdi = the signal, rsi = siginfo,
    /// rdx = ucontext, rax = 0, DF/TF/RF clear.
    pub fn enter_handler(&mut self, handler: usize, frame: usize, sig: usize) {
        self.set(G_RIP, handler);
        self.set(G_RSP, frame);
        self.set(G_RDI, sig);
        self.set(G_RSI, frame + 8 + UC_SIZE);
        self.set(G_RDX, frame + 8);
        self.set(G_RAX, 0);
        self.set(G_EFL, self.rflags() & !EFLAGS_CLEARED_FOR_HANDLER);
    }

    /// Where rax is saved in the application's own signal frame, for an
    /// application rt_sigreturn trapped with this context.
    pub fn app_frame_rax(&self) -> *mut usize {
        (self.rsp() + UC_MCONTEXT + 8 * G_RAX) as *mut usize
    }

    /// The signal mask saved in the application's own signal frame, for an
    /// application rt_sigreturn trapped with this context.
    pub fn app_frame_sigmask(&self) -> *mut u64 {
        (self.rsp() + UC_SIGMASK) as *mut u64
    }
}

/// The address after a 2-byte `syscall` at the start of `f`.
fn post_site(f: *const ()) -> usize {
    f as usize + 2
}

/// Whether `rip` lies after the call of `tail_gate_post` and before its
/// post trap (where a signal that came during the call finds the thread).
pub fn after_tail_call(rip: usize) -> bool {
    rip == post_site(tail_gate_post as *const ()) || rip == tail_post_trap as *const () as usize
}

/// `rt_sigreturn` from the gate: the restorer of preld's own signal actions,
/// and the path of the application's trapped rt_sigreturn. Owns rax; stack:
/// whatever signal frame rsp points at.
///
/// # Safety
/// Never called from Rust: reached by `ret` (as sa_restorer) or by a
/// sigreturn the handler diverted here (`divert_to_sigreturn`), with rsp
/// at a kernel signal frame's ucontext, from which rt_sigreturn restores
/// every register and the mask.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn sigreturn_gate() -> ! {
    core::arch::naked_asm!(
        "mov eax, {nr}",       // rt_sigreturn
        "syscall",             // never returns
        "ud2",
        nr = const abi::SYS_RT_SIGRETURN,
    )
}

unsafe extern "C" {
    /// The handler, called on the preld stack with every signal blocked.
    fn preld_sigsys(sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void);
}

/// What `preld_defer_signal` did (returned in rax and rdx).
#[repr(C)]
pub struct Deferral {
    /// The signal's bit, put off (0: none, the signal was a fault of
    /// preld's own code, made fatal).
    pub bit: u64,
    /// 1 when the interrupted call was `syscall6_restartable`'s, made to
    /// return -EINTR.
    pub restarted: u64,
}

unsafe extern "C" {
    /// Puts off a signal that came while the handler gate runs: queues it
    /// again to the thread and blocks it in the interrupted context's mask.
    fn preld_defer_signal(sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void) -> Deferral;
}

/// A signal that comes while the thread is in the handler gate
/// (`ArchThread.in_gate`), reached from `signal_entry` and `sigsys_entry`:
/// the gate's preld code is not reentrant and its stack is in use, so the
/// signal waits, queued again and blocked, until the gate ends and unblocks
/// it (`fast_gate_handler`), then reaches the application as natively
/// a signal pending across a call's return does.
///
/// Assumes: the kernel's handler call (rdi, rsi, rdx; rsp = the frame,
/// 8 off 16-alignment) with every signal blocked, on whatever stack the
/// kernel chose (below the gate's frames, or an alternate stack).
/// Does: calls `preld_defer_signal` there, adds its bit to
/// `ArchThread.deferred` (and its `restarted` to that field), and makes
/// the rt_sigreturn itself (the frame's restorer is the application's,
/// whose `syscall` would trap while the gate runs). Owns: every register (rt_sigreturn restores them).
///
/// # Safety
/// Never called from Rust: only jumped to by the two entries above, in the
/// state "Assumes" describes.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn defer_signal() {
    core::arch::naked_asm!(
        "sub rsp, 8",                         // 16-aligned for the call
        "call {defer}",
        "add rsp, 16",                        // and the restorer's word: the
        "or qword ptr gs:[{tb_deferred}], rax", // application's would trap
        "or qword ptr gs:[{tb_restarted}], rdx",
        "jmp {sigreturn}",                    // rt_sigreturn from the gate
        defer = sym preld_defer_signal,
        tb_deferred = const TB_DEFERRED,
        tb_restarted = const TB_RESTARTED,
        sigreturn = sym sigreturn_gate,
    )
}

/// The SIGSYS action's handler.
///
/// Assumes: the kernel's SA_SIGINFO call (rdi, rsi, rdx) on the sigaltstack,
/// every signal blocked (the action's sa_mask), gs = this thread's block.
/// Does: moves to the thread's preld stack, so that the handler's depth
/// never depends on the size of the application's sigaltstack, calls
/// `preld_sigsys`, and returns on the signal stack to the restorer.
/// Owns: the registers of a C call; r12 keeps the signal stack pointer.
///
/// # Safety
/// Never called from Rust: only the kernel enters it, as the SA_SIGINFO
/// handler of SIGSYS, in the state "Assumes" describes (it runs on the
/// preld stack that gs names, which must be unused).
#[unsafe(naked)]
pub unsafe extern "C" fn sigsys_entry() {
    core::arch::naked_asm!(
        "cmp qword ptr gs:[{tb_in_gate}], 0", // in the handler gate: later
        "jne {defer}",
        "push r12",                           // callee-saved: ours to use
        "mov r12, rsp",                       // the signal stack
        "mov rsp, gs:[{stack_hi}]",           // the preld stack is free: no nesting
        "call {handler}",                     // rsp is 16-aligned, as a call needs
        "mov rsp, r12",
        "pop r12",
        "ret",                                // to sa_restorer: sigreturn_gate
        stack_hi = const TB_STACK_HI,
        handler = sym preld_sigsys,
        tb_in_gate = const TB_IN_GATE,
        defer = sym defer_signal,
    )
}

/// The ucontext of a handler frame written by `write_handler_frame` at
/// `frame` (where the handler's rt_sigreturn finds rsp).
pub fn handler_frame_context(frame: usize) -> usize {
    frame + 8
}

/// For `signal_entry` entering a handler on a frame of preld's making at
/// `frame`: the four words it pops below the frame (uc, siginfo, the
/// signal, and a slot for the handler's address), and the stack pointer to
/// leave in `ArchThread.handler_sp`.
pub fn handler_frame_entry(frame: usize, sig: usize) -> ([usize; 4], usize) {
    ([frame + 8, frame + 8 + UC_SIZE, sig, 0], frame - 32)
}

unsafe extern "C" {
    /// Decides how a signal enters the application's handler: returns the
    /// handler and leaves the mask it runs with in `ArchThread.handler_mask`.
    fn preld_signal(sig: i32, info: *mut core::ffi::c_void, uc: *mut core::ffi::c_void) -> usize;
}

/// The real action of every signal the application handles (but SIGSYS):
/// preld sees the signal first, then the application's handler runs on the
/// very frame the kernel built, as if the kernel had called it.
///
/// Assumes: the kernel's call (rdi, rsi, rdx; rsp = the frame, whose first
/// word is the application's restorer) with every signal blocked (the real
/// action's sa_mask), gs = this thread's block.
/// Does: a signal that interrupted the fast path's store of code (its rip
/// in `code_cmpxchg`'s window) goes to `fast::code_store_signal`, on the
/// frame's stack. Else: saves the three arguments and a slot for the
/// handler's address on the frame's stack, runs `preld_signal` on the preld stack (free: preld
/// code runs with every signal blocked, or in the handler gate, where a
/// signal goes to `defer_signal` instead), comes back to the frame's
/// stack, installs the handler's mask (the last preld instruction with
/// signals blocked: a signal from here on finds the preld stack unused),
/// and returns into the handler with rsp, rdi, rsi, rdx as the kernel set
/// them and rax = 0 — or, when the handler put a frame of its own making
/// elsewhere (`handler_sp`, written with every signal blocked and read
/// before they are unblocked), with those of that frame. Owns: rax, rcx,
/// r10, r11 (clobbered, as the kernel's entry leaves them undefined) and
/// rbx, restored.
///
/// # Safety
/// Never called from Rust: only the kernel enters it, as the real handler
/// of a signal the application handles (or of SIGSEGV and SIGBUS while the
/// fast path stores code), in the state "Assumes" describes.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn signal_entry() {
    core::arch::naked_asm!(
        // Interrupted in a store of code (the fast path's `code_cmpxchg`,
        // inside the SIGSYS handler): its own way, on this stack.
        "mov rax, qword ptr [rdx + {uc_rip}]",
        "lea rcx, [rip + preld_code_store_win]",
        "cmp rax, rcx",
        "jb 5f",
        "lea rcx, [rip + preld_code_store_end]",
        "cmp rax, rcx",
        "jb {code_store}",
        "5:",
        "cmp qword ptr gs:[{tb_in_gate}], 0", // in the handler gate: later
        "jne {defer}",
        "sub rsp, 8",                         // [frame - 8]: the handler's address
        "push rdi",
        "push rsi",
        "push rdx",
        "push rbx",                           // rsp is 16-aligned: the frame is 8 off
        "mov rbx, rsp",
        "mov rsp, gs:[{stack_hi}]",
        "call {decide}",
        "mov rsp, rbx",
        "pop rbx",
        "mov rcx, gs:[{tb_handler_sp}]",      // a frame of preld's making instead?
        "test rcx, rcx",
        "jz 2f",
        "mov qword ptr gs:[{tb_handler_sp}], 0",
        "mov rsp, rcx",                       // its rdx, rsi, rdi and handler slot
        "2:",
        "mov [rsp + 24], rax",
        "mov edi, {sig_setmask}",             // rt_sigprocmask(SIG_SETMASK, &block.handler_mask, NULL, 8)
        "mov rsi, gs:[{tb_self}]",
        "add rsi, {tb_handler_mask}",
        "xor edx, edx",
        "mov r10d, 8",
        "mov eax, {sys_rt_sigprocmask}",
        "syscall",
        "pop rdx",
        "pop rsi",
        "pop rdi",
        "xor eax, eax",
        "ret",                                // into the handler, rsp = the frame
        stack_hi = const TB_STACK_HI,
        decide = sym preld_signal,
        sig_setmask = const abi::SIG_SETMASK,
        tb_self = const TB_SELF,
        tb_handler_mask = const TB_HANDLER_MASK,
        tb_handler_sp = const TB_HANDLER_SP,
        sys_rt_sigprocmask = const abi::SYS_RT_SIGPROCMASK,
        tb_in_gate = const TB_IN_GATE,
        defer = sym defer_signal,
        uc_rip = const UC_MCONTEXT + 8 * G_RIP,
        code_store = sym super::fast::code_store_signal,
    )
}

/// A handler that returns at once: for a signal whose action the
/// application changed to SIG_IGN/SIG_DFL while it was being delivered.
pub extern "C" fn ignore_signal(_sig: i32) {}

/// Makes a passthrough call with the application's mask and comes back.
///
/// Assumes: rsp = slot (resume rip, original arguments, rflags), registers
/// and signal mask the application's, arguments possibly rewritten.
/// Does: the call; reloads the six original argument registers; rcx = resume
/// rip and r11 = rflags (the kernel's r11), as after the application's own
/// `syscall`. Owns: rcx. Stack: the application's, untouched above the slot.
///
/// # Safety
/// Never called from Rust: only entered by the rt_sigreturn of a frame
/// `Ucontext::divert_to_tail` prepared (rsp at the slot it wrote, rax the
/// call's number).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn tail_gate() -> ! {
    core::arch::naked_asm!(
        "syscall",
        "mov rdi, [rsp + 8]",                 // the application's own arguments
        "mov rsi, [rsp + 16]",
        "mov rdx, [rsp + 24]",
        "mov r10, [rsp + 32]",
        "mov r8, [rsp + 40]",
        "mov r9, [rsp + 48]",
        "mov rcx, [rsp]",                     // resume rip
        "lea rsp, [rsp + {tail}]",            // the application's rsp; flags untouched
        "jmp rcx",
        tail = const TAIL,
    )
}

/// As `tail_gate`, but traps again after the call (`tail_post_trap`) so that
/// the handler sees the result; the handler then finishes the return.
///
/// # Safety
/// As for `tail_gate`: only entered by the rt_sigreturn of a frame
/// `divert_to_tail` prepared with its `post` words.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn tail_gate_post() -> ! {
    core::arch::naked_asm!(
        "syscall",
        "jmp {post}",
        post = sym tail_post_trap,
    )
}

/// Outside the gate: its `syscall` traps, with rax = the result of the call
/// just made. Identified by its address (`TrapSite::TailPost`).
///
/// # Safety
/// Only reached by `tail_gate_post`'s jump, in a thread with Syscall User
/// Dispatch armed: the trap's handler resumes the application elsewhere
/// (`finish_tail`), so the `ud2` is never reached.
#[unsafe(naked)]
pub unsafe extern "C" fn tail_post_trap() -> ! {
    core::arch::naked_asm!("syscall", "ud2")
}

/// Outside the gate: the clone parent's second trap (`TrapSite::ClonePost`).
///
/// # Safety
/// Only reached by `clone_gate`'s jump in the parent (or after a failed
/// call), with Syscall User Dispatch armed: the trap's handler resumes the
/// application, so the `ud2` is never reached.
#[unsafe(naked)]
pub unsafe extern "C" fn clone_post_trap() -> ! {
    core::arch::naked_asm!("syscall", "ud2")
}

/// Makes a clone-family call with exactly the application's registers and
/// stack pointer (but r9, which carries the child's block), every signal
/// but SIGSYS blocked.
///
/// Parent: traps again at `clone_post_trap` with rax = the result; the
/// handler restores the application's mask and r9 and resumes it.
/// Child, on its initial stack (the new one, or the vfork parent's), which
/// it never touches here: points gs at the block r9 names, stores its tid
/// there, arms Syscall User Dispatch, installs its sigaltstack, takes the
/// application's rflags from the block (popfq with rsp briefly in the block,
/// before any signal but SIGSYS is unblocked: a SIGSYS goes to the
/// sigaltstack just installed), installs the application's signal mask
/// (flags survive a `syscall`), restores the argument registers and jumps
/// to the resume rip with rax = 0, rcx = resume rip, r11 = rflags and the
/// flags themselves the application's, as after its own `syscall`. It never
/// runs code that expects the parent's stack, nor writes to its own: a
/// child given a bad stack faults where natively it would, in its own code.
/// Owns (child): rax, rcx, rdi, rsi, rdx, r10, r8, r9, r11, restored from
/// the block.
///
/// # Safety
/// Never called from Rust: only entered by the rt_sigreturn of a frame
/// `Ucontext::divert_to_clone` prepared (the application's registers for a
/// clone-family call, r9 = the child's thread block, every signal but
/// SIGSYS blocked).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn clone_gate() -> ! {
    core::arch::naked_asm!(
        "syscall",
        "test rax, rax",
        "jnz {post}",                         // parent or failure
        "mov rsi, r9",                        // arch_prctl(ARCH_SET_GS, block)
        "mov edi, {arch_set_gs}",
        "mov eax, {sys_arch_prctl}",
        "syscall",
        "mov eax, {sys_gettid}",              // block.tid = gettid()
        "syscall",
        "mov gs:[{tb_tid}], rax",
        "mov edi, {pr_sud}",                  // prctl(PR_SET_SYSCALL_USER_DISPATCH,
        "mov esi, {pr_sud_on}",               //   ON, gate start, gate length, no selector)
        "lea rdx, [rip + __start_preld_gate]",
        "lea r10, [rip + __stop_preld_gate]",
        "sub r10, rdx",
        "xor r8d, r8d",
        "mov eax, {sys_prctl}",
        "syscall",
        "test rax, rax",
        "jnz 4f",                             // never run the app untrapped
        "mov rdi, gs:[{tb_self}]",            // sigaltstack(&block.altstack, NULL)
        "add rdi, {tb_altstack}",
        "xor esi, esi",
        "mov eax, {sys_sigaltstack}",
        "syscall",
        "mov rcx, rsp",                       // the application's flags, from
        "mov rsp, gs:[{tb_self}]",            //   the block, not from its stack
        "lea rsp, [rsp + {tb_rflags}]",
        "popfq",
        "mov rsp, rcx",                       // from here on no flag changes:
        "mov edi, {sig_setmask}",             // rt_sigprocmask(SIG_SETMASK, &block.sigmask, NULL, 8)
        "mov rsi, gs:[{tb_self}]",
        "lea rsi, [rsi + {tb_sigmask}]",
        "mov edx, 0",
        "mov r10d, 8",
        "mov eax, {sys_rt_sigprocmask}",
        "syscall",
        "mov rdi, gs:[{tb_regs} + 0]",        // the application's argument registers
        "mov rsi, gs:[{tb_regs} + 8]",
        "mov rdx, gs:[{tb_regs} + 16]",
        "mov r10, gs:[{tb_regs} + 24]",
        "mov r8, gs:[{tb_regs} + 32]",
        "mov r9, gs:[{tb_regs} + 40]",
        "mov rcx, gs:[{tb_resume}]",
        "mov r11, gs:[{tb_rflags}]",
        "mov eax, 0",                         // the child's result
        "jmp rcx",
        "4:",
        "mov edi, 127",                       // cannot arm the trap: end this child
        "mov eax, {sys_exit}",
        "syscall",
        "ud2",
        post = sym clone_post_trap,
        arch_set_gs = const abi::ARCH_SET_GS,
        sys_arch_prctl = const abi::SYS_ARCH_PRCTL,
        pr_sud = const abi::PR_SET_SYSCALL_USER_DISPATCH,
        pr_sud_on = const abi::PR_SYS_DISPATCH_ON,
        sys_prctl = const abi::SYS_PRCTL,
        tb_self = const TB_SELF,
        tb_altstack = const TB_ALTSTACK,
        sys_sigaltstack = const abi::SYS_SIGALTSTACK,
        sig_setmask = const abi::SIG_SETMASK,
        tb_sigmask = const TB_SIGMASK,
        sys_rt_sigprocmask = const abi::SYS_RT_SIGPROCMASK,
        tb_regs = const TB_REGS,
        tb_rflags = const TB_RFLAGS,
        tb_resume = const TB_RESUME,
        sys_exit = const abi::SYS_EXIT,
        sys_gettid = const abi::SYS_GETTID,
        tb_tid = const TB_TID,
    )
}

/// Where a call whose tail slot cannot be written goes when the handler
/// cannot make it either (`Ucontext::divert_to_stack_fault`): `hlt` in user
/// mode is a general-protection fault, for which the kernel forces SIGSEGV
/// with si_code SI_KERNEL, as when it cannot write a signal frame: the
/// application's SIGSEGV handler runs if it has one that can (on its
/// sigaltstack), otherwise the process dies of SIGSEGV. A handler that
/// returns comes back to the `hlt`.
///
/// # Safety
/// Never called from Rust: only entered by the rt_sigreturn of a frame
/// `divert_to_stack_fault` prepared. Touches nothing.
#[unsafe(naked)]
pub unsafe extern "C" fn stack_fault() -> ! {
    core::arch::naked_asm!("hlt", "ud2")
}

/// The gate's address range, `[start, end)`: the only code allowed to make
/// system calls without a trap.
pub fn gate_range() -> (usize, usize) {
    unsafe extern "C" {
        static __start_preld_gate: u8;
        static __stop_preld_gate: u8;
    }
    // Linker-script symbols: only their addresses are taken.
    (&raw const __start_preld_gate as usize, &raw const __stop_preld_gate as usize)
}

/// Points gs at this thread's block.
///
/// # Safety
/// `block` must start with an `ArchThread` whose `self_ptr` is `block`, and
/// stay valid for the thread's life.
pub unsafe fn set_thread_block(block: usize) -> isize {
    // SAFETY: arch_prctl(ARCH_SET_GS) only changes this thread's gs base.
    unsafe { super::syscall6(abi::SYS_ARCH_PRCTL, abi::ARCH_SET_GS, block, 0, 0, 0, 0) }
}

/// This thread's block (gs:[0]).
///
/// # Safety
/// gs must have been set with `set_thread_block` on this thread.
#[inline(always)]
pub unsafe fn thread_block() -> usize {
    let p: usize;
    // SAFETY: gs:[0] holds the block's own address (ArchThread.self_ptr).
    unsafe { core::arch::asm!("mov {}, gs:[0]", out(reg) p, options(nostack, readonly, preserves_flags)) };
    p
}
