//! The handler's configuration: ld-preld's private options, parsed once at
//! startup, and given again to ld-preld when the program execs (preld's
//! state crosses exec as arguments, never as environment variables).
//!
//! ```text
//! ld-preld [--trace-fd N] [--trace-follow] [--trace-filter NAME,...]
//!          [--trace-time 1|2|3] [--trace-tz-offset SECONDS] [--trace-durations]
//!          [--trace-strsize N] [--trace-count 1|2] [--tracer-fd N] [--tracer-filter NAME,...]
//!          [--map VIRT=HOST]... [--rpc-fd N] [--net] [--sandboxed] [--exec-fd N] [--interp-fd N] [--cwd PATH]
//!          [--argv0 NAME] [--close-fd N] [--sigsys N] [--no-fast] [--fast-stats]
//!          [--inject SPEC]... [--inject-counts NR=N,...]
//!          [--trace-status ok|failed] [--trace-hex 1|2] [--trace-fd-paths 1|2]
//!          [--trace-path PATH]... [--trace-quiet N] [--trace-vdso]
//!          [--clock-anchor REAL_NS:VIRTUAL_NS [--clock-rate R]
//!           [--clock-monotonic MONO_NS:RAW_NS:BOOT_NS]]
//!          [--] PROG ARGS...
//! ```
//! `--rpc-fd` makes the process a capability session: its connection to the
//! capability server, and Landlock (with TCP only if `--net`); `--sandboxed`
//! says Landlock is already in force (an exec inside the session), and
//! `--exec-fd` that the server handed over the program as that fd,
//! `--interp-fd` that the exec opened its PT_INTERP as that fd, `--cwd`
//! the session's virtual cwd the exec left (the server is not asked again).
//! `--argv0` and `--close-fd` belong to one exec and are not passed on.
//! `--tracer-fd` is the process's main connection to the tracer hub of
//! `preld trace --tracer` (handler/src/tracer.rs), `--tracer-filter` the
//! calls some tracer subscribed to (none: all).
//! The `--clock-*` options are virtual time's (clock.rs).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

#[derive(Default, Clone)]
pub struct Config {
    /// ld-preld's own path, NUL-terminated: what execve re-enters.
    pub loader: Vec<u8>,
    /// The program's absolute path (its /proc/self/exe).
    pub program: Vec<u8>,
    /// The (device, inode) of the program's file: exec of /proc/self/exe
    /// in a session goes by `program`'s path, which may hold another file
    /// by then.
    pub program_id: Option<(u64, u64)>,
    /// Options to give ld-preld again at exec, each NUL-terminated.
    pub replay: Vec<Vec<u8>>,
    /// Path maps, VIRT → HOST, absolute, without trailing slashes.
    pub maps: Vec<(Vec<u8>, Vec<u8>)>,
    pub trace: Option<Trace>,
    /// External tracers: the hub's main connection and the calls they want.
    pub tracer: Option<Tracer>,
    /// /proc/self/exe is ld-preld's (launcher mode): rewrite it to `program`.
    pub virtual_exe: bool,
    /// A capability session: the connection to the server.
    pub rpc_fd: Option<i32>,
    /// The session may use TCP.
    pub net: bool,
    /// The session has a network namespace of its own and no IP socket
    /// of the host's crossed into it (`--own-net`): TCP reaches nothing but
    /// the session's loopback, so Landlock leaves it alone.
    pub own_net: bool,
    /// `--beneath FD:MODE[,MNT_ID,NODEV]:VPATH`: a directory grant of the
    /// session the process resolves paths beneath itself (beneath.rs).
    pub beneath: Vec<BeneathArg>,
    /// `--vpath g:VPATH` or `d:VPATH`: every name of the session's
    /// namespace, its grants' (`g`) and its virtual directories' (`d`)
    /// paths: a path below a virtual directory that none of them is, is
    /// no file (beneath::missing).
    pub vpaths: Vec<(bool, Vec<u8>)>,
    /// `--vdirs LEN:FD:VPATH...`: an O_PATH fd of each virtual directory's
    /// stand-in, whose stat is the server's answer for the directory.
    pub vdirs: Vec<(i32, Vec<u8>)>,
    /// `--vpath l:VPATH:TARGET`: a symlink the session grants as itself
    /// (-B's /bin -> usr/bin) and the absolute virtual path it names,
    /// which the process follows itself (beneath::link_in).
    pub links: Vec<(Vec<u8>, Vec<u8>)>,
    /// Landlock is already in force (an exec inside a session).
    pub sandboxed: bool,
    /// `--app-seccomp`: in a session, the image before had a filter of the
    /// program's own besides the session's (`sud::seccomp_filtered`).
    pub app_seccomp: bool,
    /// The session's virtual cwd, given by the exec that started this image.
    pub cwd: Option<Vec<u8>>,
    /// The application's SIGSYS state before its exec (`signals::EXEC_*`
    /// bits): an ignored SIGSYS stays ignored and a blocked one blocked.
    pub sigsys: usize,
    /// `--no-fast`: every call traps (no site is rewritten).
    pub no_fast: bool,
    /// `--fast-stats`: at exit, how many calls took which path.
    pub fast_stats: bool,
    /// `--inject`: strace's -e inject= and -e fault= rules, in order.
    pub inject: Vec<crate::inject::Rule>,
    /// `--inject-counts NR=N,...`: the invocations counted before an exec
    /// (strace counts per tracee, and the process stays one across exec).
    pub inject_counts: Vec<(usize, u32)>,
    /// The trace came with `preld trace -p` (attach.rs): the process's own
    /// exit line is the handler's to write.
    pub attached: bool,
    /// `--trace-json-seq N`: the number of this image's first --json line
    /// (the process goes on numbering across exec).
    pub json_seq: u64,
    /// `--clock-anchor`, `--clock-rate`, `--clock-monotonic`: virtual time.
    pub clock: Option<crate::clock::Settings>,
}

