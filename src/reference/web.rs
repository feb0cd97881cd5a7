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

/// True for a syntactically valid UID (PS3.5 9.1): 1 to 64 characters, numeric components separated by
/// single dots, no leading zero in a multi-digit component.
pub fn is_valid_uid(uid: &str) -> bool {
    if uid.is_empty() || uid.len() > 64 {
        return false;
    }
    uid.split('.').all(|c| {
        !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) && (c == "0" || !c.starts_with('0'))
    })
}

/// Check every UID of a path, answering 400 for the first malformed one.
pub fn check_uids(uids: &[&str]) -> Result<(), Rejection> {
    match uids.iter().find(|u| !is_valid_uid(u)) {
        Some(bad) => Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            format!(
                "malformed UID in path: \"{}\" (PS3.5 9.1)",
                bad.chars().take(80).collect::<String>()
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
pub fn base_url(headers: &HeaderMap, bound: SocketAddr) -> String {
    format!("http://{}{}", request_host(headers, bound), SERVICE_PATH)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_syntax() {
        assert!(is_valid_uid("1.2.840.10008.1.2.1"));
        assert!(is_valid_uid("2.25.0"));
        assert!(!is_valid_uid("1.2.abc"));
        assert!(!is_valid_uid("1..2"));
        assert!(!is_valid_uid("1.02"));
        assert!(!is_valid_uid(""));
        assert!(!is_valid_uid(&"1.".repeat(40)));
    }

    #[test]
    fn host_header_is_filtered() {
        let bound: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(request_host(&h, bound), "127.0.0.1:9");
        h.insert(header::HOST, HeaderValue::from_static("example.org:8080"));
        assert_eq!(base_url(&h, bound), "http://example.org:8080/dicom-web");
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
