//! preld's own vDSO: the image ld-preld gives programs as AT_SYSINFO_EHDR,
//! the functions it exports, where the kernel's vDSO has them, and the
//! default handlers. Reading a vDSO's ELF tables is the loader crate's
//! (`preld_loader::vdso`).
//!
//! The image (built by handler/build.rs from arch/src/x86_64/vdso.S and
//! linker-scripts/vdso.ld) exports what the kernel's x86_64 vDSO exports for
//! time and cpu queries: `__vdso_clock_gettime`, `__vdso_gettimeofday`,
//! `__vdso_time`, `__vdso_getcpu`, `__vdso_clock_getres` and their weak
//! unprefixed aliases, all at version `LINUX_2.6`, soname `linux-vdso.so.1`.
//! glibc's ld.so (setup_vdso, dl_vdso_vsym) and the Go runtime
//! (runtime/vdso_linux.go) find them exactly as they find the kernel's.
//!
//! Each function is one `jmp *slot(%rip)`: a plain call from the program
//! into a handler of preld, with no trap. [`install`] copies the image to
//! fresh anonymous pages, writes the handler addresses into the slot table,
//! and makes the pages read-only and executable: that is the whole load
//! step, since the image is one PT_LOAD at vaddr 0 and file offset 0 and
//! has no relocations.
//!
//! The default handlers ([`VdsoHandlers::DEFAULT`]) call the kernel's real
//! vDSO function when [`set_kernel`] recorded one (found by
//! [`KernelVdso::parse`] in the original AT_SYSINFO_EHDR), or else make the
//! equivalent system call from preld's gate, and report each call to the
//! [`Observer`] if one is set. Like the kernel's functions they return what
//! the raw system call would: a value, or `-errno` (glibc's INLINE_VSYSCALL
//! treats the result as a raw syscall result, and redoes the call as a real
//! system call when it is `-ENOSYS`).
//!
//! Note for the trap path: the kernel's vDSO itself falls back to a
//! `syscall` instruction for clocks it cannot read in user space (CPU-time
//! clocks, or a clocksource without vDSO support). That instruction is
//! outside preld's gate, so under Syscall User Dispatch it traps, and the
//! SIGSYS path serves it (a nested call from inside this handler).

use core::ffi::c_void;
use core::ops::Range;
use core::sync::atomic::{AtomicUsize, Ordering};

use preld_arch::{syscall6, PAGE_SIZE};
use preld_loader::vdso::{extent, VdsoImage};
use syscalls::Sysno;

use crate::{abi, clock, sys};

mod image {
    include!(concat!(env!("OUT_DIR"), "/vdso_image.rs"));
}

/// The vDSO image, as built: an ELF shared object whose file bytes are its
/// memory image.
pub const IMAGE: &[u8] = image::IMAGE;
/// Offset in [`IMAGE`] of the slot table: one little-endian code address per
/// [`Func`], in `Func` order.
pub const SLOTS_OFFSET: usize = image::SLOTS_OFFSET;
const _: () = assert!(SLOTS_OFFSET.is_multiple_of(8) && SLOTS_OFFSET + 8 * Func::ALL.len() <= IMAGE.len());

/// The symbol version of every function, in the kernel's vDSO and in preld's.
pub const VERSION: &[u8] = b"LINUX_2.6";
/// The soname of the kernel's vDSO, which preld's image carries too.
pub const SONAME: &[u8] = b"linux-vdso.so.1";

/// `struct timespec` (`struct __kernel_timespec` on x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// `struct timeval`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

/// `struct timezone`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}

/// `int clock_gettime(clockid_t, struct timespec *)`: 0 or -errno.
pub type ClockGettimeFn = unsafe extern "C" fn(clk: i32, ts: *mut Timespec) -> i32;
/// `int gettimeofday(struct timeval *, struct timezone *)`: 0 or -errno.
pub type GettimeofdayFn = unsafe extern "C" fn(tv: *mut Timeval, tz: *mut Timezone) -> i32;
/// `time_t time(time_t *)`: seconds, or -errno.
pub type TimeFn = unsafe extern "C" fn(t: *mut i64) -> i64;
/// `long getcpu(unsigned *cpu, unsigned *node, void *cache)`: 0 or -errno.
pub type GetcpuFn = unsafe extern "C" fn(cpu: *mut u32, node: *mut u32, cache: *mut c_void) -> i64;
/// `int clock_getres(clockid_t, struct timespec *)`: 0 or -errno.
pub type ClockGetresFn = unsafe extern "C" fn(clk: i32, res: *mut Timespec) -> i32;

