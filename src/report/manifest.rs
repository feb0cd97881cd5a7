//! `MANIFEST.sha256`: the SHA-256 of every file of a report folder, in the format of `sha256sum`
//! (`<hex>  <relative path>`, one a line, sorted by path), so the folder can be filed and later
//! checked: `ihe-harness report --verify DIR` (or `sha256sum -c MANIFEST.sha256` in DIR).
//!
//! A run writes it last, after every other writer, so it covers everything the run left.
//! A path holding a backslash or a newline is written as `sha256sum` writes it: the line starts
//! with `\` and the path has `\\` and `\n` escapes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ReportError;

/// The file name under the report folder.
pub const FILE: &str = "MANIFEST.sha256";

/// SHA-256 (lower-case hex) of a whole file, streamed.
fn sha256_file(path: &Path) -> std::io::Result<String> {
    crate::actors::dimse_scu::dataset::sha256_from(path, 0)
}

/// Every regular file under `dir` but the manifest, as `/`-separated relative paths, sorted.
fn files(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let p = e.path();
            let ty = e.file_type()?;
            if ty.is_dir() {
                walk(root, &p, out)?;
            } else if ty.is_file() {
                let rel = p.strip_prefix(root).unwrap_or(&p);
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let rel = rel.join("/");
                if rel != FILE {
                    out.push(rel);
                }
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn escape(path: &str) -> (bool, String) {
    if path.contains(['\\', '\n']) {
        (true, path.replace('\\', "\\\\").replace('\n', "\\n"))
    } else {
        (false, path.to_string())
    }
}

fn unescape(path: &str) -> String {
    let mut out = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The manifest's text for the folder as it is now.
pub fn render(dir: &Path) -> Result<String, ReportError> {
    let err = |source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = String::new();
    for rel in files(dir).map_err(err)? {
        let digest = sha256_file(&dir.join(&rel)).map_err(|source| ReportError::Write {
            path: dir.join(&rel),
            source,
        })?;
        let (escaped, shown) = escape(&rel);
        if escaped {
            out.push('\\');
        }
        out.push_str(&format!("{digest}  {shown}\n"));
    }
    Ok(out)
}

/// Write `dir/MANIFEST.sha256` (call it after every other writer).
pub fn write(dir: &Path) -> Result<(), ReportError> {
    let text = render(dir)?;
    let path = dir.join(FILE);
    std::fs::write(&path, text).map_err(|source| ReportError::Write { path, source })
}

/// What `--verify` found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Files that match.
    pub ok: usize,
    /// Files whose content changed.
    pub changed: Vec<String>,
    /// Files listed but absent.
    pub missing: Vec<String>,
    /// Files present but not listed.
    pub unlisted: Vec<String>,
    /// Lines of the manifest that are not `<sha256>  <path>`.
    pub malformed: Vec<usize>,
}

impl Verification {
    /// Does the folder match its manifest?
    pub fn is_intact(&self) -> bool {
        self.changed.is_empty()
            && self.missing.is_empty()
            && self.unlisted.is_empty()
            && self.malformed.is_empty()
    }
}

/// Why a folder cannot be verified at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No manifest.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The manifest.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Recompute every digest of `dir/MANIFEST.sha256`.
pub fn verify(dir: &Path) -> Result<Verification, VerifyError> {
    let path = dir.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| VerifyError::Read {
        path: path.clone(),
        source,
    })?;
    let mut v = Verification::default();
    let mut listed = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let (escaped, line) = match line.strip_prefix('\\') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let parsed = line.split_once("  ").filter(|(h, p)| {
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) && !p.is_empty()
        });
        let Some((digest, rel)) = parsed else {
            v.malformed.push(i + 1);
            continue;
        };
        let rel = if escaped {
            unescape(rel)
        } else {
            rel.to_string()
        };
        listed.insert(rel, digest.to_ascii_lowercase());
    }
    for (rel, digest) in &listed {
        // A listed path must stay inside the folder.
        let inside = !rel.starts_with('/')
            && !rel
                .split('/')
                .any(|c| c == ".." || c.is_empty() || c.contains('\\'));
        let file = dir.join(rel);
        match (inside, sha256_file(&file)) {
            (true, Ok(actual)) if &actual == digest => v.ok += 1,
            (true, Ok(_)) => v.changed.push(rel.clone()),
            _ => v.missing.push(rel.clone()),
        }
    }
    if let Ok(present) = files(dir) {
        v.unlisted = present
            .into_iter()
            .filter(|p| !listed.contains_key(p))
            .collect();
    }
    Ok(v)
}

