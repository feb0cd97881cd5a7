//! The qualification statement: `statement.json` and `statement.html` (self-contained, printable),
//! written by a run whose SUT profile has `[claims]` ([`crate::config::claims`]) and by
//! `ihe-harness report --statement --report-dir DIR [--sut P]` from a run's `results.json`.
//!
//! For each claimed actor, transaction and option it lists the requirements of the catalogue
//! (`requirements/catalogue.toml`) that belong to it, and for each whether the run tested it and
//! with what verdict, or why not:
//!
//! - a requirement belongs to an actor when the catalogue binds it to that actor, or when a
//!   check of a scenario tagged `@actor:<that actor>` enforces it; to a transaction when the
//!   catalogue entry names the transaction id, or a check of a scenario tagged `@txn:<id>`
//!   enforces it; to an option when the entry names `<option> option`;
//! - its verdict comes from the run's findings of the checks that enforce it: `failed` when one
//!   failed, `passed` (or `passed with warnings` for an advisory SHOULD) when they passed; when
//!   the run has no finding of them, from its scenarios that name those checks (`not applicable`,
//!   `error`, `skipped`);
//! - otherwise it was not tested, because no scenario of the run's selection covers it (the tag
//!   filter or the shard left it out), no scenario exists yet, or no check exists yet.
//!
//! Scenarios of the run that belong to nothing claimed are listed apart: the statement does not
//! cover them. Scenarios the run found not applicable say why (the profile does not configure
//! what they test).

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use super::ReportError;
use crate::checks::Outcome;
use crate::config::claims::{actor_names, normalise, Claims};
use crate::listing::Listed;
use crate::requirements::{Catalogue, Requirement};

/// The JSON file name.
pub const JSON_FILE: &str = "statement.json";
/// The HTML file name.
pub const HTML_FILE: &str = "statement.html";

/// The run a statement is about.
#[derive(Debug, Clone, Serialize)]
pub struct RunIdentity {
    /// SUT name.
    pub sut: String,
    /// SUT profile path, if any.
    pub profile: Option<String>,
    /// Harness version.
    pub harness_version: String,
    /// Profile pack (`name@version`).
    pub pack: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The run's tag filter.
    pub tags: Option<String>,
}

/// One finding of the run, as the statement needs it.
#[derive(Debug, Clone)]
pub struct RanFinding {
    /// Check id.
    pub check: String,
    /// Outcome.
    pub outcome: Outcome,
    /// An advisory SHOULD.
    pub advisory: bool,
    /// Why it is not applicable, skipped or an error (the finding's `expected`).
    pub reason: String,
}

/// One scenario of the run, as the statement needs it.
#[derive(Debug, Clone)]
pub struct RanScenario {
    /// `file:line  name`.
    pub label: String,
    /// Tags without `@`.
    pub tags: Vec<String>,
    /// Outcome.
    pub outcome: Outcome,
    /// Why it is not applicable, skipped or an error.
    pub reason: String,
    /// Findings.
    pub findings: Vec<RanFinding>,
}

impl RanScenario {
    /// From a run's record.
    pub fn of(r: &super::ScenarioRecord) -> RanScenario {
        RanScenario {
            label: format!("{}:{}  {}", r.feature_file, r.line, r.scenario),
            tags: r.tags.clone(),
            outcome: r.outcome,
            reason: r.reason.clone(),
            findings: r
                .findings
                .iter()
                .map(|f| RanFinding {
                    check: f.check.clone(),
                    outcome: f.outcome,
                    advisory: f.advisory,
                    reason: f.expected.clone(),
                })
                .collect(),
        }
    }
}

/// One requirement of a claimed item.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementRow {
    /// Catalogue id.
    pub id: String,
    /// Document, edition and section.
    pub citation: String,
    /// SHALL / SHOULD.
    pub level: String,
    /// The requirement in the catalogue's words.
    pub text: String,
    /// The checks that enforce it.
    pub checks: Vec<String>,
    /// `tested` or `not tested`.
    pub tested: bool,
    /// passed, passed with warnings, failed, not applicable, error, skipped, not tested.
    pub verdict: String,
    /// Why it was not tested, or what the verdict rests on.
    pub why: String,
    /// The run's scenarios that judged it.
    pub scenarios: Vec<String>,
}

