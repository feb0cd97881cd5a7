//! The FHIR R4 AuditEvent (JSON) of RESTful ATNA and the IHE Basic Audit Log Patterns (BALP),
//! read into the same [`AuditMessage`] as the DICOM XML, following the DICOM mapping of the
//! AuditEvent resource (FHIR R4 AuditEvent "Mappings: DICOM"): `type` is EventID, `subtype`
//! EventTypeCode, `action`, `recorded` and `outcome` the event attributes, `agent` the active
//! participants (`requestor` is UserIsRequestor, `network` the access point), `source` the audit
//! source and `entity` the participant objects (`type` and `role` codes, `query` base64).

use serde_json::Value;

use crate::model::audit::{
    ActiveParticipant, AuditError, AuditMessage, AuditSourceIdentification, CodedValue, Encoding,
    EventIdentification, ParticipantObject, DCM, IHE_TRANSACTIONS,
};

/// The DICOM code system URI.
pub const DCM_SYSTEM: &str = "http://dicom.nema.org/resources/ontology/DCM";

/// The IHE event type code system URI (`urn:ihe:event-type-code`).
pub const IHE_EVENT_TYPE_SYSTEM: &str = "urn:ihe:event-type-code";

/// Largest AuditEvent read: 4 MiB.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

fn system_name(system: Option<&str>) -> Option<String> {
    system.map(|s| match s {
        DCM_SYSTEM => DCM.to_string(),
        IHE_EVENT_TYPE_SYSTEM => IHE_TRANSACTIONS.to_string(),
        other => other.to_string(),
    })
}

