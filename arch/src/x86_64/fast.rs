//! The fast path on x86_64: a rewritten syscall site, its stub, and the
//! gates the stub calls.
//!
//! ```text
//!  site (application text, rewritten once):
//!    A:   mov eax, NR        →   A:   jmp STUB        (same 5 bytes)
//!    A+5: syscall                A+5: syscall         (untouched: a jump to
//!                                                      it still traps)
//!  STUB (preld's page within ±2 GiB of A):
//!    mov eax, NR
//!    lea rsp, [rsp - 128]        keep the red zone: the call's return
//!    call [rip + gate]           address lands below it
//!    lea rsp, [rsp + 128]        (lea: the flags stay the application's)
//!    lea rcx, [rip + A+7]        rcx as a native syscall leaves it
//!    jmp A+7
//!   slow:                        (a gate returns here when the handler
//!    lea rsp, [rsp + 128]         must see the call)
//!    jmp A+5                     the original syscall: it traps as before
//!  gate (preld_gate, the range Syscall User Dispatch lets through):
//!    [check]  syscall  ret
//! ```
//!
//! Nothing is kept anywhere but on the stack below the red zone, for the
//! length of the call: a signal during the call finds the thread in the
//! gate (its frame starts 128 bytes below the return address), SA_RESTART
//! and restart_syscall re-execute the gate's own `syscall`, and siglongjmp
//! out of a handler leaves nothing behind. The gate a stub calls is read
//! from a word of the stub's page, so switching every stub of a page to
//! the slow path is one aligned store.

use core::sync::atomic::{AtomicI32, AtomicU64};

/// The lowest fd that is preld's own (i32::MAX: none): calls on fds at or
/// above it must be seen by the handler.
pub static FAST_OWN_FD_MIN: AtomicI32 = AtomicI32::new(i32::MAX);
/// Calls made by the counting gates (only with statistics on).
pub static FAST_CALLS: AtomicU64 = AtomicU64::new(0);

/// Bytes of one stub (the code is 49 bytes; the rest is padding).
pub const STUB_SIZE: usize = 64;
/// The bytes a site's rewrite replaces: `mov eax, imm32`.
pub const SITE_INSN_LEN: usize = 5;
/// From a stub's return address (after its `call`) to its slow label.
const SLOW_FROM_RETURN: usize = 20;
const RETURN_AT: usize = 16;
const SLOW_AT: usize = 36;

/// Which gate a stub calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Makes the call.
    Plain,
    /// Makes the call unless its first argument (an int fd) is at or above
    /// `FAST_OWN_FD_MIN`.
    Fd,
    /// Never makes it: back to the site's own `syscall`.
    Slow,
}

/// The address of a gate, counting the calls it makes or not.
pub fn gate_address(g: Gate, counted: bool) -> usize {
    let f: unsafe extern "C" fn() -> ! = match (g, counted) {
        (Gate::Plain, false) => fast_gate_plain,
        (Gate::Plain, true) => fast_gate_plain_counted,
        (Gate::Fd, false) => fast_gate_fd,
        (Gate::Fd, true) => fast_gate_fd_counted,
        (Gate::Slow, _) => fast_gate_slow,
    };
    f as usize
}

fn rel32(from_next: usize, to: usize) -> Option<[u8; 4]> {
    let d = (to as i64).wrapping_sub(from_next as i64);
    i32::try_from(d).ok().map(i32::to_le_bytes)
}

/// Whether a stub at `stub` can reach the site at `site` (the `mov`) and
/// back with rel32 jumps.
pub fn in_reach(site: usize, stub: usize) -> bool {
    rel32(site + SITE_INSN_LEN, stub).is_some()
        && rel32(stub + STUB_SIZE, site).is_some()
        && rel32(stub, site + SITE_INSN_LEN + 2).is_some()
}

