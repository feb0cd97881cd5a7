//! DIMSE steps: verification, C-FIND, C-MOVE, C-GET and C-STORE as an SCU against the SUT, and the
//! scenarios where the SUT sends to the harness's Storage SCP.
//!
//! Studies are named by fixture alias; the harness knows their patients, UIDs and files, and so the
//! matches a query must return and the instances (with the digest of their data sets) a retrieve
//! must deliver.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use cucumber::{given, then, when};
use dicom_core::Tag;
use dicom_dictionary_std::tags;

use super::UNKNOWN_PATIENT;
use super::{
    harness_error, judge, record, series_instances, study_instances, StepError, StepResult,
};
use crate::actors::dimse_scu::{DimseScu, QueryModel, StoreFile};
use crate::checks::dimse::DimseExpect;
use crate::checks::{Expect, Finding};
use crate::config::TestDataMode;
use crate::model::fixtures::FixtureInstance;
use crate::world::HarnessWorld;

mod inbound;

fn scu(world: &mut HarnessWorld) -> Result<DimseScu, StepError> {
    match world.ctx.dimse.clone() {
        Some(s) => Ok(s),
        None => {
            let reason = "the SUT profile declares no DICOM application entity ([dimse] table)";
            world
                .findings
                .push(Finding::not_applicable("no DICOM AE", reason));
            Err(StepError(reason.into()))
        }
    }
}

/// The SHA-256 of a fixture file's data set (the bytes after its File Meta group), which a
/// retrieve in the stored transfer syntax delivers unchanged.
fn dataset_sha256(path: &std::path::Path) -> Option<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).ok()?;
    let offset = crate::dimse::part10::dataset_offset(&bytes)?;
    Some(hex::encode(sha2::Sha256::digest(&bytes[offset..])))
}

/// The data set digests of each instance, by transfer syntax: as stored, and of its Explicit VR
/// Little Endian copy when the source is not lossy (an SCP that decodes a lossy image itself may
/// get other pixels than the copy's decoder, PS3.5 §8.2).
fn expected_instances(
    world: &HarnessWorld,
    insts: &[FixtureInstance],
) -> BTreeMap<String, Vec<(String, String)>> {
    insts
        .iter()
        .map(|i| {
            let mut v: Vec<(String, String)> = dataset_sha256(&world.ctx.fixtures.file(i))
                .map(|h| (i.transfer_syntax.clone(), h))
                .into_iter()
                .collect();
            if let Some(ele) = i
                .ele_path
                .as_ref()
                .filter(|_| crate::dimse::pixels::is_lossless(&i.transfer_syntax))
            {
                v.extend(
                    dataset_sha256(&world.ctx.fixtures.dir.join(ele))
                        .map(|h| (crate::actors::dimse_scu::EXPLICIT_VR_LE.to_string(), h)),
                );
            }
            (i.sop_uid.clone(), v)
        })
        .collect()
}

/// The digest of each instance's image ([`crate::dimse::pixels`]), by transfer syntax: as stored,
/// and its native form (the same in Explicit and Implicit VR Little Endian) when the source is not
/// lossy.
fn expected_pixels(
    world: &HarnessWorld,
    insts: &[FixtureInstance],
) -> BTreeMap<String, Vec<(String, String)>> {
    use crate::actors::dimse_scu::{EXPLICIT_VR_LE, IMPLICIT_VR_LE};
    use crate::dimse::pixels::{file_pixel_data_sha256, is_lossless, is_native_le};
    let mut out = BTreeMap::new();
    for i in insts {
        let mut v = Vec::new();
        let stored = file_pixel_data_sha256(&world.ctx.fixtures.file(i));
        let native = if is_native_le(&i.transfer_syntax) {
            stored.clone()
        } else {
            i.ele_path
                .as_ref()
                .filter(|_| is_lossless(&i.transfer_syntax))
                .and_then(|p| file_pixel_data_sha256(&world.ctx.fixtures.dir.join(p)))
        };
        if let Some(h) = stored.filter(|_| !is_native_le(&i.transfer_syntax)) {
            v.push((i.transfer_syntax.clone(), h));
        }
        if let Some(h) = native {
            v.push((EXPLICIT_VR_LE.to_string(), h.clone()));
            v.push((IMPLICIT_VR_LE.to_string(), h));
        }
        out.insert(i.sop_uid.clone(), v);
    }
    out
}

/// Record the exchange of a When step with what it must satisfy. When the SUT cut the operation
/// short (it closed or aborted the association, a Fail of PEER-01 that ends the scenario), the
/// instances that had already arrived are judged first: what can still be judged is.
fn record_dimse(
    world: &mut HarnessWorld,
    mut ex: crate::evidence::Exchange,
    x: DimseExpect,
) -> StepResult {
    if x.rejection.is_none() || is_transient(&ex) {
        rejection_as_failure(&mut ex);
    }
    world.dimse.expect = Expect {
        dimse: x,
        ..Expect::default()
    };
    let arrivals = ex.dimse.as_deref().is_some_and(|r| {
        r.received(crate::dimse::command::field::C_STORE_RQ)
            .next()
            .is_some()
    }) || !world.dimse.followups.is_empty();
    let cut_short = ex.failure.is_some() && arrivals;
    match record(world, ex) {
        Ok(idx) => {
            world.dimse.last = Some(idx);
            Ok(())
        }
        Err(e) => {
            if cut_short {
                let idx = world.evidence.exchanges().len().saturating_sub(1);
                world.dimse.last = Some(idx);
                judge_what_arrived(world, idx);
            }
            Err(e)
        }
    }
}

