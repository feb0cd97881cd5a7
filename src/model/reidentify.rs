//! Re-identified copies of the fixture instances: the same objects under fresh UIDs.
//!
//! A store scenario (STOW-RS RAD-108, C-STORE) must store instances the SUT has not seen: in load
//! mode the SUT already holds the fixture studies, and a server may refuse or flag a second copy
//! of an instance it holds (PS3.4 §B.2.3 lets a Storage SCP warn or fail on a duplicate SOP
//! Instance; PS3.18 §10.5.3 lets an origin server answer it with a warning or a failure). A copy
//! with new Study, Series and SOP Instance UIDs (and the Media Storage SOP Instance UID of its File
//! Meta Information, PS3.10 §7.1) is a new object to every SUT, while its content, transfer syntax
//! and pixel data stay those of the fixture.
//!
//! The UIDs are `2.25.` UIDs (PS3.5 §B.2) drawn from a seed of the run and the old UID, so the
//! instances of one series stay in one new series, and a second run against the same SUT gets
//! UIDs of its own. The copies also belong to a patient of their own (Patient ID `IHE-COPY-…`,
//! one per map): stored into an archive, they must not become studies of the fixture patients,
//! whose searches other scenarios judge at the same time.
//!
//! The fixtures are the project's own files, not SUT bytes, so they are read with dicom-object
//! directly.

use std::collections::BTreeMap;
use std::io::Cursor;

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::OpenFileOptions;

/// The new UID of every old one, for one set of copies.
#[derive(Debug, Clone)]
pub struct UidMap {
    seed: String,
    map: BTreeMap<String, String>,
}

impl UidMap {
    /// A map whose new UIDs are drawn from `seed`; use a seed no earlier run used (see
    /// [`run_seed`]) so that the copies are new to the SUT.
    pub fn new(seed: impl Into<String>) -> UidMap {
        UidMap {
            seed: seed.into(),
            map: BTreeMap::new(),
        }
    }

    /// The new UID of `old` (the same for every call with the same `old`).
    pub fn uid(&mut self, old: &str) -> String {
        let old = old.trim_end_matches(['\0', ' ']);
        if let Some(u) = self.map.get(old) {
            return u.clone();
        }
        let new = crate::model::kos::seeded_uid(&format!("{}/{old}", self.seed));
        self.map.insert(old.to_string(), new.clone());
        new
    }

    /// The Patient ID of the copies made through this map (LO, at most 64 characters).
    pub fn patient_id(&self) -> String {
        let digits: String = crate::model::kos::seeded_uid(&format!("{}/patient", self.seed))
            .chars()
            .filter(char::is_ascii_digit)
            .skip(2)
            .take(16)
            .collect();
        format!("IHE-COPY-{digits}")
    }

    /// The new UID given to `old`, if it was given one.
    pub fn get(&self, old: &str) -> Option<&str> {
        self.map.get(old).map(String::as_str)
    }
}

/// A seed that no other run shares: the time of day in nanoseconds and the process id.
pub fn run_seed() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("ihe-harness-run/{nanos}/{}", std::process::id())
}

/// A re-identified copy.
#[derive(Debug, Clone)]
pub struct Copy {
    /// The PS3.10 file (preamble, `DICM`, File Meta Information, data set), ready to store.
    pub bytes: Vec<u8>,
    /// Its Study Instance UID.
    pub study_uid: String,
    /// Its Series Instance UID.
    pub series_uid: String,
    /// Its SOP Instance UID.
    pub sop_uid: String,
    /// Its Patient ID.
    pub patient_id: String,
}

/// Why a copy could not be made (a harness error: the fixture is the project's own).
#[derive(Debug, thiserror::Error)]
#[error("cannot re-identify the fixture: {0}")]
pub struct ReidentifyError(String);

