//! XDS-I.b message checks: the structural rules of [`rules`] over the messages of
//! [`crate::model::ebrim`], as registry checks.
//!
//! Each check reads the SUT's SOAP message in an exchange (the response when the harness called the
//! SUT, the request when the SUT called a simulator), runs the validators that apply to the
//! transaction and direction, and reports the violations of its one rule:
//! - every message: the SOAP 1.2 / WS-Addressing rules (ITI TF-2 Appendix V) and, where MTOM is
//!   required (RAD-68 requests, ITI-43 and RAD-69 responses), the MTOM/XOP packaging;
//! - RAD-68 requests: the ITI-41 metadata rules plus the XDS-I.b manifest entry rules;
//! - ITI-18: the query request rules (consumer) or the query response rules (registry);
//! - ITI-43 and RAD-69: the retrieve request rules (consumer) or response rules (repository,
//!   imaging document source);
//! - RAD-68 responses: the RegistryResponse rules.
//!
//! The family judges an exchange in one pass: [`judge`] runs every validator that applies and
//! keeps all the violations found, and [`verdict`] reads one rule's verdict from that judgement.
//! [`crate::checks::evaluate_all`] (and `evaluate_ids`, which the steps use) judges an exchange
//! once for all the XDS checks it evaluates on it; a check evaluated on its own
//! ([`crate::checks::evaluate`]) judges the exchange itself.

pub mod rules;

use super::soap_message::{harness_message_id, harness_request, SutMessage, Unreadable};
use super::{Check, Subject, Verdict};
use crate::evidence::{Direction, Exchange};
use crate::model::ebrim::{self as e, Message};
use crate::transaction::{Mtom, Transaction};
use rules::{Rule, Violation};

/// What the validators found in one exchange.
#[derive(Debug, Clone, PartialEq)]
pub enum Judged {
    /// The exchange is not an XDS transaction, or holds no SUT message.
    NotApplicable(String),
    /// The SUT's message is not a readable SOAP envelope.
    Unreadable(String),
    /// The violations found, and the families of rules that applied to the message.
    Violations(Vec<Violation>, Vec<Family>),
}

/// A family of rules: the validator that judges them, and the messages it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// SOAP envelope and WS-Addressing (every message).
    Envelope,
    /// MTOM/XOP packaging (MTOM messages, and messages that must be MTOM).
    Mtom,
    /// Any response carrying a RegistryResponse.
    Response,
    /// ITI-41/RAD-68 submission metadata.
    Submission,
    /// ITI-18 request.
    QueryRequest,
    /// ITI-18 response.
    QueryResponse,
    /// ITI-43 request.
    RetrieveRequest,
    /// ITI-43 or RAD-69 response.
    RetrieveResponse,
    /// RAD-69 request.
    ImagingRequest,
}

/// The families a rule belongs to (it applies when any of them judged the message).
fn families(rule: &str) -> &'static [Family] {
    use Family::*;
    match rule {
        "XDS-SOAP-04" | "XDS-SOAP-05" => &[Mtom],
        "XDS-SOAP-07" | "XDS-SOAP-08" | "XDS-SOAP-09" | "XDS-SOAP-13" | "XDS-SOAP-14" => {
            &[Response]
        }
        "EBRIM-01" => &[Submission, QueryResponse],
        "ITI18-08" | "ITI18-09" | "ITI18-10" => &[QueryResponse],
        "ITI43-01" => &[RetrieveRequest],
        "ITI43-02" | "ITI43-03" | "ITI43-03W" | "RAD69-06" | "ITI39-01" => &[RetrieveResponse],
        r if r.starts_with("XDS-SOAP") => &[Envelope],
        r if r.starts_with("EBRIM") || r.starts_with("ITI41") => &[Submission],
        r if r.starts_with("ITI18") => &[QueryRequest],
        r if r.starts_with("RAD69") => &[ImagingRequest],
        _ => &[],
    }
}

/// The actions of a transaction: (request, response); `None` for a transaction that is not SOAP.
pub fn actions(transaction: Transaction) -> Option<(&'static str, &'static str)> {
    Some((
        transaction.soap_action()?,
        transaction.soap_response_action()?,
    ))
}

