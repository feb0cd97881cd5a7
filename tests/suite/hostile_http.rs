//! Hostile answers at the wire level: the recording HTTP client never panics or hangs, keeps memory
//! bounded, and tells a broken SUT answer (a parsable exchange with a structural fault: judged later
//! as a Fail) from a broken transfer (no usable answer: an Error).

use std::time::{Duration, Instant};

use ihe_harness::config::{Auth, Timeouts};
use ihe_harness::evidence::Exchange;
use ihe_harness::transaction::Transaction;
use ihe_harness::transport::http::{
    HttpClient, Meta, Request, BODY_TOO_LARGE, MULTIPART_EXCERPT, PEER_CLOSED,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::*;

/// Serve one connection with `respond`, after reading the request head.
async fn one_shot<F, Fut>(respond: F) -> String
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let _ = sock.read(&mut buf).await;
            respond(sock).await;
        }
    });
    format!("http://{addr}/dicom-web/studies/1.2.3")
}

/// Serve one connection with `answer`, then close, after reading the request head.
async fn answer_then_close(answer: &'static [u8]) -> String {
    one_shot(move |mut sock| async move {
        let _ = sock.write_all(answer).await;
        let _ = sock.shutdown().await;
    })
    .await
}

fn client(read_ms: u64) -> HttpClient {
    HttpClient::new(
        Auth::None,
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_millis(read_ms),
            total: Duration::from_secs(30),
        },
    )
    .unwrap()
}

fn limits(max_body: u64) -> ihe_harness::config::Limits {
    ihe_harness::config::Limits {
        max_body,
        ..Default::default()
    }
}

fn meta() -> Meta {
    Meta {
        transaction: Transaction::Rad107,
        operation: "Retrieve Study".into(),
        actor: "test",
    }
}

/// A GET of `url` by a client that waits at most 2 s for each read.
async fn get(url: String) -> Exchange {
    client(2000).exchange(meta(), Request::get(url, None)).await
}

#[tokio::test]
async fn silence_is_a_timeout_error() {
    let url = one_shot(|sock| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(sock);
    })
    .await;
    let t0 = Instant::now();
    let ex = client(500).exchange(meta(), Request::get(url, None)).await;
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(ex.failure.as_ref().unwrap().kind, "timeout");
    assert!(ex.response.is_none());
}

#[tokio::test]
async fn stall_mid_body_is_a_timeout_error_with_partial_evidence() {
    let url = one_shot(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n--x\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let ex = client(500).exchange(meta(), Request::get(url, None)).await;
    assert_eq!(ex.failure.as_ref().unwrap().kind, "timeout");
    assert_eq!(ex.status(), Some(200));
    assert_eq!(ex.response.as_ref().unwrap().body.size, 5);
}

/// A body cut short of its Content-Length is an incomplete answer (RFC 9112 §8): the server closed
/// before answering the request whole, a Fail of PEER-01, not an Error.
#[tokio::test]
async fn short_body_against_content_length_is_a_closed_peer() {
    let url = answer_then_close(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: 1000\r\n\r\n[{\"0020",
    )
    .await;
    let ex = get(url).await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, PEER_CLOSED, "{}", failure.message);
    assert!(failure.message.contains("7 bytes"), "{}", failure.message);
    assert!(failure.message.contains("1000"), "{}", failure.message);
}

/// A chunked body that stops before its last (zero-sized) chunk is incomplete too.
#[tokio::test]
async fn chunked_body_closed_before_its_last_chunk_is_a_closed_peer() {
    let url = answer_then_close(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[{\"00\r\n",
    )
    .await;
    let ex = get(url).await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, PEER_CLOSED, "{}", failure.message);
    assert_eq!(ex.status(), Some(200));
}

/// The server reads the whole request and closes (FIN) without a byte of answer: PEER-01.
#[tokio::test]
async fn close_after_the_request_is_a_closed_peer() {
    let url = one_shot(|sock| async move {
        drop(sock);
    })
    .await;
    let ex = get(url).await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, PEER_CLOSED, "{}", failure.message);
    assert!(ex.response.is_none());
    assert!(
        ex.request
            .headers
            .iter()
            .any(|(n, v)| n == "Connection" && v == "close"),
        "the request said it wanted the answer before the close (RFC 9112 §9.6)"
    );
}

/// The server reads the whole request and resets the connection (RST): PEER-01 as well.
#[tokio::test]
async fn reset_after_the_request_is_a_closed_peer() {
    let url = one_shot(|sock| async move {
        let _ = sock.set_zero_linger();
        drop(sock);
    })
    .await;
    let ex = get(url).await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, PEER_CLOSED, "{}", failure.message);
}

/// No listener at all: the harness could not reach the SUT, which is an Error, not a Fail.
#[tokio::test]
async fn a_refused_connection_stays_an_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ex = client(2000)
        .exchange(
            meta(),
            Request::get(format!("http://127.0.0.1:{port}/dicom-web/studies"), None),
        )
        .await;
    assert_eq!(ex.failure.as_ref().unwrap().kind, "connect");
}

