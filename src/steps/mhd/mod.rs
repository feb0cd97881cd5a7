//! MHD steps (ITI-65, ITI-66, ITI-67, ITI-68) with the MADO manifests and the HL7 Europe imaging
//! report they carry, and the scenarios where the SUT calls the harness's simulated Document
//! Recipient/Responder after a trigger.
//!
//! The harness knows what the SUT holds: the documents of the test studies
//! ([`crate::model::fixtures::mhd::Catalogue`]), published as the reference publishes them. Every
//! search expectation is that catalogue filtered by the same parameters, so the checks judge both
//! sides of a search: every match is returned and nothing else is.

mod eu_api;
mod find;
mod provide;
mod retrieve;
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
use find::judge_last;
use provide::{fresh_seed, new_document, patient_reference};
use retrieve::fetch;

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

pub(crate) fn patient_system(world: &HarnessWorld) -> String {
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
