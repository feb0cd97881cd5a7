use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::listener::{handshake, Handshake, HandshakeLog};
use super::pki::{Request, TestPki, Usage};
use super::probe::{self, Answer, Offer};
use super::*;

fn client(pki: &TestPki, identity: Option<Identity>) -> ClientTls {
    ClientTls {
        roots: vec![pki.ca.cert.clone()],
        identity,
        server_name: None,
        verify_server_name: true,
        versions: Versions::Bcp195,
        verify_server: true,
    }
}

fn server(pki: &TestPki, identity: Identity) -> ServerTls {
    ServerTls {
        identity,
        client_roots: vec![pki.ca.cert.clone()],
        client_auth: ClientAuth::Required,
        versions: Versions::Bcp195,
    }
}

/// One handshake over loopback: the client's error cause (if any) and the server's record.
async fn shake(c: &ClientTls, s: &ServerTls, name: &str) -> (Option<String>, Handshake) {
    crate::transport::install_crypto_provider();
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let acceptor = TlsAcceptor::from(Arc::new(s.config().expect("server config")));
    let log = Arc::new(HandshakeLog::default());
    let server_log = log.clone();
    let srv = tokio::spawn(async move {
        let (sock, remote) = tcp.accept().await.expect("accept");
        if let Some(mut s) =
            handshake(&acceptor, sock, remote, &server_log, Duration::from_secs(5)).await
        {
            let mut b = [0u8; 5];
            let _ = s.read_exact(&mut b).await;
            let _ = s.write_all(b"pong!").await;
            let _ = s.shutdown().await;
        }
    });
    let connector = TlsConnector::from(Arc::new(c.config().expect("client config")));
    let sock = TcpStream::connect(addr).await.expect("connect");
    let sn = rustls::pki_types::ServerName::try_from(c.name_for(name)).expect("name");
    let client_err = match connector.connect(sn, sock).await {
        Ok(mut s) => {
            // TLS 1.3: the server judges the client certificate after the client's Finished, so
            // the failure shows on the first read.
            let _ = s.write_all(b"ping!").await;
            let mut b = Vec::new();
            match s.read_to_end(&mut b).await {
                Ok(_) => None,
                Err(e) => cause_in_chain(&e),
            }
        }
        Err(e) => Some(cause_in_chain(&e).unwrap_or_else(|| e.to_string())),
    };
    let _ = srv.await;
    let h = log
        .all()
        .into_iter()
        .next()
        .expect("one handshake recorded");
    (client_err, h)
}

