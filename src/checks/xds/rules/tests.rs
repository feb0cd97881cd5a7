//! The ebRIM and SOAP rules on fixtures: each fires on the defect it names and stays silent on a
//! valid message.

use std::collections::HashSet;

use super::*;
use crate::model::ebrim::*;
use crate::transport::soap::{envelope, parse_envelope};

fn ids(v: &[Violation]) -> Vec<&'static str> {
    v.iter().map(|x| x.rule).collect()
}

#[test]
fn rule_ids_unique() {
    let mut seen = HashSet::new();
    for r in RULES {
        assert!(seen.insert(r.id), "duplicate {}", r.id);
    }
}

#[test]
fn find_documents_round_trip_and_valid() {
    let q = AdhocQueryRequest::find_documents(
        "P1^^^&1.2.3&ISO",
        &[STATUS_APPROVED],
        &[(KOS_FORMAT_CODE, KOS_FORMAT_CODING_SCHEME)],
        "LeafClass",
    );
    let xml = q.to_xml();
    let Ok(Message::AdhocQueryRequest(back)) = parse_message_bytes(xml.as_bytes()) else {
        panic!("does not parse back: {xml}");
    };
    assert_eq!(back, q);
    assert_eq!(validate_query_request(&back), vec![]);
}

#[test]
fn get_documents_builders_valid() {
    for q in [
        AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3", "1.2.4"], "ObjectRef"),
        AdhocQueryRequest::get_documents_by_uuid(&["urn:uuid:1"], "LeafClass"),
    ] {
        let Ok(Message::AdhocQueryRequest(back)) = parse_message_bytes(q.to_xml().as_bytes())
        else {
            panic!("does not parse back");
        };
        assert_eq!(back, q);
        assert_eq!(validate_query_request(&back), vec![]);
    }
}

#[test]
fn query_defects_found() {
    let mut q =
        AdhocQueryRequest::find_documents("P1^^^&1.2.3&ISO", &[STATUS_APPROVED], &[], "Full");
    q.query_id = Some("urn:uuid:nope".into());
    let v = validate_query_request(&q);
    assert!(ids(&v).contains(&"ITI18-01") && ids(&v).contains(&"ITI18-02"));
    let mut q = AdhocQueryRequest::get_documents_by_uuid(&["urn:uuid:1"], "LeafClass");
    q.params.push(QueryParam {
        name: "$XDSDocumentEntryUniqueId".into(),
        values: vec!["('1.2')".into()],
    });
    assert!(ids(&validate_query_request(&q)).contains(&"ITI18-04"));
    let mut q =
        AdhocQueryRequest::find_documents("P1^^^&1.2.3&ISO", &["Approved"], &[], "LeafClass");
    q.params.push(q.params[0].clone());
    let v = validate_query_request(&q);
    assert!(ids(&v).contains(&"ITI18-06") && ids(&v).contains(&"ITI18-07"));
}

#[test]
fn retrieve_round_trip() {
    let r = RetrieveDocumentSetRequest {
        documents: vec![DocumentRequest {
            home_community_id: Some("urn:oid:1.2".into()),
            repository_unique_id: Some("1.2.3".into()),
            document_unique_id: Some("1.2.3.4".into()),
        }],
    };
    let xml = r.to_xml();
    let env = envelope(ACTION_RETRIEVE, "urn:uuid:1", Some("http://x"), &xml);
    let parsed = parse_envelope(env.as_bytes()).expect("envelope");
    assert_eq!(
        validate_envelope(&parsed, Direction::Request, Some(ACTION_RETRIEVE)),
        vec![]
    );
    let Ok(Message::RetrieveDocumentSetRequest(back)) =
        parse_message(parsed.body.as_ref().expect("body"))
    else {
        panic!("does not parse back");
    };
    assert_eq!(back, r);
    assert_eq!(validate_retrieve_request(&back), vec![]);
    assert_eq!(
        ids(&validate_retrieve_request(
            &RetrieveDocumentSetRequest::default()
        )),
        vec!["ITI43-01"]
    );
}

