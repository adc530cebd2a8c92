//! The capability server of `preld pola`, in-process on socketpairs, driven
//! over the wire protocol as a client (the handler) would: granted files come
//! back as readable fds, other paths do not exist, `Connect` gives a new
//! connection, and forged, truncated or oversized messages, wrong fd counts
//! and a client that never reads its replies each end that one connection
//! with a logged reason while the server keeps serving the others. No
//! object a client hands over stalls the server: a TCP socket whose close
//! lingers, as a request's base fd, queued on a connection the server ends,
//! or beyond the fds a request may carry, delays no other client.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use preld_proto::{self as proto, Op, PathArg, ReplyData, Request, MAX_FRAME};
use preld_tests::scratch::Scratch;

// The server, from the preld package's library.
use preld::pola::{ns, serve, sys};

struct Session {
    dir: Scratch,
    log: Arc<Mutex<Vec<String>>>,
    /// While true, the server waits in its log callback (after logging a
    /// line): a test holds it there to queue messages it must not see yet.
    held: Arc<(Mutex<bool>, Condvar)>,
    server: Option<std::thread::JoinHandle<()>>,
}

/// Starts a server with /data granted read-only and one connection per
/// returned socket.
fn start(nconns: usize) -> (Session, Vec<OwnedFd>) {
    let dir = Scratch::new("pola-server");
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/a.txt"), "granted").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    let host = dir.path().join("data");
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..nconns {
        let (a, b) = sys::seqpacket_pair().unwrap();
        clients.push(a);
        theirs.push(b);
    }
    let log2 = log.clone();
    let held = Arc::new((Mutex::new(false), Condvar::new()));
    let held2 = held.clone();
    let server = std::thread::spawn(move || {
        let spec = ns::GrantSpec { vpath: b"/data".to_vec(), host, mode: ns::Mode::Ro, link: false };
        let mut s = serve::Server::new(ns::Namespace::new(&[spec]).unwrap(), false);
        s.log = Box::new(move |line| {
            log2.lock().unwrap().push(line.to_owned());
            let (m, cv) = &*held2;
            let mut h = m.lock().unwrap();
            while *h {
                h = cv.wait(h).unwrap();
            }
        });
        for t in theirs {
            s.add(t, b"/".to_vec());
        }
        s.run().unwrap();
    });
    (Session { dir, log, held, server: Some(server) }, clients)
}

