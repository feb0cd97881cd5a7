//! Performance qualification of a study retrieve: time to the first byte, time to the first
//! complete instance, throughput and instances a second, against the thresholds of the SUT
//! profile's `[performance]` table ([`crate::config::performance`]).
//!
//! No standard sets these figures. The requirement judged is the profile's own threshold; the
//! motivation is national qualification, which measures them: France's DRIMbox programme (ANS,
//! Ségur wave 2, requirement DB.SO.102) asks for the latency to the first image and the throughput
//! of WADO-RS and C-MOVE retrieves of a reference CT study (1,300 JPEG-LS images, about 200 MB).
//! A threshold the profile leaves out is Not applicable: the figure is measured and reported only.
//!
//! How the harness measures (the clock starts when the request is handed to the HTTP client):
//! - time to first byte: until the response headers arrived (the first bytes of the answer);
//! - time to first complete instance: until the delimiter closing the first part was read;
//! - throughput: the bytes of the multipart body over the whole exchange, in MB/s (10^6 bytes);
//! - instances/s: the parts of the body over the whole exchange.

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
    /// The transfer syntax each instance of the study is stored in, by SOP Instance UID, when
    /// the retrieve asked for the stored form (`transfer-syntax=*`).
    pub stored_ts: std::collections::BTreeMap<String, String>,
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
                      programme's figure) for a study retrieve (DICOM PS3.18 §10.4); motivation: ANS DRIMbox qualification, Ségur wave 2, \
                      requirement DB.SO.102 (latency to first image and throughput of WADO-RS \
                      and C-MOVE)";

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

fn as_stored(s: &Subject<'_>) -> Verdict {
    let Some(p) = s.expect.perf.as_ref().filter(|p| !p.stored_ts.is_empty()) else {
        return Verdict::NotApplicable("the retrieve did not ask for the stored form".into());
    };
    let Some(mp) = &s.exchange.multipart else {
        return Verdict::NotApplicable("no multipart answer".into());
    };
    let mut changed = Vec::new();
    for head in mp.parts.iter().filter_map(|part| part.dicom.as_ref()) {
        let sop = head
            .sop_instance
            .as_deref()
            .or(head.media_storage_sop_instance.as_deref())
            .map(|u| u.trim_end_matches(['\0', ' ']));
        let Some((sop, stored)) = sop.and_then(|u| p.stored_ts.get_key_value(u)) else {
            continue;
        };
        let sent = head
            .transfer_syntax
            .as_deref()
            .map(|t| t.trim_end_matches(['\0', ' ']))
            .unwrap_or("");
        if sent != stored {
            changed.push(format!("{sop}: stored {stored}, sent {}", or_none(sent)));
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

    fn part10(sop: &str, ts: &str) -> Vec<u8> {
        use dicom_core::{DataElement, VR};
        use dicom_dictionary_std::tags;
        let obj = dicom_object::InMemDicomObject::from_element_iter([
            DataElement::new(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, sop),
        ]);
        let file = obj
            .with_meta(
                dicom_object::meta::FileMetaTableBuilder::new()
                    .transfer_syntax(ts)
                    .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.2")
                    .media_storage_sop_instance_uid(sop),
            )
            .unwrap();
        let mut out = Vec::new();
        file.write_all(&mut out).unwrap();
        out
    }

    fn as_stored_verdict(eval: fn(&Subject<'_>) -> Verdict, sent_ts: &str) -> Verdict {
        let part = part10("1.2.3.4", sent_ts);
        let headers = [("Content-Type", "application/dicom")];
        let body = crate::transport::multipart::build_body("b", &[(&headers[..], part.as_slice())]);
        let ex = Exchange::synthetic(
            "http://x",
            &[],
            200,
            &[(
                "Content-Type",
                "multipart/related; type=\"application/dicom\"; boundary=b",
            )],
            &body,
        );
        let expect = Expect {
            perf: Some(PerfExpect {
                stored_ts: [("1.2.3.4".to_string(), "1.2.840.10008.1.2.4.80".to_string())].into(),
                ..PerfExpect::default()
            }),
            ..Expect::default()
        };
        eval(&Subject {
            exchange: &ex,
            expect: &expect,
            strict: false,
            followups: &[],
        })
    }

    #[test]
    fn transcoding_what_was_asked_as_stored_is_flagged() {
        let eval = CHECKS
            .iter()
            .find(|c| c.id == "PERF-05")
            .map(|c| c.eval)
            .unwrap();
        assert_eq!(
            as_stored_verdict(eval, "1.2.840.10008.1.2.4.80"),
            Verdict::Pass
        );
        assert!(matches!(
            as_stored_verdict(eval, "1.2.840.10008.1.2.1"),
            Verdict::Fail { .. }
        ));
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
