//! XDS-I.b steps where the SUT calls the harness: the trigger that makes it act, the wait for its
//! call at the simulated Registry, Repository or Imaging Document Source, and the built-in
//! stand-ins ([`crate::stand_in`]) that play it against the embedded reference.

use super::*;

// ---------------------------------------------------------------------------------------------
// The SUT calls the harness: triggers and inbound messages

/// Make the SUT act, then wait for its call of `transaction` at the simulator.
async fn trigger_and_wait(
    world: &mut HarnessWorld,
    trigger: &str,
    transaction: Transaction,
    alias: &str,
) -> StepResult {
    let (sim, t) = crate::steps::simulator_and_trigger(world, trigger, "XDS actors")?;
    let k = manifest_of(world, alias)?;
    let endpoint = match transaction {
        Transaction::Iti18 => format!("{}/registry", sim.xds_base),
        Transaction::Rad69 => format!("{}/imaging-source", sim.xds_base),
        Transaction::Iti41 | Transaction::Rad68 | Transaction::Iti43 => {
            format!("{}/repository", sim.xds_base)
        }
        // Not called at the XDS simulators; the Repository as before.
        Transaction::Rad107
        | Transaction::Rad108
        | Transaction::Rad129
        | Transaction::Capabilities
        | Transaction::SoapFault
        | Transaction::Iti65
        | Transaction::Iti66
        | Transaction::Iti67
        | Transaction::Iti68
        | Transaction::Fhir
        | Transaction::Dimse
        | Transaction::Iti19
        | Transaction::Iti20
        | Transaction::Iti81
        | Transaction::Iti38
        | Transaction::Iti39
        | Transaction::Rad160
        | Transaction::Rad75 => format!("{}/repository", sim.xds_base),
    };
    let vars = vec![
        ("patient_id", patient_cx(world, &k.patient_id)),
        ("dicom_patient_id", k.patient_id.clone()),
        ("study_uid", k.study_uid.clone()),
        ("accession", k.accession.clone().unwrap_or_default()),
        ("manifest_uid", k.sop_uid.clone()),
        ("endpoint", endpoint.clone()),
        ("registry", format!("{}/registry", sim.xds_base)),
        ("repository", format!("{}/repository", sim.xds_base)),
        ("imaging_source", format!("{}/imaging-source", sim.xds_base)),
    ];
    let mark = sim.inbox.len();
    let mut builtin_message_id = None;
    if let Some(name) = crate::steps::run_trigger(world, &t, &vars).await? {
        builtin_message_id = builtin(world, &name, &endpoint, alias).await?;
    }
    let timeout = world.ctx.config.simulator.trigger_timeout;
    // The SUT's call is the one about this test: the builtin actor's own message, or a request
    // that names the study's patient, study, or manifest (other scenarios may run meanwhile).
    let about: Vec<String> = match &builtin_message_id {
        Some(id) => vec![id.clone()],
        None => vec![k.patient_id.clone(), k.study_uid.clone(), k.sop_uid.clone()],
    };
    // A request the simulator refused unread (larger than `[limits]`, or not sent in time) may
    // not show what it is about: taken as the SUT's call all the same, it is reported (BODY-01,
    // or an Error for a body that did not arrive) rather than waited past.
    let matches = move |ex: &crate::evidence::Exchange| {
        let body = &ex.request.body.kept;
        ex.failure.is_some()
            || about
                .iter()
                .any(|needle| memchr::memmem::find(body, needle.as_bytes()).is_some())
    };
    match sim.inbox.wait_for(mark, transaction, timeout, &matches).await {
        Some(ex) => {
            let idx = crate::steps::record(world, ex)?;
            world.xds.last = Some(idx);
            let insts = study_instances(world, alias)?;
            let referenced = insts
                .iter()
                .filter(|i| !i.kos)
                .map(|i| (i.sop_uid.clone(), (i.study_uid.clone(), i.series_uid.clone())))
                .collect();
            let retrieve_location = tokio::fs::read(world.ctx.fixtures.file(&k))
                .await
                .ok()
                .and_then(|b| kos::parse(&b).ok())
                .and_then(|m| m.evidence.first().and_then(|r| r.retrieve_location_uid.clone()));
            let asked = Asked {
                patient: patient_cx(world, &k.patient_id),
                study: k.study_uid.clone(),
                manifest: k.sop_uid.clone(),
                repository: crate::config::xds::DEFAULT_REPOSITORY_ID.to_string(),
            };
            world.xds.expect = Expect {
                xds: XdsExpect {
                    modalities: modalities(&insts),
                    requested: referenced,
                    retrieve_location,
                    asked: Some(asked),
                    ..XdsExpect::default()
                },
                ..Expect::default()
            };
            Ok(())
        }
        None => Err(harness_error(
            world,
            "the SUT did not call",
            format!(
                "no {transaction} request reached {endpoint} within {} ms of the trigger `{trigger}`",
                timeout.as_millis()
            ),
        )),
    }
}

