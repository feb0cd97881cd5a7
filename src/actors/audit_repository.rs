//! The Audit Record Repository of IHE ATNA (ITI-20 Record Audit Event, receiving side): syslog
//! over UDP (RFC 5426), syslog over a stream (RFC 5425 octet counting; the caller wraps the TCP
//! connection in TLS and hands the stream over), and the FHIR AuditEvent feed of RESTful ATNA
//! (`POST /AuditEvent`).
//!
//! Every message received is recorded in an [`AuditInbox`] with its raw bytes, the peer, the
//! transport and the arrival time, parsed (RFC 5424, then the DICOM audit message or the FHIR
//! AuditEvent) and judged against the transport and schema rules of `checks::atna`; a scenario
//! waits, bounded, for the message that matches what it expects ([`AuditInbox::wait_for`]) and
//! judges it against the transaction it audits (`checks::atna::transaction`).
//!
//! Hostile input ends as a recorded [`AuditProblem`], never as a crash or a hang: a frame longer
//! than the limit, a stream that is not octet-counted, a stream cut inside a frame and a peer that
//! drips a frame slower than the frame timeout each close their connection after being recorded;
//! invalid UTF-8, malformed XML and DTDs (entity bombs) are violations of the recorded message.
//! Connections are bounded in number; the bytes the inbox holds are bounded by a budget past
//! which the oldest records lose their raw bytes.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use axum::Router;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use crate::checks::atna::{self, Rules};
use crate::checks::rule::Violation;
use crate::model::audit::AuditMessage;
use crate::transport::syslog::{FrameError, FrameReader, SyslogMessage, DEFAULT_MAX_FRAME};

/// How the message came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditTransport {
    /// One UDP datagram (RFC 5426).
    Udp,
    /// An octet-counted frame on a plain TCP stream.
    Tcp,
    /// An octet-counted frame on a TLS stream (RFC 5425).
    Tls,
    /// A FHIR AuditEvent POSTed over HTTP (RESTful ATNA).
    Http,
}

impl std::fmt::Display for AuditTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuditTransport::Udp => "syslog/UDP",
            AuditTransport::Tcp => "syslog/TCP",
            AuditTransport::Tls => "syslog/TLS",
            AuditTransport::Http => "FHIR AuditEvent",
        })
    }
}

/// What went wrong with a connection or datagram, beyond the content of a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditProblem {
    /// The stream broke the framing (unframed, bad length, too long, truncated) or failed.
    #[error("{0}")]
    Framing(#[from] FrameError),
    /// A frame was not complete within the frame timeout.
    #[error("the peer sent {received} bytes of a frame and nothing more for {seconds} s (frame timeout)")]
    Stalled {
        /// Bytes of the frame received.
        received: usize,
        /// The timeout.
        seconds: u64,
    },
    /// A datagram filled the receive buffer (it may have been cut).
    #[error("a datagram of {size} bytes or more (above the limit of {max})")]
    DatagramTooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// An HTTP body above the limit.
    #[error("an AuditEvent body of {size} bytes exceeds the limit of {max}")]
    BodyTooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// An HTTP body that did not arrive whole (the peer stopped sending or the stream broke).
    #[error("the AuditEvent body did not arrive whole after {received} bytes: {cause}")]
    BodyIncomplete {
        /// Bytes received.
        received: usize,
        /// Why.
        cause: String,
    },
}

/// The request line and Content-Type of a FHIR Feed request (RESTful ATNA).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedLine {
    /// HTTP method.
    pub method: String,
    /// Path and query as requested (`/AuditEvent`).
    pub target: String,
    /// The Content-Type header, when present and readable.
    pub content_type: Option<String>,
}

/// One message (or broken connection) the repository received.
#[derive(Debug, Clone)]
pub struct ReceivedAudit {
    /// Arrival number, from 0 (a mark for [`AuditInbox::wait_for`]).
    pub seq: usize,
    /// How it came.
    pub transport: AuditTransport,
    /// The peer.
    pub peer: Option<SocketAddr>,
    /// When it arrived (wall clock, for the evidence).
    pub arrived: SystemTime,
    /// The bytes received: the frame's SYSLOG-MSG, the datagram, the HTTP body; for a problem,
    /// the first bytes of what could not be read (at most [`PROBLEM_BYTES`]). Emptied when the
    /// inbox passes its budget.
    pub raw: Bytes,
    /// Size of the raw bytes as received (kept when `raw` is dropped).
    pub size: usize,
    /// The transport problem, for a connection that broke.
    pub problem: Option<AuditProblem>,
    /// The syslog message, when the bytes are RFC 5424.
    pub syslog: Option<SyslogMessage>,
    /// The audit message, when the payload is one.
    pub audit: Option<AuditMessage>,
    /// What the transport and schema rules found.
    pub violations: Vec<Violation>,
    /// The request line of a FHIR Feed request (`Http` transport only).
    pub http: Option<FeedLine>,
}

impl ReceivedAudit {
    /// True when it carries an audit message whose EventID has `code`.
    pub fn has_event_id(&self, code: &str) -> bool {
        self.audit
            .as_ref()
            .and_then(AuditMessage::event_id)
            .is_some_and(|c| c.code == code)
    }

