//! MHD triggers end to end: the "SUT" is `curl` sending an ITI-66 Find Document Lists to the
//! harness's simulated Document Responder, and the consumer rule (MHD-12) judges what it sent.

use std::time::Duration;

use crate::common::*;

fn run_with_trigger(trigger: &str) -> Run {
    run_profile(
        "mhd-trigger",
        &trigger_profile(
            "a document consumer driven by a trigger",
            3000,
            "consumer_finds_lists",
            trigger,
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

/// A SUT document source whose ITI-65 request never ends, or holds more JSON values than the
/// harness parses: the simulated Document Recipient stops reading at `[limits]`, answers 413 with
/// an OperationOutcome (issue code too-long), and the scenario fails BODY-01 within the timeout,
/// in bounded memory.
#[test]
fn an_oversized_provide_bundle_is_refused_at_the_limit_as_a_fail_of_body_01() {
    let dir = report_dir("mhd-trigger-endless");
    let answer = dir.path().join("answer");
    let status = dir.path().join("status");
    let head = r#"{"resourceType":"Bundle","type":"transaction","entry":["#;
    let post = |source: &str| {
        format!(
            "({source}) | curl -sS -o {} -w '%{{http_code}}' -X POST \
             -H 'Content-Type: application/fhir+json' -T - {{endpoint}} > {}; true",
            answer.display(),
            status.display()
        )
    };
    let endless = post(&format!(
        "printf '%s' '{head}'; yes '{{\"fullUrl\":\"urn:uuid:0\"}},'"
    ));
    // 200 000 values in 400 kB: within max_body_bytes, past max_parsed_nodes.
    let many = post(&format!(
        "printf '%s' '{head}'; yes '0,' | head -c 600000 | tr -d '\\n'; printf '0]}}'"
    ));
    for (what, trigger, key) in [
        ("endless", endless, "max_body_bytes"),
        ("many values", many, "max_parsed_nodes"),
    ] {
        let m = run_profile_measured(
            "mhd-endless-request",
            &trigger_profile(
                "a document source that sends too much",
                30000,
                "source_provides_bundle",
                &trigger,
            ),
            "@role:simulator and @txn:ITI-65",
        );
        m.assert_request_refused(what);
        let stdout = String::from_utf8_lossy(&m.run.out.stdout);
        assert!(stdout.contains(key), "{what}\n{stdout}");
        assert_eq!(std::fs::read_to_string(&status).unwrap_or_default(), "413");
        let oo: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&answer).unwrap_or_default()).unwrap_or_default();
        assert_eq!(oo["resourceType"], "OperationOutcome", "{what}: {oo}");
        assert_eq!(oo["issue"][0]["code"], "too-long", "{what}: {oo}");
    }
}
