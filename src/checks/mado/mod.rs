//! MADO manifest checks (IHE RAD MADO): the MADO-only KOS rules, the FHIR manifest and the
//! consistency of the two manifest formats with each other, with their MHD envelope and with the
//! images.
//!
//! A KOS is found whole in an exchange (an `application/dicom` body, e.g. an ITI-68 retrieve) or
//! as a KOS part of a multipart body (RAD-107); a FHIR manifest is an `application/fhir+json`
//! Bundle body.

use std::collections::{BTreeMap, BTreeSet};

pub mod rules;

use super::kos::rules::{self as kos_rules, Rules};
use super::rule::Violation;
use super::{Check, Level, Subject, Verdict};
use crate::model::kos;
use crate::model::mado::CodeTable;
use rules::{self as mado, Difference};

#[cfg(test)]
mod tests;
mod twin;

const ACTOR: &str = "Imaging Document Source (MADO Content Creator)";

/// What a scenario expects of the exchanges these checks judge.
#[derive(Debug, Clone, Default)]
pub struct MadoExpect {
    /// What the Image Source holds: series → SOP Instance UIDs (MADO-C2).
    pub held: Option<BTreeMap<String, BTreeSet<String>>>,
    /// The KOS twin of a FHIR manifest under test (MADO-C1).
    pub twin_kos: Option<bytes::Bytes>,
    /// The DocumentReference that registered the manifest under test (MADO-C3).
    pub docref: Option<serde_json::Value>,
    /// Code table the deployment is configured for.
    pub code_table: CodeTable,
    /// The Study Instance UID whose KOS and FHIR manifest DocumentReferences must point to each
    /// other (MADO-C4), judged on a search answer.
    pub twin_study: Option<String>,
}

fn content_type(s: &Subject<'_>) -> String {
    s.exchange
        .response
        .as_ref()
        .and_then(|r| r.header("content-type"))
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The KOS of the exchange: a whole `application/dicom` body, or a KOS part of a multipart body.
fn kos_bytes<'a>(s: &'a Subject<'_>) -> Option<&'a [u8]> {
    if content_type(s).starts_with("application/dicom") {
        if let Some(r) = &s.exchange.response {
            if r.body.complete {
                return Some(&r.body.kept);
            }
        }
    }
    super::kos::manifest_bytes(s)
}

fn manifest(s: &Subject<'_>) -> Result<kos::Manifest, Verdict> {
    let Some(bytes) = kos_bytes(s) else {
        return Err(Verdict::na("no KOS manifest kept in this exchange"));
    };
    kos::parse(bytes)
        .map_err(|e| Verdict::fail("a KOS manifest that parses as DICOM PS3.10", e.to_string()))
}

fn fhir_bundle(s: &Subject<'_>) -> Option<serde_json::Value> {
    if !content_type(s).starts_with("application/fhir+json") {
        return None;
    }
    let v = crate::model::fhir::unwrap_binary(s.exchange.response.as_ref()?.json()?);
    (v.get("resourceType").and_then(|t| t.as_str()) == Some("Bundle")).then_some(v)
}

/// What the MADO KOS or FHIR manifest rules found in one exchange: the violations, or the verdict
/// every rule of the group gets when there is no manifest to judge.
type Found = Result<Vec<Violation>, Verdict>;

/// The MADO rules run over one exchange, each group (the KOS manifest rules under the MADO
/// profile, the FHIR manifest rules) at most once, when the first of its checks is evaluated.
#[derive(Default)]
pub struct Judged {
    kos: Option<Found>,
    fhir: Option<Found>,
}

/// The rule group a MADO check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The KOS manifest rules under the MADO profile (KOS-12..17, KOS-19).
    Kos,
    /// The FHIR manifest rules (MADO-01..12).
    Fhir,
}

/// The group of a check of this family; `None` for any other check (the comparisons MADO-C1..C3
/// run their own functions).
pub fn group_of(check: &Check) -> Option<Group> {
    if KOS_RULE_IDS.contains(&check.id) {
        Some(Group::Kos)
    } else if FHIR_RULE_IDS.contains(&check.id) {
        Some(Group::Fhir)
    } else {
        None
    }
}

