//! `preld pola`: run a program in a capability session (Plash style). The
//! launcher builds the namespace from the grants, starts the program under
//! `ld-preld --rpc-fd N`, and serves the session's requests (serve.rs) until
//! the program and everything it started are gone.
//!
//! The session runs confined by the kernel (confine.rs: namespaces, no
//! capabilities; ld-preld adds Landlock and seccomp), on a terminal of its
//! own when it was given one (tty.rs).
//!
//! Exit: the session's init reports the program's wait status on a pipe in
//! the poll set, and the launcher exits with it, or dies of its signal.
//! Descendants may outlive the program (`sh -c 'daemon &'`): if connections
//! are still open when the program has exited, the launcher forks, the
//! parent exits with the program's status at once (no hang, as natively),
//! and the child goes on serving in the background until the last
//! connection closes. A descendant that keeps a connection for ever keeps
//! that background server for ever, and nothing else.
//!
//! Signals meant for the program that reach the launcher (SIGINT, SIGQUIT,
//! SIGTERM, SIGHUP, SIGTSTP) are passed on to it through the init: the
//! server outlives the program's reaction to them. Those ignored when preld
//! started (nohup) stay ignored.
//!
//! `--ask` (ask.rs, serve/powerbox.rs) asks the user on the launcher's own
//! terminal before a path outside every grant is used, and grants it live;
//! `--learn FILE` writes what the session used as a profile when it ends,
//! `--profile FILE` grants what a profile lists (profile.rs,
//! docs/profiles.md).

pub mod ask;
mod cleaner;
pub mod confine;
mod crossing;
pub mod tty;

// The server's core is the library's (lib.rs): the same files the tests
// drive in-process.
pub use preld::pola::{ns, profile, serve, sys};

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};

use clap::Args;

use ns::{GrantSpec, Mode, Namespace};

/// Run a program with only the authority it is granted (a capability session).
#[derive(Args, Debug)]
#[command(long_about = long_about())]
pub struct PolaArgs {
    /// Grant PATH read-only (a directory grants its files, not the device
    /// nodes in it: name a device to grant it; a symlink grants what it
    /// names, at PATH, as --rw and --exec do)
    #[arg(long = "ro", value_name = "PATH")]
    pub ro: Vec<PathBuf>,
    /// Grant PATH read-write (programs in it may run)
    #[arg(long = "rw", value_name = "PATH")]
    pub rw: Vec<PathBuf>,
    /// Grant PATH read-only, programs in it may run
    #[arg(long = "exec", value_name = "PATH")]
    pub exec: Vec<PathBuf>,
    /// Show host path HOST at virtual path VIRT (default ro)
    #[arg(long = "map", value_name = "VIRT=HOST[:ro|rw|exec]")]
    pub map: Vec<OsString>,
    /// The program's initial directory (a virtual path) [default: the
    /// current directory if it is in the namespace, else /]. A DIR in no
    /// grant is an empty directory of the namespace (it grants nothing):
    /// relative names of grants below it work
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Give the session the host's network (without it: a network namespace
    /// of its own, loopback only)
    #[arg(long)]
    pub net: bool,
    /// Grant a working base and a private, empty /tmp and /dev/shm: /usr /bin
    /// /sbin /lib /lib64 (exec); read-only the system configuration everyday programs read
    /// (users and groups, name resolution, time zone, ssl certificates,
    /// ld.so, alternatives, mime types... `preld pola --help` lists it), but
    /// no secret and nothing the user cannot read; /dev/null /dev/zero
    /// /dev/full /dev/random /dev/urandom /dev/tty. Those that are symlinks whose target is granted
    /// (merged /usr's /bin -> usr/bin, /etc/localtime) are granted as the
    /// symlinks. The current directory is not granted: add `--ro .` (or
    /// --rw .)
    #[arg(short = 'B')]
    pub base: bool,
    /// Let the inherited fd N cross into the session (only 0, 1 and 2 do
    /// otherwise)
    #[arg(long = "fd", value_name = "N")]
    pub fds: Vec<i32>,
    /// Ask on the terminal before the program uses a path outside every
    /// grant that exists on the host: read-only, read-write or deny, this
    /// time or for the session, or deny all from now on. The questions are
    /// asked on preld's own terminal, which the program cannot read (it has
    /// a pty of its own); a denied path does not exist for the program
    /// (ENOENT), as without --ask. Needs a terminal
    #[arg(long)]
    pub ask: bool,
    /// Write the grants the run used to profile FILE when the session ends
    /// (each host path reached outside -B's base with the least mode it
    /// needed: ro to read or list, exec to run, rw to write; rw of a
    /// directory to create or remove names in it), for --profile
    #[arg(long, value_name = "FILE")]
    pub learn: Option<PathBuf>,
    /// Grant what profile FILE lists (TOML, docs/profiles.md: version = 1,
    /// base, ro, exec, rw, [[map]]); may be repeated and combined with the
    /// other grants
    #[arg(long = "profile", value_name = "FILE")]
    pub profiles: Vec<PathBuf>,
    /// List every grant on stderr
    #[arg(short = 'v')]
    pub verbose: bool,
    /// The program (searched in PATH when it has no slash) and its arguments
    #[arg(value_name = "PROG", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

impl PolaArgs {
    /// Whether this session learns what it uses (`--learn`): then every
    /// path the program names must reach the server, none may be resolved
    /// inside the program's process.
    pub fn learning(&self) -> bool {
        self.learn.is_some()
    }
}

const LONG_ABOUT: &str = "Run a program with only the authority it is granted (a capability session).

The program sees a namespace made of the grants only: other paths do not exist
(ENOENT), writes to read-only grants fail with EROFS, and the directories above
the grants hold just the granted names. Without -B nothing is granted but the
program itself and what it needs to start (its #! interpreters, ld.so and
libraries, read-only and executable); -v lists the grants. The kernel enforces
it, also for code that never goes through preld's handler: the program runs in
namespaces of its own (user, mount, PID, IPC, UTS, cgroup, and network unless
--net) whose file tree holds nothing of the host but ld-preld, with no
capabilities (also when started by root), under Landlock with no file-system
access of its own, and under a seccomp filter (docs/DESIGN.md lists it). Only
fds 0, 1 and 2 cross into the session, and those named with --fd; without --net
a socket of the host's network among them must be a connected or listening TCP
socket (any other would reach the network: refused). A Unix socket among them
takes no fds from the host (SCM_RIGHTS off while the session lives; one with
fds queued is refused), and without --net one unnamed is given a name of the
kernel's first (autobind), so the session binds no abstract name of the host's.
The session's processes may trace each other (sanitizers, strace -p), nothing
outside it; PTRACE_TRACEME is refused.

/proc is the session's own, read-only: its processes only (the session's init is
pid 1, the program pid 2); /proc/self/exe, cwd, root and fd/N name the session's
paths. /dev/pts and /dev/ptmx are the session's own ptys (openpty, script work),
none of the user's other terminals. Unix sockets the program binds in read-write grants (or -B's /tmp) work
between the session's processes: stream, datagram and seqpacket.

