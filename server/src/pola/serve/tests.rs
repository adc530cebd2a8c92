//! The operations' semantics, called directly (the wire is tested in
//! tests/tests/pola_server.rs): EROFS for writes to read-only grants,
//! virtual directories, EXDEV between grants, exec rights, dirfds. And
//! what keeps the event loop from waiting on a client: fds looked at
//! without waiting, closes and FIFO opens off the loop, the closer after
//! fork, the fd budget, log lines on a held pipe or a stopped terminal.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use preld_proto::{self as proto, PathArg, Request, Timespec, OPEN_VIRTUAL_DIR};

use super::background::{Background, Closer, LogOut, Logger};
use super::event_loop::Came;
use super::ops::{Answer, Data};
use super::*;
use crate::pola::ns::tests::{fixture, Fixture};
use crate::pola::ns::{self, Namespace};

fn server() -> (Fixture, Server) {
    let f = fixture();
    // The namespace is rebuilt from the same fixture directory.
    let t = f.dir.path();
    let spec = |v: &str, h: &str, mode| ns::GrantSpec { vpath: v.as_bytes().to_vec(), host: t.join(h), mode, link: false };
    let ns = Namespace::new(&[
        spec("/data", "data", ns::Mode::Ro),
        spec("/out", "out", ns::Mode::Rw),
        spec("/x/y/z", "out", ns::Mode::Rw),
        spec("/bin", "data", ns::Mode::Exec),
    ])
    .unwrap();
    let mut s = Server::new(ns, false);
    let (a, _b) = sys::seqpacket_pair().unwrap();
    s.add(a, b"/".to_vec());
    (f, s)
}

fn errno_of(a: Answer) -> i32 {
    match a.result {
        Ok(_) => 0,
        Err(e) => e,
    }
}

fn req(s: &mut Server, r: Request<'_>) -> i32 {
    errno_of(s.handle(0, &r, &[]))
}

fn open(s: &mut Server, path: &str, flags: i32) -> Result<(OwnedFd, u32), i32> {
    let a = s.handle(0, &Request::Open { flags: flags as u32, mode: 0o644, path: PathArg::cwd(path.as_bytes()) }, &[]);
    match a.result {
        Ok(Data::Open(info)) => Ok((a.fd.unwrap(), info)),
        Ok(_) => panic!("open answered without Open data"),
        Err(e) => Err(e),
    }
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn open_reads_granted_files_and_nothing_else() {
    let (_f, mut s) = server();
    assert_eq!(read_all(open(&mut s, "/data/a.txt", libc::O_RDONLY).unwrap().0), "a");
    assert_eq!(read_all(open(&mut s, "/data/to_out", libc::O_RDONLY).unwrap().0), "o");
    assert_eq!(open(&mut s, "/secret.txt", libc::O_RDONLY).unwrap_err(), libc::ENOENT);
    assert_eq!(open(&mut s, "/data/esc_abs", libc::O_RDONLY).unwrap_err(), libc::ENOENT);
    assert_eq!(open(&mut s, "/data/rel", libc::O_RDONLY | libc::O_NOFOLLOW).unwrap_err(), libc::ELOOP);
    assert!(open(&mut s, "/data/rel", libc::O_PATH | libc::O_NOFOLLOW).is_ok());
    // O_DIRECTORY before the symlink's ELOOP, as the kernel's do_open.
    assert_eq!(open(&mut s, "/data/rel", libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_DIRECTORY).unwrap_err(), libc::ENOTDIR);
    assert_eq!(open(&mut s, "/data/rel", libc::O_PATH | libc::O_NOFOLLOW | libc::O_DIRECTORY).unwrap_err(), libc::ENOTDIR);
    assert_eq!(open(&mut s, "/data/a.txt", libc::O_RDONLY | libc::O_DIRECTORY).unwrap_err(), libc::ENOTDIR);
    assert_eq!(open(&mut s, "/data/a.txt", 0o40000000 << 1).unwrap_err(), libc::EINVAL, "unknown flag");
    // O_CLOEXEC is the client's business; the fd is blocking unless asked.
    let (fd, _) = open(&mut s, "/data/a.txt", libc::O_RDONLY).unwrap();
    // SAFETY: fcntl on our fd.
    let fl = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_GETFL) };
    assert_eq!(fl & libc::O_NONBLOCK, 0);
}