impl Session {
    fn logged(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    /// Holds the server in its next log line, or lets it go on.
    fn hold(&self, on: bool) {
        let (m, cv) = &*self.held;
        *m.lock().unwrap() = on;
        cv.notify_all();
    }
    /// Waits until `n` lines are logged.
    fn wait_logged(&self, n: usize) {
        let t = Instant::now();
        while self.logged().len() < n {
            assert!(t.elapsed() < Duration::from_secs(10), "no log line {n}: {:?}", self.logged());
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    /// Waits for the server to end (every connection closed) and returns its log.
    fn finish(mut self, clients: Vec<OwnedFd>) -> Vec<String> {
        drop(clients);
        self.server.take().unwrap().join().expect("the server panicked");
        self.logged()
    }
}

fn send(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) {
    sys::send_msg(sock, bytes, fds).unwrap();
}

/// Blocks until a message (or EOF: None) arrives.
fn recv(sock: BorrowedFd<'_>) -> Option<(Vec<u8>, Vec<OwnedFd>)> {
    let mut buf = vec![0u8; MAX_FRAME];
    loop {
        let mut p = libc::pollfd { fd: sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        assert!(unsafe { libc::poll(&mut p, 1, 10_000) } == 1, "no reply within 10 s");
        match sys::recv_msg(sock, &mut buf) {
            Ok(m) if m.len == 0 && m.fds.is_empty() => return None,
            Ok(m) => return Some((buf[..m.len].to_vec(), m.fds)),
            Err(libc::EAGAIN) => continue,
            Err(libc::ECONNRESET) => return None,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

/// One request, one reply: (result, data bytes of the frame, fds).
fn call(sock: BorrowedFd<'_>, req: &Request<'_>, fds: &[BorrowedFd<'_>]) -> (i64, Vec<u8>, Vec<OwnedFd>) {
    let mut buf = vec![0u8; MAX_FRAME];
    let n = proto::encode_request(42, req, &mut buf).unwrap();
    send(sock, &buf[..n], fds);
    let (msg, fds) = recv(sock).expect("connection closed instead of a reply");
    let (id, reply) = proto::decode_reply(&msg, req.op()).unwrap();
    assert_eq!(id, 42);
    let expect_fd = reply.has_fd(req.op());
    assert_eq!(fds.len(), expect_fd as usize, "fds with {:?}", req.op());
    (reply.result, msg, fds)
}

fn open(sock: BorrowedFd<'_>, path: &[u8]) -> Result<OwnedFd, i64> {
    let (r, _, mut fds) = call(sock, &Request::Open { flags: libc::O_RDONLY as u32, mode: 0, path: PathArg::cwd(path) }, &[]);
    if r < 0 {
        Err(-r)
    } else {
        Ok(fds.pop().unwrap())
    }
}

fn read_fd(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

/// The connection was ended by the server: EOF on the next receive.
fn assert_closed(sock: BorrowedFd<'_>) {
    assert!(recv(sock).is_none(), "the server answered a malformed message");
}

/// A session with one connection: `f` talks to it; then no line may be
/// logged (nothing went wrong).
fn quietly(f: impl FnOnce(&Session, BorrowedFd<'_>)) {
    let (s, c) = start(1);
    f(&s, c[0].as_fd());
    let log = s.finish(c);
    assert!(log.is_empty(), "{log:?}");
}

#[test]
fn hello_is_answered() {
    quietly(|_, a| {
        let (r, msg, _) = call(a, &Request::Hello, &[]);
        assert_eq!(r, 0);
        assert_eq!(proto::decode_reply(&msg, Op::Hello).unwrap().1.data, ReplyData::Hello { flags: 0 });
    });
}

#[test]
fn granted_files_open() {
    quietly(|_, a| {
        assert_eq!(read_fd(open(a, b"/data/a.txt").unwrap()), "granted");
        assert_eq!(read_fd(open(a, b"data/../data/./a.txt").unwrap()), "granted");
    });
}

#[test]
fn nothing_else_exists() {
    quietly(|s, a| {
        assert_eq!(open(a, b"/secret.txt").unwrap_err(), libc::ENOENT as i64);
        let host_secret = s.dir.path().join("secret.txt");
        assert_eq!(open(a, host_secret.to_str().unwrap().as_bytes()).unwrap_err(), libc::ENOENT as i64);
        assert_eq!(open(a, b"/data/../../secret.txt").unwrap_err(), libc::ENOENT as i64);
    });
}

#[test]
fn stat_carries_a_struct_stat() {
    quietly(|_, a| stat_carries_a_struct_stat_on(a));
}

fn stat_carries_a_struct_stat_on(a: BorrowedFd<'_>) {
    let (r, msg, _) = call(a, &Request::Stat { flags: 0, path: PathArg::cwd(b"/data/a.txt") }, &[]);
    assert_eq!(r, 0);
    let ReplyData::Stat(st) = proto::decode_reply(&msg, Op::Stat).unwrap().1.data else { panic!() };
    // SAFETY: the bytes of a struct stat.
    let st: libc::stat = unsafe { std::ptr::read_unaligned(st.as_ptr() as *const libc::stat) };
    assert_eq!(st.st_size, 7);
}

#[test]
fn a_directory_fd_attached_to_a_request_is_its_base() {
    quietly(|_, a| a_directory_fd_is_the_base_on(a));
}

fn a_directory_fd_is_the_base_on(a: BorrowedFd<'_>) {
    let (r, _, mut d) = call(a, &Request::Open { flags: (libc::O_RDONLY | libc::O_DIRECTORY) as u32, mode: 0, path: PathArg::cwd(b"/data") }, &[]);
    assert_eq!(r, 0);
    let d = d.pop().unwrap();
    let (r, _, mut f) = call(a, &Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"a.txt") }, &[d.as_fd()]);
    assert_eq!(r, 0);
    assert_eq!(read_fd(f.pop().unwrap()), "granted");
}

#[test]
fn connect_gives_a_new_connection_with_the_same_cwd() {
    let (s, c) = start(1);
    let a = c[0].as_fd();
    assert_eq!(call(a, &Request::Chdir { path: PathArg::cwd(b"/data") }, &[]).0, 0);
    let (r, _, mut fds) = call(a, &Request::Connect, &[]);
    assert_eq!(r, 0);
    let b = fds.pop().unwrap();
    let (r, msg, _) = call(b.as_fd(), &Request::Getcwd, &[]);
    assert_eq!(r, 0);
    assert_eq!(proto::decode_reply(&msg, Op::Getcwd).unwrap().1.data, ReplyData::Bytes(b"/data"));
    assert_eq!(read_fd(open(b.as_fd(), b"a.txt").unwrap()), "granted");
    // Each connection has its own cwd from then on.
    assert_eq!(call(b.as_fd(), &Request::Chdir { path: PathArg::cwd(b"/") }, &[]).0, 0);
    assert_eq!(read_fd(open(a, b"a.txt").unwrap()), "granted");
    drop(b);
    let log = s.finish(c);
    assert!(log.is_empty(), "{log:?}");
}

/// A valid request frame to forge from.
fn frame(req: &Request<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_FRAME];
    let n = proto::encode_request(1, req, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn malformed_messages_end_only_their_connection() {
    let n = 9;
    let (s, c) = start(n + 1);
    let good = c[n].as_fd();
    let open_req = Request::Open { flags: 0, mode: 0, path: PathArg::cwd(b"/data/a.txt") };
    let f = frame(&open_req);
    let mut forged = Vec::new();
    // 0: bad magic
    let mut b = f.clone();
    b[0] = b'X';
    forged.push((b, vec![], "bad magic"));
    // 1: truncated: the header promises more than the message has
    forged.push((f[..f.len() - 3].to_vec(), vec![], "header says"));
    // 2: shorter than a header
    forged.push((f[..7].to_vec(), vec![], "shorter than a header"));
    // 3: a path with a NUL inside
    let mut b = f.clone();
    let l = b.len();
    b[l - 2] = 0;
    forged.push((b, vec![], "NUL"));
    // 4: unknown op
    let mut b = f.clone();
    b[6] = 0x77;
    forged.push((b, vec![], "unknown op"));
    // 5: an fd attached to a request that names none
    forged.push((f.clone(), vec![0], "fds attached"));
    // 6: a request naming an fd, sent without it
    forged.push((frame(&Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"x") }), vec![], "fds attached"));
    // 7: longer than any frame
    let mut b = f.clone();
    b.resize(MAX_FRAME + 100, b'a');
    forged.push((b, vec![], "longer than"));
    // 8: an empty message
    forged.push((Vec::new(), vec![], ""));
    assert_eq!(forged.len(), n);
    let devnull: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
    for (i, (bytes, fds, why)) in forged.iter().enumerate() {
        let fds: Vec<BorrowedFd<'_>> = fds.iter().map(|_| devnull.as_fd()).collect();
        send(c[i].as_fd(), bytes, &fds);
        assert!(recv(c[i].as_fd()).is_none(), "the server answered forgery {i} ({why:?})");
        // The others are still served, at once.
        assert_eq!(read_fd(open(good, b"/data/a.txt").unwrap()), "granted", "after forgery {i} ({why:?})");
    }
    let log = s.logged();
    for (i, (_, _, why)) in forged.iter().enumerate() {
        if why.is_empty() {
            continue;
        }
        let prefix = format!("preld pola: client {}: ", i + 1);
        assert!(
            log.iter().any(|l| l.starts_with(&prefix) && l.contains(why)),
            "no `{prefix}...{why}...` in {log:#?}"
        );
    }
    let log = s.finish(c);
    assert_eq!(log.len(), n - 1, "{log:#?}");
}

#[test]
fn a_client_that_never_reads_its_replies_is_dropped() {
    let (s, c) = start(2);
    let f = frame(&Request::Getcwd);
    let mut sent = 0;
    loop {
        match sys::send_msg(c[0].as_fd(), &f, &[]) {
            Ok(()) => sent += 1,
            Err(libc::EAGAIN) => {
                // Let the server drain and answer; stop when it gave up.
                std::thread::sleep(std::time::Duration::from_millis(20));
                if s.logged().iter().any(|l| l.contains("does not read its replies")) {
                    break;
                }
            }
            Err(libc::EPIPE | libc::ECONNRESET) => break,
            Err(e) => panic!("send: {e}"),
        }
        assert!(sent < 1_000_000, "the server never gave up");
    }
    // Meanwhile the other client is served.
    assert_eq!(read_fd(open(c[1].as_fd(), b"/data/a.txt").unwrap()), "granted");
    let log = s.finish(c);
    assert!(log.iter().any(|l| l.starts_with("preld pola: client 1: does not read its replies")), "{log:#?}");
}

#[test]
fn a_write_to_the_read_only_grant_is_erofs() {
    quietly(|_, a| {
        let (r, _, fds) = call(a, &Request::Open { flags: (libc::O_WRONLY | libc::O_CREAT) as u32, mode: 0o644, path: PathArg::cwd(b"/data/new") }, &[]);
        assert_eq!((r, fds.len()), (-(libc::EROFS as i64), 0));
    });
}

/// The virtual root: an empty directory fd flagged virtual, and its listing.
#[test]
fn the_virtual_root_is_a_flagged_fd_listing_the_grants() {
    quietly(|_, a| the_virtual_root_on(a));
}

fn the_virtual_root_on(a: BorrowedFd<'_>) {
    let (r, msg, fds) = call(a, &Request::Open { flags: (libc::O_RDONLY | libc::O_DIRECTORY) as u32, mode: 0, path: PathArg::cwd(b"/") }, &[]);
    assert_eq!((r, fds.len()), (0, 1));
    assert_eq!(proto::decode_reply(&msg, Op::Open).unwrap().1.data, ReplyData::Open { info: proto::OPEN_VIRTUAL_DIR });
    let (r, msg, _) = call(a, &Request::ReadDir { start: 0, path: PathArg::fd(0, b"") }, &[fds[0].as_fd()]);
    assert_eq!(r, 0);
    let ReplyData::Dir(d) = proto::decode_reply(&msg, Op::ReadDir).unwrap().1.data else { panic!() };
    let names: Vec<&[u8]> = d.iter().map(|e| e.name).collect();
    assert_eq!(names, [&b"."[..], b"..", b"data"]);
}

/// How long a close() of the test's lingering sockets would wait.
const LINGER_S: i32 = 10;
/// The most a reply may take while another client's object lingers.
const PROMPT: Duration = Duration::from_secs(1);

fn set_int_opt(fd: BorrowedFd<'_>, level: i32, name: i32, v: i32) {
    // SAFETY: an int option of the size given.
    let r = unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (&v as *const i32).cast(), 4) };
    assert_eq!(r, 0, "setsockopt {name}: {}", std::io::Error::last_os_error());
}

/// A TCP socket whose last close() waits `secs` seconds (issue 8's object):
/// SO_LINGER on, and its send buffer full of data that cannot go, connected
/// to a listener of ours on 127.0.0.1 that never accepts or reads. Dropping
/// the listener resets the connection, which ends any wait at once.
fn lingering_socket(secs: i32) -> (std::net::TcpListener, OwnedFd) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // Small buffers on both sides fill sooner (the connection inherits the
    // listener's receive buffer).
    set_int_opt(listener.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, 4096);
    let mut stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    set_int_opt(stream.as_fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, 4096);
    stream.set_nonblocking(true).unwrap();
    let chunk = [0x55u8; 16384];
    let mut sent = 0usize;
    let t = Instant::now();
    loop {
        match stream.write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Full: the peer's window closed and our buffer holds the rest.
                std::thread::sleep(Duration::from_millis(20));
                if stream.write(&chunk).is_err() {
                    break;
                }
            }
            Err(e) => panic!("write: {e}"),
        }
        assert!(t.elapsed() < Duration::from_secs(5) && sent < 256 << 20, "the connection never filled ({sent} bytes)");
    }
    stream.set_nonblocking(false).unwrap();
    let l = libc::linger { l_onoff: 1, l_linger: secs };
    // SAFETY: a struct linger of the size given.
    let r = unsafe {
        libc::setsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, libc::SO_LINGER, (&l as *const libc::linger).cast(), std::mem::size_of::<libc::linger>() as u32)
    };
    assert_eq!(r, 0);
    let mut unsent: i32 = 0;
    // SAFETY: SIOCOUTQ (TIOCOUTQ's number) writes an int: bytes not yet sent or acknowledged.
    assert_eq!(unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut unsent) }, 0);
    assert!(unsent > 0, "nothing left to send: the close would not linger");
    (listener, stream.into())
}

