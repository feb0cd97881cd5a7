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
//! The search checks (MHD-11..14, MHD-18) live in `search.rs`, the retrieve checks (MHD-15, MHD-19)
//! in `retrieve.rs`, the ITI-65 validator in `provide.rs`, the imaging manifest checks in
//! `imaging.rs`, the rule table (id, requirement, level, title of every check, in the shared
//! vocabulary [`super::rule`]) in `rules.rs`; the registry and the rest here.
//!
//! Every rule works on `serde_json::Value` with bounded, panic-free navigation: hostile input is a
//! Fail (or NotApplicable when FHIR-01 already reports it unreadable), never a panic.

mod imaging;
mod json;
mod provide;
mod retrieve;
pub mod rules;
mod search;

use std::collections::BTreeSet;

use serde_json::Value;

use super::rule::Rule;
use super::{Check, Subject, Verdict};
use crate::evidence::{Direction, Exchange};
use crate::model::fhir::search_date::{self, DateMatch};
use crate::model::mhd_bundle::sha1_base64;
use crate::transaction::Transaction;

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
    /// MHD-18: the SUT's Patient resources (`Patient/id`) that carry the identifier a
    /// `patient.identifier` search names, looked up before the search. A result whose subject
    /// references another Patient is about someone else.
    pub patient_refs: Option<BTreeSet<String>>,
    /// ITI-68: SHA-1 (base64, as `attachment.hash` is written) and size of the body, digested
    /// while it streamed (the evidence may keep only its head).
    pub streamed: Option<(String, u64)>,
    /// What a trigger asked the SUT (a Document Source or Consumer) to act on.
    pub asked: Option<MhdAsked>,
}

/// What a trigger asked an MHD Document Source or Consumer to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MhdAsked {
    /// The patient identifier: system and value.
    pub patient: (String, String),
    /// References to that patient's Patient resource on the harness's simulator.
    pub patient_refs: BTreeSet<String>,
    /// The study the documents are about.
    pub study: String,
}

/// One rule broken by an ITI-65 bundle, located by a FHIRPath-like expression
/// (`Bundle.entry[2].resource.content[0].attachment.url`).
pub use super::rule::Violation;

/// A breach of `rule` at `expression`.
pub(crate) fn v(
    rule: &Rule,
    expression: impl Into<String>,
    message: impl Into<String>,
) -> Violation {
    Violation::at(rule, expression, message)
}

use imaging::*;
use json::*;
pub use json::{media_type, parse_fhir, FhirBodyError};
pub use provide::validate_provide_bundle;
use retrieve::*;
pub use retrieve::{document_accept, names_fhir_type};
use rules::*;
use search::*;

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
    match ex.transaction {
        Transaction::Iti65 | Transaction::Iti66 | Transaction::Iti67 | Transaction::Iti68 => true,
        Transaction::Rad107
        | Transaction::Rad108
        | Transaction::Rad129
        | Transaction::Capabilities
        | Transaction::Iti18
        | Transaction::Iti41
        | Transaction::Iti43
        | Transaction::Rad68
        | Transaction::Rad69
        | Transaction::SoapFault
        | Transaction::Fhir
        | Transaction::Dimse
        | Transaction::Iti19
        | Transaction::Iti20
        | Transaction::Iti81
        | Transaction::Iti38
        | Transaction::Iti39
        | Transaction::Rad160
        | Transaction::Rad75 => false,
    }
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

