//! XCA checks of a Responding Gateway (the SUT) answering the harness's Initiating Gateway:
//! ITI-38 Cross Gateway Query and ITI-39 Cross Gateway Retrieve (IHE ITI TF-2 Rev. 20.0 §3.38,
//! §3.39; ITI TF-3 §4.2.4).
//!
//! The structural rules of the messages are the XDS ones ([`super::xds`], which applies them to
//! ITI-38 and ITI-39 with the Cross Gateway actions of ITI TF-2 Tables 3.38.5-2 and 3.39.5-2, and
//! ITI39-01: HomeCommunityId in every DocumentResponse); the outcome and identity checks of
//! [`super::xds_i`] (XDSI-01, XDSI-12, XDSI-13) judge them as answers to their request. These
//! checks add what only a gateway owes, judged against the communities the SUT profile says the
//! gateway represents (`[xca] home_community_ids`):
//! - ITI38-01: `home` on every returned ExtrinsicObject, RegistryPackage and ObjectRef, naming a
//!   community of the gateway (§3.38.4.1.3: "Specify the homeCommunityId attribute within the
//!   ExtrinsicObject and RegistryPackage elements … and within the ObjectRef elements");
//! - ITI38-03: a query naming a community the gateway does not represent is refused with
//!   XDSUnknownCommunity (§3.38.4.1.3: "Return an XDSUnknownCommunity error if the value of
//!   homeCommunityId is specified and is not known");
//! - ITI39-04: the same for a Cross Gateway Retrieve DocumentRequest. ITI TF-3 Table 4.2.4.1-2
//!   lists XDSUnknownCommunity for XGR, but §3.39 itself states no "shall" for it: SHOULD, and a
//!   warning unless strict. Returning a document for a community the gateway does not represent
//!   is judged here too (the answer would not be to that request);
//! - ITI38-05: every RegistryError of an ITI-38 answer has `location` set to one of the
//!   gateway's homeCommunityIds (§3.38.4.1.3);
//! - ITI39-02: every RegistryError of an ITI-39 answer carries the gateway's homeCommunityId in
//!   `location`, "plus" what §3.43 asks (§3.39.4.1.3); no syntax is given for the combination, so
//!   the community must appear as a token of its own.

use super::soap_message::{harness_request, SutMessage};
use super::{Check, Level, Subject, Verdict};
use crate::evidence::Direction;
use crate::model::ebrim::{self as e, Message};
use crate::transaction::Transaction;

/// What an XCA exchange is judged against.
#[derive(Debug, Clone, Default)]
pub struct XcaExpect {
    /// The homeCommunityIds the SUT's Responding Gateway represents (`[xca]`); empty when the
    /// scenario is no XCA scenario.
    pub home_community_ids: Vec<String>,
}

/// The checks.
pub const CHECKS: &[Check] = &[
    Check {
        id: "ITI38-01",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (Responding Gateway: homeCommunityId on \
                      ExtrinsicObject, RegistryPackage and ObjectRef), §3.38.4.1.2.1",
        requirements: &["ITI2-3.38.4.1.3"],
        level: Level::Shall,
        actor: "Responding Gateway (ITI-38)",
        title: "Every ExtrinsicObject, RegistryPackage and ObjectRef of a Cross Gateway Query \
                answer carries `home`, naming a community the gateway represents",
        eval: home_on_every_object,
    },
    Check {
        id: "ITI38-03",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (Return an XDSUnknownCommunity error if the \
                      value of homeCommunityId is specified and is not known); ITI TF-3 Table \
                      4.2.4.1-2",
        requirements: &["ITI2-3.38.4.1.3"],
        level: Level::Shall,
        actor: "Responding Gateway (ITI-38)",
        title: "A Cross Gateway Query naming a community the gateway does not represent is \
                refused with XDSUnknownCommunity and returns no objects",
        eval: query_unknown_community,
    },
    Check {
        id: "ITI39-04",
        requirement: "IHE ITI TF-3 Table 4.2.4.1-2 (XDSUnknownCommunity: XGR); ITI TF-2 \
                      §3.39.4.1.3, §3.43.4.2.2",
        requirements: &["ITI3-Table4.2.4.1-2"],
        level: Level::Should,
        actor: "Responding Gateway (ITI-39)",
        title: "A Cross Gateway Retrieve DocumentRequest naming a community the gateway does not \
                represent is refused with XDSUnknownCommunity, its document not returned",
        eval: retrieve_unknown_community,
    },
    Check {
        id: "ITI38-05",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (every RegistryError element returned in the \
                      response shall have the location attribute set to one of the \
                      homeCommunityIds of the Responding Gateway)",
        requirements: &["ITI2-3.38.4.1.3"],
        level: Level::Shall,
        actor: "Responding Gateway (ITI-38)",
        title: "Every RegistryError of a Cross Gateway Query answer has `location` set to one of \
                the gateway's homeCommunityIds",
        eval: query_error_location,
    },
    Check {
        id: "ITI39-02",
        requirement: "IHE ITI TF-2 §3.39.4.1.3 (the location attribute of every RegistryError \
                      holds what §3.43 requires plus the homeCommunityId of the Responding \
                      Gateway)",
        requirements: &["ITI2-3.39.4.1.3"],
        level: Level::Shall,
        actor: "Responding Gateway (ITI-39)",
        title: "Every RegistryError of a Cross Gateway Retrieve answer names one of the \
                gateway's homeCommunityIds in `location`",
        eval: retrieve_error_location,
    },
];

