//! Unit tests of the report checks: each passes on a generated report and fails on a mutation.

use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::checks::{Expect, Subject};
use crate::evidence::Exchange;
use crate::model::fixtures::Fixtures;
use crate::model::imaging_report::{report_for_study, report_links, ReportOptions};

fn fixtures() -> Fixtures {
    Fixtures::load(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/studies")
            .as_path(),
    )
    .expect("fixtures load")
}

fn generated() -> Value {
    let f = fixtures();
    let study = f.study("CT-CHEST").expect("CT-CHEST fixture");
    report_for_study(&study, &ReportOptions::default())
}

fn exchange(doc: &Value) -> Exchange {
    Exchange::synthetic(
        "http://sut/Binary/1",
        &[],
        200,
        &[("Content-Type", "application/fhir+json")],
        doc.to_string().as_bytes(),
    )
}

fn verdict_with(id: &str, doc: &Value, expect: &Expect) -> Verdict {
    let ex = exchange(doc);
    let check = CHECKS.iter().find(|c| c.id == id).expect("check exists");
    (check.eval)(&Subject {
        exchange: &ex,
        expect,
        strict: false,
        followups: &[],
    })
}

fn verdict(id: &str, doc: &Value) -> Verdict {
    verdict_with(id, doc, &Expect::default())
}

fn is_fail(v: &Verdict) -> bool {
    matches!(v, Verdict::Fail { .. })
}

/// Index of the entry holding a resource of this type.
fn entry(doc: &Value, t: &str) -> usize {
    doc["entry"]
        .as_array()
        .and_then(|a| a.iter().position(|e| e["resource"]["resourceType"] == t))
        .expect("entry present")
}

fn res<'a>(doc: &'a mut Value, t: &str) -> &'a mut Value {
    let i = entry(doc, t);
    &mut doc["entry"][i]["resource"]
}

fn sections(doc: &mut Value) -> &mut Vec<Value> {
    res(doc, "Composition")["section"]
        .as_array_mut()
        .expect("sections")
}

#[test]
fn every_fixture_study_yields_a_clean_report() {
    let f = fixtures();
    for study in f.studies() {
        for status in ["final", "preliminary"] {
            let opts = ReportOptions {
                status: status.into(),
                ..ReportOptions::default()
            };
            let doc = report_for_study(&study, &opts);
            assert_eq!(validate_report(&doc), vec![], "{}", study.alias);
            assert_eq!(report_warnings(&doc), vec![], "{}", study.alias);
            // RPT-10 needs a manifest to compare with, RPT-14 several versions.
            for c in CHECKS
                .iter()
                .filter(|c| c.id != "RPT-10" && c.id != "RPT-14")
            {
                assert_eq!(
                    verdict(c.id, &doc),
                    Verdict::Pass,
                    "{} {}",
                    c.id,
                    study.alias
                );
            }
        }
    }
}

#[test]
fn report_is_deterministic_and_links_back() {
    let f = fixtures();
    let study = f.study("CT-CHEST").expect("fixture");
    let a = report_for_study(&study, &ReportOptions::default());
    assert_eq!(a, report_for_study(&study, &ReportOptions::default()));
    let l = report_links(&a);
    assert_eq!(l.study_uids, vec![study.uid.to_string()]);
    assert!(l.accessions.contains(&(
        ReportOptions::default().accession_system,
        "ACC00001".to_string()
    )));
    assert_eq!(l.modalities, vec!["CT".to_string()]);
    assert_eq!(l.patient[0].1, "CTH-0001");
    assert_eq!(l.identifiers.len(), 1);
}

#[test]
fn rpt01_document_bundle() {
    let mut d = generated();
    d["type"] = json!("collection");
    assert!(is_fail(&verdict("RPT-01", &d)));
    let mut d = generated();
    d["entry"].as_array_mut().expect("entries").swap(0, 1);
    assert!(is_fail(&verdict("RPT-01", &d)));
    let mut d = generated();
    d.as_object_mut().expect("object").remove("timestamp");
    assert!(is_fail(&verdict("RPT-01", &d)));
    assert!(is_fail(&verdict(
        "RPT-01",
        &json!({"resourceType": "Patient"})
    )));
}

#[test]
fn rpt02_categories() {
    let mut d = generated();
    res(&mut d, "Composition")["category"] =
        json!([res(&mut generated(), "Composition")["category"][0].clone()]);
    assert!(is_fail(&verdict("RPT-02", &d)));
    let mut d = generated();
    res(&mut d, "DiagnosticReport")["category"] = json!([]);
    assert!(is_fail(&verdict("RPT-02", &d)));
    let mut d = generated();
    res(&mut d, "Composition")
        .as_object_mut()
        .expect("o")
        .remove("type");
    assert!(is_fail(&verdict("RPT-02", &d)));
}

