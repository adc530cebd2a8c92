//! Reading a vDSO image: an ELF shared object already in memory (the
//! kernel's at AT_SYSINFO_EHDR, or preld's own), read as the dynamic linker
//! and the Go runtime read it. Its bytes from the ELF header on are its
//! memory image; PT_DYNAMIC locates the dynamic symbol and string tables,
//! the hash tables (which give the symbol count) and the version tables.
//!
//! Only what a vDSO has is read: no section headers, no relocations (a
//! vDSO must have none; [`VdsoImage::has_relocations`] says whether
//! PT_DYNAMIC lists any). Every read is bounds-checked against the bytes
//! given, so a truncated or corrupt image gives `None`, never a panic.

use goblin::elf::dynamic::{
    DT_GNU_HASH, DT_HASH, DT_JMPREL, DT_NULL, DT_REL, DT_RELA, DT_SONAME, DT_STRSZ, DT_STRTAB, DT_SYMTAB,
    DT_TEXTREL, DT_VERDEF, DT_VERSYM,
};
use goblin::elf::header::{EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_DYN, SELFMAG};
use goblin::elf::program_header::{ProgramHeader, PT_DYNAMIC, PT_LOAD};
use goblin::elf::sym::{STB_GLOBAL, STB_WEAK, STT_FUNC};
use goblin::elf::symver::VER_FLG_BASE;
use goblin::elf64::{dynamic::SIZEOF_DYN, header::SIZEOF_EHDR, program_header::SIZEOF_PHDR, sym::SIZEOF_SYM};

/// DT_RELR (relative relocations, packed), which goblin does not name.
const DT_RELR: u64 = 36;
const EHDR_SIZE: usize = SIZEOF_EHDR;
const PHDR_SIZE: usize = SIZEOF_PHDR;
const SYM_SIZE: usize = SIZEOF_SYM;
const DYN_SIZE: usize = SIZEOF_DYN;
/// No vDSO is anywhere near this big; a larger extent means a bad header.
const MAX_IMAGE: usize = 1 << 20;

fn bytes_at(b: &[u8], off: usize, n: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(n)?)
}
fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes_at(b, off, 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes_at(b, off, 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes_at(b, off, 8)?.try_into().ok()?))
}
/// `base + i * size`, or None on overflow.
fn index(base: usize, i: usize, size: usize) -> Option<usize> {
    base.checked_add(i.checked_mul(size)?)
}

/// Checks the ELF header of a little-endian ELF64 shared object for x86_64
/// and returns its program headers' offset and count.
fn ehdr(b: &[u8]) -> Option<(usize, usize)> {
    let ident = bytes_at(b, 0, 16)?;
    if &ident[..SELFMAG] != ELFMAG || ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB {
        return None;
    }
    if u16_at(b, 16)? != ET_DYN || u16_at(b, 18)? != EM_X86_64 {
        return None; // e_type, e_machine
    }
    if u16_at(b, 54)? as usize != PHDR_SIZE {
        return None;
    }
    Some((usize::try_from(u64_at(b, 32)?).ok()?, u16_at(b, 56)? as usize))
}

/// Program header `i` of the table at `phoff`.
fn phdr(b: &[u8], phoff: usize, i: usize) -> Option<ProgramHeader> {
    let p = index(phoff, i, PHDR_SIZE)?;
    bytes_at(b, p, PHDR_SIZE)?;
    Some(ProgramHeader {
        p_type: u32_at(b, p)?,
        p_flags: u32_at(b, p + 4)?,
        p_offset: u64_at(b, p + 8)?,
        p_vaddr: u64_at(b, p + 16)?,
        p_paddr: u64_at(b, p + 24)?,
        p_filesz: u64_at(b, p + 32)?,
        p_memsz: u64_at(b, p + 40)?,
        p_align: u64_at(b, p + 48)?,
    })
}

/// How many bytes from the ELF header a vDSO's PT_LOADs span, computed from
/// its first bytes (`head` must hold the ELF header and program headers).
pub fn extent(head: &[u8]) -> Option<usize> {
    let (phoff, phnum) = ehdr(head)?;
    let mut end = index(phoff, phnum, PHDR_SIZE)?.max(EHDR_SIZE);
    for i in 0..phnum {
        let ph = phdr(head, phoff, i)?;
        if ph.p_type == PT_LOAD {
            end = end.max(usize::try_from(ph.p_offset.checked_add(ph.p_filesz)?).ok()?);
        }
    }
    (end <= MAX_IMAGE).then_some(end)
}

