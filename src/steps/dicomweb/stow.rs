//! STOW-RS Store (RAD-108): re-identified copies of the fixture images stored, the answer judged, and
//! the stored instances retrieved again.

use super::*;

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
    fn every_store_request_gets_uids_of_its_own() {
        let (mut a, mut b) = (copy_map(), copy_map());
        let old = "2.25.1183858654840199509110102673136336329";
        assert_ne!(a.uid(old), b.uid(old));
        assert_eq!(a.uid(old), a.uid(old));
    }
}
