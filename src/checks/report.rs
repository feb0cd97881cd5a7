//! HL7 Europe imaging report checks: the eHN data set in a FHIR document, and the report-to-manifest link.
//!
//! The checks judge the FHIR document Bundle found in an exchange's response body (an ITI-68
//! retrieve, `application/fhir+json`). The rules themselves (see [`RULES`] and [`JUDGES`]) work
//! on plain JSON, so [`validate_report`] (a document Bundle) and [`validate_resource`] (a standalone
//! Composition, DiagnosticReport or collection Bundle) apply them to fixtures and corpus files too.

mod doc;
mod rules;
#[cfg(test)]
mod tests;

use serde_json::Value;

use super::rule::Rule;
use super::{Check, Level, Subject, Verdict};

pub use doc::Doc;
pub use rules::NotApplicable;

/// What a scenario expects of the exchanges these checks judge.
#[derive(Debug, Clone, Default)]
pub struct ReportExpect {
    /// The Study Instance UID the report must reference (bare, without `urn:oid:`).
    pub study_uid: Option<String>,
    /// The accession number (issuer system, value) the report's order must carry.
    pub accession: Option<(String, String)>,
    /// The Composition status expected (`final`, `preliminary`, …).
    pub status: Option<String>,
    /// The patient identifier (system, value) the report's Patient must carry.
    pub patient: Option<(String, String)>,
}

impl ReportExpect {
    /// True when nothing is expected (RPT-10 is then not applicable).
    pub fn is_empty(&self) -> bool {
        self.study_uid.is_none()
            && self.accession.is_none()
            && self.status.is_none()
            && self.patient.is_none()
    }
}

/// One broken rule, found by [`validate_report`] or [`validate_resource`].
pub use super::rule::Violation;

