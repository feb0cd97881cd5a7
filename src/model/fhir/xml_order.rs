//! The order of child elements in FHIR R4 (4.0.1) resources and datatypes, for the XML form.
//!
//! FHIR R4 §2.6.2 (<http://hl7.org/fhir/R4/xml.html>): "elements SHALL appear in the order
//! specified" by the resource or datatype definition; JSON (§2.6.3) has no order. This table
//! gives that order, with each child's type and whether its max cardinality is `*`, for the
//! resources and datatypes that MHD, MADO and the HL7 Europe imaging report use. The sources are
//! the R4 definition pages: <http://hl7.org/fhir/R4/bundle.html>, `list.html`,
//! `documentreference.html`, `binary.html`, `operationoutcome.html`, `patient.html`,
//! `practitioner.html`, `practitionerrole.html`, `organization.html`, `device.html`,
//! `endpoint.html`, `imagingstudy.html`, `composition.html`, `diagnosticreport.html`,
//! `servicerequest.html`, `observation.html`, `encounter.html`, `parameters.html`,
//! `datatypes.html`, `narrative.html`, `extensibility.html`, `resource.html`,
//! `domainresource.html`.
//!
//! Each table includes the inherited children (R4 `resource.html`, `domainresource.html`,
//! `element.html`, `backboneelement.html`):
//! - a DomainResource starts with `id`, `meta`, `implicitRules`, `language`, `text`,
//!   `contained`, `extension`, `modifierExtension`;
//! - a Resource (Bundle, Binary, Parameters) with `id`, `meta`, `implicitRules`, `language`;
//! - a backbone element with `id` (an XML attribute), `extension`, `modifierExtension`;
//! - a datatype with `id` (an XML attribute), `extension` (and `Extension.url` is an attribute).
//!
//! A choice element is named `value[x]`; its type is the `|`-separated list of the R4 types it
//! allows, or `*` for any type (R4 §2.24.0.1 open type). A backbone element's type is its path
//! (`DocumentReference.content`), which has its own table.

/// One child element of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    /// Element name (choice elements as `value[x]`).
    pub name: &'static str,
    /// The type: a datatype (`Identifier`), a primitive (`string`, `boolean`, `integer`,
    /// `decimal`, `positiveInt`, `unsignedInt`, ...), `Resource` for an inline resource, a
    /// backbone path (`DocumentReference.content`), `xhtml` for `Narrative.div`; for a choice
    /// element the `|`-separated allowed types, or `*` for any.
    pub ty: &'static str,
    /// Max cardinality `*`.
    pub many: bool,
}

const fn one(name: &'static str, ty: &'static str) -> Child {
    Child {
        name,
        ty,
        many: false,
    }
}

const fn many(name: &'static str, ty: &'static str) -> Child {
    Child {
        name,
        ty,
        many: true,
    }
}

/// Children of a Resource (R4 `resource.html`) followed by the given ones.
macro_rules! resource {
    ($($c:expr),* $(,)?) => {
        &[
            one("id", "id"),
            one("meta", "Meta"),
            one("implicitRules", "uri"),
            one("language", "code"),
            $($c),*
        ]
    };
}

/// Children of a DomainResource (R4 `domainresource.html`) followed by the given ones.
macro_rules! domain {
    ($($c:expr),* $(,)?) => {
        &[
            one("id", "id"),
            one("meta", "Meta"),
            one("implicitRules", "uri"),
            one("language", "code"),
            one("text", "Narrative"),
            many("contained", "Resource"),
            many("extension", "Extension"),
            many("modifierExtension", "Extension"),
            $($c),*
        ]
    };
}

/// Children of a BackboneElement (R4 `backboneelement.html`) followed by the given ones.
macro_rules! backbone {
    ($($c:expr),* $(,)?) => {
        &[
            one("id", "string"),
            many("extension", "Extension"),
            many("modifierExtension", "Extension"),
            $($c),*
        ]
    };
}

/// Children of an Element (R4 `element.html`) followed by the given ones.
macro_rules! element {
    ($($c:expr),* $(,)?) => {
        &[
            one("id", "string"),
            many("extension", "Extension"),
            $($c),*
        ]
    };
}

/// The primitive types of R4 (`datatypes.html` §2.24.0.1).
pub const PRIMITIVES: &[&str] = &[
    "base64Binary",
    "boolean",
    "canonical",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "url",
    "uuid",
];

/// The complex types an open choice (`Extension.value[x]`, `Parameters.parameter.value[x]`)
/// allows in R4 (`datatypes.html#open`); with [`PRIMITIVES`], every type it allows.
const OPEN_COMPLEX: &[&str] = &[
    "Address",
    "Age",
    "Annotation",
    "Attachment",
    "CodeableConcept",
    "Coding",
    "ContactPoint",
    "Count",
    "Distance",
    "Duration",
    "HumanName",
    "Identifier",
    "Money",
    "Period",
    "Quantity",
    "Range",
    "Ratio",
    "Reference",
    "SampledData",
    "Signature",
    "Timing",
    "ContactDetail",
    "Contributor",
    "DataRequirement",
    "Expression",
    "ParameterDefinition",
    "RelatedArtifact",
    "TriggerDefinition",
    "UsageContext",
    "Dosage",
    "Meta",
];

