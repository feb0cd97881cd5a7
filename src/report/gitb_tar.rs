//! `tar.xml`: the run as a GITB Test Assertion Report, the format of the EU Interoperability Test
//! Bed (ITB), so a run can be filed or imported where GITB reports are read.
//!
//! The format is the `TAR` type of the GITB Test Reporting schema, `gitb_tr.xsd` (namespace
//! `http://www.gitb.com/tr/v1/`, importing `gitb_core.xsd`, `http://www.gitb.com/core/v1/`), from
//! ISAITB/gitb-types, `gitb-types-specs/src/main/resources/schema/gitb_tr.xsd`; both files are
//! copied unchanged under `fixtures/schemas/` and the tests validate what this writer produces
//! against them when `xmllint` is installed.
//!
//! The root is `<TestStepReport xsi:type="TAR">` (the element's type, `TestStepReportType`, is
//! abstract): `date`, `result`, `overview`, `counters`, then `reports` holding one `BAR` item per
//! check result. A run is one TAR; each scenario contributes a set of items:
//!
//! | finding | item | `assertionID` | `test` | `type` |
//! |---|---|---|---|---|
//! | Fail (a SHALL, or a SHOULD in strict mode) | `error` | the check id | the requirement | `fail` |
//! | Fail of a SHOULD outside strict mode | `warning` | the check id | the requirement | `advisory` |
//! | Pass | `info` | the check id | the requirement | `pass` |
//! | Error (harness, network, configuration) | `info` | the check id | `harness` | `harness-error` |
//! | a scenario not applicable or skipped | `info` | – | – | `not-applicable` / `skipped` |
//!
//! Every item's `description` names the scenario and says the requirement, what was expected and
//! what came back; `location` is the evidence file of the exchange judged (else the scenario's
//! evidence folder); `value` is the actual value.
//!
//! The result: `FAILURE` when any scenario failed; otherwise `UNDEFINED` when a scenario ended in
//! Error (the harness could not judge everything: an Error is never reported as a failure of the
//! SUT) or when nothing passed at all; otherwise `SUCCESS` (advisory warnings do not change it, as
//! a SHOULD does not fail a scenario outside strict mode). The overview's `note` says why.
//! `nrOfAssertions` counts the checks judged (passed or failed), `nrOfErrors` the `error` items,
//! `nrOfWarnings` the `warning` items.

use std::path::Path;

use super::{ReportError, RunMeta, ScenarioRecord, Summary};
use crate::checks::{Finding, Outcome};

/// The file name under the report folder.
pub const FILE: &str = "tar.xml";
/// The GITB Test Reporting namespace.
pub const TR_NS: &str = "http://www.gitb.com/tr/v1/";
/// The GITB core namespace.
pub const CORE_NS: &str = "http://www.gitb.com/core/v1/";

/// The overall result of a TAR (`TestResultType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TarResult {
    /// Every judged check passed.
    Success,
    /// A scenario failed.
    Failure,
    /// Nothing could be concluded (harness errors, or nothing judged).
    Undefined,
}

impl TarResult {
    /// The schema's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TarResult::Success => "SUCCESS",
            TarResult::Failure => "FAILURE",
            TarResult::Undefined => "UNDEFINED",
        }
    }

    /// The result of a run with these counts.
    pub fn of(summary: &Summary) -> TarResult {
        if summary.failed > 0 {
            TarResult::Failure
        } else if summary.errors > 0 || summary.passed == 0 {
            TarResult::Undefined
        } else {
            TarResult::Success
        }
    }
}

/// Text as XML 1.0 character data: markup characters escaped, characters XML 1.0 does not allow
/// (NUL, most C0 controls, lone surrogates cannot occur in a `str`, U+FFFE/U+FFFF) replaced with
/// U+FFFD, so whatever a SUT sent cannot break the document.
pub fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
            // A bare CR would be normalised away by a parser: keep it as a reference.
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One BAR item.
struct Item {
    kind: &'static str,
    assertion_id: String,
    description: String,
    location: String,
    test: String,
    ty: &'static str,
    value: String,
}

