//! XDS-I.b steps: Registry Stored Query (ITI-18), Retrieve Document Set (ITI-43), Provide and
//! Register Imaging Document Set (RAD-68), Retrieve Imaging Document Set (RAD-69), and the
//! scenarios where the SUT calls the harness's simulated actors after a trigger.
//!
//! Studies are named by fixture alias; the harness knows the truth about them (their manifest, its
//! SOP Instance UID, the patient, the modalities and every instance) and tells the checks.

mod sut_calls;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use cucumber::{given, then, when};

use super::{
    another_patient, fail_continue, harness_error, judge, not_applicable, record, stop_once,
    study_instances, StepError, StepResult, UNKNOWN_PATIENT,
};
use crate::actors::xds::{manifest_submission, XdsClient};
use crate::checks::soap_message::{SutMessage, Unreadable};
use crate::checks::xds_i::{Asked, RegisteredDoc, XdsExpect};
use crate::checks::Expect;
use crate::config::TestDataMode;
use crate::model::ebrim::{
    self as e, AdhocQueryRequest, DocumentRequest, Message, QueryParam, RetrieveDocumentSetRequest,
    RetrieveImagingDocumentSetRequest,
};
use crate::model::fixtures::FixtureInstance;
use crate::model::kos;
use crate::transaction::Transaction;
use crate::world::HarnessWorld;

/// A document uniqueId no repository holds.
const UNKNOWN_DOCUMENT: &str = "2.25.999999999999999999999999999999997";
/// A repositoryUniqueId of no repository.
const UNKNOWN_REPOSITORY: &str = "1.3.6.1.4.1.21367.13.80.999";
/// Explicit VR Little Endian.
const ELE: &str = "1.2.840.10008.1.2.1";

// ---------------------------------------------------------------------------------------------
// Helpers

fn client(world: &mut HarnessWorld) -> Result<Arc<XdsClient>, StepError> {
    match world.ctx.xds.clone() {
        Some(c) => Ok(c),
        None => Err(not_applicable(
            world,
            "no XDS-I.b endpoints",
            "the SUT profile declares no XDS-I.b endpoints ([xds] table)",
        )),
    }
}

fn manifest_of(world: &mut HarnessWorld, alias: &str) -> Result<FixtureInstance, StepError> {
    let insts = study_instances(world, alias)?;
    match insts.into_iter().find(|i| i.kos) {
        Some(k) => Ok(k),
        None => Err(harness_error(
            world,
            "no fixture manifest",
            format!("study {alias} has no KOS"),
        )),
    }
}

fn modalities(insts: &[FixtureInstance]) -> BTreeSet<String> {
    insts
        .iter()
        .filter(|i| !i.kos)
        .map(|i| i.modality.clone())
        .collect()
}

fn patient_cx(world: &HarnessWorld, patient: &str) -> String {
    match &world.ctx.config.xds {
        Some(x) => x.patient_cx(patient),
        None => format!(
            "{patient}^^^&{}&ISO",
            crate::config::xds::DEFAULT_PATIENT_AUTHORITY
        ),
    }
}

/// Remember a manifest the harness registers during the run.
fn note_submitted(world: &HarnessWorld, patient: &str, study: &str, uid: &str) {
    if let Ok(mut v) = world.ctx.submitted.lock() {
        v.push((patient.to_string(), study.to_string(), uid.to_string()));
    }
}

