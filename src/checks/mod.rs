//! The check registry: every conformance rule the harness judges, as data.
//!
//! A check has a stable id (`DW-04`), the requirement it enforces (document and section, and its
//! ids in the requirement catalogue, [`crate::requirements`]), a level
//! (SHALL / SHOULD), the actor it judges, a one-line title written as the requirement, and a pure
//! function over a recorded [`Exchange`] plus what the scenario knows to expect. Checks never do I/O:
//! steps record first and evaluate second, so each check is unit-tested from fixtures, with a case
//! where it passes and one where it fails.
//!
//! Outcomes follow Inferno and hurl: Pass, Fail (the SUT broke the cited requirement), Error (the
//! harness or the network failed: never a verdict on the SUT), Skip and NotApplicable.

pub mod arr;
pub mod atna;
pub mod dicomweb;
pub mod dimse;
pub mod eu_api;
pub mod kos;
pub mod mado;
pub mod mhd;
pub mod peer;
pub mod perf;
pub mod report;
pub mod rule;
pub mod soap_message;
pub mod tls;
pub mod xc_wado;
pub mod xca;
pub mod xca_consumer;
pub mod xca_initiating;
pub mod xcai;
pub mod xcai_initiating;
pub mod xds;
pub mod xds_i;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::evidence::Exchange;

/// Requirement strength (RFC 2119 as used by DICOM and IHE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// SHALL / required: a breach is a Fail.
    Shall,
    /// SHOULD / recommended: a breach is a warning, a Fail only in strict mode.
    Should,
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Shall => "SHALL",
            Level::Should => "SHOULD",
        })
    }
}

/// What a check function concludes.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The requirement holds.
    Pass,
    /// The requirement is broken.
    Fail {
        /// What the requirement demands.
        expected: String,
        /// What the SUT did.
        actual: String,
    },
    /// The check does not apply to this exchange.
    NotApplicable(String),
}

impl Verdict {
    /// Shorthand for a Fail.
    pub fn fail(expected: impl Into<String>, actual: impl Into<String>) -> Verdict {
        Verdict::Fail {
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    /// Shorthand for NotApplicable.
    pub fn na(reason: impl Into<String>) -> Verdict {
        Verdict::NotApplicable(reason.into())
    }
}

/// The five outcomes of a finding or a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Requirement met.
    Pass,
    /// Not applicable.
    NotApplicable,
    /// Precondition unmet.
    Skip,
    /// The SUT broke a requirement.
    Fail,
    /// The harness, the network or the configuration failed.
    Error,
}

impl Outcome {
    /// The outcome as people read it in messages and progress lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::NotApplicable => "not applicable",
            Outcome::Skip => "skipped",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hierarchy level a request targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Study Instance UID.
    pub study: String,
    /// Series Instance UID, for series and instance targets.
    pub series: Option<String>,
    /// SOP Instance UID, for instance targets.
    pub instance: Option<String>,
}

/// QIDO-RS query level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QidoLevel {
    /// Studies.
    Study,
    /// Series.
    Series,
    /// Instances.
    Instance,
}

/// One instance sent in a STOW-RS request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentInstance {
    /// SOP Class UID (empty for a non-DICOM part).
    pub sop_class: String,
    /// SOP Instance UID (empty for a non-DICOM part).
    pub sop_instance: String,
    /// Study Instance UID of the object.
    pub study: String,
    /// Series Instance UID of the object (empty for a non-DICOM part).
    pub series: String,
}

/// One frame asked of a WADO-RS Retrieve Frames request, as the harness knows it from its fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameExpect {
    /// The frame number asked for (from 1).
    pub number: u32,
    /// Size in bytes of the frame uncompressed.
    pub size: u64,
    /// Identity digest (BLAKE3, hex) of the frame uncompressed, as the fixture holds it.
    pub blake3: String,
    /// True when any origin server must return exactly these bytes (the fixture was stored
    /// uncompressed or losslessly compressed); false for lossy fixtures, whose decoded pixels
    /// differ between decoders.
    pub exact: bool,
}

