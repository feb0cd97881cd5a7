//! FHIR R4 date search (search.html §3.1.1.4.7 and the prefixes of §3.1.1.4.5): the range of
//! instants a date, dateTime or instant stands for, and whether a resource's value matches a
//! prefixed search value.
//!
//! Both sides are ranges set by their precision (`2026` is the whole year, `2026-01-20` the whole
//! day, an instant one second: fractional seconds "MAY be ignored by servers"), and a Period is the
//! range from its start to its end, open where a bound is missing. Each prefix compares the two
//! ranges (`ge`: the range above the search value overlaps the target, or the search value
//! contains it). What the standard leaves open is the time zone of a value that has none: "where
//! both search parameters and resource element date times do not have time zones, the servers
//! local time zone should be assumed", which a client cannot know; and when only one side has a
//! zone, R4 says nothing. So a comparison between a zoned and an unzoned value is made for every
//! offset a zone can have (-14:00 to +14:00), and the answer says whether the value matches under
//! every such reading, under some, or under none. A judge fails a server only for a match it
//! returned under no reading, and misses one only when it matches under every reading.

/// How a resource value stands to a search value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateMatch {
    /// It matches under every reading the standard allows.
    Always,
    /// It matches under some readings only (the time zone of an unzoned value), or the value
    /// cannot be read: a server may return it or not.
    Depends,
    /// It matches under no reading.
    Never,
}

/// The search parameters of DocumentReference (ITI-67) and List (ITI-66) whose type is date.
pub fn is_date_param(name: &str) -> bool {
    matches!(
        name.split(':').next().unwrap_or(name),
        "date" | "period" | "creation"
    )
}

/// A range of instants `[lo, hi)` in seconds, UTC when `zoned`, else in an unknown zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    lo: i128,
    hi: i128,
    zoned: bool,
}

/// Far beyond any instant a four-digit year gives: an open end of a Period.
const OPEN: i128 = 1 << 80;
/// The widest offset a time zone has, in seconds (UTC+14:00; the most negative is -12:00).
const MAX_OFFSET: i128 = 14 * 3600;

fn digits(s: &str, n: usize) -> Option<(i128, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn leap(y: i128) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i128, m: i128) -> i128 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl DateRange {
    /// Read a FHIR date, dateTime or instant (`YYYY[-MM[-DD[Thh:mm[:ss[.f]][Z|±hh:mm]]]]`; the
    /// search syntax allows a time without seconds). None when it is none of these.
    pub fn parse(v: &str) -> Option<DateRange> {
        let v = v.trim();
        let (y, rest) = digits(v, 4)?;
        let at = |y: i128, m: i128, d: i128| days_from_civil(y, m, d) * 86_400;
        if rest.is_empty() {
            return Some(DateRange {
                lo: at(y, 1, 1),
                hi: at(y + 1, 1, 1),
                zoned: false,
            });
        }
        let (m, rest) = digits(rest.strip_prefix('-')?, 2)?;
        if !(1..=12).contains(&m) {
            return None;
        }
        if rest.is_empty() {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            return Some(DateRange {
                lo: at(y, m, 1),
                hi: at(ny, nm, 1),
                zoned: false,
            });
        }
        let (d, rest) = digits(rest.strip_prefix('-')?, 2)?;
        if d < 1 || d > days_in_month(y, m) {
            return None;
        }
        let day = at(y, m, d);
        if rest.is_empty() {
            return Some(DateRange {
                lo: day,
                hi: day + 86_400,
                zoned: false,
            });
        }
        let (hh, rest) = digits(rest.strip_prefix('T')?, 2)?;
        let (mm, mut rest) = digits(rest.strip_prefix(':')?, 2)?;
        if hh > 23 || mm > 59 {
            return None;
        }
        let mut lo = day + hh * 3600 + mm * 60;
        let mut width = 60;
        if let Some(r) = rest.strip_prefix(':') {
            let (ss, r) = digits(r, 2)?;
            if ss > 60 {
                return None;
            }
            lo += ss;
            width = 1;
            rest = r;
            if let Some(f) = rest.strip_prefix('.') {
                let n = f.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                rest = &f[n..];
            }
        }
        let offset = match rest {
            "" => None,
            "Z" => Some(0),
            _ => {
                let sign = match rest.as_bytes().first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return None,
                };
                let (oh, r) = digits(&rest[1..], 2)?;
                let (om, r) = digits(r.strip_prefix(':')?, 2)?;
                if !r.is_empty() || oh > 14 || om > 59 {
                    return None;
                }
                Some(sign * (oh * 3600 + om * 60))
            }
        };
        Some(DateRange {
            lo: lo - offset.unwrap_or(0),
            hi: lo - offset.unwrap_or(0) + width,
            zoned: offset.is_some(),
        })
    }

    /// The range of a Period: from its start to its end, open where either is missing (R4
    /// datatypes.html#Period: "If the end of the period is missing, it means that the period is
    /// ongoing"). None when a bound that is present cannot be read.
    pub fn period(start: Option<&str>, end: Option<&str>) -> Option<DateRange> {
        let s = start.map(DateRange::parse);
        let e = end.map(DateRange::parse);
        let (s, e) = (s.map(|x| x.ok_or(())), e.map(|x| x.ok_or(())));
        let s = s.transpose().ok()?;
        let e = e.transpose().ok()?;
        Some(DateRange {
            lo: s.map_or(-OPEN, |r| r.lo),
            hi: e.map_or(OPEN, |r| r.hi),
            // An unzoned bound makes the whole period's place uncertain.
            zoned: s.is_none_or(|r| r.zoned) && e.is_none_or(|r| r.zoned),
        })
    }
}

