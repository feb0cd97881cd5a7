//! The reference's XCA Initiating Gateway with the XDS Affinity Domain Option, and the Responding
//! Gateways of the two simulated communities behind a SUT Initiating Gateway.
//!
//! The Initiating Gateway answers a Document Consumer's ITI-18 and ITI-43 by asking the
//! Responding Gateways of communities A and B ([`COMMUNITIES`]) with ITI-38 and ITI-39, and
//! consolidates their answers, by the text (ITI TF-2 Rev. 20.0):
//! - §3.38.4.1.1: every parameter of the ITI-18, known or unknown, is passed into each ITI-38;
//! - §3.38.4.1.2.1: a query without a patient id carries `home`, the addressed community's, and
//!   goes only to that community's gateway (to each gateway, with its own community, when the
//!   consumer named none);
//! - §3.38.4.1.3: every entity received is passed on; an answer object without `home` is
//!   reflected as XDSMissingHomeCommunityId naming the gateway and the objects (and the object
//!   is not passed on: the consumer could not address it); XDSUnknownPatientId is not passed on;
//!   successes and failures together make a PartialSuccess with both lists;
//! - ITI TF-3 Table 4.2.4.1-2 Note 2: a community that cannot be reached is reported as
//!   XDSUnavailableCommunity;
//! - §3.43.4.1.3, §3.39.4.1.2: each DocumentRequest goes, by its HomeCommunityId, to the gateway
//!   of that community only, with the HomeCommunityId; §3.39.4.1.3: the answers are consolidated
//!   (PartialSuccess with the documents and the errors); the documents are passed unchanged.
//!
//! The simulated Responding Gateways answer from the reference's registry and repository,
//! split between the two communities by [`split`]: each patient's first study (by Study Instance
//! UID) is in community A, the others in B, so a patient's manifests are found across both. What
//! community B does wrong is set per scenario ([`Simulation`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use axum::http::StatusCode;
use bytes::Bytes;
use dicom_dictionary_std::tags;

pub use crate::config::xca::{COMMUNITIES, COMMUNITY_A, COMMUNITY_B};
use crate::model::ebrim::{
    self as e, AdhocQueryRequest, AdhocQueryResponse, DocumentContent, DocumentResponse, Message,
    RegistryError, RegistryResponse, RetrieveDocumentSetRequest, RetrieveDocumentSetResponse,
};
use crate::model::kos;
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::xds::endpoint::{error, shape_response, Answer};
use crate::transaction::Transaction;
use crate::transport::soap::{self, MtomLimits};

/// What the simulated Responding Gateway of community B does (community A always answers as it
/// should).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers by the text.
    #[default]
    Conformant,
    /// Refuses every query with XDSRegistryError.
    RegistryError,
    /// Does not know the patient: XDSUnknownPatientId.
    UnknownPatient,
    /// Leaves `home` off every object it returns.
    OmitsHome,
    /// Cannot be reached (answers HTTP 503 without a SOAP body).
    Unavailable,
}

/// The simulated communities' state a scenario sets.
#[derive(Debug, Default)]
pub struct Simulation {
    community_b: Mutex<Behaviour>,
}

impl Simulation {
    /// What community B does from now on.
    pub fn set_community_b(&self, b: Behaviour) {
        *self
            .community_b
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = b;
    }

