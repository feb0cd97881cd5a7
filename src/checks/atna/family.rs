//! The ATNA audit rules as registry checks: every rule of [`super`] (ATNA-SYSLOG-*, ATNA-MSG-*)
//! and of [`super::transaction`] (ATNA-TXN-*), judged once per exchange as a family.
//!
//! The exchange judged is an inbound ITI-20 exchange: what the harness's Audit Record Repository
//! received from the SUT, its request body the bytes received (the SYSLOG-MSG of a frame, a
//! datagram, or the head of a stream that broke), its request headers how it came
//! ([`TRANSPORT_HEADER`]) and what broke the stream, if anything ([`PROBLEM_HEADER`]). What the
//! scenario expects of it is [`crate::checks::Expect::atna`]. The validators run once
//! ([`judge`]); each check reads its rule's violations. A rule with nothing to judge (the stream
//! broke before a whole message, the MSG is not an audit message, the table of the audited
//! transaction asks for no such object) is not applicable, never a silent Pass.

use super::transaction::{self, Audited};
use super::{AtnaExpect, Carrier};
use crate::checks::rule::{Rule, Violation};
use crate::checks::{Check, Level, Subject, Verdict};
use crate::transaction::Transaction;

/// The request header of an ITI-20 exchange that says how the message came (`syslog/TLS`,
/// `syslog/UDP`, `syslog/TCP`, `FHIR AuditEvent`).
pub const TRANSPORT_HEADER: &str = "Audit-Transport";
/// The request header of an ITI-20 exchange that says what broke the stream or datagram (a
/// framing error, a stall, a datagram above the limit); absent when a whole message arrived.
pub const PROBLEM_HEADER: &str = "Audit-Problem";

const ACTOR: &str = "Secure Node / Secure Application (audit source, ITI-20)";

/// What the validators found in one exchange: the violations, and for each group of rules why it
/// could not be judged, if so.
#[derive(Debug, Clone)]
pub struct Judged {
    /// Every violation found.
    violations: Vec<Violation>,
    /// Why no rule but framing could be judged (the stream broke).
    broken: Option<String>,
    /// Why the syslog rules do not apply (FHIR carrier) or could not be judged (no RFC 5424
    /// header).
    no_syslog: Option<String>,
    /// Why the schema and transaction rules could not be judged (no audit message).
    no_audit: Option<String>,
    /// Why the transaction rules do not apply (the audited exchange is not known).
    no_txn: Option<String>,
    /// The audited transaction, for the object rules its table does not ask for.
    audited: Option<(Audited, transaction::Side)>,
    /// The message came over a stream (framing applies).
    framed: bool,
    /// Strict run.
    strict: bool,
    /// The message came as a FHIR AuditEvent.
    fhir: bool,
}

/// Run the ATNA validators once over the exchange, or say why there is nothing to judge.
pub fn judge(s: &Subject<'_>) -> Result<Judged, Verdict> {
    let Some(expect) = s.expect.atna.as_ref() else {
        return Err(Verdict::na("no audit message is expected of this exchange"));
    };
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti20 {
        return Err(Verdict::na("not an ITI-20 exchange"));
    }
    let transport = ex.request.header(TRANSPORT_HEADER).unwrap_or("syslog/TLS");
    let framed = matches!(transport, "syslog/TLS" | "syslog/TCP");
    let mut j = Judged {
        violations: Vec::new(),
        broken: None,
        no_syslog: None,
        no_audit: None,
        no_txn: None,
        audited: expect.audited,
        framed,
        strict: s.strict,
        fhir: expect.carrier == Carrier::FhirJson,
    };
    if j.fhir {
        let path = url::Url::parse(&ex.request.url)
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            })
            .unwrap_or_default();
        let req = super::fhir::FeedRequest {
            method: &ex.request.method,
            path: &path,
            content_type: ex.request.header("Content-Type"),
        };
        if let Some(why) = super::fhir::not_judged(&req, &ex.request.body.kept) {
            return Err(Verdict::na(why));
        }
        j.violations = super::fhir::validate_request(&req);
        j.no_syslog = Some("the audit came as a FHIR AuditEvent, not over syslog".into());
    }
    if let Some(problem) = ex.request.header(PROBLEM_HEADER) {
        let rule = if j.fhir {
            &super::fhir::RESOURCE
        } else {
            &super::FRAMING
        };
        j.violations.push(Violation::of(rule, problem.to_string()));
        j.broken = Some(format!(
            "no whole message arrived to judge ({transport}: {problem})"
        ));
        return Ok(j);
    }
    let full = judge_bytes(&ex.request.body.kept, expect);
    j.violations.extend(full.violations);
    if !j.fhir && !full.syslog_read {
        j.no_syslog = Some("the bytes are not an RFC 5424 message (see ATNA-SYSLOG-01)".into());
    }
    if !full.audit_read {
        j.no_audit = Some(if j.fhir {
            "no AuditEvent could be read (see ATNA-FHIR-03)".into()
        } else {
            "no audit message could be read (see ATNA-SYSLOG-06)".into()
        });
    }
    if expect.audited.is_none() {
        j.no_txn = Some("the exchange the message audits is not known".into());
    }
    Ok(j)
}