/// Manifests registered during the run for this patient (and study, if given).
fn submitted_for(world: &HarnessWorld, patient: &str, study: Option<&str>) -> BTreeSet<String> {
    world
        .ctx
        .submitted
        .lock()
        .map(|v| {
            v.iter()
                .filter(|(p, s, _)| p == patient && study.is_none_or(|x| x == s))
                .map(|(_, _, u)| u.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The uniqueIds of the fixture manifests of a patient, optionally of studies with a modality.
fn patient_manifests(
    world: &HarnessWorld,
    patient: &str,
    modality: Option<&str>,
) -> BTreeSet<String> {
    let fx = &world.ctx.fixtures;
    fx.studies()
        .into_iter()
        .filter(|s| s.instances.iter().any(|i| i.patient_id == patient))
        .filter(|s| modality.is_none_or(|m| s.instances.iter().any(|i| !i.kos && i.modality == m)))
        .filter_map(|s| {
            s.instances
                .iter()
                .find(|i| i.kos)
                .map(|i| i.sop_uid.clone())
        })
        .collect()
}

fn status_urn(word: &str) -> String {
    match word {
        "Success" => e::RESPONSE_SUCCESS.into(),
        "Failure" => e::RESPONSE_FAILURE.into(),
        "PartialSuccess" => e::RESPONSE_PARTIAL_SUCCESS.into(),
        other => other.into(),
    }
}

fn record_xds(world: &mut HarnessWorld, ex: crate::evidence::Exchange, x: XdsExpect) -> StepResult {
    let idx = record(world, ex)?;
    world.xds.last = Some(idx);
    world.xds.expect = Expect {
        xds: x,
        ..Expect::default()
    };
    // Remember what a LeafClass query found, and any manifest returned.
    if let Some(ex) = world.evidence.get(idx) {
        if let Ok(msg) = SutMessage::of(ex) {
            if let Ok(Message::AdhocQueryResponse(r)) = msg.message() {
                world.xds.entries = r.objects.document_entries();
            }
        }
        let kos = ex.multipart.as_ref().and_then(|mp| {
            mp.parts.iter().find_map(|p| {
                p.dicom
                    .as_ref()
                    .and_then(|d| d.sop_class.as_deref())
                    .filter(|c| *c == kos::KOS_SOP_CLASS)
                    .and(p.document.clone())
            })
        });
        if kos.is_some() {
            world.xds.manifest = kos;
            // The DICOMweb cross-walk steps read the manifest from the last exchange.
            world.dicomweb.last = Some(idx);
        }
    }
    Ok(())
}

fn last(world: &mut HarnessWorld) -> Result<usize, StepError> {
    match world.xds.last {
        Some(i) => Ok(i),
        None => Err(harness_error(
            world,
            "no exchange to judge",
            "no XDS request was sent before this step",
        )),
    }
}

/// What is wrong with the SUT's XDS answer in exchange `idx` as a message, if anything: a body
/// that is not a readable SOAP/ebXML message is XDS-SOAP-01; a SOAP Fault, or a status other than
/// Success or PartialSuccess, to a valid request is XDSI-01. None for a readable, successful answer.
fn answer_problem(world: &HarnessWorld, idx: usize) -> Option<(&'static str, String, String)> {
    let envelope = || "a SOAP 1.2 envelope (ITI TF-2 Appendix V)".to_string();
    match world.evidence.get(idx).map(SutMessage::of)? {
        Err(Unreadable::NoMessage) => None,
        Err(err) => Some((
            crate::checks::xds::rules::SOAP_01.id,
            envelope(),
            err.to_string(),
        )),
        Ok(msg) => match msg.envelope() {
            Err(why) => Some((crate::checks::xds::rules::SOAP_01.id, envelope(), why)),
            Ok(env) => match (&env.fault, msg.message()) {
                (Some(f), _) => Some((
                    "XDSI-01",
                    "a registry response to a valid request".to_string(),
                    format!("SOAP Fault {}: {}", f.code, f.reason),
                )),
                (None, Err(why)) => Some((
                    crate::checks::xds::rules::SOAP_01.id,
                    "an ebXML message in the SOAP Body".to_string(),
                    why,
                )),
                (None, Ok(m)) => match response_status(&m) {
                    Some((status, codes))
                        if status != e::RESPONSE_SUCCESS
                            && status != e::RESPONSE_PARTIAL_SUCCESS =>
                    {
                        Some((
                            "XDSI-01",
                            "Success for a valid request".to_string(),
                            format!(
                                "status {}, errors [{}]",
                                status.rsplit(':').next().unwrap_or(&status),
                                codes.join(", ")
                            ),
                        ))
                    }
                    _ => None,
                },
            },
        },
    }
}

/// The SUT's XDS answer in exchange `idx` leaves the scenario nothing to go on with: stop it with
/// a Fail of the check that covers what is wrong with the message ([`answer_problem`]), else of
/// `check` with `expected` and `actual` (a readable, successful answer that lacks what the
/// scenario needs).
fn stop_on_answer(
    world: &mut HarnessWorld,
    idx: usize,
    check: &str,
    expected: &str,
    actual: String,
) -> StepError {
    match answer_problem(world, idx) {
        Some((check, why, actual)) => stop_once(
            world,
            check,
            Some(idx),
            format!("{why} ({expected})"),
            actual,
        ),
        None => stop_once(world, check, Some(idx), expected, actual),
    }
}

/// The status and error codes of a response carrying a RegistryResponse.
fn response_status(m: &Message) -> Option<(String, Vec<String>)> {
    let rr = match m {
        Message::AdhocQueryResponse(r) => &r.response,
        Message::RegistryResponse(r) => r,
        Message::RetrieveDocumentSetResponse(r) => r.registry_response.as_ref()?,
        _ => return None,
    };
    Some((
        rr.status.clone().unwrap_or_else(|| "(none)".into()),
        rr.errors
            .iter()
            .filter_map(|er| er.error_code.clone())
            .collect(),
    ))
}

fn judge_xds(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let idx = last(world)?;
    let expect = world.xds.expect.clone();
    judge(world, idx, &expect, &[], ids)
}

fn structural_ids() -> Vec<&'static str> {
    crate::checks::xds::CHECKS.iter().map(|c| c.id).collect()
}

async fn run_query(
    world: &mut HarnessWorld,
    q: AdhocQueryRequest,
    operation: &str,
    x: XdsExpect,
) -> StepResult {
    let c = client(world)?;
    let ex = match c.stored_query(&q, operation).await {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Document Registry",
                &err.to_string(),
            ))
        }
    };
    record_xds(world, ex, x)
}

fn kos_format() -> (&'static str, &'static str) {
    (e::KOS_FORMAT_CODE, e::KOS_FORMAT_CODING_SCHEME)
}

// ---------------------------------------------------------------------------------------------
// Test data

#[given("the affinity domain holds the manifests of the test studies")]
async fn holds_manifests(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    if world.ctx.config.test_data == TestDataMode::Preloaded {
        return Ok(());
    }
    // The images behind the manifests go to the image source's DICOMweb service, if it has one.
    if let Some(dw) = world.ctx.dicomweb.clone() {
        super::load_test_studies(world, dw).await?;
    }
    let ctx = world.ctx.clone();
    let mut exchanges = Vec::new();
    let result = ctx
        .xds_data
        .get_or_init(|| crate::test_data::load_xds(&ctx.fixtures, &c, &mut exchanges))
        .await
        .clone();
    let mut last = None;
    for ex in exchanges {
        last = Some(world.evidence.record(ex));
    }
    match result {
        Ok(()) => Ok(()),
        // In the scenario that sent it, the refused submission is judged by what is wrong with
        // the answer; elsewhere the shared load's refusal is told again.
        Err(err) if err.is_refusal() => match last {
            Some(idx) => Err(stop_on_answer(
                world,
                idx,
                "XDSI-01",
                "Success for the conformant RAD-68 of the test data",
                err.to_string(),
            )),
            None => Err(stop_once(
                world,
                "XDSI-01",
                None,
                "Success for the conformant RAD-68 of the test data",
                err.to_string(),
            )),
        },
        Err(err) => Err(harness_error(
            world,
            "test data could not be loaded",
            err.to_string(),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// ITI-18 Registry Stored Query

#[when(expr = "the consumer finds the manifests of the patient of study {string}")]
async fn find_manifests(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "LeafClass");
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, None)),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (manifests of a patient)", x).await
}

#[when(
    expr = "the consumer finds the manifests of the patient of study {string} as object references"
)]
async fn find_manifests_refs(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "ObjectRef");
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, None)),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (ObjectRef)", x).await?;
    resolve_object_refs(world).await
}

