//! HTTP client glue: send one request to the SUT, stream the answer, and record it as an [`Exchange`].
//!
//! The body is never held whole unless it is small: it is hashed as it streams, the first bytes are
//! kept up to a limit, and a multipart/related body (RFC 2046 §5.1.1, DICOM PS3.18 §8.7.3.5) is fed
//! through the streaming parser so that each part is summarised (size, SHA-256, the DICOM header it
//! starts with) without being stored. Every wait is bounded: the time to headers and each silence
//! between body chunks by the read timeout, the whole exchange by the total timeout. Every body the
//! harness judges (all but a multipart body's binary parts) is read up to the limit of
//! `[limits] max_body_bytes` and no further: past it the transfer is stopped and the exchange ends
//! with [`BODY_TOO_LARGE`], a Fail of BODY-01, so that an endless answer costs neither memory nor
//! more time than it takes to send the limit.
//!
//! A failure of the network or of the harness ends up in [`Exchange::failure`], which the report
//! calls an Error, never a Fail; the two kinds that are the SUT's doing are told apart:
//! [`PEER_CLOSED`] (the server closed or reset the connection after the whole request was sent,
//! before its response was complete: RFC 9112 §8, §9.6) and [`BODY_TOO_LARGE`]. Every request is
//! sent with `Connection: close`, on a connection of its own: a server then MUST NOT close before it
//! has sent the final response to it (RFC 9112 §9.6), and a close cannot be the benign race of a
//! server dropping an idle kept-alive connection just as a request was sent on it (RFC 9112 §9.5).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;

pub use crate::checks::peer::{BODY_TOO_LARGE, PEER_CLOSED};
use crate::config::{Auth, Limits, Timeouts, DEFAULT_MAX_BODY};
use crate::evidence::{
    redact, Body, Direction, Exchange, HttpRequest, HttpResponse, MultipartSummary, PartSummary,
    TransportFailure,
};
use crate::model::dicom_part;
use crate::transaction::Transaction;
use crate::transport::digest::{DigestPipe, Sha256};
use crate::transport::media_type::MediaType;
use crate::transport::multipart::{boundary_of, MultipartEvent, MultipartParser};

/// How many bytes of a multipart body are kept as an excerpt.
pub const MULTIPART_EXCERPT: usize = 16 * 1024;
/// How many bytes of each part are kept to read the DICOM header from.
pub const PART_HEAD: usize = 64 * 1024;
/// Structured documents (KOS manifests, SR: SOP classes 1.2.840.10008.5.1.4.1.1.88.*) up to this
/// size (or the body limit, if smaller) are kept whole, so that their content can be judged.
pub const DOCUMENT_KEEP: usize = 4 * 1024 * 1024;
const SR_SOP_CLASS_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.88.";

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    /// The profile's TLS files could not be used.
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsError),
}

/// What the exchange is, for the evidence record.
#[derive(Debug, Clone)]
pub struct Meta {
    /// IHE transaction.
    pub transaction: Transaction,
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
    max_body: u64,
    max_nodes: u64,
    max_parts: u64,
    tls_repro: String,
}

impl HttpClient {
    /// Build a client with the default limits (see [`crate::transport::factory::http_client`],
    /// which builds every client of the harness).
    pub fn new(auth: Auth, timeouts: Timeouts) -> Result<HttpClient, HttpError> {
        crate::transport::factory::http_client(&crate::transport::factory::HttpSettings::new(
            auth, timeouts,
        ))
    }

    /// A client over a reqwest client the factory built.
    pub(crate) fn from_parts(
        client: reqwest::Client,
        auth: Auth,
        timeouts: Timeouts,
        limits: &Limits,
    ) -> HttpClient {
        HttpClient {
            client,
            auth,
            timeouts,
            max_body: limits.max_body,
            max_nodes: limits.max_nodes,
            max_parts: limits.max_parts,
            tls_repro: String::new(),
        }
    }

    /// The curl options that repeat the client's TLS side in reproduction commands.
    pub(crate) fn with_tls_repro(mut self, options: String) -> HttpClient {
        self.tls_repro = options;
        self
    }

    /// The same client with the profile's limits on what it reads to judge: at most
    /// `max_body` bytes of a body, at most `max_nodes` JSON values or XML elements in it, at most
    /// `max_parts` parts of a multipart body.
    pub fn with_limits(mut self, limits: &Limits) -> HttpClient {
        self.max_body = limits.max_body;
        self.max_nodes = limits.max_nodes;
        self.max_parts = limits.max_parts;
        self
    }

    /// The timeouts in force.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The largest body read to be judged.
    pub fn max_body(&self) -> u64 {
        self.max_body
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
        self.exchange_inner(meta, req, None, sink).await
    }

    /// As [`exchange`](Self::exchange), with `body` as the request body (`req.body` is not
    /// sent): read from disk while it goes out, never held whole. The evidence keeps its size
    /// and SHA-256 (digested as it was read), not its bytes; the reproduction command rebuilds it
    /// from the same files ([`FileBody::shell_builder`]).
    pub async fn exchange_streamed(&self, meta: Meta, req: Request, body: FileBody) -> Exchange {
        self.exchange_inner(meta, req, Some(body), &mut |_| {})
            .await
    }

