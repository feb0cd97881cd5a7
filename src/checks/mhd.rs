//! MHD checks (IHE ITI MHD 4.2.x): ITI-65 Provide Document Bundle, ITI-66/67 searches, ITI-68
//! retrieve (standards.md §9.8), plus FHIR-01 (the SUT's body is a readable FHIR resource).
//!
//! Which message is judged follows the exchange's direction: inbound (the SUT called a simulator)
//! judges the SUT's request, outbound (the harness called the SUT) judges the SUT's response.
//! - Document Source rules (MHD-01..08, MHD-10) judge an inbound ITI-65 request; the same rules are
//!   exported as [`validate_provide_bundle`] for the Recipient simulator's OperationOutcome.
//! - MHD-09 judges a Document Recipient's ITI-65 response.
//! - MHD-11/12 judge a Document Consumer's ITI-67/66 request.
//! - MHD-13..19 judge a Document Responder's responses (ITI-66/67/68).
//!
//! Every rule works on `serde_json::Value` with bounded, panic-free navigation: hostile input is a
//! Fail (or NotApplicable when FHIR-01 already reports it unreadable), never a panic.

mod imaging;
mod json;
mod provide;

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Check, Level, Subject, Verdict};
use crate::evidence::{Direction, Exchange};
use crate::model::mhd_bundle::sha1_base64;

/// Transaction labels as recorded in exchanges.
pub mod txn {
    /// Provide Document Bundle.
    pub const ITI_65: &str = "ITI-65";
    /// Find Document Lists.
    pub const ITI_66: &str = "ITI-66";
    /// Find Document References.
    pub const ITI_67: &str = "ITI-67";
    /// Retrieve Document.
    pub const ITI_68: &str = "ITI-68";
}

/// The KOS SOP Class UID, the format code of a DICOM KOS manifest.
pub const KOS_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.88.59";

/// What an ITI-68 retrieve should return, as the DocumentReference described it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedDocument {
    /// `attachment.contentType`.
    pub content_type: Option<String>,
    /// `attachment.size`.
    pub size: Option<u64>,
    /// `attachment.hash` (SHA-1, base64).
    pub hash: Option<String>,
}

/// What a scenario expects of the exchanges these checks judge.
#[derive(Debug, Clone, Default)]
pub struct MhdExpect {
    /// The Comprehensive Metadata option is claimed.
    pub comprehensive: bool,
    /// Search parameters sent (ITI-66/67).
    pub search: Vec<(String, String)>,
    /// Values that must be in the result: DocumentReference masterIdentifier values (ITI-67) or
    /// List identifier values (ITI-66). `Some(empty)` = the search must match nothing.
    pub known_matches: Option<BTreeSet<String>>,
    /// Values that must not be in the result.
    pub must_not_match: BTreeSet<String>,
    /// ITI-68: what the DocumentReference said.
    pub document: Option<ExpectedDocument>,
    /// ITI-68: the Accept header sent.
    pub accept: Option<String>,
    /// Apply the imaging / MADO DocumentReference rules (MHD-16, MHD-17).
    pub imaging: bool,
    /// MHD-17: the study date/time (`YYYY-MM-DD…`) `context.period.start` must begin with.
    pub study_start: Option<String>,
}

/// One rule broken by an ITI-65 bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Check id (`MHD-03`).
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where (FHIRPath-like: `Bundle.entry[2].resource.content[0].attachment.url`).
    pub expression: String,
}

pub(crate) fn v(
    rule: &'static str,
    expression: impl Into<String>,
    message: impl Into<String>,
) -> Violation {
    Violation {
        rule,
        message: message.into(),
        expression: expression.into(),
    }
}

use imaging::*;
use json::*;
pub use json::{media_type, parse_fhir};
pub use provide::validate_provide_bundle;

// ---------------------------------------------------------------------------------------------
// Exchanges.

/// The SUT's message in an exchange: (body, Content-Type, complete).
fn sut_message(ex: &Exchange) -> Option<(&[u8], Option<&str>, bool)> {
    match ex.direction {
        Direction::Inbound => Some((
            &ex.request.body.kept[..],
            ex.request.header("content-type"),
            ex.request.body.complete,
        )),
        Direction::Outbound => ex
            .response
            .as_ref()
            .map(|r| (&r.body.kept[..], r.header("content-type"), r.body.complete)),
    }
}

fn is_mhd(ex: &Exchange) -> bool {
    matches!(
        ex.transaction.as_str(),
        txn::ITI_65 | txn::ITI_66 | txn::ITI_67 | txn::ITI_68
    )
}

/// The SUT's FHIR resource, parsed: `Err(NotApplicable)` when there is none to judge.
fn sut_resource(ex: &Exchange) -> Result<Value, Verdict> {
    let Some((body, ct, complete)) = sut_message(ex) else {
        return Err(Verdict::na("no message from the SUT"));
    };
    if body.is_empty() {
        return Err(Verdict::na("empty body"));
    }
    if !complete {
        return Err(Verdict::na("the body was not kept whole"));
    }
    parse_fhir(body, ct).map_err(|_| Verdict::na("the body is not readable FHIR (see FHIR-01)"))
}

