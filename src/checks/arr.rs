//! The Audit Record Repository as SUT (IHE ATNA): how it takes the audit messages a Secure Node
//! sends (ITI-20 Record Audit Event, receiving side: syslog over TLS, RFC 5425; the FHIR
//! AuditEvent feed of RESTful ATNA) and, when it offers it, how it answers the search of what it
//! holds (ITI-81 Retrieve ATNA Audit Event, a FHIR search on AuditEvent).
//!
//! The harness plays the Secure Node ([`crate::actors::audit_source`]); these rules judge the
//! exchanges it recorded:
//! - ARR-01: a syslog/TLS session the harness opened with its client certificate stays open
//!   while the harness writes its frames, and is not ended without close_notify. RFC 5425 §4.4
//!   gives the closing to the transport sender (the receiver answers its close_notify), and TLS
//!   requires each side to send close_notify before closing its write side (RFC 8446 §6.1, RFC
//!   5246 §7.2.1): a repository that resets the session, or drops it after a frame, loses the
//!   frames that follow. An idle session is not judged (the harness closes its own at once). A
//!   receiver's orderly close (close_notify) breaks no MUST and fails only under strict judging.
//! - ARR-02: the feed is a FHIR create (RESTful ATNA §3.20.4.2): `201 Created` with a
//!   `Location` header (FHIR R4 http.html#create: "SHALL also return a Location header").
//! - ARR-03: the ITI-81 answer is `200` with a Bundle of type `searchset` whose matches are
//!   AuditEvents (RESTful ATNA §3.81.4.2; FHIR R4 search.html §3.1.1.1 / Bundle.type).
//! - ARR-04: the audit the harness sent is in the answer to a search that matches it (RESTful
//!   ATNA §3.81.1: the search is over the events the repository recorded from ITI-20). When the
//!   answer has more pages than the one read and the audit is not on it, it is not judged.
//! - ARR-05: every match is an answer to this search (FHIR R4 search.html §3.1.1.0: the
//!   server returns the resources that match the criteria): recorded within the `date` range,
//!   of the `type` and `subtype` asked, about the `patient` asked.

use serde_json::Value;

use super::{Check, Level, Subject, Verdict};
use crate::actors::audit_source::{SESSION_HEADER, SESSION_OPEN};
use crate::checks::atna::family::TRANSPORT_HEADER;
use crate::transaction::Transaction;

/// What an ARR scenario expects of an exchange.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrExpect {
    /// ITI-81: the search as asked, to judge each match against.
    pub search: Option<SearchAsked>,
    /// ITI-81: the UserID of the harness's participant in the audit it sent, which the answer
    /// must contain (the audit is unique by it).
    pub sent_marker: Option<String>,
}

/// An ITI-81 search as the harness asked it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchAsked {
    /// `date=ge…`: the earliest `recorded`.
    pub date_ge: Option<String>,
    /// `date=le…`: the latest `recorded`.
    pub date_le: Option<String>,
    /// `type=system|code`.
    pub type_: Option<(String, String)>,
    /// `subtype=system|code`.
    pub subtype: Option<(String, String)>,
    /// `patient=Patient/<id>`: the logical id.
    pub patient: Option<String>,
}

impl SearchAsked {
    /// The search parameters, as sent.
    pub fn params(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        if let Some(d) = &self.date_ge {
            p.push(("date".into(), format!("ge{d}")));
        }
        if let Some(d) = &self.date_le {
            p.push(("date".into(), format!("le{d}")));
        }
        if let Some(pid) = &self.patient {
            p.push(("patient".into(), format!("Patient/{pid}")));
        }
        if let Some((s, c)) = &self.type_ {
            p.push(("type".into(), format!("{s}|{c}")));
        }
        if let Some((s, c)) = &self.subtype {
            p.push(("subtype".into(), format!("{s}|{c}")));
        }
        p
    }
}