    async fn exchange_inner(
        &self,
        meta: Meta,
        req: Request,
        file_body: Option<FileBody>,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Exchange {
        let started_at = crate::evidence::now_rfc3339();
        let t0 = Instant::now();
        let deadline = t0 + self.timeouts.total;
        let mut headers = req.headers.clone();
        let mut builder = self.client.request(req.method.clone(), &req.url);
        for (n, v) in &req.headers {
            builder = builder.header(n, v);
        }
        if !req
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
        {
            // HTTP/2 has no Connection header (RFC 9113 §8.2.2): hyper leaves it out there.
            builder = builder.header("Connection", "close");
            headers.push(("Connection".into(), "close".into()));
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
        // Whether the whole request went out: a close before that is not a closed peer (the server
        // may refuse a request it has not read, RFC 9110 §15.5.14), only a close after it.
        let has_body = file_body.is_some() || !req.body.is_empty();
        let body_sent = Arc::new(AtomicBool::new(!has_body));
        let mut digest = None;
        let recorded_body = match &file_body {
            Some(fb) => {
                let (tx, rx) = tokio::sync::mpsc::channel(FILE_BODY_CHUNKS);
                digest = Some(tokio::task::spawn_blocking({
                    let fb = fb.clone();
                    move || fb.feed(&tx)
                }));
                builder = builder.body(reqwest::Body::wrap(StreamedBody {
                    rx,
                    remaining: fb.len,
                    sent: body_sent.clone(),
                }));
                Body {
                    size: fb.len,
                    sha256: String::new(),
                    kept: Bytes::new(),
                    complete: fb.len == 0,
                }
            }
            None => {
                if !req.body.is_empty() {
                    builder = builder.body(reqwest::Body::wrap(SentBody {
                        data: req.body.clone(),
                        pos: 0,
                        sent: body_sent.clone(),
                    }));
                }
                request_body(&req.body)
            }
        };
        let request = HttpRequest {
            method: req.method.to_string(),
            url: req.url.clone(),
            headers: redact::headers(&headers),
            body: recorded_body,
        };
        let mut repro = curl_line_with(&req, &self.auth, has_body).replacen(
            "curl -sS",
            &format!("curl -sS{}", self.tls_repro),
            1,
        );
        if let Some(fb) = &file_body {
            repro = format!("{} && {repro}", fb.shell_builder());
        }
        let mut exchange = Exchange {
            seq: 0,
            transaction: meta.transaction,
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
            dimse: None,
            tls: None,
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
                let tls_cause = crate::transport::tls::cause_in_chain(&e);
                let (kind, message) = if let Some(cause) = tls_cause {
                    exchange.tls = Some(crate::transport::tls::TlsRecord {
                        failure: Some(cause.clone()),
                        ..Default::default()
                    });
                    (
                        "tls",
                        format!(
                            "{} {}: the TLS handshake failed: {cause}",
                            req.method, req.url
                        ),
                    )
                } else if e.is_connect() {
                    (
                        "connect",
                        format!("{} {}: {}", req.method, req.url, error_chain(&e)),
                    )
                } else if e.is_timeout() {
                    (
                        "timeout",
                        format!("{} {}: {}", req.method, req.url, error_chain(&e)),
                    )
                } else if body_sent.load(Ordering::Acquire) && closed_after_request(&e) {
                    (
                        PEER_CLOSED,
                        format!(
                            "the server closed the connection after the whole request {} {} was sent, without a response ({})",
                            req.method,
                            req.url,
                            error_chain(&e)
                        ),
                    )
                } else {
                    (
                        "request",
                        format!("{} {}: {}", req.method, req.url, error_chain(&e)),
                    )
                };
                exchange.failure = Some(TransportFailure {
                    kind: kind.into(),
                    message,
                });
                exchange.elapsed = t0.elapsed();
                return exchange;
            }
            Ok(Ok(r)) => r,
        };
        exchange.time_to_headers = Some(t0.elapsed());
        if let Some(info) = response.extensions().get::<reqwest::tls::TlsInfo>() {
            exchange.tls = Some(crate::transport::tls::TlsRecord {
                version: info.version().map(tls_version_name),
                peer_certificates: info
                    .peer_certificate()
                    .map(|c| vec![crate::transport::tls::certs::summarize(c)])
                    .unwrap_or_default(),
                ..Default::default()
            });
        }
        let status = response.status().as_u16();
        // A session cookie the SUT sets is as secret as the credentials the harness sends.
        let resp_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    redact::header_value(n.as_str(), &String::from_utf8_lossy(v.as_bytes())),
                )
            })
            .collect();
        let content_type =
            crate::evidence::find_header(&resp_headers, "content-type").map(str::to_string);
        let announced = response.content_length();
        let mut collector = BodyCollector::new(content_type.as_deref())
            .with_max_body(self.max_body)
            .with_max_parts(self.max_parts);
        if let Some(len) = announced {
            collector.expect_len(len);
        }
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
                    let cut = body_cut_short(&e);
                    exchange.failure = Some(TransportFailure {
                        kind: if cut { PEER_CLOSED } else { "read" }.into(),
                        message: if cut {
                            format!(
                                "the server closed the connection before its response to {} {} was complete: {} bytes of the body received{} ({})",
                                req.method,
                                req.url,
                                collector.size,
                                announced
                                    .map(|n| format!(" of the {n} its Content-Length announced"))
                                    .unwrap_or_default(),
                                error_chain(&e)
                            )
                        } else {
                            format!(
                                "reading the body of {} failed after {} bytes: {}",
                                req.url,
                                collector.size,
                                error_chain(&e)
                            )
                        },
                    });
                    break;
                }
                Ok(Some(Ok(chunk))) => {
                    sink(&chunk);
                    collector.feed_bytes(chunk);
                    let over = if collector.over_parts() {
                        Some(format!(
                            "the multipart body of {url} holds more than the {max} parts the harness reads of one answer (reading stopped after {got} bytes); raise `[limits] max_parts` in the SUT profile if answers this large are expected",
                            url = req.url,
                            got = collector.size,
                            max = self.max_parts,
                        ))
                    } else {
                        collector.over_limit().map(|what| format!(
                            "{what} of {url} is larger than the {max} bytes the harness reads to judge an answer (reading stopped after {got} bytes{announced}); raise `[limits] max_body_bytes` in the SUT profile if answers this large are expected",
                            url = req.url,
                            got = collector.size,
                            announced = announced
                                .map(|n| format!(" of the {n} its Content-Length announced"))
                                .unwrap_or_default(),
                            max = self.max_body,
                        ))
                    };
                    if let Some(message) = over {
                        exchange.failure = Some(TransportFailure {
                            kind: BODY_TOO_LARGE.into(),
                            message,
                        });
                        break;
                    }
                }
            }
        }
        let (body, multipart) = collector.finish(exchange.failure.is_none());
        if exchange.failure.is_none() {
            if let Some((what, nodes, unit)) =
                too_many_nodes(&body, multipart.as_ref(), self.max_nodes)
            {
                exchange.failure = Some(TransportFailure {
                    kind: BODY_TOO_LARGE.into(),
                    message: format!(
                        "{what} of {} holds {nodes} {unit}, more than the {} the harness parses to judge an answer; raise `[limits] max_parsed_nodes` in the SUT profile if answers this large are expected",
                        req.url, self.max_nodes
                    ),
                });
            }
        }
        exchange.response = Some(HttpResponse {
            status,
            headers: resp_headers,
            body,
        });
        exchange.multipart = multipart;
        exchange.elapsed = t0.elapsed();
        if let Some(d) = digest {
            // Read whole, the body's digest is known: the server answered after taking it all
            // (an early answer leaves the reader stopped, and the digest unknown).
            if body_sent.load(Ordering::Acquire) {
                if let Ok(Some(sha)) = d.await {
                    exchange.request.body.sha256 = sha;
                }
            }
        }
        exchange
    }
}

