//! `preld trace --tracer CMD`: the hub between the traced processes and the
//! external tracers (docs/tracer-protocol.md).
//!
//! The tracers are started with `sh -c CMD` on pipes (or, `--tracer-fds
//! R,W`, already run by whoever started preld: the Python client), and
//! speak lines. The traced processes speak binary frames
//! (proto/src/tracer.rs) on SOCK_SEQPACKET connections: ld-preld gets one
//! end of the main connection (`--tracer-fd`), over which each thread sends
//! the hub a connection of its own. One thread of preld runs the hub: a
//! poll loop over the main connection, the threads' connections and the
//! tracers' stdouts. Each tracer has at most one question outstanding; the
//! rest wait in its queue, so a thread blocked in a stepped call holds up
//! nobody. A call descends from the outermost tracer inwards (each sees it
//! as the ones outside rewrote it, a skip ends the descent), then its
//! result ascends through the tracers that stepped it, innermost first.

pub(crate) mod names;
pub mod parse;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Child, Command, Stdio};

use preld_proto::tracer::{self as wire, Down, Up};

use parse::Line;

/// One `--tracer`/`--tracer-fds` with the `-e trace=` that followed it.
#[derive(Debug, Clone)]
pub struct Spec {
    pub source: Source,
    /// The calls it subscribed to, by number; None: all.
    pub calls: Option<Vec<usize>>,
    /// Their names, for ld-preld's `--tracer-filter`.
    pub names: Option<Vec<&'static str>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `sh -c CMD`.
    Command(String),
    /// Inherited fds: preld reads answers from the first, writes to the second.
    Fds(RawFd, RawFd),
}

/// `R,W` of `--tracer-fds`.
pub fn parse_fds(s: &str) -> Result<(RawFd, RawFd), String> {
    let (r, w) = s.split_once(',').ok_or("expected R,W (two file descriptor numbers)")?;
    let n = |x: &str| x.trim().parse::<RawFd>().ok().filter(|&f| f > 2).ok_or(format!("`{x}` is not an fd above 2"));
    Ok((n(r)?, n(w)?))
}

/// The union of the tracers' subscriptions for ld-preld; None: all calls.
pub fn filter_arg(specs: &[Spec]) -> Option<String> {
    let mut all: Vec<&str> = Vec::new();
    for s in specs {
        all.extend(s.names.as_ref()?.iter().copied());
    }
    all.sort_unstable();
    all.dedup();
    Some(all.join(","))
}

struct Tracer {
    label: String,
    input: Option<File>,
    output: Option<OwnedFd>,
    rbuf: Vec<u8>,
    calls: Option<HashSet<usize>>,
    busy: Option<Q>,
    queue: VecDeque<Q>,
    child: Option<Child>,
}

impl Tracer {
    fn live(&self) -> bool {
        self.input.is_some() && self.output.is_some()
    }

    fn wants(&self, nr: u32) -> bool {
        self.live() && self.calls.as_ref().is_none_or(|c| c.contains(&(nr as usize)))
    }
}

/// A question waiting for (or put to) a tracer.
#[derive(Clone, Copy, Debug)]
enum Q {
    Call(u64),
    Result(u64),
    Signal(u64),
    Exit(i32, i32),
}

enum Kind {
    Call,
    Signal(i32),
}

struct Job {
    conn: RawFd,
    seq: u32,
    pid: i32,
    tid: i32,
    nr: u32,
    kind: Kind,
    words: [u64; 6],
    text: String,
    strmask: u8,
    blob: Vec<u8>,
    /// The next tracer the descent asks (index into the tracers).
    next: usize,
    /// Tracers that answered `step`, outermost first.
    steppers: Vec<usize>,
    /// The call is made (false: skipped).
    made: bool,
    /// The result so far (value or -errno), and the sets to apply.
    value: i64,
    sets: Vec<u8>,
}

struct Conn {
    pid: i32,
}

pub struct Hub {
    tracers: Vec<Tracer>,
    main: OwnedFd,
    main_open: bool,
    conns: HashMap<RawFd, (Conn, OwnedFd)>,
    jobs: HashMap<u64, Job>,
    next_job: u64,
    next_seq: u32,
    /// (conn, seq) of stepped calls waiting for their result.
    stepped: HashMap<(RawFd, u32), u64>,
    exited: HashSet<i32>,
    seen: HashSet<i32>,
}

