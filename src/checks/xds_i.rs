//! XDS-I.b checks of our own: expected outcomes, and the cross-walk between the manifest (KOS),
//! its XDS metadata and what the Imaging Document Source actually returns.
//!
//! The structural rules live in [`super::xds`]; these checks compare the SUT's message with what
//! the scenario knows: the status and error code a request must produce, the documents a stored
//! query must find, the hash and size the registry holds, the transfer syntaxes and the hierarchy
//! a RAD-69 request asked for, and the KOS that the metadata describes.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::soap_message::SutMessage;
use super::{Check, Level, Subject, Verdict};
use crate::evidence::{Direction, PartSummary};
use crate::model::ebrim::{
    self as e, DocumentContent, DocumentEntry, Message, RegistryResponse,
    RetrieveDocumentSetResponse,
};
use crate::model::kos;
use crate::transaction::Transaction;

mod identity;
pub use identity::{entry_mismatches, metadata_differences, retrieve_mismatches};

/// A document the registry holds, as the scenario knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisteredDoc {
    /// mimeType.
    pub mime_type: Option<String>,
    /// SHA-1, lowercase hex.
    pub hash: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
}

/// What an XDS exchange must satisfy; each check uses the fields it needs.
#[derive(Debug, Clone, Default)]
pub struct XdsExpect {
    /// Response statuses (URNs) that satisfy the requirement; empty: not judged.
    pub statuses: Vec<String>,
    /// Error codes of which at least one must be reported (empty: none required).
    pub error_codes: Vec<String>,
    /// Why that outcome (for messages): "stored query without a patient id".
    pub reason: String,
    /// ITI-18: uniqueIds of the DocumentEntries the query must return, exactly.
    pub matches: Option<BTreeSet<String>>,
    /// ITI-18: uniqueIds of manifests the harness itself registered during the run that may
    /// also match (scenarios run concurrently): returned or not, they are not a defect.
    pub tolerated: BTreeSet<String>,
    /// ITI-43: the documents asked for that the registry holds, by uniqueId.
    pub documents: BTreeMap<String, RegisteredDoc>,
    /// RAD-69: the transfer syntaxes asked for.
    pub transfer_syntaxes: Vec<String>,
    /// RAD-69: every SOP Instance UID asked for, with the (study, series) it was asked under.
    pub requested: BTreeMap<String, (String, String)>,
    /// RAD-69: the instances the source holds among those asked for (returned exactly).
    pub returnable: Option<BTreeSet<String>>,
    /// The DocumentEntry of the manifest, from the registry, for the cross-walk.
    pub entry: Option<DocumentEntry>,
    /// The Retrieve Location UID (0040,E011) of the manifest a consumer works from.
    pub retrieve_location: Option<String>,
    /// The modalities of the study the manifest shares (a KOS lists UIDs only: the harness
    /// knows them from its test data).
    pub modalities: BTreeSet<String>,
    /// ITI-18 ObjectRef answers: the DocumentEntries the references resolve to (a LeafClass
    /// GetDocuments by entryUUID sent after the query), judged in place of the bare references.
    pub resolved: Option<Vec<DocumentEntry>>,
    /// Why that GetDocuments returned no entries, when it was refused (status and error codes).
    pub resolution_refusal: Option<String>,
    /// ITI-43: SHA-1 (lower-case hex) and size of each MIME part of the response, by Content-ID,
    /// digested while the body streamed (the evidence keeps large parts only as a summary).
    pub streamed: BTreeMap<String, (String, u64)>,
    /// The DocumentEntry the harness registered (RAD-68), for the metadata round trip.
    pub registered: Option<DocumentEntry>,
    /// What the SUT was asked to act on, when the SUT is the initiator (a trigger).
    pub asked: Option<Asked>,
}

/// What a trigger asked the SUT (a source or a consumer) to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asked {
    /// The patient, as the affinity domain identifies it (CX).
    pub patient: String,
    /// The study.
    pub study: String,
    /// The manifest's uniqueId.
    pub manifest: String,
    /// The repositoryUniqueId of the repository that holds the manifest.
    pub repository: String,
}

fn parsed(s: &Subject<'_>) -> Result<Message, Verdict> {
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(e.to_string()))?;
    msg.message()
        .map_err(|why| Verdict::na(format!("no ebXML message to judge: {why}")))
}

/// A judgement that could not be made because the answer is not the message the request calls
/// for (not readable, a SOAP Fault, another message), where the scenario knows what the answer
/// must hold: that content was owed, so its absence is a Fail of this check, never a reason to
/// skip it (a refused valid request is not "not applicable").
fn owed(v: Verdict, expected: impl Into<String>) -> Verdict {
    match v {
        Verdict::NotApplicable(why) => Verdict::fail(expected, why),
        other => other,
    }
}

fn registry_response(m: &Message) -> Option<&RegistryResponse> {
    match m {
        Message::AdhocQueryResponse(r) => Some(&r.response),
        Message::RegistryResponse(r) => Some(r),
        Message::RetrieveDocumentSetResponse(r) => r.registry_response.as_ref(),
        _ => None,
    }
}

