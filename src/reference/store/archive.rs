//! The in-memory index of the reference archive: studies, series and instances, with their files on disk.
//!
//! The information model is the DICOM one (PS3.3 A.1.2: Patient, Study, Series, Instance) as addressed
//! by the WADO-RS resource paths of PS3.18 10.4.1 and searched by QIDO-RS (PS3.18 10.6). Only a small
//! set of attributes is kept in memory per instance (the top-level, non-binary, non-sequence ones, used
//! for QIDO-RS matching and results); pixel data and metadata are read from the files when a request
//! asks for them. Fixtures are described by `index.json` beside the files; STOW-RS adds instances at run
//! time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dicom_core::header::Header;
use dicom_core::{DicomValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{InMemDicomObject, OpenFileOptions};
use serde::Deserialize;

use crate::reference::store::part10::{self, FileLayout, EXPLICIT_VR_LE};

/// Errors loading the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// `index.json` could not be read.
    #[error("cannot read fixture index {path}: {source}")]
    ReadIndex {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `index.json` is not an array of fixture entries.
    #[error("fixture index {path} is malformed: {source}")]
    ParseIndex {
        /// File.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A DICOM file could not be read.
    #[error("cannot read DICOM file {path}: {message}")]
    ReadObject {
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A file's layout could not be walked.
    #[error(transparent)]
    Layout(#[from] part10::LayoutError),
    /// A required identifying attribute is missing.
    #[error("{path} lacks {attribute}")]
    MissingAttribute {
        /// File.
        path: PathBuf,
        /// Keyword of the attribute.
        attribute: &'static str,
    },
}

/// One entry of the fixtures' `index.json` (only the fields the server needs).
#[derive(Debug, Clone, Deserialize)]
struct IndexEntry {
    path: String,
    #[serde(default)]
    ele_path: Option<String>,
}

/// One file holding an instance in one transfer syntax.
#[derive(Debug, Clone)]
pub struct InstanceFile {
    /// Absolute path.
    pub path: PathBuf,
    /// File size in bytes.
    pub size: u64,
    /// Transfer syntax and value locations.
    pub layout: FileLayout,
}

impl InstanceFile {
    /// Read the size and layout of a file.
    pub fn open(path: PathBuf) -> Result<InstanceFile, ArchiveError> {
        let size = std::fs::metadata(&path)
            .map_err(|source| part10::LayoutError::Io {
                path: path.clone(),
                source,
            })?
            .len();
        let layout = part10::scan(&path)?;
        Ok(InstanceFile { path, size, layout })
    }

    /// The file's transfer syntax UID.
    pub fn transfer_syntax(&self) -> &str {
        &self.layout.transfer_syntax
    }
}

/// What the pixel data of an instance looks like uncompressed (PS3.3 C.7.6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePixel {
    /// Rows (0028,0010).
    pub rows: u32,
    /// Columns (0028,0011).
    pub columns: u32,
    /// Samples per Pixel (0028,0002).
    pub samples: u32,
    /// Bits Allocated (0028,0100).
    pub bits_allocated: u32,
    /// Pixel Representation (0028,0103): 1 for signed.
    pub signed: bool,
    /// Photometric Interpretation (0028,0004).
    pub photometric: String,
    /// Planar Configuration (0028,0006).
    pub planar: u32,
    /// Number of Frames (0028,0008), 1 when absent.
    pub frames: u32,
}

impl ImagePixel {
    /// Bytes of one uncompressed frame, when Bits Allocated is a whole number of bytes.
    pub fn frame_len(&self) -> Option<u64> {
        if self.bits_allocated == 0 || !self.bits_allocated.is_multiple_of(8) {
            return None;
        }
        Some(
            u64::from(self.rows)
                * u64::from(self.columns)
                * u64::from(self.samples)
                * u64::from(self.bits_allocated / 8),
        )
    }

    fn from_object(obj: &InMemDicomObject) -> Option<ImagePixel> {
        let int = |tag: Tag| -> Option<u32> { obj.get(tag)?.to_int::<u32>().ok() };
        let text =
            |tag: Tag| -> Option<String> { Some(obj.get(tag)?.to_str().ok()?.trim().to_string()) };
        Some(ImagePixel {
            rows: int(tags::ROWS)?,
            columns: int(tags::COLUMNS)?,
            samples: int(tags::SAMPLES_PER_PIXEL).unwrap_or(1),
            bits_allocated: int(tags::BITS_ALLOCATED)?,
            signed: int(tags::PIXEL_REPRESENTATION) == Some(1),
            photometric: text(tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default(),
            planar: int(tags::PLANAR_CONFIGURATION).unwrap_or(0),
            frames: text(tags::NUMBER_OF_FRAMES)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1)
                .max(1),
        })
    }
}

/// One instance of the archive.
#[derive(Debug)]
pub struct Instance {
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// SOP Instance UID.
    pub sop_uid: String,
    /// SOP Class UID.
    pub sop_class: String,
    /// The file as stored (any transfer syntax).
    pub stored: InstanceFile,
    /// An Explicit VR Little Endian copy, for instances stored in another transfer syntax.
    pub ele_copy: Option<InstanceFile>,
    /// Top-level non-binary, non-sequence attributes, for QIDO-RS.
    pub attributes: InMemDicomObject,
    /// Uncompressed pixel description (of the Explicit VR Little Endian form), for images.
    pub pixel: Option<ImagePixel>,
}

impl Instance {
    /// Read an instance from its stored file and, optionally, its Explicit VR Little Endian copy.
    pub fn load(stored: PathBuf, ele_copy: Option<PathBuf>) -> Result<Instance, ArchiveError> {
        let obj = read_header(&stored)?;
        let text = |tag: Tag, attribute: &'static str| -> Result<String, ArchiveError> {
            obj.get(tag)
                .and_then(|e| e.to_str().ok())
                .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ArchiveError::MissingAttribute {
                    path: stored.clone(),
                    attribute,
                })
        };
        let study_uid = text(tags::STUDY_INSTANCE_UID, "StudyInstanceUID")?;
        let series_uid = text(tags::SERIES_INSTANCE_UID, "SeriesInstanceUID")?;
        let sop_uid = text(tags::SOP_INSTANCE_UID, "SOPInstanceUID")?;
        let sop_class = text(tags::SOP_CLASS_UID, "SOPClassUID")?;
        let stored_file = InstanceFile::open(stored)?;
        let ele_file = match ele_copy {
            Some(p) if stored_file.transfer_syntax() != EXPLICIT_VR_LE => {
                Some(InstanceFile::open(p)?)
            }
            _ => None,
        };
        let pixel = match &ele_file {
            Some(f) => ImagePixel::from_object(&read_header(&f.path)?),
            None => ImagePixel::from_object(&obj),
        };
        let attributes = small_attributes(obj);
        Ok(Instance {
            study_uid,
            series_uid,
            sop_uid,
            sop_class,
            stored: stored_file,
            ele_copy: ele_file,
            attributes,
            pixel,
        })
    }

    /// The Explicit VR Little Endian form of the instance, if there is one.
    pub fn explicit_le(&self) -> Option<&InstanceFile> {
        if self.stored.transfer_syntax() == EXPLICIT_VR_LE {
            Some(&self.stored)
        } else {
            self.ele_copy.as_ref()
        }
    }

    /// A top-level attribute as text (multiple values joined with `\`), trailing padding removed.
    pub fn text(&self, tag: Tag) -> Option<String> {
        let e = self.attributes.get(tag)?;
        let s = e.to_str().ok()?;
        Some(s.trim_end_matches(['\0', ' ']).to_string())
    }

    /// A top-level attribute as an integer.
    pub fn int(&self, tag: Tag) -> Option<i64> {
        self.text(tag)?.trim().parse().ok()
    }
}

/// An instance that arrived at run time (STOW-RS, C-STORE), stored as received at `stored`. When
/// it arrived in a transfer syntax other than Explicit VR Little Endian, its Explicit VR Little
/// Endian form (the default of the web, PS3.18 §8.7.3.5.2, and what RAD-69 and C-GET send when only
/// that is accepted) is made at `ele_copy`, decoding compressed pixel data where dicom-rs has the
/// codec. An uncompressed object that cannot be re-encoded is an error (the caller refuses it); a
/// compressed one without a codec here is kept and served only in the transfer syntax it arrived in,
/// and a request for any other is refused as the standard says (406, an XDS error, a C-GET failure).
pub fn ingest(stored: PathBuf, ele_copy: PathBuf) -> Result<Instance, ArchiveError> {
    let file = InstanceFile::open(stored.clone())?;
    let ts = file.transfer_syntax().to_string();
    let copy = if ts == EXPLICIT_VR_LE {
        None
    } else {
        match part10::transcode(&stored, EXPLICIT_VR_LE) {
            Ok(bytes) => match std::fs::write(&ele_copy, bytes) {
                Ok(()) => Some(ele_copy),
                Err(e) => {
                    return Err(ArchiveError::ReadObject {
                        path: ele_copy,
                        message: e.to_string(),
                    })
                }
            },
            Err(e) if !is_encapsulated(&ts) => {
                return Err(ArchiveError::ReadObject {
                    path: stored,
                    message: e.to_string(),
                })
            }
            Err(_) => None,
        }
    };
    let loaded = Instance::load(stored, copy.clone());
    if loaded.is_err() {
        if let Some(c) = copy {
            let _ = std::fs::remove_file(c);
        }
    }
    loaded
}

fn is_encapsulated(ts: &str) -> bool {
    use dicom_encoding::TransferSyntaxIndex as _;
    dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get(ts)
        .is_some_and(|t| t.is_encapsulated_pixel_data())
}

/// True when two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    if ma.len() != mb.len() {
        return false;
    }
    // Compared a block at a time: an instance may be large.
    use std::io::Read as _;
    let (Ok(fa), Ok(fb)) = (std::fs::File::open(a), std::fs::File::open(b)) else {
        return false;
    };
    let (mut ra, mut rb) = (
        std::io::BufReader::new(fa).take(ma.len()),
        std::io::BufReader::new(fb).take(mb.len()),
    );
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = match ra.read(&mut ba) {
            Ok(n) => n,
            Err(_) => return false,
        };
        if n == 0 {
            return true;
        }
        if rb.read_exact(&mut bb[..n]).is_err() || ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Read a file's data set up to (excluding) Pixel Data.
