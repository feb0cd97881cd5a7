//! The suite against a real Orthanc with its DICOMweb plugin (Debian packages), started by
//! `ci/test.sh`. Orthanc's real deviations from the standard are reported as Fails with evidence and
//! pinned in `tests/known-deviations/orthanc.txt`: a new deviation and a lost detection both break
//! this test. Checks are never weakened to make a real server pass.

mod common;

use common::*;

fn pinned() -> Vec<(String, String)> {
    let text = include_str!("known-deviations/orthanc.txt");
    let mut v: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(check, scenario)| (scenario.trim().to_string(), check.trim().to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn orthanc_reports_only_the_pinned_deviations() {
    let Ok(profile) = std::env::var("IHE_HARNESS_ORTHANC_PROFILE") else {
        eprintln!("IHE_HARNESS_ORTHANC_PROFILE is not set: ci/test.sh starts Orthanc and sets it; skipping");
        return;
    };
    let dir = report_dir("orthanc");
    let out = harness(&[
        "run",
        "--sut",
        &profile,
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    let results = results(dir.path());
    let errors: Vec<_> = outcomes(&results)
        .into_iter()
        .filter(|(_, o)| o == "error")
        .collect();
    assert!(
        errors.is_empty(),
        "harness errors against Orthanc: {errors:?}\n{}",
        dump(&out)
    );
    let got = failures(&results);
    let want = pinned();
    let new: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
    let lost: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
    assert!(
        new.is_empty() && lost.is_empty(),
        "new deviations (not pinned): {new:#?}\npinned but no longer detected: {lost:#?}\n{}",
        dump(&out)
    );
    let expected_exit = if want.is_empty() { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected_exit), "{}", dump(&out));
    // Every pinned deviation names check, requirement, expected, actual and exchange.
    for s in results["scenarios"].as_array().unwrap() {
        for f in s["findings"].as_array().unwrap() {
            if f["outcome"] == "fail" {
                for key in [
                    "check",
                    "requirement",
                    "expected",
                    "actual",
                    "exchange_label",
                ] {
                    assert!(
                        f[key].as_str().map(|v| !v.is_empty()).unwrap_or(false),
                        "{key} missing in {f}"
                    );
                }
            }
        }
    }
}
