//! The embedded reference serves what it receives, whatever way it arrived: `ihe-harness run` with a
//! load-mode profile (the harness first stores the test studies with STOW-RS, publishes the
//! manifests and documents) against `ihe-harness serve` passes every scenario that a preloaded
//! profile passes against a fresh `serve`. And the store scenarios store what the server has not
//! seen: against `serve --refuse-duplicates`, whose STOW-RS refuses a second copy of an instance
//! it holds (conformant: PS3.4 §B.2.3, PS3.18 §10.5.3), a load-mode run passes them all.

use crate::common::*;

/// `ihe-harness serve` on free ports, with the `extra` arguments and the harness's Storage SCP
/// on a third as its move destination, ready to answer.
fn serve(extra: &[&str]) -> (ChildServer, u16, u16, u16) {
    let sim = free_port();
    let destination = format!("HARNESS=127.0.0.1:{sim}");
    let mut args = vec!["--move-destination", &destination];
    args.extend_from_slice(extra);
    let (server, http, dimse) = serve_reference_with(&args);
    (server, http, dimse, sim)
}

fn profile(mode: &str, http: u16, dimse: u16, sim: u16) -> String {
    format!(
        r#"[sut]
name = "ihe-harness serve ({mode})"
[dicomweb]
base_url = "http://127.0.0.1:{http}/dicom-web"
[xds]
registry_url = "http://127.0.0.1:{http}/xds/registry"
repository_url = "http://127.0.0.1:{http}/xds/repository"
imaging_source_url = "http://127.0.0.1:{http}/xds/imaging-source"
[mhd]
base_url = "http://127.0.0.1:{http}/fhir"
[dimse]
host = "127.0.0.1"
port = {dimse}
called_ae = "IHE_REFERENCE"
calling_ae = "HARNESS"
move_destination = "HARNESS"
[simulator]
dimse_bind = "127.0.0.1:{sim}"
ae_title = "HARNESS"
[test_data]
mode = "{mode}"
"#
    )
}

#[test]
fn a_load_mode_profile_against_serve_passes_what_a_preloaded_one_passes() {
    let mut runs = Vec::new();
    for mode in ["preloaded", "load"] {
        let (_server, http, dimse, sim) = serve(&[]);
        let run = run_profile(
            &format!("serve-{mode}"),
            &profile(mode, http, dimse, sim),
            "not @neverset",
        );
        runs.push(run);
    }
    let (pre, load) = (&runs[0], &runs[1]);
    let pre_outcomes = outcomes(&pre.results);
    assert!(
        pre_outcomes
            .iter()
            .all(|(_, o)| o == "pass" || o == "not-applicable"),
        "a preloaded serve must pass: {:?}\n{}",
        failures(&pre.results),
        dump(&pre.out)
    );
    assert!(pre_outcomes.iter().filter(|(_, o)| o == "pass").count() > 100);
    let load_outcomes = outcomes(&load.results);
    let lost: Vec<_> = pre_outcomes
        .iter()
        .filter(|(_, o)| o == "pass")
        .filter(|p| !load_outcomes.contains(p))
        .collect();
    assert!(
        lost.is_empty(),
        "pass when preloaded, not in load mode: {lost:#?}\n{:?}\n{}",
        failures(&load.results),
        dump(&load.out)
    );
}