/// A server that resets while the request body is still being written never got the request
/// whole: that is not PEER-01 (the request was not complete), it stays an Error.
#[tokio::test]
async fn reset_during_the_upload_stays_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock.set_zero_linger();
            drop(sock);
        }
    });
    let req = Request {
        method: reqwest::Method::POST,
        url: format!("http://{addr}/dicom-web/studies"),
        headers: vec![("Content-Type".into(), "application/dicom".into())],
        body: bytes::Bytes::from(vec![0u8; 64 * 1024 * 1024]),
    };
    let ex = client(2000).exchange(meta(), req).await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_ne!(failure.kind, PEER_CLOSED, "{}", failure.message);
}

/// A body past the limit is not read further: the exchange ends at once with body-too-large
/// (judged as a Fail of BODY-01), holding the head of the body and its size so far.
#[tokio::test]
async fn a_body_past_the_limit_stops_the_transfer() {
    let url = spawn_fake(
        Fake::Endless(
            "application/dicom+json",
            b"[",
            br#"{"0020000D":{"vr":"UI"}},"#.repeat(2000),
        ),
        "/dicom-web/studies",
    );
    let t0 = Instant::now();
    let ex = client(2000)
        .with_limits(&limits(1024 * 1024))
        .exchange(meta(), Request::get(url, None))
        .await;
    assert!(t0.elapsed() < Duration::from_secs(10));
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, BODY_TOO_LARGE, "{}", failure.message);
    assert!(
        failure.message.contains("[limits] max_body_bytes"),
        "the message says how to raise the limit: {}",
        failure.message
    );
    let body = &ex.response.as_ref().unwrap().body;
    assert_eq!(body.kept.len(), 1024 * 1024);
    assert!(!body.complete);
    assert!(body.kept.starts_with(b"[{\"0020000D\""));
    assert!(body.size < 2 * 1024 * 1024, "{}", body.size);
}

/// A body within the byte limit whose parse would still take more memory than the harness allows
/// (here 300 000 JSON values in 600 kB) is refused the same way, before anything parses it.
#[tokio::test]
async fn a_dense_json_body_past_the_node_limit_is_refused() {
    let mut body = b"[0".to_vec();
    body.extend(b",0".repeat(299_999));
    body.push(b']');
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend(&body);
    let url = spawn_fake(Fake::Bytes(answer), "/dicom-web/studies");
    let ex = get(url).await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, BODY_TOO_LARGE, "{}", failure.message);
    assert!(
        failure.message.contains("300001 JSON values")
            && failure.message.contains("[limits] max_parsed_nodes"),
        "{}",
        failure.message
    );
    assert!(ex.response.as_ref().unwrap().body.complete);
}