#[derive(Clone)]
pub struct Trace {
    pub fd: i32,
    /// -ff -o FILE: each process writes to FILE.PID (`--trace-ff FILE`),
    /// and the output it got is that of process `ff_owner`
    /// (`--trace-ff-owner`, per exec: none means its own).
    pub ff: Option<Vec<u8>>,
    pub ff_owner: Option<i32>,
    pub follow: bool,
    /// Which calls to show; None: all.
    pub filter: Option<[u64; 8]>,
    /// vDSO calls are shown only when named in the filter.
    pub vdso: bool,
    /// With --trace-follow: the traced program's first thread, whose lines
    /// have no `[pid N]` prefix (it stays the same across exec).
    pub root: Option<i32>,
    /// strace's -t count: 1 `HH:MM:SS`, 2 with microseconds, 3 seconds
    /// since the epoch with microseconds; 0 none.
    pub time: u8,
    /// Local time minus UTC in seconds, for -t and -tt (the launcher knows
    /// the time zone; the handler does not read it).
    pub tz_offset: i64,
    /// strace's -T: ` <seconds>` spent in each call.
    pub durations: bool,
    /// strace's -s: how much of a string (and of an array) is shown.
    pub strsize: usize,
    /// strace's -c: no lines, but each process's count of calls, errors
    /// and time per call (1: CPU time of the thread, 2: wall time, -w),
    /// written as records for the launcher's table.
    pub count: u8,
    /// The options of trace_opts.rs (-z/-Z, -x, -y, -P, -qq, --vdso).
    pub more: crate::trace_opts::Options,
}

#[derive(Clone)]
pub struct Tracer {
    pub fd: i32,
    /// Which calls some tracer subscribed to; None: all.
    pub filter: Option<[u64; 8]>,
    /// Calls served by preld's vDSO are subscribed to.
    pub vdso: bool,
    /// `-s`: how much of a string the `call` lines show (when no line
    /// trace sets it).
    pub strsize: Option<usize>,
}

impl Trace {
    fn new(fd: i32) -> Trace {
        Trace {
            fd,
            ff: None,
            ff_owner: None,
            follow: false,
            filter: None,
            vdso: false,
            root: None,
            time: 0,
            tz_offset: 0,
            durations: false,
            strsize: 32,
            count: 0,
            more: Default::default(),
        }
    }
}

