//! QIDO-RS (RAD-129) checks: required attributes, paging and its Warning, identity of the results,
//! matching and status (PS3.18 §10.6).

use super::*;

/// Required return attributes per level (PS3.18 Tables 10.6.3-3/-4/-5, as the project reads them).
pub fn required_attributes(level: QidoLevel) -> &'static [(u32, &'static str)] {
    match level {
        QidoLevel::Study => &[
            (0x0008_0020, "StudyDate"),
            (0x0008_0030, "StudyTime"),
            (0x0008_0050, "AccessionNumber"),
            (0x0008_0061, "ModalitiesInStudy"),
            (0x0008_0090, "ReferringPhysicianName"),
            (0x0010_0010, "PatientName"),
            (0x0010_0020, "PatientID"),
            (0x0010_0030, "PatientBirthDate"),
            (0x0010_0040, "PatientSex"),
            (0x0020_000D, "StudyInstanceUID"),
            (0x0020_0010, "StudyID"),
            (0x0020_1206, "NumberOfStudyRelatedSeries"),
            (0x0020_1208, "NumberOfStudyRelatedInstances"),
        ],
        QidoLevel::Series => &[
            (0x0008_0060, "Modality"),
            (0x0020_000E, "SeriesInstanceUID"),
            (0x0020_0011, "SeriesNumber"),
            (0x0020_1209, "NumberOfSeriesRelatedInstances"),
        ],
        QidoLevel::Instance => &[
            (0x0008_0016, "SOPClassUID"),
            (0x0008_0018, "SOPInstanceUID"),
            (0x0020_0013, "InstanceNumber"),
        ],
    }
}

/// The unique key of a level.
pub fn unique_key(level: QidoLevel) -> u32 {
    match level {
        QidoLevel::Study => 0x0020_000D,
        QidoLevel::Series => 0x0020_000E,
        QidoLevel::Instance => 0x0008_0018,
    }
}

pub(super) fn qido_results(s: &Subject<'_>) -> Result<Vec<serde_json::Value>, Verdict> {
    match s.exchange.status() {
        Some(204) => return Ok(Vec::new()),
        Some(200) => {}
        _ => return Err(Verdict::na("no 200 response to judge")),
    }
    match json_body(s.exchange) {
        Ok(serde_json::Value::Array(items)) => Ok(items),
        Ok(_) => Err(Verdict::fail(
            "a JSON array of results",
            "another JSON value",
        )),
        Err(e) => Err(Verdict::fail("a JSON array of results", e.to_string())),
    }
}

/// The level and the results of a QIDO-RS query, or the verdict when there is none to judge.
pub(super) fn query_results(
    s: &Subject<'_>,
) -> Result<(QidoLevel, Vec<serde_json::Value>), Verdict> {
    let Some(level) = s.expect.qido_level else {
        return Err(Verdict::na("not a QIDO-RS query"));
    };
    Ok((level, qido_results(s)?))
}

pub(super) fn result_uids(items: &[serde_json::Value], level: QidoLevel) -> Vec<String> {
    items
        .iter()
        .filter_map(|d| dicom_json::first_string(d, unique_key(level)))
        .collect()
}

pub(super) fn dw07_qido_required(s: &Subject<'_>) -> Verdict {
    let (level, items) = match query_results(s) {
        Ok(q) => q,
        Err(v) => return v,
    };
    if items.is_empty() {
        return Verdict::na("no results to judge");
    }
    for (n, item) in items.iter().enumerate() {
        let mut missing: Vec<String> = required_attributes(level)
            .iter()
            .filter(|(tag, _)| dicom_json::attr(item, *tag).is_none())
            .map(|(_, name)| name.to_string())
            .collect();
        // An includefield attribute that is not required at the level is returned only "if
        // supported by the origin server" (PS3.18 §10.6.3.3.1 to §10.6.3.3.3: "All other ...
        // Attributes passed as match or includefield parameters in the request that are
        // supported by the origin server"), and which are is the Conformance Statement's to
        // say: its absence is not judged.
        if dicom_json::first_string(item, unique_key(level)).is_none()
            && !missing.iter().any(|m| m.ends_with("InstanceUID"))
        {
            missing.push(format!(
                "a value for {}",
                dicom_json::tag_key(unique_key(level))
            ));
        }
        if !missing.is_empty() {
            return Verdict::fail(
                "every required return attribute",
                format!("result {} lacks {}", n + 1, missing.join(", ")),
            );
        }
    }
    Verdict::Pass
}

