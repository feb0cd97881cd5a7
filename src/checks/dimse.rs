//! DIMSE checks (DICOM PS3.4, PS3.7, PS3.8): association negotiation, statuses, C-FIND responses
//! and identifiers, C-MOVE/C-GET sub-operations, and the instances received against what was
//! asked for. Each check reads the [`DimseRecord`] of an exchange and what the scenario expects.

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

/// DIM-04: a C-FIND answers each match with a pending response carrying an identifier, then a
/// final response without one.
fn dim_04(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if first_request(r).map(|m| m.command.field) != Some(field::C_FIND_RQ) {
        return Verdict::na("not a C-FIND");
    }
    let mut bad = Vec::new();
    for m in r.received(field::C_FIND_RSP) {
        let st = m.command.status.unwrap_or(0xFFFF);
        if status::is_pending(st) && !m.command.has_data_set() {
            bad.push(format!("pending response {st:04X} without an identifier"));
        }
        if !status::is_pending(st) && m.command.has_data_set() {
            bad.push(format!("final response {st:04X} with an identifier"));
        }
    }
    if final_response(r).is_none() && !r.ended.starts_with("aborted by the harness") {
        bad.push(format!("no final response ({})", r.ended));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "FF00/FF01 with an identifier per match, then a final response without one",
            bad.join("; "),
        )
    }
}

/// Keywords that may appear in a C-FIND identifier besides those asked for. PS3.4 §C.4.1.1.3.2:
/// "The C-FIND response shall not contain Attributes that were not in the request or specified in
/// this section", and the section specifies the Query/Retrieve Level, Specific Character Set (when
/// the response uses another character set), Timezone Offset From UTC (when times in the response
/// are to be read in a designated time zone, which the SCP may do whether or not the request held
/// it), the location attributes an SCP shall return one of (Retrieve AE Title, Storage Media
/// File-Set ID and UID) and Instance Availability, which it may.
const ALWAYS_ALLOWED: &[&str] = &[
    "SpecificCharacterSet",
    "QueryRetrieveLevel",
    "TimezoneOffsetFromUTC",
    "RetrieveAETitle",
    "StorageMediaFileSetID",
    "StorageMediaFileSetUID",
    "InstanceAvailability",
];

/// DIM-05: C-FIND identifiers hold the keys asked for and no others.
fn dim_05(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.dimse;
    if x.requested_keys.is_empty() {
        return Verdict::na("no keys known");
    }
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let mut bad = BTreeSet::new();
    for m in r.received(field::C_FIND_RSP) {
        if !m.command.status.is_some_and(status::is_pending) {
            continue;
        }
        let keys: BTreeSet<&str> = m.data_summary.iter().map(|(k, _)| k.as_str()).collect();
        for k in &keys {
            if !x.requested_keys.iter().any(|w| w == k) && !ALWAYS_ALLOWED.contains(k) {
                bad.insert(format!("{k} was not asked for"));
            }
        }
        for w in &x.requested_keys {
            if !keys.contains(w.as_str()) {
                bad.insert(format!("{w} is missing"));
            }
        }
    }
    fail_if_any(
        format!(
            "identifiers with exactly the keys {}",
            x.requested_keys.join(", ")
        ),
        bad,
    )
}

/// A returned value that is not the one the test data holds, if it is not; an empty one is the
/// SCP having no value to send (PS3.4 §C.4.1.1.3.2 note 2), not a wrong one.
fn other_value(keyword: &str, held: &str, got: &str) -> Option<String> {
    let got = got.trim_matches([' ', '\0']);
    let held = held.trim_matches([' ', '\0']);
    if got.is_empty() || held.is_empty() {
        return None;
    }
    let same = match keyword {
        "SeriesNumber" | "InstanceNumber" => match (got.parse::<i64>(), held.parse::<i64>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => got == held,
        },
        _ => got == held,
    };
    (!same).then(|| format!("{keyword} is {got}, the test data holds {held}"))
}

