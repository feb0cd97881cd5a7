//! The Imaging Document Source: RAD-69 Retrieve Imaging Document Set, answered from the reference
//! archive or, when an upstream origin server is configured, through its WADO-RS.

use std::sync::Arc;

use axum::http::StatusCode;
use bytes::Bytes;

use super::endpoint::{error, shape_response, status_of, Answer};
use super::IMPLICIT_VR_LE;
use crate::model::ebrim::{
    self as e, DocumentContent, DocumentResponse, RegistryResponse, RetrieveDocumentSetResponse,
    RetrieveImagingDocumentSetRequest,
};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::{Archive, Instance};
use crate::reference::store::part10::{self, EXPLICIT_VR_LE};
use crate::transaction::Transaction;
use crate::transport::soap;

/// Find an instance anywhere in the archive.
fn find_instance(archive: &Archive, sop: &str) -> Option<Arc<Instance>> {
    archive
        .studies
        .values()
        .flat_map(|s| s.series.values())
        .find_map(|se| se.instances.get(sop).cloned())
}

/// The bytes of an instance in the first requested transfer syntax it can be sent in.
async fn encode_for(
    inst: &Instance,
    wanted: &[String],
    ignore_ts: bool,
) -> Option<(String, Vec<u8>)> {
    let stored_ts = inst.stored.transfer_syntax().to_string();
    if ignore_ts || wanted.contains(&stored_ts) {
        return tokio::fs::read(&inst.stored.path)
            .await
            .ok()
            .map(|b| (stored_ts, b));
    }
    let ele = inst.explicit_le()?.path.clone();
    for ts in wanted {
        if ts == EXPLICIT_VR_LE {
            return tokio::fs::read(&ele).await.ok().map(|b| (ts.clone(), b));
        }
        if ts == IMPLICIT_VR_LE {
            let p = ele.clone();
            return tokio::task::spawn_blocking(move || part10::transcode(&p, IMPLICIT_VR_LE))
                .await
                .ok()
                .and_then(Result::ok)
                .map(|b| (ts.clone(), b));
        }
    }
    None
}

pub(crate) async fn retrieve_imaging(st: &Shared, r: &RetrieveImagingDocumentSetRequest) -> Answer {
    // A study retrieve: a request of several series of one study.
    if st.has(Fault::PerfSlowFirstByte) && r.studies.iter().any(|s| s.series.len() > 1) {
        tokio::time::sleep(crate::reference::faults::PERF_SLOW_FIRST_BYTE).await;
    }
    let (resp, attachments) = imaging_answer(st, r).await;
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Rad69,
        operation: "Retrieve Imaging Document Set".into(),
        action: e::ACTION_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}