/// One claimed actor, transaction or option.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimedItem {
    /// actor, transaction or option.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// passed, failed or incomplete.
    pub verdict: &'static str,
    /// Requirements tested.
    pub tested: usize,
    /// Of them passed.
    pub passed: usize,
    /// Of them failed.
    pub failed: usize,
    /// Requirements not tested.
    pub not_tested: usize,
    /// Every requirement.
    pub requirements: Vec<RequirementRow>,
}

/// A scenario of the run outside the claims, or not applicable.
#[derive(Debug, Clone, Serialize)]
pub struct Outside {
    /// `file:line  name`.
    pub scenario: String,
    /// Its outcome.
    pub outcome: String,
    /// Why it is not part of the statement.
    pub why: String,
}

/// The statement.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// The run.
    pub run: RunIdentity,
    /// What the SUT claims.
    pub claims: Claims,
    /// passed, failed or incomplete.
    pub verdict: &'static str,
    /// The claimed items.
    pub items: Vec<ClaimedItem>,
    /// Scenarios of the run the statement does not cover, or that were not applicable.
    pub outside_claims: Vec<Outside>,
}

fn has_tag(tags: &[String], prefix: &str, name: &str) -> bool {
    let n = normalise(name);
    tags.iter()
        .filter_map(|t| t.strip_prefix(prefix))
        .any(|v| normalise(v) == n)
}

fn checks_of(tags: &[String]) -> impl Iterator<Item = &str> {
    tags.iter().filter_map(|t| t.strip_prefix("req:"))
}

fn requirements_of_check(check: &str) -> &'static [&'static str] {
    crate::checks::by_id(check)
        .map(|c| c.requirements)
        .unwrap_or(&[])
}

