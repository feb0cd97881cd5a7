//! `report.html`: the run for people. One self-contained file (its style and script are inside
//! it; nothing is fetched) that opens from disk and prints to PDF with every scenario open:
//!
//! - the summary: the verdict, the counts per outcome, bar charts per profile, actor and use case
//!   (the `profile:`, `actor:` and `uc:` tags), the SUT, the profile pack and the harness version;
//! - every scenario with its steps, its findings (expected, actual, the requirement linked to its
//!   row in the coverage matrix, the exchange linked to its evidence file, the command that repeats
//!   it), and a sequence diagram of its exchanges;
//! - filters for outcome, profile and tag;
//! - the requirement coverage matrix of the catalogue ([`crate::requirements`]).
//!
//! The exchanges are read back from the evidence folder ([`super::evidence_dir`]): by the time the
//! report is written their bodies have left memory. Every value that came from the SUT is
//! HTML-escaped; the one data block for tools is JSON with `<`, `>` and `&` escaped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::{ReportError, RunMeta, ScenarioRecord, Summary};
use crate::checks::{self, Outcome};
use crate::requirements::Catalogue;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// The page collects its own script errors, so a test (or a reader with the console open) sees
/// them: `window.__reportErrors`.
const ERROR_HOOK: &str = "window.__reportErrors=[];window.addEventListener('error',function(e){window.__reportErrors.push(String(e.message))});(function(){var c=console.error;console.error=function(){window.__reportErrors.push(Array.prototype.join.call(arguments,' '));return c.apply(console,arguments)}})();";

/// Most exchanges a sequence diagram draws; the rest are counted under it.
pub const MAX_DIAGRAM_EXCHANGES: usize = 100;

/// One exchange as the report shows it, read back from its evidence record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExchangeLine {
    /// `#3` in the scenario.
    pub seq: u32,
    /// `RAD-107`.
    pub transaction: String,
    /// What the harness was doing.
    pub operation: String,
    /// The simulated actor of the harness that sent or received it.
    pub actor: String,
    /// The SUT called the harness (a simulator), rather than the harness the SUT.
    pub inbound: bool,
    /// Request method (or DIMSE command).
    pub method: String,
    /// Request URL.
    pub url: String,
    /// Response status.
    pub status: Option<u16>,
    /// Milliseconds to the end of the exchange.
    pub elapsed_ms: Option<u64>,
    /// Why the transfer failed, if it did.
    pub failure: Option<String>,
    /// The evidence record, relative to the report folder.
    pub file: String,
    /// The command that repeats it (from the scenario's `repro.sh`).
    pub repro: String,
}

/// Write `dir/report.html`. Returns the number of bytes written.
pub fn write(dir: &Path, meta: &RunMeta, records: &[ScenarioRecord]) -> Result<u64, ReportError> {
    let exchanges: Vec<Vec<ExchangeLine>> =
        records.iter().map(|r| read_exchanges(dir, r)).collect();
    let catalogue = Catalogue::embedded().ok();
    let html = render(meta, records, &exchanges, catalogue.as_ref());
    let path = dir.join("report.html");
    std::fs::write(&path, html.as_bytes()).map_err(|source| ReportError::Write { path, source })?;
    Ok(html.len() as u64)
}

/// HTML-escape text for element content and quoted attribute values. Control characters other than
/// tab and line breaks become U+FFFD.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&` (only ever inside JSON
/// strings) written as `\u` escapes, so no `</script>` or `<!--` can close or change the block.
pub fn script_json(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Error => "error",
        Outcome::NotApplicable => "na",
        Outcome::Skip => "skip",
    }
}

const OUTCOMES: [(Outcome, &str); 5] = [
    (Outcome::Pass, "pass"),
    (Outcome::Fail, "FAIL"),
    (Outcome::Error, "ERROR"),
    (Outcome::NotApplicable, "not applicable"),
    (Outcome::Skip, "skipped"),
];

fn count_of(s: &Summary, o: Outcome) -> usize {
    match o {
        Outcome::Pass => s.passed,
        Outcome::Fail => s.failed,
        Outcome::Error => s.errors,
        Outcome::NotApplicable => s.not_applicable,
        Outcome::Skip => s.skipped,
    }
}

/// `235 ms`, `4.2 s`, `3 min 12 s`.
fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// The verdict of the run: its class, its word and what it means.
fn verdict(s: &Summary) -> (&'static str, &'static str, &'static str) {
    if s.failed > 0 {
        (
            "fail",
            "FAIL",
            "the system under test broke at least one requirement",
        )
    } else if s.errors > 0 {
        (
            "error",
            "ERROR",
            "no requirement was broken, but some scenarios could not be judged (harness, network or configuration)",
        )
    } else if s.passed > 0 {
        (
            "pass",
            "PASS",
            "every scenario that applies to the system under test passed",
        )
    } else {
        (
            "none",
            "NO VERDICT",
            "no scenario applied to the system under test",
        )
    }
}

/// The exchanges of a scenario, read from its evidence records and its `repro.sh`. What cannot be
/// read is left out: the report is written even when the evidence is not.
pub fn read_exchanges(dir: &Path, r: &ScenarioRecord) -> Vec<ExchangeLine> {
    let mut out = Vec::new();
    let mut scenario_dir = None;
    for p in &r.evidence {
        let Some((folder, name)) = p.rsplit_once('/') else {
            continue;
        };
        if name == "findings.json" {
            scenario_dir = Some(folder.to_string());
            continue;
        }
        if !name.ends_with(".json") || folder.ends_with("-files") {
            continue;
        }
        scenario_dir.get_or_insert_with(|| folder.to_string());
        let Ok(bytes) = std::fs::read(dir.join(p)) else {
            continue;
        };
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        out.push(exchange_line(&v, p));
    }
    out.sort_by_key(|e| e.seq);
    if let Some(folder) = scenario_dir {
        if let Ok(text) = std::fs::read_to_string(dir.join(&folder).join("repro.sh")) {
            let commands = repro_commands(&text);
            for e in &mut out {
                if let Some(c) = commands.get(&e.seq) {
                    e.repro = c.clone();
                }
            }
        }
    }
    out
}

/// An exchange's evidence record (as written by [`super::evidence_dir`]) as a line of the report.
pub fn exchange_line(v: &Value, file: &str) -> ExchangeLine {
    let text = |ptr: &str| {
        v.pointer(ptr)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    ExchangeLine {
        seq: v
            .get("seq")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        transaction: text("/transaction"),
        operation: text("/operation"),
        actor: text("/actor"),
        inbound: v.get("direction").and_then(Value::as_str) == Some("inbound"),
        method: text("/request/method"),
        url: text("/request/url"),
        status: v
            .pointer("/response/status")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok()),
        elapsed_ms: v.get("elapsed").and_then(Value::as_u64),
        failure: v.get("failure").filter(|f| !f.is_null()).map(|f| {
            let kind = f.get("kind").and_then(Value::as_str).unwrap_or_default();
            let msg = f.get("message").and_then(Value::as_str).unwrap_or_default();
            match (kind.is_empty(), msg.is_empty()) {
                (false, false) => format!("{kind}: {msg}"),
                (false, true) => kind.to_string(),
                _ => msg.to_string(),
            }
        }),
        file: file.to_string(),
        repro: String::new(),
    }
}

