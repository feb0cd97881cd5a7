//! The whole suite against the embedded reference: every scenario passes, and the reports are there.

use crate::common::*;

#[test]
fn whole_suite_passes_against_the_embedded_reference() {
    let dir = report_dir("reference");
    let d = dir.path().to_str().unwrap();
    let out = harness(&["run", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.ends_with("passed, 0 failed, 0 skipped"),
        "closing line: {last}"
    );

    let results = results(dir.path());
    let outcomes = outcomes(&results);
    assert!(outcomes.len() >= 20, "only {} scenarios", outcomes.len());
    assert!(outcomes.iter().all(|(_, o)| o == "pass"), "{outcomes:?}");

    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(junit.matches("<testcase ").count() >= 20);
    assert!(junit.contains("<property name=\"tag\" value=\"@profile:DICOMweb\"/>"));
    assert!(!junit.contains("<failure"));

    // Evidence: every scenario has a folder with exchanges and a repro script.
    for s in results["scenarios"].as_array().unwrap() {
        let files = s["evidence"].as_array().unwrap();
        assert!(files.iter().any(|f| f.as_str().unwrap().ends_with(".json")));
    }
    let any = results["scenarios"][0]["evidence"][0].as_str().unwrap();
    let folder = dir.path().join(any).parent().unwrap().to_path_buf();
    let repro = std::fs::read_to_string(folder.join("repro.sh")).unwrap();
    assert!(repro.contains("curl -sS"), "{repro}");

    // A reviewed snapshot of which scenarios ran and how they ended.
    let listing: Vec<String> = outcomes.iter().map(|(s, o)| format!("{o}  {s}")).collect();
    insta::assert_snapshot!("reference_outcomes", listing.join("\n"));
}

#[test]
fn tag_filter_selects_a_transaction() {
    let dir = report_dir("tags");
    let d = dir.path().to_str().unwrap();
    let out = harness(&[
        "run",
        "--tags",
        "@txn:RAD-129 and not @neg",
        "--report-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let results = results(dir.path());
    for s in results["scenarios"].as_array().unwrap() {
        let tags: Vec<&str> = s["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"txn:RAD-129"), "{tags:?}");
        assert!(!tags.contains(&"neg"));
    }
}
