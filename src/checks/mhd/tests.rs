//! Each MHD check with an exchange where it passes and one where it fails.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{json, Value};

use super::*;
use crate::checks::{evaluate, Expect, Outcome, Subject};
use crate::evidence::{Body, Exchange, HttpRequest, HttpResponse};
use crate::model::fhir::{
    CodeableConcept, Coding, Extension, Identifier, DCMUID_SYSTEM, DCM_SYSTEM, DICOM_UID_SYSTEM,
};
use crate::model::mhd_bundle::{build_provide_bundle, DocumentSpec, ProvideSpec, EXT_MODALITY};

const KOS_UID: &str = "1.2.3.4.5.6.7";
const STUDY_UID: &str = "1.2.3.4.5";

fn kos_doc() -> DocumentSpec {
    let mut study = Identifier::new(DICOM_UID_SYSTEM, &format!("urn:oid:{STUDY_UID}"));
    study.type_ = Some(CodeableConcept::code(
        DCM_SYSTEM,
        "110180",
        "Study Instance UID",
    ));
    DocumentSpec {
        bytes: b"DICM kos bytes".to_vec(),
        content_type: "application/dicom".into(),
        format: Coding::new(DCMUID_SYSTEM, KOS_SOP_CLASS, "KOS"),
        type_: CodeableConcept::code("http://loinc.org", "18748-4", "Diagnostic imaging study"),
        category: CodeableConcept::code("http://loinc.org", "18726-0", "Radiology studies"),
        master_identifier: format!("urn:oid:{KOS_UID}"),
        related: vec![study],
        extensions: vec![Extension::with(
            EXT_MODALITY,
            "valueCoding",
            json!({"system": DCM_SYSTEM, "code": "CT"}),
        )],
        period_start: Some("2026-01-02T03:04:05Z".into()),
        language: "en".into(),
        creation: "2026-01-02T03:04:05Z".into(),
        title: Some("KOS".into()),
        ..DocumentSpec::default()
    }
}

fn spec(comprehensive: bool) -> ProvideSpec {
    ProvideSpec {
        patient: "Patient/123".into(),
        comprehensive,
        submission_set_unique_id: "urn:oid:1.2.3.99".into(),
        source_id: "urn:oid:1.2.3".into(),
        date: "2026-01-02T03:04:05Z".into(),
        documents: vec![kos_doc()],
        ..ProvideSpec::default()
    }
}

fn bundle() -> Value {
    build_provide_bundle(&spec(false))
}

/// The SUT's request, as a simulator records it.
fn inbound(
    transaction: Transaction,
    method: &str,
    url: &str,
    ct: Option<&str>,
    body: &[u8],
) -> Exchange {
    let mut ex = Exchange::synthetic(url, &[], 200, &[], b"");
    ex.transaction = transaction;
    ex.direction = Direction::Inbound;
    ex.request = HttpRequest {
        method: method.into(),
        url: url.into(),
        headers: ct
            .map(|c| vec![("Content-Type".to_string(), c.to_string())])
            .unwrap_or_default(),
        body: Body::from_bytes(bytes::Bytes::copy_from_slice(body)),
    };
    ex.response = Some(HttpResponse {
        status: 200,
        headers: Vec::new(),
        body: Body::default(),
    });
    ex
}

fn provide(b: &Value) -> Exchange {
    inbound(
        Transaction::Iti65,
        "POST",
        "http://harness/fhir",
        Some("application/fhir+json"),
        &serde_json::to_vec(b).unwrap_or_default(),
    )
}

/// The SUT's response to the harness.
fn outbound(transaction: Transaction, url: &str, status: u16, ct: &str, body: &[u8]) -> Exchange {
    let mut ex = Exchange::synthetic(url, &[], status, &[("Content-Type", ct)], body);
    ex.transaction = transaction;
    ex
}

fn outcome(id: &str, ex: &Exchange, expect: &Expect) -> Outcome {
    outcome_with(id, ex, expect, &[])
}

fn outcome_with(id: &str, ex: &Exchange, expect: &Expect, followups: &[Exchange]) -> Outcome {
    let check = CHECKS
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id}"));
    let s = Subject {
        exchange: ex,
        expect,
        strict: true,
        followups,
    };
    evaluate(check, &s).outcome
}

fn failing(ex: &Exchange, expect: &Expect) -> BTreeSet<&'static str> {
    CHECKS
        .iter()
        .filter(|c| outcome(c.id, ex, expect) == Outcome::Fail)
        .map(|c| c.id)
        .collect()
}

fn comprehensive() -> Expect {
    let mut e = Expect::default();
    e.mhd.comprehensive = true;
    e
}

fn imaging() -> Expect {
    let mut e = Expect::default();
    e.mhd.imaging = true;
    e
}

/// Index of the first entry of a resource type.
fn idx(b: &Value, rt: &str) -> usize {
    arr(b, "entry")
        .iter()
        .position(|e| resource_type(e) == rt)
        .unwrap_or(usize::MAX)
}

fn dr_mut(b: &mut Value) -> &mut Value {
    let i = idx(b, "DocumentReference");
    &mut b["entry"][i]["resource"]
}