    /// True when it carries an audit message with an EventTypeCode of `code` (`ITI-18`).
    pub fn has_event_type(&self, code: &str) -> bool {
        self.audit.as_ref().is_some_and(|a| a.has_event_type(code))
    }

    /// One line for reports: `#3 syslog/TLS from 10.0.0.1:5000, 1234 bytes, EventID 110112`.
    pub fn label(&self) -> String {
        let peer = self.peer.map(|p| format!(" from {p}")).unwrap_or_default();
        let what = match (
            &self.problem,
            self.audit.as_ref().and_then(AuditMessage::event_id),
        ) {
            (Some(p), _) => format!("problem: {p}"),
            (None, Some(id)) => format!("EventID {id}"),
            (None, None) => "no audit message".into(),
        };
        format!(
            "#{} {}{peer}, {} bytes, {what}",
            self.seq, self.transport, self.size
        )
    }
}

/// How many bytes of an unreadable stream a problem record keeps.
pub const PROBLEM_BYTES: usize = 1024;

#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<ReceivedAudit>,
    /// seq of `entries[0]`.
    first: usize,
    next: usize,
    held: u64,
    budget: u64,
    max_records: usize,
}

/// The messages received, in arrival order, bounded.
#[derive(Debug, Default)]
pub struct AuditInbox {
    log: Mutex<Log>,
    notify: Notify,
}

impl AuditInbox {
    /// An inbox keeping at most `budget` raw bytes (older records lose theirs) and `max_records`
    /// records (older ones are dropped); 0 means no limit.
    pub fn new(budget: u64, max_records: usize) -> AuditInbox {
        AuditInbox {
            log: Mutex::new(Log {
                budget,
                max_records,
                ..Log::default()
            }),
            notify: Notify::new(),
        }
    }

    /// How many records arrived so far (a mark for [`AuditInbox::wait_for`]).
    pub fn len(&self) -> usize {
        self.log.lock().map(|l| l.next).unwrap_or(0)
    }

    /// True when nothing arrived.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record numbered `seq`, while it is kept.
    pub fn get(&self, seq: usize) -> Option<ReceivedAudit> {
        let l = self.log.lock().ok()?;
        seq.checked_sub(l.first)
            .and_then(|i| l.entries.get(i))
            .cloned()
    }

