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

pub(super) fn mado_c4(s: &Subject<'_>) -> Verdict {
    let Some(study) = s.expect.mado.twin_study.as_deref() else {
        return Verdict::na("not a search for a study's twin manifests");
    };
    let Some(r) = &s.exchange.response else {
        return Verdict::na("no answer to judge");
    };
    if !r.body.complete {
        return Verdict::na("the search answer was not read whole");
    }
    let Ok(bundle) = serde_json::from_slice::<Value>(&r.body.kept) else {
        return Verdict::na("the search answer is not JSON (judged by the search checks)");
    };
    let docs: Vec<(Option<&str>, &Value)> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["resource"]["resourceType"] == "DocumentReference")
        .filter(|e| study_of(&e["resource"], study))
        .map(|e| (e["fullUrl"].as_str(), &e["resource"]))
        .collect();
    let find = |prefix: &str| {
        docs.iter()
            .find(|(_, d)| content_type(d).starts_with(prefix))
            .copied()
    };
    let (Some((kos_url, kos)), Some((fhir_url, fhir))) =
        (find("application/dicom"), find("application/fhir+json"))
    else {
        return Verdict::na(format!(
            "the answer does not hold both manifests of study {study} (KOS and FHIR)"
        ));
    };
    let mut missing = Vec::new();
    if !points_to(kos, fhir, fhir_url) {
        missing.push(format!(
            "the KOS DocumentReference {} has no relatesTo transforms to the FHIR one",
            kos["id"].as_str().unwrap_or("?")
        ));
    }
    if !points_to(fhir, kos, kos_url) {
        missing.push(format!(
            "the FHIR DocumentReference {} has no relatesTo transforms to the KOS one",
            fhir["id"].as_str().unwrap_or("?")
        ));
    }
    if missing.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "the KOS and FHIR manifest DocumentReferences of the study point to each other with relatesTo transforms",
            missing.join("; "),
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
        mado_c4(&Subject {
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
}