impl Judged {
    /// The verdict of rule `rule` of `group`, running the group's rules on the first call.
    pub fn verdict(&mut self, group: Group, rule: &str, s: &Subject<'_>) -> Verdict {
        match group {
            Group::Kos => {
                let found = self.kos.get_or_insert_with(|| kos_violations(s));
                verdict(found, rule, "a MADO manifest")
            }
            Group::Fhir => {
                let found = self.fhir.get_or_insert_with(|| fhir_violations(s));
                verdict(found, rule, "a FHIR manifest")
            }
        }
    }
}

/// The KOS manifest rules under the MADO profile; KOS-19 comes from the display URIs, and KOS-12
/// also holds the document title to the configured code table.
fn kos_violations(s: &Subject<'_>) -> Found {
    let m = manifest(s)?;
    let mut all: Vec<Violation> = kos_rules::validate(&m, &Rules::mado())
        .into_iter()
        .filter(|v| v.rule != "KOS-19")
        .collect();
    all.extend(mado::display_uri_violations(
        kos_bytes(s).unwrap_or_default(),
    ));
    if m.is_mado_title() {
        let (code, scheme) = s.expect.mado.code_table.code(1);
        if let Some(t) = m.document_title.as_ref().filter(|t| t.scheme != scheme) {
            if let Some(rule) = kos_rules::rule("KOS-12") {
                all.push(Violation {
                    rule: rule.id,
                    requirement: rule.requirement,
                    level: rule.mado.unwrap_or(Level::Shall),
                    message: format!(
                        "document title ({}, {}) does not use the configured code table ({code}, {scheme})",
                        t.value, t.scheme
                    ),
                    location: String::new(),
                });
            }
        }
    }
    Ok(all)
}

/// The FHIR manifest rules.
fn fhir_violations(s: &Subject<'_>) -> Found {
    let Some(b) = fhir_bundle(s) else {
        return Err(Verdict::na("no FHIR Bundle in this exchange"));
    };
    Ok(mado::validate_fhir_manifest(&b))
}

fn verdict(found: &Found, rule: &str, what: &str) -> Verdict {
    let mine: Vec<&str> = match found {
        Err(v) => return v.clone(),
        Ok(all) => all
            .iter()
            .filter(|v| v.rule == rule)
            .map(|v| v.message.as_str())
            .collect(),
    };
    if mine.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(format!("{what} that meets {rule}"), mine.join("; "))
    }
}

fn judge_kos(s: &Subject<'_>, rule: &'static str) -> Verdict {
    Judged::default().verdict(Group::Kos, rule, s)
}

fn judge_fhir(s: &Subject<'_>, rule: &'static str) -> Verdict {
    Judged::default().verdict(Group::Fhir, rule, s)
}

fn differences(expected: &str, diffs: Vec<Difference>) -> Verdict {
    let errors: Vec<String> = diffs
        .iter()
        .filter(|d| d.level == Level::Shall)
        .map(|d| d.to_string())
        .collect();
    if errors.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, errors.join("; "))
    }
}

fn mado_c1(s: &Subject<'_>) -> Verdict {
    let Some(b) = fhir_bundle(s) else {
        return Verdict::na("no FHIR Bundle in this exchange");
    };
    let Some(twin) = &s.expect.mado.twin_kos else {
        return Verdict::na("no KOS twin known to compare with");
    };
    match kos::parse(twin) {
        Ok(k) => differences(
            "a FHIR manifest with the content of its KOS twin",
            mado::compare_kos_fhir(&k, &b),
        ),
        Err(e) => Verdict::na(format!("the KOS twin does not parse: {e}")),
    }
}

fn mado_c2(s: &Subject<'_>) -> Verdict {
    let Some(held) = &s.expect.mado.held else {
        return Verdict::na("the Image Source holdings are not known");
    };
    let refs = if let Some(b) = fhir_bundle(s) {
        mado::fhir_references(&b)
    } else {
        match manifest(s) {
            Ok(m) => mado::kos_references(&m),
            Err(v) => return v,
        }
    };
    differences(
        "a manifest referencing exactly the held instances of its series",
        mado::compare_with_holdings(&refs, held),
    )
}