/// The functions of the vDSO, in slot order (arch/src/x86_64/vdso.S).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Func {
    ClockGettime = 0,
    Gettimeofday = 1,
    Time = 2,
    Getcpu = 3,
    ClockGetres = 4,
}

impl Func {
    pub const ALL: [Func; 5] = [Func::ClockGettime, Func::Gettimeofday, Func::Time, Func::Getcpu, Func::ClockGetres];

    /// The name glibc and Go look up: `__vdso_clock_gettime`...
    pub fn symbol(self) -> &'static [u8] {
        match self {
            Func::ClockGettime => b"__vdso_clock_gettime",
            Func::Gettimeofday => b"__vdso_gettimeofday",
            Func::Time => b"__vdso_time",
            Func::Getcpu => b"__vdso_getcpu",
            Func::ClockGetres => b"__vdso_clock_getres",
        }
    }

    /// The weak unprefixed alias: `clock_gettime`...
    pub fn alias(self) -> &'static [u8] {
        &self.symbol()[b"__vdso_".len()..]
    }

    /// The system call that does the same.
    pub fn sysno(self) -> Sysno {
        match self {
            Func::ClockGettime => Sysno::clock_gettime,
            Func::Gettimeofday => Sysno::gettimeofday,
            Func::Time => Sysno::time,
            Func::Getcpu => Sysno::getcpu,
            Func::ClockGetres => Sysno::clock_getres,
        }
    }
}

// ---------------------------------------------------------------------------
// The kernel's vDSO

/// The functions of the kernel's real vDSO (the original AT_SYSINFO_EHDR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelVdso {
    /// Address of its ELF header.
    pub base: usize,
    /// Its size in bytes, as its PT_LOADs say.
    pub len: usize,
    /// Address of each [`Func`] (indexed by `Func as usize`), 0 if absent.
    pub addrs: [usize; 5],
}

impl KernelVdso {
    /// Finds the functions of the vDSO whose ELF header is at `ehdr` (the
    /// kernel's AT_SYSINFO_EHDR); None if `ehdr` is 0 or not a vDSO.
    ///
    /// # Safety
    /// `ehdr` is 0 or the address of a mapped vDSO image: its first page is
    /// readable, and so is every byte its PT_LOADs' file sizes cover, for as
    /// long as this call runs. The kernel's AT_SYSINFO_EHDR is such a value.
    pub unsafe fn parse(ehdr: usize) -> Option<KernelVdso> {
        if ehdr == 0 || !ehdr.is_multiple_of(PAGE_SIZE) {
            return None;
        }
        // SAFETY: the caller guarantees the first page at `ehdr` is mapped
        // readable; `ehdr` is page-aligned, so the page holds these bytes.
        let head = unsafe { core::slice::from_raw_parts(ehdr as *const u8, PAGE_SIZE) };
        let len = extent(head)?;
        // SAFETY: `len` ends at the end of the last PT_LOAD's file bytes,
        // which the caller guarantees readable.
        let image = unsafe { core::slice::from_raw_parts(ehdr as *const u8, len.max(PAGE_SIZE)) };
        KernelVdso::from_image(image, ehdr)
    }

    /// Finds the functions in a vDSO image held in `image`, which is (or
    /// will be) mapped at `base`.
    pub fn from_image(image: &[u8], base: usize) -> Option<KernelVdso> {
        let img = VdsoImage::parse(image)?;
        let mut k = KernelVdso { base, len: extent(image)?, addrs: [0; 5] };
        for f in Func::ALL {
            if let Some(s) = img.lookup(f.symbol(), VERSION) {
                k.addrs[f as usize] = base.checked_add(s.offset)?;
            }
        }
        Some(k)
    }

    /// Address of `f` in this vDSO, if it has it.
    pub fn addr(&self, f: Func) -> Option<usize> {
        Some(self.addrs[f as usize]).filter(|&a| a != 0)
    }
}

/// The kernel's vDSO functions the default handlers call; 0: make the
/// system call instead.
static KERNEL: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];

/// Records the kernel's vDSO functions for the default handlers (None: they
/// make system calls). Set once at startup, before [`install`].
pub fn set_kernel(k: Option<&KernelVdso>) {
    for f in Func::ALL {
        let a = k.map_or(0, |k| k.addrs[f as usize]);
        KERNEL[f as usize].store(a, Ordering::Release);
    }
}

