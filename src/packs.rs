//! Profile packs: the versions of the specifications whose codes and rules still move before the
//! EHDS implementing acts (the MADO Trial Implementation's temporary codes, the HL7 Europe imaging
//! IG ballot, MHD 4.2.x), fixed together under a name and a version and chosen per run
//! (`run --pack NAME[@VERSION]`, or `[options] pack` in the SUT profile; the command line wins).
//! The default is the newest pack marked `default`. Every output names the pack: the console
//! header, `results.json` (`run.pack`) and a `pack` property on every JUnit test case.
//!
//! The packs are TOML files under `fixtures/packs/`, compiled in. What a pack decides today: the
//! MADO code table the harness expects in KOS manifests and the embedded reference writes (a
//! profile's `[mhd] code_table` overrides it for that SUT).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::mado::CodeTable;

/// The pack files compiled into the harness.
const SOURCES: &[(&str, &str)] = &[
    (
        "ehn-imaging-2026.1.toml",
        include_str!("../fixtures/packs/ehn-imaging-2026.1.toml"),
    ),
    (
        "ehn-imaging-cp2595-2026.1.toml",
        include_str!("../fixtures/packs/ehn-imaging-cp2595-2026.1.toml"),
    ),
];

/// One profile pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pack {
    /// Its name (`ehn-imaging`).
    pub name: String,
    /// Its version (`2026.1`): versions of one name compare part by part, numbers as numbers.
    pub version: String,
    /// In words.
    pub title: String,
    /// Whether it is the default (the newest one is).
    #[serde(skip)]
    pub default: bool,
    /// The MADO code table of KOS manifests.
    pub mado_code_table: CodeTable,
    /// The specifications and the editions it fixes.
    pub specs: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    name: String,
    version: String,
    title: String,
    #[serde(default)]
    default: bool,
    mado_code_table: String,
    #[serde(default)]
    specs: BTreeMap<String, String>,
}

/// A pack could not be found or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// No pack has that name (and version).
    #[error("no profile pack `{asked}`: the packs are {known}")]
    Unknown {
        /// What was asked.
        asked: String,
        /// The packs there are, `name@version`, comma-separated.
        known: String,
    },
    /// A compiled-in pack file does not parse (a defect of the harness).
    #[error("the profile pack file {file} does not parse: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

impl Pack {
    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// The pack `spec` names (`name` for its newest version, or `name@version`), or the default
    /// pack when `spec` is None.
    pub fn resolve(spec: Option<&str>) -> Result<Pack, PackError> {
        let all = all()?;
        let known = || all.iter().map(Pack::id).collect::<Vec<_>>().join(", ");
        let found = match spec.map(str::trim) {
            None | Some("") => all
                .iter()
                .filter(|p| p.default)
                .max_by(|a, b| compare_versions(&a.version, &b.version)),
            Some(s) => match s.split_once('@') {
                Some((name, version)) => {
                    all.iter().find(|p| p.name == name && p.version == version)
                }
                None => all
                    .iter()
                    .filter(|p| p.name == s)
                    .max_by(|a, b| compare_versions(&a.version, &b.version)),
            },
        };
        found.cloned().ok_or_else(|| PackError::Unknown {
            asked: spec.unwrap_or("(default)").to_string(),
            known: known(),
        })
    }
}

/// Every compiled-in pack, in file order.
pub fn all() -> Result<Vec<Pack>, PackError> {
    SOURCES
        .iter()
        .map(|(file, text)| parse(file, text))
        .collect()
}

fn parse(file: &str, text: &str) -> Result<Pack, PackError> {
    let invalid = |message: String| PackError::Invalid {
        file: file.to_string(),
        message,
    };
    let raw: RawPack = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mado_code_table = match raw.mado_code_table.as_str() {
        "mado-ti" => CodeTable::MadoTi,
        "dicom-final" => CodeTable::DicomFinal,
        other => {
            return Err(invalid(format!(
                "mado_code_table `{other}` is not mado-ti or dicom-final"
            )))
        }
    };
    Ok(Pack {
        name: raw.name,
        version: raw.version,
        title: raw.title,
        default: raw.default,
        mado_code_table,
        specs: raw.specs,
    })
}

/// Versions compare part by part (`.`, `-`), numeric parts as numbers, a numeric part above a
/// word.
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts =
        |v: &str| -> Vec<String> { v.split(['.', '-']).map(str::to_string).collect::<Vec<_>>() };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
            (Err(_), Ok(_)) => std::cmp::Ordering::Less,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_pack_parses_and_exactly_one_name_is_the_default() {
        let all = all().unwrap();
        assert!(all.len() >= 2);
        let defaults: Vec<_> = all.iter().filter(|p| p.default).map(Pack::id).collect();
        assert_eq!(defaults, ["ehn-imaging@2026.1"]);
        for p in &all {
            assert!(!p.specs.is_empty(), "{} names no specification", p.id());
            assert!(p.specs.contains_key("IHE RAD MADO"), "{}", p.id());
        }
    }

    #[test]
    fn a_pack_is_found_by_name_by_name_and_version_or_by_default() {
        assert_eq!(Pack::resolve(None).unwrap().id(), "ehn-imaging@2026.1");
        assert_eq!(
            Pack::resolve(Some("ehn-imaging-cp2595"))
                .unwrap()
                .mado_code_table,
            CodeTable::DicomFinal
        );
        assert_eq!(
            Pack::resolve(Some("ehn-imaging@2026.1"))
                .unwrap()
                .mado_code_table,
            CodeTable::MadoTi
        );
        let e = Pack::resolve(Some("ehn-imaging@1999.1")).unwrap_err();
        assert!(e.to_string().contains("ehn-imaging@2026.1"), "{e}");
        assert!(Pack::resolve(Some("nope")).is_err());
    }

    #[test]
    fn versions_compare_by_number_and_a_bad_pack_file_is_an_error() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("2026.10", "2026.9"), Greater);
        assert_eq!(compare_versions("2026.1", "2026.1"), Equal);
        assert_eq!(compare_versions("2026.1", "2026.1.1"), Less);
        assert_eq!(compare_versions("2026.1", "2026.rc"), Greater);
        let e = parse(
            "x.toml",
            "name = \"a\"\nversion = \"1\"\ntitle = \"t\"\nmado_code_table = \"x\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("mado_code_table"), "{e}");
        assert!(parse("y.toml", "name = 1").is_err());
    }
}