/// The references of the last ObjectRef answer, resolved with a LeafClass GetDocuments by
/// entryUUID (ITI TF-2 3.18.4.1.2.3.7.5), so that what they name is judged, not their count. The
/// references of each community go in one query naming it (3.18.4.1.2.3.7.5 note 2: the consumer
/// gives the homeCommunityId it received with them). A registry refuses a LeafClass GetDocuments
/// whose entries span patients with XDSResultNotSinglePatient (note 3): the references are then
/// resolved one by one, and that refusal is judged right when they do span patients. Each answer
/// is judged as the answer to its own query (XDSI-01, ITI18-10, XDSI-12); when the references
/// cannot be resolved (a refusal, an unreadable answer, references given back as references),
/// that breach is the GetDocuments answer's, and the ObjectRef answer is judged on its count.
async fn resolve_object_refs(world: &mut HarnessWorld) -> StepResult {
    let Some(idx) = world.xds.last else {
        return Ok(());
    };
    let refs: Vec<e::ObjectRef> = world
        .evidence
        .get(idx)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok())
        .map(|m| match m {
            Message::AdhocQueryResponse(r) if r.objects.extrinsic_objects.is_empty() => {
                r.objects.object_refs
            }
            _ => Vec::new(),
        })
        .unwrap_or_default();
    let mut by_home: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for r in refs {
        if let Some(id) = r.id.filter(|i| !i.trim().is_empty()) {
            let home = r.home.filter(|h| !h.trim().is_empty());
            by_home.entry(home).or_default().push(id);
        }
    }
    if by_home.is_empty() {
        return Ok(());
    }
    let c = client(world)?;
    let mut entries = Vec::new();
    let mut resolved = true;
    for (home, ids) in by_home {
        let Some((r, got)) = get_documents(world, &c, &ids, &home).await? else {
            return Ok(());
        };
        let not_single = got.refusal.iter().any(|x| x == "XDSResultNotSinglePatient");
        if !not_single || ids.len() < 2 {
            judge_resolved(world, r)?;
            resolved &= got.entries.is_some();
            entries.extend(got.entries.unwrap_or_default());
            continue;
        }
        // The references span patients, says the registry: one query each tells which.
        let mut patients = BTreeSet::new();
        for id in ids.iter().take(MAX_SINGLE_RESOLUTIONS) {
            let Some((r1, one)) = get_documents(world, &c, std::slice::from_ref(id), &home).await?
            else {
                return Ok(());
            };
            judge_resolved(world, r1)?;
            resolved &= one.entries.is_some();
            for d in one.entries.unwrap_or_default() {
                patients.extend(d.patient_id.clone());
                entries.push(d);
            }
        }
        resolved &= ids.len() <= MAX_SINGLE_RESOLUTIONS;
        // XDSResultNotSinglePatient is the answer owed when they do span patients.
        judge(
            world,
            r,
            &resolution_expect(patients.len() > 1),
            &[],
            &["XDSI-01"],
        )?;
    }
    world.xds.expect.xds.resolved = resolved.then_some(entries);
    world.xds.expect.xds.resolution_refusal = None;
    Ok(())
}

/// How many references of one ObjectRef answer the harness resolves one by one.
const MAX_SINGLE_RESOLUTIONS: usize = 50;

/// What a resolving GetDocuments must answer: Success (PartialSuccess from a gateway), or, for
/// references that span patients, Failure with XDSResultNotSinglePatient (ITI TF-2
/// 3.18.4.1.2.3.7.5 note 3).
fn resolution_expect(spans_patients: bool) -> Expect {
    let xds = if spans_patients {
        XdsExpect {
            statuses: vec![e::RESPONSE_FAILURE.into()],
            error_codes: vec!["XDSResultNotSinglePatient".into()],
            reason: "a LeafClass GetDocuments of entries of several patients".into(),
            ..XdsExpect::default()
        }
    } else {
        XdsExpect {
            statuses: vec![
                e::RESPONSE_SUCCESS.into(),
                e::RESPONSE_PARTIAL_SUCCESS.into(),
            ],
            reason: "GetDocuments by the entryUUIDs the registry returned".into(),
            ..XdsExpect::default()
        }
    };
    Expect {
        xds,
        ..Expect::default()
    }
}

/// Judge resolving GetDocuments `idx` of references of one patient: its status (XDSI-01), the full
/// objects of its LeafClass answer (ITI18-10), entries that match the query (XDSI-12).
fn judge_resolved(world: &mut HarnessWorld, idx: usize) -> StepResult {
    judge(
        world,
        idx,
        &resolution_expect(false),
        &[],
        &["XDSI-01", "ITI18-10", "XDSI-12"],
    )
}

/// What one resolving GetDocuments gave: the entries, when the answer resolves the references
/// (None for a refusal, an unreadable answer, or references given back as references), and the
/// error codes of a refusal.
struct Resolution {
    entries: Option<Vec<e::DocumentEntry>>,
    refusal: Vec<String>,
}

/// Send a LeafClass GetDocuments of `ids` in community `home` and read its answer. None when the
/// harness has no registry to send it to.
async fn get_documents(
    world: &mut HarnessWorld,
    c: &XdsClient,
    ids: &[String],
    home: &Option<String>,
) -> Result<Option<(usize, Resolution)>, StepError> {
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut q = AdhocQueryRequest::get_documents_by_uuid(&refs, "LeafClass");
    q.home = home.clone();
    let Ok(ex) = c
        .stored_query(&q, "GetDocuments (the ObjectRefs of the answer, resolved)")
        .await
    else {
        return Ok(None);
    };
    let r = record(world, ex)?;
    let answer = world
        .evidence
        .get(r)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok());
    let got = match answer {
        Some(Message::AdhocQueryResponse(a))
            if a.response.status.as_deref() == Some(e::RESPONSE_FAILURE) =>
        {
            Resolution {
                entries: None,
                refusal: a
                    .response
                    .errors
                    .iter()
                    .filter_map(|er| er.error_code.clone())
                    .collect(),
            }
        }
        Some(Message::AdhocQueryResponse(a)) => {
            // A reference answered with a reference resolves nothing.
            let echoed = a
                .objects
                .object_refs
                .iter()
                .any(|o| o.id.as_deref().is_some_and(|i| ids.iter().any(|x| x == i)));
            Resolution {
                entries: (!echoed).then(|| a.objects.document_entries()),
                refusal: Vec::new(),
            }
        }
        _ => Resolution {
            entries: None,
            refusal: Vec::new(),
        },
    };
    Ok(Some((r, got)))
}

