//! Reading a KOS manifest from the bytes of a PS3.10 file ([`parse`]) into a [`Manifest`], without
//! judging it.

use super::*;

/// Read a KOS from the bytes of a DICOM PS3.10 file (with or without the 128-byte preamble).
///
/// Only decoding failures are errors; a document that is a readable DICOM file but a poor
/// manifest parses, and `checks::kos::rules::validate` says what is wrong with it.
pub fn parse(bytes: &[u8]) -> Result<Manifest, KosError> {
    let body = match bytes.get(128..132) {
        Some(b"DICM") => &bytes[128..],
        _ => bytes,
    };
    if !body.starts_with(b"DICM") {
        return Err(KosError::Read(
            "no DICM prefix at offset 0 or 128".to_string(),
        ));
    }
    crate::model::dicom_guard::check_part10_lengths(body)
        .map_err(|e| KosError::Read(e.to_string()))?;
    // The bytes come from a system under test: a decoder panic must become a clean error, not
    // abort the scenario.
    let read = catch_unwind(AssertUnwindSafe(|| {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .from_reader(Cursor::new(body))
    }));
    let file = match read {
        Ok(Ok(file)) => file,
        Ok(Err(e)) => return Err(KosError::Read(e.to_string())),
        Err(_) => return Err(KosError::Read("the DICOM decoder panicked".to_string())),
    };
    let meta = file.meta();
    let mut m = Manifest {
        transfer_syntax_uid: trim_uid(meta.transfer_syntax()).to_string(),
        media_storage_sop_class_uid: non_empty(trim_uid(&meta.media_storage_sop_class_uid)),
        media_storage_sop_instance_uid: non_empty(trim_uid(&meta.media_storage_sop_instance_uid)),
        ..Manifest::default()
    };
    let obj: &InMemDicomObject = &file;
    read_dataset(obj, &mut m);
    Ok(m)
}

