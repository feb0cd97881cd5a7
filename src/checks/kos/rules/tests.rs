//! The manifest rules on built and mutated manifests: each fires on the defect it names.

use std::collections::BTreeSet;

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_dictionary_std::uids;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};

use super::*;
use crate::model::kos::*;
use dicom_object::DefaultDicomObject;

const STUDY: &str = "2.25.100";
const SERIES_A: &str = "2.25.101";
const SERIES_B: &str = "2.25.102";
const REPO: &str = "1.3.6.1.4.1.21367.13.80.110";

fn instance(series: &str, n: u32, class: &str) -> ReferencedInstance {
    ReferencedInstance {
        study_uid: STUDY.to_string(),
        series_uid: series.to_string(),
        sop_class: class.to_string(),
        sop_instance: format!("{series}.{n}"),
        retrieve_ae_title: Some("IDS_AE".to_string()),
        retrieve_location_uid: Some(REPO.to_string()),
        retrieve_url: Some("https://ids.example.org/dicomweb".to_string()),
    }
}

fn spec() -> ManifestSpec {
    ManifestSpec {
        sop_instance_uid: "2.25.900".to_string(),
        series_instance_uid: "2.25.901".to_string(),
        series_number: 999,
        instance_number: 1,
        content_date: "20260101".to_string(),
        content_time: "120000".to_string(),
        patient: Patient {
            id: Some("PAT-1".to_string()),
            issuer: Some("HOSP".to_string()),
            name: Some("Doe^Jane".to_string()),
            birth_date: Some("19700101".to_string()),
            sex: Some("F".to_string()),
            ..Patient::default()
        },
        study: Study {
            instance_uid: Some(STUDY.to_string()),
            id: Some("S1".to_string()),
            accession_number: Some("ACC1".to_string()),
            date: Some("20251231".to_string()),
            time: Some("101010".to_string()),
            description: Some("CT chest".to_string()),
            ..Study::default()
        },
        manufacturer: Some("ihe-harness".to_string()),
        key_object_description: Some("shared for XDS-I.b".to_string()),
        instances: vec![
            instance(SERIES_A, 1, uids::CT_IMAGE_STORAGE),
            instance(SERIES_A, 2, uids::CT_IMAGE_STORAGE),
            instance(SERIES_B, 1, uids::BASIC_TEXT_SR_STORAGE),
        ],
        ..ManifestSpec::default()
    }
}

fn built() -> Vec<u8> {
    build(&spec()).expect("spec builds")
}

fn open(bytes: &[u8]) -> DefaultDicomObject {
    OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(&bytes[128..])
        .expect("built file reads")
}

/// Build, change the data set with dicom-object, write it again and parse the result.
fn mutated(bytes: &[u8], f: impl FnOnce(&mut DefaultDicomObject)) -> Manifest {
    let mut file = open(bytes);
    f(&mut file);
    let mut out = Vec::new();
    file.write_all(&mut out).expect("mutated file writes");
    parse(&out).expect("mutated file parses")
}

fn edit_items(obj: &mut InMemDicomObject, tag: Tag, f: impl FnOnce(&mut Vec<InMemDicomObject>)) {
    let mut list = items(obj, tag).to_vec();
    f(&mut list);
    obj.put(sequence(tag, list));
}

/// The first series item of the evidence sequence.
fn edit_first_series(obj: &mut InMemDicomObject, f: impl FnOnce(&mut InMemDicomObject)) {
    edit_items(
        obj,
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        |studies| {
            edit_items(
                &mut studies[0],
                tags::REFERENCED_SERIES_SEQUENCE,
                |series| f(&mut series[0]),
            )
        },
    );
}

fn fired(m: &Manifest, rules: &Rules, id: &str) -> Vec<Violation> {
    validate(m, rules)
        .into_iter()
        .filter(|v| v.rule == id)
        .collect()
}