#[test]
fn imaging_retrieve_round_trip_and_defects() {
    let r = RetrieveImagingDocumentSetRequest {
        studies: vec![StudyRequest {
            study_instance_uid: Some("1.2.3".into()),
            series: vec![SeriesRequest {
                series_instance_uid: Some("1.2.3.4".into()),
                documents: vec![DocumentRequest {
                    home_community_id: None,
                    repository_unique_id: Some("1.2.9".into()),
                    document_unique_id: Some("1.2.3.4.5".into()),
                }],
            }],
        }],
        transfer_syntaxes: Some(vec!["1.2.840.10008.1.2.1".into()]),
    };
    let Ok(Message::RetrieveImagingDocumentSetRequest(back)) =
        parse_message_bytes(r.to_xml().as_bytes())
    else {
        panic!("does not parse back");
    };
    assert_eq!(back, r);
    assert_eq!(validate_imaging_retrieve_request(&back, false), vec![]);
    assert_eq!(
        ids(&validate_imaging_retrieve_request(&back, true)),
        vec!["RAD69-05"]
    );
    let mut bad = r.clone();
    bad.studies[0].study_instance_uid = Some(String::new());
    bad.studies[0].series[0].series_instance_uid = None;
    bad.transfer_syntaxes = Some(vec![String::new()]);
    let v = ids(&validate_imaging_retrieve_request(&bad, false));
    assert!(v.contains(&"RAD69-01") && v.contains(&"RAD69-02") && v.contains(&"RAD69-04"));
    bad.transfer_syntaxes = None;
    bad.studies.clear();
    let v = ids(&validate_imaging_retrieve_request(&bad, false));
    assert!(v.contains(&"RAD69-01") && v.contains(&"RAD69-04"));
}

#[test]
fn registry_response_rules() {
    let mut r = RegistryResponse {
        status: Some(RESPONSE_FAILURE.into()),
        ..Default::default()
    };
    assert_eq!(ids(&validate_registry_response(&r)), vec!["XDS-SOAP-09"]);
    r.status = Some(RESPONSE_PARTIAL_SUCCESS_OASIS.into());
    assert_eq!(ids(&validate_registry_response(&r)), vec!["XDS-SOAP-07"]);
    r.status = Some(RESPONSE_SUCCESS.into());
    r.errors.push(RegistryError {
        error_code: Some("XDSRegistryError".into()),
        code_context: Some("x".into()),
        location: None,
        severity: Some(SEVERITY_ERROR.into()),
    });
    assert_eq!(ids(&validate_registry_response(&r)), vec!["XDS-SOAP-13"]);
    let xml = r.to_xml();
    let Ok(Message::RegistryResponse(back)) = parse_message_bytes(xml.as_bytes()) else {
        panic!("does not parse back");
    };
    assert_eq!(back.errors, r.errors);
}

