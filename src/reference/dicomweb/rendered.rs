//! WADO-RS rendered resources (PS3.18 10.4.1.1.3; IHE RAD-107 "Get Rendered Instances") for one
//! instance or one frame, as `image/jpeg`, `image/png` or `image/gif`.
//!
//! Implemented: uncompressed (or with an uncompressed copy) MONOCHROME1/MONOCHROME2 images with 8 or 16
//! bits allocated, unsigned or signed, windowed from the frame's minimum to maximum (MONOCHROME1
//! inverted), and 8-bit RGB (either planar configuration), at the source's rows and columns (no
//! viewport: PS3.18 8.3.5.1.3). JPEG is baseline (SOF0, 8-bit Huffman, sequential), as 8.7.4 requires
//! of `image/jpeg`, and is the default of Table 8.7.4-1: `*/*`, `image/*` and a request without an
//! Accept header get JPEG. PNG and GIF, which Table 8.7.4-1 requires of a RESTful origin server for
//! single-frame images besides JPEG, are rendered too (GIF: 256 greys, or the 3-3-2 palette for
//! colour; [`crate::reference::dicomweb::gif`]). Not implemented: JPEG 2000 (optional), video, the rendering query
//! parameters of 8.3.5 (window, viewport, quality, annotation: they are ignored), Presentation
//! States, and rendered studies or series (not routed, so 404). Anything that cannot be rendered,
//! or an Accept with none of JPEG, PNG and GIF, is answered 406 (8.7.8.1).

use crate::reference::faults::Fault;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::reference::dicomweb::bulkdata::parse_frame_list;
use crate::reference::dicomweb::gif;
use crate::reference::dicomweb::negotiate;
use crate::reference::dicomweb::png::{self, ColorType};
use crate::reference::dicomweb::web::{acceptable, check_uids, problem, query_pairs};
use crate::reference::state::Shared;
use crate::reference::store::archive::{ImagePixel, Target};
use crate::reference::store::part10::PixelLayout;

