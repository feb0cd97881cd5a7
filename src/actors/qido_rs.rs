//! QIDO-RS Requester: IHE RAD-129 Search (DICOM PS3.18 §10.6). Sends a query with matching keys,
//! includefield, limit and offset, asking for application/dicom+json.

use crate::actors::dicomweb::DicomwebClient;
use crate::evidence::Exchange;
use crate::transaction::Transaction;
use crate::transport::http::{Meta, Request};

/// Percent-encode a query component (RFC 3986 unreserved characters are kept).
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Build the query string of a search.
pub fn query_string(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Search `path` (`studies`, `studies/{uid}/series`, …) with the given parameters.
pub async fn search(
    client: &DicomwebClient,
    path: &str,
    params: &[(String, String)],
    accept: Option<&str>,
) -> Exchange {
    let mut url = client.url(path);
    if !params.is_empty() {
        url.push('?');
        url.push_str(&query_string(params));
    }
    let operation = format!("Search {}", path.rsplit('/').next().unwrap_or(path));
    client
        .http
        .exchange(
            Meta {
                transaction: Transaction::Rad129,
                operation,
                actor: "QIDO-RS Requester (Imaging Document Consumer)",
            },
            Request::get(url, Some(accept.unwrap_or("application/dicom+json"))),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding() {
        let q = query_string(&[
            ("PatientName".into(), "Doe*".into()),
            ("StudyDate".into(), "20260101-20260131".into()),
            ("StudyInstanceUID".into(), "1.2,1.3".into()),
        ]);
        assert_eq!(
            q,
            "PatientName=Doe*&StudyDate=20260101-20260131&StudyInstanceUID=1.2%2C1.3"
        );
    }
}
