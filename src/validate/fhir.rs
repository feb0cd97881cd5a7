//! Judging one FHIR file offline (FHIR JSON, FHIR XML or FHIR Shorthand) with the validators a run
//! uses: the MHD ITI-65 bundle rules ([`crate::checks::mhd`]), the ITI-65 response and ITI-66/67
//! searchset checks (MHD-09, MHD-14, evaluated on a synthetic exchange), the MADO FHIR manifest
//! and DocumentReference rules ([`crate::checks::mado::rules`]), the KOS rules for a Binary that
//! holds a DICOM KOS ([`crate::checks::kos::rules`]), and the HL7 Europe imaging report rules
//! ([`crate::checks::report`]). No rule is copied here: this module picks the validators by the
//! resource type, `Bundle.type`, `meta.profile` and content, and turns their violations into
//! [`Finding`]s of the registered checks (same id, requirement, level and title as in a run).
//!
//! What a finding's outcome means:
//! - `Pass`: the check judged the file and its requirement holds;
//! - `Fail`: the file breaks the requirement; with `advisory` set it is a SHOULD-level breach
//!   outside strict mode (a warning). A file is valid when no finding is a non-advisory Fail;
//! - `NotApplicable`: the check does not apply to this kind of file, or (FSH input) it would judge
//!   an element the FSH source leaves to the guide's profile (an extension URL, a code system, a
//!   slice's fixed values, an instance or RuleSet of another file), which the compiler cannot
//!   know; the reason says which;
//! - `Error`: never produced here; a file that cannot be read is a Fail of FHIR-01.
//!
//! A resource type nothing here judges is checked as plain FHIR (readable JSON/XML with a known
//! `resourceType`), and a NotApplicable finding says that nothing more was judged.

use base64::Engine;
use serde_json::{json, Value};

use crate::checks::kos::rules::{self as kos_rules, Rules};
use crate::checks::mado::rules as mado_rules;
use crate::checks::report::{report_warnings, validate_resource};
use crate::checks::rule::{Rule, Violation};
use crate::checks::{by_id, evaluate, Expect, Finding, Level, Outcome, Subject};
use crate::evidence::{Direction, Exchange};
use crate::model::fhir::xml;
use crate::model::fsh::{self, Gap, Unresolved};
use crate::model::mhd_bundle::{PROFILE_COMPREHENSIVE, PROFILE_MINIMAL, PROFILE_UNCONTAINED};
use crate::transaction::Transaction;

/// The syntax of a FHIR file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirSyntax {
    /// FHIR JSON (R4 §2.6.3).
    Json,
    /// FHIR XML (R4 §2.6.2).
    Xml,
    /// FHIR Shorthand source of example instances ([`crate::model::fsh`]).
    Fsh,
}

/// What the FHIR validator made of one file.
#[derive(Debug, Clone)]
pub struct FhirJudgement {
    /// What the file was recognised as ("MHD Provide Document Bundle (ITI-65)", "MADO FHIR
    /// manifest", "HL7 Europe imaging report", ...).
    pub kind: String,
    /// The check results (the project's `crate::checks::Finding`).
    pub findings: Vec<crate::checks::Finding>,
}

/// The MHD rules a single DocumentReference or List is judged by (the ITI-65 rules that look at
/// one resource; MHD-02 for a SubmissionSet): each of them reports a violation at
/// `Bundle.entry[i].resource…` or its `request`.
const RESOURCE_RULES: &[&str] = &["MHD-02", "MHD-03", "MHD-06", "MHD-07"];

