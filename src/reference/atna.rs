//! The embedded Audit Record Repository (IHE ATNA): what the ARR scenarios test when no SUT
//! profile is given. It takes syslog over TLS (RFC 5425, client certificates of its test CA
//! required) and over UDP (RFC 5426), and the FHIR AuditEvent feed (`POST /fhir/AuditEvent`),
//! recording everything in a [`AuditRepository`]'s inbox, and answers ITI-81 Retrieve ATNA Audit
//! Event (`GET /fhir/AuditEvent?…`) over what it recorded: every audit message received, written
//! as a FHIR AuditEvent ([`crate::model::audit::fhir::write_fhir_json`]) with its arrival number
//! as id, filtered by the RESTful ATNA search parameters `date`, `patient`, `type`, `subtype`,
//! `outcome`, `address`, `agent-name`, `entity-type`, `entity-role` and `source` (others are
//! ignored, as FHIR R4 search.html lets a server do).
//!
//! The `arr-*` [`Fault`]s make it a faulty repository: a TLS session dropped after its first
//! frame, a feed answering 200 without Location or 400, a search answering a collection Bundle or
//! ignoring the patient, UDP datagrams taken and never recorded.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

use crate::actors::audit_repository::{
    AuditRepository, AuditRepositoryOptions, AuditTransport, Tasks,
};
use crate::model::audit::{fhir, AuditMessage};
use crate::reference::{Fault, ReferenceError};
use crate::transport::tls::{pki::TestPki, ClientAuth, ClientTls, ServerTls, Versions};

/// The embedded repository, listening on loopback until dropped.
pub struct EmbeddedArr {
    /// Its syslog/TLS address.
    pub tls_addr: SocketAddr,
    /// Its syslog/UDP address.
    pub udp_addr: SocketAddr,
    /// Its FHIR base (`http://127.0.0.1:PORT/fhir`).
    pub fhir_base: String,
    /// The TLS client the harness uses towards it: trusts its test CA, presents a client
    /// certificate of that CA.
    pub client: ClientTls,
    /// What it received.
    pub repository: AuditRepository,
    _tasks: Tasks,
}

impl std::fmt::Debug for EmbeddedArr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedArr")
            .field("tls_addr", &self.tls_addr)
            .field("udp_addr", &self.udp_addr)
            .field("fhir_base", &self.fhir_base)
            .finish()
    }
}

#[derive(Clone)]
struct Arr {
    repo: AuditRepository,
    faults: Arc<BTreeSet<Fault>>,
}

impl EmbeddedArr {
    /// Start on loopback (free ports) with these faults.
    pub async fn start(faults: &BTreeSet<Fault>) -> Result<EmbeddedArr, ReferenceError> {
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
        let repo = AuditRepository::new(AuditRepositoryOptions::default());
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let bind_err = |addr: SocketAddr| move |source| ReferenceError::Bind { addr, source };
        let tcp = TcpListener::bind(loopback)
            .await
            .map_err(bind_err(loopback))?;
        let udp = UdpSocket::bind(loopback)
            .await
            .map_err(bind_err(loopback))?;
        let http = TcpListener::bind(loopback)
            .await
            .map_err(bind_err(loopback))?;
        let tls_addr = tcp.local_addr().map_err(bind_err(loopback))?;
        let udp_addr = udp.local_addr().map_err(bind_err(loopback))?;
        let http_addr = http.local_addr().map_err(bind_err(loopback))?;
        let config = Arc::new(server.config()?);
        let log = Arc::new(crate::transport::tls::listener::HandshakeLog::default());
        let mut tasks = Vec::new();
        if faults.contains(&Fault::ArrSyslogClosesOnFirstFrame) {
            tasks.push(spawn_dropping_tls(repo.clone(), tcp, config, log));
        } else {
            tasks.push(repo.spawn_tls(tcp, config, log));
        }
        if faults.contains(&Fault::ArrUdpDrops) {
            // Takes the datagrams (the socket stays bound) and records none.
            tasks.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                while udp.recv_from(&mut buf).await.is_ok() {}
            }));
        } else {
            tasks.push(repo.spawn_udp(udp));
        }
        let state = Arr {
            repo: repo.clone(),
            faults: Arc::new(faults.clone()),
        };
        let app = Router::new()
            .route(
                "/fhir/AuditEvent",
                post(feed)
                    .get(search)
                    .layer(axum::extract::DefaultBodyLimit::max(
                        repo.options().max_message.saturating_mul(2),
                    )),
            )
            .with_state(state);
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(
                http,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        }));
        Ok(EmbeddedArr {
            tls_addr,
            udp_addr,
            fhir_base: format!("http://{http_addr}/fhir"),
            client,
            repository: repo,
            _tasks: Tasks(tasks),
        })
    }

    /// The `[audit_repository]` of a profile that names this repository.
    pub fn config(&self) -> crate::config::audit::AuditRepository {
        crate::config::audit::AuditRepository {
            syslog_tls: Some(self.tls_addr.to_string()),
            syslog_udp: Some(self.udp_addr.to_string()),
            fhir: Some(self.fhir_base.clone()),
            query: true,
            send_own_audits: false,
            tls: None,
            client: Some(self.client.clone()),
        }
    }
}

