//! The rules RPT-01..RPT-13 over plain JSON. Each returns why it does not apply ([`NotApplicable`])
//! when it does not, else the breaches found (empty = the rule holds).

use serde_json::Value;

use super::doc::{arr, one_or_many, references, s, Doc};
use super::ReportExpect;
use crate::evidence::{quote, quote_list};
use crate::model::imaging_report::{report_links, LOINC, NOTE_URL};

/// Why a rule does not apply to what it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotApplicable {
    /// RPT-01 judges a document only.
    #[error("not judged as a document")]
    NotADocument,
    /// Neither a Composition nor a DiagnosticReport to judge.
    #[error("no Composition or DiagnosticReport")]
    NoCompositionOrReport,
    /// No Composition to judge.
    #[error("no Composition to judge")]
    NoComposition,
    /// References resolve only inside a document.
    #[error("references are resolved only inside a document")]
    ReferencesOutsideDocument,
    /// The examination report is judged on the whole document.
    #[error("the examination report is judged on the whole document")]
    ExaminationOutsideDocument,
    /// The Composition names no legal authenticator.
    #[error("no legal authenticator")]
    NoLegalAuthenticator,
    /// The document holds no Patient.
    #[error("no Patient in the document")]
    NoPatient,
    /// Nothing is expected of the report's links.
    #[error("no expectation on the report's study, accession, patient or status")]
    NoExpectation,
}

type Out = Result<Vec<String>, NotApplicable>;

/// (system, value) identifiers as a message lists them: `system|value`, comma-separated.
fn pairs(ids: &[(String, String)]) -> String {
    quote_list(
        ids.iter()
            .map(|(system, value)| format!("{system}|{value}")),
    )
}

/// The section slices of CompositionEuImaging: (LOINC code, name, required).
const SECTIONS: &[(&str, &str, bool)] = &[
    ("18726-0", "imagingstudy", true),
    ("55115-0", "order", true),
    ("11329-0", "history", true),
    ("55111-9", "procedure", true),
    ("18834-2", "comparison", false),
    ("59776-5", "findings", false),
    ("19005-8", "impression", false),
    ("18783-1", "recommendation", false),
    ("73568-8", "communication", false),
    ("LP173421-1", "report", false),
];

fn has_coding(cc: &Value, system: impl Fn(&str) -> bool, code: &str) -> bool {
    arr(cc, "coding")
        .iter()
        .any(|c| s(c, "system").is_some_and(&system) && s(c, "code") == Some(code))
}

fn any_category(r: &Value, system: impl Fn(&str) -> bool + Copy, code: &str) -> bool {
    arr(r, "category")
        .iter()
        .any(|cc| has_coding(cc, system, code))
}

fn is_priority_cs(sys: &str) -> bool {
    sys.ends_with("/CodeSystem/eehrxf-document-priority-category-cs")
}

fn nonempty_str(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|x| !x.trim().is_empty())
}

fn composition_or_na<'a>(d: &Doc<'a>) -> Result<&'a Value, NotApplicable> {
    d.composition().ok_or(NotApplicable::NoComposition)
}

fn section_code(sec: &Value) -> Option<&str> {
    sec.get("code").and_then(|cc| {
        arr(cc, "coding")
            .iter()
            .find(|c| s(c, "system") == Some(LOINC))
            .and_then(|c| s(c, "code"))
    })
}

/// True when a section carries narrative text (a non-empty div).
fn has_text(sec: &Value) -> bool {
    sec.get("text")
        .and_then(|t| t.get("div"))
        .and_then(Value::as_str)
        .is_some_and(|d| d.len() > "<div></div>".len())
}

/// Text of the `note` extensions of an element.
fn has_note(v: &Value) -> bool {
    arr(v, "extension").iter().any(|e| {
        s(e, "url") == Some(NOTE_URL)
            && nonempty_str(e.get("valueAnnotation").and_then(|a| a.get("text")))
    })
}

/// RPT-01: a `document` Bundle with identifier and timestamp whose first entry is a Composition.
pub fn rpt01_document_bundle(d: &Doc<'_>, _: &ReportExpect) -> Out {
    if !d.document {
        return Err(NotApplicable::NotADocument);
    }
    let b = d.root;
    let mut m = Vec::new();
    if s(b, "resourceType") != Some("Bundle") {
        m.push(format!(
            "resourceType is {}, not Bundle",
            s(b, "resourceType").map_or_else(|| "absent".to_string(), quote)
        ));
        return Ok(m);
    }
    if s(b, "type") != Some("document") {
        m.push(format!(
            "Bundle.type is {}, not document",
            s(b, "type").map_or_else(|| "absent".to_string(), quote)
        ));
    }
    let id = b.get("identifier");
    if !nonempty_str(id.and_then(|i| i.get("value"))) {
        m.push("Bundle.identifier (with a value) is missing".into());
    }
    if !nonempty_str(b.get("timestamp")) {
        m.push("Bundle.timestamp is missing".into());
    }
    let first = arr(b, "entry")
        .first()
        .and_then(|e| e.get("resource"))
        .and_then(|r| s(r, "resourceType"));
    if first != Some("Composition") {
        m.push(format!(
            "the first entry is {}, not a Composition",
            first.unwrap_or("missing")
        ));
    }
    Ok(m)
}

