//! preld's heap: linked_list_allocator over an arena in ld-preld's bss.
//! Pages never touched cost nothing. It is used only with every signal
//! blocked (inside the SIGSYS handler, or at startup), so its spin lock is
//! never taken twice by one thread.

#[cfg(not(any(test, feature = "host")))]
use linked_list_allocator::LockedHeap;

#[cfg(not(any(test, feature = "host")))]
#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

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
        unsafe { HEAP.lock().init(core::ptr::addr_of_mut!(ARENA).cast(), ARENA_SIZE) }
    }
}

/// Holds the heap's lock (across a fork, so that the child's copy of the
/// heap is consistent and its lock free once the guard is dropped).
pub fn lock() -> impl Drop {
    #[cfg(not(any(test, feature = "host")))]
    {
        HEAP.lock()
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