    /// Every record kept, from `mark` on.
    pub fn since(&self, mark: usize) -> Vec<ReceivedAudit> {
        self.log
            .lock()
            .map(|l| {
                l.entries
                    .iter()
                    .filter(|r| r.seq >= mark)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Record a message; returns its number.
    pub fn push(&self, mut r: ReceivedAudit) -> usize {
        let seq = {
            let mut l = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            r.seq = l.next;
            l.next += 1;
            l.held += r.raw.len() as u64;
            l.entries.push_back(r);
            while l.max_records > 0 && l.entries.len() > l.max_records {
                if let Some(old) = l.entries.pop_front() {
                    l.held = l.held.saturating_sub(old.raw.len() as u64);
                    l.first += 1;
                }
            }
            // The newest keeps its bytes: its scenario has not read it yet.
            let n = l.entries.len();
            let mut i = 0;
            while l.budget > 0 && l.held > l.budget && i + 1 < n {
                let freed = l.entries[i].raw.len() as u64;
                l.entries[i].raw = Bytes::new();
                l.held = l.held.saturating_sub(freed);
                i += 1;
            }
            l.next - 1
        };
        self.notify.notify_waiters();
        seq
    }

    /// The first record numbered `mark` or later that satisfies `matches`, waiting up to
    /// `timeout`.
    pub async fn wait_for(
        &self,
        mark: usize,
        timeout: Duration,
        matches: &(dyn Fn(&ReceivedAudit) -> bool + Sync),
    ) -> Option<ReceivedAudit> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            if let Some(r) = self.log.lock().ok().and_then(|l| {
                l.entries
                    .iter()
                    .filter(|r| r.seq >= mark)
                    .find(|r| matches(r))
                    .cloned()
            }) {
                return Some(r);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let _ = tokio::time::timeout(deadline - now, notified).await;
        }
    }
}

/// The repository's limits and rules.
#[derive(Debug, Clone)]
pub struct AuditRepositoryOptions {
    /// Largest syslog frame, datagram or AuditEvent body accepted.
    pub max_message: usize,
    /// A frame must be complete this long after its first byte arrived.
    pub frame_timeout: Duration,
    /// A connection with no frame in progress is closed after this long.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Raw bytes the inbox keeps (0: no limit).
    pub budget: u64,
    /// Records the inbox keeps (0: no limit).
    pub max_records: usize,
    /// What the rules accept beyond the standard.
    pub rules: Rules,
}

impl Default for AuditRepositoryOptions {
    /// 64 KiB messages (PS3.15 §A.6 requires 32 768 octets), 10 s per frame, 5 min idle, 64
    /// connections, 64 MiB and 10 000 records kept.
    fn default() -> Self {
        AuditRepositoryOptions {
            max_message: DEFAULT_MAX_FRAME,
            frame_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connections: 64,
            budget: 64 * 1024 * 1024,
            max_records: 10_000,
            rules: Rules::default(),
        }
    }
}

/// The simulated Audit Record Repository.
#[derive(Debug, Clone)]
pub struct AuditRepository {
    inbox: Arc<AuditInbox>,
    options: Arc<AuditRepositoryOptions>,
    connections: Arc<Semaphore>,
}

/// How often a stream is looked at while a frame is awaited.
const TICK: Duration = Duration::from_millis(100);

impl AuditRepository {
    /// A repository with these options and an empty inbox.
    pub fn new(options: AuditRepositoryOptions) -> AuditRepository {
        AuditRepository {
            inbox: Arc::new(AuditInbox::new(options.budget, options.max_records)),
            connections: Arc::new(Semaphore::new(options.max_connections.max(1))),
            options: Arc::new(options),
        }
    }

    /// What it received.
    pub fn inbox(&self) -> Arc<AuditInbox> {
        self.inbox.clone()
    }

    /// Its options.
    pub fn options(&self) -> &AuditRepositoryOptions {
        &self.options
    }

    fn record_syslog(
        &self,
        transport: AuditTransport,
        peer: Option<SocketAddr>,
        raw: Bytes,
    ) -> usize {
        let judged = atna::validate_syslog(&raw, &self.options.rules);
        self.inbox.push(ReceivedAudit {
            seq: 0,
            transport,
            peer,
            arrived: SystemTime::now(),
            size: raw.len(),
            raw,
            problem: None,
            syslog: judged.syslog,
            audit: judged.audit,
            violations: judged.violations,
            http: None,
        })
    }

    fn record_problem(
        &self,
        transport: AuditTransport,
        peer: Option<SocketAddr>,
        problem: AuditProblem,
        first_bytes: Bytes,
        size: usize,
    ) -> usize {
        let violations = match &problem {
            AuditProblem::Framing(e) => vec![atna::framing(e)],
            other => vec![Violation::of(&atna::FRAMING, other.to_string())],
        };
        self.inbox.push(ReceivedAudit {
            seq: 0,
            transport,
            peer,
            arrived: SystemTime::now(),
            raw: first_bytes,
            size,
            problem: Some(problem),
            syslog: None,
            audit: None,
            violations,
            http: None,
        })
    }

    /// Serve syslog over UDP on `socket` until the task is aborted: one datagram, one message.
    pub fn spawn_udp(&self, socket: UdpSocket) -> JoinHandle<()> {
        let repo = self.clone();
        tokio::spawn(async move {
            // One byte more than the limit tells a datagram at the limit from a larger one.
            let mut buf = vec![0u8; repo.options.max_message.saturating_add(1).min(65_536)];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    // ICMP errors surface here on some platforms; the socket stays usable.
                    tokio::time::sleep(TICK).await;
                    continue;
                };
                let bytes = Bytes::copy_from_slice(&buf[..n]);
                if n > repo.options.max_message {
                    let first = bytes.slice(..n.min(PROBLEM_BYTES));
                    repo.record_problem(
                        AuditTransport::Udp,
                        Some(peer),
                        AuditProblem::DatagramTooLarge {
                            size: n,
                            max: repo.options.max_message,
                        },
                        first,
                        n,
                    );
                } else {
                    repo.record_syslog(AuditTransport::Udp, Some(peer), bytes);
                }
            }
        })
    }

