//! DIMSE checks (DICOM PS3.4, PS3.7, PS3.8): association negotiation, statuses, C-FIND responses
//! and identifiers, C-MOVE/C-GET sub-operations, and the instances received against what was
//! asked for. Each check reads the [`DimseRecord`] of an exchange and what the scenario expects.
//!
//! The association and message checks (DIM-01..03, 09, 10, 14, 20) and the registry are here; the
//! C-FIND checks in `find.rs`, the checks of what is transferred (C-MOVE, C-GET, C-STORE,
//! C-CANCEL) in `transfer.rs`, and the matching rules of PS3.4 C.2.2 in `matching.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::{Check, Level, Subject, Verdict};
use crate::dimse::command::{field, status};
use crate::evidence::dimse::{DimseRecord, Flow, MessageRecord};
use crate::evidence::Exchange;

/// What a DIMSE exchange must satisfy; each check uses the fields it needs.
#[derive(Debug, Clone, Default)]
pub struct DimseExpect {
    /// Final statuses that satisfy the requirement (the first is the one the standard names).
    pub statuses: Vec<u16>,
    /// Why (for messages).
    pub reason: String,
    /// The association must be rejected (A-ASSOCIATE-RJ), with these (source, reason) pairs
    /// accepted; empty: any rejection.
    pub rejection: Option<Vec<(u8, u8)>>,
    /// C-FIND: the keys asked for (keywords), Query/Retrieve Level included.
    pub requested_keys: Vec<String>,
    /// C-FIND: the unique key of the level and the values of the test data that match.
    pub matches: Option<(String, BTreeSet<String>)>,
    /// C-FIND: every value of that unique key the harness's test data holds. A match outside it
    /// is an entity the harness does not know (the SUT may hold other data), so DIM-06 cannot say
    /// it does not match; DIM-16 judges its keys. None: every value outside `matches` is wrong.
    pub known: Option<BTreeSet<String>>,
    /// C-MOVE / C-GET / C-STORE: the instances that must arrive (or be stored), by SOP Instance
    /// UID, with the SHA-256 of their data set in each transfer syntax the source holds it in, as
    /// (transfer syntax, SHA-256): as stored, and its Explicit VR Little Endian form. A data set
    /// sent in another transfer syntax (a lossless transcoding the SCP may do) cannot be compared
    /// byte for byte; its identity is still judged (DIM-17).
    pub instances: Option<BTreeMap<String, Vec<(String, String)>>>,
    /// A C-CANCEL was sent.
    pub cancelled: bool,
    /// SOP classes proposed that the SCP does not support: their contexts must be refused.
    pub unsupported: Vec<String>,
    /// C-STORE: the instances are already in the archive. PS3.4 §B.2.3 gives no status for a
    /// duplicate and leaves to the SCP whether it keeps the new copy: success, a warning, or the
    /// general failure 0111 Duplicate SOP Instance (PS3.7 §C.5.8) are all answers it may give.
    pub duplicates: bool,
    /// What the instances that arrive must belong to, as (keyword, accepted values): the study and
    /// series a SUT was asked to store. Empty for a C-MOVE or C-GET, whose identifier says it.
    pub selects: Vec<(String, Vec<String>)>,
    /// C-FIND: for each entity of the test data (by the value of the level's unique key), the
    /// values it holds of the keys asked that a Storage SCP does not coerce (PS3.4 §B.4.1.3 lets
    /// it change patient identification and UIDs): Study Date, Modality, Series and Instance
    /// Number. DIM-06 judges a match of the test data by them.
    pub values: BTreeMap<String, Vec<(String, String)>>,
    /// C-MOVE / C-GET / a SUT's stores: the digest of each instance's image
    /// ([`crate::dimse::pixels`]) by transfer syntax, as the source holds it; its native form is
    /// listed (for both Little Endian syntaxes) only when the source is not lossy, since decoders
    /// of a lossy image may differ.
    pub pixel_data: BTreeMap<String, Vec<(String, String)>>,
    /// The request must be refused: any Refused or Failed final status satisfies DIM-03, and this
    /// is the one the standard names for the reason (DIM-20).
    pub refused_as: Option<u16>,
    /// C-MOVE: associations of the SUT that the harness's Storage SCP refused during the move.
    /// The sub-operations they carried failed through the harness, so the move's status is not
    /// the SUT's to answer for (DIM-03).
    pub refused_by_harness: usize,
    /// The SUT as Query/Retrieve SCU: the request a trigger asked it to send to the harness's SCP
    /// (DIMSCU-01..03).
    pub asked: Option<qr_scu::AskedRequest>,
}

