//! Each Initiating Gateway check passes on a conformant gateway and fails on a broken one.

use super::*;
use crate::checks::xds::tests::outbound;
use crate::checks::{evaluate, Expect, Outcome};
use crate::evidence::Exchange;
use crate::model::ebrim::{
    AdhocQueryRequest, DocumentRequest, DocumentResponse, QueryParam, RegistryError,
    RegistryObject, RegistryObjectList, RegistryResponse,
};
use crate::transport::soap;

const A: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.101";
const B: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.102";

fn outcome(id: &str, ex: &Exchange, legs: Vec<Leg>, strict: bool) -> Outcome {
    outcome_with(id, ex, legs, strict, &[A, B])
}

fn outcome_with(
    id: &str,
    ex: &Exchange,
    legs: Vec<Leg>,
    strict: bool,
    addressed: &[&str],
) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
    let mut expect = Expect {
        xca_ig: XcaIgExpect {
            legs,
            communities: [
                (A, "http://h/xca/community-a"),
                (B, "http://h/xca/community-b"),
            ]
            .iter()
            .map(|(h, u)| (h.to_string(), u.to_string()))
            .collect(),
            addressed: addressed.iter().map(|h| h.to_string()).collect(),
        },
        ..Expect::default()
    };
    expect
        .xds
        .streamed
        .insert("d1".into(), (sha1_hex(b"doc-a"), 5));
    evaluate(
        check,
        &Subject {
            exchange: ex,
            expect: &expect,
            strict,
            followups: &[],
        },
    )
    .outcome
}

fn with_request(mut ex: Exchange, action: &str, body_xml: &str) -> Exchange {
    let env = soap::envelope(action, "urn:uuid:1", Some("http://sut/ig"), body_xml);
    ex.request.headers = vec![("Content-Type".into(), "application/soap+xml".into())];
    ex.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::from(env.into_bytes()));
    ex
}

fn find(home: Option<&str>) -> AdhocQueryRequest {
    let mut q = if home.is_some() {
        AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3"], "LeafClass")
    } else {
        AdhocQueryRequest::find_documents(
            "P1^^^&1.2.3&ISO",
            &[e::STATUS_APPROVED],
            &[("1.2.840.10008.5.1.4.1.1.88.59", "1.2.840.10008.2.6.1")],
            "LeafClass",
        )
    };
    q.home = home.map(str::to_string);
    q
}

fn entry(id: &str, home: Option<&str>) -> RegistryObject {
    RegistryObject {
        kind: e::ObjectKind::ExtrinsicObject,
        id: Some(id.into()),
        lid: None,
        object_type: Some(e::DOC_ENTRY_STABLE.into()),
        status: Some(e::STATUS_APPROVED.into()),
        home: home.map(str::to_string),
        mime_type: None,
        slots: Vec::new(),
        name: Vec::new(),
        description: Vec::new(),
        classifications: Vec::new(),
        external_identifiers: Vec::new(),
        order_issues: Vec::new(),
    }
}

fn error(code: &str, context: &str) -> RegistryError {
    RegistryError {
        error_code: Some(code.into()),
        code_context: Some(context.into()),
        location: None,
        severity: Some(e::SEVERITY_ERROR.into()),
    }
}

fn response(
    status: &str,
    errors: Vec<RegistryError>,
    eos: Vec<RegistryObject>,
) -> AdhocQueryResponse {
    AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(status.into()),
            has_error_list: !errors.is_empty(),
            errors,
        },
        objects: RegistryObjectList {
            extrinsic_objects: eos,
            ..Default::default()
        },
        has_object_list: true,
    }
}

fn consumer_query(q: &AdhocQueryRequest, r: &AdhocQueryResponse) -> Exchange {
    let env = soap::response_envelope(e::ACTION_STORED_QUERY_RESPONSE, "urn:uuid:1", &r.to_xml());
    let ex = outbound(Transaction::Iti18, "application/soap+xml", env.as_bytes());
    with_request(ex, e::ACTION_STORED_QUERY, &q.to_xml())
}

fn query_leg(community: &str, q: AdhocQueryRequest, answer: Option<AdhocQueryResponse>) -> Leg {
    Leg {
        community: community.into(),
        url: format!("http://h/xca/{community}/query"),
        transaction: Some(Transaction::Iti38),
        request: Some(Message::AdhocQueryRequest(q)),
        answer: answer.map(Message::AdhocQueryResponse),
        documents: BTreeMap::new(),
    }
}

fn ok(home: &str, id: &str) -> AdhocQueryResponse {
    response(e::RESPONSE_SUCCESS, vec![], vec![entry(id, Some(home))])
}

