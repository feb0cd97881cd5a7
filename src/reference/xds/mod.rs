//! The reference's XDS-I.b actors: Document Registry (ITI-18), Document Repository (ITI-41/RAD-68,
//! ITI-43) and Imaging Document Source (RAD-69), over SOAP 1.2 with WS-Addressing and MTOM/XOP.
//!
//! They serve two purposes. As the default system under test they answer the harness's Document
//! Consumer, Imaging Document Consumer and Imaging Document Source, strictly by the text. As
//! simulators they receive the calls of a SUT that plays one of those initiators: every inbound
//! message is recorded in the [`Inbox`](crate::evidence::inbox::Inbox), where the scenario that triggered the SUT finds and judges
//! it with the same checks.
//!
//! At start the registry holds one manifest DocumentEntry per fixture study, built from the
//! fixture KOS by the same code that builds the harness's RAD-68 submissions; the repository
//! holds the KOS files; RAD-69 is answered from the reference archive. Responses are built in
//! memory: the fixture studies are small, and the reference is not the harness's client side,
//! which streams.
//!
//! The Document Registry itself is [`registry`](mod@registry).

pub mod registry;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use dicom_dictionary_std::tags;

use crate::checks::xds::rules as xds_rules;
use crate::config::xds::{
    DEFAULT_IMAGING_SOURCE_ID, DEFAULT_PATIENT_AUTHORITY, DEFAULT_REPOSITORY_ID,
};
use crate::evidence::{Body, Direction, Exchange, HttpResponse};
use crate::model::ebrim::{
    self as e, AdhocQueryRequest, AdhocQueryResponse, DocumentContent, DocumentResponse, Message,
    ProvideAndRegisterRequest, RegistryError, RegistryResponse, RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse, RetrieveImagingDocumentSetRequest,
};
use crate::model::{kos, xds_metadata};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::{Archive, Instance};
use crate::reference::store::part10::{self, EXPLICIT_VR_LE};
use crate::transaction::Transaction;
use crate::transport::media_type::MediaType;
use crate::transport::soap::{self, MtomLimits, NS_SOAP11, NS_SOAP12, SOAP_XML};
use registry::Registry;

/// Implicit VR Little Endian.
const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";

/// Paths of the endpoints below the server root.
pub const XDS_PATH: &str = "/xds";

/// The Document Registry, Document Repository and Imaging Document Source endpoints below
/// [`XDS_PATH`].
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(&format!("{XDS_PATH}/registry"), post(registry))
        .route(&format!("{XDS_PATH}/repository"), post(repository))
        .route(&format!("{XDS_PATH}/imaging-source"), post(imaging_source))
        // Read within the run's [limits] by the handlers (reference::inbound).
        .layer(DefaultBodyLimit::disable())
}

/// A document held by the repository.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    /// mimeType.
    pub mime_type: String,
    /// Bytes.
    pub bytes: Bytes,
}

/// The XDS state of the reference server.
#[derive(Debug)]
pub struct XdsStore {
    registry: Mutex<Registry>,
    repository: Mutex<BTreeMap<String, StoredDocument>>,
    /// repositoryUniqueId of the Document Repository.
    pub repository_unique_id: String,
    /// repositoryUniqueId of the Imaging Document Source.
    pub imaging_source_unique_id: String,
    /// Patient id assigning authority (OID).
    pub patient_authority: String,
}