/// The command of each exchange in a `repro.sh`: the lines after its `# #<seq> …` heading that
/// are not comments.
pub fn repro_commands(text: &str) -> HashMap<u32, String> {
    let mut out: HashMap<u32, String> = HashMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# #") {
            current = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u32>().ok());
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(seq) = current {
            let e = out.entry(seq).or_default();
            if !e.is_empty() {
                e.push('\n');
            }
            e.push_str(line);
        }
    }
    out
}

/// Per requirement of the catalogue: what this run made of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReqTally {
    /// Scenarios with a finding (pass or fail) of a check that enforces it.
    pub scenarios: BTreeSet<usize>,
    /// Findings that passed.
    pub passed: usize,
    /// Findings that failed (not advisory).
    pub failed: usize,
    /// Advisory findings (SHOULD outside strict mode) that were breached.
    pub warned: usize,
}

impl ReqTally {
    /// `failed`, `warned`, `passed` or `not tested`.
    pub fn status(&self) -> &'static str {
        if self.failed > 0 {
            "failed"
        } else if self.warned > 0 {
            "warned"
        } else if self.passed > 0 {
            "passed"
        } else {
            "not tested"
        }
    }
}

/// The tally of every requirement the run's findings judged, by requirement id.
pub fn tally(records: &[ScenarioRecord]) -> BTreeMap<&'static str, ReqTally> {
    let registry: HashMap<&str, &'static checks::Check> =
        checks::registry().map(|c| (c.id, c)).collect();
    let mut out: BTreeMap<&'static str, ReqTally> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        for f in &r.findings {
            if !matches!(f.outcome, Outcome::Pass | Outcome::Fail) {
                continue;
            }
            let Some(c) = registry.get(f.check.as_str()) else {
                continue;
            };
            for id in c.requirements {
                let t = out.entry(id).or_default();
                t.scenarios.insert(i);
                match (f.outcome, f.advisory) {
                    (Outcome::Pass, _) => t.passed += 1,
                    (_, true) => t.warned += 1,
                    _ => t.failed += 1,
                }
            }
        }
    }
    out
}

/// The values of one tag family (`profile:`) on a scenario.
fn family<'a>(r: &'a ScenarioRecord, prefix: &str) -> Vec<&'a str> {
    r.tags
        .iter()
        .filter_map(|t| t.strip_prefix(prefix))
        .collect()
}

/// A horizontal stacked bar chart of scenario outcomes per value of a tag family.
fn chart(records: &[ScenarioRecord], prefix: &str, none: &str) -> String {
    let mut rows: BTreeMap<String, Summary> = BTreeMap::new();
    for r in records {
        let mut values = family(r, prefix);
        values.sort_unstable();
        values.dedup();
        if values.is_empty() {
            add(rows.entry(none.to_string()).or_default(), r.outcome);
        }
        for v in values {
            add(rows.entry(v.to_string()).or_default(), r.outcome);
        }
    }
    if rows.is_empty() {
        return "<p class=\"muted\">No scenario.</p>".into();
    }
    let total = |s: &Summary| s.passed + s.failed + s.errors + s.not_applicable + s.skipped;
    let max = rows.values().map(total).max().unwrap_or(1).max(1);
    let (label_w, bar_w, row_h) = (190.0, 280.0, 22.0);
    let width = label_w + bar_w + 110.0;
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"scenarios by {}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">",
        esc(prefix.trim_end_matches(':'))
    );
    for (k, (name, s)) in rows.iter().enumerate() {
        let y = 2.0 + row_h * k as f64;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1d2330\">{}</text>",
            label_w - 6.0,
            y + 15.0,
            esc(&clip(name, 28))
        );
        let mut x = label_w;
        for (o, word) in OUTCOMES {
            let n = count_of(s, o);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"><title>{}: {n} {word}</title></rect>",
                y + 3.0,
                row_h - 6.0,
                colour_of(o),
                esc(name)
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#5f6b7a\">{}{}</text>",
            x + 4.0,
            y + 15.0,
            total(s),
            match (s.failed, s.errors) {
                (0, 0) => String::new(),
                (f, 0) => format!(" ({f} FAIL)"),
                (0, e) => format!(" ({e} ERROR)"),
                (f, e) => format!(" ({f} FAIL, {e} ERROR)"),
            }
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The colour of an outcome (as in report.css).
fn colour_of(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "#2e7d32",
        Outcome::Fail => "#c62828",
        Outcome::Error => "#e65100",
        Outcome::NotApplicable => "#78909c",
        Outcome::Skip => "#b0bec5",
    }
}

fn add(s: &mut Summary, o: Outcome) {
    match o {
        Outcome::Pass => s.passed += 1,
        Outcome::Fail => s.failed += 1,
        Outcome::Error => s.errors += 1,
        Outcome::NotApplicable => s.not_applicable += 1,
        Outcome::Skip => s.skipped += 1,
    }
}

/// At most `n` characters, with `…` when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The path and query of a URL (what a diagram label has room for).
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or(rest, |i| &rest[i..]),
        None => url,
    }
}

