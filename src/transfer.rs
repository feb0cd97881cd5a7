//! Bulk transfers of the `store` and `retrieve` commands, several at once: STOW-RS of files in
//! batches, several requests in flight (PS3.18 §10.5), each instance judged by its own entry in
//! the Store Instances Response, and each response by the STOW-RS checks (DW-10, DW-11, DW-24);
//! C-GET and C-MOVE of a study series by series, each series on an association of its own
//! (PS3.4 Annex C), every instance counted once. What a failed request or association left undone
//! is named. These are tools (benchmarks, loading an archive), not scenarios: they print what
//! they did and leave no evidence folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;

use crate::actors::dicomweb::DicomwebClient;
use crate::actors::dimse_scu::{DimseScu, QueryModel};
use crate::actors::move_receiver::{Arrival, MoveReceiver};
use crate::actors::stow_rs::{self, StowOutcome};
use crate::checks::{self, Expect, Outcome, SentInstance, Subject};
use crate::evidence::Exchange;

/// The STOW-RS checks judged on every response of a bulk store.
pub const STOW_CHECKS: &[&str] = &["DW-10", "DW-11", "DW-24"];

/// What a bulk STOW-RS did: per request, its files, what was sent and its exchange.
#[derive(Debug)]
pub struct StowRun {
    /// The requests, in the order of the batches.
    pub requests: Vec<StowRequest>,
    /// Wall time of all the requests.
    pub elapsed: std::time::Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// One request of a [`StowRun`].
#[derive(Debug)]
pub struct StowRequest {
    /// The files sent.
    pub files: Vec<PathBuf>,
    /// What each is (SOP Class and Instance, Study and Series).
    pub sent: Vec<SentInstance>,
    /// The exchange.
    pub exchange: Exchange,
}

/// The files of `paths` could not be read before anything was sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// STOW-RS `files` to /studies in batches of `batch` files, at most `requests` requests at once;
/// each body is read from disk as it is sent.
pub async fn stow(
    client: &DicomwebClient,
    files: &[PathBuf],
    batch: usize,
    requests: usize,
) -> Result<StowRun, Unreadable> {
    let mut sent = Vec::with_capacity(files.len());
    for f in files {
        sent.push(stow_rs::sent_instance(f).map_err(Unreadable)?);
    }
    let batches: Vec<Vec<PathBuf>> = files.chunks(batch.max(1)).map(<[_]>::to_vec).collect();
    let t0 = std::time::Instant::now();
    let exchanges = stow_rs::store_batches(client, None, &batches, requests).await;
    let elapsed = t0.elapsed();
    let mut sent = sent.into_iter();
    let requests_made = batches
        .into_iter()
        .zip(exchanges)
        .map(|(files, exchange)| StowRequest {
            sent: sent.by_ref().take(files.len()).collect(),
            files,
            exchange,
        })
        .collect();
    Ok(StowRun {
        requests: requests_made,
        elapsed,
        concurrency: requests.max(1),
    })
}

/// The verdicts of a [`StowRun`]: lines to print and the exit code (0 every instance stored and
/// every check passed, 1 an instance not stored or a check failed, 2 a request without an answer).
#[derive(Debug, Default)]
pub struct StowVerdict {
    /// One line per instance not stored as asked, per failed check, per failed request.
    pub lines: Vec<String>,
    /// Instances by outcome: stored, stored with a warning, failed, refused, unlisted, unanswered.
    pub counts: BTreeMap<&'static str, usize>,
    /// Checks failed.
    pub failed_checks: usize,
    /// Requests that failed (the network, the harness).
    pub failed_requests: usize,
}

impl StowVerdict {
    /// The exit code.
    pub fn exit_code(&self) -> u8 {
        let refused = ["failed", "refused", "unlisted"]
            .iter()
            .map(|k| self.counts.get(k).copied().unwrap_or(0))
            .sum::<usize>();
        if self.failed_requests > 0 {
            2
        } else if refused > 0 || self.failed_checks > 0 {
            1
        } else {
            0
        }
    }
}

/// Judge every instance of every request by its entry in the Store Instances Response, and every
/// response by [`STOW_CHECKS`].
pub fn judge_stow(run: &StowRun) -> StowVerdict {
    let mut v = StowVerdict::default();
    for key in [
        "stored",
        "warned",
        "failed",
        "refused",
        "unlisted",
        "unanswered",
    ] {
        v.counts.insert(key, 0);
    }
    for (n, rq) in run.requests.iter().enumerate() {
        let label = format!("request {} of {}", n + 1, run.requests.len());
        if let Some(f) = &rq.exchange.failure {
            v.failed_requests += 1;
            v.lines.push(format!(
                "  {label}: no answer ({}: {}); its {} instances not stored: {}",
                f.kind,
                f.message,
                rq.files.len(),
                names(&rq.files)
            ));
        }
        for ((file, inst), outcome) in rq
            .files
            .iter()
            .zip(&rq.sent)
            .zip(stow_rs::instance_outcomes(&rq.exchange, &rq.sent))
        {
            let (key, line) = match outcome {
                StowOutcome::Stored { warning: None } => ("stored", None),
                StowOutcome::Stored { warning: Some(w) } => (
                    "warned",
                    Some(format!("stored with Warning Reason {w:04X}H")),
                ),
                StowOutcome::Failed { reason } => (
                    "failed",
                    Some(match reason {
                        Some(r) => format!("not stored: Failure Reason {r:04X}H"),
                        None => "not stored: in the Failed SOP Sequence without a reason".into(),
                    }),
                ),
                StowOutcome::Refused { status } => (
                    "refused",
                    Some(format!("not stored: the request was answered {status}")),
                ),
                StowOutcome::Unlisted => (
                    "unlisted",
                    Some(
                        "in neither the Referenced nor the Failed SOP Sequence of the response"
                            .into(),
                    ),
                ),
                StowOutcome::NoResponse => ("unanswered", None),
            };
            *v.counts.entry(key).or_default() += 1;
            if let Some(line) = line {
                v.lines.push(format!(
                    "  {} ({}): {line} ({label})",
                    file.display(),
                    inst.sop_instance
                ));
            }
        }
        if rq.exchange.failure.is_some() {
            continue;
        }
        let expect = Expect {
            stow_sent: rq.sent.clone(),
            ..Expect::default()
        };
        let subject = Subject {
            exchange: &rq.exchange,
            expect: &expect,
            strict: false,
            followups: &[],
        };
        for f in checks::evaluate_ids(STOW_CHECKS, &subject) {
            if f.outcome == Outcome::Fail && !f.advisory {
                v.failed_checks += 1;
                v.lines.push(format!("  FAIL ({label}) {}", f.message()));
            }
        }
    }
    v
}

/// The file names, the first ten, then how many more.
fn names(files: &[PathBuf]) -> String {
    let shown: Vec<String> = files
        .iter()
        .take(10)
        .map(|f| f.display().to_string())
        .collect();
    match files.len() {
        n if n > 10 => format!("{}, … ({} more)", shown.join(", "), n - 10),
        _ => shown.join(", "),
    }
}

/// How `retrieve --dimse` has each series sent.
#[derive(Debug, Clone, Copy)]
pub enum RetrieveMode<'r> {
    /// C-GET: the instances come back on the association of the request (PS3.4 §C.4.3).
    Get,
    /// C-MOVE to the harness's own Storage SCP, named by the SCU's `move_destination` (PS3.4
    /// §C.4.2): the SUT opens sub-associations to `receiver`.
    Move(&'r MoveReceiver),
}

/// A series of the study, as the SERIES-level C-FIND answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesFound {
    /// Series Instance UID (0020,000E).
    pub uid: String,
    /// Number of Series Related Instances (0020,1209), when the SUT returned it.
    pub instances: Option<usize>,
}