/// What the loader needs from the options besides the configuration.
#[derive(Default)]
pub struct Launch {
    /// Index of the program's path in the argument list.
    pub program: usize,
    pub argv0: Option<&'static [u8]>,
    pub close_fd: Option<i32>,
    /// In a session: the program is this fd (from the server), not a path.
    pub exec_fd: Option<i32>,
    /// In a session: the program's PT_INTERP, opened by the exec before
    /// (beneath a grant, in the process), not to be asked for again.
    pub interp_fd: Option<i32>,
    /// AT_EXECFN as the kernel would have given it (the path the
    /// application passed to execve), when it differs from PROG.
    pub execfn: Option<&'static [u8]>,
}

/// Why an option is wrong, for the loader's one-line error.
pub type OptError = &'static str;

impl Config {
    /// Whether path arguments need a look (maps, or /proc/self/exe).
    pub fn rewrites_paths(&self) -> bool {
        !self.maps.is_empty() || self.virtual_exe
    }

    /// Parses the options in `args` (ld-preld's argv without argv[0]).
    pub fn parse(args: &[&'static [u8]]) -> Result<(Config, Launch), OptError> {
        let mut c = Config::default();
        let mut l = Launch::default();
        let mut anchored = false;
        let mut i = 0;
        while i < args.len() {
            let a = args[i];
            if a == b"--" {
                i += 1;
                break;
            }
            if !a.starts_with(b"--") {
                break;
            }
            let value = if takes_value(a) {
                i += 1;
                Some(*args.get(i).ok_or("option needs a value")?)
            } else {
                None
            };
            match (a, value) {
                (b"--trace-fd", Some(v)) => {
                    let fd = parse_int(v).ok_or("--trace-fd needs a file descriptor number")?;
                    let t = c.trace.get_or_insert(Trace::new(fd));
                    t.fd = fd;
                }
                (b"--trace-follow", None) => {
                    c.trace.get_or_insert(Trace::new(2)).follow = true;
                }
                (b"--trace-filter", Some(v)) => {
                    let (filter, vdso) = parse_filter(v)?;
                    let t = c.trace.get_or_insert(Trace::new(2));
                    t.filter = Some(filter);
                    t.vdso = vdso;
                }
                (b"--trace-root", Some(v)) => {
                    let root = parse_int(v).ok_or("--trace-root needs a thread id")?;
                    c.trace.get_or_insert(Trace::new(2)).root = Some(root);
                }
                (b"--trace-time", Some(v)) => {
                    let n = parse_int(v).filter(|n| (0..=3).contains(n)).ok_or("--trace-time needs 0 to 3")?;
                    c.trace.get_or_insert(Trace::new(2)).time = n as u8;
                }
                (b"--trace-tz-offset", Some(v)) => {
                    let n = parse_int(v).ok_or("--trace-tz-offset needs seconds")?;
                    c.trace.get_or_insert(Trace::new(2)).tz_offset = n.into();
                }
                (b"--trace-count", Some(v)) => {
                    let n = parse_int(v).filter(|n| (1..=2).contains(n)).ok_or("--trace-count needs 1 or 2")?;
                    c.trace.get_or_insert(Trace::new(2)).count = n as u8;
                }
                (b"--trace-attached", None) => c.attached = true,
                (b"--trace-durations", None) => c.trace.get_or_insert(Trace::new(2)).durations = true,
                (b"--trace-strsize", Some(v)) => {
                    c.trace.get_or_insert(Trace::new(2)).strsize = parse_int(v).ok_or("--trace-strsize needs a number")? as usize;
                }
                (b"--tracer-fd", Some(v)) => {
                    let fd = parse_int(v).ok_or("--tracer-fd needs a file descriptor number")?;
                    c.tracer.get_or_insert(Tracer { fd, filter: None, vdso: true, strsize: None }).fd = fd;
                }
                (b"--tracer-filter", Some(v)) => {
                    let (filter, vdso) = parse_filter(v)?;
                    let t = c.tracer.get_or_insert(Tracer { fd: -1, filter: None, vdso: false, strsize: None });
                    t.filter = Some(filter);
                    t.vdso = vdso;
                }
                (b"--tracer-strsize", Some(v)) => {
                    let n = parse_int(v).ok_or("--tracer-strsize needs a number")? as usize;
                    c.tracer.get_or_insert(Tracer { fd: -1, filter: None, vdso: true, strsize: None }).strsize = Some(n);
                }
                (o, v) if crate::trace_opts::is_option(o) => {
                    crate::trace_opts::parse(&mut c.trace.get_or_insert(Trace::new(2)).more, o, v)?
                }
                (b"--map", Some(v)) => c.maps.push(parse_map(v)?),
                (b"--inject", Some(v)) => c.inject.push(crate::inject::Rule::parse(v)?),
                (b"--trace-ff", Some(v)) => c.trace.get_or_insert(Trace::new(2)).ff = Some(v.to_vec()),
                (b"--trace-ff-owner", Some(v)) => {
                    c.trace.get_or_insert(Trace::new(2)).ff_owner = Some(parse_int(v).ok_or("--trace-ff-owner needs a pid")?)
                }
                (b"--trace-json-seq", Some(v)) => {
                    c.json_seq = core::str::from_utf8(v).ok().and_then(|v| v.parse().ok()).ok_or("--trace-json-seq needs a number")?
                }
                (b"--inject-counts", Some(v)) => c.inject_counts = parse_counts(v).ok_or("--inject-counts needs NR=N,...")?,
                (b"--rpc-fd", Some(v)) => c.rpc_fd = Some(parse_int(v).ok_or("--rpc-fd needs a file descriptor number")?),
                (b"--net", None) => c.net = true,
                (b"--own-net", None) => c.own_net = true,
                (b"--vpath", Some(v)) => c.vpath(v)?,
                (b"--vpaths", Some(v)) => {
                    for e in unpack(v).ok_or("--vpaths needs LEN:ENTRY...")? {
                        c.vpath(e)?;
                    }
                }
                (b"--vdirs", Some(v)) => {
                    for e in unpack(v).ok_or("--vdirs needs LEN:FD:/VPATH...")? {
                        c.vdirs.push(parse_vdir(e).ok_or("--vdirs needs LEN:FD:/VPATH...")?);
                    }
                }
                (b"--beneath", Some(v)) => c.beneath.push(parse_beneath(v).ok_or("--beneath needs FD:r|x|w:/VPATH")?),
                (b"--beneaths", Some(v)) => {
                    for e in unpack(v).ok_or("--beneaths needs LEN:ENTRY...")? {
                        c.beneath.push(parse_beneath(e).ok_or("--beneath needs FD:r|x|w:/VPATH")?);
                    }
                }
                (b"--no-fast", None) => c.no_fast = true,
                (b"--fast-stats", None) => c.fast_stats = true,
                (b"--sandboxed", None) => c.sandboxed = true,
                (b"--app-seccomp", None) => c.app_seccomp = true,
                (b"--cwd", Some(v)) if v.first() == Some(&b'/') => c.cwd = Some(v.to_vec()),
                (b"--cwd", Some(_)) => return Err("--cwd needs an absolute path"),
                (b"--sigsys", Some(v)) => c.sigsys = parse_int(v).ok_or("--sigsys needs a number")? as usize,
                (b"--clock-anchor", Some(v)) => {
                    let (real0, virt0) = crate::clock::parse_anchor(v).ok_or("--clock-anchor needs REAL_NS:VIRTUAL_NS")?;
                    let s = c.clock.get_or_insert_with(Default::default);
                    (s.real0, s.virt0) = (real0, virt0);
                    anchored = true;
                }
                (b"--clock-rate", Some(v)) => {
                    c.clock.get_or_insert_with(Default::default).rate =
                        crate::clock::parse_rate(v).ok_or("--clock-rate needs a number above 0")?;
                }
                (b"--clock-monotonic", Some(v)) => {
                    c.clock.get_or_insert_with(Default::default).mono =
                        Some(crate::clock::parse_mono(v).ok_or("--clock-monotonic needs MONO_NS:RAW_NS:BOOT_NS")?);
                }
                (b"--execfn", Some(v)) => l.execfn = Some(v),
                (b"--exec-fd", Some(v)) => l.exec_fd = Some(parse_int(v).ok_or("--exec-fd needs a number")?),
                (b"--interp-fd", Some(v)) => l.interp_fd = Some(parse_int(v).ok_or("--interp-fd needs a number")?),
                (b"--argv0", Some(v)) => l.argv0 = Some(v),
                (b"--close-fd", Some(v)) => l.close_fd = Some(parse_int(v).ok_or("--close-fd needs a number")?),
                _ => return Err("unknown option"),
            }
            // Per-exec options, and the rpc fd, which is given anew (it moves).
            if !matches!(
                a,
                b"--argv0" | b"--close-fd" | b"--rpc-fd" | b"--tracer-fd" | b"--exec-fd" | b"--interp-fd" | b"--sandboxed" | b"--app-seccomp" | b"--net" | b"--own-net" | b"--trace-root" | b"--execfn"
                    | b"--cwd" | b"--beneath" | b"--beneaths" | b"--vdirs" | b"--sigsys" | b"--inject-counts" | b"--trace-json-seq" | b"--trace-ff-owner"
            ) {
                c.replay.push(nul(a));
                if let Some(v) = value {
                    c.replay.push(nul(v));
                }
            }
            i += 1;
        }
        if c.clock.is_some() && !anchored {
            return Err("--clock-rate and --clock-monotonic need --clock-anchor");
        }
        l.program = i;
        Ok((c, l))
    }
}

impl Config {
    /// One `--vpath` entry: `g:/VPATH` (a grant's path), `d:/VPATH` (a
    /// virtual directory's) or `l:/VPATH:/TARGET` (a symlink granted as
    /// itself and the absolute virtual path it names).
    fn vpath(&mut self, v: &[u8]) -> Result<(), OptError> {
        match v {
            [k @ (b'g' | b'd'), b':', p @ ..] if p.first() == Some(&b'/') => self.vpaths.push((*k == b'g', p.to_vec())),
            [b'l', b':', p @ ..] if p.first() == Some(&b'/') => {
                // (The launcher gives no link whose VPATH holds a `:`.)
                let colon = p.iter().position(|&b| b == b':').ok_or("--vpath l: needs l:/VPATH:/TARGET")?;
                let (link, target) = (&p[..colon], &p[colon + 1..]);
                if target.first() != Some(&b'/') {
                    return Err("--vpath l: needs l:/VPATH:/TARGET");
                }
                self.links.push((link.to_vec(), target.to_vec()));
            }
            _ => return Err("--vpath needs g:/VPATH, d:/VPATH or l:/VPATH:/TARGET"),
        }
        Ok(())
    }
}

/// The entries of a packed option (`--vpaths`, `--beneaths`): each as
/// `LEN:ENTRY`, LEN its length in decimal, one after the other. One
/// argument where a session's exec passed about 130 pairs (280 strings:
/// the kernel's copy and ld-preld's parse of each cost about 30 us of
/// every exec). None: malformed.
pub fn unpack(mut v: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !v.is_empty() {
        let colon = v.iter().position(|&b| b == b':')?;
        let n = usize::try_from(parse_int(&v[..colon])?).ok()?;
        out.push(v.get(colon + 1..colon + 1 + n)?);
        v = &v[colon + 1 + n..];
    }
    Some(out)
}

/// Appends `entry` to a packed option's value (`unpack`).
pub fn pack_into(v: &mut Vec<u8>, entry: &[u8]) {
    let mut digits = [0u8; 20];
    v.extend_from_slice(crate::sys::decimal(entry.len() as u64, &mut digits));
    v.push(b':');
    v.extend_from_slice(entry);
}

/// A directory grant as `--beneath` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BeneathArg {
    /// An O_PATH fd of its root.
    pub fd: i32,
    /// `r`, `x`, `w`, `t` (the session's own ptys), or `f`, `e` (a grant
    /// of one regular file: read-only, programs run).
    pub mode: u8,
    /// Its virtual path.
    pub vpath: Vec<u8>,
    /// What an exec's handler already knew of the fd: its mount id and
    /// whether its copy opens no devices (the launcher gives none).
    pub known: Option<(u64, bool)>,
    /// Its copy does not show the grants nested in it (`R`, `X`, `W`: -B's
    /// private /tmp, whose nested grants stand on empty directories).
    pub shadows: bool,
}

