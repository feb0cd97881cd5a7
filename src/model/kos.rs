//! Key Object Selection (KOS) documents as imaging manifests: parse, build and validate.
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
//! writes the manifest the simulated Imaging Document Source publishes; [`validate`] judges a
//! [`Manifest`] against [`Rules`] and returns [`KosViolation`]s, each carrying a stable rule id and
//! the requirement it enforces (the rule table is [`RULES`]).

use std::collections::{BTreeMap, BTreeSet};
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
/// empty ones too (type 2 attributes with no value); [`validate`] judges them.
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
    /// human-readable paths; [`validate`] reports them under KOS-05.
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
/// manifest parses, and [`validate`] says what is wrong with it.
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
fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
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

fn sop_item(i: &ReferencedInstance) -> InMemDicomObject {
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
// Validate
// ---------------------------------------------------------------------------------------------

/// How bad a breach is: Error for SHALL-level requirements, Warning for SHOULD-level ones and
/// for rules that depend on deployment choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    /// A SHALL is broken.
    Error,
    /// A SHOULD is broken, or a deployment-dependent expectation is not met.
    Warning,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
        })
    }
}

/// Which profile's manifest rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Profile {
    /// XDS-I.b manifest (RAD-68), title (113030, DCM, "Manifest").
    XdsIb,
    /// MADO manifest with description: the XDS-I.b-independent KOS rules plus MADO §6.X.2.
    Mado,
}

/// What [`validate`] checks: the profile, plus facts about the deployment that some rules
/// compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Profile whose rules apply.
    pub profile: Profile,
    /// The Imaging Document Source's repositoryUniqueId: when known, every Retrieve Location UID
    /// must equal it (KOS-08).
    pub repository_unique_id: Option<String>,
    /// The consumer retrieves by C-MOVE (RAD-16), so a Retrieve AE Title is expected (KOS-09).
    pub expect_retrieve_ae_title: bool,
}

impl Rules {
    /// The XDS-I.b manifest rules.
    pub fn xds_i_b() -> Rules {
        Rules {
            profile: Profile::XdsIb,
            repository_unique_id: None,
            expect_retrieve_ae_title: false,
        }
    }

    /// The MADO manifest rules.
    pub fn mado() -> Rules {
        Rules {
            profile: Profile::Mado,
            ..Rules::xds_i_b()
        }
    }

    /// Require every Retrieve Location UID to equal this repositoryUniqueId.
    pub fn with_repository_unique_id(mut self, uid: impl Into<String>) -> Rules {
        self.repository_unique_id = Some(uid.into());
        self
    }

    /// Expect a Retrieve AE Title on every series (C-MOVE retrieval).
    pub fn expecting_retrieve_ae_title(mut self) -> Rules {
        self.expect_retrieve_ae_title = true;
        self
    }
}

impl Default for Rules {
    fn default() -> Rules {
        Rules::xds_i_b()
    }
}

/// A manifest rule, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id, `KOS-nn`.
    pub id: &'static str,
    /// Document and section the rule enforces.
    pub requirement: &'static str,
    /// The requirement, in one line.
    pub title: &'static str,
    /// Level under [`Profile::XdsIb`]; `None` when the rule does not apply there.
    pub xds_i_b: Option<Level>,
    /// Level under [`Profile::Mado`]; `None` when the rule does not apply there.
    pub mado: Option<Level>,
}

impl Rule {
    /// Level under `profile`, `None` when the rule does not apply.
    pub fn level(&self, profile: Profile) -> Option<Level> {
        match profile {
            Profile::XdsIb => self.xds_i_b,
            Profile::Mado => self.mado,
        }
    }
}

const E: Option<Level> = Some(Level::Error);
const W: Option<Level> = Some(Level::Warning);

/// Every manifest rule [`validate`] evaluates.
pub const RULES: &[Rule] = &[
    Rule {
        id: "KOS-01",
        requirement: "DICOM PS3.10 §7.1; DICOM PS3.3 §A.35.4; IHE RAD TF-2 §4.68.4.1.2.1 (RAD68-005)",
        title: "Media Storage SOP Class/Instance UID equal SOP Class/Instance UID, and the SOP Class is Key Object Selection Document Storage",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-02",
        requirement: "DICOM PS3.3 §C.17.6.1, §C.17.6.2",
        title: "Modality is KO; Series Number, Instance Number, Content Date and Content Time are present",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-03",
        requirement: "DICOM PS3.3 §C.17.3; DICOM PS3.16 TID 2010",
        title: "The root is a CONTAINER with one Concept Name item and Continuity Of Content SEPARATE; a Content Template, if given, is DCMR 2010",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-04",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1",
        title: "The document title is (113030, DCM, \"Manifest\")",
        xds_i_b: E,
        mado: None,
    },
    Rule {
        id: "KOS-05",
        requirement: "DICOM PS3.3 §C.17.6.2 (Table C.17-3); IHE RAD TF-2 §4.68.4.1.2.1.1 (RAD68-008/009)",
        title: "Current Requested Procedure Evidence Sequence has items, each with Study Instance UID and series with Series Instance UID and SOP class and instance",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-06",
        requirement: "DICOM PS3.16 TID 2010; DICOM PS3.3 §C.17.6.2.1",
        title: "Every instance in the evidence sequence is referenced by an IMAGE/COMPOSITE/WAVEFORM item, and every referenced instance is in the evidence sequence",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-07",
        requirement: "DICOM PS3.3 §C.17.6.2",
        title: "Identical Documents Sequence is present when the evidence spans more than one study",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-08",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1",
        title: "Every referenced series has a Retrieve Location UID, equal to the Imaging Document Source's repositoryUniqueId when known",
        xds_i_b: E,
        mado: None,
    },
    Rule {
        id: "KOS-09",
        requirement: "IHE RAD TF-2 §4.68.4.1.2.1 (RAD-16 retrieval)",
        title: "Every referenced series has a Retrieve AE Title when retrieval is by C-MOVE",
        xds_i_b: W,
        mado: None,
    },
    Rule {
        id: "KOS-10",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.14; DICOM PS3.3 Table C.17-3a",
        title: "A Retrieve URL is an absolute http(s) URL; under MADO a WADO-RS base URI",
        xds_i_b: W,
        mado: E,
    },
    Rule {
        id: "KOS-11",
        requirement: "DICOM PS3.3 §A.35.4.3.1.2; DICOM PS3.16 TID 2010 (CP-2595)",
        title: "No by-reference relationships; no Purpose of Reference on the root-level references",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-12",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9; DICOM CP-2595 (TID 2010 row 11)",
        title: "Title is \"Manifest with Description\", TID 1600 Image Library is included, and all references are in the manifest's study",
        xds_i_b: None,
        mado: E,
    },
    Rule {
        id: "KOS-13",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.5–6.X.2.14",
        title: "MADO R+ attributes are present",
        xds_i_b: None,
        mado: E,
    },
    Rule {
        id: "KOS-14",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.6",
        title: "Issuer of Accession Number Sequence is present if and only if Accession Number is not empty",
        xds_i_b: None,
        mado: E,
    },
    Rule {
        id: "KOS-15",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9 (Tables 6.X.2.9-1, 6.X.2.9-2)",
        title: "The Image Library has modality and target region codes, the series count of the evidence, and one group per series with its instance count",
        xds_i_b: None,
        mado: E,
    },
    Rule {
        id: "KOS-17",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.6.4 (CID IHE-MADO1)",
        title: "Library-level Target Region codes come from CID IHE-MADO1",
        xds_i_b: None,
        mado: W,
    },
    Rule {
        id: "KOS-18",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.2",
        title: "The manifest's Study Instance UID is the study of every referenced instance",
        xds_i_b: W,
        mado: E,
    },
    Rule {
        id: "KOS-21",
        requirement: "DICOM PS3.3 §C.7.1.1; IHE RAD TF-2 §4.68.4.1.2.3 (sourcePatientId)",
        title: "Patient ID is present and not empty",
        xds_i_b: E,
        mado: E,
    },
    Rule {
        id: "KOS-22",
        requirement: "DICOM PS3.5 §9.1",
        title: "Every UID is at most 64 characters of digits and dots, with no empty component and no leading zero",
        xds_i_b: E,
        mado: E,
    },
    // KOS-16 and KOS-19 come last so that the indices of the rules above stay put (the XDS-I.b
    // check registry in `checks::kos` indexes this table).
    Rule {
        id: "KOS-16",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9 (Table 6.X.2.9-3)",
        title: "Image Library entries of multi-frame SOP classes give the Number of Frames; Number of Frames and Instance Number values are integers",
        xds_i_b: None,
        mado: W,
    },
    Rule {
        id: "KOS-19",
        requirement: "IHE RAD MADO Rev 1.1 §6.X.2.13",
        title: "A Display URI uses private creator IHE_MADO_PRIVATE in group 000D with VR UR and an absolute URL (judged on the file by model::mado::display_uri_violations)",
        xds_i_b: None,
        mado: W,
    },
];