/// The parameters of a search request: the URL query, plus a form body for POST `_search`.
pub fn request_params(ex: &Exchange) -> Vec<(String, String)> {
    // A simulator may record the request target only (`/fhir/List?…`): resolve it on a dummy base.
    let parsed = url::Url::parse(&ex.request.url)
        .or_else(|_| url::Url::parse("http://localhost/").and_then(|b| b.join(&ex.request.url)));
    let mut out: Vec<(String, String)> = parsed
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    if ex.request.method.eq_ignore_ascii_case("POST") {
        out.extend(
            url::form_urlencoded::parse(&ex.request.body.kept)
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }
    out
}

fn param_base(k: &str) -> &str {
    k.split(':').next().unwrap_or(k)
}

fn fails(problems: Vec<String>, expected: &str) -> Verdict {
    if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, problems.join("; "))
    }
}

fn provide_rule(s: &Subject<'_>, rule: &str, expected: &str) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != txn::ITI_65 {
        return Verdict::na("not an ITI-65 exchange");
    }
    if ex.direction == Direction::Outbound {
        return Verdict::na("the harness sent this bundle");
    }
    let bundle = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    if rule == "MHD-06" && !s.expect.mhd.comprehensive {
        return Verdict::na("the Comprehensive Metadata option is not claimed");
    }
    let ct = ex.request.header("content-type");
    let found: Vec<String> = validate_provide_bundle(&bundle, ct, s.expect.mhd.comprehensive)
        .into_iter()
        .filter(|v| v.rule == rule)
        .map(|v| format!("{}: {}", v.expression, v.message))
        .collect();
    fails(found, expected)
}

fn fhir_01(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_mhd(ex) {
        return Verdict::na("not an MHD exchange");
    }
    let Some(wanted) = fhir_resources_expected(ex) else {
        return Verdict::na("no FHIR resource expected from the SUT here");
    };
    let Some((body, ct, complete)) = sut_message(ex) else {
        return Verdict::na("no message from the SUT");
    };
    if body.is_empty() {
        if wanted == ["OperationOutcome"] {
            return Verdict::na("error response without a body");
        }
        return Verdict::fail(format!("a FHIR {}", wanted.join("/")), "an empty body");
    }
    if !complete {
        // Too large to keep whole: judge what was kept. A FHIR resource starts with `{` (JSON)
        // or `<` (XML) after optional white space.
        return match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'<') => Verdict::na("the body was too large to keep whole"),
            _ => Verdict::fail(
                format!("a FHIR {}", wanted.join("/")),
                format!(
                    "the first {} bytes of the body hold no FHIR resource",
                    body.len()
                ),
            ),
        };
    }
    match parse_fhir(body, ct) {
        Err(e) => Verdict::fail(format!("a FHIR {}", wanted.join("/")), e),
        Ok(v) => match str_at(&v, "resourceType") {
            Some(rt) if wanted.contains(&rt) => match crate::model::fhir::Resource::from_json(&v) {
                Ok(_) => Verdict::Pass,
                Err(e) => Verdict::fail("a structurally valid FHIR resource", e),
            },
            Some(rt) => Verdict::fail(format!("a FHIR {}", wanted.join("/")), format!("a {rt}")),
            None => Verdict::fail("a FHIR resource", "JSON without resourceType"),
        },
    }
}

/// The transactions in which the SUT sends a FHIR resource the harness reads: an inbound ITI-65
/// request, outbound ITI-65/66/67 responses (a Bundle on success, else an OperationOutcome).
fn fhir_resources_expected(ex: &Exchange) -> Option<&'static [&'static str]> {
    let ok = (200..300).contains(&ex.status().unwrap_or(0));
    match (ex.transaction.as_str(), ex.direction) {
        (txn::ITI_65, Direction::Inbound) => Some(&["Bundle"]),
        (txn::ITI_65 | txn::ITI_66 | txn::ITI_67, Direction::Outbound) if ok => Some(&["Bundle"]),
        (txn::ITI_65 | txn::ITI_66 | txn::ITI_67, Direction::Outbound) => {
            Some(&["OperationOutcome"])
        }
        _ => None,
    }
}

fn fhir_02(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_mhd(ex) || fhir_resources_expected(ex).is_none() {
        return Verdict::na("no FHIR resource expected from the SUT here");
    }
    let Some((body, ct, complete)) = sut_message(ex) else {
        return Verdict::na("no message from the SUT");
    };
    if !ct.is_some_and(is_xml_type) || body.is_empty() {
        return Verdict::na("not FHIR XML");
    }
    if !complete {
        return Verdict::na("the body was too large to keep whole");
    }
    match crate::model::fhir::xml::order_violations(body, 10) {
        Err(_) => Verdict::na("the body is not readable FHIR XML (see FHIR-01)"),
        Ok(v) if v.is_empty() => Verdict::Pass,
        Ok(v) => Verdict::fail(
            "child elements in the order of their R4 definition",
            v.join("; "),
        ),
    }
}

