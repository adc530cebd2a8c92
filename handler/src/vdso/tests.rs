//! Tests of the kernel's vDSO functions as this process's real vDSO has
//! them, of the embedded image, and of an installed copy called like a
//! program calls it. (The reader of vDSO images is tested in the loader
//! crate, preld_loader::vdso.)

use super::*;
use goblin::elf::dynamic::{DT_HASH, DT_NULL};
use goblin::elf::program_header::{ProgramHeader, PT_DYNAMIC, PT_LOAD};
use goblin::elf::sym::{STB_GLOBAL, STB_WEAK};
use std::process::Command;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Serializes the tests that change the module's statics (KERNEL, OBSERVER).
static GLOBALS: Mutex<()> = Mutex::new(());

const AT_SYSINFO_EHDR: u64 = preld_loader::abi::AT_SYSINFO_EHDR as u64;

/// This process's AT_SYSINFO_EHDR, from /proc/self/auxv.
fn own_vdso() -> usize {
    let auxv = std::fs::read("/proc/self/auxv").unwrap();
    for pair in auxv.chunks_exact(16) {
        let key = u64::from_ne_bytes(pair[..8].try_into().unwrap());
        let val = u64::from_ne_bytes(pair[8..].try_into().unwrap());
        if key == AT_SYSINFO_EHDR {
            return val as usize;
        }
    }
    panic!("no AT_SYSINFO_EHDR in /proc/self/auxv");
}

/// The `[vdso]` mapping of this process, from /proc/self/maps.
fn own_vdso_mapping() -> Range<usize> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let line = maps.lines().find(|l| l.ends_with("[vdso]")).expect("no [vdso] in /proc/self/maps");
    mapping_range(line)
}

fn mapping_range(line: &str) -> Range<usize> {
    let range = line.split_whitespace().next().unwrap();
    let (a, b) = range.split_once('-').unwrap();
    usize::from_str_radix(a, 16).unwrap()..usize::from_str_radix(b, 16).unwrap()
}

/// The /proc/self/maps line of the mapping that starts at `base`.
fn mapping_at(base: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().find(|l| mapping_range(l).start == base).unwrap_or_else(|| panic!("no mapping at {base:#x}")).to_string()
}

fn now() -> Timespec {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

fn close_to_now(sec: i64) {
    let n = now().tv_sec;
    assert!((sec - n).abs() <= 2, "{sec} is not now ({n})");
}

#[test]
fn kernel_vdso_of_this_process_has_all_five() {
    let ehdr = own_vdso();
    let map = own_vdso_mapping();
    assert_eq!(ehdr, map.start);
    // SAFETY: AT_SYSINFO_EHDR of this process, mapped for its life.
    let k = unsafe { KernelVdso::parse(ehdr) }.expect("the kernel's vDSO parses");
    assert_eq!(k.base, ehdr);
    assert!(k.len > 0 && ehdr + k.len <= map.end);
    for f in Func::ALL {
        let a = k.addr(f).unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(f.symbol())));
        assert!(map.contains(&a), "{f:?} at {a:#x} is outside {map:x?}");
    }
}

#[test]
fn kernel_clock_gettime_found_by_the_parser_works() {
    // SAFETY: AT_SYSINFO_EHDR of this process.
    let k = unsafe { KernelVdso::parse(own_vdso()) }.unwrap();
    let mut ts = Timespec::default();
    // SAFETY: the kernel's __vdso_clock_gettime has this signature; `ts` is
    // a live, writable timespec.
    let r = unsafe { core::mem::transmute::<usize, ClockGettimeFn>(k.addr(Func::ClockGettime).unwrap())(0, &mut ts) };
    assert_eq!(r, 0);
    close_to_now(ts.tv_sec);
}