/// The faulty TLS listener: handshake, read one frame, record it, drop the TCP connection
/// without close_notify.
fn spawn_dropping_tls(
    repo: AuditRepository,
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    log: Arc<crate::transport::tls::listener::HandshakeLog>,
) -> JoinHandle<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let log = log.clone();
            let repo = repo.clone();
            tokio::spawn(async move {
                let Some(tls) = crate::transport::tls::listener::handshake(
                    &acceptor,
                    stream,
                    peer,
                    &log,
                    crate::transport::tls::listener::HANDSHAKE_TIMEOUT,
                )
                .await
                else {
                    return;
                };
                let mut reader =
                    crate::transport::syslog::FrameReader::new(tls, repo.options().max_message);
                if let Ok(Ok(Some(frame))) =
                    tokio::time::timeout(std::time::Duration::from_secs(10), reader.next_frame())
                        .await
                {
                    // Recorded as any frame is (through a stream holding it alone), then the
                    // connection is dropped.
                    let one = crate::transport::syslog::frame(&frame);
                    let (mut w, r) = tokio::io::duplex(one.len() + 1);
                    let _ = tokio::io::AsyncWriteExt::write_all(&mut w, &one).await;
                    drop(w);
                    let _ = repo.handle_stream(r, Some(peer), AuditTransport::Tls).await;
                }
                let tls = reader.into_inner();
                let (tcp, _) = tls.into_inner();
                drop(tcp);
            });
        }
    })
}

async fn feed(
    State(arr): State<Arr>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let line = crate::actors::audit_repository::FeedLine {
        method: "POST".into(),
        target: "/AuditEvent".into(),
        content_type: headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let (seq, ok) = arr.repo.record_fhir(Some(peer), line, body);
    let fhir_json = [("content-type", "application/fhir+json")];
    if !ok || arr.faults.contains(&Fault::ArrFeed400) {
        let diag = arr
            .repo
            .inbox()
            .get(seq)
            .and_then(|r| r.violations.first().map(|v| v.message.clone()))
            .unwrap_or_else(|| "refused".into());
        let outcome = json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": diag}]
        });
        return (StatusCode::BAD_REQUEST, fhir_json, outcome.to_string()).into_response();
    }
    let created = arr
        .repo
        .inbox()
        .get(seq)
        .and_then(|r| r.audit)
        .map(|a| resource(seq, &a))
        .unwrap_or(Value::Null)
        .to_string();
    if arr.faults.contains(&Fault::ArrFeed200NoLocation) {
        return (StatusCode::OK, fhir_json, created).into_response();
    }
    (
        StatusCode::CREATED,
        [
            ("content-type", "application/fhir+json".to_string()),
            ("location", format!("AuditEvent/{seq}/_history/1")),
        ],
        created,
    )
        .into_response()
}

/// A received audit as the AuditEvent the search returns.
fn resource(seq: usize, a: &AuditMessage) -> Value {
    let mut v = fhir::write_fhir_json(a);
    v["id"] = json!(seq.to_string());
    v
}