/// Must the SUT's message in this transaction and direction be MTOM/XOP? The SUT sends the
/// request of an inbound exchange and the response of an outbound one.
fn mtom_required(transaction: Transaction, direction: Direction) -> bool {
    match (transaction.mtom(), direction) {
        (Mtom::Request, Direction::Inbound)
        | (Mtom::Response, Direction::Outbound)
        | (Mtom::Both, _) => true,
        (Mtom::Request, Direction::Outbound)
        | (Mtom::Response, Direction::Inbound)
        | (Mtom::None, _) => false,
    }
}

/// Run every validator that applies to the SUT's message in `ex`.
pub fn judge(ex: &Exchange) -> Judged {
    let Some((req_action, resp_action)) = actions(ex.transaction) else {
        return Judged::NotApplicable(format!("{} is not an XDS transaction", ex.transaction));
    };
    let msg = match SutMessage::of(ex) {
        Ok(m) => m,
        Err(Unreadable::NoMessage) => {
            return Judged::NotApplicable("no message from the SUT".into())
        }
        Err(Unreadable::NotSoap(why)) => return Judged::Unreadable(why),
    };
    let env = match msg.envelope() {
        Ok(env) => env,
        Err(why) => return Judged::Unreadable(why.to_string()),
    };
    let (direction, action) = match ex.direction {
        Direction::Outbound => (rules::Direction::Response, resp_action),
        Direction::Inbound => (rules::Direction::Request, req_action),
    };
    let mut v = rules::validate_envelope(&env, direction, Some(action));
    v.extend(relates_to_request(ex, &env));
    let mut applied = vec![Family::Envelope];
    if env.fault.is_some() {
        // A SOAP Fault carries no ebXML message: the envelope rules are all that apply.
        return Judged::Violations(v, vec![Family::Envelope]);
    }
    let content_type = msg.content_type.unwrap_or("");
    let wsa_action = env.addressing.action.as_ref().map(|a| a.value.as_str());
    if msg.multipart.is_some() || mtom_required(ex.transaction, ex.direction) {
        applied.push(Family::Mtom);
    }
    if msg.multipart.is_some() {
        v.extend(rules::validate_mtom_content_type(content_type, wsa_action));
        if let Some(body) = &env.body {
            let hrefs = e::xop_hrefs(body);
            let cids: Vec<Option<String>> = msg
                .attachments()
                .iter()
                .map(|p| {
                    crate::evidence::find_header(&p.headers, "content-id").map(|c| {
                        c.trim()
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            .to_string()
                    })
                })
                .collect();
            v.extend(rules::validate_xop_references(&hrefs, &cids));
        }
    } else if mtom_required(ex.transaction, ex.direction) {
        v.extend(rules::validate_mtom_content_type(content_type, wsa_action));
    }
    let Some(body) = &env.body else {
        return Judged::Violations(v, applied);
    };
    let message = match e::parse_message(body) {
        Ok(m) => m,
        Err(err) => {
            return Judged::Unreadable(format!("the SOAP Body is not an ebXML message: {err}"))
        }
    };
    match (ex.direction, message) {
        (Direction::Inbound, Message::ProvideAndRegister(p)) => {
            applied.push(Family::Submission);
            v.extend(rules::validate_submission(
                &p.submit,
                Some(&p.documents),
                rules::SubmissionKind::Rad68,
            ));
        }
        (Direction::Inbound, Message::SubmitObjects(sub)) => {
            applied.push(Family::Submission);
            v.extend(rules::validate_submission(
                &sub,
                None,
                rules::SubmissionKind::MetadataOnly { imaging: true },
            ));
        }
        (Direction::Inbound, Message::AdhocQueryRequest(q)) => {
            applied.push(Family::QueryRequest);
            v.extend(rules::validate_query_request(&q));
        }
        (Direction::Inbound, Message::RetrieveDocumentSetRequest(r)) => {
            applied.push(Family::RetrieveRequest);
            v.extend(rules::validate_retrieve_request(&r));
        }
        (Direction::Inbound, Message::RetrieveImagingDocumentSetRequest(r)) => {
            applied.push(Family::ImagingRequest);
            v.extend(rules::validate_imaging_retrieve_request(&r, false));
        }
        (Direction::Outbound, Message::AdhocQueryResponse(r)) => {
            applied.extend([Family::QueryResponse, Family::Response]);
            let return_type = match harness_request(ex) {
                Some(Message::AdhocQueryRequest(q)) => q.return_type,
                _ => None,
            };
            v.extend(rules::validate_query_response(&r, return_type.as_deref()));
        }
        (Direction::Outbound, Message::RetrieveDocumentSetResponse(r)) => {
            applied.extend([Family::RetrieveResponse, Family::Response]);
            let kind = match ex.transaction {
                Transaction::Rad69 => rules::RetrieveKind::Rad69,
                Transaction::Iti39 | Transaction::Rad75 => rules::RetrieveKind::CrossCommunity,
                _ => rules::RetrieveKind::Iti43,
            };
            v.extend(rules::validate_retrieve_response(&r, kind));
            v.extend(success_covers_request(ex, &r));
        }
        (Direction::Outbound, Message::RegistryResponse(r)) => {
            applied.push(Family::Response);
            v.extend(rules::validate_registry_response(&r));
        }
        _ => {}
    }
    Judged::Violations(v, applied)
}

