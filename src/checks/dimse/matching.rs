//! Whether an identifier a peer returned satisfies the keys the harness asked with (DICOM PS3.4
//! §C.2.2.2, attribute matching), for the keys whose matching every Query/Retrieve SCP must support:
//! the Unique and Required keys of the Patient Root and Study Root models the harness sends
//! (PS3.4 §C.6.1.1, §C.6.2.1).
//!
//! The reading is the lenient one wherever the text leaves room: values are compared without
//! their leading and trailing spaces (PS3.5 §6.2: padding is not significant), a multi-valued
//! attribute matches when any of its values does (§C.2.2.3), and:
//! - a Required key the SCP holds no value for matches anything: "If a C-FIND SCP manages an
//!   entity with a Required Key of zero length, the value is considered unknown and all matching
//!   against the zero length Required Key shall be considered a successful match" (§C.2.2.1.2).
//!   A Unique key never has a zero-length value (§C.2.2.1.1), so an empty one does not match;
//! - a Person Name may match without regard to case, accents or other encoding variants
//!   (§C.2.2.2.1.1), and its Wild Card Matching is implementation dependent (§C.2.2.2.4): the
//!   harness compares case-insensitively, lets any component group (`=`) match, ignores trailing
//!   empty components (PS3.5 §6.2.1), and does not judge a name with characters outside ASCII,
//!   whose accent-insensitive forms it does not compute.

/// How the harness judges one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// UI: single value or a backslash-separated list (PS3.4 §C.2.2.2.2).
    Uid,
    /// Single value, with `*` and `?` wildcards (§C.2.2.2.1, §C.2.2.2.4); case-sensitive.
    Text,
    /// PN: as [`Kind::Text`], case-insensitive.
    PersonName,
    /// DA: single date or a range `a-b`, `-b`, `a-` (§C.2.2.2.5).
    Date,
    /// IS: the same integer.
    Integer,
}

/// The keys judged, by keyword. Others (optional keys, which an SCP may not match, PS3.4
/// §C.2.2.1.3; times, whose ranges the harness does not send) are left alone.
fn kind(keyword: &str) -> Option<Kind> {
    Some(match keyword {
        "StudyInstanceUID" | "SeriesInstanceUID" | "SOPInstanceUID" | "SOPClassUID" => Kind::Uid,
        "PatientID" | "AccessionNumber" | "StudyID" | "Modality" => Kind::Text,
        "PatientName" => Kind::PersonName,
        "StudyDate" => Kind::Date,
        "SeriesNumber" | "InstanceNumber" => Kind::Integer,
        _ => return None,
    })
}

fn clean(v: &str) -> &str {
    v.trim_matches([' ', '\0'])
}

/// `*` matches any run of characters, `?` one character (PS3.4 §C.2.2.2.4).
fn wildcard(pattern: &[char], value: &[char]) -> bool {
    // Iterative matcher with backtracking on the last `*`: linear in practice, never recursive.
    let (mut p, mut v) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, v));
            p += 1;
        } else if let Some((sp, sv)) = star {
            p = sp + 1;
            v = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

fn text_matches(key: &str, value: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    wildcard(&norm(key), &norm(value))
}

fn date_matches(key: &str, value: &str) -> bool {
    match key.split_once('-') {
        None => key == value,
        Some((from, to)) => {
            // DA values are YYYYMMDD: their order is their lexical order.
            value.len() == 8
                && value.bytes().all(|b| b.is_ascii_digit())
                && (from.is_empty() || value >= from)
                && (to.is_empty() || value <= to)
        }
    }
}

/// A Person Name group without its trailing empty components (`Doe^Jane^^^` is `Doe^Jane`).
fn name_group(g: &str) -> &str {
    clean(g).trim_end_matches('^')
}

/// Does a Person Name `value` match `key`: the whole value, or any of its component groups?
/// `None` when either holds characters outside ASCII (see the module documentation).
fn name_matches(key: &str, value: &str) -> Option<bool> {
    if !key.is_ascii() || !value.is_ascii() {
        return None;
    }
    let key = name_group(key);
    Some(
        std::iter::once(value)
            .chain(value.split('='))
            .any(|g| text_matches(key, name_group(g), true)),
    )
}

/// Does the returned `value` of attribute `keyword` satisfy the request's `key`? `None` when the
/// harness does not judge this attribute or the key asks for nothing (universal matching).
/// `unique`: the attribute is a Unique key of the model asked (PS3.4 §C.2.2.1.1), which always
/// has a value; a Required key with no value is unknown and matches (§C.2.2.1.2).
pub fn satisfies(keyword: &str, key: &str, value: &str, unique: bool) -> Option<bool> {
    let kind = kind(keyword)?;
    let key = clean(key);
    if key.is_empty() || (kind != Kind::Uid && key.chars().all(|c| c == '*')) {
        return None;
    }
    let values: Vec<&str> = value
        .split('\\')
        .map(clean)
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Some(!unique);
    }
    if kind == Kind::PersonName {
        let judged: Vec<bool> = values.iter().filter_map(|v| name_matches(key, v)).collect();
        if judged.len() < values.len() && !judged.contains(&true) {
            return None;
        }
        return Some(judged.contains(&true));
    }
    let one = |v: &str| -> bool {
        match kind {
            Kind::Uid => key.split('\\').map(clean).any(|k| k == v),
            Kind::Text => text_matches(key, v, false),
            Kind::PersonName => false,
            Kind::Date => date_matches(key, v),
            Kind::Integer => match (key.parse::<i64>(), v.parse::<i64>()) {
                (Ok(a), Ok(b)) => a == b,
                _ => key == v,
            },
        }
    };
    Some(values.iter().any(|v| one(v)))
}

