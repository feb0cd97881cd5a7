//! Every registered XDS rule check fails on some recorded bad message: the NIST and IPF samples of
//! `fixtures/corpus/xds` judged through the check layer as the scenarios judge exchanges, plus
//! mutations of the messages the harness itself builds. The checks of the responder rules are also
//! caught by faults injected into the reference (`tests/suite/fault_injection.rs`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::*;
use crate::checks::{evaluate, Expect, Outcome, Subject};
use crate::evidence::{Body, Exchange, HttpRequest, HttpResponse};
use crate::transport::soap;

fn corpus(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/corpus/xds")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Wrap a bare ebXML body in a SOAP 1.2 envelope; leave an envelope as it is.
fn enveloped(xml: &[u8], action: &str, response: bool) -> Vec<u8> {
    let text = String::from_utf8_lossy(xml);
    if text.contains("Envelope") {
        return xml.to_vec();
    }
    if response {
        soap::response_envelope(action, "urn:uuid:1", &text).into_bytes()
    } else {
        soap::envelope(action, "urn:uuid:2", Some("http://sut/xds"), &text).into_bytes()
    }
}

/// The SUT's request, as a simulator records it.
pub(crate) fn inbound(transaction: Transaction, content_type: &str, body: &[u8]) -> Exchange {
    let mut ex = Exchange::synthetic("http://harness/xds", &[], 200, &[], b"");
    ex.transaction = transaction;
    ex.direction = Direction::Inbound;
    ex.request = HttpRequest {
        method: "POST".into(),
        url: "http://harness/xds".into(),
        headers: vec![("Content-Type".into(), content_type.into())],
        body: Body::from_bytes(bytes::Bytes::copy_from_slice(body)),
    };
    ex.response = Some(HttpResponse {
        status: 200,
        headers: Vec::new(),
        body: Body::default(),
    });
    ex.multipart = crate::transport::http::summarize_multipart(content_type, body);
    ex
}

/// The SUT's response to the harness.
pub(crate) fn outbound(transaction: Transaction, content_type: &str, body: &[u8]) -> Exchange {
    let mut ex = Exchange::synthetic(
        "http://sut/xds",
        &[],
        200,
        &[("Content-Type", content_type)],
        body,
    );
    ex.transaction = transaction;
    ex
}

fn failing(ex: &Exchange) -> BTreeSet<&'static str> {
    let expect = Expect::default();
    let s = Subject {
        exchange: ex,
        expect: &expect,
        strict: true,
        followups: &[],
    };
    CHECKS
        .iter()
        .filter(|c| evaluate(c, &s).outcome == Outcome::Fail)
        .map(|c| c.id)
        .collect()
}

const SOAP: &str = "application/soap+xml; charset=UTF-8";

