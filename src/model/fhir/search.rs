//! FHIR search matching for MHD, shared by the reference Document Responder (which answers with it)
//! and the MHD steps (which compute with it what a conformant Responder returns): the ITI-66 (List) and ITI-67
//! (DocumentReference) parameters of IHE ITI TF-2 §3.66.4.1.2.1 and §3.67.4.1.2.1, plus the MADO
//! imaging SearchParameters (`modality`, `anatomical-region`, `study-instance-uid`,
//! `accession-number`; IHE RAD MADO, MHD envelope).
//!
//! Matching works on the stored JSON through the tolerant models of [`crate::model::fhir`], so a
//! resource a SUT submitted with odd content never makes a search panic; it just does not match.

use serde_json::Value;

use crate::model::fhir::{CodeableConcept, DocumentReference, Identifier, List, Period};

/// DCM code of a Study Instance UID identifier type.
pub const STUDY_UID_TYPE: &str = "110180";
/// DCM code of an Accession Number identifier type.
pub const ACCESSION_TYPE: &str = "121022";
/// The MADO modality extension (R5 DocumentReference.modality backported).
pub const MODALITY_EXT: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality";
/// The MADO body site extension (R5 DocumentReference.bodySite backported).
pub const BODY_SITE_EXT: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite";

/// Parameters the responder understands; anything else is ignored (FHIR R4 §3.1.1.5.7 lets a
/// server ignore unknown parameters unless the client asks for strict handling).
const KNOWN: &[&str] = &[
    "patient",
    "subject",
    "patient.identifier",
    "subject.identifier",
    "status",
    "type",
    "category",
    "format",
    "date",
    "creation",
    "period",
    "event",
    "setting",
    "facility",
    "security-label",
    "identifier",
    "related",
    "modality",
    "anatomical-region",
    "study-instance-uid",
    "accession-number",
    "code",
    "designationType",
    "sourceId",
];

/// Why a search was refused (HTTP 400 with an OperationOutcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSearch(pub String);

/// One search parameter: name, optional modifier, and its comma-separated values.
#[derive(Debug, Clone)]
struct Param {
    name: String,
    values: Vec<String>,
}

fn params(raw: &[(String, String)]) -> Vec<Param> {
    raw.iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| Param {
            name: k.split(':').next().unwrap_or(k).to_string(),
            values: v.split(',').map(|s| s.trim().to_string()).collect(),
        })
        .filter(|p| KNOWN.contains(&p.name.as_str()))
        .collect()
}

fn has(raw: &[(String, String)], names: &[&str]) -> bool {
    raw.iter()
        .any(|(k, v)| !v.is_empty() && names.contains(&k.split(':').next().unwrap_or(k)))
}

