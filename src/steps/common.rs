//! Steps shared by every domain: status codes, judged by the check of the last exchange's transaction.

use cucumber::then;

use super::judge_once;
use super::{harness_error, StepResult};
use crate::transaction::Transaction;
use crate::world::HarnessWorld;

/// The status check of a transaction (DW-04 when there is no exchange).
fn status_check(transaction: Option<Transaction>) -> &'static str {
    match transaction {
        Some(Transaction::Rad108) => "DW-10",
        Some(Transaction::Rad129) => "DW-20",
        Some(
            Transaction::Rad107
            | Transaction::Capabilities
            | Transaction::Iti18
            | Transaction::Iti41
            | Transaction::Iti43
            | Transaction::Rad68
            | Transaction::Rad69
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
            | Transaction::Rad75,
        )
        | None => "DW-04",
    }
}

fn expect_status(world: &mut HarnessWorld, codes: Vec<u16>, reason: String) -> StepResult {
    let Some(idx) = world.dicomweb.last else {
        return Err(harness_error(
            world,
            "no exchange to judge",
            "no request was sent before this step",
        ));
    };
    let transaction = world.evidence.get(idx).map(|e| e.transaction);
    world.dicomweb.expect.status = codes;
    world.dicomweb.expect.status_reason = reason;
    // The status code alone: completeness (DW-04's "200 only with every instance") is judged by the
    // step that says so, after the structure of the body has been judged.
    let expect = crate::checks::Expect {
        instances: None,
        ..world.dicomweb.expect.clone()
    };
    judge_once(world, idx, &expect, &[], &[status_check(transaction)])
}

#[then(expr = "the response status is {int}")]
async fn status_is(world: &mut HarnessWorld, code: u16) -> StepResult {
    expect_status(world, vec![code], String::new())
}

#[then(expr = "the response status is {int} for {string}")]
async fn status_is_for(world: &mut HarnessWorld, code: u16, reason: String) -> StepResult {
    expect_status(world, vec![code], reason)
}

/// Where the standard leaves the code open, lenient mode accepts the alternative; strict does not.
#[then(expr = "the response status is {int} for {string}, or {int} when lenient")]
async fn status_is_or_lenient(
    world: &mut HarnessWorld,
    code: u16,
    reason: String,
    alt: u16,
) -> StepResult {
    let codes = if world.ctx.config.strict {
        vec![code]
    } else {
        vec![code, alt]
    };
    expect_status(world, codes, reason)
}

/// Where the standard allows two codes with different meanings, each checked by the transaction's
/// check (a 202 of STOW-RS must carry the warnings or failures it announces): both pass, strict or not.
#[then(expr = "the response status is {int}, or {int} for {string}")]
async fn status_is_either(
    world: &mut HarnessWorld,
    code: u16,
    alt: u16,
    reason: String,
) -> StepResult {
    expect_status(world, vec![code, alt], reason)
}
