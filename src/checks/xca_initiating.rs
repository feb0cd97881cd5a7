//! XCA checks of an Initiating Gateway (the SUT) with the XDS Affinity Domain Option: the harness
//! is the Document Consumer in front of it (ITI-18, ITI-43) and the Responding Gateways of two
//! communities behind it (ITI-38, ITI-39), IHE ITI TF-2 Rev. 20.0 §3.38, §3.39, §3.43; ITI TF-3
//! §4.2.4.
//!
//! Each check judges the gateway's answer to the consumer (the exchange) together with the legs
//! the gateway sent to the simulated Responding Gateways because of it ([`XcaIgExpect::legs`]:
//! the requests as received and the simulated gateways' answers, read by the step that waited for
//! them), so the checks stay pure:
//! - ITI38-11: every parameter of the consumer's stored query is in each ITI-38 (§3.38.4.1.1:
//!   "shall pass all parameters, either known or unknown, into the Cross Gateway Query");
//! - ITI38-12: an ITI-38 without a patient id carries `home`, the addressed gateway's community,
//!   and a query naming a community reaches that community only (§3.38.4.1.2.1);
//! - XCA-01: the consolidated answer holds every object each gateway returned with `home`, `home`
//!   unchanged, and nothing else (§3.38.4.1.3: "pass all entities received");
//! - XCA-02: a gateway's failure next to another's success makes a PartialSuccess with both the
//!   RegistryObjectList and the RegistryErrorList (§3.38.4.1.3; ITI TF-3 Table 4.2.4.2-3, which
//!   allows a PartialSuccess query with zero entries: not required here);
//! - XCA-03: XDSUnknownPatientId from a gateway is not passed to the consumer (§3.38.4.1.3);
//! - XCA-04: objects without `home` are reflected as XDSMissingHomeCommunityId (§3.38.4.1.3: it
//!   "shall include … identification of the Responding Gateway … and the element or elements
//!   that were in error"; the text fixes no form for either, so only the error is required);
//! - XCA-05: a community that does not answer is reported as XDSUnavailableCommunity (ITI TF-3
//!   Table 4.2.4.1-2 Note 2, an example in a note: SHOULD);
//! - ITI39-06: every ITI-39 DocumentRequest carries HomeCommunityId, the addressed community's
//!   (§3.39.4.1.2, §3.39.5);
//! - ITI39-07: each DocumentRequest goes to the gateway of its HomeCommunityId, and to no other
//!   (§3.43.4.1.3);
//! - XCA-06: documents from one community and errors from another make a PartialSuccess with the
//!   DocumentResponses and the RegistryErrorList (§3.39.4.1.3);
//! - XCA-07: each returned document is the one the community's gateway returned, byte for byte,
//!   under the HomeCommunityId the consumer asked (§3.43.4.2.2).

use std::collections::{BTreeMap, BTreeSet};

use super::soap_message::{harness_request, SutMessage};
use super::{Check, Level, Subject, Verdict};
use crate::evidence::Direction;
use crate::model::ebrim::{
    self as e, AdhocQueryResponse, DocumentContent, Message, RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
};
use crate::transaction::Transaction;

/// One request the SUT's Initiating Gateway sent to a simulated Responding Gateway.
#[derive(Debug, Clone, Default)]
pub struct Leg {
    /// The homeCommunityId of the gateway that received it.
    pub community: String,
    /// Where it was received.
    pub url: String,
    /// ITI-38 or ITI-39.
    pub transaction: Option<Transaction>,
    /// The request as received (None: unreadable).
    pub request: Option<Message>,
    /// The simulated gateway's answer (None: it gave none, it was unavailable).
    pub answer: Option<Message>,
    /// SHA-1 (lower-case hex) and size of each document the simulated gateway returned, by
    /// DocumentUniqueId.
    pub documents: BTreeMap<String, (String, u64)>,
}

/// What an Initiating Gateway scenario knows.
#[derive(Debug, Clone, Default)]
pub struct XcaIgExpect {
    /// The legs the consumer's request caused; empty when the scenario is no such scenario.
    pub legs: Vec<Leg>,
    /// The simulated communities (homeCommunityId to gateway URL base), when the scenario is one.
    pub communities: BTreeMap<String, String>,
    /// The communities the consumer's request concerns: each must receive it (ITI38-11/12).
    pub addressed: BTreeSet<String>,
}

