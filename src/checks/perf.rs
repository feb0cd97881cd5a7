//! Performance qualification of a study retrieve: time to the first byte, time to the first
//! complete instance, throughput and instances a second, against the thresholds of the SUT
//! profile's `[performance]` table ([`crate::config::performance`]), for WADO-RS (RAD-107),
//! C-GET, C-MOVE and RAD-69.
//!
//! No standard sets these figures. The requirement judged is the profile's own threshold; the
//! motivation is national qualification, which measures them: France's DRIMbox programme (ANS,
//! Ségur wave 2, requirement DB.SO.102) asks for the latency to the first image and the throughput
//! of WADO-RS and C-MOVE retrieves of a reference CT study (1,300 JPEG-LS images, about 200 MB).
//! A threshold the profile leaves out is Not applicable: the figure is measured and reported only.
//!
//! How the harness measures. Over HTTP (WADO-RS, RAD-69) the clock starts when the request is
//! handed to the HTTP client:
//! - time to first byte: until the response headers arrived (the first bytes of the answer);
//! - time to first complete instance: until the delimiter closing the first part holding an
//!   instance was read (WADO-RS: the first part; RAD-69: the first attachment after the SOAP
//!   envelope);
//! - throughput: the bytes of the multipart body over the whole exchange, in MB/s (10^6 bytes);
//! - instances/s: the instance parts of the body over the whole exchange.
//!
//! Over DIMSE (C-GET, C-MOVE) the clock starts when the harness opens the association:
//! - time to first byte: until the first PDU of the first C-STORE sub-operation arrived (on the
//!   same association for C-GET, on the harness's Storage SCP for C-MOVE), or the first response
//!   when no sub-operation came;
//! - time to first complete instance: until the last PDU of that C-STORE-RQ's data set;
//! - throughput: the data set bytes of the C-STORE-RQs until the final response;
//! - instances/s: the C-STORE sub-operations until the final response.

use super::{Check, Level, Subject, Verdict};
use crate::config::performance::Thresholds;

/// What a @perf scenario measured, and the thresholds it is judged against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PerfExpect {
    /// The figures measured.
    pub figures: Figures,
    /// The thresholds of the transaction.
    pub thresholds: Thresholds,
    /// Where the thresholds come from (`the SUT profile orthanc.toml`).
    pub source: String,
    /// The transfer syntaxes each instance of the study may be stored in, by SOP Instance UID,
    /// for the instances the retrieve offered to take as stored (WADO-RS `transfer-syntax=*`, a
    /// RAD-69 list holding it, a C-GET context proposing it, a C-MOVE destination accepting it):
    /// the fixture's, and its twin's where the harness's own load stored the twin.
    pub stored_ts: std::collections::BTreeMap<String, Vec<String>>,
}

/// The figures of one timed study retrieve.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    /// Milliseconds to the first byte of the answer.
    pub ttfb_ms: f64,
    /// Milliseconds to the end of the first complete instance, if one completed.
    pub first_instance_ms: Option<f64>,
    /// Milliseconds of the whole retrieve.
    pub total_ms: f64,
    /// Bytes received.
    pub bytes: u64,
    /// Instances received.
    pub instances: u64,
}