/// Judge one FHIR file. `strict` makes SHOULD-level breaches count as failures.
pub fn judge(bytes: &[u8], syntax: FhirSyntax, strict: bool) -> FhirJudgement {
    match syntax {
        FhirSyntax::Json => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => judge_value(&v, syntax, &[], strict),
            Err(e) => unreadable(format!("not JSON: {e}")),
        },
        FhirSyntax::Xml => match xml::to_json(bytes) {
            Err(e) => unreadable(e.to_string()),
            Ok(v) => {
                let mut j = judge_value(&v, syntax, &[], strict);
                let order = match xml::order_violations(bytes, 10) {
                    Ok(o) if o.is_empty() => pass("FHIR-02"),
                    Ok(o) => fail(
                        "FHIR-02",
                        "child elements in the order of their R4 definition",
                        o.join("; "),
                        strict,
                    ),
                    Err(e) => fail("FHIR-02", "readable FHIR XML", e.to_string(), strict),
                };
                j.findings.insert(1.min(j.findings.len()), order);
                j
            }
        },
        FhirSyntax::Fsh => match fsh::compile(bytes) {
            Err(e) => unreadable(format!("the FHIR Shorthand does not compile: {e}")),
            Ok(file) => {
                let mut kinds: Vec<String> = Vec::new();
                let mut findings = Vec::new();
                for inst in file.judged() {
                    let j = judge_value(&inst.resource, syntax, &inst.unresolved, strict);
                    kinds.push(format!("{} ({})", j.kind, inst.name));
                    for mut f in j.findings {
                        f.exchange_label = format!("Instance {}", inst.name);
                        findings.push(f);
                    }
                }
                if kinds.is_empty() {
                    return unreadable("the FHIR Shorthand defines only #inline instances".into());
                }
                FhirJudgement {
                    kind: format!("FHIR Shorthand: {}", kinds.join("; ")),
                    findings,
                }
            }
        },
    }
}

/// A file that is not a readable FHIR resource: a Fail of FHIR-01.
fn unreadable(why: String) -> FhirJudgement {
    FhirJudgement {
        kind: "unreadable FHIR".into(),
        findings: vec![fail("FHIR-01", "a well-formed FHIR resource", why, true)],
    }
}

fn check_finding(
    id: &str,
    outcome: Outcome,
    expected: String,
    actual: String,
    strict: bool,
) -> Finding {
    match by_id(id) {
        Some(c) => Finding {
            check: c.id.into(),
            requirement: c.requirement.into(),
            level: c.level,
            title: c.title.into(),
            outcome,
            advisory: outcome == Outcome::Fail && c.level == Level::Should && !strict,
            expected,
            actual,
            exchange: None,
            exchange_label: String::new(),
        },
        // A family rule without a check of its own (the MADO DocumentReference rules MADO-D*):
        // its rule gives id, requirement, level and title.
        None => match family_rule(id) {
            Some(r) => Finding {
                check: r.id.into(),
                requirement: r.requirement.into(),
                level: r.level,
                title: r.title.into(),
                outcome,
                advisory: outcome == Outcome::Fail && r.level == Level::Should && !strict,
                expected,
                actual,
                exchange: None,
                exchange_label: String::new(),
            },
            None => Finding::harness_error(
                "unknown check",
                format!("the validator names check {id}, which the registry does not hold"),
            ),
        },
    }
}

/// A rule of the validator families judged here, by id.
fn family_rule(id: &str) -> Option<Rule> {
    mado_rules::FHIR_RULES
        .iter()
        .chain(crate::checks::mhd::rules::RULES.iter())
        .find(|r| r.id == id)
        .copied()
}

fn pass(id: &str) -> Finding {
    check_finding(id, Outcome::Pass, String::new(), String::new(), false)
}

fn fail(id: &str, expected: &str, actual: String, strict: bool) -> Finding {
    check_finding(id, Outcome::Fail, expected.into(), actual, strict)
}

fn na(id: &str, reason: impl Into<String>) -> Finding {
    check_finding(
        id,
        Outcome::NotApplicable,
        reason.into(),
        String::new(),
        false,
    )
}

