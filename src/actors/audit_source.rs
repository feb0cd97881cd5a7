//! The harness as a Secure Node that sends audit messages (IHE ATNA ITI-20 Record Audit Event,
//! sending side) to a SUT that is an Audit Record Repository: syslog over TLS (RFC 5425: the
//! harness's client certificate, octet-counted RFC 5424 frames), syslog over UDP (RFC 5426: one
//! message, one datagram) and the FHIR AuditEvent feed of RESTful ATNA (`POST [base]/AuditEvent`,
//! `application/fhir+json`); and, as Audit Consumer, the ITI-81 search of what the repository
//! holds (`GET [base]/AuditEvent?…`).
//!
//! Every send is one evidence [`Exchange`] of [`Transaction::Iti20`] with the bytes sent and a
//! command that repeats it (`openssl s_client`, `nc -u`, `curl`). What the repository did with a
//! syslog/TLS session is in the request header [`SESSION_HEADER`] of its exchange: the
//! [`crate::checks::arr`] rules judge it. A refused connection, a failed handshake and an
//! unreachable host are the exchange's `failure` (an Error, not a verdict on the repository).
//!
//! [`own_audit`] writes the audit of a transaction the harness initiated
//! (`checks::atna::transaction::build`, the harness on the initiator side), for
//! `[audit_repository] send_own_audits`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::checks::atna::family::TRANSPORT_HEADER;
use crate::checks::atna::transaction::{self, AuditFacts, Audited, Party, Side};
use crate::config::audit::AuditRepository;
use crate::evidence::{Body, Direction, Exchange, HttpRequest, TransportFailure};
use crate::model::audit::AuditMessage;
use crate::transaction::Transaction;
use crate::transport::http::{shell_quote, HttpClient, Meta, Request};
use crate::transport::syslog::{self, SyslogMessage};
use crate::transport::tls::{ClientTls, TlsRecord};

/// The request header of a syslog/TLS exchange that says how the session ended: [`SESSION_OPEN`]
/// when the repository kept it open until the harness closed it, else what the repository did.
pub const SESSION_HEADER: &str = "Audit-Session";

/// [`SESSION_HEADER`] of a session the repository kept open until the harness closed it.
pub const SESSION_OPEN: &str = "kept open until the harness closed it";

/// The FHIR media type.
pub const FHIR_JSON: &str = "application/fhir+json";

/// The actor the harness plays when it sends audits.
pub const SECURE_NODE: &str = "Secure Node (audit source)";

/// The actor the harness plays when it searches audits.
pub const AUDIT_CONSUMER: &str = "Audit Consumer";

/// How long the harness watches a syslog/TLS session after its frames, for a close or a reset.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Connect and handshake timeout of the syslog transports.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn exchange(transport: &str, url: String, body: Bytes, repro: String) -> Exchange {
    Exchange {
        seq: 0,
        transaction: Transaction::Iti20,
        operation: format!("Record Audit Event ({transport})"),
        actor: SECURE_NODE.into(),
        direction: Direction::Outbound,
        started_at: crate::evidence::now_rfc3339(),
        time_to_headers: None,
        elapsed: Duration::ZERO,
        request: HttpRequest {
            method: "SYSLOG".into(),
            url,
            headers: vec![(TRANSPORT_HEADER.to_string(), transport.to_string())],
            body: Body::from_bytes(body),
        },
        response: None,
        multipart: None,
        failure: None,
        repro,
        dimse: None,
        tls: None,
    }
}

fn fail(ex: &mut Exchange, kind: &str, message: String) {
    ex.failure = Some(TransportFailure {
        kind: kind.into(),
        message,
    });
}

/// The shell command that replays the frames of a syslog/TLS exchange with `openssl s_client`.
fn openssl_repro(addr: &str, name: &str, files: &str) -> String {
    format!(
        "f=@request.body; openssl s_client -quiet -connect {} -servername {}{files} < \"${{f#@}}\"",
        shell_quote(addr),
        shell_quote(name)
    )
}