#[when(expr = "the consumer finds the {word} manifests of the patient of study {string}")]
async fn find_manifests_modality(
    world: &mut HarnessWorld,
    modality: String,
    alias: String,
) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let mut q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "LeafClass");
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryEventCodeList".into(),
        values: vec![e::quote_list(&[e::query_code(
            &modality,
            "1.2.840.10008.2.16.4",
        )])],
    });
    let x = XdsExpect {
        matches: Some(patient_manifests(world, &k.patient_id, Some(&modality))),
        tolerated: submitted_for(world, &k.patient_id, None),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (by modality event code)", x).await
}

#[when("the consumer finds the manifests of an unknown patient")]
async fn find_unknown_patient(world: &mut HarnessWorld) -> StepResult {
    let cx = patient_cx(world, UNKNOWN_PATIENT);
    let q =
        AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[kos_format()], "LeafClass");
    let x = XdsExpect {
        matches: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocuments (unknown patient)", x).await
}

#[when("the consumer sends FindDocuments without a patient id")]
async fn find_without_patient(world: &mut HarnessWorld) -> StepResult {
    let mut q = AdhocQueryRequest::find_documents("x", &[e::STATUS_APPROVED], &[], "LeafClass");
    q.params.retain(|p| p.name != "$XDSDocumentEntryPatientId");
    run_query(
        world,
        q,
        "FindDocuments (no patient id)",
        XdsExpect::default(),
    )
    .await
}

#[when("the consumer sends a stored query with an unknown query id")]
async fn unknown_query(world: &mut HarnessWorld) -> StepResult {
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&[UNKNOWN_DOCUMENT], "LeafClass");
    q.query_id = Some("urn:uuid:00000000-0000-4000-8000-000000000000".into());
    run_query(world, q, "unknown stored query", XdsExpect::default()).await
}

#[when(
    expr = "the consumer sends GetDocuments naming both a uniqueId and an entryUUID for study {string}"
)]
async fn get_documents_both(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let mut q = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryEntryUUID".into(),
        values: vec![e::quote_list(&[
            "urn:uuid:6a3f2b9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b",
        ])],
    });
    run_query(
        world,
        q,
        "GetDocuments (both parameters)",
        XdsExpect::default(),
    )
    .await
}

#[when(expr = "the consumer gets the manifest of study {string} by its uniqueId")]
async fn get_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let q = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    let x = XdsExpect {
        matches: Some(BTreeSet::from([k.sop_uid.clone()])),
        ..XdsExpect::default()
    };
    run_query(world, q, "GetDocuments (by uniqueId)", x).await
}

#[when(expr = "the consumer finds the manifest of study {string} by its Study Instance UID")]
async fn find_by_reference(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let cx = patient_cx(world, &k.patient_id);
    let mut q = AdhocQueryRequest::find_documents(&cx, &[e::STATUS_APPROVED], &[], "LeafClass");
    q.query_id = Some(e::SQ_FIND_DOCUMENTS_BY_REFERENCE_ID.into());
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryReferenceIdList".into(),
        values: vec![e::quote_list(&[format!(
            "{}^^^^{}",
            k.study_uid,
            e::REFERENCE_ID_STUDY_INSTANCE_UID
        )])],
    });
    let x = XdsExpect {
        matches: Some(BTreeSet::from([k.sop_uid.clone()])),
        tolerated: submitted_for(world, &k.patient_id, Some(&k.study_uid)),
        ..XdsExpect::default()
    };
    run_query(world, q, "FindDocumentsByReferenceId (study)", x).await
}

#[when("the consumer asks for the associations of that manifest")]
async fn get_associations(world: &mut HarnessWorld) -> StepResult {
    let Some(uuid) = world.xds.entries.first().and_then(|d| d.entry_uuid.clone()) else {
        // The GetDocuments before this step found no entry (or one without entryUUID) for a
        // manifest the registry holds: nothing to ask associations of.
        let Some(idx) = world.xds.last else {
            return Err(harness_error(
                world,
                "no manifest entry",
                "no stored query was sent before this step",
            ));
        };
        return Err(stop_on_answer(
            world,
            idx,
            "XDSI-02",
            "the manifest's DocumentEntry, with its entryUUID",
            "no DocumentEntry with an entryUUID in the answer".into(),
        ));
    };
    let q = AdhocQueryRequest {
        return_type: Some("LeafClass".into()),
        return_composed_objects: Some("true".into()),
        query_id: Some(e::SQ_GET_ASSOCIATIONS.into()),
        home: None,
        params: vec![QueryParam {
            name: "$uuid".into(),
            values: vec![e::quote_list(&[uuid])],
        }],
    };
    run_query(world, q, "GetAssociations", XdsExpect::default()).await
}

#[then("the query returns exactly the matching manifests")]
async fn query_matches(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-02", "XDSI-12"])
}