/// Waits up to `within` for a message on `sock`: (the message, how long).
fn recv_within(sock: BorrowedFd<'_>, within: Duration) -> Option<(Vec<u8>, Duration)> {
    let t = Instant::now();
    let mut buf = vec![0u8; MAX_FRAME];
    loop {
        let left = within.saturating_sub(t.elapsed());
        let mut p = libc::pollfd { fd: sock.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, left.as_millis() as i32) } != 1 {
            return None;
        }
        match sys::recv_msg(sock, &mut buf) {
            Ok(m) => return Some((buf[..m.len].to_vec(), t.elapsed())),
            Err(libc::EAGAIN) => continue,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

/// `n` requests of client B, one after the other, each answered within
/// PROMPT (or the test fails saying how long B waited): the total time.
fn b_is_served(b: BorrowedFd<'_>, n: usize) -> Duration {
    let t = Instant::now();
    for k in 0..n {
        send(b, &frame(&Request::Open { flags: 0, mode: 0, path: PathArg::cwd(b"/data/a.txt") }), &[]);
        let Some((msg, took)) = recv_within(b, 3 * PROMPT) else {
            panic!("client B's request {k} got no reply within {:?}: the server is stalled", 3 * PROMPT);
        };
        assert!(took < PROMPT, "client B's request {k} waited {took:?}");
        assert_eq!(proto::decode_reply(&msg, Op::Open).unwrap().1.result, 0);
    }
    t.elapsed()
}

/// Issue 8: the base fd of A's request is a lingering TCP socket of which
/// the server holds the last reference; B's requests, right after, are
/// answered at once (the server used to close it in its event loop, and
/// every client waited the linger time).
#[test]
fn a_lingering_socket_as_a_base_fd_stalls_no_one() {
    let (s, c) = start(3);
    let (a, b, g) = (c[0].as_fd(), c[1].as_fd(), c[2].as_fd());
    let (listener, sock) = lingering_socket(LINGER_S);
    // The server is held (in its log line for G's bad frame) while A's
    // request goes out and A drops its own copy of the socket.
    s.hold(true);
    send(g, b"not a frame", &[]);
    s.wait_logged(1);
    send(a, &frame(&Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"a.txt") }), &[sock.as_fd()]);
    drop(sock);
    let t = Instant::now();
    s.hold(false);
    let (msg, _) = recv_within(a, 3 * PROMPT).expect("no reply to A");
    assert_eq!(proto::decode_reply(&msg, Op::Open).unwrap().1.result, -(libc::ENOTDIR as i64), "a socket is not a directory");
    let took = b_is_served(b, 5);
    eprintln!("B's 5 requests after A's: {:?} (A's reply and B's: {:?})", took, t.elapsed());
    drop(listener);
    let log = s.finish(c);
    assert_eq!(log.len(), 1, "{log:?}");
}