impl XdsStore {
    /// Preload the registry and the repository with one manifest per fixture study.
    pub fn preload(archive: &Archive, faults: &std::collections::BTreeSet<Fault>) -> XdsStore {
        let authority = DEFAULT_PATIENT_AUTHORITY.to_string();
        let mut patients = std::collections::BTreeSet::new();
        let mut manifests = Vec::new();
        for (study_uid, study) in archive.sorted_studies() {
            let mut modalities = BTreeMap::new();
            for inst in study.instances() {
                if let Some(p) = inst.text(tags::PATIENT_ID) {
                    patients.insert(format!("{p}^^^&{authority}&ISO"));
                }
                if inst.sop_class != kos::KOS_SOP_CLASS {
                    if let Some(m) = inst.text(tags::MODALITY) {
                        modalities.insert(inst.series_uid.clone(), m);
                    }
                }
            }
            for inst in study.instances() {
                if inst.sop_class == kos::KOS_SOP_CLASS {
                    manifests.push((study_uid.clone(), inst.clone(), modalities.clone()));
                }
            }
        }
        let mut registry = Registry::new(patients);
        let mut repository = BTreeMap::new();
        let codes = xds_metadata::AffinityDomain::default_set();
        for (_study, inst, modalities) in manifests {
            let Ok(bytes) = std::fs::read(&inst.stored.path) else {
                continue;
            };
            let Ok(manifest) = kos::parse(&bytes) else {
                continue;
            };
            let pid = inst.text(tags::PATIENT_ID).unwrap_or_default();
            let ctx = xds_metadata::SubmissionContext::for_manifest(
                &format!("{pid}^^^&{authority}&ISO"),
                crate::config::xds::DEFAULT_SOURCE_ID,
                manifest.sop_instance_uid.as_deref().unwrap_or(""),
                modalities,
            );
            let mut pnr = xds_metadata::manifest_submission(&bytes, &manifest, &ctx, &codes);
            apply_metadata_faults(&mut pnr, faults);
            let docs: Vec<(String, Vec<u8>)> = pnr
                .documents
                .iter()
                .filter_map(|d| d.id.clone())
                .map(|id| (id, bytes.clone()))
                .collect();
            let unique_id = pnr
                .submit
                .objects
                .extrinsic_objects
                .first()
                .and_then(|o| o.identifier(e::DE_UNIQUE_ID));
            if registry
                .register(&pnr.submit, Some(DEFAULT_REPOSITORY_ID), &docs)
                .is_ok()
            {
                if let Some(u) = unique_id {
                    repository.insert(
                        u,
                        StoredDocument {
                            mime_type: e::MIME_DICOM.into(),
                            bytes: Bytes::from(bytes),
                        },
                    );
                }
            }
        }
        XdsStore {
            registry: Mutex::new(registry),
            repository: Mutex::new(repository),
            repository_unique_id: DEFAULT_REPOSITORY_ID.into(),
            imaging_source_unique_id: DEFAULT_IMAGING_SOURCE_ID.into(),
            patient_authority: authority,
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn repository(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, StoredDocument>> {
        self.repository
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Break the preloaded metadata as the metadata faults say.
fn apply_metadata_faults(
    pnr: &mut ProvideAndRegisterRequest,
    faults: &std::collections::BTreeSet<Fault>,
) {
    for eo in &mut pnr.submit.objects.extrinsic_objects {
        if faults.contains(&Fault::XdsMetadataUniqueIdNotSop) {
            for x in &mut eo.external_identifiers {
                if x.scheme.as_deref() == Some(e::DE_UNIQUE_ID) {
                    x.value = x.value.as_ref().map(|v| format!("{v}.99"));
                }
            }
        }
        if faults.contains(&Fault::XdsMetadataWrongSourcePatient) {
            for s in &mut eo.slots {
                if s.name == "sourcePatientId" {
                    s.values = vec!["SOMEONE-ELSE^^^&1.2.3.4&ISO".into()];
                }
            }
        }
        if faults.contains(&Fault::XdsMetadataNoStudyReference) {
            for s in &mut eo.slots {
                if s.name == e::SLOT_REFERENCE_ID_LIST {
                    s.values
                        .retain(|v| !v.ends_with(e::REFERENCE_ID_STUDY_INSTANCE_UID));
                }
            }
        }
        if faults.contains(&Fault::XdsMetadataNoModality) {
            eo.classifications
                .retain(|c| c.scheme.as_deref() != Some(e::DE_EVENT_CODE));
        }
    }
}

/// Which endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Registry,
    Repository,
    ImagingSource,
}

/// A parsed inbound SOAP request.
struct Inbound {
    envelope: soap::Envelope,
    mtom: Option<soap::MtomMessage>,
}

/// A SOAP answer before packaging.
struct Answer {
    status: StatusCode,
    transaction: Transaction,
    operation: String,
    action: &'static str,
    body_xml: String,
    attachments: Vec<(String, String, Bytes)>,
    mtom: bool,
}

fn read_inbound(
    headers: &HeaderMap,
    body: &[u8],
    limits: &crate::reference::inbound::InboundLimits,
) -> Result<Inbound, String> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let max_bytes = usize::try_from(limits.max_body).unwrap_or(usize::MAX);
    let xml = soap::XmlLimits {
        max_bytes,
        max_elements: usize::try_from(limits.max_nodes).unwrap_or(usize::MAX),
        ..soap::XmlLimits::default()
    };
    if soap::is_multipart_related(ct) {
        let mtom = MtomLimits {
            max_root_bytes: max_bytes,
            max_attachment_in_memory: max_bytes,
            xml,
            ..MtomLimits::default()
        };
        let m = soap::parse_mtom(ct, body, &mtom).map_err(|e| e.to_string())?;
        let env = m.envelope(&xml).map_err(|e| e.to_string())?;
        Ok(Inbound {
            envelope: env,
            mtom: Some(m),
        })
    } else {
        let env = soap::parse_envelope(body).map_err(|e| e.to_string())?;
        Ok(Inbound {
            envelope: env,
            mtom: None,
        })
    }
}

/// POST /xds/registry.
pub async fn registry(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    serve(st, Endpoint::Registry, "/xds/registry", headers, body).await
}

/// POST /xds/repository.
pub async fn repository(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    serve(st, Endpoint::Repository, "/xds/repository", headers, body).await
}

/// POST /xds/imaging-source.
pub async fn imaging_source(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    serve(
        st,
        Endpoint::ImagingSource,
        "/xds/imaging-source",
        headers,
        body,
    )
    .await
}

/// The wsa:MessageID in the head of a request refused unread, for the fault's wsa:RelatesTo
/// (empty when the head shows none).
fn message_id_in(head: &[u8]) -> String {
    let Some(at) = memchr::memmem::find(head, b"MessageID") else {
        return String::new();
    };
    let rest = &head[at..];
    let Some(open) = memchr::memchr(b'>', rest) else {
        return String::new();
    };
    let value = &rest[open + 1..];
    match memchr::memchr(b'<', value) {
        Some(end) if end <= 256 => String::from_utf8_lossy(&value[..end]).trim().to_string(),
        _ => String::new(),
    }
}

/// The transaction of a request the endpoint refused unread: what the endpoint serves, told
/// apart at the Repository by the action in the Content-Type or in the head of the body.
fn refused_transaction(endpoint: Endpoint, content_type: &str, head: &[u8]) -> Transaction {
    match endpoint {
        Endpoint::Registry => Transaction::Iti18,
        Endpoint::ImagingSource => Transaction::Rad69,
        Endpoint::Repository => {
            let names = |action: &str| {
                content_type.contains(action)
                    || memchr::memmem::find(head, action.as_bytes()).is_some()
            };
            if names(e::ACTION_RETRIEVE) && !names(e::ACTION_PNR) {
                Transaction::Iti43
            } else {
                Transaction::Rad68
            }
        }
    }
}

fn fault_answer(code: &str, reason: &str) -> Answer {
    let xml = format!(
        "<soap:Fault xmlns:soap=\"{NS_SOAP12}\"><soap:Code><soap:Value>soap:{code}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang=\"en\">{}</soap:Text></soap:Reason></soap:Fault>",
        xml_escape(reason)
    );
    Answer {
        status: if code == "Sender" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        },
        transaction: Transaction::SoapFault,
        operation: "fault".into(),
        action: "http://www.w3.org/2005/08/addressing/soap/fault",
        body_xml: xml,
        attachments: Vec::new(),
        mtom: false,
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn serve(
    st: Shared,
    endpoint: Endpoint,
    path: &str,
    headers: HeaderMap,
    raw: axum::body::Body,
) -> Response {
    let t0 = Instant::now();
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let url = format!("http://{}{path}", st.bound());
    let ct = headers
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let limits = *st.inbound_limits();
    let read = crate::reference::inbound::read(raw, &headers, "POST", &url, &limits).await;
    let body = read.bytes;
    let mut evidence = read.evidence;
    let mut refusal = read.refusal;
    let mut multipart = None;
    if refusal.is_none() {
        multipart = ct
            .as_deref()
            .and_then(|c| crate::transport::http::summarize_multipart(c, &body));
        refusal = crate::reference::inbound::too_many_nodes(
            &evidence,
            multipart.as_ref(),
            "POST",
            &url,
            &limits,
        );
        if refusal.is_some() {
            evidence = crate::reference::inbound::excerpt(&evidence, &limits);
            multipart = None;
        }
    }
    let (answer, relates_to, request_action) = match &refusal {
        Some(r) => {
            let mut a = fault_answer("Sender", &r.reason);
            a.status = r.status;
            a.transaction =
                refused_transaction(endpoint, ct.as_deref().unwrap_or(""), &evidence.kept);
            a.operation = "refused".into();
            (a, message_id_in(&evidence.kept), None)
        }
        None => match read_inbound(&headers, &body, &limits) {
            Err(why) => (
                fault_answer("Sender", &format!("not a SOAP 1.2 message: {why}")),
                String::new(),
                None,
            ),
            Ok(inb) => {
                let relates = inb
                    .envelope
                    .addressing
                    .message_id
                    .as_ref()
                    .map(|m| m.value.clone())
                    .unwrap_or_default();
                let action = inb
                    .envelope
                    .addressing
                    .action
                    .as_ref()
                    .map(|a| a.value.clone());
                let answer = answer(&st, endpoint, &inb, action.as_deref()).await;
                (answer, relates, action)
            }
        },
    };
    let (status, mut resp_headers, resp_body) = package(&st, &answer, &relates_to, request_action);
    if refusal.is_some() {
        // The rest of the body is not read: the connection cannot carry another request.
        resp_headers.push(("Connection".into(), "close".into()));
    }
    // Record the inbound exchange for the scenario that waits for it.
    let (request, repro) =
        crate::reference::inbound::recorded_request("POST", &url, &headers, evidence);
    let exchange = Exchange {
        seq: 0,
        transaction: answer.transaction,
        operation: answer.operation.clone(),
        actor: match endpoint {
            Endpoint::Registry => "Document Registry (simulated)",
            Endpoint::Repository => "Document Repository (simulated)",
            Endpoint::ImagingSource => "Imaging Document Source (simulated)",
        }
        .into(),
        direction: Direction::Inbound,
        started_at,
        time_to_headers: Some(t0.elapsed()),
        elapsed: t0.elapsed(),
        request,
        response: Some(HttpResponse {
            status: status.as_u16(),
            headers: resp_headers.clone(),
            body: answer_excerpt(&resp_body),
        }),
        multipart,
        failure: refusal.map(|r| r.failure),
        repro,
        dimse: None,
    };
    st.inbox().push(exchange);
    let mut resp = (status, resp_body).into_response();
    for (n, v) in resp_headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::try_from(n.as_str()),
            axum::http::HeaderValue::try_from(v.as_str()),
        ) {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

/// The harness's own answer is kept as an excerpt: the judged message is the SUT's request.
fn answer_excerpt(body: &Bytes) -> Body {
    let mut b = Body::from_bytes(body.clone());
    if b.kept.len() > ANSWER_KEEP {
        b.kept = b.kept.slice(..ANSWER_KEEP);
        b.complete = false;
    }
    b
}

/// How much of its own answer a simulator keeps in the evidence.
const ANSWER_KEEP: usize = 64 * 1024;

/// Build the response envelope and package it (plain SOAP or MTOM), applying the SOAP faults.
fn package(
    st: &Shared,
    a: &Answer,
    relates_to: &str,
    request_action: Option<String>,
) -> (StatusCode, Vec<(String, String)>, Bytes) {
    let action = if st.has(Fault::XdsWrongAction) {
        request_action.unwrap_or_else(|| a.action.to_string())
    } else {
        a.action.to_string()
    };
    let relates_to = if st.has(Fault::XdsRelatesToOtherMessage) {
        "urn:uuid:6f1c2a3b-0000-4000-8000-000000000001"
    } else {
        relates_to
    };
    let mut env = soap::response_envelope(&action, relates_to, &a.body_xml);
    if st.has(Fault::XdsNoRelatesTo) {
        if let (Some(i), Some(j)) = (env.find("<wsa:RelatesTo"), env.find("</wsa:RelatesTo>")) {
            env.replace_range(i..j + "</wsa:RelatesTo>".len(), "");
        }
    }
    if st.has(Fault::XdsSoap11) {
        env = env.replace(NS_SOAP12, NS_SOAP11);
    }
    if !a.mtom {
        return (
            a.status,
            vec![(
                "Content-Type".into(),
                format!("{SOAP_XML}; charset=UTF-8; action=\"{action}\""),
            )],
            Bytes::from(env),
        );
    }
    let mut specs: Vec<(String, String, Bytes)> = a.attachments.clone();
    if st.has(Fault::XdsDanglingXop) {
        if let Some(first) = specs.first_mut() {
            first.0 = format!("moved-{}", first.0);
        }
    }
    let refs: Vec<soap::AttachmentSpec<'_>> = specs
        .iter()
        .map(|(c, t, b)| (c.as_str(), t.as_str(), &b[..]))
        .collect();
    let (mut ct, body) = soap::mtom(&env, &refs);
    if st.has(Fault::XdsMtomWithoutStartInfo) {
        if let Ok(m) = MediaType::parse(&ct) {
            let mut out = MediaType::new(&m.essence);
            for (k, v) in &m.params {
                if k != "start-info" {
                    out = out.with_param(k, v);
                }
            }
            ct = out.to_header_value();
        }
    }
    (
        a.status,
        vec![("Content-Type".into(), ct)],
        Bytes::from(body),
    )
}

async fn answer(st: &Shared, endpoint: Endpoint, inb: &Inbound, action: Option<&str>) -> Answer {
    if inb.envelope.fault.is_some() {
        return fault_answer("Sender", "a request cannot be a SOAP Fault");
    }
    let Some(body) = inb.envelope.body.as_ref() else {
        return fault_answer("Sender", "the SOAP Body is empty");
    };
    let message = match e::parse_message(body) {
        Ok(m) => m,
        Err(err) => return fault_answer("Sender", &format!("not an XDS message: {err}")),
    };
    match (endpoint, action, message) {
        (Endpoint::Registry, Some(e::ACTION_STORED_QUERY), Message::AdhocQueryRequest(q)) => {
            stored_query(st, &q)
        }
        (
            Endpoint::Repository,
            Some(e::ACTION_RETRIEVE),
            Message::RetrieveDocumentSetRequest(r),
        ) => retrieve_documents(st, &r),
        (Endpoint::Repository, Some(e::ACTION_PNR), Message::ProvideAndRegister(p)) => {
            provide_and_register(st, &p, inb.mtom.as_ref())
        }
        (
            Endpoint::ImagingSource,
            Some(e::ACTION_RETRIEVE_IMAGING),
            Message::RetrieveImagingDocumentSetRequest(r),
        ) => retrieve_imaging(st, &r).await,
        (_, action, _) => fault_answer(
            "Sender",
            &format!(
                "wsa:Action {} is not served at this endpoint",
                action.unwrap_or("(none)")
            ),
        ),
    }
}

fn error(code: &str, context: &str, location: Option<&str>) -> RegistryError {
    RegistryError {
        error_code: Some(code.into()),
        code_context: Some(context.into()),
        location: location.map(str::to_string),
        severity: Some(e::SEVERITY_ERROR.into()),
    }
}

/// Apply the status and error faults to a response.
fn shape_response(st: &Shared, r: &mut RegistryResponse) {
    if st.has(Fault::XdsErrorWithoutContext) {
        for er in &mut r.errors {
            er.code_context = None;
        }
    }
    if st.has(Fault::XdsUnknownErrorCode) {
        for er in &mut r.errors {
            er.error_code = Some("PrivateError".into());
        }
    }
    if st.has(Fault::XdsFailureWithoutError) && r.status.as_deref() == Some(e::RESPONSE_FAILURE) {
        r.errors.clear();
        r.has_error_list = false;
    }
    if st.has(Fault::XdsBadStatus) {
        r.status = r.status.as_deref().map(|s| short(s).to_string());
    }
}

fn short(s: &str) -> &str {
    s.rsplit(':').next().unwrap_or(s)
}

fn stored_query(st: &Shared, q: &AdhocQueryRequest) -> Answer {
    let xds = st.xds();
    let mut q = q.clone();
    if st.has(Fault::XdsObjectRefAsLeaf) && q.return_type.as_deref() == Some("ObjectRef") {
        q.return_type = Some("LeafClass".into());
    }
    let mut resp: AdhocQueryResponse = xds.registry().query(&q);
    if st.has(Fault::XdsQueryAcceptsMissingParam)
        && resp
            .response
            .errors
            .iter()
            .any(|er| er.error_code.as_deref() == Some("XDSStoredQueryMissingParam"))
    {
        resp = AdhocQueryResponse {
            response: RegistryResponse {
                status: Some(e::RESPONSE_SUCCESS.into()),
                has_error_list: false,
                errors: Vec::new(),
            },
            objects: Default::default(),
            has_object_list: true,
        };
    }
    if st.has(Fault::XdsQueryIgnoresPatient) && q.query_id.as_deref() == Some(e::SQ_FIND_DOCUMENTS)
    {
        let all = xds.registry().all_patients();
        for p in all {
            let mut other = q.clone();
            for param in &mut other.params {
                if param.name == "$XDSDocumentEntryPatientId" {
                    param.values = vec![e::quote(&p)];
                }
            }
            let more = xds.registry().query(&other);
            for eo in more.objects.extrinsic_objects {
                if !resp.objects.extrinsic_objects.iter().any(|x| x.id == eo.id) {
                    resp.objects.extrinsic_objects.push(eo);
                }
            }
        }
    }
    let find = q.query_id.as_deref() == Some(e::SQ_FIND_DOCUMENTS);
    if st.has(Fault::XdsQueryOtherFormat)
        && find
        && q.params
            .iter()
            .any(|p| p.name == "$XDSDocumentEntryFormatCode")
    {
        if let Some(eo) = resp.objects.extrinsic_objects.first_mut() {
            for c in &mut eo.classifications {
                if c.scheme.as_deref() == Some(e::DE_FORMAT_CODE) {
                    c.node_representation = Some("urn:ihe:rad:PDF".into());
                    for sl in &mut c.slots {
                        if sl.name == "codingScheme" {
                            sl.values = vec!["1.3.6.1.4.1.19376.1.2.3".into()];
                        }
                    }
                }
            }
        }
    }
    let by_uuid = q.query_id.as_deref() == Some(e::SQ_GET_DOCUMENTS)
        && q.params
            .iter()
            .any(|p| p.name == "$XDSDocumentEntryEntryUUID");
    if (st.has(Fault::XdsLeafClassAsObjectRef) && find
        || st.has(Fault::XdsGetDocumentsAsObjectRef) && by_uuid)
        && q.return_type.as_deref() == Some("LeafClass")
    {
        let refs = resp
            .objects
            .extrinsic_objects
            .iter()
            .map(|eo| e::ObjectRef {
                id: eo.id.clone(),
                home: None,
            })
            .collect();
        resp.objects = e::RegistryObjectList {
            object_refs: refs,
            ..Default::default()
        };
    }
    if st.has(Fault::XdsObjectRefOtherPatient)
        && find
        && q.return_type.as_deref() == Some("ObjectRef")
    {
        let asked = q
            .params
            .iter()
            .find(|p| p.name == "$XDSDocumentEntryPatientId")
            .and_then(|p| p.values.first())
            .map(|v| v.trim().trim_matches('\'').to_string())
            .unwrap_or_default();
        let other = xds
            .registry()
            .document_entries()
            .iter()
            .find(|o| o.identifier(e::DE_PATIENT_ID).as_deref() != Some(asked.as_str()))
            .and_then(|o| o.id.clone());
        if let (Some(u), Some(last)) = (other, resp.objects.object_refs.last_mut()) {
            last.id = Some(u);
        }
    }
    if st.has(Fault::XdsQueryNoHash) {
        for eo in &mut resp.objects.extrinsic_objects {
            eo.slots
                .retain(|s| !matches!(s.name.as_str(), "hash" | "size" | "repositoryUniqueId"));
        }
    }
    if st.has(Fault::XdsSuccessWithError)
        && resp.response.status.as_deref() == Some(e::RESPONSE_SUCCESS)
    {
        resp.response.has_error_list = true;
        resp.response.errors.push(error(
            "XDSRegistryError",
            "an error reported on a successful query",
            None,
        ));
    }
    shape_response(st, &mut resp.response);
    let mut xml = resp.to_xml();
    if st.has(Fault::XdsSchemaOrder) {
        xml = external_identifier_first(&xml);
    }
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti18,
        operation: stored_query_name(q.query_id.as_deref()),
        action: e::ACTION_STORED_QUERY_RESPONSE,
        body_xml: xml,
        attachments: Vec::new(),
        mtom: false,
    }
}

fn stored_query_name(id: Option<&str>) -> String {
    e::STORED_QUERIES
        .iter()
        .find(|(k, _)| Some(*k) == id)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| format!("unknown stored query {}", id.unwrap_or("(none)")))
}

/// Move the first ExternalIdentifier of the first ExtrinsicObject before its Classifications.
fn external_identifier_first(xml: &str) -> String {
    let (Some(c), Some(x)) = (
        xml.find("<rim:Classification"),
        xml.find("<rim:ExternalIdentifier"),
    ) else {
        return xml.to_string();
    };
    if x < c {
        return xml.to_string();
    }
    let end_tag = "</rim:ExternalIdentifier>";
    let Some(rel) = xml[x..].find(end_tag) else {
        return xml.to_string();
    };
    let y = x + rel + end_tag.len();
    let ext = &xml[x..y];
    format!("{}{}{}{}", &xml[..c], ext, &xml[c..x], &xml[y..])
}

fn status_of(returned: usize, asked: usize) -> &'static str {
    if returned == 0 {
        e::RESPONSE_FAILURE
    } else if returned < asked {
        e::RESPONSE_PARTIAL_SUCCESS
    } else {
        e::RESPONSE_SUCCESS
    }
}

fn retrieve_documents(st: &Shared, r: &RetrieveDocumentSetRequest) -> Answer {
    let xds = st.xds();
    let repo = xds.repository();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut attachments = Vec::new();
    for (i, d) in r.documents.iter().enumerate() {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let location = if st.has(Fault::XdsRetrieveErrorNoLocation) {
            None
        } else {
            Some(uid.as_str())
        };
        if d.repository_unique_id.as_deref() != Some(xds.repository_unique_id.as_str()) {
            errors.push(error(
                "XDSUnknownRepositoryId",
                &format!(
                    "repository {} is not this repository ({})",
                    d.repository_unique_id.as_deref().unwrap_or("(none)"),
                    xds.repository_unique_id
                ),
                location,
            ));
            continue;
        }
        let Some(stored) = repo.get(&uid) else {
            let code = if st.has(Fault::XdsRetrieveWrongErrorCode) {
                "XDSRegistryError"
            } else {
                "XDSDocumentUniqueIdError"
            };
            errors.push(error(code, &format!("no document {uid}"), location));
            continue;
        };
        // The fault answers with another document of the repository, under its own uniqueId.
        let (uid, stored) = if st.has(Fault::XdsRetrieveOtherDocument) {
            repo.iter()
                .find(|(u, _)| **u != uid)
                .map(|(u, d)| (u.clone(), d))
                .unwrap_or((uid, stored))
        } else {
            (uid, stored)
        };
        let cid = format!("doc{i}@ihe-harness-reference");
        let mut bytes = stored.bytes.to_vec();
        if st.has(Fault::XdsRetrieveSameSizeOtherBytes) {
            bytes.reverse();
        }
        if st.has(Fault::XdsRetrieveCorruptDocument) {
            if let Some(b) = bytes.last_mut() {
                *b ^= 0x01;
            }
        }
        let mime = if st.has(Fault::XdsRetrieveWrongMime) {
            "application/octet-stream".to_string()
        } else {
            stored.mime_type.clone()
        };
        docs.push(DocumentResponse {
            // The community asked, or none (ITI TF-2 3.43.4.2.2).
            home_community_id: d.home_community_id.clone().or_else(|| {
                st.has(Fault::XdsRetrieveAddsHomeCommunity)
                    .then(|| "urn:oid:1.3.6.1.4.1.21367.13.70.1".to_string())
            }),
            repository_unique_id: Some(xds.repository_unique_id.clone()),
            document_unique_id: Some(uid.clone()),
            new_repository_unique_id: None,
            new_document_unique_id: None,
            mime_type: (!st.has(Fault::XdsRetrieveNoMimeType)).then_some(mime.clone()),
            document: Some(DocumentContent::Xop {
                href: soap::cid_url(&cid),
            }),
        });
        attachments.push((cid, mime, Bytes::from(bytes)));
    }
    let mut status = status_of(docs.len(), r.documents.len());
    if st.has(Fault::XdsRetrievePartialAsSuccess) && status == e::RESPONSE_PARTIAL_SUCCESS {
        status = e::RESPONSE_SUCCESS;
        errors.clear();
    }
    let mut rr = RegistryResponse {
        status: Some(status.into()),
        has_error_list: !errors.is_empty(),
        errors,
    };
    shape_response(st, &mut rr);
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(rr),
        documents: docs,
    };
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti43,
        operation: "Retrieve Document Set".into(),
        action: e::ACTION_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}

fn provide_and_register(
    st: &Shared,
    p: &ProvideAndRegisterRequest,
    mtom: Option<&soap::MtomMessage>,
) -> Answer {
    let xds = st.xds();
    let mut errors = Vec::new();
    let mut docs: Vec<(String, Vec<u8>)> = Vec::new();
    for d in &p.documents {
        let id = d.id.clone().unwrap_or_default();
        let bytes = match &d.content {
            DocumentContent::Inline(b) => Some(b.clone()),
            DocumentContent::Xop { href } => mtom
                .and_then(|m| m.resolve(href))
                .and_then(|a| a.data.bytes().map(|b| b.to_vec())),
            DocumentContent::InvalidBase64(_) => None,
        };
        match bytes {
            Some(b) => docs.push((id, b)),
            None => errors.push(error(
                "XDSMissingDocument",
                &format!("the content of Document {id} is missing or unreadable"),
                Some(&id),
            )),
        }
    }
    // The reference repository is strict: metadata with Error-level violations is refused.
    for v in xds_rules::validate_submission(
        &p.submit,
        Some(&p.documents),
        xds_rules::SubmissionKind::Rad68,
    ) {
        if v.level == crate::checks::Level::Shall {
            errors.push(error(
                "XDSRepositoryMetadataError",
                &format!("{} ({}): {}", v.rule, v.requirement, v.message),
                None,
            ));
        }
    }
    // RAD TF-2 4.68.4.1.2.3: the manifest's uniqueId is its SOP Instance UID.
    for eo in &p.submit.objects.extrinsic_objects {
        let Some((_, bytes)) = docs.iter().find(|(id, _)| Some(id) == eo.id.as_ref()) else {
            continue;
        };
        if eo.mime_type.as_deref() != Some(e::MIME_DICOM) {
            continue;
        }
        if let Ok(m) = kos::parse(bytes) {
            let uid = eo.identifier(e::DE_UNIQUE_ID);
            if uid.is_some() && uid != m.sop_instance_uid {
                errors.push(error(
                    "XDSRepositoryMetadataError",
                    &format!(
                        "uniqueId {} is not the manifest's SOP Instance UID {}",
                        uid.as_deref().unwrap_or(""),
                        m.sop_instance_uid.as_deref().unwrap_or("")
                    ),
                    uid.as_deref(),
                ));
            }
        }
    }
    // The fault stores other metadata than was submitted (the entry's creationTime).
    let mut stored_submit = p.submit.clone();
    if st.has(Fault::XdsRegistryAltersMetadata) {
        for eo in &mut stored_submit.objects.extrinsic_objects {
            for sl in &mut eo.slots {
                if sl.name == "creationTime" {
                    sl.values = vec!["19700101000000".into()];
                }
            }
        }
    }
    if errors.is_empty() {
        match xds
            .registry()
            .register(&stored_submit, Some(&xds.repository_unique_id), &docs)
        {
            Ok(_) => {
                let mut repo = xds.repository();
                for eo in &p.submit.objects.extrinsic_objects {
                    let (Some(uid), Some((_, bytes))) = (
                        eo.identifier(e::DE_UNIQUE_ID),
                        docs.iter().find(|(id, _)| Some(id) == eo.id.as_ref()),
                    ) else {
                        continue;
                    };
                    repo.insert(
                        uid,
                        StoredDocument {
                            mime_type: eo.mime_type.clone().unwrap_or_default(),
                            bytes: Bytes::from(bytes.clone()),
                        },
                    );
                }
            }
            Err(errs) => errors.extend(errs),
        }
    }
    let mut rr = RegistryResponse {
        status: Some(
            if errors.is_empty() {
                e::RESPONSE_SUCCESS
            } else {
                e::RESPONSE_FAILURE
            }
            .into(),
        ),
        has_error_list: !errors.is_empty(),
        errors,
    };
    shape_response(st, &mut rr);
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Rad68,
        operation: "Provide and Register Imaging Document Set".into(),
        action: e::ACTION_PNR_RESPONSE,
        body_xml: rr.to_xml(),
        attachments: Vec::new(),
        mtom: mtom.is_some(),
    }
}

