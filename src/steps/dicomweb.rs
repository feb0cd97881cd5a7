//! DICOMweb steps: test data, WADO-RS (RAD-107), QIDO-RS (RAD-129) and STOW-RS (RAD-108).
//!
//! Studies are named by fixture alias ("CT-CHEST"), series and instances by their numbers, so that a
//! scenario reads as the use case it traces and the harness knows the truth to compare against.

use std::collections::BTreeSet;

use bytes::Bytes;
use cucumber::{given, then, when};

use super::{
    fail_continue, fail_stop, harness_error, judge_once, load_test_studies, record,
    series_instances, study_instances, StepError, StepResult,
};
use crate::actors::dicomweb::DicomwebClient;
use crate::actors::stow_rs::StowPart;
use crate::actors::{qido_rs, stow_rs, wado_rs};
use crate::checks::dicomweb::{qido_key_tag, unique_key};
use crate::checks::{Expect, FrameExpect, QidoLevel, SentInstance, Target};
use crate::config::TestDataMode;
use crate::model::dicom_json;
use crate::model::fixtures::FixtureInstance;
use crate::transport::media_type::parse_accept;
use crate::world::HarnessWorld;

/// A Study Instance UID no SUT holds (a UUID-derived UID of the project's own).
pub const UNKNOWN_STUDY: &str = "2.25.999999999999999999999999999999999";
/// A Series Instance UID no SUT holds.
pub const UNKNOWN_SERIES: &str = "2.25.999999999999999999999999999999998";

fn client(world: &mut HarnessWorld) -> Result<DicomwebClient, StepError> {
    match world.ctx.dicomweb.clone() {
        Some(c) => Ok(c),
        None => {
            let reason = "the SUT profile declares no DICOMweb endpoint ([dicomweb] table)";
            world.findings.push(crate::checks::Finding::not_applicable(
                "no DICOMweb endpoint",
                reason,
            ));
            Err(StepError(reason.into()))
        }
    }
}

fn instance(
    world: &mut HarnessWorld,
    alias: &str,
    series: i64,
    number: i64,
) -> Result<FixtureInstance, StepError> {
    let v = series_instances(world, alias, series)?;
    match v.into_iter().find(|i| i.instance_number == Some(number)) {
        // After the scenario stored a copy of it, the instance is that copy.
        Some(i) => Ok(world.dicomweb.copies.get(&i.sop_uid).cloned().unwrap_or(i)),
        None => Err(harness_error(
            world,
            "unknown fixture instance",
            format!("series {series} of {alias} has no instance {number}"),
        )),
    }
}

fn requested_ts(accept: Option<&str>) -> Option<String> {
    let accept = accept?;
    let items = parse_accept(accept).ok()?;
    items.first().and_then(|i| i.media.transfer_syntax())
}

async fn do_retrieve(
    world: &mut HarnessWorld,
    target: Target,
    resource: wado_rs::Resource,
    accept: Option<String>,
    instances: Option<BTreeSet<String>>,
) -> StepResult {
    let c = client(world)?;
    let exchange = wado_rs::retrieve(&c, &target, &resource, accept.as_deref()).await;
    let idx = record(world, exchange)?;
    world.dicomweb.last = Some(idx);
    world.dicomweb.followups.clear();
    // The patient the target belongs to, when it is one of the fixture studies (or a copy of one
    // the scenario stored): every answer must be about that patient.
    let patient_id = world
        .ctx
        .fixtures
        .study(&target.study)
        .and_then(|s| s.instances.first().map(|i| i.patient_id.clone()))
        .or_else(|| {
            world
                .dicomweb
                .copies
                .values()
                .find(|c| c.study_uid == target.study)
                .map(|c| c.patient_id.clone())
        });
    let stored_by_harness = stored_by_harness(world, &target.study);
    let lossy_instances = instances
        .as_ref()
        .map(|sops| lossy_instances(world, sops))
        .unwrap_or_default();
    world.dicomweb.expect = Expect {
        requested_ts: requested_ts(accept.as_deref()),
        target: Some(target),
        instances,
        patient_id,
        stored_by_harness,
        lossy_instances,
        ..Expect::default()
    };
    Ok(())
}

/// Did the harness store the objects of this study itself with STOW-RS: the test data in load
/// mode, or a copy the scenario stored? Then a coercion must be recorded (PS3.18 §10.5.3).
fn stored_by_harness(world: &HarnessWorld, study: &str) -> bool {
    world.ctx.config.test_data == TestDataMode::Load
        || world.dicomweb.copies.values().any(|c| c.study_uid == study)
}

/// The instances of a retrieve answer whose Patient ID differs from the one the harness knows
/// are looked up in the SUT's own metadata: the Patient ID it gives there, and an Original
/// Attributes Sequence that records the change (a coercion the SUT recorded, PS3.4 §B.4.1.3,
/// PS3.18 §10.5.3), are what DW-18 judges the change by. At most 8 instances are looked up; the
/// lookups are in the evidence.
async fn learn_patient_coercions(
    world: &mut HarnessWorld,
    idx: usize,
    expect: &mut Expect,
) -> Result<(), StepError> {
    let Some(want) = expect.patient_id.clone() else {
        return Ok(());
    };
    let differing: Vec<Target> = world
        .evidence
        .get(idx)
        .and_then(|e| e.multipart.as_ref())
        .map(|mp| {
            mp.parts
                .iter()
                .filter_map(|p| p.dicom.as_ref())
                .filter(|h| {
                    h.patient_id
                        .as_deref()
                        .map(|p| p.trim_end_matches(['\0', ' ']))
                        .is_some_and(|p| !p.is_empty() && p != want)
                })
                .filter_map(|h| {
                    Some(Target {
                        study: h.study_instance_uid.clone()?,
                        series: Some(h.series_instance_uid.clone()?),
                        instance: Some(h.sop_instance.clone()?),
                    })
                })
                .take(8)
                .collect()
        })
        .unwrap_or_default();
    if differing.is_empty() {
        return Ok(());
    }
    let c = client(world)?;
    for target in differing {
        let ex = wado_rs::retrieve(
            &c,
            &target,
            &wado_rs::Resource::Metadata,
            Some("application/dicom+json"),
        )
        .await;
        let i = record(world, ex)?;
        let Some(sop) = target.instance else { continue };
        let data_sets = world
            .evidence
            .get(i)
            .filter(|e| e.status() == Some(200))
            .and_then(|e| e.response.as_ref())
            .and_then(|r| r.json())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let Some(ds) = data_sets
            .iter()
            .find(|d| dicom_json::first_string(d, 0x0008_0018).as_deref() == Some(sop.as_str()))
        else {
            continue;
        };
        if crate::checks::dicomweb::records_patient_id_change(ds) {
            expect.patient_coercion_recorded.insert(sop.clone());
        }
        if let Some(pid) = dicom_json::first_string(ds, 0x0010_0020) {
            expect.metadata_patient_ids.insert(sop, pid);
        }
    }
    Ok(())
}

