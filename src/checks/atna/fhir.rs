//! The rules of the FHIR Feed of ITI-20 (RESTful ATNA, "ATX: FHIR Feed" option): what the audit
//! source's HTTP request itself must be, before the AuditEvent is read into the DICOM audit model
//! and judged by the ATNA-MSG and ATNA-TXN rules like a syslog message.
//!
//! - [`CREATE`]: Send Audit Resource Request is the FHIR `create` interaction, `POST
//!   [base]/AuditEvent` (ITI TF-2 §3.20.4.2 of the RESTful ATNA supplement; FHIR R4 http §3.1.0.4).
//! - [`MEDIA`]: the body is labelled with the FHIR JSON media type (FHIR R4 http §3.1.0.1.10).
//! - [`RESOURCE`]: the body is one AuditEvent resource in JSON: UTF-8, within the repository's
//!   limit, nesting within the parser's bound, `resourceType` AuditEvent (FHIR R4 §2.6.2, json).
//! - [`ELEMENTS`]: the elements FHIR R4 AuditEvent makes required (type 1..1, recorded 1..1, agent
//!   1..* with requestor 1..1 boolean, source 1..1 with observer 1..1) and invariant sev-1 (an
//!   entity has a name or a query, not both).
//! - [`INSTANT`]: `recorded` is an R4 `instant` (seconds and a time zone are required).
//!
//! Readings, where the texts leave room:
//! - Only JSON is judged. A body labelled `application/fhir+xml` is a format FHIR allows, so it is
//!   not applicable here rather than a Fail (the harness does not read FHIR XML).
//! - `application/json` is the generic JSON type FHIR R4 asks clients not to use ("the correct mime
//!   type SHALL be used"), yet servers commonly take it: it is a SHOULD reading (advisory unless
//!   strict). A `charset` other than UTF-8 breaks FHIR's UTF-8 rule (SHALL).
//! - The Send Audit Bundle form of the feed (a batch or transaction Bundle posted to `[base]`) is
//!   allowed by the supplement and not judged by this harness: such a request is not applicable.
//! - BALP profiles (IHE.BasicAudit.*) add SHOULD-level patterns (subtype, agent roles); the
//!   transaction tables of [`super::transaction`] judge what the audited transaction asks for.

use serde_json::Value;

use crate::checks::rule::{rules, Violation};
use crate::checks::Level;
use crate::model::audit::{self, AuditMessage};

rules! {
    CREATE = ("ATNA-FHIR-01", "ITI TF-2 3.20.4.2 (RESTful ATNA FHIR Feed); FHIR R4 http 3.1.0.4", Shall,
        "The FHIR Feed is a create: one AuditEvent POSTed to [base]/AuditEvent");
    MEDIA = ("ATNA-FHIR-02", "FHIR R4 http 3.1.0.1.10", Shall,
        "The request's Content-Type is the FHIR JSON media type application/fhir+json, in UTF-8");
    RESOURCE = ("ATNA-FHIR-03", "ITI TF-2 3.20.4.2; FHIR R4 2.6.2 (JSON)", Shall,
        "The body is one FHIR AuditEvent in JSON: UTF-8, within the repository's size limit, resourceType AuditEvent");
    ELEMENTS = ("ATNA-FHIR-04", "FHIR R4 AuditEvent §6.4.3 (content, invariant sev-1)", Shall,
        "The AuditEvent has what R4 requires: type, recorded, at least one agent each with a boolean requestor, source with observer; no entity has both name and query");
    INSTANT = ("ATNA-FHIR-05", "FHIR R4 2.24.0.1 (instant)", Shall,
        "AuditEvent.recorded is a FHIR instant: date, time to the second and a time zone");
}

/// The media type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json";

/// How the request came: method, request target (path and query) and Content-Type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path of the request, relative to the repository's FHIR base (`/AuditEvent`).
    pub path: &'a str,
    /// The Content-Type header, if any.
    pub content_type: Option<&'a str>,
}

/// Why a request is not judged at all (a form of the feed this harness does not read).
pub fn not_judged(req: &FeedRequest<'_>, body: &[u8]) -> Option<String> {
    let mime = req.content_type.map(mime_of).unwrap_or_default();
    if mime == "application/fhir+xml" || mime == "application/xml" {
        return Some(
            "the AuditEvent came as FHIR XML, a format FHIR allows that this harness does not read (send application/fhir+json to have it judged)"
                .into(),
        );
    }
    let base = req.path.trim_end_matches('/').is_empty();
    if req.method == "POST" && base {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            if v.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
                return Some(
                    "a Bundle posted to the FHIR base (the Send Audit Bundle form of the feed) is not judged by this harness"
                        .into(),
                );
            }
        }
    }
    None
}

