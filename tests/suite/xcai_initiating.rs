//! XCA-I with the SUT as Initiating Imaging Gateway, across processes: `ihe-harness serve` plays
//! the gateway under test and `ihe-harness run` plays the Imaging Document Consumer in front of it
//! and the Responding Imaging Gateways of communities A and B behind it, on the run's simulator
//! (`[simulator] bind`), which the served gateway is pointed at (`--xca-responding-gateways`, whose
//! server also serves `/xca-i`). Every RAD-69 the harness sends, and every RAD-75 the gateway fans
//! out, goes over a real socket between the two processes.

use crate::common::*;

fn profile(http: u16, sim: u16) -> String {
    format!(
        r#"[sut]
name = "ihe-harness serve (Initiating Imaging Gateway)"
[xca_i]
initiating_imaging_gateway_url = "http://127.0.0.1:{http}/xca-i/initiating-imaging-gateway"
[simulator]
bind = "127.0.0.1:{sim}"
[test_data]
mode = "preloaded"
"#
    )
}

#[test]
fn a_served_initiating_imaging_gateway_passes_in_front_of_the_harness_communities() {
    let sim = free_port();
    let (_server, http) = serve_gateway_in_front_of(sim, &[]);
    let run = run_profile(
        "xcai-iig-serve",
        &profile(http, sim),
        "@actor:InitiatingImagingGateway",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 4, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
}

#[test]
fn a_served_imaging_gateway_that_sends_everything_to_one_community_fails_xcai_09() {
    let sim = free_port();
    let (_server, http) = serve_gateway_in_front_of(sim, &["xcai-iig-sends-all-to-one-rig"]);
    let run = run_profile(
        "xcai-iig-serve-one-rig",
        &profile(http, sim),
        "@actor:InitiatingImagingGateway and @req:XCAI-09",
    );
    let failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert!(
        failed.iter().any(|c| c == "XCAI-09"),
        "{failed:?}\n{}",
        dump(&run.out)
    );
}

#[test]
fn without_an_initiating_imaging_gateway_the_scenarios_are_not_applicable() {
    let profile = r#"[sut]
name = "a Responding Imaging Gateway only"
[xca_i]
responding_imaging_gateway_url = "http://127.0.0.1:9/xca-i/responding-imaging-gateway"
home_community_ids = ["urn:oid:1.2.3.4.5"]
[test_data]
mode = "preloaded"
"#;
    let run = run_profile("xcai-iig-none", profile, "@actor:InitiatingImagingGateway");
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 4, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "not-applicable"),
        "{outcomes:?}"
    );
}
