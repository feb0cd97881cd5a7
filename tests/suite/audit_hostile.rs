//! ITI-20 hostile input, end to end: the Audit Record Repository of a run (TLS with the run's test
//! PKI, and UDP) takes a stream that is not octet-counted, a frame announced past its limit, a
//! MSG that is not UTF-8, an XML entity bomb and bytes that are not syslog; each ends as a Fail
//! of the rule it breaks, judged as the ITI-20 scenarios judge it (one inbound exchange, the ATNA
//! family), never as an Error or a crash, and the repository still takes a good message after.

use std::sync::Arc;
use std::time::Duration;

use ihe_harness::actors::audit_repository::{AuditListeners, ReceivedAudit};
use ihe_harness::checks::atna::family::received_exchange;
use ihe_harness::checks::atna::{AtnaExpect, CHECKS};
use ihe_harness::checks::{evaluate_all, Expect, Outcome, Subject};
use ihe_harness::transport::syslog::{self, SyslogMessage};
use tokio::io::AsyncWriteExt;

async fn send_tls(l: &AuditListeners, wire: &[u8]) {
    let client = l.client.as_ref().expect("client");
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(client.config().expect("client config")));
    let tcp = tokio::net::TcpStream::connect(l.tls_addr.expect("tls"))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut s = connector.connect(name, tcp).await.expect("handshake");
    let _ = s.write_all(wire).await;
    let _ = s.flush().await;
    let _ = s.shutdown().await;
}

fn judged(r: &ReceivedAudit) -> Vec<(&'static str, Outcome)> {
    let ex = received_exchange(
        &r.transport.to_string(),
        "syslog://repository".into(),
        r.peer.map(|p| p.to_string()),
        r.raw.clone(),
        r.problem.as_ref().map(|p| p.to_string()),
    );
    let expect = Expect {
        atna: Some(AtnaExpect::default()),
        ..Expect::default()
    };
    let s = Subject {
        exchange: &ex,
        expect: &expect,
        strict: false,
        followups: &[],
    };
    CHECKS
        .iter()
        .map(|c| c.id)
        .zip(evaluate_all(CHECKS, &s).into_iter().map(|f| f.outcome))
        .collect()
}

