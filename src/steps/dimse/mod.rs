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
use crate::actors::dimse_scu::{
    is_transient, rejection_as_failure, DimseScu, QueryModel, StoreFile,
};
use crate::checks::dimse::DimseExpect;
use crate::checks::{Expect, Finding};
use crate::config::TestDataMode;
use crate::model::fixtures::FixtureInstance;
use crate::world::HarnessWorld;
use retrieve::record_inbound;

mod find;
pub(crate) mod inbound;
mod qr_scu;
pub(crate) mod retrieve;
mod store;

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
    let found = crate::checks::evaluate_ids(&["DIM-17", "DIM-08", "DIM-19"], &subject);
    world.findings.extend(found);
}

/// Judge the last DIMSE exchange of the scenario, with its follow-ups, by the checks `ids`.
pub(crate) fn judge_dimse(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
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
pub(crate) async fn holds_test_studies(world: &mut HarnessWorld) -> StepResult {
    let s = scu(world)?;
    if world.ctx.config.test_data == TestDataMode::Preloaded {
        return Ok(());
    }
    let ctx = world.ctx.clone();
    let mut exchanges = Vec::new();
    let result = ctx
        .dimse_data
        .get_or_init(|| {
            crate::test_data::load_dimse(
                &ctx.fixtures,
                &s,
                ctx.config.test_data_parallel,
                &mut exchanges,
            )
        })
        .await
        .clone();
    // The exchange a failure names: the first association that failed.
    let (mut idx, mut failed) = (None, None);
    for ex in exchanges {
        let broke = ex.failure.is_some();
        let i = world.evidence.record(ex);
        idx = Some(i);
        if broke && failed.is_none() {
            failed = Some(i);
        }
    }
    let idx = failed.or(idx);
    match result {
        Ok(_) => Ok(()),
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
        // The embedded reference plays the modality: the harness's own SCU stores the series
        // ([`crate::stand_in::dimse`]). The fault makes it send the study's other series instead.
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
        let asked = crate::stand_in::DimseAsked {
            scp: sim.dimse_addr,
            scp_ae: &world.ctx.config.simulator.ae_title,
            files: &sent,
        };
        match crate::stand_in::play_dimse(&name, asked).await {
            Ok(ex) => {
                world.evidence.record(ex);
            }
            Err(err) => return Err(harness_error(world, err.title(), err.to_string())),
        }
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
