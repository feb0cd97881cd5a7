use std::path::PathBuf;

use super::*;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus/mhd")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn find_document_references_response() {
    let v = to_json(&corpus("ipf-r4-FindDocumentReferencesResponse.xml")).expect("converts");
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "searchset");
    assert_eq!(v["total"], 1);
    let dr = &v["entry"][0]["resource"];
    assert_eq!(dr["resourceType"], "DocumentReference");
    assert_eq!(dr["contained"][0]["resourceType"], "Practitioner");
    assert_eq!(dr["contained"][0]["name"][0]["given"][0], "Nick");
    assert_eq!(dr["contained"][1]["identifier"][0]["value"], "1");
    assert_eq!(dr["masterIdentifier"]["value"], "111");
    assert_eq!(dr["identifier"][0]["use"], "official");
    assert_eq!(dr["category"][0]["coding"][0]["code"], "11111-4");
    assert_eq!(dr["type"]["coding"][0]["code"], "34133-9");
    assert_eq!(dr["subject"]["reference"], "Patient/1");
    assert_eq!(dr["author"][0]["reference"], "#1");
    assert_eq!(dr["content"][0]["attachment"]["size"], 34132);
    assert_eq!(dr["content"][0]["format"]["code"], "IMAGE");
    assert_eq!(dr["context"]["sourcePatientInfo"]["reference"], "#2");
    assert!(dr["text"]["div"]
        .as_str()
        .is_some_and(|d| d.starts_with("<div")));
    // Typed model accepts it.
    assert!(crate::model::fhir::Resource::from_json(&v).is_ok());
}

#[test]
fn find_submission_sets_response() {
    let v = to_json(&corpus("ipf-r4-v421-FindSubmissionSetsResponse.xml")).expect("converts");
    assert_eq!(v["resourceType"], "Bundle");
    let list = &v["entry"][0]["resource"];
    assert_eq!(list["resourceType"], "List");
    assert!(list["identifier"].is_array());
    assert!(list["entry"].is_array());
    assert!(list["entry"][0]["item"].is_object(), "{list}");
    assert!(crate::model::fhir::Resource::from_json(&v).is_ok());
}

#[test]
fn round_trip_json_xml_json() {
    let original: Value = serde_json::from_slice(&corpus("ipf-r4-mhd-test.json")).expect("json");
    let x = from_json(&original).expect("to xml");
    let back = to_json(x.as_bytes()).expect("back");
    assert_eq!(back, original, "xml was:\n{x}");
    // Attachment.url and request.url are elements; only Extension.url is an attribute.
    assert!(x.contains("<url value=\"Binary\"/>"), "{x}");
    assert!(
        x.contains(
            "<extension url=\"https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId\">"
        ),
        "{x}"
    );
    assert!(!x.contains("<attachment url="), "{x}");
}

#[test]
fn primitive_extensions_round_trip() {
    let v = serde_json::json!({
        "resourceType": "Patient",
        "id": "p",
        "active": true,
        "name": [{"given": ["A", "B"], "_given": [null, {"extension": [{"url": "u", "valueString": "x"}]}]}],
        "birthDate": "2000-01-01",
        "_birthDate": {"id": "b"}
    });
    let x = from_json(&v).expect("xml");
    assert_eq!(to_json(x.as_bytes()).expect("json"), v, "{x}");
}

#[test]
fn hostile_input_is_refused() {
    let dtd = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Patient xmlns="http://hl7.org/fhir"/>"#;
    assert!(to_json(dtd).is_err());
    let mut deep = String::from("<Patient xmlns=\"http://hl7.org/fhir\">");
    for _ in 0..100 {
        deep.push_str("<a>");
    }
    for _ in 0..100 {
        deep.push_str("</a>");
    }
    deep.push_str("</Patient>");
    assert!(to_json(deep.as_bytes()).is_err());
    assert!(
        to_json(b"<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"\xff\"/></Patient>").is_err()
    );
    assert!(to_json(b"<Patient><id value=\"x\"/></Patient>").is_err());
    assert!(
        to_json(b"<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&foo;\"/></Patient>").is_err()
    );
    assert!(to_json(b"").is_err());
    assert!(to_json(b"<Patient xmlns=\"http://hl7.org/fhir\">").is_err());
    let mut deep = serde_json::json!({"a": 1});
    for _ in 0..100 {
        deep = serde_json::json!({ "x": deep });
    }
    deep["resourceType"] = "Patient".into();
    assert!(from_json(&deep).is_err());
    assert!(from_json(&serde_json::json!({"resourceType": "P<x"})).is_err());
    assert!(from_json(&serde_json::json!({"resourceType": "Patient", "bad name": 1})).is_err());
}

#[test]
fn div_that_is_not_xhtml_is_escaped() {
    let v = serde_json::json!({"resourceType": "Patient", "text": {"status": "generated", "div": "<b>x"}});
    let x = from_json(&v).expect("xml");
    let back = to_json(x.as_bytes()).expect("json");
    assert!(back["text"]["div"]
        .as_str()
        .is_some_and(|d| d.contains("&lt;b&gt;x")));
}