// ---- Resources ----

/// R4 `bundle.html`.
static BUNDLE: &[Child] = resource![
    one("identifier", "Identifier"),
    one("type", "code"),
    one("timestamp", "instant"),
    one("total", "unsignedInt"),
    many("link", "Bundle.link"),
    many("entry", "Bundle.entry"),
    one("signature", "Signature"),
];
static BUNDLE_LINK: &[Child] = backbone![one("relation", "string"), one("url", "uri")];
static BUNDLE_ENTRY: &[Child] = backbone![
    many("link", "Bundle.link"),
    one("fullUrl", "uri"),
    one("resource", "Resource"),
    one("search", "Bundle.entry.search"),
    one("request", "Bundle.entry.request"),
    one("response", "Bundle.entry.response"),
];
static BUNDLE_ENTRY_SEARCH: &[Child] = backbone![one("mode", "code"), one("score", "decimal")];
static BUNDLE_ENTRY_REQUEST: &[Child] = backbone![
    one("method", "code"),
    one("url", "uri"),
    one("ifNoneMatch", "string"),
    one("ifModifiedSince", "instant"),
    one("ifMatch", "string"),
    one("ifNoneExist", "string"),
];
static BUNDLE_ENTRY_RESPONSE: &[Child] = backbone![
    one("status", "string"),
    one("location", "uri"),
    one("etag", "string"),
    one("lastModified", "instant"),
    one("outcome", "Resource"),
];

/// R4 `list.html`.
static LIST: &[Child] = domain![
    many("identifier", "Identifier"),
    one("status", "code"),
    one("mode", "code"),
    one("title", "string"),
    one("code", "CodeableConcept"),
    one("subject", "Reference"),
    one("encounter", "Reference"),
    one("date", "dateTime"),
    one("source", "Reference"),
    one("orderedBy", "CodeableConcept"),
    many("note", "Annotation"),
    many("entry", "List.entry"),
    one("emptyReason", "CodeableConcept"),
];
static LIST_ENTRY: &[Child] = backbone![
    one("flag", "CodeableConcept"),
    one("deleted", "boolean"),
    one("date", "dateTime"),
    one("item", "Reference"),
];

/// R4 `documentreference.html`.
static DOCUMENT_REFERENCE: &[Child] = domain![
    one("masterIdentifier", "Identifier"),
    many("identifier", "Identifier"),
    one("status", "code"),
    one("docStatus", "code"),
    one("type", "CodeableConcept"),
    many("category", "CodeableConcept"),
    one("subject", "Reference"),
    one("date", "instant"),
    many("author", "Reference"),
    one("authenticator", "Reference"),
    one("custodian", "Reference"),
    many("relatesTo", "DocumentReference.relatesTo"),
    one("description", "string"),
    many("securityLabel", "CodeableConcept"),
    many("content", "DocumentReference.content"),
    one("context", "DocumentReference.context"),
];
static DOCUMENT_REFERENCE_RELATES_TO: &[Child] =
    backbone![one("code", "code"), one("target", "Reference")];
static DOCUMENT_REFERENCE_CONTENT: &[Child] =
    backbone![one("attachment", "Attachment"), one("format", "Coding")];
static DOCUMENT_REFERENCE_CONTEXT: &[Child] = backbone![
    many("encounter", "Reference"),
    many("event", "CodeableConcept"),
    one("period", "Period"),
    one("facilityType", "CodeableConcept"),
    one("practiceSetting", "CodeableConcept"),
    one("sourcePatientInfo", "Reference"),
    many("related", "Reference"),
];

/// R4 `binary.html`.
static BINARY: &[Child] = resource![
    one("contentType", "code"),
    one("securityContext", "Reference"),
    one("data", "base64Binary"),
];

/// R4 `operationoutcome.html`.
static OPERATION_OUTCOME: &[Child] = domain![many("issue", "OperationOutcome.issue")];
static OPERATION_OUTCOME_ISSUE: &[Child] = backbone![
    one("severity", "code"),
    one("code", "code"),
    one("details", "CodeableConcept"),
    one("diagnostics", "string"),
    many("location", "string"),
    many("expression", "string"),
];

