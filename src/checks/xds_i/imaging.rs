//! The RAD-69 checks: the transfer syntaxes asked for (XDSI-09), exactly the instances asked for
//! (XDSI-10), and a consumer that asks for what the manifest references (XDSI-11).

use super::*;

/// XDSI-09: RAD-69 returns each image in one of the requested transfer syntaxes.
pub(super) fn xdsi_09(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    if x.transfer_syntaxes.is_empty() {
        return Verdict::na("no transfer syntax list was sent");
    }
    let (msg, r) = match retrieve_response(s) {
        Ok(v) => v,
        Err(v) => return v,
    };
    let mut bad = Vec::new();
    for d in &r.documents {
        let Some(part) = d.document.as_ref().and_then(|c| document_part(&msg, c)) else {
            continue;
        };
        let ts = part
            .dicom
            .as_ref()
            .and_then(|h| h.transfer_syntax.as_deref())
            .map(str::to_string);
        match ts {
            Some(ts) if x.transfer_syntaxes.contains(&ts) => {}
            other => bad.push(format!(
                "{}: {}",
                d.document_unique_id.as_deref().unwrap_or(""),
                other.unwrap_or_else(|| "no transfer syntax (not DICOM PS3.10)".into())
            )),
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("one of {}", x.transfer_syntaxes.join(", ")),
            bad.join("; "),
        )
    }
}

/// XDSI-10: RAD-69 returns exactly the requested instances the source holds, each the object
/// asked for under the study and series it was asked under.
pub(super) fn xdsi_10(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    let Some(want) = &x.returnable else {
        return Verdict::na("the scenario does not know which instances the source holds");
    };
    let (msg, r) = match retrieve_response(s) {
        Ok(v) => v,
        Err(v) if want.is_empty() => return v,
        Err(v) => {
            return owed(
                v,
                format!("the {} requested instances the source holds", want.len()),
            )
        }
    };
    let mut got = BTreeSet::new();
    let mut bad = Vec::new();
    for d in &r.documents {
        let uid = d.document_unique_id.clone().unwrap_or_default();
        let head = d
            .document
            .as_ref()
            .and_then(|c| document_part(&msg, c))
            .and_then(|p| p.dicom.clone());
        match (&head, x.requested.get(&uid)) {
            (_, None) => bad.push(format!("{uid} was not asked for")),
            (None, _) => bad.push(format!("{uid}: the document is not DICOM PS3.10")),
            (Some(h), Some((study, series))) => {
                if h.sop_instance.as_deref() != Some(uid.as_str()) {
                    bad.push(format!(
                        "{uid}: the object's SOP Instance UID is {}",
                        h.sop_instance.as_deref().unwrap_or("(none)")
                    ));
                }
                if h.study_instance_uid.as_deref().is_some_and(|u| u != study)
                    || h.series_instance_uid
                        .as_deref()
                        .is_some_and(|u| u != series)
                {
                    bad.push(format!(
                        "{uid}: object of study {} series {}, asked under study {study} series {series}",
                        h.study_instance_uid.as_deref().unwrap_or("?"),
                        h.series_instance_uid.as_deref().unwrap_or("?")
                    ));
                }
            }
        }
        got.insert(uid);
    }
    let missing: Vec<&String> = want.difference(&got).collect();
    if !missing.is_empty() {
        bad.push(format!(
            "not returned: {}",
            missing
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("the {} requested instances the source holds", want.len()),
            bad.join("; "),
        )
    }
}

/// XDSI-11: an Imaging Document Consumer asks RAD-69 only for instances the manifest references,
/// under their study and series, at the manifest's Retrieve Location UID (RAD69-001).
pub(super) fn xdsi_11(s: &Subject<'_>) -> Verdict {
    let x = &s.expect.xds;
    if s.exchange.direction != Direction::Inbound || x.requested.is_empty() {
        return Verdict::na("not a consumer's RAD-69 request with a known manifest");
    }
    let m = match parsed(s) {
        Ok(m) => m,
        Err(v) => return v,
    };
    let Message::RetrieveImagingDocumentSetRequest(r) = m else {
        return Verdict::na("not a RAD-69 request");
    };
    let mut bad = Vec::new();
    for st in &r.studies {
        let study = st.study_instance_uid.as_deref().unwrap_or("");
        for se in &st.series {
            let series = se.series_instance_uid.as_deref().unwrap_or("");
            for d in &se.documents {
                let uid = d.document_unique_id.as_deref().unwrap_or("");
                match x.requested.get(uid) {
                    None => bad.push(format!("{uid} is not referenced by the manifest")),
                    Some((s2, se2)) if s2 != study || se2 != series => bad.push(format!(
                        "{uid} asked under study {study} series {series}; the manifest has it under {s2} / {se2}"
                    )),
                    Some(_) => {}
                }
                if let Some(loc) = &x.retrieve_location {
                    if d.repository_unique_id.as_deref() != Some(loc.as_str()) {
                        bad.push(format!(
                            "{uid}: RepositoryUniqueId {}, the manifest's Retrieve Location UID is {loc}",
                            d.repository_unique_id.as_deref().unwrap_or("(none)")
                        ));
                    }
                }
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "the manifest's references and Retrieve Location UID",
            bad.join("; "),
        )
    }
}
