//! Unit tests of ELF validation and load planning: synthetic ELF files built
//! byte by byte for every error and edge case, real binaries from the host
//! for the good paths, and the inputs fuzzing found as regressions.

use super::*;
use std::path::{Path, PathBuf};

const PT_LOAD: u32 = ph::PT_LOAD;
const PT_INTERP: u32 = ph::PT_INTERP;
const PT_PHDR: u32 = ph::PT_PHDR;
const PT_GNU_STACK: u32 = ph::PT_GNU_STACK;
const R: u32 = ph::PF_R;
const W: u32 = ph::PF_W;
const X: u32 = ph::PF_X;
const LD_SO: &[u8] = b"/lib64/ld-linux-x86-64.so.2\0";

/// One program header, as written to the file.
#[derive(Clone, Copy, Debug)]
struct Phdr {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_filesz: u64,
    p_memsz: u64,
    p_align: u64,
}

impl Phdr {
    fn new(p_type: u32, p_flags: u32, p_offset: u64, p_vaddr: u64, p_filesz: u64, p_memsz: u64) -> Phdr {
        Phdr { p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz, p_align: PAGE }
    }
    fn load(p_flags: u32, p_offset: u64, p_vaddr: u64, p_filesz: u64, p_memsz: u64) -> Phdr {
        Phdr::new(PT_LOAD, p_flags, p_offset, p_vaddr, p_filesz, p_memsz)
    }
    fn align(mut self, a: u64) -> Phdr {
        self.p_align = a;
        self
    }
}

/// A synthetic ELF file: an Elf64_Ehdr, a program header table and payload
/// bytes placed at chosen offsets. Every field can be set to a wrong value,
/// which is the point: real toolchains will not produce these files.
#[derive(Clone, Debug)]
struct Elf {
    ident: [u8; 16],
    e_type: u16,
    e_machine: u16,
    e_version: u32,
    e_entry: u64,
    e_phoff: u64,
    e_phentsize: u16,
    /// None: the number of `phdrs`.
    e_phnum: Option<u16>,
    phdrs: Vec<Phdr>,
    payload: Vec<(usize, Vec<u8>)>,
    /// The file is zero-padded to at least this length.
    len: usize,
}

impl Elf {
    /// An empty ET_DYN x86_64 file with its program headers right after the
    /// ELF header.
    fn empty(e_type: u16) -> Elf {
        let mut ident = [0u8; 16];
        ident[..4].copy_from_slice(header::ELFMAG);
        ident[header::EI_CLASS] = header::ELFCLASS64;
        ident[header::EI_DATA] = header::ELFDATA2LSB;
        ident[header::EI_VERSION] = header::EV_CURRENT;
        Elf {
            ident,
            e_type,
            e_machine: EM_X86_64,
            e_version: 1,
            e_entry: 0,
            e_phoff: EHDR_SIZE as u64,
            e_phentsize: PHDR_SIZE,
            e_phnum: None,
            phdrs: Vec::new(),
            payload: Vec::new(),
            len: 0,
        }
    }

    /// A PIE as a linker lays it out: PHDR, INTERP, read-only headers
    /// segment, text, read-only data, data+bss at an offset not page-aligned,
    /// and a non-executable stack.
    fn pie() -> Elf {
        let mut e = Elf::empty(header::ET_DYN);
        e.e_entry = 0x1010;
        e.phdrs = vec![
            Phdr::new(PT_PHDR, R, 0x40, 0x40, 7 * 56, 7 * 56).align(8),
            Phdr::new(PT_INTERP, R, 0x200, 0x200, LD_SO.len() as u64, LD_SO.len() as u64).align(1),
            Phdr::load(R, 0, 0, 0x300, 0x300),
            Phdr::load(R | X, 0x1000, 0x1000, 0x800, 0x800),
            Phdr::load(R, 0x2000, 0x2000, 0x100, 0x100),
            Phdr::load(R | W, 0x2e00, 0x3e00, 0x300, 0x1400),
            Phdr::new(PT_GNU_STACK, R | W, 0, 0, 0, 0).align(16),
        ];
        e.payload.push((0x200, LD_SO.to_vec()));
        e.len = 0x3100;
        e
    }

    /// A static non-PIE program at the classic 0x400000.
    fn exec() -> Elf {
        let mut e = Elf::empty(header::ET_EXEC);
        e.e_entry = 0x401000;
        e.phdrs = vec![
            Phdr::load(R, 0, 0x400000, 0x200, 0x200),
            Phdr::load(R | X, 0x1000, 0x401000, 0x100, 0x100),
            Phdr::load(R | W, 0x1100, 0x402100, 0x10, 0x1000),
        ];
        e.len = 0x1110;
        e
    }

    fn phdr(mut self, i: usize, f: impl FnOnce(&mut Phdr)) -> Elf {
        f(&mut self.phdrs[i]);
        self
    }

