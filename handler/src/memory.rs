//! preld's memory is not the application's to unmap, remap or reprotect:
//! its resident memory (resident.rs) and the fast path's stub pages. Calls
//! that would change it fail with EPERM; others make the fast path forget
//! the code they change.

use syscalls::Sysno;

use crate::abi::{MAP_FIXED, MAP_FIXED_NOREPLACE, MREMAP_FIXED};
use crate::call::{Call, Outcome};
use crate::errno::EPERM;
use crate::{fast, resident};

/// Whether [addr, addr+len) touches preld's memory.
pub fn touches_preld(addr: usize, len: usize) -> bool {
    resident::touches(addr, len) || fast::touches_stubs(addr, len)
}

pub fn guard(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    let hit = match Sysno::from(c.nr as u32) {
        Sysno::munmap | Sysno::mprotect | Sysno::pkey_mprotect | Sysno::madvise => touches_preld(a[0], a[1]),
        Sysno::mmap => a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 && touches_preld(a[0], a[1]),
        Sysno::mremap => touches_preld(a[0], a[1]) || (a[3] & MREMAP_FIXED != 0 && touches_preld(a[4], a[2])),
        Sysno::shmat => a[1] != 0 && touches_preld(a[1], 1),
        _ => false,
    };
    if hit {
        return Outcome::err(EPERM);
    }
    if crate::signals::seccomp_filtered() {
        // The program's own seccomp filter must see the call made from its
        // code (the tail gate); no site is rewritten while other threads
        // run in such a process (fast::on_trap).
        fast::memory_call(c.nr, &c.args);
        return Outcome::Real;
    }
    // Made here (on preld's signal stack: a thread may unmap its own), with
    // no site being rewritten meanwhile (fast::hold_rewrites).
    let _no_rewrite = fast::hold_rewrites();
    // SAFETY: the application's own call on its own memory (none of
    // preld's: checked above), as it made it; it neither blocks nor
    // restarts.
    let r = unsafe { crate::sys::raw(c.nr, c.args) };
    fast::memory_call(c.nr, &c.args);
    Outcome::Return(r.map_or_else(|e| -(e as isize), |v| v as isize))
}