fn mhd_01(s: &Subject<'_>) -> Verdict {
    provide_rule(s, "MHD-01", "a transaction Bundle claiming an MHD ProvideBundle profile, sent as application/fhir+json or +xml")
}
fn mhd_02(s: &Subject<'_>) -> Verdict {
    provide_rule(s, "MHD-02", "exactly one SubmissionSet List (POST, code submissionset, mode working, status current, date, sourceId)")
}
fn mhd_03(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-03",
        "each DocumentReference per IHE.MHD.Minimal.DocumentReference",
    )
}
fn mhd_04(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-04",
        "every attachment.url to resolve to a Binary entry of the Bundle",
    )
}
fn mhd_05(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-05",
        "attachment.size and .hash (SHA-1, base64) of the Binary.data bytes",
    )
}
fn mhd_06(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-06",
        "the elements the Comprehensive Metadata profiles require",
    )
}
fn mhd_07(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-07",
        "entryUUIDs urn:uuid:, SubmissionSet uniqueId urn:oid:",
    )
}
fn mhd_08(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-08",
        "one Patient as the subject of every DocumentReference and List",
    )
}
fn mhd_10(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        "MHD-10",
        "a PATCH superseding each replaced DocumentReference in the same Bundle",
    )
}

fn mhd_20(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != txn::ITI_65 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-65 response from a Recipient");
    }
    if s.expect.status.is_empty() || s.expect.status.contains(&200) {
        return Verdict::na("the bundle sent was conformant");
    }
    let expected = "HTTP 4xx with an OperationOutcome holding an issue of severity error or fatal";
    let status = ex.status().unwrap_or(0);
    if !(400..500).contains(&status) {
        return Verdict::fail(expected, format!("HTTP {status}"));
    }
    let body = match sut_resource(ex) {
        Ok(b) => b,
        Err(_) => return Verdict::fail(expected, format!("HTTP {status} without a FHIR body")),
    };
    if str_at(&body, "resourceType") != Some("OperationOutcome") {
        return Verdict::fail(
            expected,
            format!(
                "HTTP {status} with a {}",
                str_at(&body, "resourceType").unwrap_or("body that is not a resource")
            ),
        );
    }
    let has_error = arr(&body, "issue")
        .iter()
        .any(|i| matches!(str_at(i, "severity"), Some("error" | "fatal")));
    if has_error {
        Verdict::Pass
    } else {
        Verdict::fail(expected, "an OperationOutcome without an error issue")
    }
}

fn mhd_09(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != txn::ITI_65 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-65 response from a Recipient");
    }
    let status = ex.status().unwrap_or(0);
    if !s.expect.status.is_empty() && !s.expect.status.contains(&200) {
        return Verdict::na("an error response was expected");
    }
    let expected = "HTTP 200, a transaction-response Bundle with one entry per request entry, in order, each 201 with a location";
    if status != 200 {
        return Verdict::fail(expected, format!("HTTP {status}"));
    }
    let resp = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    let mut p = Vec::new();
    if str_at(&resp, "type") != Some("transaction-response") {
        p.push(format!(
            "Bundle.type {:?}",
            str_at(&resp, "type").unwrap_or("<absent>")
        ));
    }
    let req = parse_fhir(&ex.request.body.kept, ex.request.header("content-type")).ok();
    let got = arr(&resp, "entry");
    if let Some(req) = &req {
        let n = arr(req, "entry").len();
        if n != got.len() {
            p.push(format!(
                "{} response entries for {n} request entries",
                got.len()
            ));
        }
        for (i, (q, r)) in arr(req, "entry").iter().zip(got).enumerate() {
            // Order: a response location naming a resource type must match the request's type.
            let want = resource_type(q);
            if let Some(loc) = r.get("response").and_then(|x| str_at(x, "location")) {
                let ty = canonical_reference(loc.split("/_history/").next().unwrap_or(loc));
                let ty = ty.split('/').next().unwrap_or("");
                if !want.is_empty()
                    && method(q) != "PATCH"
                    && ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && ty != want
                {
                    p.push(format!("entry[{i}] location {loc} is not a {want} (order)"));
                }
            }
        }
    }
    for (i, r) in got.iter().enumerate() {
        let st = r
            .get("response")
            .and_then(|x| str_at(x, "status"))
            .unwrap_or("");
        let is_patch = req
            .as_ref()
            .and_then(|q| arr(q, "entry").get(i))
            .is_some_and(|q| method(q) == "PATCH");
        let ok =
            st.trim_start().starts_with("201") || (is_patch && st.trim_start().starts_with("200"));
        if !ok {
            p.push(format!("entry[{i}].response.status {st:?}, not 201"));
        }
        if !is_patch && !r.get("response").is_some_and(|x| present(x, "location")) {
            p.push(format!("entry[{i}].response.location absent"));
        }
    }
    fails(p, expected)
}

