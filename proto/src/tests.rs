//! Round trips of every request and reply, and the refusal of every kind of
//! malformed field. What the fuzzer kept is replayed from tests-data/
//! (see `fuzz_corpus_and_regressions`).

extern crate std;

use std::vec::Vec;

use super::*;

fn enc(id: u32, req: &Request<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME];
    let n = encode_request(id, req, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn all_requests() -> Vec<Request<'static>> {
    let p = PathArg::cwd(b"/usr/lib/x");
    let q = PathArg::fd(0, b"rel/name");
    let r = PathArg::fd(1, b"");
    let t = [Timespec { sec: 1, nsec: 2 }, Timespec { sec: -3, nsec: (1 << 30) - 1 }];
    std::vec![
        Request::Hello,
        Request::Connect,
        Request::Open { flags: 0o2101102, mode: 0o644, path: p },
        Request::Stat { flags: 0x1100, path: q },
        Request::Access { mode: 7, flags: 0x200, path: p },
        Request::Readlink { path: p },
        Request::Mkdir { mode: 0o755, path: q },
        Request::Mknod { mode: 0o10644, path: p },
        Request::Unlink { flags: 0x200, path: p },
        Request::Rename { flags: 1, old: q, new: r },
        Request::Rename { flags: 0, old: p, new: q },
        Request::Link { flags: 0x400, old: q, new: q },
        Request::Symlink { target: b"../target", path: p },
        Request::Truncate { length: i64::MAX, path: p },
        Request::Chmod { mode: 0o4755, flags: 0x100, path: q },
        Request::Chown { uid: 1000, gid: u32::MAX, flags: 0x1000, path: q },
        Request::Utimens { times: t, flags: 0x100, path: p },
        Request::Chdir { path: PathArg::cwd(b"..") },
        Request::Getcwd,
        Request::ReadDir { start: 7, path: PathArg::cwd(b"/") },
        Request::Exec { path: p },
        Request::BindUnix { ty: 0o4000 | 5, path: q },
        Request::SendUnix { flags: 0x40, path: p, data: b"\0any\xffbytes" },
        Request::SendUnix { flags: 0, path: PathArg::cwd(b"rel.sock"), data: b"" },
        Request::ConnectOwn { path: p },
        Request::Owners { skip: 4095, flags: 1 },
        Request::OwnersTable,
        Request::Where { flags: 0x100, path: q },
    ]
}

#[test]
fn every_request_round_trips() {
    let reqs = all_requests();
    for op in Op::ALL {
        assert!(reqs.iter().any(|r| r.op() == op), "no test request for {op:?}");
    }
    for (i, req) in reqs.iter().enumerate() {
        let bytes = enc(i as u32 + 7, req);
        let (id, back) = decode_request(&bytes).unwrap();
        assert_eq!(id, i as u32 + 7);
        assert_eq!(&back, req);
        assert_eq!(enc(id, &back), bytes, "encoding is canonical");
    }
}

#[test]
fn header_layout_is_the_documented_one() {
    let b = enc(0x01020304, &Request::Readlink { path: PathArg::cwd(b"ab") });
    assert_eq!(&b[..4], b"PRLD");
    assert_eq!(&b[4..6], &[1, 0]);
    assert_eq!(&b[6..8], &[6, 0]);
    assert_eq!(&b[8..12], &[4, 3, 2, 1]);
    assert_eq!(&b[12..16], &[5, 0, 0, 0]);
    assert_eq!(&b[16..], &[0, 2, 0, b'a', b'b']);
}

