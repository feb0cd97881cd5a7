//! ATNA Record Audit Event (ITI-20) steps: the harness's Audit Record Repository listens for
//! syslog over TLS (RFC 5425) and over UDP (RFC 5426), and for the FHIR Feed of RESTful ATNA
//! (`POST [base]/AuditEvent`, HTTPS); the profile's `audit_source_sends` trigger makes the SUT
//! send the audit of a transaction; the message must arrive within the trigger timeout and meet
//! every ATNA rule (`checks::atna`, judged as one family).
//!
//! Against the embedded reference a built-in audit source plays the SUT: it audits, as the
//! Document Registry, an ITI-18 Registry Stored Query it answered (facts of a fixture patient),
//! builds the message with `checks::atna::transaction::build` and sends it over TLS with the
//! run's test client certificate, over UDP, or as a FHIR AuditEvent (`model::audit::fhir::
//! to_fhir_json`) POSTed over HTTPS with that certificate; the `audit-*` reference faults make it
//! send what a faulty audit source sends. Its message is also judged against the ITI-18 audit table with
//! those facts; a real SUT's message against the transport and schema rules (the transaction it
//! audits is the SUT's own).

use std::sync::Arc;

use cucumber::{given, then, when};
use tokio::io::AsyncWriteExt;

use super::{harness_error, judge, not_applicable, StepError, StepResult};
use crate::actors::audit_repository::{AuditListeners, AuditTransport, ReceivedAudit};
use crate::checks::atna::family::{received_exchange, received_fhir_exchange};
use crate::checks::atna::transaction::{self, AuditFacts, Audited, Party, Side};
use crate::checks::atna::AtnaExpect;
use crate::checks::Expect;
use crate::reference::Fault;
use crate::transport::syslog::{self, SyslogMessage};
use crate::world::HarnessWorld;

async fn listeners(world: &mut HarnessWorld) -> Result<Arc<AuditListeners>, StepError> {
    let ctx = world.ctx.clone();
    let made = ctx
        .audit_listeners
        .get_or_init(|| async {
            if ctx.config.profile_path.is_none() {
                AuditListeners::embedded().await.map(|l| Some(Arc::new(l)))
            } else {
                AuditListeners::from_config(&ctx.config)
                    .await
                    .map(|l| l.map(Arc::new))
            }
            .map_err(|e| e.to_string())
        })
        .await
        .clone();
    match made {
        Ok(Some(l)) => Ok(l),
        Ok(None) => Err(not_applicable(
            world,
            "no Audit Record Repository",
            "the SUT profile places no audit listener for the harness ([simulator] audit_bind with [simulator.tls], audit_udp_bind or audit_fhir_bind)",
        )),
        Err(e) => Err(harness_error(world, "Audit Record Repository set-up", e)),
    }
}

#[given(regex = r"^the harness's Audit Record Repository listens for syslog over (TLS|UDP)$")]
async fn repository_listens(world: &mut HarnessWorld, transport: String) -> StepResult {
    let l = listeners(world).await?;
    let listening = match transport.as_str() {
        "TLS" => l.tls_addr.is_some(),
        _ => l.udp_addr.is_some(),
    };
    if !listening {
        return Err(not_applicable(
            world,
            "no audit listener",
            &format!(
                "the SUT profile places no syslog listener over {transport} for the harness ({})",
                if transport == "TLS" {
                    "[simulator] audit_bind with [simulator.tls]"
                } else {
                    "[simulator] audit_udp_bind"
                }
            ),
        ));
    }
    world.atna.audit_transport = Some(transport);
    Ok(())
}

#[given("the harness's Audit Record Repository listens for FHIR AuditEvent feeds")]
async fn repository_listens_fhir(world: &mut HarnessWorld) -> StepResult {
    let l = listeners(world).await?;
    if l.fhir_addr.is_none() {
        return Err(not_applicable(
            world,
            "no FHIR Feed listener",
            "the SUT profile places no FHIR AuditEvent listener for the harness ([simulator] audit_fhir_bind, with [simulator.tls] for HTTPS)",
        ));
    }
    world.atna.audit_transport = Some("FHIR".into());
    Ok(())
}

