//! Function bounds from an object's unwind table, read from the memory of
//! the application.
//!
//! A syscall site is verified by decoding from the start of its function
//! (see `super::insn`); the start comes from .eh_frame_hdr, the sorted
//! table of FDEs that the linker builds for the unwinder (PT_GNU_EH_FRAME),
//! and the FDE found there gives the function's length. Everything is read
//! through a caller-given `read(addr, buf) -> bool`: the memory is the
//! application's, so any read may fail and any value may be garbage. Every
//! offset is checked; garbage gives None, never a panic. Lookups read
//! what they need where it lies: no table is copied whole.
//!
//! Handled: .eh_frame_hdr version 1 with its table as datarel|sdata4 (what
//! every linker writes), 32- and 64-bit FDE lengths, CIE versions 1 and 3
//! with augmentations z, R, P, L, S, and FDE addresses encoded as absptr,
//! udata/sdata 4 or 8, plain or pc-relative. Anything else gives None.

/// The segment type of .eh_frame_hdr.
pub const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_PHDR: u32 = 6;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

// DWARF pointer encodings (DW_EH_PE_*): a format in the low nibble, how
// to apply it in the high one.
const OMIT: u8 = 0xff;
const ABSPTR: u8 = 0x00;
const UDATA2: u8 = 0x02;
const UDATA4: u8 = 0x03;
const UDATA8: u8 = 0x04;
const SDATA2: u8 = 0x0a;
const SDATA4: u8 = 0x0b;
const SDATA8: u8 = 0x0c;
const PCREL: u8 = 0x10;
const ALIGNED: u8 = 0x50;
/// The table's encoding: datarel (from the header's start) | sdata4.
const TABLE_ENC: u8 = 0x3b;

/// Little-endian fields of a local buffer, checked.
fn le<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    le(b, at).map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    le(b, at).map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    le(b, at).map(u64::from_le_bytes)
}

/// Reads `N` bytes of application memory.
fn fetch<const N: usize, R: Fn(usize, &mut [u8]) -> bool + ?Sized>(read: &R, addr: usize) -> Option<[u8; N]> {
    let mut b = [0; N];
    read(addr, &mut b).then_some(b)
}

/// Size of a fixed-size pointer format (LEB128 and unknown formats: None).
fn format_size(enc: u8) -> Option<usize> {
    match enc & 0x0f {
        ABSPTR | UDATA8 | SDATA8 => Some(8),
        UDATA4 | SDATA4 => Some(4),
        UDATA2 | SDATA2 => Some(2),
        _ => None,
    }
}

/// The value of a fixed-size format at `b[at..]`, sign-extended for the
/// signed ones.
fn format_value(b: &[u8], at: usize, enc: u8) -> Option<i128> {
    Some(match enc & 0x0f {
        ABSPTR | UDATA8 => u64_at(b, at)? as i128,
        SDATA8 => u64_at(b, at)? as i64 as i128,
        UDATA4 => u32_at(b, at)? as i128,
        SDATA4 => u32_at(b, at)? as i32 as i128,
        UDATA2 => u16_at(b, at)? as i128,
        SDATA2 => u16_at(b, at)? as i16 as i128,
        _ => return None,
    })
}

/// An encoded address at `b[at..]`, whose own address is `field`: absolute
/// or pc-relative (the others need bases this module does not know).
fn address(b: &[u8], at: usize, enc: u8, field: usize) -> Option<usize> {
    let v = format_value(b, at, enc)?;
    let a = match enc & 0xf0 {
        0 => v,
        PCREL => (field as i128).checked_add(v)?,
        _ => return None,
    };
    usize::try_from(a).ok()
}

/// The function (FDE) that contains `addr`, as [start, end), found in the
/// .eh_frame_hdr at `eh_frame_hdr` (an object's PT_GNU_EH_FRAME, in
/// memory) by binary search, then checked against the FDE itself.
/// `read(addr, buf)` fills `buf` from application memory, false if it
/// cannot.
pub fn function_containing<R>(read: &R, eh_frame_hdr: usize, addr: usize) -> Option<(usize, usize)>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    hdr_table(read, eh_frame_hdr)?.lookup(read, addr, |fde| fde_bounds(read, fde))
}

/// An .eh_frame_hdr's sorted table of (initial location, FDE address)
/// pairs. A large one is searched where it lies: a lookup reads the dozen
/// entries its binary search visits (read whole into preld's heap, libc's
/// 3,713 entries cost 40 us of each process that rewrote one of its
/// sites: 90 KB of fresh pages). A small one (ld.so's 293, whose sites
/// are verified in a batch at every start) is read at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HdrTable {
    hdr: usize,
    table: usize,
    count: usize,
    /// The entries, for a table of at most SMALL_TABLE.
    local: Option<alloc::vec::Vec<(usize, usize)>>,
}

/// Tables of at most this many entries (4 KiB) are read at once.
const SMALL_TABLE: usize = 512;

/// The table of the .eh_frame_hdr at `eh_frame_hdr`, its header checked.
pub fn hdr_table<R>(read: &R, eh_frame_hdr: usize) -> Option<HdrTable>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    let hdr = eh_frame_hdr;
    let [version, ptr_enc, count_enc, table_enc] = fetch::<4, R>(read, hdr)?;
    if version != 1 || table_enc != TABLE_ENC || count_enc == OMIT || count_enc & 0xf0 != 0 {
        return None;
    }
    let ptr_size = if ptr_enc == OMIT { 0 } else { format_size(ptr_enc)? };
    let count_at = hdr.checked_add(4 + ptr_size)?;
    let count_size = format_size(count_enc)?;
    let mut raw = [0u8; 8];
    if !read(count_at, raw.get_mut(..count_size)?) {
        return None;
    }
    let count = usize::try_from(format_value(&raw, 0, count_enc)?).ok()?;
    // A table larger than this is not one a linker wrote.
    if count == 0 || count > 1 << 22 {
        return None;
    }
    let table = count_at.checked_add(count_size)?;
    table.checked_add(count * 8)?;
    let mut t = HdrTable { hdr, table, count, local: None };
    if count <= SMALL_TABLE {
        // (64 entries a read: no page of stack or heap touched for a copy.)
        let mut local = alloc::vec::Vec::with_capacity(count);
        let mut chunk = [0u8; 8 * 64];
        for first in (0..count).step_by(64) {
            let b = &mut chunk[..8 * (count - first).min(64)];
            if !read(table + 8 * first, b) {
                return None;
            }
            for e in b.chunks_exact(8) {
                local.push(t.decode(e)?);
            }
        }
        t.local = Some(local);
    }
    Some(t)
}

