//! MHD steps where the SUT calls the harness: its Document Source publishing (ITI-65) or its
//! Document Consumer searching (ITI-66, ITI-67) after a trigger, the built-in stand-ins
//! ([`crate::stand_in::mhd`]) that play it against the embedded reference, and the judging of what
//! the simulated Recipient/Responder received.

use super::*;

// ---------------------------------------------------------------------------------------------
// The SUT as Document Source or Document Consumer

async fn await_inbound(
    world: &mut HarnessWorld,
    trigger: &str,
    transaction: Transaction,
    alias: &str,
) -> StepResult {
    let (sim, t) =
        crate::steps::simulator_and_trigger(world, trigger, "Document Recipient and Responder")?;
    let patient = patient_of(world, alias)?;
    let insts = crate::steps::study_instances(world, alias)?;
    let study = insts
        .first()
        .map(|i| i.study_uid.clone())
        .unwrap_or_default();
    let mark = sim.inbox.len();
    let vars = [
        ("endpoint", sim.fhir_base.clone()),
        ("study_uid", study),
        ("patient_id", patient.clone()),
        ("patient_system", patient_system(world)),
    ];
    let builtin = crate::steps::run_trigger(world, &t, &vars).await?;
    let marker = match builtin {
        Some(name) => Some(run_builtin(world, &name, &sim.fhir_base, alias, &patient).await?),
        None => None,
    };
    let timeout = world.ctx.config.simulator.trigger_timeout;
    let matches = |ex: &Exchange| match &marker {
        Some(m) => ex
            .request
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("x-request-id") && v == m),
        None => true,
    };
    let Some(ex) = sim
        .inbox
        .wait_for(mark, transaction, timeout, &matches)
        .await
    else {
        return Err(harness_error(
            world,
            "the SUT did not call",
            format!(
                "no {transaction} request reached the simulator at {} within {} ms of the `{trigger}` trigger",
                sim.fhir_base,
                timeout.as_millis()
            ),
        ));
    };
    let idx = record(world, ex)?;
    world.mhd.last = Some(idx);
    world.mhd.pages.clear();
    world.mhd.cut = None;
    let asked = MhdAsked {
        patient: (patient_system(world), patient.clone()),
        patient_refs: BTreeSet::from([format!("Patient/{}", mhd_content::patient_id(&patient))]),
        study: insts
            .first()
            .map(|i| i.study_uid.clone())
            .unwrap_or_default(),
    };
    world.mhd.expect = Expect {
        mhd: MhdExpect {
            asked: Some(asked),
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    Ok(())
}

/// The embedded reference plays the SUT with the harness's own conformant actors
/// ([`crate::stand_in::mhd`]); a request id header marks the request to judge among concurrent
/// ones.
async fn run_builtin(
    world: &mut HarnessWorld,
    name: &str,
    base: &str,
    alias: &str,
    patient: &str,
) -> Result<String, StepError> {
    let marker = crate::model::kos::seeded_uid(&fresh_seed(world, name));
    // A fault makes the stand-in act on something else than it was asked: another study's
    // document, another patient.
    let faults = world.ctx.faults.clone();
    let doc_alias = if faults.contains(&crate::reference::Fault::MhdBuiltinSourceOtherStudy) {
        world
            .ctx
            .mhd_catalogue
            .docs
            .iter()
            .find(|d| d.alias != alias && d.kind == "kos")
            .map(|d| d.alias.clone())
            .unwrap_or_else(|| alias.to_string())
    } else {
        alias.to_string()
    };
    let patient = if faults.contains(&crate::reference::Fault::MhdBuiltinConsumerOtherPatient)
        && name.starts_with("consumer_")
    {
        another_patient(world, patient)
    } else {
        patient.to_string()
    };
    let document = if name == crate::stand_in::mhd::SOURCE_PROVIDES_BUNDLE {
        let (doc, _) = new_document(world, &doc_alias, "kos")?;
        let seed = fresh_seed(world, "builtin-submission");
        Some((doc, crate::model::kos::seeded_uid(&seed)))
    } else {
        None
    };
    let asked = crate::stand_in::MhdAsked {
        marker: &marker,
        patient: &patient,
        patient_system: &patient_system(world),
        document,
    };
    match crate::stand_in::play_mhd(name, base, asked).await {
        Ok(()) => Ok(marker),
        Err(err) => Err(harness_error(world, err.title(), err.to_string())),
    }
}

#[when(expr = "the SUT document source is asked to publish the documents of study {string}")]
async fn sut_source(world: &mut HarnessWorld, alias: String) -> StepResult {
    await_inbound(world, "source_provides_bundle", Transaction::Iti65, &alias).await
}

#[when(
    expr = "the SUT document consumer is asked to find the documents of the patient of study {string}"
)]
async fn sut_consumer(world: &mut HarnessWorld, alias: String) -> StepResult {
    await_inbound(
        world,
        "consumer_finds_documents",
        Transaction::Iti67,
        &alias,
    )
    .await
}

#[when(
    expr = "the SUT document consumer is asked to find the submission sets of the patient of study {string}"
)]
async fn sut_consumer_lists(world: &mut HarnessWorld, alias: String) -> StepResult {
    await_inbound(world, "consumer_finds_lists", Transaction::Iti66, &alias).await
}

#[then("the SUT's request is about the study or the patient it was asked about")]
async fn sut_request_is_asked(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["MHD-21", "MHD-22"])
}

#[then("the SUT's request is a conformant MHD request")]
async fn sut_request_conformant(world: &mut HarnessWorld) -> StepResult {
    let txn = world
        .mhd
        .last
        .and_then(|i| world.evidence.get(i))
        .map(|e| e.transaction);
    let ids: &[&str] = match txn {
        Some(Transaction::Iti65) => &[
            "FHIR-01", "FHIR-02", "MHD-01", "MHD-02", "MHD-03", "MHD-04", "MHD-05", "MHD-06",
            "MHD-07", "MHD-08", "MHD-10",
        ],
        Some(Transaction::Iti66) => &["MHD-12"],
        Some(
            Transaction::Iti67
            | Transaction::Iti68
            | Transaction::Rad107
            | Transaction::Rad108
            | Transaction::Rad129
            | Transaction::Capabilities
            | Transaction::Iti18
            | Transaction::Iti41
            | Transaction::Iti43
            | Transaction::Rad68
            | Transaction::Rad69
            | Transaction::SoapFault
            | Transaction::Fhir
            | Transaction::Dimse
            | Transaction::Iti19
            | Transaction::Iti20
            | Transaction::Iti81
            | Transaction::Iti38
            | Transaction::Iti39
            | Transaction::Rad160
            | Transaction::Rad75,
        )
        | None => &["MHD-11"],
    };
    judge_last(world, ids)
}
