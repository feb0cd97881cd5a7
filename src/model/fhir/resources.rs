//! The resources: one struct each, every element optional, unknown elements kept in `other`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Attachment, CodeableConcept, Coding, Extension, Identifier, Meta, Narrative, Period, Reference,
};

type Other = BTreeMap<String, Value>;

macro_rules! resource {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Logical id.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            /// Metadata.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub meta: Option<Meta>,
            /// Narrative.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub text: Option<Narrative>,
            /// Contained resources (kept as JSON; see [`Resource::from_json`]).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub contained: Vec<Value>,
            /// Extensions.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub extension: Vec<Extension>,
            /// Modifier extensions.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub modifier_extension: Vec<Extension>,
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "is_default")]
                pub $field: $ty,
            )*
            /// Elements the harness does not model.
            #[serde(flatten)]
            pub other: Other,
        }
    };
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

resource!(
    /// Bundle.
    Bundle {
        /// Business identifier.
        identifier: Option<Identifier>,
        /// document | message | transaction | transaction-response | batch | … | searchset | collection.
        type_: Option<String>,
        /// When assembled.
        timestamp: Option<String>,
        /// Search total.
        total: Option<u64>,
        /// Links (self, next).
        link: Vec<BundleLink>,
        /// Entries.
        entry: Vec<BundleEntry>,
    }
);

/// Bundle.link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleLink {
    /// self | next | …
    #[serde(default)]
    pub relation: String,
    /// URL.
    #[serde(default)]
    pub url: String,
}

/// Bundle.entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// Absolute URL or `urn:uuid:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource, as JSON ([`Resource::from_json`] types it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    /// Search information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<EntrySearch>,
    /// Transaction request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<EntryRequest>,
    /// Transaction response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<EntryResponse>,
}

impl BundleEntry {
    /// The entry's `resourceType`, if any.
    pub fn resource_type(&self) -> Option<&str> {
        self.resource
            .as_ref()
            .and_then(|r| r.get("resourceType"))
            .and_then(Value::as_str)
    }

    /// The resource typed.
    pub fn typed(&self) -> Option<Result<Resource, ResourceError>> {
        self.resource.as_ref().map(Resource::from_json)
    }
}

/// Bundle.entry.search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntrySearch {
    /// match | include | outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// Bundle.entry.request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryRequest {
    /// GET | HEAD | POST | PUT | DELETE | PATCH.
    #[serde(default)]
    pub method: String,
    /// URL.
    #[serde(default)]
    pub url: String,
    /// Conditional create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_none_exist: Option<String>,
}

/// Bundle.entry.response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryResponse {
    /// Status code (with or without a reason phrase).
    #[serde(default)]
    pub status: String,
    /// Location of the created resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Last modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Warnings (OperationOutcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Value>,
}

resource!(
    /// List (MHD SubmissionSet and Folder).
    List {
        /// Identifiers (uniqueId, entryUUID).
        identifier: Vec<Identifier>,
        /// current | retired | entered-in-error.
        status: Option<String>,
        /// working | snapshot | changes.
        mode: Option<String>,
        /// Title.
        title: Option<String>,
        /// submissionset | folder.
        code: Option<CodeableConcept>,
        /// The patient.
        subject: Option<Reference>,
        /// When created.
        date: Option<String>,
        /// Who created it.
        source: Option<Reference>,
        /// Entries.
        entry: Vec<ListEntry>,
    }
);

/// List.entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The item.
    #[serde(default)]
    pub item: Reference,
}

resource!(
    /// DocumentReference.
    DocumentReference {
        /// Master version identifier (uniqueId).
        master_identifier: Option<Identifier>,
        /// Other identifiers (entryUUID).
        identifier: Vec<Identifier>,
        /// current | superseded | entered-in-error.
        status: Option<String>,
        /// preliminary | final | … (0..0 in MHD).
        doc_status: Option<String>,
        /// Kind of document (typeCode).
        type_: Option<CodeableConcept>,
        /// classCode.
        category: Vec<CodeableConcept>,
        /// The patient.
        subject: Option<Reference>,
        /// When this reference was created.
        date: Option<String>,
        /// Authors.
        author: Vec<Reference>,
        /// Authenticator.
        authenticator: Option<Reference>,
        /// Custodian.
        custodian: Option<Reference>,
        /// Relationships to other documents.
        relates_to: Vec<RelatesTo>,
        /// Title/comment.
        description: Option<String>,
        /// confidentialityCode.
        security_label: Vec<CodeableConcept>,
        /// The document.
        content: Vec<DocumentContent>,
        /// Clinical context.
        context: Option<DocumentContext>,
    }
);