impl Figures {
    /// The figures of a C-GET or C-MOVE that started at `t0` and whose exchange ended at `end`:
    /// its C-STORE sub-operations are those received on the association `r` (C-GET) and on the
    /// harness's Storage SCP (`followups`, C-MOVE), timed by their PDUs
    /// ([`MessageRecord::pdus_at`](crate::evidence::dimse::MessageRecord::pdus_at)); the retrieve
    /// ends with its final response (or with the exchange, without one).
    pub fn of_dimse(
        t0: std::time::Instant,
        end: std::time::Instant,
        r: &crate::evidence::dimse::DimseRecord,
        followups: &[crate::evidence::Exchange],
    ) -> Figures {
        use crate::dimse::command::{field, status};
        use crate::evidence::dimse::Flow;
        let ms = |at: std::time::Instant| at.saturating_duration_since(t0).as_secs_f64() * 1e3;
        let stores: Vec<_> = super::dimse::stores(r, followups).collect();
        let first_store = stores
            .iter()
            .filter_map(|m| m.pdus_at)
            .min_by_key(|(f, _)| *f);
        let first_response = r
            .messages
            .iter()
            .filter(|m| m.flow == Flow::Received)
            .find_map(|m| m.pdus_at);
        let final_response = r
            .messages
            .iter()
            .rev()
            .filter(|m| {
                m.flow == Flow::Received
                    && matches!(m.command.field, field::C_GET_RSP | field::C_MOVE_RSP)
                    && m.command.status.is_some_and(|s| !status::is_pending(s))
            })
            .find_map(|m| m.pdus_at);
        let last_store = stores
            .iter()
            .filter_map(|m| m.pdus_at)
            .map(|(_, l)| l)
            .max();
        let finished = match (final_response, last_store) {
            (Some((_, f)), Some(l)) => f.max(l),
            (Some((_, f)), None) => f,
            _ => end,
        };
        let total_ms = ms(finished);
        Figures {
            ttfb_ms: first_store
                .or(first_response)
                .map_or(total_ms, |(f, _)| ms(f)),
            first_instance_ms: stores
                .iter()
                .filter_map(|m| m.pdus_at)
                .map(|(_, l)| l)
                .min()
                .map(ms),
            total_ms,
            bytes: stores.iter().filter_map(|m| m.data_len).sum(),
            instances: stores.len() as u64,
        }
    }

    /// Throughput, MB/s (10^6 bytes a second).
    pub fn mbps(&self) -> f64 {
        if self.total_ms <= 0.0 {
            return 0.0;
        }
        self.bytes as f64 / 1e6 / (self.total_ms / 1e3)
    }

    /// Instances a second.
    pub fn instances_per_s(&self) -> f64 {
        if self.total_ms <= 0.0 {
            return 0.0;
        }
        self.instances as f64 / (self.total_ms / 1e3)
    }