/// The lingering socket is in a message still queued on a connection the
/// server ends (after a bad frame): ending it releases that message.
#[test]
fn a_lingering_socket_queued_on_an_ended_connection_stalls_no_one() {
    let (s, c) = start(3);
    let (a, b, g) = (c[0].as_fd(), c[1].as_fd(), c[2].as_fd());
    let (listener, sock) = lingering_socket(LINGER_S);
    s.hold(true);
    send(g, b"not a frame", &[]);
    s.wait_logged(1);
    send(a, b"not a frame either", &[]);
    send(a, &frame(&Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"a.txt") }), &[sock.as_fd()]);
    drop(sock);
    s.hold(false);
    assert_closed(a);
    let took = b_is_served(b, 5);
    eprintln!("B's 5 requests after A's end: {took:?}");
    drop(listener);
    let log = s.finish(c);
    assert_eq!(log.len(), 2, "{log:?}");
}

/// More fds than a request may carry, the lingering socket last: the
/// server takes them all in (the kernel would release the ones that do
/// not fit inside recvmsg, in the server) and ends the connection.
#[test]
fn a_lingering_socket_beyond_a_requests_fds_stalls_no_one() {
    let (s, c) = start(3);
    let (a, b, g) = (c[0].as_fd(), c[1].as_fd(), c[2].as_fd());
    let (listener, sock) = lingering_socket(LINGER_S);
    let devnull: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
    s.hold(true);
    send(g, b"not a frame", &[]);
    s.wait_logged(1);
    let fds = [devnull.as_fd(), devnull.as_fd(), devnull.as_fd(), devnull.as_fd(), sock.as_fd()];
    let req = frame(&Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"a.txt") });
    send_many(a, &req, &fds);
    drop(sock);
    s.hold(false);
    let took = b_is_served(b, 5);
    eprintln!("B's 5 requests after A's 5 fds: {took:?}");
    assert_closed(a);
    drop(listener);
    let log = s.finish(c);
    assert!(log.iter().any(|l| l.starts_with("preld pola: client 1: ") && l.contains("fds")), "{log:?}");
}