/// A multipart body streams past whatever its size: only an XML part (a SOAP envelope to judge)
/// must fit in the limit.
#[tokio::test]
async fn an_xml_part_past_the_limit_stops_the_transfer() {
    let url = spawn_fake(
        Fake::Endless(
            "multipart/related; boundary=b; type=\"application/xop+xml\"; start=\"<root>\"; start-info=\"application/soap+xml\"",
            b"--b\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>",
            b"<x>endless</x>".repeat(1000),
        ),
        "/xds/registry",
    );
    let ex = client(2000)
        .with_limits(&limits(256 * 1024))
        .exchange(meta(), Request::get(url, None))
        .await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, BODY_TOO_LARGE, "{}", failure.message);
    assert!(failure.message.contains("XML part"), "{}", failure.message);
}

#[tokio::test]
async fn garbage_instead_of_http_is_an_error() {
    let url = answer_then_close(&[0xff, 0xfe, 0x00, 0x13, 0x37, b'\r', b'\n', b'\r', b'\n']).await;
    let ex = get(url).await;
    assert!(ex.failure.is_some());
    assert!(ex.response.is_none());
}

#[tokio::test]
async fn invalid_utf8_headers_are_recorded_lossily() {
    let url = one_shot(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 404 Not Found\r\nX-Odd: caf\xe9\xff\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let ex = get(url).await;
    assert!(ex.failure.is_none(), "{:?}", ex.failure);
    assert_eq!(ex.status(), Some(404));
    let odd = ex.response.as_ref().unwrap().header("x-odd").unwrap();
    assert!(odd.starts_with("caf"));
}

#[tokio::test]
async fn a_large_multipart_body_is_streamed_with_bounded_memory() {
    const PART: usize = 16 * 1024 * 1024;
    const PARTS: usize = 4;
    let url = one_shot(|mut sock| async move {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/octet-stream\"; boundary=big\r\nConnection: close\r\n\r\n";
        if sock.write_all(head).await.is_err() {
            return;
        }
        let chunk = vec![0x5au8; 1024 * 1024];
        for i in 0..PARTS {
            let lead: &[u8] = if i == 0 { b"--big\r\n\r\n" } else { b"\r\n--big\r\n\r\n" };
            if sock.write_all(lead).await.is_err() {
                return;
            }
            for _ in 0..PART / chunk.len() {
                if sock.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        let _ = sock.write_all(b"\r\n--big--\r\n").await;
        let _ = sock.shutdown().await;
    })
    .await;
    let ex = client(5000).exchange(meta(), Request::get(url, None)).await;
    assert!(ex.failure.is_none(), "{:?}", ex.failure);
    let body = &ex.response.as_ref().unwrap().body;
    assert!(body.size > (PART * PARTS) as u64);
    assert_eq!(
        body.kept.len(),
        MULTIPART_EXCERPT,
        "only an excerpt is kept"
    );
    let mp = ex.multipart.as_ref().unwrap();
    assert!(mp.closed && mp.error.is_none(), "{mp:?}");
    assert_eq!(mp.parts.len(), PARTS);
    assert!(mp.parts.iter().all(|p| p.size == PART as u64));
}

/// An answer of endless empty parts (each part's summary is kept to judge the answer) is read up
/// to `[limits] max_parts` and no further: a Fail of BODY-01's kind, within a second, the parts
/// summarised bounded.
#[tokio::test]
async fn endless_empty_parts_stop_at_the_parts_limit() {
    let url = one_shot(|mut sock| async move {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=e\r\nConnection: close\r\n\r\n";
        if sock.write_all(head).await.is_err() {
            return;
        }
        let parts = b"--e\r\n\r\n\r\n".repeat(4096);
        // Endless: until the client stops reading.
        while sock.write_all(&parts).await.is_ok() {}
    })
    .await;
    let started = std::time::Instant::now();
    let limits = ihe_harness::config::Limits {
        max_parts: 10_000,
        ..Default::default()
    };
    let ex = client(5000)
        .with_limits(&limits)
        .exchange(meta(), Request::get(url, None))
        .await;
    let failure = ex.failure.as_ref().expect("a failure");
    assert_eq!(failure.kind, "body-too-large", "{failure:?}");
    assert!(failure.message.contains("max_parts"), "{}", failure.message);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let mp = ex.multipart.as_ref().unwrap();
    assert_eq!(mp.parts.len(), 10_000);
}

#[tokio::test]
async fn wrong_boundary_is_recorded_as_a_structural_fault_not_an_error() {
    let url = one_shot(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=expected\r\nContent-Length: 26\r\n\r\n--other\r\n\r\nDATA\r\n--other--")
            .await;
    })
    .await;
    let ex = get(url).await;
    assert!(ex.failure.is_none(), "{:?}", ex.failure);
    let mp = ex.multipart.as_ref().unwrap();
    assert!(mp.error.is_some());
    assert!(!mp.closed);
}

#[tokio::test]
async fn credentials_reach_the_sut_but_never_the_evidence() {
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")
                .await;
        }
    });
    let client = HttpClient::new(
        Auth::Basic {
            username: "alice".into(),
            password: "s3cret-pw".into(),
            password_env: Some("SUT_PW".into()),
        },
        Timeouts::default(),
    )
    .unwrap();
    let ex = client
        .exchange(
            meta(),
            Request::get(format!("http://{addr}/dicom-web/studies"), None),
        )
        .await;
    let seen = rx.await.unwrap();
    assert!(
        seen.contains("authorization: Basic YWxpY2U6czNjcmV0LXB3"),
        "{seen}"
    );
    let recorded = serde_json::to_string(&ex).unwrap();
    assert!(!recorded.contains("s3cret-pw"));
    assert!(!recorded.contains("YWxpY2U6czNjcmV0LXB3"));
    assert!(recorded.contains("Basic <redacted>"));
    assert!(ex.repro.contains("${SUT_PW}"), "{}", ex.repro);
}

