//! XCA-I checks of a Responding Imaging Gateway (the SUT) answering the harness's Initiating
//! Imaging Gateway: RAD-75 Cross Gateway Retrieve Imaging Document Set.
//!
//! RAD-75 is the RAD-69 request and response (Gazelle RAD75-001 and RAD75-005, which cite RAD
//! TF-2 §4.69.4.1.2 and §4.69.4.2.2) with HomeCommunityId in every DocumentRequest, the action
//! `urn:ihe:rad:2011:CrossGatewayRetrieveImagingDocumentSet` and its `…Response`. The structural
//! rules of the messages are the XDS ones ([`super::xds`], which applies them to RAD-75 as a
//! cross-community retrieve: ITI39-01, HomeCommunityId in every DocumentResponse, and no ITI43-02
//! breach for Success with fewer documents, which RAD75-003 allows); the images are judged as
//! RAD-69 images ([`super::xds_i`]: XDSI-09 transfer syntax, XDSI-10 exactly the instances held,
//! XDSI-13 the documents asked for). These checks add what only the gateway owes, judged against
//! the communities the SUT profile says it represents (`[xca_i] home_community_ids`):
//! - RAD75-02: the response action (IPF RAD-75 WSDL; NIST toolkit transaction table: the RAD TF
//!   WSDL table itself was not read, so this rests on those two);
//! - XCAI-03: the answers of its sources are consolidated into one (RAD75-003, RAD75-005): every
//!   image a source holds comes back, with PartialSuccess and the failures or Success with the
//!   failures suppressed — never Failure, never a found image dropped;
//! - XCAI-04: every RegistryError's `location` is set to the gateway's homeCommunityId (RAD75-004
//!   says "set to": equality, where ITI-39's "plus" is read as a token of the location);
//! - XCAI-05: every DocumentResponse echoes the HomeCommunityId its DocumentRequest named (RAD75-005
//!   → ITI TF-2 §3.43.4.2.2), which is one of the gateway's communities;
//! - XCAI-06: documents of a repository the gateway does not know are not returned, each has an
//!   error, and the answer is Failure when nothing is returned (ITI TF-3 Table 4.2.4.1-2 names
//!   XDSUnknownRepositoryId; the code is not judged: the NIST simulators use their own);
//! - XCAI-07: a DocumentRequest without HomeCommunityId is refused with XDSMissingHomeCommunityId,
//!   one naming a community the gateway does not represent with XDSUnknownCommunity (ITI TF-3
//!   Table 4.2.4.1-2, XGR rows: no "shall" of RAD-75 states it, so SHOULD);
//! - XCAI-08: a request in transfer syntaxes no source can produce returns no image and is a
//!   Failure with its errors (RAD TF-2 §4.69.4.2.3, RAD69-005, through RAD75-005).

use super::soap_message::{harness_request, SutMessage};
use super::{Check, Level, Subject, Verdict};
use crate::evidence::Direction;
use crate::model::ebrim::{self as e, DocumentRequest, Message, RetrieveDocumentSetResponse};
use crate::transaction::Transaction;

/// What an XCA-I exchange is judged against.
#[derive(Debug, Clone, Default)]
pub struct XcaiExpect {
    /// The homeCommunityIds the SUT's Responding Imaging Gateway represents (`[xca_i]`); empty
    /// when the scenario is no XCA-I scenario.
    pub home_community_ids: Vec<String>,
    /// RepositoryUniqueIds the harness asked at knowing no source of the gateway has them.
    pub unknown_repositories: Vec<String>,
    /// The request named only transfer syntaxes no source can produce.
    pub unproducible_syntaxes: bool,
}

const RAD75: &[&str] = &["RAD2-4.75"];

