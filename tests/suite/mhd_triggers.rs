//! MHD triggers end to end: the "SUT" is `curl` sending an ITI-66 Find Document Lists to the
//! harness's simulated Document Responder, and the consumer rule (MHD-12) judges what it sent.

use std::time::Duration;

use crate::common::*;

fn run_with_trigger(trigger: &str) -> Run {
    run_profile(
        "mhd-trigger",
        &format!(
            "[sut]\nname = \"a document consumer driven by a trigger\"\n[simulator]\n\
             trigger_timeout_ms = 3000\n[triggers]\nconsumer_finds_lists = \"{}\"\n",
            trigger.replace('\\', "\\\\").replace('"', "\\\"")
        ),
        "@role:simulator and @txn:ITI-66",
    )
}

/// `curl` asking the simulator's List endpoint with `query` added to the patient.
fn curl_lists(query: &str) -> String {
    format!(
        "curl -sS -o /dev/null -H 'Accept: application/fhir+json' \
         '{{endpoint}}/List?patient.identifier={{patient_system}}%7C{{patient_id}}{query}'"
    )
}

#[test]
fn a_consumer_trigger_is_judged_by_the_iti66_rule() {
    let good = run_with_trigger(&curl_lists(
        "&code=https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes%7Csubmissionset&status=current",
    ));
    assert_eq!(good.out.status.code(), Some(0), "{}", dump(&good.out));
    assert!(outcomes(&good.results).iter().all(|(_, o)| o == "pass"));

    // ITI TF-2 3.66.4.1.2.1: code and status are required; without them MHD-12 fails.
    let bad = run_with_trigger(&curl_lists(""));
    assert_eq!(bad.out.status.code(), Some(1), "{}", dump(&bad.out));
    let failed: Vec<String> = failures(&bad.results).into_iter().map(|(_, c)| c).collect();
    assert_eq!(failed, ["MHD-12"], "{}", dump(&bad.out));
}

#[test]
fn a_consumer_that_never_calls_is_an_error_within_the_timeout() {
    run_with_trigger("true").assert_errors_within(Duration::from_secs(20));
}