// Endless answers against whole runs: whatever the SUT sends, a run ends within `timeout_ms` of
// each exchange, its memory stays under 100 MB and its evidence stays bounded. Each test prints
// what it measured.

fn scenario_durations(results: &serde_json::Value) -> Vec<f64> {
    results["scenarios"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["duration"].as_f64()).collect())
        .unwrap_or_default()
}

/// Every scenario failed BODY-01 (no Error), each within `timeout_s`, in bounded memory and evidence.
fn assert_refused_past_the_limit(kind: &str, m: &Measured, timeout_s: f64) {
    let Measured {
        run,
        peak_rss_kb,
        evidence_bytes,
        ..
    } = m;
    eprintln!(
        "endless {kind}: {} scenarios in {:.1} s (longest {:.1} s), peak RSS {peak_rss_kb} kB, evidence {evidence_bytes} bytes",
        outcomes(&run.results).len(),
        run.took.as_secs_f64(),
        scenario_durations(&run.results).into_iter().fold(0.0, f64::max),
    );
    assert_eq!(run.out.status.code(), Some(1), "{}", dump(&run.out));
    let outcomes = outcomes(&run.results);
    assert!(!outcomes.is_empty(), "{}", dump(&run.out));
    for (scenario, outcome) in &outcomes {
        assert_eq!(outcome, "fail", "{scenario}\n{}", dump(&run.out));
    }
    let failed = failures(&run.results);
    for (scenario, _) in &outcomes {
        assert!(
            failed.iter().any(|(s, c)| s == scenario && c == "BODY-01"),
            "{scenario}: {failed:?}"
        );
    }
    for d in scenario_durations(&run.results) {
        assert!(d < timeout_s, "a scenario took {d} s");
    }
    assert!(*peak_rss_kb < RSS_LIMIT_KB, "peak RSS {peak_rss_kb} kB");
    // The default limits: 2 MiB of each body, at most 128 MiB for the run.
    assert!(
        *evidence_bytes < outcomes.len() as u64 * 3 * 1024 * 1024,
        "{evidence_bytes} bytes of evidence"
    );
}

