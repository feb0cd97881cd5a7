//! What the harness sends and publishes over MHD, as reviewed snapshots: an ITI-65 Provide
//! Document Bundle (Minimal metadata), the ITI-65 transaction that publishes a study's documents to
//! a real Recipient in load mode, the MADO FHIR manifest of a fixture study, and the HL7 Europe
//! imaging report of another. Everything is deterministic (UIDs derive from the fixture UIDs);
//! only the base64 `data` of the Binaries is redacted to its length, since the documents themselves
//! are checked elsewhere (hash and size in the bundle, content by the MADO and report validators).

use std::path::PathBuf;

use ihe_harness::checks::mado::rules as mado_rules;
use ihe_harness::model::fhir::{CodeableConcept, Coding, Identifier};
use ihe_harness::model::fixtures::mhd as mhd_content;
use ihe_harness::model::fixtures::Fixtures;
use ihe_harness::model::imaging_report::{report_for_study, ReportOptions};
use ihe_harness::model::kos;
use ihe_harness::model::mado::{self, MadoOptions};
use ihe_harness::model::mhd_bundle::{build_provide_bundle, DocumentSpec, ProvideSpec};

fn fixtures() -> Fixtures {
    Fixtures::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies"))
        .expect("fixtures")
}

/// Replace every Binary's base64 `data` by its length.
fn redact_data(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(entries) = v.get_mut("entry").and_then(|e| e.as_array_mut()) {
        for e in entries {
            if let Some(d) = e.pointer_mut("/resource/data") {
                let n = d.as_str().map(str::len).unwrap_or(0);
                *d = serde_json::Value::String(format!("[base64, {n} characters]"));
            }
        }
    }
    v
}

#[test]
fn iti65_minimal_bundle_of_one_document() {
    let spec = ProvideSpec {
        patient: "Patient/cth-0001".into(),
        comprehensive: false,
        submission_set_unique_id: "urn:oid:1.2.3.4.5.1".into(),
        source_id: "urn:oid:1.3.6.1.4.1.21367.13.80.130".into(),
        date: "2026-01-15T09:00:00+01:00".into(),
        documents: vec![DocumentSpec {
            bytes: b"a small imaging report".to_vec(),
            content_type: "application/fhir+json".into(),
            format: Coding::new(
                "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode",
                "urn:ihe:iti:xds-sd:text:2008",
                "",
            ),
            type_: CodeableConcept::code(
                "http://loinc.org",
                "85430-7",
                "Diagnostic imaging report",
            ),
            category: CodeableConcept::code(
                mhd_content::PRIORITY_CATEGORY,
                "Medical-Imaging",
                "Medical-Imaging",
            ),
            master_identifier: "urn:oid:1.2.3.4.5.2".into(),
            related: vec![Identifier::new("urn:dicom:uid", "urn:oid:1.2.3.4.5.6")],
            period_start: Some("2026-01-15T09:00:00+01:00".into()),
            language: "en".into(),
            creation: "2026-01-15T09:00:00+01:00".into(),
            ..DocumentSpec::default()
        }],
        ..ProvideSpec::default()
    };
    insta::assert_json_snapshot!(build_provide_bundle(&spec));
}

#[test]
fn iti65_load_mode_transaction_of_a_study() {
    let f = fixtures();
    let cat = mhd_content::catalogue(&f, &Default::default());
    let bundle = cat
        .provide_bundle("US-ABDOMEN", Some("Patient/123"))
        .expect("bundle");
    insta::assert_json_snapshot!(redact_data(bundle));
}

#[test]
fn mado_fhir_manifest_of_a_study() {
    let f = fixtures();
    let study = f.study("DX-CHEST").expect("DX-CHEST");
    let opts = MadoOptions::default();
    let bytes = mado::build_mado_kos(&study, &opts).expect("MADO KOS");
    let manifest = kos::parse(&bytes).expect("parses");
    let fhir = mado::fhir_manifest(&manifest, &opts);
    assert!(mado_rules::validate_fhir_manifest(&fhir).is_empty());
    insta::assert_json_snapshot!(fhir);
}

#[test]
fn imaging_report_of_a_study() {
    let f = fixtures();
    let study = f.study("DX-CHEST").expect("DX-CHEST");
    let report = report_for_study(&study, &ReportOptions::default());
    insta::assert_json_snapshot!(report);
}