/// The retrieve of one series: its C-GET or C-MOVE exchange and what arrived for it.
#[derive(Debug)]
pub struct SeriesRetrieved {
    /// The series.
    pub series: SeriesFound,
    /// The C-GET or C-MOVE.
    pub exchange: Exchange,
    /// The instances received for it.
    pub arrived: Vec<Arrival>,
}

/// What `retrieve --dimse` did.
#[derive(Debug)]
pub struct DimseRetrieveRun {
    /// The SERIES-level C-FIND.
    pub find: Exchange,
    /// One retrieve per series, in the order of the C-FIND's answers.
    pub series: Vec<SeriesRetrieved>,
    /// Sub-operations of moves that named no Move Originator Message ID (not attributable to a
    /// series).
    pub unattributed: Vec<Arrival>,
    /// Wall time, C-FIND included.
    pub elapsed: std::time::Duration,
    /// Associations at once.
    pub associations: usize,
}

/// The series of the C-FIND `find`, from its pending responses' identifiers.
pub fn series_of(find: &Exchange) -> Vec<SeriesFound> {
    use crate::evidence::dimse::Flow;
    let Some(rec) = find.dimse.as_deref() else {
        return Vec::new();
    };
    let mut out: Vec<SeriesFound> = Vec::new();
    for m in rec.messages.iter().filter(|m| {
        m.flow == Flow::Received
            && m.command.field == crate::dimse::command::field::C_FIND_RSP
            && m.command
                .status
                .is_some_and(crate::dimse::command::status::is_pending)
    }) {
        let get = |k: &str| {
            m.data_summary
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.trim().to_string())
        };
        let Some(uid) = get("SeriesInstanceUID").filter(|u| !u.is_empty()) else {
            continue;
        };
        if out.iter().any(|s| s.uid == uid) {
            continue;
        }
        out.push(SeriesFound {
            uid,
            instances: get("NumberOfSeriesRelatedInstances").and_then(|n| n.parse().ok()),
        });
    }
    out
}

