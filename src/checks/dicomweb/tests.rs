//! Each DICOMweb check with a recorded exchange where it passes and one where it fails.

use std::collections::BTreeSet;

use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::mem::InMemElement;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::InMemDicomObject;

use super::*;
use crate::checks::{evaluate, Expect, Outcome, QidoLevel, SentInstance, Subject, Target};
use crate::evidence::Exchange;
use crate::transport::multipart::build_body;

const STUDY: &str = "1.2.3";
const SERIES: &str = "1.2.3.4";
const B: &str = "b0undary";

/// A Part 10 file of CT Image Storage instance `sop` in transfer syntax `ts`, with `elements`.
pub(crate) fn part10(
    sop: &str,
    ts: &str,
    elements: impl IntoIterator<Item = InMemElement>,
) -> Vec<u8> {
    let obj = InMemDicomObject::from_element_iter(
        [
            DataElement::new(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, sop),
        ]
        .into_iter()
        .chain(elements),
    );
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(ts)
                .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.2")
                .media_storage_sop_instance_uid(sop),
        )
        .unwrap();
    let mut out = Vec::new();
    file.write_all(&mut out).unwrap();
    out
}

/// Instance `sop` of patient `patient` in a study and series.
fn placed(sop: &str, patient: &str, study: &str, series: &str, ts: &str) -> Vec<u8> {
    part10(
        sop,
        ts,
        [
            DataElement::new(tags::PATIENT_ID, VR::LO, patient),
            DataElement::new(tags::STUDY_INSTANCE_UID, VR::UI, study),
            DataElement::new(tags::SERIES_INSTANCE_UID, VR::UI, series),
        ],
    )
}

fn dicom(sop: &str, study: &str, series: &str, ts: &str) -> Vec<u8> {
    placed(sop, "P1", study, series, ts)
}

pub(crate) fn multipart(ct: &str, parts: &[(&str, Vec<u8>)]) -> Exchange {
    let headers: Vec<[(&str, &str); 1]> =
        parts.iter().map(|(t, _)| [("Content-Type", *t)]).collect();
    let specs: Vec<crate::transport::multipart::PartSpec<'_>> = headers
        .iter()
        .zip(parts)
        .map(|(h, (_, b))| (&h[..], b.as_slice()))
        .collect();
    let body = build_body(B, &specs);
    Exchange::synthetic(
        "http://sut/studies/1.2.3",
        &[],
        200,
        &[("Content-Type", ct)],
        &body,
    )
}

pub(crate) const MP: &str = "multipart/related; type=\"application/dicom\"; boundary=b0undary";

fn two_instances(ts: &str) -> Exchange {
    multipart(
        MP,
        &[
            ("application/dicom", dicom("1.1", STUDY, SERIES, ts)),
            ("application/dicom", dicom("1.2", STUDY, SERIES, ts)),
        ],
    )
}

fn run(id: &str, ex: &Exchange, expect: &Expect) -> Outcome {
    run_with(id, ex, expect, &[])
}

fn run_with(id: &str, ex: &Exchange, expect: &Expect, followups: &[Exchange]) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
    let f = evaluate(
        check,
        &Subject {
            exchange: ex,
            expect,
            strict: true,
            followups,
        },
    );
    f.outcome
}

fn target_study() -> Expect {
    Expect {
        target: Some(Target {
            study: STUDY.into(),
            series: None,
            instance: None,
        }),
        instances: Some(BTreeSet::from(["1.1".to_string(), "1.2".to_string()])),
        status: vec![200],
        ..Expect::default()
    }
}

#[test]
fn dw01_structure() {
    let e = Expect::default();
    assert_eq!(
        run("DW-01", &two_instances(EXPLICIT_VR_LE), &e),
        Outcome::Pass
    );
    // no type parameter
    let mut ex = two_instances(EXPLICIT_VR_LE);
    ex.response.as_mut().unwrap().headers = vec![(
        "Content-Type".into(),
        "multipart/related; boundary=b0undary".into(),
    )];
    assert_eq!(run("DW-01", &ex, &e), Outcome::Fail);
    // truncated: no close delimiter
    let full = two_instances(EXPLICIT_VR_LE);
    let body = full.response.unwrap().body.kept;
    let cut = &body[..body.len() - 20];
    let ex = Exchange::synthetic("http://sut/x", &[], 200, &[("Content-Type", MP)], cut);
    assert_eq!(run("DW-01", &ex, &e), Outcome::Fail);
    // not multipart at all
    let ex = Exchange::synthetic(
        "http://sut/x",
        &[],
        200,
        &[("Content-Type", "application/dicom")],
        b"x",
    );
    assert_eq!(run("DW-01", &ex, &e), Outcome::Fail);
    // wrong boundary: nothing parses
    let ex = Exchange::synthetic(
        "http://sut/x",
        &[],
        200,
        &[(
            "Content-Type",
            "multipart/related; type=\"application/dicom\"; boundary=other",
        )],
        &body,
    );
    assert_eq!(run("DW-01", &ex, &e), Outcome::Fail);
    // an error status is not judged here
    let ex = Exchange::synthetic("http://sut/x", &[], 404, &[], b"");
    assert_eq!(run("DW-01", &ex, &e), Outcome::NotApplicable);
}

#[test]
fn dw02_part_types() {
    let e = Expect::default();
    assert_eq!(
        run("DW-02", &two_instances(EXPLICIT_VR_LE), &e),
        Outcome::Pass
    );
    let ex = multipart(
        MP,
        &[(
            "application/octet-stream",
            dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
        )],
    );
    assert_eq!(run("DW-02", &ex, &e), Outcome::Fail);
    let ok_ts = multipart(
        MP,
        &[(
            "application/dicom; transfer-syntax=1.2.840.10008.1.2.1",
            dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
        )],
    );
    assert_eq!(run("DW-02", &ok_ts, &e), Outcome::Pass);
}

#[test]
fn dw03_transfer_syntax() {
    let default = Expect::default();
    assert_eq!(
        run("DW-03", &two_instances(EXPLICIT_VR_LE), &default),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-03", &two_instances(IMPLICIT_VR_LE), &default),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-03", &two_instances("1.2.840.10008.1.2.4.70"), &default),
        Outcome::Fail
    );
    let any = Expect {
        requested_ts: Some("*".into()),
        ..Expect::default()
    };
    assert_eq!(
        run("DW-03", &two_instances("1.2.840.10008.1.2.4.70"), &any),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-03", &two_instances(IMPLICIT_VR_LE), &any),
        Outcome::Fail
    );
    let jpeg = Expect {
        requested_ts: Some("1.2.840.10008.1.2.4.50".into()),
        ..Expect::default()
    };
    assert_eq!(
        run("DW-03", &two_instances(EXPLICIT_VR_LE), &jpeg),
        Outcome::Fail
    );
    // a part labelled with a transfer syntax other than its own
    let mislabelled = multipart(
        MP,
        &[(
            "application/dicom; transfer-syntax=1.2.840.10008.1.2.4.70",
            dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
        )],
    );
    assert_eq!(run("DW-03", &mislabelled, &default), Outcome::Fail);
    // Stored in JPEG Baseline: without a Transfer Syntax parameter the server may answer the
    // lossy form it holds (§8.7.3); an instance it holds losslessly must come in the default.
    let jpeg_baseline = "1.2.840.10008.1.2.4.50";
    let lossy_stored = Expect {
        lossy_instances: BTreeSet::from(["1.1".to_string(), "1.2".to_string()]),
        ..Expect::default()
    };
    assert_eq!(
        run("DW-03", &two_instances(jpeg_baseline), &lossy_stored),
        Outcome::Pass
    );
    let one_lossy = Expect {
        lossy_instances: BTreeSet::from(["1.1".to_string()]),
        ..Expect::default()
    };
    assert_eq!(
        run("DW-03", &two_instances(jpeg_baseline), &one_lossy),
        Outcome::Fail
    );
    // ...and never in Implicit VR Little Endian.
    assert_eq!(
        run("DW-03", &two_instances(IMPLICIT_VR_LE), &lossy_stored),
        Outcome::Fail
    );
}

