//! The requirement catalogue's coverage: `ihe-harness requirements` prints it, `--uncovered` finds
//! no gap on this tree and exits 1 on a catalogue with a requirement no check names; every test the
//! proofs name exists and names, in its own body or a table it reads, the check it proves.

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

/// The body of the test function `name` in `src` (from its `fn` line to the closing brace at the
/// same indentation), or None when `src` defines no `#[test] fn name`.
fn test_body<'a>(src: &'a str, name: &str) -> Option<&'a str> {
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(&format!("fn {name}("))
            && src[..offset].trim_end().ends_with("#[test]")
        {
            let indent = &line[..line.len() - trimmed.len()];
            let rest = &src[offset..];
            let end = rest
                .find(&format!("\n{indent}}}\n"))
                .map_or(rest.len(), |e| e + indent.len() + 2);
            return Some(&rest[..end]);
        }
        offset += line.len();
    }
    None
}

/// The definitions of the `const` and `static` items of `src` that `body` uses by name: a
/// data-driven test names its expectations in such a table.
fn tables_used<'a>(src: &'a str, body: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let item = line
            .trim_start()
            .trim_start_matches("pub ")
            .strip_prefix("const ")
            .or_else(|| {
                line.trim_start()
                    .trim_start_matches("pub ")
                    .strip_prefix("static ")
            });
        if let Some(item) = item {
            let name: String = item
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && body.contains(&name) {
                let rest = &src[offset..];
                let end = rest.find(";\n").map_or(rest.len(), |e| e + 1);
                out.push(&rest[..end]);
            }
        }
        offset += line.len();
    }
    out
}

/// Every test a proof names exists, and its own body (or a table of the same file the body reads)
/// names the check it proves, as `"ID"` or as the constant `ID` with `_` for `-`: a proof that
/// does not name its check proves nothing about it.
#[test]
fn every_test_a_proof_names_exists_and_names_its_check() {
    let mut problems = Vec::new();
    for p in TEST_PROOFS {
        let Some((file, name)) = test_source(p.test) else {
            problems.push(format!("{}: no source file for {}", p.check, p.test));
            continue;
        };
        let src = std::fs::read_to_string(&file).unwrap_or_default();
        let Some(body) = test_body(&src, &name) else {
            problems.push(format!(
                "{}: {} names no #[test] fn {name} in {}",
                p.check,
                p.test,
                file.display()
            ));
            continue;
        };
        let names = |text: &str| {
            text.contains(&format!("\"{}\"", p.check)) || text.contains(&p.check.replace('-', "_"))
        };
        if !names(body) && !tables_used(&src, body).into_iter().any(names) {
            problems.push(format!("{}: {} does not name the check", p.check, p.test));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_proof_reader_finds_a_test_body_and_its_tables() {
    let src = "const TABLE: &[(&str, &str)] = &[\n    (\"f\", \"X-01\"),\n];\n\n\
               #[test]\nfn reads_the_table() {\n    let _ = TABLE;\n}\n\n\
               #[test]\nfn other() {\n    let _ = \"X-02\";\n}\n";
    let body = test_body(src, "reads_the_table").expect("found");
    assert!(
        body.starts_with("fn reads_the_table()") && body.ends_with('}'),
        "{body}"
    );
    assert!(!body.contains("X-02"));
    let tables = tables_used(src, body);
    assert_eq!(tables.len(), 1);
    assert!(tables[0].contains("\"X-01\""));
    assert!(test_body(src, "absent").is_none());
    assert!(test_body(src, "TABLE").is_none());
}