/// A symbol of a vDSO's dynamic symbol table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    pub name: &'a [u8],
    /// `st_value`: the symbol's virtual address.
    pub value: u64,
    /// Where `value` lies in the image's bytes.
    pub offset: usize,
    pub size: u64,
    /// STT_*
    pub kind: u8,
    /// STB_*
    pub bind: u8,
    pub shndx: u16,
    /// Name of its version (from DT_VERSYM/DT_VERDEF), if the image has versions.
    pub version: Option<&'a [u8]>,
}

/// A vDSO read as the dynamic linker and the Go runtime read it: a memory
/// image (its bytes from the ELF header on) with a PT_DYNAMIC that locates
/// the dynamic symbol and string tables, the hash tables and the versions.
#[derive(Clone, Copy, Debug)]
pub struct VdsoImage<'a> {
    bytes: &'a [u8],
    /// Index in `bytes` of vaddr 0 (wrapping): `p_offset - p_vaddr` of the
    /// first PT_LOAD, as Go computes it.
    bias: u64,
    phoff: usize,
    phnum: usize,
    strtab: usize,
    strsz: usize,
    symtab: usize,
    nsyms: usize,
    versym: Option<usize>,
    verdef: Option<usize>,
    soname: Option<usize>,
    relocations: bool,
}

impl<'a> VdsoImage<'a> {
    /// Reads the tables; None if `bytes` is not a well-formed vDSO image.
    pub fn parse(bytes: &'a [u8]) -> Option<VdsoImage<'a>> {
        let (phoff, phnum) = ehdr(bytes)?;
        let mut load = None;
        let mut dynamic = None;
        for i in 0..phnum {
            let ph = phdr(bytes, phoff, i)?;
            match ph.p_type {
                PT_LOAD if load.is_none() => load = Some(ph),
                PT_DYNAMIC => dynamic = Some(ph),
                _ => {}
            }
        }
        let load = load?;
        let dynamic = dynamic?;
        let mut img = VdsoImage {
            bytes,
            bias: load.p_offset.wrapping_sub(load.p_vaddr),
            phoff,
            phnum,
            strtab: 0,
            strsz: 0,
            symtab: 0,
            nsyms: 0,
            versym: None,
            verdef: None,
            soname: None,
            relocations: false,
        };
        let (mut strtab, mut strsz, mut symtab, mut hash, mut gnu_hash) = (None, None, None, None, None);
        let dyn_start = usize::try_from(dynamic.p_offset).ok()?;
        let dyn_count = usize::try_from(dynamic.p_filesz).ok()? / DYN_SIZE;
        for i in 0..dyn_count {
            let d = index(dyn_start, i, DYN_SIZE)?;
            let (tag, val) = (u64_at(bytes, d)?, u64_at(bytes, d + 8)?);
            match tag {
                DT_NULL => break,
                DT_STRTAB => strtab = Some(img.at(val)?),
                DT_STRSZ => strsz = usize::try_from(val).ok(),
                DT_SYMTAB => symtab = Some(img.at(val)?),
                DT_HASH => hash = Some(img.at(val)?),
                DT_GNU_HASH => gnu_hash = Some(img.at(val)?),
                DT_VERSYM => img.versym = Some(img.at(val)?),
                DT_VERDEF => img.verdef = Some(img.at(val)?),
                DT_SONAME => img.soname = usize::try_from(val).ok(),
                DT_RELA | DT_REL | DT_JMPREL | DT_RELR | DT_TEXTREL => img.relocations = true,
                _ => {}
            }
        }
        img.strtab = strtab?;
        img.strsz = strsz.unwrap_or(bytes.len() - img.strtab).min(bytes.len() - img.strtab);
        img.symtab = symtab?;
        // The symbol count: DT_HASH's nchain, else the end of DT_GNU_HASH's
        // last chain. Like Go, versions count only with both tables.
        img.nsyms = match (hash, gnu_hash) {
            (Some(h), _) => u32_at(bytes, h + 4)? as usize,
            (None, Some(g)) => gnu_hash_count(bytes, g)?,
            (None, None) => return None,
        };
        if img.verdef.is_none() {
            img.versym = None;
        }
        // Never index symbols past the end of the bytes.
        img.nsyms = img.nsyms.min((bytes.len() - img.symtab) / SYM_SIZE);
        Some(img)
    }

    /// Index in the bytes of virtual address `vaddr`.
    fn at(&self, vaddr: u64) -> Option<usize> {
        let off = usize::try_from(vaddr.wrapping_add(self.bias)).ok()?;
        (off < self.bytes.len()).then_some(off)
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The program headers.
    pub fn phdrs(&self) -> impl Iterator<Item = ProgramHeader> + '_ {
        (0..self.phnum).filter_map(|i| phdr(self.bytes, self.phoff, i))
    }

    /// DT_SONAME.
    pub fn soname(&self) -> Option<&'a [u8]> {
        self.str(self.soname?)
    }

