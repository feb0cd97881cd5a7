//! XCA with the SUT as Document Consumer across communities: a real HTTP client (`curl`, driven
//! by the `consumer_queries_across` trigger) posts a FindDocuments for the patient to the
//! harness's Initiating Gateway, then a GetDocuments for the manifest and a Retrieve Document Set
//! of it, with or without the community its entry came with. The test studies' manifests are
//! split between communities A and B: the patient's first study (MR-BRAIN) is in A, CT-CHEST in
//! B.

use crate::common::*;

const COMMUNITY_A: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.101";
const COMMUNITY_B: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.102";

fn envelope(action: &str, message_id: &str, body: &str) -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">\
<soap:Header><wsa:Action soap:mustUnderstand=\"true\">{action}</wsa:Action>\
<wsa:MessageID>urn:uuid:{message_id}</wsa:MessageID>\
<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>\
<wsa:To soap:mustUnderstand=\"true\">http://harness/xca/initiating-gateway</wsa:To></soap:Header>\
<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

/// A stored query: FindDocuments of the patient CTH-0001, or GetDocuments of the manifest `@UID@`
/// (filled in by the trigger) with `home` when given.
fn stored_query(get: bool, home: Option<&str>) -> String {
    let (id, home, slots) = if get {
        (
            "5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4",
            home.map(|h| format!(" home=\"{h}\"")).unwrap_or_default(),
            "<rim:Slot name=\"$XDSDocumentEntryUniqueId\"><rim:ValueList><rim:Value>('@UID@')</rim:Value></rim:ValueList></rim:Slot>".to_string(),
        )
    } else {
        (
            "14d4debf-8f97-4251-9a74-a90016b0af0d",
            String::new(),
            "<rim:Slot name=\"$XDSDocumentEntryPatientId\"><rim:ValueList><rim:Value>'CTH-0001^^^&amp;1.3.6.1.4.1.21367.13.20.1000&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>\
<rim:Slot name=\"$XDSDocumentEntryStatus\"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>".to_string(),
        )
    };
    envelope(
        "urn:ihe:iti:2007:RegistryStoredQuery",
        if get {
            "8a1d3c2e-4b5f-4a6e-9c7d-2e3f4a5b6c7d"
        } else {
            "7f0e1d2c-3b4a-4958-8776-6a5b4c3d2e1f"
        },
        &format!(
            "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\">\
<query:ResponseOption returnComposedObjects=\"true\" returnType=\"LeafClass\"/>\
<rim:AdhocQuery id=\"urn:uuid:{id}\"{home}>{slots}</rim:AdhocQuery></query:AdhocQueryRequest>"
        ),
    )
}

/// A Retrieve Document Set of the manifest `@UID@`, with HomeCommunityId when given.
fn retrieve(home: Option<&str>) -> String {
    let home = home
        .map(|h| format!("<xdsb:HomeCommunityId>{h}</xdsb:HomeCommunityId>"))
        .unwrap_or_default();
    envelope(
        "urn:ihe:iti:2007:RetrieveDocumentSet",
        "9b2e4d3f-5c6a-4b7f-8d9e-3f4a5b6c7d8e",
        &format!(
            "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\"><xdsb:DocumentRequest>{home}\
<xdsb:RepositoryUniqueId>1.3.6.1.4.1.21367.13.80.120</xdsb:RepositoryUniqueId>\
<xdsb:DocumentUniqueId>@UID@</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>"
        ),
    )
}

/// Run the scenarios of `tags` with a curl consumer that names `get_home` in its GetDocuments and
/// `retrieve_home` in its retrieve.
fn across(name: &str, tags: &str, get_home: Option<&str>, retrieve_home: Option<&str>) -> Run {
    let dir = report_dir(name);
    let find = dir.path().join("find.xml");
    let get = dir.path().join("get.xml");
    let ret = dir.path().join("retrieve.xml");
    std::fs::write(&find, stored_query(false, None)).unwrap();
    std::fs::write(&get, stored_query(true, get_home)).unwrap();
    std::fs::write(&ret, retrieve(retrieve_home)).unwrap();
    let post =
        "curl -sS -o /dev/null -X POST -H 'Content-Type: application/soap+xml; charset=UTF-8'";
    let trigger = format!(
        "{post} --data-binary @{find} {{registry}} && \
         sed 's/@UID@/{{manifest_uid}}/' {get} | {post} --data-binary @- {{registry}} && \
         sed 's/@UID@/{{manifest_uid}}/' {ret} | {post} --data-binary @- {{repository}}",
        find = find.display(),
        get = get.display(),
        ret = ret.display(),
    );
    run_profile(
        name,
        &trigger_profile(
            "a document consumer across communities driven by a trigger",
            5000,
            "consumer_queries_across",
            &trigger,
        ),
        tags,
    )
}

const QUERY: &str = "@profile:XCA and @actor:DocumentConsumer and @txn:ITI-18";
const RETRIEVE: &str = "@profile:XCA and @actor:DocumentConsumer and @txn:ITI-43";

#[test]
fn a_curl_consumer_that_names_the_community_passes_and_one_that_does_not_fails_xca_08() {
    // CT-CHEST's manifest is in community B.
    let Run { out, results, .. } = across("xca-consumer-get", QUERY, Some(COMMUNITY_B), None);
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let o = outcomes(&results);
    assert!(!o.is_empty() && o.iter().all(|(_, o)| o == "pass"), "{o:?}");

    for (name, home) in [
        ("xca-consumer-get-none", None),
        ("xca-consumer-get-a", Some(COMMUNITY_A)),
    ] {
        let Run { out, results, .. } = across(name, QUERY, home, None);
        assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
        let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
        assert_eq!(failed, ["XCA-08"], "{}", dump(&out));
    }
}

#[test]
fn a_curl_consumer_that_retrieves_with_the_community_passes_and_one_without_fails_xca_09() {
    // MR-BRAIN's manifest is in community A.
    let Run { out, results, .. } = across(
        "xca-consumer-retrieve",
        RETRIEVE,
        Some(COMMUNITY_A),
        Some(COMMUNITY_A),
    );
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    let o = outcomes(&results);
    assert!(!o.is_empty() && o.iter().all(|(_, o)| o == "pass"), "{o:?}");

    let Run { out, results, .. } = across(
        "xca-consumer-retrieve-none",
        RETRIEVE,
        Some(COMMUNITY_A),
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", dump(&out));
    let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
    assert_eq!(failed, ["XCA-09"], "{}", dump(&out));
}
