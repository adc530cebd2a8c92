//! The owners table: the host's owners of files on a session's grants,
//! shared by the server (which writes it) and every process of the session
//! (which maps it read-only: `Op::OwnersTable` hands out a read-only fd of
//! it). A session of an ordinary user sees others' files as the overflow
//! id; the server, on the host, learns their owners as it answers an
//! `Owners` request and as it walks on ahead of a program walking a tree
//! (tar, find), and writes them here, where the program finds them
//! without asking.
//!
//! Layout: `BUCKETS` buckets of `WAYS` slots of `SLOT_WORDS` u64 words,
//! native-endian (both ends are the same machine): `seq, dev, ino, ids`,
//! where `ids` is `uid << 32 | gid`, `dev` glibc's makedev of the device
//! and `seq` a sequence lock (odd while a writer is in the slot; 0: never
//! written). A file is in one bucket (`bucket`), in either of its slots.
//! Readers retry nothing: a slot being written is a miss, and a miss is
//! asked of the server.

use core::sync::atomic::{fence, AtomicU64, Ordering};

/// Buckets of the table.
pub const BUCKETS: usize = 1 << 16;
/// Slots per bucket.
pub const WAYS: usize = 2;
/// u64 words per slot: seq, dev, ino, ids.
pub const SLOT_WORDS: usize = 4;
/// u64 words of the whole table.
pub const WORDS: usize = BUCKETS * WAYS * SLOT_WORDS;
/// Bytes of the whole table (4 MiB: pages are touched as slots are
/// written).
pub const BYTES: usize = WORDS * 8;

/// Bytes of a bucket.
pub const BUCKET_BYTES: usize = WAYS * SLOT_WORDS * 8;
/// Buckets of a page, one for each of an inode number's low bits: the
/// files of a directory, whose inode numbers a file system mostly gives
/// close together, fill one page or a few, not one each (a page of the
/// memfd is allocated, zeroed and mapped when first touched: scattered
/// over all 1,024, the 2,000 owners of a gcc's libraries and headers cost
/// the server 2 ms of page faults, and each process reading them more).
pub const PAGE_BUCKETS: usize = 64;
/// Pages of the table.
pub const PAGES: usize = BUCKETS / PAGE_BUCKETS;
/// The page of (dev, ino): `(((ino >> INO_LOW_BITS) ^ dev.rotate_left(
/// HASH_ROTATE)) * HASH_MUL) >> HASH_SHIFT`, wrapping, modulo PAGES; its
/// bucket there, the low INO_LOW_BITS bits of ino. (The fast path's stat
/// gate computes it too, in arch/.)
pub const INO_LOW_BITS: u32 = PAGE_BUCKETS.trailing_zeros();
pub const HASH_ROTATE: u32 = 29;
pub const HASH_MUL: u64 = 0x9e37_79b9_7f4a_7c15;
pub const HASH_SHIFT: u32 = 40;
const _: () = assert!(BUCKETS.is_power_of_two() && PAGES.is_power_of_two() && BUCKET_BYTES == 64 && PAGE_BUCKETS * BUCKET_BYTES == 4096);

/// The first word of the bucket of (dev, ino).
pub fn bucket(dev: u64, ino: u64) -> usize {
    let h = ((ino >> INO_LOW_BITS) ^ dev.rotate_left(HASH_ROTATE)).wrapping_mul(HASH_MUL);
    let b = (h >> HASH_SHIFT) as usize % PAGES * PAGE_BUCKETS + (ino as usize & (PAGE_BUCKETS - 1));
    b * WAYS * SLOT_WORDS
}

/// The owners (uid, gid) of (dev, ino) if the table holds them.
/// `table`: WORDS words (shorter: nothing is found).
pub fn lookup(table: &[AtomicU64], dev: u64, ino: u64) -> Option<(u32, u32)> {
    if ino == 0 || table.len() < WORDS {
        return None;
    }
    let b = bucket(dev, ino);
    (0..WAYS).find_map(|w| {
        let s = &table[b + w * SLOT_WORDS..b + (w + 1) * SLOT_WORDS];
        let seq = s[0].load(Ordering::Acquire);
        if seq == 0 || seq & 1 != 0 {
            return None;
        }
        let (d, i, ids) = (s[1].load(Ordering::Relaxed), s[2].load(Ordering::Relaxed), s[3].load(Ordering::Relaxed));
        // The words read are from the write `seq` ended, unless another
        // writer has been in since: then seq has moved on.
        fence(Ordering::Acquire);
        (s[0].load(Ordering::Relaxed) == seq && d == dev && i == ino).then_some(((ids >> 32) as u32, ids as u32))
    })
}

