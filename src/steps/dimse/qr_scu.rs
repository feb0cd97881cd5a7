//! The SUT as Query/Retrieve SCU: a trigger asks it for a C-FIND, C-MOVE or C-GET at the harness's
//! SCP, and the request the SCP received is judged against what was asked (DIMSCU-01..03).
//!
//! The trigger's placeholders: `{level}`, `{study_uid}`, `{series_uid}`, `{dicom_patient_id}`
//! (empty when the request does not name it), `{move_destination}`, `{harness_ae}`,
//! `{harness_host}`, `{harness_port}`, and `{dcmtk_keys}`: the request's keys as DCMTK `-k`
//! options (the Query/Retrieve Level, the keys asked, and for a C-FIND the level's unique key as
//! a return key).

use super::*;
use crate::checks::dimse::qr_scu::AskedRequest;
use crate::dimse::command::field;

/// The keys of a request, as (tag, keyword, value).
type Keys = Vec<(Tag, &'static str, String)>;

/// A request the SUT is asked for.
struct Ask {
    trigger: &'static str,
    field: u16,
    level: &'static str,
    /// (tag, keyword, value)
    keys: Vec<(Tag, &'static str, String)>,
    /// C-FIND: the level's unique key, asked as a return key.
    returns: Option<Tag>,
    destination: Option<String>,
    /// C-GET: (SOP Class, transfer syntax) of each instance retrieved.
    storage: Vec<(String, String)>,
    /// The SUT is asked to cancel the request after its first response.
    cancel: bool,
}

fn tag_text(t: Tag) -> String {
    format!("{:04X},{:04X}", t.group(), t.element())
}

/// The first request `method` the harness's SCP received after `mark` from another AE than the
/// harness's own SCU (`own`).
fn request_since(
    sim: &crate::world::Simulator,
    mark: usize,
    method: &str,
    own: &str,
) -> Option<crate::evidence::Exchange> {
    let mut i = mark;
    while let Some(ex) = sim.inbox.get(i) {
        i += 1;
        let theirs = ex
            .dimse
            .as_deref()
            .is_some_and(|r| own.is_empty() || inbound::ae(&r.calling_ae) != own);
        if ex.request.method == method && theirs {
            return Some(ex);
        }
    }
    None
}

/// The record of the association from `peer` that ended after `mark`, waited for until
/// `deadline`.
async fn association_of(
    sim: &crate::world::Simulator,
    mark: usize,
    peer: Option<&str>,
    deadline: std::time::Instant,
) -> Option<crate::evidence::Exchange> {
    let peer = peer?;
    loop {
        let mut i = mark;
        while let Some(ex) = sim.inbox.get(i) {
            i += 1;
            if ex.request.method == "A-ASSOCIATE-RQ"
                && ex.dimse.as_deref().is_some_and(|r| r.peer == peer)
            {
                return Some(ex);
            }
        }
        if std::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn sut_asks(world: &mut HarnessWorld, ask: Ask) -> StepResult {
    let (sim, trigger) =
        super::super::simulator_and_trigger(world, ask.trigger, "Query/Retrieve SCP")?;
    // The SCP is this scenario's until the SUT's request is in (see `inbound`).
    let _scp = inbound::session().lock().await;
    let mark = sim.inbox.len();
    let value = |kw: &str| {
        ask.keys
            .iter()
            .find(|(_, k, _)| *k == kw)
            .map(|(_, _, v)| v.clone())
            .unwrap_or_default()
    };
    let mut dcmtk = format!("-k 0008,0052={}", ask.level);
    for (t, _, v) in &ask.keys {
        dcmtk.push_str(&format!(" -k {}={v}", tag_text(*t)));
    }
    if let Some(t) = ask.returns {
        dcmtk.push_str(&format!(" -k {}", tag_text(t)));
    }
    let harness_ae = world.ctx.config.simulator.ae_title.clone();
    let vars = [
        ("level", ask.level.to_string()),
        ("study_uid", value("StudyInstanceUID")),
        ("series_uid", value("SeriesInstanceUID")),
        ("dicom_patient_id", value("PatientID")),
        (
            "move_destination",
            ask.destination.clone().unwrap_or_default(),
        ),
        ("harness_ae", harness_ae.clone()),
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
        ("dcmtk_keys", dcmtk),
    ];
    let method = crate::dimse::command::Command {
        field: ask.field,
        ..Default::default()
    }
    .name()
    .to_string();
    let own = world
        .ctx
        .config
        .dimse
        .as_ref()
        .map(|d| inbound::ae(&d.calling_ae).to_string())
        .unwrap_or_default();
    let timeout = world.ctx.config.simulator.trigger_timeout;
    let mut exited = None;
    let triggered = match crate::trigger::run(&trigger, &vars, timeout).await {
        Ok(crate::trigger::Triggered::Asked) => None,
        Ok(crate::trigger::Triggered::Builtin(name)) => Some(name),
        // A SUT's tool may end with a failure because the harness's SCP refused its request (a
        // DCMTK SCU exits with 69 on a failure status): the request reached the harness and is
        // judged. A trigger that sent nothing is the harness's or the configuration's failure.
        Err(e) if request_since(&sim, mark, &method, &own).is_some() => {
            exited = Some(e.to_string());
            None
        }
        Err(e) => return Err(harness_error(world, e.title(), e.to_string())),
    };
    if let Some(name) = triggered {
        // The embedded reference plays the SUT: a built-in Query/Retrieve SCU sends the request
        // ([`crate::stand_in::dimse`]); the faults make it send a wrong one.
        let faults = &world.ctx.faults;
        let keys: Vec<(Tag, String)> = ask.keys.iter().map(|(t, _, v)| (*t, v.clone())).collect();
        let storage: Vec<(&str, &str)> = ask
            .storage
            .iter()
            .map(|(c, t)| (c.as_str(), t.as_str()))
            .collect();
        let asked = crate::stand_in::QrAsked {
            scp: sim.dimse_addr,
            scp_ae: &harness_ae,
            level: ask.level,
            keys: &keys,
            destination: ask.destination.as_deref().unwrap_or_default(),
            storage: &storage,
            wrong_level: faults.contains(&crate::reference::Fault::QrBuiltinScuWrongLevel),
            no_unique_key: faults.contains(&crate::reference::Fault::QrBuiltinScuNoUniqueKey),
            get_no_role: faults.contains(&crate::reference::Fault::QrBuiltinScuGetNoRole),
            no_cancel: faults.contains(&crate::reference::Fault::QrBuiltinScuNoCancel),
        };
        match crate::stand_in::play_qr_scu(&name, asked).await {
            Ok(ex) => {
                world.evidence.record(ex);
            }
            Err(err) => return Err(harness_error(world, err.title(), err.to_string())),
        }
    }
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(mut ex) = request_since(&sim, mark, &method, &own) {
            ex.repro = format!("# sent by the SUT to the harness's SCP: {}", ex.repro);
            if let Some(e) = &exited {
                ex.repro
                    .push_str(&format!("\n# the SUT's trigger then ended: {e}"));
            }
            let peer = ex.dimse.as_deref().map(|r| r.peer.clone());
            let idx = world.evidence.record(ex);
            world.dimse.last = Some(idx);
            world.dimse.followups = Vec::new();
            if ask.cancel {
                // The whole association, recorded at its end: a C-CANCEL that crossed the final
                // response is not in the operation's own record.
                if let Some(whole) = association_of(&sim, mark, peer.as_deref(), deadline).await {
                    world.evidence.record(whole.clone());
                    world.dimse.followups = vec![whole];
                }
            }
            world.dimse.expect = Expect {
                dimse: DimseExpect {
                    asked: Some(AskedRequest {
                        field: ask.field,
                        level: ask.level.into(),
                        keys: ask
                            .keys
                            .iter()
                            .map(|(_, k, v)| (k.to_string(), v.clone()))
                            .collect(),
                        destination: ask.destination.clone(),
                        storage_classes: ask.storage.iter().fold(Vec::new(), |mut acc, (c, _)| {
                            if !acc.contains(c) {
                                acc.push(c.clone());
                            }
                            acc
                        }),
                        cancel: ask.cancel,
                    }),
                    ..DimseExpect::default()
                },
                ..Expect::default()
            };
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            let got = inbound::since(world, mark);
            let refusals = inbound::refusals(&got.refused);
            record_inbound(world, &got);
            let why = if refusals.is_empty() {
                format!(
                    "no {method} reached the harness within {} ms",
                    timeout.as_millis()
                )
            } else {
                format!("no {method} reached the harness: {refusals}")
            };
            return Err(harness_error(world, "the SUT sent no request", why));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[when(expr = "the SUT is asked to find the series of study {string} at the harness")]
async fn sut_finds_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let study = insts
        .first()
        .map(|i| i.study_uid.clone())
        .unwrap_or_default();
    sut_asks(
        world,
        Ask {
            trigger: "qr_scu_finds",
            field: field::C_FIND_RQ,
            level: "SERIES",
            keys: vec![(tags::STUDY_INSTANCE_UID, "StudyInstanceUID", study)],
            returns: Some(tags::SERIES_INSTANCE_UID),
            destination: None,
            storage: Vec::new(),
            cancel: false,
        },
    )
    .await
}

#[when(
    expr = "the SUT is asked to find the studies of the patient of study {string} at the harness"
)]
async fn sut_finds_studies(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = study_instances(world, &alias)?;
    let patient = insts
        .first()
        .map(|i| i.patient_id.clone())
        .unwrap_or_default();
    sut_asks(
        world,
        Ask {
            trigger: "qr_scu_finds",
            field: field::C_FIND_RQ,
            level: "STUDY",
            keys: vec![(tags::PATIENT_ID, "PatientID", patient)],
            returns: Some(tags::STUDY_INSTANCE_UID),
            destination: None,
            storage: Vec::new(),
            cancel: false,
        },
    )
    .await
}

/// The keys of a series-level retrieve of series `number` of `alias`, and its instances'
/// (SOP Class, transfer syntax).
fn series_retrieve(
    world: &mut HarnessWorld,
    alias: &str,
    number: i64,
) -> Result<(Keys, Vec<(String, String)>), StepError> {
    let insts = series_instances(world, alias, number)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(
            world,
            "unknown fixture series",
            format!("study {alias} has no series {number}"),
        ));
    };
    let keys = vec![
        (
            tags::STUDY_INSTANCE_UID,
            "StudyInstanceUID",
            first.study_uid.clone(),
        ),
        (
            tags::SERIES_INSTANCE_UID,
            "SeriesInstanceUID",
            first.series_uid.clone(),
        ),
    ];
    let storage = insts
        .iter()
        .map(|i| (i.sop_class.clone(), i.transfer_syntax.clone()))
        .collect();
    Ok((keys, storage))
}

#[when(expr = "the SUT is asked to move series {int} of study {string} to the harness")]
async fn sut_moves(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let (keys, _) = series_retrieve(world, &alias, number)?;
    let destination = world.ctx.config.simulator.ae_title.clone();
    sut_asks(
        world,
        Ask {
            trigger: "qr_scu_moves",
            field: field::C_MOVE_RQ,
            level: "SERIES",
            keys,
            returns: None,
            destination: Some(destination),
            storage: Vec::new(),
            cancel: false,
        },
    )
    .await
}

#[when(expr = "the SUT is asked to get series {int} of study {string} from the harness")]
async fn sut_gets(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let (keys, storage) = series_retrieve(world, &alias, number)?;
    sut_asks(
        world,
        Ask {
            trigger: "qr_scu_gets",
            field: field::C_GET_RQ,
            level: "SERIES",
            keys,
            returns: None,
            destination: None,
            storage,
            cancel: false,
        },
    )
    .await
}

#[then("the harness received the C-FIND asked for")]
async fn received_find(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIMSCU-01"])
}

#[then("the harness received the C-MOVE asked for")]
async fn received_move(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIMSCU-02"])
}

#[then(
    "the harness received the C-GET asked for, on an association that takes the SCP role for the series' storage classes"
)]
async fn received_get(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIMSCU-02", "DIMSCU-03"])
}

#[when(
    expr = "the SUT is asked to find the instances of series {int} of study {string} at the harness and to cancel after the first match"
)]
async fn sut_cancels_find(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let (keys, _) = series_retrieve(world, &alias, number)?;
    sut_asks(
        world,
        Ask {
            trigger: "qr_scu_cancels_find",
            field: field::C_FIND_RQ,
            level: "IMAGE",
            keys,
            returns: Some(tags::SOP_INSTANCE_UID),
            destination: None,
            storage: Vec::new(),
            cancel: true,
        },
    )
    .await
}

#[then("the harness received the C-FIND asked for, and a C-CANCEL of it")]
async fn received_cancel(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIMSCU-01", "DIMSCU-04"])
}