/// Started: the hub's thread, and the end of the main connection ld-preld
/// gets (close-on-exec: the caller clears it in the child).
pub struct Started {
    pub thread: std::thread::JoinHandle<Hub>,
    pub child_end: OwnedFd,
}

fn cloexec(fd: RawFd) {
    // SAFETY: fcntl F_SETFD on an fd number; no memory is passed.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

fn nonblocking(fd: RawFd) {
    // SAFETY: fcntl F_GETFL/F_SETFL on an fd number.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// Starts the tracers and the hub's thread.
pub fn start(specs: &[Spec]) -> Result<Started, String> {
    let mut tracers = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let calls = s.calls.as_ref().map(|c| c.iter().copied().collect());
        let (input, output, child, label) = match &s.source {
            Source::Command(cmd) => {
                let mut child = Command::new("sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot start tracer `{cmd}`: {e}"))?;
                let input = File::from(OwnedFd::from(child.stdin.take().ok_or("no stdin pipe")?));
                let output = OwnedFd::from(child.stdout.take().ok_or("no stdout pipe")?);
                (input, output, Some(child), format!("tracer {} (`{cmd}`)", i + 1))
            }
            Source::Fds(r, w) => {
                // SAFETY: fds given on the command line for this purpose,
                // owned from here on (close-on-exec: the program must not
                // inherit them).
                let (output, input) = unsafe { (OwnedFd::from_raw_fd(*r), OwnedFd::from_raw_fd(*w)) };
                cloexec(*r);
                cloexec(*w);
                (File::from(input), output, None, format!("tracer {} (fds {r},{w})", i + 1))
            }
        };
        nonblocking(output.as_raw_fd());
        tracers.push(Tracer {
            label,
            input: Some(input),
            output: Some(output),
            rbuf: Vec::new(),
            calls,
            busy: None,
            queue: VecDeque::new(),
            child,
        });
    }
    let mut sv = [0; 2];
    // SAFETY: socketpair writes two fds into `sv`.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) } < 0 {
        return Err(format!("socketpair: {}", io::Error::last_os_error()));
    }
    // SAFETY: both fds were just made and are owned here.
    let (main, child_end) = unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) };
    let hub = Hub {
        tracers,
        main,
        main_open: true,
        conns: HashMap::new(),
        jobs: HashMap::new(),
        next_job: 1,
        next_seq: 1,
        stepped: HashMap::new(),
        exited: HashSet::new(),
        seen: HashSet::new(),
    };
    let thread = std::thread::Builder::new()
        .name("preld-tracer-hub".into())
        .spawn(move || {
            let mut hub = hub;
            hub.run();
            hub
        })
        .map_err(|e| format!("cannot start the tracer hub: {e}"))?;
    Ok(Started { thread, child_end })
}

