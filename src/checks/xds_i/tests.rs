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
use crate::transaction::Transaction;
use crate::transport::soap;

fn fixtures() -> Fixtures {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
    Fixtures::load(&dir).unwrap()
}

/// The outcome of check `id` (of any profile: XDS-I.b judges with the XDS checks), strict.
fn outcome(id: &str, ex: &Exchange, x: &XdsExpect) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
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
    outbound(Transaction::Iti18, "application/soap+xml", env.as_bytes())
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
    let html = outbound(Transaction::Iti18, "text/html", b"<html/>");
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
    outbound(Transaction::Iti18, "application/soap+xml", env.as_bytes())
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
    outbound(Transaction::Iti43, &ct, &body)
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
        inbound(Transaction::Rad68, &ct, &body)
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
    outbound(Transaction::Rad69, &ct, &body)
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
        inbound(Transaction::Rad69, &ct, &body)
    };
    let good = request("1.3.6.1.4.1.21367.13.80.110", &dx[0].sop_uid);
    assert_eq!(outcome("XDSI-11", &good, &x), Outcome::Pass);
    let wrong_repo = request("1.2.3", &dx[0].sop_uid);
    assert_eq!(outcome("XDSI-11", &wrong_repo, &x), Outcome::Fail);
    let not_referenced = request("1.3.6.1.4.1.21367.13.80.110", "1.2.3.4");
    assert_eq!(outcome("XDSI-11", &not_referenced, &x), Outcome::Fail);
}

/// `ex` as the SUT's answer to the harness's request `req` (SOAP body XML, plain or MTOM).
fn answering(mut ex: Exchange, action: &str, req_xml: &str, mtom: bool) -> Exchange {
    let env = soap::envelope(action, "urn:uuid:5", Some("http://sut"), req_xml);
    let (ct, body) = if mtom {
        soap::mtom(&env, &[])
    } else {
        ("application/soap+xml".to_string(), env.into_bytes())
    };
    ex.request.headers = vec![("Content-Type".into(), ct)];
    ex.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::from(body));
    ex
}

fn find_query(patient: &str, return_type: &str) -> e::AdhocQueryRequest {
    e::AdhocQueryRequest::find_documents(
        patient,
        &[e::STATUS_APPROVED],
        &[(e::KOS_FORMAT_CODE, e::KOS_FORMAT_CODING_SCHEME)],
        return_type,
    )
}

#[test]
fn xdsi_12_entries_match_every_query_parameter() {
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let mut approved = pnr.clone();
    for eo in &mut approved.submit.objects.extrinsic_objects {
        eo.status = Some(e::STATUS_APPROVED.into());
    }
    let patient = approved.submit.objects.extrinsic_objects[0]
        .identifier(e::DE_PATIENT_ID)
        .unwrap();
    let q = find_query(&patient, "LeafClass");
    let ex = |p: &e::ProvideAndRegisterRequest, q: &e::AdhocQueryRequest| {
        answering(
            query_response(p),
            e::ACTION_STORED_QUERY,
            &q.to_xml(),
            false,
        )
    };
    let x = XdsExpect::default();
    assert_eq!(outcome("XDSI-12", &ex(&approved, &q), &x), Outcome::Pass);
    // Another patient asked for: the entry is about someone else.
    let other = find_query("SOMEONE^^^&1.2.3&ISO", "LeafClass");
    assert_eq!(
        outcome("XDSI-12", &ex(&approved, &other), &x),
        Outcome::Fail
    );
    // Another formatCode than the manifests' one.
    let mut pdf = approved.clone();
    for c in &mut pdf.submit.objects.extrinsic_objects[0].classifications {
        if c.scheme.as_deref() == Some(e::DE_FORMAT_CODE) {
            c.node_representation = Some("urn:ihe:rad:PDF".into());
        }
    }
    assert_eq!(outcome("XDSI-12", &ex(&pdf, &q), &x), Outcome::Fail);
    // A Deprecated entry for an Approved query.
    let mut deprecated = approved.clone();
    deprecated.submit.objects.extrinsic_objects[0].status = Some(e::STATUS_DEPRECATED.into());
    assert_eq!(outcome("XDSI-12", &ex(&deprecated, &q), &x), Outcome::Fail);
    // GetDocuments: only the uniqueIds asked.
    let by_uid = e::AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3"], "LeafClass");
    assert_eq!(
        outcome("XDSI-12", &ex(&approved, &by_uid), &x),
        Outcome::Fail
    );
    let by_own = e::AdhocQueryRequest::get_documents_by_unique_id(&[&kos.sop_uid], "LeafClass");
    assert_eq!(
        outcome("XDSI-12", &ex(&approved, &by_own), &x),
        Outcome::Pass
    );
    // Without the harness's request there is nothing to compare with.
    assert_eq!(
        outcome("XDSI-12", &query_response(&approved), &x),
        Outcome::NotApplicable
    );
}

