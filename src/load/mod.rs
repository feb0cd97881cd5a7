//! Load mode (`ihe-harness load`): run the chosen scenarios once to record the HTTP requests the
//! harness sent, then replay them with N concurrent virtual users for a while, judging every K-th
//! answer against the recorded one and with the checks that passed on it in the recording run
//! (same check ids, same expectation: [`ReplayChecks`]), and report requests/s, errors, failures
//! and latency percentiles per transaction ([`stats`]).
//!
//! Errors (no complete answer: connect, timeout, read) and failures (a sampled answer a check found
//! wrong) are counted apart, as a run tells an Error from a Fail. Secrets stay out of the
//! recording as they stay out of the evidence: the recorded `Authorization` is redacted, and the
//! replay signs requests with the profile's credentials again.
//!
//! Scale-out: `--shard I/N` makes the process play its share of the users and write its own
//! `load.json`; [`stats::merge`] adds the shards' counts and HDR histograms (`load merge`).

pub mod stats;
pub mod submission;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::checks::{evaluate_ids, Expect, Outcome, Subject};
use crate::config::{Auth, Config};
use crate::evidence::{find_header, redact, Direction, Exchange};
use crate::runner::{FeatureSource, RunOptions};
use crate::transaction::Transaction;
use crate::transport::factory::HttpSettings;
use crate::transport::multipart::MultipartEvent;
use stats::{Ending, LoadFile, TxStats, MAX_MESSAGES};

/// What `ihe-harness load` was asked to do.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// SUT profile; None: the embedded reference, started for the load run.
    pub sut: Option<PathBuf>,
    /// Tag expression choosing the scenarios whose requests are replayed.
    pub tags: String,
    /// Virtual users of the whole load run (all shards).
    pub users: u64,
    /// How long the replay lasts.
    pub duration: Duration,
    /// This process's shard `I/N` of the users.
    pub shard: Option<(u32, u32)>,
    /// Where load.json (and the recording run's reports, under `recording/`) go.
    pub report_dir: PathBuf,
    /// Every K-th answer is judged.
    pub sample: u64,
    /// Replay the stores too, each time as copies the SUT has not seen: STOW-RS with re-identified
    /// instances ([`StoreTemplate`]), Provide and Register with new documents of the same patient
    /// ([`submission::SubmissionTemplate`]): the SUT keeps every copy.
    pub stores: bool,
}