/// sendmsg of `bytes` with any number of fds (sys::send_msg takes at most
/// what a request may carry).
fn send_many(sock: BorrowedFd<'_>, bytes: &[u8], fds: &[BorrowedFd<'_>]) {
    let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let dlen = (raw.len() * 4) as u32;
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(dlen) } as usize;
    let mut cbuf = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    // SAFETY: all-zero msghdr is valid; the control buffer is ours and
    // filled with the kernel's macros.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(dlen) as usize;
        std::ptr::copy_nonoverlapping(raw.as_ptr(), libc::CMSG_DATA(c) as *mut i32, raw.len());
        assert_eq!(libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL), bytes.len() as isize);
    }
}

/// A FIFO in a grant whose lock a client holds: a splice() from a socket
/// that never gets data into the FIFO keeps the pipe's mutex, and open()
/// of the FIFO, even O_NONBLOCK, waits for it. Another client's open of
/// that FIFO must not stall B; it is answered once the lock is let go.
#[test]
fn an_open_of_a_fifo_whose_lock_a_client_holds_stalls_no_one() {
    let (s, c) = start(3);
    let (a, b, g) = (c[0].as_fd(), c[1].as_fd(), c[2].as_fd());
    let fifo = std::ffi::CString::new(s.dir.path().join("data/fifo").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let rdwr = Request::Open { flags: libc::O_RDWR as u32, mode: 0, path: PathArg::cwd(b"/data/fifo") };
    let (r, _, mut f) = call(a, &rdwr, &[]);
    assert_eq!(r, 0);
    let end = f.pop().unwrap();
    let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
    let splicer = std::thread::spawn(move || {
        // SAFETY: splice between two fds of ours; waits for data on y.
        let n = unsafe { libc::splice(y.as_raw_fd(), std::ptr::null_mut(), end.as_raw_fd(), std::ptr::null_mut(), 4096, 0) };
        (n, end)
    });
    std::thread::sleep(Duration::from_millis(100));
    let rd = Request::Open { flags: (libc::O_RDONLY | libc::O_NONBLOCK) as u32, mode: 0, path: PathArg::cwd(b"/data/fifo") };
    send(g, &frame(&rd), &[]);
    std::thread::sleep(Duration::from_millis(20));
    let took = b_is_served(b, 5);
    eprintln!("B's 5 requests while G's open of the FIFO waits: {took:?}");
    assert!(recv_within(g, Duration::from_millis(100)).is_none(), "G's open did not wait for the lock");
    // Data for the splice: it returns, the lock is let go, G's open is made.
    (&x).write_all(b"!").unwrap();
    let (n, _end) = splicer.join().unwrap();
    assert_eq!(n, 1);
    let (msg, _) = recv_within(g, Duration::from_secs(5)).expect("G's open never answered");
    assert_eq!(proto::decode_reply(&msg, Op::Open).unwrap().1.result, 0);
    let log = s.finish(c);
    assert!(log.is_empty(), "{log:?}");
}

/// The owners an Owners reply tells (dev, ino) -> (uid, gid).
fn owners(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>, skip: u32, subdirs: bool) -> Result<Vec<proto::Owner>, i64> {
    let req = Request::Owners { skip, flags: if subdirs { proto::OWNERS_SUBDIRS } else { 0 } };
    let (r, msg, _) = call(sock, &req, &[fd]);
    if r < 0 {
        return Err(-r);
    }
    let (_, reply) = proto::decode_reply(&msg, Op::Owners).unwrap();
    let ReplyData::Owners(o) = reply.data else { panic!("no owners in {:?}", reply.data) };
    Ok(o.iter().collect())
}

fn open_dir(sock: BorrowedFd<'_>, path: &[u8]) -> OwnedFd {
    let (r, _, mut fds) = call(sock, &Request::Open { flags: (libc::O_RDONLY | libc::O_DIRECTORY) as u32, mode: 0, path: PathArg::cwd(path) }, &[]);
    assert!(r >= 0, "open {}: {r}", String::from_utf8_lossy(path));
    fds.pop().unwrap()
}

fn ino(p: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).unwrap().ino()
}