/// Was the association rejected by the presentation layer of the SUT (PS3.8 §9.3.4, source 3:
/// temporary congestion, local limit exceeded)? Such a rejection says the SUT is busy, not what it
/// makes of the request: a scenario that expects a rejection for a reason cannot be judged by it.
fn is_transient(ex: &crate::evidence::Exchange) -> bool {
    ex.dimse
        .as_deref()
        .and_then(|r| r.rejection.as_ref())
        .is_some_and(|rj| rj.source == 3)
}

/// An association the SUT rejected where the scenario needs one is not a verdict: the SUT was not
/// told the harness's calling AE title, or the profile names another called AE title, or the SUT
/// is busy (PS3.8 §9.3.4 reasons). It is an Error that says which, not a Fail of what followed.
/// So is a rejection for being busy where the scenario expects one for a reason (see
/// [`is_transient`]).
fn rejection_as_failure(ex: &mut crate::evidence::Exchange) {
    if ex.failure.is_some() {
        return;
    }
    let Some(r) = ex.dimse.as_deref() else {
        return;
    };
    let Some(rj) = &r.rejection else {
        return;
    };
    let hint = match (rj.source, rj.reason) {
        (1, 3) => format!(
            "the SUT does not know the harness's calling AE title {} ([dimse] calling_ae)",
            r.calling_ae
        ),
        (1, 7) => format!(
            "the SUT's AE title is not {} ([dimse] called_ae)",
            r.called_ae
        ),
        (3, _) => "the SUT is busy (a transient rejection of its presentation layer, PS3.8 §9.3.4): run the scenario again when it is idle".to_string(),
        _ => "see the SUT's log for why".to_string(),
    };
    let message = format!(
        "{} rejected the association: A-ASSOCIATE-RJ result {}, source {}, reason {} ({}); {hint}",
        ex.request.url, rj.result, rj.source, rj.reason, rj.text
    );
    ex.failure = Some(crate::evidence::TransportFailure {
        kind: "rejected".into(),
        message,
    });
}

/// Judge the instances that arrived before an operation was cut short: each is the one its
/// C-STORE-RQ names, of the target, and identical to the source (DIM-17, DIM-08; with no final
/// status, DIM-08 does not require the missing ones).
fn judge_what_arrived(world: &mut HarnessWorld, idx: usize) {
    let Some(mut ex) = world.evidence.get(idx).cloned() else {
        return;
    };
    // The failure is PEER-01's finding; the record up to it is still the SUT's answer.
    ex.failure = None;
    let expect = world.dimse.expect.clone();
    let followups = world.dimse.followups.clone();
    let subject = crate::checks::Subject {
        exchange: &ex,
        expect: &expect,
        strict: world.ctx.config.strict,
        followups: &followups,
    };
    for id in ["DIM-17", "DIM-08", "DIM-19"] {
        if let Some(c) = crate::checks::by_id(id) {
            world.findings.push(crate::checks::evaluate(c, &subject));
        }
    }
}

fn judge_dimse(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let Some(idx) = world.dimse.last else {
        return Err(harness_error(
            world,
            "no exchange to judge",
            "no DIMSE request was sent before this step",
        ));
    };
    let expect = world.dimse.expect.clone();
    let followups = world.dimse.followups.clone();
    judge(world, idx, &expect, &followups, ids)
}

// ---------------------------------------------------------------------------------------------
// Test data

