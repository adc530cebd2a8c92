//! The server's event loop: reading the connections, answering their
//! requests, letting go of the fds clients had a hand on.
//!
//! One thread polls every connection. A connection sends a request, the
//! server answers it before reading that connection again; one message per
//! ready connection per round, so a busy client cannot starve the others.
//! Sends never block (MSG_DONTWAIT): a client that does not read its replies
//! is disconnected. A malformed message (anything `preld_proto` refuses, or
//! a wrong number of attached fds, a truncated message, foreign control
//! data) ends that connection with the line `preld pola: client N: REASON`
//! and nothing else.
//!
//! The event loop never waits on a client. What a client may make wait is
//! done on threads of the server's own: closing the fds a client has had a
//! hand on (`Closer`: a socket with SO_LINGER, a unix socket with fds queued
//! on it, a FIFO whose lock a client holds), opening a FIFO or a device
//! (`open_later`: the open waits for the pipe's lock, or runs a driver's
//! open), and writing log lines to a pipe the program shares (`Logger`).
//! The fds a client sends are looked at only with statx(AT_STATX_DONT_SYNC)
//! (`sys::fstat_cached`), and the server keeps room in its fd table for
//! every fd a message can carry (`fd_budget`).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use preld_proto::{self as proto, DirEntry, Reply, ReplyData, MAX_FRAME};
use rustix::event::{PollFd, PollFlags, Timespec};

use super::ops::{memory_device, Answer, Data, Later};
use super::{Server, THREAD_STACK};
use crate::pola::sys::{self, SysResult};

/// While connections cannot be read for want of fds, poll wakes up this
/// often to see whether the closer has made room.
const PAUSED_POLL_MS: i32 = 10;

/// How long the server keeps polling without sleeping after a request.
/// Measured with a SOCK_SEQPACKET ping-pong passing an fd, 2 CPUs: 24-32
/// us a round trip when both sides sleep, 11.5 us when both poll with
/// sched_yield (which keeps a single shared CPU usable: 17 us there).
const SPIN_AFTER_REQUEST: Duration = Duration::from_micros(50);

impl Server {
    /// The fds the server may still take (`fd_budget`).
    pub(super) fn fds_left(&self) -> usize {
        self.fd_budget.saturating_sub(self.conns.len() + self.closer.waiting() + 3 * self.openers_alive() + self.bound_dirs.len() + self.owners.fds())
    }

    /// Opener threads alive in this process (a fork child's parent's are
    /// not: threads do not survive fork).
    fn openers_alive(&self) -> usize {
        if self.openers.0 == std::process::id() {
            self.openers.1.load(std::sync::atomic::Ordering::Relaxed).max(self.busy)
        } else {
            self.busy
        }
    }

    fn logf(&mut self, id: u64, why: &str) {
        (self.log)(&format!("preld pola: client {id}: {why}"));
    }

