//! DWUA-01..05: the SUT as DICOMweb user agent (a viewer, an Imaging Document Consumer, a STOW-RS
//! sender), judged on the requests the harness's origin server received
//! ([`crate::reference::dicomweb::origin`]).
//!
//! Each request is judged for itself: its Acceptable Media Types are ones the resource can be
//! (DWUA-01), its path is a PS3.18 resource with well-formed UIDs (DWUA-02), a search's query
//! parameters are attribute keys and the parameters PS3.18 defines (DWUA-03), a STOW-RS request
//! is a multipart body of PS3.10 objects of the study its URL names (DWUA-05). The scenario
//! also asks whether the SUT asked for what it was triggered to (DWUA-02, by the step).
//!
//! What PS3.18 leaves open is never failed: more alternatives than one in `Accept`, q-values,
//! wildcards, `application/json` beside (or instead of) `application/dicom+json`, the
//! `transfer-syntax` parameter, an absent `Accept` (the resource's default applies, §8.7.3), query
//! keys the origin server may not support (it ignores them, §8.3.4.1).

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::OpenFileOptions;

use super::qido_key_tag;
use crate::checks::{Subject, Verdict};
use crate::evidence::Exchange;
use crate::transport::media_type::{parse_accept, MediaType};
use crate::transport::multipart::{self, MultipartEvent, MultipartParser};

/// What the scenario that made the SUT act knows.
#[derive(Debug, Clone, Default)]
pub struct UaExpect {
    /// The path of the origin server's service base (`/origin/dicom-web`).
    pub base_path: String,
}

/// The kind of resource a request addresses (PS3.18 §10.4.1, §10.5.1, §10.6.1, §8.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The service root (`OPTIONS`, capabilities).
    Root,
    /// A search: studies, series or instances (QIDO-RS).
    Search,
    /// A study, series or instance as DICOM instances (WADO-RS), or the target of a STOW-RS.
    Instances,
    /// Metadata of a study, series or instance.
    Metadata,
    /// A rendered (or thumbnail) study, series, instance or frames.
    Rendered,
    /// Bulk data or pixel data of a study, series or instance, or a BulkDataURI.
    Bulkdata,
    /// Frames of an instance.
    Frames,
}

/// What a request's path addresses, with the UIDs named in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    /// The resource kind.
    pub resource: Resource,
    /// Study, series, instance UIDs named, in order.
    pub uids: Vec<String>,
}

/// A UID as PS3.5 §9.1 writes it: 1 to 64 characters, components of digits without a leading
/// zero, separated by dots.
pub fn well_formed_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 64
        && uid.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_digit())
                && (c == "0" || !c.starts_with('0'))
        })
}

