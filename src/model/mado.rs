//! MADO (IHE RAD "Manifest-based Access to DICOM Objects", Rev 1.1 Trial Implementation): the
//! two manifest formats.
//!
//! [`build_mado_kos`] writes the DICOM KOS "Manifest with Description" of a fixture study (MADO
//! §6.X.2, TID 2010 + TID 1600); [`fhir_manifest`] writes its FHIR twin, the MadoFhirBundle of the
//! MADO IG (`https://profiles.ihe.net/RAD/MADO`, CI build 0.1.0); [`library_series`] reads the
//! Image Library of a manifest. The MADO rules and the comparisons of a manifest with its twin,
//! its envelope and the holdings are in `checks::mado::rules`.

mod fhir_build;
mod kos_build;
mod library;

use serde::Serialize;

pub use fhir_build::{fhir_datetime, fhir_manifest};
pub use kos_build::{build_mado_kos, target_region};
pub use library::{library_codes, library_series, LibraryInstance, LibrarySeries};

/// Canonical of the MadoFhirBundle profile (MADO IG, CI build).
pub const MADO_FHIR_BUNDLE: &str =
    "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoFhirBundle";
/// Canonical of the MadoDicomKosDocumentReference profile.
pub const MADO_KOS_DOCREF: &str =
    "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoDicomKosDocumentReference";
/// URL of the Retrieve Location UID extension on MadoWadoEndpoint.
pub const RETRIEVE_LOCATION_UID_EXT: &str =
    "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoRetrieveLocationUIDExtension";
/// URL of the anatomical region extension on MadoImagingStudy.
pub const ANATOMICAL_REGION_EXT: &str =
    "https://profiles.ihe.net/RAD/MADO/StructureDefinition/MadoAnatomicalRegionExtension";
/// DCM coding system in FHIR.
pub const DCM_SYSTEM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// DICOM UID registry system the MADO IG profiles name (`DCMUID`).
pub const DCMUID_SYSTEM: &str = "http://dicom.nema.org/resources/ontology/DCMUID";
/// DICOM UID registry system the MADO IG generated examples use (`DICOM_UIDs`).
pub const DICOM_UIDS_SYSTEM: &str = "http://dicom.nema.org/resources/CodeSystem/DICOM_UIDs";
/// Identifier system of DICOM UIDs.
pub const URN_DICOM_UID: &str = "urn:dicom:uid";

/// Which code table the MADO-specific concepts of the KOS use (a deployment option).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeTable {
    /// The Trial Implementation temporary codes `(MADOTEMP001, 99IHE, …)` of MADO Rev 1.1.
    #[default]
    MadoTi,
    /// The DCM codes of DICOM CP-2595. The final code values are not assigned yet, so this writes
    /// the CP's placeholders `ddd001`, `ddd002`, … with scheme `DCM`; replace them when the CP is
    /// final text.
    DicomFinal,
}

impl CodeTable {
    /// (code value, scheme) of MADO temporary concept number `n` (1 = title, 2 = Series
    /// Description, 3 = Series Date, 4 = Series Time, 7 = Number of Series Related Instances,
    /// 9 = Number of Study Related Series).
    pub fn code(self, n: u8) -> (String, &'static str) {
        match self {
            CodeTable::MadoTi => (format!("MADOTEMP{n:03}"), "99IHE"),
            CodeTable::DicomFinal => (format!("ddd{n:03}"), "DCM"),
        }
    }
}

/// What [`build_mado_kos`] and [`fhir_manifest`] need beyond the study itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadoOptions {
    /// Code table of the MADO concepts.
    pub code_table: CodeTable,
    /// Retrieve Location UID (0040,E011) written on every series (MADO R+).
    pub retrieve_location_uid: String,
    /// Retrieve URL (0008,1190): the WADO-RS base URI, when the deployment uses URL addressing.
    pub retrieve_url: Option<String>,
    /// OID of the Patient ID assigning authority (Issuer of Patient ID Qualifiers).
    pub issuer_of_patient_id: String,
    /// OID of the accession number assigning authority.
    pub accession_issuer: String,
    /// Institution Name (0008,0080).
    pub institution_name: String,
    /// Manufacturer (0008,0070) of the manifest creator.
    pub manufacturer: String,
    /// Timezone Offset From UTC (0008,0201), `+hhmm` / `-hhmm`.
    pub timezone_offset: String,
    /// Root for the manifest's own UIDs; `None` gives `2.25.` UUID-derived UIDs. Either way the
    /// UIDs are a hash of the study UID, so the same study always gives the same manifest.
    pub uid_root: Option<String>,
    /// Content Date (0008,0023), `YYYYMMDD`.
    pub content_date: String,
    /// Content Time (0008,0033), `HHMMSS`.
    pub content_time: String,
    /// Study Time (0008,0030): the fixture index carries no study time.
    pub study_time: String,
}

impl Default for MadoOptions {
    fn default() -> MadoOptions {
        MadoOptions {
            code_table: CodeTable::MadoTi,
            retrieve_location_uid: "1.3.6.1.4.1.21367.13.80.110".to_string(),
            retrieve_url: None,
            issuer_of_patient_id: "1.3.6.1.4.1.21367.13.20.1000".to_string(),
            accession_issuer: "1.3.6.1.4.1.21367.13.20.2000".to_string(),
            institution_name: "IHE Harness Hospital".to_string(),
            manufacturer: "ihe-harness".to_string(),
            timezone_offset: "+0000".to_string(),
            uid_root: None,
            content_date: "20260101".to_string(),
            content_time: "120000".to_string(),
            study_time: "000000".to_string(),
        }
    }
}

/// Errors of [`build_mado_kos`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MadoError {
    /// The study cannot give a manifest.
    #[error("cannot build MADO manifest: {0}")]
    Spec(String),
    /// The underlying KOS builder failed.
    #[error(transparent)]
    Kos(#[from] crate::model::kos::KosError),
    /// Re-encoding the manifest failed.
    #[error("cannot encode MADO manifest: {0}")]
    Write(String),
}
