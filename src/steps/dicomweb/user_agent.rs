//! The SUT as DICOMweb user agent (`@role:simulator`): a trigger asks it to search, retrieve from
//! or store into the harness's origin server ([`crate::reference::dicomweb::origin`]), and every
//! request the origin server received in the meantime is judged (DWUA-01..05), as is whether one
//! of them asked for what the trigger asked.
//!
//! The triggers `dicomweb_client_searches`, `dicomweb_client_retrieves` and
//! `dicomweb_client_stores` have the placeholders `{dicomweb_base}` (the origin server's service
//! base URL), `{action}` (`search-studies`, `search-series`, `retrieve-study`,
//! `retrieve-series-metadata`, `retrieve-frames`, `retrieve-rendered`, `store`), `{url}` (the
//! resource asked, with its query), `{accept}` (the media type asked for, `{media_type}` without
//! parameters), `{dicom_patient_id}`, `{study_uid}`, `{series_uid}`, `{instance_uid}`, `{frames}`
//! and `{files}` (the PS3.10 files to store, re-identified copies of the test data).
//!
//! One user-agent scenario at a time uses the origin server ([`session`]), so that what arrives
//! between the trigger and its end is that scenario's.

use super::*;
use crate::checks::dicomweb::user_agent::{url_query, UaExpect};
use crate::reference::dicomweb::origin::ORIGIN_PATH;
use crate::reference::dicomweb::web::SERVICE_PATH;

/// The lock that gives one scenario at a time the origin server.
fn session() -> &'static tokio::sync::Mutex<()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// What the SUT user agent was asked for, and the requests it sent.
#[derive(Debug, Clone, Default)]
pub struct UaSeen {
    /// `GET` or `POST`.
    pub method: String,
    /// The resource asked, below the service base (`studies/1.2`).
    pub path: String,
    /// Search keys asked, as (tag, value).
    pub keys: Vec<(u32, String)>,
    /// The requests the origin server received (evidence indices).
    pub requests: Vec<usize>,
}

