//! MHD steps (ITI-65, ITI-66, ITI-67, ITI-68) with the MADO manifests and the HL7 Europe imaging
//! report they carry, and the scenarios where the SUT calls the harness's simulated Document
//! Recipient/Responder after a trigger.
//!
//! The harness knows what the SUT holds: the documents of the test studies
//! ([`crate::model::fixtures::mhd::Catalogue`]), published as the reference publishes them. Every
//! search expectation is that catalogue filtered by the same parameters, so the checks judge both
//! sides of a search: every match is returned and nothing else is.

mod sut_calls;

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use cucumber::{given, then, when};
use serde_json::Value;

use super::{
    another_patient, harness_error, judge, not_applicable, record, stop_once, StepError,
    StepResult, UNKNOWN_PATIENT,
};
use crate::actors::mhd::MhdClient;
use crate::checks::mhd::{document_accept, ExpectedDocument, MhdAsked, MhdExpect};
use crate::checks::Expect;
use crate::config::TestDataMode;
use crate::evidence::Exchange;
use crate::model::fhir::search_date::{self, DateMatch};
use crate::model::fixtures::mhd::{self as mhd_content, PublishedDoc};
use crate::transaction::Transaction;
use crate::world::{HarnessWorld, Retrieved};

/// The MHD list type code system.
const LIST_TYPES: &str = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes";

/// The checks a searchset answer is judged by.
const SEARCH_CHECKS: &[&str] = &["FHIR-01", "FHIR-02", "MHD-13", "MHD-14", "MHD-18"];
/// The MADO rules of a KOS manifest (IHE RAD MADO 6.X.2).
const KOS_MADO_CHECKS: &[&str] = &[
    "KOS-12", "KOS-13", "KOS-14", "KOS-15", "KOS-16", "KOS-17", "KOS-19",
];
/// The MADO FHIR manifest rules.
const FHIR_MANIFEST_CHECKS: &[&str] = &[
    "MADO-01", "MADO-02", "MADO-03", "MADO-04", "MADO-05", "MADO-06", "MADO-07", "MADO-08",
    "MADO-09", "MADO-10", "MADO-11", "MADO-12",
];
/// The checks an ITI-68 answer is judged by.
const RETRIEVE_CHECKS: &[&str] = &["MHD-15", "MHD-19"];

// ---------------------------------------------------------------------------------------------
// Helpers

fn client(world: &mut HarnessWorld) -> Result<MhdClient, StepError> {
    match world.ctx.mhd.clone() {
        Some(c) => Ok(c),
        None => Err(not_applicable(
            world,
            "no MHD endpoint",
            "the SUT profile declares no MHD Document Recipient/Responder ([mhd] table)",
        )),
    }
}

fn pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn patient_of(world: &mut HarnessWorld, alias: &str) -> Result<String, StepError> {
    let insts = super::study_instances(world, alias)?;
    Ok(insts
        .first()
        .map(|i| i.patient_id.clone())
        .unwrap_or_default())
}

fn patient_system(world: &HarnessWorld) -> String {
    world
        .ctx
        .config
        .mhd
        .as_ref()
        .map(|m| m.patient_id_system.clone())
        .unwrap_or_else(mhd_content::patient_system)
}

fn accession_system(world: &HarnessWorld) -> String {
    world
        .ctx
        .config
        .mhd
        .as_ref()
        .map(|m| m.accession_system.clone())
        .unwrap_or_else(|| mhd_content::ACCESSION_SYSTEM.into())
}

fn patient_param(world: &HarnessWorld, patient: &str) -> (String, String) {
    (
        "patient.identifier".into(),
        format!("{}|{patient}", patient_system(world)),
    )
}

/// The search expectation: the catalogue's documents that match `params` (with the patient given
/// by identifier, as the catalogue knows it) must be returned; the others must not.
fn search_expect(
    world: &HarnessWorld,
    params: &[(String, String)],
    truth_params: &[(String, String)],
) -> Expect {
    let cat = &world.ctx.mhd_catalogue;
    // A date parameter is a range in a zone the server chooses (FHIR R4 search §3.1.1.4.7): a
    // document must be returned when it matches under every reading, and must not be when it
    // matches under none; in between, the server decides.
    let dates: Vec<&(String, String)> = truth_params
        .iter()
        .filter(|(k, _)| search_date::is_date_param(k))
        .collect();
    let rest: Vec<(String, String)> = truth_params
        .iter()
        .filter(|(k, _)| !search_date::is_date_param(k))
        .cloned()
        .collect();
    let on_dates = |d: &&PublishedDoc, keep: fn(DateMatch) -> bool| {
        dates
            .iter()
            .all(|(k, v)| search_date::resource_matches(&d.docref, k, v).is_none_or(keep))
    };
    let candidates = cat.matching(&rest);
    let ids = |keep: fn(DateMatch) -> bool| -> BTreeSet<String> {
        candidates
            .iter()
            .filter(|d| on_dates(d, keep))
            .map(|d| d.master_identifier().to_string())
            .collect()
    };
    let matching = ids(|m| m == DateMatch::Always);
    let possible = ids(|m| m != DateMatch::Never);
    let all: BTreeSet<String> = cat
        .docs
        .iter()
        .map(|d| d.master_identifier().to_string())
        .collect();
    Expect {
        status: vec![200],
        mhd: MhdExpect {
            comprehensive: false,
            search: params.to_vec(),
            known_matches: Some(matching),
            must_not_match: all.difference(&possible).cloned().collect(),
            ..MhdExpect::default()
        },
        ..Expect::default()
    }
}

/// A FHIR answer's body as JSON: XML (by its Content-Type) converted, JSON parsed; None when it
/// is neither.
fn fhir_body(r: &crate::evidence::HttpResponse) -> Option<Value> {
    if r.header("content-type").is_some_and(|c| c.contains("xml")) {
        crate::model::fhir::xml::to_json(&r.body.kept).ok()
    } else {
        serde_json::from_slice::<Value>(&r.body.kept).ok()
    }
}

/// The items of the array `v` holds at `key`: none when it holds no array there.
fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The resources of the entries of a Bundle.
fn entry_resources(bundle: &Value) -> impl Iterator<Item = &Value> {
    array_at(bundle, "entry")
        .iter()
        .filter_map(|e| e.get("resource"))
}

/// The documents of a searchset answer (moved out of the parsed page, not copied).
fn hits_of(ex: &Exchange) -> Vec<Value> {
    let Some(r) = ex.response.as_ref() else {
        return Vec::new();
    };
    let entries = match fhir_body(r) {
        Some(mut b) => match b.get_mut("entry").map(Value::take) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|mut e| e.get_mut("resource").map(Value::take))
        .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("DocumentReference"))
        .collect()
}

/// The DocumentReferences of the last search answer and of the pages followed, in order, handed
/// to `visit` until it returns false. Read page by page when a step needs them, not held: a
/// scenario holds the bodies of its pages (within `[limits]`, [`follow_pages`]) and at most one
/// page parsed.
fn visit_hits(world: &HarnessWorld, mut visit: impl FnMut(Value) -> bool) {
    let pages = world
        .mhd
        .last
        .into_iter()
        .chain(world.mhd.pages.iter().copied());
    for i in pages {
        let Some(ex) = world.evidence.get(i) else {
            continue;
        };
        for hit in hits_of(ex) {
            if !visit(hit) {
                return;
            }
        }
    }
}

/// The first DocumentReference of the last search whose masterIdentifier is `master`.
fn hit_with_master(world: &HarnessWorld, master: &str) -> Option<Value> {
    let mut found = None;
    visit_hits(world, |d| {
        if master_of(&d) == Some(master) {
            found = Some(d);
            false
        } else {
            true
        }
    });
    found
}

