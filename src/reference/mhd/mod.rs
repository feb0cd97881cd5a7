//! The reference MHD Document Recipient and Document Responder (IHE ITI MHD 4.2.x) on FHIR R4.
//!
//! - `POST /fhir` takes an ITI-65 Provide Document Bundle: the bundle is judged by the same
//!   validator the MHD checks use, refused with 400 and an OperationOutcome on any Error-level
//!   violation (ITI TF-2 §3.65.4.1.3: the Recipient validates the bundle and processes it
//!   atomically), and otherwise stored with `urn:uuid:` references rewritten; the answer is a
//!   `transaction-response` with one `201` entry per request entry (§3.65.4.2.2).
//! - `GET /fhir/List?…`, `POST /fhir/List/_search` answer ITI-66; `GET /fhir/DocumentReference?…`,
//!   `POST /fhir/DocumentReference/_search` answer ITI-67, with the MADO imaging parameters.
//! - `GET /fhir/Binary/{id}` is ITI-68: the document's bytes with its own media type, or 406 when
//!   the `Accept` header excludes it (ITI TF-2 §3.68.4.2.2; MADO X.6.1 asks for the manifest
//!   format by `Accept`).
//! - `GET /fhir/{type}/{id}` reads any stored resource; `_format` or `Accept` selects FHIR XML.
//!
//! Every request is recorded in the shared inbox as an inbound exchange, so a scenario that makes
//! a SUT act as Document Source or Consumer can judge what it sent.
//!
//! What it holds at start is the catalogue of [`crate::model::fixtures::mhd`]; the FHIR search
//! parameters and matching are [`crate::model::fhir::search`], which the MHD steps judge with too.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::evidence::{Body, Direction, Exchange, HttpResponse};
use crate::model::fhir::search::{self, BadSearch};
use crate::model::fhir::{self, Identifier, OperationOutcome, Resource};
use crate::model::fixtures::mhd::{self as published, Alterations};
use crate::model::fixtures::Fixtures;
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::transaction::Transaction;

/// Path of the FHIR base below the server root.
pub const FHIR_PATH: &str = "/fhir";

/// The FHIR endpoints below [`FHIR_PATH`].
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(FHIR_PATH, any(handle))
        .route(&format!("{FHIR_PATH}/"), any(handle))
        .route(&format!("{FHIR_PATH}/{{*path}}"), any(handle))
        .layer(DefaultBodyLimit::disable())
}

/// A stored document's bytes (a Binary).
#[derive(Debug, Clone)]
pub struct StoredBinary {
    /// Media type.
    pub content_type: String,
    /// The document.
    pub bytes: Bytes,
}

#[derive(Debug, Default)]
struct Store {
    /// `Type/id` → resource JSON (Binary resources are kept in `binaries` instead).
    resources: BTreeMap<String, Value>,
    binaries: BTreeMap<String, StoredBinary>,
    next: u64,
}

/// The MHD state of the reference server.
#[derive(Debug, Default)]
pub struct MhdStore {
    inner: Mutex<Store>,
}

