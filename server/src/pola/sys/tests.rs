//! The wrappers against what libc gives: a Stat's bytes are libc's struct
//! stat, statx's fields are fstat's, fds cross a SOCK_SEQPACKET pair, and
//! a unix socket path must fit sun_path with its NUL.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::*;

fn temp_file() -> (tempfile::TempDir, OwnedFd) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    std::fs::write(&p, b"0123456789").unwrap();
    let f = std::fs::File::open(&p).unwrap();
    (dir, f.into())
}

#[test]
fn stat_bytes_are_libcs_struct_stat() {
    let (_dir, f) = temp_file();
    let mut st = MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: fstat fills the struct stat on success.
    assert_eq!(unsafe { libc::fstat(f.as_raw_fd(), st.as_mut_ptr()) }, 0);
    // SAFETY: plain data, zeroed then filled.
    let st = unsafe { st.assume_init() };
    // SAFETY: libc::stat is plain data of STAT_SIZE bytes.
    let want: [u8; preld_proto::STAT_SIZE] = unsafe { std::mem::transmute(st) };
    assert_eq!(stat_bytes(&fstat(f.as_fd()).unwrap()), want);
    let ours = fstat(f.as_fd()).unwrap();
    assert_eq!((ours.st_size, ours.st_mode & libc::S_IFMT), (10, libc::S_IFREG));
}

#[test]
fn fstat_cached_has_fstats_fields() {
    let (_dir, f) = temp_file();
    let all = fstat_cached(f.as_fd(), libc::STATX_BASIC_STATS).unwrap();
    assert_eq!(all, fstat(f.as_fd()).unwrap());
    let some = fstat_cached(f.as_fd(), STATX_CHECK).unwrap();
    assert_eq!((some.st_dev, some.st_ino, some.st_nlink, file_type(&some)), (all.st_dev, all.st_ino, 1, libc::S_IFREG));
}

#[test]
fn fds_cross_a_seqpacket_pair() {
    let (a, b) = seqpacket_pair().unwrap();
    let (_dir, f) = temp_file();
    send_msg(a.as_fd(), b"hello", &[f.as_fd(), f.as_fd()]).unwrap();
    let mut buf = [0u8; 16];
    let m = recv_msg(b.as_fd(), &mut buf).unwrap();
    assert_eq!((m.len, m.fds.len(), m.truncated, m.ctrunc, m.foreign), (5, 2, false, false, false));
    assert_eq!(&buf[..5], b"hello");
    assert_eq!(fstat(m.fds[1].as_fd()).unwrap(), fstat(f.as_fd()).unwrap());
    assert_eq!(recv_msg(b.as_fd(), &mut buf).err(), Some(libc::EAGAIN));
    send_msg(a.as_fd(), b"longer than 4", &[]).unwrap();
    let m = recv_msg(b.as_fd(), &mut buf[..4]).unwrap();
    assert_eq!((m.len, m.fds.len(), m.truncated), (4, 0, true));
}

#[test]
fn a_unix_socket_path_fits_sun_path_with_its_nul() {
    let s = socket(libc::SOCK_STREAM | libc::SOCK_CLOEXEC).unwrap();
    assert_eq!(connect_unix(s.as_fd(), &[b'x'; 108]), Err(libc::ENAMETOOLONG));
    assert_eq!(connect_unix(s.as_fd(), &[b'x'; 107]), Err(libc::ENOENT));
}
