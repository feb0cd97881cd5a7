//! A length pre-walk for DICOM bytes from a peer, before dicom-parser decodes them.
//!
//! dicom-parser 0.10 allocates a value buffer of the declared length before reading it, so a
//! corrupt length of nearly 4 GiB in a 5 KiB file makes it allocate gigabytes. The walk follows the
//! element, item and sequence structure (PS3.5 §7.1, §7.5) as the decoder will, and refuses any
//! length that runs past the bytes or past its enclosing defined-length item or sequence. It covers
//! the uncompressed little and big endian syntaxes; deflate goes to the decoder as is.

use std::panic::{catch_unwind, AssertUnwindSafe};

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::{tags, StandardDataDictionary};
use dicom_object::InMemDicomObject;

/// Why bytes from a peer were refused before or while they were decoded.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// A header or length the walk refuses, at a byte offset.
    #[error("at byte {pos}: {defect}")]
    Length {
        /// Offset of the element header.
        pos: usize,
        /// What is wrong there.
        defect: LengthDefect,
    },
    /// The decoder refused the data set.
    #[error("{0}")]
    Decode(#[from] dicom_object::ReadError),
    /// The decoder panicked.
    #[error("the DICOM decoder panicked")]
    DecoderPanicked,
}

/// What the walk refuses in one element header or length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LengthDefect {
    /// Fewer bytes remain than a header needs.
    #[error("truncated element header")]
    TruncatedHeader,
    /// The explicit VR is not a VR.
    #[error("element {0} has an invalid VR")]
    InvalidVr(Tag),
    /// The defined length runs past the end of the bytes.
    #[error("element {tag} declares {len} bytes but only {remaining} remain")]
    PastTheEnd {
        /// The element.
        tag: Tag,
        /// Its declared length.
        len: usize,
        /// Bytes left after its header.
        remaining: usize,
    },
    /// A binary value whose length is not a whole number of values.
    #[error("element {tag} has {len} bytes, not a multiple of its value size {unit}")]
    PartialValue {
        /// The element.
        tag: Tag,
        /// Its declared length.
        len: usize,
        /// The size of one value of its VR.
        unit: usize,
    },
    /// An undefined length in group 0002.
    #[error("undefined length in the file meta group")]
    UndefinedMetaLength,
    /// An element starts inside its item or sequence and ends after it.
    #[error("an element runs past the end of its item or sequence")]
    ElementPastItem,
    /// A defined length longer than what remains of its item or sequence.
    #[error("length {0} runs past the end of its item or sequence")]
    LengthPastItem(usize),
}

/// Walk a PS3.10 body (starting at `DICM`): the file meta group, then the data set in the transfer
/// syntax the meta group names.
pub fn check_part10_lengths(body: &[u8]) -> Result<(), GuardError> {
    let mut w = Walker {
        bytes: body,
        pos: 4,
        big_endian: false,
        explicit: true,
        in_meta: true,
    };
    // File Meta Information: explicit VR little endian, group 0002.
    let mut ts = String::new();
    while w.peek_group() == Some(0x0002) {
        let start = w.pos;
        let h = match w.header() {
            Ok(h) => h,
            Err(e) => return Err(at(start, e)),
        };
        let Some(len) = h.len else {
            return Err(at(start, LengthDefect::UndefinedMetaLength));
        };
        if h.tag == tags::TRANSFER_SYNTAX_UID {
            ts = String::from_utf8_lossy(&body[w.pos..w.pos + len])
                .trim_end_matches(['\0', ' '])
                .to_string();
        }
        w.pos += len;
    }
    match ts.as_str() {
        "1.2.840.10008.1.2" => w.explicit = false,
        "1.2.840.10008.1.2.2" => w.big_endian = true,
        "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.5.1" => return Ok(()),
        _ => {}
    }
    w.in_meta = false;
    walk_dataset(&mut w)
}

/// Check an encoded data set (no file meta, as DIMSE carries it) in transfer syntax `ts_uid` the way
/// [`check_part10_lengths`] checks a file's.
pub fn check_dataset_lengths(bytes: &[u8], ts_uid: &str) -> Result<(), GuardError> {
    let mut w = Walker {
        bytes,
        pos: 0,
        big_endian: false,
        explicit: true,
        in_meta: false,
    };
    match ts_uid.trim_end_matches(['\0', ' ']) {
        "1.2.840.10008.1.2" => w.explicit = false,
        "1.2.840.10008.1.2.2" => w.big_endian = true,
        "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.5.1" => return Ok(()),
        _ => {}
    }
    walk_dataset(&mut w)
}

/// Decode a data set received from a peer: lengths checked first, a decoder panic caught.
pub fn read_dataset(
    bytes: &[u8],
    ts: &dicom_encoding::TransferSyntax,
) -> Result<InMemDicomObject, GuardError> {
    check_dataset_lengths(bytes, ts.uid())?;
    match catch_unwind(AssertUnwindSafe(|| {
        InMemDicomObject::read_dataset_with_ts(bytes, ts)
    })) {
        Ok(Ok(obj)) => Ok(obj),
        Ok(Err(e)) => Err(GuardError::Decode(e)),
        Err(_) => Err(GuardError::DecoderPanicked),
    }
}