    fn with(mut self, f: impl FnOnce(&mut Elf)) -> Elf {
        f(&mut self);
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len.max(0x1000));
        out.extend_from_slice(&self.ident);
        out.extend_from_slice(&self.e_type.to_le_bytes());
        out.extend_from_slice(&self.e_machine.to_le_bytes());
        out.extend_from_slice(&self.e_version.to_le_bytes());
        out.extend_from_slice(&self.e_entry.to_le_bytes());
        out.extend_from_slice(&self.e_phoff.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        out.extend_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
        out.extend_from_slice(&self.e_phentsize.to_le_bytes());
        out.extend_from_slice(&self.e_phnum.unwrap_or(self.phdrs.len() as u16).to_le_bytes());
        out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        assert_eq!(out.len(), EHDR_SIZE);
        let table = phdr_table(&self.phdrs);
        // A table placed beyond u32 offsets exists only in the header.
        if let Ok(off) = usize::try_from(self.e_phoff) {
            if off < (1 << 24) {
                put(&mut out, off, &table);
            }
        }
        for (off, data) in &self.payload {
            put(&mut out, *off, data);
        }
        if out.len() < self.len {
            out.resize(self.len, 0);
        }
        out
    }
}

fn phdr_table(phdrs: &[Phdr]) -> Vec<u8> {
    let mut t = Vec::with_capacity(phdrs.len() * 56);
    for p in phdrs {
        t.extend_from_slice(&p.p_type.to_le_bytes());
        t.extend_from_slice(&p.p_flags.to_le_bytes());
        t.extend_from_slice(&p.p_offset.to_le_bytes());
        t.extend_from_slice(&p.p_vaddr.to_le_bytes());
        t.extend_from_slice(&p.p_vaddr.to_le_bytes()); // p_paddr
        t.extend_from_slice(&p.p_filesz.to_le_bytes());
        t.extend_from_slice(&p.p_memsz.to_le_bytes());
        t.extend_from_slice(&p.p_align.to_le_bytes());
    }
    t
}

fn put(out: &mut Vec<u8>, off: usize, data: &[u8]) {
    if out.len() < off + data.len() {
        out.resize(off + data.len(), 0);
    }
    out[off..off + data.len()].copy_from_slice(data);
}

fn plan_of(e: &Elf) -> Result<LoadPlan, ElfError> {
    plan(&e.bytes()[..])
}

fn err_of(e: &Elf) -> ElfError {
    match plan_of(e) {
        Ok(p) => panic!("expected an error, got a plan: {p:#?}"),
        Err(err) => err,
    }
}

/// The invariants every successful plan keeps; the fuzz target checks the
/// same ones.
fn check_invariants(p: &LoadPlan, file_len: u64) {
    assert!(!p.segments.is_empty());
    assert!(p.span_start < p.span_end);
    assert_eq!(p.span_start % PAGE, 0);
    assert_eq!(p.span_end % PAGE, 0);
    assert!(p.span_end <= USER_END);
    assert!(p.align.is_power_of_two() && p.align >= PAGE);
    let mut prev_end = 0;
    for s in &p.segments {
        assert!(s.memsz > 0 && s.filesz <= s.memsz);
        assert!(s.vaddr >= prev_end, "segments sorted and disjoint");
        prev_end = s.vaddr + s.memsz;
        assert!(s.vaddr >= p.span_start && prev_end <= p.span_end);
        assert!(s.filesz == 0 || s.offset + s.filesz <= file_len);
        assert_eq!(s.offset % PAGE, s.vaddr % PAGE);
    }
    assert!(p.segments.iter().any(|s| s.executable && s.vaddr <= p.entry && p.entry < s.vaddr + s.memsz));
    if !p.relocatable {
        assert!(p.span_start >= MMAP_MIN_ADDR);
    }
}

/// A FileSource whose reads fail with an errno from some offset on, as a read
/// from a file on a failing disk or a FUSE server would.
struct FailingFile {
    data: Vec<u8>,
    fail_from: u64,
    errno: i32,
}

impl FileSource for FailingFile {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_exact_at(&self, off: u64, buf: &mut [u8]) -> Result<(), i32> {
        if off + buf.len() as u64 > self.fail_from {
            return Err(self.errno);
        }
        self.data[..].read_exact_at(off, buf)
    }
}

// ---------------------------------------------------------------- good paths

