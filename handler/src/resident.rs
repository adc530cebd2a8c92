//! preld's resident memory: ld-preld's image (the handler's code and
//! data), the thread slots (stacks and blocks: every chunk reserved so
//! far), its vDSO and the session's owners table. The fast path's stub
//! pages are preld's too; fast/ keeps those (memory.rs asks both before an
//! application's mmap family call).

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::{thread, vdso};

static IMAGE: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Records ld-preld's own image range, its end rounded up to the page: the
/// kernel maps the last page whole, and the bytes past the linker's end
/// of the image (`__preld_image_end`) are preld's mapping too, which the
/// program natively does not have (a stat into them was made there by the
/// session stat gate, EFAULT natively; session-23b adversary).
pub fn set_image(start: usize, end: usize) {
    let end = end.next_multiple_of(4096);
    IMAGE[0].store(start, Ordering::Relaxed);
    IMAGE[1].store(end, Ordering::Relaxed);
    // (For the fast path's stat gate, which writes no stat there.)
    preld_arch::fast::set_resident(preld_arch::fast::RESIDENT_IMAGE, start, end);
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
    // (Where owners.rs maps the session's owners table, 0 if it does not:
    // read-only, so a stat into it is EFAULT as into any memory the
    // application cannot write, and the stat gate need not know it.)
    let table = preld_arch::fast::OWNERS_TABLE.load(Ordering::Acquire);
    let owners = (table, if table == 0 { 0 } else { table + preld_proto::owners_table::BYTES });
    overlaps(addr, len, image)
        || overlaps(addr, len, owners)
        || thread::arena_ranges().any(|r| overlaps(addr, len, r))
        || vdso::installed().is_some_and(|r| overlaps(addr, len, (r.start, r.end)))
}