fn master_of(docref: &Value) -> Option<&str> {
    docref
        .pointer("/masterIdentifier/value")
        .and_then(Value::as_str)
}

async fn search(
    world: &mut HarnessWorld,
    params: Vec<(String, String)>,
    truth: Vec<(String, String)>,
    post: bool,
    xml: bool,
) -> StepResult {
    let c = client(world)?;
    let mut patient_refs = patient_refs_of(world, &c, &params).await?;
    let ex = c.find_document_references(&params, post, xml).await;
    let idx = record(world, ex)?;
    let pages = follow_pages(world, &c, idx, Transaction::Iti67, xml).await?;
    complete_patient_refs(world, &c, &params, idx, &pages, &mut patient_refs).await?;
    world.mhd.expect = search_expect(world, &params, &truth);
    world.mhd.expect.mhd.patient_refs = patient_refs;
    world.mhd.pages = pages;
    world.mhd.last = Some(idx);
    Ok(())
}

/// For a search by `patient.identifier`, the SUT's Patients that carry the identifier
/// (`Patient/id`), looked up as a consumer grouped with PDQm would: a result whose subject
/// references another Patient is about someone else (ITI TF-2 3.67.4.1.2.1). None when the
/// search names no identifier or the lookup gives no searchset to read.
async fn patient_refs_of(
    world: &mut HarnessWorld,
    c: &MhdClient,
    params: &[(String, String)],
) -> Result<Option<BTreeSet<String>>, StepError> {
    let Some((_, token)) = params
        .iter()
        .find(|(k, _)| k == "patient.identifier" || k == "subject.identifier")
    else {
        return Ok(None);
    };
    let ex = c.find_patient(token, crate::actors::mhd::CONSUMER).await;
    let idx = record(world, ex)?;
    let Some(bundle) = world
        .evidence
        .get(idx)
        .and_then(|e| e.response.as_ref())
        .filter(|r| r.status == 200)
        .and_then(|r| r.json())
        .filter(|b| b.get("resourceType").and_then(Value::as_str) == Some("Bundle"))
    else {
        return Ok(None);
    };
    Ok(Some(
        entry_resources(&bundle)
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("Patient"))
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .map(|id| format!("Patient/{id}"))
            .collect(),
    ))
}

/// How many Patients a search names beyond those its identifier lookup listed the harness reads.
const MAX_PATIENT_READS: usize = 20;

/// `Patient/id` of a subject reference to a Patient (relative, absolute or versioned), else None.
fn patient_key(r: &str) -> Option<String> {
    let r = r.trim().split("/_history/").next().unwrap_or(r);
    let mut parts = r.rsplit('/');
    let id = parts.next().filter(|i| !i.is_empty())?;
    (parts.next()? == "Patient").then(|| format!("Patient/{id}"))
}

/// The Patients the subjects of search pages reference that `known` does not hold, in order,
/// each once: their absolute or relative reference as written, and their `Patient/id`.
fn unknown_subjects(pages: &[&Exchange], known: &BTreeSet<String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for p in pages {
        let Some(b) = p.response.as_ref().and_then(fhir_body) else {
            continue;
        };
        for res in entry_resources(&b) {
            let Some(written) = res.pointer("/subject/reference").and_then(Value::as_str) else {
                continue;
            };
            let Some(key) = patient_key(written) else {
                continue;
            };
            if !known.contains(&key) && !out.iter().any(|(_, k)| *k == key) {
                out.push((written.to_string(), key));
            }
        }
    }
    out
}

/// Does the Patient resource `p` carry the identifier of token `system|value` (or `value`)?
fn carries_identifier(p: &Value, token: &str) -> bool {
    let (sys, val) = token.split_once('|').unwrap_or(("", token));
    p.get("resourceType").and_then(Value::as_str) == Some("Patient")
        && array_at(p, "identifier").iter().any(|i| {
            i.get("value").and_then(Value::as_str) == Some(val)
                && (sys.is_empty() || i.get("system").and_then(Value::as_str) == Some(sys))
        })
}

/// Complete the Patients of a `patient.identifier` search (`refs`) with those its answer names
/// that the lookup did not list, read one by one: a search by identifier matches every Patient
/// that carries it (FHIR R4 search, chained parameters), and on a server other clients share,
/// several may, on lookup pages not read or created after the lookup. A Patient read that does
/// not carry the identifier stays out, so its documents are another patient's.
async fn complete_patient_refs(
    world: &mut HarnessWorld,
    c: &MhdClient,
    params: &[(String, String)],
    first: usize,
    pages: &[usize],
    refs: &mut Option<BTreeSet<String>>,
) -> StepResult {
    let Some(known) = refs.as_mut() else {
        return Ok(());
    };
    let Some((_, token)) = params
        .iter()
        .find(|(k, _)| k == "patient.identifier" || k == "subject.identifier")
    else {
        return Ok(());
    };
    let read: Vec<&Exchange> = std::iter::once(first)
        .chain(pages.iter().copied())
        .filter_map(|i| world.evidence.get(i))
        .collect();
    let unknown = unknown_subjects(&read, known);
    for (written, key) in unknown.into_iter().take(MAX_PATIENT_READS) {
        let ex = c.read_patient(&written, crate::actors::mhd::CONSUMER).await;
        let idx = record(world, ex)?;
        let patient = world
            .evidence
            .get(idx)
            .and_then(|e| e.response.as_ref())
            .filter(|r| r.status == 200)
            .and_then(|r| r.json());
        if patient.is_some_and(|p| carries_identifier(&p, token)) {
            known.insert(key);
        }
    }
    Ok(())
}

/// How many `next` pages of one search the harness follows.
const MAX_PAGES: usize = 20;

/// Follow the `next` links of the search answer `idx` (FHIR R4 §3.1.1.6), recording each page;
/// their evidence indexes, in order. A link already followed is not followed again.
///
/// The pages of one search are one answer to judge: the harness reads them while they hold, all
/// together, at most `[limits] max_body_bytes` bytes and `max_parsed_nodes` JSON values or XML
/// elements (the page that passes either is the last one read), and at most [`MAX_PAGES`] pages.
/// A search cut short is not an error of the SUT: the rules judge the pages read (MHD-18 does
/// not look for missing resources in a search not read to its end), and `world.mhd.cut` says
/// why, for a step that needs a resource the pages read do not hold ([`absent_from_search`]).
/// Without the bound, a patient with a few thousand documents made every search of a scenario
/// hold 20 pages and every DocumentReference of them parsed: 219 MB for 100 per page, 812 MB for
/// 600 per page.
async fn follow_pages(
    world: &mut HarnessWorld,
    c: &MhdClient,
    idx: usize,
    transaction: Transaction,
    xml: bool,
) -> Result<Vec<usize>, StepError> {
    let limits = world.ctx.config.limits;
    let mut pages = Vec::new();
    let mut seen = BTreeSet::new();
    let mut current = idx;
    let (mut bytes, mut nodes) = (0u64, 0u64);
    world.mhd.cut = None;
    while let Some(ex) = world.evidence.get(current) {
        if let Some(r) = &ex.response {
            bytes += r.body.size;
            nodes += crate::transport::http::parse_nodes(&r.body.kept).map_or(0, |(_, n)| n);
        }
        let Some(next) = next_link(ex) else {
            break;
        };
        let next = page_url(&ex.request.url, &next);
        let read = pages.len() + 1;
        let cut = if bytes > limits.max_body {
            Some(format!(
                "its {read} pages read hold {bytes} bytes, more than the {} the harness reads of one search ([limits] max_body_bytes)",
                limits.max_body
            ))
        } else if nodes > limits.max_nodes {
            Some(format!(
                "its {read} pages read hold {nodes} JSON values or XML elements, more than the {} the harness parses of one search ([limits] max_parsed_nodes)",
                limits.max_nodes
            ))
        } else if pages.len() >= MAX_PAGES {
            Some(format!(
                "the harness follows at most {MAX_PAGES} next links of one search"
            ))
        } else {
            None
        };
        if let Some(why) = cut {
            world.mhd.cut = Some(why);
            break;
        }
        if !seen.insert(next.clone()) {
            break;
        }
        let ex = c.next_page(transaction, &next, xml).await;
        current = record(world, ex)?;
        pages.push(current);
    }
    Ok(pages)
}