/// (corpus file, transaction, is a response).
const SAMPLES: &[(&str, Transaction, bool)] = &[
    ("nist-pnr.xml", Transaction::Rad68, false),
    ("nist-pnr-assoc-to-self.xml", Transaction::Rad68, false),
    ("nist-pnr-bad-uplink.xml", Transaction::Rad68, false),
    ("nist-pnr-element-order.xml", Transaction::Rad68, false),
    ("nist-soap-noaction-pnr.xml", Transaction::Rad68, false),
    ("nist-soap-pnr-soap-order.xml", Transaction::Rad68, false),
    ("nist-soap-pnr-resp.xml", Transaction::Rad68, true),
    ("nist-regresp-fail-noerr.xml", Transaction::Rad68, true),
    ("nist-regresp-suc-err.xml", Transaction::Rad68, true),
    ("nist-sq-req.xml", Transaction::Iti18, false),
    ("nist-sq-req-bad-code.xml", Transaction::Iti18, false),
    ("nist-sq-req-bad-pid-format.xml", Transaction::Iti18, false),
    (
        "nist-sq-req-bad-stat-format1.xml",
        Transaction::Iti18,
        false,
    ),
    ("nist-sq-req-missing-stat.xml", Transaction::Iti18, false),
    ("ipf-iti18request.xml", Transaction::Iti18, false),
    ("nist-sq-resp-lc.xml", Transaction::Iti18, true),
    (
        "nist-sq-resp-lc-no-objectType.xml",
        Transaction::Iti18,
        true,
    ),
    ("nist-sq-resp-lc-no-status.xml", Transaction::Iti18, true),
    (
        "nist-sq-resp-nostat-objectref.xml",
        Transaction::Iti18,
        true,
    ),
    (
        "nist-ids_2018-4803c-rad69-request.xml",
        Transaction::Rad69,
        false,
    ),
    (
        "nist-ids_2018-4811-case-05_Empty_Study_Instance_UID-rad69-request.xml",
        Transaction::Rad69,
        false,
    ),
    (
        "nist-ids_2018-4811-case-06_Empty_Series_Instance_UID-rad69-request.xml",
        Transaction::Rad69,
        false,
    ),
    (
        "nist-ids_2018-4811-case-08_Empty_Transfer_Syntax_UID-rad69-request.xml",
        Transaction::Rad69,
        false,
    ),
    (
        "nist-rsnaedge-1001-RAD-69Response.xml",
        Transaction::Rad69,
        true,
    ),
    ("nist-soap-xret-resp-homeless.xml", Transaction::Iti43, true),
    // As what it is, a Cross Gateway Retrieve answer: its first DocumentResponse lacks
    // HomeCommunityId (ITI39-01).
    ("nist-soap-xret-resp-homeless.xml", Transaction::Iti39, true),
];

fn sample_exchange(file: &str, transaction: Transaction, response: bool) -> Exchange {
    let (req, resp) = actions(transaction).unwrap();
    let xml = enveloped(&corpus(file), if response { resp } else { req }, response);
    if response {
        outbound(transaction, SOAP, &xml)
    } else {
        inbound(transaction, SOAP, &xml)
    }
}