fn short_status(s: &str) -> &str {
    s.rsplit(':').next().unwrap_or(s)
}

/// XDSI-01: the response status and error code are those the requirement names for the request.
fn xdsi_01(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    if x.statuses.is_empty() {
        return Verdict::na("the scenario expects no particular status");
    }
    let expected = format!(
        "{}{} ({})",
        x.statuses
            .iter()
            .map(|s| short_status(s))
            .collect::<Vec<_>>()
            .join(" or "),
        if x.error_codes.is_empty() {
            String::new()
        } else {
            format!(" with {}", x.error_codes.join(" or "))
        },
        x.reason
    );
    let msg = match SutMessage::of(s.exchange) {
        Ok(m) => m,
        Err(err) => return Verdict::fail(expected, err.to_string()),
    };
    let m = match msg.message() {
        Ok(m) => m,
        Err(why) => {
            let status = msg
                .http_status
                .map(|c| format!("HTTP {c}: "))
                .unwrap_or_default();
            return Verdict::fail(expected, format!("{status}{why}"));
        }
    };
    let Some(rr) = registry_response(&m) else {
        return Verdict::fail(expected, "a message without a registry response status");
    };
    let status = rr.status.as_deref().unwrap_or("(none)");
    if !x.statuses.iter().any(|w| w == status) {
        let codes: Vec<&str> = rr
            .errors
            .iter()
            .filter_map(|e| e.error_code.as_deref())
            .collect();
        return Verdict::fail(
            expected,
            format!(
                "status {}, errors [{}]",
                short_status(status),
                codes.join(", ")
            ),
        );
    }
    if !x.error_codes.is_empty()
        && !rr.errors.iter().any(|er| {
            er.error_code
                .as_deref()
                .is_some_and(|c| x.error_codes.iter().any(|w| w == c))
        })
    {
        let codes: Vec<String> = rr
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{} ({})",
                    e.error_code.as_deref().unwrap_or("no code"),
                    e.code_context.as_deref().unwrap_or("")
                )
            })
            .collect();
        return Verdict::fail(
            expected,
            format!(
                "status {}, errors [{}]",
                short_status(status),
                codes.join(", ")
            ),
        );
    }
    Verdict::Pass
}

/// The query the harness sent in the subject's exchange, if it was a stored query.
fn harness_query(s: &Subject<'_>) -> Option<e::AdhocQueryRequest> {
    match super::soap_message::harness_request(s.exchange) {
        Some(Message::AdhocQueryRequest(q)) => Some(q),
        _ => None,
    }
}

/// The DocumentEntries an ITI-18 answer gives: its ExtrinsicObjects, or for an answer of
/// ObjectRefs the entries they resolve to (None when they were not resolved).
fn answered_entries(
    s: &Subject<'_>,
    r: &e::AdhocQueryResponse,
) -> Result<Option<Vec<DocumentEntry>>, Vec<String>> {
    if r.objects.object_refs.is_empty() || !r.objects.extrinsic_objects.is_empty() {
        return Ok(Some(r.objects.document_entries()));
    }
    let Some(resolved) = &s.expect.xds.resolved else {
        return Ok(None);
    };
    // Every reference must name an entry the registry resolves (ITI TF-2 3.18.4.1.2.3.7.5).
    let mut unresolved = Vec::new();
    let mut entries = Vec::new();
    for id in r.objects.object_refs.iter().filter_map(|o| o.id.as_deref()) {
        match resolved.iter().find(|d| {
            d.entry_uuid
                .as_deref()
                .is_some_and(|u| identity::same_uuid(u, id))
        }) {
            Some(d) => entries.push(d.clone()),
            None => unresolved.push(format!(
                "ObjectRef {id} resolves to no DocumentEntry (GetDocuments by entryUUID{})",
                s.expect
                    .xds
                    .resolution_refusal
                    .as_deref()
                    .map(|r| format!(" answered {r}"))
                    .unwrap_or_default()
            )),
        }
    }
    if unresolved.is_empty() {
        Ok(Some(entries))
    } else {
        Err(unresolved)
    }
}

