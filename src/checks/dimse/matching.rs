//! Whether an identifier a peer returned satisfies the keys the harness asked with (DICOM PS3.4
//! §C.2.2.2, attribute matching), for the keys whose matching every Query/Retrieve SCP must support:
//! the Unique and Required keys of the Patient Root and Study Root models the harness sends
//! (PS3.4 §C.6.1.1, §C.6.2.1).
//!
//! The reading is the lenient one wherever the text leaves room: values are compared without
//! their leading and trailing spaces (PS3.5 §6.2: padding is not significant), a Person Name may
//! match without regard to case (PS3.4 §C.2.2.2.1 lets the SCP match PN insensitively), and a
//! multi-valued attribute matches when any of its values does.

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

/// Does the returned `value` of attribute `keyword` satisfy the request's `key`? `None` when the
/// harness does not judge this attribute or the key asks for nothing (universal matching).
pub fn satisfies(keyword: &str, key: &str, value: &str) -> Option<bool> {
    let kind = kind(keyword)?;
    let key = clean(key);
    if key.is_empty() || (kind != Kind::Uid && key.chars().all(|c| c == '*')) {
        return None;
    }
    let values: Vec<&str> = value.split('\\').map(clean).collect();
    let one = |v: &str| -> bool {
        match kind {
            Kind::Uid => key.split('\\').map(clean).any(|k| k == v),
            Kind::Text => text_matches(key, v, false),
            Kind::PersonName => text_matches(key, v, true),
            Kind::Date => date_matches(key, v),
            Kind::Integer => match (key.parse::<i64>(), v.parse::<i64>()) {
                (Ok(a), Ok(b)) => a == b,
                _ => key == v,
            },
        }
    };
    Some(values.iter().any(|v| !v.is_empty() && one(v)))
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

    #[test]
    fn single_values_lists_wildcards_and_ranges() {
        assert_eq!(satisfies("PatientID", "P1", "P1 "), Some(true));
        assert_eq!(satisfies("PatientID", "P1", "P2"), Some(false));
        assert_eq!(satisfies("PatientID", "p1", "P1"), Some(false));
        assert_eq!(satisfies("PatientID", "", "P2"), None);
        assert_eq!(satisfies("PatientID", "P1", ""), Some(false));
        assert_eq!(satisfies("PatientName", "Doe*", "DOE^JOHN"), Some(true));
        assert_eq!(satisfies("PatientName", "Doe*", "Roe^Jane"), Some(false));
        assert_eq!(satisfies("PatientName", "D?e^J*", "Doe^Jane"), Some(true));
        assert_eq!(satisfies("PatientName", "*", "anything"), None);
        assert_eq!(satisfies("StudyInstanceUID", "1.2\\1.3", "1.3"), Some(true));
        assert_eq!(
            satisfies("StudyInstanceUID", "1.2\\1.3", "1.4"),
            Some(false)
        );
        assert_eq!(
            satisfies("StudyDate", "20260101-20260120", "20260115"),
            Some(true)
        );
        assert_eq!(
            satisfies("StudyDate", "20260101-20260120", "20260122"),
            Some(false)
        );
        assert_eq!(satisfies("StudyDate", "-20260120", "20250101"), Some(true));
        assert_eq!(satisfies("StudyDate", "20260101-", "20250101"), Some(false));
        assert_eq!(satisfies("Modality", "MR", "CT\\MR"), Some(true));
        assert_eq!(satisfies("SeriesNumber", "2", "02"), Some(true));
        assert_eq!(satisfies("SeriesNumber", "2", "3"), Some(false));
        assert_eq!(satisfies("StudyDescription", "x", "y"), None);
        assert!(wildcard(&['*', '*', 'a'], &['b', 'a']));
        assert!(!wildcard(&['a', '?'], &['a']));
        assert_eq!(unique_key("SERIES"), Some("SeriesInstanceUID"));
        assert_eq!(unique_key("FRAME"), None);
    }
}
