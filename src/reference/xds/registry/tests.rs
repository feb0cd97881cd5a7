//! Tests of the registry's shared parts, and the test metadata the tests of every part use: a
//! submission builder, a registry with two known patients and query helpers.

use super::*;
pub(super) use crate::checks::xds::rules as xds_rules;
pub(super) use crate::checks::Level;
pub(super) use crate::model::ebrim::{
    self, AdhocQueryRequest, AdhocQueryResponse, QueryParam, RegistryError, SubmitObjectsRequest,
    ASSOC_HAS_MEMBER, DE_CLASS_CODE, DE_CONFIDENTIALITY_CODE, DE_EVENT_CODE, DE_FORMAT_CODE,
    DE_HEALTHCARE_FACILITY_TYPE_CODE, DE_PATIENT_ID, DE_PRACTICE_SETTING_CODE, DE_TYPE_CODE,
    DE_UNIQUE_ID, RESPONSE_FAILURE, RESPONSE_SUCCESS, SEVERITY_ERROR, SLOT_REFERENCE_ID_LIST,
    SS_CONTENT_TYPE_CODE, SS_PATIENT_ID, SS_SOURCE_ID, SS_UNIQUE_ID, STATUS_APPROVED,
    STATUS_DEPRECATED, SUBMISSION_SET_NODE,
};
pub(super) use crate::model::ebrim::{
    parse_message_bytes, quote, quote_list, Message, ERROR_CODES,
};

pub(super) const PID: &str = "PID-1^^^&1.2.3.4&ISO";
pub(super) const PID2: &str = "PID-2^^^&1.2.3.4&ISO";
pub(super) const REPO: &str = "1.3.6.1.4.1.21367.13.40.1";
pub(super) const FORMAT_SCHEME: &str = "1.2.840.10008.2.6.1";

pub(super) struct Doc<'a> {
    pub(super) id: &'a str,
    pub(super) unique_id: &'a str,
    pub(super) patient: &'a str,
    pub(super) format: &'a str,
    pub(super) events: &'a [&'a str],
    pub(super) creation: &'a str,
    pub(super) hash: Option<&'a str>,
    pub(super) extra_slots: &'a str,
    pub(super) service_start: Option<&'a str>,
}

pub(super) fn doc<'a>(id: &'a str, unique_id: &'a str) -> Doc<'a> {
    Doc {
        id,
        unique_id,
        patient: PID,
        format: ebrim::KOS_FORMAT_CODE,
        events: &["CT"],
        creation: "20240315101500",
        hash: None,
        extra_slots: "",
        service_start: Some("20240315100000"),
    }
}

pub(super) fn esc(v: &str) -> String {
    v.replace('&', "&amp;")
}

pub(super) fn slot(name: &str, value: &str) -> String {
    let value = esc(value);
    format!(
        r#"<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>"#
    )
}

pub(super) fn coded(id: &str, obj: &str, scheme: &str, code: &str, coding: &str) -> String {
    format!(
        r#"<rim:Classification id="{id}" classificationScheme="{scheme}" classifiedObject="{obj}" nodeRepresentation="{code}">{}<rim:Name><rim:LocalizedString value="{code}"/></rim:Name></rim:Classification>"#,
        slot("codingScheme", coding)
    )
}

pub(super) fn ext(id: &str, obj: &str, scheme: &str, value: &str, name: &str) -> String {
    let value = esc(value);
    format!(
        r#"<rim:ExternalIdentifier id="{id}" identificationScheme="{scheme}" registryObject="{obj}" value="{value}"><rim:Name><rim:LocalizedString value="{name}"/></rim:Name></rim:ExternalIdentifier>"#
    )
}