/// A request body handed to hyper in slices, saying when its last byte has been taken: until then
/// the request was not sent whole. Its exact size makes hyper send it with a Content-Length, as a
/// body of bytes would be.
struct SentBody {
    data: Bytes,
    pos: usize,
    sent: Arc<AtomicBool>,
}

/// Slices of a request body handed over at a time.
const SEND_SLICE: usize = 64 * 1024;

impl http_body::Body for SentBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.pos >= this.data.len() {
            this.sent.store(true, Ordering::Release);
            return std::task::Poll::Ready(None);
        }
        let end = (this.pos + SEND_SLICE).min(this.data.len());
        let slice = this.data.slice(this.pos..end);
        this.pos = end;
        if end == this.data.len() {
            this.sent.store(true, Ordering::Release);
        }
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact((self.data.len() - self.pos) as u64)
    }
}

/// Chunks of a [`FileBody`] read ahead of the connection: with [`FILE_BODY_CHUNK`], the most
/// bytes of a streamed request held in memory at once.
const FILE_BODY_CHUNKS: usize = 4;
/// The bytes of a file read at a time for a [`FileBody`].
const FILE_BODY_CHUNK: usize = 256 * 1024;

/// A request body read from disk as it is sent: byte segments (multipart boundaries and part
/// headers) and whole files, whose total size is known before the request starts, so that it goes
/// with a Content-Length. A file that changed size since it was added fails the request (an
/// Error of the harness, not of the SUT).
#[derive(Debug, Clone, Default)]
pub struct FileBody {
    segments: Vec<Segment>,
    len: u64,
}

#[derive(Debug, Clone)]
enum Segment {
    Bytes(Bytes),
    File { path: std::path::PathBuf, len: u64 },
}

impl FileBody {
    /// An empty body.
    pub fn new() -> FileBody {
        FileBody::default()
    }

    /// Append bytes.
    pub fn push_bytes(&mut self, b: impl Into<Bytes>) {
        let b = b.into();
        self.len += b.len() as u64;
        self.segments.push(Segment::Bytes(b));
    }