fn refs_response(ids: &[&str]) -> Exchange {
    let r = AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(e::RESPONSE_SUCCESS.into()),
            ..Default::default()
        },
        objects: RegistryObjectList {
            object_refs: ids
                .iter()
                .map(|i| e::ObjectRef {
                    id: Some((*i).into()),
                    home: None,
                })
                .collect(),
            ..Default::default()
        },
        has_object_list: true,
    };
    let env = soap::response_envelope(e::ACTION_STORED_QUERY_RESPONSE, "urn:uuid:1", &r.to_xml());
    outbound(Transaction::Iti18, "application/soap+xml", env.as_bytes())
}

#[test]
fn xdsi_02_judges_what_object_refs_name_and_leafclass_form() {
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let mut entry = pnr.submit.objects.extrinsic_objects[0].document_entry();
    entry.entry_uuid = Some("urn:uuid:11111111-1111-4111-8111-111111111111".into());
    let patient = entry.patient_id.clone().unwrap();
    let want = BTreeSet::from([kos.sop_uid.clone()]);
    let refs = answering(
        refs_response(&["urn:uuid:11111111-1111-4111-8111-111111111111"]),
        e::ACTION_STORED_QUERY,
        &find_query(&patient, "ObjectRef").to_xml(),
        false,
    );
    let resolved = XdsExpect {
        matches: Some(want.clone()),
        resolved: Some(vec![entry.clone()]),
        ..XdsExpect::default()
    };
    assert_eq!(outcome("XDSI-02", &refs, &resolved), Outcome::Pass);
    // The same count, but the reference names an entry of another document.
    let mut other = entry.clone();
    other.unique_id = Some("1.2.3.4".into());
    let swapped = XdsExpect {
        resolved: Some(vec![other]),
        ..resolved.clone()
    };
    assert_eq!(outcome("XDSI-02", &refs, &swapped), Outcome::Fail);
    let unresolved = XdsExpect {
        resolved: Some(Vec::new()),
        ..resolved.clone()
    };
    assert_eq!(outcome("XDSI-02", &refs, &unresolved), Outcome::Fail);
    // References in answer to a LeafClass query.
    let leaf = answering(
        refs_response(&["urn:uuid:11111111-1111-4111-8111-111111111111"]),
        e::ACTION_STORED_QUERY,
        &find_query(&patient, "LeafClass").to_xml(),
        false,
    );
    assert_eq!(outcome("XDSI-02", &leaf, &resolved), Outcome::Fail);
}

#[test]
fn iti18_10_leafclass_answer_holds_full_objects() {
    let run = |ex: &Exchange| outcome("ITI18-10", ex, &XdsExpect::default());
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let q = find_query("P^^^&1.2.3&ISO", "LeafClass");
    let refs = answering(
        refs_response(&["urn:uuid:11111111-1111-4111-8111-111111111111"]),
        e::ACTION_STORED_QUERY,
        &q.to_xml(),
        false,
    );
    assert_eq!(run(&refs), Outcome::Fail);
    let full = answering(
        query_response(&pnr),
        e::ACTION_STORED_QUERY,
        &q.to_xml(),
        false,
    );
    assert_eq!(run(&full), Outcome::Pass);
}

fn retrieve_request(docs: &[(&str, &str)]) -> String {
    e::RetrieveDocumentSetRequest {
        documents: docs
            .iter()
            .map(|(repo, uid)| e::DocumentRequest {
                home_community_id: None,
                repository_unique_id: Some((*repo).into()),
                document_unique_id: Some((*uid).into()),
            })
            .collect(),
    }
    .to_xml()
}

#[test]
fn xdsi_13_retrieve_returns_the_documents_asked() {
    let (kos, bytes, _) = manifest();
    let ex = |asked: &[(&str, &str)]| {
        answering(
            retrieve_response(&kos.sop_uid, "application/dicom", &bytes),
            e::ACTION_RETRIEVE,
            &retrieve_request(asked),
            true,
        )
    };
    let x = XdsExpect::default();
    assert_eq!(
        outcome("XDSI-13", &ex(&[("1.2.3", &kos.sop_uid)]), &x),
        Outcome::Pass
    );
    // Another document than the one asked.
    assert_eq!(
        outcome("XDSI-13", &ex(&[("1.2.3", "1.2.3.4.5")]), &x),
        Outcome::Fail
    );
    // Asked at another repository than the answer names.
    assert_eq!(
        outcome("XDSI-13", &ex(&[("1.2.9", &kos.sop_uid)]), &x),
        Outcome::Fail
    );
    // A HomeCommunityId asked and not echoed.
    let homed = e::RetrieveDocumentSetRequest {
        documents: vec![e::DocumentRequest {
            home_community_id: Some("urn:oid:1.2.3.9".into()),
            repository_unique_id: Some("1.2.3".into()),
            document_unique_id: Some(kos.sop_uid.clone()),
        }],
    };
    let no_home = answering(
        retrieve_response(&kos.sop_uid, "application/dicom", &bytes),
        e::ACTION_RETRIEVE,
        &homed.to_xml(),
        true,
    );
    assert_eq!(outcome("XDSI-13", &no_home, &x), Outcome::Fail);
    assert_eq!(
        outcome(
            "XDSI-13",
            &retrieve_response(&kos.sop_uid, "application/dicom", &bytes),
            &x
        ),
        Outcome::NotApplicable
    );
}

