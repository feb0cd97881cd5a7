//! Each XCA check passes on a conformant gateway answer and fails on a broken one.

use super::*;
use crate::checks::xds::tests::outbound;
use crate::checks::{evaluate, Expect, Outcome};
use crate::evidence::Exchange;
use crate::model::ebrim::{
    AdhocQueryRequest, AdhocQueryResponse, DocumentContent, DocumentRequest, DocumentResponse,
    ObjectRef, RegistryError, RegistryObject, RegistryObjectList, RegistryResponse,
    RetrieveDocumentSetRequest, RetrieveDocumentSetResponse,
};
use crate::transport::soap;

const HOME: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.201";
const OTHER: &str = "urn:oid:1.2.555.6.7.8";

fn outcome(id: &str, ex: &Exchange, strict: bool) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
    let expect = Expect {
        xca: XcaExpect {
            home_community_ids: vec![HOME.into()],
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

fn with_request(mut ex: Exchange, action: &str, body_xml: &str) -> Exchange {
    let env = soap::envelope(action, "urn:uuid:1", Some("http://sut/xca"), body_xml);
    ex.request.headers = vec![("Content-Type".into(), "application/soap+xml".into())];
    ex.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::from(env.into_bytes()));
    ex
}

fn query_exchange(q: &AdhocQueryRequest, r: &AdhocQueryResponse) -> Exchange {
    let env = soap::response_envelope(e::ACTION_XC_QUERY_RESPONSE, "urn:uuid:1", &r.to_xml());
    let ex = outbound(Transaction::Iti38, "application/soap+xml", env.as_bytes());
    with_request(ex, e::ACTION_XC_QUERY, &q.to_xml())
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

fn response(status: &str, codes: &[&str], objects: RegistryObjectList) -> AdhocQueryResponse {
    AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(status.into()),
            has_error_list: !codes.is_empty(),
            errors: codes
                .iter()
                .map(|c| RegistryError {
                    error_code: Some((*c).into()),
                    code_context: Some("x".into()),
                    location: Some(HOME.into()),
                    severity: Some(e::SEVERITY_ERROR.into()),
                })
                .collect(),
        },
        objects,
        has_object_list: true,
    }
}

fn find() -> AdhocQueryRequest {
    AdhocQueryRequest::find_documents(
        "P1^^^&1.2.3&ISO",
        &[e::STATUS_APPROVED],
        &[(e::KOS_FORMAT_CODE, e::KOS_FORMAT_CODING_SCHEME)],
        "LeafClass",
    )
}

#[test]
fn iti38_01_home_on_every_object_of_the_gateway() {
    let good = RegistryObjectList {
        extrinsic_objects: vec![
            entry("urn:uuid:a", Some(HOME)),
            entry("urn:uuid:b", Some(HOME)),
        ],
        registry_packages: vec![RegistryObject {
            kind: e::ObjectKind::RegistryPackage,
            ..entry("urn:uuid:c", Some(HOME))
        }],
        ..RegistryObjectList::default()
    };
    let ok = query_exchange(&find(), &response(e::RESPONSE_SUCCESS, &[], good.clone()));
    assert_eq!(outcome("ITI38-01", &ok, false), Outcome::Pass);

    let mut missing = good.clone();
    missing.extrinsic_objects[1].home = None;
    let ex = query_exchange(&find(), &response(e::RESPONSE_SUCCESS, &[], missing));
    assert_eq!(outcome("ITI38-01", &ex, false), Outcome::Fail);

    let mut foreign = good.clone();
    foreign.registry_packages[0].home = Some(OTHER.into());
    let ex = query_exchange(&find(), &response(e::RESPONSE_SUCCESS, &[], foreign));
    assert_eq!(outcome("ITI38-01", &ex, false), Outcome::Fail);

    let refs = RegistryObjectList {
        object_refs: vec![
            ObjectRef {
                id: Some("urn:uuid:a".into()),
                home: Some(HOME.into()),
            },
            ObjectRef {
                id: Some("urn:uuid:b".into()),
                home: None,
            },
        ],
        ..RegistryObjectList::default()
    };
    let ex = query_exchange(&find(), &response(e::RESPONSE_SUCCESS, &[], refs));
    assert_eq!(outcome("ITI38-01", &ex, false), Outcome::Fail);

    // Nothing returned, or another transaction: nothing to judge.
    let empty = query_exchange(
        &find(),
        &response(e::RESPONSE_SUCCESS, &[], RegistryObjectList::default()),
    );
    assert_eq!(outcome("ITI38-01", &empty, false), Outcome::NotApplicable);
    let mut iti18 = ok.clone();
    iti18.transaction = Transaction::Iti18;
    assert_eq!(outcome("ITI38-01", &iti18, false), Outcome::NotApplicable);
}