/// The size of one value of a binary VR (PS3.5 §6.2); 1 for the others. dicom-parser 0.10 sizes its
/// buffer in whole values, so a length that is not a multiple desynchronises it from the bytes.
fn value_size(vr: VR) -> usize {
    match vr {
        VR::US | VR::SS | VR::OW => 2,
        VR::UL | VR::SL | VR::FL | VR::AT | VR::OF | VR::OL => 4,
        VR::FD | VR::OD | VR::OV | VR::SV | VR::UV => 8,
        _ => 1,
    }
}

/// The VR dicom-encoding's implicit VR decoder gives `tag`: OW for pixel and overlay data, else the
/// standard dictionary's (relaxed), else UN.
fn implicit_vr(tag: Tag) -> VR {
    if tag == Tag(0x7FE0, 0x0010) || (tag.0 >> 8 == 0x60 && tag.1 == 0x3000) {
        return VR::OW;
    }
    StandardDataDictionary
        .by_tag(tag)
        .map(|entry| entry.vr().relaxed())
        .unwrap_or(VR::UN)
}

fn at(pos: usize, defect: LengthDefect) -> GuardError {
    GuardError::Length { pos, defect }
}

/// The data set part of the walk, from `w.pos` to the end of the bytes.
fn walk_dataset(w: &mut Walker<'_>) -> Result<(), GuardError> {
    let body = w.bytes;
    // Data set: every defined length must fit in what remains of its enclosing item or sequence
    // (the decoder reads a defined-length item as exactly that many bytes, whatever they hold).
    // Items and sequences are walked into rather than skipped, so nested lengths are checked too.
    let mut ends: Vec<usize> = Vec::new();
    while w.pos < body.len() {
        while let Some(&end) = ends.last() {
            if w.pos < end {
                break;
            }
            if w.pos > end {
                return Err(at(w.pos, LengthDefect::ElementPastItem));
            }
            ends.pop();
        }
        if w.pos >= body.len() {
            break;
        }
        let start = w.pos;
        let h = match w.header() {
            Ok(h) => h,
            Err(e) => return Err(at(start, e)),
        };
        let Some(len) = h.len else { continue };
        if ends.last().is_some_and(|&end| w.pos + len > end) {
            return Err(at(start, LengthDefect::LengthPastItem(len)));
        }
        // Delimiters have no value, whatever length they claim (dicom-parser ignores it too).
        let delimiter = h.tag == Tag(0xFFFE, 0xE00D) || h.tag == Tag(0xFFFE, 0xE0DD);
        let item = h.tag == Tag(0xFFFE, 0xE000);
        let looks_like_items =
            !w.explicit && body.get(w.pos..w.pos + 4) == Some(&[0xFE, 0xFF, 0x00, 0xE0][..]);
        if delimiter {
            continue;
        }
        if item || h.sequence || looks_like_items {
            ends.push(w.pos + len);
        } else {
            w.pos += len;
        }
    }
    Ok(())
}

/// An element header as the walk sees it.
struct Header {
    tag: Tag,
    /// Explicit VR SQ.
    sequence: bool,
    /// `None` for undefined length.
    len: Option<usize>,
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    big_endian: bool,
    explicit: bool,
    /// In the file meta group (always explicit VR little endian); a data set's own group 0002
    /// elements are decoded in its transfer syntax.
    in_meta: bool,
}