impl Hub {
    /// Serves until every traced process has closed its connections.
    fn run(&mut self) {
        // Empty polls left before the hub sleeps: after each event it looks
        // again SPINS times, yielding its CPU between looks, since the next
        // message (the tracer's answer, the thread's next call) usually
        // follows within microseconds, and waking a sleeping thread costs
        // tens of µs on an idle vCPU (docs/DESIGN.md, "External tracers").
        const SPINS: u32 = 64;
        let mut spins = 0;
        loop {
            if !self.main_open && self.conns.is_empty() {
                return;
            }
            let mut fds = Vec::new();
            if self.main_open {
                fds.push(libc::pollfd { fd: self.main.as_raw_fd(), events: libc::POLLIN, revents: 0 });
            }
            let conn_fds: Vec<RawFd> = self.conns.keys().copied().collect();
            for &c in &conn_fds {
                fds.push(libc::pollfd { fd: c, events: libc::POLLIN, revents: 0 });
            }
            let tracer_at = fds.len();
            let mut tracer_idx = Vec::new();
            for (i, t) in self.tracers.iter().enumerate() {
                if let Some(o) = &t.output {
                    fds.push(libc::pollfd { fd: o.as_raw_fd(), events: libc::POLLIN, revents: 0 });
                    tracer_idx.push(i);
                }
            }
            let timeout = if spins > 0 { 0 } else { -1 };
            // SAFETY: `fds` is a live array of pollfd of that length.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
            if n == 0 {
                spins -= 1;
                std::thread::yield_now();
                continue;
            }
            spins = SPINS;
            if n < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                eprintln!("preld: tracer hub: poll: {}", io::Error::last_os_error());
                return;
            }
            let mut k = 0;
            if self.main_open {
                if fds[0].revents != 0 {
                    self.on_main();
                }
                k = 1;
            }
            for (j, &c) in conn_fds.iter().enumerate() {
                if fds[k + j].revents != 0 {
                    self.on_conn(c);
                }
            }
            for (j, &i) in tracer_idx.iter().enumerate() {
                if fds[tracer_at + j].revents != 0 {
                    self.on_tracer(i);
                }
            }
        }
    }

    /// A Connect frame (with the thread's connection), or the end.
    fn on_main(&mut self) {
        let mut buf = [0u8; 64];
        let (n, fd) = match recv_with_fd(self.main.as_raw_fd(), &mut buf) {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => return,
            Err(_) => (0, None),
        };
        if n == 0 {
            self.main_open = false;
            return;
        }
        match (wire::decode_up(&buf[..n]), fd) {
            (Ok(Up::Connect { pid, .. }), Some(fd)) => {
                nonblocking(fd.as_raw_fd());
                self.seen.insert(pid);
                self.conns.insert(fd.as_raw_fd(), (Conn { pid }, fd));
            }
            _ => eprintln!("preld: tracer hub: a bad frame on the main connection, ignored"),
        }
    }

    fn on_conn(&mut self, c: RawFd) {
        let mut buf = vec![0u8; wire::MAX_FRAME];
        // SAFETY: recv into a live buffer of that length.
        let n = unsafe { libc::recv(c, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
                return;
            }
        }
        if n <= 0 {
            self.close_conn(c);
            return;
        }
        let frame = &buf[..n as usize];
        match wire::decode_up(frame) {
            Ok(Up::Call { pid, tid, nr, args, text }) => {
                let seq = self.seq();
                let text = String::from_utf8_lossy(text).into_owned();
                let job = Job {
                    conn: c,
                    seq,
                    pid,
                    tid,
                    nr,
                    kind: Kind::Call,
                    words: args,
                    text,
                    strmask: 0,
                    blob: Vec::new(),
                    next: 0,
                    steppers: Vec::new(),
                    made: true,
                    value: 0,
                    sets: Vec::new(),
                };
                let id = self.add(job);
                self.descend(id);
            }
            Ok(Up::Result { seq, ret }) => match self.stepped.remove(&(c, seq)) {
                Some(id) if self.jobs.contains_key(&id) => {
                    if let Some(j) = self.jobs.get_mut(&id) {
                        j.value = ret;
                    }
                    self.ascend(id);
                }
                _ => self.send(c, &Down::Final { seq, value: ret, sets: &[] }),
            },
            Ok(Up::Signal { pid, tid, sig, text }) => {
                // A SIGCHLD for a child killed by a signal tells its end
                // (a killed process sends no exit frame of its own).
                if let Some((child, killer)) = killed_child(sig, &String::from_utf8_lossy(text)) {
                    self.exit(child, -killer);
                }
                let seq = self.seq();
                let job = Job {
                    conn: c,
                    seq,
                    pid,
                    tid,
                    nr: 0,
                    kind: Kind::Signal(sig as i32),
                    words: [0; 6],
                    text: String::from_utf8_lossy(text).into_owned(),
                    strmask: 0,
                    blob: Vec::new(),
                    next: 0,
                    steppers: Vec::new(),
                    made: true,
                    value: 0,
                    sets: Vec::new(),
                };
                let id = self.add(job);
                self.descend(id);
            }
            Ok(Up::Exit { pid, status, .. }) => self.exit(pid, status),
            _ => eprintln!("preld: tracer hub: a bad frame from a traced thread, ignored"),
        }
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        s
    }

    fn add(&mut self, j: Job) -> u64 {
        let id = self.next_job;
        self.next_job += 1;
        self.jobs.insert(id, j);
        id
    }

    fn close_conn(&mut self, c: RawFd) {
        let Some((conn, _fd)) = self.conns.remove(&c) else { return };
        self.jobs.retain(|_, j| j.conn != c);
        self.stepped.retain(|k, _| k.0 != c);
        let pid = conn.pid;
        if !self.exited.contains(&pid) && !self.conns.values().any(|(o, _)| o.pid == pid) {
            // The process's last connection closed without an exit frame:
            // killed (SIGKILL, or a signal preld did not see). Its status
            // is read from /proc while it is a zombie.
            if let Some(status) = zombie_status(pid) {
                self.exit(pid, status);
            }
        }
    }

    fn exit(&mut self, pid: i32, status: i32) {
        if !self.exited.insert(pid) {
            return;
        }
        for i in 0..self.tracers.len() {
            if self.tracers[i].live() {
                self.enqueue(i, Q::Exit(pid, status));
            }
        }
    }

    /// Whether the process `pid`'s end was told to the tracers.
    pub fn exit_reported(&self, pid: i32) -> bool {
        self.exited.contains(&pid)
    }

    /// The program's first process ended with `status` (from preld's wait):
    /// told now if no frame told it.
    pub fn root_ended(&mut self, pid: i32, status: i32) {
        self.exit(pid, status);
        for i in 0..self.tracers.len() {
            self.pump(i);
        }
    }

    /// Closes the tracers' stdins and waits for the tracers started here.
    pub fn finish(mut self) {
        for t in &mut self.tracers {
            t.input = None;
        }
        for t in &mut self.tracers {
            if let Some(mut c) = t.child.take() {
                let _ = c.wait();
            }
        }
    }

    fn send(&self, c: RawFd, m: &Down<'_>) {
        let mut buf = vec![0u8; wire::MAX_FRAME];
        let Ok(n) = wire::encode_down(m, &mut buf) else { return };
        // SAFETY: send from a live buffer; MSG_NOSIGNAL: a closed
        // connection is an error, not a SIGPIPE.
        unsafe { libc::send(c, buf.as_ptr().cast(), n, libc::MSG_NOSIGNAL) };
    }

    fn all_gone(&self) -> bool {
        self.tracers.iter().all(|t| !t.live())
    }

    /// The descent: the next tracer that wants this call (or any signal)
    /// is asked; past the last one the verdict goes to the thread.
    fn descend(&mut self, id: u64) {
        let Some(j) = self.jobs.get(&id) else { return };
        let is_call = matches!(j.kind, Kind::Call);
        let from = j.next;
        let found = (from..self.tracers.len()).find(|&i| if is_call { self.tracers[i].wants(j.nr) } else { self.tracers[i].live() });
        if let Some(i) = found {
            if let Some(j) = self.jobs.get_mut(&id) {
                j.next = i + 1;
            }
            self.enqueue(i, if is_call { Q::Call(id) } else { Q::Signal(id) });
            return;
        }
        let Some(j) = self.jobs.get(&id) else { return };
        match j.kind {
            Kind::Signal(sig) => {
                self.send(j.conn, &Down::Signal { sig });
                self.jobs.remove(&id);
            }
            Kind::Call if !j.steppers.is_empty() => {
                let v = Down::Verdict {
                    action: wire::STEP,
                    strmask: j.strmask,
                    seq: j.seq,
                    value: 0,
                    args: j.words,
                    blob: &j.blob,
                    sets: &[],
                };
                self.send(j.conn, &v);
                self.stepped.insert((j.conn, j.seq), id);
            }
            Kind::Call => {
                let action = if self.all_gone() { wire::DETACH } else { wire::CONT };
                let v = Down::Verdict { action, strmask: j.strmask, seq: j.seq, value: 0, args: j.words, blob: &j.blob, sets: &[] };
                self.send(j.conn, &v);
                self.jobs.remove(&id);
            }
        }
    }

    /// The ascent: the result goes to the tracers that stepped the call,
    /// innermost first; then to the thread.
    fn ascend(&mut self, id: u64) {
        let Some(j) = self.jobs.get_mut(&id) else { return };
        while let Some(i) = j.steppers.pop() {
            if self.tracers[i].live() {
                self.enqueue(i, Q::Result(id));
                return;
            }
        }
        let j = &self.jobs[&id];
        if j.made {
            self.send(j.conn, &Down::Final { seq: j.seq, value: j.value, sets: &j.sets });
        } else {
            let v = Down::Verdict {
                action: wire::RETURN,
                strmask: 0,
                seq: j.seq,
                value: j.value,
                args: j.words,
                blob: &[],
                sets: &j.sets,
            };
            self.send(j.conn, &v);
        }
        self.jobs.remove(&id);
    }

    fn enqueue(&mut self, i: usize, q: Q) {
        self.tracers[i].queue.push_back(q);
        self.pump(i);
    }

    /// Puts the tracer's next question to it, if it has none outstanding.
    fn pump(&mut self, i: usize) {
        while self.tracers[i].busy.is_none() {
            let Some(q) = self.tracers[i].queue.pop_front() else { return };
            if !self.tracers[i].live() {
                self.default_answer(q);
                continue;
            }
            let line = match q {
                Q::Call(id) => self.jobs.get(&id).map(|j| format!("call {} {} {} {}\n", j.seq, j.pid, j.tid, j.text)),
                Q::Result(id) => self.jobs.get(&id).map(|j| {
                    if (-4095..0).contains(&j.value) {
                        format!("result {} fail {}\n", j.seq, names::errno_name(-j.value as i32))
                    } else {
                        format!("result {} ok {}\n", j.seq, j.value)
                    }
                }),
                Q::Signal(id) => self.jobs.get(&id).map(|j| format!("signal {} {} {} {}\n", j.seq, j.pid, j.tid, j.text)),
                Q::Exit(pid, st) if st < 0 => Some(format!("exit {pid} killed {}\n", crate::trace::signal_name(-st))),
                Q::Exit(pid, st) => Some(format!("exit {pid} {st}\n")),
            };
            // A question whose thread is gone is not asked.
            let Some(line) = line else { continue };
            let t = &mut self.tracers[i];
            let ok = t.input.as_mut().is_some_and(|f| f.write_all(line.as_bytes()).is_ok());
            if !ok {
                self.gone(i);
                self.default_answer(q);
                continue;
            }
            if !matches!(q, Q::Exit(..)) {
                self.tracers[i].busy = Some(q);
            }
        }
    }

    /// The tracer is detached (it said so, died, or closed its stdout):
    /// its question and queue get the answers that change nothing.
    fn gone(&mut self, i: usize) {
        let t = &mut self.tracers[i];
        t.input = None;
        t.output = None;
        let mut qs: Vec<Q> = t.busy.take().into_iter().collect();
        qs.extend(t.queue.drain(..));
        for q in qs {
            self.default_answer(q);
        }
    }

    fn default_answer(&mut self, q: Q) {
        match q {
            Q::Call(id) | Q::Signal(id) => self.descend(id),
            Q::Result(id) => self.ascend(id),
            Q::Exit(..) => {}
        }
    }

    fn on_tracer(&mut self, i: usize) {
        let Some(fd) = self.tracers[i].output.as_ref().map(|o| o.as_raw_fd()) else { return };
        let mut buf = [0u8; 65536];
        // SAFETY: read into a live buffer of that length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
                return;
            }
        }
        if n <= 0 {
            self.gone(i);
            return;
        }
        self.tracers[i].rbuf.extend_from_slice(&buf[..n as usize]);
        // A tracer that writes without end (no newline) is cut off.
        if self.tracers[i].rbuf.len() > 1 << 20 {
            eprintln!("preld: {}: a line of more than 1 MiB; detached", self.tracers[i].label);
            self.gone(i);
            return;
        }
        while let Some(l) = self.take_line(i) {
            self.on_line(i, &l);
            if !self.tracers[i].live() {
                return;
            }
        }
    }

    fn take_line(&mut self, i: usize) -> Option<String> {
        let t = &mut self.tracers[i];
        let nl = t.rbuf.iter().position(|&b| b == b'\n')?;
        let l: Vec<u8> = t.rbuf.drain(..=nl).collect();
        Some(String::from_utf8_lossy(&l[..nl]).into_owned())
    }

    /// The line after a `rewrite`, if the tracer wrote it with it (one
    /// write): `step` or `cont`.
    fn take_step_after_rewrite(&mut self, i: usize) -> bool {
        let t = &self.tracers[i];
        let Some(nl) = t.rbuf.iter().position(|&b| b == b'\n') else { return false };
        let next = String::from_utf8_lossy(&t.rbuf[..nl]).into_owned();
        match parse::line(&next) {
            Ok(Line::Step) => {
                self.take_line(i);
                true
            }
            Ok(Line::Cont) => {
                self.take_line(i);
                false
            }
            _ => false,
        }
    }

    fn complain(&self, i: usize, line: &str, why: &str, taken: &str) {
        eprintln!("preld: {}: bad answer `{line}`: {why}; taken as `{taken}`", self.tracers[i].label);
    }

    fn on_line(&mut self, i: usize, l: &str) {
        let parsed = parse::line(l);
        if parsed == Ok(Line::Detach) {
            self.gone(i);
            return;
        }
        let Some(q) = self.tracers[i].busy else {
            self.complain(i, l, "no question is waiting for an answer", "nothing");
            return;
        };
        let done = match q {
            Q::Call(id) => self.answer_call(i, id, l, parsed),
            Q::Result(id) => self.answer_result(i, id, l, parsed),
            Q::Signal(id) => self.answer_signal(i, id, l, parsed),
            Q::Exit(..) => true,
        };
        if done {
            self.tracers[i].busy = None;
            self.pump(i);
        }
    }

    /// An answer to `call`; true when complete. Then the descent goes on.
    fn answer_call(&mut self, i: usize, id: u64, l: &str, parsed: Result<Line, String>) -> bool {
        if !self.jobs.contains_key(&id) {
            return true;
        }
        let mut step = false;
        match parsed {
            Ok(Line::Cont) => {}
            Ok(Line::Step) => step = true,
            Ok(Line::SkipOk(v)) => return self.skip(id, v),
            Ok(Line::SkipFail(e)) => return self.skip(id, -(e as i64)),
            Ok(Line::Rewrite(new)) => {
                step = self.take_step_after_rewrite(i);
                if let Err(why) = self.apply_rewrite(id, &new) {
                    self.complain(i, l, &why, if step { "step" } else { "cont" });
                }
            }
            Ok(other) => self.complain(i, l, &format!("`{}` does not answer a call", word(&other)), "cont"),
            Err(why) => self.complain(i, l, &why, "cont"),
        }
        if step {
            if let Some(j) = self.jobs.get_mut(&id) {
                j.steppers.push(i);
            }
        }
        self.tracers[i].busy = None;
        self.descend(id);
        self.pump(i);
        false
    }

    fn skip(&mut self, id: u64, value: i64) -> bool {
        if let Some(j) = self.jobs.get_mut(&id) {
            j.made = false;
            j.value = value;
        }
        // (The tracer is free before the ascent asks the ones outside it.)
        self.ascend(id);
        true
    }

    fn apply_rewrite(&mut self, id: u64, new: &str) -> Result<(), String> {
        let j = self.jobs.get_mut(&id).ok_or("gone")?;
        let room = wire::MAX_BLOB.saturating_sub(j.blob.len());
        let r = parse::rewrite(&j.text, &j.words, new, room)?;
        // Strings of an outer rewrite that this one kept stay in the blob;
        // new ones are appended after them.
        let base = j.blob.len() as u64;
        let mut strmask = 0;
        for i in 0..6 {
            if r.strmask & (1 << i) != 0 {
                j.words[i] = r.args[i] + base;
                strmask |= 1 << i;
            } else {
                if r.args[i] != j.words[i] {
                    j.words[i] = r.args[i];
                } else if j.strmask & (1 << i) != 0 {
                    strmask |= 1 << i;
                }
            }
        }
        j.blob.extend_from_slice(&r.blob);
        j.strmask = strmask;
        j.text = new.to_string();
        Ok(())
    }

    fn answer_result(&mut self, i: usize, id: u64, l: &str, parsed: Result<Line, String>) -> bool {
        let Some(j) = self.jobs.get_mut(&id) else { return true };
        let final_value = match parsed {
            Ok(Line::Set(idx, bytes)) => {
                let mut buf = vec![0u8; wire::MAX_SETS];
                let mut len = j.sets.len();
                buf[..len].copy_from_slice(&j.sets);
                match wire::push_set(&mut buf, &mut len, idx as u8, &bytes) {
                    Ok(()) => j.sets = buf[..len].to_vec(),
                    Err(_) => self.complain(i, l, &format!("the sets exceed {} bytes", wire::MAX_SETS), "nothing"),
                }
                return false;
            }
            Ok(Line::Ok(v)) => v,
            Ok(Line::Fail(e)) => -(e as i64),
            Ok(Line::Cont) => j.value,
            Ok(other) => {
                let v = j.value;
                self.complain(i, l, &format!("`{}` does not answer a result", word(&other)), "the result unchanged");
                v
            }
            Err(why) => {
                let v = j.value;
                self.complain(i, l, &why, "the result unchanged");
                v
            }
        };
        if let Some(j) = self.jobs.get_mut(&id) {
            j.value = final_value;
        }
        self.tracers[i].busy = None;
        self.ascend(id);
        true
    }

    fn answer_signal(&mut self, i: usize, id: u64, l: &str, parsed: Result<Line, String>) -> bool {
        let Some(j) = self.jobs.get_mut(&id) else { return true };
        match parsed {
            Ok(Line::Deliver(None)) | Ok(Line::Cont) => {}
            Ok(Line::Deliver(Some(s))) => {
                if let Kind::Signal(old) = j.kind {
                    let (o, n) = (crate::trace::signal_name(old), crate::trace::signal_name(s));
                    if let Some(rest) = j.text.strip_prefix(&o) {
                        j.text = format!("{n}{rest}");
                    }
                }
                j.kind = Kind::Signal(s);
            }
            Ok(Line::Suppress) => {
                j.kind = Kind::Signal(0);
                j.next = usize::MAX;
            }
            Ok(other) => self.complain(i, l, &format!("`{}` does not answer a signal", word(&other)), "deliver"),
            Err(why) => self.complain(i, l, &why, "deliver"),
        }
        self.tracers[i].busy = None;
        self.descend(id);
        true
    }
}

