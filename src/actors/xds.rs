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

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::config::Xds;
use crate::evidence::Exchange;
use crate::model::ebrim::{
    AdhocQueryRequest, DocumentRequest, ProvideAndRegisterRequest, RetrieveDocumentSetRequest,
    RetrieveImagingDocumentSetRequest, SeriesRequest, StudyRequest, ACTION_PNR, ACTION_RETRIEVE,
    ACTION_RETRIEVE_IMAGING, ACTION_STORED_QUERY,
};
use crate::transaction::Transaction;
use crate::transport::http::{HttpClient, HttpError, Meta, Request};
use crate::transport::media_type::MediaType;
use crate::transport::multipart::{self, MultipartEvent, MultipartParser};
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

/// SHA-1 (lower-case hex, as XDS `hash` is written) and size of every MIME part of a multipart
/// body, by Content-ID (angle brackets removed).
pub type PartDigests = BTreeMap<String, (String, u64)>;

/// How much of a body is searched for its first boundary line before giving up.
const BOUNDARY_SEARCH: usize = 64 * 1024;

/// Digests the parts of a multipart body as it streams past, for bodies the evidence does not
/// keep whole: a retrieved document is judged against the registry's SHA-1 `hash` and `size`
/// (ITI TF-3 4.2.3.2) whatever its size. The sink sees the body before its Content-Type is at
/// hand, so the boundary is read from the body's first delimiter line and checked against the
/// Content-Type at the end; when they disagree no digest is given.
#[derive(Default)]
pub struct PartDigester {
    head: Vec<u8>,
    boundary: Option<String>,
    parser: Option<MultipartParser>,
    failed: bool,
    events: Vec<MultipartEvent>,
    current: Option<(Option<String>, ring::digest::Context, u64)>,
    done: PartDigests,
}

impl PartDigester {
    /// A digester for one body.
    pub fn new() -> PartDigester {
        PartDigester::default()
    }

    /// The next chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.failed {
            return;
        }
        if self.parser.is_none() {
            self.head.extend_from_slice(chunk);
            match first_boundary(&self.head) {
                Some(b) => {
                    let mut parser = MultipartParser::new(&b);
                    let head = std::mem::take(&mut self.head);
                    self.boundary = Some(b);
                    let ok = parser.feed(&head, &mut self.events).is_ok();
                    self.parser = Some(parser);
                    self.apply(ok);
                }
                None if self.head.len() > BOUNDARY_SEARCH => {
                    self.failed = true;
                    self.head = Vec::new();
                }
                None => {}
            }
            return;
        }
        let ok = match self.parser.as_mut() {
            Some(p) => p.feed(chunk, &mut self.events).is_ok(),
            None => false,
        };
        self.apply(ok);
    }

    fn apply(&mut self, ok: bool) {
        for ev in self.events.drain(..) {
            match ev {
                MultipartEvent::PartStart { headers } => {
                    let cid = multipart::header(&headers, "content-id").map(|c| {
                        c.trim()
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            .to_string()
                    });
                    self.current = Some((
                        cid,
                        ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
                        0,
                    ));
                }
                MultipartEvent::PartData(d) => {
                    if let Some((_, ctx, size)) = self.current.as_mut() {
                        ctx.update(&d);
                        *size += d.len() as u64;
                    }
                }
                MultipartEvent::PartEnd => {
                    if let Some((Some(cid), ctx, size)) = self.current.take() {
                        self.done
                            .insert(cid, (hex::encode(ctx.finish().as_ref()), size));
                    }
                }
            }
        }
        if !ok {
            self.failed = true;
        }
    }

    /// The digests of the parts that ended, when the body's boundary is the one its
    /// Content-Type names.
    pub fn finish(mut self, content_type: Option<&str>) -> PartDigests {
        let declared = content_type
            .and_then(|ct| MediaType::parse(ct).ok())
            .and_then(|m| m.param("boundary").map(str::to_string));
        if declared.is_none() || declared != self.boundary {
            return PartDigests::new();
        }
        if let Some(mut p) = self.parser.take() {
            let ok = p.finish(&mut self.events).is_ok();
            self.apply(ok);
        }
        self.done
    }
}

