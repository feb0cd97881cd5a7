//! KOS imaging manifest checks (XDS-I.b): the manifest [`rules`] over [`crate::model::kos`]
//! manifests, as registry checks.
//!
//! A manifest reaches the harness as a part of a WADO-RS retrieve (RAD-107, as MADO UC#2 fetches the
//! KOS before the key images) or, later, as an XDS document (RAD-68, ITI-43). Each check parses the
//! manifest kept whole in the exchange and reports the violations of its one rule, under the XDS-I.b
//! profile (IHE RAD TF-2 §4.68.4.1.2 and DICOM PS3.3 §A.35.4, TID 2010). The MADO-only rules are
//! registered with the MADO scenarios.

pub mod rules;

use super::rule::Violation;
use super::{Check, Level, Subject, Verdict};
use crate::model::kos;
use rules::{Rules, RULES};

const ACTOR: &str = "Imaging Document Source (KOS manifest Content Creator)";

/// The manifest kept in the exchange: the first whole KOS part of a multipart body.
pub(super) fn manifest_bytes<'a>(s: &'a Subject<'_>) -> Option<&'a [u8]> {
    s.exchange.multipart.as_ref().and_then(|mp| {
        mp.parts.iter().find_map(|p| {
            let is_kos = p
                .dicom
                .as_ref()
                .and_then(|d| d.sop_class.as_deref())
                .map(|c| c == kos::KOS_SOP_CLASS)
                .unwrap_or(false);
            if is_kos {
                p.document.as_deref()
            } else {
                None
            }
        })
    })
}

/// What the XDS-I.b KOS rules found in one exchange's manifest: the violations, or the verdict
/// every rule gets when there is no manifest to judge (none kept, or it does not parse).
pub type Judged = Result<Vec<Violation>, Verdict>;

/// Run the XDS-I.b KOS rules once over the manifest kept in the exchange.
pub fn judge(s: &Subject<'_>) -> Judged {
    let Some(bytes) = manifest_bytes(s) else {
        return Err(Verdict::na("no KOS manifest kept in this exchange"));
    };
    let manifest = kos::parse(bytes)
        .map_err(|e| Verdict::fail("a KOS manifest that parses as DICOM PS3.10", e.to_string()))?;
    Ok(rules::validate(&manifest, &Rules::xds_i_b()))
}

/// The verdict of one KOS rule from what [`judge`] found.
pub fn verdict(judged: &Judged, rule: &str) -> Verdict {
    let violations: Vec<&str> = match judged {
        Err(v) => return v.clone(),
        Ok(found) => found
            .iter()
            .filter(|v| v.rule == rule)
            .map(|v| v.message.as_str())
            .collect(),
    };
    if violations.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            format!("a manifest that meets {rule}"),
            violations.join("; "),
        )
    }
}

/// True for the checks of this family, which take their verdicts from [`judge`].
pub fn is_member(check: &Check) -> bool {
    CHECKS.iter().any(|c| c.id == check.id)
}

/// Judge one KOS rule under the XDS-I.b profile.
fn judge_rule(s: &Subject<'_>, rule: &'static str) -> Verdict {
    verdict(&judge(s), rule)
}

const fn level(rule: &rules::ManifestRule) -> Level {
    match rule.xds_i_b {
        Some(Level::Should) => Level::Should,
        _ => Level::Shall,
    }
}

macro_rules! kos_checks {
    ($($idx:literal => $fn:ident $reqs:expr),* $(,)?) => {
        $(
            fn $fn(s: &Subject<'_>) -> Verdict {
                judge_rule(s, RULES[$idx].id)
            }
        )*
        /// The XDS-I.b KOS checks.
        pub static CHECKS: &[Check] = &[
            $(
                Check {
                    id: RULES[$idx].id,
                    requirement: RULES[$idx].requirement,
                    requirements: $reqs,
                    level: level(&RULES[$idx]),
                    actor: ACTOR,
                    title: RULES[$idx].title,
                    eval: $fn,
                },
            )*
        ];
    };
}

