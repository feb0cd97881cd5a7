//! Audit messages as IHE ATNA Record Audit Event (ITI-20) carries them: the DICOM audit message
//! (DICOM PS3.15 §A.5, the XML schema derived from RFC 3881) and the FHIR R4 AuditEvent of
//! RESTful ATNA and the IHE Basic Audit Log Patterns (BALP), both read into one typed
//! [`AuditMessage`] so that the same checks judge either.
//!
//! The model keeps what was sent, not what should have been: attributes are the strings received
//! (`EventOutcomeIndicator="7"` stays "7"), elements that may repeat are lists, and elements the
//! schema does not know are listed in [`AuditMessage::unexpected`]. Judging is `checks::atna`'s
//! work; parsing fails only when the bytes are not an audit message at all ([`AuditError`]).
//!
//! [`dicom::parse`] reads the XML with the hardened reader of `transport::soap` (no DTD, no entity
//! but the five predefined, UTF-8 only, bounded size, depth and element count);
//! [`AuditMessage::to_xml`] writes one. [`fhir::parse`] reads a FHIR AuditEvent (JSON).
//!
//! Pinned texts: DICOM PS3.15 2026b §A.5.1 (schema) and §A.5.2 (conventions); HL7 FHIR R4
//! AuditEvent; IHE ITI BALP 1.1.x.

pub mod dicom;
pub mod fhir;

use serde::Serialize;

/// `codeSystemName` of the DICOM controlled terminology (PS3.16).
pub const DCM: &str = "DCM";

/// `codeSystemName` IHE uses for EventTypeCode (ITI TF-2 §3.x.5.1 tables).
pub const IHE_TRANSACTIONS: &str = "IHE Transactions";

/// Which encoding the message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// DICOM PS3.15 §A.5 XML.
    DicomXml,
    /// FHIR R4 AuditEvent (JSON).
    FhirJson,
}

/// A coded value: `csd-code`, `codeSystemName`, `displayName`, `originalText` (PS3.15 §A.5.1
/// `CodedValueType`; RFC 3881's `code` attribute is read as `csd-code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodedValue {
    /// `csd-code` (or RFC 3881 `code`), empty when absent.
    pub code: String,
    /// `codeSystemName`.
    pub code_system_name: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `originalText`.
    pub original_text: Option<String>,
    /// True when the code came in RFC 3881's `code` attribute instead of `csd-code`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rfc3881_code: bool,
}

impl CodedValue {
    /// A coded value with a code system and original text.
    pub fn new(code: &str, system: &str, text: &str) -> CodedValue {
        CodedValue {
            code: code.into(),
            code_system_name: Some(system.into()),
            display_name: None,
            original_text: Some(text.into()),
            rfc3881_code: false,
        }
    }

    /// True when the code is `code` in system `system`.
    pub fn is(&self, code: &str, system: &str) -> bool {
        self.code == code && self.code_system_name.as_deref() == Some(system)
    }
}

impl std::fmt::Display for CodedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({}, {}, \"{}\")",
            self.code,
            self.code_system_name.as_deref().unwrap_or(""),
            self.original_text
                .as_deref()
                .or(self.display_name.as_deref())
                .unwrap_or("")
        )
    }
}

/// EventIdentification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventIdentification {
    /// EventID.
    pub event_id: Option<CodedValue>,
    /// EventTypeCode, each.
    pub event_type_codes: Vec<CodedValue>,
    /// `EventActionCode` attribute.
    pub action_code: Option<String>,
    /// `EventDateTime` attribute.
    pub date_time: Option<String>,
    /// `EventOutcomeIndicator` attribute.
    pub outcome_indicator: Option<String>,
    /// EventOutcomeDescription, each.
    pub outcome_descriptions: Vec<String>,
    /// PurposeOfUse, each.
    pub purpose_of_use: Vec<CodedValue>,
}

/// ActiveParticipant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActiveParticipant {
    /// `UserID`.
    pub user_id: Option<String>,
    /// `AlternativeUserID`.
    pub alternative_user_id: Option<String>,
    /// `UserName`.
    pub user_name: Option<String>,
    /// `UserIsRequestor`, as sent.
    pub user_is_requestor: Option<String>,
    /// `NetworkAccessPointID`.
    pub network_access_point_id: Option<String>,
    /// `NetworkAccessPointTypeCode`, as sent.
    pub network_access_point_type_code: Option<String>,
    /// RoleIDCode, each.
    pub role_id_codes: Vec<CodedValue>,
    /// MediaIdentifier/MediaType.
    pub media_type: Option<CodedValue>,
}

impl ActiveParticipant {
    /// True when one RoleIDCode is `(code, DCM)`.
    pub fn has_role(&self, code: &str) -> bool {
        self.role_id_codes.iter().any(|c| c.is(code, DCM))
    }

    /// `UserIsRequestor` read as xs:boolean (`true`/`1`, `false`/`0`); `None` otherwise.
    pub fn is_requestor(&self) -> Option<bool> {
        match self.user_is_requestor.as_deref().map(str::trim) {
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            _ => None,
        }
    }
}

/// AuditSourceIdentification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditSourceIdentification {
    /// `AuditSourceID`.
    pub audit_source_id: Option<String>,
    /// `AuditEnterpriseSiteID`.
    pub audit_enterprise_site_id: Option<String>,
    /// AuditSourceTypeCode, each.
    pub type_codes: Vec<CodedValue>,
}

/// SOPClass of a study participant object (PS3.15 §A.5.2.5 extension).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SopClass {
    /// `UID`.
    pub uid: Option<String>,
    /// `NumberOfInstances`.
    pub number_of_instances: Option<String>,
    /// Instance/@UID, each.
    pub instances: Vec<String>,
}

