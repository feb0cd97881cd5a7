//! The SOAP endpoints of the XDS-I.b actors: reading an inbound request within the run's limits,
//! recording it, dispatching it by endpoint and `wsa:Action` to its responder, and packaging the
//! answer (SOAP 1.2, MTOM/XOP when the transaction carries documents) with the faults that shape
//! every response.

use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::imaging_source::retrieve_imaging;
use super::query::stored_query;
use super::repository::{provide_and_register, retrieve_documents};
use crate::evidence::{Body, Direction, Exchange, HttpResponse};
use crate::model::ebrim::{self as e, Message, RegistryError, RegistryResponse};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::transaction::Transaction;
use crate::transport::media_type::MediaType;
use crate::transport::soap::{self, MtomLimits, NS_SOAP11, NS_SOAP12, SOAP_XML};

/// Which endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Registry,
    Repository,
    ImagingSource,
    /// The Responding Gateway's ITI-38 endpoint ([`crate::reference::xca`]).
    XcaQuery,
    /// The Responding Gateway's ITI-39 endpoint.
    XcaRetrieve,
    /// The Responding Imaging Gateway's RAD-75 endpoint ([`crate::reference::xcai`]).
    XcaiRetrieve,
    /// The Initiating Gateway's ITI-18 endpoint ([`crate::reference::xca::initiating_gateway`]).
    XcaIgQuery,
    /// The Initiating Gateway's ITI-43 endpoint.
    XcaIgRetrieve,
    /// The ITI-38 endpoint of a simulated community's Responding Gateway (0: A, 1: B).
    XcaCommunityQuery(usize),
    /// The ITI-39 endpoint of a simulated community's Responding Gateway.
    XcaCommunityRetrieve(usize),
    /// The Initiating Imaging Gateway's RAD-69 endpoint
    /// ([`crate::reference::xcai::initiating_imaging_gateway`]).
    XcaiIgRetrieve,
    /// The RAD-75 endpoint of a simulated community's Responding Imaging Gateway (0: A, 1: B).
    XcaiCommunityRetrieve(usize),
}

/// A parsed inbound SOAP request.
struct Inbound {
    envelope: soap::Envelope,
    mtom: Option<soap::MtomMessage>,
}

/// A SOAP answer before packaging.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) transaction: Transaction,
    pub(crate) operation: String,
    pub(crate) action: &'static str,
    pub(crate) body_xml: String,
    pub(crate) attachments: Vec<(String, String, Bytes)>,
    pub(crate) mtom: bool,
}