#[then("the result holds the submission set association of the manifest")]
async fn has_association(world: &mut HarnessWorld) -> StepResult {
    let idx = last(world)?;
    let found = world
        .evidence
        .get(idx)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok())
        .map(|m| match m {
            Message::AdhocQueryResponse(r) => r
                .objects
                .associations
                .iter()
                .any(|a| a.association_type.as_deref() == Some(e::ASSOC_HAS_MEMBER)),
            _ => false,
        })
        .unwrap_or(false);
    world.xds.expect.xds.statuses = vec![e::RESPONSE_SUCCESS.into()];
    judge_xds(world, &["XDSI-01"])?;
    if !found {
        // ITI TF-2 3.18.4.1.2.3.7.7: GetAssociations returns the associations of the entry, and
        // every DocumentEntry is a HasMember of its SubmissionSet (ITI TF-3 4.2.2.1).
        fail_continue(
            world,
            "XDSI-02",
            Some(idx),
            "the HasMember association of the SubmissionSet to the entry (GetAssociations, ITI TF-2 3.18.4.1.2.3.7.7)",
            "no HasMember association in the answer",
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Status and conformance

/// Whatever the status asked, an answer is judged for being about the request: its entries match
/// the query (XDSI-12), its documents are the ones asked (XDSI-13).
const IDENTITY: &[&str] = &["XDSI-12", "XDSI-13"];

fn judge_answer(world: &mut HarnessWorld) -> StepResult {
    let idx = last(world)?;
    let seq = world.evidence.get(idx).map(|e| e.seq);
    let mut ids = vec!["XDSI-01"];
    // An identity check an earlier step of the scenario already judged on this answer is not
    // judged twice.
    ids.extend(IDENTITY.iter().copied().filter(|id| {
        !world
            .findings
            .iter()
            .any(|f| f.check == *id && f.exchange.is_some() && f.exchange == seq)
    }));
    judge_xds(world, &ids)
}

#[then(expr = "the answer is {word}")]
async fn answer_is(world: &mut HarnessWorld, status: String) -> StepResult {
    world.xds.expect.xds.statuses = vec![status_urn(&status)];
    world.xds.expect.xds.error_codes.clear();
    judge_answer(world)
}

#[then(expr = "the answer is {word} with error {word}")]
async fn answer_with_error(world: &mut HarnessWorld, status: String, code: String) -> StepResult {
    world.xds.expect.xds.statuses = vec![status_urn(&status)];
    world.xds.expect.xds.error_codes = vec![code];
    judge_answer(world)
}

#[then(expr = "the answer is {word} with error {word} or {word}")]
async fn answer_with_errors(
    world: &mut HarnessWorld,
    status: String,
    code: String,
    alt: String,
) -> StepResult {
    world.xds.expect.xds.statuses = vec![status_urn(&status)];
    world.xds.expect.xds.error_codes = vec![code, alt];
    judge_answer(world)
}

/// Where the text lets a responder accept what the reference refuses, lenient mode accepts Success.
#[then(expr = "the answer is {word} with error {word}, or Success when lenient")]
async fn answer_or_lenient(world: &mut HarnessWorld, status: String, code: String) -> StepResult {
    let strict = world.ctx.config.strict;
    let idx = last(world)?;
    let succeeded = world
        .evidence
        .get(idx)
        .and_then(|ex| SutMessage::of(ex).ok())
        .and_then(|m| m.message().ok())
        .map(|m| matches!(m, Message::RegistryResponse(r) if r.status.as_deref() == Some(e::RESPONSE_SUCCESS)))
        .unwrap_or(false);
    if succeeded && !strict {
        world.xds.expect.xds.statuses = vec![e::RESPONSE_SUCCESS.into()];
        world.xds.expect.xds.error_codes.clear();
    } else {
        world.xds.expect.xds.statuses = vec![status_urn(&status)];
        world.xds.expect.xds.error_codes = vec![code];
    }
    judge_answer(world)
}

#[then("the message is a conformant XDS message")]
async fn conformant(world: &mut HarnessWorld) -> StepResult {
    let ids = structural_ids();
    judge_xds(world, &ids)
}

// ---------------------------------------------------------------------------------------------
// ITI-43 Retrieve Document Set

/// The entry of the fixture manifest among `entries`: by its uniqueId, or else by its study
/// reference (a source may register a manifest under another uniqueId), leaving aside the
/// manifests the harness itself registered during the run.
fn describing<'a>(
    entries: &'a [e::DocumentEntry],
    k: &FixtureInstance,
    ours: &BTreeSet<String>,
) -> Option<&'a e::DocumentEntry> {
    entries
        .iter()
        .find(|d| d.unique_id.as_deref() == Some(k.sop_uid.as_str()))
        .or_else(|| {
            entries.iter().find(|d| {
                !d.unique_id.as_ref().is_some_and(|u| ours.contains(u))
                    && d.reference_ids.iter().any(|r| {
                        r.split('^').next() == Some(k.study_uid.as_str())
                            && r.ends_with(e::REFERENCE_ID_STUDY_INSTANCE_UID)
                    })
            })
        })
}

/// What the registry says about the fixture manifest.
enum Lookup {
    /// Its DocumentEntry.
    Found(Box<e::DocumentEntry>),
    /// The profile declares no registry to ask.
    NoRegistry,
    /// The registry answered, without it: the index of its last answer.
    NotFound(usize),
}

/// The registry's DocumentEntry of the fixture manifest: from the last query, else found as a
/// consumer finds it (GetDocuments by uniqueId, then the patient's manifests by study reference).
async fn manifest_entry(
    world: &mut HarnessWorld,
    k: &FixtureInstance,
) -> Result<Lookup, StepError> {
    let ours = submitted_for(world, &k.patient_id, None);
    if let Some(d) = describing(&world.xds.entries, k, &ours) {
        return Ok(Lookup::Found(Box::new(d.clone())));
    }
    let c = client(world)?;
    let cx = patient_cx(world, &k.patient_id);
    let queries = [
        (
            AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass"),
            "GetDocuments (metadata of the manifest)",
        ),
        (
            AdhocQueryRequest::find_documents(
                &cx,
                &[e::STATUS_APPROVED],
                &[kos_format()],
                "LeafClass",
            ),
            "FindDocuments (manifests of the patient)",
        ),
    ];
    let mut last = None;
    for (q, op) in queries {
        let Ok(ex) = c.stored_query(&q, op).await else {
            return Ok(Lookup::NoRegistry);
        };
        let idx = record(world, ex)?;
        last = Some(idx);
        let entries = world
            .evidence
            .get(idx)
            .and_then(|ex| SutMessage::of(ex).ok())
            .and_then(|m| m.message().ok())
            .map(|m| match m {
                Message::AdhocQueryResponse(r) => r.objects.document_entries(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        if let Some(d) = describing(&entries, k, &ours) {
            let d = d.clone();
            world.xds.entries = entries;
            return Ok(Lookup::Found(Box::new(d)));
        }
    }
    Ok(last.map(Lookup::NotFound).unwrap_or(Lookup::NoRegistry))
}

async fn retrieve(
    world: &mut HarnessWorld,
    docs: Vec<DocumentRequest>,
    mut x: XdsExpect,
    operation: &str,
) -> StepResult {
    let c = client(world)?;
    let r = RetrieveDocumentSetRequest { documents: docs };
    // The documents are digested as they stream, so their SHA-1 is judged whatever their size.
    let (ex, digests) = match c.retrieve_documents_digested(&r, operation).await {
        Ok(x) => x,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Document Repository",
                &err.to_string(),
            ))
        }
    };
    x.streamed = digests;
    record_xds(world, ex, x)
}

