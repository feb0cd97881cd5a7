//! Key Object Selection (KOS) documents as imaging manifests: parse and build.
//!
//! In XDS-I.b the manifest that an Imaging Document Source registers (RAD-68) and a consumer
//! retrieves (ITI-43) is a DICOM Key Object Selection Document stored as a PS3.10 file: the Key
//! Object Selection Document IOD of DICOM PS3.3 §A.35.4 with its Key Object Document Module
//! (§C.17.6), whose content tree follows PS3.16 TID 2010 "Key Object Selection", constrained by IHE
//! RAD TF-2 §4.68.4.1.2 (RAD-68; cited as RAD TF-3 §4.68 before the 2023 reorganisation) for the
//! XDS-I.b manifest. MADO (IHE RAD supplement "Manifest-based Access to DICOM Objects", Rev 1.1
//! Trial Implementation, §6.X.2) adds a second, stricter set of constraints on the same document.
//! Pinned editions: DICOM 2026b
//! (<https://dicom.nema.org/medical/dicom/2026b/output/chtml/part03/sect_A.35.4.html>,
//! <https://dicom.nema.org/medical/dicom/2026b/output/chtml/part03/sect_C.17.6.html>,
//! <https://dicom.nema.org/medical/dicom/2026b/output/chtml/part16/chapter_A.html>), IHE RAD TF
//! 2023-06-15 and MADO Rev 1.1 (<https://www.ihe.net/resources/technical_frameworks/#radiology>).
//!
//! [`parse`] (`parse.rs`) reads what a system under test sent into a [`Manifest`] without judging
//! it; [`build`] (`build.rs`) writes the manifest the simulated Imaging Document Source publishes.
//! The manifest rules of XDS-I.b and MADO that judge a [`Manifest`] are in `checks::kos::rules`.

use std::collections::BTreeSet;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_dictionary_std::uids;
use dicom_object::file::ReadPreamble;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject, OpenFileOptions};
use serde::Serialize;

/// SOP Class UID of the Key Object Selection Document Storage SOP class (PS3.4 Annex B).
pub const KOS_SOP_CLASS: &str = uids::KEY_OBJECT_SELECTION_DOCUMENT_STORAGE;
/// Transfer syntax [`build`] writes: Explicit VR Little Endian.
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = uids::EXPLICIT_VR_LITTLE_ENDIAN;
/// Coding Scheme Designator of the DICOM Controlled Terminology (PS3.16).
pub const DCM: &str = "DCM";
/// Code Value of (113030, DCM, "Manifest"), the XDS-I.b document title (CID 7010).
pub const MANIFEST_TITLE: &str = "113030";
/// Code Meaning of [`MANIFEST_TITLE`].
pub const MANIFEST_TITLE_MEANING: &str = "Manifest";
/// MADO Trial Implementation title code, (MADOTEMP001, 99IHE, "Manifest with Description").
pub const MADO_TITLE_TEMP: &str = "MADOTEMP001";
/// Coding scheme of the MADO temporary codes.
pub const IHE_TEMP_SCHEME: &str = "99IHE";
/// Code Meaning of the MADO title, under both its temporary and its CP-2595 code.
pub const MADO_TITLE_MEANING: &str = "Manifest with Description";
/// Mapping resource of DICOM templates.
pub const DCMR: &str = "DCMR";
/// Template Identifier of TID 2010 "Key Object Selection".
pub const TID_KEY_OBJECT_SELECTION: &str = "2010";
/// (113012, DCM, "Key Object Description"), TID 2010 row 7.
pub const KEY_OBJECT_DESCRIPTION: &str = "113012";
/// (111028, DCM, "Image Library"), the root of TID 1600 that MADO includes.
pub const IMAGE_LIBRARY: &str = "111028";
/// (126200, DCM, "Image Library Group"), one per series in TID 1600.
pub const IMAGE_LIBRARY_GROUP: &str = "126200";
/// (121139, DCM, "Modality") in TID 1600.
pub const MODALITY_CONCEPT: &str = "121139";
/// (123014, DCM, "Target Region") in TID 1600.
pub const TARGET_REGION: &str = "123014";
/// (112002, DCM, "Series Instance UID") in TID 1602.
pub const SERIES_INSTANCE_UID_CONCEPT: &str = "112002";
/// MADO "Number of Study Related Series" (temporary code).
pub const NUMBER_OF_STUDY_RELATED_SERIES: &str = "MADOTEMP009";
/// MADO "Number of Series Related Instances" (temporary code).
pub const NUMBER_OF_SERIES_RELATED_INSTANCES: &str = "MADOTEMP007";
/// CP-2595 placeholder (DCM) of "Number of Study Related Series"; the final code is not assigned.
pub const CP2595_NUMBER_OF_STUDY_RELATED_SERIES: &str = "ddd009";
/// CP-2595 placeholder (DCM) of "Number of Series Related Instances"; the final code is not assigned.
pub const CP2595_NUMBER_OF_SERIES_RELATED_INSTANCES: &str = "ddd007";
/// SCT codes of CID IHE-MADO1 "High-Level Anatomic Regions and Systems" (MADO-SUP §6.X.6.4).
pub const MADO_HIGH_LEVEL_REGIONS: &[&str] = &[
    "63337009",
    "38266002",
    "53120007",
    "61685007",
    "67734004",
    "774007",
    "113257007",
    "80891009",
    "76752008",
    "1141981001",
];

