//! The suite's own files, compiled into the binary so that it runs from any folder: the feature
//! files (`features/`), the fixture studies with their index (`fixtures/studies/`), the
//! affinity-domain code sets (`fixtures/xds/`) and the example SUT profiles (`fixtures/sut/`).
//! `build.rs` makes the table from the repository when the crate is built.
//!
//! `--features` and `--fixtures` (or `IHE_HARNESS_FIXTURES`) name folders that replace the
//! compiled-in copies. Without them, the feature files are parsed from memory, and the fixture
//! studies are written into a temporary folder for as long as the run or the reference server needs
//! them (the reference and the steps stream instances from files): [`Materialised`], removed when
//! dropped. `ihe-harness export DIR` writes every file out, for people who want to edit them.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use cucumber::gherkin;

/// Every compiled-in file: path relative to the repository root (`/`-separated), contents.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The folder of the feature files, relative to the repository root.
pub const FEATURES: &str = "features";

/// The folder of the fixture studies, relative to the repository root.
pub const FIXTURE_STUDIES: &str = "fixtures/studies";

/// Errors writing the compiled-in files out.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// A folder or file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `export` would replace a file that is already there.
    #[error("{path} already exists (--force replaces the files export writes)")]
    Exists {
        /// The file.
        path: PathBuf,
    },
}

/// Every compiled-in file, as (path relative to the repository root, contents), in path order.
pub fn files() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    FILES.iter().copied()
}

/// The compiled-in text file at `path` (relative to the repository root), if it is one.
pub fn text(path: &str) -> Option<&'static str> {
    files()
        .find(|(p, _)| *p == path)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
}

/// The compiled-in files under `folder` (a path relative to the repository root).
pub fn under(folder: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    files().filter(move |(p, _)| {
        p.strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The compiled-in feature files, parsed, in path order. Each feature's path is its path in the
/// repository (`features/dicomweb/wado_rs_retrieve.feature`), as a run from the repository root
/// names it in reports and shards.
pub fn features() -> Vec<Result<gherkin::Feature, gherkin::ParseFileError>> {
    under(FEATURES)
        .filter(|(p, _)| p.ends_with(".feature"))
        .map(|(p, bytes)| {
            let path = PathBuf::from(p);
            let text = String::from_utf8_lossy(bytes);
            match gherkin::Feature::parse(text.as_ref(), gherkin::GherkinEnv::default()) {
                Ok(mut f) => {
                    f.path = Some(path);
                    Ok(f)
                }
                Err(source) => Err(gherkin::ParseFileError::Parsing {
                    path,
                    error: None,
                    source,
                }),
            }
        })
        .collect()
}

/// Write every compiled-in file under `dir` at its repository path (`dir/features/...`,
/// `dir/fixtures/studies/...`), creating folders as needed. An existing file is an error unless
/// `force`. Returns how many files were written.
pub fn export(dir: &Path, force: bool) -> Result<usize, AssetError> {
    if !force {
        if let Some((p, _)) = files().find(|(p, _)| dir.join(p).exists()) {
            return Err(AssetError::Exists { path: dir.join(p) });
        }
    }
    write_all(dir, files())
}

fn write_all<'a>(
    dir: &Path,
    files: impl Iterator<Item = (&'a str, &'a [u8])>,
) -> Result<usize, AssetError> {
    let mut n = 0;
    for (p, bytes) in files {
        let path = dir.join(p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| AssetError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, bytes).map_err(|source| AssetError::Write { path, source })?;
        n += 1;
    }
    Ok(n)
}

/// The name prefix of the temporary folders of [`Materialised`]: `ihe-harness-assets-<pid>-<n>`.
const PREFIX: &str = "ihe-harness-assets-";

static MATERIALISED: AtomicU64 = AtomicU64::new(0);

/// Compiled-in files written into a temporary folder under [`std::env::temp_dir`], removed when
/// dropped. Folders left by processes that were killed before they could remove theirs are removed
/// when the next one is made (where `/proc` tells which processes are alive).
#[derive(Debug)]
pub struct Materialised {
    root: PathBuf,
}

impl Materialised {
    /// Write the compiled-in files under `folder` (a path relative to the repository root) into a
    /// fresh temporary folder, at their repository paths.
    pub fn write(folder: &str) -> Result<Materialised, AssetError> {
        let root = crate::scratch::fresh(PREFIX, &MATERIALISED);
        let m = Materialised { root };
        write_all(&m.root, under(folder))?;
        Ok(m)
    }

    /// The fixture studies, written out: the folder to load them from.
    pub fn fixture_studies() -> Result<Materialised, AssetError> {
        Materialised::write(FIXTURE_STUDIES)
    }

    /// The folder `folder` (a path relative to the repository root) inside the temporary folder.
    pub fn dir(&self, folder: &str) -> PathBuf {
        self.root.join(folder)
    }
}

impl Drop for Materialised {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_the_features_and_the_fixture_index() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let features: Vec<_> = under(FEATURES).collect();
        assert!(features.len() >= 20, "{} feature files", features.len());
        for (p, bytes) in files() {
            assert_eq!(std::fs::read(repo.join(p)).unwrap(), bytes, "{p}");
        }
        assert!(under(FIXTURE_STUDIES).any(|(p, _)| p == "fixtures/studies/index.json"));
        // `under` takes whole folder names: `fixtures/s` is no folder.
        assert_eq!(under("fixtures/s").count(), 0);
    }

    #[test]
    fn embedded_features_parse_with_their_repository_paths() {
        let parsed = features();
        assert!(parsed.len() >= 20);
        for f in parsed {
            let f = f.unwrap();
            let path = f.path.unwrap();
            assert!(path.starts_with("features/"), "{}", path.display());
        }
    }

    #[test]
    fn materialised_studies_load_and_are_removed_when_dropped() {
        let m = Materialised::fixture_studies().unwrap();
        let dir = m.dir(FIXTURE_STUDIES);
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        assert!(fx.instances.iter().all(|i| fx.file(i).is_file()));
        let root = m.root.clone();
        drop(m);
        assert!(!root.exists());
    }

    #[test]
    fn export_refuses_to_replace_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let n = export(dir.path(), false).unwrap();
        assert_eq!(n, files().count());
        assert!(dir.path().join("features").is_dir());
        assert!(dir.path().join("fixtures/studies/index.json").is_file());
        let again = export(dir.path(), false).unwrap_err();
        assert!(matches!(again, AssetError::Exists { .. }), "{again}");
        assert_eq!(export(dir.path(), true).unwrap(), n);
    }
}
