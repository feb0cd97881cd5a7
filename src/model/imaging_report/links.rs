//! Where an imaging report points: study UIDs, accession numbers, patient and report identifiers.

use serde_json::Value;

use super::{DCM, V2_0203};

/// The identifiers an imaging report carries, collected from every resource of the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportLinks {
    /// Patient identifiers (system, value).
    pub patient: Vec<(String, String)>,
    /// Study Instance UIDs, bare (without `urn:oid:`).
    pub study_uids: Vec<String>,
    /// Accession numbers (system, value).
    pub accessions: Vec<(String, String)>,
    /// DICOM modality codes.
    pub modalities: Vec<String>,
    /// Composition and DiagnosticReport business identifiers (system, value).
    pub identifiers: Vec<(String, String)>,
}

/// The resources of a Bundle (entry resources), or the value itself when it is a single resource.
pub fn resources(doc: &Value) -> Vec<&Value> {
    if doc.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
        arr(doc, "entry")
            .iter()
            .filter_map(|e| e.get("resource"))
            .filter(|r| r.is_object())
            .collect()
    } else if doc.is_object() {
        vec![doc]
    } else {
        Vec::new()
    }
}

/// The array at `key`, or an empty slice.
pub fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The string at `key`.
pub fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// An element that may be one object or an array of them, as a list.
pub fn one_or_many<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    match v.get(key) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// (system, value) of an Identifier, when both are strings.
fn pair(id: &Value) -> Option<(String, String)> {
    Some((s(id, "system")?.to_string(), s(id, "value")?.to_string()))
}

/// True when an Identifier's type carries v2-0203 ACSN.
fn is_accession(id: &Value) -> bool {
    id.get("type")
        .map(|t| {
            arr(t, "coding")
                .iter()
                .any(|c| s(c, "system") == Some(V2_0203) && s(c, "code") == Some("ACSN"))
        })
        .unwrap_or(false)
}

fn push<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn study_uid(id: &Value, out: &mut Vec<String>) {
    if s(id, "system") == Some("urn:dicom:uid") {
        if let Some(v) = s(id, "value") {
            push(out, v.strip_prefix("urn:oid:").unwrap_or(v).to_string());
        }
    }
}

fn dcm_codes(cc: &Value, out: &mut Vec<String>) {
    for c in arr(cc, "coding") {
        if s(c, "system") == Some(DCM) {
            if let Some(code) = s(c, "code") {
                push(out, code.to_string());
            }
        }
    }
}

/// Collect where a report (a document Bundle or a single resource) points.
pub fn report_links(bundle: &Value) -> ReportLinks {
    let mut l = ReportLinks::default();
    for r in resources(bundle) {
        match s(r, "resourceType").unwrap_or("") {
            "Patient" => {
                for id in arr(r, "identifier") {
                    if let Some(p) = pair(id) {
                        push(&mut l.patient, p);
                    }
                }
            }
            "ImagingStudy" => {
                for id in arr(r, "identifier") {
                    study_uid(id, &mut l.study_uids);
                    if is_accession(id) {
                        if let Some(p) = pair(id) {
                            push(&mut l.accessions, p);
                        }
                    }
                }
                for b in arr(r, "basedOn") {
                    if let Some(p) = b.get("identifier").and_then(pair) {
                        push(&mut l.accessions, p);
                    }
                }
                for m in arr(r, "modality") {
                    if let Some(code) = s(m, "code") {
                        push(&mut l.modalities, code.to_string());
                    }
                }
                for se in arr(r, "series") {
                    if let Some(code) = se.get("modality").and_then(|m| s(m, "code")) {
                        push(&mut l.modalities, code.to_string());
                    }
                }
            }
            "ServiceRequest" => {
                for id in arr(r, "identifier").iter().filter(|i| is_accession(i)) {
                    if let Some(p) = pair(id) {
                        push(&mut l.accessions, p);
                    }
                }
            }
            "DiagnosticReport" => {
                for id in arr(r, "identifier") {
                    if let Some(p) = pair(id) {
                        push(&mut l.identifiers, p);
                    }
                }
                for st in arr(r, "imagingStudy") {
                    if let Some(id) = st.get("identifier") {
                        study_uid(id, &mut l.study_uids);
                    }
                }
                for b in arr(r, "basedOn") {
                    if let Some(p) = b.get("identifier").and_then(pair) {
                        push(&mut l.accessions, p);
                    }
                }
            }
            "Composition" => {
                for id in one_or_many(r, "identifier") {
                    if let Some(p) = pair(id) {
                        push(&mut l.identifiers, p);
                    }
                }
                for e in arr(r, "extension") {
                    if let Some(id) = e.get("valueReference").and_then(|v| v.get("identifier")) {
                        if is_accession(id) {
                            if let Some(p) = pair(id) {
                                push(&mut l.accessions, p);
                            }
                        }
                    }
                }
                for ev in arr(r, "event") {
                    for cc in arr(ev, "code") {
                        dcm_codes(cc, &mut l.modalities);
                    }
                }
            }
            "DocumentReference" => {
                for e in arr(r, "extension") {
                    if let Some(cc) = e.get("valueCodeableConcept") {
                        if s(e, "url").is_some_and(|u| u.ends_with("modality")) {
                            dcm_codes(cc, &mut l.modalities);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    l
}