#[when(expr = "the consumer retrieves the manifest of study {string} from the repository")]
async fn retrieve_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let insts = study_instances(world, &alias)?;
    let entry = match manifest_entry(world, &k).await? {
        Lookup::Found(d) => Some(*d),
        Lookup::NoRegistry => None,
        Lookup::NotFound(idx) => {
            // The registry holds the manifest (the test data) but neither GetDocuments nor
            // FindDocuments returns it: a breach of its own (of the message rule it breaks, when
            // the answer is not a registry response); the repository is still judged, against
            // what the harness knows.
            let (check, expected, actual) = answer_problem(world, idx).unwrap_or((
                "XDSI-02",
                format!("the DocumentEntry of the manifest of study {alias}"),
                "neither GetDocuments by its uniqueId nor FindDocuments for its patient returns it"
                    .to_string(),
            ));
            fail_continue(world, check, Some(idx), expected, actual);
            None
        }
    };
    let c = client(world)?;
    let repo = entry
        .as_ref()
        .and_then(|d| d.repository_unique_id.clone())
        .unwrap_or_else(|| c.cfg.repository_unique_id.clone());
    let uid = entry
        .as_ref()
        .and_then(|d| d.unique_id.clone())
        .unwrap_or_else(|| k.sop_uid.clone());
    let mut documents = BTreeMap::new();
    if let Some(d) = &entry {
        documents.insert(
            uid.clone(),
            RegisteredDoc {
                mime_type: d.mime_type.clone(),
                hash: d.hash.clone(),
                size: d.size.as_deref().and_then(|s| s.trim().parse().ok()),
            },
        );
    }
    // The consumer names the community of an entry that has one (ITI TF-2 3.43.4.1.1).
    let home = entry
        .as_ref()
        .and_then(|d| d.home_community_id.clone())
        .filter(|h| !h.trim().is_empty());
    let x = XdsExpect {
        documents,
        entry,
        modalities: modalities(&insts),
        ..XdsExpect::default()
    };
    retrieve(
        world,
        vec![DocumentRequest {
            home_community_id: home,
            ..crate::actors::xds::doc_request(&repo, &uid)
        }],
        x,
        "Retrieve Document Set (manifest)",
    )
    .await
}

#[when("the consumer retrieves an unknown document from the repository")]
async fn retrieve_unknown(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let repo = c.cfg.repository_unique_id.clone();
    retrieve(
        world,
        vec![crate::actors::xds::doc_request(&repo, UNKNOWN_DOCUMENT)],
        XdsExpect::default(),
        "Retrieve Document Set (unknown document)",
    )
    .await
}

#[when(expr = "the consumer retrieves the manifest of study {string} and an unknown document")]
async fn retrieve_partial(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    let c = client(world)?;
    let repo = c.cfg.repository_unique_id.clone();
    retrieve(
        world,
        vec![
            crate::actors::xds::doc_request(&repo, &k.sop_uid),
            crate::actors::xds::doc_request(&repo, UNKNOWN_DOCUMENT),
        ],
        XdsExpect::default(),
        "Retrieve Document Set (one known, one unknown)",
    )
    .await
}

#[when(expr = "the consumer retrieves the manifest of study {string} from an unknown repository")]
async fn retrieve_unknown_repo(world: &mut HarnessWorld, alias: String) -> StepResult {
    let k = manifest_of(world, &alias)?;
    retrieve(
        world,
        vec![crate::actors::xds::doc_request(
            UNKNOWN_REPOSITORY,
            &k.sop_uid,
        )],
        XdsExpect::default(),
        "Retrieve Document Set (unknown repository)",
    )
    .await
}

#[then("the repository returns the manifest as registered")]
async fn returns_registered(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-13", "XDSI-03", "XDSI-04"])
}

#[then("the manifest agrees with its registry metadata")]
async fn agrees_with_metadata(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-05", "XDSI-06", "XDSI-07", "XDSI-08"])
}

// ---------------------------------------------------------------------------------------------
// RAD-69 Retrieve Imaging Document Set

fn parse_ts_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Which of these instances a conformant source returns for this transfer syntax list: the
/// stored syntax, or Explicit VR Little Endian (every fixture has an uncompressed form).
fn returnable(insts: &[&FixtureInstance], ts: &[String]) -> BTreeSet<String> {
    insts
        .iter()
        .filter(|i| ts.contains(&i.transfer_syntax) || ts.iter().any(|t| t == ELE))
        .map(|i| i.sop_uid.clone())
        .collect()
}

async fn rad69(
    world: &mut HarnessWorld,
    r: RetrieveImagingDocumentSetRequest,
    x: XdsExpect,
    operation: &str,
) -> StepResult {
    let c = client(world)?;
    let ex = match c.retrieve_imaging(&r, operation).await {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Imaging Document Source",
                &err.to_string(),
            ))
        }
    };
    record_xds(world, ex, x)
}

