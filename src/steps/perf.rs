//! Performance qualification (`@perf`): a study retrieve by WADO-RS, C-GET, C-MOVE (to the
//! harness's Storage SCP) or RAD-69, timed from the request (DIMSE: the opening of the
//! association) to its first byte (DIMSE: the first PDU of the first C-STORE sub-operation), its
//! first complete instance and its end, judged against the SUT profile's `[performance]`
//! thresholds of that transaction (PERF-01..04, [`crate::checks::perf`]). The figures go into the
//! scenario's metrics (results.json, JUnit properties, the HTML report) whether or not a threshold
//! judges them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use cucumber::{then, when};

use super::dicomweb::judge_last;
use super::dimse::retrieve::{self, study_keys};
use super::dimse::{inbound, judge_dimse};
use super::{harness_error, not_applicable, record, study_instances, StepError, StepResult};
use crate::actors::dimse_scu::EXPLICIT_VR_LE;
use crate::checks::perf::{Figures, PerfExpect};
use crate::checks::xds_i::XdsExpect;
use crate::checks::{Expect, Target};
use crate::evidence::dimse::DimseRecord;
use crate::model::fixtures::FixtureInstance;
use crate::transaction::Transaction;
use crate::transport::http::{Meta, Request};
use crate::transport::multipart::{MultipartEvent, MultipartParser};
use crate::world::HarnessWorld;

/// The most bytes looked at for the opening delimiter before the first part is given up on.
const MAX_HEAD: usize = 64 * 1024;

/// Watches a multipart body go by and notes when each of its first `want` parts is complete.
struct FirstPart {
    t0: Instant,
    want: usize,
    head: Vec<u8>,
    parser: Option<MultipartParser>,
    events: Vec<MultipartEvent>,
    /// When each of the first parts was complete, in order.
    done: Vec<Duration>,
    gave_up: bool,
}