/// Judge target membership (DW-18, with DW-04 before it when given) of exchange `idx`, after
/// learning which Patient ID changes the SUT recorded.
async fn judge_membership(
    world: &mut HarnessWorld,
    idx: usize,
    mut expect: Expect,
    ids: &[&str],
) -> StepResult {
    learn_patient_coercions(world, idx, &mut expect).await?;
    judge_once(world, idx, &expect, &[], ids)
}

/// Transfer syntaxes whose decoded pixels are the same bytes whatever decoder an origin server
/// uses (uncompressed, deflated, or lossless compression), so frames can be compared by hash.
fn lossless(ts: &str) -> bool {
    !crate::checks::dicomweb::possibly_lossy(ts)
}

/// The instances of `sops` the harness stored (or the SUT was loaded with) in a lossy compressed
/// form: fixture instances, or the scenario's copies of them, by their transfer syntax.
fn lossy_instances(world: &HarnessWorld, sops: &BTreeSet<String>) -> BTreeSet<String> {
    let studies = world.ctx.fixtures.studies();
    let fixtures = studies
        .iter()
        .flat_map(|s| s.instances.iter().map(|i| &**i))
        .chain(world.dicomweb.copies.values());
    fixtures
        .filter(|i| sops.contains(&i.sop_uid) && !lossless(&i.transfer_syntax))
        .map(|i| i.sop_uid.clone())
        .collect()
}

/// What the harness knows of one fixture image: Columns, Rows, and the uncompressed frames.
struct FixtureImage {
    columns: u32,
    rows: u32,
    frames: Vec<Vec<u8>>,
}

/// Read the uncompressed form of a fixture image (its Explicit VR Little Endian copy, or the file
/// itself when stored uncompressed). The fixtures are the project's own files, read with
/// dicom-object directly.
fn read_fixture_image(path: std::path::PathBuf) -> Result<FixtureImage, String> {
    use dicom_dictionary_std::tags;
    let obj = dicom_object::open_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let int = |tag| -> Option<u32> { obj.element(tag).ok()?.to_int::<u32>().ok() };
    let (Some(rows), Some(columns)) = (int(tags::ROWS), int(tags::COLUMNS)) else {
        return Err(format!("{} has no Rows/Columns", path.display()));
    };
    let samples = int(tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    let bytes_per = int(tags::BITS_ALLOCATED).unwrap_or(8).div_ceil(8);
    let frame_len = (rows * columns * samples * bytes_per) as usize;
    let pixels = obj
        .element(tags::PIXEL_DATA)
        .ok()
        .and_then(|e| e.to_bytes().ok())
        .map(|b| b.into_owned())
        .unwrap_or_default();
    let frames = if frame_len == 0 {
        Vec::new()
    } else {
        pixels
            .chunks(frame_len)
            .filter(|c| c.len() == frame_len)
            .map(<[u8]>::to_vec)
            .collect()
    };
    Ok(FixtureImage {
        columns,
        rows,
        frames,
    })
}

/// The fixture image of `inst` in its uncompressed form.
async fn fixture_image(
    world: &mut HarnessWorld,
    inst: &FixtureInstance,
) -> Result<FixtureImage, StepError> {
    let path = match &inst.ele_path {
        Some(ele) => world.ctx.fixtures.file(&FixtureInstance {
            path: ele.clone(),
            ..inst.clone()
        }),
        None => world.ctx.fixtures.file(inst),
    };
    match tokio::task::spawn_blocking(move || read_fixture_image(path)).await {
        Ok(Ok(img)) => Ok(img),
        Ok(Err(e)) => Err(harness_error(world, "fixture unreadable", e)),
        Err(e) => Err(harness_error(world, "fixture unreadable", e.to_string())),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The instance as a retrieve target.
fn instance_target(inst: &FixtureInstance) -> Target {
    Target {
        study: inst.study_uid.clone(),
        series: Some(inst.series_uid.clone()),
        instance: Some(inst.sop_uid.clone()),
    }
}

/// The series of this instance as a retrieve target.
fn series_target(inst: &FixtureInstance) -> Target {
    Target {
        instance: None,
        ..instance_target(inst)
    }
}

/// The study of this instance as a retrieve target.
fn study_target(inst: &FixtureInstance) -> Target {
    Target {
        study: inst.study_uid.clone(),
        series: None,
        instance: None,
    }
}

/// A study no SUT holds as a retrieve target.
fn unknown_study() -> Target {
    Target {
        study: UNKNOWN_STUDY.into(),
        series: None,
        instance: None,
    }
}

/// Retrieve the instances of a target the SUT does not hold (an unknown study or series, an
/// instance under another study or series), in any transfer syntax: no instances are expected.
async fn retrieve_unheld(world: &mut HarnessWorld, target: Target) -> StepResult {
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(wado_rs::accept_dicom(None)),
        None,
    )
    .await
}

/// Retrieve the metadata of a target, in DICOM JSON, expecting `instances` when given.
async fn retrieve_metadata(
    world: &mut HarnessWorld,
    target: Target,
    instances: Option<BTreeSet<String>>,
) -> StepResult {
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Metadata,
        Some("application/dicom+json".into()),
        instances,
    )
    .await
}

fn sops(v: &[FixtureInstance]) -> BTreeSet<String> {
    v.iter().map(|i| i.sop_uid.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// Test data

#[given("the DICOMweb origin server holds the test studies")]
async fn holds_test_studies(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    load_test_studies(world, c).await
}

// ---------------------------------------------------------------------------------------------
// WADO-RS RAD-107

#[when(expr = "the consumer retrieves study {string}")]
async fn retrieve_study(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_study_accepting(world, alias, wado_rs::accept_dicom(None)).await
}

#[when(expr = "the consumer retrieves study {string} in transfer syntax {string}")]
async fn retrieve_study_ts(world: &mut HarnessWorld, alias: String, ts: String) -> StepResult {
    retrieve_study_accepting(world, alias, wado_rs::accept_dicom(Some(&ts))).await
}

#[when(expr = "the consumer retrieves study {string} accepting {string}")]
async fn retrieve_study_accepting(
    world: &mut HarnessWorld,
    alias: String,
    accept: String,
) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let target = study_target(first);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(accept),
        Some(sops(&insts)),
    )
    .await
}

#[when(expr = "the consumer retrieves series {int} of study {string}")]
async fn retrieve_series(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    retrieve_series_ts_opt(world, series, alias, None).await
}

#[when(expr = "the consumer retrieves series {int} of study {string} in transfer syntax {string}")]
async fn retrieve_series_ts(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    retrieve_series_ts_opt(world, series, alias, Some(ts)).await
}

async fn retrieve_series_ts_opt(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    ts: Option<String>,
) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let first = &insts[0];
    let target = series_target(first);
    let accept = wado_rs::accept_dicom(ts.as_deref());
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(accept),
        Some(sops(&insts)),
    )
    .await
}

