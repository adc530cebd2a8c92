//! Resolution in a namespace of real host directories: `..`, symlinks inside
//! a grant, absolute symlinks, symlinks out of their grant (into another
//! grant, or nowhere), loops, virtual directories, and a symlink swapped in
//! by a racing thread.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ns: Namespace,
}

impl Fixture {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// host layout (under a temp dir T):
///   data/a.txt data/sub/b.txt data/rel -> sub/b.txt data/abs -> /data/a.txt
///   data/esc -> ../../../../../../etc/passwd data/esc_abs -> T/secret.txt
///   data/to_out -> /out/o.txt data/loop1 <-> data/loop2 data/up -> ..
///   data/sub/inner/ data/deep -> sub/inner
///   data/prog (0755)  out/o.txt  secret.txt  secretdir/f
/// grants: /data -> T/data (ro), /out -> T/out (rw), /x/y/z -> T/out (rw),
///         /bin -> T/data (exec)
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    let w = |p: &str, s: &str| std::fs::write(t.join(p), s).unwrap();
    for d in ["data/sub/inner", "out", "secretdir"] {
        std::fs::create_dir_all(t.join(d)).unwrap();
    }
    w("data/a.txt", "a");
    w("data/sub/b.txt", "b");
    w("out/o.txt", "o");
    w("secret.txt", "secret");
    w("secretdir/f", "secret f");
    w("data/prog", "#!/bin/sh\n");
    std::fs::set_permissions(t.join("data/prog"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    symlink("sub/b.txt", t.join("data/rel")).unwrap();
    symlink("/data/a.txt", t.join("data/abs")).unwrap();
    symlink("../../../../../../etc/passwd", t.join("data/esc")).unwrap();
    symlink(t.join("secret.txt"), t.join("data/esc_abs")).unwrap();
    symlink("/out/o.txt", t.join("data/to_out")).unwrap();
    symlink("loop2", t.join("data/loop1")).unwrap();
    symlink("loop1", t.join("data/loop2")).unwrap();
    symlink("..", t.join("data/up")).unwrap();
    symlink("sub/inner", t.join("data/deep")).unwrap();
    let spec = |v: &str, h: &str, mode| GrantSpec { vpath: v.as_bytes().to_vec(), host: t.join(h), mode, link: false };
    let ns = Namespace::new(&[
        spec("/data", "data", Mode::Ro),
        spec("/out", "out", Mode::Rw),
        spec("/x/y/z", "out", Mode::Rw),
        spec("/bin", "data", Mode::Exec),
    ])
    .unwrap();
    Fixture { dir, ns }
}

fn ino(p: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.dev(), m.ino())
}

/// The host object a resolution found, as (dev, ino), or its errno.
fn found(f: &Fixture, start: &str, path: &str, follow: bool) -> Result<(u64, u64), i32> {
    match f.ns.resolve(start.as_bytes(), path.as_bytes(), follow)? {
        Node::Existing(o) => Ok((o.st.st_dev, o.st.st_ino)),
        Node::Virtual(_) => Err(-1),
        Node::Missing { .. } => Err(-2),
        Node::MissingVirtual => Err(-3),
    }
}

fn vpath_of(f: &Fixture, path: &str) -> String {
    match f.ns.resolve(b"/", path.as_bytes(), true).unwrap() {
        Node::Existing(o) => String::from_utf8(o.vpath).unwrap(),
        Node::Virtual(v) => String::from_utf8(v).unwrap(),
        _ => panic!("{path}: missing"),
    }
}

#[test]
fn plain_paths_and_dot_dot() {
    let f = fixture();
    let a = ino(&f.path("data/a.txt"));
    assert_eq!(found(&f, "/", "/data/a.txt", true), Ok(a));
    assert_eq!(found(&f, "/", "/data/sub/../a.txt", true), Ok(a));
    assert_eq!(found(&f, "/", "/data/./sub/./../a.txt", true), Ok(a));
    assert_eq!(found(&f, "/", "/../../data/a.txt", true), Ok(a), "never above /");
    assert_eq!(found(&f, "/", "/data/../../../data/a.txt", true), Ok(a));
    assert_eq!(found(&f, "/", "/data/..", true), Err(-1), "the virtual root");
    assert_eq!(found(&f, "/data/sub", "../a.txt", true), Ok(a), "relative to a start");
    assert_eq!(found(&f, "/data/sub", "b.txt", true), Ok(ino(&f.path("data/sub/b.txt"))));
    assert_eq!(found(&f, "/", "data//sub///b.txt", true), Ok(ino(&f.path("data/sub/b.txt"))));
    assert_eq!(vpath_of(&f, "/data/sub/.."), "/data");
    assert_eq!(vpath_of(&f, "/data/sub/."), "/data/sub");
    assert_eq!(vpath_of(&f, "/data/"), "/data");
}

#[test]
fn missing_names() {
    let f = fixture();
    assert_eq!(found(&f, "/", "/data/nope", true), Err(-2));
    assert_eq!(found(&f, "/", "/data/nope/x", true), Err(libc::ENOENT));
    assert_eq!(found(&f, "/", "/secret.txt", true), Err(-3), "outside every grant");
    assert_eq!(found(&f, "/", "/tmp/x", true), Err(libc::ENOENT));
    assert_eq!(found(&f, "/", "/x/nope", true), Err(-3));
    assert_eq!(found(&f, "/", "/data/a.txt/", true), Err(libc::ENOTDIR));
    assert_eq!(found(&f, "/", "/data/a.txt/x", true), Err(libc::ENOTDIR));
    assert_eq!(found(&f, "/", "", true), Err(libc::ENOENT));
    let host = f.dir.path().to_str().unwrap().to_owned();
    assert_eq!(found(&f, "/", &format!("{host}/secret.txt"), true).ok(), None, "host paths mean nothing");
}

#[test]
fn virtual_directories() {
    let f = fixture();
    assert_eq!(found(&f, "/", "/", true), Err(-1));
    assert_eq!(found(&f, "/", "/x", true), Err(-1));
    assert_eq!(found(&f, "/", "/x/y/", true), Err(-1));
    assert_eq!(found(&f, "/", "/x/y/z/o.txt", true), Ok(ino(&f.path("out/o.txt"))));
    assert_eq!(found(&f, "/", "/x/y/z/../../y/z/o.txt", true), Ok(ino(&f.path("out/o.txt"))));
    let mut root: Vec<_> = f.ns.vdir_children(b"/").map(|c| String::from_utf8(c.clone()).unwrap()).collect();
    root.sort();
    assert_eq!(root, ["bin", "data", "out", "x"]);
    assert_eq!(f.ns.vdir_children(b"/x").count(), 1);
    assert!(f.ns.is_vdir(b"/x/y") && !f.ns.is_vdir(b"/data"));
}

#[test]
fn a_working_directory_where_nothing_is_granted() {
    let mut f = fixture();
    f.ns.add_vdir(b"/home/u/w").unwrap();
    assert_eq!(found(&f, "/", "/home/u/w", true), Err(-1), "an empty virtual directory");
    assert_eq!(f.ns.vdir_children(b"/home/u/w").count(), 0);
    assert_eq!(found(&f, "/home/u/w", "../../../data/a.txt", true), Ok(ino(&f.path("data/a.txt"))));
    assert_eq!(found(&f, "/home/u/w", "x", true), Err(-3), "nothing is in it");
    let mut root: Vec<_> = f.ns.vdir_children(b"/").map(|c| String::from_utf8(c.clone()).unwrap()).collect();
    root.sort();
    assert_eq!(root, ["bin", "data", "home", "out", "x"]);
    f.ns.add_vdir(b"/x/y/w").unwrap();
    assert_eq!(f.ns.vdir_children(b"/x/y").count(), 2, "beside a grant");
    assert!(f.ns.add_vdir(b"/data/sub").is_err(), "inside a grant");
    assert!(f.ns.add_vdir(b"/out").is_err());
    assert!(f.ns.add_vdir(b"relative").is_err());
}

#[test]
fn symlinks_inside_a_grant() {
    let f = fixture();
    let b = ino(&f.path("data/sub/b.txt"));
    assert_eq!(found(&f, "/", "/data/rel", true), Ok(b));
    assert_eq!(found(&f, "/", "/data/rel", false), Ok(ino(&f.path("data/rel"))), "not followed");
    assert_eq!(found(&f, "/", "/data/abs", true), Ok(ino(&f.path("data/a.txt"))), "absolute = virtual");
    assert_eq!(vpath_of(&f, "/data/up/data/up/data/a.txt"), "/data/a.txt");
    assert_eq!(vpath_of(&f, "/data/up"), "/");
    // `..` after a symlink goes to the parent of its target (as the kernel).
    assert_eq!(vpath_of(&f, "/bin/deep/.."), "/bin/sub");
    assert_eq!(found(&f, "/", "/bin/rel/..", true), Err(libc::ENOTDIR));
}

#[test]
fn symlinks_out_of_a_grant() {
    let f = fixture();
    assert_eq!(found(&f, "/", "/data/esc", true), Err(libc::ENOENT), "../../etc/passwd stays virtual");
    assert_eq!(found(&f, "/", "/data/esc_abs", true), Err(libc::ENOENT), "host absolute path");
    // Into another grant: resolved in the namespace, with that grant's mode.
    match f.ns.resolve(b"/", b"/data/to_out", true).unwrap() {
        Node::Existing(o) => {
            assert_eq!((o.st.st_dev, o.st.st_ino), ino(&f.path("out/o.txt")));
            assert_eq!(f.ns.grants[o.grant].mode, Mode::Rw);
            assert_eq!(o.vpath, b"/out/o.txt");
        }
        _ => panic!("not found"),
    }
    assert_eq!(found(&f, "/", "/data/loop1", true), Err(libc::ELOOP));
    assert_eq!(found(&f, "/", "/data/loop1/x", false), Err(libc::ELOOP));
    assert_eq!(found(&f, "/", "/data/loop1", false), Ok(ino(&f.path("data/loop1"))));
}

#[test]
fn a_symlink_swapped_in_by_a_racing_thread_never_escapes() {
    let f = fixture();
    let t = f.dir.path().to_path_buf();
    let race = t.join("data/race");
    std::fs::create_dir(&race).unwrap();
    std::fs::write(race.join("f"), "ok").unwrap();
    let good = ino(&race.join("f"));
    let secret = ino(&t.join("secretdir/f"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let (r2, t2) = (race.clone(), t.clone());
    let swapper = std::thread::spawn(move || {
        let moved = t2.join("data/race.dir");
        let targets = [t2.join("secretdir"), PathBuf::from("../secretdir"), PathBuf::from("../../secretdir")];
        let mut i = 0;
        while !s2.load(std::sync::atomic::Ordering::Relaxed) {
            std::fs::rename(&r2, &moved).unwrap();
            symlink(&targets[i % 3], &r2).unwrap();
            std::fs::remove_file(&r2).unwrap();
            std::fs::rename(&moved, &r2).unwrap();
            i += 1;
        }
    });
    let (mut ok, mut missing) = (0, 0);
    for _ in 0..20000 {
        match found(&f, "/", "/data/race/f", true) {
            Ok(id) => {
                assert_ne!(id, secret, "escaped through a swapped symlink");
                assert_eq!(id, good);
                ok += 1;
            }
            Err(_) => missing += 1,
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(ok > 0, "never found the real file ({missing} misses)");
}

#[test]
fn lexical_helpers() {
    assert_eq!(normalize(b"/a/./b/../c//"), b"/a/c");
    assert_eq!(normalize(b"/../.."), b"/");
    assert_eq!(parent(b"/a/b"), b"/a");
    assert_eq!(parent(b"/a"), b"/");
    assert_eq!(parent(b"/"), b"/");
    assert!(is_within(b"/a/b", b"/a") && is_within(b"/a", b"/a") && is_within(b"/x", b"/"));
    assert!(!is_within(b"/ab", b"/a"));
    assert_eq!(dot_last(b"a/.."), Some(&b".."[..]));
    assert_eq!(dot_last(b"a/./"), Some(&b"."[..]));
    assert_eq!(dot_last(b"//"), Some(&b"/"[..]));
    assert_eq!(dot_last(b"a/b"), None);
}

#[test]
fn bad_grants_are_refused() {
    let f = fixture();
    let g = |v: &str| GrantSpec { vpath: v.as_bytes().to_vec(), host: f.path("data"), mode: Mode::Ro, link: false };
    assert!(Namespace::new(&[g("relative")]).is_err());
    assert!(Namespace::new(&[g("/a/../b")]).is_err());
    assert!(Namespace::new(&[g("/a"), g("/a")]).is_err());
    let missing = GrantSpec { vpath: b"/m".to_vec(), host: f.path("nope"), mode: Mode::Ro, link: false };
    assert!(Namespace::new(&[missing]).is_err());
    let file = GrantSpec { vpath: b"/f".to_vec(), host: f.path("data/a.txt"), mode: Mode::Ro, link: false };
    assert!(Namespace::new(&[file.clone(), g("/f/inner")]).is_err());
    assert!(Namespace::new(&[file]).is_ok());
}

/// Symlinks granted as themselves (-B's /bin -> usr/bin, /etc/localtime):
/// their target resolves in the namespace, from the link's virtual
/// directory, like a symlink found in a grant; one whose target is not
/// granted leads nowhere, never to the host object it names there.
#[test]
fn symlinks_granted_as_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path();
    std::fs::create_dir_all(t.join("usr/bin")).unwrap();
    std::fs::write(t.join("usr/bin/dash"), "d").unwrap();
    std::fs::write(t.join("secret.txt"), "secret").unwrap();
    symlink("dash", t.join("usr/bin/sh")).unwrap();
    symlink("usr/bin", t.join("bin")).unwrap();
    symlink("/usr/bin/dash", t.join("abs")).unwrap();
    symlink(t.join("secret.txt"), t.join("host")).unwrap();
    symlink("../../secret.txt", t.join("up")).unwrap();
    symlink("bin", t.join("chain")).unwrap();
    let link = |v: &str, h: &str| GrantSpec { vpath: v.as_bytes().to_vec(), host: t.join(h), mode: Mode::Exec, link: true };
    let ns = Namespace::new(&[
        GrantSpec { vpath: b"/usr".to_vec(), host: t.join("usr"), mode: Mode::Exec, link: false },
        link("/bin", "bin"),
        link("/etc/abs", "abs"),
        link("/etc/host", "host"),
        link("/etc/up", "up"),
        link("/chain", "chain"),
    ])
    .unwrap();
    let f = Fixture { dir, ns };
    let dash = ino(&f.path("usr/bin/dash"));
    assert_eq!(found(&f, "/", "/bin/sh", true), Ok(dash));
    assert_eq!(found(&f, "/", "/bin/dash", false), Ok(dash));
    assert_eq!(vpath_of(&f, "/bin/sh"), "/usr/bin/dash");
    assert_eq!(vpath_of(&f, "/bin"), "/usr/bin");
    assert_eq!(vpath_of(&f, "/bin/"), "/usr/bin");
    assert_eq!(vpath_of(&f, "/bin/.."), "/usr", "`..` from where the link led");
    assert_eq!(vpath_of(&f, "/chain/sh"), "/usr/bin/dash", "a link to a link");
    assert_eq!(found(&f, "/", "/etc/abs", true), Ok(dash));
    // Not followed at the end: the link itself, a copy of the host's.
    match f.ns.resolve(b"/", b"/bin", false).unwrap() {
        Node::Existing(o) => {
            assert_eq!(sys::file_type(&o.st), libc::S_IFLNK);
            assert_eq!(sys::readlink_fd(o.fd.as_fd()).unwrap(), b"usr/bin");
            assert_eq!(o.vpath, b"/bin");
        }
        _ => panic!("/bin: not the link"),
    }
    // Targets outside the grants: nothing, whatever the host has there.
    assert!(found(&f, "/", "/etc/host", true).is_err(), "a host path means nothing");
    assert!(found(&f, "/", "/etc/up", true).is_err(), "`..` stays in the namespace");
    assert_eq!(found(&f, "/", "/etc/host/x", true), Err(libc::ENOENT));
    // The namespace lists the link as one.
    assert!(f.ns.grants.iter().filter(|g| g.vpath != b"/usr").all(Grant::is_link));
}