impl Item {
    fn render(&self, out: &mut String) {
        out.push_str(&format!("    <{} xsi:type=\"BAR\">\n", self.kind));
        let mut field = |name: &str, v: &str, always: bool| {
            if always || !v.is_empty() {
                out.push_str(&format!("      <{name}>{}</{name}>\n", xml_text(v)));
            }
        };
        field("assertionID", &self.assertion_id, false);
        field("description", &self.description, true);
        field("location", &self.location, false);
        field("test", &self.test, false);
        field("type", self.ty, false);
        field("value", &self.value, false);
        out.push_str(&format!("    </{}>\n", self.kind));
    }
}

/// The evidence file of exchange `seq` of a scenario (`…/07-rad-107.json`), else its evidence
/// folder, else nothing.
fn location(r: &ScenarioRecord, exchange: Option<u32>) -> String {
    if let Some(seq) = exchange {
        let stem = format!("{seq:02}-");
        if let Some(f) = r.evidence.iter().find(|p| {
            p.ends_with(".json")
                && p.rsplit_once('/')
                    .is_some_and(|(_, name)| name.starts_with(&stem))
        }) {
            return f.clone();
        }
    }
    r.evidence
        .first()
        .and_then(|p| p.rsplit_once('/'))
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

fn scenario_ref(r: &ScenarioRecord) -> String {
    format!("{} ({}:{})", r.scenario, r.feature_file, r.line)
}

fn finding_item(r: &ScenarioRecord, f: &Finding) -> Option<Item> {
    let (kind, ty) = match f.outcome {
        Outcome::Fail if f.advisory => ("warning", "advisory"),
        Outcome::Fail => ("error", "fail"),
        Outcome::Pass => ("info", "pass"),
        Outcome::Error => ("info", "harness-error"),
        // The scenario's own item says why it was not applicable or skipped.
        Outcome::NotApplicable | Outcome::Skip => return None,
    };
    let mut description = format!("{}: ", scenario_ref(r));
    match f.outcome {
        Outcome::Error => description.push_str(&format!(
            "the harness could not complete this scenario ({}): {}. This is not a finding about \
             the system under test.",
            f.title,
            if f.actual.is_empty() {
                &f.expected
            } else {
                &f.actual
            }
        )),
        _ => {
            description.push_str(&format!("{} [{}] {}", f.check, f.requirement, f.title));
            if f.outcome == Outcome::Fail {
                if !f.expected.is_empty() {
                    description.push_str(&format!("; expected {}", f.expected));
                }
                if !f.actual.is_empty() {
                    description.push_str(&format!("; actual {}", f.actual));
                }
                if f.advisory {
                    description.push_str(
                        "; a SHOULD-level requirement, reported as a warning outside strict mode",
                    );
                }
            }
            if !f.exchange_label.is_empty() {
                description.push_str(&format!(" ({})", f.exchange_label));
            }
        }
    }
    Some(Item {
        kind,
        assertion_id: f.check.clone(),
        description,
        location: location(r, f.exchange),
        test: f.requirement.clone(),
        ty,
        value: if f.outcome == Outcome::Fail {
            f.actual.clone()
        } else {
            String::new()
        },
    })
}

fn items(records: &[ScenarioRecord]) -> Vec<Item> {
    let mut out = Vec::new();
    for r in records {
        match r.outcome {
            Outcome::NotApplicable | Outcome::Skip => out.push(Item {
                kind: "info",
                assertion_id: String::new(),
                description: format!("{}: {}: {}", scenario_ref(r), r.outcome, r.reason),
                location: String::new(),
                test: String::new(),
                ty: if r.outcome == Outcome::Skip {
                    "skipped"
                } else {
                    "not-applicable"
                },
                value: String::new(),
            }),
            _ => {
                out.extend(r.findings.iter().filter_map(|f| finding_item(r, f)));
                if r.outcome == Outcome::Error
                    && !r.findings.iter().any(|f| f.outcome == Outcome::Error)
                {
                    out.push(Item {
                        kind: "info",
                        assertion_id: String::new(),
                        description: format!(
                            "{}: the harness could not complete this scenario: {}. This is not \
                             a finding about the system under test.",
                            scenario_ref(r),
                            r.reason
                        ),
                        location: location(r, None),
                        test: String::new(),
                        ty: "harness-error",
                        value: String::new(),
                    });
                }
            }
        }
    }
    out
}

/// The TAR document of a run.
pub fn render(meta: &RunMeta, records: &[ScenarioRecord]) -> String {
    let summary = Summary::of(records);
    let result = TarResult::of(&summary);
    let items = items(records);
    let assertions = records
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| matches!(f.outcome, Outcome::Pass | Outcome::Fail))
        .count();
    let errors = items.iter().filter(|i| i.kind == "error").count();
    let warnings = items.iter().filter(|i| i.kind == "warning").count();
    let why = match result {
        TarResult::Failure => {
            "FAILURE: the system under test broke at least one cited requirement."
        }
        TarResult::Undefined if summary.errors > 0 => {
            "UNDEFINED: no requirement was found broken, but the harness could not complete every \
             scenario (network, timeout, configuration or harness errors, reported as info items \
             of type harness-error); those errors are not failures of the system under test."
        }
        TarResult::Undefined => "UNDEFINED: no check passed or failed in this run.",
        TarResult::Success => "SUCCESS: every executed check passed.",
    };
    let note = format!(
        "SUT {}{}; {}; {}; duration {:.1} s. {why}",
        meta.sut,
        meta.profile
            .as_deref()
            .map(|p| format!(" (profile {p})"))
            .unwrap_or_default(),
        summary.breakdown_line(),
        meta.tags
            .as_deref()
            .map(|t| format!("tag filter {t}"))
            .unwrap_or_else(|| "no tag filter".into()),
        meta.duration.as_secs_f64()
    );
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<TestStepReport xmlns=\"{TR_NS}\" xmlns:gitb=\"{CORE_NS}\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"TAR\" id=\"{}\" name=\"{}\">\n",
        xml_text(&format!("ihe-harness-run-{}", meta.started_at)),
        xml_text(&format!("ihe-harness run against {}", meta.sut))
    ));
    out.push_str(&format!("  <date>{}</date>\n", xml_text(&meta.started_at)));
    out.push_str(&format!("  <result>{}</result>\n", result.as_str()));
    out.push_str("  <overview>\n");
    out.push_str(&format!(
        "    <profileID>{}</profileID>\n",
        xml_text(&meta.pack.id())
    ));
    if let Some(t) = &meta.tags {
        out.push_str(&format!(
            "    <customizationID>{}</customizationID>\n",
            xml_text(t)
        ));
    }
    out.push_str("    <validationServiceName>ihe-harness</validationServiceName>\n");
    out.push_str(&format!(
        "    <validationServiceVersion>{}</validationServiceVersion>\n",
        xml_text(&meta.harness_version)
    ));
    out.push_str(&format!("    <note>{}</note>\n", xml_text(&note)));
    out.push_str("  </overview>\n");
    out.push_str("  <counters>\n");
    out.push_str(&format!(
        "    <nrOfAssertions>{assertions}</nrOfAssertions>\n"
    ));
    out.push_str(&format!("    <nrOfErrors>{errors}</nrOfErrors>\n"));
    out.push_str(&format!("    <nrOfWarnings>{warnings}</nrOfWarnings>\n"));
    out.push_str("  </counters>\n");
    // `reports` is optional but its content is not: an empty run writes none.
    if !items.is_empty() {
        out.push_str("  <reports>\n");
        for i in &items {
            i.render(&mut out);
        }
        out.push_str("  </reports>\n");
    }
    out.push_str("</TestStepReport>\n");
    out
}