#[test]
fn pie_is_planned_as_the_kernel_would() {
    let e = Elf::pie();
    let p = plan_of(&e).unwrap();
    check_invariants(&p, e.len as u64);
    assert!(p.relocatable);
    assert_eq!(p.entry, 0x1010);
    assert_eq!(p.phnum, 7);
    assert_eq!(p.program_headers.len(), 7);
    assert_eq!(p.interp.as_deref(), Some(&LD_SO[..LD_SO.len() - 1]));
    assert!(!p.exec_stack);
    assert_eq!(p.span_start, 0);
    assert_eq!(p.span_end, 0x6000); // 0x3e00 + 0x1400 = 0x5200, rounded up
    assert_eq!(p.span_len(), 0x6000);
    assert_eq!(p.align, PAGE);
    // The table at file offset 0x40 is in the first PT_LOAD (offset 0, vaddr 0).
    assert_eq!(p.phdr_vaddr, 0x40);
    let s = &p.segments;
    assert_eq!(s.len(), 4);
    assert_eq!((s[0].readable, s[0].writable, s[0].executable), (true, false, false));
    assert_eq!((s[1].readable, s[1].writable, s[1].executable), (true, false, true));
    assert_eq!((s[3].readable, s[3].writable, s[3].executable), (true, true, false));
    assert_eq!(
        s[3],
        Segment { vaddr: 0x3e00, memsz: 0x1400, offset: 0x2e00, filesz: 0x300, readable: true, writable: true, executable: false }
    );
}

#[test]
fn static_exec_is_not_relocatable() {
    let e = Elf::exec();
    let p = plan_of(&e).unwrap();
    check_invariants(&p, e.len as u64);
    assert!(!p.relocatable);
    assert_eq!((p.span_start, p.span_end), (0x400000, 0x404000));
    assert_eq!(p.interp, None);
    assert!(!p.exec_stack);
    // phdrs at offset 0x40, in the segment at 0x400000.
    assert_eq!(p.phdr_vaddr, 0x400040);
    assert_eq!(p.phnum, 3);
}

#[test]
fn gnu_stack_decides_exec_stack_last_one_wins() {
    let e = Elf::pie().phdr(6, |p| p.p_flags = R | W | X);
    assert!(plan_of(&e).unwrap().exec_stack);
    // No PT_GNU_STACK: x86_64's default is a non-executable stack for the
    // program (ld.so applies its own policy later).
    let e = Elf::pie().with(|e| e.phdrs[6].p_type = ph::PT_NOTE);
    assert!(!plan_of(&e).unwrap().exec_stack);
    // As in binfmt_elf, a later PT_GNU_STACK overrides an earlier one.
    let e = Elf::pie().with(|e| {
        e.phdrs[0] = Phdr::new(PT_GNU_STACK, R | W | X, 0, 0, 0, 0);
    });
    assert!(!plan_of(&e).unwrap().exec_stack);
    let e = Elf::pie().with(|e| {
        e.phdrs[0] = Phdr::new(PT_GNU_STACK, R | W, 0, 0, 0, 0);
        e.phdrs[6].p_flags = R | W | X;
    });
    assert!(plan_of(&e).unwrap().exec_stack);
}

#[test]
fn align_is_the_largest_power_of_two_p_align() {
    let e = Elf::pie().phdr(3, |p| p.p_align = 0x20_0000).phdr(5, |p| p.p_align = 0x10000);
    assert_eq!(plan_of(&e).unwrap().align, 0x20_0000);
    // Not a power of two: ignored, as by the kernel's maximum_alignment().
    let e = Elf::pie().phdr(3, |p| p.p_align = 0x30_0000);
    assert_eq!(plan_of(&e).unwrap().align, PAGE);
    // Smaller than a page, or 0: the page size.
    let e = Elf::pie().with(|e| {
        for p in &mut e.phdrs {
            p.p_align = if p.p_type == PT_LOAD { 0 } else { 1 };
        }
    });
    assert_eq!(plan_of(&e).unwrap().align, PAGE);
    // Non-PT_LOAD alignments never count.
    let e = Elf::pie().phdr(6, |p| p.p_align = 0x100_0000);
    assert_eq!(plan_of(&e).unwrap().align, PAGE);
    // A PT_LOAD of memsz 0 is skipped whole, alignment included.
    let e = Elf::pie().with(|e| e.phdrs.push(Phdr::load(R, 0x3000, 0x8000, 0, 0).align(1 << 30)));
    assert_eq!(plan_of(&e).unwrap().align, PAGE);
}

#[test]
fn phdr_vaddr_is_computed_as_the_kernel_computes_at_phdr() {
    // Table inside a segment whose p_vaddr - p_offset differs from 0.
    let e = Elf::exec().with(|e| {
        e.e_phoff = 0x1040;
        e.phdrs[1].p_filesz = 0x200;
        e.phdrs[1].p_memsz = 0x200;
        e.phdrs[2].p_offset = 0x1300;
        e.phdrs[2].p_vaddr = 0x402300;
        e.len = 0x1400;
    });
    let p = plan_of(&e).unwrap();
    assert_eq!(p.phdr_vaddr, 0x401040);
    // The kernel uses the PT_LOAD holding e_phoff, whatever PT_PHDR claims.
    let e = Elf::pie().phdr(0, |p| p.p_vaddr = 0x2040);
    assert_eq!(plan_of(&e).unwrap().phdr_vaddr, 0x40);
    // Table in no segment (after all file-backed bytes): 0.
    let e = Elf::exec().with(|e| {
        e.e_phoff = 0x1110;
        e.len = 0x1110 + 3 * 56;
    });
    assert_eq!(plan_of(&e).unwrap().phdr_vaddr, 0);
}