/// What the scenario knows the answer must be; each check uses the fields it needs.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Status codes that satisfy the requirement (the first is the one the standard names).
    pub status: Vec<u16>,
    /// Why that status (for messages): "unknown study".
    pub status_reason: String,
    /// Transfer syntax asked for: None = none (the default applies), `*` = any, or a UID.
    pub requested_ts: Option<String>,
    /// The target of a retrieve.
    pub target: Option<Target>,
    /// Every SOP Instance UID the target holds, when the harness knows them.
    pub instances: Option<BTreeSet<String>>,
    /// QIDO level.
    pub qido_level: Option<QidoLevel>,
    /// Query keys and values sent (keyword or tag, value).
    pub query: Vec<(String, String)>,
    /// includefield tags asked for.
    pub includefield: Vec<u32>,
    /// UIDs (of the query level) that the SUT is known to hold and that match the query.
    pub known_matches: Option<BTreeSet<String>>,
    /// UIDs in the order of a preceding unpaged query, for paging checks.
    pub unpaged: Option<Vec<String>>,
    /// `limit` sent.
    pub limit: Option<usize>,
    /// `offset` sent.
    pub offset: Option<usize>,
    /// STOW-RS: the study of the request URL, if any.
    pub stow_url_study: Option<String>,
    /// STOW-RS: what was sent.
    pub stow_sent: Vec<SentInstance>,
    /// XDS-I.b expectations.
    pub xds: xds_i::XdsExpect,
    /// DIMSE expectations.
    pub dimse: dimse::DimseExpect,
    /// MHD expectations.
    pub mhd: mhd::MhdExpect,
    /// MADO manifest expectations.
    pub mado: mado::MadoExpect,
    /// Imaging report expectations.
    pub report: report::ReportExpect,
    /// Patient ID of the target, when the harness knows it (every answer must be about it).
    pub patient_id: Option<String>,
    /// WADO-RS Retrieve Frames: the frames asked for, in the order asked.
    pub frames: Vec<FrameExpect>,
    /// WADO-RS rendered retrieve without a viewport: the source image's Columns and Rows.
    pub rendered_size: Option<(u32, u32)>,
    /// QIDO-RS: the Study Instance UID, and Series Instance UID, named in the URL path.
    pub qido_path: Option<(String, Option<String>)>,
    /// WADO-RS metadata: the BulkDataURI of the instance's Pixel Data with the value's size and
    /// identity digest (BLAKE3, hex), when every origin server must return exactly these bytes for it.
    pub pixel_data: Option<(String, u64, String)>,
    /// QIDO-RS paging: the unpaged result UIDs asked again after the paged query; when they
    /// differ from `unpaged` the SUT's contents changed in between and the page cannot be judged.
    pub unpaged_after: Option<Vec<String>>,
    /// WADO-RS: SOP Instance UIDs whose Patient ID the SUT coerced and recorded in an Original
    /// Attributes Sequence (0400,0561), as its metadata of the instance says.
    pub patient_coercion_recorded: BTreeSet<String>,
    /// WADO-RS: the Patient ID the SUT's own metadata gives for an instance (by SOP Instance
    /// UID), looked up when a retrieved instance carries another Patient ID than expected.
    pub metadata_patient_ids: std::collections::BTreeMap<String, String>,
    /// WADO-RS: the harness stored the target's objects itself with STOW-RS (load mode, or a copy
    /// stored by the scenario), so a coerced attribute must be recorded (PS3.18 §10.5.3).
    pub stored_by_harness: bool,
    /// WADO-RS: SOP Instance UIDs of the target whose pixel data the SUT holds only in a lossy
    /// compressed form, as far as the harness knows (it stored them so).
    pub lossy_instances: BTreeSet<String>,
    /// QIDO-RS: what the harness knows of the entities of the query level it stored (by unique
    /// key), for results that name them.
    pub qido_known: std::collections::BTreeMap<String, dicomweb::KnownEntity>,
    /// What an ATNA (ITI-19) scenario asked of the SUT's TLS server.
    pub tls: tls::TlsExpect,
    /// What an ATNA (ITI-20) scenario expects of an audit message the SUT sent.
    pub atna: Option<atna::AtnaExpect>,
    /// What an Audit Record Repository scenario (ITI-20 receiving side, ITI-81) expects.
    pub arr: Option<arr::ArrExpect>,
    /// What an XCA scenario knows of the SUT's Responding Gateway.
    pub xca: xca::XcaExpect,
    /// What an XCA-I scenario knows of the SUT's Responding Imaging Gateway.
    pub xcai: xcai::XcaiExpect,
    /// The SUT as DICOMweb user agent: what the scenario that made it call knows (DWUA-01..05).
    pub user_agent: Option<dicomweb::user_agent::UaExpect>,
    /// What an XCA scenario with the SUT as Initiating Gateway knows: the legs it sent to the
    /// simulated communities.
    pub xca_ig: xca_initiating::XcaIgExpect,
    /// What an XCA scenario with the SUT as Document Consumer across communities knows: the
    /// `home` each entry it received came with.
    pub xca_consumer: xca_consumer::XcaConsumerExpect,
    /// What an XCA-I scenario with the SUT as Initiating Imaging Gateway knows: the RAD-75
    /// requests it sent to the simulated communities.
    pub xcai_ig: xcai_initiating::XcaiIgExpect,
    /// What a @perf scenario measured of a study retrieve, with its thresholds (PERF-01..04).
    pub perf: Option<perf::PerfExpect>,
}

