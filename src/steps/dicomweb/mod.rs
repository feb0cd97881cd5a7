//! DICOMweb steps: test data, WADO-RS (RAD-107), QIDO-RS (RAD-129) and STOW-RS (RAD-108).
//!
//! Studies are named by fixture alias ("CT-CHEST"), series and instances by their numbers, so that a
//! scenario reads as the use case it traces and the harness knows the truth to compare against.

mod qido;
mod stow;
mod user_agent;
mod wado;
mod xc_wado;

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
use crate::transport::digest::identity_hex;
use crate::transport::media_type::parse_accept;
use crate::world::HarnessWorld;
pub use user_agent::UaSeen;
pub(crate) use wado::judge_last;
use wado::{last_index, retrieve_instance_ts_opt};

/// A Study Instance UID no SUT holds (a UUID-derived UID of the project's own).
pub const UNKNOWN_STUDY: &str = "2.25.999999999999999999999999999999999";
/// A Series Instance UID no SUT holds.
pub const UNKNOWN_SERIES: &str = "2.25.999999999999999999999999999999998";

/// The DICOMweb user agent of the scenario (through an XC-WADO gateway once the scenario chose
/// it); not applicable when the profile declares no DICOMweb endpoint.
pub(crate) fn client(world: &mut HarnessWorld) -> Result<DicomwebClient, StepError> {
    if let Some(g) = world.dicomweb.gateway.clone() {
        return Ok(g);
    }
    match world.ctx.dicomweb.clone() {
        Some(c) => Ok(c),
        None => Err(super::not_applicable(
            world,
            "no DICOMweb endpoint",
            "the SUT profile declares no DICOMweb endpoint ([dicomweb] table)",
        )),
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
    let mut exchange = wado_rs::retrieve(&c, &target, &resource, accept.as_deref()).await;
    if world.dicomweb.gateway.is_some() {
        exchange.transaction = crate::transaction::Transaction::Rad160;
    }
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
                        study: h.study_instance_uid.as_deref()?.to_string(),
                        series: Some(h.series_instance_uid.as_deref()?.to_string()),
                        instance: Some(h.sop_instance.as_deref()?.to_string()),
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

/// Why a fixture image could not be read.
#[derive(Debug, thiserror::Error)]
enum FixtureImageError {
    /// The file does not open as DICOM.
    #[error("{}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: std::path::PathBuf,
        /// Why it does not open.
        source: Box<dicom_object::ReadError>,
    },
    /// The image has no Rows or Columns.
    #[error("{} has no Rows/Columns", .0.display())]
    NoDimensions(std::path::PathBuf),
}

/// Read the uncompressed form of a fixture image (its Explicit VR Little Endian copy, or the file
/// itself when stored uncompressed). The fixtures are the project's own files, read with
/// dicom-object directly.
fn read_fixture_image(path: std::path::PathBuf) -> Result<FixtureImage, FixtureImageError> {
    use dicom_dictionary_std::tags;
    let obj = match dicom_object::open_file(&path) {
        Ok(obj) => obj,
        Err(e) => {
            return Err(FixtureImageError::Unreadable {
                path,
                source: Box::new(e),
            })
        }
    };
    let int = |tag| -> Option<u32> { obj.element(tag).ok()?.to_int::<u32>().ok() };
    let (Some(rows), Some(columns)) = (int(tags::ROWS), int(tags::COLUMNS)) else {
        return Err(FixtureImageError::NoDimensions(path));
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
        Ok(Err(e)) => Err(harness_error(world, "fixture unreadable", e.to_string())),
        Err(e) => Err(harness_error(world, "fixture unreadable", e.to_string())),
    }
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
