//! The imaging rules on one DocumentReference: DICOM KOS envelope (MHD-16) and MADO search
//! metadata (MHD-17), plus the accessors MHD-18 matches imaging search parameters with.

use serde_json::Value;

use super::json::*;
use super::KOS_SOP_CLASS;
use crate::model::fhir::{DCMUID_SYSTEM, DCM_SYSTEM, DICOM_UID_SYSTEM};
use crate::model::mhd_bundle::EXT_MODALITY;

pub(super) fn is_kos(dr: &Value) -> bool {
    arr(dr, "content").iter().any(|c| {
        c.get("format")
            .is_some_and(|f| str_at(f, "code") == Some(KOS_SOP_CLASS))
            || c.get("attachment")
                .and_then(|a| str_at(a, "contentType"))
                .is_some_and(|t| media_type(t) == "application/dicom")
    })
}

pub(super) fn kos_problems(dr: &Value) -> Vec<String> {
    let mut p = Vec::new();
    for c in arr(dr, "content") {
        let ct = c.get("attachment").and_then(|a| str_at(a, "contentType"));
        if media_type(ct.unwrap_or("")) != "application/dicom" {
            p.push(format!(
                "contentType {} is not application/dicom",
                shown(ct)
            ));
        }
        let f = c.get("format");
        let ok = f.is_some_and(|f| {
            str_at(f, "system") == Some(DCMUID_SYSTEM) && str_at(f, "code") == Some(KOS_SOP_CLASS)
        });
        if !ok {
            p.push(format!("format is not {DCMUID_SYSTEM}#{KOS_SOP_CLASS}"));
        }
    }
    let m = dr
        .get("masterIdentifier")
        .and_then(|m| str_at(m, "value"))
        .unwrap_or("");
    let uid = m.strip_prefix("urn:oid:").unwrap_or("");
    if uid.is_empty() || !is_uid(uid) {
        p.push(format!(
            "masterIdentifier {} is not urn:oid:<KOS SOP Instance UID>",
            shown(Some(m))
        ));
    }
    p
}

pub(super) fn is_uid(s: &str) -> bool {
    s.len() <= 64
        && s.split('.').all(|c| {
            !c.is_empty()
                && c.chars().all(|ch| ch.is_ascii_digit())
                && (c == "0" || !c.starts_with('0'))
        })
}

pub(super) fn study_uids(dr: &Value) -> Vec<&str> {
    dr.get("context")
        .map(|c| arr(c, "related"))
        .unwrap_or(&[])
        .iter()
        .filter_map(|r| r.get("identifier"))
        .filter(|i| {
            str_at(i, "system") == Some(DICOM_UID_SYSTEM)
                || i.get("type")
                    .is_some_and(|t| has_coding(t, DCM_SYSTEM, "110180"))
        })
        .filter_map(|i| str_at(i, "value"))
        .collect()
}

pub(super) fn modality_codes(dr: &Value) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for x in arr(dr, "extension") {
        if str_at(x, "url") != Some(EXT_MODALITY) {
            continue;
        }
        if let Some(c) = x.get("valueCoding") {
            out.push((
                str_at(c, "system").unwrap_or(""),
                str_at(c, "code").unwrap_or(""),
            ));
        }
        if let Some(cc) = x.get("valueCodeableConcept") {
            out.extend(codings(cc));
        }
    }
    out
}

pub(super) fn mado_problems(dr: &Value, study_start: Option<&str>) -> Vec<String> {
    let mut p = Vec::new();
    let studies: Vec<&str> = dr
        .get("context")
        .map(|c| arr(c, "related"))
        .unwrap_or(&[])
        .iter()
        .filter_map(|r| r.get("identifier"))
        .filter(|i| {
            str_at(i, "system") == Some(DICOM_UID_SYSTEM)
                && i.get("type")
                    .is_some_and(|t| has_coding(t, DCM_SYSTEM, "110180"))
        })
        .filter_map(|i| str_at(i, "value"))
        .collect();
    if studies.len() != 1 {
        p.push(format!(
            "{} context.related study-instance-uid identifiers (system {DICOM_UID_SYSTEM}, type DCM#110180); exactly 1 is required",
            studies.len()
        ));
    }
    let exts = arr(dr, "extension")
        .iter()
        .filter(|x| str_at(x, "url") == Some(EXT_MODALITY))
        .count();
    if exts != 1 {
        p.push(format!(
            "{exts} modality extensions ({EXT_MODALITY}); exactly 1 is required"
        ));
    }
    let start = dr
        .get("context")
        .and_then(|c| c.get("period"))
        .and_then(|pd| str_at(pd, "start"));
    match (start, study_start) {
        (None, _) => p.push("context.period.start is absent".into()),
        (Some(s), Some(want)) if !s.starts_with(want) && !want.starts_with(s) => p.push(format!(
            "context.period.start {s} is not the study date/time {want}"
        )),
        _ => {}
    }
    p
}
