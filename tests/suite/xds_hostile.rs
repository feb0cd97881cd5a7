//! Hostile XDS-I.b responders: a registry that answers a stored query with an HTML error page, an
//! XML entity bomb, invalid UTF-8, a truncated MTOM package, 64 MB of noise, silence, or a closed
//! connection. The harness never panics or hangs: a bad answer is a Fail of the SOAP rules (an
//! answer too large to judge of BODY-01, a closed connection of PEER-01), silence is an Error, each
//! within the read timeout, and the report is written.

use std::time::Duration;

use crate::common::*;

fn run_against(answer: Fake) -> Run {
    let base = spawn_fake(answer, "/xds");
    run_profile(
        "xds-hostile",
        &preloaded_profile(
            "hostile registry",
            "xds",
            "registry_url",
            &format!("{base}/registry"),
        ),
        "@txn:ITI-18 and @req:XDS-SOAP-02",
    )
}

#[test]
fn bad_answers_are_fails_of_the_envelope_rule() {
    let soap = |body: &[u8]| Fake::Bytes(answer_200("application/soap+xml", body));
    let mut invalid_utf8 =
        b"<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body><x>"
            .to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    invalid_utf8.extend_from_slice(b"</x></soap:Body></soap:Envelope>");
    let truncated_mtom = answer_200(
        "multipart/related; boundary=b; type=\"application/xop+xml\"; start=\"<root>\"; start-info=\"application/soap+xml\"",
        b"--b\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Bo",
    );
    // 64 MB is past what the harness reads to judge an envelope: refused unread (BODY-01).
    for (what, answer, rule) in [
        ("an HTML error page", Fake::Bytes(html_error_page()), "XDS-SOAP-01"),
        (
            "an entity bomb",
            soap(entity_bomb("<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>&lol9;</soap:Body></soap:Envelope>").as_bytes()),
            "XDS-SOAP-01",
        ),
        ("invalid UTF-8", soap(&invalid_utf8), "XDS-SOAP-01"),
        ("a truncated MTOM package", Fake::Bytes(truncated_mtom), "XDS-SOAP-01"),
        ("64 MB", Fake::Huge("application/soap+xml"), "BODY-01"),
    ] {
        run_against(answer).assert_fails_within(what, rule, Duration::from_secs(30));
    }
}

#[test]
fn silence_is_an_error_within_the_timeout() {
    run_against(Fake::Silence).assert_errors_within(Duration::from_secs(15));
}

/// A registry that reads the request and closes without answering broke RFC 9112 §9.6: a Fail of
/// PEER-01, not an Error.
#[test]
fn a_closed_connection_is_a_fail_of_peer_01() {
    run_against(Fake::Close).assert_fails_within(
        "a closed connection",
        "PEER-01",
        Duration::from_secs(15),
    );
}