/// The `openssl s_client` options for the profile's TLS files.
pub fn openssl_tls_options(r: &AuditRepository) -> String {
    let Some(s) = &r.tls else {
        return String::new();
    };
    let q = |p: &std::path::Path| shell_quote(&p.display().to_string());
    let mut out = String::new();
    if let Some(ca) = &s.ca_file {
        out.push_str(&format!(" -CAfile {} -verify_return_error", q(ca)));
    }
    if let Some(c) = &s.cert_file {
        out.push_str(&format!(" -cert {}", q(c)));
    }
    if let Some(k) = &s.key_file {
        out.push_str(&format!(" -key {}", q(k)));
    }
    out
}

/// Send `messages` (RFC 5424 messages) on one syslog/TLS session to `addr` (`host:port`), each
/// as an octet-counted frame, then watch the session for [`SETTLE`] before closing it with
/// close_notify. The exchange records the frames, the handshake (the certificates both sides
/// presented) and, in [`SESSION_HEADER`], how the session ended.
pub async fn send_tls(
    addr: &str,
    client: &ClientTls,
    tls_files: &str,
    messages: &[Vec<u8>],
) -> Exchange {
    send_tls_wire(addr, client, tls_files, &frames(messages)).await
}

/// The octet-counted frames of `messages`, one after the other.
pub fn frames(messages: &[Vec<u8>]) -> Vec<u8> {
    messages.iter().flat_map(|m| syslog::frame(m)).collect()
}

/// [`send_tls`] with the bytes to write given as they go on the wire.
pub async fn send_tls_wire(
    addr: &str,
    client: &ClientTls,
    tls_files: &str,
    wire: &[u8],
) -> Exchange {
    let host = AuditRepository::host_of(addr).to_string();
    let name = client.name_for(&host);
    let mut ex = exchange(
        "syslog/TLS",
        format!("syslog+tls://{addr}"),
        Bytes::copy_from_slice(wire),
        openssl_repro(addr, &name, tls_files),
    );
    let t0 = Instant::now();
    crate::transport::install_crypto_provider();
    let config = match client.config() {
        Ok(c) => c,
        Err(e) => {
            fail(&mut ex, "config", format!("TLS client configuration: {e}"));
            return ex;
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp =
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                fail(&mut ex, "connect", format!("cannot connect to {addr}: {e}"));
                return ex;
            }
            Err(_) => {
                fail(
                    &mut ex,
                    "timeout",
                    format!(
                        "no connection to {addr} within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    ),
                );
                return ex;
            }
        };
    let server_name = match rustls::pki_types::ServerName::try_from(name.clone()) {
        Ok(n) => n,
        Err(e) => {
            fail(&mut ex, "config", format!("server name {name}: {e}"));
            return ex;
        }
    };
    let mut stream =
        match tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(server_name, tcp)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let cause =
                    crate::transport::tls::cause_in_chain(&e).unwrap_or_else(|| e.to_string());
                ex.tls = Some(TlsRecord {
                    failure: Some(cause.clone()),
                    ..TlsRecord::default()
                });
                fail(
                    &mut ex,
                    "tls",
                    format!("the TLS handshake with {addr} failed: {cause}"),
                );
                return ex;
            }
            Err(_) => {
                fail(
                    &mut ex,
                    "timeout",
                    format!(
                        "no TLS handshake with {addr} within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    ),
                );
                return ex;
            }
        };
    ex.tls = Some(TlsRecord::of_connection(stream.get_ref().1));
    ex.time_to_headers = Some(t0.elapsed());
    let session = match stream.write_all(wire).await {
        Err(e) if alert(&e).is_some() => refused(&mut ex, addr, &e),
        Err(e) => format!("reset while the harness wrote its frames: {e}"),
        Ok(()) => match stream.flush().await {
            Err(e) if alert(&e).is_some() => refused(&mut ex, addr, &e),
            Err(e) => format!("reset while the harness wrote its frames: {e}"),
            Ok(()) => {
                let mut buf = [0u8; 512];
                let mut extra = 0usize;
                let deadline = Instant::now() + SETTLE;
                loop {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break SESSION_OPEN.to_string();
                    }
                    match tokio::time::timeout(left, stream.read(&mut buf)).await {
                        Err(_) => break SESSION_OPEN.to_string(),
                        Ok(Ok(0)) => {
                            break "closed by the repository (close_notify) before the harness closed it".to_string()
                        }
                        Ok(Ok(n)) => extra += n,
                        Ok(Err(e)) if alert(&e).is_some() => break refused(&mut ex, addr, &e),
                        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                            break "closed by the repository without close_notify (TCP close) before the harness closed it".to_string()
                        }
                        Ok(Err(e)) => break format!("reset by the repository: {e}"),
                    }
                }
                .to_string()
                    + &if extra > 0 {
                        format!(" (the repository wrote {extra} bytes of application data)")
                    } else {
                        String::new()
                    }
            }
        },
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.shutdown()).await;
    ex.request
        .headers
        .push((SESSION_HEADER.to_string(), session));
    ex.elapsed = t0.elapsed();
    ex
}