/// Mutations of conformant messages, for rules no sample breaks: (name, exchange).
fn mutations() -> Vec<(&'static str, Exchange)> {
    let mut out = Vec::new();
    // A query request whose values are not quoted, with a repeated single-valued slot and
    // a ResponseOption of another type.
    let q = r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType="Everything"/><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>P1^^^&amp;1.2.3&amp;ISO</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('Approved')</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>('1.2')</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryEntryUUID"><rim:ValueList><rim:Value>('urn:uuid:x')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"#;
    let env = soap::envelope(e::ACTION_STORED_QUERY, "urn:uuid:3", None, q);
    out.push((
        "query with bad values",
        inbound(Transaction::Iti18, SOAP, env.as_bytes()),
    ));
    // A retrieve request without document ids.
    let r = r#"<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>"#;
    let env = soap::envelope(e::ACTION_RETRIEVE, "urn:uuid:4", Some("http://x"), r);
    out.push((
        "retrieve without DocumentUniqueId",
        inbound(Transaction::Iti43, SOAP, env.as_bytes()),
    ));
    // A RAD-69 request with a series without documents.
    let r = r#"<xdsi:RetrieveImagingDocumentSetRequest xmlns:xdsi="urn:ihe:rad:xdsi-b:2009" xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsi:StudyRequest studyInstanceUID="1.2.3"><xdsi:SeriesRequest seriesInstanceUID="1.2.3.4"/></xdsi:StudyRequest><xdsi:TransferSyntaxUIDList><xdsi:TransferSyntaxUID>1.2.840.10008.1.2.1</xdsi:TransferSyntaxUID></xdsi:TransferSyntaxUIDList></xdsi:RetrieveImagingDocumentSetRequest>"#;
    let env = soap::envelope(
        e::ACTION_RETRIEVE_IMAGING,
        "urn:uuid:5",
        Some("http://x"),
        r,
    );
    let (ct, body) = soap::mtom(&env, &[]);
    out.push((
        "RAD-69 series without documents",
        inbound(Transaction::Rad69, &ct, &body),
    ));
    // A retrieve response that says Success with no document, and errors without location.
    let r = r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"><rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess"><rs:RegistryErrorList><rs:RegistryError errorCode="XDSRegistryError" codeContext="x" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></rs:RegistryResponse></xdsb:RetrieveDocumentSetResponse>"#;
    let env = soap::response_envelope(e::ACTION_RETRIEVE_RESPONSE, "urn:uuid:6", r);
    let (ct, body) = soap::mtom(&env, &[]);
    out.push((
        "retrieve response without documents",
        outbound(Transaction::Iti43, &ct, &body),
    ));
    // Not SOAP at all.
    out.push((
        "HTML error page",
        outbound(Transaction::Iti18, "text/html", b"<html>500</html>"),
    ));
    // GetDocuments naming both uniqueIds and entryUUIDs; an unknown stored query.
    let mut q = e::AdhocQueryRequest::get_documents_by_unique_id(&["1.2.3"], "LeafClass");
    q.params.push(e::QueryParam {
        name: "$XDSDocumentEntryEntryUUID".into(),
        values: vec!["('urn:uuid:6a3f2b9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b')".into()],
    });
    let env = soap::envelope(
        e::ACTION_STORED_QUERY,
        "urn:uuid:8",
        Some("http://x"),
        &q.to_xml(),
    );
    out.push((
        "GetDocuments with both ids",
        inbound(Transaction::Iti18, SOAP, env.as_bytes()),
    ));
    q.query_id = Some("urn:uuid:00000000-0000-4000-8000-000000000000".into());
    let env = soap::envelope(
        e::ACTION_STORED_QUERY,
        "urn:uuid:9",
        Some("http://x"),
        &q.to_xml(),
    );
    out.push((
        "unknown stored query",
        inbound(Transaction::Iti18, SOAP, env.as_bytes()),
    ));
    // A RegistryError without codeContext.
    let r = r#"<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"><rs:RegistryErrorList><rs:RegistryError errorCode="XDSRegistryError" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></rs:RegistryResponse>"#;
    let env = soap::response_envelope(e::ACTION_PNR_RESPONSE, "urn:uuid:10", r);
    out.push((
        "error without codeContext",
        outbound(Transaction::Rad68, SOAP, env.as_bytes()),
    ));
    out.extend(submission_mutations());
    out
}