/// Deepest content tree [`parse`] descends into; deeper items are reported, not followed.
const MAX_CONTENT_DEPTH: usize = 32;

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KosError {
    /// The bytes are not a readable DICOM PS3.10 file.
    #[error("not a readable DICOM PS3.10 file: {0}")]
    Read(String),
    /// The manifest specification cannot give a valid manifest.
    #[error("cannot build manifest: {field}: {message}")]
    Spec {
        /// Offending field of [`ManifestSpec`].
        field: &'static str,
        /// Why.
        message: String,
    },
    /// Encoding the built data set failed.
    #[error("cannot encode manifest: {0}")]
    Write(String),
}

/// A coded entry: Code Value (or Long Code Value / URN Code Value), Coding Scheme Designator and
/// Code Meaning (PS3.3 §8.8, Table 8.8-1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Code {
    /// Code Value (0008,0100), else Long Code Value (0008,0119), else URN Code Value (0008,0120).
    pub value: String,
    /// Coding Scheme Designator (0008,0102).
    pub scheme: String,
    /// Code Meaning (0008,0104).
    pub meaning: String,
}

impl Code {
    /// A code from its three parts.
    pub fn new(value: &str, scheme: &str, meaning: &str) -> Code {
        Code {
            value: value.to_string(),
            scheme: scheme.to_string(),
            meaning: meaning.to_string(),
        }
    }

    /// True when value and scheme match (meanings are not compared: PS3.3 §8.8 lets them vary).
    pub fn is(&self, value: &str, scheme: &str) -> bool {
        self.value == value && self.scheme == scheme
    }
}

/// An HL7v2 Hierarchic Designator item (PS3.3 Table 10-17): Local Namespace Entity ID, Universal
/// Entity ID and its type. Used by the Issuer of Patient ID Qualifiers and Issuer of Accession
/// Number sequences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HierarchicDesignator {
    /// Local Namespace Entity ID (0040,0031).
    pub local_namespace_entity_id: Option<String>,
    /// Universal Entity ID (0040,0032).
    pub universal_entity_id: Option<String>,
    /// Universal Entity ID Type (0040,0033), e.g. `ISO`.
    pub universal_entity_id_type: Option<String>,
}

/// One item of Other Patient IDs Sequence (0010,1002).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OtherPatientId {
    /// Patient ID (0010,0020).
    pub id: Option<String>,
    /// Issuer of Patient ID (0010,0021).
    pub issuer: Option<String>,
}

/// Patient Module (PS3.3 §C.7.1.1) attributes the manifest rules use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Patient {
    /// Patient ID (0010,0020).
    pub id: Option<String>,
    /// Issuer of Patient ID (0010,0021).
    pub issuer: Option<String>,
    /// Issuer of Patient ID Qualifiers Sequence (0010,0024) items.
    pub issuer_qualifiers: Vec<HierarchicDesignator>,
    /// Patient's Name (0010,0010), in its DICOM PN form.
    pub name: Option<String>,
    /// Patient's Birth Date (0010,0030).
    pub birth_date: Option<String>,
    /// Patient's Sex (0010,0040).
    pub sex: Option<String>,
    /// Other Patient IDs Sequence (0010,1002) items.
    pub other_ids: Vec<OtherPatientId>,
}

/// General Study Module (PS3.3 §C.7.2.1) attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Study {
    /// Study Instance UID (0020,000D).
    pub instance_uid: Option<String>,
    /// Study ID (0020,0010).
    pub id: Option<String>,
    /// Accession Number (0008,0050).
    pub accession_number: Option<String>,
    /// Issuer of Accession Number Sequence (0008,0051) items.
    pub accession_issuers: Vec<HierarchicDesignator>,
    /// Study Date (0008,0020).
    pub date: Option<String>,
    /// Study Time (0008,0030).
    pub time: Option<String>,
    /// Study Description (0008,1030).
    pub description: Option<String>,
    /// Referring Physician's Name (0008,0090).
    pub referring_physician: Option<String>,
}

