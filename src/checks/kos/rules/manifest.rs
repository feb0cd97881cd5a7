//! The manifest rules of both profiles: KOS-01..11, KOS-18, KOS-21, KOS-22.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::model::kos::*;

pub(super) fn kos_01(m: &Manifest, f: &mut Findings) {
    if m.sop_class_uid.as_deref() != Some(KOS_SOP_CLASS) {
        f.push(
            "KOS-01",
            format!(
                "SOP Class UID (0008,0016): expected {KOS_SOP_CLASS}, found {}",
                shown(&m.sop_class_uid)
            ),
        );
    }
    if m.media_storage_sop_class_uid != m.sop_class_uid {
        f.push(
            "KOS-01",
            format!(
                "Media Storage SOP Class UID (0002,0002) {} differs from SOP Class UID (0008,0016) {}",
                shown(&m.media_storage_sop_class_uid),
                shown(&m.sop_class_uid)
            ),
        );
    }
    if m.media_storage_sop_instance_uid != m.sop_instance_uid {
        f.push(
            "KOS-01",
            format!(
                "Media Storage SOP Instance UID (0002,0003) {} differs from SOP Instance UID (0008,0018) {}",
                shown(&m.media_storage_sop_instance_uid),
                shown(&m.sop_instance_uid)
            ),
        );
    }
}

pub(super) fn kos_02(m: &Manifest, f: &mut Findings) {
    if m.series.modality.as_deref() != Some("KO") {
        f.push(
            "KOS-02",
            format!(
                "Modality (0008,0060): expected KO, found {}",
                shown(&m.series.modality)
            ),
        );
    }
    for (name, v) in [
        ("Series Number (0020,0011)", &m.series.number),
        ("Instance Number (0020,0013)", &m.instance_number),
        ("Content Date (0008,0023)", &m.content_date),
        ("Content Time (0008,0033)", &m.content_time),
    ] {
        if v.is_none() {
            f.push("KOS-02", format!("{name} is absent or empty (type 1)"));
        }
    }
}

pub(super) fn kos_03(m: &Manifest, f: &mut Findings) {
    if m.root_value_type.as_deref() != Some("CONTAINER") {
        f.push(
            "KOS-03",
            format!(
                "root Value Type (0040,A040): expected CONTAINER, found {}",
                shown(&m.root_value_type)
            ),
        );
    }
    if m.concept_name_items != 1 {
        f.push(
            "KOS-03",
            format!(
                "root Concept Name Code Sequence (0040,A043): expected 1 item, found {}",
                m.concept_name_items
            ),
        );
    }
    if m.continuity_of_content.as_deref() != Some("SEPARATE") {
        f.push(
            "KOS-03",
            format!(
                "Continuity Of Content (0040,A050): expected SEPARATE, found {}",
                shown(&m.continuity_of_content)
            ),
        );
    }
    if let Some(t) = &m.template {
        if t.mapping_resource.as_deref() != Some(DCMR)
            || t.identifier.as_deref() != Some(TID_KEY_OBJECT_SELECTION)
        {
            f.push(
                "KOS-03",
                format!(
                    "Content Template Sequence (0040,A504): expected DCMR 2010, found {} {}",
                    shown(&t.mapping_resource),
                    shown(&t.identifier)
                ),
            );
        }
    }
}

pub(super) fn show_code(c: &Option<Code>) -> String {
    match c {
        Some(c) => format!("({}, {}, \"{}\")", c.value, c.scheme, c.meaning),
        None => "(absent)".to_string(),
    }
}

pub(super) fn kos_04(m: &Manifest, f: &mut Findings) {
    if !m
        .document_title
        .as_ref()
        .is_some_and(|t| t.is(MANIFEST_TITLE, DCM))
    {
        f.push(
            "KOS-04",
            format!(
                "document title: expected (113030, DCM, \"Manifest\"), found {}",
                show_code(&m.document_title)
            ),
        );
    }
}

