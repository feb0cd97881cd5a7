//! HTTP plumbing shared by the reference DICOMweb services: error responses, the service base URL, UID
//! validation and query-string parsing.
//!
//! PS3.18 8.2 defines the resource paths below a service base URL, 8.3 the query parameters (with the
//! `accept` query parameter of 8.3.3.1 standing for the `Accept` header), and 8.4 the status codes.
//! Unique identifiers in paths follow PS3.5 9.1 (digits and dots, at most 64 characters); anything else
//! is a malformed request (400).

use std::net::SocketAddr;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::reference::faults::Fault;
use crate::reference::state::AppState;
use crate::reference::store::archive::{Instance, NotFound, Target};
use crate::reference::store::is_valid_uid;

/// Path of the DICOMweb service below the server root.
pub const SERVICE_PATH: &str = "/dicom-web";

/// A short `text/plain` error response: the status says what went wrong, the body says why.
pub fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    let mut body = message.into();
    body.push('\n');
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// A refused request: the status and a short reason, answered as [`problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub status: StatusCode,
    /// Why, in one line.
    pub message: String,
}

impl Rejection {
    /// A rejection with this status and reason.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Rejection {
        Rejection {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        problem(self.status, self.message)
    }
}

/// How WADO-RS answers a target the archive does not hold: DICOMweb's own, so kept beside the
/// other DICOMweb answers rather than in the state every protocol shares.
impl AppState {
    /// Instances of a WADO-RS target, or the error response for a missing one (404; the
    /// wrong-status-unknown-study fault answers 500 for an unknown study).
    pub fn resolve(&self, target: &Target) -> Result<Vec<std::sync::Arc<Instance>>, Rejection> {
        self.archive().resolve(target).map_err(|nf| {
            let what = match nf {
                NotFound::Study => "study",
                NotFound::Series => "series in this study",
                NotFound::Instance => "instance in this series",
            };
            if nf == NotFound::Study && self.has(Fault::WrongStatusUnknownStudy) {
                Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            } else {
                Rejection::new(StatusCode::NOT_FOUND, format!("no such {what}"))
            }
        })
    }
}

/// Check every UID of a path, answering 400 for the first malformed one.
pub fn check_uids(uids: &[&str]) -> Result<(), Rejection> {
    match uids.iter().find(|u| !is_valid_uid(u)) {
        Some(bad) => Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            format!(
                "malformed UID in path: {} (PS3.5 9.1)",
                crate::evidence::quote(bad)
            ),
        )),
        None => Ok(()),
    }
}

/// The host (with port) the request was addressed to, from `Host`, else the bound address. Only
/// characters that can appear in a host and port are accepted from the header.
pub fn request_host(headers: &HeaderMap, bound: SocketAddr) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .map(str::to_string)
        .unwrap_or_else(|| bound.to_string())
}

/// Absolute service base URL (`http://host:port/dicom-web`) as seen by the client.
pub fn base_url(headers: &HeaderMap, bound: SocketAddr, scheme: &str) -> String {
    format!(
        "{scheme}://{}{}",
        request_host(headers, bound),
        SERVICE_PATH
    )
}

/// Decoded query parameters in order (`application/x-www-form-urlencoded`, as PS3.18 8.3 uses).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// The Acceptable Media Types of a request: the `accept` query parameters if any (PS3.18 8.3.3.1),
/// otherwise every `Accept` header line, joined as one list. `None` when the request states none.
pub fn acceptable(
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Option<String>, Rejection> {
    let from_query: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "accept")
        .map(|(_, v)| v.as_str())
        .collect();
    if !from_query.is_empty() {
        return Ok(Some(from_query.join(",")));
    }
    let mut lines = Vec::new();
    for v in headers.get_all(header::ACCEPT) {
        match v.to_str() {
            Ok(s) => lines.push(s.to_string()),
            Err(_) => {
                return Err(Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "Accept header is not visible ASCII",
                ))
            }
        }
    }
    Ok(if lines.is_empty() {
        None
    } else {
        Some(lines.join(","))
    })
}

/// Is this a QIDO-RS search (PS3.18 §10.6: GET on `…/studies`, `…/series` or `…/instances`)?
fn is_qido_search(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::GET
        && path.starts_with(SERVICE_PATH)
        && matches!(
            path.trim_end_matches('/').rsplit('/').next(),
            Some("studies" | "series" | "instances")
        )
}