#[given("the DICOM archive holds the test studies")]
async fn holds_test_studies(world: &mut HarnessWorld) -> StepResult {
    let s = scu(world)?;
    if world.ctx.config.test_data == TestDataMode::Preloaded {
        return Ok(());
    }
    let ctx = world.ctx.clone();
    let mut exchanges = Vec::new();
    let result = ctx
        .dimse_data
        .get_or_init(|| async {
            let files: Vec<StoreFile> = ctx
                .fixtures
                .instances
                .iter()
                .map(|i| StoreFile {
                    path: ctx.fixtures.file(i),
                    fallback: i.ele_path.as_ref().map(|p| ctx.fixtures.dir.join(p)),
                })
                .collect();
            let mut ex = s.store_files(&files).await;
            rejection_as_failure(&mut ex);
            let result = match &ex.failure {
                None => Ok(()),
                Some(f) => Err(crate::evidence::TransportFailure {
                    kind: f.kind.clone(),
                    message: format!(
                        "loading the test studies with C-STORE failed: {}",
                        f.message
                    ),
                }),
            };
            exchanges.push(ex);
            result
        })
        .await
        .clone();
    let mut idx = None;
    for ex in exchanges {
        idx = Some(world.evidence.record(ex));
    }
    match result {
        Ok(()) => Ok(()),
        // The SUT took a complete C-STORE-RQ and closed instead of answering: its Fail, not ours.
        Err(f) if f.kind == crate::checks::peer::PEER_CLOSED => Err(super::fail_stop(
            world,
            "PEER-01",
            idx,
            "an answer to every C-STORE-RQ of the test data",
            f.message,
        )),
        Err(f) => Err(harness_error(
            world,
            "test data could not be loaded",
            f.message,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Verification

#[when("the SCU sends a C-ECHO")]
async fn echo(world: &mut HarnessWorld) -> StepResult {
    let s = scu(world)?;
    let ex = s.echo().await;
    record_dimse(world, ex, DimseExpect::default())
}

#[when(expr = "the SCU sends a C-ECHO to the called AE title {string}")]
async fn echo_wrong_ae(world: &mut HarnessWorld, ae: String) -> StepResult {
    let mut s = scu(world)?;
    s.peer.called_ae = ae;
    let ex = s.echo().await;
    record_dimse(
        world,
        ex,
        DimseExpect {
            rejection: Some(vec![(1, 7)]),
            reason: "called AE title not recognized".into(),
            ..DimseExpect::default()
        },
    )
}

/// A SOP Class UID no SCP supports (a private root of the project's own).
const UNKNOWN_SOP_CLASS: &str = "1.3.6.1.4.1.21367.13.80.999.1";

#[when("the SCU sends a C-ECHO on an association that also proposes an unknown SOP class")]
async fn echo_unknown_class(world: &mut HarnessWorld) -> StepResult {
    let s = scu(world)?;
    let ex = s
        .echo_proposing(&[(
            UNKNOWN_SOP_CLASS.to_string(),
            vec!["1.2.840.10008.1.2.1".to_string()],
        )])
        .await;
    record_dimse(
        world,
        ex,
        DimseExpect {
            unsupported: vec![UNKNOWN_SOP_CLASS.into()],
            ..DimseExpect::default()
        },
    )
}

#[then("the context for the unknown SOP class is refused")]
async fn unknown_class_refused(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-14", "DIM-01"])
}

#[then("the association was accepted with the contexts it needs")]
async fn accepted(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-01", "DIM-10"])
}

#[then("the association is rejected as called AE title not recognized")]
async fn rejected(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-02"])
}

#[then(expr = "the final status is {word}")]
async fn final_status(world: &mut HarnessWorld, code: String) -> StepResult {
    let Ok(st) = u16::from_str_radix(&code, 16) else {
        return Err(harness_error(
            world,
            "bad step argument",
            format!("{code} is not a hex status"),
        ));
    };
    world.dimse.expect.dimse.statuses = vec![st];
    judge_dimse(world, &["DIM-03"])
}

#[then("every response echoes its request")]
async fn echoes(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-09", "DIM-10"])
}

#[then("the move is refused as its destination is unknown")]
async fn move_refused(world: &mut HarnessWorld) -> StepResult {
    let x = &mut world.dimse.expect.dimse;
    x.refused_as = Some(crate::dimse::command::status::MOVE_DESTINATION_UNKNOWN);
    x.reason = "Refused: Move Destination unknown".into();
    judge_dimse(world, &["DIM-03", "DIM-20"])
}

#[then("the operation ends with status Cancel")]
async fn cancelled(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-11"])
}

// ---------------------------------------------------------------------------------------------
// C-FIND

/// The keys the study-level queries ask for (PS3.4 C.6.2.1.2 required keys).
fn study_keys() -> Vec<(Tag, &'static str)> {
    vec![
        (tags::STUDY_DATE, "StudyDate"),
        (tags::STUDY_TIME, "StudyTime"),
        (tags::ACCESSION_NUMBER, "AccessionNumber"),
        (tags::PATIENT_NAME, "PatientName"),
        (tags::PATIENT_ID, "PatientID"),
        (tags::STUDY_ID, "StudyID"),
        (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
    ]
}

async fn find(
    world: &mut HarnessWorld,
    model: QueryModel,
    level: &str,
    keys: Vec<(Tag, &'static str)>,
    values: &[(Tag, String)],
    matches: Option<(String, BTreeSet<String>)>,
    cancel_after: Option<usize>,
) -> StepResult {
    let s = scu(world)?;
    let mut query: Vec<(Tag, String)> = vec![(tags::QUERY_RETRIEVE_LEVEL, level.to_string())];
    for (t, _) in &keys {
        let v = values
            .iter()
            .find(|(vt, _)| vt == t)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        query.push((*t, v));
    }
    let ex = s.find(model, &query, cancel_after).await;
    let mut requested: Vec<String> = vec!["QueryRetrieveLevel".into()];
    requested.extend(keys.iter().map(|(_, k)| k.to_string()));
    let known = known_values(world, level);
    let values = fixture_values(world, level);
    record_dimse(
        world,
        ex,
        DimseExpect {
            requested_keys: requested,
            matches,
            known,
            values,
            cancelled: cancel_after.is_some(),
            ..DimseExpect::default()
        },
    )
}

/// Every value of the unique key of `level` the test data holds (DIM-06 judges only these).
fn known_values(world: &HarnessWorld, level: &str) -> Option<BTreeSet<String>> {
    let of = |f: fn(&FixtureInstance) -> &String| -> BTreeSet<String> {
        world
            .ctx
            .fixtures
            .instances
            .iter()
            .map(|i| f(i).clone())
            .collect()
    };
    match level {
        "PATIENT" => Some(of(|i| &i.patient_id)),
        "STUDY" => Some(of(|i| &i.study_uid)),
        "SERIES" => Some(of(|i| &i.series_uid)),
        "IMAGE" => Some(of(|i| &i.sop_uid)),
        _ => None,
    }
}

/// For each entity of `level` in the test data (by its unique key), the values DIM-06 compares:
/// those a Storage SCP does not coerce (PS3.4 §B.4.1.3 lets it change patient identification and
/// UIDs; a patient level entity has none of the others).
fn fixture_values(world: &HarnessWorld, level: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for i in &world.ctx.fixtures.instances {
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let (uid, values) = match level {
            "STUDY" => (
                &i.study_uid,
                vec![(
                    "StudyDate".to_string(),
                    i.study_date.clone().unwrap_or_default(),
                )],
            ),
            "SERIES" => (
                &i.series_uid,
                vec![
                    ("Modality".to_string(), i.modality.clone()),
                    ("SeriesNumber".to_string(), number(i.series_number)),
                ],
            ),
            "IMAGE" => (
                &i.sop_uid,
                vec![("InstanceNumber".to_string(), number(i.instance_number))],
            ),
            _ => continue,
        };
        out.entry(uid.clone()).or_insert(values);
    }
    out
}

fn studies_where(
    world: &HarnessWorld,
    pred: impl Fn(&FixtureInstance) -> bool,
) -> BTreeSet<String> {
    world
        .ctx
        .fixtures
        .instances
        .iter()
        .filter(|i| pred(i))
        .map(|i| i.study_uid.clone())
        .collect()
}

#[when(expr = "the SCU finds the studies of the patient of study {string}")]
async fn find_patient_studies(world: &mut HarnessWorld, alias: String) -> StepResult {
    let pid = study_instances(world, &alias)?[0].patient_id.clone();
    let m = studies_where(world, |i| i.patient_id == pid);
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tags::PATIENT_ID, pid)],
        Some(("StudyInstanceUID".into(), m)),
        None,
    )
    .await
}

#[when("the SCU finds the studies of an unknown patient")]
async fn find_unknown_patient(world: &mut HarnessWorld) -> StepResult {
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tags::PATIENT_ID, UNKNOWN_PATIENT.into())],
        Some(("StudyInstanceUID".into(), BTreeSet::new())),
        None,
    )
    .await
}