/// The sequence diagram of a scenario's exchanges: a lifeline per simulated actor of the harness
/// and one for the SUT, an arrow per request and one per response (status and time), in order.
/// At most [`MAX_DIAGRAM_EXCHANGES`] are drawn; the rest are counted.
pub fn sequence_svg(exchanges: &[ExchangeLine]) -> String {
    if exchanges.is_empty() {
        return "<p class=\"muted\">No exchange: this scenario sent or received nothing.</p>"
            .into();
    }
    let shown = &exchanges[..exchanges.len().min(MAX_DIAGRAM_EXCHANGES)];
    let mut actors: Vec<&str> = Vec::new();
    for e in shown {
        let a = actor_name(e);
        if !actors.contains(&a) {
            actors.push(a);
        }
    }
    let lanes = actors.len() + 1;
    let col = (1100.0 / lanes as f64).clamp(200.0, 360.0);
    let width = col * lanes as f64;
    let head = 44.0;
    let row = 24.0;
    let more = exchanges.len() - shown.len();
    let height = head + row * 2.0 * shown.len() as f64 + if more > 0 { 34.0 } else { 14.0 };
    let x_of = |i: usize| col * i as f64 + col / 2.0;
    let sut_x = x_of(actors.len());
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"sequence of {} exchanges\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" font-family=\"ui-monospace, Menlo, Consolas, monospace\">",
        exchanges.len()
    );
    let names = actors
        .iter()
        .map(|a| (*a, "#e3f2fd", "#1565c0"))
        .chain(std::iter::once(("SUT", "#fff3e0", "#e65100")));
    for (i, (name, fill, stroke)) in names.enumerate() {
        let x = x_of(i);
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"4\" width=\"{:.1}\" height=\"26\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{x:.1}\" y=\"21\" text-anchor=\"middle\" font-weight=\"bold\" font-family=\"system-ui, sans-serif\" font-size=\"12\">{}<title>{}</title></text><line x1=\"{x:.1}\" y1=\"30\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#b0bec5\" stroke-dasharray=\"4 3\"/>",
            x - col / 2.0 + 8.0,
            col - 16.0,
            esc(&clip(name, ((col - 24.0) / 8.2) as usize)),
            esc(name),
            height - 4.0
        );
    }
    for (k, e) in shown.iter().enumerate() {
        let ax = x_of(actors.iter().position(|a| *a == actor_name(e)).unwrap_or(0));
        let y1 = head + row * 2.0 * k as f64 + 14.0;
        let y2 = y1 + row;
        let (from, to) = if e.inbound { (sut_x, ax) } else { (ax, sut_x) };
        // A label may run past the arrow's end into the half column beyond it.
        let chars = (((sut_x - ax).abs() + col / 2.0 - 16.0) / 6.7).max(12.0) as usize;
        let request = format!(
            "#{} {} {} {}",
            e.seq,
            e.transaction,
            e.method,
            path_of(&e.url)
        );
        let full = format!(
            "#{} {} {}: {} {}",
            e.seq, e.transaction, e.operation, e.method, e.url
        );
        arrow(
            &mut svg,
            from,
            to,
            y1,
            &clip(&request, chars),
            &full,
            false,
            "#1d2330",
        );
        let ms = e
            .elapsed_ms
            .map(|m| format!(" · {m} ms"))
            .unwrap_or_default();
        let (answer, colour) = match (e.status, &e.failure) {
            (Some(_), None) => {
                let (text, colour) = status_view(e);
                (format!("{text}{ms}"), colour)
            }
            (Some(_), Some(f)) => (format!("{}, then {f}{ms}", status_view(e).0), "#c62828"),
            (None, Some(f)) => (format!("no answer: {f}{ms}"), "#c62828"),
            (None, None) => (format!("no answer{ms}"), "#c62828"),
        };
        arrow(
            &mut svg,
            to,
            from,
            y2,
            &clip(&answer, chars),
            &answer,
            true,
            colour,
        );
    }
    if more > 0 {
        let _ = write!(
            svg,
            "<text x=\"8\" y=\"{:.1}\" font-family=\"system-ui, sans-serif\" font-size=\"12\" fill=\"#5f6b7a\">… {more} more exchange{} not drawn (all are in the table below)</text>",
            height - 12.0,
            if more == 1 { "" } else { "s" }
        );
    }
    svg.push_str("</svg>");
    svg
}

/// An answer's status as its protocol writes it (HTTP `404`, DIMSE `A700H`), and its colour:
/// green for success (and DIMSE pending), amber for a DIMSE warning, red otherwise.
fn status_view(e: &ExchangeLine) -> (String, &'static str) {
    let Some(s) = e.status else {
        return (String::new(), "#c62828");
    };
    if e.transaction.starts_with("DIMSE") || e.method.ends_with("-RQ") {
        let colour = match s {
            0x0000 | 0xFF00 | 0xFF01 => "#2e7d32",
            0x0001 | 0xB000..=0xBFFF => "#b26a00",
            _ => "#c62828",
        };
        (format!("{s:04X}H"), colour)
    } else {
        (s.to_string(), if s >= 400 { "#c62828" } else { "#2e7d32" })
    }
}

fn actor_name(e: &ExchangeLine) -> &str {
    if e.actor.is_empty() {
        "harness"
    } else {
        &e.actor
    }
}

#[allow(clippy::too_many_arguments)]
fn arrow(
    svg: &mut String,
    from: f64,
    to: f64,
    y: f64,
    label: &str,
    title: &str,
    dashed: bool,
    colour: &str,
) {
    let dir = if to >= from { 1.0 } else { -1.0 };
    let tip = to - dir * 2.0;
    let _ = write!(
        svg,
        "<g><title>{}</title><line x1=\"{from:.1}\" y1=\"{y:.1}\" x2=\"{tip:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"1.3\"{}/><polygon points=\"{tip:.1},{y:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text></g>",
        esc(title),
        if dashed { " stroke-dasharray=\"5 3\"" } else { "" },
        tip - dir * 8.0,
        y - 4.0,
        tip - dir * 8.0,
        y + 4.0,
        from.min(to) + 6.0,
        y - 4.0,
        esc(label)
    );
}