fn record<'a>(s: &Subject<'a>) -> Result<&'a DimseRecord, Verdict> {
    s.exchange
        .dimse
        .as_deref()
        .ok_or_else(|| Verdict::na("not a DIMSE exchange"))
}

fn sent_requests(r: &DimseRecord) -> impl Iterator<Item = &MessageRecord> {
    r.messages
        .iter()
        .filter(|m| m.flow == Flow::Sent && m.command.field & 0x8000 == 0)
}

fn first_request(r: &DimseRecord) -> Option<&MessageRecord> {
    sent_requests(r).find(|m| m.command.field != field::C_CANCEL_RQ)
}

/// The value of `keyword` in a data set summary.
fn value_of<'a>(summary: &'a [(String, String)], keyword: &str) -> Option<&'a str> {
    summary
        .iter()
        .find(|(k, _)| k == keyword)
        .map(|(_, v)| v.as_str())
}

/// Why a summarised data set could not be decoded, if it could not.
fn undecodable(summary: &[(String, String)]) -> Option<&str> {
    value_of(summary, "(undecodable)")
}

/// At most `MAX_LISTED` distinct items (a repeated one once, with its count), then how many more:
/// messages stay readable whatever the peer sent.
fn listed(items: impl IntoIterator<Item = String>) -> String {
    const MAX_LISTED: usize = 8;
    let mut counted: Vec<(String, usize)> = Vec::new();
    for item in items {
        match counted.iter_mut().find(|(i, _)| *i == item) {
            Some((_, n)) => *n += 1,
            None => counted.push((item, 1)),
        }
    }
    let all: Vec<String> = counted
        .into_iter()
        .map(|(i, n)| if n > 1 { format!("{i} ({n} times)") } else { i })
        .collect();
    let mut s = all
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if all.len() > MAX_LISTED {
        s.push_str(&format!("; and {} more", all.len() - MAX_LISTED));
    }
    s
}

/// Pass when `bad` lists no breach, else a Fail expecting `expected` with the breaches
/// [`listed`].
fn fail_if_any(expected: impl Into<String>, bad: impl IntoIterator<Item = String>) -> Verdict {
    let mut bad = bad.into_iter().peekable();
    if bad.peek().is_none() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, listed(bad))
    }
}

/// The C-FIND pending responses that carry an identifier.
fn matches_of(r: &DimseRecord) -> impl Iterator<Item = &MessageRecord> {
    r.received(field::C_FIND_RSP)
        .filter(|m| m.command.status.is_some_and(status::is_pending) && m.command.has_data_set())
}

/// DIM-01: the association is accepted with every context the scenario needs (one transfer
/// syntax each, among those proposed).
fn dim_01(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if s.expect.dimse.rejection.is_some() {
        return Verdict::na("the scenario expects a rejection");
    }
    if let Some(rj) = &r.rejection {
        return Verdict::fail(
            "an accepted association",
            format!("A-ASSOCIATE-RJ: {}", rj.text),
        );
    }
    let mut bad = Vec::new();
    if !r.proposed.is_empty() && !r.negotiated.iter().any(|n| n.result == 0) {
        bad.push(format!(
            "none of the {} proposed contexts was accepted ({})",
            r.proposed.len(),
            r.ended
        ));
    }
    for n in &r.negotiated {
        let proposed = r.proposed.iter().find(|p| p.id == n.id);
        match proposed {
            None => bad.push(format!("context {} was never proposed", n.id)),
            Some(p) if n.result == 0 && !p.transfer_syntaxes.contains(&n.transfer_syntax) => bad
                .push(format!(
                    "context {} accepted with {}, which was not proposed",
                    n.id, n.transfer_syntax
                )),
            _ => {}
        }
    }
    if let Some(rq) = first_request(r) {
        let ok = r
            .negotiated
            .iter()
            .any(|n| n.id == rq.pc_id && n.result == 0);
        if !ok {
            bad.push(format!(
                "the {} context ({}) was not accepted",
                rq.command.name(),
                rq.command.affected_sop_class.as_deref().unwrap_or("?")
            ));
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "accepted contexts with one proposed transfer syntax each",
            bad.join("; "),
        )
    }
}