fn read_dataset(obj: &InMemDicomObject, m: &mut Manifest) {
    m.sop_class_uid = text(obj, tags::SOP_CLASS_UID);
    m.sop_instance_uid = text(obj, tags::SOP_INSTANCE_UID);
    m.specific_character_set = text(obj, tags::SPECIFIC_CHARACTER_SET);
    m.timezone_offset_from_utc = text(obj, tags::TIMEZONE_OFFSET_FROM_UTC);
    m.patient = Patient {
        id: text(obj, tags::PATIENT_ID),
        issuer: text(obj, tags::ISSUER_OF_PATIENT_ID),
        issuer_qualifiers: designators(obj, tags::ISSUER_OF_PATIENT_ID_QUALIFIERS_SEQUENCE),
        name: text(obj, tags::PATIENT_NAME),
        birth_date: text(obj, tags::PATIENT_BIRTH_DATE),
        sex: text(obj, tags::PATIENT_SEX),
        other_ids: items(obj, tags::OTHER_PATIENT_I_DS_SEQUENCE)
            .iter()
            .map(|i| OtherPatientId {
                id: text(i, tags::PATIENT_ID),
                issuer: text(i, tags::ISSUER_OF_PATIENT_ID),
            })
            .collect(),
    };
    m.study = Study {
        instance_uid: text(obj, tags::STUDY_INSTANCE_UID),
        id: text(obj, tags::STUDY_ID),
        accession_number: text(obj, tags::ACCESSION_NUMBER),
        accession_issuers: designators(obj, tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE),
        date: text(obj, tags::STUDY_DATE),
        time: text(obj, tags::STUDY_TIME),
        description: text(obj, tags::STUDY_DESCRIPTION),
        referring_physician: text(obj, tags::REFERRING_PHYSICIAN_NAME),
    };
    m.series = Series {
        instance_uid: text(obj, tags::SERIES_INSTANCE_UID),
        number: text(obj, tags::SERIES_NUMBER),
        modality: text(obj, tags::MODALITY),
        description: text(obj, tags::SERIES_DESCRIPTION),
    };
    m.equipment = Equipment {
        manufacturer: text(obj, tags::MANUFACTURER),
        institution_name: text(obj, tags::INSTITUTION_NAME),
    };
    m.instance_number = text(obj, tags::INSTANCE_NUMBER);
    m.content_date = text(obj, tags::CONTENT_DATE);
    m.content_time = text(obj, tags::CONTENT_TIME);
    m.root_value_type = text(obj, tags::VALUE_TYPE);
    let names = items(obj, tags::CONCEPT_NAME_CODE_SEQUENCE);
    m.concept_name_items = names.len();
    m.document_title = names.first().map(code);
    m.continuity_of_content = text(obj, tags::CONTINUITY_OF_CONTENT);
    m.template = items(obj, tags::CONTENT_TEMPLATE_SEQUENCE)
        .first()
        .map(|t| TemplateId {
            mapping_resource: text(t, tags::MAPPING_RESOURCE),
            identifier: text(t, tags::TEMPLATE_IDENTIFIER),
        });

    m.evidence_present = obj
        .get(tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE)
        .is_some();
    m.evidence = hierarchical_references(
        items(obj, tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE),
        "(0040,A375)",
        &mut m.evidence_defects,
    );
    m.identical_documents_present = obj.get(tags::IDENTICAL_DOCUMENTS_SEQUENCE).is_some();
    let mut ignored = Vec::new();
    m.identical_documents = hierarchical_references(
        items(obj, tags::IDENTICAL_DOCUMENTS_SEQUENCE),
        "(0040,A525)",
        &mut ignored,
    );
    m.other_evidence = hierarchical_references(
        items(obj, tags::PERTINENT_OTHER_EVIDENCE_SEQUENCE),
        "(0040,A385)",
        &mut ignored,
    );
    m.referenced_requests = items(obj, tags::REFERENCED_REQUEST_SEQUENCE)
        .iter()
        .map(|r| ReferencedRequest {
            study_uid: text(r, tags::STUDY_INSTANCE_UID),
            accession_number: text(r, tags::ACCESSION_NUMBER),
            accession_issuers: designators(r, tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE),
            placer_order_number: text(r, tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST),
            order_placer_identifiers: designators(r, tags::ORDER_PLACER_IDENTIFIER_SEQUENCE),
        })
        .collect();

    m.content = content_items(items(obj, tags::CONTENT_SEQUENCE), 0);
    m.content_references = m
        .content
        .iter()
        .filter(|i| i.is_sop_reference())
        .flat_map(|i| {
            i.references.iter().map(|r| ContentReference {
                value_type: i.value_type.clone().unwrap_or_default(),
                sop_class: r.sop_class.clone(),
                sop_instance: r.sop_instance.clone(),
                has_purpose_of_reference: i.has_purpose_of_reference,
            })
        })
        .collect();
    m.key_object_description = m
        .content
        .iter()
        .find(|i| {
            i.value_type.as_deref() == Some("TEXT") && i.concept_is(KEY_OBJECT_DESCRIPTION, DCM)
        })
        .and_then(|i| i.value.clone());
}

/// Flatten a Hierarchical SOP Instance Reference Macro sequence, noting structural gaps.
fn hierarchical_references(
    studies: &[InMemDicomObject],
    seq: &str,
    defects: &mut Vec<String>,
) -> Vec<ReferencedInstance> {
    let mut out = Vec::new();
    for (si, study) in studies.iter().enumerate() {
        let at = format!("{seq} item {}", si + 1);
        let study_uid = text(study, tags::STUDY_INSTANCE_UID);
        if study_uid.is_none() {
            defects.push(format!("{at}: Study Instance UID (0020,000D) missing"));
        }
        let series_items = items(study, tags::REFERENCED_SERIES_SEQUENCE);
        if series_items.is_empty() {
            defects.push(format!(
                "{at}: Referenced Series Sequence (0008,1115) missing or empty"
            ));
        }
        for (ri, series) in series_items.iter().enumerate() {
            let at = format!("{at} > (0008,1115) item {}", ri + 1);
            let series_uid = text(series, tags::SERIES_INSTANCE_UID);
            if series_uid.is_none() {
                defects.push(format!("{at}: Series Instance UID (0020,000E) missing"));
            }
            let sops = items(series, tags::REFERENCED_SOP_SEQUENCE);
            if sops.is_empty() {
                defects.push(format!(
                    "{at}: Referenced SOP Sequence (0008,1199) missing or empty"
                ));
            }
            for (oi, sop) in sops.iter().enumerate() {
                let at = format!("{at} > (0008,1199) item {}", oi + 1);
                let sop_class = text(sop, tags::REFERENCED_SOP_CLASS_UID);
                let sop_instance = text(sop, tags::REFERENCED_SOP_INSTANCE_UID);
                if sop_class.is_none() {
                    defects.push(format!(
                        "{at}: Referenced SOP Class UID (0008,1150) missing"
                    ));
                }
                if sop_instance.is_none() {
                    defects.push(format!(
                        "{at}: Referenced SOP Instance UID (0008,1155) missing"
                    ));
                }
                out.push(ReferencedInstance {
                    study_uid: study_uid.clone().unwrap_or_default(),
                    series_uid: series_uid.clone().unwrap_or_default(),
                    sop_class: sop_class.unwrap_or_default(),
                    sop_instance: sop_instance.unwrap_or_default(),
                    retrieve_ae_title: text(series, tags::RETRIEVE_AE_TITLE),
                    retrieve_location_uid: text(series, tags::RETRIEVE_LOCATION_UID),
                    retrieve_url: text(series, tags::RETRIEVE_URL),
                });
            }
        }
    }
    out
}