/// How a rule judges a document: why it does not apply ([`NotApplicable`]), else the list of
/// breaches (empty = holds).
pub type Judge = fn(&Doc<'_>, &ReportExpect) -> Result<Vec<String>, NotApplicable>;

super::rule::rules! {
    RPT_01 = ("RPT-01",
        "HL7 Europe Imaging Report IG (hl7.fhir.eu.imaging) BundleReportEuImaging §Bundle.type/identifier/timestamp; FHIR R4 Bundle §bdl-9/bdl-10/bdl-11; eHN Guideline A.1.8.0",
        Shall,
        "The retrieved report is a `document` Bundle with identifier and timestamp whose first entry is a Composition");
    RPT_02 = ("RPT-02",
        "HL7 Europe Imaging Report IG CompositionEuImaging / DiagnosticReportEuImaging §category[imaging-report], §category[imaging], §type; eHN Guideline A.1.8.1",
        Shall,
        "Composition (and DiagnosticReport) categories include LOINC 85430-7 and Medical-Imaging; Composition.type is coded");
    RPT_03 = ("RPT-03",
        "HL7 Europe Imaging Report IG CompositionEuImaging §section slices (imagingstudy 18726-0, order 55115-0, history 11329-0, procedure 55111-9 1..1; others 0..1)",
        Shall,
        "Sections 18726-0, 55115-0, 11329-0 and 55111-9 are present once each; optional sections at most once");
    RPT_04 = ("RPT-04",
        "HL7 Europe Imaging Report IG CompositionEuImaging §invariants eu-imaging-composition-1, eu-imaging-composition-2",
        Shall,
        "Every section has text, entries or subsections, and a section without entries has an emptyReason, subsections or a note");
    RPT_05 = ("RPT-05",
        "HL7 Europe Imaging Report IG CompositionEuImaging §identifier, §status and DiagnosticReportEuImaging §identifier, §status; Xt-EHR EHDSImagingReport header.identifier/status; eHN Guideline A.1.8.0, A.1.8.2",
        Shall,
        "Composition.identifier equals one DiagnosticReport.identifier and the two statuses are aligned");
    RPT_06 = ("RPT-06",
        "HL7 Europe Imaging Report IG CompositionEuImaging §subject/author/date/title; FHIR R4 Bundle §document references (bdl-7, resolution in the Bundle); eHN Guideline A.1.5, A.1.8.3, A.1.8.4",
        Shall,
        "Composition subject, author, date and title are present and every reference in the document resolves to a Bundle entry");
    RPT_07 = ("RPT-07",
        "HL7 Europe Imaging Report IG §section[findings]/[impression], ImagingStudyEuImaging §modality; Xt-EHR EHDSImagingReport examinationReport 1..1 (modality 1..*, resultData.resultText, conclusion.impression 1..1); eHN Guideline A.5.1.1, A.5.4, A.5.5",
        Shall,
        "The examination report has at least one modality, a findings narrative and an impression");
    RPT_08 = ("RPT-08",
        "HL7 Europe Imaging Report IG CompositionEuImaging §attester[legalAuthenticator] (mode legal, time 1..1, party Practitioner/PractitionerRole); eHN Guideline A.1.6",
        Shall,
        "A legal authenticator attester has mode legal, a time and a Practitioner or PractitionerRole party");
    RPT_09 = ("RPT-09",
        "HL7 Europe Imaging Report IG BundleReportEuImaging §entry[Patient] (EU Patient); eHN Guideline A.1.1 patient identification",
        Should,
        "The subject Patient carries an identifier (system and value), a name, a birth date and a gender");
    RPT_10 = ("RPT-10",
        "HL7 Europe Imaging Report IG ImagingStudyEuImaging §identifier[studyInstanceUid], ServiceRequestOrderEuImaging §identifier[accessionNumber]; eHN Guideline A.1.8.10, A.1.8.11",
        Shall,
        "The report's Study Instance UID, accession number (issuer and value), patient and status are the expected ones");
    RPT_11 = ("RPT-11",
        "HL7 Europe Imaging Report IG CompositionEuImaging §attester[legalAuthenticator]; Xt-EHR EHDSImagingReport legalAuthentication 0..1; eHN Guideline A.1.6",
        Should,
        "The report has a legal authenticator");
    RPT_12 = ("RPT-12",
        "HL7 Europe Imaging Report IG CompositionEuImaging §custodian; Xt-EHR EHDSImagingReport custodian 1..1; eHN Guideline A.1.8.6",
        Should,
        "The Composition names a custodian");
    RPT_13 = ("RPT-13",
        "HL7 Europe Imaging Report IG CompositionEuImaging §type from ImagingReportTypesEuVSEuImaging (preferred, LOINC); eHN Guideline A.1.8.1",
        Should,
        "Composition.type is a LOINC code");
    RPT_14 = ("RPT-14",
        "HL7 Europe Imaging Report IG CompositionEuImaging §identifier (common to all versions); Xt-EHR EHDSImagingReport header.identifier (\"SHALL be common to several report versions\"); eHN Guideline A.1.8.0, A.1.8.9",
        Shall,
        "Every version of a report (preliminary, final, amended) carries the same business identifier");
}

/// The rules that judge one document, with the function that judges each, in id order (RPT-14
/// judges the versions of a report, see [`versions_share_identifier`]).
pub const JUDGES: &[(Rule, Judge)] = &[
    (RPT_01, rules::rpt01_document_bundle),
    (RPT_02, rules::rpt02_categories_type),
    (RPT_03, rules::rpt03_sections),
    (RPT_04, rules::rpt04_section_invariants),
    (RPT_05, rules::rpt05_identifier_status),
    (RPT_06, rules::rpt06_header_references),
    (RPT_07, rules::rpt07_examination_report),
    (RPT_08, rules::rpt08_legal_authenticator_shape),
    (RPT_09, rules::rpt09_patient_identification),
    (RPT_10, rules::rpt10_manifest_link),
    (RPT_11, rules::rpt11_legal_authenticator_present),
    (RPT_12, rules::rpt12_custodian),
    (RPT_13, rules::rpt13_loinc_type),
];

fn run(doc: &Doc<'_>, level: Level) -> Vec<Violation> {
    let none = ReportExpect::default();
    JUDGES
        .iter()
        .filter(|(rule, _)| rule.level == level)
        .flat_map(|(rule, judge)| {
            judge(doc, &none)
                .unwrap_or_default()
                .into_iter()
                .map(move |message| Violation::of(rule, message))
        })
        .collect()
}

/// Validate an imaging report document Bundle against the SHALL rules (RPT-01..RPT-08; RPT-10
/// needs expectations and is left out). An empty list means the document conforms.
pub fn validate_report(bundle: &Value) -> Vec<Violation> {
    run(&Doc::document(bundle), Level::Shall)
}

/// The SHOULD-level findings (RPT-09, RPT-11..RPT-13) of a document or resource: warnings.
pub fn report_warnings(doc: &Value) -> Vec<Violation> {
    let d = if is_document(doc) {
        Doc::document(doc)
    } else {
        Doc::resource(doc)
    };
    run(&d, Level::Should)
}

/// Validate what applies to a value that may not be a document: a `document` Bundle gets
/// [`validate_report`]; a standalone Composition or DiagnosticReport, or one in a non-document
/// (collection) Bundle, gets the rules for that resource (categories, sections, identifiers,
/// status); any other resource gets none (an empty list).
pub fn validate_resource(value: &Value) -> Vec<Violation> {
    if is_document(value) {
        validate_report(value)
    } else {
        run(&Doc::resource(value), Level::Shall)
    }
}

fn is_document(v: &Value) -> bool {
    v.get("resourceType").and_then(Value::as_str) == Some("Bundle")
        && v.get("type").and_then(Value::as_str) == Some("document")
}

/// The JSON body of the judged exchange, or why there is nothing to judge.
fn body(subject: &Subject<'_>) -> Result<Value, Verdict> {
    let resp = subject
        .exchange
        .response
        .as_ref()
        .ok_or_else(|| Verdict::na("no response"))?;
    if !(200..300).contains(&resp.status) {
        return Err(Verdict::na(format!("HTTP status {}", resp.status)));
    }
    let ct = resp
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if !ct.contains("json") {
        return Err(Verdict::na(format!(
            "response is not FHIR JSON (Content-Type {})",
            crate::evidence::quote(&ct)
        )));
    }
    resp.json()
        .map(crate::model::fhir::unwrap_binary)
        .ok_or_else(|| Verdict::fail("a FHIR JSON document Bundle", "a body that is not JSON"))
}

/// Run rule `id` on the exchange's document.
fn judge(subject: &Subject<'_>, id: &str) -> Verdict {
    let Some((_, rule)) = JUDGES.iter().find(|(r, _)| r.id == id) else {
        return Verdict::na(format!("unknown rule {id}"));
    };
    let value = match body(subject) {
        Ok(v) => v,
        Err(v) => return v,
    };
    if id != "RPT-01" && !is_document(&value) {
        return Verdict::na("the response is not a FHIR document Bundle (see RPT-01)");
    }
    match rule(&Doc::document(&value), &subject.expect.report) {
        Err(reason) => Verdict::na(reason.to_string()),
        Ok(m) if m.is_empty() => Verdict::Pass,
        Ok(m) => Verdict::fail(title_of(id), m.join("; ")),
    }
}

fn title_of(id: &str) -> &'static str {
    CHECKS
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.title)
        .unwrap_or("")
}