/// `FD:MODE[,MNT_ID,NODEV]:VPATH` of `--beneath`: an fd, `r`, `x`, `w`,
/// `t`, `f` or `e` (`R`, `X`, `W`: a directory grant whose copy does not
/// show the grants nested in it), optionally the mount id and 0/1 (the
/// handler's own at an exec), an absolute path.
fn parse_beneath(v: &[u8]) -> Option<BeneathArg> {
    let colon = v.iter().position(|&b| b == b':')?;
    let fd = parse_int(&v[..colon])?;
    let rest = &v[colon + 1..];
    let colon = rest.iter().position(|&b| b == b':')?;
    let (head, path) = (&rest[..colon], &rest[colon + 1..]);
    let mut parts = head.split(|&b| b == b',');
    let (mode, shadows) = match parts.next()? {
        [m @ (b'r' | b'x' | b'w' | b't' | b'f' | b'e' | b'l')] => (*m, false),
        [m @ (b'R' | b'X' | b'W')] => (m.to_ascii_lowercase(), true),
        _ => return None,
    };
    let known = match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => None,
        (Some(id), Some(nodev @ (b"0" | b"1")), None) => Some((core::str::from_utf8(id).ok()?.parse().ok()?, nodev == b"1")),
        _ => return None,
    };
    (fd >= 0 && path.first() == Some(&b'/')).then(|| BeneathArg { fd, mode, vpath: path.to_vec(), known, shadows })
}