/// A conformant RAD-68 of a fixture manifest, as the harness builds it, broken one rule at a time.
fn submission_mutations() -> Vec<(&'static str, Exchange)> {
    use crate::model::ebrim::{ProvideAndRegisterRequest, RegistryObject};
    use crate::model::xds_metadata::{self as md, AffinityDomain, SubmissionContext};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
    let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
    let kos = fx.instances.iter().find(|i| i.kos).unwrap().clone();
    let bytes = std::fs::read(fx.file(&kos)).unwrap();
    let m = crate::model::kos::parse(&bytes).unwrap();
    let ctx = SubmissionContext::for_manifest(
        &format!("{}^^^&1.2.3&ISO", kos.patient_id),
        "1.2.3.4",
        &kos.sop_uid,
        Default::default(),
    );
    let good = md::manifest_submission(&bytes, &m, &ctx, &AffinityDomain::default_set());
    let wrap = |p: &ProvideAndRegisterRequest| {
        let env = soap::envelope(e::ACTION_PNR, "urn:uuid:11", Some("http://x"), &p.to_xml());
        let cid = md::document_entry_content_id(&good).unwrap_or_default();
        let (ct, body) = soap::mtom(&env, &[(cid.as_str(), "application/dicom", &bytes)]);
        inbound(Transaction::Rad68, &ct, &body)
    };
    let de = |p: &mut ProvideAndRegisterRequest| -> *mut RegistryObject {
        &mut p.submit.objects.extrinsic_objects[0]
    };
    let mut out = vec![("conformant submission", wrap(&good))];
    let mut add = |name: &'static str, f: &dyn Fn(&mut ProvideAndRegisterRequest)| {
        let mut p = good.clone();
        f(&mut p);
        out.push((name, wrap(&p)));
    };
    let _ = de;
    add("no submission set", &|p| {
        p.submit.objects.registry_packages.clear()
    });
    add("on-demand entry", &|p| {
        p.submit.objects.extrinsic_objects[0].object_type = Some(e::DOC_ENTRY_ON_DEMAND.into())
    });
    add("duplicate entry", &|p| {
        let d = p.submit.objects.extrinsic_objects[0].clone();
        p.submit.objects.extrinsic_objects.push(d);
    });
    add("no classCode", &|p| {
        p.submit.objects.extrinsic_objects[0]
            .classifications
            .retain(|c| c.scheme.as_deref() != Some(e::DE_CLASS_CODE))
    });
    add("no author, no service times", &|p| {
        let eo = &mut p.submit.objects.extrinsic_objects[0];
        eo.classifications
            .retain(|c| c.scheme.as_deref() != Some(e::DE_AUTHOR));
        eo.slots.retain(|s| !s.name.starts_with("service"));
    });
    add("typeCode without codingScheme", &|p| {
        for c in &mut p.submit.objects.extrinsic_objects[0].classifications {
            if c.scheme.as_deref() == Some(e::DE_TYPE_CODE) {
                c.slots.clear();
            }
        }
    });
    add("identifier of another object", &|p| {
        for x in &mut p.submit.objects.extrinsic_objects[0].external_identifiers {
            x.registry_object = Some("SomethingElse".into());
        }
    });
    add("identifier without its name", &|p| {
        for x in &mut p.submit.objects.extrinsic_objects[0].external_identifiers {
            x.name.clear();
        }
    });
    add("entry of another patient", &|p| {
        for x in &mut p.submit.objects.extrinsic_objects[0].external_identifiers {
            if x.scheme.as_deref() == Some(e::DE_PATIENT_ID) {
                x.value = Some("OTHER^^^&1.2.3&ISO".into());
            }
        }
    });
    add("patient id without &ISO", &|p| {
        for o in p
            .submit
            .objects
            .extrinsic_objects
            .iter_mut()
            .chain(p.submit.objects.registry_packages.iter_mut())
        {
            for x in &mut o.external_identifiers {
                if x.scheme.as_deref() == Some(e::DE_PATIENT_ID)
                    || x.scheme.as_deref() == Some(e::SS_PATIENT_ID)
                {
                    x.value = Some("P1^^^1.2.3".into());
                }
            }
        }
    });
    add("HasMember without SubmissionSetStatus", &|p| {
        for a in &mut p.submit.objects.associations {
            a.slots.clear();
        }
    });
    add("creationTime not DTM", &|p| {
        for s in &mut p.submit.objects.extrinsic_objects[0].slots {
            if s.name == "creationTime" {
                s.values = vec!["2026-01-15T10:00:00".into()];
            }
        }
    });
    add("title of 200 characters", &|p| {
        p.submit.objects.extrinsic_objects[0].name = vec![e::LocalizedString {
            value: "x".repeat(200),
            ..Default::default()
        }];
    });
    add("manifest labelled text/plain", &|p| {
        p.submit.objects.extrinsic_objects[0].mime_type = Some("text/plain".into())
    });
    add("submission set without sourceId", &|p| {
        for o in &mut p.submit.objects.registry_packages {
            o.external_identifiers
                .retain(|x| x.scheme.as_deref() != Some(e::SS_SOURCE_ID));
        }
    });
    add("scheme UUID with a space", &|p| {
        for c in &mut p.submit.objects.extrinsic_objects[0].classifications {
            if c.scheme.as_deref() == Some(e::DE_CLASS_CODE) {
                c.scheme = Some(e::DE_CLASS_CODE.replace('-', " -"));
            }
        }
    });
    out
}

