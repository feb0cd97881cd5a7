//! Triggers: the SUT profile says how to make the SUT act (a command line with placeholders, or a
//! prompt for the operator); the step runs it and waits, with a timeout, for the SUT's call at the
//! harness's simulated registry. Here the "SUT" is `curl` posting a stored query.

use std::time::Duration;

use crate::common::*;

/// A FindDocuments request for the patient of the MR-BRAIN fixture; `with_status` false leaves
/// out the required `$XDSDocumentEntryStatus` (ITI18-03).
fn query(with_status: bool) -> String {
    let status = if with_status {
        "<rim:Slot name=\"$XDSDocumentEntryStatus\"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>"
    } else {
        ""
    };
    format!(
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">\
<soap:Header><wsa:Action soap:mustUnderstand=\"true\">urn:ihe:iti:2007:RegistryStoredQuery</wsa:Action>\
<wsa:MessageID>urn:uuid:5b0c2d1e-7a4f-4c3b-9d2e-1f0a9b8c7d6e</wsa:MessageID>\
<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>\
<wsa:To soap:mustUnderstand=\"true\">http://harness/xds/registry</wsa:To></soap:Header>\
<soap:Body><query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\">\
<query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/>\
<rim:AdhocQuery id=\"urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d\">\
<rim:Slot name=\"$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>'CTH-0001^^^&amp;1.3.6.1.4.1.21367.13.20.1000&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>\
{status}</rim:AdhocQuery></query:AdhocQueryRequest></soap:Body></soap:Envelope>"
    )
}

fn run_with_trigger(trigger: &str) -> Run {
    run_profile(
        "xds-trigger",
        &trigger_profile(
            "a document consumer driven by a trigger",
            3000,
            "consumer_queries",
            trigger,
        ),
        "@role:simulator and @txn:ITI-18 and not @profile:XCA",
    )
}

fn curl_posting(file: &std::path::Path) -> String {
    format!(
        "curl -sS -o /dev/null -X POST -H 'Content-Type: application/soap+xml; charset=UTF-8' --data-binary @{} {{endpoint}}",
        file.display()
    )
}

#[test]
fn a_command_trigger_makes_the_sut_call_and_its_query_is_judged() {
    let dir = report_dir("xds-trigger-query");
    let good = dir.path().join("good.xml");
    std::fs::write(&good, query(true)).unwrap();
    let Run { out, results, .. } = run_with_trigger(&curl_posting(&good));
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    assert!(outcomes(&results).iter().all(|(_, o)| o == "pass"));

    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, query(false)).unwrap();
    let Run { out, results, .. } = run_with_trigger(&curl_posting(&bad));
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
    assert!(failed.iter().any(|c| c == "ITI18-03"), "{failed:?}");
}

#[test]
fn a_sut_that_never_calls_or_a_failing_trigger_is_an_error_within_the_timeout() {
    for trigger in ["true", "exit 3", "prompt: query the registry at {endpoint}"] {
        eprintln!("trigger: {trigger}");
        run_with_trigger(trigger).assert_errors_within(Duration::from_secs(20));
    }
}

/// The head of a Provide and Register request from an Imaging Document Source, left open: an
/// endless body follows.
const PNR_HEAD: &str = "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">\
<soap:Header><wsa:Action soap:mustUnderstand=\"true\">urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b</wsa:Action>\
<wsa:MessageID>urn:uuid:0d6c7b1e-3f2a-4e5b-8c9d-0a1b2c3d4e5f</wsa:MessageID></soap:Header>\
<soap:Body><xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\">";

/// A SUT whose request to the simulated Repository never ends: the simulator reads it up to
/// `[limits] max_body_bytes` (the default, 4 MiB), refuses it with 413 and a SOAP Fault, and the
/// scenario fails BODY-01 at once, in bounded memory, with the head of the body as evidence.
/// (Before, the simulator read 64 MiB, answered 413 without recording the request, and the
/// scenario waited out the trigger timeout to end as an Error "the SUT did not call".)
#[test]
fn an_endless_request_to_a_simulator_is_refused_at_the_limit_as_a_fail_of_body_01() {
    let dir = report_dir("xds-trigger-endless");
    let head = dir.path().join("head.xml");
    std::fs::write(&head, PNR_HEAD).unwrap();
    let status = dir.path().join("status");
    let answer = dir.path().join("answer");
    let trigger = format!(
        "(cat {}; yes '<rim:Slot name=\"x\"><rim:ValueList><rim:Value>0</rim:Value></rim:ValueList></rim:Slot>') \
         | curl -sS -o {} -w '%{{http_code}}' -X POST \
         -H 'Content-Type: application/soap+xml; charset=UTF-8; action=\"urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b\"' \
         -T - {{endpoint}} > {}; true",
        head.display(),
        answer.display(),
        status.display()
    );
    let m = run_profile_measured(
        "xds-endless-request",
        &trigger_profile(
            "an imaging document source that never stops sending",
            30000,
            "source_submits_manifest",
            &trigger,
        ),
        "@role:simulator and @txn:RAD-68",
    );
    m.assert_request_refused("endless request");
    let run = &m.run;
    let finding = run.results["scenarios"][0]["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["check"] == "BODY-01"))
        .cloned()
        .unwrap_or_default();
    let actual = finding["actual"].as_str().unwrap_or_default();
    assert!(
        actual.contains("/xds/repository") && actual.contains("max_body_bytes"),
        "{actual}"
    );
    // The SUT was answered: 413 with a SOAP 1.2 Fault.
    assert_eq!(std::fs::read_to_string(&status).unwrap_or_default(), "413");
    let fault = std::fs::read_to_string(&answer).unwrap_or_default();
    assert!(
        fault.contains("soap:Fault") && fault.contains("soap:Sender"),
        "{fault}"
    );
    // The evidence keeps the head of the request (at most evidence_bytes_per_exchange).
    let record = run.results["scenarios"][0]["evidence"][0]
        .as_str()
        .unwrap_or_default();
    let folder = m.reports.join(record);
    let folder = folder.parent().unwrap();
    let excerpt = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-request.excerpt"))
        .unwrap_or_else(|| panic!("no request excerpt in {}", folder.display()));
    let kept = std::fs::read(excerpt).unwrap();
    assert!(kept.starts_with(PNR_HEAD.as_bytes()));
    assert!(kept.len() <= 2 * 1024 * 1024, "{} bytes kept", kept.len());
}