/// The storage presentation contexts a C-GET of an unknown series proposes: every Storage SOP
/// Class the reference accepts, each with the common lossless compressions (so that instances
/// stored so can come as stored) besides Explicit and Implicit VR Little Endian
/// ([`get_contexts`](crate::actors::dimse_scu::get_contexts) adds those), within the 128
/// presentation contexts of an association (PS3.8 §9.3.2.2).
fn get_storage() -> Vec<(&'static str, &'static str)> {
    use dicom_dictionary_std::uids;
    const COMPRESSED: &[&str] = &[
        uids::JPEGLS_LOSSLESS,
        uids::JPEG_LOSSLESS_SV1,
        uids::JPEG2000_LOSSLESS,
    ];
    crate::reference::dimse::scp::STORAGE_SOP_CLASSES
        .iter()
        .flat_map(|c| COMPRESSED.iter().map(move |t| (*c, *t)))
        .collect()
}

/// The C-STORE sub-operations a C-GET exchange received, as arrivals.
fn get_arrivals(ex: &Exchange) -> Vec<Arrival> {
    use crate::evidence::dimse::Flow;
    let Some(rec) = ex.dimse.as_deref() else {
        return Vec::new();
    };
    rec.messages
        .iter()
        .filter(|m| {
            m.flow == Flow::Received && m.command.field == crate::dimse::command::field::C_STORE_RQ
        })
        .map(|m| {
            let get = |k: &str| {
                m.data_summary
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.clone())
            };
            Arrival {
                sop_instance: m.command.affected_sop_instance.clone().unwrap_or_default(),
                file: match (get("File"), get("NotWritten")) {
                    (Some(f), _) => Ok(PathBuf::from(f)),
                    (None, why) => Err(why.unwrap_or_else(|| "not written".into())),
                },
                originator_ae: None,
            }
        })
        .collect()
}

/// The Message ID of the request an SCU exchange sent first.
fn request_id(ex: &Exchange) -> Option<u16> {
    ex.dimse.as_deref().and_then(|r| {
        r.messages
            .iter()
            .find(|m| m.flow == crate::evidence::dimse::Flow::Sent)
            .and_then(|m| m.command.message_id)
    })
}

