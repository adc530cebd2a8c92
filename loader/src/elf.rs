//! ELF validation and load planning: from a file's bytes to the list of
//! mappings the kernel would have made, or the reason it is not loadable.
//!
//! The checks are the kernel's (binfmt_elf) plus a few that turn a later
//! SIGSEGV/SIGBUS into a clear error: segments must lie inside the file,
//! inside user space and must not overlap, and the entry point must be in an
//! executable segment.

use alloc::vec::Vec;
use core::fmt;
use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{self, Header};
use goblin::elf::program_header::{self as ph, ProgramHeader};

use crate::{page_down, page_up, PAGE};

/// The end of x86_64 user space (47-bit addresses, last page excluded).
pub const USER_END: u64 = 0x7fff_ffff_f000;
/// Lowest address a fixed mapping may use (vm.mmap_min_addr's default).
pub const MMAP_MIN_ADDR: u64 = 0x1000;
/// The kernel reads at most one page of program headers.
const MAX_PHDR_BYTES: u64 = 4096;
/// The kernel's limit for the PT_INTERP string (PATH_MAX).
const MAX_INTERP: u64 = 4096;
/// Program header type of the original interpreter's path in a program
/// patched by `preld patch` (in the OS-specific range, ignored by the kernel
/// and ld.so). Its p_vaddr/p_filesz give the NUL-terminated path in memory.
pub const PT_PRELD_INTERP: u32 = 0x6570_6c64;

/// Size of an Elf64_Ehdr and an Elf64_Phdr.
pub const EHDR_SIZE: usize = 64;
const PHDR_SIZE: u16 = 56;
const EM_X86_64: u16 = 62;

/// Something that reads like a file: the loader's fd or, in tests and fuzzing,
/// a byte slice.
pub trait FileSource {
    fn size(&self) -> u64;
    /// Fills `buf` from offset `off`; an error if the file is shorter or the
    /// read fails (the value is an errno, or 0 for "short").
    fn read_exact_at(&self, off: u64, buf: &mut [u8]) -> Result<(), i32>;
}

impl FileSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_exact_at(&self, off: u64, buf: &mut [u8]) -> Result<(), i32> {
        let start = usize::try_from(off).map_err(|_| 0)?;
        let end = start.checked_add(buf.len()).ok_or(0)?;
        let src = self.get(start..end).ok_or(0)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// Why a file cannot be loaded. Every variant is one line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    NotElf,
    Truncated,
    ReadFailed(i32),
    Class32,
    BadClass(u8),
    BigEndian,
    BadVersion,
    OtherMachine(u16),
    NotExecutable(u16),
    BadPhentsize(u16),
    NoProgramHeaders,
    TooManyProgramHeaders(u16),
    ProgramHeadersOutsideFile,
    NoLoadSegments,
    FileszOverMemsz(usize),
    Misaligned(usize),
    SegmentOutsideFile(usize),
    SegmentOutsideUserSpace(usize),
    SegmentsOverlap(usize),
    EntryOutsideText(u64),
    InterpBad(&'static str),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ElfError::*;
        match self {
            NotElf => f.write_str("not an ELF executable"),
            Truncated => f.write_str("truncated ELF file"),
            ReadFailed(e) => write!(f, "read failed (errno {e})"),
            Class32 => f.write_str("32-bit ELF is not supported (x86_64 only)"),
            BadClass(c) => write!(f, "corrupt ELF header (class {c})"),
            BigEndian => f.write_str("big-endian ELF is not supported (x86_64 only)"),
            BadVersion => f.write_str("corrupt ELF header (version)"),
            OtherMachine(m) => write!(f, "ELF for another architecture (e_machine {m}, not x86_64)"),
            NotExecutable(t) => write!(f, "ELF type {t} is not an executable or shared object"),
            BadPhentsize(s) => write!(f, "corrupt ELF header (e_phentsize {s})"),
            NoProgramHeaders => f.write_str("ELF file has no program headers"),
            TooManyProgramHeaders(n) => write!(f, "too many program headers ({n})"),
            ProgramHeadersOutsideFile => f.write_str("program headers lie outside the file (truncated?)"),
            NoLoadSegments => f.write_str("no loadable segment"),
            FileszOverMemsz(i) => write!(f, "segment {i}: p_filesz exceeds p_memsz"),
            Misaligned(i) => write!(f, "segment {i}: p_offset and p_vaddr are not congruent modulo the page size"),
            SegmentOutsideFile(i) => write!(f, "segment {i} lies outside the file (truncated?)"),
            SegmentOutsideUserSpace(i) => write!(f, "segment {i} lies outside user address space"),
            SegmentsOverlap(i) => write!(f, "segment {i} overlaps or precedes the previous one"),
            EntryOutsideText(e) => write!(f, "entry point {e:#x} is not in an executable segment"),
            InterpBad(why) => write!(f, "bad PT_INTERP: {why}"),
        }
    }
}