#[test]
fn fds_needed_follows_the_bases() {
    assert_eq!(Request::Hello.fds_needed(), 0);
    assert_eq!(Request::Open { flags: 0, mode: 0, path: PathArg::cwd(b"x") }.fds_needed(), 0);
    assert_eq!(Request::Open { flags: 0, mode: 0, path: PathArg::fd(0, b"x") }.fds_needed(), 1);
    let two = Request::Rename { flags: 0, old: PathArg::fd(0, b"a"), new: PathArg::fd(1, b"b") };
    assert_eq!(two.fds_needed(), 2);
    let shared = Request::Rename { flags: 0, old: PathArg::fd(0, b"a"), new: PathArg::fd(0, b"b") };
    assert_eq!(shared.fds_needed(), 1);
    // The program's socket rides along; the path is the cwd's only.
    assert_eq!(Request::SendUnix { flags: 0, path: PathArg::cwd(b"/s"), data: b"x" }.fds_needed(), 1);
    assert_eq!(Request::ConnectOwn { path: PathArg::cwd(b"/s") }.fds_needed(), 1);
    let mut buf = [0u8; MAX_FRAME];
    let on_fd = Request::ConnectOwn { path: PathArg::fd(0, b"s") };
    assert_eq!(encode_request(1, &on_fd, &mut buf), Err(ProtoError::BadBase(1)));
}

