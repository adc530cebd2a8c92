//! preld's memory is not the application's to unmap, remap or reprotect:
//! its resident memory (resident.rs) and the fast path's stub pages. Calls
//! that would change it fail with EPERM; others make the fast path forget
//! the code they change.

use core::sync::atomic::{AtomicUsize, Ordering};

use syscalls::Sysno;

use crate::abi::{IPC_STAT, MADV_IN_GATE, MADV_KEEPING_ACCESS, MAP_FIXED, MAP_FIXED_NOREPLACE, MREMAP_FIXED, O_TRUNC, PROT_READ, PROT_WRITE, SHMID64_DS_SEGSZ_WORD, SHM_REMAP, SHM_RND};
use crate::call::{Call, Outcome};
use crate::errno::{EINVAL, EPERM};
use crate::{fast, resident, sys};

/// Whether [addr, addr+len) touches preld's memory.
pub fn touches_preld(addr: usize, len: usize) -> bool {
    resident::touches(addr, len) || fast::touches_stubs(addr, len)
}

/// Whether shmat of segment `id` at `addr` with `flags` would map over
/// preld's memory: the whole segment, from the address the kernel attaches
/// it at. Without SHM_REMAP the kernel refuses a range where anything is
/// mapped (EINVAL), but the first page is checked all the same. The
/// segment's size from IPC_STAT (fixed once it is made); where the handler
/// cannot tell it (EACCES, an id that is gone: shmat then fails alike),
/// everything above the address counts.
fn shm_touches_preld(id: usize, addr: usize, flags: usize) -> bool {
    let at = if flags & SHM_RND != 0 { addr & !(preld_arch::PAGE_SIZE - 1) } else { addr };
    if flags & SHM_REMAP == 0 {
        return touches_preld(at, 1);
    }
    // struct shmid64_ds: 112 bytes on x86-64.
    let mut ds = [0u64; 16];
    // SAFETY: IPC_STAT writes a struct shmid64_ds (112 bytes) into `ds`
    // (128 bytes).
    let len = match unsafe { crate::sys::raw(Sysno::shmctl as usize, [id, IPC_STAT, ds.as_mut_ptr() as usize, 0, 0, 0]) } {
        Ok(_) => (ds[SHMID64_DS_SEGSZ_WORD] as usize).max(1),
        Err(_) => usize::MAX,
    };
    touches_preld(at, len)
}

/// Whether the call can take read or write access away from memory the
/// application reached before (usermem.rs's page cache must forget it).
pub fn takes_access(nr: usize, a: &[usize; 6]) -> bool {
    match Sysno::new(nr) {
        Some(Sysno::brk) => !brk_grows(a[0]),
        Some(Sysno::munmap | Sysno::mremap | Sysno::shmdt | Sysno::process_madvise | Sysno::remap_file_pages) => true,
        // Protection that keeps reading and writing takes nothing away
        // (glibc's new thread stacks: with threads, a change of the
        // mappings makes the others' copies wait or go through the kernel).
        // A protection key's own rights are not known anyway
        // (`usermem::pages_unknowable`).
        Some(Sysno::mprotect | Sysno::pkey_mprotect) => a[2] & (PROT_READ | PROT_WRITE) != PROT_READ | PROT_WRITE,
        Some(Sysno::mmap) => a[3] & MAP_FIXED != 0,
        Some(Sysno::shmat) => a[2] & SHM_REMAP != 0,
        // Advice other than that (guard pages, poison, what a later kernel
        // adds) counts.
        Some(Sysno::madvise) => !u32::try_from(a[2]).is_ok_and(|adv| MADV_KEEPING_ACCESS.contains(&adv)),
        _ => false,
    }
}

/// The program's break as the last brk preld made left it; 0: not known
/// (none made yet, or one made where preld did not see its result).
static BREAK: AtomicUsize = AtomicUsize::new(0);

/// Whether brk(`to`) takes no access away: it asks (0), or it moves the
/// break up from where the last one left it, while no other thread shares
/// the memory (one could move the break between that look and this call).
/// malloc grows its heap so, again and again (tar: 350 times for
/// /usr/include), and each time the page cache forgot every page, which
/// the next path read had the kernel look at again.
fn brk_grows(to: usize) -> bool {
    let known = BREAK.load(Ordering::Relaxed);
    !crate::usermem::memory_shared() && known != 0 && (to == 0 || to >= known)
}

