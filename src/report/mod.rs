//! Report writers: JUnit XML for CI, a JSON result file for tools, and the evidence folder for people.
//!
//! This stage only formats what the run recorded: it never opens a socket. Everything is written even
//! when scenarios failed or errored, so a broken run still leaves its evidence behind.

pub mod evidence_dir;
pub mod gazelle;
pub mod gitb_tar;
pub mod html;
pub mod junit;
pub mod manifest;
pub mod results_json;
pub mod statement;
pub mod step_log;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::checks::{Finding, Outcome};
use crate::evidence::Exchange;

/// Errors of the report stage.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Serialisation failed.
    #[error("cannot serialise {what}: {message}")]
    Serialize {
        /// What.
        what: &'static str,
        /// Why.
        message: String,
    },
}

/// Everything known about one finished scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRecord {
    /// Feature name.
    pub feature: String,
    /// Feature file, relative to the features folder when possible.
    pub feature_file: String,
    /// Scenario name.
    pub scenario: String,
    /// Line of the scenario (of the example row for outlines).
    pub line: usize,
    /// Tags, feature tags included, without `@`.
    pub tags: Vec<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// Why the scenario is Skip / NotApplicable / Error, when the findings do not say.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Wall time.
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
    /// Check results.
    pub findings: Vec<Finding>,
    /// Exchanges.
    #[serde(skip)]
    pub exchanges: Vec<Exchange>,
    /// Evidence files written for this scenario (set by the evidence writer).
    pub evidence: Vec<String>,
    /// The scenario's steps (background steps first) and how each ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRecord>,
    /// Figures the scenario measured (a @perf scenario's timings and throughput), by name.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metrics: std::collections::BTreeMap<String, f64>,
}

/// One step of a scenario as it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// `Given `, `When `, `And `… as written.
    pub keyword: String,
    /// The step's text.
    pub text: String,
    /// Its line in the feature file.
    pub line: usize,
    /// `passed`, `failed`, `skipped` (no definition) or `not run` (an earlier step stopped the
    /// scenario).
    pub outcome: String,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl ScenarioRecord {
    /// The requirement-key tags (`req:DW-04` → `DW-04`).
    pub fn requirement_tags(&self) -> Vec<&str> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("req:"))
            .collect()
    }
}

/// About the run as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    /// Harness version.
    pub harness_version: String,
    /// SUT name.
    pub sut: String,
    /// SUT profile, if any.
    pub profile: Option<String>,
    /// Tag filter.
    pub tags: Option<String>,
    /// The profile pack the run judged with (name, version, title, code table, specifications).
    pub pack: crate::packs::Pack,
    /// Start time, RFC 3339.
    pub started_at: String,
    /// Wall time.
    #[serde(serialize_with = "ser_secs")]
    pub duration: Duration,
}

/// Counts of scenario outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Errored.
    pub errors: usize,
    /// Skipped.
    pub skipped: usize,
    /// Not applicable.
    pub not_applicable: usize,
}

impl Summary {
    /// Count outcomes.
    pub fn of(records: &[ScenarioRecord]) -> Summary {
        let mut s = Summary::default();
        for r in records {
            match r.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail => s.failed += 1,
                Outcome::Error => s.errors += 1,
                Outcome::Skip => s.skipped += 1,
                Outcome::NotApplicable => s.not_applicable += 1,
            }
        }
        s
    }

    /// Every outcome apart, in the words of the progress lines: `N scenarios: N pass, N FAIL,
    /// N ERROR, N not applicable, N skipped`. The closing line below it adds them up.
    pub fn breakdown_line(&self) -> String {
        format!(
            "{} scenarios: {} pass, {} FAIL, {} ERROR, {} not applicable, {} skipped",
            self.passed + self.failed + self.errors + self.skipped + self.not_applicable,
            self.passed,
            self.failed,
            self.errors,
            self.not_applicable,
            self.skipped
        )
    }

    /// The closing line CI systems read: `N passed, N failed, N skipped` (errors count as failed,
    /// not applicable as skipped).
    pub fn closing_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed + self.errors,
            self.skipped + self.not_applicable
        )
    }
}

/// Lower-case, dash-separated, at most 60 characters: safe as a folder name.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Write evidence (with the default limits), results.json and junit.xml under `dir`. Records get
/// their evidence paths.
pub fn write_all(
    dir: &Path,
    meta: &RunMeta,
    records: &mut [ScenarioRecord],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    evidence_dir::write(dir, records)?;
    write_summaries(dir, meta, records)
}

/// Write results.json and junit.xml under `dir`, for records whose evidence is already written
/// (a run writes each scenario's evidence as the scenario ends: [`evidence_dir::EvidenceWriter`]).
pub fn write_summaries(
    dir: &Path,
    meta: &RunMeta,
    records: &[ScenarioRecord],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    results_json::write(dir, meta, records)?;
    junit::write(dir, meta, records)?;
    gitb_tar::write(dir, meta, records)?;
    html::write(dir, meta, records)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("WADO-RS: Retrieve a study (RAD-107)"),
            "wado-rs-retrieve-a-study-rad-107"
        );
        assert_eq!(slug("  ..."), "");
    }

    #[test]
    fn closing_line_counts_errors_as_failed() {
        let s = Summary {
            passed: 3,
            failed: 1,
            errors: 2,
            skipped: 1,
            not_applicable: 1,
        };
        assert_eq!(s.closing_line(), "3 passed, 3 failed, 2 skipped");
        assert_eq!(
            s.breakdown_line(),
            "8 scenarios: 3 pass, 1 FAIL, 2 ERROR, 1 not applicable, 1 skipped"
        );
    }
}
