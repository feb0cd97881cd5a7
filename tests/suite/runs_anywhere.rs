//! The binary runs anywhere: from an empty folder, with no environment pointing at the repository, it
//! runs the feature files and fixture studies compiled into it; `export` writes them out for editing.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

/// Run `ihe-harness` with `args` in `dir`, with no variable pointing it at the repository. Returns
/// the output and the process id (which names its temporary folder).
fn harness_in(dir: &Path, args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args(args)
        .current_dir(dir)
        .env_remove("IHE_HARNESS_FIXTURES")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    (child.wait_with_output().expect("the binary ends"), pid)
}

/// The scenario count a listing closes with ("145 scenarios").
fn listed(out: &Output) -> usize {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .last()
        .and_then(|l| l.strip_suffix(" scenarios"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count\n{}", dump(out)))
}

#[test]
fn the_embedded_suite_passes_from_an_empty_folder() {
    let empty = report_dir("anywhere");
    let (out, pid) = harness_in(empty.path(), &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));

    // The same scenarios as the repository's feature files, under the same names.
    let from_repo = harness(&["list", "--features", "features"]);
    let results = results(&empty.path().join("reports"));
    let scenarios = results["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), listed(&from_repo));
    assert!(outcomes(&results).iter().all(|(_, o)| o == "pass"));
    for s in scenarios {
        let file = s["feature_file"].as_str().unwrap();
        assert!(root().join(file).is_file(), "{file}");
    }

    // The run left its reports and nothing else, and removed the studies it wrote out.
    let left: Vec<_> = std::fs::read_dir(empty.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["reports"]);
    let studies = std::env::temp_dir().join(format!("ihe-harness-assets-{pid}-0"));
    assert!(!studies.exists(), "{} is left", studies.display());
}

#[test]
fn export_writes_what_the_harness_runs_and_the_options_read_it_back() {
    let dir = report_dir("export");
    let (out, _) = harness_in(dir.path(), &["export", "suite"]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let suite = dir.path().join("suite");
    for folder in [
        "features",
        "fixtures/studies",
        "fixtures/xds",
        "fixtures/sut",
    ] {
        assert_same_tree(&root().join(folder), &suite.join(folder));
    }

    // A second export does not replace what may have been edited, unless forced.
    let (again, _) = harness_in(dir.path(), &["export", "suite"]);
    assert_eq!(again.status.code(), Some(2), "{}", dump(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let (forced, _) = harness_in(dir.path(), &["export", "suite", "--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", dump(&forced));

    // An edited copy is what --features and --fixtures run: here one feature file fewer.
    let (all, _) = harness_in(dir.path(), &["list"]);
    std::fs::remove_file(suite.join("features/dicomweb/qido_rs_search.feature")).unwrap();
    let (fewer, _) = harness_in(dir.path(), &["list", "--features", "suite/features"]);
    assert!(listed(&fewer) < listed(&all), "{}", dump(&fewer));
    let (run, _) = harness_in(
        dir.path(),
        &[
            "run",
            "--features",
            "suite/features",
            "--fixtures",
            "suite/fixtures/studies",
            "--tags",
            "@txn:RAD-107 and not @neg",
            "--report-dir",
            "reports",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", dump(&run));
    let results = results(&dir.path().join("reports"));
    assert!(!outcomes(&results).is_empty());
    for s in results["scenarios"].as_array().unwrap() {
        assert!(s["feature_file"]
            .as_str()
            .unwrap()
            .starts_with("suite/features/"));
    }
}

/// The files under `b` are those under `a`, byte for byte.
fn assert_same_tree(a: &Path, b: &Path) {
    fn files(dir: &Path, base: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    files(a, a, &mut fa);
    files(b, b, &mut fb);
    fa.sort();
    fb.sort();
    assert_eq!(fa, fb, "{} and {}", a.display(), b.display());
    for f in fa {
        assert_eq!(
            std::fs::read(a.join(&f)).unwrap(),
            std::fs::read(b.join(&f)).unwrap(),
            "{}",
            f.display()
        );
    }
}
