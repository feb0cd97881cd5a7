//! The SUT as IHE ATNA Audit Record Repository: the harness, as a Secure Node, sends it the audit
//! of a transaction (ITI-20 Record Audit Event, receiving side judged) over syslog/TLS with its
//! client certificate, over syslog/UDP or over the FHIR AuditEvent feed, as the profile's
//! `[audit_repository]` names them, and, when the profile says the repository answers ITI-81
//! (`query = true`), searches for it (Retrieve ATNA Audit Event).
//!
//! Each audit is new: a query (ITI-18) the harness audits as Document Consumer, about a patient
//! made for the scenario, with the harness's participant named uniquely, so that the search finds
//! exactly it and every other match of the search can be told apart. Against the embedded
//! reference the repository is [`crate::reference::atna::EmbeddedArr`].

use std::sync::atomic::{AtomicU64, Ordering};

use cucumber::{given, then, when};

use super::{harness_error, judge, not_applicable, record, StepResult};
use crate::actors::audit_source;
use crate::checks::arr::{ArrExpect, SearchAsked};
use crate::checks::atna::transaction::{self, AuditFacts, Audited, Party, Side};
use crate::checks::Expect;
use crate::config::audit::AuditRepository;
use crate::model::audit::fhir::{DCM_SYSTEM, IHE_EVENT_TYPE_SYSTEM};
use crate::world::HarnessWorld;

/// How long the harness searches again for an audit the repository has not indexed yet.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The ARR scenario's state.
#[derive(Debug, Default)]
pub struct ArrState {
    /// The transport chosen (`TLS`, `UDP`, `FHIR`).
    pub transport: Option<String>,
    /// The audit sent: its exchange, the harness's unique participant, the patient's logical id.
    pub sent: Option<(usize, String, String)>,
    /// When the scenario's audits were made (RFC 3339, seconds).
    pub window_start: Option<time::OffsetDateTime>,
    /// The last ITI-81 answer and what is expected of it.
    pub search: Option<(usize, ArrExpect)>,
    /// The harness's own audits of the scenario (`send_own_audits`).
    pub own: OwnAudits,
}

static NONCE: AtomicU64 = AtomicU64::new(0);

/// A value no earlier run or scenario used: nanoseconds, process and a counter.
fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}{}{}",
        nanos % 1_000_000_000_000,
        std::process::id() % 100_000,
        NONCE.fetch_add(1, Ordering::Relaxed)
    )
}

fn repository(world: &mut HarnessWorld) -> Result<AuditRepository, super::StepError> {
    match world.ctx.config.audit_repository.clone() {
        Some(r) => Ok(r),
        None => Err(not_applicable(
            world,
            "no Audit Record Repository",
            "the SUT profile names no Audit Record Repository ([audit_repository] with syslog_tls, syslog_udp or fhir)",
        )),
    }
}

#[given(
    regex = r"^the SUT's Audit Record Repository takes (syslog over TLS|syslog over UDP|the FHIR AuditEvent feed)$"
)]
async fn repository_takes(world: &mut HarnessWorld, how: String) -> StepResult {
    let r = repository(world)?;
    let (name, present, key) = match how.as_str() {
        "syslog over TLS" => ("TLS", r.syslog_tls.is_some(), "syslog_tls"),
        "syslog over UDP" => ("UDP", r.syslog_udp.is_some(), "syslog_udp"),
        _ => ("FHIR", r.fhir.is_some(), "fhir"),
    };
    if !present {
        return Err(not_applicable(
            world,
            "transport not offered",
            &format!("the SUT profile's [audit_repository] has no {key}: the repository does not take {how}"),
        ));
    }
    world.arr.transport = Some(name.into());
    Ok(())
}

#[given("the SUT's Audit Record Repository answers ITI-81 searches")]
async fn repository_answers(world: &mut HarnessWorld) -> StepResult {
    let r = repository(world)?;
    if !r.query || r.fhir.is_none() {
        return Err(not_applicable(
            world,
            "no ITI-81",
            "the SUT profile's [audit_repository] does not say query = true: the repository offers no ITI-81 search",
        ));
    }
    Ok(())
}