    /// One round: waits up to `timeout_ms` (-1: for ever) for a connection
    /// or `extra` to be ready, serves one message of each ready connection,
    /// drops the closed ones. Returns true if `extra` is ready.
    pub fn round(&mut self, extra: Option<BorrowedFd<'_>>, timeout_ms: i32) -> std::io::Result<bool> {
        // A connection is read only with room for a message's fds (else it
        // is not polled), and not while an opener thread answers it: then
        // only its hang-up is seen (POLLHUP comes without asking).
        let room = self.fds_left() > 0;
        let nconns = self.conns.len();
        let timeout_ms = match (room, timeout_ms) {
            (true, t) => t,
            (false, t) if t < 0 => PAUSED_POLL_MS,
            (false, t) => t.min(PAUSED_POLL_MS),
        };
        // Which connections are ready, whether the opener threads' pipe
        // is, whether `extra` is.
        let (ready, done_ready, extra_ready) = {
            let mut pfds = Vec::with_capacity(nconns + 2);
            let mut polled = Vec::with_capacity(nconns);
            for (i, c) in self.conns.iter().enumerate() {
                let events = match (c.busy, room) {
                    (true, _) => PollFlags::empty(),
                    (false, true) => PollFlags::IN,
                    (false, false) => continue,
                };
                pfds.push(PollFd::new(&c.sock, events));
                polled.push(i);
            }
            let done_at = self.done.as_ref().map(|(rd, _)| {
                pfds.push(PollFd::new(rd, PollFlags::IN));
                pfds.len() - 1
            });
            let extra_at = extra.map(|e| {
                pfds.push(PollFd::from_borrowed_fd(e, PollFlags::IN));
                pfds.len() - 1
            });
            let mut n = Ok(0);
            if let Some(until) = self.spin_until {
                while n == Ok(0) && Instant::now() < until {
                    n = rustix::event::poll(&mut pfds, Some(&Timespec { tv_sec: 0, tv_nsec: 0 }));
                    if n == Ok(0) {
                        rustix::thread::sched_yield();
                    }
                }
            }
            if n == Ok(0) {
                self.spin_until = None;
                let t = (timeout_ms >= 0).then(|| Timespec {
                    tv_sec: (timeout_ms / 1000).into(),
                    tv_nsec: (timeout_ms % 1000 * 1_000_000).into(),
                });
                n = rustix::event::poll(&mut pfds, t.as_ref());
            }
            match n {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
            let is_ready = |at: Option<usize>| at.is_some_and(|k| !pfds[k].revents().is_empty());
            let mut ready = vec![false; nconns];
            for (k, &i) in polled.iter().enumerate() {
                ready[i] = !pfds[k].revents().is_empty();
            }
            (ready, is_ready(done_at), is_ready(extra_at))
        };
        let mut dead = Vec::new();
        if done_ready {
            dead = self.opened_later();
        }
        for (i, &ready) in ready.iter().enumerate() {
            if !ready || dead.contains(&i) {
                continue;
            }
            if self.conns[i].busy {
                // Gone while its open waits: the opener's report will find
                // no connection.
                dead.push(i);
                continue;
            }
            if self.fds_left() == 0 {
                // The next round waits for room.
                break;
            }
            self.spin_until = Some(Instant::now() + SPIN_AFTER_REQUEST);
            if let Err(why) = self.serve_one(i) {
                if let Some(why) = why {
                    let id = self.conns[i].id;
                    self.logf(id, &why);
                }
                dead.push(i);
            }
        }
        dead.sort_unstable();
        for i in dead.into_iter().rev() {
            let c = self.conns.remove(i);
            if c.busy {
                self.busy -= 1;
            }
            // Messages may still be queued on it, fds with them: they are
            // released when its socket is closed.
            self.closer.close(c.sock);
        }
        Ok(extra_ready)
    }

    /// Reads the opener threads' reports: their connections are read again,
    /// or ended (the reply could not be sent). Returns the ended ones.
    fn opened_later(&mut self) -> Vec<usize> {
        let mut dead = Vec::new();
        let Some((rd, _)) = &self.done else { return dead };
        let mut buf = [0u8; 16 * 64];
        // The read end is non-blocking (nothing there: none read). Writes
        // of 16 bytes to a pipe are whole, so reads come in whole records.
        let n = rustix::io::read(rd, &mut buf[..]).unwrap_or(0);
        for rec in buf[..n].chunks_exact(16) {
            let id = u64::from_ne_bytes(rec[..8].try_into().unwrap());
            let err = i64::from_ne_bytes(rec[8..].try_into().unwrap()) as i32;
            let Some(i) = self.conns.iter().position(|c| c.id == id && c.busy) else { continue };
            self.conns[i].busy = false;
            self.busy -= 1;
            match err {
                0 => continue,
                libc::EAGAIN => self.logf(id, "does not read its replies"),
                libc::EPIPE | libc::ECONNRESET => {}
                e => self.logf(id, &format!("send: {}", std::io::Error::from_raw_os_error(e))),
            }
            dead.push(i);
        }
        dead
    }

    /// Serves every connection until none is left.
    pub fn run(&mut self) -> std::io::Result<()> {
        while !self.conns.is_empty() {
            self.round(None, -1)?;
        }
        Ok(())
    }

    /// Reads and answers one message of connection `i`. Err(Some(reason)):
    /// end it with a log line; Err(None): it closed.
    fn serve_one(&mut self, i: usize) -> Result<(), Option<String>> {
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.serve_one_in(i, &mut buf);
        self.buf = buf;
        r
    }

    fn serve_one_in(&mut self, i: usize, buf: &mut [u8]) -> Result<(), Option<String>> {
        let mut m = match sys::recv_msg(self.conns[i].sock.as_fd(), buf) {
            Ok(m) => m,
            Err(libc::EAGAIN) => return Ok(()),
            Err(libc::ECONNRESET) => return Err(None),
            Err(e) => return Err(Some(format!("receive: {}", std::io::Error::from_raw_os_error(e)))),
        };
        // The client's fds, whatever the message is worth, are let go of
        // by `release` once it is answered.
        let fds = std::mem::take(&mut m.fds);
        let r = self.answer(i, &m, &fds, buf);
        for fd in fds {
            self.release(fd, Came::FromClient);
        }
        r
    }

    /// Checks and answers a message of connection `i` received with `fds`.
    fn answer(&mut self, i: usize, m: &sys::Received, fds: &[OwnedFd], buf: &[u8]) -> Result<(), Option<String>> {
        if m.len == 0 && fds.is_empty() && !m.truncated {
            return Err(None);
        }
        if m.truncated {
            return Err(Some(format!("message longer than {MAX_FRAME} bytes")));
        }
        if m.ctrunc {
            return Err(Some("too many fds or too much control data attached".into()));
        }
        if m.foreign {
            return Err(Some("control message other than SCM_RIGHTS".into()));
        }
        let (id, req) = proto::decode_request(&buf[..m.len]).map_err(|e| Some(e.to_string()))?;
        if fds.len() != req.fds_needed() {
            return Err(Some(format!(
                "{} fds attached to a request that names {}",
                fds.len(),
                req.fds_needed()
            )));
        }
        let op = req.op();
        let mut ans = self.handle(i, &req, fds);
        if let Some(later) = ans.later.take() {
            match self.open_later(i, op, id, later) {
                Ok(()) => return Ok(()),
                Err(e) => ans = Answer::err(e),
            }
        }
        let reply_fd = ans.fd;
        let mut entries: Vec<DirEntry<'_>> = Vec::new();
        let reply = match &ans.result {
            Err(e) => Reply::err(*e),
            Ok(Data::Count(n)) => Reply { result: *n as i64, data: ReplyData::None },
            Ok(d) => Reply::ok(match d {
                Data::None => ReplyData::None,
                Data::Hello(f) => ReplyData::Hello { flags: *f },
                Data::Open(info) => ReplyData::Open { info: *info },
                Data::Stat(s) => ReplyData::Stat(s),
                Data::Bytes(b) => ReplyData::Bytes(b),
                Data::Dir(list) => {
                    entries = list.iter().map(|(ino, t, n)| DirEntry { ino: *ino, d_type: *t, name: n }).collect();
                    ReplyData::None
                }
                Data::Exec(v, h) => ReplyData::Exec { vpath: v, host: h },
                Data::Count(_) | Data::Owners(_) => ReplyData::None,
            }),
        };
        let data = &entries[..];
        let mut out = std::mem::take(&mut self.out);
        let n = match &ans.result {
            Ok(Data::Owners(list)) => proto::encode_reply_owners(op, id, &reply, list, &mut out),
            _ => proto::encode_reply_entries(op, id, &reply, data, &mut out),
        };
        let r = match n {
            Ok(n) => {
                let fds: Vec<BorrowedFd<'_>> = reply_fd.iter().map(|f| f.as_fd()).collect();
                match sys::send_msg(self.conns[i].sock.as_fd(), &out[..n], &fds) {
                    Ok(()) => Ok(()),
                    Err(libc::EAGAIN) => Err(Some("does not read its replies".into())),
                    Err(libc::EPIPE | libc::ECONNRESET) => Err(None),
                    Err(e) => Err(Some(format!("send: {}", std::io::Error::from_raw_os_error(e)))),
                }
            }
            // Only a reply too large for a frame can get here (a huge
            // virtual directory): the client gets EOVERFLOW instead.
            Err(_) => {
                let n = proto::encode_reply(op, id, &Reply::err(libc::EOVERFLOW), &mut out).unwrap();
                sys::send_msg(self.conns[i].sock.as_fd(), &out[..n], &[]).map_err(|_| None)
            }
        };
        self.out = out;
        match reply_fd {
            // The client's end of a new connection is closed now: while the
            // server holds a copy, the connection does not end when the
            // client closes its own. Its close cannot wait: nothing can be
            // queued on it yet (only the server's end sends to it, and that
            // connection has not been served).
            Some(fd) if op == proto::Op::Connect => drop(fd),
            Some(fd) => self.release(fd, Came::ToClient),
            None => {}
        }
        r
    }

    /// Lets go of an fd a client has had a hand on: closes it here only if
    /// its close cannot wait on anything a client controls, else on the
    /// closer's thread (`Closer`). Here: a stand-in or a directory on a
    /// grant's copy, sent back as the base of a path (the common case), and of the fds
    /// the server sent, regular files, directories, O_PATH fds of symlinks
    /// and the memory devices (/dev/null, zero, full, random, urandom: major
    /// 1). The closer's: the rest, sockets (SO_LINGER; a unix socket
    /// releases what is queued on it), FIFOs (the pipe's lock), terminals
    /// and other devices, anything else a client sends.
    pub(super) fn release(&mut self, fd: OwnedFd, came: Came) {
        let here = match sys::fstat_cached(fd.as_fd(), sys::STATX_CHECK) {
            Err(_) => false,
            Ok(st) => match (came, sys::file_type(&st)) {
                (Came::FromClient, libc::S_IFDIR) => self.dirs.contains_key(&(st.st_dev, st.st_ino)) || self.grant_of_mount(fd.as_fd()).is_some(),
                (Came::FromClient, _) => false,
                (Came::ToClient, libc::S_IFREG | libc::S_IFDIR | libc::S_IFLNK) => true,
                (Came::ToClient, _) => memory_device(&st),
            },
        };
        if !here {
            self.closer.close(fd);
        }
    }

    /// Makes the open of `later` on a thread of its own, which sends the
    /// reply on connection `i` (through a dup of its socket) and reports to
    /// the event loop through the `done` pipe: connection id and 0, or the
    /// send's errno. Connection `i` is not read meanwhile, so its replies
    /// stay in order; the others are served. An open that waits for ever
    /// (a client holds the FIFO's lock) holds that connection and thread
    /// only. Err: no thread could be started.
    fn open_later(&mut self, i: usize, op: proto::Op, id: u32, later: Later) -> SysResult<()> {
        if self.openers.0 != std::process::id() {
            // A fork child (the background server): a count of its own.
            self.openers = (std::process::id(), Arc::new(std::sync::atomic::AtomicUsize::new(0)));
        }
        if self.openers_alive() >= self.fd_budget / 12 {
            return Err(libc::EMFILE);
        }
        if self.done.is_none() {
            let (rd, wr) = sys::pipe()?;
            self.done = Some((rd, Arc::new(wr)));
        }
        let done = self.done.as_ref().unwrap().1.clone();
        let sock = self.conns[i].sock.try_clone().map_err(|e| e.raw_os_error().unwrap_or(libc::EMFILE))?;
        let conn = self.conns[i].id;
        let alive = self.openers.1.clone();
        alive.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let counted = alive.clone();
        let opener = move || {
            let (opened, reply) = match &later.connect {
                // ConnectOwn: the program's own socket, connected.
                Some(sock) => match sys::connect_unix(sock.as_fd(), sys::proc_fd(later.fd.as_fd()).as_bytes()) {
                    Ok(()) => (Err(0), Reply::ok(ReplyData::None)),
                    Err(e) => (Err(e), Reply::err(e)),
                },
                None => {
                    let opened = if later.waits {
                        // As the client asked: a FIFO's open waits for its
                        // other end here, on this thread.
                        let f = (later.flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW)) | libc::O_CLOEXEC | libc::O_NOCTTY;
                        sys::reopen(later.fd.as_fd(), f, later.mode)
                    } else {
                        Server::reopen(later.fd.as_fd(), later.flags, later.mode)
                    };
                    let reply = match &opened {
                        Ok(_) => Reply::ok(ReplyData::Open { info: 0 }),
                        Err(e) => Reply::err(*e),
                    };
                    (opened, reply)
                }
            };
            let mut out = [0u8; 64];
            let n = proto::encode_reply(op, id, &reply, &mut out).unwrap();
            let fds: Vec<BorrowedFd<'_>> = opened.iter().map(|f| f.as_fd()).collect();
            let err = sys::send_msg(sock.as_fd(), &out[..n], &fds).err().unwrap_or(0);
            let mut rec = [0u8; 16];
            rec[..8].copy_from_slice(&conn.to_ne_bytes());
            rec[8..].copy_from_slice(&(err as i64).to_ne_bytes());
            // 16 bytes to our pipe: whole (less than PIPE_BUF). If it
            // fails, there is no one to tell.
            let _ = rustix::io::write(&*done, &rec);
            // The FIFO or device and the socket's dup are closed here, on
            // this thread, whatever their close waits for; then the thread
            // no longer counts.
            drop(opened);
            drop(sock);
            drop(later);
            counted.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        };
        std::thread::Builder::new()
            .name("preld-pola-open".into())
            .stack_size(THREAD_STACK)
            .spawn(opener)
            .map_err(|e| {
                alive.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                e.raw_os_error().unwrap_or(libc::EAGAIN)
            })?;
        self.conns[i].busy = true;
        self.busy += 1;
        Ok(())
    }

}

/// Whose an fd the server lets go of is (`Server::release`).
#[derive(Clone, Copy)]
pub(super) enum Came {
    /// Sent by a client (a request's fds): anything at all.
    FromClient,
    /// Made by the server and sent to a client (a reply's fd), which may
    /// have acted on it since.
    ToClient,
}