macro_rules! check {
    ($rule:ident, $reqs:expr) => {
        Check {
            id: $rule.id,
            requirement: $rule.requirement,
            requirements: $reqs,
            level: $rule.level,
            actor: "Imaging Report Content Creator / Document Responder",
            title: $rule.title,
            eval: |s| judge(s, $rule.id),
        }
    };
}

/// The checks.
pub static CHECKS: &[Check] = &[
    check!(
        RPT_01,
        &["EUIMG-BundleReportEuImaging", "FHIR-Bundle", "EHN-A.1.8.0"]
    ),
    check!(
        RPT_02,
        &[
            "EUIMG-CompositionEuImaging.category",
            "EUIMG-DiagnosticReportEuImaging",
            "EUIMG-CompositionEuImaging.type",
            "EHN-A.1.8.1"
        ]
    ),
    check!(RPT_03, &["EUIMG-CompositionEuImaging.section"]),
    check!(RPT_04, &["EUIMG-CompositionEuImaging.section"]),
    check!(
        RPT_05,
        &[
            "EUIMG-CompositionEuImaging.identifier",
            "EUIMG-CompositionEuImaging.status",
            "EUIMG-DiagnosticReportEuImaging",
            "XTEHR-header.identifier",
            "XTEHR-header.status",
            "EHN-A.1.8.0",
            "EHN-A.1.8.2"
        ]
    ),
    check!(
        RPT_06,
        &[
            "EUIMG-CompositionEuImaging.subject",
            "FHIR-Bundle",
            "EHN-A.1.5",
            "EHN-A.1.8.3",
            "EHN-A.1.8.4"
        ]
    ),
    check!(
        RPT_07,
        &[
            "EUIMG-CompositionEuImaging.section",
            "EUIMG-ImagingStudyEuImaging",
            "XTEHR-examinationReport",
            "EHN-A.5.1.1",
            "EHN-A.5.4",
            "EHN-A.5.5"
        ]
    ),
    check!(
        RPT_08,
        &["EUIMG-CompositionEuImaging.attester", "EHN-A.1.6"]
    ),
    check!(RPT_09, &["EUIMG-BundleReportEuImaging", "EHN-A.1.1"]),
    check!(
        RPT_10,
        &[
            "EUIMG-ImagingStudyEuImaging",
            "EUIMG-ServiceRequestOrderEuImaging",
            "EHN-A.1.8.10",
            "EHN-A.1.8.11"
        ]
    ),
    check!(
        RPT_11,
        &[
            "EUIMG-CompositionEuImaging.attester",
            "XTEHR-legalAuthentication",
            "EHN-A.1.6"
        ]
    ),
    check!(
        RPT_12,
        &[
            "EUIMG-CompositionEuImaging.custodian",
            "XTEHR-custodian",
            "EHN-A.1.8.6"
        ]
    ),
    check!(RPT_13, &["EUIMG-CompositionEuImaging.type", "EHN-A.1.8.1"]),
    Check {
        requirements: &[
            "EUIMG-CompositionEuImaging.identifier",
            "XTEHR-header.identifier",
            "EHN-A.1.8.0",
            "EHN-A.1.8.9",
        ],
        eval: versions_share_identifier,
        ..check!(RPT_14, &[])
    },
];

