//! XCA with the SUT as Initiating Gateway, across processes: `ihe-harness serve` plays the
//! gateway under test and `ihe-harness run` plays the Document Consumer in front of it and the
//! Responding Gateways of communities A and B behind it, on the run's simulator (`[simulator]
//! bind`), which the served gateway is pointed at (`--xca-responding-gateways`). Every ITI-18 and
//! ITI-43 the harness sends, and every ITI-38 and ITI-39 the gateway fans out, goes over a real
//! socket between the two processes.

use crate::common::*;

fn profile(http: u16, sim: u16) -> String {
    format!(
        r#"[sut]
name = "ihe-harness serve (Initiating Gateway)"
[xca]
initiating_gateway_query_url = "http://127.0.0.1:{http}/xca/initiating-gateway/query"
initiating_gateway_retrieve_url = "http://127.0.0.1:{http}/xca/initiating-gateway/retrieve"
[simulator]
bind = "127.0.0.1:{sim}"
[test_data]
mode = "preloaded"
"#
    )
}

#[test]
fn a_served_initiating_gateway_passes_in_front_of_the_harness_communities() {
    let sim = free_port();
    let (_server, http) = serve_gateway_in_front_of(sim, &[]);
    let run = run_profile(
        "xca-ig-serve",
        &profile(http, sim),
        "@actor:InitiatingGateway",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 10, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
}

#[test]
fn a_served_gateway_that_keeps_one_community_fails_xca_01() {
    let sim = free_port();
    let (_server, http) = serve_gateway_in_front_of(sim, &["xca-ig-drops-community"]);
    let run = run_profile(
        "xca-ig-serve-drops",
        &profile(http, sim),
        "@actor:InitiatingGateway and @req:XCA-01",
    );
    let failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert!(
        failed.iter().any(|c| c == "XCA-01"),
        "{failed:?}\n{}",
        dump(&run.out)
    );
}

#[test]
fn without_initiating_gateway_endpoints_the_scenarios_are_not_applicable() {
    let profile = r#"[sut]
name = "a Responding Gateway only"
[xca]
responding_gateway_query_url = "http://127.0.0.1:9/xca/query"
home_community_ids = ["urn:oid:1.2.3.4.5"]
[test_data]
mode = "preloaded"
"#;
    let run = run_profile("xca-ig-none", profile, "@actor:InitiatingGateway");
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 10, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "not-applicable"),
        "{outcomes:?}"
    );
}
