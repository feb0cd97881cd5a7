//! Data sets of the DIMSE SCU: Q/R identifiers built from keys and summarised from responses
//! (PS3.4 §C.4), the File Meta group of a PS3.10 file read to find where its data set starts
//! (PS3.10 §7.1), and received data sets written back as PS3.10 files.

use std::io::{Read, Write};
use std::path::Path;

use dicom_core::dictionary::{DataDictionary, VirtualVr};
use dicom_core::value::{DataSetSequence, PrimitiveValue, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use sha2::Digest;

use crate::dimse::message::DataSet;
use crate::dimse::walk::{explicit_vr, Walk, UNDEFINED};
use crate::model::dicom_part::is_long_vr;

/// Longest value kept in a summary; longer ones are cut.
const MAX_SUMMARY_VALUE: usize = 256;
/// Most elements kept in one summary.
const MAX_SUMMARY_ELEMENTS: usize = 200;
/// Prefix of a file read to find its File Meta group.
const META_PREFIX: usize = 256 * 1024;

/// `PatientID` for a dictionary tag, `(0009,0010)` otherwise.
pub fn keyword(tag: Tag) -> String {
    if tag.group() % 2 == 1 {
        return format!("({:04X},{:04X})", tag.group(), tag.element());
    }
    StandardDataDictionary
        .by_tag(tag)
        .map(|e| e.alias.to_string())
        .unwrap_or_else(|| format!("({:04X},{:04X})", tag.group(), tag.element()))
}

/// Why a Q/R identifier could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    /// The transfer syntax is not one the harness knows.
    #[error("unknown transfer syntax {0}")]
    UnknownTransferSyntax(String),
    /// A key's value does not fit its VR.
    #[error("{keyword} = '{value}': {reason}")]
    BadKey {
        /// The key's keyword.
        keyword: String,
        /// The value given.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
    /// The data set could not be written.
    #[error("cannot encode the identifier: {0}")]
    Encode(String),
}

fn element(tag: Tag, value: &str) -> Result<DataElement<InMemDicomObject>, IdentifierError> {
    let vr = match StandardDataDictionary.by_tag(tag).map(|e| e.vr) {
        Some(VirtualVr::Exact(vr)) => vr,
        Some(VirtualVr::Xs) => VR::US,
        Some(_) => VR::OB,
        None => VR::UN,
    };
    let bad = |e: &dyn std::fmt::Display| IdentifierError::BadKey {
        keyword: keyword(tag),
        value: value.to_string(),
        reason: e.to_string(),
    };
    let v: Value<InMemDicomObject> = if value.is_empty() {
        if vr == VR::SQ {
            Value::Sequence(DataSetSequence::empty())
        } else {
            PrimitiveValue::Empty.into()
        }
    } else {
        match vr {
            VR::SQ => return Err(bad(&"sequence keys can only be empty (universal match)")),
            VR::US => PrimitiveValue::from(value.parse::<u16>().map_err(|e| bad(&e))?).into(),
            VR::SS => PrimitiveValue::from(value.parse::<i16>().map_err(|e| bad(&e))?).into(),
            VR::UL => PrimitiveValue::from(value.parse::<u32>().map_err(|e| bad(&e))?).into(),
            VR::SL => PrimitiveValue::from(value.parse::<i32>().map_err(|e| bad(&e))?).into(),
            VR::FL => PrimitiveValue::from(value.parse::<f32>().map_err(|e| bad(&e))?).into(),
            VR::FD => PrimitiveValue::from(value.parse::<f64>().map_err(|e| bad(&e))?).into(),
            VR::OB | VR::UN | VR::OW => PrimitiveValue::from(value.as_bytes().to_vec()).into(),
            _ => PrimitiveValue::from(value).into(),
        }
    };
    Ok(DataElement::new(tag, vr, v))
}

/// Encode a Q/R identifier from (tag, value) keys in the transfer syntax `ts_uid`. An empty
/// value is a universal match (an empty sequence for SQ keys).
pub fn encode_identifier(keys: &[(Tag, String)], ts_uid: &str) -> Result<Vec<u8>, IdentifierError> {
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| IdentifierError::UnknownTransferSyntax(ts_uid.to_string()))?;
    let mut obj = InMemDicomObject::new_empty();
    for (tag, value) in keys {
        obj.put(element(*tag, value)?);
    }
    let mut out = Vec::new();
    obj.write_dataset_with_ts(&mut out, ts)
        .map_err(|e| IdentifierError::Encode(e.to_string()))?;
    Ok(out)
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_SUMMARY_VALUE {
        let mut end = MAX_SUMMARY_VALUE;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// The top-level attributes of an encoded data set as (keyword, value); a data set that does not
/// decode gives one `(undecodable)` entry with the reason.
pub fn summarize(bytes: &[u8], ts_uid: &str) -> Vec<(String, String)> {
    let Some(ts) = TransferSyntaxRegistry.get(ts_uid) else {
        return vec![(
            "(undecodable)".into(),
            format!("unknown transfer syntax {ts_uid}"),
        )];
    };
    let obj = match crate::model::dicom_guard::read_dataset(bytes, ts) {
        Ok(o) => o,
        Err(e) => return vec![("(undecodable)".into(), e.to_string())],
    };
    obj.iter()
        .take(MAX_SUMMARY_ELEMENTS)
        .map(|e| {
            let v = match e.value() {
                Value::Primitive(p) => cut(p.to_str().trim_end_matches(['\0', ' ']).to_string()),
                Value::Sequence(s) => format!("[{} items]", s.items().len()),
                Value::PixelSequence(p) => format!("[{} fragments]", p.fragments().len()),
            };
            (keyword(e.header().tag), v)
        })
        .collect()
}

/// What the File Meta group of a PS3.10 file says, and where its data set lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHead {
    /// Media Storage SOP Class UID (0002,0002).
    pub sop_class: String,
    /// Media Storage SOP Instance UID (0002,0003).
    pub sop_instance: String,
    /// Transfer Syntax UID (0002,0010).
    pub transfer_syntax: String,
    /// Byte offset of the data set (just after the meta group).
    pub data_offset: u64,
    /// Data set length in bytes.
    pub data_len: u64,
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .trim_end_matches(['\0', ' '])
        .to_string()
}

/// Why a PS3.10 file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Part10Error {
    /// The file cannot be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The task reading or writing the file did not finish.
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
    /// No `DICM` prefix after the preamble.
    #[error("not a DICOM PS3.10 file (no DICM at offset 128)")]
    NotPart10,
    /// The File Meta group ends inside an element header.
    #[error("File Meta group truncated")]
    MetaTruncated,
    /// An element of the File Meta group ends past the bytes read.
    #[error("File Meta group truncated or with an undefined length")]
    MetaValueTruncated,
    /// A File Meta attribute that is required is missing (its name and tag).
    #[error("no {0}")]
    MetaMissing(&'static str),
    /// The File Meta group cannot be built or encoded.
    #[error("File Meta group: {0}")]
    Meta(Box<dicom_object::meta::Error>),
    /// The file at `path` cannot be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The file being written.
        path: std::path::PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// Walk the File Meta group (Explicit VR Little Endian, PS3.10 §7.1) of the file at `path`.
pub fn read_head(path: &Path) -> Result<FileHead, Part10Error> {
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let mut buf = Vec::with_capacity(META_PREFIX.min(size as usize));
    std::io::Read::by_ref(&mut f)
        .take(META_PREFIX as u64)
        .read_to_end(&mut buf)?;
    let mut head = head_of(&buf)?;
    head.data_len = size.saturating_sub(head.data_offset);
    Ok(head)
}

/// [`read_head`] on bytes held in memory (`data_len` left 0).
pub fn head_of(buf: &[u8]) -> Result<FileHead, Part10Error> {
    if buf.get(128..132) != Some(b"DICM".as_slice()) {
        return Err(Part10Error::NotPart10);
    }
    let (mut class, mut instance, mut ts) = (None, None, None);
    let mut pos = 132usize;
    loop {
        let Some(h) = buf.get(pos..pos + 8) else {
            if pos == buf.len() {
                break; // a file with no data set
            }
            return Err(Part10Error::MetaTruncated);
        };
        let group = u16::from_le_bytes([h[0], h[1]]);
        if group != 0x0002 {
            break;
        }
        let element = u16::from_le_bytes([h[2], h[3]]);
        let vr = [h[4], h[5]];
        let (len, start) = if is_long_vr(&vr) {
            let l = buf
                .get(pos + 8..pos + 12)
                .ok_or(Part10Error::MetaTruncated)?;
            (
                u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize,
                pos + 12,
            )
        } else {
            (u16::from_le_bytes([h[6], h[7]]) as usize, pos + 8)
        };
        let v = buf
            .get(start..start.saturating_add(len))
            .ok_or(Part10Error::MetaValueTruncated)?;
        match element {
            0x0002 => class = Some(text(v)),
            0x0003 => instance = Some(text(v)),
            0x0010 => ts = Some(text(v)),
            _ => {}
        }
        pos = start + len;
    }
    Ok(FileHead {
        sop_class: class.ok_or(Part10Error::MetaMissing(
            "Media Storage SOP Class UID (0002,0002)",
        ))?,
        sop_instance: instance.ok_or(Part10Error::MetaMissing(
            "Media Storage SOP Instance UID (0002,0003)",
        ))?,
        transfer_syntax: ts.ok_or(Part10Error::MetaMissing("Transfer Syntax UID (0002,0010)"))?,
        data_offset: pos as u64,
        data_len: 0,
    })
}

/// SHA-256 (lower-case hex) of a file from `offset` on.
pub fn sha256_from(path: &Path, offset: u64) -> std::io::Result<String> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// A file name for a received instance: its UID when it is a plain UID, else `instance-N`.
pub fn file_name(sop_instance: Option<&str>, n: usize) -> String {
    match sop_instance {
        Some(u)
            if !u.is_empty()
                && u.len() <= 64
                && u.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            format!("{u}.dcm")
        }
        _ => format!("instance-{n}.dcm"),
    }
}

/// Write a received data set as a PS3.10 file (preamble, `DICM`, a File Meta group naming
/// `class`, `instance` and `ts`, then the data set as received). Returns the file size.
pub fn write_part10(
    path: &Path,
    class: &str,
    instance: &str,
    ts: &str,
    data: &DataSet,
) -> Result<u64, Part10Error> {
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(class)
        .media_storage_sop_instance_uid(instance)
        .transfer_syntax(ts)
        .build()
        .map_err(|e| Part10Error::Meta(Box::new(e)))?;
    let mut head = vec![0u8; 128];
    head.extend_from_slice(b"DICM");
    meta.write(&mut head)
        .map_err(|e| Part10Error::Meta(Box::new(e)))?;
    let io = |source: std::io::Error| Part10Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    f.write_all(&head).map_err(io)?;
    match data {
        DataSet::Memory(v) => f.write_all(v).map_err(io)?,
        DataSet::File { path: spool, .. } => {
            let mut src = std::fs::File::open(spool).map_err(io)?;
            std::io::copy(&mut src, &mut f).map_err(io)?;
        }
    }
    f.flush().map_err(io)?;
    Ok(head.len() as u64 + data.len())
}

/// Bytes of a received data set read to find the attributes that identify it.
pub const IDENTITY_PREFIX: usize = 256 * 1024;

/// The attributes that say which instance a data set is, in the order they are listed.
const IDENTITY: &[(u32, &str)] = &[
    (0x0008_0016, "SOPClassUID"),
    (0x0008_0018, "SOPInstanceUID"),
    (0x0010_0020, "PatientID"),
    (0x0020_000D, "StudyInstanceUID"),
    (0x0020_000E, "SeriesInstanceUID"),
];

/// The identifying attributes (SOP Class and Instance UID, Patient ID, Study and Series Instance
/// UID) of an encoded data set, from its first bytes `prefix` (`complete` when they are the whole
/// data set). Only the top level is read, up to (0020,000E); sequences before it are walked over.
/// A data set these attributes cannot be read from gives one `(undecodable)` entry with the reason.
pub fn identity(prefix: &[u8], ts_uid: &str, complete: bool) -> Vec<(String, String)> {
    let bad = |why: String| vec![("(undecodable)".to_string(), why)];
    let explicit = match explicit_vr(ts_uid) {
        Ok(e) => e,
        Err(why) => return bad(why.into()),
    };
    let mut walk = Walk::new(prefix);
    let mut found: Vec<(u32, String)> = Vec::new();
    loop {
        if walk.at_end() {
            if complete {
                break;
            }
            return bad(format!(
                "its identifying attributes are not within its first {} bytes",
                prefix.len()
            ));
        }
        let at = walk.pos();
        let Some((tag, vr, len)) = walk.header(explicit) else {
            return bad(format!("the element at byte {at} is truncated"));
        };
        if tag > 0x0020_000E {
            break;
        }
        if len == UNDEFINED {
            if walk.skip_value(explicit, vr, len).is_none() {
                return bad(format!(
                    "the sequence at byte {at} does not end within the bytes read"
                ));
            }
            continue;
        }
        let Some(value) = walk.take(len as usize) else {
            return bad(format!(
                "the element at byte {at} declares {len} bytes, past the bytes read"
            ));
        };
        if IDENTITY.iter().any(|(t, _)| *t == tag) {
            found.push((tag, text(value)));
        }
    }
    IDENTITY
        .iter()
        .filter_map(|(t, k)| {
            found
                .iter()
                .find(|(ft, _)| ft == t)
                .map(|(_, v)| (k.to_string(), cut(v.clone())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_dictionary_std::tags;

    #[test]
    fn identifier_round_trip_in_both_syntaxes() {
        let keys = vec![
            (tags::QUERY_RETRIEVE_LEVEL, "STUDY".to_string()),
            (tags::PATIENT_ID, "CTH-0001".to_string()),
            (tags::STUDY_INSTANCE_UID, String::new()),
            (tags::NUMBER_OF_STUDY_RELATED_INSTANCES, String::new()),
        ];
        for ts in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"] {
            let bytes = encode_identifier(&keys, ts).unwrap();
            let s = summarize(&bytes, ts);
            assert!(
                s.contains(&("QueryRetrieveLevel".into(), "STUDY".into())),
                "{s:?}"
            );
            assert!(
                s.contains(&("PatientID".into(), "CTH-0001".into())),
                "{s:?}"
            );
            assert!(
                s.contains(&("StudyInstanceUID".into(), String::new())),
                "{s:?}"
            );
        }
        assert!(encode_identifier(&[(tags::ROWS, "x".into())], "1.2.840.10008.1.2").is_err());
        // The errors keep the text the C-FIND, C-MOVE and C-GET failures show.
        let bad = encode_identifier(&[(tags::ROWS, "x".into())], "1.2.840.10008.1.2")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            bad.as_deref(),
            Some("Rows = 'x': invalid digit found in string")
        );
        let unknown = encode_identifier(&[], "1.2.3").err().map(|e| e.to_string());
        assert_eq!(unknown.as_deref(), Some("unknown transfer syntax 1.2.3"));
        let truncated = [0x08, 0, 0x18, 0, 100, 0, 0, 0, b'1', b'2'];
        assert_eq!(
            summarize(&truncated, "1.2.840.10008.1.2")[0].0,
            "(undecodable)"
        );
    }

    #[test]
    fn meta_head_and_part10_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.dcm");
        let data = DataSet::Memory(vec![0x08, 0, 0x18, 0, 2, 0, 0, 0, b'1', 0]);
        let size = write_part10(&p, "1.2.3", "4.5.6", "1.2.840.10008.1.2", &data).unwrap();
        let head = read_head(&p).unwrap();
        assert_eq!(head.sop_class, "1.2.3");
        assert_eq!(head.sop_instance, "4.5.6");
        assert_eq!(head.transfer_syntax, "1.2.840.10008.1.2");
        assert_eq!(head.data_len, 10);
        assert_eq!(head.data_offset + 10, size);
        assert_eq!(
            sha256_from(&p, head.data_offset).unwrap(),
            hex::encode(sha2::Sha256::digest(data.bytes().unwrap()))
        );
        assert_eq!(
            head_of(b"short").unwrap_err().to_string(),
            "not a DICOM PS3.10 file (no DICM at offset 128)"
        );
        let mut meta_only = vec![0u8; 128];
        meta_only.extend_from_slice(b"DICM");
        meta_only.extend_from_slice(&[0x02, 0, 0x10, 0, b'U', b'I', 4, 0, b'1', b'.', b'2', 0]);
        assert_eq!(
            head_of(&meta_only).unwrap_err().to_string(),
            "no Media Storage SOP Class UID (0002,0002)"
        );
        meta_only.extend_from_slice(&[0x02, 0, 0x02, 0, b'U', b'I', 9, 0]);
        assert_eq!(
            head_of(&meta_only).unwrap_err().to_string(),
            "File Meta group truncated or with an undefined length"
        );
        let missing = dir.path().join("missing").join("y.dcm");
        let err = write_part10(&missing, "1.2.3", "4.5.6", "1.2.840.10008.1.2", &data)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: ", missing.display())),
            "{err}"
        );
        assert_eq!(file_name(Some("1.2.3"), 1), "1.2.3.dcm");
        assert_eq!(file_name(Some("../x"), 2), "instance-2.dcm");
    }

    #[test]
    fn identity_of_a_data_set_in_both_little_endian_syntaxes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        let i = fx
            .instances
            .iter()
            .find(|i| i.transfer_syntax == "1.2.840.10008.1.2.1" && !i.kos)
            .unwrap();
        let bytes = std::fs::read(fx.file(i)).unwrap();
        let head = head_of(&bytes).unwrap();
        let data = &bytes[head.data_offset as usize..];
        let id = identity(data, "1.2.840.10008.1.2.1", true);
        let get = |k: &str| id.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("SOPInstanceUID").as_deref(),
            Some(i.sop_uid.as_str()),
            "{id:?}"
        );
        assert_eq!(
            get("StudyInstanceUID").as_deref(),
            Some(i.study_uid.as_str())
        );
        assert_eq!(
            get("SeriesInstanceUID").as_deref(),
            Some(i.series_uid.as_str())
        );
        assert_eq!(get("PatientID").as_deref(), Some(i.patient_id.as_str()));
        // The same data set in Implicit VR Little Endian.
        let obj = crate::model::dicom_guard::read_dataset(
            data,
            TransferSyntaxRegistry.get("1.2.840.10008.1.2.1").unwrap(),
        )
        .unwrap();
        let mut implicit = Vec::new();
        obj.write_dataset_with_ts(
            &mut implicit,
            TransferSyntaxRegistry.get("1.2.840.10008.1.2").unwrap(),
        )
        .unwrap();
        assert_eq!(identity(&implicit, "1.2.840.10008.1.2", true), id);
        // Cut short, or hostile: a reason, never a panic.
        assert_eq!(
            identity(&data[..20], "1.2.840.10008.1.2.1", false)[0].0,
            "(undecodable)"
        );
        let endless_sq = [
            0x08, 0, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        assert_eq!(
            identity(&endless_sq, "1.2.840.10008.1.2.1", true)[0].0,
            "(undecodable)"
        );
        let huge = [0x08, 0, 0x18, 0, b'U', b'I', 0xFF, 0xFF];
        assert_eq!(
            identity(&huge, "1.2.840.10008.1.2.1", true)[0].0,
            "(undecodable)"
        );
        assert!(identity(&[], "1.2.840.10008.1.2", true).is_empty());
        // Mutated copies (a fixed pseudo-random walk): a reason or attributes, never a panic.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..3000 {
            let mut m = data[..data.len().min(4096)].to_vec();
            for _ in 0..1 + round % 8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x as usize) % m.len();
                m[at] = (x >> 32) as u8;
            }
            let cut = (x as usize >> 8) % (m.len() + 1);
            for ts in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"] {
                let _ = identity(&m[..cut], ts, round % 2 == 0);
            }
        }
    }
}
