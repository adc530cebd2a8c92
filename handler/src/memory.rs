//! preld's memory is not the application's to unmap, remap or reprotect:
//! its image (the handler's code and data), the thread slots (stacks and
//! thread blocks: every chunk reserved so far) and its vDSO. Calls that would change it fail with EPERM.

use core::sync::atomic::{AtomicUsize, Ordering};

use syscalls::Sysno;

use crate::dispatch::{Call, Outcome};
use crate::{thread, vdso};

const EPERM: isize = 1;
const MAP_FIXED: usize = 0x10;
const MAP_FIXED_NOREPLACE: usize = 0x10_0000;
const MREMAP_FIXED: usize = 2;

static IMAGE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Records ld-preld's own image range.
pub fn set_image(start: usize, end: usize) {
    IMAGE[0].store(start, Ordering::Relaxed);
    IMAGE[1].store(end, Ordering::Relaxed);
}

fn overlaps(a: usize, len: usize, (s, e): (usize, usize)) -> bool {
    let end = a.saturating_add(len.max(1));
    a < e && s < end
}

/// Whether [addr, addr+len) touches preld's memory.
pub fn touches_preld(addr: usize, len: usize) -> bool {
    let image = (IMAGE[0].load(Ordering::Relaxed), IMAGE[1].load(Ordering::Relaxed));
    overlaps(addr, len, image)
        || thread::arena_ranges().any(|r| overlaps(addr, len, r))
        || vdso::installed().is_some_and(|r| overlaps(addr, len, (r.start, r.end)))
        || crate::fast::touches_stubs(addr, len)
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
        Outcome::Return(-EPERM)
    } else {
        crate::fast::memory_call(c.nr, &c.args);
        Outcome::Real
    }
}
