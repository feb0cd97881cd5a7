//! STOW-RS store (PS3.18 10.5; IHE RAD-108) of DICOM Part 10 instances into the reference archive.
//!
//! `POST /studies` and `POST /studies/{study}` take `multipart/related; type="application/dicom"`
//! (10.5.1.2); any other `Content-Type` is 415. The body is parsed as it arrives and each part is spooled
//! to its own file (a request is limited to 2 GiB and to `[limits] max_parts` instances, 413
//! beyond). Each part must be a Part 10 object (PS3.10 7.1) in a transfer syntax this server
//! knows; it is kept as received, and an Explicit VR
//! Little Endian form is made for retrieval (PS3.18 8.7.3), decoding compressed pixel data where
//! dicom-rs has the codec ([`crate::reference::store::archive::ingest`]). An instance whose Study Instance
//! UID differs from the study in the URL is not stored (10.5.1.1). A stored instance replaces any earlier
//! one with the same SOP Instance UID, unless the server was started with [`Duplicates::Refuse`]:
//! then a second copy of an instance the archive holds is not stored and is listed as failed with
//! Failure Reason 0x0111 (Duplicate SOP Instance). Both behaviours are conformant: what a Storage
//! SCP does with a SOP Instance UID it already holds is its own (PS3.4 §B.2.3 lists the statuses,
//! the Conformance Statement says which apply), Table I.2-2 of PS3.18 names no code for it and
//! allows additional ones, and 0111 is the one PS3.7 §C.5 gives "Duplicate SOP Instance".
//!
//! The response is one Store Instances Response Module data set (10.5.3.2, Annex I Table I.2-1) in
//! `application/dicom+json` -- a single JSON object, not an array, since it describes the one request:
//! Retrieve URL (0008,1190) of the study, Referenced SOP Sequence (0008,1199) with the SOP class and
//! instance and Retrieve URL of each stored instance, and Failed SOP Sequence (0008,1198) with a Failure
//! Reason (0008,1197) for each part that was not stored. Failure Reasons come from Table I.2-2:
//! 0xC000 (cannot understand: not a Part 10 object, unreadable data set), 0xC122 (transfer syntax not
//! supported), 0xA900 (data set does not match the SOP class: identifying attributes missing) and
//! 0xC409 for a Study Instance UID that differs from the URL's (a value of the Cxxx "cannot understand"
//! range). Status (Table 10.5.3-1): 200 when every instance was stored, 202 when some were and some
//! failed, 409 when none was stored (conflict), 400 when the body is not a well-formed multipart body,
//! 415 for an unsupported Content-Type.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::model::dicom_part::{sniff, SNIFF_PREFIX_LEN};
use crate::transport::media_type::MediaType;
use crate::transport::multipart::{self, MultipartEvent, MultipartParser};

use crate::reference::dicomweb::json;
use crate::reference::dicomweb::negotiate;
use crate::reference::dicomweb::web::{acceptable, base_url, check_uids, problem, Rejection};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::Instance;

/// Largest request body accepted.
pub const MAX_REQUEST_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Failure Reason: cannot understand (Table I.2-2, Cxxx).
pub const FAILURE_CANNOT_UNDERSTAND: u16 = 0xC000;
/// Failure Reason: referenced transfer syntax not supported (Table I.2-2).
pub const FAILURE_TRANSFER_SYNTAX: u16 = 0xC122;
/// Failure Reason: data set does not match SOP class (Table I.2-2, A9xx).
pub const FAILURE_DOES_NOT_MATCH: u16 = 0xA900;
/// Failure Reason: Study Instance UID differs from the target study (Cxxx range of Table I.2-2).
pub const FAILURE_STUDY_MISMATCH: u16 = 0xC409;
/// Failure Reason: Duplicate SOP Instance (PS3.7 §C.5; an additional code as Table I.2-2 allows).
pub const FAILURE_DUPLICATE: u16 = 0x0111;