#[test]
fn kernel_parse_rejects_what_is_not_a_vdso() {
    // SAFETY: 0 is always accepted.
    assert_eq!(unsafe { KernelVdso::parse(0) }, None);
    assert_eq!(KernelVdso::from_image(b"", 0x10000), None);
    assert_eq!(KernelVdso::from_image(&[0u8; 4096], 0x10000), None);
    // Truncations of a valid image never panic and never give an address
    // past their end.
    for n in (0..IMAGE.len()).step_by(7) {
        if let Some(k) = KernelVdso::from_image(&IMAGE[..n], 0x10000) {
            for f in Func::ALL {
                assert!(k.addr(f).is_none_or(|a| a < 0x10000 + n), "{f:?} in {n} bytes");
            }
        }
    }
}

#[test]
fn embedded_image_layout() {
    let img = VdsoImage::parse(IMAGE).expect("the embedded image parses");
    assert_eq!(img.soname(), Some(SONAME));
    assert!(!img.has_relocations());
    let phdrs: Vec<ProgramHeader> = img.phdrs().collect();
    let loads: Vec<&ProgramHeader> = phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
    assert_eq!(loads.len(), 1, "{phdrs:x?}");
    let load = loads[0];
    assert_eq!((load.p_offset, load.p_vaddr), (0, 0));
    assert_eq!(load.p_flags, 5, "PT_LOAD is R+X"); // PF_R | PF_X
    assert_eq!(load.p_filesz, load.p_memsz, "no bss");
    assert!(load.p_filesz as usize <= IMAGE.len());
    let dynamic = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC).unwrap();
    assert_eq!(dynamic.p_flags & 2, 0, "PT_DYNAMIC must not be writable (glibc would write to it)");
    assert!(dynamic.p_offset + dynamic.p_filesz <= load.p_filesz);
    assert!(SLOTS_OFFSET + 40 <= load.p_filesz as usize);
    // The file's slots are empty: install fills them.
    assert!(IMAGE[SLOTS_OFFSET..SLOTS_OFFSET + 40].iter().all(|&b| b == 0));
}

#[test]
fn embedded_image_exports_all_five_with_version_and_aliases() {
    let img = VdsoImage::parse(IMAGE).unwrap();
    for f in Func::ALL {
        let s = img.lookup(f.symbol(), VERSION).unwrap_or_else(|| panic!("{f:?} missing"));
        let a = img.lookup(f.alias(), VERSION).unwrap_or_else(|| panic!("{f:?} alias missing"));
        assert_eq!((s.bind, a.bind), (STB_GLOBAL, STB_WEAK), "{f:?}");
        assert_eq!(s.value, a.value);
        assert_eq!(s.version, Some(VERSION));
        // The code is `push %rbp; mov %rsp, %rbp; and $-16, %rsp` (the
        // caller's stack aligned), then `call *disp32(%rip)` (ff 15 disp32)
        // through slot `f`, then `leave; ret`.
        let code = &IMAGE[s.offset..s.offset + 16];
        assert_eq!(&code[..8], &[0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xe4, 0xf0], "{f:?}: {code:x?}");
        assert_eq!(&code[8..10], &[0xff, 0x15], "{f:?}: {code:x?}");
        assert_eq!(&code[14..16], &[0xc9, 0xc3], "{f:?}: {code:x?}");
        let disp = i32::from_le_bytes(code[10..14].try_into().unwrap()) as isize;
        let target = (s.offset as isize + 14 + disp) as usize;
        assert_eq!(target, SLOTS_OFFSET + 8 * f as usize, "{f:?}");
    }
    // Nothing else is exported but the version's own name.
    for s in img.symbols().skip(1) {
        let known = Func::ALL.iter().any(|f| s.name == f.symbol() || s.name == f.alias());
        assert!(known || s.name == VERSION, "unexpected symbol {}", String::from_utf8_lossy(s.name));
    }
    // The kernel-vDSO parser reads it the same way.
    let k = KernelVdso::from_image(IMAGE, 0x10000).unwrap();
    for f in Func::ALL {
        assert_eq!(k.addr(f), Some(0x10000 + img.lookup(f.symbol(), VERSION).unwrap().offset));
    }
}