/// Where a `next` link leads: an absolute link as it is, a relative one resolved against the URL
/// of the page that carries it (RFC 3986 §5.1.3: the base of a document is the URI it was
/// retrieved from), so that `?page=2` stays on the search it pages.
fn page_url(from: &str, link: &str) -> String {
    let link = link.trim();
    match url::Url::parse(link) {
        Ok(u) => u.to_string(),
        Err(_) => url::Url::parse(from)
            .and_then(|b| b.join(link))
            .map(|u| u.to_string())
            .unwrap_or_else(|_| link.to_string()),
    }
}

/// The identifiers of the resources a search page holds (masterIdentifier and identifier values,
/// `urn:oid:` stripped), as MHD-18 compares them with the matches the SUT holds.
fn page_identifiers(ex: &Exchange) -> BTreeSet<String> {
    let Some(r) = ex.response.as_ref() else {
        return BTreeSet::new();
    };
    let Some(bundle) = fhir_body(r) else {
        return BTreeSet::new();
    };
    let strip = |v: &str| v.strip_prefix("urn:oid:").unwrap_or(v).to_string();
    let mut out = BTreeSet::new();
    for res in entry_resources(&bundle) {
        if let Some(m) = res
            .pointer("/masterIdentifier/value")
            .and_then(Value::as_str)
        {
            out.insert(strip(m));
        }
        for i in array_at(res, "identifier") {
            if let Some(v) = i.get("value").and_then(Value::as_str) {
                out.insert(strip(v));
            }
        }
    }
    out
}

/// The matches the SUT holds that a search not followed to its end has not shown: the last page
/// read still links a next one (past the MAX_PAGES next links the harness follows, or back to a
/// page it read). None when the search was read to its end or showed every match.
fn unseen_matches(pages: &[&Exchange], known: &BTreeSet<String>) -> Option<Vec<String>> {
    let last = pages.last()?;
    next_link(last)?;
    let seen: BTreeSet<String> = pages.iter().flat_map(|p| page_identifiers(p)).collect();
    let unseen: Vec<String> = known
        .iter()
        .filter(|k| !seen.contains(k.strip_prefix("urn:oid:").unwrap_or(k)))
        .cloned()
        .collect();
    (!unseen.is_empty()).then_some(unseen)
}

/// The step needs a resource that the search answer `idx` does not hold: a Fail of MHD-18 when
/// the harness read the whole answer. When it read only part of it ([`follow_pages`]: a SUT that
/// pages a large result correctly broke nothing), the resource may be on a page not read: an
/// Error of the harness, which names the limit and the key that raises it.
fn absent_from_search(
    world: &mut HarnessWorld,
    idx: Option<usize>,
    expected: impl Into<String>,
    actual: impl Into<String>,
) -> StepError {
    match world.mhd.cut.clone() {
        Some(why) => {
            let (expected, actual) = (expected.into(), actual.into());
            harness_error(
                world,
                "search not read to its end",
                format!(
                    "{actual} (expected {expected}), but the harness did not read the whole search answer: {why}"
                ),
            )
        }
        None => stop_once(world, "MHD-18", idx, expected, actual),
    }
}

/// The `next` link of a searchset answer.
fn next_link(ex: &Exchange) -> Option<String> {
    let r = ex.response.as_ref().filter(|r| r.status == 200)?;
    let b = fhir_body(r)?;
    b.get("link")?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(Value::as_str) == Some("next"))
        .and_then(|l| l.get("url").and_then(Value::as_str))
        .map(str::to_string)
}

fn with_patient(
    world: &HarnessWorld,
    patient: &str,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut p = vec![patient_param(world, patient)];
    if !extra.iter().any(|(k, _)| k == "status") {
        p.push(("status".into(), "current".into()));
    }
    p.extend(extra.iter().cloned());
    p
}

// ---------------------------------------------------------------------------------------------
// Test data

#[given("the MHD responder holds the documents of the test studies")]
async fn holds_documents(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    if world.ctx.config.test_data == TestDataMode::Preloaded {
        return Ok(());
    }
    let ctx = world.ctx.clone();
    let mut exchanges = Vec::new();
    let result = ctx
        .mhd_data
        .get_or_init(|| {
            crate::test_data::load_mhd(&ctx.fixtures, &ctx.mhd_catalogue, &c, &mut exchanges)
        })
        .await
        .clone();
    let mut last = None;
    for ex in exchanges {
        last = Some(world.evidence.record(ex));
    }
    match result {
        Ok(()) => Ok(()),
        // A conformant bundle refused is the Recipient's breach, even when it stops the scenario.
        Err(e) if e.is_refusal() => Err(stop_once(
            world,
            "MHD-09",
            last,
            "HTTP 200 and a transaction-response for the conformant ITI-65 of the test documents",
            e.to_string(),
        )),
        Err(e) => Err(harness_error(
            world,
            "could not publish the test documents",
            e.to_string(),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// ITI-67

#[when(expr = "the consumer finds the documents of the patient of study {string}")]
async fn find_by_patient(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &[]);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of the patient of study {string} with {string}")]
async fn find_with(world: &mut HarnessWorld, alias: String, extra: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &pairs(&extra));
    search(world, params.clone(), params, false, false).await
}

#[when(
    expr = "the consumer finds the documents of the patient of study {string} with POST _search"
)]
async fn find_post(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &[]);
    search(world, params.clone(), params, true, false).await
}

#[when(expr = "the consumer finds the documents of the patient of study {string} in FHIR XML")]
async fn find_xml(world: &mut HarnessWorld, alias: String) -> StepResult {
    // A Document Responder shall support both XML and JSON (ITI TF-2 3.67.4.1.2.2); no option
    // lets it claim one only, so this scenario applies to every Responder.
    let p = patient_of(world, &alias)?;
    let params = with_patient(world, &p, &[]);
    search(world, params.clone(), params, false, true).await
}

#[when(
    expr = "the consumer finds the documents of the patient of study {string} by patient reference"
)]
async fn find_by_reference(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    // Resolve the Patient resource first, as a consumer grouped with PDQm would.
    let reference = patient_reference(world, &alias, crate::actors::mhd::CONSUMER).await?;
    let params = vec![
        ("patient".to_string(), reference),
        ("status".to_string(), "current".to_string()),
    ];
    let truth = with_patient(world, &p, &[]);
    search(world, params, truth, false, false).await
}