    /// What community B does.
    pub fn community_b(&self) -> Behaviour {
        *self
            .community_b
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The community (index into [`COMMUNITIES`]) of each manifest, by its SOP Instance UID, from
/// `(patient id, Study Instance UID, manifest SOP Instance UID)`: a patient's first study (by
/// Study Instance UID) is in community A, the others in community B.
pub fn split(manifests: &[(String, String, String)]) -> BTreeMap<String, usize> {
    let mut studies: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (p, s, _) in manifests {
        studies.entry(p.as_str()).or_default().insert(s.as_str());
    }
    manifests
        .iter()
        .map(|(p, s, uid)| {
            let first = studies
                .get(p.as_str())
                .and_then(|set| set.iter().next())
                .is_some_and(|f| *f == s.as_str());
            (uid.clone(), if first { 0 } else { 1 })
        })
        .collect()
}

/// The manifests of the reference's archive, split between the communities.
fn communities_of(st: &Shared) -> BTreeMap<String, usize> {
    let archive = st.archive();
    let mut manifests = Vec::new();
    for (study_uid, study) in archive.sorted_studies() {
        for inst in study.instances() {
            if inst.sop_class == kos::KOS_SOP_CLASS {
                let p = inst.text(tags::PATIENT_ID).unwrap_or_default();
                manifests.push((p, study_uid.clone(), inst.sop_uid.clone()));
            }
        }
    }
    split(&manifests)
}

fn home_of(community: usize) -> &'static str {
    COMMUNITIES.get(community).map_or(COMMUNITY_A, |c| c.0)
}

/// Does a stored query name a patient?
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

fn unavailable(transaction: Transaction) -> Answer {
    Answer {
        status: StatusCode::SERVICE_UNAVAILABLE,
        transaction,
        operation: "community unavailable".into(),
        action: "http://www.w3.org/2005/08/addressing/soap/fault",
        body_xml: String::new(),
        attachments: Vec::new(),
        mtom: false,
    }
}

fn query_failure(code: &str, context: &str, home: &str) -> AdhocQueryResponse {
    AdhocQueryResponse {
        response: RegistryResponse {
            status: Some(e::RESPONSE_FAILURE.into()),
            has_error_list: true,
            errors: vec![error(code, context, Some(home))],
        },
        objects: Default::default(),
        has_object_list: true,
    }
}

/// ITI-38 at the simulated Responding Gateway of `community`.
pub(crate) fn community_query(st: &Shared, community: usize, q: &AdhocQueryRequest) -> Answer {
    let home = home_of(community);
    let behaviour = if community == 1 {
        st.xca_simulation().community_b()
    } else {
        Behaviour::Conformant
    };
    if behaviour == Behaviour::Unavailable {
        return unavailable(Transaction::Iti38);
    }
    let asked = q.home.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let resp = match asked {
        Some(h) if h != home => query_failure(
            "XDSUnknownCommunity",
            &format!("homeCommunityId {h} is not the community of this gateway ({home})"),
            home,
        ),
        None if !names_patient(q) => query_failure(
            "XDSMissingHomeCommunityId",
            "a stored query that names no patient must name the community (AdhocQuery/@home)",
            home,
        ),
        _ if behaviour == Behaviour::RegistryError => query_failure(
            "XDSRegistryError",
            &format!("the registry of community {home} is out of service"),
            home,
        ),
        _ if behaviour == Behaviour::UnknownPatient && names_patient(q) => query_failure(
            "XDSUnknownPatientId",
            &format!("community {home} does not know the patient"),
            home,
        ),
        _ => community_answer(st, community, q),
    };
    let mut resp = resp;
    if behaviour == Behaviour::OmitsHome {
        for eo in &mut resp.objects.extrinsic_objects {
            eo.home = None;
        }
        for r in &mut resp.objects.object_refs {
            r.home = None;
        }
    }
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti38,
        operation: format!(
            "Cross Gateway Query {} (community {})",
            q.query_id.as_deref().unwrap_or("(no query id)"),
            home
        ),
        action: e::ACTION_XC_QUERY_RESPONSE,
        body_xml: resp.to_xml(),
        attachments: Vec::new(),
        mtom: false,
    }
}