pub(super) fn kos_05(m: &Manifest, f: &mut Findings) {
    if !m.evidence_present {
        f.push(
            "KOS-05",
            "Current Requested Procedure Evidence Sequence (0040,A375) is absent".to_string(),
        );
        return;
    }
    if m.evidence.is_empty() && m.evidence_defects.is_empty() {
        f.push(
            "KOS-05",
            "Current Requested Procedure Evidence Sequence (0040,A375) lists no instance"
                .to_string(),
        );
    }
    for d in &m.evidence_defects {
        f.push("KOS-05", d.clone());
    }
}

pub(super) fn kos_06(m: &Manifest, f: &mut Findings) {
    let evidence: BTreeMap<&str, &str> = m
        .evidence
        .iter()
        .filter(|r| !r.sop_instance.is_empty())
        .map(|r| (r.sop_instance.as_str(), r.sop_class.as_str()))
        .collect();
    let root: BTreeSet<&str> = m
        .content_references
        .iter()
        .map(|r| r.sop_instance.as_str())
        .collect();
    for inst in evidence.keys() {
        if !root.contains(inst) {
            f.push(
                "KOS-06",
                format!(
                    "instance {inst} is in the evidence sequence but no root-level IMAGE/COMPOSITE/WAVEFORM item references it"
                ),
            );
        }
    }
    let mut reported = BTreeSet::new();
    for (vt, r) in m.all_content_references() {
        match evidence.get(r.sop_instance.as_str()) {
            None => {
                if reported.insert(r.sop_instance.as_str()) {
                    f.push(
                        "KOS-06",
                        format!(
                            "{vt} item references {} which is not in the evidence sequence (0040,A375)",
                            if r.sop_instance.is_empty() { "(no instance UID)" } else { &r.sop_instance }
                        ),
                    );
                }
            }
            Some(class) if *class != r.sop_class && reported.insert(r.sop_instance.as_str()) => {
                f.push(
                    "KOS-06",
                    format!(
                        "{vt} item references {} as SOP class {}, the evidence sequence says {class}",
                        r.sop_instance, r.sop_class
                    ),
                );
            }
            Some(_) => {}
        }
    }
}

pub(super) fn kos_07(m: &Manifest, f: &mut Findings) {
    let studies = m.evidence_studies();
    if studies.len() > 1 && !m.identical_documents_present {
        f.push(
            "KOS-07",
            format!(
                "the evidence spans {} studies ({}) but Identical Documents Sequence (0040,A525) is absent",
                studies.len(),
                studies.join(", ")
            ),
        );
    }
}

/// One entry per evidence series: (series UID, first instance of it).
pub(super) fn evidence_series_attrs(m: &Manifest) -> Vec<(&str, &ReferencedInstance)> {
    let mut seen = BTreeSet::new();
    m.evidence
        .iter()
        .filter(|r| seen.insert((r.study_uid.as_str(), r.series_uid.as_str())))
        .map(|r| (r.series_uid.as_str(), r))
        .collect()
}

pub(super) fn kos_08(m: &Manifest, rules: &Rules, f: &mut Findings) {
    for (series, r) in evidence_series_attrs(m) {
        match (&r.retrieve_location_uid, &rules.repository_unique_id) {
            (None, _) => f.push(
                "KOS-08",
                format!("series {series}: Retrieve Location UID (0040,E011) is absent"),
            ),
            (Some(found), Some(expected)) if found != expected => f.push(
                "KOS-08",
                format!(
                    "series {series}: Retrieve Location UID (0040,E011) expected {expected} (the repositoryUniqueId), found {found}"
                ),
            ),
            _ => {}
        }
    }
}

pub(super) fn kos_09(m: &Manifest, f: &mut Findings) {
    for (series, r) in evidence_series_attrs(m) {
        if r.retrieve_ae_title.is_none() {
            f.push(
                "KOS-09",
                format!("series {series}: Retrieve AE Title (0008,0054) is absent, so a C-MOVE consumer cannot retrieve it"),
            );
        }
    }
}

