//! XCA-I checks of an Initiating Imaging Gateway (the SUT): the harness is the Imaging Document
//! Consumer in front of it (RAD-69 with HomeCommunityId in every DocumentRequest) and the
//! Responding Imaging Gateways of two communities behind it (RAD-75).
//!
//! Each check judges the gateway's answer to the consumer (the exchange) together with the RAD-75
//! requests the gateway sent to the simulated Responding Imaging Gateways because of it
//! ([`XcaiIgExpect::legs`], read by the step that waited for them), so the checks stay pure:
//! - XCAI-09: one RAD-75 per community named, sent to that community's gateway, holding only that
//!   community's DocumentRequests, and no RAD-75 to a community not named (Sequoia XCAI-004: the
//!   IIG initiates RAD-75; NIST iig_2018-5403a and its ValidateRad75Request-B, which expects the
//!   community B request to hold only B's documents);
//! - XCAI-10: each RAD-75 DocumentRequest keeps the Study, Series and Document UIDs, the
//!   RepositoryUniqueId and the HomeCommunityId of the RAD-69 one, and the RAD-75 keeps the
//!   TransferSyntaxUIDList (Gazelle RAD75-001: the RAD-75 request has the semantics of the RAD-69
//!   request, RAD TF-2 §4.69.4.1.2; the transfer syntaxes are the consumer's, not the gateway's);
//! - XCAI-12: images from one community and errors from another make a PartialSuccess with the
//!   DocumentResponses and the RegistryErrorList (RAD-69 has the ITI-43 response semantics; ITI
//!   TF-2 §3.39.4.1.3 says it of the XCA Initiating Gateway, which the IIG is the imaging
//!   counterpart of: a reading, stated as SHALL as the text it rests on);
//! - XCAI-13: a DocumentRequest naming a community the gateway does not reach returns no image
//!   and an error, and the answer is Failure when nothing is returned (ITI TF-3 Table 4.2.4.1-2;
//!   NIST iig_2018-5404c expects Failure and an error, not a code);
//! - XCAI-15: that error is `XDSUnknownCommunity` (ITI TF-3 Table 4.2.4.1-2 names the code for
//!   this case; no shall of RAD-69 or RAD-75 states it: SHOULD).

use std::collections::{BTreeMap, BTreeSet};

use super::soap_message::{harness_request, SutMessage};
use super::xca_initiating::{is_error, leg_retrieve_answer, Leg};
use super::{Check, Level, Subject, Verdict};
use crate::evidence::Direction;
use crate::model::ebrim::{
    self as e, Message, RetrieveDocumentSetResponse, RetrieveImagingDocumentSetRequest,
};
use crate::transaction::Transaction;

/// What an Initiating Imaging Gateway scenario knows.
#[derive(Debug, Clone, Default)]
pub struct XcaiIgExpect {
    /// The RAD-75 requests the consumer's RAD-69 caused (`Leg::community` is the community of
    /// the gateway that received it); empty when the gateway sent none.
    pub legs: Vec<Leg>,
    /// The simulated communities (homeCommunityId to gateway URL), when the scenario is one.
    pub communities: BTreeMap<String, String>,
}

const RAD75: &[&str] = &["RAD2-4.75-IIG"];

