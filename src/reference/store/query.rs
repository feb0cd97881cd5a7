//! QIDO-RS query parameters (PS3.18 8.3.4) and attribute matching (PS3.4 C.2.2.2).
//!
//! Attribute keys are keywords or 8 hex digits (8.3.4.1). Matching follows C-FIND: single value (case
//! sensitive, except PN which is case-insensitive here as PS3.18 8.3.4.6 allows), wildcards `*` and `?`,
//! date/time ranges `a-b`, `a-` and `-b`, UID lists (comma or backslash separated), and universal
//! matching (empty value). `includefield` takes keywords, tags or `all`, repeated or comma-separated;
//! unknown `includefield` values are ignored. `limit` and `offset` page the results; `fuzzymatching` is
//! accepted but not supported (the caller adds a Warning). Every other key that is not a DICOM attribute
//! is an error, as is a malformed value: this server is strict and answers 400.
//!
//! The C-FIND SCP reads each identifier key into the same [`MatchKey`] ([`crate::reference::dimse::query_retrieve`]),
//! so QIDO-RS and C-FIND match the archive alike.

use std::collections::BTreeSet;

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

use super::is_valid_uid;
use crate::evidence::quote;

/// Why query parameters (QIDO-RS, or a C-FIND key read through them) cannot be matched: the reason
/// a 400 or an A900 carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A UID key holds something that is not a UID.
    #[error("{} is not a UID", quote(.0))]
    NotAUid(String),
    /// A date/time range with neither end.
    #[error("a range needs at least one end")]
    EmptyRange,
    /// A date/time value that is not one of its VR.
    #[error("{} is not a valid {vr} value", quote(value))]
    NotTemporal {
        /// The value.
        value: String,
        /// Its VR.
        vr: VR,
    },
    /// A numeric key holds something that is not a number.
    #[error("{} is not a number", quote(.0))]
    NotANumber(String),
    /// `limit` or `offset` is not a non-negative integer.
    #[error("{name} must be a non-negative integer, not {}", quote(value))]
    NotACount {
        /// The parameter.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// `fuzzymatching` is neither `true` nor `false`.
    #[error("fuzzymatching must be true or false, not {}", quote(.0))]
    FuzzyNotBoolean(String),
    /// A key that is no DICOM attribute.
    #[error("unknown query key {}", quote(.0))]
    UnknownKey(String),
    /// An attribute of a VR that cannot be matched.
    #[error("{name} ({vr}) cannot be used for matching here")]
    NotMatchable {
        /// The key as given.
        name: String,
        /// Its VR.
        vr: VR,
    },
    /// The same attribute twice.
    #[error("{0} is given more than once")]
    Repeated(String),
    /// The value of a key cannot be matched.
    #[error("{name}: {error}")]
    Value {
        /// The key as given.
        name: String,
        /// Why its value cannot be matched.
        error: Box<QueryError>,
    },
}

/// How a key's value matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Empty value: every entity matches, and the attribute is returned.
    Universal,
    /// One value.
    Single(String),
    /// A pattern with `*` and `?`.
    Wildcard(String),
    /// Any of several values (UID list, or backslash-separated values).
    List(Vec<String>),
    /// An inclusive range of dates, times or date-times; `None` is open.
    Range(Option<String>, Option<String>),
}

/// One matching key of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchKey {
    /// The attribute.
    pub tag: Tag,
    /// Its VR from the data dictionary.
    pub vr: VR,
    /// How it matches.
    pub matcher: Matcher,
}

/// The parsed query of a QIDO-RS request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Matching keys, in request order.
    pub keys: Vec<MatchKey>,
    /// `includefield=all`.
    pub include_all: bool,
    /// Attributes named by `includefield`.
    pub include: BTreeSet<Tag>,
    /// `limit`.
    pub limit: Option<usize>,
    /// `offset`.
    pub offset: usize,
    /// `fuzzymatching=true`.
    pub fuzzy: bool,
}

