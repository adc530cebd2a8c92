//! `--map VIRT=HOST`: the program sees HOST's content at VIRT (the pureglibc
//! proposal's /etc/passwd redirection, for every path-taking call). A map
//! applies to VIRT itself and everything below it; only absolute paths are
//! mapped (a cwd inside VIRT was entered through a mapped chdir, so relative
//! paths already resolve under HOST). The trace shows the call as made.
//! The same rewriting makes /proc/self/exe the program's path in launcher
//! mode (where the kernel's is ld-preld).

use alloc::vec::Vec;
use syscalls::Sysno;

use crate::config;
use crate::dispatch::Call;
use crate::thread::PATH_MAX;
use crate::usermem;

const ENAMETOOLONG: i32 = 36;

/// The argument positions that are paths, for each call that takes some.
fn path_args(nr: usize) -> &'static [usize] {
    use Sysno::*;
    let Ok(n) = u32::try_from(nr) else { return &[] };
    match Sysno::from(n) {
        open | creat | stat | lstat | access | readlink | chdir | truncate | mkdir | rmdir | unlink | chmod
        | chown | lchown | utime | utimes | mknod | statfs | getxattr | lgetxattr | setxattr | lsetxattr
        | listxattr | llistxattr | removexattr | lremovexattr | chroot | uselib | acct | swapon | swapoff
        | umount2 => &[0],
        openat | openat2 | newfstatat | statx | faccessat | faccessat2 | readlinkat | mkdirat | unlinkat
        | fchmodat | fchownat | futimesat | utimensat | mknodat | inotify_add_watch | name_to_handle_at
        | open_tree | mount_setattr => &[1],
        rename | link | pivot_root | mount => &[0, 1],
        renameat | renameat2 | linkat | move_mount => &[1, 3],
        symlink => &[1],
        symlinkat => &[2],
        _ => &[],
    }
}

/// Maps an absolute path by the configuration; None when no map applies.
/// /proc/self/exe names the program, not ld-preld, when ld-preld was
/// started as a launcher.
pub fn map_bytes(path: &[u8]) -> Option<Vec<u8>> {
    let cfg = config::get();
    if cfg.virtual_exe && crate::exec::is_self_exe(path) {
        return Some(cfg.program.clone());
    }
    for (virt, host) in &cfg.maps {
        let rest = if virt.as_slice() == b"/" {
            path.strip_prefix(b"/")
        } else {
            path.strip_prefix(virt.as_slice()).filter(|r| r.is_empty() || r.starts_with(b"/"))
        };
        if let Some(rest) = rest {
            let mut out = Vec::with_capacity(host.len() + rest.len());
            out.extend_from_slice(host);
            if virt.as_slice() == b"/" && !rest.is_empty() && host.as_slice() != b"/" {
                out.push(b'/');
            }
            out.extend_from_slice(rest);
            return Some(out);
        }
    }
    None
}

/// Rewrites the call's path arguments in place (into the thread's path
/// buffers). An unreadable path is left for the kernel to report.
pub fn rewrite(c: &mut Call<'_>) -> Result<(), i32> {
    let which = path_args(c.nr);
    if which.is_empty() {
        return Ok(());
    }
    let bufs = c.t.path_bufs();
    for (k, &i) in which.iter().enumerate() {
        let mut name = [0u8; PATH_MAX];
        let Some(n) = usermem::read_cstr(c.args[i], &mut name) else { continue };
        let Some(mapped) = map_bytes(&name[..n]) else { continue };
        if mapped.len() + 1 > PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let buf = &mut bufs[k];
        buf[..mapped.len()].copy_from_slice(&mapped);
        buf[mapped.len()] = 0;
        c.args[i] = buf.as_ptr() as usize;
    }
    Ok(())
}
