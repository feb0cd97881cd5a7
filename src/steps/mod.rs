//! Cucumber step definitions, one module per domain. Steps are thin: parse the Gherkin arguments,
//! call an actor, record the exchange, evaluate checks, and return a [`StepError`] when the scenario
//! cannot go on. What more than one domain's steps need (recording, judging once, stopping on a
//! Fail told once, running a trigger, the DICOMweb test data behind the manifests) is here, so
//! that no step module calls into another.

pub mod atna;
pub mod atna_arr;
pub mod atna_audit;
pub mod common;
pub mod dicomweb;
pub mod dimse;
pub mod mhd;
pub mod perf;
pub mod xds;

use crate::checks::{self, Expect, Finding, Outcome, Subject};
use crate::evidence::Exchange;
use crate::model::fixtures::FixtureInstance;
use crate::world::HarnessWorld;

/// Why a step stopped its scenario. The report does not read this text: it reads the findings.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StepError(pub String);

/// Result of a step.
pub type StepResult = Result<(), StepError>;

/// Record an exchange in the scenario's log and return its index. A transport failure stops the
/// scenario: a peer that closed or aborted after a complete request is a Fail of PEER-01 (it broke
/// the request/response contract), any other failure (refused connect, timeout, a harness fault)
/// an Error.
pub fn record(world: &mut HarnessWorld, exchange: Exchange) -> Result<usize, StepError> {
    let failed = exchange.failure.is_some();
    let idx = world.evidence.record(exchange);
    atna_arr::audit_own_exchange(world, idx);
    if failed {
        if let Some(ex) = world.evidence.get(idx) {
            let sut_fault = ex
                .failure
                .as_ref()
                .and_then(|f| checks::peer::check_of_failure(&f.kind));
            if let Some((check, expected)) = sut_fault {
                let actual = ex
                    .failure
                    .as_ref()
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
                return Err(fail_stop(world, check, Some(idx), expected, actual));
            }
            let f = Finding::error(ex);
            let msg = f.message();
            world.findings.push(f);
            return Err(StepError(msg));
        }
    }
    Ok(idx)
}

/// Evaluate the named checks on exchange `idx` with `expect`. A breach is recorded and the scenario
/// goes on, so that everything that can still be judged is judged; only a check the harness cannot
/// evaluate (an Error) stops it.
pub fn judge(
    world: &mut HarnessWorld,
    idx: usize,
    expect: &Expect,
    followups: &[Exchange],
    ids: &[&str],
) -> StepResult {
    let strict = world.ctx.config.strict;
    let Some(exchange) = world.evidence.get(idx) else {
        return Err(harness_error(
            world,
            "no exchange to judge",
            "a Then step ran before any When step",
        ));
    };
    let subject = Subject {
        exchange,
        expect,
        strict,
        followups,
    };
    let new = checks::evaluate_ids(ids, &subject);
    if crate::load::recording() {
        let passed = crate::load::replay_checks(idx, ids, &subject);
        world.replay_checks.extend(passed);
    }
    let errors: Vec<String> = new
        .iter()
        .filter(|f| f.outcome == Outcome::Error)
        .map(Finding::message)
        .collect();
    world.findings.extend(new);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StepError(errors.join("\n")))
    }
}

