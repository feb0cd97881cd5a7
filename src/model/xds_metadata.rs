//! XDS-I.b registry metadata for a KOS manifest, built the way an Imaging Document Source builds it
//! for RAD-68 Provide and Register Imaging Document Set – MTOM/XOP.
//!
//! RAD TF-2 4.68.4.1.2 makes the manifest an ITI-41 document with XDS-I.b specific values: mimeType
//! `application/dicom` (RAD68-005), the KOS SOP Class as formatCode (RAD68-022), the KOS SOP
//! Instance UID as uniqueId, and an eventCodeList carrying the acquisition modalities of the
//! referenced series and, if known, their anatomic regions (RAD68-019/021). Everything else is an
//! ITI TF-3 4.2.3 DocumentEntry and SubmissionSet whose required attributes are those of Table
//! 4.3.1-3 (Document Source column) and whose coded values come from the XDS Affinity Domain.
//! The affinity domain is data ([`AffinityDomain`], read from TOML; the default set is
//! `fixtures/xds/affinity-domain.toml`); the values of one submission that the manifest cannot
//! supply (affinity-domain patient id, source id, submission set uid and time, author, symbolic
//! ids, Content-ID) are a [`SubmissionContext`]. [`manifest_submission`] combines the three into a
//! [`ProvideAndRegisterRequest`] that `checks::xds::rules::validate_submission` accepts as RAD-68 and
//! that [`super::ebrim::write`] serialises.
//!
//! Pinned editions: IHE RAD TF-2 Rev. 22.0 (2023-06-15) 4.68
//! (<https://www.ihe.net/resources/technical_frameworks/#radiology>), IHE ITI TF-3 Rev. 20.0
//! 4.2.3 and Table 4.3.1-3 (<https://profiles.ihe.net/ITI/TF/Volume3/ch-4.3.html>), DICOM 2026b
//! PS3.16 (CID 29, CID 4, Annex L). Referenced ids and formats are copied from the project's
//! standards reference §2.2-2.4 and §7.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dicom_dictionary_std::uids;
use serde::Deserialize;

use super::ebrim::{
    is_oid, Association, Classification, Document, DocumentContent, ExternalIdentifier,
    LocalizedString, ObjectKind, ProvideAndRegisterRequest, RegistryObject, RegistryObjectList,
    Slot, SubmitObjectsRequest, ASSOC_HAS_MEMBER, DE_AUTHOR, DE_CLASS_CODE,
    DE_CONFIDENTIALITY_CODE, DE_EVENT_CODE, DE_FORMAT_CODE, DE_HEALTHCARE_FACILITY_TYPE_CODE,
    DE_PATIENT_ID, DE_PRACTICE_SETTING_CODE, DE_TYPE_CODE, DE_UNIQUE_ID, DOC_ENTRY_STABLE,
    KOS_FORMAT_CODE, KOS_FORMAT_CODING_SCHEME, MIME_DICOM, NAME_DE_PATIENT_ID, NAME_DE_UNIQUE_ID,
    NAME_SS_PATIENT_ID, NAME_SS_SOURCE_ID, NAME_SS_UNIQUE_ID, REFERENCE_ID_ACCESSION,
    REFERENCE_ID_STUDY_INSTANCE_UID, SLOT_REFERENCE_ID_LIST, SS_AUTHOR, SS_CONTENT_TYPE_CODE,
    SS_PATIENT_ID, SS_SOURCE_ID, SS_UNIQUE_ID, SUBMISSION_SET_NODE,
};
use super::kos::{
    self, ContentItem, HierarchicDesignator, Manifest, DCM, IMAGE_LIBRARY_GROUP, MODALITY_CONCEPT,
    SERIES_INSTANCE_UID_CONCEPT, TARGET_REGION,
};
use crate::transport::soap::{cid_url, content_id_of_cid_url};

/// Where the default affinity domain lives in the repository and among the compiled-in assets.
pub const DEFAULT_AFFINITY_DOMAIN_PATH: &str = "fixtures/xds/affinity-domain.toml";

/// The default affinity domain, `fixtures/xds/affinity-domain.toml`, as compiled in with the other
/// assets ([`crate::assets`]).
pub fn default_affinity_domain_toml() -> &'static str {
    crate::assets::text(DEFAULT_AFFINITY_DOMAIN_PATH).unwrap_or_default()
}

/// Coding scheme OID of the DICOM Controlled Terminology (DCM), PS3.16 Table 8-1.
pub const DCM_CODING_SCHEME: &str = "1.2.840.10008.2.16.4";

/// Longest title ITI TF-3 4.2.3.2 (title) lets a DocumentEntry carry; longer ones are cut.
const MAX_TITLE_CHARS: usize = 128;

/// SubmissionSetStatus of a document submitted with its SubmissionSet (ITI TF-3 4.2.2.1).
const SUBMISSION_SET_STATUS_ORIGINAL: &str = "Original";

/// Modality implied by a SOP Class, for referenced series whose Modality (0008,0060) the caller
/// does not know. Only IODs tied to one modality by PS3.3 are listed (CT Image IOD: CT, and so
/// on); Secondary Capture maps to OT, the modality the fixture studies and most converters write.
const SOP_CLASS_MODALITIES: &[(&str, &str)] = &[
    (uids::CT_IMAGE_STORAGE, "CT"),
    (uids::ENHANCED_CT_IMAGE_STORAGE, "CT"),
    (uids::MR_IMAGE_STORAGE, "MR"),
    (uids::ENHANCED_MR_IMAGE_STORAGE, "MR"),
    (uids::COMPUTED_RADIOGRAPHY_IMAGE_STORAGE, "CR"),
    (uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION, "DX"),
    (uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PROCESSING, "DX"),
    (
        uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION,
        "MG",
    ),
    (uids::BREAST_TOMOSYNTHESIS_IMAGE_STORAGE, "MG"),
    (uids::ULTRASOUND_IMAGE_STORAGE, "US"),
    (uids::ULTRASOUND_MULTI_FRAME_IMAGE_STORAGE, "US"),
    (uids::ENHANCED_US_VOLUME_STORAGE, "US"),
    (uids::NUCLEAR_MEDICINE_IMAGE_STORAGE, "NM"),
    (uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE, "PT"),
    (uids::ENHANCED_PET_IMAGE_STORAGE, "PT"),
    (uids::X_RAY_ANGIOGRAPHIC_IMAGE_STORAGE, "XA"),
    (uids::X_RAY_RADIOFLUOROSCOPIC_IMAGE_STORAGE, "RF"),
    (uids::SECONDARY_CAPTURE_IMAGE_STORAGE, "OT"),
    (uids::KEY_OBJECT_SELECTION_DOCUMENT_STORAGE, "KO"),
    (uids::GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, "PR"),
    (uids::SEGMENTATION_STORAGE, "SEG"),
];

// ---------------------------------------------------------------------------------------------
// Affinity domain

