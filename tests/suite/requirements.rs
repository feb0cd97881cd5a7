//! The requirement catalogue's coverage: `ihe-harness requirements` prints it, `--uncovered` finds
//! no gap on this tree and exits 1 on a catalogue with a requirement no check names; every test the
//! proofs name exists.

use ihe_harness::requirements::proofs::TEST_PROOFS;

use crate::common::*;

#[test]
fn uncovered_finds_no_gap() {
    let out = harness(&["requirements", "--uncovered"]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
}

#[test]
fn uncovered_exits_1_on_a_requirement_without_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("catalogue.toml");
    let extra = "\n[[requirement]]\nid = \"PS18-99.9\"\ndocument = \"DICOM PS3.18\"\n\
                 edition = \"2026b\"\nsection = \"99.9\"\nlevel = \"SHALL\"\n\
                 actor = \"DICOMweb origin server\"\ntext = \"A requirement no check enforces.\"\n";
    std::fs::write(
        &file,
        format!("{}{extra}", ihe_harness::requirements::CATALOGUE),
    )
    .unwrap();
    let out = harness(&[
        "requirements",
        "--uncovered",
        "--catalogue",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("requirement PS18-99.9 (DICOM PS3.18 99.9) has no check"),
        "{stdout}"
    );
    // A check naming an id the catalogue lacks is a gap too.
    let cut = ihe_harness::requirements::CATALOGUE.replace(
        "[[requirement]]\nid = \"PS18-8.3.4.4.1\"",
        "[[requirement]]\nid = \"PS18-8.3.4.4.1-renamed\"",
    );
    std::fs::write(&file, cut).unwrap();
    let out = harness(&[
        "requirements",
        "--uncovered",
        "--catalogue",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("check DW-25 names PS18-8.3.4.4.1, which the catalogue does not hold"),
        "{stdout}"
    );
    // A catalogue that does not parse is a usage error.
    std::fs::write(&file, "[[requirement]]\nid = 1\n").unwrap();
    let out = harness(&["requirements", "--catalogue", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", dump(&out));
}

#[test]
fn the_listing_chains_requirement_check_scenario_and_proof() {
    let out = harness(&["requirements"]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let entry: Vec<&str> = stdout
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("PS18-8.3.4.4.1 "))
        .take_while(|l| l.starts_with("PS18-8.3.4.4.1 ") || l.starts_with(' '))
        .collect();
    let entry = entry.concat();
    assert!(entry.contains("DICOM PS3.18 (2026b)"), "{entry}");
    assert!(entry.contains("check DW-25 SHALL"), "{entry}");
    assert!(entry.contains("scenario features/"), "{entry}");
    assert!(
        entry.contains("fails on fault qido-no-paging-warning"),
        "{entry}"
    );
}

/// The source file and the test function a `unit:` or `suite:` proof names.
fn test_source(proof: &str) -> Option<(std::path::PathBuf, String)> {
    let (kind, path) = proof.split_once(": ")?;
    let mut parts: Vec<&str> = path.split("::").collect();
    let name = parts.pop()?.to_string();
    let file = match kind {
        "suite" => root()
            .join("tests/suite")
            .join(format!("{}.rs", parts.join("/"))),
        "unit" => {
            // `a::b::tests` is `src/a/b/tests.rs`, or a `mod tests` inside `src/a/b.rs`.
            let dir = root().join("src").join(parts.join("/"));
            let inline = parts
                .strip_suffix(&["tests"])
                .map(|p| root().join("src").join(format!("{}.rs", p.join("/"))));
            [dir.with_extension("rs"), dir.join("mod.rs")]
                .into_iter()
                .chain(inline)
                .find(|f| f.is_file())?
        }
        _ => return None,
    };
    Some((file, name))
}

#[test]
fn every_test_a_proof_names_exists_and_names_its_check() {
    let mut problems = Vec::new();
    for p in TEST_PROOFS {
        let Some((file, name)) = test_source(p.test) else {
            problems.push(format!("{}: no source file for {}", p.check, p.test));
            continue;
        };
        let src = std::fs::read_to_string(&file).unwrap_or_default();
        let defined = src.split("#[test]").skip(1).any(|after| {
            after
                .trim_start()
                .strip_prefix("fn ")
                .is_some_and(|rest| rest.starts_with(&format!("{name}(")))
        });
        if !defined {
            problems.push(format!(
                "{}: {} names no #[test] fn {name} in {}",
                p.check,
                p.test,
                file.display()
            ));
        }
        if !src.contains(&format!("\"{}\"", p.check)) {
            problems.push(format!(
                "{}: {} does not mention the check",
                p.check,
                file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
