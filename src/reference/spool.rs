//! The spool folder where STOW-RS (PS3.18 10.5) request parts are written while they arrive.
//!
//! A STOW-RS body may be far larger than memory, so each part goes to its own file as it is parsed;
//! accepted instances stay there (the archive index points at them) and rejected ones are deleted. The
//! folder is `ihe-harness-ref-<pid>-<n>` under the system temporary folder, one per server, removed when
//! the server shuts down (or when its state is dropped).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ReferenceError;

static SPOOLS: AtomicU64 = AtomicU64::new(0);

/// A per-server spool folder.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    files: AtomicU64,
}

impl Spool {
    /// Create a fresh folder under [`std::env::temp_dir`].
    pub fn create() -> Result<Spool, ReferenceError> {
        let n = SPOOLS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ihe-harness-ref-{}-{n}", std::process::id()));
        // A folder left by an earlier process with the same pid is stale.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|source| ReferenceError::Spool {
            path: dir.clone(),
            source,
        })?;
        Ok(Spool {
            dir,
            files: AtomicU64::new(0),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new, unused file path in the folder with this extension.
    pub fn new_path(&self, ext: &str) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{n:08}.{ext}"))
    }

    /// Delete the folder and everything in it (errors are ignored: nothing can be done about them).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_distinct_folders_and_removes_them() {
        let a = Spool::create().unwrap();
        let b = Spool::create().unwrap();
        assert_ne!(a.dir(), b.dir());
        let p = a.new_path("dcm");
        std::fs::write(&p, b"x").unwrap();
        assert_ne!(p, a.new_path("dcm"));
        let dir = a.dir().to_path_buf();
        drop(a);
        assert!(!dir.exists());
        assert!(b.dir().is_dir());
    }
}