fn kernel(f: Func) -> usize {
    KERNEL[f as usize].load(Ordering::Acquire)
}

// ---------------------------------------------------------------------------
// Observing calls

/// Called after each call served by a default handler: `nr` is the
/// equivalent system call's number, `args` its arguments (as the syscall
/// would get them), `ret` the raw result (a value or -errno). It runs in the
/// program's thread, possibly inside a signal handler of the program, so it
/// must be async-signal-safe and reentrant.
pub type Observer = fn(nr: usize, args: &[usize; 6], ret: isize);

/// The [`Observer`] as an address; 0 when none is set.
static OBSERVER: AtomicUsize = AtomicUsize::new(0);

/// Sets or clears the observer of vDSO calls (for the tracer).
pub fn set_observer(f: Option<Observer>) {
    OBSERVER.store(f.map_or(0, |f| f as usize), Ordering::Release);
}

fn observe(f: Func, args: [usize; 6], ret: isize) {
    let o = OBSERVER.load(Ordering::Acquire);
    if o != 0 {
        // SAFETY: OBSERVER is private and only `set_observer` stores a
        // non-zero value into it, the address of an `Observer`.
        let o: Observer = unsafe { core::mem::transmute::<usize, Observer>(o) };
        o(f.sysno() as usize, &args, ret);
    }
}

/// Called before each call a default handler serves, instead of it when it
/// answers Some (the raw result): the external tracers' hook
/// (handler/src/tracer.rs), which may make the call itself, changed or not.
pub type Interceptor = fn(nr: usize, args: &[usize; 6]) -> Option<isize>;

/// The [`Interceptor`] as an address; 0 when none is set.
static INTERCEPTOR: AtomicUsize = AtomicUsize::new(0);

/// Sets or clears the interceptor of vDSO calls.
pub fn set_interceptor(f: Option<Interceptor>) {
    INTERCEPTOR.store(f.map_or(0, |f| f as usize), Ordering::Release);
}

fn intercept(f: Func, args: &[usize; 6]) -> Option<isize> {
    let o = INTERCEPTOR.load(Ordering::Acquire);
    if o == 0 {
        return None;
    }
    // SAFETY: INTERCEPTOR is private and only `set_interceptor` stores a
    // non-zero value into it, the address of an `Interceptor`.
    let o: Interceptor = unsafe { core::mem::transmute::<usize, Interceptor>(o) };
    o(f.sysno() as usize, args)
}

// ---------------------------------------------------------------------------
// The default handlers

/// The raw system call equivalent to `f`.
///
/// # Safety
/// The arguments are valid for that system call as the vDSO function's
/// caller gave them: the kernel checks user pointers (EFAULT) itself.
unsafe fn raw(f: Func, a: [usize; 6]) -> isize {
    // SAFETY: clock_gettime, gettimeofday, time, getcpu and clock_getres
    // only write to the user pointers given, which the kernel validates.
    unsafe { syscall6(f.sysno() as usize, a[0], a[1], a[2], a[3], a[4], a[5]) }
}

/// A vDSO function's argument as the equivalent system call takes it in a
/// register: an int sign-extended, a pointer's address.
trait Word {
    fn word(self) -> usize;
}

impl Word for i32 {
    fn word(self) -> usize {
        self as isize as usize
    }
}

impl<T> Word for *mut T {
    fn word(self) -> usize {
        self as usize
    }
}

/// The system call's six argument registers: `words`, then zeros.
fn regs<const N: usize>(words: [usize; N]) -> [usize; 6] {
    let mut r = [0; 6];
    r[..N].copy_from_slice(&words);
    r
}