#[test]
fn iti38_11_every_parameter_passed() {
    let q = find(None);
    let ex = consumer_query(&q, &ok(A, "e1"));
    let legs = || {
        vec![
            query_leg(A, q.clone(), Some(ok(A, "e1"))),
            query_leg(B, q.clone(), None),
        ]
    };
    assert_eq!(outcome("ITI38-11", &ex, legs(), false), Outcome::Pass);
    let mut dropped = q.clone();
    dropped
        .params
        .retain(|p| p.name != "$XDSDocumentEntryFormatCode");
    let broken = vec![query_leg(A, dropped, None), query_leg(B, q.clone(), None)];
    assert_eq!(outcome("ITI38-11", &ex, broken, false), Outcome::Fail);
    let mut changed = q.clone();
    changed.params.push(QueryParam {
        name: "$XDSDocumentEntryFormatCode".into(),
        values: vec!["('x^^y')".into()],
    });
    // A value list written as separate values means the same.
    let mut split = q.clone();
    for p in &mut split.params {
        if p.name == "$XDSDocumentEntryStatus" {
            p.values = vec!["( 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved' )".into()];
        }
    }
    assert_eq!(
        outcome(
            "ITI38-11",
            &ex,
            vec![query_leg(A, split.clone(), None), query_leg(B, split, None)],
            false
        ),
        Outcome::Pass
    );
    // An extra parameter is no breach; a missing community is.
    assert_eq!(
        outcome(
            "ITI38-11",
            &ex,
            vec![
                query_leg(A, changed.clone(), None),
                query_leg(B, changed, None)
            ],
            false
        ),
        Outcome::Pass
    );
    assert_eq!(
        outcome("ITI38-11", &ex, vec![query_leg(A, q.clone(), None)], false),
        Outcome::Fail
    );
}

#[test]
fn iti38_12_home_on_id_queries() {
    let q = find(Some(B));
    let ex = consumer_query(&q, &ok(B, "e1"));
    assert_eq!(
        outcome_with(
            "ITI38-12",
            &ex,
            vec![query_leg(B, q.clone(), None)],
            false,
            &[B]
        ),
        Outcome::Pass
    );
    let mut without = q.clone();
    without.home = None;
    assert_eq!(
        outcome_with(
            "ITI38-12",
            &ex,
            vec![query_leg(B, without, None)],
            false,
            &[B]
        ),
        Outcome::Fail
    );
    let mut to_a = q.clone();
    to_a.home = Some(A.into());
    assert_eq!(
        outcome_with(
            "ITI38-12",
            &ex,
            vec![query_leg(B, q.clone(), None), query_leg(A, to_a, None)],
            false,
            &[B]
        ),
        Outcome::Fail
    );
    // A query naming a patient needs no home.
    let by_patient = find(None);
    let ex = consumer_query(&by_patient, &ok(A, "e1"));
    assert_eq!(
        outcome("ITI38-12", &ex, vec![query_leg(A, by_patient, None)], false),
        Outcome::NotApplicable
    );
}

#[test]
fn xca_01_union_with_home() {
    let q = find(None);
    let legs = || {
        vec![
            query_leg(A, q.clone(), Some(ok(A, "e1"))),
            query_leg(B, q.clone(), Some(ok(B, "e2"))),
        ]
    };
    let both = response(
        e::RESPONSE_SUCCESS,
        vec![],
        vec![entry("e1", Some(A)), entry("e2", Some(B))],
    );
    assert_eq!(
        outcome("XCA-01", &consumer_query(&q, &both), legs(), false),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XCA-01", &consumer_query(&q, &ok(A, "e1")), legs(), false),
        Outcome::Fail
    );
    let rehomed = response(
        e::RESPONSE_SUCCESS,
        vec![],
        vec![entry("e1", Some(A)), entry("e2", Some(A))],
    );
    assert_eq!(
        outcome("XCA-01", &consumer_query(&q, &rehomed), legs(), false),
        Outcome::Fail
    );
}

#[test]
fn xca_02_partial_success() {
    let q = find(None);
    let failing = response(
        e::RESPONSE_FAILURE,
        vec![error("XDSRegistryError", "down")],
        vec![],
    );
    let legs = || {
        vec![
            query_leg(A, q.clone(), Some(ok(A, "e1"))),
            query_leg(B, q.clone(), Some(failing.clone())),
        ]
    };
    let partial = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSRegistryError", "down")],
        vec![entry("e1", Some(A))],
    );
    assert_eq!(
        outcome("XCA-02", &consumer_query(&q, &partial), legs(), false),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XCA-02", &consumer_query(&q, &ok(A, "e1")), legs(), false),
        Outcome::Fail
    );
    let all_ok = vec![query_leg(A, q.clone(), Some(ok(A, "e1")))];
    assert_eq!(
        outcome("XCA-02", &consumer_query(&q, &ok(A, "e1")), all_ok, false),
        Outcome::NotApplicable
    );
}

