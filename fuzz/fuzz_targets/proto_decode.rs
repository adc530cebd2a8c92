//! Fuzz target: arbitrary bytes through the capability server's decoder
//! (`decode_request`, what the server runs on every message a client sends)
//! and the client's (`decode_reply`, for every op). Nothing may panic, and
//! whatever decodes must encode back to exactly the same bytes: the format
//! has one encoding per frame, so a decoder that accepts a frame it would not
//! produce has skipped a check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preld_proto::{
    decode_reply, decode_request, encode_reply_entries, encode_request, DirEntry, Op, ReplyData, MAX_FRAME,
};

thread_local! {
    static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; MAX_FRAME]);
}

fuzz_target!(|data: &[u8]| BUF.with_borrow_mut(|buf| check(data, buf)));

fn check(data: &[u8], buf: &mut [u8]) {
    if let Ok((id, req)) = decode_request(data) {
        let n = encode_request(id, &req, buf).expect("a decoded request re-encodes");
        assert_eq!(&buf[..n], data, "request encoding is not canonical");
        assert!(req.fds_needed() <= preld_proto::MAX_FDS);
        for p in req.paths().iter().flatten() {
            assert!(p.path.len() <= preld_proto::MAX_PATH && !p.path.contains(&0));
        }
    }
    for op in Op::ALL {
        if let Ok((id, rep)) = decode_reply(data, op) {
            let entries: Vec<DirEntry<'_>> = match rep.data {
                ReplyData::Dir(d) => d.iter().collect(),
                _ => Vec::new(),
            };
            let n = encode_reply_entries(op, id, &rep, &entries, buf).expect("a decoded reply re-encodes");
            assert_eq!(&buf[..n], data, "reply encoding is not canonical");
        }
    }
}