/// XDSI-02: a stored query returns exactly the matching DocumentEntries, in the form asked.
fn xdsi_02(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.xds.matches else {
        return Verdict::na("the scenario does not know the matching documents");
    };
    let expected = format!("the {} matching DocumentEntries, and only them", want.len());
    let owes = |v: Verdict| {
        if want.is_empty() {
            v
        } else {
            owed(v, expected.clone())
        }
    };
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return owes(v),
    };
    let Message::AdhocQueryResponse(r) = m else {
        return owes(Verdict::na("not a stored query response"));
    };
    let tolerated = &s.expect.xds.tolerated;
    let leaf_asked = harness_query(s)
        .and_then(|q| q.return_type)
        .is_some_and(|t| t == "LeafClass");
    let refs_only = !r.objects.object_refs.is_empty() && r.objects.extrinsic_objects.is_empty();
    if refs_only && leaf_asked {
        // ITI TF-2 3.18.4.1.2.1: LeafClass returns the full objects; references name nothing
        // the consumer can check or use.
        return Verdict::fail(
            format!("{expected}, as full ExtrinsicObjects (returnType LeafClass)"),
            format!("{} ObjectRef(s)", r.objects.object_refs.len()),
        );
    }
    let entries = match answered_entries(s, &r) {
        Ok(Some(entries)) => entries,
        Ok(None) => {
            // References not resolved: their count is all that can be told.
            let n = r.objects.object_refs.len();
            return if n >= want.len() && n <= want.len() + tolerated.len() {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("{} ObjectRef(s), one per matching document", want.len()),
                    format!("{n} ObjectRef(s)"),
                )
            };
        }
        Err(unresolved) => return Verdict::fail(expected, unresolved.join("; ")),
    };
    let got: BTreeSet<String> = entries.into_iter().filter_map(|d| d.unique_id).collect();
    let missing: Vec<&str> = want.difference(&got).map(String::as_str).collect();
    let extra: Vec<&str> = got
        .difference(want)
        .filter(|u| !tolerated.contains(*u))
        .map(String::as_str)
        .collect();
    if missing.is_empty() && extra.is_empty() {
        Verdict::Pass
    } else {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!("not matching {}", extra.join(", ")));
        }
        Verdict::fail(expected, parts.join("; "))
    }
}

/// XDSI-12: every DocumentEntry a stored query returns matches each parameter the query sent.
fn xdsi_12(s: &Subject<'_>) -> Verdict {
    if s.exchange.direction != Direction::Outbound || s.exchange.transaction != Transaction::Iti18 {
        return Verdict::na("not a registry's ITI-18 answer to the harness");
    }
    let Some(q) = harness_query(s) else {
        return Verdict::na("the harness's query is not in the exchange");
    };
    if !identity::judges_entries(&q) {
        return Verdict::na("the query returns no DocumentEntries to match");
    }
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::AdhocQueryResponse(r) = m else {
        return Verdict::na("not a stored query response");
    };
    let expected =
        "entries that match every parameter of the query (patient, status, codes, times, ids)";
    let entries = match answered_entries(s, &r) {
        Ok(Some(entries)) => entries,
        Ok(None) => return Verdict::na("ObjectRefs that were not resolved to entries"),
        Err(unresolved) => return Verdict::fail(expected, unresolved.join("; ")),
    };
    let mut bad: Vec<String> = entries
        .iter()
        .flat_map(|d| entry_mismatches(&q, d))
        .collect();
    bad.truncate(20);
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, bad.join("; "))
    }
}

/// The bytes of a returned document, when the evidence kept them.
fn document_bytes(msg: &SutMessage<'_>, content: &DocumentContent) -> Option<Bytes> {
    match content {
        DocumentContent::Inline(b) => Some(Bytes::copy_from_slice(b)),
        DocumentContent::Xop { href } => msg.attachment(href).and_then(|p| p.document.clone()),
        DocumentContent::InvalidBase64(_) => None,
    }
}

fn document_part<'a>(msg: &SutMessage<'a>, content: &DocumentContent) -> Option<&'a PartSummary> {
    match content {
        DocumentContent::Xop { href } => msg.attachment(href),
        _ => None,
    }
}

fn retrieve_response<'a>(
    s: &Subject<'a>,
) -> Result<(SutMessage<'a>, RetrieveDocumentSetResponse), Verdict> {
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(e.to_string()))?;
    match msg.message() {
        Ok(Message::RetrieveDocumentSetResponse(r)) => Ok((msg, r)),
        Ok(_) => Err(Verdict::na("not a retrieve response")),
        Err(why) => Err(Verdict::na(why.to_string())),
    }
}