fn mado_c3(s: &Subject<'_>) -> Verdict {
    let Some(docref) = &s.expect.mado.docref else {
        return Verdict::na("no DocumentReference known to compare with");
    };
    match manifest(s) {
        Ok(m) => differences(
            "a DocumentReference that describes its KOS",
            mado::compare_docref(docref, &m),
        ),
        Err(v) => v,
    }
}

macro_rules! kos_check {
    ($f:ident, $id:literal) => {
        fn $f(s: &Subject<'_>) -> Verdict {
            judge_kos(s, $id)
        }
    };
}
macro_rules! fhir_check {
    ($f:ident, $id:literal) => {
        fn $f(s: &Subject<'_>) -> Verdict {
            judge_fhir(s, $id)
        }
    };
}
kos_check!(kos_12, "KOS-12");
kos_check!(kos_13, "KOS-13");
kos_check!(kos_14, "KOS-14");
kos_check!(kos_15, "KOS-15");
kos_check!(kos_16, "KOS-16");
kos_check!(kos_17, "KOS-17");
kos_check!(kos_19, "KOS-19");
/// The checks of the KOS rule group.
const KOS_RULE_IDS: &[&str] = &[
    "KOS-12", "KOS-13", "KOS-14", "KOS-15", "KOS-16", "KOS-17", "KOS-19",
];
fhir_check!(m01, "MADO-01");
fhir_check!(m02, "MADO-02");
fhir_check!(m03, "MADO-03");
fhir_check!(m04, "MADO-04");
fhir_check!(m05, "MADO-05");
fhir_check!(m06, "MADO-06");
fhir_check!(m07, "MADO-07");
fhir_check!(m08, "MADO-08");
fhir_check!(m09, "MADO-09");
fhir_check!(m10, "MADO-10");
fhir_check!(m11, "MADO-11");
fhir_check!(m12, "MADO-12");
/// The checks of the FHIR rule group.
const FHIR_RULE_IDS: &[&str] = &[
    "MADO-01", "MADO-02", "MADO-03", "MADO-04", "MADO-05", "MADO-06", "MADO-07", "MADO-08",
    "MADO-09", "MADO-10", "MADO-11", "MADO-12",
];

const fn kos_level(i: usize) -> Level {
    match kos_rules::RULES[i].mado {
        Some(Level::Should) => Level::Should,
        _ => Level::Shall,
    }
}

macro_rules! kos_entry {
    ($i:literal, $f:ident, $reqs:expr) => {
        Check {
            id: kos_rules::RULES[$i].id,
            requirement: kos_rules::RULES[$i].requirement,
            requirements: $reqs,
            level: kos_level($i),
            actor: ACTOR,
            title: kos_rules::RULES[$i].title,
            eval: $f,
        }
    };
}
macro_rules! fhir_entry {
    ($i:literal, $f:ident, $reqs:expr) => {
        Check {
            id: mado::FHIR_RULES[$i].id,
            requirement: mado::FHIR_RULES[$i].requirement,
            requirements: $reqs,
            level: Level::Shall,
            actor: ACTOR,
            title: mado::FHIR_RULES[$i].title,
            eval: $f,
        }
    };
}

