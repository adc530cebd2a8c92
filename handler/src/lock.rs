//! preld's lock: a thread that finds it taken spins a little, then sleeps
//! on a futex until the holder lets go.
//!
//! preld's heap and the fast path's tables had spin locks. A thread of the
//! program holds one for a few hundred nanoseconds, but with more threads
//! than CPUs the scheduler preempts holders: 200 threads on 2 CPUs spun out
//! whole time slices on the heap's lock (open_threads in a session) and on
//! the stub pages' (every mmap, munmap and mprotect looks at them), for a
//! holder that was not running. Sleeping gives the holder the CPU.
//!
//! Taken only inside the handler (every signal blocked, or single-threaded
//! at startup), so one thread never takes a lock twice. A fork child's copy
//! of a lock another thread held is freed with `force_unlock`.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

use crate::sys;

/// Looks at a taken lock this many times before sleeping: a holder on the
/// other CPU usually lets go within them (a heap allocation or a table
/// look-up), and a sleep and its wake-up cost two calls.
const SPINS: u32 = 64;

/// The lock's word: 0 free, 1 taken, 2 taken and a thread may sleep on it.
pub struct Lock<T> {
    state: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a Guard, which exists for one
// thread at a time (the state word's acquire and release order the
// accesses); T itself moves between threads.
unsafe impl<T: Send> Sync for Lock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for Lock<T> {}

impl<T> Lock<T> {
    pub const fn new(value: T) -> Self {
        Lock { state: AtomicU32::new(0), value: UnsafeCell::new(value) }
    }

    pub fn lock(&self) -> Guard<'_, T> {
        if self.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_contended();
        }
        Guard { lock: self }
    }

    /// The lock if it is free, without waiting.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        self.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).ok().map(|_| Guard { lock: self })
    }

    #[cold]
    fn lock_contended(&self) {
        for _ in 0..SPINS {
            match self.state.load(Ordering::Relaxed) {
                0 => {
                    if self.state.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                        return;
                    }
                }
                // Someone sleeps already: join them rather than spin.
                2 => break,
                _ => core::hint::spin_loop(),
            }
        }
        // Taken as 2: the holder may not know of every sleeper, so its
        // unlock wakes one in any case.
        while self.state.swap(2, Ordering::Acquire) != 0 {
            sys::futex_wait(&self.state, 2);
        }
    }

    fn unlock(&self) {
        if self.state.swap(0, Ordering::Release) == 2 {
            sys::futex_wake_one(&self.state);
        }
    }

    /// Frees the lock whoever holds it.
    ///
    /// # Safety
    /// Only where its holder can never use it again: in a fork child, for a
    /// lock held by a thread of the parent (the child has no such thread).
    pub unsafe fn force_unlock(&self) {
        self.state.store(0, Ordering::Release);
    }
}

pub struct Guard<'a, T> {
    lock: &'a Lock<T>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock: no other reference to the value.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; the guard is borrowed mutably.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::Lock;

    #[test]
    fn threads_that_contend_each_get_the_lock_in_turn() {
        static COUNT: Lock<u64> = Lock::new(0);
        let threads: std::vec::Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..20_000 {
                        let mut g = COUNT.lock();
                        // A read and a write apart: a second holder would
                        // lose increments.
                        let v = *g;
                        core::hint::black_box(&v);
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*COUNT.lock(), 8 * 20_000);
    }
}