/// What STOW-RS does with an instance whose SOP Instance UID the archive already holds (the
/// DIMSE Storage SCP of the reference always replaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplicates {
    /// The new copy replaces the one held.
    #[default]
    Replace,
    /// The new copy is not stored: it is a failure with Failure Reason 0x0111 (409 when nothing
    /// of the request was stored, 202 when something else was).
    Refuse,
}

/// A UID no request sends: the Referenced SOP Instance UID of the stow-foreign-reference fault and
/// the study of the stow-wrong-retrieve-url fault.
const FOREIGN_UID: &str = "2.25.314159265358979323846264338327950288";

/// `POST /studies`.
pub async fn store(State(st): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    stow(st, None, headers, body).await
}

/// `POST /studies/{study}`.
pub async fn store_in_study(
    State(st): State<Shared>,
    Path(study): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(r) = check_uids(&[&study]) {
        return r.into_response();
    }
    stow(st, Some(study), headers, body).await
}

/// One part written to the spool.
#[derive(Debug)]
struct Spooled {
    path: PathBuf,
    head: Vec<u8>,
    content_type: Option<String>,
}

/// What became of one part.
#[derive(Debug)]
enum Outcome {
    Stored(Box<Instance>),
    Failed {
        sop_class: Option<String>,
        sop_instance: Option<String>,
        reason: u16,
    },
}

/// The part currently being written.
struct Current {
    file: tokio::fs::File,
    part: Spooled,
}

fn remove_files(paths: impl IntoIterator<Item = PathBuf>) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// Check the request `Content-Type` and return the boundary, or the 415/400 response.
fn boundary(headers: &HeaderMap) -> Result<String, Rejection> {
    let unsupported = || {
        Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "STOW-RS takes multipart/related; type=\"application/dicom\" (PS3.18 10.5.1.2)",
        )
    };
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| MediaType::parse(v).ok())
        .ok_or_else(unsupported)?;
    let related = ct.related_type().ok_or_else(unsupported)?;
    if related.essence != "application/dicom" {
        return Err(unsupported());
    }
    multipart::boundary_of(&ct)
        .map(str::to_string)
        .ok_or_else(|| {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                "multipart Content-Type without boundary",
            )
        })
}

/// Write parser events to spool files.
async fn apply_events(
    st: &Shared,
    events: &mut Vec<MultipartEvent>,
    current: &mut Option<Current>,
    done: &mut Vec<Spooled>,
) -> std::io::Result<()> {
    for ev in events.drain(..) {
        match ev {
            MultipartEvent::PartStart { headers } => {
                let path = st.spool().new_path("dcm");
                let file = tokio::fs::File::create(&path).await?;
                *current = Some(Current {
                    file,
                    part: Spooled {
                        path,
                        head: Vec::new(),
                        content_type: multipart::header(&headers, "content-type")
                            .map(str::to_string),
                    },
                });
            }
            MultipartEvent::PartData(data) => {
                if let Some(c) = current.as_mut() {
                    let room = SNIFF_PREFIX_LEN.saturating_sub(c.part.head.len());
                    c.part
                        .head
                        .extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
                    c.file.write_all(&data).await?;
                }
            }
            MultipartEvent::PartEnd => {
                if let Some(mut c) = current.take() {
                    c.file.flush().await?;
                    done.push(c.part);
                }
            }
        }
    }
    Ok(())
}