fn assert_fires(m: &Manifest, rules: &Rules, id: &str) {
    let found = fired(m, rules, id);
    assert!(
        !found.is_empty(),
        "{id} should fire; got {:?}",
        validate(m, rules)
    );
    let expected = rule(id).and_then(|r| r.level(rules.profile));
    assert!(found.iter().all(|v| Some(v.level) == expected));
}

fn assert_quiet(m: &Manifest, rules: &Rules, id: &str) {
    let found = fired(m, rules, id);
    assert!(found.is_empty(), "{id} should not fire; got {found:?}");
}

fn container(concept: InMemDicomObject, children: Vec<InMemDicomObject>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
        str_element(tags::VALUE_TYPE, VR::CS, "CONTAINER"),
        sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
        str_element(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE"),
        sequence(tags::CONTENT_SEQUENCE, children),
    ])
}

fn code_ci(concept: InMemDicomObject, value: InMemDicomObject) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::RELATIONSHIP_TYPE, VR::CS, "HAS ACQ CONTEXT"),
        str_element(tags::VALUE_TYPE, VR::CS, "CODE"),
        sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
        sequence(tags::CONCEPT_CODE_SEQUENCE, vec![value]),
    ])
}

fn num_ci(concept: InMemDicomObject, n: usize) -> InMemDicomObject {
    let measured = InMemDicomObject::from_element_iter([
        sequence(
            tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
            vec![code_item("{instances}", "UCUM", "instances")],
        ),
        str_element(tags::NUMERIC_VALUE, VR::DS, &n.to_string()),
    ]);
    InMemDicomObject::from_element_iter([
        str_element(tags::RELATIONSHIP_TYPE, VR::CS, "HAS ACQ CONTEXT"),
        str_element(tags::VALUE_TYPE, VR::CS, "NUM"),
        sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
        sequence(tags::MEASURED_VALUE_SEQUENCE, vec![measured]),
    ])
}

fn uidref_ci(concept: InMemDicomObject, uid: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        str_element(tags::RELATIONSHIP_TYPE, VR::CS, "HAS ACQ CONTEXT"),
        str_element(tags::VALUE_TYPE, VR::CS, "UIDREF"),
        sequence(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![concept]),
        str_element(tags::UID, VR::UI, uid),
    ])
}

fn modality(value: &str) -> InMemDicomObject {
    code_ci(
        code_item(MODALITY_CONCEPT, DCM, "Modality"),
        code_item(value, DCM, value),
    )
}

fn library_group(series: &str, count: usize) -> InMemDicomObject {
    container(
        code_item(IMAGE_LIBRARY_GROUP, DCM, "Image Library Group"),
        vec![
            modality("CT"),
            uidref_ci(
                code_item(SERIES_INSTANCE_UID_CONCEPT, DCM, "Series Instance UID"),
                series,
            ),
            num_ci(
                code_item(
                    NUMBER_OF_SERIES_RELATED_INSTANCES,
                    IHE_TEMP_SCHEME,
                    "Number of Series Related Instances",
                ),
                count,
            ),
        ],
    )
}

fn image_library_item(target_region: InMemDicomObject) -> InMemDicomObject {
    container(
        code_item(IMAGE_LIBRARY, DCM, "Image Library"),
        vec![
            modality("CT"),
            code_ci(
                code_item(TARGET_REGION, DCM, "Target Region"),
                target_region,
            ),
            num_ci(
                code_item(
                    NUMBER_OF_STUDY_RELATED_SERIES,
                    IHE_TEMP_SCHEME,
                    "Number of Study Related Series",
                ),
                2,
            ),
            library_group(SERIES_A, 2),
            library_group(SERIES_B, 1),
        ],
    )
}

