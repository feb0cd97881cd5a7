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
//! [`parse`] reads what a system under test sent into a [`Manifest`] without judging it; [`build`]
//! writes the manifest the simulated Imaging Document Source publishes. The manifest rules of
//! XDS-I.b and MADO that judge a [`Manifest`] are in `checks::kos::rules`.

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

// ---------------------------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------------------------

/// Read a KOS from the bytes of a DICOM PS3.10 file (with or without the 128-byte preamble).
///
/// Only decoding failures are errors; a document that is a readable DICOM file but a poor
/// manifest parses, and `checks::kos::rules::validate` says what is wrong with it.
pub fn parse(bytes: &[u8]) -> Result<Manifest, KosError> {
    let body = match bytes.get(128..132) {
        Some(b"DICM") => &bytes[128..],
        _ => bytes,
    };
    if !body.starts_with(b"DICM") {
        return Err(KosError::Read(
            "no DICM prefix at offset 0 or 128".to_string(),
        ));
    }
    crate::model::dicom_guard::check_part10_lengths(body)
        .map_err(|e| KosError::Read(e.to_string()))?;
    // The bytes come from a system under test: a decoder panic must become a clean error, not
    // abort the scenario.
    let read = catch_unwind(AssertUnwindSafe(|| {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .from_reader(Cursor::new(body))
    }));
    let file = match read {
        Ok(Ok(file)) => file,
        Ok(Err(e)) => return Err(KosError::Read(e.to_string())),
        Err(_) => return Err(KosError::Read("the DICOM decoder panicked".to_string())),
    };
    let meta = file.meta();
    let mut m = Manifest {
        transfer_syntax_uid: trim_uid(meta.transfer_syntax()).to_string(),
        media_storage_sop_class_uid: non_empty(trim_uid(&meta.media_storage_sop_class_uid)),
        media_storage_sop_instance_uid: non_empty(trim_uid(&meta.media_storage_sop_instance_uid)),
        ..Manifest::default()
    };
    let obj: &InMemDicomObject = &file;
    read_dataset(obj, &mut m);
    Ok(m)
}