--net gives the host's network: TCP connect and bind (Landlock), UDP, and
abstract Unix sockets of the session only. Without it the session has its own
network namespace with only a loopback interface, which nothing outside reaches
(TCP there too, unless an fd that crosses, 0-2 or --fd, is a socket of the
host's network: then Landlock refuses TCP bind and connect).

--ask makes preld a powerbox: when the program names a path outside every grant
that exists on the host, preld asks on its own terminal (never one the program
can read; the program's output waits meanwhile):
  preld pola: PROG wants to read \"PATH\". r read-only, w read-write, d deny: this
  time; capitals R W D: for the session; N: deny all from now on [d]:
Control characters and non-ASCII bytes of PATH are shown as \\xNN. An allowed path
is granted alone (a file, or a directory with everything in it), for this one
request or for the rest of the session. A denied one does not exist for the
program (ENOENT), as without --ask.

--learn FILE writes what the run used as a profile (TOML) when it ends; --profile
FILE grants what a profile lists, so `preld pola -B --ask --learn p.toml -- PROG`
then `preld pola --profile p.toml -- PROG` runs PROG again with no questions and
no more authority than it used. docs/profiles.md describes the format.";

/// The long help: LONG_ABOUT and what -B grants.
fn long_about() -> String {
    let mut s = String::from(LONG_ABOUT);
    s.push_str("\n\n-B grants (those that exist and the user can read):\n");
    for (mode, name) in [(Mode::Exec, "read and execute"), (Mode::Ro, "read-only")] {
        let paths: Vec<&str> = BASE.iter().filter(|(_, m)| *m == mode).map(|(p, _)| *p).collect();
        s.push_str(&format!("  {name}: {}\n", paths.join(" ")));
    }
    s.push_str("  read-write: a private, empty /tmp and /dev/shm\nNothing else of /etc: no shadow, gshadow, sudoers, ssh or ssl private keys.\n");
    s.push_str("Those that are symlinks (merged /usr's /bin -> usr/bin, /etc/localtime) are granted as the symlinks\nwhere what they name is granted, else as what they name. A symlink granted with --ro, --rw or\n--exec grants what it names, at its own name (readlink of it: EINVAL).");
    s
}

/// Paths `-B` grants: (path, mode). Missing ones are skipped, and so are
/// those the user cannot read. /etc is granted file by file: the
/// configuration everyday programs read, never its secrets (shadow,
/// gshadow, sudoers, ssh host keys, ssl private keys: none is listed, and
/// a test checks that none of them can be reached).
const BASE: &[(&str, Mode)] = &[
    ("/usr", Mode::Exec),
    ("/bin", Mode::Exec),
    // Merged /usr's /usr/bin holds links into /sbin (pidof -> /sbin/killall5).
    ("/sbin", Mode::Exec),
    ("/lib", Mode::Exec),
    ("/lib64", Mode::Exec),
    // Users and groups, as getpwnam/getgrnam (and id, ls -l, tar) read them.
    ("/etc/passwd", Mode::Ro),
    ("/etc/group", Mode::Ro),
    ("/etc/nsswitch.conf", Mode::Ro),
    // Names, addresses and services.
    ("/etc/hosts", Mode::Ro),
    ("/etc/host.conf", Mode::Ro),
    ("/etc/resolv.conf", Mode::Ro),
    ("/etc/gai.conf", Mode::Ro),
    ("/etc/hostname", Mode::Ro),
    ("/etc/networks", Mode::Ro),
    ("/etc/protocols", Mode::Ro),
    ("/etc/services", Mode::Ro),
    ("/etc/rpc", Mode::Ro),
    ("/etc/ethertypes", Mode::Ro),
    // Time zone (zoneinfo itself is under /usr).
    ("/etc/localtime", Mode::Ro),
    ("/etc/timezone", Mode::Ro),
    // TLS: the certificate store and openssl's configuration.
    ("/etc/ssl/certs", Mode::Ro),
    ("/etc/ssl/openssl.cnf", Mode::Ro),
    ("/etc/ca-certificates.conf", Mode::Ro),
    // The dynamic linker and Debian's alternatives (/usr/bin/cc, editor...).
    ("/etc/ld.so.cache", Mode::Ro),
    ("/etc/ld.so.conf", Mode::Ro),
    ("/etc/ld.so.conf.d", Mode::Ro),
    ("/etc/alternatives", Mode::Ro),
    // What the system is, and what common tools read at start.
    ("/etc/os-release", Mode::Ro),
    // The mount table as getmntent reads it: a link to /proc/mounts, the
    // session's.
    ("/etc/mtab", Mode::Ro),
    ("/etc/debian_version", Mode::Ro),
    ("/etc/mime.types", Mode::Ro),
    ("/etc/mailcap", Mode::Ro),
    ("/etc/magic", Mode::Ro),
    ("/etc/locale.alias", Mode::Ro),
    ("/etc/shells", Mode::Ro),
    ("/etc/inputrc", Mode::Ro),
    ("/etc/terminfo", Mode::Ro),
    ("/etc/bash.bashrc", Mode::Ro),
    ("/etc/profile", Mode::Ro),
    // What login and interactive shells source besides: /etc/profile's
    // profile.d/*.sh, bash-completion's bash_completion.d (git's prompt).
    ("/etc/profile.d", Mode::Ro),
    ("/etc/bash_completion", Mode::Ro),
    ("/etc/bash_completion.d", Mode::Ro),
    ("/etc/gitconfig", Mode::Ro),
    ("/etc/perl", Mode::Ro),
    ("/etc/python3", Mode::Ro),
    ("/etc/python3.11", Mode::Ro),
    ("/etc/vim", Mode::Ro),
    // Manual pages: man-db's configuration, groff's local macros (troff
    // warns of a missing man.local) and the paper size.
    ("/etc/manpath.config", Mode::Ro),
    ("/etc/groff", Mode::Ro),
    ("/etc/papersize", Mode::Ro),
    // What less, nano, wget, GnuTLS and OpenLDAP's clients (curl, gpg)
    // read at start.
    ("/etc/sysless", Mode::Ro),
    ("/etc/syslesskey", Mode::Ro),
    ("/etc/nanorc", Mode::Ro),
    ("/etc/wgetrc", Mode::Ro),
    ("/etc/gnutls/config", Mode::Ro),
    ("/etc/ldap/ldap.conf", Mode::Ro),
    // Extended attributes cp -a, mv and tar leave out when they copy
    // them (libattr reads it once a file has any).
    ("/etc/xattr.conf", Mode::Ro),
    // Fonts: fontconfig's configuration (without it no font is found:
    // graphviz, ImageMagick, matplotlib) and its cache (without it every
    // program scans every font and says no cache directory is writable).
    ("/etc/fonts", Mode::Ro),
    ("/var/cache/fontconfig", Mode::Ro),
    // Java and Maven: Debian keeps their configuration in /etc, linked
    // from /usr/lib/jvm/*/conf, lib/jvm.cfg and /usr/share/maven/conf
    // (javac and java stop with `Error loading java.security file`).
    ("/etc/java-17-openjdk", Mode::Ro),
    ("/etc/java-21-openjdk", Mode::Ro),
    ("/etc/maven", Mode::Ro),
    // man-db's index of the manual pages (whatis, apropos, man -k: without
    // it `nothing appropriate`).
    ("/var/cache/man/index.db", Mode::Ro),
    ("/dev/null", Mode::Ro),
    ("/dev/zero", Mode::Ro),
    // /dev/random: Java's NativePRNG opens it beside /dev/urandom; /dev/full:
    // test suites check how a program takes ENOSPC (bubblewrap's --dev has
    // both).
    ("/dev/full", Mode::Ro),
    ("/dev/random", Mode::Ro),
    ("/dev/urandom", Mode::Ro),
    ("/dev/tty", Mode::Ro),
];

/// Whether the user (this process's real ids) may read `p`: -B grants
/// nothing it could not read outside the session.
fn readable(p: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else { return false };
    // SAFETY: access(2) on a NUL-terminated path, no pointer kept.
    unsafe { libc::access(c.as_ptr(), libc::R_OK) == 0 }
}

const EXIT_CANNOT_RUN: u8 = 125;
/// A command line that cannot be used (clap's status for its own errors).
const EXIT_USAGE: u8 = 2;

/// Why a session did not start.
enum Failure {
    /// The command line cannot be used (a malformed profile, --ask without
    /// a terminal): status 2.
    Usage(String),
    /// Anything else: status 125.
    Cannot(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure::Cannot(s)
    }
}

pub fn main(args: PolaArgs) -> ExitCode {
    crate::dispositions::reset_sigchld();
    match launch(args) {
        Ok(code) => code,
        Err(Failure::Cannot(why)) => {
            eprintln!("preld pola: {why}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
        Err(Failure::Usage(why)) => {
            eprintln!("preld pola: {why}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// An absolute, lexically normalized version of `p` (relative to the
/// physical current directory).
fn absolute(p: &Path) -> Result<Vec<u8>, String> {
    let b = p.as_os_str().as_bytes();
    if b.first() == Some(&b'/') {
        return Ok(ns::normalize(b));
    }
    let cwd = std::env::current_dir().map_err(|e| format!("cannot get the current directory: {e}"))?;
    Ok(ns::normalize(&ns::join(cwd.as_os_str().as_bytes(), b)))
}

/// A grant of `path` at its own (absolute) name.
fn grant(path: &Path, mode: Mode) -> Result<GrantSpec, String> {
    let host = std::fs::canonicalize(path).map_err(|e| format!("{}: {}", path.display(), crate::reason(&e)))?;
    Ok(GrantSpec { vpath: absolute(path)?, host, mode, link: false })
}

/// -B's grant of `path`: a symlink (merged /usr's /bin -> usr/bin, its
/// /etc/localtime) as the link itself, whose target then resolves in the
/// namespace (`links_to_grants` keeps it so only where the target is
/// granted); anything else at its own name.
/// `dirs`: the directories' resolutions so far (`canonicalize`'s, None
/// where it failed).
fn base_grant(path: &Path, mode: Mode, dirs: &mut HashMap<PathBuf, Option<PathBuf>>) -> Result<GrantSpec, String> {
    // A name that is no symlink (readlink: EINVAL) in a directory that
    // resolves is that directory's resolution and the name.
    if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
        let resolved = dirs.entry(dir.to_path_buf()).or_insert_with(|| std::fs::canonicalize(dir).ok());
        if let (Some(d), Err(e)) = (resolved, std::fs::read_link(path)) {
            if e.raw_os_error() == Some(libc::EINVAL) {
                return Ok(GrantSpec { vpath: absolute(path)?, host: d.join(name), mode, link: false });
            }
        }
    }
    let g = grant(path, mode)?;
    // (Only a name that canonicalizes to another may be a link: no look
    // at the others.)
    if g.host.as_os_str().as_bytes() == g.vpath.as_slice() || !std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Ok(g);
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else { return Ok(g) };
    let dir = std::fs::canonicalize(dir).map_err(|e| format!("{}: {}", dir.display(), crate::reason(&e)))?;
    Ok(GrantSpec { host: dir.join(name), link: true, ..g })
}

/// Where a symlink at virtual path `link` whose target is `t` leads in
/// the namespace, lexically: the link's virtual directory, then its
/// target. None where that is not exact (a `..` after a name of the
/// target: that name may be a symlink) or the target is empty.
fn link_target(link: &[u8], t: &[u8]) -> Option<Vec<u8>> {
    if t.is_empty() {
        return None;
    }
    let mut named = false;
    for c in t.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
        if c == b".." && named {
            return None;
        }
        named |= c != b"..";
    }
    Some(if t.first() == Some(&b'/') { ns::normalize(t) } else { ns::normalize(&ns::join(ns::parent(link), t)) })
}

/// -B's link grants stay links only where what the link names is granted
/// (with the link's mode at least, as the same host object) and no other
/// grant lies below the link; the others are granted as what they name,
/// as before (a dangling link would lose what it named). Returns the
/// links the process may follow itself (`--vpath l:`, `followed_links`):
/// those no other grant holds (their virtual directories are virtual
/// directories of the namespace, which hold no symlinks: the lexical
/// target is exact).
fn links_to_grants(list: &mut [GrantSpec]) -> Vec<Vec<u8>> {
    let mut followed = Vec::new();
    for i in 0..list.len() {
        if !list[i].link {
            continue;
        }
        let g = &list[i];
        let named = std::fs::canonicalize(&g.host).ok();
        let target = std::fs::read_link(&g.host).ok().and_then(|t| link_target(&g.vpath, t.as_os_str().as_bytes()));
        let below = list.iter().any(|o| o.vpath != g.vpath && ns::is_within(&o.vpath, &g.vpath));
        let held = list.iter().any(|o| o.vpath != g.vpath && ns::is_within(&g.vpath, &o.vpath));
        let keep = match (&named, &target) {
            // (Into the session's /proc, the handler's: /etc/mtab. What it
            // names on the host is the launcher's.)
            (_, Some(t)) if ns::is_within(t, b"/proc") => !below,
            (Some(host), Some(t)) => !below && !ns::is_within(t, &g.vpath) && covered(list, t, host, g.mode),
            _ => false,
        };
        if !keep {
            if let Some(host) = named {
                list[i].host = host;
            }
            list[i].link = false;
            continue;
        }
        if !held {
            followed.push(g.vpath.clone());
        }
    }
    followed
}

/// The `--vpath l:` links (`links_to_grants`) with the virtual path each
/// names, read from the link's copy (what the server's walk reads): not
/// one whose name holds a `:` (the option's separator), nor one leading
/// into /proc or /dev, whose names the handler makes itself.
fn followed_links(ns: &Namespace, links: &[Vec<u8>]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    for link in links.iter().filter(|l| !l.contains(&b':')) {
        let Some(g) = ns.grant_at(link).map(|g| &ns.grants[g]).filter(|g| g.is_link()) else { continue };
        let Some(t) = sys::readlink_fd(g.root.as_fd()).ok().and_then(|t| link_target(link, &t)) else { continue };
        if !ns::is_within(&t, b"/proc") && !ns::is_within(&t, b"/dev") {
            out.push((link.clone(), t));
        }
    }
    out
}

/// `VIRT=HOST[:ro|rw|exec]`.
fn parse_map(m: &OsStr) -> Result<GrantSpec, String> {
    let b = m.as_bytes();
    let eq = b.iter().position(|&c| c == b'=').ok_or_else(|| format!("--map {}: expected VIRT=HOST", m.to_string_lossy()))?;
    let (virt, mut host) = (&b[..eq], &b[eq + 1..]);
    let mut mode = Mode::Ro;
    if let Some(colon) = host.iter().rposition(|&c| c == b':') {
        if let Some(md) = std::str::from_utf8(&host[colon + 1..]).ok().and_then(Mode::parse) {
            mode = md;
            host = &host[..colon];
        }
    }
    if virt.first() != Some(&b'/') || host.is_empty() {
        return Err(format!("--map {}: VIRT must be absolute and HOST not empty", m.to_string_lossy()));
    }
    let mut g = grant(Path::new(OsStr::from_bytes(host)), mode)?;
    g.vpath = ns::normalize(virt);
    Ok(g)
}

/// Adds `g`, merging with a grant of the same virtual path (same host:
/// the stronger mode wins; another host: an error).
fn add_grant(list: &mut Vec<GrantSpec>, g: GrantSpec) -> Result<(), String> {
    if let Some(old) = list.iter_mut().find(|o| o.vpath == g.vpath) {
        if old.link != g.link {
            // A symlink -B grants as itself, named by the user too: granted
            // as what it names, as a user's grant of a symlink is.
            let (link, plain) = if old.link { (&old.host, &g.host) } else { (&g.host, &old.host) };
            if std::fs::canonicalize(link).ok().as_ref() == Some(plain) {
                old.host = plain.clone();
                old.link = false;
                old.mode = old.mode.max(g.mode);
                return Ok(());
            }
        }
        if old.host != g.host {
            return Err(format!(
                "{} granted twice, as {} and {}",
                String::from_utf8_lossy(&g.vpath),
                old.host.display(),
                g.host.display()
            ));
        }
        old.mode = old.mode.max(g.mode);
        return Ok(());
    }
    list.push(g);
    Ok(())
}

/// True if `vpath` already shows `host` with at least `mode` through a
/// directory grant (so the program's own files need no grant of their own).
fn covered(list: &[GrantSpec], vpath: &[u8], host: &Path, mode: Mode) -> bool {
    list.iter().any(|g| {
        ns::is_within(vpath, &g.vpath) && g.mode >= mode && {
            let rest = &vpath[g.vpath.len().min(vpath.len())..];
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            std::fs::canonicalize(g.host.join(OsStr::from_bytes(rest))).ok().as_deref() == Some(host)
        }
    }) || list.iter().any(|g| g.vpath == vpath && g.host == host && g.mode >= mode)
}

/// PROG as ld-preld will find it: a path, or the first executable regular
/// file of that name in PATH.
pub(crate) fn find_program(prog: &OsStr) -> Result<PathBuf, String> {
    let b = prog.as_bytes();
    if preld_loader::path::has_slash(b) {
        return Ok(PathBuf::from(prog));
    }
    let path = std::env::var_os("PATH").map(|p| p.as_bytes().to_vec()).unwrap_or(preld_loader::path::DEFAULT_PATH.to_vec());
    for c in preld_loader::path::candidates(&path, b) {
        let p = PathBuf::from(OsStr::from_bytes(&c));
        if let Ok(md) = std::fs::metadata(&p) {
            use std::os::unix::fs::PermissionsExt;
            if md.is_file() && md.permissions().mode() & 0o111 != 0 {
                return Ok(p);
            }
        }
    }
    Err(format!("{}: command not found", prog.to_string_lossy()))
}

/// A host file read in pieces (`FileSource`): the file and its size.
struct HostFile(std::fs::File, u64);

impl HostFile {
    fn open(p: &Path) -> std::io::Result<HostFile> {
        let f = std::fs::File::open(p)?;
        let size = f.metadata()?.len();
        Ok(HostFile(f, size))
    }
}

impl preld_loader::elf::FileSource for HostFile {
    fn size(&self) -> u64 {
        self.1
    }
    fn read_exact_at(&self, off: u64, buf: &mut [u8]) -> Result<(), i32> {
        use std::os::unix::fs::FileExt;
        self.0.read_exact_at(buf, off).map_err(|e| e.raw_os_error().unwrap_or(0))
    }
}

/// The files PROG needs to start (itself, its `#!` interpreters, each
/// ELF's PT_INTERP, and the libraries `ld.so --list` finds for it), under
/// way: the files known so far, and `ld.so --list` running meanwhile (half
/// a millisecond, spent while the launcher looks at the other grants).
struct StartupFiles {
    files: Vec<PathBuf>,
    listing: Option<(std::process::Child, PathBuf, PathBuf)>,
    /// PROG's own PT_INTERP, where PROG is an ELF program (not a script).
    prog_interp: Option<PathBuf>,
}

impl StartupFiles {
    /// The whole list, once `ld.so --list` has answered.
    fn files(self) -> Result<Vec<PathBuf>, String> {
        let mut files = self.files;
        let Some((child, interp, elf)) = self.listing else { return Ok(files) };
        let out = child.wait_with_output().map_err(|e| format!("{} --list {}: {}", interp.display(), elf.display(), crate::reason(&e)))?;
        for line in out.stdout.split(|&c| c == b'\n') {
            // "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)"
            let Some(at) = line.windows(4).position(|w| w == b"=> /") else { continue };
            let rest = &line[at + 3..];
            let end = rest.windows(2).position(|w| w == b" (").unwrap_or(rest.len());
            files.push(PathBuf::from(OsStr::from_bytes(&rest[..end])));
        }
        Ok(files)
    }
}

/// Whether the libraries ld.so would load for an ELF program (its
/// DT_NEEDED, searched as ld.so searches) all lie in -B's grants, so that
/// `ld.so --list` need not run (0.7 ms of a process, most of it waited
/// for at each session's start): no DT_RPATH or DT_RUNPATH in the program,
/// no LD_LIBRARY_PATH, LD_PRELOAD or LD_AUDIT, no /etc/ld.so.preload, and
/// every directory of /etc/ld.so.conf (and what it includes) below -B's
/// /usr, /lib or /lib64, as ld.so's own defaults are. (A library whose
/// own DT_RUNPATH names a directory outside them is not found then: the
/// list would have granted it; Debian's libraries have none.)
fn libraries_in_base(file: &HostFile, plan: &preld_loader::elf::LoadPlan) -> bool {
    if ["LD_LIBRARY_PATH", "LD_PRELOAD", "LD_AUDIT"].iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty())) {
        return false;
    }
    if std::fs::metadata("/etc/ld.so.preload").is_ok_and(|m| m.len() > 0) {
        return false;
    }
    // DT_RPATH and DT_RUNPATH among the dynamic section's entries.
    if let Some(dynamic) = plan.program_headers.iter().find(|h| h.p_type == goblin::elf::program_header::PT_DYNAMIC) {
        let len = (dynamic.p_filesz as usize).min(64 << 10) / 16 * 16;
        let mut d = vec![0u8; len];
        if preld_loader::elf::FileSource::read_exact_at(file, dynamic.p_offset, &mut d).is_err() {
            return false;
        }
        for e in d.chunks_exact(16) {
            let tag = u64::from_ne_bytes(e[..8].try_into().unwrap_or_default());
            match tag {
                0 => break,
                t if t == goblin::elf::dynamic::DT_RPATH || t == goblin::elf::dynamic::DT_RUNPATH => return false,
                _ => {}
            }
        }
    }
    let in_base = |dir: &[u8]| [&b"/usr"[..], b"/lib", b"/lib64"].iter().any(|b| ns::is_within(&ns::normalize(dir), b));
    let mut confs = vec![PathBuf::from("/etc/ld.so.conf")];
    let mut seen = 0;
    while let Some(conf) = confs.pop() {
        seen += 1;
        let Ok(text) = std::fs::read(&conf) else {
            // No configuration at all: ld.so's defaults.
            if seen == 1 {
                continue;
            }
            return false;
        };
        if seen > 64 {
            return false;
        }
        for line in text.split(|&c| c == b'\n') {
            let line = line.split(|&c| c == b'#').next().unwrap_or_default().trim_ascii();
            if line.is_empty() || line.starts_with(b"hwcap ") {
                continue;
            }
            if let Some(pattern) = line.strip_prefix(b"include").map(<[u8]>::trim_ascii) {
                // `include DIR/PREFIX*SUFFIX` (Debian's /etc/ld.so.conf.d/*.conf);
                // any other pattern: the list decides.
                let pattern = Path::new(OsStr::from_bytes(pattern));
                let dir = pattern.parent().map(|d| if d.is_relative() { Path::new("/etc").join(d) } else { d.to_path_buf() });
                let name = pattern.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
                let (Some(dir), Some(star)) = (dir, name.iter().position(|&c| c == b'*')) else { return false };
                let (prefix, suffix) = (&name[..star], &name[star + 1..]);
                if suffix.iter().any(|c| b"*?[".contains(c)) || dir.as_os_str().as_bytes().iter().any(|c| b"*?[".contains(c)) {
                    return false;
                }
                let Ok(entries) = std::fs::read_dir(&dir) else { continue };
                for e in entries.flatten() {
                    let n = e.file_name();
                    let n = n.as_bytes();
                    if n.len() >= prefix.len() + suffix.len() && n.starts_with(prefix) && n.ends_with(suffix) {
                        confs.push(e.path());
                    }
                }
            } else if !in_base(line) {
                return false;
            }
        }
    }
    true
}

fn start_startup_files(prog: &Path, base: bool) -> Result<StartupFiles, String> {
    let mut files = Vec::new();
    let mut cur = prog.to_path_buf();
    for _ in 0..6 {
        files.push(cur.clone());
        // Only the head and the program headers are read (python3 is
        // 6.8 MB: reading it whole took 1.5 ms of every session's start).
        let file = HostFile::open(&cur).map_err(|e| format!("{}: {}", cur.display(), crate::reason(&e)))?;
        let mut head = [0u8; preld_loader::shebang::PEEK];
        let n = (file.1 as usize).min(head.len());
        preld_loader::elf::FileSource::read_exact_at(&file, 0, &mut head[..n])
            .map_err(|e| format!("{}: {}", cur.display(), crate::reason(&std::io::Error::from_raw_os_error(e))))?;
        if let Some(sb) = preld_loader::shebang::parse(&head[..n]) {
            let sb = sb.map_err(|e| format!("{}: {}", cur.display(), e.message()))?;
            cur = PathBuf::from(OsStr::from_bytes(sb.interpreter));
            continue;
        }
        let Ok(plan) = preld_loader::elf::plan(&file) else { return Ok(StartupFiles { files, listing: None, prog_interp: None }) };
        let Some(interp) = plan.interp.clone() else { return Ok(StartupFiles { files, listing: None, prog_interp: None }) };
        let interp = PathBuf::from(OsStr::from_bytes(interp.strip_suffix(b"\0").unwrap_or(&interp)));
        let prog_interp = (cur == prog).then(|| interp.clone());
        files.push(interp.clone());
        if base && libraries_in_base(&file, &plan) {
            return Ok(StartupFiles { files, listing: None, prog_interp });
        }
        let child = Command::new(&interp)
            .arg("--list")
            .arg(&cur)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{} --list {}: {}", interp.display(), cur.display(), crate::reason(&e)))?;
        return Ok(StartupFiles { files, listing: Some((child, interp, cur)), prog_interp });
    }
    Err(format!("{}: too many levels of #! interpreters", prog.display()))
}

/// The program and its ld.so, opened for the session's first image.
struct FirstFiles {
    /// The program's fd and its virtual path (symlinks followed).
    exec: (std::os::fd::OwnedFd, Vec<u8>),
    interp: Option<(std::os::fd::OwnedFd, Vec<u8>)>,
}

/// Opens `prog` (resolved in the namespace from `cwd`) as the server
/// answers an exec (a regular file in a grant that holds programs, which
/// the caller may execute), and its PT_INTERP `interp` as it answers an
/// open for reading. None where either fails: the first image then asks.
fn first_files(ns: &Namespace, cwd: &[u8], prog: &[u8], interp: Option<&Path>) -> Option<FirstFiles> {
    let open = |path: &[u8], exec: bool| -> Option<(std::os::fd::OwnedFd, Vec<u8>)> {
        let ns::Node::Existing(o) = ns.resolve(cwd, path, true).ok()? else { return None };
        if sys::file_type(&o.st) != libc::S_IFREG {
            return None;
        }
        if exec && (!ns.grants[o.grant].mode.executable() || sys::access_fd(o.fd.as_fd(), libc::X_OK, 0).is_err()) {
            return None;
        }
        let fd = sys::reopen(o.fd.as_fd(), libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY, 0).ok()?;
        Some((fd, o.vpath))
    };
    let exec = open(prog, true)?;
    let interp = match interp {
        Some(i) => Some(open(i.as_os_str().as_bytes(), false)?),
        None => None,
    };
    Some(FirstFiles { exec, interp })
}

/// The grants of a session (`Grants`).
fn grants(args: &PolaArgs, prog: &Path, private: Option<&Path>, profiles: &[profile::Profile]) -> Result<Grants, String> {
    let startup = start_startup_files(prog, args.base)?;
    let prog_interp = startup.prog_interp.clone();
    let mut list = Vec::new();
    let mut auto = HashSet::new();
    if args.base {
        // The names' directories as they resolve, each looked up once
        // (a realpath of every name walked every directory: 3-5 calls).
        let mut dirs = HashMap::new();
        for (p, mode) in BASE {
            // (What the user may read exists: no stat first.)
            if readable(Path::new(p)) {
                let g = base_grant(Path::new(p), *mode, &mut dirs)?;
                auto.insert(g.vpath.clone());
                add_grant(&mut list, g)?;
            }
        }
        // The base also has a private, empty /tmp (compilers need one) and
        // /dev/shm (POSIX shared memory and semaphores: Python's
        // multiprocessing locks and queues), unless the user named them.
        let named = |v: &[u8]| {
            args.ro.iter().chain(&args.rw).chain(&args.exec).any(|p| absolute(p).is_ok_and(|a| a == v))
                || args.map.iter().any(|m| m.as_bytes().split(|&c| c == b'=').next().is_some_and(|m| ns::normalize(m) == v))
        };
        // (Made on the host by `make_private`, once the grants are known.)
        if let Some(dir) = private {
            for (vpath, host) in [(&b"/tmp"[..], private_tmp(dir)), (b"/dev/shm", dir.join("shm"))] {
                if named(vpath) {
                    continue;
                }
                auto.insert(vpath.to_vec());
                add_grant(&mut list, GrantSpec { vpath: vpath.to_vec(), host, mode: Mode::Rw, link: false })?;
            }
        }
    }
    for (paths, mode) in [(&args.ro, Mode::Ro), (&args.exec, Mode::Exec), (&args.rw, Mode::Rw)] {
        for p in paths {
            add_grant(&mut list, grant(p, mode)?)?;
        }
    }
    for m in &args.map {
        add_grant(&mut list, parse_map(m)?)?;
    }
    for (p, file) in profiles.iter().zip(&args.profiles) {
        for e in &p.entries {
            let mut g = grant(&e.path, e.mode).map_err(|why| format!("profile {}: {why}", file.display()))?;
            g.vpath = ns::normalize(e.at.as_os_str().as_bytes());
            add_grant(&mut list, g).map_err(|why| format!("profile {}: {why}", file.display()))?;
        }
    }
    let links = links_to_grants(&mut list);
    for f in startup.files()? {
        let g = grant(&f, Mode::Exec)?;
        if !covered(&list, &g.vpath, &g.host, Mode::Exec) {
            auto.insert(g.vpath.clone());
            add_grant(&mut list, g)?;
        }
    }
    Ok(Grants { list, auto, prog_interp, links })
}

/// What `grants` works out: the grants, those made without the user's
/// word (-B's, PROG's start-up files), PROG's own PT_INTERP, and the
/// symlinks granted as themselves that the process follows itself.
struct Grants {
    list: Vec<GrantSpec>,
    auto: HashSet<Vec<u8>>,
    prog_interp: Option<PathBuf>,
    links: Vec<Vec<u8>>,
}

/// -B's private directories on the host, for the grants `list`: `private`
/// (made already: by the session's init, confine.rs) mode 0700, its /tmp
/// and /dev/shm mode 1777 where granted,
/// and in its /tmp the names of the grants below /tmp and a --cwd below it.
fn make_private(args: &PolaArgs, list: &[GrantSpec], private: &Path) -> Result<(), String> {
    // Its own two are everyone's (1777): only the user may reach them.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(private, std::fs::Permissions::from_mode(0o700)).map_err(|e| format!("cannot make the private /tmp: {}", crate::reason(&e)))?;
    for host in [private_tmp(private), private.join("shm")] {
        if list.iter().any(|g| g.host == host) {
            make_private_dir(&host)?;
        }
    }
    let tmp = private_tmp(private);
    if list.iter().any(|g| g.host == tmp) {
        private_tmp_names(list, &tmp)?;
        // A --cwd below /tmp is made there too (the session starts where it
        // was asked to, in its own /tmp).
        if let Some(rest) = args.cwd.as_ref().and_then(|c| absolute(c).ok()).and_then(|c| c.strip_prefix(b"/tmp/").map(<[u8]>::to_vec)) {
            let _ = std::fs::create_dir_all(tmp.join(OsStr::from_bytes(&rest)));
        }
    }
    Ok(())
}

/// -B's private /tmp: a directory in the launcher's own (`private`, made
/// mode 0700 by `make_private`, removed as the session ends), which also
/// holds the private /dev/shm.
fn private_tmp(private: &Path) -> PathBuf {
    private.join("tmp")
}

/// Makes a private /tmp or /dev/shm in the launcher's directory: mode 1777
/// as natively (programs look: `file /tmp` says sticky), which no one else
/// reaches through that directory's 0700.
fn make_private_dir(p: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::create_dir(p) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(format!("cannot make {}: {}", p.display(), crate::reason(&e))),
        _ => {}
    }
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o1777)).map_err(|e| format!("cannot make {}: {}", p.display(), crate::reason(&e)))
}

/// Grants below -B's private /tmp (the current directory is often there)
/// shadow a name the private directory does not have, so a listing of
/// /tmp would not show them: make each name on the way (an empty
/// directory, or an empty file for a file grant) in the private directory.
fn private_tmp_names(list: &[GrantSpec], tmp: &Path) -> Result<(), String> {
    for g in list {
        let Some(rest) = g.vpath.strip_prefix(b"/tmp/") else { continue };
        let at = tmp.join(OsStr::from_bytes(rest));
        let made = if g.host.is_dir() {
            std::fs::create_dir_all(&at)
        } else {
            at.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&at, b""))
        };
        made.map_err(|e| format!("cannot make {} in the private /tmp: {}", at.display(), crate::reason(&e)))?;
    }
    Ok(())
}