/// With virtual time on (clock.rs), the wall-clock reading a time function
/// returned (`ret`, raw), as the program sees it: the timespec or timeval
/// it wrote is shifted in place. `time` is read again from
/// CLOCK_REALTIME_COARSE (the kernel's time() is its seconds) so that a
/// fraction of a second in the offset is not lost.
///
/// # Safety
/// `a` are the arguments `f` was called with, and `ret` its result: when
/// it succeeded, its output pointers were valid for writing.
unsafe fn shift(f: Func, a: [usize; 6], ret: isize) -> isize {
    if ret < 0 || !clock::active() {
        return ret;
    }
    match f {
        Func::ClockGettime if clock::shifts(a[0]) => {
            let ts = a[1] as *mut [i64; 2];
            // SAFETY: clock_gettime succeeded, so `ts` was valid for writing.
            unsafe { *ts = clock::virtual_ts(a[0], *ts) };
        }
        Func::Gettimeofday if a[0] != 0 => {
            let tv = a[0] as *mut [i64; 2];
            // SAFETY: gettimeofday succeeded and `tv` is not null, so it was
            // valid for writing.
            let [s, us] = unsafe { *tv };
            let [s, ns] = clock::ns_ts(clock::to_virtual(abi::CLOCK_REALTIME, clock::ts_ns(s, us * 1000)));
            // SAFETY: as above.
            unsafe { *tv = [s, ns / 1000] };
        }
        Func::Time => {
            let mut ts = Timespec::default();
            let k = kernel(Func::ClockGettime);
            let r = if k != 0 {
                // SAFETY: the kernel vDSO's clock_gettime (see set_kernel),
                // with a timespec of ours.
                unsafe { core::mem::transmute::<usize, ClockGettimeFn>(k)(abi::CLOCK_REALTIME_COARSE as i32, &mut ts) }
            } else {
                sys::clock_gettime(abi::CLOCK_REALTIME_COARSE).map_or(-1, |t| {
                    ts = Timespec { tv_sec: t.sec, tv_nsec: t.nsec };
                    0
                })
            };
            if r != 0 {
                return ret;
            }
            let secs = clock::ns_ts(clock::to_virtual(abi::CLOCK_REALTIME, clock::ts_ns(ts.tv_sec, ts.tv_nsec)))[0];
            if a[0] != 0 {
                // SAFETY: time succeeded with this pointer, not null: it was
                // valid for writing.
                unsafe { *(a[0] as *mut i64) = secs };
            }
            return secs as isize;
        }
        _ => {}
    }
    ret
}

