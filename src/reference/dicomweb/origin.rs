//! The DICOMweb origin server a SUT user agent calls (a viewer, an Imaging Document Consumer, a
//! STOW-RS sender): the same resources as [`super::web::SERVICE_PATH`], below
//! [`ORIGIN_PATH`]` + /dicom-web`, each request recorded in the inbox with the answer it got, so
//! that the scenario that made the SUT act judges what it asked for (the DWUA checks).
//!
//! The requests are answered by the reference's own DICOMweb services (the path below
//! [`ORIGIN_PATH`] is handed to them as is), so a user agent meets a conformant and strict origin
//! server; a path that is no DICOMweb resource is answered 404 and recorded like the rest. The
//! request body is read within the run's `[limits]` ([`crate::reference::inbound::read`]); the
//! answer is kept as evidence up to `[limits] evidence_bytes_per_exchange`. A separate path keeps
//! the harness's own DICOMweb scenarios against the embedded reference out of the inbox.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use futures_util::StreamExt;
use sha2::Digest;

use crate::evidence::{Body, Direction, Exchange, HttpResponse, TransportFailure};
use crate::reference::state::Shared;
use crate::transaction::Transaction;

use super::web::{problem, request_host, SERVICE_PATH};

/// The prefix of the recorded origin server: its service base URL is
/// `http://host:port/origin/dicom-web`.
pub const ORIGIN_PATH: &str = "/origin";

/// Every request below [`ORIGIN_PATH`].
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(ORIGIN_PATH, any(serve))
        .route(&format!("{ORIGIN_PATH}/{{*rest}}"), any(serve))
}

/// The transaction a request to the origin server is, by method and resource.
pub fn transaction_of(method: &str, path: &str) -> (Transaction, &'static str) {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    match method {
        "POST" => (Transaction::Rad108, "Store Instances (SUT user agent)"),
        "OPTIONS" => (Transaction::Capabilities, "Capabilities (SUT user agent)"),
        _ if matches!(last, "studies" | "series" | "instances") => {
            (Transaction::Rad129, "Search (SUT user agent)")
        }
        _ => (Transaction::Rad107, "Retrieve (SUT user agent)"),
    }
}

