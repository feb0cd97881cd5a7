//! The Document Repository: ITI-43 Retrieve Document Set and ITI-41 / RAD-68 Provide and Register
//! Document Set-b, forwarding the metadata to the registry as ITI-42 would.

use axum::http::StatusCode;
use bytes::Bytes;

use super::endpoint::{error, shape_response, status_of, Answer};
use super::StoredDocument;
use crate::checks::xds::rules as xds_rules;
use crate::model::ebrim::{
    self as e, DocumentContent, DocumentResponse, ProvideAndRegisterRequest, RegistryResponse,
    RetrieveDocumentSetRequest, RetrieveDocumentSetResponse,
};
use crate::model::kos;
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::transaction::Transaction;
use crate::transport::soap;

pub(super) fn retrieve_documents(st: &Shared, r: &RetrieveDocumentSetRequest) -> Answer {
    let xds = st.xds();
    let repo = xds.repository();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut attachments = Vec::new();
    for (i, d) in r.documents.iter().enumerate() {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let location = if st.has(Fault::XdsRetrieveErrorNoLocation) {
            None
        } else {
            Some(uid.as_str())
        };
        if d.repository_unique_id.as_deref() != Some(xds.repository_unique_id.as_str()) {
            errors.push(error(
                "XDSUnknownRepositoryId",
                &format!(
                    "repository {} is not this repository ({})",
                    d.repository_unique_id.as_deref().unwrap_or("(none)"),
                    xds.repository_unique_id
                ),
                location,
            ));
            continue;
        }
        let Some(stored) = repo.get(&uid) else {
            let code = if st.has(Fault::XdsRetrieveWrongErrorCode) {
                "XDSRegistryError"
            } else {
                "XDSDocumentUniqueIdError"
            };
            errors.push(error(code, &format!("no document {uid}"), location));
            continue;
        };
        // The fault answers with another document of the repository, under its own uniqueId.
        let (uid, stored) = if st.has(Fault::XdsRetrieveOtherDocument) {
            repo.iter()
                .find(|(u, _)| **u != uid)
                .map(|(u, d)| (u.clone(), d))
                .unwrap_or((uid, stored))
        } else {
            (uid, stored)
        };
        let cid = format!("doc{i}@ihe-harness-reference");
        let mut bytes = stored.bytes.to_vec();
        if st.has(Fault::XdsRetrieveSameSizeOtherBytes) {
            bytes.reverse();
        }
        if st.has(Fault::XdsRetrieveCorruptDocument) {
            if let Some(b) = bytes.last_mut() {
                *b ^= 0x01;
            }
        }
        let mime = if st.has(Fault::XdsRetrieveWrongMime) {
            "application/octet-stream".to_string()
        } else {
            stored.mime_type.clone()
        };
        docs.push(DocumentResponse {
            // The community asked, or none (ITI TF-2 3.43.4.2.2).
            home_community_id: d.home_community_id.clone().or_else(|| {
                st.has(Fault::XdsRetrieveAddsHomeCommunity)
                    .then(|| "urn:oid:1.3.6.1.4.1.21367.13.70.1".to_string())
            }),
            repository_unique_id: Some(xds.repository_unique_id.clone()),
            document_unique_id: Some(uid.clone()),
            new_repository_unique_id: None,
            new_document_unique_id: None,
            mime_type: (!st.has(Fault::XdsRetrieveNoMimeType)).then_some(mime.clone()),
            document: Some(DocumentContent::Xop {
                href: soap::cid_url(&cid),
            }),
        });
        attachments.push((cid, mime, Bytes::from(bytes)));
    }
    let mut status = status_of(docs.len(), r.documents.len());
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
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti43,
        operation: "Retrieve Document Set".into(),
        action: e::ACTION_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}