fn read_dataset(obj: &InMemDicomObject, m: &mut Manifest) {
    m.sop_class_uid = text(obj, tags::SOP_CLASS_UID);
    m.sop_instance_uid = text(obj, tags::SOP_INSTANCE_UID);
    m.specific_character_set = text(obj, tags::SPECIFIC_CHARACTER_SET);
    m.timezone_offset_from_utc = text(obj, tags::TIMEZONE_OFFSET_FROM_UTC);
    m.patient = Patient {
        id: text(obj, tags::PATIENT_ID),
        issuer: text(obj, tags::ISSUER_OF_PATIENT_ID),
        issuer_qualifiers: designators(obj, tags::ISSUER_OF_PATIENT_ID_QUALIFIERS_SEQUENCE),
        name: text(obj, tags::PATIENT_NAME),
        birth_date: text(obj, tags::PATIENT_BIRTH_DATE),
        sex: text(obj, tags::PATIENT_SEX),
        other_ids: items(obj, tags::OTHER_PATIENT_I_DS_SEQUENCE)
            .iter()
            .map(|i| OtherPatientId {
                id: text(i, tags::PATIENT_ID),
                issuer: text(i, tags::ISSUER_OF_PATIENT_ID),
            })
            .collect(),
    };
    m.study = Study {
        instance_uid: text(obj, tags::STUDY_INSTANCE_UID),
        id: text(obj, tags::STUDY_ID),
        accession_number: text(obj, tags::ACCESSION_NUMBER),
        accession_issuers: designators(obj, tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE),
        date: text(obj, tags::STUDY_DATE),
        time: text(obj, tags::STUDY_TIME),
        description: text(obj, tags::STUDY_DESCRIPTION),
        referring_physician: text(obj, tags::REFERRING_PHYSICIAN_NAME),
    };
    m.series = Series {
        instance_uid: text(obj, tags::SERIES_INSTANCE_UID),
        number: text(obj, tags::SERIES_NUMBER),
        modality: text(obj, tags::MODALITY),
        description: text(obj, tags::SERIES_DESCRIPTION),
    };
    m.equipment = Equipment {
        manufacturer: text(obj, tags::MANUFACTURER),
        institution_name: text(obj, tags::INSTITUTION_NAME),
    };
    m.instance_number = text(obj, tags::INSTANCE_NUMBER);
    m.content_date = text(obj, tags::CONTENT_DATE);
    m.content_time = text(obj, tags::CONTENT_TIME);
    m.root_value_type = text(obj, tags::VALUE_TYPE);
    let names = items(obj, tags::CONCEPT_NAME_CODE_SEQUENCE);
    m.concept_name_items = names.len();
    m.document_title = names.first().map(code);
    m.continuity_of_content = text(obj, tags::CONTINUITY_OF_CONTENT);
    m.template = items(obj, tags::CONTENT_TEMPLATE_SEQUENCE)
        .first()
        .map(|t| TemplateId {
            mapping_resource: text(t, tags::MAPPING_RESOURCE),
            identifier: text(t, tags::TEMPLATE_IDENTIFIER),
        });

    m.evidence_present = obj
        .get(tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE)
        .is_some();
    m.evidence = hierarchical_references(
        items(obj, tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE),
        "(0040,A375)",
        &mut m.evidence_defects,
    );
    m.identical_documents_present = obj.get(tags::IDENTICAL_DOCUMENTS_SEQUENCE).is_some();
    let mut ignored = Vec::new();
    m.identical_documents = hierarchical_references(
        items(obj, tags::IDENTICAL_DOCUMENTS_SEQUENCE),
        "(0040,A525)",
        &mut ignored,
    );
    m.other_evidence = hierarchical_references(
        items(obj, tags::PERTINENT_OTHER_EVIDENCE_SEQUENCE),
        "(0040,A385)",
        &mut ignored,
    );
    m.referenced_requests = items(obj, tags::REFERENCED_REQUEST_SEQUENCE)
        .iter()
        .map(|r| ReferencedRequest {
            study_uid: text(r, tags::STUDY_INSTANCE_UID),
            accession_number: text(r, tags::ACCESSION_NUMBER),
            accession_issuers: designators(r, tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE),
            placer_order_number: text(r, tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST),
            order_placer_identifiers: designators(r, tags::ORDER_PLACER_IDENTIFIER_SEQUENCE),
        })
        .collect();

    m.content = content_items(items(obj, tags::CONTENT_SEQUENCE), 0);
    m.content_references = m
        .content
        .iter()
        .filter(|i| i.is_sop_reference())
        .flat_map(|i| {
            i.references.iter().map(|r| ContentReference {
                value_type: i.value_type.clone().unwrap_or_default(),
                sop_class: r.sop_class.clone(),
                sop_instance: r.sop_instance.clone(),
                has_purpose_of_reference: i.has_purpose_of_reference,
            })
        })
        .collect();
    m.key_object_description = m
        .content
        .iter()
        .find(|i| {
            i.value_type.as_deref() == Some("TEXT") && i.concept_is(KEY_OBJECT_DESCRIPTION, DCM)
        })
        .and_then(|i| i.value.clone());
}

