//! The Document Registry's SOAP side of ITI-18 Registry Stored Query: the request handed to the
//! [`Registry`](super::registry::Registry), with the faults injected into its answer.

use axum::http::StatusCode;

use super::endpoint::{error, shape_response, Answer};
use crate::model::ebrim::{self as e, AdhocQueryRequest, AdhocQueryResponse, RegistryResponse};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::transaction::Transaction;

pub(super) fn stored_query(st: &Shared, q: &AdhocQueryRequest) -> Answer {
    let xds = st.xds();
    let mut q = q.clone();
    if st.has(Fault::XdsObjectRefAsLeaf) && q.return_type.as_deref() == Some("ObjectRef") {
        q.return_type = Some("LeafClass".into());
    }
    let mut resp: AdhocQueryResponse = xds.registry().query(&q);
    if st.has(Fault::XdsQueryAcceptsMissingParam)
        && resp
            .response
            .errors
            .iter()
            .any(|er| er.error_code.as_deref() == Some("XDSStoredQueryMissingParam"))
    {
        resp = AdhocQueryResponse {
            response: RegistryResponse {
                status: Some(e::RESPONSE_SUCCESS.into()),
                has_error_list: false,
                errors: Vec::new(),
            },
            objects: Default::default(),
            has_object_list: true,
        };
    }
    if st.has(Fault::XdsQueryIgnoresPatient) && q.query_id.as_deref() == Some(e::SQ_FIND_DOCUMENTS)
    {
        let all = xds.registry().all_patients();
        for p in all {
            let mut other = q.clone();
            for param in &mut other.params {
                if param.name == "$XDSDocumentEntryPatientId" {
                    param.values = vec![e::quote(&p)];
                }
            }
            let more = xds.registry().query(&other);
            for eo in more.objects.extrinsic_objects {
                if !resp.objects.extrinsic_objects.iter().any(|x| x.id == eo.id) {
                    resp.objects.extrinsic_objects.push(eo);
                }
            }
        }
    }
    let find = q.query_id.as_deref() == Some(e::SQ_FIND_DOCUMENTS);
    if st.has(Fault::XdsQueryOtherFormat)
        && find
        && q.params
            .iter()
            .any(|p| p.name == "$XDSDocumentEntryFormatCode")
    {
        if let Some(eo) = resp.objects.extrinsic_objects.first_mut() {
            for c in &mut eo.classifications {
                if c.scheme.as_deref() == Some(e::DE_FORMAT_CODE) {
                    c.node_representation = Some("urn:ihe:rad:PDF".into());
                    for sl in &mut c.slots {
                        if sl.name == "codingScheme" {
                            sl.values = vec!["1.3.6.1.4.1.19376.1.2.3".into()];
                        }
                    }
                }
            }
        }
    }
    let by_uuid = q.query_id.as_deref() == Some(e::SQ_GET_DOCUMENTS)
        && q.params
            .iter()
            .any(|p| p.name == "$XDSDocumentEntryEntryUUID");
    if (st.has(Fault::XdsLeafClassAsObjectRef) && find
        || st.has(Fault::XdsGetDocumentsAsObjectRef) && by_uuid)
        && q.return_type.as_deref() == Some("LeafClass")
    {
        let refs = resp
            .objects
            .extrinsic_objects
            .iter()
            .map(|eo| e::ObjectRef {
                id: eo.id.clone(),
                home: None,
            })
            .collect();
        resp.objects = e::RegistryObjectList {
            object_refs: refs,
            ..Default::default()
        };
    }
    if st.has(Fault::XdsObjectRefOtherPatient)
        && find
        && q.return_type.as_deref() == Some("ObjectRef")
    {
        let asked = q
            .params
            .iter()
            .find(|p| p.name == "$XDSDocumentEntryPatientId")
            .and_then(|p| p.values.first())
            .map(|v| v.trim().trim_matches('\'').to_string())
            .unwrap_or_default();
        let other = xds
            .registry()
            .document_entries()
            .iter()
            .find(|o| o.identifier(e::DE_PATIENT_ID).as_deref() != Some(asked.as_str()))
            .and_then(|o| o.id.clone());
        if let (Some(u), Some(last)) = (other, resp.objects.object_refs.last_mut()) {
            last.id = Some(u);
        }
    }
    if st.has(Fault::XdsQueryNoHash) {
        for eo in &mut resp.objects.extrinsic_objects {
            eo.slots
                .retain(|s| !matches!(s.name.as_str(), "hash" | "size" | "repositoryUniqueId"));
        }
    }
    if st.has(Fault::XdsSuccessWithError)
        && resp.response.status.as_deref() == Some(e::RESPONSE_SUCCESS)
    {
        resp.response.has_error_list = true;
        resp.response.errors.push(error(
            "XDSRegistryError",
            "an error reported on a successful query",
            None,
        ));
    }
    shape_response(st, &mut resp.response);
    let mut xml = resp.to_xml();
    if st.has(Fault::XdsSchemaOrder) {
        xml = external_identifier_first(&xml);
    }
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti18,
        operation: stored_query_name(q.query_id.as_deref()),
        action: e::ACTION_STORED_QUERY_RESPONSE,
        body_xml: xml,
        attachments: Vec::new(),
        mtom: false,
    }
}

fn stored_query_name(id: Option<&str>) -> String {
    e::STORED_QUERIES
        .iter()
        .find(|(k, _)| Some(*k) == id)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_else(|| format!("unknown stored query {}", id.unwrap_or("(none)")))
}

/// Move the first ExternalIdentifier of the first ExtrinsicObject before its Classifications.
fn external_identifier_first(xml: &str) -> String {
    let (Some(c), Some(x)) = (
        xml.find("<rim:Classification"),
        xml.find("<rim:ExternalIdentifier"),
    ) else {
        return xml.to_string();
    };
    if x < c {
        return xml.to_string();
    }
    let end_tag = "</rim:ExternalIdentifier>";
    let Some(rel) = xml[x..].find(end_tag) else {
        return xml.to_string();
    };
    let y = x + rel + end_tag.len();
    let ext = &xml[x..y];
    format!("{}{}{}{}", &xml[..c], ext, &xml[c..x], &xml[y..])
}
