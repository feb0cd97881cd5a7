//! The requirement catalogue and its coverage: which checks enforce each requirement, which
//! scenarios exercise each check, and what proves each check can fail.
//!
//! The catalogue (`requirements/catalogue.toml`, embedded in the binary) holds one entry per
//! requirement: a stable id, the document, its pinned edition, the section, the level, the actor it
//! binds and the requirement in our own words. Every [`Check`] names the ids it enforces
//! ([`Check::requirements`]); scenarios name the checks they exercise with `@req:` tags; the proofs
//! that each check can fail are in [`proofs`]. `ihe-harness requirements` prints the whole chain,
//! `ihe-harness requirements --uncovered` the gaps.

pub mod proofs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::checks::{self, Check};
use crate::listing::Listed;

/// The catalogue as shipped (`requirements/catalogue.toml`).
pub const CATALOGUE: &str = include_str!("../../requirements/catalogue.toml");

/// One requirement of the catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Stable id, `<DOC>-<section>` (`PS18-8.3.4.4`).
    pub id: String,
    /// The document (`DICOM PS3.18`).
    pub document: String,
    /// Its pinned edition or revision.
    pub edition: String,
    /// The section, annex item, table, profile or element.
    pub section: String,
    /// SHALL, SHOULD, or both.
    pub level: String,
    /// The actor it binds.
    pub actor: String,
    /// The requirement in our own words.
    pub text: String,
    /// What of the section the checks read, where their citation says so.
    #[serde(default)]
    pub note: String,
}

/// The requirement catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Every requirement, in the catalogue's order.
    #[serde(rename = "requirement", default)]
    pub requirements: Vec<Requirement>,
}

/// Why a catalogue cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The file cannot be read.
    #[error("cannot read the requirement catalogue {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a catalogue.
    #[error("the requirement catalogue is not valid: {0}")]
    Parse(String),
    /// Two entries share an id.
    #[error("the requirement catalogue holds {0} twice")]
    Duplicate(String),
}

impl Catalogue {
    /// The catalogue embedded in the binary.
    pub fn embedded() -> Result<Catalogue, CatalogueError> {
        Catalogue::parse(CATALOGUE)
    }

    /// A catalogue file.
    pub fn load(path: &Path) -> Result<Catalogue, CatalogueError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Catalogue::parse(&text)
    }

    /// Parse a catalogue's text; ids must be unique.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let c: Catalogue =
            toml::from_str(text).map_err(|e| CatalogueError::Parse(e.message().to_string()))?;
        let mut seen = BTreeSet::new();
        for r in &c.requirements {
            if !seen.insert(r.id.as_str()) {
                return Err(CatalogueError::Duplicate(r.id.clone()));
            }
        }
        Ok(c)
    }

    /// Look a requirement up by id.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }
}

/// What proves that a check can fail.
#[derive(Debug, Clone, Copy)]
pub enum Proof {
    /// A fault of the embedded reference that the check catches.
    Fault(&'static proofs::FaultCase),
    /// A test that makes the check fail.
    Test(&'static proofs::TestProof),
}

impl Proof {
    /// The proof as people read it.
    pub fn describe(&self) -> String {
        match self {
            Proof::Fault(f) => format!(
                "fault {} (scenarios {}{})",
                f.fault,
                f.tags,
                if f.strict { ", strict" } else { "" }
            ),
            Proof::Test(t) => format!("test {}", t.test),
        }
    }
}

/// Every proof that `check` can fail.
pub fn proofs_of(check: &str) -> Vec<Proof> {
    let faults = proofs::FAULT_CASES
        .iter()
        .filter(|f| f.check == check)
        .map(Proof::Fault);
    let tests = proofs::TEST_PROOFS
        .iter()
        .filter(|t| t.check == check)
        .map(Proof::Test);
    faults.chain(tests).collect()
}

/// A check with the scenarios that exercise it and the proofs that it can fail.
#[derive(Debug, Clone)]
pub struct CheckCoverage {
    /// The check.
    pub check: &'static Check,
    /// `file:line  scenario` of every scenario whose `@req:` tags name the check.
    pub scenarios: Vec<String>,
    /// What proves it can fail.
    pub proofs: Vec<Proof>,
}

/// The coverage of a catalogue by the checks, the scenarios and the proofs.
#[derive(Debug, Clone)]
pub struct Coverage<'a> {
    /// Each requirement with the checks that name it, in the catalogue's order.
    pub requirements: Vec<(&'a Requirement, Vec<&'static str>)>,
    /// Each check, in the registry's order.
    pub checks: Vec<CheckCoverage>,
    /// (check, id) for each id a check names that the catalogue does not hold.
    pub unknown: Vec<(&'static str, &'static str)>,
    /// (`file:line  scenario`, tag, why) for each `@req:` tag that names no check and each
    /// `@txn:` tag that names no transaction: such a scenario would select or prove nothing.
    pub bad_tags: Vec<(String, String, String)>,
}

impl Coverage<'_> {
    /// Requirements no check names.
    pub fn requirements_without_check(&self) -> Vec<&Requirement> {
        self.requirements
            .iter()
            .filter(|(_, c)| c.is_empty())
            .map(|(r, _)| *r)
            .collect()
    }