fn mado_spec() -> ManifestSpec {
    let issuer = |uid: &str| HierarchicDesignator {
        local_namespace_entity_id: None,
        universal_entity_id: Some(uid.to_string()),
        universal_entity_id_type: Some("ISO".to_string()),
    };
    let mut s = spec();
    s.patient.issuer_qualifiers = vec![issuer("1.2.3.1")];
    s.patient.other_ids = vec![OtherPatientId {
        id: s.patient.id.clone(),
        issuer: s.patient.issuer.clone(),
    }];
    s.study.accession_issuers = vec![issuer("1.2.3.2")];
    s.institution_name = Some("Hospital".to_string());
    s.timezone_offset_from_utc = Some("+0100".to_string());
    s.referenced_requests = vec![ReferencedRequest {
        study_uid: Some(STUDY.to_string()),
        accession_number: Some("ACC1".to_string()),
        accession_issuers: vec![issuer("1.2.3.2")],
        placer_order_number: Some("ORD1".to_string()),
        order_placer_identifiers: vec![issuer("1.2.3.3")],
    }];
    s
}

/// Turn a built manifest into a MADO "Manifest with Description".
fn to_mado(f: &mut DefaultDicomObject, target_region: InMemDicomObject) {
    f.put(sequence(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        vec![code_item(
            MADO_TITLE_TEMP,
            IHE_TEMP_SCHEME,
            MADO_TITLE_MEANING,
        )],
    ));
    edit_items(f, tags::CONTENT_SEQUENCE, |c| {
        c.push(image_library_item(target_region))
    });
}

fn mado_bytes() -> Vec<u8> {
    build(&mado_spec()).expect("MADO spec builds")
}

fn mado() -> Manifest {
    mado_with(|_| {})
}

fn mado_with(g: impl FnOnce(&mut DefaultDicomObject)) -> Manifest {
    mutated(&mado_bytes(), |f| {
        to_mado(f, code_item("67734004", "SCT", "Upper trunk"));
        g(f)
    })
}

// --- build and parse ---------------------------------------------------------------------

#[test]
fn round_trip_keeps_what_was_built() {
    let s = spec();
    let m = parse(&built()).unwrap();
    assert_eq!(m.transfer_syntax_uid, EXPLICIT_VR_LITTLE_ENDIAN);
    assert_eq!(m.sop_class_uid.as_deref(), Some(KOS_SOP_CLASS));
    assert_eq!(
        m.media_storage_sop_class_uid.as_deref(),
        Some(KOS_SOP_CLASS)
    );
    assert_eq!(m.sop_instance_uid.as_deref(), Some("2.25.900"));
    assert_eq!(
        m.media_storage_sop_instance_uid.as_deref(),
        Some("2.25.900")
    );
    assert_eq!(m.patient, s.patient);
    assert_eq!(m.study.instance_uid, s.study.instance_uid);
    assert_eq!(m.study.accession_number, s.study.accession_number);
    assert_eq!(m.study.date, s.study.date);
    assert_eq!(m.study.time, s.study.time);
    assert_eq!(m.study.description, s.study.description);
    assert_eq!(m.series.modality.as_deref(), Some("KO"));
    assert_eq!(m.series.number.as_deref(), Some("999"));
    assert_eq!(m.series.instance_uid.as_deref(), Some("2.25.901"));
    assert_eq!(
        m.document_title,
        Some(Code::new(MANIFEST_TITLE, DCM, MANIFEST_TITLE_MEANING))
    );
    assert_eq!(
        m.template,
        Some(TemplateId {
            mapping_resource: Some(DCMR.to_string()),
            identifier: Some(TID_KEY_OBJECT_SELECTION.to_string())
        })
    );
    assert_eq!(m.evidence, s.instances);
    assert!(m.evidence_defects.is_empty());
    let refs: Vec<(&str, &str)> = m
        .content_references
        .iter()
        .map(|r| (r.value_type.as_str(), r.sop_instance.as_str()))
        .collect();
    assert_eq!(
        refs,
        [
            ("IMAGE", "2.25.101.1"),
            ("IMAGE", "2.25.101.2"),
            ("COMPOSITE", "2.25.102.1")
        ]
    );
    assert_eq!(
        m.key_object_description.as_deref(),
        Some("shared for XDS-I.b")
    );
    assert_eq!(m.evidence_studies(), [STUDY]);
    assert_eq!(m.evidence_series(), [SERIES_A, SERIES_B]);
}

#[test]
fn build_is_deterministic() {
    assert_eq!(built(), built());
}

