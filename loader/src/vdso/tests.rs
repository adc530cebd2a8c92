//! Tests of the vDSO reader against this process's own kernel vDSO (read
//! through /proc/self/mem: this crate has no unsafe code to read it in
//! place), whole, truncated, and with its DT_HASH hidden.

use super::*;
use std::io::{Read, Seek, SeekFrom};

/// The functions of the kernel's x86_64 vDSO that preld's handler looks up.
const FUNCS: [&[u8]; 5] =
    [b"__vdso_clock_gettime", b"__vdso_gettimeofday", b"__vdso_time", b"__vdso_getcpu", b"__vdso_clock_getres"];
const VERSION: &[u8] = b"LINUX_2.6";

/// The bytes of this process's `[vdso]` mapping.
fn own_vdso() -> Vec<u8> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let line = maps.lines().find(|l| l.ends_with("[vdso]")).expect("no [vdso] in /proc/self/maps");
    let range = line.split_whitespace().next().unwrap();
    let (a, b) = range.split_once('-').unwrap();
    let (start, end) = (u64::from_str_radix(a, 16).unwrap(), u64::from_str_radix(b, 16).unwrap());
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    mem.seek(SeekFrom::Start(start)).unwrap();
    let mut bytes = vec![0; (end - start) as usize];
    mem.read_exact(&mut bytes).unwrap();
    bytes
}

/// The kernel's vDSO cut to the extent its first page gives.
fn own_image() -> Vec<u8> {
    let mut bytes = own_vdso();
    let len = extent(&bytes[..4096]).expect("the kernel's vDSO has a readable extent");
    assert!(len > 0 && len <= bytes.len(), "{len} of {}", bytes.len());
    bytes.truncate(len);
    bytes
}

#[test]
fn kernel_vdso_symbols_are_versioned_and_aliased() {
    let bytes = own_image();
    let img = VdsoImage::parse(&bytes).unwrap();
    assert_eq!(img.soname(), Some(&b"linux-vdso.so.1"[..]));
    assert!(!img.has_relocations());
    for name in FUNCS {
        let alias = &name[b"__vdso_".len()..];
        let s = img.lookup(name, VERSION).unwrap();
        let a = img.lookup(alias, VERSION).unwrap();
        assert_eq!(s.value, a.value, "{}", String::from_utf8_lossy(name));
        assert_eq!(s.version, Some(VERSION));
        assert_eq!((s.kind, s.bind), (STT_FUNC, STB_GLOBAL));
        assert_eq!((a.kind, a.bind), (STT_FUNC, STB_WEAK));
        assert!(s.offset < bytes.len());
        // A version that does not exist finds nothing.
        assert!(img.lookup(name, b"LINUX_9.9").is_none());
    }
}

#[test]
fn parse_rejects_what_is_not_a_vdso() {
    assert!(VdsoImage::parse(b"").is_none());
    assert!(VdsoImage::parse(&[0u8; 4096]).is_none());
    assert!(extent(&[0u8; 4096]).is_none());
    // Truncations of a valid image never panic and never find a symbol
    // past their end.
    let bytes = own_image();
    for n in (0..bytes.len()).step_by(7) {
        let _ = extent(&bytes[..n]);
        if let Some(img) = VdsoImage::parse(&bytes[..n]) {
            for s in img.symbols() {
                assert!(s.name.len() < n);
            }
        }
    }
}

#[test]
fn gnu_hash_alone_gives_the_same_symbols() {
    // Hide DT_HASH (retag it as DT_NEEDED=1, harmless here) so the count
    // comes from DT_GNU_HASH, as Go prefers.
    let image = own_image();
    let mut copy = image.clone();
    let img = VdsoImage::parse(&image).unwrap();
    let n = img.symbol_count();
    let dynamic = img.phdrs().find(|p| p.p_type == PT_DYNAMIC).unwrap();
    let mut d = dynamic.p_offset as usize;
    let mut had_hash = false;
    loop {
        let tag = u64_at(&copy, d).unwrap();
        if tag == DT_NULL {
            break;
        }
        if tag == DT_HASH {
            copy[d..d + 8].copy_from_slice(&1u64.to_le_bytes());
            had_hash = true;
        }
        d += DYN_SIZE;
    }
    let gnu = VdsoImage::parse(&copy).unwrap();
    if had_hash {
        assert_eq!(gnu.symbol_count(), n);
    }
    for name in FUNCS {
        assert!(gnu.lookup(name, VERSION).is_some());
    }
}
