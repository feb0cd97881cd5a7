use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::*;
use crate::checks::kos::rules::{self as kos_rules, Rules};
use crate::model::fixtures::Fixtures;
use crate::model::kos;
use crate::model::mado::*;

fn fixtures() -> Fixtures {
    Fixtures::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies")).unwrap()
}

fn corpus(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus/mado")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn built(table: CodeTable) -> Vec<(kos::Manifest, Value)> {
    let fx = fixtures();
    let opts = MadoOptions {
        code_table: table,
        retrieve_url: Some("https://ids.example.org/dicomweb".to_string()),
        ..MadoOptions::default()
    };
    fx.studies()
        .iter()
        .map(|s| {
            let bytes = build_mado_kos(s, &opts).unwrap();
            let m = kos::parse(&bytes).unwrap();
            let f = fhir_manifest(&m, &opts);
            (m, f)
        })
        .collect()
}

#[test]
fn built_manifests_and_twins_are_clean_under_both_code_tables() {
    for table in [CodeTable::MadoTi, CodeTable::DicomFinal] {
        for (m, f) in built(table) {
            assert_eq!(kos_rules::validate(&m, &Rules::mado()), [], "{table:?}");
            assert_eq!(validate_fhir_manifest(&f), [], "{table:?}");
            assert_eq!(compare_kos_fhir(&m, &f), [], "{table:?}");
            let refs = kos_references(&m);
            assert_eq!(compare_with_holdings(&refs, &refs), []);
        }
    }
}

#[test]
fn removed_instance_is_a_difference() {
    let (m, mut f) = built(CodeTable::MadoTi).remove(0);
    let study = f["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["resource"]["resourceType"] == "ImagingStudy")
        .unwrap();
    study["resource"]["series"][0]["instance"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(!compare_kos_fhir(&m, &f).is_empty());
    let mut held = kos_references(&m);
    let (series, set) = held.iter_mut().next().unwrap();
    let _ = series;
    set.insert("2.25.1".to_string());
    assert_eq!(compare_with_holdings(&kos_references(&m), &held).len(), 1);
    let mut missing = kos_references(&m);
    missing.insert("2.25.9".to_string(), ["2.25.10".to_string()].into());
    assert_eq!(
        compare_with_holdings(&missing, &kos_references(&m)).len(),
        1
    );
}

#[test]
fn corpus_bundles_pass() {
    for name in [
        "mado-mado-1.2.250.1.59.40211.22756022.2.1.101-bundle.json",
        "mado-mado-1.2.250.1.59.40211.22756022.2.1.102-bundle.json",
    ] {
        assert_eq!(validate_fhir_manifest(&corpus(name)), [], "{name}");
    }
}

type Mutation = Box<dyn Fn(&mut Value)>;

fn fires(b: &Value, rule: &str) -> bool {
    validate_fhir_manifest(b).iter().any(|v| v.rule == rule)
}

/// One mutation per rule, each breaking exactly the rule named.
#[test]
fn each_fhir_rule_fires_on_its_mutation() {
    let base = corpus("mado-mado-1.2.250.1.59.40211.22756022.2.1.101-bundle.json");
    let study_idx = 1;
    let cases: Vec<(&str, Mutation)> = vec![
        ("MADO-01", Box::new(|b| b["type"] = "collection".into())),
        (
            "MADO-02",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("identifier");
            }),
        ),
        (
            "MADO-03",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("timestamp");
            }),
        ),
        (
            "MADO-04",
            Box::new(|b| b["entry"].as_array_mut().unwrap().swap(0, 1)),
        ),
        (
            "MADO-05",
            Box::new(move |b| {
                let e = b["entry"][study_idx].clone();
                b["entry"].as_array_mut().unwrap().push(e);
            }),
        ),
        (
            "MADO-06",
            Box::new(|b| {
                for e in b["entry"].as_array_mut().unwrap() {
                    if e["resource"]["resourceType"] == "Endpoint" {
                        e["resource"]["extension"] = Value::Array(vec![]);
                    }
                }
            }),
        ),
        (
            "MADO-07",
            Box::new(|b| b["entry"][0]["resource"]["author"] = Value::Array(vec![])),
        ),
        (
            "MADO-08",
            Box::new(move |b| {
                b["entry"][study_idx]["resource"]["identifier"][0]["value"] = "1.2.3".into()
            }),
        ),
        (
            "MADO-09",
            Box::new(move |b| b["entry"][study_idx]["resource"]["numberOfSeries"] = 3.into()),
        ),
        (
            "MADO-10",
            Box::new(move |b| {
                b["entry"][study_idx]["resource"]["series"][0]["numberOfInstances"] = 1.into()
            }),
        ),
        (
            "MADO-11",
            Box::new(move |b| {
                b["entry"][study_idx]["resource"]["series"][0]["endpoint"][0]["reference"] =
                    "urn:Endpoint/nowhere".into()
            }),
        ),
        (
            "MADO-12",
            Box::new(move |b| {
                b["entry"][study_idx]["resource"]["procedureCode"] =
                    serde_json::json!([{"coding": [{"code": "x"}]}])
            }),
        ),
    ];
    for (rule, mutate) in cases {
        assert!(!fires(&base, rule), "{rule} on the corpus bundle");
        let mut b = base.clone();
        mutate(&mut b);
        assert!(fires(&b, rule), "{rule} on its mutation");
    }
    assert!(!validate_fhir_manifest(&Value::Null).is_empty());
}