/// The TLS alert the repository sent, if the error is one: with TLS 1.3 a server judges the
/// client certificate after the client's handshake is done, so a refused certificate shows as an
/// alert on the first read or write.
fn alert(e: &std::io::Error) -> Option<String> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        r @ rustls::Error::AlertReceived(_) => Some(crate::transport::tls::cause(r)),
        _ => None,
    }
}

/// A session the repository ended with a TLS alert: the harness's certificate or TLS settings
/// were refused, which is the configuration's matter (an Error), not a verdict.
fn refused(ex: &mut Exchange, addr: &str, e: &std::io::Error) -> String {
    let cause = alert(e).unwrap_or_else(|| e.to_string());
    if let Some(t) = ex.tls.as_mut() {
        t.failure = Some(cause.clone());
    }
    fail(
        ex,
        "tls",
        format!("{addr} ended the TLS session with an alert after the handshake (is the harness's client certificate trusted?): {cause}"),
    );
    format!("ended by a TLS alert: {cause}")
}

/// Send one RFC 5424 message as one UDP datagram to `addr` (`host:port`, RFC 5426). A datagram
/// gets no answer: only a local error (no route, a message too large) is recorded.
pub async fn send_udp(addr: &str, message: &[u8]) -> Exchange {
    let host = AuditRepository::host_of(addr).to_string();
    let port = addr.rsplit_once(':').map(|(_, p)| p).unwrap_or("514");
    let mut ex = exchange(
        "syslog/UDP",
        format!("syslog+udp://{addr}"),
        Bytes::copy_from_slice(message),
        format!(
            "f=@request.body; nc -u -w1 {} {} < \"${{f#@}}\"",
            shell_quote(&host),
            shell_quote(port)
        ),
    );
    let t0 = Instant::now();
    let target = match tokio::net::lookup_host(addr).await.map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) | Err(_) => {
            fail(&mut ex, "connect", format!("cannot resolve {addr}"));
            return ex;
        }
    };
    let local: std::net::SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let result = async {
        let sock = tokio::net::UdpSocket::bind(local).await?;
        sock.send_to(message, target).await
    }
    .await;
    if let Err(e) = result {
        fail(&mut ex, "connect", format!("cannot send to {addr}: {e}"));
    }
    ex.elapsed = t0.elapsed();
    ex
}

/// The HTTP client of the repository's FHIR base.
pub fn http_client(
    r: &AuditRepository,
    limits: &crate::config::Limits,
) -> Result<HttpClient, crate::transport::http::HttpError> {
    let settings = crate::transport::factory::HttpSettings::new(
        crate::config::Auth::None,
        crate::config::Timeouts::default(),
    )
    .with_limits(limits);
    let settings = match (&r.client, &r.tls) {
        (Some(c), _) => settings.with_tls(c.clone(), String::new()),
        (None, s) => settings.with_tls_settings(s.as_ref())?,
    };
    crate::transport::factory::http_client(&settings)
}

