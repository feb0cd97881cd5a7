//! Hostile MHD Document Responders: an ITI-67 search answered with an HTML error page, a FHIR XML
//! entity bomb, invalid UTF-8, truncated JSON, a JSON body that is not a FHIR resource, 64 MB of
//! noise, silence, or a closed connection. The harness never panics or hangs: a bad answer is a Fail
//! (FHIR-01, or the searchset rules; BODY-01 for one too large to judge, PEER-01 for a closed
//! connection), silence is an Error, each within the read timeout, and the report is written.

use std::time::Duration;

use crate::common::*;

/// How the fake responder answers every request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Html,
    EntityBomb,
    InvalidUtf8,
    TruncatedJson,
    NotFhir,
    Huge,
    Silence,
    Close,
}

fn response(a: Answer) -> Vec<u8> {
    let http = |ct: &str, body: &[u8]| {
        let mut v = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        v.extend_from_slice(body);
        v
    };
    match a {
        Answer::Html => {
            let mut v = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: 28\r\nConnection: close\r\n\r\n".to_vec();
            v.extend_from_slice(b"<html><h1>oops</h1></html>\n");
            v.push(b'\n');
            v
        }
        Answer::EntityBomb => {
            let mut x = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
            for i in 1..10 {
                let prev = if i == 1 { String::new() } else { (i - 1).to_string() };
                x.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&lol{prev};").repeat(10)));
            }
            x.push_str("]><Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"&lol9;\"/></Bundle>");
            http("application/fhir+xml", x.as_bytes())
        }
        Answer::InvalidUtf8 => {
            let mut b = b"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"id\":\"".to_vec();
            b.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
            b.extend_from_slice(b"\"}");
            http("application/fhir+json", &b)
        }
        Answer::TruncatedJson => http(
            "application/fhir+json",
            b"{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":{\"resourceType\":\"Docu",
        ),
        Answer::NotFhir => http("application/fhir+json", b"[1, 2, 3]"),
        Answer::Huge | Answer::Silence | Answer::Close => Vec::new(),
    }
}

/// A server on a free port answering every connection with `a`; returns its base URL.
fn spawn_responder(a: Answer) -> String {
    let fake = match a {
        Answer::Silence => Fake::Silence,
        Answer::Close => Fake::Close,
        Answer::Huge => Fake::Huge("application/fhir+json"),
        other => Fake::Bytes(response(other)),
    };
    spawn_fake(fake, "/fhir")
}

fn run_against(a: Answer) -> Run {
    let base = spawn_responder(a);
    run_profile(
        "mhd-hostile",
        &format!(
            "[sut]\nname = \"hostile responder\"\n[test_data]\nmode = \"preloaded\"\n[mhd]\n\
             base_url = \"{base}\"\nread_timeout_ms = 1000\ntimeout_ms = 20000\n"
        ),
        "@txn:ITI-67 and @req:MHD-16",
    )
}

#[test]
fn bad_answers_are_fails() {
    for a in [
        Answer::Html,
        Answer::EntityBomb,
        Answer::InvalidUtf8,
        Answer::TruncatedJson,
        Answer::NotFhir,
        Answer::Huge,
    ] {
        let Run { out, results, took } = run_against(a);
        assert_eq!(out.status.code(), Some(1), "{a:?}\n{}", dump(&out));
        let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
        // Even an error answer must be FHIR (an OperationOutcome), so FHIR-01 judges them all;
        // 64 MB is past what the harness reads to judge one: refused unread (BODY-01).
        let rule = if matches!(a, Answer::Huge) {
            "BODY-01"
        } else {
            "FHIR-01"
        };
        assert!(
            failed.iter().any(|c| c == rule),
            "{a:?}: {failed:?}\n{}",
            dump(&out)
        );
        assert!(took < Duration::from_secs(30), "{a:?} took {took:?}");
    }
}

#[test]
fn silence_is_an_error_within_the_timeout() {
    run_against(Answer::Silence).assert_errors_within(Duration::from_secs(15));
}

/// A responder that reads the request and closes without answering broke RFC 9112 §9.6: a Fail of
/// PEER-01, not an Error.
#[test]
fn a_closed_connection_is_a_fail_of_peer_01() {
    let Run { out, results, took } = run_against(Answer::Close);
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
    assert!(
        failed.iter().any(|c| c == "PEER-01"),
        "{failed:?}\n{}",
        dump(&out)
    );
    assert!(took < Duration::from_secs(15), "took {took:?}");
}
