//! Content negotiation for the reference DICOMweb services (PS3.18 8.7).
//!
//! The Acceptable Media Types come from the `Accept` header or the `accept` query parameter (8.3.3.1,
//! 8.7.2); each may carry a `transfer-syntax` parameter, `*` meaning any (8.7.3.5.2). Weights (`q`) order
//! the choices and `q=0` excludes one (RFC 9110 12.4.2). When the request states nothing, the defaults of
//! PS3.18 Tables 8.7.3-2 to 8.7.3-5 apply: DICOM instances in Explicit VR Little Endian, metadata in
//! `application/dicom+json`, bulk data as uncompressed `application/octet-stream`. When no acceptable media
//! type can be served the answer is 406 (10.4.3); a header that does not parse is a 400.

use axum::http::StatusCode;

use crate::transport::media_type::{parse_accept, AcceptItem, MediaType};

use crate::reference::dicomweb::web::Rejection;

/// The transfer syntax one acceptable media type asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsRequest {
    /// No `transfer-syntax` parameter: the default for the media type (Explicit VR Little Endian).
    Default,
    /// `transfer-syntax=*`: any transfer syntax the server chooses.
    Any,
    /// One transfer syntax UID.
    Uid(String),
}

impl TsRequest {
    fn of(media: &MediaType) -> TsRequest {
        match media.transfer_syntax() {
            None => TsRequest::Default,
            Some(ts) if ts.trim() == "*" => TsRequest::Any,
            Some(ts) => TsRequest::Uid(ts.trim().to_string()),
        }
    }
}

fn parse(accept: Option<&str>) -> Result<Option<Vec<AcceptItem>>, Rejection> {
    match accept {
        None => Ok(None),
        Some(h) => match parse_accept(h) {
            Ok(items) => Ok(Some(items)),
            Err(e) => Err(Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("malformed Accept: {e}"),
            )),
        },
    }
}

fn not_acceptable(what: &str) -> Rejection {
    Rejection::new(
        StatusCode::NOT_ACCEPTABLE,
        format!("none of the acceptable media types can be served; this resource offers {what}"),
    )
}

/// Acceptable media types for a `multipart/related` response whose parts are `part_type`, in order of
/// preference. Plain wildcards (`*/*`, `multipart/*`) and a `multipart/related` without `type` count as
/// asking for the default.
fn multipart_choices(
    accept: Option<&str>,
    part_type: &str,
    offered: &str,
) -> Result<Vec<TsRequest>, Rejection> {
    let Some(items) = parse(accept)? else {
        return Ok(vec![TsRequest::Default]);
    };
    let wanted = MediaType::new(part_type);
    let choices: Vec<TsRequest> = items
        .iter()
        .filter(|i| i.q > 0.0)
        .filter_map(|i| match i.media.essence.as_str() {
            "*/*" | "multipart/*" => Some(TsRequest::Default),
            "multipart/related" => match i.media.related_type() {
                None if i.media.param("type").is_none() => Some(TsRequest::Default),
                None => None,
                Some(t) if t.range_matches(&wanted) => Some(TsRequest::of(&i.media)),
                Some(_) => None,
            },
            _ => None,
        })
        .collect();
    if choices.is_empty() {
        Err(not_acceptable(offered))
    } else {
        Ok(choices)
    }
}

/// Choices for WADO-RS instance retrieval: `multipart/related; type="application/dicom"` (PS3.18 10.4.1.1.1).
pub fn dicom_multipart(accept: Option<&str>) -> Result<Vec<TsRequest>, Rejection> {
    multipart_choices(
        accept,
        "application/dicom",
        "multipart/related; type=\"application/dicom\"",
    )
}

/// Choices for bulk data and frames: `multipart/related; type="application/octet-stream"` (10.4.1.1.4).
pub fn octet_multipart(accept: Option<&str>) -> Result<Vec<TsRequest>, Rejection> {
    multipart_choices(
        accept,
        "application/octet-stream",
        "multipart/related; type=\"application/octet-stream\"",
    )
}

/// Check that DICOM JSON (`application/dicom+json`, also offered as `application/json`) is acceptable,
/// for metadata (10.4.1.1.2), QIDO-RS results (10.6.3.2) and STOW-RS responses (10.5.3).
pub fn dicom_json(accept: Option<&str>) -> Result<(), Rejection> {
    let Some(items) = parse(accept)? else {
        return Ok(());
    };
    let ok = items.iter().filter(|i| i.q > 0.0).any(|i| {
        matches!(
            i.media.essence.as_str(),
            "application/dicom+json" | "application/json" | "application/*" | "*/*"
        )
    });
    if ok {
        Ok(())
    } else {
        Err(not_acceptable("application/dicom+json"))
    }
}