/// XDSI-03: a retrieved document has the mimeType it was registered with.
fn xdsi_03(s: &Subject<'_>) -> Verdict {
    if s.expect.xds.documents.is_empty() {
        return Verdict::na("no registered document to compare with");
    }
    let (_, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return owed(v, "the registered documents, with their mimeType"),
    };
    let mut bad = Vec::new();
    for d in &r.documents {
        let Some(reg) = d
            .document_unique_id
            .as_ref()
            .and_then(|u| s.expect.xds.documents.get(u))
        else {
            continue;
        };
        if let Some(want) = &reg.mime_type {
            if d.mime_type.as_deref() != Some(want.as_str()) {
                bad.push(format!(
                    "{}: mimeType {}, registered {want}",
                    d.document_unique_id.as_deref().unwrap_or(""),
                    d.mime_type.as_deref().unwrap_or("(none)")
                ));
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("the registered mimeType", bad.join("; "))
    }
}

/// XDSI-04: a retrieved document has the size and SHA-1 hash the registry holds, judged on the
/// bytes when the evidence kept them, else on the digest taken while the body streamed.
fn xdsi_04(s: &Subject<'_>) -> Verdict {
    if s.expect.xds.documents.is_empty() {
        return Verdict::na("no registered document to compare with");
    }
    let (msg, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return owed(v, "the registered documents, with their size and hash"),
    };
    let mut bad = Vec::new();
    let mut undigested = Vec::new();
    let mut judged = 0;
    for d in &r.documents {
        let uid = d.document_unique_id.as_deref().unwrap_or("");
        let Some(reg) = s.expect.xds.documents.get(uid) else {
            continue;
        };
        let Some(content) = &d.document else { continue };
        let (size, hash) = match document_bytes(&msg, content) {
            Some(b) => (
                Some(b.len() as u64),
                Some(crate::model::ebrim::document_hash(&b)),
            ),
            None => match streamed_digest(s, content) {
                Some((hash, size)) => (Some(size), Some(hash)),
                None => (document_part(&msg, content).map(|p| p.size), None),
            },
        };
        judged += 1;
        if let (Some(want), Some(got)) = (reg.size, size) {
            if want != got {
                bad.push(format!("{uid}: {got} bytes, registered size {want}"));
            }
        }
        match (&reg.hash, &hash) {
            (Some(want), Some(got)) if !want.trim().eq_ignore_ascii_case(got) => {
                bad.push(format!("{uid}: SHA-1 {got}, registered hash {want}"));
            }
            (Some(_), None) => undigested.push(uid.to_string()),
            _ => {}
        }
    }
    if judged == 0 {
        return Verdict::na("no registered document was returned (XDSI-13 judges which were)");
    }
    if !bad.is_empty() {
        Verdict::fail("the registered size and hash", bad.join("; "))
    } else if !undigested.is_empty() {
        Verdict::na(format!(
            "the bytes of {} were neither kept nor digested",
            undigested.join(", ")
        ))
    } else {
        Verdict::Pass
    }
}

/// The SHA-1 and size of an attachment digested while the response streamed.
fn streamed_digest(s: &Subject<'_>, content: &DocumentContent) -> Option<(String, u64)> {
    let DocumentContent::Xop { href } = content else {
        return None;
    };
    let cid = crate::transport::soap::content_id_of_cid_url(href).ok()?;
    s.expect.xds.streamed.get(cid.trim()).cloned()
}

/// XDSI-13: a retrieve returns only the documents asked for, each once, under the repository
/// and community they were asked at.
fn xdsi_13(s: &Subject<'_>) -> Verdict {
    if s.exchange.direction != Direction::Outbound {
        return Verdict::na("not a response to the harness");
    }
    let Some(asked) = super::soap_message::harness_request(s.exchange)
        .as_ref()
        .and_then(identity::asked_documents)
    else {
        return Verdict::na("the harness's retrieve request is not in the exchange");
    };
    let (_, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let bad = retrieve_mismatches(&asked, &r);
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "DocumentResponses for the documents asked only, each once, echoing their DocumentUniqueId, RepositoryUniqueId and HomeCommunityId",
            bad.join("; "),
        )
    }
}

/// XDSI-14: the registry returns the DocumentEntry the harness registered, attribute for
/// attribute.
fn xdsi_14(s: &Subject<'_>) -> Verdict {
    let Some(registered) = &s.expect.xds.registered else {
        return Verdict::na("the harness registered nothing in this scenario");
    };
    let expected = "the metadata that was registered";
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return owed(v, expected),
    };
    let Message::AdhocQueryResponse(r) = m else {
        return owed(Verdict::na("not a stored query response"), expected);
    };
    let Some(returned) = r
        .objects
        .document_entries()
        .into_iter()
        .find(|d| d.unique_id.is_some() && d.unique_id == registered.unique_id)
    else {
        return Verdict::na("the registered entry is not in the answer (XDSI-02 judges that)");
    };
    let diff = metadata_differences(registered, &returned);
    if diff.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, diff.join("; "))
    }
}

/// XDSI-15: an Imaging Document Source asked to publish the manifest of a study publishes that
/// study's manifest, for its patient.
fn xdsi_15(s: &Subject<'_>) -> Verdict {
    let Some(asked) = &s.expect.xds.asked else {
        return Verdict::na("the SUT was not asked to publish a given study");
    };
    if s.exchange.direction != Direction::Inbound {
        return Verdict::na("not a request of the SUT");
    }
    let msg = match SutMessage::of(s.exchange) {
        Ok(m) => m,
        Err(err) => return Verdict::na(format!("no SOAP message: {err}")),
    };
    let Ok(Message::ProvideAndRegister(p)) = msg.message() else {
        return Verdict::na("not a Provide and Register request");
    };
    let mut bad = Vec::new();
    let sets: Vec<e::SubmissionSet> = p
        .submit
        .objects
        .submission_set_packages()
        .into_iter()
        .map(|o| o.submission_set())
        .collect();
    for ss in &sets {
        if ss.patient_id.as_deref().map(str::trim) != Some(asked.patient.as_str()) {
            bad.push(format!(
                "SubmissionSet patientId {}",
                ss.patient_id.as_deref().unwrap_or("(none)")
            ));
        }
    }
    let mut manifests = 0;
    for eo in &p.submit.objects.extrinsic_objects {
        let d = eo.document_entry();
        let who = d.unique_id.clone().unwrap_or_else(|| "an entry".into());
        if d.patient_id.as_deref().map(str::trim) != Some(asked.patient.as_str()) {
            bad.push(format!(
                "{who}: patientId {}",
                d.patient_id.as_deref().unwrap_or("(none)")
            ));
        }
        let bytes = p
            .documents
            .iter()
            .find(|doc| doc.id.is_some() && doc.id == eo.id)
            .and_then(|doc| document_bytes(&msg, &doc.content));
        if let Some(study) = bytes
            .as_deref()
            .and_then(|b| kos::parse(b).ok())
            .and_then(|m| m.study.instance_uid)
        {
            manifests += 1;
            if study != asked.study {
                bad.push(format!("{who}: the manifest of study {study}"));
            }
        }
    }
    if manifests == 0 && bad.is_empty() {
        return Verdict::fail(
            format!("the manifest of study {}", asked.study),
            "no manifest (KOS) in the submission",
        );
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "the manifest of study {} for patient {}",
                asked.study, asked.patient
            ),
            bad.join("; "),
        )
    }
}