#[test]
fn zero_memsz_loads_are_skipped() {
    let e = Elf::pie().with(|e| e.phdrs.insert(2, Phdr::load(R, 0x123, 0x7777_7777_7000, 0, 0)));
    let p = plan_of(&e).unwrap();
    assert_eq!(p.segments.len(), 4);
    assert_eq!(p.phnum, 8);
    check_invariants(&p, e.len as u64);
}

#[test]
fn bss_only_segment_needs_no_file_bytes() {
    // filesz 0 with an offset past the end of the file: nothing is read.
    let e = Elf::pie().with(|e| e.phdrs.push(Phdr::load(R | W, 0x3000 + 0x5000, 0x8000, 0, 0x1000)));
    let p = plan_of(&e).unwrap();
    assert_eq!(p.span_end, 0x9000);
    check_invariants(&p, e.len as u64);
}

#[test]
fn segments_may_touch_and_end_at_user_end() {
    let e = Elf::exec().with(|e| {
        e.phdrs[1].p_vaddr = 0x400200; // right after segment 0, congruent offset
        e.phdrs[1].p_offset = 0x200;
        e.e_entry = 0x400200;
    });
    plan_of(&e).unwrap();
    let e = Elf::exec().with(|e| {
        e.phdrs[2].p_vaddr = USER_END - 0x1000 + 0x100;
        e.phdrs[2].p_memsz = 0xf00;
    });
    let p = plan_of(&e).unwrap();
    assert_eq!(p.span_end, USER_END);
    check_invariants(&p, e.len as u64);
}

#[test]
fn entry_at_the_last_byte_of_text() {
    let e = Elf::exec().with(|e| e.e_entry = 0x401000 + 0xff);
    plan_of(&e).unwrap();
    let e = Elf::exec().with(|e| e.e_entry = 0x401000 + 0x100);
    assert_eq!(err_of(&e), ElfError::EntryOutsideText(0x401100));
}

#[test]
fn only_the_first_pt_interp_counts() {
    let e = Elf::pie().with(|e| {
        e.phdrs.push(Phdr::new(PT_INTERP, R, 0x280, 0x280, 4, 4));
        e.payload.push((0x280, b"/x\0\0".to_vec()));
    });
    assert_eq!(plan_of(&e).unwrap().interp.as_deref(), Some(&LD_SO[..LD_SO.len() - 1]));
}

// ------------------------------------------------------------- header errors

#[test]
fn not_elf() {
    assert_eq!(plan(&b""[..]), Err(ElfError::NotElf));
    assert_eq!(plan(&b"\x7fEL"[..]), Err(ElfError::NotElf));
    assert_eq!(plan(&b"#!/bin/sh\n"[..]), Err(ElfError::NotElf));
    assert_eq!(plan(&[0u8; 4096][..]), Err(ElfError::NotElf));
    let mut b = Elf::pie().bytes();
    b[3] = b'G';
    assert_eq!(plan(&b[..]), Err(ElfError::NotElf));
}

#[test]
fn truncated_header() {
    let b = Elf::pie().bytes();
    for n in [4, 5, 16, 63] {
        assert_eq!(plan(&b[..n]), Err(ElfError::Truncated), "{n} bytes");
        assert_eq!(parse_header(&b[..n]), Err(ElfError::Truncated), "{n} bytes");
    }
}

#[test]
fn read_failure_is_reported_with_its_errno() {
    let data = Elf::pie().bytes();
    // In the header, in the program header table, in PT_INTERP.
    for (fail_from, want) in [(10, ElfError::ReadFailed(5)), (100, ElfError::ReadFailed(5)), (0x210, ElfError::ReadFailed(5))] {
        let f = FailingFile { data: data.clone(), fail_from, errno: 5 };
        assert_eq!(plan(&f), Err(want), "failing from {fail_from}");
    }
    // A short read (errno 0) is a truncated file.
    let f = FailingFile { data: data.clone(), fail_from: 100, errno: 0 };
    assert_eq!(plan(&f), Err(ElfError::Truncated));
    let f = FailingFile { data, fail_from: 10, errno: 0 };
    assert_eq!(plan(&f), Err(ElfError::Truncated));
}

#[test]
fn class_endianness_version() {
    let e = Elf::pie().with(|e| e.ident[header::EI_CLASS] = header::ELFCLASS32);
    assert_eq!(err_of(&e), ElfError::Class32);
    for c in [0u8, 3, 0xff] {
        let e = Elf::pie().with(|e| e.ident[header::EI_CLASS] = c);
        assert_eq!(err_of(&e), ElfError::BadClass(c));
    }
    for d in [header::ELFDATA2MSB, 0, 7] {
        let e = Elf::pie().with(|e| e.ident[header::EI_DATA] = d);
        assert_eq!(err_of(&e), ElfError::BigEndian);
    }
    for v in [0u8, 2] {
        let e = Elf::pie().with(|e| e.ident[header::EI_VERSION] = v);
        assert_eq!(err_of(&e), ElfError::BadVersion);
    }
}