fn search_request_rule(s: &Subject<'_>, transaction: &str, need_code: bool) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != transaction || ex.direction != Direction::Inbound {
        return Verdict::na(format!("not an inbound {transaction} request"));
    }
    let params = request_params(ex);
    let has = |name: &str| params.iter().any(|(k, _)| param_base(k) == name);
    let mut p = Vec::new();
    if !(has("patient")
        || has("patient.identifier")
        || params.iter().any(|(k, _)| k == "patient:identifier"))
    {
        p.push("no patient or patient.identifier".to_string());
    }
    if !has("status") {
        p.push("no status".into());
    }
    if need_code && !has("code") {
        p.push("no code".into());
    }
    for (k, v) in &params {
        if param_base(k) == "status" && v.contains('|') {
            p.push(format!("status token {v:?} has a system (code only)"));
        }
    }
    let expected = if need_code {
        "patient or patient.identifier, code and status (code only)"
    } else {
        "patient or patient.identifier and status (code only)"
    };
    fails(p, expected)
}

fn mhd_11(s: &Subject<'_>) -> Verdict {
    search_request_rule(s, txn::ITI_67, false)
}
fn mhd_12(s: &Subject<'_>) -> Verdict {
    search_request_rule(s, txn::ITI_66, true)
}

fn is_search_response(ex: &Exchange) -> bool {
    matches!(ex.transaction.as_str(), txn::ITI_66 | txn::ITI_67)
        && ex.direction == Direction::Outbound
}

/// Did the harness ask for XML (`_format` or Accept)?
fn asked_xml(ex: &Exchange) -> bool {
    let fmt = request_params(ex)
        .into_iter()
        .find(|(k, _)| k == "_format")
        .map(|(_, v)| v.to_ascii_lowercase());
    if let Some(f) = fmt {
        return f.contains("xml");
    }
    ex.request
        .header("accept")
        .is_some_and(|a| a.contains("xml") && !a.contains("json"))
}

fn mhd_13(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_search_response(ex) {
        return Verdict::na("not an ITI-66/67 response");
    }
    let status = ex.status().unwrap_or(0);
    let post = ex.request.method.eq_ignore_ascii_case("POST");
    let xml_wanted = asked_xml(ex);
    let what = format!(
        "{} {} answered in {}",
        if post { "POST _search" } else { "GET" },
        ex.transaction,
        if xml_wanted { "FHIR XML" } else { "FHIR JSON" }
    );
    if matches!(status, 405 | 406 | 415 | 501) || (post && status == 404) {
        return Verdict::fail(format!("{what} supported"), format!("HTTP {status}"));
    }
    if !(200..300).contains(&status) {
        return Verdict::na(format!("HTTP {status}"));
    }
    let ct = ex
        .response
        .as_ref()
        .and_then(|r| r.header("content-type"))
        .unwrap_or("");
    let ok = if xml_wanted {
        is_xml_type(ct)
    } else {
        is_json_type(ct)
    };
    if ok {
        Verdict::Pass
    } else {
        Verdict::fail(what, format!("Content-Type {ct:?}"))
    }
}

/// The matched resources of a searchset (search.mode absent or `match`), with their types.
fn matches<'a>(bundle: &'a Value, rt: &str) -> Vec<&'a Value> {
    arr(bundle, "entry")
        .iter()
        .filter(|e| {
            e.get("search")
                .and_then(|x| str_at(x, "mode"))
                .is_none_or(|m| m == "match")
        })
        .filter_map(|e| e.get("resource"))
        .filter(|r| str_at(r, "resourceType") == Some(rt))
        .collect()
}

fn mhd_14(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_search_response(ex) || ex.transaction != txn::ITI_67 {
        return Verdict::na("not an ITI-67 response");
    }
    let no_match = s
        .expect
        .mhd
        .known_matches
        .as_ref()
        .is_some_and(BTreeSet::is_empty);
    let status = ex.status().unwrap_or(0);
    let expected = "HTTP 200 with a searchset Bundle (empty when nothing matches)";
    if !(200..300).contains(&status) {
        return if no_match {
            Verdict::fail(expected, format!("HTTP {status}"))
        } else {
            Verdict::na(format!("HTTP {status}"))
        };
    }
    let b = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    let mut p = Vec::new();
    if status != 200 {
        p.push(format!("HTTP {status}"));
    }
    if str_at(&b, "resourceType") != Some("Bundle") || str_at(&b, "type") != Some("searchset") {
        p.push(format!(
            "a {} of type {:?}",
            str_at(&b, "resourceType").unwrap_or("<none>"),
            str_at(&b, "type").unwrap_or("<absent>")
        ));
    }
    if no_match {
        let n = matches(&b, "DocumentReference").len();
        if n > 0 {
            p.push(format!(
                "{n} DocumentReferences for a search that matches nothing"
            ));
        }
        if let Some(t) = b.get("total").and_then(Value::as_u64).filter(|t| *t > 0) {
            p.push(format!("total {t}"));
        }
    }
    fails(p, expected)
}