#[test]
fn rpt03_sections() {
    let mut d = generated();
    sections(&mut d).remove(1); // order
    assert!(is_fail(&verdict("RPT-03", &d)));
    let mut d = generated();
    let dup = sections(&mut d)[5].clone(); // impression twice
    sections(&mut d).push(dup);
    assert!(is_fail(&verdict("RPT-03", &d)));
}

#[test]
fn rpt04_invariants() {
    let mut d = generated();
    let s = &mut sections(&mut d)[2]; // history: text and note, no entries
    s.as_object_mut().expect("o").remove("extension");
    assert!(is_fail(&verdict("RPT-04", &d)));
    sections(&mut d)[2]["emptyReason"] = json!({"coding": [{"code": "nilknown"}]});
    assert_eq!(verdict("RPT-04", &d), Verdict::Pass);
    sections(&mut d)[2]
        .as_object_mut()
        .expect("o")
        .remove("text");
    assert!(is_fail(&verdict("RPT-04", &d)));
}

#[test]
fn rpt05_identifier_and_status() {
    let mut d = generated();
    res(&mut d, "DiagnosticReport")["identifier"][0]["value"] = json!("other");
    assert!(is_fail(&verdict("RPT-05", &d)));
    let mut d = generated();
    res(&mut d, "DiagnosticReport")["status"] = json!("preliminary");
    assert!(is_fail(&verdict("RPT-05", &d)));
    let mut d = generated();
    res(&mut d, "Composition")["status"] = json!("amended");
    res(&mut d, "DiagnosticReport")["status"] = json!("corrected");
    assert_eq!(verdict("RPT-05", &d), Verdict::Pass);
}

#[test]
fn rpt06_header_and_references() {
    let mut d = generated();
    res(&mut d, "Composition")
        .as_object_mut()
        .expect("o")
        .remove("title");
    assert!(is_fail(&verdict("RPT-06", &d)));
    let mut d = generated();
    let i = entry(&d, "Organization");
    d["entry"].as_array_mut().expect("entries").remove(i);
    assert!(is_fail(&verdict("RPT-06", &d)));
}

#[test]
fn rpt07_examination_report() {
    let mut d = generated();
    let st = res(&mut d, "ImagingStudy");
    st["modality"] = json!([]);
    st["series"] = json!([]);
    res(&mut d, "Composition")
        .as_object_mut()
        .expect("o")
        .remove("event");
    assert!(is_fail(&verdict("RPT-07", &d)));
    let mut d = generated();
    sections(&mut d).retain(|s| s["code"]["coding"][0]["code"] != "19005-8");
    res(&mut d, "DiagnosticReport")
        .as_object_mut()
        .expect("o")
        .remove("conclusion");
    assert!(is_fail(&verdict("RPT-07", &d)));
    let mut d = generated();
    sections(&mut d).retain(|s| s["code"]["coding"][0]["code"] != "59776-5");
    assert!(is_fail(&verdict("RPT-07", &d)));
}

#[test]
fn rpt08_and_rpt11_legal_authenticator() {
    let mut d = generated();
    res(&mut d, "Composition")["attester"][0]
        .as_object_mut()
        .expect("o")
        .remove("time");
    assert!(is_fail(&verdict("RPT-08", &d)));
    let mut d = generated();
    let org = res(&mut d, "Composition")["custodian"].clone();
    res(&mut d, "Composition")["attester"][0]["party"] = org;
    assert!(is_fail(&verdict("RPT-08", &d)));
    let mut d = generated();
    res(&mut d, "Composition")["attester"] = json!([]);
    assert!(matches!(verdict("RPT-08", &d), Verdict::NotApplicable(_)));
    assert!(is_fail(&verdict("RPT-11", &d)));
}

#[test]
fn rpt09_patient() {
    let mut d = generated();
    res(&mut d, "Patient")
        .as_object_mut()
        .expect("o")
        .remove("identifier");
    assert!(is_fail(&verdict("RPT-09", &d)));
    let mut d = generated();
    res(&mut d, "Patient")
        .as_object_mut()
        .expect("o")
        .remove("birthDate");
    assert!(is_fail(&verdict("RPT-09", &d)));
}

