//! Fuzz target: arbitrary bytes through everything ld-preld decides before it
//! maps a file: `elf::plan` (the bytes as the whole file), `shebang::parse`
//! (compared with a transcription of the kernel's parser), and
//! `elf::recorded_interpreter` (the bytes as an in-memory program header
//! table). Nothing may panic, and every accepted input must keep the
//! invariants the mapping code relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preld_loader::elf::{self, LoadPlan, MMAP_MIN_ADDR, PT_PRELD_INTERP, USER_END};
use preld_loader::{shebang, PAGE};

#[path = "../oracle/binfmt_script.rs"]
mod binfmt_script;

const PT_LOAD: u32 = 1;
const PT_PHDR: u32 = 6;
const PHENT: usize = 56;

fuzz_target!(|data: &[u8]| {
    check_plan(data);
    check_shebang(data);
    check_recorded_interpreter(data);
});

/// What map_image and the auxv rewrite assume of a plan.
fn check_plan(data: &[u8]) {
    let Ok(p) = elf::plan(data) else { return };
    check_plan_invariants(&p, data);
    // A plan is a pure function of the bytes.
    assert_eq!(elf::plan(data).as_ref(), Ok(&p));
}

fn check_plan_invariants(p: &LoadPlan, data: &[u8]) {
    assert!(p.span_end > p.span_start, "empty span");
    assert_eq!(p.span_start % PAGE, 0);
    assert_eq!(p.span_end % PAGE, 0);
    assert!(p.span_end <= USER_END, "span leaves user space");
    if !p.relocatable {
        assert!(p.span_start >= MMAP_MIN_ADDR, "fixed image below mmap_min_addr");
    }
    assert!(p.align.is_power_of_two() && p.align >= PAGE);
    assert!(!p.segments.is_empty());
    let mut prev_end = 0u64;
    for (i, s) in p.segments.iter().enumerate() {
        assert!(s.memsz > 0, "segment {i}: empty");
        assert!(s.filesz <= s.memsz, "segment {i}: filesz > memsz");
        let end = s.vaddr.checked_add(s.memsz).expect("segment end overflows");
        assert!(end <= USER_END, "segment {i} outside user space");
        if i > 0 {
            assert!(s.vaddr >= prev_end, "segment {i} overlaps or is out of order");
        }
        prev_end = end;
        assert!(s.vaddr >= p.span_start && end <= p.span_end, "span does not cover segment {i}");
        assert_eq!(s.offset % PAGE, s.vaddr % PAGE, "segment {i}: misaligned");
        if s.filesz > 0 {
            let file_end = s.offset.checked_add(s.filesz).expect("file range overflows");
            assert!(file_end <= data.len() as u64, "segment {i} reads past the file");
        }
    }
    let in_text = p.segments.iter().any(|s| s.executable && s.vaddr <= p.entry && p.entry - s.vaddr < s.memsz);
    assert!(in_text, "entry {:#x} not in an executable segment", p.entry);
    assert_eq!(usize::from(p.phnum), p.program_headers.len());
    assert!(usize::from(p.phnum) * PHENT <= 4096);
    if p.phdr_vaddr != 0 {
        // AT_PHDR points into file-backed bytes of a mapped segment.
        let held = p.segments.iter().any(|s| s.vaddr <= p.phdr_vaddr && p.phdr_vaddr - s.vaddr < s.filesz);
        assert!(held, "phdr_vaddr {:#x} not in a segment's file bytes", p.phdr_vaddr);
    }
    if let Some(interp) = &p.interp {
        assert!(!interp.is_empty() && interp.len() < 4096 && !interp.contains(&0));
    }
}

/// preld's parser must agree with the kernel's on every input.
fn check_shebang(data: &[u8]) {
    let ours = shebang::parse(data);
    let kernel = binfmt_script::load_script(data);
    match (ours, kernel) {
        (None, None) => {}
        (Some(Ok(sb)), Some(Ok((interp, arg)))) => {
            assert_eq!(sb.interpreter, &interp[..], "interpreter differs from the kernel's");
            assert_eq!(sb.argument.map(|a| a.to_vec()), arg, "argument differs from the kernel's");
        }
        (Some(Err(e)), Some(Err(k))) => {
            let same = matches!(
                (e, k),
                (shebang::ShebangError::NoInterpreter, binfmt_script::Refused::NoInterpreter)
                    | (shebang::ShebangError::TooLong, binfmt_script::Refused::Truncated)
            );
            assert!(same, "preld refuses with {e:?}, the kernel with {k:?}");
        }
        (ours, kernel) => panic!("preld: {ours:?}, kernel: {kernel:?}"),
    }
}

/// The first 8 bytes are AT_PHDR, the rest the table the kernel mapped there;
/// and when the bytes are a loadable ELF, its own table at its own AT_PHDR.
fn check_recorded_interpreter(data: &[u8]) {
    if data.len() >= 8 {
        let addr = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
        check_record(&data[8..], addr);
    }
    if let Ok(p) = elf::plan(data) {
        let off = u64::from_le_bytes(data[32..40].try_into().unwrap()) as usize; // e_phoff
        let table = &data[off..off + usize::from(p.phnum) * PHENT];
        check_record(table, 0x5555_5555_0000 + p.phdr_vaddr as usize);
    }
}

fn field(e: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(e[at..at + 8].try_into().unwrap())
}

fn check_record(table: &[u8], table_addr: usize) {
    let Ok(Some((addr, len))) = elf::recorded_interpreter(table, table_addr) else { return };
    assert!((2..=4096).contains(&len), "recorded path length {len}");
    // Recomputed independently: the first record and PT_PHDR, the bias, and
    // a PT_LOAD whose file-backed bytes hold the whole path.
    let entries: Vec<&[u8]> = table.chunks_exact(PHENT).collect();
    let ty = |e: &[u8]| u32::from_le_bytes(e[..4].try_into().unwrap());
    let rec = entries.iter().find(|e| ty(e) == PT_PRELD_INTERP).expect("a record");
    let phdr = entries.iter().find(|e| ty(e) == PT_PHDR).expect("a PT_PHDR");
    let (rec_vaddr, rec_filesz) = (field(rec, 16), field(rec, 32));
    assert_eq!(len as u64, rec_filesz);
    let bias = (table_addr as u64).wrapping_sub(field(phdr, 16));
    assert_eq!(addr as u64, bias.wrapping_add(rec_vaddr));
    let inside = entries.iter().any(|l| {
        let (v, f) = (field(l, 16), field(l, 32));
        ty(l) == PT_LOAD && rec_vaddr >= v && u128::from(rec_vaddr) + u128::from(rec_filesz) <= u128::from(v) + u128::from(f)
    });
    assert!(inside, "recorded path outside every PT_LOAD's file bytes");
}