/// Does `target` match the search value `value` (`[prefix]date`, or several joined by `,`, any of
/// which may match)? None when the search value cannot be read.
pub fn judge(value: &str, target: DateRange) -> Option<DateMatch> {
    let mut best: Option<DateMatch> = None;
    for v in value.split(',') {
        let m = judge_one(v, target)?;
        best = Some(match (best, m) {
            (Some(DateMatch::Always), _) | (_, DateMatch::Always) => DateMatch::Always,
            (Some(DateMatch::Depends), _) | (_, DateMatch::Depends) => DateMatch::Depends,
            _ => DateMatch::Never,
        });
    }
    best
}

fn judge_one(value: &str, t: DateRange) -> Option<DateMatch> {
    let (prefix, rest) = match value.get(..2) {
        Some(p @ ("eq" | "ne" | "gt" | "lt" | "ge" | "le" | "sa" | "eb" | "ap")) => {
            (p, &value[2..])
        }
        _ => ("eq", value),
    };
    let s = DateRange::parse(rest)?;
    // d: how far the target is moved against the search value by the zones the text leaves to the
    // server. Both zoned, or both unzoned (the server's one zone for both): no freedom.
    let reach = if s.zoned == t.zoned || t.lo == -OPEN && t.hi == OPEN {
        0
    } else {
        MAX_OFFSET
    };
    // The d for which each relation holds (target moved by d; integer seconds).
    let a = s.lo - t.lo; // eq needs d >= a (search starts at or before the target)
    let b = s.hi - t.hi; // eq needs d <= b (target ends at or before the search value)
    let inside = (a <= b).then_some((a, b));
    let up = OPEN * 4;
    // Each prefix as R4 defines it, and (for ge and le) as servers also read it: R4's ge is "the
    // range above the search value overlaps the target, or the search value contains it", which
    // leaves out a target that straddles the search value's start (a period from the 10th to the
    // 12th for ge2026-01-12); servers that read ge as "overlaps the search value or what is above
    // it" return it. R4 decides what must be returned; what one of these readings returns is not
    // judged a wrong match.
    let (strict, loose): ((i128, i128), (i128, i128)) = match prefix {
        // The range of the search value fully contains the target's.
        "eq" => match inside {
            Some(r) => (r, r),
            None => return Some(DateMatch::Never),
        },
        "ne" => {
            return Some(match inside {
                None => DateMatch::Always,
                Some((x, y)) if y < -reach || x > reach => DateMatch::Always,
                Some((x, y)) if x <= -reach && y >= reach => DateMatch::Never,
                Some(_) => DateMatch::Depends,
            })
        }
        // The range above the search value overlaps the target (gt), or as eq (ge).
        "gt" => ((b + 1, up), (b + 1, up)),
        "ge" => (
            (inside.map_or(b + 1, |(x, _)| x), up),
            (s.lo - t.hi + 1, up),
        ),
        // The range below the search value overlaps the target (lt), or as eq (le).
        "lt" => ((-up, a - 1), (-up, a - 1)),
        "le" => (
            (-up, inside.map_or(a - 1, |(_, y)| y)),
            (-up, s.hi - t.lo - 1),
        ),
        // The target starts after / ends before the search value, without overlapping it.
        "sa" => ((s.hi - t.lo, up), (s.hi - t.lo, up)),
        "eb" => ((-up, s.lo - t.hi), (-up, s.lo - t.hi)),
        // Approximately: "the recommended value for the approximation is 10%", left to the system.
        _ => return Some(DateMatch::Depends),
    };
    Some(if strict.0 <= -reach && strict.1 >= reach {
        DateMatch::Always
    } else if loose.1 < -reach || loose.0 > reach {
        DateMatch::Never
    } else {
        DateMatch::Depends
    })
}

