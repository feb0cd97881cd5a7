//! STOW-RS (RAD-108) checks: the Store Instances Response Module, its reasons, the study of the
//! URL and the identity of what was stored (PS3.18 §10.5).

use super::*;

pub(super) fn stow_response(s: &Subject<'_>) -> Result<serde_json::Value, Verdict> {
    let v = match json_body(s.exchange) {
        Ok(v) => v,
        Err(e) => {
            return Err(if s.exchange.status().map(|c| c >= 400).unwrap_or(false) {
                Verdict::na(format!(
                    "error status without a Store Instances Response: {e}"
                ))
            } else {
                Verdict::fail("a Store Instances Response in DICOM JSON", e.to_string())
            })
        }
    };
    // PS3.18 §10.5.3.2: the response payload is one dataset; tolerate it wrapped in a one-item array.
    match v {
        serde_json::Value::Array(mut a) if a.len() == 1 => Ok(a.remove(0)),
        serde_json::Value::Object(_) => Ok(v),
        _ if s.exchange.status().is_some_and(|c| c >= 400) => Err(Verdict::na(
            "error status whose JSON body is not a Store Instances Response",
        )),
        _ => Err(Verdict::fail(
            "a Store Instances Response dataset",
            "another JSON value",
        )),
    }
}

/// A 4xx answer to a store without a Store Instances Response: nothing was stored, and the
/// payload that would list why is optional (PS3.18 Table 10.5.3-1: for 409, "Additional
/// information regarding the Instance errors may be found in the payload"; 400 and 415 name
/// none).
pub(super) fn refused_without_payload(s: &Subject<'_>, v: &Verdict) -> bool {
    matches!(v, Verdict::NotApplicable(_))
        && s.exchange.status().is_some_and(|c| (400..500).contains(&c))
}

pub(super) fn seq_items(ds: &serde_json::Value, tag: u32) -> Vec<serde_json::Value> {
    dicom_json::attr(ds, tag)
        .and_then(|a| a.get("Value"))
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default()
}

pub(super) fn dw10_stow_status(s: &Subject<'_>) -> Verdict {
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    if let Some(v) = unexpected_status(s, status) {
        return v;
    }
    if !matches!(status, 200 | 202 | 409) {
        return Verdict::Pass;
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        // A 409 that says nothing was stored and lists no instance agrees with itself.
        Err(v) if refused_without_payload(s, &v) => return Verdict::Pass,
        Err(v) => return v,
    };
    let failed = seq_items(&ds, FAILED_SOP_SEQUENCE);
    let referenced = seq_items(&ds, REFERENCED_SOP_SEQUENCE);
    let warned = referenced
        .iter()
        .any(|r| dicom_json::attr(r, WARNING_REASON).is_some());
    // Which instances of the request the response accounts for (PS3.18 §10.5.3: the Referenced
    // SOP Sequence lists every stored instance, the Failed SOP Sequence every one not stored).
    let uids = |items: &[serde_json::Value]| -> BTreeSet<String> {
        items
            .iter()
            .filter_map(|r| dicom_json::first_string(r, REFERENCED_SOP_INSTANCE_UID))
            .collect()
    };
    let (ref_uids, failed_uids) = (uids(&referenced), uids(&failed));
    let sent: Vec<&crate::checks::SentInstance> = s
        .expect
        .stow_sent
        .iter()
        .filter(|i| !i.sop_instance.is_empty())
        .collect();
    if status == 200 {
        let missing: Vec<&str> = sent
            .iter()
            .filter(|i| !ref_uids.contains(&i.sop_instance))
            .map(|i| i.sop_instance.as_str())
            .collect();
        if !missing.is_empty() {
            return Verdict::fail(
                format!(
                    "200 with all {} instances sent in the Referenced SOP Sequence (0008,1199)",
                    sent.len()
                ),
                format!(
                    "{} of them not referenced ({}{}), {} referenced item(s) in all",
                    missing.len(),
                    first_three(&missing),
                    if missing.len() > 3 { ", …" } else { "" },
                    referenced.len()
                ),
            );
        }
    }
    if status == 202 {
        if let Some(i) = sent
            .iter()
            .find(|i| !ref_uids.contains(&i.sop_instance) && !failed_uids.contains(&i.sop_instance))
        {
            return Verdict::fail(
                "202 listing every instance sent as referenced (stored) or failed",
                format!("SOP {} is in neither sequence", i.sop_instance),
            );
        }
    }
    match status {
        200 if !failed.is_empty() => Verdict::fail(
            "200 only when every instance was stored (no Failed SOP Sequence items)",
            format!("200 with {} failed item(s)", failed.len()),
        ),
        202 if referenced.is_empty() || (failed.is_empty() && !warned) => Verdict::fail(
            "202 with at least one stored and at least one failed or warned instance",
            format!(
                "202 with {} referenced, {} failed",
                referenced.len(),
                failed.len()
            ),
        ),
        409 if !referenced.is_empty() => Verdict::fail(
            "409 only when no instance was stored (no Referenced SOP Sequence items)",
            format!("409 with {} referenced item(s)", referenced.len()),
        ),
        _ => Verdict::Pass,
    }
}