    /// Accept plain TCP connections on `listener` until the task is aborted, each served by
    /// [`AuditRepository::handle_stream`]. A TLS server accepts and handshakes itself, then hands
    /// each stream to `handle_stream` with [`AuditTransport::Tls`].
    pub fn spawn_tcp(&self, listener: TcpListener) -> JoinHandle<()> {
        let repo = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok(permit) = repo.connections.clone().acquire_owned().await else {
                    return;
                };
                let Ok((stream, peer)) = listener.accept().await else {
                    tokio::time::sleep(TICK).await;
                    continue;
                };
                let repo = repo.clone();
                tokio::spawn(async move {
                    repo.handle_stream(stream, Some(peer), AuditTransport::Tcp)
                        .await;
                    drop(permit);
                });
            }
        })
    }

    /// Accept TLS connections on `listener` (RFC 5425) until the task is aborted: each handshake
    /// is run with `config` and recorded in `log` (with the certificate the sender presented),
    /// then the stream is served by [`AuditRepository::handle_stream`].
    pub fn spawn_tls(
        &self,
        listener: TcpListener,
        config: Arc<rustls::ServerConfig>,
        log: Arc<crate::transport::tls::listener::HandshakeLog>,
    ) -> JoinHandle<()> {
        let repo = self.clone();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let Ok(permit) = repo.connections.clone().acquire_owned().await else {
                    return;
                };
                let Ok((stream, peer)) = listener.accept().await else {
                    tokio::time::sleep(TICK).await;
                    continue;
                };
                let repo = repo.clone();
                let acceptor = acceptor.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    if let Some(tls) = crate::transport::tls::listener::handshake(
                        &acceptor,
                        stream,
                        peer,
                        &log,
                        crate::transport::tls::listener::HANDSHAKE_TIMEOUT,
                    )
                    .await
                    {
                        repo.handle_stream(tls, Some(peer), AuditTransport::Tls)
                            .await;
                    }
                    drop(permit);
                });
            }
        })
    }

    /// Read octet-counted frames from one connection until it closes, breaks the framing, stalls
    /// or idles out; record each frame and each problem. Returns how many frames were read.
    pub async fn handle_stream<S>(
        &self,
        stream: S,
        peer: Option<SocketAddr>,
        transport: AuditTransport,
    ) -> usize
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let mut reader = FrameReader::new(stream, self.options.max_message);
        let mut frames = 0;
        let mut idle_since = Instant::now();
        let mut frame_started: Option<Instant> = None;
        loop {
            match tokio::time::timeout(TICK, reader.next_frame()).await {
                Ok(Ok(Some(frame))) => {
                    frames += 1;
                    self.record_syslog(transport, peer, frame);
                    idle_since = Instant::now();
                    frame_started = None;
                }
                Ok(Ok(None)) => return frames,
                Ok(Err(e)) => {
                    let head = reader.head().clone();
                    let size = head.len();
                    self.record_problem(transport, peer, AuditProblem::Framing(e), head, size);
                    return frames;
                }
                Err(_) => {
                    let buffered = reader.buffered();
                    if buffered == 0 {
                        frame_started = None;
                        if idle_since.elapsed() >= self.options.idle_timeout {
                            return frames;
                        }
                    } else {
                        let started = *frame_started.get_or_insert_with(Instant::now);
                        if started.elapsed() >= self.options.frame_timeout {
                            self.record_problem(
                                transport,
                                peer,
                                AuditProblem::Stalled {
                                    received: buffered,
                                    seconds: self.options.frame_timeout.as_secs(),
                                },
                                Bytes::new(),
                                buffered,
                            );
                            return frames;
                        }
                    }
                }
            }
        }
    }

    /// Record a FHIR Feed request (RESTful ATNA) with its request line and body, judged on arrival
    /// (`checks::atna::fhir` and the schema rules); returns its number and whether its body was an
    /// AuditEvent.
    pub fn record_fhir(
        &self,
        peer: Option<SocketAddr>,
        line: FeedLine,
        body: Bytes,
    ) -> (usize, bool) {
        let req = atna::fhir::FeedRequest {
            method: &line.method,
            path: &line.target,
            content_type: line.content_type.as_deref(),
        };
        let mut violations = atna::fhir::validate_request(&req);
        let judged = atna::fhir::validate_body(&body, self.options.max_message);
        violations.extend(judged.violations);
        if let Some(a) = &judged.audit {
            violations.extend(atna::validate_message(a));
        }
        let ok = judged.audit.is_some();
        let seq = self.inbox.push(ReceivedAudit {
            seq: 0,
            transport: AuditTransport::Http,
            peer,
            arrived: SystemTime::now(),
            size: body.len(),
            raw: body,
            problem: None,
            syslog: None,
            audit: judged.audit,
            violations,
            http: Some(line),
        });
        (seq, ok)
    }

    /// Record a FHIR Feed request whose body did not arrive whole or is past the limit.
    fn record_fhir_problem(
        &self,
        peer: Option<SocketAddr>,
        line: FeedLine,
        problem: AuditProblem,
        first_bytes: Bytes,
        size: usize,
    ) -> usize {
        self.inbox.push(ReceivedAudit {
            seq: 0,
            transport: AuditTransport::Http,
            peer,
            arrived: SystemTime::now(),
            raw: first_bytes,
            size,
            violations: vec![Violation::of(&atna::fhir::RESOURCE, problem.to_string())],
            problem: Some(problem),
            syslog: None,
            audit: None,
            http: Some(line),
        })
    }

    /// The RESTful ATNA endpoint (ITI-20 FHIR Feed): `POST /AuditEvent` (FHIR create), served at
    /// the root of the listener (its FHIR base). Every request but a read (GET, HEAD, OPTIONS) is
    /// recorded with its request line, the peer (when the server gives `ConnectInfo`) and its
    /// body, read here with the size limit and the frame timeout so that an oversized or stalled
    /// body is recorded too. Answers 201 with a Location for an AuditEvent created, 405 for
    /// another interaction, 413 past the limit, 400 with an OperationOutcome otherwise.
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(feed_request)
            .with_state(self.clone())
    }
}

/// The peer of a FHIR Feed connection, as the router reads it from `ConnectInfo`: serve the
/// router with `into_make_service_with_connect_info::<FeedPeer>()` over a plain TCP or the TLS
/// listener of `transport::tls::listener` to have the peer recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPeer(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for FeedPeer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        FeedPeer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, crate::transport::tls::listener::TlsListener>> for FeedPeer {
    fn connect_info(
        stream: IncomingStream<'_, crate::transport::tls::listener::TlsListener>,
    ) -> Self {
        FeedPeer(*stream.remote_addr())
    }
}