#[test]
fn built_bundles_pass_everything() {
    let ex = provide(&bundle());
    assert!(
        failing(&ex, &imaging()).is_empty(),
        "{:?}",
        failing(&ex, &imaging())
    );
    let ex = provide(&build_provide_bundle(&spec(true)));
    let mut e = comprehensive();
    e.mhd.imaging = true;
    assert!(
        failing(&ex, &e).is_empty(),
        "{:?}",
        validate_provide_bundle(&bundle(), None, true)
    );
    assert_eq!(outcome("MHD-06", &ex, &e), Outcome::Pass);
    // The harness's own bundle (outbound) is not judged.
    let mut out = ex.clone();
    out.direction = Direction::Outbound;
    assert_eq!(outcome("MHD-01", &out, &e), Outcome::NotApplicable);
}

#[test]
fn fhir_01() {
    let e = Expect::default();
    assert_eq!(outcome("FHIR-01", &provide(&bundle()), &e), Outcome::Pass);
    let xml_body = crate::model::fhir::xml::from_json(&bundle()).expect("xml");
    let ex = inbound(
        Transaction::Iti65,
        "POST",
        "http://h/fhir",
        Some("application/fhir+xml"),
        xml_body.as_bytes(),
    );
    assert_eq!(outcome("FHIR-01", &ex, &e), Outcome::Pass);
    assert!(failing(&ex, &e).is_empty(), "{:?}", failing(&ex, &e));
    let ex = inbound(
        Transaction::Iti65,
        "POST",
        "http://h/fhir",
        Some("application/fhir+json"),
        b"{not json",
    );
    assert_eq!(outcome("FHIR-01", &ex, &e), Outcome::Fail);
    let ex = provide(&json!({"resourceType": "Patient"}));
    assert_eq!(outcome("FHIR-01", &ex, &e), Outcome::Fail);
    let ex = inbound(
        Transaction::Iti65,
        "POST",
        "http://h/fhir",
        Some("application/fhir+xml"),
        b"<Bundle/>",
    );
    assert_eq!(outcome("FHIR-01", &ex, &e), Outcome::Fail);
}