/// R4 `patient.html`.
static PATIENT: &[Child] = domain![
    many("identifier", "Identifier"),
    one("active", "boolean"),
    many("name", "HumanName"),
    many("telecom", "ContactPoint"),
    one("gender", "code"),
    one("birthDate", "date"),
    one("deceased[x]", "boolean|dateTime"),
    many("address", "Address"),
    one("maritalStatus", "CodeableConcept"),
    one("multipleBirth[x]", "boolean|integer"),
    many("photo", "Attachment"),
    many("contact", "Patient.contact"),
    many("communication", "Patient.communication"),
    many("generalPractitioner", "Reference"),
    one("managingOrganization", "Reference"),
    many("link", "Patient.link"),
];
static PATIENT_CONTACT: &[Child] = backbone![
    many("relationship", "CodeableConcept"),
    one("name", "HumanName"),
    many("telecom", "ContactPoint"),
    one("address", "Address"),
    one("gender", "code"),
    one("organization", "Reference"),
    one("period", "Period"),
];
static PATIENT_COMMUNICATION: &[Child] = backbone![
    one("language", "CodeableConcept"),
    one("preferred", "boolean")
];
static PATIENT_LINK: &[Child] = backbone![one("other", "Reference"), one("type", "code")];

/// R4 `practitioner.html`.
static PRACTITIONER: &[Child] = domain![
    many("identifier", "Identifier"),
    one("active", "boolean"),
    many("name", "HumanName"),
    many("telecom", "ContactPoint"),
    many("address", "Address"),
    one("gender", "code"),
    one("birthDate", "date"),
    many("photo", "Attachment"),
    many("qualification", "Practitioner.qualification"),
    many("communication", "CodeableConcept"),
];
static PRACTITIONER_QUALIFICATION: &[Child] = backbone![
    many("identifier", "Identifier"),
    one("code", "CodeableConcept"),
    one("period", "Period"),
    one("issuer", "Reference"),
];

/// R4 `practitionerrole.html`.
static PRACTITIONER_ROLE: &[Child] = domain![
    many("identifier", "Identifier"),
    one("active", "boolean"),
    one("period", "Period"),
    one("practitioner", "Reference"),
    one("organization", "Reference"),
    many("code", "CodeableConcept"),
    many("specialty", "CodeableConcept"),
    many("location", "Reference"),
    many("healthcareService", "Reference"),
    many("telecom", "ContactPoint"),
    many("availableTime", "PractitionerRole.availableTime"),
    many("notAvailable", "PractitionerRole.notAvailable"),
    one("availabilityExceptions", "string"),
    many("endpoint", "Reference"),
];
static PRACTITIONER_ROLE_AVAILABLE_TIME: &[Child] = backbone![
    many("daysOfWeek", "code"),
    one("allDay", "boolean"),
    one("availableStartTime", "time"),
    one("availableEndTime", "time"),
];
static PRACTITIONER_ROLE_NOT_AVAILABLE: &[Child] =
    backbone![one("description", "string"), one("during", "Period")];

/// R4 `organization.html`.
static ORGANIZATION: &[Child] = domain![
    many("identifier", "Identifier"),
    one("active", "boolean"),
    many("type", "CodeableConcept"),
    one("name", "string"),
    many("alias", "string"),
    many("telecom", "ContactPoint"),
    many("address", "Address"),
    one("partOf", "Reference"),
    many("contact", "Organization.contact"),
    many("endpoint", "Reference"),
];
static ORGANIZATION_CONTACT: &[Child] = backbone![
    one("purpose", "CodeableConcept"),
    one("name", "HumanName"),
    many("telecom", "ContactPoint"),
    one("address", "Address"),
];

/// R4 `device.html`.
static DEVICE: &[Child] = domain![
    many("identifier", "Identifier"),
    one("definition", "Reference"),
    many("udiCarrier", "Device.udiCarrier"),
    one("status", "code"),
    many("statusReason", "CodeableConcept"),
    one("distinctIdentifier", "string"),
    one("manufacturer", "string"),
    one("manufactureDate", "dateTime"),
    one("expirationDate", "dateTime"),
    one("lotNumber", "string"),
    one("serialNumber", "string"),
    many("deviceName", "Device.deviceName"),
    one("modelNumber", "string"),
    one("partNumber", "string"),
    one("type", "CodeableConcept"),
    many("specialization", "Device.specialization"),
    many("version", "Device.version"),
    many("property", "Device.property"),
    one("patient", "Reference"),
    one("owner", "Reference"),
    many("contact", "ContactPoint"),
    one("location", "Reference"),
    one("url", "uri"),
    many("note", "Annotation"),
    many("safety", "CodeableConcept"),
    one("parent", "Reference"),
];
static DEVICE_UDI_CARRIER: &[Child] = backbone![
    one("deviceIdentifier", "string"),
    one("issuer", "uri"),
    one("jurisdiction", "uri"),
    one("carrierAIDC", "base64Binary"),
    one("carrierHRF", "string"),
    one("entryType", "code"),
];
static DEVICE_DEVICE_NAME: &[Child] = backbone![one("name", "string"), one("type", "code")];
static DEVICE_SPECIALIZATION: &[Child] = backbone![
    one("systemType", "CodeableConcept"),
    one("version", "string")
];
static DEVICE_VERSION: &[Child] = backbone![
    one("type", "CodeableConcept"),
    one("component", "Identifier"),
    one("value", "string"),
];
static DEVICE_PROPERTY: &[Child] = backbone![
    one("type", "CodeableConcept"),
    many("valueQuantity", "Quantity"),
    many("valueCode", "CodeableConcept"),
];