/// ParticipantObjectIdentification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParticipantObject {
    /// `ParticipantObjectID`.
    pub id: Option<String>,
    /// `ParticipantObjectTypeCode`, as sent.
    pub type_code: Option<String>,
    /// `ParticipantObjectTypeCodeRole`, as sent.
    pub type_code_role: Option<String>,
    /// `ParticipantObjectDataLifeCycle`, as sent.
    pub data_life_cycle: Option<String>,
    /// `ParticipantObjectSensitivity`.
    pub sensitivity: Option<String>,
    /// ParticipantObjectIDTypeCode.
    pub id_type_code: Option<CodedValue>,
    /// ParticipantObjectName.
    pub name: Option<String>,
    /// ParticipantObjectQuery (base64 text, as sent).
    pub query: Option<String>,
    /// ParticipantObjectDetail (type, value as sent: base64 in the DICOM schema).
    pub details: Vec<(String, String)>,
    /// ParticipantObjectDescription, each.
    pub descriptions: Vec<String>,
    /// SOPClass, each.
    pub sop_classes: Vec<SopClass>,
    /// Accession/@Number, each.
    pub accessions: Vec<String>,
    /// ParticipantObjectContainsStudy/StudyIDs/@UID, each.
    pub contains_studies: Vec<String>,
}

impl ParticipantObject {
    /// The value of the first detail of type `kind`, base64-decoded when it decodes to UTF-8.
    pub fn detail(&self, kind: &str) -> Option<String> {
        use base64::Engine;
        let raw = self.details.iter().find(|(t, _)| t == kind)?.1.trim();
        match base64::engine::general_purpose::STANDARD.decode(raw) {
            Ok(b) => String::from_utf8(b).ok().or_else(|| Some(raw.to_string())),
            Err(_) => Some(raw.to_string()),
        }
    }

    /// True when type and role are these codes.
    pub fn is(&self, type_code: &str, role: &str) -> bool {
        self.type_code.as_deref() == Some(type_code) && self.type_code_role.as_deref() == Some(role)
    }
}

/// One audit message, as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditMessage {
    /// How it came.
    pub encoding: Encoding,
    /// EventIdentification (`None` when missing).
    pub event: Option<EventIdentification>,
    /// ActiveParticipant, each.
    pub active_participants: Vec<ActiveParticipant>,
    /// AuditSourceIdentification, each.
    pub audit_sources: Vec<AuditSourceIdentification>,
    /// ParticipantObjectIdentification, each.
    pub participant_objects: Vec<ParticipantObject>,
    /// Elements or attributes the DICOM schema does not define, as `parent/child` paths.
    pub unexpected: Vec<String>,
    /// Required parts the encoding could not carry, as paths (an element without its required
    /// attribute is still read; this lists what was missing structurally).
    pub missing: Vec<String>,
}

impl Default for AuditMessage {
    fn default() -> Self {
        AuditMessage {
            encoding: Encoding::DicomXml,
            event: None,
            active_participants: Vec::new(),
            audit_sources: Vec::new(),
            participant_objects: Vec::new(),
            unexpected: Vec::new(),
            missing: Vec::new(),
        }
    }
}

impl AuditMessage {
    /// The EventID's code, if any.
    pub fn event_id(&self) -> Option<&CodedValue> {
        self.event.as_ref()?.event_id.as_ref()
    }

    /// True when an EventTypeCode is `(code, "IHE Transactions")` (or the code with any system,
    /// when `any_system`).
    pub fn has_event_type(&self, code: &str) -> bool {
        self.event
            .as_ref()
            .is_some_and(|e| e.event_type_codes.iter().any(|c| c.code == code))
    }

    /// The active participants with RoleIDCode `(code, DCM)`.
    pub fn participants_with_role<'a>(
        &'a self,
        code: &'a str,
    ) -> impl Iterator<Item = &'a ActiveParticipant> + 'a {
        self.active_participants
            .iter()
            .filter(move |p| p.has_role(code))
    }

    /// The participant objects of this type and role.
    pub fn objects<'a>(
        &'a self,
        type_code: &'a str,
        role: &'a str,
    ) -> impl Iterator<Item = &'a ParticipantObject> + 'a {
        self.participant_objects
            .iter()
            .filter(move |o| o.is(type_code, role))
    }

    /// The message as DICOM PS3.15 §A.5 XML (UTF-8, no BOM).
    pub fn to_xml(&self) -> String {
        dicom::write(self)
    }
}

/// Why bytes are not an audit message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// Not XML the hardened reader accepts (malformed, DTD, unknown entity, not UTF-8, too big).
    #[error("the audit message is not acceptable XML: {0}")]
    Xml(#[from] crate::transport::soap::XmlError),
    /// The root element is not AuditMessage.
    #[error("the root element is {found}, not AuditMessage (DICOM PS3.15 §A.5.1)")]
    NotAuditMessage {
        /// The root's local name.
        found: String,
    },
    /// Not JSON, or too deep.
    #[error("the AuditEvent is not JSON: {0}")]
    Json(String),
    /// JSON that is not a FHIR AuditEvent.
    #[error("the resource is {found}, not an AuditEvent")]
    NotAuditEvent {
        /// Its resourceType, or a description.
        found: String,
    },
    /// Bigger than the limit.
    #[error("the audit message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size.
        size: usize,
        /// Limit.
        limit: usize,
    },
}

/// Parse an audit payload whatever its encoding: JSON when it starts with `{` (after whitespace
/// and a BOM), DICOM XML otherwise.
pub fn parse_any(bytes: &[u8]) -> Result<AuditMessage, AuditError> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = b.iter().find(|c| !c.is_ascii_whitespace());
    if first == Some(&b'{') {
        fhir::parse(b)
    } else {
        dicom::parse(b)
    }
}
