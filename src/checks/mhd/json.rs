//! Bounded, panic-free navigation of FHIR JSON for the MHD checks, and reading a FHIR body per
//! its Content-Type.

use base64::Engine;
use serde_json::Value;

use crate::model::fhir::xml;

pub(super) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn present(v: &Value, key: &str) -> bool {
    match v.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

pub(super) fn codings(cc: &Value) -> impl Iterator<Item = (&str, &str)> {
    arr(cc, "coding").iter().map(|c| {
        (
            str_at(c, "system").unwrap_or(""),
            str_at(c, "code").unwrap_or(""),
        )
    })
}

pub(super) fn has_coding(cc: &Value, system: &str, code: &str) -> bool {
    codings(cc).any(|(s, c)| s == system && c == code)
}

/// The media type of a Content-Type value, lower case, without parameters.
pub fn media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub(super) fn is_xml_type(ct: &str) -> bool {
    let m = media_type(ct);
    m == "application/fhir+xml" || m == "application/xml" || m == "text/xml"
}

pub(super) fn is_json_type(ct: &str) -> bool {
    let m = media_type(ct);
    m == "application/fhir+json" || m == "application/json"
}

/// A value from a FHIR body as a message shows it ([`crate::evidence::quote`]), or `absent`.
pub fn shown(v: Option<&str>) -> String {
    v.map_or_else(|| "absent".to_string(), crate::evidence::quote)
}

/// Why a FHIR body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FhirBodyError {
    /// The body is declared XML and is not readable FHIR XML.
    #[error(transparent)]
    Xml(#[from] xml::FhirXmlError),
    /// The body is declared JSON and is not JSON.
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
    /// The Content-Type is not a FHIR media type (the value as a message shows it).
    #[error(
        "Content-Type {0} is not a FHIR media type (application/fhir+json or application/fhir+xml)"
    )]
    NotFhirType(String),
    /// No Content-Type, and the body is not JSON.
    #[error("no Content-Type, and not JSON: {0}")]
    UntypedNotJson(serde_json::Error),
}

/// Parse a FHIR body per its Content-Type (XML through [`xml::to_json`], JSON otherwise).
pub fn parse_fhir(body: &[u8], content_type: Option<&str>) -> Result<Value, FhirBodyError> {
    match content_type {
        Some(ct) if is_xml_type(ct) => Ok(xml::to_json(body)?),
        Some(ct) if is_json_type(ct) => {
            serde_json::from_slice(body).map_err(FhirBodyError::NotJson)
        }
        Some(ct) => Err(FhirBodyError::NotFhirType(shown(Some(ct)))),
        None => serde_json::from_slice(body).map_err(FhirBodyError::UntypedNotJson),
    }
}

/// Entries of a Bundle with their index.
pub(super) fn entries(bundle: &Value) -> impl Iterator<Item = (usize, &Value)> {
    arr(bundle, "entry").iter().enumerate()
}

pub(super) fn resource_type(entry: &Value) -> &str {
    entry
        .get("resource")
        .and_then(|r| str_at(r, "resourceType"))
        .unwrap_or("")
}

pub(super) fn method(entry: &Value) -> &str {
    entry
        .get("request")
        .and_then(|r| str_at(r, "method"))
        .unwrap_or("")
}

pub(super) fn is_submission_set(list: &Value) -> bool {
    list.get("code")
        .map(|c| codings(c).any(|(_, code)| code == "submissionset"))
        .unwrap_or(false)
}

pub(super) fn identifier_kind(id: &Value) -> Option<&'static str> {
    let typed = id.get("type").and_then(|t| {
        codings(t).find_map(|(_, c)| match c {
            "entryUUID" => Some("entryUUID"),
            "uniqueId" => Some("uniqueId"),
            _ => None,
        })
    });
    typed.or_else(|| {
        let value = str_at(id, "value").unwrap_or("");
        match str_at(id, "use") {
            Some("official") if value.starts_with("urn:uuid:") => Some("entryUUID"),
            Some("usual") => Some("uniqueId"),
            _ => None,
        }
    })
}

/// `Patient/123` from a reference (relative, absolute URL, with or without `_history`).
pub(super) fn canonical_reference(r: &str) -> String {
    let r = r.split("/_history/").next().unwrap_or(r);
    let parts: Vec<&str> = r.rsplitn(3, '/').collect();
    if parts.len() >= 2 {
        format!("{}/{}", parts[1], parts[0])
    } else {
        r.to_string()
    }
}

pub(super) fn subject_key(subject: &Value) -> Option<String> {
    if let Some(r) = str_at(subject, "reference") {
        if r.starts_with("urn:") || r.starts_with('#') {
            return Some(r.to_string());
        }
        return Some(canonical_reference(r));
    }
    subject.get("identifier").map(|i| {
        format!(
            "{}|{}",
            str_at(i, "system").unwrap_or(""),
            str_at(i, "value").unwrap_or("")
        )
    })
}

pub(super) fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .ok()
}

pub(super) fn same_hash(declared: &str, actual_b64: &str) -> bool {
    match (b64_decode(declared), b64_decode(actual_b64)) {
        (Some(a), Some(b)) => a == b,
        _ => declared.trim() == actual_b64,
    }
}