pub fn read_header(path: &Path) -> Result<InMemDicomObject, ArchiveError> {
    OpenFileOptions::new()
        .read_until(tags::PIXEL_DATA)
        .open_file(path)
        .map(|o| o.into_inner())
        .map_err(|e| ArchiveError::ReadObject {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Keep the top-level attributes that QIDO-RS may match or return: no sequences, no binary values,
/// no overlong text.
fn small_attributes(obj: InMemDicomObject) -> InMemDicomObject {
    let kept = obj.into_iter().filter(|e| {
        !matches!(
            e.vr(),
            VR::SQ | VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN
        ) && matches!(e.value(), DicomValue::Primitive(_))
            && e.header().len.get().is_none_or(|l| l <= 1024)
            && e.tag().group() != 0x0002
    });
    InMemDicomObject::from_element_iter(kept)
}

/// A series: its instances by SOP Instance UID.
#[derive(Debug, Default)]
pub struct Series {
    /// Instances keyed by SOP Instance UID.
    pub instances: BTreeMap<String, Arc<Instance>>,
}

impl Series {
    /// Instances in Instance Number order (then UID).
    pub fn sorted(&self) -> Vec<Arc<Instance>> {
        let mut v: Vec<_> = self.instances.values().cloned().collect();
        v.sort_by(|a, b| {
            (a.int(tags::INSTANCE_NUMBER), &a.sop_uid)
                .cmp(&(b.int(tags::INSTANCE_NUMBER), &b.sop_uid))
        });
        v
    }

    /// The first instance in order, whose series-level attributes stand for the series.
    pub fn first(&self) -> Option<Arc<Instance>> {
        self.sorted().into_iter().next()
    }
}

/// A study: its series by Series Instance UID.
#[derive(Debug, Default)]
pub struct Study {
    /// Series keyed by Series Instance UID.
    pub series: BTreeMap<String, Series>,
}

impl Study {
    /// Series in Series Number order (then UID), with their UIDs.
    pub fn sorted(&self) -> Vec<(&String, &Series)> {
        let mut v: Vec<_> = self.series.iter().collect();
        v.sort_by_cached_key(|(uid, s)| {
            (
                s.first().and_then(|i| i.int(tags::SERIES_NUMBER)),
                uid.as_str(),
            )
        });
        v
    }

    /// Every instance of the study, series by series.
    pub fn instances(&self) -> Vec<Arc<Instance>> {
        self.sorted()
            .into_iter()
            .flat_map(|(_, s)| s.sorted())
            .collect()
    }

    /// The first instance, whose patient and study attributes stand for the study.
    pub fn first(&self) -> Option<Arc<Instance>> {
        self.sorted()
            .into_iter()
            .next()
            .and_then(|(_, s)| s.first())
    }
}

/// What a WADO-RS path names (PS3.18 10.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/studies/{study}`.
    Study(String),
    /// `/studies/{study}/series/{series}`.
    Series(String, String),
    /// `/studies/{study}/series/{series}/instances/{instance}`.
    Instance(String, String, String),
}

impl Target {
    /// The Study Instance UID of the target.
    pub fn study(&self) -> &str {
        match self {
            Target::Study(s) | Target::Series(s, _) | Target::Instance(s, _, _) => s,
        }
    }
}

/// Why a target was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// The study does not exist.
    Study,
    /// The study exists but not the series in it.
    Series,
    /// The series exists but not the instance in it.
    Instance,
}

/// The archive: every study, and where each SOP Instance UID lives.
#[derive(Debug, Default)]
pub struct Archive {
    /// Studies keyed by Study Instance UID.
    pub studies: BTreeMap<String, Study>,
    located: HashMap<String, (String, String)>,
}

impl Archive {
    /// Load every instance listed in `dir/index.json`.
    pub fn load(dir: &Path) -> Result<Archive, ArchiveError> {
        let index = dir.join("index.json");
        let text = std::fs::read_to_string(&index).map_err(|source| ArchiveError::ReadIndex {
            path: index.clone(),
            source,
        })?;
        let entries: Vec<IndexEntry> =
            serde_json::from_str(&text).map_err(|source| ArchiveError::ParseIndex {
                path: index.clone(),
                source,
            })?;
        let mut archive = Archive::default();
        for e in entries {
            let ele = e.ele_path.as_ref().map(|p| dir.join(p));
            archive.insert(Instance::load(dir.join(&e.path), ele)?);
        }
        Ok(archive)
    }

    /// Add an instance, replacing any instance with the same SOP Instance UID wherever it was.
    /// An instance stored again with the same bytes keeps the Explicit VR Little Endian form the
    /// archive already had for it (one this server could not have made from a codec it lacks).
    pub fn insert(&mut self, mut instance: Instance) -> Option<Arc<Instance>> {
        let previous = self.remove(&instance.sop_uid);
        if let Some(prev) = &previous {
            if instance.explicit_le().is_none()
                && prev.ele_copy.is_some()
                && same_bytes(&prev.stored.path, &instance.stored.path)
            {
                instance.ele_copy = prev.ele_copy.clone();
                instance.pixel = prev.pixel.clone();
            }
        }
        self.located.insert(
            instance.sop_uid.clone(),
            (instance.study_uid.clone(), instance.series_uid.clone()),
        );
        self.studies
            .entry(instance.study_uid.clone())
            .or_default()
            .series
            .entry(instance.series_uid.clone())
            .or_default()
            .instances
            .insert(instance.sop_uid.clone(), Arc::new(instance));
        previous
    }

    fn remove(&mut self, sop_uid: &str) -> Option<Arc<Instance>> {
        let (study_uid, series_uid) = self.located.remove(sop_uid)?;
        let study = self.studies.get_mut(&study_uid)?;
        let series = study.series.get_mut(&series_uid)?;
        let removed = series.instances.remove(sop_uid);
        if series.instances.is_empty() {
            study.series.remove(&series_uid);
        }
        if study.series.is_empty() {
            self.studies.remove(&study_uid);
        }
        removed
    }

    /// Instances named by a WADO-RS target, in order; the target must exist in that hierarchy.
    pub fn resolve(&self, target: &Target) -> Result<Vec<Arc<Instance>>, NotFound> {
        let study = self.studies.get(target.study()).ok_or(NotFound::Study)?;
        match target {
            Target::Study(_) => Ok(study.instances()),
            Target::Series(_, se) => Ok(study.series.get(se).ok_or(NotFound::Series)?.sorted()),
            Target::Instance(_, se, i) => {
                let series = study.series.get(se).ok_or(NotFound::Series)?;
                let inst = series.instances.get(i).ok_or(NotFound::Instance)?;
                Ok(vec![inst.clone()])
            }
        }
    }

    /// Studies sorted by Study Date, then Study Instance UID (the QIDO-RS result order).
    pub fn sorted_studies(&self) -> Vec<(&String, &Study)> {
        let mut v: Vec<_> = self.studies.iter().collect();
        v.sort_by_cached_key(|(uid, s)| {
            (
                s.first().and_then(|i| i.text(tags::STUDY_DATE)),
                uid.to_string(),
            )
        });
        v
    }

    /// True when the archive holds an instance with this SOP Instance UID.
    pub fn contains(&self, sop_uid: &str) -> bool {
        self.located.contains_key(sop_uid)
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.located.len()
    }

    /// True when the archive holds nothing.
    pub fn is_empty(&self) -> bool {
        self.located.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_fixtures_and_resolves_hierarchy() {
        let dir = crate::reference::tests::fixtures_dir();
        let archive = Archive::load(&dir).unwrap();
        assert!(archive.len() > 10);
        let (study_uid, study) = archive.sorted_studies().into_iter().next().unwrap();
        let (series_uid, _) = study.sorted().into_iter().next().unwrap();
        let all = archive.resolve(&Target::Study(study_uid.clone())).unwrap();
        assert!(!all.is_empty());
        let one = &all[0];
        assert_eq!(
            archive
                .resolve(&Target::Series(study_uid.clone(), series_uid.clone()))
                .unwrap()
                .len(),
            study.series[series_uid].instances.len()
        );
        // An instance of another series is not found under this series.
        let other = all.iter().find(|i| &i.series_uid != series_uid).unwrap();
        assert_eq!(
            archive
                .resolve(&Target::Instance(
                    study_uid.clone(),
                    series_uid.clone(),
                    other.sop_uid.clone()
                ))
                .err(),
            Some(NotFound::Instance)
        );
        assert!(one.explicit_le().is_some());
        assert_eq!(
            archive.resolve(&Target::Study("1.2.3".into())).err(),
            Some(NotFound::Study)
        );
    }

    fn pixel_data(path: &Path) -> Vec<u8> {
        let obj = OpenFileOptions::new().open_file(path).unwrap();
        obj.element(tags::PIXEL_DATA)
            .unwrap()
            .to_bytes()
            .unwrap()
            .into_owned()
    }

    /// An instance received in a compressed transfer syntax gets an Explicit VR Little Endian form
    /// by decoding; for the lossless syntaxes its pixel data is the fixture's uncompressed copy's.
    #[test]
    fn received_compressed_instances_are_decoded_to_explicit_le() {
        let dir = crate::reference::tests::fixtures_dir();
        let archive = Archive::load(&dir).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for (_, study) in archive.sorted_studies() {
            for inst in study.instances() {
                let ts = inst.stored.transfer_syntax().to_string();
                if ts == EXPLICIT_VR_LE || !seen.insert(ts.clone()) {
                    continue;
                }
                let stored = tmp.path().join(format!("{}.dcm", inst.sop_uid));
                std::fs::copy(&inst.stored.path, &stored).unwrap();
                let copy = tmp.path().join(format!("{}.ele.dcm", inst.sop_uid));
                let got = ingest(stored, copy).unwrap();
                let jpeg_ls = ts.starts_with("1.2.840.10008.1.2.4.8");
                match got.explicit_le() {
                    None => assert!(jpeg_ls, "{ts}: no Explicit VR Little Endian form"),
                    Some(f) => {
                        assert!(!jpeg_ls, "{ts}");
                        assert_eq!(f.transfer_syntax(), EXPLICIT_VR_LE);
                        let lossless = [
                            "1.2.840.10008.1.2",
                            "1.2.840.10008.1.2.5",
                            "1.2.840.10008.1.2.4.70",
                            "1.2.840.10008.1.2.4.90",
                        ];
                        if lossless.contains(&ts.as_str()) {
                            let fixture = inst.explicit_le().unwrap();
                            assert!(
                                pixel_data(&f.path) == pixel_data(&fixture.path),
                                "{ts}: decoded pixel data differs from the fixture's copy"
                            );
                        }
                        assert_eq!(
                            got.pixel.as_ref().map(|p| p.rows),
                            inst.pixel.as_ref().map(|p| p.rows)
                        );
                    }
                }
            }
        }
        assert!(seen.len() >= 6, "{seen:?}");
    }

    #[test]
    fn same_bytes_compares_content_not_size() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            tmp.path().join("a"),
            tmp.path().join("b"),
            tmp.path().join("c"),
        );
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut other = big.clone();
        other[150_000] ^= 1;
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        std::fs::write(&c, &other).unwrap();
        assert!(same_bytes(&a, &b));
        assert!(!same_bytes(&a, &c));
        assert!(!same_bytes(&a, &tmp.path().join("missing")));
    }
}
