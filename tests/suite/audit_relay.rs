//! ITI-20 over a real syslog relay: rsyslog (`ci/start-rsyslog-tls.sh`) takes an audit message
//! over UDP (RFC 5426) and forwards it over TLS (RFC 5425, octet-counted, mutual authentication
//! with the test PKI of `ci/make-test-pki.sh`) to the harness's Audit Record Repository, which
//! records the relay's certificate and judges the message: the audit the harness built for an
//! ITI-18 Registry Stored Query arrives whole and passes the transport, schema and ITI-18 rules.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ihe_harness::actors::audit_repository::{AuditRepository, AuditRepositoryOptions};
use ihe_harness::checks::atna::transaction::{self, Audited, Side};
use ihe_harness::checks::atna::{self, AtnaExpect};
use ihe_harness::transport::syslog::SyslogMessage;
use ihe_harness::transport::tls::listener::HandshakeLog;
use ihe_harness::transport::tls::{ServerTls, TlsSettings};

use crate::common::*;

struct Relay(std::path::PathBuf);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("ci/stop-rsyslog-tls.sh"))
            .env("RSYSLOG_DIR", &self.0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn facts() -> transaction::AuditFacts {
    transaction::AuditFacts {
        date_time: "2026-12-07T01:02:03Z".into(),
        outcome: "0".into(),
        source: transaction::Party {
            user_id: "http://consumer.example/ws".into(),
            alternative_user_id: Some("42".into()),
            network_access_point: Some("192.0.2.1".into()),
        },
        destination: transaction::Party {
            user_id: "http://registry.example/ws".into(),
            alternative_user_id: None,
            network_access_point: Some("registry.example".into()),
        },
        audit_source_id: "ihe-harness".into(),
        patient_id: Some("PAT-1^^^&1.2.3&ISO".into()),
        submission_set: None,
        query_id: Some("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d".into()),
        query: b"<query:AdhocQueryRequest/>".to_vec(),
        documents: Vec::new(),
        studies: Vec::new(),
    }
}

#[tokio::test]
async fn an_audit_relayed_by_rsyslog_over_tls_arrives_whole_and_is_judged() {
    if Command::new("rsyslogd").arg("-v").output().is_err() {
        eprintln!("skipped: rsyslog is not installed");
        return;
    }
    let dir = report_dir("audit-relay");
    let pki = test_pki(dir.path());
    ihe_harness::transport::install_crypto_provider();
    let tls = ServerTls::from_settings(&TlsSettings {
        ca_file: Some(pki.join("ca.pem")),
        cert_file: Some(pki.join("server.pem")),
        key_file: Some(pki.join("server.key")),
        ..TlsSettings::default()
    })
    .expect("server TLS");
    let repo = AuditRepository::new(AuditRepositoryOptions::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(HandshakeLog::default());
    let _task = repo.spawn_tls(listener, Arc::new(tls.config().unwrap()), log.clone());

    let udp = free_port();
    let rdir = dir.path().join("rsyslog");
    let started = Command::new("bash")
        .arg(root().join("ci/start-rsyslog-tls.sh"))
        .arg(port.to_string())
        .env("PKI_DIR", &pki)
        .env("RSYSLOG_DIR", &rdir)
        .env("RSYSLOG_UDP_PORT", udp.to_string())
        .output()
        .expect("start-rsyslog-tls.sh");
    let _relay = Relay(rdir.clone());
    assert!(started.status.success(), "{}", dump(&started));

    let f = facts();
    let xml = transaction::build(Audited::Iti18, Side::Responder, &f).to_xml();
    let msg = SyslogMessage::audit(
        "2026-12-07T01:02:03Z",
        "registry.example",
        "ihe-harness",
        xml,
    )
    .to_bytes();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.send_to(&msg, ("127.0.0.1", udp)).await.unwrap();

    let got = repo
        .inbox()
        .wait_for(0, Duration::from_secs(20), &|r| r.audit.is_some())
        .await;
    let internal = std::fs::read_to_string(rdir.join("internal.log")).unwrap_or_default();
    let got = got.unwrap_or_else(|| panic!("no audit arrived; rsyslog said:\n{internal}"));
    assert!(got.problem.is_none(), "{:?}", got.problem);
    // The relay presented its client certificate in a completed handshake.
    let hs = log.all();
    assert!(hs.iter().any(|h| h.completed()
        && h.tls
            .peer_certificates
            .first()
            .is_some_and(|c| c.subject.contains("client"))));
    let expect = AtnaExpect {
        audited: Some((Audited::Iti18, Side::Responder)),
        exchange: f.expect(),
        ..AtnaExpect::default()
    };
    let violations = atna::judge(&got.raw, &expect);
    assert!(
        violations.is_empty(),
        "{violations:#?}\n{}",
        String::from_utf8_lossy(&got.raw)
    );
}
