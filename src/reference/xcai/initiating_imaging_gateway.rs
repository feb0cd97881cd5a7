//! The reference's XCA-I Initiating Imaging Gateway, and the Responding Imaging Gateways of the two
//! simulated communities behind a SUT Initiating Imaging Gateway.
//!
//! The Initiating Imaging Gateway answers an Imaging Document Consumer's RAD-69 by asking the
//! Responding Imaging Gateways of communities A and B ([`COMMUNITIES`]) with RAD-75, by the text
//! (Gazelle XCA-I assertions on RAD TF-2 §4.75; ITI TF-3 Table 4.2.4.1-2):
//! - each DocumentRequest goes, by its HomeCommunityId, to the gateway of that community only: one
//!   RAD-75 per community, holding only its DocumentRequests in the study and series structure
//!   asked, with the RepositoryUniqueIds, the HomeCommunityIds and the TransferSyntaxUIDList
//!   unchanged (RAD75-001: the RAD-75 request is the RAD-69 request; NIST iig_2018-5403a);
//! - the answers are consolidated into one RAD-69 answer: images and errors together make a
//!   PartialSuccess with both (RAD-69 has the ITI-43 semantics; ITI TF-2 §3.39.4.1.3 states the
//!   same for the XCA Initiating Gateway);
//! - a DocumentRequest naming a community the gateway does not reach is refused with
//!   `XDSUnknownCommunity`, one naming none with `XDSMissingHomeCommunityId` (ITI TF-3 Table
//!   4.2.4.1-2); nothing returned is a Failure.
//!
//! The simulated Responding Imaging Gateways answer from the reference's Imaging Document Source,
//! each for its own community ([`super::rig_answer`], always by the text): every image the
//! reference holds can be retrieved through either.

use std::collections::BTreeMap;

use axum::http::StatusCode;

pub use crate::config::xca::{COMMUNITIES, COMMUNITY_A};
use crate::model::ebrim::{
    self as e, DocumentContent, Message, RetrieveDocumentSetResponse,
    RetrieveImagingDocumentSetRequest, SeriesRequest, StudyRequest,
};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::xca::initiating_gateway::call;
use crate::reference::xds::endpoint::{error, shape_response, Answer};
use crate::transaction::Transaction;
use crate::transport::soap;

/// The path, below [`super::XCAI_PATH`] and a community's segment, of its simulated Responding
/// Imaging Gateway (`/xca-i/community-a/responding-imaging-gateway`).
pub const RIG_SEGMENT: &str = "responding-imaging-gateway";

/// The path of the reference Initiating Imaging Gateway's RAD-69 endpoint.
pub const IIG_PATH: &str = "/xca-i/initiating-imaging-gateway";

fn home_of(c: usize) -> &'static str {
    COMMUNITIES.get(c).map_or(COMMUNITY_A, |x| x.0)
}

/// RAD-75 at the simulated Responding Imaging Gateway of community `c`.
pub(crate) async fn community_retrieve(
    st: &Shared,
    c: usize,
    r: &RetrieveImagingDocumentSetRequest,
) -> Answer {
    let mut a = super::rig_answer(st, r, home_of(c), false).await;
    a.operation = format!(
        "Cross Gateway Retrieve Imaging Document Set (community {})",
        home_of(c)
    );
    a
}

/// The RAD-75 endpoint of community `c`'s Responding Imaging Gateway: below the simulator that
/// `serve --xca-responding-gateways` names (its `/xca` base read as the server's), or this
/// server's own.
fn gateway_url(st: &Shared, c: usize) -> String {
    let xca = crate::reference::xca::XCA_PATH;
    let base = match st.xca_responding_gateways() {
        Some(b) => {
            let b = b.trim_end_matches('/');
            format!("{}{}", b.strip_suffix(xca).unwrap_or(b), super::XCAI_PATH)
        }
        None => format!("{}://{}{}", st.scheme(), st.bound(), super::XCAI_PATH),
    };
    let seg = COMMUNITIES.get(c).map_or("community-a", |x| x.1);
    format!("{base}/{seg}/{RIG_SEGMENT}")
}

/// The part of `r` whose DocumentRequests `keep` accepts, in the same study and series structure.
fn subset(
    r: &RetrieveImagingDocumentSetRequest,
    keep: impl Fn(&e::DocumentRequest) -> bool,
) -> RetrieveImagingDocumentSetRequest {
    let mut out = RetrieveImagingDocumentSetRequest {
        studies: Vec::new(),
        transfer_syntaxes: r.transfer_syntaxes.clone(),
    };
    for study in &r.studies {
        let mut s = StudyRequest {
            study_instance_uid: study.study_instance_uid.clone(),
            series: Vec::new(),
        };
        for series in &study.series {
            let documents: Vec<e::DocumentRequest> = series
                .documents
                .iter()
                .filter(|d| keep(d))
                .cloned()
                .collect();
            if !documents.is_empty() {
                s.series.push(SeriesRequest {
                    series_instance_uid: series.series_instance_uid.clone(),
                    documents,
                });
            }
        }
        if !s.series.is_empty() {
            out.studies.push(s);
        }
    }
    out
}