impl HdrTable {
    /// How many entries the table has (at least one).
    pub fn entries(&self) -> usize {
        self.count
    }

    /// Entry `i`: (initial location, FDE address).
    pub fn entry<R>(&self, read: &R, i: usize) -> Option<(usize, usize)>
    where
        R: Fn(usize, &mut [u8]) -> bool + ?Sized,
    {
        if let Some(l) = &self.local {
            return l.get(i).copied();
        }
        self.decode(&fetch::<8, R>(read, self.table + 8 * i)?)
    }

    /// An entry's 8 bytes: two offsets from the header (datarel|sdata4).
    fn decode(&self, e: &[u8]) -> Option<(usize, usize)> {
        let rel = |at| self.hdr.checked_add_signed(u32_at(e, at)? as i32 as isize);
        Some((rel(0)?, rel(4)?))
    }

    /// The function holding `addr`: the last entry whose location is at
    /// or below it, and its FDE's bounds (`bounds`: read, or remembered),
    /// which must agree with the entry and hold `addr` (else one of them
    /// is garbage: None). An entry that cannot be read ends the search
    /// (None).
    pub fn lookup<R>(&self, read: &R, addr: usize, bounds: impl FnOnce(usize) -> Option<(usize, usize)>) -> Option<(usize, usize)>
    where
        R: Fn(usize, &mut [u8]) -> bool + ?Sized,
    {
        // Entries below `lo` lie at or below `addr`, those from `hi` above.
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(read, mid)?.0 <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (loc, fde) = self.entry(read, lo.checked_sub(1)?)?;
        let (start, end) = bounds(fde)?;
        (start == loc && start <= addr && addr < end).then_some((start, end))
    }
}

/// The [start, end) of the FDE at `fde`.
pub fn fde_bounds<R>(read: &R, fde: usize) -> Option<(usize, usize)>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    let (start, len) = fde_range(read, fde)?;
    Some((start, start.checked_add(len)?))
}

/// The FDEs of an .eh_frame section without an .eh_frame_hdr (a static
/// executable's, whose section the loader found in the file), parsed as
/// lookups need them: a lookup looks at those parsed so far, then parses
/// on from where the last one stopped until an FDE holds its address.
/// A process that rewrites a few sites parses part of the section once,
/// and nothing is sorted or copied whole (static busybox's 2,038 FDEs,
/// copied into preld's heap, parsed and sorted at the first rewrite, took
/// 220 us of each of its starts). Entries that do not parse end the walk;
/// empty FDEs are left out. The first FDE in the section's order that
/// holds the address is the answer.
pub struct EhFrame {
    /// The section's address in the application, and its size.
    at: usize,
    size: usize,
    /// The offset of the first entry not parsed yet (`size` once done).
    next: usize,
    /// The FDEs parsed so far, as [start, end), in the section's order.
    ranges: alloc::vec::Vec<(usize, usize)>,
    /// The CIEs met so far (their offsets) and their pointer encodings
    /// (None: one that does not parse).
    cies: alloc::vec::Vec<(usize, Option<u8>)>,
}

/// The most bytes of an entry's start a parse looks at: a 64-bit length
/// (12), a 64-bit CIE pointer (8), pc_begin and pc_range (8 each).
const ENTRY_HEAD: usize = 36;

impl EhFrame {
    pub fn new(at: usize, size: usize) -> EhFrame {
        let size = if at.checked_add(size).is_some() { size } else { 0 };
        EhFrame { at, size, next: 0, ranges: alloc::vec::Vec::new(), cies: alloc::vec::Vec::new() }
    }

    /// The function holding `addr`, as [start, end).
    pub fn lookup<R>(&mut self, read: &R, addr: usize) -> Option<(usize, usize)>
    where
        R: Fn(usize, &mut [u8]) -> bool + ?Sized,
    {
        if let Some(&r) = self.ranges.iter().find(|&&(s, e)| s <= addr && addr < e) {
            return Some(r);
        }
        let mut buf = [0u8; 4096];
        while self.next < self.size {
            let n = (self.size - self.next).min(buf.len());
            if !read(self.at + self.next, &mut buf[..n]) {
                self.next = self.size;
                break;
            }
            // Entries from `k` of this chunk, each parsed from its first
            // ENTRY_HEAD bytes (the rest of it is skipped by its length).
            let mut k = 0;
            while k < n && (k + ENTRY_HEAD <= n || self.next + n == self.size) {
                let Some((body, len, id_size, id)) = entry_head(&buf[k..n]) else {
                    self.next = self.size;
                    return None;
                };
                if id != 0 {
                    let fde = self.next + k + body;
                    if let Some(r) = self.fde(read, &buf[k + body..n], fde, len, id, id_size) {
                        self.ranges.push(r);
                        if r.0 <= addr && addr < r.1 {
                            self.next = self.next.saturating_add(k + body).saturating_add(len).min(self.size);
                            return Some(r);
                        }
                    }
                }
                match (k + body).checked_add(len) {
                    Some(after) if after > k => k = after,
                    _ => {
                        self.next = self.size;
                        return None;
                    }
                }
            }
            self.next = self.next.saturating_add(k).min(self.size);
        }
        None
    }

    /// The [start, end) of the FDE whose contents begin at offset `fde`
    /// (`b`: what the chunk holds of them; `len`: their length; `id`: its
    /// CIE pointer), None where it does not parse or is empty.
    fn fde<R>(&mut self, read: &R, b: &[u8], fde: usize, len: usize, id: u64, id_size: usize) -> Option<(usize, usize)>
    where
        R: Fn(usize, &mut [u8]) -> bool + ?Sized,
    {
        // The CIE pointer counts back from its own address.
        let cie = fde.checked_sub(usize::try_from(id).ok()?)?;
        let enc = match self.cies.iter().find(|&&(c, _)| c == cie) {
            Some(&(_, e)) => e,
            None => {
                let e = cie_pointer_encoding(read, self.at.checked_add(cie)?);
                self.cies.push((cie, e));
                e
            }
        }?;
        // CIE pointer, pc_begin, pc_range: at most 8 + 8 + 8 bytes.
        let b = b.get(..len.min(24).min(b.len()))?;
        let (start, range) = pc_range(b, id_size, enc, self.at.checked_add(fde)?)?;
        (range > 0).then(|| Some((start, start.checked_add(range)?))).flatten()
    }
}

