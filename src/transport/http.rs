//! HTTP client glue: send one request to the SUT, stream the answer, and record it as an [`Exchange`].
//!
//! The body is never held whole unless it is small: it is hashed as it streams, the first bytes are
//! kept up to a limit, and a multipart/related body (RFC 2046 §5.1.1, DICOM PS3.18 §8.7.3.5) is fed
//! through the streaming parser so that each part is summarised (size, SHA-256, the DICOM header it
//! starts with) without being stored. Every wait is bounded: the time to headers and each silence
//! between body chunks by the read timeout, the whole exchange by the total timeout. A failure of the
//! network or of the harness ends up in [`Exchange::failure`], which the report calls an Error, never
//! a Fail.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;

use crate::config::{Auth, Timeouts};
use crate::evidence::{
    redact, Body, Direction, Exchange, HttpRequest, HttpResponse, MultipartSummary, PartSummary,
    TransportFailure,
};
use crate::model::dicom_part;
use crate::transport::media_type::MediaType;
use crate::transport::multipart::{boundary_of, MultipartEvent, MultipartParser};

/// How many bytes of a non-multipart body are kept for checks (QIDO results, metadata).
pub const KEEP_LIMIT: usize = 32 * 1024 * 1024;
/// How many bytes of a multipart body are kept as an excerpt.
pub const MULTIPART_EXCERPT: usize = 16 * 1024;
/// How many bytes of each part are kept to read the DICOM header from.
pub const PART_HEAD: usize = 64 * 1024;

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// What the exchange is, for the evidence record.
#[derive(Debug, Clone)]
pub struct Meta {
    /// IHE transaction.
    pub transaction: &'static str,
    /// Operation name.
    pub operation: String,
    /// Actor the harness plays.
    pub actor: &'static str,
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: reqwest::Method,
    /// Full URL.
    pub url: String,
    /// Headers (besides authentication, which the client adds).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

impl Request {
    /// A GET with an Accept header (omitted when `accept` is None).
    pub fn get(url: impl Into<String>, accept: Option<&str>) -> Request {
        Request {
            method: reqwest::Method::GET,
            url: url.into(),
            headers: accept
                .map(|a| vec![("Accept".to_string(), a.to_string())])
                .unwrap_or_default(),
            body: Bytes::new(),
        }
    }
}

/// An HTTP client bound to one SUT endpoint's authentication and timeouts.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    auth: Auth,
    timeouts: Timeouts,
}