/// Flatten a Hierarchical SOP Instance Reference Macro sequence, noting structural gaps.
fn hierarchical_references(
    studies: &[InMemDicomObject],
    seq: &str,
    defects: &mut Vec<String>,
) -> Vec<ReferencedInstance> {
    let mut out = Vec::new();
    for (si, study) in studies.iter().enumerate() {
        let at = format!("{seq} item {}", si + 1);
        let study_uid = text(study, tags::STUDY_INSTANCE_UID);
        if study_uid.is_none() {
            defects.push(format!("{at}: Study Instance UID (0020,000D) missing"));
        }
        let series_items = items(study, tags::REFERENCED_SERIES_SEQUENCE);
        if series_items.is_empty() {
            defects.push(format!(
                "{at}: Referenced Series Sequence (0008,1115) missing or empty"
            ));
        }
        for (ri, series) in series_items.iter().enumerate() {
            let at = format!("{at} > (0008,1115) item {}", ri + 1);
            let series_uid = text(series, tags::SERIES_INSTANCE_UID);
            if series_uid.is_none() {
                defects.push(format!("{at}: Series Instance UID (0020,000E) missing"));
            }
            let sops = items(series, tags::REFERENCED_SOP_SEQUENCE);
            if sops.is_empty() {
                defects.push(format!(
                    "{at}: Referenced SOP Sequence (0008,1199) missing or empty"
                ));
            }
            for (oi, sop) in sops.iter().enumerate() {
                let at = format!("{at} > (0008,1199) item {}", oi + 1);
                let sop_class = text(sop, tags::REFERENCED_SOP_CLASS_UID);
                let sop_instance = text(sop, tags::REFERENCED_SOP_INSTANCE_UID);
                if sop_class.is_none() {
                    defects.push(format!(
                        "{at}: Referenced SOP Class UID (0008,1150) missing"
                    ));
                }
                if sop_instance.is_none() {
                    defects.push(format!(
                        "{at}: Referenced SOP Instance UID (0008,1155) missing"
                    ));
                }
                out.push(ReferencedInstance {
                    study_uid: study_uid.clone().unwrap_or_default(),
                    series_uid: series_uid.clone().unwrap_or_default(),
                    sop_class: sop_class.unwrap_or_default(),
                    sop_instance: sop_instance.unwrap_or_default(),
                    retrieve_ae_title: text(series, tags::RETRIEVE_AE_TITLE),
                    retrieve_location_uid: text(series, tags::RETRIEVE_LOCATION_UID),
                    retrieve_url: text(series, tags::RETRIEVE_URL),
                });
            }
        }
    }
    out
}

fn content_items(seq: &[InMemDicomObject], depth: usize) -> Vec<ContentItem> {
    seq.iter()
        .map(|item| {
            let value_type = text(item, tags::VALUE_TYPE);
            let value = match value_type.as_deref() {
                Some("TEXT") => text(item, tags::TEXT_VALUE),
                Some("UIDREF") => text(item, tags::UID),
                Some("PNAME") => text(item, tags::PERSON_NAME),
                Some("DATE") => text(item, tags::DATE),
                Some("TIME") => text(item, tags::TIME),
                Some("DATETIME") => text(item, tags::DATE_TIME),
                Some("NUM") => items(item, tags::MEASURED_VALUE_SEQUENCE)
                    .first()
                    .and_then(|v| text(v, tags::NUMERIC_VALUE)),
                _ => None,
            };
            let children = if depth + 1 < MAX_CONTENT_DEPTH {
                content_items(items(item, tags::CONTENT_SEQUENCE), depth + 1)
            } else {
                Vec::new()
            };
            ContentItem {
                relationship_type: text(item, tags::RELATIONSHIP_TYPE),
                concept_name: items(item, tags::CONCEPT_NAME_CODE_SEQUENCE)
                    .first()
                    .map(code),
                code: items(item, tags::CONCEPT_CODE_SEQUENCE).first().map(code),
                references: items(item, tags::REFERENCED_SOP_SEQUENCE)
                    .iter()
                    .map(|r| SopReference {
                        sop_class: text(r, tags::REFERENCED_SOP_CLASS_UID).unwrap_or_default(),
                        sop_instance: text(r, tags::REFERENCED_SOP_INSTANCE_UID)
                            .unwrap_or_default(),
                    })
                    .collect(),
                has_purpose_of_reference: item
                    .get(tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE)
                    .is_some(),
                by_reference: item.get(tags::REFERENCED_CONTENT_ITEM_IDENTIFIER).is_some(),
                value_type,
                value,
                children,
            }
        })
        .collect()
}

/// A string attribute, trimmed of DICOM padding; `None` when absent, empty or not text.
fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = obj.get(tag)?.to_str().ok()?;
    non_empty(value.trim_matches(|c: char| c == '\0' || c.is_whitespace()))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn trim_uid(s: &str) -> &str {
    s.trim_end_matches(['\0', ' '])
}

/// Items of a sequence; empty when absent or not a sequence.
/// The items of a sequence element, none when it is absent or not a sequence.
pub(crate) fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or(&[])
}

fn code(item: &InMemDicomObject) -> Code {
    Code {
        value: text(item, tags::CODE_VALUE)
            .or_else(|| text(item, tags::LONG_CODE_VALUE))
            .or_else(|| text(item, tags::URN_CODE_VALUE))
            .unwrap_or_default(),
        scheme: text(item, tags::CODING_SCHEME_DESIGNATOR).unwrap_or_default(),
        meaning: text(item, tags::CODE_MEANING).unwrap_or_default(),
    }
}