/// The registry's answer, reduced to the community's manifests, every object marked with `home`.
fn community_answer(st: &Shared, community: usize, q: &AdhocQueryRequest) -> AdhocQueryResponse {
    let home = home_of(community);
    let split = communities_of(st);
    let ours = |uid: &str| split.get(uid).is_some_and(|c| *c == community);
    let registry = st.xds().registry();
    let mut resp = registry.query(q);
    // The entryUUIDs of the community's entries, for an ObjectRef answer.
    let mut leaf = q.clone();
    leaf.return_type = Some("LeafClass".into());
    let ids: BTreeSet<String> = registry
        .query(&leaf)
        .objects
        .extrinsic_objects
        .iter()
        .filter(|eo| eo.identifier(e::DE_UNIQUE_ID).is_some_and(|u| ours(&u)))
        .filter_map(|eo| eo.id.clone())
        .collect();
    drop(registry);
    let o = &mut resp.objects;
    o.extrinsic_objects
        .retain(|eo| eo.identifier(e::DE_UNIQUE_ID).is_some_and(|u| ours(&u)));
    o.object_refs
        .retain(|r| r.id.as_deref().is_some_and(|id| ids.contains(id)));
    for eo in &mut o.extrinsic_objects {
        eo.home = Some(home.into());
    }
    for rp in &mut o.registry_packages {
        rp.home = Some(home.into());
    }
    for r in &mut o.object_refs {
        r.home = Some(home.into());
    }
    for er in &mut resp.response.errors {
        er.location = Some(home.into());
    }
    resp
}