#[test]
fn built_manifest_passes_every_xds_i_b_rule() {
    let m = parse(&built()).unwrap();
    let rules = Rules::xds_i_b()
        .with_repository_unique_id(REPO)
        .expecting_retrieve_ae_title();
    assert_eq!(validate(&m, &rules), []);
}

#[test]
fn mado_fixture_passes_every_mado_rule() {
    assert_eq!(validate(&mado(), &Rules::mado()), []);
}

#[test]
fn round_trip_of_mado_attributes() {
    let s = mado_spec();
    let m = parse(&mado_bytes()).unwrap();
    assert_eq!(m.patient, s.patient);
    assert_eq!(m.study.accession_issuers, s.study.accession_issuers);
    assert_eq!(m.referenced_requests, s.referenced_requests);
    assert_eq!(m.equipment.institution_name, s.institution_name);
    assert_eq!(m.timezone_offset_from_utc, s.timezone_offset_from_utc);
}

#[test]
fn build_rejects_what_cannot_be_a_manifest() {
    let mut s = spec();
    s.instances.clear();
    assert!(matches!(
        build(&s),
        Err(KosError::Spec {
            field: "instances",
            ..
        })
    ));

    let mut s = spec();
    s.instances[0].study_uid = "2.25.555".to_string();
    assert!(matches!(build(&s), Err(KosError::Spec { .. })));

    let mut s = spec();
    s.instances[1].retrieve_ae_title = Some("OTHER".to_string());
    assert!(matches!(build(&s), Err(KosError::Spec { .. })));

    let mut s = spec();
    s.sop_instance_uid = "1.02.3".to_string();
    assert!(matches!(
        build(&s),
        Err(KosError::Spec {
            field: "sop_instance_uid",
            ..
        })
    ));

    let mut s = spec();
    s.study.instance_uid = None;
    assert!(matches!(build(&s), Err(KosError::Spec { .. })));
}

#[test]
fn reference_value_types() {
    assert_eq!(reference_value_type(uids::CT_IMAGE_STORAGE), "IMAGE");
    assert_eq!(reference_value_type(uids::SEGMENTATION_STORAGE), "IMAGE");
    assert_eq!(reference_value_type(uids::RT_IMAGE_STORAGE), "IMAGE");
    assert_eq!(
        reference_value_type(uids::TWELVE_LEAD_ECG_WAVEFORM_STORAGE),
        "WAVEFORM"
    );
    assert_eq!(reference_value_type(KOS_SOP_CLASS), "COMPOSITE");
    assert_eq!(
        reference_value_type(uids::ENCAPSULATED_PDF_STORAGE),
        "COMPOSITE"
    );
    assert_eq!(reference_value_type(uids::RT_PLAN_STORAGE), "COMPOSITE");
    assert_eq!(reference_value_type("1.2.3.4"), "COMPOSITE");
}

#[test]
fn uid_syntax() {
    assert_eq!(check_uid("1.2.840.10008.5.1.4.1.1.88.59"), Ok(()));
    assert_eq!(check_uid("2.25.0"), Ok(()));
    assert!(check_uid("").is_err());
    assert!(check_uid("1.2.03").is_err());
    assert!(check_uid("1..2").is_err());
    assert!(check_uid("1.2.").is_err());
    assert!(check_uid("1.2.a").is_err());
    assert!(check_uid(&format!("1.{}", "2".repeat(63))).is_err());
    assert_eq!(check_uid(&format!("1.{}", "2".repeat(62))), Ok(()));
}

#[test]
fn count_values() {
    assert_eq!(count_value("20"), Some(20));
    assert_eq!(count_value("(20, UCUM, \"instances\")"), Some(20));
    assert_eq!(count_value("2.0"), Some(2));
    assert_eq!(count_value("2.5"), None);
    assert_eq!(count_value("many"), None);
}

