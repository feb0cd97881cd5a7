//! ITI-19 Authenticate Node: what a secure node's TLS server must refuse and must offer.
//!
//! IHE ITI TF-2 §3.19 (Authenticate Node) has every secure node authenticate its peer with
//! certificates over TLS, with BCP 195 as the floor of its "STX: TLS 1.2 Floor using BCP195"
//! option. BCP 195 is RFC 9325 (November 2022) with RFC 8996 (March 2021):
//! - RFC 8996 §2 and §3: TLS 1.0 and TLS 1.1 "MUST NOT be used"; RFC 9325 §3.1.1:
//!   "Implementations MUST NOT negotiate TLS version 1.0 [...] MUST NOT negotiate TLS version 1.1",
//!   "Implementations MUST support TLS 1.2", "Implementations SHOULD support TLS 1.3".
//! - RFC 9325 §4.1: "Implementations MUST NOT negotiate the cipher suites with NULL encryption",
//!   "MUST NOT negotiate RC4 cipher suites", "MUST NOT negotiate cipher suites offering less than
//!   112 bits of security, including so-called 'export-level' encryption (which provide 40 or 56
//!   bits of security)".
//! - Mutual authentication: the server asks for the client's certificate and refuses a client that
//!   presents none, or one it cannot validate (RFC 8446 §4.4.2.4: "If the client does not send any
//!   certificates [...] the server MAY at its discretion either continue the handshake without
//!   client authentication or abort"; ITI-19 removes that discretion for secure nodes).
//!
//! How the refusal looks is left open: a server may abort the handshake (the usual alert is
//! `certificate_required`, `unknown_ca`, `certificate_expired` or `bad_certificate`) or, like
//! nginx's `ssl_verify_client on`, complete it and answer every request with an error. The
//! harness judges the first a Pass; the second a Pass with a warning (no data left the server,
//! but an unauthenticated peer got a session), a Fail when the profile is strict; a server that
//! answers the request with data (2xx, 3xx) is a Fail.

use super::{Check, Level, Subject, Verdict};

/// What an ATNA scenario asked of the SUT's TLS server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsExpect {
    /// Not an ATNA exchange.
    #[default]
    None,
    /// The harness offered a client certificate the server must refuse (or none): `what` says
    /// which (`no client certificate`).
    RefuseClient(String),
    /// The harness sent a ClientHello the server must refuse; the answer in words and whether it
    /// was a refusal.
    RefuseOffer {
        /// What was offered.
        offer: String,
        /// How the server answered.
        answer: String,
        /// Whether that answer refused.
        refused: bool,
    },
    /// A conformant client (good certificate) with this TLS version must get through.
    Accept(String),
    /// The harness's server presented a bad certificate to a SUT client, which must abort before
    /// sending anything.
    ClientAborts {
        /// What the harness presented (`an expired certificate`).
        presented: String,
        /// How many of the SUT's handshakes completed.
        completed: usize,
        /// How many requests (HTTP requests, associations) arrived after them.
        requests: usize,
    },
}

