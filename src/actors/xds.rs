//! XDS-I.b initiators over SOAP 1.2 with WS-Addressing (ITI TF-2 Appendix V):
//! - Document Consumer: ITI-18 Registry Stored Query and ITI-43 Retrieve Document Set;
//! - Imaging Document Consumer: RAD-69 Retrieve Imaging Document Set;
//! - Imaging Document Source: RAD-68 Provide and Register Imaging Document Set-MTOM/XOP.
//!
//! Requests that carry or fetch documents (RAD-68, ITI-43, RAD-69) are sent as MTOM/XOP
//! packages (ITI TF-2 Appendix V.3.2; the responders must accept them); ITI-18 is a plain SOAP
//! message (`application/soap+xml`). Every call returns the recorded
//! [`Exchange`]; the response, however large (a RAD-69 study), is streamed through the
//! evidence collector, which keeps the SOAP root part whole and summarises the attachments.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::config::Xds;
use crate::evidence::Exchange;
use crate::model::ebrim::{
    AdhocQueryRequest, ProvideAndRegisterRequest, RetrieveDocumentSetRequest,
    RetrieveImagingDocumentSetRequest, ACTION_PNR, ACTION_RETRIEVE, ACTION_RETRIEVE_IMAGING,
    ACTION_STORED_QUERY,
};
use crate::transport::http::{HttpClient, HttpError, Meta, Request};
use crate::transport::soap::{self, AttachmentSpec, SOAP_XML};

/// One attachment of an MTOM request: Content-ID (without angle brackets), Content-Type, bytes.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Content-ID without the angle brackets.
    pub content_id: String,
    /// Content-Type.
    pub content_type: String,
    /// Bytes.
    pub data: Bytes,
}

/// The wire form of a SOAP request: its `Content-Type` and body. `mtom` packages it as MTOM/XOP
/// with `attachments` (ITI TF-2 Appendix V); otherwise it is `application/soap+xml` with the action
/// parameter.
pub fn soap_request(
    url: &str,
    action: &str,
    message_id: &str,
    body_xml: &str,
    mtom: bool,
    attachments: &[Attachment],
) -> (String, Vec<u8>) {
    let envelope = soap::envelope(action, message_id, Some(url), body_xml);
    if mtom {
        let specs: Vec<AttachmentSpec<'_>> = attachments
            .iter()
            .map(|a| (a.content_id.as_str(), a.content_type.as_str(), &a.data[..]))
            .collect();
        soap::mtom(&envelope, &specs)
    } else {
        (
            format!("{SOAP_XML}; charset=UTF-8; action=\"{action}\""),
            envelope.into_bytes(),
        )
    }
}

/// A SOAP user agent for the SUT's XDS-I.b endpoints.
#[derive(Debug)]
pub struct XdsClient {
    /// The HTTP client.
    pub http: HttpClient,
    /// The endpoints and identifiers.
    pub cfg: Xds,
    counter: AtomicU64,
}

/// An endpoint the SUT profile does not declare.
#[derive(Debug, thiserror::Error)]
#[error("the SUT profile declares no {0}")]
pub struct NoEndpoint(pub &'static str);

impl XdsClient {
    /// Build a client for the `[xds]` endpoints of a SUT profile.
    pub fn new(cfg: &Xds) -> Result<XdsClient, HttpError> {
        Ok(XdsClient {
            http: HttpClient::new(crate::config::Auth::None, cfg.timeouts)?,
            cfg: cfg.clone(),
            counter: AtomicU64::new(0),
        })
    }

    fn message_id(&self, body: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut seed = body.as_bytes().to_vec();
        seed.extend_from_slice(&n.to_be_bytes());
        seed.extend_from_slice(&std::process::id().to_be_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        seed.extend_from_slice(&now.to_be_bytes());
        soap::message_id_from(&seed)
    }

    /// Send one SOAP request; `mtom` packages it as MTOM/XOP with `attachments`.
    pub async fn call(
        &self,
        url: &str,
        action: &str,
        body_xml: &str,
        mtom: bool,
        attachments: &[Attachment],
        meta: Meta,
    ) -> Exchange {
        let message_id = self.message_id(body_xml);
        let (content_type, body) =
            soap_request(url, action, &message_id, body_xml, mtom, attachments);
        let req = Request {
            method: reqwest::Method::POST,
            url: url.to_string(),
            headers: vec![("Content-Type".into(), content_type)],
            body: Bytes::from(body),
        };
        self.http.exchange(meta, req).await
    }

    /// ITI-18 Registry Stored Query.
    pub async fn stored_query(
        &self,
        q: &AdhocQueryRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        let url = self
            .cfg
            .registry_url
            .as_deref()
            .ok_or(NoEndpoint("Document Registry (xds.registry_url)"))?;
        Ok(self
            .call(
                url,
                ACTION_STORED_QUERY,
                &q.to_xml(),
                false,
                &[],
                Meta {
                    transaction: "ITI-18",
                    operation: operation.to_string(),
                    actor: "Document Consumer",
                },
            )
            .await)
    }

    /// ITI-43 Retrieve Document Set.
    pub async fn retrieve_documents(
        &self,
        r: &RetrieveDocumentSetRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        let url = self
            .cfg
            .repository_url
            .as_deref()
            .ok_or(NoEndpoint("Document Repository (xds.repository_url)"))?;
        Ok(self
            .call(
                url,
                ACTION_RETRIEVE,
                &r.to_xml(),
                true,
                &[],
                Meta {
                    transaction: "ITI-43",
                    operation: operation.to_string(),
                    actor: "Document Consumer",
                },
            )
            .await)
    }

    /// RAD-69 Retrieve Imaging Document Set.
    pub async fn retrieve_imaging(
        &self,
        r: &RetrieveImagingDocumentSetRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        let url = self.cfg.imaging_source_url.as_deref().ok_or(NoEndpoint(
            "Imaging Document Source (xds.imaging_source_url)",
        ))?;
        Ok(self
            .call(
                url,
                ACTION_RETRIEVE_IMAGING,
                &r.to_xml(),
                true,
                &[],
                Meta {
                    transaction: "RAD-69",
                    operation: operation.to_string(),
                    actor: "Imaging Document Consumer",
                },
            )
            .await)
    }

    /// RAD-68 Provide and Register Imaging Document Set-MTOM/XOP, to `url` (the SUT's Repository,
    /// or the harness's own simulator when the harness plays a conformant source).
    pub async fn provide_and_register_to(
        &self,
        url: &str,
        pnr: &ProvideAndRegisterRequest,
        attachments: &[Attachment],
        operation: &str,
    ) -> Exchange {
        self.call(
            url,
            ACTION_PNR,
            &pnr.to_xml(),
            true,
            attachments,
            Meta {
                transaction: "RAD-68",
                operation: operation.to_string(),
                actor: "Imaging Document Source",
            },
        )
        .await
    }

    /// RAD-68 to the SUT's Document Repository.
    pub async fn provide_and_register(
        &self,
        pnr: &ProvideAndRegisterRequest,
        attachments: &[Attachment],
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        let url = self
            .cfg
            .repository_url
            .clone()
            .ok_or(NoEndpoint("Document Repository (xds.repository_url)"))?;
        Ok(self
            .provide_and_register_to(&url, pnr, attachments, operation)
            .await)
    }
}