/// Writes the owners of (dev, ino): over its own slot if the bucket has
/// one, else an empty one, else the slot `victim` picks (any number: a
/// writer's counter). A slot another writer is in is left (the table is a
/// cache: the owners are asked for again if missed).
pub fn insert(table: &[AtomicU64], dev: u64, ino: u64, uid: u32, gid: u32, victim: usize) {
    if ino == 0 || table.len() < WORDS {
        return;
    }
    let b = bucket(dev, ino);
    let slot = |w: usize| &table[b + w * SLOT_WORDS..b + (w + 1) * SLOT_WORDS];
    let w = (0..WAYS)
        .find(|&w| slot(w)[1].load(Ordering::Relaxed) == dev && slot(w)[2].load(Ordering::Relaxed) == ino)
        .or_else(|| (0..WAYS).find(|&w| slot(w)[0].load(Ordering::Relaxed) == 0))
        .unwrap_or(victim % WAYS);
    let s = slot(w);
    let seq = s[0].load(Ordering::Relaxed);
    if seq & 1 != 0 || s[0].compare_exchange(seq, seq + 1, Ordering::Relaxed, Ordering::Relaxed).is_err() {
        return;
    }
    // A reader that sees any word below sees the odd seq too.
    fence(Ordering::Release);
    s[1].store(dev, Ordering::Relaxed);
    s[2].store(ino, Ordering::Relaxed);
    s[3].store((uid as u64) << 32 | gid as u64, Ordering::Relaxed);
    s[0].store(seq + 2, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn table() -> Vec<AtomicU64> {
        (0..WORDS).map(|_| AtomicU64::new(0)).collect()
    }

    #[test]
    fn neighbours_share_a_page() {
        let page = |ino| bucket(2049, ino) * 8 / 4096;
        assert!((1u64 << 20..(1 << 20) + 64).all(|i| page(i) == page(1 << 20)));
        let pages: std::collections::BTreeSet<usize> = (0..6400u64).map(|i| page(5000 + i)).collect();
        assert!(pages.len() <= 101, "{} pages for 6,400 neighbours", pages.len());
        assert!((0..u64::MAX / 7).step_by(1 << 50).all(|i| bucket(9, i) + WAYS * SLOT_WORDS <= WORDS));
    }

    #[test]
    fn what_is_written_is_found_and_nothing_else() {
        let t = table();
        assert_eq!(lookup(&t, 2049, 12), None);
        insert(&t, 2049, 12, 0, 27, 0);
        assert_eq!(lookup(&t, 2049, 12), Some((0, 27)));
        assert_eq!(lookup(&t, 2049, 13), None);
        assert_eq!(lookup(&t, 2050, 12), None);
        insert(&t, 2049, 12, 5, 6, 1);
        assert_eq!(lookup(&t, 2049, 12), Some((5, 6)));
        // Inode 0 is never a file's: not kept.
        insert(&t, 2049, 0, 1, 1, 0);
        assert_eq!(lookup(&t, 2049, 0), None);
        assert_eq!(lookup(&t[..WORDS - 1], 2049, 12), None);
    }

    #[test]
    fn a_bucket_keeps_two_files_and_a_third_takes_the_victim_s_slot() {
        let t = table();
        // Three inodes of one bucket.
        let b = bucket(7, 1);
        let same: Vec<u64> = (2..).filter(|&i| bucket(7, i) == b).take(2).collect();
        insert(&t, 7, 1, 10, 10, 0);
        insert(&t, 7, same[0], 11, 11, 0);
        assert_eq!(lookup(&t, 7, 1), Some((10, 10)));
        assert_eq!(lookup(&t, 7, same[0]), Some((11, 11)));
        insert(&t, 7, same[1], 12, 12, 1);
        assert_eq!(lookup(&t, 7, same[1]), Some((12, 12)));
        assert_eq!(lookup(&t, 7, 1), Some((10, 10)));
        assert_eq!(lookup(&t, 7, same[0]), None);
    }

    #[test]
    fn a_slot_being_written_is_a_miss_and_is_left_by_other_writers() {
        let t = table();
        insert(&t, 3, 4, 1, 2, 0);
        let b = bucket(3, 4);
        let w = (0..WAYS).find(|&w| t[b + w * SLOT_WORDS + 2].load(Ordering::Relaxed) == 4).unwrap();
        let seq = &t[b + w * SLOT_WORDS];
        seq.fetch_add(1, Ordering::Relaxed);
        assert_eq!(lookup(&t, 3, 4), None);
        insert(&t, 3, 4, 9, 9, 0);
        seq.fetch_add(1, Ordering::Relaxed);
        assert_eq!(lookup(&t, 3, 4), Some((1, 2)));
    }
}