/// Resolve a keyword or an 8-hex-digit tag to a dictionary attribute.
pub fn resolve_attribute(name: &str) -> Option<(Tag, VR)> {
    let dict = StandardDataDictionary;
    let entry = if name.len() == 8 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        let n = u32::from_str_radix(name, 16).ok()?;
        dict.by_tag(Tag((n >> 16) as u16, (n & 0xFFFF) as u16))
    } else {
        dict.by_name(name)
    }?;
    Some((entry.tag(), entry.vr().relaxed()))
}

fn is_date_like(vr: VR) -> bool {
    matches!(vr, VR::DA | VR::TM | VR::DT)
}

fn is_numeric(vr: VR) -> bool {
    matches!(
        vr,
        VR::IS | VR::DS | VR::US | VR::UL | VR::SS | VR::SL | VR::FL | VR::FD | VR::SV | VR::UV
    )
}

/// Check one date, time or date-time value of a query (PS3.5 6.2: DA `YYYYMMDD`, TM `HH[MM[SS[.F]]]`,
/// DT `YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]`).
fn valid_temporal(vr: VR, v: &str) -> bool {
    let (main, frac) = match v.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (v, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.len() <= 6 && digits(f));
    match vr {
        VR::DA => frac.is_none() && main.len() == 8 && digits(main),
        VR::TM => matches!(main.len(), 2 | 4 | 6) && digits(main) && frac_ok,
        _ => {
            let main = main.split(['+', '-']).next().unwrap_or("");
            matches!(main.len(), 4 | 6 | 8 | 10 | 12 | 14) && digits(main) && frac_ok
        }
    }
}

/// A comparable form of a date/time value: digits padded to a fixed width (fraction included).
fn temporal_key(vr: VR, v: &str) -> String {
    let v = v.trim();
    let (main, frac) = v.split_once('.').unwrap_or((v, ""));
    let main: String = main.chars().take_while(char::is_ascii_digit).collect();
    let width = match vr {
        VR::DA => 8,
        VR::TM => 6,
        _ => 14,
    };
    let mut key = format!("{main:0<width$}");
    if vr != VR::DA {
        let frac: String = frac.chars().take_while(char::is_ascii_digit).collect();
        key.push('.');
        key.push_str(&format!("{frac:0<6}"));
    }
    key
}

fn parse_matcher(vr: VR, value: &str) -> Result<Matcher, QueryError> {
    if value.is_empty() {
        return Ok(Matcher::Universal);
    }
    if vr == VR::UI {
        let uids: Vec<String> = value
            .split([',', '\\'])
            .map(|u| u.trim().to_string())
            .collect();
        if let Some(bad) = uids.iter().find(|u| !is_valid_uid(u)) {
            return Err(QueryError::NotAUid(bad.clone()));
        }
        return Ok(if uids.len() == 1 {
            Matcher::Single(uids.into_iter().next().unwrap_or_default())
        } else {
            Matcher::List(uids)
        });
    }
    if is_date_like(vr) {
        if let Some((a, b)) = value
            .split_once('-')
            .filter(|_| vr != VR::DT || value.matches('-').count() == 1)
        {
            let a = a.trim();
            let b = b.trim();
            if a.is_empty() && b.is_empty() {
                return Err(QueryError::EmptyRange);
            }
            for end in [a, b].into_iter().filter(|e| !e.is_empty()) {
                if !valid_temporal(vr, end) {
                    return Err(QueryError::NotTemporal {
                        value: end.to_string(),
                        vr,
                    });
                }
            }
            let key = |s: &str| (!s.is_empty()).then(|| temporal_key(vr, s));
            return Ok(Matcher::Range(key(a), key(b)));
        }
        if !valid_temporal(vr, value) {
            return Err(QueryError::NotTemporal {
                value: value.to_string(),
                vr,
            });
        }
        return Ok(Matcher::Single(value.to_string()));
    }
    if is_numeric(vr) {
        let values: Vec<&str> = value.split('\\').collect();
        if let Some(bad) = values.iter().find(|v| v.trim().parse::<f64>().is_err()) {
            return Err(QueryError::NotANumber(bad.to_string()));
        }
        return Ok(if values.len() == 1 {
            Matcher::Single(value.trim().to_string())
        } else {
            Matcher::List(values.iter().map(|v| v.trim().to_string()).collect())
        });
    }
    if value.contains(['*', '?']) {
        return Ok(Matcher::Wildcard(value.to_string()));
    }
    if value.contains('\\') {
        return Ok(Matcher::List(
            value.split('\\').map(str::to_string).collect(),
        ));
    }
    Ok(Matcher::Single(value.to_string()))
}

