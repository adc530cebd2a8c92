//! preld's resident memory: ld-preld's image (the handler's code and
//! data), the thread slots (stacks and blocks: every chunk reserved so
//! far) and its vDSO. The fast path's stub pages are preld's too; fast/
//! keeps those (memory.rs asks both before an application's mmap family
//! call).

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{thread, vdso};

static IMAGE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Records ld-preld's own image range.
pub fn set_image(start: usize, end: usize) {
    IMAGE[0].store(start, Ordering::Relaxed);
    IMAGE[1].store(end, Ordering::Relaxed);
    publish();
}

/// Writes the ranges `touches` looks at where the fast path's stat gate
/// reads them (arch's `RESIDENT`), after each change of them: the image
/// set, a chunk of thread slots reserved, the vDSO installed. The gate
/// reads them only in a process of one thread, which made the change
/// itself; a count above the slots says "too many" (the gate leaves its
/// calls to the handler).
pub fn publish() {
    use preld_arch::fast::{RESIDENT, RESIDENT_COUNT, RESIDENT_SLOTS};
    let image = (IMAGE[0].load(Ordering::Relaxed), IMAGE[1].load(Ordering::Relaxed));
    let vdso = vdso::installed().map(|r| (r.start, r.end));
    let ranges = core::iter::once(image).chain(thread::arena_ranges()).chain(vdso).filter(|&(s, e)| s < e);
    RESIDENT_COUNT.store(usize::MAX, Ordering::Release);
    let mut n = 0;
    for (s, e) in ranges {
        if n == RESIDENT_SLOTS {
            return;
        }
        RESIDENT[2 * n].store(s, Ordering::Relaxed);
        RESIDENT[2 * n + 1].store(e, Ordering::Relaxed);
        n += 1;
    }
    RESIDENT_COUNT.store(n, Ordering::Release);
}

/// Whether [a, a+len) (an empty range counts as one byte) meets [s, e).
pub fn overlaps(a: usize, len: usize, (s, e): (usize, usize)) -> bool {
    let end = a.saturating_add(len.max(1));
    a < e && s < end
}

/// Whether [addr, addr+len) touches ld-preld's image, a thread slot or
/// preld's vDSO.
pub fn touches(addr: usize, len: usize) -> bool {
    let image = (
        IMAGE[0].load(Ordering::Relaxed),
        IMAGE[1].load(Ordering::Relaxed),
    );
    overlaps(addr, len, image)
        || thread::arena_ranges().any(|r| overlaps(addr, len, r))
        || vdso::installed().is_some_and(|r| overlaps(addr, len, (r.start, r.end)))
}