/// Defines the default handler of each [`Func`], of that function's type:
/// it calls the kernel's vDSO function when [`set_kernel`] recorded one,
/// else makes the equivalent system call, shifts a wall-clock reading
/// when virtual time is on, then shows the call to the [`Observer`]. The handlers differ only in their signatures.
macro_rules! default_handlers {
    ($(
        $(#[$doc:meta])*
        $func:path: $fnty:ty => fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;
    )*) => {$(
        $(#[$doc])*
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            let f = kernel($func);
            let args = regs([$($arg.word()),*]);
            let ret = if let Some(r) = intercept($func, &args) {
                r
            } else if f != 0 {
                // SAFETY: `f` was recorded by set_kernel from the kernel
                // vDSO's symbol of this function, which has the C signature
                // `$fnty`, this handler's own (checked below); the caller's
                // arguments are passed on under the same contract.
                unsafe { core::mem::transmute::<usize, $fnty>(f)($($arg),*) as isize }
            } else {
                // SAFETY: see `raw`; the caller's arguments, unchanged.
                unsafe { raw($func, args) }
            };
            // SAFETY: the pointers the function just wrote, if it succeeded.
            let ret = unsafe { shift($func, args, ret) };
            observe($func, args, ret);
            ret as $ret
        }

        // The kernel's function is called as the type of this handler.
        const _: $fnty = $name;
    )*};
}

default_handlers! {
    /// Default `__vdso_clock_gettime`.
    ///
    /// # Safety
    /// As for clock_gettime(2): `ts` is valid for writing a timespec (the
    /// kernel's vDSO writes it without checks).
    Func::ClockGettime: ClockGettimeFn => fn preld_clock_gettime(clk: i32, ts: *mut Timespec) -> i32;

    /// Default `__vdso_gettimeofday`.
    ///
    /// # Safety
    /// As for gettimeofday(2): each pointer is null or valid for writing.
    Func::Gettimeofday: GettimeofdayFn => fn preld_gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32;

    /// Default `__vdso_time`.
    ///
    /// # Safety
    /// As for time(2): `t` is null or valid for writing.
    Func::Time: TimeFn => fn preld_time(t: *mut i64) -> i64;

    /// Default `__vdso_getcpu`.
    ///
    /// # Safety
    /// As for getcpu(2): `cpu` and `node` are null or valid for writing.
    Func::Getcpu: GetcpuFn => fn preld_getcpu(cpu: *mut u32, node: *mut u32, cache: *mut c_void) -> i64;

    /// Default `__vdso_clock_getres`.
    ///
    /// # Safety
    /// As for clock_getres(2): `res` is null or valid for writing.
    Func::ClockGetres: ClockGetresFn => fn preld_clock_getres(clk: i32, res: *mut Timespec) -> i32;
}

// ---------------------------------------------------------------------------
// Installing the image

/// The functions preld's vDSO jumps to, one per [`Func`].
#[derive(Clone, Copy, Debug)]
pub struct VdsoHandlers {
    pub clock_gettime: ClockGettimeFn,
    pub gettimeofday: GettimeofdayFn,
    pub time: TimeFn,
    pub getcpu: GetcpuFn,
    pub clock_getres: ClockGetresFn,
}

impl VdsoHandlers {
    /// The default handlers: the kernel's vDSO or the system call, observed.
    pub const DEFAULT: VdsoHandlers = VdsoHandlers {
        clock_gettime: preld_clock_gettime,
        gettimeofday: preld_gettimeofday,
        time: preld_time,
        getcpu: preld_getcpu,
        clock_getres: preld_clock_getres,
    };

    /// The slot table's contents, in [`Func`] order.
    pub fn slots(&self) -> [usize; 5] {
        [
            self.clock_gettime as usize,
            self.gettimeofday as usize,
            self.time as usize,
            self.getcpu as usize,
            self.clock_getres as usize,
        ]
    }
}

/// Address of the installed image (the last one [`install`] made), 0 if none.
static INSTALLED: AtomicUsize = AtomicUsize::new(0);

/// Size of the mapping [`install`] makes.
pub const MAPPED_LEN: usize = IMAGE.len().next_multiple_of(PAGE_SIZE);

/// Maps a copy of preld's vDSO whose functions jump to `handlers`, and
/// returns its address: the value for the program's AT_SYSINFO_EHDR. The
/// mapping is read-only and executable and stays for the process's life.
pub fn install(handlers: &VdsoHandlers) -> Result<usize, i32> {
    // SAFETY: a new private anonymous mapping where the kernel chooses:
    // it overlaps nothing in use.
    let base = unsafe {
        sys::mmap(0, MAPPED_LEN, abi::PROT_READ | abi::PROT_WRITE, abi::MAP_PRIVATE | abi::MAP_ANONYMOUS, -1, 0)?
    };
    {
        // SAFETY: `base` is the start of the MAPPED_LEN readable and
        // writable bytes just mapped, which nothing else references.
        let mem = unsafe { core::slice::from_raw_parts_mut(base as *mut u8, MAPPED_LEN) };
        mem[..IMAGE.len()].copy_from_slice(IMAGE);
        for (i, addr) in handlers.slots().into_iter().enumerate() {
            let slot = SLOTS_OFFSET + 8 * i;
            mem[slot..slot + 8].copy_from_slice(&addr.to_le_bytes());
        }
    }
    // SAFETY: only the mapping made above loses write access, and the slice
    // that wrote it is gone.
    if let Err(e) = unsafe { sys::mprotect(base, MAPPED_LEN, abi::PROT_READ | abi::PROT_EXEC) } {
        // SAFETY: the mapping made above; nothing refers to it.
        let _ = unsafe { sys::munmap(base, MAPPED_LEN) };
        return Err(e);
    }
    INSTALLED.store(base, Ordering::Release);
    preld_arch::fast::set_resident(preld_arch::fast::RESIDENT_VDSO, base, base + MAPPED_LEN);
    Ok(base)
}

/// The startup step in one call: finds the kernel's vDSO functions at
/// `kernel_ehdr` (the original AT_SYSINFO_EHDR, or 0 if there is none) for
/// the default handlers, and installs preld's vDSO with them. Returns the
/// new AT_SYSINFO_EHDR.
///
/// # Safety
/// As for [`KernelVdso::parse`]: `kernel_ehdr` is 0 or the kernel's vDSO.
pub unsafe fn install_default(kernel_ehdr: usize) -> Result<usize, i32> {
    // SAFETY: the caller's guarantee, passed on.
    let k = unsafe { KernelVdso::parse(kernel_ehdr) };
    set_kernel(k.as_ref());
    install(&VdsoHandlers::DEFAULT)
}

/// The address range of the installed image, if any (for refusing munmap,
/// mprotect or mremap of it).
pub fn installed() -> Option<Range<usize>> {
    match INSTALLED.load(Ordering::Acquire) {
        0 => None,
        base => Some(base..base + MAPPED_LEN),
    }
}

#[cfg(test)]
mod tests;