/// The checks.
pub const CHECKS: &[Check] = &[
    Check {
        id: "ITI38-11",
        requirement: "IHE ITI TF-2 §3.38.4.1.1 (the Initiating Gateway shall pass all \
                      parameters, either known or unknown, into the Cross Gateway Query)",
        requirements: &["ITI2-3.38.4.1.1"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-38)",
        title: "Every parameter of the consumer's stored query is passed into the Cross Gateway \
                Query sent to each community concerned",
        eval: parameters_passed,
    },
    Check {
        id: "ITI38-12",
        requirement: "IHE ITI TF-2 §3.38.4.1.2.1 (the homeCommunityId is required in every \
                      Cross Gateway Query without a patient id, valued with the Responding \
                      Gateway's community; at most one per request)",
        requirements: &["ITI2-3.38.4.1.2.1"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-38)",
        title: "A Cross Gateway Query without a patient id names the addressed gateway's \
                community in `home`, and reaches only the community the consumer named",
        eval: home_on_id_queries,
    },
    Check {
        id: "XCA-01",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (XDS Affinity Domain Option: consolidate the \
                      results; pass all entities received)",
        requirements: &["ITI2-3.38.4.1.3-IG"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-18)",
        title: "The consolidated answer holds every object the communities returned, each with \
                the `home` its community gave, and nothing else",
        eval: union_of_answers,
    },
    Check {
        id: "XCA-02",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (if both successes and failures are received, \
                      return both RegistryObjectList and RegistryErrorList and specify \
                      PartialSuccess); ITI TF-3 Table 4.2.4.2-3",
        requirements: &["ITI2-3.38.4.1.3-IG"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-18)",
        title: "One community failing while another answers makes a PartialSuccess with the \
                objects and the errors",
        eval: query_partial_success,
    },
    Check {
        id: "XCA-03",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (XDSUnknownPatientId errors returned by \
                      Responding Gateways shall not be returned to the Document Consumer)",
        requirements: &["ITI2-3.38.4.1.3-IG"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-18)",
        title: "A community's XDSUnknownPatientId is not passed on to the consumer",
        eval: unknown_patient_not_passed,
    },
    Check {
        id: "XCA-04",
        requirement: "IHE ITI TF-2 §3.38.4.1.3 (if homeCommunityId is absent from any \
                      ExtrinsicObject, RegistryPackage or ObjectRef, reflect an \
                      XDSMissingHomeCommunityId to the initiator, identifying the Responding \
                      Gateway)",
        requirements: &["ITI2-3.38.4.1.3-IG"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-18)",
        title: "Objects a community returned without `home` are reflected as \
                XDSMissingHomeCommunityId",
        eval: missing_home_reflected,
    },
    Check {
        id: "ITI39-06",
        requirement: "IHE ITI TF-2 §3.39.4.1.2 (the Initiating Gateway shall specify the \
                      homeCommunityId of the Responding Gateway's community), §3.39.5",
        requirements: &["ITI2-3.39.4.1.2"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-39)",
        title: "Every DocumentRequest of a Cross Gateway Retrieve carries HomeCommunityId, the \
                addressed gateway's community",
        eval: home_in_every_request,
    },
    Check {
        id: "ITI39-07",
        requirement: "IHE ITI TF-2 §3.43.4.1.3 (an Initiating Gateway uses the homeCommunityId \
                      to obtain the Responding Gateway's endpoint and sends the request to each \
                      appropriate gateway)",
        requirements: &["ITI2-3.43.4.1.3"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-39)",
        title: "Each document asked for goes to the gateway of its HomeCommunityId, and to no \
                other",
        eval: routed_by_community,
    },
    Check {
        id: "XCA-06",
        requirement: "IHE ITI TF-2 §3.39.4.1.3 (XDS Affinity Domain Option: with successes and \
                      failures, return both DocumentResponse and RegistryErrorList elements and \
                      specify PartialSuccess)",
        requirements: &["ITI2-3.39.4.1.3-IG"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-43)",
        title: "Documents from one community and errors from another make a PartialSuccess \
                with the documents and the errors",
        eval: retrieve_partial_success,
    },
    Check {
        id: "XCA-07",
        requirement: "IHE ITI TF-2 §3.43.4.2.2 (each DocumentResponse's homeCommunityId is the \
                      one in the request), §3.43.4.1.3 (consolidate the results)",
        requirements: &["ITI2-3.43.4.2.2"],
        level: Level::Shall,
        actor: "Initiating Gateway (ITI-43)",
        title: "Each returned document is, byte for byte, the one its community's gateway \
                returned, under the HomeCommunityId asked",
        eval: documents_unchanged,
    },
    Check {
        id: "XCA-05",
        requirement: "IHE ITI TF-3 Table 4.2.4.1-2 (XDSUnavailableCommunity, Note 2: generated \
                      by the Initiating Gateway with the XDS Affinity Domain Option)",
        requirements: &["ITI3-Table4.2.4.1-2-IG"],
        level: Level::Should,
        actor: "Initiating Gateway (ITI-18, ITI-43)",
        title: "A community that cannot be reached is reported as XDSUnavailableCommunity",
        eval: unavailable_reported,
    },
];