/// What [`judge_bytes`] found: the violations and how far the message could be read.
#[derive(Debug, Clone, Default)]
pub struct BytesJudged {
    /// The RFC 5424 header could be read (always false for a FHIR carrier).
    pub syslog_read: bool,
    /// An audit message could be read from the payload.
    pub audit_read: bool,
    /// Every violation.
    pub violations: Vec<Violation>,
}

/// Judge the bytes of one message as [`super::judge`] does, saying how far they could be read.
pub fn judge_bytes(raw: &[u8], expect: &AtnaExpect) -> BytesJudged {
    let (syslog_read, audit, mut v) = match expect.carrier {
        Carrier::Syslog => {
            let j = super::validate_syslog(raw, &expect.rules);
            (j.syslog.is_some(), j.audit, j.violations)
        }
        Carrier::FhirJson => {
            let j = super::fhir::validate_body(raw, crate::model::audit::fhir::MAX_BYTES);
            let mut v = j.violations;
            if let Some(a) = &j.audit {
                v.extend(super::validate_message(a));
            }
            (false, j.audit, v)
        }
    };
    if let (Some(a), Some((audited, side))) = (&audit, expect.audited) {
        v.extend(transaction::validate(a, audited, side, &expect.exchange));
    }
    BytesJudged {
        syslog_read,
        audit_read: audit.is_some(),
        violations: v,
    }
}

/// The transaction audited, as its table names it.
pub fn audited_name(a: Audited) -> &'static str {
    match a {
        Audited::Iti18 => "ITI-18",
        Audited::Iti41 => "ITI-41",
        Audited::Rad68 => "RAD-68",
        Audited::Iti43 => "ITI-43",
        Audited::Rad69 => "RAD-69",
        Audited::DicomInstancesTransferred => "DICOM Instances Transferred",
        Audited::DicomQuery => "DICOM Query",
        Audited::Iti65 => "ITI-65",
        Audited::Iti66 => "ITI-66",
        Audited::Iti67 => "ITI-67",
        Audited::Iti68 => "ITI-68",
    }
}

fn is_syslog_rule(id: &str) -> bool {
    id.starts_with("ATNA-SYSLOG-")
}