#[test]
fn writes_to_read_only_grants_fail_with_erofs() {
    let (f, mut s) = server();
    let c = |p: &'static str| PathArg::cwd(p.as_bytes());
    assert_eq!(open(&mut s, "/data/a.txt", libc::O_WRONLY).unwrap_err(), libc::EROFS);
    assert_eq!(open(&mut s, "/data/a.txt", libc::O_RDWR).unwrap_err(), libc::EROFS);
    assert_eq!(open(&mut s, "/data/a.txt", libc::O_RDONLY | libc::O_TRUNC).unwrap_err(), libc::EROFS);
    assert_eq!(open(&mut s, "/data/new", libc::O_WRONLY | libc::O_CREAT).unwrap_err(), libc::EROFS);
    assert_eq!(open(&mut s, "/data/nodir/new", libc::O_WRONLY | libc::O_CREAT).unwrap_err(), libc::ENOENT);
    assert!(open(&mut s, "/data/a.txt", libc::O_RDONLY | libc::O_CREAT).is_ok(), "exists: nothing to write");
    assert_eq!(open(&mut s, "/data/a.txt", libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL).unwrap_err(), libc::EEXIST);
    assert_eq!(open(&mut s, "/data/sub", libc::O_WRONLY).unwrap_err(), libc::EISDIR);
    assert_eq!(req(&mut s, Request::Mkdir { mode: 0o755, path: c("/data/d") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Mkdir { mode: 0o755, path: c("/data/sub") }), libc::EEXIST);
    assert_eq!(req(&mut s, Request::Unlink { flags: 0, path: c("/data/a.txt") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Unlink { flags: 0, path: c("/data/nope") }), libc::ENOENT);
    assert_eq!(req(&mut s, Request::Unlink { flags: libc::AT_REMOVEDIR as u32, path: c("/data/sub") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/data/a.txt"), new: c("/data/b") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Link { flags: 0, old: c("/data/a.txt"), new: c("/data/b") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Symlink { target: b"x", path: c("/data/l") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Truncate { length: 0, path: c("/data/a.txt") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Chmod { mode: 0o600, flags: 0, path: c("/data/a.txt") }), libc::EROFS);
    let t = [Timespec { sec: 0, nsec: libc::UTIME_NOW }; 2];
    assert_eq!(req(&mut s, Request::Utimens { times: t, flags: 0, path: c("/data/a.txt") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Access { mode: libc::W_OK as u32, flags: 0, path: c("/data/a.txt") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Access { mode: libc::R_OK as u32, flags: 0, path: c("/data/a.txt") }), 0);
    // Virtual directories are read-only too.
    assert_eq!(req(&mut s, Request::Mkdir { mode: 0o755, path: c("/newdir") }), libc::EROFS);
    assert_eq!(open(&mut s, "/newfile", libc::O_WRONLY | libc::O_CREAT).unwrap_err(), libc::EROFS);
    assert_eq!(req(&mut s, Request::Unlink { flags: libc::AT_REMOVEDIR as u32, path: c("/x") }), libc::EROFS);
    assert_eq!(req(&mut s, Request::Unlink { flags: libc::AT_REMOVEDIR as u32, path: c("/out") }), libc::EBUSY);
    assert_eq!(std::fs::read_to_string(f.path("data/a.txt")).unwrap(), "a", "untouched");
}

#[test]
fn writes_in_read_write_grants() {
    let (f, mut s) = server();
    let c = |p: &'static str| PathArg::cwd(p.as_bytes());
    let (fd, _) = open(&mut s, "/out/new.txt", libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL).unwrap();
    std::io::Write::write_all(&mut std::fs::File::from(fd), b"hello").unwrap();
    assert_eq!(std::fs::read_to_string(f.path("out/new.txt")).unwrap(), "hello");
    assert_eq!(req(&mut s, Request::Mkdir { mode: 0o755, path: c("/out/d") }), 0);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out/new.txt"), new: c("/out/d/n") }), 0);
    assert_eq!(req(&mut s, Request::Link { flags: 0, old: c("/out/d/n"), new: c("/out/hard") }), 0);
    // The kernel's own answers come before a grant's root is a mount point
    // (as on the host, where the grants are plain directories): a name
    // onto itself or onto a hard link of its file does nothing, a
    // directory into itself is EINVAL, onto one that holds it ENOTEMPTY.
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out"), new: c("/out") }), 0);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out/hard"), new: c("/out/d/n") }), 0);
    assert_eq!(req(&mut s, Request::Rename { flags: libc::RENAME_NOREPLACE, old: c("/out/hard"), new: c("/out/d/n") }), libc::EEXIST);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out/d"), new: c("/out/d/x") }), libc::EINVAL);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out"), new: c("/out/d/x") }), libc::EINVAL);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out/d"), new: c("/out") }), libc::ENOTEMPTY);
    assert_eq!(req(&mut s, Request::Rename { flags: libc::RENAME_EXCHANGE, old: c("/out/d"), new: c("/out") }), libc::EINVAL);
    assert!(f.path("out/hard").exists() && f.path("out/d/n").exists(), "untouched");
    assert_eq!(req(&mut s, Request::Symlink { target: b"d/n", path: c("/out/sym") }), 0);
    assert_eq!(read_all(open(&mut s, "/out/sym", libc::O_RDONLY).unwrap().0), "hello");
    assert_eq!(req(&mut s, Request::Truncate { length: 2, path: c("/out/sym") }), 0);
    assert_eq!(std::fs::read_to_string(f.path("out/d/n")).unwrap(), "he");
    assert_eq!(req(&mut s, Request::Chmod { mode: 0o600, flags: 0, path: c("/out/hard") }), 0);
    let t = [Timespec { sec: 1000, nsec: 0 }, Timespec { sec: 2000, nsec: 0 }];
    assert_eq!(req(&mut s, Request::Utimens { times: t, flags: 0, path: c("/out/hard") }), 0);
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(f.path("out/d/n")).unwrap();
    assert_eq!((m.mode() & 0o7777, m.mtime()), (0o600, 2000));
    assert_eq!(req(&mut s, Request::Chmod { mode: 0o600, flags: libc::AT_SYMLINK_NOFOLLOW as u32, path: c("/out/sym") }), libc::EOPNOTSUPP);
    // Across grants: EXDEV, as across mounts (even on the same host directory).
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out/hard"), new: c("/x/y/z/h2") }), libc::EXDEV);
    assert_eq!(req(&mut s, Request::Link { flags: 0, old: c("/data/a.txt"), new: c("/out/a") }), libc::EXDEV);
    // From a read-only grant too: EXDEV comes first (`mv` then copies).
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/data/a.txt"), new: c("/out/a") }), libc::EXDEV);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out/hard"), new: c("/data/h") }), libc::EXDEV);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out"), new: c("/out2") }), libc::EBUSY);
    assert_eq!(req(&mut s, Request::Rename { flags: 0, old: c("/out"), new: c("/data/o") }), libc::EBUSY);
    assert_eq!(req(&mut s, Request::Unlink { flags: 0, path: c("/out/d") }), libc::EISDIR);
    assert_eq!(req(&mut s, Request::Unlink { flags: libc::AT_REMOVEDIR as u32, path: c("/out/d") }), libc::ENOTEMPTY);
    assert_eq!(req(&mut s, Request::Unlink { flags: 0, path: c("/out/d/n") }), 0);
    assert_eq!(req(&mut s, Request::Unlink { flags: libc::AT_REMOVEDIR as u32, path: c("/out/d") }), 0);
    assert_eq!(req(&mut s, Request::Unlink { flags: libc::AT_REMOVEDIR as u32, path: c("/out/.") }), libc::EINVAL);
    assert_eq!(req(&mut s, Request::Mkdir { mode: 0o755, path: c("/out/..") }), libc::EEXIST);
    // A symlink in a read-write grant may point anywhere: it still resolves
    // in the namespace.
    assert_eq!(req(&mut s, Request::Symlink { target: f.path("secret.txt").to_str().unwrap().as_bytes(), path: c("/out/s") }), 0);
    assert_eq!(open(&mut s, "/out/s", libc::O_RDONLY).unwrap_err(), libc::ENOENT);
    assert_eq!(open(&mut s, "/out/s", libc::O_WRONLY | libc::O_CREAT).unwrap_err(), libc::ENOENT);
    assert!(!f.path("secret.txt").with_extension("new").exists());
}