/// The registry entry of rule `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// One breach of a manifest rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KosViolation {
    /// Rule id, `KOS-nn`.
    pub rule: &'static str,
    /// Document and section the rule enforces.
    pub requirement: &'static str,
    /// Level under the profile validated against.
    pub level: Level,
    /// What was found, with the expected and the actual value.
    pub message: String,
}

impl std::fmt::Display for KosViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}] {} ({})",
            self.rule, self.level, self.message, self.requirement
        )
    }
}

struct Findings<'a> {
    profile: Profile,
    out: &'a mut Vec<KosViolation>,
}

impl Findings<'_> {
    fn applies(&self, id: &str) -> bool {
        rule(id).and_then(|r| r.level(self.profile)).is_some()
    }

    fn push(&mut self, id: &'static str, message: String) {
        if let Some(r) = rule(id) {
            if let Some(level) = r.level(self.profile) {
                self.out.push(KosViolation {
                    rule: r.id,
                    requirement: r.requirement,
                    level,
                    message,
                });
            }
        }
    }
}

/// Check a manifest against the rules of `rules.profile`. The result is empty for a conforming
/// manifest; callers decide on Error vs Warning.
pub fn validate(m: &Manifest, rules: &Rules) -> Vec<KosViolation> {
    let mut out = Vec::new();
    let mut f = Findings {
        profile: rules.profile,
        out: &mut out,
    };
    kos_01(m, &mut f);
    kos_02(m, &mut f);
    kos_03(m, &mut f);
    if f.applies("KOS-04") {
        kos_04(m, &mut f);
    }
    kos_05(m, &mut f);
    kos_06(m, &mut f);
    kos_07(m, &mut f);
    if f.applies("KOS-08") {
        kos_08(m, rules, &mut f);
    }
    if f.applies("KOS-09") && rules.expect_retrieve_ae_title {
        kos_09(m, &mut f);
    }
    kos_10(m, &mut f);
    kos_11(m, &mut f);
    if rules.profile == Profile::Mado {
        kos_12(m, &mut f);
        kos_13(m, &mut f);
        kos_14(m, &mut f);
        kos_15(m, &mut f);
        kos_16(m, &mut f);
        kos_17(m, &mut f);
    }
    kos_18(m, &mut f);
    kos_21(m, &mut f);
    kos_22(m, &mut f);
    out
}

fn shown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(absent)")
}

fn kos_01(m: &Manifest, f: &mut Findings) {
    if m.sop_class_uid.as_deref() != Some(KOS_SOP_CLASS) {
        f.push(
            "KOS-01",
            format!(
                "SOP Class UID (0008,0016): expected {KOS_SOP_CLASS}, found {}",
                shown(&m.sop_class_uid)
            ),
        );
    }
    if m.media_storage_sop_class_uid != m.sop_class_uid {
        f.push(
            "KOS-01",
            format!(
                "Media Storage SOP Class UID (0002,0002) {} differs from SOP Class UID (0008,0016) {}",
                shown(&m.media_storage_sop_class_uid),
                shown(&m.sop_class_uid)
            ),
        );
    }
    if m.media_storage_sop_instance_uid != m.sop_instance_uid {
        f.push(
            "KOS-01",
            format!(
                "Media Storage SOP Instance UID (0002,0003) {} differs from SOP Instance UID (0008,0018) {}",
                shown(&m.media_storage_sop_instance_uid),
                shown(&m.sop_instance_uid)
            ),
        );
    }
}

fn kos_02(m: &Manifest, f: &mut Findings) {
    if m.series.modality.as_deref() != Some("KO") {
        f.push(
            "KOS-02",
            format!(
                "Modality (0008,0060): expected KO, found {}",
                shown(&m.series.modality)
            ),
        );
    }
    for (name, v) in [
        ("Series Number (0020,0011)", &m.series.number),
        ("Instance Number (0020,0013)", &m.instance_number),
        ("Content Date (0008,0023)", &m.content_date),
        ("Content Time (0008,0033)", &m.content_time),
    ] {
        if v.is_none() {
            f.push("KOS-02", format!("{name} is absent or empty (type 1)"));
        }
    }
}

fn kos_03(m: &Manifest, f: &mut Findings) {
    if m.root_value_type.as_deref() != Some("CONTAINER") {
        f.push(
            "KOS-03",
            format!(
                "root Value Type (0040,A040): expected CONTAINER, found {}",
                shown(&m.root_value_type)
            ),
        );
    }
    if m.concept_name_items != 1 {
        f.push(
            "KOS-03",
            format!(
                "root Concept Name Code Sequence (0040,A043): expected 1 item, found {}",
                m.concept_name_items
            ),
        );
    }
    if m.continuity_of_content.as_deref() != Some("SEPARATE") {
        f.push(
            "KOS-03",
            format!(
                "Continuity Of Content (0040,A050): expected SEPARATE, found {}",
                shown(&m.continuity_of_content)
            ),
        );
    }
    if let Some(t) = &m.template {
        if t.mapping_resource.as_deref() != Some(DCMR)
            || t.identifier.as_deref() != Some(TID_KEY_OBJECT_SELECTION)
        {
            f.push(
                "KOS-03",
                format!(
                    "Content Template Sequence (0040,A504): expected DCMR 2010, found {} {}",
                    shown(&t.mapping_resource),
                    shown(&t.identifier)
                ),
            );
        }
    }
}

fn show_code(c: &Option<Code>) -> String {
    match c {
        Some(c) => format!("({}, {}, \"{}\")", c.value, c.scheme, c.meaning),
        None => "(absent)".to_string(),
    }
}

fn kos_04(m: &Manifest, f: &mut Findings) {
    if !m
        .document_title
        .as_ref()
        .is_some_and(|t| t.is(MANIFEST_TITLE, DCM))
    {
        f.push(
            "KOS-04",
            format!(
                "document title: expected (113030, DCM, \"Manifest\"), found {}",
                show_code(&m.document_title)
            ),
        );
    }
}

fn kos_05(m: &Manifest, f: &mut Findings) {
    if !m.evidence_present {
        f.push(
            "KOS-05",
            "Current Requested Procedure Evidence Sequence (0040,A375) is absent".to_string(),
        );
        return;
    }
    if m.evidence.is_empty() && m.evidence_defects.is_empty() {
        f.push(
            "KOS-05",
            "Current Requested Procedure Evidence Sequence (0040,A375) lists no instance"
                .to_string(),
        );
    }
    for d in &m.evidence_defects {
        f.push("KOS-05", d.clone());
    }
}