fn s(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn coding(v: &Value) -> CodedValue {
    CodedValue {
        code: s(v, "code").unwrap_or_default(),
        code_system_name: system_name(v.get("system").and_then(Value::as_str)),
        display_name: s(v, "display"),
        original_text: s(v, "display"),
        rfc3881_code: false,
    }
}

fn codings_of_concept(v: Option<&Value>) -> Vec<CodedValue> {
    v.and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .map(|a| a.iter().map(coding).collect())
        .unwrap_or_default()
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn reference_id(r: Option<&Value>) -> Option<String> {
    let r = r?;
    r.get("identifier")
        .and_then(|i| s(i, "value"))
        .or_else(|| s(r, "reference"))
        .or_else(|| s(r, "display"))
}

/// Read a FHIR AuditEvent (JSON).
pub fn parse(bytes: &[u8]) -> Result<AuditMessage, AuditError> {
    if bytes.len() > MAX_BYTES {
        return Err(AuditError::TooLarge {
            size: bytes.len(),
            limit: MAX_BYTES,
        });
    }
    // serde_json refuses nesting deeper than 128 levels, so this cannot overflow the stack.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| AuditError::Json(e.to_string()))?;
    from_value(&v)
}

/// Read a parsed FHIR AuditEvent.
pub fn from_value(v: &Value) -> Result<AuditMessage, AuditError> {
    match v.get("resourceType").and_then(Value::as_str) {
        Some("AuditEvent") => {}
        Some(other) => {
            return Err(AuditError::NotAuditEvent {
                found: other.to_string(),
            })
        }
        None => {
            return Err(AuditError::NotAuditEvent {
                found: "JSON without resourceType".into(),
            })
        }
    }
    let mut m = AuditMessage {
        encoding: Encoding::FhirJson,
        ..AuditMessage::default()
    };
    let event_id = v.get("type").map(coding);
    if event_id.is_none() {
        m.missing.push("AuditEvent.type".into());
    }
    m.event = Some(EventIdentification {
        event_id,
        event_type_codes: array(v, "subtype").iter().map(coding).collect(),
        action_code: s(v, "action"),
        date_time: s(v, "recorded"),
        outcome_indicator: s(v, "outcome"),
        outcome_descriptions: s(v, "outcomeDesc").into_iter().collect(),
        purpose_of_use: array(v, "purposeOfEvent")
            .iter()
            .flat_map(|c| codings_of_concept(Some(c)))
            .collect(),
    });
    for a in array(v, "agent") {
        let mut roles = codings_of_concept(a.get("type"));
        for r in array(a, "role") {
            roles.extend(codings_of_concept(Some(r)));
        }
        let network = a.get("network");
        m.active_participants.push(ActiveParticipant {
            user_id: reference_id(a.get("who")),
            alternative_user_id: s(a, "altId"),
            user_name: s(a, "name"),
            user_is_requestor: s(a, "requestor"),
            network_access_point_id: network.and_then(|n| s(n, "address")),
            network_access_point_type_code: network.and_then(|n| s(n, "type")),
            role_id_codes: roles,
            media_type: a.get("media").map(coding),
        });
    }
    if let Some(src) = v.get("source") {
        m.audit_sources.push(AuditSourceIdentification {
            audit_source_id: reference_id(src.get("observer")),
            audit_enterprise_site_id: s(src, "site"),
            type_codes: array(src, "type").iter().map(coding).collect(),
        });
    } else {
        m.missing.push("AuditEvent.source".into());
    }
    for e in array(v, "entity") {
        let what = e.get("what");
        m.participant_objects.push(ParticipantObject {
            id: reference_id(what),
            type_code: e.get("type").and_then(|c| s(c, "code")),
            type_code_role: e.get("role").and_then(|c| s(c, "code")),
            data_life_cycle: e.get("lifecycle").and_then(|c| s(c, "code")),
            sensitivity: array(e, "securityLabel").first().and_then(|c| s(c, "code")),
            id_type_code: what
                .and_then(|w| w.get("identifier"))
                .and_then(|i| i.get("type"))
                .and_then(|t| codings_of_concept(Some(t)).into_iter().next()),
            name: s(e, "name"),
            query: s(e, "query"),
            details: array(e, "detail")
                .iter()
                .map(|d| {
                    (
                        s(d, "type").unwrap_or_default(),
                        s(d, "valueString")
                            .or_else(|| s(d, "valueBase64Binary"))
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            descriptions: s(e, "description").into_iter().collect(),
            ..ParticipantObject::default()
        });
    }
    Ok(m)
}

/// `to_fhir_json`: write an audit message of the DICOM model as a FHIR R4 AuditEvent (JSON),
/// following the same DICOM mapping [`parse`] reads (FHIR R4 AuditEvent "Mappings: DICOM"), so
/// that `parse(to_fhir_json(m))` judges as `m` does: EventID is `type`, EventTypeCode `subtype`,
/// the active participants `agent` (RoleIDCode in `type`, UserID as `who.identifier`, the network
/// access point as `network`, UserIsRequestor a boolean `requestor`), the audit source `source`
/// (AuditSourceID as `observer`, its type codes from security-source-type) and the participant
/// objects `entity` (`what.identifier` with its type, `type`, `role` and `lifecycle` from the FHIR
/// code systems of the DICOM enumerations, `query` and `detail` in base64 as received). The
/// built-in audit source of the ITI-20 FHIR Feed scenario sends it.
pub fn to_fhir_json(m: &AuditMessage) -> Value {
    use serde_json::{json, Map};
    fn system_uri(name: Option<&str>) -> Option<String> {
        name.map(|n| match n {
            DCM => DCM_SYSTEM.to_string(),
            IHE_TRANSACTIONS => IHE_EVENT_TYPE_SYSTEM.to_string(),
            other => other.to_string(),
        })
    }
    fn coding(c: &CodedValue) -> Value {
        let mut o = Map::new();
        if let Some(s) = system_uri(c.code_system_name.as_deref()) {
            o.insert("system".into(), Value::String(s));
        }
        o.insert("code".into(), Value::String(c.code.clone()));
        if let Some(d) = c.original_text.as_ref().or(c.display_name.as_ref()) {
            o.insert("display".into(), Value::String(d.clone()));
        }
        Value::Object(o)
    }
    fn code(system: &str, value: &Option<String>) -> Option<Value> {
        value.as_ref().map(|c| json!({"system": system, "code": c}))
    }
    let mut out = Map::new();
    out.insert("resourceType".into(), json!("AuditEvent"));
    if let Some(e) = &m.event {
        if let Some(id) = &e.event_id {
            out.insert("type".into(), coding(id));
        }
        if !e.event_type_codes.is_empty() {
            out.insert(
                "subtype".into(),
                Value::Array(e.event_type_codes.iter().map(coding).collect()),
            );
        }
        if let Some(a) = &e.action_code {
            out.insert("action".into(), json!(a));
        }
        if let Some(t) = &e.date_time {
            out.insert("recorded".into(), json!(t));
        }
        if let Some(o) = &e.outcome_indicator {
            out.insert("outcome".into(), json!(o));
        }
        if let Some(d) = e.outcome_descriptions.first() {
            out.insert("outcomeDesc".into(), json!(d));
        }
        if !e.purpose_of_use.is_empty() {
            out.insert(
                "purposeOfEvent".into(),
                Value::Array(
                    e.purpose_of_use
                        .iter()
                        .map(|p| json!({"coding": [coding(p)]}))
                        .collect(),
                ),
            );
        }
    }
    let agents: Vec<Value> = m
        .active_participants
        .iter()
        .map(|p| {
            let mut a = Map::new();
            if !p.role_id_codes.is_empty() {
                a.insert(
                    "type".into(),
                    json!({"coding": p.role_id_codes.iter().map(coding).collect::<Vec<_>>()}),
                );
            }
            if let Some(u) = &p.user_id {
                a.insert("who".into(), json!({"identifier": {"value": u}}));
            }
            if let Some(alt) = &p.alternative_user_id {
                a.insert("altId".into(), json!(alt));
            }
            if let Some(n) = &p.user_name {
                a.insert("name".into(), json!(n));
            }
            a.insert(
                "requestor".into(),
                match p.is_requestor() {
                    Some(b) => Value::Bool(b),
                    None => p
                        .user_is_requestor
                        .clone()
                        .map(Value::String)
                        .unwrap_or(Value::Null),
                },
            );
            if let Some(media) = &p.media_type {
                a.insert("media".into(), coding(media));
            }
            if p.network_access_point_id.is_some() || p.network_access_point_type_code.is_some() {
                let mut n = Map::new();
                if let Some(addr) = &p.network_access_point_id {
                    n.insert("address".into(), json!(addr));
                }
                if let Some(t) = &p.network_access_point_type_code {
                    n.insert("type".into(), json!(t));
                }
                a.insert("network".into(), Value::Object(n));
            }
            Value::Object(a)
        })
        .collect();
    out.insert("agent".into(), Value::Array(agents));
    if let Some(src) = m.audit_sources.first() {
        let mut o = Map::new();
        if let Some(site) = &src.audit_enterprise_site_id {
            o.insert("site".into(), json!(site));
        }
        if let Some(id) = &src.audit_source_id {
            o.insert("observer".into(), json!({"display": id}));
        }
        if !src.type_codes.is_empty() {
            o.insert(
                "type".into(),
                Value::Array(
                    src.type_codes
                        .iter()
                        .map(|c| {
                            json!({
                                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                                "code": c.code,
                            })
                        })
                        .collect(),
                ),
            );
        }
        out.insert("source".into(), Value::Object(o));
    }
    let entities: Vec<Value> = m
        .participant_objects
        .iter()
        .map(|p| {
            let mut e = Map::new();
            if p.id.is_some() || p.id_type_code.is_some() {
                let mut ident = Map::new();
                if let Some(t) = &p.id_type_code {
                    ident.insert("type".into(), json!({"coding": [coding(t)]}));
                }
                if let Some(id) = &p.id {
                    ident.insert("value".into(), json!(id));
                }
                e.insert("what".into(), json!({"identifier": Value::Object(ident)}));
            }
            for (key, system, value) in [
                (
                    "type",
                    "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    &p.type_code,
                ),
                (
                    "role",
                    "http://terminology.hl7.org/CodeSystem/object-role",
                    &p.type_code_role,
                ),
                (
                    "lifecycle",
                    "http://terminology.hl7.org/CodeSystem/dicom-audit-lifecycle",
                    &p.data_life_cycle,
                ),
            ] {
                if let Some(c) = code(system, value) {
                    e.insert(key.into(), c);
                }
            }
            if let Some(n) = &p.name {
                e.insert("name".into(), json!(n));
            }
            if let Some(d) = p.descriptions.first() {
                e.insert("description".into(), json!(d));
            }
            if let Some(q) = &p.query {
                e.insert("query".into(), json!(q));
            }
            if !p.details.is_empty() {
                e.insert(
                    "detail".into(),
                    Value::Array(
                        p.details
                            .iter()
                            .map(|(t, v)| json!({"type": t, "valueBase64Binary": v}))
                            .collect(),
                    ),
                );
            }
            Value::Object(e)
        })
        .collect();
    if !entities.is_empty() {
        out.insert("entity".into(), Value::Array(entities));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_balp_style_query_event() {
        let json = br#"{
          "resourceType": "AuditEvent",
          "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110112", "display": "Query"},
          "subtype": [{"system": "urn:ihe:event-type-code", "code": "ITI-67", "display": "Find Document References"}],
          "action": "E", "recorded": "2026-12-07T01:02:03Z", "outcome": "0",
          "agent": [
            {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153"}]},
             "who": {"display": "client"}, "requestor": true, "network": {"address": "10.0.0.1", "type": "2"}},
            {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152"}]},
             "who": {"identifier": {"value": "https://server/fhir"}}, "requestor": false}
          ],
          "source": {"observer": {"display": "server"}, "type": [{"code": "4"}]},
          "entity": [
            {"what": {"identifier": {"value": "PID^^^&1.2&ISO"}}, "type": {"code": "1"}, "role": {"code": "1"}},
            {"type": {"code": "2"}, "role": {"code": "24"}, "query": "cGF0aWVudD0x"}
          ]
        }"#;
        let m = parse(json).unwrap();
        assert_eq!(m.encoding, Encoding::FhirJson);
        assert!(m.event_id().unwrap().is("110112", DCM));
        assert!(m.event.as_ref().unwrap().event_type_codes[0].is("ITI-67", IHE_TRANSACTIONS));
        assert_eq!(m.active_participants[0].is_requestor(), Some(true));
        assert!(m.active_participants[1].has_role("110152"));
        assert_eq!(m.objects("1", "1").count(), 1);
        assert_eq!(
            m.objects("2", "24").next().unwrap().query.as_deref(),
            Some("cGF0aWVudD0x")
        );
    }

    #[test]
    fn not_an_audit_event() {
        assert!(matches!(
            parse(b"{\"resourceType\":\"Patient\"}"),
            Err(AuditError::NotAuditEvent { .. })
        ));
        assert!(matches!(
            parse(b"[1]"),
            Err(AuditError::NotAuditEvent { .. })
        ));
        assert!(matches!(parse(b"{"), Err(AuditError::Json(_))));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse(deep.as_bytes()), Err(AuditError::Json(_))));
    }
}

/// The FHIR logical id a patient participant object's CX maps to: the ID part (before the first
/// `^`), with every character FHIR ids do not allow (`[A-Za-z0-9\-\.]`) replaced by `-`, cut to
/// 64 characters.
pub fn patient_logical_id(cx: &str) -> String {
    let id = cx.split('^').next().unwrap_or(cx);
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if out.is_empty() {
        out.push('-');
    }
    out
}

/// The audit message as a FHIR R4 AuditEvent (JSON): [`to_fhir_json`], with each patient
/// participant object (type 1, role 1) also referring to `Patient/<id>`
/// ([`patient_logical_id`]), so that the `patient` search parameter of RESTful ATNA (ITI-81)
/// finds it (FHIR R4 AuditEvent's `patient` parameter is a reference search on `entity.what`).
pub fn write_fhir_json(m: &AuditMessage) -> Value {
    let mut v = to_fhir_json(m);
    if let Some(entities) = v.get_mut("entity").and_then(Value::as_array_mut) {
        for (e, o) in entities.iter_mut().zip(&m.participant_objects) {
            let (true, Some(id)) = (o.is("1", "1"), o.id.as_deref()) else {
                continue;
            };
            if let Some(what) = e.get_mut("what").and_then(Value::as_object_mut) {
                what.insert(
                    "reference".into(),
                    Value::String(format!("Patient/{}", patient_logical_id(id))),
                );
            }
        }
    }
    v
}

#[cfg(test)]
mod write_tests {
    use super::*;
    use crate::checks::atna::transaction::{build, AuditFacts, Audited, Party, Side};

    #[test]
    fn a_built_audit_survives_the_round_trip_through_fhir() {
        let facts = AuditFacts {
            date_time: "2026-12-07T01:02:03Z".into(),
            outcome: "0".into(),
            source: Party {
                user_id: "harness".into(),
                alternative_user_id: None,
                network_access_point: Some("127.0.0.1".into()),
            },
            destination: Party {
                user_id: "https://registry".into(),
                alternative_user_id: None,
                network_access_point: Some("registry.example".into()),
            },
            audit_source_id: "ihe-harness".into(),
            patient_id: Some("P 1^^^&1.2.3&ISO".into()),
            submission_set: None,
            query_id: Some("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d".into()),
            query: b"<q/>".to_vec(),
            documents: Vec::new(),
            studies: Vec::new(),
        };
        let m = build(Audited::Iti18, Side::Initiator, &facts);
        let json = write_fhir_json(&m);
        let back = from_value(&json).expect("an AuditEvent");
        assert!(back.event_id().expect("type").is("110112", DCM));
        assert!(back.has_event_type("ITI-18"));
        assert_eq!(back.active_participants.len(), m.active_participants.len());
        assert_eq!(
            back.objects("1", "1").next().and_then(|o| o.id.clone()),
            Some("P 1^^^&1.2.3&ISO".to_string())
        );
        assert_eq!(json["entity"][0]["what"]["reference"], "Patient/P-1");
        assert!(crate::checks::atna::validate_message(&back).is_empty());
        assert!(crate::checks::atna::transaction::validate(
            &back,
            Audited::Iti18,
            Side::Initiator,
            &facts.expect()
        )
        .is_empty());
        assert_eq!(patient_logical_id(""), "-");
    }
}
