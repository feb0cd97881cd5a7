//! The manifest rules of MADO alone: KOS-12..17 (MADO Rev 1.1 §6.X.2).

use super::*;
use crate::model::kos::*;

pub(super) fn image_library(m: &Manifest) -> Option<&ContentItem> {
    m.content
        .iter()
        .find(|i| i.value_type.as_deref() == Some("CONTAINER") && i.concept_is(IMAGE_LIBRARY, DCM))
}

pub(super) fn kos_12(m: &Manifest, f: &mut Findings) {
    if !m.is_mado_title() {
        f.push(
            "KOS-12",
            format!(
                "document title: expected (MADOTEMP001, 99IHE, \"Manifest with Description\") or its CP-2595 DCM code, found {}",
                show_code(&m.document_title)
            ),
        );
    }
    if image_library(m).is_none() {
        f.push(
            "KOS-12",
            "no (111028, DCM, \"Image Library\") CONTAINER (TID 1600) at the root".to_string(),
        );
    }
    if let Some(own) = &m.study.instance_uid {
        for s in m.evidence_studies() {
            if s != own {
                f.push(
                    "KOS-12",
                    format!("evidence study {s} is not the manifest's study {own}"),
                );
            }
        }
    }
}

pub(super) fn kos_13(m: &Manifest, f: &mut Findings) {
    let mut missing = |what: &str| f.push("KOS-13", format!("{what} is required (R+)"));
    let p = &m.patient;
    match p.issuer_qualifiers.as_slice() {
        [q] => {
            if q.universal_entity_id.is_none() || q.universal_entity_id_type.is_none() {
                missing("Issuer of Patient ID Qualifiers Sequence (0010,0024) > Universal Entity ID (0040,0032) and Type (0040,0033)");
            }
        }
        _ => missing("Issuer of Patient ID Qualifiers Sequence (0010,0024) with a single item"),
    }
    if p.other_ids.is_empty() {
        missing("Other Patient IDs Sequence (0010,1002)");
    } else if p.id.is_some() && !p.other_ids.iter().any(|o| o.id == p.id) {
        missing("Other Patient IDs Sequence (0010,1002) item with the primary Patient ID");
    }
    if m.study.date.is_none() {
        missing("Study Date (0008,0020)");
    }
    if m.study.time.is_none() {
        missing("Study Time (0008,0030)");
    }
    if m.equipment.manufacturer.is_none() {
        missing("Manufacturer (0008,0070)");
    }
    if m.equipment.institution_name.is_none() {
        missing("Institution Name (0008,0080)");
    }
    if m.timezone_offset_from_utc.is_none() {
        missing("Timezone Offset From UTC (0008,0201)");
    }
    if m.referenced_requests.is_empty() {
        missing("Referenced Request Sequence (0040,A370)");
    }
    for (n, r) in m.referenced_requests.iter().enumerate() {
        let n = n + 1;
        if r.study_uid.is_none() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Study Instance UID"
            ));
        }
        if r.accession_number.is_none() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Accession Number"
            ));
        }
        if r.accession_issuers.is_empty() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Issuer of Accession Number Sequence"
            ));
        }
        if r.placer_order_number.is_none() {
            missing(&format!(
                "Referenced Request Sequence item {n} > Placer Order Number / Imaging Service Request (0040,2016)"
            ));
        }
    }
    // MADO defines two addressing modes, "Retrieve Location UID based" and "Retrieve URL
    // based" (X.1.1.2, X.4.1.2); a deployment picks one, so either attribute satisfies R+.
    for (series, r) in evidence_series_attrs(m) {
        if r.retrieve_location_uid.is_none() && r.retrieve_url.is_none() {
            missing(&format!(
                "series {series}: Retrieve Location UID (0040,E011) or Retrieve URL (0008,1190)"
            ));
        }
    }
}

pub(super) fn kos_14(m: &Manifest, f: &mut Findings) {
    match (&m.study.accession_number, m.study.accession_issuers.is_empty()) {
        (Some(acc), true) => f.push(
            "KOS-14",
            format!("Accession Number {acc} has no Issuer of Accession Number Sequence (0008,0051)"),
        ),
        (None, false) => f.push(
            "KOS-14",
            "Issuer of Accession Number Sequence (0008,0051) is present but Accession Number is empty".to_string(),
        ),
        _ => {}
    }
}