#[when(expr = "the SCU finds the series of study {string}")]
async fn find_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let study = insts[0].study_uid.clone();
    let m: BTreeSet<String> = insts.iter().map(|i| i.series_uid.clone()).collect();
    find(
        world,
        QueryModel::StudyRoot,
        "SERIES",
        vec![
            (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
            (tags::SERIES_INSTANCE_UID, "SeriesInstanceUID"),
            (tags::MODALITY, "Modality"),
            (tags::SERIES_NUMBER, "SeriesNumber"),
        ],
        &[(tags::STUDY_INSTANCE_UID, study)],
        Some(("SeriesInstanceUID".into(), m)),
        None,
    )
    .await
}

#[when(expr = "the SCU finds the instances of series {int} of study {string}")]
async fn find_instances(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let m: BTreeSet<String> = insts.iter().map(|i| i.sop_uid.clone()).collect();
    let (study, series) = (insts[0].study_uid.clone(), insts[0].series_uid.clone());
    find(
        world,
        QueryModel::StudyRoot,
        "IMAGE",
        vec![
            (tags::STUDY_INSTANCE_UID, "StudyInstanceUID"),
            (tags::SERIES_INSTANCE_UID, "SeriesInstanceUID"),
            (tags::SOP_INSTANCE_UID, "SOPInstanceUID"),
            (tags::INSTANCE_NUMBER, "InstanceNumber"),
        ],
        &[
            (tags::STUDY_INSTANCE_UID, study),
            (tags::SERIES_INSTANCE_UID, series),
        ],
        Some(("SOPInstanceUID".into(), m)),
        None,
    )
    .await
}

#[when(expr = "the SCU finds studies with {string} matching {string}")]
async fn find_matching(world: &mut HarnessWorld, key: String, value: String) -> StepResult {
    let tag = match key.as_str() {
        "PatientName" => tags::PATIENT_NAME,
        "StudyDate" => tags::STUDY_DATE,
        "PatientID" => tags::PATIENT_ID,
        "AccessionNumber" => tags::ACCESSION_NUMBER,
        other => {
            return Err(harness_error(
                world,
                "unsupported key",
                format!("{other} is not a key this step knows"),
            ))
        }
    };
    // The expected matches are stated by the Then step.
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tag, value)],
        None,
        None,
    )
    .await
}

#[when(expr = "the SCU finds the studies {string} and {string} by their UIDs")]
async fn find_uid_list(world: &mut HarnessWorld, a: String, b: String) -> StepResult {
    let ua = study_instances(world, &a)?[0].study_uid.clone();
    let ub = study_instances(world, &b)?[0].study_uid.clone();
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[(tags::STUDY_INSTANCE_UID, format!("{ua}\\{ub}"))],
        None,
        None,
    )
    .await
}

#[when(expr = "the SCU finds the patient of study {string} with the Patient Root model")]
async fn find_patient(world: &mut HarnessWorld, alias: String) -> StepResult {
    let pid = study_instances(world, &alias)?[0].patient_id.clone();
    find(
        world,
        QueryModel::PatientRoot,
        "PATIENT",
        vec![
            (tags::PATIENT_NAME, "PatientName"),
            (tags::PATIENT_ID, "PatientID"),
        ],
        &[(tags::PATIENT_ID, pid.clone())],
        Some(("PatientID".into(), BTreeSet::from([pid]))),
        None,
    )
    .await
}

#[when("the SCU finds all studies and cancels after the first match")]
async fn find_cancel(world: &mut HarnessWorld) -> StepResult {
    find(
        world,
        QueryModel::StudyRoot,
        "STUDY",
        study_keys(),
        &[],
        None,
        Some(1),
    )
    .await
}

#[then("every match is a pending response with an identifier, then a final response")]
async fn pendings(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-04"])
}

#[then("every identifier holds the keys asked for and no others")]
async fn keys_asked(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-05"])
}

#[then("every match is at the level asked and satisfies the keys asked")]
async fn about_what_was_asked(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-15", "DIM-16"])
}

// DIM-06 knows the test data only: each of these steps says that every entity of the test data
// that matches is found (with the values the test data holds) and that no other entity of the
// test data is; a match the harness does not know is judged by its keys alone (DIM-16).

#[then(
    regex = r"^the test (?:studies|series|instances) of that (?:patient|study|series) are all found, and no other test (?:study|series|instance)$"
)]
async fn matches_known(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-06"])
}

#[then(expr = "the test patient of study {string} is found, and no other test patient")]
async fn matches_known_patient(world: &mut HarnessWorld, _alias: String) -> StepResult {
    judge_dimse(world, &["DIM-06"])
}

