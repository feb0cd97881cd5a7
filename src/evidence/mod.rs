//! Evidence: every message the harness exchanges with a system under test, kept as a typed [`Exchange`].
//!
//! A verdict is only as good as the evidence behind it, so each exchange keeps the real request and
//! response (status, headers, and the body itself or, for a large body, its size, SHA-256 and a bounded
//! excerpt), the timings, a streaming summary of multipart bodies part by part, and a command line that
//! reproduces it. Checks are pure functions over these records; the report stage writes them to disk.
//! Secrets never reach an `Exchange`: headers are redacted when recorded (see [`redact`]).

pub mod dimse;
pub mod inbox;
pub mod redact;

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::model::dicom_part::DicomHead;
use crate::transaction::Transaction;

/// Which side started the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// The harness (a simulated actor in the initiator role) called the system under test.
    Outbound,
    /// The system under test called a simulator of the harness.
    Inbound,
}

/// A message body as recorded: its full size and digest, plus the bytes kept for checks and evidence.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Body {
    /// Total number of bytes seen on the wire (after transfer decoding).
    pub size: u64,
    /// Lower-case hex SHA-256 of the whole body; empty for a multipart response body, whose
    /// parts each carry their own digest in the multipart summary.
    pub sha256: String,
    /// The first bytes of the body, up to the keep limit of the exchange.
    #[serde(skip)]
    pub kept: Bytes,
    /// True when `kept` is the whole body.
    pub complete: bool,
}

impl Body {
    /// A body recorded from bytes held in full.
    pub fn from_bytes(bytes: Bytes) -> Self {
        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        Body {
            size: bytes.len() as u64,
            sha256,
            kept: bytes,
            complete: true,
        }
    }

    /// The kept bytes as text, lossily decoded, for messages.
    pub fn text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }
}

/// A recorded HTTP request.
#[derive(Debug, Clone, Serialize)]
pub struct HttpRequest {
    /// Method, upper case.
    pub method: String,
    /// Full URL, query included.
    pub url: String,
    /// Header names and values, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// The request body (empty for GET).
    pub body: Body,
}

impl HttpRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A recorded HTTP response.
#[derive(Debug, Clone, Serialize)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The response body as far as it was received.
    pub body: Body,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body parsed as JSON, if it was kept whole and parses.
    pub fn json(&self) -> Option<serde_json::Value> {
        if !self.body.complete {
            return None;
        }
        serde_json::from_slice(&self.body.kept).ok()
    }
}

/// A value that came over the wire (or from a command line), shown in a message between backticks
/// with control characters escaped (`\r`, `\u{1b}`) and cut to 120 characters: readable, and safe
/// for a terminal, without Rust's debug quoting.
pub fn quote(s: &str) -> String {
    let mut out = String::from("`");
    for (i, c) in s.chars().enumerate() {
        if i == 120 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// Values shown in a message as a comma-separated list, each as [`quote`] shows it; `none` for
/// an empty list.
pub fn quote_list<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let shown: Vec<String> = items.into_iter().map(|s| quote(s.as_ref())).collect();
    if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(", ")
    }
}

/// Case-insensitive header lookup.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// One part of a multipart/related body, summarised while it streamed past.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PartSummary {
    /// The part's headers.
    pub headers: Vec<(String, String)>,
    /// Size of the part body in bytes.
    pub size: u64,
    /// Identity digest of the part body (BLAKE3, lower-case hex: [`crate::transport::digest::Identity`]).
    pub blake3: String,
    /// What the first bytes say about the DICOM object in the part, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dicom: Option<DicomHead>,
    /// Why the part could not be read as a DICOM object, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_dicom: Option<String>,
    /// The whole part, kept for structured documents (KOS manifests, SR) small enough to judge.
    #[serde(skip)]
    pub document: Option<Bytes>,
}

impl PartSummary {
    /// The part's Content-Type header.
    pub fn content_type(&self) -> Option<&str> {
        find_header(&self.headers, "content-type")
    }
}

/// A multipart/related body, as the streaming parser saw it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MultipartSummary {
    /// The boundary taken from the Content-Type, when there was one.
    pub boundary: Option<String>,
    /// Every part that started, in order.
    pub parts: Vec<PartSummary>,
    /// True when the close delimiter was seen.
    pub closed: bool,
    /// The first structural error, if the body does not parse per RFC 2046.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why the harness could not complete an exchange: never a verdict on the SUT.