/// R4 `endpoint.html`.
static ENDPOINT: &[Child] = domain![
    many("identifier", "Identifier"),
    one("status", "code"),
    one("connectionType", "Coding"),
    one("name", "string"),
    one("managingOrganization", "Reference"),
    many("contact", "ContactPoint"),
    one("period", "Period"),
    many("payloadType", "CodeableConcept"),
    many("payloadMimeType", "code"),
    one("address", "url"),
    many("header", "string"),
];

/// R4 `imagingstudy.html`.
static IMAGING_STUDY: &[Child] = domain![
    many("identifier", "Identifier"),
    one("status", "code"),
    many("modality", "Coding"),
    one("subject", "Reference"),
    one("encounter", "Reference"),
    one("started", "dateTime"),
    many("basedOn", "Reference"),
    one("referrer", "Reference"),
    many("interpreter", "Reference"),
    many("endpoint", "Reference"),
    one("numberOfSeries", "unsignedInt"),
    one("numberOfInstances", "unsignedInt"),
    one("procedureReference", "Reference"),
    many("procedureCode", "CodeableConcept"),
    one("location", "Reference"),
    many("reasonCode", "CodeableConcept"),
    many("reasonReference", "Reference"),
    many("note", "Annotation"),
    one("description", "string"),
    many("series", "ImagingStudy.series"),
];
static IMAGING_STUDY_SERIES: &[Child] = backbone![
    one("uid", "id"),
    one("number", "unsignedInt"),
    one("modality", "Coding"),
    one("description", "string"),
    one("numberOfInstances", "unsignedInt"),
    many("endpoint", "Reference"),
    one("bodySite", "Coding"),
    one("laterality", "Coding"),
    many("specimen", "Reference"),
    one("started", "dateTime"),
    many("performer", "ImagingStudy.series.performer"),
    many("instance", "ImagingStudy.series.instance"),
];
static IMAGING_STUDY_SERIES_PERFORMER: &[Child] = backbone![
    one("function", "CodeableConcept"),
    one("actor", "Reference")
];
static IMAGING_STUDY_SERIES_INSTANCE: &[Child] = backbone![
    one("uid", "id"),
    one("sopClass", "Coding"),
    one("number", "unsignedInt"),
    one("title", "string"),
];

/// R4 `composition.html`.
static COMPOSITION: &[Child] = domain![
    one("identifier", "Identifier"),
    one("status", "code"),
    one("type", "CodeableConcept"),
    many("category", "CodeableConcept"),
    one("subject", "Reference"),
    one("encounter", "Reference"),
    one("date", "dateTime"),
    many("author", "Reference"),
    one("title", "string"),
    one("confidentiality", "code"),
    many("attester", "Composition.attester"),
    one("custodian", "Reference"),
    many("relatesTo", "Composition.relatesTo"),
    many("event", "Composition.event"),
    many("section", "Composition.section"),
];
static COMPOSITION_ATTESTER: &[Child] = backbone![
    one("mode", "code"),
    one("time", "dateTime"),
    one("party", "Reference"),
];
static COMPOSITION_RELATES_TO: &[Child] = backbone![
    one("code", "code"),
    one("target[x]", "Identifier|Reference"),
];
static COMPOSITION_EVENT: &[Child] = backbone![
    many("code", "CodeableConcept"),
    one("period", "Period"),
    many("detail", "Reference"),
];
static COMPOSITION_SECTION: &[Child] = backbone![
    one("title", "string"),
    one("code", "CodeableConcept"),
    many("author", "Reference"),
    one("focus", "Reference"),
    one("text", "Narrative"),
    one("mode", "code"),
    one("orderedBy", "CodeableConcept"),
    many("entry", "Reference"),
    one("emptyReason", "CodeableConcept"),
    many("section", "Composition.section"),
];

/// R4 `diagnosticreport.html`.
static DIAGNOSTIC_REPORT: &[Child] = domain![
    many("identifier", "Identifier"),
    many("basedOn", "Reference"),
    one("status", "code"),
    many("category", "CodeableConcept"),
    one("code", "CodeableConcept"),
    one("subject", "Reference"),
    one("encounter", "Reference"),
    one("effective[x]", "dateTime|Period"),
    one("issued", "instant"),
    many("performer", "Reference"),
    many("resultsInterpreter", "Reference"),
    many("specimen", "Reference"),
    many("result", "Reference"),
    many("imagingStudy", "Reference"),
    many("media", "DiagnosticReport.media"),
    one("conclusion", "string"),
    many("conclusionCode", "CodeableConcept"),
    many("presentedForm", "Attachment"),
];
static DIAGNOSTIC_REPORT_MEDIA: &[Child] =
    backbone![one("comment", "string"), one("link", "Reference")];