/// The checks that judge one retrieved report document (RPT-10 needs a manifest to compare with,
/// RPT-14 several versions).
pub const DOCUMENT_CHECK_IDS: &[&str] = &[
    "RPT-01", "RPT-02", "RPT-03", "RPT-04", "RPT-05", "RPT-06", "RPT-07", "RPT-08", "RPT-09",
    "RPT-11", "RPT-12", "RPT-13",
];

/// The Composition identifiers (`system|value`) of a report document.
fn composition_identifiers(doc: &Value) -> Vec<String> {
    doc.get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("resource"))
        .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("Composition"))
        .flat_map(|c| match c.get("identifier") {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => Vec::new(),
        })
        .map(|i| {
            format!(
                "{}|{}",
                i.get("system").and_then(Value::as_str).unwrap_or(""),
                i.get("value").and_then(Value::as_str).unwrap_or("")
            )
        })
        .collect()
}

/// RPT-14: the judged report and every follow-up retrieval (its other versions) share a
/// Composition identifier.
fn versions_share_identifier(s: &Subject<'_>) -> Verdict {
    let first = match body(s) {
        Ok(v) => v,
        Err(v) => return v,
    };
    if s.followups.is_empty() {
        return Verdict::na("only one version of the report was retrieved");
    }
    let ids: std::collections::BTreeSet<String> =
        composition_identifiers(&first).into_iter().collect();
    if ids.is_empty() {
        return Verdict::fail(
            "a Composition.identifier on every version",
            "the first version has none",
        );
    }
    for (n, f) in s.followups.iter().enumerate() {
        let other = f
            .response
            .as_ref()
            .filter(|r| (200..300).contains(&r.status))
            .and_then(|r| r.json())
            .map(crate::model::fhir::unwrap_binary);
        let Some(other) = other else {
            return Verdict::fail(
                "every version retrievable as a FHIR JSON document",
                format!("version {} is not", n + 2),
            );
        };
        let theirs = composition_identifiers(&other);
        if !theirs.iter().any(|i| ids.contains(i)) {
            return Verdict::fail(
                format!(
                    "the business identifier {} on every version",
                    crate::evidence::quote_list(&ids)
                ),
                format!(
                    "version {} carries {}",
                    n + 2,
                    crate::evidence::quote_list(&theirs)
                ),
            );
        }
    }
    Verdict::Pass
}
