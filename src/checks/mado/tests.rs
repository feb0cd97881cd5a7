use std::path::Path;

use super::*;
use crate::checks::{evaluate, Expect, Outcome};
use crate::evidence::Exchange;
use crate::model::fixtures::Fixtures;
use crate::model::mado::{build_mado_kos, fhir_manifest, MadoOptions};

fn built() -> (Vec<u8>, serde_json::Value) {
    let fx =
        Fixtures::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies")).unwrap();
    let study = fx.studies().remove(0);
    let opts = MadoOptions::default();
    let bytes = build_mado_kos(&study, &opts).unwrap();
    let f = fhir_manifest(&kos::parse(&bytes).unwrap(), &opts);
    (bytes, f)
}

fn exchange(ct: &str, body: &[u8]) -> Exchange {
    Exchange::synthetic(
        "http://sut/Binary/1",
        &[],
        200,
        &[("Content-Type", ct)],
        body,
    )
}

fn outcome(id: &str, ex: &Exchange, expect: &Expect) -> Outcome {
    let check = CHECKS.iter().find(|c| c.id == id).unwrap();
    evaluate(
        check,
        &Subject {
            exchange: ex,
            expect,
            strict: true,
            followups: &[],
        },
    )
    .outcome
}

#[test]
fn ids_are_unique_and_requirements_cite_a_section() {
    let all: Vec<&str> = crate::checks::registry().map(|c| c.id).collect();
    for c in CHECKS {
        assert_eq!(all.iter().filter(|i| **i == c.id).count(), 1, "{}", c.id);
        assert!(c.requirement.contains('§'), "{}", c.id);
        assert!(
            ["IHE", "PS3.", "HL7"]
                .iter()
                .any(|d| c.requirement.contains(d)),
            "{}",
            c.id
        );
    }
}

#[test]
fn kos_checks_pass_on_a_built_manifest_and_fail_on_a_plain_one() {
    let (bytes, _) = built();
    let e = Expect::default();
    let ex = exchange("application/dicom", &bytes);
    for id in ["KOS-12", "KOS-13", "KOS-14", "KOS-15", "KOS-17"] {
        assert_eq!(outcome(id, &ex, &e), Outcome::Pass, "{id}");
    }
    let pos = bytes.windows(11).position(|w| w == b"MADOTEMP001").unwrap();
    let mut retitled = bytes.clone();
    retitled[pos..pos + 11].copy_from_slice(b"MADOTEMP000");
    assert_eq!(
        outcome("KOS-12", &exchange("application/dicom", &retitled), &e),
        Outcome::Fail
    );
    assert_eq!(
        outcome("KOS-12", &exchange("text/plain", b"x"), &e),
        Outcome::NotApplicable
    );
}

#[test]
fn fhir_checks_pass_on_the_twin_and_fail_on_a_mutation() {
    let (bytes, f) = built();
    let mut e = Expect::default();
    e.mado.twin_kos = Some(bytes::Bytes::from(bytes.clone()));
    let body = serde_json::to_vec(&f).unwrap();
    let ex = exchange("application/fhir+json", &body);
    for c in CHECKS.iter().filter(|c| {
        c.id.starts_with("MADO-")
            && !["MADO-C2", "MADO-C3", "MADO-C4", "MADO-C5", "MADO-C6"].contains(&c.id)
    }) {
        assert_eq!(outcome(c.id, &ex, &e), Outcome::Pass, "{}", c.id);
    }
    let mut g = f.clone();
    g["type"] = "collection".into();
    let ex2 = exchange("application/fhir+json", &serde_json::to_vec(&g).unwrap());
    assert_eq!(outcome("MADO-01", &ex2, &e), Outcome::Fail);
    let mut g = f;
    if let Some(entries) = g["entry"].as_array_mut() {
        for en in entries {
            if en["resource"]["resourceType"] == "ImagingStudy" {
                en["resource"]["series"][0]["instance"]
                    .as_array_mut()
                    .unwrap()
                    .pop();
            }
        }
    }
    let ex3 = exchange("application/fhir+json", &serde_json::to_vec(&g).unwrap());
    assert_eq!(outcome("MADO-C1", &ex3, &e), Outcome::Fail);
}