#[test]
fn virtual_directories_open_empty_and_list_the_grants() {
    let (_f, mut s) = server();
    let (fd, info) = open(&mut s, "/", libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    assert_eq!(info, OPEN_VIRTUAL_DIR);
    let names: Vec<String> = std::fs::read_dir(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd)))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let a = s.handle(0, &Request::ReadDir { start: 0, path: PathArg::cwd(b"/") }, &[]);
    let Ok(Data::Dir(list)) = a.result else { panic!("no listing") };
    let mut names: Vec<(String, u8)> = list.iter().map(|(_, t, n)| (String::from_utf8(n.clone()).unwrap(), *t)).collect();
    names.sort();
    let d = libc::DT_DIR;
    assert_eq!(names, [(".".into(), d), ("..".into(), d), ("bin".into(), d), ("data".into(), d), ("out".into(), d), ("x".into(), d)]);
    // Listing through the fd that was handed out.
    let a = s.handle(0, &Request::ReadDir { start: 0, path: PathArg::fd(0, b"") }, &[fd]);
    assert!(matches!(a.result, Ok(Data::Dir(ref l)) if l.len() == 6));
    // stat of a virtual directory: the stand-in's, 0555.
    let a = s.handle(0, &Request::Stat { flags: 0, path: PathArg::cwd(b"/x/y") }, &[]);
    let Ok(Data::Stat(st)) = a.result else { panic!("no stat") };
    // SAFETY: the bytes of a struct stat.
    let st: libc::stat = unsafe { std::ptr::read_unaligned(st.as_ptr() as *const libc::stat) };
    assert_eq!((st.st_mode & libc::S_IFMT, st.st_mode & 0o7777), (libc::S_IFDIR, 0o555));
    assert_eq!(errno_of(s.handle(0, &Request::ReadDir { start: 0, path: PathArg::cwd(b"/data") }, &[])), libc::EOPNOTSUPP);
    assert_eq!(errno_of(s.handle(0, &Request::ReadDir { start: 0, path: PathArg::cwd(b"/data/a.txt") }, &[])), libc::ENOTDIR);
}

#[test]
fn cwd_and_directory_fds() {
    let (_f, mut s) = server();
    assert_eq!(req(&mut s, Request::Chdir { path: PathArg::cwd(b"/data/sub") }), 0);
    assert_eq!(s.conns[0].cwd, b"/data/sub");
    assert_eq!(read_all(open(&mut s, "../a.txt", libc::O_RDONLY).unwrap().0), "a");
    assert_eq!(req(&mut s, Request::Chdir { path: PathArg::cwd(b"/bin/deep/..") }), 0);
    assert_eq!(s.conns[0].cwd, b"/bin/sub", "physical, as getcwd");
    assert_eq!(req(&mut s, Request::Chdir { path: PathArg::cwd(b"/data/a.txt") }), libc::ENOTDIR);
    assert_eq!(req(&mut s, Request::Chdir { path: PathArg::cwd(b"../../..") }), 0);
    assert_eq!(s.conns[0].cwd, b"/");
    // A directory fd the server gave stands for its virtual path.
    let (dfd, _) = open(&mut s, "/data/sub", libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    let a = s.handle(0, &Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"../a.txt") }, &[dfd]);
    assert_eq!(read_all(a.fd.unwrap()), "a");
    let (dfd, _) = open(&mut s, "/data/sub", libc::O_PATH).unwrap();
    assert_eq!(errno_of(s.handle(0, &Request::Chdir { path: PathArg::fd(0, b"") }, &[dfd])), 0, "fchdir");
    assert_eq!(s.conns[0].cwd, b"/data/sub");
    // An absolute path ignores the fd; a file fd is ENOTDIR; a directory
    // the server never handed out is outside the namespace.
    let (ffd, _) = open(&mut s, "/data/a.txt", libc::O_RDONLY).unwrap();
    let a = s.handle(0, &Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"x") }, &[ffd]);
    assert_eq!(errno_of(a), libc::ENOTDIR);
    let alien: OwnedFd = std::fs::File::open("/").unwrap().into();
    let a = s.handle(0, &Request::Stat { flags: 0, path: PathArg::fd(0, b"etc") }, &[alien]);
    assert_eq!(errno_of(a), libc::ENOENT);
    let alien: OwnedFd = std::fs::File::open("/").unwrap().into();
    let a = s.handle(0, &Request::Stat { flags: 0, path: PathArg::fd(0, b"/data/a.txt") }, &[alien]);
    assert_eq!(errno_of(a), 0);
    let a = s.handle(0, &Request::Getcwd, &[]);
    assert!(matches!(a.result, Ok(Data::Bytes(ref b)) if b == b"/data/sub"));
}

#[test]
fn exec_needs_an_executable_grant() {
    let (_f, mut s) = server();
    let a = s.handle(0, &Request::Exec { path: PathArg::cwd(b"/bin/prog") }, &[]);
    match a.result {
        Ok(Data::Exec(v, h)) => {
            assert_eq!(v, b"/bin/prog");
            assert!(h.ends_with(b"/data/prog"));
            assert_eq!(read_all(a.fd.unwrap()), "#!/bin/sh\n");
        }
        _ => panic!("exec refused"),
    }
    assert_eq!(errno_of(s.handle(0, &Request::Exec { path: PathArg::cwd(b"/data/prog") }, &[])), libc::EACCES, "ro grant");
    assert_eq!(errno_of(s.handle(0, &Request::Exec { path: PathArg::cwd(b"/bin/a.txt") }, &[])), libc::EACCES, "mode 0644");
    assert_eq!(errno_of(s.handle(0, &Request::Exec { path: PathArg::cwd(b"/bin") }, &[])), libc::EACCES);
    assert_eq!(errno_of(s.handle(0, &Request::Exec { path: PathArg::cwd(b"/nope") }, &[])), libc::ENOENT);
    let x = libc::X_OK as u32;
    assert_eq!(req(&mut s, Request::Access { mode: x, flags: 0, path: PathArg::cwd(b"/data/prog") }), libc::EACCES);
    assert_eq!(req(&mut s, Request::Access { mode: x, flags: 0, path: PathArg::cwd(b"/bin/prog") }), 0);
}

