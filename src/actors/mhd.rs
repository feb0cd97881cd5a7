//! MHD initiators over FHIR R4 REST (IHE ITI MHD 4.2.x):
//! - Document Source: ITI-65 Provide Document Bundle (POST of a transaction Bundle to the base);
//! - Document Consumer: ITI-66 Find Document Lists, ITI-67 Find Document References (GET with a
//!   query, or POST `_search` with a form body) and ITI-68 Retrieve Document (GET on
//!   `attachment.url`).
//!
//! Every call returns the recorded [`Exchange`] (with its curl repro line); judging is left to
//! [`crate::checks::mhd`].

use base64::Engine;
use bytes::Bytes;
use serde_json::Value;

use crate::actors::qido_rs::query_string;
use crate::evidence::Exchange;
use crate::model::fhir::{xml, FHIR_JSON, FHIR_XML};
use crate::transaction::Transaction;
use crate::transport::http::{HttpClient, Meta, Request};

/// The actor the harness plays for ITI-65.
pub const SOURCE: &str = "MHD Document Source";
/// The actor the harness plays for ITI-66/67/68.
pub const CONSUMER: &str = "MHD Document Consumer";

/// A FHIR user agent for the SUT's MHD endpoints.
#[derive(Debug, Clone)]
pub struct MhdClient {
    /// The HTTP client.
    pub http: HttpClient,
    /// The FHIR base URL, without trailing slash.
    pub base: String,
}

/// Form-encode parameters (`application/x-www-form-urlencoded`).
pub fn form_body(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish()
}

