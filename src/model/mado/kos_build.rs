//! The MADO KOS builder: an XDS-I.b manifest from [`kos::build`] turned into a "Manifest with
//! Description" (MADO Rev 1.1 §6.X.2; TID 2010 row 11 and TID 1600 of DICOM CP-2595).

use std::collections::BTreeSet;
use std::io::Cursor;

use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};
use sha2::{Digest, Sha256};

use super::{CodeTable, MadoError, MadoOptions};
use crate::model::fixtures::{FixtureInstance, FixtureStudy};
use crate::model::kos::{
    self, code_item, sequence, str_element, HierarchicDesignator, ManifestSpec, OtherPatientId,
    Patient, ReferencedInstance, ReferencedRequest, Study, DCM, IMAGE_LIBRARY, IMAGE_LIBRARY_GROUP,
    MADO_TITLE_MEANING, MODALITY_CONCEPT, SERIES_INSTANCE_UID_CONCEPT, TARGET_REGION,
};

/// The CID IHE-MADO1 region (SCT code, meaning) of a fixture study, from its alias: chest studies
/// are the upper trunk, brain and head studies head and neck, abdomen studies the lower trunk,
/// anything else the entire body (MADO Rev 1.1 §6.X.6.4).
pub fn target_region(alias: &str) -> (&'static str, &'static str) {
    let a = alias.to_ascii_uppercase();
    if a.contains("CHEST") || a.contains("THORAX") {
        ("67734004", "Upper trunk")
    } else if a.contains("BRAIN") || a.contains("HEAD") {
        ("774007", "Head and neck")
    } else if a.contains("ABDOMEN") || a.contains("PELVIS") {
        ("63337009", "Lower trunk")
    } else {
        ("38266002", "Entire body")
    }
}

/// A UID derived from the study UID, so the same study always gives the same manifest.
fn derived_uid(root: Option<&str>, study: &str, purpose: &str) -> String {
    let digest = Sha256::digest(format!("{study}/{purpose}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    match root {
        Some(root) => format!(
            "{root}.{}",
            u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        ),
        None => crate::model::kos::seeded_uid(&format!("{study}/{purpose}")),
    }
}

fn issuer(oid: &str) -> HierarchicDesignator {
    HierarchicDesignator {
        local_namespace_entity_id: None,
        universal_entity_id: Some(oid.to_string()),
        universal_entity_id_type: Some("ISO".to_string()),
    }
}

/// Write the MADO KOS manifest of `study`: every instance but the study's own KOS, with title
/// "Manifest with Description", the R+ attributes of MADO §6.X.2.5–6.X.2.14 and a TID 1600 Image
/// Library with study-level modality and CID IHE-MADO1 target region codes, the series count and
/// one group per series (modality, Series Instance UID, Series Number, instance count, and per
/// instance its Instance Number and, for multi-frame instances, Number of Frames).
pub fn build_mado_kos(study: &FixtureStudy<'_>, opts: &MadoOptions) -> Result<Vec<u8>, MadoError> {
    let images: Vec<&FixtureInstance> =
        study.instances.iter().copied().filter(|i| !i.kos).collect();
    let Some(first) = images.first() else {
        return Err(MadoError::Spec(format!(
            "study {} has no instance to share",
            study.uid
        )));
    };
    let root = opts.uid_root.as_deref();
    let accession = first.accession.clone().unwrap_or_else(|| {
        let d = Sha256::digest(study.uid.as_bytes());
        format!(
            "MADO{:08}",
            u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 100_000_000
        )
    });
    let spec = ManifestSpec {
        sop_instance_uid: derived_uid(root, study.uid, "mado-kos"),
        series_instance_uid: derived_uid(root, study.uid, "mado-kos-series"),
        series_number: 999,
        instance_number: 1,
        content_date: opts.content_date.clone(),
        content_time: opts.content_time.clone(),
        patient: Patient {
            id: Some(first.patient_id.clone()),
            issuer: Some(opts.issuer_of_patient_id.clone()),
            issuer_qualifiers: vec![issuer(&opts.issuer_of_patient_id)],
            name: first.patient_name.clone(),
            other_ids: vec![OtherPatientId {
                id: Some(first.patient_id.clone()),
                issuer: Some(opts.issuer_of_patient_id.clone()),
            }],
            ..Patient::default()
        },
        study: Study {
            instance_uid: Some(study.uid.to_string()),
            id: None,
            accession_number: Some(accession.clone()),
            accession_issuers: vec![issuer(&opts.accession_issuer)],
            date: first.study_date.clone(),
            time: Some(opts.study_time.clone()),
            description: Some(study.alias.to_string()).filter(|a| !a.is_empty()),
            referring_physician: None,
        },
        manufacturer: Some(opts.manufacturer.clone()),
        institution_name: Some(opts.institution_name.clone()),
        timezone_offset_from_utc: Some(opts.timezone_offset.clone()),
        key_object_description: None,
        referenced_requests: vec![ReferencedRequest {
            study_uid: Some(study.uid.to_string()),
            accession_number: Some(accession.clone()),
            accession_issuers: vec![issuer(&opts.accession_issuer)],
            placer_order_number: Some(format!("PO-{accession}")),
            order_placer_identifiers: vec![issuer(&opts.accession_issuer)],
        }],
        instances: ordered(&images)
            .into_iter()
            .map(|i| ReferencedInstance {
                study_uid: i.study_uid.clone(),
                series_uid: i.series_uid.clone(),
                sop_class: i.sop_class.clone(),
                sop_instance: i.sop_uid.clone(),
                retrieve_ae_title: None,
                retrieve_location_uid: Some(opts.retrieve_location_uid.clone()),
                retrieve_url: opts.retrieve_url.clone(),
            })
            .collect(),
    };
    let plain = kos::build(&spec)?;
    let body = plain
        .get(128..)
        .ok_or_else(|| MadoError::Write("built manifest has no preamble".to_string()))?;
    let mut file = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(Cursor::new(body))
        .map_err(|e| MadoError::Write(e.to_string()))?;
    let (title, scheme) = opts.code_table.code(1);
    file.put(sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code_item(&title, scheme, MADO_TITLE_MEANING)],
    ));
    let mut content: Vec<InMemDicomObject> = file
        .get(tags::CONTENT_SEQUENCE)
        .and_then(|e| e.items())
        .map(|i| i.to_vec())
        .unwrap_or_default();
    content.push(image_library(study.alias, &images, opts.code_table));
    file.put(sequence(tags::CONTENT_SEQUENCE, content));
    let mut out = Vec::new();
    file.write_all(&mut out)
        .map_err(|e| MadoError::Write(e.to_string()))?;
    Ok(out)
}