/// RPT-02: categories 85430-7 and Medical-Imaging on Composition and DiagnosticReport; type coded.
pub fn rpt02_categories_type(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let mut judged: Vec<(&str, &Value)> = d
        .of_type("Composition")
        .into_iter()
        .map(|r| ("Composition", r))
        .collect();
    judged.extend(
        d.of_type("DiagnosticReport")
            .into_iter()
            .map(|r| ("DiagnosticReport", r)),
    );
    if judged.is_empty() {
        return Err(NotApplicable::NoCompositionOrReport);
    }
    let mut m = Vec::new();
    for (t, r) in judged {
        if !any_category(r, |x| x == LOINC, "85430-7") {
            m.push(format!("{t}.category lacks LOINC 85430-7"));
        }
        if !any_category(r, is_priority_cs, "Medical-Imaging") {
            m.push(format!(
                "{t}.category lacks eehrxf-document-priority-category-cs#Medical-Imaging"
            ));
        }
        let key = if t == "Composition" { "type" } else { "code" };
        let coded = r
            .get(key)
            .map(|cc| {
                arr(cc, "coding")
                    .iter()
                    .any(|c| nonempty_str(c.get("code")) && nonempty_str(c.get("system")))
            })
            .unwrap_or(false);
        if !coded {
            m.push(format!("{t}.{key} has no coding with system and code"));
        }
    }
    Ok(m)
}

/// RPT-03: required sections once each, optional ones at most once.
pub fn rpt03_sections(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let c = composition_or_na(d)?;
    let codes: Vec<Option<&str>> = arr(c, "section").iter().map(section_code).collect();
    let mut m = Vec::new();
    for (code, name, required) in SECTIONS {
        let n = codes.iter().filter(|x| **x == Some(*code)).count();
        if *required && n != 1 {
            m.push(format!(
                "section {name} (LOINC {code}) occurs {n} times, expected exactly once"
            ));
        } else if !*required && n > 1 {
            m.push(format!(
                "section {name} (LOINC {code}) occurs {n} times, at most once allowed"
            ));
        }
    }
    let uncoded = codes.iter().filter(|x| x.is_none()).count();
    if uncoded > 0 {
        m.push(format!("{uncoded} section(s) without a LOINC code"));
    }
    Ok(m)
}

fn section_invariants(sec: &Value, path: &str, m: &mut Vec<String>) {
    let entries = !arr(sec, "entry").is_empty();
    let subs = arr(sec, "section");
    let label = format!("{path} ({})", section_code(sec).unwrap_or("uncoded"));
    if !(has_text(sec) || entries || !subs.is_empty()) {
        m.push(format!(
            "eu-imaging-composition-2: {label} has no text, entries or subsections"
        ));
    }
    if !(entries || sec.get("emptyReason").is_some() || !subs.is_empty() || has_note(sec)) {
        m.push(format!(
            "eu-imaging-composition-1: {label} is empty but has no emptyReason, subsection or note"
        ));
    }
    for (i, sub) in subs.iter().enumerate() {
        section_invariants(sub, &format!("{path}.section[{i}]"), m);
    }
}

/// RPT-04: invariants eu-imaging-composition-1 and -2 on every section.
pub fn rpt04_section_invariants(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let c = composition_or_na(d)?;
    let mut m = Vec::new();
    for (i, sec) in arr(c, "section").iter().enumerate() {
        section_invariants(sec, &format!("section[{i}]"), &mut m);
    }
    Ok(m)
}

fn ident_pair(id: &Value) -> (Option<&str>, Option<&str>) {
    (s(id, "system"), s(id, "value"))
}

/// DiagnosticReport statuses aligned with a Composition status.
fn aligned(comp: &str) -> &'static [&'static str] {
    match comp {
        "preliminary" => &["preliminary", "partial", "registered"],
        "final" => &["final"],
        "amended" => &["amended", "corrected", "appended"],
        "entered-in-error" => &["entered-in-error"],
        _ => &[],
    }
}