#[when("the consumer finds the documents of an unknown patient")]
async fn find_unknown(world: &mut HarnessWorld) -> StepResult {
    let params = with_patient(world, UNKNOWN_PATIENT, &[]);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of an unknown patient with {string}")]
async fn find_unknown_with(world: &mut HarnessWorld, extra: String) -> StepResult {
    let params = with_patient(world, UNKNOWN_PATIENT, &pairs(&extra));
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of study {string} by Study Instance UID")]
async fn find_by_study(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = super::study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let extra = vec![(
        "study-instance-uid".to_string(),
        format!("urn:oid:{}", first.study_uid),
    )];
    let params = with_patient(world, &first.patient_id, &extra);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the documents of study {string} by accession number")]
async fn find_by_accession(world: &mut HarnessWorld, alias: String) -> StepResult {
    let insts = super::study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let acc = first.accession.clone().unwrap_or_default();
    let extra = vec![(
        "accession-number".to_string(),
        format!("{}|{acc}", accession_system(world)),
    )];
    let params = with_patient(world, &first.patient_id, &extra);
    search(world, params.clone(), params, false, false).await
}

#[when(expr = "the consumer finds the reports of study {string} in every status")]
async fn find_reports_all(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    let insts = super::study_instances(world, &alias)?;
    let study = insts
        .first()
        .map(|i| i.study_uid.clone())
        .unwrap_or_default();
    let extra = vec![
        ("status".to_string(), "current,superseded".to_string()),
        (
            "type".to_string(),
            format!("{}|{}", crate::model::fhir::LOINC, mhd_content::REPORT_TYPE),
        ),
        ("study-instance-uid".to_string(), format!("urn:oid:{study}")),
    ];
    let params = with_patient(world, &p, &extra);
    search(world, params.clone(), params, false, false).await
}

#[then("the result is a searchset holding exactly the matching documents")]
async fn exact_result(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)
}

#[then("the result is an empty searchset")]
async fn empty_result(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)
}

#[then("the result holds a report and no manifest")]
async fn report_no_manifest(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)?;
    let mut types: Vec<String> = Vec::new();
    visit_hits(world, |d| {
        types.extend(
            d.pointer("/type/coding/0/code")
                .and_then(Value::as_str)
                .map(str::to_string),
        );
        true
    });
    if types.iter().any(|t| t == mhd_content::REPORT_TYPE)
        && !types.iter().any(|t| t == mhd_content::MANIFEST_TYPE)
    {
        Ok(())
    } else {
        // The SUT holds the study's report and no manifest (the test data): an answer with
        // other documents is its breach.
        let idx = world.mhd.last;
        let expected = "the study's report, and no manifest";
        let actual = format!("documents of types [{}]", types.join(", "));
        if types.iter().any(|t| t == mhd_content::MANIFEST_TYPE) {
            Err(stop_once(world, "MHD-18", idx, expected, actual))
        } else {
            Err(absent_from_search(world, idx, expected, actual))
        }
    }
}

#[then("the manifest DocumentReferences follow the MADO envelope")]
async fn mado_envelope(world: &mut HarnessWorld) -> StepResult {
    world.mhd.expect.mhd.imaging = true;
    judge_last(world, &["MHD-16", "MHD-17"])
}