/// What the built-in audit source audits: the ITI-18 query it answered as the Document Registry.
fn builtin_facts(world: &HarnessWorld) -> AuditFacts {
    let authority = world
        .ctx
        .config
        .xds
        .as_ref()
        .map(|x| x.patient_id_authority.clone())
        .unwrap_or_else(|| crate::config::xds::DEFAULT_PATIENT_AUTHORITY.to_string());
    let patient = world
        .ctx
        .fixtures
        .instances
        .first()
        .map(|i| i.patient_id.clone())
        .unwrap_or_else(|| "HARNESS-1".into());
    let patient_id = format!("{patient}^^^&{authority}&ISO");
    let query = format!(
        "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\"><AdhocQuery id=\"{}\"><Slot name=\"$XDSDocumentEntryPatientId\"><ValueList><Value>'{patient_id}'</Value></ValueList></Slot></AdhocQuery></query:AdhocQueryRequest>",
        crate::model::ebrim::SQ_FIND_DOCUMENTS
    );
    AuditFacts {
        date_time: crate::evidence::now_rfc3339(),
        outcome: "0".into(),
        source: Party {
            user_id: "http://127.0.0.1/builtin-consumer".into(),
            alternative_user_id: None,
            network_access_point: Some("127.0.0.1".into()),
        },
        destination: Party {
            user_id: "http://localhost/xds/registry".into(),
            alternative_user_id: None,
            network_access_point: Some("localhost".into()),
        },
        audit_source_id: "IHE_REFERENCE".into(),
        patient_id: Some(patient_id),
        submission_set: None,
        query_id: Some(crate::model::ebrim::SQ_FIND_DOCUMENTS.into()),
        query: query.into_bytes(),
        documents: Vec::new(),
        studies: Vec::new(),
    }
}

/// Now, as RFC 5424 §6.2.3 writes a TIMESTAMP (at most six fraction digits).
fn syslog_timestamp() -> String {
    let t = crate::evidence::now_rfc3339();
    match (t.find('.'), t.rfind(['Z', '+'])) {
        (Some(dot), Some(end)) if end > dot => {
            let digits = (end - dot - 1).min(6);
            format!("{}{}", &t[..dot + 1 + digits], &t[end..])
        }
        _ => t,
    }
}

/// The audit message of the built-in audit source, with the run's faults on its content.
fn builtin_audit(world: &HarnessWorld, facts: &AuditFacts) -> crate::model::audit::AuditMessage {
    let has = |f: Fault| world.ctx.faults.contains(&f);
    let mut audit = transaction::build(Audited::Iti18, Side::Responder, facts);
    if let Some(e) = audit.event.as_mut() {
        if has(Fault::AuditInvalidActionCode) {
            e.action_code = Some("X".into());
        } else if has(Fault::AuditWrongActionCode) {
            e.action_code = Some("R".into());
        }
    }
    if has(Fault::AuditNoSourceParticipant) {
        audit.active_participants.retain(|p| {
            !p.role_id_codes
                .iter()
                .any(|c| c.code == transaction::SOURCE_ROLE)
        });
    }
    audit
}