#[derive(Debug, Clone, Serialize)]
pub struct TransportFailure {
    /// Short class: `connect`, `timeout`, `read`, `request`, `config`.
    pub kind: String,
    /// What happened, with the operation and address.
    pub message: String,
}

/// The current time as RFC 3339 (UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One request/response pair (or an attempt at one).
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// 1-based number of the exchange within its scenario (`#3`).
    pub seq: u32,
    /// The IHE transaction (`RAD-107`).
    pub transaction: Transaction,
    /// What the harness was doing (`Retrieve Study`).
    pub operation: String,
    /// The actor the harness played.
    pub actor: String,
    /// Who initiated.
    pub direction: Direction,
    /// When the exchange started (RFC 3339, UTC).
    pub started_at: String,
    /// Time to the response headers.
    #[serde(with = "millis_opt")]
    pub time_to_headers: Option<Duration>,
    /// Time to the end of the body (or of the attempt).
    #[serde(with = "millis")]
    pub elapsed: Duration,
    /// The request.
    pub request: HttpRequest,
    /// The response, when one arrived.
    pub response: Option<HttpResponse>,
    /// Multipart body summary, when the response was multipart/related.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multipart: Option<MultipartSummary>,
    /// Set when the harness or the network failed: the exchange is evidence of an Error, not a Fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<TransportFailure>,
    /// A shell command that repeats the request.
    pub repro: String,
    /// The association and DIMSE messages, for a DIMSE exchange.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimse: Option<Box<dimse::DimseRecord>>,
    /// The TLS session (version, the peer's certificates) or why its handshake failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::transport::tls::TlsRecord>,
}

impl Exchange {
    /// `#3 GET http://…` for failure messages.
    pub fn label(&self) -> String {
        format!(
            "exchange #{}, {} {}",
            self.seq, self.request.method, self.request.url
        )
    }

    /// The response status, if a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// A synthetic exchange for unit tests and recorded-message tests: a RAD-107 GET with the given
    /// response.
    pub fn synthetic(
        url: &str,
        request_headers: &[(&str, &str)],
        status: u16,
        response_headers: &[(&str, &str)],
        body: &[u8],
    ) -> Exchange {
        let response_headers: Vec<(String, String)> = response_headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let multipart = find_header(&response_headers, "content-type")
            .and_then(|ct| crate::transport::http::summarize_multipart(ct, body));
        Exchange {
            seq: 1,
            transaction: Transaction::Rad107,
            operation: "synthetic".into(),
            actor: "test".into(),
            direction: Direction::Outbound,
            started_at: "1970-01-01T00:00:00Z".into(),
            time_to_headers: None,
            elapsed: Duration::ZERO,
            request: HttpRequest {
                method: "GET".into(),
                url: url.into(),
                headers: request_headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
                body: Body::default(),
            },
            response: Some(HttpResponse {
                status,
                headers: response_headers,
                body: Body::from_bytes(Bytes::copy_from_slice(body)),
            }),
            multipart,
            failure: None,
            repro: String::new(),
            dimse: None,
            tls: None,
        }
    }
}

/// The exchanges of one scenario, numbered in order.
#[derive(Debug, Default, Clone)]
pub struct EvidenceLog {
    exchanges: Vec<Exchange>,
}

impl EvidenceLog {
    /// Record an exchange, giving it the next sequence number; returns its index.
    pub fn record(&mut self, mut exchange: Exchange) -> usize {
        exchange.seq = self.exchanges.len() as u32 + 1;
        self.exchanges.push(exchange);
        self.exchanges.len() - 1
    }

    /// All exchanges, in order.
    pub fn exchanges(&self) -> &[Exchange] {
        &self.exchanges
    }

    /// Exchange by index.
    pub fn get(&self, index: usize) -> Option<&Exchange> {
        self.exchanges.get(index)
    }

    /// Take every exchange out of the log.
    pub fn take(&mut self) -> Vec<Exchange> {
        std::mem::take(&mut self.exchanges)
    }
}

mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

mod millis_opt {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_control_characters_and_bounds_length() {
        assert_eq!(quote("1.2.3"), "`1.2.3`");
        assert_eq!(quote("a\r\nb\u{1b}"), "`a\\r\\nb\\u{1b}`");
        assert_eq!(quote("\"x\""), "`\"x\"`");
        assert_eq!(quote(&"y".repeat(200)).chars().count(), 123);
        assert_eq!(quote_list(["1.2", "a\nb"]), "`1.2`, `a\\nb`");
        assert_eq!(quote_list(Vec::<String>::new()), "none");
    }
}