/// The verdict of one rule from what [`judge`] found.
pub fn verdict(judged: &Result<Judged, Verdict>, check: &Check) -> Verdict {
    let j = match judged {
        Err(v) => return v.clone(),
        Ok(j) => j,
    };
    let id = check.id;
    if id.starts_with("ATNA-FHIR-") {
        if !j.fhir {
            return Verdict::na("the audit came over syslog, not the FHIR Feed");
        }
        // The request line and headers are judged even when the body could not be read.
        let request_rule = [super::fhir::CREATE.id, super::fhir::MEDIA.id].contains(&id);
        if id != super::fhir::RESOURCE.id && !request_rule {
            if let Some(why) = j.broken.as_ref().or(j.no_audit.as_ref()) {
                return Verdict::na(why.clone());
            }
        }
    } else if id == super::FRAMING.id {
        if j.fhir {
            return Verdict::na("the audit came as an HTTP body, not a syslog frame");
        }
        if j.broken.is_none() && !j.framed {
            return Verdict::na("the message came as one datagram or HTTP body, not framed");
        }
    } else if let Some(why) = &j.broken {
        return Verdict::na(why.clone());
    } else if j.fhir && [super::CODED.id, super::EVENT_ID_DCM.id, super::EXTRA.id].contains(&id) {
        return Verdict::na(
            "a rule of the DICOM audit XML (coded value attributes, DCM EventID, unknown elements); the audit came as a FHIR AuditEvent",
        );
    } else if is_syslog_rule(id) {
        if id != super::HEADER.id || j.fhir {
            if let Some(why) = &j.no_syslog {
                return Verdict::na(why.clone());
            }
        }
    } else {
        if let Some(why) = &j.no_audit {
            return Verdict::na(why.clone());
        }
        if id.starts_with("ATNA-TXN-") {
            if let Some(why) = &j.no_txn {
                return Verdict::na(why.clone());
            }
            if let Some((audited, side)) = j.audited {
                let spec = transaction::Spec::of(audited, side);
                let object_rule = [
                    transaction::PATIENT.id,
                    transaction::SUBMISSION_SET.id,
                    transaction::QUERY.id,
                    transaction::DOCUMENT.id,
                    transaction::STUDY.id,
                ]
                .contains(&id);
                if object_rule && !spec.objects.iter().any(|o| o.rule.id == id) {
                    return Verdict::na(format!(
                        "the audit table of {} asks for no such participant object",
                        audited_name(audited)
                    ));
                }
            }
        }
    }
    let found: Vec<&Violation> = j.violations.iter().filter(|v| v.rule == id).collect();
    if found.is_empty() {
        return Verdict::Pass;
    }
    let actual = found
        .iter()
        .map(|v| {
            if v.location.is_empty() {
                v.message.clone()
            } else {
                format!("{}: {}", v.location, v.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    // A reading the text does not settle (an uncertain table) is a SHOULD even under a SHALL
    // rule: a warning unless the run is strict.
    if check.level == Level::Shall && !j.strict && found.iter().all(|v| v.level == Level::Should) {
        return Verdict::na(format!("advisory (SHOULD reading): {actual}"));
    }
    Verdict::fail(format!("an audit message that meets {id}"), actual)
}

/// True for the checks of this family, which take their verdicts from [`judge`].
pub fn is_member(check: &Check) -> bool {
    check.id.starts_with("ATNA-") && CHECKS.iter().any(|c| c.id == check.id)
}

fn judge_rule(s: &Subject<'_>, id: &'static str) -> Verdict {
    match CHECKS.iter().find(|c| c.id == id) {
        Some(c) => verdict(&judge(s), c),
        None => Verdict::na("unknown ATNA rule"),
    }
}

const fn check(
    rule: Rule,
    requirements: &'static [&'static str],
    eval: fn(&Subject<'_>) -> Verdict,
) -> Check {
    Check {
        id: rule.id,
        requirement: rule.requirement,
        requirements,
        level: rule.level,
        actor: ACTOR,
        title: rule.title,
        eval,
    }
}

macro_rules! atna_checks {
    ($($rule:path => $fn:ident $idx:literal),* $(,)?) => {
        $(
            fn $fn(s: &Subject<'_>) -> Verdict {
                judge_rule(s, $rule.id)
            }
        )*
        /// The ATNA audit checks, in the order of [`super::CATALOGUE_IDS`].
        pub static CHECKS: &[Check] = &[
            $( check($rule, super::CATALOGUE_IDS[$idx].1, $fn), )*
        ];
    };
}

atna_checks! {
    super::HEADER => syslog_01 0,
    super::FRAMING => syslog_02 1,
    super::MSGID => syslog_03 2,
    super::FACILITY => syslog_04 3,
    super::SEVERITY => syslog_05 4,
    super::PAYLOAD => syslog_06 5,
    super::BOM => syslog_07 6,
    super::EVENT => msg_01 7,
    super::ACTION => msg_02 8,
    super::OUTCOME => msg_03 9,
    super::DATETIME => msg_04 10,
    super::CODED => msg_05 11,
    super::EVENT_ID_DCM => msg_06 12,
    super::PARTICIPANT => msg_07 13,
    super::NAP => msg_08 14,
    super::SOURCE => msg_09 15,
    super::OBJECT => msg_10 16,
    super::BASE64 => msg_11 17,
    super::EXTRA => msg_12 18,
    transaction::EVENT_ID => txn_01 19,
    transaction::ACTION => txn_02 20,
    transaction::EVENT_TYPE => txn_03 21,
    transaction::ROLES => txn_04 22,
    transaction::REQUESTOR => txn_05 23,
    transaction::NAP => txn_06 24,
    transaction::PATIENT => txn_07 25,
    transaction::SUBMISSION_SET => txn_08 26,
    transaction::QUERY => txn_09 27,
    transaction::DOCUMENT => txn_10 28,
    transaction::STUDY => txn_11 29,
    super::fhir::CREATE => fhir_01 30,
    super::fhir::MEDIA => fhir_02 31,
    super::fhir::RESOURCE => fhir_03 32,
    super::fhir::ELEMENTS => fhir_04 33,
    super::fhir::INSTANT => fhir_05 34,
}

/// The inbound ITI-20 exchange of one message (or broken stream) the harness's Audit Record
/// Repository received: `transport` as [`TRANSPORT_HEADER`] holds it, `url` where it came
/// (`syslog+tls://repository <- peer`), the bytes received, what broke the stream if anything.
pub fn received_exchange(
    transport: &str,
    url: String,
    peer: Option<String>,
    raw: bytes::Bytes,
    problem: Option<String>,
) -> crate::evidence::Exchange {
    let mut headers = vec![(TRANSPORT_HEADER.to_string(), transport.to_string())];
    if let Some(p) = peer {
        headers.push(("Audit-Peer".into(), p));
    }
    if let Some(p) = problem {
        headers.push((PROBLEM_HEADER.into(), p));
    }
    crate::evidence::Exchange {
        seq: 0,
        transaction: Transaction::Iti20,
        operation: "Record Audit Event".into(),
        actor: Transaction::Iti20.responder().into(),
        direction: crate::evidence::Direction::Inbound,
        started_at: crate::evidence::now_rfc3339(),
        time_to_headers: None,
        elapsed: std::time::Duration::ZERO,
        request: crate::evidence::HttpRequest {
            method: "SYSLOG".into(),
            url,
            headers,
            body: crate::evidence::Body::from_bytes(raw),
        },
        response: None,
        multipart: None,
        failure: None,
        repro: String::new(),
        dimse: None,
        tls: None,
    }
}

/// The inbound ITI-20 exchange of one FHIR Feed request: [`received_exchange`] with the HTTP
/// method, the URL it was sent to (`https://repository/AuditEvent`) and its Content-Type, which
/// the ATNA-FHIR rules judge.
pub fn received_fhir_exchange(
    method: &str,
    url: String,
    content_type: Option<String>,
    peer: Option<String>,
    raw: bytes::Bytes,
    problem: Option<String>,
) -> crate::evidence::Exchange {
    let mut ex = received_exchange("FHIR AuditEvent", url, peer, raw, problem);
    ex.request.method = method.to_string();
    if let Some(ct) = content_type {
        ex.request.headers.push(("Content-Type".into(), ct));
    }
    ex
}

#[cfg(test)]
mod tests {
    use super::super::transaction::{build, AuditFacts, Side};
    use super::*;
    use crate::checks::{evaluate, evaluate_all, Expect, Outcome};
    use crate::transport::syslog::SyslogMessage;

    fn facts() -> AuditFacts {
        super::super::transaction::sample_query_facts()
    }

    fn wire(msgid: &str) -> bytes::Bytes {
        let xml = build(Audited::Iti18, Side::Responder, &facts()).to_xml();
        let mut m = SyslogMessage::audit("2026-12-07T01:02:03Z", "registry", "app", xml);
        m.msgid = Some(msgid.into());
        bytes::Bytes::from(m.to_bytes())
    }

    fn expect() -> Expect {
        Expect {
            atna: Some(AtnaExpect {
                audited: Some((Audited::Iti18, Side::Responder)),
                exchange: facts().expect(),
                ..AtnaExpect::default()
            }),
            ..Expect::default()
        }
    }

    fn outcomes(ex: &crate::evidence::Exchange, e: &Expect) -> Vec<(&'static str, Outcome)> {
        let s = Subject {
            exchange: ex,
            expect: e,
            strict: false,
            followups: &[],
        };
        let once: Vec<_> = evaluate_all(CHECKS, &s)
            .into_iter()
            .map(|f| (f.check, f.outcome))
            .collect();
        let alone: Vec<_> = CHECKS
            .iter()
            .map(|c| (evaluate(c, &s).check, evaluate(c, &s).outcome))
            .collect();
        assert_eq!(once, alone);
        CHECKS
            .iter()
            .map(|c| c.id)
            .zip(once.into_iter().map(|(_, o)| o))
            .collect()
    }

    fn failed(o: &[(&'static str, Outcome)]) -> Vec<&'static str> {
        o.iter()
            .filter(|(_, x)| *x == Outcome::Fail)
            .map(|(c, _)| *c)
            .collect()
    }

    #[test]
    fn a_received_audit_is_judged_by_every_rule_once() {
        let e = expect();
        let good = received_exchange(
            "syslog/TLS",
            "syslog+tls://r".into(),
            None,
            wire("IHE+RFC-3881"),
            None,
        );
        let o = outcomes(&good, &e);
        assert!(failed(&o).is_empty(), "{o:?}");
        // ITI-18's table asks for no submission set, documents or studies; the FHIR Feed rules
        // do not apply to syslog.
        for (id, out) in &o {
            let na = [
                transaction::SUBMISSION_SET.id,
                transaction::DOCUMENT.id,
                transaction::STUDY.id,
            ]
            .contains(id)
                || id.starts_with("ATNA-FHIR-");
            assert_eq!(*out == Outcome::NotApplicable, na, "{id}");
        }
        // Over UDP framing does not apply.
        let udp = received_exchange(
            "syslog/UDP",
            "syslog+udp://r".into(),
            None,
            wire("IHE+RFC-3881"),
            None,
        );
        let o = outcomes(&udp, &e);
        assert!(o.contains(&(super::super::FRAMING.id, Outcome::NotApplicable)));
        // A wrong MSGID fails ATNA-SYSLOG-03 alone.
        let bad = received_exchange(
            "syslog/TLS",
            "syslog+tls://r".into(),
            None,
            wire("AUDIT"),
            None,
        );
        assert_eq!(failed(&outcomes(&bad, &e)), vec![super::super::MSGID.id]);
        // No expectation: nothing to judge.
        assert!(outcomes(&good, &Expect::default())
            .iter()
            .all(|(_, o)| *o == Outcome::NotApplicable));
    }

    #[test]
    fn hostile_input_is_a_fail_of_its_rule() {
        let e = expect();
        // A stream that broke: framing fails, the rest has nothing to judge.
        let broken = received_exchange(
            "syslog/TLS",
            "syslog+tls://r".into(),
            None,
            bytes::Bytes::from_static(b"<85>1 - - - - - - no length"),
            Some("the stream is not octet-counted".into()),
        );
        let o = outcomes(&broken, &e);
        assert_eq!(failed(&o), vec![super::super::FRAMING.id]);
        assert_eq!(
            o.iter()
                .filter(|(_, x)| *x == Outcome::NotApplicable)
                .count(),
            CHECKS.len() - 1
        );
        // An entity bomb in the MSG: the payload rule fails; no schema rule can be judged.
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><AuditMessage>&b;</AuditMessage>"#;
        let m = SyslogMessage::audit("2026-12-07T01:02:03Z", "h", "a", bomb.to_vec());
        let ex = received_exchange(
            "syslog/TLS",
            "syslog+tls://r".into(),
            None,
            m.to_bytes().into(),
            None,
        );
        let o = outcomes(&ex, &e);
        assert_eq!(failed(&o), vec![super::super::PAYLOAD.id]);
        assert!(o.contains(&(super::super::EVENT.id, Outcome::NotApplicable)));
        // Invalid UTF-8 after the BOM breaks RFC 5424's MSG-UTF8 (§6.4): the header rule fails.
        let m = SyslogMessage::audit(
            "2026-12-07T01:02:03Z",
            "h",
            "a",
            b"<AuditMessage>\xff\xfe</AuditMessage>".to_vec(),
        );
        let ex = received_exchange(
            "syslog/UDP",
            "syslog+udp://r".into(),
            None,
            m.to_bytes().into(),
            None,
        );
        assert_eq!(failed(&outcomes(&ex, &e)), vec![super::super::HEADER.id]);
        // Not syslog at all: the header rule fails.
        let ex = received_exchange(
            "syslog/UDP",
            "syslog+udp://r".into(),
            None,
            bytes::Bytes::from_static(b"\x00\x01garbage"),
            None,
        );
        assert_eq!(failed(&outcomes(&ex, &e)), vec![super::super::HEADER.id]);
    }

    type Mutate = fn(&mut crate::model::audit::AuditMessage);
    type Case = (&'static str, Audited, u8, Mutate, fn(String) -> String);

    fn all_facts() -> AuditFacts {
        AuditFacts {
            submission_set: Some("1.2.3.4.5".into()),
            documents: vec![("1.2.3.9".into(), "1.2.3".into())],
            studies: vec!["1.2.3.7".into()],
            ..facts()
        }
    }

    fn src_role(m: &crate::model::audit::AuditMessage) -> usize {
        m.active_participants
            .iter()
            .position(|p| p.has_role(transaction::DESTINATION_ROLE))
            .unwrap_or(0)
    }

    /// Each registered ATNA check fails, through an inbound ITI-20 exchange, on a message with
    /// its defect (the rules the built-in audit source's faults do not reach).
    #[test]
    fn each_registered_check_fails_through_an_exchange() {
        let cases: Vec<Case> = vec![
            ("ATNA-SYSLOG-04", Audited::Iti18, 13, |_| {}, |x| x),
            ("ATNA-SYSLOG-05", Audited::Iti18, 87, |_| {}, |x| x),
            (
                "ATNA-MSG-01",
                Audited::Iti18,
                85,
                |m| m.event.as_mut().unwrap().outcome_indicator = None,
                |x| x,
            ),
            (
                "ATNA-MSG-03",
                Audited::Iti18,
                85,
                |m| m.event.as_mut().unwrap().outcome_indicator = Some("5".into()),
                |x| x,
            ),
            (
                "ATNA-MSG-04",
                Audited::Iti18,
                85,
                |m| m.event.as_mut().unwrap().date_time = Some("yesterday".into()),
                |x| x,
            ),
            (
                "ATNA-MSG-05",
                Audited::Iti18,
                85,
                |m| {
                    m.event
                        .as_mut()
                        .unwrap()
                        .event_id
                        .as_mut()
                        .unwrap()
                        .original_text = None
                },
                |x| x,
            ),
            (
                "ATNA-MSG-06",
                Audited::Iti18,
                85,
                |m| {
                    m.event
                        .as_mut()
                        .unwrap()
                        .event_id
                        .as_mut()
                        .unwrap()
                        .code_system_name = Some("LOCAL".into())
                },
                |x| x,
            ),
            (
                "ATNA-MSG-07",
                Audited::Iti18,
                85,
                |m| m.active_participants[0].user_is_requestor = Some("maybe".into()),
                |x| x,
            ),
            (
                "ATNA-MSG-08",
                Audited::Iti18,
                85,
                |m| m.active_participants[0].network_access_point_type_code = Some("9".into()),
                |x| x,
            ),
            (
                "ATNA-MSG-09",
                Audited::Iti18,
                85,
                |m| m.audit_sources[0].audit_source_id = None,
                |x| x,
            ),
            (
                "ATNA-MSG-10",
                Audited::Iti18,
                85,
                |m| m.participant_objects[0].type_code_role = Some("99".into()),
                |x| x,
            ),
            (
                "ATNA-MSG-11",
                Audited::Iti18,
                85,
                |m| {
                    for o in &mut m.participant_objects {
                        if o.query.is_some() {
                            o.query = Some("not base64!".into());
                        }
                    }
                },
                |x| x,
            ),
            (
                "ATNA-MSG-12",
                Audited::Iti18,
                85,
                |_| {},
                |x| x.replace("</AuditMessage>", "<Extension/></AuditMessage>"),
            ),
            (
                "ATNA-TXN-01",
                Audited::Iti18,
                85,
                |m| m.event.as_mut().unwrap().event_id.as_mut().unwrap().code = "110106".into(),
                |x| x,
            ),
            (
                "ATNA-TXN-03",
                Audited::Iti18,
                85,
                |m| m.event.as_mut().unwrap().event_type_codes.clear(),
                |x| x,
            ),
            (
                "ATNA-TXN-05",
                Audited::Iti18,
                85,
                |m| {
                    let i = src_role(m);
                    m.active_participants[i].user_is_requestor = Some("true".into());
                },
                |x| x,
            ),
            (
                "ATNA-TXN-06",
                Audited::Iti18,
                85,
                |m| {
                    for p in &mut m.active_participants {
                        p.network_access_point_id = None;
                        p.network_access_point_type_code = None;
                    }
                },
                |x| x,
            ),
            (
                "ATNA-TXN-07",
                Audited::Iti18,
                85,
                |m| {
                    for o in &mut m.participant_objects {
                        if o.is("1", "1") {
                            o.id = Some("OTHER^^^&1.2.3&ISO".into());
                        }
                    }
                },
                |x| x,
            ),
            (
                "ATNA-TXN-09",
                Audited::Iti18,
                85,
                |m| {
                    for o in &mut m.participant_objects {
                        if o.query.is_some() {
                            o.id = Some("urn:uuid:00000000-0000-0000-0000-000000000000".into());
                        }
                    }
                },
                |x| x,
            ),
            (
                "ATNA-TXN-08",
                Audited::Iti41,
                85,
                |m| {
                    for o in &mut m.participant_objects {
                        if o.is("2", "20") {
                            o.id = Some("9.9.9".into());
                        }
                    }
                },
                |x| x,
            ),
            (
                "ATNA-TXN-10",
                Audited::Iti43,
                85,
                |m| m.participant_objects.retain(|o| !o.is("2", "3")),
                |x| x,
            ),
            (
                "ATNA-TXN-11",
                Audited::DicomInstancesTransferred,
                85,
                |m| m.participant_objects.retain(|o| !o.is("2", "3")),
                |x| x,
            ),
        ];
        let f = all_facts();
        for (id, audited, pri, mutate, xml) in cases {
            let mut m = build(audited, Side::Responder, &f);
            mutate(&mut m);
            let mut msg = SyslogMessage::audit("2026-12-07T01:02:03Z", "h", "a", xml(m.to_xml()));
            msg.pri = pri;
            let ex = received_exchange(
                "syslog/TLS",
                "syslog+tls://r".into(),
                None,
                msg.to_bytes().into(),
                None,
            );
            let e = Expect {
                atna: Some(AtnaExpect {
                    audited: Some((audited, Side::Responder)),
                    exchange: f.expect(),
                    ..AtnaExpect::default()
                }),
                ..Expect::default()
            };
            let s = Subject {
                exchange: &ex,
                expect: &e,
                strict: true,
                followups: &[],
            };
            let c = CHECKS.iter().find(|c| c.id == id).unwrap();
            let finding = evaluate(c, &s);
            assert_eq!(finding.outcome, Outcome::Fail, "{id}: {finding:?}");
            // The same message without the defect passes the check.
            let good = build(audited, Side::Responder, &f);
            let msg = SyslogMessage::audit("2026-12-07T01:02:03Z", "h", "a", good.to_xml());
            let ex = received_exchange(
                "syslog/TLS",
                "syslog+tls://r".into(),
                None,
                msg.to_bytes().into(),
                None,
            );
            let s = Subject { exchange: &ex, ..s };
            assert_eq!(
                evaluate(c, &s).outcome,
                Outcome::Pass,
                "{id} on the good message"
            );
        }
    }
}