/// RPT-05: Composition.identifier equals one DiagnosticReport.identifier; statuses aligned.
pub fn rpt05_identifier_status(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let comp = d.composition();
    let reports = d.of_type("DiagnosticReport");
    let mut m = Vec::new();
    for r in &reports {
        if !arr(r, "identifier")
            .iter()
            .any(|i| nonempty_str(i.get("value")))
        {
            m.push("DiagnosticReport.identifier (1..*) is missing".into());
        }
        if !nonempty_str(r.get("status")) {
            m.push("DiagnosticReport.status is missing".into());
        }
    }
    let Some(c) = comp else {
        return if reports.is_empty() {
            Err(NotApplicable::NoCompositionOrReport)
        } else {
            Ok(m)
        };
    };
    let cids: Vec<&Value> = one_or_many(c, "identifier")
        .into_iter()
        .filter(|i| nonempty_str(i.get("value")))
        .collect();
    if cids.is_empty() {
        m.push("Composition.identifier is missing".into());
    }
    let cstatus = s(c, "status").unwrap_or("");
    if cstatus.is_empty() {
        m.push("Composition.status is missing".into());
    }
    if reports.is_empty() {
        if d.document {
            m.push("the document holds no DiagnosticReport".into());
        }
        return Ok(m);
    }
    let matching: Vec<&&Value> = reports
        .iter()
        .filter(|r| {
            arr(r, "identifier")
                .iter()
                .any(|i| cids.iter().any(|c| ident_pair(c) == ident_pair(i)))
        })
        .collect();
    if !cids.is_empty() && matching.is_empty() {
        m.push("no DiagnosticReport.identifier equals Composition.identifier".into());
    }
    for r in matching {
        let rs = s(r, "status").unwrap_or("");
        if !cstatus.is_empty() && !aligned(cstatus).contains(&rs) {
            m.push(format!(
                "Composition.status {cstatus} is not aligned with DiagnosticReport.status {rs}"
            ));
        }
    }
    Ok(m)
}

/// RPT-06: header elements present; every reference resolves inside the document.
pub fn rpt06_header_references(d: &Doc<'_>, _: &ReportExpect) -> Out {
    if !d.document {
        return Err(NotApplicable::ReferencesOutsideDocument);
    }
    let c = composition_or_na(d)?;
    let mut m = Vec::new();
    if c.get("subject").and_then(|x| x.get("reference")).is_none() {
        m.push("Composition.subject is missing".into());
    }
    if arr(c, "author").is_empty() {
        m.push("Composition.author is missing".into());
    }
    for k in ["date", "title"] {
        if !nonempty_str(c.get(k)) {
            m.push(format!("Composition.{k} is missing"));
        }
    }
    let mut refs = Vec::new();
    for r in &d.resources {
        references(r, &mut refs);
    }
    refs.sort();
    refs.dedup();
    for r in refs.iter().filter(|r| !r.starts_with('#')) {
        if d.resolve(r).is_none() {
            m.push(format!(
                "reference {} does not resolve to a Bundle entry",
                quote(r)
            ));
        }
    }
    Ok(m)
}

fn section_with<'a>(c: &'a Value, code: &str) -> Option<&'a Value> {
    arr(c, "section")
        .iter()
        .find(|x| section_code(x) == Some(code))
}

fn section_has_content(sec: &Value) -> bool {
    has_text(sec) || has_note(sec) || !arr(sec, "entry").is_empty()
}

/// RPT-07: modality, findings narrative and impression present.
pub fn rpt07_examination_report(d: &Doc<'_>, _: &ReportExpect) -> Out {
    if !d.document {
        return Err(NotApplicable::ExaminationOutsideDocument);
    }
    let c = composition_or_na(d)?;
    let mut m = Vec::new();
    if report_links(d.root).modalities.is_empty() {
        m.push("no DICOM modality (ImagingStudy modality or Composition.event)".into());
    }
    let report_section = section_with(c, "LP173421-1").is_some_and(section_has_content);
    let findings = section_with(c, "59776-5").is_some_and(section_has_content);
    if !(findings || report_section) {
        m.push("no findings narrative (section 59776-5 with text, note or entries)".into());
    }
    let impression = section_with(c, "19005-8").is_some_and(section_has_content)
        || d.of_type("DiagnosticReport")
            .iter()
            .any(|r| nonempty_str(r.get("conclusion")));
    if !(impression || report_section) {
        m.push("no impression (section 19005-8 or DiagnosticReport.conclusion)".into());
    }
    Ok(m)
}

fn legal_attesters(c: &Value) -> Vec<&Value> {
    arr(c, "attester")
        .iter()
        .filter(|a| s(a, "mode") == Some("legal"))
        .collect()
}