fn x<'a>(s: &Subject<'a>) -> &'a XcaIgExpect {
    &s.expect.xca_ig
}

/// The gateway's answer to the consumer, or why it is not judged.
fn answer(s: &Subject<'_>, transaction: Transaction) -> Result<Message, Verdict> {
    let ex = s.exchange;
    if ex.transaction != transaction || ex.direction != Direction::Outbound {
        return Err(Verdict::na(format!(
            "not a {transaction} answer of the SUT's Initiating Gateway"
        )));
    }
    if x(s).communities.is_empty() {
        return Err(Verdict::na("no simulated community behind the gateway"));
    }
    let msg = SutMessage::of(ex).map_err(|why| Verdict::na(why.to_string()))?;
    msg.message()
        .map_err(|why| Verdict::na(format!("no ebXML message to judge: {why}")))
}

fn query_answer(s: &Subject<'_>) -> Result<AdhocQueryResponse, Verdict> {
    match answer(s, Transaction::Iti18)? {
        Message::AdhocQueryResponse(r) => Ok(r),
        _ => Err(Verdict::na("the answer is no AdhocQueryResponse")),
    }
}

fn retrieve_answer(s: &Subject<'_>) -> Result<RetrieveDocumentSetResponse, Verdict> {
    match answer(s, Transaction::Iti43)? {
        Message::RetrieveDocumentSetResponse(r) => Ok(r),
        _ => Err(Verdict::na("the answer is no RetrieveDocumentSetResponse")),
    }
}

fn legs_of<'a>(s: &Subject<'a>, t: Transaction) -> Vec<&'a Leg> {
    x(s).legs
        .iter()
        .filter(|l| l.transaction == Some(t))
        .collect()
}

fn leg_query_answer(l: &Leg) -> Option<&AdhocQueryResponse> {
    match &l.answer {
        Some(Message::AdhocQueryResponse(r)) => Some(r),
        _ => None,
    }
}

/// The retrieve answer a simulated community gave to a leg, if it was one.
pub(super) fn leg_retrieve_answer(l: &Leg) -> Option<&RetrieveDocumentSetResponse> {
    match &l.answer {
        Some(Message::RetrieveDocumentSetResponse(r)) => Some(r),
        _ => None,
    }
}

/// A RegistryError that is an error, not a warning.
pub(super) fn is_error(er: &e::RegistryError) -> bool {
    er.severity.as_deref().map(str::trim) != Some(e::SEVERITY_WARNING)
}

fn is_partial(status: Option<&str>) -> bool {
    matches!(
        status.map(str::trim),
        Some(e::RESPONSE_PARTIAL_SUCCESS) | Some(e::RESPONSE_PARTIAL_SUCCESS_OASIS)
    )
}

fn status_name(status: Option<&str>) -> &str {
    status
        .map(|s| s.rsplit(':').next().unwrap_or(s))
        .unwrap_or("(no status)")
}

/// A parameter's values as compared: the members of its value lists, whether written as one
/// `('a','b')` or as several `rim:Value`s (ITI TF-2 §3.18.4.1.2.3.5 gives both codings the same
/// meaning), each trimmed, in order of appearance; a single-valued parameter is its value trimmed.
fn normalised(values: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        let v = v.trim();
        let Some(inner) = v.strip_prefix('(').and_then(|x| x.strip_suffix(')')) else {
            out.push(v.to_string());
            continue;
        };
        let mut item = String::new();
        let mut quoted = false;
        for c in inner.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    item.push(c);
                }
                ',' if !quoted => {
                    out.push(item.trim().to_string());
                    item.clear();
                }
                _ => item.push(c),
            }
        }
        out.push(item.trim().to_string());
    }
    out.sort();
    out
}

