//! Every check can fail: a fault injected into the embedded reference is caught by the check that
//! guards the broken rule, is reported as a Fail (not an Error), and leaves the report written.
//! Its messages carry no debug formatting (`messages::debug_marks`). The cases are the library's
//! table of proofs (`ihe_harness::requirements::proofs::FAULT_CASES`), which `ihe-harness
//! requirements` prints too.

use ihe_harness::requirements::proofs::{FaultCase, FAULT_CASES};

use crate::common::*;

#[test]
fn each_fault_is_caught_by_its_check() {
    let mut problems = Vec::new();
    for FaultCase {
        fault,
        tags,
        check,
        strict,
    } in FAULT_CASES
    {
        let dir = report_dir(fault);
        let d = dir.path().to_str().unwrap();
        let mut args = vec![
            "run",
            "--reference-fault",
            fault,
            "--tags",
            tags,
            "--report-dir",
            d,
        ];
        if *strict {
            args.push("--strict");
        }
        let out = harness(&args);
        if out.status.code() != Some(1) {
            problems.push(format!(
                "{fault}: exit {:?}\n{}",
                out.status.code(),
                dump(&out)
            ));
            continue;
        }
        let results = results(dir.path());
        let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
        if !failed.iter().any(|c| c == check) {
            problems.push(format!(
                "{fault}: expected {check} to fail, failed: {failed:?}"
            ));
        }
        let errors: Vec<_> = outcomes(&results)
            .into_iter()
            .filter(|(_, o)| o == "error")
            .collect();
        if !errors.is_empty() {
            problems.push(format!(
                "{fault}: a fault of the SUT was reported as an Error: {errors:?}"
            ));
        }
        if !dir.path().join("junit.xml").exists() {
            problems.push(format!("{fault}: no junit.xml"));
        }
        for m in crate::messages::debug_marks(&results) {
            problems.push(format!("{fault}: debug formatting in a message: {m}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_fault_is_covered() {
    let out = harness(&["run", "--reference-fault", "no-such-fault"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let known = err.split("known: ").nth(1).unwrap_or_default().trim();
    for name in known.split(", ") {
        if name.starts_with("stall-") || name == "dimse-stall" {
            continue; // covered by tests/suite/stalled_sut.rs
        }
        assert!(
            FAULT_CASES.iter().any(|c| c.fault == name),
            "fault {name} has no test case"
        );
    }
}