#[test]
fn mhd_01() {
    let e = Expect::default();
    let mut b = bundle();
    b["type"] = json!("batch");
    assert_eq!(outcome("MHD-01", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    b["meta"]["profile"] = json!(["http://example.org/x"]);
    assert_eq!(outcome("MHD-01", &provide(&b), &e), Outcome::Fail);
    let ex = inbound(
        Transaction::Iti65,
        "POST",
        "http://h/fhir",
        Some("application/json"),
        &serde_json::to_vec(&bundle()).unwrap_or_default(),
    );
    assert_eq!(outcome("MHD-01", &ex, &e), Outcome::Fail);
    assert_eq!(outcome("MHD-01", &provide(&bundle()), &e), Outcome::Pass);
}

#[test]
fn mhd_02() {
    let e = Expect::default();
    assert_eq!(outcome("MHD-02", &provide(&bundle()), &e), Outcome::Pass);
    let mut b = bundle();
    let i = idx(&b, "List");
    b["entry"][i]["resource"]["mode"] = json!("snapshot");
    assert_eq!(outcome("MHD-02", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    if let Some(a) = b["entry"].as_array_mut() {
        a.remove(i);
    }
    assert_eq!(outcome("MHD-02", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    b["entry"][i]["resource"]["extension"] = json!([]);
    assert_eq!(outcome("MHD-02", &provide(&b), &e), Outcome::Fail);
}

#[test]
fn mhd_03() {
    let e = Expect::default();
    assert_eq!(outcome("MHD-03", &provide(&bundle()), &e), Outcome::Pass);
    let mut b = bundle();
    dr_mut(&mut b)["docStatus"] = json!("final");
    assert_eq!(outcome("MHD-03", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    dr_mut(&mut b)["content"][0]["attachment"]["data"] = json!("AAAA");
    assert_eq!(outcome("MHD-03", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    dr_mut(&mut b)["status"] = json!("entered-in-error");
    assert_eq!(outcome("MHD-03", &provide(&b), &e), Outcome::Fail);
}

#[test]
fn mhd_04() {
    let e = Expect::default();
    assert_eq!(outcome("MHD-04", &provide(&bundle()), &e), Outcome::Pass);
    let mut b = bundle();
    dr_mut(&mut b)["content"][0]["attachment"]["url"] =
        json!("urn:uuid:00000000-0000-0000-0000-000000000000");
    assert_eq!(outcome("MHD-04", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    let list_url = b["entry"][0]["fullUrl"].clone();
    dr_mut(&mut b)["content"][0]["attachment"]["url"] = list_url;
    assert_eq!(outcome("MHD-04", &provide(&b), &e), Outcome::Fail);
}

#[test]
fn mhd_05() {
    let e = Expect::default();
    assert_eq!(outcome("MHD-05", &provide(&bundle()), &e), Outcome::Pass);
    let mut b = bundle();
    dr_mut(&mut b)["content"][0]["attachment"]["size"] = json!(1);
    assert_eq!(outcome("MHD-05", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    dr_mut(&mut b)["content"][0]["attachment"]["hash"] = json!("2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    assert_eq!(outcome("MHD-05", &provide(&b), &e), Outcome::Fail);
}

#[test]
fn mhd_06() {
    let ex = provide(&bundle());
    assert_eq!(
        outcome("MHD-06", &ex, &Expect::default()),
        Outcome::NotApplicable
    );
    assert_eq!(outcome("MHD-06", &ex, &comprehensive()), Outcome::Fail);
    let mut b = build_provide_bundle(&spec(true));
    assert_eq!(
        outcome("MHD-06", &provide(&b), &comprehensive()),
        Outcome::Pass
    );
    dr_mut(&mut b)["context"]["sourcePatientInfo"] = json!({"reference": "Patient/9"});
    assert_eq!(
        outcome("MHD-06", &provide(&b), &comprehensive()),
        Outcome::Fail
    );
}

#[test]
fn mhd_07() {
    let e = Expect::default();
    assert_eq!(outcome("MHD-07", &provide(&bundle()), &e), Outcome::Pass);
    let mut b = bundle();
    dr_mut(&mut b)["identifier"][0]["value"] = json!("1234");
    assert_eq!(outcome("MHD-07", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    let i = idx(&b, "List");
    b["entry"][i]["resource"]["identifier"][1]["value"] = json!("1.2.3");
    assert_eq!(outcome("MHD-07", &provide(&b), &e), Outcome::Fail);
}

#[test]
fn mhd_08() {
    let e = Expect::default();
    assert_eq!(outcome("MHD-08", &provide(&bundle()), &e), Outcome::Pass);
    let mut b = bundle();
    dr_mut(&mut b)["subject"] = json!({"reference": "Patient/999"});
    assert_eq!(outcome("MHD-08", &provide(&b), &e), Outcome::Fail);
    let mut b = bundle();
    dr_mut(&mut b)["subject"] = json!({"reference": "Practitioner/123"});
    let i = idx(&b, "List");
    b["entry"][i]["resource"]["subject"] = json!({"reference": "Practitioner/123"});
    assert_eq!(outcome("MHD-08", &provide(&b), &e), Outcome::Fail);
}

fn transaction_response(n: usize) -> Value {
    let entries: Vec<Value> = (0..n)
        .map(|i| json!({"response": {"status": "201 Created", "location": format!("X/{i}/_history/1")}}))
        .collect();
    json!({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
}

fn recipient(resp: &Value, status: u16) -> Exchange {
    let mut ex = outbound(
        Transaction::Iti65,
        "http://sut/fhir",
        status,
        "application/fhir+json",
        &serde_json::to_vec(resp).unwrap_or_default(),
    );
    ex.request.method = "POST".into();
    ex.request.headers = vec![("Content-Type".into(), "application/fhir+json".into())];
    ex.request.body = Body::from_bytes(bytes::Bytes::from(
        serde_json::to_vec(&bundle()).unwrap_or_default(),
    ));
    ex
}

#[test]
fn mhd_09() {
    let e = Expect::default();
    let mut ok = transaction_response(3);
    for (i, rt) in ["List", "DocumentReference", "Binary"].iter().enumerate() {
        ok["entry"][i]["response"]["location"] = json!(format!("{rt}/{i}/_history/1"));
    }
    assert_eq!(outcome("MHD-09", &recipient(&ok, 200), &e), Outcome::Pass);
    assert_eq!(
        outcome("MHD-09", &recipient(&transaction_response(2), 200), &e),
        Outcome::Fail
    );
    let mut bad = ok.clone();
    bad["entry"][1]["response"]["status"] = json!("200 OK");
    assert_eq!(outcome("MHD-09", &recipient(&bad, 200), &e), Outcome::Fail);
    let mut swapped = ok.clone();
    swapped["entry"][0]["response"]["location"] = json!("Binary/1");
    assert_eq!(
        outcome("MHD-09", &recipient(&swapped, 200), &e),
        Outcome::Fail
    );
    assert_eq!(outcome("MHD-09", &recipient(&ok, 201), &e), Outcome::Fail);
    // Not judged on the SUT's own request.
    assert_eq!(
        outcome("MHD-09", &provide(&bundle()), &e),
        Outcome::NotApplicable
    );
}

#[test]
fn mhd_10() {
    let e = Expect::default();
    let mut s = spec(false);
    s.documents[0].relates_to = Some(("replaces".into(), "DocumentReference/old".into()));
    let b = build_provide_bundle(&s);
    assert_eq!(outcome("MHD-10", &provide(&b), &e), Outcome::Pass);
    let mut b2 = b.clone();
    if let Some(a) = b2["entry"].as_array_mut() {
        a.retain(|x| method(x) != "PATCH");
    }
    assert_eq!(outcome("MHD-10", &provide(&b2), &e), Outcome::Fail);
}

#[test]
fn mhd_11_and_12() {
    let e = Expect::default();
    let ok = inbound(
        Transaction::Iti67,
        "GET",
        "http://h/fhir/DocumentReference?patient=Patient/1&status=current",
        None,
        b"",
    );
    assert_eq!(outcome("MHD-11", &ok, &e), Outcome::Pass);
    let bad = inbound(Transaction::Iti67, "GET", "http://h/fhir/DocumentReference?patient=Patient/1&status=http://hl7.org/fhir/document-reference-status%7Ccurrent", None, b"");
    assert_eq!(outcome("MHD-11", &bad, &e), Outcome::Fail);
    let form = inbound(
        Transaction::Iti67,
        "POST",
        "http://h/fhir/DocumentReference/_search",
        Some("application/x-www-form-urlencoded"),
        b"patient.identifier=urn:oid:1.2%7C5&status=current",
    );
    assert_eq!(outcome("MHD-11", &form, &e), Outcome::Pass);
    let form = inbound(
        Transaction::Iti67,
        "POST",
        "http://h/fhir/DocumentReference/_search",
        Some("application/x-www-form-urlencoded"),
        b"status=current",
    );
    assert_eq!(outcome("MHD-11", &form, &e), Outcome::Fail);
    let ok = inbound(
        Transaction::Iti66,
        "GET",
        "http://h/fhir/List?patient=Patient/1&code=submissionset&status=current",
        None,
        b"",
    );
    assert_eq!(outcome("MHD-12", &ok, &e), Outcome::Pass);
    let bad = inbound(
        Transaction::Iti66,
        "GET",
        "http://h/fhir/List?patient=Patient/1&status=current",
        None,
        b"",
    );
    assert_eq!(outcome("MHD-12", &bad, &e), Outcome::Fail);
    let path_only = inbound(
        Transaction::Iti66,
        "GET",
        "/fhir/List?patient.identifier=urn:oid:1.2%7C5&code=folder&status=current",
        None,
        b"",
    );
    assert_eq!(outcome("MHD-12", &path_only, &e), Outcome::Pass);
}

fn searchset(resources: &[Value]) -> Value {
    let entries: Vec<Value> = resources
        .iter()
        .map(|r| json!({"fullUrl": "http://sut/fhir/X/1", "resource": r, "search": {"mode": "match"}}))
        .collect();
    json!({"resourceType": "Bundle", "type": "searchset", "total": resources.len(), "entry": entries})
}

fn kos_dr() -> Value {
    let b = build_provide_bundle(&spec(true));
    b["entry"][idx(&b, "DocumentReference")]["resource"].clone()
}

fn search_response(url: &str, resources: &[Value]) -> Exchange {
    outbound(
        Transaction::Iti67,
        url,
        200,
        "application/fhir+json",
        &serde_json::to_vec(&searchset(resources)).unwrap_or_default(),
    )
}

#[test]
fn mhd_13() {
    let e = Expect::default();
    let ok = search_response(
        "http://sut/fhir/DocumentReference?patient=Patient/123&status=current",
        &[],
    );
    assert_eq!(outcome("MHD-13", &ok, &e), Outcome::Pass);
    let bad = search_response(
        "http://sut/fhir/DocumentReference?patient=Patient/123&status=current&_format=xml",
        &[],
    );
    assert_eq!(outcome("MHD-13", &bad, &e), Outcome::Fail);
    let xml_body = crate::model::fhir::xml::from_json(&searchset(&[kos_dr()])).expect("xml");
    let ok = outbound(
        Transaction::Iti67,
        "http://sut/fhir/DocumentReference?_format=xml",
        200,
        "application/fhir+xml",
        xml_body.as_bytes(),
    );
    assert_eq!(outcome("MHD-13", &ok, &e), Outcome::Pass);
    assert_eq!(outcome("FHIR-01", &ok, &e), Outcome::Pass);
    let mut post = outbound(
        Transaction::Iti67,
        "http://sut/fhir/DocumentReference/_search",
        405,
        "application/fhir+json",
        b"",
    );
    post.request.method = "POST".into();
    assert_eq!(outcome("MHD-13", &post, &e), Outcome::Fail);
}

#[test]
fn mhd_14() {
    let mut e = Expect::default();
    e.mhd.known_matches = Some(BTreeSet::new());
    let empty = search_response(
        "http://sut/fhir/DocumentReference?patient=Patient/9&status=current",
        &[],
    );
    assert_eq!(outcome("MHD-14", &empty, &e), Outcome::Pass);
    let some = search_response(
        "http://sut/fhir/DocumentReference?patient=Patient/9&status=current",
        &[kos_dr()],
    );
    assert_eq!(outcome("MHD-14", &some, &e), Outcome::Fail);
    let nf = outbound(
        Transaction::Iti67,
        "http://sut/fhir/DocumentReference?patient=Patient/9&status=current",
        404,
        "application/fhir+json",
        b"",
    );
    assert_eq!(outcome("MHD-14", &nf, &e), Outcome::Fail);
    let batch = outbound(
        Transaction::Iti67,
        "http://sut/fhir/DocumentReference?patient=Patient/9",
        200,
        "application/fhir+json",
        br#"{"resourceType":"Bundle","type":"batch-response"}"#,
    );
    assert_eq!(outcome("MHD-14", &batch, &Expect::default()), Outcome::Fail);
}

fn retrieve(status: u16, ct: &str, body: &[u8]) -> Exchange {
    outbound(
        Transaction::Iti68,
        "http://sut/fhir/Binary/1",
        status,
        ct,
        body,
    )
}

fn doc_expect(body: &[u8]) -> Expect {
    let mut e = Expect::default();
    e.mhd.document = Some(ExpectedDocument {
        content_type: Some("application/dicom".into()),
        size: Some(body.len() as u64),
        hash: Some(sha1_base64(body)),
    });
    e
}

#[test]
fn mhd_15() {
    let e = doc_expect(b"doc");
    assert_eq!(
        outcome("MHD-15", &retrieve(200, "application/dicom", b"doc"), &e),
        Outcome::Pass
    );
    assert_eq!(
        outcome("MHD-15", &retrieve(200, "text/plain", b"doc"), &e),
        Outcome::Fail
    );
    assert_eq!(
        outcome("MHD-15", &retrieve(404, "text/plain", b""), &e),
        Outcome::Fail
    );
    let gone = Expect {
        status: vec![410, 404],
        ..Expect::default()
    };
    assert_eq!(
        outcome("MHD-15", &retrieve(410, "text/plain", b""), &gone),
        Outcome::Pass
    );
    let mut neg = doc_expect(b"doc");
    neg.mhd.accept = Some("application/fhir+json".into());
    assert_eq!(
        outcome("MHD-15", &retrieve(406, "text/plain", b""), &neg),
        Outcome::Pass
    );
    assert_eq!(
        outcome(
            "MHD-15",
            &retrieve(200, "application/fhir+json", b"{}"),
            &neg
        ),
        Outcome::Pass
    );
}

#[test]
fn mhd_16_and_17() {
    let e = imaging();
    let url = "http://sut/fhir/DocumentReference?patient=Patient/123&status=current";
    let ok = search_response(url, &[kos_dr()]);
    assert_eq!(outcome("MHD-16", &ok, &e), Outcome::Pass);
    assert_eq!(outcome("MHD-17", &ok, &e), Outcome::Pass);
    assert_eq!(
        outcome("MHD-16", &ok, &Expect::default()),
        Outcome::NotApplicable
    );
    let mut bad = kos_dr();
    bad["content"][0]["format"]["system"] = json!("urn:oid:1.2.840.10008.2.6.1");
    bad["masterIdentifier"]["value"] = json!("1.2.3.4.5.6.7");
    assert_eq!(
        outcome("MHD-16", &search_response(url, &[bad]), &e),
        Outcome::Fail
    );
    let mut bad = kos_dr();
    if let Some(o) = bad.as_object_mut() {
        o.remove("extension");
    }
    assert_eq!(
        outcome("MHD-17", &search_response(url, &[bad]), &e),
        Outcome::Fail
    );
    let mut dated = imaging();
    dated.mhd.study_start = Some("2025-12-31".into());
    assert_eq!(outcome("MHD-17", &ok, &dated), Outcome::Fail);
}

#[test]
fn mhd_18() {
    let url = "http://sut/fhir/DocumentReference?patient=Patient/123&status=current";
    let mut e = Expect::default();
    e.mhd.search = vec![
        ("patient".into(), "Patient/123".into()),
        ("status".into(), "current".into()),
        ("modality".into(), format!("{DCM_SYSTEM}|CT")),
        ("study-instance-uid".into(), format!("urn:oid:{STUDY_UID}")),
        ("period".into(), "ge2026-01-01".into()),
    ];
    e.mhd.known_matches = Some([format!("urn:oid:{KOS_UID}")].into_iter().collect());
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[kos_dr()]), &e),
        Outcome::Pass
    );
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[]), &e),
        Outcome::Fail
    );
    let mut other = kos_dr();
    other["masterIdentifier"]["value"] = json!("urn:oid:9.9");
    other["subject"]["reference"] = json!("Patient/124");
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[kos_dr(), other]), &e),
        Outcome::Fail
    );
    let mut e2 = e.clone();
    e2.mhd.search.clear();
    e2.mhd.must_not_match = [format!("urn:oid:{KOS_UID}")].into_iter().collect();
    e2.mhd.known_matches = None;
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[kos_dr()]), &e2),
        Outcome::Fail
    );
    let mut late = e.clone();
    late.mhd.search = vec![("period".into(), "lt2025-01-01".into())];
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[kos_dr()]), &late),
        Outcome::Fail
    );
}

#[test]
fn mhd_19() {
    let e = doc_expect(b"doc");
    assert_eq!(
        outcome("MHD-19", &retrieve(200, "application/dicom", b"doc"), &e),
        Outcome::Pass
    );
    assert_eq!(
        outcome("MHD-19", &retrieve(200, "application/dicom", b"dox"), &e),
        Outcome::Fail
    );
    assert_eq!(
        outcome("MHD-19", &retrieve(200, "application/dicom", b"docs"), &e),
        Outcome::Fail
    );
    assert_eq!(
        outcome(
            "MHD-19",
            &retrieve(200, "application/dicom", b"doc"),
            &Expect::default()
        ),
        Outcome::NotApplicable
    );
}

#[test]
fn hostile_bundles_do_not_panic() {
    let cases = [
        json!(null),
        json!([]),
        json!({"resourceType": "Bundle", "entry": "x"}),
        json!({"resourceType": "Bundle", "type": 5, "meta": {"profile": "x"}, "entry": [1, null, {"resource": 3}, {"resource": {"resourceType": "DocumentReference", "content": [{"attachment": {"url": 7}}], "relatesTo": [{"code": "replaces", "target": 1}]}}]}),
        json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "List", "code": {"coding": [{"code": "submissionset"}]}, "identifier": "x", "extension": [{"url": 1}]}}]}),
        json!({"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "DocumentReference", "content": [{"attachment": {"url": "urn:uuid:1", "size": -1}}]}}]}),
        json!({"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Binary", "data": "!!!"}}, {"resource": {"resourceType": "DocumentReference", "content": [{"attachment": {"url": "urn:uuid:2"}}]}}]}),
    ];
    for c in &cases {
        let _ = validate_provide_bundle(c, Some("x"), true);
        let ex = provide(c);
        let _ = failing(&ex, &comprehensive());
        let r = outbound(
            Transaction::Iti67,
            "http://sut/fhir/DocumentReference?period=x&%FF=1",
            200,
            "application/fhir+json",
            &serde_json::to_vec(c).unwrap_or_default(),
        );
        let mut e = imaging();
        e.mhd.search = vec![("period".into(), "g".into()), ("type".into(), "|".into())];
        let _ = failing(&r, &e);
    }
    let v = validate_provide_bundle(&cases[6], None, false);
    assert!(v.iter().any(|x| x.rule == "MHD-05"), "{v:?}");
}

