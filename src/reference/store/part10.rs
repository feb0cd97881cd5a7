//! Byte layout of stored DICOM Part 10 files, so that values can be streamed straight from disk.
//!
//! WADO-RS bulkdata and frame retrieval (PS3.18 10.4.1.1.4/10.4.1.1.5) return raw attribute values, and
//! instance retrieval streams whole files: neither should load a study into memory. [`scan`] walks the
//! top level of a file once (PS3.10 7.1 file meta group, then the data set as encoded per PS3.5 7.1.2 and
//! 7.1.3, with undefined-length sequences of PS3.5 7.5 and encapsulated pixel data of PS3.5 A.4) and
//! records where each binary top-level value lies. [`transcode`] re-encodes objects into Implicit or
//! Explicit VR Little Endian, decoding compressed pixel data where dicom-rs has the codec: PS3.18 8.7.3
//! makes Explicit VR Little Endian the default of the web (Implicit VR is never sent), so an instance
//! received in any other transfer syntax (STOW-RS, C-STORE) needs that form to be served.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use dicom_encoding::TransferSyntaxIndex;
use dicom_object::OpenFileOptions;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

/// Explicit VR Little Endian, the default transfer syntax of the web (PS3.18 8.7.3.5.2).
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Implicit VR Little Endian: never sent over the web (PS3.18 8.7.3).
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Big Endian (retired): never sent over the web (PS3.18 8.7.3).
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
/// Deflated Explicit VR Little Endian: its data set cannot be walked without inflating it.
pub const DEFLATED_EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1.99";

/// Pixel Data (7FE0,0010).
pub const PIXEL_DATA: u32 = 0x7FE0_0010;

/// Value lengths above this (in bytes) are sent as bulk data rather than inline in metadata.
pub const INLINE_BINARY_MAX: u64 = 1024;

const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: u32 = 0xFFFE_E000;
const ITEM_DELIMITATION: u32 = 0xFFFE_E00D;
const SEQUENCE_DELIMITATION: u32 = 0xFFFE_E0DD;
const MAX_DEPTH: usize = 64;

/// Errors reading the layout of a file.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a well-formed DICOM Part 10 file.
    #[error("{path} is not a well-formed DICOM file: {message}")]
    Malformed {
        /// File.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// dicom-object could not read or write the object.
    #[error("cannot transcode {path}: {message}")]
    Transcode {
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Where one top-level value lies in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueLocation {
    /// The two VR characters (`OW`, `OB`, ...); for Implicit VR files, from the data dictionary.
    pub vr: [u8; 2],
    /// Byte offset of the value.
    pub offset: u64,
    /// Value length in bytes.
    pub length: u64,
}

/// Encapsulated pixel data (PS3.5 A.4): the fragments, the Basic Offset Table item excluded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fragments {
    /// Offset and length of each fragment value, in file order.
    pub items: Vec<(u64, u64)>,
}

impl Fragments {
    /// Sum of the fragment lengths.
    pub fn total_len(&self) -> u64 {
        self.items.iter().map(|(_, l)| *l).sum()
    }
}

/// How the pixel data of a file is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PixelLayout {
    /// Native (uncompressed) pixel data in one value.
    Native(ValueLocation),
    /// Encapsulated (compressed) pixel data.
    Encapsulated(Fragments),
}

/// The top-level layout of one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileLayout {
    /// Transfer Syntax UID (0002,0010) of the file meta group.
    pub transfer_syntax: String,
    /// Binary top-level values (OB, OD, OF, OL, OV, OW, UN) other than Pixel Data, keyed by tag.
    pub binary: BTreeMap<u32, ValueLocation>,
    /// Pixel Data, if present.
    pub pixel: Option<PixelLayout>,
}

fn is_binary_vr(vr: &[u8; 2]) -> bool {
    matches!(vr, b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"UN")
}

/// Cursor over a file with position tracking; every read error carries the path.
struct Walker<'p> {
    r: BufReader<File>,
    pos: u64,
    path: &'p Path,
}