pub(super) fn provide_and_register(
    st: &Shared,
    p: &ProvideAndRegisterRequest,
    mtom: Option<&soap::MtomMessage>,
) -> Answer {
    let xds = st.xds();
    let mut errors = Vec::new();
    let mut docs: Vec<(String, Vec<u8>)> = Vec::new();
    for d in &p.documents {
        let id = d.id.clone().unwrap_or_default();
        let bytes = match &d.content {
            DocumentContent::Inline(b) => Some(b.clone()),
            DocumentContent::Xop { href } => mtom
                .and_then(|m| m.resolve(href))
                .and_then(|a| a.data.bytes().map(|b| b.to_vec())),
            DocumentContent::InvalidBase64(_) => None,
        };
        match bytes {
            Some(b) => docs.push((id, b)),
            None => errors.push(error(
                "XDSMissingDocument",
                &format!("the content of Document {id} is missing or unreadable"),
                Some(&id),
            )),
        }
    }
    // The reference repository is strict: metadata with Error-level violations is refused.
    for v in xds_rules::validate_submission(
        &p.submit,
        Some(&p.documents),
        xds_rules::SubmissionKind::Rad68,
    ) {
        if v.level == crate::checks::Level::Shall {
            errors.push(error(
                "XDSRepositoryMetadataError",
                &format!("{} ({}): {}", v.rule, v.requirement, v.message),
                None,
            ));
        }
    }
    // RAD TF-2 4.68.4.1.2.3: the manifest's uniqueId is its SOP Instance UID.
    for eo in &p.submit.objects.extrinsic_objects {
        let Some((_, bytes)) = docs.iter().find(|(id, _)| Some(id) == eo.id.as_ref()) else {
            continue;
        };
        if eo.mime_type.as_deref() != Some(e::MIME_DICOM) {
            continue;
        }
        if let Ok(m) = kos::parse(bytes) {
            let uid = eo.identifier(e::DE_UNIQUE_ID);
            if uid.is_some() && uid != m.sop_instance_uid {
                errors.push(error(
                    "XDSRepositoryMetadataError",
                    &format!(
                        "uniqueId {} is not the manifest's SOP Instance UID {}",
                        uid.as_deref().unwrap_or(""),
                        m.sop_instance_uid.as_deref().unwrap_or("")
                    ),
                    uid.as_deref(),
                ));
            }
        }
    }
    // The fault stores other metadata than was submitted (the entry's creationTime).
    let mut stored_submit = p.submit.clone();
    if st.has(Fault::XdsRegistryAltersMetadata) {
        for eo in &mut stored_submit.objects.extrinsic_objects {
            for sl in &mut eo.slots {
                if sl.name == "creationTime" {
                    sl.values = vec!["19700101000000".into()];
                }
            }
        }
    }
    if errors.is_empty() {
        match xds
            .registry()
            .register(&stored_submit, Some(&xds.repository_unique_id), &docs)
        {
            Ok(_) => {
                let mut repo = xds.repository();
                for eo in &p.submit.objects.extrinsic_objects {
                    let (Some(uid), Some((_, bytes))) = (
                        eo.identifier(e::DE_UNIQUE_ID),
                        docs.iter().find(|(id, _)| Some(id) == eo.id.as_ref()),
                    ) else {
                        continue;
                    };
                    repo.insert(
                        uid,
                        StoredDocument {
                            mime_type: eo.mime_type.clone().unwrap_or_default(),
                            bytes: Bytes::from(bytes.clone()),
                        },
                    );
                }
            }
            Err(errs) => errors.extend(errs),
        }
    }
    let mut rr = RegistryResponse {
        status: Some(
            if errors.is_empty() {
                e::RESPONSE_SUCCESS
            } else {
                e::RESPONSE_FAILURE
            }
            .into(),
        ),
        has_error_list: !errors.is_empty(),
        errors,
    };
    shape_response(st, &mut rr);
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Rad68,
        operation: "Provide and Register Imaging Document Set".into(),
        action: e::ACTION_PNR_RESPONSE,
        body_xml: rr.to_xml(),
        attachments: Vec::new(),
        mtom: mtom.is_some(),
    }
}