#[test]
fn embedded_image_according_to_readelf() {
    let path = env!("PRELD_VDSO_IMAGE");
    assert_eq!(std::fs::read(path).unwrap(), IMAGE);
    let out = Command::new("readelf").args(["--dyn-syms", "-V", "-d", "-r", "-l", "-W", path]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("There are no relocations in this file."), "{text}");
    assert!(text.contains("Library soname: [linux-vdso.so.1]"), "{text}");
    for f in Func::ALL {
        for name in [f.symbol(), f.alias()] {
            let want = format!(" {}@@LINUX_2.6", std::str::from_utf8(name).unwrap());
            assert!(text.lines().any(|l| l.contains(" FUNC ") && l.ends_with(&want)), "{want} missing:\n{text}");
        }
    }
    assert!(text.contains("(GNU_HASH)") && text.contains("(HASH)"), "{text}");
}

#[test]
fn embedded_image_gives_the_same_symbols_by_gnu_hash_alone() {
    // Go counts symbols by DT_GNU_HASH when there is one: hide DT_HASH
    // (retag it as DT_NEEDED=1, harmless here) and look again.
    let mut copy = IMAGE.to_vec();
    let img = VdsoImage::parse(IMAGE).unwrap();
    let n = img.symbol_count();
    let dynamic = img.phdrs().find(|p| p.p_type == PT_DYNAMIC).unwrap();
    for d in (dynamic.p_offset as usize..).step_by(16) {
        let tag = u64::from_le_bytes(copy[d..d + 8].try_into().unwrap());
        if tag == DT_NULL {
            break;
        }
        if tag == DT_HASH {
            copy[d..d + 8].copy_from_slice(&1u64.to_le_bytes());
        }
    }
    let gnu = VdsoImage::parse(&copy).unwrap();
    assert_eq!(gnu.symbol_count(), n);
    for f in Func::ALL {
        assert!(gnu.lookup(f.symbol(), VERSION).is_some());
    }
}

static SEEN: AtomicU64 = AtomicU64::new(0);
static LAST_NR: AtomicUsize = AtomicUsize::new(0);

fn count(nr: usize, _args: &[usize; 6], ret: isize) {
    SEEN.fetch_add(1, Ordering::SeqCst);
    LAST_NR.store(nr, Ordering::SeqCst);
    assert!(ret >= 0 || ret == -22, "unexpected result {ret}");
}

/// Calls every function of the vDSO at `base` (an installed copy) and
/// checks the results.
fn call_all(base: usize) {
    // SAFETY: `base` is an image installed by `install`, mapped for the
    // process's life.
    let v = unsafe { KernelVdso::parse(base) }.expect("the installed image parses as a vDSO");
    // SAFETY (all calls below): each address is the installed image's entry
    // of that function, whose handler has the C signature of its type; every
    // pointer passed is to a live local.
    unsafe {
        let mut ts = Timespec::default();
        let before = SEEN.load(Ordering::SeqCst);
        assert_eq!(core::mem::transmute::<usize, ClockGettimeFn>(v.addrs[0])(0, &mut ts), 0);
        close_to_now(ts.tv_sec);
        assert_eq!(SEEN.load(Ordering::SeqCst), before + 1);
        assert_eq!(LAST_NR.load(Ordering::SeqCst), Sysno::clock_gettime as usize);
        // An unknown clock: -EINVAL, as the raw syscall returns it.
        assert_eq!(core::mem::transmute::<usize, ClockGettimeFn>(v.addrs[0])(1000, &mut ts), -22);

        let mut tv = Timeval::default();
        assert_eq!(core::mem::transmute::<usize, GettimeofdayFn>(v.addrs[1])(&mut tv, core::ptr::null_mut()), 0);
        close_to_now(tv.tv_sec);
        assert_eq!(LAST_NR.load(Ordering::SeqCst), Sysno::gettimeofday as usize);

        let mut t = 0i64;
        let r = core::mem::transmute::<usize, TimeFn>(v.addrs[2])(&mut t);
        assert_eq!(r, t);
        close_to_now(t);
        assert_eq!(LAST_NR.load(Ordering::SeqCst), Sysno::time as usize);

        let (mut cpu, mut node) = (u32::MAX, u32::MAX);
        assert_eq!(core::mem::transmute::<usize, GetcpuFn>(v.addrs[3])(&mut cpu, &mut node, core::ptr::null_mut()), 0);
        assert!((cpu as usize) < 4096 && node != u32::MAX);
        assert_eq!(LAST_NR.load(Ordering::SeqCst), Sysno::getcpu as usize);

        let mut res = Timespec { tv_sec: -1, tv_nsec: -1 };
        assert_eq!(core::mem::transmute::<usize, ClockGetresFn>(v.addrs[4])(1, &mut res), 0);
        assert!(res.tv_sec == 0 && res.tv_nsec > 0, "{res:?}");
        assert_eq!(LAST_NR.load(Ordering::SeqCst), Sysno::clock_getres as usize);
        assert_eq!(SEEN.load(Ordering::SeqCst), before + 6);
    }
}