#[test]
fn ipf_comprehensive_bundle_is_judged() {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/mhd/ipf-r4-mhd-test.json");
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let ex = inbound(
        Transaction::Iti65,
        "POST",
        "http://harness/fhir",
        Some("application/fhir+json"),
        &bytes,
    );
    let f = failing(&ex, &comprehensive());
    let bundle: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let v = validate_provide_bundle(&bundle, Some("application/fhir+json"), true);
    eprintln!("IPF ipf-r4-mhd-test.json fails {f:?}: {v:#?}");
    assert_eq!(outcome("FHIR-01", &ex, &comprehensive()), Outcome::Pass);
    // IPF encodes the hex SHA-1 digest in base64 instead of the digest bytes.
    assert_eq!(f, ["MHD-05"].into_iter().collect::<BTreeSet<_>>());
    assert!(v.iter().any(|x| x.message.contains("hex digest")), "{v:?}");
}

#[test]
fn mhd_20() {
    let bad = Expect {
        status: vec![400, 422],
        ..Expect::default()
    };
    let oo = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invariant"}]});
    assert_eq!(outcome("MHD-20", &recipient(&oo, 400), &bad), Outcome::Pass);
    // Accepted anyway.
    assert_eq!(
        outcome("MHD-20", &recipient(&transaction_response(3), 200), &bad),
        Outcome::Fail
    );
    // Refused, but without an error issue, or with a body that is no OperationOutcome.
    let warn = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "invariant"}]});
    assert_eq!(
        outcome("MHD-20", &recipient(&warn, 422), &bad),
        Outcome::Fail
    );
    assert_eq!(
        outcome("MHD-20", &recipient(&transaction_response(1), 400), &bad),
        Outcome::Fail
    );
    // A conformant bundle was sent: not applicable.
    assert_eq!(
        outcome("MHD-20", &recipient(&oo, 400), &Expect::default()),
        Outcome::NotApplicable
    );
}

