//! Sniffing the identity of a DICOM Part-10 object from a bounded prefix.
//!
//! A DICOM file (PS3.10 §7.1) starts with a 128-byte preamble, the magic
//! `DICM`, and the File Meta Information group (0002,eeee), which is always
//! encoded in Explicit VR Little Endian and names the transfer syntax of the
//! rest of the file in (0002,0010). The harness receives objects from systems
//! under test (STOW-RS requests, WADO-RS multipart parts, PS3.18 §8.7.3.5) and
//! wants to know which study/series/instance a part carries without buffering
//! the whole object, so [`sniff`] looks only at a prefix (typically the first
//! 64 KiB, see [`SNIFF_PREFIX_LEN`]): it parses the meta group, then walks the
//! top-level data set elements in the named transfer syntax (Implicit VR LE,
//! Explicit VR LE including all encapsulated syntaxes, Explicit VR BE), skipping
//! sequences of defined and undefined length, until Pixel Data (7FE0,0010) or
//! the end of the prefix. Deflated data sets are not inflated: only the meta
//! information is returned. The walker is a small hand-written reader with
//! checked arithmetic and a nesting limit: it never panics on garbage, and a
//! prefix truncated after a complete meta group is not an error.

use std::sync::Arc;

/// Suggested prefix length to pass to [`sniff`].
pub const SNIFF_PREFIX_LEN: usize = 64 * 1024;
/// Implicit VR Little Endian.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Explicit VR Big Endian (retired).
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
/// Deflated Explicit VR Little Endian.
pub const DEFLATED_EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1.99";
/// Transfer syntaxes whose data set is deflated (not walked by [`sniff`]).
pub const DEFLATED_SYNTAXES: &[&str] = &[
    DEFLATED_EXPLICIT_VR_LE,
    "1.2.840.10008.1.2.4.95",  // JPIP Referenced Deflate
    "1.2.840.10008.1.2.4.205", // JPIP HTJ2K Referenced Deflate
];

/// Longest string value kept from an element; longer values are cut.
const MAX_VALUE_LEN: usize = 4096;
/// Maximum sequence nesting depth followed when skipping sequences.
const MAX_DEPTH: usize = 64;
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Identity of a DICOM object found in its first bytes. Every field is
/// `None` when the element was not present within the prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DicomHead {
    /// (0002,0010) Transfer Syntax UID.
    pub transfer_syntax: Option<Arc<str>>,
    /// (0002,0002) Media Storage SOP Class UID.
    pub media_storage_sop_class: Option<Arc<str>>,
    /// (0002,0003) Media Storage SOP Instance UID.
    pub media_storage_sop_instance: Option<Arc<str>>,
    /// (0008,0016) SOP Class UID.
    pub sop_class: Option<Arc<str>>,
    /// (0008,0018) SOP Instance UID.
    pub sop_instance: Option<Arc<str>>,
    /// (0020,000D) Study Instance UID.
    pub study_instance_uid: Option<Arc<str>>,
    /// (0020,000E) Series Instance UID.
    pub series_instance_uid: Option<Arc<str>>,
    /// (0010,0020) Patient ID.
    pub patient_id: Option<Arc<str>>,
    /// (0028,0008) Number of Frames (IS), if it parses as an unsigned integer.
    pub number_of_frames: Option<u32>,
}

/// Why a prefix could not be sniffed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    /// Fewer than 132 bytes, or no `DICM` magic at offset 128.
    #[error("not a DICOM Part-10 object (no DICM at offset 128)")]
    NotDicom,
    /// The prefix ends before the File Meta Information group is complete.
    #[error("the File Meta Information group is truncated")]
    TruncatedMeta,
    /// The File Meta Information group is malformed.
    #[error("malformed File Meta Information: {0}")]
    BadMeta(String),
}

/// Byte order and VR explicitness of a data set encoding.
#[derive(Debug, Clone, Copy)]
struct Enc {
    explicit: bool,
    big_endian: bool,
}

const META_ENC: Enc = Enc {
    explicit: true,
    big_endian: false,
};