#[test]
fn xdsi_04_judges_the_streamed_digest_when_the_bytes_are_not_kept() {
    let (kos, bytes, _) = manifest();
    let mut other = bytes.clone();
    other.reverse();
    // The reversed manifest does not read as a KOS: the evidence keeps only its summary.
    let ex = retrieve_response(&kos.sop_uid, "application/dicom", &other);
    let part = ex
        .multipart
        .as_ref()
        .and_then(|m| m.parts.iter().find(|p| p.size == other.len() as u64))
        .unwrap();
    assert!(part.document.is_none());
    let registered = BTreeMap::from([(
        kos.sop_uid.clone(),
        RegisteredDoc {
            mime_type: Some("application/dicom".into()),
            hash: Some(e::document_hash(&bytes)),
            size: Some(bytes.len() as u64),
        },
    )]);
    let without = XdsExpect {
        documents: registered.clone(),
        ..XdsExpect::default()
    };
    // Same size, and no digest: the hash cannot be judged.
    assert_eq!(outcome("XDSI-04", &ex, &without), Outcome::NotApplicable);
    let with = |bytes: &[u8]| XdsExpect {
        streamed: BTreeMap::from([(
            "doc0@x".to_string(),
            (e::document_hash(bytes), bytes.len() as u64),
        )]),
        ..without.clone()
    };
    assert_eq!(outcome("XDSI-04", &ex, &with(&other)), Outcome::Fail);
    assert_eq!(outcome("XDSI-04", &ex, &with(&bytes)), Outcome::Pass);
}

#[test]
fn xdsi_14_registry_returns_what_was_registered() {
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let registered = pnr.submit.objects.extrinsic_objects[0].document_entry();
    let mut stored = pnr.clone();
    stored.submit.objects.extrinsic_objects[0].status = Some(e::STATUS_APPROVED.into());
    let x = XdsExpect {
        registered: Some(registered),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-14", &query_response(&stored), &x),
        Outcome::Pass
    );
    let mut altered = stored.clone();
    for s in &mut altered.submit.objects.extrinsic_objects[0].slots {
        if s.name == "creationTime" {
            s.values = vec!["19700101".into()];
        }
    }
    assert_eq!(
        outcome("XDSI-14", &query_response(&altered), &x),
        Outcome::Fail
    );
    let mut submitted = stored.clone();
    submitted.submit.objects.extrinsic_objects[0].status = Some(e::STATUS_SUBMITTED.into());
    assert_eq!(
        outcome("XDSI-14", &query_response(&submitted), &x),
        Outcome::Fail
    );
    assert_eq!(
        outcome("XDSI-14", &query_response(&stored), &XdsExpect::default()),
        Outcome::NotApplicable
    );
}

fn rad68(p: &e::ProvideAndRegisterRequest, bytes: &[u8]) -> Exchange {
    let env = soap::envelope(e::ACTION_PNR, "urn:uuid:9", Some("http://x"), &p.to_xml());
    let cid = crate::model::xds_metadata::document_entry_content_id(p).unwrap();
    let (ct, body) = soap::mtom(&env, &[(cid.as_str(), "application/dicom", bytes)]);
    inbound(Transaction::Rad68, &ct, &body)
}

#[test]
fn xdsi_15_source_publishes_the_study_asked() {
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let asked = Asked {
        patient: format!("{}^^^&1.2.3&ISO", kos.patient_id),
        study: kos.study_uid.clone(),
        manifest: kos.sop_uid.clone(),
        repository: "1.2.3".into(),
    };
    let x = XdsExpect {
        asked: Some(asked.clone()),
        ..XdsExpect::default()
    };
    assert_eq!(outcome("XDSI-15", &rad68(&pnr, &bytes), &x), Outcome::Pass);
    let other_study = XdsExpect {
        asked: Some(Asked {
            study: "1.2.3.4".into(),
            ..asked.clone()
        }),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-15", &rad68(&pnr, &bytes), &other_study),
        Outcome::Fail
    );
    let other_patient = XdsExpect {
        asked: Some(Asked {
            patient: "SOMEONE^^^&1.2.3&ISO".into(),
            ..asked
        }),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-15", &rad68(&pnr, &bytes), &other_patient),
        Outcome::Fail
    );
}