fn parameters_passed(s: &Subject<'_>) -> Verdict {
    if s.exchange.transaction != Transaction::Iti18 || x(s).communities.is_empty() {
        return Verdict::na("not a stored query sent to an Initiating Gateway");
    }
    let Some(Message::AdhocQueryRequest(q)) = harness_request(s.exchange) else {
        return Verdict::na("the consumer's stored query is not in the exchange");
    };
    let legs = legs_of(s, Transaction::Iti38);
    let mut bad = Vec::new();
    for c in &x(s).addressed {
        if !legs.iter().any(|l| &l.community == c) {
            bad.push(format!("no Cross Gateway Query reached community {c}"));
        }
    }
    for l in &legs {
        let Some(Message::AdhocQueryRequest(got)) = &l.request else {
            bad.push(format!("the request at {} is no AdhocQueryRequest", l.url));
            continue;
        };
        if got.query_id.as_deref().map(str::trim) != q.query_id.as_deref().map(str::trim) {
            bad.push(format!(
                "{}: stored query {}, asked {}",
                l.community,
                got.query_id.as_deref().unwrap_or("(none)"),
                q.query_id.as_deref().unwrap_or("(none)")
            ));
        }
        for p in &q.params {
            let want = normalised(&p.values);
            let same = got
                .params
                .iter()
                .filter(|g| g.name == p.name)
                .any(|g| normalised(&g.values) == want);
            if !same {
                let given: Vec<String> = got
                    .params
                    .iter()
                    .filter(|g| g.name == p.name)
                    .map(|g| normalised(&g.values).join(" "))
                    .collect();
                bad.push(format!(
                    "{}: {} {} not passed{}",
                    l.community,
                    p.name,
                    want.join(" "),
                    if given.is_empty() {
                        String::new()
                    } else {
                        format!(" (sent as {})", given.join(" | "))
                    }
                ));
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "each community's Cross Gateway Query with every parameter of the consumer's query",
            bad.join("; "),
        )
    }
}

fn names_patient(q: &e::AdhocQueryRequest) -> bool {
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

fn home_on_id_queries(s: &Subject<'_>) -> Verdict {
    if s.exchange.transaction != Transaction::Iti18 || x(s).communities.is_empty() {
        return Verdict::na("not a stored query sent to an Initiating Gateway");
    }
    let Some(Message::AdhocQueryRequest(q)) = harness_request(s.exchange) else {
        return Verdict::na("the consumer's stored query is not in the exchange");
    };
    if names_patient(&q) {
        return Verdict::na("the consumer's query names a patient: home is not required");
    }
    let mut bad = Vec::new();
    let named = q.home.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let legs = legs_of(s, Transaction::Iti38);
    for l in &legs {
        if let Some(h) = named {
            if l.community != h {
                bad.push(format!(
                    "the query for community {h} reached community {}",
                    l.community
                ));
            }
        }
        let Some(Message::AdhocQueryRequest(got)) = &l.request else {
            continue;
        };
        match got.home.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            None => bad.push(format!("{}: no home", l.community)),
            Some(h) if h != l.community => bad.push(format!(
                "{}: home {h}, not the addressed community",
                l.community
            )),
            Some(_) => {}
        }
    }
    if let Some(h) = named {
        if x(s).communities.contains_key(h) && !legs.iter().any(|l| l.community == h) {
            bad.push(format!("no Cross Gateway Query reached community {h}"));
        }
    }
    if legs.is_empty() && named.is_none() {
        return Verdict::na("no Cross Gateway Query reached the simulated communities");
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "home = the addressed community on each Cross Gateway Query, sent to the community named only",
            bad.join("; "),
        )
    }
}