/// Errors reading an affinity domain.
#[derive(Debug, thiserror::Error)]
pub enum AffinityDomainError {
    /// The file could not be read.
    #[error("cannot read affinity domain {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not TOML of the expected shape (unknown keys included).
    #[error("affinity domain {origin} is malformed: {message}")]
    Parse {
        /// File, or `(inline)`.
        origin: String,
        /// Why, as the TOML reader says it (it names the expected keys).
        message: String,
    },
    /// A value is present but unusable.
    #[error("affinity domain {origin}: {key}: {message}")]
    Invalid {
        /// File, or `(inline)`.
        origin: String,
        /// The offending key (`class_code.scheme`, `modality_codes.CT.code`).
        key: String,
        /// Why.
        message: String,
    },
}

/// A code of the affinity domain: written as a Classification's `nodeRepresentation`,
/// `codingScheme` slot and Name (ITI TF-3 4.2.3.1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffinityCode {
    /// Code value.
    pub code: String,
    /// Coding scheme (an OID in the default set).
    pub scheme: String,
    /// Display name.
    pub display: String,
}

/// The code sets of an XDS Affinity Domain that a manifest submission needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffinityDomain {
    /// DocumentEntry.classCode.
    pub class_code: AffinityCode,
    /// DocumentEntry.typeCode.
    pub type_code: AffinityCode,
    /// DocumentEntry.confidentialityCode.
    pub confidentiality_code: AffinityCode,
    /// DocumentEntry.healthcareFacilityTypeCode.
    pub healthcare_facility_type_code: AffinityCode,
    /// DocumentEntry.practiceSettingCode.
    pub practice_setting_code: AffinityCode,
    /// SubmissionSet.contentTypeCode.
    pub content_type_code: AffinityCode,
    /// eventCodeList codes by Modality (0008,0060) value.
    #[serde(default)]
    pub modality_codes: BTreeMap<String, AffinityCode>,
    /// eventCodeList codes by Body Part Examined (0018,0015) value.
    #[serde(default)]
    pub anatomic_region_codes: BTreeMap<String, AffinityCode>,
    /// Coding scheme OID by DICOM Coding Scheme Designator (`DCM`, `SCT`).
    #[serde(default)]
    pub coding_schemes: BTreeMap<String, String>,
}

impl AffinityDomain {
    /// The default set, `fixtures/xds/affinity-domain.toml` as compiled in.
    pub fn default_set() -> AffinityDomain {
        // The `default_set_is_valid` test proves the embedded file reads; the empty fallback only
        // keeps this function infallible, and the submission validators would flag its codes.
        AffinityDomain::from_toml(default_affinity_domain_toml()).unwrap_or_default()
    }

    /// Read an affinity domain from a TOML file.
    pub fn load(path: &Path) -> Result<AffinityDomain, AffinityDomainError> {
        let text = std::fs::read_to_string(path).map_err(|source| AffinityDomainError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Read an affinity domain from TOML text. Unknown keys and empty codes are errors.
    pub fn from_toml(text: &str) -> Result<AffinityDomain, AffinityDomainError> {
        Self::parse(text, "(inline)")
    }

    fn parse(text: &str, origin: &str) -> Result<AffinityDomain, AffinityDomainError> {
        let domain: AffinityDomain =
            toml::from_str(text).map_err(|e| AffinityDomainError::Parse {
                origin: origin.to_owned(),
                message: e.to_string(),
            })?;
        domain.check(origin)?;
        Ok(domain)
    }

    fn check(&self, origin: &str) -> Result<(), AffinityDomainError> {
        let invalid = |key: String, message: &str| AffinityDomainError::Invalid {
            origin: origin.to_owned(),
            key,
            message: message.to_owned(),
        };
        let mut codes: Vec<(String, &AffinityCode)> = vec![
            ("class_code".into(), &self.class_code),
            ("type_code".into(), &self.type_code),
            ("confidentiality_code".into(), &self.confidentiality_code),
            (
                "healthcare_facility_type_code".into(),
                &self.healthcare_facility_type_code,
            ),
            ("practice_setting_code".into(), &self.practice_setting_code),
            ("content_type_code".into(), &self.content_type_code),
        ];
        codes.extend(
            self.modality_codes
                .iter()
                .map(|(k, c)| (format!("modality_codes.{k}"), c)),
        );
        codes.extend(
            self.anatomic_region_codes
                .iter()
                .map(|(k, c)| (format!("anatomic_region_codes.{k}"), c)),
        );
        for (key, c) in codes {
            // ITI41-07: a coded Classification needs a code, one coding scheme and a Name.
            for (field, value) in [
                ("code", &c.code),
                ("scheme", &c.scheme),
                ("display", &c.display),
            ] {
                if value.trim().is_empty() {
                    return Err(invalid(format!("{key}.{field}"), "is empty"));
                }
            }
        }
        for (designator, oid) in &self.coding_schemes {
            if !is_oid(oid) {
                return Err(invalid(
                    format!("coding_schemes.{designator}"),
                    "is not an OID",
                ));
            }
        }
        Ok(())
    }

    /// The eventCodeList code of a Modality value: the domain's, else the DCM code whose value is
    /// the modality itself (DICOM modality defined terms are DCM code values, PS3.16 CID 29/33).
    pub fn modality_code(&self, modality: &str) -> Option<AffinityCode> {
        let m = modality.trim().to_ascii_uppercase();
        if m.is_empty() {
            return None;
        }
        if let Some(c) = self.modality_codes.get(&m) {
            return Some(c.clone());
        }
        // A defined term is at most 16 upper-case letters, digits and underscores (CS, PS3.5).
        let defined_term =
            m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        defined_term.then(|| AffinityCode {
            code: m.clone(),
            scheme: self.scheme_oid(DCM).unwrap_or(DCM_CODING_SCHEME).to_owned(),
            display: m,
        })
    }

    /// The eventCodeList code of a Body Part Examined value, when the domain maps it.
    pub fn anatomic_region_code(&self, body_part: &str) -> Option<AffinityCode> {
        self.anatomic_region_codes
            .get(&body_part.trim().to_ascii_uppercase())
            .cloned()
    }

    /// Coding scheme OID of a DICOM Coding Scheme Designator.
    pub fn scheme_oid(&self, designator: &str) -> Option<&str> {
        self.coding_schemes
            .get(designator.trim())
            .map(String::as_str)
    }
}

// ---------------------------------------------------------------------------------------------
// Submission context

/// What one submission needs beyond the manifest and the affinity domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionContext {
    /// Affinity-domain patient id, CX `id^^^&OID&ISO` (DocumentEntry and SubmissionSet patientId).
    pub patient_id: String,
    /// SubmissionSet.sourceId (OID of the Imaging Document Source).
    pub source_id: String,
    /// SubmissionSet.uniqueId (OID).
    pub submission_set_unique_id: String,
    /// SubmissionSet.submissionTime (DTM, UTC).
    pub submission_time: String,
    /// authorInstitution (XON); the KOS Institution Name (0008,0080) when `None`.
    pub author_institution: Option<String>,
    /// authorPerson (XCN).
    pub author_person: Option<String>,
    /// DocumentEntry.title (cut to 128 characters).
    pub title: String,
    /// DocumentEntry.languageCode (RFC 5646), also the title's `xml:lang`.
    pub language_code: String,
    /// Symbolic id of the DocumentEntry ExtrinsicObject (also the `xdsb:Document/@id`).
    pub document_entry_id: String,
    /// Symbolic id of the SubmissionSet RegistryPackage.
    pub submission_set_id: String,
    /// Symbolic id of the SubmissionSet-to-DocumentEntry HasMember Association.
    pub association_id: String,
    /// Content-ID (without `<>`) of the MIME part carrying the KOS.
    pub content_id: String,
    /// Assigning authority OID of the Accession Number, used when the KOS has no ISO Issuer of
    /// Accession Number Sequence (0008,0051).
    pub accession_issuer: Option<String>,
    /// Assigning authority OID of the KOS Patient ID, used for sourcePatientId when the KOS has
    /// no ISO Issuer of Patient ID Qualifiers (0010,0024) (dcm4chee-arc's
    /// `AssigningAuthority.patientId`).
    pub patient_id_issuer: Option<String>,
    /// UTC offset (`+HHMM`) of the KOS dates and times when it has no Timezone Offset From UTC
    /// (0008,0201); without either they are taken as UTC.
    pub timezone_offset: Option<String>,
    /// Modality (0008,0060) of referenced series, by Series Instance UID; series not listed get
    /// the modality of the MADO Image Library, else the one their SOP Class implies.
    pub series_modalities: BTreeMap<String, String>,
    /// Body Part Examined (0018,0015) values of the referenced instances, for the anatomic
    /// region codes of eventCodeList.
    pub body_parts: Vec<String>,
    /// DocumentEntry.serviceStopTime (DTM); when `None`, the manifest's creation time (a study is
    /// complete, as far as the manifest knows, when the manifest is written).
    pub service_stop_time: Option<String>,
}

impl SubmissionContext {
    /// A context with the four values every submission must be given and defaults for the rest:
    /// symbolic ids `Document01`, `SubmissionSet01`, `HasMember01`, language `en-US`, a
    /// Content-ID derived from the SubmissionSet uniqueId.
    pub fn new(
        patient_id: &str,
        source_id: &str,
        submission_set_unique_id: &str,
        submission_time: &str,
    ) -> SubmissionContext {
        SubmissionContext {
            patient_id: patient_id.to_owned(),
            source_id: source_id.to_owned(),
            submission_set_unique_id: submission_set_unique_id.to_owned(),
            submission_time: submission_time.to_owned(),
            author_institution: None,
            author_person: None,
            title: "Imaging Study Manifest".to_owned(),
            language_code: "en-US".to_owned(),
            document_entry_id: "Document01".to_owned(),
            submission_set_id: "SubmissionSet01".to_owned(),
            association_id: "HasMember01".to_owned(),
            content_id: format!("manifest.{submission_set_unique_id}@ihe-harness"),
            accession_issuer: None,
            patient_id_issuer: None,
            timezone_offset: None,
            series_modalities: BTreeMap::new(),
            body_parts: Vec::new(),
            service_stop_time: None,
        }
    }