/// A search parameter the handler understands, parsed.
enum Param {
    DateGe(time::OffsetDateTime),
    DateLe(time::OffsetDateTime),
    Patient(String),
    Token(&'static str, Option<String>, String),
    Text(&'static str, String),
}

fn instant(s: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .or_else(|| {
            let d = time::Date::parse(
                s.trim(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()?;
            Some(d.midnight().assume_utc())
        })
}

fn token(v: &str) -> (Option<String>, String) {
    match v.split_once('|') {
        Some((s, c)) => (Some(s.to_string()), c.to_string()),
        None => (None, v.to_string()),
    }
}

fn parse_params(query: &str) -> Result<Vec<Param>, String> {
    let mut out = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let p = match k.as_ref() {
            "date" => {
                let (op, rest) = v.split_at(v.len().min(2));
                let (op, value) = if op.chars().all(|c| c.is_ascii_alphabetic()) && v.len() > 2 {
                    (op, rest)
                } else {
                    ("eq", v.as_ref())
                };
                let t = instant(value).ok_or_else(|| format!("date {v} is not a date"))?;
                match op {
                    "ge" | "gt" | "sa" => Param::DateGe(t),
                    "le" | "lt" | "eb" => Param::DateLe(t + time::Duration::seconds(1)),
                    _ => {
                        out.push(Param::DateGe(t));
                        Param::DateLe(t + time::Duration::seconds(1))
                    }
                }
            }
            "patient" => Param::Patient(
                v.rsplit_once("Patient/")
                    .map(|(_, id)| id.to_string())
                    .unwrap_or_else(|| v.to_string()),
            ),
            "type" | "subtype" | "outcome" | "entity-type" | "entity-role" => {
                let name: &'static str = match k.as_ref() {
                    "type" => "type",
                    "subtype" => "subtype",
                    "outcome" => "outcome",
                    "entity-type" => "entity-type",
                    _ => "entity-role",
                };
                let (s, c) = token(&v);
                Param::Token(name, s, c)
            }
            "address" => Param::Text("address", v.to_string()),
            "agent-name" => Param::Text("agent-name", v.to_string()),
            "source" => Param::Text("source", v.to_string()),
            _ => continue,
        };
        out.push(p);
    }
    Ok(out)
}

fn system_matches(want: &Option<String>, system_name: Option<&str>) -> bool {
    let Some(w) = want else {
        return true;
    };
    let name = match w.as_str() {
        fhir::DCM_SYSTEM => crate::model::audit::DCM,
        fhir::IHE_EVENT_TYPE_SYSTEM => crate::model::audit::IHE_TRANSACTIONS,
        other => other,
    };
    system_name == Some(name) || (w.is_empty() && system_name.is_none())
}

fn matches(a: &AuditMessage, params: &[Param], faults: &BTreeSet<Fault>) -> bool {
    let e = a.event.clone().unwrap_or_default();
    let recorded = e.date_time.as_deref().and_then(instant);
    params.iter().all(|p| match p {
        Param::DateGe(t) => recorded.is_some_and(|r| r >= *t),
        Param::DateLe(t) => recorded.is_some_and(|r| r < *t),
        Param::Patient(_) if faults.contains(&Fault::ArrSearchIgnoresPatient) => true,
        Param::Patient(id) => a
            .participant_objects
            .iter()
            .filter(|o| o.is("1", "1"))
            .filter_map(|o| o.id.as_deref())
            .any(|cx| fhir::patient_logical_id(cx) == *id),
        Param::Token("type", s, c) => e
            .event_id
            .as_ref()
            .is_some_and(|x| x.code == *c && system_matches(s, x.code_system_name.as_deref())),
        Param::Token("subtype", s, c) => e
            .event_type_codes
            .iter()
            .any(|x| x.code == *c && system_matches(s, x.code_system_name.as_deref())),
        Param::Token("outcome", _, c) => e.outcome_indicator.as_deref() == Some(c.as_str()),
        Param::Token("entity-type", _, c) => a
            .participant_objects
            .iter()
            .any(|o| o.type_code.as_deref() == Some(c.as_str())),
        Param::Token(_, _, c) => a
            .participant_objects
            .iter()
            .any(|o| o.type_code_role.as_deref() == Some(c.as_str())),
        Param::Text("address", v) => a
            .active_participants
            .iter()
            .any(|p| p.network_access_point_id.as_deref() == Some(v.as_str())),
        Param::Text("agent-name", v) => a.active_participants.iter().any(|p| {
            p.user_name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().starts_with(&v.to_lowercase()))
        }),
        Param::Text(_, v) => a.audit_sources.iter().any(|s| {
            s.audit_source_id
                .as_deref()
                .is_some_and(|id| v.ends_with(id))
        }),
    })
}

async fn search(State(arr): State<Arr>, RawQuery(query): RawQuery) -> Response {
    let fhir_json = [("content-type", "application/fhir+json")];
    let params = match parse_params(query.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => {
            let outcome = json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "invalid", "diagnostics": e}]
            });
            return (StatusCode::BAD_REQUEST, fhir_json, outcome.to_string()).into_response();
        }
    };
    let entries: Vec<Value> = arr
        .repo
        .inbox()
        .since(0)
        .into_iter()
        .filter_map(|r| r.audit.map(|a| (r.seq, a)))
        .filter(|(_, a)| matches(a, &params, &arr.faults))
        .map(|(seq, a)| {
            json!({
                "fullUrl": format!("AuditEvent/{seq}"),
                "resource": resource(seq, &a),
                "search": {"mode": "match"}
            })
        })
        .collect();
    let kind = if arr.faults.contains(&Fault::ArrSearchNotSearchset) {
        "collection"
    } else {
        "searchset"
    };
    let bundle = json!({
        "resourceType": "Bundle",
        "type": kind,
        "total": entries.len(),
        "entry": entries,
    });
    (StatusCode::OK, fhir_json, bundle.to_string()).into_response()
}