/// One Finding per rule: Pass, or Fail with every violation of it (location and message).
fn findings_of(
    rules: &[&str],
    violations: &[Violation],
    gaps: &[Unresolved],
    strict: bool,
) -> Vec<Finding> {
    rules
        .iter()
        .map(|id| {
            let mine: Vec<&Violation> = violations.iter().filter(|v| v.rule == *id).collect();
            if mine.is_empty() {
                return pass(id);
            }
            // FSH: a violation about an element the source leaves to the profile is not judged.
            let (unjudged, judged): (Vec<&&Violation>, Vec<&&Violation>) =
                mine.iter().partition(|v| gap_for(v, gaps).is_some());
            if judged.is_empty() {
                let why: Vec<String> = unjudged
                    .iter()
                    .filter_map(|v| gap_for(v, gaps))
                    .map(|g| g.note.clone())
                    .collect();
                return na(
                    id,
                    format!(
                        "FHIR Shorthand input: the element judged is the profile's to set ({}); not judged without the guide's definitions",
                        dedup(why).join("; ")
                    ),
                );
            }
            // The check's title says what is expected; the finding says what was found.
            let title = "";
            // The level is the violations' (a family rule may be SHOULD under one profile).
            let should = judged.iter().all(|v| v.level == Level::Should);
            let mut f = fail(
                id,
                title,
                judged
                    .iter()
                    .map(|v| {
                        if v.location.is_empty() {
                            v.message.clone()
                        } else {
                            format!("{}: {}", v.location, v.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                strict,
            );
            f.advisory = should && !strict;
            f
        })
        .collect()
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The FSH gap that explains a violation, if any (only FSH input has gaps):
/// - an extension slice without url explains a violation about an extension;
/// - a named slice, a coding without system, or a reference to an instance of another file
///   explains a violation that names the element it sits on (`code`, `coding`, `subject`, ...);
/// - a RuleSet of another file explains a violation about an absent element (its rules may
///   set it).
fn gap_for<'g>(v: &Violation, gaps: &'g [Unresolved]) -> Option<&'g Unresolved> {
    let text = format!("{} {}", v.location, v.message);
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let names = |element: &str| !element.is_empty() && words.contains(&element);
    gaps.iter().find(|g| match g.kind {
        Gap::ExtensionUrl => words
            .iter()
            .any(|w| w.eq_ignore_ascii_case("extension") || w.eq_ignore_ascii_case("extensions")),
        Gap::CodeSystem | Gap::Slice => names(&element_of(&g.path)),
        Gap::Undefined if g.note.starts_with("RuleSet") => names("absent"),
        Gap::Undefined => names(&element_of(&g.path)) || names("reference"),
        Gap::Ignored => false,
    })
}

/// The element a gap's path ends in, without indexes or slices (`content[0].format` → `format`,
/// `related[study-instance-uid]` → `related`).
fn element_of(path: &str) -> String {
    let last = path
        .rsplit(['.', '→'])
        .find(|p| !p.is_empty())
        .unwrap_or("");
    last.split('[').next().unwrap_or("").to_string()
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn profiles(v: &Value) -> Vec<&str> {
    v.get("meta")
        .and_then(|m| m.get("profile"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn entries(v: &Value) -> Vec<&Value> {
    v.get("entry")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|e| e.get("resource")).collect())
        .unwrap_or_default()
}

fn has_type(v: &Value, rt: &str) -> bool {
    entries(v).iter().any(|r| s(r, "resourceType") == Some(rt))
}

fn content_type(syntax: FhirSyntax) -> Option<&'static str> {
    match syntax {
        FhirSyntax::Json => Some("application/fhir+json"),
        FhirSyntax::Xml => Some("application/fhir+xml"),
        FhirSyntax::Fsh => None,
    }
}

/// Judge one resource (parsed or compiled). `gaps` are the FSH compiler's unresolved items.
fn judge_value(v: &Value, syntax: FhirSyntax, gaps: &[Unresolved], strict: bool) -> FhirJudgement {
    let rt = match s(v, "resourceType") {
        Some(rt) if fsh::is_resource_type(rt) => rt,
        Some(rt) => {
            return FhirJudgement {
                kind: "unknown FHIR resource".into(),
                findings: vec![fail(
                    "FHIR-01",
                    "a FHIR R4 resource type",
                    format!("resourceType {}", crate::evidence::quote(rt)),
                    strict,
                )],
            }
        }
        None => {
            return FhirJudgement {
                kind: "not a FHIR resource".into(),
                findings: vec![fail(
                    "FHIR-01",
                    "a FHIR resource",
                    "JSON without resourceType".into(),
                    strict,
                )],
            }
        }
    };
    let mut findings = vec![structure(v, strict)];
    let profs = profiles(v);
    let claims = |needle: &str| profs.iter().any(|p| p.contains(needle));
    let kind: String = match rt {
        "Bundle" => match s(v, "type") {
            Some("transaction")
                if claims("ProvideBundle") || entries(v).iter().any(|r| is_submission_set(r)) =>
            {
                let comprehensive = profs.iter().any(|p| {
                    let p = p.split('|').next().unwrap_or(p);
                    p == PROFILE_COMPREHENSIVE || p == PROFILE_UNCONTAINED
                });
                let found = crate::checks::mhd::validate_provide_bundle(
                    v,
                    content_type(syntax),
                    comprehensive,
                );
                let mut ids = vec!["MHD-01", "MHD-02", "MHD-03", "MHD-04", "MHD-05"];
                if !comprehensive {
                    findings.push(na(
                        "MHD-06",
                        "the bundle claims no Comprehensive Metadata profile",
                    ));
                } else {
                    ids.push("MHD-06");
                }
                ids.extend(["MHD-07", "MHD-08", "MHD-10"]);
                findings.extend(findings_of(&ids, &found, gaps, strict));
                "MHD Provide Document Bundle (ITI-65)".into()
            }
            Some("transaction-response") => {
                findings.push(on_exchange(
                    "MHD-09",
                    v,
                    Transaction::Iti65,
                    "Bundle",
                    strict,
                ));
                "MHD Provide Document Bundle response (ITI-65)".into()
            }
            Some("searchset") if has_type(v, "DocumentReference") || has_type(v, "List") => {
                let (tx, rt2, label) = if has_type(v, "DocumentReference") {
                    (
                        Transaction::Iti67,
                        "DocumentReference",
                        "MHD Find Document References response (ITI-67)",
                    )
                } else {
                    (
                        Transaction::Iti66,
                        "List",
                        "MHD Find Document Lists response (ITI-66)",
                    )
                };
                findings.push(on_exchange("MHD-14", v, tx, rt2, strict));
                for r in entries(v) {
                    findings.extend(resource_findings(r, gaps, strict).1);
                }
                label.into()
            }
            Some("document")
                if claims("Mado")
                    || (has_type(v, "ImagingStudy") && !has_type(v, "DiagnosticReport")) =>
            {
                let found = mado_rules::validate_fhir_manifest(v);
                findings.extend(rule_findings(mado_manifest_rules(), &found, gaps, strict));
                "MADO FHIR manifest".into()
            }
            Some("document") if has_type(v, "Composition") => {
                findings.extend(report_findings(v, gaps, strict));
                "HL7 Europe imaging report (document Bundle)".into()
            }
            other => {
                findings.push(nothing_more(&format!(
                    "a Bundle of type {}",
                    other.unwrap_or("(none)")
                )));
                format!("FHIR Bundle ({})", other.unwrap_or("no type"))
            }
        },
        "Composition" | "DiagnosticReport" => {
            findings.extend(report_findings(v, gaps, strict));
            format!("HL7 Europe imaging report {rt}")
        }
        "DocumentReference" | "List" => {
            let (kind, f) = resource_findings(v, gaps, strict);
            findings.extend(f);
            kind
        }
        "Binary" => {
            let (kind, f) = binary_findings(v, strict);
            findings.extend(f);
            kind
        }
        other => {
            findings.push(nothing_more(&format!("a {other}")));
            format!("FHIR {other}")
        }
    };
    FhirJudgement { kind, findings }
}

/// FHIR-01 on a parsed resource: the typed reading of the project's FHIR model.
fn structure(v: &Value, strict: bool) -> Finding {
    match crate::model::fhir::Resource::from_json(v) {
        Ok(_) => pass("FHIR-01"),
        Err(e) => fail(
            "FHIR-01",
            "a structurally valid FHIR resource",
            e.to_string(),
            strict,
        ),
    }
}

fn nothing_more(what: &str) -> Finding {
    na(
        "FHIR-01",
        format!("{what}: read as plain FHIR (resourceType known); no profile rule of the harness judges it, so nothing more was judged"),
    )
}

fn is_submission_set(r: &Value) -> bool {
    s(r, "resourceType") == Some("List")
        && r.get("code")
            .and_then(|c| c.get("coding"))
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|c| s(c, "code") == Some("submissionset")))
}

fn is_mado_docref(r: &Value) -> bool {
    let text = r.to_string();
    profiles(r).iter().any(|p| p.contains("/RAD/MADO/"))
        || text.contains("urn:ihe:rad:MADO")
        || (text.contains("1.2.840.10008.5.1.4.1.1.88.59") && text.contains("application/dicom"))
}

/// A DocumentReference or List judged alone: the ITI-65 rules that look at one resource (the
/// resource is put in a one-entry ITI-65 bundle and only the violations located in it and of
/// [`RESOURCE_RULES`] are kept), plus the MADO DocumentReference rules for a MADO one.
fn resource_findings(r: &Value, gaps: &[Unresolved], strict: bool) -> (String, Vec<Finding>) {
    let rt = s(r, "resourceType").unwrap_or("");
    if rt != "DocumentReference" && rt != "List" {
        return (format!("FHIR {rt}"), Vec::new());
    }
    let profs = profiles(r);
    let comprehensive = profs.iter().any(|p| p.contains("Comprehensive"));
    let uncontained = profs.iter().any(|p| p.contains("UnContained"));
    let bundle_profile = if uncontained {
        PROFILE_UNCONTAINED
    } else if comprehensive {
        PROFILE_COMPREHENSIVE
    } else {
        PROFILE_MINIMAL
    };
    let wrapper = json!({
        "resourceType": "Bundle",
        "meta": {"profile": [bundle_profile]},
        "type": "transaction",
        "entry": [{"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000000", "resource": r, "request": {"method": "POST", "url": rt}}],
    });
    let here = "Bundle.entry[0].resource";
    let found: Vec<Violation> =
        crate::checks::mhd::validate_provide_bundle(&wrapper, None, comprehensive)
            .into_iter()
            .filter(|v| RESOURCE_RULES.contains(&v.rule))
            .filter(|v| v.location.starts_with(here))
            .map(|mut v| {
                v.location = v.location.replacen(here, rt, 1);
                v
            })
            .collect();
    let submission_set = is_submission_set(r);
    let mut ids: Vec<&str> = vec!["MHD-03", "MHD-07"];
    let mut out = Vec::new();
    if rt == "List" {
        ids.retain(|i| *i != "MHD-03");
    }
    if submission_set {
        ids.insert(0, "MHD-02");
    }
    // The MHD profile rules judge a resource that claims an MHD profile (or a MADO one, whose
    // parent is IHE.MHD.Minimal.DocumentReference), or that claims no profile and is not
    // recognised as MADO's. A resource claiming another guide's profile (HL7 Europe key images)
    // or a MADO DocumentReference claiming none is not judged by them here; in an ITI-65 bundle
    // the MHD rules judge every DocumentReference.
    let claims_mhd = profs
        .iter()
        .any(|p| p.contains("/ITI/MHD/") || p.contains("/RAD/MADO/"));
    let mado = rt == "DocumentReference" && is_mado_docref(r);
    if claims_mhd || (profs.is_empty() && !mado) {
        if comprehensive {
            ids.push("MHD-06");
        } else {
            out.push(na(
                "MHD-06",
                "the resource claims no Comprehensive Metadata profile",
            ));
        }
        out.extend(findings_of(&ids, &found, gaps, strict));
    } else {
        let why = if profs.is_empty() {
            "a MADO DocumentReference claiming no profile: judged by the MADO DocumentReference rules (in an ITI-65 bundle the MHD rules judge it too)".to_string()
        } else {
            format!(
                "the resource claims {}, not an MHD profile (in an ITI-65 bundle the MHD rules judge it)",
                profs.join(", ")
            )
        };
        for id in ids.iter().chain(["MHD-06"].iter()) {
            out.push(na(id, why.clone()));
        }
    }
    let kind = match rt {
        "DocumentReference" if mado => {
            let m = mado_rules::validate_docref(r);
            out.extend(rule_findings(mado_docref_rules(), &m, gaps, strict));
            "MADO DocumentReference".to_string()
        }
        "DocumentReference" if claims_mhd || profs.is_empty() => "MHD DocumentReference".into(),
        "DocumentReference" if profs.iter().any(|p| p.contains("hl7.eu")) => {
            "HL7 Europe imaging DocumentReference".into()
        }
        "DocumentReference" => "FHIR DocumentReference".into(),
        _ if submission_set => "MHD SubmissionSet List".into(),
        _ => "MHD Folder List".into(),
    };
    (kind, out)
}

fn mado_manifest_rules() -> Vec<&'static Rule> {
    mado_rules::FHIR_RULES
        .iter()
        .filter(|r| !r.id.starts_with("MADO-D"))
        .collect()
}

fn mado_docref_rules() -> Vec<&'static Rule> {
    mado_rules::FHIR_RULES
        .iter()
        .filter(|r| r.id.starts_with("MADO-D"))
        .collect()
}