/// `(object id, home)` of every ExtrinsicObject, RegistryPackage and ObjectRef.
fn objects(r: &AdhocQueryResponse) -> Vec<(String, Option<String>)> {
    let o = &r.objects;
    let norm = |h: &Option<String>| {
        h.as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string)
    };
    o.extrinsic_objects
        .iter()
        .chain(o.registry_packages.iter())
        .map(|eo| (eo.id.clone().unwrap_or_default(), norm(&eo.home)))
        .chain(
            o.object_refs
                .iter()
                .map(|r| (r.id.clone().unwrap_or_default(), norm(&r.home))),
        )
        .collect()
}

fn union_of_answers(s: &Subject<'_>) -> Verdict {
    let r = match query_answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let legs = legs_of(s, Transaction::Iti38);
    if legs.is_empty() {
        return Verdict::na("no Cross Gateway Query reached the simulated communities");
    }
    // What the communities returned with home: owed to the consumer, unchanged.
    let mut owed: BTreeMap<String, String> = BTreeMap::new();
    // What they returned without home: XCA-04 judges it.
    let mut homeless = BTreeSet::new();
    for l in &legs {
        let Some(a) = leg_query_answer(l) else {
            continue;
        };
        for (id, home) in objects(a) {
            match home {
                Some(h) => {
                    owed.insert(id, h);
                }
                None => {
                    homeless.insert(id);
                }
            }
        }
    }
    let got = objects(&r);
    let mut bad = Vec::new();
    let mut seen = BTreeSet::new();
    for (id, home) in &got {
        seen.insert(id.clone());
        match (owed.get(id), home) {
            (Some(want), Some(h)) if want != h => {
                bad.push(format!("{id}: home {h}, its community gave {want}"))
            }
            (Some(want), None) => bad.push(format!("{id}: no home, its community gave {want}")),
            (None, _) if homeless.contains(id) => {}
            (None, _) => bad.push(format!("{id} was returned by no community")),
            _ => {}
        }
    }
    for (id, h) in &owed {
        if !seen.contains(id) {
            bad.push(format!("{id} of community {h} is missing"));
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "the {} object(s) the communities returned, each with its home",
                owed.len()
            ),
            bad.join("; "),
        )
    }
}

/// Did a leg fail (no answer, or a Failure status, or errors other than XDSUnknownPatientId)?
fn leg_failed(l: &Leg) -> bool {
    match leg_query_answer(l) {
        None => true,
        Some(a) => a.response.errors.iter().any(|er| {
            is_error(er) && er.error_code.as_deref().map(str::trim) != Some("XDSUnknownPatientId")
        }),
    }
}

fn leg_succeeded(l: &Leg) -> bool {
    leg_query_answer(l)
        .is_some_and(|a| a.response.status.as_deref().map(str::trim) != Some(e::RESPONSE_FAILURE))
}

fn query_partial_success(s: &Subject<'_>) -> Verdict {
    let r = match query_answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let legs = legs_of(s, Transaction::Iti38);
    let failed: Vec<&str> = legs
        .iter()
        .filter(|l| leg_failed(l))
        .map(|l| l.community.as_str())
        .collect();
    if failed.is_empty() || !legs.iter().any(|l| leg_succeeded(l)) {
        return Verdict::na("no community failed while another answered");
    }
    let mut bad = Vec::new();
    if !is_partial(r.response.status.as_deref()) {
        bad.push(format!(
            "status {}",
            status_name(r.response.status.as_deref())
        ));
    }
    if !r.response.errors.iter().any(is_error) {
        bad.push("no RegistryError of severity Error".to_string());
    }
    if !r.has_object_list {
        bad.push("no RegistryObjectList".to_string());
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "PartialSuccess with the RegistryObjectList and the errors of community {}",
                failed.join(", ")
            ),
            bad.join("; "),
        )
    }
}

fn unknown_patient_not_passed(s: &Subject<'_>) -> Verdict {
    let r = match query_answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let said: Vec<&str> = legs_of(s, Transaction::Iti38)
        .into_iter()
        .filter(|l| {
            leg_query_answer(l).is_some_and(|a| {
                a.response.errors.iter().any(|er| {
                    er.error_code.as_deref().map(str::trim) == Some("XDSUnknownPatientId")
                })
            })
        })
        .map(|l| l.community.as_str())
        .collect();
    if said.is_empty() {
        return Verdict::na("no community answered XDSUnknownPatientId");
    }
    let passed = r
        .response
        .errors
        .iter()
        .filter(|er| er.error_code.as_deref().map(str::trim) == Some("XDSUnknownPatientId"))
        .count();
    if passed == 0 {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "no XDSUnknownPatientId (community {} answered it)",
                said.join(", ")
            ),
            format!("{passed} XDSUnknownPatientId error(s) passed to the consumer"),
        )
    }
}