/// What a check looks at.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The exchange judged.
    pub exchange: &'a Exchange,
    /// What the scenario expects.
    pub expect: &'a Expect,
    /// Strict mode.
    pub strict: bool,
    /// Follow-up exchanges (BulkDataURI dereferences).
    pub followups: &'a [Exchange],
}

/// A conformance check.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Stable id, e.g. `DW-04`.
    pub id: &'static str,
    /// The requirement: document and section, as cited in messages and reports.
    pub requirement: &'static str,
    /// The ids of the requirements it enforces in the requirement catalogue
    /// (`requirements/catalogue.toml`, [`crate::requirements`]).
    pub requirements: &'static [&'static str],
    /// SHALL or SHOULD.
    pub level: Level,
    /// The actor judged.
    pub actor: &'static str,
    /// The requirement in one line.
    pub title: &'static str,
    /// The rule.
    pub eval: fn(&Subject<'_>) -> Verdict,
}

/// A check's result in a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Check id.
    pub check: String,
    /// Requirement cited.
    pub requirement: String,
    /// Level.
    pub level: Level,
    /// Title.
    pub title: String,
    /// Outcome.
    pub outcome: Outcome,
    /// A SHOULD-level breach outside strict mode: reported as a warning, not counted as a Fail.
    pub advisory: bool,
    /// Expected value (Fail) or reason (NotApplicable, Error).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expected: String,
    /// Actual value.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub actual: String,
    /// The exchange judged (`exchange #3, GET …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<u32>,
    /// Method and URL of that exchange.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub exchange_label: String,
}

impl Finding {
    /// `DW-04 (PS3.18 …): expected …, received … (exchange #7, GET …)`.
    pub fn message(&self) -> String {
        let mut s = if self.requirement == "harness" {
            // Not a requirement of the SUT: say what the harness could not do, and why.
            format!("{} ({}): {}", self.title, self.check, self.actual)
        } else {
            let mut s = format!("{} [{}] {}", self.check, self.requirement, self.title);
            match (self.expected.is_empty(), self.actual.is_empty()) {
                (true, true) => {}
                (false, true) => s.push_str(&format!(": {}", self.expected)),
                (true, false) => s.push_str(&format!(": actual {}", self.actual)),
                (false, false) => s.push_str(&format!(
                    ": expected {}; actual {}",
                    self.expected, self.actual
                )),
            }
            s
        };
        if !self.exchange_label.is_empty() {
            s.push_str(&format!(" ({})", self.exchange_label));
        }
        s
    }

    /// Does this finding make its scenario fail?
    pub fn is_failure(&self) -> bool {
        self.outcome == Outcome::Fail && !self.advisory
    }

    /// A harness or network error tied to an exchange.
    pub fn error(exchange: &Exchange) -> Finding {
        let (kind, message) = exchange
            .failure
            .as_ref()
            .map(|f| (f.kind.clone(), f.message.clone()))
            .unwrap_or_default();
        Finding {
            check: format!("harness.{kind}"),
            requirement: "harness".into(),
            level: Level::Shall,
            title: format!(
                "{} {} could not be completed",
                exchange.transaction, exchange.operation
            ),
            outcome: Outcome::Error,
            advisory: false,
            expected: String::new(),
            actual: message,
            exchange: Some(exchange.seq),
            exchange_label: exchange.label(),
        }
    }