#[when(expr = "the consumer retrieves instance {int} of series {int} of study {string}")]
async fn retrieve_instance(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    retrieve_instance_ts_opt(world, n, series, alias, None).await
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} in transfer syntax {string}"
)]
async fn retrieve_instance_ts(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    ts: String,
) -> StepResult {
    retrieve_instance_ts_opt(world, n, series, alias, Some(ts)).await
}

async fn retrieve_instance_ts_opt(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    ts: Option<String>,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let target = instance_target(&inst);
    let accept = wado_rs::accept_dicom(ts.as_deref());
    let expected = BTreeSet::from([inst.sop_uid.clone()]);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Instances,
        Some(accept),
        Some(expected),
    )
    .await
}

#[when("the consumer retrieves an unknown study")]
async fn retrieve_unknown_study(world: &mut HarnessWorld) -> StepResult {
    retrieve_unheld(world, unknown_study()).await
}

#[when("the consumer retrieves the metadata of an unknown study")]
async fn retrieve_unknown_study_metadata(world: &mut HarnessWorld) -> StepResult {
    retrieve_metadata(world, unknown_study(), None).await
}

#[when(expr = "the consumer retrieves an unknown series of study {string}")]
async fn retrieve_unknown_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let target = Target {
        study: insts[0].study_uid.clone(),
        series: Some(UNKNOWN_SERIES.into()),
        instance: None,
    };
    retrieve_unheld(world, target).await
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} under series {int}"
)]
async fn retrieve_wrong_hierarchy(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    wrong_series: i64,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let other = series_instances(world, &alias, wrong_series)?;
    let target = Target {
        study: inst.study_uid.clone(),
        series: Some(other[0].series_uid.clone()),
        instance: Some(inst.sop_uid.clone()),
    };
    retrieve_unheld(world, target).await
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} under study {string}"
)]
async fn retrieve_wrong_study(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    other_alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let other = study_instances(world, &other_alias)?;
    let target = Target {
        study: other[0].study_uid.clone(),
        series: Some(inst.series_uid.clone()),
        instance: Some(inst.sop_uid.clone()),
    };
    retrieve_unheld(world, target).await
}

#[when(expr = "the consumer retrieves the metadata of study {string}")]
async fn retrieve_study_metadata(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let target = study_target(&insts[0]);
    retrieve_metadata(world, target, Some(sops(&insts))).await
}

#[when(expr = "the consumer retrieves the metadata of series {int} of study {string}")]
async fn retrieve_series_metadata(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let target = series_target(&insts[0]);
    retrieve_metadata(world, target, Some(sops(&insts))).await
}

#[when(
    expr = "the consumer retrieves the metadata of instance {int} of series {int} of study {string}"
)]
async fn retrieve_instance_metadata(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let target = instance_target(&inst);
    let expected = BTreeSet::from([inst.sop_uid.clone()]);
    retrieve_metadata(world, target, Some(expected)).await
}

#[when(
    expr = "the consumer retrieves frames {string} of instance {int} of series {int} of study {string}"
)]
async fn retrieve_frames(
    world: &mut HarnessWorld,
    list: String,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let mut frames = Vec::new();
    for f in list.split(',') {
        match f.trim().parse::<u32>() {
            Ok(v) => frames.push(v),
            Err(_) => return Err(harness_error(world, "bad frame list", list.clone())),
        }
    }
    let image = fixture_image(world, &inst).await?;
    let exact = lossless(&inst.transfer_syntax);
    let mut expected = Vec::new();
    for n in &frames {
        let Some(bytes) = image.frames.get((*n as usize).wrapping_sub(1)) else {
            return Err(harness_error(
                world,
                "bad frame list",
                format!("the fixture instance has no frame {n}"),
            ));
        };
        expected.push(FrameExpect {
            number: *n,
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            exact,
        });
    }
    let target = instance_target(&inst);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Frames(frames),
        Some("multipart/related; type=\"application/octet-stream\"".into()),
        None,
    )
    .await?;
    world.dicomweb.expect.frames = expected;
    Ok(())
}

#[when(
    expr = "the consumer retrieves instance {int} of series {int} of study {string} rendered as {string}"
)]
async fn retrieve_rendered(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    accept: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let image = fixture_image(world, &inst).await?;
    let target = instance_target(&inst);
    do_retrieve(
        world,
        target,
        wado_rs::Resource::Rendered,
        Some(accept),
        None,
    )
    .await?;
    world.dicomweb.expect.rendered_size = Some((image.columns, image.rows));
    Ok(())
}