fn study_json() -> Vec<u8> {
    br#"{"00080020":{"vr":"DA","Value":["20260115"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]},"0020000D":{"vr":"UI","Value":["2.25.1"]}},"#
        .repeat(400)
}

#[test]
fn an_endless_qido_json_answer_fails_body_01_within_the_timeout_in_bounded_memory() {
    let base = spawn_fake(
        Fake::Endless("application/dicom+json", b"[", study_json()),
        "/dicom-web",
    );
    let m = run_profile_measured(
        "endless-json",
        &preloaded_profile("endless QIDO-RS", "dicomweb", "base_url", &base),
        "@txn:RAD-129 and not @role:simulator",
    );
    assert_refused_past_the_limit("QIDO-RS JSON", &m, 20.0);
    assert_evidence_is_a_bounded_head(&m, b"[{\"00080020\"");
}

/// The evidence of a refused body: its head in an excerpt file no larger than the limit per body,
/// and a record that says it was truncated, with the size and SHA-256 of what was received.
fn assert_evidence_is_a_bounded_head(m: &Measured, head: &[u8]) {
    let mut records = Vec::new();
    let mut stack = vec![m.reports.join("evidence")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("evidence folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json")
                && p.file_name().is_some_and(|n| n != "findings.json")
            {
                records.push(p);
            }
        }
    }
    assert!(!records.is_empty());
    for path in records {
        let rec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("record")).expect("JSON record");
        let body = &rec["response"]["body"];
        let note = body["truncated"].as_str().unwrap_or_default();
        assert!(
            note.contains("first 2097152 of"),
            "{}: {note}",
            path.display()
        );
        assert_eq!(body["sha256"].as_str().map(str::len), Some(64));
        assert!(body["size"].as_u64().unwrap_or(0) > 4 * 1024 * 1024);
        let file = path.with_file_name(body["file"].as_str().expect("excerpt file"));
        let excerpt = std::fs::read(&file).expect("excerpt");
        assert_eq!(excerpt.len(), 2 * 1024 * 1024, "{}", file.display());
        assert!(excerpt.starts_with(head), "{}", file.display());
        let repro = std::fs::read_to_string(path.with_file_name("repro.sh")).expect("repro.sh");
        assert!(repro.contains("curl "), "{repro}");
    }
}

/// A SUT reached with a password, which sets a session cookie: neither reaches the evidence, the
/// results or the report, and the reproduction commands name the variable instead.
#[test]
fn secrets_reach_no_report_file() {
    let mut answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nSet-Cookie: session=c00k1e-s3cret; HttpOnly\r\nContent-Length: 2\r\nConnection: close\r\n\r\n".to_vec();
    answer.extend_from_slice(b"[]");
    let base = spawn_fake(Fake::Bytes(answer), "/dicom-web");
    let m = run_profile_measured(
        "secrets",
        &format!(
            "[sut]\nname = \"with credentials\"\n[test_data]\nmode = \"preloaded\"\n[dicomweb]\n\
             base_url = \"{base}\"\nusername = \"alice\"\npassword = \"pa55-w0rd-s3cret\"\n"
        ),
        "@txn:RAD-129 and not @role:simulator",
    );
    let mut stack = vec![m.reports.clone()];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("report folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
            for secret in [
                "pa55-w0rd-s3cret",
                "YWxpY2U6cGE1NS13MHJkLXMzY3JldA",
                "c00k1e-s3cret",
            ] {
                assert!(!text.contains(secret), "{} holds {secret}", p.display());
            }
            if p.file_name().is_some_and(|n| n == "repro.sh") {
                assert!(text.contains("alice:${SUT_PASSWORD}"), "{text}");
            }
            seen += 1;
        }
    }
    assert!(seen > 3, "{seen} files");
    assert!(!String::from_utf8_lossy(&m.run.out.stdout).contains("s3cret"));
}

