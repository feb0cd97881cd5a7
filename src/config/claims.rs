//! `[claims]`: what the SUT claims to implement, for the qualification statement
//! ([`crate::report::statement`]): the IHE actors, the transactions and the options.
//!
//! ```toml
//! [claims]
//! actors = ["Imaging Document Source"]
//! transactions = ["RAD-68", "RAD-69"]
//! options = ["Comprehensive Metadata"]
//! ```
//!
//! Names are checked against what the harness knows: actors against the actors the requirement
//! catalogue binds and the scenarios' `@actor:` tags, transactions against the transactions the
//! harness speaks, options against [`OPTIONS`]. An unknown name is a configuration error with a
//! did-you-mean. Names compare without case, spaces or punctuation (`ImagingDocumentSource` is
//! `Imaging Document Source`).

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::{hint, invalid, ConfigError};

/// The keys of `[claims]`.
pub const KEYS: &[&str] = &["actors", "transactions", "options"];

/// The IHE options the requirement catalogue speaks of: a requirement belongs to an option when
/// its section, text or note names `<option> option`.
pub const OPTIONS: &[&str] = &[
    "Comprehensive Metadata",
    "XDS Affinity Domain",
    "FHIR Feed",
    "FHIR manifest",
    "FQDN Validation of Server Certificate",
];

/// What the SUT claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// IHE actors, as the catalogue names them (`Imaging Document Source`).
    pub actors: Vec<String>,
    /// Transaction ids (`RAD-68`).
    pub transactions: Vec<String>,
    /// Options (`Comprehensive Metadata`).
    pub options: Vec<String>,
}

impl Claims {
    /// Claims nothing.
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty() && self.transactions.is_empty() && self.options.is_empty()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaims {
    #[serde(default)]
    actors: Vec<String>,
    #[serde(default)]
    transactions: Vec<String>,
    #[serde(default)]
    options: Vec<String>,
}

/// A name without case, spaces or punctuation: how claims and tags compare.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `ImagingDocumentSource` → `Imaging Document Source`.
fn words(tag: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in tag.chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

/// The actor names of a catalogue `actor` field: each part (split on ` / `, `,`, `;`) without
/// its parenthesis (`Imaging Document Source (RAD-68) / Document Registry` gives both names).
pub fn actor_names(field: &str) -> Vec<String> {
    field
        .split([',', ';', '/'])
        .map(|p| p.split('(').next().unwrap_or("").trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Every actor the harness knows: those the catalogue binds and those the scenarios tag.
pub fn known_actors() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(c) = crate::requirements::Catalogue::embedded() {
        for r in &c.requirements {
            out.extend(actor_names(&r.actor));
        }
    }
    for f in crate::assets::features().into_iter().flatten() {
        let tags = f
            .tags
            .iter()
            .chain(f.scenarios.iter().flat_map(|s| s.tags.iter()))
            .chain(f.rules.iter().flat_map(|r| {
                r.tags
                    .iter()
                    .chain(r.scenarios.iter().flat_map(|s| s.tags.iter()))
            }));
        for t in tags {
            if let Some(a) = t.strip_prefix("actor:") {
                out.insert(words(a));
            }
        }
    }
    out
}

/// Every transaction id the harness speaks.
pub fn known_transactions() -> Vec<String> {
    crate::transaction::Transaction::ALL
        .iter()
        .map(|t| t.id().to_string())
        .chain(
            crate::transaction::DIMSE_SERVICES
                .iter()
                .map(|s| s.to_string()),
        )
        .collect()
}

fn check_names(
    path: &Path,
    key: &str,
    names: Vec<String>,
    known: &[String],
) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for n in names {
        let found = known.iter().find(|k| normalise(k) == normalise(&n));
        match found {
            Some(k) => {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
            None => {
                let refs: Vec<&str> = known.iter().map(String::as_str).collect();
                let did_you_mean = hint(&n, &refs);
                return Err(invalid(
                    path,
                    &format!("claims.{key}"),
                    format!(
                        "{} is not a name the harness knows{}",
                        crate::evidence::quote(&n),
                        if did_you_mean.is_empty() {
                            String::new()
                        } else {
                            did_you_mean.replacen(", did", "; did", 1)
                        }
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Take `[claims]` out of the profile and check its names.
pub fn extract(table: &mut toml::Table, path: &Path) -> Result<Option<Claims>, ConfigError> {
    let Some(value) = table.remove("claims") else {
        return Ok(None);
    };
    let toml::Value::Table(inner) = value else {
        return Err(invalid(path, "claims", "must be a table"));
    };
    for k in inner.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: format!("claims.{k}"),
                hint: hint(k, KEYS),
            });
        }
    }
    let raw: RawClaims = toml::Value::Table(inner)
        .try_into()
        .map_err(|e: toml::de::Error| invalid(path, "claims", e.message().to_string()))?;
    let actors: Vec<String> = known_actors().into_iter().collect();
    let options: Vec<String> = OPTIONS.iter().map(|s| s.to_string()).collect();
    Ok(Some(Claims {
        actors: check_names(path, "actors", raw.actors, &actors)?,
        transactions: check_names(
            path,
            "transactions",
            raw.transactions,
            &known_transactions(),
        )?,
        options: check_names(path, "options", raw.options, &options)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("sut.toml"), &|_| None)
    }

    #[test]
    fn claims_are_read_and_names_normalised() {
        let c = parse(
            "[claims]\nactors = [\"imaging document source\", \"ImagingDocumentSource\"]\n\
             transactions = [\"RAD-68\", \"RAD-69\"]\noptions = [\"Comprehensive Metadata\"]\n",
        )
        .expect("profile");
        let claims = c.claims.expect("claims");
        assert_eq!(claims.actors, vec!["Imaging Document Source".to_string()]);
        assert_eq!(claims.transactions, vec!["RAD-68", "RAD-69"]);
        assert_eq!(claims.options, vec!["Comprehensive Metadata"]);
        assert!(parse("").expect("empty").claims.is_none());
    }

    #[test]
    fn unknown_names_are_refused_with_a_did_you_mean() {
        let e = parse("[claims]\nactors = [\"Imaging Document Sorce\"]\n")
            .expect_err("unknown actor")
            .to_string();
        assert!(e.contains("claims.actors"), "{e}");
        assert!(e.contains("did you mean `Imaging Document Source`"), "{e}");
        let e = parse("[claims]\ntransactions = [\"RAD-99\"]\n")
            .expect_err("unknown transaction")
            .to_string();
        assert!(e.contains("claims.transactions"), "{e}");
        let e = parse("[claims]\noptions = [\"Comprehensive Metadta\"]\n")
            .expect_err("unknown option")
            .to_string();
        assert!(e.contains("did you mean `Comprehensive Metadata`"), "{e}");
        let e = parse("[claims]\nactor = []\n")
            .expect_err("unknown key")
            .to_string();
        assert!(e.contains("did you mean `actors`"), "{e}");
    }

    #[test]
    fn every_option_is_one_the_catalogue_speaks_of() {
        let c = crate::requirements::Catalogue::embedded().expect("catalogue");
        for o in OPTIONS {
            let needle = format!("{} option", o.to_lowercase());
            assert!(
                c.requirements.iter().any(|r| {
                    format!("{} {} {}", r.section, r.text, r.note)
                        .to_lowercase()
                        .contains(&needle)
                }),
                "no requirement of the catalogue names the {o} option"
            );
        }
    }
}