fn outcome(status: StatusCode, diagnostics: &str) -> Response {
    let body = serde_json::json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": diagnostics}]
    });
    (
        status,
        [("content-type", "application/fhir+json")],
        body.to_string(),
    )
        .into_response()
}

async fn feed_request(State(repo): State<AuditRepository>, request: Request) -> Response {
    use futures_util::StreamExt;
    let peer = request
        .extensions()
        .get::<ConnectInfo<FeedPeer>>()
        .map(|c| c.0 .0);
    let (parts, body) = request.into_parts();
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return outcome(
            StatusCode::NOT_FOUND,
            "this Audit Record Repository takes the FHIR Feed only: POST [base]/AuditEvent",
        );
    }
    let line = FeedLine {
        method: parts.method.as_str().to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let max = repo.options.max_message;
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut size = 0usize;
    let problem = loop {
        match tokio::time::timeout(repo.options.frame_timeout, stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                size = size.saturating_add(chunk.len());
                let room = max.saturating_add(1).saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if size > max {
                    break Some(AuditProblem::BodyTooLarge {
                        size: size.max(announced),
                        max,
                    });
                }
            }
            Ok(Some(Err(e))) => {
                break Some(AuditProblem::BodyIncomplete {
                    received: size,
                    cause: e.to_string(),
                })
            }
            Ok(None) => break None,
            Err(_) => {
                break Some(AuditProblem::BodyIncomplete {
                    received: size,
                    cause: format!(
                        "nothing more arrived for {} s (frame timeout)",
                        repo.options.frame_timeout.as_secs()
                    ),
                })
            }
        }
    };
    if let Some(problem) = problem {
        let status = match problem {
            AuditProblem::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::REQUEST_TIMEOUT,
        };
        let text = problem.to_string();
        let first = Bytes::copy_from_slice(&buf[..buf.len().min(PROBLEM_BYTES)]);
        repo.record_fhir_problem(peer, line, problem, first, size);
        return outcome(status, &text);
    }
    let create = line.method == "POST"
        && line
            .target
            .split('?')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
            == "/AuditEvent";
    let (seq, ok) = repo.record_fhir(peer, line, Bytes::from(buf));
    if !create {
        return outcome(
            StatusCode::METHOD_NOT_ALLOWED,
            "this Audit Record Repository takes the FHIR Feed only: POST [base]/AuditEvent",
        );
    }
    if ok {
        return (
            StatusCode::CREATED,
            [
                ("content-type", "application/fhir+json".to_string()),
                ("location", format!("AuditEvent/{seq}/_history/1")),
            ],
            "",
        )
            .into_response();
    }
    let diag = repo
        .inbox
        .get(seq)
        .and_then(|r| r.violations.first().map(|v| v.message.clone()))
        .unwrap_or_default();
    outcome(StatusCode::BAD_REQUEST, &diag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::audit;
    use crate::transport::syslog::{frame, send_framed, send_udp};
    use tokio::io::AsyncWriteExt;

    fn audit_xml() -> String {
        let m = AuditMessage {
            event: Some(audit::EventIdentification {
                event_id: Some(audit::CodedValue::new("110112", "DCM", "Query")),
                date_time: Some("2026-12-07T00:00:00Z".into()),
                outcome_indicator: Some("0".into()),
                action_code: Some("E".into()),
                ..Default::default()
            }),
            active_participants: vec![audit::ActiveParticipant {
                user_id: Some("u".into()),
                user_is_requestor: Some("true".into()),
                ..Default::default()
            }],
            audit_sources: vec![audit::AuditSourceIdentification {
                audit_source_id: Some("s".into()),
                ..Default::default()
            }],
            ..AuditMessage::default()
        };
        m.to_xml()
    }

    fn message() -> SyslogMessage {
        SyslogMessage::audit("2026-12-07T00:00:00Z", "h", "a", audit_xml().into_bytes())
    }

    fn options() -> AuditRepositoryOptions {
        AuditRepositoryOptions {
            max_message: 4096,
            frame_timeout: Duration::from_millis(400),
            idle_timeout: Duration::from_secs(5),
            ..AuditRepositoryOptions::default()
        }
    }

    #[tokio::test]
    async fn records_udp_and_tcp_messages_and_waits_for_a_match() {
        let repo = AuditRepository::new(options());
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let udp_addr = udp.local_addr().unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp_addr = tcp.local_addr().unwrap();
        let u = repo.spawn_udp(udp);
        let t = repo.spawn_tcp(tcp);
        let inbox = repo.inbox();
        let mark = inbox.len();

        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        send_udp(&tx, udp_addr, &message()).await.unwrap();
        let got = inbox
            .wait_for(mark, Duration::from_secs(5), &|r| {
                r.transport == AuditTransport::Udp
            })
            .await
            .unwrap();
        assert!(got.has_event_id("110112"), "{}", got.label());
        assert!(got.violations.is_empty(), "{:?}", got.violations);
        assert_eq!(got.peer, Some(tx.local_addr().unwrap()));

        let mut s = tokio::net::TcpStream::connect(tcp_addr).await.unwrap();
        send_framed(&mut s, &message()).await.unwrap();
        send_framed(&mut s, &message()).await.unwrap();
        let got = inbox
            .wait_for(got.seq + 1, Duration::from_secs(5), &|r| {
                r.transport == AuditTransport::Tcp
            })
            .await
            .unwrap();
        assert!(got.has_event_id("110112"));
        // Nothing that matches: the wait ends at its timeout.
        let none = inbox
            .wait_for(0, Duration::from_millis(200), &|r| r.has_event_id("110104"))
            .await;
        assert!(none.is_none());
        u.abort();
        t.abort();
    }

    async fn stream_problem(bytes: Vec<u8>, keep_open: bool) -> ReceivedAudit {
        let repo = AuditRepository::new(options());
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let r2 = repo.clone();
        let h =
            tokio::spawn(async move { r2.handle_stream(server, None, AuditTransport::Tls).await });
        client.write_all(&bytes).await.unwrap();
        if !keep_open {
            client.shutdown().await.unwrap();
        }
        let got = repo
            .inbox()
            .wait_for(0, Duration::from_secs(5), &|r| r.problem.is_some())
            .await
            .expect("a problem is recorded");
        let _ = tokio::time::timeout(Duration::from_secs(5), h)
            .await
            .expect("the handler ends");
        drop(client);
        got
    }

    #[tokio::test]
    async fn hostile_streams_end_as_recorded_problems() {
        let unframed = stream_problem(message().to_bytes(), true).await;
        assert_eq!(
            unframed.problem,
            Some(AuditProblem::Framing(FrameError::Unframed))
        );
        assert!(
            unframed.raw.starts_with(b"<85>1 "),
            "the first bytes are kept"
        );
        assert_eq!(unframed.violations[0].rule, atna::FRAMING.id);

        let oversized = stream_problem(b"999999 <85>1".to_vec(), true).await;
        assert!(matches!(
            oversized.problem,
            Some(AuditProblem::Framing(FrameError::TooLong { .. }))
        ));

        let truncated = stream_problem(b"100 <85>1 - - -".to_vec(), false).await;
        assert!(matches!(
            truncated.problem,
            Some(AuditProblem::Framing(FrameError::Truncated { .. }))
        ));

        // A peer that starts a frame and stops: stalled after the frame timeout.
        let dripping = stream_problem(b"100 <85>1 - - -".to_vec(), true).await;
        assert!(
            matches!(dripping.problem, Some(AuditProblem::Stalled { .. })),
            "{}",
            dripping.label()
        );
    }

    #[tokio::test]
    async fn hostile_content_is_a_violation_of_the_recorded_message() {
        let repo = AuditRepository::new(options());
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let r2 = repo.clone();
        let h =
            tokio::spawn(async move { r2.handle_stream(server, None, AuditTransport::Tcp).await });
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><AuditMessage>&lol2;</AuditMessage>"#;
        let msgs: Vec<Vec<u8>> = vec![
            SyslogMessage::audit("2026-12-07T00:00:00Z", "h", "a", bomb.to_vec()).to_bytes(),
            SyslogMessage::audit(
                "2026-12-07T00:00:00Z",
                "h",
                "a",
                b"<AuditMessage>\xFF</AuditMessage>".to_vec(),
            )
            .to_bytes(),
            b"<85>1 - - - - - - \xFF\xFE".to_vec(),
        ];
        for m in &msgs {
            client.write_all(&frame(m)).await.unwrap();
        }
        client.shutdown().await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), h)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 3);
        let recs = repo.inbox().since(0);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].violations[0].rule, atna::PAYLOAD.id);
        assert_eq!(recs[1].violations[0].rule, atna::HEADER.id);
        assert!(recs[2]
            .violations
            .iter()
            .any(|v| v.rule == atna::PAYLOAD.id));
        assert!(recs.iter().all(|r| r.audit.is_none()));
    }

    #[tokio::test]
    async fn an_oversized_datagram_is_a_problem() {
        let repo = AuditRepository::new(AuditRepositoryOptions {
            max_message: 100,
            ..options()
        });
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let h = repo.spawn_udp(udp);
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        tx.send_to(&[b'x'; 500], addr).await.unwrap();
        let got = repo
            .inbox()
            .wait_for(0, Duration::from_secs(5), &|_| true)
            .await
            .unwrap();
        assert!(matches!(
            got.problem,
            Some(AuditProblem::DatagramTooLarge { .. })
        ));
        h.abort();
    }

    #[test]
    fn the_inbox_is_bounded() {
        let inbox = AuditInbox::new(250, 3);
        let rec = |n: usize| ReceivedAudit {
            seq: 0,
            transport: AuditTransport::Udp,
            peer: None,
            arrived: SystemTime::now(),
            raw: Bytes::from(vec![b'x'; n]),
            size: n,
            problem: None,
            syslog: None,
            audit: None,
            violations: Vec::new(),
            http: None,
        };
        for _ in 0..5 {
            inbox.push(rec(100));
        }
        assert_eq!(inbox.len(), 5);
        assert!(inbox.get(1).is_none(), "dropped past max_records");
        assert!(
            inbox.get(2).unwrap().raw.is_empty(),
            "bytes dropped past the budget"
        );
        assert_eq!(inbox.get(4).unwrap().raw.len(), 100);
        assert_eq!(inbox.get(2).unwrap().size, 100);
    }

    async fn post(addr: SocketAddr, body: &[u8]) -> String {
        send(addr, "POST /AuditEvent", body).await
    }

    async fn send(addr: SocketAddr, line: &str, body: &[u8]) -> String {
        use tokio::io::AsyncReadExt;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "{line} HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn the_fhir_endpoint_records_and_answers() {
        let repo = AuditRepository::new(options());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = repo
            .router()
            .into_make_service_with_connect_info::<FeedPeer>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let ok = br#"{"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110112"},"recorded":"2026-12-07T00:00:00Z","outcome":"0","agent":[{"who":{"display":"u"},"requestor":true}],"source":{"observer":{"display":"s"}}}"#;
        assert!(post(addr, ok).await.starts_with("HTTP/1.1 201"));
        assert!(post(addr, b"{\"resourceType\":\"Patient\"}")
            .await
            .starts_with("HTTP/1.1 400"));
        // An update instead of a create is recorded and refused.
        assert!(send(addr, "PUT /AuditEvent/1", ok)
            .await
            .starts_with("HTTP/1.1 405"));
        // A body past the limit is recorded as a problem, its first bytes kept.
        let big = vec![b' '; 10_000];
        assert!(post(addr, &big).await.starts_with("HTTP/1.1 413"));
        // A read is no feed: answered, not recorded.
        assert!(send(addr, "GET /metadata", b"")
            .await
            .starts_with("HTTP/1.1 404"));
        let recs = repo.inbox().since(0);
        assert_eq!(recs.len(), 4);
        assert!(recs[0].has_event_id("110112"));
        assert!(recs[0].violations.is_empty(), "{:?}", recs[0].violations);
        assert!(recs[0].peer.is_some_and(|p| p.ip().is_loopback()));
        assert_eq!(
            recs[0].http.as_ref().map(|h| h.target.as_str()),
            Some("/AuditEvent")
        );
        assert_eq!(recs[1].violations[0].rule, atna::fhir::RESOURCE.id);
        assert_eq!(recs[2].violations[0].rule, atna::fhir::CREATE.id);
        assert!(matches!(
            recs[3].problem,
            Some(AuditProblem::BodyTooLarge { size: 10_000, .. })
        ));
        assert_eq!(recs[3].raw.len(), PROBLEM_BYTES);
        assert_eq!(recs[3].violations[0].rule, atna::fhir::RESOURCE.id);
        server.abort();
    }
}