/// Records where a brk made by preld left the break (its result).
pub fn brk_made(r: isize) {
    BREAK.store(if r > 0 { r as usize } else { 0 }, Ordering::Relaxed);
}

/// Whether the call may cut a file short under a mapping of it: its
/// pages beyond the new end raise SIGBUS where they were readable, which
/// usermem.rs's page cache must forget (the program's own truncation; a
/// truncation by another process is not seen: DESIGN.md). openat2's flags
/// are behind a pointer: every openat2 counts.
pub fn truncates(nr: usize, a: &[usize; 6]) -> bool {
    match Sysno::new(nr) {
        Some(Sysno::ftruncate | Sysno::truncate | Sysno::fallocate | Sysno::creat | Sysno::openat2) => true,
        Some(Sysno::open) => a[1] & O_TRUNC != 0,
        Some(Sysno::openat) => a[2] & O_TRUNC != 0,
        _ => false,
    }
}

/// The calls that change mappings and never block (a truncation may: a
/// FIFO's open with O_TRUNC waits for its other end).
pub fn changes_mappings(nr: usize) -> bool {
    matches!(
        Sysno::new(nr),
        Some(Sysno::munmap | Sysno::mprotect | Sysno::pkey_mprotect | Sysno::mremap | Sysno::mmap | Sysno::madvise | Sysno::shmat)
    )
}

/// Whether usermem.rs's page cache must forget what it knows around the
/// call: before it (a page probed meanwhile is known under the new
/// generation) and after it (one probed while it was being made, which
/// the first bump did not cover: attack h_pagecache2's race-munmap).
/// `dispatch` bumps the generation on both sides, the after side in a post
/// trap where the call is made from the tail gate.
pub fn forgets_pages(nr: usize, a: &[usize; 6]) -> bool {
    takes_access(nr, a) || truncates(nr, a)
}

/// brk, shmdt, process_madvise (guard pages in later kernels),
/// remap_file_pages: made as asked, once the page cache has forgotten.
/// process_madvise's ranges must keep off preld's memory: since Linux
/// 6.13 it takes every advice for the caller itself, and MADV_DONTNEED
/// zeroed preld's bss (its heap, its tables) while MADV_GUARD_INSTALL
/// killed the process, where natively the ranges are holes (ENOMEM). Its
/// iovecs are copied into preld's memory, looked at there and given to
/// the kernel from there, so that no other thread changes them between
/// the look and the call (a child forked from the program has preld at
/// the same addresses: any target counts).
pub fn forget_pages(c: &mut Call<'_>) -> Outcome {
    let mut args = c.args;
    let mut iov = alloc::vec::Vec::new();
    if c.nr == Sysno::process_madvise as usize {
        // UIO_MAXIOV; more is the kernel's EINVAL.
        let n = args[2];
        if n <= 1024 && n > 0 {
            iov.resize(2 * n, 0usize);
            // read_words reads 8 words at most: 4 iovecs at a time.
            for (k, chunk) in iov.chunks_mut(8).enumerate() {
                if !crate::usermem::read_words(args[1].wrapping_add(k * 64), chunk) {
                    return Outcome::err(crate::errno::EFAULT);
                }
            }
            if iov.chunks(2).any(|v| v[1] != 0 && touches_preld(v[0], v[1])) {
                return Outcome::err(EPERM);
            }
            args[1] = iov.as_ptr() as usize;
        }
    }
    if crate::sud::seccomp_filtered() {
        // The program's filter must see the call made from its code, with
        // its own iovecs (which another thread could change after the look
        // above: only under a filter of the program's). (Its result unseen,
        // the break is no longer known.)
        brk_made(0);
        return Outcome::Real;
    }
    // Made here (none of them blocks): the page cache forgets after it
    // without a post trap (`forgets_pages`).
    // SAFETY: the application's own call with its arguments (process_madvise's
    // iovecs preld's copy, looked at above); none of them reaches preld's
    // memory (brk moves the program's break, shmdt detaches what shmat
    // attached, which memory::guard kept off preld's, process_madvise's
    // ranges were checked, remap_file_pages works on the program's shared
    // mappings: preld has none).
    let r = unsafe { sys::raw(c.nr, args) }.map_or_else(|e| -(e as isize), |v| v as isize);
    drop(iov);
    if c.nr == Sysno::brk as usize {
        brk_made(r);
    }
    Outcome::Return(r)
}

