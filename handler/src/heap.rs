//! preld's heap: linked_list_allocator over an arena in ld-preld's bss.
//! Pages never touched cost nothing. It is used only with every signal
//! blocked (inside the SIGSYS handler, or at startup), so its spin lock is
//! never taken twice by one thread.

#[cfg(not(test))]
use linked_list_allocator::LockedHeap;

#[cfg(not(test))]
#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

#[cfg(not(test))]
const ARENA_SIZE: usize = 16 << 20;
#[cfg(not(test))]
static mut ARENA: [u8; ARENA_SIZE] = [0; ARENA_SIZE];

/// Gives the allocator its arena; called once, first thing, single-threaded.
pub fn init() {
    #[cfg(not(test))]
    // SAFETY: called once before any allocation; ARENA is used by nothing else.
    unsafe {
        HEAP.lock().init(core::ptr::addr_of_mut!(ARENA).cast(), ARENA_SIZE)
    }
}

/// Holds the heap's lock (across a fork, so that the child's copy of the
/// heap is consistent and its lock free once the guard is dropped).
pub fn lock() -> impl Drop {
    #[cfg(not(test))]
    {
        HEAP.lock()
    }
    #[cfg(test)]
    {
        struct Nothing;
        impl Drop for Nothing {
            fn drop(&mut self) {}
        }
        Nothing
    }
}