/// The start of the CIE or FDE at the front of `b`: where its contents
/// begin (from the front), their length, the size of its CIE id or
/// pointer, and that id or pointer. None: the end marker, a reserved
/// length, or too few bytes.
fn entry_head(b: &[u8]) -> Option<(usize, usize, usize, u64)> {
    let (body, len, wide) = match u32_at(b, 0)? {
        0 => return None,
        0xffff_ffff => (12, usize::try_from(u64_at(b, 4)?).ok()?, true),
        // 0xfffffff0..: reserved.
        0xffff_fff0.. => return None,
        l => (4, l as usize, false),
    };
    let id = if wide { u64_at(b, body)? } else { u64::from(u32_at(b, body)?) };
    Some((body, len, if wide { 8 } else { 4 }, id))
}

/// A CIE or FDE's length field at `at`: (where its contents start, their
/// length). 0 (the end marker) gives None.
fn entry_length<R>(read: &R, at: usize) -> Option<(usize, usize, bool)>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    let len = u32::from_le_bytes(fetch::<4, R>(read, at)?);
    match len {
        0 => None,
        0xffff_ffff => {
            let len = u64::from_le_bytes(fetch::<8, R>(read, at.checked_add(4)?)?);
            Some((at.checked_add(12)?, usize::try_from(len).ok()?, true))
        }
        // 0xfffffff0..: reserved.
        0xffff_fff0.. => None,
        _ => Some((at.checked_add(4)?, len as usize, false)),
    }
}

/// An FDE's [pc_begin, pc_begin + pc_range) as (start, length).
fn fde_range<R>(read: &R, fde: usize) -> Option<(usize, usize)>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    let (body, len, wide) = entry_length(read, fde)?;
    // CIE pointer, pc_begin, pc_range: at most 8 + 8 + 8 bytes.
    let mut b = [0u8; 24];
    let b = b.get_mut(..len.min(24))?;
    if !read(body, b) {
        return None;
    }
    // The CIE pointer counts back from its own address; 0 would make
    // this a CIE.
    let (back, id_size) = if wide { (usize::try_from(u64_at(b, 0)?).ok()?, 8) } else { (u32_at(b, 0)? as usize, 4) };
    if back == 0 {
        return None;
    }
    let enc = cie_pointer_encoding(read, body.checked_sub(back)?)?;
    pc_range(b, id_size, enc, body)
}

/// An FDE's pc_begin and pc_range, from `b`: its contents (at address
/// `body`) from the CIE pointer (`id_size` bytes) on, pointers encoded as
/// `enc`.
fn pc_range(b: &[u8], id_size: usize, enc: u8, body: usize) -> Option<(usize, usize)> {
    let size = format_size(enc)?;
    let start = address(b, id_size, enc, body.checked_add(id_size)?)?;
    // The range has the format but is never relative.
    let range = usize::try_from(format_value(b, id_size + size, enc & 0x0f)?).ok()?;
    Some((start, range))
}

/// A local buffer read front to back, checked.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Option<u8> {
        let v = *self.b.get(self.at)?;
        self.at += 1;
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.at = self.at.checked_add(n).filter(|&a| a <= self.b.len())?;
        Some(())
    }

    /// An unsigned LEB128 (the signed ones are only skipped here: same
    /// length).
    fn uleb(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

/// The pointer encoding ('R') of the CIE at `cie`.
fn cie_pointer_encoding<R>(read: &R, cie: usize) -> Option<u8>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    let (body, len, wide) = entry_length(read, cie)?;
    // Enough for the id, version, augmentation and its data up to 'R'.
    let mut buf = [0u8; 96];
    let b = buf.get_mut(..len.min(96))?;
    if !read(body, b) {
        return None;
    }
    let mut c = Cursor { b, at: 0 };
    let id_size = if wide { 8 } else { 4 };
    let id = c.b.get(..id_size)?;
    if id.iter().any(|&x| x != 0) {
        return None; // an FDE, not a CIE
    }
    c.skip(id_size)?;
    let version = c.byte()?;
    if version != 1 && version != 3 {
        return None;
    }
    let aug_start = c.at;
    let aug_len = c.b.get(aug_start..)?.iter().position(|&x| x == 0)?;
    let aug = c.b.get(aug_start..aug_start + aug_len)?;
    c.skip(aug_len + 1)?;
    c.uleb()?; // code alignment
    c.uleb()?; // data alignment (SLEB128: same length)
    if version == 1 {
        c.byte()?; // return address register
    } else {
        c.uleb()?;
    }
    let Some((&b'z', letters)) = aug.split_first() else {
        // No augmentation data: pointers are absolute.
        return aug.is_empty().then_some(ABSPTR);
    };
    c.uleb()?; // augmentation data length
    for &l in letters {
        match l {
            b'R' => return c.byte(),
            // The personality routine: its encoding and pointer.
            b'P' => {
                let enc = c.byte()?;
                if enc & 0x70 == ALIGNED {
                    return None;
                }
                c.skip(format_size(enc)?)?;
            }
            b'L' => {
                c.byte()?;
            }
            b'S' => {}
            _ => return None,
        }
    }
    // z without R: absolute.
    Some(ABSPTR)
}

/// The text segments of an object at most recorded (a fifth is ignored).
pub const MAX_TEXT: usize = 4;
/// Program headers read at most.
const MAX_PHNUM: usize = 256;
const PHDR_SIZE: usize = 56;

/// What the fast path needs of a loaded object, in memory addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object {
    /// Load bias: memory address minus ELF address.
    pub bias: usize,
    /// Its .eh_frame_hdr, if it has one.
    pub eh_frame_hdr: Option<usize>,
    /// Its dynamic section, if it has one.
    pub dynamic: Option<usize>,
    text: [(usize, usize); MAX_TEXT],
    /// Whether each text segment is also readable (PF_R).
    readable: [bool; MAX_TEXT],
    n_text: usize,
}