/// RPT-08: a legal authenticator has a time and a Practitioner/PractitionerRole party.
pub fn rpt08_legal_authenticator_shape(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let c = composition_or_na(d)?;
    let legal = legal_attesters(c);
    if legal.is_empty() {
        return Err(NotApplicable::NoLegalAuthenticator);
    }
    let mut m = Vec::new();
    if legal.len() > 1 {
        m.push(format!(
            "{} legal authenticators, at most one allowed",
            legal.len()
        ));
    }
    for a in legal {
        if !nonempty_str(a.get("time")) {
            m.push("legal authenticator without time".into());
        }
        let party = a.get("party").and_then(|p| s(p, "reference"));
        let Some(p) = party else {
            m.push("legal authenticator without party".into());
            continue;
        };
        let ty = d
            .resolve(p)
            .and_then(|r| s(r, "resourceType"))
            .map(str::to_string)
            .or_else(|| {
                a.get("party")
                    .and_then(|x| s(x, "type"))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| p.rsplit('/').nth(1).unwrap_or("").to_string());
        if ty != "Practitioner" && ty != "PractitionerRole" {
            m.push(format!(
                "legal authenticator party {} is {}, not Practitioner/PractitionerRole",
                quote(p),
                quote(&ty)
            ));
        }
    }
    Ok(m)
}

/// RPT-09: the subject Patient has identifier (system+value), name, birthDate and gender.
pub fn rpt09_patient_identification(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let patients = d.of_type("Patient");
    let subject = d
        .composition()
        .or_else(|| d.of_type("DiagnosticReport").into_iter().next())
        .and_then(|c| c.get("subject"))
        .and_then(|x| s(x, "reference"))
        .and_then(|r| d.resolve(r));
    let p = match (subject, patients.first()) {
        (Some(p), _) => p,
        (None, Some(p)) => *p,
        (None, None) => return Err(NotApplicable::NoPatient),
    };
    let mut m = Vec::new();
    if !arr(p, "identifier")
        .iter()
        .any(|i| nonempty_str(i.get("system")) && nonempty_str(i.get("value")))
    {
        m.push("Patient.identifier with system and value is missing (A.1.1.4)".into());
    }
    let named = arr(p, "name").iter().any(|n| {
        nonempty_str(n.get("family")) || nonempty_str(n.get("text")) || !arr(n, "given").is_empty()
    });
    if !named {
        m.push("Patient.name is missing (A.1.1.1/2)".into());
    }
    if !nonempty_str(p.get("birthDate")) {
        m.push("Patient.birthDate is missing (A.1.1.3)".into());
    }
    if !nonempty_str(p.get("gender")) {
        m.push("Patient.gender is missing (A.1.1.5)".into());
    }
    Ok(m)
}

/// RPT-10: the report links to the expected study, accession, patient and status.
pub fn rpt10_manifest_link(d: &Doc<'_>, e: &ReportExpect) -> Out {
    if e.is_empty() {
        return Err(NotApplicable::NoExpectation);
    }
    let l = report_links(d.root);
    let mut m = Vec::new();
    if let Some(uid) = &e.study_uid {
        let bare = uid.strip_prefix("urn:oid:").unwrap_or(uid);
        if !l.study_uids.iter().any(|u| u == bare) {
            m.push(format!(
                "Study Instance UID {bare} not referenced (report has {})",
                quote_list(&l.study_uids)
            ));
        }
    }
    if let Some(acc) = &e.accession {
        if !l.accessions.contains(acc) {
            m.push(format!(
                "accession {}|{} not found (report has {})",
                acc.0,
                acc.1,
                pairs(&l.accessions)
            ));
        }
    }
    if let Some(p) = &e.patient {
        if !l.patient.contains(p) {
            m.push(format!(
                "patient {}|{} not found (report has {})",
                p.0,
                p.1,
                pairs(&l.patient)
            ));
        }
    }
    if let Some(st) = &e.status {
        let have = d.composition().and_then(|c| s(c, "status")).unwrap_or("");
        if have != st {
            m.push(format!(
                "Composition.status is {}, expected {}",
                quote(have),
                quote(st)
            ));
        }
    }
    Ok(m)
}

/// RPT-11: a legal authenticator is present.
pub fn rpt11_legal_authenticator_present(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let c = composition_or_na(d)?;
    Ok(if legal_attesters(c).is_empty() {
        vec!["no attester with mode legal".into()]
    } else {
        Vec::new()
    })
}

/// RPT-12: the Composition names a custodian.
pub fn rpt12_custodian(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let c = composition_or_na(d)?;
    Ok(
        if c.get("custodian")
            .and_then(|x| x.get("reference"))
            .is_none()
        {
            vec!["Composition.custodian is missing".into()]
        } else {
            Vec::new()
        },
    )
}

/// RPT-13: Composition.type is a LOINC code.
pub fn rpt13_loinc_type(d: &Doc<'_>, _: &ReportExpect) -> Out {
    let c = composition_or_na(d)?;
    let loinc = c.get("type").is_some_and(|t| {
        arr(t, "coding")
            .iter()
            .any(|x| s(x, "system") == Some(LOINC))
    });
    Ok(if loinc {
        Vec::new()
    } else {
        vec!["Composition.type has no LOINC coding".into()]
    })
}