/// pkey_alloc, io_uring_setup, userfaultfd: from now on access can change
/// without a call preld sees (WRPKRU, a ring's madvise, write protection).
pub fn access_unknowable(_c: &mut Call<'_>) -> Outcome {
    crate::usermem::pages_unknowable();
    Outcome::Real
}

/// munmap, mprotect and a fixed mmap in the handler gate
/// (`dispatch::gate_serve`, which has begun the change of the mappings):
/// served as `guard` serves them on the trap path, without the signal
/// (none of them blocks). None: the trap path serves the call (another
/// call, the fast path off, or a seccomp filter of the application's,
/// which must see it made from the application's code).
pub fn serve_in_gate(nr: usize, a: &[usize; 6]) -> Option<isize> {
    match Sysno::new(nr)? {
        // madvise whose advice keeps every page's access and never waits
        // (the allocators' DONTNEED and FREE, glibc's at each thread's
        // exit): kept off preld's memory as `guard` keeps it, made here
        // (a trap each, 2 us, before).
        Sysno::madvise if u32::try_from(a[2]).is_ok_and(|adv| MADV_IN_GATE.contains(&adv)) => {
            if !fast::enabled() || crate::sud::seccomp_filtered() {
                return None;
            }
            if touches_preld(a[0], a[1]) {
                return Some(-(EPERM as isize));
            }
            // SAFETY: the application's own madvise with its arguments, its
            // range kept off preld's memory just above, with advice that
            // leaves every page's access as it was.
            return Some(unsafe { sys::raw(nr, *a) }.map_or_else(|e| -(e as isize), |v| v as isize));
        }
        Sysno::munmap | Sysno::mprotect => {}
        Sysno::mmap if a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 => {}
        _ => return None,
    }
    if !fast::enabled() || crate::sud::seccomp_filtered() {
        return None;
    }
    if touches_preld(a[0], a[1]) {
        return Some(-(EPERM as isize));
    }
    // Made here, with no rewrite of code under way.
    fast::change_memory(nr, a)
}

/// ioctl: the fd guard's (the fds some ioctls name besides their first:
/// `fds::ioctl_fds`), and userfaultfd's ranges kept off preld's memory.
pub fn ioctl(c: &mut Call<'_>) -> Outcome {
    if crate::ownfd::is_own(c.args[0]) {
        return crate::fds::guard(c);
    }
    crate::fds::ioctl_fds(c).or_else(|| uffd_ioctl(c)).unwrap_or_else(|| crate::fds::guard(c))
}