#[test]
fn other_machine_and_type() {
    for m in [183u16, 3, 0] {
        let e = Elf::pie().with(|e| e.e_machine = m);
        assert_eq!(err_of(&e), ElfError::OtherMachine(m));
    }
    for t in [header::ET_NONE, header::ET_REL, header::ET_CORE, 0xfe00] {
        let e = Elf::pie().with(|e| e.e_type = t);
        assert_eq!(err_of(&e), ElfError::NotExecutable(t));
    }
}

#[test]
fn parse_header_accepts_both_executable_types() {
    let h = parse_header(&Elf::pie().bytes()[..]).unwrap();
    assert_eq!((h.e_type, h.e_machine, h.e_entry, h.e_phoff, h.e_phnum), (header::ET_DYN, EM_X86_64, 0x1010, 64, 7));
    let h = parse_header(&Elf::exec().bytes()[..]).unwrap();
    assert_eq!(h.e_type, header::ET_EXEC);
    // parse_header looks at the header only: a bare 64-byte header is enough.
    assert!(parse_header(&Elf::exec().bytes()[..EHDR_SIZE]).is_ok());
}

// ---------------------------------------------------- program header errors

#[test]
fn program_header_table_errors() {
    let e = Elf::pie().with(|e| e.e_phnum = Some(0));
    assert_eq!(err_of(&e), ElfError::NoProgramHeaders);
    for s in [0u16, 32, 55, 57, 64] {
        let e = Elf::pie().with(|e| e.e_phentsize = s);
        assert_eq!(err_of(&e), ElfError::BadPhentsize(s));
    }
    // One page of program headers holds 73 entries.
    let max = (MAX_PHDR_BYTES / u64::from(PHDR_SIZE)) as u16;
    assert_eq!(max, 73);
    let e = Elf::pie().with(|e| {
        e.phdrs.resize(max as usize, Phdr::new(ph::PT_NOTE, R, 0, 0, 0, 0));
        e.e_phoff = 0x3100;
        e.len = 0x3100 + 73 * 56;
    });
    assert_eq!(plan_of(&e).unwrap().phnum, 73);
    for n in [74u16, 1000, u16::MAX] {
        let e = Elf::pie().with(|e| e.e_phnum = Some(n));
        assert_eq!(err_of(&e), ElfError::TooManyProgramHeaders(n));
    }
    // Table beyond the end of the file, partly or wholly, or at an offset
    // whose sum with the table length overflows.
    let b = Elf::pie().with(|e| e.e_phoff = 0x3100 - 56).bytes();
    assert_eq!(plan(&b[..0x3100]), Err(ElfError::ProgramHeadersOutsideFile));
    let e = Elf::pie().with(|e| e.e_phoff = 1 << 40);
    assert_eq!(err_of(&e), ElfError::ProgramHeadersOutsideFile);
    let e = Elf::pie().with(|e| e.e_phoff = u64::MAX - 10);
    assert_eq!(err_of(&e), ElfError::ProgramHeadersOutsideFile);
    // A file cut inside its table.
    let b = Elf::pie().bytes();
    assert_eq!(plan(&b[..100]), Err(ElfError::ProgramHeadersOutsideFile));
}

#[test]
fn no_load_segments() {
    let e = Elf::pie().with(|e| e.phdrs.retain(|p| p.p_type != PT_LOAD));
    assert_eq!(err_of(&e), ElfError::NoLoadSegments);
    // Only empty PT_LOADs.
    let e = Elf::pie().with(|e| {
        for p in &mut e.phdrs {
            if p.p_type == PT_LOAD {
                p.p_filesz = 0;
                p.p_memsz = 0;
            }
        }
    });
    assert_eq!(err_of(&e), ElfError::NoLoadSegments);
}

#[test]
fn filesz_over_memsz() {
    let e = Elf::pie().phdr(5, |p| p.p_filesz = p.p_memsz + 1);
    assert_eq!(err_of(&e), ElfError::FileszOverMemsz(5));
    // Even for memsz 0, which would otherwise be skipped.
    let e = Elf::pie().with(|e| e.phdrs.push(Phdr::load(R, 0, 0x9000, 1, 0)));
    assert_eq!(err_of(&e), ElfError::FileszOverMemsz(7));
}

#[test]
fn misaligned_offset_and_vaddr() {
    let e = Elf::pie().phdr(3, |p| p.p_offset += 8);
    assert_eq!(err_of(&e), ElfError::Misaligned(3));
    let e = Elf::pie().phdr(5, |p| p.p_vaddr += 0x10);
    assert_eq!(err_of(&e), ElfError::Misaligned(5));
    // Congruent modulo the page but not modulo p_align: accepted, as by the
    // kernel (p_align only raises the load bias alignment).
    let e = Elf::pie().phdr(5, |p| p.p_align = 0x10000);
    plan_of(&e).unwrap();
}