/// R4 `servicerequest.html`.
static SERVICE_REQUEST: &[Child] = domain![
    many("identifier", "Identifier"),
    many("instantiatesCanonical", "canonical"),
    many("instantiatesUri", "uri"),
    many("basedOn", "Reference"),
    many("replaces", "Reference"),
    one("requisition", "Identifier"),
    one("status", "code"),
    one("intent", "code"),
    many("category", "CodeableConcept"),
    one("priority", "code"),
    one("doNotPerform", "boolean"),
    one("code", "CodeableConcept"),
    many("orderDetail", "CodeableConcept"),
    one("quantity[x]", "Quantity|Ratio|Range"),
    one("subject", "Reference"),
    one("encounter", "Reference"),
    one("occurrence[x]", "dateTime|Period|Timing"),
    one("asNeeded[x]", "boolean|CodeableConcept"),
    one("authoredOn", "dateTime"),
    one("requester", "Reference"),
    one("performerType", "CodeableConcept"),
    many("performer", "Reference"),
    many("locationCode", "CodeableConcept"),
    many("locationReference", "Reference"),
    many("reasonCode", "CodeableConcept"),
    many("reasonReference", "Reference"),
    many("insurance", "Reference"),
    many("supportingInfo", "Reference"),
    many("specimen", "Reference"),
    many("bodySite", "CodeableConcept"),
    many("note", "Annotation"),
    one("patientInstruction", "string"),
    many("relevantHistory", "Reference"),
];

/// `Observation.value[x]` and `Observation.component.value[x]` (R4 `observation.html`).
const OBSERVATION_VALUE: &str =
    "Quantity|CodeableConcept|string|boolean|integer|Range|Ratio|SampledData|time|dateTime|Period";

/// R4 `observation.html`.
static OBSERVATION: &[Child] = domain![
    many("identifier", "Identifier"),
    many("basedOn", "Reference"),
    many("partOf", "Reference"),
    one("status", "code"),
    many("category", "CodeableConcept"),
    one("code", "CodeableConcept"),
    one("subject", "Reference"),
    many("focus", "Reference"),
    one("encounter", "Reference"),
    one("effective[x]", "dateTime|Period|Timing|instant"),
    one("issued", "instant"),
    many("performer", "Reference"),
    one("value[x]", OBSERVATION_VALUE),
    one("dataAbsentReason", "CodeableConcept"),
    many("interpretation", "CodeableConcept"),
    many("note", "Annotation"),
    one("bodySite", "CodeableConcept"),
    one("method", "CodeableConcept"),
    one("specimen", "Reference"),
    one("device", "Reference"),
    many("referenceRange", "Observation.referenceRange"),
    many("hasMember", "Reference"),
    many("derivedFrom", "Reference"),
    many("component", "Observation.component"),
];
static OBSERVATION_REFERENCE_RANGE: &[Child] = backbone![
    one("low", "SimpleQuantity"),
    one("high", "SimpleQuantity"),
    one("type", "CodeableConcept"),
    many("appliesTo", "CodeableConcept"),
    one("age", "Range"),
    one("text", "string"),
];
static OBSERVATION_COMPONENT: &[Child] = backbone![
    one("code", "CodeableConcept"),
    one("value[x]", OBSERVATION_VALUE),
    one("dataAbsentReason", "CodeableConcept"),
    many("interpretation", "CodeableConcept"),
    many("referenceRange", "Observation.referenceRange"),
];

/// R4 `encounter.html`.
static ENCOUNTER: &[Child] = domain![
    many("identifier", "Identifier"),
    one("status", "code"),
    many("statusHistory", "Encounter.statusHistory"),
    one("class", "Coding"),
    many("classHistory", "Encounter.classHistory"),
    many("type", "CodeableConcept"),
    one("serviceType", "CodeableConcept"),
    one("priority", "CodeableConcept"),
    one("subject", "Reference"),
    many("episodeOfCare", "Reference"),
    many("basedOn", "Reference"),
    many("participant", "Encounter.participant"),
    many("appointment", "Reference"),
    one("period", "Period"),
    one("length", "Duration"),
    many("reasonCode", "CodeableConcept"),
    many("reasonReference", "Reference"),
    many("diagnosis", "Encounter.diagnosis"),
    many("account", "Reference"),
    one("hospitalization", "Encounter.hospitalization"),
    many("location", "Encounter.location"),
    one("serviceProvider", "Reference"),
    one("partOf", "Reference"),
];
static ENCOUNTER_STATUS_HISTORY: &[Child] =
    backbone![one("status", "code"), one("period", "Period")];
static ENCOUNTER_CLASS_HISTORY: &[Child] =
    backbone![one("class", "Coding"), one("period", "Period")];
