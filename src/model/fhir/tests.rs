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
    assert!(Resource::from_json(&v).is_err());
    let v = serde_json::json!({"resourceType": "Foo", "x": 1});
    assert_eq!(
        Resource::from_json(&v).map(|r| r.resource_type().to_string()),
        Ok("Foo".into())
    );
}