impl Walker<'_> {
    fn io(&self, source: std::io::Error) -> LayoutError {
        LayoutError::Io {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn malformed(&self, message: impl Into<String>) -> LayoutError {
        LayoutError::Malformed {
            path: self.path.to_path_buf(),
            message: message.into(),
        }
    }

    /// Read exactly `N` bytes; `Ok(None)` at a clean end of file.
    fn read_array<const N: usize>(&mut self) -> Result<Option<[u8; N]>, LayoutError> {
        let mut buf = [0u8; N];
        let mut filled = 0;
        while filled < N {
            let slice = buf.get_mut(filled..).unwrap_or_default();
            match self.r.read(slice) {
                Ok(0) if filled == 0 => return Ok(None),
                Ok(0) => return Err(self.malformed(format!("truncated at byte {}", self.pos))),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io(e)),
            }
        }
        self.pos += N as u64;
        Ok(Some(buf))
    }

    fn need<const N: usize>(&mut self) -> Result<[u8; N], LayoutError> {
        let pos = self.pos;
        self.read_array::<N>()?
            .ok_or_else(|| self.malformed(format!("unexpected end of file at byte {pos}")))
    }

    fn u16(&mut self) -> Result<u16, LayoutError> {
        Ok(u16::from_le_bytes(self.need::<2>()?))
    }

    fn u32(&mut self) -> Result<u32, LayoutError> {
        Ok(u32::from_le_bytes(self.need::<4>()?))
    }

    fn skip(&mut self, n: u64) -> Result<(), LayoutError> {
        let delta = i64::try_from(n).map_err(|_| self.malformed("value length overflow"))?;
        self.r.seek_relative(delta).map_err(|e| self.io(e))?;
        self.pos += n;
        Ok(())
    }

    fn read_tag(&mut self) -> Result<Option<u32>, LayoutError> {
        let Some(b) = self.read_array::<4>()? else {
            return Ok(None);
        };
        let group = u16::from_le_bytes([b[0], b[1]]);
        let element = u16::from_le_bytes([b[2], b[3]]);
        Ok(Some((u32::from(group) << 16) | u32::from(element)))
    }

    /// VR and length of an element whose tag was just read (PS3.5 7.1.2 / 7.1.3).
    fn header_after_tag(
        &mut self,
        tag: u32,
        implicit: bool,
    ) -> Result<([u8; 2], u32), LayoutError> {
        if tag >> 16 == 0xFFFE || implicit {
            let len = self.u32()?;
            return Ok((implicit_vr(tag), len));
        }
        let vr = self.need::<2>()?;
        if !vr.iter().all(u8::is_ascii_uppercase) {
            return Err(self.malformed(format!(
                "invalid VR bytes {:02X}{:02X} for ({:04X},{:04X}) at byte {}",
                vr[0],
                vr[1],
                tag >> 16,
                tag & 0xFFFF,
                self.pos - 2
            )));
        }
        if crate::model::dicom_part::is_long_vr(&vr) {
            self.skip(2)?;
            Ok((vr, self.u32()?))
        } else {
            Ok((vr, u32::from(self.u16()?)))
        }
    }

    /// Skip the items of an undefined-length sequence up to its Sequence Delimitation Item (PS3.5 7.5.2).
    fn skip_sequence(&mut self, implicit: bool, depth: usize) -> Result<(), LayoutError> {
        if depth > MAX_DEPTH {
            return Err(self.malformed("sequences nested too deeply"));
        }
        loop {
            let tag = self
                .read_tag()?
                .ok_or_else(|| self.malformed("end of file inside a sequence"))?;
            let len = self.u32()?;
            match tag {
                ITEM if len == UNDEFINED => self.skip_item(implicit, depth + 1)?,
                ITEM => self.skip(u64::from(len))?,
                SEQUENCE_DELIMITATION => return Ok(()),
                other => {
                    return Err(self.malformed(format!(
                        "unexpected ({:04X},{:04X}) inside a sequence",
                        other >> 16,
                        other & 0xFFFF
                    )))
                }
            }
        }
    }

    /// Skip an undefined-length item up to its Item Delimitation Item.
    fn skip_item(&mut self, implicit: bool, depth: usize) -> Result<(), LayoutError> {
        if depth > MAX_DEPTH {
            return Err(self.malformed("items nested too deeply"));
        }
        loop {
            let tag = self
                .read_tag()?
                .ok_or_else(|| self.malformed("end of file inside an item"))?;
            if tag == ITEM_DELIMITATION {
                self.u32()?;
                return Ok(());
            }
            let (vr, len) = self.header_after_tag(tag, implicit)?;
            if len == UNDEFINED {
                // An undefined-length UN holds Implicit VR Little Endian (PS3.5 6.2.2).
                self.skip_sequence(implicit || &vr == b"UN", depth + 1)?;
            } else {
                self.skip(u64::from(len))?;
            }
        }
    }

    /// Read the fragments of encapsulated pixel data (PS3.5 A.4); the first item is the Basic Offset Table.
    fn fragments(&mut self) -> Result<Fragments, LayoutError> {
        let mut out = Fragments::default();
        let mut first = true;
        loop {
            let tag = self
                .read_tag()?
                .ok_or_else(|| self.malformed("end of file inside encapsulated pixel data"))?;
            let len = self.u32()?;
            match tag {
                ITEM if len != UNDEFINED => {
                    if !first {
                        out.items.push((self.pos, u64::from(len)));
                    }
                    first = false;
                    self.skip(u64::from(len))?;
                }
                SEQUENCE_DELIMITATION => return Ok(out),
                _ => return Err(self.malformed("malformed encapsulated pixel data")),
            }
        }
    }
}