/// For a type the server may or may not render (PS3.18 Table 8.7.4-1 leaves it optional): 406
/// (§8.7.8.1, none of the Acceptable Media Types offered), or 200 with an image of that very type.
#[then("the response is 406, or a rendered image of the type asked for")]
async fn rendered_or_406(world: &mut HarnessWorld) -> StepResult {
    world.dicomweb.expect.status = vec![406, 200];
    world.dicomweb.expect.status_reason =
        "a rendered type the server may not offer (200 only with an image of that type)".into();
    judge_last(world, &["DW-04", "DW-21"])
}

#[then("the response is a rendered image of a type the request accepts")]
async fn rendered_image(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-21"])
}

// ---------------------------------------------------------------------------------------------
// Manifests over WADO-RS: the KOS is retrieved as an instance (MADO UC#2), judged, and its
// references are retrieved from the same source (the manifest-to-images cross-walk).

#[when(expr = "the consumer retrieves the manifest of study {string}")]
async fn retrieve_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let Some(kos) = insts.iter().find(|i| i.kos).cloned() else {
        return Err(harness_error(
            world,
            "no fixture manifest",
            format!("study {alias} has no KOS"),
        ));
    };
    let expected = BTreeSet::from([kos.sop_uid.clone()]);
    do_retrieve(
        world,
        instance_target(&kos),
        wado_rs::Resource::Instances,
        Some(wado_rs::accept_dicom(None)),
        Some(expected),
    )
    .await
}

#[then("the manifest is a valid XDS-I.b imaging manifest")]
async fn manifest_valid(world: &mut HarnessWorld) -> StepResult {
    let ids: Vec<&str> = crate::checks::kos::CHECKS.iter().map(|c| c.id).collect();
    judge_last(world, &ids)
}

#[when("the consumer retrieves every series the manifest references")]
async fn retrieve_manifest_series(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let bytes = world
        .dicomweb
        .last
        .and_then(|i| world.evidence.get(i))
        .and_then(|e| e.multipart.as_ref())
        .and_then(|mp| {
            mp.parts.iter().find_map(|p| {
                let is_kos = p
                    .dicom
                    .as_ref()
                    .and_then(|d| d.sop_class.as_deref())
                    .is_some_and(|c| c == crate::model::kos::KOS_SOP_CLASS);
                if is_kos {
                    p.document.clone()
                } else {
                    None
                }
            })
        });
    let last = world.dicomweb.last;
    let Some(bytes) = bytes else {
        // The retrieve of the manifest did not bring it: the SUT's answer, not the harness.
        return Err(fail_stop(
            world,
            "DW-04",
            last,
            "200 with the KOS manifest of the study",
            "no KOS manifest part in the response",
        ));
    };
    let manifest = match crate::model::kos::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return Err(fail_stop(
                world,
                "KOS-01",
                last,
                "a KOS manifest that parses as DICOM PS3.10",
                e.to_string(),
            ))
        }
    };
    // Series in the order the manifest lists them, each with the instances it references.
    let mut series: Vec<(Target, BTreeSet<String>)> = Vec::new();
    for r in &manifest.evidence {
        let target = Target {
            study: r.study_uid.clone(),
            series: Some(r.series_uid.clone()),
            instance: None,
        };
        match series.iter_mut().find(|(t, _)| *t == target) {
            Some((_, set)) => {
                set.insert(r.sop_instance.clone());
            }
            None => series.push((target, BTreeSet::from([r.sop_instance.clone()]))),
        }
    }
    world.dicomweb.crosswalk.clear();
    for (target, instances) in series {
        // As stored: the cross-walk is about which instances exist, not about transcoding.
        let accept = wado_rs::accept_dicom(Some("*"));
        let ex = wado_rs::retrieve(&c, &target, &wado_rs::Resource::Instances, Some(&accept)).await;
        let idx = record(world, ex)?;
        let patient_id = world
            .ctx
            .fixtures
            .study(&target.study)
            .and_then(|s| s.instances.first().map(|i| i.patient_id.clone()));
        let stored_by_harness = stored_by_harness(world, &target.study);
        let expect = Expect {
            status: vec![200],
            requested_ts: Some("*".into()),
            target: Some(target),
            instances: Some(instances),
            patient_id,
            stored_by_harness,
            ..Expect::default()
        };
        world.dicomweb.crosswalk.push((idx, expect));
    }
    Ok(())
}

#[then("each series retrieve returns exactly the instances the manifest references")]
async fn crosswalk_complete(world: &mut HarnessWorld) -> StepResult {
    let crosswalk = std::mem::take(&mut world.dicomweb.crosswalk);
    if crosswalk.is_empty() {
        let last = world.dicomweb.last;
        return Err(fail_stop(
            world,
            "KOS-05",
            last,
            "a manifest whose evidence references the study's series",
            "the manifest references no series",
        ));
    }
    for (idx, expect) in crosswalk {
        judge_membership(world, idx, expect, &["DW-04", "DW-18"]).await?;
    }
    Ok(())
}

#[when(
    expr = "the consumer uses all four RAD-107 message pairs on instance {int} of series {int} of study {string}"
)]
async fn four_pairs(world: &mut HarnessWorld, n: i64, series: i64, alias: String) -> StepResult {
    let c = client(world)?;
    let inst = instance(world, &alias, series, n)?;
    let target = instance_target(&inst);
    let first = wado_rs::retrieve(
        &c,
        &target,
        &wado_rs::Resource::Instances,
        Some(&wado_rs::accept_dicom(None)),
    )
    .await;
    let first_idx = record(world, first)?;
    let meta = wado_rs::retrieve(
        &c,
        &target,
        &wado_rs::Resource::Metadata,
        Some("application/dicom+json"),
    )
    .await;
    let meta_idx = record(world, meta)?;
    // Get Bulkdata through a BulkDataURI of the metadata, as a consumer would find it: the
    // Pixel Data's, else the first one (a server may give the pixel data inline, §10.4.3.3.2).
    let uri = world.evidence.get(meta_idx).and_then(|e| {
        let uris = e
            .response
            .as_ref()
            .and_then(|r| r.json())
            .map(|v| dicom_json::bulk_data_uris(&v))
            .unwrap_or_default();
        let pixel = uris.iter().find(|(path, _)| is_pixel_data_path(path));
        pixel
            .or(uris.first())
            .map(|(_, u)| resolve_uri(&e.request.url, u))
    });
    let mut followup_idx = vec![meta_idx];
    if let Some(uri) = uri {
        let bulk = wado_rs::bulkdata(
            &c,
            &uri,
            Some("multipart/related; type=\"application/octet-stream\""),
        )
        .await;
        followup_idx.push(record(world, bulk)?);
    }
    // image/jpeg: the rendered type every origin server supports (Table 8.7.4-1: Default).
    let rendered = wado_rs::retrieve(
        &c,
        &target,
        &wado_rs::Resource::Rendered,
        Some("image/jpeg"),
    )
    .await;
    followup_idx.push(record(world, rendered)?);
    world.dicomweb.followups = followup_idx
        .iter()
        .filter_map(|i| world.evidence.get(*i).cloned())
        .collect();
    world.dicomweb.last = Some(first_idx);
    world.dicomweb.expect = Expect::default();
    Ok(())
}