/// DIM-02: an association the SUT must refuse is rejected with the named source and reason.
fn dim_02(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.dimse.rejection else {
        return Verdict::na("the scenario expects an accepted association");
    };
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let expected = if want.is_empty() {
        "an A-ASSOCIATE-RJ".to_string()
    } else {
        format!(
            "an A-ASSOCIATE-RJ with (source, reason) {} ({})",
            want.iter()
                .map(|(s, r)| format!("({s}, {r})"))
                .collect::<Vec<_>>()
                .join(" or "),
            s.expect.dimse.reason
        )
    };
    match &r.rejection {
        None => Verdict::fail(expected, "the association was accepted"),
        Some(rj) if want.is_empty() || want.contains(&(rj.source, rj.reason)) => Verdict::Pass,
        Some(rj) => Verdict::fail(
            expected,
            format!("source {} reason {}: {}", rj.source, rj.reason, rj.text),
        ),
    }
}

/// The final response to the first request.
fn final_response(r: &DimseRecord) -> Option<&MessageRecord> {
    let rq = first_request(r)?;
    let id = rq.command.message_id?;
    r.messages.iter().rev().find(|m| {
        m.flow == Flow::Received
            && m.command.responded_to == Some(id)
            && m.command.status.is_some_and(|st| !status::is_pending(st))
    })
}

/// DIM-03: the final status is the one the requirement names; where the request must be refused
/// (`refused_as`), any Refused or Failed status (the code the standard names for the reason is
/// DIM-20's).
fn dim_03(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.dimse;
    if let Some(named) = x.refused_as {
        let r = match record(s) {
            Ok(r) => r,
            Err(v) => return v,
        };
        let expected = format!(
            "a Refused or Failed status ({named:04X} names the reason: {})",
            x.reason
        );
        return match final_response(r).and_then(|m| m.command.status) {
            None => Verdict::fail(expected, format!("no final response ({})", r.ended)),
            Some(st) if status::category(st) == "failure" => Verdict::Pass,
            Some(st) => Verdict::fail(
                expected,
                format!("status {st:04X} ({})", status::category(st)),
            ),
        };
    }
    if x.statuses.is_empty() {
        return Verdict::na("the scenario expects no particular status");
    }
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let mut expected = format!(
        "status {}",
        x.statuses
            .iter()
            .map(|c| format!("{c:04X}"))
            .collect::<Vec<_>>()
            .join(" or ")
    );
    if !x.reason.is_empty() {
        expected.push_str(&format!(" ({})", x.reason));
    }
    match final_response(r) {
        None => Verdict::fail(expected, format!("no final response ({})", r.ended)),
        Some(m) => {
            let st = m.command.status.unwrap_or(0xFFFF);
            if x.statuses.contains(&st) {
                Verdict::Pass
            } else if x.refused_by_harness > 0 {
                // Its sub-operations failed because the harness refused them: the status says
                // so rightly (the Error finding of the refusal says why).
                Verdict::na(format!(
                    "status {st:04X} follows the harness's Storage SCP refusing {} association(s) of the SUT",
                    x.refused_by_harness
                ))
            } else {
                Verdict::fail(
                    expected,
                    format!(
                        "{} status {st:04X} ({})",
                        m.command.name(),
                        status::category(st)
                    ),
                )
            }
        }
    }
}

