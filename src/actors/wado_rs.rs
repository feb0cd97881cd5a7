//! WADO-RS Requester: IHE RAD-107 Retrieve (DICOM PS3.18 §10.4). Retrieves instances, metadata,
//! frames, rendered images and bulk data, with the Accept header the scenario asks for.

use crate::actors::dicomweb::DicomwebClient;
use crate::checks::Target;
use crate::evidence::Exchange;
use crate::transaction::Transaction;
use crate::transport::http::{Meta, Request};

/// The Accept value asking for DICOM instances, optionally in a transfer syntax (PS3.18 §8.7.3.5.2).
pub fn accept_dicom(transfer_syntax: Option<&str>) -> String {
    match transfer_syntax {
        None => "multipart/related; type=\"application/dicom\"".to_string(),
        Some(ts) => format!("multipart/related; type=\"application/dicom\"; transfer-syntax={ts}"),
    }
}

/// What to retrieve of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The instances (Retrieve Study / Series / Instance).
    Instances,
    /// `…/metadata`.
    Metadata,
    /// `…/frames/{list}` of an instance.
    Frames(Vec<u32>),
    /// `…/rendered`.
    Rendered,
}

/// The path of a target below the service root.
pub fn target_path(t: &Target) -> String {
    let mut p = format!("studies/{}", t.study);
    if let Some(s) = &t.series {
        p.push_str(&format!("/series/{s}"));
        if let Some(i) = &t.instance {
            p.push_str(&format!("/instances/{i}"));
        }
    }
    p
}

fn level(t: &Target) -> &'static str {
    match (&t.series, &t.instance) {
        (None, _) => "Study",
        (Some(_), None) => "Series",
        (Some(_), Some(_)) => "Instance",
    }
}

/// Send one RAD-107 request.
pub async fn retrieve(
    client: &DicomwebClient,
    target: &Target,
    resource: &Resource,
    accept: Option<&str>,
) -> Exchange {
    let mut path = target_path(target);
    let operation = match resource {
        Resource::Instances => format!("Retrieve {}", level(target)),
        Resource::Metadata => {
            path.push_str("/metadata");
            format!("Retrieve {} Metadata", level(target))
        }
        Resource::Frames(list) => {
            let l: Vec<String> = list.iter().map(u32::to_string).collect();
            path.push_str(&format!("/frames/{}", l.join(",")));
            "Retrieve Frames".to_string()
        }
        Resource::Rendered => {
            path.push_str("/rendered");
            format!("Retrieve Rendered {}", level(target))
        }
    };
    get(client, &client.url(&path), operation, accept).await
}

/// Dereference a BulkDataURI taken from metadata (PS3.18 §F.2.6, §10.4.1.1.5).
pub async fn bulkdata(client: &DicomwebClient, uri: &str, accept: Option<&str>) -> Exchange {
    get(client, uri, "Retrieve Bulkdata".to_string(), accept).await
}

async fn get(
    client: &DicomwebClient,
    url: &str,
    operation: String,
    accept: Option<&str>,
) -> Exchange {
    client
        .http
        .exchange(
            Meta {
                transaction: Transaction::Rad107,
                operation,
                actor: "WADO-RS Requester (Imaging Document Consumer)",
            },
            Request::get(url, accept),
        )
        .await
}

/// Ask the origin server for its capabilities: `OPTIONS` on the service root (PS3.18 §8.9).
pub async fn capabilities(client: &DicomwebClient) -> Exchange {
    client
        .http
        .exchange(
            Meta {
                transaction: Transaction::Capabilities,
                operation: "Retrieve Capabilities".into(),
                actor: "DICOMweb user agent",
            },
            Request {
                method: reqwest::Method::OPTIONS,
                url: client.base.clone(),
                headers: vec![(
                    "Accept".into(),
                    "application/vnd.sun.wadl+xml, application/xml;q=0.5".into(),
                )],
                body: bytes::Bytes::new(),
            },
        )
        .await
}