    /// Append the whole of the file at `path`, as long as it is now.
    pub fn push_file(&mut self, path: &std::path::Path) -> std::io::Result<()> {
        let len = std::fs::metadata(path)?.len();
        self.len += len;
        self.segments.push(Segment::File {
            path: path.to_path_buf(),
            len,
        });
        Ok(())
    }

    /// The body's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when it has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A shell command that writes the same bytes to `request.body` (for reproduction commands):
    /// `printf` for the byte segments, `cat` for the files.
    pub fn shell_builder(&self) -> String {
        let mut parts = Vec::new();
        for seg in &self.segments {
            match seg {
                Segment::Bytes(b) => {
                    let mut f = String::new();
                    for &c in b.iter() {
                        match c {
                            b'\r' => f.push_str("\\r"),
                            b'\n' => f.push_str("\\n"),
                            b'\\' => f.push_str("\\\\"),
                            b'%' => f.push_str("%%"),
                            0x20..=0x7e => f.push(c as char),
                            _ => f.push_str(&format!("\\{c:03o}")),
                        }
                    }
                    parts.push(format!("printf -- {}", shell_quote(&f)));
                }
                Segment::File { path, .. } => {
                    parts.push(format!("cat {}", shell_quote(&path.display().to_string())));
                }
            }
        }
        format!("{{ {}; }} > request.body", parts.join("; "))
    }

    /// Read every segment into `tx`, in chunks; the SHA-256 of the whole, or `None` when the
    /// receiver went away or a file could not be read as it was (the error is sent on).
    fn feed(&self, tx: &tokio::sync::mpsc::Sender<std::io::Result<Bytes>>) -> Option<String> {
        use std::io::Read as _;
        let mut sha = Sha256::new();
        for seg in &self.segments {
            match seg {
                Segment::Bytes(b) => {
                    sha.update(b);
                    tx.blocking_send(Ok(b.clone())).ok()?;
                }
                Segment::File { path, len } => {
                    let file = match std::fs::File::open(path) {
                        Ok(f) => f,
                        Err(e) => {
                            let e = std::io::Error::new(
                                e.kind(),
                                format!("cannot read {}: {e}", path.display()),
                            );
                            let _ = tx.blocking_send(Err(e));
                            return None;
                        }
                    };
                    let mut file = file.take(*len);
                    let mut left = *len;
                    while left > 0 {
                        let mut buf = vec![0u8; FILE_BODY_CHUNK.min(left as usize)];
                        let n = match file.read(&mut buf) {
                            Ok(0) => {
                                let e = std::io::Error::new(
                                    std::io::ErrorKind::UnexpectedEof,
                                    format!(
                                        "{} became shorter than its {len} bytes while it was sent",
                                        path.display()
                                    ),
                                );
                                let _ = tx.blocking_send(Err(e));
                                return None;
                            }
                            Ok(n) => n,
                            Err(e) => {
                                let _ = tx.blocking_send(Err(e));
                                return None;
                            }
                        };
                        buf.truncate(n);
                        left -= n as u64;
                        sha.update(&buf);
                        tx.blocking_send(Ok(Bytes::from(buf))).ok()?;
                    }
                }
            }
        }
        Some(sha.finish_hex())
    }
}

/// A [`FileBody`] handed to hyper as its reader produces it, saying (like [`SentBody`]) when its
/// last byte has been taken.
struct StreamedBody {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    remaining: u64,
    sent: Arc<AtomicBool>,
}

impl http_body::Body for StreamedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        use std::task::Poll;
        let this = self.get_mut();
        if this.remaining == 0 {
            this.sent.store(true, Ordering::Release);
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(b))) => {
                this.remaining = this.remaining.saturating_sub(b.len() as u64);
                if this.remaining == 0 {
                    this.sent.store(true, Ordering::Release);
                }
                Poll::Ready(Some(Ok(http_body::Frame::data(b))))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the request body ended before its announced length",
            )))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// Did the server close (or reset) the connection, with the whole request sent, before any
/// response? hyper reports a close while it waits for the response head as an incomplete message
/// (EOF), and a reset it reads as an I/O error. A write that failed (hyper's "error writing a body
/// to connection", head or body) means the request never went out whole: the server closed before
/// it had a request to answer, which stays an Error. Whether the body was handed over whole the
/// caller knows.
fn closed_after_request(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut closed = false;
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() {
                return true;
            }
            if h.to_string() == "error writing a body to connection" {
                return false;
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            closed |= matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            );
        }
        cur = err.source();
    }
    closed
}

/// Did the response body end short because the server closed or reset the connection: before the
/// length its Content-Length announced, or before the last chunk of a chunked body (RFC 9112 §8: an
/// incomplete message)? A malformed chunk is not this (the SUT did not close; it sent garbage).
fn body_cut_short(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() {
                return true;
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
            ) {
                return true;
            }
        }
        // hyper hands a streaming body this bare cause when the connection fails under it (a
        // reset while the body was being read).
        if err.source().is_none() && err.to_string() == "connection error" {
            return true;
        }
        cur = err.source();
    }
    false
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