/// userfaultfd's ioctls (type 0xAA: linux/userfaultfd.h, no other
/// driver's) name ranges of memory to watch or fill: UFFDIO_REGISTER over
/// preld's bss made preld's own next touch of a page there fault into the
/// program's handler (SIGBUS with UFFD_FEATURE_SIGBUS; else a wait for a
/// fault handler nobody runs), where natively the range is a hole
/// (EINVAL). A range that touches preld's memory is refused with EINVAL
/// (test `userfaultfd_keeps_off_preld_s_memory`). The struct is copied
/// into preld's memory, looked at there, given to the kernel from there
/// and copied back (the kernel writes its results into it), so that no
/// other thread changes it between the look and the call. None: not such
/// an ioctl (or unreadable: the kernel says EFAULT).
fn uffd_ioctl(c: &mut Call<'_>) -> Option<Outcome> {
    use crate::abi::{UFFDIO, _UFFDIO_CONTINUE, _UFFDIO_COPY, _UFFDIO_MOVE, _UFFDIO_POISON, _UFFDIO_REGISTER};
    use crate::abi::{_UFFDIO_UNREGISTER, _UFFDIO_WAKE, _UFFDIO_WRITEPROTECT, _UFFDIO_ZEROPAGE};
    let cmd = c.args[1] as u32;
    if (cmd >> 8) & 0xff != UFFDIO {
        return None;
    }
    // The offsets of the (start, len) ranges in each struct (uffdio_range
    // first, but COPY's and MOVE's dst, src and len).
    let ranges: &[(usize, usize)] = match cmd & 0xff {
        _UFFDIO_REGISTER | _UFFDIO_UNREGISTER | _UFFDIO_WAKE | _UFFDIO_ZEROPAGE | _UFFDIO_WRITEPROTECT | _UFFDIO_CONTINUE | _UFFDIO_POISON => &[(0, 8)],
        // COPY: dst (written), src (read: not preld's to lend either);
        // MOVE: both changed.
        _UFFDIO_COPY | _UFFDIO_MOVE => &[(0, 16), (8, 16)],
        _ => return None,
    };
    // _IOC_SIZE: the struct's size (at most 40 bytes: uffdio_copy, _move).
    let size = ((cmd >> 16) & 0x3fff) as usize;
    let mut words = [0usize; 8];
    if size == 0 || size > 64 || size % 8 != 0 || !crate::usermem::read_words(c.args[2], &mut words[..size / 8]) {
        return None;
    }
    if ranges.iter().any(|&(at, len)| at + 8 <= size && len + 8 <= size && words[len / 8] != 0 && touches_preld(words[at / 8], words[len / 8])) {
        return Some(Outcome::err(EINVAL));
    }
    if crate::sud::seccomp_filtered() {
        // The program's filter must see the call made from its code.
        return Some(Outcome::Real);
    }
    let mut args = c.args;
    args[2] = words.as_ptr() as usize;
    // SAFETY: the application's own ioctl on its own fd, with preld's copy
    // of its struct (looked at above: no range of preld's), which the
    // kernel reads and writes within its `size` bytes.
    let r = unsafe { sys::raw(c.nr, args) }.map_or_else(|e| -(e as isize), |v| v as isize);
    // The kernel's results (the ioctls a range allows, the bytes copied),
    // where its direction says it writes (_IOC_READ).
    if cmd >> 30 & 2 != 0 && !crate::usermem::write_words(c.args[2], &words[..size / 8]) && r >= 0 {
        return Some(Outcome::err(crate::errno::EFAULT));
    }
    Some(Outcome::Return(r))
}

/// mseal: a sealed range can no longer be mprotected, unmapped or
/// discarded, by preld either: sealing preld's thread arena (its
/// reserved, not yet used part) made every later pthread_create fail
/// under preld, where natively the range is a hole (ENOMEM). Over
/// preld's memory: EPERM (test `mseal_keeps_off_preld_s_memory`).
pub fn seal(c: &mut Call<'_>) -> Outcome {
    if touches_preld(c.args[0], c.args[1]) {
        return Outcome::err(EPERM);
    }
    Outcome::Real
}

pub fn guard(c: &mut Call<'_>) -> Outcome {
    let a = c.args;
    if c.nr == Sysno::mmap as usize && a[3] & crate::abi::MAP_ANONYMOUS == 0 && crate::ownfd::is_own(a[4]) {
        // (A mapping of one of preld's fds: none of the program's.)
        return Outcome::err(crate::errno::EBADF);
    }
    let hit = match Sysno::from(c.nr as u32) {
        Sysno::munmap | Sysno::mprotect | Sysno::pkey_mprotect | Sysno::madvise => touches_preld(a[0], a[1]),
        Sysno::mmap => a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 && touches_preld(a[0], a[1]),
        Sysno::mremap => touches_preld(a[0], a[1]) || (a[3] & MREMAP_FIXED != 0 && touches_preld(a[4], a[2])),
        Sysno::shmat => a[1] != 0 && shm_touches_preld(a[0], a[1], a[2]),
        _ => false,
    };
    if hit {
        return Outcome::err(EPERM);
    }
    // (The page cache forgets around the call: `forgets_pages`.)
    if let Some(r) = fast::change_memory(c.nr, &c.args) {
        // Made here, with no rewrite of code under way.
        Outcome::Return(r)
    } else {
        fast::memory_call(c.nr, &c.args);
        Outcome::Real
    }
}