pub(super) fn kos_10(m: &Manifest, f: &mut Findings) {
    for (series, r) in evidence_series_attrs(m) {
        let Some(url) = &r.retrieve_url else { continue };
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.contains(' ') => {
                if f.profile == Profile::Mado && lower.contains("/studies/") {
                    f.push(
                        "KOS-10",
                        format!(
                            "series {series}: Retrieve URL (0008,1190) {url} is a resource URL; MADO expects the WADO-RS base URI (without /studies/...)"
                        ),
                    );
                }
            }
            _ => f.push(
                "KOS-10",
                format!(
                    "series {series}: Retrieve URL (0008,1190) {url} is not an absolute http(s) URL"
                ),
            ),
        }
    }
}

pub(super) fn kos_11(m: &Manifest, f: &mut Findings) {
    fn any_by_reference(items: &[ContentItem]) -> bool {
        items
            .iter()
            .any(|i| i.by_reference || any_by_reference(&i.children))
    }
    if any_by_reference(&m.content) {
        f.push(
            "KOS-11",
            "a content item uses a by-reference relationship (Referenced Content Item Identifier (0040,DB73))".to_string(),
        );
    }
    for r in m
        .content_references
        .iter()
        .filter(|r| r.has_purpose_of_reference)
    {
        f.push(
            "KOS-11",
            format!(
                "{} item referencing {} carries a Purpose of Reference Code Sequence (0040,A170)",
                r.value_type, r.sop_instance
            ),
        );
    }
}

pub(super) fn kos_18(m: &Manifest, f: &mut Findings) {
    let Some(own) = &m.study.instance_uid else {
        return;
    };
    for s in m.evidence_studies() {
        if s != own {
            f.push(
                "KOS-18",
                format!(
                    "referenced study {s} differs from the manifest's Study Instance UID {own}"
                ),
            );
        }
    }
}

pub(super) fn kos_21(m: &Manifest, f: &mut Findings) {
    if m.patient.id.is_none() {
        f.push(
            "KOS-21",
            "Patient ID (0010,0020) is absent or empty".to_string(),
        );
    }
}

pub(super) fn kos_22(m: &Manifest, f: &mut Findings) {
    let mut uids: Vec<(String, &str)> = [
        (
            "Media Storage SOP Class UID",
            &m.media_storage_sop_class_uid,
        ),
        (
            "Media Storage SOP Instance UID",
            &m.media_storage_sop_instance_uid,
        ),
        ("SOP Class UID", &m.sop_class_uid),
        ("SOP Instance UID", &m.sop_instance_uid),
        ("Study Instance UID", &m.study.instance_uid),
        ("Series Instance UID", &m.series.instance_uid),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_deref().map(|v| (name.to_string(), v)))
    .collect();
    for r in &m.referenced_requests {
        if let Some(v) = &r.study_uid {
            uids.push(("Referenced Request > Study Instance UID".to_string(), v));
        }
    }
    for r in m.evidence.iter().chain(&m.identical_documents) {
        for (name, v) in [
            ("evidence Study Instance UID", r.study_uid.as_str()),
            ("evidence Series Instance UID", r.series_uid.as_str()),
            ("Referenced SOP Class UID", r.sop_class.as_str()),
            ("Referenced SOP Instance UID", r.sop_instance.as_str()),
        ] {
            if !v.is_empty() {
                uids.push((name.to_string(), v));
            }
        }
        if let Some(v) = &r.retrieve_location_uid {
            uids.push(("Retrieve Location UID".to_string(), v));
        }
    }
    for (_, r) in m.all_content_references() {
        for v in [r.sop_class.as_str(), r.sop_instance.as_str()] {
            if !v.is_empty() {
                uids.push(("content item Referenced SOP UID".to_string(), v));
            }
        }
    }
    let mut reported = BTreeSet::new();
    for (name, uid) in uids {
        if let Err(why) = check_uid(uid) {
            if reported.insert(uid) {
                f.push(
                    "KOS-22",
                    format!("{name} {}: {why}", crate::evidence::quote(uid)),
                );
            }
        }
    }
}