/// Key Object Document Series Module (PS3.3 §C.17.6.1) attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Series {
    /// Series Instance UID (0020,000E).
    pub instance_uid: Option<String>,
    /// Series Number (0020,0011).
    pub number: Option<String>,
    /// Modality (0008,0060); `KO` for a KOS.
    pub modality: Option<String>,
    /// Series Description (0008,103E).
    pub description: Option<String>,
}

/// General Equipment Module (PS3.3 §C.7.5.1) attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Equipment {
    /// Manufacturer (0008,0070).
    pub manufacturer: Option<String>,
    /// Institution Name (0008,0080).
    pub institution_name: Option<String>,
}

/// Content Template Sequence (0040,A504) item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TemplateId {
    /// Mapping Resource (0008,0105), `DCMR` for DICOM templates.
    pub mapping_resource: Option<String>,
    /// Template Identifier (0040,DB00), `2010` for a KOS.
    pub identifier: Option<String>,
}

/// One SOP instance listed in a Hierarchical SOP Instance Reference Macro (PS3.3 Table C.17-3),
/// flattened: the study and series attributes are repeated on each of their instances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReferencedInstance {
    /// Study Instance UID (0020,000D) of the study item.
    pub study_uid: String,
    /// Series Instance UID (0020,000E) of the series item.
    pub series_uid: String,
    /// Referenced SOP Class UID (0008,1150).
    pub sop_class: String,
    /// Referenced SOP Instance UID (0008,1155).
    pub sop_instance: String,
    /// Retrieve AE Title (0008,0054) of the series item.
    pub retrieve_ae_title: Option<String>,
    /// Retrieve Location UID (0040,E011) of the series item; in XDS-I.b the Imaging Document
    /// Source's repositoryUniqueId.
    pub retrieve_location_uid: Option<String>,
    /// Retrieve URL (0008,1190) of the series item; a WADO-RS base URI under MADO.
    pub retrieve_url: Option<String>,
}

/// A SOP reference held by a content item (Referenced SOP Sequence (0008,1199) of an IMAGE,
/// COMPOSITE or WAVEFORM item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SopReference {
    /// Referenced SOP Class UID (0008,1150).
    pub sop_class: String,
    /// Referenced SOP Instance UID (0008,1155).
    pub sop_instance: String,
}

/// One SR content item (PS3.3 §C.17.3) below the document root, with its children.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContentItem {
    /// Relationship Type (0040,A010).
    pub relationship_type: Option<String>,
    /// Value Type (0040,A040).
    pub value_type: Option<String>,
    /// Concept Name Code Sequence (0040,A043), first item.
    pub concept_name: Option<Code>,
    /// The value of TEXT, UIDREF, PNAME, DATE, TIME, DATETIME and NUM items (for NUM the
    /// Numeric Value (0040,A30A) of the Measured Value Sequence).
    pub value: Option<String>,
    /// Concept Code Sequence (0040,A168) of CODE items, first item.
    pub code: Option<Code>,
    /// Referenced SOP Sequence (0008,1199) of IMAGE, COMPOSITE and WAVEFORM items.
    pub references: Vec<SopReference>,
    /// Purpose of Reference Code Sequence (0040,A170) is present.
    pub has_purpose_of_reference: bool,
    /// Referenced Content Item Identifier (0040,DB73) is present: a by-reference relationship.
    pub by_reference: bool,
    /// Content Sequence (0040,A730) of this item.
    pub children: Vec<ContentItem>,
}

impl ContentItem {
    /// True when the item's concept name is (value, scheme).
    pub fn concept_is(&self, value: &str, scheme: &str) -> bool {
        self.concept_name
            .as_ref()
            .is_some_and(|c| c.is(value, scheme))
    }

    /// True for the value types that reference SOP instances (TID 2010 rows 8–10).
    pub fn is_sop_reference(&self) -> bool {
        matches!(
            self.value_type.as_deref(),
            Some("IMAGE" | "COMPOSITE" | "WAVEFORM")
        )
    }
}

/// A root-level IMAGE, COMPOSITE or WAVEFORM item (TID 2010 rows 8–10), flattened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ContentReference {
    /// Value Type: `IMAGE`, `COMPOSITE` or `WAVEFORM`.
    pub value_type: String,
    /// Referenced SOP Class UID (0008,1150).
    pub sop_class: String,
    /// Referenced SOP Instance UID (0008,1155).
    pub sop_instance: String,
    /// The item carries a Purpose of Reference Code Sequence (0040,A170).
    pub has_purpose_of_reference: bool,
}