/// Read the body into spooled parts; `Err` is the response to send (files already removed).
async fn spool_body(st: &Shared, boundary: &str, body: Body) -> Result<Vec<Spooled>, Response> {
    let mut parser = MultipartParser::new(boundary);
    let mut stream = body.into_data_stream();
    let mut events = Vec::new();
    let mut current: Option<Current> = None;
    let mut done: Vec<Spooled> = Vec::new();
    let mut total = 0u64;
    let fail = |current: Option<Current>, done: Vec<Spooled>, r: Response| {
        remove_files(
            done.into_iter()
                .map(|p| p.path)
                .chain(current.map(|c| c.part.path)),
        );
        r
    };
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                return Err(fail(
                    current,
                    done,
                    problem(StatusCode::BAD_REQUEST, format!("request body failed: {e}")),
                ))
            }
        };
        total += chunk.len() as u64;
        if total > MAX_REQUEST_BYTES {
            return Err(fail(
                current,
                done,
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "a STOW-RS request is limited to 2 GiB",
                ),
            ));
        }
        if let Err(e) = parser.feed(&chunk, &mut events) {
            return Err(fail(
                current,
                done,
                problem(StatusCode::BAD_REQUEST, e.to_string()),
            ));
        }
        // Each part is a spool file: a body of endless empty parts would fill the spool folder
        // with files long before the byte limit.
        let started = events
            .iter()
            .filter(|e| matches!(e, MultipartEvent::PartStart { .. }))
            .count();
        let parts = (done.len() + usize::from(current.is_some()) + started) as u64;
        let max_parts = st.inbound_limits().max_parts;
        if parts > max_parts {
            return Err(fail(
                current,
                done,
                problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("a STOW-RS request is limited to {max_parts} instances ([limits] max_parts)"),
                ),
            ));
        }
        if let Err(e) = apply_events(st, &mut events, &mut current, &mut done).await {
            return Err(fail(
                current,
                done,
                problem(StatusCode::INTERNAL_SERVER_ERROR, format!("spool: {e}")),
            ));
        }
    }
    if let Err(e) = parser.finish(&mut events) {
        return Err(fail(
            current,
            done,
            problem(StatusCode::BAD_REQUEST, e.to_string()),
        ));
    }
    if let Err(e) = apply_events(st, &mut events, &mut current, &mut done).await {
        return Err(fail(
            current,
            done,
            problem(StatusCode::INTERNAL_SERVER_ERROR, format!("spool: {e}")),
        ));
    }
    if done.is_empty() {
        return Err(fail(
            current,
            done,
            problem(StatusCode::BAD_REQUEST, "the body has no parts"),
        ));
    }
    Ok(done)
}

/// Decide about one spooled part (blocking: reads the file).
fn examine(
    part: &Spooled,
    url_study: Option<&str>,
    accept_other_study: bool,
    ele_copy: PathBuf,
) -> Outcome {
    let failed =
        |sop_class: Option<String>, sop_instance: Option<String>, reason: u16| Outcome::Failed {
            sop_class,
            sop_instance,
            reason,
        };
    let declared_dicom = part
        .content_type
        .as_deref()
        .is_none_or(|ct| MediaType::parse(ct).is_ok_and(|m| m.essence == "application/dicom"));
    let head = match sniff(&part.head) {
        Ok(h) if declared_dicom => h,
        _ => return failed(None, None, FAILURE_CANNOT_UNDERSTAND),
    };
    let owned = |v: &Option<std::sync::Arc<str>>| v.as_deref().map(str::to_string);
    let (class, inst) = (owned(&head.sop_class), owned(&head.sop_instance));
    let ts = head.transfer_syntax.as_deref().unwrap_or_default();
    if TransferSyntaxRegistry.get(ts).is_none() {
        return failed(class, inst, FAILURE_TRANSFER_SYNTAX);
    }
    let (Some(_), Some(_), Some(study), Some(_)) = (
        &class,
        &inst,
        &head.study_instance_uid,
        &head.series_instance_uid,
    ) else {
        return failed(class, inst, FAILURE_DOES_NOT_MATCH);
    };
    if url_study.is_some_and(|u| u != &**study) && !accept_other_study {
        return failed(class, inst, FAILURE_STUDY_MISMATCH);
    }
    // Stored as received, with an Explicit VR Little Endian form where it arrived otherwise.
    match crate::reference::store::archive::ingest(part.path.clone(), ele_copy) {
        Ok(i) => Outcome::Stored(Box::new(i)),
        Err(_) => failed(class, inst, FAILURE_CANNOT_UNDERSTAND),
    }
}

