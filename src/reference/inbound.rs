//! Requests a SUT sends to the harness's simulated actors (XDS-I.b Document Registry, Document
//! Repository and Imaging Document Source; MHD Document Recipient and Responder), read within the
//! run's `[limits]` as the answers the harness fetches are.
//!
//! The body of an inbound request is read up to `[limits] max_body_bytes` and for at most the
//! inbound timeout (the simulator's `trigger_timeout_ms`, the time a scenario waits for the SUT's
//! call); a JSON or XML body (the SOAP part of an MTOM package) is parsed only if it holds at most
//! `[limits] max_parsed_nodes` values or elements. Past a limit the simulator stops reading and
//! refuses the request with `Connection: close` (RFC 9112 §9.6) and the status the refusal is:
//! 413 Content Too Large ("the server is refusing to process a request because the request content
//! is larger than the server is willing or able to process", RFC 9110 §15.5.14) or 408 Request
//! Timeout ("the server did not receive a complete request message within the time that it was
//! prepared to wait", RFC 9110 §15.5.9), with the body its protocol answers errors in (a SOAP 1.2
//! Fault, a FHIR OperationOutcome), then reads on and drops what the client still sends for a
//! moment, so that a client still writing is not reset before it reads the refusal. The refused request is recorded in the inbox with the head of
//! its body (at most `[limits] evidence_bytes_per_exchange`), its size and SHA-256 as far as it was
//! received, and a [`TransportFailure`]: `body-too-large`, which the scenario waiting for the call
//! reports as a Fail of BODY-01 (the harness's limit, named with the key that raises it), or
//! `timeout` / `read` (an Error: a slow or broken network cannot be told from a slow SUT).

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use sha2::Digest;

use crate::checks::peer::BODY_TOO_LARGE;
use crate::config::Limits;
use crate::evidence::{Body, MultipartSummary, TransportFailure};

/// What the simulators read of a SUT's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundLimits {
    /// The largest request body read and judged (`[limits] max_body_bytes`).
    pub max_body: u64,
    /// The most JSON values or XML elements of a request body parsed (`[limits]
    /// max_parsed_nodes`).
    pub max_nodes: u64,
    /// The most parts (instances) of one STOW-RS request the archive spools, each to a file of
    /// its own (`[limits] max_parts`).
    pub max_parts: u64,
    /// The head of a refused body kept as evidence (`[limits] evidence_bytes_per_exchange`).
    pub evidence_per_exchange: u64,
    /// The longest a request body may take to arrive.
    pub timeout: Duration,
    /// The bytes of bodies the inbox holds before the oldest exchanges lose theirs.
    pub inbox_bytes: u64,
}

impl Default for InboundLimits {
    /// [`InboundLimits::serving`].
    fn default() -> Self {
        InboundLimits::serving()
    }
}

impl InboundLimits {
    /// Within a run: the run's `[limits]`, and the time a request body may take (the simulator's
    /// trigger timeout). The inbox holds the bodies of four requests of the largest size judged,
    /// as many as scenarios run at once by default, for the scenarios that have not yet taken
    /// theirs.
    pub fn new(limits: &Limits, timeout: Duration) -> Self {
        InboundLimits {
            max_body: limits.max_body,
            max_nodes: limits.max_nodes,
            max_parts: limits.max_parts,
            evidence_per_exchange: limits.evidence_per_exchange,
            timeout,
            inbox_bytes: limits.max_body.saturating_mul(4),
        }
    }