    /// The figures by the names results.json, JUnit and the HTML report give them.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let mut m = vec![("ttfb_ms", round(self.ttfb_ms))];
        if let Some(f) = self.first_instance_ms {
            m.push(("first_instance_ms", round(f)));
        }
        m.extend([
            ("total_ms", round(self.total_ms)),
            ("bytes", self.bytes as f64),
            ("instances", self.instances as f64),
            ("mbps", round(self.mbps())),
            ("instances_per_s", round(self.instances_per_s())),
        ]);
        m
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

const SOURCE: &str = "the SUT profile's [performance] threshold (the SUT's or a qualification \
                      programme's figure) for a study retrieve (WADO-RS, DICOM PS3.18 §10.4; \
                      C-MOVE and C-GET, DICOM PS3.4 §C.4.2 and §C.4.3; RAD-69, IHE RAD TF-2 \
                      §4.69); motivation: ANS DRIMbox qualification, Ségur wave 2, requirement \
                      DB.SO.102 (latency to first image and throughput of WADO-RS and C-MOVE)";

/// The rules.
pub const CHECKS: &[Check] = &[
    Check {
        id: "PERF-01",
        requirement: SOURCE,
        requirements: &["PROFILE-performance.ttfb", "DRIMBOX-DB.SO.102"],
        level: Level::Shall,
        actor: "Imaging Document Source (study retrieve)",
        title: "The first byte of a study retrieve arrives within the profile's threshold",
        eval: ttfb,
    },
    Check {
        id: "PERF-02",
        requirement: SOURCE,
        requirements: &["PROFILE-performance.first-instance", "DRIMBOX-DB.SO.102"],
        level: Level::Shall,
        actor: "Imaging Document Source (study retrieve)",
        title: "The first complete instance of a study retrieve arrives within the profile's \
                threshold",
        eval: first_instance,
    },
    Check {
        id: "PERF-03",
        requirement: SOURCE,
        requirements: &["PROFILE-performance.throughput", "DRIMBOX-DB.SO.102"],
        level: Level::Shall,
        actor: "Imaging Document Source (study retrieve)",
        title: "A study retrieve reaches the profile's least throughput (MB/s)",
        eval: throughput,
    },
    Check {
        id: "PERF-04",
        requirement: SOURCE,
        requirements: &["PROFILE-performance.instance-rate", "DRIMBOX-DB.SO.102"],
        level: Level::Shall,
        actor: "Imaging Document Source (study retrieve)",
        title: "A study retrieve reaches the profile's least instances a second",
        eval: instance_rate,
    },
    Check {
        id: "PERF-05",
        requirement: "DICOM PS3.18 §8.7.3.5.2 (transfer-syntax=* accepts any transfer syntax: \
                      the origin server chooses, so transcoding is allowed and only advised \
                      against); motivation: ANS DRIMbox qualification, requirement DB.SO.102 (a \
                      retrieve's latency and throughput, which transcoding costs)",
        requirements: &["PS18-8.7.3.5.2", "DRIMBOX-DB.SO.102"],
        level: Level::Should,
        actor: "Imaging Document Source (study retrieve)",
        title: "Asked for any transfer syntax, the origin server sends the instances as stored \
                instead of transcoding them (a warning, never a failure)",
        eval: as_stored,
    },
];

fn with_perf(
    s: &Subject<'_>,
    threshold: impl Fn(&Thresholds) -> Option<f64>,
    judge: impl Fn(&Figures, f64, &str) -> Verdict,
) -> Verdict {
    let Some(p) = &s.expect.perf else {
        return Verdict::NotApplicable("not a timed retrieve".into());
    };
    match threshold(&p.thresholds) {
        None => Verdict::NotApplicable(format!(
            "no threshold in {}: measured and reported only",
            p.source
        )),
        Some(t) => judge(&p.figures, t, &p.source),
    }
}

fn ttfb(s: &Subject<'_>) -> Verdict {
    with_perf(
        s,
        |t| t.ttfb_ms,
        |f, t, src| {
            if f.ttfb_ms <= t {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("the first byte within {t} ms ({src})"),
                    format!("the first byte after {:.1} ms", f.ttfb_ms),
                )
            }
        },
    )
}

fn first_instance(s: &Subject<'_>) -> Verdict {
    with_perf(
        s,
        |t| t.first_instance_ms,
        |f, t, src| match f.first_instance_ms {
            Some(ms) if ms <= t => Verdict::Pass,
            Some(ms) => Verdict::fail(
                format!("the first complete instance within {t} ms ({src})"),
                format!("the first complete instance after {ms:.1} ms"),
            ),
            None => Verdict::fail(
                format!("the first complete instance within {t} ms ({src})"),
                "no complete instance in the answer",
            ),
        },
    )
}

fn throughput(s: &Subject<'_>) -> Verdict {
    with_perf(
        s,
        |t| t.min_mbps,
        |f, t, src| {
            if f.mbps() >= t {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("at least {t} MB/s ({src})"),
                    format!(
                        "{:.2} MB/s ({} bytes in {:.1} ms)",
                        f.mbps(),
                        f.bytes,
                        f.total_ms
                    ),
                )
            }
        },
    )
}

fn instance_rate(s: &Subject<'_>) -> Verdict {
    with_perf(
        s,
        |t| t.min_instances_per_s,
        |f, t, src| {
            if f.instances_per_s() >= t {
                Verdict::Pass
            } else {
                Verdict::fail(
                    format!("at least {t} instances/s ({src})"),
                    format!(
                        "{:.2} instances/s ({} instances in {:.1} ms)",
                        f.instances_per_s(),
                        f.instances,
                        f.total_ms
                    ),
                )
            }
        },
    )
}