/// DIM-06: a C-FIND returns every entity of the test data that matches, with the values the test
/// data holds, and none that does not. An entity the harness does not know may be the SUT's own
/// data that matches as well: it is not judged here (DIM-16 judges its identifier against the
/// keys), so a shared archive is not failed for holding more than the test studies.
fn dim_06(s: &Subject<'_>) -> Verdict {
    let Some((key, want)) = &s.expect.dimse.matches else {
        return Verdict::na("the scenario does not know the matches");
    };
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let got: BTreeSet<String> = r
        .received(field::C_FIND_RSP)
        .filter(|m| m.command.status.is_some_and(status::is_pending))
        .filter_map(|m| {
            m.data_summary
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        })
        .collect();
    let mut wrong = Vec::new();
    for m in matches_of(r) {
        let Some(uid) = value_of(&m.data_summary, key).map(str::trim) else {
            continue;
        };
        for (k, held) in s.expect.dimse.values.get(uid).into_iter().flatten() {
            if let Some(why) = value_of(&m.data_summary, k).and_then(|v| other_value(k, held, v)) {
                wrong.push(format!("{uid}: {why}"));
            }
        }
    }
    let missing: Vec<String> = want.difference(&got).cloned().collect();
    // Only the test data is known not to match: a SUT may hold other entities that do.
    let extra: Vec<String> = got
        .difference(want)
        .filter(|v| s.expect.dimse.known.as_ref().is_none_or(|k| k.contains(*v)))
        .cloned()
        .collect();
    if missing.is_empty() && extra.is_empty() && wrong.is_empty() {
        Verdict::Pass
    } else {
        let mut actual = Vec::new();
        if !missing.is_empty() {
            actual.push(format!("missing {}", listed(missing)));
        }
        if !extra.is_empty() {
            actual.push(format!("not matching {}", listed(extra)));
        }
        if !wrong.is_empty() {
            actual.push(format!("with other values: {}", listed(wrong)));
        }
        Verdict::fail(
            format!(
                "the {} matching {key} values of the test data, with the values it holds, and no other of the test data",
                want.len()
            ),
            actual.join("; "),
        )
    }
}

/// DIM-07: C-MOVE / C-GET sub-operation counts: pending responses carry the remaining count and
/// count down, and the counts a final response carries account for every instance (completed +
/// failed + warning), with B000 when any failed. A final response without counts is allowed.
fn dim_07(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let rsp = match first_request(r).map(|m| m.command.field) {
        Some(field::C_MOVE_RQ) => field::C_MOVE_RSP,
        Some(field::C_GET_RQ) => field::C_GET_RSP,
        _ => return Verdict::na("not a C-MOVE or C-GET"),
    };
    let mut bad = Vec::new();
    let mut last_remaining: Option<u16> = None;
    for m in r.received(rsp) {
        let c = &m.command;
        if c.status.is_some_and(status::is_pending) {
            if c.remaining.is_none() {
                bad.push("a pending response without Number of Remaining Sub-operations".into());
            }
            if let (Some(prev), Some(now)) = (last_remaining, c.remaining) {
                if now > prev {
                    bad.push(format!("remaining went up from {prev} to {now}"));
                }
            }
            last_remaining = c.remaining.or(last_remaining);
        }
    }
    if let Some(fin) = final_response(r) {
        let c = &fin.command;
        let st = c.status.unwrap_or(0);
        let done = c.completed.unwrap_or(0) as usize
            + c.failed.unwrap_or(0) as usize
            + c.warning.unwrap_or(0) as usize;
        // PS3.4 §C.4.2.1.7-9 and §C.4.3.1.6-8: a final response (Success, Warning, Failure) "may
        // contain" the counts, though §C.4.2.3.1 says it "shall indicate" them; the field
        // definitions are read as the rule, and only counts that are there are judged.
        let all_counts = c.completed.is_some() && c.failed.is_some() && c.warning.is_some();
        if let Some(want) = &s.expect.dimse.instances {
            if st == status::SUCCESS || st == status::SUB_OPERATIONS_FAILED {
                if all_counts && done != want.len() {
                    let n = |v: Option<u16>| v.map_or("none".to_string(), |v| v.to_string());
                    bad.push(format!(
                        "final counts completed {} failed {} warning {} do not add up to the {} instances",
                        n(c.completed),
                        n(c.failed),
                        n(c.warning),
                        want.len()
                    ));
                }
                if c.completed.is_some_and(|n| n as usize != want.len()) && st == status::SUCCESS {
                    bad.push(format!(
                        "status 0000 with {} completed of {}",
                        c.completed.unwrap_or(0),
                        want.len()
                    ));
                }
            }
        }
        if st == status::SUCCESS && c.failed.unwrap_or(0) > 0 {
            bad.push("status 0000 with failed sub-operations (B000 is required)".into());
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail("consistent sub-operation counts", bad.join("; "))
    }
}

/// One instance that arrived: its C-STORE-RQ's Affected SOP Instance UID, the SHA-256 of its data
/// set and of its image, and the transfer syntax it came in (when the record says).
struct Arrival {
    uid: String,
    sha256: Option<String>,
    pixels: Option<String>,
    transfer_syntax: Option<String>,
}

/// The C-STORE-RQs received on this association (C-GET) and in the follow-up exchanges (the
/// harness's Storage SCP: C-MOVE sub-operations, or a SUT's stores).
fn stores<'a>(
    r: &'a DimseRecord,
    followups: &'a [Exchange],
) -> impl Iterator<Item = &'a MessageRecord> {
    r.received(field::C_STORE_RQ).chain(
        followups
            .iter()
            .filter_map(|f| f.dimse.as_deref())
            .flat_map(|rec| rec.received(field::C_STORE_RQ)),
    )
}