    /// Checks no scenario exercises.
    pub fn checks_without_scenario(&self) -> Vec<&'static Check> {
        self.checks
            .iter()
            .filter(|c| c.scenarios.is_empty())
            .map(|c| c.check)
            .collect()
    }

    /// Checks nothing proves can fail.
    pub fn checks_without_proof(&self) -> Vec<&'static Check> {
        self.checks
            .iter()
            .filter(|c| c.proofs.is_empty())
            .map(|c| c.check)
            .collect()
    }

    /// Is anything uncovered?
    pub fn has_gaps(&self) -> bool {
        !self.unknown.is_empty()
            || !self.bad_tags.is_empty()
            || !self.requirements_without_check().is_empty()
            || !self.checks_without_scenario().is_empty()
            || !self.checks_without_proof().is_empty()
    }
}

/// The coverage of `catalogue` by the check registry, the scenarios listed and the proofs.
pub fn coverage<'a>(catalogue: &'a Catalogue, scenarios: &[Listed]) -> Coverage<'a> {
    let mut by_check: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut bad_tags = Vec::new();
    for s in scenarios {
        let at = format!("{}:{}  {}", s.file.display(), s.line, s.scenario);
        for key in s.tags.iter().filter_map(|t| t.strip_prefix("req:")) {
            if checks::by_id(key).is_none() {
                bad_tags.push((
                    at.clone(),
                    format!("@req:{key}"),
                    "no check has this id".into(),
                ));
            }
            by_check.entry(key).or_default().push(at.clone());
        }
        for txn in s.tags.iter().filter_map(|t| t.strip_prefix("txn:")) {
            if let Err(e) = crate::transaction::Transaction::of_tag(txn) {
                bad_tags.push((at.clone(), format!("@txn:{txn}"), e.to_string()));
            }
        }
    }
    let mut named: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
    let mut unknown = Vec::new();
    let mut checks = Vec::new();
    for c in checks::registry() {
        for id in c.requirements {
            if catalogue.get(id).is_some() {
                named.entry(id).or_default().push(c.id);
            } else {
                unknown.push((c.id, *id));
            }
        }
        checks.push(CheckCoverage {
            check: c,
            scenarios: by_check.remove(c.id).unwrap_or_default(),
            proofs: proofs_of(c.id),
        });
    }
    let requirements = catalogue
        .requirements
        .iter()
        .map(|r| (r, named.remove(r.id.as_str()).unwrap_or_default()))
        .collect();
    Coverage {
        requirements,
        checks,
        unknown,
        bad_tags,
    }
}

fn level(c: &Check) -> &'static str {
    match c.level {
        checks::Level::Shall => "SHALL",
        checks::Level::Should => "SHOULD",
    }
}

/// Each requirement with its checks, each check's scenarios and proofs.
pub fn render(cov: &Coverage<'_>) -> String {
    let by_id: BTreeMap<&str, &CheckCoverage> =
        cov.checks.iter().map(|c| (c.check.id, c)).collect();
    let mut s = String::new();
    for (r, ids) in &cov.requirements {
        s.push_str(&format!(
            "{}  {} ({}) {}  [{}]\n",
            r.id, r.document, r.edition, r.section, r.level
        ));
        s.push_str(&format!("    actor: {}\n", r.actor));
        s.push_str(&format!("    {}\n", r.text));
        if ids.is_empty() {
            s.push_str("    no check\n");
        }
        for id in ids {
            let Some(c) = by_id.get(id) else { continue };
            s.push_str(&format!(
                "    check {} {}: {}\n",
                c.check.id,
                level(c.check),
                c.check.title
            ));
            if c.scenarios.is_empty() {
                s.push_str("        no scenario\n");
            }
            for sc in &c.scenarios {
                s.push_str(&format!("        scenario {sc}\n"));
            }
            if c.proofs.is_empty() {
                s.push_str("        no proof that it can fail\n");
            }
            for p in &c.proofs {
                s.push_str(&format!("        fails on {}\n", p.describe()));
            }
        }
    }
    s.push_str(&format!(
        "{} requirements, {} checks\n",
        cov.requirements.len(),
        cov.checks.len()
    ));
    s
}

/// The gaps: requirements without a check, checks without a scenario, checks without a proof,
/// and ids a check names that the catalogue does not hold.
pub fn render_uncovered(cov: &Coverage<'_>) -> String {
    let mut s = String::new();
    for (check, id) in &cov.unknown {
        s.push_str(&format!(
            "check {check} names {id}, which the catalogue does not hold\n"
        ));
    }
    for (at, tag, why) in &cov.bad_tags {
        s.push_str(&format!("scenario {at}: tag {tag}: {why}\n"));
    }
    for r in cov.requirements_without_check() {
        s.push_str(&format!(
            "requirement {} ({} {}) has no check\n",
            r.id, r.document, r.section
        ));
    }
    for c in cov.checks_without_scenario() {
        s.push_str(&format!(
            "check {} has no scenario (no @req:{} tag)\n",
            c.id, c.id
        ));
    }
    for c in cov.checks_without_proof() {
        s.push_str(&format!(
            "check {} has no proof that it can fail (no fault case, no test)\n",
            c.id
        ));
    }
    if s.is_empty() {
        s.push_str(&format!(
            "every requirement has a check, every check a scenario and a proof that it can fail \
             ({} requirements, {} checks)\n",
            cov.requirements.len(),
            cov.checks.len()
        ));
    }
    s
}