fn set(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

fn fix_len(b: &mut Vec<u8>) {
    let n = (b.len() - HEADER_LEN) as u32;
    set(b, 12, &n.to_le_bytes());
}

#[test]
fn malformed_headers_are_refused() {
    let good = enc(1, &Request::Getcwd);
    assert_eq!(decode_request(&good[..15]), Err(ProtoError::ShortHeader));
    assert_eq!(decode_request(&[]), Err(ProtoError::ShortHeader));
    let mut b = good.clone();
    b[0] ^= 1;
    assert!(matches!(decode_request(&b), Err(ProtoError::BadMagic(_))));
    let mut b = good.clone();
    set(&mut b, 4, &2u16.to_le_bytes());
    assert_eq!(decode_request(&b), Err(ProtoError::BadVersion(2)));
    // (19: retired.)
    for op in [0u16, 19, Op::Where as u16 + 1, 0x7fff, 0xffff] {
        let mut b = good.clone();
        set(&mut b, 6, &op.to_le_bytes());
        let e = decode_request(&b).unwrap_err();
        assert!(matches!(e, ProtoError::UnknownOp(_) | ProtoError::WrongDirection), "{op}: {e:?}");
    }
    let mut b = good.clone();
    set(&mut b, 6, &(Op::Getcwd as u16 | REPLY_BIT).to_le_bytes());
    assert_eq!(decode_request(&b), Err(ProtoError::WrongDirection));
    let mut b = good.clone();
    set(&mut b, 12, &1u32.to_le_bytes());
    assert!(matches!(decode_request(&b), Err(ProtoError::LengthMismatch { .. })));
    let mut b = good.clone();
    b.push(0);
    assert!(matches!(decode_request(&b), Err(ProtoError::LengthMismatch { .. })));
    fix_len(&mut b);
    assert_eq!(decode_request(&b), Err(ProtoError::TrailingBytes(1)));
    let mut b = good.clone();
    b.resize(HEADER_LEN + MAX_PAYLOAD + 1, 0);
    fix_len(&mut b);
    assert!(matches!(decode_request(&b), Err(ProtoError::TooLong(_))));
}

#[test]
fn malformed_payloads_are_refused() {
    let req = Request::Open { flags: 0, mode: 0, path: PathArg::cwd(b"/etc/x") };
    let good = enc(1, &req);
    // Every truncation of the payload.
    for cut in HEADER_LEN..good.len() {
        let mut b = good[..cut].to_vec();
        fix_len(&mut b);
        assert_eq!(decode_request(&b), Err(ProtoError::Truncated), "cut at {cut}");
    }
    // Base out of range.
    for base in [3u8, 4, 0xff] {
        let mut b = good.clone();
        b[HEADER_LEN + 8] = base;
        assert_eq!(decode_request(&b), Err(ProtoError::BadBase(base)));
    }
    // NUL in a path, anywhere.
    for at in 0..6 {
        let mut b = good.clone();
        b[HEADER_LEN + 11 + at] = 0;
        assert_eq!(decode_request(&b), Err(ProtoError::NulInPath));
    }
    // Path length: over MAX_PATH, or past the end.
    let mut b = good.clone();
    set(&mut b, HEADER_LEN + 9, &4097u16.to_le_bytes());
    assert_eq!(decode_request(&b), Err(ProtoError::PathTooLong(4097)));
    let mut b = good.clone();
    set(&mut b, HEADER_LEN + 9, &7u16.to_le_bytes());
    assert_eq!(decode_request(&b), Err(ProtoError::Truncated));
    let mut b = good.clone();
    set(&mut b, HEADER_LEN + 9, &5u16.to_le_bytes());
    assert_eq!(decode_request(&b), Err(ProtoError::TrailingBytes(1)));
    // The longest path is fine, one more byte is not.
    let long = [b'a'; MAX_PATH];
    let ok = enc(1, &Request::Chdir { path: PathArg::cwd(&long) });
    assert!(decode_request(&ok).is_ok());
    let mut buf = [0u8; MAX_FRAME];
    let longer = [b'a'; MAX_PATH + 1];
    assert_eq!(
        encode_request(1, &Request::Chdir { path: PathArg::cwd(&longer) }, &mut buf),
        Err(ProtoError::PathTooLong(MAX_PATH + 1))
    );
    assert_eq!(
        encode_request(1, &Request::Chdir { path: PathArg::cwd(b"a\0b") }, &mut buf),
        Err(ProtoError::NulInPath)
    );
    // Symlink target: same rules as a path.
    let s = enc(1, &Request::Symlink { target: b"tgt", path: PathArg::cwd(b"l") });
    let mut b = s.clone();
    b[HEADER_LEN + 3] = 0;
    assert_eq!(decode_request(&b), Err(ProtoError::NulInPath));
}

#[test]
fn fd_bases_must_be_dense() {
    let gap = Request::Rename { flags: 0, old: PathArg::cwd(b"a"), new: PathArg::fd(1, b"b") };
    let mut buf = [0u8; MAX_FRAME];
    assert_eq!(encode_request(1, &gap, &mut buf), Err(ProtoError::FdGap));
    // Forge it on the wire: base byte of `new` set to 2.
    let ok = enc(1, &Request::Rename { flags: 0, old: PathArg::cwd(b"a"), new: PathArg::cwd(b"b") });
    let mut b = ok.clone();
    b[HEADER_LEN + 4 + 4] = 2;
    assert_eq!(decode_request(&b), Err(ProtoError::FdGap));
    let single = Request::Stat { flags: 0, path: PathArg::fd(1, b"x") };
    assert_eq!(encode_request(1, &single, &mut buf), Err(ProtoError::FdGap));
    assert_eq!(
        encode_request(1, &Request::Stat { flags: 0, path: PathArg::fd(2, b"x") }, &mut buf),
        Err(ProtoError::BadBase(3))
    );
}

#[test]
fn encoding_never_overruns_the_buffer() {
    let req = Request::Open { flags: 0, mode: 0, path: PathArg::cwd(b"/etc/x") };
    let full = enc(1, &req).len();
    for n in 0..full {
        let mut buf = std::vec![0u8; n];
        assert_eq!(encode_request(1, &req, &mut buf), Err(ProtoError::BufferTooSmall));
    }
}

fn enc_reply(op: Op, r: &Reply<'_>, entries: &[DirEntry<'_>]) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME];
    let n = encode_reply_entries(op, 9, r, entries, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn every_reply_round_trips() {
    let stat = [7u8; STAT_SIZE];
    let entries = [
        DirEntry { ino: 1, d_type: 4, name: b"." },
        DirEntry { ino: 2, d_type: 4, name: b".." },
        DirEntry { ino: 3, d_type: 4, name: b"usr" },
        DirEntry { ino: u64::MAX, d_type: 8, name: &[b'n'; 255] },
    ];
    let cases: Vec<(Op, Reply<'_>)> = std::vec![
        (Op::Hello, Reply::ok(ReplyData::Hello { flags: HELLO_NET })),
        (Op::Connect, Reply::ok(ReplyData::None)),
        (Op::Open, Reply::ok(ReplyData::Open { info: OPEN_VIRTUAL_DIR })),
        (Op::Stat, Reply::ok(ReplyData::Stat(&stat))),
        (Op::Readlink, Reply::ok(ReplyData::Bytes(b"../x"))),
        (Op::Where, Reply::ok(ReplyData::Bytes(b"/proc/mounts"))),
        (Op::Getcwd, Reply::ok(ReplyData::Bytes(b"/"))),
        (Op::Chdir, Reply::ok(ReplyData::Bytes(b"/tmp/a"))),
        (Op::Chdir, Reply::err(20)),
        (Op::Exec, Reply::ok(ReplyData::Exec { vpath: b"/bin/sh", host: b"/usr/bin/dash" })),
        (Op::Mkdir, Reply { result: 5, data: ReplyData::None }),
        (Op::Open, Reply::err(2)),
        (Op::ReadDir, Reply::err(20)),
        (Op::Stat, Reply { result: -MAX_ERRNO, data: ReplyData::None }),
    ];
    for (op, r) in &cases {
        let b = enc_reply(*op, r, &[]);
        assert_eq!(decode_reply(&b, *op), Ok((9, *r)), "{op:?}");
    }
    let b = enc_reply(Op::ReadDir, &Reply::ok(ReplyData::None), &entries);
    let (_, r) = decode_reply(&b, Op::ReadDir).unwrap();
    let ReplyData::Dir(d) = r.data else { panic!("{r:?}") };
    assert_eq!(d.len(), 4);
    assert!(d.iter().eq(entries.iter().copied()));
    assert!(Reply::ok(ReplyData::None).has_fd(Op::Open));
    assert!(!Reply::err(2).has_fd(Op::Open));
    assert!(!Reply::ok(ReplyData::None).has_fd(Op::Stat));
}

#[test]
fn malformed_replies_are_refused() {
    let ok = enc_reply(Op::Getcwd, &Reply::ok(ReplyData::Bytes(b"/tmp")), &[]);
    assert_eq!(decode_reply(&ok, Op::Open), Err(ProtoError::UnexpectedOp(Op::Getcwd as u16)));
    let req = enc(1, &Request::Getcwd);
    assert_eq!(decode_reply(&req, Op::Getcwd), Err(ProtoError::WrongDirection));
    let mut b = ok.clone();
    set(&mut b, HEADER_LEN, &(-4096i64).to_le_bytes());
    assert_eq!(decode_reply(&b, Op::Getcwd), Err(ProtoError::BadResult(-4096)));
    let mut b = ok.clone();
    set(&mut b, HEADER_LEN, &(-2i64).to_le_bytes());
    assert_eq!(decode_reply(&b, Op::Getcwd), Err(ProtoError::DataOnError));
    let mut b = ok.clone();
    b[HEADER_LEN + 9] = 0;
    assert_eq!(decode_reply(&b, Op::Getcwd), Err(ProtoError::NulInPath));
    // A stat reply one byte short, one byte long.
    let st = enc_reply(Op::Stat, &Reply::ok(ReplyData::Stat(&[0; STAT_SIZE])), &[]);
    let mut b = st[..st.len() - 1].to_vec();
    fix_len(&mut b);
    assert_eq!(decode_reply(&b, Op::Stat), Err(ProtoError::Truncated));
    let mut b = st.clone();
    b.push(1);
    fix_len(&mut b);
    assert_eq!(decode_reply(&b, Op::Stat), Err(ProtoError::TrailingBytes(1)));
    // Directory entries: bad names, a count larger than the entries.
    let e = [DirEntry { ino: 1, d_type: 4, name: b"abc" }];
    let d = enc_reply(Op::ReadDir, &Reply::ok(ReplyData::None), &e);
    let name_at = HEADER_LEN + 8 + 4 + 8 + 2;
    for bad in [b'/', 0] {
        let mut b = d.clone();
        b[name_at + 1] = bad;
        assert_eq!(decode_reply(&b, Op::ReadDir), Err(ProtoError::BadEntryName));
    }
    let mut b = d.clone();
    b[name_at - 1] = 0;
    assert!(decode_reply(&b, Op::ReadDir).is_err());
    let mut b = d.clone();
    set(&mut b, HEADER_LEN + 8, &2u32.to_le_bytes());
    assert_eq!(decode_reply(&b, Op::ReadDir), Err(ProtoError::Truncated));
    let mut b = d.clone();
    set(&mut b, HEADER_LEN + 8, &u32::MAX.to_le_bytes());
    assert_eq!(decode_reply(&b, Op::ReadDir), Err(ProtoError::Truncated));
    let mut buf = [0u8; MAX_FRAME];
    assert_eq!(
        encode_reply_entries(Op::ReadDir, 1, &Reply::ok(ReplyData::None), &[DirEntry { ino: 0, d_type: 0, name: b"a/b" }], &mut buf),
        Err(ProtoError::BadEntryName)
    );
    assert_eq!(
        encode_reply(Op::Open, 1, &Reply { result: -2, data: ReplyData::Open { info: 0 } }, &mut buf),
        Err(ProtoError::DataOnError)
    );
    assert_eq!(
        encode_reply(Op::Open, 1, &Reply::ok(ReplyData::Bytes(b"x")), &mut buf),
        Err(ProtoError::UnexpectedOp(Op::Open as u16))
    );
}

#[test]
fn a_reply_too_large_for_a_frame_is_refused() {
    let name = [b'x'; 255];
    let many: Vec<DirEntry<'_>> = (0..300).map(|i| DirEntry { ino: i, d_type: 8, name: &name }).collect();
    let mut buf = std::vec![0u8; 2 * MAX_FRAME];
    assert!(matches!(
        encode_reply_entries(Op::ReadDir, 1, &Reply::ok(ReplyData::None), &many, &mut buf),
        Err(ProtoError::TooLong(_))
    ));
}

/// Replays what the fuzzer (fuzz/fuzz_targets/proto_decode.rs) kept: its
/// minimized corpus (tests-data/fuzz-corpus/) and any input that ever
/// crashed it (tests-data/fuzz-regressions/; none so far). Each is decoded as
/// a request and as a reply to every op without panicking, and whatever
/// decodes re-encodes to the same bytes.
#[test]
fn fuzz_corpus_and_regressions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests-data");
    let mut n = 0;
    for sub in ["fuzz-corpus", "fuzz-regressions"] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else { continue };
        for e in rd {
            check_any(&std::fs::read(e.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no fuzz corpus in {}", root.display());
}

/// What the fuzz target checks.
pub fn check_any(data: &[u8]) {
    if let Ok((id, req)) = decode_request(data) {
        let mut buf = [0u8; MAX_FRAME];
        let n = encode_request(id, &req, &mut buf).unwrap();
        assert_eq!(&buf[..n], data);
    }
    for op in Op::ALL {
        if let Ok((id, rep)) = decode_reply(data, op) {
            let entries: Vec<DirEntry<'_>> = match rep.data {
                ReplyData::Dir(d) => d.iter().collect(),
                _ => Vec::new(),
            };
            let mut buf = [0u8; MAX_FRAME];
            let n = match rep.data {
                ReplyData::Owners(o) => encode_reply_owners(op, id, &rep, &o.iter().collect::<Vec<_>>(), &mut buf),
                _ => encode_reply_entries(op, id, &rep, &entries, &mut buf),
            }
            .unwrap();
            assert_eq!(&buf[..n], data);
        }
    }
}

/// Writes a valid frame of every request and reply into $PRELD_PROTO_SEED_DIR
/// (seeds for the fuzzer's corpus); does nothing when it is unset.
#[test]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("PRELD_PROTO_SEED_DIR") else { return };
    let dir = std::path::PathBuf::from(dir);
    for (i, req) in all_requests().iter().enumerate() {
        std::fs::write(dir.join(std::format!("req{i}")), enc(i as u32, req)).unwrap();
    }
    let stat = [3u8; STAT_SIZE];
    let entries = [DirEntry { ino: 1, d_type: 4, name: b"." }, DirEntry { ino: 5, d_type: 4, name: b"usr" }];
    let replies: [(Op, Reply<'_>); 8] = [
        (Op::Hello, Reply::ok(ReplyData::Hello { flags: 1 })),
        (Op::Open, Reply::ok(ReplyData::Open { info: 1 })),
        (Op::Stat, Reply::ok(ReplyData::Stat(&stat))),
        (Op::Readlink, Reply::ok(ReplyData::Bytes(b"x/y"))),
        (Op::ReadDir, Reply::ok(ReplyData::None)),
        (Op::Exec, Reply::ok(ReplyData::Exec { vpath: b"/bin/sh", host: b"/usr/bin/dash" })),
        (Op::Mkdir, Reply::err(17)),
        (Op::Connect, Reply::ok(ReplyData::None)),
    ];
    for (i, (op, r)) in replies.iter().enumerate() {
        std::fs::write(dir.join(std::format!("rep{i}")), enc_reply(*op, r, &entries)).unwrap();
    }
}

/// An Owners reply carries what it was given, up to OWNERS_MAX entries (a
/// frame's worth), and a count beyond that is refused.
#[test]
fn owners_replies_round_trip() {
    let owners: Vec<Owner> = (0..OWNERS_MAX as u64).map(|i| Owner { dev: 0x803 + i, ino: i * 7, uid: i as u32, gid: u32::MAX - i as u32 }).collect();
    let mut buf = [0u8; MAX_FRAME];
    let n = encode_reply_owners(Op::Owners, 9, &Reply::ok(ReplyData::None), &owners, &mut buf).unwrap();
    let (id, rep) = decode_reply(&buf[..n], Op::Owners).unwrap();
    assert_eq!(id, 9);
    let ReplyData::Owners(o) = rep.data else { panic!("not owners: {rep:?}") };
    assert_eq!(o.iter().collect::<Vec<_>>(), owners);
    check_any(&buf[..n]);
    let too_many: Vec<Owner> = (0..OWNERS_MAX + 1).map(|_| Owner::default()).collect();
    assert!(encode_reply_owners(Op::Owners, 9, &Reply::ok(ReplyData::None), &too_many, &mut buf).is_err());
    // A count past what a frame can hold, with the bytes missing.
    let mut forged = buf[..HEADER_LEN + 8].to_vec();
    forged.extend_from_slice(&(OWNERS_MAX as u32 + 1).to_le_bytes());
    let len = (forged.len() - HEADER_LEN) as u32;
    forged[12..16].copy_from_slice(&len.to_le_bytes());
    assert!(decode_reply(&forged, Op::Owners).is_err());
}

/// OwnersTable's success reply is the result alone, with the table's fd.
#[test]
fn an_owners_table_reply_carries_an_fd_and_nothing_else() {
    let mut buf = [0u8; 64];
    let n = encode_reply(Op::OwnersTable, 3, &Reply::ok(ReplyData::None), &mut buf).unwrap();
    assert_eq!(n, HEADER_LEN + 8);
    let (id, rep) = decode_reply(&buf[..n], Op::OwnersTable).unwrap();
    assert_eq!((id, rep.result), (3, 0));
    assert!(rep.has_fd(Op::OwnersTable));
    assert!(!Reply::err(95).has_fd(Op::OwnersTable));
}