#[test]
fn an_endless_soap_answer_fails_body_01_within_the_timeout_in_bounded_memory() {
    let base = spawn_fake(
        Fake::Endless(
            "application/soap+xml; charset=UTF-8",
            br#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header/><soap:Body><query:AdhocQueryResponse xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"><rim:RegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">"#,
            br#"<rim:ObjectRef id="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"/>"#.repeat(800),
        ),
        "/xds",
    );
    let m = run_profile_measured(
        "endless-soap",
        &preloaded_profile(
            "endless registry",
            "xds",
            "registry_url",
            &format!("{base}/registry"),
        ),
        "@txn:ITI-18 and @req:XDS-SOAP-02",
    );
    assert_refused_past_the_limit("ITI-18 SOAP", &m, 20.0);
}

#[test]
fn an_endless_fhir_answer_fails_body_01_within_the_timeout_in_bounded_memory() {
    let base = spawn_fake(
        Fake::Endless(
            "application/fhir+json",
            br#"{"resourceType":"Bundle","type":"searchset","entry":["#,
            br#"{"fullUrl":"urn:uuid:1","resource":{"resourceType":"DocumentReference","status":"current"}},"#
                .repeat(600),
        ),
        "/fhir",
    );
    let m = run_profile_measured(
        "endless-fhir",
        &preloaded_profile("endless responder", "mhd", "base_url", &base),
        "@txn:ITI-67 and @req:MHD-16",
    );
    assert_refused_past_the_limit("ITI-67 FHIR JSON", &m, 20.0);
}

#[test]
fn an_endless_mtom_envelope_fails_body_01_within_the_timeout_in_bounded_memory() {
    let base = spawn_fake(
        Fake::Endless(
            "multipart/related; boundary=b; type=\"application/xop+xml\"; start=\"<root>\"; start-info=\"application/soap+xml\"",
            b"--b\r\nContent-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>",
            br#"<rim:ObjectRef xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" id="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"/>"#.repeat(500),
        ),
        "/xds",
    );
    let m = run_profile_measured(
        "endless-mtom",
        &preloaded_profile(
            "endless imaging source",
            "xds",
            "imaging_source_url",
            &format!("{base}/imaging-source"),
        ),
        "@req:RAD69-06",
    );
    assert_refused_past_the_limit("RAD-69 MTOM envelope", &m, 20.0);
}

/// A WADO-RS retrieve whose one part never ends: a multipart body streams past whatever its size,
/// so it is the whole-exchange timeout that ends it, as an Error, within `timeout_ms`.
#[test]
fn an_endless_multipart_retrieve_is_an_error_at_the_timeout_in_bounded_memory() {
    let mut dicom_head = b"--endless\r\nContent-Type: application/dicom\r\n\r\n".to_vec();
    dicom_head.extend_from_slice(&[0u8; 128]);
    dicom_head.extend_from_slice(b"DICM");
    let prefix: &'static [u8] = Box::leak(dicom_head.into_boxed_slice());
    let base = spawn_fake(
        Fake::Endless(
            "multipart/related; type=\"application/dicom\"; boundary=endless",
            prefix,
            vec![0x5a; 64 * 1024],
        ),
        "/dicom-web",
    );
    let m = run_profile_measured(
        "endless-multipart",
        &format!(
            "[sut]\nname = \"endless WADO-RS\"\n[test_data]\nmode = \"preloaded\"\n[dicomweb]\n\
             base_url = \"{base}\"\nread_timeout_ms = 1000\ntimeout_ms = 5000\n"
        ),
        "@req:DW-18 and @txn:RAD-107 and not @txn:ITI-43",
    );
    let Measured {
        run,
        peak_rss_kb,
        evidence_bytes,
        ..
    } = &m;
    let longest = scenario_durations(&run.results)
        .into_iter()
        .fold(0.0, f64::max);
    eprintln!(
        "endless multipart retrieve: {} scenarios in {:.1} s (longest {longest:.1} s), peak RSS {peak_rss_kb} kB, evidence {evidence_bytes} bytes",
        outcomes(&run.results).len(),
        run.took.as_secs_f64(),
    );
    run.assert_errors_within(Duration::from_secs(60));
    let text = serde_json::to_string(&run.results).unwrap_or_default();
    assert!(text.contains("harness.timeout"), "{text}");
    assert!(
        longest < 8.0,
        "a scenario took {longest} s for a timeout of 5 s"
    );
    assert!(*peak_rss_kb < RSS_LIMIT_KB, "peak RSS {peak_rss_kb} kB");
    assert!(
        *evidence_bytes < 4 * 1024 * 1024,
        "{evidence_bytes} bytes of evidence"
    );
}

