//! XDS-I.b checks of our own: expected outcomes, and the cross-walk between the manifest (KOS),
//! its XDS metadata and what the Imaging Document Source actually returns.
//!
//! The structural rules live in [`super::xds`]; these checks compare the SUT's message with what
//! the scenario knows: the status and error code a request must produce, the documents a stored
//! query must find, the hash and size the registry holds, the transfer syntaxes and the hierarchy
//! a RAD-69 request asked for, and the KOS that the metadata describes.
//!
//! The registry, the expectations and the helpers they share are here with XDSI-01 (the status of
//! any response); the checks by concern in `query.rs` (ITI-18), `retrieve.rs` (ITI-43),
//! `manifest.rs` (the KOS against its DocumentEntry), `imaging.rs` (RAD-69), `asked.rs` (a SUT
//! that acts first) and `identity.rs` (the metadata and retrieve cross-walks).

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

mod asked;
mod identity;
mod imaging;
mod manifest;
mod query;
mod retrieve;

use asked::*;
pub use identity::{entry_mismatches, metadata_differences, retrieve_mismatches};
use imaging::*;
use manifest::*;
use query::*;
use retrieve::*;

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
