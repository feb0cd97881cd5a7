//! Each XCA-I check passes on a conformant Responding Imaging Gateway answer and fails on a
//! broken one.

use std::collections::BTreeSet;

use super::*;
use crate::checks::xds::tests::outbound;
use crate::checks::xds_i::XdsExpect;
use crate::checks::{evaluate, Expect, Outcome};
use crate::evidence::Exchange;
use crate::model::ebrim::{
    DocumentContent, DocumentResponse, RegistryError, RegistryResponse,
    RetrieveImagingDocumentSetRequest, SeriesRequest, StudyRequest,
};
use crate::transport::soap;

const HOME: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.201";
const OTHER: &str = "urn:oid:1.2.555.6.7.8";
const SOURCE: &str = "1.3.6.1.4.1.21367.13.71.201.1";
const UNKNOWN_SOURCE: &str = "1.3.6.1.4.1.21367.13.71.201.2.999";

fn expect() -> Expect {
    Expect {
        xcai: XcaiExpect {
            home_community_ids: vec![HOME.into()],
            unknown_repositories: vec![UNKNOWN_SOURCE.into()],
            unproducible_syntaxes: false,
        },
        xds: XdsExpect {
            returnable: Some(BTreeSet::from(["1.2.3.1".to_string()])),
            ..XdsExpect::default()
        },
        ..Expect::default()
    }
}

fn outcome_with(id: &str, ex: &Exchange, expect: &Expect, strict: bool) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
    evaluate(
        check,
        &Subject {
            exchange: ex,
            expect,
            strict,
            followups: &[],
        },
    )
    .outcome
}

fn outcome(id: &str, ex: &Exchange) -> Outcome {
    outcome_with(id, ex, &expect(), true)
}

/// A request: (DocumentUniqueId, RepositoryUniqueId, HomeCommunityId).
fn request(docs: &[(&str, &str, Option<&str>)]) -> RetrieveImagingDocumentSetRequest {
    RetrieveImagingDocumentSetRequest {
        studies: vec![StudyRequest {
            study_instance_uid: Some("1.2".into()),
            series: vec![SeriesRequest {
                series_instance_uid: Some("1.2.3".into()),
                documents: docs
                    .iter()
                    .map(|(uid, repo, home)| DocumentRequest {
                        home_community_id: home.map(str::to_string),
                        repository_unique_id: Some((*repo).into()),
                        document_unique_id: Some((*uid).into()),
                    })
                    .collect(),
            }],
        }],
        transfer_syntaxes: Some(vec!["1.2.840.10008.1.2.1".into()]),
    }
}

fn doc(uid: &str, home: Option<&str>) -> DocumentResponse {
    DocumentResponse {
        home_community_id: home.map(str::to_string),
        repository_unique_id: Some(SOURCE.into()),
        document_unique_id: Some(uid.into()),
        new_repository_unique_id: None,
        new_document_unique_id: None,
        mime_type: Some("application/dicom".into()),
        document: Some(DocumentContent::Xop {
            href: soap::cid_url("img0@x"),
        }),
    }
}

/// An exchange: the request, the answer's status, its errors (code, location), its documents,
/// and the response action.
fn exchange(
    req: &RetrieveImagingDocumentSetRequest,
    status: &str,
    errors: &[(&str, &str)],
    docs: Vec<DocumentResponse>,
    action: &str,
) -> Exchange {
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(RegistryResponse {
            status: Some(status.into()),
            has_error_list: !errors.is_empty(),
            errors: errors
                .iter()
                .map(|(c, l)| RegistryError {
                    error_code: Some((*c).into()),
                    code_context: Some("x".into()),
                    location: Some((*l).into()),
                    severity: Some(e::SEVERITY_ERROR.into()),
                })
                .collect(),
        }),
        documents: docs,
    };
    let env = soap::response_envelope(action, "urn:uuid:1", &resp.to_xml());
    let (ct, body) = soap::mtom(&env, &[("img0@x", "application/dicom", b"DICM")]);
    let mut ex = outbound(Transaction::Rad75, &ct, &body);
    let req_env = soap::envelope(
        e::ACTION_XC_RETRIEVE_IMAGING,
        "urn:uuid:1",
        Some("http://sut/rig"),
        &req.to_xml(),
    );
    ex.request.headers = vec![("Content-Type".into(), "application/soap+xml".into())];
    ex.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::from(req_env.into_bytes()));
    ex
}

const ACTION: &str = e::ACTION_XC_RETRIEVE_IMAGING_RESPONSE;

#[test]
fn rad75_02_the_response_action() {
    let req = request(&[("1.2.3.1", SOURCE, Some(HOME))]);
    let good = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("RAD75-02", &good), Outcome::Pass);
    let rad69 = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        e::ACTION_RETRIEVE_RESPONSE,
    );
    assert_eq!(outcome("RAD75-02", &rad69), Outcome::Fail);
    // XDS-SOAP-02 judges the same action from the transaction's table.
    assert_eq!(outcome("XDS-SOAP-02", &rad69), Outcome::Fail);
    assert_eq!(outcome("XDS-SOAP-02", &good), Outcome::Pass);
}

