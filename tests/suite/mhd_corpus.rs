//! Every FHIR instance of `fixtures/corpus/mhd/` (MHD bundles and search responses written by IPF
//! and the IHE MHD IG, JSON and XML) gets the verdict its `MANIFEST.json` entry expects: `valid` ones
//! break no rule, `unknown` ones are judged without a panic and what they break is pinned here, so a
//! change in a verdict is seen. The FHIR Shorthand files cannot be compiled here and are skipped.

use std::path::PathBuf;

use ihe_harness::checks::mhd::{parse_fhir, validate_provide_bundle};
use ihe_harness::model::fhir::xml::order_violations;
use ihe_harness::model::fhir::Resource;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus")
}

/// The rules a file is known to break (only `unknown` verdicts may break any), with the reason.
const KNOWN: &[(&str, &[&str], &str)] = &[
    (
        "mhd/ipf-r4-mhd-test.json",
        &["MHD-05"],
        "attachment.hash is the base64 of the SHA-1's hex text, not of the 20 digest bytes",
    ),
    (
        "mhd/ipf-r4-FindDocumentReferencesResponse.xml",
        &["FHIR-02"],
        "the DocumentReference's text follows its contained resources (R4 DomainResource: text first)",
    ),
];

#[test]
fn mhd_instances_get_their_manifest_verdicts() {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.json")).expect("MANIFEST.json");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut judged = 0;
    for e in manifest.as_array().expect("array") {
        let file = e["file"].as_str().unwrap_or_default();
        if !file.starts_with("mhd/") || file.ends_with(".fsh") {
            continue;
        }
        let expected = e["expected"].as_str().unwrap_or_default();
        let bytes = std::fs::read(corpus().join(file)).expect(file);
        let ct = if file.ends_with(".xml") {
            "application/fhir+xml"
        } else {
            "application/fhir+json"
        };
        let v = parse_fhir(&bytes, Some(ct)).unwrap_or_else(|err| panic!("{file}: {err}"));
        let typed = Resource::from_json(&v);
        assert!(typed.is_ok(), "{file}: {typed:?}");
        let mut broken: Vec<&str> = Vec::new();
        if v["resourceType"] == "Bundle" && v["type"] == "transaction" {
            let comprehensive = v["meta"]["profile"].to_string().contains("Comprehensive");
            broken = validate_provide_bundle(&v, Some(ct), comprehensive)
                .iter()
                .map(|x| x.rule)
                .collect();
        }
        if file.ends_with(".xml") {
            let out_of_order =
                order_violations(&bytes, 10).unwrap_or_else(|err| panic!("{file}: {err}"));
            if !out_of_order.is_empty() {
                broken.push("FHIR-02");
            }
        }
        broken.sort();
        broken.dedup();
        let known: Vec<&str> = KNOWN
            .iter()
            .find(|(f, ..)| *f == file)
            .map(|(_, r, _)| r.to_vec())
            .unwrap_or_default();
        match expected {
            "valid" => assert!(broken.is_empty(), "{file} is valid but breaks {broken:?}"),
            _ => assert_eq!(broken, known, "{file} ({expected})"),
        }
        judged += 1;
    }
    assert_eq!(judged, 3, "the JSON and XML instances of corpus/mhd");
}

/// The IPF search answers, as a Responder's answers to ITI-67 and ITI-66, are searchset Bundles
/// (MHD-14, which now also judges ITI-66).
#[test]
fn search_answers_are_searchsets() {
    use ihe_harness::checks::{by_id, evaluate, Expect, Outcome, Subject};
    use ihe_harness::evidence::Exchange;
    use ihe_harness::transaction::Transaction;
    for (file, transaction, resource) in [
        (
            "mhd/ipf-r4-FindDocumentReferencesResponse.xml",
            Transaction::Iti67,
            "DocumentReference",
        ),
        (
            "mhd/ipf-r4-v421-FindSubmissionSetsResponse.xml",
            Transaction::Iti66,
            "List",
        ),
    ] {
        let bytes = std::fs::read(corpus().join(file)).expect(file);
        let mut ex = Exchange::synthetic(
            &format!("http://sut/fhir/{resource}?patient=Patient/1&status=current"),
            &[],
            200,
            &[("Content-Type", "application/fhir+xml")],
            &bytes,
        );
        ex.transaction = transaction;
        let check = by_id("MHD-14").expect("MHD-14");
        let f = evaluate(
            check,
            &Subject {
                exchange: &ex,
                expect: &Expect::default(),
                strict: true,
                followups: &[],
            },
        );
        assert_eq!(f.outcome, Outcome::Pass, "{file}: {}", f.message());
    }
}