fn kos_06(m: &Manifest, f: &mut Findings) {
    let evidence: BTreeMap<&str, &str> = m
        .evidence
        .iter()
        .filter(|r| !r.sop_instance.is_empty())
        .map(|r| (r.sop_instance.as_str(), r.sop_class.as_str()))
        .collect();
    let root: BTreeSet<&str> = m
        .content_references
        .iter()
        .map(|r| r.sop_instance.as_str())
        .collect();
    for inst in evidence.keys() {
        if !root.contains(inst) {
            f.push(
                "KOS-06",
                format!(
                    "instance {inst} is in the evidence sequence but no root-level IMAGE/COMPOSITE/WAVEFORM item references it"
                ),
            );
        }
    }
    let mut reported = BTreeSet::new();
    for (vt, r) in m.all_content_references() {
        match evidence.get(r.sop_instance.as_str()) {
            None => {
                if reported.insert(r.sop_instance.as_str()) {
                    f.push(
                        "KOS-06",
                        format!(
                            "{vt} item references {} which is not in the evidence sequence (0040,A375)",
                            if r.sop_instance.is_empty() { "(no instance UID)" } else { &r.sop_instance }
                        ),
                    );
                }
            }
            Some(class) if *class != r.sop_class && reported.insert(r.sop_instance.as_str()) => {
                f.push(
                    "KOS-06",
                    format!(
                        "{vt} item references {} as SOP class {}, the evidence sequence says {class}",
                        r.sop_instance, r.sop_class
                    ),
                );
            }
            Some(_) => {}
        }
    }
}

fn kos_07(m: &Manifest, f: &mut Findings) {
    let studies = m.evidence_studies();
    if studies.len() > 1 && !m.identical_documents_present {
        f.push(
            "KOS-07",
            format!(
                "the evidence spans {} studies ({}) but Identical Documents Sequence (0040,A525) is absent",
                studies.len(),
                studies.join(", ")
            ),
        );
    }
}

/// One entry per evidence series: (series UID, first instance of it).
fn evidence_series_attrs(m: &Manifest) -> Vec<(&str, &ReferencedInstance)> {
    let mut seen = BTreeSet::new();
    m.evidence
        .iter()
        .filter(|r| seen.insert((r.study_uid.as_str(), r.series_uid.as_str())))
        .map(|r| (r.series_uid.as_str(), r))
        .collect()
}

fn kos_08(m: &Manifest, rules: &Rules, f: &mut Findings) {
    for (series, r) in evidence_series_attrs(m) {
        match (&r.retrieve_location_uid, &rules.repository_unique_id) {
            (None, _) => f.push(
                "KOS-08",
                format!("series {series}: Retrieve Location UID (0040,E011) is absent"),
            ),
            (Some(found), Some(expected)) if found != expected => f.push(
                "KOS-08",
                format!(
                    "series {series}: Retrieve Location UID (0040,E011) expected {expected} (the repositoryUniqueId), found {found}"
                ),
            ),
            _ => {}
        }
    }
}

fn kos_09(m: &Manifest, f: &mut Findings) {
    for (series, r) in evidence_series_attrs(m) {
        if r.retrieve_ae_title.is_none() {
            f.push(
                "KOS-09",
                format!("series {series}: Retrieve AE Title (0008,0054) is absent, so a C-MOVE consumer cannot retrieve it"),
            );
        }
    }
}

fn kos_10(m: &Manifest, f: &mut Findings) {
    for (series, r) in evidence_series_attrs(m) {
        let Some(url) = &r.retrieve_url else { continue };
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.contains(' ') => {
                if f.profile == Profile::Mado && lower.contains("/studies/") {
                    f.push(
                        "KOS-10",
                        format!(
                            "series {series}: Retrieve URL (0008,1190) {url} is a resource URL; MADO expects the WADO-RS base URI (without /studies/...)"
                        ),
                    );
                }
            }
            _ => f.push(
                "KOS-10",
                format!(
                    "series {series}: Retrieve URL (0008,1190) {url} is not an absolute http(s) URL"
                ),
            ),
        }
    }
}

fn kos_11(m: &Manifest, f: &mut Findings) {
    fn any_by_reference(items: &[ContentItem]) -> bool {
        items
            .iter()
            .any(|i| i.by_reference || any_by_reference(&i.children))
    }
    if any_by_reference(&m.content) {
        f.push(
            "KOS-11",
            "a content item uses a by-reference relationship (Referenced Content Item Identifier (0040,DB73))".to_string(),
        );
    }
    for r in m
        .content_references
        .iter()
        .filter(|r| r.has_purpose_of_reference)
    {
        f.push(
            "KOS-11",
            format!(
                "{} item referencing {} carries a Purpose of Reference Code Sequence (0040,A170)",
                r.value_type, r.sop_instance
            ),
        );
    }
}

fn image_library(m: &Manifest) -> Option<&ContentItem> {
    m.content
        .iter()
        .find(|i| i.value_type.as_deref() == Some("CONTAINER") && i.concept_is(IMAGE_LIBRARY, DCM))
}

fn kos_12(m: &Manifest, f: &mut Findings) {
    if !m.is_mado_title() {
        f.push(
            "KOS-12",
            format!(
                "document title: expected (MADOTEMP001, 99IHE, \"Manifest with Description\") or its CP-2595 DCM code, found {}",
                show_code(&m.document_title)
            ),
        );
    }
    if image_library(m).is_none() {
        f.push(
            "KOS-12",
            "no (111028, DCM, \"Image Library\") CONTAINER (TID 1600) at the root".to_string(),
        );
    }
    if let Some(own) = &m.study.instance_uid {
        for s in m.evidence_studies() {
            if s != own {
                f.push(
                    "KOS-12",
                    format!("evidence study {s} is not the manifest's study {own}"),
                );
            }
        }
    }
}

fn kos_13(m: &Manifest, f: &mut Findings) {
    let mut missing = |what: &str| f.push("KOS-13", format!("{what} is required (R+)"));
    let p = &m.patient;
    match p.issuer_qualifiers.as_slice() {
        [q] => {
            if q.universal_entity_id.is_none() || q.universal_entity_id_type.is_none() {
                missing("Issuer of Patient ID Qualifiers Sequence (0010,0024) > Universal Entity ID (0040,0032) and Type (0040,0033)");
            }
        }
        _ => missing("Issuer of Patient ID Qualifiers Sequence (0010,0024) with a single item"),
    }
    if p.other_ids.is_empty() {
        missing("Other Patient IDs Sequence (0010,1002)");
    } else if p.id.is_some() && !p.other_ids.iter().any(|o| o.id == p.id) {
        missing("Other Patient IDs Sequence (0010,1002) item with the primary Patient ID");
    }
    if m.study.date.is_none() {
        missing("Study Date (0008,0020)");
    }
    if m.study.time.is_none() {
        missing("Study Time (0008,0030)");
    }
    if m.equipment.manufacturer.is_none() {
        missing("Manufacturer (0008,0070)");
    }
    if m.equipment.institution_name.is_none() {
        missing("Institution Name (0008,0080)");
    }
    if m.timezone_offset_from_utc.is_none() {
        missing("Timezone Offset From UTC (0008,0201)");
    }
    if m.referenced_requests.is_empty() {
        missing("Referenced Request Sequence (0040,A370)");
    }
    for (n, r) in m.referenced_requests.iter().enumerate() {
        let n = n + 1;
        if r.study_uid.is_none() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Study Instance UID"
            ));
        }
        if r.accession_number.is_none() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Accession Number"
            ));
        }
        if r.accession_issuers.is_empty() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Issuer of Accession Number Sequence"
            ));
        }
        if r.placer_order_number.is_none() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Placer Order Number / Imaging Service Request (0040,2016)"
            ));
        }
    }
    // MADO defines two addressing modes, "Retrieve Location UID based" and "Retrieve URL
    // based" (X.1.1.2, X.4.1.2); a deployment picks one, so either attribute satisfies R+.
    for (series, r) in evidence_series_attrs(m) {
        if r.retrieve_location_uid.is_none() && r.retrieve_url.is_none() {
            missing(&format!(
                "series {series}: Retrieve Location UID (0040,E011) or Retrieve URL (0008,1190)"
            ));
        }
    }
}

fn kos_14(m: &Manifest, f: &mut Findings) {
    match (&m.study.accession_number, m.study.accession_issuers.is_empty()) {
        (Some(acc), true) => f.push(
            "KOS-14",
            format!("Accession Number {acc} has no Issuer of Accession Number Sequence (0008,0051)"),
        ),
        (None, false) => f.push(
            "KOS-14",
            "Issuer of Accession Number Sequence (0008,0051) is present but Accession Number is empty".to_string(),
        ),
        _ => {}
    }
}

