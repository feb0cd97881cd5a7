//! DIMSE C-MOVE and C-GET as an SCU: the sub-operation counts and the instances the harness received,
//! judged against what the request selected.

use super::*;

// ---------------------------------------------------------------------------------------------
// C-MOVE and C-GET

fn series_keys(insts: &[FixtureInstance]) -> Vec<(Tag, String)> {
    vec![
        (tags::QUERY_RETRIEVE_LEVEL, "SERIES".into()),
        (tags::STUDY_INSTANCE_UID, insts[0].study_uid.clone()),
        (tags::SERIES_INSTANCE_UID, insts[0].series_uid.clone()),
    ]
}

/// The keys of a STUDY level retrieve of the study of `inst`.
pub(crate) fn study_keys(inst: &FixtureInstance) -> Vec<(Tag, String)> {
    vec![
        (tags::QUERY_RETRIEVE_LEVEL, "STUDY".into()),
        (tags::STUDY_INSTANCE_UID, inst.study_uid.clone()),
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
pub(super) fn record_inbound(world: &mut HarnessWorld, got: &inbound::Inbound) {
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

/// C-MOVE of what `keys` select (the instances `insts`) to `destination`, or to the harness's
/// own Storage SCP when `None`, recorded with what the answer and the arrivals must satisfy.
pub(crate) async fn do_move(
    world: &mut HarnessWorld,
    keys: Vec<(Tag, String)>,
    insts: &[FixtureInstance],
    destination: Option<String>,
    cancel_after: Option<usize>,
) -> StepResult {
    // A move to the harness holds its SCP until the sub-associations have ended.
    let _scp = match destination {
        None => Some(inbound::session().lock().await),
        Some(_) => None,
    };
    move_holding_scp(world, keys, insts, destination, cancel_after).await
}

/// [`do_move`] once the harness's Storage SCP is held ([`inbound::session`]) when the move is to
/// it: a timed move starts its clock here.
pub(crate) async fn move_holding_scp(
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
    do_get(world, series_keys(&insts), &insts).await
}

/// C-GET of what `keys` select (the instances `insts`, each offered in its stored transfer
/// syntax), recorded with what the answer and the instances received must satisfy.
pub(crate) async fn do_get(
    world: &mut HarnessWorld,
    keys: Vec<(Tag, String)>,
    insts: &[FixtureInstance],
) -> StepResult {
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
        .get(QueryModel::StudyRoot, &keys, &storage, dir.path(), None)
        .await;
    let instances = Some(expected_instances(world, insts));
    let pixel_data = expected_pixels(world, insts);
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