/// Under [`Duplicates::Refuse`], an instance the archive holds becomes a failure (its spooled
/// files are removed); otherwise it is stored.
fn refuse_if_held(st: &Shared, inst: Box<Instance>) -> Outcome {
    if st.duplicates() != Duplicates::Refuse || !st.archive().contains(&inst.sop_uid) {
        return Outcome::Stored(inst);
    }
    remove_files(
        std::iter::once(inst.stored.path.clone())
            .chain(inst.ele_copy.as_ref().map(|c| c.path.clone())),
    );
    Outcome::Failed {
        sop_class: Some(inst.sop_class.clone()),
        sop_instance: Some(inst.sop_uid.clone()),
        reason: FAILURE_DUPLICATE,
    }
}

fn ui(tag: Tag, v: Option<&str>) -> dicom_object::mem::InMemElement {
    match v {
        Some(v) => DataElement::new(tag, VR::UI, PrimitiveValue::from(v)),
        None => DataElement::empty(tag, VR::UI),
    }
}

fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> dicom_object::mem::InMemElement {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

async fn stow(st: Shared, url_study: Option<String>, headers: HeaderMap, body: Body) -> Response {
    if let Err(r) = acceptable(&headers, &[]).and_then(|a| negotiate::dicom_json(a.as_deref())) {
        return r.into_response();
    }
    let boundary = match boundary(&headers) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let parts = match spool_body(&st, &boundary, body).await {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    let accept_other = st.has(Fault::StowStoresMismatchedStudy);
    let copies: Vec<PathBuf> = parts
        .iter()
        .map(|_| st.spool().new_path("ele.dcm"))
        .collect();
    let study_for_examine = url_study.clone();
    let outcomes = tokio::task::spawn_blocking(move || {
        let outcomes: Vec<Outcome> = parts
            .iter()
            .zip(copies)
            .map(|(p, copy)| examine(p, study_for_examine.as_deref(), accept_other, copy))
            .collect();
        for (p, o) in parts.iter().zip(&outcomes) {
            if matches!(o, Outcome::Failed { .. }) {
                remove_files([p.path.clone()]);
            }
        }
        outcomes
    })
    .await;
    let outcomes = match outcomes {
        Ok(o) => o,
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let base = base_url(&headers, st.bound(), st.scheme());
    let mut referenced = Vec::new();
    let mut failed = Vec::new();
    let mut first_study: Option<String> = None;
    for o in outcomes {
        let o = match o {
            Outcome::Stored(inst) => refuse_if_held(&st, inst),
            failed => failed,
        };
        match o {
            Outcome::Stored(inst) => {
                let mut item = InMemDicomObject::new_empty();
                item.put(ui(tags::REFERENCED_SOP_CLASS_UID, Some(&inst.sop_class)));
                item.put(ui(tags::REFERENCED_SOP_INSTANCE_UID, Some(&inst.sop_uid)));
                item.put(DataElement::new(
                    tags::RETRIEVE_URL,
                    VR::UR,
                    PrimitiveValue::from(crate::reference::dicomweb::metadata::instance_url(
                        &base, &inst,
                    )),
                ));
                referenced.push(item);
                first_study.get_or_insert_with(|| inst.study_uid.clone());
                st.archive_mut().insert(*inst);
            }
            Outcome::Failed {
                sop_class,
                sop_instance,
                reason,
            } => {
                let mut item = InMemDicomObject::new_empty();
                item.put(ui(tags::REFERENCED_SOP_CLASS_UID, sop_class.as_deref()));
                item.put(ui(
                    tags::REFERENCED_SOP_INSTANCE_UID,
                    sop_instance.as_deref(),
                ));
                if !st.has(Fault::StowMissingFailureReason) {
                    item.put(DataElement::new(
                        tags::FAILURE_REASON,
                        VR::US,
                        PrimitiveValue::from(reason),
                    ));
                }
                failed.push(item);
            }
        }
    }
    let status = match (referenced.is_empty(), failed.is_empty()) {
        _ if st.has(Fault::Stow200WithFailures) => StatusCode::OK,
        (false, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        (true, _) => StatusCode::CONFLICT,
    };
    if st.has(Fault::StowForeignReference) && !referenced.is_empty() {
        let mut item = InMemDicomObject::new_empty();
        item.put(ui(
            tags::REFERENCED_SOP_CLASS_UID,
            Some("1.2.840.10008.5.1.4.1.1.2"),
        ));
        item.put(ui(tags::REFERENCED_SOP_INSTANCE_UID, Some(FOREIGN_UID)));
        referenced.push(item);
    }
    let study_url = if st.has(Fault::StowWrongRetrieveUrl) {
        Some(FOREIGN_UID.to_string())
    } else {
        url_study.or(first_study)
    };
    let mut response = InMemDicomObject::new_empty();
    response.put(match study_url {
        Some(s) => DataElement::new(
            tags::RETRIEVE_URL,
            VR::UR,
            PrimitiveValue::from(format!("{base}/studies/{s}")),
        ),
        None => DataElement::empty(tags::RETRIEVE_URL, VR::UR),
    });
    if !failed.is_empty() {
        response.put(sequence(tags::FAILED_SOP_SEQUENCE, failed));
    }
    if !referenced.is_empty() {
        response.put(sequence(tags::REFERENCED_SOP_SEQUENCE, referenced));
    }
    if st.has(Fault::StowEmptyResponse) && status == StatusCode::OK {
        return json::response(
            status,
            serde_json::json!({}),
            &std::collections::BTreeSet::new(),
        );
    }
    match ::dicom_json::to_value(&response) {
        // The JSON faults concern metadata and QIDO-RS only; the STOW-RS response stays well-formed.
        Ok(v) => json::response(status, v, &std::collections::BTreeSet::new()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::dicomweb::retrieve::tests::{fixture, get_multipart};
    use crate::reference::store::part10::{EXPLICIT_VR_LE, IMPLICIT_VR_LE};
    use crate::reference::tests::{client, fixtures_dir, start};
    use crate::reference::{ReferenceOptions, ReferenceServer};
    use serde_json::Value;

    fn body(parts: &[Vec<u8>]) -> (String, Vec<u8>) {
        let b = "stow-test-boundary";
        let headers: &[(&str, &str)] = &[("Content-Type", "application/dicom")];
        type PartRef<'a> = (&'a [(&'a str, &'a str)], &'a [u8]);
        let parts: Vec<PartRef<'_>> = parts.iter().map(|p| (headers, p.as_slice())).collect();
        (
            format!("multipart/related; type=\"application/dicom\"; boundary={b}"),
            multipart::build_body(b, &parts),
        )
    }

    fn file(alias: &str, pick: impl Fn(&Value) -> bool) -> (Value, Vec<u8>) {
        let e = fixture(alias).into_iter().find(|e| pick(e)).unwrap();
        let bytes = std::fs::read(fixtures_dir().join(e["path"].as_str().unwrap())).unwrap();
        (e, bytes)
    }

    async fn post(server: &ReferenceServer, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
        let r = client()
            .post(format!("{}{path}", server.dicomweb_base()))
            .header("Content-Type", ct)
            .header("Accept", "application/dicom+json")
            .body(body)
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (
            s,
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null),
        )
    }

    fn failure_reasons(v: &Value) -> Vec<u64> {
        v["00081198"]["Value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| i["00081197"]["Value"][0].as_u64().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A body of more empty parts than a request may hold is refused with 413 as soon as the
    /// part past the limit starts, its spool files removed; one part fewer is read to its end.
    #[tokio::test]
    async fn a_request_of_endless_parts_is_refused_at_the_parts_limit() {
        const MAX_REQUEST_PARTS: usize = 100;
        let limits = crate::reference::inbound::InboundLimits {
            max_parts: MAX_REQUEST_PARTS as u64,
            ..Default::default()
        };
        let server = ReferenceServer::start(
            ReferenceOptions::new(fixtures_dir()).with_inbound_limits(limits),
        )
        .await
        .unwrap();
        let ct = "multipart/related; type=\"application/dicom\"; boundary=e";
        let many = |n: usize| {
            let mut b = b"--e\r\n\r\n\r\n".repeat(n);
            b.extend_from_slice(b"--e--\r\n");
            b
        };
        let spooled = || std::fs::read_dir(server.state.spool().dir()).map_or(0, |d| d.count());
        let (s, v) = post(&server, "/studies", ct, many(MAX_REQUEST_PARTS + 1)).await;
        assert_eq!(s, 413, "{v}");
        assert_eq!(spooled(), 0);
        // At the limit: read whole, every part judged (none is a DICOM object: 409).
        let (s, _) = post(&server, "/studies", ct, many(MAX_REQUEST_PARTS)).await;
        assert_eq!(s, 409);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn stores_and_serves_back() {
        let server = start(&[]).await;
        let (e, bytes) = file("CT-CHEST", |e| e["transfer_syntax"] == EXPLICIT_VR_LE);
        let (ct, b) = body(&[bytes]);
        let (s, v) = post(&server, "/studies", &ct, b).await;
        assert_eq!(s, 200);
        assert!(v.is_object());
        assert!(v.get("00081198").is_none());
        let refs = v["00081199"]["Value"].as_array().unwrap();
        assert_eq!(refs[0]["00081155"]["Value"][0], e["sop_uid"]);
        let url = refs[0]["00081190"]["Value"][0].as_str().unwrap();
        let back = get_multipart(url, None).await;
        assert_eq!((back.status, back.parts.len()), (200, 1));
        assert!(v["00081190"]["Value"][0]
            .as_str()
            .unwrap()
            .ends_with(e["study_uid"].as_str().unwrap()));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn new_implicit_instance_is_stored_and_sent_explicit() {
        let server = start(&[]).await;
        let (_, bytes) = file("MR-BRAIN", |e| e["transfer_syntax"] == IMPLICIT_VR_LE);
        // Give it a new SOP Instance UID so it is a new instance of the same series.
        let mut obj = dicom_object::from_reader(&bytes[128..]).unwrap();
        let new_uid = "2.25.1234567890123";
        obj.put(DataElement::new(
            tags::SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(new_uid),
        ));
        obj.update_meta(|m| m.media_storage_sop_instance_uid = new_uid.to_string());
        let mut out = Vec::new();
        obj.write_all(&mut out).unwrap();
        let study = obj
            .element(tags::STUDY_INSTANCE_UID)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let (ct, b) = body(&[out]);
        let (s, v) = post(&server, &format!("/studies/{study}"), &ct, b).await;
        assert_eq!(s, 200, "{v}");
        let url = v["00081199"]["Value"][0]["00081190"]["Value"][0]
            .as_str()
            .unwrap();
        let back = get_multipart(url, None).await;
        let h = &back.parts[0].0;
        assert!(multipart::header(h, "content-type")
            .unwrap()
            .ends_with(EXPLICIT_VR_LE));
        server.shutdown().await;
    }

    /// A new instance that arrives compressed is served in the stored syntax and, decoded, in the
    /// default Explicit VR Little Endian: the reference serves what it received, not only what it
    /// was preloaded with.
    #[tokio::test]
    async fn new_compressed_instances_are_served_decoded_too() {
        let server = start(&[]).await;
        let mut map = crate::model::reidentify::UidMap::new("stow-compressed-test");
        for (alias, ts) in [
            ("MR-BRAIN", "1.2.840.10008.1.2.5"),
            ("CT-CHEST", "1.2.840.10008.1.2.4.70"),
            ("CT-CHEST", "1.2.840.10008.1.2.4.90"),
            ("DX-CHEST", "1.2.840.10008.1.2.4.50"),
        ] {
            let (_, bytes) = file(alias, |e| e["transfer_syntax"] == ts);
            let copy = crate::model::reidentify::reidentify(&bytes, &mut map).unwrap();
            let (ct, b) = body(&[copy.bytes]);
            let (s, v) = post(&server, "/studies", &ct, b).await;
            assert_eq!(s, 200, "{ts}: {v}");
            let url = v["00081199"]["Value"][0]["00081190"]["Value"][0]
                .as_str()
                .unwrap()
                .to_string();
            for (accept, want) in [(None, EXPLICIT_VR_LE), (Some(ts), ts)] {
                let accept = accept.map(|t| {
                    format!("multipart/related; type=\"application/dicom\"; transfer-syntax={t}")
                });
                let back = get_multipart(&url, accept.as_deref()).await;
                assert_eq!(back.status, 200, "{ts} as {want}");
                let h = &back.parts[0].0;
                assert!(
                    multipart::header(h, "content-type")
                        .unwrap()
                        .ends_with(want),
                    "{ts} as {want}"
                );
            }
        }
        server.shutdown().await;
    }

    #[tokio::test]
    async fn duplicates_are_replaced_or_refused_as_configured() {
        let (held, held_bytes) = file("CT-CHEST", |e| e["transfer_syntax"] == EXPLICIT_VR_LE);
        let held_uid = held["sop_uid"].as_str().unwrap().to_string();
        let mut map = crate::model::reidentify::UidMap::new("stow-duplicates-test");
        let fresh = crate::model::reidentify::reidentify(&held_bytes, &mut map).unwrap();
        // Default: a second copy replaces the first (200).
        let server = start(&[]).await;
        let (ct, b) = body(std::slice::from_ref(&held_bytes));
        assert_eq!(post(&server, "/studies", &ct, b).await.0, 200);
        server.shutdown().await;
        // Refuse: the held copy alone is 409 with 0111; with a new instance 202, the new one stored.
        let opts = ReferenceOptions::new(fixtures_dir()).with_duplicates(Duplicates::Refuse);
        let server = ReferenceServer::start(opts).await.unwrap();
        let (ct, b) = body(std::slice::from_ref(&held_bytes));
        let (s, v) = post(&server, "/studies", &ct, b).await;
        assert_eq!(s, 409, "{v}");
        assert_eq!(failure_reasons(&v), vec![u64::from(FAILURE_DUPLICATE)]);
        assert_eq!(v["00081198"]["Value"][0]["00081155"]["Value"][0], held_uid);
        assert!(v.get("00081199").is_none());
        let (ct, b) = body(&[held_bytes.clone(), fresh.bytes.clone()]);
        let (s, v) = post(&server, "/studies", &ct, b).await;
        assert_eq!(s, 202, "{v}");
        assert_eq!(failure_reasons(&v), vec![u64::from(FAILURE_DUPLICATE)]);
        let referenced = &v["00081199"]["Value"];
        assert_eq!(referenced.as_array().unwrap().len(), 1);
        assert_eq!(
            referenced[0]["00081155"]["Value"][0],
            fresh.sop_uid.as_str()
        );
        assert!(server.state.archive().contains(&fresh.sop_uid));
        // Now held, the copy is refused too.
        let (ct, b) = body(std::slice::from_ref(&fresh.bytes));
        assert_eq!(post(&server, "/studies", &ct, b).await.0, 409);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn partial_conflict_and_bad_requests() {
        let server = start(&[]).await;
        let (_, ct_bytes) = file("CT-CHEST", |e| e["modality"] == "CT");
        let (dx, dx_bytes) = file("DX-CHEST", |e| e["modality"] == "DX");
        let dx_study = dx["study_uid"].as_str().unwrap();
        // One of the study, one of another study, one not DICOM -> 202.
        let (ct, b) = body(&[dx_bytes.clone(), ct_bytes.clone(), b"not dicom".to_vec()]);
        let (s, v) = post(&server, &format!("/studies/{dx_study}"), &ct, b).await;
        assert_eq!(s, 202, "{v}");
        assert_eq!(
            failure_reasons(&v),
            vec![
                u64::from(FAILURE_STUDY_MISMATCH),
                u64::from(FAILURE_CANNOT_UNDERSTAND)
            ]
        );
        assert_eq!(v["00081199"]["Value"].as_array().unwrap().len(), 1);
        // Nothing stored -> 409 without Referenced SOP Sequence.
        let (ct, b) = body(std::slice::from_ref(&ct_bytes));
        let (s, v) = post(&server, &format!("/studies/{dx_study}"), &ct, b).await;
        assert_eq!(s, 409);
        assert!(v.get("00081199").is_none());
        assert_eq!(failure_reasons(&v), vec![u64::from(FAILURE_STUDY_MISMATCH)]);
        // Wrong content type -> 415; broken multipart -> 400.
        let (s, _) = post(&server, "/studies", "application/dicom", ct_bytes.clone()).await;
        assert_eq!(s, 415);
        let (s, _) = post(
            &server,
            "/studies",
            "multipart/related; type=\"application/dicom+json\"; boundary=x",
            vec![],
        )
        .await;
        assert_eq!(s, 415);
        let (s, _) = post(
            &server,
            "/studies",
            "multipart/related; type=\"application/dicom\"; boundary=x",
            b"--x\r\nContent-Type: application/dicom\r\n\r\nabc".to_vec(),
        )
        .await;
        assert_eq!(s, 400);
        let (s, _) = post(
            &server,
            "/studies/1.2.x",
            "multipart/related; type=\"application/dicom\"; boundary=x",
            vec![],
        )
        .await;
        assert_eq!(s, 400);
        let spool = server.state.spool().dir().to_path_buf();
        let files: Vec<_> = std::fs::read_dir(&spool).unwrap().collect();
        // The DX instance arrived in JPEG Baseline: it and its decoded Explicit VR Little Endian
        // form stay; nothing of the refused parts does.
        assert_eq!(
            files.len(),
            2,
            "only the stored instance and its decoded form stay in the spool"
        );
        server.shutdown().await;
    }

    async fn mismatch(faults: &[Fault]) -> (ReferenceServer, u16, Value, String) {
        let server = start(faults).await;
        let (ct_e, ct_bytes) = file("CT-CHEST", |e| e["modality"] == "CT");
        let (dx, dx_bytes) = file("DX-CHEST", |e| e["modality"] == "DX");
        let (ct, b) = body(&[dx_bytes, ct_bytes]);
        let (s, v) = post(
            &server,
            &format!("/studies/{}", dx["study_uid"].as_str().unwrap()),
            &ct,
            b,
        )
        .await;
        (server, s, v, ct_e["sop_uid"].as_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn fault_stow_200_with_failures() {
        let (server, s, v, _) = mismatch(&[Fault::Stow200WithFailures]).await;
        assert_eq!(s, 200);
        assert_eq!(failure_reasons(&v).len(), 1);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_stow_missing_failure_reason() {
        let (server, s, v, _) = mismatch(&[Fault::StowMissingFailureReason]).await;
        assert_eq!(s, 202);
        let item = &v["00081198"]["Value"][0];
        assert!(item.get("00081155").is_some());
        assert!(item.get("00081197").is_none());
        server.shutdown().await;
    }

    #[tokio::test]
    async fn faults_about_what_was_sent() {
        let store = |faults: &'static [Fault]| async move {
            let server = start(faults).await;
            let (_, bytes) = file("DX-CHEST", |e| e["modality"] == "DX");
            let (ct, b) = body(&[bytes]);
            let (s, v) = post(&server, "/studies", &ct, b).await;
            server.shutdown().await;
            (s, v)
        };
        let (s, v) = store(&[Fault::StowEmptyResponse]).await;
        assert_eq!((s, v), (200, serde_json::json!({})));
        let (_, v) = store(&[Fault::StowForeignReference]).await;
        assert_eq!(v["00081199"]["Value"].as_array().unwrap().len(), 2);
        let (_, v) = store(&[Fault::StowWrongRetrieveUrl]).await;
        assert!(v["00081190"]["Value"][0]
            .as_str()
            .unwrap()
            .ends_with(FOREIGN_UID));
    }

    #[tokio::test]
    async fn fault_stow_stores_mismatched_study() {
        let (server, s, v, ct_sop) = mismatch(&[Fault::StowStoresMismatchedStudy]).await;
        assert_eq!(s, 200);
        let refs = v["00081199"]["Value"].as_array().unwrap();
        assert!(refs
            .iter()
            .any(|r| r["00081155"]["Value"][0] == ct_sop.as_str()));
        server.shutdown().await;
    }
}