static ENCOUNTER_PARTICIPANT: &[Child] = backbone![
    many("type", "CodeableConcept"),
    one("period", "Period"),
    one("individual", "Reference"),
];
static ENCOUNTER_DIAGNOSIS: &[Child] = backbone![
    one("condition", "Reference"),
    one("use", "CodeableConcept"),
    one("rank", "positiveInt"),
];
static ENCOUNTER_HOSPITALIZATION: &[Child] = backbone![
    one("preAdmissionIdentifier", "Identifier"),
    one("origin", "Reference"),
    one("admitSource", "CodeableConcept"),
    one("reAdmission", "CodeableConcept"),
    many("dietPreference", "CodeableConcept"),
    many("specialCourtesy", "CodeableConcept"),
    many("specialArrangement", "CodeableConcept"),
    one("destination", "Reference"),
    one("dischargeDisposition", "CodeableConcept"),
];
static ENCOUNTER_LOCATION: &[Child] = backbone![
    one("location", "Reference"),
    one("status", "code"),
    one("physicalType", "CodeableConcept"),
    one("period", "Period"),
];

/// R4 `parameters.html`.
static PARAMETERS: &[Child] = resource![many("parameter", "Parameters.parameter")];
static PARAMETERS_PARAMETER: &[Child] = backbone![
    one("name", "string"),
    one("value[x]", "*"),
    one("resource", "Resource"),
    many("part", "Parameters.parameter"),
];

// ---- Datatypes (R4 datatypes.html, narrative.html, extensibility.html, resource.html#Meta) ----

/// The children of a primitive's `_name` shadow (R4 `element.html`): `id` (attribute), `extension`.
static ELEMENT: &[Child] = element![];
static IDENTIFIER: &[Child] = element![
    one("use", "code"),
    one("type", "CodeableConcept"),
    one("system", "uri"),
    one("value", "string"),
    one("period", "Period"),
    one("assigner", "Reference"),
];
static CODEABLE_CONCEPT: &[Child] = element![many("coding", "Coding"), one("text", "string")];
static CODING: &[Child] = element![
    one("system", "uri"),
    one("version", "string"),
    one("code", "code"),
    one("display", "string"),
    one("userSelected", "boolean"),
];
static REFERENCE: &[Child] = element![
    one("reference", "string"),
    one("type", "uri"),
    one("identifier", "Identifier"),
    one("display", "string"),
];
static ATTACHMENT: &[Child] = element![
    one("contentType", "code"),
    one("language", "code"),
    one("data", "base64Binary"),
    one("url", "url"),
    one("size", "unsignedInt"),
    one("hash", "base64Binary"),
    one("title", "string"),
    one("creation", "dateTime"),
];
static PERIOD: &[Child] = element![one("start", "dateTime"), one("end", "dateTime")];
static META: &[Child] = element![
    one("versionId", "id"),
    one("lastUpdated", "instant"),
    one("source", "uri"),
    many("profile", "canonical"),
    many("security", "Coding"),
    many("tag", "Coding"),
];
/// `url` is an XML attribute of `extension` (R4 §2.6.2).
static EXTENSION: &[Child] = element![one("url", "uri"), one("value[x]", "*")];
static NARRATIVE: &[Child] = element![one("status", "code"), one("div", "xhtml")];
static HUMAN_NAME: &[Child] = element![
    one("use", "code"),
    one("text", "string"),
    one("family", "string"),
    many("given", "string"),
    many("prefix", "string"),
    many("suffix", "string"),
    one("period", "Period"),
];
static CONTACT_POINT: &[Child] = element![
    one("system", "code"),
    one("value", "string"),
    one("use", "code"),
    one("rank", "positiveInt"),
    one("period", "Period"),
];
static ADDRESS: &[Child] = element![
    one("use", "code"),
    one("type", "code"),
    one("text", "string"),
    many("line", "string"),
    one("city", "string"),
    one("district", "string"),
    one("state", "string"),
    one("postalCode", "string"),
    one("country", "string"),
    one("period", "Period"),
];
static QUANTITY: &[Child] = element![
    one("value", "decimal"),
    one("comparator", "code"),
    one("unit", "string"),
    one("system", "uri"),
    one("code", "code"),
];
static RANGE: &[Child] = element![one("low", "SimpleQuantity"), one("high", "SimpleQuantity")];
static RATIO: &[Child] = element![one("numerator", "Quantity"), one("denominator", "Quantity")];
static MONEY: &[Child] = element![one("value", "decimal"), one("currency", "code")];
static SAMPLED_DATA: &[Child] = element![
    one("origin", "SimpleQuantity"),
    one("period", "decimal"),
    one("factor", "decimal"),
    one("lowerLimit", "decimal"),
    one("upperLimit", "decimal"),
    one("dimensions", "positiveInt"),
    one("data", "string"),
];
static ANNOTATION: &[Child] = element![
    one("author[x]", "Reference|string"),
    one("time", "dateTime"),
    one("text", "markdown"),
];
static SIGNATURE: &[Child] = element![
    many("type", "Coding"),
    one("when", "instant"),
    one("who", "Reference"),
    one("onBehalfOf", "Reference"),
    one("targetFormat", "code"),
    one("sigFormat", "code"),
    one("data", "base64Binary"),
];
/// Timing is a BackboneElement in R4 (`datatypes.html#Timing`).
static TIMING: &[Child] = backbone![
    many("event", "dateTime"),
    one("repeat", "Timing.repeat"),
    one("code", "CodeableConcept"),
];
static TIMING_REPEAT: &[Child] = element![
    one("bounds[x]", "Duration|Range|Period"),
    one("count", "positiveInt"),
    one("countMax", "positiveInt"),
    one("duration", "decimal"),
    one("durationMax", "decimal"),
    one("durationUnit", "code"),
    one("frequency", "positiveInt"),
    one("frequencyMax", "positiveInt"),
    one("period", "decimal"),
    one("periodMax", "decimal"),
    one("periodUnit", "code"),
    many("dayOfWeek", "code"),
    many("timeOfDay", "time"),
    many("when", "code"),
    one("offset", "unsignedInt"),
];