fn mime_of(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Judge the request line and headers of one feed request ([`CREATE`], [`MEDIA`]).
pub fn validate_request(req: &FeedRequest<'_>) -> Vec<Violation> {
    let mut v = Vec::new();
    let path = req.path.split('?').next().unwrap_or_default();
    if req.method != "POST" || path.trim_end_matches('/') != "/AuditEvent" {
        v.push(Violation::at(
            &CREATE,
            "request line",
            format!(
                "{} {}: the FHIR Feed is a create, POST [base]/AuditEvent",
                req.method,
                crate::evidence::quote(req.path)
            ),
        ));
    }
    match req.content_type {
        None => v.push(Violation::at(
            &MEDIA,
            "Content-Type",
            "the request has no Content-Type",
        )),
        Some(ct) => {
            let mime = mime_of(ct);
            let charset = ct
                .split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, val)| val.trim().trim_matches('"').to_ascii_lowercase());
            if mime == "application/json" {
                let mut w = Violation::at(
                    &MEDIA,
                    "Content-Type",
                    format!(
                        "Content-Type is {}: the generic JSON type, not {FHIR_JSON} (FHIR R4: the correct mime type SHALL be used; read as SHOULD)",
                        crate::evidence::quote(ct)
                    ),
                );
                w.level = Level::Should;
                v.push(w);
            } else if mime != FHIR_JSON {
                v.push(Violation::at(
                    &MEDIA,
                    "Content-Type",
                    format!(
                        "Content-Type is {}; expected {FHIR_JSON}",
                        crate::evidence::quote(ct)
                    ),
                ));
            }
            if let Some(c) = charset {
                if c != "utf-8" && c != "utf8" {
                    v.push(Violation::at(
                        &MEDIA,
                        "Content-Type",
                        format!(
                            "charset is {}; FHIR bodies are UTF-8",
                            crate::evidence::quote(&c)
                        ),
                    ));
                }
            }
        }
    }
    v
}

/// What [`validate_body`] read and found.
#[derive(Debug, Clone, Default)]
pub struct BodyJudged {
    /// The AuditEvent read into the DICOM audit model, when the body is one.
    pub audit: Option<AuditMessage>,
    /// The violations of [`RESOURCE`], [`ELEMENTS`] and [`INSTANT`].
    pub violations: Vec<Violation>,
}

/// True when `s` is a FHIR R4 `instant`: `YYYY-MM-DDThh:mm:ss(.s+)?(Z|±hh:mm)`.
pub fn is_instant(s: &str) -> bool {
    let b = s.as_bytes();
    let zoned = s.ends_with('Z')
        || (b.len() > 6 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':');
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && zoned
        && !s[11..].starts_with("24")
        && super::is_xs_datetime(s)
}

fn coding_system(v: &Value) -> Option<&str> {
    v.get("system").and_then(Value::as_str)
}

/// Entity codes from systems the DICOM mapping does not know (BALP's own entity types such as
/// `XrequestId`, FHIR resource types) have no ParticipantObjectTypeCode: drop them before the
/// DICOM model is read, so the DICOM enumerations judge only DICOM codes.
fn normalise(mut v: Value) -> Value {
    const SYSTEMS: [(&str, &[&str]); 3] = [
        (
            "type",
            &[
                "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                "http://hl7.org/fhir/audit-entity-type",
            ],
        ),
        (
            "role",
            &[
                "http://terminology.hl7.org/CodeSystem/object-role",
                "http://hl7.org/fhir/object-role",
            ],
        ),
        (
            "lifecycle",
            &[
                "http://terminology.hl7.org/CodeSystem/dicom-audit-lifecycle",
                "http://hl7.org/fhir/dicom-audit-lifecycle",
            ],
        ),
    ];
    if let Some(entities) = v.get_mut("entity").and_then(Value::as_array_mut) {
        for e in entities.iter_mut().filter_map(Value::as_object_mut) {
            for (key, systems) in SYSTEMS {
                let foreign = e
                    .get(key)
                    .and_then(coding_system)
                    .is_some_and(|s| !systems.contains(&s));
                if foreign {
                    e.remove(key);
                }
            }
        }
    }
    v
}

