//! XCA-I with the SUT as Responding Imaging Gateway, across processes: `ihe-harness run` as
//! Initiating Imaging Gateway against the Responding Imaging Gateway of `ihe-harness serve`. The
//! gateway is reached only through its `[xca_i]` endpoint, so every RAD-75 the harness builds
//! (HomeCommunityId in every DocumentRequest, MTOM/XOP) goes over a real socket to a separate
//! server and is answered by it. A profile without `[xca_i]` makes the scenarios not applicable.
//!
//! The cross-border use case runs the same way with the images of community A in the real Orthanc:
//! `serve --wado-upstream` maps the gateway's Imaging Document Source onto Orthanc's WADO-RS.

use crate::common::*;

/// The homeCommunityId of the reference's communities' gateways.
const HOME: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.201";

fn gateways(http: u16) -> String {
    format!(
        r#"[xca]
responding_gateway_query_url = "http://127.0.0.1:{http}/xca/responding-gateway/query"
responding_gateway_retrieve_url = "http://127.0.0.1:{http}/xca/responding-gateway/retrieve"
home_community_ids = ["{HOME}"]
[xca_i]
responding_imaging_gateway_url = "http://127.0.0.1:{http}/xca-i/responding-imaging-gateway"
home_community_ids = ["{HOME}"]
"#
    )
}

#[test]
fn the_harness_as_initiating_imaging_gateway_passes_against_a_served_responding_imaging_gateway() {
    let (_server, http) = serve_reference(None);
    let profile = format!(
        "[sut]\nname = \"ihe-harness serve (Responding Imaging Gateway)\"\n{}[test_data]\nmode = \"preloaded\"\n",
        gateways(http)
    );
    let run = run_profile(
        "xcai-serve",
        &profile,
        "@profile:XCA-I and not @actor:InitiatingImagingGateway",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 11, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
}

#[test]
fn a_gateway_whose_community_is_not_the_profiles_fails_xcai_04() {
    // The profile says the gateway represents another community: the harness names that one,
    // which the gateway refuses as unknown, and every error it locates at its own community is
    // elsewhere than the profile says.
    let (_server, http) = serve_reference(None);
    let profile = format!(
        r#"[sut]
name = "ihe-harness serve (another community configured)"
[xca_i]
responding_imaging_gateway_url = "http://127.0.0.1:{http}/xca-i/responding-imaging-gateway"
home_community_ids = ["urn:oid:1.2.3.4.5"]
[test_data]
mode = "preloaded"
"#
    );
    let run = run_profile(
        "xcai-serve-other",
        &profile,
        "@actor:RespondingImagingGateway",
    );
    let failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert!(
        failed.iter().any(|c| c == "XCAI-04"),
        "{failed:?}\n{}",
        dump(&run.out)
    );
}

#[test]
fn without_an_xca_i_table_the_scenarios_are_not_applicable() {
    let (_server, http) = serve_reference(None);
    let profile = format!(
        r#"[sut]
name = "ihe-harness serve (no imaging gateway declared)"
[xds]
registry_url = "http://127.0.0.1:{http}/xds/registry"
[test_data]
mode = "preloaded"
"#
    );
    let run = run_profile(
        "xcai-none",
        &profile,
        "@profile:XCA-I and not @actor:InitiatingImagingGateway",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 11, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "not-applicable"),
        "{outcomes:?}"
    );
}

/// UC3 across borders with Orthanc as community A's image source: the harness plays country B's
/// gateways (ITI-38, ITI-39, RAD-75) against community A's gateways in `serve`, whose Imaging
/// Document Source answers from Orthanc's WADO-RS. The test studies are loaded into Orthanc by the
/// run (the Orthanc profile's load mode), so the images the manifest references come from there.
#[test]
fn the_cross_border_use_case_passes_with_orthanc_as_community_a_image_source() {
    let _orthanc = orthanc_lock();
    let Some(profile) = orthanc_profile() else {
        return;
    };
    let full = std::fs::read_to_string(&profile).unwrap();
    // Only the DICOMweb part: the DIMSE simulator's fixed port belongs to another test.
    let text = full.split("\n[dimse]").next().unwrap_or(&full).to_string();
    let base = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("base_url = "))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("the Orthanc profile names its base_url");
    let (_server, http) = serve_reference(Some(&base));
    let profile = format!("{text}\n{}", gateways(http)).replace(
        "[sut]\n",
        "[sut]\n# community A's gateways in `ihe-harness serve`, its images in Orthanc\n",
    );
    let run = run_profile(
        "xcai-cross-border-orthanc",
        &profile,
        "@uc:UC3 and @profile:XCA-I and @profile:XCA",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 1, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));

    // The images came through the gateway from Orthanc: with an image source that does not
    // answer behind the same gateway, the manifest is still found and retrieved, but no image is.
    let closed = free_port();
    let (_dead, http) = serve_reference(Some(&format!("http://127.0.0.1:{closed}/dicom-web")));
    let profile = format!("{text}\n{}", gateways(http));
    let run = run_profile(
        "xcai-cross-border-no-source",
        &profile,
        "@uc:UC3 and @profile:XCA-I and @profile:XCA",
    );
    let failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert!(
        failed.iter().any(|c| c == "XDSI-10"),
        "{failed:?}\n{}",
        dump(&run.out)
    );
}