/// Why a reason code cannot be the reason of its item, or `None` when it can.
///
/// PS3.18 §I.2.1 and §I.2.2 list the codes with their semantics and add: "Implementation specific
/// warning and error codes shall be defined in the conformance statement" and "Additional codes
/// may be used for the Failure Reason (0008,1197) to address the semantics of other issues". A
/// code outside Tables I.2-1 and I.2-2 is therefore not a breach. What no reading allows is a
/// code whose DICOM status class (PS3.7 Annex C) says the opposite of the sequence holding it: a
/// Failure Reason of Success (0000), of the Warning class (0001, 0107, 0116, Bxxx), Cancel (FE00)
/// or Pending (FF00, FF01); a Warning Reason of Success or of a Failure class of Table I.2-2
/// (A7xx Refused: Out of Resources, A9xx Error: Data Set does not match SOP Class, Cxxx Error:
/// Cannot understand).
pub(super) fn reason_contradiction(code: u64, failure: bool) -> Option<&'static str> {
    if code == 0x0000 {
        return Some("the Success status");
    }
    if failure {
        if matches!(code, 0x0001 | 0x0107 | 0x0116) || code >> 12 == 0xB {
            return Some("a Warning status (PS3.7 Annex C.4)");
        }
        if code == 0xFE00 {
            return Some("the Cancel status (PS3.7 Annex C.3)");
        }
        if matches!(code, 0xFF00 | 0xFF01) {
            return Some("a Pending status (PS3.7 Annex C.2)");
        }
    } else if matches!(code >> 8, 0xA7 | 0xA9) || code >> 12 == 0xC {
        return Some("a Failure status of Table I.2-2");
    }
    None
}

pub(super) fn reason_value(item: &serde_json::Value, tag: u32) -> Option<u64> {
    dicom_json::attr(item, tag)?
        .get("Value")?
        .as_array()?
        .first()?
        .as_u64()
}

