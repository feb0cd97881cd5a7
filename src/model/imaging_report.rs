//! HL7 Europe imaging report documents: build one for a fixture study, and read where one points.
//!
//! [`report_for_study`] writes a complete `BundleReportEuImaging` FHIR R4 `document` Bundle
//! (Composition first, DiagnosticReport, Patient, Practitioner, Organization, ServiceRequest,
//! ImagingStudy, findings Observation) with ids derived from the Study Instance UID, so the same
//! study always yields the same document. [`report_links`] collects the identifiers a report
//! carries (study UIDs, accession numbers, patient and report identifiers) for the
//! report-to-manifest link checks.

pub mod links;

use serde_json::{json, Value};
use sha2::Digest;

use crate::model::fixtures::FixtureStudy;

pub use links::{report_links, ReportLinks};

/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// DICOM DCM code system.
pub const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// HL7 Europe priority category code system (`Medical-Imaging`).
pub const PRIORITY_CATEGORY: &str =
    "http://hl7.eu/fhir/health-data-api/CodeSystem/eehrxf-document-priority-category-cs";
/// The `note` extension (section notes, DiagnosticReport notes).
pub const NOTE_URL: &str = "http://hl7.org/fhir/StructureDefinition/note";
/// HL7 v2 table 0203 (identifier types: ACSN, PLAC).
pub const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";

/// How the generated report should look.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// `final` or `preliminary` (also `amended` / `corrected`): Composition and DiagnosticReport
    /// statuses are aligned from it.
    pub status: String,
    /// Issuer of the patient identifier (an `urn:oid:` system).
    pub patient_id_system: String,
    /// Issuer of the accession number.
    pub accession_system: String,
    /// Issuer of report and order identifiers.
    pub report_id_system: String,
    /// Name of the custodian / performing organisation.
    pub institution: String,
    /// Name of the reporting radiologist (author and legal authenticator).
    pub radiologist: String,
    /// Patient birth date (FHIR date).
    pub birth_date: String,
    /// Administrative gender.
    pub gender: String,
    /// Report date-time; the study date at noon UTC when `None`.
    pub date: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            status: "final".into(),
            patient_id_system: "urn:oid:1.3.6.1.4.1.21367.13.20.1000".into(),
            accession_system: "urn:oid:1.3.6.1.4.1.21367.13.20.2000".into(),
            report_id_system: "urn:oid:1.3.6.1.4.1.21367.13.20.3000".into(),
            institution: "IHE Harness Radiology".into(),
            radiologist: "Rad^Rita".into(),
            birth_date: "1970-01-01".into(),
            gender: "unknown".into(),
            date: None,
        }
    }
}

/// A deterministic FHIR id: `prefix-` and 16 hex digits of SHA-256 over the Study UID.
fn fhir_id(prefix: &str, uid: &str) -> String {
    let h = hex::encode(sha2::Sha256::digest(format!("{prefix}|{uid}").as_bytes()));
    format!("{prefix}-{}", &h[..16])
}

/// DICOM PN (`Family^Given^Middle^Prefix^Suffix`) as a FHIR HumanName.
fn human_name(pn: &str) -> Value {
    let mut parts = pn.split('^');
    let family = parts.next().unwrap_or("").trim();
    let given: Vec<&str> = parts
        .next()
        .map(|g| g.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let text = format!("{} {}", given.join(" "), family).trim().to_string();
    json!({"use": "official", "text": text, "family": family, "given": given})
}

/// `YYYYMMDD` to `YYYY-MM-DD` (the input unchanged when it is not 8 digits).
fn dicom_date(d: &str) -> String {
    if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
    } else {
        d.to_string()
    }
}

/// Display names of the DICOM acquisition modalities used by fixtures.
fn modality_display(m: &str) -> &'static str {
    match m {
        "CT" => "Computed Tomography",
        "MR" => "Magnetic Resonance",
        "US" => "Ultrasound",
        "DX" => "Digital Radiography",
        "CR" => "Computed Radiography",
        "MG" => "Mammography",
        "XA" => "X-Ray Angiography",
        "NM" => "Nuclear Medicine",
        "PT" => "Positron emission tomography",
        _ => "",
    }
}

/// Acquisition modalities of the study (KO, PR, SR and OT left out), in series order.
fn acquisition_modalities(study: &FixtureStudy<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for series in study.series() {
        if let Some(i) = study.instances.iter().find(|i| i.series_uid == series) {
            let m = i.modality.as_str();
            if !["KO", "PR", "SR", "OT", ""].contains(&m) && !out.iter().any(|x| x == m) {
                out.push(m.to_string());
            }
        }
    }
    out
}

/// A section with generated narrative.
fn section(title: &str, code: &str, display: &str, text: &str, entries: &[&str]) -> Value {
    let mut s = json!({
        "title": title,
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "text": {"status": "generated", "div": div(text)},
    });
    if entries.is_empty() {
        // eu-imaging-composition-1: a section without entries carries its content as a note.
        s["extension"] = json!([{"url": NOTE_URL, "valueAnnotation": {"text": text}}]);
    } else {
        s["entry"] = entries.iter().map(|r| json!({"reference": r})).collect();
    }
    s
}

