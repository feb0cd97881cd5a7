//! The @perf scenarios: a study retrieve timed by WADO-RS, C-GET, C-MOVE and RAD-69, each with its
//! figures in results.json (`metrics`) and junit.xml (`metric.*`), against the embedded reference
//! (whose own thresholds they meet; `fault_injection` makes them miss them) and against the real
//! Orthanc (no thresholds in its profile: measured and reported only).

use std::path::Path;

use crate::common::*;

/// The figures every timed retrieve reports, after its transaction's prefix.
const FIGURES: &[&str] = &[
    "ttfb_ms",
    "first_instance_ms",
    "total_ms",
    "bytes",
    "instances",
    "mbps",
    "instances_per_s",
];

/// The metrics of the scenario whose title contains `title`.
fn metrics<'a>(results: &'a serde_json::Value, title: &str) -> &'a serde_json::Value {
    let s = results["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .find(|s| s["scenario"].as_str().unwrap_or_default().contains(title))
        .unwrap_or_else(|| panic!("no scenario {title}"));
    &s["metrics"]
}

/// The figures of transaction `prefix` are all there, in order (first byte, first instance, end),
/// and count `instances` instances: returns them for printing.
fn assert_figures(
    results: &serde_json::Value,
    title: &str,
    prefix: &str,
    instances: f64,
) -> String {
    let m = metrics(results, title);
    let get = |f: &str| {
        m[format!("{prefix}_{f}")]
            .as_f64()
            .unwrap_or_else(|| panic!("{title}: no {prefix}_{f} in {m}"))
    };
    for f in FIGURES {
        get(f);
    }
    assert!(get("ttfb_ms") <= get("first_instance_ms"), "{title}: {m}");
    assert!(get("first_instance_ms") <= get("total_ms"), "{title}: {m}");
    assert_eq!(get("instances"), instances, "{title}: {m}");
    assert!(get("bytes") > 3_000_000.0, "{title}: {m}");
    assert!(
        get("mbps") > 0.0 && get("instances_per_s") > 0.0,
        "{title}: {m}"
    );
    format!(
        "{prefix}: first byte {} ms, first instance {} ms, total {} ms, {} bytes, {} instances, {} MB/s, {} instances/s",
        get("ttfb_ms"),
        get("first_instance_ms"),
        get("total_ms"),
        get("bytes"),
        get("instances"),
        get("mbps"),
        get("instances_per_s")
    )
}

/// The outcome of check `id` in the scenario whose title contains `title`.
fn check_outcomes(results: &serde_json::Value, title: &str, id: &str) -> Vec<String> {
    results["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter(|s| s["scenario"].as_str().unwrap_or_default().contains(title))
        .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["check"] == id)
        .map(|f| f["outcome"].as_str().unwrap_or_default().to_string())
        .collect()
}

const WADO: &str = "of a study retrieve";
const CGET: &str = "of a C-GET";
const CMOVE: &str = "of a C-MOVE";
const RAD69: &str = "of a RAD-69 study retrieve";

#[test]
fn each_timed_transaction_meets_the_reference_thresholds_and_reports_its_figures() {
    let dir = report_dir("perf");
    let d = dir.path().to_str().unwrap();
    let out = harness(&["run", "--tags", "@perf", "--report-dir", d]);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let results = results(dir.path());
    let outcomes = outcomes(&results);
    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert!(outcomes.iter().all(|(_, o)| o == "pass"), "{outcomes:?}");
    // CT-CHEST: 43 instances, the manifest among them; RAD-69 asks for the 42 images.
    for (title, prefix, n) in [
        (WADO, "wado", 43.0),
        (CGET, "cget", 43.0),
        (CMOVE, "cmove", 43.0),
        (RAD69, "rad69", 42.0),
    ] {
        assert_figures(&results, title, prefix, n);
        // The reference's thresholds judged every figure, and it sent every instance as stored.
        for id in ["PERF-01", "PERF-02", "PERF-03", "PERF-04", "PERF-05"] {
            assert_eq!(
                check_outcomes(&results, title, id),
                ["pass"],
                "{title} {id}"
            );
        }
    }
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    for name in ["cget_ttfb_ms", "cmove_first_instance_ms", "rad69_mbps"] {
        assert!(
            junit.contains(&format!("<property name=\"metric.{name}\" value=\"")),
            "{name} not in junit.xml"
        );
    }
}

/// C-GET and C-MOVE of the performance study from Orthanc (`ci/start-orthanc.sh`; C-MOVE to the
/// harness's Storage SCP): timed and reported, judged by no threshold (its profile sets none);
/// RAD-69 is not applicable (the profile declares no XDS-I.b source: Orthanc claims none).
#[test]
fn orthanc_study_retrieves_by_c_get_and_c_move_are_timed() {
    let _orthanc = orthanc_lock();
    let Some(profile) = orthanc_profile() else {
        return;
    };
    let dir = report_dir("orthanc-perf");
    let out = harness(&run_args(Path::new(&profile), "@perf", dir.path()));
    let results = results(dir.path());
    let outcomes = outcomes(&results);
    let outcome = |title: &str| {
        outcomes
            .iter()
            .find(|(s, _)| s.contains(title))
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    };
    for title in [WADO, CGET, CMOVE] {
        assert_eq!(outcome(title), "pass", "{title}\n{}", dump(&out));
    }
    assert_eq!(outcome(RAD69), "not-applicable", "{}", dump(&out));
    for (title, prefix) in [(WADO, "wado"), (CGET, "cget"), (CMOVE, "cmove")] {
        let line = assert_figures(&results, title, prefix, 43.0);
        eprintln!("Orthanc {line}");
        for id in ["PERF-01", "PERF-02", "PERF-03", "PERF-04"] {
            assert_eq!(
                check_outcomes(&results, title, id),
                ["not-applicable"],
                "{title} {id}"
            );
        }
    }
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
}