/// The boundary of the first delimiter line (`--boundary`) of a body, once the line is complete.
fn first_boundary(head: &[u8]) -> Option<String> {
    let mut start = 0;
    loop {
        let end = memchr::memchr(b'\n', head.get(start..)?)? + start;
        let line = head.get(start..end)?;
        if let Some(rest) = line.strip_prefix(b"--") {
            let b = String::from_utf8_lossy(rest).trim_end().to_string();
            return (!b.is_empty()).then_some(b);
        }
        start = end + 1;
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
    /// Build a client for the `[xds]` endpoints of a SUT profile, reading within `limits`.
    pub fn new(cfg: &Xds, limits: &crate::config::Limits) -> Result<XdsClient, HttpError> {
        use crate::transport::factory::{http_client, HttpSettings};
        Ok(XdsClient {
            http: http_client(
                &HttpSettings::new(crate::config::Auth::None, cfg.timeouts)
                    .with_limits(limits)
                    .with_tls_settings(cfg.tls.as_ref())?,
            )?,
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
        self.call_with(url, action, body_xml, mtom, attachments, meta, &mut |_| {})
            .await
    }

    /// As [`call`](Self::call), handing every chunk of the response body to `sink`.
    #[allow(clippy::too_many_arguments)]
    async fn call_with(
        &self,
        url: &str,
        action: &str,
        body_xml: &str,
        mtom: bool,
        attachments: &[Attachment],
        meta: Meta,
        sink: &mut dyn FnMut(&[u8]),
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
        self.http.exchange_with(meta, req, sink).await
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
                    transaction: Transaction::Iti18,
                    operation: operation.to_string(),
                    actor: "Document Consumer",
                },
            )
            .await)
    }

    /// The SUT's Document Repository endpoint.
    fn repository_url(&self) -> Result<&str, NoEndpoint> {
        self.cfg
            .repository_url
            .as_deref()
            .ok_or(NoEndpoint("Document Repository (xds.repository_url)"))
    }

    /// ITI-43 Retrieve Document Set, handing every chunk of the response body to `sink`.
    async fn iti43(
        &self,
        r: &RetrieveDocumentSetRequest,
        operation: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Exchange, NoEndpoint> {
        Ok(self
            .call_with(
                self.repository_url()?,
                ACTION_RETRIEVE,
                &r.to_xml(),
                true,
                &[],
                Meta {
                    transaction: Transaction::Iti43,
                    operation: operation.to_string(),
                    actor: "Document Consumer",
                },
                sink,
            )
            .await)
    }

    /// ITI-43 Retrieve Document Set.
    pub async fn retrieve_documents(
        &self,
        r: &RetrieveDocumentSetRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        self.iti43(r, operation, &mut |_| {}).await
    }

    /// ITI-43 with the SHA-1 and size of every part of the response, digested as it streams
    /// (the registry's `hash` is a SHA-1; the evidence keeps large parts only as a summary).
    pub async fn retrieve_documents_digested(
        &self,
        r: &RetrieveDocumentSetRequest,
        operation: &str,
    ) -> Result<(Exchange, PartDigests), NoEndpoint> {
        let mut digester = PartDigester::new();
        let ex = self
            .iti43(r, operation, &mut |chunk| digester.feed(chunk))
            .await?;
        let ct = ex
            .response
            .as_ref()
            .and_then(|r| r.header("content-type"))
            .map(str::to_string);
        Ok((ex, digester.finish(ct.as_deref())))
    }

    /// RAD-69 Retrieve Imaging Document Set.
    pub async fn retrieve_imaging(
        &self,
        r: &RetrieveImagingDocumentSetRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        self.retrieve_imaging_with(r, operation, &mut |_| {}).await
    }

    /// RAD-69, handing every chunk of the response body to `sink` as it arrives (a timed
    /// retrieve watches its parts go by).
    pub async fn retrieve_imaging_with(
        &self,
        r: &RetrieveImagingDocumentSetRequest,
        operation: &str,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<Exchange, NoEndpoint> {
        let url = self.cfg.imaging_source_url.as_deref().ok_or(NoEndpoint(
            "Imaging Document Source (xds.imaging_source_url)",
        ))?;
        Ok(self
            .call_with(
                url,
                ACTION_RETRIEVE_IMAGING,
                &r.to_xml(),
                true,
                &[],
                Meta {
                    transaction: Transaction::Rad69,
                    operation: operation.to_string(),
                    actor: "Imaging Document Consumer",
                },
                sink,
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
                transaction: Transaction::Rad68,
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
        Ok(self
            .provide_and_register_to(self.repository_url()?, pnr, attachments, operation)
            .await)
    }
}

impl XdsClient {
    /// ITI-38 Cross Gateway Query to the Responding Gateway at `registry_url` (a client built
    /// with [`crate::config::xca::Xca::as_xds`]).
    pub async fn cross_gateway_query(
        &self,
        q: &AdhocQueryRequest,
        operation: &str,
    ) -> Result<Exchange, NoEndpoint> {
        let url = self.cfg.registry_url.as_deref().ok_or(NoEndpoint(
            "Responding Gateway query endpoint (xca.responding_gateway_query_url)",
        ))?;
        Ok(self
            .call(
                url,
                crate::model::ebrim::ACTION_XC_QUERY,
                &q.to_xml(),
                false,
                &[],
                Meta {
                    transaction: Transaction::Iti38,
                    operation: operation.to_string(),
                    actor: "Initiating Gateway",
                },
            )
            .await)
    }

    /// ITI-39 Cross Gateway Retrieve (MTOM/XOP, ITI TF-2 3.43.5) to the Responding Gateway at
    /// `repository_url`, with the SHA-1 and size of every part of the response.
    pub async fn cross_gateway_retrieve_digested(
        &self,
        r: &RetrieveDocumentSetRequest,
        operation: &str,
    ) -> Result<(Exchange, PartDigests), NoEndpoint> {
        let url = self.cfg.repository_url.as_deref().ok_or(NoEndpoint(
            "Responding Gateway retrieve endpoint (xca.responding_gateway_retrieve_url)",
        ))?;
        let mut digester = PartDigester::new();
        let ex = self
            .call_with(
                url,
                crate::model::ebrim::ACTION_XC_RETRIEVE,
                &r.to_xml(),
                true,
                &[],
                Meta {
                    transaction: Transaction::Iti39,
                    operation: operation.to_string(),
                    actor: "Initiating Gateway",
                },
                &mut |chunk| digester.feed(chunk),
            )
            .await;
        let ct = ex
            .response
            .as_ref()
            .and_then(|r| r.header("content-type"))
            .map(str::to_string);
        Ok((ex, digester.finish(ct.as_deref())))
    }
}

/// Why the RAD-68 submission of a manifest could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// The manifest does not parse.
    #[error("{0}")]
    Manifest(#[from] crate::model::kos::KosError),
    /// The affinity domain's code sets could not be loaded.
    #[error("{0}")]
    AffinityDomain(#[from] crate::model::xds_metadata::AffinityDomainError),
}

/// Build the RAD-68 submission of a fixture manifest (`kos_bytes`, of the study `study`) with
/// the profile's identifiers and code sets; `patient_override` breaks the patient id.
pub fn manifest_submission(
    cfg: &Xds,
    kos_bytes: &[u8],
    study: &[crate::model::fixtures::FixtureInstance],
    patient_override: Option<&str>,
) -> Result<(ProvideAndRegisterRequest, Vec<Attachment>), SubmissionError> {
    use crate::model::{kos, xds_metadata};
    let manifest = kos::parse(kos_bytes)?;
    let pid = study
        .first()
        .map(|i| i.patient_id.clone())
        .unwrap_or_default();
    let cx = patient_override
        .map(str::to_string)
        .unwrap_or_else(|| cfg.patient_cx(&pid));
    let codes = match &cfg.affinity_domain {
        Some(p) => xds_metadata::AffinityDomain::load(p)?,
        None => xds_metadata::AffinityDomain::default_set(),
    };
    let ctx = xds_metadata::SubmissionContext::for_manifest(
        &cx,
        &cfg.source_id,
        manifest.sop_instance_uid.as_deref().unwrap_or(""),
        study
            .iter()
            .filter(|i| !i.kos)
            .map(|i| (i.series_uid.clone(), i.modality.clone()))
            .collect(),
    );
    let pnr = xds_metadata::manifest_submission(kos_bytes, &manifest, &ctx, &codes);
    let att = Attachment {
        content_id: ctx.document_content_id(),
        content_type: crate::model::ebrim::MIME_DICOM.into(),
        data: Bytes::copy_from_slice(kos_bytes),
    };
    Ok((pnr, vec![att]))
}

/// A DocumentRequest of document `uid` in repository `repo`.
pub fn doc_request(repo: &str, uid: &str) -> DocumentRequest {
    DocumentRequest {
        home_community_id: None,
        repository_unique_id: Some(repo.to_string()),
        document_unique_id: Some(uid.to_string()),
    }
}

/// A RAD-69 request of the (study, series, SOP instance) triples `insts` in repository `repo`, in
/// transfer syntaxes `ts`.
pub fn imaging_request(
    insts: &[(String, String, String)],
    repo: &str,
    ts: &[String],
) -> RetrieveImagingDocumentSetRequest {
    let mut studies: Vec<StudyRequest> = Vec::new();
    for (study, series, sop) in insts {
        let si = match studies
            .iter()
            .position(|s| s.study_instance_uid.as_deref() == Some(study.as_str()))
        {
            Some(i) => i,
            None => {
                studies.push(StudyRequest {
                    study_instance_uid: Some(study.clone()),
                    series: Vec::new(),
                });
                studies.len() - 1
            }
        };
        let st = &mut studies[si];
        let se = match st
            .series
            .iter()
            .position(|s| s.series_instance_uid.as_deref() == Some(series.as_str()))
        {
            Some(i) => i,
            None => {
                st.series.push(SeriesRequest {
                    series_instance_uid: Some(series.clone()),
                    documents: Vec::new(),
                });
                st.series.len() - 1
            }
        };
        st.series[se].documents.push(doc_request(repo, sop));
    }
    RetrieveImagingDocumentSetRequest {
        studies,
        transfer_syntaxes: Some(ts.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_each_part_by_content_id_in_any_chunking() {
        let data = vec![7u8; 200_000];
        let (ct, body) = soap::mtom("<e/>", &[("doc0@x", "application/dicom", &data[..])]);
        for step in [1usize, 7, 4096, body.len()] {
            let mut d = PartDigester::new();
            for chunk in body.chunks(step) {
                d.feed(chunk);
            }
            let got = d.finish(Some(&ct));
            assert_eq!(
                got.get("doc0@x"),
                Some(&(crate::model::ebrim::document_hash(&data), data.len() as u64)),
                "chunks of {step}"
            );
        }
    }

    #[test]
    fn a_boundary_other_than_the_content_types_gives_no_digest() {
        let (_, body) = soap::mtom("<e/>", &[("doc0@x", "application/dicom", b"abc")]);
        let mut d = PartDigester::new();
        d.feed(&body);
        assert!(d
            .finish(Some("multipart/related; boundary=other"))
            .is_empty());
        let mut d = PartDigester::new();
        d.feed(&vec![b'x'; BOUNDARY_SEARCH + 10]);
        assert!(d.finish(Some("multipart/related; boundary=x")).is_empty());
    }
}