#[test]
fn rpt10_manifest_link() {
    let f = fixtures();
    let study = f.study("CT-CHEST").expect("fixture");
    let opts = ReportOptions::default();
    let d = report_for_study(&study, &opts);
    assert!(matches!(verdict("RPT-10", &d), Verdict::NotApplicable(_)));
    let mut e = Expect {
        report: ReportExpect {
            study_uid: Some(format!("urn:oid:{}", study.uid)),
            accession: Some((opts.accession_system.clone(), "ACC00001".into())),
            status: Some("final".into()),
            patient: Some((opts.patient_id_system.clone(), "CTH-0001".into())),
        },
        ..Expect::default()
    };
    assert_eq!(verdict_with("RPT-10", &d, &e), Verdict::Pass);
    e.report.accession = Some(("urn:oid:9.9".into(), "ACC00001".into()));
    assert!(is_fail(&verdict_with("RPT-10", &d, &e)));
    e.report.accession = None;
    e.report.study_uid = Some("1.2.3".into());
    assert!(is_fail(&verdict_with("RPT-10", &d, &e)));
}

#[test]
fn rpt12_and_rpt13() {
    let mut d = generated();
    res(&mut d, "Composition")
        .as_object_mut()
        .expect("o")
        .remove("custodian");
    assert!(is_fail(&verdict("RPT-12", &d)));
    let mut d = generated();
    res(&mut d, "Composition")["type"] =
        json!({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "93351"}]});
    assert!(is_fail(&verdict("RPT-13", &d)));
    assert_eq!(verdict("RPT-02", &d), Verdict::Pass);
}

#[test]
fn hostile_and_irrelevant_bodies() {
    let hostile = [
        json!(null),
        json!([]),
        json!({"resourceType": "Bundle", "type": "document", "entry": "x"}),
        json!({"resourceType": "Bundle", "type": "document", "entry": [1, null, {"resource": 3}]}),
        json!({"resourceType": "Bundle", "type": "document", "entry": [{"resource": {"resourceType": "Composition",
            "section": [{"code": 5, "section": "x", "entry": {}}], "attester": [{"mode": "legal", "party": 1}],
            "identifier": [1], "category": [{"coding": 7}]}}]}),
    ];
    for h in &hostile {
        for c in CHECKS {
            let _ = verdict(c.id, h);
        }
        let _ = validate_report(h);
        let _ = validate_resource(h);
        let _ = report_warnings(h);
        let _ = report_links(h);
    }
    let html = Exchange::synthetic(
        "http://x",
        &[],
        200,
        &[("Content-Type", "text/html")],
        b"<p>",
    );
    let check = &CHECKS[0];
    let v = (check.eval)(&Subject {
        exchange: &html,
        expect: &Expect::default(),
        strict: false,
        followups: &[],
    });
    assert!(matches!(v, Verdict::NotApplicable(_)));
    for c in CHECKS {
        assert!(
            c.requirement.contains("HL7") && c.requirement.contains('§'),
            "{}",
            c.id
        );
    }
}

#[test]
fn standalone_resources_get_their_rules() {
    let mut d = generated();
    let comp = res(&mut d, "Composition").clone();
    assert_eq!(validate_resource(&comp), vec![]);
    let mut bad = comp.clone();
    bad["category"] = json!([]);
    assert!(validate_resource(&bad).iter().any(|v| v.rule == "RPT-02"));
    assert_eq!(
        validate_resource(&json!({"resourceType": "Observation"})),
        vec![]
    );
}

#[test]
fn rpt_14_versions_share_the_identifier() {
    let f = fixtures();
    let Some(study) = f.study("MR-BRAIN") else {
        panic!("fixture study MR-BRAIN");
    };
    let version = |status: &str| {
        report_for_study(
            &study,
            &ReportOptions {
                status: status.into(),
                ..ReportOptions::default()
            },
        )
    };
    let check = CHECKS
        .iter()
        .find(|c| c.id == "RPT-14")
        .expect("RPT-14 registered");
    let judge = |first: &Value, others: &[Value]| {
        let ex = exchange(first);
        let followups: Vec<_> = others.iter().map(exchange).collect();
        (check.eval)(&Subject {
            exchange: &ex,
            expect: &Expect::default(),
            strict: false,
            followups: &followups,
        })
    };
    let prelim = version("preliminary");
    let fin = version("final");
    assert_eq!(judge(&prelim, std::slice::from_ref(&fin)), Verdict::Pass);
    assert!(matches!(judge(&prelim, &[]), Verdict::NotApplicable(_)));
    // A final version that carries another business identifier.
    let mut other = fin.clone();
    let i = entry(&other, "Composition");
    other["entry"][i]["resource"]["identifier"] =
        json!({"system": "urn:oid:1.2.3", "value": "other"});
    assert!(is_fail(&judge(&prelim, &[other])));
}