fn provide_rule(s: &Subject<'_>, rule: &Rule, expected: &str) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti65 {
        return Verdict::na("not an ITI-65 exchange");
    }
    if ex.direction == Direction::Outbound {
        return Verdict::na("the harness sent this bundle");
    }
    let bundle = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    if *rule == MHD_06 && !s.expect.mhd.comprehensive {
        return Verdict::na("the Comprehensive Metadata option is not claimed");
    }
    let ct = ex.request.header("content-type");
    let found: Vec<String> = validate_provide_bundle(&bundle, ct, s.expect.mhd.comprehensive)
        .into_iter()
        .filter(|v| v.rule == rule.id)
        .map(|v| format!("{}: {}", v.location, v.message))
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
        Err(e) => Verdict::fail(format!("a FHIR {}", wanted.join("/")), e.to_string()),
        Ok(v) => match str_at(&v, "resourceType") {
            Some(rt) if wanted.contains(&rt) => match crate::model::fhir::Resource::from_json(&v) {
                Ok(_) => Verdict::Pass,
                Err(e) => Verdict::fail("a structurally valid FHIR resource", e.to_string()),
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
    match (ex.transaction, ex.direction) {
        (Transaction::Iti65, Direction::Inbound) => Some(&["Bundle"]),
        (Transaction::Iti65 | Transaction::Iti66 | Transaction::Iti67, Direction::Outbound)
            if ok =>
        {
            Some(&["Bundle"])
        }
        (Transaction::Iti65 | Transaction::Iti66 | Transaction::Iti67, Direction::Outbound) => {
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
    provide_rule(s, &MHD_01, "a transaction Bundle claiming an MHD ProvideBundle profile, sent as application/fhir+json or +xml")
}
fn mhd_02(s: &Subject<'_>) -> Verdict {
    provide_rule(s, &MHD_02, "exactly one SubmissionSet List (POST, code submissionset, mode working, status current, date, sourceId)")
}
fn mhd_03(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_03,
        "each DocumentReference per IHE.MHD.Minimal.DocumentReference",
    )
}
fn mhd_04(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_04,
        "every attachment.url to resolve to a Binary entry of the Bundle",
    )
}
fn mhd_05(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_05,
        "attachment.size and .hash (SHA-1, base64) of the Binary.data bytes",
    )
}
fn mhd_06(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_06,
        "the elements the Comprehensive Metadata profiles require",
    )
}
fn mhd_07(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_07,
        "entryUUIDs urn:uuid:, SubmissionSet uniqueId urn:oid:",
    )
}
fn mhd_08(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_08,
        "one Patient as the subject of every DocumentReference and List",
    )
}
fn mhd_10(s: &Subject<'_>) -> Verdict {
    provide_rule(
        s,
        &MHD_10,
        "a PATCH superseding each replaced DocumentReference in the same Bundle",
    )
}

fn mhd_20(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti65 || ex.direction != Direction::Outbound {
        return Verdict::na("not an ITI-65 response from a Recipient");
    }
    if s.expect.status.is_empty() || s.expect.status.contains(&200) {
        return Verdict::na("the bundle sent was conformant");
    }
    let expected = "HTTP 4xx with an OperationOutcome holding an issue of severity error or fatal, and nothing of the bundle stored";
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
    if !has_error {
        return Verdict::fail(expected, "an OperationOutcome without an error issue");
    }
    // A transaction is atomic (FHIR R4 http.html#transaction): after the refusal, searches for
    // the bundle's DocumentReferences and SubmissionSet by identifier find nothing.
    let sent = parse_fhir(&ex.request.body.kept, ex.request.header("content-type")).ok();
    let refused: BTreeSet<String> = sent
        .iter()
        .flat_map(|b| arr(b, "entry"))
        .filter_map(|e| e.get("resource"))
        .filter(|r| {
            matches!(
                str_at(r, "resourceType"),
                Some("DocumentReference" | "List")
            )
        })
        .flat_map(identifier_values)
        .map(|v| strip_oid(&v).to_string())
        .collect();
    let mut stored = BTreeSet::new();
    for f in s.followups {
        let Some(found) = f
            .response
            .as_ref()
            .filter(|r| r.status == 200)
            .and_then(|r| parse_fhir(&r.body.kept, r.header("content-type")).ok())
        else {
            continue;
        };
        for rt in ["DocumentReference", "List"] {
            for r in matches(&found, rt) {
                for v in identifier_values(r) {
                    if refused.contains(strip_oid(&v)) {
                        stored.insert(format!("{rt} {v}"));
                    }
                }
            }
        }
    }
    if stored.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            expected,
            format!(
                "HTTP {status} refused it, yet {} of the bundle can be found",
                stored.into_iter().collect::<Vec<_>>().join(", ")
            ),
        )
    }
}

fn mhd_09(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti65 || ex.direction != Direction::Outbound {
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
        p.push(format!("Bundle.type {}", shown(str_at(&resp, "type"))));
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
            p.push(format!(
                "entry[{i}].response.status {}, not 201",
                shown(Some(st))
            ));
        }
        if !is_patch && !r.get("response").is_some_and(|x| present(x, "location")) {
            p.push(format!("entry[{i}].response.location absent"));
        }
    }
    fails(p, expected)
}