/// ITI-39 at the simulated Responding Gateway of `community`.
pub(crate) fn community_retrieve(
    st: &Shared,
    community: usize,
    r: &RetrieveDocumentSetRequest,
) -> Answer {
    let home = home_of(community);
    let behaviour = if community == 1 {
        st.xca_simulation().community_b()
    } else {
        Behaviour::Conformant
    };
    if behaviour == Behaviour::Unavailable {
        return unavailable(Transaction::Iti39);
    }
    let split = communities_of(st);
    let xds = st.xds();
    let repo = xds.repository();
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut attachments = Vec::new();
    for (i, d) in r.documents.iter().enumerate() {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let location = format!("{home}/{uid}");
        let asked = d
            .home_community_id
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        let refusal = match asked {
            None => Some((
                "XDSMissingHomeCommunityId",
                "a Cross Gateway Retrieve DocumentRequest names its HomeCommunityId".to_string(),
            )),
            Some(h) if h != home => Some((
                "XDSUnknownCommunity",
                format!("homeCommunityId {h} is not the community of this gateway ({home})"),
            )),
            Some(_) if behaviour == Behaviour::RegistryError => Some((
                "XDSRepositoryError",
                format!("the repository of community {home} is out of service"),
            )),
            Some(_) => None,
        };
        if let Some((code, context)) = refusal {
            errors.push(error(code, &context, Some(&location)));
            continue;
        }
        let stored = repo
            .get(&uid)
            .filter(|_| split.get(&uid).is_some_and(|c| *c == community));
        let Some(stored) = stored else {
            errors.push(error(
                "XDSDocumentUniqueIdError",
                &format!("community {home} holds no document {uid}"),
                Some(&location),
            ));
            continue;
        };
        let cid = format!("doc{i}@ihe-harness-community");
        docs.push(DocumentResponse {
            home_community_id: asked.map(str::to_string),
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
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(RegistryResponse {
            status: Some(status.into()),
            has_error_list: !errors.is_empty(),
            errors,
        }),
        documents: docs,
    };
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti39,
        operation: format!("Cross Gateway Retrieve (community {home})"),
        action: e::ACTION_XC_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}

// ---------------------------------------------------------------------------------------------
// The Initiating Gateway

/// The endpoint of community `c`'s Responding Gateway (`query` or `retrieve`).
fn gateway_url(st: &Shared, c: usize, what: &str) -> String {
    let base = match st.xca_responding_gateways() {
        Some(b) => b.trim_end_matches('/').to_string(),
        None => format!("{}://{}{}", st.scheme(), st.bound(), super::XCA_PATH),
    };
    let seg = COMMUNITIES.get(c).map_or("community-a", |x| x.1);
    format!("{base}/{seg}/responding-gateway/{what}")
}

/// The largest Responding Gateway answer the Initiating Gateway reads.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// A Responding Gateway's answer, or why there is none.
pub(crate) struct Reply {
    pub(crate) message: Result<Message, String>,
    pub(crate) attachments: Option<soap::MtomMessage>,
}

/// The bytes of a document a gateway returned: inline, or the MTOM/XOP part of `attachments` its
/// `xop:Include` names.
pub(crate) fn document_bytes(
    attachments: Option<&soap::MtomMessage>,
    content: Option<&DocumentContent>,
) -> Option<Bytes> {
    match content {
        Some(DocumentContent::Inline(b)) => Some(Bytes::from(b.clone())),
        Some(DocumentContent::Xop { href }) => attachments
            .and_then(|m| m.resolve(href))
            .and_then(|a| a.data.bytes().cloned()),
        _ => None,
    }
}

/// Send one request to a Responding Gateway and read its answer.
pub(crate) async fn call(
    st: &Shared,
    url: &str,
    action: &str,
    body_xml: &str,
    mtom: bool,
) -> Reply {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let seed = format!("{url}{body_xml}{now}");
    let id = soap::message_id_from(seed.as_bytes());
    let (ct, mut body) = crate::actors::xds::soap_request(url, action, &id, body_xml, mtom, &[]);
    if st.has(Fault::XcaIgLegWithoutMessageId) {
        let element = format!("<wsa:MessageID>{id}</wsa:MessageID>");
        if let Some(at) = memchr::memmem::find(&body, element.as_bytes()) {
            body.drain(at..at + element.len());
        }
    }
    let client = crate::transport::factory::upstream_client(&Default::default());
    let failed = |why: String| Reply {
        message: Err(why),
        attachments: None,
    };
    let resp = match client
        .post(url)
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(err) => return failed(format!("{url} could not be reached: {err}")),
    };
    let status = resp.status();
    let rct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Read within a bound: a gateway's answer larger than the reference holds is no answer.
    let mut resp = resp;
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) if bytes.len() + c.len() <= MAX_ANSWER => bytes.extend_from_slice(&c),
            Ok(Some(_)) => {
                return failed(format!(
                    "{url} answered more than {MAX_ANSWER} bytes, more than this gateway reads"
                ))
            }
            Ok(None) => break,
            Err(err) => return failed(format!("{url} broke off its answer: {err}")),
        }
    }
    if !status.is_success() {
        return failed(format!("{url} answered HTTP {}", status.as_u16()));
    }
    let (envelope, attachments) = if soap::is_multipart_related(&rct) {
        match soap::parse_mtom(&rct, &bytes, &MtomLimits::default()) {
            Ok(m) => match m.envelope(&soap::XmlLimits::default()) {
                Ok(env) => (env, Some(m)),
                Err(err) => return failed(format!("{url} answered no SOAP envelope: {err}")),
            },
            Err(err) => return failed(format!("{url} answered no MTOM package: {err}")),
        }
    } else {
        match soap::parse_envelope(&bytes) {
            Ok(env) => (env, None),
            Err(err) => return failed(format!("{url} answered no SOAP envelope: {err}")),
        }
    };
    let message = match envelope.body.as_ref() {
        Some(b) => e::parse_message(b).map_err(|err| format!("{url} answered {err}")),
        None => Err(format!("{url} answered an empty SOAP Body")),
    };
    Reply {
        message,
        attachments,
    }
}

fn unavailable_error(st: &Shared, home: &str, why: &str) -> RegistryError {
    error(
        if st.has(Fault::XcaIgUnavailableAsRegistryError) {
            "XDSRegistryError"
        } else {
            "XDSUnavailableCommunity"
        },
        &format!("community {home} is not available: {why}"),
        Some(home),
    )
}

