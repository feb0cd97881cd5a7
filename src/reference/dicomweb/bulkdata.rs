//! WADO-RS bulk data and frame retrieval (PS3.18 10.4.1.1.4 and 10.4.1.1.5; IHE RAD-107 "Get Bulkdata").
//!
//! Both answer `multipart/related; type="application/octet-stream"` (Table 8.7.3-4 default: uncompressed
//! bulk data). Bulk data is one part with the raw value of a top-level attribute; for Pixel Data the
//! part is labelled with its transfer syntax: the uncompressed value (Explicit VR Little Endian form) by
//! default, or the encapsulated fragments of the stored file when `transfer-syntax=*` or the stored
//! UID is asked and no uncompressed form exists. Frames are one part per requested frame, uncompressed,
//! labelled `application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1`. A frame list that does not
//! parse is 400; a frame number beyond Number of Frames, or an instance without pixel data, is 404
//! (10.4.3: the target resource does not exist); a transfer syntax that cannot be provided is 406.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::transport::media_type::MediaType;

use crate::reference::dicomweb::multipart_body::{MultipartBody, Part, PartSource};
use crate::reference::dicomweb::negotiate::{self, TsRequest};
use crate::reference::dicomweb::web::{acceptable, check_uids, problem, query_pairs, Rejection};
use crate::reference::state::Shared;
use crate::reference::store::archive::{Instance, Target};
use crate::reference::store::part10::{PixelLayout, ValueLocation, EXPLICIT_VR_LE, PIXEL_DATA};

const OCTET: &str = "application/octet-stream";

/// Parse a frame list (PS3.18 10.4.1.1.5): comma-separated frame numbers starting at 1.
pub fn parse_frame_list(list: &str) -> Option<Vec<u32>> {
    let frames: Option<Vec<u32>> = list
        .split(',')
        .map(|f| f.trim().parse::<u32>().ok().filter(|n| *n >= 1))
        .collect();
    frames.filter(|v| !v.is_empty() && v.len() <= 10_000)
}

fn octet_part(ts: Option<&str>, source: PartSource) -> Part {
    let mut media = MediaType::new(OCTET);
    if let Some(ts) = ts {
        media = media.with_param("transfer-syntax", ts);
    }
    Part {
        content_type: media.to_header_value(),
        source,
    }
}