/// Owners (op 25) from a hostile client (the session-13 adversary): it
/// lists the grant's files only (never the directory the grant lies in;
/// of an fd from elsewhere, the scratch directory, a pipe, a socket,
/// /dev/null, a memfd, a pidfd, only that object's own owners), a forged skip past the end says nothing, a deep chain of small
/// directories walked for their subdirectories' owners stops at the
/// reply's room and leaves no fd open, a directory of 20,000 files comes
/// in pages of distinct files (at most 16,384 of them, the server's cap),
/// and a request with no fd or two ends its connection only.
#[test]
fn owners_tells_only_of_the_grants_files() {
    let (s, c) = start(3);
    let a = c[0].as_fd();
    let data = s.dir.path().join("data");
    // A chain of 1,000 small directories, and a directory of 20,000 files.
    let mut deep = data.join("deep");
    for _ in 0..1000 {
        std::fs::create_dir(&deep).unwrap();
        deep = deep.join("d");
    }
    std::fs::create_dir(data.join("big")).unwrap();
    for i in 0..20_000 {
        std::fs::File::create(data.join(format!("big/f{i:05}"))).unwrap();
    }
    let top = open_dir(a, b"/data");
    let list = owners(a, top.as_fd(), 0, false).unwrap();
    let mut want: Vec<u64> = ["", "a.txt", "deep", "big"].iter().map(|n| ino(&data.join(n))).collect();
    let mut got: Vec<u64> = list.iter().map(|o| o.ino).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the grant's directory and its entries, nothing else");
    assert!(!got.contains(&ino(&s.dir.path().join("secret.txt"))));
    assert_eq!(owners(a, top.as_fd(), u32::MAX, true).unwrap().len(), 0, "a skip past the end");
    // Elsewhere: nothing.
    let outside: OwnedFd = std::fs::File::open(s.dir.path()).unwrap().into();
    let (p0, _p1) = sys::seqpacket_pair().unwrap();
    let (r0, _w0) = {
        let mut p = [0; 2];
        // SAFETY: two ints for pipe2.
        assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: fresh fds of ours.
        unsafe { (<OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(p[0]), <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(p[1])) }
    };
    let devnull: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
    // SAFETY: plain calls that return a new fd (or -1).
    let (memfd, pidfd) = unsafe {
        (
            libc::syscall(libc::SYS_memfd_create, c"owners".as_ptr(), libc::MFD_CLOEXEC) as i32,
            libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) as i32,
        )
    };
    assert!(memfd >= 0 && pidfd >= 0);
    // SAFETY: fresh fds of ours.
    let (memfd, pidfd): (OwnedFd, OwnedFd) = unsafe { (std::os::fd::FromRawFd::from_raw_fd(memfd), std::os::fd::FromRawFd::from_raw_fd(pidfd)) };
    for (what, fd) in [("its own directory", &outside), ("a socket", &p0), ("a pipe", &r0), ("/dev/null", &devnull), ("a memfd", &memfd), ("a pidfd", &pidfd)] {
        use std::os::unix::fs::MetadataExt;
        let st = std::fs::File::from(fd.try_clone().unwrap()).metadata().unwrap();
        let list = owners(a, fd.as_fd(), 0, true).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(list.len(), 1, "{what}: its own owners only: {list:?}");
        assert_eq!((list[0].ino, list[0].uid, list[0].gid), (st.ino(), st.uid(), st.gid()), "{what}");
    }
    // The chain: at most one frame, no fd left open.
    let chain = open_dir(a, b"/data/deep");
    owners(a, chain.as_fd(), 0, false).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let before = sys::open_fds();
    let t = Instant::now();
    let list = owners(a, chain.as_fd(), 0, true).unwrap();
    assert!(list.len() < proto::OWNERS_MAX, "{} owners", list.len());
    assert!(list.len() > 100, "subdirectories' owners came: {}", list.len());
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // (What the client sent is closed by a closer thread.)
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sys::open_fds(), before, "fds left open by the walk");
    // The large directory, in pages.
    let big = open_dir(a, b"/data/big");
    let mut seen = std::collections::HashSet::new();
    let mut skip = 0u32;
    loop {
        let page = owners(a, big.as_fd(), skip, true).unwrap();
        for o in &page {
            assert!(seen.insert(o.ino), "told twice: {o:?}");
        }
        if page.len() < proto::OWNERS_MAX {
            break;
        }
        skip += page.len() as u32;
    }
    assert_eq!(seen.len(), 1 + 16_384, "the directory and the server's cap of its entries");
    // No fd, or two: that connection only ends.
    let req = Request::Owners { skip: 0, flags: 0 };
    send(c[1].as_fd(), &frame(&req), &[]);
    assert_closed(c[1].as_fd());
    send(c[2].as_fd(), &frame(&req), &[top.as_fd(), big.as_fd()]);
    assert_closed(c[2].as_fd());
    assert_eq!(read_fd(open(a, b"/data/a.txt").unwrap()), "granted");
    let log = s.finish(c);
    assert_eq!(log.len(), 2, "{log:#?}");
}

