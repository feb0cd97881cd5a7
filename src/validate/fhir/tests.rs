//! Unit tests of the FHIR file validator: dispatch, findings as the registry gives them, and what
//! FSH input leaves unjudged.

use super::*;

fn failed(j: &FhirJudgement) -> Vec<&str> {
    let mut v: Vec<&str> = j
        .findings
        .iter()
        .filter(|f| f.is_failure())
        .map(|f| f.check.as_str())
        .collect();
    v.dedup();
    v
}

#[test]
fn unreadable_files_fail_fhir_01() {
    for (bytes, syntax) in [
        (&b"{not json"[..], FhirSyntax::Json),
        (b"<Bundle xmlns=\"urn:other\"/>", FhirSyntax::Xml),
        (b"{\"resourceType\": \"NoSuchThing\"}", FhirSyntax::Json),
        (b"{\"id\": \"x\"}", FhirSyntax::Json),
        (
            b"Instance: x\nInstanceOf: Patient\n* name = \"open",
            FhirSyntax::Fsh,
        ),
    ] {
        let j = judge(bytes, syntax, false);
        assert_eq!(
            failed(&j),
            ["FHIR-01"],
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn a_resource_nothing_judges_is_plain_fhir_and_says_so() {
    let j = judge(
        br#"{"resourceType": "Patient", "id": "p", "active": true}"#,
        FhirSyntax::Json,
        false,
    );
    assert_eq!(j.kind, "FHIR Patient");
    assert!(failed(&j).is_empty());
    assert!(j
        .findings
        .iter()
        .any(|f| f.outcome == Outcome::NotApplicable
            && f.expected.contains("nothing more was judged")));
}

#[test]
fn findings_carry_the_registered_check() {
    let j = judge(
        br#"{"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"contentType": "text/plain", "url": "http://x/1"}}]}"#,
        FhirSyntax::Json,
        false,
    );
    assert_eq!(j.kind, "MHD DocumentReference");
    let f = j
        .findings
        .iter()
        .find(|f| f.is_failure())
        .expect("masterIdentifier absent");
    let c = by_id("MHD-03").expect("registered");
    assert_eq!(
        (
            f.check.as_str(),
            f.requirement.as_str(),
            f.title.as_str(),
            f.level
        ),
        ("MHD-03", c.requirement, c.title, c.level)
    );
    assert!(f.actual.contains("masterIdentifier"), "{}", f.actual);
}

#[test]
fn should_level_breaches_are_advisory_unless_strict() {
    // An imaging report Composition without custodian breaks RPT-12 (SHOULD).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/report");
    let mut b: Value = serde_json::from_slice(
        &std::fs::read(dir.join("bundle-report-semi-structured.json")).expect("report"),
    )
    .expect("JSON");
    for e in b["entry"].as_array_mut().expect("entries") {
        if e["resource"]["resourceType"] == "Composition" {
            e["resource"]
                .as_object_mut()
                .expect("object")
                .remove("custodian");
        }
    }
    let bytes = serde_json::to_vec(&b).expect("JSON");
    let lax = judge(&bytes, FhirSyntax::Json, false);
    let f = lax
        .findings
        .iter()
        .find(|f| f.check == "RPT-12")
        .expect("RPT-12");
    assert_eq!((f.outcome, f.advisory), (Outcome::Fail, true));
    assert!(failed(&lax).is_empty());
    // Strict: the SHOULD-level findings count (this example also lacks RPT-09 and RPT-11's).
    assert!(failed(&judge(&bytes, FhirSyntax::Json, true)).contains(&"RPT-12"));
}

#[test]
fn fsh_leaves_what_the_profile_sets_unjudged_and_says_why() {
    // The sourceId extension named by a slice the compiler does not know: no url, so MHD-02
    // (which looks for the sourceId extension by url) is not judged.
    let src = "Instance: ss\nInstanceOf: IHE.MHD.Minimal.SubmissionSet\n* identifier[uniqueId].value = \"urn:oid:1.2.3\"\n* identifier[uniqueId].use = #usual\n* status = #current\n* mode = #working\n* code = MHDlistTypes#submissionset\n* date = 2024-01-01\n* extension[mySource].valueIdentifier.value = \"urn:oid:1.2\"\n";
    let j = judge(src.as_bytes(), FhirSyntax::Fsh, false);
    assert!(failed(&j).is_empty(), "{:?}", failed(&j));
    let f = j
        .findings
        .iter()
        .find(|f| f.check == "MHD-02")
        .expect("MHD-02");
    assert_eq!(f.outcome, Outcome::NotApplicable);
    assert!(f.expected.contains("mySource"), "{}", f.expected);
    // The same resource in JSON, where nothing is left to a profile, fails MHD-02.
    let compiled = fsh::compile(src.as_bytes()).expect("compiles");
    let json = serde_json::to_vec(&compiled.instances[0].resource).expect("JSON");
    assert_eq!(failed(&judge(&json, FhirSyntax::Json, false)), ["MHD-02"]);
}

#[test]
fn only_example_instances_are_judged_and_each_finding_names_its_instance() {
    let src = "Instance: a\nInstanceOf: Patient\nUsage: #example\nInstance: b\nInstanceOf: Patient\nUsage: #inline\n";
    let j = judge(src.as_bytes(), FhirSyntax::Fsh, false);
    assert!(
        j.kind.contains("(a)") && !j.kind.contains("(b)"),
        "{}",
        j.kind
    );
    assert!(j.findings.iter().all(|f| f.exchange_label == "Instance a"));
    let inline_only = "Instance: b\nInstanceOf: Patient\nUsage: #inline\n";
    assert_eq!(
        failed(&judge(inline_only.as_bytes(), FhirSyntax::Fsh, false)),
        ["FHIR-01"]
    );
}