/// DocumentReferences judged by the imaging rules: a Responder's search results, or a Source's
/// ITI-65 bundle.
fn imaging_docrefs(s: &Subject<'_>) -> Result<Vec<Value>, Verdict> {
    if !s.expect.mhd.imaging {
        return Err(Verdict::na("no imaging content expected"));
    }
    let ex = s.exchange;
    let judged = (ex.transaction == Transaction::Iti67 && ex.direction == Direction::Outbound)
        || (ex.transaction == Transaction::Iti65 && ex.direction == Direction::Inbound);
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

/// Does a subject designate the asked patient: by its identifier, by a reference to the Patient
/// the harness knows for them, or by a reference to a Patient of the bundle with their identifier?
fn subject_is(asked: &MhdAsked, subject: Option<&Value>, bundle: Option<&Value>) -> bool {
    let Some(subject) = subject else {
        return false;
    };
    let (sys, val) = (&asked.patient.0, &asked.patient.1);
    let carries = |i: &Value| {
        str_at(i, "value") == Some(val.as_str())
            && str_at(i, "system").is_none_or(|s| s == sys.as_str())
    };
    if let Some(i) = subject.get("identifier") {
        return carries(i);
    }
    let Some(r) = str_at(subject, "reference") else {
        return false;
    };
    if asked.patient_refs.contains(&canonical_reference(r)) {
        return true;
    }
    bundle.is_some_and(|b| {
        arr(b, "entry")
            .iter()
            .filter(|e| str_at(e, "fullUrl") == Some(r))
            .filter_map(|e| e.get("resource"))
            .any(|p| arr(p, "identifier").iter().any(carries))
    })
}

/// The Study Instance UID of a KOS a DocumentReference of a bundle points at (its Binary entry).
fn kos_study_in_bundle(bundle: &Value, dr: &Value) -> Option<String> {
    let url = arr(dr, "content")
        .iter()
        .filter_map(|c| c.get("attachment"))
        .find_map(|a| str_at(a, "url"))?;
    let binary = arr(bundle, "entry")
        .iter()
        .filter(|e| str_at(e, "fullUrl") == Some(url))
        .find_map(|e| e.get("resource"))?;
    let data = b64_decode(str_at(binary, "data")?)?;
    crate::model::kos::parse(&data).ok()?.study.instance_uid
}

/// MHD-21: a Document Source asked to publish the documents of a study publishes documents of that
/// study, for its patient.
fn mhd_21(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    let Some(asked) = &s.expect.mhd.asked else {
        return Verdict::na("the SUT was not asked to publish a given study");
    };
    if ex.transaction != Transaction::Iti65 || ex.direction != Direction::Inbound {
        return Verdict::na("not an ITI-65 request of the SUT");
    }
    let b = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    let mut p = Vec::new();
    let mut about_study = false;
    for (i, e) in entries(&b) {
        let Some(r) = e.get("resource") else { continue };
        let rt = str_at(r, "resourceType").unwrap_or("");
        let is_doc = rt == "DocumentReference";
        if !(is_doc || (rt == "List" && is_submission_set(r))) {
            continue;
        }
        if !subject_is(asked, r.get("subject"), Some(&b)) {
            p.push(format!(
                "entry[{i}] {rt}: subject {} is not patient {}|{}",
                r.get("subject")
                    .and_then(subject_key)
                    .unwrap_or_else(|| "(none)".into()),
                asked.patient.0,
                asked.patient.1
            ));
        }
        if is_doc {
            let mut studies: BTreeSet<String> = study_uids(r)
                .into_iter()
                .map(|u| strip_oid(u).to_string())
                .collect();
            studies.extend(kos_study_in_bundle(&b, r));
            for st in &studies {
                if st == &asked.study {
                    about_study = true;
                } else {
                    p.push(format!("entry[{i}] DocumentReference: study {st}"));
                }
            }
        }
    }
    if !about_study {
        p.push(format!(
            "no DocumentReference names study {} (context.related or its KOS)",
            asked.study
        ));
    }
    fails(
        p,
        &format!(
            "the documents of study {} for patient {}|{}",
            asked.study, asked.patient.0, asked.patient.1
        ),
    )
}

/// MHD-22: a Document Consumer asked about a patient searches for that patient.
fn mhd_22(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    let Some(asked) = &s.expect.mhd.asked else {
        return Verdict::na("the SUT was not asked about a given patient");
    };
    if !matches!(ex.transaction, Transaction::Iti66 | Transaction::Iti67)
        || ex.direction != Direction::Inbound
    {
        return Verdict::na("not an ITI-66/67 request of the SUT");
    }
    let (sys, val) = (asked.patient.0.as_str(), asked.patient.1.as_str());
    let mut named = Vec::new();
    let mut wrong = Vec::new();
    for (k, v) in request_params(ex) {
        let right = match param_base(&k) {
            "patient.identifier" | "subject.identifier" => token_matches(&v, &[(sys, val)]),
            "patient" | "subject" if k.ends_with(":identifier") => token_matches(&v, &[(sys, val)]),
            "patient" | "subject" => {
                let r = canonical_reference(&v);
                let r = if r.contains('/') {
                    r
                } else {
                    format!("Patient/{v}")
                };
                asked.patient_refs.contains(&r)
            }
            _ => continue,
        };
        named.push(format!("{k}={v}"));
        if !right {
            wrong.push(format!("{k}={v}"));
        }
    }
    let expected = format!("a search for patient {sys}|{val}");
    if named.is_empty() {
        Verdict::fail(expected, "a search naming no patient")
    } else if wrong.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, format!("a search for {}", wrong.join(", ")))
    }
}