/// The rules.
pub const CHECKS: &[Check] = &[
    Check {
        id: "ARR-01",
        requirement: "RFC 5425 §4.4 (the transport sender closes the session; the receiver \
                      answers its close_notify); RFC 8446 §6.1 and RFC 5246 §7.2.1 (close_notify \
                      before closing); ITI TF-2 3.20.4.1.1 (ARR: syslog over TLS)",
        requirements: &["RFC5425-4.4", "RFC8446-6.1"],
        level: Level::Shall,
        actor: "Audit Record Repository (ITI-20, syslog/TLS)",
        title: "The repository keeps a syslog/TLS session open while the Secure Node writes its \
                frames: no reset, no close without close_notify (strict: no close before the \
                sender's)",
        eval: session_kept,
    },
    Check {
        id: "ARR-02",
        requirement: "IHE ITI RESTful ATNA 3.20.4.2 (FHIR feed: a FHIR create of AuditEvent); \
                      HL7 FHIR R4 http.html#create (201 Created, and a Location header)",
        requirements: &["ITI2-3.20.4.2-ARR", "FHIR-http-create"],
        level: Level::Shall,
        actor: "Audit Record Repository (ITI-20, FHIR AuditEvent feed)",
        title: "The repository answers the AuditEvent create with 201 Created and a Location",
        eval: created,
    },
    Check {
        id: "ARR-03",
        requirement: "IHE ITI RESTful ATNA 3.81.4.2 (the answer is a searchset Bundle of \
                      AuditEvent); HL7 FHIR R4 http.html#search (200 OK, Bundle type searchset)",
        requirements: &["ITI2-3.81.4.2", "FHIR-http-search"],
        level: Level::Shall,
        actor: "Audit Record Repository (ITI-81)",
        title: "The ITI-81 answer is 200 with a Bundle of type searchset whose matches are \
                AuditEvents",
        eval: searchset,
    },
    Check {
        id: "ARR-04",
        requirement: "IHE ITI RESTful ATNA 3.81.1 (ITI-81 searches the events the repository \
                      recorded from ITI-20) and 3.81.4.2 (the Bundle holds the AuditEvents that \
                      match)",
        requirements: &["ITI2-3.81.1", "ITI2-3.81.4.2"],
        level: Level::Shall,
        actor: "Audit Record Repository (ITI-20 and ITI-81)",
        title: "The audit the Secure Node sent is found by a search that matches it",
        eval: found,
    },
    Check {
        id: "ARR-05",
        requirement: "IHE ITI RESTful ATNA 3.81.4.1.2 (the search parameters date, patient, \
                      type, subtype) and 3.81.4.2; HL7 FHIR R4 search.html (the matches meet \
                      every criterion)",
        requirements: &["ITI2-3.81.4.1.2", "FHIR-http-search"],
        level: Level::Shall,
        actor: "Audit Record Repository (ITI-81)",
        title: "Every AuditEvent of the ITI-81 answer matches the search: recorded in the date \
                range, of the type and subtype asked, about the patient asked",
        eval: every_match,
    },
];

fn transport<'a>(s: &Subject<'a>) -> Option<&'a str> {
    s.exchange.request.header(TRANSPORT_HEADER)
}

fn session_kept(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti20 || transport(s) != Some("syslog/TLS") {
        return Verdict::na("not a syslog/TLS audit the harness sent");
    }
    if let Some(f) = &ex.failure {
        return Verdict::na(format!("no session to judge: {}", f.message));
    }
    match ex.request.header(SESSION_HEADER) {
        Some(h) if h.starts_with(SESSION_OPEN) => Verdict::Pass,
        // An orderly close (close_notify) by the receiver breaks no MUST: RFC 5425 §4.4 gives the
        // closing to the sender but does not forbid the receiver's; frames lost to it are ARR-04's
        // to find. Strict judging asks the session be kept until the sender closes it.
        Some(h) if h.contains("(close_notify)") && !s.strict => Verdict::Pass,
        Some(h) => Verdict::fail(
            "the session kept open while the harness wrote its frames, until the harness closed it",
            format!("the session was {h}"),
        ),
        None => Verdict::na("the session's end was not observed"),
    }
}