    /// `ihe-harness serve`, the reference as a server of its own for any client: an XDS
    /// Repository or MHD Recipient takes documents of up to 64 MiB with up to a million XML
    /// elements or JSON values, sent within two minutes; its inbox, which no scenario reads, holds
    /// the bodies of the last 16 MiB of requests.
    pub fn serving() -> Self {
        InboundLimits {
            max_body: 64 * 1024 * 1024,
            max_nodes: 1_000_000,
            max_parts: crate::config::DEFAULT_MAX_PARTS,
            evidence_per_exchange: crate::config::DEFAULT_EVIDENCE_PER_EXCHANGE,
            timeout: Duration::from_secs(120),
            inbox_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Why a request was refused before it was judged.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// 413 or 408 (or 400 for a body whose transfer broke).
    pub status: StatusCode,
    /// For the inbox and the scenario: kind (`body-too-large`, `timeout`, `read`) and message.
    pub failure: TransportFailure,
    /// What the refusal tells the SUT.
    pub reason: String,
}

/// A request body as the simulator read it.
#[derive(Debug)]
pub struct InboundBody {
    /// The whole body, when it was read whole and within the limits (else empty).
    pub bytes: Bytes,
    /// The body as evidence: the whole body, or for a refused one the head of what arrived with
    /// the size and SHA-256 of what arrived.
    pub evidence: Body,
    /// Set when the request is refused.
    pub refusal: Option<Refusal>,
}

/// Read the body of a request to `method url` within `limits`.
pub async fn read(
    body: axum::body::Body,
    headers: &HeaderMap,
    method: &str,
    url: &str,
    limits: &InboundLimits,
) -> InboundBody {
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let deadline = Instant::now() + limits.timeout;
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    let mut hasher = sha2::Sha256::new();
    let mut size = 0u64;
    // An announced body larger than the limit is refused once the head the evidence keeps has
    // arrived: the rest is not waited for.
    let stop_at = match announced {
        Some(n) if n > limits.max_body => limits.evidence_per_exchange.min(limits.max_body),
        _ => limits.max_body,
    };
    let what = format!("the request body of {method} {url}");
    let refusal = loop {
        if size > stop_at || (size == stop_at && announced.is_some_and(|n| n > stop_at)) {
            break Some(too_large(&what, size, announced, limits));
        }
        match tokio::time::timeout_at(deadline.into(), stream.next()).await {
            Err(_) => {
                break Some(Refusal {
                    status: StatusCode::REQUEST_TIMEOUT,
                    failure: TransportFailure {
                        kind: "timeout".into(),
                        message: format!(
                            "{what} did not arrive whole within {} ms ({size} bytes received)",
                            limits.timeout.as_millis()
                        ),
                    },
                    reason: format!(
                        "the request body did not arrive within {} ms",
                        limits.timeout.as_millis()
                    ),
                })
            }
            Ok(None) => break None,
            Ok(Some(Err(e))) => {
                break Some(Refusal {
                    status: StatusCode::BAD_REQUEST,
                    failure: TransportFailure {
                        kind: "read".into(),
                        message: format!("reading {what} failed after {size} bytes: {e}"),
                    },
                    reason: "the request body could not be read".into(),
                })
            }
            Ok(Some(Ok(chunk))) => {
                hasher.update(&chunk);
                size += chunk.len() as u64;
                // Keep no more than the limit (plus the byte that shows it was passed).
                let room = (stop_at + 1).saturating_sub(buf.len() as u64) as usize;
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
    };
    let sha256 = hex::encode(hasher.finalize());
    if refusal
        .as_ref()
        .is_some_and(|r| r.status != StatusCode::BAD_REQUEST)
    {
        tokio::spawn(linger(stream));
    }
    match refusal {
        None => {
            let bytes = buf.freeze();
            let evidence = Body {
                size,
                sha256,
                kept: bytes.clone(),
                complete: true,
            };
            InboundBody {
                bytes,
                evidence,
                refusal: None,
            }
        }
        Some(r) => {
            let keep = buf.len().min(limits.evidence_per_exchange as usize);
            InboundBody {
                bytes: Bytes::new(),
                evidence: Body {
                    size,
                    sha256,
                    kept: buf.freeze().slice(..keep),
                    complete: false,
                },
                refusal: Some(r),
            }
        }
    }
}

/// How long, and for how many bytes, a refused request's body is still read (and dropped) after
/// the refusal, so that the SUT reads the refusal before the connection closes.
const LINGER: (Duration, u64) = (Duration::from_secs(2), 64 * 1024 * 1024);

/// Read and drop the rest of a refused request's body for at most [`LINGER`]: closing a connection
/// with request bytes unread makes the TCP stack reset it, and a reset can discard the refusal
/// before the client reads it (RFC 9112 §9.6: a server closes in stages, reading on until the
/// client closes or its last response is surely received). The server holds the connection open
/// while the body is read, and closes it when the body ends or is dropped here.
async fn linger(mut stream: axum::body::BodyDataStream) {
    let until = Instant::now() + LINGER.0;
    let mut read = 0u64;
    while read < LINGER.1 {
        match tokio::time::timeout_at(until.into(), stream.next()).await {
            Ok(Some(Ok(chunk))) => read += chunk.len() as u64,
            _ => break,
        }
    }
}

fn too_large(what: &str, got: u64, announced: Option<u64>, limits: &InboundLimits) -> Refusal {
    let announced_text = announced
        .map(|n| format!(" of the {n} its Content-Length announced"))
        .unwrap_or_default();
    Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        failure: TransportFailure {
            kind: BODY_TOO_LARGE.into(),
            message: format!(
                "{what} is larger than the {} bytes the harness reads to judge a request (reading stopped after {got} bytes{announced_text}); raise `[limits] max_body_bytes` in the SUT profile if requests this large are expected",
                limits.max_body
            ),
        },
        reason: format!(
            "the request body is larger than the {} bytes this simulator accepts",
            limits.max_body
        ),
    }
}

/// The refusal of a body read whole that holds more JSON values or XML elements (of the body, or
/// of an XML part of a multipart body) than the harness parses.
pub fn too_many_nodes(
    evidence: &Body,
    multipart: Option<&MultipartSummary>,
    method: &str,
    url: &str,
    limits: &InboundLimits,
) -> Option<Refusal> {
    let (what, nodes, unit) =
        crate::transport::http::too_many_nodes(evidence, multipart, limits.max_nodes)?;
    let what = what.replacen("response", "request", 1);
    Some(Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        failure: TransportFailure {
            kind: BODY_TOO_LARGE.into(),
            message: format!(
                "{what} of {method} {url} holds {nodes} {unit}, more than the {} the harness parses to judge a request; raise `[limits] max_parsed_nodes` in the SUT profile if requests this large are expected",
                limits.max_nodes
            ),
        },
        reason: format!(
            "the request holds more than the {} {unit} this simulator parses",
            limits.max_nodes
        ),
    })
}

/// Trim `body` to the head the evidence keeps, for a request refused after it was read whole.
pub fn excerpt(body: &Body, limits: &InboundLimits) -> Body {
    let keep = body.kept.len().min(limits.evidence_per_exchange as usize);
    Body {
        size: body.size,
        sha256: body.sha256.clone(),
        kept: body.kept.slice(..keep),
        complete: keep == body.kept.len() && body.complete,
    }
}

/// The request a SUT sent to a simulated actor, as evidence (secrets redacted), and the `curl`
/// line that repeats it.
pub(crate) fn recorded_request(
    method: &str,
    url: &str,
    headers: &axum::http::HeaderMap,
    body: crate::evidence::Body,
) -> (crate::evidence::HttpRequest, String) {
    let req_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let q = crate::transport::http::shell_quote;
    let repro = if method == "GET" {
        format!("curl -sS -D - -o response.body {}", q(url))
    } else {
        let ct = crate::evidence::find_header(&req_headers, "content-type").unwrap_or("");
        format!(
            "curl -sS -X {method} -H {} --data-binary @request.body -D - -o response.body {}",
            q(&format!("Content-Type: {ct}")),
            q(url)
        )
    };
    let request = crate::evidence::HttpRequest {
        method: method.to_string(),
        url: url.to_string(),
        headers: crate::evidence::redact::headers(&req_headers),
        body,
    };
    (request, repro)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_body: u64) -> InboundLimits {
        InboundLimits {
            max_body,
            max_nodes: 100,
            max_parts: 100,
            evidence_per_exchange: 16,
            timeout: Duration::from_secs(5),
            inbox_bytes: 0,
        }
    }

    fn headers(len: Option<u64>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(n) = len {
            h.insert(axum::http::header::CONTENT_LENGTH, n.into());
        }
        h
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let b = read(
            axum::body::Body::from("hello"),
            &headers(None),
            "POST",
            "http://x",
            &limits(5),
        )
        .await;
        assert!(b.refusal.is_none());
        assert_eq!(&b.bytes[..], b"hello");
        assert_eq!(b.evidence.size, 5);
        assert!(b.evidence.complete);
        assert_eq!(
            b.evidence.sha256,
            hex::encode(sha2::Sha256::digest(b"hello"))
        );
    }

    #[tokio::test]
    async fn an_endless_body_is_refused_at_the_limit_with_its_head_kept() {
        let endless = futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from_static(&[b'x'; 1000]))
        });
        let b = read(
            axum::body::Body::from_stream(endless),
            &headers(None),
            "POST",
            "http://x/xds/registry",
            &limits(10_000),
        )
        .await;
        let r = b.refusal.expect("refused");
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.failure.kind, BODY_TOO_LARGE);
        assert!(
            r.failure.message.contains("max_body_bytes"),
            "{}",
            r.failure.message
        );
        assert!(r.failure.message.contains("http://x/xds/registry"));
        assert_eq!(b.evidence.size, 11_000);
        assert_eq!(b.evidence.kept.len(), 16);
        assert!(!b.evidence.complete);
        assert!(b.bytes.is_empty());
    }

    #[tokio::test]
    async fn an_announced_oversized_body_is_refused_after_its_head() {
        let endless = futures_util::stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from_static(b"0123456789"))
        });
        let b = read(
            axum::body::Body::from_stream(endless),
            &headers(Some(1 << 30)),
            "POST",
            "http://x",
            &limits(10_000),
        )
        .await;
        let r = b.refusal.expect("refused");
        assert!(r.failure.message.contains("Content-Length announced"));
        assert_eq!(b.evidence.size, 20, "stops once the evidence head is in");
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_is_refused_at_the_timeout() {
        let slow = futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from("a")) })
            .chain(futures_util::stream::pending());
        let mut l = limits(10_000);
        l.timeout = Duration::from_millis(200);
        let t0 = Instant::now();
        let b = read(
            axum::body::Body::from_stream(slow),
            &headers(None),
            "POST",
            "http://x",
            &l,
        )
        .await;
        assert!(t0.elapsed() < Duration::from_secs(2));
        let r = b.refusal.expect("refused");
        assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(r.failure.kind, "timeout");
        assert_eq!(b.evidence.size, 1);
    }

    #[test]
    fn a_body_with_too_many_nodes_is_refused() {
        let json = format!("[{}1]", "1,".repeat(200));
        let body = Body::from_bytes(Bytes::from(json));
        let r = too_many_nodes(&body, None, "POST", "http://x/fhir", &limits(1 << 20))
            .expect("refused");
        assert_eq!(r.failure.kind, BODY_TOO_LARGE);
        assert!(
            r.failure
                .message
                .starts_with("the request body of POST http://x/fhir"),
            "{}",
            r.failure.message
        );
        assert!(r.failure.message.contains("max_parsed_nodes"));
        let small = Body::from_bytes(Bytes::from_static(b"[1,2]"));
        assert!(too_many_nodes(&small, None, "POST", "http://x", &limits(1 << 20)).is_none());
    }
}