fn multipart_response(st: &Shared, parts: Vec<Part>) -> Response {
    let boundary = st.boundary();
    let ct = MediaType::new("multipart/related")
        .with_param("type", OCTET)
        .with_param("boundary", &boundary)
        .to_header_value();
    let body = MultipartBody::new(boundary, parts).into_body(st.shutdown_signal());
    let mut r = (StatusCode::OK, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// Find the instance and the acceptable transfer syntaxes, or the error response.
async fn prepare(
    st: &Shared,
    target: Target,
    q: Option<String>,
    headers: &HeaderMap,
) -> Result<(std::sync::Arc<Instance>, Vec<TsRequest>), Rejection> {
    st.stall_before_headers().await;
    let Target::Instance(s, se, i) = &target else {
        return Err(Rejection::new(StatusCode::NOT_FOUND, "not an instance"));
    };
    check_uids(&[s, se, i])?;
    let inst = st
        .resolve(&target)?
        .into_iter()
        .next()
        .ok_or_else(|| Rejection::new(StatusCode::NOT_FOUND, "no such instance"))?;
    let query = query_pairs(q.as_deref());
    let choices = negotiate::octet_multipart(acceptable(headers, &query)?.as_deref())?;
    Ok((inst, choices))
}

/// The uncompressed pixel data value, from the Explicit VR Little Endian form.
fn native_pixels(inst: &Instance) -> Option<(&std::path::Path, ValueLocation)> {
    let f = inst.explicit_le()?;
    match &f.layout.pixel {
        Some(PixelLayout::Native(loc)) => Some((f.path.as_path(), *loc)),
        _ => None,
    }
}

/// The Pixel Data part for the first acceptable transfer syntax.
fn pixel_part(inst: &Instance, choices: &[TsRequest]) -> Option<Part> {
    let stored_ts = inst.stored.transfer_syntax();
    let native = || {
        native_pixels(inst).map(|(path, loc)| {
            octet_part(
                Some(EXPLICIT_VR_LE),
                PartSource::File {
                    path: path.to_path_buf(),
                    offset: loc.offset,
                    length: loc.length,
                },
            )
        })
    };
    let encapsulated = || match &inst.stored.layout.pixel {
        Some(PixelLayout::Encapsulated(frags)) => Some(octet_part(
            Some(stored_ts),
            PartSource::Ranges {
                path: inst.stored.path.clone(),
                ranges: frags.items.clone(),
            },
        )),
        _ => None,
    };
    choices.iter().find_map(|c| match c {
        TsRequest::Default => native(),
        TsRequest::Any => native().or_else(encapsulated),
        TsRequest::Uid(u) if u == EXPLICIT_VR_LE => native(),
        TsRequest::Uid(u) if u == stored_ts => encapsulated(),
        TsRequest::Uid(_) => None,
    })
}

/// Another instance of the same series, for the faults that answer with its data.
fn sibling(st: &Shared, inst: &Instance) -> Option<std::sync::Arc<Instance>> {
    st.archive()
        .resolve(&Target::Series(
            inst.study_uid.clone(),
            inst.series_uid.clone(),
        ))
        .ok()?
        .into_iter()
        .find(|i| i.sop_uid != inst.sop_uid)
}

/// `GET .../instances/{instance}/bulkdata/{tag}`.
pub async fn bulkdata(
    State(st): State<Shared>,
    Path((study, series, instance, tag)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (inst, choices) =
        match prepare(&st, Target::Instance(study, series, instance), q, &headers).await {
            Ok(v) => v,
            Err(r) => return r.into_response(),
        };
    let tag = match (tag.len() == 8)
        .then(|| u32::from_str_radix(&tag, 16).ok())
        .flatten()
    {
        Some(t) => t,
        None => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bulk data tag must be 8 hex digits",
            )
        }
    };
    if tag == PIXEL_DATA {
        if inst.stored.layout.pixel.is_none() && native_pixels(&inst).is_none() {
            return problem(StatusCode::NOT_FOUND, "the instance has no pixel data");
        }
        let other = st
            .has(crate::reference::faults::Fault::BulkdataOtherInstance)
            .then(|| sibling(&st, &inst))
            .flatten();
        return match pixel_part(other.as_deref().unwrap_or(&inst), &choices) {
            Some(p) => multipart_response(&st, vec![p]),
            None => problem(
                StatusCode::NOT_ACCEPTABLE,
                "the pixel data cannot be sent in an acceptable transfer syntax",
            ),
        };
    }
    let located = inst
        .explicit_le()
        .and_then(|f| f.layout.binary.get(&tag).map(|l| (f, *l)))
        .or_else(|| {
            inst.stored
                .layout
                .binary
                .get(&tag)
                .map(|l| (&inst.stored, *l))
        });
    match located {
        Some((file, loc)) => multipart_response(
            &st,
            vec![octet_part(
                None,
                PartSource::File {
                    path: file.path.clone(),
                    offset: loc.offset,
                    length: loc.length,
                },
            )],
        ),
        None => problem(StatusCode::NOT_FOUND, "no bulk data with this tag"),
    }
}

/// `GET .../instances/{instance}/frames/{frames}`.
pub async fn frames(
    State(st): State<Shared>,
    Path((study, series, instance, list)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (inst, choices) =
        match prepare(&st, Target::Instance(study, series, instance), q, &headers).await {
            Ok(v) => v,
            Err(r) => return r.into_response(),
        };
    let Some(numbers) = parse_frame_list(&list) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "malformed frame list: comma-separated frame numbers starting at 1 (PS3.18 10.4.1.1.5)",
        );
    };
    let Some(pixel) = inst.pixel.as_ref() else {
        return problem(StatusCode::NOT_FOUND, "the instance has no pixel data");
    };
    if let Some(n) = numbers.iter().find(|n| **n > pixel.frames) {
        return problem(
            StatusCode::NOT_FOUND,
            format!(
                "frame {n} does not exist: the instance has {} frame(s) (PS3.18 10.4.3)",
                pixel.frames
            ),
        );
    }
    if st.has(crate::reference::faults::Fault::FramesCompressedByDefault)
        && pixel.frames == 1
        && choices.contains(&TsRequest::Default)
    {
        if let Some(PixelLayout::Encapsulated(frags)) = &inst.stored.layout.pixel {
            let part = || {
                octet_part(
                    Some(inst.stored.transfer_syntax()),
                    PartSource::Ranges {
                        path: inst.stored.path.clone(),
                        ranges: frags.items.clone(),
                    },
                )
            };
            return multipart_response(&st, numbers.iter().map(|_| part()).collect());
        }
    }
    let uncompressed_ok = choices.iter().any(|c| match c {
        TsRequest::Default | TsRequest::Any => true,
        TsRequest::Uid(u) => u == EXPLICIT_VR_LE,
    });
    let other = st
        .has(crate::reference::faults::Fault::FramesOtherInstance)
        .then(|| sibling(&st, &inst))
        .flatten()
        .filter(|o| o.pixel == inst.pixel);
    let source = other.as_deref().unwrap_or(&inst);
    let (Some((path, loc)), Some(frame_len), true) =
        (native_pixels(source), pixel.frame_len(), uncompressed_ok)
    else {
        return problem(
            StatusCode::NOT_ACCEPTABLE,
            "frames are offered uncompressed (transfer-syntax=1.2.840.10008.1.2.1) only",
        );
    };
    let mut parts = Vec::with_capacity(numbers.len());
    let repeat_first = st.has(crate::reference::faults::Fault::FramesRepeatFirst);
    for n in numbers {
        let n = if repeat_first { 1 } else { n };
        let start = u64::from(n - 1) * frame_len;
        if start + frame_len > loc.length {
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "pixel data is shorter than Number of Frames says",
            );
        }
        parts.push(octet_part(
            Some(EXPLICIT_VR_LE),
            PartSource::File {
                path: path.to_path_buf(),
                offset: loc.offset + start,
                length: frame_len,
            },
        ));
    }
    multipart_response(&st, parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::dicomweb::retrieve::tests::{fixture, get_multipart};
    use crate::reference::tests::start;
    use crate::transport::multipart::header;

    #[test]
    fn frame_lists() {
        assert_eq!(parse_frame_list("1,3,2"), Some(vec![1, 3, 2]));
        assert_eq!(parse_frame_list("0"), None);
        assert_eq!(parse_frame_list("1,,2"), None);
        assert_eq!(parse_frame_list("a"), None);
    }

    fn url_of(e: &serde_json::Value, base: &str) -> String {
        format!(
            "{base}/studies/{}/series/{}/instances/{}",
            e["study_uid"].as_str().unwrap(),
            e["series_uid"].as_str().unwrap(),
            e["sop_uid"].as_str().unwrap()
        )
    }

    #[tokio::test]
    async fn bulkdata_and_frames() {
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        let us = fixture("US-ABDOMEN")
            .into_iter()
            .find(|e| e["number_of_frames"] == 10)
            .unwrap();
        let url = url_of(&us, &base);
        let r = get_multipart(&format!("{url}/frames/1,10"), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type.param("type"), Some(OCTET));
        assert_eq!(r.parts.len(), 2);
        let frame_len = r.parts[0].1.len();
        assert!(frame_len > 0);
        for (h, d) in &r.parts {
            assert_eq!(
                header(h, "content-type"),
                Some("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1")
            );
            assert_eq!(
                header(h, "content-length").and_then(|l| l.parse().ok()),
                Some(d.len())
            );
            assert_eq!(d.len(), frame_len);
        }
        assert_eq!(
            get_multipart(&format!("{url}/frames/11"), None)
                .await
                .status,
            404
        );
        assert_eq!(
            get_multipart(&format!("{url}/frames/x"), None).await.status,
            400
        );
        let bulk = get_multipart(&format!("{url}/bulkdata/7FE00010"), None).await;
        assert_eq!(bulk.status, 200);
        assert_eq!(bulk.parts[0].1.len(), frame_len * 10);
        let stored = get_multipart(
            &format!("{url}/bulkdata/7FE00010"),
            Some("multipart/related; type=\"application/octet-stream\"; transfer-syntax=1.2.840.10008.1.2.4.50"),
        )
        .await;
        assert_eq!(stored.status, 200);
        assert!(header(&stored.parts[0].0, "content-type")
            .unwrap()
            .ends_with("1.2.840.10008.1.2.4.50"));
        assert_eq!(
            get_multipart(&format!("{url}/frames/1"), Some("image/jpeg"))
                .await
                .status,
            406
        );
        assert_eq!(
            get_multipart(&format!("{url}/bulkdata/00100010"), None)
                .await
                .status,
            404
        );
        let kos = fixture("US-ABDOMEN")
            .into_iter()
            .find(|e| e["modality"] == "KO")
            .unwrap();
        assert_eq!(
            get_multipart(&format!("{}/frames/1", url_of(&kos, &base)), None)
                .await
                .status,
            404
        );
        server.shutdown().await;
    }
}
