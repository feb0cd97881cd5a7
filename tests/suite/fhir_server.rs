//! The MHD, MADO and report scenarios against a real FHIR server: Medplum's FHIR engine from the
//! npm registry (in memory, behind `ci/fhir-memory-server.cjs`) as Document Recipient and Document
//! Responder, started by `ci/test.sh`, with the Orthanc of `ci/start-orthanc.sh` as the image source
//! of the UC3 chain. The harness publishes the documents of the test studies with ITI-65 first, then
//! runs every `@profile:MHD` scenario. The server's real deviations are Fails with evidence, pinned
//! in `tests/suite/known-deviations/medplum.txt`: a new deviation and a lost detection both break this
//! test. Checks are never weakened to make a real server pass.

use crate::common::*;

fn pinned() -> Vec<(String, String)> {
    pinned_from(include_str!("known-deviations/medplum.txt"))
}

#[test]
fn fhir_server_reports_only_the_pinned_deviations() {
    let _orthanc = orthanc_lock();
    let Ok(profile) = std::env::var("IHE_HARNESS_FHIR_PROFILE") else {
        eprintln!("IHE_HARNESS_FHIR_PROFILE is not set: ci/test.sh starts the FHIR server and sets it; skipping");
        return;
    };
    let dir = report_dir("fhir-server");
    let out = harness(&[
        "run",
        "--sut",
        &profile,
        "--tags",
        "@profile:MHD",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    let results = results(dir.path());
    let outcomes = outcomes(&results);
    let want = pinned();
    assert_only_pinned(&results, &want, &out);
    // The UC3 chain ran end to end (report, manifest and Orthanc's images agree).
    let chain = outcomes
        .iter()
        .find(|(name, _)| name.starts_with("Find, retrieve and cross-check"))
        .map(|(_, o)| o.clone());
    assert!(
        chain.as_deref() == Some("pass")
            || want
                .iter()
                .any(|(_, s)| s.starts_with("Find, retrieve and cross-check")),
        "UC3 chain: {chain:?}\n{}",
        dump(&out)
    );
    let passed = outcomes.iter().filter(|(_, o)| o == "pass").count();
    assert!(
        passed >= 15,
        "only {passed} scenarios passed\n{}",
        dump(&out)
    );
}