/// The level, the unpaged matches and the results of a paged QIDO-RS query (DW-08, DW-25), or
/// the verdict when there is no page to judge: no paging expectation, no `limit` or `offset`
/// sent, matches that changed while the pages were asked for (PS3.18 §8.3.4.4.1: paged results
/// may then be inconsistent), or no JSON array of results.
pub(super) fn paged_results<'a>(
    s: &Subject<'a>,
) -> Result<(QidoLevel, &'a [String], Vec<serde_json::Value>), Verdict> {
    let (Some(level), Some(unpaged)) = (s.expect.qido_level, &s.expect.unpaged) else {
        return Err(Verdict::na("no paging expectation"));
    };
    if s.expect.limit.is_none() && s.expect.offset.is_none() {
        return Err(Verdict::na("no limit or offset sent"));
    }
    if s.expect
        .unpaged_after
        .as_ref()
        .is_some_and(|a| a != unpaged)
    {
        return Err(Verdict::na(
            "the matches changed while the pages were asked for",
        ));
    }
    Ok((level, unpaged.as_slice(), qido_results(s)?))
}

pub(super) fn dw08_paging(s: &Subject<'_>) -> Verdict {
    let (level, unpaged, items) = match paged_results(s) {
        Ok(p) => p,
        Err(v) => return v,
    };
    let got = result_uids(&items, level);
    let offset = s.expect.offset.unwrap_or(0);
    let limit = s.expect.limit.unwrap_or(usize::MAX);
    if got.len() > limit {
        return Verdict::fail(
            format!("at most {limit} results"),
            format!("{} results", got.len()),
        );
    }
    let want: Vec<String> = unpaged.iter().skip(offset).take(limit).cloned().collect();
    // Fewer than the page holds only when the origin server's own maximum applies, and then
    // the remaining matches are announced in a Warning header (PS3.18 §8.3.4.4.1).
    let warned = has_warning(s.exchange);
    if got.len() < want.len() && warned && want.starts_with(&got) {
        return Verdict::Pass;
    }
    if got != want {
        return Verdict::fail(
            format!(
                "results {}..{} of the unpaged list ({})",
                offset + 1,
                offset + want.len(),
                abbreviate(&want).join(", ")
            ),
            abbreviate(&got).join(", "),
        );
    }
    Verdict::Pass
}

/// What the harness knows of an entity it stored, for the QIDO-RS results that name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownEntity {
    /// Study: the Modalities in Study include these; series: its Modality (one).
    pub modalities: BTreeSet<String>,
    /// Series Number (series level).
    pub series_number: Option<i64>,
    /// Instance Number (instance level).
    pub instance_number: Option<i64>,
    /// SOP Class UID (instance level).
    pub sop_class: Option<String>,
    /// Study level: at least this many related series.
    pub related_series: Option<usize>,
    /// Study and series level: at least this many related instances.
    pub related_instances: Option<usize>,
}