const SOURCE: &str = "MHD Document Source";
const RECIPIENT: &str = "MHD Document Recipient";
const CONSUMER: &str = "MHD Document Consumer";
const RESPONDER: &str = "MHD Document Responder";

/// A check of an MHD [`Rule`](super::rule::Rule): its id, requirement, level and title are the rule's.
macro_rules! check {
    ($rule:ident, $reqs:expr, $actor:expr, $eval:expr) => {
        Check {
            id: $rule.id,
            requirement: $rule.requirement,
            requirements: $reqs,
            level: $rule.level,
            actor: $actor,
            title: $rule.title,
            eval: $eval,
        }
    };
}

/// The checks.
pub static CHECKS: &[Check] = &[
    check!(FHIR_01, &["FHIR-3.1.0", "FHIR-2.6"], "MHD actor", fhir_01),
    check!(FHIR_02, &["FHIR-2.6.2"], "MHD actor", fhir_02),
    check!(MHD_01, &["ITI2-3.65.4.1.2.1"], SOURCE, mhd_01),
    check!(
        MHD_02,
        &["ITI2-3.65.4.1.2.1", "MHDIG-Minimal.SubmissionSet"],
        SOURCE,
        mhd_02
    ),
    check!(
        MHD_03,
        &["ITI2-3.65.4.1.2.1", "MHDIG-Minimal.DocumentReference"],
        SOURCE,
        mhd_03
    ),
    check!(MHD_04, &["ITI2-3.65.4.1.2.1"], SOURCE, mhd_04),
    check!(MHD_05, &["ITI2-3.65.4.1.2.1"], SOURCE, mhd_05),
    check!(
        MHD_06,
        &["ITI2-3.65.4.1.2.1", "MHDIG-UnContained.Comprehensive"],
        SOURCE,
        mhd_06
    ),
    check!(
        MHD_07,
        &["ITI2-3.65.4.1.2.1", "MHDIG-identifier"],
        SOURCE,
        mhd_07
    ),
    check!(MHD_08, &["ITI2-3.65.4.1.2.2"], SOURCE, mhd_08),
    check!(MHD_09, &["ITI2-3.65.4.2.2"], RECIPIENT, mhd_09),
    check!(
        MHD_20,
        &["ITI2-3.65.4.1.3", "FHIR-3.1.0.11.2", "FHIR-3.1.0.4"],
        RECIPIENT,
        mhd_20
    ),
    check!(MHD_10, &["ITI2-3.65.4.1.2.3"], SOURCE, mhd_10),
    check!(MHD_11, &["ITI2-3.67.4.1.2.1"], CONSUMER, mhd_11),
    check!(MHD_12, &["ITI2-3.66.4.1.2.1"], CONSUMER, mhd_12),
    check!(
        MHD_13,
        &["ITI2-3.66.4.1.2", "ITI2-3.67.4.1.2", "ITI2-3.67.4.1.2.2"],
        RESPONDER,
        mhd_13
    ),
    check!(
        MHD_14,
        &["ITI2-3.67.4.2.2", "ITI2-3.66.4.2.2"],
        RESPONDER,
        mhd_14
    ),
    check!(
        MHD_15,
        &["ITI2-3.68.4.1.3", "ITI2-3.68.4.2.2", "FHIR-binary-rest"],
        RESPONDER,
        mhd_15
    ),
    check!(
        MHD_16,
        &["ITI2-3.65.4.1.2.1", "MADOIG-MadoDicomKosDocumentReference"],
        RESPONDER,
        mhd_16
    ),
    check!(
        MHD_17,
        &["MADOIG-MadoDicomKosDocumentReference", "ITI2-3.67.4.2.2"],
        RESPONDER,
        mhd_17
    ),
    check!(
        MHD_18,
        &["ITI2-3.67.4.1.3", "ITI2-3.66.4.1.3"],
        RESPONDER,
        mhd_18
    ),
    check!(
        MHD_19,
        &["ITI2-3.68.4.2.2", "ITI2-3.65.4.1.2.1", "FHIR-binary-rest"],
        RESPONDER,
        mhd_19
    ),
    check!(
        MHD_21,
        &["ITI2-3.65.4.1.2", "ITI2-3.65.4.1.2.2"],
        SOURCE,
        mhd_21
    ),
    check!(
        MHD_22,
        &["ITI2-3.66.4.1.2.1", "ITI2-3.67.4.1.2.1"],
        CONSUMER,
        mhd_22
    ),
];

#[cfg(test)]
mod tests;
