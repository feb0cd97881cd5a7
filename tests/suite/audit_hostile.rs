//! ITI-20 hostile input, end to end: the Audit Record Repository of a run (TLS with the run's test
//! PKI, and UDP) takes a stream that is not octet-counted, a frame announced past its limit, a
//! MSG that is not UTF-8, an XML entity bomb and bytes that are not syslog; each ends as a Fail
//! of the rule it breaks, judged as the ITI-20 scenarios judge it (one inbound exchange, the ATNA
//! family), never as an Error or a crash, and the repository still takes a good message after.
//! The same for the FHIR Feed over HTTPS: bodies that are not JSON, not UTF-8, too deep, too large
//! or not an AuditEvent are a Fail of ATNA-FHIR-03.

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
        let run = crate::common::run_profile(
            &format!("audit-profile-{name}"),
            &profile,
            "@txn:ITI-20 and @role:simulator",
        );
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

/// Post `body` to the FHIR Feed listener of `l` over HTTPS with the test client certificate, as
/// the raw HTTP/1.1 request `head` (`{len}` is replaced by the body's length); the answer's status
/// line.
async fn post_fhir(l: &AuditListeners, head: &str, body: &[u8]) -> String {
    use tokio::io::AsyncReadExt;
    let client = l.client.as_ref().expect("client");
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(client.config().expect("client config")));
    let tcp = tokio::net::TcpStream::connect(l.fhir_addr.expect("fhir"))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut s = connector.connect(name, tcp).await.expect("handshake");
    let head = head.replace("{len}", &body.len().to_string());
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body).await;
    let _ = s.flush().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn judged_fhir(l: &AuditListeners, r: &ReceivedAudit) -> Vec<(&'static str, Outcome)> {
    let line = r.http.clone().unwrap_or_default();
    let ex = ihe_harness::checks::atna::family::received_fhir_exchange(
        &line.method,
        format!("{}{}", l.fhir_base().unwrap_or_default(), line.target),
        line.content_type,
        r.peer.map(|p| p.to_string()),
        r.raw.clone(),
        r.problem.as_ref().map(|p| p.to_string()),
    );
    let expect = Expect {
        atna: Some(AtnaExpect {
            carrier: ihe_harness::checks::atna::Carrier::FhirJson,
            ..AtnaExpect::default()
        }),
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

/// Hostile FHIR Feed bodies, end to end over the mutual-TLS listener of the embedded run: not
/// JSON, not UTF-8, nested past the parser's bound, past the size limit (announced or chunked
/// without end), not an AuditEvent; each is recorded with its peer and judged a Fail of
/// ATNA-FHIR-03 alone, never an Error, and the repository still takes a good AuditEvent after.
#[tokio::test]
async fn hostile_fhir_feed_bodies_are_a_fail_of_the_resource_rule() {
    let l = AuditListeners::embedded().await.expect("listeners");
    let inbox = l.repository.inbox();
    let post = "POST /AuditEvent HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n";
    let chunked = "POST /AuditEvent HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let mut endless = Vec::new();
    for _ in 0..200 {
        endless.extend_from_slice(b"400\r\n");
        endless.extend_from_slice(&[b' '; 0x400]);
        endless.extend_from_slice(b"\r\n");
    }
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("not JSON", post, b"<AuditEvent/>".to_vec(), "400"),
        (
            "not UTF-8",
            post,
            b"{\"resourceType\":\"AuditEvent\",\"x\":\"\xFF\xFE\"}".to_vec(),
            "400",
        ),
        ("nested too deep", post, deep.into_bytes(), "400"),
        ("oversized", post, vec![b' '; 200_000], "413"),
        ("chunked past the limit", chunked, endless, "413"),
        (
            "not an AuditEvent",
            post,
            br#"{"resourceType":"Patient"}"#.to_vec(),
            "400",
        ),
    ];
    for (name, head, body, status) in cases {
        let mark = inbox.len();
        let answer = post_fhir(&l, head, &body).await;
        assert!(answer.contains(status), "{name}: answered {answer}");
        let got = inbox
            .wait_for(mark, Duration::from_secs(20), &|_| true)
            .await
            .unwrap_or_else(|| panic!("{name}: nothing recorded"));
        assert!(
            got.peer.is_some_and(|p| p.ip().is_loopback()),
            "{name}: no peer"
        );
        let o = judged_fhir(&l, &got);
        assert_eq!(failed(&o), vec!["ATNA-FHIR-03"], "{name}: {o:?}");
    }
    // The repository still takes a good AuditEvent, which passes every rule.
    let mark = inbox.len();
    let good = br#"{"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110112"},"recorded":"2026-12-07T00:00:00Z","outcome":"0","agent":[{"who":{"display":"u"},"requestor":true}],"source":{"observer":{"display":"s"}}}"#;
    assert!(post_fhir(&l, post, good).await.contains("201"));
    let got = inbox
        .wait_for(mark, Duration::from_secs(20), &|_| true)
        .await
        .expect("the good AuditEvent");
    assert!(failed(&judged_fhir(&l, &got)).is_empty());
    assert!(
        l.fhir_handshakes.all().iter().all(|h| h.completed()),
        "every client presented the test certificate"
    );
}