/// The largest answer the default limits accept, as dense as DICOM JSON gets, to every search of a
/// run: the checks parse each one, and memory stays bounded all the same.
#[test]
fn the_largest_json_answers_accepted_are_parsed_in_bounded_memory() {
    let item = br#"{"00080020":{"vr":"DA","Value":["20260115"]},"00080061":{"vr":"CS","Value":["CT"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]},"0020000D":{"vr":"UI","Value":["2.25.1"]}}"#;
    // As many items as stay under the default of 100 000 nodes.
    let nodes = |n: usize| {
        let mut body = b"[".to_vec();
        for i in 0..n {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item);
        }
        body.push(b']');
        let count = ihe_harness::transport::http::parse_nodes(&body).map(|(_, c)| c);
        (body, count.unwrap_or(0))
    };
    let per_item = nodes(2).1 - nodes(1).1;
    let (body, count) = nodes(((100_000 - 10) / per_item) as usize);
    assert!(count <= 100_000 && count > 99_000, "{count}");
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend(&body);
    let base = spawn_fake(Fake::Bytes(answer), "/dicom-web");
    let m = run_profile_measured(
        "dense-json",
        &preloaded_profile("large QIDO-RS answers", "dicomweb", "base_url", &base),
        "@txn:RAD-129 and not @role:simulator",
    );
    eprintln!(
        "largest accepted QIDO-RS JSON ({} bytes): {} scenarios in {:.1} s, peak RSS {} kB",
        body.len(),
        outcomes(&m.run.results).len(),
        m.run.took.as_secs_f64(),
        m.peak_rss_kb
    );
    let failed = failures(&m.run.results);
    assert!(
        !failed.iter().any(|(_, c)| c == "BODY-01"),
        "an answer within the limits is judged, not refused: {failed:?}"
    );
    assert!(!outcomes(&m.run.results).is_empty());
    assert!(
        m.peak_rss_kb < RSS_LIMIT_KB,
        "peak RSS {} kB",
        m.peak_rss_kb
    );
}

/// A DocumentReference of about 3 kB, as a Responder lists it.
fn document_reference(base: &str, n: usize) -> String {
    format!(
        r#"{{"fullUrl":"{base}/DocumentReference/d{n}","resource":{{"resourceType":"DocumentReference","id":"d{n}","meta":{{"profile":["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.DocumentReference"]}},"masterIdentifier":{{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.2.3.4.{n}"}},"identifier":[{{"use":"official","system":"urn:ietf:rfc:3986","value":"urn:uuid:00000000-0000-4000-8000-{n:012}"}}],"status":"current","type":{{"coding":[{{"system":"http://loinc.org","code":"18748-4"}}]}},"category":[{{"coding":[{{"system":"http://loinc.org","code":"18726-0"}}]}}],"subject":{{"reference":"Patient/p1"}},"date":"2026-01-15T10:00:00Z","description":"{}","content":[{{"attachment":{{"contentType":"application/dicom","url":"{base}/Binary/b{n}","size":4,"hash":"AAAA"}},"format":{{"system":"http://dicom.nema.org/resources/ontology/DCMUID","code":"1.2.840.10008.5.1.4.1.1.88.59"}}}}],"context":{{"period":{{"start":"2026-01-15"}},"related":[{{"identifier":{{"system":"urn:dicom:uid","value":"urn:oid:2.25.1"}}}}]}}}}}}"#,
        "x".repeat(1500)
    )
}

