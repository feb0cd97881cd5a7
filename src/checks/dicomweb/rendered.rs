//! WADO-RS rendered resources: media type, image signature and header (PS3.18 §8.3.5, §9.5).

use super::*;

/// Magic numbers of the rendered image formats (PNG, JPEG, GIF, JPEG 2000).
pub(super) fn image_signature_matches(essence: &str, body: &[u8]) -> bool {
    match essence {
        "image/png" => body.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => body.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => body.starts_with(b"GIF8"),
        // A JP2 file (signature box) or a bare JPEG 2000 codestream (SOC, SIZ).
        "image/jp2" => {
            body.starts_with(b"\x00\x00\x00\x0cjP  \r\n\x87\n")
                || body.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
        }
        _ => true,
    }
}

pub(super) fn dw21_rendered(s: &Subject<'_>) -> Verdict {
    if s.exchange.status() != Some(200) {
        return Verdict::na("no 200 response to judge");
    }
    let Some(Ok(media)) = response_media(s.exchange) else {
        return Verdict::fail("an image Content-Type", "none or unparsable");
    };
    let accepted: Vec<MediaType> = s
        .exchange
        .request
        .header("accept")
        .and_then(|a| crate::transport::media_type::parse_accept(a).ok())
        .map(|items| {
            items
                .into_iter()
                .filter(|i| i.q > 0.0)
                .map(|i| i.media)
                .collect()
        })
        .unwrap_or_default();
    let acceptable = if accepted.is_empty() {
        media.essence == "image/jpeg"
    } else {
        accepted.iter().any(|a| a.range_matches(&media))
    };
    if !acceptable || !media.essence.starts_with("image/") {
        return Verdict::fail(
            format!(
                "an image in {}",
                if accepted.is_empty() {
                    "image/jpeg (the default)".to_string()
                } else {
                    accepted
                        .iter()
                        .map(|m| m.essence.clone())
                        .collect::<Vec<_>>()
                        .join(" or ")
                }
            ),
            media.essence,
        );
    }
    let Some(resp) = &s.exchange.response else {
        return Verdict::na("no response");
    };
    let body = &resp.body.kept;
    if !image_signature_matches(&media.essence, body) {
        return Verdict::fail(
            format!("a body in the {} format", media.essence),
            format!(
                "{} bytes starting {}",
                resp.body.size,
                hex::encode(&body[..body.len().min(8)])
            ),
        );
    }
    let header = image_header(&media.essence, body);
    if let Some(h) = &header {
        if media.essence == "image/jpeg" {
            if let Some(why) = jpeg_process_breach(h, s.strict) {
                return Verdict::fail(
                    if s.strict {
                        "a baseline JPEG (SOF0: lossy, 8-bit, Huffman, sequential, non-hierarchical; PS3.18 §8.7.4)"
                    } else {
                        "a JPEG of the lossy 8-bit Huffman non-hierarchical process (PS3.18 §8.7.4: SOF0 baseline; SOF1 or SOF2 pass unless strict)"
                    },
                    why,
                );
            }
        }
        if let Some((cols, rows)) = s.expect.rendered_size {
            if (h.width, h.height) != (cols, rows) {
                return Verdict::fail(
                    format!(
                        "the source's pixel matrix, {cols}×{rows} (no viewport asked; PS3.18 §8.3.5.1.3)"
                    ),
                    format!("{}×{}", h.width, h.height),
                );
            }
        }
    } else if resp.body.complete && matches!(media.essence.as_str(), "image/jpeg" | "image/png") {
        return Verdict::fail(
            format!("a readable {} header", media.essence),
            "no image dimensions found in the body",
        );
    }
    Verdict::Pass
}

/// What the header of a rendered image says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ImageHeader {
    width: u32,
    height: u32,
    bits_per_channel: u32,
    /// JPEG: the start of frame marker (0xC0 for baseline).
    sof: Option<u8>,
    /// JPEG: a DHP marker (hierarchical process) came before the first frame header.
    hierarchical: bool,
}

