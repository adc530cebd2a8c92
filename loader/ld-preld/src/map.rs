//! Mapping a planned ELF image from its file, as binfmt_elf would.

use alloc::vec::Vec;
use preld_loader::elf::LoadPlan;
use preld_loader::{page_down, page_up, PAGE};

use crate::abi::{MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_PRIVATE};
use crate::abi::{PROT_EXEC, PROT_GROWSDOWN, PROT_NONE, PROT_READ, PROT_WRITE};
use crate::sys::{self, mmap, mprotect, munmap};

/// Where an image ended up.
pub struct Mapped {
    /// Added to every link-time address.
    pub bias: usize,
    pub entry: usize,
    /// AT_PHDR: runtime address of the program headers (or the bias, as the
    /// kernel gives when no segment maps them).
    pub phdr: usize,
    /// The readable parts of its segments mapped from the file (each up
    /// to the next segment's first page, which that one's mapping took),
    /// as runtime ranges: what preld may read of it without checks before
    /// the program runs.
    pub file_backed: Vec<(usize, usize)>,
}

/// Why mapping failed: the errno and what was being done.
pub struct MapError {
    pub errno: i32,
    pub what: &'static str,
}

fn err(what: &'static str) -> impl Fn(i32) -> MapError {
    move |errno| MapError { errno, what }
}

/// Maps every segment of `plan` from `fd`. Gaps between segments stay
/// reserved as PROT_NONE, as ld.so does for libraries, so nothing else is
/// placed inside the image.
pub fn map_image(fd: i32, plan: &LoadPlan) -> Result<Mapped, MapError> {
    let span = plan.span_len() as usize;
    let bias = if plan.relocatable {
        let align = plan.align as usize;
        let reserve = span.checked_add(align - PAGE as usize).ok_or(MapError { errno: 12, what: "reserve address space" })?;
        // SAFETY: a fresh mapping where the kernel chooses: replaces nothing.
        let addr = unsafe { mmap(0, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) }
            .map_err(err("reserve address space"))?;
        let start = (addr + align - 1) & !(align - 1);
        // SAFETY: both trims lie in the reservation just made, which holds nothing.
        unsafe {
            if start > addr {
                let _ = munmap(addr, start - addr);
            }
            let end = start + span;
            if addr + reserve > end {
                let _ = munmap(end, addr + reserve - end);
            }
        }
        start.wrapping_sub(plan.span_start as usize)
    } else {
        // SAFETY: NOREPLACE fails rather than cover an existing mapping (the
        // loader's own image or stack among them).
        unsafe {
            mmap(
                plan.span_start as usize,
                span,
                PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        }
        .map_err(|e| MapError {
            errno: e,
            what: if e == 17 { "map at its fixed address (it overlaps ld-preld's own mapping)" } else { "map at its fixed address" },
        })?;
        0
    };

    let mut file_backed = Vec::new();
    for (i, seg) in plan.segments.iter().enumerate() {
        if seg.readable && seg.filesz > 0 {
            let mut end = seg.vaddr + seg.filesz;
            if let Some(next) = plan.segments.get(i + 1) {
                end = end.min(page_down(next.vaddr));
            }
            if end > seg.vaddr {
                file_backed.push(((seg.vaddr as usize).wrapping_add(bias), (end as usize).wrapping_add(bias)));
            }
        }
        let prot = (if seg.readable { PROT_READ } else { 0 })
            | (if seg.writable { PROT_WRITE } else { 0 })
            | (if seg.executable { PROT_EXEC } else { 0 });
        let start = page_down(seg.vaddr);
        let file_end = seg.vaddr + seg.filesz;
        let mem_end = page_up(seg.vaddr + seg.memsz).unwrap_or(u64::MAX);
        let mut anon_start = start;
        if seg.filesz > 0 {
            let map_end = page_up(file_end).unwrap_or(u64::MAX);
            let has_bss = seg.memsz > seg.filesz;
            let zero_len = (map_end - file_end) as usize;
            let map_prot = if has_bss && zero_len > 0 { prot | PROT_WRITE } else { prot };
            let addr = (start as usize).wrapping_add(bias);
            // SAFETY: inside the reservation made above for this image.
            unsafe {
                mmap(addr, (map_end - start) as usize, map_prot, MAP_PRIVATE | MAP_FIXED, fd, page_down(seg.offset))
            }
            .map_err(err("map a segment"))?;
            if has_bss && zero_len > 0 {
                // The rest of the last file page is bss: zero it (ld.so's
                // early malloc relies on it), then drop the temporary write.
                let z = (file_end as usize).wrapping_add(bias);
                // SAFETY: [z, z+zero_len) is in the private writable mapping
                // just made, which nothing else refers to yet.
                unsafe { core::ptr::write_bytes(z as *mut u8, 0, zero_len) };
                if map_prot != prot {
                    // SAFETY: the loader does not use this memory.
                    unsafe { mprotect(addr, (map_end - start) as usize, prot) }.map_err(err("protect a segment"))?;
                }
            }
            anon_start = map_end;
        }
        if mem_end > anon_start {
            let addr = (anon_start as usize).wrapping_add(bias);
            // SAFETY: inside this image's reservation.
            unsafe {
                mmap(addr, (mem_end - anon_start) as usize, prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0)
            }
            .map_err(err("map bss"))?;
        }
    }
    Ok(Mapped {
        bias,
        entry: (plan.entry as usize).wrapping_add(bias),
        phdr: (plan.phdr_vaddr as usize).wrapping_add(bias),
        file_backed,
    })
}

/// Makes the page holding `sp` executable, for a static program whose
/// PT_GNU_STACK asks for it (ld.so does this itself for dynamic ones).
pub fn make_stack_executable(sp: usize) {
    let page = sp & !(PAGE as usize - 1);
    // SAFETY: adds a permission to the current stack; removes none.
    let _ = unsafe {
        sys::mprotect(page, PAGE as usize, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN)
    };
}