    /// The scenario does not apply to this SUT (the profile does not declare the actor it needs).
    pub fn not_applicable(title: impl Into<String>, reason: impl Into<String>) -> Finding {
        Finding {
            outcome: Outcome::NotApplicable,
            expected: reason.into(),
            ..Finding::harness_error(title, String::new())
        }
    }

    /// A harness error not tied to an exchange (fixtures missing, bad step argument).
    pub fn harness_error(title: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            check: "harness".into(),
            requirement: "harness".into(),
            level: Level::Shall,
            title: title.into(),
            outcome: Outcome::Error,
            advisory: false,
            expected: String::new(),
            actual: message.into(),
            exchange: None,
            exchange_label: String::new(),
        }
    }
}

/// Every check the harness knows, across profiles.
pub fn registry() -> impl Iterator<Item = &'static Check> {
    dicomweb::CHECKS
        .iter()
        .chain(kos::CHECKS.iter())
        .chain(xds::CHECKS.iter())
        .chain(xds_i::CHECKS.iter())
        .chain(dimse::CHECKS.iter())
        .chain(mhd::CHECKS.iter())
        .chain(mado::CHECKS.iter())
        .chain(report::CHECKS.iter())
        .chain(peer::CHECKS.iter())
        .chain(tls::CHECKS.iter())
        .chain(atna::CHECKS.iter())
        .chain(arr::CHECKS.iter())
        .chain(xca::CHECKS.iter())
        .chain(eu_api::CHECKS.iter())
        .chain(xc_wado::CHECKS.iter())
        .chain(xcai::CHECKS.iter())
        .chain(dicomweb::user_agent::CHECKS.iter())
        .chain(xca_initiating::CHECKS.iter())
        .chain(xca_consumer::CHECKS.iter())
        .chain(xcai_initiating::CHECKS.iter())
        .chain(perf::CHECKS.iter())
}

/// Look a check up by id.
pub fn by_id(id: &str) -> Option<&'static Check> {
    registry().find(|c| c.id == id)
}

/// Evaluate one check on a subject and turn the verdict into a finding.
pub fn evaluate(check: &Check, subject: &Subject<'_>) -> Finding {
    evaluate_with(check, subject, check.eval)
}

/// Evaluate checks on one subject, in order. The checks of a validator family (the ebRIM and SOAP
/// rules of [`xds`], the XDS-I.b KOS rules of [`kos`], the MADO manifest rules of [`mado`]) take
/// their verdicts from one run of the family's validators over the exchange ([`xds::judge`],
/// [`kos::judge`], [`mado::Judged`]), made when the first of them is evaluated; every other check
/// runs its own function.
pub fn evaluate_all<'c>(
    checks: impl IntoIterator<Item = &'c Check>,
    subject: &Subject<'_>,
) -> Vec<Finding> {
    let mut families = Families::default();
    checks
        .into_iter()
        .map(|check| families.evaluate(check, subject))
        .collect()
}

/// [`evaluate_all`] for the checks named by id; an id the registry does not hold is a harness
/// error (a step names a check that does not exist).
pub fn evaluate_ids(ids: &[&str], subject: &Subject<'_>) -> Vec<Finding> {
    let mut families = Families::default();
    ids.iter()
        .map(|id| match by_id(id) {
            Some(check) => families.evaluate(check, subject),
            None => Finding::harness_error(
                "unknown check",
                format!("step names check {id}, which the registry does not hold"),
            ),
        })
        .collect()
}

/// What the validator families found in one subject's exchange, each judged at most once.
#[derive(Default)]
struct Families {
    xds: Option<xds::Judged>,
    kos: Option<kos::Judged>,
    mado: mado::Judged,
    atna: Option<Result<atna::family::Judged, Verdict>>,
}

impl Families {
    fn evaluate(&mut self, check: &Check, subject: &Subject<'_>) -> Finding {
        if let Some(rule) = xds::rule_of(check) {
            return evaluate_with(check, subject, |s| {
                let judged = self.xds.get_or_insert_with(|| xds::judge(s.exchange));
                xds::verdict(judged, rule, s.exchange)
            });
        }
        if kos::is_member(check) {
            return evaluate_with(check, subject, |s| {
                kos::verdict(self.kos.get_or_insert_with(|| kos::judge(s)), check.id)
            });
        }
        if atna::is_member(check) {
            return evaluate_with(check, subject, |s| {
                atna::family::verdict(
                    self.atna.get_or_insert_with(|| atna::family::judge(s)),
                    check,
                )
            });
        }
        if let Some(group) = mado::group_of(check) {
            return evaluate_with(check, subject, |s| self.mado.verdict(group, check.id, s));
        }
        evaluate(check, subject)
    }
}