/// A copy of the PS3.10 file `file` with its Study, Series and SOP Instance UIDs (and the
/// Media Storage SOP Instance UID) replaced through `map`, of the map's own patient. UIDs inside sequences (a manifest's
/// references) are left as they are: copy images, not manifests.
pub fn reidentify(file: &[u8], map: &mut UidMap) -> Result<Copy, ReidentifyError> {
    let body = match file.get(128..132) {
        Some(b"DICM") => &file[128..],
        _ => file,
    };
    let mut obj = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(Cursor::new(body))
        .map_err(|e| ReidentifyError(e.to_string()))?;
    let mut new = |tag, name: &str| -> Result<String, ReidentifyError> {
        let old = obj
            .element(tag)
            .ok()
            .and_then(|e| e.to_str().ok())
            .map(|s| s.into_owned())
            .ok_or_else(|| ReidentifyError(format!("the fixture has no {name}")))?;
        Ok(map.uid(&old))
    };
    let study_uid = new(tags::STUDY_INSTANCE_UID, "Study Instance UID")?;
    let series_uid = new(tags::SERIES_INSTANCE_UID, "Series Instance UID")?;
    let sop_uid = new(tags::SOP_INSTANCE_UID, "SOP Instance UID")?;
    for (tag, uid) in [
        (tags::STUDY_INSTANCE_UID, &study_uid),
        (tags::SERIES_INSTANCE_UID, &series_uid),
        (tags::SOP_INSTANCE_UID, &sop_uid),
    ] {
        obj.put(DataElement::new(
            tag,
            VR::UI,
            PrimitiveValue::from(uid.as_str()),
        ));
    }
    let patient_id = map.patient_id();
    obj.put(DataElement::new(
        tags::PATIENT_ID,
        VR::LO,
        PrimitiveValue::from(patient_id.as_str()),
    ));
    obj.put(DataElement::new(
        tags::PATIENT_NAME,
        VR::PN,
        PrimitiveValue::from("IHE^Harness Copy"),
    ));
    obj.meta_mut().media_storage_sop_instance_uid = sop_uid.clone();
    obj.meta_mut().update_information_group_length();
    let mut bytes = Vec::with_capacity(file.len() + 256);
    obj.write_all(&mut bytes)
        .map_err(|e| ReidentifyError(e.to_string()))?;
    Ok(Copy {
        bytes,
        study_uid,
        series_uid,
        sop_uid,
        patient_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dicom_part;
    use crate::model::fixtures::Fixtures;

    fn fixtures() -> Fixtures {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        Fixtures::load(&dir).expect("fixtures")
    }

    #[test]
    fn every_fixture_gets_new_uids_and_keeps_its_content() {
        let fx = fixtures();
        let mut map = UidMap::new("test-seed");
        for study in fx.studies() {
            // Manifests reference other instances by UID; only images are copied this way.
            for inst in study.instances.iter().filter(|i| !i.kos) {
                let file = std::fs::read(fx.file(inst)).expect("fixture");
                let copy = reidentify(&file, &mut map).expect("copy");
                assert_ne!(copy.sop_uid, inst.sop_uid);
                assert_eq!(Some(copy.study_uid.as_str()), map.get(&inst.study_uid));
                assert_eq!(Some(copy.series_uid.as_str()), map.get(&inst.series_uid));
                assert!(copy.patient_id.starts_with("IHE-COPY-"));
                assert_ne!(copy.patient_id, inst.patient_id);
                let head = dicom_part::sniff(&copy.bytes).expect("a PS3.10 file");
                assert_eq!(head.sop_instance.as_deref(), Some(copy.sop_uid.as_str()));
                assert_eq!(
                    head.transfer_syntax.as_deref(),
                    Some(inst.transfer_syntax.as_str()),
                    "{}",
                    inst.path
                );
                // Only the UIDs differ: the size changes by their lengths at most.
                let delta = copy.bytes.len().abs_diff(file.len());
                assert!(delta < 512, "{}: {delta} bytes", inst.path);
            }
        }
    }

    #[test]
    fn the_same_seed_and_uid_give_the_same_new_uid_and_another_seed_another() {
        let mut a = UidMap::new("a");
        let mut b = UidMap::new("b");
        assert_eq!(a.uid("1.2.3"), a.uid("1.2.3\0"));
        assert_ne!(a.uid("1.2.3"), b.uid("1.2.3"));
        assert_ne!(run_seed(), "");
    }
}