/// `GET .../instances/{instance}/rendered` (the first frame).
pub async fn instance(
    State(st): State<Shared>,
    Path((study, series, instance)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    render(
        st,
        Target::Instance(study, series, instance),
        "1".into(),
        q,
        headers,
    )
    .await
}

/// `GET .../instances/{instance}/frames/{frame}/rendered` (one frame).
pub async fn frame(
    State(st): State<Shared>,
    Path((study, series, instance, frames)): Path<(String, String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    render(
        st,
        Target::Instance(study, series, instance),
        frames,
        q,
        headers,
    )
    .await
}

/// Convert one uncompressed frame to 8-bit samples: grey (one per pixel) or interleaved RGB.
pub fn to_samples(p: &ImagePixel, frame: &[u8]) -> Option<(ColorType, Vec<u8>)> {
    let mono = matches!(p.photometric.as_str(), "MONOCHROME1" | "MONOCHROME2");
    match (mono, p.samples, p.bits_allocated) {
        (true, 1, 8 | 16) => {
            let values: Vec<i32> = if p.bits_allocated == 8 {
                frame.iter().map(|&b| i32::from(b)).collect()
            } else {
                frame
                    .chunks_exact(2)
                    .map(|c| {
                        let raw = u16::from_le_bytes([c[0], c[1]]);
                        if p.signed {
                            i32::from(raw as i16)
                        } else {
                            i32::from(raw)
                        }
                    })
                    .collect()
            };
            let min = values.iter().copied().min()?;
            let max = values.iter().copied().max()?;
            let span = i64::from((max - min).max(1));
            let invert = p.photometric == "MONOCHROME1";
            let gray: Vec<u8> = values
                .iter()
                .map(|&v| {
                    let g = (i64::from(v - min) * 255 / span) as u8;
                    if invert {
                        255 - g
                    } else {
                        g
                    }
                })
                .collect();
            Some((ColorType::Gray8, gray))
        }
        (false, 3, 8) if p.photometric == "RGB" => {
            let rgb: Vec<u8> = if p.planar == 1 {
                let plane = frame.len() / 3;
                let (r, rest) = frame.split_at(plane);
                let (g, b) = rest.split_at(plane);
                r.iter()
                    .zip(g)
                    .zip(b)
                    .flat_map(|((r, g), b)| [*r, *g, *b])
                    .collect()
            } else {
                frame.to_vec()
            };
            Some((ColorType::Rgb8, rgb))
        }
        _ => None,
    }
}

/// Convert one uncompressed frame to a PNG image.
pub fn to_png(p: &ImagePixel, frame: &[u8]) -> Option<Vec<u8>> {
    let (color, samples) = to_samples(p, frame)?;
    png::encode(p.columns, p.rows, color, &samples)
}

/// Encode 8-bit samples as a baseline JPEG (or, for the rendered-progressive-jpeg fault, a
/// progressive one). `None` when a dimension does not fit JPEG's 16 bits.
pub fn to_jpeg(
    columns: u32,
    rows: u32,
    color: ColorType,
    samples: &[u8],
    progressive: bool,
) -> Option<Vec<u8>> {
    let (w, h) = (u16::try_from(columns).ok()?, u16::try_from(rows).ok()?);
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_progressive(progressive);
    let kind = match color {
        ColorType::Gray8 => jpeg_encoder::ColorType::Luma,
        ColorType::Rgb8 => jpeg_encoder::ColorType::Rgb,
    };
    encoder.encode(samples, w, h, kind).ok()?;
    Some(out)
}

/// Every other row and column of 8-bit samples (the rendered-wrong-size fault).
fn halve(columns: u32, rows: u32, color: ColorType, samples: &[u8]) -> (u32, u32, Vec<u8>) {
    let ch = match color {
        ColorType::Gray8 => 1,
        ColorType::Rgb8 => 3,
    };
    let (c, r) = (columns as usize, rows as usize);
    let mut out = Vec::with_capacity(samples.len() / 4 + ch);
    for y in (0..r).step_by(2) {
        for x in (0..c).step_by(2) {
            let at = (y * c + x) * ch;
            out.extend_from_slice(samples.get(at..at + ch).unwrap_or(&[0, 0, 0][..ch]));
        }
    }
    (columns.div_ceil(2), rows.div_ceil(2), out)
}

/// Render one frame in the chosen media type, applying the rendering faults.
fn render_frame(
    p: &ImagePixel,
    frame: &[u8],
    kind: negotiate::Rendered,
    half: bool,
    progressive: bool,
) -> Option<Vec<u8>> {
    let (color, samples) = to_samples(p, frame)?;
    let (columns, rows, samples) = if half {
        halve(p.columns, p.rows, color, &samples)
    } else {
        (p.columns, p.rows, samples)
    };
    match kind {
        negotiate::Rendered::Jpeg => to_jpeg(columns, rows, color, &samples, progressive),
        negotiate::Rendered::Png => png::encode(columns, rows, color, &samples),
        negotiate::Rendered::Gif => gif::encode(columns, rows, color, &samples),
    }
}

fn read_range(path: &std::path::Path, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    f.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

async fn render(
    st: Shared,
    target: Target,
    frames: String,
    q: Option<String>,
    headers: HeaderMap,
) -> Response {
    st.stall_before_headers().await;
    let Target::Instance(s, se, i) = &target else {
        return problem(StatusCode::NOT_FOUND, "not an instance");
    };
    if let Err(r) = check_uids(&[s, se, i]) {
        return r.into_response();
    }
    let inst = match st.resolve(&target).map(|v| v.into_iter().next()) {
        Ok(Some(i)) => i,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "no such instance"),
        Err(r) => return r.into_response(),
    };
    let query = query_pairs(q.as_deref());
    let kind = match acceptable(&headers, &query).and_then(|a| negotiate::rendered(a.as_deref())) {
        Ok(negotiate::Rendered::Gif) if st.has(Fault::RenderedNoGif) => {
            return problem(
                StatusCode::NOT_ACCEPTABLE,
                "none of the acceptable media types can be served; this resource offers image/jpeg or image/png",
            )
        }
        Ok(k) => k,
        Err(r)
            if r.status == StatusCode::NOT_ACCEPTABLE && st.has(Fault::RenderedIgnoresAccept) =>
        {
            negotiate::Rendered::Jpeg
        }
        Err(r) => return r.into_response(),
    };
    let frame = match parse_frame_list(&frames).as_deref() {
        Some([n]) => *n,
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "a rendered frame is addressed by one frame number starting at 1",
            )
        }
    };
    let not_renderable = || {
        problem(
            StatusCode::NOT_ACCEPTABLE,
            "this instance cannot be rendered as image/jpeg, image/png or image/gif (see the server documentation)",
        )
    };
    let (Some(pixel), Some(file)) = (inst.pixel.clone(), inst.explicit_le()) else {
        return not_renderable();
    };
    if frame > pixel.frames {
        return problem(
            StatusCode::NOT_FOUND,
            format!("frame {frame} does not exist"),
        );
    }
    let (Some(PixelLayout::Native(loc)), Some(frame_len)) = (&file.layout.pixel, pixel.frame_len())
    else {
        return not_renderable();
    };
    let offset = loc.offset + u64::from(frame - 1) * frame_len;
    if offset + frame_len > loc.offset + loc.length {
        return not_renderable();
    }
    if st.has(Fault::RenderedNotAnImage) {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static("image/png"))],
            "this is not an image",
        )
            .into_response();
    }
    let path = file.path.clone();
    let half = st.has(Fault::RenderedWrongSize);
    let progressive = st.has(Fault::RenderedProgressiveJpeg);
    let image = tokio::task::spawn_blocking(move || {
        read_range(&path, offset, frame_len)
            .ok()
            .and_then(|bytes| render_frame(&pixel, &bytes, kind, half, progressive))
    })
    .await
    .ok()
    .flatten();
    let image = match image {
        Some(mut jpeg)
            if st.has(Fault::RenderedTwelveBitJpeg) && kind == negotiate::Rendered::Jpeg =>
        {
            twelve_bit_frame_header(&mut jpeg);
            Some(jpeg)
        }
        other => other,
    };
    match image {
        Some(image) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.media_type()),
            )],
            image,
        )
            .into_response(),
        None => not_renderable(),
    }
}