impl Walker<'_> {
    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn peek_group(&self) -> Option<u16> {
        // The meta group is always little endian.
        let b: [u8; 2] = self.bytes.get(self.pos..self.pos + 2)?.try_into().ok()?;
        Some(u16::from_le_bytes(b))
    }

    /// Read one header at `pos`, leave `pos` at the start of its value, and check that a
    /// defined length fits in the remaining bytes.
    fn header(&mut self) -> Result<Header, LengthDefect> {
        let truncated = || LengthDefect::TruncatedHeader;
        let meta = self.in_meta;
        let big_endian = self.big_endian && !meta;
        let saved = self.big_endian;
        self.big_endian = big_endian;
        let result = (|| {
            let group = self.u16_at(self.pos).ok_or_else(truncated)?;
            let element = self.u16_at(self.pos + 2).ok_or_else(truncated)?;
            let tag = Tag(group, element);
            let delimiter = group == 0xFFFE && matches!(element, 0xE000 | 0xE00D | 0xE0DD);
            let mut unit = 1;
            let (len, sequence, header_len) = if delimiter {
                (self.u32_at(self.pos + 4).ok_or_else(truncated)?, false, 8)
            } else if self.explicit || meta {
                let vr = self
                    .bytes
                    .get(self.pos + 4..self.pos + 6)
                    .ok_or_else(truncated)?;
                let vr = std::str::from_utf8(vr)
                    .ok()
                    .and_then(|v| v.parse::<VR>().ok())
                    .ok_or(LengthDefect::InvalidVr(tag))?;
                // Binary values come in whole numbers; dicom-parser 0.10 mis-sizes the buffer
                // of one that does not (PS3.5 §6.2 fixes these value sizes).
                unit = value_size(vr);
                match vr {
                    VR::OB
                    | VR::OD
                    | VR::OF
                    | VR::OL
                    | VR::OV
                    | VR::OW
                    | VR::SQ
                    | VR::SV
                    | VR::UC
                    | VR::UN
                    | VR::UR
                    | VR::UT
                    | VR::UV => (
                        self.u32_at(self.pos + 8).ok_or_else(truncated)?,
                        vr == VR::SQ,
                        12,
                    ),
                    _ => (
                        u32::from(self.u16_at(self.pos + 6).ok_or_else(truncated)?),
                        false,
                        8,
                    ),
                }
            } else {
                // Implicit VR: the decoder takes the VR from the data dictionary, so the value
                // sizes it will assume are checked the same way.
                let vr = implicit_vr(tag);
                unit = value_size(vr);
                (
                    self.u32_at(self.pos + 4).ok_or_else(truncated)?,
                    vr == VR::SQ,
                    8,
                )
            };
            self.pos += header_len;
            let len = (len != u32::MAX).then_some(len as usize);
            if let Some(len) = len {
                let remaining = self.bytes.len() - self.pos;
                if len > remaining {
                    return Err(LengthDefect::PastTheEnd {
                        tag,
                        len,
                        remaining,
                    });
                }
                if len % unit != 0 {
                    return Err(LengthDefect::PartialValue { tag, len, unit });
                }
            }
            Ok(Header { tag, sequence, len })
        })();
        self.big_endian = saved;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (0010,0010) PN "DOE^J " in explicit VR little endian.
    fn name_element() -> Vec<u8> {
        let mut b = vec![0x10, 0x00, 0x10, 0x00, b'P', b'N', 6, 0];
        b.extend_from_slice(b"DOE^J ");
        b
    }

    #[test]
    fn a_well_formed_data_set_passes_and_decodes() {
        let b = name_element();
        assert!(check_dataset_lengths(&b, "1.2.840.10008.1.2.1").is_ok());
        let ts = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
        let obj = read_dataset(&b, &ts).expect("decodes");
        assert!(obj.element(tags::PATIENT_NAME).is_ok());
    }

    #[test]
    fn a_length_past_the_end_is_refused_before_decoding() {
        // (7FE0,0010) OB with a declared length of nearly 4 GiB and four bytes of value.
        let mut b = vec![
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFE, 0xFF, 0xFF, 0xFF,
        ];
        b.extend_from_slice(&[0; 4]);
        let err = check_dataset_lengths(&b, "1.2.840.10008.1.2.1")
            .expect_err("refused")
            .to_string();
        assert_eq!(
            err,
            "at byte 0: element (7FE0,0010) declares 4294967294 bytes but only 4 remain"
        );
        let ts = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
        assert!(read_dataset(&b, &ts).is_err());
        // The same in implicit VR.
        let b = [0xE0, 0x7F, 0x10, 0x00, 0xFE, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0];
        assert!(check_dataset_lengths(&b, "1.2.840.10008.1.2").is_err());
    }

    /// Found by the `dicom_dataset` fuzz target: in implicit VR, a group length (UL) of 3 bytes made
    /// the decoder read no value and then a length of 0xFFFFFF20 from the following bytes.
    #[test]
    fn an_implicit_vr_value_size_mismatch_is_refused() {
        let b = include_bytes!("../../fuzz/regressions/dicom_dataset-oom-implicit-ul-length");
        let err = check_dataset_lengths(b, "1.2.840.10008.1.2")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("not a multiple of its value size 4"), "{err}");
    }

    /// Found by the `dicom_dataset` fuzz target: a group 0002 element in an implicit VR data set
    /// (no file meta) is implicit too, so "SVSV" is its length, not a VR.
    #[test]
    fn group_2_in_a_data_set_follows_the_data_set_syntax() {
        let b = include_bytes!("../../fuzz/regressions/dicom_dataset-oom-group-2-implicit");
        let err = check_dataset_lengths(b, "1.2.840.10008.1.2")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("remain"), "{err}");
    }

    #[test]
    fn an_element_past_its_defined_length_item_is_refused() {
        // (0040,A730) SQ undefined length, an item of defined length 4 holding an 14-byte element.
        let mut b = vec![
            0x40, 0x00, 0x30, 0xA7, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        b.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0]);
        b.extend_from_slice(&name_element());
        b.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let err = check_dataset_lengths(&b, "1.2.840.10008.1.2.1")
            .expect_err("refused")
            .to_string();
        assert!(err.contains("past the end of its item"), "{err}");
        // With the item's true length it passes.
        b[16] = 14;
        assert!(check_dataset_lengths(&b, "1.2.840.10008.1.2.1").is_ok());
    }
}
