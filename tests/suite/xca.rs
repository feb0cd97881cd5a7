//! XCA with the SUT as Responding Gateway, across processes: `ihe-harness run` as Initiating
//! Gateway against the Responding Gateway of `ihe-harness serve` (no other gateway installs here:
//! the NIST toolkit and IPF need a Java servlet stack). The gateway is reached only through its
//! `[xca]` endpoints, so every request the harness builds (ITI-38 with and without `home`, ITI-39
//! with HomeCommunityId, MTOM/XOP) goes over a real socket to a separate server and is answered
//! by it. A profile without `[xca]` makes the scenarios not applicable.

use crate::common::*;

#[test]
fn the_harness_as_initiating_gateway_passes_against_a_served_responding_gateway() {
    let (_server, http) = serve_reference(None);
    let profile = format!(
        r#"[sut]
name = "ihe-harness serve (Responding Gateway)"
[xca]
responding_gateway_query_url = "http://127.0.0.1:{http}/xca/responding-gateway/query"
responding_gateway_retrieve_url = "http://127.0.0.1:{http}/xca/responding-gateway/retrieve"
home_community_ids = ["urn:oid:1.3.6.1.4.1.21367.13.70.201"]
[test_data]
mode = "preloaded"
"#
    );
    let run = run_profile(
        "xca-serve",
        &profile,
        "@profile:XCA and @actor:RespondingGateway",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 7, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "pass"),
        "{outcomes:?}\n{}",
        dump(&run.out)
    );
    assert_eq!(run.out.status.code(), Some(0), "{}", dump(&run.out));
}

#[test]
fn a_gateway_whose_community_is_not_the_profiles_fails_iti38_01() {
    // The profile says the gateway represents another community: every `home` it returns is
    // then foreign to it, and the harness names that community in its requests, which the
    // gateway refuses as unknown.
    let (_server, http) = serve_reference(None);
    let profile = format!(
        r#"[sut]
name = "ihe-harness serve (another community configured)"
[xca]
responding_gateway_query_url = "http://127.0.0.1:{http}/xca/responding-gateway/query"
home_community_ids = ["urn:oid:1.2.3.4.5"]
[test_data]
mode = "preloaded"
"#
    );
    let run = run_profile("xca-serve-other", &profile, "@profile:XCA and @txn:ITI-38");
    let failed: Vec<String> = failures(&run.results).into_iter().map(|(_, c)| c).collect();
    assert!(
        failed.iter().any(|c| c == "ITI38-01"),
        "{failed:?}\n{}",
        dump(&run.out)
    );
}

#[test]
fn without_an_xca_table_the_scenarios_are_not_applicable() {
    let (_server, http) = serve_reference(None);
    let profile = format!(
        r#"[sut]
name = "ihe-harness serve (no gateway declared)"
[xds]
registry_url = "http://127.0.0.1:{http}/xds/registry"
[test_data]
mode = "preloaded"
"#
    );
    let run = run_profile(
        "xca-none",
        &profile,
        "@profile:XCA and @actor:RespondingGateway",
    );
    let outcomes = outcomes(&run.results);
    assert_eq!(outcomes.len(), 7, "{}", dump(&run.out));
    assert!(
        outcomes.iter().all(|(_, o)| o == "not-applicable"),
        "{outcomes:?}"
    );
}