/// The audit the harness sends: its ITI-18 query of `patient` as Document Consumer, the harness
/// named `marker`.
fn audit_of(marker: &str, patient_cx: &str, repository: &str) -> crate::model::audit::AuditMessage {
    let facts = AuditFacts {
        date_time: crate::evidence::now_rfc3339(),
        outcome: "0".into(),
        source: Party {
            user_id: marker.into(),
            alternative_user_id: Some(std::process::id().to_string()),
            network_access_point: Some(audit_source::local_host_name()),
        },
        destination: Party {
            user_id: repository.into(),
            alternative_user_id: None,
            network_access_point: Some(AuditRepository::host_of(repository).to_string()),
        },
        audit_source_id: "ihe-harness".into(),
        patient_id: Some(patient_cx.into()),
        submission_set: None,
        query_id: Some(crate::model::ebrim::SQ_FIND_DOCUMENTS.into()),
        query: format!("$XDSDocumentEntryPatientId='{patient_cx}'").into_bytes(),
        documents: Vec::new(),
        studies: Vec::new(),
    };
    transaction::build(Audited::Iti18, Side::Initiator, &facts)
}

fn seconds(t: time::OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

#[when("the harness sends its audit of a transaction to the repository")]
async fn harness_sends(world: &mut HarnessWorld) -> StepResult {
    let r = repository(world)?;
    let transport = world.arr.transport.clone().unwrap_or_else(|| "FHIR".into());
    let n = nonce();
    let marker = format!("ihe-harness-{n}");
    let pid = format!("IHEARR{n}");
    let patient_cx = format!(
        "{pid}^^^&{}&ISO",
        crate::config::xds::DEFAULT_PATIENT_AUTHORITY
    );
    world
        .arr
        .window_start
        .get_or_insert(time::OffsetDateTime::now_utc());
    let limits = world.ctx.config.limits;
    let ex = match transport.as_str() {
        "TLS" | "UDP" => {
            let addr = if transport == "TLS" {
                r.syslog_tls.clone()
            } else {
                r.syslog_udp.clone()
            }
            .unwrap_or_default();
            let host = audit_source::local_host_name();
            let first = audit_source::syslog_message(&audit_of(&marker, &patient_cx, &addr), &host);
            if transport == "UDP" {
                audit_source::send_udp(&addr, &first).await
            } else {
                // A second audit on the same session: the repository must take both.
                let second = audit_source::syslog_message(
                    &audit_of(&format!("{marker}-2"), &patient_cx, &addr),
                    &host,
                );
                let client = match r.client_tls() {
                    Ok(c) => c,
                    Err(e) => {
                        return Err(harness_error(
                            world,
                            "TLS client of the repository",
                            e.to_string(),
                        ))
                    }
                };
                audit_source::send_tls(
                    &addr,
                    &client,
                    &audit_source::openssl_tls_options(&r),
                    &[first, second],
                )
                .await
            }
        }
        _ => {
            let base = r.fhir.clone().unwrap_or_default();
            let http = match audit_source::http_client(&r, &limits) {
                Ok(h) => h,
                Err(e) => {
                    return Err(harness_error(
                        world,
                        "HTTP client of the repository",
                        e.to_string(),
                    ))
                }
            };
            let event =
                crate::model::audit::fhir::write_fhir_json(&audit_of(&marker, &patient_cx, &base));
            audit_source::send_fhir(&http, &base, &event).await
        }
    };
    let idx = record(world, ex)?;
    world.arr.sent = Some((idx, marker, pid));
    Ok(())
}

/// Judge the exchange of the audit sent against `check`.
fn judge_sent(world: &mut HarnessWorld, check: &str) -> StepResult {
    let Some((idx, _, _)) = world.arr.sent.clone() else {
        return Err(harness_error(
            world,
            "no audit sent",
            "a Then step ran before the audit was sent",
        ));
    };
    judge(world, idx, &Expect::default(), &[], &[check])
}

#[then("the repository keeps the syslog session open while the harness writes its frames")]
async fn session_kept(world: &mut HarnessWorld) -> StepResult {
    judge_sent(world, "ARR-01")
}

#[then("the repository answers the AuditEvent create with 201 Created and a Location")]
async fn created(world: &mut HarnessWorld) -> StepResult {
    judge_sent(world, "ARR-02")
}

fn asked(world: &HarnessWorld, patient: &str) -> SearchAsked {
    let start = world
        .arr
        .window_start
        .unwrap_or_else(time::OffsetDateTime::now_utc)
        - time::Duration::seconds(1);
    let end = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    SearchAsked {
        date_ge: Some(seconds(start)),
        date_le: Some(seconds(end)),
        type_: Some((DCM_SYSTEM.into(), "110112".into())),
        subtype: Some((IHE_EVENT_TYPE_SYSTEM.into(), "ITI-18".into())),
        patient: Some(patient.into()),
    }
}

async fn run_search(world: &mut HarnessWorld, expect: ArrExpect) -> StepResult {
    let r = repository(world)?;
    let base = r.fhir.clone().unwrap_or_default();
    let limits = world.ctx.config.limits;
    let http = match audit_source::http_client(&r, &limits) {
        Ok(h) => h,
        Err(e) => {
            return Err(harness_error(
                world,
                "HTTP client of the repository",
                e.to_string(),
            ))
        }
    };
    let params = expect
        .search
        .as_ref()
        .map(SearchAsked::params)
        .unwrap_or_default();
    let deadline = std::time::Instant::now() + INDEX_WAIT;
    loop {
        let ex = audit_source::search(&http, &base, &params).await;
        // A repository may index what it received a moment later: the search is asked again,
        // bounded, until the audit the harness sent is in the answer.
        let found = match (
            &expect.sent_marker,
            ex.response.as_ref().and_then(|r| r.json()),
        ) {
            (Some(m), Some(b)) => b.to_string().contains(m.as_str()),
            (None, _) => true,
            _ => false,
        };
        let done = found || ex.failure.is_some() || std::time::Instant::now() >= deadline;
        let idx = record(world, ex)?;
        if done {
            world.arr.search = Some((idx, expect));
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[when("the harness searches the repository for its audit by date, patient and type (ITI-81)")]
async fn search_own(world: &mut HarnessWorld) -> StepResult {
    let Some((_, marker, pid)) = world.arr.sent.clone() else {
        return Err(harness_error(
            world,
            "no audit sent",
            "a search step ran before the audit was sent",
        ));
    };
    let expect = ArrExpect {
        search: Some(asked(world, &pid)),
        sent_marker: Some(marker),
    };
    run_search(world, expect).await
}

#[when("the harness searches the repository for a patient it never audited (ITI-81)")]
async fn search_other(world: &mut HarnessWorld) -> StepResult {
    let pid = format!("IHEARR{}", nonce());
    let expect = ArrExpect {
        search: Some(asked(world, &pid)),
        sent_marker: None,
    };
    run_search(world, expect).await
}

#[then(
    regex = r"^the answer is a searchset Bundle (that holds the harness's audit and only audits that match the search|with no audit of another patient)$"
)]
async fn answer_judged(world: &mut HarnessWorld, what: String) -> StepResult {
    let Some((idx, arr)) = world.arr.search.clone() else {
        return Err(harness_error(
            world,
            "no search",
            "a Then step ran before the search",
        ));
    };
    let ids: &[&str] = if what.starts_with("that holds") {
        &["ARR-03", "ARR-04", "ARR-05"]
    } else {
        &["ARR-03", "ARR-05"]
    };
    let expect = Expect {
        arr: Some(arr),
        ..Expect::default()
    };
    judge(world, idx, &expect, &[], ids)
}

/// Own audits sent at once by the whole run, at most (more are skipped and the skip recorded).
const OWN_AUDITS_AT_ONCE: usize = 8;

/// How long the end of a scenario waits for its own audits still on their way.
const OWN_AUDIT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

static OWN_AUDITS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| {
        std::sync::Arc::new(tokio::sync::Semaphore::new(OWN_AUDITS_AT_ONCE))
    });

/// The own audits of a scenario on their way, and how many were skipped.
#[derive(Debug, Default)]
pub struct OwnAudits {
    pending: Vec<tokio::task::JoinHandle<crate::evidence::Exchange>>,
    skipped: usize,
}

fn not_sent(message: String) -> crate::evidence::Exchange {
    let mut ex = crate::evidence::Exchange::synthetic("syslog+udp://-", &[], 0, &[], b"");
    ex.transaction = crate::transaction::Transaction::Iti20;
    ex.operation = "Record Audit Event (own audit)".into();
    ex.actor = audit_source::SECURE_NODE.into();
    ex.response = None;
    ex.failure = Some(crate::evidence::TransportFailure {
        kind: "own-audit".into(),
        message,
    });
    ex
}

/// Send one own audit over syslog: TLS when the repository takes it, else UDP.
async fn send_own_syslog(
    r: AuditRepository,
    audit: crate::model::audit::AuditMessage,
) -> crate::evidence::Exchange {
    let m = audit_source::syslog_message(&audit, &audit_source::local_host_name());
    match (&r.syslog_tls, &r.syslog_udp) {
        (Some(addr), _) => match r.client_tls() {
            Ok(c) => {
                audit_source::send_tls(addr, &c, &audit_source::openssl_tls_options(&r), &[m]).await
            }
            Err(e) => not_sent(format!("TLS client of the repository: {e}")),
        },
        (None, Some(addr)) => audit_source::send_udp(addr, &m).await,
        (None, None) => not_sent("the repository takes no syslog".into()),
    }
}

/// Send one own audit as a FHIR AuditEvent, on a runtime of its own (the HTTP exchange is not
/// `Send`): called on a blocking thread.
fn send_own_fhir(
    r: AuditRepository,
    audit: crate::model::audit::AuditMessage,
) -> crate::evidence::Exchange {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return not_sent(format!("no runtime for the own audit: {e}")),
    };
    rt.block_on(async move {
        let base = r.fhir.clone().unwrap_or_default();
        match audit_source::http_client(&r, &crate::config::Limits::default()) {
            Ok(http) => {
                let event = crate::model::audit::fhir::write_fhir_json(&audit);
                audit_source::send_fhir(&http, &base, &event).await
            }
            Err(e) => not_sent(format!("HTTP client of the repository: {e}")),
        }
    })
}

