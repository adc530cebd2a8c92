//! The objects of the process whose code may be rewritten: the program
//! preld mapped, and every object on the dynamic linker's list (found
//! through the program's DT_DEBUG, as debuggers find it). Their memory is
//! the application's, so every read of it is checked.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::lock::Lock;

use super::funcs;
use crate::{abi, usermem};

const DT_NULL: usize = 0;
const DT_DEBUG: usize = 21;
/// Objects on the list at most (a longer list is read this far).
const MAX_OBJECTS: usize = 4096;

/// An executable, non-writable segment and what verifying a site in it needs.
#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
    /// Its protection (PROT_* bits), to restore after a rewrite.
    pub prot: usize,
    /// The object's .eh_frame_hdr in memory; 0: the program's FDE table
    /// (`program_function`).
    pub eh_frame_hdr: usize,
}

static PROGRAM: [AtomicUsize; 3] = [AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)];
/// The program's .eh_frame (address, size), when it has no .eh_frame_hdr,
/// and the FDE ranges read from it once.
static PROGRAM_EH_FRAME: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
static PROGRAM_FDES: Lock<Option<super::funcs::EhFrame>> = Lock::new(None);
/// The most of .eh_frame read into preld's heap.
const EH_FRAME_MAX: usize = 16 << 20;
static SEGMENTS: Lock<Vec<Segment>> = Lock::new(Vec::new());
/// Ranges the application made writable: never rewritten.
static TAINTED: Lock<Vec<(usize, usize)>> = Lock::new(Vec::new());

/// The dynamic linker's load bias (its ELF header), 0 for none.
static INTERP: AtomicUsize = AtomicUsize::new(0);

pub fn note_interpreter(bias: usize) {
    INTERP.store(bias, Ordering::Relaxed);
}

/// The program's load bias (None: from its PT_PHDR) and program headers,
/// as preld mapped it.
pub fn note_program(bias: Option<usize>, phdr: usize, phnum: usize, eh_frame: Option<(usize, usize)>) {
    let read = |a: usize, b: &mut [u8]| usermem::read(a, b);
    let Some(o) = funcs::object_from_phdrs(&read, bias, phdr, phnum) else { return };
    if let Some((addr, size)) = eh_frame {
        PROGRAM_EH_FRAME[0].store(addr, Ordering::Relaxed);
        PROGRAM_EH_FRAME[1].store(size, Ordering::Relaxed);
    }
    PROGRAM[0].store(o.bias, Ordering::Relaxed);
    PROGRAM[1].store(phdr, Ordering::Relaxed);
    PROGRAM[2].store(phnum, Ordering::Relaxed);
}

/// Adds the text segments of one object that has an unwind table (the
/// program's own FDE table counts, as `eh_frame_hdr` 0, when `table`).
fn add_object(out: &mut Vec<Segment>, o: &funcs::Object, table: bool) {
    let Some(eh) = o.eh_frame_hdr.or(table.then_some(0)) else { return };
    for (i, &(start, end)) in o.text().iter().enumerate() {
        if out.iter().any(|s| s.start < end && start < s.end) {
            continue;
        }
        let prot = abi::PROT_EXEC | if o.readable(i) { abi::PROT_READ } else { 0 };
        out.push(Segment { start, end, prot, eh_frame_hdr: eh });
    }
}

/// The address of r_debug, from a dynamic section's DT_DEBUG (0 until
/// the dynamic linker has set it).
fn r_debug(dynamic: usize) -> Option<usize> {
    // Up to 64 entries at a time (a page boundary may end the section early).
    let mut at = dynamic;
    for _ in 0..4 {
        let mut d = [0u8; 1024];
        let n = (4096 - at % 4096).min(d.len()) / 16 * 16;
        if n == 0 || !usermem::read(at, &mut d[..n]) {
            return None;
        }
        for e in d[..n].chunks_exact(16) {
            let word = |i: usize| usize::from_ne_bytes(e[i..i + 8].try_into().unwrap_or_default());
            match word(0) {
                DT_NULL => return None,
                DT_DEBUG => return (word(8) != 0).then_some(word(8)),
                _ => {}
            }
        }
        at = at.checked_add(n)?;
    }
    None
}