/// XDS-SOAP-03 with the request in view: a response's wsa:RelatesTo names the wsa:MessageID of the
/// request it answers (W3C WS-Addressing 1.0 Core §3.4; ITI TF-2 Appendix V), or it is the answer
/// to another message.
fn relates_to_request(ex: &Exchange, env: &crate::transport::soap::Envelope) -> Vec<Violation> {
    let (Some(asked), Some(got)) = (harness_message_id(ex), env.addressing.relates_to.as_ref())
    else {
        return Vec::new();
    };
    if got.value.trim() == asked.trim() || got.value.is_empty() {
        return Vec::new();
    }
    vec![Violation::of(
        &rules::SOAP_03,
        format!(
            "wsa:RelatesTo {} is not the request's wsa:MessageID {asked}",
            got.value
        ),
    )]
}

/// ITI43-02 with the request in view: Success means every requested document came back (ITI TF-2
/// 3.43.4.2.3; RAD-69 inherits it), which only the request can tell.
fn success_covers_request(ex: &Exchange, r: &e::RetrieveDocumentSetResponse) -> Vec<Violation> {
    // A Responding Imaging Gateway "may alternatively choose to suppress the failures and report
    // only successes" (RAD-75, Gazelle RAD75-003): Success with fewer documents is allowed there.
    if ex.transaction == Transaction::Rad75 {
        return Vec::new();
    }
    let requested = match harness_request(ex) {
        Some(Message::RetrieveDocumentSetRequest(q)) => q.documents.len(),
        Some(Message::RetrieveImagingDocumentSetRequest(q)) => q
            .studies
            .iter()
            .flat_map(|s| &s.series)
            .map(|s| s.documents.len())
            .sum(),
        _ => return Vec::new(),
    };
    let success = r
        .registry_response
        .as_ref()
        .and_then(|rr| rr.status.as_deref())
        == Some(e::RESPONSE_SUCCESS);
    if success && r.documents.len() < requested {
        vec![Violation::of(
            &rules::ITI43_02,
            format!(
                "status Success with {} of the {requested} requested documents",
                r.documents.len()
            ),
        )]
    } else {
        Vec::new()
    }
}