/// How a DocumentReference (ITI-67) or List (ITI-66) matches the date search parameter `name`
/// (`date`: the resource's `date`; `creation`: IHE DocumentReference-Creation on
/// `content.attachment.creation`, any of them; `period`: `context.period`). None when `name` is not
/// a date parameter or `value` cannot be read. A resource without the element never matches.
pub fn resource_matches(r: &serde_json::Value, name: &str, value: &str) -> Option<DateMatch> {
    use serde_json::Value;
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str)
    }
    let instant = |v: Option<&str>| -> Option<DateMatch> {
        match v {
            None => Some(DateMatch::Never),
            Some(v) => match DateRange::parse(v) {
                Some(t) => judge(value, t),
                None => judge(value, DateRange::period(None, None)?).map(|_| DateMatch::Depends),
            },
        }
    };
    match name.split(':').next().unwrap_or(name) {
        "date" => instant(text(r.get("date"))),
        "creation" => {
            let mut best = Some(DateMatch::Never);
            for c in r
                .get("content")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                let m = instant(text(c.pointer("/attachment/creation")))?;
                best = best.map(|b| match (b, m) {
                    (DateMatch::Always, _) | (_, DateMatch::Always) => DateMatch::Always,
                    (DateMatch::Depends, _) | (_, DateMatch::Depends) => DateMatch::Depends,
                    _ => DateMatch::Never,
                });
            }
            best
        }
        "period" => {
            let Some(p) = r.pointer("/context/period") else {
                return Some(DateMatch::Never);
            };
            match DateRange::period(text(p.get("start")), text(p.get("end"))) {
                Some(t) => judge(value, t),
                None => judge(value, DateRange::period(None, None)?).map(|_| DateMatch::Depends),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn j(value: &str, target: &str) -> DateMatch {
        judge(value, DateRange::parse(target).unwrap()).unwrap()
    }

    #[test]
    fn ranges_follow_the_precision() {
        let r = |v: &str| DateRange::parse(v).unwrap();
        assert_eq!(r("2026").hi - r("2026").lo, 365 * 86_400);
        assert_eq!(r("2024-02").hi - r("2024-02").lo, 29 * 86_400);
        assert_eq!(r("2026-01-20").hi - r("2026-01-20").lo, 86_400);
        assert_eq!(r("2026-01-20T10:00Z").hi - r("2026-01-20T10:00Z").lo, 60);
        assert_eq!(
            r("2026-01-20T10:00:00.123Z").lo,
            r("2026-01-20T10:00:00Z").lo
        );
        assert_eq!(
            r("2026-01-20T11:00:00+01:00").lo,
            r("2026-01-20T10:00:00Z").lo
        );
        assert_eq!(r("1970-01-01T00:00:00Z").lo, 0);
        for bad in [
            "",
            "26",
            "2026-13",
            "2026-02-30",
            "2026-01-20T25:00",
            "2026-01-20T10",
            "2026-01-20Tx",
            "2026-01-20T10:00:00+1",
            "é2026",
            "2026-01-20T10:00:00.Z",
        ] {
            assert_eq!(DateRange::parse(bad), None, "{bad}");
        }
    }

    /// R4 §3.1.1.4.7 with zoned values on both sides: the prefixes compare ranges exactly.
    #[test]
    fn prefixes_compare_ranges() {
        let t = "2026-01-20T10:00:00Z";
        assert_eq!(j("ge2026-01-20T00:00Z", t), DateMatch::Always);
        assert_eq!(j("gt2026-01-20T10:00:00Z", t), DateMatch::Never);
        assert_eq!(j("ge2026-01-20T10:00:00Z", t), DateMatch::Always);
        assert_eq!(j("lt2026-01-20T10:00:00Z", t), DateMatch::Never);
        assert_eq!(j("le2026-01-20T10:00:00Z", t), DateMatch::Always);
        assert_eq!(j("lt2026-01-20T10:00:01Z", t), DateMatch::Always);
        assert_eq!(j("eq2026-01-20T10:00:00Z", t), DateMatch::Always);
        assert_eq!(j("ne2026-01-20T10:00:00Z", t), DateMatch::Never);
        assert_eq!(j("sa2026-01-20T09:59:59Z", t), DateMatch::Always);
        assert_eq!(j("eb2026-01-20T10:00:00Z", t), DateMatch::Never);
        assert_eq!(j("eb2026-01-20T10:00:01Z", t), DateMatch::Always);
        // ap is left to the server.
        assert_eq!(j("ap2026-01-20T10:00:00Z", t), DateMatch::Depends);
        // Several values: any.
        assert_eq!(
            j("lt2020-01-01T00:00Z,ge2026-01-01T00:00Z", t),
            DateMatch::Always
        );
    }

    /// A date without a zone against an instant with one: the server's zone decides near the
    /// bound, never far from it.
    #[test]
    fn an_unzoned_search_value_leaves_the_zone_to_the_server() {
        // 23:00 at -05:00 is 04:00 UTC the next day: a UTC server returns it for ge that day.
        let late = "2026-01-19T23:00:00-05:00";
        assert_eq!(j("ge2026-01-20", late), DateMatch::Depends);
        assert_eq!(j("ge2026-01-19", late), DateMatch::Always);
        assert_eq!(j("ge2026-01-21", late), DateMatch::Never);
        assert_eq!(j("lt2026-01-20", late), DateMatch::Depends);
        assert_eq!(j("2026-01-19", late), DateMatch::Depends);
        assert_eq!(
            j("le2026-01-31", "2026-01-22T10:00:00+01:00"),
            DateMatch::Always
        );
        // A partial date: the year, the month.
        assert_eq!(j("ge2026", "2026-06-15T10:00:00Z"), DateMatch::Always);
        assert_eq!(j("le2025", "2026-06-15T10:00:00Z"), DateMatch::Never);
        assert_eq!(j("2026-06", "2026-06-15T10:00:00Z"), DateMatch::Always);
        // Both unzoned: the server's one zone for both.
        assert_eq!(j("ge2026-01-20", "2026-01-20"), DateMatch::Always);
        assert_eq!(j("gt2026-01-20", "2026-01-20"), DateMatch::Never);
    }

    #[test]
    fn periods_and_missing_elements() {
        let dr = json!({
            "resourceType": "DocumentReference",
            "date": "2026-01-15T10:00:00+01:00",
            "content": [{"attachment": {"creation": "2026-01-15T09:00:00+01:00"}}],
            "context": {"period": {"start": "2026-01-22T10:00:00+01:00"}}
        });
        let m = |n: &str, v: &str| resource_matches(&dr, n, v).unwrap();
        assert_eq!(m("date", "ge2026-01-20"), DateMatch::Never);
        assert_eq!(m("date", "le2026-01-20"), DateMatch::Always);
        // A day without a zone holds an instant only for the zones that put it in that day.
        assert_eq!(m("creation", "2026-01-15"), DateMatch::Depends);
        assert_eq!(m("creation", "ge2026-01-14"), DateMatch::Always);
        assert_eq!(m("creation", "2026-01-15T08:00:00Z"), DateMatch::Always);
        // A period that straddles the start of the search value: R4's ge leaves it out, a server
        // reading ge as "from the search value on" returns it.
        let mut ended = dr.clone();
        ended["context"]["period"] =
            json!({"start": "2026-01-10T08:00:00Z", "end": "2026-01-12T00:00:30Z"});
        let e = |v: &str| resource_matches(&ended, "period", v).unwrap();
        assert_eq!(e("ge2026-01-12T00:00Z"), DateMatch::Depends);
        assert_eq!(e("ge2026-01-12T10:00:00Z"), DateMatch::Never);
        assert_eq!(e("le2026-01-12T09:00:00Z"), DateMatch::Always);
        assert_eq!(e("le2026-01-10T09:00:00Z"), DateMatch::Always);
        assert_eq!(e("le2026-01-10T07:00:00Z"), DateMatch::Never);
        assert_eq!(e("le2026-01-10T08:00Z"), DateMatch::Depends);
        assert_eq!(e("ge2026-01-01T00:00:00Z"), DateMatch::Always);
        // An ongoing period overlaps everything after its start.
        assert_eq!(m("period", "ge2027-01-01"), DateMatch::Always);
        assert_eq!(m("period", "lt2026-01-01"), DateMatch::Never);
        assert_eq!(m("period", "eq2026-01-22"), DateMatch::Never);
        let none = json!({"resourceType": "DocumentReference"});
        for p in ["date", "creation", "period"] {
            assert_eq!(
                resource_matches(&none, p, "ge2026"),
                Some(DateMatch::Never),
                "{p}"
            );
        }
        let odd = json!({"date": "yesterday"});
        assert_eq!(
            resource_matches(&odd, "date", "ge2026"),
            Some(DateMatch::Depends)
        );
        assert_eq!(resource_matches(&dr, "status", "current"), None);
        assert_eq!(resource_matches(&dr, "date", "ge20x6"), None);
        assert!(is_date_param("period") && !is_date_param("patient"));
    }
}