/// A DICOMweb origin server the Imaging Document Source maps RAD-69 onto (WADO-RS, RAD-107).
#[derive(Debug, Clone)]
pub struct Upstream {
    base: String,
    client: reqwest::Client,
}

impl Upstream {
    /// A client for the service root `base`.
    pub fn new(base: String) -> Upstream {
        crate::transport::install_crypto_provider();
        Upstream {
            base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap_or_default(),
        }
    }

    /// One instance in transfer syntax `ts` (`*`: as stored), with the syntax it came in.
    async fn instance(&self, inst: &Instance, ts: &str) -> Option<(String, Vec<u8>)> {
        let url = format!(
            "{}/studies/{}/series/{}/instances/{}",
            self.base, inst.study_uid, inst.series_uid, inst.sop_uid
        );
        let accept = format!("multipart/related; type=\"application/dicom\"; transfer-syntax={ts}");
        let resp = self
            .client
            .get(&url)
            .header("Accept", accept)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let ct = resp
            .headers()
            .get("content-type")?
            .to_str()
            .ok()?
            .to_string();
        let body = resp.bytes().await.ok()?;
        let m = soap::parse_mtom(&ct, &body, &MtomLimits::default()).ok()?;
        let head = crate::model::dicom_part::sniff(&m.root).ok()?;
        Some((head.transfer_syntax?, m.root))
    }

