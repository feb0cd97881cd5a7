//! `results.json`: the machine-readable result of a run: each scenario with its outcome, its check
//! results (ids, requirements, expected and actual values) and the paths of its evidence.

use std::path::Path;

use serde::Serialize;

use super::{ReportError, RunMeta, ScenarioRecord, Summary};

#[derive(Serialize)]
struct Results<'a> {
    harness: &'static str,
    run: &'a RunMeta,
    summary: Summary,
    scenarios: &'a [ScenarioRecord],
}

/// Write `dir/results.json`.
pub fn write(dir: &Path, meta: &RunMeta, records: &[ScenarioRecord]) -> Result<(), ReportError> {
    let results = Results {
        harness: "ihe-harness",
        run: meta,
        summary: Summary::of(records),
        scenarios: records,
    };
    let bytes = serde_json::to_vec_pretty(&results).map_err(|e| ReportError::Serialize {
        what: "results",
        message: e.to_string(),
    })?;
    let path = dir.join("results.json");
    std::fs::write(&path, bytes).map_err(|source| ReportError::Write { path, source })
}