#[test]
fn xdsi_16_consumer_asks_about_what_it_was_asked() {
    let asked = Asked {
        patient: "P1^^^&1.2.3&ISO".into(),
        study: "1.2".into(),
        manifest: "1.2.3.4".into(),
        repository: "1.2.3".into(),
    };
    let x = XdsExpect {
        asked: Some(asked),
        ..XdsExpect::default()
    };
    let query = |pid: &str| {
        let env = soap::envelope(
            e::ACTION_STORED_QUERY,
            "urn:uuid:3",
            Some("http://x"),
            &find_query(pid, "LeafClass").to_xml(),
        );
        inbound(Transaction::Iti18, "application/soap+xml", env.as_bytes())
    };
    assert_eq!(
        outcome("XDSI-16", &query("P1^^^&1.2.3&ISO"), &x),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XDSI-16", &query("P2^^^&1.2.3&ISO"), &x),
        Outcome::Fail
    );
    let retrieve = |repo: &str, uid: &str| {
        let env = soap::envelope(
            e::ACTION_RETRIEVE,
            "urn:uuid:4",
            Some("http://x"),
            &retrieve_request(&[(repo, uid)]),
        );
        let (ct, body) = soap::mtom(&env, &[]);
        inbound(Transaction::Iti43, &ct, &body)
    };
    assert_eq!(
        outcome("XDSI-16", &retrieve("1.2.3", "1.2.3.4"), &x),
        Outcome::Pass
    );
    assert_eq!(
        outcome("XDSI-16", &retrieve("1.2.3", "1.2.3.5"), &x),
        Outcome::Fail
    );
    assert_eq!(
        outcome("XDSI-16", &retrieve("1.2.4", "1.2.3.4"), &x),
        Outcome::Fail
    );
}

#[test]
fn a_refused_valid_request_fails_the_content_checks_instead_of_skipping_them() {
    let fault = |transaction: Transaction| {
        let xml = format!(
            "<soap:Fault xmlns:soap=\"{}\"><soap:Code><soap:Value>soap:Receiver</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang=\"en\">busy</soap:Text></soap:Reason></soap:Fault>",
            crate::transport::soap::NS_SOAP12
        );
        let env = soap::response_envelope(
            "http://www.w3.org/2005/08/addressing/soap/fault",
            "urn:uuid:1",
            &xml,
        );
        let mut ex = outbound(transaction, "application/soap+xml", env.as_bytes());
        if let Some(r) = ex.response.as_mut() {
            r.status = 500;
        }
        ex
    };
    let matches = XdsExpect {
        matches: Some(BTreeSet::from(["1.2.3".to_string()])),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-02", &fault(Transaction::Iti18), &matches),
        Outcome::Fail
    );
    // Nothing to match: the status check (XDSI-01) judges a refusal.
    let nothing = XdsExpect {
        matches: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-02", &fault(Transaction::Iti18), &nothing),
        Outcome::NotApplicable
    );
    let documents = XdsExpect {
        documents: BTreeMap::from([("1.2.3".to_string(), RegisteredDoc::default())]),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-03", &fault(Transaction::Iti43), &documents),
        Outcome::Fail
    );
    assert_eq!(
        outcome("XDSI-04", &fault(Transaction::Iti43), &documents),
        Outcome::Fail
    );
    let instances = XdsExpect {
        returnable: Some(BTreeSet::from(["1.2.3".to_string()])),
        ..XdsExpect::default()
    };
    assert_eq!(
        outcome("XDSI-10", &fault(Transaction::Rad69), &instances),
        Outcome::Fail
    );
}

#[test]
fn soap_03_relates_to_names_the_request() {
    let run = |ex: &Exchange| outcome("XDS-SOAP-03", ex, &XdsExpect::default());
    let (kos, bytes, _) = manifest();
    let pnr = submission(&kos, &bytes);
    let q = find_query("P^^^&1.2.3&ISO", "LeafClass").to_xml();
    // `query_response` answers urn:uuid:1; `answering` sends urn:uuid:5.
    let other = answering(query_response(&pnr), e::ACTION_STORED_QUERY, &q, false);
    assert_eq!(run(&other), Outcome::Fail);
    let env = soap::envelope(e::ACTION_STORED_QUERY, "urn:uuid:1", Some("http://sut"), &q);
    let mut same = query_response(&pnr);
    same.request.headers = vec![("Content-Type".into(), "application/soap+xml".into())];
    same.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::from(env.into_bytes()));
    assert_eq!(run(&same), Outcome::Pass);
}
