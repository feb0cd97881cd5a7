//! Performance qualification (`@perf`): a study retrieve timed from the request to its first byte,
//! its first complete instance and its end, judged against the SUT profile's `[performance]`
//! thresholds (PERF-01..04, [`crate::checks::perf`]). The figures go into the scenario's metrics
//! (results.json, JUnit properties, the HTML report) whether or not a threshold judges them.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cucumber::{then, when};

use super::dicomweb::judge_last;
use super::{harness_error, not_applicable, record, study_instances, StepResult};
use crate::checks::perf::{Figures, PerfExpect};
use crate::checks::{Expect, Target};
use crate::transaction::Transaction;
use crate::transport::http::{Meta, Request};
use crate::transport::multipart::{MultipartEvent, MultipartParser};
use crate::world::HarnessWorld;

/// The most bytes looked at for the opening delimiter before the first part is given up on.
const MAX_HEAD: usize = 64 * 1024;

/// Watches a multipart body go by and notes when its first part is complete.
struct FirstPart {
    t0: Instant,
    head: Vec<u8>,
    parser: Option<MultipartParser>,
    events: Vec<MultipartEvent>,
    done: Option<Duration>,
    gave_up: bool,
}

impl FirstPart {
    fn new(t0: Instant) -> FirstPart {
        FirstPart {
            t0,
            head: Vec::new(),
            parser: None,
            events: Vec::new(),
            done: None,
            gave_up: false,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.done.is_some() || self.gave_up {
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
        if self
            .parser
            .as_ref()
            .is_some_and(|p| p.parts_complete() >= 1)
        {
            self.done = Some(self.t0.elapsed());
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
    let Some(client) = world.ctx.dicomweb.clone() else {
        return Err(not_applicable(
            world,
            "no DICOMweb endpoint",
            "the SUT profile declares no DICOMweb endpoint ([dicomweb] table)",
        ));
    };
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
    let mut watch = FirstPart::new(t0);
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
    let first_instance = watch.done;
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
    for (name, value) in figures.metrics() {
        world.metrics.insert(format!("wado_{name}"), value);
    }
    let source = match &world.ctx.config.profile_path {
        Some(p) => format!("the SUT profile {}", p.display()),
        None => "the embedded reference's own thresholds".to_string(),
    };
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
            stored_ts: insts
                .iter()
                .map(|i| (i.sop_uid.clone(), i.transfer_syntax.clone()))
                .collect(),
        }),
        ..Expect::default()
    };
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[then("the retrieve meets the profile's performance thresholds")]
async fn meets_thresholds(world: &mut HarnessWorld) -> StepResult {
    judge_last(world, &["PERF-01", "PERF-02", "PERF-03", "PERF-04"])
}

/// PERF-05 is a warning whatever the strictness: `transfer-syntax=*` lets the origin server
/// choose (PS3.18 §8.7.3.5.2), so a transcoded answer breaks no requirement; it only costs time.
#[then("the instances come in the transfer syntax they are stored in")]
async fn as_stored(world: &mut HarnessWorld) -> StepResult {
    let before = world.findings.len();
    let result = judge_last(world, &["PERF-05"]);
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
            let mut w = FirstPart::new(Instant::now());
            let mut at = None;
            for (i, c) in body.chunks(size).enumerate() {
                w.feed(c);
                if w.done.is_some() && at.is_none() {
                    at = Some((i + 1) * size);
                }
            }
            let at = at.expect("first part end noticed");
            // Not before the delimiter that closes the first part has been read.
            assert!(at >= 49, "chunk size {size}: at {at}");
        }
        let mut w = FirstPart::new(Instant::now());
        w.feed(&[b'x'; MAX_HEAD + 10]);
        assert!(w.gave_up);
    }
}