pub(super) fn dw11_stow_reasons(s: &Subject<'_>) -> Verdict {
    if !matches!(s.exchange.status(), Some(200 | 202 | 409)) {
        return Verdict::na("no Store Instances Response expected");
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let failed = seq_items(&ds, FAILED_SOP_SEQUENCE);
    let referenced = seq_items(&ds, REFERENCED_SOP_SEQUENCE);
    if failed.is_empty()
        && referenced
            .iter()
            .all(|r| dicom_json::attr(r, WARNING_REASON).is_none())
    {
        return Verdict::na("no failed or warned item");
    }
    for (i, item) in failed.iter().enumerate() {
        match reason_value(item, FAILURE_REASON) {
            None => {
                return Verdict::fail(
                    "a Failure Reason (0008,1197) in every Failed SOP Sequence item, a US value written as a JSON Number (PS3.18 §F.2.3)",
                    if dicom_json::attr(item, FAILURE_REASON).is_some() {
                        format!("item {} has one without a numeric value", i + 1)
                    } else {
                        format!("item {} has none", i + 1)
                    },
                )
            }
            Some(code) => {
                if let Some(why) = reason_contradiction(code, true) {
                    return Verdict::fail(
                        "a Failure Reason that is a failure (Table I.2-2, or an implementation-specific failure code)",
                        format!("item {} has {code:04X}H, {why}", i + 1),
                    );
                }
            }
        }
    }
    for (i, item) in referenced.iter().enumerate() {
        if dicom_json::attr(item, WARNING_REASON).is_some() {
            match reason_value(item, WARNING_REASON) {
                None => {
                    return Verdict::fail(
                        "a Warning Reason (0008,1196) with a value (Table I.2-1)",
                        format!("referenced item {} has no readable value", i + 1),
                    )
                }
                Some(code) => {
                    if let Some(why) = reason_contradiction(code, false) {
                        return Verdict::fail(
                            "a Warning Reason that is a warning (Table I.2-1, or an implementation-specific warning code)",
                            format!("referenced item {} has {code:04X}H, {why}", i + 1),
                        );
                    }
                }
            }
        }
    }
    Verdict::Pass
}

pub(super) fn dw12_stow_study_mismatch(s: &Subject<'_>) -> Verdict {
    let Some(url_study) = &s.expect.stow_url_study else {
        return Verdict::na("not a STOW-RS to /studies/{study}");
    };
    let foreign: Vec<&crate::checks::SentInstance> = s
        .expect
        .stow_sent
        .iter()
        .filter(|i| !i.sop_instance.is_empty() && &i.study != url_study)
        .collect();
    if foreign.is_empty() {
        return Verdict::na("every instance sent belongs to the study of the URL");
    }
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    let own = s.expect.stow_sent.len() - foreign.len();
    if own == 0 && status != 409 {
        return Verdict::fail(
            "409: no instance belongs to the study of the URL",
            status.to_string(),
        );
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        // Refused without a payload: nothing was stored, the foreign instances included.
        Err(v) if refused_without_payload(s, &v) => return Verdict::Pass,
        Err(v) => return v,
    };
    let referenced: BTreeSet<String> = seq_items(&ds, REFERENCED_SOP_SEQUENCE)
        .iter()
        .filter_map(|r| dicom_json::first_string(r, REFERENCED_SOP_INSTANCE_UID))
        .collect();
    let failed: BTreeSet<String> = seq_items(&ds, FAILED_SOP_SEQUENCE)
        .iter()
        .filter_map(|r| dicom_json::first_string(r, REFERENCED_SOP_INSTANCE_UID))
        .collect();
    for f in &foreign {
        if referenced.contains(&f.sop_instance) {
            return Verdict::fail(
                format!("SOP {} (study {}) not stored", f.sop_instance, f.study),
                "listed in the Referenced SOP Sequence".to_string(),
            );
        }
        if !failed.contains(&f.sop_instance) {
            return Verdict::fail(
                format!("SOP {} listed in the Failed SOP Sequence", f.sop_instance),
                "not listed".to_string(),
            );
        }
    }
    Verdict::Pass
}

/// A URL without its query and fragment: a Retrieve URL may carry parameters of the server's
/// own (a token, a gateway route) after the resource path that names the study and instance.
pub(super) fn url_path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

pub(super) fn dw24_stow_identity(s: &Subject<'_>) -> Verdict {
    if s.expect.stow_sent.is_empty() {
        return Verdict::na("not a STOW-RS request");
    }
    if !matches!(s.exchange.status(), Some(200 | 202 | 409)) {
        return Verdict::na("no Store Instances Response expected");
    }
    let ds = match stow_response(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let sent = &s.expect.stow_sent;
    let by_sop = |uid: &str| {
        sent.iter()
            .find(|i| !i.sop_instance.is_empty() && i.sop_instance == uid)
    };
    let seqs = [
        ("Referenced SOP Sequence", REFERENCED_SOP_SEQUENCE),
        ("Failed SOP Sequence", FAILED_SOP_SEQUENCE),
    ];
    for (name, tag) in seqs {
        for (n, item) in seq_items(&ds, tag).iter().enumerate() {
            let Some(uid) = dicom_json::first_string(item, REFERENCED_SOP_INSTANCE_UID) else {
                if tag == REFERENCED_SOP_SEQUENCE {
                    return Verdict::fail(
                        "a Referenced SOP Instance UID (0008,1155) in every referenced item",
                        format!("{name} item {} has none", n + 1),
                    );
                }
                // A failed part that was not readable DICOM has no SOP Instance UID to give.
                continue;
            };
            let Some(inst) = by_sop(&uid) else {
                return Verdict::fail(
                    "items only for instances of the request",
                    format!("{name} item {} names SOP {uid}, which was not sent", n + 1),
                );
            };
            if let Some(class) = dicom_json::first_string(item, REFERENCED_SOP_CLASS_UID) {
                if !inst.sop_class.is_empty() && class != inst.sop_class {
                    return Verdict::fail(
                        format!("SOP {uid} with its SOP Class UID {}", inst.sop_class),
                        format!("{name} item {} has SOP Class UID {class}", n + 1),
                    );
                }
            }
            if tag == REFERENCED_SOP_SEQUENCE {
                if let Some(url) = dicom_json::first_string(item, RETRIEVE_URL) {
                    let study = format!("studies/{}/", inst.study);
                    let path = url_path(&url);
                    let names_it =
                        path.contains(&study) && path.trim_end_matches('/').ends_with(uid.as_str());
                    if !url.is_empty() && !names_it {
                        return Verdict::fail(
                            format!(
                                "a Retrieve URL of SOP {uid} in study {} (…/studies/{}/series/…/instances/{uid})",
                                inst.study, inst.study
                            ),
                            url,
                        );
                    }
                }
            }
        }
    }
    // The response's own Retrieve URL (type 2) names the study of the request.
    if let Some(url) = dicom_json::first_string(&ds, RETRIEVE_URL).filter(|u| !u.is_empty()) {
        let studies: BTreeSet<&str> = match &s.expect.stow_url_study {
            Some(u) => BTreeSet::from([u.as_str()]),
            None => sent
                .iter()
                .filter(|i| !i.study.is_empty())
                .map(|i| i.study.as_str())
                .collect(),
        };
        let names_one = studies.iter().any(|st| {
            url_path(&url)
                .trim_end_matches('/')
                .ends_with(&format!("studies/{st}"))
        });
        if !studies.is_empty() && !names_one {
            return Verdict::fail(
                format!(
                    "a Retrieve URL (0008,1190) of the study of the request (…/studies/{})",
                    studies
                        .iter()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" or …/studies/")
                ),
                url,
            );
        }
    }
    Verdict::Pass
}

pub(super) const FAILED_SOP_SEQUENCE: u32 = 0x0008_1198;

pub(super) const REFERENCED_SOP_SEQUENCE: u32 = 0x0008_1199;

pub(super) const FAILURE_REASON: u32 = 0x0008_1197;

pub(super) const WARNING_REASON: u32 = 0x0008_1196;

pub(super) const REFERENCED_SOP_INSTANCE_UID: u32 = 0x0008_1155;

pub(super) const REFERENCED_SOP_CLASS_UID: u32 = 0x0008_1150;

pub(super) const RETRIEVE_URL: u32 = 0x0008_1190;
