//! The HL7 Europe imaging API: the Document Access Provider's CapabilityStatement (EUAPI-01,
//! EUAPI-02), read as a Document Consumer reads it before searching.

use super::*;
use crate::model::fhir::FHIR_JSON;
use crate::transport::http::{Meta, Request};

#[given("the SUT claims the HL7 Europe imaging Document Access Provider")]
async fn claims_provider(world: &mut HarnessWorld) -> StepResult {
    client(world)?;
    let claimed = world
        .ctx
        .config
        .mhd
        .as_ref()
        .is_some_and(|m| m.eu_imaging_api);
    if claimed {
        Ok(())
    } else {
        Err(not_applicable(
            world,
            "no HL7 Europe imaging API claimed",
            "the SUT profile does not claim the imaging Document Access Provider ([mhd] eu_imaging_api = true)",
        ))
    }
}

#[when("the consumer reads the SUT's CapabilityStatement")]
async fn read_capabilities(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let ex = c
        .http
        .exchange(
            Meta {
                transaction: Transaction::Fhir,
                operation: "capabilities".into(),
                actor: crate::actors::mhd::CONSUMER,
            },
            Request::get(c.url("metadata"), Some(FHIR_JSON)),
        )
        .await;
    let idx = record(world, ex)?;
    world.mhd.expect = Expect::default();
    world.mhd.pages.clear();
    world.mhd.last = Some(idx);
    Ok(())
}

#[then("the CapabilityStatement declares what the imaging Document Access Provider SHALL support")]
async fn declares_shall(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["EUAPI-01"])
}

#[then("the CapabilityStatement declares what the imaging Document Access Provider SHOULD support")]
async fn declares_should(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["EUAPI-02"])
}
