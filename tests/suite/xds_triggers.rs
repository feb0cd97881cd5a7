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
        &format!(
            "[sut]\nname = \"a document consumer driven by a trigger\"\n[simulator]\n\
             trigger_timeout_ms = 3000\n[triggers]\nconsumer_queries = {}\n",
            toml_string(trigger)
        ),
        "@role:simulator and @txn:ITI-18",
    )
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
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
