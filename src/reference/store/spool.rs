//! The spool folder where STOW-RS (PS3.18 10.5) request parts are written while they arrive.
//!
//! A STOW-RS body may be far larger than memory, so each part goes to its own file as it is parsed;
//! accepted instances stay there (the archive index points at them) and rejected ones are deleted. The
//! folder is `ihe-harness-ref-<pid>-<n>` under the system temporary folder, one per server, removed when
//! the server shuts down (or when its state is dropped). Folders left by processes that were killed
//! before they could clean up are removed when the next spool is created (where `/proc` tells which
//! processes are alive).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static SPOOLS: AtomicU64 = AtomicU64::new(0);

const PREFIX: &str = "ihe-harness-ref-";

/// The spool folder could not be created.
#[derive(Debug)]
pub struct SpoolError {
    /// Folder.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// A per-server spool folder.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    files: AtomicU64,
}

impl Spool {
    /// Create a fresh folder under [`std::env::temp_dir`].
    pub fn create() -> Result<Spool, SpoolError> {
        let dir = crate::scratch::fresh(PREFIX, &SPOOLS);
        std::fs::create_dir_all(&dir).map_err(|source| SpoolError {
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