/// Every type name with a table, for tests and callers that list them.
pub const TYPES: &[&str] = &[
    "Bundle",
    "Bundle.link",
    "Bundle.entry",
    "Bundle.entry.search",
    "Bundle.entry.request",
    "Bundle.entry.response",
    "List",
    "List.entry",
    "DocumentReference",
    "DocumentReference.relatesTo",
    "DocumentReference.content",
    "DocumentReference.context",
    "Binary",
    "OperationOutcome",
    "OperationOutcome.issue",
    "Patient",
    "Patient.contact",
    "Patient.communication",
    "Patient.link",
    "Practitioner",
    "Practitioner.qualification",
    "PractitionerRole",
    "PractitionerRole.availableTime",
    "PractitionerRole.notAvailable",
    "Organization",
    "Organization.contact",
    "Device",
    "Device.udiCarrier",
    "Device.deviceName",
    "Device.specialization",
    "Device.version",
    "Device.property",
    "Endpoint",
    "ImagingStudy",
    "ImagingStudy.series",
    "ImagingStudy.series.performer",
    "ImagingStudy.series.instance",
    "Composition",
    "Composition.attester",
    "Composition.relatesTo",
    "Composition.event",
    "Composition.section",
    "DiagnosticReport",
    "DiagnosticReport.media",
    "ServiceRequest",
    "Observation",
    "Observation.referenceRange",
    "Observation.component",
    "Encounter",
    "Encounter.statusHistory",
    "Encounter.classHistory",
    "Encounter.participant",
    "Encounter.diagnosis",
    "Encounter.hospitalization",
    "Encounter.location",
    "Parameters",
    "Parameters.parameter",
    "Element",
    "Identifier",
    "CodeableConcept",
    "Coding",
    "Reference",
    "Attachment",
    "Period",
    "Meta",
    "Extension",
    "Narrative",
    "HumanName",
    "ContactPoint",
    "Address",
    "Quantity",
    "SimpleQuantity",
    "Duration",
    "Age",
    "Distance",
    "Count",
    "MoneyQuantity",
    "Range",
    "Ratio",
    "Money",
    "SampledData",
    "Annotation",
    "Signature",
    "Timing",
    "Timing.repeat",
];

