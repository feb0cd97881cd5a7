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