impl FirstPart {
    fn new(t0: Instant, want: usize) -> FirstPart {
        FirstPart {
            t0,
            want,
            head: Vec::new(),
            parser: None,
            events: Vec::new(),
            done: Vec::new(),
            gave_up: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.done.len() >= self.want || self.gave_up {
            return;
        }
        if self.parser.is_none() {
            self.head.extend_from_slice(chunk);
            match opening_boundary(&self.head) {
                Some(b) => {
                    let mut p = MultipartParser::new(&b);
                    let head = std::mem::take(&mut self.head);
                    self.gave_up = p.feed(&head, &mut self.events).is_err();
                    self.parser = Some(p);
                }
                None => {
                    self.gave_up = self.head.len() > MAX_HEAD;
                    return;
                }
            }
        } else if let Some(p) = self.parser.as_mut() {
            self.gave_up = p.feed(chunk, &mut self.events).is_err();
        }
        self.events.clear();
        let complete = self.parser.as_ref().map_or(0, |p| p.parts_complete());
        while self.done.len() < complete.min(self.want) {
            self.done.push(self.t0.elapsed());
        }
        if self.done.len() >= self.want {
            self.parser = None;
        }
    }
}

/// The boundary of the first delimiter line (`--boundary`, RFC 2046 §5.1.1) of a body's first
/// bytes, once that line is complete; a preamble before it is skipped.
fn opening_boundary(head: &[u8]) -> Option<String> {
    let mut start = 0;
    while start < head.len() {
        let end = memchr::memmem::find(&head[start..], b"\r\n")? + start;
        let line = &head[start..end];
        if let Some(b) = line.strip_prefix(b"--") {
            let b = String::from_utf8_lossy(b).trim_end().to_string();
            if !b.is_empty() {
                return Some(b);
            }
        }
        start = end + 2;
    }
    None
}

#[when("the consumer times a WADO-RS retrieve of the performance study as stored")]
async fn timed_wado_study(world: &mut HarnessWorld) -> StepResult {
    let client = super::dicomweb::client(world)?;
    let alias = world.ctx.config.performance.study.clone();
    let insts = study_instances(world, &alias)?;
    let Some(first) = insts.first() else {
        return Err(harness_error(world, "empty fixture study", alias));
    };
    let target = Target {
        study: first.study_uid.clone(),
        series: None,
        instance: None,
    };
    let accept = crate::actors::wado_rs::accept_dicom(Some("*"));
    let url = client.url(&crate::actors::wado_rs::target_path(&target));
    let t0 = Instant::now();
    let mut watch = FirstPart::new(t0, 1);
    let mut received = 0u64;
    let mut sink = |chunk: &[u8]| {
        received += chunk.len() as u64;
        watch.feed(chunk);
    };
    let exchange = client
        .http
        .exchange_with(
            Meta {
                transaction: Transaction::Rad107,
                operation: "Retrieve Study (timed)".into(),
                actor: "WADO-RS Requester (Imaging Document Consumer)",
            },
            Request::get(url, Some(&accept)),
            &mut sink,
        )
        .await;
    let total = t0.elapsed();
    let first_instance = watch.done.first().copied();
    let ttfb = exchange.time_to_headers.unwrap_or(total);
    let instances = exchange
        .multipart
        .as_ref()
        .map(|m| m.parts.len() as u64)
        .unwrap_or(0);
    let idx = record(world, exchange)?;
    let figures = Figures {
        ttfb_ms: ms(ttfb),
        first_instance_ms: first_instance.map(ms),
        total_ms: ms(total),
        bytes: received,
        instances,
    };
    let source = report_figures(world, "wado", &figures);
    let sops: BTreeSet<String> = insts.iter().map(|i| i.sop_uid.clone()).collect();
    world.dicomweb.last = Some(idx);
    world.dicomweb.followups.clear();
    world.dicomweb.expect = Expect {
        requested_ts: Some("*".into()),
        target: Some(target),
        instances: Some(sops),
        patient_id: Some(first.patient_id.clone()),
        stored_by_harness: world.ctx.config.test_data == crate::config::TestDataMode::Load,
        perf: Some(PerfExpect {
            figures,
            thresholds: world.ctx.config.performance.of("wado"),
            source,
            stored_ts: stored_forms(world, insts.iter()),
        }),
        ..Expect::default()
    };
    Ok(())
}

/// The transfer syntaxes each of `insts` may be stored in on the SUT: the fixture's, and Explicit
/// VR Little Endian where this run's DIMSE load stored the instance's twin (the SUT did not accept
/// the fixture's transfer syntax); a STOW-RS load of the same run may have stored the fixture's
/// form over it, so both are the stored form.
fn stored_forms<'a>(
    world: &HarnessWorld,
    insts: impl Iterator<Item = &'a FixtureInstance>,
) -> BTreeMap<String, Vec<String>> {
    let twins = match world.ctx.dimse_data.get() {
        Some(Ok(twins)) => Some(twins),
        _ => None,
    };
    insts
        .map(|i| {
            let mut forms = vec![i.transfer_syntax.clone()];
            if twins.is_some_and(|t| t.contains(&i.sop_uid)) {
                forms.push(EXPLICIT_VR_LE.to_string());
            }
            (i.sop_uid.clone(), forms)
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Put the figures of transaction `prefix` into the scenario's metrics; returns where its
/// thresholds come from.
fn report_figures(world: &mut HarnessWorld, prefix: &str, figures: &Figures) -> String {
    for (name, value) in figures.metrics() {
        world.metrics.insert(format!("{prefix}_{name}"), value);
    }
    match &world.ctx.config.profile_path {
        Some(p) => format!("the SUT profile {}", p.display()),
        None => "the embedded reference's own thresholds".to_string(),
    }
}

/// The performance study's instances (the `[performance]` table's `study`).
fn performance_study(world: &mut HarnessWorld) -> Result<Vec<FixtureInstance>, StepError> {
    let alias = world.ctx.config.performance.study.clone();
    let insts = study_instances(world, &alias)?;
    if insts.is_empty() {
        return Err(harness_error(world, "empty fixture study", alias));
    }
    Ok(insts)
}

/// After a timed C-GET or C-MOVE (`prefix` `cget` or `cmove`) that started at `t0`: its figures
/// from the recorded exchange and what the harness's Storage SCP received, into the metrics and
/// the expectations of the DIMSE checks. `offered` says which instances the SUT could send in
/// their stored transfer syntax (PERF-05 judges only those).
fn time_dimse(
    world: &mut HarnessWorld,
    prefix: &str,
    t0: Instant,
    insts: &[FixtureInstance],
    offered: impl Fn(&DimseRecord, &FixtureInstance) -> bool,
) {
    let end = Instant::now();
    let Some(ex) = world.dimse.last.and_then(|i| world.evidence.get(i)) else {
        return;
    };
    let Some(r) = ex.dimse.as_deref() else {
        return;
    };
    let figures = Figures::of_dimse(t0, end, r, &world.dimse.followups);
    let stored_ts = stored_forms(world, insts.iter().filter(|i| offered(r, i)));
    let source = report_figures(world, prefix, &figures);
    world.dimse.expect.perf = Some(PerfExpect {
        figures,
        thresholds: world.ctx.config.performance.of(prefix),
        source,
        stored_ts,
    });
}

#[when("the SCU times a C-GET of the performance study as stored")]
async fn timed_cget(world: &mut HarnessWorld) -> StepResult {
    let insts = performance_study(world)?;
    let keys = study_keys(&insts[0]);
    world.dimse.last = None;
    let t0 = Instant::now();
    let result = retrieve::do_get(world, keys, &insts).await;
    // Offered as stored: the harness proposed a context of its SOP Class in its transfer syntax.
    time_dimse(world, "cget", t0, &insts, |r, i| {
        r.proposed.iter().any(|c| {
            c.abstract_syntax == i.sop_class && c.transfer_syntaxes.contains(&i.transfer_syntax)
        })
    });
    result
}

#[when("the SCU times a C-MOVE of the performance study to the harness")]
async fn timed_cmove(world: &mut HarnessWorld) -> StepResult {
    let insts = performance_study(world)?;
    let keys = study_keys(&insts[0]);
    world.dimse.last = None;
    // The clock starts once the harness's Storage SCP is this scenario's.
    let _scp = inbound::session().lock().await;
    let t0 = Instant::now();
    let result = retrieve::move_holding_scp(world, keys, &insts, None, None).await;
    // Offered as stored: the harness's Storage SCP accepts the transfer syntax it is stored in.
    time_dimse(world, "cmove", t0, &insts, |_, i| {
        crate::reference::dimse::scp::TRANSFER_SYNTAXES.contains(&i.transfer_syntax.as_str())
    });
    result
}

#[when("the imaging consumer times a RAD-69 retrieve of the performance study as stored")]
async fn timed_rad69(world: &mut HarnessWorld) -> StepResult {
    let client = super::xds::client(world)?;
    // The images of the study (its manifest is a document of the Repository, not of RAD-69).
    let insts: Vec<FixtureInstance> = performance_study(world)?
        .into_iter()
        .filter(|i| !i.kos)
        .collect();
    if insts.is_empty() {
        let alias = world.ctx.config.performance.study.clone();
        return Err(harness_error(
            world,
            "no images in the fixture study",
            alias,
        ));
    }
    // As stored: every transfer syntax of the study, then Explicit VR Little Endian.
    let mut ts: Vec<String> = Vec::new();
    for t in insts
        .iter()
        .map(|i| i.transfer_syntax.clone())
        .chain([EXPLICIT_VR_LE.to_string()])
    {
        if !ts.contains(&t) {
            ts.push(t);
        }
    }
    let triples: Vec<(String, String, String)> = insts
        .iter()
        .map(|i| (i.study_uid.clone(), i.series_uid.clone(), i.sop_uid.clone()))
        .collect();
    let request =
        crate::actors::xds::imaging_request(&triples, &client.cfg.imaging_source_unique_id, &ts);
    let t0 = Instant::now();
    // The SOAP envelope is the root part; the first image is the attachment after it.
    let mut watch = FirstPart::new(t0, 2);
    let mut received = 0u64;
    let mut sink = |chunk: &[u8]| {
        received += chunk.len() as u64;
        watch.feed(chunk);
    };
    let exchange = match client
        .retrieve_imaging_with(
            &request,
            "Retrieve Imaging Document Set (timed study)",
            &mut sink,
        )
        .await
    {
        Ok(ex) => ex,
        Err(e) => {
            return Err(not_applicable(
                world,
                "no Imaging Document Source",
                &e.to_string(),
            ))
        }
    };
    let total = t0.elapsed();
    let parts = exchange.multipart.as_ref().map_or(0, |m| m.parts.len());
    let figures = Figures {
        ttfb_ms: ms(exchange.time_to_headers.unwrap_or(total)),
        first_instance_ms: watch.done.get(1).copied().map(ms),
        total_ms: ms(total),
        bytes: received,
        instances: parts.saturating_sub(1) as u64,
    };
    let x = XdsExpect {
        transfer_syntaxes: ts,
        requested: triples
            .iter()
            .map(|(st, se, sop)| (sop.clone(), (st.clone(), se.clone())))
            .collect(),
        returnable: Some(insts.iter().map(|i| i.sop_uid.clone()).collect()),
        ..XdsExpect::default()
    };
    crate::steps::xds::record_xds(world, exchange, x)?;
    let source = report_figures(world, "rad69", &figures);
    world.xds.expect.perf = Some(PerfExpect {
        figures,
        thresholds: world.ctx.config.performance.of("rad69"),
        source,
        stored_ts: stored_forms(world, insts.iter()),
    });
    Ok(())
}

/// Judge the timed retrieve of the scenario (DIMSE, RAD-69 or WADO-RS) by the checks `ids`.
fn judge_timed(world: &mut HarnessWorld, ids: &[&str]) -> StepResult {
    if world.dimse.expect.perf.is_some() {
        judge_dimse(world, ids)
    } else if world.xds.expect.perf.is_some() {
        crate::steps::xds::judge_xds(world, ids)
    } else {
        judge_last(world, ids)
    }
}

#[then("the retrieve meets the profile's performance thresholds")]
async fn meets_thresholds(world: &mut HarnessWorld) -> StepResult {
    judge_timed(world, &["PERF-01", "PERF-02", "PERF-03", "PERF-04"])
}

/// PERF-05 is a warning whatever the strictness: `transfer-syntax=*` lets the origin server
/// choose (PS3.18 §8.7.3.5.2), so a transcoded answer breaks no requirement; it only costs time.
#[then("the instances come in the transfer syntax they are stored in")]
async fn as_stored(world: &mut HarnessWorld) -> StepResult {
    let before = world.findings.len();
    let result = judge_timed(world, &["PERF-05"]);
    for f in world.findings.iter_mut().skip(before) {
        if f.outcome == crate::checks::Outcome::Fail {
            f.advisory = true;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_boundary_is_found_after_a_preamble() {
        assert_eq!(
            opening_boundary(b"--abc\r\nContent-Type: x"),
            Some("abc".into())
        );
        assert_eq!(opening_boundary(b"junk\r\n--b1 \r\n"), Some("b1".into()));
        assert_eq!(opening_boundary(b"--abc"), None);
        assert_eq!(opening_boundary(b""), None);
    }

    #[test]
    fn first_part_end_is_noticed_in_any_chunking() {
        let body =
            b"--b\r\nContent-Type: application/dicom\r\n\r\nAAAA\r\n--b\r\n\r\nBB\r\n--b--\r\n";
        for size in 1..body.len() {
            let mut w = FirstPart::new(Instant::now(), 2);
            let mut at = Vec::new();
            for (i, c) in body.chunks(size).enumerate() {
                w.feed(c);
                while at.len() < w.done.len() {
                    at.push((i + 1) * size);
                }
            }
            assert_eq!(at.len(), 2, "chunk size {size}: both parts noticed");
            // Not before the delimiter that closes each part has been read.
            assert!(at[0] >= 49, "chunk size {size}: at {at:?}");
            assert!(at[1] >= 60, "chunk size {size}: at {at:?}");
        }
        let mut w = FirstPart::new(Instant::now(), 1);
        w.feed(&[b'x'; MAX_HEAD + 10]);
        assert!(w.gave_up);
    }
}
