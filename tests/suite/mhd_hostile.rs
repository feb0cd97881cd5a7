//! Hostile MHD Document Responders: an ITI-67 search answered with an HTML error page, a FHIR XML
//! entity bomb, invalid UTF-8, truncated JSON, a JSON body that is not a FHIR resource, 64 MB of
//! noise, silence, or a closed connection. The harness never panics or hangs: a bad answer is a Fail
//! (FHIR-01, or the searchset rules; BODY-01 for one too large to judge, PEER-01 for a closed
//! connection), silence is an Error, each within the read timeout, and the report is written.

use std::time::Duration;

use crate::common::*;

fn run_against(answer: Fake) -> Run {
    let base = spawn_fake(answer, "/fhir");
    run_profile(
        "mhd-hostile",
        &preloaded_profile("hostile responder", "mhd", "base_url", &base),
        "@txn:ITI-67 and @req:MHD-16",
    )
}

#[test]
fn bad_answers_are_fails() {
    let mut invalid_utf8 =
        b"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"id\":\"".to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    invalid_utf8.extend_from_slice(b"\"}");
    let json = |body: &[u8]| Fake::Bytes(answer_200("application/fhir+json", body));
    // Even an error answer must be FHIR (an OperationOutcome), so FHIR-01 judges them all;
    // 64 MB is past what the harness reads to judge one: refused unread (BODY-01).
    for (what, answer, rule) in [
        ("an HTML error page", Fake::Bytes(html_error_page()), "FHIR-01"),
        (
            "an entity bomb",
            Fake::Bytes(answer_200(
                "application/fhir+xml",
                entity_bomb("<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"&lol9;\"/></Bundle>")
                    .as_bytes(),
            )),
            "FHIR-01",
        ),
        ("invalid UTF-8", json(&invalid_utf8), "FHIR-01"),
        (
            "truncated JSON",
            json(b"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":{\"resourceType\":\"Docu"),
            "FHIR-01",
        ),
        ("JSON that is not FHIR", json(b"[1, 2, 3]"), "FHIR-01"),
        ("64 MB", Fake::Huge("application/fhir+json"), "BODY-01"),
    ] {
        run_against(answer).assert_fails_within(what, rule, Duration::from_secs(30));
    }
}

#[test]
fn silence_is_an_error_within_the_timeout() {
    run_against(Fake::Silence).assert_errors_within(Duration::from_secs(15));
}

/// A responder that reads the request and closes without answering broke RFC 9112 §9.6: a Fail of
/// PEER-01, not an Error.
#[test]
fn a_closed_connection_is_a_fail_of_peer_01() {
    run_against(Fake::Close).assert_fails_within(
        "a closed connection",
        "PEER-01",
        Duration::from_secs(15),
    );
}
