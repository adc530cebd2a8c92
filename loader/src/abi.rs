//! The kernel's constants the loader uses: the auxiliary vector's entry
//! types, from linux-raw-sys (linux/auxvec.h), as the `usize` words of the
//! initial stack.

use linux_raw_sys::auxvec;

pub const AT_NULL: usize = auxvec::AT_NULL as usize;
pub const AT_PHDR: usize = auxvec::AT_PHDR as usize;
pub const AT_PHENT: usize = auxvec::AT_PHENT as usize;
pub const AT_PHNUM: usize = auxvec::AT_PHNUM as usize;
pub const AT_BASE: usize = auxvec::AT_BASE as usize;
pub const AT_ENTRY: usize = auxvec::AT_ENTRY as usize;
pub const AT_EXECFN: usize = auxvec::AT_EXECFN as usize;
pub const AT_SYSINFO_EHDR: usize = auxvec::AT_SYSINFO_EHDR as usize;