/// The Audit Record Repository of a run, listening for the SUT's audit messages (the ITI-20
/// scenarios): syslog over TLS (RFC 5425) and over UDP (RFC 5426), and the FHIR Feed of RESTful
/// ATNA over HTTPS, with the handshakes it saw. Against the embedded reference it runs on loopback
/// with a test PKI made for the run (client certificates required on both TLS listeners), and
/// [`AuditListeners::client`] is the TLS client the built-in audit source uses; a SUT profile
/// places it with `[simulator] audit_bind` (with `[simulator.tls]`), `audit_udp_bind` and
/// `audit_fhir_bind` (HTTPS with `[simulator.tls]`, plain HTTP without).
pub struct AuditListeners {
    /// The repository and its inbox.
    pub repository: AuditRepository,
    /// The TLS listener's address, when it listens over TLS.
    pub tls_addr: Option<SocketAddr>,
    /// The UDP socket's address, when it listens over UDP.
    pub udp_addr: Option<SocketAddr>,
    /// The TLS handshakes seen.
    pub handshakes: Arc<crate::transport::tls::listener::HandshakeLog>,
    /// The FHIR Feed listener's address, when it listens for AuditEvents.
    pub fhir_addr: Option<SocketAddr>,
    /// The FHIR Feed listener speaks HTTPS (false: plain HTTP, a profile without
    /// `[simulator.tls]`).
    pub fhir_https: bool,
    /// The TLS handshakes the FHIR Feed listener saw.
    pub fhir_handshakes: Arc<crate::transport::tls::listener::HandshakeLog>,
    /// The client of the built-in audit source (embedded run only): trusts the test CA,
    /// presents the test client certificate.
    pub client: Option<crate::transport::tls::ClientTls>,
    _tasks: Tasks,
}