/// The source's answer to a RAD-69 request and its attachments (Content-ID, Content-Type,
/// bytes), before packaging: the Imaging Document Source's own, and what a Responding Imaging
/// Gateway of its community consolidates ([`crate::reference::xcai`]).
pub(crate) async fn imaging_answer(
    st: &Shared,
    r: &RetrieveImagingDocumentSetRequest,
) -> (RetrieveDocumentSetResponse, Vec<(String, String, Bytes)>) {
    let xds = st.xds();
    let wanted = r.transfer_syntaxes.clone().unwrap_or_default();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut attachments = Vec::new();
    let mut asked = 0;
    let mut hidden_series = std::collections::BTreeSet::new();
    for study in &r.studies {
        let study_uid = study.study_instance_uid.clone().unwrap_or_default();
        for series in &study.series {
            let series_uid = series.series_instance_uid.clone().unwrap_or_default();
            for d in &series.documents {
                asked += 1;
                let uid = d.document_unique_id.clone().unwrap_or_default();
                let location = if st.has(Fault::XdsRetrieveErrorNoLocation) {
                    None
                } else {
                    Some(uid.as_str())
                };
                if d.repository_unique_id.as_deref() != Some(xds.imaging_source_unique_id.as_str())
                {
                    errors.push(error(
                        "XDSUnknownRepositoryId",
                        &format!(
                            "repository {} is not this Imaging Document Source ({})",
                            d.repository_unique_id.as_deref().unwrap_or("(none)"),
                            xds.imaging_source_unique_id
                        ),
                        location,
                    ));
                    continue;
                }
                let inst = find_instance(&st.archive(), &uid);
                let hide = st.has(Fault::XdsKosReferencesMissingInstance)
                    && hidden_series.insert(series_uid.clone());
                let inst = match inst {
                    Some(i) if !hide => i,
                    _ => {
                        let code = if st.has(Fault::XdsRetrieveWrongErrorCode) {
                            "XDSRegistryError"
                        } else {
                            "XDSDocumentUniqueIdError"
                        };
                        errors.push(error(code, &format!("no instance {uid}"), location));
                        continue;
                    }
                };
                if inst.study_uid != study_uid || inst.series_uid != series_uid {
                    errors.push(error(
                        "XDSDocumentUniqueIdError",
                        &format!("instance {uid} is not in study {study_uid} series {series_uid}"),
                        location,
                    ));
                    continue;
                }
                let encoded = match st.upstream() {
                    Some(up) => up.encode_for(&inst, &wanted).await,
                    None => {
                        encode_for(&inst, &wanted, st.has(Fault::Rad69IgnoresTransferSyntax)).await
                    }
                };
                match encoded {
                    None => errors.push(error(
                        "XDSRepositoryError",
                        &format!(
                            "instance {uid} (stored as {}) cannot be encoded in any of the requested transfer syntaxes",
                            inst.stored.transfer_syntax()
                        ),
                        location,
                    )),
                    Some((_, bytes)) => {
                        let cid = format!("img{}@ihe-harness-reference", docs.len());
                        let repository = if st.has(Fault::Rad69WrongRepositoryId) {
                            format!("{}.9", xds.imaging_source_unique_id)
                        } else {
                            xds.imaging_source_unique_id.clone()
                        };
                        docs.push(DocumentResponse {
                            home_community_id: d.home_community_id.clone(),
                            repository_unique_id: Some(repository),
                            document_unique_id: Some(uid.clone()),
                            new_repository_unique_id: None,
                            new_document_unique_id: None,
                            mime_type: (!st.has(Fault::XdsRetrieveNoMimeType))
                                .then(|| e::MIME_DICOM.to_string()),
                            document: Some(DocumentContent::Xop {
                                href: soap::cid_url(&cid),
                            }),
                        });
                        attachments.push((cid, e::MIME_DICOM.to_string(), Bytes::from(bytes)));
                    }
                }
            }
        }
    }
    if st.has(Fault::Rad69ForeignInstance) && !docs.is_empty() {
        let asked_studies: Vec<String> = r
            .studies
            .iter()
            .filter_map(|s| s.study_instance_uid.clone())
            .collect();
        let foreign = st
            .archive()
            .studies
            .iter()
            .find(|(uid, _)| !asked_studies.contains(uid))
            .and_then(|(_, s)| s.first());
        if let Some(inst) = foreign {
            if let Ok(bytes) = tokio::fs::read(&inst.stored.path).await {
                let cid = format!("img{}@ihe-harness-reference", docs.len());
                docs.push(DocumentResponse {
                    repository_unique_id: Some(xds.imaging_source_unique_id.clone()),
                    document_unique_id: Some(inst.sop_uid.clone()),
                    mime_type: Some(e::MIME_DICOM.into()),
                    document: Some(DocumentContent::Xop {
                        href: soap::cid_url(&cid),
                    }),
                    ..Default::default()
                });
                attachments.push((cid, e::MIME_DICOM.to_string(), Bytes::from(bytes)));
            }
        }
    }
    let returned = docs.len().min(asked);
    let mut status = status_of(returned, asked.max(1));
    if st.has(Fault::XdsRetrievePartialAsSuccess) && status == e::RESPONSE_PARTIAL_SUCCESS {
        status = e::RESPONSE_SUCCESS;
        errors.clear();
    }
    let mut rr = RegistryResponse {
        status: Some(status.into()),
        has_error_list: !errors.is_empty(),
        errors,
    };
    shape_response(st, &mut rr);
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(rr),
        documents: docs,
    };
    (resp, attachments)
}
