//! Each Initiating Imaging Gateway check passes on a conformant gateway and fails on a broken one.

use super::*;
use crate::checks::xds::tests::outbound;
use crate::checks::{evaluate, Expect, Outcome};
use crate::evidence::Exchange;
use crate::model::ebrim::{
    DocumentContent, DocumentRequest, DocumentResponse, RegistryError, RegistryResponse,
    SeriesRequest, StudyRequest,
};
use crate::transport::soap;

const A: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.101";
const B: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.102";
const U: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.102.999";
const ELE: &str = "1.2.840.10008.1.2.1";

fn outcome(id: &str, ex: &Exchange, legs: Vec<Leg>, strict: bool) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
    let expect = Expect {
        xcai_ig: XcaiIgExpect {
            legs,
            communities: [
                (A, "http://h/xca-i/community-a"),
                (B, "http://h/xca-i/community-b"),
            ]
            .iter()
            .map(|(h, u)| (h.to_string(), u.to_string()))
            .collect(),
        },
        ..Expect::default()
    };
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

/// A request of `(home, study, uid)` images, each in its own series `study.1`.
fn request(docs: &[(&str, &str, &str)], ts: Option<&[&str]>) -> RetrieveImagingDocumentSetRequest {
    RetrieveImagingDocumentSetRequest {
        studies: docs
            .iter()
            .map(|(home, study, uid)| StudyRequest {
                study_instance_uid: Some(study.to_string()),
                series: vec![SeriesRequest {
                    series_instance_uid: Some(format!("{study}.1")),
                    documents: vec![DocumentRequest {
                        home_community_id: Some(home.to_string()),
                        repository_unique_id: Some("1.2.9".into()),
                        document_unique_id: Some(uid.to_string()),
                    }],
                }],
            })
            .collect(),
        transfer_syntaxes: ts.map(|v| v.iter().map(|s| s.to_string()).collect()),
    }
}

fn doc_response(home: &str, uid: &str) -> DocumentResponse {
    DocumentResponse {
        home_community_id: Some(home.into()),
        repository_unique_id: Some("1.2.9".into()),
        document_unique_id: Some(uid.into()),
        new_repository_unique_id: None,
        new_document_unique_id: None,
        mime_type: Some("application/dicom".into()),
        document: Some(DocumentContent::Xop {
            href: soap::cid_url("d1"),
        }),
    }
}

fn error(code: &str) -> RegistryError {
    RegistryError {
        error_code: Some(code.into()),
        code_context: Some("why".into()),
        location: None,
        severity: Some(e::SEVERITY_ERROR.into()),
    }
}

fn response(
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

fn consumer(r: &RetrieveImagingDocumentSetRequest, a: &RetrieveDocumentSetResponse) -> Exchange {
    let env = soap::response_envelope(e::ACTION_RETRIEVE_RESPONSE, "urn:uuid:1", &a.to_xml());
    let mut ex = outbound(Transaction::Rad69, "application/soap+xml", env.as_bytes());
    let req = soap::envelope(
        e::ACTION_RETRIEVE_IMAGING,
        "urn:uuid:1",
        Some("http://sut/iig"),
        &r.to_xml(),
    );
    ex.request.headers = vec![("Content-Type".into(), "application/soap+xml".into())];
    ex.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::from(req.into_bytes()));
    ex
}

fn leg(
    community: &str,
    r: RetrieveImagingDocumentSetRequest,
    answer: Option<RetrieveDocumentSetResponse>,
) -> Leg {
    Leg {
        community: community.into(),
        url: format!("http://h/xca-i/{community}"),
        transaction: Some(Transaction::Rad75),
        request: Some(Message::RetrieveImagingDocumentSetRequest(r)),
        answer: answer.map(Message::RetrieveDocumentSetResponse),
        documents: BTreeMap::new(),
    }
}

fn two() -> RetrieveImagingDocumentSetRequest {
    request(&[(A, "1.2.1", "u1"), (B, "1.2.2", "u2")], Some(&[ELE]))
}

fn good_legs() -> Vec<Leg> {
    vec![
        leg(A, request(&[(A, "1.2.1", "u1")], Some(&[ELE])), None),
        leg(B, request(&[(B, "1.2.2", "u2")], Some(&[ELE])), None),
    ]
}