#[test]
fn xca_03_unknown_patient_not_passed() {
    let q = find(None);
    let unknown = response(
        e::RESPONSE_FAILURE,
        vec![error("XDSUnknownPatientId", "who")],
        vec![],
    );
    let legs = || {
        vec![
            query_leg(A, q.clone(), Some(ok(A, "e1"))),
            query_leg(B, q.clone(), Some(unknown.clone())),
        ]
    };
    assert_eq!(
        outcome("XCA-03", &consumer_query(&q, &ok(A, "e1")), legs(), false),
        Outcome::Pass
    );
    let passed = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSUnknownPatientId", "who")],
        vec![entry("e1", Some(A))],
    );
    assert_eq!(
        outcome("XCA-03", &consumer_query(&q, &passed), legs(), false),
        Outcome::Fail
    );
}

#[test]
fn xca_04_missing_home_reflected() {
    let q = find(None);
    let homeless = response(e::RESPONSE_SUCCESS, vec![], vec![entry("e2", None)]);
    let legs = || {
        vec![
            query_leg(A, q.clone(), Some(ok(A, "e1"))),
            query_leg(B, q.clone(), Some(homeless.clone())),
        ]
    };
    let reflected = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error(
            "XDSMissingHomeCommunityId",
            &format!("gateway {B}: e2"),
        )],
        vec![entry("e1", Some(A))],
    );
    assert_eq!(
        outcome("XCA-04", &consumer_query(&q, &reflected), legs(), false),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XCA-04", &consumer_query(&q, &ok(A, "e1")), legs(), false),
        Outcome::Fail
    );
    // The gateway may be named in any form.
    let anonymous = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSMissingHomeCommunityId", "some gateway")],
        vec![entry("e1", Some(A))],
    );
    assert_eq!(
        outcome("XCA-04", &consumer_query(&q, &anonymous), legs(), false),
        Outcome::Pass
    );
}

#[test]
fn xca_05_unavailable_is_a_should() {
    let q = find(None);
    let legs = || {
        vec![
            query_leg(A, q.clone(), Some(ok(A, "e1"))),
            query_leg(B, q.clone(), None),
        ]
    };
    let reported = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSUnavailableCommunity", B)],
        vec![entry("e1", Some(A))],
    );
    assert_eq!(
        outcome("XCA-05", &consumer_query(&q, &reported), legs(), false),
        Outcome::Pass
    );
    let other = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSRegistryError", B)],
        vec![entry("e1", Some(A))],
    );
    assert_eq!(
        outcome("XCA-05", &consumer_query(&q, &other), legs(), true),
        Outcome::Fail
    );
}

fn doc_request(home: Option<&str>, uid: &str) -> DocumentRequest {
    DocumentRequest {
        home_community_id: home.map(str::to_string),
        repository_unique_id: Some("1.2.9".into()),
        document_unique_id: Some(uid.into()),
    }
}

fn doc_response(home: Option<&str>, uid: &str, cid: &str) -> DocumentResponse {
    DocumentResponse {
        home_community_id: home.map(str::to_string),
        repository_unique_id: Some("1.2.9".into()),
        document_unique_id: Some(uid.into()),
        new_repository_unique_id: None,
        new_document_unique_id: None,
        mime_type: Some("application/dicom".into()),
        document: Some(DocumentContent::Xop {
            href: soap::cid_url(cid),
        }),
    }
}

fn retrieve_response(
    status: &str,
    errors: Vec<RegistryError>,
    docs: Vec<DocumentResponse>,
) -> RetrieveDocumentSetResponse {
    RetrieveDocumentSetResponse {
        registry_response: Some(RegistryResponse {
            status: Some(status.into()),
            has_error_list: !errors.is_empty(),
            errors,
        }),
        documents: docs,
    }
}

fn consumer_retrieve(r: &RetrieveDocumentSetRequest, a: &RetrieveDocumentSetResponse) -> Exchange {
    let env = soap::response_envelope(e::ACTION_RETRIEVE_RESPONSE, "urn:uuid:1", &a.to_xml());
    let ex = outbound(Transaction::Iti43, "application/soap+xml", env.as_bytes());
    with_request(ex, e::ACTION_RETRIEVE, &r.to_xml())
}