/// The ld-preld beside this preld.
fn ld_preld() -> Result<PathBuf, String> {
    crate::ld_preld()
}

/// The session's initial virtual cwd. An asked one in no grant becomes an
/// empty virtual directory.
fn initial_cwd(ns: &mut Namespace, asked: Option<&Path>) -> Result<Vec<u8>, String> {
    let is_dir = |v: &[u8]| match ns.resolve(b"/", v, true) {
        Ok(ns::Node::Virtual(_)) => Some(v.to_vec()),
        Ok(ns::Node::Existing(o)) if sys::file_type(&o.st) == libc::S_IFDIR => Some(o.vpath),
        _ => None,
    };
    match asked {
        Some(d) => {
            let v = ns::normalize(d.as_os_str().as_bytes());
            if d.as_os_str().as_bytes().first() != Some(&b'/') {
                return Err(format!("--cwd {}: must be an absolute virtual path", d.display()));
            }
            if let Some(v) = is_dir(&v) {
                return Ok(v);
            }
            ns.add_vdir(&v).map_err(|_| format!("--cwd {}: not a directory of the namespace", d.display()))?;
            Ok(v)
        }
        None => {
            let here = std::env::current_dir().map(|p| p.as_os_str().as_bytes().to_vec()).unwrap_or_default();
            Ok(is_dir(&here).unwrap_or_else(|| b"/".to_vec()))
        }
    }
}