/// Judge the body of one feed request: JSON, an AuditEvent, its R4 required elements and
/// `recorded`; read it into the DICOM audit model for the other rules.
pub fn validate_body(body: &[u8], max: usize) -> BodyJudged {
    let fail = |m: String| BodyJudged {
        audit: None,
        violations: vec![Violation::at(&RESOURCE, "body", m)],
    };
    if body.is_empty() {
        return fail("the request has no body".into());
    }
    if body.len() > max {
        return fail(format!(
            "the body of {} bytes exceeds the limit of {max}",
            body.len()
        ));
    }
    if let Err(e) = std::str::from_utf8(body) {
        return fail(format!(
            "the body is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ));
    }
    // serde_json refuses nesting deeper than 128 levels: a deep body is an error, not a stack
    // overflow.
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return fail(format!("the body is not JSON: {e}")),
    };
    match v.get("resourceType").and_then(Value::as_str) {
        Some("AuditEvent") => {}
        Some(other) => {
            return fail(format!(
                "the body is a {}, not an AuditEvent",
                crate::evidence::quote(other)
            ))
        }
        None => return fail("the body is JSON without a resourceType".into()),
    }
    let mut violations = Vec::new();
    let mut missing = Vec::new();
    if !v.get("type").is_some_and(Value::is_object) {
        missing.push("type".to_string());
    }
    match v.get("recorded") {
        None => missing.push("recorded".into()),
        Some(Value::String(r)) => {
            if !is_instant(r) {
                violations.push(Violation::at(
                    &INSTANT,
                    "AuditEvent.recorded",
                    format!(
                        "recorded is {}: not an instant (seconds and a time zone are required)",
                        crate::evidence::quote(r)
                    ),
                ));
            }
        }
        Some(other) => violations.push(Violation::at(
            &INSTANT,
            "AuditEvent.recorded",
            format!("recorded is the JSON value {other}, not a string"),
        )),
    }
    match v.get("agent").and_then(Value::as_array) {
        None => missing.push("agent".into()),
        Some(a) if a.is_empty() => missing.push("agent".into()),
        Some(agents) => {
            for (i, a) in agents.iter().enumerate() {
                match a.get("requestor") {
                    Some(Value::Bool(_)) => {}
                    None => missing.push(format!("agent[{i}].requestor")),
                    Some(other) => violations.push(Violation::at(
                        &ELEMENTS,
                        format!("AuditEvent.agent[{i}].requestor"),
                        format!("requestor is the JSON value {other}, not a boolean"),
                    )),
                }
            }
        }
    }
    match v.get("source") {
        None => missing.push("source".into()),
        Some(s) if !s.get("observer").is_some_and(Value::is_object) => {
            missing.push("source.observer".into())
        }
        Some(_) => {}
    }
    if let Some(entities) = v.get("entity").and_then(Value::as_array) {
        for (i, e) in entities.iter().enumerate() {
            if e.get("name").is_some() && e.get("query").is_some() {
                violations.push(Violation::at(
                    &ELEMENTS,
                    format!("AuditEvent.entity[{i}]"),
                    "the entity has both a name and a query (sev-1: one or the other)",
                ));
            }
        }
    }
    if !missing.is_empty() {
        violations.insert(
            0,
            Violation::at(
                &ELEMENTS,
                "AuditEvent",
                format!("missing {}", missing.join(", ")),
            ),
        );
    }
    let audit = audit::fhir::from_value(&normalise(v)).ok();
    BodyJudged { audit, violations }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"resourceType":"AuditEvent","type":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":"110112"},"recorded":"2026-12-07T01:02:03.5+01:00","outcome":"0","agent":[{"who":{"display":"u"},"requestor":true}],"source":{"observer":{"display":"s"}},"entity":[{"type":{"system":"https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType","code":"XrequestId"},"what":{"identifier":{"value":"r1"}}}]}"#;

    fn ids(v: &[Violation]) -> Vec<&'static str> {
        v.iter().map(|x| x.rule).collect()
    }

    fn req<'a>(method: &'a str, path: &'a str, ct: Option<&'a str>) -> FeedRequest<'a> {
        FeedRequest {
            method,
            path,
            content_type: ct,
        }
    }

    #[test]
    fn a_create_with_the_fhir_json_type_passes_and_others_fail() {
        let ok = req(
            "POST",
            "/AuditEvent",
            Some("application/fhir+json; charset=utf-8"),
        );
        assert!(validate_request(&ok).is_empty());
        assert!(
            validate_request(&req("POST", "/AuditEvent?_format=json", Some(FHIR_JSON))).is_empty()
        );
        for bad in [
            req("PUT", "/AuditEvent/1", Some(FHIR_JSON)),
            req("POST", "/Patient", Some(FHIR_JSON)),
            req("POST", "/AuditEvent/_search", Some(FHIR_JSON)),
        ] {
            assert_eq!(ids(&validate_request(&bad)), vec![CREATE.id], "{bad:?}");
        }
        for ct in [
            None,
            Some("text/plain"),
            Some("application/fhir+json; charset=iso-8859-1"),
        ] {
            let v = validate_request(&req("POST", "/AuditEvent", ct));
            assert_eq!(ids(&v), vec![MEDIA.id], "{ct:?}");
            assert_eq!(v[0].level, Level::Shall);
        }
        let generic = validate_request(&req("POST", "/AuditEvent", Some("application/json")));
        assert_eq!(ids(&generic), vec![MEDIA.id]);
        assert_eq!(generic[0].level, Level::Should);
    }

    #[test]
    fn xml_and_bundles_are_not_judged() {
        let xml = req("POST", "/AuditEvent", Some("application/fhir+xml"));
        assert!(not_judged(&xml, b"<AuditEvent/>").is_some());
        let bundle = req("POST", "/", Some(FHIR_JSON));
        assert!(not_judged(&bundle, br#"{"resourceType":"Bundle","type":"batch"}"#).is_some());
        let create = req("POST", "/AuditEvent", Some(FHIR_JSON));
        assert!(not_judged(&create, GOOD.as_bytes()).is_none());
    }

    #[test]
    fn a_good_body_passes_and_is_read() {
        let j = validate_body(GOOD.as_bytes(), 1 << 16);
        assert!(j.violations.is_empty(), "{:?}", j.violations);
        let a = j.audit.expect("read");
        // The BALP entity type from its own code system is no DICOM ParticipantObjectTypeCode.
        assert_eq!(a.participant_objects[0].type_code, None);
        assert!(super::super::validate_message(&a).is_empty());
    }

    #[test]
    fn hostile_bodies_fail_the_resource_rule() {
        // Past serde_json's nesting bound of 128, within the size limit.
        let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"<AuditMessage/>".to_vec(),
            b"{\"resourceType\":\"AuditEvent\",\xFF}".to_vec(),
            deep.into_bytes(),
            br#"{"resourceType":"Patient"}"#.to_vec(),
            br#"{"type":{}}"#.to_vec(),
            br#"[1,2]"#.to_vec(),
            GOOD.repeat(100).into_bytes(),
        ];
        for c in cases {
            let j = validate_body(&c, 4096);
            assert_eq!(ids(&j.violations), vec![RESOURCE.id], "{}", c.len());
            assert!(j.audit.is_none());
        }
    }

    #[test]
    fn r4_required_elements_and_the_instant() {
        let mut v: Value = serde_json::from_str(GOOD).unwrap();
        v["source"] = serde_json::json!({"site": "x"});
        v["agent"][0]["requestor"] = Value::String("true".into());
        v["entity"][0]["name"] = Value::String("n".into());
        v["entity"][0]["query"] = Value::String("cQ==".into());
        let j = validate_body(v.to_string().as_bytes(), 1 << 16);
        assert_eq!(
            ids(&j.violations),
            vec![ELEMENTS.id; 3],
            "{:?}",
            j.violations
        );
        assert!(j.violations[0].message.contains("source.observer"));

        let mut v: Value = serde_json::from_str(GOOD).unwrap();
        v.as_object_mut().unwrap().remove("type");
        v.as_object_mut().unwrap().remove("agent");
        let j = validate_body(v.to_string().as_bytes(), 1 << 16);
        assert_eq!(ids(&j.violations), vec![ELEMENTS.id]);
        assert!(j.violations[0].message.contains("type, agent"));

        for (r, ok) in [
            ("2026-12-07T01:02:03Z", true),
            ("2026-12-07T01:02:03.123456-05:00", true),
            ("2026-12-07T01:02:03", false),
            ("2026-12-07T01:02Z", false),
            ("2026-12-07", false),
            ("2026-12-07T24:00:00Z", false),
            ("12026-12-07T01:02:03Z", false),
        ] {
            assert_eq!(is_instant(r), ok, "{r}");
            let mut v: Value = serde_json::from_str(GOOD).unwrap();
            v["recorded"] = Value::String(r.into());
            let j = validate_body(v.to_string().as_bytes(), 1 << 16);
            assert_eq!(j.violations.is_empty(), ok, "{r}: {:?}", j.violations);
            if !ok {
                assert_eq!(ids(&j.violations), vec![INSTANT.id]);
            }
        }
    }

    fn facts() -> super::super::transaction::AuditFacts {
        super::super::transaction::sample_query_facts()
    }

    /// The DICOM audit of an ITI-18 query, written as a FHIR AuditEvent, passes every rule through
    /// an inbound exchange; each FHIR Feed rule fails on its defect and on nothing else.
    #[test]
    fn each_fhir_feed_rule_passes_and_fails_through_an_exchange() {
        use super::super::family::{received_fhir_exchange, CHECKS};
        use super::super::transaction::{build, Audited, Side};
        use super::super::{AtnaExpect, Carrier};
        use crate::checks::{evaluate_all, Expect, Outcome, Subject};
        let f = facts();
        let good = audit::fhir::to_fhir_json(&build(Audited::Iti18, Side::Responder, &f));
        let expect = Expect {
            atna: Some(AtnaExpect {
                carrier: Carrier::FhirJson,
                audited: Some((Audited::Iti18, Side::Responder)),
                exchange: f.expect(),
                ..AtnaExpect::default()
            }),
            ..Expect::default()
        };
        let failed = |method: &str, path: &str, ct: &str, body: Vec<u8>, problem: Option<&str>| {
            let ex = received_fhir_exchange(
                method,
                format!("https://repository{path}"),
                Some(ct.to_string()),
                None,
                body.into(),
                problem.map(str::to_string),
            );
            let s = Subject {
                exchange: &ex,
                expect: &expect,
                strict: false,
                followups: &[],
            };
            let found: Vec<_> = evaluate_all(CHECKS, &s);
            assert!(found.iter().all(|x| x.outcome != Outcome::Error));
            found
                .into_iter()
                .filter(|x| x.outcome == Outcome::Fail)
                .map(|x| x.check)
                .collect::<Vec<String>>()
        };
        let body = |v: &Value| v.to_string().into_bytes();
        assert_eq!(
            failed("POST", "/AuditEvent", FHIR_JSON, body(&good), None),
            Vec::<String>::new()
        );
        assert_eq!(
            failed("PUT", "/AuditEvent/1", FHIR_JSON, body(&good), None),
            vec![CREATE.id]
        );
        assert_eq!(
            failed("POST", "/AuditEvent", "text/plain", body(&good), None),
            vec![MEDIA.id]
        );
        // application/json is advisory unless strict.
        assert_eq!(
            failed("POST", "/AuditEvent", "application/json", body(&good), None),
            Vec::<String>::new()
        );
        assert_eq!(
            failed("POST", "/AuditEvent", FHIR_JSON, b"\xFF{}".to_vec(), None),
            vec![RESOURCE.id]
        );
        assert_eq!(
            failed(
                "POST",
                "/AuditEvent",
                FHIR_JSON,
                b"{".to_vec(),
                Some("an AuditEvent body of 99999 bytes exceeds the limit of 65536")
            ),
            vec![RESOURCE.id]
        );
        let mut bad = good.clone();
        bad["agent"][0]["requestor"] = Value::String("false".into());
        assert_eq!(
            failed("POST", "/AuditEvent", FHIR_JSON, body(&bad), None),
            vec![ELEMENTS.id]
        );
        let mut bad = good.clone();
        bad["recorded"] = Value::String("2026-12-07T01:02:03".into());
        assert_eq!(
            failed("POST", "/AuditEvent", FHIR_JSON, body(&bad), None),
            vec![INSTANT.id]
        );
        // The audit table still judges through the FHIR mapping.
        let mut bad = good.clone();
        bad["action"] = Value::String("R".into());
        assert_eq!(
            failed("POST", "/AuditEvent", FHIR_JSON, body(&bad), None),
            vec![super::super::transaction::ACTION.id]
        );
        // A Bundle to the base and FHIR XML are not judged.
        assert_eq!(
            failed(
                "POST",
                "/",
                FHIR_JSON,
                br#"{"resourceType":"Bundle"}"#.to_vec(),
                None
            ),
            Vec::<String>::new()
        );
    }
}