    /// The instance in the first requested syntax the upstream can give: as stored when that is
    /// asked for, else in each requested syntax in turn.
    async fn encode_for(&self, inst: &Instance, wanted: &[String]) -> Option<(String, Vec<u8>)> {
        if let Some((ts, bytes)) = self.instance(inst, "*").await {
            if wanted.contains(&ts) {
                return Some((ts, bytes));
            }
        }
        for ts in wanted {
            if ts == IMPLICIT_VR_LE {
                continue; // not a DICOMweb transfer syntax (PS3.18 8.7.3.5.2)
            }
            if let Some((got, bytes)) = self.instance(inst, ts).await {
                if &got == ts {
                    return Some((got, bytes));
                }
            }
        }
        None
    }
}

/// Find an instance anywhere in the archive.
fn find_instance(archive: &Archive, sop: &str) -> Option<Arc<Instance>> {
    archive
        .studies
        .values()
        .flat_map(|s| s.series.values())
        .find_map(|se| se.instances.get(sop).cloned())
}

/// The bytes of an instance in the first requested transfer syntax it can be sent in.
async fn encode_for(
    inst: &Instance,
    wanted: &[String],
    ignore_ts: bool,
) -> Option<(String, Vec<u8>)> {
    let stored_ts = inst.stored.transfer_syntax().to_string();
    if ignore_ts || wanted.contains(&stored_ts) {
        return tokio::fs::read(&inst.stored.path)
            .await
            .ok()
            .map(|b| (stored_ts, b));
    }
    let ele = inst.explicit_le()?.path.clone();
    for ts in wanted {
        if ts == EXPLICIT_VR_LE {
            return tokio::fs::read(&ele).await.ok().map(|b| (ts.clone(), b));
        }
        if ts == IMPLICIT_VR_LE {
            let p = ele.clone();
            return tokio::task::spawn_blocking(move || part10::transcode(&p, IMPLICIT_VR_LE))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|b| (ts.clone(), b));
        }
    }
    None
}