impl Object {
    /// Its executable, non-writable PT_LOAD segments as [start, end)
    /// (p_vaddr + bias to + p_memsz, not rounded to pages).
    pub fn text(&self) -> &[(usize, usize)] {
        self.text.get(..self.n_text).unwrap_or(&[])
    }

    /// Whether text segment `i` is readable as well as executable.
    pub fn readable(&self, i: usize) -> bool {
        self.readable.get(i).copied().unwrap_or(false)
    }

    /// The text segment that contains [addr, addr + len).
    pub fn text_containing(&self, addr: usize, len: usize) -> Option<(usize, usize)> {
        let end = addr.checked_add(len)?;
        self.text().iter().copied().find(|&(s, e)| s <= addr && end <= e)
    }
}

/// The fields of a program header used here.
struct Phdr {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Program header `i` of those at `phdrs`.
fn phdr<R>(read: &R, phdrs: usize, i: usize) -> Option<Phdr>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    let p = fetch::<PHDR_SIZE, R>(read, phdrs.checked_add(i.checked_mul(PHDR_SIZE)?)?)?;
    Some(Phdr {
        kind: u32_at(&p, 0)?,
        flags: u32_at(&p, 4)?,
        offset: u64_at(&p, 8)?,
        vaddr: u64_at(&p, 16)?,
        filesz: u64_at(&p, 32)?,
        memsz: u64_at(&p, 40)?,
    })
}

/// An object from its program headers in memory (`phdr`, `phnum`, as in
/// AT_PHDR and AT_PHNUM) and its load bias (None: from its PT_PHDR, as
/// ld.so works it out for the program).
pub fn object_from_phdrs<R>(read: &R, bias: Option<usize>, phdrs: usize, phnum: usize) -> Option<Object>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    // One read for the whole table, when it is of the usual size.
    let mut table = [0u8; 64 * PHDR_SIZE];
    let n = phnum.checked_mul(PHDR_SIZE)?;
    let local = n <= table.len() && read(phdrs, &mut table[..n]);
    let cached = |a: usize, b: &mut [u8]| -> bool {
        match a.checked_sub(phdrs).and_then(|off| table.get(off..off.checked_add(b.len())?)) {
            Some(src) if local => {
                b.copy_from_slice(src);
                true
            }
            _ => read(a, b),
        }
    };
    let read = &cached;
    if phnum == 0 || phnum > MAX_PHNUM {
        return None;
    }
    let bias = match bias {
        Some(b) => b,
        None => (0..phnum).find_map(|i| {
            let p = phdr(read, phdrs, i)?;
            (p.kind == PT_PHDR).then(|| phdrs.checked_sub(usize::try_from(p.vaddr).ok()?)).flatten()
        })?,
    };
    let mut o = Object { bias, eh_frame_hdr: None, dynamic: None, text: [(0, 0); MAX_TEXT], readable: [false; MAX_TEXT], n_text: 0 };
    for i in 0..phnum {
        let p = phdr(read, phdrs, i)?;
        let start = bias.checked_add(usize::try_from(p.vaddr).ok()?)?;
        match p.kind {
            PT_GNU_EH_FRAME => o.eh_frame_hdr = Some(start),
            PT_DYNAMIC => o.dynamic = Some(start),
            PT_LOAD if p.flags & PF_X != 0 && p.flags & PF_W == 0 => {
                let end = start.checked_add(usize::try_from(p.memsz).ok()?)?;
                if let Some(slot) = o.text.get_mut(o.n_text) {
                    *slot = (start, end);
                    o.readable[o.n_text] = p.flags & PF_R != 0;
                    o.n_text += 1;
                }
            }
            _ => {}
        }
    }
    Some(o)
}