/// Why a load run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The recording run failed.
    #[error("recording run: {0}")]
    Run(#[from] crate::runner::HarnessError),
    /// The embedded reference did not start.
    #[error("embedded reference: {0}")]
    Reference(#[from] crate::reference::ReferenceError),
    /// The chosen scenarios sent no HTTP request that can be replayed.
    #[error("the scenarios tagged {0} sent no HTTP request that can be replayed")]
    NothingToReplay(String),
    /// Files.
    #[error(transparent)]
    Stats(#[from] stats::StatsError),
    /// Other setup problem.
    #[error("{0}")]
    Setup(String),
}

/// One recorded request and what its answer was.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `RAD-129`.
    pub transaction: String,
    /// Method.
    pub method: reqwest::Method,
    /// URL.
    pub url: String,
    /// Headers to send again (secrets, hop-by-hop and length headers left out).
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Bytes,
    /// The recorded answer's status.
    pub status: u16,
    /// The recorded answer's media type essence, if it had one.
    pub content_type: Option<String>,
    /// The transaction, to label the replayed answer the checks judge.
    pub kind: Transaction,
    /// The checks that passed on the recorded answer, with what they expected of it.
    pub checks: Vec<(Vec<&'static str>, Arc<Expect>)>,
    /// A store: what it sent, stored again as fresh copies at each replay.
    pub store: Option<Arc<Copies>>,
}

/// What a recorded store is replayed as.
#[derive(Debug, Clone)]
pub enum Copies {
    /// STOW-RS (RAD-108): re-identified instances.
    Stow(StoreTemplate),
    /// Provide and Register (ITI-41, RAD-68): new documents of the same patient.
    Submission(submission::SubmissionTemplate),
}

impl Copies {
    /// The URL and body of one replay made under `seed`.
    pub fn copy(&self, url: &str, seed: &str) -> (String, Bytes) {
        match self {
            Copies::Stow(t) => t.copy(url, seed),
            Copies::Submission(t) => (url.to_string(), t.copy(seed)),
        }
    }
}

/// The instances of a recorded STOW-RS request (RAD-108), replayed as re-identified copies: the
/// same objects under fresh Study, Series and SOP Instance UIDs and a patient of their own
/// ([`crate::model::reidentify`]), so that each replay stores instances the SUT has not seen (a
/// second copy of one it holds may be refused, PS3.4 §B.2.3, PS3.18 §10.5.3). The checks of the
/// recording are not carried over: they expected the recorded UIDs.
#[derive(Debug, Clone)]
pub struct StoreTemplate {
    /// The boundary of the recorded body (its Content-Type, recorded with the headers, names it).
    pub boundary: String,
    /// Each part: its headers and the DICOM object it carries.
    pub parts: Vec<(Vec<(String, String)>, Bytes)>,
}

impl StoreTemplate {
    /// The parts of a recorded multipart/related request body, or `None` when it is not one or
    /// does not parse whole (RFC 2046 §5.1.1).
    pub fn parse(content_type: &str, body: &[u8]) -> Option<StoreTemplate> {
        let media = crate::transport::media_type::MediaType::parse(content_type).ok()?;
        let boundary = crate::transport::multipart::boundary_of(&media)?.to_string();
        let mut parser = crate::transport::multipart::MultipartParser::new(&boundary);
        let mut events = Vec::new();
        parser.feed(body, &mut events).ok()?;
        parser.finish(&mut events).ok()?;
        let mut parts = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for ev in events {
            match ev {
                MultipartEvent::PartStart { headers } => parts.push((headers, Bytes::new())),
                MultipartEvent::PartData(d) => data.extend_from_slice(&d),
                MultipartEvent::PartEnd => {
                    parts.last_mut()?.1 = Bytes::from(std::mem::take(&mut data));
                }
            }
        }
        (parser.closed() && !parts.is_empty()).then_some(StoreTemplate { boundary, parts })
    }

    /// The body and URL of one replay: every part re-identified under `seed`, and the Study
    /// Instance UID of a `/studies/{study}` URL replaced by its copy's.
    pub fn copy(&self, url: &str, seed: &str) -> (String, Bytes) {
        use crate::model::reidentify::{reidentify, UidMap};
        let mut map = UidMap::new(seed);
        // What cannot be re-identified (no DICOM object) goes as it was recorded.
        let bodies: Vec<Bytes> = self
            .parts
            .iter()
            .map(|(_, data)| {
                reidentify(data, &mut map)
                    .map(|c| Bytes::from(c.bytes))
                    .unwrap_or_else(|_| data.clone())
            })
            .collect();
        let body = assemble(&self.boundary, &self.parts, &bodies);
        let url = match url.split_once("/studies/") {
            Some((base, rest)) => {
                let (study, tail) = rest.split_once('/').map_or((rest, ""), |(s, t)| (s, t));
                let new = map.get(study).unwrap_or(study);
                let sep = if tail.is_empty() { "" } else { "/" };
                format!("{base}/studies/{new}{sep}{tail}")
            }
            None => url.to_string(),
        };
        (url, body)
    }
}

/// A multipart body of the recorded `parts`' headers, each with its body from `bodies` (in
/// order), under `boundary`.
pub(crate) fn assemble(
    boundary: &str,
    parts: &[(Vec<(String, String)>, Bytes)],
    bodies: &[Bytes],
) -> Bytes {
    let headers: Vec<Vec<(&str, &str)>> = parts
        .iter()
        .map(|(h, _)| h.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect())
        .collect();
    let specs: Vec<crate::transport::multipart::PartSpec<'_>> = headers
        .iter()
        .zip(bodies)
        .map(|(h, b)| (h.as_slice(), b.as_ref()))
        .collect();
    Bytes::from(crate::transport::multipart::build_body(boundary, &specs))
}

/// The checks that passed on one exchange of a recording run and the expectation they were judged
/// against: a sampled replayed answer is judged with them again.
#[derive(Debug, Clone)]
pub struct ReplayChecks {
    /// The exchange's index in its scenario's evidence.
    pub exchange: usize,
    /// Ids of the checks that passed on it.
    pub ids: Vec<&'static str>,
    /// What the scenario expected of it.
    pub expect: Arc<Expect>,
}

/// Whether a load run is recording (steps then note the checks that pass, [`replay_checks`]).
pub fn recording() -> bool {
    CAPTURE.lock().map(|g| g.is_some()).unwrap_or(false)
}

/// The checks among `ids` that pass on the subject's exchange judged alone, as a replayed answer
/// will be (without the follow-up exchanges a scenario may have made after it); `None` if none.
pub fn replay_checks(idx: usize, ids: &[&str], subject: &Subject<'_>) -> Option<ReplayChecks> {
    let alone = Subject {
        followups: &[],
        ..*subject
    };
    let passed: Vec<&'static str> = evaluate_ids(ids, &alone)
        .iter()
        .filter(|f| f.outcome == Outcome::Pass)
        .filter_map(|f| crate::checks::by_id(&f.check).map(|c| c.id))
        .collect();
    (!passed.is_empty()).then(|| ReplayChecks {
        exchange: idx,
        ids: passed,
        expect: Arc::new(subject.expect.clone()),
    })
}

impl Recorded {
    /// The replayable request of an exchange: an outbound HTTP exchange that got an answer and
    /// whose request body was kept whole.
    pub fn from_exchange(ex: &Exchange) -> Option<Recorded> {
        if ex.direction != Direction::Outbound || ex.dimse.is_some() || ex.failure.is_some() {
            return None;
        }
        if !replayable(ex.transaction, &ex.request.method) {
            return None;
        }
        let resp = ex.response.as_ref()?;
        let req = &ex.request;
        if !req.body.complete && req.body.size > 0 {
            return None;
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).ok()?;
        // Only a store the SUT took whole is replayed: a refused or partly stored one was a
        // scenario's edge case (a duplicate, another study, a part that is no DICOM object), which
        // copies would not reproduce.
        let store = match ex.transaction {
            Transaction::Rad108 => {
                if resp.status != 200 {
                    return None;
                }
                let ct = req.header("content-type")?;
                Some(Arc::new(Copies::Stow(StoreTemplate::parse(
                    ct,
                    &req.body.kept,
                )?)))
            }
            // Likewise only a submission the registry took whole (Success).
            Transaction::Iti41 | Transaction::Rad68 => {
                if resp.status != 200
                    || !resp.body.complete
                    || submission::refused(&resp.body.kept).is_some()
                {
                    return None;
                }
                let ct = req.header("content-type")?;
                Some(Arc::new(Copies::Submission(
                    submission::SubmissionTemplate::parse(ct, &req.body.kept)?,
                )))
            }
            _ => None,
        };
        let headers = req
            .headers
            .iter()
            .filter(|(n, v)| {
                let n = n.to_ascii_lowercase();
                !matches!(
                    n.as_str(),
                    "host" | "content-length" | "connection" | "transfer-encoding" | "user-agent"
                ) && redact::header_value(&n, v) == *v
                    && !v.contains(redact::REDACTED)
            })
            .cloned()
            .collect();
        Some(Recorded {
            transaction: ex.transaction.id().to_string(),
            method,
            url: req.url.clone(),
            headers,
            body: req.body.kept.clone(),
            status: resp.status,
            content_type: essence(resp.header("content-type")),
            kind: ex.transaction,
            checks: Vec::new(),
            store,
        })
    }
}

/// Whether requests of this transaction are replayed. Stores are not as recorded: a replay would
/// send the same objects again, which a SUT may refuse as a second copy (PS3.4 §B.2.3, ITI TF-2
/// 3.41.4.1.3 XDSDuplicateUniqueIdInRegistry). STOW-RS (RAD-108) is recorded to be replayed as
/// re-identified copies ([`StoreTemplate`], `load --stores`), Provide and Register (ITI-41,
/// RAD-68) as new submissions of the same documents ([`submission::SubmissionTemplate`]); the
/// MHD store (ITI-65), whose Bundle ties many identifiers together, is not; nor is what is no
/// HTTP request.
pub fn replayable(t: Transaction, method: &str) -> bool {
    match t {
        Transaction::Rad108 => method.eq_ignore_ascii_case("POST"),
        Transaction::Iti41 | Transaction::Rad68 => method.eq_ignore_ascii_case("POST"),
        Transaction::Iti65 => false,
        // Plain FHIR beside MHD: searches and reads, not the creation of the test patient.
        Transaction::Fhir => method.eq_ignore_ascii_case("GET"),
        Transaction::Dimse | Transaction::Iti19 | Transaction::Iti20 | Transaction::SoapFault => {
            false
        }
        Transaction::Rad107
        | Transaction::Rad129
        | Transaction::Capabilities
        | Transaction::Iti18
        | Transaction::Iti43
        | Transaction::Rad69
        | Transaction::Iti66
        | Transaction::Iti67
        | Transaction::Iti68
        | Transaction::Iti81
        | Transaction::Iti38
        | Transaction::Iti39
        | Transaction::Rad160
        | Transaction::Rad75 => true,
    }
}

fn essence(ct: Option<&str>) -> Option<String> {
    ct.map(|c| {
        crate::transport::media_type::MediaType::parse(c)
            .map(|m| m.essence)
            .unwrap_or_else(|_| c.trim().to_ascii_lowercase())
    })
}

/// The exchanges of the scenarios that end while recording is on.
static CAPTURE: Mutex<Option<Vec<Recorded>>> = Mutex::new(None);

/// Called by the runner with each finished scenario's exchanges and the checks that passed on
/// them: kept as replayable requests while a load run records, ignored otherwise.
pub fn capture(exchanges: &[Exchange], checks: Vec<ReplayChecks>) {
    if let Ok(mut g) = CAPTURE.lock() {
        if let Some(v) = g.as_mut() {
            for (i, ex) in exchanges.iter().enumerate() {
                if let Some(mut rec) = Recorded::from_exchange(ex) {
                    // A store replays as copies, under UIDs the recorded checks do not expect.
                    if rec.store.is_none() {
                        rec.checks = checks
                            .iter()
                            .filter(|c| c.exchange == i)
                            .map(|c| (c.ids.clone(), c.expect.clone()))
                            .collect();
                    }
                    v.push(rec);
                }
            }
        }
    }
}

/// What the checks that passed on the recorded answer find wrong in a replayed one: the first
/// Fail (a warning-level one outside strict mode is not counted, as in a run).
pub fn judge_with_checks(
    rec: &Recorded,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Option<String> {
    if rec.checks.is_empty() {
        return None;
    }
    let request: Vec<(&str, &str)> = rec
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let response: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let mut ex = Exchange::synthetic(&rec.url, &request, status, &response, body);
    ex.transaction = rec.kind;
    ex.operation = "replay".into();
    ex.request.method = rec.method.to_string();
    for (ids, expect) in &rec.checks {
        let subject = Subject {
            exchange: &ex,
            expect,
            strict: false,
            followups: &[],
        };
        if let Some(f) = evaluate_ids(ids, &subject)
            .into_iter()
            .find(|f| f.outcome == Outcome::Fail && !f.advisory)
        {
            return Some(format!(
                "{} {}: {} (it passed on the recorded answer)",
                rec.method,
                rec.url,
                f.message()
            ));
        }
    }
    None
}

/// What a check found wrong in a replayed answer, compared with the recorded one.
pub fn judge(
    rec: &Recorded,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Option<String> {
    if status != rec.status {
        return Some(format!(
            "{} {}: status {status}, the recorded answer's was {}",
            rec.method, rec.url, rec.status
        ));
    }
    let got = essence(content_type);
    if rec.content_type.is_some() && got != rec.content_type {
        return Some(format!(
            "{} {}: Content-Type {}, the recorded answer's was {}",
            rec.method,
            rec.url,
            got.as_deref().unwrap_or("missing"),
            rec.content_type.as_deref().unwrap_or("missing")
        ));
    }
    let ct = got?;
    if ct.ends_with("json") && serde_json::from_slice::<serde_json::Value>(body).is_err() {
        return Some(format!(
            "{} {}: the {ct} body does not parse",
            rec.method, rec.url
        ));
    }
    if ct.starts_with("multipart/") {
        let full = content_type.unwrap_or_default();
        match crate::transport::http::summarize_multipart(full, body) {
            Some(m) if m.error.is_none() && m.closed => {}
            Some(m) => {
                return Some(format!(
                    "{} {}: the multipart body is not well formed (RFC 2046 §5.1.1): {}",
                    rec.method,
                    rec.url,
                    m.error.unwrap_or_else(|| "no close delimiter".into())
                ))
            }
            None => {
                return Some(format!(
                    "{} {}: multipart answer without a boundary (RFC 2046 §5.1.1)",
                    rec.method, rec.url
                ))
            }
        }
    }
    None
}

/// The users of shard `i` of `n` out of `users` (the first shards take one more when they do not
/// divide evenly).
pub fn shard_users(users: u64, shard: Option<(u32, u32)>) -> u64 {
    match shard {
        None => users,
        Some((i, n)) => {
            let (i, n) = (u64::from(i), u64::from(n.max(1)));
            users / n + u64::from(i - 1 < users % n)
        }
    }
}

/// Parse `10s`, `500ms`, `2m` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: f64 = num.parse().map_err(|_| {
        format!(
            "{} is not a duration such as 10s, 500ms or 2m",
            crate::evidence::quote(s)
        )
    })?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "{} is not a duration such as 10s, 500ms or 2m",
                crate::evidence::quote(s)
            ))
        }
    };
    if !(secs > 0.0 && secs < 86_400.0 * 7.0) {
        return Err(format!(
            "{} is not a duration between 1 ms and a week",
            crate::evidence::quote(s)
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Run a load: record, replay, write `load.json`, return it.
pub async fn run(opts: LoadOptions) -> Result<LoadFile, LoadError> {
    std::fs::create_dir_all(&opts.report_dir).map_err(|source| stats::StatsError::Io {
        path: opts.report_dir.clone(),
        source,
    })?;
    // Without a profile, the embedded reference serves the load run; a profile naming it makes
    // the recording run and the replay talk to the same server.
    let mut reference = None;
    let mut _materialised = None;
    let profile_dir = tempfile::tempdir().map_err(|e| LoadError::Setup(e.to_string()))?;
    let sut = match &opts.sut {
        Some(p) => p.clone(),
        None => {
            let m = crate::assets::Materialised::fixture_studies()
                .map_err(|e| LoadError::Setup(e.to_string()))?;
            let dir = m.dir(crate::assets::FIXTURE_STUDIES);
            _materialised = Some(m);
            let server = crate::reference::ReferenceServer::start(
                crate::reference::ReferenceOptions::new(dir),
            )
            .await?;
            let xds = server.xds_base();
            let profile = format!(
                "[sut]\nname = \"embedded reference\"\n[dicomweb]\nbase_url = \"{}\"\n\
                 [xds]\nregistry_url = \"{xds}/registry\"\nrepository_url = \"{xds}/repository\"\n\
                 imaging_source_url = \"{xds}/imaging-source\"\n[mhd]\nbase_url = \"{}\"\n\
                 [test_data]\nmode = \"preloaded\"\n",
                server.dicomweb_base(),
                server.fhir_base()
            );
            let path = profile_dir.path().join("embedded.toml");
            std::fs::write(&path, profile).map_err(|source| stats::StatsError::Io {
                path: path.clone(),
                source,
            })?;
            reference = Some(server);
            path
        }
    };
    let config = Config::load(&sut).map_err(|e| LoadError::Setup(e.to_string()))?;

    if let Ok(mut g) = CAPTURE.lock() {
        *g = Some(Vec::new());
    }
    let recording = crate::runner::run(RunOptions {
        sut: Some(sut.clone()),
        tags: Some(opts.tags.clone()),
        features: FeatureSource::Embedded,
        report_dir: opts.report_dir.join("recording"),
        concurrency: 4,
        fail_fast: false,
        shard: None,
        strict: false,
        fixtures: None,
        faults: Vec::new(),
        pack: None,
    })
    .await;
    let mut recorded = CAPTURE
        .lock()
        .map(|mut g| g.take().unwrap_or_default())
        .unwrap_or_default();
    let outcome = recording?;
    let stores = recorded.iter().filter(|r| r.store.is_some()).count();
    if stores > 0 && !opts.stores {
        recorded.retain(|r| r.store.is_none());
        say(&format!(
            "{stores} stores (STOW-RS, Provide and Register) left out of the replay (--stores replays them as copies the SUT has not seen, which it keeps)"
        ));
    }
    say(&format!(
        "recorded {} HTTP requests from {} scenarios ({} passed)",
        recorded.len(),
        outcome.records.len(),
        outcome.summary.passed
    ));
    if recorded.is_empty() {
        return Err(LoadError::NothingToReplay(opts.tags.clone()));
    }
    let users = shard_users(opts.users, opts.shard);
    let endpoint = match config.dicomweb.as_ref() {
        Some(d) => Some((
            d.base_url.clone(),
            HttpSettings::new(d.auth.clone(), d.timeouts)
                .with_tls_settings(d.tls.as_ref())
                .map_err(|e| LoadError::Setup(format!("the [dicomweb] TLS settings: {e}")))?,
        )),
        None => None,
    };
    let file = replay(
        Arc::new(recorded),
        users,
        opts.duration,
        opts.sample.max(1),
        endpoint,
    )
    .await
    .map_err(LoadError::Setup)?;
    let file = LoadFile {
        sut: config.sut_name.clone(),
        tags: opts.tags.clone(),
        shards: opts
            .shard
            .map(|(i, n)| format!("{i}/{n}"))
            .into_iter()
            .collect(),
        ..file
    };
    stats::write(&opts.report_dir.join("load.json"), &file)?;
    if let Some(server) = reference {
        server.shutdown().await;
    }
    Ok(file)
}

fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Per-user results.
#[derive(Default)]
struct UserResult {
    stats: BTreeMap<String, TxStats>,
    failures: Vec<String>,
    errors: Vec<String>,
}

/// Replay `recorded` with `users` concurrent users sharing one connection pool for `duration`,
/// judging every `sample`-th answer. `endpoint`: the profile's DICOMweb base URL and that
/// endpoint's settings: its credentials are signed onto requests under that base, its TLS and
/// timeouts are the connections'; `None`: no credentials, the default timeouts.
pub async fn replay(
    recorded: Arc<Vec<Recorded>>,
    users: u64,
    duration: Duration,
    sample: u64,
    endpoint: Option<(String, HttpSettings)>,
) -> Result<LoadFile, String> {
    let settings = endpoint
        .as_ref()
        .map(|(_, s)| s.clone())
        .unwrap_or_else(|| HttpSettings::new(Auth::None, crate::config::Timeouts::default()));
    let client = crate::transport::factory::load_client(&settings, users as usize)
        .map_err(|e| format!("HTTP client: {e}"))?;
    let auth = endpoint.map(|(base, s)| (base, s.auth));
    let counter = Arc::new(AtomicU64::new(0));
    let auth = Arc::new(auth);
    let seed = Arc::new(crate::model::reidentify::run_seed());
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for u in 0..users {
        let client = client.clone();
        let recorded = recorded.clone();
        let counter = counter.clone();
        let auth = auth.clone();
        let seed = seed.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = UserResult::default();
            let n = recorded.len();
            let mut i = (u as usize) % n.max(1);
            while Instant::now() < deadline && n > 0 {
                let rec = &recorded[i];
                i = (i + 1) % n;
                let serial = counter.fetch_add(1, Ordering::Relaxed);
                let sampled = serial.is_multiple_of(sample);
                let copy = format!("{seed}/{serial}");
                let t0 = Instant::now();
                let ending = one(
                    &client,
                    rec,
                    auth.as_ref().as_ref(),
                    (sampled, &copy),
                    &mut out,
                )
                .await;
                let micros = t0.elapsed().as_micros() as u64;
                let second = start.elapsed().as_secs() as usize;
                out.stats
                    .entry(rec.transaction.clone())
                    .or_default()
                    .record(second, micros, ending, sampled);
            }
            out
        }));
    }
    let mut total: BTreeMap<String, TxStats> = BTreeMap::new();
    let (mut failures, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        let r = t
            .await
            .map_err(|e| format!("a virtual user stopped: {e}"))?;
        for (k, s) in &r.stats {
            total.entry(k.clone()).or_default().add(s);
        }
        failures.extend(r.failures);
        errors.extend(r.errors);
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    failures.truncate(MAX_MESSAGES);
    errors.truncate(MAX_MESSAGES);
    Ok(LoadFile {
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        sut: String::new(),
        tags: String::new(),
        users,
        shards: Vec::new(),
        sample_every: sample,
        elapsed_s: (elapsed_s * 1000.0).round() / 1000.0,
        transactions: stats::rows(&total, elapsed_s),
        failure_messages: failures,
        error_messages: errors,
    })
}

/// Send one recorded request (a store as copies made under the `copy` seed) and judge its answer
/// when it is `sampled`.
async fn one(
    client: &reqwest::Client,
    rec: &Recorded,
    auth: Option<&(String, Auth)>,
    (sampled, copy): (bool, &str),
    out: &mut UserResult,
) -> Ending {
    let (url, body) = match &rec.store {
        Some(t) => t.copy(&rec.url, copy),
        None => (rec.url.clone(), rec.body.clone()),
    };
    let mut b = client.request(rec.method.clone(), &url);
    for (n, v) in &rec.headers {
        b = b.header(n.as_str(), v.as_str());
    }
    if let Some((base, a)) = auth {
        if url.starts_with(base.as_str()) {
            b = match a {
                Auth::None => b,
                Auth::Basic {
                    username, password, ..
                } => b.basic_auth(username, Some(password)),
                Auth::Bearer { token, .. } => b.bearer_auth(token),
            };
        }
    }
    if !body.is_empty() {
        b = b.body(body);
    }
    let resp = match b.send().await {
        Ok(r) => r,
        Err(e) => {
            note(&mut out.errors, format!("{} {}: {e}", rec.method, rec.url));
            return Ending::Error;
        }
    };
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let headers: Vec<(String, String)> = if sampled && !rec.checks.is_empty() {
        resp.headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            note(
                &mut out.errors,
                format!("{} {}: reading the answer: {e}", rec.method, rec.url),
            );
            return Ending::Error;
        }
    };
    // A registry refuses a submission in a 200 answer: every one is read for its status.
    if let Some(Copies::Submission(_)) = rec.store.as_deref() {
        let why = if status != rec.status {
            Some(format!(
                "status {status}, the recorded answer's was {}",
                rec.status
            ))
        } else {
            submission::refused(&body)
        };
        if let Some(why) = why {
            note(
                &mut out.failures,
                format!("{} {}: {why}", rec.method, rec.url),
            );
            return Ending::Failure;
        }
    }
    if !sampled {
        return Ending::Ok;
    }
    match judge(rec, status, ct.as_deref(), &body)
        .or_else(|| judge_with_checks(rec, status, &headers, &body))
    {
        None => Ending::Ok,
        Some(m) => {
            note(&mut out.failures, m);
            Ending::Failure
        }
    }
}