/// The whole page.
pub fn render(
    meta: &RunMeta,
    records: &[ScenarioRecord],
    exchanges: &[Vec<ExchangeLine>],
    catalogue: Option<&Catalogue>,
) -> String {
    let summary = Summary::of(records);
    let (vclass, vword, vwhy) = verdict(&summary);
    let registry: HashMap<&str, &'static checks::Check> =
        checks::registry().map(|c| (c.id, c)).collect();
    let mut h = String::with_capacity(64 * 1024 + records.len() * 8 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{vword}: {} (ihe-harness report)</title><script>{ERROR_HOOK}</script><style>{CSS}</style></head><body><main>",
        esc(&meta.sut)
    );
    // Summary.
    let _ = write!(
        h,
        "<header id=\"summary\"><h1>Conformance test report: {}</h1><p class=\"lead\">Written by ihe-harness {} after a test run of the system under test (SUT) below. Each scenario plays one or more IHE actors against the SUT and judges its answers against cited requirements.</p><nav class=\"toc\"><a href=\"#scenarios\">Scenarios</a><a href=\"#coverage\">Requirement coverage</a></nav>",
        esc(&meta.sut),
        esc(&meta.harness_version)
    );
    let _ = write!(
        h,
        "<div class=\"verdict v-{vclass}\" id=\"verdict\" data-verdict=\"{vword}\"><span class=\"word\">{vword}</span><span class=\"why\">{}</span></div>",
        esc(vwhy)
    );
    h.push_str("<div class=\"counts\" id=\"counts\">");
    for (o, word) in OUTCOMES {
        let _ = write!(
            h,
            "<div class=\"count c-{c}\" data-outcome=\"{c}\"><span class=\"n\">{}</span><span class=\"l\">{word}</span></div>",
            count_of(&summary, o),
            c = outcome_class(o)
        );
    }
    let _ = write!(
        h,
        "<div class=\"count\" style=\"--c:#1d2330\" data-outcome=\"all\"><span class=\"n\">{}</span><span class=\"l\">scenarios in all</span></div></div>",
        records.len()
    );
    problems(&mut h, records);
    meta_table(&mut h, meta);
    h.push_str("<h3>Scenarios by profile, actor and use case</h3><div class=\"legend\">");
    for (o, word) in OUTCOMES {
        let _ = write!(
            h,
            "<span><i style=\"background:var(--{})\"></i>{word}</span>",
            outcome_class(o)
        );
    }
    h.push_str("</div><div class=\"charts\">");
    for (title, prefix, none) in [
        ("By profile", "profile:", "(no profile tag)"),
        ("By actor the SUT plays", "actor:", "(no actor tag)"),
        ("By use case", "uc:", "(no use case tag)"),
    ] {
        let _ = write!(
            h,
            "<div class=\"chart\"><h4>{title}</h4>{}</div>",
            chart(records, prefix, none)
        );
    }
    h.push_str("</div></header>");

    // Filters and scenarios.
    let mut profiles: BTreeSet<&str> = BTreeSet::new();
    let mut all_tags: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        profiles.extend(family(r, "profile:"));
        all_tags.extend(r.tags.iter().map(String::as_str));
    }
    let _ = write!(
        h,
        "<section id=\"scenarios\"><h2>Scenarios</h2><p class=\"lead\">Click a scenario to open it. Failed and errored scenarios are open. Each lists its steps, every check it made (with the requirement, what was expected and what came back), a diagram of the messages between the harness and the SUT, and the command that repeats each message. Evidence files are in the <code>evidence/</code> folder next to this file.</p>"
    );
    h.push_str("<form class=\"filters\" id=\"filters\" onsubmit=\"return false\"><fieldset><legend>Outcome</legend>");
    for (o, word) in OUTCOMES {
        let _ = write!(
            h,
            "<label><input type=\"checkbox\" name=\"f-outcome\" value=\"{c}\" id=\"f-o-{c}\" checked> {word} ({})</label>",
            count_of(&summary, o),
            c = outcome_class(o)
        );
    }
    h.push_str(
        "</fieldset><label>Profile <select id=\"f-profile\"><option value=\"\">all</option>",
    );
    for p in &profiles {
        let _ = write!(h, "<option value=\"{0}\">{0}</option>", esc(p));
    }
    h.push_str("</select></label><label>Tag <input type=\"search\" id=\"f-tag\" list=\"f-tags\" placeholder=\"e.g. txn:RAD-107\"></label><datalist id=\"f-tags\">");
    for t in &all_tags {
        let _ = write!(h, "<option value=\"{}\">", esc(t));
    }
    let _ = write!(
        h,
        "</datalist><button type=\"button\" id=\"expand-all\">open all</button><button type=\"button\" id=\"collapse-all\">close all</button><span id=\"shown\" data-shown=\"{0}\">{0} of {0} scenarios shown</span></form>",
        records.len()
    );
    let empty = Vec::new();
    for (i, r) in records.iter().enumerate() {
        scenario(&mut h, i, r, exchanges.get(i).unwrap_or(&empty), &registry);
    }
    if records.is_empty() {
        h.push_str("<p class=\"muted\">No scenario ran.</p>");
    }
    h.push_str("</section>");

    // Coverage matrix.
    coverage(&mut h, records, catalogue);

    // Data for tools, and the script.
    let data = serde_json::json!({
        "harness": "ihe-harness",
        "run": meta,
        "summary": summary,
        "verdict": vword,
    });
    let _ = write!(
        h,
        "<footer>Written by ihe-harness {} on {}. The machine-readable results are in <code>results.json</code> and <code>junit.xml</code> next to this file.</footer></main><script type=\"application/json\" id=\"run-data\">{}</script><script>{JS}</script></body></html>",
        esc(&meta.harness_version),
        esc(&meta.started_at),
        script_json(&data)
    );
    h.push('\n');
    h
}

/// Most scenarios the summary names for one check under "What failed".
const MAX_PROBLEMS: usize = 12;

/// What failed, by check (and what errored, by what went wrong), each with links to its scenarios.
fn problems(h: &mut String, records: &[ScenarioRecord]) {
    // (outcome, check, title, requirement) → scenario indexes, in the order first met.
    type Key = (Outcome, String, String, String);
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    // The first reason given for each error.
    let mut reasons: BTreeMap<Key, String> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if !matches!(r.outcome, Outcome::Fail | Outcome::Error) {
            continue;
        }
        for f in r
            .findings
            .iter()
            .filter(|f| f.is_failure() || f.outcome == Outcome::Error)
        {
            let key = (
                f.outcome,
                f.check.clone(),
                f.title.clone(),
                f.requirement.clone(),
            );
            if f.outcome == Outcome::Error && !f.actual.is_empty() {
                reasons
                    .entry(key.clone())
                    .or_insert_with(|| f.actual.clone());
            }
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => {
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
                None => groups.push((key, vec![i])),
            }
        }
    }
    if groups.is_empty() {
        return;
    }
    // Failures before errors, the most frequent first.
    groups.sort_by(|a, b| {
        (b.0 .0 == Outcome::Fail)
            .cmp(&(a.0 .0 == Outcome::Fail))
            .then(b.1.len().cmp(&a.1.len()))
    });
    let fails = groups.iter().any(|(k, _)| k.0 == Outcome::Fail);
    let errors = groups.iter().any(|(k, _)| k.0 == Outcome::Error);
    let _ = write!(
        h,
        "<div id=\"problems\"><h3>{}</h3><table class=\"problems\"><tr><th>Outcome</th><th>Check and requirement</th><th>Scenarios</th></tr>",
        match (fails, errors) {
            (true, true) => "What failed, and what could not be judged",
            (true, false) => "What failed",
            _ => "What could not be judged",
        }
    );
    for (key, scenarios) in &groups {
        let (o, check, title, requirement) = key;
        let cited = match (reasons.get(key), requirement.as_str()) {
            (Some(why), _) => format!(
                "not a breach by the SUT: the harness could not judge ({})",
                esc(&clip(why, 200))
            ),
            (None, "harness") => "not a breach by the SUT: the harness could not judge".into(),
            (None, r) => esc(r),
        };
        let c = outcome_class(*o);
        let links = scenarios
            .iter()
            .take(MAX_PROBLEMS)
            .filter_map(|i| records.get(*i).map(|r| (i, r)))
            .map(|(i, r)| format!("<a href=\"#sc-{i}\">{}</a>", esc(&r.scenario)))
            .collect::<Vec<_>>()
            .join(" · ");
        let more = if scenarios.len() > MAX_PROBLEMS {
            format!(" · and {} more", scenarios.len() - MAX_PROBLEMS)
        } else {
            String::new()
        };
        let _ = write!(
            h,
            "<tr><td><span class=\"badge b-{c}\">{o}</span></td><td><code>{}</code> {}<br><span class=\"muted\">{}</span></td><td><b>{}</b> scenario{}: {links}{more}</td></tr>",
            esc(check),
            esc(title),
            cited,
            scenarios.len(),
            if scenarios.len() == 1 { "" } else { "s" },
        );
    }
    h.push_str("</table></div>");
}