fn missing_home_reflected(s: &Subject<'_>) -> Verdict {
    let r = match query_answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let culprits: Vec<&Leg> = legs_of(s, Transaction::Iti38)
        .into_iter()
        .filter(|l| {
            leg_query_answer(l).is_some_and(|a| objects(a).iter().any(|(_, h)| h.is_none()))
        })
        .collect();
    if culprits.is_empty() {
        return Verdict::na("every object the communities returned carries home");
    }
    let mut bad = Vec::new();
    for l in culprits {
        let missing: Vec<&e::RegistryError> = r
            .response
            .errors
            .iter()
            .filter(|er| {
                er.error_code.as_deref().map(str::trim) == Some("XDSMissingHomeCommunityId")
            })
            .collect();
        // The text fixes no form for the gateway's identification (a URL, a community, a name
        // of the gateway's own configuration): any XDSMissingHomeCommunityId is accepted.
        if missing.is_empty() {
            bad.push(format!(
                "no XDSMissingHomeCommunityId for the objects of community {} ({}) without home",
                l.community, l.url
            ));
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "XDSMissingHomeCommunityId for the objects a Responding Gateway returned without home",
            bad.join("; "),
        )
    }
}

fn unavailable_reported(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    let errors = match ex.transaction {
        Transaction::Iti18 => match query_answer(s) {
            Ok(r) => r.response.errors,
            Err(v) => return v,
        },
        Transaction::Iti43 => match retrieve_answer(s) {
            Ok(r) => r.registry_response.map(|rr| rr.errors).unwrap_or_default(),
            Err(v) => return v,
        },
        _ => return Verdict::na("not an answer of the SUT's Initiating Gateway"),
    };
    let silent: Vec<&str> = x(s)
        .legs
        .iter()
        .filter(|l| l.answer.is_none())
        .map(|l| l.community.as_str())
        .collect();
    if silent.is_empty() {
        return Verdict::na("every community the gateway called answered");
    }
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|er| er.error_code.as_deref().map(str::trim))
        .collect();
    if codes.contains(&"XDSUnavailableCommunity") {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!(
                "XDSUnavailableCommunity for community {}",
                silent.join(", ")
            ),
            if codes.is_empty() {
                "no error".to_string()
            } else {
                format!("errors {}", codes.join(", "))
            },
        )
    }
}

fn home_in_every_request(s: &Subject<'_>) -> Verdict {
    if s.exchange.transaction != Transaction::Iti43 || x(s).communities.is_empty() {
        return Verdict::na("not a retrieve sent to an Initiating Gateway");
    }
    let legs = legs_of(s, Transaction::Iti39);
    if legs.is_empty() {
        return Verdict::na("no Cross Gateway Retrieve reached the simulated communities");
    }
    let mut bad = Vec::new();
    for l in legs {
        let Some(Message::RetrieveDocumentSetRequest(r)) = &l.request else {
            bad.push(format!(
                "the request at {} is no RetrieveDocumentSetRequest",
                l.url
            ));
            continue;
        };
        for d in &r.documents {
            let uid = d
                .document_unique_id
                .as_deref()
                .unwrap_or("(no DocumentUniqueId)");
            match d
                .home_community_id
                .as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty())
            {
                None => bad.push(format!("{}: {uid} without HomeCommunityId", l.community)),
                Some(h) if h != l.community => {
                    bad.push(format!("{}: {uid} with HomeCommunityId {h}", l.community))
                }
                Some(_) => {}
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "HomeCommunityId = the addressed community in every DocumentRequest",
            bad.join("; "),
        )
    }
}