#[test]
fn dw04_status_and_completeness() {
    let e = target_study();
    assert_eq!(
        run("DW-04", &two_instances(EXPLICIT_VR_LE), &e),
        Outcome::Pass
    );
    let one = multipart(
        MP,
        &[(
            "application/dicom",
            dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
        )],
    );
    assert_eq!(
        run("DW-04", &one, &e),
        Outcome::Fail,
        "200 with a missing instance"
    );
    let not_found = Expect {
        status: vec![404],
        ..Expect::default()
    };
    let ex500 = Exchange::synthetic("http://sut/studies/9", &[], 500, &[], b"oops");
    assert_eq!(run("DW-04", &ex500, &not_found), Outcome::Fail);
    let ex404 = Exchange::synthetic("http://sut/studies/9", &[], 404, &[], b"");
    assert_eq!(run("DW-04", &ex404, &not_found), Outcome::Pass);
}

#[test]
fn dw05_json_model() {
    let e = Expect::default();
    let good = br#"[{"00080018":{"vr":"UI","Value":["1.1"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]}}]"#;
    let ex = Exchange::synthetic(
        "http://sut/m",
        &[],
        200,
        &[("Content-Type", "application/dicom+json")],
        good,
    );
    assert_eq!(run("DW-05", &ex, &e), Outcome::Pass);
    let lower = br#"[{"0020000d":{"vr":"UI","Value":["1.1"]}}]"#;
    let ex = Exchange::synthetic(
        "http://sut/m",
        &[],
        200,
        &[("Content-Type", "application/dicom+json")],
        lower,
    );
    assert_eq!(run("DW-05", &ex, &e), Outcome::Fail);
    let unsorted = br#"[{"00100010":{"vr":"PN"},"00080018":{"vr":"UI","Value":["1.1"]}}]"#;
    let ex = Exchange::synthetic("http://sut/m", &[], 200, &[], unsorted);
    assert_eq!(run("DW-05", &ex, &e), Outcome::Fail);
    let ex = Exchange::synthetic("http://sut/m", &[], 200, &[], b"{not json");
    assert_eq!(run("DW-05", &ex, &e), Outcome::Fail);
}

#[test]
fn dw06_bulkdata() {
    let e = Expect::default();
    let meta = Exchange::synthetic("http://sut/m", &[], 200, &[], b"[]");
    let ok = Exchange::synthetic(
        "http://sut/bulk",
        &[],
        200,
        &[(
            "Content-Type",
            "multipart/related; type=\"application/octet-stream\"; boundary=b0undary",
        )],
        &build_body(
            B,
            &[(&[("Content-Type", "application/octet-stream")], b"pixels")],
        ),
    );
    assert_eq!(
        run_with("DW-06", &meta, &e, std::slice::from_ref(&ok)),
        Outcome::Pass
    );
    let missing = Exchange::synthetic("http://sut/bulk", &[], 404, &[], b"");
    assert_eq!(run_with("DW-06", &meta, &e, &[missing]), Outcome::Fail);
    let html = Exchange::synthetic(
        "http://sut/bulk",
        &[],
        200,
        &[("Content-Type", "text/html")],
        b"<p>",
    );
    assert_eq!(run_with("DW-06", &meta, &e, &[html]), Outcome::Fail);
    assert_eq!(run_with("DW-06", &meta, &e, &[]), Outcome::NotApplicable);
}

