//! ebXML RegRep / XDS.b message reading (model::ebrim::parse_message_bytes, parse_message on a
//! SOAP Body, parse_registry_object_list, xop_hrefs) and the validators run on what was read.
#![no_main]

use ihe_harness::checks::xds::rules::{self, Direction, RetrieveKind, SubmissionKind};
use ihe_harness::model::ebrim::{self, Message};
use ihe_harness::transport::soap::{self, XmlElement, XmlLimits};
use libfuzzer_sys::fuzz_target;

fn judge(m: &Message) {
    match m {
        Message::ProvideAndRegister(p) => {
            for kind in [SubmissionKind::Iti41, SubmissionKind::Rad68] {
                let _ = rules::validate_submission(&p.submit, Some(&p.documents), kind);
            }
        }
        Message::SubmitObjects(s) => {
            for kind in [
                SubmissionKind::MetadataOnly { imaging: true },
                SubmissionKind::MetadataOnly { imaging: false },
                SubmissionKind::Iti57,
            ] {
                let _ = rules::validate_submission(s, None, kind);
            }
            let _ = s.objects.document_entries();
            let _ = s.objects.submission_set();
        }
        Message::AdhocQueryRequest(q) => {
            let _ = rules::validate_query_request(q);
        }
        Message::AdhocQueryResponse(r) => {
            let _ = rules::validate_query_response(r, None);
            let _ = rules::validate_query_response(r, Some("LeafClass"));
            let _ = rules::validate_query_response(r, Some("ObjectRef"));
            let _ = r.objects.document_entries();
            let _ = r.objects.submission_set();
            let _ = r.objects.submission_set_packages();
            let _ = r.objects.folder_packages();
        }
        Message::RegistryResponse(r) => {
            let _ = rules::validate_registry_response(r);
        }
        Message::RetrieveDocumentSetRequest(r) => {
            let _ = rules::validate_retrieve_request(r);
        }
        Message::RetrieveDocumentSetResponse(r) => {
            for kind in [RetrieveKind::Iti43, RetrieveKind::Rad69, RetrieveKind::CrossCommunity] {
                let _ = rules::validate_retrieve_response(r, kind);
            }
        }
        Message::RetrieveImagingDocumentSetRequest(r) => {
            let _ = rules::validate_imaging_retrieve_request(r, false);
            let _ = rules::validate_imaging_retrieve_request(r, true);
        }
    }
}

fn element(el: &XmlElement) {
    let _ = ebrim::xop_hrefs(el);
    let mut lists = Vec::new();
    el.find_all(ebrim::NS_RIM, "RegistryObjectList", &mut lists);
    for l in lists {
        let list = ebrim::parse_registry_object_list(l);
        let _ = list.document_entries();
    }
    if let Ok(m) = ebrim::parse_message(el) {
        judge(&m);
    }
}

fuzz_target!(|data: &[u8]| {
    // A bare document.
    if let Ok(m) = ebrim::parse_message_bytes(data) {
        judge(&m);
    }
    if let Ok(root) = soap::parse_xml(data, &XmlLimits::default()) {
        element(&root);
    }
    // The same inside a SOAP envelope.
    if let Ok(env) = soap::parse_envelope(data) {
        let _ = rules::validate_envelope(&env, Direction::Request, None);
        let _ = rules::validate_envelope(&env, Direction::Response, Some("urn:ihe:iti:2007:RegistryStoredQuery"));
        if let Some(body) = &env.body {
            element(body);
        }
    }
});