/// The MADO checks: KOS-12..17 and KOS-19 under the MADO rules, MADO-01..12 on FHIR manifests,
/// and the consistency checks MADO-C1..C3.
pub static CHECKS: &[Check] = &[
    kos_entry!(11, kos_12, &["MADO-6.X.2.9", "CP2595-TID2010"]),
    kos_entry!(12, kos_13, &["MADO-6.X.2.5-14"]),
    kos_entry!(13, kos_14, &["MADO-6.X.2.6"]),
    kos_entry!(14, kos_15, &["MADO-6.X.2.9"]),
    kos_entry!(19, kos_16, &["MADO-6.X.2.9"]),
    kos_entry!(15, kos_17, &["MADO-6.X.6.4"]),
    kos_entry!(20, kos_19, &["MADO-6.X.2.13"]),
    fhir_entry!(0, m01, &["MADO-6.X.3", "MADOIG-MadoFhirBundle"]),
    fhir_entry!(1, m02, &["MADO-6.X.3", "MADOIG-MadoFhirBundle", "FHIR-Bundle"]),
    fhir_entry!(2, m03, &["MADO-6.X.3", "MADOIG-MadoFhirBundle", "FHIR-Bundle"]),
    fhir_entry!(3, m04, &["MADO-6.X.3", "MADOIG-MadoFhirBundle", "FHIR-Bundle"]),
    fhir_entry!(4, m05, &["MADO-6.X.3", "MADOIG-MadoFhirBundle"]),
    fhir_entry!(5, m06, &["MADO-6.X.3", "MADOIG-MadoWadoEndpoint"]),
    fhir_entry!(6, m07, &["MADO-6.X.3", "MADOIG-MadoFhirBundle"]),
    fhir_entry!(7, m08, &["MADO-6.X.3", "MADOIG-MadoImagingStudy"]),
    fhir_entry!(8, m09, &["MADO-6.X.3", "MADOIG-MadoImagingStudy"]),
    fhir_entry!(9, m10, &["MADO-6.X.3", "MADOIG-MadoImagingStudy"]),
    fhir_entry!(10, m11, &["MADO-6.X.3", "MADOIG-MadoImagingStudy"]),
    fhir_entry!(11, m12, &["MADO-6.X.3", "MADOIG-MadoImagingStudy"]),
    Check { id: "MADO-C1", requirement: "IHE RAD MADO Rev 1.1 §6.X.3 (FHIR manifest option)", requirements: &["MADO-6.X.3"], level: Level::Shall, actor: ACTOR, title: "The FHIR manifest has the content of its KOS twin", eval: mado_c1 },
    Check { id: "MADO-C2", requirement: "IHE RAD MADO Rev 1.1 §6.X.2.9", requirements: &["MADO-6.X.2.9"], level: Level::Shall, actor: ACTOR, title: "The manifest references every held instance of its series and nothing the Image Source does not hold", eval: mado_c2 },
    Check { id: "MADO-C3", requirement: "IHE RAD MADO Rev 1.1 §4.3.1 and App. A / MADO IG MadoDicomKosDocumentReference", requirements: &["MADO-4.3.1", "MADO-A", "MADOIG-MadoDicomKosDocumentReference"], level: Level::Shall, actor: ACTOR, title: "The DocumentReference metadata agrees with the KOS it registers", eval: mado_c3 },
    Check { id: "MADO-C4", requirement: "IHE RAD MADO IG 0.1.0 §manifest-envelope (\"the relatesTo field points to the other representation\"); MadoDicomKosDocumentReference relatesTo[fhir-reference], MadoFhirDocumentReference relatesTo[kos-reference] (code transforms, 0..1)", requirements: &["MADOIG-ManifestEnvelope"], level: Level::Should, actor: ACTOR, title: "The KOS and FHIR manifest DocumentReferences of a study point to each other with relatesTo transforms", eval: twin::mado_c4 },
    Check { id: "MADO-C5", requirement: "IHE RAD MADO IG 0.1.0 §MadoDicomKosDocumentReference, §MadoFhirDocumentReference (invariant mado-docref-1, severity error)", requirements: &["MADOIG-mado-docref-1"], level: Level::Shall, actor: ACTOR, title: "A manifest DocumentReference's masterIdentifier is also one of its identifiers", eval: twin::mado_c5 },
    Check { id: "MADO-C6", requirement: "HL7 Europe Health Data API §eehrxf-document-priority-category-cs (Medical-Imaging); IHE RAD MADO IG 0.1.0 manifest DocumentReference examples (the profile's category binding is commented out)", requirements: &["MADOIG-PriorityCategory"], level: Level::Should, actor: ACTOR, title: "A manifest DocumentReference carries the EHDS priority category Medical-Imaging", eval: twin::mado_c6 },
];