/// ITI-18 at the Initiating Gateway: one ITI-38 per community it concerns, consolidated.
pub(crate) async fn stored_query(st: &Shared, q: &AdhocQueryRequest) -> Answer {
    let asked = q.home.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let targets: Vec<usize> = match asked {
        Some(h) => COMMUNITIES
            .iter()
            .position(|c| c.0 == h)
            .into_iter()
            .collect(),
        None => (0..COMMUNITIES.len()).collect(),
    };
    let mut out = AdhocQueryResponse {
        has_object_list: true,
        ..Default::default()
    };
    let mut errors = Vec::new();
    let mut answered = false;
    if let (Some(h), true) = (asked, targets.is_empty()) {
        errors.push(error(
            "XDSUnknownCommunity",
            &format!("homeCommunityId {h} names no community this gateway reaches"),
            Some(h),
        ));
    }
    let patient = names_patient(q);
    for (n, c) in targets.iter().copied().enumerate() {
        let home = home_of(c);
        let mut leg = q.clone();
        if !patient {
            leg.home = Some(home.into());
        }
        if st.has(Fault::XcaIgGetdocumentsWithoutHome) {
            leg.home = None;
        }
        if st.has(Fault::XcaIgDropsParameter) {
            leg.params
                .retain(|p| p.name != "$XDSDocumentEntryFormatCode");
        }
        let url = gateway_url(st, c, "query");
        let reply = call(st, &url, e::ACTION_XC_QUERY, &leg.to_xml(), false).await;
        let r = match reply.message {
            Ok(Message::AdhocQueryResponse(r)) => r,
            Ok(_) => {
                errors.push(unavailable_error(
                    st,
                    home,
                    &format!("{url} answered no AdhocQueryResponse"),
                ));
                continue;
            }
            Err(why) => {
                errors.push(unavailable_error(st, home, &why));
                continue;
            }
        };
        if r.response.status.as_deref() != Some(e::RESPONSE_FAILURE) {
            answered = true;
        }
        for er in r.response.errors {
            let unknown_patient = er.error_code.as_deref() == Some("XDSUnknownPatientId");
            if unknown_patient && !st.has(Fault::XcaIgPassesUnknownPatient) {
                continue;
            }
            errors.push(er);
        }
        if st.has(Fault::XcaIgDropsCommunity) && n > 0 {
            continue;
        }
        let mut objects = r.objects;
        let mut homeless = Vec::new();
        let keep = |home: &Option<String>, id: &Option<String>, homeless: &mut Vec<String>| {
            let ok = home.as_deref().is_some_and(|h| !h.trim().is_empty());
            if !ok {
                homeless.push(id.clone().unwrap_or_else(|| "(no id)".into()));
            }
            ok || st.has(Fault::XcaIgAcceptsMissingHome)
        };
        objects
            .extrinsic_objects
            .retain(|o| keep(&o.home, &o.id, &mut homeless));
        objects
            .registry_packages
            .retain(|o| keep(&o.home, &o.id, &mut homeless));
        objects
            .object_refs
            .retain(|o| keep(&o.home, &o.id, &mut homeless));
        if !homeless.is_empty() && !st.has(Fault::XcaIgAcceptsMissingHome) {
            errors.push(error(
                "XDSMissingHomeCommunityId",
                &format!(
                    "the Responding Gateway {url} returned without homeCommunityId: {}",
                    homeless.join(", ")
                ),
                Some(home),
            ));
        }
        let o = &mut out.objects;
        o.extrinsic_objects.extend(objects.extrinsic_objects);
        o.registry_packages.extend(objects.registry_packages);
        o.object_refs.extend(objects.object_refs);
        o.associations.extend(objects.associations);
        o.classifications.extend(objects.classifications);
        o.external_identifiers.extend(objects.external_identifiers);
    }
    let failing = errors
        .iter()
        .any(|er| er.severity.as_deref() != Some(e::SEVERITY_WARNING));
    let status = match (failing, answered) {
        (false, _) => e::RESPONSE_SUCCESS,
        (true, true) => e::RESPONSE_PARTIAL_SUCCESS,
        (true, false) => e::RESPONSE_FAILURE,
    };
    out.response = RegistryResponse {
        status: Some(status.into()),
        has_error_list: !errors.is_empty(),
        errors,
    };
    if st.has(Fault::XcaIgHidesFailure) && answered {
        out.response = RegistryResponse {
            status: Some(e::RESPONSE_SUCCESS.into()),
            has_error_list: false,
            errors: Vec::new(),
        };
    }
    shape_response(st, &mut out.response);
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti18,
        operation: format!(
            "Registry Stored Query {} (Initiating Gateway)",
            q.query_id.as_deref().unwrap_or("(no query id)")
        ),
        action: e::ACTION_STORED_QUERY_RESPONSE,
        body_xml: out.to_xml(),
        attachments: Vec::new(),
        mtom: false,
    }
}