/// An IS or US value of a DICOM JSON attribute, as a Number or a String (PS3.18 §F.2.3).
pub(super) fn int_value(item: &serde_json::Value, tag: u32) -> Option<i64> {
    match dicom_json::values(item, tag)?.first()? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// DW-26. A result is about the entity its unique key names (PS3.18 §10.6.3.3: the attributes
/// "for each matching" Study, Series or Instance): for one of the test data, the values no
/// Storage SCP coerces (Modality, Series and Instance Number, SOP Class UID) are the stored ones,
/// Modalities in Study holds every Modality of its series (PS3.4 §C.3.4), and the Number of
/// Study or Series Related Series or Instances counts at least the fixture's (more when the SUT
/// holds more of that study: a PACS may add objects of its own).
/// An attribute a result lacks is DW-07's to judge.
pub(super) fn dw26_qido_identity(s: &Subject<'_>) -> Verdict {
    let (level, items) = match query_results(s) {
        Ok(q) => q,
        Err(v) => return v,
    };
    let mut judged = 0;
    for (n, item) in items.iter().enumerate() {
        let Some(uid) = dicom_json::first_string(item, unique_key(level)) else {
            continue;
        };
        let Some(known) = s.expect.qido_known.get(&uid) else {
            continue;
        };
        judged += 1;
        let strings = |tag: u32| -> Option<Vec<String>> {
            dicom_json::values(item, tag).map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
        };
        let what = match level {
            QidoLevel::Study => "Study",
            QidoLevel::Series => "Series",
            QidoLevel::Instance => "SOP Instance",
        };
        let fail = |expected: String, actual: String| {
            Verdict::fail(
                expected,
                format!("result {} ({what} {uid}) has {actual}", n + 1),
            )
        };
        match level {
            QidoLevel::Study => {
                if let Some(got) = strings(0x0008_0061) {
                    let missing: Vec<&String> = known
                        .modalities
                        .iter()
                        .filter(|m| !got.contains(m))
                        .collect();
                    if !missing.is_empty() {
                        return fail(
                            format!(
                                "Modalities in Study (0008,0061) with every modality of the study: {}",
                                known.modalities.iter().cloned().collect::<Vec<_>>().join(", ")
                            ),
                            format!("{} (no {})", got.join(", "), missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")),
                        );
                    }
                }
            }
            QidoLevel::Series => {
                if let (Some(want), Some(got)) = (known.modalities.first(), strings(0x0008_0060)) {
                    if got.first() != Some(want) {
                        return fail(
                            format!("Modality (0008,0060) {want}"),
                            format!("Modality {}", got.join(", ")),
                        );
                    }
                }
                if let (Some(want), Some(got)) = (known.series_number, int_value(item, 0x0020_0011))
                {
                    if got != want {
                        return fail(
                            format!("Series Number (0020,0011) {want}"),
                            format!("Series Number {got}"),
                        );
                    }
                }
            }
            QidoLevel::Instance => {
                if let (Some(want), Some(got)) = (&known.sop_class, strings(0x0008_0016)) {
                    if got.first() != Some(want) {
                        return fail(
                            format!("SOP Class UID (0008,0016) {want}"),
                            format!("SOP Class UID {}", got.join(", ")),
                        );
                    }
                }
                if let (Some(want), Some(got)) =
                    (known.instance_number, int_value(item, 0x0020_0013))
                {
                    if got != want {
                        return fail(
                            format!("Instance Number (0020,0013) {want}"),
                            format!("Instance Number {got}"),
                        );
                    }
                }
            }
        }
        let counts = [
            (
                "Number of Study Related Series (0020,1206)",
                0x0020_1206_u32,
                known.related_series,
            ),
            (
                if level == QidoLevel::Study {
                    "Number of Study Related Instances (0020,1208)"
                } else {
                    "Number of Series Related Instances (0020,1209)"
                },
                if level == QidoLevel::Study {
                    0x0020_1208
                } else {
                    0x0020_1209
                },
                known.related_instances,
            ),
        ];
        for (name, tag, at_least) in counts {
            let (Some(at_least), Some(got)) = (at_least, int_value(item, tag)) else {
                continue;
            };
            if got < at_least as i64 {
                return fail(
                    format!("{name} of at least {at_least}, the test data's count"),
                    format!("{got}"),
                );
            }
        }
    }
    if judged == 0 {
        return Verdict::na("no result names a test-data entity");
    }
    Verdict::Pass
}

/// DW-25. PS3.18 §8.3.4.4.1 defines `remaining` as "the number of matches that were not yet
/// returned" and says: "If (remaining > 0) the response shall include a Warning header field
/// (see RFC 7234 Section 5.5) containing the following: `Warning: 299 <service>: There are
/// <remaining> additional results that can be requested`". The rule does not depend on what cut
/// the page: `results` is the minimum of `matches - offset`, `maxResults` and `limit`, so a page
/// cut by `limit` leaves matches remaining as much as one cut by the server's own maximum.
///
/// Reading: the matches not yet returned are those after the page (offset + results onwards);
/// the ones before `offset` are those earlier pages returned. Only that case is judged: a page
/// that reaches the end of the matches is not judged either way. The harness knows the matches
/// from the unpaged query of the same search (possibly cut by the server's maximum, so the count
/// it derives is a lower bound): a page with fewer results after it than the harness sees needs
/// the header. The header must hold a warning-value with warn-code 299; the wording is not
/// judged, but a text that states a number of additional results must not state fewer than
/// remain after the page. Not judged when the matches changed while the pages were asked for
/// (§8.3.4.4.1: paged results may then be inconsistent).
pub(super) fn dw25_paging_warning(s: &Subject<'_>) -> Verdict {
    let (level, unpaged, items) = match paged_results(s) {
        Ok(p) => p,
        Err(v) => return v,
    };
    let offset = s.expect.offset.unwrap_or(0);
    let returned = result_uids(&items, level).len();
    let remaining = unpaged
        .len()
        .saturating_sub(offset.saturating_add(returned));
    if remaining == 0 {
        return Verdict::na("no match remains after this page");
    }
    let expected = format!(
        "Warning: 299 <service>: There are {remaining} additional results that can be requested ({remaining} of the {} matches come after this page)",
        unpaged.len()
    );
    let values = warning_values(s.exchange);
    let Some(value) = values.iter().find(|v| warn_code(v) == Some("299")) else {
        let actual = if values.is_empty() {
            "no Warning header field".to_string()
        } else {
            format!("Warning: {}", bounded(&values.join(", "), 200))
        };
        return Verdict::fail(expected, actual);
    };
    if let Some(stated) = stated_additional(value) {
        if stated < remaining {
            return Verdict::fail(expected, format!("Warning: {}", bounded(value, 200)));
        }
    }
    Verdict::Pass
}

/// Every warning-value of the response's Warning header fields (RFC 7234 §5.5: a comma-separated
/// list; commas inside a quoted warn-text do not separate).
pub(super) fn warning_values(ex: &Exchange) -> Vec<String> {
    let Some(r) = ex.response.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (_, v) in r
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("warning"))
    {
        let mut current = String::new();
        let mut quoted = false;
        let mut escaped = false;
        for ch in v.chars() {
            match ch {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    out.push(std::mem::take(&mut current).trim().to_string());
                    continue;
                }
                _ => {}
            }
            current.push(ch);
        }
        out.push(current.trim().to_string());
    }
    out.retain(|v| !v.is_empty());
    out
}