/// The community (index into [`COMMUNITIES`]) a DocumentRequest names, if it names a known one.
fn community_of(d: &e::DocumentRequest) -> Option<usize> {
    let h = d.home_community_id.as_deref().map(str::trim)?;
    COMMUNITIES.iter().position(|c| c.0 == h)
}

/// RAD-69 at the Initiating Imaging Gateway: one RAD-75 per community named, consolidated.
pub(crate) async fn retrieve(st: &Shared, r: &RetrieveImagingDocumentSetRequest) -> Answer {
    let mut errors = Vec::new();
    for d in r
        .studies
        .iter()
        .flat_map(|s| &s.series)
        .flat_map(|s| &s.documents)
    {
        if community_of(d).is_some() || st.has(Fault::XcaiIigUnknownCommunitySuccess) {
            continue;
        }
        let uid = d.document_unique_id.as_deref().unwrap_or_default();
        errors.push(
            match d
                .home_community_id
                .as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty())
            {
                Some(h) => error(
                    if st.has(Fault::XcaiIigUnknownCommunityOtherCode) {
                        "XDSRepositoryError"
                    } else {
                        "XDSUnknownCommunity"
                    },
                    &format!("homeCommunityId {h} names no community this gateway reaches"),
                    Some(uid),
                ),
                None => error(
                    "XDSMissingHomeCommunityId",
                    "the DocumentRequest names no HomeCommunityId: the gateway cannot route it",
                    Some(uid),
                ),
            },
        );
    }
    let mut legs: BTreeMap<usize, RetrieveImagingDocumentSetRequest> = BTreeMap::new();
    if st.has(Fault::XcaiIigSendsAllToOneRig) {
        legs.insert(0, subset(r, |d| community_of(d).is_some()));
    } else {
        for c in 0..COMMUNITIES.len() {
            legs.insert(c, subset(r, |d| community_of(d) == Some(c)));
        }
    }
    let (mut docs, mut attachments) = (Vec::new(), Vec::new());
    for (c, mut leg) in legs {
        if leg.studies.is_empty() {
            continue;
        }
        if st.has(Fault::XcaiIigDropsTransferSyntax) {
            leg.transfer_syntaxes = None;
        }
        let home = home_of(c);
        let url = gateway_url(st, c);
        let reply = call(st, &url, e::ACTION_XC_RETRIEVE_IMAGING, &leg.to_xml(), true).await;
        let resp = match reply.message {
            Ok(Message::RetrieveDocumentSetResponse(x)) => x,
            Ok(_) => {
                errors.push(error(
                    "XDSUnavailableCommunity",
                    &format!("community {home} is not available: {url} answered no RetrieveDocumentSetResponse"),
                    Some(home),
                ));
                continue;
            }
            Err(why) => {
                errors.push(error(
                    "XDSUnavailableCommunity",
                    &format!("community {home} is not available: {why}"),
                    Some(home),
                ));
                continue;
            }
        };
        if let Some(rr) = resp.registry_response {
            errors.extend(rr.errors);
        }
        for mut d in resp.documents {
            let bytes = crate::reference::xca::initiating_gateway::document_bytes(
                reply.attachments.as_ref(),
                d.document.as_ref(),
            );
            let uid = d.document_unique_id.clone().unwrap_or_default();
            let Some(bytes) = bytes else {
                errors.push(error(
                    "XDSRepositoryError",
                    &format!(
                        "the Responding Imaging Gateway {url} sent image {uid} without its bytes"
                    ),
                    Some(&uid),
                ));
                continue;
            };
            let cid = format!("doc{}@ihe-harness-imaging-gateway", docs.len());
            d.document = Some(DocumentContent::Xop {
                href: soap::cid_url(&cid),
            });
            let mime = d
                .mime_type
                .clone()
                .unwrap_or_else(|| "application/dicom".into());
            attachments.push((cid, mime, bytes));
            docs.push(d);
        }
    }
    let mut rr = crate::reference::xca::initiating_gateway::consolidated(
        !docs.is_empty(),
        errors,
        st.has(Fault::XcaiIigHidesFailure),
        st.has(Fault::XcaiIigUnknownCommunitySuccess),
    );
    shape_response(st, &mut rr);
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(rr),
        documents: docs,
    };
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Rad69,
        operation: "Retrieve Imaging Document Set (Initiating Imaging Gateway)".into(),
        action: e::ACTION_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}