/// POST the audit as a FHIR AuditEvent to `[base]/AuditEvent` (RESTful ATNA feed).
pub async fn send_fhir(http: &HttpClient, base: &str, event: &serde_json::Value) -> Exchange {
    let req = Request {
        method: reqwest::Method::POST,
        url: format!("{}/AuditEvent", base.trim_end_matches('/')),
        headers: vec![
            ("Content-Type".into(), format!("{FHIR_JSON}; charset=UTF-8")),
            ("Accept".into(), FHIR_JSON.into()),
        ],
        body: Bytes::from(serde_json::to_vec(event).unwrap_or_default()),
    };
    let mut ex = http
        .exchange(
            Meta {
                transaction: Transaction::Iti20,
                operation: "Record Audit Event (FHIR AuditEvent feed)".into(),
                actor: SECURE_NODE,
            },
            req,
        )
        .await;
    ex.request
        .headers
        .push((TRANSPORT_HEADER.to_string(), "FHIR AuditEvent".to_string()));
    ex
}

/// ITI-81: `GET [base]/AuditEvent?params`, asking for FHIR JSON.
pub async fn search(http: &HttpClient, base: &str, params: &[(String, String)]) -> Exchange {
    let mut url = format!("{}/AuditEvent", base.trim_end_matches('/'));
    if !params.is_empty() {
        url.push('?');
        url.push_str(&crate::actors::qido_rs::query_string(params));
    }
    http.exchange(
        Meta {
            transaction: Transaction::Iti81,
            operation: "Retrieve ATNA Audit Event".into(),
            actor: AUDIT_CONSUMER,
        },
        Request::get(url, Some(FHIR_JSON)),
    )
    .await
}

/// The syslog message of an audit the harness sends (facility 10, severity 5, MSGID
/// IHE+RFC-3881, the DICOM XML with its BOM).
pub fn syslog_message(audit: &AuditMessage, hostname: &str) -> Vec<u8> {
    SyslogMessage::audit(
        syslog_timestamp(),
        hostname,
        "ihe-harness",
        audit.to_xml().into_bytes(),
    )
    .to_bytes()
}

/// Now, as RFC 5424 §6.2.3 writes a TIMESTAMP (at most six fraction digits).
pub fn syslog_timestamp() -> String {
    let t = crate::evidence::now_rfc3339();
    match (t.find('.'), t.rfind(['Z', '+'])) {
        (Some(dot), Some(end)) if end > dot => {
            let digits = (end - dot - 1).min(6);
            format!("{}{}", &t[..dot + 1 + digits], &t[end..])
        }
        _ => t,
    }
}

/// The audit table a transaction of the harness is audited under, where one exists.
pub fn audited(t: Transaction) -> Option<Audited> {
    match t {
        Transaction::Iti18 => Some(Audited::Iti18),
        Transaction::Iti41 => Some(Audited::Iti41),
        Transaction::Rad68 => Some(Audited::Rad68),
        Transaction::Iti43 => Some(Audited::Iti43),
        Transaction::Rad69 => Some(Audited::Rad69),
        Transaction::Iti65 => Some(Audited::Iti65),
        Transaction::Iti66 => Some(Audited::Iti66),
        Transaction::Iti67 => Some(Audited::Iti67),
        Transaction::Iti68 => Some(Audited::Iti68),
        _ => None,
    }
}