pub(super) fn extrinsic(d: &Doc<'_>) -> String {
    let id = d.id;
    let mut x = format!(
        r#"<rim:ExtrinsicObject id="{id}" mimeType="application/dicom" objectType="{}">"#,
        ebrim::DOC_ENTRY_STABLE
    );
    x += &slot("creationTime", d.creation);
    x += &slot("languageCode", "en-US");
    if let Some(t) = d.service_start {
        x += &slot("serviceStartTime", t);
    }
    x += &slot("serviceStopTime", "20240315103000");
    x += &slot("sourcePatientId", "L-77^^^&1.2.3.99&ISO");
    if let Some(h) = d.hash {
        x += &slot("hash", h);
    }
    x += d.extra_slots;
    x += r#"<rim:Name><rim:LocalizedString value="CT chest"/></rim:Name>"#;
    x += &format!(
        r#"<rim:Classification id="{id}-au" classificationScheme="{}" classifiedObject="{id}" nodeRepresentation="">{}</rim:Classification>"#,
        ebrim::DE_AUTHOR,
        slot("authorPerson", "^Welby^Marcus^^^")
    );
    x += &coded(
        &format!("{id}-cl"),
        id,
        DE_CLASS_CODE,
        "IMAGES",
        "1.3.6.1.4.1.19376.1.2.6.1",
    );
    x += &coded(
        &format!("{id}-cf"),
        id,
        DE_CONFIDENTIALITY_CODE,
        "N",
        "2.16.840.1.113883.5.25",
    );
    for (i, e) in d.events.iter().enumerate() {
        x += &coded(
            &format!("{id}-ev{i}"),
            id,
            DE_EVENT_CODE,
            e,
            "1.2.840.10008.2.16.4",
        );
    }
    x += &coded(
        &format!("{id}-fc"),
        id,
        DE_FORMAT_CODE,
        d.format,
        FORMAT_SCHEME,
    );
    x += &coded(
        &format!("{id}-hf"),
        id,
        DE_HEALTHCARE_FACILITY_TYPE_CODE,
        "22232009",
        "2.16.840.1.113883.6.96",
    );
    x += &coded(
        &format!("{id}-ps"),
        id,
        DE_PRACTICE_SETTING_CODE,
        "Radiology",
        "1.3.6.1.4.1.21367.2017.3",
    );
    x += &coded(
        &format!("{id}-ty"),
        id,
        DE_TYPE_CODE,
        "18748-4",
        "2.16.840.1.113883.6.1",
    );
    x += &ext(
        &format!("{id}-pid"),
        id,
        DE_PATIENT_ID,
        d.patient,
        ebrim::NAME_DE_PATIENT_ID,
    );
    x += &ext(
        &format!("{id}-uid"),
        id,
        DE_UNIQUE_ID,
        d.unique_id,
        ebrim::NAME_DE_UNIQUE_ID,
    );
    x + "</rim:ExtrinsicObject>"
}