fn kos_15(m: &Manifest, f: &mut Findings) {
    let Some(library) = image_library(m) else {
        return; // KOS-12 reports the missing library
    };
    let has = |items: &[ContentItem], concept: &str| {
        items
            .iter()
            .any(|i| i.concept_is(concept, DCM) && i.code.is_some())
    };
    if !has(&library.children, MODALITY_CONCEPT) {
        f.push(
            "KOS-15",
            "Image Library has no (121139, DCM, \"Modality\") code".to_string(),
        );
    }
    if !has(&library.children, TARGET_REGION) {
        f.push(
            "KOS-15",
            "Image Library has no (123014, DCM, \"Target Region\") code".to_string(),
        );
    }
    let series = m.evidence_series();
    match library
        .children
        .iter()
        .find(|i| {
            i.concept_is(NUMBER_OF_STUDY_RELATED_SERIES, IHE_TEMP_SCHEME)
                || i.concept_is(CP2595_NUMBER_OF_STUDY_RELATED_SERIES, DCM)
        })
        .and_then(|i| i.value.as_deref())
    {
        Some(n) if count_value(n) == Some(series.len()) => {}
        found => f.push(
            "KOS-15",
            format!(
                "Number of Study Related Series: expected {}, found {}",
                series.len(),
                found.unwrap_or("(absent)")
            ),
        ),
    }
    let groups: Vec<&ContentItem> = library
        .children
        .iter()
        .filter(|i| i.concept_is(IMAGE_LIBRARY_GROUP, DCM))
        .collect();
    for s in &series {
        let group = groups.iter().find(|g| {
            g.children.iter().any(|c| {
                c.concept_is(SERIES_INSTANCE_UID_CONCEPT, DCM) && c.value.as_deref() == Some(*s)
            })
        });
        let Some(group) = group else {
            f.push("KOS-15", format!("no Image Library Group for series {s}"));
            continue;
        };
        if !has(&group.children, MODALITY_CONCEPT) {
            f.push(
                "KOS-15",
                format!("Image Library Group of series {s} has no Modality code"),
            );
        }
        let count = m.evidence.iter().filter(|r| r.series_uid == *s).count();
        match group
            .children
            .iter()
            .find(|i| {
                i.concept_is(NUMBER_OF_SERIES_RELATED_INSTANCES, IHE_TEMP_SCHEME)
                    || i.concept_is(CP2595_NUMBER_OF_SERIES_RELATED_INSTANCES, DCM)
            })
            .and_then(|i| i.value.as_deref())
        {
            Some(n) if count_value(n) == Some(count) => {}
            found => f.push(
                "KOS-15",
                format!(
                    "series {s}: Number of Series Related Instances expected {count}, found {}",
                    found.unwrap_or("(absent)")
                ),
            ),
        }
    }
}

/// The count a MADO "Number of ..." item states. NUM items carry it as Numeric Value (`20`);
/// MADO Rev 1.1 Table 6.X.2.9-2 prints "Number of Series Related Instances" with value type TEXT
/// and UNITS, and creators that follow it literally write `(20, UCUM, "instances")`, so the
/// leading number of a TEXT value counts too.
fn count_value(v: &str) -> Option<usize> {
    let v = v.trim().trim_start_matches('(').trim_start();
    let end = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let n: f64 = v[..end].parse().ok()?;
    (n >= 0.0 && n.fract() == 0.0).then_some(n as usize)
}

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

fn kos_16(m: &Manifest, f: &mut Findings) {
    let Some(library) = image_library(m) else {
        return;
    };
    let integer = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| v.trim().parse::<i64>().is_ok() || count_value(v).is_some())
    };
    for group in library
        .children
        .iter()
        .filter(|i| i.concept_is(IMAGE_LIBRARY_GROUP, DCM))
    {
        // Descriptors of an entry are its children (TID 1601) or, as some creators write them,
        // the items just before it.
        let all = group
            .children
            .iter()
            .chain(group.children.iter().flat_map(|c| c.children.iter()));
        for d in all {
            let frames = d.concept_is(NUMBER_OF_FRAMES, DCM);
            if (frames || d.concept_is(INSTANCE_NUMBER_CONCEPT, DCM)) && !integer(&d.value) {
                f.push(
                    "KOS-16",
                    format!(
                        "{} value {} is not an integer",
                        if frames {
                            "Number of Frames"
                        } else {
                            "Instance Number"
                        },
                        shown(&d.value)
                    ),
                );
            }
        }
        let mut frames_before = false;
        for item in &group.children {
            if item.references.is_empty() {
                frames_before |= item.concept_is(NUMBER_OF_FRAMES, DCM);
                continue;
            }
            let has_frames = frames_before
                || item
                    .children
                    .iter()
                    .any(|d| d.concept_is(NUMBER_OF_FRAMES, DCM));
            for r in &item.references {
                if MULTIFRAME_SOP_CLASSES.contains(&r.sop_class.as_str()) && !has_frames {
                    f.push(
                        "KOS-16",
                        format!(
                            "Image Library entry of multi-frame instance {} has no Number of Frames",
                            r.sop_instance
                        ),
                    );
                }
            }
            frames_before = false;
        }
    }
}

fn kos_17(m: &Manifest, f: &mut Findings) {
    let Some(library) = image_library(m) else {
        return;
    };
    for i in library
        .children
        .iter()
        .filter(|i| i.concept_is(TARGET_REGION, DCM))
    {
        if let Some(c) = &i.code {
            if c.scheme != "SCT" || !MADO_HIGH_LEVEL_REGIONS.contains(&c.value.as_str()) {
                f.push(
                    "KOS-17",
                    format!(
                        "Target Region ({}, {}, \"{}\") is not in CID IHE-MADO1",
                        c.value, c.scheme, c.meaning
                    ),
                );
            }
        }
    }
}

fn kos_18(m: &Manifest, f: &mut Findings) {
    let Some(own) = &m.study.instance_uid else {
        return;
    };
    for s in m.evidence_studies() {
        if s != own {
            f.push(
                "KOS-18",
                format!(
                    "referenced study {s} differs from the manifest's Study Instance UID {own}"
                ),
            );
        }
    }
}

fn kos_21(m: &Manifest, f: &mut Findings) {
    if m.patient.id.is_none() {
        f.push(
            "KOS-21",
            "Patient ID (0010,0020) is absent or empty".to_string(),
        );
    }
}

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

