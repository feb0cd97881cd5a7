//! `junit.xml`: one `<testsuite>` per feature, one `<testcase>` per scenario.
//!
//! Fail → `<failure>` whose type is the first failing check id and whose message names the check,
//! the requirement, the expected and actual values and the exchange; Error → `<error>`; Skip and
//! NotApplicable → `<skipped>` with the reason. The document is built with junit-report and then
//! given, with quick-xml, a `<properties>` block per test case (tags, outcome, evidence folder), which
//! Jenkins, GitLab and the Surefire schema read but junit-report cannot write.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use junit_report::{Report, TestCase, TestSuite};
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::{ReportError, RunMeta, ScenarioRecord};
use crate::checks::Outcome;

fn case_name(r: &ScenarioRecord) -> String {
    format!("{} (line {})", r.scenario, r.line)
}

fn testcase(r: &ScenarioRecord) -> TestCase {
    let name = case_name(r);
    let time = time::Duration::try_from(r.duration).unwrap_or(time::Duration::ZERO);
    let details: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.outcome != Outcome::Pass)
        .map(|f| {
            let tag = match (f.outcome, f.advisory) {
                (Outcome::Fail, true) => "WARNING",
                (Outcome::Fail, false) => "FAIL",
                (Outcome::Error, _) => "ERROR",
                (Outcome::NotApplicable, _) => "N/A",
                (Outcome::Skip, _) => "SKIP",
                (Outcome::Pass, _) => "PASS",
            };
            format!("{tag} {}", f.message())
        })
        .collect();
    let passed: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.outcome == Outcome::Pass)
        .map(|f| format!("PASS {} [{}]", f.check, f.requirement))
        .collect();
    let mut out = passed;
    out.extend(details.iter().cloned());
    if let Some(dir) = r
        .evidence
        .first()
        .and_then(|p| p.rsplit_once('/'))
        .map(|(d, _)| d)
    {
        out.push(format!("evidence: {dir}"));
    }
    let mut tc = match r.outcome {
        Outcome::Pass => TestCase::success(&name, time),
        Outcome::Fail => {
            let first = r.findings.iter().find(|f| f.is_failure());
            TestCase::failure(
                &name,
                time,
                first.map(|f| f.check.as_str()).unwrap_or("fail"),
                &first.map(|f| f.message()).unwrap_or_default(),
            )
        }
        Outcome::Error => {
            let first = r.findings.iter().find(|f| f.outcome == Outcome::Error);
            let message = first
                .map(|f| f.message())
                .unwrap_or_else(|| r.reason.clone());
            TestCase::error(
                &name,
                time,
                first.map(|f| f.check.as_str()).unwrap_or("error"),
                &message,
            )
        }
        Outcome::Skip | Outcome::NotApplicable => {
            let kind = if r.outcome == Outcome::Skip {
                "skip"
            } else {
                "not-applicable"
            };
            TestCase::skipped_with_cause(&name, kind, &r.reason)
        }
    };
    tc.set_classname(&r.feature);
    tc.set_filepath(&r.feature_file);
    tc.set_system_out(&out.join("\n"));
    tc
}

/// Write `dir/junit.xml`.
pub fn write(dir: &Path, meta: &RunMeta, records: &[ScenarioRecord]) -> Result<(), ReportError> {
    let bytes = render(meta, records)?;
    let path = dir.join("junit.xml");
    std::fs::write(&path, bytes).map_err(|source| ReportError::Write { path, source })
}

/// Render the JUnit document.
pub fn render(meta: &RunMeta, records: &[ScenarioRecord]) -> Result<Vec<u8>, ReportError> {
    let mut by_feature: BTreeMap<(&str, &str), Vec<&ScenarioRecord>> = BTreeMap::new();
    for r in records {
        by_feature
            .entry((r.feature_file.as_str(), r.feature.as_str()))
            .or_default()
            .push(r);
    }
    let mut report = Report::new();
    let mut order: Vec<&ScenarioRecord> = Vec::new();
    for ((_, feature), mut scenarios) in by_feature {
        scenarios.sort_by_key(|r| r.line);
        let mut suite = TestSuite::new(feature);
        if let Ok(ts) = time::OffsetDateTime::parse(
            &meta.started_at,
            &time::format_description::well_known::Rfc3339,
        ) {
            suite.set_timestamp(ts);
        }
        for r in scenarios {
            suite.add_testcase(testcase(r));
            order.push(r);
        }
        report.add_testsuite(suite);
    }
    let mut raw = Vec::new();
    report
        .write_xml(&mut raw)
        .map_err(|e| ReportError::Serialize {
            what: "junit",
            message: e.to_string(),
        })?;
    add_properties(&raw, &order, &meta.pack.id())
}

fn properties(r: &ScenarioRecord, pack: &str) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = r
        .tags
        .iter()
        .map(|t| ("tag".to_string(), format!("@{t}")))
        .collect();
    // The same token as results.json (`pass`, `fail`, `not-applicable`, ...).
    let outcome = serde_json::to_value(r.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| r.outcome.as_str().to_string());
    p.push(("outcome".into(), outcome));
    p.push(("pack".into(), pack.to_string()));
    for f in r.findings.iter().filter(|f| f.is_failure()) {
        p.push((
            "failed-check".into(),
            format!("{} {}", f.check, f.requirement),
        ));
    }
    if let Some(dir) = r
        .evidence
        .first()
        .and_then(|p| p.rsplit_once('/'))
        .map(|(d, _)| d)
    {
        p.push(("evidence".into(), dir.to_string()));
    }
    for (name, value) in &r.metrics {
        p.push((format!("metric.{name}"), value.to_string()));
    }
    p
}