/// Is `keyword` a Unique key of the model whose C-FIND SOP Class is `find_class` (PS3.4 §C.6.1.1,
/// §C.6.2.1): the instance, series and study UIDs in both, the Patient ID in Patient Root only
/// (in Study Root it is a Required key of the study level).
pub fn is_unique(keyword: &str, find_class: &str) -> bool {
    match keyword {
        "StudyInstanceUID" | "SeriesInstanceUID" | "SOPInstanceUID" => true,
        "PatientID" => {
            find_class.trim_end_matches(['\0', ' '])
                == dicom_dictionary_std::uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND
        }
        _ => false,
    }
}

/// The unique key of a Query/Retrieve Level (PS3.4 §C.6.1.1, §C.6.2.1), by keyword.
pub fn unique_key(level: &str) -> Option<&'static str> {
    Some(match clean(level) {
        "PATIENT" => "PatientID",
        "STUDY" => "StudyInstanceUID",
        "SERIES" => "SeriesInstanceUID",
        "IMAGE" => "SOPInstanceUID",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As a Required key.
    fn satisfies_r(keyword: &str, key: &str, value: &str) -> Option<bool> {
        satisfies(keyword, key, value, false)
    }

    #[test]
    fn single_values_lists_wildcards_and_ranges() {
        assert_eq!(satisfies_r("PatientID", "P1", "P1 "), Some(true));
        assert_eq!(satisfies_r("PatientID", "P1", "P2"), Some(false));
        assert_eq!(satisfies_r("PatientID", "p1", "P1"), Some(false));
        assert_eq!(satisfies_r("PatientID", "", "P2"), None);
        // A Required key the SCP has no value for is unknown, and matches (§C.2.2.1.2); a
        // Unique key always has one.
        assert_eq!(satisfies_r("PatientID", "P1", ""), Some(true));
        assert_eq!(satisfies("PatientID", "P1", "", true), Some(false));
        assert_eq!(satisfies("StudyInstanceUID", "1.2", " ", true), Some(false));
        assert_eq!(satisfies_r("PatientName", "Doe*", "DOE^JOHN"), Some(true));
        assert_eq!(satisfies_r("PatientName", "Doe*", "Roe^Jane"), Some(false));
        assert_eq!(satisfies_r("PatientName", "D?e^J*", "Doe^Jane"), Some(true));
        assert_eq!(satisfies_r("PatientName", "*", "anything"), None);
        assert_eq!(
            satisfies_r("StudyInstanceUID", "1.2\\1.3", "1.3"),
            Some(true)
        );
        assert_eq!(
            satisfies_r("StudyInstanceUID", "1.2\\1.3", "1.4"),
            Some(false)
        );
        assert_eq!(
            satisfies_r("StudyDate", "20260101-20260120", "20260115"),
            Some(true)
        );
        assert_eq!(
            satisfies_r("StudyDate", "20260101-20260120", "20260122"),
            Some(false)
        );
        assert_eq!(
            satisfies_r("StudyDate", "-20260120", "20250101"),
            Some(true)
        );
        assert_eq!(
            satisfies_r("StudyDate", "20260101-", "20250101"),
            Some(false)
        );
        assert_eq!(satisfies_r("Modality", "MR", "CT\\MR"), Some(true));
        assert_eq!(satisfies_r("SeriesNumber", "2", "02"), Some(true));
        assert_eq!(satisfies_r("SeriesNumber", "2", "3"), Some(false));
        assert_eq!(satisfies_r("StudyDescription", "x", "y"), None);
        assert!(wildcard(&['*', '*', 'a'], &['b', 'a']));
        assert!(!wildcard(&['a', '?'], &['a']));
        assert_eq!(unique_key("SERIES"), Some("SeriesInstanceUID"));
        assert!(is_unique("PatientID", "1.2.840.10008.5.1.4.1.2.1.1"));
        assert!(!is_unique("PatientID", "1.2.840.10008.5.1.4.1.2.2.1"));
        assert!(is_unique(
            "SeriesInstanceUID",
            "1.2.840.10008.5.1.4.1.2.2.1"
        ));
        assert_eq!(unique_key("FRAME"), None);
    }

    #[test]
    fn person_names_match_as_the_standard_lets_an_scp_match_them() {
        // Case, trailing empty components and component groups.
        assert_eq!(
            satisfies_r("PatientName", "doe^jane", "DOE^JANE^^^"),
            Some(true)
        );
        assert_eq!(
            satisfies_r("PatientName", "Yamada^Tarou", "Yamada^Tarou=YAMADA^TAROU"),
            Some(true)
        );
        assert_eq!(
            satisfies_r("PatientName", "Doe*", "Roe^Jane=Doe^Jane"),
            Some(true)
        );
        assert_eq!(satisfies_r("PatientName", "Doe*", "Roe^Jane"), Some(false));
        // Accent-insensitive matching is allowed and not computed here: not judged.
        assert_eq!(satisfies_r("PatientName", "Doe*", "Dö^Jane"), None);
        assert_eq!(satisfies_r("PatientName", "Müller*", "Roe^Jane"), None);
    }
}