fn judge_last(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let Some(idx) = world.mhd.last else {
        return Err(harness_error(
            world,
            "no MHD exchange",
            "a Then step ran before any MHD When step",
        ));
    };
    let expect = world.mhd.expect.clone();
    let pages: Vec<Exchange> = world
        .mhd
        .pages
        .iter()
        .filter_map(|i| world.evidence.get(*i).cloned())
        .collect();
    judge(world, idx, &expect, &pages, ids)?;
    // MHD-18 judges what the pages read show; a match they do not show may be on a page the
    // harness did not read. That is the harness's limit, not the SUT's breach: an Error that says so.
    let (Some(known), true) = (&expect.mhd.known_matches, ids.contains(&"MHD-18")) else {
        return Ok(());
    };
    let read: Vec<&Exchange> = world.evidence.get(idx).into_iter().chain(&pages).collect();
    let why = world.mhd.cut.clone().unwrap_or_else(|| {
        format!("the harness follows at most {MAX_PAGES} next links, none twice")
    });
    match unseen_matches(&read, known) {
        Some(unseen) => Err(harness_error(
            world,
            "search not read to its end",
            format!(
                "after {} pages the answer still links a next page ({why}): whether {} {} returned on a later page is not judged",
                read.len(),
                crate::evidence::quote_list(&unseen),
                if unseen.len() == 1 { "is" } else { "are" }
            ),
        )),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// ITI-66

#[when(expr = "the consumer finds the submission sets of the patient of study {string}")]
async fn find_lists(world: &mut HarnessWorld, alias: String) -> StepResult {
    let p = patient_of(world, &alias)?;
    lists(world, &p).await
}

#[when("the consumer finds the submission sets of an unknown patient")]
async fn find_lists_unknown(world: &mut HarnessWorld) -> StepResult {
    lists(world, UNKNOWN_PATIENT).await
}

async fn lists(world: &mut HarnessWorld, patient: &str) -> StepResult {
    let c = client(world)?;
    let params = vec![
        patient_param(world, patient),
        ("code".to_string(), format!("{LIST_TYPES}|submissionset")),
        ("status".to_string(), "current".to_string()),
    ];
    let mut patient_refs = patient_refs_of(world, &c, &params).await?;
    let ex = c.find_lists(&params, false).await;
    let idx = record(world, ex)?;
    let pages = follow_pages(world, &c, idx, Transaction::Iti66, false).await?;
    complete_patient_refs(world, &c, &params, idx, &pages, &mut patient_refs).await?;
    let cat = &world.ctx.mhd_catalogue;
    let ids = |r: &str| cat.patient_identifiers(r);
    let unique = |l: &Value| {
        l.pointer("/identifier/0/value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let matching: BTreeSet<String> = cat
        .submission_sets
        .iter()
        .filter(|l| crate::model::fhir::search::list_matches(l, &params, &ids))
        .map(unique)
        .collect();
    let all: BTreeSet<String> = cat.submission_sets.iter().map(unique).collect();
    world.mhd.expect = Expect {
        status: vec![200],
        mhd: MhdExpect {
            search: params.clone(),
            known_matches: Some(matching.clone()),
            must_not_match: all.difference(&matching).cloned().collect(),
            patient_refs,
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    world.mhd.pages = pages;
    world.mhd.last = Some(idx);
    Ok(())
}

#[then("the result is a searchset holding exactly the matching submission sets")]
async fn exact_lists(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, SEARCH_CHECKS)
}

// ---------------------------------------------------------------------------------------------
// ITI-68

/// Find the DocumentReference of the catalogue document `kind` of `alias` on the SUT (ITI-67 by
/// patient and status, judged), then retrieve it (ITI-68) with `accept`.
async fn retrieve_doc(
    world: &mut HarnessWorld,
    alias: &str,
    kind: &str,
    accept: Option<&str>,
) -> StepResult {
    let Some(want) = world.ctx.mhd_catalogue.doc(alias, kind).cloned() else {
        return Err(not_applicable(
            world,
            "document not published",
            &format!("the test data publishes no {kind} document for study {alias}"),
        ));
    };
    if let Some(m) = &world.ctx.config.mhd {
        let published = match kind {
            "kos" => m.manifest_format.kos(),
            "fhir" => m.manifest_format.fhir(),
            _ => true,
        };
        if !published {
            return Err(not_applicable(
                world,
                "manifest format not published",
                &format!("the SUT profile says the SUT does not publish {kind} manifests"),
            ));
        }
    }
    let p = patient_of(world, alias)?;
    let mut extra = Vec::new();
    if want.status() != "current" {
        extra.push(("status".to_string(), want.status().to_string()));
    }
    let params = with_patient(world, &p, &extra);
    search(world, params.clone(), params, false, false).await?;
    let search_idx = world.mhd.last;
    let found = hit_with_master(world, want.master_identifier());
    let Some(docref) = found else {
        // The SUT does not list a document it holds: judge the search, which says so, and stop
        // on that breach.
        judge_last(world, SEARCH_CHECKS)?;
        return Err(absent_from_search(
            world,
            search_idx,
            format!(
                "the DocumentReference with masterIdentifier {}",
                want.master_identifier()
            ),
            "absent from the search answer",
        ));
    };
    fetch(world, docref, accept, kind, search_idx).await
}

/// Retrieve the document `docref` describes (ITI-68). `accept` None asks for the document itself:
/// its own content type, or `*/*` when that is a FHIR type, since a FHIR type in Accept asks a
/// FHIR server for the Binary resource instead (FHIR R4 binary.html#rest).
async fn fetch(
    world: &mut HarnessWorld,
    docref: Value,
    accept: Option<&str>,
    kind: &str,
    _search: Option<usize>,
) -> StepResult {
    let c = client(world)?;
    let url = docref
        .pointer("/content/0/attachment/url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let content_type = docref
        .pointer("/content/0/attachment/contentType")
        .and_then(Value::as_str)
        .map(str::to_string);
    let accept = match accept {
        Some(a) => a.to_string(),
        None => document_accept(content_type.as_deref().unwrap_or("*/*")),
    };
    let (ex, digest) = c.retrieve_digested(&url, Some(&accept)).await;
    let idx = record(world, ex)?;
    world.mhd.pages.clear();
    world.mhd.cut = None;
    let expect = Expect {
        status: vec![200],
        mhd: MhdExpect {
            accept: Some(accept),
            streamed: Some(digest),
            document: Some(ExpectedDocument {
                content_type,
                size: docref
                    .pointer("/content/0/attachment/size")
                    .and_then(Value::as_u64),
                hash: docref
                    .pointer("/content/0/attachment/hash")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }),
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    let bytes = world
        .evidence
        .get(idx)
        .and_then(|e| e.response.as_ref())
        .map(|r| r.body.kept.clone())
        .unwrap_or_default();
    let got = Retrieved { idx, docref, bytes };
    match kind {
        "kos" => world.mhd.kos = Some(got),
        "fhir" => world.mhd.fhir = Some(got),
        "report" | "preliminary-report" => world.mhd.report = Some(got),
        _ => {}
    }
    world.mhd.expect = expect;
    world.mhd.last = Some(idx);
    Ok(())
}

#[when(expr = "the consumer retrieves the KOS manifest of study {string}")]
async fn retrieve_kos(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_doc(world, &alias, "kos", Some(mhd_content::DICOM)).await
}

#[when(expr = "the consumer retrieves the KOS manifest of study {string} accepting only {string}")]
async fn retrieve_kos_as(world: &mut HarnessWorld, alias: String, accept: String) -> StepResult {
    retrieve_doc(world, &alias, "kos", Some(&accept)).await
}

#[when(expr = "the consumer retrieves the FHIR manifest of study {string}")]
async fn retrieve_fhir(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_doc(world, &alias, "fhir", None).await
}

#[when(expr = "the consumer retrieves the report of study {string}")]
async fn retrieve_report(world: &mut HarnessWorld, alias: String) -> StepResult {
    retrieve_doc(world, &alias, "report", None).await
}

#[when("the consumer retrieves an unknown document")]
async fn retrieve_unknown(world: &mut HarnessWorld) -> StepResult {
    let c = client(world)?;
    let ex = c.retrieve("Binary/unknown-document-0000", None).await;
    let idx = record(world, ex)?;
    world.mhd.expect = Expect {
        status: vec![404],
        ..Expect::default()
    };
    world.mhd.last = Some(idx);
    Ok(())
}

#[then("the document is returned as its DocumentReference describes it")]
async fn returned_as_described(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, RETRIEVE_CHECKS)
}

#[then(expr = "the answer is {int} Not Acceptable")]
async fn answer_406(world: &mut HarnessWorld, status: u16) -> StepResult {
    world.mhd.expect.status = vec![status];
    judge_last(world, &["MHD-15"])
}

/// ITI-68 406 for a format the responder cannot supply, where a FHIR type in Accept also asks a
/// FHIR server for the Binary resource itself (FHIR R4 binary.html#rest): MHD-15 accepts either;
/// MHD-19 judges what a Binary resource carries.
#[then(expr = "the answer is {int} Not Acceptable, or the Binary resource that FHIR type asks for")]
async fn answer_406_or_binary(world: &mut HarnessWorld, status: u16) -> StepResult {
    world.mhd.expect.status = vec![status];
    judge_last(world, RETRIEVE_CHECKS)
}

#[then(expr = "the answer is {int} Not Found")]
async fn answer_404(world: &mut HarnessWorld, status: u16) -> StepResult {
    world.mhd.expect.status = vec![status];
    judge_last(world, &["MHD-15"])
}

// ---------------------------------------------------------------------------------------------
// Manifests (MADO)

/// The document of `kind` retrieved earlier in the scenario, or a harness error saying so.
fn retrieved(world: &mut HarnessWorld, kind: &str) -> Result<Retrieved, StepError> {
    let got = match kind {
        "kos" => world.mhd.kos.clone(),
        "fhir" => world.mhd.fhir.clone(),
        _ => world.mhd.report.clone(),
    };
    got.ok_or_else(|| {
        harness_error(
            world,
            "nothing retrieved",
            format!("retrieve the {kind} document first"),
        )
    })
}

/// Judge exchange `idx` by the MADO checks `ids`, with the profile's code table and `tweak`.
fn judge_mado(
    world: &mut HarnessWorld,
    idx: usize,
    ids: &[&str],
    tweak: impl FnOnce(&mut crate::checks::mado::MadoExpect),
) -> StepResult {
    let mut mado = mado_expect(world);
    tweak(&mut mado);
    let expect = Expect {
        mado,
        ..Expect::default()
    };
    judge(world, idx, &expect, &[], ids)
}

#[then("the KOS manifest is a conformant MADO manifest")]
async fn kos_is_mado(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    judge_mado(world, k.idx, KOS_MADO_CHECKS, |_| {})
}

#[then("the manifest agrees with its DocumentReference")]
async fn kos_agrees_docref(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    judge_mado(world, k.idx, &["MADO-C3"], |m| m.docref = Some(k.docref))
}

#[then("the FHIR manifest is a conformant MADO FHIR manifest")]
async fn fhir_is_mado(world: &mut HarnessWorld) -> StepResult {
    let f = retrieved(world, "fhir")?;
    judge_mado(world, f.idx, FHIR_MANIFEST_CHECKS, |_| {})
}

#[then("the KOS and FHIR manifests agree")]
async fn twins_agree(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    let f = retrieved(world, "fhir")?;
    judge_mado(world, f.idx, &["MADO-C1"], |m| m.twin_kos = Some(k.bytes))
}

#[when("the consumer retrieves the series the manifest references by WADO-RS")]
async fn retrieve_series(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    let Some(dw) = world.ctx.dicomweb.clone() else {
        return Err(not_applicable(
            world,
            "no DICOMweb endpoint",
            "the SUT profile declares no image source ([dicomweb] table)",
        ));
    };
    if world.ctx.config.test_data == TestDataMode::Load {
        super::load_test_studies(world, dw.clone()).await?;
    }
    let manifest = match crate::model::kos::parse(&k.bytes) {
        Ok(m) => m,
        Err(e) => return Err(unreadable_manifest(world, k.idx, e.to_string())),
    };
    let mut by_series: BTreeMap<String, String> = BTreeMap::new();
    for r in &manifest.evidence {
        by_series.insert(r.series_uid.clone(), r.study_uid.clone());
    }
    let mut held: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (series, study) in by_series {
        let target = crate::checks::Target {
            study,
            series: Some(series.clone()),
            instance: None,
        };
        let ex = crate::actors::wado_rs::retrieve(
            &dw,
            &target,
            &crate::actors::wado_rs::Resource::Instances,
            Some(&crate::actors::wado_rs::accept_dicom(Some("*"))),
        )
        .await;
        let idx = record(world, ex)?;
        let got: BTreeSet<String> = world
            .evidence
            .get(idx)
            .and_then(|e| e.multipart.as_ref())
            .map(|mp| {
                mp.parts
                    .iter()
                    .filter_map(|p| p.dicom.as_ref().and_then(|d| d.sop_instance.clone()))
                    .collect()
            })
            .unwrap_or_default();
        held.insert(series, got);
    }
    world.mhd.images = Some(held);
    Ok(())
}

#[then("the manifest agrees with the images the image source returned")]
async fn manifest_agrees_images(world: &mut HarnessWorld) -> StepResult {
    let k = retrieved(world, "kos")?;
    let Some(held) = world.mhd.images.clone() else {
        return Err(harness_error(
            world,
            "nothing to compare",
            "retrieve the series the manifest references first",
        ));
    };
    judge_mado(world, k.idx, &["MADO-C2"], |m| m.held = Some(held))
}

/// The KOS the Responder returned does not parse: the scenario cannot follow its references, and
/// the document is not the manifest its DocumentReference describes (MHD-19 judges its bytes).
fn unreadable_manifest(world: &mut HarnessWorld, idx: usize, why: String) -> StepError {
    stop_once(
        world,
        "MHD-19",
        Some(idx),
        "the KOS manifest the DocumentReference describes (DICOM PS3.10)",
        format!("a body that does not parse as a KOS: {why}"),
    )
}

fn mado_expect(world: &HarnessWorld) -> crate::checks::mado::MadoExpect {
    crate::checks::mado::MadoExpect {
        code_table: world
            .ctx
            .config
            .mhd
            .as_ref()
            .map(|m| m.code_table == crate::config::mhd::CodeTable::DicomFinal)
            .map(|final_codes| {
                if final_codes {
                    crate::model::mado::CodeTable::DicomFinal
                } else {
                    crate::model::mado::CodeTable::MadoTi
                }
            })
            .unwrap_or(crate::model::mado::CodeTable::MadoTi),
        ..crate::checks::mado::MadoExpect::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Reports

#[then("the report is a conformant HL7 Europe imaging report")]
async fn report_conformant(world: &mut HarnessWorld) -> StepResult {
    let r = retrieved(world, "report")?;
    judge(
        world,
        r.idx,
        &Expect::default(),
        &[],
        crate::checks::report::DOCUMENT_CHECK_IDS,
    )
}

#[then("the report links to the manifest of the same study")]
async fn report_links(world: &mut HarnessWorld) -> StepResult {
    let r = retrieved(world, "report")?;
    let k = retrieved(world, "kos")?;
    let manifest = match crate::model::kos::parse(&k.bytes) {
        Ok(m) => m,
        Err(e) => return Err(unreadable_manifest(world, k.idx, e.to_string())),
    };
    let expect = Expect {
        report: crate::checks::report::ReportExpect {
            study_uid: manifest.study.instance_uid.clone(),
            accession: manifest
                .study
                .accession_number
                .clone()
                .filter(|a| !a.is_empty())
                .map(|a| (accession_system(world), a)),
            ..crate::checks::report::ReportExpect::default()
        },
        ..Expect::default()
    };
    judge(world, r.idx, &expect, &[], &["RPT-10"])
}

/// The most report versions RPT-14 compares.
const MAX_VERSIONS: usize = 20;

#[then("only the final report is current and both versions share the report identifier")]
async fn versions_share_identifier(world: &mut HarnessWorld) -> StepResult {
    let mut hits = Vec::new();
    visit_hits(world, |d| {
        hits.push(d);
        hits.len() < MAX_VERSIONS
    });
    let max_body = world.ctx.config.limits.max_body;
    let mut followups = Vec::new();
    let mut first = None;
    let mut fetched = 0u64;
    // The versions compared are read within the limits of one answer: at most MAX_VERSIONS
    // documents, until they hold max_body_bytes (a Responder that lists many reports for the
    // study, e.g. one per run against a shared test system, is not read whole).
    for d in hits {
        if fetched > max_body {
            break;
        }
        fetch(world, d, None, "report", None).await?;
        fetched += world
            .mhd
            .last
            .and_then(|i| world.evidence.get(i))
            .and_then(|e| e.response.as_ref())
            .map_or(0, |r| r.body.size);
        if let Some(idx) = world.mhd.last {
            match first {
                None => first = Some(idx),
                Some(_) => {
                    if let Some(ex) = world.evidence.get(idx) {
                        followups.push(ex.clone());
                    }
                }
            }
        }
    }
    let Some(idx) = first else {
        let search = world.mhd.last;
        return Err(absent_from_search(
            world,
            search,
            "the study's reports, final and preliminary",
            "no report in the search answer",
        ));
    };
    judge(world, idx, &Expect::default(), &followups, &["RPT-14"])
}

// ---------------------------------------------------------------------------------------------
// ITI-65

fn fresh_seed(world: &HarnessWorld, what: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{what}-{}-{}-{now}",
        std::process::id(),
        world.evidence.exchanges().len()
    )
}

/// A Patient reference on the SUT for the patient of `alias` (looked up by identifier).
async fn patient_reference(
    world: &mut HarnessWorld,
    alias: &str,
    actor: &'static str,
) -> Result<String, StepError> {
    let c = client(world)?;
    let p = patient_of(world, alias)?;
    let token = format!("{}|{p}", patient_system(world));
    let ex = c.find_patient(&token, actor).await;
    let idx = record(world, ex)?;
    world
        .evidence
        .get(idx)
        .and_then(crate::actors::mhd::first_patient)
        .ok_or_else(|| {
            harness_error(
                world,
                "patient not found",
                format!("the SUT holds no Patient with identifier {token}"),
            )
        })
}

/// The spec of a new document of `kind` for study `alias`, with fresh identifiers.
fn new_document(
    world: &mut HarnessWorld,
    alias: &str,
    kind: &str,
) -> Result<(crate::model::mhd_bundle::DocumentSpec, PublishedDoc), StepError> {
    use crate::model::fhir::{CodeableConcept, Coding, Extension, Identifier};
    let Some(base) = world.ctx.mhd_catalogue.doc(alias, kind).cloned() else {
        return Err(harness_error(
            world,
            "no such test document",
            format!("the test data has no {kind} document for study {alias}"),
        ));
    };
    let (bytes, uid) = if kind == "kos" {
        let old = crate::model::kos::parse(&base.bytes)
            .ok()
            .and_then(|m| m.sop_instance_uid)
            .unwrap_or_default();
        crate::test_data::fresh_manifest(&base.bytes, &old)
    } else {
        (
            base.bytes.to_vec(),
            crate::model::kos::seeded_uid(&fresh_seed(world, kind)),
        )
    };
    let d = &base.docref;
    let cc = |p: &str| -> CodeableConcept {
        d.pointer(p)
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    };
    let format: Coding = d
        .pointer("/content/0/format")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let related: Vec<Identifier> = d
        .pointer("/context/related")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("identifier").cloned())
                .filter_map(|i| serde_json::from_value(i).ok())
                .collect()
        })
        .unwrap_or_default();
    let extensions: Vec<Extension> = d
        .get("extension")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let period = d
        .pointer("/context/period/start")
        .and_then(Value::as_str)
        .map(str::to_string);
    let spec = crate::model::mhd_bundle::DocumentSpec {
        bytes: bytes.clone(),
        content_type: base.content_type.clone(),
        format,
        type_: cc("/type"),
        category: cc("/category/0"),
        master_identifier: format!("urn:oid:{uid}"),
        related,
        extensions,
        period_start: period.clone(),
        language: "en".into(),
        creation: period.unwrap_or_default(),
        ..crate::model::mhd_bundle::DocumentSpec::default()
    };
    let published = PublishedDoc {
        docref: serde_json::json!({"masterIdentifier": {"value": format!("urn:oid:{uid}")}}),
        bytes: Bytes::from(bytes),
        ..base
    };
    Ok((spec, published))
}

async fn provide(
    world: &mut HarnessWorld,
    alias: &str,
    kind: &str,
    mutate: Option<&str>,
    comprehensive: bool,
    replaces: Option<String>,
) -> StepResult {
    let c = client(world)?;
    let patient = patient_reference(world, alias, crate::actors::mhd::SOURCE).await?;
    let (mut doc, published) = new_document(world, alias, kind)?;
    // ITI TF-2 3.65.4.1.2.3: the replacement names the replaced DocumentReference, and the bundle
    // PATCHes that one to superseded.
    doc.relates_to = replaces.map(|target| ("replaces".to_string(), target));
    let seed = fresh_seed(world, "submission");
    let spec = crate::model::mhd_bundle::ProvideSpec {
        patient,
        comprehensive,
        submission_set_unique_id: format!("urn:oid:{}", crate::model::kos::seeded_uid(&seed)),
        source_id: format!("urn:oid:{}", crate::config::xds::DEFAULT_SOURCE_ID),
        date: doc.creation.clone(),
        documents: vec![doc],
        ..crate::model::mhd_bundle::ProvideSpec::default()
    };
    let mut bundle = crate::model::mhd_bundle::build_provide_bundle(&spec);
    let mut status = vec![200];
    match mutate {
        Some("no-submission-set") => {
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                entries.retain(|e| {
                    e.pointer("/resource/resourceType").and_then(Value::as_str) != Some("List")
                });
            }
            status = vec![400, 422];
        }
        Some("no-status") => {
            // DocumentReference.status is 1..1 in FHIR R4: invalid for any FHIR server.
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                for e in entries {
                    if e.pointer("/resource/resourceType").and_then(Value::as_str)
                        == Some("DocumentReference")
                    {
                        if let Some(r) = e.get_mut("resource").and_then(Value::as_object_mut) {
                            r.remove("status");
                        }
                    }
                }
            }
            status = vec![400, 422];
        }
        Some("wrong-hash") => {
            if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
                for e in entries {
                    if let Some(h) = e.pointer_mut("/resource/content/0/attachment/hash") {
                        *h = Value::String(crate::model::mhd_bundle::sha1_base64(
                            b"not the document",
                        ));
                    }
                }
            }
            status = vec![400, 422];
        }
        _ => {}
    }
    let ex = c.provide_bundle(&bundle, false).await;
    let idx = record(world, ex)?;
    world.mhd.expect = Expect {
        status,
        ..Expect::default()
    };
    world.mhd.provided = Some(published);
    world.mhd.last = Some(idx);
    Ok(())
}

#[when(expr = "the source provides a new KOS manifest of study {string}")]
async fn provide_kos(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", None, false, None).await
}

#[when(
    expr = "the source provides a new KOS manifest of study {string} with the Comprehensive metadata"
)]
async fn provide_kos_comprehensive(world: &mut HarnessWorld, alias: String) -> StepResult {
    if !world
        .ctx
        .config
        .mhd
        .as_ref()
        .map(|m| m.comprehensive)
        .unwrap_or(false)
    {
        return Err(not_applicable(
            world,
            "Comprehensive Metadata not claimed",
            "the SUT profile does not claim the Comprehensive Metadata option ([mhd] comprehensive)",
        ));
    }
    provide(world, &alias, "kos", None, true, None).await
}