/// `FD:VPATH` of `--vdirs`: an fd and an absolute path.
fn parse_vdir(v: &[u8]) -> Option<(i32, Vec<u8>)> {
    let colon = v.iter().position(|&b| b == b':')?;
    let fd = parse_int(&v[..colon]).filter(|&fd| fd >= 0)?;
    let path = &v[colon + 1..];
    (path.first() == Some(&b'/')).then(|| (fd, path.to_vec()))
}

/// Whether ld-preld's option `a` takes a value (the next argument).
pub fn takes_value(a: &[u8]) -> bool {
    matches!(
        a,
        b"--trace-fd" | b"--trace-filter" | b"--trace-root" | b"--map" | b"--beneath" | b"--beneaths" | b"--vdirs" | b"--vpath" | b"--vpaths" | b"--argv0" | b"--close-fd" | b"--rpc-fd" | b"--exec-fd" | b"--interp-fd" | b"--execfn" | b"--cwd"
            | b"--sigsys" | b"--trace-time" | b"--trace-tz-offset" | b"--trace-strsize" | b"--trace-count" | b"--inject"
            | b"--inject-counts" | b"--tracer-fd" | b"--tracer-filter" | b"--tracer-strsize" | b"--trace-json-seq" | b"--trace-ff" | b"--trace-ff-owner"
            | b"--clock-anchor" | b"--clock-rate" | b"--clock-monotonic"
    ) || crate::trace_opts::takes_value(a)
}