/// The instances a retrieve delivered, as (SOP Instance UID, transfer syntax): the DICOM parts of
/// a multipart answer (WADO-RS, RAD-69), or the C-STORE sub-operations of a C-GET or C-MOVE with
/// the transfer syntax of the presentation context each came on.
fn delivered(s: &Subject<'_>) -> Option<Vec<(String, String)>> {
    let trim = |u: &str| u.trim_end_matches(['\0', ' ']).to_string();
    if let Some(mp) = &s.exchange.multipart {
        return Some(
            mp.parts
                .iter()
                .filter_map(|part| part.dicom.as_ref())
                .filter_map(|head| {
                    let sop = head
                        .sop_instance
                        .as_deref()
                        .or(head.media_storage_sop_instance.as_deref())?;
                    Some((
                        trim(sop),
                        trim(head.transfer_syntax.as_deref().unwrap_or("")),
                    ))
                })
                .collect(),
        );
    }
    let r = s.exchange.dimse.as_deref()?;
    Some(
        super::dimse::stores(r, s.followups)
            .filter_map(|m| {
                let sop = m.command.affected_sop_instance.as_deref()?;
                let ts = m
                    .data_summary
                    .iter()
                    .find(|(k, _)| k == "TransferSyntaxUID")
                    .map_or("", |(_, v)| v.as_str());
                Some((trim(sop), trim(ts)))
            })
            .collect(),
    )
}