/// The object whose ELF header is at `ehdr` (a shared object's base), if
/// it is not preld's.
fn add_mapped_object(out: &mut Vec<Segment>, ehdr: usize) {
    let read = |a: usize, b: &mut [u8]| super::read_code(a, b);
    if ehdr == 0 || crate::resident::touches(ehdr, 1) {
        return;
    }
    if let Some(o) = funcs::object_at(&read, ehdr) {
        add_object(out, &o, false);
    }
}

/// The text segments of the dynamic linker preld mapped.
pub fn interpreter_segments() -> Vec<Segment> {
    let mut out = Vec::new();
    add_mapped_object(&mut out, INTERP.load(Ordering::Relaxed));
    out
}

fn scan() -> Vec<Segment> {
    let mut out = Vec::new();
    let [bias, phdr, phnum] = PROGRAM.each_ref().map(|a| a.load(Ordering::Relaxed));
    let read = |a: usize, b: &mut [u8]| usermem::read(a, b);
    let program = funcs::object_from_phdrs(&read, Some(bias), phdr, phnum);
    if let Some(o) = &program {
        add_object(&mut out, o, PROGRAM_EH_FRAME[1].load(Ordering::Relaxed) != 0);
    }
    let dynamic = program.and_then(|o| o.dynamic);
    add_mapped_object(&mut out, INTERP.load(Ordering::Relaxed));
    let Some(map) = dynamic.and_then(r_debug).and_then(|r| {
        let mut w = [0usize; 1];
        usermem::read_words(r + 8, &mut w).then_some(w[0])
    }) else {
        return out;
    };
    // struct link_map: l_addr, l_name, l_ld, l_next, l_prev.
    let mut at = map;
    for _ in 0..MAX_OBJECTS {
        let mut l = [0usize; 4];
        if at == 0 || !usermem::read_words(at, &mut l) {
            break;
        }
        if l[0] != bias {
            add_mapped_object(&mut out, l[0]);
        }
        at = l[3];
    }
    out
}

/// The executable segment holding [from, to), if it belongs to a known
/// object and was never made writable.
pub fn text_segment(from: usize, to: usize) -> Option<Segment> {
    if TAINTED.lock().iter().any(|&(s, e)| from < e && s < to) {
        return None;
    }
    let find = |v: &[Segment]| v.iter().find(|s| s.start <= from && to <= s.end).copied();
    let mut segs = SEGMENTS.lock();
    if let Some(s) = find(&segs) {
        return Some(s);
    }
    *segs = scan();
    find(&segs)
}

/// The function of the program holding `addr`, from its .eh_frame
/// (parsed as lookups need it: `funcs::EhFrame`).
pub fn program_function(addr: usize) -> Option<(usize, usize)> {
    let mut fdes = PROGRAM_FDES.lock();
    let frame = fdes.get_or_insert_with(|| {
        let (at, size) = (PROGRAM_EH_FRAME[0].load(Ordering::Relaxed), PROGRAM_EH_FRAME[1].load(Ordering::Relaxed));
        super::funcs::EhFrame::new(at, if size > EH_FRAME_MAX { 0 } else { size })
    });
    frame.lookup(&|a: usize, b: &mut [u8]| usermem::read(a, b), addr)
}

/// The application unmapped or replaced [start, end): its objects are
/// looked up again when needed.
pub fn forget(start: usize, end: usize) {
    SEGMENTS.lock().retain(|s| s.end <= start || end <= s.start);
}

/// The application made [start, end) writable (`exec`: and executable):
/// code there is not rewritten while it stays so. Only ranges over known
/// code, or executable ones, are kept (malloc makes heaps writable all
/// the time); past a bound, nothing is rewritten any more.
pub fn taint(start: usize, end: usize, exec: bool) {
    if !exec && !SEGMENTS.lock().iter().any(|s| start < s.end && s.start < end) {
        return;
    }
    let mut t = TAINTED.lock();
    if t.len() < MAX_TAINTED {
        t.push((start, end));
    } else if let Some(all) = t.first_mut() {
        *all = (0, usize::MAX);
    }
}

/// [start, end) is no longer writable, or no longer mapped.
pub fn untaint(start: usize, end: usize) {
    TAINTED.lock().retain(|&(s, e)| s < start || e > end);
}

const MAX_TAINTED: usize = 1024;

/// In a fork child: locks held by threads that do not exist here.
pub fn forked() {
    // SAFETY: the child has one thread, this one, which holds no lock.
    unsafe {
        SEGMENTS.force_unlock();
        TAINTED.force_unlock();
        PROGRAM_FDES.force_unlock();
    }
}