/// The SUT's answer breaks check `check` in a way that leaves the scenario nothing to go on with
/// (a manifest that does not parse, metadata of the wrong instances): record the Fail, with the
/// exchange it came from, and stop the scenario. The SUT got it wrong, so this is never an Error.
pub fn fail_stop(
    world: &mut HarnessWorld,
    check: &str,
    idx: Option<usize>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> StepError {
    let f = sut_finding(world, check, idx, expected.into(), actual.into());
    let msg = f.message();
    world.findings.push(f);
    StepError(msg)
}

/// Record a Fail of check `check` on exchange `idx` (when given) and let the scenario go on.
pub fn fail_continue(
    world: &mut HarnessWorld,
    check: &str,
    idx: Option<usize>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) {
    let f = sut_finding(world, check, idx, expected.into(), actual.into());
    world.findings.push(f);
}

fn sut_finding(
    world: &HarnessWorld,
    check: &str,
    idx: Option<usize>,
    expected: String,
    actual: String,
) -> Finding {
    let exchange = idx.and_then(|i| world.evidence.get(i));
    match checks::by_id(check) {
        Some(c) => Finding {
            check: c.id.into(),
            requirement: c.requirement.into(),
            level: c.level,
            title: c.title.into(),
            outcome: Outcome::Fail,
            advisory: c.level == checks::Level::Should && !world.ctx.config.strict,
            expected,
            actual,
            exchange: exchange.map(|e| e.seq),
            exchange_label: exchange.map(Exchange::label).unwrap_or_default(),
        },
        None => Finding::harness_error(
            "unknown check",
            format!("a step names check {check}, which the registry does not hold"),
        ),
    }
}

/// Record a harness error finding and return the matching step error.
pub fn harness_error(
    world: &mut HarnessWorld,
    title: &str,
    message: impl Into<String>,
) -> StepError {
    let f = Finding::harness_error(title, message);
    let msg = f.message();
    world.findings.push(f);
    StepError(msg)
}

/// Record that the scenario does not apply to this SUT (its profile lacks what it needs) and
/// return the step error that stops it.
pub fn not_applicable(world: &mut HarnessWorld, title: &str, reason: &str) -> StepError {
    world
        .findings
        .push(Finding::not_applicable(title, reason.to_string()));
    StepError(reason.to_string())
}

/// [`judge`], without recording again a verdict the scenario already holds: two steps that
/// judge one check of one exchange the same way (the status step and the completeness step
/// both judge DW-04 on a 500) report it once.
pub(crate) fn judge_once(
    world: &mut HarnessWorld,
    idx: usize,
    expect: &Expect,
    followups: &[crate::evidence::Exchange],
    ids: &[&str],
) -> StepResult {
    let before = world.findings.len();
    let result = judge(world, idx, expect, followups, ids);
    drop_repeated(&mut world.findings, before);
    result
}

/// Drop the findings from `before` on that repeat one the list already holds (same check,
/// exchange and verdict).
fn drop_repeated(findings: &mut Vec<crate::checks::Finding>, before: usize) {
    let new = findings.split_off(before.min(findings.len()));
    for f in new {
        let repeated = findings.iter().any(|g| {
            g.check == f.check
                && g.exchange == f.exchange
                && g.outcome == f.outcome
                && g.advisory == f.advisory
                && g.expected == f.expected
                && g.actual == f.actual
        });
        if !repeated {
            findings.push(f);
        }
    }
}

/// Stop the scenario with a Fail of `check` on exchange `idx`, unless that Fail is already
/// recorded for that exchange (a judged check found it first): the breach is told once.
pub(crate) fn stop_once(
    world: &mut HarnessWorld,
    check: &str,
    idx: Option<usize>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> StepError {
    let seq = idx.and_then(|i| world.evidence.get(i)).map(|e| e.seq);
    if let Some(f) = world
        .findings
        .iter()
        .find(|f| f.check == check && f.outcome == Outcome::Fail && f.exchange == seq)
    {
        return StepError(f.message());
    }
    fail_stop(world, check, idx, expected, actual)
}

/// In load mode, store the fixture studies into the SUT's DICOMweb origin server with STOW-RS,
/// once per run (the images behind the manifests, for the XDS-I.b scenarios too).
pub(crate) async fn load_test_studies(
    world: &mut HarnessWorld,
    c: crate::actors::dicomweb::DicomwebClient,
) -> StepResult {
    if world.ctx.config.test_data == crate::config::TestDataMode::Preloaded {
        return Ok(());
    }
    let ctx = world.ctx.clone();
    let mut exchanges = Vec::new();
    let result = ctx
        .test_data
        .get_or_init(|| {
            crate::test_data::load_dicomweb(
                &ctx.fixtures,
                &c,
                ctx.config.test_data_parallel,
                &mut exchanges,
            )
        })
        .await
        .clone();
    for ex in exchanges {
        world.evidence.record(ex);
    }
    result.map_err(|e| harness_error(world, "test data could not be loaded", e.to_string()))
}

/// The running simulator and the SUT profile's trigger `name`, for a scenario where the SUT calls
/// the harness; NotApplicable when either is missing (`actors` names the simulated actors).
pub(crate) fn simulator_and_trigger(
    world: &mut HarnessWorld,
    name: &str,
    actors: &str,
) -> Result<(crate::world::Simulator, crate::config::Trigger), StepError> {
    let Some(sim) = world.ctx.simulator.clone() else {
        return Err(not_applicable(
            world,
            "no simulator",
            &format!("the harness's simulated {actors} are not running"),
        ));
    };
    let Some(t) = world.ctx.config.triggers.get(name).cloned() else {
        return Err(not_applicable(
            world,
            "no trigger",
            &format!(
                "the SUT profile has no trigger `{name}`: add `{name} = \"<command>\"` to its \
                 [triggers] table to run this scenario"
            ),
        ));
    };
    Ok((sim, t))
}

/// Run the SUT profile's trigger `t` ([`crate::trigger::run`], bounded by the trigger timeout); a
/// trigger that fails is a harness error. A built-in trigger is returned by name for the caller to
/// play.
pub(crate) async fn run_trigger(
    world: &mut HarnessWorld,
    t: &crate::config::Trigger,
    vars: &[(&str, String)],
) -> Result<Option<String>, StepError> {
    let timeout = world.ctx.config.simulator.trigger_timeout;
    match crate::trigger::run(t, vars, timeout).await {
        Ok(crate::trigger::Triggered::Asked) => Ok(None),
        Ok(crate::trigger::Triggered::Builtin(name)) => Ok(Some(name)),
        Err(e) => Err(harness_error(world, e.title(), e.to_string())),
    }
}

/// The instances of a fixture study (alias or UID), or a harness error naming it.
pub(crate) fn study_instances(
    world: &mut HarnessWorld,
    alias: &str,
) -> Result<Vec<FixtureInstance>, StepError> {
    match world.ctx.fixtures.study(alias) {
        Some(s) => Ok(s.instances.into_iter().cloned().collect()),
        None => Err(harness_error(
            world,
            "unknown fixture study",
            format!("no fixture study {}", crate::evidence::quote(alias)),
        )),
    }
}

/// The instances of series `series` (Series Number) of a fixture study, by Instance Number.
pub(crate) fn series_instances(
    world: &mut HarnessWorld,
    alias: &str,
    series: i64,
) -> Result<Vec<FixtureInstance>, StepError> {
    let all = study_instances(world, alias)?;
    let mut v: Vec<FixtureInstance> = all
        .into_iter()
        .filter(|i| i.series_number == Some(series))
        .collect();
    v.sort_by_key(|i| i.instance_number.unwrap_or(0));
    if v.is_empty() {
        return Err(harness_error(
            world,
            "unknown fixture series",
            format!(
                "fixture study {} has no series {series}",
                crate::evidence::quote(alias)
            ),
        ));
    }
    Ok(v)
}

/// A patient id no domain (affinity domain, FHIR server) holds.
pub(crate) const UNKNOWN_PATIENT: &str = "NOBODY-0000";

/// A patient of the test data other than `patient`: known to the SUT, but not the one asked for
/// (the unknown patient when the test data holds no other).
pub(crate) fn another_patient(world: &HarnessWorld, patient: &str) -> String {
    world
        .ctx
        .fixtures
        .instances
        .iter()
        .map(|i| i.patient_id.clone())
        .find(|p| p != patient)
        .unwrap_or_else(|| UNKNOWN_PATIENT.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_already_recorded_is_not_recorded_again() {
        use crate::checks::{Finding, Outcome};
        let fail = |check: &str, exchange: u32, actual: &str| Finding {
            check: check.into(),
            outcome: Outcome::Fail,
            exchange: Some(exchange),
            expected: "200".into(),
            actual: actual.into(),
            ..Finding::harness_error("t", "")
        };
        let mut findings = vec![fail("DW-04", 1, "500")];
        findings.extend([
            fail("DW-04", 1, "500"),
            fail("DW-18", 1, "500"),
            fail("DW-04", 2, "500"),
            fail("DW-04", 1, "404"),
        ]);
        drop_repeated(&mut findings, 1);
        let kept: Vec<(String, Option<u32>, String)> = findings
            .iter()
            .map(|f| (f.check.clone(), f.exchange, f.actual.clone()))
            .collect();
        assert_eq!(
            kept,
            vec![
                ("DW-04".into(), Some(1), "500".into()),
                ("DW-18".into(), Some(1), "500".into()),
                ("DW-04".into(), Some(2), "500".into()),
                ("DW-04".into(), Some(1), "404".into()),
            ]
        );
    }
}
