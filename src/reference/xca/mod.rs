//! The reference's XCA Responding Gateway (ITI-38 Cross Gateway Query, ITI-39 Cross Gateway
//! Retrieve) over its own XDS registry and repository: one community, identified by
//! [`DEFAULT_HOME_COMMUNITY_ID`], whose gateway answers the harness's Initiating Gateway.
//!
//! What it does, by the text (ITI TF-2 Rev. 20.0):
//! - §3.38.4.1.3: a request naming a homeCommunityId the gateway does not represent is answered
//!   `XDSUnknownCommunity`; a stored query that names no patient and no `home` is answered
//!   `XDSMissingHomeCommunityId`; every other query goes to the local registry with all its
//!   parameters, and every ExtrinsicObject, RegistryPackage and ObjectRef of the answer carries
//!   `home`; every RegistryError's `location` is the gateway's homeCommunityId.
//! - §3.39.4.1.3, §3.39.5: ITI-39 is ITI-43 with HomeCommunityId required; each DocumentResponse
//!   echoes the HomeCommunityId asked (§3.43.4.2.2); errors carry the community in `location`
//!   (with the DocumentUniqueId, as ITI-43's location reads: `community/document`).
//! - Table 3.38.5-2, 3.39.5-2: the Cross Gateway response actions; ITI-39 answers are MTOM/XOP.
//!
//! The endpoints live below [`XCA_PATH`] and share the XDS endpoints' reading, recording and
//! packaging ([`crate::reference::xds::endpoint`]).

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;

pub use crate::config::xca::DEFAULT_HOME_COMMUNITY_ID;
use crate::model::ebrim::{
    self as e, AdhocQueryRequest, AdhocQueryResponse, DocumentContent, DocumentResponse,
    RegistryResponse, RetrieveDocumentSetRequest, RetrieveDocumentSetResponse,
};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::xds::endpoint::{error, serve, shape_response, Answer, Endpoint};
use crate::transaction::Transaction;
use crate::transport::soap;

pub mod initiating_gateway;

/// Paths of the gateway's endpoints below the server root.
pub const XCA_PATH: &str = "/xca";

/// A community other than the gateway's, named by the faults that break `home`.
const OTHER_COMMUNITY: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.999";

/// The Responding Gateway's ITI-38 and ITI-39 endpoints below [`XCA_PATH`].
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(&format!("{XCA_PATH}/responding-gateway/query"), post(query))
        .route(
            &format!("{XCA_PATH}/responding-gateway/retrieve"),
            post(retrieve),
        )
        .route(
            &format!("{XCA_PATH}/initiating-gateway/query"),
            post(ig_query),
        )
        .route(
            &format!("{XCA_PATH}/initiating-gateway/retrieve"),
            post(ig_retrieve),
        )
        .route(
            &format!("{XCA_PATH}/community-a/responding-gateway/query"),
            post(|st, h, b| community(st, h, b, 0, false)),
        )
        .route(
            &format!("{XCA_PATH}/community-a/responding-gateway/retrieve"),
            post(|st, h, b| community(st, h, b, 0, true)),
        )
        .route(
            &format!("{XCA_PATH}/community-b/responding-gateway/query"),
            post(|st, h, b| community(st, h, b, 1, false)),
        )
        .route(
            &format!("{XCA_PATH}/community-b/responding-gateway/retrieve"),
            post(|st, h, b| community(st, h, b, 1, true)),
        )
        .layer(DefaultBodyLimit::disable())
}

async fn ig_query(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let path = format!("{XCA_PATH}/initiating-gateway/query");
    serve(st, Endpoint::XcaIgQuery, &path, headers, body).await
}

async fn ig_retrieve(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let path = format!("{XCA_PATH}/initiating-gateway/retrieve");
    serve(st, Endpoint::XcaIgRetrieve, &path, headers, body).await
}

/// The simulated Responding Gateway of community `c` (0: A, 1: B).
async fn community(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
    c: usize,
    retrieve: bool,
) -> Response {
    let seg = crate::config::xca::COMMUNITIES
        .get(c)
        .map_or("community-a", |x| x.1);
    let what = if retrieve { "retrieve" } else { "query" };
    let path = format!("{XCA_PATH}/{seg}/responding-gateway/{what}");
    let endpoint = if retrieve {
        Endpoint::XcaCommunityRetrieve(c)
    } else {
        Endpoint::XcaCommunityQuery(c)
    };
    serve(st, endpoint, &path, headers, body).await
}

async fn query(State(st): State<Shared>, headers: HeaderMap, body: axum::body::Body) -> Response {
    let path = format!("{XCA_PATH}/responding-gateway/query");
    serve(st, Endpoint::XcaQuery, &path, headers, body).await
}

async fn retrieve(
    State(st): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let path = format!("{XCA_PATH}/responding-gateway/retrieve");
    serve(st, Endpoint::XcaRetrieve, &path, headers, body).await
}

/// Does the gateway represent `home`? (The fault makes it claim every community.)
fn represents(st: &Shared, home: &str) -> bool {
    home.trim() == DEFAULT_HOME_COMMUNITY_ID || st.has(Fault::XcaRgIgnoresUnknownCommunity)
}

