//! The stored query checks (ITI-18): exactly the DocumentEntries that match (XDSI-02), each
//! matching every parameter (XDSI-12), and the metadata that was registered (XDSI-14).

use super::*;

/// The query the harness sent in the subject's exchange, if it was a stored query.
fn harness_query(s: &Subject<'_>) -> Option<e::AdhocQueryRequest> {
    match crate::checks::soap_message::harness_request(s.exchange) {
        Some(Message::AdhocQueryRequest(q)) => Some(q),
        _ => None,
    }
}

/// The DocumentEntries an ITI-18 answer gives: its ExtrinsicObjects, or for an answer of
/// ObjectRefs the entries they resolve to (None when they were not resolved).
fn answered_entries(
    s: &Subject<'_>,
    r: &e::AdhocQueryResponse,
) -> Result<Option<Vec<DocumentEntry>>, Vec<String>> {
    if r.objects.object_refs.is_empty() || !r.objects.extrinsic_objects.is_empty() {
        return Ok(Some(r.objects.document_entries()));
    }
    let Some(resolved) = &s.expect.xds.resolved else {
        return Ok(None);
    };
    // Every reference must name an entry the registry resolves (ITI TF-2 3.18.4.1.2.3.7.5).
    let mut unresolved = Vec::new();
    let mut entries = Vec::new();
    for id in r.objects.object_refs.iter().filter_map(|o| o.id.as_deref()) {
        match resolved.iter().find(|d| {
            d.entry_uuid
                .as_deref()
                .is_some_and(|u| identity::same_uuid(u, id))
        }) {
            Some(d) => entries.push(d.clone()),
            None => unresolved.push(format!(
                "ObjectRef {id} resolves to no DocumentEntry (GetDocuments by entryUUID{})",
                s.expect
                    .xds
                    .resolution_refusal
                    .as_deref()
                    .map(|r| format!(" answered {r}"))
                    .unwrap_or_default()
            )),
        }
    }
    if unresolved.is_empty() {
        Ok(Some(entries))
    } else {
        Err(unresolved)
    }
}

/// XDSI-02: a stored query returns exactly the matching DocumentEntries, in the form asked.
pub(super) fn xdsi_02(s: &Subject<'_>) -> Verdict {
    let Some(want) = &s.expect.xds.matches else {
        return Verdict::na("the scenario does not know the matching documents");
    };
    let expected = format!("the {} matching DocumentEntries, and only them", want.len());
    let owes = |v: Verdict| {
        if want.is_empty() {
            v
        } else {
            owed(v, expected.clone())
        }
    };
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return owes(v),
    };
    let Message::AdhocQueryResponse(r) = m else {
        return owes(Verdict::na("not a stored query response"));
    };
    let tolerated = &s.expect.xds.tolerated;
    let leaf_asked = harness_query(s)
        .and_then(|q| q.return_type)
        .is_some_and(|t| t == "LeafClass");
    let refs_only = !r.objects.object_refs.is_empty() && r.objects.extrinsic_objects.is_empty();
    if refs_only && leaf_asked {
        // ITI TF-2 3.18.4.1.2.1: LeafClass returns the full objects; references name nothing
        // the consumer can check or use.
        return Verdict::fail(
            format!("{expected}, as full ExtrinsicObjects (returnType LeafClass)"),
            format!("{} ObjectRef(s)", r.objects.object_refs.len()),
        );
    }
    let entries = match answered_entries(s, &r) {
        Ok(Some(entries)) => entries,
        Ok(None) => {
            // References not resolved: their count is all that can be told.
            let n = r.objects.object_refs.len();
            return if n >= want.len() && n <= want.len() + tolerated.len() {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("{} ObjectRef(s), one per matching document", want.len()),
                    format!("{n} ObjectRef(s)"),
                )
            };
        }
        Err(unresolved) => return Verdict::fail(expected, unresolved.join("; ")),
    };
    let got: BTreeSet<String> = entries.into_iter().filter_map(|d| d.unique_id).collect();
    let missing: Vec<&str> = want.difference(&got).map(String::as_str).collect();
    let extra: Vec<&str> = got
        .difference(want)
        .filter(|u| !tolerated.contains(*u))
        .map(String::as_str)
        .collect();
    if missing.is_empty() && extra.is_empty() {
        Verdict::Pass
    } else {
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!("not matching {}", extra.join(", ")));
        }
        Verdict::fail(expected, parts.join("; "))
    }
}

/// XDSI-12: every DocumentEntry a stored query returns matches each parameter the query sent.
pub(super) fn xdsi_12(s: &Subject<'_>) -> Verdict {
    // A Responding Gateway routes ITI-38 to its registry with every parameter (ITI TF-2
    // 3.38.4.1.3): its entries match the query as a registry's do.
    if s.exchange.direction != Direction::Outbound
        || !matches!(
            s.exchange.transaction,
            Transaction::Iti18 | Transaction::Iti38
        )
    {
        return Verdict::na("not a registry's ITI-18 (or gateway's ITI-38) answer to the harness");
    }
    let Some(q) = harness_query(s) else {
        return Verdict::na("the harness's query is not in the exchange");
    };
    if !identity::judges_entries(&q) {
        return Verdict::na("the query returns no DocumentEntries to match");
    }
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::AdhocQueryResponse(r) = m else {
        return Verdict::na("not a stored query response");
    };
    let expected =
        "entries that match every parameter of the query (patient, status, codes, times, ids)";
    let entries = match answered_entries(s, &r) {
        Ok(Some(entries)) => entries,
        Ok(None) => return Verdict::na("ObjectRefs that were not resolved to entries"),
        Err(unresolved) => return Verdict::fail(expected, unresolved.join("; ")),
    };
    let mut bad: Vec<String> = entries
        .iter()
        .flat_map(|d| entry_mismatches(&q, d))
        .collect();
    bad.truncate(20);
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, bad.join("; "))
    }
}

/// XDSI-14: the registry returns the DocumentEntry the harness registered, attribute for
/// attribute.
pub(super) fn xdsi_14(s: &Subject<'_>) -> Verdict {
    let Some(registered) = &s.expect.xds.registered else {
        return Verdict::na("the harness registered nothing in this scenario");
    };
    let expected = "the metadata that was registered";
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return owed(v, expected),
    };
    let Message::AdhocQueryResponse(r) = m else {
        return owed(Verdict::na("not a stored query response"), expected);
    };
    let Some(returned) = r
        .objects
        .document_entries()
        .into_iter()
        .find(|d| d.unique_id.is_some() && d.unique_id == registered.unique_id)
    else {
        return Verdict::na("the registered entry is not in the answer (XDSI-02 judges that)");
    };
    let diff = metadata_differences(registered, &returned);
    if diff.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, diff.join("; "))
    }
}