/// How much of a request body the evidence keeps. The harness built the body itself, so it is
/// kept whole up to this size: the reproduction command then replays exactly what was sent.
pub const REQUEST_KEEP_LIMIT: usize = 64 * 1024 * 1024;

fn request_body(body: &Bytes) -> Body {
    let mut b = Body::from_bytes(body.clone());
    if b.kept.len() > REQUEST_KEEP_LIMIT {
        b.kept = b.kept.slice(..REQUEST_KEEP_LIMIT);
        b.complete = false;
    }
    b
}

/// Streams a body: hashes it, keeps its head, and summarises multipart parts as they pass.
pub struct BodyCollector {
    size: u64,
    /// The digest of a non-multipart body. Such a body is read no further than the body limit,
    /// so it is hashed inline, as it arrives: no bytes wait in a queue for a hashing thread.
    hasher: Sha256,
    kept: Vec<u8>,
    keep_limit: usize,
    max_body: u64,
    over_limit: Option<&'static str>,
    multipart: Option<MultipartState>,
}

struct MultipartState {
    parser: MultipartParser,
    summary: MultipartSummary,
    /// Head bytes of the open part (for the DICOM header).
    head: Vec<u8>,
    /// The open part, while it may still be a structured document worth keeping whole.
    document: Option<Vec<u8>>,
    /// The open part is XML (the SOAP root of an MTOM message): kept whole up to the body limit.
    xml_part: bool,
    /// The body limit, which an XML part must fit in to be judged.
    xml_limit: usize,
    /// Set when an XML part outgrew `xml_limit`.
    xml_over_limit: bool,
    /// Bytes of the parts kept whole so far: together they stay within `xml_limit`, so that a
    /// body of many structured parts holds no more than one judged body would.
    documents_kept: usize,
    /// One digest per finished part, in order.
    digests: DigestPipe,
    events: Vec<MultipartEvent>,
    failed: bool,
    /// The most parts summarised ([`Limits::max_parts`]).
    max_parts: u64,
    /// Set when a part started past `max_parts`: the body is parsed no further.
    over_parts: bool,
    /// The values the parts' DICOM identities share (transfer syntax, SOP Class, study, series,
    /// patient), each held once: a study's thousands of part summaries point at them.
    shared: std::collections::HashSet<std::sync::Arc<str>>,
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
                    head: Vec::new(),
                    document: None,
                    xml_part: false,
                    xml_limit: usize::try_from(DEFAULT_MAX_BODY).unwrap_or(usize::MAX),
                    xml_over_limit: false,
                    documents_kept: 0,
                    digests: DigestPipe::new(),
                    events: Vec::new(),
                    max_parts: crate::config::DEFAULT_MAX_PARTS,
                    over_parts: false,
                    shared: Default::default(),
                }
            });
        let mut c = BodyCollector {
            size: 0,
            hasher: Sha256::new(),
            kept: Vec::new(),
            keep_limit: 0,
            max_body: 0,
            over_limit: None,
            multipart,
        };
        c.set_max_body(DEFAULT_MAX_BODY);
        c
    }

    /// The same collector with another limit on the bytes of a body it keeps to be judged (the
    /// whole of a non-multipart body; the XML parts of a multipart one).
    pub fn with_max_body(mut self, max_body: u64) -> BodyCollector {
        self.set_max_body(max_body);
        self
    }

    /// The same collector with another limit on the parts of a multipart body it summarises:
    /// past it the body is parsed no further ([`BodyCollector::over_parts`]).
    pub fn with_max_parts(mut self, max_parts: u64) -> BodyCollector {
        if let Some(mp) = &mut self.multipart {
            mp.max_parts = max_parts;
        }
        self
    }

    /// True once a multipart body started more parts than the limit: the transfer should stop.
    pub fn over_parts(&self) -> bool {
        self.multipart.as_ref().is_some_and(|mp| mp.over_parts)
    }

    fn set_max_body(&mut self, max_body: u64) {
        self.max_body = max_body;
        let limit = usize::try_from(max_body).unwrap_or(usize::MAX);
        match &mut self.multipart {
            Some(mp) => {
                self.keep_limit = MULTIPART_EXCERPT;
                mp.xml_limit = limit;
            }
            None => self.keep_limit = limit,
        }
    }

    /// What outgrew the body limit, once something did: the transfer should stop there.
    pub fn over_limit(&self) -> Option<&'static str> {
        self.over_limit
    }

    /// Make room for a body of `len` bytes (its Content-Length), up to what will be kept: the kept
    /// bytes then grow in place instead of being copied at each doubling.
    pub fn expect_len(&mut self, len: u64) {
        let want = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .min(self.keep_limit);
        self.kept
            .reserve_exact(want.saturating_sub(self.kept.len()));
    }

    /// Feed the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.feed_bytes(Bytes::copy_from_slice(chunk));
    }

    /// Feed the next chunk without copying it.
    pub fn feed_bytes(&mut self, chunk: Bytes) {
        self.size += chunk.len() as u64;
        // A multipart body is digested part by part (each instance has its identity digest in
        // the summary); a second, whole-body pass would double the hashing of every study.
        if self.multipart.is_none() {
            self.hasher.update(&chunk);
        }
        let whole = chunk;
        let chunk = &whole[..];
        if self.kept.len() < self.keep_limit {
            let take = (self.keep_limit - self.kept.len()).min(chunk.len());
            self.kept.extend_from_slice(&chunk[..take]);
        }
        if let Some(mp) = &mut self.multipart {
            if mp.failed {
                return;
            }
            mp.events.clear();
            let result = mp.parser.feed_bytes(&whole, &mut mp.events);
            mp.apply_events();
            if let Err(e) = result {
                mp.summary.error = Some(e.to_string());
                mp.failed = true;
            }
            if mp.over_parts {
                mp.failed = true;
            }
            if mp.xml_over_limit && self.over_limit.is_none() {
                self.over_limit = Some("an XML part of the multipart body");
            }
        } else if self.size > self.max_body && self.over_limit.is_none() {
            self.over_limit = Some("the response body");
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
            mp.assign_digests();
            mp.summary
        });
        let complete = self.kept.len() as u64 == self.size;
        let body = Body {
            size: self.size,
            sha256: if multipart.is_some() {
                String::new()
            } else {
                self.hasher.finish_hex()
            },
            kept: Bytes::from(self.kept),
            complete,
        };
        (body, multipart)
    }
}