/// One item of Referenced Request Sequence (0040,A370).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReferencedRequest {
    /// Study Instance UID (0020,000D).
    pub study_uid: Option<String>,
    /// Accession Number (0008,0050).
    pub accession_number: Option<String>,
    /// Issuer of Accession Number Sequence (0008,0051) items.
    pub accession_issuers: Vec<HierarchicDesignator>,
    /// Placer Order Number / Imaging Service Request (0040,2016).
    pub placer_order_number: Option<String>,
    /// Order Placer Identifier Sequence (0040,0026) items.
    pub order_placer_identifiers: Vec<HierarchicDesignator>,
}

/// A Key Object Selection Document as read from a PS3.10 file. Absent attributes are `None`,
/// empty ones too (type 2 attributes with no value); `checks::kos::rules::validate` judges them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// Transfer Syntax UID (0002,0010) of the file.
    pub transfer_syntax_uid: String,
    /// Media Storage SOP Class UID (0002,0002).
    pub media_storage_sop_class_uid: Option<String>,
    /// Media Storage SOP Instance UID (0002,0003).
    pub media_storage_sop_instance_uid: Option<String>,
    /// SOP Class UID (0008,0016).
    pub sop_class_uid: Option<String>,
    /// SOP Instance UID (0008,0018).
    pub sop_instance_uid: Option<String>,
    /// Specific Character Set (0008,0005).
    pub specific_character_set: Option<String>,
    /// Timezone Offset From UTC (0008,0201).
    pub timezone_offset_from_utc: Option<String>,
    /// Patient Module.
    pub patient: Patient,
    /// General Study Module.
    pub study: Study,
    /// Key Object Document Series Module.
    pub series: Series,
    /// General Equipment Module.
    pub equipment: Equipment,
    /// Instance Number (0020,0013).
    pub instance_number: Option<String>,
    /// Content Date (0008,0023).
    pub content_date: Option<String>,
    /// Content Time (0008,0033).
    pub content_time: Option<String>,
    /// Value Type (0040,A040) of the root content item.
    pub root_value_type: Option<String>,
    /// Number of items in the root Concept Name Code Sequence (0040,A043).
    pub concept_name_items: usize,
    /// Document title: the root Concept Name Code Sequence, first item.
    pub document_title: Option<Code>,
    /// Continuity Of Content (0040,A050).
    pub continuity_of_content: Option<String>,
    /// Content Template Sequence (0040,A504), first item.
    pub template: Option<TemplateId>,
    /// Current Requested Procedure Evidence Sequence (0040,A375) is present.
    pub evidence_present: bool,
    /// Current Requested Procedure Evidence Sequence, flattened.
    pub evidence: Vec<ReferencedInstance>,
    /// Structural gaps found in the evidence sequence (missing UIDs or sequences), as
    /// human-readable paths; `checks::kos::rules::validate` reports them under KOS-05.
    pub evidence_defects: Vec<String>,
    /// Identical Documents Sequence (0040,A525) is present.
    pub identical_documents_present: bool,
    /// Identical Documents Sequence, flattened.
    pub identical_documents: Vec<ReferencedInstance>,
    /// Pertinent Other Evidence Sequence (0040,A385), flattened.
    pub other_evidence: Vec<ReferencedInstance>,
    /// Referenced Request Sequence (0040,A370) items.
    pub referenced_requests: Vec<ReferencedRequest>,
    /// Content Sequence (0040,A730) of the root: the whole content tree.
    pub content: Vec<ContentItem>,
    /// Root-level IMAGE / COMPOSITE / WAVEFORM items (TID 2010 rows 8–10), flattened.
    pub content_references: Vec<ContentReference>,
    /// TEXT of the root-level (113012, DCM, "Key Object Description") item.
    pub key_object_description: Option<String>,
}

impl Manifest {
    /// Distinct Study Instance UIDs of the evidence sequence, in order of appearance.
    pub fn evidence_studies(&self) -> Vec<&str> {
        distinct(self.evidence.iter().map(|r| r.study_uid.as_str()))
    }

    /// Distinct Series Instance UIDs of the evidence sequence, in order of appearance.
    pub fn evidence_series(&self) -> Vec<&str> {
        distinct(self.evidence.iter().map(|r| r.series_uid.as_str()))
    }