#[test]
fn docref_rules_and_comparison() {
    let kos_doc = corpus("mado-mado-kos-1.2.250.1.59.40211.22756022.2.1.101-docref.json");
    assert_eq!(validate_docref(&kos_doc), []);
    assert_eq!(
        validate_docref(&corpus(
            "mado-mado-fhir-1.2.250.1.59.40211.22756022.2.1.101-docref.json"
        )),
        []
    );
    let mut d = kos_doc.clone();
    d["masterIdentifier"] = serde_json::json!({"value": "urn:oid:1.2.3"});
    assert!(validate_docref(&d).iter().any(|v| v.rule == "MADO-D1"));
    d["identifier"] = serde_json::json!([{"value": "urn:oid:1.2.3"}]);
    assert!(!validate_docref(&d).iter().any(|v| v.rule == "MADO-D1"));
    let mut d = kos_doc.clone();
    d["content"][0]["format"]["code"] = "1.2.3".into();
    assert!(validate_docref(&d).iter().any(|v| v.rule == "MADO-D2"));
    let mut d = kos_doc.clone();
    d["context"]["related"] = Value::Array(vec![]);
    assert!(validate_docref(&d).iter().any(|v| v.rule == "MADO-D3"));
    let mut d = kos_doc.clone();
    d["meta"] = serde_json::json!({"profile": [MADO_KOS_DOCREF]});
    assert!(validate_docref(&d).iter().any(|v| v.rule == "MADO-D4"));

    // A docref for a built manifest agrees with it; a wrong study does not.
    let (m, _) = built(CodeTable::MadoTi).remove(0);
    let sop = m.sop_instance_uid.clone().unwrap();
    let study = m.study.instance_uid.clone().unwrap();
    let mods: Vec<Value> = library_codes(&m)
        .0
        .iter()
        .map(|c| serde_json::json!({"system": DCM_SYSTEM, "code": c}))
        .collect();
    let date = m.study.date.clone().unwrap();
    let doc = serde_json::json!({
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{sop}")},
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{sop}")}],
        "extension": [{"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality", "valueCodeableConcept": {"coding": mods}}],
        "content": [{"attachment": {"contentType": "application/dicom"}, "format": {"system": DCMUID_SYSTEM, "code": kos::KOS_SOP_CLASS}}],
        "context": {"period": {"start": format!("{}-{}-{}T00:00:00Z", &date[0..4], &date[4..6], &date[6..8])},
            "related": [{"identifier": {"system": URN_DICOM_UID, "value": format!("urn:oid:{study}")}}]}
    });
    assert_eq!(compare_docref(&doc, &m), []);
    assert_eq!(validate_docref(&doc), []);
    let mut bad = doc.clone();
    bad["context"]["related"][0]["identifier"]["value"] = "urn:oid:1.2.3".into();
    assert!(!compare_docref(&bad, &m).is_empty());
    let mut bad = doc;
    bad["masterIdentifier"]["value"] = "urn:oid:1.2.3".into();
    assert!(!compare_docref(&bad, &m).is_empty());
    let _: BTreeMap<String, ()> = BTreeMap::new();
}