/// The rendered media types this server offers for single-frame images (PS3.18 Table 8.7.4-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendered {
    /// `image/jpeg`, the default.
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/gif` (Required of a RESTful origin server for single-frame images).
    Gif,
}

impl Rendered {
    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Rendered::Jpeg => "image/jpeg",
            Rendered::Png => "image/png",
            Rendered::Gif => "image/gif",
        }
    }
}

/// Choose the rendered media type (10.4.1.1.3, 8.7.8.1): each offered type takes the q-value of the
/// most specific range that matches it; the highest wins, JPEG, then PNG, then GIF on a tie. `*/*`
/// and `image/*` match the default, JPEG (8.7.7). No Accept header gives JPEG; none offered is 406.
pub fn rendered(accept: Option<&str>) -> Result<Rendered, Rejection> {
    let Some(items) = parse(accept)? else {
        return Ok(Rendered::Jpeg);
    };
    let q_of = |offered: Rendered| -> Option<f32> {
        let exact = items
            .iter()
            .filter(|i| i.media.essence == offered.media_type())
            .map(|i| i.q)
            .reduce(f32::max);
        let wild = || {
            ["image/*", "*/*"].iter().find_map(|w| {
                items
                    .iter()
                    .filter(|i| i.media.essence == *w)
                    .map(|i| i.q)
                    .reduce(f32::max)
            })
        };
        exact.or_else(wild)
    };
    let mut best: Option<(Rendered, f32)> = None;
    for offered in [Rendered::Jpeg, Rendered::Png, Rendered::Gif] {
        let q = q_of(offered).unwrap_or(0.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((offered, q));
        }
    }
    best.map(|(r, _)| r)
        .ok_or_else(|| not_acceptable("image/jpeg, image/png or image/gif"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_wildcards() {
        assert_eq!(dicom_multipart(None).unwrap(), vec![TsRequest::Default]);
        assert_eq!(
            dicom_multipart(Some("*/*")).unwrap(),
            vec![TsRequest::Default]
        );
        assert_eq!(
            dicom_multipart(Some(
                "multipart/related; type=\"application/dicom\"; transfer-syntax=*"
            ))
            .unwrap(),
            vec![TsRequest::Any]
        );
    }

    #[test]
    fn q_order_and_exclusion() {
        let c = dicom_multipart(Some(
            "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.70; q=0.5, \
             multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50, */*; q=0",
        ))
        .unwrap();
        assert_eq!(
            c,
            vec![
                TsRequest::Uid("1.2.840.10008.1.2.4.50".into()),
                TsRequest::Uid("1.2.840.10008.1.2.4.70".into())
            ]
        );
    }

    #[test]
    fn unsupported_types_are_406_and_garbage_is_400() {
        for bad in [
            "application/zip",
            "text/html",
            "application/dicom",
            "*/*; q=0",
        ] {
            assert_eq!(
                dicom_multipart(Some(bad)).unwrap_err().status,
                StatusCode::NOT_ACCEPTABLE,
                "{bad}"
            );
        }
        assert_eq!(
            dicom_multipart(Some("a/b; q=7")).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert!(dicom_json(Some("application/dicom+json")).is_ok());
        assert!(dicom_json(Some("application/dicom+xml")).is_err());
        assert!(octet_multipart(Some("multipart/related; type=\"application/dicom\"")).is_err());
        assert_eq!(rendered(Some("image/jpeg")).unwrap(), Rendered::Jpeg);
        assert_eq!(rendered(Some("image/png")).unwrap(), Rendered::Png);
        assert_eq!(rendered(Some("image/*")).unwrap(), Rendered::Jpeg);
        assert_eq!(rendered(None).unwrap(), Rendered::Jpeg);
        assert_eq!(
            rendered(Some("image/png, image/jpeg;q=0.9, image/gif;q=0.1")).unwrap(),
            Rendered::Png
        );
        assert_eq!(
            rendered(Some("image/jpeg;q=0, image/*")).unwrap(),
            Rendered::Png
        );
        assert_eq!(
            rendered(Some("image/jp2")).unwrap_err().status,
            StatusCode::NOT_ACCEPTABLE
        );
        assert_eq!(rendered(Some("image/gif")).unwrap(), Rendered::Gif);
        assert_eq!(
            rendered(Some("image/gif, image/png;q=0.5")).unwrap(),
            Rendered::Gif
        );
        assert_eq!(
            rendered(Some("image/gif;q=0.5, image/*;q=0.5")).unwrap(),
            Rendered::Jpeg
        );
    }
}