/// Write `dir/tar.xml`.
pub fn write(dir: &Path, meta: &RunMeta, records: &[ScenarioRecord]) -> Result<(), ReportError> {
    let path = dir.join(FILE);
    std::fs::write(&path, render(meta, records))
        .map_err(|source| ReportError::Write { path, source })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::Level;
    use std::time::Duration;

    pub(crate) fn meta() -> RunMeta {
        RunMeta {
            harness_version: "0.1.0".into(),
            sut: "Acme <PACS> & \"friends\"".into(),
            profile: Some("sut.toml".into()),
            tags: Some("@profile:DICOMweb and not @slow".into()),
            pack: crate::packs::Pack::resolve(None).expect("default pack"),
            started_at: "2026-12-07T09:00:00Z".into(),
            duration: Duration::from_millis(1500),
        }
    }

    pub(crate) fn finding(check: &str, outcome: Outcome, advisory: bool) -> Finding {
        Finding {
            check: check.into(),
            requirement: if outcome == Outcome::Error {
                "harness".into()
            } else {
                "PS3.18 §10.4.1".into()
            },
            level: Level::Shall,
            title: "the answer is the study asked for".into(),
            outcome,
            advisory,
            expected: "1.2.3".into(),
            actual: if outcome == Outcome::Error {
                "connection refused".into()
            } else {
                "4.5.6".into()
            },
            exchange: Some(2),
            exchange_label: "GET /studies/1.2.3".into(),
        }
    }

    pub(crate) fn record(
        name: &str,
        line: usize,
        outcome: Outcome,
        findings: Vec<Finding>,
    ) -> ScenarioRecord {
        ScenarioRecord {
            feature: "WADO-RS".into(),
            feature_file: "features/dicomweb/wado.feature".into(),
            scenario: name.into(),
            line,
            tags: vec!["req:DW-04".into()],
            outcome,
            reason: String::new(),
            duration: Duration::from_millis(10),
            findings,
            steps: Vec::new(),
            metrics: Default::default(),
            exchanges: Vec::new(),
            evidence: vec![
                format!("evidence/wado/{line:04}-x/01-rad-107.json"),
                format!("evidence/wado/{line:04}-x/02-rad-107.json"),
                format!("evidence/wado/{line:04}-x/02-rad-107-response.bin"),
            ],
        }
    }

    /// Validate with `xmllint --schema fixtures/schemas/gitb_tr.xsd` when xmllint is installed
    /// (`ci/install.sh` installs it); None when it is not.
    pub(crate) fn xsd_check(xml: &str) -> Option<Result<(), String>> {
        let schema =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schemas/gitb_tr.xsd");
        let dir = tempfile::tempdir().ok()?;
        let file = dir.path().join("tar.xml");
        std::fs::write(&file, xml).ok()?;
        let out = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .output()
            .ok()?;
        Some(if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    }

    fn assert_valid(xml: &str) {
        // Well-formed, whatever xmllint says.
        let mut reader = quick_xml::Reader::from_str(xml);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed: {e}\n{xml}"),
            }
        }
        match xsd_check(xml) {
            Some(Ok(())) => {}
            Some(Err(e)) => panic!("tar.xml does not follow gitb_tr.xsd: {e}\n{xml}"),
            None => eprintln!("xmllint not installed: schema check skipped"),
        }
    }

    fn count(xml: &str, needle: &str) -> usize {
        xml.matches(needle).count()
    }

    #[test]
    fn a_failed_run_is_a_failure_with_an_error_item_per_failed_check() {
        let records = vec![
            record(
                "retrieve a study",
                10,
                Outcome::Fail,
                vec![
                    finding("DW-01", Outcome::Pass, false),
                    finding("DW-04", Outcome::Fail, false),
                    finding("DW-09", Outcome::Fail, true),
                ],
            ),
            record(
                "search",
                20,
                Outcome::Pass,
                vec![finding("QI-01", Outcome::Pass, false)],
            ),
        ];
        let xml = render(&meta(), &records);
        assert_valid(&xml);
        assert!(xml.contains("<result>FAILURE</result>"));
        assert!(xml.contains("<nrOfAssertions>4</nrOfAssertions>"));
        assert!(xml.contains("<nrOfErrors>1</nrOfErrors>"));
        assert!(xml.contains("<nrOfWarnings>1</nrOfWarnings>"));
        assert_eq!(count(&xml, "<error xsi:type=\"BAR\">"), 1);
        assert_eq!(count(&xml, "<warning xsi:type=\"BAR\">"), 1);
        assert_eq!(count(&xml, "<info xsi:type=\"BAR\">"), 2);
        assert!(xml.contains("<assertionID>DW-04</assertionID>"));
        assert!(xml.contains("expected 1.2.3; actual 4.5.6"));
        assert!(xml.contains("<location>evidence/wado/0010-x/02-rad-107.json</location>"));
        assert!(xml.contains("<test>PS3.18 §10.4.1</test>"));
    }

    #[test]
    fn an_error_only_run_is_undefined_and_not_a_failure_of_the_sut() {
        let records = vec![record(
            "retrieve a study",
            10,
            Outcome::Error,
            vec![finding("harness.connect", Outcome::Error, false)],
        )];
        let xml = render(&meta(), &records);
        assert_valid(&xml);
        assert!(xml.contains("<result>UNDEFINED</result>"));
        assert!(xml.contains("<nrOfErrors>0</nrOfErrors>"));
        assert!(!xml.contains("<error "));
        assert!(xml.contains("not a finding about the system under test"));
        assert!(xml.contains("are not failures of the system under test"));
        // Errors next to passes still leave the run undefined; a Fail decides it.
        let mut mixed = records.clone();
        mixed.push(record(
            "search",
            20,
            Outcome::Pass,
            vec![finding("QI-01", Outcome::Pass, false)],
        ));
        assert!(render(&meta(), &mixed).contains("<result>UNDEFINED</result>"));
        mixed.push(record(
            "store",
            30,
            Outcome::Fail,
            vec![finding("ST-01", Outcome::Fail, false)],
        ));
        assert!(render(&meta(), &mixed).contains("<result>FAILURE</result>"));
    }

    #[test]
    fn a_passing_run_is_a_success_and_an_empty_one_undefined() {
        let mut na = record("mhd", 5, Outcome::NotApplicable, Vec::new());
        na.reason = "the profile has no [mhd] table".into();
        let records = vec![
            record(
                "search",
                20,
                Outcome::Pass,
                vec![finding("QI-01", Outcome::Pass, false)],
            ),
            na.clone(),
        ];
        let xml = render(&meta(), &records);
        assert_valid(&xml);
        assert!(xml.contains("<result>SUCCESS</result>"));
        assert!(xml.contains("<type>not-applicable</type>"));
        assert!(xml.contains("the profile has no [mhd] table"));
        let only_na = render(&meta(), &[na]);
        assert_valid(&only_na);
        assert!(only_na.contains("<result>UNDEFINED</result>"));
        let empty = render(&meta(), &[]);
        assert_valid(&empty);
        assert!(!empty.contains("<reports>"));
    }

    #[test]
    fn hostile_text_from_the_sut_is_escaped() {
        let mut f = finding("DW-04", Outcome::Fail, false);
        f.actual = "</value><error>&x;\u{0}\u{1b}[31m\u{FFFF}]]><!-- \r\n".into();
        f.exchange_label = "GET /a?b=<c>&d='e'".into();
        let mut r = record("<script>alert(1)</script>", 10, Outcome::Fail, vec![f]);
        r.evidence.clear();
        let xml = render(&meta(), &[r]);
        assert_valid(&xml);
        assert!(!xml.contains("<script>"));
        assert!(!xml.contains('\u{0}'));
        assert!(xml.contains(
            "&lt;/value&gt;&lt;error&gt;&amp;x;\u{FFFD}\u{FFFD}[31m\u{FFFD}]]&gt;&lt;!-- &#13;\n"
        ));
        assert!(xml.contains("Acme &lt;PACS&gt; &amp; &quot;friends&quot;"));
        assert_eq!(count(&xml, "<error xsi:type=\"BAR\">"), 1);
    }

    #[test]
    fn the_schema_check_catches_a_document_off_the_schema() {
        let xml = render(&meta(), &[]).replace("UNDEFINED", "MAYBE");
        if let Some(r) = xsd_check(&xml) {
            assert!(r.is_err(), "xmllint accepted a result of MAYBE");
        }
    }
}