/// ITI-43 at the Initiating Gateway: one ITI-39 per community named, consolidated.
pub(crate) async fn retrieve(st: &Shared, r: &RetrieveDocumentSetRequest) -> Answer {
    let mut errors = Vec::new();
    let mut per_community: BTreeMap<usize, Vec<e::DocumentRequest>> = BTreeMap::new();
    for d in &r.documents {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let asked = d
            .home_community_id
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        match asked.and_then(|h| COMMUNITIES.iter().position(|c| c.0 == h)) {
            Some(c) => {
                let c = if st.has(Fault::XcaIgRetrieveWrongGateway) {
                    0
                } else {
                    c
                };
                per_community.entry(c).or_default().push(d.clone());
            }
            None => errors.push(match asked {
                Some(h) => error(
                    "XDSUnknownCommunity",
                    &format!("homeCommunityId {h} names no community this gateway reaches"),
                    Some(&uid),
                ),
                None => error(
                    "XDSMissingHomeCommunityId",
                    "the DocumentRequest names no HomeCommunityId: the gateway cannot route it",
                    Some(&uid),
                ),
            }),
        }
    }
    let mut docs = Vec::new();
    let mut attachments = Vec::new();
    for (c, mut requests) in per_community {
        let home = home_of(c);
        if st.has(Fault::XcaIgRetrieveWithoutHome) {
            for d in &mut requests {
                d.home_community_id = None;
            }
        }
        let url = gateway_url(st, c, "retrieve");
        let leg = RetrieveDocumentSetRequest {
            documents: requests,
        };
        let reply = call(st, &url, e::ACTION_XC_RETRIEVE, &leg.to_xml(), true).await;
        let resp = match reply.message {
            Ok(Message::RetrieveDocumentSetResponse(x)) => x,
            Ok(_) => {
                errors.push(unavailable_error(
                    st,
                    home,
                    &format!("{url} answered no RetrieveDocumentSetResponse"),
                ));
                continue;
            }
            Err(why) => {
                errors.push(unavailable_error(st, home, &why));
                continue;
            }
        };
        if let Some(rr) = resp.registry_response {
            errors.extend(rr.errors);
        }
        for mut d in resp.documents {
            let bytes = document_bytes(reply.attachments.as_ref(), d.document.as_ref());
            let uid = d.document_unique_id.clone().unwrap_or_default();
            let Some(bytes) = bytes else {
                errors.push(error(
                    "XDSRepositoryError",
                    &format!("the Responding Gateway {url} sent document {uid} without its bytes"),
                    Some(&uid),
                ));
                continue;
            };
            if st.has(Fault::XcaIgRewritesHome) {
                d.home_community_id = Some(COMMUNITY_A.into());
            }
            let cid = format!("doc{}@ihe-harness-gateway", docs.len());
            d.document = Some(DocumentContent::Xop {
                href: soap::cid_url(&cid),
            });
            let mime = d
                .mime_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            attachments.push((cid, mime, bytes));
            docs.push(d);
        }
    }
    let mut rr = consolidated(
        !docs.is_empty(),
        errors,
        st.has(Fault::XcaIgRetrieveHidesFailure),
        false,
    );
    shape_response(st, &mut rr);
    let resp = RetrieveDocumentSetResponse {
        registry_response: Some(rr),
        documents: docs,
    };
    Answer {
        status: StatusCode::OK,
        transaction: Transaction::Iti43,
        operation: "Retrieve Document Set (Initiating Gateway)".into(),
        action: e::ACTION_RETRIEVE_RESPONSE,
        body_xml: resp.to_xml(),
        attachments,
        mtom: true,
    }
}

