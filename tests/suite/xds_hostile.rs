//! Hostile XDS-I.b responders: a registry that answers a stored query with an HTML error page, an
//! XML entity bomb, invalid UTF-8, a truncated MTOM package, 64 MB of noise, silence, or a closed
//! connection. The harness never panics or hangs: a bad answer is a Fail of the SOAP rules (an
//! answer too large to judge of BODY-01, a closed connection of PEER-01), silence is an Error, each
//! within the read timeout, and the report is written.

use std::time::Duration;

use crate::common::*;

/// How the fake registry answers every request.
#[derive(Clone, Copy)]
enum Answer {
    Html,
    EntityBomb,
    InvalidUtf8,
    TruncatedMtom,
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
            let mut x =
                String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
            for i in 1..10 {
                x.push_str(&format!(
                    "<!ENTITY lol{i} \"{}\">",
                    format!(
                        "&lol{};",
                        if i == 1 {
                            String::new()
                        } else {
                            (i - 1).to_string()
                        }
                    )
                    .repeat(10)
                ));
            }
            x.push_str("]><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>&lol9;</soap:Body></soap:Envelope>");
            http("application/soap+xml", x.as_bytes())
        }
        Answer::InvalidUtf8 => {
            let mut b = b"<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body><x>".to_vec();
            b.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
            b.extend_from_slice(b"</x></soap:Body></soap:Envelope>");
            http("application/soap+xml", &b)
        }
        Answer::TruncatedMtom => {
            let body = b"--b\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Bo";
            http(
                "multipart/related; boundary=b; type=\"application/xop+xml\"; start=\"<root>\"; start-info=\"application/soap+xml\"",
                body,
            )
        }
        Answer::Huge | Answer::Silence | Answer::Close => Vec::new(),
    }
}

/// A server on a free port answering every connection with `a`; returns its base URL.
fn spawn_registry(a: Answer) -> String {
    let fake = match a {
        Answer::Silence => Fake::Silence,
        Answer::Close => Fake::Close,
        Answer::Huge => Fake::Huge("application/soap+xml"),
        other => Fake::Bytes(response(other)),
    };
    spawn_fake(fake, "/xds")
}

fn run_against(a: Answer) -> Run {
    let base = spawn_registry(a);
    run_profile(
        "xds-hostile",
        &format!(
            "[sut]\nname = \"hostile registry\"\n[test_data]\nmode = \"preloaded\"\n[xds]\n\
             registry_url = \"{base}/registry\"\nread_timeout_ms = 1000\ntimeout_ms = 20000\n"
        ),
        "@txn:ITI-18 and @req:XDS-SOAP-02",
    )
}

#[test]
fn bad_answers_are_fails_of_the_envelope_rule() {
    for a in [
        Answer::Html,
        Answer::EntityBomb,
        Answer::InvalidUtf8,
        Answer::TruncatedMtom,
        Answer::Huge,
    ] {
        let Run { out, results, took } = run_against(a);
        assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
        let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
        // 64 MB is past what the harness reads to judge an envelope: refused unread (BODY-01).
        let rule = if matches!(a, Answer::Huge) {
            "BODY-01"
        } else {
            "XDS-SOAP-01"
        };
        assert!(
            failed.iter().any(|c| c == rule),
            "{failed:?}\n{}",
            dump(&out)
        );
        assert!(took < Duration::from_secs(30), "took {took:?}");
    }
}

#[test]
fn silence_is_an_error_within_the_timeout() {
    run_against(Answer::Silence).assert_errors_within(Duration::from_secs(15));
}

/// A registry that reads the request and closes without answering broke RFC 9112 §9.6: a Fail of
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