#[then("each of the four message pairs is answered")]
async fn four_pairs_answered(world: &mut HarnessWorld) -> StepResult {
    judge_last_with_followups(world, &["DW-14"])
}

#[when("the consumer asks the origin server for its capabilities")]
async fn ask_capabilities(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let ex = wado_rs::capabilities(&c).await;
    let idx = record(world, ex)?;
    world.dicomweb.last = Some(idx);
    world.dicomweb.expect = Expect::default();
    Ok(())
}

#[then("the capabilities are described in WADL")]
async fn capabilities_wadl(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-13"])
}

#[when("the consumer dereferences every BulkDataURI of the metadata")]
async fn dereference_bulkdata(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let Some(idx) = world.dicomweb.last else {
        return Err(harness_error(
            world,
            "no metadata",
            "no metadata was retrieved before this step",
        ));
    };
    // BulkDataURIs may be relative references: resolved against the metadata's URL (RFC 3986
    // §5; PS3.18 §F.2.6 names a URI, not an absolute one).
    let (metadata_url, all_uris) = world
        .evidence
        .get(idx)
        .map(|e| {
            let uris = e
                .response
                .as_ref()
                .and_then(|r| r.json())
                .map(|v| dicom_json::bulk_data_uris(&v))
                .unwrap_or_default();
            (e.request.url.clone(), uris)
        })
        .unwrap_or_default();
    let uris: Vec<String> = all_uris
        .iter()
        .map(|(_, uri)| resolve_uri(&metadata_url, uri))
        .take(8)
        .collect();
    // The Pixel Data URI of an instance the harness holds losslessly: its value is known. Only
    // the top-level Pixel Data: one in a sequence (an icon image) is another image.
    let pixel_uri = all_uris
        .iter()
        .find(|(path, _)| is_pixel_data_path(path))
        .map(|(_, u)| resolve_uri(&metadata_url, u));
    let fixture = world
        .dicomweb
        .expect
        .target
        .as_ref()
        .and_then(|t| t.instance.clone())
        .and_then(|sop| {
            world
                .ctx
                .fixtures
                .studies()
                .iter()
                .flat_map(|s| s.instances.iter())
                .find(|i| i.sop_uid == sop)
                .map(|i| (*i).clone())
        });
    if let (Some(uri), Some(inst)) = (pixel_uri, fixture) {
        if lossless(&inst.transfer_syntax) {
            let image = fixture_image(world, &inst).await?;
            let pixels: Vec<u8> = image.frames.concat();
            world.dicomweb.expect.pixel_data =
                Some((uri, pixels.len() as u64, sha256_hex(&pixels)));
        }
    }
    let mut followups = Vec::new();
    for uri in uris {
        let ex = wado_rs::bulkdata(
            &c,
            &uri,
            Some("multipart/related; type=\"application/octet-stream\""),
        )
        .await;
        let i = record(world, ex)?;
        if let Some(e) = world.evidence.get(i) {
            followups.push(e.clone());
        }
    }
    world.dicomweb.followups = followups;
    Ok(())
}

/// The path `dicom_json::bulk_data_uris` gives the top-level Pixel Data (7FE0,0010) of a data
/// set, alone or in a top-level array.
fn is_pixel_data_path(path: &str) -> bool {
    let last = path.rsplit_once("].").map_or(path, |(head, tail)| {
        // `[i].7FE00010`: the element of a top-level array, not of a sequence item.
        if head.starts_with('[') && !head.contains('.') {
            tail
        } else {
            ""
        }
    });
    last == "7FE00010"
}

/// A BulkDataURI as an absolute URL: relative references resolve against the URL of the
/// metadata that gave them (RFC 3986 §5.1.3); one that does not parse is used as given.
fn resolve_uri(base: &str, uri: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(uri))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| uri.to_string())
}

#[then("the response is a well-formed multipart/related message of DICOM instances")]
async fn well_formed_dicom_multipart(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-01", "DW-02", "DW-17"])
}

#[then("the response is a well-formed multipart/related message")]
async fn well_formed_multipart(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-01", "DW-02"])
}

#[then("the instances are in an acceptable transfer syntax")]
async fn acceptable_ts(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-03"])
}

#[then("the response holds every instance of the target and nothing else")]
async fn every_instance(world: &mut HarnessWorld) -> StepResult {
    world.dicomweb.expect.status = vec![200];
    let idx = last_index(world)?;
    let expect = world.dicomweb.expect.clone();
    judge_membership(world, idx, expect, &["DW-04", "DW-18"]).await
}

#[then(expr = "the response holds {int} part(s)")]
async fn part_count(world: &mut HarnessWorld, n: usize) -> StepResult {
    let got = world
        .dicomweb
        .last
        .and_then(|i| world.evidence.get(i))
        .and_then(|e| e.multipart.as_ref())
        .map(|m| m.parts.len());
    if got != Some(n) {
        // A breach of the request, not a harness failure: the frames rule when frames were
        // asked, otherwise the target-membership rule (one part per instance of the target).
        let check = if world.dicomweb.expect.frames.is_empty() {
            "DW-18"
        } else {
            "DW-23"
        };
        let last = world.dicomweb.last;
        fail_continue(
            world,
            check,
            last,
            format!("{n} part(s)"),
            match got {
                Some(g) => format!("{g} part(s)"),
                None => "no multipart body".to_string(),
            },
        );
    }
    Ok(())
}

