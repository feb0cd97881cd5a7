//! XCA with the SUT as Document Consumer across communities: the harness plays the Initiating
//! Gateway the consumer calls (the simulator's `/xca/initiating-gateway/query` for ITI-18 and
//! `/xca/initiating-gateway/retrieve` for ITI-43), with the communities A and B behind it
//! ([`crate::reference::xca::initiating_gateway`]), whose answers carry `home`. The trigger
//! `consumer_queries_across` makes the SUT find the manifests of a patient, ask for one by id and
//! retrieve it; the step waits for its retrieve, then takes the stored queries it sent before,
//! and learns from the gateway's answers to them which `home` each entry came with.

use super::*;
use crate::checks::xca_consumer::XcaConsumerExpect;

/// The trigger that makes the SUT consumer act.
const TRIGGER: &str = "consumer_queries_across";

/// The manifests (SOP Instance UIDs) of the fixture studies of `patient`.
fn manifests_of_patient(world: &HarnessWorld, patient: &str) -> Vec<String> {
    world
        .ctx
        .fixtures
        .studies()
        .into_iter()
        .flat_map(|s| s.instances.into_iter())
        .filter(|i| i.kos && i.patient_id == patient)
        .map(|i| i.sop_uid.clone())
        .collect()
}

/// The gateway's answer to a stored query the consumer sent, if it is one.
fn answer_of(ex: &crate::evidence::Exchange) -> Option<e::AdhocQueryResponse> {
    let resp = ex.response.as_ref().filter(|r| r.status == 200)?;
    let env = crate::transport::soap::parse_envelope(&resp.body.kept).ok()?;
    match e::parse_message(&env.body?).ok()? {
        Message::AdhocQueryResponse(r) => Some(r),
        _ => None,
    }
}

/// Make the SUT find and retrieve across communities, then record its stored queries and its
/// retrieve, with the `home` each entry came with.
async fn trigger_across(world: &mut HarnessWorld, alias: &str) -> StepResult {
    let (sim, t) = crate::steps::simulator_and_trigger(world, TRIGGER, "XCA Initiating Gateway")?;
    let k = manifest_of(world, alias)?;
    let query_url = format!("{}/initiating-gateway/query", sim.xca_base);
    let retrieve_url = format!("{}/initiating-gateway/retrieve", sim.xca_base);
    let vars = vec![
        ("patient_id", patient_cx(world, &k.patient_id)),
        ("dicom_patient_id", k.patient_id.clone()),
        ("study_uid", k.study_uid.clone()),
        ("manifest_uid", k.sop_uid.clone()),
        ("endpoint", query_url.clone()),
        ("registry", query_url.clone()),
        ("repository", retrieve_url.clone()),
    ];
    let mark = sim.inbox.len();
    let mut needles: Vec<String> = Vec::new();
    if let Some(name) = crate::steps::run_trigger(world, &t, &vars).await? {
        needles = builtin(world, &name, &sim.xca_base, alias).await?;
    }
    if needles.is_empty() {
        needles.push(k.patient_id.clone());
        needles.extend(manifests_of_patient(world, &k.patient_id));
    }
    let timeout = world.ctx.config.simulator.trigger_timeout;
    let about = |ex: &crate::evidence::Exchange, path: &str| {
        ex.request.url.contains(path)
            && needles
                .iter()
                .any(|n| memchr::memmem::find(&ex.request.body.kept, n.as_bytes()).is_some())
    };
    let matches =
        |ex: &crate::evidence::Exchange| ex.failure.is_some() || about(ex, "/initiating-gateway/");
    let Some(retrieve) = sim
        .inbox
        .wait_for(mark, Transaction::Iti43, timeout, &matches)
        .await
    else {
        return Err(harness_error(
            world,
            "the SUT did not call",
            format!(
                "no {} request reached {retrieve_url} within {} ms of the trigger `{TRIGGER}`",
                Transaction::Iti43,
                timeout.as_millis()
            ),
        ));
    };
    let queries: Vec<crate::evidence::Exchange> = (mark..sim.inbox.len())
        .filter_map(|i| sim.inbox.get(i))
        .filter(|ex| ex.transaction == Transaction::Iti18)
        .filter(|ex| about(ex, "/initiating-gateway/query"))
        .collect();
    let mut x = XcaConsumerExpect::default();
    for q in &queries {
        if let Some(a) = answer_of(q) {
            x.learn(&a);
        }
    }
    let mut recorded = Vec::new();
    for q in queries {
        recorded.push(crate::steps::record(world, q)?);
    }
    let idx = crate::steps::record(world, retrieve)?;
    world.xds.last = Some(idx);
    world.xds.xca_consumer_queries = recorded;
    world.xds.expect = Expect {
        xds: XdsExpect {
            asked: Some(Asked {
                patient: patient_cx(world, &k.patient_id),
                study: k.study_uid.clone(),
                manifest: k.sop_uid.clone(),
                repository: crate::config::xds::DEFAULT_REPOSITORY_ID.to_string(),
            }),
            ..XdsExpect::default()
        },
        xca_consumer: x,
        ..Expect::default()
    };
    Ok(())
}

