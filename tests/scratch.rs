//! Where tests make their files: [`Scratch`], a fresh directory below the
//! system's temporary directory (/tmp) removed when the test ends, and
//! [`test_dir`], the test binary's directory in target/tmp/ kept after the
//! run (outputs to look at when a comparison fails).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A fresh directory `/tmp/preld-NAME-XXXXXX` (canonical path), removed
/// with everything in it when dropped.
pub struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("preld-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot make a scratch directory for {name}: {e}"));
        let path = std::fs::canonicalize(dir.path()).unwrap();
        Scratch { _dir: dir, path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Writes `rel` (making its directories) and returns its path.
    pub fn write(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> PathBuf {
        write(&self.join(rel), bytes)
    }

    /// Writes `rel` with permissions `mode` and returns its path.
    pub fn file(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let p = self.write(rel, bytes);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    /// An executable file (mode 755).
    pub fn exe(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> PathBuf {
        self.file(rel, bytes, 0o755)
    }

    /// Makes the directory `rel` (and its parents) and returns its path.
    pub fn dir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        p
    }
}

/// Writes `path` (making its directories) and returns it.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> PathBuf {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_path_buf()
}

/// target/tmp/preld-BIN for the test binary BIN (matrix, handler, ...),
/// emptied once per test process.
pub fn test_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // target/release/deps/NAME-HASH
        let exe = std::env::current_exe().expect("the test binary's path");
        let stem = exe.file_stem().unwrap().to_string_lossy().into_owned();
        let name = match stem.rsplit_once('-') {
            Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_string(),
            _ => stem,
        };
        let d = crate::root().join("target/tmp").join(format!("preld-{name}"));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
        d
    })
}

/// A fresh directory `test_dir()/NAME`.
pub fn case_dir(name: &str) -> PathBuf {
    let d = test_dir().join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("cannot create {}: {e}", d.display()));
    d
}