#[test]
fn segment_outside_file() {
    let e = Elf::pie().phdr(5, |p| p.p_filesz += 1);
    assert_eq!(err_of(&e), ElfError::SegmentOutsideFile(5));
    let e = Elf::pie().phdr(3, |p| {
        p.p_offset = !0xfff_u64;
        p.p_vaddr = 0x1000;
    });
    assert_eq!(err_of(&e), ElfError::SegmentOutsideFile(3));
    // A whole file cut in its data segment.
    let b = Elf::pie().bytes();
    assert_eq!(plan(&b[..0x3000]), Err(ElfError::SegmentOutsideFile(5)));
}

#[test]
fn segment_outside_user_space() {
    let e = Elf::pie().phdr(5, |p| p.p_memsz = 1 << 50);
    assert_eq!(err_of(&e), ElfError::SegmentOutsideUserSpace(5));
    let e = Elf::pie().phdr(5, |p| p.p_memsz = u64::MAX);
    assert_eq!(err_of(&e), ElfError::SegmentOutsideUserSpace(5));
    let e = Elf::pie().phdr(5, |p| p.p_vaddr = 0xffff_ffff_ffff_fe00);
    assert_eq!(err_of(&e), ElfError::SegmentOutsideUserSpace(5));
    // One byte past the end of user space.
    let e = Elf::exec().phdr(2, |p| {
        p.p_vaddr = USER_END - 0x1000 + 0x100;
        p.p_memsz = 0xf01;
    });
    assert_eq!(err_of(&e), ElfError::SegmentOutsideUserSpace(2));
    // ET_EXEC below mmap_min_addr (ET_DYN is moved by its bias, so it may).
    let e = Elf::exec().with(|e| {
        e.phdrs[0].p_vaddr = 0;
        e.phdrs[1].p_vaddr = 0x1000;
        e.phdrs[2].p_vaddr = 0x2100;
        e.e_entry = 0x1000;
    });
    assert_eq!(err_of(&e), ElfError::SegmentOutsideUserSpace(0));
}

#[test]
fn segments_overlap_or_out_of_order() {
    // Overlapping by one byte.
    let e = Elf::pie().phdr(4, |p| {
        p.p_vaddr = 0x17ff;
        p.p_offset = 0x7ff;
    });
    assert_eq!(err_of(&e), ElfError::SegmentsOverlap(4));
    // Descending order (the ELF spec requires ascending p_vaddr).
    let e = Elf::pie().with(|e| e.phdrs.swap(3, 4));
    assert_eq!(err_of(&e), ElfError::SegmentsOverlap(4));
    // The same segment twice.
    let e = Elf::pie().with(|e| {
        let text = e.phdrs[3];
        e.phdrs.insert(4, text);
    });
    assert_eq!(err_of(&e), ElfError::SegmentsOverlap(4));
}

#[test]
fn entry_outside_text() {
    // In a readable but not executable segment.
    let e = Elf::pie().with(|e| e.e_entry = 0x2000);
    assert_eq!(err_of(&e), ElfError::EntryOutsideText(0x2000));
    // In no segment at all.
    let e = Elf::pie().with(|e| e.e_entry = 0x7000_0000);
    assert_eq!(err_of(&e), ElfError::EntryOutsideText(0x7000_0000));
    // In the gap between two segments.
    let e = Elf::pie().with(|e| e.e_entry = 0x1900);
    assert_eq!(err_of(&e), ElfError::EntryOutsideText(0x1900));
    // Nothing executable.
    let e = Elf::pie().phdr(3, |p| p.p_flags = R);
    assert_eq!(err_of(&e), ElfError::EntryOutsideText(0x1010));
    // In the bss of an executable segment: mapped, zero-filled, accepted.
    let e = Elf::pie().with(|e| {
        e.phdrs[3].p_memsz = 0x900;
        e.e_entry = 0x1880;
    });
    plan_of(&e).unwrap();
}

#[test]
fn interp_errors() {
    let interp = |data: &[u8], filesz: u64| {
        let data = data.to_vec();
        Elf::pie().with(move |e| {
            e.payload[0].1 = data;
            e.phdrs[1].p_filesz = filesz;
            e.phdrs[1].p_memsz = filesz;
        })
    };
    let bad = |why: &'static str| ElfError::InterpBad(why);
    assert_eq!(err_of(&interp(b"", 0)), bad("empty path"));
    assert_eq!(err_of(&interp(b"\0", 1)), bad("empty path"));
    assert_eq!(err_of(&interp(b"/bin/sh", 7)), bad("path is not NUL-terminated"));
    assert_eq!(err_of(&interp(b"/bin\0sh\0", 8)), bad("path contains a NUL byte"));
    assert_eq!(err_of(&interp(b"\0\0", 2)), bad("path contains a NUL byte"));
    assert_eq!(err_of(&interp(b"", 4097)), bad("path longer than PATH_MAX"));
    assert_eq!(err_of(&interp(b"", u64::MAX)), bad("path longer than PATH_MAX"));
    // Exactly PATH_MAX bytes with its NUL is the longest accepted.
    let mut long = vec![b'a'; 4095];
    long.push(0);
    let e = interp(&long, 4096).with(|e| {
        e.phdrs[1].p_offset = 0x3100;
        e.payload[0].0 = 0x3100;
    });
    assert_eq!(plan_of(&e).unwrap().interp.unwrap().len(), 4095);
    let e = Elf::pie().phdr(1, |p| p.p_offset = 0x3100 - 4);
    assert_eq!(err_of(&e), bad("path lies outside the file"));
    let e = Elf::pie().phdr(1, |p| p.p_offset = u64::MAX - 2);
    assert_eq!(err_of(&e), bad("path lies outside the file"));
    // A one-character path is fine.
    assert_eq!(plan_of(&interp(b"x\0", 2)).unwrap().interp.as_deref(), Some(&b"x"[..]));
}