#[tokio::test]
async fn mutual_tls_with_the_test_pki_completes_and_records_the_client_certificate() {
    let pki = TestPki::new().expect("pki");
    let c = client(&pki, Some(pki.client.identity()));
    let s = server(&pki, pki.server.identity());
    let (err, h) = shake(&c, &s, "localhost").await;
    assert_eq!(err, None);
    assert!(h.completed(), "{:?}", h.tls.failure);
    assert_eq!(h.tls.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(h.tls.peer_certificates.len(), 1);
    assert!(h.tls.peer_certificates[0].subject.contains("ihe-harness"));
    assert!(h.tls.peer_certificates[0]
        .pem
        .starts_with("-----BEGIN CERTIFICATE-----"));
}

#[tokio::test]
async fn tls_1_2_alone_also_completes() {
    let pki = TestPki::new().expect("pki");
    let mut c = client(&pki, Some(pki.client.identity()));
    c.versions = Versions::Tls12;
    let s = server(&pki, pki.server.identity());
    let (err, h) = shake(&c, &s, "127.0.0.1").await;
    assert_eq!(err, None);
    assert_eq!(h.tls.version.as_deref(), Some("TLSv1.2"));
    assert!(h
        .tls
        .cipher_suite
        .as_deref()
        .unwrap_or("")
        .contains("ECDHE"));
}

#[tokio::test]
async fn a_server_requiring_client_certificates_refuses_a_client_without_one() {
    let pki = TestPki::new().expect("pki");
    let c = client(&pki, None);
    let s = server(&pki, pki.server.identity());
    let (err, h) = shake(&c, &s, "localhost").await;
    assert!(!h.completed());
    let f = h.tls.failure.unwrap_or_default();
    assert!(f.starts_with("no certificate"), "{f}");
    assert!(err.is_some());
}

#[tokio::test]
async fn an_untrusted_or_expired_client_certificate_is_refused_with_its_cause() {
    let pki = TestPki::new().expect("pki");
    let untrusted = pki
        .untrusted
        .issue(&Request::new("intruder", &[], Usage::Client))
        .expect("issue");
    let (_, h) = shake(
        &client(&pki, Some(untrusted.identity())),
        &server(&pki, pki.server.identity()),
        "localhost",
    )
    .await;
    let f = h.tls.failure.unwrap_or_default();
    assert!(f.starts_with("unknown CA"), "{f}");
    let expired = pki
        .ca
        .issue(&Request::new("old", &[], Usage::Client).expired())
        .expect("issue");
    let (_, h) = shake(
        &client(&pki, Some(expired.identity())),
        &server(&pki, pki.server.identity()),
        "localhost",
    )
    .await;
    let f = h.tls.failure.unwrap_or_default();
    assert!(f.starts_with("expired"), "{f}");
}

#[tokio::test]
async fn the_client_names_a_wrong_name_server_certificate_and_can_be_told_not_to_check() {
    let pki = TestPki::new().expect("pki");
    let wrong = pki
        .ca
        .issue(&Request::new(
            "elsewhere",
            &["elsewhere.example"],
            Usage::Server,
        ))
        .expect("issue");
    let c = client(&pki, Some(pki.client.identity()));
    let (err, h) = shake(&c, &server(&pki, wrong.identity()), "localhost").await;
    assert!(err.unwrap_or_default().starts_with("name mismatch"));
    // The server sees the client's alert.
    let f = h.tls.failure.unwrap_or_default();
    assert!(f.starts_with("handshake alert"), "{f}");
    let mut lax = c.clone();
    lax.verify_server_name = false;
    let (err, _) = shake(&lax, &server(&pki, wrong.identity()), "localhost").await;
    assert_eq!(err, None);
    // Not checking the name does not stop checking the issuer.
    let foreign = pki
        .untrusted
        .issue(&Request::new("localhost", &["localhost"], Usage::Server))
        .expect("issue");
    let (err, _) = shake(&lax, &server(&pki, foreign.identity()), "localhost").await;
    assert!(err.unwrap_or_default().starts_with("unknown CA"));
}

#[tokio::test]
async fn an_expired_server_certificate_is_named_as_such() {
    let pki = TestPki::new().expect("pki");
    let old = pki
        .ca
        .issue(&Request::new("localhost", &["localhost"], Usage::Server).expired())
        .expect("issue");
    let c = client(&pki, Some(pki.client.identity()));
    let (err, _) = shake(&c, &server(&pki, old.identity()), "localhost").await;
    assert!(err.unwrap_or_default().starts_with("expired"));
}

#[tokio::test]
async fn a_bcp195_server_refuses_every_probe() {
    crate::transport::install_crypto_provider();
    let pki = TestPki::new().expect("pki");
    let s = server(&pki, pki.server.identity());
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let acceptor = TlsAcceptor::from(Arc::new(s.config().expect("config")));
    tokio::spawn(async move {
        let log = HandshakeLog::default();
        while let Ok((sock, remote)) = tcp.accept().await {
            let _ = handshake(&acceptor, sock, remote, &log, Duration::from_secs(2)).await;
        }
    });
    for offer in [Offer::Tls10, Offer::Tls11, Offer::WeakSuites] {
        let a = probe::probe(
            "127.0.0.1",
            addr.port(),
            None,
            offer,
            Duration::from_secs(5),
        )
        .await
        .expect("answer");
        assert!(a.refused(), "{offer:?}: {}", a.describe());
        assert!(matches!(a, Answer::Alert(_)), "{}", a.describe());
    }
}

#[test]
fn a_server_hello_is_read_as_proceeding() {
    // handshake record: ServerHello TLS 1.1, empty session id, TLS_RSA_WITH_AES_128_CBC_SHA
    let mut sh = vec![2u8, 0, 0, 42, 0x03, 0x02];
    sh.extend_from_slice(&[7; 32]);
    sh.extend_from_slice(&[0, 0x00, 0x2f, 0]);
    let mut rec = vec![22u8, 3, 2, 0, sh.len() as u8];
    rec.extend_from_slice(&sh);
    let a = probe::parse_answer(&rec).expect("complete");
    assert_eq!(
        a,
        Answer::Proceeded {
            version: 0x0302,
            suite: 0x002f
        }
    );
    assert!(!a.refused());
    assert!(a.describe().contains("TLS 1.1"));
    assert!(a.describe().contains("TLS_RSA_WITH_AES_128_CBC_SHA"));
    // An alert, a partial record, garbage.
    assert_eq!(
        probe::parse_answer(&[21, 3, 3, 0, 2, 2, 70]),
        Some(Answer::Alert(70))
    );
    assert_eq!(probe::parse_answer(&[22, 3, 3, 0]), None);
    assert!(matches!(
        probe::parse_answer(b"HTTP/1.1 400 Bad Request\r\n"),
        Some(Answer::NotTls(_))
    ));
}

#[test]
fn the_hello_is_a_well_formed_record() {
    for offer in [Offer::Tls10, Offer::Tls11, Offer::WeakSuites] {
        let h = probe::client_hello(offer, Some("sut.example"));
        assert_eq!(h[0], 22);
        let len = u16::from_be_bytes([h[3], h[4]]) as usize;
        assert_eq!(len + 5, h.len());
        let hs_len = u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize;
        assert_eq!(hs_len + 4, len);
    }
}

#[test]
fn alerts_are_named_as_rfc_8446_does() {
    assert_eq!(
        alert_name(rustls::AlertDescription::BadCertificate),
        "bad_certificate"
    );
    assert_eq!(
        alert_name(rustls::AlertDescription::UnknownCA),
        "unknown_ca"
    );
    assert_eq!(
        alert_name(rustls::AlertDescription::UnknownPSKIdentity),
        "unknown_psk_identity"
    );
}

#[test]
fn files_that_are_not_pem_are_configuration_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("x.pem");
    std::fs::write(&p, b"hello").expect("write");
    let s = TlsSettings {
        ca_file: Some(p.clone()),
        ..TlsSettings::default()
    };
    assert!(matches!(
        ClientTls::from_settings(&s),
        Err(TlsError::Pem { .. })
    ));
    let s = TlsSettings {
        cert_file: Some(p),
        ..TlsSettings::default()
    };
    assert!(matches!(
        ClientTls::from_settings(&s),
        Err(TlsError::Incomplete)
    ));
    let s = TlsSettings {
        ca_file: Some(dir.path().join("missing.pem")),
        ..TlsSettings::default()
    };
    assert!(matches!(
        ClientTls::from_settings(&s),
        Err(TlsError::Read { .. })
    ));
}

#[test]
fn pem_files_written_by_the_test_pki_load_back() {
    let pki = TestPki::new().expect("pki");
    let dir = tempfile::tempdir().expect("tmp");
    let w = |n: &str, t: &str| {
        let p = dir.path().join(n);
        std::fs::write(&p, t).expect("write");
        p
    };
    let s = TlsSettings {
        ca_file: Some(w("ca.pem", &pki.ca.cert_pem)),
        cert_file: Some(w("c.pem", &pki.client.cert_pem)),
        key_file: Some(w("c.key", &pki.client.key_pem)),
        ..TlsSettings::default()
    };
    let c = ClientTls::from_settings(&s).expect("load");
    assert_eq!(c.roots.len(), 1);
    assert!(c.identity.is_some());
    assert!(c.config().is_ok());
    let summary = certs::summarize(&pki.server.cert);
    assert_eq!(summary.names, vec!["localhost", "127.0.0.1"]);
    assert!(summary.issuer.contains("ihe-harness test CA"));
}