/// Instances by Series Number, then Instance Number.
fn ordered<'a>(images: &[&'a FixtureInstance]) -> Vec<&'a FixtureInstance> {
    let mut v = images.to_vec();
    v.sort_by(|a, b| {
        (
            a.series_number.unwrap_or(0),
            &a.series_uid,
            a.instance_number.unwrap_or(0),
        )
            .cmp(&(
                b.series_number.unwrap_or(0),
                &b.series_uid,
                b.instance_number.unwrap_or(0),
            ))
    });
    v
}

fn image_library(alias: &str, images: &[&FixtureInstance], table: CodeTable) -> InMemDicomObject {
    let ordered = ordered(images);
    let modalities: BTreeSet<&str> = ordered.iter().map(|i| i.modality.as_str()).collect();
    let mut series: Vec<(&str, Vec<&FixtureInstance>)> = Vec::new();
    for i in ordered {
        match series.iter_mut().find(|(s, _)| *s == i.series_uid) {
            Some((_, list)) => list.push(i),
            None => series.push((i.series_uid.as_str(), vec![i])),
        }
    }
    let (region, meaning) = target_region(alias);
    let mut children: Vec<InMemDicomObject> = modalities.iter().map(|m| modality(m)).collect();
    children.push(code_ci(
        "HAS ACQ CONTEXT",
        code_item(TARGET_REGION, DCM, "Target Region"),
        code_item(region, "SCT", meaning),
    ));
    let (code, scheme) = table.code(9);
    children.push(num_ci(
        code_item(&code, scheme, "Number of Study Related Series"),
        series.len(),
        "{series}",
        "series",
    ));
    for (uid, instances) in &series {
        children.push(library_group(uid, instances, table));
    }
    container(
        "CONTAINS",
        code_item(IMAGE_LIBRARY, DCM, "Image Library"),
        children,
    )
}