#[test]
fn every_error_is_one_line() {
    let all = [
        ElfError::NotElf,
        ElfError::Truncated,
        ElfError::ReadFailed(5),
        ElfError::Class32,
        ElfError::BadClass(7),
        ElfError::BigEndian,
        ElfError::BadVersion,
        ElfError::OtherMachine(183),
        ElfError::NotExecutable(1),
        ElfError::BadPhentsize(32),
        ElfError::NoProgramHeaders,
        ElfError::TooManyProgramHeaders(1000),
        ElfError::ProgramHeadersOutsideFile,
        ElfError::NoLoadSegments,
        ElfError::FileszOverMemsz(2),
        ElfError::Misaligned(2),
        ElfError::SegmentOutsideFile(2),
        ElfError::SegmentOutsideUserSpace(2),
        ElfError::SegmentsOverlap(2),
        ElfError::EntryOutsideText(0x1234),
        ElfError::InterpBad("empty path"),
    ];
    for e in all {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "{e:?}: {s:?}");
    }
}

// --------------------------------------------------------- real binaries

fn read_host(path: &str) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

#[test]
fn host_ls_is_a_pie_with_ld_so() {
    let data = read_host("/bin/ls").expect("/bin/ls is part of every Linux host");
    let p = plan(&data[..]).unwrap();
    check_invariants(&p, data.len() as u64);
    assert!(p.relocatable);
    assert_eq!(p.interp.as_deref(), Some(&LD_SO[..LD_SO.len() - 1]));
    assert!(!p.exec_stack);
    assert_eq!(p.span_start, 0);
    // /bin/ls has a PT_PHDR; AT_PHDR must agree with it.
    let pt_phdr = p.program_headers.iter().find(|h| h.p_type == PT_PHDR).unwrap();
    assert_eq!(p.phdr_vaddr, pt_phdr.p_vaddr);
    // Truncations of a real binary fail cleanly, never plan.
    for n in [0, 3, 4, 63, 64, 100, 1000, 4096, data.len() / 2] {
        assert!(plan(&data[..n]).is_err(), "{n} bytes of /bin/ls planned");
    }
}

#[test]
fn host_static_binaries() {
    // Static-pie (glibc's ldconfig, our own ld-preld) and static non-PIE
    // (busybox, Go programs): whichever the host has.
    let mut seen = 0;
    for path in ["/sbin/ldconfig", "/usr/sbin/ldconfig", "/bin/busybox", "/usr/bin/busybox"] {
        let Some(data) = read_host(path) else { continue };
        let p = plan(&data[..]).unwrap_or_else(|e| panic!("{path}: {e}"));
        check_invariants(&p, data.len() as u64);
        assert_eq!(p.interp, None, "{path} is static");
        seen += 1;
    }
    let ld_preld = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/preld/ld-preld");
    if let Ok(data) = std::fs::read(&ld_preld) {
        let p = plan(&data[..]).unwrap();
        check_invariants(&p, data.len() as u64);
        assert!(p.relocatable && p.interp.is_none());
        seen += 1;
    }
    if seen == 0 {
        eprintln!("note: no static binary on this host; only synthetic ET_EXEC cases ran");
    }
}

#[test]
fn host_python_is_exec_when_non_pie() {
    // Debian's python3 is a non-PIE ET_EXEC; elsewhere it may be a PIE.
    let Some(data) = read_host("/usr/bin/python3") else { return };
    let p = plan(&data[..]).unwrap();
    check_invariants(&p, data.len() as u64);
    let h = parse_header(&data[..]).unwrap();
    assert_eq!(p.relocatable, h.e_type == header::ET_DYN);
    if !p.relocatable {
        assert!(p.span_start >= 0x400000 - PAGE);
        assert!(p.phdr_vaddr >= p.span_start && p.phdr_vaddr < p.span_end);
    }
}

// ------------------------------------------------------ recorded interpreter