fn asked(r: &RetrieveDocumentSetRequest) -> Vec<(Option<String>, String)> {
    r.documents
        .iter()
        .map(|d| {
            (
                d.home_community_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_string),
                d.document_unique_id
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn routed_by_community(s: &Subject<'_>) -> Verdict {
    if s.exchange.transaction != Transaction::Iti43 || x(s).communities.is_empty() {
        return Verdict::na("not a retrieve sent to an Initiating Gateway");
    }
    let Some(Message::RetrieveDocumentSetRequest(req)) = harness_request(s.exchange) else {
        return Verdict::na("the consumer's retrieve request is not in the exchange");
    };
    // Where each document arrived.
    let mut arrived: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in legs_of(s, Transaction::Iti39) {
        if let Some(Message::RetrieveDocumentSetRequest(r)) = l.request.as_ref() {
            for (_, uid) in asked(r) {
                arrived.entry(uid).or_default().insert(l.community.clone());
            }
        }
    }
    let mut bad = Vec::new();
    for (home, uid) in asked(&req) {
        let Some(home) = home.filter(|h| x(s).communities.contains_key(h)) else {
            continue;
        };
        let at = arrived.get(&uid).cloned().unwrap_or_default();
        if !at.contains(&home) {
            bad.push(format!(
                "{uid} of community {home} did not reach its gateway"
            ));
        }
        for other in at.iter().filter(|c| **c != home) {
            bad.push(format!(
                "{uid} of community {home} was sent to community {other}"
            ));
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "each DocumentRequest at the gateway of its HomeCommunityId only",
            bad.join("; "),
        )
    }
}

fn retrieve_partial_success(s: &Subject<'_>) -> Verdict {
    let r = match retrieve_answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let legs = legs_of(s, Transaction::Iti39);
    let gave_docs = legs
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
    if failed.is_empty() || !gave_docs {
        return Verdict::na("no community failed while another returned documents");
    }
    let rr = r.registry_response.clone().unwrap_or_default();
    let mut bad = Vec::new();
    if !is_partial(rr.status.as_deref()) {
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
                "PartialSuccess with the documents returned and the errors of community {}",
                failed.join(", ")
            ),
            bad.join("; "),
        )
    }
}

fn documents_unchanged(s: &Subject<'_>) -> Verdict {
    let r = match retrieve_answer(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(Message::RetrieveDocumentSetRequest(req)) = harness_request(s.exchange) else {
        return Verdict::na("the consumer's retrieve request is not in the exchange");
    };
    if r.documents.is_empty() {
        return Verdict::na("no document returned");
    }
    let from_rg: BTreeMap<&String, &(String, u64)> =
        x(s).legs.iter().flat_map(|l| l.documents.iter()).collect();
    let asked = asked(&req);
    let mut bad = Vec::new();
    for d in &r.documents {
        let uid = d
            .document_unique_id
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        let got_home = d
            .home_community_id
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        match asked.iter().find(|(_, u)| *u == uid) {
            None => bad.push(format!("{uid} was not asked for")),
            Some((want, _)) if want.as_deref() != got_home => bad.push(format!(
                "{uid}: HomeCommunityId {}, asked {}",
                got_home.unwrap_or("(none)"),
                want.as_deref().unwrap_or("(none)")
            )),
            Some(_) => {}
        }
        let Some((sha1, size)) = from_rg.get(&uid) else {
            bad.push(format!("{uid} was returned by no community"));
            continue;
        };
        if let Some((got_sha1, got_size)) = d.document.as_ref().and_then(|c| digest(s, c)) {
            if !got_sha1.eq_ignore_ascii_case(sha1) || got_size != *size {
                bad.push(format!(
                    "{uid}: {got_size} bytes, SHA-1 {got_sha1}; its community returned {size} bytes, SHA-1 {sha1}"
                ));
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "the documents the communities returned, unchanged, under the HomeCommunityId asked",
            bad.join("; "),
        )
    }
}

/// SHA-1 (hex) and size of a returned document: inline, or digested while the answer streamed.
fn digest(s: &Subject<'_>, c: &DocumentContent) -> Option<(String, u64)> {
    match c {
        DocumentContent::Inline(b) => Some((sha1_hex(b), b.len() as u64)),
        DocumentContent::Xop { href } => {
            let cid = crate::transport::soap::content_id_of_cid_url(href).ok()?;
            s.expect.xds.streamed.get(cid.trim()).cloned()
        }
        DocumentContent::InvalidBase64(_) => None,
    }
}

/// SHA-1 of `b`, lower-case hex.
pub fn sha1_hex(b: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, b).as_ref())
}

#[cfg(test)]
#[path = "xca_initiating_tests.rs"]
mod tests;