#[when(expr = "the source provides a new report of study {string}")]
async fn provide_report(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "report", None, false, None).await
}

#[when(expr = "the source provides a bundle of study {string} without its SubmissionSet")]
async fn provide_no_ss(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", Some("no-submission-set"), false, None).await
}

#[when(expr = "the source provides a bundle of study {string} whose document hash is wrong")]
async fn provide_wrong_hash(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", Some("wrong-hash"), false, None).await
}

#[then("the recipient accepts the bundle")]
async fn accepted(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["FHIR-01", "FHIR-02", "MHD-09"])
}

#[when(
    expr = "the source provides a bundle of study {string} whose DocumentReference has no status"
)]
async fn provide_no_status(world: &mut HarnessWorld, alias: String) -> StepResult {
    provide(world, &alias, "kos", Some("no-status"), false, None).await
}

#[then("the recipient refuses the bundle with an OperationOutcome")]
async fn refused(world: &mut HarnessWorld) -> StepResult {
    let Some(idx) = world.mhd.last else {
        return Err(harness_error(
            world,
            "no MHD exchange",
            "a Then step ran before any MHD When step",
        ));
    };
    // A transaction is atomic: after the refusal nothing of the bundle can be found, by ITI-67
    // (DocumentReferences in any status) and ITI-66 (the SubmissionSet) by identifier.
    let c = client(world)?;
    let alias = provided(world)?.alias;
    let patient = patient_of(world, &alias)?;
    let sent = world
        .evidence
        .get(idx)
        .and_then(|e| serde_json::from_slice::<Value>(&e.request.body.kept).ok());
    let mut lookups = Vec::new();
    for r in sent.iter().flat_map(entry_resources) {
        match r.get("resourceType").and_then(Value::as_str) {
            Some("DocumentReference") => {
                if let Some(id) = r.pointer("/masterIdentifier/value").and_then(Value::as_str) {
                    lookups.push((true, id.to_string()));
                }
            }
            Some("List") => {
                for id in array_at(r, "identifier")
                    .iter()
                    .filter_map(|i| i.get("value").and_then(Value::as_str))
                {
                    lookups.push((false, id.to_string()));
                }
            }
            _ => {}
        }
    }
    let mut followups = Vec::new();
    for (docref, id) in lookups {
        let ex = if docref {
            let params = vec![
                patient_param(world, &patient),
                (
                    "status".to_string(),
                    "current,superseded,entered-in-error".to_string(),
                ),
                ("identifier".to_string(), id),
            ];
            c.find_document_references(&params, false, false).await
        } else {
            let params = vec![
                patient_param(world, &patient),
                ("code".to_string(), format!("{LIST_TYPES}|submissionset")),
                ("status".to_string(), "current".to_string()),
                ("identifier".to_string(), id),
            ];
            c.find_lists(&params, false).await
        };
        let f = record(world, ex)?;
        if let Some(ex) = world.evidence.get(f) {
            followups.push(ex.clone());
        }
    }
    let expect = world.mhd.expect.clone();
    judge(world, idx, &expect, &followups, &["MHD-20"])
}