pub(super) fn submission_xml(docs: &[Doc<'_>], ss_uid: &str, ss_patient: &str) -> String {
    let mut x = format!(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="{}" xmlns:rim="{}"><rim:RegistryObjectList>"#,
        ebrim::NS_LCM,
        ebrim::NS_RIM
    );
    for d in docs {
        x += &extrinsic(d);
    }
    x += r#"<rim:RegistryPackage id="SS">"#;
    x += &slot("submissionTime", "20240315120000");
    x += &coded(
        "SS-ct",
        "SS",
        SS_CONTENT_TYPE_CODE,
        "IMAGES",
        "1.3.6.1.4.1.19376.1.2.6.1",
    );
    x += &ext(
        "SS-uid",
        "SS",
        SS_UNIQUE_ID,
        ss_uid,
        ebrim::NAME_SS_UNIQUE_ID,
    );
    x += &ext(
        "SS-src",
        "SS",
        SS_SOURCE_ID,
        "1.3.6.1.4.1.21367.13.80",
        ebrim::NAME_SS_SOURCE_ID,
    );
    x += &ext(
        "SS-pid",
        "SS",
        SS_PATIENT_ID,
        ss_patient,
        ebrim::NAME_SS_PATIENT_ID,
    );
    x += "</rim:RegistryPackage>";
    x += &format!(
        r#"<rim:Classification id="SS-node" classifiedObject="SS" classificationNode="{SUBMISSION_SET_NODE}"/>"#
    );
    for d in docs {
        x += &format!(
            r#"<rim:Association id="as-{0}" associationType="{ASSOC_HAS_MEMBER}" sourceObject="SS" targetObject="{0}">{1}</rim:Association>"#,
            d.id,
            slot("SubmissionSetStatus", "Original")
        );
    }
    x + "</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"
}

pub(super) fn parse_submit(xml: &str) -> SubmitObjectsRequest {
    match parse_message_bytes(xml.as_bytes()).expect("parses") {
        Message::SubmitObjects(s) => s,
        Message::ProvideAndRegister(p) => p.submit,
        other => panic!("not a submission: {other:?}"),
    }
}

pub(super) fn submission(docs: &[Doc<'_>], ss_uid: &str) -> SubmitObjectsRequest {
    parse_submit(&submission_xml(docs, ss_uid, PID))
}

pub(super) fn bytes_for(docs: &[Doc<'_>]) -> Vec<(String, Vec<u8>)> {
    docs.iter()
        .map(|d| {
            (
                d.id.to_owned(),
                format!("bytes of {}", d.unique_id).into_bytes(),
            )
        })
        .collect()
}

pub(super) fn registry() -> Registry {
    Registry::new([PID.to_owned(), PID2.to_owned()])
}

pub(super) fn register(r: &mut Registry, docs: &[Doc<'_>], ss_uid: &str) -> Vec<String> {
    r.register(&submission(docs, ss_uid), Some(REPO), &bytes_for(docs))
        .expect("registers")
}

pub(super) fn codes(e: &[RegistryError]) -> Vec<&str> {
    e.iter().filter_map(|e| e.error_code.as_deref()).collect()
}

pub(super) fn response_codes(r: &AdhocQueryResponse) -> Vec<&str> {
    codes(&r.response.errors)
}

pub(super) fn uids(r: &AdhocQueryResponse) -> Vec<String> {
    r.objects
        .extrinsic_objects
        .iter()
        .filter_map(|o| o.identifier(DE_UNIQUE_ID))
        .collect()
}

pub(super) fn find(patient: &str) -> AdhocQueryRequest {
    AdhocQueryRequest::find_documents(patient, &[STATUS_APPROVED], &[], "LeafClass")
}

pub(super) fn with(mut q: AdhocQueryRequest, name: &str, value: &str) -> AdhocQueryRequest {
    q.params.push(QueryParam {
        name: name.to_owned(),
        values: vec![value.to_owned()],
    });
    q
}

pub(super) fn assert_success(r: &AdhocQueryResponse) {
    assert_eq!(
        r.response.status.as_deref(),
        Some(RESPONSE_SUCCESS),
        "{r:?}"
    );
    assert!(!r.response.has_error_list && r.response.errors.is_empty());
    assert!(r.has_object_list);
    assert!(xds_rules::validate_query_response(r, None)
        .iter()
        .all(|v| v.level != Level::Shall));
}

pub(super) fn assert_failure(r: &AdhocQueryResponse, code: &str) {
    assert_eq!(
        r.response.status.as_deref(),
        Some(RESPONSE_FAILURE),
        "{r:?}"
    );
    assert!(response_codes(r).contains(&code), "{:?}", r.response.errors);
    for e in &r.response.errors {
        assert_eq!(e.severity.as_deref(), Some(SEVERITY_ERROR));
        assert!(e.code_context.as_deref().is_some_and(|c| !c.is_empty()));
        assert!(e.location.is_some());
    }
    assert!(xds_rules::validate_query_response(r, None)
        .iter()
        .all(|v| v.level != Level::Shall));
}

#[test]
fn every_code_used_is_in_the_table() {
    for c in [
        XDS_MISSING_DOCUMENT,
        XDS_MISSING_DOCUMENT_METADATA,
        XDS_REGISTRY_ERROR,
        XDS_REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE,
        XDS_DUPLICATE_UNIQUE_ID_IN_REGISTRY,
        XDS_NON_IDENTICAL_HASH,
        XDS_NON_IDENTICAL_SIZE,
        XDS_REGISTRY_METADATA_ERROR,
        XDS_REPOSITORY_METADATA_ERROR,
        XDS_UNKNOWN_PATIENT_ID,
        XDS_PATIENT_ID_DOES_NOT_MATCH,
        XDS_UNKNOWN_STORED_QUERY,
        XDS_STORED_QUERY_MISSING_PARAM,
        XDS_STORED_QUERY_PARAM_NUMBER,
        XDS_REGISTRY_DEPRECATED_DOCUMENT_ERROR,
        XDS_RESULT_NOT_SINGLE_PATIENT,
        UNRESOLVED_REFERENCE_EXCEPTION,
    ] {
        assert!(ERROR_CODES.contains(&c), "{c}");
    }
}

#[test]
fn generated_uuids_are_deterministic_and_distinct() {
    let mut a = registry();
    let mut b = registry();
    let d = [doc("Doc1", "1.2.3.1")];
    assert_eq!(
        register(&mut a, &d, "1.2.3.100"),
        register(&mut b, &d, "1.2.3.100")
    );
    let all: HashSet<String> = (1..10_000).map(uuid_urn).collect();
    assert_eq!(all.len(), 9_999);
}