/// Retrieve study `study`: a SERIES-level C-FIND (Study Root) for its series, then each series
/// with a C-GET (into a folder of its own under `dir`) or a C-MOVE, at most `associations` at
/// once, each on an association of its own.
pub async fn retrieve_study(
    scu: &DimseScu,
    study: &str,
    mode: RetrieveMode<'_>,
    associations: usize,
    dir: &Path,
) -> DimseRetrieveRun {
    use dicom_dictionary_std::tags;
    let t0 = std::time::Instant::now();
    let keys = vec![
        (tags::QUERY_RETRIEVE_LEVEL, "SERIES".to_string()),
        (tags::STUDY_INSTANCE_UID, study.to_string()),
        (tags::SERIES_INSTANCE_UID, String::new()),
        (tags::NUMBER_OF_SERIES_RELATED_INSTANCES, String::new()),
    ];
    let find = scu.find(QueryModel::StudyRoot, &keys, None).await;
    let found = if find.failure.is_none() {
        series_of(&find)
    } else {
        Vec::new()
    };
    let storage = get_storage();
    let runs = found.into_iter().enumerate().map(|(k, series)| {
        let storage = &storage;
        async move {
            let keys = vec![
                (tags::QUERY_RETRIEVE_LEVEL, "SERIES".to_string()),
                (tags::STUDY_INSTANCE_UID, study.to_string()),
                (tags::SERIES_INSTANCE_UID, series.uid.clone()),
            ];
            match mode {
                RetrieveMode::Get => {
                    let folder = dir.join(format!("series-{}", k + 1));
                    let exchange = match std::fs::create_dir_all(&folder) {
                        Ok(()) => {
                            scu.get(QueryModel::StudyRoot, &keys, storage, &folder, None)
                                .await
                        }
                        Err(e) => {
                            let mut ex = Exchange::synthetic(&scu.peer.url(), &[], 0, &[], b"");
                            ex.response = None;
                            ex.failure = Some(crate::evidence::TransportFailure {
                                kind: "io".into(),
                                message: format!("cannot make {}: {e}", folder.display()),
                            });
                            ex
                        }
                    };
                    let arrived = get_arrivals(&exchange);
                    SeriesRetrieved {
                        series,
                        exchange,
                        arrived,
                    }
                }
                RetrieveMode::Move(receiver) => {
                    let exchange = scu
                        .move_to(QueryModel::StudyRoot, &keys, &scu.move_destination, None)
                        .await;
                    let arrived = request_id(&exchange)
                        .map(|id| receiver.take(id))
                        .unwrap_or_default();
                    SeriesRetrieved {
                        series,
                        exchange,
                        arrived,
                    }
                }
            }
        }
    });
    let series: Vec<SeriesRetrieved> = futures_util::stream::iter(runs)
        .buffered(associations.max(1))
        .collect()
        .await;
    let unattributed = match mode {
        RetrieveMode::Move(receiver) => receiver.arrivals().into_values().flatten().collect(),
        RetrieveMode::Get => Vec::new(),
    };
    DimseRetrieveRun {
        find,
        series,
        unattributed,
        elapsed: t0.elapsed(),
        associations: associations.max(1),
    }
}

/// The verdict of a [`DimseRetrieveRun`]: lines to print, counts and the exit code.
#[derive(Debug, Default)]
pub struct RetrieveVerdict {
    /// Every failure, status, missing or duplicate instance.
    pub lines: Vec<String>,
    /// Distinct instances received and written.
    pub received: usize,
    /// Instances the SUT said the series hold (C-FIND counts, else the final responses' counts).
    pub expected: usize,
    /// Instances received more than once.
    pub duplicates: usize,
    /// Bytes written.
    pub bytes: u64,
    /// 0 every series retrieved whole, each instance once; 1 the SUT answered a failure, sent
    /// fewer or duplicate instances, or closed instead of answering (PEER-01); 2 the find or a
    /// retrieve failed otherwise (the network, the harness).
    pub exit: u8,
}