/// DocumentReference.relatesTo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RelatesTo {
    /// replaces | transforms | signs | appends.
    #[serde(default)]
    pub code: String,
    /// Target DocumentReference.
    #[serde(default)]
    pub target: Reference,
}

/// DocumentReference.content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentContent {
    /// Where to get the document.
    #[serde(default)]
    pub attachment: Attachment,
    /// formatCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Coding>,
}

/// DocumentReference.context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentContext {
    /// Encounters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encounter: Vec<Reference>,
    /// eventCodeList.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event: Vec<CodeableConcept>,
    /// Service period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// healthcareFacilityTypeCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_type: Option<CodeableConcept>,
    /// practiceSettingCode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practice_setting: Option<CodeableConcept>,
    /// sourcePatientInfo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_patient_info: Option<Reference>,
    /// referenceIdList (Study Instance UID, accession, order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Reference>,
}

resource!(
    /// Binary.
    Binary {
        /// MIME type.
        content_type: Option<String>,
        /// Access control.
        security_context: Option<Reference>,
        /// The data, base64.
        data: Option<String>,
    }
);

resource!(
    /// OperationOutcome.
    OperationOutcome {
        /// Issues.
        issue: Vec<Issue>,
    }
);

/// OperationOutcome.issue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// fatal | error | warning | information.
    #[serde(default)]
    pub severity: String,
    /// Issue type.
    #[serde(default)]
    pub code: String,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<CodeableConcept>,
    /// Diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// FHIRPath of the element.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

impl OperationOutcome {
    /// One issue.
    pub fn issue(severity: &str, code: &str, diagnostics: impl Into<String>) -> OperationOutcome {
        OperationOutcome {
            issue: vec![Issue {
                severity: severity.into(),
                code: code.into(),
                details: None,
                diagnostics: Some(diagnostics.into()),
                expression: Vec::new(),
            }],
            ..OperationOutcome::default()
        }
    }
}

resource!(
    /// Patient.
    Patient {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// Active.
        active: Option<bool>,
        /// Names.
        name: Vec<HumanName>,
        /// Gender.
        gender: Option<String>,
        /// Birth date.
        birth_date: Option<String>,
    }
);

/// HumanName.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanName {
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

resource!(
    /// Practitioner.
    Practitioner {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// Names.
        name: Vec<HumanName>,
    }
);

resource!(
    /// PractitionerRole.
    PractitionerRole {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// The practitioner.
        practitioner: Option<Reference>,
        /// The organisation.
        organization: Option<Reference>,
    }
);

resource!(
    /// Organization.
    Organization {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// Name.
        name: Option<String>,
    }
);

resource!(
    /// Device (the MADO manifest creator).
    Device {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// Manufacturer.
        manufacturer: Option<String>,
        /// Names.
        device_name: Vec<DeviceName>,
        /// Type.
        type_: Option<CodeableConcept>,
        /// Owner organisation.
        owner: Option<Reference>,
    }
);

/// Device.deviceName.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceName {
    /// The name.
    #[serde(default)]
    pub name: String,
    /// udi-label-name | user-friendly-name | patient-reported-name | manufacturer-name | model-name | other.
    #[serde(default, rename = "type")]
    pub type_: String,
}

resource!(
    /// Endpoint (MADO WADO-RS and viewer endpoints).
    Endpoint {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// active | suspended | error | off | entered-in-error | test.
        status: Option<String>,
        /// Protocol (dicom-wado-rs, …).
        connection_type: Option<Coding>,
        /// Name.
        name: Option<String>,
        /// Managing organisation.
        managing_organization: Option<Reference>,
        /// Payload types.
        payload_type: Vec<CodeableConcept>,
        /// Payload MIME types.
        payload_mime_type: Vec<String>,
        /// Base URL (may be absent with a data-absent-reason extension on `_address`).
        address: Option<String>,
    }
);