#[test]
fn unix_sockets_only_in_read_write_grants() {
    let (f, mut s) = server();
    let _listener = std::os::unix::net::UnixListener::bind(f.path("out/sock")).unwrap();
    let _l2 = std::os::unix::net::UnixListener::bind(f.path("data/sock")).unwrap();
    // The program's own stream socket, connected by the server where its
    // connect never waits (non-blocking; the handler makes it so for the
    // call): done later, off the server's loop.
    let own = |nonblocking: bool| {
        let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | if nonblocking { libc::SOCK_NONBLOCK } else { 0 };
        // SAFETY: a new socket, owned from here on.
        vec![unsafe { OwnedFd::from_raw_fd(libc::socket(libc::AF_UNIX, ty, 0)) }]
    };
    let a = s.handle(0, &Request::ConnectOwn { path: PathArg::cwd(b"/out/sock") }, &own(true));
    assert!(a.result.is_ok() && a.later.as_ref().is_some_and(|l| l.connect.is_some()), "a connect later");
    assert_eq!(errno_of(s.handle(0, &Request::ConnectOwn { path: PathArg::cwd(b"/out/sock") }, &own(false))), libc::EINVAL, "a blocking one");
    assert_eq!(errno_of(s.handle(0, &Request::ConnectOwn { path: PathArg::cwd(b"/data/sock") }, &own(true))), libc::EACCES);
    assert_eq!(errno_of(s.handle(0, &Request::ConnectOwn { path: PathArg::cwd(b"/out/o.txt") }, &own(true))), libc::ECONNREFUSED);
    let a = s.handle(0, &Request::BindUnix { ty: libc::SOCK_STREAM as u32, path: PathArg::cwd(b"/out/bound") }, &[]);
    assert!(a.fd.is_some());
    assert_eq!(errno_of(s.handle(0, &Request::BindUnix { ty: 77, path: PathArg::cwd(b"/out/b77") }, &[])), libc::EINVAL);
    assert!(std::fs::symlink_metadata(f.path("out/bound")).is_ok());
    let a = s.handle(0, &Request::BindUnix { ty: libc::SOCK_STREAM as u32, path: PathArg::cwd(b"/data/b") }, &[]);
    assert_eq!(errno_of(a), libc::EROFS);
    let a = s.handle(0, &Request::BindUnix { ty: libc::SOCK_STREAM as u32, path: PathArg::cwd(b"/out/bound") }, &[]);
    assert_eq!(errno_of(a), libc::EADDRINUSE);
}

/// Datagrams to a socket path and connects of the program's own socket:
/// only to sockets in read-write grants, from the socket attached; the
/// name the kernel keeps for a socket the server bound works as an
/// address; a full receiver is EAGAIN (the server never waits).
#[test]
fn datagrams_and_own_connects_only_in_read_write_grants() {
    use std::os::unix::net::UnixDatagram;
    let (f, mut s) = server();
    let rx = UnixDatagram::bind(f.path("out/rx")).unwrap();
    let _ro = UnixDatagram::bind(f.path("data/rx")).unwrap();
    let tx = UnixDatagram::unbound().unwrap();
    let fd = || vec![OwnedFd::from(tx.try_clone().unwrap())];
    let send = |s: &mut Server, path: &[u8]| s.handle(0, &Request::SendUnix { flags: 0, path: PathArg::cwd(path), data: b"ping" }, &fd());
    assert_eq!(send(&mut s, b"/out/rx").result.as_ref().map(|d| matches!(d, Data::Count(4))), Ok(true));
    let mut got = [0u8; 8];
    assert_eq!(rx.recv(&mut got).unwrap(), 4);
    assert_eq!(errno_of(send(&mut s, b"/data/rx")), libc::EACCES);
    assert_eq!(errno_of(send(&mut s, b"/out/o.txt")), libc::ECONNREFUSED);
    assert_eq!(errno_of(send(&mut s, b"/out/none")), libc::ENOENT);
    // Not a socket attached.
    let file = std::fs::File::open(f.path("out/o.txt")).unwrap();
    let a = s.handle(0, &Request::SendUnix { flags: 0, path: PathArg::cwd(b"/out/rx"), data: b"x" }, &[OwnedFd::from(file)]);
    assert_eq!(errno_of(a), libc::ENOTSOCK);
    // A name the server bound, as the kernel shows it.
    let a = s.handle(0, &Request::BindUnix { ty: libc::SOCK_DGRAM as u32, path: PathArg::cwd(b"/out/named") }, &[]);
    let named = UnixDatagram::from(a.fd.expect("bound"));
    let kernel = named.local_addr().unwrap().as_pathname().unwrap().as_os_str().as_bytes().to_vec();
    assert!(kernel.starts_with(b"/proc/self/fd/"), "{}", String::from_utf8_lossy(&kernel));
    assert_eq!(send(&mut s, &kernel).result.is_ok(), true);
    assert_eq!(named.recv(&mut got).unwrap(), 4);
    // Connect of the attached socket itself.
    let a = s.handle(0, &Request::ConnectOwn { path: PathArg::cwd(b"/out/rx") }, &fd());
    assert!(a.result.is_ok());
    tx.send(b"pong").unwrap();
    assert_eq!(rx.recv(&mut got).unwrap(), 4);
    let a = s.handle(0, &Request::ConnectOwn { path: PathArg::cwd(b"/data/rx") }, &fd());
    assert_eq!(errno_of(a), libc::EACCES);
    // A full receiver.
    rx.set_nonblocking(true).unwrap();
    let last = loop {
        let a = send(&mut s, b"/out/rx");
        if a.result.is_err() {
            break errno_of(a);
        }
    };
    assert_eq!(last, libc::EAGAIN);
}