    /// The context of one manifest's submission: the submission set's uniqueId is derived from
    /// the manifest's SOP Instance UID (one submission per manifest), the submission time is now
    /// (UTC), and the modalities are given per series (a KOS lists UIDs only).
    pub fn for_manifest(
        patient_id: &str,
        source_id: &str,
        manifest_sop_uid: &str,
        series_modalities: BTreeMap<String, String>,
    ) -> SubmissionContext {
        let now = time::OffsetDateTime::now_utc();
        let stamp = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let mut ctx = SubmissionContext::new(
            patient_id,
            source_id,
            &format!("{manifest_sop_uid}.1"),
            &stamp,
        );
        ctx.series_modalities = series_modalities;
        // The harness submits as an imaging department of its own (XON with the source OID).
        ctx.author_institution = Some(format!("Imaging Department^^^^^^^^^{source_id}"));
        ctx
    }

    /// The Content-ID of the manifest's MIME part in the MTOM package.
    pub fn document_content_id(&self) -> String {
        self.content_id.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Building

fn slot(name: &str, values: Vec<String>) -> Slot {
    Slot {
        name: name.to_owned(),
        values,
    }
}

fn plain(value: &str) -> Vec<LocalizedString> {
    vec![LocalizedString {
        value: value.to_owned(),
        lang: None,
        charset: None,
    }]
}

fn coded(id: String, scheme: &str, parent: &str, code: &AffinityCode) -> Classification {
    Classification {
        id: Some(id),
        scheme: Some(scheme.to_owned()),
        node: None,
        classified_object: Some(parent.to_owned()),
        node_representation: Some(code.code.clone()),
        slots: vec![slot("codingScheme", vec![code.scheme.clone()])],
        name: plain(&code.display),
    }
}

fn identifier(
    id: String,
    scheme: &str,
    parent: &str,
    value: &str,
    name: &str,
) -> ExternalIdentifier {
    ExternalIdentifier {
        id: Some(id),
        scheme: Some(scheme.to_owned()),
        registry_object: Some(parent.to_owned()),
        value: Some(value.to_owned()),
        name: plain(name),
    }
}

/// The author classification (ITI TF-3 4.2.3.1.4), `None` when nothing about the author is known.
fn author(
    id: String,
    scheme: &str,
    parent: &str,
    person: Option<&str>,
    institution: Option<&str>,
) -> Option<Classification> {
    let mut slots = Vec::new();
    if let Some(p) = person.filter(|p| !p.trim().is_empty()) {
        slots.push(slot("authorPerson", vec![p.to_owned()]));
    }
    if let Some(i) = institution.filter(|i| !i.trim().is_empty()) {
        slots.push(slot("authorInstitution", vec![i.to_owned()]));
    }
    (!slots.is_empty()).then(|| Classification {
        id: Some(id),
        scheme: Some(scheme.to_owned()),
        node: None,
        classified_object: Some(parent.to_owned()),
        // ITI TF-3 4.2.3.1.4: an author classification has an empty nodeRepresentation.
        node_representation: Some(String::new()),
        slots,
        name: Vec::new(),
    })
}

/// Escape an HL7 v2 component value (HL7 v2.5 §2.7: `\F\ \S\ \T\ \R\ \E\`).
fn hl7_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\E\\"),
            '|' => out.push_str("\\F\\"),
            '^' => out.push_str("\\S\\"),
            '&' => out.push_str("\\T\\"),
            '~' => out.push_str("\\R\\"),
            c => out.push(c),
        }
    }
    out
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The first Hierarchic Designator with an ISO Universal Entity ID.
fn iso_issuer(items: &[HierarchicDesignator]) -> Option<&str> {
    items
        .iter()
        .find(|h| {
            h.universal_entity_id_type
                .as_deref()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("ISO"))
        })
        .and_then(|h| non_empty(h.universal_entity_id.as_deref()))
}

