//! Writing the XDS-I.b manifest the simulated Imaging Document Source publishes ([`build`], from
//! a [`ManifestSpec`]).

use super::*;

/// What [`build`] needs to write an XDS-I.b manifest. Every UID is supplied by the caller, so the
/// same specification always gives the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestSpec {
    /// SOP Instance UID (0008,0018) of the manifest; also the XDS document uniqueId.
    pub sop_instance_uid: String,
    /// Series Instance UID (0020,000E) of the manifest's own KO series.
    pub series_instance_uid: String,
    /// Series Number (0020,0011) of the KO series.
    pub series_number: u32,
    /// Instance Number (0020,0013).
    pub instance_number: u32,
    /// Content Date (0008,0023), `YYYYMMDD`.
    pub content_date: String,
    /// Content Time (0008,0033), `HHMMSS`.
    pub content_time: String,
    /// Patient attributes; empty fields are written as empty type 2 attributes.
    pub patient: Patient,
    /// Study attributes; `instance_uid` is required and every instance must belong to it.
    pub study: Study,
    /// Manufacturer (0008,0070) of the manifest creator.
    pub manufacturer: Option<String>,
    /// Institution Name (0008,0080).
    pub institution_name: Option<String>,
    /// Timezone Offset From UTC (0008,0201), e.g. `+0100`.
    pub timezone_offset_from_utc: Option<String>,
    /// Text of a (113012, DCM, "Key Object Description") item, if any.
    pub key_object_description: Option<String>,
    /// Referenced Request Sequence (0040,A370) items.
    pub referenced_requests: Vec<ReferencedRequest>,
    /// The instances to share, with their retrieve attributes (which must agree within a
    /// series, since DICOM carries them at series level).
    pub instances: Vec<ReferencedInstance>,
}

/// Content item value type for a reference to an instance of `sop_class`: WAVEFORM for the
/// waveform storage classes, IMAGE for image storage classes, COMPOSITE otherwise (TID 2010
/// rows 8–10). Classification is by the UID's registered branch, so unknown or private classes
/// are COMPOSITE, which is always allowed.
pub fn reference_value_type(sop_class: &str) -> &'static str {
    const STORAGE: &str = "1.2.840.10008.5.1.4.1.1.";
    let Some(rest) = sop_class.strip_prefix(STORAGE) else {
        return "COMPOSITE";
    };
    let first = rest.split('.').next().unwrap_or("");
    match first {
        "9" => "WAVEFORM",
        // Presentation states, SR, encapsulated documents, raw data and registrations, real
        // world value mapping, surfaces, measurements, RT objects other than RT Image, MR
        // spectroscopy (4.2), protocols, annotations.
        "11" | "88" | "104" | "67" | "68" | "78" | "79" | "80" | "82" | "90" | "91" | "200"
        | "201" => "COMPOSITE",
        "66" => match rest {
            "66.4" | "66.7" => "IMAGE",
            _ => "COMPOSITE",
        },
        "481" => match rest {
            "481.1" => "IMAGE",
            _ => "COMPOSITE",
        },
        "4" if rest.starts_with("4.2") => "COMPOSITE",
        _ => "IMAGE",
    }
}