/// Refuse an ITI-67 search without (`patient` or `patient.identifier`) and `status`
/// (ITI TF-2 §3.67.4.1.2.1), or an ITI-66 search without patient, `code` and `status`
/// (§3.66.4.1.2.1).
pub fn require(resource_type: &str, raw: &[(String, String)]) -> Result<(), BadSearch> {
    let patient = has(
        raw,
        &[
            "patient",
            "patient.identifier",
            "subject",
            "subject.identifier",
        ],
    );
    let status = has(raw, &["status"]);
    let code = has(raw, &["code"]);
    let missing: Vec<&str> = [
        (!patient).then_some("patient or patient.identifier"),
        (!status).then_some("status"),
        (resource_type == "List" && !code).then_some("code"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(BadSearch(format!(
            "{resource_type} search lacks required parameter(s): {}",
            missing.join(", ")
        )))
    }
}

/// A token `system|code`, `|code` or `code` against a coding.
fn token_matches(token: &str, system: Option<&str>, code: Option<&str>) -> bool {
    match token.split_once('|') {
        Some((s, c)) => {
            (s.is_empty() && system.is_none() || system == Some(s))
                && (c.is_empty() || code == Some(c))
        }
        None => code == Some(token),
    }
}

fn cc_matches(cc: &CodeableConcept, token: &str) -> bool {
    cc.coding
        .iter()
        .any(|c| token_matches(token, c.system.as_deref(), c.code.as_deref()))
}

fn identifier_matches(id: &Identifier, token: &str) -> bool {
    let value = id.value.as_deref();
    match token.split_once('|') {
        Some((s, v)) => (s.is_empty() || id.system.as_deref() == Some(s)) && uid_eq(value, v),
        None => uid_eq(value, token),
    }
}

/// Values equal, reading `urn:oid:X` and `X` as the same UID.
fn uid_eq(stored: Option<&str>, asked: &str) -> bool {
    let strip = |s: &str| s.strip_prefix("urn:oid:").unwrap_or(s).to_string();
    stored.map(|s| strip(s) == strip(asked)).unwrap_or(false)
}

/// A patient reference parameter (`Patient/x`, `x`, or a full URL ending with `Patient/x`).
fn reference_matches(reference: Option<&str>, asked: &str) -> bool {
    let Some(r) = reference else { return false };
    let id = |s: &str| {
        s.trim_end_matches('/')
            .rsplit_once("Patient/")
            .map(|(_, id)| id.split('/').next().unwrap_or(id).to_string())
            .unwrap_or_else(|| s.to_string())
    };
    id(r) == id(asked)
}

/// A date parameter with its prefix against an instant or a period.
fn date_matches(value: &str, start: Option<&str>, end: Option<&str>) -> bool {
    let (prefix, date) = match value.get(..2) {
        Some(p @ ("eq" | "ne" | "gt" | "lt" | "ge" | "le" | "sa" | "eb")) => (p, &value[2..]),
        _ => ("eq", value),
    };
    // Compare the common prefix of ISO 8601 strings: a coarse date matches every instant in it.
    let cmp = |t: &str| -> std::cmp::Ordering {
        let n = date.len().min(t.len());
        t.as_bytes()[..n].cmp(&date.as_bytes()[..n])
    };
    let (s, e) = match (start, end) {
        (None, None) => return false,
        (Some(s), None) => (s, None),
        (None, Some(e)) => (e, Some(e)),
        (Some(s), Some(e)) => (s, Some(e)),
    };
    use std::cmp::Ordering::*;
    let e_ord = e.map(cmp);
    match prefix {
        "eq" => cmp(s) != Greater && e_ord.map(|o| o != Less).unwrap_or(cmp(s) == Equal),
        "ne" => !(cmp(s) == Equal && e_ord.map(|o| o == Equal).unwrap_or(true)),
        "gt" | "sa" => e_ord.map(|o| o == Greater).unwrap_or(true) || cmp(s) == Greater,
        "ge" => e_ord.map(|o| o != Less).unwrap_or(true) || cmp(s) != Less,
        "lt" | "eb" => cmp(s) == Less,
        "le" => cmp(s) != Greater,
        _ => false,
    }
}

fn extension_codes(
    exts: &[crate::model::fhir::Extension],
    url: &str,
) -> Vec<crate::model::fhir::Coding> {
    let mut out = Vec::new();
    for e in exts.iter().filter(|e| e.url == url) {
        out.extend(e.codings());
        // R5 CodeableReference backport: a nested `concept` extension.
        for inner in &e.extension {
            out.extend(inner.codings());
        }
    }
    out
}

/// A patient parameter (`patient`, a reference; `patient.identifier`, a token on the Patient the
/// subject points at) against a subject reference.
fn subject_matches(
    name: &str,
    val: &str,
    subject: Option<&str>,
    patient_identifiers: &dyn Fn(&str) -> Vec<Identifier>,
) -> bool {
    match name {
        "patient" | "subject" => reference_matches(subject, val),
        _ => subject
            .map(|s| {
                patient_identifiers(s)
                    .iter()
                    .any(|i| identifier_matches(i, val))
            })
            .unwrap_or(false),
    }
}

/// Does a stored DocumentReference match every parameter?
pub fn document_reference_matches(
    v: &Value,
    raw: &[(String, String)],
    patient_identifiers: &dyn Fn(&str) -> Vec<Identifier>,
) -> bool {
    let Ok(d) = serde_json::from_value::<DocumentReference>(strip_type(v)) else {
        return false;
    };
    let subject = d.subject.as_ref().and_then(|s| s.reference.as_deref());
    let related: Vec<&Identifier> = d
        .context
        .iter()
        .flat_map(|c| c.related.iter())
        .filter_map(|r| r.identifier.as_ref())
        .collect();
    params(raw).iter().all(|p| {
        p.values.iter().any(|val| match p.name.as_str() {
            "patient" | "subject" | "patient.identifier" | "subject.identifier" => {
                subject_matches(&p.name, val, subject, patient_identifiers)
            }
            "status" => d.status.as_deref() == Some(val.as_str()),
            "_id" => v.get("id").and_then(Value::as_str) == Some(val.as_str()),
            "type" => d
                .type_
                .as_ref()
                .map(|t| cc_matches(t, val))
                .unwrap_or(false),
            "category" => d.category.iter().any(|c| cc_matches(c, val)),
            "format" => d.content.iter().any(|c| {
                c.format
                    .as_ref()
                    .map(|f| token_matches(val, f.system.as_deref(), f.code.as_deref()))
                    .unwrap_or(false)
            }),
            // Instants: a period of no length (only a Period with no end is open, R4 §3.1.1.5.8).
            "date" => date_matches(val, d.date.as_deref(), d.date.as_deref()),
            "creation" => d.content.iter().any(|c| {
                let at = c.attachment.creation.as_deref();
                date_matches(val, at, at)
            }),
            "period" => {
                let p = d
                    .context
                    .as_ref()
                    .and_then(|c| c.period.clone())
                    .unwrap_or_else(Period::default);
                date_matches(val, p.start.as_deref(), p.end.as_deref())
            }
            "event" => d
                .context
                .iter()
                .flat_map(|c| c.event.iter())
                .any(|e| cc_matches(e, val)),
            "setting" => d
                .context
                .as_ref()
                .and_then(|c| c.practice_setting.as_ref())
                .map(|s| cc_matches(s, val))
                .unwrap_or(false),
            "facility" => d
                .context
                .as_ref()
                .and_then(|c| c.facility_type.as_ref())
                .map(|s| cc_matches(s, val))
                .unwrap_or(false),
            "security-label" => d.security_label.iter().any(|c| cc_matches(c, val)),
            "identifier" => {
                d.master_identifier
                    .as_ref()
                    .map(|m| identifier_matches(m, val))
                    .unwrap_or(false)
                    || d.identifier.iter().any(|i| identifier_matches(i, val))
            }
            "related" => related.iter().any(|i| identifier_matches(i, val)),
            "modality" => extension_codes(&d.extension, MODALITY_EXT)
                .iter()
                .any(|c| token_matches(val, c.system.as_deref(), c.code.as_deref())),
            // `bodysite` is the HL7 Europe imaging API's name of the parameter.
            "anatomical-region" | "bodysite" => extension_codes(&d.extension, BODY_SITE_EXT)
                .iter()
                .any(|c| token_matches(val, c.system.as_deref(), c.code.as_deref())),
            "study-instance-uid" => related
                .iter()
                .filter(|i| typed(i, STUDY_UID_TYPE))
                .any(|i| identifier_matches(i, val)),
            "accession-number" => related
                .iter()
                .filter(|i| typed(i, ACCESSION_TYPE) || typed(i, "ACSN"))
                .any(|i| identifier_matches(i, val)),
            _ => true,
        })
    })
}

fn typed(id: &Identifier, code: &str) -> bool {
    id.type_
        .as_ref()
        .map(|t| t.coding.iter().any(|c| c.code.as_deref() == Some(code)))
        .unwrap_or(false)
}

/// Does a stored List match every parameter?
pub fn list_matches(
    v: &Value,
    raw: &[(String, String)],
    patient_identifiers: &dyn Fn(&str) -> Vec<Identifier>,
) -> bool {
    let Ok(l) = serde_json::from_value::<List>(strip_type(v)) else {
        return false;
    };
    let subject = l.subject.as_ref().and_then(|s| s.reference.as_deref());
    params(raw).iter().all(|p| {
        p.values.iter().any(|val| match p.name.as_str() {
            "patient" | "subject" | "patient.identifier" | "subject.identifier" => {
                subject_matches(&p.name, val, subject, patient_identifiers)
            }
            "status" => l.status.as_deref() == Some(val.as_str()),
            "code" => l.code.as_ref().map(|c| cc_matches(c, val)).unwrap_or(false),
            "date" => date_matches(val, l.date.as_deref(), l.date.as_deref()),
            "identifier" => l.identifier.iter().any(|i| identifier_matches(i, val)),
            "designationType" => l
                .extension
                .iter()
                .filter(|e| e.url.ends_with("ihe-designationType"))
                .flat_map(|e| e.codings())
                .any(|c| token_matches(val, c.system.as_deref(), c.code.as_deref())),
            "sourceId" => l
                .extension
                .iter()
                .filter(|e| e.url.ends_with("ihe-sourceId"))
                .filter_map(|e| e.value_as::<Identifier>("valueIdentifier"))
                .any(|i| identifier_matches(&i, val)),
            _ => true,
        })
    })
}

fn strip_type(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("resourceType");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn docref() -> Value {
        json!({
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": "Patient/p1"},
            "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4"}]},
            "extension": [
                {"url": MODALITY_EXT, "valueCodeableConcept": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "MR"}]}},
                {"url": BODY_SITE_EXT, "extension": [{"url": "concept", "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "774007"}]}}]}
            ],
            "context": {
                "period": {"start": "2026-01-22T10:00:00+01:00", "end": "2026-01-22T10:00:00+01:00"},
                "related": [{"identifier": {"type": {"coding": [{"code": "110180"}]}, "system": "urn:dicom:uid", "value": "urn:oid:1.2.3"}}]
            }
        })
    }

    #[test]
    fn matches_imaging_parameters() {
        let no_ids = |_: &str| Vec::new();
        let d = docref();
        for (k, v) in [
            ("patient", "Patient/p1"),
            ("status", "current"),
            ("type", "http://loinc.org|18748-4"),
            ("modality", "MR"),
            ("modality", "CT,MR"),
            ("anatomical-region", "http://snomed.info/sct|774007"),
            ("study-instance-uid", "urn:oid:1.2.3"),
            ("study-instance-uid", "1.2.3"),
            ("period", "ge2026-01-01"),
            ("period", "le2026-12-31"),
            ("period", "2026-01-22"),
            ("unknown-param", "whatever"),
        ] {
            assert!(
                document_reference_matches(&d, &q(&[(k, v)]), &no_ids),
                "{k}={v} should match"
            );
        }
        for (k, v) in [
            ("patient", "Patient/p2"),
            ("status", "superseded"),
            ("modality", "CT"),
            ("anatomical-region", "67734004"),
            ("study-instance-uid", "1.2.4"),
            ("period", "ge2027-01-01"),
            ("period", "lt2025-01-01"),
        ] {
            assert!(
                !document_reference_matches(&d, &q(&[(k, v)]), &no_ids),
                "{k}={v} should not match"
            );
        }
    }

    #[test]
    fn an_open_period_is_ongoing() {
        let no_ids = |_: &str| Vec::new();
        let mut d = docref();
        if let Some(p) = d.pointer_mut("/context/period") {
            *p = json!({"start": "2026-01-22"});
        }
        assert!(document_reference_matches(
            &d,
            &q(&[("period", "ge2027-01-01")]),
            &no_ids
        ));
        assert!(!document_reference_matches(
            &d,
            &q(&[("period", "lt2025-01-01")]),
            &no_ids
        ));
    }

    #[test]
    fn required_parameters() {
        assert!(require(
            "DocumentReference",
            &q(&[("patient", "x"), ("status", "current")])
        )
        .is_ok());
        assert!(require("DocumentReference", &q(&[("status", "current")])).is_err());
        assert!(require("List", &q(&[("patient", "x"), ("status", "current")])).is_err());
    }

    #[test]
    fn hostile_resources_do_not_match() {
        let no_ids = |_: &str| Vec::new();
        let v = json!({"resourceType": "DocumentReference", "status": 7, "content": "x"});
        assert!(!document_reference_matches(
            &v,
            &q(&[("status", "current")]),
            &no_ids
        ));
        // Multi-byte text where a date belongs: compared as bytes, never sliced mid-character.
        let _ = date_matches("ge2026-01-01", Some("é2026"), None);
        assert!(!date_matches("eqé", Some("2026"), None));
    }

    /// `date` is an instant: `ge` after it does not match, as an open-ended period would.
    #[test]
    fn the_date_parameter_is_an_instant() {
        let no_ids = |_: &str| Vec::new();
        let mut d = docref();
        d["date"] = json!("2026-01-15T10:00:00+00:00");
        for v in ["ge2026-01-10", "2026-01-15", "lt2026-01-20", "le2026-01-15"] {
            assert!(
                document_reference_matches(&d, &q(&[("date", v)]), &no_ids),
                "date={v} should match"
            );
        }
        for v in ["ge2026-01-20", "gt2026-01-15", "2026-01-16", "lt2026-01-15"] {
            assert!(
                !document_reference_matches(&d, &q(&[("date", v)]), &no_ids),
                "date={v} should not match"
            );
        }
    }
}