/// The checks.
pub const CHECKS: &[Check] = &[
    Check {
        id: "XCAI-09",
        requirement: "IHE RAD TF-2 §4.75 (Sequoia XCAI-004: the Initiating Imaging Gateway \
                      initiates RAD-75 to the Responding Imaging Gateway of each community; NIST \
                      iig_2018-5403a)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Initiating Imaging Gateway (RAD-75)",
        title: "One RAD-75 per community named, sent to that community's Responding Imaging \
                Gateway and holding only that community's DocumentRequests",
        eval: one_request_per_community,
    },
    Check {
        id: "XCAI-10",
        requirement: "IHE RAD TF-2 §4.75 (Gazelle RAD75-001: the RAD-75 request has the semantics \
                      of the RAD-69 request, RAD TF-2 §4.69.4.1.2)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Initiating Imaging Gateway (RAD-75)",
        title: "The RAD-75 keeps the Study, Series and Document UIDs, RepositoryUniqueIds, \
                HomeCommunityIds and the TransferSyntaxUIDList of the consumer's RAD-69",
        eval: request_kept,
    },
    Check {
        id: "XCAI-12",
        requirement: "IHE RAD TF-2 §4.69.4.2.2 (ITI-43 response semantics; ITI TF-2 §3.39.4.1.3: \
                      documents and errors together are returned as PartialSuccess with both)",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Initiating Imaging Gateway (RAD-69 answer)",
        title: "Images from one community and errors from another make a PartialSuccess with \
                the images and the errors",
        eval: partial_success,
    },
    Check {
        id: "XCAI-13",
        requirement: "IHE ITI TF-3 Table 4.2.4.1-2 (a request naming a community the gateway \
                      does not know is an error); NIST iig_2018-5404c",
        requirements: RAD75,
        level: Level::Shall,
        actor: "Initiating Imaging Gateway (RAD-69 answer)",
        title: "An image of a community the gateway does not reach is not returned but refused \
                with an error; nothing returned is a Failure",
        eval: unknown_community_refused,
    },
    Check {
        id: "XCAI-15",
        requirement: "IHE ITI TF-3 Table 4.2.4.1-2 (XDSUnknownCommunity: a homeCommunityId the \
                      gateway does not know)",
        requirements: RAD75,
        level: Level::Should,
        actor: "Initiating Imaging Gateway (RAD-69 answer)",
        title: "An image of a community the gateway does not reach is refused with \
                XDSUnknownCommunity",
        eval: unknown_community_code,
    },
];

fn x<'a>(s: &Subject<'a>) -> &'a XcaiIgExpect {
    &s.expect.xcai_ig
}

/// One DocumentRequest of a RAD-69 or RAD-75, with its place in the request, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Doc {
    study: String,
    series: String,
    home: String,
    repository: String,
    uid: String,
}

fn t(v: Option<&String>) -> String {
    v.map(|s| s.trim().to_string()).unwrap_or_default()
}

fn docs(r: &RetrieveImagingDocumentSetRequest) -> Vec<Doc> {
    let mut out = Vec::new();
    for study in &r.studies {
        for series in &study.series {
            for d in &series.documents {
                out.push(Doc {
                    study: t(study.study_instance_uid.as_ref()),
                    series: t(series.series_instance_uid.as_ref()),
                    home: t(d.home_community_id.as_ref()),
                    repository: t(d.repository_unique_id.as_ref()),
                    uid: t(d.document_unique_id.as_ref()),
                });
            }
        }
    }
    out
}

fn syntaxes(r: &RetrieveImagingDocumentSetRequest) -> Vec<String> {
    r.transfer_syntaxes
        .iter()
        .flatten()
        .map(|s| s.trim().to_string())
        .collect()
}

/// The consumer's RAD-69, when the exchange is one sent to the SUT's Initiating Imaging Gateway.
fn consumer_request(s: &Subject<'_>) -> Result<RetrieveImagingDocumentSetRequest, Verdict> {
    let ex = s.exchange;
    if ex.transaction != Transaction::Rad69 || ex.direction != Direction::Outbound {
        return Err(Verdict::na(
            "not a RAD-69 sent to the SUT's Initiating Imaging Gateway",
        ));
    }
    if x(s).communities.is_empty() {
        return Err(Verdict::na(
            "no simulated community behind the imaging gateway",
        ));
    }
    match harness_request(ex) {
        Some(Message::RetrieveImagingDocumentSetRequest(r)) => Ok(r),
        _ => Err(Verdict::na("the consumer's RAD-69 is not in the exchange")),
    }
}

/// The gateway's answer to the consumer.
fn answer(s: &Subject<'_>) -> Result<RetrieveDocumentSetResponse, Verdict> {
    consumer_request(s)?;
    let msg = SutMessage::of(s.exchange).map_err(|why| Verdict::na(why.to_string()))?;
    match msg.message() {
        Ok(Message::RetrieveDocumentSetResponse(r)) => Ok(r),
        Ok(_) => Err(Verdict::na("the answer is no RetrieveDocumentSetResponse")),
        Err(why) => Err(Verdict::na(format!("no ebXML message to judge: {why}"))),
    }
}