/// An object from its ELF header in memory at `ehdr` (where the segment
/// that maps file offset 0 starts: a shared object's base address). The
/// bias follows from that segment; the program headers must lie in it.
pub fn object_at<R>(read: &R, ehdr: usize) -> Option<Object>
where
    R: Fn(usize, &mut [u8]) -> bool + ?Sized,
{
    const EM_X86_64: u16 = 62;
    let e = fetch::<64, R>(read, ehdr)?;
    // 64-bit, little-endian, ELF version 1, executable or shared object,
    // x86-64, 56-byte phdrs.
    if e.get(..7) != Some(b"\x7fELF\x02\x01\x01")
        || !matches!(u16_at(&e, 16)?, 2 | 3)
        || u16_at(&e, 18)? != EM_X86_64
        || u16_at(&e, 54)? as usize != PHDR_SIZE
    {
        return None;
    }
    let phoff = usize::try_from(u64_at(&e, 32)?).ok()?;
    let phnum = u16_at(&e, 56)? as usize;
    let phdrs = ehdr.checked_add(phoff)?;
    let phend = phoff.checked_add(phnum.checked_mul(PHDR_SIZE)?)?;
    for i in 0..phnum.min(MAX_PHNUM) {
        let p = phdr(read, phdrs, i)?;
        if p.kind == PT_LOAD && p.offset == 0 {
            if p.filesz < phend as u64 {
                return None;
            }
            let bias = ehdr.checked_sub(usize::try_from(p.vaddr).ok()?)?;
            return object_from_phdrs(read, Some(bias), phdrs, phnum);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fast::insn;

    /// An ELF file "loaded" without mapping anything: reads at `bias` +
    /// an ELF address come from the file bytes of the PT_LOAD holding it.
    struct Image {
        data: Vec<u8>,
        bias: usize,
        /// (vaddr, offset, filesz) of each PT_LOAD.
        loads: Vec<(u64, u64, u64)>,
        /// Reads at or above this address fail (truncated memory).
        limit: usize,
    }

    impl Image {
        fn open(path: &str) -> Image {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let (phoff, phnum) = (u64_at(&data, 32).unwrap() as usize, u16_at(&data, 56).unwrap() as usize);
            let loads = (0..phnum)
                .map(|i| phoff + i * PHDR_SIZE)
                .filter(|&p| u32_at(&data, p) == Some(PT_LOAD))
                .map(|p| {
                    (u64_at(&data, p + 16).unwrap(), u64_at(&data, p + 8).unwrap(), u64_at(&data, p + 32).unwrap())
                })
                .collect();
            // ET_DYN somewhere high, as the kernel would; ET_EXEC where linked.
            let bias = if u16_at(&data, 16) == Some(3) { 0x7f3a_1c40_0000 } else { 0 };
            Image { data, bias, loads, limit: usize::MAX }
        }

        fn read(&self, addr: usize, buf: &mut [u8]) -> bool {
            let Some(v) = addr.checked_sub(self.bias) else { return false };
            let (v, n) = (v as u64, buf.len() as u64);
            if addr.saturating_add(buf.len()) > self.limit {
                return false;
            }
            for &(vaddr, off, filesz) in &self.loads {
                if vaddr <= v && v.saturating_add(n) <= vaddr + filesz {
                    let at = (off + v - vaddr) as usize;
                    buf.copy_from_slice(&self.data[at..at + buf.len()]);
                    return true;
                }
            }
            false
        }

        fn ehdr(&self) -> usize {
            self.bias + self.loads.iter().find(|l| l.1 == 0).unwrap().0 as usize
        }

        fn object(&self) -> Object {
            object_at(&|a, b: &mut [u8]| self.read(a, b), self.ehdr()).expect("object_at")
        }

        fn lookup(&self, hdr: usize, addr: usize) -> Option<(usize, usize)> {
            function_containing(&|a, b: &mut [u8]| self.read(a, b), hdr, addr)
        }
    }

    /// Defined functions of `path`'s dynamic symbol table, from readelf:
    /// (name, value, size).
    fn dynamic_functions(path: &str) -> Vec<(String, usize, usize)> {
        let out = std::process::Command::new("readelf")
            .args(["--dyn-syms", "-W", path])
            .output()
            .unwrap_or_else(|e| panic!("this test needs readelf (binutils): {e}"));
        assert!(out.status.success());
        let num = |s: &str| match s.strip_prefix("0x") {
            Some(h) => usize::from_str_radix(h, 16).ok(),
            None => s.parse().ok(),
        };
        let mut v: Vec<_> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                if f.len() < 8 || f[3] != "FUNC" || f[6] == "UND" {
                    return None;
                }
                let name = f[7].split('@').next()?.to_string();
                Some((name, usize::from_str_radix(f[1], 16).ok()?, num(f[2])?))
            })
            .filter(|f| f.2 > 0)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    const LIBC: &str = "/lib/x86_64-linux-gnu/libc.so.6";

    #[test]
    fn libc_object() {
        let img = Image::open(LIBC);
        let o = img.object();
        assert_eq!(o.bias, img.bias);
        // Against the file's own program headers.
        let out = std::process::Command::new("readelf").args(["-lW", LIBC]).output().expect("readelf (binutils)");
        let text = String::from_utf8_lossy(&out.stdout);
        let field = |kind: &str, flags: &str| -> Vec<(usize, usize)> {
            text.lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>())
                .filter(|f| f.first() == Some(&kind) && f[6..f.len() - 1].concat() == flags)
                .map(|f| {
                    let h = |s: &str| usize::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
                    (img.bias + h(f[2]), img.bias + h(f[2]) + h(f[5]))
                })
                .collect()
        };
        assert_eq!(o.text(), field("LOAD", "RE"));
        assert_eq!(o.eh_frame_hdr, Some(field("GNU_EH_FRAME", "R")[0].0));
        let (s, e) = o.text()[0];
        assert_eq!(o.text_containing(s, e - s), Some((s, e)));
        assert_eq!(o.text_containing(e - 1, 2), None);
        // The program headers (AT_PHDR) with the bias give the same.
        let phdrs = img.ehdr() + u64_at(&img.data, 32).unwrap() as usize;
        let phnum = u16_at(&img.data, 56).unwrap() as usize;
        assert_eq!(object_from_phdrs(&|a, b: &mut [u8]| img.read(a, b), Some(img.bias), phdrs, phnum), Some(o));
    }

    /// Every dynamic function of libc is found, mostly as the start of its
    /// own FDE (a few are entry points inside another function).
    #[test]
    fn libc_functions() {
        let img = Image::open(LIBC);
        let hdr = img.object().eh_frame_hdr.unwrap();
        let funcs = dynamic_functions(LIBC);
        assert!(funcs.len() > 1000, "{} functions", funcs.len());
        let (mut exact, mut inside, mut whole) = (0, 0, 0);
        let mut missing = Vec::new();
        for (name, value, size) in &funcs {
            let a = img.bias + value;
            match img.lookup(hdr, a) {
                Some((s, e)) => {
                    assert!(s <= a && a < e, "{name}");
                    if s == a {
                        exact += 1
                    } else {
                        inside += 1
                    }
                    if img.lookup(hdr, a + size - 1) == Some((s, e)) {
                        whole += 1;
                    }
                }
                None => missing.push(name.clone()),
            }
        }
        println!(
            "libc: {} functions: {exact} start an FDE, {inside} inside one, {} without; \
             {whole} whole in one FDE; missing {missing:?}",
            funcs.len(),
            missing.len()
        );
        for name in ["read", "write", "getpid", "__libc_start_main", "malloc", "syscall", "clone"] {
            let (_, value, size) = funcs.iter().find(|f| f.0 == name).unwrap();
            let a = img.bias + value;
            let (s, e) = img.lookup(hdr, a).unwrap();
            assert_eq!(s, a, "{name}");
            // clone's FDE ends where the new thread's code starts.
            assert!(e == a + size || name == "clone" && e < a + size, "{name}");
        }
        assert!(missing.len() * 100 <= funcs.len(), "{} without an FDE", missing.len());
        assert!(exact * 100 >= funcs.len() * 95);
    }

    /// The FDEs of `path`, from the file's .eh_frame_hdr table as the
    /// linker wrote it: (location).
    fn table_locations(img: &Image, hdr: usize) -> Vec<usize> {
        let mut h = [0u8; 12];
        assert!(img.read(hdr, &mut h));
        assert_eq!(h[..4], [1, 0x1b, 0x03, 0x3b]);
        let count = u32_at(&h, 8).unwrap() as usize;
        let mut t = vec![0u8; count * 8];
        assert!(img.read(hdr + 12, &mut t));
        (0..count).map(|i| hdr.wrapping_add_signed(u32_at(&t, i * 8).unwrap() as i32 as isize)).collect()
    }

    /// Every FDE of real binaries is found from its first and last byte,
    /// nothing is found between them, and its code decodes (insn::length)
    /// from the start exactly to the end.
    #[test]
    fn every_fde_decodes() {
        const BINARIES: &[&str] = &[
            LIBC,
            "/lib64/ld-linux-x86-64.so.2",
            "/usr/bin/bash",
            "/usr/bin/python3.11",
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
        ];
        std::thread::scope(|s| {
            for path in BINARIES {
                s.spawn(move || {
                    let img = Image::open(path);
                    let o = img.object();
                    let hdr = o.eh_frame_hdr.unwrap();
                    let locs = table_locations(&img, hdr);
                    let (mut decoded, mut short, mut in_text) = (0, Vec::new(), 0);
                    let mut code = Vec::new();
                    for (i, &loc) in locs.iter().enumerate() {
                        let (s, e) = img.lookup(hdr, loc).unwrap_or_else(|| panic!("{path}: FDE {loc:#x}"));
                        assert_eq!(s, loc);
                        assert_eq!(img.lookup(hdr, e - 1), Some((s, e)));
                        if let Some(&next) = locs.get(i + 1) {
                            assert!(e <= next, "{path}: overlapping FDEs at {loc:#x}");
                            if e < next {
                                assert_eq!(img.lookup(hdr, e), None);
                            }
                        }
                        if o.text_containing(s, e - s).is_none() {
                            continue;
                        }
                        in_text += 1;
                        code.resize(e - s, 0);
                        assert!(img.read(s, &mut code));
                        let mut at = 0;
                        while at < code.len() {
                            let Some(l) = insn::length(&code[at..]) else { break };
                            at += l;
                        }
                        if at == code.len() {
                            decoded += 1;
                        } else {
                            short.push(format!("{:#x}+{at:#x}", s - img.bias));
                        }
                    }
                    println!(
                        "{path}: {} FDEs, {in_text} in text, {decoded} decode to their end exactly; not: {:?}",
                        locs.len(),
                        &short[..short.len().min(10)]
                    );
                    assert!(short.len() * 1000 <= in_text, "{path}: {} functions do not decode", short.len());
                });
            }
        });
    }

    /// The address and size of `path`'s .eh_frame section, from readelf.
    fn eh_frame_section(path: &str) -> (usize, usize) {
        let out = std::process::Command::new("readelf").args(["-SW", path]).output().unwrap_or_else(|e| panic!("this test needs readelf (binutils): {e}"));
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.lines().find(|l| l.contains(" .eh_frame ")).expect(".eh_frame").split_whitespace().collect();
        let at = f.iter().position(|&x| x == ".eh_frame").unwrap();
        let h = |s: &str| usize::from_str_radix(s, 16).unwrap();
        (h(f[at + 2]), h(f[at + 4]))
    }

    /// An .eh_frame parsed as lookups need it (`EhFrame`, for static
    /// programs) finds what the .eh_frame_hdr table finds, for every FDE's
    /// first and last byte, asked in an order that jumps back and forth
    /// (each lookup parses on from where the last stopped, or finds what
    /// was parsed), and nothing in the gaps between functions.
    #[test]
    fn eh_frame_without_its_header_finds_what_the_header_finds() {
        for path in [LIBC, "/usr/bin/bash", "/lib64/ld-linux-x86-64.so.2"] {
            let img = Image::open(path);
            let hdr = img.object().eh_frame_hdr.unwrap();
            let (vaddr, size) = eh_frame_section(path);
            let read = |a: usize, b: &mut [u8]| img.read(a, b);
            let mut frame = EhFrame::new(img.bias + vaddr, size);
            let mut locs = table_locations(&img, hdr);
            let mut rnd = xorshift(0x5eed);
            // Shuffled: the parse goes on past some, others were parsed.
            for i in (1..locs.len()).rev() {
                locs.swap(i, rnd() as usize % (i + 1));
            }
            let mut gaps = 0;
            for &loc in &locs {
                let want = img.lookup(hdr, loc).unwrap_or_else(|| panic!("{path}: {loc:#x}"));
                assert_eq!(frame.lookup(&read, loc), Some(want), "{path}: {loc:#x}");
                assert_eq!(frame.lookup(&read, want.1 - 1), Some(want), "{path}: end of {loc:#x}");
                if img.lookup(hdr, want.1).is_none() {
                    assert_eq!(frame.lookup(&read, want.1), None, "{path}: after {loc:#x}");
                    gaps += 1;
                }
            }
            assert!(gaps > 0, "{path}: no gap between functions looked at");
            // Outside every function: nothing, after one whole walk.
            assert_eq!(frame.lookup(&read, 8), None);
        }
    }

    /// The same section with bytes changed at random, or memory that ends
    /// early: never a panic, and whatever is found holds the address.
    #[test]
    fn damaged_eh_frame() {
        let mut img = Image::open(LIBC);
        let (vaddr, size) = eh_frame_section(LIBC);
        let at = img.bias + vaddr;
        let addrs: Vec<usize> = dynamic_functions(LIBC).iter().step_by(11).map(|f| img.bias + f.1 + f.2 / 2).collect();
        let clean = img.data.clone();
        // The file offset of the section (the segment holding it).
        let (seg_vaddr, off, _) = *img.loads.iter().find(|l| l.0 as usize <= vaddr && vaddr < (l.0 + l.2) as usize).unwrap();
        let first = (off + vaddr as u64 - seg_vaddr) as usize;
        let mut rnd = xorshift(99);
        for round in 0..300 {
            img.data.copy_from_slice(&clean);
            img.limit = if round % 3 == 0 { at + (rnd() as usize % size) } else { usize::MAX };
            for _ in 0..1 + round % 24 {
                let k = first + (rnd() as usize % size);
                img.data[k] = rnd() as u8;
            }
            let read = |a: usize, b: &mut [u8]| img.read(a, b);
            let mut frame = EhFrame::new(at, size);
            for &a in addrs.iter().skip(round % 7).step_by(5) {
                if let Some((s, e)) = frame.lookup(&read, a) {
                    assert!(s <= a && a < e);
                }
            }
            // Sizes and addresses at the edges of the address space.
            let _ = EhFrame::new(usize::MAX - 8, size).lookup(&read, 0);
            let _ = EhFrame::new(at, usize::MAX).lookup(&read, addrs[0]);
        }
    }

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Random memory, random headers: never a panic, and whatever is found
    /// contains the address asked for.
    #[test]
    fn garbage() {
        let mut rnd = xorshift(0x1234_5678_9abc_def1);
        const BASE: usize = 0x5555_0000_0000;
        let mut mem = vec![0u8; 1 << 16];
        let check = |mem: &[u8], hdr: usize, addr: usize| {
            let read = |a: usize, b: &mut [u8]| {
                let Some(o) = a.checked_sub(BASE) else { return false };
                match mem.get(o..o.saturating_add(b.len())) {
                    Some(m) => {
                        b.copy_from_slice(m);
                        true
                    }
                    None => false,
                }
            };
            if let Some((s, e)) = function_containing(&read, hdr, addr) {
                assert!(s <= addr && addr < e);
            }
            let _ = object_at(&read, hdr);
            let _ = object_from_phdrs(&read, Some(addr), hdr, addr % 300);
        };
        for round in 0..2000 {
            mem.iter_mut().for_each(|b| *b = rnd() as u8);
            let hdr_off = (rnd() % (1 << 16)) as usize;
            // Often a plausible header: version 1, usual encodings, a
            // count that is small, huge, or random.
            if round % 2 == 0 && hdr_off + 12 <= mem.len() {
                mem[hdr_off..hdr_off + 4].copy_from_slice(&[1, 0x1b, 0x03, 0x3b]);
                let count = [rnd() % 8, rnd() % 4096, rnd() % (1 << 32)][round % 3] as u32;
                mem[hdr_off + 8..hdr_off + 12].copy_from_slice(&count.to_le_bytes());
            }
            if round % 4 == 1 {
                mem[hdr_off..].iter_mut().take(7).zip(b"\x7fELF\x02\x01\x01").for_each(|(m, e)| *m = *e);
            }
            for _ in 0..50 {
                let addr = match rnd() % 3 {
                    0 => BASE + (rnd() % (1 << 17)) as usize,
                    1 => rnd() as usize,
                    _ => usize::MAX - (rnd() % 64) as usize,
                };
                check(&mem, BASE + hdr_off, addr);
                check(&mem, usize::MAX - (rnd() % 16) as usize, addr);
            }
        }
    }

    /// libc's table and FDEs with bytes changed at random, and memory that
    /// ends early: never a panic, never a range without the address, and
    /// with memory cut short either the right answer or None.
    #[test]
    fn damaged_libc() {
        let mut img = Image::open(LIBC);
        let hdr = img.object().eh_frame_hdr.unwrap();
        let addrs: Vec<usize> = dynamic_functions(LIBC).iter().step_by(7).map(|f| img.bias + f.1 + f.2 / 2).collect();
        let want: Vec<_> = addrs.iter().map(|&a| img.lookup(hdr, a)).collect();
        let mut rnd = xorshift(77);
        for _ in 0..300 {
            img.limit = hdr + (rnd() % 0x40000) as usize;
            for (&a, w) in addrs.iter().zip(&want).step_by(5) {
                let got = img.lookup(hdr, a);
                assert!(got.is_none() || got == *w, "{a:#x}: {got:x?} {w:x?}");
            }
        }
        img.limit = usize::MAX;
        // The segment that holds .eh_frame_hdr and .eh_frame.
        let (vaddr, off, filesz) = *img
            .loads
            .iter()
            .find(|l| l.0 as usize + img.bias <= hdr && hdr < (l.0 + l.2) as usize + img.bias)
            .unwrap();
        let first = (off + (hdr - img.bias) as u64 - vaddr) as usize;
        let last = (off + filesz) as usize;
        let clean = img.data.clone();
        for round in 0..400 {
            img.data.copy_from_slice(&clean);
            for _ in 0..1 + round % 16 {
                // Mostly the header and the start of the table.
                let span = if rnd().is_multiple_of(2) { 64 } else { last - first };
                let at = first + (rnd() as usize % span);
                img.data[at] = rnd() as u8;
            }
            for &a in addrs.iter().skip(round % 5).step_by(9) {
                if let Some((s, e)) = img.lookup(hdr, a) {
                    assert!(s <= a && a < e);
                }
            }
            let _ = object_at(&|a, b: &mut [u8]| img.read(a, b), img.ehdr());
        }
    }

    const B: usize = 0x4000_0000;
    /// Functions of the built tables: [B+0x800, +0x40), [B+0x840, +0x10),
    /// a gap, [B+0x900, +0x100).
    const FUNCS: [(usize, usize); 3] = [(B + 0x800, 0x40), (B + 0x840, 0x10), (B + 0x900, 0x100)];

    /// `value` in pointer encoding `enc` for a field at `field`.
    fn encode(enc: u8, value: usize, field: usize) -> Vec<u8> {
        let v = if enc & 0x70 == PCREL { value.wrapping_sub(field) } else { value };
        match enc & 0x0f {
            UDATA4 | SDATA4 => (v as u32).to_le_bytes().to_vec(),
            _ => (v as u64).to_le_bytes().to_vec(),
        }
    }

    /// Memory at B: an .eh_frame_hdr (whose first 4 bytes are `hdr`), then
    /// at B+0x100 an .eh_frame with one CIE and an FDE for each of FUNCS.
    fn build(hdr: [u8; 4], version: u8, aug: &str, aug_data: &[u8], enc: u8, wide: bool) -> Vec<u8> {
        const EH: usize = 0x100;
        let mut m = vec![0u8; 0x800];
        let id_size = if wide { 8 } else { 4 };
        let len_size = if wide { 12 } else { 4 };
        let put = |m: &mut Vec<u8>, at: usize, body: &[u8]| -> usize {
            let l = if wide {
                let mut l = vec![0xff; 4];
                l.extend((body.len() as u64).to_le_bytes());
                l
            } else {
                (body.len() as u32).to_le_bytes().to_vec()
            };
            m[at..at + l.len()].copy_from_slice(&l);
            m[at + l.len()..at + l.len() + body.len()].copy_from_slice(body);
            at + l.len() + body.len()
        };
        let mut cie = vec![0u8; id_size];
        cie.push(version);
        cie.extend(aug.as_bytes());
        cie.push(0);
        cie.extend([1, 0x78]); // code alignment 1, data alignment -8
        if version == 1 {
            cie.push(16)
        } else {
            cie.extend([0x90, 0x00])
        } // return address: r16
        if aug.starts_with('z') {
            cie.push(aug_data.len() as u8);
            cie.extend(aug_data);
        }
        cie.extend([0x0c, 0x07, 0x08, 0x90, 0x01]); // def_cfa rsp+8, offset r16
        let mut at = put(&mut m, EH, &cie);
        let mut table = Vec::new();
        for (start, len) in FUNCS {
            let fde_at = at;
            let mut fde = if wide {
                ((fde_at + len_size - EH) as u64).to_le_bytes().to_vec()
            } else {
                ((fde_at + len_size - EH) as u32).to_le_bytes().to_vec()
            };
            fde.extend(encode(enc, start, B + fde_at + len_size + id_size));
            fde.extend(encode(enc & 0x0f, len, 0));
            if aug.starts_with('z') {
                fde.push(0);
            }
            at = put(&mut m, fde_at, &fde);
            table.extend(((start - B) as i32).to_le_bytes());
            table.extend((fde_at as i32).to_le_bytes());
        }
        m[..4].copy_from_slice(&hdr);
        m[4..8].copy_from_slice(&((EH - 4) as i32).to_le_bytes());
        m[8..12].copy_from_slice(&3u32.to_le_bytes());
        m[12..12 + table.len()].copy_from_slice(&table);
        m
    }

    fn lookups(m: &[u8]) -> Vec<Option<(usize, usize)>> {
        let read = |a: usize, b: &mut [u8]| match a.checked_sub(B).and_then(|o| m.get(o..o + b.len())) {
            Some(s) => {
                b.copy_from_slice(s);
                true
            }
            None => false,
        };
        [0x7ff, 0x800, 0x83f, 0x840, 0x84f, 0x850, 0x8ff, 0x900, 0x9ff, 0xa00]
            .iter()
            .map(|&o| function_containing(&read, B, B + o))
            .collect()
    }

    /// CIE augmentations, pointer encodings, 64-bit lengths, header
    /// encodings, built by hand.
    #[test]
    fn built_tables() {
        const H: [u8; 4] = [1, 0x1b, 0x03, 0x3b];
        let f = |i: usize| Some((FUNCS[i].0, FUNCS[i].0 + FUNCS[i].1));
        let found = vec![None, f(0), f(0), f(1), f(1), None, None, f(2), f(2), None];
        let none = vec![None; 10];
        // What, header, CIE version, augmentation, its data, FDE pointer
        // encoding, 64-bit lengths, whether the functions are found.
        type Case = (&'static str, [u8; 4], u8, &'static str, &'static [u8], u8, bool, bool);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("zR pcrel sdata4", H, 1, "zR", &[0x1b], 0x1b, false, true),
            ("zPLR", H, 1, "zPLR", &[0x9b, 1, 2, 3, 4, 0x1b, 0x1b], 0x1b, false, true),
            ("zPLR absptr personality", H, 1, "zPLR", &[0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0x1b, 0x1b], 0x1b, false, true),
            ("zPLRS", H, 1, "zPLRS", &[0x9b, 1, 2, 3, 4, 0x1b, 0x1b], 0x1b, false, true),
            ("zLR", H, 1, "zLR", &[0x1b, 0x1b], 0x1b, false, true),
            ("zR absptr", H, 1, "zR", &[0x00], 0x00, false, true),
            ("zR udata8", H, 1, "zR", &[0x04], 0x04, false, true),
            ("zR udata4", H, 1, "zR", &[0x03], 0x03, false, true),
            ("zR pcrel sdata8", H, 1, "zR", &[0x1c], 0x1c, false, true),
            ("no augmentation: absptr", H, 1, "", &[], 0x00, false, true),
            ("z without R: absptr", H, 1, "z", &[], 0x00, false, true),
            ("version 3", H, 3, "zR", &[0x1b], 0x1b, false, true),
            ("64-bit lengths", H, 1, "zR", &[0x1b], 0x1b, true, true),
            ("eh_frame_ptr omitted", [1, 0xff, 0x03, 0x3b], 1, "zR", &[0x1b], 0x1b, false, true),
            ("datarel", H, 1, "zR", &[0x3b], 0x3b, false, false),
            ("indirect", H, 1, "zR", &[0x9b], 0x9b, false, false),
            ("unknown letter", H, 1, "zXR", &[0, 0x1b], 0x1b, false, false),
            ("eh", H, 1, "eh", &[], 0x00, false, false),
            ("aligned personality", H, 1, "zPR", &[0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0x1b], 0x1b, false, false),
            ("uleb128 personality", H, 1, "zPR", &[0x01, 0x05, 0x1b], 0x1b, false, false),
            ("version 2", H, 2, "zR", &[0x1b], 0x1b, false, false),
            ("header version 2", [2, 0x1b, 0x03, 0x3b], 1, "zR", &[0x1b], 0x1b, false, false),
            ("table udata4", [1, 0x1b, 0x03, 0x33], 1, "zR", &[0x1b], 0x1b, false, false),
            ("count omitted", [1, 0x1b, 0xff, 0x3b], 1, "zR", &[0x1b], 0x1b, false, false),
            ("count uleb128", [1, 0x1b, 0x01, 0x3b], 1, "zR", &[0x1b], 0x1b, false, false),
        ];
        for &(what, hdr, version, aug, data, enc, wide, ok) in cases {
            let mut m = build(hdr, version, aug, data, enc, wide);
            if hdr[1] == 0xff {
                // No eh_frame_ptr: the count and table move up 4 bytes.
                m.copy_within(8..0x100, 4);
            }
            assert_eq!(lookups(&m), if ok { found.clone() } else { none.clone() }, "{what}");
        }
        // A table entry that disagrees with its FDE; an empty table.
        let mut m = build(H, 1, "zR", &[0x1b], 0x1b, false);
        m[12] += 1;
        assert_eq!(lookups(&m)[1..3], [None, None]);
        let mut m = build(H, 1, "zR", &[0x1b], 0x1b, false);
        m[8] = 0;
        assert_eq!(lookups(&m), none);
    }
}