fn as_stored(s: &Subject<'_>) -> Verdict {
    let Some(p) = s.expect.perf.as_ref().filter(|p| !p.stored_ts.is_empty()) else {
        return Verdict::NotApplicable("the retrieve did not ask for the stored form".into());
    };
    let Some(delivered) = delivered(s) else {
        return Verdict::NotApplicable("no instances in the answer".into());
    };
    let mut changed = Vec::new();
    for (sop, sent) in &delivered {
        let Some((sop, stored)) = p.stored_ts.get_key_value(sop) else {
            continue;
        };
        if !stored.iter().any(|t| t == sent) {
            changed.push(format!(
                "{sop}: stored {}, sent {}",
                stored.join(" or "),
                or_none(sent)
            ));
        }
    }
    if changed.is_empty() {
        return Verdict::Pass;
    }
    let n = changed.len();
    changed.truncate(3);
    Verdict::fail(
        "the instances in the transfer syntax they are stored in",
        format!(
            "{n} instance(s) transcoded ({}{})",
            changed.join("; "),
            if n > 3 { "; …" } else { "" }
        ),
    )
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "no transfer syntax"
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::Exchange;

    fn verdicts(figures: Figures, thresholds: Thresholds) -> Vec<Verdict> {
        let ex = Exchange::synthetic("http://x", &[], 200, &[], b"");
        let expect = Expect {
            perf: Some(PerfExpect {
                figures,
                thresholds,
                source: "p.toml".into(),
                ..PerfExpect::default()
            }),
            ..Expect::default()
        };
        let s = Subject {
            exchange: &ex,
            expect: &expect,
            strict: false,
            followups: &[],
        };
        CHECKS[..4].iter().map(|c| (c.eval)(&s)).collect()
    }

    /// Check `id` (PERF-05) on `ex`, whose instance `sop` the fixture holds in JPEG-LS Lossless.
    fn stored_ts_check(id: &str, ex: &Exchange, sop: &str) -> Verdict {
        stored_forms_check(id, ex, sop, &["1.2.840.10008.1.2.4.80"])
    }

    /// Check `id` on `ex`, whose instance `sop` the SUT may hold in any of `forms`.
    fn stored_forms_check(id: &str, ex: &Exchange, sop: &str, forms: &[&str]) -> Verdict {
        let eval = CHECKS.iter().find(|c| c.id == id).map(|c| c.eval).unwrap();
        let expect = Expect {
            perf: Some(PerfExpect {
                stored_ts: [(
                    sop.to_string(),
                    forms.iter().map(|f| f.to_string()).collect(),
                )]
                .into(),
                ..PerfExpect::default()
            }),
            ..Expect::default()
        };
        eval(&Subject {
            exchange: ex,
            expect: &expect,
            strict: false,
            followups: &[],
        })
    }

    /// Check `id` on a WADO-RS answer whose one part is sent in `sent_ts`.
    fn as_stored_verdict(id: &str, sent_ts: &str) -> Verdict {
        stored_forms_check(
            id,
            &wado_answer(sent_ts),
            "1.2.3.4",
            &["1.2.840.10008.1.2.4.80"],
        )
    }

    /// A WADO-RS answer of one part, instance 1.2.3.4 in `sent_ts`.
    fn wado_answer(sent_ts: &str) -> Exchange {
        use crate::checks::dicomweb::tests::{multipart, part10, MP};
        multipart(MP, &[("application/dicom", part10("1.2.3.4", sent_ts, []))])
    }

    /// An instance this run's DIMSE load stored as its Explicit VR Little Endian twin is stored
    /// in that form too: sent so, it is not a transcoding; sent in a third form, it is.
    #[test]
    fn the_twin_the_load_stored_is_a_stored_form() {
        let forms = ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.1"];
        let judge = |sent| stored_forms_check("PERF-05", &wado_answer(sent), "1.2.3.4", &forms);
        assert_eq!(judge("1.2.840.10008.1.2.1"), Verdict::Pass);
        match judge("1.2.840.10008.1.2.4.70") {
            Verdict::Fail { actual, .. } => assert!(
                actual.contains("stored 1.2.840.10008.1.2.4.80 or 1.2.840.10008.1.2.1"),
                "{actual}"
            ),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn transcoding_what_was_asked_as_stored_is_flagged() {
        assert_eq!(
            as_stored_verdict("PERF-05", "1.2.840.10008.1.2.4.80"),
            Verdict::Pass
        );
        assert!(matches!(
            as_stored_verdict("PERF-05", "1.2.840.10008.1.2.1"),
            Verdict::Fail { .. }
        ));
    }

    /// A C-GET record: the request, `stores` C-STORE-RQ sub-operations (SOP Instance UID,
    /// transfer syntax of their context, first and last PDU in ms after `t0`) and a final
    /// response at `final_ms`.
    fn cget(
        t0: std::time::Instant,
        stores: &[(&str, &str, u64, u64)],
        final_ms: u64,
    ) -> crate::evidence::dimse::DimseRecord {
        use crate::dimse::command::{field, Command};
        use crate::evidence::dimse::{DimseRecord, Flow, MessageRecord};
        let at = |ms: u64| t0 + std::time::Duration::from_millis(ms);
        let message =
            |flow, command: Command, summary: Vec<(String, String)>, times| MessageRecord {
                flow,
                pc_id: 1,
                data_len: (command.field == field::C_STORE_RQ).then_some(1000),
                command,
                data_sha256: None,
                data_summary: summary,
                pdus: 1,
                largest_pdu: 0,
                at_ms: 0,
                pdus_at: times,
            };
        let rq = Command::request(field::C_GET_RQ, "1.2.840.10008.5.1.4.1.2.2.3", 7, true);
        let mut messages = vec![message(Flow::Sent, rq.clone(), Vec::new(), None)];
        for (sop, ts, first, last) in stores {
            let mut c = Command::request(field::C_STORE_RQ, "1.2.840.10008.5.1.4.1.1.2", 9, true);
            c.affected_sop_instance = Some(sop.to_string());
            messages.push(message(
                Flow::Received,
                c,
                vec![("TransferSyntaxUID".into(), ts.to_string())],
                Some((at(*first), at(*last))),
            ));
        }
        messages.push(message(
            Flow::Received,
            Command::response_to(&rq, 0, false),
            Vec::new(),
            Some((at(final_ms), at(final_ms))),
        ));
        DimseRecord {
            messages,
            ..DimseRecord::default()
        }
    }

    #[test]
    fn dimse_figures_come_from_the_sub_operations_and_the_final_response() {
        let t0 = std::time::Instant::now();
        let r = cget(
            t0,
            &[
                ("1.1", "1.2.840.10008.1.2.1", 30, 45),
                ("1.2", "1.2.840.10008.1.2.1", 50, 60),
            ],
            100,
        );
        let end = t0 + std::time::Duration::from_millis(400);
        let f = Figures::of_dimse(t0, end, &r, &[]);
        assert_eq!(f.ttfb_ms.round(), 30.0);
        assert_eq!(f.first_instance_ms.map(f64::round), Some(45.0));
        // The release after the final response is not the retrieve's.
        assert_eq!(f.total_ms.round(), 100.0);
        assert_eq!((f.bytes, f.instances), (2000, 2));
        // No sub-operation: the first byte is the first response, and no instance completed.
        let none = cget(t0, &[], 80);
        let f = Figures::of_dimse(t0, end, &none, &[]);
        assert_eq!(
            (f.ttfb_ms.round(), f.first_instance_ms, f.instances),
            (80.0, None, 0)
        );
        // C-MOVE: the sub-operations arrived on the harness's Storage SCP, a follow-up exchange.
        let moved = cget(t0, &[("1.1", "1.2.840.10008.1.2.1", 20, 25)], 0);
        let mut follow = Exchange::synthetic("dicom://HARNESS@127.0.0.1:11114", &[], 0, &[], b"");
        follow.dimse = Some(Box::new(moved));
        let f = Figures::of_dimse(t0, end, &cget(t0, &[], 90), &[follow]);
        assert_eq!(
            (f.ttfb_ms.round(), f.instances, f.total_ms.round()),
            (20.0, 1, 90.0)
        );
    }

    #[test]
    fn a_sub_operation_transcoded_although_offered_as_stored_is_flagged() {
        let t0 = std::time::Instant::now();
        let judge = |sent: &str| {
            let mut ex = Exchange::synthetic("dicom://PACS@127.0.0.1:104", &[], 0, &[], b"");
            ex.dimse = Some(Box::new(cget(t0, &[("1.1", sent, 1, 2)], 3)));
            stored_ts_check("PERF-05", &ex, "1.1")
        };
        assert_eq!(judge("1.2.840.10008.1.2.4.80"), Verdict::Pass);
        match judge("1.2.840.10008.1.2.1") {
            Verdict::Fail { actual, .. } => {
                assert!(
                    actual.contains("stored 1.2.840.10008.1.2.4.80, sent 1.2.840.10008.1.2.1"),
                    "{actual}"
                )
            }
            v => panic!("{v:?}"),
        }
    }

    const FIGS: Figures = Figures {
        ttfb_ms: 20.0,
        first_instance_ms: Some(40.0),
        total_ms: 1000.0,
        bytes: 200_000_000,
        instances: 1300,
    };

    fn limits(ttfb: f64, first: f64, mbps: f64, ips: f64) -> Thresholds {
        Thresholds {
            ttfb_ms: Some(ttfb),
            first_instance_ms: Some(first),
            min_mbps: Some(mbps),
            min_instances_per_s: Some(ips),
        }
    }

    #[test]
    fn within_thresholds_passes() {
        let v = verdicts(FIGS, limits(20.0, 50.0, 200.0, 1300.0));
        assert!(v.iter().all(|v| *v == Verdict::Pass), "{v:?}");
    }

    #[test]
    fn past_thresholds_fails_each_check() {
        let v = verdicts(FIGS, limits(10.0, 30.0, 250.0, 2000.0));
        assert!(v.iter().all(|v| matches!(v, Verdict::Fail { .. })), "{v:?}");
        let mut no_instance = FIGS;
        no_instance.first_instance_ms = None;
        let v = verdicts(no_instance, limits(100.0, 100.0, 1.0, 1.0));
        assert!(matches!(v[1], Verdict::Fail { .. }));
    }

    #[test]
    fn no_threshold_is_not_applicable() {
        let v = verdicts(FIGS, Thresholds::default());
        assert!(v.iter().all(|v| matches!(v, Verdict::NotApplicable(_))));
    }

    #[test]
    fn figures_are_derived() {
        assert_eq!(FIGS.mbps(), 200.0);
        assert_eq!(FIGS.instances_per_s(), 1300.0);
        let m = FIGS.metrics();
        assert!(m.contains(&("first_instance_ms", 40.0)));
        assert_eq!(Figures::default().mbps(), 0.0);
    }
}