fn created(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti20 || transport(s) != Some("FHIR AuditEvent") {
        return Verdict::na("not a FHIR AuditEvent the harness sent");
    }
    let Some(r) = &ex.response else {
        return Verdict::na("no answer to judge");
    };
    let location = r.header("location").filter(|l| !l.trim().is_empty());
    match (r.status, location) {
        (201, Some(_)) => Verdict::Pass,
        (201, None) => Verdict::fail("201 Created with a Location header", "201 without Location"),
        (st, loc) => Verdict::fail(
            "201 Created with a Location header",
            format!(
                "{st}{}",
                if loc.is_some() {
                    " (with a Location)"
                } else {
                    " without Location"
                }
            ),
        ),
    }
}

/// The answer's Bundle, or why it cannot be judged (NA: no answer) or fails (not a Bundle).
fn bundle(s: &Subject<'_>) -> Result<Value, Verdict> {
    let ex = s.exchange;
    if ex.transaction != Transaction::Iti81 {
        return Err(Verdict::na("not an ITI-81 search"));
    }
    let Some(r) = &ex.response else {
        return Err(Verdict::na("no answer to judge"));
    };
    if r.status != 200 {
        return Err(Verdict::fail(
            "200 with a searchset Bundle",
            format!("status {}", r.status),
        ));
    }
    let Some(v) = r.json() else {
        return Err(Verdict::fail(
            "200 with a searchset Bundle (FHIR JSON, as asked)",
            if r.body.complete {
                "a body that is not JSON".to_string()
            } else {
                "a body not read whole".to_string()
            },
        ));
    };
    Ok(v)
}

/// The AuditEvents of the matches (search.mode absent or `match`) and the resources of another
/// type among them.
fn matches(b: &Value) -> (Vec<&Value>, Vec<String>) {
    let mut events = Vec::new();
    let mut others = Vec::new();
    for e in b
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mode = e
            .get("search")
            .and_then(|x| x.get("mode"))
            .and_then(Value::as_str);
        if matches!(mode, Some("include" | "outcome")) {
            continue;
        }
        match e.get("resource") {
            Some(r) if r.get("resourceType").and_then(Value::as_str) == Some("AuditEvent") => {
                events.push(r)
            }
            Some(r) => others.push(
                r.get("resourceType")
                    .and_then(Value::as_str)
                    .unwrap_or("a resource without resourceType")
                    .to_string(),
            ),
            None => others.push("an entry without resource".into()),
        }
    }
    (events, others)
}

fn searchset(s: &Subject<'_>) -> Verdict {
    let b = match bundle(s) {
        Ok(b) => b,
        Err(v) => return v,
    };
    let rt = b.get("resourceType").and_then(Value::as_str).unwrap_or("");
    let ty = b.get("type").and_then(Value::as_str).unwrap_or("");
    if rt != "Bundle" || ty != "searchset" {
        return Verdict::fail(
            "a Bundle of type searchset",
            format!(
                "{} of type {}",
                if rt.is_empty() {
                    "a resource without resourceType"
                } else {
                    rt
                },
                if ty.is_empty() { "(none)" } else { ty }
            ),
        );
    }
    let (_, others) = matches(&b);
    if !others.is_empty() {
        return Verdict::fail(
            "AuditEvents as matches",
            format!("matches that are {}", others.join(", ")),
        );
    }
    Verdict::Pass
}

fn has_next(b: &Value) -> bool {
    b.get("link")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|l| l.get("relation").and_then(Value::as_str) == Some("next"))
}

/// The UserIDs of an AuditEvent's agents (who.identifier.value, who.reference, who.display).
fn agent_ids(e: &Value) -> Vec<String> {
    crate::model::audit::fhir::from_value(e)
        .map(|m| {
            m.active_participants
                .into_iter()
                .filter_map(|p| p.user_id)
                .collect()
        })
        .unwrap_or_default()
}