async fn retrieve_imaging(st: &Shared, r: &RetrieveImagingDocumentSetRequest) -> Answer {
    let xds = st.xds();
    let wanted = r.transfer_syntaxes.clone().unwrap_or_default();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut attachments = Vec::new();
    let mut asked = 0;
    let mut hidden_series = std::collections::BTreeSet::new();
    for study in &r.studies {
        let study_uid = study.study_instance_uid.clone().unwrap_or_default();
        for series in &study.series {
            let series_uid = series.series_instance_uid.clone().unwrap_or_default();
            for d in &series.documents {
                asked += 1;
                let uid = d.document_unique_id.clone().unwrap_or_default();
                let location = if st.has(Fault::XdsRetrieveErrorNoLocation) {
                    None
                } else {
                    Some(uid.as_str())
                };
                if d.repository_unique_id.as_deref() != Some(xds.imaging_source_unique_id.as_str())
                {
                    errors.push(error(
                        "XDSUnknownRepositoryId",
                        &format!(
                            "repository {} is not this Imaging Document Source ({})",
                            d.repository_unique_id.as_deref().unwrap_or("(none)"),
                            xds.imaging_source_unique_id
                        ),
                        location,
                    ));
                    continue;
                }
                let inst = find_instance(&st.archive(), &uid);
                let hide = st.has(Fault::XdsKosReferencesMissingInstance)
                    && hidden_series.insert(series_uid.clone());
                let inst = match inst {
                    Some(i) if !hide => i,
                    _ => {
                        let code = if st.has(Fault::XdsRetrieveWrongErrorCode) {
                            "XDSRegistryError"
                        } else {
                            "XDSDocumentUniqueIdError"
                        };
                        errors.push(error(code, &format!("no instance {uid}"), location));
                        continue;
                    }
                };
                if inst.study_uid != study_uid || inst.series_uid != series_uid {
                    errors.push(error(
                        "XDSDocumentUniqueIdError",
                        &format!("instance {uid} is not in study {study_uid} series {series_uid}"),
                        location,
                    ));
                    continue;
                }
                let encoded = match st.upstream() {
                    Some(up) => up.encode_for(&inst, &wanted).await,
                    None => {
                        encode_for(&inst, &wanted, st.has(Fault::Rad69IgnoresTransferSyntax)).await
                    }
                };
                match encoded {
                    None => errors.push(error(
                        "XDSRepositoryError",
                        &format!(
                            "instance {uid} (stored as {}) cannot be encoded in any of the requested transfer syntaxes",
                            inst.stored.transfer_syntax()
                        ),
                        location,
                    )),
                    Some((_, bytes)) => {
                        let cid = format!("img{}@ihe-harness-reference", docs.len());
                        let repository = if st.has(Fault::Rad69WrongRepositoryId) {
                            format!("{}.9", xds.imaging_source_unique_id)
                        } else {
                            xds.imaging_source_unique_id.clone()
                        };
                        docs.push(DocumentResponse {
                            home_community_id: d.home_community_id.clone(),
                            repository_unique_id: Some(repository),
                            document_unique_id: Some(uid.clone()),
                            new_repository_unique_id: None,
                            new_document_unique_id: None,
                            mime_type: (!st.has(Fault::XdsRetrieveNoMimeType))
                                .then(|| e::MIME_DICOM.to_string()),
                            document: Some(DocumentContent::Xop {
                                href: soap::cid_url(&cid),
                            }),
                        });
                        attachments.push((cid, e::MIME_DICOM.to_string(), Bytes::from(bytes)));
                    }
                }
            }
        }
    }
    if st.has(Fault::Rad69ForeignInstance) && !docs.is_empty() {
        let asked_studies: Vec<String> = r
            .studies
            .iter()
            .filter_map(|s| s.study_instance_uid.clone())
            .collect();
        let foreign = st
            .archive()
            .studies
            .iter()
            .find(|(uid, _)| !asked_studies.contains(uid))
            .and_then(|(_, s)| s.first());
        if let Some(inst) = foreign {
            if let Ok(bytes) = tokio::fs::read(&inst.stored.path).await {
                let cid = format!("img{}@ihe-harness-reference", docs.len());
                docs.push(DocumentResponse {
                    repository_unique_id: Some(xds.imaging_source_unique_id.clone()),
                    document_unique_id: Some(inst.sop_uid.clone()),
                    mime_type: Some(e::MIME_DICOM.into()),
                    document: Some(DocumentContent::Xop {
                        href: soap::cid_url(&cid),
                    }),
                    ..Default::default()
                });
                attachments.push((cid, e::MIME_DICOM.to_string(), Bytes::from(bytes)));
            }
        }
    }
    let returned = docs.len().min(asked);
    let mut status = status_of(returned, asked.max(1));
    if st.has(Fault::XdsRetrievePartialAsSuccess) && status == e::RESPONSE_PARTIAL_SUCCESS {
        status = e::RESPONSE_SUCCESS;
        errors.clear();
    }
    let mut rr = RegistryResponse {
        status: Some(status.into()),
        has_error_list: !errors.is_empty(),
        errors,
    };
    shape_response(st, &mut rr);
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(rr),
        documents: docs,
    };
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Rad69,
        operation: "Retrieve Imaging Document Set".into(),
        action: e::ACTION_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_request_is_named_by_its_endpoint_and_action() {
        let head = br#"<s:Envelope><s:Header><a:Action>urn:ihe:iti:2007:RetrieveDocumentSet</a:Action><a:MessageID> urn:uuid:1 </a:MessageID>"#;
        assert_eq!(
            refused_transaction(Endpoint::Repository, "", head),
            Transaction::Iti43
        );
        assert_eq!(
            refused_transaction(Endpoint::Repository, "", b"junk"),
            Transaction::Rad68
        );
        assert_eq!(
            refused_transaction(
                Endpoint::Repository,
                "application/soap+xml; action=\"urn:ihe:iti:2007:RetrieveDocumentSet\"",
                b""
            ),
            Transaction::Iti43
        );
        assert_eq!(
            refused_transaction(Endpoint::Registry, "", b""),
            Transaction::Iti18
        );
        assert_eq!(
            refused_transaction(Endpoint::ImagingSource, "", b""),
            Transaction::Rad69
        );
        assert_eq!(message_id_in(head), "urn:uuid:1");
        assert_eq!(message_id_in(b"<x/>"), "");
        assert_eq!(message_id_in(b"<a:MessageID>unterminated"), "");
    }
}