/// One PT_LOAD, as the mapping code needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

/// A validated program: what to map and what the auxiliary vector says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    /// ET_DYN: mapped anywhere (at a bias); ET_EXEC: at its link addresses.
    pub relocatable: bool,
    pub segments: Vec<Segment>,
    /// Page-aligned link-time span of all segments.
    pub span_start: u64,
    pub span_end: u64,
    /// Alignment of the load bias (ET_DYN): the largest power-of-two p_align.
    pub align: u64,
    /// Link-time entry point.
    pub entry: u64,
    /// Link-time address of the program headers (0 when no segment maps them,
    /// as the kernel does).
    pub phdr_vaddr: u64,
    pub phnum: u16,
    /// The interpreter to map, without its terminating NUL: PT_INTERP, or the
    /// original interpreter a patched program recorded (PT_PRELD_INTERP).
    pub interp: Option<Vec<u8>>,
    /// PT_GNU_STACK asks for an executable stack.
    pub exec_stack: bool,
    /// All program headers, for lookups of other types.
    pub program_headers: Vec<ProgramHeader>,
}

impl LoadPlan {
    /// Size of the address range to reserve for a relocatable image.
    pub fn span_len(&self) -> u64 {
        self.span_end - self.span_start
    }
}

/// Checks the ELF identification and header; first step of any load.
pub fn parse_header(src: &(impl FileSource + ?Sized)) -> Result<Header, ElfError> {
    let mut ident = [0u8; EHDR_SIZE];
    if src.size() < 4 {
        return Err(ElfError::NotElf);
    }
    let n = core::cmp::min(src.size(), EHDR_SIZE as u64) as usize;
    src.read_exact_at(0, &mut ident[..n]).map_err(read_err)?;
    if &ident[..4] != header::ELFMAG {
        return Err(ElfError::NotElf);
    }
    if n < EHDR_SIZE {
        return Err(ElfError::Truncated);
    }
    match ident[header::EI_CLASS] {
        header::ELFCLASS64 => {}
        header::ELFCLASS32 => return Err(ElfError::Class32),
        c => return Err(ElfError::BadClass(c)),
    }
    if ident[header::EI_DATA] != header::ELFDATA2LSB {
        return Err(ElfError::BigEndian);
    }
    if ident[header::EI_VERSION] != header::EV_CURRENT {
        return Err(ElfError::BadVersion);
    }
    let hdr = goblin::elf::Elf::parse_header(&ident).map_err(|_| ElfError::Truncated)?;
    if hdr.e_machine != EM_X86_64 {
        return Err(ElfError::OtherMachine(hdr.e_machine));
    }
    if hdr.e_type != header::ET_EXEC && hdr.e_type != header::ET_DYN {
        return Err(ElfError::NotExecutable(hdr.e_type));
    }
    Ok(hdr)
}

fn read_err(e: i32) -> ElfError {
    if e == 0 {
        ElfError::Truncated
    } else {
        ElfError::ReadFailed(e)
    }
}