/// Why a rendered JPEG is not of the process PS3.18 §8.7.4 names, or `None` when it is.
///
/// §8.7.4 (2019 to 2025 editions alike): "When an image/jpeg Media Type is returned, the image
/// shall be encoded using the JPEG baseline lossy 8-bit Huffman encoded non-hierarchical
/// non-sequential process defined in [ISO/IEC 10918-1]". Every word but one points at the
/// baseline process (SOF0); "non-sequential" contradicts "baseline", which ISO/IEC 10918-1
/// defines as sequential, and would rather describe progressive (SOF2). What every reading
/// shares is judged always: lossy DCT, 8-bit sample precision, Huffman coding, no hierarchy;
/// so lossless (SOF3, SOF7, SOF11, SOF15), arithmetic coding (SOF9 to SOF15), hierarchical
/// (DHP, differential SOF5 to SOF7) and 12-bit precision fail. Extended sequential (SOF1) and
/// progressive (SOF2) 8-bit Huffman JPEGs fail only in strict mode, which reads "baseline".
/// The 2019 text's "Rendered images shall contain no more than 8 bits per channel" is gone
/// from the current edition (which adds image/jph and image/jxl), so other formats are not
/// held to 8 bits.
pub(super) fn jpeg_process_breach(h: &ImageHeader, strict: bool) -> Option<String> {
    let Some(sof) = h.sof else {
        return Some("no start of frame marker".to_string());
    };
    let process = match sof {
        0xC0 => "baseline",
        0xC1 => "extended sequential",
        0xC2 => "progressive",
        0xC3 => "lossless",
        0xC5..=0xC7 => "differential (hierarchical)",
        0xC9..=0xCB | 0xCD..=0xCF => "arithmetic-coded",
        _ => "unknown",
    };
    let allowed = if strict {
        sof == 0xC0
    } else {
        matches!(sof, 0xC0..=0xC2)
    };
    if !allowed || h.hierarchical || h.bits_per_channel != 8 {
        return Some(format!(
            "start of frame marker FF{sof:02X} ({process}{}), {} bits per sample",
            if h.hierarchical { ", hierarchical" } else { "" },
            h.bits_per_channel
        ));
    }
    None
}

pub(super) fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// Width, height and sample depth from a PNG, GIF or JPEG header (None when the kept bytes do
/// not reach it). Markers are walked by their lengths, never past the bytes.
pub(super) fn image_header(essence: &str, b: &[u8]) -> Option<ImageHeader> {
    match essence {
        "image/png" => {
            if b.get(12..16)? != b"IHDR" {
                return None;
            }
            let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
            let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
            Some(ImageHeader {
                width: w,
                height: h,
                bits_per_channel: u32::from(*b.get(24)?),
                sof: None,
                hierarchical: false,
            })
        }
        "image/gif" => Some(ImageHeader {
            width: u32::from(u16::from_le_bytes([*b.get(6)?, *b.get(7)?])),
            height: u32::from(u16::from_le_bytes([*b.get(8)?, *b.get(9)?])),
            bits_per_channel: 8,
            sof: None,
            hierarchical: false,
        }),
        "image/jpeg" => {
            let mut i = 2usize;
            let mut hierarchical = false;
            while i + 1 < b.len() {
                if b[i] != 0xFF {
                    return None;
                }
                let marker = b[i + 1];
                if marker == 0xFF {
                    i += 1; // fill byte
                    continue;
                }
                if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
                    i += 2;
                    continue;
                }
                let len = be16(b, i + 2)? as usize;
                let is_sof =
                    (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
                if marker == 0xDE {
                    hierarchical = true;
                }
                if is_sof {
                    return Some(ImageHeader {
                        bits_per_channel: u32::from(*b.get(i + 4)?),
                        height: be16(b, i + 5)?,
                        width: be16(b, i + 7)?,
                        sof: Some(marker),
                        hierarchical,
                    });
                }
                if marker == 0xDA || len < 2 {
                    // Scan data before any frame header: not a valid JPEG.
                    return Some(ImageHeader {
                        width: 0,
                        height: 0,
                        bits_per_channel: 0,
                        sof: None,
                        hierarchical,
                    });
                }
                i += 2 + len;
            }
            None
        }
        _ => None,
    }
}