/// Judge a [`DimseRetrieveRun`]: every series' final status and count, every instance once.
pub fn judge_retrieve(run: &DimseRetrieveRun) -> RetrieveVerdict {
    let mut v = RetrieveVerdict::default();
    let raise = |v: &mut RetrieveVerdict, code: u8| v.exit = v.exit.max(code);
    if let Some(f) = &run.find.failure {
        v.lines.push(format!(
            "  C-FIND of the series failed: {}: {}",
            f.kind, f.message
        ));
        raise(&mut v, 2);
        return v;
    }
    if run.series.is_empty() {
        v.lines
            .push("  the SERIES-level C-FIND found no series of the study".into());
        raise(&mut v, 1);
        return v;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let n = run.series.len();
    for (k, s) in run.series.iter().enumerate() {
        let label = format!("series {} of {n} ({})", k + 1, s.series.uid);
        let final_rsp = s.exchange.dimse.as_deref().and_then(|r| {
            r.messages
                .iter()
                .rev()
                .find(|m| {
                    m.flow == crate::evidence::dimse::Flow::Received
                        && m.command.field & 0x8000 != 0
                        && m.command.field != crate::dimse::command::field::C_STORE_RSP
                })
                .map(|m| m.command.clone())
        });
        let reported = final_rsp
            .as_ref()
            .map(|c| usize::from(c.completed.unwrap_or(0)) + usize::from(c.warning.unwrap_or(0)));
        let expected = s.series.instances.or(reported).unwrap_or(0);
        v.expected += expected;
        let written: Vec<&Arrival> = s.arrived.iter().filter(|a| a.file.is_ok()).collect();
        for a in &s.arrived {
            *seen.entry(a.sop_instance.as_str()).or_default() += 1;
            if let Err(why) = &a.file {
                v.lines
                    .push(format!("  {label}: {} not written: {why}", a.sop_instance));
                raise(&mut v, 2);
            }
        }
        if let Some(f) = &s.exchange.failure {
            v.lines.push(format!(
                "  {label}: {}: {}; left undone: {} of its {expected} instances not received",
                f.kind,
                f.message,
                expected.saturating_sub(written.len())
            ));
            // A SUT that took the request and closed instead of answering broke it (PEER-01);
            // anything else is the network's or the harness's.
            let code = if f.kind == crate::checks::peer::PEER_CLOSED {
                1
            } else {
                2
            };
            raise(&mut v, code);
            continue;
        }
        match s.exchange.status() {
            Some(0) => {}
            Some(st) => {
                v.lines.push(format!(
                    "  {label}: final status {st:04X} ({} failed sub-operations)",
                    final_rsp.and_then(|c| c.failed).unwrap_or(0)
                ));
                raise(&mut v, 1);
            }
            None => {
                let ended = s
                    .exchange
                    .dimse
                    .as_deref()
                    .map(|r| r.ended.clone())
                    .unwrap_or_default();
                v.lines
                    .push(format!("  {label}: no final response ({ended})"));
                raise(&mut v, 1);
            }
        }
        if written.len() < expected && run.unattributed.is_empty() {
            v.lines.push(format!(
                "  {label}: {} of its {expected} instances received",
                written.len()
            ));
            raise(&mut v, 1);
        }
    }
    for a in &run.unattributed {
        *seen.entry(a.sop_instance.as_str()).or_default() += 1;
    }
    let mut dup: Vec<(&str, usize)> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(u, c)| (*u, *c))
        .collect();
    dup.truncate(10);
    v.duplicates = seen.values().filter(|c| **c > 1).count();
    for (uid, c) in dup {
        v.lines.push(format!("  {uid} received {c} times"));
    }
    if v.duplicates > 0 {
        raise(&mut v, 1);
    }
    v.received = seen.len();
    if !run.unattributed.is_empty() {
        v.lines.push(format!(
            "  {} instances arrived without a Move Originator Message ID (0000,1031): counted for the study, not a series",
            run.unattributed.len()
        ));
        if v.received < v.expected {
            v.lines.push(format!(
                "  {} of the study's {} instances received",
                v.received, v.expected
            ));
            raise(&mut v, 1);
        }
    }
    v.bytes = run
        .series
        .iter()
        .flat_map(|s| &s.arrived)
        .chain(&run.unattributed)
        .filter_map(|a| a.file.as_ref().ok())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    v
}