fn found(s: &Subject<'_>) -> Verdict {
    let Some(marker) = s.expect.arr.as_ref().and_then(|a| a.sent_marker.as_ref()) else {
        return Verdict::na("the search does not look for an audit the harness sent");
    };
    let b = match bundle(s) {
        Ok(b) => b,
        Err(Verdict::Fail { .. }) => {
            return Verdict::na("the answer is not a searchset Bundle (ARR-03)")
        }
        Err(v) => return v,
    };
    let (events, _) = matches(&b);
    if events
        .iter()
        .any(|e| agent_ids(e).iter().any(|u| u == marker))
    {
        return Verdict::Pass;
    }
    if has_next(&b) {
        return Verdict::na(format!(
            "the audit of {marker} is not on the first page and the harness reads no further"
        ));
    }
    Verdict::fail(
        format!("the AuditEvent the harness sent (agent {marker})"),
        format!("{} AuditEvents, none of them it", events.len()),
    )
}

fn instant(s: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

fn coding_is(c: &Value, want: &(String, String)) -> bool {
    c.get("code").and_then(Value::as_str) == Some(want.1.as_str())
        && c.get("system").and_then(Value::as_str) == Some(want.0.as_str())
}

/// Every reference and identifier value an AuditEvent gives of its agents and entities.
fn about_patient(e: &Value, id: &str) -> bool {
    let want = format!("Patient/{id}");
    let refs = |key: &str, inner: &str| -> Vec<(Option<String>, Option<String>)> {
        e.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| x.get(inner))
            .map(|r| {
                (
                    r.get("reference")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    r.get("identifier")
                        .and_then(|i| i.get("value"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                )
            })
            .collect()
    };
    refs("entity", "what")
        .into_iter()
        .chain(refs("agent", "who"))
        .any(|(r, ident)| {
            r.is_some_and(|r| r == want || r.ends_with(&format!("/{want}")))
                || ident.is_some_and(|i| i.split('^').next() == Some(id))
        })
}

fn every_match(s: &Subject<'_>) -> Verdict {
    let Some(asked) = s.expect.arr.as_ref().and_then(|a| a.search.as_ref()) else {
        return Verdict::na("no ITI-81 search to judge the matches against");
    };
    let b = match bundle(s) {
        Ok(b) => b,
        Err(Verdict::Fail { .. }) => {
            return Verdict::na("the answer is not a searchset Bundle (ARR-03)")
        }
        Err(v) => return v,
    };
    let (events, _) = matches(&b);
    let ge = asked.date_ge.as_deref().and_then(instant);
    // A date-time with seconds is the range of that second (FHIR R4 search.html §3.1.1.4.2).
    let le = asked
        .date_le
        .as_deref()
        .and_then(instant)
        .map(|t| t + time::Duration::seconds(1));
    let mut wrong = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let id = e
            .get("id")
            .and_then(Value::as_str)
            .map(|x| format!("AuditEvent/{x}"))
            .unwrap_or_else(|| format!("match {}", i + 1));
        let mut why = Vec::new();
        let recorded = e.get("recorded").and_then(Value::as_str).unwrap_or("");
        match instant(recorded) {
            Some(t) if ge.is_some_and(|g| t < g) || le.is_some_and(|l| t >= l) => {
                why.push(format!("recorded {recorded}, outside the date range"));
            }
            Some(_) => {}
            None if ge.is_some() || le.is_some() => why.push(format!(
                "recorded {} is not an instant",
                crate::evidence::quote(recorded)
            )),
            None => {}
        }
        if let Some(t) = &asked.type_ {
            if !e.get("type").is_some_and(|c| coding_is(c, t)) {
                why.push(format!("type is not {}|{}", t.0, t.1));
            }
        }
        if let Some(t) = &asked.subtype {
            let any = e
                .get("subtype")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| coding_is(c, t));
            if !any {
                why.push(format!("no subtype {}|{}", t.0, t.1));
            }
        }
        if let Some(p) = &asked.patient {
            if !about_patient(e, p) {
                why.push(format!("not about Patient/{p}"));
            }
        }
        if !why.is_empty() {
            wrong.push(format!("{id}: {}", why.join("; ")));
        }
    }
    if wrong.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "only AuditEvents that match every parameter of the search",
            format!(
                "{} of {} matches do not: {}",
                wrong.len(),
                events.len(),
                wrong.join(" | ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::Exchange;

    fn judge(id: &str, ex: &Exchange, expect: &Expect) -> Verdict {
        let c = CHECKS.iter().find(|c| c.id == id).expect("check");
        (c.eval)(&Subject {
            exchange: ex,
            expect,
            strict: false,
            followups: &[],
        })
    }

    fn is_fail(v: &Verdict) -> bool {
        matches!(v, Verdict::Fail { .. })
    }

    fn syslog(session: &str) -> Exchange {
        let mut ex = Exchange::synthetic("syslog+tls://arr:6514", &[], 0, &[], b"");
        ex.transaction = Transaction::Iti20;
        ex.response = None;
        ex.request.headers = vec![
            (TRANSPORT_HEADER.into(), "syslog/TLS".into()),
            (SESSION_HEADER.into(), session.into()),
        ];
        ex
    }

    #[test]
    fn arr_01_a_session_kept_open_passes_and_a_dropped_one_fails() {
        let e = Expect::default();
        assert_eq!(judge("ARR-01", &syslog(SESSION_OPEN), &e), Verdict::Pass);
        assert!(is_fail(&judge(
            "ARR-01",
            &syslog("reset by the repository: connection reset by peer"),
            &e
        )));
        assert!(is_fail(&judge(
            "ARR-01",
            &syslog("closed by the repository without close_notify (TCP close) before the harness closed it"),
            &e
        )));
        // An orderly close by the receiver: a Fail only under strict judging.
        let orderly =
            syslog("closed by the repository (close_notify) before the harness closed it");
        assert_eq!(judge("ARR-01", &orderly, &e), Verdict::Pass);
        let c = CHECKS.iter().find(|c| c.id == "ARR-01").expect("check");
        assert!(is_fail(&(c.eval)(&Subject {
            exchange: &orderly,
            expect: &e,
            strict: true,
            followups: &[],
        })));
        let mut refused = syslog(SESSION_OPEN);
        refused.failure = Some(crate::evidence::TransportFailure {
            kind: "connect".into(),
            message: "refused".into(),
        });
        assert!(matches!(
            judge("ARR-01", &refused, &e),
            Verdict::NotApplicable(_)
        ));
    }

    fn feed(status: u16, headers: &[(&str, &str)]) -> Exchange {
        let mut ex = Exchange::synthetic("http://arr/fhir/AuditEvent", &[], status, headers, b"");
        ex.transaction = Transaction::Iti20;
        ex.request
            .headers
            .push((TRANSPORT_HEADER.into(), "FHIR AuditEvent".into()));
        ex
    }

    #[test]
    fn arr_02_created_needs_201_and_location() {
        let e = Expect::default();
        assert_eq!(
            judge(
                "ARR-02",
                &feed(201, &[("Location", "AuditEvent/1/_history/1")]),
                &e
            ),
            Verdict::Pass
        );
        assert!(is_fail(&judge("ARR-02", &feed(201, &[]), &e)));
        assert!(is_fail(&judge("ARR-02", &feed(200, &[]), &e)));
        assert!(is_fail(&judge("ARR-02", &feed(400, &[]), &e)));
    }

    fn event(id: &str, recorded: &str, patient: &str, marker: &str) -> Value {
        serde_json::json!({
            "resourceType": "AuditEvent", "id": id, "recorded": recorded,
            "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110112"},
            "subtype": [{"system": "urn:ihe:event-type-code", "code": "ITI-18"}],
            "agent": [{"who": {"identifier": {"value": marker}}, "requestor": true}],
            "source": {"observer": {"display": "x"}},
            "entity": [{"what": {"reference": format!("Patient/{patient}")}, "type": {"code": "1"}, "role": {"code": "1"}}]
        })
    }

    fn answer(status: u16, bundle: &Value) -> Exchange {
        let body = serde_json::to_vec(bundle).expect("json");
        let mut ex = Exchange::synthetic(
            "http://arr/fhir/AuditEvent?date=ge1",
            &[],
            status,
            &[("Content-Type", "application/fhir+json")],
            &body,
        );
        ex.transaction = Transaction::Iti81;
        ex
    }

    fn searchset_of(entries: Vec<Value>) -> Value {
        serde_json::json!({
            "resourceType": "Bundle", "type": "searchset",
            "entry": entries.into_iter().map(|r| serde_json::json!({"resource": r, "search": {"mode": "match"}})).collect::<Vec<_>>()
        })
    }

    fn asked() -> Expect {
        Expect {
            arr: Some(ArrExpect {
                search: Some(SearchAsked {
                    date_ge: Some("2026-12-07T01:00:00Z".into()),
                    date_le: Some("2026-12-07T02:00:00Z".into()),
                    type_: Some((
                        "http://dicom.nema.org/resources/ontology/DCM".into(),
                        "110112".into(),
                    )),
                    subtype: Some(("urn:ihe:event-type-code".into(), "ITI-18".into())),
                    patient: Some("P1".into()),
                }),
                sent_marker: Some("harness-1".into()),
            }),
            ..Expect::default()
        }
    }

    #[test]
    fn arr_03_the_answer_is_a_searchset_of_audit_events() {
        let e = Expect::default();
        let ok = searchset_of(vec![event("1", "2026-12-07T01:30:00Z", "P1", "harness-1")]);
        assert_eq!(judge("ARR-03", &answer(200, &ok), &e), Verdict::Pass);
        let mut collection = ok.clone();
        collection["type"] = "collection".into();
        assert!(is_fail(&judge("ARR-03", &answer(200, &collection), &e)));
        let other = searchset_of(vec![serde_json::json!({"resourceType": "Patient"})]);
        assert!(is_fail(&judge("ARR-03", &answer(200, &other), &e)));
        assert!(is_fail(&judge("ARR-03", &answer(500, &ok), &e)));
    }

    #[test]
    fn arr_04_the_audit_sent_is_found() {
        let e = asked();
        let ok = searchset_of(vec![event("1", "2026-12-07T01:30:00Z", "P1", "harness-1")]);
        assert_eq!(judge("ARR-04", &answer(200, &ok), &e), Verdict::Pass);
        let missing = searchset_of(vec![]);
        assert!(is_fail(&judge("ARR-04", &answer(200, &missing), &e)));
        let mut paged = missing.clone();
        paged["link"] = serde_json::json!([{"relation": "next", "url": "http://arr/p2"}]);
        assert!(matches!(
            judge("ARR-04", &answer(200, &paged), &e),
            Verdict::NotApplicable(_)
        ));
    }

    #[test]
    fn arr_05_every_match_answers_the_search() {
        let e = asked();
        let ok = searchset_of(vec![
            event("1", "2026-12-07T01:30:00Z", "P1", "harness-1"),
            event("2", "2026-12-07T02:00:00.500Z", "P1", "other"),
        ]);
        assert_eq!(judge("ARR-05", &answer(200, &ok), &e), Verdict::Pass);
        for wrong in [
            event("3", "2026-12-07T01:30:00Z", "P2", "x"),
            event("4", "2026-12-07T03:30:00Z", "P1", "x"),
            {
                let mut v = event("5", "2026-12-07T01:30:00Z", "P1", "x");
                v["type"]["code"] = "110110".into();
                v
            },
            {
                let mut v = event("6", "2026-12-07T01:30:00Z", "P1", "x");
                v["subtype"][0]["code"] = "ITI-43".into();
                v
            },
        ] {
            let b = searchset_of(vec![
                event("1", "2026-12-07T01:30:00Z", "P1", "harness-1"),
                wrong,
            ]);
            let v = judge("ARR-05", &answer(200, &b), &e);
            assert!(is_fail(&v), "{v:?}");
        }
        assert!(matches!(
            judge("ARR-05", &answer(200, &ok), &Expect::default()),
            Verdict::NotApplicable(_)
        ));
    }
}
