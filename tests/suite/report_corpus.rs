//! The HL7 Europe imaging report examples (fixtures/report) get the verdict their MANIFEST.json
//! records, and a generated report for every fixture study validates clean.

use std::path::Path;

use ihe_harness::checks::report::{report_warnings, validate_report, validate_resource};
use ihe_harness::model::fixtures::Fixtures;
use ihe_harness::model::imaging_report::{report_for_study, report_links, ReportOptions};
use serde_json::Value;

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_report_example_gets_its_manifest_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/report");
    let manifest = read(&dir.join("MANIFEST.json"));
    let entries = manifest.as_array().expect("MANIFEST.json is an array");
    let mut listed: Vec<String> = Vec::new();
    for m in entries {
        let file = m["file"].as_str().expect("file");
        listed.push(file.to_string());
        let doc = read(&dir.join(file));
        let source = doc["meta"]["source"].as_str().unwrap_or("");
        let instance = m["instance"].as_str().expect("instance");
        assert!(
            source.ends_with(&format!("#{instance}")),
            "{file}: meta.source {source}"
        );
        let violations = match m["validator"].as_str() {
            Some("validate_report") => validate_report(&doc),
            _ => validate_resource(&doc),
        };
        let mut rules: Vec<&str> = violations.iter().map(|v| v.rule).collect();
        rules.sort();
        rules.dedup();
        let known: Vec<&str> = m["known_violations"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(m["expected"], "valid", "{file}");
        assert_eq!(rules, known, "{file}: {violations:#?}");
        let mut warned: Vec<&str> = report_warnings(&doc).iter().map(|v| v.rule).collect();
        warned.sort();
        warned.dedup();
        let expected_warnings: Vec<&str> = m["expected_warnings"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(warned, expected_warnings, "{file}: SHOULD-level findings");
        let _ = report_links(&doc);
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/report")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "MANIFEST.json")
        .collect();
    on_disk.sort();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every example file is listed in MANIFEST.json"
    );
}

#[test]
fn semi_structured_example_links() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/report");
    let l = report_links(&read(&dir.join("bundle-report-semi-structured.json")));
    assert_eq!(
        l.study_uids,
        vec!["1.2.276.2000010.784732", "1.2.276.2000010.784733"]
    );
    assert!(l.accessions.contains(&(
        "http://example.org/myhosptital/accessionsystem".to_string(),
        "123456789".to_string()
    )));
    assert_eq!(l.modalities, vec!["MR"]);
}

#[test]
fn generated_report_for_every_fixture_study_is_clean() {
    let fixtures = Fixtures::load(Path::new("fixtures/studies")).expect("fixtures");
    let studies = fixtures.studies();
    assert!(!studies.is_empty());
    for study in studies {
        for status in ["final", "preliminary", "amended"] {
            let opts = ReportOptions {
                status: status.into(),
                ..ReportOptions::default()
            };
            let doc = report_for_study(&study, &opts);
            assert_eq!(validate_report(&doc), vec![], "{} {status}", study.alias);
            assert_eq!(report_warnings(&doc), vec![], "{} {status}", study.alias);
            assert_eq!(report_links(&doc).study_uids, vec![study.uid.to_string()]);
        }
    }
}