fn failed(o: &[(&'static str, Outcome)]) -> Vec<&'static str> {
    assert!(o.iter().all(|(_, x)| *x != Outcome::Error), "{o:?}");
    o.iter()
        .filter(|(_, x)| *x == Outcome::Fail)
        .map(|(c, _)| *c)
        .collect()
}

fn audit(payload: &[u8]) -> Vec<u8> {
    SyslogMessage::audit("2026-12-07T01:02:03Z", "h", "a", payload.to_vec()).to_bytes()
}

#[tokio::test]
async fn hostile_audit_input_is_a_fail_of_its_rule_and_the_repository_goes_on() {
    let l = AuditListeners::embedded().await.expect("listeners");
    let inbox = l.repository.inbox();
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE AuditMessage [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><AuditMessage>&c;</AuditMessage>"#;
    let mut oversized = b"100000000 ".to_vec();
    oversized.extend_from_slice(&audit(b"<AuditMessage/>"));
    let mut not_utf8 = b"\xC3\x28\xFF".to_vec();
    not_utf8.extend_from_slice(b"<AuditMessage/>");
    let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        (
            "unframed",
            audit(b"<AuditMessage/>"),
            true,
            "ATNA-SYSLOG-02",
        ),
        ("oversized", oversized, true, "ATNA-SYSLOG-02"),
        (
            "not UTF-8",
            syslog::frame(&audit(&not_utf8)),
            true,
            "ATNA-SYSLOG-01",
        ),
        (
            "entity bomb",
            syslog::frame(&audit(bomb)),
            true,
            "ATNA-SYSLOG-06",
        ),
        ("entity bomb over UDP", audit(bomb), false, "ATNA-SYSLOG-06"),
        (
            "not syslog over UDP",
            b"\x00\x01\x02 garbage".to_vec(),
            false,
            "ATNA-SYSLOG-01",
        ),
    ];
    for (name, wire, tls, rule) in cases {
        let mark = inbox.len();
        if tls {
            send_tls(&l, &wire).await;
        } else {
            let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sock.send_to(&wire, l.udp_addr.unwrap()).await.unwrap();
        }
        let got = inbox
            .wait_for(mark, Duration::from_secs(20), &|_| true)
            .await
            .unwrap_or_else(|| panic!("{name}: nothing recorded"));
        let o = judged(&got);
        assert_eq!(failed(&o), vec![rule], "{name}: {o:?}");
    }
    // The repository still takes a good message, which passes every rule.
    let mark = inbox.len();
    let good = ihe_harness::checks::atna::transaction::build(
        ihe_harness::checks::atna::transaction::Audited::DicomQuery,
        ihe_harness::checks::atna::transaction::Side::Responder,
        &ihe_harness::checks::atna::transaction::AuditFacts {
            date_time: "2026-12-07T01:02:03Z".into(),
            outcome: "0".into(),
            source: ihe_harness::checks::atna::transaction::Party {
                user_id: "SCU".into(),
                alternative_user_id: None,
                network_access_point: Some("127.0.0.1".into()),
            },
            destination: ihe_harness::checks::atna::transaction::Party {
                user_id: "SCP".into(),
                alternative_user_id: None,
                network_access_point: Some("localhost".into()),
            },
            audit_source_id: "SCP".into(),
            patient_id: None,
            submission_set: None,
            query_id: Some("1.2.840.10008.5.1.4.1.2.2.1".into()),
            query: b"query".to_vec(),
            documents: Vec::new(),
            studies: Vec::new(),
        },
    )
    .to_xml();
    send_tls(&l, &syslog::frame(&audit(good.as_bytes()))).await;
    let got = inbox
        .wait_for(mark, Duration::from_secs(20), &|_| true)
        .await
        .expect("the good message");
    assert!(failed(&judged(&got)).is_empty());
}

/// A SUT profile's audit listener and trigger: `[simulator] audit_udp_bind` places the
/// repository, the `audit_source_sends` command (here a shell that writes a conformant audit to
/// `{audit_host}`/`{audit_udp_port}`) makes the SUT send, and the message is judged; with no
/// `audit_bind` the TLS scenario is not applicable, with no `audit_fhir_bind` the FHIR Feed one.
/// A datagram that is not an audit is a Fail.
#[test]
fn a_profile_places_the_repository_and_its_trigger_makes_the_sut_send() {
    if !std::path::Path::new("/bin/bash").exists() {
        eprintln!("skipped: no bash for /dev/udp");
        return;
    }
    let dir = crate::common::report_dir("audit-profile");
    let good = ihe_harness::checks::atna::transaction::build(
        ihe_harness::checks::atna::transaction::Audited::Iti18,
        ihe_harness::checks::atna::transaction::Side::Responder,
        &ihe_harness::checks::atna::transaction::AuditFacts {
            date_time: "2026-12-07T01:02:03Z".into(),
            outcome: "0".into(),
            source: ihe_harness::checks::atna::transaction::Party {
                user_id: "http://consumer".into(),
                alternative_user_id: None,
                network_access_point: Some("127.0.0.1".into()),
            },
            destination: ihe_harness::checks::atna::transaction::Party {
                user_id: "http://registry".into(),
                alternative_user_id: None,
                network_access_point: Some("localhost".into()),
            },
            audit_source_id: "registry".into(),
            patient_id: Some("P1^^^&1.2.3&ISO".into()),
            submission_set: None,
            query_id: Some("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d".into()),
            query: b"<query/>".to_vec(),
            documents: Vec::new(),
            studies: Vec::new(),
        },
    )
    .to_xml();
    for (name, bytes, want) in [
        ("good", audit(good.as_bytes()), "pass"),
        (
            "bomb",
            audit(br#"<!DOCTYPE a [<!ENTITY a "x">]><AuditMessage>&a;</AuditMessage>"#),
            "fail",
        ),
    ] {
        let msg = dir.path().join(format!("{name}.syslog"));
        std::fs::write(&msg, &bytes).unwrap();
        let profile = format!(
            "[sut]\nname = \"an audit source\"\n[simulator]\naudit_udp_bind = \"127.0.0.1:0\"\ntrigger_timeout_ms = 10000\n[triggers]\naudit_source_sends = \"bash -c 'cat {} > /dev/udp/{{audit_host}}/{{audit_udp_port}}'\"\n",
            msg.display()
        );
        let run =
            crate::common::run_profile(&format!("audit-profile-{name}"), &profile, "@txn:ITI-20");
        let o = crate::common::outcomes(&run.results);
        assert_eq!(o.len(), 3, "{}", crate::common::dump(&run.out));
        for (scenario, outcome) in &o {
            let expected = if scenario.contains("syslog/TLS") || scenario.contains("FHIR") {
                "not-applicable"
            } else {
                want
            };
            assert_eq!(
                outcome,
                expected,
                "{name}: {scenario}\n{}",
                crate::common::dump(&run.out)
            );
        }
    }
}