#[then("the response holds the frames asked for")]
async fn frames_asked(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-23"])
}

#[then("the metadata follows the DICOM JSON model")]
async fn metadata_json_model(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-05"])
}

#[then("every BulkDataURI is retrievable")]
async fn bulkdata_retrievable(world: &mut HarnessWorld) -> StepResult {
    judge_last_with_followups(world, &["DW-06"])
}

#[then("the metadata describes every instance of the target")]
async fn metadata_every_instance(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-22"])
}

/// Index of the exchange the next `Then` judges.
fn last_index(world: &mut HarnessWorld) -> Result<usize, StepError> {
    match world.dicomweb.last {
        Some(idx) => Ok(idx),
        None => Err(harness_error(
            world,
            "no exchange to judge",
            "no request was sent before this step",
        )),
    }
}

fn judge_last(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let idx = last_index(world)?;
    let expect = world.dicomweb.expect.clone();
    judge_once(world, idx, &expect, &[], ids)
}

/// Judge the last exchange together with the follow-up exchanges made after it.
fn judge_last_with_followups(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let idx = last_index(world)?;
    let followups = world.dicomweb.followups.clone();
    let expect = world.dicomweb.expect.clone();
    judge_once(world, idx, &expect, &followups, ids)
}

// ---------------------------------------------------------------------------------------------
// QIDO-RS RAD-129

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

async fn do_search(
    world: &mut HarnessWorld,
    path: String,
    level: QidoLevel,
    query: &str,
    scope: Option<(String, Option<String>)>,
) -> StepResult {
    let c = client(world)?;
    let params = parse_query(query);
    let exchange = qido_rs::search(&c, &path, &params, None).await;
    let idx = record(world, exchange)?;
    let mut expect = Expect {
        qido_level: Some(level),
        qido_path: scope,
        ..Expect::default()
    };
    for (k, v) in &params {
        match k.as_str() {
            "limit" => expect.limit = v.parse().ok(),
            "offset" => expect.offset = v.parse().ok(),
            "includefield" => {
                for f in v.split(',') {
                    if let Some(t) = qido_key_tag(f) {
                        expect.includefield.push(t);
                    }
                }
            }
            "fuzzymatching" => {}
            _ => expect.query.push((k.clone(), v.clone())),
        }
    }
    if expect.limit.is_none() && expect.offset.is_none() {
        let uids: Option<Vec<String>> = world
            .evidence
            .get(idx)
            .and_then(|e| e.response.as_ref())
            .and_then(|r| r.json())
            .and_then(|v| v.as_array().cloned())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|d| dicom_json::first_string(d, unique_key(level)))
                    .collect()
            });
        world.dicomweb.unpaged = uids;
    } else {
        expect.unpaged = world.dicomweb.unpaged.clone();
    }
    expect.qido_known = known_entities(world, level);
    world.dicomweb.last = Some(idx);
    world.dicomweb.level = Some(level);
    world.dicomweb.expect = expect;
    Ok(())
}

/// What the harness knows of every fixture entity of `level`, by unique key (DW-26). A SUT
/// holds the whole of every fixture study it holds (loaded by the harness, or preloaded), so
/// the related series and instances it counts are at least the fixture's.
fn known_entities(
    world: &HarnessWorld,
    level: QidoLevel,
) -> std::collections::BTreeMap<String, crate::checks::dicomweb::KnownEntity> {
    use crate::checks::dicomweb::KnownEntity;
    let mut out: std::collections::BTreeMap<String, KnownEntity> = Default::default();
    for study in world.ctx.fixtures.studies() {
        for i in &study.instances {
            let key = match level {
                QidoLevel::Study => &i.study_uid,
                QidoLevel::Series => &i.series_uid,
                QidoLevel::Instance => &i.sop_uid,
            };
            let k = out.entry(key.clone()).or_default();
            if !i.modality.is_empty() && level != QidoLevel::Instance {
                k.modalities.insert(i.modality.clone());
            }
            match level {
                QidoLevel::Study => {}
                QidoLevel::Series => k.series_number = i.series_number,
                QidoLevel::Instance => {
                    k.instance_number = i.instance_number;
                    k.sop_class = Some(i.sop_class.clone());
                }
            }
            if level != QidoLevel::Instance {
                *k.related_instances.get_or_insert(0) += 1;
            }
        }
        if level == QidoLevel::Study {
            let series: BTreeSet<&str> = study
                .instances
                .iter()
                .map(|i| i.series_uid.as_str())
                .collect();
            if let Some(first) = study.instances.first() {
                if let Some(k) = out.get_mut(&first.study_uid) {
                    k.related_series = Some(series.len());
                }
            }
        }
    }
    out
}

#[when("the consumer searches for all studies")]
async fn search_all_studies(world: &mut HarnessWorld) -> StepResult {
    do_search(world, "studies".into(), QidoLevel::Study, "", None).await
}

#[when(expr = "the consumer searches for studies with {string}")]
async fn search_studies(world: &mut HarnessWorld, query: String) -> StepResult {
    do_search(world, "studies".into(), QidoLevel::Study, &query, None).await
}

#[when(expr = "the consumer searches for studies of patient {string}")]
async fn search_studies_patient(world: &mut HarnessWorld, pid: String) -> StepResult {
    do_search(
        world,
        "studies".into(),
        QidoLevel::Study,
        &format!("PatientID={pid}"),
        None,
    )
    .await
}

#[when(expr = "the consumer searches for studies with the UIDs of {string} and {string}")]
async fn search_uid_list(world: &mut HarnessWorld, a: String, b: String) -> StepResult {
    let ua = study_instances(world, &a)?[0].study_uid.clone();
    let ub = study_instances(world, &b)?[0].study_uid.clone();
    do_search(
        world,
        "studies".into(),
        QidoLevel::Study,
        &format!("StudyInstanceUID={ua},{ub}"),
        None,
    )
    .await
}

#[when(expr = "the consumer searches for series of study {string}")]
async fn search_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    search_series_with(world, alias, String::new()).await
}