#[test]
fn rule_registry_is_consistent() {
    let mut ids = BTreeSet::new();
    for r in RULES {
        assert!(ids.insert(r.id), "duplicate rule id {}", r.id);
        assert!(
            r.xds_i_b.is_some() || r.mado.is_some(),
            "{} applies nowhere",
            r.id
        );
        assert!(!r.requirement.is_empty() && !r.title.is_empty());
    }
}

// --- parse robustness ---------------------------------------------------------------------

#[test]
fn parse_never_panics_on_truncated_input() {
    let bytes = built();
    for end in 0..bytes.len() {
        let _ = parse(&bytes[..end]);
    }
    let without_preamble = &bytes[128..];
    for end in 0..without_preamble.len() {
        let _ = parse(&without_preamble[..end]);
    }
}

#[test]
fn parse_never_panics_on_garbage() {
    let bytes = built();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..2000 {
        let mut b = bytes.clone();
        // Flip a few bytes past the preamble, keeping the DICM magic most of the time.
        for _ in 0..4 {
            let at = 132 + (next() as usize) % (b.len() - 132);
            b[at] = next() as u8;
        }
        let _ = parse(&b);
    }
    let mut noise = b"DICM".to_vec();
    noise.extend((0..512).map(|_| next() as u8));
    assert!(parse(&noise).is_err());
    assert!(parse(b"").is_err());
    assert!(parse(b"not dicom at all").is_err());
}

#[test]
fn parse_rejects_lengths_past_the_end() {
    // A 4-byte length of an explicit VR SQ, inflated to nearly 4 GiB: the decoder would
    // allocate it before noticing the bytes are missing.
    let bytes = built();
    let sq = bytes
        .windows(4)
        .position(|w| w == b"SQ\0\0")
        .expect("a sequence");
    let mut b = bytes.clone();
    b[sq + 4..sq + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let err = parse(&b).unwrap_err();
    assert!(err.to_string().contains("declares"), "{err}");
}

#[test]
fn parse_reads_a_file_without_preamble() {
    let bytes = built();
    assert_eq!(parse(&bytes[128..]).unwrap(), parse(&bytes).unwrap());
}

// --- rules: each fires on a defect and stays quiet without it ------------------------------

#[test]
fn kos_01_sop_class() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-01");
    let m = mutated(&built(), |f| {
        f.put(str_element(
            tags::SOP_CLASS_UID,
            VR::UI,
            uids::BASIC_TEXT_SR_STORAGE,
        ));
    });
    assert_fires(&m, &x, "KOS-01");
    let m = mutated(&built(), |f| {
        f.update_meta(|meta| meta.media_storage_sop_instance_uid = "2.25.1\0".to_string())
    });
    assert_fires(&m, &x, "KOS-01");
}

#[test]
fn kos_02_series_and_document_attributes() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-02");
    let m = mutated(&built(), |f| {
        f.put(str_element(tags::MODALITY, VR::CS, "SR"));
    });
    assert_fires(&m, &x, "KOS-02");
    let m = mutated(&built(), |f| {
        f.remove_element(tags::CONTENT_TIME);
    });
    assert_fires(&m, &x, "KOS-02");
}

#[test]
fn kos_03_root_container() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-03");
    let m = mutated(&built(), |f| {
        f.put(str_element(
            tags::CONTINUITY_OF_CONTENT,
            VR::CS,
            "CONTINUOUS",
        ));
    });
    assert_fires(&m, &x, "KOS-03");
    let m = mutated(&built(), |f| {
        edit_items(f, tags::CONTENT_TEMPLATE_SEQUENCE, |t| {
            t[0].put(str_element(tags::TEMPLATE_IDENTIFIER, VR::CS, "2000"));
        });
    });
    assert_fires(&m, &x, "KOS-03");
    let m = mutated(&built(), |f| {
        edit_items(f, tags::CONCEPT_NAME_CODE_SEQUENCE, |t| {
            t.push(code_item("113000", DCM, "Of Interest"))
        });
    });
    assert_fires(&m, &x, "KOS-03");
}