fn parse_count(name: &'static str, v: &str) -> Result<usize, QueryError> {
    v.trim()
        .parse::<usize>()
        .map_err(|_| QueryError::NotACount {
            name,
            value: v.to_string(),
        })
}

/// Parse the query parameters of a QIDO-RS request. `Err` carries the reason for a 400.
pub fn parse_query(pairs: &[(String, String)]) -> Result<Query, QueryError> {
    let mut q = Query::default();
    let mut seen = BTreeSet::new();
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => q.limit = Some(parse_count("limit", v)?),
            "offset" => q.offset = parse_count("offset", v)?,
            "fuzzymatching" => {
                q.fuzzy = match v.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(QueryError::FuzzyNotBoolean(v.to_string())),
                }
            }
            "includefield" => {
                for name in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if name == "all" {
                        q.include_all = true;
                    } else if let Some((tag, _)) = resolve_attribute(name) {
                        q.include.insert(tag);
                    }
                }
            }
            "accept" | "charset" => {}
            name => {
                let (tag, vr) = resolve_attribute(name)
                    .ok_or_else(|| QueryError::UnknownKey(name.to_string()))?;
                if matches!(
                    vr,
                    VR::SQ | VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN
                ) {
                    return Err(QueryError::NotMatchable {
                        name: name.to_string(),
                        vr,
                    });
                }
                if !seen.insert(tag) {
                    return Err(QueryError::Repeated(name.to_string()));
                }
                let matcher = parse_matcher(vr, v).map_err(|e| QueryError::Value {
                    name: name.to_string(),
                    error: Box::new(e),
                })?;
                q.keys.push(MatchKey { tag, vr, matcher });
            }
        }
    }
    Ok(q)
}

/// `*` and `?` pattern matching over characters.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

impl MatchKey {
    fn normalise(&self, v: &str) -> String {
        let v = v.trim_end_matches(['\0', ' ']);
        if self.vr == VR::PN {
            // Alphabetic group only, case-insensitive.
            v.split('=').next().unwrap_or("").to_lowercase()
        } else {
            v.trim_start().to_string()
        }
    }

    fn equal(&self, query: &str, value: &str) -> bool {
        if is_date_like(self.vr) {
            return temporal_key(self.vr, query) == temporal_key(self.vr, value);
        }
        if is_numeric(self.vr) {
            if let (Ok(a), Ok(b)) = (query.trim().parse::<f64>(), value.trim().parse::<f64>()) {
                return a == b;
            }
        }
        self.normalise(query) == self.normalise(value)
    }