#[then(expr = "the test studies of patient {string} are all found, and no other test study")]
async fn matches_patient(world: &mut HarnessWorld, pid: String) -> StepResult {
    let m = studies_where(world, |i| i.patient_id == pid);
    world.dimse.expect.dimse.matches = Some(("StudyInstanceUID".into(), m));
    judge_dimse(world, &["DIM-06"])
}

#[then(regex = r#"^the test (?:study|studies) "(.*)" (?:is|are) found, and no other test study$"#)]
async fn matches_studies(world: &mut HarnessWorld, list: String) -> StepResult {
    let mut m = BTreeSet::new();
    for alias in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        m.insert(study_instances(world, alias)?[0].study_uid.clone());
    }
    world.dimse.expect.dimse.matches = Some(("StudyInstanceUID".into(), m));
    judge_dimse(world, &["DIM-06"])
}

#[then("no test study is found")]
async fn matches_none(world: &mut HarnessWorld) -> StepResult {
    world.dimse.expect.dimse.matches = Some(("StudyInstanceUID".into(), BTreeSet::new()));
    judge_dimse(world, &["DIM-06"])
}

// ---------------------------------------------------------------------------------------------
// C-MOVE and C-GET

fn series_keys(insts: &[FixtureInstance]) -> Vec<(Tag, String)> {
    vec![
        (tags::QUERY_RETRIEVE_LEVEL, "SERIES".into()),
        (tags::STUDY_INSTANCE_UID, insts[0].study_uid.clone()),
        (tags::SERIES_INSTANCE_UID, insts[0].series_uid.clone()),
    ]
}

/// Mark the inbox of the harness's Storage SCP before a move; what arrives after the mark, while
/// the move holds the SCP ([`inbound::session`]), is the move's.
fn inbox_mark(world: &HarnessWorld) -> Option<usize> {
    world.ctx.simulator.as_ref().map(|s| s.inbox.len())
}

/// The C-STORE sub-operations of the C-MOVE `ex` that the harness's Storage SCP received after
/// `mark`, whatever their Move Originator says (DIM-18 judges that), and the associations the SCP
/// refused meanwhile.
async fn arrived_since(
    world: &HarnessWorld,
    mark: Option<usize>,
    ex: &crate::evidence::Exchange,
) -> inbound::Inbound {
    let Some(mark) = mark else {
        return inbound::Inbound::default();
    };
    let originator = ex.dimse.as_deref().and_then(|r| {
        r.messages
            .iter()
            .find(|m| m.flow == crate::evidence::dimse::Flow::Sent)
            .and_then(|m| m.command.message_id)
            .map(|id| (r.calling_ae.clone(), id))
    });
    let Some((ae, id)) = originator else {
        return inbound::Inbound::default();
    };
    let wait = world
        .ctx
        .config
        .dimse
        .as_ref()
        .map_or(std::time::Duration::from_secs(5), |d| {
            d.read_timeout.min(std::time::Duration::from_secs(5))
        });
    inbound::moved(world, mark, &ae, id, wait).await
}

/// Put what the harness's SCP received into the scenario's evidence: each C-STORE as the SUT's
/// exchange (its command line repeats nothing from here), each refused association with an Error
/// finding that says why (the harness could not receive what the SUT sent).
fn record_inbound(world: &mut HarnessWorld, got: &inbound::Inbound) {
    for ex in got.stores.iter().chain(&got.refused) {
        let mut ex = ex.clone();
        ex.repro = format!(
            "# sent by the SUT to the harness's SCP, not repeated: {}",
            ex.repro
        );
        world.evidence.record(ex);
    }
    if !got.refused.is_empty() {
        world.findings.push(crate::checks::Finding::harness_error(
            "the harness's DICOM SCP refused the SUT",
            inbound::refusals(&got.refused),
        ));
    }
}

async fn do_move(
    world: &mut HarnessWorld,
    keys: Vec<(Tag, String)>,
    insts: &[FixtureInstance],
    destination: Option<String>,
    cancel_after: Option<usize>,
) -> StepResult {
    let s = scu(world)?;
    let dest = destination
        .clone()
        .unwrap_or_else(|| s.move_destination.clone());
    // A move to the harness holds its SCP until the sub-associations have ended.
    let _scp = match destination {
        None => Some(inbound::session().lock().await),
        Some(_) => None,
    };
    let mark = inbox_mark(world);
    let mut s = s;
    s.move_receiver = world
        .ctx
        .simulator
        .as_ref()
        .and_then(|sim| sim.dimse_addr)
        .map(|a| a.port());
    let ex = s
        .move_to(QueryModel::StudyRoot, &keys, &dest, cancel_after)
        .await;
    let instances = destination
        .is_none()
        .then(|| expected_instances(world, insts));
    let pixel_data = expected_pixels(world, insts);
    let got = arrived_since(world, mark, &ex).await;
    world.dimse.followups = got.stores.clone();
    let recorded = record_dimse(
        world,
        ex,
        DimseExpect {
            instances,
            pixel_data,
            cancelled: cancel_after.is_some(),
            refused_by_harness: got.refused.len(),
            ..DimseExpect::default()
        },
    );
    record_inbound(world, &got);
    recorded
}

#[when(expr = "the SCU moves series {int} of study {string} to the harness")]
async fn move_series(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    do_move(world, series_keys(&insts), &insts, None, None).await
}

#[when(
    expr = "the SCU moves series {int} of study {string} to the harness and cancels after the first response"
)]
async fn move_cancel(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    do_move(world, series_keys(&insts), &insts, None, Some(1)).await
}

#[when(expr = "the SCU moves series {int} of study {string} to the unknown destination {string}")]
async fn move_unknown(
    world: &mut HarnessWorld,
    number: i64,
    alias: String,
    dest: String,
) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    do_move(world, series_keys(&insts), &insts, Some(dest), None).await
}