/// DIM-09: every response answers its request: Message ID Being Responded To and the Affected SOP
/// Class (and, for C-STORE, the Affected SOP Instance) echo the request.
fn dim_09(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let mut bad = Vec::new();
    for m in r
        .messages
        .iter()
        .filter(|m| m.flow == Flow::Received && m.command.field & 0x8000 != 0)
    {
        let rq = r.messages.iter().find(|q| {
            q.flow == Flow::Sent
                && q.command.field | 0x8000 == m.command.field
                && q.command.message_id.is_some()
                && q.command.message_id == m.command.responded_to
        });
        match rq {
            None => bad.push(format!(
                "{} responds to message {}, which was not sent",
                m.command.name(),
                m.command
                    .responded_to
                    .map_or("(none)".to_string(), |id| id.to_string())
            )),
            Some(q) => {
                if m.command.affected_sop_class.is_some()
                    && m.command.affected_sop_class != q.command.affected_sop_class
                {
                    bad.push(format!(
                        "{} names SOP Class {}, the request {}",
                        m.command.name(),
                        m.command.affected_sop_class.as_deref().unwrap_or("(none)"),
                        q.command.affected_sop_class.as_deref().unwrap_or("(none)")
                    ));
                }
                if m.command.field == field::C_STORE_RSP
                    && m.command.affected_sop_instance.is_some()
                    && m.command.affected_sop_instance != q.command.affected_sop_instance
                {
                    bad.push(format!(
                        "C-STORE-RSP names instance {}, the request {}",
                        m.command
                            .affected_sop_instance
                            .as_deref()
                            .unwrap_or("(none)"),
                        q.command
                            .affected_sop_instance
                            .as_deref()
                            .unwrap_or("(none)")
                    ));
                }
            }
        }
    }
    fail_if_any("responses that echo their requests", bad)
}

/// DIM-10: the peer keeps to the DIMSE protocol (command sets that decode, fragments in order,
/// no message on a context that was not accepted).
fn dim_10(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if let Some(why) = r.ended.strip_prefix("protocol violation: ") {
        return Verdict::fail(
            "DIMSE messages per PS3.7 §9.3 and PS3.8 §9.3.5",
            why.to_string(),
        );
    }
    let accepted: BTreeSet<u8> = r
        .negotiated
        .iter()
        .filter(|n| n.result == 0)
        .map(|n| n.id)
        .collect();
    let mut stray: Vec<String> = if r.negotiated.is_empty() {
        Vec::new()
    } else {
        r.messages
            .iter()
            .filter(|m| m.flow == Flow::Received && !accepted.contains(&m.pc_id))
            .map(|m| {
                format!(
                    "{} on context {}, which was not accepted",
                    m.command.name(),
                    m.pc_id
                )
            })
            .collect()
    };
    // A response belongs to the presentation context of its request (PS3.7 §9.3: the response
    // answers the request on its association and context; PS3.8 §9.3.5.1).
    for m in r
        .messages
        .iter()
        .filter(|m| m.flow == Flow::Received && m.command.field & 0x8000 != 0)
    {
        let rq = r.messages.iter().find(|q| {
            q.flow == Flow::Sent
                && q.command.field | 0x8000 == m.command.field
                && q.command.message_id.is_some()
                && q.command.message_id == m.command.responded_to
        });
        if let Some(q) = rq {
            if q.pc_id != m.pc_id && accepted.contains(&m.pc_id) {
                stray.push(format!(
                    "{} on context {}, its request on context {}",
                    m.command.name(),
                    m.pc_id,
                    q.pc_id
                ));
            }
        }
    }
    if stray.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "messages only on accepted contexts, each response on its request's",
            listed(stray),
        )
    }
}

/// DIM-20: a request the SCP must refuse is refused with the status the standard names for the
/// reason (A801 for an unknown move destination, PS3.4 Table C.4-2 and PS3.7 §9.1.4.1.7 e). PS3.7
/// says a C-MOVE status "may have any of the following values" and pairs "Refused: Move
/// Destination unknown" with that reason without a SHALL; another failure (C000 Unable to process)
/// still refuses the move (DIM-03) but names another cause: a SHOULD.
fn dim_20(s: &Subject<'_>) -> Verdict {
    let Some(named) = s.expect.dimse.refused_as else {
        return Verdict::na("the request is not one the SCP must refuse");
    };
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let expected = format!("status {named:04X} ({})", s.expect.dimse.reason);
    match final_response(r).and_then(|m| m.command.status) {
        Some(st) if st == named => Verdict::Pass,
        Some(st) => Verdict::fail(
            expected,
            format!("status {st:04X} ({})", status::category(st)),
        ),
        None => Verdict::fail(expected, format!("no final response ({})", r.ended)),
    }
}