#[test]
fn fhir_02() {
    let e = Expect::default();
    let xml_body = crate::model::fhir::xml::from_json(&searchset(&[kos_dr()])).expect("xml");
    let answer = |body: &[u8], ct: &str| {
        outbound(
            Transaction::Iti67,
            "http://sut/fhir/DocumentReference?_format=xml",
            200,
            ct,
            body,
        )
    };
    let ok = answer(xml_body.as_bytes(), "application/fhir+xml");
    assert_eq!(outcome("FHIR-02", &ok, &e), Outcome::Pass);
    // The Bundle's type after its entries.
    let ty = "<type value=\"searchset\"/>";
    assert!(xml_body.contains(ty));
    let moved = xml_body
        .replacen(ty, "", 1)
        .replace("</Bundle>", &format!("{ty}</Bundle>"));
    let bad = answer(moved.as_bytes(), "application/fhir+xml");
    assert_eq!(outcome("FHIR-02", &bad, &e), Outcome::Fail);
    assert_eq!(outcome("FHIR-01", &bad, &e), Outcome::Pass);
    // JSON has no order; unreadable XML is FHIR-01's.
    let json = serde_json::to_vec(&searchset(&[kos_dr()])).expect("json");
    let json = answer(&json, "application/fhir+json");
    assert_eq!(outcome("FHIR-02", &json, &e), Outcome::NotApplicable);
    let broken = answer(
        b"<Bundle xmlns=\"http://hl7.org/fhir\">",
        "application/fhir+xml",
    );
    assert_eq!(outcome("FHIR-02", &broken, &e), Outcome::NotApplicable);
    assert_eq!(outcome("FHIR-01", &broken, &e), Outcome::Fail);
}