impl MhdStore {
    /// Load the fixtures and hold what they publish: the catalogue, altered by the faults that
    /// change it.
    pub fn preload(
        dir: &std::path::Path,
        faults: &std::collections::BTreeSet<Fault>,
        code_table: crate::model::mado::CodeTable,
    ) -> MhdStore {
        let store = MhdStore::default();
        let Ok(fixtures) = Fixtures::load(dir) else {
            return store;
        };
        let alterations = Alterations {
            kos_legacy: faults.contains(&Fault::MadoKosLegacy),
            fhir_missing_instance: faults.contains(&Fault::MadoFhirMissingInstance),
            report_no_impression: faults.contains(&Fault::ReportNoImpression),
            report_wrong_accession: faults.contains(&Fault::ReportWrongAccession),
            report_status_mismatch: faults.contains(&Fault::ReportStatusMismatch),
            code_table,
            twin_unlinked: faults.contains(&Fault::MadoTwinUnlinked),
            master_not_in_identifier: faults.contains(&Fault::MadoDocrefMasteridNotInIdentifier),
            no_priority_category: faults.contains(&Fault::MadoDocrefNoPriorityCategory),
        };
        let c = published::catalogue(&fixtures, &alterations);
        for p in c.patients {
            store.put(p);
        }
        for d in c.docs {
            store.put_binary(d.id(), &d.content_type, d.bytes.clone());
            store.put(d.docref);
        }
        for l in c.submission_sets {
            store.put(l);
        }
        store
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Store a resource under its `resourceType` and `id`.
    pub fn put(&self, resource: Value) {
        let (Some(rt), Some(id)) = (
            resource.get("resourceType").and_then(Value::as_str),
            resource.get("id").and_then(Value::as_str),
        ) else {
            return;
        };
        let key = format!("{rt}/{id}");
        self.lock().resources.insert(key, resource);
    }

    /// Store a document's bytes as `Binary/{id}`.
    pub fn put_binary(&self, id: &str, content_type: &str, bytes: Bytes) {
        self.lock().binaries.insert(
            id.to_string(),
            StoredBinary {
                content_type: content_type.to_string(),
                bytes,
            },
        );
    }

    /// A stored resource by `Type/id`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().resources.get(key).cloned()
    }

    /// A stored document by Binary id.
    pub fn binary(&self, id: &str) -> Option<StoredBinary> {
        self.lock().binaries.get(id).cloned()
    }