fn read_inbound(
    headers: &HeaderMap,
    body: &[u8],
    limits: &crate::reference::inbound::InboundLimits,
) -> Result<Inbound, soap::SoapError> {
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
        let m = soap::parse_mtom(ct, body, &mtom)?;
        let env = m.envelope(&xml)?;
        Ok(Inbound {
            envelope: env,
            mtom: Some(m),
        })
    } else {
        let env = soap::parse_envelope(body)?;
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
        Endpoint::XcaQuery => Transaction::Iti38,
        Endpoint::XcaRetrieve => Transaction::Iti39,
        Endpoint::XcaiRetrieve => Transaction::Rad75,
        Endpoint::XcaIgQuery => Transaction::Iti18,
        Endpoint::XcaIgRetrieve => Transaction::Iti43,
        Endpoint::XcaCommunityQuery(_) => Transaction::Iti38,
        Endpoint::XcaCommunityRetrieve(_) => Transaction::Iti39,
        Endpoint::XcaiIgRetrieve => Transaction::Rad69,
        Endpoint::XcaiCommunityRetrieve(_) => Transaction::Rad75,
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

pub(crate) async fn serve(
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
    let url = format!("{}://{}{path}", st.scheme(), st.bound());
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
            Endpoint::XcaQuery | Endpoint::XcaRetrieve => "Responding Gateway (simulated)",
            Endpoint::XcaiRetrieve => "Responding Imaging Gateway (simulated)",
            Endpoint::XcaIgQuery | Endpoint::XcaIgRetrieve => "Initiating Gateway",
            Endpoint::XcaCommunityQuery(_) | Endpoint::XcaCommunityRetrieve(_) => {
                "Responding Gateway (simulated community)"
            }
            Endpoint::XcaiIgRetrieve => "Initiating Imaging Gateway",
            Endpoint::XcaiCommunityRetrieve(_) => {
                "Responding Imaging Gateway (simulated community)"
            }
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
        tls: None,
    };
    // The Initiating Gateway's requests are kept: when it is the simulator a SUT Document Consumer
    // calls across communities, what that consumer sent is judged (XCA-08, XCA-09). The Initiating
    // Imaging Gateway only ever plays the SUT: nothing waits for its requests.
    if !matches!(endpoint, Endpoint::XcaiIgRetrieve) {
        st.inbox().push(exchange);
    }
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
        (Endpoint::XcaQuery, Some(e::ACTION_XC_QUERY), Message::AdhocQueryRequest(q)) => {
            crate::reference::xca::cross_gateway_query(st, &q)
        }
        (
            Endpoint::XcaRetrieve,
            Some(e::ACTION_XC_RETRIEVE),
            Message::RetrieveDocumentSetRequest(r),
        ) => crate::reference::xca::cross_gateway_retrieve(st, &r),
        (
            Endpoint::XcaiRetrieve,
            Some(e::ACTION_XC_RETRIEVE_IMAGING),
            Message::RetrieveImagingDocumentSetRequest(r),
        ) => crate::reference::xcai::cross_gateway_retrieve_imaging(st, &r).await,
        (Endpoint::XcaIgQuery, Some(e::ACTION_STORED_QUERY), Message::AdhocQueryRequest(q)) => {
            crate::reference::xca::initiating_gateway::stored_query(st, &q).await
        }
        (
            Endpoint::XcaIgRetrieve,
            Some(e::ACTION_RETRIEVE),
            Message::RetrieveDocumentSetRequest(r),
        ) => crate::reference::xca::initiating_gateway::retrieve(st, &r).await,
        (
            Endpoint::XcaCommunityQuery(c),
            Some(e::ACTION_XC_QUERY),
            Message::AdhocQueryRequest(q),
        ) => crate::reference::xca::initiating_gateway::community_query(st, c, &q),
        (
            Endpoint::XcaCommunityRetrieve(c),
            Some(e::ACTION_XC_RETRIEVE),
            Message::RetrieveDocumentSetRequest(r),
        ) => crate::reference::xca::initiating_gateway::community_retrieve(st, c, &r),
        (
            Endpoint::XcaiIgRetrieve,
            Some(e::ACTION_RETRIEVE_IMAGING),
            Message::RetrieveImagingDocumentSetRequest(r),
        ) => crate::reference::xcai::initiating_imaging_gateway::retrieve(st, &r).await,
        (
            Endpoint::XcaiCommunityRetrieve(c),
            Some(e::ACTION_XC_RETRIEVE_IMAGING),
            Message::RetrieveImagingDocumentSetRequest(r),
        ) => {
            crate::reference::xcai::initiating_imaging_gateway::community_retrieve(st, c, &r).await
        }
        (_, action, _) => fault_answer(
            "Sender",
            &format!(
                "wsa:Action {} is not served at this endpoint",
                action.unwrap_or("(none)")
            ),
        ),
    }
}

pub(crate) fn error(code: &str, context: &str, location: Option<&str>) -> RegistryError {
    RegistryError {
        error_code: Some(code.into()),
        code_context: Some(context.into()),
        location: location.map(str::to_string),
        severity: Some(e::SEVERITY_ERROR.into()),
    }
}

/// Apply the status and error faults to a response.
pub(crate) fn shape_response(st: &Shared, r: &mut RegistryResponse) {
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

pub(crate) fn status_of(returned: usize, asked: usize) -> &'static str {
    if returned == 0 {
        e::RESPONSE_FAILURE
    } else if returned < asked {
        e::RESPONSE_PARTIAL_SUCCESS
    } else {
        e::RESPONSE_SUCCESS
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

    #[test]
    fn an_inbound_request_that_is_not_soap_says_why_as_the_parser_does() {
        let limits = crate::reference::inbound::InboundLimits::default();
        let Err(why) = read_inbound(&HeaderMap::new(), b"<x/>", &limits) else {
            panic!("<x/> read as a SOAP envelope");
        };
        assert_eq!(why.to_string(), "root element {}x is not a SOAP Envelope");
    }
}
