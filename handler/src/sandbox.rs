//! The kernel side of a capability session: no_new_privs and a Landlock
//! ruleset that leaves the process no file-system authority at all but
//! reading and executing ld-preld itself (to re-enter it at exec), no TCP
//! unless the session grants the network, and no signals or abstract Unix
//! sockets beyond its own Landlock domain. Whatever the program does,
//! handler or not, it only has the fds the capability server gave it.

use syscalls::Sysno;

use crate::sys::{self, CPath};

const LANDLOCK_CREATE_RULESET_VERSION: usize = 1;
const LANDLOCK_RULE_PATH_BENEATH: usize = 1;
const PR_SET_NO_NEW_PRIVS: usize = 38;
const O_PATH: usize = 0o10000000;

/// Every file-system access right of Landlock ABI `abi`.
fn fs_rights(abi: usize) -> u64 {
    let mut r = (1u64 << 13) - 1; // EXECUTE .. MAKE_SYM (ABI 1)
    if abi >= 2 {
        r |= 1 << 13; // REFER
    }
    if abi >= 3 {
        r |= 1 << 14; // TRUNCATE
    }
    if abi >= 5 {
        r |= 1 << 15; // IOCTL_DEV
    }
    r
}

const EXECUTE: u64 = 1 << 0;
const READ_FILE: u64 = 1 << 2;
const NET_BIND_TCP: u64 = 1 << 0;
const NET_CONNECT_TCP: u64 = 1 << 1;
const SCOPE_ABSTRACT_UNIX: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneath {
    allowed_access: u64,
    parent_fd: i32,
}

/// What the session enforces, for `preld pola -v` and the closing note.
pub struct Enforced {
    pub abi: usize,
    pub net_restricted: bool,
    pub scoped: bool,
}

/// Restricts the calling process for good. `loader` is ld-preld's path
/// (without NUL). With `net`, TCP stays allowed.
pub fn enter(loader: &[u8], net: bool) -> Result<Enforced, (&'static str, i32)> {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns the ABI.
    let abi = unsafe { sys::raw(Sysno::landlock_create_ruleset as usize, [0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0, 0, 0]) }
        .map_err(|e| ("Landlock is not available in this kernel", e))?;
    let attr = RulesetAttr {
        handled_access_fs: fs_rights(abi),
        handled_access_net: if abi >= 4 && !net { NET_BIND_TCP | NET_CONNECT_TCP } else { 0 },
        scoped: if abi >= 6 { SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL } else { 0 },
    };
    // Older ABIs reject the fields they do not know: pass only what they have.
    let size = if abi >= 6 { 24 } else if abi >= 4 { 16 } else { 8 };
    // SAFETY: a valid ruleset attribute of `size` bytes.
    let ruleset = unsafe {
        sys::raw(Sysno::landlock_create_ruleset as usize, [&attr as *const RulesetAttr as usize, size, 0, 0, 0, 0])
    }
    .map_err(|e| ("cannot create the Landlock ruleset", e))? as i32;
    let ld = sys::open(&CPath::new(loader), O_PATH | sys::O_CLOEXEC).map_err(|e| ("cannot open ld-preld", e))?;
    let rule = PathBeneath { allowed_access: EXECUTE | READ_FILE, parent_fd: ld };
    // SAFETY: a valid path-beneath rule for an fd we own.
    let r = unsafe {
        sys::raw(Sysno::landlock_add_rule as usize, [ruleset as usize, LANDLOCK_RULE_PATH_BENEATH, &rule as *const PathBeneath as usize, 0, 0, 0])
    };
    sys::close(ld);
    r.map_err(|e| ("cannot add the Landlock rule for ld-preld", e))?;
    // SAFETY: prctl with integer arguments.
    unsafe { sys::raw(Sysno::prctl as usize, [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0]) }
        .map_err(|e| ("cannot set no_new_privs", e))?;
    // SAFETY: landlock_restrict_self on the ruleset fd we created.
    let r = unsafe { sys::raw(Sysno::landlock_restrict_self as usize, [ruleset as usize, 0, 0, 0, 0, 0]) };
    sys::close(ruleset);
    r.map_err(|e| ("cannot enforce the Landlock ruleset", e))?;
    Ok(Enforced { abi, net_restricted: attr.handled_access_net != 0, scoped: attr.scoped != 0 })
}