/// The RegistryResponse of a consolidated retrieve answer (ITI TF-2 §3.39.4.1.3, RAD-75 by the
/// same reading): Failure when no document comes back, PartialSuccess when some do and an error
/// (not a warning) is reported, else Success. `hide_failure` (a fault) reports a partial answer
/// as a plain Success without its errors; `empty_success` (a fault) answers Success when nothing
/// came back and no error was made.
pub(crate) fn consolidated(
    found_any: bool,
    errors: Vec<RegistryError>,
    hide_failure: bool,
    empty_success: bool,
) -> RegistryResponse {
    if hide_failure && found_any {
        return RegistryResponse {
            status: Some(e::RESPONSE_SUCCESS.into()),
            has_error_list: false,
            errors: Vec::new(),
        };
    }
    let status = if !found_any {
        if empty_success && errors.is_empty() {
            e::RESPONSE_SUCCESS
        } else {
            e::RESPONSE_FAILURE
        }
    } else if errors
        .iter()
        .any(|er| er.severity.as_deref() != Some(e::SEVERITY_WARNING))
    {
        e::RESPONSE_PARTIAL_SUCCESS
    } else {
        e::RESPONSE_SUCCESS
    };
    RegistryResponse {
        status: Some(status.into()),
        has_error_list: !errors.is_empty(),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Communities that cannot be reached make a Failure with XDSUnavailableCommunity for each,
    /// not a hang or a SOAP Fault.
    #[tokio::test]
    async fn unreachable_communities_are_reported_unavailable() {
        use crate::reference::tests::fixtures_dir;
        use crate::reference::{ReferenceOptions, ReferenceServer};
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        let server = ReferenceServer::start(
            ReferenceOptions::new(fixtures_dir())
                .with_xca_responding_gateways(format!("http://127.0.0.1:{port}/xca")),
        )
        .await
        .expect("server");
        let mut cfg = crate::config::xca::Xca::embedded(&server.xca_base()).initiating_as_xds(None);
        cfg.timeouts = Default::default();
        let c = crate::actors::xds::XdsClient::new(&cfg, &Default::default()).expect("client");
        let q = AdhocQueryRequest::find_documents(
            "CTH-0001^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",
            &[e::STATUS_APPROVED],
            &[],
            "LeafClass",
        );
        let ex = c.stored_query(&q, "test").await.expect("endpoint");
        let m = crate::checks::soap_message::SutMessage::of(&ex)
            .expect("soap")
            .message()
            .expect("message");
        let Message::AdhocQueryResponse(r) = m else {
            panic!("not an AdhocQueryResponse");
        };
        assert_eq!(r.response.status.as_deref(), Some(e::RESPONSE_FAILURE));
        let codes: Vec<_> = r
            .response
            .errors
            .iter()
            .filter_map(|er| er.error_code.as_deref())
            .collect();
        assert_eq!(
            codes,
            ["XDSUnavailableCommunity", "XDSUnavailableCommunity"]
        );
        server.shutdown().await;
    }

    #[test]
    fn each_patient_has_a_study_in_each_community() {
        let m = |p: &str, s: &str, u: &str| (p.to_string(), s.to_string(), u.to_string());
        let split = split(&[
            m("P1", "2.25.9", "k9"),
            m("P1", "2.25.1", "k1"),
            m("P2", "2.25.5", "k5"),
        ]);
        assert_eq!(split.get("k1"), Some(&0));
        assert_eq!(split.get("k9"), Some(&1));
        assert_eq!(split.get("k5"), Some(&0));
    }
}