fn kos_22(m: &Manifest, f: &mut Findings) {
    let mut uids: Vec<(String, &str)> = [
        (
            "Media Storage SOP Class UID",
            &m.media_storage_sop_class_uid,
        ),
        (
            "Media Storage SOP Instance UID",
            &m.media_storage_sop_instance_uid,
        ),
        ("SOP Class UID", &m.sop_class_uid),
        ("SOP Instance UID", &m.sop_instance_uid),
        ("Study Instance UID", &m.study.instance_uid),
        ("Series Instance UID", &m.series.instance_uid),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_deref().map(|v| (name.to_string(), v)))
    .collect();
    for r in &m.referenced_requests {
        if let Some(v) = &r.study_uid {
            uids.push(("Referenced Request > Study Instance UID".to_string(), v));
        }
    }
    for r in m.evidence.iter().chain(&m.identical_documents) {
        for (name, v) in [
            ("evidence Study Instance UID", r.study_uid.as_str()),
            ("evidence Series Instance UID", r.series_uid.as_str()),
            ("Referenced SOP Class UID", r.sop_class.as_str()),
            ("Referenced SOP Instance UID", r.sop_instance.as_str()),
        ] {
            if !v.is_empty() {
                uids.push((name.to_string(), v));
            }
        }
        if let Some(v) = &r.retrieve_location_uid {
            uids.push(("Retrieve Location UID".to_string(), v));
        }
    }
    for (_, r) in m.all_content_references() {
        for v in [r.sop_class.as_str(), r.sop_instance.as_str()] {
            if !v.is_empty() {
                uids.push(("content item Referenced SOP UID".to_string(), v));
            }
        }
    }
    let mut reported = BTreeSet::new();
    for (name, uid) in uids {
        if let Err(why) = check_uid(uid) {
            if reported.insert(uid) {
                f.push(
                    "KOS-22",
                    format!("{name} {}: {why}", crate::evidence::quote(uid)),
                );
            }
        }
    }
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
    use dicom_object::DefaultDicomObject;

    const STUDY: &str = "2.25.100";
    const SERIES_A: &str = "2.25.101";
    const SERIES_B: &str = "2.25.102";
    const REPO: &str = "1.3.6.1.4.1.21367.13.80.110";

    fn instance(series: &str, n: u32, class: &str) -> ReferencedInstance {
        ReferencedInstance {
            study_uid: STUDY.to_string(),
            series_uid: series.to_string(),
            sop_class: class.to_string(),
            sop_instance: format!("{series}.{n}"),
            retrieve_ae_title: Some("IDS_AE".to_string()),
            retrieve_location_uid: Some(REPO.to_string()),
            retrieve_url: Some("https://ids.example.org/dicomweb".to_string()),
        }
    }

    fn spec() -> ManifestSpec {
        ManifestSpec {
            sop_instance_uid: "2.25.900".to_string(),
            series_instance_uid: "2.25.901".to_string(),
            series_number: 999,
            instance_number: 1,
            content_date: "20260101".to_string(),
            content_time: "120000".to_string(),
            patient: Patient {
                id: Some("PAT-1".to_string()),
                issuer: Some("HOSP".to_string()),
                name: Some("Doe^Jane".to_string()),
                birth_date: Some("19700101".to_string()),
                sex: Some("F".to_string()),
                ..Patient::default()
            },
            study: Study {
                instance_uid: Some(STUDY.to_string()),
                id: Some("S1".to_string()),
                accession_number: Some("ACC1".to_string()),
                date: Some("20251231".to_string()),
                time: Some("101010".to_string()),
                description: Some("CT chest".to_string()),
                ..Study::default()
            },
            manufacturer: Some("ihe-harness".to_string()),
            key_object_description: Some("shared for XDS-I.b".to_string()),
            instances: vec![
                instance(SERIES_A, 1, uids::CT_IMAGE_STORAGE),
                instance(SERIES_A, 2, uids::CT_IMAGE_STORAGE),
                instance(SERIES_B, 1, uids::BASIC_TEXT_SR_STORAGE),
            ],
            ..ManifestSpec::default()
        }
    }

    fn built() -> Vec<u8> {
        build(&spec()).expect("spec builds")
    }

    fn open(bytes: &[u8]) -> DefaultDicomObject {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .from_reader(&bytes[128..])
            .expect("built file reads")
    }

    /// Build, change the data set with dicom-object, write it again and parse the result.
    fn mutated(bytes: &[u8], f: impl FnOnce(&mut DefaultDicomObject)) -> Manifest {
        let mut file = open(bytes);
        f(&mut file);
        let mut out = Vec::new();
        file.write_all(&mut out).expect("mutated file writes");
        parse(&out).expect("mutated file parses")
    }

    fn edit_items(
        obj: &mut InMemDicomObject,
        tag: Tag,
        f: impl FnOnce(&mut Vec<InMemDicomObject>),
    ) {
        let mut list = items(obj, tag).to_vec();
        f(&mut list);
        obj.put(sequence(tag, list));
    }

    /// The first series item of the evidence sequence.
    fn edit_first_series(obj: &mut InMemDicomObject, f: impl FnOnce(&mut InMemDicomObject)) {
        edit_items(
            obj,
            tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
            |studies| {
                edit_items(
                    &mut studies[0],
                    tags::REFERENCED_SERIES_SEQUENCE,
                    |series| f(&mut series[0]),
                )
            },
        );
    }

    fn fired(m: &Manifest, rules: &Rules, id: &str) -> Vec<KosViolation> {
        validate(m, rules)
            .into_iter()
            .filter(|v| v.rule == id)
            .collect()
    }

    fn assert_fires(m: &Manifest, rules: &Rules, id: &str) {
        let found = fired(m, rules, id);
        assert!(
            !found.is_empty(),
            "{id} should fire; got {:?}",
            validate(m, rules)
        );
        let expected = rule(id).and_then(|r| r.level(rules.profile));
        assert!(found.iter().all(|v| Some(v.level) == expected));
    }

    fn assert_quiet(m: &Manifest, rules: &Rules, id: &str) {
        let found = fired(m, rules, id);
        assert!(found.is_empty(), "{id} should not fire; got {found:?}");
    }

    fn container(concept: InMemDicomObject, children: Vec<InMemDicomObject>) -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
            str_element(tags::VALUE_TYPE, VR::CS, "CONTAINER"),
            sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
            str_element(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE"),
            sequence(tags::CONTENT_SEQUENCE, children),
        ])
    }

    fn code_ci(concept: InMemDicomObject, value: InMemDicomObject) -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            str_element(tags::RELATIONSHIP_TYPE, VR::CS, "HAS ACQ CONTEXT"),
            str_element(tags::VALUE_TYPE, VR::CS, "CODE"),
            sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
            sequence(tags::CONCEPT_CODE_SEQUENCE, vec![value]),
        ])
    }

    fn num_ci(concept: InMemDicomObject, n: usize) -> InMemDicomObject {
        let measured = InMemDicomObject::from_element_iter([
            sequence(
                tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
                vec![code_item("{instances}", "UCUM", "instances")],
            ),
            str_element(tags::NUMERIC_VALUE, VR::DS, &n.to_string()),
        ]);
        InMemDicomObject::from_element_iter([
            str_element(tags::RELATIONSHIP_TYPE, VR::CS, "HAS ACQ CONTEXT"),
            str_element(tags::VALUE_TYPE, VR::CS, "NUM"),
            sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
            sequence(tags::MEASURED_VALUE_SEQUENCE, vec![measured]),
        ])
    }

    fn uidref_ci(concept: InMemDicomObject, uid: &str) -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            str_element(tags::RELATIONSHIP_TYPE, VR::CS, "HAS ACQ CONTEXT"),
            str_element(tags::VALUE_TYPE, VR::CS, "UIDREF"),
            sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
            str_element(tags::UID, VR::UI, uid),
        ])
    }

    fn modality(value: &str) -> InMemDicomObject {
        code_ci(
            code_item(MODALITY_CONCEPT, DCM, "Modality"),
            code_item(value, DCM, value),
        )
    }

    fn library_group(series: &str, count: usize) -> InMemDicomObject {
        container(
            code_item(IMAGE_LIBRARY_GROUP, DCM, "Image Library Group"),
            vec![
                modality("CT"),
                uidref_ci(
                    code_item(SERIES_INSTANCE_UID_CONCEPT, DCM, "Series Instance UID"),
                    series,
                ),
                num_ci(
                    code_item(
                        NUMBER_OF_SERIES_RELATED_INSTANCES,
                        IHE_TEMP_SCHEME,
                        "Number of Series Related Instances",
                    ),
                    count,
                ),
            ],
        )
    }

    fn image_library_item(target_region: InMemDicomObject) -> InMemDicomObject {
        container(
            code_item(IMAGE_LIBRARY, DCM, "Image Library"),
            vec![
                modality("CT"),
                code_ci(
                    code_item(TARGET_REGION, DCM, "Target Region"),
                    target_region,
                ),
                num_ci(
                    code_item(
                        NUMBER_OF_STUDY_RELATED_SERIES,
                        IHE_TEMP_SCHEME,
                        "Number of Study Related Series",
                    ),
                    2,
                ),
                library_group(SERIES_A, 2),
                library_group(SERIES_B, 1),
            ],
        )
    }

    fn mado_spec() -> ManifestSpec {
        let issuer = |uid: &str| HierarchicDesignator {
            local_namespace_entity_id: None,
            universal_entity_id: Some(uid.to_string()),
            universal_entity_id_type: Some("ISO".to_string()),
        };
        let mut s = spec();
        s.patient.issuer_qualifiers = vec![issuer("1.2.3.1")];
        s.patient.other_ids = vec![OtherPatientId {
            id: s.patient.id.clone(),
            issuer: s.patient.issuer.clone(),
        }];
        s.study.accession_issuers = vec![issuer("1.2.3.2")];
        s.institution_name = Some("Hospital".to_string());
        s.timezone_offset_from_utc = Some("+0100".to_string());
        s.referenced_requests = vec![ReferencedRequest {
            study_uid: Some(STUDY.to_string()),
            accession_number: Some("ACC1".to_string()),
            accession_issuers: vec![issuer("1.2.3.2")],
            placer_order_number: Some("ORD1".to_string()),
            order_placer_identifiers: vec![issuer("1.2.3.3")],
        }];
        s
    }

    /// Turn a built manifest into a MADO "Manifest with Description".
    fn to_mado(f: &mut DefaultDicomObject, target_region: InMemDicomObject) {
        f.put(sequence(
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            vec![code_item(
                MADO_TITLE_TEMP,
                IHE_TEMP_SCHEME,
                MADO_TITLE_MEANING,
            )],
        ));
        edit_items(f, tags::CONTENT_SEQUENCE, |c| {
            c.push(image_library_item(target_region))
        });
    }

    fn mado_bytes() -> Vec<u8> {
        build(&mado_spec()).expect("MADO spec builds")
    }

    fn mado() -> Manifest {
        mado_with(|_| {})
    }

    fn mado_with(g: impl FnOnce(&mut DefaultDicomObject)) -> Manifest {
        mutated(&mado_bytes(), |f| {
            to_mado(f, code_item("67734004", "SCT", "Upper trunk"));
            g(f)
        })
    }

    // --- build and parse ---------------------------------------------------------------------

    #[test]
    fn round_trip_keeps_what_was_built() {
        let s = spec();
        let m = parse(&built()).unwrap();
        assert_eq!(m.transfer_syntax_uid, EXPLICIT_VR_LITTLE_ENDIAN);
        assert_eq!(m.sop_class_uid.as_deref(), Some(KOS_SOP_CLASS));
        assert_eq!(
            m.media_storage_sop_class_uid.as_deref(),
            Some(KOS_SOP_CLASS)
        );
        assert_eq!(m.sop_instance_uid.as_deref(), Some("2.25.900"));
        assert_eq!(
            m.media_storage_sop_instance_uid.as_deref(),
            Some("2.25.900")
        );
        assert_eq!(m.patient, s.patient);
        assert_eq!(m.study.instance_uid, s.study.instance_uid);
        assert_eq!(m.study.accession_number, s.study.accession_number);
        assert_eq!(m.study.date, s.study.date);
        assert_eq!(m.study.time, s.study.time);
        assert_eq!(m.study.description, s.study.description);
        assert_eq!(m.series.modality.as_deref(), Some("KO"));
        assert_eq!(m.series.number.as_deref(), Some("999"));
        assert_eq!(m.series.instance_uid.as_deref(), Some("2.25.901"));
        assert_eq!(
            m.document_title,
            Some(Code::new(MANIFEST_TITLE, DCM, MANIFEST_TITLE_MEANING))
        );
        assert_eq!(
            m.template,
            Some(TemplateId {
                mapping_resource: Some(DCMR.to_string()),
                identifier: Some(TID_KEY_OBJECT_SELECTION.to_string())
            })
        );
        assert_eq!(m.evidence, s.instances);
        assert!(m.evidence_defects.is_empty());
        let refs: Vec<(&str, &str)> = m
            .content_references
            .iter()
            .map(|r| (r.value_type.as_str(), r.sop_instance.as_str()))
            .collect();
        assert_eq!(
            refs,
            [
                ("IMAGE", "2.25.101.1"),
                ("IMAGE", "2.25.101.2"),
                ("COMPOSITE", "2.25.102.1")
            ]
        );
        assert_eq!(
            m.key_object_description.as_deref(),
            Some("shared for XDS-I.b")
        );
        assert_eq!(m.evidence_studies(), [STUDY]);
        assert_eq!(m.evidence_series(), [SERIES_A, SERIES_B]);
    }

    #[test]
    fn build_is_deterministic() {
        assert_eq!(built(), built());
    }

    #[test]
    fn built_manifest_passes_every_xds_i_b_rule() {
        let m = parse(&built()).unwrap();
        let rules = Rules::xds_i_b()
            .with_repository_unique_id(REPO)
            .expecting_retrieve_ae_title();
        assert_eq!(validate(&m, &rules), []);
    }

    #[test]
    fn mado_fixture_passes_every_mado_rule() {
        assert_eq!(validate(&mado(), &Rules::mado()), []);
    }

    #[test]
    fn round_trip_of_mado_attributes() {
        let s = mado_spec();
        let m = parse(&mado_bytes()).unwrap();
        assert_eq!(m.patient, s.patient);
        assert_eq!(m.study.accession_issuers, s.study.accession_issuers);
        assert_eq!(m.referenced_requests, s.referenced_requests);
        assert_eq!(m.equipment.institution_name, s.institution_name);
        assert_eq!(m.timezone_offset_from_utc, s.timezone_offset_from_utc);
    }

    #[test]
    fn build_rejects_what_cannot_be_a_manifest() {
        let mut s = spec();
        s.instances.clear();
        assert!(matches!(
            build(&s),
            Err(KosError::Spec {
                field: "instances",
                ..
            })
        ));

        let mut s = spec();
        s.instances[0].study_uid = "2.25.555".to_string();
        assert!(matches!(build(&s), Err(KosError::Spec { .. })));

        let mut s = spec();
        s.instances[1].retrieve_ae_title = Some("OTHER".to_string());
        assert!(matches!(build(&s), Err(KosError::Spec { .. })));

        let mut s = spec();
        s.sop_instance_uid = "1.02.3".to_string();
        assert!(matches!(
            build(&s),
            Err(KosError::Spec {
                field: "sop_instance_uid",
                ..
            })
        ));

        let mut s = spec();
        s.study.instance_uid = None;
        assert!(matches!(build(&s), Err(KosError::Spec { .. })));
    }

    #[test]
    fn reference_value_types() {
        assert_eq!(reference_value_type(uids::CT_IMAGE_STORAGE), "IMAGE");
        assert_eq!(reference_value_type(uids::SEGMENTATION_STORAGE), "IMAGE");
        assert_eq!(reference_value_type(uids::RT_IMAGE_STORAGE), "IMAGE");
        assert_eq!(
            reference_value_type(uids::TWELVE_LEAD_ECG_WAVEFORM_STORAGE),
            "WAVEFORM"
        );
        assert_eq!(reference_value_type(KOS_SOP_CLASS), "COMPOSITE");
        assert_eq!(
            reference_value_type(uids::ENCAPSULATED_PDF_STORAGE),
            "COMPOSITE"
        );
        assert_eq!(reference_value_type(uids::RT_PLAN_STORAGE), "COMPOSITE");
        assert_eq!(reference_value_type("1.2.3.4"), "COMPOSITE");
    }

    #[test]
    fn uid_syntax() {
        assert_eq!(check_uid("1.2.840.10008.5.1.4.1.1.88.59"), Ok(()));
        assert_eq!(check_uid("2.25.0"), Ok(()));
        assert!(check_uid("").is_err());
        assert!(check_uid("1.2.03").is_err());
        assert!(check_uid("1..2").is_err());
        assert!(check_uid("1.2.").is_err());
        assert!(check_uid("1.2.a").is_err());
        assert!(check_uid(&format!("1.{}", "2".repeat(63))).is_err());
        assert_eq!(check_uid(&format!("1.{}", "2".repeat(62))), Ok(()));
    }

    #[test]
    fn count_values() {
        assert_eq!(count_value("20"), Some(20));
        assert_eq!(count_value("(20, UCUM, \"instances\")"), Some(20));
        assert_eq!(count_value("2.0"), Some(2));
        assert_eq!(count_value("2.5"), None);
        assert_eq!(count_value("many"), None);
    }

    #[test]
    fn rule_registry_is_consistent() {
        let mut ids = BTreeSet::new();
        for r in RULES {
            assert!(ids.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.xds_i_b.is_some() || r.mado.is_some(),
                "{} applies nowhere",
                r.id
            );
            assert!(!r.requirement.is_empty() && !r.title.is_empty());
        }
    }

    // --- parse robustness ---------------------------------------------------------------------

    #[test]
    fn parse_never_panics_on_truncated_input() {
        let bytes = built();
        for end in 0..bytes.len() {
            let _ = parse(&bytes[..end]);
        }
        let without_preamble = &bytes[128..];
        for end in 0..without_preamble.len() {
            let _ = parse(&without_preamble[..end]);
        }
    }

    #[test]
    fn parse_never_panics_on_garbage() {
        let bytes = built();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let mut b = bytes.clone();
            // Flip a few bytes past the preamble, keeping the DICM magic most of the time.
            for _ in 0..4 {
                let at = 132 + (next() as usize) % (b.len() - 132);
                b[at] = next() as u8;
            }
            let _ = parse(&b);
        }
        let mut noise = b"DICM".to_vec();
        noise.extend((0..512).map(|_| next() as u8));
        assert!(parse(&noise).is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"not dicom at all").is_err());
    }

    #[test]
    fn parse_rejects_lengths_past_the_end() {
        // A 4-byte length of an explicit VR SQ, inflated to nearly 4 GiB: the decoder would
        // allocate it before noticing the bytes are missing.
        let bytes = built();
        let sq = bytes
            .windows(4)
            .position(|w| w == b"SQ\0\0")
            .expect("a sequence");
        let mut b = bytes.clone();
        b[sq + 4..sq + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        let err = parse(&b).unwrap_err();
        assert!(err.to_string().contains("declares"), "{err}");
    }

    #[test]
    fn parse_reads_a_file_without_preamble() {
        let bytes = built();
        assert_eq!(parse(&bytes[128..]).unwrap(), parse(&bytes).unwrap());
    }

    // --- rules: each fires on a defect and stays quiet without it ------------------------------

    #[test]
    fn kos_01_sop_class() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-01");
        let m = mutated(&built(), |f| {
            f.put(str_element(
                tags::SOP_CLASS_UID,
                VR::UI,
                uids::BASIC_TEXT_SR_STORAGE,
            ));
        });
        assert_fires(&m, &x, "KOS-01");
        let m = mutated(&built(), |f| {
            f.update_meta(|meta| meta.media_storage_sop_instance_uid = "2.25.1\0".to_string())
        });
        assert_fires(&m, &x, "KOS-01");
    }

    #[test]
    fn kos_02_series_and_document_attributes() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-02");
        let m = mutated(&built(), |f| {
            f.put(str_element(tags::MODALITY, VR::CS, "SR"));
        });
        assert_fires(&m, &x, "KOS-02");
        let m = mutated(&built(), |f| {
            f.remove_element(tags::CONTENT_TIME);
        });
        assert_fires(&m, &x, "KOS-02");
    }

    #[test]
    fn kos_03_root_container() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-03");
        let m = mutated(&built(), |f| {
            f.put(str_element(
                tags::CONTINUITY_OF_CONTENT,
                VR::CS,
                "CONTINUOUS",
            ));
        });
        assert_fires(&m, &x, "KOS-03");
        let m = mutated(&built(), |f| {
            edit_items(f, tags::CONTENT_TEMPLATE_SEQUENCE, |t| {
                t[0].put(str_element(tags::TEMPLATE_IDENTIFIER, VR::CS, "2000"));
            });
        });
        assert_fires(&m, &x, "KOS-03");
        let m = mutated(&built(), |f| {
            edit_items(f, tags::CONCEPT_NAME_CODE_SEQUENCE, |t| {
                t.push(code_item("113000", DCM, "Of Interest"))
            });
        });
        assert_fires(&m, &x, "KOS-03");
    }

    #[test]
    fn kos_04_document_title() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-04");
        let m = mutated(&built(), |f| {
            f.put(sequence(
                tags::CONCEPT_NAME_CODE_SEQUENCE,
                vec![code_item("113000", DCM, "Of Interest")],
            ));
        });
        assert_fires(&m, &x, "KOS-04");
        assert_quiet(&mado(), &Rules::mado(), "KOS-04");
    }

    #[test]
    fn kos_05_evidence_structure() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-05");
        let m = mutated(&built(), |f| {
            f.remove_element(tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE);
        });
        assert_fires(&m, &x, "KOS-05");
        let m = mutated(&built(), |f| {
            f.put(sequence(
                tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
                vec![],
            ));
        });
        assert_fires(&m, &x, "KOS-05");
        let m = mutated(&built(), |f| {
            edit_first_series(f, |s| {
                s.remove_element(tags::SERIES_INSTANCE_UID);
            })
        });
        assert_fires(&m, &x, "KOS-05");
    }

    #[test]
    fn kos_06_content_matches_evidence() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-06");
        // An evidence instance no content item references.
        let m = mutated(&built(), |f| {
            edit_items(f, tags::CONTENT_SEQUENCE, |c| {
                c.pop();
            });
        });
        assert_fires(&m, &x, "KOS-06");
        // A content item referencing an instance missing from the evidence.
        let m = mutated(&built(), |f| {
            edit_items(f, tags::CONTENT_SEQUENCE, |c| {
                let mut extra = instance(SERIES_A, 9, uids::CT_IMAGE_STORAGE);
                extra.sop_instance = "2.25.777".to_string();
                c.push(InMemDicomObject::from_element_iter([
                    str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
                    str_element(tags::VALUE_TYPE, VR::CS, "IMAGE"),
                    sequence(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item(&extra)]),
                ]));
            });
        });
        assert_fires(&m, &x, "KOS-06");
    }

    fn second_study(f: &mut DefaultDicomObject, identical: bool) {
        let other = ReferencedInstance {
            study_uid: "2.25.200".to_string(),
            series_uid: "2.25.201".to_string(),
            ..instance(SERIES_A, 1, uids::CT_IMAGE_STORAGE)
        };
        let series = InMemDicomObject::from_element_iter([
            str_element(tags::SERIES_INSTANCE_UID, VR::UI, &other.series_uid),
            str_element(tags::RETRIEVE_LOCATION_UID, VR::UI, REPO),
            sequence(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item(&other)]),
        ]);
        let study = InMemDicomObject::from_element_iter([
            str_element(tags::STUDY_INSTANCE_UID, VR::UI, &other.study_uid),
            sequence(tags::REFERENCED_SERIES_SEQUENCE, vec![series]),
        ]);
        edit_items(
            f,
            tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
            |s| s.push(study.clone()),
        );
        if identical {
            f.put(sequence(tags::IDENTICAL_DOCUMENTS_SEQUENCE, vec![study]));
        }
    }

    #[test]
    fn kos_07_identical_documents_for_several_studies() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-07");
        let m = mutated(&built(), |f| second_study(f, false));
        assert_fires(&m, &x, "KOS-07");
        let m = mutated(&built(), |f| second_study(f, true));
        assert_quiet(&m, &x, "KOS-07");
        assert_eq!(m.identical_documents.len(), 1);
    }

    #[test]
    fn kos_08_retrieve_location_uid() {
        let x = Rules::xds_i_b().with_repository_unique_id(REPO);
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-08");
        let m = mutated(&built(), |f| {
            edit_first_series(f, |s| {
                s.remove_element(tags::RETRIEVE_LOCATION_UID);
            })
        });
        assert_fires(&m, &x, "KOS-08");
        let other = Rules::xds_i_b().with_repository_unique_id("1.2.3.4");
        assert_fires(&parse(&built()).unwrap(), &other, "KOS-08");
        assert_quiet(&m, &Rules::mado(), "KOS-08");
    }

    #[test]
    fn kos_09_retrieve_ae_title_for_c_move() {
        let m = mutated(&built(), |f| {
            edit_first_series(f, |s| {
                s.remove_element(tags::RETRIEVE_AE_TITLE);
            })
        });
        let c_move = Rules::xds_i_b().expecting_retrieve_ae_title();
        assert_fires(&m, &c_move, "KOS-09");
        assert_quiet(&m, &Rules::xds_i_b(), "KOS-09");
        assert_quiet(&parse(&built()).unwrap(), &c_move, "KOS-09");
    }

    #[test]
    fn kos_10_retrieve_url() {
        let with_url = |url: &'static str| {
            mutated(&built(), move |f| {
                edit_first_series(f, |s| {
                    s.put(str_element(tags::RETRIEVE_URL, VR::UR, url));
                })
            })
        };
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-10");
        assert_fires(&with_url("dicomserver/rs"), &x, "KOS-10");
        assert_fires(&with_url("ftp://host/rs"), &x, "KOS-10");
        let series_url = "https://ids.example.org/rs/studies/2.25.100/series/2.25.101";
        assert_quiet(&with_url(series_url), &x, "KOS-10");
        let m = mado_with(|f| {
            edit_first_series(f, |s| {
                s.put(str_element(tags::RETRIEVE_URL, VR::UR, series_url));
            })
        });
        assert_fires(&m, &Rules::mado(), "KOS-10");
        assert_quiet(&mado(), &Rules::mado(), "KOS-10");
    }

    #[test]
    fn kos_11_by_value_and_no_purpose_of_reference() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-11");
        let m = mutated(&built(), |f| {
            edit_items(f, tags::CONTENT_SEQUENCE, |c| {
                let last = c.len() - 1;
                c[last].put(sequence(
                    tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
                    vec![code_item("121112", DCM, "Source of Measurement")],
                ));
            });
        });
        assert_fires(&m, &x, "KOS-11");
        let m = mutated(&built(), |f| {
            edit_items(f, tags::CONTENT_SEQUENCE, |c| {
                c.push(InMemDicomObject::from_element_iter([
                    str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
                    DataElement::new(
                        tags::REFERENCED_CONTENT_ITEM_IDENTIFIER,
                        VR::UL,
                        PrimitiveValue::from(1u32),
                    ),
                ]));
            });
        });
        assert_fires(&m, &x, "KOS-11");
    }

    #[test]
    fn kos_12_mado_title_library_and_own_study() {
        let r = Rules::mado();
        assert_quiet(&mado(), &r, "KOS-12");
        // An XDS-I.b manifest is not a MADO one: wrong title, no Image Library.
        let plain = parse(&mado_bytes()).unwrap();
        assert_eq!(fired(&plain, &r, "KOS-12").len(), 2);
        let m = mado_with(|f| second_study(f, true));
        assert_fires(&m, &r, "KOS-12");
        assert_quiet(&m, &Rules::xds_i_b(), "KOS-12");
    }

    #[test]
    fn kos_13_mado_required_attributes() {
        let r = Rules::mado();
        assert_quiet(&mado(), &r, "KOS-13");
        // The plain XDS-I.b build lacks issuer qualifiers, other IDs, institution, timezone and
        // the Referenced Request Sequence.
        let plain = mutated(&built(), |f| {
            to_mado(f, code_item("67734004", "SCT", "Upper trunk"))
        });
        assert!(fired(&plain, &r, "KOS-13").len() >= 5);
        let m = mado_with(|f| {
            f.remove_element(tags::TIMEZONE_OFFSET_FROM_UTC);
        });
        assert_fires(&m, &r, "KOS-13");
        let m = mado_with(|f| {
            edit_first_series(f, |s| {
                s.remove_element(tags::RETRIEVE_LOCATION_UID);
                s.remove_element(tags::RETRIEVE_URL);
            })
        });
        assert_fires(&m, &r, "KOS-13");
        // Either addressing mode satisfies MADO.
        let m = mado_with(|f| {
            edit_first_series(f, |s| {
                s.remove_element(tags::RETRIEVE_LOCATION_UID);
            })
        });
        assert_quiet(&m, &r, "KOS-13");
        assert_quiet(&plain, &Rules::xds_i_b(), "KOS-13");
    }

    #[test]
    fn kos_14_accession_issuer_iff_accession() {
        let r = Rules::mado();
        assert_quiet(&mado(), &r, "KOS-14");
        let m = mado_with(|f| {
            f.remove_element(tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE);
        });
        assert_fires(&m, &r, "KOS-14");
        let m = mado_with(|f| {
            f.put(str_element(tags::ACCESSION_NUMBER, VR::SH, ""));
        });
        assert_fires(&m, &r, "KOS-14");
        let m = mado_with(|f| {
            f.put(str_element(tags::ACCESSION_NUMBER, VR::SH, ""));
            f.remove_element(tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE);
        });
        assert_quiet(&m, &r, "KOS-14");
    }

    #[test]
    fn kos_15_image_library_counts() {
        let r = Rules::mado();
        assert_quiet(&mado(), &r, "KOS-15");
        // One more instance in series A than its library group says.
        let m = mado_with(|f| {
            edit_first_series(f, |s| {
                edit_items(s, tags::REFERENCED_SOP_SEQUENCE, |sops| {
                    sops.push(sop_item(&instance(SERIES_A, 3, uids::CT_IMAGE_STORAGE)))
                })
            });
            edit_items(f, tags::CONTENT_SEQUENCE, |c| {
                c.push(InMemDicomObject::from_element_iter([
                    str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
                    str_element(tags::VALUE_TYPE, VR::CS, "IMAGE"),
                    sequence(
                        tags::REFERENCED_SOP_SEQUENCE,
                        vec![sop_item(&instance(SERIES_A, 3, uids::CT_IMAGE_STORAGE))],
                    ),
                ]))
            });
        });
        assert_eq!(
            fired(&m, &r, "KOS-15")
                .iter()
                .map(|v| v.message.as_str())
                .collect::<Vec<_>>(),
            ["series 2.25.101: Number of Series Related Instances expected 3, found 2"]
        );
        assert_quiet(&m, &r, "KOS-06");
    }

    #[test]
    fn kos_17_target_region_value_set() {
        let r = Rules::mado();
        assert_quiet(&mado(), &r, "KOS-17");
        let m = mutated(&mado_bytes(), |f| {
            to_mado(f, code_item("39607008", "SCT", "Lung"))
        });
        assert_fires(&m, &r, "KOS-17");
        assert!(validate(&m, &r).iter().all(|v| v.level == Level::Warning));
    }

    #[test]
    fn kos_18_manifest_study_is_the_referenced_study() {
        let m = mutated(&built(), |f| {
            f.put(str_element(tags::STUDY_INSTANCE_UID, VR::UI, "2.25.300"));
        });
        assert_fires(&m, &Rules::xds_i_b(), "KOS-18");
        assert_fires(&m, &Rules::mado(), "KOS-18");
        assert_eq!(
            fired(&m, &Rules::xds_i_b(), "KOS-18")[0].level,
            Level::Warning
        );
        assert_eq!(fired(&m, &Rules::mado(), "KOS-18")[0].level, Level::Error);
        assert_quiet(&parse(&built()).unwrap(), &Rules::xds_i_b(), "KOS-18");
    }

    #[test]
    fn kos_21_patient_id() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-21");
        let m = mutated(&built(), |f| {
            f.put(str_element(tags::PATIENT_ID, VR::LO, ""));
        });
        assert_fires(&m, &x, "KOS-21");
    }

    #[test]
    fn kos_22_uid_syntax() {
        let x = Rules::xds_i_b();
        assert_quiet(&parse(&built()).unwrap(), &x, "KOS-22");
        let m = mutated(&built(), |f| {
            f.put(str_element(tags::SERIES_INSTANCE_UID, VR::UI, "2.25.0123"));
        });
        assert_fires(&m, &x, "KOS-22");
        let m = mutated(&built(), |f| {
            edit_first_series(f, |s| {
                s.put(str_element(tags::SERIES_INSTANCE_UID, VR::UI, "2.25.x"));
            })
        });
        assert_fires(&m, &x, "KOS-22");
    }
}