#[when(
    expr = "the SCU moves the instances the manifest of study {string} references to the harness"
)]
async fn move_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let all = study_instances(world, &alias)?;
    let Some(k) = all.iter().find(|i| i.kos).cloned() else {
        return Err(harness_error(world, "no fixture manifest", alias));
    };
    let bytes = std::fs::read(world.ctx.fixtures.file(&k)).unwrap_or_default();
    let m = match crate::model::kos::parse(&bytes) {
        Ok(m) => m,
        Err(e) => return Err(harness_error(world, "manifest unreadable", e.to_string())),
    };
    let refs: BTreeSet<String> = m.evidence.iter().map(|r| r.sop_instance.clone()).collect();
    let insts: Vec<FixtureInstance> = all
        .into_iter()
        .filter(|i| refs.contains(&i.sop_uid))
        .collect();
    if insts.is_empty() {
        return Err(harness_error(world, "empty manifest", alias));
    }
    // One series at a time would also do; the fixture manifests reference one series each.
    let keys = vec![
        (tags::QUERY_RETRIEVE_LEVEL, "IMAGE".to_string()),
        (tags::STUDY_INSTANCE_UID, insts[0].study_uid.clone()),
        (tags::SERIES_INSTANCE_UID, insts[0].series_uid.clone()),
        (
            tags::SOP_INSTANCE_UID,
            insts
                .iter()
                .map(|i| i.sop_uid.as_str())
                .collect::<Vec<_>>()
                .join("\\"),
        ),
    ];
    do_move(world, keys, &insts, None, None).await
}

#[when(expr = "the SCU gets series {int} of study {string}")]
async fn get_series(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let s = scu(world)?;
    let dir = match tempfile::Builder::new()
        .prefix("ihe-harness-get-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => return Err(harness_error(world, "no temporary folder", e.to_string())),
    };
    let storage: Vec<(&str, &str)> = insts
        .iter()
        .map(|i| (i.sop_class.as_str(), i.transfer_syntax.as_str()))
        .collect();
    let ex = s
        .get(
            QueryModel::StudyRoot,
            &series_keys(&insts),
            &storage,
            dir.path(),
            None,
        )
        .await;
    let instances = Some(expected_instances(world, &insts));
    let pixel_data = expected_pixels(world, &insts);
    record_dimse(
        world,
        ex,
        DimseExpect {
            instances,
            pixel_data,
            ..DimseExpect::default()
        },
    )
}

#[then("the sub-operation counts account for every instance")]
async fn counts(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-07"])
}

#[then("the harness received exactly the instances asked for, unchanged")]
async fn received_unchanged(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-08", "DIM-19"])
}

#[then("every instance delivered is one the request selected, under its own UID")]
async fn delivered_identity(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-17"])
}

#[then("every sub-operation names the C-MOVE it belongs to")]
async fn move_originator(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-18"])
}

// ---------------------------------------------------------------------------------------------
// C-STORE

/// The seed of the re-identified copies of this run (PS3.5 §B.2 `2.25` UIDs drawn from it).
fn copies_seed() -> &'static str {
    static SEED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SEED.get_or_init(crate::model::reidentify::run_seed)
}

/// Copies of `insts` (and of their Explicit VR Little Endian twins) under fresh Study, Series and
/// SOP Instance UIDs and a patient of their own, written into `dir`: instances no SUT has seen,
/// whatever the load mode stored before. One map per call, so the copies of a series stay one new
/// series.
fn reidentified(
    fixtures: &crate::model::fixtures::Fixtures,
    insts: &[FixtureInstance],
    dir: &std::path::Path,
) -> Result<Vec<StoreFile>, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut map =
        crate::model::reidentify::UidMap::new(format!("{}/dimse-store/{n}", copies_seed()));
    let mut copy = |from: &std::path::Path, name: String| -> Result<PathBuf, String> {
        let bytes = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
        let c = crate::model::reidentify::reidentify(&bytes, &mut map)
            .map_err(|e| format!("{}: {e}", from.display()))?;
        let to = dir.join(name);
        std::fs::write(&to, &c.bytes).map_err(|e| format!("{}: {e}", to.display()))?;
        Ok(to)
    };
    insts
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let path = copy(&fixtures.file(i), format!("{:04}.dcm", k + 1))?;
            let fallback = match &i.ele_path {
                Some(ele) => Some(copy(
                    &fixtures.dir.join(ele),
                    format!("{:04}.ele.dcm", k + 1),
                )?),
                None => None,
            };
            Ok(StoreFile { path, fallback })
        })
        .collect()
}

/// Store re-identified copies of a fixture series: new instances to the SUT even when load mode
/// stored the fixtures before (a server may refuse or flag a duplicate, PS3.4 §B.2.3 leaves it
/// open), so that the statuses judged are those of new instances.
#[when(expr = "the SCU stores series {int} of study {string}")]
async fn store_series(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let s = scu(world)?;
    let dir = match tempfile::Builder::new()
        .prefix("ihe-harness-copies-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => return Err(harness_error(world, "no temporary folder", e.to_string())),
    };
    let fixtures = world.ctx.clone();
    let (to, list) = (dir.path().to_path_buf(), insts.clone());
    let files = tokio::task::spawn_blocking(move || reidentified(&fixtures.fixtures, &list, &to))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let files = match files {
        Ok(f) => f,
        Err(e) => return Err(harness_error(world, "no re-identified copies", e)),
    };
    let mut ex = s.store_files(&files).await;
    keep_copies(&mut ex, &files);
    record_dimse(world, ex, DimseExpect::default())
}