/// `2026-12-07T09:37:32.2094Z` → `2026-12-07 09:37:32 UTC`; anything else as it is.
fn readable_time(rfc3339: &str) -> String {
    let b = rfc3339.as_bytes();
    if rfc3339.len() >= 19 && rfc3339.ends_with('Z') && b.get(10) == Some(&b'T') {
        format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..19])
    } else {
        rfc3339.to_string()
    }
}

fn meta_table(h: &mut String, meta: &RunMeta) {
    h.push_str("<table class=\"meta\" id=\"run-meta\">");
    let mut row = |k: &str, v: String| {
        let _ = write!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    row("System under test", esc(&meta.sut));
    row(
        "SUT profile",
        match &meta.profile {
            Some(p) => format!("<code>{}</code>", esc(p)),
            None => "none: the harness's embedded reference implementation was the SUT".into(),
        },
    );
    let specs = meta
        .pack
        .specs
        .iter()
        .map(|(k, v)| format!("{} {}", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join("; ");
    row(
        "Profile pack",
        format!(
            "<code>{}@{}</code>: {}{}",
            esc(&meta.pack.name),
            esc(&meta.pack.version),
            esc(&meta.pack.title),
            if specs.is_empty() {
                String::new()
            } else {
                format!("<br><span class=\"muted\">{specs}</span>")
            }
        ),
    );
    row("Harness version", esc(&meta.harness_version));
    row("Started", esc(&readable_time(&meta.started_at)));
    row("Duration", esc(&human_duration(meta.duration)));
    row(
        "Tag filter",
        match &meta.tags {
            Some(t) => format!("<code>{}</code>", esc(t)),
            None => "none: every scenario was selected".into(),
        },
    );
    h.push_str("</table>");
}

fn scenario(
    h: &mut String,
    i: usize,
    r: &ScenarioRecord,
    exchanges: &[ExchangeLine],
    registry: &HashMap<&str, &'static checks::Check>,
) {
    let c = outcome_class(r.outcome);
    let open = matches!(r.outcome, Outcome::Fail | Outcome::Error);
    let profiles = family(r, "profile:").join(" ");
    let _ = write!(
        h,
        "<details class=\"sc c-{c}\" id=\"sc-{i}\" data-outcome=\"{c}\" data-profiles=\"{}\" data-tags=\"{}\"{}><summary><span class=\"badge b-{c}\">{}</span><span class=\"name\">{}</span><span class=\"where\">{} · {}:{}</span><span class=\"dur\">{}</span></summary><div class=\"sc-body\">{}",
        esc(&profiles),
        esc(&r.tags.join(" ")),
        if open { " open" } else { "" },
        r.outcome,
        esc(&r.scenario),
        esc(&r.feature),
        esc(&r.feature_file),
        r.line,
        human_duration(r.duration),
        // A closed scenario's details stay out of the page's layout until it is opened (the
        // script moves them in; printing opens every scenario).
        if open { "" } else { "<template>" }
    );
    if !r.tags.is_empty() {
        h.push_str("<div class=\"tags\">");
        for t in &r.tags {
            let _ = write!(h, "<span class=\"tag\">@{}</span>", esc(t));
        }
        h.push_str("</div>");
    }
    if !r.reason.is_empty() {
        let _ = write!(h, "<p><b>Why {}:</b> {}</p>", r.outcome, esc(&r.reason));
    }
    // Steps.
    if !r.steps.is_empty() {
        h.push_str("<h4>Steps</h4><ol class=\"steps\">");
        for s in &r.steps {
            let _ = write!(
                h,
                "<li class=\"st-{}\"><span class=\"kw\">{}</span> {}{}</li>",
                esc(&s.outcome.replace(' ', "-")),
                esc(s.keyword.trim()),
                esc(&s.text),
                match s.outcome.as_str() {
                    "passed" => String::new(),
                    "failed" => " <b>(the scenario stopped at this step)</b>".to_string(),
                    o => format!(" <span class=\"muted\">({})</span>", esc(o)),
                }
            );
        }
        h.push_str("</ol>");
    }
    // Figures the scenario measured (a @perf scenario's timings).
    if !r.metrics.is_empty() {
        h.push_str("<h4>Measured</h4><table class=\"meta metrics\">");
        for (name, value) in &r.metrics {
            let _ = write!(
                h,
                "<tr><th>{}</th><td>{}</td></tr>",
                esc(&metric_label(name)),
                value
            );
        }
        h.push_str("</table>");
    }
    // Findings: what went wrong first, the checks that passed after.
    let by_seq: HashMap<u32, &ExchangeLine> = exchanges.iter().map(|e| (e.seq, e)).collect();
    let (bad, good): (Vec<_>, Vec<_>) = r
        .findings
        .iter()
        .partition(|f| matches!(f.outcome, Outcome::Fail | Outcome::Error));
    if r.findings.is_empty() {
        h.push_str("<h4>Checks</h4><p class=\"muted\">No check was made.</p>");
    }
    let table_head = "<table class=\"findings\"><tr><th>Outcome</th><th>Check</th><th>What was judged</th><th>Requirement</th><th>Exchange</th></tr>";
    if !bad.is_empty() {
        let _ = write!(h, "<h4>Findings ({})</h4>{table_head}", bad.len());
        for (k, f) in bad.iter().enumerate() {
            finding_row(h, i, k, f, &by_seq, registry, true);
        }
        h.push_str("</table>");
    }
    if !good.is_empty() {
        let _ = write!(
            h,
            "<details class=\"passed-findings\"{}><summary>{}</summary>{table_head}",
            if bad.is_empty() { " open" } else { "" },
            other_checks(&good, !bad.is_empty())
        );
        for (k, f) in good.iter().enumerate() {
            finding_row(h, i, bad.len() + k, f, &by_seq, registry, false);
        }
        h.push_str("</table></details>");
    }
    // Exchanges.
    let _ = write!(
        h,
        "<h4>Messages ({})</h4>{}<div class=\"seq\">{}</div>",
        exchanges.len(),
        if exchanges.is_empty() {
            ""
        } else {
            "<p class=\"muted\">Top to bottom in time. A solid arrow is a request (its number, transaction, method and path), a dashed one the answer (status and time in milliseconds). The boxes on the left are the IHE actors the harness played; hover an arrow for the whole URL.</p>"
        },
        sequence_svg(exchanges)
    );
    if !exchanges.is_empty() {
        h.push_str("<table class=\"exchanges\"><tr><th>#</th><th>Transaction</th><th>Request</th><th>Answer</th><th>Evidence and repro command</th></tr>");
        for e in exchanges {
            let _ = write!(
                h,
                "<tr id=\"ex-{i}-{seq}\"><td>{seq}</td><td>{} <span class=\"muted\">{}</span><br><span class=\"muted\">{} {}</span></td><td class=\"url\"><code>{} {}</code></td><td>{}</td><td><a href=\"{}\">{}</a>{}</td></tr>",
                esc(&e.transaction),
                esc(&e.operation),
                esc(actor_name(e)),
                if e.inbound { "← SUT" } else { "→ SUT" },
                esc(&e.method),
                esc(&e.url),
                esc(&answer_text(e)),
                esc(&e.file),
                esc(e.file.rsplit('/').next().unwrap_or_default()),
                repro_block(&format!("r-{i}-x{}", e.seq), &e.repro),
                seq = e.seq,
            );
        }
        h.push_str("</table>");
    }
    if !open {
        h.push_str("</template>");
    }
    h.push_str("</div></details>");
}

/// `12 other checks: 11 passed, 1 not applicable`.
/// A metric's name as a reader reads it: `wado_ttfb_ms` → `WADO-RS time to first byte (ms)`.
fn metric_label(name: &str) -> String {
    let (txn, figure) = name.split_once('_').unwrap_or(("", name));
    let txn = match txn {
        "wado" => "WADO-RS",
        "cmove" => "C-MOVE",
        "cget" => "C-GET",
        "rad69" => "RAD-69",
        _ => return name.to_string(),
    };
    let figure = match figure {
        "ttfb_ms" => "time to first byte (ms)",
        "first_instance_ms" => "time to first complete instance (ms)",
        "total_ms" => "total time (ms)",
        "bytes" => "bytes received",
        "instances" => "instances received",
        "mbps" => "throughput (MB/s)",
        "instances_per_s" => "instances/s",
        other => other,
    };
    format!("{txn} {figure}")
}

fn other_checks(good: &[&checks::Finding], other: bool) -> String {
    let mut parts = Vec::new();
    for (o, word) in OUTCOMES {
        let n = good.iter().filter(|f| f.outcome == o).count();
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    format!(
        "{} {}check{}: {}",
        good.len(),
        if other { "other " } else { "" },
        if good.len() == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

fn answer_text(e: &ExchangeLine) -> String {
    let ms = e
        .elapsed_ms
        .map(|m| format!(", {m} ms"))
        .unwrap_or_default();
    match (e.status, &e.failure) {
        (Some(_), None) => format!("{}{ms}", status_view(e).0),
        (Some(_), Some(f)) => format!("{}, then {f}{ms}", status_view(e).0),
        (None, Some(f)) => format!("no answer: {f}{ms}"),
        (None, None) => format!("no answer{ms}"),
    }
}

fn repro_block(id: &str, command: &str) -> String {
    if command.is_empty() {
        return String::new();
    }
    format!(
        "<div class=\"repro\"><pre id=\"{id}\">{}</pre><button type=\"button\" class=\"copy\" data-target=\"{id}\" title=\"copy the command\">copy</button></div>",
        esc(command)
    )
}

#[allow(clippy::too_many_arguments)]
fn finding_row(
    h: &mut String,
    i: usize,
    k: usize,
    f: &checks::Finding,
    by_seq: &HashMap<u32, &ExchangeLine>,
    registry: &HashMap<&str, &'static checks::Check>,
    full: bool,
) {
    let (rc, badge) = match (f.outcome, f.advisory) {
        (Outcome::Fail, true) => ("warn", "warning".to_string()),
        (o, _) => (outcome_class(o), o.as_str().to_string()),
    };
    let _ = write!(
        h,
        "<tr class=\"f-{rc}\"><td><span class=\"badge b-{rc}\">{}</span></td><td><code>{}</code><br><span class=\"muted\">{}</span></td><td>{}",
        esc(&badge),
        esc(&f.check),
        f.level,
        esc(&f.title)
    );
    if !f.expected.is_empty() || !f.actual.is_empty() {
        h.push_str("<div class=\"ea\">");
        if !f.expected.is_empty() {
            let word = if f.outcome == Outcome::Fail || f.outcome == Outcome::Pass {
                "expected"
            } else {
                "reason"
            };
            let _ = write!(h, "<b>{word}</b><span>{}</span>", esc(&f.expected));
        }
        if !f.actual.is_empty() {
            let _ = write!(h, "<b>actual</b><span>{}</span>", esc(&f.actual));
        }
        h.push_str("</div>");
    }
    h.push_str("</td><td>");
    match registry.get(f.check.as_str()) {
        Some(c) if !c.requirements.is_empty() => {
            let links = c
                .requirements
                .iter()
                .map(|id| format!("<a class=\"req\" href=\"#req-{0}\">{0}</a>", esc(id)))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = write!(
                h,
                "{links}<br><span class=\"muted\">{}</span>",
                esc(&f.requirement)
            );
        }
        _ => {
            let _ = write!(h, "<span class=\"muted\">{}</span>", esc(&f.requirement));
        }
    }
    h.push_str("</td><td>");
    let mut repro = None;
    if let Some(seq) = f.exchange {
        match by_seq.get(&seq) {
            Some(e) => {
                let _ = write!(
                    h,
                    "<a href=\"#ex-{i}-{seq}\">#{seq}</a> <a href=\"{}\" title=\"evidence record\">{}</a>",
                    esc(&e.file),
                    esc(e.file.rsplit('/').next().unwrap_or_default())
                );
                if full && !e.repro.is_empty() {
                    repro = Some((seq, repro_block(&format!("r-{i}-f{k}"), &e.repro)));
                }
            }
            None => {
                let _ = write!(h, "#{seq}");
            }
        }
        if !f.exchange_label.is_empty() && full {
            let _ = write!(
                h,
                "<br><span class=\"muted url\">{}</span>",
                esc(&f.exchange_label)
            );
        }
    }
    h.push_str("</td></tr>");
    if let Some((seq, block)) = repro {
        let _ = write!(
            h,
            "<tr class=\"f-{rc} repro-row\"><td></td><td colspan=\"4\"><span class=\"muted\">Repeat exchange #{seq}:</span>{block}</td></tr>"
        );
    }
}

fn coverage(h: &mut String, records: &[ScenarioRecord], catalogue: Option<&Catalogue>) {
    h.push_str("<section id=\"coverage\"><h2>Requirement coverage</h2>");
    let Some(cat) = catalogue else {
        h.push_str("<p class=\"muted\">The requirement catalogue could not be read.</p></section>");
        return;
    };
    let tallies = tally(records);
    let mut named: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in checks::registry() {
        for id in c.requirements {
            named.entry(id).or_default().push(c.id);
        }
    }
    let none = ReqTally::default();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &cat.requirements {
        *counts
            .entry(tallies.get(r.id.as_str()).unwrap_or(&none).status())
            .or_default() += 1;
    }
    let _ = write!(
        h,
        "<p class=\"lead req-summary\" id=\"req-summary\">{} requirements in the catalogue: <b>{}</b> tested in this run ({} passed, {} failed, {} with a SHOULD breached), <b>{}</b> not tested. A requirement is tested when a scenario of this run made a check that enforces it; \"not tested\" says no scenario in this run exercised it (it may lie outside the tag filter or the SUT's profile).</p>",
        cat.requirements.len(),
        cat.requirements.len() - counts.get("not tested").copied().unwrap_or(0),
        counts.get("passed").copied().unwrap_or(0),
        counts.get("failed").copied().unwrap_or(0),
        counts.get("warned").copied().unwrap_or(0),
        counts.get("not tested").copied().unwrap_or(0),
    );
    let mut docs: Vec<&str> = Vec::new();
    for r in &cat.requirements {
        if !docs.contains(&r.document.as_str()) {
            docs.push(&r.document);
        }
    }
    for doc in docs {
        let _ = write!(
            h,
            "<h3>{}</h3><table class=\"matrix\"><tr><th>Requirement</th><th>Section</th><th>Level</th><th>Actor</th><th>What it asks</th><th>Checks</th><th>Result in this run</th><th>Scenarios</th><th>Checks passed</th><th>Checks failed</th></tr>",
            esc(doc)
        );
        for r in cat.requirements.iter().filter(|r| r.document == doc) {
            let t = tallies.get(r.id.as_str()).unwrap_or(&none);
            let status = t.status();
            let (class, word) = match status {
                "failed" => ("b-fail", "failed".to_string()),
                "warned" => ("b-warn", "SHOULD breached".to_string()),
                "passed" => ("b-pass", "passed".to_string()),
                _ => (
                    "b-untested",
                    if named.contains_key(r.id.as_str()) {
                        "not tested: no scenario in this run exercised it".to_string()
                    } else {
                        "not tested: no check enforces it".to_string()
                    },
                ),
            };
            let checks = named
                .get(r.id.as_str())
                .map(|c| c.join(", "))
                .unwrap_or_default();
            let _ = write!(
                h,
                "<tr id=\"req-{}\" data-status=\"{status}\"><td class=\"id\"><code>{}</code></td><td>{} <span class=\"muted\">({})</span></td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><span class=\"badge {class}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.id),
                esc(&r.section),
                esc(&r.edition),
                esc(&r.level),
                esc(&r.actor),
                esc(&r.text),
                esc(&checks),
                esc(&word),
                t.scenarios.len(),
                t.passed,
                t.failed + t.warned
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Finding, Level};
    use crate::report::StepRecord;

    const HOSTILE: &str = "</script><img src=x onerror=alert(1)><!-- ' \" &amp;";

    fn meta() -> RunMeta {
        RunMeta {
            harness_version: "0.0.0".into(),
            sut: HOSTILE.into(),
            profile: Some(HOSTILE.into()),
            tags: Some(HOSTILE.into()),
            pack: crate::packs::Pack::resolve(None).unwrap(),
            started_at: "2026-12-07T09:00:00Z".into(),
            duration: Duration::from_secs(75),
        }
    }

    fn finding(check: &str, outcome: Outcome, text: &str) -> Finding {
        Finding {
            check: check.into(),
            requirement: text.into(),
            level: Level::Shall,
            title: text.into(),
            outcome,
            advisory: false,
            expected: text.into(),
            actual: text.into(),
            exchange: Some(1),
            exchange_label: text.into(),
        }
    }

    fn record(outcome: Outcome, findings: Vec<Finding>) -> ScenarioRecord {
        ScenarioRecord {
            feature: HOSTILE.into(),
            feature_file: "features/x.feature".into(),
            scenario: HOSTILE.into(),
            line: 3,
            tags: vec!["profile:DICOMweb".into(), "actor:ImageManager".into()],
            outcome,
            reason: HOSTILE.into(),
            duration: Duration::from_millis(12),
            findings,
            exchanges: Vec::new(),
            evidence: Vec::new(),
            steps: vec![StepRecord {
                keyword: "When ".into(),
                text: HOSTILE.into(),
                line: 4,
                outcome: "failed".into(),
            }],
            metrics: Default::default(),
        }
    }

    fn exchange(seq: u32, text: &str) -> ExchangeLine {
        ExchangeLine {
            seq,
            transaction: "RAD-107".into(),
            operation: text.into(),
            actor: "Imaging Document Consumer".into(),
            inbound: seq.is_multiple_of(2),
            method: "GET".into(),
            url: format!("http://sut/dicom-web/studies?x={text}"),
            status: Some(200),
            elapsed_ms: Some(5),
            failure: None,
            file: "evidence/a/0003-b/01-rad-107.json".into(),
            repro: format!("curl '{text}'"),
        }
    }

    /// The tags of the page outside its two scripts: none may come from the data.
    fn markup_tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .map(|t| {
                t.split(|c: char| c.is_whitespace() || c == '>')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let dw = checks::registry().next().unwrap().id;
        let records = vec![record(
            Outcome::Fail,
            vec![finding(dw, Outcome::Fail, HOSTILE)],
        )];
        let ex = vec![vec![exchange(1, HOSTILE)]];
        let html = render(&meta(), &records, &ex, Catalogue::embedded().ok().as_ref());
        assert!(!html.contains("<img"), "raw markup from the data");
        assert!(!html.contains("onerror=alert(1)>"));
        assert!(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
        // Exactly the page's own script elements: the error hook, the data block and the script.
        let scripts = markup_tags(&html)
            .iter()
            .filter(|t| t.as_str() == "script")
            .count();
        assert_eq!(scripts, 3, "no script element came from the data");
        assert_eq!(html.matches("</script>").count(), 3);
        // The data block is JSON that parses back to the hostile text.
        let start = html.find("id=\"run-data\">").unwrap() + "id=\"run-data\">".len();
        let end = start + html[start..].find("</script>").unwrap();
        let v: Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(v["run"]["sut"], HOSTILE);
        assert!(!html[start..end].contains('<'));
    }

    #[test]
    fn escaping_covers_quotes_and_controls() {
        assert_eq!(
            esc("a\"b'c<d>&\u{0}"),
            "a&quot;b&#39;c&lt;d&gt;&amp;\u{FFFD}"
        );
        assert_eq!(
            script_json(&serde_json::json!({"x": "</script><!--&"})),
            "{\"x\":\"\\u003c/script\\u003e\\u003c!--\\u0026\"}"
        );
    }

    #[test]
    fn measured_figures_are_shown_with_their_names() {
        let mut r = record(Outcome::Pass, Vec::new());
        r.metrics.insert("wado_ttfb_ms".into(), 15.4);
        r.metrics.insert("odd<name>".into(), 1.0);
        let mut h = String::new();
        scenario(&mut h, 0, &r, &[], &HashMap::new());
        assert!(h.contains("<h4>Measured</h4>"));
        assert!(h.contains("<th>WADO-RS time to first byte (ms)</th><td>15.4</td>"));
        assert!(h.contains("odd&lt;name&gt;"));
    }

    #[test]
    fn a_scenario_without_exchanges_says_so() {
        let svg = sequence_svg(&[]);
        assert!(!svg.contains("<svg"));
        assert!(svg.contains("No exchange"));
    }

    #[test]
    fn one_exchange_draws_a_request_and_a_response() {
        let svg = sequence_svg(&[exchange(1, "one")]);
        assert_eq!(
            svg.matches("<line").count(),
            2 + 2,
            "two lifelines, two arrows"
        );
        assert!(svg.contains("Imaging Document Consumer"));
        assert!(svg.contains(">SUT<"));
        assert!(svg.contains("200 · 5 ms"));
        assert!(!svg.contains("more exchange"));
    }

    #[test]
    fn many_exchanges_are_capped_and_counted() {
        let many: Vec<_> = (1..=250).map(|k| exchange(k, "q")).collect();
        let svg = sequence_svg(&many);
        assert_eq!(
            svg.matches("<polygon").count(),
            2 * MAX_DIAGRAM_EXCHANGES,
            "a request and a response arrow per exchange drawn"
        );
        assert!(
            svg.contains("150 more exchanges not drawn"),
            "{}",
            &svg[svg.len() - 300..]
        );
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
    }

    #[test]
    fn dimse_statuses_are_written_in_hex() {
        let mut e = exchange(1, "x");
        e.transaction = "DIMSE".into();
        e.method = "C-FIND-RQ".into();
        e.status = Some(0xA700);
        assert_eq!(status_view(&e), ("A700H".to_string(), "#c62828"));
        e.status = Some(0);
        assert_eq!(status_view(&e).0, "0000H");
        e.transaction = "RAD-107".into();
        e.method = "GET".into();
        e.status = Some(404);
        assert_eq!(status_view(&e), ("404".to_string(), "#c62828"));
    }

    #[test]
    fn a_failed_transfer_shows_no_answer() {
        let mut e = exchange(1, "x");
        e.status = None;
        e.failure = Some("timeout: 30 s".into());
        let svg = sequence_svg(&[e]);
        assert!(svg.contains("no answer: timeout: 30 s"), "{svg}");
    }

    #[test]
    fn coverage_counts_passes_failures_and_advisories_per_requirement() {
        let c = checks::registry()
            .find(|c| !c.requirements.is_empty())
            .unwrap();
        let mut advisory = finding(c.id, Outcome::Fail, "x");
        advisory.advisory = true;
        let records = vec![
            record(
                Outcome::Pass,
                vec![
                    finding(c.id, Outcome::Pass, "x"),
                    finding(c.id, Outcome::Pass, "x"),
                ],
            ),
            record(
                Outcome::Fail,
                vec![finding(c.id, Outcome::Fail, "x"), advisory],
            ),
            record(
                Outcome::NotApplicable,
                vec![finding(c.id, Outcome::NotApplicable, "x")],
            ),
        ];
        let t = tally(&records);
        let r = &t[c.requirements[0]];
        assert_eq!(
            r.scenarios.len(),
            2,
            "the not-applicable scenario tested nothing"
        );
        assert_eq!((r.passed, r.failed, r.warned), (2, 1, 1));
        assert_eq!(r.status(), "failed");
        let html = render(&meta(), &records, &[], Catalogue::embedded().ok().as_ref());
        let row = format!(
            "<tr id=\"req-{}\" data-status=\"failed\">",
            c.requirements[0]
        );
        assert!(html.contains(&row), "{row}");
        // A requirement of the catalogue no finding judged is "not tested".
        let cat = Catalogue::embedded().unwrap();
        let untested = cat
            .requirements
            .iter()
            .find(|q| !t.contains_key(q.id.as_str()))
            .unwrap();
        assert!(html.contains(&format!(
            "<tr id=\"req-{}\" data-status=\"not tested\">",
            untested.id
        )));
        assert!(html.contains("not tested: no scenario in this run exercised it"));
        // The finding links to its row.
        assert!(html.contains(&format!("href=\"#req-{}\"", c.requirements[0])));
    }

    #[test]
    fn the_summary_counts_every_outcome_and_names_the_verdict() {
        let records = vec![
            record(Outcome::Pass, vec![]),
            record(Outcome::Error, vec![]),
            record(Outcome::Skip, vec![]),
        ];
        let html = render(&meta(), &records, &[], None);
        assert!(html.contains("data-verdict=\"ERROR\""));
        assert!(html.contains(
            "<div class=\"count c-error\" data-outcome=\"error\"><span class=\"n\">1</span>"
        ));
        assert!(html.contains("3 of 3 scenarios shown"));
        assert!(html.contains("The requirement catalogue could not be read"));
    }

    #[test]
    fn repro_commands_are_found_by_exchange() {
        let text = "#!/bin/sh\n# Repeats\ncd x\n\n# #1 RAD-107 Retrieve\ncurl -sS 'http://a'\n\n# #12 RAD-69 Get\n# The request body is not kept whole\ncurl -X POST 'http://b'\n";
        let c = repro_commands(text);
        assert_eq!(c[&1], "curl -sS 'http://a'");
        assert_eq!(c[&12], "curl -X POST 'http://b'");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn an_evidence_record_reads_back_as_a_line() {
        let v = serde_json::json!({
            "seq": 3, "transaction": "RAD-107", "operation": "Retrieve Study", "actor": "Imaging Document Consumer",
            "direction": "outbound", "elapsed": 42,
            "request": {"method": "GET", "url": "http://sut/studies/1"},
            "response": {"status": 404},
            "failure": null
        });
        let e = exchange_line(&v, "evidence/a/b/03-rad-107.json");
        assert_eq!(e.seq, 3);
        assert_eq!(e.status, Some(404));
        assert_eq!(e.elapsed_ms, Some(42));
        assert!(!e.inbound);
        assert_eq!(e.failure, None);
        assert_eq!(path_of(&e.url), "/studies/1");
    }
}
