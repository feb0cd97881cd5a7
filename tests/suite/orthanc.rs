//! The suite against a real Orthanc with its DICOMweb plugin (Debian packages), started by
//! `ci/test.sh`. Orthanc's real deviations from the standard are reported as Fails with evidence and
//! pinned in `tests/suite/known-deviations/orthanc.txt`: a new deviation and a lost detection both break
//! this test. Checks are never weakened to make a real server pass.

use crate::common::*;

fn pinned() -> Vec<(String, String)> {
    pinned_from(include_str!("known-deviations/orthanc.txt"))
}

#[test]
fn orthanc_reports_only_the_pinned_deviations() {
    let _orthanc = orthanc_lock();
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
    let want = pinned();
    assert_only_pinned(&results, &want, &out);
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

/// `ihe-harness serve` as a child process, killed on drop.
struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// XDS-I.b with the images in the real Orthanc: the harness's reference registry, repository and
/// Imaging Document Source run as a separate `serve` process whose RAD-69 is mapped onto Orthanc's
/// WADO-RS, and the consumer scenarios fetch the images behind the manifests from Orthanc (by
/// RAD-69 through the mapping, and by WADO-RS directly).
#[test]
fn xds_manifests_lead_to_the_images_in_orthanc() {
    let _orthanc = orthanc_lock();
    let Ok(profile) = std::env::var("IHE_HARNESS_ORTHANC_PROFILE") else {
        eprintln!("IHE_HARNESS_ORTHANC_PROFILE is not set: ci/test.sh starts Orthanc and sets it; skipping");
        return;
    };
    let full = std::fs::read_to_string(&profile).unwrap();
    // Only the DICOMweb part: the DIMSE simulator's fixed port belongs to the other test.
    let text = full.split("\n[dimse]").next().unwrap_or(&full).to_string();
    let base = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("base_url = "))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("the Orthanc profile names its base_url");
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ihe-harness"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--wado-upstream",
            &base,
        ])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _served = Served(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let dir = report_dir("orthanc-xds");
    let xds_profile = format!(
        "{text}\n[xds]\nregistry_url = \"http://127.0.0.1:{port}/xds/registry\"\n\
         repository_url = \"http://127.0.0.1:{port}/xds/repository\"\n\
         imaging_source_url = \"http://127.0.0.1:{port}/xds/imaging-source\"\n"
    )
    .replace(
        "[sut]\n",
        "[sut]\n# XDS-I.b actors of `ihe-harness serve`, images in Orthanc\n",
    );
    let (out, reports) = run_profile_in(dir.path(), &xds_profile, "@profile:XDS-I.b");
    let results = results(&reports);
    let outcomes = outcomes(&results);
    let bad: Vec<_> = outcomes
        .iter()
        .filter(|(_, o)| o == "error" || o == "fail")
        .collect();
    assert!(bad.is_empty(), "{bad:?}\n{}", dump(&out));
    let passed = outcomes.iter().filter(|(_, o)| o == "pass").count();
    assert!(
        passed >= 30,
        "only {passed} scenarios passed\n{}",
        dump(&out)
    );
    // Without triggers in the profile, the scenarios where the SUT calls the harness do not apply.
    for (s, o) in &outcomes {
        if o == "not-applicable" {
            assert!(s.starts_with("The SUT "), "{s} was not applicable");
        }
    }
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
}