const SUBMISSION: &str = r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>
<rim:ExtrinsicObject id="Doc1" mimeType="application/dicom" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
<rim:Slot name="creationTime"><rim:ValueList><rim:Value>20240101</rim:Value></rim:ValueList></rim:Slot>
<rim:Slot name="languageCode"><rim:ValueList><rim:Value>en-us</rim:Value></rim:ValueList></rim:Slot>
<rim:Slot name="serviceStartTime"><rim:ValueList><rim:Value>202401010800</rim:Value></rim:ValueList></rim:Slot>
<rim:Slot name="serviceStopTime"><rim:ValueList><rim:Value>202401010900</rim:Value></rim:ValueList></rim:Slot>
<rim:Slot name="sourcePatientId"><rim:ValueList><rim:Value>P1^^^&amp;1.2.3&amp;ISO</rim:Value></rim:ValueList></rim:Slot>
<rim:Classification classificationScheme="urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d" classifiedObject="Doc1" nodeRepresentation="" id="a1"><rim:Slot name="authorInstitution"><rim:ValueList><rim:Value>H</rim:Value></rim:ValueList></rim:Slot></rim:Classification>
CODES
<rim:ExternalIdentifier id="e1" registryObject="Doc1" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="P1^^^&amp;1.2.3&amp;ISO"><rim:Name><rim:LocalizedString value="XDSDocumentEntry.patientId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier id="e2" registryObject="Doc1" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="1.2.3.4"><rim:Name><rim:LocalizedString value="XDSDocumentEntry.uniqueId"/></rim:Name></rim:ExternalIdentifier>
</rim:ExtrinsicObject>
<rim:RegistryPackage id="SS1">
<rim:Slot name="submissionTime"><rim:ValueList><rim:Value>20240101120000</rim:Value></rim:ValueList></rim:Slot>
<rim:Classification classificationScheme="urn:uuid:aa543740-bdda-424e-8c96-df4873be8500" classifiedObject="SS1" nodeRepresentation="c" id="c9"><rim:Slot name="codingScheme"><rim:ValueList><rim:Value>s</rim:Value></rim:ValueList></rim:Slot><rim:Name><rim:LocalizedString value="d"/></rim:Name></rim:Classification>
<rim:ExternalIdentifier id="e3" registryObject="SS1" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" value="P1^^^&amp;1.2.3&amp;ISO"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.patientId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier id="e4" registryObject="SS1" identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832" value="1.2.5"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.sourceId"/></rim:Name></rim:ExternalIdentifier>
<rim:ExternalIdentifier id="e5" registryObject="SS1" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="1.2.6"><rim:Name><rim:LocalizedString value="XDSSubmissionSet.uniqueId"/></rim:Name></rim:ExternalIdentifier>
</rim:RegistryPackage>
<rim:Classification id="c10" classifiedObject="SS1" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
<rim:Association id="as1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SS1" targetObject="Doc1"><rim:Slot name="SubmissionSetStatus"><rim:ValueList><rim:Value>Original</rim:Value></rim:ValueList></rim:Slot></rim:Association>
</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#;

fn code(scheme: &str, id: &str, code: &str, cs: &str) -> String {
    format!(
        r#"<rim:Classification classificationScheme="{scheme}" classifiedObject="Doc1" nodeRepresentation="{code}" id="{id}"><rim:Slot name="codingScheme"><rim:ValueList><rim:Value>{cs}</rim:Value></rim:ValueList></rim:Slot><rim:Name><rim:LocalizedString value="d"/></rim:Name></rim:Classification>"#
    )
}

