//! STOW-RS Sender: IHE RAD-108 Store (DICOM PS3.18 §10.5). Builds a multipart/related request of
//! DICOM PS3.10 objects (type="application/dicom") and posts it to /studies or /studies/{study}.

use bytes::Bytes;

use crate::actors::dicomweb::DicomwebClient;
use crate::evidence::Exchange;
use crate::transaction::Transaction;
use crate::transport::http::{Meta, Request};
use crate::transport::multipart::{close_delimiter, next_part_head, part_head};

/// One part to send.
#[derive(Debug, Clone)]
pub struct StowPart {
    /// The part's Content-Type.
    pub content_type: String,
    /// The part body.
    pub body: Bytes,
}

/// The boundary the sender uses: fixed, so that evidence is reproducible, and long enough not to
/// occur in DICOM data by chance.
pub const BOUNDARY: &str = "ihe-harness-stow-7d1c3a90b2e44f5a";

/// Build the request body.
pub fn body(parts: &[StowPart]) -> Bytes {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let headers = [("Content-Type", p.content_type.as_str())];
        if i == 0 {
            out.extend_from_slice(&part_head(BOUNDARY, &headers));
        } else {
            out.extend_from_slice(&next_part_head(BOUNDARY, &headers));
        }
        out.extend_from_slice(&p.body);
    }
    out.extend_from_slice(&close_delimiter(BOUNDARY));
    Bytes::from(out)
}

/// POST the parts; `study` selects /studies/{study}.
pub async fn store(client: &DicomwebClient, study: Option<&str>, parts: &[StowPart]) -> Exchange {
    let url = match study {
        Some(s) => client.url(&format!("studies/{s}")),
        None => client.url("studies"),
    };
    let req = Request {
        method: reqwest::Method::POST,
        url,
        headers: vec![
            (
                "Content-Type".into(),
                format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"),
            ),
            ("Accept".into(), "application/dicom+json".into()),
        ],
        body: body(parts),
    };
    client
        .http
        .exchange(
            Meta {
                transaction: Transaction::Rad108,
                operation: if study.is_some() {
                    "Store Instances (study)".into()
                } else {
                    "Store Instances".into()
                },
                actor: "STOW-RS Sender (Image Source)",
            },
            req,
        )
        .await
}