/// The warn-code of a warning-value: its first token.
pub(super) fn warn_code(value: &str) -> Option<&str> {
    value.split_whitespace().next()
}

/// The number in "There are N additional results", when the text states one.
pub(super) fn stated_additional(value: &str) -> Option<usize> {
    let lower = value.to_ascii_lowercase();
    let at = lower.find("there are ")? + "there are ".len();
    let rest = &lower[at..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !rest[digits.len()..].trim_start().starts_with("additional") {
        return None;
    }
    digits.parse().ok()
}

/// At most `max` characters of a text from the SUT, with an ellipsis when cut.
pub(super) fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

pub(super) fn abbreviate(uids: &[String]) -> Vec<String> {
    uids.iter()
        .map(|u| {
            let chars = u.chars().count();
            if chars > 16 {
                // The last 12 characters (a value from the SUT need not be ASCII).
                format!("…{}", u.chars().skip(chars - 12).collect::<String>())
            } else {
                u.clone()
            }
        })
        .collect()
}

/// The first three of `items`, comma-separated: the ones a message names of a longer list.
pub(super) fn first_three<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .take(3)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn has_warning(ex: &Exchange) -> bool {
    ex.response
        .as_ref()
        .map(|r| {
            r.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("warning"))
        })
        .unwrap_or(false)
}

pub(super) fn dw09_no_silent_truncation(s: &Subject<'_>) -> Verdict {
    let (Some(level), Some(known)) = (s.expect.qido_level, &s.expect.known_matches) else {
        return Verdict::na("the harness does not know which matches the SUT holds");
    };
    if s.expect.limit.is_some() || s.expect.offset.is_some() {
        return Verdict::na("a paged query may return fewer results");
    }
    if s.exchange.status() == Some(413) {
        return Verdict::Pass;
    }
    let items = match qido_results(s) {
        Ok(i) => i,
        Err(v) => return v,
    };
    let got: BTreeSet<String> = result_uids(&items, level).into_iter().collect();
    let missing: Vec<&String> = known.difference(&got).collect();
    if missing.is_empty() {
        return Verdict::Pass;
    }
    if has_warning(s.exchange) {
        return Verdict::Pass;
    }
    Verdict::fail(
        format!(
            "all {} known matches, or 413, or a Warning header",
            known.len()
        ),
        format!("{} of them missing without a warning", missing.len()),
    )
}

/// Does a value match a QIDO/C-FIND matching key value (PS3.4 C.2.2.2)?
pub fn value_matches(key_value: &str, value: &str, is_pn: bool, is_date: bool) -> bool {
    if key_value.is_empty() {
        return true;
    }
    if is_date {
        if let Some((from, to)) = key_value.split_once('-') {
            let v = value.get(..8).unwrap_or(value);
            return (from.is_empty() || v >= from) && (to.is_empty() || v <= to);
        }
    }
    let list: Vec<&str> = key_value.split([',', '\\']).collect();
    if list.len() > 1 && !key_value.contains(['*', '?']) {
        return list.contains(&value);
    }
    if key_value.contains(['*', '?']) {
        let (k, v) = if is_pn {
            (key_value.to_lowercase(), value.to_lowercase())
        } else {
            (key_value.to_string(), value.to_string())
        };
        return wildcard(
            &k.chars().collect::<Vec<_>>(),
            &v.chars().collect::<Vec<_>>(),
        );
    }
    if is_pn {
        key_value.eq_ignore_ascii_case(value)
    } else {
        key_value == value
    }
}

