//! The reference's XCA-I Responding Imaging Gateway (RAD-75 Cross Gateway Retrieve Imaging
//! Document Set) in front of its own Imaging Document Source: the community identified by
//! [`DEFAULT_HOME_COMMUNITY_ID`], the same community whose Responding Gateway answers ITI-38 and
//! ITI-39 ([`crate::reference::xca`]). When `serve --wado-upstream` names an origin server, the
//! Imaging Document Source answers from its WADO-RS, so the gateway serves that server's images.
//!
//! What it does, by the text (Gazelle XCA-I assertions, which cite RAD TF-2 §4.75; the RAD-69
//! semantics of RAD TF-2 §4.69 and ITI TF-2 §3.43):
//! - RAD75-002: the documents of its community go, as one RAD-69 request keeping the study and
//!   series structure, the HomeCommunityId and the TransferSyntaxUIDList (RAD69-001), to the
//!   Imaging Document Source; a DocumentRequest without HomeCommunityId is refused with
//!   `XDSMissingHomeCommunityId`, one naming another community with `XDSUnknownCommunity` (ITI
//!   TF-3 Table 4.2.4.1-2, XGR rows);
//! - RAD75-003, RAD75-005: the source's images and errors are consolidated into one answer,
//!   PartialSuccess when some documents are returned and some are not;
//! - RAD75-004: every RegistryError's `location` is the gateway's homeCommunityId;
//! - ITI TF-2 §3.43.4.2.2: every DocumentResponse echoes the HomeCommunityId asked;
//! - the answer carries the RAD-75 response action and is MTOM/XOP.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;

pub use crate::config::xca::DEFAULT_HOME_COMMUNITY_ID;
use crate::model::ebrim::{
    self as e, RegistryResponse, RetrieveDocumentSetResponse, RetrieveImagingDocumentSetRequest,
    SeriesRequest, StudyRequest,
};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::xds::endpoint::{error, serve, status_of, Answer, Endpoint};
use crate::reference::xds::imaging_source::imaging_answer;
use crate::transaction::Transaction;

pub mod initiating_imaging_gateway;

/// Paths of the gateway's endpoints below the server root.
pub const XCAI_PATH: &str = "/xca-i";

/// The path of the RAD-75 endpoint below the server root.
pub const RETRIEVE_PATH: &str = "/xca-i/responding-imaging-gateway";

/// A community other than the gateway's, named by the fault that breaks the echo.
const OTHER_COMMUNITY: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.999";

/// Explicit VR Little Endian, which every fixture image can be sent in.
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// The Responding Imaging Gateway's RAD-75 endpoint.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(RETRIEVE_PATH, post(retrieve))
        .route(
            initiating_imaging_gateway::IIG_PATH,
            post(
                |State(st): State<Shared>, h: HeaderMap, b: axum::body::Body| async move {
                    let path = initiating_imaging_gateway::IIG_PATH;
                    serve(st, Endpoint::XcaiIgRetrieve, path, h, b).await
                },
            ),
        )
        .route(
            &format!(
                "{XCAI_PATH}/community-a/{}",
                initiating_imaging_gateway::RIG_SEGMENT
            ),
            post(|st, h, b| community(st, h, b, 0)),
        )
        .route(
            &format!(
                "{XCAI_PATH}/community-b/{}",
                initiating_imaging_gateway::RIG_SEGMENT
            ),
            post(|st, h, b| community(st, h, b, 1)),
        )
        .layer(DefaultBodyLimit::disable())
}

async fn retrieve(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    serve(st, Endpoint::XcaiRetrieve, RETRIEVE_PATH, headers, body).await
}

/// The simulated Responding Imaging Gateway of community `c` (0: A, 1: B).
async fn community(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
    c: usize,
) -> Response {
    let seg = crate::config::xca::COMMUNITIES
        .get(c)
        .map_or("community-a", |x| x.1);
    let path = format!(
        "{XCAI_PATH}/{seg}/{}",
        initiating_imaging_gateway::RIG_SEGMENT
    );
    serve(st, Endpoint::XcaiCommunityRetrieve(c), &path, headers, body).await
}

/// Why a DocumentRequest is refused before it reaches a source, if it is.
fn refusal(
    ignores_home: bool,
    home: &str,
    asked: Option<&str>,
    uid: &str,
) -> Option<(&'static str, String)> {
    if ignores_home {
        return None;
    }
    match asked.map(str::trim).filter(|h| !h.is_empty()) {
        None => Some((
            "XDSMissingHomeCommunityId",
            format!("the DocumentRequest for {uid} names no HomeCommunityId"),
        )),
        Some(h) if h != home => Some((
            "XDSUnknownCommunity",
            format!("homeCommunityId {h} is not a community of this gateway ({home})"),
        )),
        Some(_) => None,
    }
}