#[test]
fn mhd_13_14_18_a_refused_search_is_a_failure_not_a_skip() {
    let mut e = Expect::default();
    e.mhd.known_matches = Some([format!("urn:oid:{KOS_UID}")].into_iter().collect());
    let mut post = outbound(
        Transaction::Iti67,
        "http://sut/fhir/DocumentReference/_search",
        400,
        "application/fhir+json",
        br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported"}]}"#,
    );
    post.request.method = "POST".into();
    for id in ["MHD-13", "MHD-14", "MHD-18"] {
        assert_eq!(outcome(id, &post, &e), Outcome::Fail, "{id}");
    }
    // A status the scenario asks for is not judged a refusal.
    let mut expected = e.clone();
    expected.status = vec![400];
    assert_eq!(outcome("MHD-13", &post, &expected), Outcome::NotApplicable);
}

#[test]
fn mhd_14_lists_answer_a_searchset() {
    let lists = |ty: &str| {
        outbound(
            Transaction::Iti66,
            "http://sut/fhir/List?patient=Patient/1&code=submissionset&status=current",
            200,
            "application/fhir+json",
            format!(r#"{{"resourceType":"Bundle","type":"{ty}","entry":[]}}"#).as_bytes(),
        )
    };
    assert_eq!(
        outcome("MHD-14", &lists("searchset"), &Expect::default()),
        Outcome::Pass
    );
    assert_eq!(
        outcome("MHD-14", &lists("collection"), &Expect::default()),
        Outcome::Fail
    );
}

#[test]
fn mhd_18_judges_the_patient_behind_a_reference_and_more_parameters() {
    let url = "http://sut/fhir/DocumentReference?patient.identifier=urn:oid:1.2|P1&status=current";
    let mut e = Expect::default();
    e.mhd.search = vec![
        ("patient.identifier".into(), "urn:oid:1.2|P1".into()),
        ("status".into(), "current".into()),
    ];
    e.mhd.patient_refs = Some(BTreeSet::from(["Patient/123".to_string()]));
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[kos_dr()]), &e),
        Outcome::Pass
    );
    let mut other = kos_dr();
    other["subject"]["reference"] = json!("http://sut/fhir/Patient/999");
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[kos_dr(), other]), &e),
        Outcome::Fail,
        "a DocumentReference of another patient"
    );
    let mut no_subject = kos_dr();
    if let Some(o) = no_subject.as_object_mut() {
        o.remove("subject");
    }
    assert_eq!(
        outcome("MHD-18", &search_response(url, &[no_subject]), &e),
        Outcome::Fail,
        "no subject cannot be the patient's"
    );
    // format, date and creation are matched too.
    let judge = |k: &str, v: &str| {
        let mut f = Expect::default();
        f.mhd.search = vec![(k.into(), v.into())];
        outcome("MHD-18", &search_response(url, &[kos_dr()]), &f)
    };
    let kos_format = format!("{DCMUID_SYSTEM}|{KOS_SOP_CLASS}");
    assert_eq!(judge("format", &kos_format), Outcome::Pass);
    assert_eq!(judge("format", "urn:oid:1.2|other"), Outcome::Fail);
    assert_eq!(judge("creation", "lt2020-01-01"), Outcome::Fail);
    assert_eq!(judge("creation", "ge2026-01-01"), Outcome::Pass);
}