/// Turn the verdict `eval` gives on a subject into `check`'s finding.
fn evaluate_with(
    check: &Check,
    subject: &Subject<'_>,
    eval: impl FnOnce(&Subject<'_>) -> Verdict,
) -> Finding {
    let exchange = subject.exchange;
    let (outcome, expected, actual) = if exchange.failure.is_some() && exchange.response.is_none() {
        (
            Outcome::NotApplicable,
            "no response to judge".to_string(),
            String::new(),
        )
    } else {
        match eval(subject) {
            Verdict::Pass => (Outcome::Pass, String::new(), String::new()),
            Verdict::Fail { expected, actual } => (Outcome::Fail, expected, actual),
            Verdict::NotApplicable(reason) => (Outcome::NotApplicable, reason, String::new()),
        }
    };
    Finding {
        check: check.id.into(),
        requirement: check.requirement.into(),
        level: check.level,
        title: check.title.into(),
        outcome,
        advisory: outcome == Outcome::Fail && check.level == Level::Should && !subject.strict,
        expected,
        actual,
        exchange: Some(exchange.seq),
        exchange_label: exchange.label(),
    }
}

/// The outcome of a scenario from its findings: any failure, else any Error, else Pass.
///
/// A breach of a requirement is a verdict on the SUT that a later harness or network error does
/// not undo, so a scenario holding both is a Fail (its report lists the Error too).
pub fn scenario_outcome(findings: &[Finding]) -> Outcome {
    if findings.iter().any(Finding::is_failure) {
        Outcome::Fail
    } else if findings.iter().any(|f| f.outcome == Outcome::Error) {
        Outcome::Error
    } else if !findings.is_empty() && findings.iter().all(|f| f.outcome == Outcome::Skip) {
        Outcome::Skip
    } else if !findings.is_empty() && findings.iter().all(|f| f.outcome == Outcome::NotApplicable) {
        Outcome::NotApplicable
    } else {
        Outcome::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_cited() {
        let mut seen = BTreeSet::new();
        for c in registry() {
            assert!(seen.insert(c.id), "duplicate check id {}", c.id);
            assert!(
                ["PS3.", "IHE", "RFC", "TF-", "W3C", "OASIS", "HL7", "FHIR"]
                    .iter()
                    .any(|d| c.requirement.contains(d)),
                "{} cites no document",
                c.id
            );
            // A section: `§`, or a numbered clause / appendix / table of an IHE or W3C text.
            assert!(
                c.requirement.contains('§')
                    || c.requirement.contains("Appendix")
                    || c.requirement.contains("Table")
                    || c.requirement
                        .split(|ch: char| ch.is_whitespace() || ch == ';')
                        .any(|w| {
                            w.split('.').filter(|p| !p.is_empty()).count() >= 2
                                && w.split('.').all(|p| {
                                    p.chars()
                                        .all(|ch| ch.is_ascii_digit() || ch == '-' || ch == ',')
                                })
                        }),
                "{} cites no section: {}",
                c.id,
                c.requirement
            );
        }
        assert!(seen.len() >= 12);
    }

    #[test]
    fn outcome_precedence() {
        let ex = Exchange::synthetic("http://x", &[], 200, &[], b"");
        let mut f = evaluate(
            &Check {
                id: "T",
                requirement: "PS3.18 §0",
                requirements: &[],
                level: Level::Should,
                actor: "a",
                title: "t",
                eval: |_| Verdict::fail("a", "b"),
            },
            &Subject {
                exchange: &ex,
                expect: &Expect::default(),
                strict: false,
                followups: &[],
            },
        );
        assert!(f.advisory);
        assert_eq!(scenario_outcome(std::slice::from_ref(&f)), Outcome::Pass);
        f.advisory = false;
        assert_eq!(scenario_outcome(std::slice::from_ref(&f)), Outcome::Fail);
        let e = Finding::harness_error("x", "y");
        assert_eq!(scenario_outcome(&[f, e.clone()]), Outcome::Fail);
        assert_eq!(scenario_outcome(&[e]), Outcome::Error);
    }
}
