//! The initial stack the kernel gave ld-preld: argc, argv, envp, auxv.

use core::ffi::CStr;

pub use preld_loader::abi::{AT_BASE, AT_ENTRY, AT_EXECFN, AT_PHDR, AT_PHENT, AT_PHNUM, AT_SYSINFO_EHDR};

pub struct Initial {
    /// Address of argc: the top of what the program's stack may reuse.
    pub sp: usize,
    argv: &'static [*const u8],
    envp: &'static [*const u8],
    auxv: &'static mut [[usize; 2]],
}

impl Initial {
    /// Reads the layout the kernel documents for a new process.
    ///
    /// # Safety
    /// `sp` must be the stack pointer the kernel passed to `_start`, and this
    /// is called once (the auxv is handed out mutably).
    pub unsafe fn from_sp(sp: *mut usize) -> Initial {
        // SAFETY: the kernel wrote argc, then argc pointers and a NULL, then
        // envp pointers and a NULL, then auxv pairs ending with AT_NULL.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1) as *const *const u8;
            let envp = argv.add(argc + 1);
            let mut envc = 0;
            while !(*envp.add(envc)).is_null() {
                envc += 1;
            }
            let auxv = envp.add(envc + 1) as *mut [usize; 2];
            let mut auxc = 0;
            while (*auxv.add(auxc))[0] != 0 {
                auxc += 1;
            }
            Initial {
                sp: sp as usize,
                argv: core::slice::from_raw_parts(argv, argc),
                envp: core::slice::from_raw_parts(envp, envc),
                auxv: core::slice::from_raw_parts_mut(auxv, auxc),
            }
        }
    }

    pub fn argc(&self) -> usize {
        self.argv.len()
    }

    /// Address of argv[i]'s string.
    pub fn arg_ptr(&self, i: usize) -> usize {
        self.argv[i] as usize
    }

    pub fn arg(&self, i: usize) -> &'static [u8] {
        // SAFETY: argv entries are NUL-terminated strings on the stack, which
        // stays mapped and unmodified for the loader's lifetime.
        unsafe { CStr::from_ptr(self.argv[i].cast()).to_bytes() }
    }

    /// Where the environment's pointer array starts (what execve was given).
    pub fn envp_addr(&self) -> usize {
        self.envp.as_ptr() as usize
    }

    pub fn env_ptrs(&self) -> impl Iterator<Item = usize> + '_ {
        self.envp.iter().map(|p| *p as usize)
    }

    /// The value of environment variable `name`, if set.
    pub fn env(&self, name: &[u8]) -> Option<&'static [u8]> {
        self.envp.iter().find_map(|&p| {
            // SAFETY: as for argv.
            let kv = unsafe { CStr::from_ptr(p.cast()).to_bytes() };
            kv.strip_prefix(name)?.strip_prefix(b"=")
        })
    }

    pub fn auxv(&self) -> &[[usize; 2]] {
        self.auxv
    }

    pub fn aux(&self, key: usize) -> Option<usize> {
        self.auxv.iter().find(|e| e[0] == key).map(|e| e[1])
    }

    /// Changes an auxv entry in place (PT_INTERP mode keeps the kernel's stack).
    pub fn set_aux(&mut self, key: usize, val: usize) {
        if let Some(e) = self.auxv.iter_mut().find(|e| e[0] == key) {
            e[1] = val;
        }
    }
}