    /// True when the document title is the MADO "Manifest with Description" (temporary 99IHE
    /// code, or the DCM code CP-2595 will assign, recognised by its meaning).
    pub fn is_mado_title(&self) -> bool {
        self.document_title.as_ref().is_some_and(|t| {
            t.is(MADO_TITLE_TEMP, IHE_TEMP_SCHEME)
                || (t.scheme == DCM && t.meaning == MADO_TITLE_MEANING)
        })
    }

    /// Every SOP reference anywhere in the content tree, with the item's value type.
    pub fn all_content_references(&self) -> Vec<(&str, &SopReference)> {
        let mut out = Vec::new();
        fn walk<'a>(items: &'a [ContentItem], out: &mut Vec<(&'a str, &'a SopReference)>) {
            for item in items {
                let vt = item.value_type.as_deref().unwrap_or("");
                out.extend(item.references.iter().map(|r| (vt, r)));
                walk(&item.children, out);
            }
        }
        walk(&self.content, &mut out);
        out
    }
}

fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    it.filter(|s| seen.insert(*s)).collect()
}

mod build;
mod parse;

pub use build::*;
pub use parse::*;

// ---------------------------------------------------------------------------------------------
// Vocabulary and UIDs
// ---------------------------------------------------------------------------------------------

/// Storage SOP classes whose instances are multi-frame, for KOS-16 (PS3.4 Annex B; the
/// enhanced, legacy converted, multi-frame, tomosynthesis, NM and whole slide classes).
pub const MULTIFRAME_SOP_CLASSES: &[&str] = &[
    "1.2.840.10008.5.1.4.1.1.2.1",
    "1.2.840.10008.5.1.4.1.1.2.2",
    "1.2.840.10008.5.1.4.1.1.3.1",
    "1.2.840.10008.5.1.4.1.1.4.1",
    "1.2.840.10008.5.1.4.1.1.4.4",
    "1.2.840.10008.5.1.4.1.1.6.2",
    "1.2.840.10008.5.1.4.1.1.7.1",
    "1.2.840.10008.5.1.4.1.1.7.2",
    "1.2.840.10008.5.1.4.1.1.7.3",
    "1.2.840.10008.5.1.4.1.1.7.4",
    "1.2.840.10008.5.1.4.1.1.12.1.1",
    "1.2.840.10008.5.1.4.1.1.12.2.1",
    "1.2.840.10008.5.1.4.1.1.13.1.3",
    "1.2.840.10008.5.1.4.1.1.20",
    "1.2.840.10008.5.1.4.1.1.77.1.6",
    "1.2.840.10008.5.1.4.1.1.128.1",
    "1.2.840.10008.5.1.4.1.1.130",
];

/// (121140, DCM, "Number of Frames") in TID 1601.
pub const NUMBER_OF_FRAMES: &str = "121140";

/// (113609, DCM, "Instance Number") in TID 1601.
pub const INSTANCE_NUMBER_CONCEPT: &str = "113609";

/// A `2.25.` UID (PS3.5 §B.2: a UUID's 128 bits as one decimal component) from the first 16 bytes
/// of the SHA-256 of `seed`: the same seed always gives the same UID.
pub fn seeded_uid(seed: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let mut b = [0u8; 16];
    for (i, x) in d.as_ref().iter().take(16).enumerate() {
        b[i] = *x;
    }
    format!("2.25.{}", u128::from_be_bytes(b))
}

/// Check a UID against PS3.5 §9.1: 1 to 64 characters, components of digits separated by dots,
/// no empty component, no leading zero in a multi-digit component.
pub fn check_uid(uid: &str) -> Result<(), &'static str> {
    if uid.is_empty() {
        return Err("empty");
    }
    if uid.len() > 64 {
        return Err("longer than 64 characters");
    }
    for component in uid.split('.') {
        if component.is_empty() {
            return Err("empty component");
        }
        if !component.bytes().all(|b| b.is_ascii_digit()) {
            return Err("character other than a digit or a dot");
        }
        if component.len() > 1 && component.starts_with('0') {
            return Err("component with a leading zero");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `kos` fuzz target: an item of defined length 13 whose bytes the decoder reads
    /// as the start of an OB element of 875 MB. The walk follows the item's length as the decoder
    /// does, so the length is refused before anything is allocated.
    #[test]
    fn a_length_past_its_item_is_refused_before_decoding() {
        let bytes = include_bytes!("../../../fuzz/regressions/kos-oom-nested-ob-length");
        let err = parse(bytes).expect_err("refused");
        assert!(
            err.to_string().contains("past the end of its item"),
            "{err}"
        );
    }
}