/// The host paths and copy attributes (`sys::mount_clones`) of the grants
/// in -B's private directory (`inside`) or of the others.
fn copy_paths<'a>(specs: &'a [GrantSpec], in_private: &[bool], inside: bool) -> Vec<(&'a [u8], u64)> {
    specs.iter().zip(in_private).filter(|(_, &i)| i == inside).map(|(g, _)| (g.host.as_os_str().as_bytes(), g.copy_attrs())).collect()
}

/// Appends `entry` to a packed option of ld-preld's (`--beneaths`,
/// `--vpaths`: `LEN:ENTRY`, one after the other; handler/src/config.rs
/// `unpack`).
fn pack_into(v: &mut Vec<u8>, entry: &OsStr) {
    v.extend_from_slice(entry.len().to_string().as_bytes());
    v.push(b':');
    v.extend_from_slice(entry.as_bytes());
}

/// Whether a grant of a weaker mode than `g`'s lies below `g`.
fn holds_a_weaker_grant(ns: &Namespace, g: &ns::Grant) -> bool {
    ns.grants.iter().any(|n| n.vpath != g.vpath && ns::is_within(&n.vpath, &g.vpath) && n.mode.min(g.mode) != g.mode)
}

/// Whether directory grant `g`'s copy shows what the namespace shows below
/// it: every grant nested in it names the very host object the copy holds
/// at its place (PROG's own grant inside `--ro .`; not -B's private /tmp,
/// whose nested grants stand on empty directories made for them, nor a
/// `--map` onto another tree).
fn shows_its_nested_grants(ns: &Namespace, g: &ns::Grant) -> bool {
    g.is_dir
        && ns.grants.iter().all(|n| {
            if n.vpath == g.vpath || !ns::is_within(&n.vpath, &g.vpath) {
                return true;
            }
            let rel = &n.vpath[g.vpath.len()..];
            let rel = rel.strip_prefix(b"/").unwrap_or(rel);
            n.host == g.host.join(OsStr::from_bytes(rel))
        })
}


