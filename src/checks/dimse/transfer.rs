//! The checks of what an association transfers: C-MOVE and C-GET sub-operation counts (DIM-07),
//! the instances that arrive and their images (DIM-08, DIM-17, DIM-19), C-CANCEL (DIM-11), the
//! C-STORE responses (DIM-12), what a SUT stored into the harness (DIM-13) and the Move
//! Originator of C-MOVE sub-operations (DIM-18).

use super::*;

/// DIM-07: C-MOVE / C-GET sub-operation counts: pending responses carry the remaining count and
/// count down, and the counts a final response carries account for every instance (completed +
/// failed + warning), with B000 when any failed. A final response without counts is allowed.
pub(super) fn dim_07(s: &Subject<'_>) -> Verdict {
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
pub(super) struct Arrival {
    uid: String,
    sha256: Option<String>,
    pixels: Option<String>,
    transfer_syntax: Option<String>,
}

/// The C-STORE-RQs received on this association (C-GET) and in the follow-up exchanges (the
/// harness's Storage SCP: C-MOVE sub-operations, or a SUT's stores).
pub(crate) fn stores<'a>(
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
pub(super) fn arrived(r: &DimseRecord, followups: &[Exchange]) -> Vec<Arrival> {
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
pub(super) fn comparable<'a>(want: &'a [(String, String)], ts: Option<&String>) -> Vec<&'a String> {
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
pub(super) fn compare_arrivals(
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
pub(super) fn dim_08(s: &Subject<'_>) -> Verdict {
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

/// Responses that reach the harness within this time after its C-CANCEL may have crossed it.
pub(super) const CANCEL_GRACE_MS: u64 = 1000;

/// DIM-11: after a C-CANCEL, the operation ends with status FE00 (Cancel), or 0000 when it had
/// already completed.
pub(super) fn dim_11(s: &Subject<'_>) -> Verdict {
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
pub(super) fn dim_12(s: &Subject<'_>) -> Verdict {
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
pub(super) fn dim_13(s: &Subject<'_>) -> Verdict {
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

/// DIM-19: each instance that arrived (retrieved, or stored by a SUT) is byte for byte, in its data
/// set, the instance as the source holds it in that transfer syntax: nothing coerced, added or
/// dropped. A Storage SCP may coerce attributes (PS3.4 §B.4.1.3, with a Warning status when it
/// stores) and a Level 0 or 1 SCP may drop some (§B.4.1.1); only a bit-preserving archive
/// (Signature Level 3, §B.4.1.4) keeps every byte: a SHOULD.
pub(super) fn dim_19(s: &Subject<'_>) -> Verdict {
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

/// The retrieve keys of a C-MOVE or C-GET identifier that each instance must agree with.
pub(super) fn retrieve_selects(rq: &MessageRecord) -> Vec<(String, Vec<String>)> {
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
pub(super) fn dim_17(s: &Subject<'_>) -> Verdict {
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
pub(super) fn dim_18(s: &Subject<'_>) -> Verdict {
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
