//! The DICOMweb user agent stand-in: a viewer or consumer that searches and retrieves from the
//! harness's origin server, or a modality or gateway that stores into it (STOW-RS), in the way
//! the scenario asked. Its faults make it send a wrong request: an Accept the resource cannot be,
//! a path that is no PS3.18 resource, search keys that are no attribute keywords, a JPEG where a
//! DICOM object belongs.

use super::StandInError;

/// The request the stand-in user agent is asked to send, below the origin server's service base.
#[derive(Debug, Clone, Default)]
pub struct UaRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The resource below the service base (`studies/1.2/series`).
    pub path: String,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The Accept header.
    pub accept: String,
    /// STOW-RS: the PS3.10 objects to store.
    pub files: Vec<Vec<u8>>,
}

/// The faults of the stand-in user agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct UaFaults {
    /// Ask with `Accept: application/xml`, which no DICOMweb resource can be.
    pub bad_accept: bool,
    /// Address the study as `study/{uid}` (singular) instead of `studies/{uid}`.
    pub bad_path: bool,
    /// Write the search keys and includefield values in lower case (`patientid`), which no
    /// attribute keyword is.
    pub bad_key: bool,
    /// Send a JPEG image as the STOW-RS part instead of the DICOM object.
    pub stow_jpeg: bool,
}

/// The boundary of the stand-in's STOW-RS bodies.
const BOUNDARY: &str = "ihe-harness-user-agent";

/// The smallest JPEG: SOI and EOI.
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xD9];

/// Send `req` to the origin server at `base` (its service base URL), the faults applied. The
/// answer is not judged: the origin server records the request and its answer.
pub async fn play_user_agent(
    base: &str,
    req: &UaRequest,
    faults: UaFaults,
) -> Result<(), StandInError> {
    crate::transport::install_crypto_provider();
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| StandInError::NotSent(e.to_string()))?;
    let mut path = req.path.clone();
    if faults.bad_path {
        path = path.replacen("studies/", "study/", 1);
    }
    let query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| {
            if faults.bad_key {
                let v = if k == "includefield" {
                    v.to_lowercase()
                } else {
                    v.clone()
                };
                (k.to_lowercase(), v)
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let mut url = format!("{}/{path}", base.trim_end_matches('/'));
    if !query.is_empty() {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query.iter())
            .finish();
        url = format!("{url}?{q}");
    }
    let accept = if faults.bad_accept {
        "application/xml".to_string()
    } else {
        req.accept.clone()
    };
    let builder = if req.method == "POST" {
        let files: Vec<&[u8]> = if faults.stow_jpeg {
            vec![JPEG]
        } else {
            req.files.iter().map(Vec::as_slice).collect()
        };
        let part_type = if faults.stow_jpeg {
            "image/jpeg"
        } else {
            "application/dicom"
        };
        let head = [("Content-Type", part_type)];
        let parts: Vec<crate::transport::multipart::PartSpec<'_>> =
            files.iter().map(|f| (&head[..], *f)).collect();
        let body = crate::transport::multipart::build_body(BOUNDARY, &parts);
        http.post(&url)
            .header(
                "Content-Type",
                format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"),
            )
            .body(body)
    } else {
        http.get(&url)
    };
    let resp = builder
        .header("Accept", accept)
        .send()
        .await
        .map_err(|e| StandInError::NotSent(format!("{url}: {e}")))?;
    // Read the answer whole, as a user agent does, so that the origin server records it.
    let _ = resp.bytes().await;
    Ok(())
}