/// The rules.
pub const CHECKS: &[Check] = &[
    Check {
        id: "TLS-01",
        requirement: "IHE ITI TF-2 §3.19 (ITI-19 Authenticate Node: mutual authentication of \
                      secure nodes); RFC 8446 §4.4.2.4 (a server that requires client \
                      authentication aborts when the client sends no certificate)",
        requirements: &["ITI2-3.19-MUTUAL"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "A client that presents no certificate is refused",
        eval: refuses_client,
    },
    Check {
        id: "TLS-02",
        requirement: "IHE ITI TF-2 §3.19 (ITI-19: the peer's certificate is validated against \
                      the trusted CAs); RFC 8446 §4.4.2.4 (a certificate that cannot be validated \
                      ends the handshake, alert unknown_ca or bad_certificate)",
        requirements: &["ITI2-3.19-VALIDATE"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "A client certificate from an untrusted CA is refused",
        eval: refuses_client,
    },
    Check {
        id: "TLS-03",
        requirement: "IHE ITI TF-2 §3.19 (ITI-19: the peer's certificate is validated); RFC 5280 \
                      §6.1.3 (a certificate is valid only within its validity period); RFC 8446 \
                      §6.2 (certificate_expired)",
        requirements: &["ITI2-3.19-VALIDATE"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "An expired client certificate is refused",
        eval: refuses_client,
    },
    Check {
        id: "TLS-04",
        requirement: "RFC 8996 §2 (TLS 1.0 MUST NOT be used); RFC 9325 §3.1.1 (MUST NOT \
                      negotiate TLS 1.0), the BCP 195 floor of IHE ITI TF-2 §3.19",
        requirements: &["RFC9325-3.1.1"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "A client offering at most TLS 1.0 is refused",
        eval: refuses_offer,
    },
    Check {
        id: "TLS-05",
        requirement: "RFC 8996 §3 (TLS 1.1 MUST NOT be used); RFC 9325 §3.1.1 (MUST NOT \
                      negotiate TLS 1.1), the BCP 195 floor of IHE ITI TF-2 §3.19",
        requirements: &["RFC9325-3.1.1"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "A client offering at most TLS 1.1 is refused",
        eval: refuses_offer,
    },
    Check {
        id: "TLS-06",
        requirement: "RFC 9325 §4.1 (MUST NOT negotiate NULL encryption, RC4, or suites of less \
                      than 112 bits such as export-grade and DES), the BCP 195 floor of IHE ITI \
                      TF-2 §3.19",
        requirements: &["RFC9325-4.1"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "A client offering only NULL, RC4, export-grade or DES suites is refused",
        eval: refuses_offer,
    },
    Check {
        id: "TLS-07",
        requirement: "RFC 9325 §3.1.1 (Implementations MUST support TLS 1.2) and §4.2 (the \
                      recommended ECDHE AEAD suites), the floor of IHE ITI TF-2 §3.19 \"STX: TLS \
                      1.2 Floor using BCP195\"",
        requirements: &["RFC9325-3.1.1"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "A client with a valid certificate gets through with TLS 1.2 and a BCP 195 suite",
        eval: accepts,
    },
    Check {
        id: "TLS-08",
        requirement: "RFC 9325 §3.1.1 (Implementations SHOULD support TLS 1.3)",
        requirements: &["RFC9325-3.1.1-TLS13"],
        level: Level::Should,
        actor: "Secure Node (TLS server)",
        title: "A client with a valid certificate gets through with TLS 1.3",
        eval: accepts,
    },
    Check {
        id: "TLS-09",
        requirement: "IHE ITI TF-2 §3.19 (ITI-19: each node authenticates the other with its \
                      certificate); RFC 9325 §7.3 / RFC 6125 §6 (the server certificate names the \
                      host the client connects to); RFC 5280 §6.1 (it chains to a trusted CA and is \
                      within its validity)",
        requirements: &["ITI2-3.19-VALIDATE"],
        level: Level::Shall,
        actor: "Secure Node (TLS server)",
        title: "The server presents a certificate from a trusted CA, valid now, naming the host",
        eval: server_identity,
    },
    Check {
        id: "TLS-10",
        requirement: "IHE ITI TF-2 §3.19 (ITI-19: the client validates the server's \
                      certificate against its trusted CAs); RFC 5280 §6.1; RFC 8446 §4.4.2.4 \
                      (a certificate that cannot be validated ends the handshake, alert \
                      unknown_ca)",
        requirements: &["ITI2-3.19-VALIDATE"],
        level: Level::Shall,
        actor: "Secure Node (TLS client)",
        title: "A client shown a server certificate from an untrusted CA aborts before sending \
                anything",
        eval: client_aborts,
    },
    Check {
        id: "TLS-11",
        requirement: "IHE ITI TF-2 §3.19 (ITI-19: the server's certificate is validated); RFC \
                      5280 §6.1.3 (validity period); RFC 8446 §6.2 (certificate_expired)",
        requirements: &["ITI2-3.19-VALIDATE"],
        level: Level::Shall,
        actor: "Secure Node (TLS client)",
        title: "A client shown an expired server certificate aborts before sending anything",
        eval: client_aborts,
    },
    Check {
        id: "TLS-12",
        requirement: "IHE ITI TF-2 §3.19, its \"FQDN Validation of Server Certificate\" option \
                      (the client checks the server's name); RFC 6125 §6 and RFC 9325 §7.3. \
                      DICOM PS3.15 §B.1 names no reference identity and ATNA's base behaviour is \
                      a list of trusted certificates, so this is judged SHOULD: a warning unless \
                      strict",
        requirements: &["ITI2-3.19-FQDN"],
        level: Level::Should,
        actor: "Secure Node (TLS client)",
        title: "A client shown a server certificate for another name aborts before sending \
                anything",
        eval: client_aborts,
    },
];

fn client_aborts(s: &Subject<'_>) -> Verdict {
    let TlsExpect::ClientAborts {
        presented,
        completed,
        requests,
    } = &s.expect.tls
    else {
        return Verdict::na("not an ATNA server-certificate exchange");
    };
    let expected = format!("the client aborts the handshake when shown {presented}");
    if *requests > 0 {
        return Verdict::fail(
            expected,
            format!("the client went on: {requests} request(s) or association(s) arrived"),
        );
    }
    if *completed > 0 && s.strict {
        return Verdict::fail(
            expected,
            "the client completed the handshake (it sent nothing after it; strict: the handshake itself must be aborted)",
        );
    }
    Verdict::Pass
}

/// Whether an answer served the request (data left the server).
fn served(status: u16) -> bool {
    (200..400).contains(&status)
}

fn refuses_client(s: &Subject<'_>) -> Verdict {
    let TlsExpect::RefuseClient(what) = &s.expect.tls else {
        return Verdict::na("not an ATNA client-certificate exchange");
    };
    let ex = s.exchange;
    let expected = format!("the server refuses a client with {what}");
    if ex.tls.as_ref().is_some_and(|t| t.failure.is_some()) {
        return Verdict::Pass;
    }
    // DICOM: an accepted association served the client; a rejection refused it in DICOM, after
    // the handshake (like an HTTP error).
    if let Some(d) = &ex.dimse {
        return match (&d.rejection, d.negotiated.is_empty()) {
            (None, false) => Verdict::fail(
                expected,
                "the handshake completed and the association was accepted",
            ),
            (Some(_), _) if s.strict => Verdict::fail(
                expected,
                "the handshake completed (the association was rejected; strict: the handshake itself must be refused)",
            ),
            _ => Verdict::Pass,
        };
    }
    match ex.status() {
        Some(st) if served(st) => Verdict::fail(
            expected,
            format!("the handshake completed and the request was answered with status {st}"),
        ),
        Some(st) if s.strict => Verdict::fail(
            expected,
            format!(
                "the handshake completed (the request was answered with status {st}, no data; strict: the handshake itself must be refused)"
            ),
        ),
        Some(_) => Verdict::Pass,
        // The connection ended without a response and without a TLS cause: a refusal all the
        // same (the server closed on the client).
        None => Verdict::Pass,
    }
}

fn refuses_offer(s: &Subject<'_>) -> Verdict {
    let TlsExpect::RefuseOffer {
        offer,
        answer,
        refused,
    } = &s.expect.tls
    else {
        return Verdict::na("not an ATNA ClientHello probe");
    };
    if *refused {
        Verdict::Pass
    } else {
        Verdict::fail(format!("the server refuses {offer}"), answer.clone())
    }
}

fn accepts(s: &Subject<'_>) -> Verdict {
    let TlsExpect::Accept(version) = &s.expect.tls else {
        return Verdict::na("not an ATNA positive exchange");
    };
    let ex = s.exchange;
    let expected = format!("a client with a valid certificate gets through with {version}");
    if let Some(cause) = ex.tls.as_ref().and_then(|t| t.failure.as_ref()) {
        if server_certificate_cause(cause) {
            return Verdict::na("the server's certificate was refused (judged by TLS-09)");
        }
        return Verdict::fail(expected, format!("the handshake failed: {cause}"));
    }
    match (
        ex.tls.as_ref().and_then(|t| t.version.as_deref()),
        ex.status(),
    ) {
        (Some(v), Some(_)) if v == version => Verdict::Pass,
        (Some(v), Some(_)) => Verdict::fail(expected, format!("{v} was negotiated")),
        (None, Some(_)) => Verdict::na("the exchange records no TLS session"),
        (_, None) => Verdict::na("no answer to judge (the transport failure is reported)"),
    }
}

/// Whether the harness refused the server's certificate (the causes of
/// [`crate::transport::tls::cause`]).
fn server_certificate_cause(cause: &str) -> bool {
    [
        "unknown CA",
        "expired",
        "not yet valid",
        "name mismatch",
        "invalid peer certificate",
        "bad signature",
        "revoked",
    ]
    .iter()
    .any(|p| cause.starts_with(p))
}

fn server_identity(s: &Subject<'_>) -> Verdict {
    if !matches!(s.expect.tls, TlsExpect::Accept(_)) {
        return Verdict::na("not an ATNA positive exchange");
    }
    let ex = s.exchange;
    match ex.tls.as_ref().and_then(|t| t.failure.as_ref()) {
        Some(cause) if server_certificate_cause(cause) => Verdict::fail(
            "a server certificate from a trusted CA, valid now, naming the host",
            cause.clone(),
        ),
        Some(_) => Verdict::na("the handshake failed for another reason (judged by TLS-07/08)"),
        None if ex.response.is_some() => Verdict::Pass,
        None => Verdict::na("no TLS session to judge"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{evaluate, Expect, Outcome};
    use crate::evidence::Exchange;
    use crate::transport::tls::TlsRecord;

    fn run(id: &str, ex: &Exchange, tls: TlsExpect, strict: bool) -> Outcome {
        let expect = Expect {
            tls,
            ..Expect::default()
        };
        let s = Subject {
            exchange: ex,
            expect: &expect,
            strict,
            followups: &[],
        };
        let c = CHECKS.iter().find(|c| c.id == id).expect("check");
        evaluate(c, &s).outcome
    }

    fn refused(cause: &str) -> Exchange {
        let mut ex = Exchange::synthetic("https://sut/", &[], 200, &[], b"");
        ex.response = None;
        ex.tls = Some(TlsRecord {
            failure: Some(cause.into()),
            ..TlsRecord::default()
        });
        ex
    }

    fn answered(status: u16, version: &str) -> Exchange {
        let mut ex = Exchange::synthetic("https://sut/", &[], status, &[], b"");
        ex.tls = Some(TlsRecord {
            version: Some(version.into()),
            ..TlsRecord::default()
        });
        ex
    }

    #[test]
    fn a_client_refused_at_the_handshake_passes_and_one_served_fails() {
        let no_cert = || TlsExpect::RefuseClient("no client certificate".into());
        for id in ["TLS-01", "TLS-02", "TLS-03"] {
            assert_eq!(
                run(
                    id,
                    &refused("handshake alert: certificate_required"),
                    no_cert(),
                    false
                ),
                Outcome::Pass
            );
            assert_eq!(
                run(id, &answered(200, "TLSv1.3"), no_cert(), false),
                Outcome::Fail
            );
            // nginx: the handshake completes, every request gets 400: a pass unless strict.
            assert_eq!(
                run(id, &answered(400, "TLSv1.3"), no_cert(), false),
                Outcome::Pass
            );
            assert_eq!(
                run(id, &answered(400, "TLSv1.3"), no_cert(), true),
                Outcome::Fail
            );
            assert_eq!(
                run(id, &answered(200, "TLSv1.3"), TlsExpect::None, false),
                Outcome::NotApplicable
            );
        }
    }

    #[test]
    fn a_refused_probe_passes_and_a_server_hello_fails() {
        let offer = |refused| TlsExpect::RefuseOffer {
            offer: "TLS 1.0".into(),
            answer: "ServerHello TLS 1.0".into(),
            refused,
        };
        let ex = Exchange::synthetic("tls://sut:443", &[], 200, &[], b"");
        for id in ["TLS-04", "TLS-05", "TLS-06"] {
            assert_eq!(run(id, &ex, offer(true), false), Outcome::Pass);
            assert_eq!(run(id, &ex, offer(false), false), Outcome::Fail);
        }
    }

    #[test]
    fn a_conformant_client_must_get_through_with_the_version_asked() {
        let v12 = || TlsExpect::Accept("TLSv1.2".into());
        assert_eq!(
            run("TLS-07", &answered(200, "TLSv1.2"), v12(), false),
            Outcome::Pass
        );
        // Any answer shows the session worked: TLS is judged, not the application.
        assert_eq!(
            run("TLS-07", &answered(404, "TLSv1.2"), v12(), false),
            Outcome::Pass
        );
        assert_eq!(
            run(
                "TLS-07",
                &refused("handshake alert: protocol_version"),
                v12(),
                false
            ),
            Outcome::Fail
        );
        assert_eq!(
            run("TLS-07", &answered(200, "TLSv1.3"), v12(), false),
            Outcome::Fail
        );
        let v13 = || TlsExpect::Accept("TLSv1.3".into());
        assert_eq!(
            run(
                "TLS-08",
                &refused("handshake alert: protocol_version"),
                v13(),
                true
            ),
            Outcome::Fail
        );
        assert_eq!(
            run("TLS-08", &answered(200, "TLSv1.3"), v13(), false),
            Outcome::Pass
        );
    }

    #[test]
    fn the_server_certificate_must_be_trusted_valid_and_for_the_host() {
        let ok = || TlsExpect::Accept("TLSv1.3".into());
        assert_eq!(
            run("TLS-09", &answered(200, "TLSv1.3"), ok(), false),
            Outcome::Pass
        );
        for cause in [
            "unknown CA: the peer's certificate is not issued by a trusted CA",
            "expired: the peer's certificate is past its validity",
            "name mismatch: the peer's certificate does not name the host",
        ] {
            assert_eq!(
                run("TLS-09", &refused(cause), ok(), false),
                Outcome::Fail,
                "{cause}"
            );
        }
        assert_eq!(
            run(
                "TLS-09",
                &refused("handshake alert: the peer sent the TLS alert handshake_failure"),
                ok(),
                false
            ),
            Outcome::NotApplicable
        );
    }
}