#[test]
fn target_regions_follow_the_alias() {
    assert_eq!(target_region("CT-CHEST").0, "67734004");
    assert_eq!(target_region("MR-BRAIN").0, "774007");
    assert_eq!(target_region("DX-CHEST").0, "67734004");
    assert_eq!(target_region("US-ABDOMEN").0, "63337009");
    assert_eq!(target_region("X").0, "38266002");
}

fn group_entries(m: &mut kos::Manifest) -> &mut Vec<kos::ContentItem> {
    let lib = m
        .content
        .iter_mut()
        .find(|i| i.concept_is(kos::IMAGE_LIBRARY, kos::DCM))
        .unwrap();
    let group = lib
        .children
        .iter_mut()
        .find(|i| i.concept_is(kos::IMAGE_LIBRARY_GROUP, kos::DCM))
        .unwrap();
    &mut group.children
}

fn kos_fires(m: &kos::Manifest, rule: &str) -> bool {
    kos_rules::validate(m, &Rules::mado())
        .iter()
        .any(|v| v.rule == rule)
}

#[test]
fn kos_16_frames_and_instance_numbers() {
    let (m, _) = built(CodeTable::MadoTi).remove(0);
    assert!(!kos_fires(&m, "KOS-16"));
    let mut multi = m.clone();
    let entry = group_entries(&mut multi)
        .iter_mut()
        .find(|i| !i.references.is_empty())
        .unwrap();
    entry.references[0].sop_class = "1.2.840.10008.5.1.4.1.1.2.1".to_string();
    entry
        .children
        .retain(|c| !c.concept_is(kos::NUMBER_OF_FRAMES, kos::DCM));
    assert!(kos_fires(&multi, "KOS-16"));
    let mut bad = m.clone();
    let entry = group_entries(&mut bad)
        .iter_mut()
        .find(|i| !i.references.is_empty())
        .unwrap();
    let number = entry
        .children
        .iter_mut()
        .find(|c| c.concept_is(kos::INSTANCE_NUMBER_CONCEPT, kos::DCM))
        .unwrap();
    number.value = Some("first".to_string());
    assert!(kos_fires(&bad, "KOS-16"));
    assert_eq!(
        kos_rules::validate(&bad, &Rules::mado())
            .iter()
            .find(|v| v.rule == "KOS-16")
            .unwrap()
            .level,
        Level::Should
    );
}

#[test]
fn kos_19_display_uri() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/mado");
    let b = std::fs::read(dir.join("mado-MADO_KOS_B.dcm")).unwrap();
    assert_eq!(display_uri_violations(&b), []);
    // Replace the URL scheme: still UR, no longer an absolute http(s) URL.
    let pos = b
        .windows(17)
        .position(|w| w == b"https://dicomview")
        .unwrap();
    let mut broken = b.clone();
    broken[pos..pos + 5].copy_from_slice(b"ftp:/");
    let v = display_uri_violations(&broken);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].rule, "KOS-19");
    assert_eq!(display_uri_violations(b"junk"), []);
    let (m, _) = built(CodeTable::MadoTi).remove(0);
    let _ = m;
}