impl std::fmt::Debug for AuditListeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditListeners")
            .field("tls_addr", &self.tls_addr)
            .field("udp_addr", &self.udp_addr)
            .field("fhir_addr", &self.fhir_addr)
            .finish()
    }
}

/// The tasks of a listener, stopped when it is dropped.
pub struct Tasks(pub Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Why the listeners could not start: the harness's or the configuration's fault.
#[derive(Debug, thiserror::Error)]
pub enum AuditListenError {
    /// Certificates or TLS configuration.
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsError),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

async fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, AuditListenError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| AuditListenError::Bind { addr, source })
}

async fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, AuditListenError> {
    UdpSocket::bind(addr)
        .await
        .map_err(|source| AuditListenError::Bind { addr, source })
}

impl AuditListeners {
    /// Listen on loopback over TLS (a fresh test PKI, client certificates required), UDP and
    /// HTTPS for the FHIR Feed (the same PKI, client certificates required).
    pub async fn embedded() -> Result<AuditListeners, AuditListenError> {
        use crate::transport::tls::{pki::TestPki, ClientAuth, ClientTls, ServerTls, Versions};
        crate::transport::install_crypto_provider();
        let pki = TestPki::new()?;
        let server = ServerTls {
            identity: pki.server.identity(),
            client_roots: vec![pki.ca.cert.clone()],
            client_auth: ClientAuth::Required,
            versions: Versions::Bcp195,
        };
        let client = ClientTls {
            roots: vec![pki.ca.cert.clone()],
            identity: Some(pki.client.identity()),
            server_name: Some("localhost".into()),
            verify_server_name: true,
            versions: Versions::Bcp195,
            verify_server: true,
        };
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut l = AuditListeners::start(
            Some((loopback, server.clone())),
            Some(loopback),
            Some((loopback, Some(server))),
        )
        .await?;
        l.client = Some(client);
        Ok(l)
    }