pub(super) fn wildcard(p: &[char], v: &[char]) -> bool {
    // Iterative glob with single backtrack point: linear in practice, never recursive on SUT data.
    let (mut pi, mut vi, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Resolve a QIDO key (keyword or 8-hex tag) to a tag number.
pub fn qido_key_tag(key: &str) -> Option<u32> {
    if key.len() == 8 && key.chars().all(|c| c.is_ascii_hexdigit()) {
        return u32::from_str_radix(key, 16).ok();
    }
    dicom_dictionary_std::StandardDataDictionary
        .by_name(key)
        .map(|e| {
            let t = e.tag.inner();
            ((t.group() as u32) << 16) | t.element() as u32
        })
}

use dicom_core::dictionary::DataDictionary as _;

pub(super) fn dw19_qido_matching(s: &Subject<'_>) -> Verdict {
    if s.expect.qido_level.is_none() {
        return Verdict::na("not a QIDO-RS query");
    }
    let items = match qido_results(s) {
        Ok(i) => i,
        Err(v) => return v,
    };
    let keys: Vec<(u32, &str)> = s
        .expect
        .query
        .iter()
        .filter_map(|(k, v)| qido_key_tag(k).map(|t| (t, v.as_str())))
        .collect();
    if let Some((study, series)) = &s.expect.qido_path {
        for (n, item) in items.iter().enumerate() {
            let in_path = [
                (0x0020_000D_u32, "Study", Some(study)),
                (0x0020_000E_u32, "Series", series.as_ref()),
            ];
            for (tag, level, want) in in_path {
                let (Some(want), Some(got)) = (want, dicom_json::first_string(item, tag)) else {
                    continue;
                };
                if &got != want {
                    return Verdict::fail(
                        format!("results of the {level} Instance UID {want} in the resource path"),
                        format!("result {} has {level} Instance UID {got}", n + 1),
                    );
                }
            }
        }
    }
    let level = s.expect.qido_level.unwrap_or(QidoLevel::Study);
    for (n, item) in items.iter().enumerate() {
        for (tag, want) in &keys {
            let Some(attr) = dicom_json::attr(item, *tag) else {
                // A matching attribute is returned when the origin server supports it (PS3.18
                // §10.6.3.3.1 to §10.6.3.3.3); one that every result of the level must carry
                // (the unique key, a required attribute) cannot be missing.
                let required = *tag == unique_key(level)
                    || required_attributes(level).iter().any(|(t, _)| t == tag);
                if !required {
                    continue;
                }
                return Verdict::fail(
                    format!("matching key {} returned", dicom_json::tag_key(*tag)),
                    format!("result {} lacks it", n + 1),
                );
            };
            let vr = attr.get("vr").and_then(|v| v.as_str()).unwrap_or("");
            let values: Vec<String> = attr
                .get("Value")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| match x {
                            serde_json::Value::String(s) => Some(s.clone()),
                            serde_json::Value::Number(n) => Some(n.to_string()),
                            serde_json::Value::Object(o) => o
                                .get("Alphabetic")
                                .and_then(|a| a.as_str())
                                .map(str::to_string),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let ok = values
                .iter()
                .any(|v| value_matches(want, v, vr == "PN", matches!(vr, "DA" | "DT")));
            if !ok {
                return Verdict::fail(
                    format!("{}={want}", dicom_json::tag_key(*tag)),
                    format!("result {} has {}", n + 1, values.join(", ")),
                );
            }
        }
    }
    Verdict::Pass
}

pub(super) fn dw20_qido_status(s: &Subject<'_>) -> Verdict {
    let Some(status) = s.exchange.status() else {
        return Verdict::na("no response");
    };
    if let Some(v) = unexpected_status(s, status) {
        return v;
    }
    if status == 200 {
        let media = response_media(s.exchange).and_then(Result::ok);
        let essence = media.map(|m| m.essence).unwrap_or_default();
        if essence != "application/dicom+json" && essence != "application/json" {
            return Verdict::fail(
                "Content-Type application/dicom+json",
                if essence.is_empty() {
                    "none".to_string()
                } else {
                    essence
                },
            );
        }
        if let Err(v) = qido_results(s) {
            return v;
        }
    }
    Verdict::Pass
}