/// The stub for the site whose `mov eax, nr` is at `site` (its `syscall`
/// at `site + 5`), placed at `stub`, calling the gate whose address is
/// stored at `gate_word`. None if something is out of rel32 reach.
pub fn encode_stub(stub: usize, site: usize, nr: u32, gate_word: usize) -> Option<[u8; STUB_SIZE]> {
    let after = site + SITE_INSN_LEN + 2;
    let mut s = [0xcc_u8; STUB_SIZE];
    s[0] = 0xb8; // mov eax, imm32
    s[1..5].copy_from_slice(&nr.to_le_bytes());
    s[5..10].copy_from_slice(&[0x48, 0x8d, 0x64, 0x24, 0x80]); // lea rsp, [rsp - 128]
    s[10..12].copy_from_slice(&[0xff, 0x15]); // call [rip + rel32]
    s[12..16].copy_from_slice(&rel32(stub + RETURN_AT, gate_word)?);
    s[16..24].copy_from_slice(&[0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0]); // lea rsp, [rsp + 128]
    s[24..27].copy_from_slice(&[0x48, 0x8d, 0x0d]); // lea rcx, [rip + rel32]
    s[27..31].copy_from_slice(&rel32(stub + 31, after)?);
    s[31] = 0xe9; // jmp rel32
    s[32..36].copy_from_slice(&rel32(stub + 36, after)?);
    const _: () = assert!(SLOW_AT - RETURN_AT == SLOW_FROM_RETURN);
    s[36..44].copy_from_slice(&[0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0]); // slow: lea rsp, [rsp + 128]
    s[44] = 0xe9; // jmp the site's syscall
    s[45..49].copy_from_slice(&rel32(stub + 49, site + SITE_INSN_LEN)?);
    Some(s)
}

/// The 5 bytes that replace the site's `mov`: `jmp stub`.
pub fn encode_site_jump(site: usize, stub: usize) -> Option<[u8; SITE_INSN_LEN]> {
    let r = rel32(site + SITE_INSN_LEN, stub)?;
    Some([0xe9, r[0], r[1], r[2], r[3]])
}

/// The site's `mov eax, imm32`, if these are its bytes.
pub fn site_nr(insn: &[u8]) -> Option<u32> {
    match insn {
        [0xb8, a, b, c, d] => Some(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// The two bytes of `syscall`.
pub const SYSCALL_INSN: [u8; 2] = [0x0f, 0x05];

/// The plain gate: the call, and back to the stub.
///
/// # Safety
/// Only a stub calls it: rax = the call's number, argument registers the
/// application's, [rsp] = the stub's return address, 128 bytes of the
/// application's stack below its red zone in use.
/// Owns: rcx, r11 (the `syscall` clobbers them; the stub resets rcx).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_plain() -> ! {
    core::arch::naked_asm!("syscall", "ret")
}

/// As `fast_gate_plain`, counting the call in `FAST_CALLS`.
///
/// # Safety
/// As `fast_gate_plain`; uses 8 more bytes of stack for the flags.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_plain_counted() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "lock inc qword ptr [rip + {calls}]",
        "popfq",
        "syscall",
        "ret",
        calls = sym FAST_CALLS,
    )
}

/// The gate of calls whose first argument is an fd: preld's own fds (at
/// or above `FAST_OWN_FD_MIN`, compared as the kernel's int) go the slow
/// way, so that the handler hides them.
///
/// # Safety
/// As `fast_gate_plain`; uses 8 more bytes of stack for the flags, which it
/// restores before the call (r11 then holds the application's, as natively).
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_fd() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "cmp edi, dword ptr [rip + {min}]",
        "jge 2f",
        "popfq",
        "syscall",
        "ret",
        "2:",
        "popfq",
        "jmp {slow}",
        min = sym FAST_OWN_FD_MIN,
        slow = sym fast_gate_slow,
    )
}

/// As `fast_gate_fd`, counting the calls it makes.
///
/// # Safety
/// As `fast_gate_fd`.
#[unsafe(naked)]
#[unsafe(link_section = "preld_gate")]
pub unsafe extern "C" fn fast_gate_fd_counted() -> ! {
    core::arch::naked_asm!(
        "pushfq",
        "cmp edi, dword ptr [rip + {min}]",
        "jge 2f",
        "lock inc qword ptr [rip + {calls}]",
        "popfq",
        "syscall",
        "ret",
        "2:",
        "popfq",
        "jmp {slow}",
        min = sym FAST_OWN_FD_MIN,
        calls = sym FAST_CALLS,
        slow = sym fast_gate_slow,
    )
}

/// Sends the stub to its slow label: the site's own `syscall`, which traps.
///
/// # Safety
/// As `fast_gate_plain`. Owns: rcx; the flags are untouched (lea).
#[unsafe(naked)]
pub unsafe extern "C" fn fast_gate_slow() -> ! {
    core::arch::naked_asm!(
        "pop rcx",
        "lea rcx, [rcx + {slow}]",
        "jmp rcx",
        slow = const SLOW_FROM_RETURN,
    )
}