/// XDSI-16: a Document Consumer asked to find the manifests of a patient queries for that
/// patient; asked to retrieve a manifest, it asks for that manifest at its repository.
fn xdsi_16(s: &Subject<'_>) -> Verdict {
    let Some(asked) = &s.expect.xds.asked else {
        return Verdict::na("the SUT was not asked about a given patient or manifest");
    };
    if s.exchange.direction != Direction::Inbound {
        return Verdict::na("not a request of the SUT");
    }
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    match m {
        Message::AdhocQueryRequest(q) => {
            const PATIENT: &[&str] = &[
                "$XDSDocumentEntryPatientId",
                "$patientId",
                "$XDSSubmissionSetPatientId",
                "$XDSFolderPatientId",
            ];
            let named: Vec<String> = q
                .params
                .iter()
                .filter(|p| PATIENT.contains(&p.name.trim()))
                .flat_map(identity::slot_values)
                .collect();
            let expected = format!("a query for patient {}", asked.patient);
            if named.is_empty() {
                Verdict::fail(expected, "a query naming no patient")
            } else if named.iter().all(|p| p.trim() == asked.patient) {
                Verdict::Pass
            } else {
                Verdict::fail(
                    expected,
                    format!("a query for patient {}", named.join(", ")),
                )
            }
        }
        Message::RetrieveDocumentSetRequest(r) => {
            let bad: Vec<String> = r
                .documents
                .iter()
                .filter(|d| {
                    d.document_unique_id.as_deref().map(str::trim) != Some(asked.manifest.as_str())
                        || d.repository_unique_id.as_deref().map(str::trim)
                            != Some(asked.repository.as_str())
                })
                .map(|d| {
                    format!(
                        "{} at {}",
                        d.document_unique_id
                            .as_deref()
                            .unwrap_or("(no DocumentUniqueId)"),
                        d.repository_unique_id
                            .as_deref()
                            .unwrap_or("(no RepositoryUniqueId)")
                    )
                })
                .collect();
            if bad.is_empty() && !r.documents.is_empty() {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!(
                        "manifest {} at repository {}",
                        asked.manifest, asked.repository
                    ),
                    if bad.is_empty() {
                        "no DocumentRequest".to_string()
                    } else {
                        bad.join("; ")
                    },
                )
            }
        }
        _ => Verdict::na("not an ITI-18 or ITI-43 request"),
    }
}

/// The manifest and its DocumentEntry in the subject: the attached KOS and its metadata in an
/// inbound RAD-68, or the retrieved KOS (ITI-43) and the entry the registry returned.
fn manifest_and_entry(s: &Subject<'_>) -> Result<(kos::Manifest, DocumentEntry), Verdict> {
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(e.to_string()))?;
    let m = msg.message().map_err(|why| Verdict::na(why.to_string()))?;
    let (entry, bytes) = match (s.exchange.direction, m) {
        (Direction::Inbound, Message::ProvideAndRegister(p)) => {
            let entries = p.submit.objects.extrinsic_objects;
            let Some(eo) = entries.first() else {
                return Err(Verdict::na("the submission has no DocumentEntry"));
            };
            let entry = eo.document_entry();
            let doc = p
                .documents
                .iter()
                .find(|d| d.id.is_some() && d.id == eo.id)
                .ok_or_else(|| Verdict::na("no Document for the DocumentEntry"))?;
            let bytes = document_bytes(&msg, &doc.content)
                .ok_or_else(|| Verdict::na("the manifest bytes were not kept"))?;
            (entry, bytes)
        }
        (Direction::Outbound, Message::RetrieveDocumentSetResponse(r)) => {
            let entry = s.expect.xds.entry.clone().ok_or_else(|| {
                Verdict::na("the scenario holds no DocumentEntry for the manifest")
            })?;
            let d = r
                .documents
                .iter()
                .find(|d| d.document_unique_id.is_some() && d.document_unique_id == entry.unique_id)
                .ok_or_else(|| Verdict::na("the manifest was not returned"))?;
            let bytes = d
                .document
                .as_ref()
                .and_then(|c| document_bytes(&msg, c))
                .ok_or_else(|| Verdict::na("the manifest bytes were not kept"))?;
            (entry, bytes)
        }
        _ => return Err(Verdict::na("no manifest in this exchange")),
    };
    let manifest = kos::parse(&bytes)
        .map_err(|err| Verdict::na(format!("the document is not a KOS manifest: {err}")))?;
    Ok((manifest, entry))
}