    /// Whether PT_DYNAMIC lists any relocation table (a vDSO must have none).
    pub fn has_relocations(&self) -> bool {
        self.relocations
    }

    fn str(&self, off: usize) -> Option<&'a [u8]> {
        if off >= self.strsz {
            return None;
        }
        let s = self.bytes.get(self.strtab + off..self.strtab + self.strsz)?;
        let n = s.iter().position(|&c| c == 0)?;
        Some(&s[..n])
    }

    /// Number of dynamic symbols (index 0, the null symbol, included).
    pub fn symbol_count(&self) -> usize {
        self.nsyms
    }

    /// Dynamic symbol `i`, if it is readable.
    pub fn symbol(&self, i: usize) -> Option<Symbol<'a>> {
        if i >= self.nsyms {
            return None;
        }
        let s = index(self.symtab, i, SYM_SIZE)?;
        let b = self.bytes;
        let info = *b.get(s + 4)?;
        let value = u64_at(b, s + 8)?;
        Some(Symbol {
            name: self.str(u32_at(b, s)? as usize)?,
            value,
            offset: self.at(value).unwrap_or(usize::MAX),
            size: u64_at(b, s + 16)?,
            kind: info & 0xf,
            bind: info >> 4,
            shndx: u16_at(b, s + 6)?,
            version: self.version_of(i),
        })
    }

    pub fn symbols(&self) -> impl Iterator<Item = Symbol<'a>> + '_ {
        (0..self.nsyms).filter_map(|i| self.symbol(i))
    }

    /// The name of symbol `i`'s version: its DT_VERSYM index (hidden bit
    /// ignored, as Go does) looked up among the DT_VERDEF entries.
    fn version_of(&self, i: usize) -> Option<&'a [u8]> {
        let ndx = u16_at(self.bytes, index(self.versym?, i, 2)?)? & 0x7fff;
        let mut def = self.verdef?;
        // A vDSO has a handful of versions; the bound stops a corrupt chain.
        for _ in 0..64 {
            let flags = u16_at(self.bytes, def + 2)?;
            if u16_at(self.bytes, def + 4)? == ndx && flags & VER_FLG_BASE == 0 {
                let aux = def.checked_add(u32_at(self.bytes, def + 12)? as usize)?;
                return self.str(u32_at(self.bytes, aux)? as usize);
            }
            match u32_at(self.bytes, def + 16)? {
                0 => return None,
                next => def = def.checked_add(next as usize)?,
            }
        }
        None
    }

    /// The defined function `name`, as glibc's dl_vdso_vsym and Go's
    /// vdsoParseSymbols accept it: STT_FUNC, global or weak, defined, and of
    /// version `version` when the image has version tables.
    pub fn lookup(&self, name: &[u8], version: &[u8]) -> Option<Symbol<'a>> {
        self.symbols().find(|s| {
            s.name == name
                && s.kind == STT_FUNC
                && (s.bind == STB_GLOBAL || s.bind == STB_WEAK)
                && s.shndx != 0
                && s.offset < self.bytes.len()
                && s.version.is_none_or(|v| v == version)
                && (self.versym.is_none() || s.version.is_some())
        })
    }
}

/// The symbol count given by a DT_GNU_HASH table: one past the highest
/// symbol index reached by any bucket's chain.
fn gnu_hash_count(b: &[u8], g: usize) -> Option<usize> {
    let nbuckets = u32_at(b, g)? as usize;
    let symoffset = u32_at(b, g + 4)? as usize;
    let bloom_words = u32_at(b, g + 8)? as usize;
    let buckets = index(g + 16, bloom_words, 8)?; // ELFCLASS64 bloom words
    let chains = index(buckets, nbuckets, 4)?;
    let mut last = 0;
    for i in 0..nbuckets {
        last = last.max(u32_at(b, index(buckets, i, 4)?)? as usize);
    }
    if last < symoffset {
        return Some(symoffset);
    }
    // Follow the last chain to its end (low bit set); u32_at stops a chain
    // that runs off the bytes.
    loop {
        let h = u32_at(b, index(chains, last - symoffset, 4)?)?;
        last += 1;
        if h & 1 != 0 {
            return Some(last);
        }
    }
}

#[cfg(test)]
mod tests;