fn nul(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    v
}

fn parse_counts(v: &[u8]) -> Option<Vec<(usize, u32)>> {
    let v = core::str::from_utf8(v).ok()?;
    v.split(',').filter(|p| !p.is_empty()).map(|p| {
        let (nr, n) = p.split_once('=')?;
        Some((nr.parse::<usize>().ok().filter(|&nr| nr < 512)?, n.parse().ok()?))
    }).collect()
}

fn parse_int(v: &[u8]) -> Option<i32> {
    core::str::from_utf8(v).ok()?.parse().ok()
}

fn parse_filter(v: &[u8]) -> Result<([u64; 8], bool), OptError> {
    let mut f = [0u64; 8];
    let mut vdso = false;
    for name in v.split(|&c| c == b',').filter(|n| !n.is_empty()) {
        let name = core::str::from_utf8(name).map_err(|_| "bad system call name")?;
        let nr: syscalls::Sysno = name.parse().map_err(|_| "unknown system call name in the trace filter")?;
        let nr = nr as usize;
        if nr < 512 {
            f[nr / 64] |= 1 << (nr % 64);
        }
        vdso |= matches!(name, "clock_gettime" | "gettimeofday" | "time" | "getcpu" | "clock_getres");
    }
    Ok((f, vdso))
}