#[test]
fn mhd_18_follows_the_pages_of_a_search() {
    let url = "http://sut/fhir/DocumentReference?patient=Patient/123&status=current";
    let mut second = kos_dr();
    second["id"] = json!("2");
    second["masterIdentifier"]["value"] = json!("urn:oid:9.8.7");
    let mut first = kos_dr();
    first["id"] = json!("1");
    let mut e = Expect::default();
    e.mhd.known_matches = Some(
        [format!("urn:oid:{KOS_UID}"), "urn:oid:9.8.7".to_string()]
            .into_iter()
            .collect(),
    );
    let page = |resources: &[Value], next: bool| {
        let mut b = searchset(resources);
        if next {
            b["link"] =
                json!([{"relation": "next", "url": "http://sut/fhir/DocumentReference?page=2"}]);
        }
        outbound(
            Transaction::Iti67,
            url,
            200,
            "application/fhir+json",
            &serde_json::to_vec(&b).unwrap(),
        )
    };
    let p1 = page(std::slice::from_ref(&first), true);
    assert_eq!(
        outcome_with("MHD-18", &p1, &e, &[page(&[second], false)]),
        Outcome::Pass
    );
    // The next page repeats the first: the other match never comes.
    assert_eq!(
        outcome_with("MHD-18", &p1, &e, &[page(&[first], false)]),
        Outcome::Fail
    );
}

fn binary_body(ct: &str, data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    serde_json::to_vec(&json!({
        "resourceType": "Binary",
        "contentType": ct,
        "data": base64::engine::general_purpose::STANDARD.encode(data)
    }))
    .unwrap()
}

#[test]
fn mhd_19_a_binary_resource_answers_a_fhir_accept_only() {
    let doc = br#"{"resourceType":"Bundle","type":"document"}"#;
    let mut e = doc_expect(doc);
    if let Some(d) = e.mhd.document.as_mut() {
        d.content_type = Some("application/fhir+json".into());
    }
    let wrapped = retrieve(
        200,
        "application/fhir+json",
        &binary_body("application/fhir+json", doc),
    );
    // Asked with a FHIR type: the Binary resource is the answer FHIR defines; its data is judged.
    e.mhd.accept = Some("application/fhir+json".into());
    assert_eq!(outcome("MHD-19", &wrapped, &e), Outcome::Pass);
    assert_eq!(outcome("MHD-15", &wrapped, &e), Outcome::Pass);
    let other = retrieve(
        200,
        "application/fhir+json",
        &binary_body("application/fhir+json", b"{}"),
    );
    assert_eq!(outcome("MHD-19", &other, &e), Outcome::Fail);
    // Asked without a FHIR type: a Binary resource is not the document.
    e.mhd.accept = Some("*/*".into());
    assert_eq!(outcome("MHD-19", &wrapped, &e), Outcome::Fail);
    assert_eq!(
        outcome("MHD-19", &retrieve(200, "application/fhir+json", doc), &e),
        Outcome::Pass
    );
    assert_eq!(document_accept("application/fhir+json"), "*/*");
    assert_eq!(document_accept("application/dicom"), "application/dicom");
}

#[test]
fn mhd_15_406_or_the_binary_resource_a_fhir_accept_asks_for() {
    let kos = b"DICM";
    let mut e = doc_expect(kos);
    e.mhd.accept = Some("application/fhir+json".into());
    e.status = vec![406];
    let binary = retrieve(
        200,
        "application/fhir+json",
        &binary_body("application/dicom", kos),
    );
    assert_eq!(outcome("MHD-15", &binary, &e), Outcome::Pass);
    assert_eq!(outcome("MHD-19", &binary, &e), Outcome::Pass);
    // The DICOM itself, outside the Accept header: substituted, not refused.
    assert_eq!(
        outcome("MHD-15", &retrieve(200, "application/dicom", kos), &e),
        Outcome::Fail
    );
}

