//! ATNA Record Audit Event (ITI-20) steps: the harness's Audit Record Repository listens for
//! syslog over TLS (RFC 5425) and over UDP (RFC 5426); the profile's `audit_source_sends`
//! trigger makes the SUT send the audit of a transaction; the message must arrive within the
//! trigger timeout and meet every ATNA rule (`checks::atna`, judged as one family).
//!
//! Against the embedded reference a built-in audit source plays the SUT: it audits, as the
//! Document Registry, an ITI-18 Registry Stored Query it answered (facts of a fixture patient),
//! builds the message with `checks::atna::transaction::build` and sends it over TLS with the
//! run's test client certificate, or over UDP; the `audit-*` reference faults make it send what a
//! faulty audit source sends. Its message is also judged against the ITI-18 audit table with
//! those facts; a real SUT's message against the transport and schema rules (the transaction it
//! audits is the SUT's own).

use std::sync::Arc;

use cucumber::{given, then, when};
use tokio::io::AsyncWriteExt;

use super::{harness_error, judge, not_applicable, StepError, StepResult};
use crate::actors::audit_repository::{AuditListeners, AuditTransport, ReceivedAudit};
use crate::checks::atna::family::received_exchange;
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
            "the SUT profile places no audit listener for the harness ([simulator] audit_bind with [simulator.tls], or audit_udp_bind)",
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

/// The syslog message the built-in audit source sends, with the run's faults.
fn builtin_message(world: &HarnessWorld, facts: &AuditFacts) -> Vec<u8> {
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
    let mut s = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
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
    let Some(trigger) = world.ctx.config.triggers.get("audit_source_sends").cloned() else {
        return Err(not_applicable(
            world,
            "no trigger",
            "the SUT profile has no trigger `audit_source_sends`: add `audit_source_sends = \"<command>\"` to its [triggers] table (placeholders {audit_host}, {audit_port}, {audit_udp_port}) to run this scenario",
        ));
    };
    let inbox = l.repository.inbox();
    let mark = inbox.len();
    let hs_mark = l.handshakes.len();
    let host = l
        .tls_addr
        .or(l.udp_addr)
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
    ];
    let builtin = super::run_trigger(world, &trigger, &vars).await?;
    let mut expect = AtnaExpect::default();
    if builtin.is_some() {
        expect.audited = Some((Audited::Iti18, Side::Responder));
        expect.exchange = builtin_facts(world).expect();
        if let Err(e) = builtin_send(world, &l, tls).await {
            return Err(harness_error(world, "built-in audit source", e));
        }
    }
    let want = if tls {
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
                "no audit message arrived over syslog/{transport} within {} s of the trigger: is the SUT's audit destination the harness's repository ({})?",
                timeout.as_secs(),
                match want {
                    AuditTransport::Tls => l.tls_addr,
                    _ => l.udp_addr,
                }
                .map(|a| a.to_string())
                .unwrap_or_default()
            ),
        ));
    };
    let local = match want {
        AuditTransport::Tls => l.tls_addr,
        _ => l.udp_addr,
    }
    .map(|a| a.to_string())
    .unwrap_or_default();
    let peer = got.peer.map(|p| p.to_string());
    let scheme = if tls { "syslog+tls" } else { "syslog+udp" };
    let mut ex = received_exchange(
        &got.transport.to_string(),
        format!(
            "{scheme}://{local} <- {}",
            peer.clone().unwrap_or_else(|| "?".into())
        ),
        peer.clone(),
        got.raw.clone(),
        got.problem.as_ref().map(|p| p.to_string()),
    );
    if tls {
        ex.tls = l
            .handshakes
            .since(hs_mark)
            .into_iter()
            .find(|h| Some(&h.remote) == peer.as_ref())
            .map(|h| h.tls);
    }
    let idx = world.evidence.record(ex);
    world.atna.audit_last = Some((idx, expect));
    Ok(())
}

#[then("the audit message meets the syslog, schema and audit table rules")]
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
