//! The capability server of `preld pola`, in-process on socketpairs, driven
//! over the wire protocol as a client (the handler) would: granted files come
//! back as readable fds, other paths do not exist, `Connect` gives a new
//! connection, and forged, truncated or oversized messages, wrong fd counts
//! and a client that never reads its replies each end that one connection
//! with a logged reason while the server keeps serving the others.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use preld_proto::{self as proto, Op, PathArg, ReplyData, Request, MAX_FRAME};

// The server's modules, compiled into this test (serve.rs finds its
// siblings as `super::ns` and `super::sys`).
#[allow(dead_code)]
#[path = "../../server/src/pola/ns.rs"]
mod ns;
#[allow(dead_code)]
#[path = "../../server/src/pola/serve.rs"]
mod serve;
#[allow(dead_code)]
#[path = "../../server/src/pola/sys.rs"]
mod sys;

struct Session {
    dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
    server: Option<std::thread::JoinHandle<()>>,
}

/// Starts a server with /data granted read-only and one connection per
/// returned socket.
fn start(nconns: usize) -> (Session, Vec<OwnedFd>) {
    let dir = tempfile::tempdir().unwrap();
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
    let server = std::thread::spawn(move || {
        let spec = ns::GrantSpec { vpath: b"/data".to_vec(), host, mode: ns::Mode::Ro };
        let mut s = serve::Server::new(ns::Namespace::new(&[spec]).unwrap(), false);
        s.log = Box::new(move |line| log2.lock().unwrap().push(line.to_owned()));
        for t in theirs {
            s.add(t, b"/".to_vec());
        }
        s.run().unwrap();
    });
    (Session { dir, log, server: Some(server) }, clients)
}

impl Session {
    fn logged(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
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

#[test]
fn granted_files_open_and_nothing_else_exists() {
    let (s, c) = start(1);
    let a = c[0].as_fd();
    let (r, msg, _) = call(a, &Request::Hello, &[]);
    assert_eq!(r, 0);
    assert_eq!(proto::decode_reply(&msg, Op::Hello).unwrap().1.data, ReplyData::Hello { flags: 0 });
    assert_eq!(read_fd(open(a, b"/data/a.txt").unwrap()), "granted");
    assert_eq!(read_fd(open(a, b"data/../data/./a.txt").unwrap()), "granted");
    assert_eq!(open(a, b"/secret.txt").unwrap_err(), libc::ENOENT as i64);
    let host_secret = s.dir.path().join("secret.txt");
    assert_eq!(open(a, host_secret.to_str().unwrap().as_bytes()).unwrap_err(), libc::ENOENT as i64);
    assert_eq!(open(a, b"/data/../../secret.txt").unwrap_err(), libc::ENOENT as i64);
    // Stat carries a struct stat.
    let (r, msg, _) = call(a, &Request::Stat { flags: 0, path: PathArg::cwd(b"/data/a.txt") }, &[]);
    assert_eq!(r, 0);
    let ReplyData::Stat(st) = proto::decode_reply(&msg, Op::Stat).unwrap().1.data else { panic!() };
    // SAFETY: the bytes of a struct stat.
    let st: libc::stat = unsafe { std::ptr::read_unaligned(st.as_ptr() as *const libc::stat) };
    assert_eq!(st.st_size, 7);
    // A directory fd attached to a request is its base.
    let (r, _, mut d) = call(a, &Request::Open { flags: (libc::O_RDONLY | libc::O_DIRECTORY) as u32, mode: 0, path: PathArg::cwd(b"/data") }, &[]);
    assert_eq!(r, 0);
    let d = d.pop().unwrap();
    let (r, _, mut f) = call(a, &Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"a.txt") }, &[d.as_fd()]);
    assert_eq!(r, 0);
    assert_eq!(read_fd(f.pop().unwrap()), "granted");
    let log = s.finish(c);
    assert!(log.is_empty(), "{log:?}");
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
    for (i, (bytes, fds, _)) in forged.iter().enumerate() {
        let fds: Vec<BorrowedFd<'_>> = fds.iter().map(|_| devnull.as_fd()).collect();
        send(c[i].as_fd(), bytes, &fds);
        assert_closed(c[i].as_fd());
        // The others are still served, at once.
        assert_eq!(read_fd(open(good, b"/data/a.txt").unwrap()), "granted", "after forgery {i}");
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
fn fd_replies_and_path_rules_over_the_wire() {
    let (s, c) = start(1);
    let a = c[0].as_fd();
    // A write to the read-only grant.
    let (r, _, fds) = call(a, &Request::Open { flags: (libc::O_WRONLY | libc::O_CREAT) as u32, mode: 0o644, path: PathArg::cwd(b"/data/new") }, &[]);
    assert_eq!((r, fds.len()), (-(libc::EROFS as i64), 0));
    // The virtual root: an empty directory fd flagged virtual, and its listing.
    let (r, msg, fds) = call(a, &Request::Open { flags: (libc::O_RDONLY | libc::O_DIRECTORY) as u32, mode: 0, path: PathArg::cwd(b"/") }, &[]);
    assert_eq!((r, fds.len()), (0, 1));
    assert_eq!(proto::decode_reply(&msg, Op::Open).unwrap().1.data, ReplyData::Open { info: proto::OPEN_VIRTUAL_DIR });
    let (r, msg, _) = call(a, &Request::ReadDir { path: PathArg::fd(0, b"") }, &[fds[0].as_fd()]);
    assert_eq!(r, 0);
    let ReplyData::Dir(d) = proto::decode_reply(&msg, Op::ReadDir).unwrap().1.data else { panic!() };
    let names: Vec<&[u8]> = d.iter().map(|e| e.name).collect();
    assert_eq!(names, [&b"."[..], b"..", b"data"]);
    let log = s.finish(c);
    assert!(log.is_empty(), "{log:?}");
}