/// One request the SUT is asked for.
struct Ask {
    trigger: &'static str,
    action: &'static str,
    method: &'static str,
    path: String,
    /// (keyword, value), sent as query parameters and asked of the SUT's request.
    keys: Vec<(&'static str, String)>,
    /// Further query parameters of the stand-in (not asked of the SUT).
    extra: Vec<(&'static str, String)>,
    accept: String,
    patient: String,
    study: String,
    series: String,
    instance: String,
    frames: String,
    files: Vec<std::path::PathBuf>,
}

fn base_path() -> String {
    format!("{ORIGIN_PATH}{SERVICE_PATH}")
}

fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let p = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    p.split(['?', '#']).next().unwrap_or(p)
}

/// The user agent's requests that arrived after `mark`.
fn arrived(sim: &crate::world::Simulator, mark: usize) -> Vec<crate::evidence::Exchange> {
    let mut out = Vec::new();
    let mut i = mark;
    while let Some(ex) = sim.inbox.get(i) {
        i += 1;
        if path_of(&ex.request.url).starts_with(ORIGIN_PATH) {
            out.push(ex);
        }
    }
    out
}

async fn sut_asks(world: &mut HarnessWorld, ask: Ask) -> StepResult {
    let (sim, trigger) =
        super::super::simulator_and_trigger(world, ask.trigger, "DICOMweb origin server")?;
    let _origin = session().lock().await;
    let mark = sim.inbox.len();
    let base = sim.dicomweb_base.trim_end_matches('/').to_string();
    let mut query: Vec<(String, String)> = ask
        .keys
        .iter()
        .chain(ask.extra.iter())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let url = {
        let mut u = format!("{base}/{}", ask.path);
        if !query.is_empty() {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query.iter())
                .finish();
            u = format!("{u}?{q}");
        }
        u
    };
    let media_type = ask
        .accept
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let files: Vec<String> = ask
        .files
        .iter()
        .map(|p| crate::transport::http::shell_quote(&p.display().to_string()))
        .collect();
    let vars = [
        ("dicomweb_base", base.clone()),
        ("action", ask.action.to_string()),
        ("url", url),
        ("accept", ask.accept.clone()),
        ("media_type", media_type),
        ("dicom_patient_id", ask.patient.clone()),
        ("study_uid", ask.study.clone()),
        ("series_uid", ask.series.clone()),
        ("instance_uid", ask.instance.clone()),
        ("frames", ask.frames.clone()),
        ("files", files.join(" ")),
    ];
    let timeout = world.ctx.config.simulator.trigger_timeout;
    let mut exited = None;
    let triggered = match crate::trigger::run(&trigger, &vars, timeout).await {
        Ok(crate::trigger::Triggered::Asked) => None,
        Ok(crate::trigger::Triggered::Builtin(name)) => Some(name),
        // A user agent may end with a failure because the origin server refused its request: the
        // request reached the harness and is judged.
        Err(e) if !arrived(&sim, mark).is_empty() => {
            exited = Some(e.to_string());
            None
        }
        Err(e) => return Err(harness_error(world, e.title(), e.to_string())),
    };
    if triggered.is_some() {
        // The embedded reference plays the SUT: the built-in user agent sends the request
        // ([`crate::stand_in::dicomweb`]); its faults make it send a wrong one.
        let mut contents = Vec::new();
        for p in &ask.files {
            match tokio::fs::read(p).await {
                Ok(b) => contents.push(b),
                Err(e) => {
                    return Err(harness_error(
                        world,
                        "fixture unreadable",
                        format!("{}: {e}", p.display()),
                    ))
                }
            }
        }
        let faults = &world.ctx.faults;
        use crate::reference::Fault;
        let f = crate::stand_in::dicomweb::UaFaults {
            bad_accept: faults.contains(&Fault::DicomwebBuiltinUaBadAccept),
            bad_path: faults.contains(&Fault::DicomwebBuiltinUaBadPath),
            bad_key: faults.contains(&Fault::DicomwebBuiltinUaBadKey),
            stow_jpeg: faults.contains(&Fault::DicomwebBuiltinUaStowJpeg),
        };
        let req = crate::stand_in::dicomweb::UaRequest {
            method: ask.method.to_string(),
            path: ask.path.clone(),
            query: std::mem::take(&mut query),
            accept: ask.accept.clone(),
            files: contents,
        };
        if let Err(err) = crate::stand_in::dicomweb::play_user_agent(&base, &req, f).await {
            return Err(harness_error(world, err.title(), err.to_string()));
        }
    }
    // Wait for the first request, then until none has arrived for a moment (a prompted SUT, or
    // one whose trigger ends before its requests do).
    let deadline = std::time::Instant::now() + timeout;
    let quiet = std::time::Duration::from_millis(300);
    let mut seen = 0;
    let mut since = std::time::Instant::now();
    loop {
        let n = arrived(&sim, mark).len();
        if n != seen {
            seen = n;
            since = std::time::Instant::now();
        }
        if seen > 0 && since.elapsed() >= quiet {
            break;
        }
        if std::time::Instant::now() >= deadline {
            if seen > 0 {
                break;
            }
            return Err(harness_error(
                world,
                "the SUT sent no request",
                format!(
                    "no request reached the harness's DICOMweb origin server ({base}) within {} ms",
                    timeout.as_millis()
                ),
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut requests = Vec::new();
    for mut ex in arrived(&sim, mark) {
        ex.repro = format!(
            "# sent by the SUT to the harness's origin server: {}",
            ex.repro
        );
        if let Some(e) = &exited {
            ex.repro
                .push_str(&format!("\n# the SUT's trigger then ended: {e}"));
        }
        requests.push(super::super::record(world, ex)?);
    }
    world.dicomweb.user_agent = Some(UaSeen {
        method: ask.method.to_string(),
        path: ask.path.clone(),
        keys: ask
            .keys
            .iter()
            .filter_map(|(k, v)| qido_key_tag(k).map(|t| (t, v.clone())))
            .collect(),
        requests,
    });
    world.dicomweb.expect = Expect {
        user_agent: Some(UaExpect {
            base_path: base_path(),
        }),
        ..Expect::default()
    };
    Ok(())
}

/// Judge every request of the user agent with `ids`.
fn judge_requests(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    let Some(seen) = world.dicomweb.user_agent.clone() else {
        return Err(harness_error(
            world,
            "no exchange to judge",
            "the SUT was not asked to call the harness before this step",
        ));
    };
    let expect = world.dicomweb.expect.clone();
    for idx in &seen.requests {
        super::super::judge(world, *idx, &expect, &[], ids)?;
    }
    Ok(())
}

/// `GET a/b` for messages.
fn label(world: &HarnessWorld, idx: usize) -> String {
    world
        .evidence
        .get(idx)
        .map(|e| format!("{} {}", e.request.method, e.request.url))
        .unwrap_or_default()
}

#[then("the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be")]
async fn asked_resource(world: &mut HarnessWorld) -> StepResult {
    judge_requests(world, &["DWUA-01", "DWUA-02"])?;
    let Some(seen) = world.dicomweb.user_agent.clone() else {
        return Ok(());
    };
    let want = format!("{}/{}", base_path(), seen.path);
    let asked = seen.requests.iter().any(|i| {
        world.evidence.get(*i).is_some_and(|e| {
            e.request.method == seen.method && path_of(&e.request.url).trim_end_matches('/') == want
        })
    });
    if !asked {
        let got: Vec<String> = seen.requests.iter().map(|i| label(world, *i)).collect();
        fail_continue(
            world,
            "DWUA-02",
            seen.requests.first().copied(),
            format!(
                "a request {} {want} (the resource the SUT was asked for)",
                seen.method
            ),
            got.join("; "),
        );
    }
    Ok(())
}

#[then("the SUT's searches name their keys by keyword or tag, the ones asked among them")]
async fn asked_keys(world: &mut HarnessWorld) -> StepResult {
    judge_requests(world, &["DWUA-03"])?;
    let Some(seen) = world.dicomweb.user_agent.clone() else {
        return Ok(());
    };
    let want = format!("{}/{}", base_path(), seen.path);
    let searches: Vec<usize> = seen
        .requests
        .iter()
        .copied()
        .filter(|i| {
            world
                .evidence
                .get(*i)
                .is_some_and(|e| path_of(&e.request.url).trim_end_matches('/') == want)
        })
        .collect();
    for (tag, value) in &seen.keys {
        let named = searches.iter().any(|i| {
            world.evidence.get(*i).is_some_and(|e| {
                url_query(&e.request.url)
                    .iter()
                    .any(|(k, v)| qido_key_tag(k) == Some(*tag) && v == value)
            })
        });
        if !named && !searches.is_empty() {
            fail_continue(
                world,
                "DWUA-03",
                searches.first().copied(),
                format!(
                    "the key ({:04X},{:04X}) = {value} the SUT was asked to search by",
                    tag >> 16,
                    tag & 0xFFFF
                ),
                searches
                    .iter()
                    .map(|i| label(world, *i))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
    }
    Ok(())
}

#[then("the SUT's STOW-RS request is a multipart body of PS3.10 objects")]
async fn stored_well_formed(world: &mut HarnessWorld) -> StepResult {
    judge_requests(world, &["DWUA-05"])
}

fn first_of(
    world: &mut HarnessWorld,
    alias: &str,
    series: i64,
) -> Result<FixtureInstance, StepError> {
    let insts = series_instances(world, alias, series)?;
    match insts.into_iter().next() {
        Some(i) => Ok(i),
        None => Err(harness_error(
            world,
            "unknown fixture series",
            format!("study {alias} has no series {series}"),
        )),
    }
}

fn ask(trigger: &'static str, action: &'static str, path: String, accept: &str) -> Ask {
    Ask {
        trigger,
        action,
        method: "GET",
        path,
        keys: Vec::new(),
        extra: Vec::new(),
        accept: accept.to_string(),
        patient: String::new(),
        study: String::new(),
        series: String::new(),
        instance: String::new(),
        frames: String::new(),
        files: Vec::new(),
    }
}

const SEARCHES: &str = "dicomweb_client_searches";
const RETRIEVES: &str = "dicomweb_client_retrieves";
const STORES: &str = "dicomweb_client_stores";
const DICOM_JSON: &str = "application/dicom+json";

#[when(
    expr = "the SUT user agent is asked to search the harness for the studies of the patient of study {string}"
)]
async fn searches_studies(world: &mut HarnessWorld, alias: String) -> StepResult {
    let i = study_instances(world, &alias)?.into_iter().next();
    let Some(i) = i else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let mut a = ask(SEARCHES, "search-studies", "studies".into(), DICOM_JSON);
    a.keys = vec![("PatientID", i.patient_id.clone())];
    a.extra = vec![("includefield", "StudyDescription".into())];
    a.patient = i.patient_id;
    sut_asks(world, a).await
}

#[when(expr = "the SUT user agent is asked to search the harness for the series of study {string}")]
async fn searches_series(world: &mut HarnessWorld, alias: String) -> StepResult {
    let i = study_instances(world, &alias)?.into_iter().next();
    let Some(i) = i else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let mut a = ask(
        SEARCHES,
        "search-series",
        format!("studies/{}/series", i.study_uid),
        DICOM_JSON,
    );
    a.extra = vec![("includefield", "SeriesDescription".into())];
    a.study = i.study_uid;
    a.patient = i.patient_id;
    sut_asks(world, a).await
}

#[when(
    expr = "the SUT user agent is asked to retrieve study {string} from the harness in Explicit VR Little Endian"
)]
async fn retrieves_study(world: &mut HarnessWorld, alias: String) -> StepResult {
    let i = study_instances(world, &alias)?.into_iter().next();
    let Some(i) = i else {
        return Err(harness_error(world, "unknown fixture study", alias));
    };
    let mut a = ask(
        RETRIEVES,
        "retrieve-study",
        format!("studies/{}", i.study_uid),
        "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1",
    );
    a.study = i.study_uid;
    a.patient = i.patient_id;
    sut_asks(world, a).await
}

#[when(
    expr = "the SUT user agent is asked to retrieve the metadata of series {int} of study {string} from the harness"
)]
async fn retrieves_metadata(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let i = first_of(world, &alias, series)?;
    let mut a = ask(
        RETRIEVES,
        "retrieve-series-metadata",
        format!("studies/{}/series/{}/metadata", i.study_uid, i.series_uid),
        DICOM_JSON,
    );
    a.study = i.study_uid;
    a.series = i.series_uid;
    a.patient = i.patient_id;
    sut_asks(world, a).await
}