/// The embedded reference plays the SUT with its built-in consumer; returns the wsa:MessageIDs
/// of its requests, which identify them at the gateway.
async fn builtin(
    world: &mut HarnessWorld,
    name: &str,
    xca_base: &str,
    alias: &str,
) -> Result<Vec<String>, StepError> {
    if name != TRIGGER {
        return Err(harness_error(
            world,
            "builtin trigger",
            crate::stand_in::StandInError::NoSuchStandIn(name.to_string()).to_string(),
        ));
    }
    let cfg = crate::config::xca::Xca::embedded(xca_base).initiating_as_xds(None);
    let c = match XdsClient::new(&cfg, &Default::default()) {
        Ok(c) => c,
        Err(err) => return Err(harness_error(world, "builtin trigger", err.to_string())),
    };
    let k = manifest_of(world, alias)?;
    let insts = study_instances(world, alias)?;
    let has = |f: crate::reference::Fault| world.ctx.faults.contains(&f);
    let faults = crate::stand_in::AcrossFaults {
        drops_home: has(crate::reference::Fault::XcaBuiltinConsumerDropsHome),
        retrieve_no_home: has(crate::reference::Fault::XcaBuiltinConsumerRetrieveNoHome),
    };
    let ctx = world.ctx.clone();
    let played = crate::stand_in::play_xca_consumer(
        &c,
        &crate::stand_in::XdsAsked {
            manifest: &k,
            study: &insts,
            query_patient: &k.patient_id,
            fixtures: &ctx.fixtures,
        },
        faults,
    )
    .await;
    match played {
        Ok(exchanges) => {
            let mut ids = Vec::new();
            for ex in exchanges {
                if let Some(id) = crate::steps::xds::sut_calls::message_id_of(&ex.request.body.kept)
                {
                    ids.push(id);
                }
                world.evidence.record(ex);
            }
            Ok(ids)
        }
        Err(err) => Err(harness_error(world, err.title(), err.to_string())),
    }
}

#[when(
    expr = "the SUT document consumer is asked to find and retrieve across communities the manifest of study {string}"
)]
async fn sut_consumer_across(world: &mut HarnessWorld, alias: String) -> StepResult {
    trigger_across(world, &alias).await
}

#[then("its stored queries by id name the community the entries came with")]
async fn queries_name_home(world: &mut HarnessWorld) -> StepResult {
    let queries = world.xds.xca_consumer_queries.clone();
    let expect = world.xds.expect.clone();
    let mut ids = structural_ids();
    ids.push("XCA-08");
    let mut by_id = 0;
    for idx in queries {
        if world
            .evidence
            .get(idx)
            .and_then(|ex| SutMessage::of(ex).ok().and_then(|m| m.message().ok()))
            .is_some_and(|m| matches!(m, Message::AdhocQueryRequest(q) if !names_patient(&q)))
        {
            by_id += 1;
        }
        judge(world, idx, &expect, &[], &ids)?;
    }
    if by_id == 0 {
        return Err(harness_error(
            world,
            "the SUT did not call",
            format!(
                "the SUT sent no stored query by id to the Initiating Gateway before its \
                 retrieve (the trigger `{TRIGGER}` asks it to find the manifests, ask for one by \
                 id, then retrieve it)"
            ),
        ));
    }
    Ok(())
}

/// Does a stored query name a patient?
fn names_patient(q: &AdhocQueryRequest) -> bool {
    q.params.iter().any(|p| {
        matches!(
            p.name.trim(),
            "$XDSDocumentEntryPatientId"
                | "$XDSSubmissionSetPatientId"
                | "$XDSFolderPatientId"
                | "$patientId"
        )
    })
}

#[then("its retrieve names the community each document's entry came with")]
async fn retrieve_names_home(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XCA-09"])
}