    /// Does an entity with this attribute value (`None` when absent; multiple values joined with
    /// `\`) match?
    pub fn matches(&self, value: Option<&str>) -> bool {
        if self.matcher == Matcher::Universal {
            return true;
        }
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            return false;
        };
        value.split('\\').any(|one| match &self.matcher {
            Matcher::Universal => true,
            Matcher::Single(q) => self.equal(q, one),
            Matcher::List(qs) => qs.iter().any(|q| self.equal(q, one)),
            Matcher::Wildcard(p) => wildcard(&self.normalise(p), &self.normalise(one)),
            Matcher::Range(from, to) => {
                let k = temporal_key(self.vr, one);
                from.as_ref().is_none_or(|f| &k >= f) && to.as_ref().is_none_or(|t| &k <= t)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        crate::reference::dicomweb::web::query_pairs(Some(q))
    }

    fn key(q: &str) -> MatchKey {
        parse_query(&pairs(q)).unwrap().keys.remove(0)
    }

    #[test]
    fn keywords_tags_and_reserved_parameters() {
        let q = parse_query(&pairs(
            "PatientID=CTH-0001&0020000D=&includefield=StudyDescription,00081030&includefield=all\
             &includefield=NoSuchThing&limit=2&offset=1&fuzzymatching=true",
        ))
        .unwrap();
        assert_eq!(q.keys.len(), 2);
        assert_eq!(q.keys[1].matcher, Matcher::Universal);
        assert!(q.include_all && q.fuzzy);
        assert_eq!(q.include.len(), 1);
        assert_eq!((q.limit, q.offset), (Some(2), 1));
    }

    #[test]
    fn bad_queries_are_rejected() {
        for bad in [
            "Foo=1",
            "limit=-1",
            "offset=x",
            "fuzzymatching=maybe",
            "StudyDate=2026",
            "StudyDate=-",
            "StudyInstanceUID=1.2.x",
            "SeriesNumber=one",
            "PatientID=a&PatientID=b",
            "ReferencedSeriesSequence=1",
        ] {
            assert!(parse_query(&pairs(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_semantics() {
        assert!(key("PatientName=doe^jane").matches(Some("Doe^Jane")));
        assert!(!key("PatientID=cth-0001").matches(Some("CTH-0001")));
        assert!(key("PatientID=CTH*").matches(Some("CTH-0001")));
        assert!(key("PatientID=CTH-000?").matches(Some("CTH-0001")));
        assert!(!key("PatientID=CTH?").matches(Some("CTH-0001")));
        assert!(key("PatientName=*jane").matches(Some("Doe^Jane")));
        assert!(key("StudyDate=20260101-20260131").matches(Some("20260115")));
        assert!(!key("StudyDate=20260116-").matches(Some("20260115")));
        assert!(key("StudyDate=-20260115").matches(Some("20260115")));
        assert!(key("StudyTime=0930-1000").matches(Some("093000")));
        assert!(key("StudyInstanceUID=1.2,1.3").matches(Some("1.3")));
        assert!(key("StudyInstanceUID=1.2%5C1.3").matches(Some("1.2")));
        assert!(key("ModalitiesInStudy=CT").matches(Some("CT\\KO")));
        assert!(key("SeriesNumber=1").matches(Some("1 ")));
        assert!(!key("AccessionNumber=X").matches(None));
        assert!(key("AccessionNumber=").matches(None));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*d", "abc"));
        assert!(wildcard("?é*", "xé"));
    }

    #[test]
    fn errors_print_the_reason_a_400_carries() {
        let reason = |q: &[(&str, &str)]| {
            let q: Vec<(String, String)> = q
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            parse_query(&q).map(|_| ()).unwrap_err().to_string()
        };
        assert_eq!(
            reason(&[("limit", "-1")]),
            "limit must be a non-negative integer, not `-1`"
        );
        assert_eq!(
            reason(&[("fuzzymatching", "yes")]),
            "fuzzymatching must be true or false, not `yes`"
        );
        assert_eq!(reason(&[("Foo", "x")]), "unknown query key `Foo`");
        assert_eq!(
            reason(&[("StudyDate", "2024x")]),
            "StudyDate: `2024x` is not a valid DA value"
        );
        assert_eq!(
            reason(&[("StudyDate", "-")]),
            "StudyDate: a range needs at least one end"
        );
        assert_eq!(
            reason(&[("StudyInstanceUID", "1.2.x")]),
            "StudyInstanceUID: `1.2.x` is not a UID"
        );
        assert_eq!(
            reason(&[("PatientID", "a"), ("PatientID", "b")]),
            "PatientID is given more than once"
        );
        assert_eq!(
            reason(&[("00080020", "x"), ("NumberOfStudyRelatedInstances", "many")]),
            "00080020: `x` is not a valid DA value"
        );
    }
}