#[when(expr = "the consumer searches for series of study {string} with {string}")]
async fn search_series_with(world: &mut HarnessWorld, alias: String, query: String) -> StepResult {
    let uid = study_instances(world, &alias)?[0].study_uid.clone();
    do_search(
        world,
        format!("studies/{uid}/series"),
        QidoLevel::Series,
        &query,
        Some((uid.clone(), None)),
    )
    .await
}

#[when(expr = "the consumer searches for instances of series {int} of study {string}")]
async fn search_instances(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let path = format!(
        "studies/{}/series/{}/instances",
        insts[0].study_uid, insts[0].series_uid
    );
    let scope = Some((
        insts[0].study_uid.clone(),
        Some(insts[0].series_uid.clone()),
    ));
    do_search(world, path, QidoLevel::Instance, "", scope).await
}

#[then("every result has the required attributes")]
async fn required_attrs(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-07"])
}

#[then("every result describes the test-data entity it names")]
async fn results_describe_their_entity(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-26"])
}

#[then("every result matches the query")]
async fn results_match(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-19"])
}

#[then("the results are the requested page of the unpaged results")]
async fn page_ok(world: &mut HarnessWorld) -> StepResult {
    // Ask the unpaged query again: if its matches changed meanwhile (another client stored a
    // study), the page is not judged against the earlier list (PS3.18 §8.3.4.4.1).
    let idx = last_index(world)?;
    let url = world
        .evidence
        .get(idx)
        .map(|e| e.request.url.clone())
        .unwrap_or_default();
    let c = client(world)?;
    if let (Some(rest), Some(level)) = (url.strip_prefix(&c.base), world.dicomweb.level) {
        let (path, query) = rest
            .trim_start_matches('/')
            .split_once('?')
            .unwrap_or((rest, ""));
        let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "limit" && k != "offset")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let again = qido_rs::search(&c, path, &params, None).await;
        let uids = again
            .response
            .as_ref()
            .and_then(|r| r.json())
            .and_then(|v| v.as_array().cloned())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|d| dicom_json::first_string(d, unique_key(level)))
                    .collect()
            });
        record(world, again)?;
        world.dicomweb.expect.unpaged_after = uids;
    }
    judge_last(world, &["DW-08", "DW-25"])
}

#[then(expr = "the results include the studies {string}")]
async fn results_include_studies(world: &mut HarnessWorld, aliases: String) -> StepResult {
    let mut known = BTreeSet::new();
    for a in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        known.insert(study_instances(world, a)?[0].study_uid.clone());
    }
    world.dicomweb.expect.known_matches = Some(known);
    judge_last(world, &["DW-09"])
}

#[then(expr = "the results include every series of study {string}")]
async fn results_include_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let known: BTreeSet<String> = study_instances(world, &alias)?
        .iter()
        .map(|i| i.series_uid.clone())
        .collect();
    world.dicomweb.expect.known_matches = Some(known);
    judge_last(world, &["DW-09"])
}

#[then(expr = "the results include every instance of series {int} of study {string}")]
async fn results_include_instances(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
) -> StepResult {
    let known = sops(&series_instances(world, &alias, series)?);
    world.dicomweb.expect.known_matches = Some(known);
    judge_last(world, &["DW-09"])
}

/// An empty list is judged by DW-19: any result of another patient fails the matching rule.
#[then("the result list is empty")]
async fn result_empty(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-19"])
}

// ---------------------------------------------------------------------------------------------
// STOW-RS RAD-108

/// The seed of this run's re-identified copies (one per process, so one per run).
fn copy_seed() -> &'static str {
    static SEED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SEED.get_or_init(crate::model::reidentify::run_seed)
}

/// A fresh map for the copies of one store request: every store gets UIDs of its own, so no
/// scenario stores what another (or the loading of the test data) already stored.
fn copy_map() -> crate::model::reidentify::UidMap {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    crate::model::reidentify::UidMap::new(format!("{}/store-{n}", copy_seed()))
}

/// Read the fixture files of `insts`: as they are, or (with `map`) as re-identified copies under
/// fresh Study, Series and SOP Instance UIDs, which the scenario's later steps then address.
async fn read_parts(
    world: &mut HarnessWorld,
    insts: &[FixtureInstance],
    mut map: Option<&mut crate::model::reidentify::UidMap>,
) -> Result<(Vec<StowPart>, Vec<FixtureInstance>), StepError> {
    let mut parts = Vec::new();
    let mut stored = Vec::new();
    for i in insts {
        let path = world.ctx.fixtures.file(i);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => {
                return Err(harness_error(
                    world,
                    "fixture unreadable",
                    format!("{}: {e}", path.display()),
                ))
            }
        };
        let (bytes, inst) = match map.as_deref_mut() {
            None => (bytes, i.clone()),
            Some(map) => match crate::model::reidentify::reidentify(&bytes, map) {
                Ok(copy) => {
                    let inst = FixtureInstance {
                        study_uid: copy.study_uid,
                        series_uid: copy.series_uid,
                        sop_uid: copy.sop_uid,
                        patient_id: copy.patient_id,
                        ..i.clone()
                    };
                    world
                        .dicomweb
                        .copies
                        .insert(i.sop_uid.clone(), inst.clone());
                    (copy.bytes, inst)
                }
                Err(e) => return Err(harness_error(world, "fixture copy failed", e.to_string())),
            },
        };
        parts.push(StowPart {
            content_type: "application/dicom".into(),
            body: Bytes::from(bytes),
        });
        stored.push(inst);
    }
    Ok((parts, stored))
}

fn sent(insts: &[FixtureInstance]) -> Vec<SentInstance> {
    insts
        .iter()
        .map(|i| SentInstance {
            sop_class: i.sop_class.clone(),
            sop_instance: i.sop_uid.clone(),
            study: i.study_uid.clone(),
            series: i.series_uid.clone(),
        })
        .collect()
}

/// How a store request treats the fixture instances it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copies {
    /// Re-identified copies the SUT has never seen (every store scenario but one).
    Fresh,
    /// The fixture instances themselves, which the SUT already holds (the duplicates scenario).
    AlreadyHeld,
}

