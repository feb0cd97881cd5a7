use super::*;

#[test]
fn corpus_docref_round_trips() {
    let bytes = include_bytes!("../../../fixtures/corpus/mado/mado-mado-kos-1.2.250.1.59.40211.22756022.2.1.101-docref.json");
    let (v, r) = parse_json(bytes).expect("parses");
    let Resource::DocumentReference(d) = &r else {
        panic!("not a DocumentReference: {}", r.resource_type());
    };
    assert_eq!(d.status.as_deref(), Some("current"));
    assert_eq!(v["resourceType"], "DocumentReference");
    assert_eq!(r.to_json()["status"], "current");
}

#[test]
fn wrong_type_is_an_error_not_a_panic() {
    let v = serde_json::json!({"resourceType": "DocumentReference", "content": "x"});
    let err = Resource::from_json(&v).unwrap_err().to_string();
    assert!(
        err.starts_with("DocumentReference: invalid type: string \"x\""),
        "{err}"
    );
    let v = serde_json::json!({"resourceType": "Foo", "x": 1});
    assert_eq!(
        Resource::from_json(&v)
            .map(|r| r.resource_type().to_string())
            .ok(),
        Some("Foo".into())
    );
    let v = serde_json::json!({"x": 1});
    assert_eq!(
        Resource::from_json(&v).unwrap_err().to_string(),
        "not a FHIR resource: no resourceType"
    );
    let err = parse_json(b"{").unwrap_err().to_string();
    assert!(err.starts_with("not JSON: EOF while parsing"), "{err}");
}