fn xml_err(e: impl std::fmt::Display) -> ReportError {
    ReportError::Serialize {
        what: "junit",
        message: e.to_string(),
    }
}

/// Insert a `<properties>` block as the first child of each `<testcase>`, in document order.
fn add_properties(
    raw: &[u8],
    order: &[&ScenarioRecord],
    pack: &str,
) -> Result<Vec<u8>, ReportError> {
    let mut reader = quick_xml::Reader::from_reader(raw);
    let mut writer = quick_xml::Writer::new(Cursor::new(Vec::new()));
    let mut buf = Vec::new();
    let mut index = 0usize;
    let write_props = |w: &mut quick_xml::Writer<Cursor<Vec<u8>>>,
                       r: &ScenarioRecord|
     -> Result<(), ReportError> {
        w.write_event(Event::Start(BytesStart::new("properties")))
            .map_err(xml_err)?;
        for (name, value) in properties(r, pack) {
            let mut el = BytesStart::new("property");
            el.push_attribute(("name", name.as_str()));
            el.push_attribute(("value", value.as_str()));
            w.write_event(Event::Empty(el)).map_err(xml_err)?;
        }
        w.write_event(Event::End(BytesEnd::new("properties")))
            .map_err(xml_err)?;
        Ok(())
    };
    loop {
        match reader.read_event_into(&mut buf).map_err(xml_err)? {
            Event::Eof => break,
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                writer
                    .write_event(Event::Start(e.into_owned()))
                    .map_err(xml_err)?;
                if let Some(r) = order.get(index) {
                    write_props(&mut writer, r)?;
                }
                index += 1;
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                writer
                    .write_event(Event::Start(e.into_owned()))
                    .map_err(xml_err)?;
                if let Some(r) = order.get(index) {
                    write_props(&mut writer, r)?;
                }
                writer
                    .write_event(Event::End(BytesEnd::new("testcase")))
                    .map_err(xml_err)?;
                index += 1;
            }
            e => writer.write_event(e.into_owned()).map_err(xml_err)?,
        }
        buf.clear();
    }
    Ok(writer.into_inner().into_inner())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::{Finding, Level};

    fn finding(check: &str, outcome: Outcome, expected: &str, actual: &str) -> Finding {
        Finding {
            check: check.into(),
            requirement: "DICOM PS3.18 §10.4.3".into(),
            level: Level::Shall,
            title: "WADO-RS status".into(),
            outcome,
            advisory: false,
            expected: expected.into(),
            actual: actual.into(),
            exchange: Some(1),
            exchange_label: "exchange #1, GET http://sut/dicom-web/studies/1.2.3".into(),
        }
    }

    fn record(
        name: &str,
        line: usize,
        outcome: Outcome,
        findings: Vec<Finding>,
        reason: &str,
    ) -> ScenarioRecord {
        ScenarioRecord {
            feature: "WADO-RS retrieval".into(),
            feature_file: "features/dicomweb/wado_rs_retrieve.feature".into(),
            scenario: name.into(),
            line,
            tags: vec!["profile:DICOMweb".into(), "req:DW-04".into()],
            outcome,
            reason: reason.into(),
            duration: Duration::from_millis(12),
            findings,
            exchanges: Vec::new(),
            evidence: vec![format!(
                "evidence/wado-rs-retrieval/{line:04}-x/01-rad-107.json"
            )],
            steps: Vec::new(),
            metrics: Default::default(),
        }
    }

    #[test]
    fn metrics_are_properties() {
        let mut r = record("timed", 7, Outcome::Pass, Vec::new(), "");
        r.metrics.insert("wado_ttfb_ms".into(), 15.4);
        r.metrics.insert("wado_instances".into(), 43.0);
        let p = properties(&r, "ehn-imaging@2026.1");
        assert!(p.contains(&("metric.wado_ttfb_ms".into(), "15.4".into())));
        assert!(p.contains(&("metric.wado_instances".into(), "43".into())));
    }

    /// The JUnit mapping of the five outcomes, reviewed as a snapshot.
    #[test]
    fn outcomes_map_to_junit_elements() {
        let meta = RunMeta {
            harness_version: "0.0.0".into(),
            sut: "sut".into(),
            profile: None,
            tags: None,
            pack: crate::packs::Pack::resolve(None).expect("the default pack"),
            started_at: "2026-01-01T00:00:00Z".into(),
            duration: Duration::from_secs(1),
        };
        let records = vec![
            record(
                "passes",
                10,
                Outcome::Pass,
                vec![finding("DW-04", Outcome::Pass, "", "")],
                "",
            ),
            record(
                "fails",
                20,
                Outcome::Fail,
                vec![finding(
                    "DW-04",
                    Outcome::Fail,
                    "404 for an unknown study",
                    "500",
                )],
                "",
            ),
            record(
                "errors",
                30,
                Outcome::Error,
                vec![Finding::harness_error(
                    "RAD-107 could not be completed",
                    "no response headers within 1000 ms",
                )],
                "",
            ),
            record(
                "not applicable",
                40,
                Outcome::NotApplicable,
                Vec::new(),
                "the SUT profile declares no DICOMweb endpoint",
            ),
        ];
        let xml = String::from_utf8(render(&meta, &records).unwrap()).unwrap();
        let pretty = xml.replace("><", ">\n<");
        insta::assert_snapshot!(pretty);
    }
}