/// sourcePatientId: the KOS Patient ID with its issuer as a CX (ITI TF-3 4.2.3.2.24):
/// `id^^^ns&OID&ISO`, `id^^^ns` when only the local namespace (0010,0021) is known. A KOS without
/// any issuer and a context without [`SubmissionContext::patient_id_issuer`] gives `id^^^`, which
/// ITI41-10 rightly reports.
fn source_patient_id(p: &kos::Patient, ctx: &SubmissionContext) -> String {
    let Some(id) = non_empty(p.id.as_deref()) else {
        return ctx.patient_id.clone();
    };
    let qualifier = p.issuer_qualifiers.first();
    let namespace = non_empty(p.issuer.as_deref())
        .or_else(|| qualifier.and_then(|q| non_empty(q.local_namespace_entity_id.as_deref())))
        .map(hl7_escape)
        .unwrap_or_default();
    let universal = qualifier.and_then(|q| {
        let ueid = non_empty(q.universal_entity_id.as_deref())?;
        let kind = non_empty(q.universal_entity_id_type.as_deref()).unwrap_or("ISO");
        Some((ueid.to_owned(), kind.to_owned()))
    });
    let universal = universal.or_else(|| {
        non_empty(ctx.patient_id_issuer.as_deref()).map(|oid| (oid.to_owned(), "ISO".to_owned()))
    });
    match universal {
        Some((ueid, kind)) => format!(
            "{}^^^{namespace}&{}&{}",
            hl7_escape(id),
            hl7_escape(&ueid),
            hl7_escape(&kind)
        ),
        None => format!("{}^^^{namespace}", hl7_escape(id)),
    }
}

/// HL7 v2 XPN from a DICOM PN (PS3.5 §6.2.1): the alphabetic group only; DICOM orders the
/// components family, given, middle, prefix, suffix, HL7 family, given, second, suffix, prefix.
fn xpn(pn: &str) -> String {
    let alphabetic = pn.split('=').next().unwrap_or("");
    let c: Vec<&str> = alphabetic.split('^').map(str::trim).collect();
    let get = |i: usize| c.get(i).copied().unwrap_or("");
    let parts = [get(0), get(1), get(2), get(4), get(3)];
    let mut out: Vec<String> = parts.iter().map(|p| hl7_escape(p)).collect();
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("^")
}

/// sourcePatientInfo lines (ITI TF-3 4.2.3.2.25): PID-3, PID-5, PID-7, PID-8 from the KOS.
fn source_patient_info(p: &kos::Patient, source_patient_id: &str) -> Vec<String> {
    let mut lines = vec![format!("PID-3|{source_patient_id}")];
    if let Some(name) = non_empty(p.name.as_deref())
        .map(xpn)
        .filter(|n| !n.is_empty())
    {
        lines.push(format!("PID-5|{name}"));
    }
    if let Some(birth) = non_empty(p.birth_date.as_deref())
        .filter(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
    {
        lines.push(format!("PID-7|{birth}"));
    }
    if let Some(sex) = non_empty(p.sex.as_deref()) {
        lines.push(format!("PID-8|{}", hl7_escape(sex)));
    }
    lines
}

fn parse_offset(s: &str) -> Option<time::UtcOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1i8, s.get(1..)?),
        b'-' => (-1i8, s.get(1..)?),
        _ => return None,
    };
    if rest.len() != 4 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i8 = rest.get(..2)?.parse().ok()?;
    let m: i8 = rest.get(2..)?.parse().ok()?;
    time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// A DTM (ITI TF-3 4.2.3.1.7) from a DICOM DA and TM (PS3.5 Table 6.2-1), shifted to UTC when the
/// UTC offset is known. The precision of the TM is kept (`hh`, `hhmm`, `hhmmss`; fractions are
/// dropped) unless a shift needs the full time; `None` when the date is not a valid DA.
fn dicom_dtm(date: Option<&str>, tm: Option<&str>, offset: Option<&str>) -> Option<String> {
    let d: String = non_empty(date)?.chars().filter(|c| *c != '.').collect();
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = d.get(..4)?.parse().ok()?;
    let month: u8 = d.get(4..6)?.parse().ok()?;
    let day: u8 = d.get(6..)?.parse().ok()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let Some(t) = non_empty(tm) else {
        return Some(d);
    };
    let t: String = t
        .split('.')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    if !matches!(t.len(), 2 | 4 | 6) || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(d);
    }
    let field =
        |r: std::ops::Range<usize>| t.get(r).and_then(|x| x.parse::<u8>().ok()).unwrap_or(0);
    // DICOM allows a leap second (60); a DTM shift cannot carry it.
    let Ok(clock) = time::Time::from_hms(field(0..2), field(2..4), field(4..6).min(59)) else {
        return Some(d);
    };
    match offset.and_then(parse_offset) {
        Some(off) => {
            let utc = time::PrimitiveDateTime::new(date, clock)
                .assume_offset(off)
                .to_offset(time::UtcOffset::UTC);
            Some(format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                utc.year(),
                u8::from(utc.month()),
                utc.day(),
                utc.hour(),
                utc.minute(),
                utc.second()
            ))
        }
        None => Some(format!("{d}{t}")),
    }
}

/// Pad a DTM to 14 digits for comparison.
fn dtm_key(s: &str) -> String {
    format!("{s:0<14}")
}

/// One series of a MADO Image Library (TID 1600 Image Library Group): its Series Instance UID and
/// Modality code.
struct LibraryGroup<'a> {
    series_uid: Option<&'a str>,
    modality: Option<&'a kos::Code>,
}

fn library_groups(items: &[ContentItem]) -> Vec<LibraryGroup<'_>> {
    let mut out = Vec::new();
    for item in items {
        if item.concept_is(IMAGE_LIBRARY_GROUP, DCM) {
            out.push(LibraryGroup {
                series_uid: item
                    .children
                    .iter()
                    .find(|c| c.concept_is(SERIES_INSTANCE_UID_CONCEPT, DCM))
                    .and_then(|c| non_empty(c.value.as_deref())),
                modality: item
                    .children
                    .iter()
                    .find(|c| c.concept_is(MODALITY_CONCEPT, DCM))
                    .and_then(|c| c.code.as_ref()),
            });
        }
        out.extend(library_groups(&item.children));
    }
    out
}

fn target_regions<'a>(items: &'a [ContentItem], out: &mut Vec<&'a kos::Code>) {
    for item in items {
        if item.concept_is(TARGET_REGION, DCM) {
            if let Some(code) = &item.code {
                out.push(code);
            }
        }
        target_regions(&item.children, out);
    }
}