fn accept_allows(accept: &str, ct: &str) -> bool {
    let m = media_type(ct);
    let (ty, _) = m.split_once('/').unwrap_or((m.as_str(), ""));
    accept.split(',').any(|a| {
        let a = media_type(a);
        a == "*/*" || a == m || a == format!("{ty}/*")
    })
}

fn mhd_15(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != txn::ITI_68 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-68 response");
    }
    let e = &s.expect.mhd;
    let status = ex.status().unwrap_or(0);
    let doc_ct = e.document.as_ref().and_then(|d| d.content_type.as_deref());
    let accept = e.accept.as_deref().or_else(|| ex.request.header("accept"));
    let negotiated_away = matches!((accept, doc_ct), (Some(a), Some(ct)) if !accept_allows(a, ct));
    if !s.expect.status.is_empty() {
        if !s.expect.status.contains(&status) {
            return Verdict::fail(
                format!("HTTP {:?} ({})", s.expect.status, s.expect.status_reason),
                format!("HTTP {status}"),
            );
        }
    } else if e.document.is_some() && status != 200 && !(negotiated_away && status == 406) {
        return Verdict::fail("HTTP 200 with the document", format!("HTTP {status}"));
    }
    if status != 200 {
        return Verdict::Pass;
    }
    let got = ex
        .response
        .as_ref()
        .and_then(|r| r.header("content-type"))
        .unwrap_or("");
    match (doc_ct, accept) {
        (Some(ct), _) if !negotiated_away => {
            if media_type(got) == media_type(ct) {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("Content-Type {ct}"),
                    format!("Content-Type {got:?}"),
                )
            }
        }
        (_, Some(a)) => {
            if accept_allows(a, got) {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("a Content-Type within Accept {a}"),
                    format!("{got:?}"),
                )
            }
        }
        _ => Verdict::Pass,
    }
}

/// DocumentReferences judged by the imaging rules: a Responder's search results, or a Source's
/// ITI-65 bundle.
fn imaging_docrefs(s: &Subject<'_>) -> Result<Vec<Value>, Verdict> {
    if !s.expect.mhd.imaging {
        return Err(Verdict::na("no imaging content expected"));
    }
    let ex = s.exchange;
    let judged = (ex.transaction == txn::ITI_67 && ex.direction == Direction::Outbound)
        || (ex.transaction == txn::ITI_65 && ex.direction == Direction::Inbound);
    if !judged {
        return Err(Verdict::na(
            "not an ITI-67 response or an inbound ITI-65 request",
        ));
    }
    let b = sut_resource(ex)?;
    let drs: Vec<Value> = arr(&b, "entry")
        .iter()
        .filter_map(|e| e.get("resource"))
        .filter(|r| str_at(r, "resourceType") == Some("DocumentReference"))
        .filter(|r| is_kos(r))
        .cloned()
        .collect();
    if drs.is_empty() {
        return Err(Verdict::na("no KOS DocumentReference"));
    }
    Ok(drs)
}

fn master(dr: &Value) -> String {
    dr.get("masterIdentifier")
        .and_then(|m| str_at(m, "value"))
        .unwrap_or("<no masterIdentifier>")
        .to_string()
}