/// The document the harness provided last, or a harness error.
fn provided(world: &mut HarnessWorld) -> Result<PublishedDoc, StepError> {
    match world.mhd.provided.clone() {
        Some(p) => Ok(p),
        None => Err(harness_error(
            world,
            "nothing provided",
            "provide a document first",
        )),
    }
}

/// ITI-67 by the patient of `p`'s study, `status` and `p`'s masterIdentifier, judged: the answer
/// holds `p` when `present`, else it must not. Returns `p`'s DocumentReference when found.
async fn find_by_identifier(
    world: &mut HarnessWorld,
    p: &PublishedDoc,
    status: &str,
    present: bool,
) -> Result<Option<Value>, StepError> {
    let c = client(world)?;
    let patient = patient_of(world, &p.alias)?;
    let master = p.master_identifier().to_string();
    let params = vec![
        patient_param(world, &patient),
        ("status".to_string(), status.to_string()),
        ("identifier".to_string(), master.clone()),
    ];
    let mut patient_refs = patient_refs_of(world, &c, &params).await?;
    let ex = c.find_document_references(&params, false, false).await;
    let idx = record(world, ex)?;
    let pages = follow_pages(world, &c, idx, Transaction::Iti67, false).await?;
    complete_patient_refs(world, &c, &params, idx, &pages, &mut patient_refs).await?;
    let (known, absent) = if present {
        (BTreeSet::from([master.clone()]), BTreeSet::new())
    } else {
        (BTreeSet::new(), BTreeSet::from([master.clone()]))
    };
    world.mhd.expect = Expect {
        status: vec![200],
        mhd: MhdExpect {
            search: params.clone(),
            known_matches: Some(known),
            must_not_match: absent,
            patient_refs,
            ..MhdExpect::default()
        },
        ..Expect::default()
    };
    world.mhd.pages = pages;
    world.mhd.last = Some(idx);
    judge_last(world, SEARCH_CHECKS)?;
    Ok(hit_with_master(world, &master))
}