/// VR of an element in an Implicit VR file, from the data dictionary (binary attributes only matter here).
fn implicit_vr(tag: u32) -> [u8; 2] {
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
    let t = dicom_core::Tag((tag >> 16) as u16, (tag & 0xFFFF) as u16);
    let vr = dicom_dictionary_std::StandardDataDictionary
        .by_tag(t)
        .map(|e| e.vr().relaxed())
        .unwrap_or(dicom_core::VR::UN);
    let s = vr.to_string().as_bytes();
    [
        s.first().copied().unwrap_or(b'U'),
        s.get(1).copied().unwrap_or(b'N'),
    ]
}

/// Walk the top level of a Part 10 file and record where its binary values and its pixel data lie.
///
/// Files in a transfer syntax whose data set cannot be walked (deflated, big endian) get a layout with
/// only the transfer syntax filled in.
pub fn scan(path: &Path) -> Result<FileLayout, LayoutError> {
    let file = File::open(path).map_err(|source| LayoutError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut w = Walker {
        r: BufReader::with_capacity(16 * 1024, file),
        pos: 0,
        path,
    };
    w.skip(128)?;
    if &w.need::<4>()? != b"DICM" {
        return Err(w.malformed("no DICM prefix after the preamble"));
    }
    // File meta group (PS3.10 7.1): always Explicit VR Little Endian.
    let mut layout = FileLayout::default();
    let mut next = loop {
        let tag = w
            .read_tag()?
            .ok_or_else(|| w.malformed("end of file inside the file meta group"))?;
        if tag >> 16 != 0x0002 {
            break Some(tag);
        }
        let (_, len) = w.header_after_tag(tag, false)?;
        if len == UNDEFINED {
            return Err(w.malformed("undefined length in the file meta group"));
        }
        if tag == 0x0002_0010 {
            let mut buf = vec![0u8; len.min(256) as usize];
            w.r.read_exact(&mut buf).map_err(|e| w.io(e))?;
            w.pos += buf.len() as u64;
            w.skip(u64::from(len) - buf.len() as u64)?;
            layout.transfer_syntax = String::from_utf8_lossy(&buf)
                .trim_end_matches(['\0', ' '])
                .to_string();
        } else {
            w.skip(u64::from(len))?;
        }
    };
    if layout.transfer_syntax.is_empty() {
        return Err(w.malformed("no Transfer Syntax UID (0002,0010) in the file meta group"));
    }
    let implicit = match layout.transfer_syntax.as_str() {
        IMPLICIT_VR_LE => true,
        EXPLICIT_VR_BE | DEFLATED_EXPLICIT_VR_LE => return Ok(layout),
        _ => false,
    };
    while let Some(tag) = next {
        let (vr, len) = w.header_after_tag(tag, implicit)?;
        if tag == PIXEL_DATA {
            layout.pixel = Some(if len == UNDEFINED {
                PixelLayout::Encapsulated(w.fragments()?)
            } else {
                PixelLayout::Native(ValueLocation {
                    vr,
                    offset: w.pos,
                    length: u64::from(len),
                })
            });
            break;
        }
        if len == UNDEFINED {
            w.skip_sequence(implicit || &vr == b"UN", 1)?;
        } else {
            if is_binary_vr(&vr) {
                layout.binary.insert(
                    tag,
                    ValueLocation {
                        vr,
                        offset: w.pos,
                        length: u64::from(len),
                    },
                );
            }
            w.skip(u64::from(len))?;
        }
        next = w.read_tag()?;
    }
    Ok(layout)
}

/// Re-encode an object into an uncompressed transfer syntax (Implicit or Explicit VR Little Endian)
/// and return the whole Part 10 file. Native pixel data is re-encoded as it is; encapsulated pixel
/// data is decoded with the codecs of dicom-rs' transfer syntax registry (JPEG baseline, extended
/// and lossless, RLE Lossless, JPEG 2000), which updates the pixel description (Photometric
/// Interpretation, Planar Configuration) to the decoded form. A transfer syntax without a codec
/// here (JPEG-LS, for one) gives an error: the object is then served only as it is stored.
///
/// The object may come from a system under test, so a decoder panic is an error, not a crash.
pub fn transcode(path: &Path, ts_uid: &str) -> Result<Vec<u8>, LayoutError> {
    let err = |message: String| LayoutError::Transcode {
        path: path.to_path_buf(),
        message,
    };
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| err(format!("unknown transfer syntax {ts_uid}")))?;
    if ts.is_encapsulated_pixel_data() {
        return Err(err(format!(
            "{ts_uid} is not an uncompressed transfer syntax"
        )));
    }
    let mut obj = OpenFileOptions::new()
        .open_file(path)
        .map_err(|e| err(e.to_string()))?;
    let from = obj.meta().transfer_syntax().to_string();
    let Some(from_ts) = TransferSyntaxRegistry.get(&from) else {
        return Err(err(format!(
            "stored transfer syntax {from} cannot be transcoded"
        )));
    };
    if from_ts.is_encapsulated_pixel_data() {
        use dicom_pixeldata::Transcode as _;
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let mut obj = obj;
            obj.transcode(ts).map(|()| obj)
        }));
        obj = match decoded {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return Err(err(format!("cannot decode the pixel data of {from}: {e}"))),
            Err(_) => return Err(err(format!("the pixel data decoder of {from} panicked"))),
        };
    } else {
        obj.update_meta(|m| m.set_transfer_syntax(ts));
    }
    let mut out = Vec::new();
    obj.write_all(&mut out).map_err(|e| err(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_file(dataset: &[u8], ts: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut ts_val = ts.as_bytes().to_vec();
        if ts_val.len() % 2 == 1 {
            ts_val.push(0);
        }
        let mut meta = Vec::new();
        meta.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
        meta.extend_from_slice(&(ts_val.len() as u16).to_le_bytes());
        meta.extend_from_slice(&ts_val);
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&[0u8; 128]).unwrap();
        f.write_all(b"DICM").unwrap();
        f.write_all(&meta).unwrap();
        f.write_all(dataset).unwrap();
        f.flush().unwrap();
        f
    }

    #[test]
    fn finds_native_pixel_data_after_undefined_sequence() {
        let mut ds = Vec::new();
        // (0008,1140) SQ undefined length, one undefined-length item with (0008,1150) UI "1.2"
        ds.extend_from_slice(&[
            0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        ds.extend_from_slice(&[
            0x08, 0x00, 0x50, 0x11, b'U', b'I', 4, 0, b'1', b'.', b'2', 0,
        ]);
        ds.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        ds.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        // (0009,0010) OB 1200 bytes (a large binary value)
        ds.extend_from_slice(&[0x09, 0x00, 0x10, 0x10, b'O', b'B', 0, 0]);
        ds.extend_from_slice(&1200u32.to_le_bytes());
        ds.extend_from_slice(&[7u8; 1200]);
        // Pixel Data OW 4 bytes
        ds.extend_from_slice(&[
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 4, 0, 0, 0, 1, 2, 3, 4,
        ]);
        let f = write_file(&ds, EXPLICIT_VR_LE);
        let layout = scan(f.path()).unwrap();
        assert_eq!(layout.transfer_syntax, EXPLICIT_VR_LE);
        assert_eq!(
            layout.binary.get(&0x0009_1010).map(|v| v.length),
            Some(1200)
        );
        let Some(PixelLayout::Native(loc)) = layout.pixel else {
            panic!("no native pixel data");
        };
        let bytes = std::fs::read(f.path()).unwrap();
        let start = loc.offset as usize;
        assert_eq!(&bytes[start..start + 4], &[1, 2, 3, 4]);
        assert_eq!(&loc.vr, b"OW");
    }

    #[test]
    fn finds_fragments_of_encapsulated_pixel_data() {
        let mut ds = Vec::new();
        ds.extend_from_slice(&[
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]); // empty offset table
        ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 2, 0, 0, 0, 0xAA, 0xBB]);
        ds.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 2, 0, 0, 0, 0xCC, 0xDD]);
        ds.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let f = write_file(&ds, "1.2.840.10008.1.2.4.70");
        let layout = scan(f.path()).unwrap();
        let Some(PixelLayout::Encapsulated(frags)) = layout.pixel else {
            panic!("no encapsulated pixel data");
        };
        assert_eq!(frags.items.len(), 2);
        assert_eq!(frags.total_len(), 4);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let f = write_file(
            &[0x08, 0x00, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF],
            EXPLICIT_VR_LE,
        );
        assert!(scan(f.path()).is_err());
        let mut g = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut g, b"not dicom").unwrap();
        assert!(scan(g.path()).is_err());
    }
}
