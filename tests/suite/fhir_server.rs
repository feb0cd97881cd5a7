//! The MHD, MADO and report scenarios against a real FHIR server: Medplum's FHIR engine from the
//! npm registry (in memory, behind `ci/fhir-memory-server.cjs`) as Document Recipient and Document
//! Responder, started by `ci/test.sh`, with the Orthanc of `ci/start-orthanc.sh` as the image source
//! of the UC3 chain. The harness publishes the documents of the test studies with ITI-65 first, then
//! runs every `@profile:MHD` scenario. The server's real deviations are Fails with evidence, pinned
//! in `tests/suite/known-deviations/medplum.txt`: a new deviation and a lost detection both break this
//! test. Checks are never weakened to make a real server pass.

use crate::common::*;

fn pinned() -> Pins {
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
                .must
                .iter()
                .any(|(s, _)| s.starts_with("Find, retrieve and cross-check")),
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

/// The real FHIR server's CapabilityStatement judged as if the profile claimed the HL7 Europe
/// imaging Document Access Provider: the engine's statement declares its system interactions
/// only (no resources, no search parameters), so EUAPI-01 fails on what the statement leaves
/// out, with the exchange as evidence. The check is not tuned to this server: the same statement
/// shape fails in the check's unit tests.
#[test]
fn a_real_statement_that_declares_no_resources_fails_euapi_01() {
    let Ok(profile) = std::env::var("IHE_HARNESS_FHIR_PROFILE") else {
        eprintln!("IHE_HARNESS_FHIR_PROFILE is not set: ci/test.sh starts the FHIR server and sets it; skipping");
        return;
    };
    let text = std::fs::read_to_string(&profile).unwrap();
    let claimed = text.replacen("[mhd]\n", "[mhd]\neu_imaging_api = true\n", 1);
    assert_ne!(claimed, text, "the profile has an [mhd] table");
    let dir = report_dir("fhir-eu-api");
    let claimed_path = dir.path().join("claims-eu-api.toml");
    std::fs::write(&claimed_path, claimed).unwrap();
    let out = harness(&[
        "run",
        "--sut",
        claimed_path.to_str().unwrap(),
        "--tags",
        "@profile:EU-API and @req:EUAPI-01",
        "--report-dir",
        dir.path().to_str().unwrap(),
    ]);
    let results = results(dir.path());
    let fails = failures(&results);
    assert!(
        fails.iter().any(|(_, check)| check == "EUAPI-01"),
        "{fails:?}\n{}",
        dump(&out)
    );
    let text = serde_json::to_string(&results).unwrap();
    assert!(
        text.contains("no DocumentReference resource"),
        "{}",
        dump(&out)
    );
}

/// The cross-border flow over real servers in two roles: the CI FHIR server as the home
/// community's Document Responder (report and manifest over MHD) and Orthanc as its image source,
/// fronted by the XC-WADO Responding Imaging Gateway of a separate `serve` process
/// (`--wado-upstream`). The images that cross the border through the gateway are exactly those the
/// manifest references.
#[test]
fn the_cross_border_flow_brings_orthanc_images_through_xc_wado() {
    let _orthanc = orthanc_lock();
    let Ok(profile) = std::env::var("IHE_HARNESS_FHIR_PROFILE") else {
        eprintln!("IHE_HARNESS_FHIR_PROFILE is not set: ci/test.sh starts the FHIR server and sets it; skipping");
        return;
    };
    let text = std::fs::read_to_string(&profile).unwrap();
    let image_source = text
        .split("[dicomweb]")
        .nth(1)
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.trim().strip_prefix("base_url = "))
                .map(|v| v.trim().trim_matches('"').to_string())
        })
        .expect("the FHIR profile names its image source");
    let (_served, port) = serve_reference(Some(&image_source));
    let dir = report_dir("fhir-xc-wado");
    let across = format!(
        "{text}\n[xc_wado]\nresponding_gateway_base = \"http://127.0.0.1:{port}/xc-wado/responding-gateway\"\n\
         home_community_id = \"urn:oid:1.3.6.1.4.1.21367.13.70.201\"\n\
         retrieve_location_uid = \"1.3.6.1.4.1.21367.13.71.201.1\"\n"
    );
    let (out, reports) = run_profile_in(
        dir.path(),
        &across,
        "@profile:XC-WADO and @profile:MHD and @uc:UC3",
    );
    let results = results(&reports);
    let outcomes = outcomes(&results);
    assert_eq!(outcomes.len(), 1, "{outcomes:?}\n{}", dump(&out));
    assert_eq!(outcomes[0].1, "pass", "{}", dump(&out));
    let json = serde_json::to_string(&results).unwrap();
    assert!(json.contains("RAD-160"), "{}", dump(&out));
}