/// The same FIFO, its lock held by a client's splice(), reopened by fd
/// (`/proc/self/fd/N` of an O_PATH fd the server handed out: an Open with
/// an empty path beside the fd): the reopen is an open of the FIFO like
/// any other and must not stall B either (session-20 adversary: it was
/// made in the event loop).
#[test]
fn a_reopen_by_fd_of_a_fifo_whose_lock_a_client_holds_stalls_no_one() {
    let (s, c) = start(3);
    let (a, b, g) = (c[0].as_fd(), c[1].as_fd(), c[2].as_fd());
    let fifo = std::ffi::CString::new(s.dir.path().join("data/fifo").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let opath = Request::Open { flags: (libc::O_PATH | libc::O_CLOEXEC) as u32, mode: 0, path: PathArg::cwd(b"/data/fifo") };
    let (r, _, mut f) = call(a, &opath, &[]);
    assert_eq!(r, 0);
    let path_fd = f.pop().unwrap();
    let rdwr = Request::Open { flags: libc::O_RDWR as u32, mode: 0, path: PathArg::cwd(b"/data/fifo") };
    let (r, _, mut f) = call(a, &rdwr, &[]);
    assert_eq!(r, 0);
    let end = f.pop().unwrap();
    let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
    let splicer = std::thread::spawn(move || {
        // SAFETY: splice between two fds of ours; waits for data on y.
        let n = unsafe { libc::splice(y.as_raw_fd(), std::ptr::null_mut(), end.as_raw_fd(), std::ptr::null_mut(), 4096, 0) };
        (n, end)
    });
    std::thread::sleep(Duration::from_millis(100));
    let rd = Request::Open { flags: (libc::O_RDONLY | libc::O_NONBLOCK) as u32, mode: 0, path: PathArg::fd(0, b"") };
    send(g, &frame(&rd), &[path_fd.as_fd()]);
    std::thread::sleep(Duration::from_millis(20));
    // B is served while G's reopen waits (at most a few seconds: past
    // them the data goes to the splice below and the server goes on).
    let unblock = {
        let x = x.try_clone().unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            (&x).write_all(b"!").ok();
        })
    };
    let took = b_is_served(b, 5);
    eprintln!("B's 5 requests while G's reopen of the FIFO waits: {took:?}");
    assert!(took < Duration::from_secs(1), "B waited {took:?} for G's reopen of a FIFO whose lock a client holds");
    unblock.join().unwrap();
    let (n, _end) = splicer.join().unwrap();
    assert_eq!(n, 1);
    let (msg, _) = recv_within(g, Duration::from_secs(5)).expect("G's reopen never answered");
    assert_eq!(proto::decode_reply(&msg, Op::Open).unwrap().1.result, 0);
    drop(x);
    let log = s.finish(c);
    assert!(log.is_empty(), "{log:?}");
}