/// The children of a type (resource name, datatype name or backbone path) in R4 order, with the
/// inherited ones first (see the module documentation). `None` for a type not in the table.
pub fn children(ty: &str) -> Option<&'static [Child]> {
    Some(match ty {
        "Bundle" => BUNDLE,
        "Bundle.link" => BUNDLE_LINK,
        "Bundle.entry" => BUNDLE_ENTRY,
        "Bundle.entry.search" => BUNDLE_ENTRY_SEARCH,
        "Bundle.entry.request" => BUNDLE_ENTRY_REQUEST,
        "Bundle.entry.response" => BUNDLE_ENTRY_RESPONSE,
        "List" => LIST,
        "List.entry" => LIST_ENTRY,
        "DocumentReference" => DOCUMENT_REFERENCE,
        "DocumentReference.relatesTo" => DOCUMENT_REFERENCE_RELATES_TO,
        "DocumentReference.content" => DOCUMENT_REFERENCE_CONTENT,
        "DocumentReference.context" => DOCUMENT_REFERENCE_CONTEXT,
        "Binary" => BINARY,
        "OperationOutcome" => OPERATION_OUTCOME,
        "OperationOutcome.issue" => OPERATION_OUTCOME_ISSUE,
        "Patient" => PATIENT,
        "Patient.contact" => PATIENT_CONTACT,
        "Patient.communication" => PATIENT_COMMUNICATION,
        "Patient.link" => PATIENT_LINK,
        "Practitioner" => PRACTITIONER,
        "Practitioner.qualification" => PRACTITIONER_QUALIFICATION,
        "PractitionerRole" => PRACTITIONER_ROLE,
        "PractitionerRole.availableTime" => PRACTITIONER_ROLE_AVAILABLE_TIME,
        "PractitionerRole.notAvailable" => PRACTITIONER_ROLE_NOT_AVAILABLE,
        "Organization" => ORGANIZATION,
        "Organization.contact" => ORGANIZATION_CONTACT,
        "Device" => DEVICE,
        "Device.udiCarrier" => DEVICE_UDI_CARRIER,
        "Device.deviceName" => DEVICE_DEVICE_NAME,
        "Device.specialization" => DEVICE_SPECIALIZATION,
        "Device.version" => DEVICE_VERSION,
        "Device.property" => DEVICE_PROPERTY,
        "Endpoint" => ENDPOINT,
        "ImagingStudy" => IMAGING_STUDY,
        "ImagingStudy.series" => IMAGING_STUDY_SERIES,
        "ImagingStudy.series.performer" => IMAGING_STUDY_SERIES_PERFORMER,
        "ImagingStudy.series.instance" => IMAGING_STUDY_SERIES_INSTANCE,
        "Composition" => COMPOSITION,
        "Composition.attester" => COMPOSITION_ATTESTER,
        "Composition.relatesTo" => COMPOSITION_RELATES_TO,
        "Composition.event" => COMPOSITION_EVENT,
        "Composition.section" => COMPOSITION_SECTION,
        "DiagnosticReport" => DIAGNOSTIC_REPORT,
        "DiagnosticReport.media" => DIAGNOSTIC_REPORT_MEDIA,
        "ServiceRequest" => SERVICE_REQUEST,
        "Observation" => OBSERVATION,
        "Observation.referenceRange" => OBSERVATION_REFERENCE_RANGE,
        "Observation.component" => OBSERVATION_COMPONENT,
        "Encounter" => ENCOUNTER,
        "Encounter.statusHistory" => ENCOUNTER_STATUS_HISTORY,
        "Encounter.classHistory" => ENCOUNTER_CLASS_HISTORY,
        "Encounter.participant" => ENCOUNTER_PARTICIPANT,
        "Encounter.diagnosis" => ENCOUNTER_DIAGNOSIS,
        "Encounter.hospitalization" => ENCOUNTER_HOSPITALIZATION,
        "Encounter.location" => ENCOUNTER_LOCATION,
        "Parameters" => PARAMETERS,
        "Parameters.parameter" => PARAMETERS_PARAMETER,
        "Element" => ELEMENT,
        "Identifier" => IDENTIFIER,
        "CodeableConcept" => CODEABLE_CONCEPT,
        "Coding" => CODING,
        "Reference" => REFERENCE,
        "Attachment" => ATTACHMENT,
        "Period" => PERIOD,
        "Meta" => META,
        "Extension" => EXTENSION,
        "Narrative" => NARRATIVE,
        "HumanName" => HUMAN_NAME,
        "ContactPoint" => CONTACT_POINT,
        "Address" => ADDRESS,
        // Profiles of Quantity share its elements (R4 datatypes.html#SimpleQuantity).
        "Quantity" | "SimpleQuantity" | "Duration" | "Age" | "Distance" | "Count"
        | "MoneyQuantity" => QUANTITY,
        "Range" => RANGE,
        "Ratio" => RATIO,
        "Money" => MONEY,
        "SampledData" => SAMPLED_DATA,
        "Annotation" => ANNOTATION,
        "Signature" => SIGNATURE,
        "Timing" => TIMING,
        "Timing.repeat" => TIMING_REPEAT,
        _ => return None,
    })
}

/// The type of a choice element's JSON name suffix (`Quantity` → `Quantity`, `String` →
/// `string`), if `allowed` (`|`-separated, or `*`) allows it.
fn choice_type(allowed: &str, suffix: &str) -> Option<&'static str> {
    let mut chars = suffix.chars();
    let first = chars.next()?;
    if !first.is_ascii_uppercase() {
        return None;
    }
    let rest = chars.as_str();
    let ty = PRIMITIVES.iter().chain(OPEN_COMPLEX).copied().find(|t| {
        let mut tc = t.chars();
        tc.next()
            .is_some_and(|c| c.to_ascii_uppercase() == first && tc.as_str() == rest)
    })?;
    (allowed == "*" || allowed.split('|').any(|a| a == ty)).then_some(ty)
}

/// Resolve a JSON (or XML) member name in a type: the exact name, or a choice `value[x]` with a
/// type suffix allowed there (`valueQuantity` → `Quantity`, `valueString` → `string`). Returns
/// (position in the R4 order, child type, max cardinality `*`).
pub fn lookup(ty: &str, json_name: &str) -> Option<(usize, &'static str, bool)> {
    let kids = children(ty)?;
    kids.iter().enumerate().find_map(|(i, c)| {
        if c.name == json_name {
            return Some((i, c.ty, c.many));
        }
        let prefix = c.name.strip_suffix("[x]")?;
        let suffix = json_name.strip_prefix(prefix)?;
        choice_type(c.ty, suffix).map(|t| (i, t, c.many))
    })
}

/// Is `ty` a primitive type of R4?
pub fn is_primitive(ty: &str) -> bool {
    PRIMITIVES.contains(&ty)
}
