//! The audit message validator judged on material nobody on the team wrote: the DICOM audit
//! messages of `fixtures/audit/ipf/` and the FHIR AuditEvents of the IHE BALP examples in
//! `fixtures/audit/balp/` with the verdicts their source gives, and the defects derived from them
//! in `fixtures/audit/derived/`, each with the rule it must trip (`fixtures/audit/MANIFEST.json`).
//! `.xml` files are judged as audit messages, `.syslog` files as one RFC 5424 message, `.stream`
//! files as a syslog-over-TLS byte stream (RFC 5425 framing), `.json` files as the body of a FHIR
//! Feed request (the AuditEvent rules of `checks::atna::fhir`, then the schema rules).

use std::path::PathBuf;

use ihe_harness::checks::atna::transaction::{self, AuditExpect, Audited, Side};
use ihe_harness::checks::atna::{self, Rules};
use ihe_harness::checks::rule::Violation;
use ihe_harness::checks::Level;
use ihe_harness::model::audit;
use ihe_harness::transport::syslog::{self, DEFAULT_MAX_FRAME};
use serde_json::Value;

fn root() -> PathBuf {
    std::env::var_os("IHE_HARNESS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Every violation the validator finds in one corpus file.
fn judge(file: &str, bytes: &[u8]) -> Vec<Violation> {
    if file.ends_with(".xml") {
        match audit::dicom::parse(bytes) {
            Ok(m) => atna::validate_message(&m),
            Err(e) => vec![Violation::of(&atna::PAYLOAD, e.to_string())],
        }
    } else if file.ends_with(".syslog") {
        atna::validate_syslog(bytes, &Rules::default()).violations
    } else if file.ends_with(".json") {
        let j = atna::fhir::validate_body(bytes, audit::fhir::MAX_BYTES);
        let mut v = j.violations;
        if let Some(a) = &j.audit {
            v.extend(atna::validate_message(a));
        }
        v
    } else if file.ends_with(".stream") {
        let (frames, err) = syslog::decode_all(bytes, DEFAULT_MAX_FRAME);
        let mut v: Vec<Violation> = frames
            .iter()
            .flat_map(|f| atna::validate_syslog(f, &Rules::default()).violations)
            .collect();
        v.extend(err.as_ref().map(atna::framing));
        v
    } else {
        panic!("{file}: no judge for this kind of file");
    }
}

#[test]
fn audit_corpus_gets_the_verdicts_of_its_manifest() {
    let dir = root().join("fixtures/audit");
    let text = std::fs::read_to_string(dir.join("MANIFEST.json"))
        .expect("fixtures/audit/MANIFEST.json is readable");
    let entries: Vec<Value> = serde_json::from_str(&text).expect("MANIFEST.json is JSON");
    let mut failures = Vec::new();
    let mut judged = 0;
    for e in &entries {
        let file = e["file"].as_str().unwrap_or_default();
        let expected = e["expected"].as_str().unwrap_or("unknown");
        let bytes =
            std::fs::read(dir.join(file)).unwrap_or_else(|err| panic!("read {file}: {err}"));
        let v = judge(file, &bytes);
        judged += 1;
        let errors: Vec<&Violation> = v.iter().filter(|x| x.level == Level::Shall).collect();
        for x in &v {
            println!("    {file}: {x}");
        }
        match expected {
            "valid" if !errors.is_empty() => failures.push(format!(
                "{file}: expected valid, found {}",
                errors
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            "invalid" if errors.is_empty() => failures.push(format!(
                "{file}: expected invalid, found no SHALL violation"
            )),
            _ => {}
        }
        let must: Vec<&str> = e["rules"]
            .as_array()
            .or(e["observed_rules"].as_array())
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for rule in must {
            if !v.iter().any(|x| x.rule == rule) {
                failures.push(format!("{file}: {rule} did not fire"));
            }
        }
        // A message of a transaction the tables know is judged against its table too.
        if let Some(t) = e.get("transaction") {
            let audited = match t["audited"].as_str() {
                Some("ITI-18") => Audited::Iti18,
                Some("ITI-41") => Audited::Iti41,
                Some("ITI-43") => Audited::Iti43,
                Some("RAD-69") => Audited::Rad69,
                other => panic!("{file}: unknown transaction {other:?}"),
            };
            let side = if t["side"].as_str() == Some("responder") {
                Side::Responder
            } else {
                Side::Initiator
            };
            let m = audit::dicom::parse(&bytes).expect("a transaction fixture parses");
            let found: Vec<&str> =
                transaction::validate(&m, audited, side, &AuditExpect::default())
                    .iter()
                    .map(|x| x.rule)
                    .collect();
            let want: Vec<&str> = t["observed_rules"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut found_set = found.clone();
            found_set.dedup();
            if found_set != want {
                failures.push(format!(
                    "{file}: transaction rules {found_set:?}, expected {want:?}"
                ));
            }
        }
        // Derived defects trip only the rule they were made for (plus SHOULD warnings).
        if let Some(rules) = e["rules"].as_array() {
            for x in &errors {
                if !rules.iter().any(|r| r.as_str() == Some(x.rule)) {
                    failures.push(format!("{file}: unexpected {x}"));
                }
            }
        }
    }
    assert!(judged >= 40, "only {judged} corpus files");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_corpus_file_is_listed_in_the_manifest() {
    let dir = root().join("fixtures/audit");
    let text = std::fs::read_to_string(dir.join("MANIFEST.json")).expect("manifest");
    let entries: Vec<Value> = serde_json::from_str(&text).expect("JSON");
    let listed: Vec<&str> = entries.iter().filter_map(|e| e["file"].as_str()).collect();
    for sub in ["ipf", "balp", "derived"] {
        for f in std::fs::read_dir(dir.join(sub)).expect("folder") {
            let name = format!("{sub}/{}", f.expect("entry").file_name().to_string_lossy());
            assert!(
                listed.contains(&name.as_str()),
                "{name} is not in MANIFEST.json"
            );
        }
    }
    for e in &entries {
        for key in [
            "source_repo",
            "source_path",
            "source_commit",
            "license",
            "what",
            "expected",
            "expected_reason",
        ] {
            assert!(
                e[key].as_str().is_some_and(|s| !s.is_empty()),
                "{}: no {key}",
                e["file"]
            );
        }
    }
}