    /// Listen where a SUT profile says: `[simulator] audit_bind` over TLS with
    /// `[simulator.tls]`, `[simulator] audit_udp_bind` over UDP, `[simulator] audit_fhir_bind` for
    /// the FHIR Feed (HTTPS with `[simulator.tls]`, plain HTTP without). None when it names none.
    pub async fn from_config(
        config: &crate::config::Config,
    ) -> Result<Option<AuditListeners>, AuditListenError> {
        let sim = &config.simulator;
        let tls = match (sim.audit_bind, &sim.tls) {
            (Some(addr), Some(s)) => {
                crate::transport::install_crypto_provider();
                Some((addr, crate::transport::tls::ServerTls::from_settings(s)?))
            }
            _ => None,
        };
        let fhir = match (sim.audit_fhir_bind, &sim.tls) {
            (Some(addr), Some(s)) => {
                crate::transport::install_crypto_provider();
                Some((
                    addr,
                    Some(crate::transport::tls::ServerTls::from_settings(s)?),
                ))
            }
            (Some(addr), None) => Some((addr, None)),
            _ => None,
        };
        if tls.is_none() && sim.audit_udp_bind.is_none() && fhir.is_none() {
            return Ok(None);
        }
        AuditListeners::start(tls, sim.audit_udp_bind, fhir)
            .await
            .map(Some)
    }

    /// The FHIR base the SUT posts `[base]/AuditEvent` to (`https://127.0.0.1:port`), when the
    /// repository takes the FHIR Feed.
    pub fn fhir_base(&self) -> Option<String> {
        self.fhir_addr
            .map(|a| format!("{}://{a}", if self.fhir_https { "https" } else { "http" }))
    }

    async fn start(
        tls: Option<(SocketAddr, crate::transport::tls::ServerTls)>,
        udp: Option<SocketAddr>,
        fhir: Option<(SocketAddr, Option<crate::transport::tls::ServerTls>)>,
    ) -> Result<AuditListeners, AuditListenError> {
        let repository = AuditRepository::new(AuditRepositoryOptions::default());
        let handshakes = Arc::new(crate::transport::tls::listener::HandshakeLog::default());
        let mut tasks = Vec::new();
        let mut tls_addr = None;
        let mut udp_addr = None;
        if let Some((addr, server)) = tls {
            let config = Arc::new(server.config()?);
            let listener = bind_tcp(addr).await?;
            tls_addr = listener.local_addr().ok();
            tasks.push(repository.spawn_tls(listener, config, handshakes.clone()));
        }
        if let Some(addr) = udp {
            let socket = bind_udp(addr).await?;
            udp_addr = socket.local_addr().ok();
            tasks.push(repository.spawn_udp(socket));
        }
        let mut fhir_addr = None;
        let mut fhir_https = false;
        let mut fhir_handshakes =
            Arc::new(crate::transport::tls::listener::HandshakeLog::default());
        if let Some((addr, server)) = fhir {
            let tcp = bind_tcp(addr).await?;
            fhir_addr = tcp.local_addr().ok();
            let app = repository
                .router()
                .into_make_service_with_connect_info::<FeedPeer>();
            match server {
                Some(server) => {
                    let config = Arc::new(server.config()?);
                    let listener = crate::transport::tls::listener::TlsListener::new(tcp, config)
                        .map_err(|source| AuditListenError::Bind { addr, source })?;
                    fhir_handshakes = listener.log();
                    fhir_https = true;
                    tasks.push(tokio::spawn(async move {
                        let _ = axum::serve(listener, app).await;
                    }));
                }
                None => tasks.push(tokio::spawn(async move {
                    let _ = axum::serve(tcp, app).await;
                })),
            }
        }
        Ok(AuditListeners {
            repository,
            tls_addr,
            udp_addr,
            handshakes,
            fhir_addr,
            fhir_https,
            fhir_handshakes,
            client: None,
            _tasks: Tasks(tasks),
        })
    }
}