#[when(
    expr = "the SUT user agent is asked to retrieve frame {int} of the first instance of series {int} of study {string} from the harness"
)]
async fn retrieves_frame(
    world: &mut HarnessWorld,
    frame: u32,
    series: i64,
    alias: String,
) -> StepResult {
    let i = first_of(world, &alias, series)?;
    let mut a = ask(
        RETRIEVES,
        "retrieve-frames",
        format!(
            "studies/{}/series/{}/instances/{}/frames/{frame}",
            i.study_uid, i.series_uid, i.sop_uid
        ),
        "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*",
    );
    a.study = i.study_uid;
    a.series = i.series_uid;
    a.instance = i.sop_uid;
    a.frames = frame.to_string();
    a.patient = i.patient_id;
    sut_asks(world, a).await
}

#[when(
    expr = "the SUT user agent is asked to retrieve the first instance of series {int} of study {string} from the harness rendered as {string}"
)]
async fn retrieves_rendered(
    world: &mut HarnessWorld,
    series: i64,
    alias: String,
    media: String,
) -> StepResult {
    let i = first_of(world, &alias, series)?;
    let mut a = ask(
        RETRIEVES,
        "retrieve-rendered",
        format!(
            "studies/{}/series/{}/instances/{}/rendered",
            i.study_uid, i.series_uid, i.sop_uid
        ),
        &media,
    );
    a.study = i.study_uid;
    a.series = i.series_uid;
    a.instance = i.sop_uid;
    a.patient = i.patient_id;
    sut_asks(world, a).await
}