/// `VIRT=HOST`, both absolute; trailing slashes dropped.
fn parse_map(v: &[u8]) -> Result<(Vec<u8>, Vec<u8>), OptError> {
    let eq = v.iter().position(|&c| c == b'=').ok_or("--map needs VIRT=HOST")?;
    let (virt, host) = (trim(&v[..eq]), trim(&v[eq + 1..]));
    if !virt.starts_with(b"/") || !host.starts_with(b"/") {
        return Err("--map paths must be absolute");
    }
    Ok((virt.to_vec(), host.to_vec()))
}

fn trim(p: &[u8]) -> &[u8] {
    let mut p = p;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    p
}

static CONFIG: AtomicPtr<Config> = AtomicPtr::new(core::ptr::null_mut());
/// Tracing is on in this process (a fork child without --trace-follow stops).
static TRACING: AtomicBool = AtomicBool::new(false);

/// Installs the configuration: at startup, before any trap (and by
/// `replace`).
pub fn set(c: Config) {
    TRACING.store(c.trace.is_some(), Ordering::Relaxed);
    let b = alloc::boxed::Box::leak(alloc::boxed::Box::new(c));
    CONFIG.store(b, Ordering::Release);
}

/// Replaces the configuration by a changed copy (`preld trace -p`'s attach
/// and detach). The old one stays allocated: other threads may be reading
/// it. Called with every signal blocked, by one thread at a time (attach.rs
/// holds its lock).
pub fn replace(change: impl FnOnce(&mut Config)) {
    let mut c = get().clone();
    change(&mut c);
    set(c);
}

pub fn get() -> &'static Config {
    let p = CONFIG.load(Ordering::Acquire);
    // SAFETY: set from a leaked Box (at startup, and by `replace`, which
    // leaks a new one); no configuration is ever freed or changed once set.
    unsafe { p.as_ref() }.unwrap_or(&EMPTY)
}

static EMPTY: Config = Config {
    loader: Vec::new(),
    program: Vec::new(),
    program_id: None,
    replay: Vec::new(),
    maps: Vec::new(),
    trace: None,
    tracer: None,
    virtual_exe: false,
    rpc_fd: None,
    net: false,
    own_net: false,
    beneath: Vec::new(),
    vpaths: Vec::new(),
    vdirs: Vec::new(),
    links: Vec::new(),
    cwd: None,
    sandboxed: false,
    app_seccomp: false,
    sigsys: 0,
    no_fast: false,
    fast_stats: false,
    inject: Vec::new(),
    inject_counts: Vec::new(),
    attached: false,
    json_seq: 0,
    clock: None,
};

pub fn tracing() -> bool {
    TRACING.load(Ordering::Relaxed)
}

