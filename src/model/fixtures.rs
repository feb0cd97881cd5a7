//! The fixture studies: the harness's own test data and what it knows about them.
//!
//! Scenarios speak of studies by alias ("CT-CHEST") and of series and instances by number, and the
//! checks need the truth to compare against: which instances a study holds, in which transfer syntax
//! each is stored, and their UIDs. That truth comes from `index.json`, written by
//! `ci/make-fixtures.py` beside the DICOM files.

pub mod mhd;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Errors loading the fixture index.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The index could not be read.
    #[error("cannot read fixture index {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The index is not what the generator writes.
    #[error("fixture index {path} is malformed: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// One fixture instance, as listed in `index.json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct FixtureInstance {
    /// Patient ID.
    pub patient_id: String,
    /// Study alias (`CT-CHEST`).
    #[serde(default)]
    pub study_alias: String,
    /// Study Instance UID.
    pub study_uid: String,
    /// Series Instance UID.
    pub series_uid: String,
    /// Modality.
    pub modality: String,
    /// SOP Class UID.
    pub sop_class: String,
    /// SOP Instance UID.
    pub sop_uid: String,
    /// Transfer syntax it is stored in.
    pub transfer_syntax: String,
    /// Path relative to the fixture folder.
    pub path: String,
    /// Uncompressed Explicit VR Little Endian copy, for instances stored otherwise.
    #[serde(default)]
    pub ele_path: Option<String>,
    /// True for the study's KOS manifest.
    #[serde(default)]
    pub kos: bool,
    /// Series Number.
    #[serde(default)]
    pub series_number: Option<i64>,
    /// Instance Number.
    #[serde(default)]
    pub instance_number: Option<i64>,
    /// Number of frames.
    #[serde(default)]
    pub number_of_frames: Option<u32>,
    /// Accession Number.
    #[serde(default)]
    pub accession: Option<String>,
    /// Study Date (YYYYMMDD).
    #[serde(default)]
    pub study_date: Option<String>,
    /// Patient's Name.
    #[serde(default)]
    pub patient_name: Option<String>,
    /// Large-study benchmark entry.
    #[serde(default)]
    pub large: bool,
}

/// The fixture set.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// The folder holding `index.json`.
    pub dir: PathBuf,
    /// Every instance, in index order.
    pub instances: Vec<FixtureInstance>,
}

/// A study of the fixture set.
#[derive(Debug, Clone)]
pub struct FixtureStudy<'a> {
    /// Alias.
    pub alias: &'a str,
    /// UID.
    pub uid: &'a str,
    /// Its instances.
    pub instances: Vec<&'a FixtureInstance>,
}

impl<'a> FixtureStudy<'a> {
    /// Series UIDs in order of Series Number.
    pub fn series(&self) -> Vec<&'a str> {
        let mut by_number: BTreeMap<(i64, &str), ()> = BTreeMap::new();
        for i in &self.instances {
            by_number.insert((i.series_number.unwrap_or(0), i.series_uid.as_str()), ());
        }
        by_number.into_keys().map(|(_, s)| s).collect()
    }

    /// Instances of the series with this Series Number.
    pub fn series_by_number(&self, number: i64) -> Vec<&'a FixtureInstance> {
        let mut v: Vec<_> = self
            .instances
            .iter()
            .copied()
            .filter(|i| i.series_number == Some(number))
            .collect();
        v.sort_by_key(|i| i.instance_number.unwrap_or(0));
        v
    }
}

impl Fixtures {
    /// Load `dir/index.json`.
    pub fn load(dir: &Path) -> Result<Fixtures, FixtureError> {
        let path = dir.join("index.json");
        let text = std::fs::read_to_string(&path).map_err(|source| FixtureError::Read {
            path: path.clone(),
            source,
        })?;
        let instances: Vec<FixtureInstance> =
            serde_json::from_str(&text).map_err(|e| FixtureError::Parse {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(Fixtures {
            dir: dir.to_path_buf(),
            instances: instances.into_iter().filter(|i| !i.large).collect(),
        })
    }

    /// The study with this alias or Study Instance UID.
    pub fn study(&self, alias_or_uid: &str) -> Option<FixtureStudy<'_>> {
        let instances: Vec<&FixtureInstance> = self
            .instances
            .iter()
            .filter(|i| i.study_alias == alias_or_uid || i.study_uid == alias_or_uid)
            .collect();
        let first = instances.first()?;
        Some(FixtureStudy {
            alias: first.study_alias.as_str(),
            uid: first.study_uid.as_str(),
            instances,
        })
    }

    /// Every study, in index order.
    pub fn studies(&self) -> Vec<FixtureStudy<'_>> {
        let mut seen: Vec<&str> = Vec::new();
        for i in &self.instances {
            if !seen.contains(&i.study_uid.as_str()) {
                seen.push(&i.study_uid);
            }
        }
        seen.into_iter().filter_map(|uid| self.study(uid)).collect()
    }

    /// Absolute path of an instance's stored file.
    pub fn file(&self, instance: &FixtureInstance) -> PathBuf {
        self.dir.join(&instance.path)
    }
}