/// Findings of a family's rules, by the registered check of each rule id (several rules may share
/// a check id: they are judged together).
fn rule_findings(
    rules: Vec<&'static Rule>,
    found: &[Violation],
    gaps: &[Unresolved],
    strict: bool,
) -> Vec<Finding> {
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    ids.dedup();
    findings_of(&ids, found, gaps, strict)
}

/// The imaging report rules: SHALL rules from `validate_resource` (the document rules for a
/// document Bundle), SHOULD rules from `report_warnings`.
fn report_findings(v: &Value, gaps: &[Unresolved], strict: bool) -> Vec<Finding> {
    let mut found = validate_resource(v);
    found.extend(report_warnings(v));
    let ids: Vec<&str> = crate::checks::report::JUDGES
        .iter()
        .map(|(r, _)| r.id)
        .filter(|id| *id != "RPT-10")
        .collect();
    let mut out = findings_of(&ids, &found, gaps, strict);
    out.push(na(
        "RPT-10",
        "the link to the study's manifest needs the study the harness expects; not judged offline",
    ));
    out
}

/// A check that judges an exchange, evaluated on a synthetic outbound exchange carrying the file
/// as the SUT's answer (the check's own function, as in a run).
fn on_exchange(id: &str, v: &Value, tx: Transaction, rt: &str, strict: bool) -> Finding {
    let Some(check) = by_id(id) else {
        return na(id, "not registered");
    };
    let body = v.to_string();
    let mut ex = Exchange::synthetic(
        &format!("http://validate.invalid/fhir/{rt}?patient=Patient/1&status=current"),
        &[],
        200,
        &[("Content-Type", "application/fhir+json")],
        body.as_bytes(),
    );
    ex.transaction = tx;
    ex.direction = Direction::Outbound;
    let mut f = evaluate(
        check,
        &Subject {
            exchange: &ex,
            expect: &Expect::default(),
            strict,
            followups: &[],
        },
    );
    f.exchange = None;
    f.exchange_label = String::new();
    f
}