    /// Every stored resource of a type, in id order.
    pub fn all(&self, resource_type: &str) -> Vec<Value> {
        let prefix = format!("{resource_type}/");
        self.lock()
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn fresh_id(&self) -> String {
        let mut s = self.lock();
        s.next += 1;
        format!("sub-{}", s.next)
    }

    /// The identifiers of the Patient a subject reference points at.
    fn patient_identifiers(&self, reference: &str) -> Vec<Identifier> {
        let key = reference
            .rsplit_once("Patient/")
            .map(|(_, id)| format!("Patient/{id}"))
            .unwrap_or_else(|| reference.to_string());
        self.get(&key)
            .and_then(|p| p.get("identifier").cloned())
            .and_then(|i| serde_json::from_value::<Vec<Identifier>>(i).ok())
            .unwrap_or_default()
    }

    /// Search `resource_type` (DocumentReference or List) with `params`.
    pub fn search(
        &self,
        resource_type: &str,
        params: &[(String, String)],
    ) -> Result<Vec<Value>, BadSearch> {
        search::require(resource_type, params)?;
        let ids = |r: &str| self.patient_identifiers(r);
        Ok(self
            .all(resource_type)
            .into_iter()
            .filter(|v| match resource_type {
                "DocumentReference" => search::document_reference_matches(v, params, &ids),
                "List" => search::list_matches(v, params, &ids),
                _ => false,
            })
            .collect())
    }
}

/// The representation a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

fn wants(headers: &HeaderMap, query: &[(String, String)]) -> Format {
    if let Some((_, f)) = query.iter().find(|(k, _)| k == "_format") {
        return if f.contains("xml") {
            Format::Xml
        } else {
            Format::Json
        };
    }
    let accept = header(headers, "accept").unwrap_or_default();
    if accept.contains("fhir+xml") && !accept.contains("json") {
        Format::Xml
    } else {
        Format::Json
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// A FHIR answer: status, body and media type.
struct Answer {
    status: StatusCode,
    body: Bytes,
    content_type: String,
    extra: Vec<(String, String)>,
}

fn fhir_answer(status: StatusCode, v: &Value, format: Format) -> Answer {
    match format {
        Format::Json => Answer {
            status,
            body: Bytes::from(serde_json::to_vec_pretty(v).unwrap_or_default()),
            content_type: format!("{}; charset=utf-8", fhir::FHIR_JSON),
            extra: Vec::new(),
        },
        Format::Xml => match fhir::xml::from_json(v) {
            Ok(x) => Answer {
                status,
                body: Bytes::from(x),
                content_type: format!("{}; charset=utf-8", fhir::FHIR_XML),
                extra: Vec::new(),
            },
            Err(e) => outcome(
                StatusCode::NOT_ACCEPTABLE,
                "not-supported",
                &format!("cannot write FHIR XML: {e}"),
                Format::Json,
            ),
        },
    }
}

fn outcome(status: StatusCode, code: &str, diagnostics: &str, format: Format) -> Answer {
    let oo = fhir::to_json(OperationOutcome::issue("error", code, diagnostics));
    fhir_answer(status, &oo, format)
}

fn base_url(st: &Shared) -> String {
    format!("{}://{}{FHIR_PATH}", st.scheme(), st.bound())
}

/// Absolute `attachment.url`s (ITI TF-2 §3.67.4.2.2: a URL usable with ITI-68).
fn absolutize(mut v: Value, base: &str) -> Value {
    if let Some(contents) = v.get_mut("content").and_then(Value::as_array_mut) {
        for c in contents {
            if let Some(url) = c.pointer_mut("/attachment/url") {
                if let Some(u) = url.as_str() {
                    if !u.contains("://") {
                        *url = Value::String(format!("{base}/{}", u.trim_start_matches('/')));
                    }
                }
            }
        }
    }
    v
}

fn searchset(st: &Shared, resource_type: &str, hits: Vec<Value>, self_url: &str) -> Value {
    let base = base_url(st);
    let entries: Vec<Value> = hits
        .into_iter()
        .map(|r| {
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            json!({
                "fullUrl": format!("{base}/{resource_type}/{id}"),
                "resource": absolutize(r, &base),
                "search": {"mode": "match"}
            })
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": entries.len(),
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries
    })
}

fn apply_search_faults(
    st: &Shared,
    resource_type: &str,
    params: &[(String, String)],
    hits: &mut Vec<Value>,
) {
    if resource_type == "DocumentReference" && st.has(Fault::MhdSearchIgnoresStatus) {
        // Answer as if `status` had not been sent.
        let loose: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "status")
            .cloned()
            .chain(std::iter::once((
                "status".into(),
                "current,superseded".into(),
            )))
            .collect();
        if let Ok(all) = st.mhd().search(resource_type, &loose) {
            *hits = all;
        }
    }
    if st.has(Fault::MhdNoStudyRelated) {
        for h in hits.iter_mut() {
            if let Some(ctx) = h.get_mut("context").and_then(Value::as_object_mut) {
                ctx.remove("related");
            }
        }
    }
    if resource_type == "DocumentReference" && st.has(Fault::MhdSearchOtherPatient) {
        // A DocumentReference of someone else, among the patient's.
        if let Some(mut other) = hits.first().cloned() {
            other["id"] = json!("of-another-patient");
            other["masterIdentifier"] =
                json!({"system": "urn:ietf:rfc:3986", "value": "urn:oid:2.25.4242"});
            other["identifier"] = json!([]);
            other["subject"] = json!({"reference": "Patient/another-patient"});
            hits.push(other);
        }
    }
    if st.has(Fault::MhdKosWrongFormat) {
        for h in hits.iter_mut() {
            let is_kos = h
                .pointer("/content/0/attachment/contentType")
                .and_then(Value::as_str)
                == Some("application/dicom");
            if is_kos {
                if let Some(f) = h.pointer_mut("/content/0/format") {
                    *f = json!({
                        "system": fhir::IHE_FORMATCODE,
                        "code": published::MADO_FHIR_FORMAT
                    });
                }
            }
        }
    }
}

fn search_answer(
    st: &Shared,
    resource_type: &str,
    params: &[(String, String)],
    format: Format,
    url: &str,
) -> Answer {
    match st.mhd().search(resource_type, params) {
        Err(BadSearch(why)) => outcome(StatusCode::BAD_REQUEST, "required", &why, format),
        Ok(mut hits) => {
            apply_search_faults(st, resource_type, params, &mut hits);
            if hits.is_empty() && st.has(Fault::MhdEmptySearch404) {
                return outcome(StatusCode::NOT_FOUND, "not-found", "no matches", format);
            }
            if st.has(Fault::MhdSearchNotFhir) {
                return Answer {
                    status: StatusCode::OK,
                    body: Bytes::from_static(b"<html><body>search results</body></html>"),
                    content_type: "text/html".into(),
                    extra: Vec::new(),
                };
            }
            // The fault pages after the first match, and its next page repeats the first.
            let paged = st.has(Fault::MhdSearchPagesRepeat)
                && resource_type == "DocumentReference"
                && url.contains('?')
                && hits.len() > 1;
            if paged {
                hits.truncate(1);
            }
            let mut set = searchset(st, resource_type, hits, url);
            if paged && !params.iter().any(|(k, _)| k == "_page") {
                if let Some(links) = set.get_mut("link").and_then(Value::as_array_mut) {
                    links.push(json!({"relation": "next", "url": format!("{url}&_page=2")}));
                }
            }
            if st.has(Fault::MhdListsNotSearchset) && resource_type == "List" {
                set["type"] = json!("collection");
            }
            let mut answer = fhir_answer(StatusCode::OK, &set, format);
            if st.has(Fault::MhdXmlOutOfOrder) && answer.content_type.contains("xml") {
                answer.body = type_after_entries(&answer.body);
            }
            answer
        }
    }
}

/// The `mhd-xml-out-of-order` fault: the searchset Bundle's `<type>` moved after its entries.
fn type_after_entries(xml: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(xml);
    let ty = "<type value=\"searchset\"/>";
    match text.rfind("</Bundle>") {
        Some(end) if text.contains(ty) => {
            let moved = format!("{}{ty}</Bundle>", &text[..end]).replacen(ty, "", 1);
            Bytes::from(moved)
        }
        _ => Bytes::copy_from_slice(xml),
    }
}

/// Does `accept` admit `media_type`? An absent header, `*/*` and `type/*` do.
fn acceptable(accept: Option<&str>, media_type: &str) -> bool {
    let Some(accept) = accept else { return true };
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let major = essence.split('/').next().unwrap_or("");
    accept.split(',').any(|range| {
        let r = range
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        r == "*/*" || r == essence || r == format!("{major}/*") || r.is_empty()
    })
}

fn retrieve_answer(
    st: &Shared,
    id: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Answer {
    let Some(doc) = st.mhd().binary(id) else {
        return outcome(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("no Binary/{id}"),
            wants(headers, query),
        );
    };
    let accept = header(headers, "accept");
    if !acceptable(accept.as_deref(), &doc.content_type) && !st.has(Fault::MhdOkForUnacceptable) {
        return outcome(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            &format!(
                "the document is {}; the Accept header ({}) does not admit it and no other representation is held",
                doc.content_type,
                accept.unwrap_or_default()
            ),
            Format::Json,
        );
    }
    let mut bytes = doc.bytes.clone();
    if st.has(Fault::MhdBinaryCorrupt) && !bytes.is_empty() {
        let mut v = bytes.to_vec();
        let last = v.len() - 1;
        v[last] ^= 0xff;
        bytes = Bytes::from(v);
    }
    Answer {
        status: StatusCode::OK,
        body: bytes,
        content_type: if st.has(Fault::MhdBinaryWrongType) {
            "application/octet-stream".into()
        } else {
            doc.content_type.clone()
        },
        extra: Vec::new(),
    }
}

/// Rewrite every string equal to a key of `map` (the bundle's `urn:uuid:` fullUrls).
fn rewrite_references(v: &mut Value, map: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(to) = map.get(s.as_str()) {
                *s = to.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_references(x, map)),
        Value::Object(o) => o.values_mut().for_each(|x| rewrite_references(x, map)),
        _ => {}
    }
}

/// ITI-65: judge, then store atomically.
fn provide_answer(st: &Shared, headers: &HeaderMap, body: &[u8]) -> Answer {
    let content_type = header(headers, "content-type");
    let format = if content_type.as_deref().unwrap_or("").contains("xml") {
        Format::Xml
    } else {
        Format::Json
    };
    let parsed = match format {
        Format::Xml => fhir::xml::to_json(body).map_err(|e| e.to_string()),
        Format::Json => serde_json::from_slice::<Value>(body).map_err(|e| format!("not JSON: {e}")),
    };
    let bundle = match parsed {
        Ok(v) => v,
        Err(e) => return outcome(StatusCode::BAD_REQUEST, "structure", &e, format),
    };
    if let Err(e) = Resource::from_json(&bundle) {
        return outcome(StatusCode::BAD_REQUEST, "structure", &e.to_string(), format);
    }
    let comprehensive = bundle
        .pointer("/meta/profile")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .any(|x| x.as_str().unwrap_or("").contains("Comprehensive"))
        })
        .unwrap_or(false);
    let mut violations = crate::checks::mhd::validate_provide_bundle(
        &bundle,
        content_type.as_deref(),
        comprehensive,
    );
    if st.has(Fault::MhdAcceptsInvalidFhir) {
        // The fault lets a DocumentReference without its 1..1 status through.
        violations.retain(|v| {
            !(v.rule == crate::checks::mhd::rules::MHD_03.id && v.location.ends_with(".status"))
        });
    }
    if !violations.is_empty() {
        let issues: Vec<Value> = violations
            .iter()
            .map(|v| {
                json!({
                    "severity": "error",
                    "code": "invariant",
                    "diagnostics": format!("{}: {}", v.rule, v.message),
                    "expression": if v.location.is_empty() { Vec::<String>::new() } else { vec![v.location.clone()] }
                })
            })
            .collect();
        let oo = json!({"resourceType": "OperationOutcome", "issue": issues});
        return fhir_answer(StatusCode::BAD_REQUEST, &oo, format);
    }
    let entries: Vec<Value> = bundle
        .get("entry")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Assign ids first, so references between entries can be rewritten.
    let mut map = BTreeMap::new();
    let mut planned = Vec::new();
    for e in &entries {
        let rt = e
            .pointer("/resource/resourceType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let method = e
            .pointer("/request/method")
            .and_then(Value::as_str)
            .unwrap_or("");
        let url = e
            .pointer("/request/url")
            .and_then(Value::as_str)
            .unwrap_or("");
        // Conditional create of a Patient that is already held: the existing one is used.
        let existing = e
            .pointer("/request/ifNoneExist")
            .and_then(Value::as_str)
            .and_then(|cond| existing_patient(st, &rt, cond));
        let (id, status) = match (existing, method) {
            (Some(id), _) => (id, "200 OK"),
            (None, "PUT") => (
                url.rsplit('/').next().unwrap_or("").to_string(),
                "201 Created",
            ),
            (None, "PATCH") => (url.rsplit('/').next().unwrap_or("").to_string(), "200 OK"),
            _ => (st.mhd().fresh_id(), "201 Created"),
        };
        if let Some(full) = e.get("fullUrl").and_then(Value::as_str) {
            map.insert(full.to_string(), format!("{rt}/{id}"));
        }
        planned.push((rt, id, status, method.to_string(), url.to_string()));
    }
    let mut response_entries = Vec::new();
    for (e, (rt, id, status, method, url)) in entries.iter().zip(planned) {
        if method == "PATCH" {
            if !st.has(Fault::MhdReplaceNotSuperseded) {
                apply_status_patch(st, &url, e);
            }
        } else if status != "200 OK" {
            if let Some(mut r) = e.get("resource").cloned() {
                rewrite_references(&mut r, &map);
                if let Some(o) = r.as_object_mut() {
                    o.insert("id".into(), Value::String(id.clone()));
                    o.insert("meta".into(), json!({"versionId": "1"}));
                }
                if rt == "Binary" {
                    let ct = r
                        .get("contentType")
                        .and_then(Value::as_str)
                        .unwrap_or("application/octet-stream")
                        .to_string();
                    let data = r
                        .get("data")
                        .and_then(Value::as_str)
                        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
                        .unwrap_or_default();
                    st.mhd().put_binary(&id, &ct, Bytes::from(data));
                } else {
                    st.mhd().put(r);
                }
            }
        }
        let mut response = json!({"status": status, "etag": "W/\"1\""});
        if !st.has(Fault::MhdProvideNoLocation) {
            response["location"] = Value::String(format!("{rt}/{id}/_history/1"));
        }
        response_entries.push(json!({"response": response}));
    }
    let reply = json!({
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": response_entries
    });
    fhir_answer(StatusCode::OK, &reply, format)
}

fn existing_patient(st: &Shared, rt: &str, cond: &str) -> Option<String> {
    if rt != "Patient" {
        return None;
    }
    let token = cond.strip_prefix("identifier=")?;
    let token = url::form_urlencoded::parse(format!("t={token}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    let (sys, val) = token.split_once('|')?;
    st.mhd().all("Patient").into_iter().find_map(|p| {
        let ids: Vec<Identifier> = p
            .get("identifier")
            .cloned()
            .and_then(|i| serde_json::from_value(i).ok())
            .unwrap_or_default();
        ids.iter()
            .any(|i| i.system.as_deref() == Some(sys) && i.value.as_deref() == Some(val))
            .then(|| p.get("id").and_then(Value::as_str).map(str::to_string))
            .flatten()
    })
}

/// The replace PATCH of ITI-65 (status → superseded), as a JSON Patch in a Binary or a FHIRPath
/// Patch Parameters resource: only `status` is honoured.
fn apply_status_patch(st: &Shared, url: &str, entry: &Value) {
    let key = url.trim_start_matches('/').to_string();
    let Some(mut target) = st.mhd().get(&key) else {
        return;
    };
    let text = entry.to_string();
    for status in ["superseded", "entered-in-error", "current"] {
        if text.contains(&format!("\"{status}\"")) || text.contains(&base64_of(status)) {
            target["status"] = Value::String(status.into());
            st.mhd().put(target);
            return;
        }
    }
}

fn base64_of(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn transaction_of(method: &Method, path: &str) -> (Transaction, &'static str) {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("POST", [""]) | ("POST", []) => (Transaction::Iti65, "Provide Document Bundle"),
        (_, ["List"]) | (_, ["List", "_search"]) => (Transaction::Iti66, "Find Document Lists"),
        (_, ["DocumentReference"]) | (_, ["DocumentReference", "_search"]) => {
            (Transaction::Iti67, "Find Document References")
        }
        ("GET", ["Binary", _]) => (Transaction::Iti68, "Retrieve Document"),
        _ => (Transaction::Fhir, "read"),
    }
}

/// Every request below `/fhir`.
pub async fn handle(
    State(st): State<Shared>,
    method: Method,
    path: Option<Path<String>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
    raw: axum::body::Body,
) -> Response {
    let t0 = Instant::now();
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let path = path.map(|Path(p)| p).unwrap_or_default();
    let mut query = parse_query(raw_query.as_deref());
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let format = wants(&headers, &query);
    let url = format!(
        "{}/{}{}",
        base_url(&st),
        path.trim_matches('/'),
        raw_query
            .as_deref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default()
    );
    let limits = *st.inbound_limits();
    let read = crate::reference::inbound::read(raw, &headers, method.as_str(), &url, &limits).await;
    let body = read.bytes;
    let mut evidence = read.evidence;
    let mut refusal = read.refusal;
    if refusal.is_none() {
        refusal = crate::reference::inbound::too_many_nodes(
            &evidence,
            None,
            method.as_str(),
            &url,
            &limits,
        );
        if refusal.is_some() {
            evidence = crate::reference::inbound::excerpt(&evidence, &limits);
        }
    }
    let answer = match (
        refusal.as_ref(),
        method.as_str(),
        segs.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
    ) {
        // FHIR R4 IssueType: too-long, "Provided content is too long (typically, this is a
        // denial of service protection)"; timeout for a body that did not arrive in time.
        (Some(r), _, _) => {
            let code = if r.status == StatusCode::REQUEST_TIMEOUT {
                "timeout"
            } else {
                "too-long"
            };
            let mut a = outcome(r.status, code, &r.reason, format);
            // The rest of the body is not read: the connection cannot carry another request.
            a.extra.push(("Connection".into(), "close".into()));
            a
        }
        (None, "GET", ["metadata"]) => {
            let drop = if st.has(Fault::EuapiCsNoCategoryParam) {
                Some("category")
            } else if st.has(Fault::EuapiCsNoModalityParam) {
                Some("modality")
            } else {
                None
            };
            fhir_answer(StatusCode::OK, &capability_statement(drop), format)
        }
        (None, "POST", []) => provide_answer(&st, &headers, &body),
        (None, "GET", [rt @ ("DocumentReference" | "List")]) => {
            search_answer(&st, rt, &query, format, &url)
        }
        (None, "POST", [rt @ ("DocumentReference" | "List"), "_search"]) => {
            if st.has(Fault::MhdNoPostSearch) {
                outcome(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "not-supported",
                    "POST _search is not supported",
                    format,
                )
            } else if st.has(Fault::MhdPostSearch400) {
                outcome(
                    StatusCode::BAD_REQUEST,
                    "not-supported",
                    "search by POST is not supported, use GET",
                    format,
                )
            } else {
                let form = String::from_utf8_lossy(&body).into_owned();
                query.extend(parse_query(Some(&form)));
                search_answer(&st, rt, &query, format, &url)
            }
        }
        (None, "GET", ["Binary", id]) => retrieve_answer(&st, id, &headers, &query),
        (None, "GET", [rt, id]) => match st.mhd().get(&format!("{rt}/{id}")) {
            Some(v) => fhir_answer(StatusCode::OK, &absolutize(v, &base_url(&st)), format),
            None => outcome(
                StatusCode::NOT_FOUND,
                "not-found",
                &format!("no {rt}/{id}"),
                format,
            ),
        },
        (None, "GET", ["Patient"]) => {
            let hits: Vec<Value> = st
                .mhd()
                .all("Patient")
                .into_iter()
                .filter(|p| patient_matches(p, &query))
                .collect();
            fhir_answer(
                StatusCode::OK,
                &searchset(&st, "Patient", hits, &url),
                format,
            )
        }
        (None, _, _) => outcome(
            StatusCode::NOT_FOUND,
            "not-supported",
            &format!("{method} {FHIR_PATH}/{path} is not an MHD interaction of this server"),
            format,
        ),
    };
    let (transaction, operation) = transaction_of(&method, &path);
    record(
        &st,
        &method,
        &url,
        &headers,
        evidence,
        refusal.map(|r| r.failure),
        &answer,
        transaction,
        operation,
        t0,
        started_at,
    );
    let mut resp = (answer.status, answer.body).into_response();
    if let Ok(v) = axum::http::HeaderValue::try_from(answer.content_type.as_str()) {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_TYPE, v);
    }
    for (n, v) in answer.extra {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::try_from(n.as_str()),
            axum::http::HeaderValue::try_from(v.as_str()),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

fn patient_matches(p: &Value, query: &[(String, String)]) -> bool {
    let ids: Vec<Identifier> = p
        .get("identifier")
        .cloned()
        .and_then(|i| serde_json::from_value(i).ok())
        .unwrap_or_default();
    // FHIR R4 string search: case-insensitive, matching the start of the value (search.html 3.1.1.4.5).
    let names = |part: &str| -> Vec<String> {
        p["name"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|n| match &n[part] {
                Value::String(s) => vec![s.to_lowercase()],
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    };
    query.iter().all(|(k, v)| match k.as_str() {
        "identifier" => ids.iter().any(|i| match v.split_once('|') {
            Some((s, val)) => i.system.as_deref() == Some(s) && i.value.as_deref() == Some(val),
            None => i.value.as_deref() == Some(v.as_str()),
        }),
        "_id" => p["id"].as_str() == Some(v.as_str()),
        "family" | "given" => names(k).iter().any(|n| n.starts_with(&v.to_lowercase())),
        "birthdate" => p["birthDate"].as_str() == Some(v.as_str()),
        _ => true,
    })
}

#[allow(clippy::too_many_arguments)]
fn record(
    st: &Shared,
    method: &Method,
    url: &str,
    headers: &HeaderMap,
    body: Body,
    failure: Option<crate::evidence::TransportFailure>,
    answer: &Answer,
    transaction: Transaction,
    operation: &str,
    t0: Instant,
    started_at: String,
) {
    let (request, repro) =
        crate::reference::inbound::recorded_request(method.as_str(), url, headers, body);
    let exchange = Exchange {
        seq: 0,
        transaction,
        operation: operation.to_string(),
        actor: "MHD Document Recipient/Responder (simulated)".into(),
        direction: Direction::Inbound,
        started_at,
        time_to_headers: Some(t0.elapsed()),
        elapsed: t0.elapsed(),
        request,
        response: Some(HttpResponse {
            status: answer.status.as_u16(),
            headers: vec![("content-type".into(), answer.content_type.clone())],
            body: Body::from_bytes(answer.body.slice(..answer.body.len().min(64 * 1024))),
        }),
        multipart: None,
        failure,
        repro,
        dimse: None,
        tls: None,
    };
    st.inbox().push(exchange);
}

/// What the reference serves: MHD Document Recipient and Responder, and the HL7 Europe imaging
/// API's Document Access Provider (`drop` leaves one DocumentReference search parameter out).
fn capability_statement(drop: Option<&str>) -> Value {
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "kind": "instance",
        "date": "2026-01-01",
        "fhirVersion": "4.0.1",
        "format": ["json", "xml"],
        "implementation": {"description": "ihe-harness reference MHD Document Recipient and Document Responder"},
        "instantiates": [
            "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentRecipient",
            "https://profiles.ihe.net/ITI/MHD/CapabilityStatement/IHE.MHD.DocumentResponder",
            "http://hl7.eu/fhir/imaging/CapabilityStatement/EehrxfImagingDocumentAccessProvider"
        ],
        "rest": [{
            "mode": "server",
            "interaction": [{"code": "transaction"}],
            "resource": [
                {"type": "DocumentReference", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": crate::checks::eu_api::document_reference_params(drop)},
                {"type": "List", "interaction": [{"code": "read"}, {"code": "search-type"}]},
                {"type": "Binary", "interaction": [{"code": "read"}]},
                {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                 "searchParam": [
                    {"name": "_id", "type": "token"},
                    {"name": "identifier", "type": "token"},
                    {"name": "family", "type": "string"},
                    {"name": "given", "type": "string"},
                    {"name": "birthdate", "type": "date"}
                 ]}
            ]
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_negotiation() {
        assert!(acceptable(None, "application/dicom"));
        assert!(acceptable(Some("*/*"), "application/dicom"));
        assert!(acceptable(Some("application/*"), "application/dicom"));
        assert!(acceptable(
            Some("application/fhir+json, application/dicom;q=0.5"),
            "application/dicom"
        ));
        assert!(!acceptable(
            Some("application/fhir+json"),
            "application/dicom"
        ));
    }

    #[test]
    fn transactions_are_named_by_path() {
        assert_eq!(transaction_of(&Method::POST, "").0, Transaction::Iti65);
        assert_eq!(transaction_of(&Method::GET, "List").0, Transaction::Iti66);
        assert_eq!(
            transaction_of(&Method::POST, "DocumentReference/_search").0,
            Transaction::Iti67
        );
        assert_eq!(
            transaction_of(&Method::GET, "Binary/x").0,
            Transaction::Iti68
        );
        assert_eq!(
            transaction_of(&Method::GET, "Patient/x").0,
            Transaction::Fhir
        );
    }

    #[test]
    fn references_are_rewritten() {
        let mut v = json!({"subject": {"reference": "urn:uuid:1"}, "x": ["urn:uuid:2", "keep"]});
        let map = BTreeMap::from([
            ("urn:uuid:1".to_string(), "Patient/a".to_string()),
            ("urn:uuid:2".to_string(), "Binary/b".to_string()),
        ]);
        rewrite_references(&mut v, &map);
        assert_eq!(
            v,
            json!({"subject": {"reference": "Patient/a"}, "x": ["Binary/b", "keep"]})
        );
    }
}