fn designators(obj: &InMemDicomObject, tag: Tag) -> Vec<HierarchicDesignator> {
    items(obj, tag)
        .iter()
        .map(|i| HierarchicDesignator {
            local_namespace_entity_id: text(i, tags::LOCAL_NAMESPACE_ENTITY_ID),
            universal_entity_id: text(i, tags::UNIVERSAL_ENTITY_ID),
            universal_entity_id_type: text(i, tags::UNIVERSAL_ENTITY_ID_TYPE),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------------------------

/// What [`build`] needs to write an XDS-I.b manifest. Every UID is supplied by the caller, so the
/// same specification always gives the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestSpec {
    /// SOP Instance UID (0008,0018) of the manifest; also the XDS document uniqueId.
    pub sop_instance_uid: String,
    /// Series Instance UID (0020,000E) of the manifest's own KO series.
    pub series_instance_uid: String,
    /// Series Number (0020,0011) of the KO series.
    pub series_number: u32,
    /// Instance Number (0020,0013).
    pub instance_number: u32,
    /// Content Date (0008,0023), `YYYYMMDD`.
    pub content_date: String,
    /// Content Time (0008,0033), `HHMMSS`.
    pub content_time: String,
    /// Patient attributes; empty fields are written as empty type 2 attributes.
    pub patient: Patient,
    /// Study attributes; `instance_uid` is required and every instance must belong to it.
    pub study: Study,
    /// Manufacturer (0008,0070) of the manifest creator.
    pub manufacturer: Option<String>,
    /// Institution Name (0008,0080).
    pub institution_name: Option<String>,
    /// Timezone Offset From UTC (0008,0201), e.g. `+0100`.
    pub timezone_offset_from_utc: Option<String>,
    /// Text of a (113012, DCM, "Key Object Description") item, if any.
    pub key_object_description: Option<String>,
    /// Referenced Request Sequence (0040,A370) items.
    pub referenced_requests: Vec<ReferencedRequest>,
    /// The instances to share, with their retrieve attributes (which must agree within a
    /// series, since DICOM carries them at series level).
    pub instances: Vec<ReferencedInstance>,
}

/// Content item value type for a reference to an instance of `sop_class`: WAVEFORM for the
/// waveform storage classes, IMAGE for image storage classes, COMPOSITE otherwise (TID 2010
/// rows 8–10). Classification is by the UID's registered branch, so unknown or private classes
/// are COMPOSITE, which is always allowed.
pub fn reference_value_type(sop_class: &str) -> &'static str {
    const STORAGE: &str = "1.2.840.10008.5.1.4.1.1.";
    let Some(rest) = sop_class.strip_prefix(STORAGE) else {
        return "COMPOSITE";
    };
    let first = rest.split('.').next().unwrap_or("");
    match first {
        "9" => "WAVEFORM",
        // Presentation states, SR, encapsulated documents, raw data and registrations, real
        // world value mapping, surfaces, measurements, RT objects other than RT Image, MR
        // spectroscopy (4.2), protocols, annotations.
        "11" | "88" | "104" | "67" | "68" | "78" | "79" | "80" | "82" | "90" | "91" | "200"
        | "201" => "COMPOSITE",
        "66" => match rest {
            "66.4" | "66.7" => "IMAGE",
            _ => "COMPOSITE",
        },
        "481" => match rest {
            "481.1" => "IMAGE",
            _ => "COMPOSITE",
        },
        "4" if rest.starts_with("4.2") => "COMPOSITE",
        _ => "IMAGE",
    }
}

/// Write an XDS-I.b manifest: a KOS with title (113030, DCM, "Manifest") following TID 2010,
/// modality KO, the Current Requested Procedure Evidence Sequence carrying the retrieve
/// attributes at series level, and one IMAGE / COMPOSITE / WAVEFORM item per instance, as a
/// PS3.10 file in Explicit VR Little Endian.
pub fn build(spec: &ManifestSpec) -> Result<Vec<u8>, KosError> {
    let study_uid = check_spec(spec)?;
    let series = group_series(spec)?;

    let mut obj = InMemDicomObject::new_empty();
    let mut put = |tag: Tag, vr: VR, value: &str| {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    // SOP Common
    put(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    put(tags::SOP_CLASS_UID, VR::UI, KOS_SOP_CLASS);
    put(tags::SOP_INSTANCE_UID, VR::UI, &spec.sop_instance_uid);
    if let Some(tz) = &spec.timezone_offset_from_utc {
        put(tags::TIMEZONE_OFFSET_FROM_UTC, VR::SH, tz);
    }
    // Patient
    let p = &spec.patient;
    put(tags::PATIENT_NAME, VR::PN, opt(&p.name));
    put(tags::PATIENT_ID, VR::LO, opt(&p.id));
    if let Some(issuer) = &p.issuer {
        put(tags::ISSUER_OF_PATIENT_ID, VR::LO, issuer);
    }
    put(tags::PATIENT_BIRTH_DATE, VR::DA, opt(&p.birth_date));
    put(tags::PATIENT_SEX, VR::CS, opt(&p.sex));
    // General Study
    let s = &spec.study;
    put(tags::STUDY_INSTANCE_UID, VR::UI, study_uid);
    put(tags::STUDY_DATE, VR::DA, opt(&s.date));
    put(tags::STUDY_TIME, VR::TM, opt(&s.time));
    put(
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        opt(&s.referring_physician),
    );
    put(tags::STUDY_ID, VR::SH, opt(&s.id));
    put(tags::ACCESSION_NUMBER, VR::SH, opt(&s.accession_number));
    if let Some(d) = &s.description {
        put(tags::STUDY_DESCRIPTION, VR::LO, d);
    }
    // Key Object Document Series
    put(tags::MODALITY, VR::CS, "KO");
    put(tags::SERIES_INSTANCE_UID, VR::UI, &spec.series_instance_uid);
    put(tags::SERIES_NUMBER, VR::IS, &spec.series_number.to_string());
    // General Equipment
    put(tags::MANUFACTURER, VR::LO, opt(&spec.manufacturer));
    if let Some(i) = &spec.institution_name {
        put(tags::INSTITUTION_NAME, VR::LO, i);
    }
    // Key Object Document
    put(
        tags::INSTANCE_NUMBER,
        VR::IS,
        &spec.instance_number.to_string(),
    );
    put(tags::CONTENT_DATE, VR::DA, &spec.content_date);
    put(tags::CONTENT_TIME, VR::TM, &spec.content_time);
    // SR Document Content, root
    put(tags::VALUE_TYPE, VR::CS, "CONTAINER");
    put(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE");

    obj.put(sequence(
        tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE,
        vec![],
    ));
    if !p.issuer_qualifiers.is_empty() {
        obj.put(designator_sequence(
            tags::ISSUER_OF_PATIENT_ID_QUALIFIERS_SEQUENCE,
            &p.issuer_qualifiers,
        ));
    }
    if !p.other_ids.is_empty() {
        let others = p
            .other_ids
            .iter()
            .map(|o| {
                let mut item = InMemDicomObject::new_empty();
                item.put(str_element(tags::PATIENT_ID, VR::LO, opt(&o.id)));
                if let Some(issuer) = &o.issuer {
                    item.put(str_element(tags::ISSUER_OF_PATIENT_ID, VR::LO, issuer));
                }
                item.put(str_element(tags::TYPE_OF_PATIENT_ID, VR::CS, "TEXT"));
                item
            })
            .collect();
        obj.put(sequence(tags::OTHER_PATIENT_I_DS_SEQUENCE, others));
    }
    if !s.accession_issuers.is_empty() {
        obj.put(designator_sequence(
            tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE,
            &s.accession_issuers,
        ));
    }
    if !spec.referenced_requests.is_empty() {
        let reqs = spec
            .referenced_requests
            .iter()
            .map(|r| {
                let mut item = InMemDicomObject::new_empty();
                item.put(str_element(
                    tags::STUDY_INSTANCE_UID,
                    VR::UI,
                    opt(&r.study_uid),
                ));
                item.put(str_element(
                    tags::ACCESSION_NUMBER,
                    VR::SH,
                    opt(&r.accession_number),
                ));
                if !r.accession_issuers.is_empty() {
                    item.put(designator_sequence(
                        tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE,
                        &r.accession_issuers,
                    ));
                }
                item.put(sequence(tags::REFERENCED_STUDY_SEQUENCE, vec![]));
                item.put(str_element(
                    tags::REQUESTED_PROCEDURE_DESCRIPTION,
                    VR::LO,
                    "",
                ));
                item.put(sequence(tags::REQUESTED_PROCEDURE_CODE_SEQUENCE, vec![]));
                item.put(str_element(tags::REQUESTED_PROCEDURE_ID, VR::SH, ""));
                item.put(str_element(
                    tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST,
                    VR::LO,
                    opt(&r.placer_order_number),
                ));
                if !r.order_placer_identifiers.is_empty() {
                    item.put(designator_sequence(
                        tags::ORDER_PLACER_IDENTIFIER_SEQUENCE,
                        &r.order_placer_identifiers,
                    ));
                }
                item.put(str_element(
                    tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST,
                    VR::LO,
                    "",
                ));
                item
            })
            .collect();
        obj.put(sequence(tags::REFERENCED_REQUEST_SEQUENCE, reqs));
    }

    let series_items = series
        .iter()
        .map(|(first, instances)| {
            let mut item = InMemDicomObject::new_empty();
            item.put(str_element(
                tags::SERIES_INSTANCE_UID,
                VR::UI,
                &first.series_uid,
            ));
            if let Some(ae) = &first.retrieve_ae_title {
                item.put(str_element(tags::RETRIEVE_AE_TITLE, VR::AE, ae));
            }
            if let Some(loc) = &first.retrieve_location_uid {
                item.put(str_element(tags::RETRIEVE_LOCATION_UID, VR::UI, loc));
            }
            if let Some(url) = &first.retrieve_url {
                item.put(str_element(tags::RETRIEVE_URL, VR::UR, url));
            }
            item.put(sequence(
                tags::REFERENCED_SOP_SEQUENCE,
                instances.iter().map(|i| sop_item(i)).collect(),
            ));
            item
        })
        .collect();
    let mut study_item = InMemDicomObject::new_empty();
    study_item.put(str_element(tags::STUDY_INSTANCE_UID, VR::UI, study_uid));
    study_item.put(sequence(tags::REFERENCED_SERIES_SEQUENCE, series_items));
    obj.put(sequence(
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        vec![study_item],
    ));

    obj.put(sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code_item(MANIFEST_TITLE, DCM, MANIFEST_TITLE_MEANING)],
    ));
    let mut template = InMemDicomObject::new_empty();
    template.put(str_element(tags::MAPPING_RESOURCE, VR::CS, DCMR));
    template.put(str_element(
        tags::TEMPLATE_IDENTIFIER,
        VR::CS,
        TID_KEY_OBJECT_SELECTION,
    ));
    obj.put(sequence(tags::CONTENT_TEMPLATE_SEQUENCE, vec![template]));

    let mut content = Vec::new();
    if let Some(description) = &spec.key_object_description {
        let mut item = InMemDicomObject::new_empty();
        item.put(str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"));
        item.put(str_element(tags::VALUE_TYPE, VR::CS, "TEXT"));
        item.put(sequence(
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            vec![code_item(
                KEY_OBJECT_DESCRIPTION,
                DCM,
                "Key Object Description",
            )],
        ));
        item.put(str_element(tags::TEXT_VALUE, VR::UT, description));
        content.push(item);
    }
    for (_, instances) in &series {
        for i in instances {
            let mut item = InMemDicomObject::new_empty();
            item.put(str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"));
            item.put(str_element(
                tags::VALUE_TYPE,
                VR::CS,
                reference_value_type(&i.sop_class),
            ));
            item.put(sequence(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item(i)]));
            content.push(item);
        }
    }
    obj.put(sequence(tags::CONTENT_SEQUENCE, content));

    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(KOS_SOP_CLASS)
                .media_storage_sop_instance_uid(spec.sop_instance_uid.as_str()),
        )
        .map_err(|e| KosError::Write(e.to_string()))?;
    let mut out = Vec::new();
    file.write_all(&mut out)
        .map_err(|e| KosError::Write(e.to_string()))?;
    Ok(out)
}

fn check_spec(spec: &ManifestSpec) -> Result<&str, KosError> {
    let bad = |field: &'static str, message: String| Err(KosError::Spec { field, message });
    let Some(study_uid) = spec.study.instance_uid.as_deref() else {
        return bad("study.instance_uid", "required".to_string());
    };
    for (field, uid) in [
        ("sop_instance_uid", spec.sop_instance_uid.as_str()),
        ("series_instance_uid", spec.series_instance_uid.as_str()),
        ("study.instance_uid", study_uid),
    ] {
        if let Err(why) = check_uid(uid) {
            return bad(field, format!("{}: {why}", crate::evidence::quote(uid)));
        }
    }
    if spec.instances.is_empty() {
        return bad(
            "instances",
            "a manifest references at least one instance".to_string(),
        );
    }
    for i in &spec.instances {
        if i.study_uid != study_uid {
            return bad(
                "instances",
                format!(
                    "instance {} is in study {}, not in the manifest's study {study_uid}; \
                     build one manifest per study",
                    i.sop_instance, i.study_uid
                ),
            );
        }
        for uid in [
            i.series_uid.as_str(),
            i.sop_class.as_str(),
            i.sop_instance.as_str(),
        ]
        .into_iter()
        .chain(i.retrieve_location_uid.as_deref())
        {
            if let Err(why) = check_uid(uid) {
                return bad(
                    "instances",
                    format!("{}: {why}", crate::evidence::quote(uid)),
                );
            }
        }
    }
    Ok(study_uid)
}

/// Group instances by series in order of first appearance; the series' retrieve attributes
/// come from its first instance and must agree with the others.
fn group_series(
    spec: &ManifestSpec,
) -> Result<Vec<(&ReferencedInstance, Vec<&ReferencedInstance>)>, KosError> {
    let mut out: Vec<(&ReferencedInstance, Vec<&ReferencedInstance>)> = Vec::new();
    for i in &spec.instances {
        match out.iter_mut().find(|(f, _)| f.series_uid == i.series_uid) {
            Some((first, list)) => {
                if first.retrieve_ae_title != i.retrieve_ae_title
                    || first.retrieve_location_uid != i.retrieve_location_uid
                    || first.retrieve_url != i.retrieve_url
                {
                    return Err(KosError::Spec {
                        field: "instances",
                        message: format!(
                            "series {}: retrieve attributes differ between instances {} and {}",
                            i.series_uid, first.sop_instance, i.sop_instance
                        ),
                    });
                }
                list.push(i);
            }
            None => out.push((i, vec![i])),
        }
    }
    Ok(out)
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// A string element; an empty value is written as an empty element (type 2).
pub(crate) fn str_element(tag: Tag, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    if value.is_empty() {
        DataElement::empty(tag, vr)
    } else {
        DataElement::new(tag, vr, PrimitiveValue::from(value))
    }
}

/// A sequence element of `items`.
pub(crate) fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

/// A Code Sequence item (value, scheme designator, meaning).
pub(crate) fn code_item(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::CODE_VALUE, VR::SH, value),
        str_element(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
        str_element(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

/// A Referenced SOP Sequence item for an instance.
pub(crate) fn sop_item(i: &ReferencedInstance) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::REFERENCED_SOP_CLASS_UID, VR::UI, &i.sop_class),
        str_element(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, &i.sop_instance),
    ])
}

fn designator_sequence(tag: Tag, list: &[HierarchicDesignator]) -> DataElement<InMemDicomObject> {
    let items = list
        .iter()
        .map(|d| {
            let mut item = InMemDicomObject::new_empty();
            if let Some(v) = &d.local_namespace_entity_id {
                item.put(str_element(tags::LOCAL_NAMESPACE_ENTITY_ID, VR::UT, v));
            }
            if let Some(v) = &d.universal_entity_id {
                item.put(str_element(tags::UNIVERSAL_ENTITY_ID, VR::UT, v));
            }
            if let Some(v) = &d.universal_entity_id_type {
                item.put(str_element(tags::UNIVERSAL_ENTITY_ID_TYPE, VR::CS, v));
            }
            item
        })
        .collect();
    sequence(tag, items)
}

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
        let bytes = include_bytes!("../../fuzz/regressions/kos-oom-nested-ob-length");
        let err = parse(bytes).expect_err("refused");
        assert!(
            err.to_string().contains("past the end of its item"),
            "{err}"
        );
    }
}