#[test]
fn kos_04_document_title() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-04");
    let m = mutated(&built(), |f| {
        f.put(sequence(
            tags::CONCEPT_NAME_CODE_SEQUENCE,
            vec![code_item("113000", DCM, "Of Interest")],
        ));
    });
    assert_fires(&m, &x, "KOS-04");
    assert_quiet(&mado(), &Rules::mado(), "KOS-04");
}

#[test]
fn kos_05_evidence_structure() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-05");
    let m = mutated(&built(), |f| {
        f.remove_element(tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE);
    });
    assert_fires(&m, &x, "KOS-05");
    let m = mutated(&built(), |f| {
        f.put(sequence(
            tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
            vec![],
        ));
    });
    assert_fires(&m, &x, "KOS-05");
    let m = mutated(&built(), |f| {
        edit_first_series(f, |s| {
            s.remove_element(tags::SERIES_INSTANCE_UID);
        })
    });
    assert_fires(&m, &x, "KOS-05");
}

#[test]
fn kos_06_content_matches_evidence() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-06");
    // An evidence instance no content item references.
    let m = mutated(&built(), |f| {
        edit_items(f, tags::CONTENT_SEQUENCE, |c| {
            c.pop();
        });
    });
    assert_fires(&m, &x, "KOS-06");
    // A content item referencing an instance missing from the evidence.
    let m = mutated(&built(), |f| {
        edit_items(f, tags::CONTENT_SEQUENCE, |c| {
            let mut extra = instance(SERIES_A, 9, uids::CT_IMAGE_STORAGE);
            extra.sop_instance = "2.25.777".to_string();
            c.push(InMemDicomObject::from_element_iter([
                str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
                str_element(tags::VALUE_TYPE, VR::CS, "IMAGE"),
                sequence(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item(&extra)]),
            ]));
        });
    });
    assert_fires(&m, &x, "KOS-06");
}

fn second_study(f: &mut DefaultDicomObject, identical: bool) {
    let other = ReferencedInstance {
        study_uid: "2.25.200".to_string(),
        series_uid: "2.25.201".to_string(),
        ..instance(SERIES_A, 1, uids::CT_IMAGE_STORAGE)
    };
    let series = InMemDicomObject::from_element_iter([
        str_element(tags::SERIES_INSTANCE_UID, VR::UI, &other.series_uid),
        str_element(tags::RETRIEVE_LOCATION_UID, VR::UI, REPO),
        sequence(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item(&other)]),
    ]);
    let study = InMemDicomObject::from_element_iter([
        str_element(tags::STUDY_INSTANCE_UID, VR::UI, &other.study_uid),
        sequence(tags::REFERENCED_SERIES_SEQUENCE, vec![series]),
    ]);
    edit_items(
        f,
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        |s| s.push(study.clone()),
    );
    if identical {
        f.put(sequence(tags::IDENTICAL_DOCUMENTS_SEQUENCE, vec![study]));
    }
}

#[test]
fn kos_07_identical_documents_for_several_studies() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-07");
    let m = mutated(&built(), |f| second_study(f, false));
    assert_fires(&m, &x, "KOS-07");
    let m = mutated(&built(), |f| second_study(f, true));
    assert_quiet(&m, &x, "KOS-07");
    assert_eq!(m.identical_documents.len(), 1);
}

#[test]
fn kos_08_retrieve_location_uid() {
    let x = Rules::xds_i_b().with_repository_unique_id(REPO);
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-08");
    let m = mutated(&built(), |f| {
        edit_first_series(f, |s| {
            s.remove_element(tags::RETRIEVE_LOCATION_UID);
        })
    });
    assert_fires(&m, &x, "KOS-08");
    let other = Rules::xds_i_b().with_repository_unique_id("1.2.3.4");
    assert_fires(&parse(&built()).unwrap(), &other, "KOS-08");
    assert_quiet(&m, &Rules::mado(), "KOS-08");
}