/// The RegistryErrors whose `location` fails `ok`, described.
fn misplaced(errors: &[e::RegistryError], ok: &dyn Fn(&str) -> bool) -> Vec<String> {
    errors
        .iter()
        .filter_map(|er| {
            let code = er.error_code.as_deref().unwrap_or("(no errorCode)");
            match er.location.as_deref().map(str::trim) {
                None | Some("") => Some(format!("{code} has no location")),
                Some(l) if !ok(l) => Some(format!("{code} has location {l}")),
                Some(_) => None,
            }
        })
        .collect()
}

fn located(
    s: &Subject<'_>,
    errors: &[e::RegistryError],
    ok: &dyn Fn(&str) -> bool,
    how: &str,
) -> Verdict {
    if known(s).is_empty() {
        return Verdict::na("the gateway's communities are not known");
    }
    if errors.is_empty() {
        return Verdict::na("the answer reports no RegistryError");
    }
    let bad = misplaced(errors, ok);
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("location {how} one of {}", known(s).join(", ")),
            bad.join("; "),
        )
    }
}

fn query_error_location(s: &Subject<'_>) -> Verdict {
    let m = match answer(s, Transaction::Iti38) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::AdhocQueryResponse(r) = m else {
        return Verdict::na("the answer is no AdhocQueryResponse");
    };
    located(s, &r.response.errors, &|l| is_known(s, l), "set to")
}

/// ITI-39: the location holds the ITI-43 content plus the community (ITI TF-2 §3.39.4.1.3). The
/// text fixes no syntax for the combination: the community must appear in it as a token of its
/// own (the whole value, or a part delimited by characters an OID URN does not contain).
fn retrieve_error_location(s: &Subject<'_>) -> Verdict {
    let m = match answer(s, Transaction::Iti39) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::RetrieveDocumentSetResponse(r) = m else {
        return Verdict::na("the answer is no RetrieveDocumentSetResponse");
    };
    let errors = r.registry_response.map(|rr| rr.errors).unwrap_or_default();
    let contains = |l: &str| {
        l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == ':'))
            .any(|t| is_known(s, t))
    };
    located(s, &errors, &contains, "containing")
}

/// The SUT's answer in an outbound exchange of `transaction`, or why it is not judged.
fn answer(s: &Subject<'_>, transaction: Transaction) -> Result<Message, Verdict> {
    let ex = s.exchange;
    if ex.transaction != transaction || ex.direction != Direction::Outbound {
        return Err(Verdict::na(format!(
            "not a {transaction} answer of the SUT's Responding Gateway"
        )));
    }
    let msg = SutMessage::of(ex).map_err(|why| Verdict::na(why.to_string()))?;
    msg.message()
        .map_err(|why| Verdict::na(format!("no ebXML message to judge: {why}")))
}

fn known<'a>(s: &'a Subject<'_>) -> &'a [String] {
    &s.expect.xca.home_community_ids
}

fn is_known(s: &Subject<'_>, home: &str) -> bool {
    known(s).iter().any(|k| k.trim() == home.trim())
}