/// Faults that break the HTTP exchange itself rather than what a service answers: the
/// `peer-closes` and `qido-endless` faults, for QIDO-RS searches.
pub async fn fault_hooks(
    axum::extract::State(state): axum::extract::State<crate::reference::state::Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if is_qido_search(req.method(), req.uri().path()) {
        if state.has(crate::reference::faults::Fault::PeerCloses) {
            return close_without_answer();
        }
        if state.has(crate::reference::faults::Fault::QidoEndless) {
            return endless_json(state.shutdown_signal());
        }
    }
    next.run(req).await
}

/// A response that makes the server close the connection without sending anything: hyper puts the
/// head in its write buffer, polls the body before flushing, and on the body's error drops the
/// connection with the buffer unsent. The client has sent its whole request and gets no answer.
pub fn close_without_answer() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::other(
            "peer-closes fault: close without answering",
        ))
    });
    (StatusCode::OK, axum::body::Body::from_stream(failing)).into_response()
}

/// 200 with a DICOM JSON array of study results that never ends (until the client goes away or the
/// server shuts down).
fn endless_json(shutdown: tokio::sync::watch::Receiver<bool>) -> Response {
    use futures_util::StreamExt as _;
    let item = concat!(
        r#"{"00080020":{"vr":"DA","Value":["20260115"]},"00080061":{"vr":"CS","Value":["CT"]},"#,
        r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Endless^Answer"}]},"#,
        r#""0020000D":{"vr":"UI","Value":["2.25.1"]}},"#
    );
    let chunk = bytes::Bytes::from(item.repeat(64 * 1024 / item.len()));
    let mut shutdown = shutdown;
    let stop = async move {
        let _ = shutdown.wait_for(|v| *v).await;
    };
    let body = futures_util::stream::once(async { bytes::Bytes::from_static(b"[") })
        .chain(futures_util::stream::repeat(chunk))
        .map(Ok::<_, std::io::Error>)
        .take_until(stop);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/dicom+json"),
        )],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qido_searches_are_told_from_retrieves() {
        let get = axum::http::Method::GET;
        assert!(is_qido_search(&get, "/dicom-web/studies"));
        assert!(is_qido_search(&get, "/dicom-web/studies/1.2/series"));
        assert!(is_qido_search(
            &get,
            "/dicom-web/studies/1.2/series/1.3/instances"
        ));
        assert!(!is_qido_search(&get, "/dicom-web/studies/1.2"));
        assert!(!is_qido_search(&get, "/dicom-web/studies/1.2/metadata"));
        assert!(!is_qido_search(
            &axum::http::Method::POST,
            "/dicom-web/studies"
        ));
        assert!(!is_qido_search(&get, "/fhir/studies"));
    }

    /// The peer-closes response really closes without a byte, once the request is read.
    #[tokio::test]
    async fn close_without_answer_sends_nothing() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let app = axum::Router::new().route(
            "/x",
            axum::routing::get(|| async { close_without_answer() }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        sock.write_all(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut got = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            sock.read_to_end(&mut got),
        )
        .await;
        assert!(read.is_ok(), "the server closes");
        assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    }

    #[test]
    fn host_header_is_filtered() {
        let bound: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(request_host(&h, bound), "127.0.0.1:9");
        h.insert(header::HOST, HeaderValue::from_static("example.org:8080"));
        assert_eq!(
            base_url(&h, bound, "http"),
            "http://example.org:8080/dicom-web"
        );
        h.insert(header::HOST, HeaderValue::from_static("evil/<x>"));
        assert_eq!(request_host(&h, bound), "127.0.0.1:9");
    }

    #[test]
    fn accept_query_parameter_wins() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        let q = query_pairs(Some("accept=application%2Fdicom%2Bjson&x=1"));
        assert_eq!(
            acceptable(&h, &q).unwrap().as_deref(),
            Some("application/dicom+json")
        );
        assert_eq!(acceptable(&h, &[]).unwrap().as_deref(), Some("text/html"));
        assert_eq!(acceptable(&HeaderMap::new(), &[]).unwrap(), None);
    }
}