/// DIM-14: a presentation context for a SOP class the SCP does not support is refused.
fn dim_14(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.dimse;
    if x.unsupported.is_empty() {
        return Verdict::na("no unsupported SOP class was proposed");
    }
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let accepted: Vec<&str> = r
        .negotiated
        .iter()
        .filter(|n| n.result == 0 && x.unsupported.contains(&n.abstract_syntax))
        .map(|n| n.abstract_syntax.as_str())
        .collect();
    if accepted.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "the context refused (abstract-syntax-not-supported)",
            format!("accepted for {}", accepted.join(", ")),
        )
    }
}

/// The DIMSE checks.
pub static CHECKS: &[Check] = &[
    Check {
        id: "DIM-01",
        requirement: "DICOM PS3.8 §9.3.3.2 (A-ASSOCIATE-AC presentation context items)",
        requirements: &["PS8-9.3.3.2"],
        level: Level::Shall,
        actor: "DICOM SCP",
        title: "The association is accepted with the contexts needed, one proposed transfer syntax each",
        eval: dim_01,
    },
    Check {
        id: "DIM-02",
        requirement: "DICOM PS3.8 §9.3.4 (A-ASSOCIATE-RJ); PS3.8 §7.1.1.2 (Called AE Title)",
        requirements: &["PS8-9.3.4", "PS8-7.1.1.2"],
        // PS3.8 gives the rejection reasons but does not oblige an SCP to check the called AE
        // title: a warning unless strict.
        level: Level::Should,
        actor: "DICOM SCP",
        title: "An association the SCP must refuse is rejected with the right source and reason",
        eval: dim_02,
    },
    Check {
        id: "DIM-03",
        requirement: "DICOM PS3.7 §9.1, Annex C; PS3.4 §B.2.3, §C.4",
        requirements: &["PS7-9.1", "PS7-C", "PS4-B.2.3", "PS4-C.4"],
        level: Level::Shall,
        actor: "DICOM SCP",
        title: "The final response status is the one the requirement names",
        eval: dim_03,
    },
    Check {
        id: "DIM-04",
        requirement: "DICOM PS3.4 §C.4.1.1.4, §C.4.1.2.3 (C-FIND responses)",
        requirements: &["PS4-C.4.1.1.4", "PS4-C.4.1.2.3"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "C-FIND answers each match with a pending response and an identifier, then a final response without one",
        eval: dim_04,
    },
    Check {
        id: "DIM-05",
        requirement: "DICOM PS3.4 §C.4.1.1.3.2 (response identifier)",
        requirements: &["PS4-C.4.1.1.3.2"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "C-FIND identifiers hold the keys asked for and no others",
        eval: dim_05,
    },
    Check {
        id: "DIM-06",
        requirement: "DICOM PS3.4 §C.2.2.2 (attribute matching); §C.4.1.3.1 (a response for each match, with values from that match)",
        requirements: &["PS4-C.2.2.2", "PS4-C.4.1.3.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "C-FIND returns every entity of the test data that matches, with its values, and none of the test data that does not",
        eval: dim_06,
    },
    Check {
        id: "DIM-07",
        requirement: "DICOM PS3.4 §C.4.2.1.5, §C.4.3.1.4 (sub-operation counts)",
        requirements: &["PS4-C.4.2.1.5", "PS4-C.4.3.1.4"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "C-MOVE and C-GET sub-operation counts are consistent and account for every instance",
        eval: dim_07,
    },
    Check {
        id: "DIM-08",
        requirement: "DICOM PS3.4 §C.4.2.3, §C.4.3.3 (C-STORE sub-operations for the stored SOP Instances selected); IHE RAD TF-2 §4.16",
        requirements: &["PS4-C.4.2.3", "PS4-C.4.3.3", "RAD2-4.16"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "The instances retrieved are those asked for, each with the source's image",
        eval: dim_08,
    },
    Check {
        id: "DIM-09",
        requirement: "DICOM PS3.7 §9.3 (Message ID Being Responded To, Affected SOP Class/Instance UID)",
        requirements: &["PS7-9.3"],
        level: Level::Shall,
        actor: "DICOM SCP",
        title: "Every response echoes its request",
        eval: dim_09,
    },
    Check {
        id: "DIM-10",
        requirement: "DICOM PS3.7 §6.3.1, §9.3; PS3.8 §9.3.5 (P-DATA-TF)",
        requirements: &["PS7-6.3.1", "PS7-9.3", "PS8-9.3.5"],
        level: Level::Shall,
        actor: "DICOM application entity",
        title: "DIMSE messages are well formed and sent only on accepted contexts",
        eval: dim_10,
    },
    Check {
        id: "DIM-11",
        requirement: "DICOM PS3.4 §C.4.1.3.1, §C.4.2.3.1, §C.4.3.3.1 (C-CANCEL)",
        requirements: &["PS4-C.4.1.3.1", "PS4-C.4.2.3.1", "PS4-C.4.3.3.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "After C-CANCEL the operation ends with status Cancel",
        eval: dim_11,
    },
    Check {
        id: "DIM-12",
        requirement: "DICOM PS3.4 §B.2.3 (C-STORE status); PS3.7 §C.5.8 (0111 Duplicate SOP Instance, for an instance already held)",
        requirements: &["PS4-B.2.3", "PS7-C.5.8"],
        level: Level::Shall,
        actor: "Storage SCP",
        title: "Each C-STORE is answered with success or a warning for that instance",
        eval: dim_12,
    },
    Check {
        id: "DIM-13",
        requirement: "DICOM PS3.4 §B.2.2 (Storage SCU behaviour: the SOP Instance sent is the one stored)",
        requirements: &["PS4-B.2.2"],
        level: Level::Shall,
        actor: "Storage SCU",
        title: "The instances the SUT stores are those it was asked to send, each with the source's image",
        eval: dim_13,
    },
    Check {
        id: "DIM-14",
        requirement: "DICOM PS3.8 §9.3.3.2 (result 3, abstract-syntax-not-supported)",
        requirements: &["PS8-9.3.3.2"],
        // Accepting a SOP class is the SCP's choice; accepting one it cannot serve is a risk.
        level: Level::Should,
        actor: "DICOM SCP",
        title: "A presentation context for a SOP class the SCP does not support is refused",
        eval: dim_14,
    },
    Check {
        id: "DIM-15",
        requirement: "DICOM PS3.4 §C.4.1.1.3.2 (response Identifier: Query/Retrieve Level, the level of the query); §C.2.2.1.1 (every entity has a Unique Key value, which identifies it alone); §C.4.1.3.1 (a response for each match)",
        requirements: &["PS4-C.4.1.1.3.2", "PS4-C.2.2.1.1", "PS4-C.4.1.3.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "Every C-FIND match is an entity of the Query/Retrieve Level asked, named by its unique key, each entity once",
        eval: dim_15,
    },
    Check {
        id: "DIM-16",
        requirement: "DICOM PS3.4 §C.2.2.2 (attribute matching), §C.4.1.3.1 (a response for each entity that matches every key)",
        requirements: &["PS4-C.2.2.2", "PS4-C.4.1.3.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP",
        title: "Every C-FIND match satisfies the unique and required keys asked (no other patient, study or series)",
        eval: dim_16,
    },
    Check {
        id: "DIM-17",
        requirement: "DICOM PS3.4 §C.4.2.3.1, §C.4.3.3.1 (sub-operations for the SOP Instances the Identifier selects); PS3.7 §9.1.1.1 (Affected SOP Class and Instance UID of the SOP Instance stored)",
        requirements: &["PS4-C.4.2.3.1", "PS4-C.4.3.3.1", "PS7-9.1.1.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCP; Storage SCU",
        title: "Each instance delivered is the one its C-STORE-RQ names, of the patient, study and series asked",
        eval: dim_17,
    },
    Check {
        id: "DIM-18",
        requirement: "DICOM PS3.7 §9.1.1.1 and Table 9.1-1 (Move Originator Application Entity Title and Message ID of a C-STORE that is a C-MOVE sub-operation; a user option, U); PS3.4 §C.4.2.3",
        requirements: &["PS7-9.1.1.1", "PS7-Table9.1-1", "PS4-C.4.2.3"],
        // A user option: a SCP that leaves the fields out breaks nothing the standard requires,
        // but the destination cannot tell which C-MOVE an instance belongs to.
        level: Level::Should,
        actor: "Query/Retrieve SCP",
        title: "The C-STORE sub-operations of a C-MOVE name it: Move Originator AE Title and Message ID",
        eval: dim_18,
    },
    Check {
        id: "DIM-19",
        requirement: "DICOM PS3.4 §B.4.1.4 (Signature Level 3: a bit-preserving SCP); §B.4.1.1 (Level 2 keeps every attribute); §B.4.1.3 (an SCP may coerce attributes, with a Warning)",
        requirements: &["PS4-B.4.1.4", "PS4-B.4.1.1", "PS4-B.4.1.3"],
        // The standard lets a Storage SCP coerce attributes and a Level 0 or 1 SCP drop some: a
        // data set that comes back with other bytes is a warning unless strict (DIM-08 judges
        // the instance and its image).
        level: Level::Should,
        actor: "Query/Retrieve SCP; Storage SCU",
        title: "Each instance delivered is byte for byte the data set the source holds",
        eval: dim_19,
    },
    Check {
        id: "DIM-20",
        requirement: "DICOM PS3.4 §C.4.2.1.5, Table C.4-2 (A801 Refused: Move Destination unknown); PS3.7 §9.1.4.1.7",
        requirements: &["PS4-C.4.2.1.5", "PS4-TableC.4-2", "PS7-9.1.4.1.7"],
        // The statuses are listed as values a response "may have", each with its meaning: the
        // named one is a SHOULD; refusing at all is DIM-03's SHALL.
        level: Level::Should,
        actor: "Query/Retrieve SCP",
        title: "A request the SCP must refuse is refused with the status named for the reason",
        eval: dim_20,
    },
    Check {
        id: "DIMSCU-01",
        requirement: "DICOM PS3.4 §C.4.1.1.3.1 (a C-FIND Identifier carries the Query/Retrieve Level), §C.4.1.2.1 (the SCU supplies a single value of the Unique Key of each level above the Query/Retrieve Level); PS3.7 §9.1.2.1.3 (Affected SOP Class UID: the Query/Retrieve FIND SOP Class of a negotiated context)",
        requirements: &["PS4-C.4.1.1.3.1", "PS4-C.4.1.2.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCU",
        title: "The SUT's C-FIND is the query asked for: its level, the unique keys above it, the keys asked",
        eval: qr_scu::dimscu_01,
    },
    Check {
        id: "DIMSCU-02",
        requirement: "DICOM PS3.4 §C.4.2.1.4.1, §C.4.3.1.3.1 (a C-MOVE or C-GET Identifier carries the Query/Retrieve Level and the Unique Keys); §C.4.2.2.1, §C.4.3.2.1 (a single value of the Unique Key of each level above the level, one or more of the level's); PS3.7 §9.1.4.1.5 (Move Destination)",
        requirements: &["PS4-C.4.2.2.1", "PS4-C.4.3.2.1"],
        level: Level::Shall,
        actor: "Query/Retrieve SCU",
        title: "The SUT's C-MOVE or C-GET names what was asked: level, unique keys, Move Destination",
        eval: qr_scu::dimscu_02,
    },
    Check {
        id: "DIMSCU-03",
        requirement: "DICOM PS3.4 §C.4.3 (the C-STORE sub-operations of a C-GET run on its association, the SCU acting as Storage SCP); PS3.7 §D.3.3.4 (SCP/SCU Role Selection Negotiation)",
        requirements: &["PS4-C.4.3", "PS7-D.3.3.4"],
        level: Level::Shall,
        actor: "Query/Retrieve SCU",
        title: "The SUT's C-GET association proposes each Storage SOP Class retrieved, with the SCP role",
        eval: qr_scu::dimscu_03,
    },
    Check {
        id: "DIMSCU-04",
        requirement: "DICOM PS3.4 §C.4.1.3.1 (the C-FIND SCU may cancel with C-CANCEL); PS3.7 §9.3.2.3 (C-CANCEL-FIND-RQ: Message ID Being Responded To, the Message ID of the C-FIND-RQ it cancels)",
        requirements: &["PS7-9.3.2.3"],
        level: Level::Shall,
        actor: "Query/Retrieve SCU",
        title: "The SUT's C-CANCEL names the Message ID of the request it cancels",
        eval: qr_scu::dimscu_04,
    },
];

mod find;
mod matching;
pub mod qr_scu;
mod transfer;

use find::{dim_04, dim_05, dim_06, dim_15, dim_16};
pub(crate) use transfer::stores;
use transfer::{dim_07, dim_08, dim_11, dim_12, dim_13, dim_17, dim_18, dim_19};

#[cfg(test)]
mod tests;