resource!(
    /// ImagingStudy.
    ImagingStudy {
        /// Identifiers (Study Instance UID, accession).
        identifier: Vec<Identifier>,
        /// registered | available | cancelled | entered-in-error | unknown.
        status: Option<String>,
        /// Modalities.
        modality: Vec<Coding>,
        /// The patient.
        subject: Option<Reference>,
        /// Start.
        started: Option<String>,
        /// The order(s).
        based_on: Vec<Reference>,
        /// Referrer.
        referrer: Option<Reference>,
        /// Study endpoints.
        endpoint: Vec<Reference>,
        /// Series count.
        number_of_series: Option<u64>,
        /// Instance count.
        number_of_instances: Option<u64>,
        /// Procedure codes.
        procedure_code: Vec<CodeableConcept>,
        /// Description.
        description: Option<String>,
        /// Series.
        series: Vec<ImagingSeries>,
    }
);

/// ImagingStudy.series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagingSeries {
    /// Extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Series Instance UID.
    #[serde(default)]
    pub uid: String,
    /// Series Number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Modality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modality: Option<Coding>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Instance count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_instances: Option<u64>,
    /// Endpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint: Vec<Reference>,
    /// Body site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_site: Option<Coding>,
    /// Laterality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub laterality: Option<Coding>,
    /// Start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// Instances.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance: Vec<ImagingInstance>,
}

/// ImagingStudy.series.instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagingInstance {
    /// Extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// SOP Instance UID.
    #[serde(default)]
    pub uid: String,
    /// SOP Class UID.
    #[serde(default, rename = "sopClass")]
    pub sop_class: Coding,
    /// Instance Number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

resource!(
    /// Composition (the first entry of a FHIR document).
    Composition {
        /// Identifier.
        identifier: Option<Identifier>,
        /// preliminary | final | amended | entered-in-error.
        status: Option<String>,
        /// Document type.
        type_: Option<CodeableConcept>,
        /// Categories.
        category: Vec<CodeableConcept>,
        /// The patient.
        subject: Option<Reference>,
        /// Encounter.
        encounter: Option<Reference>,
        /// Date.
        date: Option<String>,
        /// Authors.
        author: Vec<Reference>,
        /// Title.
        title: Option<String>,
        /// Confidentiality.
        confidentiality: Option<String>,
        /// Attesters.
        attester: Vec<Attester>,
        /// Custodian.
        custodian: Option<Reference>,
        /// Events.
        event: Vec<Value>,
        /// Sections.
        section: Vec<Section>,
    }
);

/// Composition.attester.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attester {
    /// personal | professional | legal | official.
    #[serde(default)]
    pub mode: String,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<Reference>,
}

/// Composition.section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    /// Extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Section code (LOINC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    /// Narrative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Narrative>,
    /// Entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<Reference>,
    /// Why empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_reason: Option<CodeableConcept>,
    /// Subsections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub section: Vec<Section>,
}

resource!(
    /// DiagnosticReport.
    DiagnosticReport {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// Orders (or an accession identifier).
        based_on: Vec<Reference>,
        /// registered | partial | preliminary | final | …
        status: Option<String>,
        /// Categories.
        category: Vec<CodeableConcept>,
        /// Code.
        code: Option<CodeableConcept>,
        /// The patient.
        subject: Option<Reference>,
        /// Effective time.
        effective_date_time: Option<String>,
        /// Issued.
        issued: Option<String>,
        /// Performers.
        performer: Vec<Reference>,
        /// Results interpreters.
        results_interpreter: Vec<Reference>,
        /// Results.
        result: Vec<Reference>,
        /// Imaging studies.
        imaging_study: Vec<Reference>,
        /// Conclusion.
        conclusion: Option<String>,
        /// Coded conclusions.
        conclusion_code: Vec<CodeableConcept>,
        /// Presented forms.
        presented_form: Vec<Attachment>,
    }
);

resource!(
    /// ServiceRequest (the order; carries the accession number).
    ServiceRequest {
        /// Identifiers (placer order, accession).
        identifier: Vec<Identifier>,
        /// Status.
        status: Option<String>,
        /// Intent.
        intent: Option<String>,
        /// Code.
        code: Option<CodeableConcept>,
        /// The patient.
        subject: Option<Reference>,
        /// Reasons.
        reason_code: Vec<CodeableConcept>,
    }
);