/// Validates a whole program and plans its mappings. Makes no system call
/// other than the reads of `src`.
pub fn plan(src: &(impl FileSource + ?Sized)) -> Result<LoadPlan, ElfError> {
    let hdr = parse_header(src)?;
    if hdr.e_phnum == 0 {
        return Err(ElfError::NoProgramHeaders);
    }
    if hdr.e_phentsize != PHDR_SIZE {
        return Err(ElfError::BadPhentsize(hdr.e_phentsize));
    }
    let table_len = u64::from(hdr.e_phnum) * u64::from(PHDR_SIZE);
    if table_len > MAX_PHDR_BYTES {
        return Err(ElfError::TooManyProgramHeaders(hdr.e_phnum));
    }
    match hdr.e_phoff.checked_add(table_len) {
        Some(end) if end <= src.size() => {}
        _ => return Err(ElfError::ProgramHeadersOutsideFile),
    }
    let mut table = alloc::vec![0u8; table_len as usize];
    src.read_exact_at(hdr.e_phoff, &mut table).map_err(read_err)?;
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = ProgramHeader::parse(&table, 0, hdr.e_phnum as usize, ctx)
        .map_err(|_| ElfError::ProgramHeadersOutsideFile)?;

    let file_size = src.size();
    let mut segments = Vec::new();
    let mut align = PAGE;
    let mut prev_end = 0u64;
    let mut interp = None;
    let mut recorded = None;
    let mut exec_stack = false;
    let mut phdr_vaddr = 0u64;
    for (i, p) in phdrs.iter().enumerate() {
        match p.p_type {
            ph::PT_LOAD => {
                if p.p_filesz > p.p_memsz {
                    return Err(ElfError::FileszOverMemsz(i));
                }
                if p.p_memsz == 0 {
                    continue; // the kernel maps nothing for it either
                }
                if p.p_offset % PAGE != p.p_vaddr % PAGE {
                    return Err(ElfError::Misaligned(i));
                }
                match p.p_offset.checked_add(p.p_filesz) {
                    Some(end) if end <= file_size => {}
                    // A bss-only segment reads nothing from the file; the
                    // kernel ignores its p_offset, so must we.
                    Some(_) if p.p_filesz == 0 => {}
                    _ => return Err(ElfError::SegmentOutsideFile(i)),
                }
                let end = match p.p_vaddr.checked_add(p.p_memsz) {
                    Some(end) if end <= USER_END => end,
                    _ => return Err(ElfError::SegmentOutsideUserSpace(i)),
                };
                if !segments.is_empty() && p.p_vaddr < prev_end {
                    return Err(ElfError::SegmentsOverlap(i));
                }
                prev_end = end;
                if p.p_align > align && p.p_align.is_power_of_two() {
                    align = p.p_align;
                }
                // The kernel's AT_PHDR: the table's address in the segment
                // whose file range holds it.
                if p.p_offset <= hdr.e_phoff && hdr.e_phoff < p.p_offset + p.p_filesz {
                    phdr_vaddr = hdr.e_phoff - p.p_offset + p.p_vaddr;
                }
                segments.push(Segment {
                    vaddr: p.p_vaddr,
                    memsz: p.p_memsz,
                    offset: p.p_offset,
                    filesz: p.p_filesz,
                    readable: p.p_flags & ph::PF_R != 0,
                    writable: p.p_flags & ph::PF_W != 0,
                    executable: p.p_flags & ph::PF_X != 0,
                });
            }
            ph::PT_INTERP if interp.is_none() => interp = Some(read_interp(src, p)?),
            PT_PRELD_INTERP if recorded.is_none() => recorded = Some(read_interp(src, p)?),
            ph::PT_GNU_STACK => exec_stack = p.p_flags & ph::PF_X != 0,
            _ => {}
        }
    }
    let (first, last) = match (segments.first(), segments.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err(ElfError::NoLoadSegments),
    };
    let span_start = page_down(first.vaddr);
    // Cannot overflow: every end was checked against USER_END.
    let span_end = page_up(last.vaddr + last.memsz).unwrap_or(USER_END);
    let relocatable = hdr.e_type == header::ET_DYN;
    // A program patched by `preld patch` names ld-preld as PT_INTERP; the
    // interpreter to map is the original one it recorded.
    let interp = if interp.is_some() { recorded.or(interp) } else { None };
    if !relocatable && span_start < MMAP_MIN_ADDR {
        return Err(ElfError::SegmentOutsideUserSpace(0));
    }
    let entry_ok = segments
        .iter()
        .any(|s| s.executable && hdr.e_entry >= s.vaddr && hdr.e_entry - s.vaddr < s.memsz);
    if !entry_ok {
        return Err(ElfError::EntryOutsideText(hdr.e_entry));
    }
    Ok(LoadPlan {
        relocatable,
        segments,
        span_start,
        span_end,
        align,
        entry: hdr.e_entry,
        phdr_vaddr,
        phnum: hdr.e_phnum,
        interp,
        exec_stack,
        program_headers: phdrs,
    })
}