#[test]
fn kos_09_retrieve_ae_title_for_c_move() {
    let m = mutated(&built(), |f| {
        edit_first_series(f, |s| {
            s.remove_element(tags::RETRIEVE_AE_TITLE);
        })
    });
    let c_move = Rules::xds_i_b().expecting_retrieve_ae_title();
    assert_fires(&m, &c_move, "KOS-09");
    assert_quiet(&m, &Rules::xds_i_b(), "KOS-09");
    assert_quiet(&parse(&built()).unwrap(), &c_move, "KOS-09");
}

#[test]
fn kos_10_retrieve_url() {
    let with_url = |url: &'static str| {
        mutated(&built(), move |f| {
            edit_first_series(f, |s| {
                s.put(str_element(tags::RETRIEVE_URL, VR::UR, url));
            })
        })
    };
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-10");
    assert_fires(&with_url("dicomserver/rs"), &x, "KOS-10");
    assert_fires(&with_url("ftp://host/rs"), &x, "KOS-10");
    let series_url = "https://ids.example.org/rs/studies/2.25.100/series/2.25.101";
    assert_quiet(&with_url(series_url), &x, "KOS-10");
    let m = mado_with(|f| {
        edit_first_series(f, |s| {
            s.put(str_element(tags::RETRIEVE_URL, VR::UR, series_url));
        })
    });
    assert_fires(&m, &Rules::mado(), "KOS-10");
    assert_quiet(&mado(), &Rules::mado(), "KOS-10");
}

#[test]
fn kos_11_by_value_and_no_purpose_of_reference() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-11");
    let m = mutated(&built(), |f| {
        edit_items(f, tags::CONTENT_SEQUENCE, |c| {
            let last = c.len() - 1;
            c[last].put(sequence(
                tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
                vec![code_item("121112", DCM, "Source of Measurement")],
            ));
        });
    });
    assert_fires(&m, &x, "KOS-11");
    let m = mutated(&built(), |f| {
        edit_items(f, tags::CONTENT_SEQUENCE, |c| {
            c.push(InMemDicomObject::from_element_iter([
                str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
                DataElement::new(
                    tags::REFERENCED_CONTENT_ITEM_IDENTIFIER,
                    VR::UL,
                    PrimitiveValue::from(1u32),
                ),
            ]));
        });
    });
    assert_fires(&m, &x, "KOS-11");
}

#[test]
fn kos_12_mado_title_library_and_own_study() {
    let r = Rules::mado();
    assert_quiet(&mado(), &r, "KOS-12");
    // An XDS-I.b manifest is not a MADO one: wrong title, no Image Library.
    let plain = parse(&mado_bytes()).unwrap();
    assert_eq!(fired(&plain, &r, "KOS-12").len(), 2);
    let m = mado_with(|f| second_study(f, true));
    assert_fires(&m, &r, "KOS-12");
    assert_quiet(&m, &Rules::xds_i_b(), "KOS-12");
}

#[test]
fn kos_13_mado_required_attributes() {
    let r = Rules::mado();
    assert_quiet(&mado(), &r, "KOS-13");
    // The plain XDS-I.b build lacks issuer qualifiers, other IDs, institution, timezone and
    // the Referenced Request Sequence.
    let plain = mutated(&built(), |f| {
        to_mado(f, code_item("67734004", "SCT", "Upper trunk"))
    });
    assert!(fired(&plain, &r, "KOS-13").len() >= 5);
    let m = mado_with(|f| {
        f.remove_element(tags::TIMEZONE_OFFSET_FROM_UTC);
    });
    assert_fires(&m, &r, "KOS-13");
    let m = mado_with(|f| {
        edit_first_series(f, |s| {
            s.remove_element(tags::RETRIEVE_LOCATION_UID);
            s.remove_element(tags::RETRIEVE_URL);
        })
    });
    assert_fires(&m, &r, "KOS-13");
    // Either addressing mode satisfies MADO.
    let m = mado_with(|f| {
        edit_first_series(f, |s| {
            s.remove_element(tags::RETRIEVE_LOCATION_UID);
        })
    });
    assert_quiet(&m, &r, "KOS-13");
    assert_quiet(&plain, &Rules::xds_i_b(), "KOS-13");
}

