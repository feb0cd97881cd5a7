//! Compiles the suite's own files into the crate, so that an installed binary runs the whole suite
//! from any folder: every file under the folders of [`EMBEDDED`] becomes an entry of a table
//! (`$OUT_DIR/assets.rs`) of repository-relative path and `include_bytes!` contents, which
//! `src/assets.rs` includes. Cargo reruns this when anything under those folders changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The folders compiled in, relative to the crate root (`src/assets.rs` says what each is for).
const EMBEDDED: &[&str] = &[
    "features",
    "fixtures/studies",
    "fixtures/xds",
    "fixtures/sut",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut files = Vec::new();
    for dir in EMBEDDED {
        println!("cargo:rerun-if-changed={dir}");
        walk(&root, &root.join(dir), &mut files)?;
    }
    println!("cargo:rerun-if-changed=build.rs");
    // Path order (by component), as a folder walk sorts: the same order whatever the platform.
    files.sort_by(|a, b| Path::new(&a.0).cmp(Path::new(&b.0)));
    let mut table = String::from("&[\n");
    for (rel, abs) in &files {
        writeln!(table, "    ({rel:?}, include_bytes!({abs:?})),")?;
    }
    table.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("assets.rs");
    std::fs::write(out, table)?;
    Ok(())
}

/// Every file under `dir`, as (path relative to `root` with `/` separators, absolute path).
fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, String)>,
) -> Result<(), Box<dyn std::error::Error>> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
            continue;
        }
        let rel = path.strip_prefix(root)?;
        let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
        let (Some(parts), Some(abs)) = (parts, path.to_str()) else {
            return Err(format!("{}: not a UTF-8 path", path.display()).into());
        };
        out.push((parts.join("/"), abs.to_string()));
    }
    Ok(())
}