/// The rendered-12-bit-jpeg fault: the baseline frame header (SOF0, precision 8) becomes an
/// extended sequential 12-bit one (SOF1, precision 12); the scan is left as it was.
fn twelve_bit_frame_header(jpeg: &mut [u8]) {
    if let Some(at) = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]) {
        jpeg[at + 1] = 0xC1;
        if let Some(p) = jpeg.get_mut(at + 4) {
            *p = 12;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::reference::dicomweb::retrieve::tests::fixture;
    use crate::reference::tests::{client, start};

    /// GET `url`, with an Accept header when given.
    async fn get(url: String, accept: Option<&str>) -> reqwest::Response {
        let mut req = client().get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        req.send().await.unwrap()
    }

    #[tokio::test]
    async fn renders_png_or_answers_406() {
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        let url = |e: &serde_json::Value| {
            format!(
                "{base}/studies/{}/series/{}/instances/{}",
                e["study_uid"].as_str().unwrap(),
                e["series_uid"].as_str().unwrap(),
                e["sop_uid"].as_str().unwrap()
            )
        };
        let ct = fixture("CT-CHEST")[0].clone();
        let r = get(format!("{}/rendered", url(&ct)), Some("image/png")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        let png_body = r.bytes().await.unwrap();
        assert!(png_body.starts_with(b"\x89PNG"));
        let r = get(format!("{}/rendered", url(&ct)), Some("image/gif")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/gif");
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(b"GIF89a"));
        // The source's size, as the PNG's header gives it.
        let le16 = |at: usize| u32::from(u16::from_le_bytes([body[at], body[at + 1]]));
        let be32 = |at: usize| u32::from_be_bytes(png_body[at..at + 4].try_into().unwrap());
        assert_eq!((le16(6), le16(8)), (be32(16), be32(20)));
        let r = get(format!("{}/frames/1/rendered", url(&ct)), None).await;
        assert_eq!(r.status(), 200);
        let r = get(format!("{}/rendered", url(&ct)), Some("image/jpeg")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let body = r.bytes().await.unwrap();
        // Baseline: the first start of frame marker is SOF0.
        assert!(body.starts_with(&[0xFF, 0xD8]));
        assert!(body.windows(2).any(|w| w == [0xFF, 0xC0]));
        assert!(!body.windows(2).any(|w| w == [0xFF, 0xC2]));
        let r = get(format!("{}/rendered", url(&ct)), Some("image/jp2")).await;
        assert_eq!(r.status(), 406);
        let kos = fixture("CT-CHEST")
            .into_iter()
            .find(|e| e["modality"] == "KO")
            .unwrap();
        let r = get(format!("{}/rendered", url(&kos)), None).await;
        assert_eq!(r.status(), 406);
        let us = fixture("US-ABDOMEN")
            .into_iter()
            .find(|e| e["number_of_frames"] == 10)
            .unwrap();
        let r = get(format!("{}/frames/10/rendered", url(&us)), None).await;
        assert!(r.status() == 200 || r.status() == 406);
        let r = get(format!("{}/frames/11/rendered", url(&us)), None).await;
        assert_eq!(r.status(), 404);
        server.shutdown().await;
    }
}