#[test]
fn mhd_19_judges_the_streamed_digest_of_a_body_not_kept() {
    let mut e = doc_expect(b"doc");
    let mut ex = retrieve(200, "application/dicom", b"d");
    if let Some(r) = ex.response.as_mut() {
        r.body.complete = false;
        r.body.size = 3;
    }
    assert_eq!(outcome("MHD-19", &ex, &e), Outcome::NotApplicable);
    e.mhd.streamed = Some((sha1_base64(b"doc"), 3));
    assert_eq!(outcome("MHD-19", &ex, &e), Outcome::Pass);
    e.mhd.streamed = Some((sha1_base64(b"dox"), 3));
    assert_eq!(outcome("MHD-19", &ex, &e), Outcome::Fail);
}

#[test]
fn mhd_20_nothing_of_a_refused_bundle_is_stored() {
    let b = bundle();
    let mut ex = outbound(
        Transaction::Iti65,
        "http://sut/fhir",
        400,
        "application/fhir+json",
        br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"required"}]}"#,
    );
    ex.request.method = "POST".into();
    ex.request.headers = vec![("Content-Type".into(), "application/fhir+json".into())];
    ex.request.body = Body::from_bytes(bytes::Bytes::from(serde_json::to_vec(&b).unwrap()));
    let e = Expect {
        status: vec![400, 422],
        ..Expect::default()
    };
    let lookup = |resources: &[Value]| {
        search_response(
            "http://sut/fhir/DocumentReference?identifier=x&status=current",
            resources,
        )
    };
    assert_eq!(
        outcome_with("MHD-20", &ex, &e, &[lookup(&[])]),
        Outcome::Pass
    );
    let stored = b["entry"][idx(&b, "DocumentReference")]["resource"].clone();
    assert_eq!(
        outcome_with("MHD-20", &ex, &e, &[lookup(&[stored])]),
        Outcome::Fail
    );
}

fn asked() -> Expect {
    let mut e = Expect::default();
    e.mhd.asked = Some(MhdAsked {
        patient: ("urn:oid:1.2".into(), "P1".into()),
        patient_refs: BTreeSet::from(["Patient/123".to_string()]),
        study: STUDY_UID.into(),
    });
    e
}

#[test]
fn mhd_21_source_publishes_the_study_asked() {
    let e = asked();
    assert_eq!(outcome("MHD-21", &provide(&bundle()), &e), Outcome::Pass);
    let mut other = asked();
    if let Some(a) = other.mhd.asked.as_mut() {
        a.study = "1.2.3.9".into();
    }
    assert_eq!(
        outcome("MHD-21", &provide(&bundle()), &other),
        Outcome::Fail
    );
    let mut someone = asked();
    if let Some(a) = someone.mhd.asked.as_mut() {
        a.patient_refs = BTreeSet::from(["Patient/999".to_string()]);
    }
    assert_eq!(
        outcome("MHD-21", &provide(&bundle()), &someone),
        Outcome::Fail
    );
}

#[test]
fn mhd_22_consumer_searches_the_patient_asked() {
    let e = asked();
    let search = |q: &str| {
        inbound(
            Transaction::Iti67,
            "GET",
            &format!("/fhir/DocumentReference?{q}&status=current"),
            None,
            b"",
        )
    };
    assert_eq!(
        outcome("MHD-22", &search("patient.identifier=urn:oid:1.2%7CP1"), &e),
        Outcome::Pass
    );
    assert_eq!(
        outcome("MHD-22", &search("patient=Patient/123"), &e),
        Outcome::Pass
    );
    assert_eq!(
        outcome("MHD-22", &search("patient.identifier=urn:oid:1.2%7CP2"), &e),
        Outcome::Fail
    );
    assert_eq!(outcome("MHD-22", &search("x=1"), &e), Outcome::Fail);
}

/// FHIR R4 search §3.1.1.4.7: a date search value without a zone is read in the server's zone,
/// which the harness does not know. An instant late on the 19th at -05:00 is early on the 20th in
/// UTC: a UTC server returns it for `date=ge2026-01-20`, and MHD-18 must not fail that; it fails
/// only what matches under no zone (`ge2026-01-21`), and compares partial dates as the periods they
/// are (`le2026` holds the whole year).
#[test]
fn mhd_18_dates_are_ranges_in_a_zone_the_server_chooses() {
    let url = "http://sut/fhir/DocumentReference?patient=Patient/123&date=ge2026-01-20";
    let mut late = kos_dr();
    late["date"] = json!("2026-01-19T23:00:00-05:00");
    let with = |k: &str, v: &str| {
        let mut e = Expect::default();
        e.mhd.search = vec![(k.into(), v.into())];
        e
    };
    let judge = |k: &str, v: &str| {
        outcome(
            "MHD-18",
            &search_response(url, &[late.clone()]),
            &with(k, v),
        )
    };
    assert_eq!(judge("date", "ge2026-01-20"), Outcome::Pass);
    assert_eq!(judge("date", "ge2026-01-21"), Outcome::Fail);
    assert_eq!(judge("date", "le2026"), Outcome::Pass);
    assert_eq!(judge("date", "gt2026-01-20T04:00:00Z"), Outcome::Fail);
    assert_eq!(judge("date", "sa2026-01-19T00:00:00Z"), Outcome::Pass);
    let mut period = late.clone();
    period["context"]["period"] =
        json!({"start": "2026-01-10T08:00:00+01:00", "end": "2026-01-12"});
    let judge_p = |v: &str| {
        outcome(
            "MHD-18",
            &search_response(url, &[period.clone()]),
            &with("period", v),
        )
    };
    assert_eq!(judge_p("ge2026-01-12"), Outcome::Pass);
    assert_eq!(judge_p("ge2026-01-14"), Outcome::Fail);
    assert_eq!(judge_p("eb2026-01-14"), Outcome::Pass);
}