fn note(list: &mut Vec<String>, m: String) {
    if list.len() < MAX_MESSAGES {
        list.push(m);
    }
}

/// `load merge`: add the files, write the merge to `output` if given, return it.
pub fn merge_files(files: &[PathBuf], output: Option<&Path>) -> Result<LoadFile, LoadError> {
    let mut loaded = Vec::new();
    for f in files {
        loaded.push(stats::read(f)?);
    }
    let merged = stats::merge(&loaded).map_err(LoadError::Setup)?;
    if let Some(o) = output {
        stats::write(o, &merged)?;
    }
    Ok(merged)
}

/// The header of a recorded request, for tests.
pub fn recorded_header<'a>(rec: &'a Recorded, name: &str) -> Option<&'a str> {
    find_header(&rec.headers, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn shards_share_the_users() {
        assert_eq!(shard_users(10, None), 10);
        let shares: Vec<u64> = (1..=3).map(|i| shard_users(10, Some((i, 3)))).collect();
        assert_eq!(shares, vec![4, 3, 3]);
        assert_eq!(shares.iter().sum::<u64>(), 10);
    }

    #[test]
    fn recorded_requests_lose_their_secrets_and_hop_headers() {
        let mut ex = Exchange::synthetic(
            "http://h/dicom-web/studies",
            &[
                ("Accept", "application/dicom+json"),
                ("Authorization", "Basic <redacted>"),
                ("Connection", "close"),
            ],
            200,
            &[("Content-Type", "application/dicom+json")],
            b"[]",
        );
        let rec = Recorded::from_exchange(&ex).unwrap_or_else(|| panic!("replayable"));
        assert_eq!(
            recorded_header(&rec, "accept"),
            Some("application/dicom+json")
        );
        assert_eq!(recorded_header(&rec, "authorization"), None);
        assert_eq!(recorded_header(&rec, "connection"), None);
        assert_eq!(rec.content_type.as_deref(), Some("application/dicom+json"));
        ex.response = None;
        assert!(Recorded::from_exchange(&ex).is_none());
    }

    #[test]
    fn a_replayed_answer_is_judged_against_the_recorded_one() {
        let ex = Exchange::synthetic(
            "http://h/dicom-web/studies",
            &[],
            200,
            &[("Content-Type", "application/dicom+json")],
            b"[]",
        );
        let rec = Recorded::from_exchange(&ex).unwrap_or_else(|| panic!("replayable"));
        let json = Some("application/dicom+json; charset=utf-8");
        assert_eq!(judge(&rec, 200, json, b"[{}]"), None);
        assert!(judge(&rec, 500, json, b"[]").is_some_and(|m| m.contains("status 500")));
        assert!(judge(&rec, 200, Some("text/html"), b"[]").is_some());
        assert!(judge(&rec, 200, json, b"[{").is_some());
        let mp = Recorded {
            content_type: Some("multipart/related".into()),
            ..rec
        };
        let ct = Some("multipart/related; type=\"application/dicom\"; boundary=b");
        let good = b"--b\r\nContent-Type: application/dicom\r\n\r\nxx\r\n--b--\r\n";
        assert_eq!(judge(&mp, 200, ct, good), None);
        assert!(judge(
            &mp,
            200,
            ct,
            b"--b\r\nContent-Type: application/dicom\r\n\r\nxx"
        )
        .is_some());
    }

    #[test]
    fn a_replayed_answer_is_judged_with_the_checks_that_passed_on_the_recorded_one() {
        let url = "http://h/dicom-web/studies/1.2.3/metadata";
        let json = [("Content-Type", "application/dicom+json")];
        let good = br#"[{"0020000D":{"vr":"UI","Value":["1.2.3"]}}]"#;
        let ex = Exchange::synthetic(url, &[], 200, &json, good);
        let expect = Expect {
            status: vec![200],
            ..Expect::default()
        };
        let subject = Subject {
            exchange: &ex,
            expect: &expect,
            strict: false,
            followups: &[],
        };
        // DW-01 judges multipart answers: not applicable here, so not kept for the replay.
        let kept = replay_checks(3, &["DW-05", "DW-01"], &subject)
            .unwrap_or_else(|| panic!("DW-05 passes on the recorded answer"));
        assert_eq!((kept.exchange, kept.ids.as_slice()), (3, &["DW-05"][..]));
        let mut rec = Recorded::from_exchange(&ex).unwrap_or_else(|| panic!("replayable"));
        assert!(
            judge_with_checks(&rec, 200, &[], good).is_none(),
            "no checks, no verdict"
        );
        rec.checks = vec![(kept.ids, kept.expect)];
        let headers = vec![("content-type".to_string(), json[0].1.to_string())];
        assert_eq!(judge_with_checks(&rec, 200, &headers, good), None);
        // Keys must be upper-case hex (PS3.18 §F.2.2): the replayed answer breaks DW-05.
        let bad = br#"[{"0020000d":{"vr":"UI","Value":["1.2.3"]}}]"#;
        let m = judge_with_checks(&rec, 200, &headers, bad)
            .unwrap_or_else(|| panic!("DW-05 fails on the replayed answer"));
        assert!(
            m.contains("DW-05") && m.contains("passed on the recorded answer"),
            "{m}"
        );
        assert!(replay_checks(0, &["DW-01"], &subject).is_none());
    }

    #[test]
    fn a_recorded_store_replays_as_fresh_copies() {
        use crate::transport::multipart::build_body;
        const STUDY: &str = "2.25.663258457482632739394936969467240525";
        let fx = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/studies/CTH-0001/2.25.663258457482632739394936969467240525/01_MR_RLE/0001.dcm"
        ))
        .unwrap_or_else(|e| panic!("fixture: {e}"));
        let dicom: &[(&str, &str)] = &[("Content-Type", "application/dicom")];
        let body = build_body("b0", &[(dicom, &fx), (dicom, b"no DICOM object")]);
        let ct = "multipart/related; type=\"application/dicom\"; boundary=b0";
        let t = StoreTemplate::parse(ct, &body).unwrap_or_else(|| panic!("parses"));
        assert_eq!(t.parts.len(), 2);
        let url = format!("http://h/dicom-web/studies/{STUDY}");
        let (u1, b1) = t.copy(&url, "seed/1");
        let (u2, _) = t.copy(&url, "seed/2");
        assert!(u1.starts_with("http://h/dicom-web/studies/2.25.") && u1 != url && u1 != u2);
        let copy = StoreTemplate::parse(ct, &b1).unwrap_or_else(|| panic!("the copy parses"));
        assert_eq!(
            copy.parts[1].1.as_ref(),
            b"no DICOM object",
            "sent as recorded"
        );
        let has = |hay: &[u8], needle: &str| memchr::memmem::find(hay, needle.as_bytes()).is_some();
        let new_study = u1.rsplit('/').next().unwrap_or_default();
        assert!(
            has(&copy.parts[0].1, new_study),
            "the URL names the copy's study"
        );
        assert!(
            !has(&copy.parts[0].1, STUDY),
            "no old Study Instance UID left"
        );
        assert_eq!(
            t.copy("http://h/dicom-web/studies", "seed/1").0,
            "http://h/dicom-web/studies"
        );
        // Not multipart, or cut before its close delimiter: nothing to replay.
        assert!(StoreTemplate::parse("application/dicom", &fx).is_none());
        assert!(StoreTemplate::parse(ct, &body[..body.len() - 12]).is_none());
        // Recorded as taken whole (200): replayed; refused (409): a scenario's edge case, not.
        let mut ex = Exchange::synthetic(&url, &[("Content-Type", ct)], 200, &[], b"{}");
        ex.transaction = Transaction::Rad108;
        ex.request.method = "POST".into();
        ex.request.body = crate::evidence::Body::from_bytes(Bytes::from(body));
        let rec = Recorded::from_exchange(&ex).unwrap_or_else(|| panic!("replayable"));
        assert!(rec.store.is_some());
        if let Some(r) = ex.response.as_mut() {
            r.status = 409;
        }
        assert!(Recorded::from_exchange(&ex).is_none());
    }

    /// A server that answers every request with 500 (and its address).
    async fn failing_server() -> String {
        let app = axum::Router::new().fallback(|| async {
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "text/plain")],
                "boom",
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_server_answering_500_gives_failures_not_errors() {
        let base = failing_server().await;
        let ex = Exchange::synthetic(
            &format!("{base}/dicom-web/studies"),
            &[("Accept", "application/dicom+json")],
            200,
            &[("Content-Type", "application/dicom+json")],
            b"[]",
        );
        let rec = Recorded::from_exchange(&ex).unwrap_or_else(|| panic!("replayable"));
        let file = replay(Arc::new(vec![rec]), 2, Duration::from_millis(300), 1, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let row = &file.transactions[0];
        assert_eq!(row.transaction, "RAD-107");
        assert!(row.requests > 0);
        assert_eq!(row.errors, 0, "{:?}", file.error_messages);
        assert_eq!(row.failures, row.requests);
        assert!(file.failure_messages[0].contains("status 500"));
        // A closed port is an error, not a failure.
        let gone = Exchange::synthetic("http://127.0.0.1:9/x", &[], 200, &[], b"");
        let rec = Recorded::from_exchange(&gone).unwrap_or_else(|| panic!("replayable"));
        let file = replay(Arc::new(vec![rec]), 1, Duration::from_millis(100), 1, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let row = &file.transactions[0];
        assert_eq!((row.errors, row.failures), (row.requests, 0));
    }
}