/// `ihe-harness requirements`: print the coverage (or only its gaps), and the exit code: 0, 1
/// when `uncovered` is asked and there is a gap, 2 when the catalogue or the features cannot be
/// read.
pub fn command(
    features: &crate::runner::FeatureSource,
    catalogue: Option<&Path>,
    uncovered: bool,
) -> u8 {
    let cat = match catalogue {
        Some(p) => Catalogue::load(p),
        None => Catalogue::embedded(),
    };
    let cat = match cat {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let scenarios = match crate::listing::scenarios(features, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let cov = coverage(&cat, &scenarios);
    let (text, code) = if uncovered {
        (render_uncovered(&cov), u8::from(cov.has_gaps()))
    } else {
        (render(&cov), 0)
    };
    // A closed stdout (a pager that stopped reading) is not an error.
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_parses_with_every_field() {
        let c = Catalogue::embedded().expect("the embedded catalogue parses");
        assert!(c.requirements.len() > 100);
        for r in &c.requirements {
            assert!(
                r.id.split_once('-').is_some_and(|(d, s)| !d.is_empty()
                    && !s.is_empty()
                    && r.id
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '.' || ch == '-')),
                "{} is not <DOC>-<section>",
                r.id
            );
            for (what, v) in [
                ("document", &r.document),
                ("section", &r.section),
                ("actor", &r.actor),
                ("text", &r.text),
            ] {
                assert!(!v.trim().is_empty(), "{} has no {what}", r.id);
            }
            assert!(
                ["SHALL", "SHOULD", "SHALL, SHOULD"].contains(&r.level.as_str()),
                "{}: level {}",
                r.id,
                r.level
            );
            // Paraphrased, never the standard's text at length.
            assert!(r.text.len() < 600, "{}: text too long", r.id);
        }
    }

    #[test]
    fn every_id_a_check_names_exists_and_every_requirement_is_named() {
        let c = Catalogue::embedded().expect("parses");
        let cov = coverage(&c, &[]);
        assert!(cov.unknown.is_empty(), "{:?}", cov.unknown);
        let orphans: Vec<&str> = cov
            .requirements_without_check()
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert!(orphans.is_empty(), "named by no check: {orphans:?}");
        for ch in checks::registry() {
            assert!(
                !ch.requirements.is_empty(),
                "{} names no requirement",
                ch.id
            );
        }
    }

    #[test]
    fn a_tag_naming_no_check_or_transaction_is_a_gap() {
        let c = Catalogue::embedded().expect("parses");
        let scenario = |tags: &[&str]| crate::listing::Listed {
            file: "features/x.feature".into(),
            feature: "F".into(),
            scenario: "S".into(),
            line: 3,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        let good = coverage(
            &c,
            &[scenario(&["txn:RAD-107", "txn:C-MOVE", "req:DW-01", "neg"])],
        );
        assert!(good.bad_tags.is_empty(), "{:?}", good.bad_tags);
        let bad = coverage(
            &c,
            &[scenario(&["txn:RAD-999", "req:DW-99", "txn:C-CANCEL"])],
        );
        let tags: Vec<&str> = bad.bad_tags.iter().map(|(_, t, _)| t.as_str()).collect();
        assert_eq!(tags, ["@req:DW-99", "@txn:RAD-999", "@txn:C-CANCEL"]);
        assert!(bad.has_gaps());
        let text = render_uncovered(&bad);
        assert!(
            text.contains(
                "scenario features/x.feature:3  S: tag @txn:RAD-999: unknown transaction `RAD-999`"
            ),
            "{text}"
        );
    }

    #[test]
    fn duplicates_and_unknown_fields_are_refused() {
        let one = "[[requirement]]\nid = \"X-1\"\ndocument = \"d\"\nedition = \"e\"\nsection = \"1\"\nlevel = \"SHALL\"\nactor = \"a\"\ntext = \"t\"\n";
        assert!(Catalogue::parse(one).is_ok());
        assert!(matches!(
            Catalogue::parse(&format!("{one}\n{one}")),
            Err(CatalogueError::Duplicate(_))
        ));
        assert!(Catalogue::parse(&format!("{one}colour = \"red\"\n")).is_err());
    }

    #[test]
    fn every_check_has_a_proof_and_every_proof_a_check() {
        for c in checks::registry() {
            assert!(!proofs_of(c.id).is_empty(), "{} has no proof", c.id);
        }
        for f in proofs::FAULT_CASES {
            assert!(checks::by_id(f.check).is_some(), "{}: {}", f.fault, f.check);
        }
        for t in proofs::TEST_PROOFS {
            assert!(checks::by_id(t.check).is_some(), "{}: {}", t.test, t.check);
        }
    }
}
