//! The KOS manifest parser and validator judged on material nobody on the team wrote: the
//! third-party manifests of `fixtures/corpus/kos/` with the verdicts their sources give
//! (`fixtures/corpus/MANIFEST.json`), and a built manifest judged by dicom3tools' `dciodvfy`.

use std::path::{Path, PathBuf};
use std::process::Command;

use ihe_harness::checks::kos::rules::{self as kos_rules, Rules};
use ihe_harness::checks::Level;
use ihe_harness::model::kos::{self, ManifestSpec, Patient, ReferencedInstance, Study};
use serde_json::Value;

/// Repository root; `IHE_HARNESS_ROOT` overrides it (for running this file from another crate).
fn root() -> PathBuf {
    std::env::var_os("IHE_HARNESS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Files whose source verdict our reading of the standard contradicts, with the reason.
/// Each entry names the file and the rule it is allowed to break.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// The rules that fit a manifest: MADO for a "Manifest with Description", XDS-I.b otherwise.
fn rules_for(m: &kos::Manifest) -> Rules {
    if m.is_mado_title() {
        Rules::mado()
    } else {
        Rules::xds_i_b()
    }
}

#[test]
fn corpus_manifests_get_the_verdict_their_source_gives() {
    let corpus = root().join("fixtures/corpus");
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.json"))
        .expect("fixtures/corpus/MANIFEST.json is readable");
    let entries: Vec<Value> = serde_json::from_str(&manifest).expect("MANIFEST.json is JSON");
    let mut checked = 0;
    let mut failures = Vec::new();
    println!("| file | expected | parse | profile | errors | warnings |");
    for entry in &entries {
        let file = entry["file"].as_str().unwrap_or_default();
        if !(file.starts_with("kos/") && file.ends_with(".dcm")) {
            continue;
        }
        let expected = entry["expected"].as_str().unwrap_or("unknown");
        let bytes = std::fs::read(corpus.join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"));
        checked += 1;
        let (verdict_errors, line) = match kos::parse(&bytes) {
            Err(e) => (
                1,
                format!("| {file} | {expected} | error: {e} | - | - | - |"),
            ),
            Ok(m) => {
                let rules = rules_for(&m);
                let violations = kos_rules::validate(&m, &rules);
                for v in &violations {
                    println!("    {file}: {v}");
                }
                let errors: Vec<_> = violations
                    .iter()
                    .filter(|v| v.level == Level::Shall)
                    .filter(|v| {
                        !ALLOWED
                            .iter()
                            .any(|(f, rule, _)| file.ends_with(f) && *rule == v.rule)
                    })
                    .collect();
                let warnings = violations.len()
                    - violations
                        .iter()
                        .filter(|v| v.level == Level::Shall)
                        .count();
                (
                    errors.len(),
                    format!(
                        "| {file} | {expected} | ok | {:?} | {} | {warnings} |",
                        rules.profile,
                        errors.len()
                    ),
                )
            }
        };
        println!("{line}");
        match expected {
            "valid" if verdict_errors > 0 => failures.push(format!("{file}: expected valid")),
            "invalid" if verdict_errors == 0 => failures.push(format!("{file}: expected invalid")),
            _ => {}
        }
    }
    let on_disk = std::fs::read_dir(corpus.join("kos"))
        .expect("fixtures/corpus/kos is a folder")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "dcm"))
        })
        .count();
    assert_eq!(
        checked, on_disk,
        "every corpus KOS has a MANIFEST.json entry"
    );
    assert!(checked > 0, "no corpus KOS found");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Parse never panics on any corpus file cut short or with a byte changed.
#[test]
fn corpus_manifests_damaged_fail_cleanly() {
    let dir = root().join("fixtures/corpus/kos");
    for entry in std::fs::read_dir(&dir).expect("fixtures/corpus/kos is a folder") {
        let path = entry.expect("directory entry").path();
        let bytes = std::fs::read(&path).expect("corpus file reads");
        // About 250 cuts and 250 flips per file, wherever its size.
        let step = (bytes.len() / 250).max(1);
        for end in (0..bytes.len()).step_by(step) {
            let _ = kos::parse(&bytes[..end]);
        }
        for at in (132..bytes.len()).step_by(step) {
            let mut b = bytes.clone();
            b[at] ^= 0xA5;
            let _ = kos::parse(&b);
        }
    }
}

/// A manifest built from the CT-CHEST fixture study, judged by dicom3tools' `dciodvfy`.
#[test]
fn built_manifest_passes_dciodvfy() {
    let probe = Command::new("dciodvfy").arg("-version").output();
    if probe.is_err() {
        println!("notice: dciodvfy (Debian package dicom3tools) is not installed; skipped");
        return;
    }
    let bytes = kos::build(&ct_chest_spec()).expect("the CT-CHEST manifest builds");
    let m = kos::parse(&bytes).expect("the built manifest parses");
    assert_eq!(kos_rules::validate(&m, &Rules::xds_i_b()), []);

    let path = std::env::temp_dir().join(format!("ihe-harness-kos-{}.dcm", std::process::id()));
    std::fs::write(&path, &bytes).expect("temporary file writes");
    let out = Command::new("dciodvfy")
        .arg(&path)
        .output()
        .expect("dciodvfy runs");
    let _ = std::fs::remove_file(&path);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{report}");
    let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("Error")).collect();
    assert!(errors.is_empty(), "dciodvfy errors: {errors:#?}");
}

fn ct_chest_spec() -> ManifestSpec {
    let index = root().join("fixtures/studies/index.json");
    let text = std::fs::read_to_string(&index).expect("fixtures/studies/index.json is readable");
    let all: Vec<Value> = serde_json::from_str(&text).expect("index.json is JSON");
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let ct: Vec<&Value> = all
        .iter()
        .filter(|i| i["study_alias"] == "CT-CHEST" && s(i, "sop_class") != kos::KOS_SOP_CLASS)
        .collect();
    assert!(!ct.is_empty(), "CT-CHEST has instances");
    let first = ct[0];
    ManifestSpec {
        sop_instance_uid: "2.25.111111111111111111111111111111111".to_string(),
        series_instance_uid: "2.25.222222222222222222222222222222222".to_string(),
        series_number: 999,
        instance_number: 1,
        content_date: "20260201".to_string(),
        content_time: "120000".to_string(),
        patient: Patient {
            id: Some(s(first, "patient_id")),
            name: Some(s(first, "patient_name")),
            ..Patient::default()
        },
        study: Study {
            instance_uid: Some(s(first, "study_uid")),
            accession_number: Some(s(first, "accession")),
            date: Some(s(first, "study_date")),
            ..Study::default()
        },
        manufacturer: Some("ihe-harness".to_string()),
        key_object_description: Some("CT-CHEST shared for XDS-I.b".to_string()),
        instances: ct
            .iter()
            .map(|i| ReferencedInstance {
                study_uid: s(i, "study_uid"),
                series_uid: s(i, "series_uid"),
                sop_class: s(i, "sop_class"),
                sop_instance: s(i, "sop_uid"),
                retrieve_ae_title: Some("IHE_HARNESS".to_string()),
                retrieve_location_uid: Some("1.3.6.1.4.1.21367.13.80.110".to_string()),
                retrieve_url: Some("http://127.0.0.1:8042/dicom-web".to_string()),
            })
            .collect(),
        ..ManifestSpec::default()
    }
}

#[test]
fn root_is_the_repository() {
    assert!(Path::new(&root())
        .join("fixtures/corpus/MANIFEST.json")
        .is_file());
}