fn legs<'a>(s: &Subject<'a>) -> Vec<&'a Leg> {
    x(s).legs
        .iter()
        .filter(|l| l.transaction == Some(Transaction::Rad75))
        .collect()
}

fn leg_request(l: &Leg) -> Option<&RetrieveImagingDocumentSetRequest> {
    match &l.request {
        Some(Message::RetrieveImagingDocumentSetRequest(r)) => Some(r),
        _ => None,
    }
}

fn status_name(status: Option<&str>) -> &str {
    status
        .map(|s| s.rsplit(':').next().unwrap_or(s))
        .unwrap_or("(no status)")
}

fn one_request_per_community(s: &Subject<'_>) -> Verdict {
    let req = match consumer_request(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let asked = docs(&req);
    let mut bad = Vec::new();
    for c in x(s).communities.keys() {
        let want: BTreeSet<&str> = asked
            .iter()
            .filter(|d| d.home == *c)
            .map(|d| d.uid.as_str())
            .collect();
        let mine: Vec<&Leg> = legs(s).into_iter().filter(|l| l.community == *c).collect();
        if want.is_empty() {
            if !mine.is_empty() {
                bad.push(format!(
                    "community {c} received {} RAD-75 though no DocumentRequest names it",
                    mine.len()
                ));
            }
            continue;
        }
        if mine.len() != 1 {
            bad.push(format!(
                "community {c} received {} RAD-75 requests, not one",
                mine.len()
            ));
        }
        let mut got = BTreeSet::new();
        for l in &mine {
            match leg_request(l) {
                Some(r) => got.extend(docs(r).into_iter().map(|d| d.uid)),
                None => bad.push(format!("the RAD-75 to community {c} is unreadable")),
            }
        }
        let got: BTreeSet<&str> = got.iter().map(String::as_str).collect();
        let missing: Vec<&str> = want.difference(&got).copied().collect();
        let foreign: Vec<&str> = got.difference(&want).copied().collect();
        if !missing.is_empty() && !mine.is_empty() {
            bad.push(format!(
                "community {c} was not asked for {}",
                missing.join(", ")
            ));
        }
        if !foreign.is_empty() {
            bad.push(format!(
                "community {c} was asked for images of other communities: {}",
                foreign.join(", ")
            ));
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "one RAD-75 per community named, with only that community's DocumentRequests",
            bad.join("; "),
        )
    }
}

fn request_kept(s: &Subject<'_>) -> Verdict {
    let req = match consumer_request(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let legs = legs(s);
    if legs.is_empty() {
        return Verdict::na("the gateway sent no RAD-75");
    }
    let asked = docs(&req);
    let want_ts = syntaxes(&req);
    let mut bad = Vec::new();
    for l in legs {
        let Some(r) = leg_request(l) else {
            bad.push(format!(
                "the RAD-75 to community {} is unreadable",
                l.community
            ));
            continue;
        };
        let got_ts = syntaxes(r);
        if got_ts != want_ts {
            bad.push(format!(
                "the RAD-75 to community {} asks transfer syntaxes [{}], the consumer asked [{}]",
                l.community,
                got_ts.join(", "),
                want_ts.join(", ")
            ));
        }
        for d in docs(r) {
            match asked.iter().find(|a| a.uid == d.uid) {
                None => bad.push(format!(
                    "the RAD-75 to community {} asks {}, which the consumer did not",
                    l.community, d.uid
                )),
                Some(a) if *a != d => bad.push(format!(
                    "{}: study {}, series {}, repository {}, community {} in the RAD-75; the \
                     consumer asked study {}, series {}, repository {}, community {}",
                    d.uid,
                    d.study,
                    d.series,
                    d.repository,
                    d.home,
                    a.study,
                    a.series,
                    a.repository,
                    a.home
                )),
                Some(_) => {}
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "each RAD-75 keeps the consumer's identifiers and TransferSyntaxUIDList",
            bad.join("; "),
        )
    }
}

fn partial_success(s: &Subject<'_>) -> Verdict {
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let legs = legs(s);
    let gave = legs
        .iter()
        .any(|l| leg_retrieve_answer(l).is_some_and(|a| !a.documents.is_empty()));
    let failed: Vec<&str> = legs
        .iter()
        .filter(|l| {
            leg_retrieve_answer(l).is_none_or(|a| {
                a.registry_response
                    .as_ref()
                    .is_some_and(|rr| rr.errors.iter().any(is_error))
            })
        })
        .map(|l| l.community.as_str())
        .collect();
    if failed.is_empty() || !gave {
        return Verdict::na("no community failed while another returned images");
    }
    let rr = r.registry_response.clone().unwrap_or_default();
    let mut bad = Vec::new();
    let partial = matches!(
        rr.status.as_deref().map(str::trim),
        Some(e::RESPONSE_PARTIAL_SUCCESS) | Some(e::RESPONSE_PARTIAL_SUCCESS_OASIS)
    );
    if !partial {
        bad.push(format!("status {}", status_name(rr.status.as_deref())));
    }
    if !rr.errors.iter().any(is_error) {
        bad.push("no RegistryError of severity Error".to_string());
    }
    if r.documents.is_empty() {
        bad.push("no DocumentResponse".to_string());
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "PartialSuccess with the images returned and the errors of community {}",
                failed.join(", ")
            ),
            bad.join("; "),
        )
    }
}

/// The DocumentUniqueIds the consumer asked in communities the gateway does not reach.
fn unknown_asked(s: &Subject<'_>, req: &RetrieveImagingDocumentSetRequest) -> BTreeSet<String> {
    docs(req)
        .into_iter()
        .filter(|d| !d.home.is_empty() && !x(s).communities.contains_key(&d.home))
        .map(|d| d.uid)
        .collect()
}

fn unknown_community_refused(s: &Subject<'_>) -> Verdict {
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(Message::RetrieveImagingDocumentSetRequest(req)) = harness_request(s.exchange) else {
        return Verdict::na("the consumer's RAD-69 is not in the exchange");
    };
    let unknown = unknown_asked(s, &req);
    if unknown.is_empty() {
        return Verdict::na("no DocumentRequest names an unknown community");
    }
    let rr = r.registry_response.clone().unwrap_or_default();
    let mut bad = Vec::new();
    for d in &r.documents {
        let uid = t(d.document_unique_id.as_ref());
        if unknown.contains(&uid) {
            bad.push(format!("image {uid} of an unknown community was returned"));
        }
    }
    if !rr.errors.iter().any(is_error) {
        bad.push("no RegistryError of severity Error".to_string());
    }
    if r.documents.is_empty() && rr.status.as_deref().map(str::trim) != Some(e::RESPONSE_FAILURE) {
        bad.push(format!(
            "status {} with nothing returned",
            status_name(rr.status.as_deref())
        ));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "an error for the images of the unknown community, Failure when nothing is returned",
            bad.join("; "),
        )
    }
}

fn unknown_community_code(s: &Subject<'_>) -> Verdict {
    let r = match answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(Message::RetrieveImagingDocumentSetRequest(req)) = harness_request(s.exchange) else {
        return Verdict::na("the consumer's RAD-69 is not in the exchange");
    };
    if unknown_asked(s, &req).is_empty() {
        return Verdict::na("no DocumentRequest names an unknown community");
    }
    let errors = r.registry_response.map(|rr| rr.errors).unwrap_or_default();
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|er| er.error_code.as_deref().map(str::trim))
        .collect();
    if codes.contains(&"XDSUnknownCommunity") {
        Verdict::Pass
    } else {
        Verdict::fail(
            "XDSUnknownCommunity",
            if codes.is_empty() {
                "no error code".to_string()
            } else {
                format!("errors {}", codes.join(", "))
            },
        )
    }
}

#[cfg(test)]
#[path = "xcai_initiating_tests.rs"]
mod tests;