pub(super) fn kos_15(m: &Manifest, f: &mut Findings) {
    let Some(library) = image_library(m) else {
        return; // KOS-12 reports the missing library
    };
    let has = |items: &[ContentItem], concept: &str| {
        items
            .iter()
            .any(|i| i.concept_is(concept, DCM) && i.code.is_some())
    };
    if !has(&library.children, MODALITY_CONCEPT) {
        f.push(
            "KOS-15",
            "Image Library has no (121139, DCM, \"Modality\") code".to_string(),
        );
    }
    if !has(&library.children, TARGET_REGION) {
        f.push(
            "KOS-15",
            "Image Library has no (123014, DCM, \"Target Region\") code".to_string(),
        );
    }
    let series = m.evidence_series();
    match library
        .children
        .iter()
        .find(|i| {
            i.concept_is(NUMBER_OF_STUDY_RELATED_SERIES, IHE_TEMP_SCHEME)
                || i.concept_is(CP2595_NUMBER_OF_STUDY_RELATED_SERIES, DCM)
        })
        .and_then(|i| i.value.as_deref())
    {
        Some(n) if count_value(n) == Some(series.len()) => {}
        found => f.push(
            "KOS-15",
            format!(
                "Number of Study Related Series: expected {}, found {}",
                series.len(),
                found.unwrap_or("(absent)")
            ),
        ),
    }
    let groups: Vec<&ContentItem> = library
        .children
        .iter()
        .filter(|i| i.concept_is(IMAGE_LIBRARY_GROUP, DCM))
        .collect();
    for s in &series {
        let group = groups.iter().find(|g| {
            g.children.iter().any(|c| {
                c.concept_is(SERIES_INSTANCE_UID_CONCEPT, DCM) && c.value.as_deref() == Some(*s)
            })
        });
        let Some(group) = group else {
            f.push("KOS-15", format!("no Image Library Group for series {s}"));
            continue;
        };
        if !has(&group.children, MODALITY_CONCEPT) {
            f.push(
                "KOS-15",
                format!("Image Library Group of series {s} has no Modality code"),
            );
        }
        let count = m.evidence.iter().filter(|r| r.series_uid == *s).count();
        match group
            .children
            .iter()
            .find(|i| {
                i.concept_is(NUMBER_OF_SERIES_RELATED_INSTANCES, IHE_TEMP_SCHEME)
                    || i.concept_is(CP2595_NUMBER_OF_SERIES_RELATED_INSTANCES, DCM)
            })
            .and_then(|i| i.value.as_deref())
        {
            Some(n) if count_value(n) == Some(count) => {}
            found => f.push(
                "KOS-15",
                format!(
                    "series {s}: Number of Series Related Instances expected {count}, found {}",
                    found.unwrap_or("(absent)")
                ),
            ),
        }
    }
}

/// The count a MADO "Number of ..." item states. NUM items carry it as Numeric Value (`20`);
/// MADO Rev 1.1 Table 6.X.2.9-2 prints "Number of Series Related Instances" with value type TEXT
/// and UNITS, and creators that follow it literally write `(20, UCUM, "instances")`, so the
/// leading number of a TEXT value counts too.
pub(super) fn count_value(v: &str) -> Option<usize> {
    let v = v.trim().trim_start_matches('(').trim_start();
    let end = v
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(v.len());
    let n: f64 = v[..end].parse().ok()?;
    (n >= 0.0 && n.fract() == 0.0).then_some(n as usize)
}

pub(super) fn kos_16(m: &Manifest, f: &mut Findings) {
    let Some(library) = image_library(m) else {
        return;
    };
    let integer = |v: &Option<String>| {
        v.as_deref()
            .is_some_and(|v| v.trim().parse::<i64>().is_ok() || count_value(v).is_some())
    };
    for group in library
        .children
        .iter()
        .filter(|i| i.concept_is(IMAGE_LIBRARY_GROUP, DCM))
    {
        // Descriptors of an entry are its children (TID 1601) or, as some creators write them,
        // the items just before it.
        let all = group
            .children
            .iter()
            .chain(group.children.iter().flat_map(|c| c.children.iter()));
        for d in all {
            let frames = d.concept_is(NUMBER_OF_FRAMES, DCM);
            if (frames || d.concept_is(INSTANCE_NUMBER_CONCEPT, DCM)) && !integer(&d.value) {
                f.push(
                    "KOS-16",
                    format!(
                        "{} value {} is not an integer",
                        if frames {
                            "Number of Frames"
                        } else {
                            "Instance Number"
                        },
                        shown(&d.value)
                    ),
                );
            }
        }
        let mut frames_before = false;
        for item in &group.children {
            if item.references.is_empty() {
                frames_before |= item.concept_is(NUMBER_OF_FRAMES, DCM);
                continue;
            }
            let has_frames = frames_before
                || item
                    .children
                    .iter()
                    .any(|d| d.concept_is(NUMBER_OF_FRAMES, DCM));
            for r in &item.references {
                if MULTIFRAME_SOP_CLASSES.contains(&r.sop_class.as_str()) && !has_frames {
                    f.push(
                        "KOS-16",
                        format!(
                            "Image Library entry of multi-frame instance {} has no Number of Frames",
                            r.sop_instance
                        ),
                    );
                }
            }
            frames_before = false;
        }
    }
}

pub(super) fn kos_17(m: &Manifest, f: &mut Findings) {
    let Some(library) = image_library(m) else {
        return;
    };
    for i in library
        .children
        .iter()
        .filter(|i| i.concept_is(TARGET_REGION, DCM))
    {
        if let Some(c) = &i.code {
            if c.scheme != "SCT" || !MADO_HIGH_LEVEL_REGIONS.contains(&c.value.as_str()) {
                f.push(
                    "KOS-17",
                    format!(
                        "Target Region ({}, {}, \"{}\") is not in CID IHE-MADO1",
                        c.value, c.scheme, c.meaning
                    ),
                );
            }
        }
    }
}