fn mhd_16(s: &Subject<'_>) -> Verdict {
    let drs = match imaging_docrefs(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let p: Vec<String> = drs
        .iter()
        .flat_map(|d| {
            kos_problems(d)
                .into_iter()
                .map(move |x| format!("{}: {x}", master(d)))
        })
        .collect();
    fails(p, "KOS DocumentReferences: application/dicom, format DCMUID#1.2.840.10008.5.1.4.1.1.88.59, masterIdentifier urn:oid:<SOP Instance UID>")
}

fn mhd_17(s: &Subject<'_>) -> Verdict {
    let drs = match imaging_docrefs(s) {
        Ok(d) => d,
        Err(v) => return v,
    };
    let start = s.expect.mhd.study_start.as_deref();
    let p: Vec<String> = drs
        .iter()
        .flat_map(|d| {
            mado_problems(d, start)
                .into_iter()
                .map(move |x| format!("{}: {x}", master(d)))
        })
        .collect();
    fails(p, "MADO DocumentReferences: one study-instance-uid in context.related, one modality extension, context.period.start")
}

// MHD-18: search results.

fn token_matches(value: &str, codes: &[(&str, &str)]) -> bool {
    value.split(',').any(|t| match t.split_once('|') {
        Some(("", code)) => codes.iter().any(|(s, c)| s.is_empty() && *c == code),
        Some((sys, "")) => codes.iter().any(|(s, _)| *s == sys),
        Some((sys, code)) => codes.iter().any(|(s, c)| *s == sys && *c == code),
        None => codes.iter().any(|(_, c)| *c == t),
    })
}

fn strip_oid(s: &str) -> &str {
    s.strip_prefix("urn:oid:").unwrap_or(s)
}

fn date_cmp_ok(prefix: &str, want: &str, have: &str) -> bool {
    let n = want.len().min(have.len()).min(10);
    let (w, h) = (want.get(..n).unwrap_or(want), have.get(..n).unwrap_or(have));
    match prefix {
        "ge" => h >= w,
        "gt" => h > w || (n < want.len() && h >= w),
        "le" => h <= w,
        "lt" => h < w || (n < want.len() && h <= w),
        "ne" => h != w,
        _ => h == w,
    }
}

fn period_matches(value: &str, period: Option<&Value>) -> bool {
    let Some(pd) = period else { return false };
    let start = str_at(pd, "start");
    let end = str_at(pd, "end");
    let (prefix, want) = match value.get(..2) {
        Some(p @ ("ge" | "gt" | "le" | "lt" | "eq" | "ne" | "sa" | "eb")) => (p, &value[2..]),
        _ => ("eq", value),
    };
    // A missing boundary is open: a Period without an end is ongoing (FHIR R4 §2.24.0.10 Period;
    // search on a Period, §3.1.1.5.2, compares ranges by overlap).
    match prefix {
        "ge" | "gt" | "sa" => {
            end.is_none_or(|h| date_cmp_ok(if prefix == "sa" { "gt" } else { prefix }, want, h))
        }
        "le" | "lt" | "eb" => {
            start.is_none_or(|h| date_cmp_ok(if prefix == "eb" { "lt" } else { prefix }, want, h))
        }
        _ => {
            start.is_none_or(|s| date_cmp_ok("le", want, s))
                && end.is_none_or(|e| date_cmp_ok("ge", want, e))
        }
    }
}

fn patient_matches(value: &str, subject: Option<&Value>) -> bool {
    let Some(r) = subject.and_then(|s| str_at(s, "reference")) else {
        return true; // not verifiable
    };
    let want = canonical_reference(value);
    let want = if want.contains('/') {
        want
    } else {
        format!("Patient/{value}")
    };
    canonical_reference(r) == want
}

/// Why `r` does not match the search parameter `(k, value)`, if it does not (None when it matches
/// or the parameter is not verified).
fn mismatch(r: &Value, k: &str, value: &str) -> Option<String> {
    let ok = match param_base(k) {
        "patient" | "subject" => patient_matches(value, r.get("subject")),
        "patient.identifier" => match r.get("subject").and_then(|s| s.get("identifier")) {
            Some(i) => {
                let sys = str_at(i, "system").unwrap_or("");
                let val = str_at(i, "value").unwrap_or("");
                token_matches(value, &[(sys, val)])
            }
            None => true,
        },
        "status" => value.split(',').any(|st| str_at(r, "status") == Some(st)),
        "type" => r
            .get("type")
            .is_some_and(|t| token_matches(value, &codings(t).collect::<Vec<_>>())),
        "category" => arr(r, "category")
            .iter()
            .any(|c| token_matches(value, &codings(c).collect::<Vec<_>>())),
        "code" => r
            .get("code")
            .is_some_and(|c| token_matches(value, &codings(c).collect::<Vec<_>>())),
        "modality" => token_matches(value, &modality_codes(r)),
        "study-instance-uid" => value.split(',').any(|t| {
            let want = strip_oid(t.rsplit('|').next().unwrap_or(t));
            study_uids(r).iter().any(|u| strip_oid(u) == want)
        }),
        "period" => period_matches(value, r.get("context").and_then(|c| c.get("period"))),
        "identifier" => value.split(',').any(|t| {
            let want = t.rsplit('|').next().unwrap_or(t);
            identifier_values(r)
                .iter()
                .any(|v| v == want || strip_oid(v) == strip_oid(want))
        }),
        _ => true,
    };
    (!ok).then(|| {
        format!(
            "{} does not match {k}={value}",
            identifier_values(r)
                .first()
                .cloned()
                .unwrap_or_else(|| "<unidentified>".into())
        )
    })
}

fn identifier_values(r: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(m) = r.get("masterIdentifier").and_then(|m| str_at(m, "value")) {
        out.push(m.to_string());
    }
    out.extend(
        arr(r, "identifier")
            .iter()
            .filter_map(|i| str_at(i, "value"))
            .map(str::to_string),
    );
    out
}

fn mhd_18(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_search_response(ex) {
        return Verdict::na("not an ITI-66/67 response");
    }
    if !ex.status().is_some_and(|st| (200..300).contains(&st)) {
        return Verdict::na("not a successful search");
    }
    let b = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    let rt = if ex.transaction == txn::ITI_66 {
        "List"
    } else {
        "DocumentReference"
    };
    let e = &s.expect.mhd;
    let found = matches(&b, rt);
    let mut p = Vec::new();
    for r in &found {
        for (k, v) in &e.search {
            if k.starts_with('_') {
                continue;
            }
            if let Some(m) = mismatch(r, k, v) {
                p.push(m);
            }
        }
    }
    let returned: BTreeSet<String> = found
        .iter()
        .flat_map(|r| identifier_values(r))
        .map(|v| strip_oid(&v).to_string())
        .collect();
    let paged = arr(&b, "link")
        .iter()
        .any(|l| str_at(l, "relation") == Some("next"));
    if let Some(known) = &e.known_matches {
        if !paged {
            for k in known {
                if !returned.contains(strip_oid(k)) {
                    p.push(format!("{k} is missing from the result"));
                }
            }
        }
    }
    for k in &e.must_not_match {
        if returned.contains(strip_oid(k)) {
            p.push(format!("{k} is in the result but does not match"));
        }
    }
    p.truncate(20);
    fails(p, "exactly the resources matching the search parameters")
}

fn mhd_19(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != txn::ITI_68 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-68 response");
    }
    let Some(doc) = &s.expect.mhd.document else {
        return Verdict::na("the DocumentReference is unknown");
    };
    let Some(resp) = ex.response.as_ref().filter(|r| r.status == 200) else {
        return Verdict::na("no document returned");
    };
    if let (Some(ct), Some(got)) = (doc.content_type.as_deref(), resp.header("content-type")) {
        if media_type(ct) != media_type(got) {
            return Verdict::na("another representation was negotiated");
        }
    }
    let mut p = Vec::new();
    if let Some(size) = doc.size {
        if size != resp.body.size {
            p.push(format!(
                "{} bytes, the DocumentReference says {size}",
                resp.body.size
            ));
        }
    }
    if let Some(h) = &doc.hash {
        if resp.body.complete {
            let actual = sha1_base64(&resp.body.kept);
            if !same_hash(h, &actual) {
                p.push(format!("SHA-1 {actual}, the DocumentReference says {h}"));
            }
        } else if p.is_empty() && doc.size.is_none() {
            return Verdict::na("the body was not kept whole");
        }
    }
    fails(
        p,
        "the document whose size and SHA-1 the DocumentReference gives",
    )
}