resource!(
    /// Observation.
    Observation {
        /// Identifiers.
        identifier: Vec<Identifier>,
        /// Status.
        status: Option<String>,
        /// Categories.
        category: Vec<CodeableConcept>,
        /// Code.
        code: Option<CodeableConcept>,
        /// The patient.
        subject: Option<Reference>,
        /// Body site.
        body_site: Option<CodeableConcept>,
        /// Method.
        method: Option<CodeableConcept>,
    }
);

/// A resource typed by its `resourceType`; types the harness does not model stay JSON.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Resource {
    Bundle(Box<Bundle>),
    List(Box<List>),
    DocumentReference(Box<DocumentReference>),
    Binary(Box<Binary>),
    OperationOutcome(Box<OperationOutcome>),
    Patient(Box<Patient>),
    Practitioner(Box<Practitioner>),
    PractitionerRole(Box<PractitionerRole>),
    Organization(Box<Organization>),
    Device(Box<Device>),
    Endpoint(Box<Endpoint>),
    ImagingStudy(Box<ImagingStudy>),
    Composition(Box<Composition>),
    DiagnosticReport(Box<DiagnosticReport>),
    ServiceRequest(Box<ServiceRequest>),
    Observation(Box<Observation>),
    /// Any other resource type, with its JSON.
    Other(String, Value),
}

/// Why bytes or JSON are not a typed FHIR resource.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    /// The bytes are not JSON.
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
    /// The JSON has no `resourceType`.
    #[error("not a FHIR resource: no resourceType")]
    NoResourceType,
    /// An element of the resource has the wrong JSON type (the resource type and serde's message).
    #[error("{resource_type}: {source}")]
    Shape {
        /// The resource's `resourceType`.
        resource_type: String,
        /// What serde found wrong.
        source: serde_json::Error,
    },
}

macro_rules! dispatch {
    ($($v:ident),*) => {
        impl Resource {
            /// Type a JSON resource by its `resourceType`. An element of the wrong JSON type is an
            /// `Err` naming the resource type and serde's message.
            pub fn from_json(v: &Value) -> Result<Resource, ResourceError> {
                let Some(rt) = v.get("resourceType").and_then(Value::as_str) else {
                    return Err(ResourceError::NoResourceType);
                };
                let mut body = v.clone();
                if let Some(o) = body.as_object_mut() {
                    o.remove("resourceType");
                }
                match rt {
                    $(stringify!($v) => serde_json::from_value(body)
                        .map(|r| Resource::$v(Box::new(r)))
                        .map_err(|source| ResourceError::Shape {
                            resource_type: rt.to_string(),
                            source,
                        }),)*
                    _ => Ok(Resource::Other(rt.to_string(), v.clone())),
                }
            }

            /// The resource as JSON, with `resourceType` first.
            pub fn to_json(&self) -> Value {
                let (rt, body) = match self {
                    $(Resource::$v(r) => (stringify!($v), serde_json::to_value(r).unwrap_or(Value::Null)),)*
                    Resource::Other(_, v) => return v.clone(),
                };
                let mut out = serde_json::Map::new();
                out.insert("resourceType".into(), Value::String(rt.into()));
                if let Value::Object(o) = body {
                    out.extend(o);
                }
                Value::Object(out)
            }

            /// The `resourceType`.
            pub fn resource_type(&self) -> &str {
                match self {
                    $(Resource::$v(_) => stringify!($v),)*
                    Resource::Other(rt, _) => rt,
                }
            }
        }

        $(
            impl From<$v> for Resource {
                fn from(r: $v) -> Resource {
                    Resource::$v(Box::new(r))
                }
            }
        )*
    };
}

dispatch!(
    Bundle,
    List,
    DocumentReference,
    Binary,
    OperationOutcome,
    Patient,
    Practitioner,
    PractitionerRole,
    Organization,
    Device,
    Endpoint,
    ImagingStudy,
    Composition,
    DiagnosticReport,
    ServiceRequest,
    Observation
);

/// Serialize any modelled resource as JSON with its `resourceType`.
pub fn to_json(r: impl Into<Resource>) -> Value {
    r.into().to_json()
}

/// Parse bytes as a FHIR JSON resource (the caller bounds the size).
pub fn parse_json(bytes: &[u8]) -> Result<(Value, Resource), ResourceError> {
    let v: Value = serde_json::from_slice(bytes).map_err(ResourceError::NotJson)?;
    let r = Resource::from_json(&v)?;
    Ok((v, r))
}
