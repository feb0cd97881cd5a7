//! The C-FIND checks: the pending responses and their identifiers (DIM-04), the keys asked for
//! (DIM-05), every match of the test data with its values (DIM-06), the level (DIM-15) and the
//! matching keys (DIM-16) of every match.

use super::*;

/// DIM-04: a C-FIND answers each match with a pending response carrying an identifier, then a
/// final response without one.
pub(super) fn dim_04(s: &Subject<'_>) -> Verdict {
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
pub(super) const ALWAYS_ALLOWED: &[&str] = &[
    "SpecificCharacterSet",
    "QueryRetrieveLevel",
    "TimezoneOffsetFromUTC",
    "RetrieveAETitle",
    "StorageMediaFileSetID",
    "StorageMediaFileSetUID",
    "InstanceAvailability",
];

/// DIM-05: C-FIND identifiers hold the keys asked for and no others.
pub(super) fn dim_05(s: &Subject<'_>) -> Verdict {
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
pub(super) fn other_value(keyword: &str, held: &str, got: &str) -> Option<String> {
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
pub(super) fn dim_06(s: &Subject<'_>) -> Verdict {
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

/// DIM-15: every C-FIND match is an entity of the Query/Retrieve Level asked: its identifier
/// carries that level, and a value for the level's unique key when the request asked for it; and
/// each entity is answered once. PS3.4 §C.4.1.3.1: "The SCP generates a C-FIND response for each
/// match", whose Identifier holds "values from a single match", and a Unique Key value identifies
/// a single entity (§C.2.2.1.1): two responses with one unique key value present one entity as two
/// (seen: an SCP answering a study-level query once per instance of each study).
pub(super) fn dim_15(s: &Subject<'_>) -> Verdict {
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
pub(super) fn dim_16(s: &Subject<'_>) -> Verdict {
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
