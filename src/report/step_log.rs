//! How each step of each scenario ended, for the reports: a cucumber writer that passes every event
//! on to the writer it wraps and notes the steps' outcomes on the way.
//!
//! A scenario's record lists all its steps (background first) as "not run" when it ends
//! ([`steps_of`]); when the run is over, [`StepLog::fill`] marks the ones that ran. cucumber emits
//! no event for the steps after one that stopped the scenario: they stay "not run".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cucumber::event::{self, Cucumber, Feature, RetryableScenario, Rule, Scenario, Step};
use cucumber::{parser, writer, Event, World, Writer};

use super::{ScenarioRecord, StepRecord};

/// (feature name, scenario line, step line) → outcome.
type Outcomes = HashMap<(String, usize, usize), String>;

/// The outcomes noted so far, shared by the writer and the run.
#[derive(Debug, Clone, Default)]
pub struct StepLog(Arc<Mutex<Outcomes>>);

impl StepLog {
    /// A cucumber writer that passes events on to `inner` and notes the steps' outcomes here.
    pub fn writer<Wr>(&self, inner: Wr) -> LoggingWriter<Wr> {
        LoggingWriter {
            inner,
            log: self.clone(),
        }
    }

    fn note(&self, feature: &str, scenario: usize, step: usize, outcome: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.insert((feature.to_string(), scenario, step), outcome.to_string());
        }
    }

    /// Mark the steps of each record that ran with their outcome.
    pub fn fill(&self, records: &mut [ScenarioRecord]) {
        let Ok(m) = self.0.lock() else {
            return;
        };
        for r in records {
            for s in &mut r.steps {
                if let Some(o) = m.get(&(r.feature.clone(), r.line, s.line)) {
                    s.outcome = o.clone();
                }
            }
        }
    }
}

/// The steps of a scenario (the feature's and the rule's background first), each "not run".
pub fn steps_of(
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
) -> Vec<StepRecord> {
    let background = feature
        .background
        .iter()
        .chain(rule.and_then(|r| r.background.as_ref()))
        .flat_map(|b| b.steps.iter());
    background
        .chain(scenario.steps.iter())
        .map(|s| StepRecord {
            keyword: s.keyword.trim().to_string(),
            text: s.value.clone(),
            line: s.position.line,
            outcome: "not run".into(),
        })
        .collect()
}

/// The writer of [`StepLog::writer`].
#[derive(Debug)]
pub struct LoggingWriter<Wr> {
    inner: Wr,
    log: StepLog,
}

fn outcome_of<W>(step: &Step<W>) -> Option<&'static str> {
    match step {
        Step::Started => None,
        Step::Passed(..) => Some("passed"),
        Step::Skipped => Some("skipped"),
        Step::Failed(_, _, _, event::StepError::NotFound) => {
            Some("skipped: no definition in this harness version")
        }
        Step::Failed(..) => Some("failed"),
    }
}

impl<W: World, Wr: Writer<W>> Writer<W> for LoggingWriter<Wr> {
    type Cli = Wr::Cli;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<W>>>, cli: &Self::Cli) {
        if let Ok(ev) = &event {
            if let Cucumber::Feature(f, fe) = &ev.value {
                let scenario = match fe {
                    Feature::Scenario(sc, RetryableScenario { event, .. }) => Some((sc, event)),
                    Feature::Rule(_, Rule::Scenario(sc, RetryableScenario { event, .. })) => {
                        Some((sc, event))
                    }
                    _ => None,
                };
                if let Some((sc, Scenario::Step(st, s) | Scenario::Background(st, s))) = scenario {
                    if let Some(o) = outcome_of(s) {
                        self.log
                            .note(&f.name, sc.position.line, st.position.line, o);
                    }
                }
            }
        }
        self.inner.handle_event(event, cli).await;
    }
}

impl<Wr: writer::Normalized> writer::Normalized for LoggingWriter<Wr> {}

/// The writer at the end of the chain: it writes nothing, since the harness prints one line per
/// scenario from the findings itself. cucumber's own writer would format the World of every
/// failed step (a not-applicable scenario is one) only to throw the text away, on the thread that
/// drives every scenario.
#[derive(Debug, Default)]
pub struct Silent;

impl<W: World> Writer<W> for Silent {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(&mut self, _: parser::Result<Event<Cucumber<W>>>, _: &Self::Cli) {}
}

// Nothing is written, so the order events come in cannot show.
impl writer::Normalized for Silent {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;

    const FEATURE: &str = "Feature: F\n\n  Background:\n    Given a study\n\n  Scenario: S\n    When it is asked for\n    Then it answers\n    And it answers again\n";

    #[test]
    fn steps_start_not_run_and_take_the_outcomes_noted() {
        let f = cucumber::gherkin::Feature::parse(FEATURE, Default::default()).unwrap();
        let sc = &f.scenarios[0];
        let steps = steps_of(&f, None, sc);
        let words: Vec<_> = steps
            .iter()
            .map(|s| format!("{} {} {}", s.keyword, s.text, s.line))
            .collect();
        assert_eq!(
            words,
            [
                "Given a study 4",
                "When it is asked for 7",
                "Then it answers 8",
                "And it answers again 9"
            ]
        );
        assert!(steps.iter().all(|s| s.outcome == "not run"));
        let log = StepLog::default();
        log.note("F", sc.position.line, 4, "passed");
        log.note("F", sc.position.line, 7, "passed");
        log.note("F", sc.position.line, 8, "failed");
        log.note("other feature", sc.position.line, 9, "passed");
        let mut records = vec![ScenarioRecord {
            feature: "F".into(),
            feature_file: "f.feature".into(),
            scenario: "S".into(),
            line: sc.position.line,
            tags: Vec::new(),
            outcome: Outcome::Fail,
            reason: String::new(),
            duration: std::time::Duration::ZERO,
            findings: Vec::new(),
            exchanges: Vec::new(),
            evidence: Vec::new(),
            steps,
            metrics: Default::default(),
        }];
        log.fill(&mut records);
        let outcomes: Vec<_> = records[0]
            .steps
            .iter()
            .map(|s| s.outcome.as_str())
            .collect();
        assert_eq!(outcomes, ["passed", "passed", "failed", "not run"]);
    }
}