fn submission(format: (&str, &str)) -> SubmitObjectsRequest {
    let codes = [
        code(DE_CLASS_CODE, "k1", "IMAGES", "1.3.6.1.4.1.19376.1.2.6.1"),
        code(DE_CONFIDENTIALITY_CODE, "k2", "N", "2.16.840.1.113883.5.25"),
        code(DE_FORMAT_CODE, "k3", format.0, format.1),
        code(DE_HEALTHCARE_FACILITY_TYPE_CODE, "k4", "H", "s"),
        code(DE_PRACTICE_SETTING_CODE, "k5", "R", "s"),
        code(DE_TYPE_CODE, "k6", "18748-4", "2.16.840.1.113883.6.1"),
    ]
    .concat();
    let xml = SUBMISSION.replace("CODES", &codes);
    match parse_message_bytes(xml.as_bytes()) {
        Ok(Message::SubmitObjects(s)) => s,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn good_manifest_submission_passes() {
    let s = submission((KOS_FORMAT_CODE, KOS_FORMAT_CODING_SCHEME));
    assert_eq!(
        validate_submission(&s, None, SubmissionKind::MetadataOnly { imaging: true }),
        vec![]
    );
    let de = &s.objects.document_entries()[0];
    assert_eq!(de.patient_id.as_deref(), Some("P1^^^&1.2.3&ISO"));
    assert_eq!(
        de.format_code.as_ref().map(|c| c.code.as_str()),
        Some(KOS_FORMAT_CODE)
    );
    assert_eq!(
        s.objects
            .submission_set()
            .and_then(|ss| ss.source_id)
            .as_deref(),
        Some("1.2.5")
    );
    let v = validate_submission(&s, None, SubmissionKind::Rad68);
    assert_eq!(ids(&v), vec!["ITI41-03"]);
    let docs = [Document {
        id: Some("Doc1".into()),
        content: DocumentContent::Inline(vec![1]),
    }];
    assert_eq!(
        validate_submission(&s, Some(&docs), SubmissionKind::Rad68),
        vec![]
    );
}

#[test]
fn wrong_manifest_format_code_caught() {
    let s = submission(("urn:ihe:rad:PDF", "1.2.3"));
    assert_eq!(
        ids(&validate_submission(
            &s,
            None,
            SubmissionKind::MetadataOnly { imaging: true }
        )),
        vec!["ITI41-16"]
    );
    assert_eq!(
        validate_submission(&s, None, SubmissionKind::MetadataOnly { imaging: false }),
        vec![]
    );
}

/// Each submission rule fires on a mutation of a valid RAD-68 submission that breaks it (the
/// proof that the check can fail, named in the requirement catalogue).
#[test]
fn each_submission_rule_fires_on_its_mutation() {
    type Mutation = fn(&mut SubmitObjectsRequest);
    let mutations: &[(&str, Mutation)] = &[
        ("EBRIM-02", |s| {
            s.objects.extrinsic_objects[0].classifications[0].scheme =
                Some("urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a ".into())
        }),
        ("ITI41-04", |s| {
            s.objects.registry_packages[0].id = s.objects.extrinsic_objects[0].id.clone()
        }),
        ("ITI41-05", |s| {
            s.objects.extrinsic_objects[0].classifications.clear()
        }),
        ("ITI41-06", |s| {
            s.objects.extrinsic_objects[0]
                .slots
                .retain(|x| x.name != "serviceStartTime")
        }),
        ("ITI41-07", |s| {
            for c in &mut s.objects.extrinsic_objects[0].classifications {
                c.slots.clear();
            }
        }),
        ("ITI41-08", |s| {
            s.objects.extrinsic_objects[0].external_identifiers[0].registry_object =
                Some("urn:uuid:other".into())
        }),
        ("ITI41-08N", |s| {
            s.objects.extrinsic_objects[0].external_identifiers[0]
                .name
                .clear()
        }),
        ("ITI41-10", |s| {
            for e in &mut s.objects.extrinsic_objects[0].external_identifiers {
                if e.value.as_deref() == Some("P1^^^&1.2.3&ISO") {
                    e.value = Some("P1".into());
                }
            }
        }),
        ("ITI41-14", |s| {
            for x in &mut s.objects.extrinsic_objects[0].slots {
                if x.name == "creationTime" {
                    x.values = vec!["yesterday".into()];
                }
            }
        }),
        ("ITI41-15", |s| {
            s.objects.extrinsic_objects[0].name = vec![LocalizedString {
                value: "t".repeat(129),
                ..Default::default()
            }]
        }),
        ("ITI41-23", |s| {
            for p in &mut s.objects.registry_packages {
                p.slots.retain(|x| x.name != "submissionTime");
            }
        }),
    ];
    let good = submission((KOS_FORMAT_CODE, KOS_FORMAT_CODING_SCHEME));
    let kind = SubmissionKind::MetadataOnly { imaging: true };
    assert_eq!(validate_submission(&good, None, kind), vec![]);
    for (rule, mutate) in mutations {
        let mut s = good.clone();
        mutate(&mut s);
        let v = validate_submission(&s, None, kind);
        assert!(ids(&v).contains(rule), "{rule}: {:?}", ids(&v));
    }
}

/// ITI18-05W and RAD69-03 fire on a request that breaks them.
#[test]
fn query_and_imaging_retrieve_warnings_fire() {
    let mut q =
        AdhocQueryRequest::find_documents("P1^^^&1.2.3&ISO", &[STATUS_APPROVED], &[], "Full");
    q.params[0].values = vec!["'P1'".into()];
    assert!(ids(&validate_query_request(&q)).contains(&"ITI18-05W"));
    let r = RetrieveImagingDocumentSetRequest {
        studies: vec![StudyRequest {
            study_instance_uid: Some("1.2.3".into()),
            series: vec![SeriesRequest {
                series_instance_uid: Some("1.2.3.4".into()),
                documents: vec![DocumentRequest {
                    home_community_id: None,
                    repository_unique_id: None,
                    document_unique_id: Some("1.2.3.4.5".into()),
                }],
            }],
        }],
        transfer_syntaxes: Some(vec!["1.2.840.10008.1.2.1".into()]),
    };
    assert!(ids(&validate_imaging_retrieve_request(&r, false)).contains(&"RAD69-03"));
}

#[test]
fn submission_defects_caught() {
    let mut s = submission((KOS_FORMAT_CODE, KOS_FORMAT_CODING_SCHEME));
    s.objects.associations[0].slots.clear();
    s.objects.extrinsic_objects[0].external_identifiers[0].value = Some("P2^^^&1.2.3&ISO".into());
    s.objects.extrinsic_objects[0].object_type = Some(DOC_ENTRY_ON_DEMAND.into());
    let v = ids(&validate_submission(
        &s,
        None,
        SubmissionKind::MetadataOnly { imaging: false },
    ));
    assert!(
        v.contains(&"ITI41-13") && v.contains(&"ITI41-09") && v.contains(&"ITI41-02"),
        "{v:?}"
    );
    s.objects.associations[0].target_object = Some("as1".into());
    let v = ids(&validate_submission(
        &s,
        None,
        SubmissionKind::MetadataOnly { imaging: false },
    ));
    assert!(v.contains(&"ITI41-24"), "{v:?}");
    s.objects.registry_packages.clear();
    let v = ids(&validate_submission(
        &s,
        None,
        SubmissionKind::MetadataOnly { imaging: false },
    ));
    assert!(v.contains(&"ITI41-01"), "{v:?}");
}

#[test]
fn envelope_rules() {
    let env = envelope(ACTION_PNR, "urn:uuid:1", None, "<a xmlns='urn:a'/>");
    let p = parse_envelope(env.as_bytes()).expect("parses");
    assert_eq!(
        ids(&validate_envelope(&p, Direction::Request, Some(ACTION_PNR))),
        vec!["XDS-SOAP-12"]
    );
    assert_eq!(
        ids(&validate_envelope(
            &p,
            Direction::Request,
            Some(ACTION_RETRIEVE)
        )),
        vec!["XDS-SOAP-02", "XDS-SOAP-12"]
    );
    assert_eq!(
        ids(&validate_envelope(&p, Direction::Response, None)),
        vec!["XDS-SOAP-03"]
    );
}

#[test]
fn mtom_rules() {
    let ct = "multipart/related; boundary=b; type=\"application/xop+xml\"; start-info=\"application/soap+xml\"; action=\"x\"";
    assert_eq!(validate_mtom_content_type(ct, Some("x")), vec![]);
    assert_eq!(
        ids(&validate_mtom_content_type(ct, Some("y"))),
        vec!["XDS-SOAP-04"]
    );
    assert_eq!(
        ids(&validate_mtom_content_type("application/soap+xml", None)),
        vec!["XDS-SOAP-04"]
    );
    let cids = vec![Some("1.urn:uuid:A@x".to_owned()), Some("2@x".to_owned())];
    let v = validate_xop_references(&["cid:1.urn%3Auuid%3AA@x".into(), "cid:9@x".into()], &cids);
    assert_eq!(v.len(), 2, "{v:?}");
}

/// Deterministic mutation run over a full submission: parsing and validation never panic.
#[test]
fn mutated_submissions_never_panic() {
    let codes = code(
        DE_FORMAT_CODE,
        "k3",
        KOS_FORMAT_CODE,
        KOS_FORMAT_CODING_SCHEME,
    );
    let base = SUBMISSION.replace("CODES", &codes).into_bytes();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"<>/=\"'&;^ x1\xff";
    for _ in 0..2000 {
        let mut m = base.clone();
        for _ in 0..1 + next() % 4 {
            let pos = (next() as usize) % m.len().max(1);
            let byte = alphabet[(next() as usize) % alphabet.len()];
            if next() % 2 == 0 {
                m[pos] = byte;
            } else {
                m.remove(pos);
            }
        }
        if let Ok(Message::SubmitObjects(s)) = parse_message_bytes(&m) {
            let _ = validate_submission(&s, Some(&[]), SubmissionKind::Rad68);
        }
    }
}

#[test]
fn hostile_bodies_do_not_panic() {
    for bad in [
        &b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"[..],
        b"\xff\xfe<x/>",
        b"<lcm:SubmitObjectsRequest xmlns:lcm='urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0'>",
        b"",
    ] {
        assert!(parse_message_bytes(bad).is_err());
    }
    let deep = format!(
        "<x xmlns='{NS_RIM}'>{}{}</x>",
        "<a>".repeat(200),
        "</a>".repeat(200)
    );
    assert!(parse_message_bytes(deep.as_bytes()).is_err());
    assert!(matches!(
        parse_message_bytes(b"<x/>"),
        Err(EbrimError::UnexpectedElement { .. })
    ));
    let empty_pnr = format!("<p:ProvideAndRegisterDocumentSetRequest xmlns:p='{NS_XDSB}'/>");
    assert!(matches!(
        parse_message_bytes(empty_pnr.as_bytes()),
        Err(EbrimError::MissingElement { .. })
    ));
    let empty_sor = format!("<l:SubmitObjectsRequest xmlns:l='{NS_LCM}'/>");
    let Ok(Message::SubmitObjects(s)) = parse_message_bytes(empty_sor.as_bytes()) else {
        panic!("empty request parses");
    };
    assert!(has_errors(&validate_submission(
        &s,
        Some(&[]),
        SubmissionKind::Iti41
    )));
}

/// ITI TF-2 3.18.4.1.2.3.1: a LeafClass answer may add ObjectRefs for objects its objects
/// reference; only a reference to anything else stands for an object left out (ITI18-10), and
/// such an answer does not "mix" the two return types (ITI18-09).
#[test]
fn leafclass_answers_may_reference_what_their_objects_reference() {
    let scheme = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
    let answer = |refs: &[&str]| AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(RESPONSE_SUCCESS.into()),
            ..RegistryResponse::default()
        },
        objects: RegistryObjectList {
            extrinsic_objects: vec![RegistryObject {
                kind: ObjectKind::ExtrinsicObject,
                id: Some("urn:uuid:a".into()),
                object_type: Some(DOC_ENTRY_STABLE.into()),
                lid: None,
                status: Some(STATUS_APPROVED.into()),
                home: None,
                mime_type: Some(MIME_DICOM.into()),
                slots: Vec::new(),
                name: Vec::new(),
                description: Vec::new(),
                classifications: vec![Classification {
                    scheme: Some(scheme.into()),
                    classified_object: Some("urn:uuid:a".into()),
                    ..Classification::default()
                }],
                external_identifiers: Vec::new(),
                order_issues: Vec::new(),
            }],
            object_refs: refs
                .iter()
                .map(|r| ObjectRef {
                    id: Some((*r).into()),
                    home: None,
                })
                .collect(),
            ..RegistryObjectList::default()
        },
        has_object_list: true,
    };
    let rules = |refs: &[&str], rt: Option<&str>| -> Vec<&'static str> {
        ids(&validate_query_response(&answer(refs), rt))
            .into_iter()
            .filter(|r| r.starts_with("ITI18-09") || r.starts_with("ITI18-10"))
            .collect()
    };
    for rt in [Some("LeafClass"), None] {
        assert!(rules(&[scheme, DOC_ENTRY_STABLE], rt).is_empty(), "{rt:?}");
    }
    assert_eq!(rules(&["urn:uuid:b"], Some("LeafClass")), ["ITI18-10"]);
    assert_eq!(rules(&["urn:uuid:b"], None), ["ITI18-09"]);
    assert_eq!(rules(&[scheme], Some("ObjectRef")), ["ITI18-09"]);
}
