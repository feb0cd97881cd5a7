//! XDS-I.b steps: Registry Stored Query (ITI-18), Retrieve Document Set (ITI-43), Provide and
//! Register Imaging Document Set (RAD-68), Retrieve Imaging Document Set (RAD-69), and the
//! scenarios where the SUT calls the harness's simulated actors after a trigger.
//!
//! Studies are named by fixture alias; the harness knows the truth about them (their manifest, its
//! SOP Instance UID, the patient, the modalities and every instance) and tells the checks.

mod provide;
mod query;
mod retrieve;
mod sut_calls;
mod xca;
mod xca_consumer;
mod xca_i;
mod xca_initiating;
mod xcai_initiating;

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
use retrieve::retrieve;

/// A document uniqueId no repository holds.
const UNKNOWN_DOCUMENT: &str = "2.25.999999999999999999999999999999997";
/// A repositoryUniqueId of no repository.
const UNKNOWN_REPOSITORY: &str = "1.3.6.1.4.1.21367.13.80.999";
/// Explicit VR Little Endian.
const ELE: &str = "1.2.840.10008.1.2.1";

// ---------------------------------------------------------------------------------------------
// Helpers

/// The XDS-I.b user agent; not applicable when the profile declares no XDS-I.b endpoints.
pub(crate) fn client(world: &mut HarnessWorld) -> Result<Arc<XdsClient>, StepError> {
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

/// Record an XDS exchange as the scenario's last, with what its answer must satisfy.
pub(crate) fn record_xds(
    world: &mut HarnessWorld,
    ex: crate::evidence::Exchange,
    x: XdsExpect,
) -> StepResult {
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
            Err(why) => Some((
                crate::checks::xds::rules::SOAP_01.id,
                envelope(),
                why.to_string(),
            )),
            Ok(env) => match (&env.fault, msg.message()) {
                (Some(f), _) => Some((
                    "XDSI-01",
                    "a registry response to a valid request".to_string(),
                    format!("SOAP Fault {}: {}", f.code, f.reason),
                )),
                (None, Err(why)) => Some((
                    crate::checks::xds::rules::SOAP_01.id,
                    "an ebXML message in the SOAP Body".to_string(),
                    why.to_string(),
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

/// Judge the scenario's last XDS exchange by the checks `ids`.
pub(crate) fn judge_xds(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
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