impl MhdClient {
    /// A client for the FHIR base `base`.
    pub fn new(http: HttpClient, base: &str) -> MhdClient {
        MhdClient {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// `base/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// Resolve a URL that may be relative to the FHIR base (`Binary/1`) or absolute.
    pub fn resolve(&self, url: &str) -> String {
        if url.contains("://") {
            return url.to_string();
        }
        match url::Url::parse(&format!("{}/", self.base)).and_then(|b| b.join(url)) {
            Ok(u) if !url.starts_with('/') => u.to_string(),
            Ok(u) => u.to_string(),
            Err(_) => self.url(url),
        }
    }

    /// ITI-65: POST the transaction Bundle to the base, as FHIR JSON or (`xml`) FHIR XML.
    pub async fn provide_bundle(&self, bundle: &Value, xml: bool) -> Exchange {
        let (ct, body) = if xml {
            match xml::from_json(bundle) {
                Ok(s) => (FHIR_XML, s.into_bytes()),
                Err(_) => (FHIR_JSON, serde_json::to_vec(bundle).unwrap_or_default()),
            }
        } else {
            (FHIR_JSON, serde_json::to_vec(bundle).unwrap_or_default())
        };
        let req = Request {
            method: reqwest::Method::POST,
            url: self.base.clone(),
            headers: vec![
                ("Content-Type".into(), format!("{ct}; charset=UTF-8")),
                ("Accept".into(), ct.into()),
            ],
            body: Bytes::from(body),
        };
        self.http
            .exchange(
                Meta {
                    transaction: Transaction::Iti65,
                    operation: "Provide Document Bundle".into(),
                    actor: SOURCE,
                },
                req,
            )
            .await
    }

    async fn search(
        &self,
        transaction: Transaction,
        resource: &str,
        params: &[(String, String)],
        post: bool,
        xml: bool,
    ) -> Exchange {
        let accept = if xml { FHIR_XML } else { FHIR_JSON };
        let operation = format!(
            "{} {resource}{}",
            if transaction == Transaction::Iti66 {
                "Find Document Lists"
            } else {
                "Find Document References"
            },
            if post { " (POST _search)" } else { "" }
        );
        let req = if post {
            Request {
                method: reqwest::Method::POST,
                url: self.url(&format!("{resource}/_search")),
                headers: vec![
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("Accept".into(), accept.into()),
                ],
                body: Bytes::from(form_body(params)),
            }
        } else {
            let mut url = self.url(resource);
            if !params.is_empty() {
                url.push('?');
                url.push_str(&query_string(params));
            }
            Request::get(url, Some(accept))
        };
        self.http
            .exchange(
                Meta {
                    transaction,
                    operation,
                    actor: CONSUMER,
                },
                req,
            )
            .await
    }

    /// ITI-66: `GET List?…` or (`post`) `POST List/_search`, asking for FHIR JSON.
    pub async fn find_lists(&self, params: &[(String, String)], post: bool) -> Exchange {
        self.search(Transaction::Iti66, "List", params, post, false)
            .await
    }

    /// ITI-66 asking for FHIR XML (`xml`) or JSON.
    pub async fn find_lists_as(
        &self,
        params: &[(String, String)],
        post: bool,
        xml: bool,
    ) -> Exchange {
        self.search(Transaction::Iti66, "List", params, post, xml)
            .await
    }

    /// ITI-67: `GET DocumentReference?…` or (`post`) `POST DocumentReference/_search`, asking for
    /// FHIR XML (`xml`) or JSON.
    pub async fn find_document_references(
        &self,
        params: &[(String, String)],
        post: bool,
        xml: bool,
    ) -> Exchange {
        self.search(Transaction::Iti67, "DocumentReference", params, post, xml)
            .await
    }

    /// `GET Patient?identifier=system|value`, the lookup of a Patient resource by a business
    /// identifier that a consumer grouped with PDQm, or a source, makes before referencing it.
    pub async fn find_patient(&self, token: &str, actor: &'static str) -> Exchange {
        let url = self.url(&format!(
            "Patient?identifier={}",
            url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        ));
        self.http
            .exchange(
                Meta {
                    transaction: Transaction::Fhir,
                    operation: "Patient search".into(),
                    actor,
                },
                Request::get(url, Some(FHIR_JSON)),
            )
            .await
    }

    /// Read the Patient at `reference` (`Patient/id`, relative to the FHIR base, or absolute).
    pub async fn read_patient(&self, reference: &str, actor: &'static str) -> Exchange {
        self.http
            .exchange(
                Meta {
                    transaction: Transaction::Fhir,
                    operation: "Patient read".into(),
                    actor,
                },
                Request::get(self.resolve(reference), Some(FHIR_JSON)),
            )
            .await
    }

    /// ITI-68: GET the document at `url` (absolute, or relative to the FHIR base), with an
    /// optional Accept header.
    pub async fn retrieve(&self, url: &str, accept: Option<&str>) -> Exchange {
        self.retrieve_digested(url, accept).await.0
    }

    /// ITI-68, with the SHA-1 (base64, as `attachment.hash` is written) and size of the body,
    /// digested as it streams: the document is judged against its DocumentReference whatever its
    /// size, and the evidence need not keep it whole.
    pub async fn retrieve_digested(
        &self,
        url: &str,
        accept: Option<&str>,
    ) -> (Exchange, (String, u64)) {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
        let mut size = 0u64;
        let ex = self
            .http
            .exchange_with(
                Meta {
                    transaction: Transaction::Iti68,
                    operation: "Retrieve Document".into(),
                    actor: CONSUMER,
                },
                Request::get(self.resolve(url), accept),
                &mut |chunk| {
                    ctx.update(chunk);
                    size += chunk.len() as u64;
                },
            )
            .await;
        let hash = base64::engine::general_purpose::STANDARD.encode(ctx.finish().as_ref());
        (ex, (hash, size))
    }

    /// The `next` page of a search, at the URL the Responder gave in `Bundle.link` (FHIR R4
    /// §3.1.1.6 paging), recorded as the same transaction.
    pub async fn next_page(&self, transaction: Transaction, url: &str, xml: bool) -> Exchange {
        self.http
            .exchange(
                Meta {
                    transaction,
                    operation: "next page of the search".into(),
                    actor: CONSUMER,
                },
                Request::get(
                    self.resolve(url),
                    Some(if xml { FHIR_XML } else { FHIR_JSON }),
                ),
            )
            .await
    }
}

/// `Patient/{id}` of the first Patient of a searchset answer, if any.
pub fn first_patient(ex: &Exchange) -> Option<String> {
    ex.response
        .as_ref()
        .and_then(|r| serde_json::from_slice::<Value>(&r.body.kept).ok())
        .and_then(|b| {
            b.pointer("/entry/0/resource/id")
                .and_then(Value::as_str)
                .map(|id| format!("Patient/{id}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Auth, Timeouts};
    use crate::evidence::Direction;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client(base: &str) -> MhdClient {
        let http = HttpClient::new(Auth::None, Timeouts::default()).expect("client");
        MhdClient::new(http, base)
    }

    #[test]
    fn resolves_relative_urls() {
        let c = client("http://h/fhir/");
        assert_eq!(c.resolve("Binary/1"), "http://h/fhir/Binary/1");
        assert_eq!(c.resolve("http://x/y"), "http://x/y");
        assert_eq!(c.resolve("/other/Binary/1"), "http://h/other/Binary/1");
        assert_eq!(
            form_body(&[
                ("patient".into(), "Patient/1".into()),
                ("status".into(), "current".into())
            ]),
            "patient=Patient%2F1&status=current"
        );
    }

    #[tokio::test]
    async fn posts_search_form() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.expect("accept");
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            loop {
                let n = sock.read(&mut buf).await.expect("read");
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if n == 0 || (text.contains("\r\n\r\n") && text.ends_with("status=current")) {
                    break;
                }
            }
            let body = br#"{"resourceType":"Bundle","type":"searchset","entry":[]}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            sock.write_all(head.as_bytes()).await.expect("write");
            sock.write_all(body).await.expect("write");
            String::from_utf8_lossy(&got).into_owned()
        });
        let c = client(&format!("http://{addr}/fhir"));
        let ex = c
            .find_document_references(
                &[
                    ("patient".into(), "Patient/1".into()),
                    ("status".into(), "current".into()),
                ],
                true,
                false,
            )
            .await;
        let req = server.await.expect("server");
        assert!(
            req.starts_with("POST /fhir/DocumentReference/_search "),
            "{req}"
        );
        assert_eq!(ex.transaction, Transaction::Iti67);
        assert_eq!(ex.direction, Direction::Outbound);
        assert_eq!(ex.status(), Some(200));
        assert!(ex.repro.contains("_search"));
    }
}