fn read_interp(src: &(impl FileSource + ?Sized), p: &ProgramHeader) -> Result<Vec<u8>, ElfError> {
    if p.p_filesz < 2 {
        return Err(ElfError::InterpBad("empty path"));
    }
    if p.p_filesz > MAX_INTERP {
        return Err(ElfError::InterpBad("path longer than PATH_MAX"));
    }
    match p.p_offset.checked_add(p.p_filesz) {
        Some(end) if end <= src.size() => {}
        _ => return Err(ElfError::InterpBad("path lies outside the file")),
    }
    let mut path = alloc::vec![0u8; p.p_filesz as usize];
    src.read_exact_at(p.p_offset, &mut path).map_err(read_err)?;
    if path.pop() != Some(0) {
        return Err(ElfError::InterpBad("path is not NUL-terminated"));
    }
    if path.contains(&0) {
        return Err(ElfError::InterpBad("path contains a NUL byte"));
    }
    Ok(path)
}

/// In a program the kernel mapped (PT_INTERP mode): finds the original
/// interpreter recorded by `preld patch`. `table` is the in-memory program
/// header table, found at runtime address `table_addr` (AT_PHDR). Returns the
/// runtime address and length (NUL included) of the recorded path, None when
/// nothing is recorded, or why the record cannot be trusted.
pub fn recorded_interpreter(table: &[u8], table_addr: usize) -> Result<Option<(usize, usize)>, &'static str> {
    string_in_memory(table, table_addr, PT_PRELD_INTERP)
}

/// In a program the kernel mapped: its PT_INTERP string (address and
/// length, NUL included), if it lies in a PT_LOAD.
pub fn interp_in_memory(table: &[u8], table_addr: usize) -> Option<(usize, usize)> {
    string_in_memory(table, table_addr, ph::PT_INTERP).ok().flatten()
}

fn string_in_memory(table: &[u8], table_addr: usize, kind: u32) -> Result<Option<(usize, usize)>, &'static str> {
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = ProgramHeader::parse(table, 0, table.len() / PHDR_SIZE as usize, ctx)
        .map_err(|_| "corrupt program headers")?;
    let Some(rec) = phdrs.iter().find(|p| p.p_type == kind) else {
        return Ok(None);
    };
    let Some(self_ref) = phdrs.iter().find(|p| p.p_type == ph::PT_PHDR) else {
        return Err("recorded interpreter but no PT_PHDR");
    };
    let bias = (table_addr as u64).wrapping_sub(self_ref.p_vaddr);
    let inside = phdrs.iter().any(|l| {
        l.p_type == ph::PT_LOAD
            && rec.p_vaddr >= l.p_vaddr
            && rec.p_vaddr.checked_add(rec.p_filesz).is_some_and(|e| e <= l.p_vaddr.saturating_add(l.p_filesz))
    });
    if !inside || rec.p_filesz < 2 || rec.p_filesz > MAX_INTERP {
        return Err("corrupt recorded interpreter path");
    }
    Ok(Some((bias.wrapping_add(rec.p_vaddr) as usize, rec.p_filesz as usize)))
}

#[cfg(test)]
mod tests;