/// POST `insts` (and `extra` parts) to /studies, or to /studies/{study} when `url_study` names a
/// fixture study (mapped to its copy's UID, like the instances).
async fn do_store(
    world: &mut HarnessWorld,
    url_study: Option<String>,
    insts: Vec<FixtureInstance>,
    extra: Vec<StowPart>,
    copies: Copies,
) -> StepResult {
    let c = client(world)?;
    let mut map = (copies == Copies::Fresh).then(copy_map);
    let (mut parts, stored) = read_parts(world, &insts, map.as_mut()).await?;
    let url_study = match (url_study, map.as_mut()) {
        (Some(u), Some(map)) => Some(map.uid(&u)),
        (u, _) => u,
    };
    let mut sent = sent(&stored);
    for p in extra {
        sent.push(SentInstance {
            sop_class: String::new(),
            sop_instance: String::new(),
            study: String::new(),
            series: String::new(),
        });
        parts.push(p);
    }
    let exchange = stow_rs::store(&c, url_study.as_deref(), &parts).await;
    let idx = record(world, exchange)?;
    world.dicomweb.last = Some(idx);
    world.dicomweb.expect = Expect {
        stow_url_study: url_study,
        stow_sent: sent,
        ..Expect::default()
    };
    Ok(())
}

#[when(expr = "the sender stores series {int} of study {string}")]
async fn store_series(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    do_store(world, None, insts, Vec::new(), Copies::Fresh).await
}

#[when(expr = "the sender stores series {int} of study {string} to the URL of that study")]
async fn store_series_to_study(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    let study = insts[0].study_uid.clone();
    do_store(world, Some(study), insts, Vec::new(), Copies::Fresh).await
}

#[when(
    expr = "the sender stores instance {int} of series {int} of study {string} to the URL of study {string}"
)]
async fn store_to_other_study(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
    other: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    let url_study = study_instances(world, &other)?[0].study_uid.clone();
    do_store(
        world,
        Some(url_study),
        vec![inst],
        Vec::new(),
        Copies::Fresh,
    )
    .await
}

#[when(
    expr = "the sender stores series {int} of study {string} and instance {int} of series {int} of study {string} to the URL of study {string}"
)]
async fn store_mixed(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    n: i64,
    other_series: i64,
    other_alias: String,
    url_alias: String,
) -> StepResult {
    let mut insts = series_instances(world, &alias, series)?;
    insts.push(instance(world, &other_alias, other_series, n)?);
    let url_study = study_instances(world, &url_alias)?[0].study_uid.clone();
    do_store(world, Some(url_study), insts, Vec::new(), Copies::Fresh).await
}

#[when("the sender stores a part that is not a DICOM object")]
async fn store_non_dicom(world: &mut HarnessWorld) -> StepResult {
    let extra = vec![StowPart {
        content_type: "application/dicom".into(),
        body: Bytes::from_static(b"This is a plain text report, not a DICOM PS3.10 object.\r\n"),
    }];
    do_store(world, None, Vec::new(), extra, Copies::Fresh).await
}

#[when(
    expr = "the sender stores instance {int} of series {int} of study {string} that the origin server already holds"
)]
async fn store_duplicate(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    let inst = instance(world, &alias, series, n)?;
    do_store(world, None, vec![inst], Vec::new(), Copies::AlreadyHeld).await
}

/// A second copy of an instance may be stored again, stored with a warning, or refused with a
/// reason (PS3.18 §10.5.3 warnings and failures; PS3.4 §B.2.3): each of 200, 202 and 409 passes
/// when the response agrees with it.
#[then("the store is answered with success, a warning or a failure that agrees with its status")]
async fn stow_duplicate_answer(world: &mut HarnessWorld) -> StepResult {
    world.dicomweb.expect.status = vec![200, 202, 409];
    world.dicomweb.expect.status_reason =
        "an instance the server already holds: stored, stored with a warning, or refused".into();
    judge_last(world, &["DW-10", "DW-11", "DW-24"])
}

#[then("the store response agrees with its status")]
async fn stow_consistent(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-10"])
}

#[then("every failed instance has a failure reason")]
async fn stow_reasons(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-11"])
}

#[then("the store response is about the instances sent")]
async fn stow_identity(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-24"])
}

#[then("no instance of another study was stored under the study of the URL")]
async fn stow_mismatch(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["DW-12"])
}

#[then(expr = "instance {int} of series {int} of study {string} can be retrieved")]
async fn retrievable_unchanged(
    world: &mut HarnessWorld,
    n: i64,
    series: i64,
    alias: String,
) -> StepResult {
    retrieve_instance_ts_opt(world, n, series, alias, Some("*".into())).await?;
    world.dicomweb.expect.status = vec![200];
    let idx = last_index(world)?;
    let expect = world.dicomweb.expect.clone();
    judge_membership(world, idx, expect, &["DW-04", "DW-18"]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_data_uris_resolve_and_the_pixel_data_is_the_top_level_one() {
        let base = "http://sut:8042/dicom-web/studies/1/series/2/instances/3/metadata";
        assert_eq!(
            resolve_uri(base, "bulk/7FE00010"),
            "http://sut:8042/dicom-web/studies/1/series/2/instances/3/bulk/7FE00010"
        );
        assert_eq!(
            resolve_uri(base, "/dicom-web/bulk/abc"),
            "http://sut:8042/dicom-web/bulk/abc"
        );
        assert_eq!(
            resolve_uri(base, "https://cdn.example/b?x=1"),
            "https://cdn.example/b?x=1"
        );
        assert!(is_pixel_data_path("7FE00010"));
        assert!(is_pixel_data_path("[0].7FE00010"));
        assert!(!is_pixel_data_path("[0].00880200[0].7FE00010"));
        assert!(!is_pixel_data_path("00880200[0].7FE00010"));
        assert!(!is_pixel_data_path("[0].7FE00008"));
    }

    #[test]
    fn every_store_request_gets_uids_of_its_own() {
        let (mut a, mut b) = (copy_map(), copy_map());
        let old = "2.25.1183858654840199509110102673136336329";
        assert_ne!(a.uid(old), b.uid(old));
        assert_eq!(a.uid(old), a.uid(old));
    }
}
