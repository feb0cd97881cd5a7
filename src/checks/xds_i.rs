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
}

fn parsed(s: &Subject<'_>) -> Result<Message, Verdict> {
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(format!("{e:?}")))?;
    msg.message()
        .map_err(|why| Verdict::na(format!("no ebXML message to judge: {why}")))
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
        Err(err) => return Verdict::fail(expected, format!("{err:?}")),
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

/// XDSI-02: a stored query returns exactly the matching DocumentEntries.
fn xdsi_02(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.xds.matches else {
        return Verdict::na("the scenario does not know the matching documents");
    };
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::AdhocQueryResponse(r) = m else {
        return Verdict::na("not a stored query response");
    };
    let tolerated = &s.expect.xds.tolerated;
    if !r.objects.object_refs.is_empty() && r.objects.extrinsic_objects.is_empty() {
        let n = r.objects.object_refs.len();
        return if n >= want.len() && n <= want.len() + tolerated.len() {
            Verdict::Pass
        } else {
            Verdict::fail(
                format!("{} ObjectRef(s), one per matching document", want.len()),
                format!("{} ObjectRef(s)", r.objects.object_refs.len()),
            )
        };
    }
    let got: BTreeSet<String> = r
        .objects
        .document_entries()
        .into_iter()
        .filter_map(|d| d.unique_id)
        .collect();
    let missing: Vec<&String> = want.difference(&got).collect();
    let extra: Vec<&String> = got
        .difference(want)
        .filter(|u| !tolerated.contains(*u))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("the {} matching DocumentEntries, and only them", want.len()),
            format!("missing {missing:?}, not matching {extra:?}"),
        )
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
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(format!("{e:?}")))?;
    match msg.message() {
        Ok(Message::RetrieveDocumentSetResponse(r)) => Ok((msg, r)),
        Ok(_) => Err(Verdict::na("not a retrieve response")),
        Err(why) => Err(Verdict::na(why)),
    }
}

/// XDSI-03: a retrieved document has the mimeType it was registered with.
fn xdsi_03(s: &Subject<'_>) -> Verdict {
    if s.expect.xds.documents.is_empty() {
        return Verdict::na("no registered document to compare with");
    }
    let (_, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return v,
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
                    "{}: mimeType {:?}, registered {want}",
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

/// XDSI-04: a retrieved document has the size and SHA-1 hash the registry holds.
fn xdsi_04(s: &Subject<'_>) -> Verdict {
    if s.expect.xds.documents.is_empty() {
        return Verdict::na("no registered document to compare with");
    }
    let (msg, r) = match retrieve_response(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let mut bad = Vec::new();
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
            None => (document_part(&msg, content).map(|p| p.size), None),
        };
        judged += 1;
        if let (Some(want), Some(got)) = (reg.size, size) {
            if want != got {
                bad.push(format!("{uid}: {got} bytes, registered size {want}"));
            }
        }
        if let (Some(want), Some(got)) = (&reg.hash, &hash) {
            if !want.eq_ignore_ascii_case(got) {
                bad.push(format!("{uid}: SHA-1 {got}, registered hash {want}"));
            }
        }
    }
    if judged == 0 {
        return Verdict::na("no registered document was returned");
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("the registered size and hash", bad.join("; "))
    }
}

/// The manifest and its DocumentEntry in the subject: the attached KOS and its metadata in an
/// inbound RAD-68, or the retrieved KOS (ITI-43) and the entry the registry returned.
fn manifest_and_entry(s: &Subject<'_>) -> Result<(kos::Manifest, DocumentEntry), Verdict> {
    let msg = SutMessage::of(s.exchange).map_err(|e| Verdict::na(format!("{e:?}")))?;
    let m = msg.message().map_err(Verdict::na)?;
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
            format!("sourcePatientId {got:?}"),
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
            format!("referenceIdList {:?}", entry.reference_ids),
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
            format!("event codes for modalities {modalities:?}"),
            format!("eventCodeList {codes:?}, missing {missing:?}"),
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
        Verdict::fail(format!("one of {:?}", x.transfer_syntaxes), bad.join("; "))
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
        Err(v) => return v,
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
        bad.push(format!("not returned: {missing:?}"));
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
        level: Level::Shall,
        actor: "Document Registry / Repository / Imaging Document Source",
        title: "The response status and error code are those the requirement names for the request",
        eval: xdsi_01,
    },
    Check {
        id: "XDSI-02",
        requirement: "IHE ITI TF-2 §3.18.4.1.2.3.7",
        level: Level::Shall,
        actor: "Document Registry",
        title: "A stored query returns exactly the DocumentEntries that match its parameters",
        eval: xdsi_02,
    },
    Check {
        id: "XDSI-03",
        requirement: "IHE ITI TF-2 §3.43.4.2.2",
        level: Level::Shall,
        actor: "Document Repository",
        title: "A retrieved document carries the mimeType it was registered with",
        eval: xdsi_03,
    },
    Check {
        id: "XDSI-04",
        requirement: "IHE ITI TF-3 §4.2.3.2.10, §4.2.3.2.23 (hash, size)",
        level: Level::Shall,
        actor: "Document Repository",
        title: "A retrieved document has the size and SHA-1 hash the registry holds",
        eval: xdsi_04,
    },
    Check {
        id: "XDSI-05",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.3 (uniqueId of the manifest)",
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "The manifest's DocumentEntry uniqueId is the KOS SOP Instance UID",
        eval: xdsi_05,
    },
    Check {
        id: "XDSI-06",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.3; ITI TF-3 §4.2.3.2.20 (sourcePatientId)",
        level: Level::Should,
        actor: "Imaging Document Source",
        title: "sourcePatientId is the manifest's Patient ID",
        eval: xdsi_06,
    },
    Check {
        id: "XDSI-07",
        requirement: "IHE ITI TF-3 §4.2.3.2.28 (referenceIdList); IHE MADO Appendix A",
        level: Level::Should,
        actor: "Imaging Document Source",
        title: "referenceIdList carries the manifest's Study Instance UID",
        eval: xdsi_07,
    },
    Check {
        id: "XDSI-08",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.3.3 (eventCodeList: modality, CID 29)",
        level: Level::Should,
        actor: "Imaging Document Source",
        title: "eventCodeList holds a code for each modality of the referenced series",
        eval: xdsi_08,
    },
    Check {
        id: "XDSI-09",
        requirement: "IHE RAD TF-2 §4.69.4.2.3 (RAD69-005)",
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "Each image is returned in one of the requested transfer syntaxes",
        eval: xdsi_09,
    },
    Check {
        id: "XDSI-10",
        requirement: "IHE RAD TF-2 §4.69.4.2.3; RAD TF-2 §4.68.4.1.2.1 (RAD68-006)",
        level: Level::Shall,
        actor: "Imaging Document Source",
        title: "RAD-69 returns exactly the requested instances the source holds, under the requested study and series",
        eval: xdsi_10,
    },
    Check {
        id: "XDSI-11",
        requirement: "IHE RAD TF-2 §4.69.4.1.2 (RAD69-001)",
        level: Level::Shall,
        actor: "Imaging Document Consumer",
        title: "RAD-69 asks for instances the manifest references, at the manifest's Retrieve Location UID",
        eval: xdsi_11,
    },
];

#[cfg(test)]
mod tests;