#[test]
fn installed_image_calls_the_handlers() {
    let _g = GLOBALS.lock().unwrap_or_else(|e| e.into_inner());
    set_observer(Some(count));

    // Through the kernel's vDSO.
    // SAFETY: AT_SYSINFO_EHDR of this process.
    let base = unsafe { install_default(own_vdso()) }.unwrap();
    assert_eq!(installed(), Some(base..base + MAPPED_LEN));
    assert!(mapping_at(base).split_whitespace().nth(1) == Some("r-xp"), "{}", mapping_at(base));
    assert_eq!(kernel(Func::ClockGettime), unsafe { KernelVdso::parse(own_vdso()) }.unwrap().addrs[0]);
    call_all(base);

    // Without a kernel vDSO: system calls.
    // SAFETY: 0 means none.
    let base = unsafe { install_default(0) }.unwrap();
    assert_eq!(kernel(Func::ClockGettime), 0);
    call_all(base);

    set_observer(None);
    let before = SEEN.load(Ordering::SeqCst);
    call_all_unobserved(base);
    assert_eq!(SEEN.load(Ordering::SeqCst), before);
}

fn call_all_unobserved(base: usize) {
    // SAFETY: as in call_all.
    let v = unsafe { KernelVdso::parse(base) }.unwrap();
    let mut ts = Timespec::default();
    // SAFETY: as in call_all.
    assert_eq!(unsafe { core::mem::transmute::<usize, ClockGettimeFn>(v.addrs[0])(1, &mut ts) }, 0);
}

#[test]
fn custom_handlers_get_the_calls() {
    unsafe extern "C" fn fixed(_clk: i32, ts: *mut Timespec) -> i32 {
        // SAFETY: the test passes a live timespec.
        unsafe { *ts = Timespec { tv_sec: 42, tv_nsec: 7 } };
        0
    }
    let h = VdsoHandlers { clock_gettime: fixed, ..VdsoHandlers::DEFAULT };
    let _g = GLOBALS.lock().unwrap_or_else(|e| e.into_inner());
    let base = install(&h).unwrap();
    // SAFETY: an image installed just above.
    let v = unsafe { KernelVdso::parse(base) }.unwrap();
    let mut ts = Timespec::default();
    // SAFETY: the entry jumps to `fixed`; `ts` is live.
    assert_eq!(unsafe { core::mem::transmute::<usize, ClockGettimeFn>(v.addrs[0])(0, &mut ts) }, 0);
    assert_eq!(ts, Timespec { tv_sec: 42, tv_nsec: 7 });
}