/// Does `text` name transaction `id` (not a longer one: `RAD-68` is not in `RAD-680`)?
fn names_transaction(text: &str, id: &str) -> bool {
    text.match_indices(id).any(|(i, _)| {
        let after = text[i + id.len()..].chars().next();
        let before = text[..i].chars().next_back();
        !after.is_some_and(|c| c.is_ascii_alphanumeric())
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

fn belongs(kind: &str, name: &str, r: &Requirement) -> bool {
    match kind {
        "actor" => actor_names(&r.actor)
            .iter()
            .any(|a| normalise(a) == normalise(name)),
        "transaction" => names_transaction(
            &format!("{} {} {} {}", r.section, r.actor, r.text, r.note),
            name,
        ),
        _ => format!("{} {} {}", r.section, r.text, r.note)
            .to_lowercase()
            .contains(&format!("{} option", name.to_lowercase())),
    }
}

fn tag_prefix(kind: &str) -> &'static str {
    match kind {
        "actor" => "actor:",
        "transaction" => "txn:",
        _ => "option:",
    }
}

/// Build the statement of a run.
pub fn build(
    run: RunIdentity,
    claims: &Claims,
    ran: &[RanScenario],
    all: &[Listed],
    catalogue: &Catalogue,
) -> Statement {
    let mut items = Vec::new();
    let mut covered_scenarios: BTreeSet<usize> = BTreeSet::new();
    let claimed = claims
        .actors
        .iter()
        .map(|a| ("actor", a))
        .chain(claims.transactions.iter().map(|t| ("transaction", t)))
        .chain(claims.options.iter().map(|o| ("option", o)));
    for (kind, name) in claimed {
        let prefix = tag_prefix(kind);
        // Requirements: the catalogue's for this item, and those the item's scenarios enforce.
        let mut ids: BTreeSet<&str> = catalogue
            .requirements
            .iter()
            .filter(|r| belongs(kind, name, r))
            .map(|r| r.id.as_str())
            .collect();
        for s in all.iter().filter(|s| has_tag(&s.tags, prefix, name)) {
            for c in checks_of(&s.tags) {
                ids.extend(requirements_of_check(c).iter().copied());
            }
        }
        for (i, s) in ran.iter().enumerate() {
            if has_tag(&s.tags, prefix, name) {
                covered_scenarios.insert(i);
                for c in checks_of(&s.tags) {
                    ids.extend(requirements_of_check(c).iter().copied());
                }
            }
        }
        let mut rows = Vec::new();
        for r in catalogue
            .requirements
            .iter()
            .filter(|r| ids.contains(r.id.as_str()))
        {
            let checks: Vec<&str> = crate::checks::registry()
                .filter(|c| c.requirements.contains(&r.id.as_str()))
                .map(|c| c.id)
                .collect();
            rows.push(row(r, &checks, ran, all, &run, &mut covered_scenarios));
        }
        let tested = rows.iter().filter(|r| r.tested).count();
        let failed = rows.iter().filter(|r| r.verdict == "failed").count();
        let passed = rows
            .iter()
            .filter(|r| r.verdict.starts_with("passed"))
            .count();
        let errors = rows.iter().filter(|r| r.verdict == "error").count();
        let verdict = if failed > 0 {
            "failed"
        } else if passed == 0 || errors > 0 {
            "incomplete"
        } else {
            "passed"
        };
        items.push(ClaimedItem {
            kind,
            name: name.clone(),
            verdict,
            tested,
            passed,
            failed,
            not_tested: rows.len() - tested,
            requirements: rows,
        });
    }
    let verdict = if items.iter().any(|i| i.verdict == "failed") {
        "failed"
    } else if items.is_empty() || items.iter().any(|i| i.verdict == "incomplete") {
        "incomplete"
    } else {
        "passed"
    };
    let outside_claims = ran
        .iter()
        .enumerate()
        .filter(|(i, s)| !covered_scenarios.contains(i) || s.outcome == Outcome::NotApplicable)
        .map(|(i, s)| Outside {
            scenario: s.label.clone(),
            outcome: s.outcome.to_string(),
            why: if s.outcome == Outcome::NotApplicable {
                format!(
                    "not applicable: the profile does not claim or configure what it tests ({})",
                    s.reason
                )
            } else if !covered_scenarios.contains(&i) {
                "outside the claims: it tests an actor, transaction or option the profile does \
                 not claim"
                    .into()
            } else {
                s.reason.clone()
            },
        })
        .collect();
    Statement {
        run,
        claims: claims.clone(),
        verdict,
        items,
        outside_claims,
    }
}

fn row(
    r: &Requirement,
    checks: &[&str],
    ran: &[RanScenario],
    all: &[Listed],
    run: &RunIdentity,
    covered: &mut BTreeSet<usize>,
) -> RequirementRow {
    let mut failed = false;
    let mut passed = false;
    let mut advisory = false;
    let mut scenarios = Vec::new();
    let mut naming: Vec<(usize, &RanScenario)> = Vec::new();
    // The first finding of its checks that was neither a pass nor a fail, with its reason.
    let mut other: Option<(Outcome, String)> = None;
    for (i, s) in ran.iter().enumerate() {
        let judged: Vec<&RanFinding> = s
            .findings
            .iter()
            .filter(|f| checks.contains(&f.check.as_str()))
            .collect();
        let named = checks_of(&s.tags).any(|c| checks.contains(&c));
        if !judged.is_empty() || named {
            covered.insert(i);
        }
        if !judged.is_empty() {
            scenarios.push(s.label.clone());
        } else if named {
            naming.push((i, s));
        }
        for f in judged {
            match f.outcome {
                Outcome::Fail if f.advisory => advisory = true,
                Outcome::Fail => failed = true,
                Outcome::Pass => passed = true,
                o => {
                    if other.is_none() {
                        other = Some((o, f.reason.clone()));
                    }
                }
            }
        }
    }
    let (tested, verdict, why) = if failed {
        (
            true,
            "failed",
            "a check that enforces it failed".to_string(),
        )
    } else if advisory {
        (
            true,
            "passed with warnings",
            "a SHOULD-level check reported a warning (advisory outside strict mode)".into(),
        )
    } else if passed {
        (true, "passed", "every finding of its checks passed".into())
    } else if let Some((outcome, reason)) = &other {
        match outcome {
            Outcome::NotApplicable => (
                false,
                "not applicable",
                format!("the profile does not claim or configure it: {reason}"),
            ),
            Outcome::Skip => (false, "skipped", format!("skipped: {reason}")),
            _ => (
                false,
                "error",
                format!("the harness could not judge it (not a failure of the SUT): {reason}"),
            ),
        }
    } else if let Some((_, s)) = naming.first() {
        scenarios = naming.iter().map(|(_, s)| s.label.clone()).collect();
        match s.outcome {
            Outcome::NotApplicable => (
                false,
                "not applicable",
                format!("the profile does not claim or configure it: {}", s.reason),
            ),
            Outcome::Error => (
                false,
                "error",
                format!(
                    "the harness could not complete the scenario (not a failure of the SUT): {}",
                    s.reason
                ),
            ),
            Outcome::Skip => (false, "skipped", format!("skipped: {}", s.reason)),
            o => (
                false,
                "not judged",
                format!(
                    "its scenarios ran ({o}) but recorded no finding of its checks (they report \
                     only what they met)"
                ),
            ),
        }
    } else if checks.is_empty() {
        (false, "not tested", "no check enforces it yet".into())
    } else if all
        .iter()
        .any(|s| checks_of(&s.tags).any(|c| checks.contains(&c)))
    {
        (
            false,
            "not tested",
            format!(
                "not in the run's selection (tag filter {})",
                run.tags
                    .as_deref()
                    .unwrap_or("none; shard or feature folder")
            ),
        )
    } else {
        (false, "not tested", "no scenario exercises it yet".into())
    };
    RequirementRow {
        id: r.id.clone(),
        citation: format!("{} ({}) {}", r.document, r.edition, r.section),
        level: r.level.clone(),
        text: r.text.clone(),
        checks: checks.iter().map(|c| c.to_string()).collect(),
        tested,
        verdict: verdict.to_string(),
        why,
        scenarios,
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.v{font-weight:bold;padding:.1em .4em;border-radius:3px}\
.passed{background:#d8f0d8}.failed{background:#f6d0d0}.incomplete,.not-tested,.not-judged,.error,.skipped{background:#f3ecd0}\
.not-applicable{background:#e8e8e8}.passed-with-warnings{background:#eef3d0}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}";

fn badge(v: &str) -> String {
    format!(
        "<span class=\"v {}\">{}</span>",
        super::slug(v),
        super::html::esc(v)
    )
}

/// The statement as one self-contained HTML page (no script, no external resource).
pub fn render_html(s: &Statement) -> String {
    let e = super::html::esc;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>Qualification statement: {}</title><style>{CSS}</style></head><body>\n",
        e(&s.run.sut)
    ));
    h.push_str(&format!(
        "<h1>Qualification statement: {}</h1>\n<p>Verdict on what was claimed: {}</p>\n",
        e(&s.run.sut),
        badge(s.verdict)
    ));
    h.push_str("<dl>");
    let mut dd = |k: &str, v: &str| h.push_str(&format!("<dt>{}</dt><dd>{}</dd>", e(k), e(v)));
    dd("System under test", &s.run.sut);
    dd(
        "SUT profile",
        s.run
            .profile
            .as_deref()
            .unwrap_or("(none: embedded reference)"),
    );
    dd("Harness", &format!("ihe-harness {}", s.run.harness_version));
    dd("Profile pack", &s.run.pack);
    dd("Run started", &s.run.started_at);
    dd("Tag filter", s.run.tags.as_deref().unwrap_or("(none)"));
    dd("Claimed actors", &s.claims.actors.join(", "));
    dd("Claimed transactions", &s.claims.transactions.join(", "));
    dd("Claimed options", &s.claims.options.join(", "));
    h.push_str("</dl>\n");
    h.push_str("<h2>Summary</h2>\n<table><tr><th>Claim</th><th>Verdict</th><th>Requirements</th><th>Tested</th><th>Passed</th><th>Failed</th><th>Not tested</th></tr>\n");
    for i in &s.items {
        h.push_str(&format!(
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            e(i.kind),
            e(&i.name),
            badge(i.verdict),
            i.requirements.len(),
            i.tested,
            i.passed,
            i.failed,
            i.not_tested
        ));
    }
    h.push_str("</table>\n");
    for i in &s.items {
        h.push_str(&format!(
            "<h2>{} {}: {}</h2>\n",
            e(i.kind),
            e(&i.name),
            badge(i.verdict)
        ));
        if i.requirements.is_empty() {
            h.push_str("<p>No requirement of the catalogue belongs to it yet.</p>\n");
            continue;
        }
        h.push_str("<table><tr><th>Requirement</th><th>Level</th><th>Verdict</th><th>Why</th><th>Checks</th><th>Scenarios</th></tr>\n");
        for r in &i.requirements {
            h.push_str(&format!(
                "<tr><td><b>{}</b> {}<br>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                e(&r.id),
                e(&r.citation),
                e(&r.text),
                e(&r.level),
                badge(&r.verdict),
                e(&r.why),
                e(&r.checks.join(", ")),
                r.scenarios.iter().map(|s| e(s)).collect::<Vec<_>>().join("<br>")
            ));
        }
        h.push_str("</table>\n");
    }
    if !s.outside_claims.is_empty() {
        h.push_str("<h2>Scenarios outside the claims or not applicable</h2>\n<table><tr><th>Scenario</th><th>Outcome</th><th>Why</th></tr>\n");
        for o in &s.outside_claims {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                e(&o.scenario),
                e(&o.outcome),
                e(&o.why)
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str(&format!(
        "<p><small>Written by ihe-harness {}. The files of this report folder are listed with \
         their SHA-256 in MANIFEST.sha256; <code>ihe-harness report --verify DIR</code> checks \
         them.</small></p>\n</body></html>\n",
        e(&s.run.harness_version)
    ));
    h
}

/// Write `statement.json` and `statement.html` under `dir`.
pub fn write(dir: &Path, s: &Statement) -> Result<(), ReportError> {
    let json = serde_json::to_vec_pretty(s).map_err(|e| ReportError::Serialize {
        what: "statement",
        message: e.to_string(),
    })?;
    let path = dir.join(JSON_FILE);
    std::fs::write(&path, json).map_err(|source| ReportError::Write { path, source })?;
    let path = dir.join(HTML_FILE);
    std::fs::write(&path, render_html(s)).map_err(|source| ReportError::Write { path, source })
}

/// Remove the statement files from `dir`, if any (a run without claims must not leave an
/// earlier run's statement next to its own reports).
pub fn remove(dir: &Path) -> Result<(), ReportError> {
    for name in [JSON_FILE, HTML_FILE] {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ReportError::Write { path, source }),
        }
    }
    Ok(())
}

/// The statement of a finished run (called by the runner when the profile has `[claims]`).
pub fn write_for_run(
    dir: &Path,
    meta: &super::RunMeta,
    claims: &Claims,
    records: &[super::ScenarioRecord],
    features: &crate::runner::FeatureSource,
) -> Result<(), ReportError> {
    let all = crate::listing::scenarios(features, None).unwrap_or_default();
    let catalogue = Catalogue::embedded().map_err(|e| ReportError::Serialize {
        what: "statement",
        message: e.to_string(),
    })?;
    let ran: Vec<RanScenario> = records.iter().map(RanScenario::of).collect();
    let s = build(
        RunIdentity {
            sut: meta.sut.clone(),
            profile: meta.profile.clone(),
            harness_version: meta.harness_version.clone(),
            pack: meta.pack.id(),
            started_at: meta.started_at.clone(),
            tags: meta.tags.clone(),
        },
        claims,
        &ran,
        &all,
        &catalogue,
    );
    write(dir, &s)
}

fn outcome_of(s: &str) -> Outcome {
    match s {
        "pass" => Outcome::Pass,
        "fail" => Outcome::Fail,
        "not-applicable" => Outcome::NotApplicable,
        "skip" => Outcome::Skip,
        _ => Outcome::Error,
    }
}

/// The run identity and scenarios of a `results.json`.
pub fn read_results(text: &str) -> Result<(RunIdentity, Vec<RanScenario>), String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("results.json is not JSON: {e}"))?;
    let run = v.get("run").ok_or("results.json has no run")?;
    let s = |o: &serde_json::Value, k: &str| {
        o.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let pack = run
        .get("pack")
        .map(|p| format!("{}@{}", s(p, "name"), s(p, "version")))
        .unwrap_or_default();
    let identity = RunIdentity {
        sut: s(run, "sut"),
        profile: run
            .get("profile")
            .and_then(|x| x.as_str())
            .map(String::from),
        harness_version: s(run, "harness_version"),
        pack,
        started_at: s(run, "started_at"),
        tags: run.get("tags").and_then(|x| x.as_str()).map(String::from),
    };
    let mut ran = Vec::new();
    for r in v
        .get("scenarios")
        .and_then(|x| x.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        ran.push(RanScenario {
            label: format!(
                "{}:{}  {}",
                s(r, "feature_file"),
                r.get("line").and_then(|x| x.as_u64()).unwrap_or(0),
                s(r, "scenario")
            ),
            tags: r
                .get("tags")
                .and_then(|x| x.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            outcome: outcome_of(&s(r, "outcome")),
            reason: s(r, "reason"),
            findings: r
                .get("findings")
                .and_then(|x| x.as_array())
                .map(|a| {
                    a.iter()
                        .map(|f| RanFinding {
                            check: s(f, "check"),
                            outcome: outcome_of(&s(f, "outcome")),
                            advisory: f.get("advisory").and_then(|x| x.as_bool()) == Some(true),
                            reason: s(f, "expected"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    Ok((identity, ran))
}

/// `ihe-harness report --statement --report-dir DIR [--sut P]`: the statement of the run whose
/// `results.json` is in DIR, with the claims of P (default: the profile the run used); then the
/// manifest again. 0 written, 2 on an error.
pub fn command(dir: &Path, sut: Option<&Path>) -> u8 {
    let results = dir.join("results.json");
    let text = match std::fs::read_to_string(&results) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", results.display());
            return 2;
        }
    };
    let (identity, ran) = match read_results(&text) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}: {e}", results.display());
            return 2;
        }
    };
    let profile = sut
        .map(Path::to_path_buf)
        .or_else(|| identity.profile.as_ref().map(std::path::PathBuf::from));
    let Some(profile) = profile else {
        eprintln!("error: the run used no SUT profile: give the one with the [claims] with --sut");
        return 2;
    };
    let claims = match crate::config::Config::load(&profile) {
        Ok(c) => c.claims,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let Some(claims) = claims.filter(|c| !c.is_empty()) else {
        eprintln!(
            "error: {} has no [claims] table: say which actors, transactions and options the SUT claims",
            profile.display()
        );
        return 2;
    };
    let all = crate::listing::scenarios(&crate::runner::FeatureSource::Embedded, None)
        .unwrap_or_default();
    let catalogue = match Catalogue::embedded() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let s = build(identity, &claims, &ran, &all, &catalogue);
    if let Err(e) = write(dir, &s).and_then(|_| super::manifest::write(dir)) {
        eprintln!("error: {e}");
        return 2;
    }
    println!(
        "{}: verdict {}; {}, {} and {} written; {}",
        s.run.sut,
        s.verdict,
        dir.join(HTML_FILE).display(),
        dir.join(JSON_FILE).display(),
        dir.join(super::manifest::FILE).display(),
        s.items
            .iter()
            .map(|i| format!(
                "{} {}: {} of {} requirements tested, {} failed",
                i.kind,
                i.name,
                i.tested,
                i.requirements.len(),
                i.failed
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(tags: Option<&str>) -> RunIdentity {
        RunIdentity {
            sut: "Acme <PACS>".into(),
            profile: Some("sut.toml".into()),
            harness_version: "0.1.0".into(),
            pack: "mado@1".into(),
            started_at: "2026-12-07T09:00:00Z".into(),
            tags: tags.map(String::from),
        }
    }

    fn listed(tags: &[&str]) -> Listed {
        Listed {
            file: "features/x.feature".into(),
            feature: "X".into(),
            scenario: "x".into(),
            line: 1,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn ran(
        label: &str,
        tags: &[&str],
        outcome: Outcome,
        findings: &[(&str, Outcome)],
    ) -> RanScenario {
        RanScenario {
            label: label.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            outcome,
            reason: String::new(),
            findings: findings
                .iter()
                .map(|(c, o)| RanFinding {
                    check: c.to_string(),
                    outcome: *o,
                    advisory: false,
                    reason: String::new(),
                })
                .collect(),
        }
    }

    fn catalogue() -> Catalogue {
        Catalogue::parse(
            r#"
[[requirement]]
id = "R-1"
document = "IHE RAD TF-2"
edition = "22"
section = "4.68.4.1"
level = "SHALL"
actor = "Imaging Document Source (RAD-68)"
text = "RAD-68 carries the manifest."
[[requirement]]
id = "R-2"
document = "IHE RAD TF-2"
edition = "22"
section = "4.68.4.2"
level = "SHALL"
actor = "Imaging Document Source"
text = "The manifest references the study."
[[requirement]]
id = "R-3"
document = "IHE RAD TF-2"
edition = "22"
section = "4.69"
level = "SHALL"
actor = "Imaging Document Source"
text = "Nothing checks this yet."
[[requirement]]
id = "R-4"
document = "IHE ITI MHD"
edition = "4.2.4"
section = "2:3.65"
level = "SHALL"
actor = "MHD Document Source"
text = "Comprehensive Metadata option: every element."
"#,
        )
        .expect("catalogue")
    }

    /// Checks of the registry that enforce no requirement of the test catalogue: the rows come
    /// from the catalogue and the verdicts from findings, matched through check ids. The test
    /// uses a real check id and pretends, through the catalogue, that it enforces R-1.
    fn first_check_of(req: &str) -> Option<&'static str> {
        crate::checks::registry()
            .find(|c| c.requirements.contains(&req))
            .map(|c| c.id)
    }

    #[test]
    fn claimed_tested_and_not_tested_requirements() {
        let cat = catalogue();
        let claims = Claims {
            actors: vec!["Imaging Document Source".into()],
            transactions: vec![],
            options: vec!["Comprehensive Metadata".into()],
        };
        let s = build(identity(Some("@profile:XDS-I.b")), &claims, &[], &[], &cat);
        assert_eq!(s.items.len(), 2);
        let actor = &s.items[0];
        assert_eq!(actor.kind, "actor");
        let ids: Vec<&str> = actor.requirements.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["R-1", "R-2", "R-3"]);
        assert_eq!(actor.tested, 0);
        assert!(actor
            .requirements
            .iter()
            .all(|r| r.verdict == "not tested" && r.why.contains("no check")));
        assert_eq!(actor.verdict, "incomplete");
        let option = &s.items[1];
        assert_eq!(option.requirements.len(), 1);
        assert_eq!(option.requirements[0].id, "R-4");
        assert_eq!(s.verdict, "incomplete");
    }

    #[test]
    fn verdicts_come_from_the_findings_of_the_checks_that_enforce_a_requirement() {
        // A real catalogue entry with a real check.
        let cat = Catalogue::embedded().expect("catalogue");
        let req = cat
            .requirements
            .iter()
            .find(|r| {
                actor_names(&r.actor)
                    .iter()
                    .any(|a| a == "Imaging Document Source")
                    && first_check_of(&r.id).is_some()
            })
            .expect("an Imaging Document Source requirement with a check");
        let check = first_check_of(&req.id).expect("check");
        let claims = Claims {
            actors: vec!["Imaging Document Source".into()],
            ..Default::default()
        };
        let tag = format!("req:{check}");
        let run_failed = [
            ran("a:1  x", &[&tag], Outcome::Fail, &[(check, Outcome::Fail)]),
            ran("b:2  out", &["actor:DocumentConsumer"], Outcome::Pass, &[]),
        ];
        let s = build(identity(None), &claims, &run_failed, &[], &cat);
        let row = s.items[0]
            .requirements
            .iter()
            .find(|r| r.id == req.id)
            .expect("row");
        assert_eq!(row.verdict, "failed");
        assert!(row.tested);
        assert_eq!(row.scenarios, vec!["a:1  x".to_string()]);
        assert_eq!(s.items[0].verdict, "failed");
        assert_eq!(s.verdict, "failed");
        assert_eq!(s.outside_claims.len(), 1);
        assert!(s.outside_claims[0].why.contains("outside the claims"));

        let run_passed = [ran(
            "a:1  x",
            &[&tag],
            Outcome::Pass,
            &[(check, Outcome::Pass)],
        )];
        let s = build(identity(None), &claims, &run_passed, &[], &cat);
        let row = s.items[0]
            .requirements
            .iter()
            .find(|r| r.id == req.id)
            .expect("row");
        assert_eq!(row.verdict, "passed");

        // Not in the run but a scenario exists: the tag filter left it out.
        let s = build(
            identity(Some("@profile:DICOMweb")),
            &claims,
            &[],
            &[listed(&[&tag])],
            &cat,
        );
        let row = s.items[0]
            .requirements
            .iter()
            .find(|r| r.id == req.id)
            .expect("row");
        assert_eq!(row.verdict, "not tested");
        assert!(
            row.why.contains("tag filter @profile:DICOMweb"),
            "{}",
            row.why
        );

        // The run's scenario was not applicable.
        let mut na = ran("a:1  x", &[&tag], Outcome::NotApplicable, &[]);
        na.reason = "the profile has no [xds] table".into();
        let s = build(identity(None), &claims, &[na], &[], &cat);
        let row = s.items[0]
            .requirements
            .iter()
            .find(|r| r.id == req.id)
            .expect("row");
        assert_eq!(row.verdict, "not applicable");
        assert!(row.why.contains("no [xds] table"));
    }

    #[test]
    fn the_html_is_self_contained_and_escaped() {
        let cat = catalogue();
        let claims = Claims {
            actors: vec!["Imaging Document Source".into()],
            ..Default::default()
        };
        let s = build(identity(None), &claims, &[], &[], &cat);
        let html = render_html(&s);
        assert!(html.contains("Acme &lt;PACS&gt;"));
        assert!(!html.contains("<PACS>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.contains("@media print"));
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), &s).expect("write");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.path().join(JSON_FILE)).expect("read"))
                .expect("json");
        assert_eq!(json["items"][0]["name"], "Imaging Document Source");
        assert_eq!(json["run"]["sut"], "Acme <PACS>");
    }

    #[test]
    fn a_check_not_applicable_in_a_passing_scenario_says_why() {
        let cat = Catalogue::embedded().expect("catalogue");
        let req = "MHDIG-UnContained.Comprehensive";
        let check = first_check_of(req).expect("check");
        let tag = format!("req:{check}");
        let mut s = ran(
            "a:1  x",
            &[&tag],
            Outcome::Pass,
            &[(check, Outcome::NotApplicable)],
        );
        s.findings[0].reason = "the Comprehensive Metadata option is not claimed".into();
        let claims = Claims {
            options: vec!["Comprehensive Metadata".into()],
            ..Default::default()
        };
        let st = build(identity(None), &claims, &[s], &[], &cat);
        let row = st.items[0]
            .requirements
            .iter()
            .find(|r| r.id == req)
            .expect("row");
        assert_eq!(row.verdict, "not applicable");
        assert!(row.why.contains("option is not claimed"), "{}", row.why);
        assert!(!row.tested);
    }

    #[test]
    fn transactions_are_named_whole() {
        assert!(names_transaction("RAD-68 request", "RAD-68"));
        assert!(!names_transaction("RAD-680 request", "RAD-68"));
        assert!(!names_transaction("XRAD-68", "RAD-68"));
    }
}