impl MultipartState {
    fn apply_events(&mut self) {
        for ev in self.events.drain(..) {
            match ev {
                MultipartEvent::PartStart { headers } => {
                    if self.summary.parts.len() as u64 >= self.max_parts {
                        // The rest of the events belong to parts past the limit.
                        self.over_parts = true;
                        self.summary.error.get_or_insert_with(|| {
                            format!(
                                "more than {} parts: the harness summarises no more of one body ([limits] max_parts)",
                                self.max_parts
                            )
                        });
                        break;
                    }
                    self.xml_part = is_xml_part(&headers);
                    self.summary.parts.push(PartSummary {
                        headers,
                        ..Default::default()
                    });
                    self.head.clear();
                    self.document = Some(Vec::new());
                }
                MultipartEvent::PartData(data) => {
                    if let Some(part) = self.summary.parts.last_mut() {
                        self.digests.update(&data);
                        part.size += data.len() as u64;
                        if self.head.len() < PART_HEAD {
                            let take = (PART_HEAD - self.head.len()).min(data.len());
                            self.head.extend_from_slice(&data[..take]);
                        }
                        if let Some(doc) = &mut self.document {
                            doc.extend_from_slice(&data);
                            // Decide as soon as the SOP Class can be read: only structured
                            // documents are kept, and only while they stay small.
                            let room = self.xml_limit.saturating_sub(self.documents_kept);
                            let keep = if self.xml_part {
                                self.xml_over_limit |= doc.len() > room;
                                doc.len() <= room
                            } else {
                                doc.len() <= DOCUMENT_KEEP.min(room)
                                    && (doc.len() < 4096 || is_structured_document(&self.head))
                            };
                            if !keep {
                                self.document = None;
                            }
                        }
                    }
                }
                MultipartEvent::PartEnd => {
                    self.digests.cut();
                    if let Some(part) = self.summary.parts.last_mut() {
                        finish_part(part, &self.head);
                        if let Some(d) = &mut part.dicom {
                            share_values(&mut self.shared, d);
                        }
                        let structured = part
                            .dicom
                            .as_ref()
                            .and_then(|d| d.sop_class.as_deref())
                            .map(|c| c.starts_with(SR_SOP_CLASS_PREFIX))
                            .unwrap_or(false);
                        if structured || self.xml_part {
                            part.document = self.document.take().map(Bytes::from);
                            self.documents_kept += part.document.as_ref().map_or(0, |d| d.len());
                        }
                    }
                    self.document = None;
                }
            }
        }
    }

    /// Give every finished part its digest.
    fn assign_digests(&mut self) {
        let digests = std::mem::take(&mut self.digests).finish(false);
        for (part, d) in self.summary.parts.iter_mut().zip(digests) {
            part.blake3 = d;
        }
    }
}

/// Is this part XML (the root part of an MTOM/XOP message, or any XML part)?
fn is_xml_part(headers: &[(String, String)]) -> bool {
    crate::evidence::find_header(headers, "content-type")
        .and_then(|ct| MediaType::parse(ct).ok())
        .map(|m| {
            matches!(
                m.essence.as_str(),
                "application/xop+xml" | "application/soap+xml" | "text/xml" | "application/xml"
            )
        })
        .unwrap_or(false)
}

/// Does this prefix read as a structured document (KOS, SR)? Undecidable prefixes count as yes.
fn is_structured_document(head: &[u8]) -> bool {
    match dicom_part::sniff(head) {
        Ok(h) => h
            .sop_class
            .as_deref()
            .map(|c| c.starts_with(SR_SOP_CLASS_PREFIX))
            .unwrap_or(true),
        Err(_) => false,
    }
}