fn library_group(uid: &str, instances: &[&FixtureInstance], table: CodeTable) -> InMemDicomObject {
    let mut children = Vec::new();
    if let Some(first) = instances.first() {
        children.push(modality(&first.modality));
        if let Some(n) = first.series_number {
            children.push(text_ci(
                code_item("113607", DCM, "Series Number"),
                &n.to_string(),
            ));
        }
    }
    children.push(ci(
        "HAS ACQ CONTEXT",
        "UIDREF",
        code_item(SERIES_INSTANCE_UID_CONCEPT, DCM, "Series Instance UID"),
        [str_element(tags::UID, VR::UI, uid)],
    ));
    let (code, scheme) = table.code(7);
    children.push(num_ci(
        code_item(&code, scheme, "Number of Series Related Instances"),
        instances.len(),
        "{instances}",
        "instances",
    ));
    for i in instances {
        let mut entry = Vec::new();
        if let Some(n) = i.instance_number {
            entry.push(text_ci(
                code_item("113609", DCM, "Instance Number"),
                &n.to_string(),
            ));
        }
        let multiframe = kos::MULTIFRAME_SOP_CLASSES.contains(&i.sop_class.as_str());
        if let Some(frames) = i
            .number_of_frames
            .or(multiframe.then_some(1))
            .filter(|f| *f > 1 || multiframe)
        {
            entry.push(num_ci(
                code_item("121140", DCM, "Number of Frames"),
                frames as usize,
                "{frames}",
                "frames",
            ));
        }
        let mut item = InMemDicomObject::new_empty();
        item.put(str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"));
        item.put(str_element(
            tags::VALUE_TYPE,
            VR::CS,
            kos::reference_value_type(&i.sop_class),
        ));
        item.put(sequence(
            tags::REFERENCED_SOP_SEQUENCE,
            vec![InMemDicomObject::from_element_iter([
                str_element(tags::REFERENCED_SOP_CLASS_UID, VR::UI, &i.sop_class),
                str_element(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, &i.sop_uid),
            ])],
        ));
        if !entry.is_empty() {
            item.put(sequence(tags::CONTENT_SEQUENCE, entry));
        }
        children.push(item);
    }
    container(
        "CONTAINS",
        code_item(IMAGE_LIBRARY_GROUP, DCM, "Image Library Group"),
        children,
    )
}

fn modality(value: &str) -> InMemDicomObject {
    code_ci(
        "HAS ACQ CONTEXT",
        code_item(MODALITY_CONCEPT, DCM, "Modality"),
        code_item(value, DCM, value),
    )
}

fn ci<const N: usize>(
    relationship: &str,
    value_type: &str,
    concept: InMemDicomObject,
    rest: [DataElement<InMemDicomObject>; N],
) -> InMemDicomObject {
    let mut item = InMemDicomObject::new_empty();
    item.put(str_element(tags::RELATIONSHIP_TYPE, VR::CS, relationship));
    item.put(str_element(tags::VALUE_TYPE, VR::CS, value_type));
    item.put(sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]));
    for e in rest {
        item.put(e);
    }
    item
}

fn code_ci(
    relationship: &str,
    concept: InMemDicomObject,
    value: InMemDicomObject,
) -> InMemDicomObject {
    ci(
        relationship,
        "CODE",
        concept,
        [sequence(tags::CONCEPT_CODE_SEQUENCE, vec![value])],
    )
}

fn text_ci(concept: InMemDicomObject, value: &str) -> InMemDicomObject {
    ci(
        "HAS ACQ CONTEXT",
        "TEXT",
        concept,
        [str_element(tags::TEXT_VALUE, VR::UT, value)],
    )
}

fn num_ci(concept: InMemDicomObject, n: usize, unit: &str, unit_meaning: &str) -> InMemDicomObject {
    let measured = InMemDicomObject::from_element_iter([
        sequence(
            tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
            vec![code_item(unit, "UCUM", unit_meaning)],
        ),
        str_element(tags::NUMERIC_VALUE, VR::DS, &n.to_string()),
    ]);
    ci(
        "HAS ACQ CONTEXT",
        "NUM",
        concept,
        [sequence(tags::MEASURED_VALUE_SEQUENCE, vec![measured])],
    )
}

fn container(
    relationship: &str,
    concept: InMemDicomObject,
    children: Vec<InMemDicomObject>,
) -> InMemDicomObject {
    ci(
        relationship,
        "CONTAINER",
        concept,
        [
            str_element(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE"),
            sequence(tags::CONTENT_SEQUENCE, children),
        ],
    )
}