/// Writes what the session used to the --learn file (atomically); a
/// failure is said, the session's status stays.
fn write_learned(server: &serve::Server, file: &profile::Target) {
    let Some(l) = &server.learner else { return };
    // A learned host path holds no symlink (the server's walk resolves
    // them in the namespace). One that names something else now was
    // changed during the run (a name in a directory the program could also
    // write through another grant, replaced by a symlink to a secret): a
    // profile's paths are followed when its session starts, so it would
    // grant what the program planted (session-20b adversary, test
    // `a_path_the_program_changed_is_not_learned`). Left out, and said.
    let mut entries = Vec::new();
    for (at, path, mode) in l.grants() {
        let at = PathBuf::from(OsStr::from_bytes(&at));
        if std::fs::canonicalize(&path).ok().as_ref() != Some(&path) {
            eprintln!("preld pola: --learn: {} no longer names what the session used ({}): left out", at.display(), path.display());
            continue;
        }
        entries.push(profile::Entry { at, path, mode });
    }
    let p = profile::Profile { base: l.base, entries };
    let (text, left_out) = profile::to_text(&p, "What a run of `preld pola` used (--learn); `preld pola --profile FILE` grants it.\nFormat: docs/profiles.md");
    for at in left_out {
        eprintln!("preld pola: --learn: {} is not UTF-8 and cannot be written in a profile: left out", at.display());
    }
    if let Err(why) = file.write(&text) {
        eprintln!("preld pola: --learn: {why}");
    }
}