/// Point `d`'s values that parts share at the copies in `shared` (added there when new); the
/// Media Storage SOP Instance UID at the SOP Instance UID when they are the same.
fn share_values(
    shared: &mut std::collections::HashSet<std::sync::Arc<str>>,
    d: &mut dicom_part::DicomHead,
) {
    for v in [
        &mut d.transfer_syntax,
        &mut d.media_storage_sop_class,
        &mut d.sop_class,
        &mut d.study_instance_uid,
        &mut d.series_instance_uid,
        &mut d.patient_id,
    ] {
        if let Some(value) = v.as_mut() {
            match shared.get(&**value) {
                Some(s) => *value = s.clone(),
                None => {
                    shared.insert(value.clone());
                }
            }
        }
    }
    if d.media_storage_sop_instance == d.sop_instance {
        d.media_storage_sop_instance = d.sop_instance.clone();
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
        Err(e) => part.not_dicom = Some(e.to_string()),
    }
}

/// The syntax a body is parsed in, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Starts with `{` or `[`.
    Json,
    /// Starts with `<`.
    Xml,
}

/// How many nodes parsing `bytes` would make: JSON values and object keys, or XML elements; None
/// for a body that reads as neither. A close upper bound, found in one pass without parsing:
/// structural characters outside JSON strings, `<` opening an element in XML (markup inside
/// comments and CDATA is counted too, which only errs on the safe side).
pub fn parse_nodes(bytes: &[u8]) -> Option<(Syntax, u64)> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    match body[start] {
        b'{' | b'[' => {
            let mut n = 1u64;
            let mut in_string = false;
            let mut escaped = false;
            for &b in &body[start..] {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' | b',' | b':' => n += 1,
                        _ => {}
                    }
                }
            }
            Some((Syntax::Json, n))
        }
        b'<' => {
            let n = body[start..]
                .windows(2)
                .filter(|w| w[0] == b'<' && !matches!(w[1], b'/' | b'?' | b'!'))
                .count() as u64;
            Some((Syntax::Xml, n))
        }
        _ => None,
    }
}