/// The checks.
pub const CHECKS: &[Check] = &[
    Check {
        id: "RAD75-02",
        requirement: "IHE RAD TF-2 §4.75 (RAD-75 actions, IPF RAD-75 WSDL and NIST toolkit \
                      transaction table: urn:ihe:rad:2011:\
                      CrossGatewayRetrieveImagingDocumentSetResponse)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "A RAD-75 answer carries the CrossGatewayRetrieveImagingDocumentSetResponse action",
        eval: response_action,
    },
    Check {
        id: "XCAI-03",
        requirement: "IHE RAD TF-2 §4.75 (Gazelle RAD75-003: one consolidated response, \
                      PartialSuccess or the failures suppressed; RAD75-005)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "Images found and images not found are consolidated into one answer that returns \
                every image found (PartialSuccess with the errors, or Success without them)",
        eval: consolidated,
    },
    Check {
        id: "XCAI-04",
        requirement: "IHE RAD TF-2 §4.75 (Gazelle RAD75-004: every RegistryError has location \
                      set to the homeCommunityId of the Responding Imaging Gateway)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "Every RegistryError of a RAD-75 answer has location set to the gateway's \
                homeCommunityId",
        eval: error_location,
    },
    Check {
        id: "XCAI-05",
        requirement: "IHE RAD TF-2 §4.75 (Gazelle RAD75-005 → RAD TF-2 §4.69.4.2.2 → ITI TF-2 \
                      §3.43.4.2.2: HomeCommunityId of the DocumentRequest echoed)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "Every DocumentResponse echoes the HomeCommunityId its DocumentRequest named",
        eval: home_echoed,
    },
    Check {
        id: "XCAI-06",
        requirement: "IHE ITI TF-3 Table 4.2.4.1-2 (XDSUnknownRepositoryId); ITI TF-2 \
                      §3.43.4.2.2; IHE RAD TF-2 §4.75 (RAD75-005)",
        requirements: &["RAD2-4.75", "ITI3-Table4.2.4.1-2"],
        level: Level::Shall,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "Documents of a repository the gateway does not know are not returned, each has an \
                error, and nothing returned is a Failure",
        eval: unknown_repository,
    },
    Check {
        id: "XCAI-07",
        requirement: "IHE ITI TF-3 Table 4.2.4.1-2 (XDSMissingHomeCommunityId, \
                      XDSUnknownCommunity: XGR); IHE RAD TF-2 §4.75 (RAD75-001)",
        requirements: &["RAD2-4.75", "ITI3-Table4.2.4.1-2"],
        level: Level::Should,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "A DocumentRequest without HomeCommunityId is refused with \
                XDSMissingHomeCommunityId, one naming another community with \
                XDSUnknownCommunity, its image not returned",
        eval: community_refused,
    },
    Check {
        id: "XCAI-08",
        requirement: "IHE RAD TF-2 §4.69.4.2.3 (RAD69-005) through §4.75 (RAD75-005)",
        requirements: &["RAD2-4.75", "RAD2-4.69.4.2.3"],
        level: Level::Shall,
        actor: "Responding Imaging Gateway (RAD-75)",
        title: "Images asked only in transfer syntaxes no source can produce are not returned: \
                Failure with an error",
        eval: unproducible,
    },
];

/// The SUT's RAD-75 answer, or why it is not judged.
fn answer(s: &Subject<'_>) -> Result<RetrieveDocumentSetResponse, Verdict> {
    let ex = s.exchange;
    if ex.transaction != Transaction::Rad75 || ex.direction != Direction::Outbound {
        return Err(Verdict::na(
            "not a RAD-75 answer of the SUT's Responding Imaging Gateway",
        ));
    }
    let msg = SutMessage::of(ex).map_err(|why| Verdict::na(why.to_string()))?;
    match msg.message() {
        Ok(Message::RetrieveDocumentSetResponse(r)) => Ok(r),
        Ok(_) => Err(Verdict::na("the answer is no RetrieveDocumentSetResponse")),
        Err(why) => Err(Verdict::na(format!("no ebXML message to judge: {why}"))),
    }
}

/// Every DocumentRequest of the harness's RAD-75 request.
fn asked(s: &Subject<'_>) -> Vec<DocumentRequest> {
    match harness_request(s.exchange) {
        Some(Message::RetrieveImagingDocumentSetRequest(r)) => r
            .studies
            .into_iter()
            .flat_map(|st| st.series)
            .flat_map(|se| se.documents)
            .collect(),
        _ => Vec::new(),
    }
}

fn known<'a>(s: &'a Subject<'_>) -> &'a [String] {
    &s.expect.xcai.home_community_ids
}

fn is_known(s: &Subject<'_>, home: &str) -> bool {
    known(s).iter().any(|k| k.trim() == home.trim())
}