/// RAD-75 Cross Gateway Retrieve Imaging Document Set.
pub(crate) async fn cross_gateway_retrieve_imaging(
    st: &Shared,
    r: &RetrieveImagingDocumentSetRequest,
) -> Answer {
    rig_answer(st, r, DEFAULT_HOME_COMMUNITY_ID, true).await
}

/// A Responding Imaging Gateway of community `home` in front of the reference's Imaging Document
/// Source: the reference's own (`faulty`: the injected `xcai-rig-*` faults apply), or a simulated
/// community's behind a SUT Initiating Imaging Gateway (always by the text).
pub(crate) async fn rig_answer(
    st: &Shared,
    r: &RetrieveImagingDocumentSetRequest,
    home: &str,
    faulty: bool,
) -> Answer {
    let has = |f: Fault| faulty && st.has(f);
    let mut errors = Vec::new();
    let mut asked = 0usize;
    // What goes to the Imaging Document Source: this community's documents, in the study and
    // series structure asked, with the transfer syntaxes asked.
    let mut forwarded = RetrieveImagingDocumentSetRequest {
        studies: Vec::new(),
        transfer_syntaxes: r.transfer_syntaxes.clone(),
    };
    for study in &r.studies {
        let mut fs = StudyRequest {
            study_instance_uid: study.study_instance_uid.clone(),
            series: Vec::new(),
        };
        for series in &study.series {
            let mut fse = SeriesRequest {
                series_instance_uid: series.series_instance_uid.clone(),
                documents: Vec::new(),
            };
            for d in &series.documents {
                asked += 1;
                let uid = d.document_unique_id.as_deref().unwrap_or_default();
                if let Some((code, context)) = refusal(
                    has(Fault::XcaiRigIgnoresHome),
                    home,
                    d.home_community_id.as_deref(),
                    uid,
                ) {
                    errors.push(error(code, &context, Some(home)));
                    continue;
                }
                let mut d = d.clone();
                if has(Fault::XcaiRigIgnoresHome) {
                    d.home_community_id = Some(home.into());
                }
                fse.documents.push(d);
            }
            if !fse.documents.is_empty() {
                fs.series.push(fse);
            }
        }
        if !fs.series.is_empty() {
            forwarded.studies.push(fs);
        }
    }
    if has(Fault::XcaiRigTranscodesUnasked) {
        let ts = forwarded.transfer_syntaxes.get_or_insert_with(Vec::new);
        if !ts.iter().any(|t| t == EXPLICIT_VR_LE) {
            ts.push(EXPLICIT_VR_LE.into());
        }
    }
    let (mut docs, mut attachments) = (Vec::new(), Vec::new());
    if !forwarded.studies.is_empty() {
        let (resp, parts) = imaging_answer(st, &forwarded).await;
        docs = resp.documents;
        attachments = parts;
        let source_errors = resp
            .registry_response
            .map(|rr| rr.errors)
            .unwrap_or_default();
        for mut er in source_errors {
            if has(Fault::XcaiRigUnknownSourceSuccess)
                && er.error_code.as_deref() == Some("XDSUnknownRepositoryId")
            {
                continue;
            }
            if !has(Fault::XcaiRigErrorLocationSource) {
                er.location = Some(home.into());
            }
            errors.push(er);
        }
    }
    for d in &mut docs {
        if has(Fault::XcaiRigStripsHome) {
            d.home_community_id = None;
        } else if has(Fault::XcaiRigOtherHome) {
            d.home_community_id = Some(OTHER_COMMUNITY.into());
        }
    }
    if has(Fault::XcaiRigDropsFoundOnError) && !errors.is_empty() {
        docs.clear();
        attachments.clear();
    }
    let status = if has(Fault::XcaiRigUnknownSourceSuccess) && errors.is_empty() {
        e::RESPONSE_SUCCESS
    } else {
        status_of(docs.len(), asked.max(1))
    };
    let rr = RegistryResponse {
        status: Some(status.into()),
        has_error_list: !errors.is_empty(),
        errors,
    };
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(rr),
        documents: docs,
    };
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Rad75,
        operation: "Cross Gateway Retrieve Imaging Document Set".into(),
        action: if has(Fault::XcaiRigRad69ResponseAction) {
            e::ACTION_RETRIEVE_RESPONSE
        } else {
            e::ACTION_XC_RETRIEVE_IMAGING_RESPONSE
        },
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}
