//! Each XDSI check passes on a conformant message and fails on a broken one.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::checks::xds::tests::{inbound, outbound};
use crate::checks::{evaluate, Expect, Outcome};
use crate::evidence::Exchange;
use crate::model::ebrim::{
    AdhocQueryResponse, DocumentResponse, RegistryError, RegistryObjectList,
    RetrieveDocumentSetResponse,
};
use crate::model::fixtures::{FixtureInstance, Fixtures};
use crate::model::xds_metadata::{manifest_submission, AffinityDomain, SubmissionContext};
use crate::transport::soap;

fn fixtures() -> Fixtures {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
    Fixtures::load(&dir).unwrap()
}

fn outcome(id: &str, ex: &Exchange, x: &XdsExpect) -> Outcome {
    let check = CHECKS.iter().find(|c| c.id == id).unwrap();
    let expect = Expect {
        xds: x.clone(),
        ..Expect::default()
    };
    evaluate(
        check,
        &Subject {
            exchange: ex,
            expect: &expect,
            strict: true,
            followups: &[],
        },
    )
    .outcome
}

fn mtom_response(body_xml: &str, atts: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let env = soap::response_envelope(e::ACTION_RETRIEVE_RESPONSE, "urn:uuid:1", body_xml);
    soap::mtom(&env, atts)
}

fn status_response(status: &str, codes: &[&str]) -> Exchange {
    let r = AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(status.into()),
            has_error_list: !codes.is_empty(),
            errors: codes
                .iter()
                .map(|c| RegistryError {
                    error_code: Some((*c).into()),
                    code_context: Some("x".into()),
                    location: None,
                    severity: Some(e::SEVERITY_ERROR.into()),
                })
                .collect(),
        },
        objects: RegistryObjectList::default(),
        has_object_list: true,
    };
    let env = soap::response_envelope(e::ACTION_STORED_QUERY_RESPONSE, "urn:uuid:1", &r.to_xml());
    outbound("ITI-18", "application/soap+xml", env.as_bytes())
}

#[test]
fn xdsi_01_status_and_error_code() {
    let x = XdsExpect {
        statuses: vec![e::RESPONSE_FAILURE.into()],
        error_codes: vec!["XDSStoredQueryMissingParam".into()],
        ..XdsExpect::default()
    };
    let good = status_response(e::RESPONSE_FAILURE, &["XDSStoredQueryMissingParam"]);
    assert_eq!(outcome("XDSI-01", &good, &x), Outcome::Pass);
    let wrong_code = status_response(e::RESPONSE_FAILURE, &["XDSRegistryError"]);
    assert_eq!(outcome("XDSI-01", &wrong_code, &x), Outcome::Fail);
    let success = status_response(e::RESPONSE_SUCCESS, &[]);
    assert_eq!(outcome("XDSI-01", &success, &x), Outcome::Fail);
    let html = outbound("ITI-18", "text/html", b"<html/>");
    assert_eq!(outcome("XDSI-01", &html, &x), Outcome::Fail);
    assert_eq!(
        outcome("XDSI-01", &good, &XdsExpect::default()),
        Outcome::NotApplicable
    );
}

/// A RAD-68 submission of a fixture manifest, as the harness builds it.
fn submission(kos: &FixtureInstance, bytes: &[u8]) -> e::ProvideAndRegisterRequest {
    let m = kos::parse(bytes).unwrap();
    let ctx = SubmissionContext::for_manifest(
        &format!("{}^^^&1.2.3&ISO", kos.patient_id),
        "1.2.3.4",
        &kos.sop_uid,
        BTreeMap::new(),
    );
    manifest_submission(bytes, &m, &ctx, &AffinityDomain::default_set())
}

fn manifest() -> (FixtureInstance, Vec<u8>, BTreeSet<String>) {
    let fx = fixtures();
    let kos = fx
        .instances
        .iter()
        .find(|i| i.kos && i.study_alias == "CT-CHEST")
        .unwrap()
        .clone();
    let bytes = std::fs::read(fx.file(&kos)).unwrap();
    let modalities = BTreeSet::from(["CT".to_string()]);
    (kos, bytes, modalities)
}

fn query_response(pnr: &e::ProvideAndRegisterRequest) -> Exchange {
    let r = AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(e::RESPONSE_SUCCESS.into()),
            ..Default::default()
        },
        objects: RegistryObjectList {
            extrinsic_objects: pnr.submit.objects.extrinsic_objects.clone(),
            ..Default::default()
        },
        has_object_list: true,
    };
    let env = soap::response_envelope(e::ACTION_STORED_QUERY_RESPONSE, "urn:uuid:1", &r.to_xml());
    outbound("ITI-18", "application/soap+xml", env.as_bytes())
}