#[test]
fn holdings_and_docref_checks() {
    let (bytes, _) = built();
    let m = kos::parse(&bytes).unwrap();
    let ex = exchange("application/dicom", &bytes);
    let mut e = Expect::default();
    assert_eq!(outcome("MADO-C2", &ex, &e), Outcome::NotApplicable);
    let mut held = mado::kos_references(&m);
    e.mado.held = Some(held.clone());
    assert_eq!(outcome("MADO-C2", &ex, &e), Outcome::Pass);
    if let Some((_, set)) = held.iter_mut().next() {
        set.insert("2.25.1".to_string());
    }
    e.mado.held = Some(held);
    assert_eq!(outcome("MADO-C2", &ex, &e), Outcome::Fail);
    let study = m.study.instance_uid.clone().unwrap();
    e.mado.docref = Some(
        serde_json::json!({"context": {"related": [{"identifier": {"system": "urn:dicom:uid", "value": study}}]}}),
    );
    assert_eq!(
        outcome("MADO-C3", &ex, &e),
        Outcome::Fail,
        "modality extension missing"
    );
    e.mado.docref = Some(serde_json::json!({"context": {"related": []}}));
    assert_eq!(outcome("MADO-C3", &ex, &e), Outcome::Fail);
}

#[test]
fn registered_kos_checks_are_the_mado_only_rules() {
    let registered: Vec<&str> = CHECKS
        .iter()
        .map(|c| c.id)
        .filter(|i| i.starts_with("KOS-"))
        .collect();
    for r in crate::checks::kos::rules::RULES {
        let mado_only = r.mado.is_some() && r.xds_i_b.is_none();
        assert_eq!(registered.contains(&r.id), mado_only, "{}", r.id);
    }
}

#[test]
fn kos_16_and_19_through_an_exchange() {
    let (bytes, _) = built();
    let e = Expect::default();
    let ex = exchange("application/dicom", &bytes);
    assert_eq!(outcome("KOS-16", &ex, &e), Outcome::Pass);
    assert_eq!(outcome("KOS-19", &ex, &e), Outcome::Pass);
    let b = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/mado/mado-MADO_KOS_B.dcm"),
    )
    .unwrap();
    let pos = b
        .windows(17)
        .position(|w| w == b"https://dicomview")
        .unwrap();
    let mut broken = b.clone();
    broken[pos..pos + 5].copy_from_slice(b"ftp:/");
    assert_eq!(
        outcome("KOS-19", &exchange("application/dicom", &b), &e),
        Outcome::Pass
    );
    assert_eq!(
        outcome("KOS-19", &exchange("application/dicom", &broken), &e),
        Outcome::Fail
    );
}

#[test]
fn kos_12_follows_the_configured_code_table() {
    let (bytes, _) = built();
    let ex = exchange("application/dicom", &bytes);
    let mut e = Expect::default();
    assert_eq!(outcome("KOS-12", &ex, &e), Outcome::Pass);
    e.mado.code_table = CodeTable::DicomFinal;
    assert_eq!(outcome("KOS-12", &ex, &e), Outcome::Fail);
}

#[test]
fn hostile_bodies_do_not_panic() {
    let mut e = Expect::default();
    e.mado.twin_kos = Some(bytes::Bytes::from_static(b"DICM"));
    e.mado.held = Some(BTreeMap::new());
    e.mado.docref = Some(serde_json::json!([1, 2]));
    for body in [
        &b"{}"[..],
        b"[]",
        b"{\"resourceType\":\"Bundle\",\"entry\":[1,{\"resource\":7}]}",
        b"\x00\xff",
    ] {
        for ct in ["application/fhir+json", "application/dicom"] {
            let ex = exchange(ct, body);
            for c in CHECKS {
                let _ = outcome(c.id, &ex, &e);
            }
        }
    }
}

/// Judged in one pass, the family gives each check the finding it gives alone, and every rule
/// check belongs to a group.
#[test]
fn one_pass_gives_the_findings_of_each_check_alone() {
    let (bytes, fhir) = built();
    let fhir = serde_json::to_vec(&fhir).unwrap();
    let exchanges = [
        exchange("application/dicom", &bytes),
        exchange("application/dicom", b"not a manifest"),
        exchange("application/fhir+json", &fhir),
        exchange("application/fhir+json", br#"{"resourceType":"Bundle"}"#),
    ];
    let expect = Expect::default();
    let key = |f: crate::checks::Finding| (f.check, f.outcome, f.expected, f.actual);
    let mut failed = false;
    for ex in &exchanges {
        let subject = Subject {
            exchange: ex,
            expect: &expect,
            strict: true,
            followups: &[],
        };
        let alone: Vec<_> = CHECKS.iter().map(|c| key(evaluate(c, &subject))).collect();
        let once: Vec<_> = crate::checks::evaluate_all(CHECKS, &subject)
            .into_iter()
            .map(key)
            .collect();
        assert_eq!(once, alone);
        failed |= once.iter().any(|f| f.1 == Outcome::Fail);
    }
    assert!(failed);
    for c in CHECKS {
        assert_eq!(
            group_of(c).is_none(),
            c.id.starts_with("MADO-C"),
            "{}",
            c.id
        );
    }
}