impl HttpClient {
    /// Build a client.
    pub fn new(auth: Auth, timeouts: Timeouts) -> Result<HttpClient, HttpError> {
        crate::transport::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ihe-harness/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(HttpClient {
            client,
            auth,
            timeouts,
        })
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Send the request and record the whole exchange; never fails, failures are recorded in it.
    pub async fn exchange(&self, meta: Meta, req: Request) -> Exchange {
        self.exchange_with(meta, req, &mut |_| {}).await
    }

    /// As [`exchange`](Self::exchange), handing every body chunk to `sink` as it arrives.
    pub async fn exchange_with(
        &self,
        meta: Meta,
        req: Request,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Exchange {
        let started_at = now_rfc3339();
        let t0 = Instant::now();
        let deadline = t0 + self.timeouts.total;
        let mut headers = req.headers.clone();
        let mut builder = self.client.request(req.method.clone(), &req.url);
        for (n, v) in &req.headers {
            builder = builder.header(n, v);
        }
        match &self.auth {
            Auth::None => {}
            Auth::Basic {
                username, password, ..
            } => {
                builder = builder.basic_auth(username, Some(password));
                headers.push(("Authorization".into(), "Basic <redacted>".into()));
            }
            Auth::Bearer { token, .. } => {
                builder = builder.bearer_auth(token);
                headers.push(("Authorization".into(), "Bearer <redacted>".into()));
            }
        }
        if !req.body.is_empty() {
            builder = builder.body(req.body.clone());
        }
        let request = HttpRequest {
            method: req.method.to_string(),
            url: req.url.clone(),
            headers: redact::headers(&headers),
            body: request_body(&req.body),
        };
        let repro = curl_line(&req, &self.auth);
        let mut exchange = Exchange {
            seq: 0,
            transaction: meta.transaction.to_string(),
            operation: meta.operation,
            actor: meta.actor.to_string(),
            direction: Direction::Outbound,
            started_at,
            time_to_headers: None,
            elapsed: Duration::ZERO,
            request,
            response: None,
            multipart: None,
            failure: None,
            repro,
        };
        let wait = self.timeouts.read.min(self.timeouts.total);
        let response = match tokio::time::timeout(wait, builder.send()).await {
            Err(_) => {
                exchange.failure = Some(TransportFailure {
                    kind: "timeout".into(),
                    message: format!(
                        "no response headers within {} ms from {}",
                        wait.as_millis(),
                        req.url
                    ),
                });
                exchange.elapsed = t0.elapsed();
                return exchange;
            }
            Ok(Err(e)) => {
                let kind = if e.is_connect() {
                    "connect"
                } else if e.is_timeout() {
                    "timeout"
                } else {
                    "request"
                };
                exchange.failure = Some(TransportFailure {
                    kind: kind.into(),
                    message: format!("{} {}: {}", req.method, req.url, error_chain(&e)),
                });
                exchange.elapsed = t0.elapsed();
                return exchange;
            }
            Ok(Ok(r)) => r,
        };
        exchange.time_to_headers = Some(t0.elapsed());
        let status = response.status().as_u16();
        let resp_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let content_type =
            crate::evidence::find_header(&resp_headers, "content-type").map(str::to_string);
        let mut collector = BodyCollector::new(content_type.as_deref());
        let mut stream = response.bytes_stream();
        loop {
            let now = Instant::now();
            if now >= deadline {
                exchange.failure = Some(TransportFailure {
                    kind: "timeout".into(),
                    message: format!(
                        "body of {} not complete within the total timeout of {} ms ({} bytes received)",
                        req.url,
                        self.timeouts.total.as_millis(),
                        collector.size
                    ),
                });
                break;
            }
            let wait = self.timeouts.read.min(deadline - now);
            match tokio::time::timeout(wait, stream.next()).await {
                Err(_) => {
                    exchange.failure = Some(TransportFailure {
                        kind: "timeout".into(),
                        message: format!(
                            "the SUT stopped sending: no body bytes for {} ms from {} ({} bytes received)",
                            wait.as_millis(),
                            req.url,
                            collector.size
                        ),
                    });
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    exchange.failure = Some(TransportFailure {
                        kind: "read".into(),
                        message: format!(
                            "reading the body of {} failed after {} bytes: {}",
                            req.url,
                            collector.size,
                            error_chain(&e)
                        ),
                    });
                    break;
                }
                Ok(Some(Ok(chunk))) => {
                    sink(&chunk);
                    collector.feed_bytes(chunk);
                }
            }
        }
        let (body, multipart) = collector.finish(exchange.failure.is_none());
        exchange.response = Some(HttpResponse {
            status,
            headers: resp_headers,
            body,
        });
        exchange.multipart = multipart;
        exchange.elapsed = t0.elapsed();
        exchange
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

fn request_body(body: &Bytes) -> Body {
    let mut b = Body::from_bytes(body.clone());
    if b.kept.len() > MULTIPART_EXCERPT * 64 {
        b.kept = b.kept.slice(..MULTIPART_EXCERPT * 64);
        b.complete = false;
    }
    b
}

/// Streams a body: hashes it, keeps its head, and summarises multipart parts as they pass.
pub struct BodyCollector {
    size: u64,
    hasher: BodyHasher,
    kept: Vec<u8>,
    keep_limit: usize,
    multipart: Option<MultipartState>,
}

struct MultipartState {
    parser: MultipartParser,
    summary: MultipartSummary,
    current: Option<(Sha256, Vec<u8>)>,
    events: Vec<MultipartEvent>,
    failed: bool,
}

impl BodyCollector {
    /// A collector for a body of the given Content-Type.
    pub fn new(content_type: Option<&str>) -> BodyCollector {
        let media = content_type.and_then(|ct| MediaType::parse(ct).ok());
        let multipart = media
            .as_ref()
            .filter(|m| m.essence.starts_with("multipart/"))
            .map(|m| {
                let boundary = boundary_of(m).map(str::to_string);
                let summary = MultipartSummary {
                    boundary: boundary.clone(),
                    error: boundary
                        .is_none()
                        .then(|| "the Content-Type has no boundary parameter".to_string()),
                    ..Default::default()
                };
                MultipartState {
                    parser: MultipartParser::new(boundary.as_deref().unwrap_or("")),
                    failed: boundary.is_none(),
                    summary,
                    current: None,
                    events: Vec::new(),
                }
            });
        let keep_limit = if multipart.is_some() {
            MULTIPART_EXCERPT
        } else {
            KEEP_LIMIT
        };
        BodyCollector {
            size: 0,
            hasher: BodyHasher::new(),
            kept: Vec::new(),
            keep_limit,
            multipart,
        }
    }

    /// Feed the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.feed_bytes(Bytes::copy_from_slice(chunk));
    }

    /// Feed the next chunk without copying it.
    pub fn feed_bytes(&mut self, chunk: Bytes) {
        self.size += chunk.len() as u64;
        self.hasher.update(chunk.clone());
        let chunk = &chunk[..];
        if self.kept.len() < self.keep_limit {
            let take = (self.keep_limit - self.kept.len()).min(chunk.len());
            self.kept.extend_from_slice(&chunk[..take]);
        }
        if let Some(mp) = &mut self.multipart {
            if mp.failed {
                return;
            }
            mp.events.clear();
            let result = mp.parser.feed(chunk, &mut mp.events);
            mp.apply_events();
            if let Err(e) = result {
                mp.summary.error = Some(e.to_string());
                mp.failed = true;
            }
        }
    }

    /// End of body. `clean_eof` is false when the transfer was cut by an error or a timeout.
    pub fn finish(mut self, clean_eof: bool) -> (Body, Option<MultipartSummary>) {
        let multipart = self.multipart.take().map(|mut mp| {
            if !mp.failed {
                mp.events.clear();
                let result = mp.parser.finish(&mut mp.events);
                mp.apply_events();
                if let Err(e) = result {
                    mp.summary.error = Some(if clean_eof {
                        e.to_string()
                    } else {
                        format!("{e} (transfer interrupted)")
                    });
                }
            }
            mp.summary.closed = mp.parser.closed();
            mp.summary
        });
        let complete = self.kept.len() as u64 == self.size;
        let body = Body {
            size: self.size,
            sha256: self.hasher.finalize(),
            kept: Bytes::from(self.kept),
            complete,
        };
        (body, multipart)
    }
}

/// Incremental SHA-256 (ring's implementation, which uses the CPU's SHA extensions where present:
/// about twice the throughput of a portable one, which matters for multi-gigabyte studies).
#[derive(Clone)]
pub struct Sha256(ring::digest::Context);

impl Sha256 {
    /// A fresh digest.
    pub fn new() -> Self {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }

    /// Add bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Lower-case hex of the digest.
    pub fn finish_hex(self) -> String {
        hex::encode(self.0.finish().as_ref())
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

/// SHA-256 of a whole body, computed on a thread of its own once the body is larger than a few
/// chunks, so that hashing a multi-gigabyte study overlaps with receiving and parsing it (the
/// per-part digests are computed on the receiving side). The channel is bounded: a slow hasher slows
/// the transfer down instead of buffering the body.
enum BodyHasher {
    Inline(Sha256, usize),
    Worker(
        std::sync::mpsc::SyncSender<Vec<u8>>,
        std::thread::JoinHandle<String>,
        Vec<u8>,
    ),
    Poisoned,
}

/// Bytes handed to the hashing thread at once.
const HASH_BATCH: usize = 1024 * 1024;

/// Bytes hashed inline before the work moves to a thread of its own.
const INLINE_HASH_LIMIT: usize = 4 * 1024 * 1024;

impl BodyHasher {
    fn new() -> Self {
        BodyHasher::Inline(Sha256::new(), 0)
    }

    fn update(&mut self, chunk: Bytes) {
        match self {
            BodyHasher::Inline(h, n) => {
                h.update(&chunk);
                *n += chunk.len();
                if *n > INLINE_HASH_LIMIT {
                    let h = std::mem::take(h);
                    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
                    let spawned = std::thread::Builder::new()
                        .name("body-sha256".into())
                        .spawn(move || {
                            let mut h = h;
                            for c in rx {
                                h.update(&c);
                            }
                            h.finish_hex()
                        });
                    *self = match spawned {
                        Ok(handle) => {
                            BodyHasher::Worker(tx, handle, Vec::with_capacity(HASH_BATCH))
                        }
                        Err(_) => BodyHasher::Poisoned,
                    };
                }
            }
            BodyHasher::Worker(tx, _, batch) => {
                // Hand over about a megabyte at a time: one wake-up of the hashing thread per
                // batch instead of one per network read.
                batch.extend_from_slice(&chunk);
                if batch.len() >= HASH_BATCH {
                    let full = std::mem::replace(batch, Vec::with_capacity(HASH_BATCH));
                    if tx.send(full).is_err() {
                        *self = BodyHasher::Poisoned;
                    }
                }
            }
            BodyHasher::Poisoned => {}
        }
    }

    fn finalize(self) -> String {
        match self {
            BodyHasher::Inline(h, _) => h.finish_hex(),
            BodyHasher::Worker(tx, handle, batch) => {
                if !batch.is_empty() && tx.send(batch).is_err() {
                    return "unavailable".to_string();
                }
                drop(tx);
                handle.join().unwrap_or_default()
            }
            // A thread could not be started: say so rather than give a wrong digest.
            BodyHasher::Poisoned => "unavailable".to_string(),
        }
    }
}

impl MultipartState {
    fn apply_events(&mut self) {
        for ev in self.events.drain(..) {
            match ev {
                MultipartEvent::PartStart { headers } => {
                    self.summary.parts.push(PartSummary {
                        headers,
                        ..Default::default()
                    });
                    self.current = Some((Sha256::new(), Vec::new()));
                }
                MultipartEvent::PartData(data) => {
                    if let (Some((h, head)), Some(part)) =
                        (&mut self.current, self.summary.parts.last_mut())
                    {
                        h.update(&data);
                        part.size += data.len() as u64;
                        if head.len() < PART_HEAD {
                            let take = (PART_HEAD - head.len()).min(data.len());
                            head.extend_from_slice(&data[..take]);
                        }
                    }
                }
                MultipartEvent::PartEnd => {
                    if let (Some((h, head)), Some(part)) =
                        (self.current.take(), self.summary.parts.last_mut())
                    {
                        part.sha256 = h.finish_hex();
                        finish_part(part, &head);
                    }
                }
            }
        }
    }
}

fn finish_part(part: &mut PartSummary, head: &[u8]) {
    let is_dicom_type = part
        .content_type()
        .and_then(|ct| MediaType::parse(ct).ok())
        .map(|m| m.essence == "application/dicom")
        .unwrap_or(true);
    if !is_dicom_type {
        return;
    }
    match dicom_part::sniff(head) {
        Ok(h) => part.dicom = Some(h),
        Err(e) => part.not_dicom = Some(format!("{e:?}")),
    }
}

/// Summarise a whole multipart body held in memory (recorded messages and unit tests).
pub fn summarize_multipart(content_type: &str, body: &[u8]) -> Option<MultipartSummary> {
    let mut c = BodyCollector::new(Some(content_type));
    c.multipart.as_ref()?;
    for chunk in body.chunks(8192) {
        c.feed(chunk);
    }
    c.finish(true).1
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A curl command that repeats the request; secrets become environment variable references.
pub fn curl_line(req: &Request, auth: &Auth) -> String {
    let mut line = String::from("curl -sS");
    if req.method != reqwest::Method::GET {
        line.push_str(&format!(" -X {}", req.method));
    }
    for (n, v) in &req.headers {
        line.push_str(&format!(" -H {}", shell_quote(&format!("{n}: {v}"))));
    }
    match auth {
        Auth::None => {}
        Auth::Basic {
            username,
            password_env,
            ..
        } => {
            let var = password_env.as_deref().unwrap_or("SUT_PASSWORD");
            line.push_str(&format!(
                " -u \"{}:${{{var}}}\"",
                username.replace('"', "\\\"")
            ));
        }
        Auth::Bearer { token_env, .. } => {
            line.push_str(&format!(" -H \"Authorization: Bearer ${{{token_env}}}\""));
        }
    }
    if !req.body.is_empty() {
        line.push_str(" --data-binary @request.body");
    }
    line.push_str(" -D - -o response.body ");
    line.push_str(&shell_quote(&req.url));
    line
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_line_hides_secrets() {
        let req = Request::get("http://h/dicom-web/studies", Some("application/dicom+json"));
        let auth = Auth::Basic {
            username: "alice".into(),
            password: "s3cret".into(),
            password_env: Some("PW".into()),
        };
        let line = curl_line(&req, &auth);
        assert!(!line.contains("s3cret"));
        assert_eq!(
            line,
            "curl -sS -H 'Accept: application/dicom+json' -u \"alice:${PW}\" -D - -o response.body 'http://h/dicom-web/studies'"
        );
    }

    #[test]
    fn collector_summarises_parts_and_keeps_excerpt_only() {
        let mut body = Vec::new();
        for i in 0..3u8 {
            body.extend_from_slice(b"--xyz\r\nContent-Type: application/octet-stream\r\n\r\n");
            body.extend(std::iter::repeat_n(i, 100_000));
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--xyz--\r\n");
        let mut c = BodyCollector::new(Some(
            "multipart/related; type=\"application/octet-stream\"; boundary=xyz",
        ));
        for chunk in body.chunks(777) {
            c.feed(chunk);
        }
        let (b, mp) = c.finish(true);
        let mp = mp.unwrap();
        assert_eq!(mp.parts.len(), 3);
        assert!(mp.closed);
        assert!(mp.error.is_none());
        assert_eq!(mp.parts[1].size, 100_000);
        assert_eq!(b.size, body.len() as u64);
        assert!(!b.complete);
        assert_eq!(b.kept.len(), MULTIPART_EXCERPT);
    }

    #[test]
    fn truncated_multipart_is_reported() {
        let body = b"--xyz\r\nContent-Type: application/octet-stream\r\n\r\nabc";
        let mp = summarize_multipart(
            "multipart/related; type=\"application/octet-stream\"; boundary=xyz",
            body,
        )
        .unwrap();
        assert!(!mp.closed);
        assert!(mp.error.is_some());
    }
}