fn trimmed(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

fn status(r: &RetrieveDocumentSetResponse) -> &str {
    r.registry_response
        .as_ref()
        .and_then(|rr| rr.status.as_deref())
        .unwrap_or("(none)")
}

fn short(status: &str) -> &str {
    status.rsplit(':').next().unwrap_or(status)
}

fn codes(r: &RetrieveDocumentSetResponse) -> Vec<&str> {
    r.registry_response
        .iter()
        .flat_map(|rr| &rr.errors)
        .filter_map(|er| er.error_code.as_deref())
        .collect()
}

fn error_count(r: &RetrieveDocumentSetResponse) -> usize {
    r.registry_response
        .as_ref()
        .map(|rr| {
            rr.errors
                .iter()
                .filter(|er| er.severity.as_deref() != Some(e::SEVERITY_WARNING))
                .count()
        })
        .unwrap_or_default()
}

fn returned(r: &RetrieveDocumentSetResponse, uid: &str) -> bool {
    r.documents
        .iter()
        .any(|d| trimmed(d.document_unique_id.as_deref()) == Some(uid.trim()))
}

fn response_action(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Rad75 || ex.direction != Direction::Outbound {
        return Verdict::na("not a RAD-75 answer of the SUT's Responding Imaging Gateway");
    }
    let env = match SutMessage::of(ex).map(|m| m.envelope()) {
        Ok(Ok(env)) => env,
        // An answer that is no SOAP envelope is XDS-SOAP-01's.
        Ok(Err(why)) => return Verdict::na(format!("no SOAP envelope: {why}")),
        Err(why) => return Verdict::na(why.to_string()),
    };
    let want = e::ACTION_XC_RETRIEVE_IMAGING_RESPONSE;
    match env.addressing.action.as_ref().map(|a| a.value.trim()) {
        Some(a) if a == want => Verdict::Pass,
        Some(a) => Verdict::fail(want, format!("wsa:Action {a}")),
        None => Verdict::fail(want, "no wsa:Action"),
    }
}

fn consolidated(s: &Subject<'_>) -> Verdict {
    let Some(found) = s.expect.xds.returnable.as_ref() else {
        return Verdict::na("the scenario does not say which images the sources hold");
    };
    let docs = asked(s);
    let (held, missing): (Vec<&DocumentRequest>, Vec<&DocumentRequest>) = docs
        .iter()
        .partition(|d| trimmed(d.document_unique_id.as_deref()).is_some_and(|u| found.contains(u)));
    if held.is_empty() || missing.is_empty() {
        return Verdict::na("the request does not mix images held and images not held");
    }
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let mut bad: Vec<String> = held
        .iter()
        .filter_map(|d| d.document_unique_id.as_deref())
        .filter(|u| !returned(&r, u))
        .map(|u| format!("image {u} is not returned"))
        .collect();
    let st = status(&r);
    if st != e::RESPONSE_PARTIAL_SUCCESS && st != e::RESPONSE_SUCCESS {
        bad.push(format!("status {}", short(st)));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "the {} image(s) held returned, PartialSuccess with the errors of the {} other(s) \
                 or Success without them",
                held.len(),
                missing.len()
            ),
            bad.join("; "),
        )
    }
}

fn error_location(s: &Subject<'_>) -> Verdict {
    if known(s).is_empty() {
        return Verdict::na("the gateway's communities are not known");
    }
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let errors = r.registry_response.map(|rr| rr.errors).unwrap_or_default();
    if errors.is_empty() {
        return Verdict::na("the answer reports no RegistryError");
    }
    let bad: Vec<String> = errors
        .iter()
        .filter_map(|er| {
            let code = er.error_code.as_deref().unwrap_or("(no errorCode)");
            match trimmed(er.location.as_deref()) {
                None => Some(format!("{code} has no location")),
                Some(l) if !is_known(s, l) => Some(format!("{code} has location {l}")),
                Some(_) => None,
            }
        })
        .collect();
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("location set to {}", known(s).join(" or ")),
            bad.join("; "),
        )
    }
}