/// The instances that arrived.
fn arrived(r: &DimseRecord, followups: &[Exchange]) -> Vec<Arrival> {
    stores(r, followups)
        .map(|m| Arrival {
            uid: m.command.affected_sop_instance.clone().unwrap_or_default(),
            sha256: m.data_sha256.clone(),
            pixels: value_of(&m.data_summary, "PixelDataSHA256").map(str::to_string),
            transfer_syntax: value_of(&m.data_summary, "TransferSyntaxUID").map(str::to_string),
        })
        .collect()
}

/// The references of `want` (transfer syntax, digest) an arrival in `ts` is compared with.
fn comparable<'a>(want: &'a [(String, String)], ts: Option<&String>) -> Vec<&'a String> {
    want.iter()
        .filter(|(t, _)| ts.is_none_or(|ts| ts == t))
        .map(|(_, sha)| sha)
        .collect()
}

/// What differs between the instances that arrived and those expected: an unexpected instance
/// (`unexpected` says how), one whose image is not the source's (`pixel_data`: the digests of each
/// image by transfer syntax), and, when `all_required`, a missing one. The other attributes of an
/// instance may have been coerced by the SCP that stored it (PS3.4 §B.4.1.3): DIM-19 compares
/// those bytes.
fn compare_arrivals(
    want: &BTreeMap<String, Vec<(String, String)>>,
    pixel_data: &BTreeMap<String, Vec<(String, String)>>,
    got: &[Arrival],
    unexpected: &str,
    all_required: bool,
) -> Vec<String> {
    let mut bad = Vec::new();
    let uids: BTreeSet<&str> = got.iter().map(|a| a.uid.as_str()).collect();
    for a in got {
        if !want.contains_key(&a.uid) {
            bad.push(format!("{} {unexpected}", a.uid));
            continue;
        }
        let Some(h) = &a.pixels else { continue };
        let refs = comparable(
            pixel_data.get(&a.uid).map_or(&[][..], Vec::as_slice),
            a.transfer_syntax.as_ref(),
        );
        if !refs.is_empty() && !refs.contains(&h) {
            bad.push(format!(
                "{}: its image is not the source's (Pixel Data{} differs): another image under this SOP Instance UID",
                a.uid,
                a.transfer_syntax
                    .as_ref()
                    .map(|t| format!(" in {t}"))
                    .unwrap_or_default()
            ));
        }
    }
    let missing: Vec<String> = want
        .keys()
        .filter(|u| !uids.contains(u.as_str()))
        .cloned()
        .collect();
    if all_required && !missing.is_empty() {
        bad.push(format!("not received: {}", listed(missing)));
    }
    bad
}