#[cfg(test)]
mod linger_tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::InboundLimits;
    use crate::reference::tests::fixtures_dir;
    use crate::reference::{ReferenceOptions, ReferenceServer};

    /// A client still sending a refused request can read the refusal: the simulator reads on (and
    /// drops) what comes after it instead of closing with request bytes unread, which resets the
    /// connection under a client that is still writing.
    #[tokio::test]
    async fn a_client_still_sending_reads_the_refusal() {
        let limits = InboundLimits {
            max_body: 64 * 1024,
            max_nodes: 1000,
            max_parts: 100,
            evidence_per_exchange: 1024,
            timeout: Duration::from_secs(10),
            inbox_bytes: 1024 * 1024,
        };
        let server = ReferenceServer::start(
            ReferenceOptions::new(fixtures_dir()).with_inbound_limits(limits),
        )
        .await
        .unwrap();
        let addr = server
            .fhir_base()
            .trim_start_matches("http://")
            .trim_end_matches("/fhir")
            .to_string();
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /fhir HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/fhir+json\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
        // Past the limit, then on for a while after the refusal, as a client that does not read
        // while it sends.
        for _ in 0..8 {
            let _ = tcp.write_all(chunk.as_bytes()).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // A client that meets a reset while sending gives up before it reads (curl does).
        let mut sent = 0;
        for _ in 0..8 {
            if tcp.write_all(chunk.as_bytes()).await.is_ok() {
                sent += 1;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            sent, 8,
            "the connection was reset while the client was still sending"
        );
        let mut answer = vec![0u8; 64];
        let n = tcp.read(&mut answer).await.unwrap_or(0);
        let answer = String::from_utf8_lossy(&answer[..n]).to_string();
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
        server.shutdown().await;
    }
}