/// The path of a request URL (without query), percent-decoding left to the segments.
fn url_path(url: &str) -> &str {
    let no_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = match no_scheme.find('/') {
        Some(i) => &no_scheme[i..],
        None => "/",
    };
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The query pairs of a request URL, decoded.
pub fn url_query(url: &str) -> Vec<(String, String)> {
    match url.split_once('?') {
        Some((_, q)) => url::form_urlencoded::parse(q.split('#').next().unwrap_or(q).as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        None => Vec::new(),
    }
}

/// Classify the path of a request below the service base `base_path` (PS3.18 §10.4.1 Table
/// 10.4.1-1 and its sub-resources, §10.6.1 Table 10.6.1-1, §10.5.1, §8.9), or say why it is no
/// PS3.18 resource.
pub fn classify(path: &str, base_path: &str) -> Result<Addressed, String> {
    let Some(below) = path.strip_prefix(base_path) else {
        return Err(format!(
            "a path below the service base {base_path}, as given to the SUT"
        ));
    };
    if !below.is_empty() && !below.starts_with('/') {
        return Err(format!(
            "a path below the service base {base_path}, as given to the SUT"
        ));
    }
    let segs: Vec<&str> = below.split('/').filter(|s| !s.is_empty()).collect();
    let mut uids = Vec::new();
    let uid = |s: &str, what: &str, uids: &mut Vec<String>| -> Result<(), String> {
        if well_formed_uid(s) {
            uids.push(s.to_string());
            Ok(())
        } else {
            Err(format!(
                "a well-formed {what} UID in the path (PS3.5 §9.1), not {}",
                crate::evidence::quote(s)
            ))
        }
    };
    let suffix = |rest: &[&str], frames_ok: bool| -> Result<Resource, String> {
        match rest {
            [] => Ok(Resource::Instances),
            ["metadata"] => Ok(Resource::Metadata),
            ["rendered" | "thumbnail"] => Ok(Resource::Rendered),
            ["bulkdata", ..] | ["pixeldata"] => Ok(Resource::Bulkdata),
            ["frames", list] if frames_ok => {
                if list
                    .split(',')
                    .all(|n| n.parse::<u32>().is_ok_and(|n| n >= 1))
                {
                    Ok(Resource::Frames)
                } else {
                    Err(format!(
                        "a frame list of numbers from 1, separated by commas (PS3.18 §10.4.1.1.6), not {}",
                        crate::evidence::quote(list)
                    ))
                }
            }
            ["frames", _, "rendered" | "thumbnail"] if frames_ok => {
                suffix_frames(rest).map(|_| Resource::Rendered)
            }
            other => Err(format!(
                "a PS3.18 resource, not the sub-resource {}",
                crate::evidence::quote(&other.join("/"))
            )),
        }
    };
    let resource = match segs.as_slice() {
        [] => Resource::Root,
        ["studies" | "series" | "instances"] => Resource::Search,
        ["studies", s, "series" | "instances"] => {
            uid(s, "Study Instance", &mut uids)?;
            Resource::Search
        }
        ["studies", s, "series", r, "instances"] => {
            uid(s, "Study Instance", &mut uids)?;
            uid(r, "Series Instance", &mut uids)?;
            Resource::Search
        }
        ["studies", s, "series", r, "instances", i, rest @ ..] => {
            uid(s, "Study Instance", &mut uids)?;
            uid(r, "Series Instance", &mut uids)?;
            uid(i, "SOP Instance", &mut uids)?;
            suffix(rest, true)?
        }
        ["studies", s, "series", r, rest @ ..] => {
            uid(s, "Study Instance", &mut uids)?;
            uid(r, "Series Instance", &mut uids)?;
            suffix(rest, false)?
        }
        ["studies", s, rest @ ..] => {
            uid(s, "Study Instance", &mut uids)?;
            suffix(rest, false)?
        }
        other => {
            return Err(format!(
                "a PS3.18 resource (studies, series, instances below the service base), not {}",
                crate::evidence::quote(&format!("/{}", other.join("/")))
            ))
        }
    };
    Ok(Addressed { resource, uids })
}

fn suffix_frames(rest: &[&str]) -> Result<(), String> {
    match rest.get(1) {
        Some(list)
            if list
                .split(',')
                .all(|n| n.parse::<u32>().is_ok_and(|n| n >= 1)) =>
        {
            Ok(())
        }
        _ => Err("a frame list of numbers from 1, separated by commas (PS3.18 §10.4.1.1.6)".into()),
    }
}

fn addressed(s: &Subject<'_>) -> Result<(Addressed, &'static str), Verdict> {
    let Some(ua) = s.expect.user_agent.as_ref() else {
        return Err(Verdict::na("not a request of a SUT user agent"));
    };
    let ex = s.exchange;
    let method = match ex.request.method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    match classify(url_path(&ex.request.url), &ua.base_path) {
        Ok(a) => Ok((a, method)),
        Err(_) => Err(Verdict::na("not a PS3.18 resource (DWUA-02)")),
    }
}

/// DWUA-02: the request is a PS3.18 request: its path a resource below the service base with
/// well-formed UIDs, its method one the resource takes.
pub fn dwua_02(s: &Subject<'_>) -> Verdict {
    let Some(ua) = s.expect.user_agent.as_ref() else {
        return Verdict::na("not a request of a SUT user agent");
    };
    let ex = s.exchange;
    let a = match classify(url_path(&ex.request.url), &ua.base_path) {
        Ok(a) => a,
        Err(expected) => {
            return Verdict::fail(
                expected,
                format!("{} {}", ex.request.method, url_path(&ex.request.url)),
            )
        }
    };
    let ok = match ex.request.method.as_str() {
        "GET" | "HEAD" => a.resource != Resource::Root,
        "OPTIONS" => true,
        // STOW-RS: POST on the studies resource or on one study (PS3.18 §10.5.1).
        "POST" => {
            a.resource == Resource::Instances && a.uids.len() == 1
                || a.resource == Resource::Search
                    && a.uids.is_empty()
                    && url_path(&ex.request.url)
                        .trim_end_matches('/')
                        .ends_with("/studies")
        }
        _ => false,
    };
    if ok {
        Verdict::Pass
    } else {
        Verdict::fail(
            "GET (or HEAD) on a retrieve or search resource, POST on …/studies or …/studies/{study} (PS3.18 §10.4.1, §10.5.1, §10.6.1), OPTIONS on any",
            format!("{} {}", ex.request.method, url_path(&ex.request.url)),
        )
    }
}

/// The media types a resource offers, as ranges an Acceptable Media Type must meet (PS3.18
/// §8.7.3 Tables 8.7.3-2..5, §8.7.4, §10.6.3.2, §10.5.3): (essence, the multipart part type).
fn offered(resource: &Resource, method: &str) -> &'static [(&'static str, Option<&'static str>)] {
    const JSON: &[(&str, Option<&str>)] = &[
        ("application/dicom+json", None),
        ("application/json", None),
        ("multipart/related", Some("application/dicom+xml")),
    ];
    if method == "POST" {
        return JSON;
    }
    match resource {
        Resource::Root => &[("*/*", None)],
        Resource::Search | Resource::Metadata => JSON,
        Resource::Instances => &[
            ("multipart/related", Some("application/dicom")),
            ("application/dicom", None),
            ("application/zip", None),
            ("multipart/related", Some("application/octet-stream")),
            ("multipart/related", Some("image/*")),
            ("multipart/related", Some("video/*")),
        ],
        Resource::Bulkdata | Resource::Frames => &[
            ("multipart/related", Some("application/octet-stream")),
            ("multipart/related", Some("image/*")),
            ("multipart/related", Some("video/*")),
            ("application/octet-stream", None),
            ("image/*", None),
            ("video/*", None),
        ],
        Resource::Rendered => &[
            ("image/*", None),
            ("video/*", None),
            ("text/*", None),
            ("application/pdf", None),
        ],
    }
}

/// Do two media ranges overlap (either may hold `*`)?
fn ranges_meet(a: &str, b: &str) -> bool {
    let (at, asub) = a.split_once('/').unwrap_or((a, ""));
    let (bt, bsub) = b.split_once('/').unwrap_or((b, ""));
    (at == "*" || bt == "*" || at.eq_ignore_ascii_case(bt))
        && (asub == "*" || bsub == "*" || asub.eq_ignore_ascii_case(bsub))
}

fn alternative_fits(m: &MediaType, offers: &[(&str, Option<&str>)]) -> bool {
    offers.iter().any(|(essence, part)| {
        if !ranges_meet(&m.essence, essence) {
            return false;
        }
        match (m.essence.as_str(), part) {
            ("multipart/related", Some(p)) => match m.param("type") {
                // Without `type`: any multipart/related the resource offers.
                None => true,
                Some(_) => m.related_type().is_some_and(|t| ranges_meet(&t.essence, p)),
            },
            _ => true,
        }
    })
}

/// DWUA-01: the Acceptable Media Types of the request (the `accept` query parameter, else the
/// `Accept` header) hold at least one media type the resource can be, and parse.
pub fn dwua_01(s: &Subject<'_>) -> Verdict {
    let (a, method) = match addressed(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    if method == "OPTIONS" || a.resource == Resource::Root {
        return Verdict::na("the capabilities request is not negotiated (PS3.18 §8.9)");
    }
    let ex = s.exchange;
    let from_query: Vec<String> = url_query(&ex.request.url)
        .into_iter()
        .filter(|(k, _)| k == "accept")
        .map(|(_, v)| v)
        .collect();
    let (accept, source) = if !from_query.is_empty() {
        (from_query.join(", "), "the accept query parameter")
    } else {
        let lines: Vec<&str> = ex
            .request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("accept"))
            .map(|(_, v)| v.as_str())
            .collect();
        if lines.is_empty() {
            return Verdict::Pass;
        }
        (lines.join(", "), "Accept")
    };
    let items = match parse_accept(&accept) {
        Ok(i) => i,
        Err(e) => {
            return Verdict::fail(
                "an Accept list of media ranges (RFC 9110 §12.5.1, PS3.18 §8.7.2)",
                format!(
                    "{source} {} does not parse: {e}",
                    crate::evidence::quote(&accept)
                ),
            )
        }
    };
    let offers = offered(&a.resource, method);
    if items
        .iter()
        .filter(|i| i.q > 0.0)
        .any(|i| alternative_fits(&i.media, offers))
    {
        return Verdict::Pass;
    }
    let names: Vec<String> = offers
        .iter()
        .map(|(e, p)| match p {
            Some(p) => format!("{e}; type=\"{p}\""),
            None => e.to_string(),
        })
        .collect();
    Verdict::fail(
        format!(
            "at least one media type the resource can be (PS3.18 §8.7): {}",
            names.join(", ")
        ),
        format!("{source}: {accept}"),
    )
}

/// The query parameters PS3.18 §8.3.4 and §8.3.3.1 define beside the attribute keys, and what
/// their values must be.
fn parameter_ok(key: &str, value: &str) -> Option<Result<(), String>> {
    let boolean = |v: &str| {
        if v == "true" || v == "false" {
            Ok(())
        } else {
            Err(format!("{key}=true or {key}=false"))
        }
    };
    Some(match key {
        "limit" | "offset" => {
            if value.parse::<u64>().is_ok() {
                Ok(())
            } else {
                Err(format!("{key} as a non-negative integer"))
            }
        }
        "fuzzymatching" | "emptyvaluematching" | "multiplevaluematching" => boolean(value),
        "includefield" => {
            let bad: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|f| *f != "all" && !attribute_path(f))
                .collect();
            if bad.is_empty() {
                Ok(())
            } else {
                Err("includefield=all or attribute keywords or tags, separated by commas".into())
            }
        }
        "accept" | "charset" => Ok(()),
        _ => return None,
    })
}

