//! The SOAP message the SUT sent in an exchange, read back from the evidence record.
//!
//! The SUT's message is the response when the harness called the SUT (outbound) and the request
//! when the SUT called a simulator of the harness (inbound). A plain SOAP body is kept whole by
//! the evidence collector; in an MTOM/XOP package the root part (`application/xop+xml`) is kept
//! whole and every other part is summarised (size, digest, DICOM head, and KOS documents whole).

use bytes::Bytes;

use crate::evidence::{find_header, Direction, Exchange, MultipartSummary, PartSummary};
use crate::model::ebrim::{self, Message};
use crate::transport::media_type::MediaType;
use crate::transport::soap::{self, Envelope, SoapError, XmlLimits};

/// The SUT's SOAP message in an exchange.
#[derive(Debug)]
pub struct SutMessage<'a> {
    /// The exchange.
    pub exchange: &'a Exchange,
    /// HTTP status of the response (for inbound messages: the harness's answer).
    pub http_status: Option<u16>,
    /// `Content-Type` of the message.
    pub content_type: Option<&'a str>,
    /// The multipart summary, for an MTOM package.
    pub multipart: Option<&'a MultipartSummary>,
    /// Index of the root part in `multipart.parts`.
    pub root: Option<usize>,
    /// The envelope bytes, when kept.
    pub envelope_xml: Option<Bytes>,
}

/// Why the SUT's message could not be read as SOAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Nothing was received.
    NoMessage,
    /// The body is not a SOAP envelope (or the envelope was too large to keep).
    NotSoap(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::NoMessage => f.write_str("no message from the SUT"),
            Unreadable::NotSoap(why) => write!(f, "not a SOAP message: {why}"),
        }
    }
}

/// Why the SUT's SOAP message carries no ebXML message to judge.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    /// The envelope is not readable SOAP.
    #[error(transparent)]
    Envelope(#[from] SoapError),
    /// The envelope carries a SOAP Fault.
    #[error("SOAP Fault {code}: {reason}")]
    Fault {
        /// The fault code.
        code: String,
        /// The fault reason.
        reason: String,
    },
    /// The SOAP Body has no element.
    #[error("the SOAP Body is empty")]
    EmptyBody,
    /// The body element is not an ebXML message the harness reads.
    #[error(transparent)]
    Ebrim(#[from] ebrim::EbrimError),
}

impl<'a> SutMessage<'a> {
    /// Find the SUT's message in `ex`.
    pub fn of(ex: &'a Exchange) -> Result<SutMessage<'a>, Unreadable> {
        let (headers, body) = match ex.direction {
            Direction::Outbound => {
                let r = ex.response.as_ref().ok_or(Unreadable::NoMessage)?;
                (&r.headers, &r.body)
            }
            Direction::Inbound => (&ex.request.headers, &ex.request.body),
        };
        let content_type = find_header(headers, "content-type");
        let is_multipart = content_type
            .and_then(|ct| MediaType::parse(ct).ok())
            .map(|m| m.essence.starts_with("multipart/"))
            .unwrap_or(false);
        let mut msg = SutMessage {
            exchange: ex,
            http_status: ex.response.as_ref().map(|r| r.status),
            content_type,
            multipart: None,
            root: None,
            envelope_xml: None,
        };
        if is_multipart {
            let mp = ex.multipart.as_ref().ok_or_else(|| {
                Unreadable::NotSoap("the multipart body was not summarised".into())
            })?;
            msg.multipart = Some(mp);
            let start = content_type
                .and_then(|ct| MediaType::parse(ct).ok())
                .and_then(|m| m.param("start").map(strip_angle));
            let root = match &start {
                Some(s) => mp.parts.iter().position(|p| {
                    find_header(&p.headers, "content-id")
                        .map(strip_angle)
                        .as_deref()
                        == Some(s.as_str())
                }),
                None => (!mp.parts.is_empty()).then_some(0),
            };
            let root = root.ok_or_else(|| {
                Unreadable::NotSoap(match &start {
                    Some(s) => format!("no MIME part has the start Content-ID <{s}>"),
                    None => "the multipart body has no part".into(),
                })
            })?;
            msg.root = Some(root);
            let part = &mp.parts[root];
            msg.envelope_xml = Some(part.document.clone().ok_or_else(|| {
                Unreadable::NotSoap(format!(
                    "the root part ({} bytes, {}) is not an XML part kept for judging",
                    part.size,
                    part.content_type().unwrap_or("no Content-Type")
                ))
            })?);
        } else {
            if !body.complete {
                return Err(Unreadable::NotSoap(format!(
                    "the body ({} bytes) is larger than the harness keeps",
                    body.size
                )));
            }
            if body.size == 0 {
                return Err(Unreadable::NotSoap("the body is empty".into()));
            }
            msg.envelope_xml = Some(body.kept.clone());
        }
        Ok(msg)
    }

    /// Parse the envelope.
    pub fn envelope(&self) -> Result<Envelope, SoapError> {
        let xml = self.envelope_xml.as_deref().unwrap_or_default();
        soap::parse_envelope_with(xml, &XmlLimits::default())
    }

    /// Parse the ebXML message in the body.
    pub fn message(&self) -> Result<Message, MessageError> {
        let env = self.envelope()?;
        if let Some(f) = &env.fault {
            return Err(MessageError::Fault {
                code: f.code.clone(),
                reason: f.reason.clone(),
            });
        }
        let body = env.body.as_ref().ok_or(MessageError::EmptyBody)?;
        Ok(ebrim::parse_message(body)?)
    }

    /// The attachments (every part but the root).
    pub fn attachments(&self) -> Vec<&'a PartSummary> {
        match (self.multipart, self.root) {
            (Some(mp), Some(root)) => mp
                .parts
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != root)
                .map(|(_, p)| p)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The attachment an `xop:Include href="cid:…"` names.
    pub fn attachment(&self, href: &str) -> Option<&'a PartSummary> {
        let cid = soap::content_id_of_cid_url(href).ok()?;
        self.attachments().into_iter().find(|p| {
            find_header(&p.headers, "content-id")
                .map(strip_angle)
                .is_some_and(|c| c == cid)
        })
    }
}

/// The SOAP envelope of the request the harness sent in an outbound exchange (the harness built it:
/// the body is kept whole).
fn harness_envelope(ex: &Exchange) -> Option<soap::Envelope> {
    if ex.direction != Direction::Outbound {
        return None;
    }
    let ct = ex.request.header("content-type").unwrap_or("");
    let body = &ex.request.body.kept;
    let xml: Bytes = if soap::is_multipart_related(ct) {
        let m = soap::parse_mtom(ct, body, &soap::MtomLimits::default()).ok()?;
        Bytes::from(m.root)
    } else {
        body.clone()
    };
    soap::parse_envelope(&xml).ok()
}

/// The request the harness sent in an outbound exchange, parsed.
pub fn harness_request(ex: &Exchange) -> Option<Message> {
    let env = harness_envelope(ex)?;
    ebrim::parse_message(env.body.as_ref()?).ok()
}

/// The `wsa:MessageID` of the request the harness sent in an outbound exchange: the id a response
/// must name in its `wsa:RelatesTo`.
pub fn harness_message_id(ex: &Exchange) -> Option<String> {
    harness_envelope(ex)?.addressing.message_id.map(|m| m.value)
}

fn strip_angle(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}