#[test]
fn xdsi_02_query_returns_exactly_the_matches() {
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let ex = query_response(&pnr);
    let good = XdsExpect {
        matches: Some(BTreeSet::from([kos.sop_uid.clone()])),
        ..XdsExpect::default()
    };
    assert_eq!(outcome("XDSI-02", &ex, &good), Outcome::Pass);
    let more = XdsExpect {
        matches: Some(BTreeSet::from([kos.sop_uid.clone(), "1.2.3".into()])),
        ..XdsExpect::default()
    };
    assert_eq!(outcome("XDSI-02", &ex, &more), Outcome::Fail);
    let none = XdsExpect {
        matches: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    assert_eq!(outcome("XDSI-02", &ex, &none), Outcome::Fail);
}

/// An ITI-43 response carrying `bytes` as the manifest, labelled `mime`.
fn retrieve_response(uid: &str, mime: &str, bytes: &[u8]) -> Exchange {
    let r = RetrieveDocumentSetResponse {
        registry_response: Some(RegistryResponse {
            status: Some(e::RESPONSE_SUCCESS.into()),
            ..Default::default()
        }),
        documents: vec![DocumentResponse {
            repository_unique_id: Some("1.2.3".into()),
            document_unique_id: Some(uid.into()),
            mime_type: Some(mime.into()),
            document: Some(DocumentContent::Xop {
                href: soap::cid_url("doc0@x"),
            }),
            ..Default::default()
        }],
    };
    let (ct, body) = mtom_response(&r.to_xml(), &[("doc0@x", mime, bytes)]);
    outbound("ITI-43", &ct, &body)
}

#[test]
fn xdsi_03_04_retrieved_document_as_registered() {
    let (kos, bytes, modalities) = manifest();
    let pnr = submission(&kos, &bytes);
    let entry = pnr.submit.objects.extrinsic_objects[0].document_entry();
    let x = XdsExpect {
        documents: BTreeMap::from([(
            kos.sop_uid.clone(),
            RegisteredDoc {
                mime_type: entry.mime_type.clone(),
                hash: entry.hash.clone(),
                size: entry.size.as_deref().and_then(|s| s.parse().ok()),
            },
        )]),
        entry: Some(entry),
        modalities,
        ..XdsExpect::default()
    };
    let good = retrieve_response(&kos.sop_uid, "application/dicom", &bytes);
    for id in [
        "XDSI-03", "XDSI-04", "XDSI-05", "XDSI-06", "XDSI-07", "XDSI-08",
    ] {
        assert_eq!(outcome(id, &good, &x), Outcome::Pass, "{id}");
    }
    let wrong_mime = retrieve_response(&kos.sop_uid, "application/octet-stream", &bytes);
    assert_eq!(outcome("XDSI-03", &wrong_mime, &x), Outcome::Fail);
    let mut changed = bytes.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    let corrupt = retrieve_response(&kos.sop_uid, "application/dicom", &changed);
    assert_eq!(outcome("XDSI-04", &corrupt, &x), Outcome::Fail);
}

#[test]
fn xdsi_05_to_08_metadata_against_the_manifest() {
    let (kos, bytes, modalities) = manifest();
    let good = submission(&kos, &bytes);
    let ex = |p: &e::ProvideAndRegisterRequest| {
        let env = soap::envelope(e::ACTION_PNR, "urn:uuid:9", Some("http://x"), &p.to_xml());
        let cid = crate::model::xds_metadata::document_entry_content_id(p).unwrap();
        let (ct, body) = soap::mtom(&env, &[(cid.as_str(), "application/dicom", &bytes)]);
        inbound("RAD-68", &ct, &body)
    };
    let x = XdsExpect {
        modalities,
        ..XdsExpect::default()
    };
    for id in ["XDSI-05", "XDSI-06", "XDSI-07", "XDSI-08"] {
        assert_eq!(outcome(id, &ex(&good), &x), Outcome::Pass, "{id}");
    }
    let mut bad = good.clone();
    let eo = &mut bad.submit.objects.extrinsic_objects[0];
    for i in &mut eo.external_identifiers {
        if i.scheme.as_deref() == Some(e::DE_UNIQUE_ID) {
            i.value = Some("1.2.3.4.5".into());
        }
    }
    for s in &mut eo.slots {
        if s.name == "sourcePatientId" {
            s.values = vec!["OTHER^^^&1.2&ISO".into()];
        }
        if s.name == e::SLOT_REFERENCE_ID_LIST {
            s.values.clear();
        }
    }
    eo.classifications
        .retain(|c| c.scheme.as_deref() != Some(e::DE_EVENT_CODE));
    for id in ["XDSI-05", "XDSI-06", "XDSI-07", "XDSI-08"] {
        assert_eq!(outcome(id, &ex(&bad), &x), Outcome::Fail, "{id}");
    }
}

/// A RAD-69 response holding these fixture files.
fn rad69_response(insts: &[&FixtureInstance], fx: &Fixtures) -> Exchange {
    let files: Vec<Vec<u8>> = insts
        .iter()
        .map(|i| std::fs::read(fx.file(i)).unwrap())
        .collect();
    let cids: Vec<String> = (0..insts.len()).map(|n| format!("img{n}@x")).collect();
    let r = RetrieveDocumentSetResponse {
        registry_response: Some(RegistryResponse {
            status: Some(e::RESPONSE_SUCCESS.into()),
            ..Default::default()
        }),
        documents: insts
            .iter()
            .zip(&cids)
            .map(|(i, c)| DocumentResponse {
                repository_unique_id: Some("1.2.3".into()),
                document_unique_id: Some(i.sop_uid.clone()),
                mime_type: Some("application/dicom".into()),
                document: Some(DocumentContent::Xop {
                    href: soap::cid_url(c),
                }),
                ..Default::default()
            })
            .collect(),
    };
    let atts: Vec<(&str, &str, &[u8])> = cids
        .iter()
        .zip(&files)
        .map(|(c, f)| (c.as_str(), "application/dicom", f.as_slice()))
        .collect();
    let (ct, body) = mtom_response(&r.to_xml(), &atts);
    outbound("RAD-69", &ct, &body)
}

#[test]
fn xdsi_09_10_rad69_returns_what_was_asked_in_an_accepted_syntax() {
    let fx = fixtures();
    let dx: Vec<&FixtureInstance> = fx
        .instances
        .iter()
        .filter(|i| i.study_alias == "DX-CHEST" && !i.kos)
        .collect();
    let requested: BTreeMap<String, (String, String)> = dx
        .iter()
        .map(|i| {
            (
                i.sop_uid.clone(),
                (i.study_uid.clone(), i.series_uid.clone()),
            )
        })
        .collect();
    let x = XdsExpect {
        transfer_syntaxes: vec!["1.2.840.10008.1.2.4.50".into()],
        requested: requested.clone(),
        returnable: Some(requested.keys().cloned().collect()),
        ..XdsExpect::default()
    };
    let good = rad69_response(&dx, &fx);
    assert_eq!(outcome("XDSI-09", &good, &x), Outcome::Pass);
    assert_eq!(outcome("XDSI-10", &good, &x), Outcome::Pass);
    let ele_only = XdsExpect {
        transfer_syntaxes: vec!["1.2.840.10008.1.2.1".into()],
        ..x.clone()
    };
    assert_eq!(outcome("XDSI-09", &good, &ele_only), Outcome::Fail);
    let one = rad69_response(&dx[..1], &fx);
    assert_eq!(outcome("XDSI-10", &one, &x), Outcome::Fail, "one missing");
    let other = fx
        .instances
        .iter()
        .find(|i| i.study_alias == "MR-BRAIN" && !i.kos)
        .unwrap();
    let mut with_foreign = dx.clone();
    with_foreign.push(other);
    let foreign = rad69_response(&with_foreign, &fx);
    assert_eq!(
        outcome("XDSI-10", &foreign, &x),
        Outcome::Fail,
        "not asked for"
    );
}

#[test]
fn xdsi_11_consumer_asks_for_the_manifest_references() {
    let fx = fixtures();
    let dx: Vec<&FixtureInstance> = fx
        .instances
        .iter()
        .filter(|i| i.study_alias == "DX-CHEST" && !i.kos)
        .collect();
    let x = XdsExpect {
        requested: dx
            .iter()
            .map(|i| {
                (
                    i.sop_uid.clone(),
                    (i.study_uid.clone(), i.series_uid.clone()),
                )
            })
            .collect(),
        retrieve_location: Some("1.3.6.1.4.1.21367.13.80.110".into()),
        ..XdsExpect::default()
    };
    let request = |repo: &str, sop: &str| {
        let r = e::RetrieveImagingDocumentSetRequest {
            studies: vec![e::StudyRequest {
                study_instance_uid: Some(dx[0].study_uid.clone()),
                series: vec![e::SeriesRequest {
                    series_instance_uid: Some(dx[0].series_uid.clone()),
                    documents: vec![e::DocumentRequest {
                        home_community_id: None,
                        repository_unique_id: Some(repo.into()),
                        document_unique_id: Some(sop.into()),
                    }],
                }],
            }],
            transfer_syntaxes: Some(vec!["1.2.840.10008.1.2.1".into()]),
        };
        let env = soap::envelope(
            e::ACTION_RETRIEVE_IMAGING,
            "urn:uuid:7",
            Some("http://x"),
            &r.to_xml(),
        );
        let (ct, body) = soap::mtom(&env, &[]);
        inbound("RAD-69", &ct, &body)
    };
    let good = request("1.3.6.1.4.1.21367.13.80.110", &dx[0].sop_uid);
    assert_eq!(outcome("XDSI-11", &good, &x), Outcome::Pass);
    let wrong_repo = request("1.2.3", &dx[0].sop_uid);
    assert_eq!(outcome("XDSI-11", &wrong_repo, &x), Outcome::Fail);
    let not_referenced = request("1.3.6.1.4.1.21367.13.80.110", "1.2.3.4");
    assert_eq!(outcome("XDSI-11", &not_referenced, &x), Outcome::Fail);
}