/// Most bytes of re-identified copies kept for the evidence folder of one exchange.
const MAX_KEPT_COPIES: u64 = 64 * 1024 * 1024;

/// Keep the re-identified copies `ex` sent for its evidence folder (they live in a temporary
/// folder): its command line then names them there. Past [`MAX_KEPT_COPIES`] they are not kept,
/// and the command line says so.
fn keep_copies(ex: &mut crate::evidence::Exchange, files: &[StoreFile]) {
    let paths: Vec<&PathBuf> = files
        .iter()
        .flat_map(|f| std::iter::once(&f.path).chain(f.fallback.as_ref()))
        .collect();
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if total > MAX_KEPT_COPIES {
        ex.repro = format!(
            "# the re-identified copies this stored ({total} bytes) were not kept\n# {}",
            ex.repro
        );
        return;
    }
    let mut kept = Vec::new();
    for p in paths {
        // Only what the command line sends (a copy's uncompressed twin goes only if it was sent).
        let named = crate::actors::dimse_scu::absolute(p);
        if !ex.repro.contains(&named) {
            continue;
        }
        let (Some(name), Ok(bytes)) = (p.file_name(), std::fs::read(p)) else {
            continue;
        };
        let name = name.to_string_lossy().to_string();
        ex.repro = ex.repro.replace(&named, &format!("@files/{name}"));
        kept.push((name, bytes::Bytes::from(bytes)));
    }
    if let Some(r) = ex.dimse.as_deref_mut() {
        r.attachments = kept;
        r.dcmtk = ex.repro.clone();
    }
}

/// Store a fixture series as the archive already holds it (load mode stored it, or the profile
/// says the SUT was preloaded with it): each instance is a duplicate.
#[when(expr = "the SCU stores series {int} of study {string} again, as the archive holds it")]
async fn store_duplicates(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let s = scu(world)?;
    let files: Vec<StoreFile> = insts
        .iter()
        .map(|i| StoreFile {
            path: world.ctx.fixtures.file(i),
            fallback: i.ele_path.as_ref().map(|p| world.ctx.fixtures.dir.join(p)),
        })
        .collect();
    let ex = s.store_files(&files).await;
    record_dimse(
        world,
        ex,
        DimseExpect {
            duplicates: true,
            ..DimseExpect::default()
        },
    )
}

#[then("every instance is acknowledged with success or a warning")]
async fn acknowledged(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-12"])
}

#[then(
    "every instance is answered as a duplicate may be: stored, warned or refused as a duplicate"
)]
async fn duplicate_answered(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-12"])
}

// ---------------------------------------------------------------------------------------------
// The SUT sends to the harness

