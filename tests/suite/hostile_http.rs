//! Hostile answers at the wire level: the recording HTTP client never panics or hangs, keeps memory
//! bounded, and tells a broken SUT answer (a parsable exchange with a structural fault: judged later
//! as a Fail) from a broken transfer (no usable answer: an Error).

use std::time::{Duration, Instant};

use ihe_harness::config::{Auth, Timeouts};
use ihe_harness::transport::http::{HttpClient, Meta, Request, MULTIPART_EXCERPT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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

fn meta() -> Meta {
    Meta {
        transaction: "RAD-107",
        operation: "Retrieve Study".into(),
        actor: "test",
    }
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

#[tokio::test]
async fn short_body_against_content_length_is_a_read_error() {
    let url = one_shot(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: 1000\r\n\r\n[{\"0020")
            .await;
        let _ = sock.shutdown().await;
    })
    .await;
    let ex = client(2000).exchange(meta(), Request::get(url, None)).await;
    assert_eq!(
        ex.failure.as_ref().unwrap().kind,
        "read",
        "{:?}",
        ex.failure
    );
}

#[tokio::test]
async fn garbage_instead_of_http_is_an_error() {
    let url = one_shot(|mut sock| async move {
        let _ = sock
            .write_all(&[0xff, 0xfe, 0x00, 0x13, 0x37, b'\r', b'\n', b'\r', b'\n'])
            .await;
        let _ = sock.shutdown().await;
    })
    .await;
    let ex = client(2000).exchange(meta(), Request::get(url, None)).await;
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
    let ex = client(2000).exchange(meta(), Request::get(url, None)).await;
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

#[tokio::test]
async fn wrong_boundary_is_recorded_as_a_structural_fault_not_an_error() {
    let url = one_shot(|mut sock| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=expected\r\nContent-Length: 26\r\n\r\n--other\r\n\r\nDATA\r\n--other--")
            .await;
    })
    .await;
    let ex = client(2000).exchange(meta(), Request::get(url, None)).await;
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