#[test]
fn xcai_09_one_request_per_community() {
    let ex = consumer(&two(), &response(e::RESPONSE_SUCCESS, vec![], vec![]));
    assert_eq!(outcome("XCAI-09", &ex, good_legs(), false), Outcome::Pass);
    let one = vec![leg(A, two(), None)];
    assert_eq!(outcome("XCAI-09", &ex, one, false), Outcome::Fail);
    assert_eq!(outcome("XCAI-09", &ex, vec![], false), Outcome::Fail);
    let only_a = consumer(
        &request(&[(A, "1.2.1", "u1")], Some(&[ELE])),
        &response(e::RESPONSE_SUCCESS, vec![], vec![]),
    );
    assert_eq!(
        outcome("XCAI-09", &only_a, good_legs(), false),
        Outcome::Fail
    );
}

#[test]
fn xcai_10_the_request_is_kept() {
    let ex = consumer(&two(), &response(e::RESPONSE_SUCCESS, vec![], vec![]));
    assert_eq!(outcome("XCAI-10", &ex, good_legs(), false), Outcome::Pass);
    let no_ts = vec![
        leg(A, request(&[(A, "1.2.1", "u1")], None), None),
        leg(B, request(&[(B, "1.2.2", "u2")], Some(&[ELE])), None),
    ];
    assert_eq!(outcome("XCAI-10", &ex, no_ts, false), Outcome::Fail);
    let moved = vec![
        leg(A, request(&[(A, "1.2.7", "u1")], Some(&[ELE])), None),
        leg(B, request(&[(B, "1.2.2", "u2")], Some(&[ELE])), None),
    ];
    assert_eq!(outcome("XCAI-10", &ex, moved, false), Outcome::Fail);
    let rehomed = vec![
        leg(A, request(&[(B, "1.2.1", "u1")], Some(&[ELE])), None),
        leg(B, request(&[(B, "1.2.2", "u2")], Some(&[ELE])), None),
    ];
    assert_eq!(outcome("XCAI-10", &ex, rehomed, false), Outcome::Fail);
}

#[test]
fn xcai_12_partial_success() {
    let legs = || {
        vec![
            leg(
                A,
                request(&[(A, "1.2.1", "u1")], Some(&[ELE])),
                Some(response(
                    e::RESPONSE_SUCCESS,
                    vec![],
                    vec![doc_response(A, "u1")],
                )),
            ),
            leg(
                B,
                request(&[(B, "1.2.2", "u2")], Some(&[ELE])),
                Some(response(
                    e::RESPONSE_FAILURE,
                    vec![error("XDSDocumentUniqueIdError")],
                    vec![],
                )),
            ),
        ]
    };
    let partial = response(
        e::RESPONSE_PARTIAL_SUCCESS,
        vec![error("XDSDocumentUniqueIdError")],
        vec![doc_response(A, "u1")],
    );
    assert_eq!(
        outcome("XCAI-12", &consumer(&two(), &partial), legs(), false),
        Outcome::Pass
    );
    let hidden = response(e::RESPONSE_SUCCESS, vec![], vec![doc_response(A, "u1")]);
    assert_eq!(
        outcome("XCAI-12", &consumer(&two(), &hidden), legs(), false),
        Outcome::Fail
    );
    // Both communities answered: nothing to consolidate.
    assert_eq!(
        outcome("XCAI-12", &consumer(&two(), &hidden), good_legs(), false),
        Outcome::NotApplicable
    );
}

#[test]
fn xcai_13_and_15_unknown_community() {
    let req = request(&[(U, "1.2.1", "u1")], Some(&[ELE]));
    let refused = response(
        e::RESPONSE_FAILURE,
        vec![error("XDSUnknownCommunity")],
        vec![],
    );
    assert_eq!(
        outcome("XCAI-13", &consumer(&req, &refused), vec![], false),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XCAI-15", &consumer(&req, &refused), vec![], false),
        Outcome::Pass
    );
    let silent = response(e::RESPONSE_SUCCESS, vec![], vec![]);
    assert_eq!(
        outcome("XCAI-13", &consumer(&req, &silent), vec![], false),
        Outcome::Fail
    );
    let returned = response(
        e::RESPONSE_SUCCESS,
        vec![error("XDSUnknownCommunity")],
        vec![doc_response(U, "u1")],
    );
    assert_eq!(
        outcome("XCAI-13", &consumer(&req, &returned), vec![], false),
        Outcome::Fail
    );
    let other = response(
        e::RESPONSE_FAILURE,
        vec![error("XDSRepositoryError")],
        vec![],
    );
    assert_eq!(
        outcome("XCAI-13", &consumer(&req, &other), vec![], false),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XCAI-15", &consumer(&req, &other), vec![], true),
        Outcome::Fail
    );
    // A request of known communities only is no such case.
    assert_eq!(
        outcome("XCAI-13", &consumer(&two(), &silent), good_legs(), false),
        Outcome::NotApplicable
    );
}
