//! MADO-C4: the two DocumentReferences of a study's manifests (DICOM KOS and FHIR) point to each
//! other. The MADO IG's manifest envelope: "When both are present, the relatesTo field points to
//! the other representation"; its profiles slice `relatesTo` by code, `transforms`, with the
//! target only the twin's profile (MadoFhirDocumentReference `relatesTo[kos-reference]`,
//! MadoDicomKosDocumentReference `relatesTo[fhir-reference]`, each 0..1). The slices being
//! optional, the link is judged SHOULD: advisory unless strict.
//!
//! Judged on the answer to a search for the patient's DocumentReferences: the KOS one
//! (`application/dicom`) and the FHIR one (`application/fhir+json`) of the study asked are found
//! by the Study Instance UID in `context.related`; each must carry `relatesTo` with code
//! `transforms` whose target is the other.

use serde_json::Value;

use crate::checks::{Subject, Verdict};

fn study_of(d: &Value, study: &str) -> bool {
    let want = format!("urn:oid:{study}");
    d["context"]["related"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["identifier"]["value"].as_str())
        .any(|v| v == want || v == study)
}

fn content_type(d: &Value) -> String {
    d["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["attachment"]["contentType"].as_str())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Whether `from` points to `to` with `transforms`: by `DocumentReference/{id}` (relative or
/// absolute) or by the entry's fullUrl.
fn points_to(from: &Value, to: &Value, to_full_url: Option<&str>) -> bool {
    let id = to["id"].as_str().unwrap_or_default();
    let relative = format!("DocumentReference/{id}");
    from["relatesTo"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["code"].as_str() == Some("transforms"))
        .filter_map(|r| r["target"]["reference"].as_str())
        .any(|t| {
            (!id.is_empty() && (t == relative || t.ends_with(&format!("/{relative}"))))
                || to_full_url.is_some_and(|u| u == t)
        })
}

/// The imaging report's DocumentReference type (LOINC 85430-7): a FHIR document too, never a
/// manifest.
fn is_report(d: &Value) -> bool {
    d["type"]["coding"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["code"].as_str() == Some("85430-7"))
}

/// A study's manifest DocumentReferences in a search answer: the KOS ones (`application/dicom`)
/// and the FHIR ones (`application/fhir+json`, the report excluded), each with its fullUrl.
type Found<'a> = Vec<(Option<&'a str>, &'a Value)>;

fn manifests<'a>(bundle: &'a Value, study: &str) -> (Found<'a>, Found<'a>) {
    let docs: Found<'a> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["resource"]["resourceType"] == "DocumentReference")
        .filter(|e| study_of(&e["resource"], study))
        .map(|e| (e["fullUrl"].as_str(), &e["resource"]))
        .collect();
    let kos = docs
        .iter()
        .filter(|(_, d)| content_type(d).starts_with("application/dicom"))
        .copied()
        .collect();
    let fhir = docs
        .iter()
        .filter(|(_, d)| content_type(d).starts_with("application/fhir+json") && !is_report(d))
        .copied()
        .collect();
    (kos, fhir)
}

/// The search answer of a study's twin-manifest scenario, or why there is none to judge.
fn answer(s: &Subject<'_>) -> Result<(String, Value), Verdict> {
    let Some(study) = s.expect.mado.twin_study.clone() else {
        return Err(Verdict::na("not a search for a study's manifests"));
    };
    let Some(r) = &s.exchange.response else {
        return Err(Verdict::na("no answer to judge"));
    };
    if !r.body.complete {
        return Err(Verdict::na("the search answer was not read whole"));
    }
    let Ok(bundle) = serde_json::from_slice::<Value>(&r.body.kept) else {
        return Err(Verdict::na(
            "the search answer is not JSON (judged by the search checks)",
        ));
    };
    Ok((study, bundle))
}

fn id_of(d: &Value) -> &str {
    d["id"].as_str().unwrap_or("?")
}

pub(super) fn mado_c4(s: &Subject<'_>) -> Verdict {
    let (study, bundle) = match answer(s) {
        Ok(a) => a,
        Err(v) => return v,
    };
    let (kos, fhir) = manifests(&bundle, &study);
    if kos.is_empty() || fhir.is_empty() {
        return Verdict::na(format!(
            "the answer does not hold both manifests of study {study} (KOS and FHIR)"
        ));
    }
    // Linked both ways: some KOS and some FHIR manifest of the study point to each other.
    let linked = kos.iter().any(|(ku, k)| {
        fhir.iter()
            .any(|(fu, f)| points_to(k, f, *fu) && points_to(f, k, *ku))
    });
    if linked {
        return Verdict::Pass;
    }
    let mut missing = Vec::new();
    for (_, k) in &kos {
        if !fhir.iter().any(|(fu, f)| points_to(k, f, *fu)) {
            missing.push(format!(
                "the KOS DocumentReference {} has no relatesTo transforms to the FHIR one",
                id_of(k)
            ));
        }
    }
    for (_, f) in &fhir {
        if !kos.iter().any(|(ku, k)| points_to(f, k, *ku)) {
            missing.push(format!(
                "the FHIR DocumentReference {} has no relatesTo transforms to the KOS one",
                id_of(f)
            ));
        }
    }
    if missing.is_empty() {
        missing.push("each points to a manifest that does not point back".into());
    }
    Verdict::fail(
        "the KOS and FHIR manifest DocumentReferences of the study point to each other with relatesTo transforms",
        missing.join("; "),
    )
}

/// MADO-C5: the MADO IG invariant `mado-docref-1` (error severity) on both manifest
/// DocumentReference profiles: a masterIdentifier is also one of the `identifier`s.
/// Every manifest DocumentReference of the study in the answer, or why there is none to judge.
fn study_manifests(s: &Subject<'_>) -> Result<Vec<Value>, Verdict> {
    let (study, bundle) = answer(s)?;
    let (kos, fhir) = manifests(&bundle, &study);
    if kos.is_empty() && fhir.is_empty() {
        return Err(Verdict::na(format!(
            "the answer holds no manifest of study {study}"
        )));
    }
    Ok(kos.iter().chain(&fhir).map(|(_, d)| (*d).clone()).collect())
}

pub(super) fn mado_c5(s: &Subject<'_>) -> Verdict {
    let docs = match study_manifests(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let mut bad = Vec::new();
    for d in &docs {
        let Some(value) = d["masterIdentifier"]["value"].as_str() else {
            continue;
        };
        let system = d["masterIdentifier"]["system"].as_str();
        let found = d["identifier"].as_array().into_iter().flatten().any(|i| {
            i["value"].as_str() == Some(value)
                && (system.is_none() || i["system"].as_str() == system)
        });
        if !found {
            bad.push(format!(
                "DocumentReference {}: masterIdentifier {value} is not among its identifiers",
                id_of(d)
            ));
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "every manifest DocumentReference's masterIdentifier also in its identifier (mado-docref-1)",
            bad.join("; "),
        )
    }
}

/// MADO-C6: the manifest DocumentReferences carry the EHDS priority category `Medical-Imaging`
/// (the MADO IG's examples and the HL7 Europe Health Data API; the MADO profile leaves the
/// category binding out, so SHOULD). The code system is named differently by the R4 and R5
/// builds (`…/health-data-api/…`, `…/eu-health-data-api/…`): any `eehrxf-document-priority-category-cs`
/// is accepted.
pub(super) fn mado_c6(s: &Subject<'_>) -> Verdict {
    let docs = match study_manifests(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let bad: Vec<String> = docs
        .iter()
        .filter(|d| {
            !d["category"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["coding"].as_array().into_iter().flatten())
                .any(|c| {
                    c["code"].as_str() == Some("Medical-Imaging")
                        && c["system"]
                            .as_str()
                            .is_some_and(|s| s.ends_with("/eehrxf-document-priority-category-cs"))
                })
        })
        .map(|d| {
            format!(
                "DocumentReference {} has no Medical-Imaging category",
                id_of(d)
            )
        })
        .collect();
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "every manifest DocumentReference in the EHDS priority category Medical-Imaging (eehrxf-document-priority-category-cs)",
            bad.join("; "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::Exchange;
    use serde_json::json;

    fn docref(id: &str, ct: &str, study: &str, to: Option<&str>) -> Value {
        let mut d = json!({
            "resourceType": "DocumentReference", "id": id,
            "content": [{"attachment": {"contentType": ct}}],
            "context": {"related": [{"identifier": {"value": format!("urn:oid:{study}")}}]}
        });
        if let Some(t) = to {
            d["relatesTo"] = json!([{"code": "transforms", "target": {"reference": format!("DocumentReference/{t}")}}]);
        }
        d
    }

    fn judge(entries: Vec<Value>, study: Option<&str>) -> Verdict {
        judge_with(entries, study, mado_c4)
    }

    fn judge_with(
        entries: Vec<Value>,
        study: Option<&str>,
        eval: fn(&Subject<'_>) -> Verdict,
    ) -> Verdict {
        let bundle = json!({"resourceType": "Bundle", "type": "searchset",
            "entry": entries.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>()});
        let ex = Exchange::synthetic(
            "http://sut/fhir/DocumentReference?patient=x",
            &[],
            200,
            &[("content-type", "application/fhir+json")],
            bundle.to_string().as_bytes(),
        );
        let mut e = Expect::default();
        e.mado.twin_study = study.map(str::to_string);
        eval(&Subject {
            exchange: &ex,
            expect: &e,
            strict: false,
            followups: &[],
        })
    }

    #[test]
    fn twins_that_point_to_each_other_pass_and_a_missing_link_fails() {
        let both = vec![
            docref("k", "application/dicom", "1.2", Some("f")),
            docref("f", "application/fhir+json", "1.2", Some("k")),
            docref("other", "application/dicom", "9.9", None),
        ];
        assert_eq!(judge(both, Some("1.2")), Verdict::Pass);
        let one_way = vec![
            docref("k", "application/dicom", "1.2", None),
            docref("f", "application/fhir+json", "1.2", Some("k")),
        ];
        assert!(matches!(judge(one_way, Some("1.2")), Verdict::Fail { .. }));
        // A link to another study's manifest is not the twin.
        let wrong = vec![
            docref("k", "application/dicom", "1.2", Some("other")),
            docref("f", "application/fhir+json", "1.2", Some("k")),
            docref("other", "application/fhir+json", "9.9", None),
        ];
        assert!(matches!(judge(wrong, Some("1.2")), Verdict::Fail { .. }));
    }

    #[test]
    fn one_format_alone_or_no_study_asked_is_not_applicable() {
        let kos_only = vec![docref("k", "application/dicom", "1.2", None)];
        assert!(matches!(
            judge(kos_only, Some("1.2")),
            Verdict::NotApplicable(_)
        ));
        let both = vec![
            docref("k", "application/dicom", "1.2", Some("f")),
            docref("f", "application/fhir+json", "1.2", Some("k")),
        ];
        assert!(matches!(judge(both, None), Verdict::NotApplicable(_)));
    }

    /// The imaging report of the study is a FHIR document too: it is not the FHIR manifest,
    /// whatever order the answer lists them in.
    #[test]
    fn the_report_is_not_taken_for_the_fhir_manifest() {
        let mut report = docref("r", "application/fhir+json", "1.2", None);
        report["type"] = json!({"coding": [{"system": "http://loinc.org", "code": "85430-7"}]});
        let entries = vec![
            report,
            docref("k", "application/dicom", "1.2", Some("f")),
            docref("f", "application/fhir+json", "1.2", Some("k")),
        ];
        assert_eq!(judge(entries, Some("1.2")), Verdict::Pass);
    }

    fn enveloped(id: &str, ct: &str, master_listed: bool, category: bool) -> Value {
        let mut d = docref(id, ct, "1.2", None);
        d["masterIdentifier"] =
            json!({"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:1.2.{id}")});
        let listed = if master_listed {
            format!("urn:oid:1.2.{id}")
        } else {
            "urn:oid:9".into()
        };
        d["identifier"] = json!([{"system": "urn:ietf:rfc:3986", "value": listed}]);
        if category {
            d["category"] = json!([{"coding": [{"system": "http://hl7.eu/fhir/health-data-api/CodeSystem/eehrxf-document-priority-category-cs", "code": "Medical-Imaging"}]}]);
        }
        d
    }

    #[test]
    fn the_master_identifier_must_be_among_the_identifiers() {
        let good = vec![
            enveloped("k", "application/dicom", true, true),
            enveloped("f", "application/fhir+json", true, true),
        ];
        assert_eq!(judge_with(good, Some("1.2"), mado_c5), Verdict::Pass);
        let bad = vec![
            enveloped("k", "application/dicom", false, true),
            enveloped("f", "application/fhir+json", true, true),
        ];
        assert!(matches!(
            judge_with(bad, Some("1.2"), mado_c5),
            Verdict::Fail { actual, .. } if actual.contains("DocumentReference k")
        ));
        // Another system for the same value is not the same identifier.
        let mut other_system = enveloped("k", "application/dicom", true, true);
        other_system["identifier"][0]["system"] = json!("urn:other");
        assert!(matches!(
            judge_with(vec![other_system], Some("1.2"), mado_c5),
            Verdict::Fail { .. }
        ));
        assert!(matches!(
            judge_with(vec![], Some("1.2"), mado_c5),
            Verdict::NotApplicable(_)
        ));
    }

    #[test]
    fn manifests_carry_the_medical_imaging_category_in_either_build() {
        let mut r5 = enveloped("f", "application/fhir+json", true, false);
        r5["category"] = json!([{"coding": [{"system": "http://hl7.eu/fhir/eu-health-data-api/CodeSystem/eehrxf-document-priority-category-cs", "code": "Medical-Imaging"}]}]);
        let good = vec![enveloped("k", "application/dicom", true, true), r5];
        assert_eq!(judge_with(good, Some("1.2"), mado_c6), Verdict::Pass);
        let bad = vec![
            enveloped("k", "application/dicom", true, false),
            enveloped("f", "application/fhir+json", true, true),
        ];
        assert!(matches!(
            judge_with(bad, Some("1.2"), mado_c6),
            Verdict::Fail { actual, .. } if actual.contains("DocumentReference k")
        ));
    }
}