/// The syslog message the built-in audit source sends, with the run's faults.
fn builtin_message(world: &HarnessWorld, facts: &AuditFacts) -> Vec<u8> {
    let has = |f: Fault| world.ctx.faults.contains(&f);
    let audit = builtin_audit(world, facts);
    let payload: Vec<u8> = if has(Fault::AuditXmlBomb) {
        let mut b = String::from(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE AuditMessage [\n<!ENTITY a \"aaaaaaaaaa\">\n",
        );
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            b.push_str(&format!(
                "<!ENTITY {name} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
            prev = name;
        }
        b.push_str("]>\n<AuditMessage>&i;</AuditMessage>");
        b.into_bytes()
    } else if has(Fault::AuditInvalidUtf8) {
        let mut x = audit.to_xml().into_bytes();
        x.splice(0..0, [0xC3u8, 0x28, 0xFF]);
        x
    } else {
        audit.to_xml().into_bytes()
    };
    let mut m = SyslogMessage::audit(syslog_timestamp(), "localhost", "ihe-reference", payload);
    if has(Fault::AuditWrongMsgid) {
        m.msgid = Some("AUDIT".into());
    }
    if has(Fault::AuditNoBom) {
        m.bom = false;
    }
    m.to_bytes()
}

/// The FHIR Feed request the built-in audit source sends: method, path, Content-Type and body,
/// with the run's faults.
fn builtin_feed(
    world: &HarnessWorld,
    facts: &AuditFacts,
) -> (&'static str, &'static str, &'static str, Vec<u8>) {
    let has = |f: Fault| world.ctx.faults.contains(&f);
    let audit = builtin_audit(world, facts);
    let mut json = crate::model::audit::fhir::to_fhir_json(&audit);
    if has(Fault::AuditFhirNoObserver) {
        if let Some(src) = json
            .get_mut("source")
            .and_then(serde_json::Value::as_object_mut)
        {
            src.remove("observer");
        }
    }
    if has(Fault::AuditFhirRecordedNotInstant) {
        // The same moment without its zone: an xs:dateTime, not a FHIR instant.
        json["recorded"] = serde_json::Value::String(
            facts
                .date_time
                .trim_end_matches('Z')
                .split('+')
                .next()
                .unwrap_or_default()
                .to_string(),
        );
    }
    if has(Fault::AuditFhirOversized) {
        json["outcomeDesc"] = serde_json::Value::String("x".repeat(100_000));
    }
    let body = if has(Fault::AuditFhirNotJson) {
        audit.to_xml().into_bytes()
    } else {
        json.to_string().into_bytes()
    };
    let (method, path) = if has(Fault::AuditFhirUpdate) {
        ("PUT", "/AuditEvent/builtin-1")
    } else {
        ("POST", "/AuditEvent")
    };
    let content_type = if has(Fault::AuditFhirWrongMediaType) {
        "text/plain"
    } else {
        "application/fhir+json; charset=utf-8"
    };
    (method, path, content_type, body)
}

/// The built-in audit source's TLS session with the listener at `addr`: the run's test client
/// certificate, the test CA, the name `localhost`.
async fn builtin_connect(
    l: &AuditListeners,
    addr: std::net::SocketAddr,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    let client = l
        .client
        .as_ref()
        .ok_or("no client for the built-in audit source")?;
    let config = client.config().map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from(client.name_for("localhost"))
        .map_err(|e| e.to_string())?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())
}

/// The built-in audit source posts its AuditEvent to the FHIR Feed listener over HTTPS with the
/// run's test client certificate (HTTP/1.1, one request, the connection closed after the answer);
/// a failure to send is the harness's.
async fn builtin_send_fhir(world: &HarnessWorld, l: &AuditListeners) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let facts = builtin_facts(world);
    let (method, path, content_type, body) = builtin_feed(world, &facts);
    let addr = l
        .fhir_addr
        .ok_or("the repository does not listen for the FHIR Feed")?;
    let mut s = builtin_connect(l, addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost:{}\r\nContent-Type: {content_type}\r\nAccept: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        addr.port(),
        body.len()
    );
    s.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    // The repository may answer (413) before the whole of an oversized body is read.
    let _ = s.write_all(&body).await;
    let _ = s.flush().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        s.read_to_end(&mut answer),
    )
    .await;
    Ok(())
}

/// The built-in audit source sends its message; a failure to send is the harness's.
async fn builtin_send(world: &HarnessWorld, l: &AuditListeners, tls: bool) -> Result<(), String> {
    let facts = builtin_facts(world);
    let message = builtin_message(world, &facts);
    let has = |f: Fault| world.ctx.faults.contains(&f);
    if !tls {
        let addr = l
            .udp_addr
            .ok_or("the repository does not listen over UDP")?;
        let sock = tokio::net::UdpSocket::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| e.to_string())?;
        sock.send_to(&message, addr)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    let addr = l
        .tls_addr
        .ok_or("the repository does not listen over TLS")?;
    let mut s = builtin_connect(l, addr).await?;
    let wire = if has(Fault::AuditUnframed) {
        message
    } else if has(Fault::AuditOversized) {
        let mut w = b"100000000 ".to_vec();
        w.extend_from_slice(&message);
        w
    } else {
        syslog::frame(&message)
    };
    s.write_all(&wire).await.map_err(|e| e.to_string())?;
    s.flush().await.map_err(|e| e.to_string())?;
    let _ = s.shutdown().await;
    Ok(())
}