/// A FHIR server whose every search has one more page: 600 DocumentReferences (1.8 MB) a page
/// and a `next` link to the page after, for ever. Patients are found; documents read as 4 bytes.
fn spawn_paging_responder() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/fhir", listener.local_addr().unwrap());
    let served = base.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let base = served.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length.min(1 << 20)];
                let _ = reader.read_exact(&mut body);
                let (ct, answer) = if path.contains("/Patient") {
                    (
                        "application/fhir+json",
                        format!(
                            r#"{{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{{"fullUrl":"{base}/Patient/p1","resource":{{"resourceType":"Patient","id":"p1"}}}}]}}"#
                        ),
                    )
                } else if path.contains("/Binary/") {
                    ("application/dicom", "DICM".to_string())
                } else {
                    let page: usize = path
                        .split("page=")
                        .nth(1)
                        .and_then(|p| p.split('&').next())
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                    let entries: Vec<String> = (0..600)
                        .map(|i| document_reference(&base, page * 600 + i))
                        .collect();
                    (
                        "application/fhir+json",
                        format!(
                            r#"{{"resourceType":"Bundle","type":"searchset","link":[{{"relation":"next","url":"{base}/DocumentReference?page={}"}}],"entry":[{}]}}"#,
                            page + 1,
                            entries.join(",")
                        ),
                    )
                };
                let mut conn = reader.into_inner();
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            });
        }
    });
    base
}

/// A Responder that holds thousands of documents for the patient (a shared test system after many
/// runs) and pages them 600 at a time: each search reads its pages while they hold at most
/// `[limits] max_body_bytes` and `max_parsed_nodes` together, the DocumentReferences are parsed a
/// page at a time when a step needs them, and the MHD search scenarios run in bounded memory.
/// (Before, every search followed 20 pages and kept every DocumentReference parsed until the
/// scenario ended: 812 MB and two and a half minutes for these scenarios.)
#[test]
fn a_search_with_endless_large_pages_is_read_within_the_limits_in_bounded_memory() {
    let base = spawn_paging_responder();
    let m = run_profile_measured(
        "paging-responder",
        &format!(
            "[sut]\nname = \"a responder with many documents per patient\"\n[test_data]\n\
             mode = \"preloaded\"\n[mhd]\nbase_url = \"{base}\"\n"
        ),
        "@profile:MHD and @txn:ITI-67",
    );
    let run = &m.run;
    eprintln!(
        "paging responder: {} scenarios in {:.1} s, peak RSS {} kB, evidence {} bytes",
        outcomes(&run.results).len(),
        run.took.as_secs_f64(),
        m.peak_rss_kb,
        m.evidence_bytes
    );
    let outcomes = outcomes(&run.results);
    assert!(outcomes.len() >= 10, "{}", dump(&run.out));
    // The SUT's answers are judged (they are not the test data): Fails. Where a step or MHD-18
    // needs a document the pages read do not show, it may be on a page the harness did not read:
    // an Error that says so and names the limit, never a Fail of a SUT that pages correctly.
    let stdout = String::from_utf8_lossy(&run.out.stdout);
    assert!(
        outcomes
            .iter()
            .all(|(_, o)| o == "fail" || o == "error" || o == "not-applicable"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    assert!(outcomes.iter().any(|(_, o)| o == "fail"), "{outcomes:?}");
    for line in stdout.lines().filter(|l| l.starts_with("ERROR ")) {
        assert!(line.contains("search not read to its end"), "{line}");
    }
    assert!(
        m.peak_rss_kb < RSS_LIMIT_KB,
        "peak RSS {} kB",
        m.peak_rss_kb
    );
    assert!(run.took < Duration::from_secs(90), "took {:?}", run.took);
    // A search needing a document past what it read says so, naming the key.
    assert!(
        stdout.contains("search not read to its end")
            && stdout.contains("[limits] max_parsed_nodes"),
        "{stdout}"
    );
}