/// A TCP socket whose last close() waits `secs` seconds: SO_LINGER on and
/// a full send buffer, towards a listener of ours that never reads (drop
/// the listener to end the wait, unless a fork child of another test holds
/// a copy of it: short lingers here).
fn lingering_socket(secs: i32) -> (std::net::TcpListener, OwnedFd) {
    let int_opt = |fd: i32, name: i32, v: i32| {
        // SAFETY: an int option of the size given.
        assert_eq!(unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, name, (&v as *const i32).cast(), 4) }, 0);
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    int_opt(listener.as_raw_fd(), libc::SO_RCVBUF, 4096);
    let mut stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    int_opt(stream.as_raw_fd(), libc::SO_SNDBUF, 4096);
    stream.set_nonblocking(true).unwrap();
    let t = Instant::now();
    loop {
        match stream.write(&[0u8; 16384]) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                if stream.write(&[0u8; 16384]).is_err() {
                    break;
                }
            }
            Err(e) => panic!("write: {e}"),
        }
        assert!(t.elapsed() < Duration::from_secs(5), "the connection never filled");
    }
    stream.set_nonblocking(false).unwrap();
    let l = libc::linger { l_onoff: 1, l_linger: secs };
    // SAFETY: a struct linger of the size given.
    let r = unsafe { libc::setsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, libc::SO_LINGER, (&l as *const libc::linger).cast(), 8) };
    assert_eq!(r, 0);
    (listener, stream.into())
}

#[test]
fn a_base_fd_that_is_no_directory_is_enotdir() {
    let (_f, mut s) = server();
    let (sock, _peer) = sys::seqpacket_pair().unwrap();
    let (r, w) = sys::pipe().unwrap();
    for fd in [sock, r] {
        let a = s.handle(0, &Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"a.txt") }, &[fd]);
        assert_eq!(errno_of(a), libc::ENOTDIR);
    }
    // fstatat(fd, "", AT_EMPTY_PATH) of a client's fd: the kernel's
    // cached answer.
    let a = s.handle(0, &Request::Stat { flags: libc::AT_EMPTY_PATH as u32, path: PathArg::fd(0, b"") }, &[w]);
    let Ok(Data::Stat(st)) = a.result else { panic!("no stat") };
    // SAFETY: the bytes of a struct stat.
    let st: libc::stat = unsafe { std::ptr::read_unaligned(st.as_ptr() as *const libc::stat) };
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFIFO);
}

#[test]
fn fifos_are_opened_on_a_thread_of_their_own() {
    let (f, mut s) = server();
    let fifo = std::ffi::CString::new(f.path("out/fifo").into_os_string().into_encoded_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let open = |s: &mut Server, flags: i32| s.handle(0, &Request::Open { flags: flags as u32, mode: 0, path: PathArg::cwd(b"/out/fifo") }, &[]);
    let a = open(&mut s, libc::O_RDONLY | libc::O_NONBLOCK);
    assert!(a.later.is_some() && a.fd.is_none(), "a FIFO is opened later");
    assert!(open(&mut s, libc::O_PATH).later.is_none(), "O_PATH opens nothing");
    let a = s.handle(0, &Request::Open { flags: 0, mode: 0, path: PathArg::cwd(b"/out/o.txt") }, &[]);
    assert!(a.later.is_none() && a.fd.is_some(), "a regular file is opened at once");
}

/// Held by the tests that fork, and by those whose closes must be the last
/// of their objects: a fork child has a copy of every fd of the test
/// process.
static FORKS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn dev_tty_opens_the_sessions_terminal_on_a_thread() {
    let spec = ns::GrantSpec { vpath: b"/dev/tty".to_vec(), host: "/dev/tty".into(), mode: ns::Mode::Ro, link: false };
    let mut s = Server::new(Namespace::new(&[spec]).unwrap(), false);
    let (a, _b) = sys::seqpacket_pair().unwrap();
    s.add(a, b"/".to_vec());
    let open = |s: &mut Server| s.handle(0, &Request::Open { flags: libc::O_RDWR as u32, mode: 0, path: PathArg::cwd(b"/dev/tty") }, &[]);
    assert_eq!(errno_of(open(&mut s)), libc::ENXIO, "no terminal of the session's own");
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two fds.
    assert_eq!(unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) }, 0);
    // SAFETY: two new fds of ours.
    let (_master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let path = std::ffi::CString::new(sys::proc_fd(slave.as_fd())).unwrap();
    s.set_tty(Some(sys::open(&path, libc::O_PATH | libc::O_CLOEXEC, 0).unwrap()));
    let a = open(&mut s);
    let later = a.later.expect("/dev/tty is opened on a thread");
    // What the thread opens: the session's terminal.
    let fd = Server::reopen(later.fd.as_fd(), later.flags, later.mode).unwrap();
    let (st, want) = (sys::fstat(fd.as_fd()).unwrap(), sys::fstat(slave.as_fd()).unwrap());
    assert_eq!((st.st_rdev, st.st_mode & libc::S_IFMT), (want.st_rdev, libc::S_IFCHR));
}

