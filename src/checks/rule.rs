//! One rule vocabulary for the validator families.
//!
//! A validator judges one message or document with many rules at once: the ebRIM and SOAP rules
//! of XDS.b and XDS-I.b (`xds::rules`), the KOS manifest rules, the MADO rules, the MHD ITI-65
//! bundle rules, the imaging report rules, the DICOM JSON model rules. Each rule is a
//! [`Rule`]: a stable id (the check id it is registered under), the requirement it enforces
//! (document and section), its [`Level`] (SHALL or SHOULD) and its title, written as the
//! requirement. What a validator finds is a list of [`Violation`]s, each naming its rule and saying
//! what was found, and where when the family locates it (a FHIRPath expression, a DICOM JSON
//! path). The family's checks ([`super::Check`]) read their verdict from that list: the
//! validator runs once per exchange ([`super::evaluate_all`]), not once per check.

use serde::Serialize;

use super::Level;

/// A rule of a validator family: stable id, the requirement it enforces, its level and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id (`ITI41-05`), the id of the check that reports it.
    pub id: &'static str,
    /// Document and section.
    pub requirement: &'static str,
    /// SHALL or SHOULD.
    pub level: Level,
    /// The requirement, in one line.
    pub title: &'static str,
}

/// One breach of a [`Rule`] found in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Rule id.
    pub rule: &'static str,
    /// Document and section.
    pub requirement: &'static str,
    /// SHALL or SHOULD.
    pub level: Level,
    /// What was found, with the offending values.
    pub message: String,
    /// Where in the message, when the family locates its findings: a FHIRPath-like expression
    /// (`Bundle.entry[2].resource.status`), a DICOM JSON path (`[0].00100010`); empty otherwise.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub location: String,
}

impl Violation {
    /// A breach of `rule`, with what was found.
    pub fn of(rule: &Rule, message: impl Into<String>) -> Violation {
        Violation {
            rule: rule.id,
            requirement: rule.requirement,
            level: rule.level,
            message: message.into(),
            location: String::new(),
        }
    }

    /// A breach of `rule` found at `location`, with what was found.
    pub fn at(rule: &Rule, location: impl Into<String>, message: impl Into<String>) -> Violation {
        Violation {
            location: location.into(),
            ..Violation::of(rule, message)
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}] {} ({})",
            self.rule, self.level, self.message, self.requirement
        )
    }
}

/// True when any violation breaks a SHALL.
pub fn has_errors(v: &[Violation]) -> bool {
    v.iter().any(|x| x.level == Level::Shall)
}

/// A family's rule table: one `pub const` [`Rule`] per entry and `RULES`, all of them in order.
macro_rules! rules {
    ($($name:ident = ($id:literal, $req:literal, $level:ident, $title:literal);)*) => {
        $(
            #[doc = concat!("`", $id, "` (", $req, "): ", $title)]
            pub const $name: $crate::checks::rule::Rule = $crate::checks::rule::Rule {
                id: $id,
                requirement: $req,
                level: $crate::checks::Level::$level,
                title: $title,
            };
        )*
        /// Every rule of this family, in catalogue order.
        pub const RULES: &[$crate::checks::rule::Rule] = &[$($name),*];
    };
}
pub(crate) use rules;