/// Judge one rule on an exchange from the family's judgement of it ([`judge`]).
pub fn verdict(judged: &Judged, rule: &Rule, exchange: &Exchange) -> Verdict {
    match judged {
        Judged::NotApplicable(why) => Verdict::na(why.clone()),
        Judged::Unreadable(why) => {
            if rule.id == rules::SOAP_01.id {
                Verdict::fail("a SOAP 1.2 envelope (ITI TF-2 Appendix V)", why.clone())
            } else {
                Verdict::na(format!("the message is not readable SOAP: {why}"))
            }
        }
        Judged::Violations(v, applied) => {
            if !families(rule.id).iter().any(|f| applied.contains(f)) {
                return Verdict::na(format!(
                    "{} does not apply to a {} {}",
                    rule.id,
                    exchange.transaction,
                    match exchange.direction {
                        Direction::Outbound => "response",
                        Direction::Inbound => "request",
                    }
                ));
            }
            let mine: Vec<&str> = v
                .iter()
                .filter(|x| x.rule == rule.id)
                .map(|x| x.message.as_str())
                .collect();
            if mine.is_empty() {
                Verdict::Pass
            } else {
                Verdict::fail(rule.title, mine.join("; "))
            }
        }
    }
}

/// The rule a registered XDS check reports, `None` for a check of another family.
pub fn rule_of(check: &Check) -> Option<&'static Rule> {
    if !CHECKS.iter().any(|c| c.id == check.id) {
        return None;
    }
    rules::RULES.iter().find(|r| r.id == check.id)
}

macro_rules! xds_checks {
    ($($rule:ident => $fn:ident, $actor:literal, $reqs:expr;)*) => {
        $(
            fn $fn(s: &Subject<'_>) -> Verdict {
                verdict(&judge(s.exchange), &rules::$rule, s.exchange)
            }
        )*
        /// The XDS message checks, one per ebRIM rule.
        pub static CHECKS: &[Check] = &[
            $(
                Check {
                    id: rules::$rule.id,
                    requirement: rules::$rule.requirement,
                    requirements: $reqs,
                    level: rules::$rule.level,
                    actor: $actor,
                    title: rules::$rule.title,
                    eval: $fn,
                },
            )*
        ];
    };
}