/// Modalities of the referenced series, distinct, in evidence order: the caller's, else the MADO
/// Image Library's, else the one the SOP Class implies.
fn referenced_modalities(manifest: &Manifest, ctx: &SubmissionContext) -> Vec<String> {
    let groups = library_groups(&manifest.content);
    let mut out: Vec<String> = Vec::new();
    for series in manifest.evidence_series() {
        let from_library = groups
            .iter()
            .find(|g| g.series_uid == Some(series))
            .and_then(|g| g.modality)
            .map(|c| c.value.clone());
        let from_sop_class = || {
            manifest
                .evidence
                .iter()
                .filter(|r| r.series_uid == series)
                .find_map(|r| {
                    SOP_CLASS_MODALITIES
                        .iter()
                        .find(|(uid, _)| *uid == r.sop_class.trim())
                        .map(|(_, m)| (*m).to_owned())
                })
        };
        let modality = ctx
            .series_modalities
            .get(series)
            .cloned()
            .or(from_library)
            .or_else(from_sop_class);
        if let Some(m) = modality.map(|m| m.trim().to_ascii_uppercase()) {
            if !m.is_empty() && !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// eventCodeList (RAD68-019/021): one code per referenced modality, then the anatomic regions
/// known from the context's Body Part Examined values and the MADO Target Region items.
fn event_codes(
    manifest: &Manifest,
    ctx: &SubmissionContext,
    codes: &AffinityDomain,
) -> Vec<AffinityCode> {
    let mut out: Vec<AffinityCode> = Vec::new();
    let mut push = |c: AffinityCode| {
        if !out.iter().any(|o| o.code == c.code && o.scheme == c.scheme) {
            out.push(c);
        }
    };
    for m in referenced_modalities(manifest, ctx) {
        if let Some(c) = codes.modality_code(&m) {
            push(c);
        }
    }
    for b in &ctx.body_parts {
        if let Some(c) = codes.anatomic_region_code(b) {
            push(c);
        }
    }
    let mut regions = Vec::new();
    target_regions(&manifest.content, &mut regions);
    for r in regions {
        if let Some(oid) = codes.scheme_oid(&r.scheme) {
            push(AffinityCode {
                code: r.value.clone(),
                scheme: oid.to_owned(),
                display: if r.meaning.trim().is_empty() {
                    r.value.clone()
                } else {
                    r.meaning.clone()
                },
            });
        }
    }
    out
}

/// referenceIdList (ITI TF-3 4.2.3.2.28; standards reference §2.2, §2.3): each accession as
/// `ACC^^^&OID&ISO^urn:ihe:iti:xds:2013:accession` (`ACC^^^^…` without an issuer), then each
/// study as `UID^^^^urn:ihe:iti:xds:2016:studyInstanceUID`, as dcm4chee-arc writes them.
fn reference_ids(manifest: &Manifest, ctx: &SubmissionContext) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: String| {
        if !out.contains(&v) {
            out.push(v);
        }
    };
    let accessions = std::iter::once((
        manifest.study.accession_number.as_deref(),
        manifest.study.accession_issuers.as_slice(),
    ))
    .chain(manifest.referenced_requests.iter().map(|r| {
        (
            r.accession_number.as_deref(),
            r.accession_issuers.as_slice(),
        )
    }));
    for (acc, issuers) in accessions {
        let Some(acc) = non_empty(acc) else { continue };
        let issuer = iso_issuer(issuers).or_else(|| non_empty(ctx.accession_issuer.as_deref()));
        push(match issuer {
            Some(oid) => format!(
                "{}^^^&{}&ISO^{REFERENCE_ID_ACCESSION}",
                hl7_escape(acc),
                hl7_escape(oid)
            ),
            None => format!("{}^^^^{REFERENCE_ID_ACCESSION}", hl7_escape(acc)),
        });
    }
    let studies = non_empty(manifest.study.instance_uid.as_deref())
        .into_iter()
        .chain(manifest.evidence_studies());
    for uid in studies {
        push(format!(
            "{}^^^^{REFERENCE_ID_STUDY_INSTANCE_UID}",
            uid.trim()
        ));
    }
    out
}

/// Build the RAD-68 request registering the KOS manifest `kos_bytes` (parsed as `manifest`):
/// one stable DocumentEntry, its SubmissionSet, the HasMember association (SubmissionSetStatus
/// Original) and the `xdsb:Document` referring to the MIME part [`SubmissionContext::content_id`].
///
/// Values come from the manifest where RAD TF-2 4.68.4.1.2 and ITI TF-3 Table 4.3.1-3 tie them to
/// it (uniqueId = SOP Instance UID, sourcePatientId and sourcePatientInfo from the Patient module,
/// creationTime from Content Date/Time, serviceStartTime from Study Date/Time, referenceIdList,
/// eventCodeList, hash and size of the bytes), from `ctx` for the submission's own values, and
/// from `codes` for the affinity-domain codes.
pub fn manifest_submission(
    kos_bytes: &[u8],
    manifest: &Manifest,
    ctx: &SubmissionContext,
    codes: &AffinityDomain,
) -> ProvideAndRegisterRequest {
    let de_id = ctx.document_entry_id.as_str();
    let ss_id = ctx.submission_set_id.as_str();
    let tz = non_empty(manifest.timezone_offset_from_utc.as_deref())
        .or_else(|| non_empty(ctx.timezone_offset.as_deref()));

    let creation_time = dicom_dtm(
        manifest.content_date.as_deref(),
        manifest.content_time.as_deref(),
        tz,
    )
    .unwrap_or_else(|| ctx.submission_time.clone());
    let service_start = dicom_dtm(
        manifest.study.date.as_deref(),
        manifest.study.time.as_deref(),
        tz,
    );
    let service_stop = ctx
        .service_stop_time
        .clone()
        .unwrap_or_else(|| creation_time.clone());
    let service_stop = match &service_start {
        Some(start) if dtm_key(&service_stop) < dtm_key(start) => start.clone(),
        _ => service_stop,
    };
    let spid = source_patient_id(&manifest.patient, ctx);
    let unique_id = non_empty(manifest.sop_instance_uid.as_deref())
        .or_else(|| non_empty(manifest.media_storage_sop_instance_uid.as_deref()))
        .unwrap_or("")
        .to_owned();

    let mut de_slots = vec![
        slot("creationTime", vec![creation_time]),
        slot("hash", vec![crate::model::ebrim::document_hash(kos_bytes)]),
        slot("languageCode", vec![ctx.language_code.clone()]),
    ];
    if let Some(start) = service_start {
        de_slots.push(slot("serviceStartTime", vec![start]));
    }
    de_slots.push(slot("serviceStopTime", vec![service_stop]));
    de_slots.push(slot("size", vec![kos_bytes.len().to_string()]));
    de_slots.push(slot("sourcePatientId", vec![spid.clone()]));
    de_slots.push(slot(
        "sourcePatientInfo",
        source_patient_info(&manifest.patient, &spid),
    ));
    let refs = reference_ids(manifest, ctx);
    if !refs.is_empty() {
        de_slots.push(slot(SLOT_REFERENCE_ID_LIST, refs));
    }

    let institution = non_empty(ctx.author_institution.as_deref())
        .or_else(|| non_empty(manifest.equipment.institution_name.as_deref()));
    let person = non_empty(ctx.author_person.as_deref());
    let format_code = AffinityCode {
        code: KOS_FORMAT_CODE.to_owned(),
        scheme: KOS_FORMAT_CODING_SCHEME.to_owned(),
        display: "Key Object Selection Document Storage".to_owned(),
    };
    let mut de_classifications: Vec<Classification> = author(
        format!("{de_id}-author"),
        DE_AUTHOR,
        de_id,
        person,
        institution,
    )
    .into_iter()
    .collect();
    de_classifications.push(coded(
        format!("{de_id}-classCode"),
        DE_CLASS_CODE,
        de_id,
        &codes.class_code,
    ));
    de_classifications.push(coded(
        format!("{de_id}-confidentialityCode"),
        DE_CONFIDENTIALITY_CODE,
        de_id,
        &codes.confidentiality_code,
    ));
    for (i, c) in event_codes(manifest, ctx, codes).iter().enumerate() {
        de_classifications.push(coded(
            format!("{de_id}-eventCode{}", i + 1),
            DE_EVENT_CODE,
            de_id,
            c,
        ));
    }
    de_classifications.push(coded(
        format!("{de_id}-formatCode"),
        DE_FORMAT_CODE,
        de_id,
        &format_code,
    ));
    de_classifications.push(coded(
        format!("{de_id}-healthcareFacilityTypeCode"),
        DE_HEALTHCARE_FACILITY_TYPE_CODE,
        de_id,
        &codes.healthcare_facility_type_code,
    ));
    de_classifications.push(coded(
        format!("{de_id}-practiceSettingCode"),
        DE_PRACTICE_SETTING_CODE,
        de_id,
        &codes.practice_setting_code,
    ));
    de_classifications.push(coded(
        format!("{de_id}-typeCode"),
        DE_TYPE_CODE,
        de_id,
        &codes.type_code,
    ));

    let title: String = ctx.title.chars().take(MAX_TITLE_CHARS).collect();
    let document_entry = RegistryObject {
        kind: ObjectKind::ExtrinsicObject,
        id: Some(de_id.to_owned()),
        lid: None,
        object_type: Some(DOC_ENTRY_STABLE.to_owned()),
        status: None,
        home: None,
        mime_type: Some(MIME_DICOM.to_owned()),
        slots: de_slots,
        name: vec![LocalizedString {
            value: title,
            lang: Some(ctx.language_code.clone()),
            charset: Some("UTF-8".to_owned()),
        }],
        description: Vec::new(),
        classifications: de_classifications,
        external_identifiers: vec![
            identifier(
                format!("{de_id}-patientId"),
                DE_PATIENT_ID,
                de_id,
                &ctx.patient_id,
                NAME_DE_PATIENT_ID,
            ),
            identifier(
                format!("{de_id}-uniqueId"),
                DE_UNIQUE_ID,
                de_id,
                &unique_id,
                NAME_DE_UNIQUE_ID,
            ),
        ],
        order_issues: Vec::new(),
    };

    let mut ss_classifications: Vec<Classification> = author(
        format!("{ss_id}-author"),
        SS_AUTHOR,
        ss_id,
        person,
        institution,
    )
    .into_iter()
    .collect();
    ss_classifications.push(coded(
        format!("{ss_id}-contentTypeCode"),
        SS_CONTENT_TYPE_CODE,
        ss_id,
        &codes.content_type_code,
    ));
    let submission_set = RegistryObject {
        kind: ObjectKind::RegistryPackage,
        id: Some(ss_id.to_owned()),
        lid: None,
        object_type: None,
        status: None,
        home: None,
        mime_type: None,
        slots: vec![slot("submissionTime", vec![ctx.submission_time.clone()])],
        name: Vec::new(),
        description: Vec::new(),
        classifications: ss_classifications,
        external_identifiers: vec![
            identifier(
                format!("{ss_id}-uniqueId"),
                SS_UNIQUE_ID,
                ss_id,
                &ctx.submission_set_unique_id,
                NAME_SS_UNIQUE_ID,
            ),
            identifier(
                format!("{ss_id}-sourceId"),
                SS_SOURCE_ID,
                ss_id,
                &ctx.source_id,
                NAME_SS_SOURCE_ID,
            ),
            identifier(
                format!("{ss_id}-patientId"),
                SS_PATIENT_ID,
                ss_id,
                &ctx.patient_id,
                NAME_SS_PATIENT_ID,
            ),
        ],
        order_issues: Vec::new(),
    };

    ProvideAndRegisterRequest {
        submit: SubmitObjectsRequest {
            slots: Vec::new(),
            objects: RegistryObjectList {
                extrinsic_objects: vec![document_entry],
                registry_packages: vec![submission_set],
                classifications: vec![Classification {
                    id: Some(format!("{ss_id}-node")),
                    scheme: None,
                    node: Some(SUBMISSION_SET_NODE.to_owned()),
                    classified_object: Some(ss_id.to_owned()),
                    node_representation: None,
                    slots: Vec::new(),
                    name: Vec::new(),
                }],
                external_identifiers: Vec::new(),
                associations: vec![Association {
                    id: Some(ctx.association_id.clone()),
                    association_type: Some(ASSOC_HAS_MEMBER.to_owned()),
                    source_object: Some(ss_id.to_owned()),
                    target_object: Some(de_id.to_owned()),
                    status: None,
                    slots: vec![slot(
                        "SubmissionSetStatus",
                        vec![SUBMISSION_SET_STATUS_ORIGINAL.to_owned()],
                    )],
                    order_issues: Vec::new(),
                }],
                object_refs: Vec::new(),
                other: Vec::new(),
            },
        },
        documents: vec![Document {
            id: Some(de_id.to_owned()),
            content: DocumentContent::Xop {
                href: cid_url(&ctx.content_id),
            },
        }],
    }
}

/// The Content-ID (without `<>`) of the MIME part that must carry the document of the request's
/// first DocumentEntry: the `xop:Include` href of its `xdsb:Document`, decoded. `None` when that
/// document is inline or missing.
pub fn document_entry_content_id(req: &ProvideAndRegisterRequest) -> Option<String> {
    let de = req
        .submit
        .objects
        .extrinsic_objects
        .first()?
        .id
        .as_deref()?;
    req.documents
        .iter()
        .find(|d| d.id.as_deref() == Some(de))
        .and_then(|d| match &d.content {
            DocumentContent::Xop { href } => content_id_of_cid_url(href).ok(),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    // What the builders write must pass the rules the reference and the checks judge it by.
    use crate::checks::xds::rules::{validate_submission, SubmissionKind, Violation};
    use crate::model::ebrim::{parse_message_bytes, Message};
    use crate::model::fixtures::Fixtures;
    use dicom_dictionary_std::tags;

    #[test]
    fn default_set_is_valid() {
        let d =
            AffinityDomain::from_toml(default_affinity_domain_toml()).expect("default set reads");
        assert_eq!(d, AffinityDomain::default_set());
        assert_eq!(d.class_code.code, "18748-4");
        assert_eq!(d.confidentiality_code.scheme, "2.16.840.1.113883.5.25");
        for m in ["CT", "MR", "DX", "US", "OT", "KO"] {
            let c = d.modality_codes.get(m).expect(m);
            assert_eq!((c.code.as_str(), c.scheme.as_str()), (m, DCM_CODING_SCHEME));
        }
        for b in ["CHEST", "HEAD", "BRAIN", "ABDOMEN"] {
            let c = d.anatomic_region_code(b).expect(b);
            assert_eq!(c.scheme, "2.16.840.1.113883.6.96");
        }
        assert_eq!(d.scheme_oid("SCT"), Some("2.16.840.1.113883.6.96"));
    }

    #[test]
    fn affinity_domain_errors() {
        let unknown = format!("{}\nclass_cod = 1\n", default_affinity_domain_toml());
        let e = AffinityDomain::from_toml(&unknown).expect_err("unknown key");
        assert!(
            matches!(&e, AffinityDomainError::Parse { message, .. } if message.contains("class_cod")),
            "{e}"
        );
        let empty = default_affinity_domain_toml().replacen("code = \"N\"", "code = \" \"", 1);
        let e = AffinityDomain::from_toml(&empty).expect_err("empty code");
        assert!(
            matches!(&e, AffinityDomainError::Invalid { key, .. } if key == "confidentiality_code.code"),
            "{e}"
        );
        let e = AffinityDomain::from_toml("[class_code]\ncode = \"x\"\n").expect_err("missing");
        assert!(matches!(e, AffinityDomainError::Parse { .. }));
        let e = AffinityDomain::load(Path::new("/nonexistent/affinity.toml")).expect_err("no file");
        assert!(matches!(e, AffinityDomainError::Read { .. }));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("domain.toml");
        std::fs::write(&path, default_affinity_domain_toml()).expect("write");
        assert_eq!(
            AffinityDomain::load(&path).expect("loads"),
            AffinityDomain::default_set()
        );
    }

    #[test]
    fn modality_code_fallback() {
        let d = AffinityDomain::default_set();
        assert_eq!(
            d.modality_code(" ct ").map(|c| c.display),
            Some("Computed Tomography".into())
        );
        let xc = d.modality_code("XC").expect("defined term");
        assert_eq!(
            (xc.code.as_str(), xc.scheme.as_str()),
            ("XC", DCM_CODING_SCHEME)
        );
        assert_eq!(d.modality_code("not a term"), None);
        assert_eq!(d.modality_code(""), None);
        assert_eq!(d.anatomic_region_code("NOWHERE"), None);
    }

    #[test]
    fn dicom_dates_to_dtm() {
        assert_eq!(
            dicom_dtm(Some("20260122"), Some("093000"), None).as_deref(),
            Some("20260122093000")
        );
        assert_eq!(
            dicom_dtm(Some("20260122"), Some("093000.123456"), Some("+0100")).as_deref(),
            Some("20260122083000")
        );
        assert_eq!(
            dicom_dtm(Some("20261231"), Some("2230"), Some("-0200")).as_deref(),
            Some("20270101003000")
        );
        assert_eq!(
            dicom_dtm(Some("20260122"), Some("0930"), None).as_deref(),
            Some("202601220930")
        );
        assert_eq!(
            dicom_dtm(Some("2026.01.22"), Some("09:30:00"), None).as_deref(),
            Some("20260122093000")
        );
        assert_eq!(
            dicom_dtm(Some("20260122"), None, Some("+0100")).as_deref(),
            Some("20260122")
        );
        assert_eq!(
            dicom_dtm(Some("20260122"), Some("2599"), None).as_deref(),
            Some("20260122")
        );
        assert_eq!(dicom_dtm(Some("20261322"), Some("0930"), None), None);
        assert_eq!(dicom_dtm(None, Some("0930"), None), None);
        assert_eq!(
            parse_offset("+0530"),
            time::UtcOffset::from_hms(5, 30, 0).ok()
        );
        assert_eq!(parse_offset("0530"), None);
    }

    #[test]
    fn patient_identity_and_names() {
        assert_eq!(xpn("Roe^Richard^^Dr"), "Roe^Richard^^^Dr");
        assert_eq!(xpn("Doe^Jane"), "Doe^Jane");
        assert_eq!(xpn("Yamada^Tarou=山田^太郎"), "Yamada^Tarou");
        assert_eq!(xpn("A&B^C|D"), "A\\T\\B^C\\F\\D");
        let ctx = SubmissionContext::new("X^^^&1.2&ISO", "1.2.3", "1.2.3.4", "20260101000000");
        let mut p = kos::Patient {
            id: Some("P1".into()),
            issuer: Some("HOSP".into()),
            ..Default::default()
        };
        assert_eq!(source_patient_id(&p, &ctx), "P1^^^HOSP");
        let mut with_oid = ctx.clone();
        with_oid.patient_id_issuer = Some("1.2.9".into());
        assert_eq!(source_patient_id(&p, &with_oid), "P1^^^HOSP&1.2.9&ISO");
        p.issuer_qualifiers.push(HierarchicDesignator {
            local_namespace_entity_id: None,
            universal_entity_id: Some("1.2.8".into()),
            universal_entity_id_type: Some("ISO".into()),
        });
        assert_eq!(source_patient_id(&p, &with_oid), "P1^^^HOSP&1.2.8&ISO");
        p.issuer = None;
        assert_eq!(source_patient_id(&p, &ctx), "P1^^^&1.2.8&ISO");
        p.id = None;
        assert_eq!(source_patient_id(&p, &ctx), "X^^^&1.2&ISO");
        let info = source_patient_info(
            &kos::Patient {
                name: Some("Müller^Zoë".into()),
                birth_date: Some("19700101".into()),
                sex: Some("F".into()),
                ..Default::default()
            },
            "P1^^^HOSP",
        );
        assert_eq!(
            info,
            vec![
                "PID-3|P1^^^HOSP",
                "PID-5|Müller^Zoë",
                "PID-7|19700101",
                "PID-8|F"
            ]
        );
    }

    fn fixtures() -> Fixtures {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        Fixtures::load(&dir).expect("fixture index")
    }

    fn body_part(path: &Path) -> Option<String> {
        let obj = dicom_object::OpenFileOptions::new()
            .read_until(tags::PIXEL_DATA)
            .open_file(path)
            .ok()?;
        let v = obj
            .element_opt(tags::BODY_PART_EXAMINED)
            .ok()??
            .to_str()
            .ok()?;
        non_empty(Some(v.as_ref())).map(str::to_owned)
    }

    const ACCESSION_ISSUER: &str = "1.3.6.1.4.1.21367.2005.3.7";

    fn context(
        patient: &str,
        with_modalities: bool,
        study: &crate::model::fixtures::FixtureStudy<'_>,
        fx: &Fixtures,
    ) -> SubmissionContext {
        let mut ctx = SubmissionContext::new(
            &format!("{patient}^^^&1.3.6.1.4.1.21367.13.20.1000&ISO"),
            "1.3.6.1.4.1.21367.13.80.110",
            "1.3.6.1.4.1.21367.13.80.110.1.20260301",
            "20260301120000",
        );
        ctx.author_institution = Some("Radiology Ü & <Partners>^^^^^^^^^1.2.3".into());
        ctx.author_person = Some("^Smith^John".into());
        ctx.accession_issuer = Some(ACCESSION_ISSUER.into());
        for i in study.instances.iter().filter(|i| !i.kos) {
            if with_modalities {
                ctx.series_modalities
                    .insert(i.series_uid.clone(), i.modality.clone());
            }
            if let Some(b) = body_part(&fx.file(i)) {
                if !ctx.body_parts.contains(&b) {
                    ctx.body_parts.push(b);
                }
            }
        }
        ctx
    }

    fn no_violations(v: &[Violation]) {
        assert!(v.is_empty(), "{v:#?}");
    }

    #[test]
    fn fixture_manifests_register_cleanly() {
        let fx = fixtures();
        let codes = AffinityDomain::default_set();
        let koses: Vec<_> = fx.instances.iter().filter(|i| i.kos).collect();
        assert!(!koses.is_empty());
        // The anatomic-region assertions below need Body Part Examined read from the instances.
        let mut chest_seen = false;
        for kos_instance in koses {
            let study = fx.study(&kos_instance.study_uid).expect("study");
            let bytes = std::fs::read(fx.file(kos_instance)).expect("kos bytes");
            let manifest = kos::parse(&bytes).expect("kos parses");
            for with_modalities in [true, false] {
                let ctx = context(&kos_instance.patient_id, with_modalities, &study, &fx);
                if ctx.body_parts.iter().any(|b| b == "CHEST") {
                    chest_seen = true;
                }
                let req = manifest_submission(&bytes, &manifest, &ctx, &codes);
                let who = format!("{} (modalities given: {with_modalities})", study.alias);

                no_violations(&validate_submission(
                    &req.submit,
                    Some(&req.documents),
                    SubmissionKind::Rad68,
                ));
                no_violations(&validate_submission(
                    &req.submit,
                    None,
                    SubmissionKind::MetadataOnly { imaging: true },
                ));

                let xml = req.to_xml();
                match parse_message_bytes(xml.as_bytes()) {
                    Ok(Message::ProvideAndRegister(back)) => assert_eq!(back, req, "{who}"),
                    other => panic!("{who}: does not parse back: {other:?}"),
                }

                let de = &req.submit.objects.document_entries()[0];
                assert_eq!(
                    de.unique_id.as_deref(),
                    Some(kos_instance.sop_uid.as_str()),
                    "{who}"
                );
                assert_eq!(de.mime_type.as_deref(), Some(MIME_DICOM));
                assert_eq!(
                    de.format_code
                        .as_ref()
                        .map(|c| (c.code.as_str(), c.scheme.as_deref())),
                    Some((KOS_FORMAT_CODE, Some(KOS_FORMAT_CODING_SCHEME)))
                );
                assert_eq!(de.patient_id.as_deref(), Some(ctx.patient_id.as_str()));
                assert_eq!(
                    de.source_patient_id.as_deref(),
                    Some(format!("{}^^^CTH", kos_instance.patient_id).as_str())
                );
                assert_eq!(de.size, Some(bytes.len().to_string()));
                assert_eq!(de.hash, Some(crate::model::ebrim::document_hash(&bytes)));
                assert_eq!(de.hash.as_ref().map(String::len), Some(40));
                let study_ref = format!("{}^^^^{REFERENCE_ID_STUDY_INSTANCE_UID}", study.uid);
                assert!(
                    de.reference_ids.contains(&study_ref),
                    "{who}: {:?}",
                    de.reference_ids
                );
                let accession = kos_instance
                    .accession
                    .as_deref()
                    .expect("fixture accession");
                let acc_ref =
                    format!("{accession}^^^&{ACCESSION_ISSUER}&ISO^{REFERENCE_ID_ACCESSION}");
                assert!(
                    de.reference_ids.contains(&acc_ref),
                    "{who}: {:?}",
                    de.reference_ids
                );
                let event: Vec<&str> = de.event_codes.iter().map(|c| c.code.as_str()).collect();
                for i in study.instances.iter().filter(|i| !i.kos) {
                    assert!(event.contains(&i.modality.as_str()), "{who}: {event:?}");
                }
                for b in &ctx.body_parts {
                    let c = codes
                        .anatomic_region_code(b)
                        .expect("fixture body part mapped");
                    assert!(event.contains(&c.code.as_str()), "{who}: {event:?}");
                }
                assert!(de
                    .event_codes
                    .iter()
                    .all(|c| c.scheme.is_some() && c.display.is_some()));
                assert_eq!(de.creation_time.as_deref().map(str::len), Some(14));
                assert_eq!(
                    de.service_start_time.as_deref(),
                    kos_instance
                        .study_date
                        .as_ref()
                        .map(|d| format!("{d}093000"))
                        .as_deref()
                );
                assert_eq!(
                    document_entry_content_id(&req).as_deref(),
                    Some(ctx.content_id.as_str())
                );
                let ss = req.submit.objects.submission_set().expect("submission set");
                assert_eq!(ss.patient_id.as_deref(), Some(ctx.patient_id.as_str()));
                assert_eq!(
                    ss.unique_id.as_deref(),
                    Some(ctx.submission_set_unique_id.as_str())
                );
                assert_eq!(ss.source_id.as_deref(), Some(ctx.source_id.as_str()));
            }
        }
        assert!(
            chest_seen,
            "no fixture instance gave Body Part Examined CHEST"
        );
    }

    #[test]
    fn every_identifiable_names_its_parent() {
        let fx = fixtures();
        let kos_instance = fx.instances.iter().find(|i| i.kos).expect("a manifest");
        let study = fx.study(&kos_instance.study_uid).expect("study");
        let bytes = std::fs::read(fx.file(kos_instance)).expect("kos bytes");
        let manifest = kos::parse(&bytes).expect("kos parses");
        let ctx = context(&kos_instance.patient_id, true, &study, &fx);
        let req = manifest_submission(&bytes, &manifest, &ctx, &AffinityDomain::default_set());
        let list = &req.submit.objects;
        let mut ids = Vec::new();
        for o in list.extrinsic_objects.iter().chain(&list.registry_packages) {
            ids.extend(o.id.clone());
            for c in &o.classifications {
                assert!(c.id.is_some());
                assert_eq!(c.classified_object, o.id);
                ids.extend(c.id.clone());
                if c.node_representation.as_deref() != Some("") {
                    assert_eq!(
                        c.slots.iter().filter(|s| s.name == "codingScheme").count(),
                        1
                    );
                    assert!(!c.name.is_empty());
                }
            }
            for e in &o.external_identifiers {
                assert!(e.id.is_some());
                assert_eq!(e.registry_object, o.id);
                ids.extend(e.id.clone());
            }
        }
        ids.extend(list.classifications.iter().filter_map(|c| c.id.clone()));
        ids.extend(list.associations.iter().filter_map(|a| a.id.clone()));
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    }

    #[test]
    fn timezone_and_title_and_stop_time() {
        let fx = fixtures();
        let kos_instance = fx.instances.iter().find(|i| i.kos).expect("a manifest");
        let study = fx.study(&kos_instance.study_uid).expect("study");
        let bytes = std::fs::read(fx.file(kos_instance)).expect("kos bytes");
        let mut manifest = kos::parse(&bytes).expect("kos parses");
        manifest.timezone_offset_from_utc = Some("+0100".into());
        let mut ctx = context(&kos_instance.patient_id, true, &study, &fx);
        ctx.title = "T".repeat(200);
        ctx.service_stop_time = Some("2001".into());
        let req = manifest_submission(&bytes, &manifest, &ctx, &AffinityDomain::default_set());
        let de = &req.submit.objects.document_entries()[0];
        let date = kos_instance.study_date.as_deref().expect("study date");
        assert_eq!(de.service_start_time, Some(format!("{date}083000")));
        // A stop time before the start is raised to the start.
        assert_eq!(de.service_stop_time, de.service_start_time);
        assert_eq!(de.title.as_deref().map(|t| t.chars().count()), Some(128));
        no_violations(&validate_submission(
            &req.submit,
            Some(&req.documents),
            SubmissionKind::Rad68,
        ));
    }
}