/// XDSI-05: the DocumentEntry uniqueId is the manifest's SOP Instance UID.
fn xdsi_05(s: &Subject<'_>) -> Verdict {
    let (m, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    if entry.unique_id.is_some() && entry.unique_id == m.sop_instance_uid {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "uniqueId = KOS SOP Instance UID {}",
                m.sop_instance_uid.as_deref().unwrap_or("(none)")
            ),
            format!(
                "uniqueId {}",
                entry.unique_id.as_deref().unwrap_or("(none)")
            ),
        )
    }
}

/// XDSI-06: sourcePatientId is the manifest's Patient ID (with its issuer when it has one).
fn xdsi_06(s: &Subject<'_>) -> Verdict {
    let (m, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let Some(pid) = m.patient.id.as_deref().filter(|p| !p.is_empty()) else {
        return Verdict::na("the manifest has no Patient ID");
    };
    let got = entry.source_patient_id.as_deref().unwrap_or("");
    if got.split('^').next() == Some(pid) {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("sourcePatientId with id {pid} (KOS Patient ID)"),
            format!(
                "sourcePatientId {}",
                if got.is_empty() { "(none)" } else { got }
            ),
        )
    }
}

/// XDSI-07: referenceIdList carries the manifest's Study Instance UID.
fn xdsi_07(s: &Subject<'_>) -> Verdict {
    let (m, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let Some(study) = m.study.instance_uid.as_deref() else {
        return Verdict::na("the manifest has no Study Instance UID");
    };
    let found = entry.reference_ids.iter().any(|r| {
        let mut f = r.split('^');
        f.next() == Some(study) && r.ends_with(e::REFERENCE_ID_STUDY_INSTANCE_UID)
    });
    if found {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("{study}^^^^{}", e::REFERENCE_ID_STUDY_INSTANCE_UID),
            format!("referenceIdList [{}]", entry.reference_ids.join(", ")),
        )
    }
}