fn word(l: &Line) -> &'static str {
    match l {
        Line::Cont => "cont",
        Line::Step => "step",
        Line::SkipOk(_) => "skip-ok",
        Line::SkipFail(_) => "skip-fail",
        Line::Rewrite(_) => "rewrite",
        Line::Ok(_) => "ok",
        Line::Fail(_) => "fail",
        Line::Set(..) => "set",
        Line::Deliver(_) => "deliver",
        Line::Suppress => "suppress",
        Line::Detach => "detach",
    }
}

/// `(pid, signal)` of a SIGCHLD's `si_code=CLD_KILLED, si_pid=N, ...
/// si_status=SIGx` (or CLD_DUMPED).
fn killed_child(sig: u32, text: &str) -> Option<(i32, i32)> {
    if sig != libc::SIGCHLD as u32 || !(text.contains("si_code=CLD_KILLED") || text.contains("si_code=CLD_DUMPED")) {
        return None;
    }
    let field = |name: &str| text.split(", ").find_map(|f| f.strip_prefix(name));
    let pid = field("si_pid=")?.parse().ok()?;
    let s = field("si_status=")?;
    Some((pid, names::signal(s.trim_end_matches('}'))?))
}

/// A zombie's status as `exit` tells it (code, or -signal), from field 52
/// of /proc/PID/stat (exit_code, in wait's form); retried briefly, as the
/// connection closes a moment before the process is a zombie.
fn zombie_status(pid: i32) -> Option<i32> {
    for _ in 0..200 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        if fields.first() == Some(&"Z") {
            // Field 52 is the 50th after the comm (fields 3..).
            let code: i32 = fields.get(49)?.trim().parse().ok()?;
            return Some(if code & 0x7f != 0 { -(code & 0x7f) } else { (code >> 8) & 0xff });
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    None
}

/// recvmsg of one frame and the fd it carried (close-on-exec).
fn recv_with_fd(sock: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let mut ctl = [0u64; 8];
    // SAFETY: a zeroed msghdr is valid; its pointers are set to live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&ctl);
    // SAFETY: msg describes live buffers.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC | libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut fd = None;
    // SAFETY: the CMSG macros walk the control buffer the kernel filled.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let count = ((*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                let data = libc::CMSG_DATA(c) as *const RawFd;
                for k in 0..count {
                    let f = OwnedFd::from_raw_fd(data.add(k).read_unaligned());
                    if fd.is_none() {
                        fd = Some(f);
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n as usize, fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracer_fds() {
        assert_eq!(parse_fds("5,6"), Ok((5, 6)));
        assert!(parse_fds("5").is_err() && parse_fds("1,6").is_err() && parse_fds("a,b").is_err());
    }
}