fn launch(mut args: PolaArgs) -> Result<ExitCode, Failure> {
    let mut profiles = Vec::new();
    for f in &args.profiles {
        profiles.push(profile::read(f).map_err(|why| Failure::Usage(format!("profile {why}")))?);
    }
    args.base |= profiles.iter().any(|p| p.base);
    // The questions' terminal: the launcher's own, opened before anything
    // crosses into the session.
    let ask_tty = if args.ask { Some(ask::open_terminal().map_err(Failure::Usage)?) } else { None };
    // The --learn file's directory, opened before the program runs
    // (profile::Target).
    let learn_to = args.learn.as_deref().map(profile::Target::open).transpose().map_err(|why| Failure::Usage(format!("--learn {why}")))?;
    let ld = ld_preld()?;
    let prog = find_program(&args.command[0])?;
    // The session's host directories, -B's private one and the virtual
    // directories' stand-ins', are made by the cleaner, forked now (before
    // anything else of the session exists) while the launcher works out
    // the grants; it removes them once the launcher and the session are
    // gone (cleaner.rs).
    let private_name = args.base.then(|| ns::temp_name("preld-pola-tmp-"));
    let backing_name = ns::temp_name("preld-pola-");
    let mut cleaner = cleaner::Cleaner::start(&private_name.iter().cloned().chain([backing_name.clone()]).collect::<Vec<_>>());
    // The session's own terminal, standing in for the user's.
    let mut pty = tty::open()?;
    // The session's init starts now and sets the session up while the
    // launcher makes the grants below (confine.rs); it needs only
    // ld-preld's path, --net and the channel it sends the session's pty
    // over (tty.rs). Whatever fails from here on kills and reaps it.
    let (chan, init_chan) = match pty.as_mut().and_then(|p| p.chan.take().map(|c| (c, p.fds))) {
        Some(((ours, theirs), fds)) => (Some(ours), Some((theirs, fds))),
        None => (None, None),
    };
    let early = confine::early(&ld, args.net, init_chan)?;
    // The grants hold an fd each (-B's about 60), the server one per
    // connection: the launcher's soft limit goes up to the hard one, the
    // init (cloned with the caller's) gives the program the caller's.
    raise_fd_limit();
    let Grants { list: mut specs, auto, prog_interp, links } = grants(&args, &prog, private_name.as_deref(), &profiles)?;
    // The cleaner's report on the directories (made meanwhile). The copies
    // of every grant but those in the private directory are made before
    // that directory's are (`make_private` fills it first). Where only a
    // helper process can make copies (no CAP_SYS_ADMIN:
    // `sys::mount_clones`), all are made at once below.
    let made = cleaner.as_mut().map(|c| c.made()).unwrap_or_default();
    let mut host_dir = |name: PathBuf, made: Option<&i32>, prefix: &str| -> Result<ns::HostDir, String> {
        let why = |e: std::io::Error| format!("cannot make a private directory: {e}");
        match (made, cleaner.as_mut()) {
            (Some(0), _) => Ok(ns::HostDir::adopt(name)),
            // A name taken meanwhile (or an error the cleaner met): others,
            // made by the cleaner still.
            (_, Some(c)) => {
                let mut e = libc::EEXIST;
                for _ in 0..100 {
                    let name = ns::temp_name(prefix);
                    match c.make(&name) {
                        Ok(()) => return Ok(ns::HostDir::adopt(name)),
                        Err(libc::EEXIST) => continue,
                        Err(err) => {
                            e = err;
                            break;
                        }
                    }
                }
                Err(why(std::io::Error::from_raw_os_error(e)))
            }
            (_, None) => ns::HostDir::new(prefix).map_err(why),
        }
    };
    let backing = host_dir(backing_name, made.get(private_name.is_some() as usize), "preld-pola-")?;
    let in_private: Vec<bool> = specs.iter().map(|g| private_name.as_ref().is_some_and(|p| g.host.starts_with(p))).collect();
    let early_clones = match &private_name {
        Some(_) => sys::mount_clones_here(&[copy_paths(&specs, &in_private, false), vec![(backing.path().as_os_str().as_bytes(), 0)]].concat()),
        None => None,
    };
    let tmp = match private_name {
        Some(name) => {
            let dir = host_dir(name.clone(), made.first(), "preld-pola-tmp-").map_err(|e| e.replace("a private directory", "the private /tmp"))?;
            // Made at another name: the grants in it follow.
            if dir.path() != name {
                for g in &mut specs {
                    if let Ok(rest) = g.host.strip_prefix(&name) {
                        g.host = dir.path().join(rest);
                    }
                }
            }
            Some(dir)
        }
        None => None,
    };
    if let Some(t) = &tmp {
        make_private(&args, &specs, t.path())?;
    }
    let mut ns = match early_clones {
        Some(early_clones) => {
            // The private directory's grants' copies, and all in the
            // grants' order, the stand-ins' directory's last.
            let inside = copy_paths(&specs, &in_private, true);
            let (mut early_clones, mut late) = (early_clones.into_iter(), sys::mount_clones(&inside, &[]).into_iter());
            let mut clones: Vec<_> = in_private.iter().map(|&i| if i { late.next() } else { early_clones.next() }.expect("a copy per grant")).collect();
            clones.extend(early_clones);
            Namespace::with_clones(&specs, backing, clones, false)?
        }
        None => Namespace::with_backing(&specs, backing)?,
    };
    // /proc and /dev/pts are the session's procfs and devpts, which the
    // process resolves itself (below): the namespace only lists them.
    for own in [&b"/proc"[..], b"/dev/pts"] {
        if !ns.grants.iter().any(|g| ns::is_within(&g.vpath, own) || ns::is_within(own, &g.vpath)) {
            ns.keep_dir(own);
        }
    }
    if args.ask && args.cwd.is_none() {
        // The current directory stays where it is, as a virtual directory
        // if no grant holds it: relative paths are then asked about as
        // what they name natively.
        let here = std::env::current_dir().map(|p| p.as_os_str().as_bytes().to_vec()).unwrap_or_default();
        if !here.is_empty() && initial_cwd(&mut ns, None)? != here && matches!(ns.resolve(b"/", &here, true), Ok(ns::Node::MissingVirtual) | Err(libc::ENOENT)) {
            ns.keep_dir(&ns::normalize(&here));
        }
    }
    if args.verbose {
        for g in &ns.grants {
            let to = match g.is_link() {
                true => format!("symlink {}", String::from_utf8_lossy(&sys::readlink_fd(g.root.as_fd()).unwrap_or_default())),
                false => g.host.display().to_string(),
            };
            eprintln!("preld pola: grant {} -> {} ({})", String::from_utf8_lossy(&g.vpath), to, g.mode.name());
        }
        eprintln!("preld pola: {}", sandbox_summary(args.net));
    }
    let cwd = initial_cwd(&mut ns, args.cwd.as_deref())?;
    let (ours, theirs) = sys::seqpacket_pair().map_err(|e| format!("socketpair: {}", std::io::Error::from_raw_os_error(e)))?;
    let n = theirs.as_raw_fd();
    let mut argv = vec![ld.as_os_str().to_owned(), "--rpc-fd".into(), n.to_string().into()];
    if args.net {
        argv.push("--net".into());
    } else if !crossing::inherits_ip_socket(&args.fds) {
        // The session's own network namespace: TCP on its loopback works
        // as natively (test servers, Go's and Python's net tests), and no
        // socket that reaches the host's network came in.
        argv.push("--own-net".into());
    }
    // The directory grants the program resolves paths beneath itself
    // (handler/src/beneath.rs): those whose copies show exactly what the
    // namespace shows below them; -B's private /tmp with grants below it,
    // which stand there on empty directories made for them, with an
    // upper-case mode: the process resolves there only absolute paths that
    // go down through no symlink and into no grant nested in it (not any
    // other copy that hides what lies below it: `--ro ~ --map ~/.ssh=EMPTY`
    // would hand the process, and Landlock's rule, the real ~/.ssh); and
    // the grants of one regular file, which it opens for reading itself.
    // Landlock lets it read there, no more.
    // None while learning (--learn): the server must see every path.
    let own_tmp = tmp.as_ref().map(|t| private_tmp(t.path()));
    let in_process: Vec<(&ns::Grant, bool)> = if args.learning() {
        Vec::new()
    } else {
        ns.grants
            .iter()
            .filter_map(|g| match () {
                _ if sys::file_type(&g.st) == libc::S_IFREG => Some((g, false)),
                // Not one with a grant of a weaker mode nested in it
                // (`--rw OUT --ro OUT/sub`): a file of the nested grant the
                // process opened itself through the outer grant's
                // read-write copy, even for reading only, let futimens,
                // fsetxattr and setxattr by path (made on such an fd)
                // change it (session-17c adversary). The server opens
                // those on the nested grant's read-only copy.
                _ if shows_its_nested_grants(&ns, g) && !holds_a_weaker_grant(&ns, g) => Some((g, false)),
                _ if g.is_dir && g.vpath == b"/tmp" && own_tmp.as_ref() == Some(&g.host) => Some((g, true)),
                _ => None,
            })
            .collect()
    };
    let beneath: Vec<RawFd> = in_process.iter().map(|(g, _)| g.root.as_raw_fd()).collect();
    // The files symlinks granted as themselves name (below), which cross
    // with the grants' fds.
    let mut linked_files: Vec<std::os::fd::OwnedFd> = Vec::new();
    let (mut beneaths, mut vpaths) = (Vec::new(), Vec::new());
    for &(g, shadows) in &in_process {
        // Landlock's rules hold for the whole tree beneath the copy: a grant
        // nested in it with a weaker mode (`--rw OUT --ro OUT/sealed`) lowers
        // the mode the process resolves with, else the process wrote the
        // nested read-only grant's files (attack `nested`).
        let weakest = ns.grants.iter().filter(|n| ns::is_within(&n.vpath, &g.vpath)).map(|n| n.mode).fold(g.mode, Mode::min);
        let mode = match weakest {
            // A grant of one regular file: the process opens it for
            // reading (writes stay the server's), as `e` where programs
            // run.
            _ if !g.is_dir => if g.mode == Mode::Exec { "e" } else { "f" },
            Mode::Ro if shadows => "R",
            Mode::Exec if shadows => "X",
            Mode::Rw if shadows => "W",
            Mode::Ro => "r",
            Mode::Exec => "x",
            Mode::Rw => "w",
        };
        // With what the process would otherwise ask the kernel about the
        // fd at start (its copy's mount, and whether it opens devices: a
        // directory grant's copy does not): 120 calls fewer for -B.
        let mut a = OsString::from(match g.mnt_id {
            Some(id) => format!("{}:{mode},{id},{}:", g.root.as_raw_fd(), g.is_dir as u8),
            None => format!("{}:{mode}:", g.root.as_raw_fd()),
        });
        a.push(OsStr::from_bytes(&g.vpath));
        pack_into(&mut beneaths, &a);
    }
    // The namespace's names, so that the process knows a path in a
    // virtual directory that is none of them is no file (ENOENT, without
    // asking: PATH and library searches try many). Not while asking
    // (--ask grants as the program goes) or learning (the server sees
    // every path).
    if !args.ask && !args.learning() {
        let grants = ns.grants.iter().filter(|g| g.live).map(|g| ("g:", &g.vpath));
        for (kind, vpath) in grants.chain(ns.vdir_paths().map(|d| ("d:", d))) {
            let mut a = OsString::from(kind);
            a.push(OsStr::from_bytes(vpath));
            pack_into(&mut vpaths, &a);
        }
    }
    // The symlinks granted as themselves that the process follows itself
    // (/lib64/ld-linux-x86-64.so.2 at every exec, /bin/sh), also while
    // asking: a target that leaves the namespace is asked about as the
    // server's walk would (not while learning: the server sees every path).
    if !args.learning() {
        for (link, target) in followed_links(&ns, &links) {
            let mut a = OsString::from("l:");
            a.push(OsStr::from_bytes(&link));
            a.push(":");
            a.push(OsStr::from_bytes(&target));
            pack_into(&mut vpaths, &a);
            // A read-only link naming a file of a grant the process
            // resolves in, with no other link on the way (/etc/localtime,
            // which glibc stats at every localtime() where TZ is unset):
            // that file's fd too, as a file grant's (`linked_file`).
            let Ok(ns::Node::Existing(o)) = ns.resolve(b"/", &link, true) else { continue };
            let ours = in_process.iter().filter(|(_, shadows)| !shadows).map(|(g, _)| g).find(|g| g.mnt_id.is_some() && g.mnt_id == ns.grants[o.grant].mnt_id && g.is_dir);
            let g = &ns.grants[ns.grant_at(&link).unwrap_or(o.grant)];
            if let (Some(on), Mode::Ro, true, Ok(fd)) = (ours, g.mode, o.vpath == target && sys::file_type(&o.st) == libc::S_IFREG, o.fd.try_clone()) {
                let mut a = OsString::from(format!("{}:l,{},0:", fd.as_raw_fd(), on.mnt_id.unwrap_or_default()));
                a.push(OsStr::from_bytes(&link));
                pack_into(&mut beneaths, &a);
                linked_files.push(fd);
            }
        }
    }
    // The session's /proc: the init has put a read-only procfs of the
    // session's PID namespace on this fd (confine.rs), which the process
    // resolves /proc beneath as it does read-only grants.
    pack_into(&mut beneaths, OsStr::new(&format!("{}:r:/proc", early.proc_fd())));
    // And its ptys: a devpts of the session's own, at /dev/pts (/dev/ptmx
    // is its ptmx).
    pack_into(&mut beneaths, OsStr::new(&format!("{}:t:/dev/pts", early.pts_fd())));
    // Each list in one argument (`LEN:ENTRY...`): the kernel copies each
    // argument of every exec, and ld-preld parses it (about 280 strings
    // for -B, 30 us of each exec).
    argv.extend(["--beneaths".into(), OsString::from_vec(beneaths)]);
    if !vpaths.is_empty() {
        argv.extend(["--vpaths".into(), OsString::from_vec(vpaths)]);
    }
    // The program as found (ld-preld does no PATH search in a session),
    // with its own argv[0].
    // What the first image would ask the server for before anything else
    // (its cwd, the program as an exec, the program's ld.so), opened here
    // through the namespace as the server would and handed over: three
    // round trips fewer at each start. Not while asking or learning (the
    // server must see them); where this fails, the image asks, and the
    // server gives the answer (an error) as before.
    let handed = if args.ask || args.learning() { None } else { first_files(&ns, &cwd, prog.as_os_str().as_bytes(), prog_interp.as_deref()) };
    argv.extend(["--cwd".into(), OsStr::from_bytes(&cwd).to_owned()]);
    match &handed {
        Some(h) => {
            argv.extend(["--exec-fd".into(), h.exec.0.as_raw_fd().to_string().into()]);
            if let Some((fd, _)) = &h.interp {
                argv.extend(["--interp-fd".into(), fd.as_raw_fd().to_string().into()]);
            }
            // The program's own name as the exec got it (AT_EXECFN, a
            // script's path), the file at the path the server resolved it
            // to (/proc/self/exe).
            argv.extend(["--execfn".into(), prog.as_os_str().to_owned()]);
            argv.extend(["--argv0".into(), args.command[0].clone(), "--".into(), OsStr::from_bytes(&h.exec.1).to_owned()]);
        }
        None => argv.extend(["--argv0".into(), args.command[0].clone(), "--".into(), prog.as_os_str().to_owned()]),
    }
    argv.extend(args.command[1..].iter().cloned());
    let argv = argv
        .into_iter()
        .map(|a| std::ffi::CString::new(a.as_bytes()).map_err(|_| format!("{}: an argument holds a NUL byte", a.to_string_lossy())))
        .collect::<Result<Vec<_>, _>>()?;
    // fds that cross: 0, 1 and 2 when open, the RPC socket, and --fd N.
    let is_open = |fd: i32| {
        // SAFETY: F_GETFD only reads the fd's flags.
        unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
    };
    let mut keep: Vec<i32> = (0..3).filter(|&fd| is_open(fd)).collect();
    for &fd in &args.fds {
        if fd < 0 || !is_open(fd) || [ours.as_raw_fd(), n].contains(&fd) {
            return Err(format!("--fd {fd}: not an open fd of the caller").into());
        }
        keep.push(fd);
    }
    if let Some(why) = keep.iter().find_map(|&fd| crossing::refused_crossing(fd, args.net)) {
        return Err(why.into());
    }
    // Until the launcher ends, where the session ends with it.
    let mut rights_back = crossing::close_fd_passing(&keep, args.net)?;
    keep.push(n);
    keep.extend(&beneath);
    keep.extend(linked_files.iter().map(|f| f.as_raw_fd()));
    if let Some(h) = &handed {
        keep.push(h.exec.0.as_raw_fd());
        keep.extend(h.interp.as_ref().map(|(fd, _)| fd.as_raw_fd()));
    }
    keep.sort_unstable();
    keep.dedup();
    if ask_tty.is_some() {
        // The program must never hold the terminal the questions are asked
        // on: it could read the answers. Fds 0-2 that are it become the
        // session's pty; any other is refused.
        for &fd in &keep {
            let replaced = fd < 3 && pty.as_ref().is_some_and(|p| p.fds[fd as usize]);
            if !replaced && fd != n && ask::is_our_terminal(fd) {
                return Err(Failure::Usage(format!(
                    "--ask: fd {fd} is the terminal the questions are asked on, and would cross into the session (the program could read the answers)"
                )));
            }
        }
    }
    // The grants hold an fd each: under a low hard limit the server would
    // have no room to read a connection (the session hung).
    let (limit, open) = (sys::fd_limit(), sys::open_fds().unwrap_or(64));
    let need = serve::fd_limit_needed(open);
    if limit < need {
        return Err(format!(
            "the fd limit ({limit}, ulimit -n) is too low for this session: the launcher holds {open} fds (a grant's each) and needs room for the session's connections; at least {need}"
        )
        .into());
    }
    // The server is made while the init starts the program. The cleaner
    // holds the copies, and knows the session's init, before the program
    // can start.
    let init_pid = early.init_pid();
    rights_back.init = Some(init_pid);
    if let Some(c) = &cleaner {
        c.hold(&ns.copies(), init_pid);
    }
    let (mut ns, mut made) = (Some(ns), None);
    let session = {
        let mut take = |m| {
            if let Some(p) = pty.as_mut() {
                p.take_master(m);
            }
        };
        let mut meanwhile = || {
            made = ns.take().map(|ns| {
                let mut s = serve::Server::new(ns, args.net);
                s.start_closer();
                s
            });
        };
        early.start(&argv, &keep, chan.map(|ours| (ours, &mut take as &mut dyn FnMut(std::os::fd::OwnedFd))), &mut meanwhile)?
    };
    let mut server = made.ok_or_else(|| "the session started without its server".to_string())?;
    drop(handed);
    drop(theirs);
    // The slave is the session's: the relay ends when its last copy
    // closes.
    let relay = pty.as_mut().filter(|p| p.has_master()).map(|p| p.start());
    // The user's terminal is put back however the launcher leaves.
    let _restore = pty.as_ref().map(|_| TerminalBack);
    pass_signals_on(session.init);
    server.set_tty(pty.as_mut().and_then(|p| p.slave.take()));
    if let Some(fd) = ask_tty {
        server.question_tty = ask::terminal_device(fd.as_raw_fd());
        let asker = ask::TerminalAsker::new(fd, pty.as_mut().and_then(|p| p.pauser()));
        server.powerbox = Some(serve::powerbox::Powerbox::new(args.command[0].as_bytes(), Box::new(asker)));
    }
    if args.learning() {
        server.learner = Some(serve::learn::Learner::new(auto, args.base));
    }
    server.add(ours, cwd);
    let status: ExitStatus = loop {
        let ready = server.round(Some(session.status.as_fd()), -1).map_err(|e| format!("poll: {e}"))?;
        if !ready {
            continue;
        }
        let st = program_status(&session);
        if libc::WIFSTOPPED(st) {
            // ^Z stopped the program: the launcher stops as it did, gives
            // the terminal back, and continues it when continued itself.
            // Only for a terminal stop, at a terminal whose foreground the
            // launcher is (a job-control shell can continue it): a
            // program stopping itself must not stop its caller for good.
            let terminal_stop = [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU].contains(&libc::WSTOPSIG(st));
            if let Some(p) = pty.as_mut().filter(|p| terminal_stop && p.foreground()) {
                p.stopped();
                // SAFETY: a signal to our own child, the session's init.
                unsafe { libc::kill(session.init, libc::SIGCONT) };
            }
            continue;
        }
        use std::os::unix::process::ExitStatusExt;
        break ExitStatus::from_raw(st);
    };
    // What the program wrote last is still in the pty: the relay ends once
    // no process of the session holds it (at once, unless some are left
    // behind). Keystrokes from now on are the user's shell's.
    if let Some(p) = pty.as_mut() {
        p.stop_input();
    }
    let relay = relay.and_then(|r| tty::drain(r, 100));
    if let Some(p) = pty.as_mut() {
        p.finish();
    }
    // Connections the program closed as it exited are seen now.
    while !server.conns.is_empty() {
        let before = server.conns.len();
        server.round(None, 0).map_err(|e| format!("poll: {e}"))?;
        if server.conns.len() == before {
            break;
        }
    }
    if !server.conns.is_empty() {
        // Descendants still hold connections: serve them in the background.
        // SAFETY: the child runs only the server, which starts its own
        // threads again (closer, logger, opener) and takes over what the
        // parent's had queued, and glibc's fork keeps malloc usable; the
        // relay thread is replaced by an output-only one.
        match unsafe { libc::fork() } {
            0 => {
                // The background server removes the directories, not the
                // cleaner (which ends with the launcher).
                drop(cleaner);
                // Their output still reaches the user's terminal; the
                // user's keystrokes are the user's shell's again.
                if let (Some(p), Some(_)) = (pty.as_ref(), relay.as_ref()) {
                    p.start_output_only();
                } else {
                    // Nothing to relay: the caller's fds 0-2 are not this
                    // server's to hold (`$(preld pola -- ssh-agent)` waited
                    // for the agent, which had closed its own; session-15
                    // final adversary).
                    null_stdio();
                }
                // The terminal is the user's shell's again: no questions.
                if let Some(pb) = &mut server.powerbox {
                    pb.turn_off();
                }
                let _ = server.run();
                // What the processes left behind used too.
                if let Some(f) = &learn_to {
                    write_learned(&server, f);
                }
                // The private /tmp and the stand-ins' directory are this
                // server's (the launcher left them): removed once the last
                // process of the session let go of its connection.
                if let Some(t) = tmp {
                    drop(t);
                }
                ns::remove_tree(server.ns.backing_dir());
                std::process::exit(0);
            }
            -1 => {
                if let Some(pb) = &mut server.powerbox {
                    pb.turn_off();
                }
                let _ = server.run();
            }
            _ => {
                if let Some(f) = &learn_to {
                    write_learned(&server, f);
                }
                // The background server owns the private /tmp and the
                // stand-ins' directory now: the processes left behind
                // still use them.
                std::mem::forget(server);
                if let Some(t) = tmp {
                    let _ = t.keep();
                }
                return Ok(crate::trace::end_like(status));
            }
        }
    }
    if let Some(f) = &learn_to {
        write_learned(&server, f);
    }
    // The cleaner closes the namespace's copies and removes the directories
    // once the launcher is gone; a cleaner gone already (killed) leaves
    // them to the launcher.
    match cleaner.map(|c| c.finish()) {
        Some(true) => {
            std::mem::forget(server);
            let _ = tmp.map(ns::HostDir::keep);
        }
        _ => {
            drop(server);
            drop(tmp);
        }
    }
    Ok(crate::trace::end_like(status))
}