#[when(expr = "the SUT is asked to store series {int} of study {string} into the harness")]
async fn sut_stores(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let (sim, trigger) = super::simulator_and_trigger(world, "modality_stores", "Storage SCP")?;
    // The SCP is this scenario's until the SUT has stored (see `inbound`).
    let _scp = inbound::session().lock().await;
    let mark = sim.inbox.len();
    let files: Vec<PathBuf> = insts.iter().map(|i| world.ctx.fixtures.file(i)).collect();
    let vars = [
        ("study_uid", insts[0].study_uid.clone()),
        ("series_uid", insts[0].series_uid.clone()),
        ("dicom_patient_id", insts[0].patient_id.clone()),
        ("harness_ae", world.ctx.config.simulator.ae_title.clone()),
        (
            "harness_host",
            sim.dimse_addr
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
        ),
        (
            "harness_port",
            sim.dimse_addr
                .map(|a| a.port().to_string())
                .unwrap_or_default(),
        ),
        (
            "files",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    let triggered = match super::run_trigger(world, &trigger, &vars).await {
        Ok(t) => t,
        Err(e) => {
            // A SUT command that failed because the harness refused it must say so.
            let got = inbound::since(world, mark);
            record_inbound(
                world,
                &inbound::Inbound {
                    stores: Vec::new(),
                    refused: got.refused,
                },
            );
            return Err(e);
        }
    };
    if let Some(name) = triggered {
        // The embedded reference plays the modality: the harness's own SCU stores the series.
        if name != "modality_stores" {
            return Err(harness_error(world, "unknown builtin trigger", name));
        }
        let Some(addr) = sim.dimse_addr else {
            return Err(harness_error(
                world,
                "no Storage SCP",
                "the harness's SCP is not listening",
            ));
        };
        let mut cfg = crate::config::Dimse::embedded(addr.port());
        cfg.called_ae = world.ctx.config.simulator.ae_title.clone();
        cfg.calling_ae = "BUILTIN_MODALITY".into();
        // The fault makes the stand-in send the study's other series instead.
        let sent: Vec<PathBuf> = if world
            .ctx
            .faults
            .contains(&crate::reference::Fault::DimseModalitySendsOtherSeries)
        {
            study_instances(world, &alias)?
                .iter()
                .filter(|i| i.series_uid != insts[0].series_uid && !i.kos)
                .map(|i| world.ctx.fixtures.file(i))
                .collect()
        } else {
            files.clone()
        };
        let ex = DimseScu::from_config(&cfg).store(&sent).await;
        world.evidence.record(ex);
    }
    let timeout = world.ctx.config.simulator.trigger_timeout;
    let want: BTreeSet<String> = insts.iter().map(|i| i.sop_uid.clone()).collect();
    let deadline = std::time::Instant::now() + timeout;
    loop {
        // The SCP is this scenario's (it holds the lock): the SUT is whoever stored since the
        // trigger, preferring the calling AE that delivered an instance of the series.
        let got = inbound::since(world, mark);
        let callers: Vec<(String, bool)> = got
            .stores
            .iter()
            .filter_map(|e| e.dimse.as_deref())
            .map(|r| {
                let of_series = r
                    .received(crate::dimse::command::field::C_STORE_RQ)
                    .any(|m| {
                        m.command
                            .affected_sop_instance
                            .as_ref()
                            .is_some_and(|u| want.contains(u))
                    });
                (inbound::ae(&r.calling_ae).to_string(), of_series)
            })
            .collect();
        let caller = callers
            .iter()
            .find(|(_, s)| *s)
            .or(callers.first())
            .map(|(c, _)| c.clone());
        let mut stores: Vec<crate::evidence::Exchange> = match &caller {
            Some(c) => got
                .stores
                .iter()
                .filter(|e| {
                    e.dimse
                        .as_deref()
                        .is_some_and(|r| inbound::ae(&r.calling_ae) == c)
                })
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let uids: BTreeSet<String> = stores
            .iter()
            .filter_map(|e| e.dimse.as_deref())
            .flat_map(|r| r.messages.iter())
            .filter_map(|m| m.command.affected_sop_instance.clone())
            .collect();
        // Done when the series is complete, when the SUT's association has ended (whatever it
        // sent), when the SCP refused the SUT, or at the trigger timeout.
        let ended = caller
            .as_ref()
            .is_some_and(|c| inbound::ended_from(world, mark, c));
        let refused = stores.is_empty() && !got.refused.is_empty();
        if want.is_subset(&uids) || ended || refused || std::time::Instant::now() >= deadline {
            let refusals = inbound::refusals(&got.refused);
            record_inbound(
                world,
                &inbound::Inbound {
                    stores: Vec::new(),
                    refused: got.refused,
                },
            );
            if stores.is_empty() {
                let why = if refusals.is_empty() {
                    format!(
                        "no C-STORE reached the harness within {} ms",
                        timeout.as_millis()
                    )
                } else {
                    format!("no C-STORE reached the harness: {refusals}")
                };
                return Err(harness_error(world, "the SUT did not store", why));
            }
            for ex in &mut stores {
                ex.repro = format!("# sent by the SUT to the harness's SCP: {}", ex.repro);
            }
            let first = stores.remove(0);
            let idx = world.evidence.record(first);
            for ex in &stores {
                world.evidence.record(ex.clone());
            }
            world.dimse.last = Some(idx);
            world.dimse.followups = stores;
            world.dimse.expect = Expect {
                dimse: DimseExpect {
                    instances: Some(expected_instances(world, &insts)),
                    pixel_data: expected_pixels(world, &insts),
                    selects: vec![
                        ("StudyInstanceUID".into(), vec![insts[0].study_uid.clone()]),
                        (
                            "SeriesInstanceUID".into(),
                            vec![insts[0].series_uid.clone()],
                        ),
                    ],
                    ..DimseExpect::default()
                },
                ..Expect::default()
            };
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[then("the harness received exactly that series, unchanged")]
async fn received_series(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-09", "DIM-10", "DIM-13", "DIM-17", "DIM-19"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_sut_is_an_error_not_a_verdict_on_the_rejection() {
        let rejected = |source: u8, reason: u8| {
            let mut ex = crate::evidence::Exchange::synthetic(
                "dicom://PACS@127.0.0.1:104",
                &[],
                0,
                &[],
                b"",
            );
            ex.dimse = Some(Box::new(crate::evidence::dimse::DimseRecord {
                called_ae: "NOT_THE_SCP".into(),
                rejection: Some(crate::evidence::dimse::Rejection {
                    result: 2,
                    source,
                    reason,
                    text: String::new(),
                }),
                ..Default::default()
            }));
            ex.response = None;
            ex
        };
        // Temporary congestion: the SUT did not judge the called AE title.
        let mut busy = rejected(3, 1);
        assert!(is_transient(&busy));
        rejection_as_failure(&mut busy);
        let f = busy.failure.unwrap();
        assert_eq!(f.kind, "rejected");
        assert!(f.message.contains("busy"), "{}", f.message);
        // Called AE title not recognized: the answer the scenario judges (DIM-02).
        assert!(!is_transient(&rejected(1, 7)));
    }

    #[test]
    fn copies_are_new_instances_of_a_patient_of_their_own() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        let series: Vec<FixtureInstance> = fx
            .instances
            .iter()
            .filter(|i| i.ele_path.is_some() && !i.kos)
            .take(2)
            .cloned()
            .collect();
        let out = tempfile::tempdir().unwrap();
        let files = reidentified(&fx, &series, out.path()).unwrap();
        assert_eq!(files.len(), 2);
        for (f, i) in files.iter().zip(&series) {
            let copy = dicom_object::open_file(&f.path).unwrap();
            let twin = dicom_object::open_file(f.fallback.as_ref().unwrap()).unwrap();
            let text = |o: &dicom_object::DefaultDicomObject, t| {
                o.element(t)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .trim_end_matches(['\0', ' '])
                    .to_string()
            };
            assert_ne!(text(&copy, tags::SOP_INSTANCE_UID), i.sop_uid);
            assert_ne!(text(&copy, tags::STUDY_INSTANCE_UID), i.study_uid);
            assert!(text(&copy, tags::PATIENT_ID).starts_with("IHE-COPY-"));
            assert_ne!(text(&copy, tags::PATIENT_ID), i.patient_id);
            for t in [
                tags::SOP_INSTANCE_UID,
                tags::SERIES_INSTANCE_UID,
                tags::PATIENT_ID,
            ] {
                assert_eq!(text(&copy, t), text(&twin, t));
            }
            assert_eq!(
                copy.meta().transfer_syntax().trim_end_matches('\0'),
                i.transfer_syntax
            );
        }
    }
}