xds_checks! {
    SOAP_01 => soap_01, "XDS.b actor (SOAP layer)", &["ITI2-V.2.1"];
    SOAP_02 => soap_02, "XDS.b actor (SOAP layer)", &["ITI2-V", "ITI2-3.18", "ITI2-3.41", "ITI2-3.43", "RAD2-4.69"];
    SOAP_03 => soap_03, "XDS.b actor (SOAP layer)", &["ITI2-V"];
    SOAP_04 => soap_04, "XDS.b actor (SOAP layer)", &["MTOM-whole", "ITI2-V"];
    SOAP_05 => soap_05, "XDS.b actor (SOAP layer)", &["XOP-3"];
    SOAP_07 => soap_07, "Document Registry / Repository / Imaging Document Source", &["ITI3-4.2.4"];
    SOAP_08 => soap_08, "Document Registry / Repository / Imaging Document Source", &["ITI3-4.2.4.1"];
    SOAP_09 => soap_09, "Document Registry / Repository / Imaging Document Source", &["ITI3-4.2.4.1"];
    SOAP_11 => soap_11, "XDS.b actor (SOAP layer)", &["SOAP12-5"];
    SOAP_12 => soap_12, "XDS.b initiator (SOAP layer)", &["ITI2-V"];
    SOAP_13 => soap_13, "Document Registry / Repository / Imaging Document Source", &["ITI3-4.2.4.1", "EBRS-2.1.3"];
    SOAP_14 => soap_14, "Document Registry / Repository / Imaging Document Source", &["ITI3-Table4.2.4.1-2"];
    EBRIM_01 => ebrim_01, "XDS.b actor (ebRIM metadata)", &["EBRIM-RegistryObjectType"];
    EBRIM_02 => ebrim_02, "XDS.b actor (ebRIM metadata)", &["RFC4122-3", "EBRIM-referenceURI"];
    ITI41_01 => iti41_01, "Imaging Document Source (RAD-68)", &["ITI3-4.1.4", "ITI3-4.2.1"];
    ITI41_02 => iti41_02, "Imaging Document Source (RAD-68)", &["ITI3-4.2.5"];
    ITI41_03 => iti41_03, "Imaging Document Source (RAD-68)", &["ITI2-3.41.4.1.3"];
    ITI41_04 => iti41_04, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.2", "ITI2-3.41"];
    ITI41_05 => iti41_05, "Imaging Document Source (RAD-68)", &["ITI3-Table4.3.1-3"];
    ITI41_06 => iti41_06, "Imaging Document Source (RAD-68)", &["ITI3-Table4.3.1-3"];
    ITI41_07 => iti41_07, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.1.2"];
    ITI41_08 => iti41_08, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.1"];
    ITI41_08N => iti41_08n, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.1"];
    ITI41_09 => iti41_09, "Imaging Document Source (RAD-68)", &["ITI2-3.41", "ITI2-3.42"];
    ITI41_10 => iti41_10, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.1.7"];
    ITI41_13 => iti41_13, "Imaging Document Source (RAD-68)", &["ITI3-4.2.2.1"];
    ITI41_14 => iti41_14, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.1.7"];
    ITI41_15 => iti41_15, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.2"];
    ITI41_16 => iti41_16, "Imaging Document Source (RAD-68)", &["RAD2-4.68.4.1.2.1", "RAD2-4.68.4.1.2.3.2"];
    ITI41_23 => iti41_23, "Imaging Document Source (RAD-68)", &["ITI3-Table4.3.1-3"];
    ITI41_24 => iti41_24, "Imaging Document Source (RAD-68)", &["ITI3-4.2.2", "ITI3-4.2.2.1"];
    ITI41_25 => iti41_25, "Imaging Document Source (RAD-68)", &["ITI3-4.2.3.1", "EBRIM-4.3"];
    ITI18_01 => iti18_01, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3"];
    ITI18_02 => iti18_02, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.1"];
    ITI18_03 => iti18_03, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3.7"];
    ITI18_04 => iti18_04, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3.7"];
    ITI18_05 => iti18_05, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3.5-6"];
    ITI18_05W => iti18_05w, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3.5-6"];
    ITI18_06 => iti18_06, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3.6"];
    ITI18_07 => iti18_07, "Document Consumer (ITI-18)", &["ITI2-3.18.4.1.2.3.6"];
    ITI18_08 => iti18_08, "Document Registry (ITI-18)", &["ITI2-3.18.4.1.3"];
    ITI18_09 => iti18_09, "Document Registry (ITI-18)", &["ITI2-3.18.4.1.3"];
    ITI18_10 => iti18_10, "Document Registry (ITI-18)", &["ITI2-3.18.4.1.2.1"];
    ITI43_01 => iti43_01, "Document Consumer (ITI-43)", &["ITI2-3.43.4.1.2"];
    ITI43_02 => iti43_02, "Document Repository / Imaging Document Source", &["ITI2-3.43.4.2.2"];
    ITI43_03 => iti43_03, "Document Repository / Imaging Document Source", &["ITI2-3.43.4.2.2"];
    ITI43_03W => iti43_03w, "Document Repository / Imaging Document Source", &["ITI2-3.43.4.2.2"];
    RAD69_01 => rad69_01, "Imaging Document Consumer (RAD-69)", &["RAD2-4.69.4.1.2"];
    RAD69_02 => rad69_02, "Imaging Document Consumer (RAD-69)", &["RAD2-4.69.4.1.2"];
    RAD69_03 => rad69_03, "Imaging Document Consumer (RAD-69)", &["RAD2-4.69.4.1.2"];
    RAD69_04 => rad69_04, "Imaging Document Consumer (RAD-69)", &["RAD2-4.69.4.1.2"];
    RAD69_06 => rad69_06, "Imaging Document Source (RAD-69)", &["RAD2-4.69.4.2"];
    ITI39_01 => iti39_01, "Responding Gateway (ITI-39)", &["ITI2-3.39.5"];
}

/// Rules of the ebRIM table that are not registered, with why.
pub const NOT_REGISTERED: &[(&str, &str)] = &[
    (
        "ITI57-01",
        "ITI-57 metadata update is not an XDS-I.b transaction of this harness yet",
    ),
    (
        "RAD69-05",
        "RAD-69 through an Imaging Gateway (XCA-I) has no scenario yet",
    ),
];

#[cfg(test)]
pub(crate) mod tests;