fn home_on_every_object(s: &Subject<'_>) -> Verdict {
    let m = match answer(s, Transaction::Iti38) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::AdhocQueryResponse(r) = m else {
        return Verdict::na("the answer is no AdhocQueryResponse");
    };
    let o = &r.objects;
    let objects = o
        .extrinsic_objects
        .iter()
        .map(|x| ("ExtrinsicObject", x.id.as_deref(), x.home.as_deref()))
        .chain(
            o.registry_packages
                .iter()
                .map(|x| ("RegistryPackage", x.id.as_deref(), x.home.as_deref())),
        )
        .chain(
            o.object_refs
                .iter()
                .map(|x| ("ObjectRef", x.id.as_deref(), x.home.as_deref())),
        );
    let mut bad = Vec::new();
    let mut count = 0usize;
    for (kind, id, home) in objects {
        count += 1;
        let id = id.unwrap_or("(no id)");
        match home.map(str::trim).filter(|h| !h.is_empty()) {
            None => bad.push(format!("{kind} {id} has no home")),
            Some(h) if !known(s).is_empty() && !is_known(s, h) => {
                bad.push(format!("{kind} {id} has home {h}"))
            }
            Some(_) => {}
        }
    }
    if count == 0 {
        return Verdict::na("the answer returns no objects");
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "home on every object, one of the gateway's communities ({})",
                known(s).join(", ")
            ),
            bad.join("; "),
        )
    }
}

/// The error codes of a RegistryResponse.
fn codes(rr: &e::RegistryResponse) -> Vec<&str> {
    rr.errors
        .iter()
        .filter_map(|er| er.error_code.as_deref())
        .collect()
}

fn query_unknown_community(s: &Subject<'_>) -> Verdict {
    let asked = match harness_request(s.exchange) {
        Some(Message::AdhocQueryRequest(q)) => q.home,
        _ => None,
    };
    let Some(asked) = asked.filter(|h| !h.trim().is_empty()) else {
        return Verdict::na("the query names no community");
    };
    if known(s).is_empty() || is_known(s, &asked) {
        return Verdict::na(format!("{asked} is a community of the gateway"));
    }
    let m = match answer(s, Transaction::Iti38) {
        Ok(m) => m,
        // No answer at all to judge is the other checks' (XDSI-01, XDS-SOAP-01).
        Err(v) => return v,
    };
    let Message::AdhocQueryResponse(r) = m else {
        return Verdict::na("the answer is no AdhocQueryResponse");
    };
    let status = r.response.status.as_deref().unwrap_or("(none)");
    let codes = codes(&r.response);
    let returned = r.objects.extrinsic_objects.len()
        + r.objects.registry_packages.len()
        + r.objects.object_refs.len();
    if status == e::RESPONSE_FAILURE && codes.contains(&"XDSUnknownCommunity") && returned == 0 {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("Failure with XDSUnknownCommunity for community {asked}"),
            format!(
                "status {}, errors [{}], {returned} object(s)",
                status.rsplit(':').next().unwrap_or(status),
                codes.join(", ")
            ),
        )
    }
}

fn retrieve_unknown_community(s: &Subject<'_>) -> Verdict {
    let asked = match harness_request(s.exchange) {
        Some(Message::RetrieveDocumentSetRequest(r)) => r.documents,
        _ => return Verdict::na("no Cross Gateway Retrieve request"),
    };
    let foreign: Vec<(String, String)> = asked
        .iter()
        .filter_map(|d| {
            let h = d.home_community_id.as_deref()?.trim();
            (!h.is_empty() && !known(s).is_empty() && !is_known(s, h)).then(|| {
                (
                    h.to_string(),
                    d.document_unique_id.clone().unwrap_or_default(),
                )
            })
        })
        .collect();
    if foreign.is_empty() {
        return Verdict::na("every DocumentRequest names a community of the gateway");
    }
    let m = match answer(s, Transaction::Iti39) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::RetrieveDocumentSetResponse(r) = m else {
        return Verdict::na("the answer is no RetrieveDocumentSetResponse");
    };
    let mut bad = Vec::new();
    for (h, uid) in &foreign {
        if r.documents.iter().any(|d| {
            d.document_unique_id.as_deref().map(str::trim) == Some(uid.trim())
                && d.home_community_id.as_deref().map(str::trim) == Some(h.as_str())
        }) {
            bad.push(format!("document {uid} of community {h} is returned"));
        }
    }
    let codes = r
        .registry_response
        .as_ref()
        .map(|rr| codes(rr).join(", "))
        .unwrap_or_default();
    if !codes.split(", ").any(|c| c == "XDSUnknownCommunity") {
        bad.push(format!("errors [{codes}]"));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        let communities: Vec<&str> = foreign.iter().map(|(h, _)| h.as_str()).collect();
        Verdict::fail(
            format!(
                "XDSUnknownCommunity for community {}, its documents not returned",
                communities.join(", ")
            ),
            bad.join("; "),
        )
    }
}

#[cfg(test)]
mod tests;