/// A RAD-69 request for these instances, grouped by study and series.
#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} in transfer syntaxes {string}"
)]
async fn rad69_series(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    let ts = parse_ts_list(&ts);
    let fx = world.ctx.clone();
    let Some(s) = fx.fixtures.study(&alias) else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let insts = s.series_by_number(series);
    if insts.is_empty() {
        return Err(harness_error(
            world,
            "unknown fixture series",
            format!("{alias} {series}"),
        ));
    }
    let c = client(world)?;
    let repo = c.cfg.imaging_source_unique_id.clone();
    let triples: Vec<(String, String, String)> = insts
        .iter()
        .map(|i| (i.study_uid.clone(), i.series_uid.clone(), i.sop_uid.clone()))
        .collect();
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(returnable(&insts, &ts)),
        ..XdsExpect::default()
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&triples, &repo, &ts),
        x,
        "Retrieve Imaging Document Set (series)",
    )
    .await
}

#[when(
    expr = "the imaging consumer asks for instance {int} of series {int} of study {string} under study {string}"
)]
async fn rad69_wrong_study(
    world: &mut HarnessWorld,
    number: i64,
    series: i64,
    alias: String,
    other: String,
) -> StepResult {
    let fx = world.ctx.clone();
    let (Some(s), Some(o)) = (fx.fixtures.study(&alias), fx.fixtures.study(&other)) else {
        return Err(harness_error(
            world,
            "unknown fixture study",
            format!("{alias} / {other}"),
        ));
    };
    let Some(inst) = s
        .series_by_number(series)
        .into_iter()
        .find(|i| i.instance_number == Some(number))
    else {
        return Err(harness_error(
            world,
            "unknown fixture instance",
            format!("{alias} {series} {number}"),
        ));
    };
    let other_series = o
        .series()
        .first()
        .map(|x| x.to_string())
        .unwrap_or_default();
    let c = client(world)?;
    let repo = c.cfg.imaging_source_unique_id.clone();
    let triple = (o.uid.to_string(), other_series, inst.sop_uid.clone());
    let ts = vec![ELE.to_string()];
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: BTreeMap::from([(triple.2.clone(), (triple.0.clone(), triple.1.clone()))]),
        returnable: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&[triple], &repo, &ts),
        x,
        "Retrieve Imaging Document Set (UID outside the study)",
    )
    .await
}

#[when(
    expr = "the imaging consumer retrieves series {int} of study {string} from an unknown imaging source"
)]
async fn rad69_unknown_repo(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let fx = world.ctx.clone();
    let Some(s) = fx.fixtures.study(&alias) else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let triples: Vec<(String, String, String)> = s
        .series_by_number(series)
        .iter()
        .map(|i| (i.study_uid.clone(), i.series_uid.clone(), i.sop_uid.clone()))
        .collect();
    let ts = vec![ELE.to_string()];
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(BTreeSet::new()),
        ..XdsExpect::default()
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&triples, UNKNOWN_REPOSITORY, &ts),
        x,
        "Retrieve Imaging Document Set (unknown source)",
    )
    .await
}

#[when("the imaging consumer retrieves every instance the manifest references")]
async fn rad69_manifest(world: &mut HarnessWorld) -> StepResult {
    let Some(bytes) = world.xds.manifest.clone() else {
        let Some(idx) = world.xds.last else {
            return Err(harness_error(
                world,
                "no manifest",
                "no manifest was retrieved before this step",
            ));
        };
        // A KOS part the evidence did not keep whole is the harness's limit, not the SUT's.
        let too_large = world
            .evidence
            .get(idx)
            .and_then(|ex| ex.multipart.as_ref())
            .is_some_and(|mp| {
                mp.parts.iter().any(|p| {
                    p.document.is_none()
                        && p.dicom.as_ref().and_then(|d| d.sop_class.as_deref())
                            == Some(kos::KOS_SOP_CLASS)
                })
            });
        if too_large {
            return Err(harness_error(
                world,
                "manifest not kept",
                "the manifest is larger than the harness keeps of a document, so its references cannot be read",
            ));
        }
        return Err(stop_on_answer(
            world,
            idx,
            "KOS-01",
            "the manifest asked for, a DICOM KOS (RAD TF-2 4.68.4.1.2.1)",
            "no KOS manifest in the answer".into(),
        ));
    };
    let m = match kos::parse(&bytes) {
        Ok(m) => m,
        Err(err) => {
            let idx = world.xds.last;
            return Err(stop_once(
                world,
                "KOS-01",
                idx,
                "a KOS manifest that parses as DICOM PS3.10",
                err.to_string(),
            ));
        }
    };
    // RAD69-001: the repositoryUniqueId is the manifest's Retrieve Location UID.
    let mut triples = Vec::new();
    let mut by_repo: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for r in &m.evidence {
        let repo = r.retrieve_location_uid.clone().unwrap_or_default();
        let t = (
            r.study_uid.clone(),
            r.series_uid.clone(),
            r.sop_instance.clone(),
        );
        triples.push(t.clone());
        by_repo.entry(repo).or_default().push(t);
    }
    let fx = world.ctx.clone();
    let mut ts: Vec<String> = vec![ELE.to_string()];
    for (_, _, sop) in &triples {
        if let Some(i) = fx.fixtures.instances.iter().find(|i| &i.sop_uid == sop) {
            if !ts.contains(&i.transfer_syntax) {
                ts.push(i.transfer_syntax.clone());
            }
        }
    }
    let x = XdsExpect {
        transfer_syntaxes: ts.clone(),
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(triples.iter().map(|t| t.2.clone()).collect()),
        ..XdsExpect::default()
    };
    // The fixture manifests name one Imaging Document Source; a request goes to the first.
    let repo = match by_repo.into_keys().next() {
        Some(x) => x,
        None => {
            let idx = world.xds.last;
            return Err(stop_once(
                world,
                "KOS-05",
                idx,
                "a manifest referencing the instances of its study (Current Requested Procedure Evidence Sequence)",
                "the manifest references no instance",
            ));
        }
    };
    rad69(
        world,
        crate::actors::xds::imaging_request(&triples, &repo, &ts),
        x,
        "Retrieve Imaging Document Set (every referenced instance)",
    )
    .await
}