#[when(
    expr = "the SUT user agent is asked to store a copy of series {int} of study {string} into the harness"
)]
async fn stores_series(world: &mut HarnessWorld, series: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, series)?;
    // Copies under fresh UIDs: the origin server's archive is the embedded reference's too.
    let mut map = crate::model::reidentify::UidMap::new(format!(
        "{}/user-agent-{}",
        crate::model::reidentify::run_seed(),
        std::process::id()
    ));
    let dir = match tempfile::Builder::new().prefix("ihe-harness-ua-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            return Err(harness_error(
                world,
                "no folder for the copies",
                e.to_string(),
            ))
        }
    };
    let mut files = Vec::new();
    let mut study = String::new();
    for (n, i) in insts.iter().enumerate() {
        let path = world.ctx.fixtures.file(i);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => {
                return Err(harness_error(
                    world,
                    "fixture unreadable",
                    format!("{}: {e}", path.display()),
                ))
            }
        };
        let copy = match crate::model::reidentify::reidentify(&bytes, &mut map) {
            Ok(c) => c,
            Err(e) => return Err(harness_error(world, "fixture copy failed", e.to_string())),
        };
        study = copy.study_uid.clone();
        let out = dir.path().join(format!("{n}.dcm"));
        if let Err(e) = tokio::fs::write(&out, &copy.bytes).await {
            return Err(harness_error(world, "fixture copy failed", e.to_string()));
        }
        files.push(out);
    }
    let mut a = ask(STORES, "store", "studies".into(), DICOM_JSON);
    a.method = "POST";
    a.study = study;
    a.files = files;
    let r = sut_asks(world, a).await;
    drop(dir);
    r
}