#[test]
fn kos_14_accession_issuer_iff_accession() {
    let r = Rules::mado();
    assert_quiet(&mado(), &r, "KOS-14");
    let m = mado_with(|f| {
        f.remove_element(tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE);
    });
    assert_fires(&m, &r, "KOS-14");
    let m = mado_with(|f| {
        f.put(str_element(tags::ACCESSION_NUMBER, VR::SH, ""));
    });
    assert_fires(&m, &r, "KOS-14");
    let m = mado_with(|f| {
        f.put(str_element(tags::ACCESSION_NUMBER, VR::SH, ""));
        f.remove_element(tags::ISSUER_OF_ACCESSION_NUMBER_SEQUENCE);
    });
    assert_quiet(&m, &r, "KOS-14");
}

#[test]
fn kos_15_image_library_counts() {
    let r = Rules::mado();
    assert_quiet(&mado(), &r, "KOS-15");
    // One more instance in series A than its library group says.
    let m = mado_with(|f| {
        edit_first_series(f, |s| {
            edit_items(s, tags::REFERENCED_SOP_SEQUENCE, |sops| {
                sops.push(sop_item(&instance(SERIES_A, 3, uids::CT_IMAGE_STORAGE)))
            })
        });
        edit_items(f, tags::CONTENT_SEQUENCE, |c| {
            c.push(InMemDicomObject::from_element_iter([
                str_element(tags::RELATIONSHIP_TYPE, VR::CS, "CONTAINS"),
                str_element(tags::VALUE_TYPE, VR::CS, "IMAGE"),
                sequence(
                    tags::REFERENCED_SOP_SEQUENCE,
                    vec![sop_item(&instance(SERIES_A, 3, uids::CT_IMAGE_STORAGE))],
                ),
            ]))
        });
    });
    assert_eq!(
        fired(&m, &r, "KOS-15")
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>(),
        ["series 2.25.101: Number of Series Related Instances expected 3, found 2"]
    );
    assert_quiet(&m, &r, "KOS-06");
}

#[test]
fn kos_17_target_region_value_set() {
    let r = Rules::mado();
    assert_quiet(&mado(), &r, "KOS-17");
    let m = mutated(&mado_bytes(), |f| {
        to_mado(f, code_item("39607008", "SCT", "Lung"))
    });
    assert_fires(&m, &r, "KOS-17");
    assert!(validate(&m, &r).iter().all(|v| v.level == Level::Should));
}

#[test]
fn kos_18_manifest_study_is_the_referenced_study() {
    let m = mutated(&built(), |f| {
        f.put(str_element(tags::STUDY_INSTANCE_UID, VR::UI, "2.25.300"));
    });
    assert_fires(&m, &Rules::xds_i_b(), "KOS-18");
    assert_fires(&m, &Rules::mado(), "KOS-18");
    assert_eq!(
        fired(&m, &Rules::xds_i_b(), "KOS-18")[0].level,
        Level::Should
    );
    assert_eq!(fired(&m, &Rules::mado(), "KOS-18")[0].level, Level::Shall);
    assert_quiet(&parse(&built()).unwrap(), &Rules::xds_i_b(), "KOS-18");
}

#[test]
fn kos_21_patient_id() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-21");
    let m = mutated(&built(), |f| {
        f.put(str_element(tags::PATIENT_ID, VR::LO, ""));
    });
    assert_fires(&m, &x, "KOS-21");
}

#[test]
fn kos_22_uid_syntax() {
    let x = Rules::xds_i_b();
    assert_quiet(&parse(&built()).unwrap(), &x, "KOS-22");
    let m = mutated(&built(), |f| {
        f.put(str_element(tags::SERIES_INSTANCE_UID, VR::UI, "2.25.0123"));
    });
    assert_fires(&m, &x, "KOS-22");
    let m = mutated(&built(), |f| {
        edit_first_series(f, |s| {
            s.put(str_element(tags::SERIES_INSTANCE_UID, VR::UI, "2.25.x"));
        })
    });
    assert_fires(&m, &x, "KOS-22");
}