/// An attribute key of a search: a keyword or eight hex digits, or a dotted path of them through
/// sequences (PS3.18 §8.3.4.1).
fn attribute_path(key: &str) -> bool {
    !key.is_empty() && key.split('.').all(|k| qido_key_tag(k).is_some())
}

/// DWUA-03: the query parameters of a search are attribute keys (keywords or tags, dotted through
/// sequences) and the parameters PS3.18 defines with well-formed values.
pub fn dwua_03(s: &Subject<'_>) -> Verdict {
    let (a, method) = match addressed(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    if a.resource != Resource::Search || method != "GET" {
        return Verdict::na("not a search");
    }
    let mut bad = Vec::new();
    for (k, v) in url_query(&s.exchange.request.url) {
        match parameter_ok(&k, &v) {
            Some(Ok(())) => {}
            Some(Err(want)) => bad.push(format!(
                "{}={} (expected {want})",
                k,
                crate::evidence::quote(&v)
            )),
            None if attribute_path(&k) => {}
            None => bad.push(format!(
                "{} is no attribute keyword, tag or search parameter",
                crate::evidence::quote(&k)
            )),
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "query keys that are attribute keywords or tags, and limit, offset, fuzzymatching, includefield with well-formed values (PS3.18 §8.3.4, §10.6.1)",
            bad.join("; "),
        )
    }
}

/// One part of a multipart request body: its Content-Type and bytes.
type Part = (Option<String>, Vec<u8>);

/// The parts of a multipart request body.
fn parts_of(body: &[u8], boundary: &str) -> Result<Vec<Part>, String> {
    let mut parser = MultipartParser::new(boundary);
    let mut events = Vec::new();
    parser
        .feed(body, &mut events)
        .and_then(|()| parser.finish(&mut events))
        .map_err(|e| e.to_string())?;
    let mut parts = Vec::new();
    for ev in events {
        match ev {
            MultipartEvent::PartStart { headers } => {
                parts.push((
                    multipart::header(&headers, "content-type").map(str::to_string),
                    Vec::new(),
                ));
            }
            MultipartEvent::PartData(d) => {
                if let Some(p) = parts.last_mut() {
                    p.1.extend_from_slice(&d);
                }
            }
            MultipartEvent::PartEnd => {}
        }
    }
    Ok(parts)
}

/// The Study Instance UID of a PS3.10 object, or why it cannot be read.
fn study_of(part: &[u8]) -> Result<String, String> {
    if part.len() < 132 || part.get(128..132) != Some(b"DICM") {
        return Err("no PS3.10 preamble and DICM prefix".into());
    }
    let body = &part[128..];
    crate::model::dicom_guard::check_part10_lengths(body).map_err(|e| e.to_string())?;
    // The bytes come from a system under test: a decoder panic must become a verdict.
    let read = catch_unwind(AssertUnwindSafe(|| {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .read_until(tags::PIXEL_DATA)
            .from_reader(Cursor::new(body))
    }));
    match read {
        Ok(Ok(obj)) => Ok(obj
            .element(tags::STUDY_INSTANCE_UID)
            .ok()
            .and_then(|e| e.to_str().ok())
            .map(|v| v.trim_end_matches(['\0', ' ']).to_string())
            .unwrap_or_default()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the DICOM decoder panicked".into()),
    }
}

/// DWUA-05: a STOW-RS request is `multipart/related; type="application/dicom"` (or the
/// metadata-and-bulk-data form, `application/dicom+json` or `+xml`) with a boundary, a body that
/// parses, and for `application/dicom` parts that are PS3.10 objects, of the study the URL names
/// when it names one.
pub fn dwua_05(s: &Subject<'_>) -> Verdict {
    let (a, method) = match addressed(s) {
        Ok(x) => x,
        Err(v) => return v,
    };
    if method != "POST" {
        return Verdict::na("not a STOW-RS request");
    }
    let ex: &Exchange = s.exchange;
    let ct = crate::evidence::find_header(&ex.request.headers, "content-type").unwrap_or("");
    let want = "multipart/related; type=\"application/dicom\" with a boundary (PS3.18 §10.5.1.2)";
    let Ok(media) = MediaType::parse(ct) else {
        return Verdict::fail(want, format!("Content-Type {}", crate::evidence::quote(ct)));
    };
    let Some(part_type) = media.related_type() else {
        return Verdict::fail(want, format!("Content-Type {}", crate::evidence::quote(ct)));
    };
    let Some(boundary) = multipart::boundary_of(&media) else {
        return Verdict::fail(want, format!("Content-Type {ct} has no boundary"));
    };
    match part_type.essence.as_str() {
        "application/dicom" => {}
        // The metadata and bulk data form (PS3.18 §10.5.1.2.2): not judged part by part here.
        "application/dicom+json" | "application/dicom+xml" => return Verdict::Pass,
        other => return Verdict::fail(want, format!("parts of type {other}")),
    }
    if !ex.request.body.complete {
        return Verdict::na("the request body was not kept whole");
    }
    let parts = match parts_of(&ex.request.body.kept, boundary) {
        Ok(p) => p,
        Err(e) => {
            return Verdict::fail(
                "a multipart body of RFC 2046 §5.1.1 (PS3.18 §10.5.1.2)",
                format!("the body does not parse: {e}"),
            )
        }
    };
    if parts.is_empty() {
        return Verdict::fail("at least one DICOM object (PS3.18 §10.5.1.2)", "no part");
    }
    let url_study = if a.resource == Resource::Instances {
        a.uids.first().cloned()
    } else {
        None
    };
    let mut bad = Vec::new();
    for (i, (pct, bytes)) in parts.iter().enumerate() {
        let n = i + 1;
        if let Some(pct) = pct {
            let ok = MediaType::parse(pct).is_ok_and(|m| m.essence == "application/dicom");
            if !ok {
                bad.push(format!("part {n} is {pct}"));
                continue;
            }
        }
        match study_of(bytes) {
            Err(e) => bad.push(format!("part {n} is no PS3.10 object: {e}")),
            Ok(study) => {
                if let Some(u) = &url_study {
                    if &study != u {
                        bad.push(format!(
                            "part {n} is of study {} where the URL names {u}",
                            crate::evidence::quote(&study)
                        ));
                    }
                }
            }
        }
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "parts of type application/dicom, each a PS3.10 object (of the study the URL names, when it names one) (PS3.18 §10.5.1.2.1)",
            bad.join("; "),
        )
    }
}

/// The DWUA family.
pub static CHECKS: &[crate::checks::Check] = &[
    crate::checks::Check {
        id: "DWUA-01",
        requirement: "DICOM PS3.18 §8.7 (the media types of each resource: §8.7.3 Tables 8.7.3-2..5, §8.7.4 Table 8.7.4-1; the Acceptable Media Types from the accept query parameter or the Accept header, §8.3.3.1); RFC 9110 §12.5.1",
        requirements: &["PS18-8.7-UA"],
        level: crate::checks::Level::Shall,
        actor: "DICOMweb user agent (RAD-107/129 Requester, RAD-108 Sender)",
        title: "The SUT's request accepts a media type the resource can be",
        eval: dwua_01,
    },
    crate::checks::Check {
        id: "DWUA-02",
        requirement: "DICOM PS3.18 §10.4.1 (the retrieve resources: Table 10.4.1-1 and its metadata, rendered, thumbnail, bulkdata, pixeldata and frames sub-resources), §10.5.1, §10.6.1 (the store and search resources), below the service base; PS3.5 §9.1 (UIDs)",
        requirements: &["PS18-10.4.1-UA"],
        level: crate::checks::Level::Shall,
        actor: "DICOMweb user agent (RAD-107/129 Requester, RAD-108 Sender)",
        title: "The SUT's request is a PS3.18 resource with well-formed UIDs, the one it was asked for",
        eval: dwua_02,
    },
    crate::checks::Check {
        id: "DWUA-03",
        requirement: "DICOM PS3.18 §8.3.4 (the query parameters of a search: attribute keys as keywords or tags, includefield, fuzzymatching, limit, offset), §10.6.1",
        requirements: &["PS18-8.3.4-UA"],
        level: crate::checks::Level::Shall,
        actor: "DICOMweb user agent (RAD-129 Requester)",
        title: "The SUT's search names attributes by keyword or tag, with well-formed search parameters",
        eval: dwua_03,
    },
    crate::checks::Check {
        id: "DWUA-05",
        requirement: "DICOM PS3.18 §10.5.1 (the Store Instances request: multipart/related; type=\"application/dicom\" of PS3.10 objects, §10.5.1.2, of the study the URL names, when it names one)",
        requirements: &["PS18-10.5.1-UA"],
        level: crate::checks::Level::Shall,
        actor: "DICOMweb user agent (RAD-108 Sender)",
        title: "The SUT's STOW-RS request is a multipart body of PS3.10 objects of the study its URL names",
        eval: dwua_05,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;

    const BASE: &str = "/origin/dicom-web";

    fn expect() -> Expect {
        Expect {
            user_agent: Some(UaExpect {
                base_path: BASE.into(),
            }),
            ..Expect::default()
        }
    }

    fn ex(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Exchange {
        let mut e =
            Exchange::synthetic(&format!("http://127.0.0.1:1{path}"), headers, 200, &[], b"");
        e.request.method = method.into();
        e.request.body = crate::evidence::Body::from_bytes(bytes::Bytes::copy_from_slice(body));
        e
    }

    fn judge(f: fn(&Subject<'_>) -> Verdict, e: &Exchange) -> Verdict {
        let exp = expect();
        f(&Subject {
            exchange: e,
            expect: &exp,
            strict: false,
            followups: &[],
        })
    }

    fn fails(v: &Verdict) -> bool {
        matches!(v, Verdict::Fail { .. })
    }

    const S: &str = "/origin/dicom-web/studies/1.2.3";

    #[test]
    fn dwua_01_passes_what_the_resources_offer_and_what_ps318_leaves_open() {
        for (path, accept) in [
            (S, "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1"),
            (S, "multipart/related; type=\"application/dicom\", application/zip;q=0.5"),
            (S, "*/*"),
            ("/origin/dicom-web/studies", "application/dicom+json, application/json"),
            ("/origin/dicom-web/studies", "application/json"),
            ("/origin/dicom-web/studies/1.2.3/series/4.5/metadata", "application/dicom+json"),
            (
                "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1",
                "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*",
            ),
            (
                "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/rendered",
                "image/png",
            ),
            (
                "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/rendered",
                "text/html;q=0.1, image/*",
            ),
        ] {
            let v = judge(dwua_01, &ex("GET", path, &[("Accept", accept)], b""));
            assert_eq!(v, Verdict::Pass, "{path} {accept}");
        }
        // No Accept: the resource's default applies.
        assert_eq!(judge(dwua_01, &ex("GET", S, &[], b"")), Verdict::Pass);
    }

    #[test]
    fn dwua_01_fails_an_accept_the_resource_cannot_be() {
        for (path, accept) in [
            (S, "text/html"),
            (S, "application/dicom+json"),
            (
                "/origin/dicom-web/studies",
                "multipart/related; type=\"application/dicom\"",
            ),
            ("/origin/dicom-web/studies/1.2.3/metadata", "image/jpeg"),
            (
                "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/rendered",
                "application/dicom",
            ),
            (S, "application"),
            // q=0 excludes the only fitting one.
            (
                S,
                "multipart/related; type=\"application/dicom\"; q=0, text/html",
            ),
        ] {
            let v = judge(dwua_01, &ex("GET", path, &[("Accept", accept)], b""));
            assert!(fails(&v), "{path} {accept}: {v:?}");
        }
        // The accept query parameter stands for the header (PS3.18 §8.3.3.1).
        let e = ex(
            "GET",
            &format!("{S}?accept=text/html"),
            &[("Accept", "*/*")],
            b"",
        );
        assert!(fails(&judge(dwua_01, &e)));
    }

    #[test]
    fn dwua_02_passes_ps318_resources_and_fails_others() {
        for p in [
            "/origin/dicom-web/studies",
            "/origin/dicom-web/series",
            S,
            "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1,2",
            "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1/rendered",
            "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/bulkdata/7FE00010",
            "/origin/dicom-web/studies/1.2.3/thumbnail",
        ] {
            assert_eq!(
                judge(dwua_02, &ex("GET", p, &[], b"")),
                Verdict::Pass,
                "{p}"
            );
        }
        assert_eq!(
            judge(dwua_02, &ex("POST", "/origin/dicom-web/studies", &[], b"")),
            Verdict::Pass
        );
        assert_eq!(judge(dwua_02, &ex("POST", S, &[], b"")), Verdict::Pass);
        for (m, p) in [
            ("GET", "/origin/dicom-web/study/1.2.3"),
            ("GET", "/origin/dicom-web/studies/1.2.abc"),
            ("GET", "/origin/dicom-web/studies/1.02.3"),
            ("GET", "/origin/dicom-web/studies/1.2.3/series/4.5/frames/1"),
            (
                "GET",
                "/origin/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/0",
            ),
            ("GET", "/dicom-web/studies/1.2.3"),
            ("GET", "/origin/dicom-web"),
            ("POST", "/origin/dicom-web/studies/1.2.3/series/4.5"),
            ("DELETE", S),
        ] {
            let v = judge(dwua_02, &ex(m, p, &[], b""));
            assert!(fails(&v), "{m} {p}: {v:?}");
        }
    }

    #[test]
    fn dwua_03_passes_keys_and_parameters_and_fails_others() {
        for q in [
            "PatientID=P1&limit=10&offset=0&fuzzymatching=false",
            "00100020=P1&includefield=all",
            "includefield=StudyDescription,00081030&StudyDate=20200101-20201231",
            "ReferencedStudySequence.ReferencedSOPInstanceUID=1.2",
        ] {
            let e = ex("GET", &format!("/origin/dicom-web/studies?{q}"), &[], b"");
            assert_eq!(judge(dwua_03, &e), Verdict::Pass, "{q}");
        }
        for q in [
            "PatientNumber=P1",
            "limit=-1",
            "fuzzymatching=yes",
            "includefield=Nope",
            "0010002=P1",
        ] {
            let e = ex("GET", &format!("/origin/dicom-web/studies?{q}"), &[], b"");
            assert!(fails(&judge(dwua_03, &e)), "{q}");
        }
        // Not a search.
        let e = ex("GET", &format!("{S}?PatientNumber=1"), &[], b"");
        assert!(matches!(judge(dwua_03, &e), Verdict::NotApplicable(_)));
    }

    fn part10(study: &str) -> Vec<u8> {
        use dicom_core::{DataElement, PrimitiveValue, VR};
        use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
        let mut obj = InMemDicomObject::new_empty();
        obj.put(DataElement::new(
            tags::STUDY_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(study),
        ));
        obj.put(DataElement::new(
            tags::SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from("1.2.3.4"),
        ));
        obj.put(DataElement::new(
            tags::SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.7"),
        ));
        let file = obj
            .with_meta(
                FileMetaTableBuilder::new()
                    .transfer_syntax("1.2.840.10008.1.2.1")
                    .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.7")
                    .media_storage_sop_instance_uid("1.2.3.4"),
            )
            .unwrap();
        let mut out = Vec::new();
        file.write_all(&mut out).unwrap();
        out
    }

    fn stow(path: &str, ct: &str, parts: &[(&str, Vec<u8>)]) -> Exchange {
        let heads: Vec<[(&str, &str); 1]> =
            parts.iter().map(|(t, _)| [("Content-Type", *t)]).collect();
        let specs: Vec<crate::transport::multipart::PartSpec<'_>> = parts
            .iter()
            .zip(&heads)
            .map(|((_, b), h)| (&h[..], b.as_slice()))
            .collect();
        let body = crate::transport::multipart::build_body("BOUNDARY", &specs);
        ex("POST", path, &[("Content-Type", ct)], &body)
    }

    const CT: &str = "multipart/related; type=\"application/dicom\"; boundary=BOUNDARY";

    #[test]
    fn dwua_05_passes_part10_objects_of_the_study_named() {
        let e = stow(S, CT, &[("application/dicom", part10("1.2.3"))]);
        assert_eq!(judge(dwua_05, &e), Verdict::Pass);
        let e = stow(
            "/origin/dicom-web/studies",
            CT,
            &[("application/dicom", part10("9.9"))],
        );
        assert_eq!(judge(dwua_05, &e), Verdict::Pass);
    }

    #[test]
    fn dwua_05_fails_a_jpeg_part_another_study_or_another_type() {
        let e = stow(S, CT, &[("image/jpeg", vec![0xFF, 0xD8, 0xFF, 0xD9])]);
        assert!(fails(&judge(dwua_05, &e)));
        let e = stow(
            S,
            CT,
            &[("application/dicom", vec![0xFF, 0xD8, 0xFF, 0xD9])],
        );
        assert!(fails(&judge(dwua_05, &e)));
        let e = stow(S, CT, &[("application/dicom", part10("1.2.4"))]);
        assert!(fails(&judge(dwua_05, &e)));
        let e = stow(
            S,
            "application/dicom",
            &[("application/dicom", part10("1.2.3"))],
        );
        assert!(fails(&judge(dwua_05, &e)));
        let e = ex("POST", S, &[("Content-Type", CT)], b"garbage");
        assert!(fails(&judge(dwua_05, &e)));
    }
}