/// XHTML narrative with the text escaped.
fn div(text: &str) -> String {
    let esc = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{esc}</div>")
}

/// The two mandatory categories of `CompositionEuImaging` / `DiagnosticReportEuImaging`.
fn categories() -> Value {
    json!([
        {"coding": [{"system": LOINC, "code": "85430-7", "display": "Diagnostic imaging report"}]},
        {"coding": [{"system": PRIORITY_CATEGORY, "code": "Medical-Imaging"}]}
    ])
}

/// Build a complete HL7 Europe imaging report document Bundle for a fixture study.
pub fn report_for_study(study: &FixtureStudy<'_>, opts: &ReportOptions) -> Value {
    let uid = study.uid;
    let first = study.instances.first();
    let patient_id = first.map(|i| i.patient_id.as_str()).unwrap_or("UNKNOWN");
    let pn = first
        .and_then(|i| i.patient_name.as_deref())
        .unwrap_or("Unknown^Patient");
    let accession = first.and_then(|i| i.accession.as_deref()).unwrap_or("");
    let study_date = first
        .and_then(|i| i.study_date.as_deref())
        .map(dicom_date)
        .unwrap_or_else(|| "2026-01-01".into());
    let date = opts
        .date
        .clone()
        .unwrap_or_else(|| format!("{study_date}T12:00:00Z"));
    let mods = acquisition_modalities(study);
    let mod_text = if mods.is_empty() {
        "unknown".to_string()
    } else {
        mods.join(", ")
    };
    let label = if study.alias.is_empty() {
        "imaging study"
    } else {
        study.alias
    };

    let ids = Ids::new(uid);
    let report_identifier = json!({"system": opts.report_id_system, "value": format!("RPT-{uid}")});
    let accession_identifier = json!({
        "type": {"coding": [{"system": V2_0203, "code": "ACSN"}]},
        "system": opts.accession_system, "value": accession
    });
    let modality_codings: Vec<Value> = mods
        .iter()
        .map(|m| json!({"system": DCM, "code": m, "display": modality_display(m)}))
        .collect();
    let (comp_status, dr_status) = aligned_statuses(&opts.status);
    let findings_text =
        format!("{label}: {mod_text} examination of {study_date} reviewed. No acute abnormality.");
    let impression_text = format!("No acute findings on {label}.");

    let composition = json!({
        "resourceType": "Composition", "id": ids.composition,
        "identifier": report_identifier,
        "status": comp_status,
        "type": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "category": categories(),
        "subject": {"reference": format!("Patient/{}", ids.patient)},
        "date": date,
        "author": [{"reference": format!("Practitioner/{}", ids.practitioner)}],
        "title": format!("Imaging report: {label}"),
        "attester": [{"mode": "legal", "time": date,
            "party": {"reference": format!("Practitioner/{}", ids.practitioner)}}],
        "custodian": {"reference": format!("Organization/{}", ids.organization)},
        "event": [{"code": [{"coding": modality_codings}]}],
        "extension": [{"url": "http://hl7.eu/fhir/extensions/StructureDefinition/composition-diagnosticReportReference",
            "valueReference": {"reference": format!("DiagnosticReport/{}", ids.report)}}],
        "text": {"status": "generated", "div": div(&format!("Imaging report for {label}."))},
        "section": [
            section("Imaging Study", "18726-0", "Radiology studies (set)",
                &format!("Study Instance UID {uid}; modality {mod_text}; started {study_date}"),
                &[&format!("ImagingStudy/{}", ids.study)]),
            section("Order", "55115-0", "Requested imaging studies information Document",
                &format!("Accession Number: {accession}"), &[&format!("ServiceRequest/{}", ids.order)]),
            section("History", "11329-0", "History general Narrative - Reported",
                "Clinical question: exclude acute pathology.", &[]),
            section("Procedure", "55111-9", "Current imaging procedure descriptions Document",
                &format!("{mod_text} examination ({label})."), &[]),
            section("Findings", "59776-5", "Procedure findings Narrative", &findings_text,
                &[&format!("Observation/{}", ids.finding)]),
            section("Impression", "19005-8", "Radiology Imaging study [Impression] (narrative)",
                &impression_text, &[]),
            section("Recommendations", "18783-1", "Radiology Study recommendation (narrative)",
                "No follow-up imaging recommended.", &[]),
        ]
    });
    let report = json!({
        "resourceType": "DiagnosticReport", "id": ids.report,
        "identifier": [report_identifier],
        "basedOn": [{"reference": format!("ServiceRequest/{}", ids.order)}],
        "status": dr_status,
        "category": categories(),
        "code": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "subject": {"reference": format!("Patient/{}", ids.patient)},
        "effectiveDateTime": study_date,
        "issued": date,
        "performer": [{"reference": format!("Organization/{}", ids.organization)}],
        "resultsInterpreter": [{"reference": format!("Practitioner/{}", ids.practitioner)}],
        "imagingStudy": [{"reference": format!("ImagingStudy/{}", ids.study)}],
        "result": [{"reference": format!("Observation/{}", ids.finding)}],
        "conclusion": impression_text,
        "extension": [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.composition",
            "valueReference": {"reference": format!("Composition/{}", ids.composition)}}]
    });
    let patient = json!({
        "resourceType": "Patient", "id": ids.patient,
        "identifier": [{"system": opts.patient_id_system, "value": patient_id}],
        "name": [human_name(pn)], "gender": opts.gender, "birthDate": opts.birth_date
    });
    let practitioner = json!({
        "resourceType": "Practitioner", "id": ids.practitioner,
        "identifier": [{"system": opts.report_id_system, "value": "RAD-1"}],
        "name": [human_name(&opts.radiologist)]
    });
    let organization = json!({
        "resourceType": "Organization", "id": ids.organization,
        "identifier": [{"system": opts.report_id_system, "value": "ORG-1"}],
        "name": opts.institution
    });
    let order = json!({
        "resourceType": "ServiceRequest", "id": ids.order,
        "identifier": [accession_identifier,
            {"type": {"coding": [{"system": V2_0203, "code": "PLAC"}]},
             "system": opts.report_id_system, "value": format!("ORD-{accession}")}],
        "status": "completed", "intent": "order",
        "code": {"coding": [{"system": LOINC, "code": "18748-4", "display": "Diagnostic imaging study"}]},
        "subject": {"reference": format!("Patient/{}", ids.patient)},
        "requester": {"reference": format!("Organization/{}", ids.organization)}
    });
    let series: Vec<Value> = study
        .series()
        .iter()
        .filter_map(|s| study.instances.iter().find(|i| i.series_uid == *s))
        .filter(|i| !["KO", "PR", "SR"].contains(&i.modality.as_str()))
        .map(|i| {
            json!({"uid": i.series_uid, "number": i.series_number.unwrap_or(0),
                "modality": {"system": DCM, "code": i.modality},
                "bodySite": {"system": "http://snomed.info/sct", "code": "38266002", "display": "Entire body as a whole"}})
        })
        .collect();
    let imaging_study = json!({
        "resourceType": "ImagingStudy", "id": ids.study,
        "identifier": [{"type": {"coding": [{"system": DCM, "code": "110180", "display": "Study Instance UID"}]},
            "system": "urn:dicom:uid", "value": format!("urn:oid:{uid}")},
            accession_identifier],
        "status": "available",
        "modality": modality_codings,
        "subject": {"reference": format!("Patient/{}", ids.patient)},
        "started": study_date,
        "basedOn": [{"reference": format!("ServiceRequest/{}", ids.order)}],
        "numberOfSeries": series.len(),
        "series": series
    });
    let finding = json!({
        "resourceType": "Observation", "id": ids.finding,
        "status": if dr_status == "preliminary" { "preliminary" } else { "final" },
        "code": {"coding": [{"system": LOINC, "code": "59776-5", "display": "Procedure findings Narrative"}]},
        "subject": {"reference": format!("Patient/{}", ids.patient)},
        "effectiveDateTime": study_date,
        "valueString": findings_text
    });
    let entries: Vec<Value> = [
        composition,
        report,
        patient,
        practitioner,
        organization,
        order,
        imaging_study,
        finding,
    ]
    .into_iter()
    .map(|r| {
        let full = format!(
            "{}/{}/{}",
            BASE,
            r["resourceType"].as_str().unwrap_or(""),
            r["id"].as_str().unwrap_or("")
        );
        json!({"fullUrl": full, "resource": r})
    })
    .collect();
    json!({
        "resourceType": "Bundle", "id": ids.bundle,
        "identifier": {"system": opts.report_id_system, "value": format!("BUNDLE-{uid}")},
        "type": "document",
        "timestamp": date,
        "entry": entries
    })
}

/// Base of the generated fullUrls.
const BASE: &str = "https://ihe-harness.invalid/fhir";

/// (Composition.status, DiagnosticReport.status) aligned from a requested status.
fn aligned_statuses(s: &str) -> (&'static str, &'static str) {
    match s {
        "preliminary" => ("preliminary", "preliminary"),
        "amended" => ("amended", "amended"),
        "corrected" => ("amended", "corrected"),
        _ => ("final", "final"),
    }
}

/// The deterministic ids of one report.
struct Ids {
    bundle: String,
    composition: String,
    report: String,
    patient: String,
    practitioner: String,
    organization: String,
    order: String,
    study: String,
    finding: String,
}

impl Ids {
    fn new(uid: &str) -> Ids {
        Ids {
            bundle: fhir_id("bundle", uid),
            composition: fhir_id("comp", uid),
            report: fhir_id("dr", uid),
            patient: fhir_id("pat", uid),
            practitioner: fhir_id("prac", uid),
            organization: fhir_id("org", uid),
            order: fhir_id("order", uid),
            study: fhir_id("study", uid),
            finding: fhir_id("obs", uid),
        }
    }
}