/// The audit the harness, as initiator, writes of one exchange it made: the transaction's event,
/// the harness as the requesting participant, the SUT's URL as the other, the patient when the
/// harness knows it. None when no audit table covers the transaction.
pub fn own_audit(ex: &Exchange, patient_id: Option<String>) -> Option<AuditMessage> {
    let audited = audited(ex.transaction)?;
    let host = url::Url::parse(&ex.request.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    let harness = Party {
        user_id: "ihe-harness".into(),
        alternative_user_id: Some(std::process::id().to_string()),
        network_access_point: Some(local_host_name()),
    };
    let sut = Party {
        user_id: ex.request.url.clone(),
        alternative_user_id: None,
        network_access_point: host,
    };
    // The Source (RoleIDCode 110153) is the side data flows from: the harness for a query (the
    // query flows to the responder) or a provide, the SUT for a retrieve.
    let (source, destination) = match audited {
        Audited::Iti43 | Audited::Rad69 | Audited::Iti68 => (sut, harness),
        _ => (harness, sut),
    };
    let outcome = match (ex.failure.is_some(), ex.status()) {
        (false, Some(s)) if (200..300).contains(&s) => "0",
        (false, Some(_)) => "4",
        _ => "8",
    };
    let facts = AuditFacts {
        date_time: ex.started_at.clone(),
        outcome: outcome.into(),
        source,
        destination,
        audit_source_id: "ihe-harness".into(),
        patient_id,
        submission_set: None,
        query_id: None,
        query: ex.request.url.clone().into_bytes(),
        documents: Vec::new(),
        studies: Vec::new(),
    };
    Some(transaction::build(audited, Side::Initiator, &facts))
}

/// The patient an exchange of the harness is about, as a CX, when its request names one: the
/// `patient.identifier` or `subject.identifier` of a FHIR search (`system|value`, an OID system
/// becoming the assigning authority), or the `$XDSDocumentEntryPatientId` of a stored query.
pub fn patient_of(ex: &Exchange) -> Option<String> {
    let cx = |system: &str, value: &str| {
        let authority = system.strip_prefix("urn:oid:").unwrap_or(system);
        if authority.is_empty() {
            value.to_string()
        } else {
            format!("{value}^^^&{authority}&ISO")
        }
    };
    if let Ok(u) = url::Url::parse(&ex.request.url) {
        for (k, v) in u.query_pairs() {
            if matches!(k.as_ref(), "patient.identifier" | "subject.identifier") {
                return Some(match v.split_once('|') {
                    Some((system, value)) => cx(system, value),
                    None => v.to_string(),
                });
            }
        }
    }
    let body = std::str::from_utf8(&ex.request.body.kept).ok()?;
    let at = body.find("$XDSDocumentEntryPatientId")?;
    let rest = &body[at..];
    let open = rest.find("<Value>")? + "<Value>".len();
    let close = rest[open..].find("</Value>")?;
    let v = rest[open..open + close]
        .trim()
        .trim_matches('\'')
        .replace("&amp;", "&");
    (!v.is_empty()).then_some(v)
}

/// The name the harness gives itself in audits: `HOSTNAME`, else `localhost`.
pub fn local_host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty() && h.is_ascii())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_connection_and_a_silent_port_are_recorded_not_panicked() {
        let ex = send_tls("127.0.0.1:1", &ClientTls::default(), "", &[b"x".to_vec()]).await;
        assert_eq!(
            ex.failure.as_ref().map(|f| f.kind.as_str()),
            Some("connect")
        );
        assert!(ex.repro.contains("openssl s_client"));
        let ex = send_udp("127.0.0.1:9", b"<85>1 - - - - - -").await;
        assert!(ex.failure.is_none());
        assert!(ex.repro.contains("nc -u"));
        let ex = send_udp("no-such-host.invalid:514", b"x").await;
        assert!(ex.failure.is_some());
    }

    #[test]
    fn own_audits_cover_the_audited_transactions_only() {
        let mut ex = Exchange::synthetic(
            "http://sut/fhir/DocumentReference?patient=1",
            &[],
            200,
            &[],
            b"",
        );
        ex.transaction = Transaction::Iti67;
        let a = own_audit(&ex, Some("P1^^^&1.2&ISO".into())).expect("an audit");
        assert!(a.has_event_type("ITI-67"));
        assert!(crate::checks::atna::validate_message(&a).is_empty());
        ex.transaction = Transaction::Rad107;
        assert!(own_audit(&ex, None).is_none());
        let ex = Exchange::synthetic(
            "http://sut/fhir/DocumentReference?patient.identifier=urn:oid:1.2.3|P7&status=current",
            &[],
            200,
            &[],
            b"",
        );
        assert_eq!(patient_of(&ex).as_deref(), Some("P7^^^&1.2.3&ISO"));
        let mut ex = Exchange::synthetic("http://sut/xds/registry", &[], 200, &[], b"");
        ex.request.body = Body::from_bytes(Bytes::from_static(
            b"<Slot name=\"$XDSDocumentEntryPatientId\"><ValueList><Value>'P8^^^&amp;1.2&amp;ISO'</Value></ValueList></Slot>",
        ));
        assert_eq!(patient_of(&ex).as_deref(), Some("P8^^^&1.2&ISO"));
    }
}