/// Header of one data element (or item / delimiter).
#[derive(Debug, Clone, Copy)]
struct Header {
    group: u16,
    element: u16,
    vr: Option<[u8; 2]>,
    len: u32,
    value_pos: usize,
}

impl Header {
    fn tag(&self) -> u32 {
        (u32::from(self.group) << 16) | u32::from(self.element)
    }
}

enum ReadErr {
    Truncated,
    Garbage(&'static str),
}

fn u16_at(d: &[u8], pos: usize, be: bool) -> Option<u16> {
    let b: [u8; 2] = d.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

fn u32_at(d: &[u8], pos: usize, be: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

/// VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 §7.1.2).
pub fn is_long_vr(vr: &[u8; 2]) -> bool {
    matches!(
        vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

fn is_short_vr(vr: &[u8; 2]) -> bool {
    matches!(
        vr,
        b"AE"
            | b"AS"
            | b"AT"
            | b"CS"
            | b"DA"
            | b"DS"
            | b"DT"
            | b"FL"
            | b"FD"
            | b"IS"
            | b"LO"
            | b"LT"
            | b"PN"
            | b"SH"
            | b"SL"
            | b"SS"
            | b"ST"
            | b"TM"
            | b"UI"
            | b"UL"
            | b"US"
    )
}

/// Read the element header at `pos`.
fn read_header(d: &[u8], pos: usize, enc: Enc) -> Result<Header, ReadErr> {
    let be = enc.big_endian;
    let t = ReadErr::Truncated;
    let group = u16_at(d, pos, be).ok_or(ReadErr::Truncated)?;
    let element = u16_at(d, pos.saturating_add(2), be).ok_or(ReadErr::Truncated)?;
    if group == 0xFFFE || !enc.explicit {
        // Items and delimiters never carry a VR; implicit VR: tag + 4-byte length.
        let len = u32_at(d, pos.saturating_add(4), be).ok_or(t)?;
        return Ok(Header {
            group,
            element,
            vr: None,
            len,
            value_pos: pos.saturating_add(8),
        });
    }
    let vr: [u8; 2] = d
        .get(pos.saturating_add(4)..pos.saturating_add(6))
        .and_then(|s| s.try_into().ok())
        .ok_or(ReadErr::Truncated)?;
    if is_long_vr(&vr) {
        let len = u32_at(d, pos.saturating_add(8), be).ok_or(t)?;
        Ok(Header {
            group,
            element,
            vr: Some(vr),
            len,
            value_pos: pos.saturating_add(12),
        })
    } else if is_short_vr(&vr) {
        let len = u16_at(d, pos.saturating_add(6), be).ok_or(t)?;
        Ok(Header {
            group,
            element,
            vr: Some(vr),
            len: u32::from(len),
            value_pos: pos.saturating_add(8),
        })
    } else {
        Err(ReadErr::Garbage("unknown VR"))
    }
}

/// The complete value of `h`, if it lies within `d`, cut to [`MAX_VALUE_LEN`].
fn value_of<'a>(d: &'a [u8], h: &Header) -> Option<&'a [u8]> {
    let end = h.value_pos.checked_add(usize::try_from(h.len).ok()?)?;
    let v = d.get(h.value_pos..end)?;
    Some(v.get(..MAX_VALUE_LEN).unwrap_or(v))
}

/// Decode a string value, removing trailing NUL and space padding.
fn text(v: &[u8]) -> Arc<str> {
    Arc::from(String::from_utf8_lossy(v).trim_end_matches(['\0', ' ']))
}

/// Position just after the value of an element with a defined length.
fn skip_defined(d: &[u8], h: &Header) -> Option<usize> {
    let end = h.value_pos.checked_add(usize::try_from(h.len).ok()?)?;
    (end <= d.len()).then_some(end)
}

/// Encoding of the content of an undefined-length element: UN with undefined
/// length is encoded in Implicit VR Little Endian (PS3.5 §6.2.2).
fn inner_enc(h: &Header, enc: Enc) -> Enc {
    if h.vr == Some(*b"UN") {
        Enc {
            explicit: false,
            big_endian: false,
        }
    } else {
        enc
    }
}

/// Skip the items of an undefined-length sequence (or fragment sequence)
/// starting at `pos`; returns the position after the Sequence Delimitation Item.
fn skip_sequence(d: &[u8], mut pos: usize, enc: Enc, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    loop {
        let h = read_header(
            d,
            pos,
            Enc {
                explicit: false,
                ..enc
            },
        )
        .ok()?;
        match (h.group, h.element) {
            (0xFFFE, 0xE0DD) => return Some(h.value_pos),
            (0xFFFE, 0xE000) if h.len == UNDEFINED => {
                pos = skip_item(d, h.value_pos, enc, depth)?;
            }
            (0xFFFE, 0xE000) => pos = skip_defined(d, &h)?,
            _ => return None,
        }
    }
}

/// Skip the elements of an undefined-length item starting at `pos`; returns
/// the position after the Item Delimitation Item.
fn skip_item(d: &[u8], mut pos: usize, enc: Enc, depth: usize) -> Option<usize> {
    loop {
        let h = read_header(d, pos, enc).ok()?;
        match (h.group, h.element) {
            (0xFFFE, 0xE00D) => return Some(h.value_pos),
            (0xFFFE, _) => return None,
            _ if h.len == UNDEFINED => {
                pos = skip_sequence(d, h.value_pos, inner_enc(&h, enc), depth + 1)?;
            }
            _ => pos = skip_defined(d, &h)?,
        }
    }
}

/// Parse the File Meta Information group; returns the head and the data set
/// offset (`None` when the prefix ends inside a meta group without group length).
fn parse_meta(d: &[u8]) -> Result<(DicomHead, Option<usize>), SniffError> {
    if d.get(128..132) != Some(b"DICM".as_slice()) {
        return Err(SniffError::NotDicom);
    }
    let mut head = DicomHead::default();
    let mut pos = 132usize;
    let mut meta_end: Option<usize> = None;
    let mut truncated = false;
    loop {
        let Some(group) = u16_at(d, pos, false) else {
            // Nothing (or one byte) after the meta elements: the prefix may
            // have cut the group.
            truncated = true;
            break;
        };
        if group != 0x0002 {
            break;
        }
        let h = match read_header(d, pos, META_ENC) {
            Ok(h) => h,
            Err(ReadErr::Truncated) => {
                truncated = true;
                break;
            }
            Err(ReadErr::Garbage(why)) => {
                return Err(SniffError::BadMeta(format!("{why} at offset {pos}")))
            }
        };
        if h.len == UNDEFINED {
            return Err(SniffError::BadMeta(format!(
                "undefined length in meta element (0002,{:04X})",
                h.element
            )));
        }
        let (Some(v), Some(next)) = (value_of(d, &h), skip_defined(d, &h)) else {
            truncated = true;
            break;
        };
        match h.element {
            0x0000 if pos == 132 && h.len == 4 => {
                let gl = u32_at(v, 0, false).unwrap_or(0);
                meta_end = usize::try_from(gl)
                    .ok()
                    .and_then(|gl| h.value_pos.checked_add(gl));
                if meta_end.is_none() {
                    return Err(SniffError::BadMeta("group length overflow".into()));
                }
            }
            0x0002 => head.media_storage_sop_class = Some(text(v)),
            0x0003 => head.media_storage_sop_instance = Some(text(v)),
            0x0010 => head.transfer_syntax = Some(text(v)),
            _ => {}
        }
        pos = next;
    }
    match meta_end {
        // The group length says the prefix cuts the group.
        Some(end) if end > d.len() => return Err(SniffError::TruncatedMeta),
        // Complete per group length, but an element straddles the prefix end:
        // the group length is inconsistent with the elements.
        Some(_) if truncated && pos < d.len() => return Err(SniffError::TruncatedMeta),
        None if truncated && head.transfer_syntax.is_none() => {
            return Err(SniffError::TruncatedMeta)
        }
        _ => {}
    }
    if head.transfer_syntax.is_none() {
        return Err(SniffError::BadMeta(
            "missing (0002,0010) Transfer Syntax UID".into(),
        ));
    }
    let dataset = if truncated && meta_end.is_none() {
        None
    } else {
        Some(pos)
    };
    Ok((head, dataset))
}

/// Walk the top-level data set from `pos`, filling `head`.
fn walk_dataset(d: &[u8], mut pos: usize, enc: Enc, head: &mut DicomHead) {
    loop {
        let Ok(h) = read_header(d, pos, enc) else {
            return;
        };
        if h.group == 0xFFFE || h.tag() == 0x7FE0_0010 {
            return;
        }
        if h.len == UNDEFINED {
            match skip_sequence(d, h.value_pos, inner_enc(&h, enc), 1) {
                Some(p) => pos = p,
                None => return,
            }
            continue;
        }
        if let Some(v) = value_of(d, &h) {
            match h.tag() {
                0x0008_0016 => head.sop_class = Some(text(v)),
                0x0008_0018 => head.sop_instance = Some(text(v)),
                0x0020_000D => head.study_instance_uid = Some(text(v)),
                0x0020_000E => head.series_instance_uid = Some(text(v)),
                0x0010_0020 => head.patient_id = Some(text(v)),
                0x0028_0008 => {
                    let s = String::from_utf8_lossy(v);
                    let first = s.split('\\').next().unwrap_or("");
                    head.number_of_frames = first.trim_matches(['\0', ' ']).parse().ok();
                }
                _ => {}
            }
        }
        match skip_defined(d, &h) {
            Some(p) => pos = p,
            None => return,
        }
    }
}

/// Sniff a DICOM Part-10 object from a prefix of it (or the whole object).
///
/// Returns [`SniffError::NotDicom`] if there is no `DICM` at offset 128,
/// [`SniffError::TruncatedMeta`] if the prefix ends inside the File Meta
/// Information group, [`SniffError::BadMeta`] if that group is malformed or
/// lacks the Transfer Syntax UID. Otherwise returns the meta information and
/// whatever top-level attributes were found before Pixel Data, the end of the
/// prefix, or unparseable bytes. For deflated transfer syntaxes only the meta
/// information is returned. Unknown transfer syntaxes are read as Explicit VR
/// Little Endian (as all standard compressed syntaxes are).
pub fn sniff(prefix: &[u8]) -> Result<DicomHead, SniffError> {
    let (mut head, pos) = parse_meta(prefix)?;
    let Some(pos) = pos else {
        return Ok(head);
    };
    let ts = head
        .transfer_syntax
        .as_deref()
        .unwrap_or_default()
        .to_string();
    if DEFLATED_SYNTAXES.contains(&ts.as_str()) {
        return Ok(head);
    }
    let enc = match ts.as_str() {
        IMPLICIT_VR_LE => Enc {
            explicit: false,
            big_endian: false,
        },
        EXPLICIT_VR_BE => Enc {
            explicit: true,
            big_endian: true,
        },
        _ => Enc {
            explicit: true,
            big_endian: false,
        },
    };
    walk_dataset(prefix, pos, enc, &mut head);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::value::{DataSetSequence, PixelFragmentSequence};
    use dicom_core::{DataElement, Length, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    use dicom_object::meta::FileMetaTableBuilder;
    use dicom_object::InMemDicomObject;

    const SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.7";
    const SOP_INST: &str = "1.2.3.4.5.6.7";
    const STUDY: &str = "1.2.3.4.5";
    const SERIES: &str = "1.2.3.4.5.6";

    fn nested_item() -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            DataElement::new(tags::CODE_VALUE, VR::SH, "121"),
            DataElement::new(
                tags::CONCEPT_NAME_CODE_SEQUENCE,
                VR::SQ,
                DataSetSequence::new(
                    vec![InMemDicomObject::from_element_iter([DataElement::new(
                        tags::CODE_MEANING,
                        VR::LO,
                        // looks like a SOP Instance UID element if mis-parsed
                        "\u{8}\0\u{18}\0UI\u{4}\0evil",
                    )])],
                    Length::UNDEFINED,
                ),
            ),
        ])
    }

    fn make_object(with_pixels: Option<&str>) -> InMemDicomObject {
        let mut obj = InMemDicomObject::from_element_iter([
            DataElement::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
            DataElement::new(
                tags::LANGUAGE_CODE_SEQUENCE,
                VR::SQ,
                DataSetSequence::new(vec![nested_item(), nested_item()], Length::UNDEFINED),
            ),
            DataElement::new(tags::SOP_CLASS_UID, VR::UI, SOP_CLASS),
            DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, SOP_INST),
            DataElement::new(tags::PATIENT_ID, VR::LO, "PAT01"),
            DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, STUDY),
            DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, SERIES),
            DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, "12"),
        ]);
        match with_pixels {
            Some("native") => {
                obj.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OW,
                    PrimitiveValue::from(vec![0u8; 64]),
                ));
            }
            Some(_) => {
                obj.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OB,
                    PixelFragmentSequence::new(vec![], vec![vec![0xFFu8, 0xD8, 0xFF, 0xD9]]),
                ));
            }
            None => {}
        }
        obj
    }

    fn file_bytes(ts: &str, pixels: Option<&str>) -> Vec<u8> {
        let file = make_object(pixels)
            .with_meta(FileMetaTableBuilder::new().transfer_syntax(ts))
            .unwrap();
        let mut out = Vec::new();
        file.write_all(&mut out).unwrap();
        out
    }

    fn expected(ts: &str) -> DicomHead {
        DicomHead {
            transfer_syntax: Some(ts.into()),
            media_storage_sop_class: Some(SOP_CLASS.into()),
            media_storage_sop_instance: Some(SOP_INST.into()),
            sop_class: Some(SOP_CLASS.into()),
            sop_instance: Some(SOP_INST.into()),
            study_instance_uid: Some(STUDY.into()),
            series_instance_uid: Some(SERIES.into()),
            patient_id: Some("PAT01".into()),
            number_of_frames: Some(12),
        }
    }

    /// Every field of `partial` is either absent or equal to the one in `full`.
    fn is_consistent(partial: &DicomHead, full: &DicomHead) -> bool {
        fn ok<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_none() || a == b
        }
        ok(&partial.transfer_syntax, &full.transfer_syntax)
            && ok(
                &partial.media_storage_sop_class,
                &full.media_storage_sop_class,
            )
            && ok(
                &partial.media_storage_sop_instance,
                &full.media_storage_sop_instance,
            )
            && ok(&partial.sop_class, &full.sop_class)
            && ok(&partial.sop_instance, &full.sop_instance)
            && ok(&partial.study_instance_uid, &full.study_instance_uid)
            && ok(&partial.series_instance_uid, &full.series_instance_uid)
            && ok(&partial.patient_id, &full.patient_id)
            && ok(&partial.number_of_frames, &full.number_of_frames)
    }

    #[test]
    fn sniffs_explicit_le_implicit_le_and_big_endian() {
        for ts in [EXPLICIT_VR_LE, IMPLICIT_VR_LE, EXPLICIT_VR_BE] {
            let bytes = file_bytes(ts, Some("native"));
            assert_eq!(sniff(&bytes), Ok(expected(ts)), "{ts}");
        }
        // the generated sequence really has undefined length
        let ele = file_bytes(EXPLICIT_VR_LE, None);
        let sq = [0x08, 0, 0x06, 0, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(ele.windows(sq.len()).any(|w| w == sq));
    }

    #[test]
    fn sniffs_encapsulated_syntax() {
        let ts = "1.2.840.10008.1.2.4.50";
        let bytes = file_bytes(ts, Some("encapsulated"));
        assert_eq!(sniff(&bytes), Ok(expected(ts)));
    }

    #[test]
    fn truncated_at_every_offset() {
        for ts in [EXPLICIT_VR_LE, IMPLICIT_VR_LE, EXPLICIT_VR_BE] {
            let bytes = file_bytes(ts, Some("native"));
            let full = expected(ts);
            let mut saw_ok_partial = false;
            for k in 0..=bytes.len() {
                match sniff(&bytes[..k]) {
                    Ok(h) => {
                        assert!(k > 132, "{ts} @ {k}");
                        assert!(is_consistent(&h, &full), "{ts} @ {k}: {h:?}");
                        assert_eq!(h.transfer_syntax.as_deref(), Some(ts));
                        saw_ok_partial |= h != full;
                    }
                    Err(SniffError::NotDicom) => assert!(k < 132, "{ts} @ {k}"),
                    Err(SniffError::TruncatedMeta) => assert!(k >= 132, "{ts} @ {k}"),
                    Err(e) => panic!("{ts} @ {k}: {e:?}"),
                }
            }
            assert!(saw_ok_partial);
            assert_eq!(sniff(&bytes[..bytes.len() - 1]), Ok(full));
        }
    }

    #[test]
    fn deflated_returns_meta_only() {
        let meta = FileMetaTableBuilder::new()
            .transfer_syntax(DEFLATED_EXPLICIT_VR_LE)
            .media_storage_sop_class_uid(SOP_CLASS)
            .media_storage_sop_instance_uid(SOP_INST)
            .build()
            .unwrap();
        let mut bytes = vec![0u8; 128];
        bytes.extend_from_slice(b"DICM");
        meta.write(&mut bytes).unwrap();
        bytes.extend_from_slice(&[0x78, 0x9c, 1, 2, 3, 4, 5]);
        let h = sniff(&bytes).unwrap();
        assert_eq!(h.transfer_syntax.as_deref(), Some(DEFLATED_EXPLICIT_VR_LE));
        assert_eq!(h.media_storage_sop_instance.as_deref(), Some(SOP_INST));
        assert_eq!(h.sop_instance, None);
    }

    // --- hand-made encodings for cases dicom-object does not write ---

    fn ele(tag: u32, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
        out.extend_from_slice(&(tag as u16).to_le_bytes());
        out.extend_from_slice(vr);
        if is_long_vr(vr) {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(value);
        out
    }

    fn item_tag(element: u16, len: u32) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        out.extend_from_slice(&element.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out
    }

    fn meta_with(ts: &str, with_group_length: bool) -> Vec<u8> {
        let mut body = ele(0x0002_0001, b"OB", &[0, 1]);
        body.extend(ele(0x0002_0002, b"UI", b"1.2\0"));
        body.extend(ele(0x0002_0003, b"UI", b"1.2.3\0"));
        let mut ts = ts.as_bytes().to_vec();
        if ts.len() % 2 == 1 {
            ts.push(0);
        }
        body.extend(ele(0x0002_0010, b"UI", &ts));
        let mut out = vec![0u8; 128];
        out.extend_from_slice(b"DICM");
        if with_group_length {
            out.extend(ele(0x0002_0000, b"UL", &(body.len() as u32).to_le_bytes()));
        }
        out.extend(body);
        out
    }

    #[test]
    fn defined_length_sequence_and_un_undefined_length() {
        let mut f = meta_with(EXPLICIT_VR_LE, true);
        // defined-length SQ with a defined-length item containing a fake SOP Instance UID
        let inner = ele(0x0008_0018, b"UI", b"9.9");
        let mut item = item_tag(0xE000, inner.len() as u32);
        item.extend(&inner);
        f.extend(ele(0x0008_0006, b"SQ", &item));
        // UN with undefined length: content is implicit VR LE
        let mut un = ele(0x0009_1010, b"UN", &[]);
        un.truncate(un.len() - 4);
        un.extend_from_slice(&UNDEFINED.to_le_bytes());
        un.extend(item_tag(0xE000, UNDEFINED));
        un.extend_from_slice(&[0x08, 0, 0x18, 0, 4, 0, 0, 0]);
        un.extend_from_slice(b"8.8\0");
        un.extend(item_tag(0xE00D, 0));
        un.extend(item_tag(0xE0DD, 0));
        f.extend(un);
        f.extend(ele(0x0008_0018, b"UI", b"1.2.3\0"));
        f.extend(ele(0x0010_0020, b"LO", b"P \0 "));
        f.extend(ele(0x0028_0008, b"IS", b" 3 "));
        let h = sniff(&f).unwrap();
        assert_eq!(h.sop_instance.as_deref(), Some("1.2.3"));
        assert_eq!(h.media_storage_sop_class.as_deref(), Some("1.2"));
        assert_eq!(h.patient_id.as_deref(), Some("P"));
        assert_eq!(h.number_of_frames, Some(3));
    }

    #[test]
    fn meta_without_group_length() {
        let mut f = meta_with(EXPLICIT_VR_LE, false);
        f.extend(ele(0x0020_000D, b"UI", b"7.7\0"));
        assert_eq!(
            sniff(&f).unwrap().study_instance_uid.as_deref(),
            Some("7.7")
        );
        for k in 0..f.len() {
            let _ = sniff(&f[..k]);
        }
    }

    #[test]
    fn not_dicom() {
        assert_eq!(sniff(b""), Err(SniffError::NotDicom));
        assert_eq!(sniff(&[0u8; 131]), Err(SniffError::NotDicom));
        assert_eq!(sniff(&[0u8; 1000]), Err(SniffError::NotDicom));
        assert_eq!(sniff(b"{\"00080018\": {}}"), Err(SniffError::NotDicom));
    }

    #[test]
    fn bad_meta() {
        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        f.extend(ele(0x0002_0001, b"OB", &[0, 1]));
        f.extend(ele(0x0008_0016, b"UI", b"1.2\0"));
        assert!(
            matches!(sniff(&f), Err(SniffError::BadMeta(_))),
            "missing TS"
        );

        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        f.extend_from_slice(&[2, 0, 0x10, 0, b'z', b'z', 2, 0, b'1', 0]);
        assert!(matches!(sniff(&f), Err(SniffError::BadMeta(_))), "bad VR");

        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        f.extend_from_slice(&[2, 0, 1, 0, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert!(
            matches!(sniff(&f), Err(SniffError::BadMeta(_))),
            "undefined length"
        );

        // group length pointing past the prefix
        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        f.extend(ele(0x0002_0000, b"UL", &0xFFFF_FFF0u32.to_le_bytes()));
        assert_eq!(sniff(&f), Err(SniffError::TruncatedMeta));
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u8
        };
        // random bytes with DICM
        for _ in 0..500 {
            let mut f = vec![0u8; 128];
            f.extend_from_slice(b"DICM");
            for _ in 0..300 {
                f.push(next());
            }
            let _ = sniff(&f);
        }
        // valid meta then random data set, for each syntax
        for ts in [EXPLICIT_VR_LE, IMPLICIT_VR_LE, EXPLICIT_VR_BE] {
            for _ in 0..300 {
                let mut f = meta_with(ts, true);
                for _ in 0..200 {
                    // bias towards structural bytes
                    let b = next();
                    f.push(match b % 8 {
                        0 => 0xFF,
                        1 => 0xFE,
                        2 => 0xE0,
                        3 => b'S',
                        4 => b'Q',
                        _ => b,
                    });
                }
                assert!(sniff(&f).is_ok());
            }
        }
        // single-byte mutations of a real file
        let bytes = file_bytes(EXPLICIT_VR_LE, Some("native"));
        for i in 0..bytes.len() {
            for v in [0x00u8, 0xFF, 0xFE, b'S'] {
                let mut m = bytes.clone();
                m[i] = v;
                let _ = sniff(&m);
            }
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut f = meta_with(IMPLICIT_VR_LE, true);
        for _ in 0..10_000 {
            f.extend_from_slice(&[0x08, 0, 0x06, 0]);
            f.extend_from_slice(&UNDEFINED.to_le_bytes());
            f.extend(item_tag(0xE000, UNDEFINED));
        }
        let h = sniff(&f).unwrap();
        assert_eq!(h.sop_instance, None);
    }
}