#[test]
fn store_scenarios_in_load_mode_pass_against_a_server_that_refuses_duplicates() {
    let (_server, http, dimse, sim) = serve(&["--refuse-duplicates"]);
    let dir = report_dir("serve-refuse-duplicates");
    let (out, reports) = run_profile_in(
        dir.path(),
        &profile("load", http, dimse, sim),
        "@profile:DICOMweb and not @role:simulator",
    );
    let results = results(&reports);
    assert!(
        outcomes(&results)
            .iter()
            .all(|(_, o)| o == "pass" || o == "not-applicable"),
        "every DICOMweb scenario must pass: {:?}\n{}",
        failures(&results),
        dump(&out)
    );
    let stores: Vec<&serde_json::Value> = results["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .filter(|s| {
            s["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "txn:RAD-108"))
        })
        .collect();
    assert_eq!(stores.len(), 6, "the STOW-RS scenarios");
    for s in &stores {
        assert_eq!(s["outcome"], "pass", "{}", s["scenario"]);
    }
    // The server did refuse: the instance it already holds came back as a 409 Duplicate SOP
    // Instance (Failure Reason 0111H = 273), which the scenario about it passes.
    let duplicate = stores
        .iter()
        .find(|s| {
            s["scenario"]
                .as_str()
                .is_some_and(|n| n.contains("already holds"))
        })
        .expect("the duplicates scenario");
    let refused = duplicate["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|p| p.as_str())
        .filter(|p| p.ends_with("-rad-108.json"))
        .any(|p| {
            let json = std::fs::read_to_string(reports.join(p)).unwrap_or_default();
            let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let body = std::fs::read_to_string(reports.join(p.replace(".json", "-response.body")))
                .unwrap_or_default();
            v["response"]["status"] == 409 && body.contains("273")
        });
    assert!(
        refused,
        "no 409 with Failure Reason 0111 in {}",
        duplicate["evidence"]
    );
}

/// `load --stores` replays the STOW-RS stores as re-identified copies: against a server that
/// refuses a second copy of an instance it holds, every replayed store is taken (a replay of the
/// recorded bytes would be refused from the second one on). Without `--stores` they are left out.
#[test]
fn load_replays_stores_as_fresh_copies_a_server_that_refuses_duplicates_takes() {
    let (_server, http, dimse, sim) = serve(&["--refuse-duplicates"]);
    let dir = report_dir("load-stores");
    let sut = dir.path().join("serve.toml");
    std::fs::write(&sut, profile("load", http, dimse, sim)).expect("profile written");
    let sut = sut.display().to_string();
    let load = |stores: bool, out_dir: &str| {
        let reports = dir.path().join(out_dir);
        let rep = reports.display().to_string();
        let mut args = vec![
            "load",
            "--sut",
            &sut,
            "--tags",
            "@txn:RAD-108",
            "--users",
            "2",
            "--duration",
            "2s",
            "--sample",
            "1",
            "--report-dir",
            &rep,
        ];
        if stores {
            args.push("--stores");
        }
        (harness(&args), reports)
    };
    let (out, reports) = load(true, "with");
    assert!(out.status.success(), "{}", dump(&out));
    replayed_without_a_fault(&reports, "RAD-108");
    let (out, _) = load(false, "without");
    assert!(
        dump(&out).contains("stores (STOW-RS, Provide and Register) left out of the replay"),
        "{}",
        dump(&out)
    );
}

/// `load --stores` replays a Provide and Register (RAD-68) the registry took as new submissions
/// of the same manifest for the same patient (new SOP Instance UID, uniqueIds, hash): `serve`'s
/// registry takes every copy, while the recorded request sent again (the scenario's repro.sh) is
/// refused as a second submission of its uniqueId.
#[test]
fn load_replays_a_provide_and_register_as_new_submissions_the_registry_takes() {
    let (_server, http, dimse, sim) = serve(&[]);
    let dir = report_dir("load-submissions");
    let sut = dir.path().join("serve.toml");
    std::fs::write(&sut, profile("load", http, dimse, sim)).expect("profile written");
    let reports = dir.path().join("reports");
    let out = harness(&[
        "load",
        "--sut",
        &sut.display().to_string(),
        "--tags",
        "@txn:RAD-68 and not @neg",
        "--users",
        "2",
        "--duration",
        "2s",
        "--stores",
        "--report-dir",
        &reports.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", dump(&out));
    replayed_without_a_fault(&reports, "RAD-68");
    // The recorded request itself, sent again: refused, so the copies were new submissions.
    let scenario = std::fs::read_dir(reports.join("recording/evidence"))
        .expect("evidence")
        .flatten()
        .flat_map(|f| std::fs::read_dir(f.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .find(|p| p.join("01-rad-68-request.body").is_file())
        .unwrap_or_else(|| panic!("no recorded RAD-68\n{}", dump(&out)));
    let status = std::process::Command::new("sh")
        .arg(scenario.join("repro.sh"))
        .output()
        .expect("repro.sh runs");
    assert!(status.status.success(), "{status:?}");
    let again = std::fs::read_to_string(scenario.join("01-rad-68-response.replay"))
        .expect("the replayed answer");
    assert!(
        again.contains("ResponseStatusType:Failure")
            && again.contains("XDSDuplicateUniqueIdInRegistry"),
        "{again}"
    );
}

/// The load.json under `reports` has a row for `txn` with more than two requests, no error and no
/// failure.
fn replayed_without_a_fault(reports: &std::path::Path, txn: &str) {
    let text = std::fs::read_to_string(reports.join("load.json")).expect("load.json");
    let file: serde_json::Value = serde_json::from_str(&text).expect("load.json parses");
    let row = file["transactions"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["transaction"] == txn))
        .unwrap_or_else(|| panic!("no {txn} row in {file:#}"));
    assert!(row["requests"].as_u64() > Some(2), "{file:#}");
    assert_eq!(row["errors"], 0, "{file:#}");
    assert_eq!(row["failures"], 0, "{file:#}");
}