fn content_items(seq: &[InMemDicomObject], depth: usize) -> Vec<ContentItem> {
    seq.iter()
        .map(|item| {
            let value_type = text(item, tags::VALUE_TYPE);
            let value = match value_type.as_deref() {
                Some("TEXT") => text(item, tags::TEXT_VALUE),
                Some("UIDREF") => text(item, tags::UID),
                Some("PNAME") => text(item, tags::PERSON_NAME),
                Some("DATE") => text(item, tags::DATE),
                Some("TIME") => text(item, tags::TIME),
                Some("DATETIME") => text(item, tags::DATE_TIME),
                Some("NUM") => items(item, tags::MEASURED_VALUE_SEQUENCE)
                    .first()
                    .and_then(|v| text(v, tags::NUMERIC_VALUE)),
                _ => None,
            };
            let children = if depth + 1 < MAX_CONTENT_DEPTH {
                content_items(items(item, tags::CONTENT_SEQUENCE), depth + 1)
            } else {
                Vec::new()
            };
            ContentItem {
                relationship_type: text(item, tags::RELATIONSHIP_TYPE),
                concept_name: items(item, tags::CONCEPT_NAME_CODE_SEQUENCE)
                    .first()
                    .map(code),
                code: items(item, tags::CONCEPT_CODE_SEQUENCE).first().map(code),
                references: items(item, tags::REFERENCED_SOP_SEQUENCE)
                    .iter()
                    .map(|r| SopReference {
                        sop_class: text(r, tags::REFERENCED_SOP_CLASS_UID).unwrap_or_default(),
                        sop_instance: text(r, tags::REFERENCED_SOP_INSTANCE_UID)
                            .unwrap_or_default(),
                    })
                    .collect(),
                has_purpose_of_reference: item
                    .get(tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE)
                    .is_some(),
                by_reference: item.get(tags::REFERENCED_CONTENT_ITEM_IDENTIFIER).is_some(),
                value_type,
                value,
                children,
            }
        })
        .collect()
}

/// A string attribute, trimmed of DICOM padding; `None` when absent, empty or not text.
fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = obj.get(tag)?.to_str().ok()?;
    non_empty(value.trim_matches(|c: char| c == '\0' || c.is_whitespace()))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn trim_uid(s: &str) -> &str {
    s.trim_end_matches(['\0', ' '])
}

/// Items of a sequence; empty when absent or not a sequence.
/// The items of a sequence element, none when it is absent or not a sequence.
pub(crate) fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or(&[])
}

fn code(item: &InMemDicomObject) -> Code {
    Code {
        value: text(item, tags::CODE_VALUE)
            .or_else(|| text(item, tags::LONG_CODE_VALUE))
            .or_else(|| text(item, tags::URN_CODE_VALUE))
            .unwrap_or_default(),
        scheme: text(item, tags::CODING_SCHEME_DESIGNATOR).unwrap_or_default(),
        meaning: text(item, tags::CODE_MEANING).unwrap_or_default(),
    }
}

fn designators(obj: &InMemDicomObject, tag: Tag) -> Vec<HierarchicDesignator> {
    items(obj, tag)
        .iter()
        .map(|i| HierarchicDesignator {
            local_namespace_entity_id: text(i, tags::LOCAL_NAMESPACE_ENTITY_ID),
            universal_entity_id: text(i, tags::UNIVERSAL_ENTITY_ID),
            universal_entity_id_type: text(i, tags::UNIVERSAL_ENTITY_ID_TYPE),
        })
        .collect()
}