/// The embedded reference plays the SUT's part with the harness's own conformant actors; the
/// wsa:MessageID of the message sent identifies the inbound exchange to judge.
async fn builtin(
    world: &mut HarnessWorld,
    name: &str,
    endpoint: &str,
    alias: &str,
) -> Result<Option<String>, StepError> {
    let Some(sim) = world.ctx.simulator.clone() else {
        return Ok(None);
    };
    let cfg = crate::config::Xds::embedded(&sim.xds_base);
    let c = match XdsClient::new(&cfg, &Default::default()) {
        Ok(c) => c,
        Err(err) => return Err(harness_error(world, "builtin trigger", err.to_string())),
    };
    let faults = world.ctx.faults.clone();
    let has = |f: crate::reference::Fault| faults.contains(&f);
    // A fault makes the stand-in act on something else than it was asked: another study's
    // manifest, another patient.
    let asked_alias = alias.to_string();
    let alias = if has(crate::reference::Fault::XdsBuiltinSourceOtherStudy)
        && name == "source_submits_manifest"
    {
        other_study_with_manifest(world, alias).unwrap_or(asked_alias)
    } else {
        asked_alias
    };
    let alias = alias.as_str();
    let k = manifest_of(world, alias)?;
    let insts = study_instances(world, alias)?;
    let query_patient = if has(crate::reference::Fault::XdsBuiltinConsumerOtherPatient) {
        another_patient(world, &k.patient_id)
    } else {
        k.patient_id.clone()
    };
    let ctx = world.ctx.clone();
    let played = crate::stand_in::play_xds(
        &c,
        name,
        endpoint,
        &crate::stand_in::XdsAsked {
            manifest: &k,
            study: &insts,
            query_patient: &query_patient,
            fixtures: &ctx.fixtures,
        },
        &mut |fresh_uid| {
            if let Ok(mut v) = ctx.submitted.lock() {
                v.push((
                    k.patient_id.clone(),
                    k.study_uid.clone(),
                    fresh_uid.to_string(),
                ));
            }
        },
    )
    .await;
    match played {
        Ok(ex) => {
            let message_id = message_id_of(&ex.request.body.kept);
            // The builtin actor's own exchange is evidence too (what the simulated SUT received
            // back).
            world.evidence.record(ex);
            Ok(message_id)
        }
        Err(err) => Err(harness_error(world, err.title(), err.to_string())),
    }
}

/// Another fixture study than `alias` that has a manifest.
fn other_study_with_manifest(world: &HarnessWorld, alias: &str) -> Option<String> {
    let fx = &world.ctx.fixtures;
    fx.studies()
        .into_iter()
        .filter(|s| s.alias != alias && s.instances.iter().any(|i| i.kos))
        .map(|s| s.alias.to_string())
        .next()
}

/// The text of the first `MessageID` element of a SOAP message.
pub(super) fn message_id_of(body: &[u8]) -> Option<String> {
    let start = memchr::memmem::find(body, b"MessageID>")? + "MessageID>".len();
    let len = memchr::memchr(b'<', &body[start..])?;
    std::str::from_utf8(&body[start..start + len])
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[when(expr = "the SUT imaging source is asked to submit the manifest of study {string}")]
async fn sut_source_submits(world: &mut HarnessWorld, alias: String) -> StepResult {
    trigger_and_wait(world, "source_submits_manifest", Transaction::Rad68, &alias).await
}

#[when(
    expr = "the SUT document consumer is asked to find the manifests of the patient of study {string}"
)]
async fn sut_consumer_queries(world: &mut HarnessWorld, alias: String) -> StepResult {
    trigger_and_wait(world, "consumer_queries", Transaction::Iti18, &alias).await
}

#[when(expr = "the SUT document consumer is asked to retrieve the manifest of study {string}")]
async fn sut_consumer_retrieves_manifest(world: &mut HarnessWorld, alias: String) -> StepResult {
    trigger_and_wait(
        world,
        "consumer_retrieves_manifest",
        Transaction::Iti43,
        &alias,
    )
    .await
}

#[when(expr = "the SUT imaging consumer is asked to retrieve the images of study {string}")]
async fn sut_consumer_retrieves(world: &mut HarnessWorld, alias: String) -> StepResult {
    trigger_and_wait(world, "consumer_retrieves", Transaction::Rad69, &alias).await
}

#[then("the submitted metadata agrees with the manifest")]
async fn submitted_agrees(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-05", "XDSI-06", "XDSI-07", "XDSI-08"])
}

#[then("the submission is the manifest of the study it was asked to publish")]
async fn submission_is_asked(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-15"])
}

#[then("the request is about the patient or the manifest it was asked about")]
async fn request_is_asked(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-16"])
}

#[then("the request asks only for instances the manifest references, at its retrieve location")]
async fn request_from_manifest(world: &mut HarnessWorld) -> StepResult {
    judge_xds(world, &["XDSI-11"])
}
