//! The MADO FHIR manifest rules (MADO-01..12) and the MHD envelope rules (MADO-D1..D4), over
//! `serde_json::Value` so that any JSON a system under test sends can be judged without panics.

use serde_json::Value;

use super::{Level, Rule, Violation};
use crate::model::kos::KOS_SOP_CLASS;
use crate::model::mado::{
    DCMUID_SYSTEM, DCM_SYSTEM, DICOM_UIDS_SYSTEM, MADO_KOS_DOCREF, RETRIEVE_LOCATION_UID_EXT,
    URN_DICOM_UID,
};

const fn r(id: &'static str, requirement: &'static str, title: &'static str) -> Rule {
    Rule {
        id,
        requirement,
        title,
        level: Level::Shall,
    }
}

/// Every rule of [`validate_fhir_manifest`] and [`validate_docref`].
pub const FHIR_RULES: &[Rule] = &[
    r("MADO-01", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoFhirBundle", "Bundle.type is document"),
    r("MADO-02", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoFhirBundle; HL7 FHIR R4 §Bundle (bdl-9)", "Bundle.identifier is present with a value"),
    r("MADO-03", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoFhirBundle; HL7 FHIR R4 §Bundle (bdl-10)", "Bundle.timestamp is present"),
    r("MADO-04", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoFhirBundle; HL7 FHIR R4 §Bundle (bdl-11)", "The first entry is a Composition"),
    r("MADO-05", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoFhirBundle", "The Bundle holds exactly one ImagingStudy"),
    r("MADO-06", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoWadoEndpoint", "At least one dicom-wado-rs Endpoint with the Retrieve Location UID extension"),
    r("MADO-07", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoFhirBundle (MadoCreator)", "Composition.author references a Device of the Bundle (the manifest creator)"),
    r("MADO-08", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoImagingStudy (im-imagingstudy-01)", "ImagingStudy.identifier has the Study Instance UID: system urn:dicom:uid, type DCM#110180, value urn:oid:"),
    r("MADO-09", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoImagingStudy", "ImagingStudy.numberOfSeries is present and equals the number of series"),
    r("MADO-10", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoImagingStudy", "Each series' numberOfInstances equals its number of instances"),
    r("MADO-11", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoImagingStudy", "Every series references an Endpoint present in the Bundle"),
    r("MADO-12", "IHE RAD MADO Rev 1.1 §6.X.3 / MADO IG MadoImagingStudy (mado-reqproc-1)", "A procedureCode has text or a coding display"),
    r("MADO-D1", "IHE RAD MADO Rev 1.1 §6.X.4 / MADO IG MadoDicomKosDocumentReference (mado-docref-1)", "A masterIdentifier is repeated in identifier"),
    r("MADO-D2", "IHE RAD MADO Rev 1.1 §4.3.1 / MADO IG MHD-documentreference", "content.attachment.contentType and content.format name the same manifest format"),
    r("MADO-D3", "IHE RAD MADO Rev 1.1 §4.3.1 and App. A / MADO IG MadoDicomKosDocumentReference", "context.related has the Study Instance UID (system urn:dicom:uid)"),
    r("MADO-D4", "IHE ITI MHD / MADO IG MadoDicomKosDocumentReference", "An instance claiming MadoDicomKosDocumentReference has masterIdentifier and the modality extension"),
];

struct Out(Vec<Violation>);

impl Out {
    fn push(&mut self, id: &str, message: String) {
        if let Some(rule) = FHIR_RULES.iter().find(|r| r.id == id) {
            self.0.push(Violation::of(rule, message));
        }
    }
}

fn arr(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Resources of a Bundle with their fullUrl.
pub(super) fn entries(bundle: &Value) -> Vec<(String, Value)> {
    arr(bundle, "entry")
        .into_iter()
        .filter_map(|e| {
            let res = e.get("resource")?.clone();
            Some((s(&e, "fullUrl").unwrap_or("").to_string(), res))
        })
        .collect()
}

/// The resource a reference points at: by fullUrl, or by `Type/id`.
pub(super) fn resolve<'a>(entries: &'a [(String, Value)], reference: &str) -> Option<&'a Value> {
    entries.iter().map(|(u, r)| (u, r)).find_map(|(url, res)| {
        let local = format!(
            "{}/{}",
            s(res, "resourceType").unwrap_or(""),
            s(res, "id").unwrap_or("")
        );
        (url == reference
            || local == reference
            || (!reference.is_empty() && url.ends_with(&format!("/{reference}"))))
        .then_some(res)
    })
}

fn has_coding(cc: &Value, system: &str, code: &str) -> bool {
    arr(cc, "coding")
        .iter()
        .any(|c| s(c, "system") == Some(system) && s(c, "code") == Some(code))
}

/// Check a FHIR manifest Bundle against MADO-01..MADO-12.
pub fn validate_fhir_manifest(bundle: &Value) -> Vec<Violation> {
    let mut out = Out(Vec::new());
    if s(bundle, "type") != Some("document") {
        out.push(
            "MADO-01",
            format!(
                "Bundle.type: expected document, found {}",
                s(bundle, "type").unwrap_or("(absent)")
            ),
        );
    }
    if bundle
        .get("identifier")
        .and_then(|i| s(i, "value"))
        .is_none_or(str::is_empty)
    {
        out.push("MADO-02", "Bundle.identifier.value is absent".to_string());
    }
    if s(bundle, "timestamp").is_none_or(str::is_empty) {
        out.push("MADO-03", "Bundle.timestamp is absent".to_string());
    }
    let entries = entries(bundle);
    let kind = |r: &Value| s(r, "resourceType").unwrap_or("").to_string();
    match entries.first() {
        Some((_, r)) if kind(r) == "Composition" => {}
        other => out.push(
            "MADO-04",
            format!(
                "first entry: expected Composition, found {}",
                other
                    .map(|(_, r)| kind(r))
                    .unwrap_or_else(|| "(no entry)".to_string())
            ),
        ),
    }
    let studies: Vec<&Value> = entries
        .iter()
        .map(|(_, r)| r)
        .filter(|r| kind(r) == "ImagingStudy")
        .collect();
    if studies.len() != 1 {
        out.push(
            "MADO-05",
            format!("expected 1 ImagingStudy, found {}", studies.len()),
        );
    }
    let wado = entries.iter().filter(|(_, r)| {
        kind(r) == "Endpoint"
            && r.get("connectionType").and_then(|c| s(c, "code")) == Some("dicom-wado-rs")
            && arr(r, "extension").iter().any(|e| {
                s(e, "url") == Some(RETRIEVE_LOCATION_UID_EXT)
                    && s(e, "valueString").is_some_and(|v| !v.is_empty())
            })
    });
    if wado.count() == 0 {
        out.push(
            "MADO-06",
            "no Endpoint with connectionType dicom-wado-rs and a Retrieve Location UID extension"
                .to_string(),
        );
    }
    let device_author = entries
        .first()
        .map(|(_, c)| arr(c, "author"))
        .unwrap_or_default()
        .iter()
        .any(|a| {
            s(a, "reference")
                .and_then(|r| resolve(&entries, r))
                .is_some_and(|r| kind(r) == "Device")
        });
    if !device_author {
        out.push(
            "MADO-07",
            "Composition.author references no Device of the Bundle".to_string(),
        );
    }
    for study in studies {
        study_rules(study, &entries, &mut out);
    }
    out.0
}

fn study_rules(study: &Value, entries: &[(String, Value)], out: &mut Out) {
    let ids = arr(study, "identifier");
    let uid = ids.iter().find(|i| {
        i.get("type")
            .is_some_and(|t| has_coding(t, DCM_SYSTEM, "110180"))
            || s(i, "system") == Some(URN_DICOM_UID)
    });
    match uid {
        None => out.push("MADO-08", "no Study Instance UID identifier".to_string()),
        Some(i) => {
            if s(i, "system") != Some(URN_DICOM_UID) {
                out.push(
                    "MADO-08",
                    format!(
                        "study identifier system: expected urn:dicom:uid, found {}",
                        s(i, "system").unwrap_or("(absent)")
                    ),
                );
            }
            if !i
                .get("type")
                .is_some_and(|t| has_coding(t, DCM_SYSTEM, "110180"))
            {
                out.push(
                    "MADO-08",
                    "study identifier type is not DCM#110180".to_string(),
                );
            }
            if !s(i, "value").is_some_and(|v| v.starts_with("urn:oid:") && v.len() > 8) {
                out.push(
                    "MADO-08",
                    format!(
                        "study identifier value: expected urn:oid:<uid>, found {}",
                        s(i, "value").unwrap_or("(absent)")
                    ),
                );
            }
        }
    }
    let series = arr(study, "series");
    match study.get("numberOfSeries").and_then(Value::as_u64) {
        Some(n) if n as usize == series.len() => {}
        found => out.push(
            "MADO-09",
            format!(
                "numberOfSeries: expected {}, found {}",
                series.len(),
                found
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "(absent)".to_string())
            ),
        ),
    }
    for (n, se) in series.iter().enumerate() {
        let name = s(se, "uid")
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{}", n + 1));
        let count = arr(se, "instance").len();
        match se.get("numberOfInstances").and_then(Value::as_u64) {
            Some(k) if k as usize == count => {}
            found => out.push(
                "MADO-10",
                format!(
                    "series {name}: numberOfInstances expected {count}, found {}",
                    found
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "(absent)".to_string())
                ),
            ),
        }
        let eps = arr(se, "endpoint");
        let ok = eps.iter().any(|e| {
            s(e, "reference")
                .and_then(|r| resolve(entries, r))
                .is_some_and(|r| s(r, "resourceType") == Some("Endpoint"))
        });
        if !ok {
            out.push(
                "MADO-11",
                format!("series {name} references no Endpoint of the Bundle"),
            );
        }
    }
    for pc in arr(study, "procedureCode") {
        let text = s(&pc, "text").is_some_and(|t| !t.is_empty());
        let display = arr(&pc, "coding")
            .iter()
            .any(|c| s(c, "display").is_some_and(|d| !d.is_empty()));
        if !text && !display {
            out.push(
                "MADO-12",
                "a procedureCode has neither text nor a coding display".to_string(),
            );
        }
    }
}

/// Check an MHD DocumentReference envelope of a MADO manifest (MADO-D1..D4). Profile rules
/// (MADO-D4) apply only when the instance claims MadoDicomKosDocumentReference.
pub fn validate_docref(docref: &Value) -> Vec<Violation> {
    let mut out = Out(Vec::new());
    if let Some(master) = docref.get("masterIdentifier").and_then(|m| s(m, "value")) {
        if !arr(docref, "identifier")
            .iter()
            .any(|i| s(i, "value") == Some(master))
        {
            out.push(
                "MADO-D1",
                format!("masterIdentifier {master} is not repeated in identifier"),
            );
        }
    }
    for c in arr(docref, "content") {
        let ct = c
            .get("attachment")
            .and_then(|a| s(a, "contentType"))
            .unwrap_or("");
        let fmt = c.get("format");
        let system = fmt.and_then(|f| s(f, "system")).unwrap_or("");
        let code = fmt.and_then(|f| s(f, "code")).unwrap_or("");
        let ok = match ct {
            "application/dicom" => {
                code == KOS_SOP_CLASS && (system == DCMUID_SYSTEM || system == DICOM_UIDS_SYSTEM)
            }
            "application/fhir+json" | "application/fhir+xml" => {
                code == "urn:ihe:rad:MADO:fhir-manifest:2026"
            }
            _ => false,
        };
        if !ok {
            out.push(
                "MADO-D2",
                format!(
                    "contentType {} with format {system}#{code}",
                    crate::evidence::quote(ct)
                ),
            );
        }
    }
    let related = docref
        .get("context")
        .map(|c| arr(c, "related"))
        .unwrap_or_default();
    let has_study = related.iter().filter_map(|r| r.get("identifier")).any(|i| {
        s(i, "system") == Some(URN_DICOM_UID) && s(i, "value").is_some_and(|v| !v.is_empty())
    });
    if !has_study {
        out.push(
            "MADO-D3",
            "context.related has no identifier with system urn:dicom:uid".to_string(),
        );
    }
    let claims = docref
        .get("meta")
        .map(|m| arr(m, "profile"))
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .any(|p| p.split('|').next() == Some(MADO_KOS_DOCREF));
    if claims {
        if docref.get("masterIdentifier").is_none() {
            out.push("MADO-D4", "masterIdentifier is absent".to_string());
        }
        let modality = arr(docref, "extension").iter().filter(|e| s(e, "url") == Some("http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality")).count();
        if modality != 1 {
            out.push(
                "MADO-D4",
                format!("expected 1 modality extension, found {modality}"),
            );
        }
    }
    out.0
}