#[test]
fn iti38_03_unknown_community_is_refused() {
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3"], "LeafClass");
    q.home = Some(OTHER.into());
    let refused = query_exchange(
        &q,
        &response(
            e::RESPONSE_FAILURE,
            &["XDSUnknownCommunity"],
            RegistryObjectList::default(),
        ),
    );
    assert_eq!(outcome("ITI38-03", &refused, false), Outcome::Pass);
    let answered = query_exchange(
        &q,
        &response(
            e::RESPONSE_SUCCESS,
            &[],
            RegistryObjectList {
                extrinsic_objects: vec![entry("urn:uuid:a", Some(HOME))],
                ..RegistryObjectList::default()
            },
        ),
    );
    assert_eq!(outcome("ITI38-03", &answered, false), Outcome::Fail);
    let other_code = query_exchange(
        &q,
        &response(
            e::RESPONSE_FAILURE,
            &["XDSRegistryError"],
            RegistryObjectList::default(),
        ),
    );
    assert_eq!(outcome("ITI38-03", &other_code, false), Outcome::Fail);
    // A query naming the gateway's own community is not this check's.
    q.home = Some(HOME.into());
    let own = query_exchange(
        &q,
        &response(e::RESPONSE_SUCCESS, &[], RegistryObjectList::default()),
    );
    assert_eq!(outcome("ITI38-03", &own, false), Outcome::NotApplicable);
}

fn retrieve_exchange(
    home: &str,
    status: &str,
    codes: &[&str],
    docs: Vec<DocumentResponse>,
) -> Exchange {
    let req = RetrieveDocumentSetRequest {
        documents: vec![DocumentRequest {
            home_community_id: Some(home.into()),
            repository_unique_id: Some("1.2.9".into()),
            document_unique_id: Some("1.2.3".into()),
        }],
    };
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(RegistryResponse {
            status: Some(status.into()),
            has_error_list: !codes.is_empty(),
            errors: codes
                .iter()
                .map(|c| RegistryError {
                    error_code: Some((*c).into()),
                    code_context: Some("x".into()),
                    location: Some(HOME.into()),
                    severity: Some(e::SEVERITY_ERROR.into()),
                })
                .collect(),
        }),
        documents: docs,
    };
    let env = soap::response_envelope(e::ACTION_XC_RETRIEVE_RESPONSE, "urn:uuid:1", &resp.to_xml());
    let (ct, body) = soap::mtom(&env, &[("doc0@x", "application/dicom", b"DICM")]);
    let ex = outbound(Transaction::Iti39, &ct, &body);
    with_request(ex, e::ACTION_XC_RETRIEVE, &req.to_xml())
}

fn doc(home: &str) -> DocumentResponse {
    DocumentResponse {
        home_community_id: Some(home.into()),
        repository_unique_id: Some("1.2.9".into()),
        document_unique_id: Some("1.2.3".into()),
        new_repository_unique_id: None,
        new_document_unique_id: None,
        mime_type: Some("application/dicom".into()),
        document: Some(DocumentContent::Xop {
            href: soap::cid_url("doc0@x"),
        }),
    }
}

#[test]
fn iti39_04_unknown_community_in_a_retrieve_is_refused() {
    let refused = retrieve_exchange(OTHER, e::RESPONSE_FAILURE, &["XDSUnknownCommunity"], vec![]);
    assert_eq!(outcome("ITI39-04", &refused, true), Outcome::Pass);
    let returned = retrieve_exchange(OTHER, e::RESPONSE_SUCCESS, &[], vec![doc(OTHER)]);
    assert_eq!(outcome("ITI39-04", &returned, true), Outcome::Fail);
    let other_code = retrieve_exchange(
        OTHER,
        e::RESPONSE_FAILURE,
        &["XDSDocumentUniqueIdError"],
        vec![],
    );
    assert_eq!(outcome("ITI39-04", &other_code, true), Outcome::Fail);
    let own = retrieve_exchange(HOME, e::RESPONSE_SUCCESS, &[], vec![doc(HOME)]);
    assert_eq!(outcome("ITI39-04", &own, true), Outcome::NotApplicable);
}

