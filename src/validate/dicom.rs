//! DICOM files: KOS manifests (XDS-I.b and MADO) and the DICOM JSON Model.

use super::{Assertion, FileType, Judgement, Options};
use crate::checks::kos::rules::{self as kos_rules, Profile, Rules};
use crate::checks::mado::rules as mado_rules;
use crate::checks::{Level, Outcome};
use crate::model::kos;

/// A KOS manifest: parsed, then judged by the XDS-I.b manifest rules, or by the MADO rules when
/// `--as mado-kos` says so or its document title is the MADO "Manifest with Description" (as a
/// MADO run judges it: the MADO set, its KOS-19 from the Display URIs of the file).
pub(super) fn judge_kos(name: &str, bytes: &[u8], t: FileType, opts: &Options) -> Judgement {
    let m = match kos::parse(bytes) {
        Ok(m) => m,
        Err(e) => {
            // A run judges every KOS check Fail on a manifest that does not parse; KOS-01
            // (a Key Object Selection Document in DICOM PS3.10) says it once.
            return Judgement {
                file: name.into(),
                sha256: String::new(),
                file_type: Some(t),
                kind: t.name().into(),
                validator: "DICOM KOS manifest".into(),
                assertions: vec![Assertion::of_check(
                    "KOS-01",
                    Outcome::Fail,
                    opts.strict,
                    "a KOS manifest that parses as DICOM PS3.10",
                    e.to_string(),
                    "",
                )],
                notes: vec![],
            };
        }
    };
    let sop_class = m.sop_class_uid.as_deref().unwrap_or("");
    if opts.as_type.is_none() && sop_class != kos::KOS_SOP_CLASS {
        // Detected as DICOM, not asked as a manifest: another object is not judged.
        return Judgement {
            file: name.into(),
            sha256: String::new(),
            file_type: None,
            kind: format!("DICOM object of SOP Class {sop_class}"),
            validator: "none".into(),
            assertions: vec![Assertion::plain(crate::checks::Finding::harness_error(
                "the file cannot be judged",
                format!(
                    "a DICOM file of SOP Class {sop_class}, not a Key Object Selection Document: \
                     validate judges KOS manifests (--as kos judges it as one)"
                ),
            ))],
            notes: vec![],
        };
    }
    let mado = t == FileType::MadoKos || m.is_mado_title();
    let (t, rules) = if mado {
        (FileType::MadoKos, Rules::mado())
    } else {
        (FileType::Kos, Rules::xds_i_b())
    };
    let mut violations = kos_rules::validate(&m, &rules);
    if mado {
        violations.retain(|v| v.rule != "KOS-19");
        violations.extend(mado_rules::display_uri_violations(bytes));
    }
    let mut assertions: Vec<Assertion> = violations
        .iter()
        .map(|v| Assertion::of_violation(v, opts.strict, "DICOM tag path"))
        .collect();
    // The rules that hold, so that the report lists what was judged.
    for r in kos_rules::RULES {
        let Some(rule) = r.under(rules.profile) else {
            continue;
        };
        if violations.iter().any(|v| v.rule == rule.id) {
            continue;
        }
        if (rule.id == "KOS-08" && rules.repository_unique_id.is_none())
            || (rule.id == "KOS-09" && !rules.expect_retrieve_ae_title)
        {
            continue;
        }
        assertions.push(pass(rule.id, rule.requirement, rule.level, rule.title));
    }
    let mut notes = Vec::new();
    if rules.profile == Profile::XdsIb {
        notes.push(
            "KOS-08 (Retrieve Location UID = the source's repositoryUniqueId) needs the \
             deployment's repository id and is not judged offline"
                .to_string(),
        );
    } else {
        notes.push(
            "the MADO document title is not compared with a deployment's code table offline"
                .to_string(),
        );
    }
    Judgement {
        file: name.into(),
        sha256: String::new(),
        file_type: Some(t),
        kind: t.name().into(),
        validator: if mado {
            "MADO manifest (KOS)".into()
        } else {
            "XDS-I.b manifest (KOS)".into()
        },
        assertions,
        notes,
    }
}

fn pass(id: &str, requirement: &str, level: Level, title: &str) -> Assertion {
    let finding = crate::checks::Finding {
        check: id.into(),
        requirement: requirement.into(),
        level,
        title: title.into(),
        outcome: Outcome::Pass,
        advisory: false,
        expected: String::new(),
        actual: String::new(),
        exchange: None,
        exchange_label: String::new(),
    };
    Assertion::plain(finding)
}

/// A DICOM JSON Model document: the Annex F rules of a QIDO-RS answer or WADO-RS metadata
/// (DW-05 of a run), located by a JSON path.
pub(super) fn judge_json(name: &str, bytes: &[u8], opts: &Options) -> Judgement {
    let t = FileType::DicomJson;
    let mut j = Judgement {
        file: name.into(),
        sha256: String::new(),
        file_type: Some(t),
        kind: t.name().into(),
        validator: "DICOM JSON Model".into(),
        assertions: vec![],
        notes: vec![],
    };
    let limits = crate::config::Limits::default();
    if bytes.len() as u64 > limits.max_body {
        j.file_type = None;
        j.assertions
            .push(Assertion::plain(crate::checks::Finding::harness_error(
                "the file cannot be judged",
                format!(
                    "{} bytes: more than the {} bytes a run reads of a DICOM JSON answer",
                    bytes.len(),
                    limits.max_body
                ),
            )));
        return j;
    }
    let v: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            j.assertions.push(Assertion::of_check(
                "DW-05",
                Outcome::Fail,
                opts.strict,
                "a DICOM JSON Model document (PS3.18 Annex F)",
                format!("not JSON: {e}"),
                "",
            ));
            return j;
        }
    };
    // DW-05 of a run: its SHALL rules decide; the SHOULD ones (a vr the dictionary gives
    // otherwise, an empty value) are listed as warnings, as a run leaves them out of the verdict.
    let violations = crate::checks::dicomweb::json::validate_dataset_array(&v);
    j.assertions = violations
        .iter()
        .map(|v| {
            let mut a = Assertion::of_check(
                "DW-05",
                Outcome::Fail,
                opts.strict,
                "",
                format!("{} ({}): {}", v.rule, v.requirement, v.message),
                v.location.clone(),
            );
            a.location_type = "JSONPath";
            if v.level == Level::Should {
                a.finding.level = Level::Should;
                a.finding.advisory = true;
            }
            a
        })
        .collect();
    if violations.is_empty() {
        j.assertions.push(Assertion::of_check(
            "DW-05",
            Outcome::Pass,
            opts.strict,
            "",
            "",
            "",
        ));
    }
    j
}