fn study_result(drop: Option<&str>) -> String {
    let attrs = [
        ("00080020", r#"{"vr":"DA","Value":["20260115"]}"#),
        ("00080030", r#"{"vr":"TM","Value":["093000"]}"#),
        ("00080050", r#"{"vr":"SH","Value":["ACC1"]}"#),
        ("00080061", r#"{"vr":"CS","Value":["CT"]}"#),
        ("00080090", r#"{"vr":"PN"}"#),
        (
            "00100010",
            r#"{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]}"#,
        ),
        ("00100020", r#"{"vr":"LO","Value":["CTH-0001"]}"#),
        ("00100030", r#"{"vr":"DA","Value":["19700101"]}"#),
        ("00100040", r#"{"vr":"CS","Value":["F"]}"#),
        ("0020000D", r#"{"vr":"UI","Value":["1.2.3"]}"#),
        ("00200010", r#"{"vr":"SH","Value":["S1"]}"#),
        ("00201206", r#"{"vr":"IS","Value":[3]}"#),
        ("00201208", r#"{"vr":"IS","Value":[42]}"#),
    ];
    let body: Vec<String> = attrs
        .iter()
        .filter(|(k, _)| Some(*k) != drop)
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn qido(results: &[String]) -> Exchange {
    let body = format!("[{}]", results.join(","));
    Exchange::synthetic(
        "http://sut/studies",
        &[],
        200,
        &[("Content-Type", "application/dicom+json")],
        body.as_bytes(),
    )
}

fn study_level() -> Expect {
    Expect {
        qido_level: Some(QidoLevel::Study),
        ..Expect::default()
    }
}

#[test]
fn dw26_results_describe_the_entity_they_name() {
    use crate::checks::dicomweb::KnownEntity;
    let known = |k: KnownEntity| -> std::collections::BTreeMap<String, KnownEntity> {
        [("1.2.3".to_string(), k)].into()
    };
    // Study level: the study_result fixture has CT, 3 series, 42 instances.
    let study = Expect {
        qido_known: known(KnownEntity {
            modalities: BTreeSet::from(["CT".to_string()]),
            related_series: Some(3),
            related_instances: Some(42),
            ..KnownEntity::default()
        }),
        ..study_level()
    };
    assert_eq!(
        run("DW-26", &qido(&[study_result(None)]), &study),
        Outcome::Pass
    );
    // More instances than stored (the SUT holds more of the study), counts as strings: pass.
    let more = study_result(None).replace(r#"[42]"#, r#"["43"]"#);
    assert_eq!(run("DW-26", &qido(&[more]), &study), Outcome::Pass);
    // Fewer instances, a missing modality: fail.
    let fewer = study_result(None).replace(r#"[42]"#, r#"[41]"#);
    assert_eq!(run("DW-26", &qido(&[fewer]), &study), Outcome::Fail);
    let no_ko = Expect {
        qido_known: known(KnownEntity {
            modalities: BTreeSet::from(["CT".to_string(), "KO".to_string()]),
            ..KnownEntity::default()
        }),
        ..study_level()
    };
    assert_eq!(
        run("DW-26", &qido(&[study_result(None)]), &no_ko),
        Outcome::Fail
    );
    // A result the harness does not know is not judged.
    assert_eq!(
        run("DW-26", &qido(&[with_uid("7.7")]), &study),
        Outcome::NotApplicable
    );
    // Series level: Modality and Series Number.
    let series_result = |modality: &str, number: &str| {
        format!(
            r#"{{"00080060":{{"vr":"CS","Value":["{modality}"]}},"0020000E":{{"vr":"UI","Value":["1.2.3"]}},"00200011":{{"vr":"IS","Value":[{number}]}},"00201209":{{"vr":"IS","Value":[5]}}}}"#
        )
    };
    let series = Expect {
        qido_level: Some(QidoLevel::Series),
        qido_known: known(KnownEntity {
            modalities: BTreeSet::from(["MR".to_string()]),
            series_number: Some(2),
            related_instances: Some(5),
            ..KnownEntity::default()
        }),
        ..Expect::default()
    };
    assert_eq!(
        run("DW-26", &qido(&[series_result("MR", "2")]), &series),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-26", &qido(&[series_result("MR", "\"2\"")]), &series),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-26", &qido(&[series_result("CT", "2")]), &series),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-26", &qido(&[series_result("MR", "3")]), &series),
        Outcome::Fail
    );
    // Instance level: SOP Class UID and Instance Number.
    let instance_result = |class: &str, number: u32| {
        format!(
            r#"{{"00080016":{{"vr":"UI","Value":["{class}"]}},"00080018":{{"vr":"UI","Value":["1.2.3"]}},"00200013":{{"vr":"IS","Value":[{number}]}}}}"#
        )
    };
    let instance = Expect {
        qido_level: Some(QidoLevel::Instance),
        qido_known: known(KnownEntity {
            sop_class: Some("1.2.840.10008.5.1.4.1.1.2".into()),
            instance_number: Some(7),
            ..KnownEntity::default()
        }),
        ..Expect::default()
    };
    assert_eq!(
        run(
            "DW-26",
            &qido(&[instance_result("1.2.840.10008.5.1.4.1.1.2", 7)]),
            &instance
        ),
        Outcome::Pass
    );
    assert_eq!(
        run(
            "DW-26",
            &qido(&[instance_result("1.2.840.10008.5.1.4.1.1.4", 7)]),
            &instance
        ),
        Outcome::Fail
    );
    assert_eq!(
        run(
            "DW-26",
            &qido(&[instance_result("1.2.840.10008.5.1.4.1.1.2", 8)]),
            &instance
        ),
        Outcome::Fail
    );
}

#[test]
fn dw07_required_attributes() {
    let e = study_level();
    assert_eq!(
        run("DW-07", &qido(&[study_result(None)]), &e),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-07", &qido(&[study_result(Some("00100030"))]), &e),
        Outcome::Fail
    );
    // An optional attribute asked with includefield (Study Description) is returned only if the
    // origin server supports it (§10.6.3.3.1): its absence passes; a required one's still fails.
    let inc = Expect {
        includefield: vec![0x0008_1030],
        ..study_level()
    };
    assert_eq!(
        run("DW-07", &qido(&[study_result(None)]), &inc),
        Outcome::Pass
    );
    let inc_required = Expect {
        includefield: vec![0x0010_0030],
        ..study_level()
    };
    assert_eq!(
        run(
            "DW-07",
            &qido(&[study_result(Some("00100030"))]),
            &inc_required
        ),
        Outcome::Fail
    );
}

fn with_uid(uid: &str) -> String {
    study_result(None).replace("\"1.2.3\"", &format!("\"{uid}\""))
}

#[test]
fn dw08_paging() {
    let unpaged: Vec<String> = vec!["1.1".into(), "1.2".into(), "1.3".into()];
    let e = Expect {
        limit: Some(1),
        offset: Some(1),
        unpaged: Some(unpaged),
        ..study_level()
    };
    assert_eq!(run("DW-08", &qido(&[with_uid("1.2")]), &e), Outcome::Pass);
    assert_eq!(run("DW-08", &qido(&[with_uid("1.1")]), &e), Outcome::Fail);
    assert_eq!(
        run("DW-08", &qido(&[with_uid("1.2"), with_uid("1.3")]), &e),
        Outcome::Fail
    );
}

#[test]
fn dw09_truncation() {
    let known = BTreeSet::from(["1.1".to_string(), "1.2".to_string()]);
    let e = Expect {
        known_matches: Some(known),
        ..study_level()
    };
    assert_eq!(
        run("DW-09", &qido(&[with_uid("1.1"), with_uid("1.2")]), &e),
        Outcome::Pass
    );
    assert_eq!(run("DW-09", &qido(&[with_uid("1.1")]), &e), Outcome::Fail);
    let mut warned = qido(&[with_uid("1.1")]);
    warned
        .response
        .as_mut()
        .unwrap()
        .headers
        .push(("Warning".into(), "299 sut \"results truncated\"".into()));
    assert_eq!(run("DW-09", &warned, &e), Outcome::Pass);
}

fn stow(status: u16, referenced: &[&str], failed: &[(&str, Option<u16>)]) -> Exchange {
    let refs: Vec<String> = referenced
        .iter()
        .map(|s| format!(r#"{{"00081150":{{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.2"]}},"00081155":{{"vr":"UI","Value":["{s}"]}}}}"#))
        .collect();
    let fails: Vec<String> = failed
        .iter()
        .map(|(s, r)| match r {
            Some(code) => format!(r#"{{"00081155":{{"vr":"UI","Value":["{s}"]}},"00081197":{{"vr":"US","Value":[{code}]}}}}"#),
            None => format!(r#"{{"00081155":{{"vr":"UI","Value":["{s}"]}}}}"#),
        })
        .collect();
    let mut members = Vec::new();
    if !fails.is_empty() {
        members.push(format!(
            r#""00081198":{{"vr":"SQ","Value":[{}]}}"#,
            fails.join(",")
        ));
    }
    if !refs.is_empty() {
        members.push(format!(
            r#""00081199":{{"vr":"SQ","Value":[{}]}}"#,
            refs.join(",")
        ));
    }
    stow_with(status, &format!("{{{}}}", members.join(",")))
}

#[test]
fn dw10_stow_status() {
    let e = Expect::default();
    assert_eq!(run("DW-10", &stow(200, &["1.1"], &[]), &e), Outcome::Pass);
    assert_eq!(
        run("DW-10", &stow(200, &["1.1"], &[("1.2", Some(0xC000))]), &e),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-10", &stow(202, &["1.1"], &[("1.2", Some(0xC000))]), &e),
        Outcome::Pass
    );
    assert_eq!(run("DW-10", &stow(202, &["1.1"], &[]), &e), Outcome::Fail);
    assert_eq!(
        run("DW-10", &stow(409, &[], &[("1.2", Some(0xC000))]), &e),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-10", &stow(409, &["1.1"], &[("1.2", Some(0xC000))]), &e),
        Outcome::Fail
    );
    let want409 = Expect {
        status: vec![409],
        ..Expect::default()
    };
    assert_eq!(
        run("DW-10", &stow(200, &["1.1"], &[]), &want409),
        Outcome::Fail
    );
}

#[test]
fn dw11_stow_reasons() {
    let e = Expect::default();
    assert_eq!(
        run("DW-11", &stow(202, &["1.1"], &[("1.2", Some(0xA900))]), &e),
        Outcome::Pass
    );
    // A duplicate refused with 0111 (Duplicate SOP Instance) has a known reason.
    assert_eq!(
        run("DW-11", &stow(409, &[], &[("1.2", Some(0x0111))]), &e),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-11", &stow(202, &["1.1"], &[("1.2", None)]), &e),
        Outcome::Fail
    );
    // Codes outside Table I.2-2 are allowed (PS3.18 §I.2.2: implementation-specific codes, in
    // the conformance statement): 0117 Invalid SOP Instance, a vendor's D123.
    for code in [0x0117, 0xD123, 0x1234] {
        assert_eq!(
            run("DW-11", &stow(202, &["1.1"], &[("1.2", Some(code))]), &e),
            Outcome::Pass,
            "{code:04X}"
        );
    }
    // A Failure Reason whose status class is not a failure contradicts its item.
    for code in [0x0000, 0xB000, 0x0001, 0xFF00] {
        assert_eq!(
            run("DW-11", &stow(202, &["1.1"], &[("1.2", Some(code))]), &e),
            Outcome::Fail,
            "{code:04X}"
        );
    }
    assert_eq!(
        run("DW-11", &stow(200, &["1.1"], &[]), &e),
        Outcome::NotApplicable
    );
}

#[test]
fn dw11_warning_reasons() {
    let e = Expect::default();
    let warned = |code: u16| {
        stow_with(
            202,
            &format!(
                r#"{{"00081199":{{"vr":"SQ","Value":[{{"00081155":{{"vr":"UI","Value":["1.1"]}},"00081196":{{"vr":"US","Value":[{code}]}}}}]}}}}"#
            ),
        )
    };
    // B000 Coercion of Data Elements, and an implementation-specific warning code.
    assert_eq!(run("DW-11", &warned(0xB000), &e), Outcome::Pass);
    assert_eq!(run("DW-11", &warned(0xB123), &e), Outcome::Pass);
    // A Warning Reason of Success or of a failure class says the opposite of a warning.
    assert_eq!(run("DW-11", &warned(0x0000), &e), Outcome::Fail);
    assert_eq!(run("DW-11", &warned(0xC000), &e), Outcome::Fail);
    assert_eq!(run("DW-11", &warned(0xA700), &e), Outcome::Fail);
}

#[test]
fn dw12_study_mismatch() {
    let e = Expect {
        stow_url_study: Some("9.9".into()),
        stow_sent: vec![sent("1.1", "9.9"), sent("1.2", "8.8")],
        ..Expect::default()
    };
    assert_eq!(
        run("DW-12", &stow(202, &["1.1"], &[("1.2", Some(0xA900))]), &e),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-12", &stow(200, &["1.1", "1.2"], &[]), &e),
        Outcome::Fail
    );
    assert_eq!(run("DW-12", &stow(202, &["1.1"], &[]), &e), Outcome::Fail);
    let only_foreign = Expect {
        stow_sent: e.stow_sent[1..].to_vec(),
        ..e.clone()
    };
    assert_eq!(
        run(
            "DW-12",
            &stow(200, &[], &[("1.2", Some(0xA900))]),
            &only_foreign
        ),
        Outcome::Fail
    );
    assert_eq!(
        run(
            "DW-12",
            &stow(409, &[], &[("1.2", Some(0xA900))]),
            &only_foreign
        ),
        Outcome::Pass
    );
    // A 409 without a payload stored nothing: the foreign instance is not stored (the payload
    // that would list it is optional, Table 10.5.3-1), for the request of foreign instances
    // alone as for a mixed one; a 200 without one is still a Fail.
    for expect in [&only_foreign, &e] {
        assert_eq!(
            run("DW-12", &stow_without_payload(409), expect),
            Outcome::Pass
        );
    }
    assert_eq!(
        run("DW-12", &stow_without_payload(200), &only_foreign),
        Outcome::Fail
    );
}

/// A STOW-RS answer with an empty body (a refusal that lists nothing).
fn stow_without_payload(status: u16) -> Exchange {
    let mut ex = Exchange::synthetic("http://sut/studies/9.9", &[], status, &[], b"");
    ex.request.method = "POST".into();
    ex
}

#[test]
fn dw10_a_refusal_without_payload_agrees_with_its_status() {
    let e = Expect {
        status: vec![409],
        ..Expect::default()
    };
    assert_eq!(run("DW-10", &stow_without_payload(409), &e), Outcome::Pass);
    // The same answer where 202 was expected, and a 200 or 202 without a payload, fail.
    let mixed = Expect {
        status: vec![202],
        ..Expect::default()
    };
    assert_eq!(
        run("DW-10", &stow_without_payload(409), &mixed),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-10", &stow_without_payload(200), &Expect::default()),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-10", &stow_without_payload(202), &Expect::default()),
        Outcome::Fail
    );
    // An error JSON of the server's own (not a Store Instances Response) is no payload either.
    let own_error = stow_with(409, r#"[{"error":"conflict"},{"error":"again"}]"#);
    assert_eq!(run("DW-10", &own_error, &e), Outcome::Pass);
}

#[test]
fn dw17_parts_are_dicom() {
    let e = Expect::default();
    assert_eq!(
        run("DW-17", &two_instances(EXPLICIT_VR_LE), &e),
        Outcome::Pass
    );
    let ex = multipart(
        MP,
        &[
            (
                "application/dicom",
                dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
            ),
            ("application/dicom", b"%PDF-1.4 not dicom".to_vec()),
        ],
    );
    assert_eq!(run("DW-17", &ex, &e), Outcome::Fail);
}

#[test]
fn dw18_target_membership() {
    let e = target_study();
    assert_eq!(
        run("DW-18", &two_instances(EXPLICIT_VR_LE), &e),
        Outcome::Pass
    );
    let foreign = multipart(
        MP,
        &[(
            "application/dicom",
            dicom("1.1", "7.7.7", SERIES, EXPLICIT_VR_LE),
        )],
    );
    assert_eq!(run("DW-18", &foreign, &e), Outcome::Fail);
    // An instance the harness did not store, whose UIDs place it in the target study: an object
    // the server holds there of its own (PS3.18 §10.4.1: the study is all it holds of it).
    let extra = multipart(
        MP,
        &[(
            "application/dicom",
            dicom("1.9", STUDY, SERIES, EXPLICIT_VR_LE),
        )],
    );
    assert_eq!(run("DW-18", &extra, &e), Outcome::Pass);
    // One that names no Study Instance UID is judged by the instances the harness knows.
    let unplaced = multipart(
        MP,
        &[("application/dicom", part10("1.9", EXPLICIT_VR_LE, []))],
    );
    assert_eq!(run("DW-18", &unplaced, &e), Outcome::Fail);
}

#[test]
fn dw19_matching() {
    let e = Expect {
        query: vec![
            ("PatientName".into(), "doe*".into()),
            ("StudyDate".into(), "20260101-20260131".into()),
        ],
        ..study_level()
    };
    assert_eq!(
        run("DW-19", &qido(&[study_result(None)]), &e),
        Outcome::Pass
    );
    let other = study_result(None).replace("Doe^Jane", "Roe^Richard");
    assert_eq!(run("DW-19", &qido(&[other]), &e), Outcome::Fail);
    let late = study_result(None).replace("20260115", "20260301");
    assert_eq!(run("DW-19", &qido(&[late]), &e), Outcome::Fail);
    let uid_list = Expect {
        query: vec![("StudyInstanceUID".into(), "1.2.3,4.5.6".into())],
        ..study_level()
    };
    assert_eq!(
        run("DW-19", &qido(&[study_result(None)]), &uid_list),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-19", &qido(&[with_uid("7.7")]), &uid_list),
        Outcome::Fail
    );
    // A matching key the origin server does not support (Study Description is optional) may be
    // missing from a result; a required one (Patient's Name) may not.
    let optional_key = Expect {
        query: vec![("StudyDescription".into(), "Chest*".into())],
        ..study_level()
    };
    assert_eq!(
        run("DW-19", &qido(&[study_result(None)]), &optional_key),
        Outcome::Pass
    );
    let no_name = study_result(Some("00100010"));
    assert_eq!(run("DW-19", &qido(&[no_name]), &e), Outcome::Fail);
}

#[test]
fn dw20_qido_status() {
    let e = Expect {
        status: vec![200],
        ..study_level()
    };
    assert_eq!(run("DW-20", &qido(&[]), &e), Outcome::Pass);
    let html = Exchange::synthetic(
        "http://sut/studies",
        &[],
        200,
        &[("Content-Type", "text/html")],
        b"<html>",
    );
    assert_eq!(run("DW-20", &html, &e), Outcome::Fail);
    let err = Exchange::synthetic("http://sut/studies", &[], 500, &[], b"");
    assert_eq!(run("DW-20", &err, &e), Outcome::Fail);
}

#[test]
fn dw14_four_message_pairs() {
    let e = Expect::default();
    let op = |name: &str, status: u16| {
        let mut ex = Exchange::synthetic("http://sut/x", &[], status, &[], b"");
        ex.operation = name.into();
        ex
    };
    let first = op("Retrieve Instance", 200);
    let rest = [
        op("Retrieve Instance Metadata", 200),
        op("Retrieve Bulkdata", 200),
        op("Retrieve Rendered Instance", 200),
    ];
    assert_eq!(run_with("DW-14", &first, &e, &rest), Outcome::Pass);
    let no_rendered = [
        rest[0].clone(),
        rest[1].clone(),
        op("Retrieve Rendered Instance", 404),
    ];
    assert_eq!(run_with("DW-14", &first, &e, &no_rendered), Outcome::Fail);
    assert_eq!(run_with("DW-14", &first, &e, &rest[..2]), Outcome::Fail);
    // Metadata with every value inline (PS3.18 §10.4.3.3.2: a BulkDataURI is permitted, not
    // required) leaves no bulk data to get; metadata that gives one does not.
    let metadata = |body: &str| {
        let mut ex = Exchange::synthetic(
            "http://sut/x/metadata",
            &[],
            200,
            &[("Content-Type", "application/dicom+json")],
            body.as_bytes(),
        );
        ex.operation = "Retrieve Instance Metadata".into();
        ex
    };
    let rendered = op("Retrieve Rendered Instance", 200);
    let inline = metadata(r#"[{"7FE00010":{"vr":"OW","InlineBinary":"AAA="}}]"#);
    assert_eq!(
        run_with("DW-14", &first, &e, &[inline, rendered.clone()]),
        Outcome::Pass
    );
    let with_uri = metadata(r#"[{"7FE00010":{"vr":"OW","BulkDataURI":"http://sut/b/1"}}]"#);
    assert_eq!(
        run_with("DW-14", &first, &e, &[with_uri, rendered]),
        Outcome::Fail
    );
}

#[test]
fn dw13_capabilities() {
    let e = Expect::default();
    let wadl =
        br#"<application xmlns="http://wadl.dev.java.net/2009/02"><resources/></application>"#;
    let ok = Exchange::synthetic(
        "http://sut/dicom-web",
        &[],
        200,
        &[("Content-Type", "application/vnd.sun.wadl+xml")],
        wadl,
    );
    assert_eq!(run("DW-13", &ok, &e), Outcome::Pass);
    let missing = Exchange::synthetic("http://sut/dicom-web", &[], 404, &[], b"");
    assert_eq!(run("DW-13", &missing, &e), Outcome::Fail);
    let html = Exchange::synthetic(
        "http://sut/dicom-web",
        &[],
        200,
        &[],
        b"<html><body>hi</body></html>",
    );
    assert_eq!(run("DW-13", &html, &e), Outcome::Fail);
    let bomb = Exchange::synthetic(
        "http://sut/dicom-web",
        &[],
        200,
        &[],
        br#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><application xmlns="http://wadl.dev.java.net/2009/02">&x;</application>"#,
    );
    assert_eq!(run("DW-13", &bomb, &e), Outcome::Fail);
}

#[test]
fn dw21_rendered() {
    let e = Expect::default();
    let png = Exchange::synthetic(
        "http://sut/rendered",
        &[("Accept", "image/png")],
        200,
        &[("Content-Type", "image/png")],
        &png_of(16, 16, 8),
    );
    assert_eq!(run("DW-21", &png, &e), Outcome::Pass);
    let fake = Exchange::synthetic(
        "http://sut/rendered",
        &[("Accept", "image/png")],
        200,
        &[("Content-Type", "image/png")],
        b"this is not an image",
    );
    assert_eq!(run("DW-21", &fake, &e), Outcome::Fail);
    let wrong_type = Exchange::synthetic(
        "http://sut/rendered",
        &[("Accept", "image/png")],
        200,
        &[("Content-Type", "image/jpeg")],
        &[0xFF, 0xD8, 0xFF, 0xE0],
    );
    assert_eq!(run("DW-21", &wrong_type, &e), Outcome::Fail);
}

fn dicom_of_patient(sop: &str, patient: &str) -> Vec<u8> {
    placed(sop, patient, STUDY, SERIES, EXPLICIT_VR_LE)
}

#[test]
fn dw18_patient_and_duplicates() {
    let e = Expect {
        patient_id: Some("P1".into()),
        stored_by_harness: true,
        ..target_study()
    };
    assert_eq!(
        run("DW-18", &two_instances(EXPLICIT_VR_LE), &e),
        Outcome::Pass
    );
    let other_patient = multipart(MP, &[("application/dicom", dicom_of_patient("1.1", "P2"))]);
    assert_eq!(run("DW-18", &other_patient, &e), Outcome::Fail);
    // A coercion the SUT recorded (its metadata of the instance has an Original Attributes
    // Sequence with the prior Patient ID) is allowed: PS3.4 §B.4.1.3, PS3.18 §10.5.3.
    let recorded = Expect {
        patient_coercion_recorded: BTreeSet::from(["1.1".to_string()]),
        ..e.clone()
    };
    assert_eq!(run("DW-18", &other_patient, &recorded), Outcome::Pass);
    // Objects the harness did not store (preloaded): a change made outside the transfer may go
    // unrecorded (PS3.3 §C.12.1.1.9), so it is not judged.
    let preloaded = Expect {
        stored_by_harness: false,
        ..e.clone()
    };
    assert_eq!(run("DW-18", &other_patient, &preloaded), Outcome::Pass);
    // ...unless the SUT contradicts itself: its metadata of the instance gives another Patient
    // ID than the instance it sends (in either mode); agreeing metadata passes in preloaded mode.
    let metadata_says = |pid: &str| Expect {
        metadata_patient_ids: [("1.1".to_string(), pid.to_string())].into(),
        ..preloaded.clone()
    };
    assert_eq!(
        run("DW-18", &other_patient, &metadata_says("P1")),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-18", &other_patient, &metadata_says("P2")),
        Outcome::Pass
    );
    let twice = multipart(
        MP,
        &[
            (
                "application/dicom",
                dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
            ),
            (
                "application/dicom",
                dicom("1.1", STUDY, SERIES, EXPLICIT_VR_LE),
            ),
        ],
    );
    assert_eq!(run("DW-18", &twice, &e), Outcome::Fail);
}

fn metadata(items: &[(&str, &str, &str)]) -> Exchange {
    let ds: Vec<String> = items
        .iter()
        .map(|(sop, study, patient)| {
            format!(
                r#"{{"00080018":{{"vr":"UI","Value":["{sop}"]}},"00100020":{{"vr":"LO","Value":["{patient}"]}},"0020000D":{{"vr":"UI","Value":["{study}"]}},"0020000E":{{"vr":"UI","Value":["{SERIES}"]}}}}"#
            )
        })
        .collect();
    Exchange::synthetic(
        "http://sut/studies/1.2.3/metadata",
        &[],
        200,
        &[("Content-Type", "application/dicom+json")],
        format!("[{}]", ds.join(",")).as_bytes(),
    )
}

#[test]
fn dw22_metadata_target() {
    let e = Expect {
        patient_id: Some("P1".into()),
        stored_by_harness: true,
        ..target_study()
    };
    let ok = metadata(&[("1.1", STUDY, "P1"), ("1.2", STUDY, "P1")]);
    assert_eq!(run("DW-22", &ok, &e), Outcome::Pass);
    // Another study named, one missing, another patient, twice: fail. One instance more, of
    // the target study (an object the server holds there of its own): pass.
    let other_study = metadata(&[("1.1", "9.9", "P1"), ("1.2", "9.9", "P1")]);
    assert_eq!(run("DW-22", &other_study, &e), Outcome::Fail);
    let extra = metadata(&[
        ("1.1", STUDY, "P1"),
        ("1.2", STUDY, "P1"),
        ("1.3", STUDY, "P1"),
    ]);
    assert_eq!(run("DW-22", &extra, &e), Outcome::Pass);
    let missing = metadata(&[("1.1", STUDY, "P1")]);
    assert_eq!(run("DW-22", &missing, &e), Outcome::Fail);
    let patient = metadata(&[("1.1", STUDY, "P1"), ("1.2", STUDY, "P2")]);
    assert_eq!(run("DW-22", &patient, &e), Outcome::Fail);
    let twice = metadata(&[
        ("1.1", STUDY, "P1"),
        ("1.1", STUDY, "P1"),
        ("1.2", STUDY, "P1"),
    ]);
    assert_eq!(run("DW-22", &twice, &e), Outcome::Fail);
    let not_found = Exchange::synthetic("http://sut/m", &[], 404, &[], b"");
    assert_eq!(run("DW-22", &not_found, &e), Outcome::NotApplicable);
}

#[test]
fn dw22_a_recorded_patient_id_coercion_is_allowed() {
    let e = Expect {
        patient_id: Some("P1".into()),
        stored_by_harness: true,
        ..target_study()
    };
    // P2 in place of P1 with the prior value in Original Attributes Sequence > Modified
    // Attributes Sequence (PS3.3 §C.12.1.1.9): a coercion the SUT recorded.
    let coerced = |original: &str| {
        format!(
            r#"{{"00080018":{{"vr":"UI","Value":["1.2"]}},"00100020":{{"vr":"LO","Value":["P2"]}},"0020000D":{{"vr":"UI","Value":["{STUDY}"]}},"04000561":{{"vr":"SQ","Value":[{{"04000550":{{"vr":"SQ","Value":[{original}]}},"04000563":{{"vr":"LO","Value":["PACS"]}}}}]}}}}"#
        )
    };
    let body = |second: String| {
        let first = r#"{"00080018":{"vr":"UI","Value":["1.1"]},"00100020":{"vr":"LO","Value":["P1"]},"0020000D":{"vr":"UI","Value":["1.2.3"]}}"#;
        Exchange::synthetic(
            "http://sut/studies/1.2.3/metadata",
            &[],
            200,
            &[("Content-Type", "application/dicom+json")],
            format!("[{first},{second}]").as_bytes(),
        )
    };
    let recorded = body(coerced(r#"{"00100020":{"vr":"LO","Value":["P1"]}}"#));
    assert_eq!(run("DW-22", &recorded, &e), Outcome::Pass);
    // An Original Attributes Sequence that records another attribute, not the Patient ID.
    let unrelated = body(coerced(
        r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"X"}]}}"#,
    ));
    assert_eq!(run("DW-22", &unrelated, &e), Outcome::Fail);
    // Without the record, in preloaded mode: not judged.
    let preloaded = Expect {
        stored_by_harness: false,
        ..e.clone()
    };
    assert_eq!(run("DW-22", &unrelated, &preloaded), Outcome::Pass);
}

fn frames_labelled(content_type: &str, parts: &[&[u8]]) -> Exchange {
    let header = [("Content-Type", content_type)];
    let specs: Vec<crate::transport::multipart::PartSpec<'_>> =
        parts.iter().map(|b| (&header[..], *b)).collect();
    let body = build_body(B, &specs);
    Exchange::synthetic(
        "http://sut/studies/1.2.3/series/1.2.3.4/instances/1.1/frames/1,3",
        &[],
        200,
        &[(
            "Content-Type",
            "multipart/related; type=\"application/octet-stream\"; boundary=b0undary",
        )],
        &body,
    )
}

fn frames(parts: &[&[u8]]) -> Exchange {
    let specs: Vec<crate::transport::multipart::PartSpec<'_>> = parts
        .iter()
        .map(|b| {
            (
                &[(
                    "Content-Type",
                    "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1",
                )][..],
                *b,
            )
        })
        .collect();
    Exchange::synthetic(
        "http://sut/frames/1,3",
        &[],
        200,
        &[(
            "Content-Type",
            "multipart/related; type=\"application/octet-stream\"; boundary=b0undary",
        )],
        &build_body(B, &specs),
    )
}

fn frame_expect(number: u32, bytes: &[u8], exact: bool) -> crate::checks::FrameExpect {
    crate::checks::FrameExpect {
        number,
        size: bytes.len() as u64,
        blake3: crate::transport::digest::identity_hex(bytes),
        exact,
    }
}

#[test]
fn dw23_frames() {
    let (f1, f3, f2) = (b"frame-1!", b"frame-3!", b"frame-2!");
    let lossy = Expect {
        frames: vec![frame_expect(1, f1, false), frame_expect(3, f3, false)],
        ..Expect::default()
    };
    // Lossy fixture: other decoded bytes are fine, but two distinct frames must differ.
    assert_eq!(
        run("DW-23", &frames(&[b"decoded1", b"decoded3"]), &lossy),
        Outcome::Pass
    );
    assert_eq!(run("DW-23", &frames(&[f1, f1]), &lossy), Outcome::Fail);
    assert_eq!(run("DW-23", &frames(&[f1]), &lossy), Outcome::Fail);
    // Frames of a lossy fixture may come as the stored lossy compressed frames, of sizes of
    // their own, even unlabelled (§8.7.3: the default "unless the origin server has only access
    // to the pixel data in lossy compressed form").
    assert_eq!(
        run("DW-23", &frames(&[f1, b"short"]), &lossy),
        Outcome::Pass
    );
    // Lossless fixture: the bytes themselves, all of one size.
    let exact = Expect {
        frames: vec![frame_expect(1, f1, true), frame_expect(3, f3, true)],
        ..Expect::default()
    };
    assert_eq!(run("DW-23", &frames(&[f1, f3]), &exact), Outcome::Pass);
    assert_eq!(run("DW-23", &frames(&[f1, f2]), &exact), Outcome::Fail);
    assert_eq!(
        run("DW-23", &frames(&[f1, b"short"]), &exact),
        Outcome::Fail
    );
    // A frame of an instance held losslessly, sent compressed where no transfer syntax was asked
    // (the default is uncompressed, §8.7.3.3), fails; where the request allowed any, it passes
    // (its bytes cannot be compared); a lossy fixture may come compressed (§8.7.3).
    let compressed = frames_labelled(
        "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.70",
        &[b"jpeg-ll1", b"jpeg-ll3"],
    );
    assert_eq!(run("DW-23", &compressed, &exact), Outcome::Fail);
    let any = Expect {
        requested_ts: Some("*".into()),
        ..exact.clone()
    };
    assert_eq!(run("DW-23", &compressed, &any), Outcome::Pass);
    assert_eq!(run("DW-23", &compressed, &lossy), Outcome::Pass);
    assert_eq!(
        run("DW-23", &frames(&[f1]), &Expect::default()),
        Outcome::NotApplicable
    );
}

#[test]
fn dw19_resource_path() {
    let e = Expect {
        qido_path: Some((STUDY.into(), None)),
        ..study_level()
    };
    assert_eq!(
        run("DW-19", &qido(&[study_result(None)]), &e),
        Outcome::Pass
    );
    assert_eq!(run("DW-19", &qido(&[with_uid("7.7")]), &e), Outcome::Fail);
}

#[test]
fn dw08_fewer_with_warning() {
    let e = Expect {
        limit: Some(2),
        offset: Some(0),
        unpaged: Some(vec!["1.1".into(), "1.2".into(), "1.3".into()]),
        ..study_level()
    };
    let mut capped = qido(&[with_uid("1.1")]);
    assert_eq!(run("DW-08", &capped, &e), Outcome::Fail);
    capped.response.as_mut().unwrap().headers.push((
        "Warning".into(),
        "299 sut: There are 2 additional results that can be requested".into(),
    ));
    assert_eq!(run("DW-08", &capped, &e), Outcome::Pass);
}

#[test]
fn dw08_changed_matches_are_not_judged() {
    let e = Expect {
        limit: Some(1),
        offset: Some(1),
        unpaged: Some(vec!["1.1".into(), "1.2".into()]),
        unpaged_after: Some(vec!["1.1".into(), "1.15".into(), "1.2".into()]),
        ..study_level()
    };
    assert_eq!(
        run("DW-08", &qido(&[with_uid("1.15")]), &e),
        Outcome::NotApplicable
    );
}

fn with_warning(mut ex: Exchange, value: &str) -> Exchange {
    if let Some(r) = ex.response.as_mut() {
        r.headers.push(("Warning".into(), value.into()));
    }
    ex
}

#[test]
fn dw25_a_page_with_matches_after_it_carries_warning_299() {
    let page = |limit, offset| Expect {
        limit: Some(limit),
        offset: Some(offset),
        unpaged: Some(vec!["1.1".into(), "1.2".into(), "1.3".into()]),
        ..study_level()
    };
    // Cut by limit, two matches after the page: the Warning is required.
    let first = qido(&[with_uid("1.1")]);
    assert_eq!(run("DW-25", &first, &page(1, 0)), Outcome::Fail);
    let dicom_form = with_warning(
        first.clone(),
        "299 sut: There are 2 additional results that can be requested",
    );
    assert_eq!(run("DW-25", &dicom_form, &page(1, 0)), Outcome::Pass);
    // RFC 7234 form, after another warning in the same field, without a number: passes.
    let rfc_form = with_warning(
        first.clone(),
        "299 sut \"fuzzymatching, not supported\", 299 sut \"There are additional results\"",
    );
    assert_eq!(run("DW-25", &rfc_form, &page(1, 0)), Outcome::Pass);
    // Another warn-code, or a count below what remains, is not the warning asked for.
    let other_code = with_warning(first.clone(), "199 sut \"Miscellaneous warning\"");
    assert_eq!(run("DW-25", &other_code, &page(1, 0)), Outcome::Fail);
    let too_few = with_warning(
        first.clone(),
        "299 sut: There are 1 additional results that can be requested",
    );
    assert_eq!(run("DW-25", &too_few, &page(1, 0)), Outcome::Fail);
    // A page in the middle: one match after it.
    let middle = qido(&[with_uid("1.2")]);
    assert_eq!(run("DW-25", &middle, &page(1, 1)), Outcome::Fail);
    // The last page: nothing remains, nothing is judged.
    let last = qido(&[with_uid("1.2"), with_uid("1.3")]);
    assert_eq!(run("DW-25", &last, &page(2, 1)), Outcome::NotApplicable);
    // Changed matches and unpaged queries are not judged.
    let changed = Expect {
        unpaged_after: Some(vec!["1.1".into()]),
        ..page(1, 0)
    };
    assert_eq!(run("DW-25", &first, &changed), Outcome::NotApplicable);
    let unpaged = Expect {
        unpaged: Some(vec!["1.1".into(), "1.2".into()]),
        ..study_level()
    };
    assert_eq!(run("DW-25", &first, &unpaged), Outcome::NotApplicable);
}

#[test]
fn dw25_warning_values_split_outside_quotes() {
    let ex = with_warning(qido(&[]), "299 a \"x, y\" , 199 b \"z\\\" ,w\"");
    assert_eq!(
        warning_values(&ex),
        vec![
            "299 a \"x, y\"".to_string(),
            "199 b \"z\\\" ,w\"".to_string()
        ]
    );
    assert_eq!(
        stated_additional("299 s: There are 12 additional results"),
        Some(12)
    );
    assert_eq!(stated_additional("299 s \"There are additional\""), None);
    assert_eq!(stated_additional("299 s \"There are 3 apples\""), None);
}

#[test]
fn dw20_no_match_is_204_or_an_empty_array() {
    let e = Expect {
        status: vec![204, 200],
        ..study_level()
    };
    let no_content = Exchange::synthetic("http://sut/studies", &[], 204, &[], b"");
    assert_eq!(run("DW-20", &no_content, &e), Outcome::Pass);
    assert_eq!(run("DW-20", &qido(&[]), &e), Outcome::Pass);
    let strict = Expect {
        status: vec![204],
        ..study_level()
    };
    assert_eq!(run("DW-20", &qido(&[]), &strict), Outcome::Fail);
}

fn png_of(w: u32, h: u32, depth: u8) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[depth, 0, 0, 0, 0]);
    b
}

fn jpeg_of(sof: u8, w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, b'J', b'F'];
    b.extend_from_slice(&[0xFF, sof, 0x00, 0x0B, 8]);
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&[1, 1, 0x11, 0]);
    b
}

fn run_lenient(id: &str, ex: &Exchange, expect: &Expect) -> Outcome {
    let check = crate::checks::by_id(id).unwrap();
    evaluate(
        check,
        &Subject {
            exchange: ex,
            expect,
            strict: false,
            followups: &[],
        },
    )
    .outcome
}

/// A JPEG whose frame header has the given marker and sample precision, optionally after a DHP
/// marker (hierarchical process).
fn jpeg_with(sof: u8, precision: u8, hierarchical: bool) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    if hierarchical {
        b.extend_from_slice(&[
            0xFF, 0xDE, 0x00, 0x0B, precision, 0, 200, 0, 224, 1, 1, 0x11, 0,
        ]);
    }
    b.extend_from_slice(&[
        0xFF, sof, 0x00, 0x0B, precision, 0, 200, 0, 224, 1, 1, 0x11, 0,
    ]);
    b
}

#[test]
fn dw21_jpeg_process_as_the_text_allows() {
    let e = Expect {
        rendered_size: Some((224, 200)),
        ..Expect::default()
    };
    let jpeg = |body: Vec<u8>| {
        Exchange::synthetic(
            "http://sut/rendered",
            &[("Accept", "image/jpeg")],
            200,
            &[("Content-Type", "image/jpeg")],
            &body,
        )
    };
    // Lenient: every lossy 8-bit Huffman non-hierarchical process passes (baseline, extended
    // sequential, progressive), as PS3.18 §8.7.4's contradictory wording allows.
    for sof in [0xC0, 0xC1, 0xC2] {
        assert_eq!(
            run_lenient("DW-21", &jpeg(jpeg_with(sof, 8, false)), &e),
            Outcome::Pass,
            "FF{sof:02X}"
        );
    }
    // Strict: baseline only.
    assert_eq!(
        run("DW-21", &jpeg(jpeg_with(0xC0, 8, false)), &e),
        Outcome::Pass
    );
    assert_eq!(
        run("DW-21", &jpeg(jpeg_with(0xC1, 8, false)), &e),
        Outcome::Fail
    );
    // What no reading allows fails in both modes: lossless, arithmetic coding, 12-bit
    // precision, a hierarchical process.
    for body in [
        jpeg_with(0xC3, 8, false),
        jpeg_with(0xC9, 8, false),
        jpeg_with(0xC1, 12, false),
        jpeg_with(0xC0, 8, true),
    ] {
        assert_eq!(run_lenient("DW-21", &jpeg(body.clone()), &e), Outcome::Fail);
        assert_eq!(run("DW-21", &jpeg(body), &e), Outcome::Fail);
    }
}

#[test]
fn dw21_size_depth_and_baseline() {
    let e = Expect {
        rendered_size: Some((224, 200)),
        ..Expect::default()
    };
    // DW-21 on a rendered answer of Content-Type `ct` to a request that accepted `accept`.
    let judge = |accept: &str, ct: &str, body: &[u8]| {
        let ex = Exchange::synthetic(
            "http://sut/rendered",
            &[("Accept", accept)],
            200,
            &[("Content-Type", ct)],
            body,
        );
        run("DW-21", &ex, &e)
    };
    let img = |ct: &str, body: &[u8]| judge("image/png, image/jpeg", ct, body);
    assert_eq!(img("image/png", &png_of(224, 200, 8)), Outcome::Pass);
    assert_eq!(img("image/png", &png_of(112, 100, 8)), Outcome::Fail);
    // A 16-bit PNG: the current §8.7.4 no longer limits rendered images to 8 bits per channel.
    assert_eq!(img("image/png", &png_of(224, 200, 16)), Outcome::Pass);
    assert_eq!(img("image/jpeg", &jpeg_of(0xC0, 224, 200)), Outcome::Pass);
    // Progressive (SOF2): "baseline" says no, "non-sequential" says yes; strict reads baseline.
    assert_eq!(img("image/jpeg", &jpeg_of(0xC2, 224, 200)), Outcome::Fail);
    assert_eq!(img("image/jpeg", &jpeg_of(0xC0, 100, 100)), Outcome::Fail);
    // An image type that was not accepted is a Fail; so is a 200 for an unoffered type.
    let jpeg = jpeg_of(0xC0, 224, 200);
    assert_eq!(judge("image/jp2", "image/jpeg", &jpeg), Outcome::Fail);
    // A server that does render JPEG 2000 passes with a JPEG 2000 body, not with another one.
    let jp2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n...";
    assert_eq!(judge("image/jp2", "image/jp2", jp2), Outcome::Pass);
    assert_eq!(judge("image/jp2", "image/jp2", &jpeg), Outcome::Fail);
}

fn stow_with(status: u16, body: &str) -> Exchange {
    let mut ex = Exchange::synthetic(
        "http://sut/studies",
        &[],
        status,
        &[("Content-Type", "application/dicom+json")],
        body.as_bytes(),
    );
    ex.request.method = "POST".into();
    ex
}

fn sent(sop: &str, study: &str) -> SentInstance {
    SentInstance {
        sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
        sop_instance: sop.into(),
        study: study.into(),
        series: SERIES.into(),
    }
}

#[test]
fn dw10_every_instance_referenced() {
    let e = Expect {
        stow_sent: vec![sent("1.1", STUDY), sent("1.2", STUDY)],
        ..Expect::default()
    };
    assert_eq!(
        run("DW-10", &stow(200, &["1.1", "1.2"], &[]), &e),
        Outcome::Pass
    );
    // 200 with an empty response, or with one instance left out.
    assert_eq!(run("DW-10", &stow_with(200, "{}"), &e), Outcome::Fail);
    assert_eq!(run("DW-10", &stow(200, &["1.1"], &[]), &e), Outcome::Fail);
    // 202 must account for every instance: referenced or failed.
    assert_eq!(
        run("DW-10", &stow(202, &["1.1"], &[("1.2", Some(0xC000))]), &e),
        Outcome::Pass
    );
    let lost = stow(202, &["1.1"], &[("9.9", Some(0xC000))]);
    assert_eq!(run("DW-10", &lost, &e), Outcome::Fail);
}

#[test]
fn dw24_stow_identity() {
    let e = Expect {
        stow_sent: vec![sent("1.1", STUDY), sent("1.2", STUDY)],
        ..Expect::default()
    };
    let item = |sop: &str, class: &str, url: &str| {
        format!(
            r#"{{"00081150":{{"vr":"UI","Value":["{class}"]}},"00081155":{{"vr":"UI","Value":["{sop}"]}},"00081190":{{"vr":"UR","Value":["{url}"]}}}}"#
        )
    };
    let ct = "1.2.840.10008.5.1.4.1.1.2";
    let url = |sop: &str| format!("http://sut/studies/{STUDY}/series/{SERIES}/instances/{sop}");
    let body = |items: &[String], study_url: &str| {
        format!(
            r#"{{"00081190":{{"vr":"UR","Value":["{study_url}"]}},"00081199":{{"vr":"SQ","Value":[{}]}}}}"#,
            items.join(",")
        )
    };
    let good = body(
        &[item("1.1", ct, &url("1.1")), item("1.2", ct, &url("1.2"))],
        &format!("http://sut/studies/{STUDY}"),
    );
    assert_eq!(run("DW-24", &stow_with(200, &good), &e), Outcome::Pass);
    // A reference to an instance that was not sent.
    let foreign = body(
        &[
            item("1.1", ct, &url("1.1")),
            item("1.2", ct, &url("1.2")),
            item("5.5", ct, &url("5.5")),
        ],
        &format!("http://sut/studies/{STUDY}"),
    );
    assert_eq!(run("DW-24", &stow_with(200, &foreign), &e), Outcome::Fail);
    // Another SOP Class for an instance sent.
    let class = body(
        &[item("1.1", "1.2.840.10008.5.1.4.1.1.4", &url("1.1"))],
        &format!("http://sut/studies/{STUDY}"),
    );
    assert_eq!(run("DW-24", &stow_with(202, &class), &e), Outcome::Fail);
    // A Retrieve URL of another study, for the response or for an item.
    let other_study = body(&[item("1.1", ct, &url("1.1"))], "http://sut/studies/9.9");
    assert_eq!(
        run("DW-24", &stow_with(200, &other_study), &e),
        Outcome::Fail
    );
    let other_item = body(
        &[item(
            "1.1",
            ct,
            "http://sut/studies/9.9/series/1/instances/1.1",
        )],
        &format!("http://sut/studies/{STUDY}"),
    );
    assert_eq!(
        run("DW-24", &stow_with(200, &other_item), &e),
        Outcome::Fail
    );
    assert_eq!(
        run("DW-24", &stow_with(200, &good), &Expect::default()),
        Outcome::NotApplicable
    );
    // Retrieve URLs with a query of the server's own still name the study and the instance.
    let with_query = body(
        &[
            item("1.1", ct, &format!("{}?route=b", url("1.1"))),
            item("1.2", ct, &format!("{}#x", url("1.2"))),
        ],
        &format!("http://sut/studies/{STUDY}?token=abc"),
    );
    assert_eq!(
        run("DW-24", &stow_with(200, &with_query), &e),
        Outcome::Pass
    );
    let other_with_query = body(
        &[item("1.1", ct, &url("1.1"))],
        &format!("http://sut/studies/9.9?study={STUDY}"),
    );
    assert_eq!(
        run("DW-24", &stow_with(200, &other_with_query), &e),
        Outcome::Fail
    );
}

#[test]
fn dw06_pixel_data_identity() {
    let pixels = b"the pixel data of this instance";
    let uri = "http://sut/studies/1/series/2/instances/3/bulkdata/7FE00010";
    let e = Expect {
        pixel_data: Some((
            uri.into(),
            pixels.len() as u64,
            crate::transport::digest::identity_hex(pixels),
        )),
        ..Expect::default()
    };
    let meta = Exchange::synthetic("http://sut/m", &[], 200, &[], b"[]");
    let bulk = |body: &[u8]| {
        Exchange::synthetic(
            uri,
            &[],
            200,
            &[(
                "Content-Type",
                "multipart/related; type=\"application/octet-stream\"; boundary=b0undary",
            )],
            &build_body(
                B,
                &[(
                    &[(
                        "Content-Type",
                        "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1",
                    )],
                    body,
                )],
            ),
        )
    };
    assert_eq!(run_with("DW-06", &meta, &e, &[bulk(pixels)]), Outcome::Pass);
    assert_eq!(
        run_with(
            "DW-06",
            &meta,
            &e,
            &[bulk(b"the pixel data of ANOTHER instance")]
        ),
        Outcome::Fail
    );
}

#[test]
fn wildcard_matching_is_linear_and_correct() {
    assert!(value_matches("Doe*", "Doe^Jane", false, false));
    assert!(value_matches("d?e*", "Doe^Jane", true, false));
    assert!(!value_matches("Doe", "Doe^Jane", false, false));
    assert!(value_matches("", "anything", false, false));
    let long = "a".repeat(10_000);
    assert!(!value_matches(
        &format!("{}b", "*a".repeat(50)),
        &long,
        false,
        false
    ));
}

#[test]
fn every_check_is_exercised_here() {
    let src = include_str!("tests.rs");
    for c in CHECKS {
        assert!(
            src.contains(&format!("\"{}\"", c.id)),
            "{} has no test",
            c.id
        );
    }
}

/// A UID from the SUT is cut for a message by characters, never inside one: a value with
/// multi-byte characters where a byte cut would fall is shortened, not a panic.
#[test]
fn abbreviate_cuts_long_values_at_character_boundaries() {
    let short = "1.2.3".to_string();
    let long = "1.2.840.10008.5.1.4.1.1.2".to_string();
    let hostile = format!("1.2.3.4.5.6.{}9", "é".repeat(10));
    let cut = abbreviate(&[short.clone(), long, hostile]);
    assert_eq!(cut[0], short);
    assert_eq!(cut[1], "….5.1.4.1.1.2");
    assert_eq!(cut[2], format!("….{}9", "é".repeat(10)));
}