/// Does a stored query name a patient (ITI TF-2 §3.38.4.1: `home` is required when it does not)?
fn names_patient(q: &AdhocQueryRequest) -> bool {
    q.params.iter().any(|p| {
        matches!(
            p.name.as_str(),
            "$XDSDocumentEntryPatientId"
                | "$XDSSubmissionSetPatientId"
                | "$XDSFolderPatientId"
                | "$patientId"
        )
    })
}

/// ITI-38 Cross Gateway Query.
pub(crate) fn cross_gateway_query(st: &Shared, q: &AdhocQueryRequest) -> Answer {
    let home = DEFAULT_HOME_COMMUNITY_ID;
    let refusal = match q.home.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) if !represents(st, h) => Some((
            "XDSUnknownCommunity",
            format!("homeCommunityId {h} is not a community of this gateway ({home})"),
        )),
        None if !names_patient(q) => Some((
            "XDSMissingHomeCommunityId",
            "a stored query that names no patient must name the community (AdhocQuery/@home)"
                .to_string(),
        )),
        _ => None,
    };
    let mut resp = match refusal {
        Some((code, context)) => AdhocQueryResponse {
            response: RegistryResponse {
                status: Some(e::RESPONSE_FAILURE.into()),
                has_error_list: true,
                errors: vec![error(code, &context, Some(home))],
            },
            objects: Default::default(),
            has_object_list: true,
        },
        None => st.xds().registry().query(q),
    };
    let marked = if st.has(Fault::XcaRgForeignHome) {
        OTHER_COMMUNITY
    } else {
        home
    };
    let objects = &mut resp.objects;
    for eo in &mut objects.extrinsic_objects {
        eo.home = Some(marked.into());
    }
    for rp in &mut objects.registry_packages {
        rp.home = Some(marked.into());
    }
    for r in &mut objects.object_refs {
        r.home = Some(marked.into());
    }
    if st.has(Fault::XcaRgOmitsHome) {
        if let Some(eo) = objects.extrinsic_objects.get_mut(1) {
            eo.home = None;
        }
        if let Some(r) = objects.object_refs.get_mut(1) {
            r.home = None;
        }
    }
    for er in &mut resp.response.errors {
        er.location = Some(if st.has(Fault::XcaRgErrorLocationRegistry) {
            "registry".into()
        } else {
            home.into()
        });
    }
    shape_response(st, &mut resp.response);
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti38,
        operation: format!(
            "Cross Gateway Query {}",
            q.query_id.as_deref().unwrap_or("(no query id)")
        ),
        action: if st.has(Fault::XcaRgStoredQueryAction) {
            e::ACTION_STORED_QUERY_RESPONSE
        } else {
            e::ACTION_XC_QUERY_RESPONSE
        },
        body_xml: resp.to_xml(),
        attachments: Vec::new(),
        mtom: false,
    }
}

/// ITI-39 Cross Gateway Retrieve.
pub(crate) fn cross_gateway_retrieve(st: &Shared, r: &RetrieveDocumentSetRequest) -> Answer {
    let home = DEFAULT_HOME_COMMUNITY_ID;
    let xds = st.xds();
    let repo = xds.repository();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut attachments = Vec::new();
    for (i, d) in r.documents.iter().enumerate() {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let location = if st.has(Fault::XcaRgErrorLocationRegistry) {
            uid.clone()
        } else {
            format!("{home}/{uid}")
        };
        let asked_home = d
            .home_community_id
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        match asked_home {
            None => {
                errors.push(error(
                    "XDSMissingHomeCommunityId",
                    "a Cross Gateway Retrieve DocumentRequest names its HomeCommunityId",
                    Some(&location),
                ));
                continue;
            }
            Some(h) if !represents(st, h) => {
                errors.push(error(
                    "XDSUnknownCommunity",
                    &format!("homeCommunityId {h} is not a community of this gateway ({home})"),
                    Some(&location),
                ));
                continue;
            }
            Some(_) => {}
        }
        if d.repository_unique_id.as_deref() != Some(xds.repository_unique_id.as_str()) {
            errors.push(error(
                "XDSUnknownRepositoryId",
                &format!(
                    "repository {} is not a repository of this community",
                    d.repository_unique_id.as_deref().unwrap_or("(none)")
                ),
                Some(&location),
            ));
            continue;
        }
        let Some(stored) = repo.get(&uid) else {
            errors.push(error(
                "XDSDocumentUniqueIdError",
                &format!("no document {uid}"),
                Some(&location),
            ));
            continue;
        };
        let cid = format!("doc{i}@ihe-harness-reference");
        let echoed = if st.has(Fault::XcaRgRetrieveOmitsHome) {
            None
        } else if st.has(Fault::XcaRgRetrieveOtherHome) {
            Some(OTHER_COMMUNITY.to_string())
        } else {
            asked_home.map(str::to_string)
        };
        docs.push(DocumentResponse {
            home_community_id: echoed,
            repository_unique_id: Some(xds.repository_unique_id.clone()),
            document_unique_id: Some(uid.clone()),
            new_repository_unique_id: None,
            new_document_unique_id: None,
            mime_type: Some(stored.mime_type.clone()),
            document: Some(DocumentContent::Xop {
                href: soap::cid_url(&cid),
            }),
        });
        attachments.push((cid, stored.mime_type.clone(), Bytes::clone(&stored.bytes)));
    }
    let status = crate::reference::xds::endpoint::status_of(docs.len(), r.documents.len());
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
        transaction: Transaction::Iti39,
        operation: "Cross Gateway Retrieve".into(),
        action: e::ACTION_XC_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}
