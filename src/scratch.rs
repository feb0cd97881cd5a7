//! Per-process scratch folders under the system temporary folder, named `<prefix><pid>-<n>`: the
//! reference's STOW-RS spool and the fixture studies written out of the binary. Each owner removes
//! its folder when it is done; folders of processes killed before they could remove theirs are
//! removed when the first folder of the same kind is next made (where `/proc` tells which processes
//! are alive).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The path of a fresh scratch folder `<prefix><pid>-<n>` under [`std::env::temp_dir`], `n` drawn
/// from `counter`; nothing is left at that path (a folder of an earlier process with the same pid
/// is stale). The caller creates the folder.
pub fn fresh(prefix: &str, counter: &AtomicU64) -> PathBuf {
    let n = counter.fetch_add(1, Ordering::Relaxed);
    let parent = std::env::temp_dir();
    if n == 0 {
        remove_stale(&parent, prefix);
    }
    let dir = parent.join(format!("{prefix}{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Remove the `prefix` folders under `parent` of processes that no longer exist (Linux `/proc`
/// only; elsewhere nothing).
pub fn remove_stale(parent: &Path, prefix: &str) {
    let proc_fs = Path::new("/proc");
    if !proc_fs.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !proc_fs.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_folders_of_dead_processes_are_removed() {
        const PREFIX: &str = "ihe-harness-test-";
        let parent = tempfile::tempdir().unwrap();
        // pid 0 never names a user process in /proc; our own pid is alive.
        let dead = parent.path().join(format!("{PREFIX}0-3"));
        let alive = parent
            .path()
            .join(format!("{PREFIX}{}-0", std::process::id()));
        let other = parent.path().join("unrelated-0-0");
        for d in [&dead, &alive, &other] {
            std::fs::create_dir(d).unwrap();
        }
        remove_stale(parent.path(), PREFIX);
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists());
        }
        assert!(alive.exists() && other.exists());
    }
}