/// `ihe-harness report --verify DIR`: print what differs; 0 when intact, 1 when not, 2 when
/// there is no manifest to read.
pub fn command(dir: &Path) -> u8 {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match verify(dir) {
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
        Ok(v) => {
            for p in &v.changed {
                let _ = writeln!(out, "CHANGED  {p}");
            }
            for p in &v.missing {
                let _ = writeln!(out, "MISSING  {p}");
            }
            for p in &v.unlisted {
                let _ = writeln!(out, "NOT IN MANIFEST  {p}");
            }
            for l in &v.malformed {
                let _ = writeln!(out, "MALFORMED  {FILE} line {l}");
            }
            if v.is_intact() {
                let _ = writeln!(out, "{}: {} files match {FILE}", dir.display(), v.ok);
                0
            } else {
                let _ = writeln!(
                    out,
                    "{}: {} files match, {} changed, {} missing, {} not in the manifest, {} malformed lines",
                    dir.display(),
                    v.ok,
                    v.changed.len(),
                    v.missing.len(),
                    v.unlisted.len(),
                    v.malformed.len()
                );
                1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let d = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(d.path().join("evidence/wado/0010-x")).expect("mkdir");
        std::fs::write(d.path().join("junit.xml"), "<testsuites/>").expect("write");
        std::fs::write(d.path().join("tar.xml"), "<TestStepReport/>").expect("write");
        std::fs::write(
            d.path().join("evidence/wado/0010-x/01-rad-107.json"),
            "{\"status\": 200}",
        )
        .expect("write");
        d
    }

    #[test]
    fn the_manifest_lists_every_file_in_sha256sum_format() {
        let d = folder();
        write(d.path()).expect("manifest");
        let text = std::fs::read_to_string(d.path().join(FILE)).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].ends_with("  evidence/wado/0010-x/01-rad-107.json"));
        assert!(lines[1].ends_with("  junit.xml"));
        // sha256("<testsuites/>")
        assert_eq!(
            lines[1],
            format!(
                "{}  junit.xml",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"<testsuites/>"))
            )
        );
        let v = verify(d.path()).expect("verify");
        assert!(v.is_intact(), "{v:?}");
        assert_eq!(v.ok, 3);
        assert_eq!(command(d.path()), 0);
        // The manifest agrees with sha256sum -c where it is installed.
        if let Ok(out) = std::process::Command::new("sha256sum")
            .arg("--check")
            .arg("--quiet")
            .arg(FILE)
            .current_dir(d.path())
            .output()
        {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }

    #[test]
    fn verify_catches_a_changed_byte_a_missing_file_and_an_added_one() {
        let d = folder();
        write(d.path()).expect("manifest");
        std::fs::write(d.path().join("tar.xml"), "<TestStepReporT/>").expect("write");
        let v = verify(d.path()).expect("verify");
        assert_eq!(v.changed, vec!["tar.xml".to_string()]);
        assert_eq!(command(d.path()), 1);
        std::fs::remove_file(d.path().join("junit.xml")).expect("rm");
        std::fs::write(d.path().join("extra.txt"), "x").expect("write");
        let v = verify(d.path()).expect("verify");
        assert_eq!(v.missing, vec!["junit.xml".to_string()]);
        assert_eq!(v.unlisted, vec!["extra.txt".to_string()]);
        assert!(!v.is_intact());
    }

    #[test]
    fn a_hostile_manifest_neither_escapes_the_folder_nor_panics() {
        let d = folder();
        std::fs::write(
            d.path().join(FILE),
            format!(
                "{}  ../../etc/passwd\nnot a line\n\\{}  a\\nb\n{}  /etc/hostname\n",
                "0".repeat(64),
                "1".repeat(64),
                "2".repeat(64)
            ),
        )
        .expect("write");
        let v = verify(d.path()).expect("verify");
        assert_eq!(v.malformed, vec![2]);
        assert!(v.missing.contains(&"../../etc/passwd".to_string()));
        assert!(v.missing.contains(&"/etc/hostname".to_string()));
        assert!(v.missing.contains(&"a\nb".to_string()));
        assert!(!v.is_intact());
        let none = tempfile::tempdir().expect("tempdir");
        assert_eq!(command(none.path()), 2);
    }
}
