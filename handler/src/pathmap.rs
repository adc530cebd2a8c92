//! `--map VIRT=HOST`: the program sees HOST's content at VIRT (the pureglibc
//! proposal's /etc/passwd redirection, for every path-taking call). A map
//! applies to VIRT itself and everything below it; only absolute paths are
//! mapped (a cwd inside VIRT was entered through a mapped chdir, so relative
//! paths already resolve under HOST). The trace shows the call as made.
//! The same rewriting makes /proc/self/exe the program's path in launcher
//! mode (where the kernel's is ld-preld).

use alloc::vec::Vec;
use syscalls::Sysno;

use crate::abi::AT_SYMLINK_NOFOLLOW;
use crate::config;
use crate::call::Call;
use crate::errno::ENAMETOOLONG;
use crate::thread::PATH_MAX;
use crate::usermem;

/// The argument positions that are paths, for each call that takes some.
fn path_args(nr: usize) -> &'static [usize] {
    use Sysno::*;
    let Some(n) = Sysno::new(nr) else { return &[] };
    match n {
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

/// Whether call `nr` with `args` follows a symlink that ends its path.
fn follows_last_link(nr: usize, args: &[usize; 6]) -> bool {
    match Sysno::new(nr) {
        Some(Sysno::lstat | Sysno::lgetxattr | Sysno::llistxattr | Sysno::lsetxattr | Sysno::lremovexattr | Sysno::lchown) => false,
        Some(Sysno::newfstatat) => args[3] & AT_SYMLINK_NOFOLLOW == 0,
        Some(Sysno::statx) => args[2] & AT_SYMLINK_NOFOLLOW == 0,
        _ => true,
    }
}

/// Whether call `nr` takes a path.
pub fn takes_paths(nr: usize) -> bool {
    !path_args(nr).is_empty()
}

/// Maps an absolute path by the configuration; None when no map applies.
/// /proc/self/exe names the program, not ld-preld, when ld-preld was
/// started as a launcher.
pub fn map_bytes(path: &[u8]) -> Option<Vec<u8>> {
    let cfg = config::get();
    if cfg.virtual_exe && is_self_exe(path) {
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

/// How much of a path is read to tell a /proc/self/exe name: the longest
/// plain one, `/proc/thread-self/exe` and its NUL, with room for extra `/`
/// and `.` names.
const SELF_EXE_MAX: usize = 64;

/// How many leading bytes of a path decide whether a map could apply: a
/// map's VIRT and the byte after it, or a /proc/self/exe name and its NUL.
fn decisive_len() -> usize {
    let cfg = config::get();
    let exe = if cfg.virtual_exe { SELF_EXE_MAX } else { 0 };
    cfg.maps.iter().map(|(v, _)| v.len() + 1).fold(exe, usize::max).min(PATH_MAX)
}

/// Whether a path whose first bytes are `head` (no NUL among them, so the
/// path is longer) may still be mapped: some VIRT is a directory prefix of
/// it. A /proc/self/exe name is shorter than `head` and cannot match.
fn may_match_longer(head: &[u8]) -> bool {
    config::get().maps.iter().any(|(virt, _)| {
        virt.as_slice() == b"/" && head.first() == Some(&b'/')
            || head.strip_prefix(virt.as_slice()).is_some_and(|r| r.first() == Some(&b'/'))
    })
}

/// Reads at most `buf.len()` bytes of the string at `addr`, stopping at its
/// NUL: page by page, so a string that ends before an unmapped page is
/// read. Returns the bytes read and whether the NUL was among them; None
/// if the memory is not readable.
fn read_head(addr: usize, buf: &mut [u8]) -> Option<(usize, bool)> {
    let mut n = 0;
    while n < buf.len() {
        let a = addr.checked_add(n)?;
        let chunk = (4096 - a % 4096).min(buf.len() - n);
        if !usermem::read(a, &mut buf[n..n + chunk]) {
            return None;
        }
        if let Some(z) = buf[n..n + chunk].iter().position(|&b| b == 0) {
            return Some((n + z, true));
        }
        n += chunk;
    }
    Some((n, false))
}

/// Rewrites the call's path arguments in place (into the thread's path
/// buffers). An unreadable path is left for the kernel to report.
///
/// Most paths are relative or match nothing, and every path call of the
/// program comes here (launcher mode always virtualizes /proc/self/exe), so
/// only the decisive head of each path is read first, into a small buffer;
/// the whole path is read only when a map may apply to it.
pub fn rewrite(c: &mut Call<'_>) -> Result<(), i32> {
    let which = path_args(c.nr);
    if which.is_empty() {
        return Ok(());
    }
    let need = decisive_len();
    let bufs = c.t.path_bufs();
    for (k, &i) in which.iter().enumerate() {
        let mut head = [0u8; 128];
        let short = &mut head[..need.min(128)];
        let path: &[u8] = match read_head(c.args[i], short) {
            None => continue,
            // Only absolute paths are mapped.
            Some((n, _)) if n == 0 || short[0] != b'/' => continue,
            Some((n, true)) => &short[..n],
            Some((n, false)) => {
                if need <= 128 && !may_match_longer(&short[..n]) {
                    continue;
                }
                // The whole path, read into the buffer it may be replaced by.
                let Some(n) = usermem::read_cstr(c.args[i], &mut bufs[k]) else { continue };
                &bufs[k][..n]
            }
        };
        // The exe link itself, not what it names, for a call that does not
        // follow a final symlink: lstat sees a link, as natively (realpath
        // then reads it, and readlink answers with the program).
        if !follows_last_link(c.nr, &c.args) && config::get().virtual_exe && is_self_exe(path) {
            continue;
        }
        let Some(mapped) = map_bytes(path) else { continue };
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

/// `path` with its empty and `.` names taken out (`//proc/./self/exe` is
/// `/proc/self/exe`, as the kernel walks it), when it is absolute and has
/// any; a last `.` or `/` stays (they ask for a directory). None: nothing
/// to take out.
pub fn collapsed(path: &[u8]) -> Option<Vec<u8>> {
    let has = |pat: &[u8]| path.windows(pat.len()).any(|w| w == pat);
    if path.first() != Some(&b'/') || !(has(b"//") || has(b"/./")) {
        return None;
    }
    let mut out = Vec::with_capacity(path.len());
    for name in path.split(|&b| b == b'/').filter(|n| !n.is_empty() && *n != b".") {
        out.push(b'/');
        out.extend_from_slice(name);
    }
    if path.ends_with(b"/.") {
        out.extend_from_slice(b"/.");
    } else if path.ends_with(b"/") || out.is_empty() {
        out.push(b'/');
    }
    Some(out)
}

/// /proc/self/exe, /proc/thread-self/exe, /proc/<our pid>/exe or a
/// thread's /proc/self/task/<tid>/exe, however spelt with extra `/` and
/// `.` names.
pub fn is_self_exe(name: &[u8]) -> bool {
    if let Some(c) = collapsed(name) {
        return is_self_exe(&c);
    }
    own_proc_entry(name) == Some(b"exe")
}

/// What follows `/proc/self/` (or thread-self, this process's pid, or
/// `task/<tid>/` below self or the pid, a thread of this process's, whose
/// exe, fd, cwd and root are the process's) in `raw`.
pub fn own_proc_entry(raw: &[u8]) -> Option<&[u8]> {
    let r = raw.strip_prefix(b"/proc/")?;
    let slash = r.iter().position(|&b| b == b'/')?;
    let (who, r) = (&r[..slash], &r[slash + 1..]);
    if who == b"thread-self" {
        return Some(r);
    }
    let mut pid = [0u8; 20];
    if who != b"self" && who != crate::sys::decimal(crate::sys::getpid() as u64, &mut pid) {
        return None;
    }
    let Some(t) = r.strip_prefix(b"task/") else { return Some(r) };
    let end = t.iter().position(|&b| b == b'/').unwrap_or(t.len());
    let tid = &t[..end];
    if tid.is_empty() || tid.len() > 9 || !tid.iter().all(u8::is_ascii_digit) || end == t.len() {
        return Some(r);
    }
    // (Natively the kernel's link, as /proc/self's; preld's names them
    // otherwise: ld-preld for exe, preld's fds in fd/.) One of this
    // process's threads: a signal 0 reaches it in this thread group.
    let tid = tid.iter().fold(0i32, |n, &d| n * 10 + (d - b'0') as i32);
    crate::sys::tgkill(crate::sys::getpid(), tid, 0).ok()?;
    Some(&t[end + 1..])
}

#[cfg(test)]
mod tests {
    use super::collapsed;

    #[test]
    fn collapsed_takes_out_empty_and_dot_names_only() {
        let c = |p: &str| collapsed(p.as_bytes()).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(c("/proc/self/exe"), None);
        assert_eq!(c("proc//self"), None, "relative");
        assert_eq!(c("//proc/self/exe").as_deref(), Some("/proc/self/exe"));
        assert_eq!(c("/./proc/./self//exe").as_deref(), Some("/proc/self/exe"));
        assert_eq!(c("/proc/self/fd//").as_deref(), Some("/proc/self/fd/"));
        assert_eq!(c("/proc//self/fd/.").as_deref(), Some("/proc/self/fd/."));
        assert_eq!(c("//").as_deref(), Some("/"));
        assert_eq!(c("/./").as_deref(), Some("/"));
        assert_eq!(c("/usr//../proc").as_deref(), Some("/usr/../proc"), "`..` stays");
    }
}