/// The server's fds (a connection per thread of the session, fds in
/// flight) count against the launcher's limit, not the program's (it has
/// its own copy of the limits already, made at the clone): the hard limit.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit on our own process.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// The next wait status the session's init reports: the program stopped,
/// or (the last) ended. An init that died first (every process of the
/// session died with it) reports as a program killed by SIGKILL.
fn program_status(session: &confine::Session) -> i32 {
    let mut b = [0u8; 4];
    // SAFETY: reading into a 4-byte buffer.
    let n = unsafe { libc::read(session.status.as_raw_fd(), b.as_mut_ptr().cast(), 4) };
    if n != 4 {
        return libc::SIGKILL;
    }
    i32::from_ne_bytes(b)
}

/// Puts the user's terminal back when dropped (every way out of `launch`).
struct TerminalBack;

impl Drop for TerminalBack {
    fn drop(&mut self) {
        tty::restore();
    }
}

/// Fds 0-2 onto /dev/null (the background server's).
fn null_stdio() {
    // SAFETY: open of a constant path; dup2 onto 0-2 and close of the fd
    // we opened.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
}

/// The session's init, for the signal handlers.
static INIT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// How many signals were passed on to the program (a question on the
/// terminal ends when one comes: ^C).
pub static PASSED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

extern "C" fn pass_on(sig: libc::c_int) {
    PASSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let init = INIT.load(std::sync::atomic::Ordering::Relaxed);
    // SAFETY: kill is async-signal-safe; the init passes the signal to the
    // program's process group.
    unsafe { libc::kill(init, sig) };
}