#[test]
fn every_registered_rule_fails_on_some_message() {
    let mut caught: BTreeSet<&'static str> = BTreeSet::new();
    let mut seen = Vec::new();
    for (file, transaction, response) in SAMPLES {
        let f = failing(&sample_exchange(file, *transaction, *response));
        seen.push(format!("{file}: {f:?}"));
        caught.extend(f);
    }
    for (name, ex) in mutations() {
        let f = failing(&ex);
        if name == "conformant submission" {
            let shall: Vec<&&str> = f
                .iter()
                .filter(|id| {
                    CHECKS
                        .iter()
                        .any(|c| c.id == **id && c.level == crate::checks::Level::Shall)
                })
                .collect();
            assert!(
                shall.is_empty(),
                "the harness's own submission fails {shall:?}"
            );
        }
        seen.push(format!("{name}: {f:?}"));
        caught.extend(f);
    }
    // Responder rules broken only by the faults of the reference (tests/suite/fault_injection.rs),
    // and ITI18-10, which needs the harness's LeafClass request beside the answer (unit test in
    // checks::xds_i::tests).
    let by_fault = ["XDS-SOAP-05", "RAD69-06", "ITI18-09", "ITI18-10"];
    let missing: Vec<&str> = CHECKS
        .iter()
        .map(|c| c.id)
        .filter(|id| !caught.contains(id) && !by_fault.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules no message breaks: {missing:?}\n{}",
        seen.join("\n")
    );
}

#[test]
fn valid_samples_pass_every_error_level_rule() {
    for (file, transaction, response) in [
        ("nist-sq-req.xml", Transaction::Iti18, false),
        (
            "nist-ids_2018-4803c-rad69-request.xml",
            Transaction::Rad69,
            false,
        ),
    ] {
        let ex = sample_exchange(file, transaction, response);
        let shall: Vec<&str> = failing(&ex)
            .into_iter()
            .filter(|id| {
                CHECKS
                    .iter()
                    .any(|c| c.id == *id && c.level == crate::checks::Level::Shall)
            })
            .collect();
        assert!(shall.is_empty(), "{file}: {shall:?}");
    }
}

#[test]
fn registered_checks_are_the_rule_table_less_the_documented_ones() {
    let registered: BTreeSet<&str> = CHECKS.iter().map(|c| c.id).collect();
    for r in super::rules::RULES {
        let excluded = NOT_REGISTERED.iter().any(|(id, _)| *id == r.id);
        assert_eq!(
            registered.contains(r.id),
            !excluded,
            "{} registration disagrees with NOT_REGISTERED",
            r.id
        );
    }
}

#[test]
fn not_soap_fails_only_the_envelope_rule() {
    let ex = outbound(Transaction::Iti18, "text/html", b"<html>error</html>");
    assert_eq!(failing(&ex), BTreeSet::from(["XDS-SOAP-01"]));
    let none = Exchange::synthetic("http://x", &[], 200, &[], b"");
    assert!(failing(&none).is_empty(), "not an XDS transaction");
}

#[test]
fn every_rule_has_a_family_and_others_are_not_applicable() {
    for c in CHECKS {
        assert!(!families(c.id).is_empty(), "{} has no family", c.id);
    }
    let ex = sample_exchange("nist-sq-req.xml", Transaction::Iti18, false);
    let expect = Expect::default();
    let s = Subject {
        exchange: &ex,
        expect: &expect,
        strict: true,
        followups: &[],
    };
    let outcome = |id: &str| {
        let c = CHECKS.iter().find(|c| c.id == id).unwrap();
        evaluate(c, &s).outcome
    };
    assert_eq!(outcome("ITI18-01"), Outcome::Pass);
    assert_eq!(outcome("XDS-SOAP-02"), Outcome::Pass);
    assert_eq!(outcome("ITI41-05"), Outcome::NotApplicable);
    assert_eq!(outcome("RAD69-01"), Outcome::NotApplicable);
    assert_eq!(outcome("XDS-SOAP-07"), Outcome::NotApplicable);
}