/// Write an XDS-I.b manifest: a KOS with title (113030, DCM, "Manifest") following TID 2010,
/// modality KO, the Current Requested Procedure Evidence Sequence carrying the retrieve
/// attributes at series level, and one IMAGE / COMPOSITE / WAVEFORM item per instance, as a
/// PS3.10 file in Explicit VR Little Endian.
pub fn build(spec: &ManifestSpec) -> Result<Vec<u8>, KosError> {
    let study_uid = check_spec(spec)?;
    let series = group_series(spec)?;

    let mut obj = InMemDicomObject::new_empty();
    let mut put = |tag: Tag, vr: VR, value: &str| {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    // SOP Common
    put(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    put(tags::SOP_CLASS_UID, VR::UI, KOS_SOP_CLASS);
    put(tags::SOP_INSTANCE_UID, VR::UI, &spec.sop_instance_uid);
    if let Some(tz) = &spec.timezone_offset_from_utc {
        put(tags::TIMEZONE_OFFSET_FROM_UTC, VR::SH, tz);
    }
    // Patient
    let p = &spec.patient;
    put(tags::PATIENT_NAME, VR::PN, opt(&p.name));
    put(tags::PATIENT_ID, VR::LO, opt(&p.id));
    if let Some(issuer) = &p.issuer {
        put(tags::ISSUER_OF_PATIENT_ID, VR::LO, issuer);
    }
    put(tags::PATIENT_BIRTH_DATE, VR::DA, opt(&p.birth_date));
    put(tags::PATIENT_SEX, VR::CS, opt(&p.sex));
    // General Study
    let s = &spec.study;
    put(tags::STUDY_INSTANCE_UID, VR::UI, study_uid);
    put(tags::STUDY_DATE, VR::DA, opt(&s.date));
    put(tags::STUDY_TIME, VR::TM, opt(&s.time));
    put(
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        opt(&s.referring_physician),
    );
    put(tags::STUDY_ID, VR::SH, opt(&s.id));
    put(tags::ACCESSION_NUMBER, VR::SH, opt(&s.accession_number));
    if let Some(d) = &s.description {
        put(tags::STUDY_DESCRIPTION, VR::LO, d);
    }
    // Key Object Document Series
    put(tags::MODALITY, VR::CS, "KO");
    put(tags::SERIES_INSTANCE_UID, VR::UI, &spec.series_instance_uid);
    put(tags::SERIES_NUMBER, VR::IS, &spec.series_number.to_string());
    // General Equipment
    put(tags::MANUFACTURER, VR::LO, opt(&spec.manufacturer));
    if let Some(i) = &spec.institution_name {
        put(tags::INSTITUTION_NAME, VR::LO, i);
    }
    // Key Object Document
    put(
        tags::INSTANCE_NUMBER,
        VR::IS,
        &spec.instance_number.to_string(),
    );
    put(tags::CONTENT_DATE, VR::DA, &spec.content_date);
    put(tags::CONTENT_TIME, VR::TM, &spec.content_time);
    // SR Document Content, root
    put(tags::VALUE_TYPE, VR::CS, "CONTAINER");
    put(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE");

    obj.put(sequence(
        tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE,
        vec![],
    ));
    if !p.issuer_qualifiers.is_empty() {
        obj.put(designator_sequence(
            tags::ISSUER_OF_PATIENT_ID_QUALIFIERS_SEQUENCE,
            &p.issuer_qualifiers,
        ));
    }
    if !p.other_ids.is_empty() {
        let others = p
            .other_ids
            .iter()
            .map(|o| {
                let mut item = InMemDicomObject::new_empty();
                item.put(str_element(tags::PATIENT_ID, VR::LO, opt(&o.id)));
                if let Some(issuer) = &o.issuer {
                    item.put(str_element(tags::ISSUER_OF_PATIENT_ID, VR::LO, issuer));
                }
                item.put(str_element(tags::TYPE_OF_PATIENT_ID, VR::CS, "TEXT"));
                item
            })
            .collect();
        obj.put(sequence(tags::OTHER_PATIENT_I_DS_SEQUENCE, others));
    }
    if !s.accession_issuers.is_empty() {
        obj.put(designator_sequence(
            tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE,
            &s.accession_issuers,
        ));
    }
    if !spec.referenced_requests.is_empty() {
        let reqs = spec
            .referenced_requests
            .iter()
            .map(|r| {
                let mut item = InMemDicomObject::new_empty();
                item.put(str_element(
                    tags::STUDY_INSTANCE_UID,
                    VR::UI,
                    opt(&r.study_uid),
                ));
                item.put(str_element(
                    tags::ACCESSION_NUMBER,
                    VR::SH,
                    opt(&r.accession_number),
                ));
                if !r.accession_issuers.is_empty() {
                    item.put(designator_sequence(
                        tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE,
                        &r.accession_issuers,
                    ));
                }
                item.put(sequence(tags::REFERENCED_STUDY_SEQUENCE, vec![]));
                item.put(str_element(
                    tags::REQUESTED_PROCEDURE_DESCRIPTION,
                    VR::LO,
                    "",
                ));
                item.put(sequence(tags::REQUESTED_PROCEDURE_CODE_SEQUENCE, vec![]));
                item.put(str_element(tags::REQUESTED_PROCEDURE_ID, VR::SH, ""));
                item.put(str_element(
                    tags::PLACER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST,
                    VR::LO,
                    opt(&r.placer_order_number),
                ));
                if !r.order_placer_identifiers.is_empty() {
                    item.put(designator_sequence(
                        tags::ORDER_PLACER_IDENTIFIER_SEQUENCE,
                        &r.order_placer_identifiers,
                    ));
                }
                item.put(str_element(
                    tags::FILLER_ORDER_NUMBER_IMAGING_SERVICE_REQUEST,
                    VR::LO,
                    "",
                ));
                item
            })
            .collect();
        obj.put(sequence(tags::REFERENCED_REQUEST_SEQUENCE, reqs));
    }

    let series_items = series
        .iter()
        .map(|(first, instances)| {
            let mut item = InMemDicomObject::new_empty();
            item.put(str_element(
                tags::SERIES_INSTANCE_UID,
                VR::UI,
                &first.series_uid,
            ));
            if let Some(ae) = &first.retrieve_ae_title {
                item.put(str_element(tags::RETRIEVE_AE_TITLE, VR::AE, ae));
            }
            if let Some(loc) = &first.retrieve_location_uid {
                item.put(str_element(tags::RETRIEVE_LOCATION_UID, VR::UI, loc));
            }
            if let Some(url) = &first.retrieve_url {
                item.put(str_element(tags::RETRIEVE_URL, VR::UR, url));
            }
            item.put(sequence(
                tags::REFERENCED_SOP_SEQUENCE,
                instances.iter().map(|i| sop_item(i)).collect(),
            ));
            item
        })
        .collect();
    let mut study_item = InMemDicomObject::new_empty();
    study_item.put(str_element(tags::STUDY_INSTANCE_UID, VR::UI, study_uid));
    study_item.put(sequence(tags::REFERENCED_SERIES_SEQUENCE, series_items));
    obj.put(sequence(
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        vec![study_item],
    ));

    obj.put(sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code_item(MANIFEST_TITLE, DCM, MANIFEST_TITLE_MEANING)],
    ));
    let mut template = InMemDicomObject::new_empty();
    template.put(str_element(tags::MAPPING_RESOURCE, VR::CS, DCMR));
    template.put(str_element(
        tags::TEMPLATE_IDENTIFIER,
        VR::CS,
        TID_KEY_OBJECT_SELECTION,
    ));
    obj.put(sequence(tags::CONTENT_TEMPLATE_SEQUENCE, vec![template]));

    let mut content = Vec::new();
    if let Some(description) = &spec.key_object_description {
        let mut item = InMemDicomObject::new_empty();
        item.put(str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"));
        item.put(str_element(tags::VALUE_TYPE, VR::CS, "TEXT"));
        item.put(sequence(
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            vec![code_item(
                KEY_OBJECT_DESCRIPTION,
                DCM,
                "Key Object Description",
            )],
        ));
        item.put(str_element(tags::TEXT_VALUE, VR::UT, description));
        content.push(item);
    }
    for (_, instances) in &series {
        for i in instances {
            let mut item = InMemDicomObject::new_empty();
            item.put(str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"));
            item.put(str_element(
                tags::VALUE_TYPE,
                VR::CS,
                reference_value_type(&i.sop_class),
            ));
            item.put(sequence(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item(i)]));
            content.push(item);
        }
    }
    obj.put(sequence(tags::CONTENT_SEQUENCE, content));

    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(EXPLICIT_VR_LITTLE_ENDIAN)
                .media_storage_sop_class_uid(KOS_SOP_CLASS)
                .media_storage_sop_instance_uid(spec.sop_instance_uid.as_str()),
        )
        .map_err(|e| KosError::Write(e.to_string()))?;
    let mut out = Vec::new();
    file.write_all(&mut out)
        .map_err(|e| KosError::Write(e.to_string()))?;
    Ok(out)
}

fn check_spec(spec: &ManifestSpec) -> Result<&str, KosError> {
    let bad = |field: &'static str, message: String| Err(KosError::Spec { field, message });
    let Some(study_uid) = spec.study.instance_uid.as_deref() else {
        return bad("study.instance_uid", "required".to_string());
    };
    for (field, uid) in [
        ("sop_instance_uid", spec.sop_instance_uid.as_str()),
        ("series_instance_uid", spec.series_instance_uid.as_str()),
        ("study.instance_uid", study_uid),
    ] {
        if let Err(why) = check_uid(uid) {
            return bad(field, format!("{}: {why}", crate::evidence::quote(uid)));
        }
    }
    if spec.instances.is_empty() {
        return bad(
            "instances",
            "a manifest references at least one instance".to_string(),
        );
    }
    for i in &spec.instances {
        if i.study_uid != study_uid {
            return bad(
                "instances",
                format!(
                    "instance {} is in study {}, not in the manifest's study {study_uid}; \
                     build one manifest per study",
                    i.sop_instance, i.study_uid
                ),
            );
        }
        for uid in [
            i.series_uid.as_str(),
            i.sop_class.as_str(),
            i.sop_instance.as_str(),
        ]
        .into_iter()
        .chain(i.retrieve_location_uid.as_deref())
        {
            if let Err(why) = check_uid(uid) {
                return bad(
                    "instances",
                    format!("{}: {why}", crate::evidence::quote(uid)),
                );
            }
        }
    }
    Ok(study_uid)
}

/// Group instances by series in order of first appearance; the series' retrieve attributes
/// come from its first instance and must agree with the others.
fn group_series(
    spec: &ManifestSpec,
) -> Result<Vec<(&ReferencedInstance, Vec<&ReferencedInstance>)>, KosError> {
    let mut out: Vec<(&ReferencedInstance, Vec<&ReferencedInstance>)> = Vec::new();
    for i in &spec.instances {
        match out.iter_mut().find(|(f, _)| f.series_uid == i.series_uid) {
            Some((first, list)) => {
                if first.retrieve_ae_title != i.retrieve_ae_title
                    || first.retrieve_location_uid != i.retrieve_location_uid
                    || first.retrieve_url != i.retrieve_url
                {
                    return Err(KosError::Spec {
                        field: "instances",
                        message: format!(
                            "series {}: retrieve attributes differ between instances {} and {}",
                            i.series_uid, first.sop_instance, i.sop_instance
                        ),
                    });
                }
                list.push(i);
            }
            None => out.push((i, vec![i])),
        }
    }
    Ok(out)
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// A string element; an empty value is written as an empty element (type 2).
pub(crate) fn str_element(tag: Tag, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    if value.is_empty() {
        DataElement::empty(tag, vr)
    } else {
        DataElement::new(tag, vr, PrimitiveValue::from(value))
    }
}

/// A sequence element of `items`.
pub(crate) fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

/// A Code Sequence item (value, scheme designator, meaning).
pub(crate) fn code_item(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::CODE_VALUE, VR::SH, value),
        str_element(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
        str_element(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

/// A Referenced SOP Sequence item for an instance.
pub(crate) fn sop_item(i: &ReferencedInstance) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::REFERENCED_SOP_CLASS_UID, VR::UI, &i.sop_class),
        str_element(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, &i.sop_instance),
    ])
}

fn designator_sequence(tag: Tag, list: &[HierarchicDesignator]) -> DataElement<InMemDicomObject> {
    let items = list
        .iter()
        .map(|d| {
            let mut item = InMemDicomObject::new_empty();
            if let Some(v) = &d.local_namespace_entity_id {
                item.put(str_element(tags::LOCAL_NAMESPACE_ENTITY_ID, VR::UT, v));
            }
            if let Some(v) = &d.universal_entity_id {
                item.put(str_element(tags::UNIVERSAL_ENTITY_ID, VR::UT, v));
            }
            if let Some(v) = &d.universal_entity_id_type {
                item.put(str_element(tags::UNIVERSAL_ENTITY_ID_TYPE, VR::CS, v));
            }
            item
        })
        .collect();
    sequence(tag, items)
}