pub fn stop_tracing() {
    TRACING.store(false, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_replay() {
        let args: &[&'static [u8]] =
            &[b"--trace-fd", b"5", b"--map", b"/etc/passwd=/tmp/p/", b"--argv0", b"x", b"--", b"/bin/ls", b"-l"];
        let (c, l) = Config::parse(args).unwrap();
        assert_eq!(l.program, 7);
        assert_eq!(l.argv0, Some(&b"x"[..]));
        assert_eq!(c.trace.as_ref().unwrap().fd, 5);
        assert_eq!(c.maps, vec![(b"/etc/passwd".to_vec(), b"/tmp/p".to_vec())]);
        assert_eq!(c.replay, vec![b"--trace-fd\0".to_vec(), b"5\0".to_vec(), b"--map\0".to_vec(), b"/etc/passwd=/tmp/p/\0".to_vec()]);
    }

    #[test]
    fn virtual_directories_with_their_stand_ins() {
        let (c, _) = Config::parse(&[b"--vdirs", b"3:7:/11:12:/etc/ssl", b"prog"]).unwrap();
        assert_eq!(c.vdirs, alloc::vec![(7, b"/".to_vec()), (12, b"/etc/ssl".to_vec())]);
        for bad in [&b"3:7:x"[..], b"4:-1:/", b"2::/", b"3:7/"] {
            assert!(Config::parse(&[b"--vdirs", bad, b"prog"]).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn packed_entries_unpack_as_given() {
        let mut v = Vec::new();
        for e in [&b"g:/usr"[..], b"d:/a:b", b"l:/bin:/usr/bin", b""] {
            pack_into(&mut v, e);
        }
        assert_eq!(v, b"6:g:/usr6:d:/a:b15:l:/bin:/usr/bin0:".to_vec());
        assert_eq!(unpack(&v), Some(alloc::vec![&b"g:/usr"[..], b"d:/a:b", b"l:/bin:/usr/bin", b""]));
        for bad in [&b"7:g:/usr"[..], b"x:g", b"6g:/usr", b"-1:", b"6:g:/usr3"] {
            assert_eq!(unpack(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let (c, _) = Config::parse(&[b"--vpaths", b"6:g:/usr4:d:/a15:l:/bin:/usr/bin", b"--beneaths", b"8:3:x:/usr14:4:f:/etc/group", b"prog"]).unwrap();
        assert_eq!(c.vpaths, alloc::vec![(true, b"/usr".to_vec()), (false, b"/a".to_vec())]);
        assert_eq!(c.links, alloc::vec![(b"/bin".to_vec(), b"/usr/bin".to_vec())]);
        assert_eq!(c.beneath.iter().map(|b| (b.fd, b.mode)).collect::<Vec<_>>(), alloc::vec![(3, b'x'), (4, b'f')]);
        assert!(Config::parse(&[b"--vpaths", b"6:q:/usr", b"prog"]).is_err());
    }

    #[test]
    fn beneath_grants_with_and_without_what_an_exec_knew() {
        let b = |v: &str| parse_beneath(v.as_bytes());
        let arg = |fd, mode, vpath: &str, known| Some(BeneathArg { fd, mode, vpath: vpath.as_bytes().to_vec(), known, shadows: false });
        assert_eq!(b("3:x:/usr"), arg(3, b'x', "/usr", None));
        assert_eq!(b("19985:w,4294967301,1:/tmp/a:b"), arg(19985, b'w', "/tmp/a:b", Some((4294967301, true))));
        assert_eq!(b("7:t,12,0:/dev/pts"), arg(7, b't', "/dev/pts", Some((12, false))));
        let shadowing = Some(BeneathArg { fd: 9, mode: b'w', vpath: b"/tmp".to_vec(), known: Some((12, true)), shadows: true });
        assert_eq!(b("9:W,12,1:/tmp"), shadowing);
        for bad in ["3:T:/dev/pts", "3:F:/etc/passwd", "3:q:/usr", "3:x:usr", "-1:x:/usr", "3:x,12:/usr", "3:x,12,2:/usr", "3:x,a,1:/usr", "3:x,1,1,1:/usr", "3:xw:/usr", "3:x"] {
            assert_eq!(b(bad), None, "{bad}");
        }
    }

    #[test]
    fn bad_options() {
        assert!(Config::parse(&[b"--bogus"]).is_err());
        assert!(Config::parse(&[b"--map", b"relative=/x"]).is_err());
        assert!(Config::parse(&[b"--trace-fd"]).is_err());
        assert!(Config::parse(&[b"--trace-filter", b"openat,nosuchcall"]).is_err());
        let (c, _) = Config::parse(&[b"--trace-filter", b"openat,clock_gettime", b"ls"]).unwrap();
        let t = c.trace.unwrap();
        assert!(t.vdso && t.filter.unwrap()[0] & (1 << 2) == 0);
        assert!(Config::parse(&[b"--clock-rate", b"2", b"ls"]).is_err());
        assert!(Config::parse(&[b"--clock-anchor", b"5", b"ls"]).is_err());
        assert!(Config::parse(&[b"--clock-anchor", b"5:6", b"--clock-rate", b"0", b"ls"]).is_err());
    }

    #[test]
    fn clock_options_are_replayed() {
        let args: &[&'static [u8]] =
            &[b"--clock-anchor", b"5:-6", b"--clock-rate", b"0.5", b"--clock-monotonic", b"1:2:3", b"ls"];
        let (c, l) = Config::parse(args).unwrap();
        assert_eq!(l.program, 6);
        let s = c.clock.unwrap();
        assert_eq!((s.real0, s.virt0, s.rate, s.mono), (5, -6, 0.5, Some([1, 2, 3])));
        assert_eq!(c.replay.len(), 6);
    }
}