/// Every request that takes a base fd, made with each kind of object a
/// client may attach (pipes, sockets of each type, a listening TCP
/// socket, an eventfd, an epoll fd, a memfd, host files and directories
/// outside the grants, the host's procfs, and the server's own fds of a
/// read-only and a read-write grant: O_PATH of a FIFO, a directory, a
/// file), beside an empty path (the fd itself) and a name: each is
/// answered within PROMPT, another client is served meanwhile, nothing is
/// logged but for the connection's own end, and the host's files outside
/// the grants are not changed (session-20 adversary).
#[test]
fn every_request_with_every_kind_of_fd_is_answered_promptly() {
    let dir = Scratch::new("pola-server-kinds");
    let data = dir.path().join("data");
    let out = dir.path().join("out");
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(data.join("a.txt"), "granted").unwrap();
    std::fs::write(out.join("w.txt"), "writable").unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "outside").unwrap();
    for d in [&data, &out] {
        let f = std::ffi::CString::new(d.join("fifo").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(f.as_ptr(), 0o644) }, 0);
    }
    let (a, theirs_a) = sys::seqpacket_pair().unwrap();
    let (b, theirs_b) = sys::seqpacket_pair().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    let (h1, h2) = (data.clone(), out.clone());
    let server = std::thread::spawn(move || {
        let specs = [
            ns::GrantSpec { vpath: b"/data".to_vec(), host: h1, mode: ns::Mode::Ro, link: false },
            ns::GrantSpec { vpath: b"/out".to_vec(), host: h2, mode: ns::Mode::Rw, link: false },
        ];
        let mut s = serve::Server::new(ns::Namespace::new(&specs).unwrap(), false);
        s.log = Box::new(move |line| log2.lock().unwrap().push(line.to_owned()));
        s.add(theirs_a, b"/".to_vec());
        s.add(theirs_b, b"/".to_vec());
        s.run().unwrap();
    });
    // The server's own fds, as a client gets them.
    let server_fd = |path: &[u8], flags: i32| -> OwnedFd {
        let (r, _, mut f) = call(a.as_fd(), &Request::Open { flags: flags as u32, mode: 0, path: PathArg::cwd(path) }, &[]);
        assert_eq!(r, 0, "open {}", String::from_utf8_lossy(path));
        f.pop().unwrap()
    };
    let raw = |fd: i32| -> OwnedFd {
        assert!(fd >= 0, "{}", std::io::Error::last_os_error());
        // SAFETY: a new fd of ours.
        unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }
    };
    let mut kinds: Vec<(&str, OwnedFd)> = Vec::new();
    let mut p = [0i32; 2];
    // SAFETY: pipe2 writes two fds into `p`.
    assert_eq!(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    kinds.push(("pipe read end", raw(p[0])));
    kinds.push(("pipe write end", raw(p[1])));
    for (name, ty) in [("stream socket", libc::SOCK_STREAM), ("dgram socket", libc::SOCK_DGRAM), ("seqpacket socket", libc::SOCK_SEQPACKET)] {
        // SAFETY: socket() with constant arguments.
        kinds.push((name, raw(unsafe { libc::socket(libc::AF_UNIX, ty | libc::SOCK_CLOEXEC, 0) })));
    }
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    kinds.push(("tcp listener", tcp.try_clone().unwrap().into()));
    // SAFETY: plain fd-making calls.
    kinds.push(("eventfd", raw(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) })));
    // SAFETY: as above.
    kinds.push(("epoll", raw(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })));
    // SAFETY: as above; the name is a NUL-terminated literal.
    kinds.push(("memfd", raw(unsafe { libc::memfd_create(c"kinds".as_ptr(), libc::MFD_CLOEXEC) })));
    kinds.push(("host file outside", std::fs::File::open(&outside).unwrap().into()));
    kinds.push(("host dir outside", std::fs::File::open(dir.path()).unwrap().into()));
    kinds.push(("host /proc", std::fs::File::open("/proc/self").unwrap().into()));
    kinds.push(("host /dev/null", std::fs::OpenOptions::new().write(true).open("/dev/null").unwrap().into()));
    kinds.push(("ro dir", server_fd(b"/data", libc::O_RDONLY | libc::O_DIRECTORY)));
    kinds.push(("ro file", server_fd(b"/data/a.txt", libc::O_RDONLY)));
    kinds.push(("ro fifo O_PATH", server_fd(b"/data/fifo", libc::O_PATH)));
    kinds.push(("rw dir O_PATH", server_fd(b"/out", libc::O_PATH | libc::O_DIRECTORY)));
    kinds.push(("rw file", server_fd(b"/out/w.txt", libc::O_RDWR)));
    kinds.push(("rw fifo O_PATH", server_fd(b"/out/fifo", libc::O_PATH)));
    kinds.push(("virtual root", server_fd(b"/", libc::O_RDONLY | libc::O_DIRECTORY)));
    let t = [proto::Timespec { sec: 1, nsec: 0 }, proto::Timespec { sec: 1, nsec: 0 }];
    let e = libc::AT_EMPTY_PATH as u32;
    let nb = (libc::O_RDONLY | libc::O_NONBLOCK) as u32;
    let mut slow = Vec::new();
    let mut results = std::collections::BTreeMap::new();
    for (kind, fd) in &kinds {
        for path in [&b""[..], b"x", b"../x"] {
            let f = PathArg::fd(0, path);
            let requests = [
                Request::Open { flags: nb, mode: 0, path: f },
                Request::Open { flags: (libc::O_WRONLY | libc::O_NONBLOCK) as u32, mode: 0, path: f },
                Request::Open { flags: (libc::O_RDWR | libc::O_CREAT | libc::O_NONBLOCK) as u32, mode: 0o644, path: f },
                Request::Stat { flags: e, path: f },
                Request::Access { mode: libc::W_OK as u32, flags: e, path: f },
                Request::Readlink { path: f },
                Request::Mkdir { mode: 0o755, path: f },
                Request::Mknod { mode: libc::S_IFIFO | 0o644, path: f },
                Request::Unlink { flags: 0, path: f },
                Request::Rename { flags: 0, old: f, new: PathArg::cwd(b"/out/renamed") },
                Request::Link { flags: e, old: f, new: PathArg::cwd(b"/out/linked") },
                Request::Symlink { target: b"/data", path: f },
                Request::Truncate { length: 0, path: f },
                Request::Chmod { mode: 0o600, flags: e, path: f },
                Request::Utimens { times: t, flags: e, path: f },
                Request::Chown { uid: 0, gid: 0, flags: e, path: f },
                Request::Chdir { path: f },
                Request::ReadDir { start: 0, path: f },
                Request::Exec { path: f },
                Request::BindUnix { ty: libc::SOCK_DGRAM as u32, path: f },
                Request::Owners { skip: 0, flags: proto::OWNERS_SUBDIRS },
            ];
            for req in &requests {
                let tm = Instant::now();
                send(a.as_fd(), &frame(req), &[fd.as_fd()]);
                match recv_within(a.as_fd(), 2 * PROMPT) {
                    Some((msg, took)) if took < PROMPT => match proto::decode_reply(&msg, req.op()) {
                        Ok((_, reply)) => *results.entry(reply.result).or_insert(0) += 1,
                        Err(e) => slow.push(format!("{kind}, {:?} {:?}: no reply ({e:?})", req.op(), String::from_utf8_lossy(path))),
                    },
                    r => slow.push(format!("{kind}, {:?} {:?}: {:?}", req.op(), String::from_utf8_lossy(path), r.map(|x| x.1))),
                }
                let _ = tm;
                b_is_served(b.as_fd(), 1);
                // A reply's fds were dropped with the message; the out
                // grant is put back for the next.
                for n in ["renamed", "linked", "x"] {
                    let _ = std::fs::remove_file(out.join(n));
                    let _ = std::fs::remove_dir(out.join(n));
                }
            }
        }
    }
    eprintln!("results (errno: count): {results:?}");
    let mut stalls = Vec::new();
    if std::fs::read(&outside).unwrap() != b"outside" {
        stalls.push("the host file outside the grants changed".to_string());
    }
    drop(kinds);
    drop(a);
    drop(b);
    server.join().expect("the server panicked");
    let logged = log.lock().unwrap().clone();
    stalls.extend(slow);
    stalls.extend(logged.iter().map(|l| format!("logged: {l}")));
    assert!(stalls.is_empty(), "requests with odd fds:\n{}", stalls.join("\n"));
}