/// XDSI-08: eventCodeList holds a code for each modality of the referenced series.
fn xdsi_08(s: &Subject<'_>) -> Verdict {
    let modalities = &s.expect.xds.modalities;
    if modalities.is_empty() {
        return Verdict::na("the scenario does not know the study's modalities");
    }
    let (_, entry) = match manifest_and_entry(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let codes: BTreeSet<&str> = entry.event_codes.iter().map(|c| c.code.as_str()).collect();
    let missing: Vec<&String> = modalities
        .iter()
        .filter(|md| !codes.contains(md.as_str()))
        .collect();
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "event codes for modalities {}",
                modalities.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            format!(
                "eventCodeList [{}], missing {}",
                codes.iter().copied().collect::<Vec<_>>().join(", "),
                missing
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

/// XDSI-09: RAD-69 returns each image in one of the requested transfer syntaxes.
fn xdsi_09(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    if x.transfer_syntaxes.is_empty() {
        return Verdict::na("no transfer syntax list was sent");
    }
    let (msg, r) = match retrieve_response(s) {
        Ok(v) => v,
        Err(v) => return v,
    };
    let mut bad = Vec::new();
    for d in &r.documents {
        let Some(part) = d.document.as_ref().and_then(|c| document_part(&msg, c)) else {
            continue;
        };
        let ts = part.dicom.as_ref().and_then(|h| h.transfer_syntax.clone());
        match ts {
            Some(ts) if x.transfer_syntaxes.contains(&ts) => {}
            other => bad.push(format!(
                "{}: {}",
                d.document_unique_id.as_deref().unwrap_or(""),
                other.unwrap_or_else(|| "no transfer syntax (not DICOM PS3.10)".into())
            )),
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("one of {}", x.transfer_syntaxes.join(", ")),
            bad.join("; "),
        )
    }
}

/// XDSI-10: RAD-69 returns exactly the requested instances the source holds, each the object
/// asked for under the study and series it was asked under.
fn xdsi_10(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    let Some(want) = &x.returnable else {
        return Verdict::na("the scenario does not know which instances the source holds");
    };
    let (msg, r) = match retrieve_response(s) {
        Ok(v) => v,
        Err(v) if want.is_empty() => return v,
        Err(v) => {
            return owed(
                v,
                format!("the {} requested instances the source holds", want.len()),
            )
        }
    };
    let mut got = BTreeSet::new();
    let mut bad = Vec::new();
    for d in &r.documents {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let head = d
            .document
            .as_ref()
            .and_then(|c| document_part(&msg, c))
            .and_then(|p| p.dicom.clone());
        match (&head, x.requested.get(&uid)) {
            (_, None) => bad.push(format!("{uid} was not asked for")),
            (None, _) => bad.push(format!("{uid}: the document is not DICOM PS3.10")),
            (Some(h), Some((study, series))) => {
                if h.sop_instance.as_deref() != Some(uid.as_str()) {
                    bad.push(format!(
                        "{uid}: the object's SOP Instance UID is {}",
                        h.sop_instance.as_deref().unwrap_or("(none)")
                    ));
                }
                if h.study_instance_uid.as_deref().is_some_and(|u| u != study)
                    || h.series_instance_uid
                        .as_deref()
                        .is_some_and(|u| u != series)
                {
                    bad.push(format!(
                        "{uid}: object of study {} series {}, asked under study {study} series {series}",
                        h.study_instance_uid.as_deref().unwrap_or("?"),
                        h.series_instance_uid.as_deref().unwrap_or("?")
                    ));
                }
            }
        }
        got.insert(uid);
    }
    let missing: Vec<&String> = want.difference(&got).collect();
    if !missing.is_empty() {
        bad.push(format!(
            "not returned: {}",
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("the {} requested instances the source holds", want.len()),
            bad.join("; "),
        )
    }
}

/// XDSI-11: an Imaging Document Consumer asks RAD-69 only for instances the manifest references,
/// under their study and series, at the manifest's Retrieve Location UID (RAD69-001).
fn xdsi_11(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    if s.exchange.direction != Direction::Inbound || x.requested.is_empty() {
        return Verdict::na("not a consumer's RAD-69 request with a known manifest");
    }
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::RetrieveImagingDocumentSetRequest(r) = m else {
        return Verdict::na("not a RAD-69 request");
    };
    let mut bad = Vec::new();
    for st in &r.studies {
        let study = st.study_instance_uid.as_deref().unwrap_or("");
        for se in &st.series {
            let series = se.series_instance_uid.as_deref().unwrap_or("");
            for d in &se.documents {
                let uid = d.document_unique_id.as_deref().unwrap_or("");
                match x.requested.get(uid) {
                    None => bad.push(format!("{uid} is not referenced by the manifest")),
                    Some((s2, se2)) if s2 != study || se2 != series => bad.push(format!(
                        "{uid} asked under study {study} series {series}; the manifest has it under {s2} / {se2}"
                    )),
                    Some(_) => {}
                }
                if let Some(loc) = &x.retrieve_location {
                    if d.repository_unique_id.as_deref() != Some(loc.as_str()) {
                        bad.push(format!(
                            "{uid}: RepositoryUniqueId {}, the manifest's Retrieve Location UID is {loc}",
                            d.repository_unique_id.as_deref().unwrap_or("(none)")
                        ));
                    }
                }
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "the manifest's references and Retrieve Location UID",
            bad.join("; "),
        )
    }
}

/// The XDS-I.b expectation and cross-walk checks.
pub static CHECKS: &[Check] = &[
    Check {
        id: "XDSI-01",
        requirement: "IHE ITI TF-3 §4.2.4; ITI TF-2 §3.18.4.1.3, §3.43.4.2.3, §3.41.4.1.3; RAD TF-2 §4.69.4.2.3",
        requirements: &["ITI3-4.2.4", "ITI2-3.18.4.1.3", "ITI2-3.43.4.2.3", "ITI2-3.41.4.1.3", "RAD2-4.69.4.2.3"],
        level: Level::Shall,
        actor: "Document Registry / Repository / Imaging Document Source",
        title: "The response status and error code are those the requirement names for the request",
        eval: xdsi_01,
    },
    Check {
        id: "XDSI-02",
        requirement: "IHE ITI TF-2 §3.18.4.1.2.3.7",
        requirements: &["ITI2-3.18.4.1.2.3.7"],
        level: Level::Shall,
        actor: "Document Registry",
        title: "A stored query returns exactly the DocumentEntries that match its parameters",
        eval: xdsi_02,
    },
    Check {
        id: "XDSI-03",
        requirement: "IHE ITI TF-2 §3.43.4.2.2",
        requirements: &["ITI2-3.43.4.2.2"],
        level: Level::Shall,
        actor: "Document Repository",
        title: "A retrieved document carries the mimeType it was registered with",
        eval: xdsi_03,
    },
    Check {
        id: "XDSI-04",
        requirement: "IHE ITI TF-3 §4.2.3.2.10, §4.2.3.2.23 (hash, size)",
        requirements: &["ITI3-4.2.3.2.10", "ITI3-4.2.3.2.23"],
        level: Level::Shall,
        actor: "Document Repository",
        title: "A retrieved document has the size and SHA-1 hash the registry holds",
        eval: xdsi_04,
    },
    Check {
        id: "XDSI-05",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.3 (uniqueId of the manifest)",
        requirements: &["RAD2-4.68.4.1.2.3"],
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "The manifest's DocumentEntry uniqueId is the KOS SOP Instance UID",
        eval: xdsi_05,
    },
    Check {
        id: "XDSI-06",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.3; ITI TF-3 §4.2.3.2.20 (sourcePatientId)",
        requirements: &["RAD2-4.68.4.1.2.3", "ITI3-4.2.3.2.20"],
        level: Level::Should,
        actor: "Imaging Document Source",
        title: "sourcePatientId is the manifest's Patient ID",
        eval: xdsi_06,
    },
    Check {
        id: "XDSI-07",
        requirement: "IHE ITI TF-3 §4.2.3.2.28 (referenceIdList); IHE MADO Appendix A",
        requirements: &["ITI3-4.2.3.2.28", "MADO-A"],
        level: Level::Should,
        actor: "Imaging Document Source",
        title: "referenceIdList carries the manifest's Study Instance UID",
        eval: xdsi_07,
    },
    Check {
        id: "XDSI-08",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.3.3 (eventCodeList: modality, CID 29)",
        requirements: &["RAD2-4.68.4.1.2.3.3"],
        level: Level::Should,
        actor: "Imaging Document Source",
        title: "eventCodeList holds a code for each modality of the referenced series",
        eval: xdsi_08,
    },
    Check {
        id: "XDSI-09",
        requirement: "IHE RAD TF-2 §4.69.4.2.3 (RAD69-005)",
        requirements: &["RAD2-4.69.4.2.3"],
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "Each image is returned in one of the requested transfer syntaxes",
        eval: xdsi_09,
    },
    Check {
        id: "XDSI-10",
        requirement: "IHE RAD TF-2 §4.69.4.2.3; RAD TF-2 §4.68.4.1.2.1 (RAD68-006)",
        requirements: &["RAD2-4.69.4.2.3", "RAD2-4.68.4.1.2.1"],
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "RAD-69 returns exactly the requested instances the source holds, under the requested study and series",
        eval: xdsi_10,
    },
    Check {
        id: "XDSI-12",
        requirement: "IHE ITI TF-2 §3.18.4.1.2.3.7.1, §3.18.4.1.2.3.7.5, §3.18.4.1.2.3.7.14, §3.18.4.1.2.3.3 (time ranges); ITI TF-2 §3.18.4.1.3",
        requirements: &["ITI2-3.18.4.1.2.3.7.1", "ITI2-3.18.4.1.2.3.7.5", "ITI2-3.18.4.1.2.3.7.14", "ITI2-3.18.4.1.2.3.3", "ITI2-3.18.4.1.3"],
        level: Level::Shall,
        actor: "Document Registry",
        title: "Every DocumentEntry a stored query returns matches each parameter of the query (patient, status, codes, times, ids)",
        eval: xdsi_12,
    },
    Check {
        id: "XDSI-13",
        requirement: "IHE ITI TF-2 §3.43.4.2.2; RAD TF-2 §4.69.4.2.3",
        requirements: &["ITI2-3.43.4.2.2", "RAD2-4.69.4.2.3"],
        level: Level::Shall,
        actor: "Document Repository / Imaging Document Source",
        title: "A retrieve returns only the documents asked for, each once, under the RepositoryUniqueId and HomeCommunityId they were asked at",
        eval: xdsi_13,
    },
    Check {
        id: "XDSI-14",
        requirement: "IHE ITI TF-2 §3.42.4.1.3, §3.18.4.1.3; ITI TF-3 §4.2.3.2",
        requirements: &["ITI2-3.42.4.1.3", "ITI2-3.18.4.1.3", "ITI3-4.2.3.2"],
        level: Level::Shall,
        actor: "Document Registry",
        title: "The registry returns the DocumentEntry metadata that was registered, Approved",
        eval: xdsi_14,
    },
    Check {
        id: "XDSI-15",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1, §4.68.4.1.2.3; ITI TF-2 §3.41.4.1.2",
        requirements: &["RAD2-4.68.4.1.2.1", "RAD2-4.68.4.1.2.3", "ITI2-3.41.4.1.2"],
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "The source publishes the manifest of the study it was asked to, for that study's patient",
        eval: xdsi_15,
    },
    Check {
        id: "XDSI-16",
        requirement: "IHE ITI TF-2 §3.18.4.1.2.3.7.1, §3.43.4.1.2",
        requirements: &["ITI2-3.18.4.1.2.3.7.1", "ITI2-3.43.4.1.2"],
        level: Level::Shall,
        actor: "Document Consumer",
        title: "The consumer queries for the patient, and retrieves the manifest at the repository, it was asked about",
        eval: xdsi_16,
    },
    Check {
        id: "XDSI-11",
        requirement: "IHE RAD TF-2 §4.69.4.1.2 (RAD69-001)",
        requirements: &["RAD2-4.69.4.1.2"],
        level: Level::Shall,
        actor: "Imaging Document Consumer",
        title: "RAD-69 asks for instances the manifest references, at the manifest's Retrieve Location UID",
        eval: xdsi_11,
    },
];

#[cfg(test)]
mod tests;