#[test]
fn xcai_03_found_images_are_consolidated() {
    let req = request(&[
        ("1.2.3.1", SOURCE, Some(HOME)),
        ("1.2.3.9", SOURCE, Some(HOME)),
    ]);
    let partial = exchange(
        &req,
        e::RESPONSE_PARTIAL_SUCCESS,
        &[("XDSDocumentUniqueIdError", HOME)],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-03", &partial), Outcome::Pass);
    // RAD75-003: the failures may be suppressed; ITI43-02 does not hold that against RAD-75.
    let suppressed = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-03", &suppressed), Outcome::Pass);
    assert_eq!(outcome("ITI43-02", &suppressed), Outcome::Pass);
    let dropped = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[("XDSDocumentUniqueIdError", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-03", &dropped), Outcome::Fail);
    let one = exchange(
        &request(&[("1.2.3.1", SOURCE, Some(HOME))]),
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-03", &one), Outcome::NotApplicable);
}

#[test]
fn xcai_04_errors_are_located_at_the_gateways_community() {
    let req = request(&[("1.2.3.9", SOURCE, Some(HOME))]);
    let good = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[("XDSDocumentUniqueIdError", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-04", &good), Outcome::Pass);
    let source = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[("XDSDocumentUniqueIdError", "1.2.3.9")],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-04", &source), Outcome::Fail);
    let composite = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[("XDSDocumentUniqueIdError", &format!("{HOME}/1.2.3.9"))],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-04", &composite), Outcome::Fail);
    let none = exchange(
        &request(&[("1.2.3.1", SOURCE, Some(HOME))]),
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-04", &none), Outcome::NotApplicable);
}

#[test]
fn xcai_05_the_community_is_echoed() {
    let req = request(&[("1.2.3.1", SOURCE, Some(HOME))]);
    let good = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-05", &good), Outcome::Pass);
    let other = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(OTHER))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-05", &other), Outcome::Fail);
    let stripped = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", None)],
        ACTION,
    );
    assert_eq!(outcome("XCAI-05", &stripped), Outcome::Fail);
    assert_eq!(outcome("ITI39-01", &stripped), Outcome::Fail);
    assert_eq!(outcome("ITI39-01", &good), Outcome::Pass);
}

#[test]
fn xcai_06_an_unknown_repository_is_an_error_per_document() {
    let req = request(&[
        ("1.2.3.1", UNKNOWN_SOURCE, Some(HOME)),
        ("1.2.3.2", UNKNOWN_SOURCE, Some(HOME)),
    ]);
    let good = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[
            ("XDSUnknownRepositoryId", HOME),
            ("XDSUnknownRepositoryId", HOME),
        ],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-06", &good), Outcome::Pass);
    let silent = exchange(&req, e::RESPONSE_SUCCESS, &[], vec![], ACTION);
    assert_eq!(outcome("XCAI-06", &silent), Outcome::Fail);
    let one_error = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[("XDSUnknownRepositoryId", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-06", &one_error), Outcome::Fail);
    let known = exchange(
        &request(&[("1.2.3.1", SOURCE, Some(HOME))]),
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-06", &known), Outcome::NotApplicable);
}

#[test]
fn xcai_07_missing_and_unknown_communities_are_refused() {
    let missing = request(&[("1.2.3.1", SOURCE, None)]);
    let good = exchange(
        &missing,
        e::RESPONSE_FAILURE,
        &[("XDSMissingHomeCommunityId", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-07", &good), Outcome::Pass);
    let served = exchange(
        &missing,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-07", &served), Outcome::Fail);
    // SHOULD: advisory unless strict.
    let check = crate::checks::by_id("XCAI-07").unwrap();
    let x = expect();
    let lenient = evaluate(
        check,
        &Subject {
            exchange: &served,
            expect: &x,
            strict: false,
            followups: &[],
        },
    );
    assert!(lenient.advisory && !lenient.is_failure());
    let unknown = request(&[("1.2.3.1", SOURCE, Some(OTHER))]);
    let good = exchange(
        &unknown,
        e::RESPONSE_FAILURE,
        &[("XDSUnknownCommunity", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-07", &good), Outcome::Pass);
    let wrong_code = exchange(
        &unknown,
        e::RESPONSE_FAILURE,
        &[("XDSDocumentUniqueIdError", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome("XCAI-07", &wrong_code), Outcome::Fail);
    let ours = request(&[("1.2.3.1", SOURCE, Some(HOME))]);
    let ok = exchange(
        &ours,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(outcome("XCAI-07", &ok), Outcome::NotApplicable);
}

#[test]
fn xcai_08_an_unproducible_syntax_returns_no_image() {
    let mut x = expect();
    x.xcai.unproducible_syntaxes = true;
    let req = request(&[("1.2.3.1", SOURCE, Some(HOME))]);
    let good = exchange(
        &req,
        e::RESPONSE_FAILURE,
        &[("XDSRepositoryError", HOME)],
        vec![],
        ACTION,
    );
    assert_eq!(outcome_with("XCAI-08", &good, &x, true), Outcome::Pass);
    let transcoded = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", Some(HOME))],
        ACTION,
    );
    assert_eq!(
        outcome_with("XCAI-08", &transcoded, &x, true),
        Outcome::Fail
    );
    assert_eq!(outcome("XCAI-08", &transcoded), Outcome::NotApplicable);
}

#[test]
fn other_transactions_are_not_judged() {
    let req = request(&[("1.2.3.1", SOURCE, Some(HOME))]);
    let mut ex = exchange(
        &req,
        e::RESPONSE_SUCCESS,
        &[],
        vec![doc("1.2.3.1", None)],
        ACTION,
    );
    ex.transaction = Transaction::Rad69;
    for c in CHECKS {
        assert_eq!(outcome(c.id, &ex), Outcome::NotApplicable, "{}", c.id);
    }
}