fn retrieve_leg(
    community: &str,
    docs: Vec<DocumentRequest>,
    answer: Option<RetrieveDocumentSetResponse>,
) -> Leg {
    let mut documents = BTreeMap::new();
    if let Some(a) = &answer {
        for d in &a.documents {
            if let Some(u) = &d.document_unique_id {
                documents.insert(u.clone(), (sha1_hex(b"doc-a"), 5));
            }
        }
    }
    Leg {
        community: community.into(),
        url: format!("http://h/xca/{community}/retrieve"),
        transaction: Some(Transaction::Iti39),
        request: Some(Message::RetrieveDocumentSetRequest(
            RetrieveDocumentSetRequest { documents: docs },
        )),
        answer: answer.map(Message::RetrieveDocumentSetResponse),
        documents,
    }
}

fn two_docs() -> RetrieveDocumentSetRequest {
    RetrieveDocumentSetRequest {
        documents: vec![doc_request(Some(A), "u1"), doc_request(Some(B), "u2")],
    }
}

#[test]
fn iti39_06_and_07_home_and_routing() {
    let req = two_docs();
    let ex = consumer_retrieve(
        &req,
        &retrieve_response(e::RESPONSE_SUCCESS, vec![], vec![]),
    );
    let good = || {
        vec![
            retrieve_leg(A, vec![doc_request(Some(A), "u1")], None),
            retrieve_leg(B, vec![doc_request(Some(B), "u2")], None),
        ]
    };
    assert_eq!(outcome("ITI39-06", &ex, good(), false), Outcome::Pass);
    assert_eq!(outcome("ITI39-07", &ex, good(), false), Outcome::Pass);
    let homeless = vec![
        retrieve_leg(A, vec![doc_request(None, "u1")], None),
        retrieve_leg(B, vec![doc_request(Some(B), "u2")], None),
    ];
    assert_eq!(outcome("ITI39-06", &ex, homeless, false), Outcome::Fail);
    let misrouted = vec![retrieve_leg(
        A,
        vec![doc_request(Some(A), "u1"), doc_request(Some(B), "u2")],
        None,
    )];
    assert_eq!(
        outcome("ITI39-07", &ex, misrouted.clone(), false),
        Outcome::Fail
    );
    assert_eq!(outcome("ITI39-06", &ex, misrouted, false), Outcome::Fail);
}

#[test]
fn xca_06_retrieve_partial_success() {
    let req = two_docs();
    let legs = || {
        vec![
            retrieve_leg(
                A,
                vec![doc_request(Some(A), "u1")],
                Some(retrieve_response(
                    e::RESPONSE_SUCCESS,
                    vec![],
                    vec![doc_response(Some(A), "u1", "x")],
                )),
            ),
            retrieve_leg(
                B,
                vec![doc_request(Some(B), "u2")],
                Some(retrieve_response(
                    e::RESPONSE_FAILURE,
                    vec![error("XDSDocumentUniqueIdError", "u2")],
                    vec![],
                )),
            ),
        ]
    };
    let partial = retrieve_response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSDocumentUniqueIdError", "u2")],
        vec![doc_response(Some(A), "u1", "d1")],
    );
    assert_eq!(
        outcome("XCA-06", &consumer_retrieve(&req, &partial), legs(), false),
        Outcome::Pass
    );
    let hidden = retrieve_response(
        e::RESPONSE_SUCCESS,
        vec![],
        vec![doc_response(Some(A), "u1", "d1")],
    );
    assert_eq!(
        outcome("XCA-06", &consumer_retrieve(&req, &hidden), legs(), false),
        Outcome::Fail
    );
}

#[test]
fn xca_07_documents_unchanged() {
    let req = two_docs();
    let legs = || {
        vec![retrieve_leg(
            A,
            vec![doc_request(Some(A), "u1")],
            Some(retrieve_response(
                e::RESPONSE_SUCCESS,
                vec![],
                vec![doc_response(Some(A), "u1", "x")],
            )),
        )]
    };
    let same = retrieve_response(
        e::RESPONSE_SUCCESS,
        vec![],
        vec![doc_response(Some(A), "u1", "d1")],
    );
    assert_eq!(
        outcome("XCA-07", &consumer_retrieve(&req, &same), legs(), false),
        Outcome::Pass
    );
    let rehomed = retrieve_response(
        e::RESPONSE_SUCCESS,
        vec![],
        vec![doc_response(Some(B), "u1", "d1")],
    );
    assert_eq!(
        outcome("XCA-07", &consumer_retrieve(&req, &rehomed), legs(), false),
        Outcome::Fail
    );
    let other_bytes = vec![Leg {
        documents: [("u1".to_string(), (sha1_hex(b"other"), 5))]
            .into_iter()
            .collect(),
        ..legs().remove(0)
    }];
    assert_eq!(
        outcome(
            "XCA-07",
            &consumer_retrieve(&req, &same),
            other_bytes,
            false
        ),
        Outcome::Fail
    );
}
