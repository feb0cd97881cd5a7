//! The Python dicomweb-client (0.61.2, installed by ci/install-dicomweb-client.sh) as the SUT
//! DICOMweb user agent: the profile's triggers make it search, retrieve from and store into the
//! harness's origin server (the simulator's `/origin/dicom-web`), and the harness judges the
//! requests it received (DWUA-01..05). `curl` command lines that ask wrongly (an Accept the
//! resource cannot be, a path that is no PS3.18 resource, a search key that is no keyword, a JPEG
//! part in a STOW-RS request) fail the check that reads them.

use std::path::PathBuf;

use crate::common::{dump, failures, free_port, outcomes, root, run_profile};

/// The selection of this file's runs: the user-agent scenarios.
const TAGS: &str = "@role:simulator and @profile:DICOMweb";

/// The venv of ci/install-dicomweb-client.sh.
fn venv() -> PathBuf {
    std::env::var_os("IHE_HARNESS_DICOMWEB_CLIENT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/ihe-harness-dicomweb-client"))
}

fn client_missing() -> bool {
    let ok = std::process::Command::new(venv().join("bin/python"))
        .args(["-c", "import dicomweb_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: the Python dicomweb-client is not installed in {} (run ci/install-dicomweb-client.sh)",
            venv().display()
        );
    }
    !ok
}

/// A profile with the harness's simulator on a free port and these triggers.
fn profile(triggers: &str) -> String {
    format!(
        "[sut]\nname = \"DICOMweb user agent\"\n[simulator]\nbind = \"127.0.0.1:{}\"\n\
         trigger_timeout_ms = 30000\n[triggers]\n{triggers}",
        free_port()
    )
}

#[test]
fn dicomweb_client_searches_retrieves_and_stores_as_asked() {
    if client_missing() {
        return;
    }
    let log = tempfile::NamedTempFile::new().unwrap();
    let line = format!(
        "{} {} {} {{dicomweb_base}} {{action}} '{{study_uid}}' '{{series_uid}}' '{{instance_uid}}' '{{frames}}' '{{dicom_patient_id}}' '{{media_type}}' {{files}}",
        venv().join("bin/python").display(),
        root().join("tests/suite/dicomweb_client_agent.py").display(),
        log.path().display(),
    );
    let triggers = format!(
        "dicomweb_client_searches = \"{line}\"\ndicomweb_client_retrieves = \"{line}\"\ndicomweb_client_stores = \"{line}\"\n"
    );
    let run = run_profile("dicomweb-client", &profile(&triggers), TAGS);
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 7, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    // The client got what it asked for: each action ended well.
    let done = std::fs::read_to_string(log.path()).unwrap_or_default();
    assert_eq!(done.lines().count(), 7, "{done}\n{}", dump(&run.out));
}

#[test]
fn curl_with_a_bad_accept_fails_dwua_01_except_where_the_resource_can_be_that() {
    let triggers =
        "dicomweb_client_retrieves = \"curl -s -o /dev/null -H 'Accept: text/html' '{url}'\"\n";
    let run = run_profile(
        "dicomweb-ua-bad-accept",
        &profile(triggers),
        &format!("{TAGS} and @txn:RAD-107"),
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 4, "{outcomes:?}\n{}", dump(&run.out));
    // text/html is a rendered media type (PS3.18 §8.7.4): the rendered retrieve passes.
    for (s, o) in &outcomes {
        let want = if s.contains("rendered") {
            "pass"
        } else {
            "fail"
        };
        assert_eq!(o, want, "{s}\n{}", dump(&run.out));
    }
    let checks: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert_eq!(checks, ["DWUA-01"; 3], "{}", dump(&run.out));
}

#[test]
fn curl_on_a_path_that_is_no_ps318_resource_fails_dwua_02() {
    let triggers = "dicomweb_client_retrieves = \"curl -s -o /dev/null '{dicomweb_base}/study/{study_uid}'\"\n";
    let run = run_profile(
        "dicomweb-ua-bad-path",
        &profile(triggers),
        &format!("{TAGS} and @txn:RAD-107"),
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 4, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "fail"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    let checks: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert_eq!(checks, ["DWUA-02"; 4], "{}", dump(&run.out));
}

#[test]
fn curl_searching_by_a_key_that_is_no_keyword_fails_dwua_03() {
    let triggers = "dicomweb_client_searches = \"curl -s -o /dev/null -H 'Accept: application/dicom+json' '{dicomweb_base}/studies?patientid={dicom_patient_id}'\"\n";
    let run = run_profile(
        "dicomweb-ua-bad-key",
        &profile(triggers),
        &format!("{TAGS} and @txn:RAD-129"),
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 2, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "fail"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    let by_scenario = failures(&run.results);
    assert!(
        by_scenario.iter().filter(|(_, c)| c == "DWUA-03").count() == 2,
        "{by_scenario:?}\n{}",
        dump(&run.out)
    );
}

#[test]
fn curl_storing_a_jpeg_part_fails_dwua_05() {
    // A JPEG (SOI, EOI) as the part of a STOW-RS request; printf with octal escapes, which every
    // POSIX sh knows.
    let triggers = "dicomweb_client_stores = '''printf -- '--B\\r\\nContent-Type: image/jpeg\\r\\n\\r\\n\\377\\330\\377\\331\\r\\n--B--\\r\\n' | curl -s -o /dev/null -H 'Content-Type: multipart/related; type=\"application/dicom\"; boundary=B' -H 'Accept: application/dicom+json' --data-binary @- '{dicomweb_base}/studies' '''\n";
    let run = run_profile(
        "dicomweb-ua-stow-jpeg",
        &profile(triggers),
        &format!("{TAGS} and @txn:RAD-108"),
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(
        outcomes,
        [(
            "The SUT stores a series into the harness with STOW-RS".to_string(),
            "fail".to_string()
        )],
        "{}",
        dump(&run.out)
    );
    let checks: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert_eq!(checks, ["DWUA-05"], "{}", dump(&run.out));
}

#[test]
fn a_profile_without_the_triggers_leaves_the_scenarios_not_applicable() {
    let run = run_profile(
        "dicomweb-ua-none",
        &profile("modality_stores = \"true\"\n"),
        TAGS,
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 7, "{outcomes:?}\n{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "not-applicable"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
}