#[test]
fn iti39_01_home_community_in_every_document_response() {
    let ok = retrieve_exchange(HOME, e::RESPONSE_SUCCESS, &[], vec![doc(HOME)]);
    assert_eq!(outcome("ITI39-01", &ok, false), Outcome::Pass);
    let mut d = doc(HOME);
    d.home_community_id = None;
    let missing = retrieve_exchange(HOME, e::RESPONSE_SUCCESS, &[], vec![d]);
    assert_eq!(outcome("ITI39-01", &missing, false), Outcome::Fail);
    // The Cross Gateway actions are the ones XDS-SOAP-02 expects of ITI-39.
    assert_eq!(outcome("XDS-SOAP-02", &ok, false), Outcome::Pass);
}

#[test]
fn nist_iti38_response_carries_home_on_every_object() {
    // fixtures/corpus/xds/nist-soap-xcq-resp.xml (NIST XDS Toolkit message-validator test data):
    // both ExtrinsicObjects carry home="urn:oid:2.3.4".
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus/xds/nist-soap-xcq-resp.xml");
    let body = std::fs::read(path).unwrap();
    let ex = outbound(Transaction::Iti38, "application/soap+xml", &body);
    let judge = |communities: &[&str]| {
        let expect = Expect {
            xca: XcaExpect {
                home_community_ids: communities.iter().map(|c| c.to_string()).collect(),
            },
            ..Expect::default()
        };
        evaluate(
            crate::checks::by_id("ITI38-01").unwrap(),
            &Subject {
                exchange: &ex,
                expect: &expect,
                strict: false,
                followups: &[],
            },
        )
        .outcome
    };
    assert_eq!(judge(&["urn:oid:2.3.4"]), Outcome::Pass);
    assert_eq!(judge(&[HOME]), Outcome::Fail);
}

#[test]
fn iti38_05_and_iti39_02_errors_name_the_gateways_community() {
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3"], "LeafClass");
    q.home = Some(OTHER.into());
    let mut r = response(
        e::RESPONSE_FAILURE,
        &["XDSUnknownCommunity"],
        RegistryObjectList::default(),
    );
    assert_eq!(
        outcome("ITI38-05", &query_exchange(&q, &r), false),
        Outcome::Pass
    );
    r.response.errors[0].location = Some("registry".into());
    assert_eq!(
        outcome("ITI38-05", &query_exchange(&q, &r), false),
        Outcome::Fail
    );
    r.response.errors[0].location = None;
    assert_eq!(
        outcome("ITI38-05", &query_exchange(&q, &r), false),
        Outcome::Fail
    );
    let ok = retrieve_exchange(OTHER, e::RESPONSE_FAILURE, &["XDSUnknownCommunity"], vec![]);
    assert_eq!(outcome("ITI39-02", &ok, false), Outcome::Pass);
    let none = retrieve_exchange(HOME, e::RESPONSE_SUCCESS, &[], vec![doc(HOME)]);
    assert_eq!(outcome("ITI39-02", &none, false), Outcome::NotApplicable);
}

#[test]
fn iti39_02_reads_the_community_as_a_token_of_the_location() {
    let with = |location: &str| {
        let mut ex =
            retrieve_exchange(OTHER, e::RESPONSE_FAILURE, &["XDSUnknownCommunity"], vec![]);
        let body = String::from_utf8_lossy(&ex.response.as_ref().unwrap().body.kept).replace(
            &format!("location=\"{HOME}\""),
            &format!("location=\"{location}\""),
        );
        let (ct, b) = (
            ex.response
                .as_ref()
                .unwrap()
                .header("content-type")
                .unwrap()
                .to_string(),
            body.into_bytes(),
        );
        let req = ex.request.clone();
        ex = outbound(Transaction::Iti39, &ct, &b);
        ex.request = req;
        outcome("ITI39-02", &ex, false)
    };
    assert_eq!(with(&format!("{HOME}/1.2.3")), Outcome::Pass);
    assert_eq!(with(&format!("1.2.3 {HOME}")), Outcome::Pass);
    assert_eq!(with("1.2.3"), Outcome::Fail);
    assert_eq!(with(&format!("{HOME}.9")), Outcome::Fail);
}