/// A Binary: a DICOM KOS inside is judged by the KOS rules (MADO's when its title is MADO's).
fn binary_findings(v: &Value, strict: bool) -> (String, Vec<Finding>) {
    let ct = s(v, "contentType").unwrap_or("");
    if ct != "application/dicom" {
        return (
            "FHIR Binary".into(),
            vec![nothing_more(&format!(
                "a Binary of content type {}",
                crate::evidence::quote(ct)
            ))],
        );
    }
    let Some(data) = s(v, "data") else {
        return (
            "FHIR Binary (DICOM, no data)".into(),
            vec![nothing_more("a Binary without data")],
        );
    };
    let bytes = match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
        Ok(b) => b,
        Err(e) => {
            return (
                "FHIR Binary (DICOM)".into(),
                vec![fail(
                    "FHIR-01",
                    "Binary.data in base64",
                    e.to_string(),
                    strict,
                )],
            )
        }
    };
    let m = match crate::model::kos::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return (
                "FHIR Binary (DICOM)".into(),
                vec![nothing_more(&format!(
                    "a DICOM Binary that is not a KOS manifest ({e})"
                ))],
            )
        }
    };
    let mado = m.is_mado_title();
    let rules = if mado {
        Rules::mado()
    } else {
        Rules::xds_i_b()
    };
    let found = kos_rules::validate(&m, &rules);
    let profile = rules.profile;
    let mut ids: Vec<&str> = kos_rules::RULES
        .iter()
        .filter(|r| r.level(profile).is_some())
        .map(|r| r.id)
        .collect();
    ids.dedup();
    let kind = if mado {
        "FHIR Binary holding a MADO DICOM KOS manifest"
    } else {
        "FHIR Binary holding a DICOM KOS manifest"
    };
    (kind.into(), findings_of(&ids, &found, &[], strict))
}

#[cfg(test)]
mod tests;