fn home_echoed(s: &Subject<'_>) -> Verdict {
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if r.documents.is_empty() {
        return Verdict::na("the answer returns no image");
    }
    let docs = asked(s);
    let mut bad = Vec::new();
    for (i, d) in r.documents.iter().enumerate() {
        let uid = trimmed(d.document_unique_id.as_deref()).unwrap_or("(no DocumentUniqueId)");
        let asked_home = docs
            .iter()
            .find(|q| trimmed(q.document_unique_id.as_deref()) == Some(uid))
            .and_then(|q| trimmed(q.home_community_id.as_deref()));
        match (trimmed(d.home_community_id.as_deref()), asked_home) {
            (None, _) => bad.push(format!(
                "DocumentResponse #{} ({uid}) has no HomeCommunityId",
                i + 1
            )),
            (Some(h), Some(a)) if h != a => bad.push(format!(
                "DocumentResponse #{} ({uid}) has HomeCommunityId {h}, asked {a}",
                i + 1
            )),
            (Some(h), _) if !known(s).is_empty() && !is_known(s, h) => bad.push(format!(
                "DocumentResponse #{} ({uid}) has HomeCommunityId {h}, not the gateway's",
                i + 1
            )),
            _ => {}
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "the HomeCommunityId of each DocumentRequest echoed in its DocumentResponse",
            bad.join("; "),
        )
    }
}

fn unknown_repository(s: &Subject<'_>) -> Verdict {
    let unknown = &s.expect.xcai.unknown_repositories;
    let docs = asked(s);
    let foreign: Vec<&DocumentRequest> = docs
        .iter()
        .filter(|d| {
            trimmed(d.repository_unique_id.as_deref())
                .is_some_and(|r| unknown.iter().any(|u| u.trim() == r))
        })
        .collect();
    if foreign.is_empty() {
        return Verdict::na("no document is asked at a repository the gateway does not know");
    }
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let mut bad: Vec<String> = foreign
        .iter()
        .filter_map(|d| d.document_unique_id.as_deref())
        .filter(|u| returned(&r, u))
        .map(|u| format!("document {u} is returned"))
        .collect();
    let errors = error_count(&r);
    if errors < foreign.len() {
        bad.push(format!(
            "{errors} error(s) for {} document(s) of an unknown repository",
            foreign.len()
        ));
    }
    let st = status(&r);
    if r.documents.is_empty() && st != e::RESPONSE_FAILURE {
        bad.push(format!("status {} with no document returned", short(st)));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "an error for each of the {} document(s) of the unknown repository, none returned \
                 (XDSUnknownRepositoryId preferred)",
                foreign.len()
            ),
            format!("{} (errors [{}])", bad.join("; "), codes(&r).join(", ")),
        )
    }
}

fn community_refused(s: &Subject<'_>) -> Verdict {
    if known(s).is_empty() {
        return Verdict::na("the gateway's communities are not known");
    }
    let docs = asked(s);
    let mut wanted: Vec<(&str, String)> = Vec::new();
    for d in &docs {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        match trimmed(d.home_community_id.as_deref()) {
            None => wanted.push(("XDSMissingHomeCommunityId", uid)),
            Some(h) if !is_known(s, h) => wanted.push(("XDSUnknownCommunity", uid)),
            Some(_) => {}
        }
    }
    if wanted.is_empty() {
        return Verdict::na("every DocumentRequest names a community of the gateway");
    }
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let codes = codes(&r);
    let mut bad = Vec::new();
    for (code, uid) in &wanted {
        if returned(&r, uid) {
            bad.push(format!("document {uid} is returned"));
        }
        if !codes.contains(code) {
            bad.push(format!("no {code}"));
        }
    }
    bad.dedup();
    if bad.is_empty() {
        Verdict::Pass
    } else {
        let mut want: Vec<&str> = wanted.iter().map(|(c, _)| *c).collect();
        want.dedup();
        Verdict::fail(
            format!("{}, the documents not returned", want.join(" and ")),
            format!("{} (errors [{}])", bad.join("; "), codes.join(", ")),
        )
    }
}

fn unproducible(s: &Subject<'_>) -> Verdict {
    if !s.expect.xcai.unproducible_syntaxes {
        return Verdict::na("the request names a transfer syntax a source can produce");
    }
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let st = status(&r);
    let errors = error_count(&r);
    if r.documents.is_empty() && st == e::RESPONSE_FAILURE && errors > 0 {
        Verdict::Pass
    } else {
        Verdict::fail(
            "no image, Failure with an error per document",
            format!(
                "{} image(s), status {}, {errors} error(s)",
                r.documents.len(),
                short(st)
            ),
        )
    }
}

#[cfg(test)]
mod tests;