#[test]
fn closes_that_wait_are_made_off_the_event_loop() {
    let _one = FORKS.lock().unwrap_or_else(|e| e.into_inner());
    let (_f, mut s) = server();
    let (listener, sock) = lingering_socket(2);
    let t = Instant::now();
    s.release(sock, Came::FromClient);
    assert!(t.elapsed() < Duration::from_secs(1), "release waited {:?}", t.elapsed());
    assert_eq!(s.closer.waiting(), 1, "the closer has it");
    // A second close goes to another closer thread: it is not held up.
    let (r, _w) = sys::pipe().unwrap();
    s.release(r, Came::FromClient);
    let t = Instant::now();
    while s.closer.waiting() > 1 {
        assert!(t.elapsed() < Duration::from_secs(2), "the pipe's close waited behind the socket's");
        std::thread::sleep(Duration::from_millis(1));
    }
    // The server's own directory, sent back as a base: closed at once.
    let (dir, _) = open(&mut s, "/data/sub", libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    s.release(dir, Came::FromClient);
    let (file, _) = open(&mut s, "/data/a.txt", libc::O_RDONLY).unwrap();
    s.release(file, Came::ToClient);
    assert_eq!(s.closer.waiting(), 1);
    // The reset, or the linger's end.
    drop(listener);
    let t = Instant::now();
    while s.closer.waiting() > 0 {
        assert!(t.elapsed() < Duration::from_secs(5), "the socket was never closed");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until reading `r` (non-blocking) sees the end: every write end
/// closed. False after `within`.
fn sees_eof(r: &OwnedFd, within: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < within {
        let mut b = [0u8; 1];
        // SAFETY: a valid buffer.
        if unsafe { libc::read(r.as_raw_fd(), b.as_mut_ptr().cast(), 1) } == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

#[test]
fn the_closer_starts_again_in_a_fork_child() {
    let _one = FORKS.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Closer::new();
    let (r, w) = sys::pipe().unwrap();
    c.close(w);
    assert!(sees_eof(&r, Duration::from_secs(2)), "the closer thread did not close it");
    let (r2, w2) = sys::pipe().unwrap();
    // SAFETY: the child only closes an fd through the closer (which starts
    // a thread) and reads a pipe, then _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        c.close(w2);
        let ok = sees_eof(&r2, Duration::from_secs(2));
        // SAFETY: ends the child without running the test harness's code.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    assert!(pid > 0);
    drop(w2);
    let mut st = 0;
    // SAFETY: reaping our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "the fork child's close never happened: {st:#x}");
}

#[test]
fn a_fork_child_closes_what_waited_in_the_parents_queue() {
    let _one = FORKS.lock().unwrap_or_else(|e| e.into_inner());
    let mut bg: Background<OwnedFd> = Background::new("test-close", 1, drop);
    let (listener, sock) = lingering_socket(2);
    bg.give(sock).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // Queued behind the socket's close, which waits.
    let (r1, w1) = sys::pipe().unwrap();
    bg.give(w1).unwrap();
    let (r2, w2) = sys::pipe().unwrap();
    // SAFETY: the child starts a thread through `bg`, reads pipes, _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // (The listener resets its connection once both copies are gone.)
        drop(listener);
        bg.give(w2).unwrap();
        let ok = sees_eof(&r2, Duration::from_secs(2)) && sees_eof(&r1, Duration::from_secs(4));
        // SAFETY: ends the child without running the test harness's code.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    assert!(pid > 0);
    drop(w2);
    // The reset (or the linger's end) ends the parent's wait: it closes its
    // own copy of w1.
    drop(listener);
    let mut st = 0;
    // SAFETY: reaping our child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut st, 0) }, pid);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "the child left the parent's queued fd open: {st:#x}");
    assert!(sees_eof(&r1, Duration::from_secs(4)));
}

#[test]
fn connections_are_not_read_without_room_for_a_messages_fds() {
    let f = fixture();
    let spec = ns::GrantSpec { vpath: b"/data".to_vec(), host: f.path("data"), mode: ns::Mode::Ro, link: false };
    let mut s = Server::new(Namespace::new(&[spec]).unwrap(), false);
    let (ours, theirs) = sys::seqpacket_pair().unwrap();
    s.add(ours, b"/".to_vec());
    let mut buf = vec![0u8; 256];
    let n = proto::encode_request(7, &Request::Getcwd, &mut buf).unwrap();
    sys::send_msg(theirs.as_fd(), &buf[..n], &[]).unwrap();
    let answered = |theirs: &OwnedFd| {
        let mut b = vec![0u8; MAX_FRAME];
        sys::recv_msg(theirs.as_fd(), &mut b).is_ok()
    };
    // No room: the message stays where it is; Connect fails.
    s.fd_budget = s.conns.len();
    s.round(None, 0).unwrap();
    assert!(!answered(&theirs), "read without room");
    assert_eq!(errno_of(s.handle(0, &Request::Connect, &[])), libc::EMFILE);
    s.fd_budget = 1000;
    s.round(None, 0).unwrap();
    assert!(answered(&theirs), "not read with room");
}

#[test]
fn log_lines_never_wait_on_a_held_pipe_or_a_stopped_terminal() {
    // A pipe whose lock a splice() holds (it waits for data that never comes).
    let (r, w) = sys::pipe().unwrap();
    let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
    let wfd = w.as_raw_fd();
    let splicer = std::thread::spawn(move || {
        // SAFETY: splice between two open fds; waits for data on y.
        unsafe { libc::splice(y.as_raw_fd(), std::ptr::null_mut(), wfd, std::ptr::null_mut(), 16, 0) }
    });
    std::thread::sleep(Duration::from_millis(100));
    let mut log = Logger::to(w.as_raw_fd());
    let t = Instant::now();
    log.line("one");
    log.line("two");
    assert!(t.elapsed() < Duration::from_millis(500), "the log waited {:?} on the pipe", t.elapsed());
    (&x).write_all(b"!").unwrap();
    assert_eq!(splicer.join().unwrap(), 1);
    drop(log); // lets the thread write what waits
    let mut got = Vec::new();
    std::fs::File::from(r).take(9).read_to_end(&mut got).unwrap();
    assert_eq!(got, b"!one\ntwo\n");
    drop(w);

    // A terminal whose output is stopped (tcflow TCOOFF, as a program may
    // do to the terminal it shares with the launcher).
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two fds.
    let r = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(r, 0);
    // SAFETY: two new fds of ours.
    let (_master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    // SAFETY: tcflow on our terminal.
    assert_eq!(unsafe { libc::tcflow(slave.as_raw_fd(), libc::TCOOFF) }, 0);
    let mut log = Logger::to(slave.as_raw_fd());
    assert!(matches!(log.out, LogOut::Own(_)), "a terminal is written through our own O_NONBLOCK description");
    let t = Instant::now();
    for _ in 0..1000 {
        log.line("a line that fills the terminal's buffer while its output is stopped");
    }
    assert!(t.elapsed() < Duration::from_millis(500), "the log waited {:?} on the terminal", t.elapsed());
}

/// An `Asker` that answers from a list and keeps the questions.
struct Script(std::rc::Rc<std::cell::RefCell<(Vec<powerbox::Answer>, Vec<powerbox::Question>)>>);

impl powerbox::Asker for Script {
    fn ask(&mut self, q: &powerbox::Question) -> powerbox::Answer {
        let mut s = self.0.borrow_mut();
        s.1.push(q.clone());
        if s.0.is_empty() {
            panic!("unexpected question: {q:?}");
        }
        s.0.remove(0)
    }
}

#[test]
fn the_powerbox_grants_once_or_for_the_session_and_learning_notes_it() {
    use powerbox::Answer::*;
    let (f, mut s) = server();
    let t = std::fs::canonicalize(f.dir.path()).unwrap();
    let secret = t.join("secret.txt");
    let sp = secret.to_str().unwrap().to_string();
    let answers = vec![
        Allow { write: false, session: false },
        Allow { write: false, session: true },
        Deny { session: false },
        Allow { write: true, session: false },
    ];
    let state = std::rc::Rc::new(std::cell::RefCell::new((answers, Vec::new())));
    s.powerbox = Some(powerbox::Powerbox::new(b"prog", Box::new(Script(state.clone()))));
    s.learner = Some(learn::Learner::new(std::collections::HashSet::new(), false));
    // Once: this open only; the fd it gave stays good after.
    let (fd, _) = open(&mut s, &sp, libc::O_RDONLY).unwrap();
    assert!(s.ns.grant_at(sp.as_bytes()).is_none(), "a grant made once is retired");
    assert_eq!(read_all(fd), "secret");
    // Asked again: for the session now, and not asked after.
    assert_eq!(read_all(open(&mut s, &sp, libc::O_RDONLY).unwrap().0), "secret");
    assert_eq!(read_all(open(&mut s, &sp, libc::O_RDONLY).unwrap().0), "secret");
    assert_eq!(state.borrow().1.len(), 2);
    // Read-only: a write fails as in any read-only grant, without a question.
    assert_eq!(open(&mut s, &sp, libc::O_WRONLY).err(), Some(libc::EROFS));
    // A symlink in a grant that leads out is asked about as its target.
    assert_eq!(open(&mut s, "/data/esc_abs", libc::O_RDONLY).err(), None, "granted for the session already");
    // Denied: what it would be without --ask.
    let other = t.join("secretdir/f");
    assert_eq!(open(&mut s, other.to_str().unwrap(), libc::O_RDONLY).err(), Some(libc::ENOENT));
    assert_eq!(state.borrow().1.last().unwrap().vpath, other.as_os_str().as_encoded_bytes());
    // What needs a directory is never asked; nor what does not exist.
    let none = t.join("secretdir/none");
    assert_eq!(req(&mut s, Request::Mkdir { mode: 0o755, path: PathArg::cwd(none.to_str().unwrap().as_bytes()) }), libc::ENOENT);
    assert_eq!(open(&mut s, t.join("nothing").to_str().unwrap(), libc::O_RDONLY).err(), Some(libc::ENOENT));
    assert_eq!(state.borrow().1.len(), 3);
    // Created when answered write (once), with O_EXCL holding.
    let n = t.join("secretdir/new");
    let (fd, _) = open(&mut s, n.to_str().unwrap(), libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL).unwrap();
    assert_eq!(state.borrow().1.last().unwrap().want, powerbox::Want::Create);
    std::fs::File::from(fd).write_all(b"made").unwrap();
    assert_eq!(std::fs::read_to_string(&n).unwrap(), "made");
    // Learned: the file read (ro, by its name and through the symlink) and
    // the directory created in (rw); not what failed or was denied.
    let learned: Vec<(String, String, &str)> = s
        .learner
        .as_ref()
        .unwrap()
        .grants()
        .into_iter()
        .map(|(v, h, m)| (String::from_utf8(v).unwrap(), h.display().to_string(), m.name()))
        .collect();
    let tt = t.display().to_string();
    assert_eq!(
        learned,
        [
            ("/data/esc_abs".to_string(), format!("{tt}/secret.txt"), "ro"),
            (format!("{tt}/secret.txt"), format!("{tt}/secret.txt"), "ro"),
            (format!("{tt}/secretdir/new"), format!("{tt}/secretdir/new"), "rw"),
        ]
    );
}

/// Owners: of a directory of a grant's copy (itself first, then each
/// entry, from `skip` on), of a file there alone, and nothing of a file
/// on no grant's copy (EXDEV: the loop never looks into a client's own
/// directories).
#[test]
fn owners_of_a_grants_directory_and_its_entries() {
    use std::os::unix::fs::MetadataExt;
    let (f, mut s) = server();
    let (dir, _) = open(&mut s, "/out", libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
    for name in ["o1", "o2", "o3"] {
        std::fs::write(f.path("out").join(name), name).unwrap();
    }
    let a = s.handle(0, &Request::Owners { skip: 0, flags: proto::OWNERS_SUBDIRS }, &[dir.try_clone().unwrap()]);
    let Ok(Data::Owners(list)) = a.result else { panic!("no owners: {:?}", a.result.err()) };
    let md = std::fs::metadata(f.path("out")).unwrap();
    assert_eq!((list[0].ino, list[0].uid, list[0].gid), (md.ino(), md.uid(), md.gid()), "the directory itself first");
    let entries = std::fs::read_dir(f.path("out")).unwrap().count();
    assert_eq!(list.len(), 1 + entries);
    for name in ["o1", "o2", "o3"] {
        let m = std::fs::metadata(f.path("out").join(name)).unwrap();
        assert!(list.iter().any(|o| o.ino == m.ino() && o.uid == m.uid() && o.dev == m.dev()), "{name}");
    }
    let a = s.handle(0, &Request::Owners { skip: 2, flags: 0 }, &[dir.try_clone().unwrap()]);
    let Ok(Data::Owners(rest)) = a.result else { panic!("no owners") };
    assert_eq!(rest.len(), entries - 1, "from the second entry on");
    let (file, _) = open(&mut s, "/out/o1", libc::O_RDONLY).unwrap();
    let a = s.handle(0, &Request::Owners { skip: 0, flags: proto::OWNERS_SUBDIRS }, &[file]);
    let Ok(Data::Owners(one)) = a.result else { panic!("no owners") };
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].ino, std::fs::metadata(f.path("out").join("o1")).unwrap().ino());
    // A directory elsewhere: its own owners only, never its entries.
    let elsewhere = OwnedFd::from(std::fs::File::open("/usr").unwrap());
    let a = s.handle(0, &Request::Owners { skip: 0, flags: proto::OWNERS_SUBDIRS }, &[elsewhere]);
    let Ok(Data::Owners(own)) = a.result else { panic!("no owners") };
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].ino, std::fs::metadata("/usr").unwrap().ino());
}

/// The owners table (`OwnersTable`: a read-only fd of it) holds what an
/// Owners reply told, and what the walker found below a walked directory
/// (a request for a name beside a directory fd): every file, or with
/// OWNERS_DIRS_ONLY the directories alone; and the entries of a large
/// directory asked about as a whole, which the walker lists. Nothing
/// below a directory on no grant's copy is walked.
#[test]
fn the_walker_writes_the_owners_below_a_walked_directory_into_the_table() {
    use std::os::unix::fs::MetadataExt;
    use std::sync::atomic::AtomicU64;
    for dirs_only in [false, true] {
        let (f, mut s) = server();
        let out = f.path("out");
        for d in ["a/b", "c"] {
            std::fs::create_dir_all(out.join(d)).unwrap();
        }
        for (i, file) in ["top", "a/f1", "a/b/g1", "c/h1"].into_iter().enumerate() {
            std::fs::write(out.join(file), file).unwrap();
            std::os::unix::fs::chown(out.join(file), Some(1000 + i as u32), Some(2000 + i as u32)).unwrap();
        }
        std::os::unix::fs::chown(out.join("a/b"), Some(77), Some(78)).unwrap();
        let a = s.handle(0, &Request::OwnersTable, &[]);
        let table_fd = a.fd.expect("the table's fd");
        // SAFETY: a new read-only shared mapping of the table's memfd
        // (owners_table::BYTES long), kept until the end of the test.
        let at = unsafe { libc::mmap(std::ptr::null_mut(), proto::owners_table::BYTES, libc::PROT_READ, libc::MAP_SHARED, table_fd.as_raw_fd(), 0) };
        assert_ne!(at, libc::MAP_FAILED);
        // SAFETY: the mapping above; any bytes are valid AtomicU64s.
        let table = unsafe { std::slice::from_raw_parts(at as *const AtomicU64, proto::owners_table::WORDS) };
        // SAFETY: as above: the mapping is read-only through this fd.
        assert_ne!(unsafe { libc::mprotect(at, 4096, libc::PROT_READ | libc::PROT_WRITE) }, 0, "a read-only fd's mapping never turns writable");
        let ids = |p: &str| {
            let m = std::fs::symlink_metadata(out.join(p)).unwrap();
            (m.dev(), m.ino(), m.uid(), m.gid())
        };
        let found = |p: &str| {
            let (dev, ino, uid, gid) = ids(p);
            proto::owners_table::lookup(table, dev, ino).inspect(|&o| assert_eq!(o, (uid, gid), "{p}")).is_some()
        };
        let (dir, _) = open(&mut s, "/out", libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
        let flags = proto::OWNERS_SUBDIRS | if dirs_only { proto::OWNERS_DIRS_ONLY } else { 0 };
        let a = s.handle(0, &Request::Owners { skip: 0, flags }, &[dir]);
        assert!(a.result.is_ok());
        // The reply's own: the directory's entries.
        for p in ["top", "a", "c"] {
            assert!(found(p), "{p}: the reply's owners are in the table");
        }
        // The walker's, on its thread.
        let deep = if dirs_only { vec!["a/b"] } else { vec!["a/f1", "a/b", "a/b/g1", "c/h1"] };
        let until = Instant::now() + Duration::from_secs(10);
        while !deep.iter().all(|p| found(p)) {
            assert!(Instant::now() < until, "dirs only {dirs_only}: the walker wrote {:?} of {deep:?}", deep.iter().filter(|p| found(p)).collect::<Vec<_>>());
            std::thread::sleep(Duration::from_millis(5));
        }
        if dirs_only {
            std::thread::sleep(Duration::from_millis(50));
            for p in ["a/f1", "a/b/g1", "c/h1"] {
                assert!(!found(p), "{p}: only directories are walked");
            }
        }
        // A large directory asked about as a whole: its own owners in the
        // reply, its entries' listed into the table by the walker.
        if !dirs_only {
            std::fs::create_dir(out.join("big")).unwrap();
            for i in 0..300 {
                std::fs::write(out.join(format!("big/a-file-with-a-long-name-{i:03}")), "").unwrap();
            }
            let (big, _) = open(&mut s, "/out/big", libc::O_RDONLY | libc::O_DIRECTORY).unwrap();
            assert!(std::fs::metadata(out.join("big")).unwrap().len() > 4096, "a directory of more than a block");
            let a = s.handle(0, &Request::Owners { skip: 0, flags: 0 }, &[big]);
            let Ok(Data::Owners(own)) = a.result else { panic!("no owners") };
            assert_eq!(own.len(), 1, "the directory's own owners only");
            let until = Instant::now() + Duration::from_secs(10);
            while !found("big/a-file-with-a-long-name-299") || !found("big/a-file-with-a-long-name-000") {
                assert!(Instant::now() < until, "the walker did not list the large directory");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // A directory elsewhere: its own owners, nothing walked below it.
        let elsewhere = OwnedFd::from(std::fs::File::open("/usr").unwrap());
        assert!(s.handle(0, &Request::Owners { skip: 0, flags: proto::OWNERS_SUBDIRS }, &[elsewhere]).result.is_ok());
        std::thread::sleep(Duration::from_millis(50));
        let bin = std::fs::metadata("/usr/bin").unwrap();
        assert_eq!(proto::owners_table::lookup(table, bin.dev(), bin.ino()), None, "nothing below /usr, on no grant");
        // SAFETY: the mapping made above, no longer used.
        unsafe { libc::munmap(at, proto::owners_table::BYTES) };
    }
}
