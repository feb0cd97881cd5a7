//! FHIR R4 (4.0.1) resources for MHD, MADO and the HL7 Europe imaging report, with serde.
//!
//! The models are tolerant on purpose: every element is optional here, and the profile rules
//! (cardinalities, fixed values, bindings, invariants) live in the checks (`checks::mhd`,
//! `checks::mado_fhir`, `checks::report`), each with its citation. A document that a SUT sends is
//! first parsed as JSON ([`parse_json`]) or FHIR XML ([`xml::to_json`]); a wrong JSON type for a
//! known element is reported as a structural Fail, never a panic. Unknown elements are kept in
//! `other` so a resource stored by the reference round-trips unchanged.

pub mod search;
pub mod search_date;
pub mod xml;
pub mod xml_order;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `http://dicom.nema.org/resources/ontology/DCM`: the DICOM controlled terminology in FHIR.
pub const DCM_SYSTEM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// `http://dicom.nema.org/resources/ontology/DCMUID`: the DICOM UID registry in FHIR.
pub const DCMUID_SYSTEM: &str = "http://dicom.nema.org/resources/ontology/DCMUID";
/// `urn:dicom:uid`: identifier system of DICOM UIDs (`urn:oid:` values).
pub const DICOM_UID_SYSTEM: &str = "urn:dicom:uid";
/// `urn:ietf:rfc:3986`: identifier system of URIs (`urn:oid:`, `urn:uuid:`).
pub const RFC3986: &str = "urn:ietf:rfc:3986";
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// The IHE format code system in FHIR.
pub const IHE_FORMATCODE: &str = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode";
/// The media type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json";
/// The media type of FHIR XML.
pub const FHIR_XML: &str = "application/fhir+xml";

type Other = BTreeMap<String, Value>;

/// A Coding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    /// Code system URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Code system version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Display text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// A coding with system, code and display.
    pub fn new(system: &str, code: &str, display: &str) -> Coding {
        Coding {
            system: Some(system.into()),
            code: Some(code.into()),
            display: (!display.is_empty()).then(|| display.into()),
            version: None,
        }
    }

    /// Is this `system#code`?
    pub fn is(&self, system: &str, code: &str) -> bool {
        self.system.as_deref() == Some(system) && self.code.as_deref() == Some(code)
    }
}

/// A CodeableConcept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// One coding.
    pub fn code(system: &str, code: &str, display: &str) -> CodeableConcept {
        CodeableConcept {
            coding: vec![Coding::new(system, code, display)],
            text: None,
        }
    }

    /// Does any coding equal `system#code`?
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding.iter().any(|c| c.is(system, code))
    }

    /// The codes of `system`.
    pub fn codes_of<'a>(&'a self, system: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.coding
            .iter()
            .filter(move |c| c.system.as_deref() == Some(system))
            .filter_map(|c| c.code.as_deref())
    }
}

/// An Identifier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    /// usual | official | temp | secondary | old.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Identifier type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<CodeableConcept>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Assigning organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigner: Option<Box<Reference>>,
}

impl Identifier {
    /// An identifier with a system and a value.
    pub fn new(system: &str, value: &str) -> Identifier {
        Identifier {
            system: Some(system.into()),
            value: Some(value.into()),
            ..Identifier::default()
        }
    }

    /// `system|value`, the token form used in searches.
    pub fn token(&self) -> String {
        format!(
            "{}|{}",
            self.system.as_deref().unwrap_or(""),
            self.value.as_deref().unwrap_or("")
        )
    }
}

/// A Reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// Literal reference (relative, absolute, `#contained` or `urn:uuid:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Type the reference refers to.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Logical reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    /// Text alternative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Reference {
    /// A literal reference.
    pub fn to(reference: &str) -> Reference {
        Reference {
            reference: Some(reference.into()),
            ..Reference::default()
        }
    }
}

/// A Period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// Start (dateTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End (dateTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// An Attachment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Language (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Inline data, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Where the data is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// SHA-1 of the data, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Creation date/time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation: Option<String>,
}

/// An Extension: `url` plus one `value[x]` (kept as JSON under its element name) or nested
/// extensions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// The extension's canonical URL.
    #[serde(default)]
    pub url: String,
    /// Nested extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// `valueString`, `valueIdentifier`, `valueCodeableConcept`, …
    #[serde(flatten)]
    pub value: Other,
}

impl Extension {
    /// An extension with one `value[x]`.
    pub fn with(url: &str, element: &str, value: Value) -> Extension {
        let mut v = Other::new();
        v.insert(element.into(), value);
        Extension {
            url: url.into(),
            extension: Vec::new(),
            value: v,
        }
    }

    /// The value under `element` (`valueCoding`), parsed as `T`.
    pub fn value_as<T: for<'de> Deserialize<'de>>(&self, element: &str) -> Option<T> {
        self.value
            .get(element)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    /// The codings of a `valueCoding` or a `valueCodeableConcept`.
    pub fn codings(&self) -> Vec<Coding> {
        if let Some(c) = self.value_as::<Coding>("valueCoding") {
            return vec![c];
        }
        self.value_as::<CodeableConcept>("valueCodeableConcept")
            .map(|cc| cc.coding)
            .unwrap_or_default()
    }
}

/// Extensions with `url`.
pub fn extensions<'a>(exts: &'a [Extension], url: &'a str) -> impl Iterator<Item = &'a Extension> {
    exts.iter().filter(move |e| e.url == url)
}

/// Resource metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Version id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Profiles claimed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<String>,
    /// Security labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<Coding>,
}

/// Narrative.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Narrative {
    /// generated | extensions | additional | empty.
    #[serde(default)]
    pub status: String,
    /// XHTML.
    #[serde(default)]
    pub div: String,
}

/// An element the harness does not model: any JSON.
pub type Any = Value;

mod resources;
pub use resources::*;

#[cfg(test)]
mod tests;

/// The document inside a FHIR `Binary` resource, when a server answers a document read with the
/// Binary resource (FHIR R4 §2.41 Binary read with a FHIR `Accept`) instead of the document itself:
/// a FHIR JSON document in `data` is decoded and returned; anything else is returned unchanged.
/// Content checks judge the document either way; MHD-15/19 judge how it was delivered.
pub fn unwrap_binary(v: Value) -> Value {
    use base64::Engine;
    let is_binary = v.get("resourceType").and_then(Value::as_str) == Some("Binary");
    let json_content = v
        .get("contentType")
        .and_then(Value::as_str)
        .map(|c| c.contains("json"))
        .unwrap_or(false);
    if !(is_binary && json_content) {
        return v;
    }
    v.get("data")
        .and_then(Value::as_str)
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(v)
}