#[when("the SUT is made to send the audit of a transaction to the harness")]
async fn sut_sends_audit(world: &mut HarnessWorld) -> StepResult {
    let l = listeners(world).await?;
    let Some(transport) = world.atna.audit_transport.clone() else {
        return Err(harness_error(
            world,
            "no audit transport",
            "a When step ran before the repository's transport was chosen",
        ));
    };
    let tls = transport == "TLS";
    let fhir = transport == "FHIR";
    let Some(trigger) = world.ctx.config.triggers.get("audit_source_sends").cloned() else {
        return Err(not_applicable(
            world,
            "no trigger",
            "the SUT profile has no trigger `audit_source_sends`: add `audit_source_sends = \"<command>\"` to its [triggers] table (placeholders {audit_host}, {audit_port}, {audit_udp_port}, {audit_fhir_base}) to run this scenario",
        ));
    };
    let inbox = l.repository.inbox();
    let mark = inbox.len();
    let hs_mark = if fhir {
        l.fhir_handshakes.len()
    } else {
        l.handshakes.len()
    };
    let host = l
        .tls_addr
        .or(l.udp_addr)
        .or(l.fhir_addr)
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let vars = [
        ("audit_host", host),
        (
            "audit_port",
            l.tls_addr.map(|a| a.port().to_string()).unwrap_or_default(),
        ),
        (
            "audit_udp_port",
            l.udp_addr.map(|a| a.port().to_string()).unwrap_or_default(),
        ),
        ("audit_fhir_base", l.fhir_base().unwrap_or_default()),
    ];
    let builtin = super::run_trigger(world, &trigger, &vars).await?;
    let mut expect = AtnaExpect::default();
    if fhir {
        expect.carrier = crate::checks::atna::Carrier::FhirJson;
    }
    if builtin.is_some() {
        expect.audited = Some((Audited::Iti18, Side::Responder));
        expect.exchange = builtin_facts(world).expect();
        let sent = if fhir {
            builtin_send_fhir(world, &l).await
        } else {
            builtin_send(world, &l, tls).await
        };
        if let Err(e) = sent {
            return Err(harness_error(world, "built-in audit source", e));
        }
    }
    let want = if fhir {
        AuditTransport::Http
    } else if tls {
        AuditTransport::Tls
    } else {
        AuditTransport::Udp
    };
    let timeout = world.ctx.config.simulator.trigger_timeout;
    let got = inbox
        .wait_for(mark, timeout, &|r: &ReceivedAudit| r.transport == want)
        .await;
    let Some(got) = got else {
        return Err(harness_error(
            world,
            "no audit message",
            format!(
                "no audit message arrived {} within {} s of the trigger: is the SUT's audit destination the harness's repository ({})?",
                if fhir {
                    "as a FHIR AuditEvent".to_string()
                } else {
                    format!("over syslog/{transport}")
                },
                timeout.as_secs(),
                match want {
                    AuditTransport::Tls => l.tls_addr.map(|a| a.to_string()),
                    AuditTransport::Http => l.fhir_base().map(|b| format!("{b}/AuditEvent")),
                    _ => l.udp_addr.map(|a| a.to_string()),
                }
                .unwrap_or_default()
            ),
        ));
    };
    let local = match want {
        AuditTransport::Tls => l.tls_addr,
        AuditTransport::Http => l.fhir_addr,
        _ => l.udp_addr,
    }
    .map(|a| a.to_string())
    .unwrap_or_default();
    let peer = got.peer.map(|p| p.to_string());
    let mut ex = if fhir {
        let line = got.http.clone().unwrap_or_default();
        received_fhir_exchange(
            &line.method,
            format!("{}{}", l.fhir_base().unwrap_or_default(), line.target),
            line.content_type,
            peer.clone(),
            got.raw.clone(),
            got.problem.as_ref().map(|p| p.to_string()),
        )
    } else {
        let scheme = if tls { "syslog+tls" } else { "syslog+udp" };
        received_exchange(
            &got.transport.to_string(),
            format!(
                "{scheme}://{local} <- {}",
                peer.clone().unwrap_or_else(|| "?".into())
            ),
            peer.clone(),
            got.raw.clone(),
            got.problem.as_ref().map(|p| p.to_string()),
        )
    };
    let handshakes = if fhir && l.fhir_https {
        Some(&l.fhir_handshakes)
    } else if tls {
        Some(&l.handshakes)
    } else {
        None
    };
    if let Some(log) = handshakes {
        ex.tls = log
            .since(hs_mark)
            .into_iter()
            .find(|h| Some(&h.remote) == peer.as_ref())
            .map(|h| h.tls);
    }
    let idx = world.evidence.record(ex);
    world.atna.audit_last = Some((idx, expect));
    Ok(())
}

#[then(regex = r"^the audit message meets the (?:syslog|FHIR Feed), schema and audit table rules$")]
async fn audit_meets_rules(world: &mut HarnessWorld) -> StepResult {
    let Some((idx, atna)) = world.atna.audit_last.clone() else {
        return Err(harness_error(
            world,
            "no audit to judge",
            "a Then step ran before any audit message arrived",
        ));
    };
    let expect = Expect {
        atna: Some(atna),
        ..Expect::default()
    };
    let ids: Vec<&str> = crate::checks::atna::CHECKS.iter().map(|c| c.id).collect();
    judge(world, idx, &expect, &[], &ids)
}