#[then("the imaging source returns exactly the requested instances it holds")]
async fn rad69_exact(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-13", "XDSI-09", "XDSI-10"])
}

// ---------------------------------------------------------------------------------------------
// RAD-68 Provide and Register Imaging Document Set (the harness is the Imaging Document Source)

/// How the harness breaks a submission, for the negative scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breakage {
    None,
    UnknownPatient,
    PatientMismatch,
    UniqueIdNotSop,
    WrongHash,
}

async fn provide(world: &mut HarnessWorld, alias: &str, how: Breakage) -> StepResult {
    let k = manifest_of(world, alias)?;
    let insts = study_instances(world, alias)?;
    let c = client(world)?;
    let bytes = match tokio::fs::read(world.ctx.fixtures.file(&k)).await {
        Ok(b) => b,
        Err(err) => return Err(harness_error(world, "fixture unreadable", err.to_string())),
    };
    let (fresh, fresh_uid) = crate::test_data::fresh_manifest(&bytes, &k.sop_uid);
    note_submitted(world, &k.patient_id, &k.study_uid, &fresh_uid);
    let unknown = patient_cx(world, UNKNOWN_PATIENT);
    let override_pid = (how == Breakage::UnknownPatient).then_some(unknown.as_str());
    let (mut pnr, atts) = match manifest_submission(&c.cfg, &fresh, &insts, override_pid) {
        Ok(x) => x,
        Err(err) => {
            return Err(harness_error(
                world,
                "submission not built",
                err.to_string(),
            ))
        }
    };
    for eo in &mut pnr.submit.objects.extrinsic_objects {
        for x in &mut eo.external_identifiers {
            if x.scheme.as_deref() == Some(e::DE_PATIENT_ID) && how == Breakage::PatientMismatch {
                // Another patient of the affinity domain: known, but not the submission set's.
                let other = another_patient(world, &k.patient_id);
                x.value = Some(c.cfg.patient_cx(&other));
            }
            if x.scheme.as_deref() == Some(e::DE_UNIQUE_ID) && how == Breakage::UniqueIdNotSop {
                x.value = Some(format!("{fresh_uid}.9"));
            }
        }
        if how == Breakage::WrongHash {
            for s in &mut eo.slots {
                if s.name == "hash" {
                    s.values = vec!["0000000000000000000000000000000000000000".into()];
                }
            }
        }
    }
    let ex = match c
        .provide_and_register(&pnr, &atts, "Provide and Register (manifest)")
        .await
    {
        Ok(ex) => ex,
        Err(err) => {
            return Err(not_applicable(
                world,
                "no Document Repository",
                &err.to_string(),
            ))
        }
    };
    world.xds.manifest = Some(Bytes::from(fresh));
    record_xds(world, ex, XdsExpect::default())?;
    // Remember the new manifest, and the metadata registered, for the follow-up steps.
    world.xds.entries.clear();
    world.xds.expect.xds.matches = Some(BTreeSet::from([fresh_uid]));
    world.xds.expect.xds.registered = pnr
        .submit
        .objects
        .extrinsic_objects
        .first()
        .map(|o| o.document_entry());
    Ok(())
}

#[when(expr = "the imaging source provides and registers a new manifest of study {string}")]
async fn provide_ok(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::None).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} for an unknown patient"
)]
async fn provide_unknown_patient(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::UnknownPatient).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} whose entry names another patient than its submission set"
)]
async fn provide_mismatch(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::PatientMismatch).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} whose uniqueId is not its SOP Instance UID"
)]
async fn provide_uid_mismatch(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::UniqueIdNotSop).await
}

#[when(
    expr = "the imaging source provides a new manifest of study {string} with a hash that does not match it"
)]
async fn provide_wrong_hash(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, Breakage::WrongHash).await
}

#[then("the consumer can find and retrieve the new manifest unchanged")]
async fn find_new(world: &mut HarnessWorld) -> StepResult {
    let Some(uid) = world
        .xds
        .expect
        .xds
        .matches
        .as_ref()
        .and_then(|m| m.iter().next().cloned())
    else {
        return Err(harness_error(
            world,
            "no new manifest",
            "nothing was submitted",
        ));
    };
    let bytes = world.xds.manifest.clone().unwrap_or_default();
    let registered = world.xds.expect.xds.registered.clone();
    let q = AdhocQueryRequest::get_documents_by_unique_id(&[&uid], "LeafClass");
    run_query(
        world,
        q,
        "GetDocuments (the new manifest)",
        XdsExpect {
            matches: Some(BTreeSet::from([uid.clone()])),
            statuses: vec![e::RESPONSE_SUCCESS.into()],
            registered,
            ..XdsExpect::default()
        },
    )
    .await?;
    // The metadata round trip: what the registry returns is what was registered.
    judge_xds(world, &["XDSI-01", "XDSI-02", "XDSI-12", "XDSI-14"])?;
    let repo = world
        .xds
        .entries
        .first()
        .and_then(|d| d.repository_unique_id.clone())
        .or_else(|| {
            world
                .ctx
                .xds
                .as_ref()
                .map(|c| c.cfg.repository_unique_id.clone())
        })
        .unwrap_or_default();
    let hash = e::document_hash(&bytes);
    let x = XdsExpect {
        statuses: vec![e::RESPONSE_SUCCESS.into()],
        documents: BTreeMap::from([(
            uid.clone(),
            RegisteredDoc {
                mime_type: Some(e::MIME_DICOM.into()),
                hash: Some(hash),
                size: Some(bytes.len() as u64),
            },
        )]),
        ..XdsExpect::default()
    };
    let home = world
        .xds
        .entries
        .first()
        .and_then(|d| d.home_community_id.clone())
        .filter(|h| !h.trim().is_empty());
    retrieve(
        world,
        vec![DocumentRequest {
            home_community_id: home,
            ..crate::actors::xds::doc_request(&repo, &uid)
        }],
        x,
        "Retrieve Document Set (the new manifest)",
    )
    .await?;
    judge_xds(world, &["XDSI-01", "XDSI-13", "XDSI-03", "XDSI-04"])
}
