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
        Outcome::err(EPERM)
    } else if let Some(r) = fast::change_memory(c.nr, &c.args) {
        // Made here, with no rewrite of code under way.
        Outcome::Return(r)
    } else {
        fast::memory_call(c.nr, &c.args);
        Outcome::Real
    }
}