const SOURCE: &str = "MHD Document Source";
const RECIPIENT: &str = "MHD Document Recipient";
const CONSUMER: &str = "MHD Document Consumer";
const RESPONDER: &str = "MHD Document Responder";

/// The checks.
pub static CHECKS: &[Check] = &[
    Check {
        id: "FHIR-01",
        requirement: "HL7 FHIR R4 §3.1.0 (RESTful API), §2.6 (XML/JSON formats)",
        level: Level::Shall,
        actor: "MHD actor",
        title: "The SUT's body is a well-formed FHIR resource of the type the transaction requires",
        eval: fhir_01,
    },
    Check {
        id: "FHIR-02",
        requirement: "HL7 FHIR R4 §2.6.2 (XML representation: elements in the order of the definition)",
        level: Level::Shall,
        actor: "MHD actor",
        title: "The SUT's FHIR XML has its child elements in the order of their R4 definition",
        eval: fhir_02,
    },
    Check {
        id: "MHD-01",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1 (MHD ITI-65 Provide Document Bundle)",
        level: Level::Shall,
        actor: SOURCE,
        title: "ITI-65 is a transaction Bundle claiming an MHD ProvideBundle profile, sent as FHIR JSON or XML",
        eval: mhd_01,
    },
    Check {
        id: "MHD-02",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1; IHE.MHD.Minimal.SubmissionSet",
        level: Level::Shall,
        actor: SOURCE,
        title: "Exactly one SubmissionSet List (POST, code submissionset, mode working, status current, date, sourceId)",
        eval: mhd_02,
    },
    Check {
        id: "MHD-03",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1; IHE.MHD.Minimal.DocumentReference",
        level: Level::Shall,
        actor: SOURCE,
        title: "Each DocumentReference has masterIdentifier, status current/superseded, attachment contentType and url, no data, no docStatus",
        eval: mhd_03,
    },
    Check {
        id: "MHD-04",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1",
        level: Level::Shall,
        actor: SOURCE,
        title: "Every attachment.url pointing at a Binary resolves to a Binary entry of the Bundle",
        eval: mhd_04,
    },
    Check {
        id: "MHD-05",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1",
        level: Level::Shall,
        actor: SOURCE,
        title: "attachment.hash and .size match the Binary.data bytes (SHA-1, base64)",
        eval: mhd_05,
    },
    Check {
        id: "MHD-06",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1; IHE.MHD.UnContained.Comprehensive.* (Comprehensive Metadata option)",
        level: Level::Shall,
        actor: SOURCE,
        title: "Comprehensive Metadata: the required DocumentReference and SubmissionSet elements are present",
        eval: mhd_06,
    },
    Check {
        id: "MHD-07",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1; MHD identifier.fsh (mhd-startswithuuid, mhd-startswithoid)",
        level: Level::Shall,
        actor: SOURCE,
        title: "entryUUID identifiers start with urn:uuid:, the SubmissionSet uniqueId with urn:oid:",
        eval: mhd_07,
    },
    Check {
        id: "MHD-08",
        requirement: "IHE ITI TF-2 3.65.4.1.2.2",
        level: Level::Shall,
        actor: SOURCE,
        title: "All DocumentReferences and Lists have the same Patient as subject",
        eval: mhd_08,
    },
    Check {
        id: "MHD-09",
        requirement: "IHE ITI TF-2 3.65.4.2.2",
        level: Level::Shall,
        actor: RECIPIENT,
        title: "ITI-65 response: HTTP 200, transaction-response Bundle, one entry per request entry in order, each 201 with a location",
        eval: mhd_09,
    },
    Check {
        id: "MHD-20",
        requirement: "IHE ITI TF-2 3.65.4.1.3 (the Recipient validates the bundle and processes it atomically), 3.65.4.2.3; HL7 FHIR R4 §3.1.0.4 (transaction: an error fails the whole transaction, with an OperationOutcome)",
        level: Level::Shall,
        actor: RECIPIENT,
        title: "An ITI-65 bundle that breaks the profile is refused as a whole: HTTP 4xx with an OperationOutcome holding an error issue",
        eval: mhd_20,
    },
    Check {
        id: "MHD-10",
        requirement: "IHE ITI TF-2 3.65.4.1.2.3",
        level: Level::Shall,
        actor: SOURCE,
        title: "A replaced DocumentReference is PATCHed to superseded in the same Bundle",
        eval: mhd_10,
    },
    Check {
        id: "MHD-11",
        requirement: "IHE ITI TF-2 3.67.4.1.2.1",
        level: Level::Shall,
        actor: CONSUMER,
        title: "ITI-67 request has patient or patient.identifier and status (code only)",
        eval: mhd_11,
    },
    Check {
        id: "MHD-12",
        requirement: "IHE ITI TF-2 3.66.4.1.2.1",
        level: Level::Shall,
        actor: CONSUMER,
        title: "ITI-66 request has patient or patient.identifier, code and status",
        eval: mhd_12,
    },
    Check {
        id: "MHD-13",
        requirement: "IHE ITI TF-2 3.66.4.1.2, 3.67.4.1.2 (GET and POST _search, JSON and XML)",
        level: Level::Shall,
        actor: RESPONDER,
        title: "The Responder supports GET and POST _search, in FHIR JSON and XML",
        eval: mhd_13,
    },
    Check {
        id: "MHD-14",
        requirement: "IHE ITI TF-2 3.67.4.2.2",
        level: Level::Shall,
        actor: RESPONDER,
        title: "ITI-67 answers 200 with a searchset Bundle, empty when nothing matches",
        eval: mhd_14,
    },
    Check {
        id: "MHD-15",
        requirement: "IHE ITI TF-2 3.68.4.2.2",
        level: Level::Shall,
        actor: RESPONDER,
        title: "ITI-68 status code per the transaction; Content-Type is the DocumentReference's unless other content was negotiated",
        eval: mhd_15,
    },
    Check {
        id: "MHD-16",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1; IHE RAD MADO IG MadoDicomKosDocumentReference (parent IHE.MHD.Minimal.DocumentReference)",
        level: Level::Shall,
        actor: RESPONDER,
        title: "KOS DocumentReference: application/dicom, format DCMUID#1.2.840.10008.5.1.4.1.1.88.59, masterIdentifier the KOS SOP Instance UID",
        eval: mhd_16,
    },
    Check {
        id: "MHD-17",
        requirement: "IHE RAD MADO-IG MadoDicomKosDocumentReference (context.related, extension modality, context.period); IHE ITI TF-2 3.67.4.2.2",
        level: Level::Shall,
        actor: RESPONDER,
        title: "MADO DocumentReference: study-instance-uid in context.related, modality extension, context.period.start",
        eval: mhd_17,
    },
    Check {
        id: "MHD-18",
        requirement: "IHE ITI TF-2 3.67.4.1.3, 3.66.4.1.3",
        level: Level::Shall,
        actor: RESPONDER,
        title: "Search results match the parameters sent, include every known match and nothing that does not match",
        eval: mhd_18,
    },
    Check {
        id: "MHD-19",
        requirement: "IHE ITI TF-2 3.65.4.1.2.1; ITI TF-2 3.68.4.2.2",
        level: Level::Shall,
        actor: RESPONDER,
        title: "The retrieved document's size and SHA-1 equal the DocumentReference's size and hash",
        eval: mhd_19,
    },
];

#[cfg(test)]
mod tests;