/// The harness as Secure Node (`[audit_repository] send_own_audits = true`): after it recorded
/// exchange `idx`, a transaction it initiated with an audit table, send the audit of it, off the
/// scenario's path (spawned; at most [`OWN_AUDITS_AT_ONCE`] at once in the run).
pub(crate) fn audit_own_exchange(world: &mut HarnessWorld, idx: usize) {
    let Some(r) = world
        .ctx
        .config
        .audit_repository
        .as_ref()
        .filter(|r| r.send_own_audits)
        .cloned()
    else {
        return;
    };
    let Some(ex) = world.evidence.get(idx) else {
        return;
    };
    if ex.direction != crate::evidence::Direction::Outbound {
        return;
    }
    let Some(audit) = audit_source::own_audit(ex, audit_source::patient_of(ex)) else {
        return;
    };
    let Ok(permit) = OWN_AUDITS.clone().try_acquire_owned() else {
        world.arr.own.skipped += 1;
        return;
    };
    let handle = if r.syslog_tls.is_some() || r.syslog_udp.is_some() {
        tokio::spawn(async move {
            let ex = send_own_syslog(r, audit).await;
            drop(permit);
            ex
        })
    } else {
        tokio::task::spawn_blocking(move || {
            let ex = send_own_fhir(r, audit);
            drop(permit);
            ex
        })
    };
    world.arr.own.pending.push(handle);
}

/// At the end of a scenario: record the own audits sent (a failure to send is in its exchange,
/// and changes no verdict), waiting at most [`OWN_AUDIT_WAIT`] for those still on their way.
pub async fn finish_own_audits(world: &mut HarnessWorld) {
    let pending = std::mem::take(&mut world.arr.own.pending);
    let deadline = tokio::time::Instant::now() + OWN_AUDIT_WAIT;
    let mut late = 0usize;
    for h in pending {
        match tokio::time::timeout_at(deadline, h).await {
            Ok(Ok(ex)) => {
                world.evidence.record(ex);
            }
            Ok(Err(_)) => late += 1,
            Err(_) => late += 1,
        }
    }
    let skipped = std::mem::take(&mut world.arr.own.skipped);
    if late + skipped > 0 {
        world.evidence.record(not_sent(format!(
            "{skipped} own audits skipped ({OWN_AUDITS_AT_ONCE} already on their way), {late} not finished within {} s",
            OWN_AUDIT_WAIT.as_secs()
        )));
    }
}