// Indices into rules::RULES of the rules that apply to XDS-I.b manifests; a test below keeps the
// list in step with the rule table.
kos_checks! {
    0 => kos_01 &["PS10-7.1", "PS3-A.35.4", "RAD2-4.68.4.1.2.1"],
    1 => kos_02 &["PS3-C.17.6.1", "PS3-C.17.6.2"],
    2 => kos_03 &["PS3-C.17.3", "PS16-TID2010"],
    3 => kos_04 &["RAD2-4.68.4.1.2.1"],
    4 => kos_05 &["PS3-C.17.6.2", "RAD2-4.68.4.1.2.1.1"],
    5 => kos_06 &["PS16-TID2010", "PS3-C.17.6.2.1"],
    6 => kos_07 &["PS3-C.17.6.2"],
    7 => kos_08 &["RAD2-4.68.4.1.2.1"],
    8 => kos_09 &["RAD2-4.68.4.1.2.1"],
    9 => kos_10 &["MADO-6.X.2.14", "PS3-TableC.17-3a"],
    10 => kos_11 &["PS3-A.35.4.3.1.2", "PS16-TID2010"],
    16 => kos_18 &["MADO-6.X.2.2"],
    17 => kos_21 &["PS3-C.7.1.1", "RAD2-4.68.4.1.2.3"],
    18 => kos_22 &["PS5-9.1"],
}

#[cfg(test)]
mod tests {
    use super::rules::Profile;
    use super::*;
    use crate::checks::{evaluate, Expect, Outcome};
    use crate::evidence::Exchange;
    use crate::transport::multipart::build_body;

    #[test]
    fn registered_checks_are_the_xds_i_b_rules_of_the_table() {
        let registered: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        for r in RULES {
            let applies = r.level(Profile::XdsIb).is_some();
            let is_registered = registered.contains(&r.id);
            if applies {
                assert!(
                    is_registered,
                    "{} applies to XDS-I.b but is not registered",
                    r.id
                );
            }
            if is_registered {
                assert!(
                    applies,
                    "{} is registered but does not apply to XDS-I.b",
                    r.id
                );
            }
        }
    }

    fn exchange_with(kos_bytes: &[u8]) -> Exchange {
        let body = build_body(
            "b",
            &[(&[("Content-Type", "application/dicom")], kos_bytes)],
        );
        Exchange::synthetic(
            "http://sut/studies/1/series/2/instances/3",
            &[],
            200,
            &[(
                "Content-Type",
                "multipart/related; type=\"application/dicom\"; boundary=b",
            )],
            &body,
        )
    }

    fn outcome(id: &str, ex: &Exchange) -> Outcome {
        let check = CHECKS.iter().find(|c| c.id == id).unwrap();
        evaluate(
            check,
            &crate::checks::Subject {
                exchange: ex,
                expect: &Expect::default(),
                strict: true,
                followups: &[],
            },
        )
        .outcome
    }

    /// The fixture manifests pass; the same manifest with another document title fails KOS-04,
    /// judged through a recorded WADO-RS exchange as the scenarios do.
    #[test]
    fn fixture_manifest_passes_and_a_retitled_one_fails() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        let kos = fx.instances.iter().find(|i| i.kos).unwrap();
        let bytes = std::fs::read(fx.file(kos)).unwrap();
        let ex = exchange_with(&bytes);
        for c in CHECKS {
            assert_eq!(
                outcome(c.id, &ex),
                Outcome::Pass,
                "{} on the fixture manifest",
                c.id
            );
        }
        let pos = bytes.windows(6).position(|w| w == b"113030").unwrap();
        let mut retitled = bytes.clone();
        retitled[pos..pos + 6].copy_from_slice(b"113000");
        assert_eq!(outcome("KOS-04", &exchange_with(&retitled)), Outcome::Fail);
        let garbage = exchange_with(b"not a manifest");
        assert_eq!(outcome("KOS-04", &garbage), Outcome::NotApplicable);
    }

    /// Judged in one pass, the family gives each check the finding it gives alone.
    #[test]
    fn one_pass_gives_the_findings_of_each_check_alone() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        let kos = fx.instances.iter().find(|i| i.kos).unwrap();
        let mut bytes = std::fs::read(fx.file(kos)).unwrap();
        let pos = bytes.windows(6).position(|w| w == b"113030").unwrap();
        bytes[pos..pos + 6].copy_from_slice(b"113000");
        for body in [&bytes[..], b"not a manifest"] {
            let ex = exchange_with(body);
            let expect = Expect::default();
            let subject = crate::checks::Subject {
                exchange: &ex,
                expect: &expect,
                strict: true,
                followups: &[],
            };
            let key = |f: crate::checks::Finding| (f.check, f.outcome, f.expected, f.actual);
            let alone: Vec<_> = CHECKS.iter().map(|c| key(evaluate(c, &subject))).collect();
            let once: Vec<_> = crate::checks::evaluate_all(CHECKS, &subject)
                .into_iter()
                .map(key)
                .collect();
            assert_eq!(once, alone);
            assert!(once.iter().any(|f| f.1 != Outcome::Pass));
        }
    }
}
