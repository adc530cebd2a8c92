//! Reading and writing the application's memory without trusting its
//! pointers: process_vm_readv/writev on our own process fail with EFAULT
//! where a plain access would kill the process with SIGSEGV.

use core::sync::atomic::{AtomicI32, Ordering};

use syscalls::Sysno;

use crate::sys;

static PID: AtomicI32 = AtomicI32::new(0);

/// Records our pid (at startup, and in every fork child).
pub fn set_pid(pid: i32) {
    PID.store(pid, Ordering::Relaxed);
}

fn transfer(nr: Sysno, local: usize, remote: usize, len: usize) -> bool {
    if len == 0 {
        return true;
    }
    let l = [local, len];
    let r = [remote, len];
    // SAFETY: the local iovec describes preld memory the caller owns for
    // `len` bytes; the remote one is checked by the kernel.
    let ret = unsafe {
        sys::raw(nr as usize, [PID.load(Ordering::Relaxed) as usize, l.as_ptr() as usize, 1, r.as_ptr() as usize, 1, 0])
    };
    ret == Ok(len)
}

/// Fills `buf` from application address `addr`; false if any of it is unreadable.
pub fn read(addr: usize, buf: &mut [u8]) -> bool {
    transfer(Sysno::process_vm_readv, buf.as_mut_ptr() as usize, addr, buf.len())
}

/// Writes `buf` at application address `addr`; false if it is not writable.
pub fn write(addr: usize, buf: &[u8]) -> bool {
    transfer(Sysno::process_vm_writev, buf.as_ptr() as usize, addr, buf.len())
}

pub fn read_words(addr: usize, w: &mut [usize]) -> bool {
    let mut b = [0u8; 64];
    let n = w.len() * 8;
    if n > b.len() || !read(addr, &mut b[..n]) {
        return false;
    }
    for (i, v) in w.iter_mut().enumerate() {
        *v = usize::from_ne_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    }
    true
}

pub fn write_words(addr: usize, w: &[usize]) -> bool {
    let mut b = [0u8; 64];
    let n = w.len() * 8;
    if n > b.len() {
        return false;
    }
    for (i, v) in w.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_ne_bytes());
    }
    write(addr, &b[..n])
}

/// Reads a NUL-terminated string at `addr` into `buf` (without the NUL).
/// None if unreadable or longer than `buf`.
pub fn read_cstr(addr: usize, buf: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    while n < buf.len() {
        // Page by page: a string may end just before an unmapped page.
        let a = addr.checked_add(n)?;
        let chunk = (4096 - a % 4096).min(buf.len() - n);
        if !read(a, &mut buf[n..n + chunk]) {
            return None;
        }
        if let Some(z) = buf[n..n + chunk].iter().position(|&b| b == 0) {
            return Some(n + z);
        }
        n += chunk;
    }
    None
}