#[when("the source replaces the published document with a new version")]
async fn replace_published(world: &mut HarnessWorld) -> StepResult {
    let old = provided(world)?;
    let Some(id) = find_by_identifier(world, &old, "current", true)
        .await?
        .and_then(|d| d.get("id").and_then(Value::as_str).map(str::to_string))
    else {
        let search = world.mhd.last;
        return Err(absent_from_search(
            world,
            search,
            format!(
                "the published DocumentReference {}, with its id",
                old.master_identifier()
            ),
            "no such DocumentReference with an id in the search answer",
        ));
    };
    let target = format!("DocumentReference/{id}");
    provide(world, &old.alias, old.kind, None, false, Some(target)).await?;
    world.mhd.replaced = Some(old);
    Ok(())
}

#[then("the replaced document is superseded and its replacement is current")]
async fn replaced_superseded(world: &mut HarnessWorld) -> StepResult {
    let new = provided(world)?;
    let Some(old) = world.mhd.replaced.clone() else {
        return Err(harness_error(
            world,
            "nothing replaced",
            "replace a document first",
        ));
    };
    // ITI TF-2 3.65.4.1.3.2: the Recipient marks the replaced document superseded.
    find_by_identifier(world, &new, "current", true).await?;
    find_by_identifier(world, &old, "current", false).await?;
    find_by_identifier(world, &old, "superseded", true).await?;
    Ok(())
}

#[then("the published document can be found and retrieved unchanged")]
async fn found_unchanged(world: &mut HarnessWorld) -> StepResult {
    let p = provided(world)?;
    let Some(docref) = find_by_identifier(world, &p, "current", true).await? else {
        let search = world.mhd.last;
        return Err(absent_from_search(
            world,
            search,
            format!("the published DocumentReference {}", p.master_identifier()),
            "absent from the search answer",
        ));
    };
    fetch(world, docref, None, "provided", None).await?;
    // The bytes must be the ones sent, whatever the DocumentReference now says.
    world.mhd.expect.mhd.document = Some(ExpectedDocument {
        content_type: Some(p.content_type.clone()),
        size: Some(p.bytes.len() as u64),
        hash: Some(crate::model::mhd_bundle::sha1_base64(&p.bytes)),
    });
    judge_last(world, RETRIEVE_CHECKS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn next_links_resolve_against_the_page_that_carries_them() {
        let from = "http://h/fhir/DocumentReference?patient.identifier=x&status=current";
        assert_eq!(
            page_url(from, "http://other/fhir?_getpages=1"),
            "http://other/fhir?_getpages=1"
        );
        assert_eq!(
            page_url(from, "DocumentReference?page=2"),
            "http://h/fhir/DocumentReference?page=2"
        );
        assert_eq!(
            page_url(from, "?page=2"),
            "http://h/fhir/DocumentReference?page=2"
        );
        assert_eq!(page_url(from, "/fhir?x=1"), "http://h/fhir?x=1");
    }

    /// A page of a DocumentReference search holding `resources`, linking a next page or not.
    fn search_page(resources: impl Iterator<Item = Value>, next: bool) -> Exchange {
        let mut b = json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": resources.map(|r| json!({"resource": r})).collect::<Vec<_>>()
        });
        if next {
            b["link"] = json!([{"relation": "next", "url": "http://h/fhir?page=n"}]);
        }
        Exchange::synthetic(
            "http://h/fhir/DocumentReference",
            &[],
            200,
            &[("Content-Type", "application/fhir+json")],
            &serde_json::to_vec(&b).unwrap_or_default(),
        )
    }

    /// A page of DocumentReferences of these masterIdentifier OIDs.
    fn page(ids: &[&str], next: bool) -> Exchange {
        let docs = ids.iter().map(|i| {
            json!({
                "resourceType": "DocumentReference",
                "masterIdentifier": {"value": format!("urn:oid:{i}")}
            })
        });
        search_page(docs, next)
    }

    /// A search not read to its end says which matches it has not shown: their absence is not
    /// the SUT's breach, and not judged.
    #[test]
    fn an_unfinished_search_names_the_matches_it_has_not_shown() {
        let known = BTreeSet::from(["urn:oid:1.1".to_string(), "urn:oid:1.2".to_string()]);
        let (p1, p2) = (page(&["1.1"], true), page(&["1.2"], false));
        assert_eq!(unseen_matches(&[&p1, &p2], &known), None);
        let p2_more = page(&["1.3"], true);
        assert_eq!(
            unseen_matches(&[&p1, &p2_more], &known),
            Some(vec!["urn:oid:1.2".to_string()])
        );
        // Every match shown: what further pages hold cannot be missing.
        let all = page(&["1.1", "1.2"], true);
        assert_eq!(unseen_matches(&[&all], &known), None);
    }

    /// Several Patients on the SUT carry the identifier searched (a server other clients share):
    /// those the lookup did not list are the ones the answer names that the harness must read,
    /// each once, and a Patient belongs to the search when it carries the identifier.
    #[test]
    fn patients_named_beyond_the_lookup_are_read_and_kept_by_identifier() {
        assert_eq!(patient_key("Patient/7").as_deref(), Some("Patient/7"));
        assert_eq!(
            patient_key("http://h/fhir/Patient/7/_history/2").as_deref(),
            Some("Patient/7")
        );
        assert_eq!(patient_key("Group/7"), None);
        assert_eq!(patient_key("urn:uuid:1"), None);
        let answer = |subjects: &[&str]| {
            let docs = subjects
                .iter()
                .map(|s| json!({"resourceType": "DocumentReference", "subject": {"reference": s}}));
            search_page(docs, false)
        };
        let known = BTreeSet::from(["Patient/1".to_string()]);
        let p1 = answer(&["Patient/1", "http://h/fhir/Patient/2", "Patient/2"]);
        let p2 = answer(&["Patient/3/_history/1", "Patient/1"]);
        assert_eq!(
            unknown_subjects(&[&p1, &p2], &known),
            vec![
                (
                    "http://h/fhir/Patient/2".to_string(),
                    "Patient/2".to_string()
                ),
                ("Patient/3/_history/1".to_string(), "Patient/3".to_string()),
            ]
        );
        let patient = json!({"resourceType": "Patient", "identifier": [
            {"system": "urn:oid:1.2", "value": "P9"},
            {"system": "urn:oid:1.3", "value": "P1"}
        ]});
        assert!(carries_identifier(&patient, "urn:oid:1.3|P1"));
        assert!(carries_identifier(&patient, "P1"));
        assert!(!carries_identifier(&patient, "urn:oid:1.2|P1"));
        assert!(!carries_identifier(
            &json!({"resourceType": "Group", "identifier": [{"value": "P1"}]}),
            "P1"
        ));
    }
}