async fn serve(State(st): State<Shared>, req: Request) -> Response {
    let t0 = Instant::now();
    let started_at = crate::evidence::now_rfc3339();
    let (parts, raw) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let url = format!(
        "{}://{}{path_and_query}",
        st.scheme(),
        request_host(&parts.headers, st.bound())
    );
    let limits = *st.inbound_limits();
    let read = crate::reference::inbound::read(raw, &parts.headers, &method, &url, &limits).await;
    let inner_path = parts
        .uri
        .path()
        .strip_prefix(ORIGIN_PATH)
        .unwrap_or_default()
        .to_string();
    let (transaction, operation) = transaction_of(&method, &inner_path);
    let (response, failure) = match &read.refusal {
        Some(r) => {
            let mut resp = problem(r.status, r.reason.clone());
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            (resp, Some(r.failure.clone()))
        }
        None if !inner_path.starts_with(SERVICE_PATH) => (
            problem(
                StatusCode::NOT_FOUND,
                format!(
                    "the DICOMweb service of this origin server is {ORIGIN_PATH}{SERVICE_PATH}"
                ),
            ),
            None,
        ),
        None => {
            let inner_uri = match parts.uri.query() {
                Some(q) => format!("{inner_path}?{q}"),
                None => inner_path.clone(),
            };
            let mut inner = axum::http::Request::builder()
                .method(parts.method.clone())
                .uri(inner_uri)
                .body(axum::body::Body::from(read.bytes.clone()));
            if let Ok(r) = inner.as_mut() {
                *r.headers_mut() = parts.headers.clone();
            }
            match inner {
                Ok(r) => {
                    let app = super::routes(st.clone()).with_state(st.clone());
                    match tower::ServiceExt::oneshot(app, r).await {
                        Ok(resp) => (resp, None),
                        Err(never) => match never {},
                    }
                }
                Err(e) => (
                    problem(StatusCode::BAD_REQUEST, format!("malformed request: {e}")),
                    None,
                ),
            }
        }
    };
    let (resp_parts, resp_body) = response.into_parts();
    // The answer is passed on whole; what the evidence keeps is its head. An answer that does not
    // end within the inbound timeout (a stalling fault) is cut there.
    let mut stream = resp_body.into_data_stream();
    let mut bytes = bytes::BytesMut::new();
    let deadline = Instant::now() + limits.timeout;
    let mut cut = None;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                if bytes.len() as u64 + chunk.len() as u64 > limits.max_body.max(64 << 20) {
                    cut = Some("the answer is larger than the origin server passes on");
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                cut = Some("the answer broke off");
                break;
            }
            Err(_) => {
                cut = Some("the answer did not end within the inbound timeout");
                break;
            }
        }
    }
    let mut whole = bytes.freeze();
    // The URLs the services write (Retrieve URL in search results, BulkDataURIs in metadata, the
    // Retrieve URLs of a store response) name this origin server, so that a user agent that
    // follows them stays where its requests are recorded.
    let textual = resp_parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json") || ct.contains("xml"));
    if textual {
        let host = request_host(&parts.headers, st.bound());
        let from = format!("{}://{host}{SERVICE_PATH}/", st.scheme());
        let to = format!("{}://{host}{ORIGIN_PATH}{SERVICE_PATH}/", st.scheme());
        if let Ok(text) = std::str::from_utf8(&whole) {
            if text.contains(&from) {
                whole = bytes::Bytes::from(text.replace(&from, &to));
            }
        }
    }
    let keep = whole.len().min(limits.evidence_per_exchange as usize);
    let resp_headers: Vec<(String, String)> = resp_parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (request, repro) = crate::reference::inbound::recorded_request(
        &method,
        &url,
        &parts.headers,
        read.evidence.clone(),
    );
    let mut exchange = Exchange {
        seq: 0,
        transaction,
        operation: operation.to_string(),
        actor: "DICOMweb origin server (simulated)".into(),
        direction: Direction::Inbound,
        started_at,
        time_to_headers: Some(t0.elapsed()),
        elapsed: t0.elapsed(),
        request,
        response: Some(HttpResponse {
            status: resp_parts.status.as_u16(),
            headers: resp_headers,
            body: Body {
                size: whole.len() as u64,
                sha256: hex::encode(sha2::Sha256::digest(&whole)),
                kept: whole.slice(..keep),
                complete: keep == whole.len(),
            },
        }),
        multipart: None,
        failure,
        repro,
        dimse: None,
        tls: None,
    };
    // The repro line repeats the Accept the request sent: it chooses the answer.
    if exchange.request.method == "GET" {
        if let Some(v) = crate::evidence::find_header(&exchange.request.headers, "accept") {
            let q = crate::transport::http::shell_quote(&format!("Accept: {v}"));
            exchange.repro = exchange
                .repro
                .replacen("curl ", &format!("curl -H {q} "), 1);
        }
    }
    if let Some(why) = cut {
        exchange.failure.get_or_insert(TransportFailure {
            kind: "read".into(),
            message: format!("{why} ({} bytes passed on)", whole.len()),
        });
    }
    st.inbox().push(exchange);
    if cut.is_some() {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, cut.unwrap_or_default());
    }
    let mut headers = resp_parts.headers;
    // The body may have changed length: it is sent whole, with its own length.
    headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut resp = (resp_parts.status, whole).into_response();
    let length = resp
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .cloned();
    *resp.headers_mut() = headers;
    if let Some(l) = length {
        resp.headers_mut()
            .insert(axum::http::header::CONTENT_LENGTH, l);
    }
    resp
}

#[cfg(test)]
mod tests {
    use crate::reference::dicomweb::retrieve::tests::fixture;
    use crate::reference::tests::{client, start};
    use crate::transaction::Transaction;

    #[tokio::test]
    async fn every_request_is_answered_by_the_services_and_recorded() {
        let server = start(&[]).await;
        let base = server.origin_base();
        let f = &fixture("CT-CHEST")[0];
        let study = f["study_uid"].as_str().unwrap();
        let series = f["series_uid"].as_str().unwrap();
        let url = format!("{base}/studies/{study}/series/{series}/metadata");
        let http = client();
        let resp = http
            .get(&url)
            .header("Accept", "application/dicom+json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.text().await.unwrap();
        // The BulkDataURIs name this origin server, not the unrecorded service.
        assert!(body.contains(&format!("{base}/studies/")), "{body}");
        let bad = http
            .get(format!("{base}/study/{study}"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 404);
        let outside = http
            .get(format!("http://{}/origin/elsewhere", server.addr()))
            .send()
            .await
            .unwrap();
        assert_eq!(outside.status(), 404);
        let inbox = server.inbox();
        assert_eq!(inbox.len(), 3);
        let first = inbox.get(0).unwrap();
        assert_eq!(first.transaction, Transaction::Rad107);
        assert_eq!(first.request.url, url);
        assert_eq!(first.status(), Some(200));
        assert_eq!(inbox.get(1).unwrap().status(), Some(404));
        // The service below /dicom-web is not recorded.
        let plain = http
            .get(format!(
                "{}/studies/{study}/metadata",
                server.dicomweb_base()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 200);
        assert_eq!(inbox.len(), 3);
        server.shutdown().await;
    }
}