/// A patched program's table: PT_PHDR, the PT_LOAD holding it and the
/// recorded path, and the record.
fn patched(rec_vaddr: u64, rec_len: u64) -> Vec<Phdr> {
    vec![
        Phdr::new(PT_PHDR, R, 0x40, 0x40, 3 * 56, 3 * 56),
        Phdr::load(R | X, 0, 0, 0x2000, 0x3000),
        Phdr::new(PT_PRELD_INTERP, R, rec_vaddr, rec_vaddr, rec_len, rec_len),
    ]
}

#[test]
fn recorded_interpreter_found() {
    let t = phdr_table(&patched(0x1800, 28));
    // The program was loaded at bias 0x5555_0000_0000: AT_PHDR = bias + 0x40.
    let bias = 0x5555_0000_0000usize;
    assert_eq!(recorded_interpreter(&t, bias + 0x40), Ok(Some((bias + 0x1800, 28))));
    // ET_EXEC: bias 0.
    assert_eq!(recorded_interpreter(&t, 0x40), Ok(Some((0x1800, 28))));
    // Ends exactly at the end of the file-backed part.
    let t = phdr_table(&patched(0x2000 - 28, 28));
    assert_eq!(recorded_interpreter(&t, 0x40), Ok(Some((0x2000 - 28, 28))));
}

#[test]
fn recorded_interpreter_absent() {
    let mut ph = patched(0x1800, 28);
    ph.pop();
    assert_eq!(recorded_interpreter(&phdr_table(&ph), 0x40), Ok(None));
    assert_eq!(recorded_interpreter(&[], 0x40), Ok(None));
    // A partial trailing entry is ignored, as AT_PHNUM counts whole entries.
    let mut t = phdr_table(&ph);
    t.extend_from_slice(&[0xff; 30]);
    assert_eq!(recorded_interpreter(&t, 0x40), Ok(None));
}

#[test]
fn recorded_interpreter_untrusted() {
    let mut ph = patched(0x1800, 28);
    ph.remove(0);
    assert_eq!(recorded_interpreter(&phdr_table(&ph), 0x40), Err("recorded interpreter but no PT_PHDR"));
    let corrupt = Err("corrupt recorded interpreter path");
    // In the bss (past p_filesz), outside any PT_LOAD, wrapping around.
    for (vaddr, len) in [(0x2000 - 27, 28), (0x2800, 28), (0x5000, 28), (u64::MAX - 3, 28), (0x1800, u64::MAX)] {
        assert_eq!(recorded_interpreter(&phdr_table(&patched(vaddr, len)), 0x40), corrupt, "{vaddr:#x}+{len}");
    }
    // Too short or too long.
    for len in [0, 1, 4097] {
        let mut ph = patched(0x100, len);
        ph[1].p_filesz = 0x3000;
        assert_eq!(recorded_interpreter(&phdr_table(&ph), 0x40), corrupt, "length {len}");
    }
}

// ------------------------------------------------------ fuzzing regressions

fn regression_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests-data/fuzz-regressions")
}

/// The kernel's `#!` parser, transcribed; the fuzz target compares with it too.
#[path = "../../../fuzz/oracle/binfmt_script.rs"]
mod binfmt_script;

/// Every input fuzzing ever flagged goes through the planner and the other
/// fuzzed parsers again: the plan, if any, must keep the invariants, and the
/// `#!` parse must agree with the kernel's.
#[test]
fn fuzz_regressions() {
    let dir = regression_dir();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "bin") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if let Ok(p) = plan(&data[..]) {
            check_invariants(&p, data.len() as u64);
        }
        let ours = crate::shebang::parse(&data).map(|r| r.map(|s| (s.interpreter.to_vec(), s.argument.map(<[u8]>::to_vec))));
        let kernel = binfmt_script::load_script(&data);
        match (&ours, &kernel) {
            (Some(Err(_)), Some(Err(_))) => {}
            _ => assert_eq!(ours.map(|r| r.ok()), kernel.map(|r| r.ok()), "{}", path.display()),
        }
        let _ = recorded_interpreter(&data, 0x40);
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn shebang_edge_cases_match_the_kernel() {
    // Each was checked against native execve of the same file.
    type Case<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);
    let cases: [Case; 5] = [
        (b"#!/bin/echo", b"/bin/echo", None),
        (b"#!/bin/echo a ", b"/bin/echo", Some(b"a ")),
        (b"#!/bin/echo a \0 b\n", b"/bin/echo", Some(b"a ")),
        (b"#!/bin/echo \0x\n", b"/bin/echo", Some(b"")),
        (b"#!/bin/echo\0 a\n", b"/bin/echo", None),
    ];
    for (file, interp, arg) in cases {
        let sb = crate::shebang::parse(file).unwrap().unwrap();
        assert_eq!((sb.interpreter, sb.argument), (interp, arg), "{:?}", String::from_utf8_lossy(file));
        assert_eq!(binfmt_script::load_script(file), Some(Ok((interp.to_vec(), arg.map(<[u8]>::to_vec)))));
    }
}