/// DIM-08: the instances received are those asked for, each with the source's image (its Pixel
/// Data, where the transfer syntax lets it be compared). Its other attributes are DIM-19's.
fn dim_08(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.dimse.instances else {
        return Verdict::na("the scenario does not know the instances");
    };
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let first = first_request(r).map(|m| m.command.field);
    if !matches!(first, Some(field::C_MOVE_RQ) | Some(field::C_GET_RQ)) {
        return Verdict::na("not a C-MOVE or C-GET");
    }
    // Every instance is required when the SCP says it delivered them all (0000). After a
    // failure or warning status, a cancel, or an operation cut short, the counts and the status
    // say what was not delivered (DIM-03, DIM-07): what did arrive is still judged.
    let all_said_delivered = final_response(r)
        .and_then(|m| m.command.status)
        .is_some_and(|st| st == status::SUCCESS);
    let bad = compare_arrivals(
        want,
        &s.expect.dimse.pixel_data,
        &arrived(r, s.followups),
        "was not asked for",
        all_said_delivered && !s.expect.dimse.cancelled,
    );
    fail_if_any(
        format!(
            "the {} instances asked for, each with the source's image",
            want.len()
        ),
        bad,
    )
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

/// Responses that reach the harness within this time after its C-CANCEL may have crossed it.
const CANCEL_GRACE_MS: u64 = 1000;

/// DIM-11: after a C-CANCEL, the operation ends with status FE00 (Cancel), or 0000 when it had
/// already completed.
fn dim_11(s: &Subject<'_>) -> Verdict {
    if !s.expect.dimse.cancelled {
        return Verdict::na("no C-CANCEL was sent");
    }
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    // Responses may cross the C-CANCEL in flight: a final 0000 within the grace period after the
    // cancel was sent means the operation had ended; later than that, the SCP ignored it.
    let Some(cancel_at) = r
        .messages
        .iter()
        .find(|m| m.flow == Flow::Sent && m.command.field == field::C_CANCEL_RQ)
        .map(|m| m.at_ms)
    else {
        // The harness cancels after a pending response; an SCP may send none before its final
        // one (PS3.4 §C.4.2.3.1: pending C-MOVE responses are optional), and then there was
        // nothing to cancel.
        return Verdict::na(
            "no C-CANCEL was sent: the operation ended before any pending response",
        );
    };
    let after = final_response(r)
        .map(|f| f.at_ms.saturating_sub(cancel_at))
        .unwrap_or(0);
    match final_response(r) {
        None => Verdict::fail(
            "a final response FE00 after C-CANCEL",
            format!("none ({})", r.ended),
        ),
        Some(m) => match m.command.status {
            Some(status::CANCEL) => Verdict::Pass,
            // 0000 is right only when the operation had ended before the cancel arrived.
            Some(status::SUCCESS) if after <= CANCEL_GRACE_MS => Verdict::Pass,
            other => Verdict::fail(
                "FE00 (Cancel), or 0000 only if the operation had already ended",
                format!(
                    "{:04X}, {after} ms after the C-CANCEL was sent",
                    other.unwrap_or(0xFFFF)
                ),
            ),
        },
    }
}

/// DIM-12: each C-STORE is answered with a success or warning status for that instance.
fn dim_12(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if first_request(r).map(|m| m.command.field) != Some(field::C_STORE_RQ) {
        return Verdict::na("not a C-STORE");
    }
    let duplicates = s.expect.dimse.duplicates;
    let mut bad = Vec::new();
    for m in r.received(field::C_STORE_RSP) {
        let st = m.command.status.unwrap_or(0xFFFF);
        let refused_as_duplicate = duplicates && st == status::DUPLICATE_SOP_INSTANCE;
        if !matches!(status::category(st), "success" | "warning") && !refused_as_duplicate {
            bad.push(format!(
                "{}: {st:04X}",
                m.command.affected_sop_instance.as_deref().unwrap_or("?")
            ));
        }
    }
    let sent = sent_requests(r)
        .filter(|m| m.command.field == field::C_STORE_RQ)
        .count();
    let answered = r.received(field::C_STORE_RSP).count();
    if answered < sent {
        bad.push(format!("{answered} responses for {sent} C-STORE requests"));
    }
    let expected = if duplicates {
        "for each instance the archive already held: 0000, a warning (Bxxx), or 0111 (Duplicate SOP Instance)"
    } else {
        "0000 or a warning (Bxxx) for each instance"
    };
    fail_if_any(expected, bad)
}

/// DIM-13: the instances a SUT stored into the harness are those it was asked to send, unchanged.
fn dim_13(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.dimse.instances else {
        return Verdict::na("the scenario does not know the instances");
    };
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    if r.received(field::C_STORE_RQ).next().is_none() {
        return Verdict::na("no C-STORE was received on this association");
    }
    let bad = compare_arrivals(
        want,
        &s.expect.dimse.pixel_data,
        &arrived(r, s.followups),
        "was not to be sent",
        true,
    );
    fail_if_any(
        format!(
            "the {} instances of the series, each with the source's image",
            want.len()
        ),
        bad,
    )
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

/// DIM-19: each instance that arrived (retrieved, or stored by a SUT) is byte for byte, in its data
/// set, the instance as the source holds it in that transfer syntax: nothing coerced, added or
/// dropped. A Storage SCP may coerce attributes (PS3.4 §B.4.1.3, with a Warning status when it
/// stores) and a Level 0 or 1 SCP may drop some (§B.4.1.1); only a bit-preserving archive
/// (Signature Level 3, §B.4.1.4) keeps every byte: a SHOULD.
fn dim_19(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.dimse.instances else {
        return Verdict::na("the scenario does not know the instances");
    };
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let got = arrived(r, s.followups);
    if got.is_empty() {
        return Verdict::na("no instance arrived");
    }
    let mut changed = Vec::new();
    for a in &got {
        let (Some(w), Some(h)) = (want.get(&a.uid), &a.sha256) else {
            continue;
        };
        let refs = comparable(w, a.transfer_syntax.as_ref());
        if !refs.is_empty() && !refs.contains(&h) {
            changed.push(format!(
                "{}{}",
                a.uid,
                a.transfer_syntax
                    .as_ref()
                    .map(|t| format!(" (data set in {t})"))
                    .unwrap_or_default()
            ));
        }
    }
    if changed.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "every data set byte for byte as the source holds it",
            format!("other bytes than the source's: {}", listed(changed)),
        )
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

/// DIM-15: every C-FIND match is an entity of the Query/Retrieve Level asked: its identifier
/// carries that level, and a value for the level's unique key when the request asked for it; and
/// each entity is answered once. PS3.4 §C.4.1.3.1: "The SCP generates a C-FIND response for each
/// match", whose Identifier holds "values from a single match", and a Unique Key value identifies
/// a single entity (§C.2.2.1.1): two responses with one unique key value present one entity as two
/// (seen: an SCP answering a study-level query once per instance of each study).
fn dim_15(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(rq) = first_request(r).filter(|m| m.command.field == field::C_FIND_RQ) else {
        return Verdict::na("not a C-FIND");
    };
    let Some(level) = value_of(&rq.data_summary, "QueryRetrieveLevel").map(str::trim) else {
        return Verdict::na("the request names no Query/Retrieve Level");
    };
    let unique =
        matching::unique_key(level).filter(|k| rq.data_summary.iter().any(|(kk, _)| kk == k));
    let mut bad = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (n, m) in matches_of(r).enumerate() {
        let n = n + 1;
        if let Some(why) = undecodable(&m.data_summary) {
            bad.push(format!("match {n}: the identifier cannot be read ({why})"));
            continue;
        }
        if let Some(v) = unique
            .and_then(|u| value_of(&m.data_summary, u))
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            match seen.get(v) {
                Some(first) => bad.push(format!(
                    "match {n} is the entity of match {first} again ({} {v})",
                    unique.unwrap_or_default()
                )),
                None => {
                    seen.insert(v.to_string(), n);
                }
            }
        }
        match value_of(&m.data_summary, "QueryRetrieveLevel").map(str::trim) {
            None => bad.push(format!("match {n} names no Query/Retrieve Level")),
            Some(l) if l != level => bad.push(format!("match {n} is at level {l}")),
            Some(_) => {}
        }
        if let Some(u) = unique {
            if value_of(&m.data_summary, u).is_none_or(|v| v.trim().is_empty()) {
                bad.push(format!("match {n} has no {u}: it names no {level} entity"));
            }
        }
    }
    fail_if_any(
        format!("every match at level {level}, named by its unique key, each entity once"),
        bad,
    )
}

/// DIM-16: every C-FIND match satisfies the matching keys of the request (another patient,
/// study or series than the keys asked is not a match), for the Unique and Required keys, as
/// [`matching`] reads PS3.4 §C.2.2.2: a Required key the SCP holds no value for matches.
fn dim_16(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(rq) = first_request(r).filter(|m| m.command.field == field::C_FIND_RQ) else {
        return Verdict::na("not a C-FIND");
    };
    let keys: Vec<&(String, String)> = rq
        .data_summary
        .iter()
        .filter(|(k, v)| matching::satisfies(k, v, "", false).is_some())
        .collect();
    if keys.is_empty() {
        return Verdict::na("the request has no matching key the harness judges");
    }
    let level = value_of(&rq.data_summary, "QueryRetrieveLevel").unwrap_or_default();
    let unique = matching::unique_key(level);
    let model = rq.command.affected_sop_class.as_deref().unwrap_or_default();
    let mut bad = Vec::new();
    for (n, m) in matches_of(r).enumerate() {
        if undecodable(&m.data_summary).is_some() {
            continue; // DIM-15 reports it
        }
        let name = unique
            .and_then(|u| value_of(&m.data_summary, u))
            .filter(|v| !v.trim().is_empty())
            .map_or(format!("match {}", n + 1), |v| v.trim().to_string());
        for (k, want) in &keys {
            // A key missing from the identifier is DIM-05's finding.
            let Some(got) = value_of(&m.data_summary, k) else {
                continue;
            };
            if matching::satisfies(k, want, got, matching::is_unique(k, model)) == Some(false) {
                let got = if got.trim().is_empty() {
                    "no value"
                } else {
                    got.trim()
                };
                bad.push(format!(
                    "{name}: {k} is {got}, which does not match {}",
                    want.trim()
                ));
            }
        }
    }
    fail_if_any(
        format!(
            "every match satisfying {}",
            keys.iter()
                .map(|(k, v)| format!("{k}={}", v.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        bad,
    )
}

/// The retrieve keys of a C-MOVE or C-GET identifier that each instance must agree with.
fn retrieve_selects(rq: &MessageRecord) -> Vec<(String, Vec<String>)> {
    [
        "PatientID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "SOPInstanceUID",
    ]
    .iter()
    .filter_map(|k| {
        let v = value_of(&rq.data_summary, k)?.trim();
        (!v.is_empty()).then(|| {
            (
                k.to_string(),
                v.split('\\').map(|u| u.trim().to_string()).collect(),
            )
        })
    })
    .collect()
}

/// DIM-17: each instance that arrives is the one its C-STORE-RQ names (the data set's SOP Class
/// and Instance UIDs are the command's Affected ones) and belongs to what the request selected
/// (the retrieve identifier's patient, study, series and instances; or the series a SUT was asked
/// to store).
fn dim_17(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let selects = if s.expect.dimse.selects.is_empty() {
        match first_request(r) {
            Some(m) if matches!(m.command.field, field::C_MOVE_RQ | field::C_GET_RQ) => {
                retrieve_selects(m)
            }
            _ => Vec::new(),
        }
    } else {
        s.expect.dimse.selects.clone()
    };
    let mut n = 0usize;
    let mut bad = Vec::new();
    for m in stores(r, s.followups) {
        n += 1;
        let named = m
            .command
            .affected_sop_instance
            .as_deref()
            .unwrap_or("(none)");
        let sm = &m.data_summary;
        if let Some(why) = undecodable(sm) {
            bad.push(format!("{named}: its data set cannot be read ({why})"));
            continue;
        }
        if let Some(ds) = value_of(sm, "SOPInstanceUID") {
            if ds != named {
                bad.push(format!(
                    "the C-STORE-RQ names {named} but carries the data set of {ds}"
                ));
            }
        }
        if let (Some(ds), Some(cmd)) = (
            value_of(sm, "SOPClassUID"),
            m.command.affected_sop_class.as_deref(),
        ) {
            if ds != cmd {
                bad.push(format!(
                    "{named}: the C-STORE-RQ names SOP Class {cmd}, the data set {ds}"
                ));
            }
        }
        for (k, accepted) in &selects {
            if let Some(v) = value_of(sm, k) {
                if !accepted.iter().any(|a| a == v) {
                    bad.push(format!(
                        "{named} is of {k} {}, not {}",
                        if v.is_empty() { "(none)" } else { v },
                        accepted.join(" or ")
                    ));
                }
            }
        }
    }
    if n == 0 {
        return Verdict::na("no instance arrived");
    }
    fail_if_any(
        "every instance the one its C-STORE-RQ names, of what the request selected",
        bad,
    )
}

/// DIM-18: the C-STORE sub-operations of a C-MOVE carry its Move Originator AE Title (the calling
/// AE of the C-MOVE) and Move Originator Message ID (the C-MOVE-RQ's Message ID). The sub-operations
/// are the C-STOREs the SUT sent the harness during the move, found without these fields.
fn dim_18(s: &Subject<'_>) -> Verdict {
    let r = match record(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    let Some(rq) = first_request(r).filter(|m| m.command.field == field::C_MOVE_RQ) else {
        return Verdict::na("not a C-MOVE");
    };
    let Some(id) = rq.command.message_id else {
        return Verdict::na("the C-MOVE-RQ has no Message ID");
    };
    let want_ae = r.calling_ae.trim_matches([' ', '\0']);
    let mut n = 0usize;
    let mut bad = Vec::new();
    for f in s.followups {
        let Some(rec) = f.dimse.as_deref() else {
            continue;
        };
        let from = rec.calling_ae.trim_matches([' ', '\0']);
        for m in rec.received(field::C_STORE_RQ) {
            n += 1;
            let c = &m.command;
            match c
                .move_originator_ae
                .as_deref()
                .map(|a| a.trim_matches([' ', '\0']))
            {
                None => bad.push(format!(
                    "sub-operations from {from} carry no Move Originator Application Entity Title"
                )),
                Some(a) if a != want_ae => bad.push(format!(
                    "sub-operations from {from} name Move Originator AE Title {a}, not {want_ae}"
                )),
                Some(_) => {}
            }
            match c.move_originator_id {
                None => bad.push(format!(
                    "sub-operations from {from} carry no Move Originator Message ID"
                )),
                Some(got) if got != id => bad.push(format!(
                    "sub-operations from {from} name Move Originator Message ID {got}, not {id}"
                )),
                Some(_) => {}
            }
        }
    }
    if n == 0 {
        return Verdict::na("no sub-operation arrived");
    }
    fail_if_any(
        format!("Move Originator AE Title {want_ae} and Message ID {id} on every sub-operation"),
        bad,
    )
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
];

mod matching;

#[cfg(test)]
mod tests;
