//! The `[performance]` table: the thresholds a SUT's study retrieves are qualified against, and
//! the fixture study they retrieve.
//!
//! ```toml
//! [performance]
//! study = "CT-CHEST"               # fixture study alias the @perf scenarios retrieve
//! wado_ttfb_ms = 500               # WADO-RS (RAD-107) study retrieve: first byte within 500 ms
//! wado_first_instance_ms = 1000    # first complete instance within 1 s
//! wado_min_mbps = 50               # at least 50 MB/s (10^6 bytes) over the whole retrieve
//! wado_min_instances_per_s = 100   # at least 100 instances/s over the whole retrieve
//! # the same four keys with cmove_, cget_ and rad69_ for C-MOVE, C-GET and RAD-69
//! ```
//! No standard sets these figures: they are the SUT's own (or a programme's, such as the DRIMbox
//! qualification of France's Ségur wave 2, requirement DB.SO.102: latency to the first image and
//! throughput of WADO-RS and C-MOVE on a reference CT study). A threshold left out is measured and
//! reported only, never judged.

use std::collections::BTreeMap;
use std::path::Path;

use super::{invalid, ConfigError};

/// The name of the table.
pub const TABLE: &str = "performance";

/// The transactions that have thresholds, as key prefixes.
pub const PREFIXES: &[&str] = &["wado", "cmove", "cget", "rad69"];

/// The figures that have thresholds, as key suffixes.
pub const FIGURES: &[&str] = &[
    "ttfb_ms",
    "first_instance_ms",
    "min_mbps",
    "min_instances_per_s",
];

/// The fixture study the @perf scenarios retrieve when the profile names none.
pub const DEFAULT_STUDY: &str = "CT-CHEST";

/// The thresholds of one transaction's study retrieve.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// Most milliseconds from the request to the first byte of the answer.
    pub ttfb_ms: Option<f64>,
    /// Most milliseconds from the request to the end of the first complete instance.
    pub first_instance_ms: Option<f64>,
    /// Least throughput over the whole retrieve, MB/s (10^6 bytes a second).
    pub min_mbps: Option<f64>,
    /// Least instances a second over the whole retrieve.
    pub min_instances_per_s: Option<f64>,
}

/// The resolved `[performance]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    /// The fixture study alias the @perf scenarios retrieve.
    pub study: String,
    /// Thresholds by transaction prefix (`wado`, `cmove`, `cget`, `rad69`).
    pub thresholds: BTreeMap<String, Thresholds>,
}

impl Default for Performance {
    fn default() -> Self {
        Performance {
            study: DEFAULT_STUDY.into(),
            thresholds: BTreeMap::new(),
        }
    }
}

impl Performance {
    /// The thresholds of transaction `prefix` (none set: all `None`).
    pub fn of(&self, prefix: &str) -> Thresholds {
        self.thresholds.get(prefix).copied().unwrap_or_default()
    }

    /// The embedded reference's own thresholds, the same for every transaction: far from what it
    /// does on any machine (CT-CHEST, 43 instances and 3.2 MB, by WADO-RS in about 0.1 s, by C-GET,
    /// C-MOVE or RAD-69 in under a second, in a debug build; up to 2 s when the machine is busy),
    /// so that only a reference made slow on purpose (`perf-slow-first-byte`: 6 s before a study
    /// retrieve answers or sends its first sub-operation) misses them: 3.2 MB and 43 instances in
    /// 6 s are 0.53 MB/s and 7.2 instances/s.
    pub fn embedded() -> Performance {
        let mut p = Performance::default();
        for prefix in PREFIXES {
            p.thresholds.insert(
                prefix.to_string(),
                Thresholds {
                    ttfb_ms: Some(3000.0),
                    first_instance_ms: Some(4000.0),
                    min_mbps: Some(0.75),
                    min_instances_per_s: Some(10.0),
                },
            );
        }
        p
    }
}

/// Take the `[performance]` table out of the profile and resolve it.
pub(super) fn extract(table: &mut toml::Table, path: &Path) -> Result<Performance, ConfigError> {
    let mut perf = Performance::default();
    let Some(value) = table.remove(TABLE) else {
        return Ok(perf);
    };
    let toml::Value::Table(inner) = value else {
        return Err(invalid(path, TABLE, "must be a table"));
    };
    let mut known: Vec<String> = vec!["study".into()];
    for p in PREFIXES {
        for f in FIGURES {
            known.push(format!("{p}_{f}"));
        }
    }
    for (key, v) in inner {
        let dotted = format!("{TABLE}.{key}");
        if key == "study" {
            match v {
                toml::Value::String(s) if !s.trim().is_empty() => perf.study = s,
                _ => return Err(invalid(path, &dotted, "must be a fixture study alias")),
            }
            continue;
        }
        let Some((prefix, figure)) = PREFIXES.iter().find_map(|p| {
            key.strip_prefix(p)
                .and_then(|r| r.strip_prefix('_'))
                .filter(|f| FIGURES.contains(f))
                .map(|f| (*p, f))
        }) else {
            let refs: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: dotted,
                hint: super::hint(&key, &refs),
            });
        };
        let n = match v {
            toml::Value::Integer(i) => i as f64,
            toml::Value::Float(f) => f,
            _ => return Err(invalid(path, &dotted, "must be a number")),
        };
        if !n.is_finite() || n <= 0.0 {
            return Err(invalid(path, &dotted, "must be greater than 0"));
        }
        let t = perf.thresholds.entry(prefix.to_string()).or_default();
        match figure {
            "ttfb_ms" => t.ttfb_ms = Some(n),
            "first_instance_ms" => t.first_instance_ms = Some(n),
            "min_mbps" => t.min_mbps = Some(n),
            _ => t.min_instances_per_s = Some(n),
        }
    }
    Ok(perf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Performance, ConfigError> {
        let mut t: toml::Table = text.parse().unwrap();
        extract(&mut t, Path::new("p.toml"))
    }

    #[test]
    fn thresholds_resolve_and_absent_ones_stay_unset() {
        let p = parse("[performance]\nstudy = \"DRIMBOX-CT\"\nwado_ttfb_ms = 500\nwado_min_mbps = 12.5\ncmove_first_instance_ms = 900\n").unwrap();
        assert_eq!(p.study, "DRIMBOX-CT");
        assert_eq!(p.of("wado").ttfb_ms, Some(500.0));
        assert_eq!(p.of("wado").min_mbps, Some(12.5));
        assert_eq!(p.of("wado").first_instance_ms, None);
        assert_eq!(p.of("cmove").first_instance_ms, Some(900.0));
        assert_eq!(p.of("rad69"), Thresholds::default());
        assert_eq!(parse("").unwrap(), Performance::default());
    }

    #[test]
    fn bad_keys_and_values_are_errors() {
        let e = parse("[performance]\nwado_ttfb = 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `wado_ttfb_ms`"), "{e}");
        assert!(parse("[performance]\nwado_ttfb_ms = 0\n").is_err());
        assert!(parse("[performance]\nwado_ttfb_ms = \"fast\"\n").is_err());
        assert!(parse("[performance]\nstudy = 3\n").is_err());
        assert!(parse("performance = 3\n").is_err());
    }
}