/// The first body (or XML part) of an answer that has more nodes than the harness parses.
pub(crate) fn too_many_nodes(
    body: &Body,
    multipart: Option<&MultipartSummary>,
    max_nodes: u64,
) -> Option<(&'static str, u64, &'static str)> {
    let unit = |syntax| match syntax {
        Syntax::Json => "JSON values",
        Syntax::Xml => "XML elements",
    };
    match multipart {
        None if body.complete => parse_nodes(&body.kept)
            .filter(|(_, n)| *n > max_nodes)
            .map(|(syntax, n)| ("the response body", n, unit(syntax))),
        None => None,
        Some(mp) => mp
            .parts
            .iter()
            .filter_map(|p| p.document.as_deref())
            .filter_map(parse_nodes)
            .find(|(syntax, n)| *syntax == Syntax::Xml && *n > max_nodes)
            .map(|(syntax, n)| ("an XML part of the multipart body", n, unit(syntax))),
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

/// Quote a word for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A curl command that repeats the request; secrets become environment variable references.
fn tls_version_name(v: reqwest::tls::Version) -> String {
    match v {
        reqwest::tls::Version::TLS_1_3 => "TLSv1.3".into(),
        reqwest::tls::Version::TLS_1_2 => "TLSv1.2".into(),
        reqwest::tls::Version::TLS_1_1 => "TLSv1.1".into(),
        _ => "TLSv1.0".into(),
    }
}

pub fn curl_line(req: &Request, auth: &Auth) -> String {
    curl_line_with(req, auth, !req.body.is_empty())
}

/// [`curl_line`], sending `request.body` when `has_body`.
fn curl_line_with(req: &Request, auth: &Auth, has_body: bool) -> String {
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
    if has_body {
        line.push_str(" --data-binary @request.body");
    }
    line.push_str(" -D - -o response.body ");
    line.push_str(&shell_quote(&req.url));
    line
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

    /// Past `max_parts` parts the collector summarises no more: the body's parts are counted up
    /// to the limit, the summary says why it stopped, and the transfer is told to stop.
    #[test]
    fn parts_past_the_limit_are_not_summarised() {
        let body: Vec<u8> = b"--p\r\n\r\n\r\n".repeat(1000);
        let mut c = BodyCollector::new(Some("multipart/related; boundary=p")).with_max_parts(100);
        for chunk in body.chunks(4096) {
            c.feed(chunk);
        }
        assert!(c.over_parts());
        let (_, mp) = c.finish(true);
        let mp = mp.unwrap();
        assert_eq!(mp.parts.len(), 100);
        assert!(
            mp.error.as_deref().unwrap_or("").contains("max_parts"),
            "{:?}",
            mp.error
        );
        // Within the limit, nothing changes.
        let mut c = BodyCollector::new(Some("multipart/related; boundary=p")).with_max_parts(1000);
        c.feed(&body);
        c.feed(b"--p--\r\n");
        assert!(!c.over_parts());
        let (_, mp) = c.finish(true);
        let mp = mp.unwrap();
        assert_eq!((mp.parts.len(), mp.closed, mp.error), (1000, true, None));
    }

    /// The parts of one answer share the values they have in common: one allocation for the
    /// SOP Class, transfer syntax and study of every part, the Media Storage SOP Instance UID
    /// shared with the SOP Instance UID; the values read are unchanged.
    #[test]
    fn parts_share_the_values_they_have_in_common() {
        use dicom_core::{DataElement, VR};
        use dicom_dictionary_std::tags;
        let study = || DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, "1.2.3");
        const EXPLICIT: &str = "1.2.840.10008.1.2.1";
        let a = crate::checks::dicomweb::tests::part10("1.2.3.1", EXPLICIT, [study()]);
        let b = crate::checks::dicomweb::tests::part10("1.2.3.2", EXPLICIT, [study()]);
        let headers = [("Content-Type", "application/dicom")];
        let body = crate::transport::multipart::build_body(
            "b",
            &[(&headers[..], a.as_slice()), (&headers[..], b.as_slice())],
        );
        let mp = summarize_multipart("multipart/related; boundary=b", &body).unwrap();
        let heads: Vec<&dicom_part::DicomHead> =
            mp.parts.iter().filter_map(|p| p.dicom.as_ref()).collect();
        assert_eq!(heads.len(), 2);
        let (x, y) = (heads[0], heads[1]);
        assert_eq!(x.study_instance_uid.as_deref(), Some("1.2.3"));
        assert_eq!(x.transfer_syntax.as_deref(), Some(EXPLICIT));
        assert_eq!(
            (x.sop_instance.as_deref(), y.sop_instance.as_deref()),
            (Some("1.2.3.1"), Some("1.2.3.2"))
        );
        let same = |p: &Option<std::sync::Arc<str>>, q: &Option<std::sync::Arc<str>>| matches!((p, q), (Some(p), Some(q)) if std::sync::Arc::ptr_eq(p, q));
        assert!(same(&x.study_instance_uid, &y.study_instance_uid));
        assert!(same(&x.transfer_syntax, &y.transfer_syntax));
        assert!(same(&x.sop_class, &y.sop_class));
        assert!(same(&x.sop_class, &x.media_storage_sop_class));
        assert!(same(&y.sop_instance, &y.media_storage_sop_instance));
        assert!(!same(&x.sop_instance, &y.sop_instance));
    }

    #[test]
    fn parse_nodes_counts_json_values_and_xml_elements() {
        assert_eq!(parse_nodes(b"[0,0,0]"), Some((Syntax::Json, 4)));
        assert_eq!(
            parse_nodes(br#" {"a":1,"b":[true,"x,:[{"]}"#),
            Some((Syntax::Json, 7))
        );
        assert_eq!(parse_nodes(br#"["\",[{"]"#), Some((Syntax::Json, 2)));
        assert_eq!(
            parse_nodes(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><a><b/><c>t</c><!-- <d> --></a>"),
            Some((Syntax::Xml, 4))
        );
        assert_eq!(parse_nodes(b"not json"), None);
        assert_eq!(parse_nodes(b"   "), None);
        assert_eq!(parse_nodes(b""), None);
    }

    /// A multipart body of `parts` copies of `part` (of this Content-Type), fed to a collector
    /// whose body limit is `max_body`.
    fn collect_parts(ct: &str, part: &[u8], parts: usize, max_body: u64) -> MultipartSummary {
        let mut body = Vec::new();
        for _ in 0..parts {
            body.extend_from_slice(format!("--xyz\r\nContent-Type: {ct}\r\n\r\n").as_bytes());
            body.extend_from_slice(part);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--xyz--\r\n");
        let mut c = BodyCollector::new(Some(&format!(
            "multipart/related; type=\"{ct}\"; boundary=xyz"
        )))
        .with_max_body(max_body);
        for chunk in body.chunks(4096) {
            c.feed(chunk);
        }
        c.finish(true).1.unwrap()
    }

    #[test]
    fn the_parts_kept_whole_stay_within_the_body_limit_together() {
        let kos = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/studies/CTH-0001/2.25.663258457482632739394936969467240525/KOS/kos.dcm"
        ))
        .unwrap();
        // Room for two manifests: the third is summarised (size, digest, header) but not kept.
        let mp = collect_parts("application/dicom", &kos, 3, 2 * kos.len() as u64 + 10);
        assert_eq!(mp.parts.len(), 3);
        let kept: Vec<bool> = mp.parts.iter().map(|p| p.document.is_some()).collect();
        assert_eq!(kept, [true, true, false]);
        assert!(mp
            .parts
            .iter()
            .all(|p| p.size == kos.len() as u64 && !p.blake3.is_empty()));
        // XML parts: one past the room left is over the limit.
        let xml = format!("<a>{}</a>", "x".repeat(600));
        let mut c = BodyCollector::new(Some(
            "multipart/related; type=\"application/xml\"; boundary=xyz",
        ))
        .with_max_body(1024);
        for _ in 0..2 {
            c.feed(format!("--xyz\r\nContent-Type: application/xml\r\n\r\n{xml}\r\n").as_bytes());
        }
        assert_eq!(c.over_limit(), Some("an XML part of the multipart body"));
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
