//! preld's heap: linked_list_allocator over an arena in ld-preld's bss.
//! Pages never touched cost nothing. It is used only with every signal
//! blocked (inside the SIGSYS handler, or at startup), so its lock is
//! never taken twice by one thread; the lock sleeps (lock.rs: threads of
//! the program spun out their time slices for a holder preempted).

#[cfg(not(any(test, feature = "host")))]
use crate::lock::Lock;

#[cfg(not(any(test, feature = "host")))]
struct Heap(Lock<linked_list_allocator::Heap>);

#[cfg(not(any(test, feature = "host")))]
// SAFETY: the allocator's own checks hold (a block it returns is at least
// `layout`'s size and alignment and no one else's until freed); the lock
// makes each call the only one on the free list.
unsafe impl core::alloc::GlobalAlloc for Heap {
    /// # Safety
    /// GlobalAlloc's: `layout` has a non-zero size.
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        self.0.lock().allocate_first_fit(layout).map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    /// # Safety
    /// GlobalAlloc's: `ptr` came from `alloc` with this `layout`.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with
        // this `layout` (so it is not null).
        unsafe { self.0.lock().deallocate(core::ptr::NonNull::new_unchecked(ptr), layout) }
    }
}

#[cfg(not(any(test, feature = "host")))]
#[global_allocator]
static HEAP: Heap = Heap(Lock::new(linked_list_allocator::Heap::empty()));

#[cfg(not(any(test, feature = "host")))]
const ARENA_SIZE: usize = 16 << 20;
#[cfg(not(any(test, feature = "host")))]
static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];

/// Gives the allocator its arena, the first time only; called first thing,
/// single-threaded (an allocation before it fails).
pub fn init() {
    #[cfg(not(any(test, feature = "host")))]
    {
        static GIVEN: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
        if GIVEN.swap(true, core::sync::atomic::Ordering::AcqRel) {
            return;
        }
        // SAFETY: the heap gets the arena once (GIVEN), while it is empty;
        // ARENA is used by nothing else.
        unsafe { HEAP.0.lock().init(core::ptr::addr_of_mut!(ARENA).cast(), ARENA_SIZE) }
    }
}

/// Holds the heap's lock (across a fork, so that the child's copy of the
/// heap is consistent and its lock free once the guard is dropped).
pub fn lock() -> impl Drop {
    #[cfg(not(any(test, feature = "host")))]
    {
        HEAP.0.lock()
    }
    #[cfg(any(test, feature = "host"))]
    {
        struct Nothing;
        impl Drop for Nothing {
            fn drop(&mut self) {}
        }
        Nothing
    }
}