/// The launcher outlives the program's reaction to the signals meant for
/// it (^C without a pty, kill of the launcher, a hang-up): it passes them
/// on to the session's init, which passes them to the program's process
/// group. Those ignored when preld started (nohup, a background job) stay
/// ignored, as the program inherited them.
fn pass_signals_on(init: libc::pid_t) {
    INIT.store(init, std::sync::atomic::Ordering::Relaxed);
    for sig in [libc::SIGINT, libc::SIGQUIT, libc::SIGHUP, libc::SIGTERM, libc::SIGTSTP] {
        // SAFETY: reading and setting dispositions; the handler only calls
        // kill.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old);
            if old.sa_sigaction != libc::SIG_IGN {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = pass_on as *const () as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    }
}
/// What the kernel will enforce in the session (ld-preld applies it; the
/// same Landlock ABI is probed here for -v).
fn sandbox_summary(net: bool) -> String {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns the ABI.
    let abi = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, std::ptr::null::<u8>(), 0usize, 1u32) };
    if abi < 0 {
        return "Landlock is not available: the session cannot start".into();
    }
    let mut s = format!(
        "namespaces: user, mount (root: ld-preld only), PID, IPC, UTS, cgroup{}; no capabilities; seccomp filter; Landlock ABI {abi}: no file-system access but executing ld-preld",
        if net { "; the host's network (--net)" } else { ", network (loopback only)" }
    );
    s.push_str(match (abi >= 4, net) {
        (_, true) => "; TCP allowed (--net)",
        (true, false) => "; TCP on the session's own loopback only (none if an IP socket of the host's crosses: --fd, 0-2)",
        (false, false) => "; TCP not restricted (needs ABI 4)",
    });
    s.push_str(if abi >= 6 {
        "; signals and abstract Unix sockets only within the session"
    } else {
        "; signals and abstract Unix sockets not scoped (needs ABI 6)"
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        pola: PolaArgs,
    }

    fn parse(argv: &[&str]) -> PolaArgs {
        Cli::try_parse_from(std::iter::once("pola").chain(argv.iter().copied())).unwrap().pola
    }

    #[test]
    fn the_command_line() {
        let a = parse(&["-B", "-v", "--ro", "/etc", "--rw", "/tmp", "--exec", "/opt", "--map", "/a=/b:rw", "--net", "--cwd", "/tmp", "--", "ls", "-l", "--ro"]);
        assert!(a.base && a.verbose && a.net);
        assert_eq!((a.ro.len(), a.rw.len(), a.exec.len(), a.map.len()), (1, 1, 1, 1));
        assert_eq!(a.cwd.as_deref(), Some(Path::new("/tmp")));
        assert_eq!(a.command, ["ls", "-l", "--ro"], "the program keeps its own options");
        assert_eq!(parse(&["cat", "-B"]).command, ["cat", "-B"]);
        assert!(!parse(&["cat", "-B"]).base);
        assert!(Cli::try_parse_from(["pola", "-B"]).is_err(), "PROG is required");
    }

    #[test]
    fn maps() {
        let g = parse_map(OsStr::new("/v/x=/tmp:rw")).unwrap();
        assert_eq!((g.vpath.as_slice(), g.mode), (&b"/v/x"[..], Mode::Rw));
        assert_eq!(g.host, std::fs::canonicalize("/tmp").unwrap());
        assert_eq!(parse_map(OsStr::new("/v/./y/..=/tmp")).unwrap().vpath, b"/v");
        assert_eq!(parse_map(OsStr::new("/v=/tmp")).unwrap().mode, Mode::Ro);
        assert_eq!(parse_map(OsStr::new("/v=/tmp:exec")).unwrap().mode, Mode::Exec);
        assert!(parse_map(OsStr::new("v=/tmp")).is_err());
        assert!(parse_map(OsStr::new("/v")).is_err());
        assert!(parse_map(OsStr::new("/v=")).is_err());
        assert!(parse_map(OsStr::new("/v=/no/such/dir")).is_err());
    }

    #[test]
    fn grants_merge_or_conflict() {
        let g = |v: &str, h: &str, mode| GrantSpec { vpath: v.as_bytes().to_vec(), host: h.into(), mode, link: false };
        let mut l = vec![g("/a", "/x", Mode::Ro)];
        add_grant(&mut l, g("/a", "/x", Mode::Rw)).unwrap();
        assert_eq!((l.len(), l[0].mode), (1, Mode::Rw));
        add_grant(&mut l, g("/a", "/x", Mode::Ro)).unwrap();
        assert_eq!(l[0].mode, Mode::Rw, "the stronger mode stays");
        assert!(add_grant(&mut l, g("/a", "/y", Mode::Ro)).is_err());
    }

    #[test]
    fn the_private_tmp() {
        let prog = find_program(OsStr::new("true")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let host = |l: &[GrantSpec]| l.iter().find(|g| g.vpath == b"/tmp").map(|g| (g.host.clone(), g.mode));
        let shm = |l: &[GrantSpec]| l.iter().find(|g| g.vpath == b"/dev/shm").map(|g| (g.host.clone(), g.mode));
        let args = parse(&["-B", "--cwd", "/tmp/a/b", "true"]);
        let l = grants(&args, &prog, Some(tmp.path()), &[]).unwrap().list;
        make_private(&args, &l, tmp.path()).unwrap();
        assert_eq!(host(&l), Some((tmp.path().join("tmp"), Mode::Rw)));
        assert_eq!(shm(&l), Some((tmp.path().join("shm"), Mode::Rw)));
        for d in ["tmp", "shm"] {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(tmp.path().join(d)).unwrap().permissions().mode() & 0o7777, 0o1777, "{d}");
        }
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(tmp.path()).unwrap().permissions().mode() & 0o7777, 0o700, "only the user reaches the private dirs");
        }
        assert!(tmp.path().join("tmp/a/b").is_dir(), "a --cwd below /tmp is made in it");
        // /tmp named on the command line is the host's (and /dev/shm).
        let l = grants(&parse(&["-B", "--ro", "/tmp", "--rw", "/dev/shm", "true"]), &prog, Some(tmp.path()), &[]).unwrap().list;
        assert_eq!(host(&l), Some((std::fs::canonicalize("/tmp").unwrap(), Mode::Ro)));
        assert_eq!(shm(&l), Some((std::fs::canonicalize("/dev/shm").unwrap(), Mode::Rw)));
        let l = grants(&parse(&["-B", "--map", "/tmp/=/usr", "true"]), &prog, Some(tmp.path()), &[]).unwrap().list;
        assert_eq!(host(&l), Some((PathBuf::from("/usr"), Mode::Ro)));
    }

    fn vpaths(l: &[GrantSpec]) -> Vec<String> {
        l.iter().map(|g| String::from_utf8_lossy(&g.vpath).into_owned()).collect()
    }

    /// -B's symlinks stay links only where what they name is granted and
    /// nothing lies below them; a user's grant of one is what it names.
    #[test]
    fn base_symlinks_are_granted_as_links_where_their_target_is() {
        assert_eq!(link_target(b"/bin", b"usr/bin").as_deref(), Some(&b"/usr/bin"[..]));
        assert_eq!(link_target(b"/etc/os-release", b"../usr/lib/os-release").as_deref(), Some(&b"/usr/lib/os-release"[..]));
        assert_eq!(link_target(b"/etc/localtime", b"/usr/share/zoneinfo/Etc/UTC").as_deref(), Some(&b"/usr/share/zoneinfo/Etc/UTC"[..]));
        assert_eq!(link_target(b"/a/b", b"x/../y"), None, "x may be a symlink");
        assert_eq!(link_target(b"/a/b", b""), None);
        let dir = tempfile::tempdir().unwrap();
        let t = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(t.join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("usr/bin", t.join("bin")).unwrap();
        std::os::unix::fs::symlink("nowhere", t.join("dangling")).unwrap();
        let vt = t.as_os_str().as_bytes();
        let v = |n: &str| [vt, b"/", n.as_bytes()].concat();
        let spec = |n: &str, link: bool| GrantSpec { vpath: v(n), host: t.join(n), mode: Mode::Exec, link };
        let mut l = vec![spec("usr", false), spec("bin", true)];
        assert_eq!(links_to_grants(&mut l), vec![v("bin")]);
        assert!(l[1].link && l[1].host == t.join("bin"));
        // Its target not granted: what it names.
        let mut l = vec![spec("bin", true)];
        assert!(links_to_grants(&mut l).is_empty());
        assert!(!l[0].link && l[0].host == t.join("usr/bin"));
        // Only read-only there: a link of an exec grant would not run it.
        let mut l = vec![GrantSpec { mode: Mode::Ro, ..spec("usr", false) }, spec("bin", true)];
        links_to_grants(&mut l);
        assert!(!l[1].link);
        // A grant below it.
        let mut l = vec![spec("usr", false), spec("bin", true), GrantSpec { vpath: v("bin/x"), ..spec("usr", false) }];
        links_to_grants(&mut l);
        assert!(!l[1].link);
        // A link no target makes whole stays none.
        let mut l = vec![spec("usr", false), spec("dangling", true)];
        links_to_grants(&mut l);
        assert!(!l[1].link);
        // Named by the user too: the user's grant, what it names.
        let mut l = vec![spec("usr", false), spec("bin", true)];
        add_grant(&mut l, GrantSpec { vpath: v("bin"), host: t.join("usr/bin"), mode: Mode::Ro, link: false }).unwrap();
        assert!(!l[1].link && l[1].host == t.join("usr/bin") && l[1].mode == Mode::Exec);
    }

    #[test]
    fn a_program_is_granted_what_it_needs_to_start() {
        let prog = find_program(OsStr::new("true")).unwrap();
        let l = grants(&parse(&["true"]), &prog, None, &[]).unwrap().list;
        let v = vpaths(&l);
        assert!(l.iter().all(|g| g.mode == Mode::Exec), "{v:?}");
        assert!(v.iter().any(|p| p.ends_with("/true")), "{v:?}");
        assert!(v.iter().any(|p| p.contains("ld-linux")), "ld.so: {v:?}");
        assert!(v.iter().any(|p| p.contains("libc.so")), "libc: {v:?}");
        // With -B they are all below the base grants already.
        let l = grants(&parse(&["-B", "true"]), &prog, None, &[]).unwrap().list;
        let v = vpaths(&l);
        // -B grants the base only (not the current directory).
        assert!(v.iter().all(|p| BASE.iter().any(|(b, _)| p == b)), "{v:?}");
        assert!(v.contains(&"/usr".to_owned()) && v.contains(&"/dev/null".to_owned()));
        // A #! script brings its interpreter.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!/bin/sh -e\necho hi\n").unwrap();
        let files = start_startup_files(&script, false).unwrap().files().unwrap();
        assert_eq!(files[0], script);
        assert_eq!(files[1], Path::new("/bin/sh"));
        assert!(files.iter().any(|f| f.to_string_lossy().contains("libc.so")), "{files:?}");
        std::fs::write(&script, "#!").unwrap();
        assert!(start_startup_files(&script, false).is_err());
        assert!(find_program(OsStr::new("no-such-program-here")).is_err());
    }

    #[test]
    fn the_initial_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let host = std::fs::canonicalize(dir.path()).unwrap();
        let spec = GrantSpec { vpath: b"/w/d".to_vec(), host, mode: Mode::Rw, link: false };
        let mut ns = Namespace::new(&[spec]).unwrap();
        assert_eq!(initial_cwd(&mut ns, Some(Path::new("/w/d/"))).unwrap(), b"/w/d");
        assert_eq!(initial_cwd(&mut ns, Some(Path::new("/w"))).unwrap(), b"/w");
        assert!(initial_cwd(&mut ns, Some(Path::new("/w/d/nope"))).is_err(), "missing in a grant");
        assert!(initial_cwd(&mut ns, Some(Path::new("w"))).is_err());
        assert_eq!(initial_cwd(&mut ns, None).unwrap(), b"/", "the test's cwd is not granted");
        // Where nothing is granted: an empty virtual directory.
        assert_eq!(initial_cwd(&mut ns, Some(Path::new("/home/u"))).unwrap(), b"/home/u");
        assert!(ns.is_vdir(b"/home/u") && ns.vdir_children(b"/home/u").next().is_none());
    }
}
