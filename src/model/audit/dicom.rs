//! The DICOM audit message XML (DICOM PS3.15 §A.5.1): reading it into an [`AuditMessage`] with
//! the hardened XML reader, and writing one.
//!
//! The schema puts the message in no namespace; a message in a namespace is read by local names
//! all the same (the schema rule judges the namespace, not the reader).

use crate::model::audit::{
    ActiveParticipant, AuditError, AuditMessage, AuditSourceIdentification, CodedValue, Encoding,
    EventIdentification, ParticipantObject, SopClass,
};
use crate::transport::soap::{parse_xml, XmlElement, XmlLimits};

/// The limits an audit message is read under: 4 MiB, depth 16, 100 000 elements. PS3.15 §A.6
/// asks receivers to take at least 32 768 octets; real messages listing many instances are larger.
pub fn limits() -> XmlLimits {
    XmlLimits {
        max_bytes: 4 * 1024 * 1024,
        max_depth: 16,
        max_elements: 100_000,
    }
}

/// Read a DICOM audit message with [`limits`].
pub fn parse(bytes: &[u8]) -> Result<AuditMessage, AuditError> {
    parse_with(bytes, &limits())
}

/// Read a DICOM audit message under `limits`.
pub fn parse_with(bytes: &[u8], limits: &XmlLimits) -> Result<AuditMessage, AuditError> {
    let root = parse_xml(bytes, limits)?;
    if root.local != "AuditMessage" {
        return Err(AuditError::NotAuditMessage {
            found: root.local.clone(),
        });
    }
    let mut m = AuditMessage {
        encoding: Encoding::DicomXml,
        ..AuditMessage::default()
    };
    if let Some(ns) = &root.ns {
        m.unexpected.push(format!("AuditMessage in namespace {ns}"));
    }
    for a in &root.attrs {
        if a.ns.is_none() {
            m.unexpected.push(format!("AuditMessage/@{}", a.local));
        }
    }
    for c in &root.children {
        match c.local.as_str() {
            "EventIdentification" => {
                if m.event.is_some() {
                    m.unexpected
                        .push("AuditMessage/EventIdentification (a second one)".into());
                } else {
                    m.event = Some(event(c, &mut m.unexpected));
                }
            }
            "ActiveParticipant" => m
                .active_participants
                .push(participant(c, &mut m.unexpected)),
            "AuditSourceIdentification" => m.audit_sources.push(source(c, &mut m.unexpected)),
            "ParticipantObjectIdentification" => {
                m.participant_objects.push(object(c, &mut m.unexpected))
            }
            other => m.unexpected.push(format!("AuditMessage/{other}")),
        }
    }
    if m.event.is_none() {
        m.missing.push("AuditMessage/EventIdentification".into());
    }
    Ok(m)
}

fn attr(e: &XmlElement, name: &str) -> Option<String> {
    e.attr(name).map(str::to_string)
}

fn check_attrs(e: &XmlElement, path: &str, known: &[&str], unexpected: &mut Vec<String>) {
    for a in &e.attrs {
        // xsi:* and other namespaced attributes are the schema machinery's, not the message's.
        if a.ns.is_none() && !known.contains(&a.local.as_str()) {
            unexpected.push(format!("{path}/@{}", a.local));
        }
    }
}

/// The text of an element the schema types as text: child elements are not in the schema.
fn text(e: &XmlElement, path: &str, unexpected: &mut Vec<String>) -> String {
    for c in &e.children {
        unexpected.push(format!("{path}/{}", c.local));
    }
    e.text_trimmed().to_string()
}

fn coded(e: &XmlElement, path: &str, unexpected: &mut Vec<String>) -> CodedValue {
    check_attrs(
        e,
        path,
        &[
            "csd-code",
            "codeSystemName",
            "displayName",
            "originalText",
            "code",
            "codeSystem",
        ],
        unexpected,
    );
    let (code, rfc3881) = match (e.attr("csd-code"), e.attr("code")) {
        (Some(c), _) => (c.to_string(), false),
        (None, Some(c)) => (c.to_string(), true),
        (None, None) => (String::new(), false),
    };
    CodedValue {
        code,
        code_system_name: attr(e, "codeSystemName"),
        display_name: attr(e, "displayName"),
        original_text: attr(e, "originalText"),
        rfc3881_code: rfc3881,
    }
}

fn event(e: &XmlElement, unexpected: &mut Vec<String>) -> EventIdentification {
    const P: &str = "EventIdentification";
    check_attrs(
        e,
        P,
        &["EventActionCode", "EventDateTime", "EventOutcomeIndicator"],
        unexpected,
    );
    let mut ev = EventIdentification {
        action_code: attr(e, "EventActionCode"),
        date_time: attr(e, "EventDateTime"),
        outcome_indicator: attr(e, "EventOutcomeIndicator"),
        ..EventIdentification::default()
    };
    for c in &e.children {
        let path = format!("{P}/{}", c.local);
        match c.local.as_str() {
            "EventID" => {
                if ev.event_id.is_some() {
                    unexpected.push(format!("{path} (a second one)"));
                } else {
                    ev.event_id = Some(coded(c, &path, unexpected));
                }
            }
            "EventTypeCode" => ev.event_type_codes.push(coded(c, &path, unexpected)),
            "EventOutcomeDescription" => ev.outcome_descriptions.push(text(c, &path, unexpected)),
            "PurposeOfUse" => ev.purpose_of_use.push(coded(c, &path, unexpected)),
            _ => unexpected.push(path),
        }
    }
    ev
}

fn participant(e: &XmlElement, unexpected: &mut Vec<String>) -> ActiveParticipant {
    const P: &str = "ActiveParticipant";
    check_attrs(
        e,
        P,
        &[
            "UserID",
            "AlternativeUserID",
            "UserName",
            "UserIsRequestor",
            "NetworkAccessPointID",
            "NetworkAccessPointTypeCode",
        ],
        unexpected,
    );
    let mut p = ActiveParticipant {
        user_id: attr(e, "UserID"),
        alternative_user_id: attr(e, "AlternativeUserID"),
        user_name: attr(e, "UserName"),
        user_is_requestor: attr(e, "UserIsRequestor"),
        network_access_point_id: attr(e, "NetworkAccessPointID"),
        network_access_point_type_code: attr(e, "NetworkAccessPointTypeCode"),
        ..ActiveParticipant::default()
    };
    for c in &e.children {
        let path = format!("{P}/{}", c.local);
        match c.local.as_str() {
            "RoleIDCode" => p.role_id_codes.push(coded(c, &path, unexpected)),
            "MediaIdentifier" => {
                for m in &c.children {
                    if m.local == "MediaType" {
                        p.media_type = Some(coded(m, &format!("{path}/MediaType"), unexpected));
                    } else {
                        unexpected.push(format!("{path}/{}", m.local));
                    }
                }
            }
            _ => unexpected.push(path),
        }
    }
    p
}

fn source(e: &XmlElement, unexpected: &mut Vec<String>) -> AuditSourceIdentification {
    const P: &str = "AuditSourceIdentification";
    check_attrs(
        e,
        P,
        &["AuditSourceID", "AuditEnterpriseSiteID"],
        unexpected,
    );
    let mut s = AuditSourceIdentification {
        audit_source_id: attr(e, "AuditSourceID"),
        audit_enterprise_site_id: attr(e, "AuditEnterpriseSiteID"),
        type_codes: Vec::new(),
    };
    for c in &e.children {
        let path = format!("{P}/{}", c.local);
        if c.local == "AuditSourceTypeCode" {
            // RFC 3881 put the code in the text or a `code` attribute; DICOM in csd-code.
            let mut v = coded(c, &path, unexpected);
            if v.code.is_empty() && !c.text_trimmed().is_empty() {
                v.code = c.text_trimmed().into();
                v.rfc3881_code = true;
            }
            s.type_codes.push(v);
        } else {
            unexpected.push(path);
        }
    }
    s
}

fn object(e: &XmlElement, unexpected: &mut Vec<String>) -> ParticipantObject {
    const P: &str = "ParticipantObjectIdentification";
    check_attrs(
        e,
        P,
        &[
            "ParticipantObjectID",
            "ParticipantObjectTypeCode",
            "ParticipantObjectTypeCodeRole",
            "ParticipantObjectDataLifeCycle",
            "ParticipantObjectSensitivity",
        ],
        unexpected,
    );
    let mut o = ParticipantObject {
        id: attr(e, "ParticipantObjectID"),
        type_code: attr(e, "ParticipantObjectTypeCode"),
        type_code_role: attr(e, "ParticipantObjectTypeCodeRole"),
        data_life_cycle: attr(e, "ParticipantObjectDataLifeCycle"),
        sensitivity: attr(e, "ParticipantObjectSensitivity"),
        ..ParticipantObject::default()
    };
    for c in &e.children {
        let path = format!("{P}/{}", c.local);
        match c.local.as_str() {
            "ParticipantObjectIDTypeCode" => o.id_type_code = Some(coded(c, &path, unexpected)),
            "ParticipantObjectName" => o.name = Some(text(c, &path, unexpected)),
            "ParticipantObjectQuery" => o.query = Some(text(c, &path, unexpected)),
            "ParticipantObjectDetail" => o.details.push((
                c.attr("type").unwrap_or("").to_string(),
                c.attr("value").unwrap_or("").to_string(),
            )),
            "ParticipantObjectDescription" => o.descriptions.push(text(c, &path, unexpected)),
            "SOPClass" => o.sop_classes.push(SopClass {
                uid: attr(c, "UID"),
                number_of_instances: attr(c, "NumberOfInstances"),
                instances: c
                    .children
                    .iter()
                    .filter(|i| i.local == "Instance")
                    .filter_map(|i| attr(i, "UID"))
                    .collect(),
            }),
            "Accession" => o.accessions.extend(attr(c, "Number")),
            "ParticipantObjectContainsStudy" => o.contains_studies.extend(
                c.children
                    .iter()
                    .filter(|s| s.local == "StudyIDs")
                    .filter_map(|s| attr(s, "UID")),
            ),
            "MPPS" | "Encrypted" | "Anonymized" => {}
            _ => unexpected.push(path),
        }
    }
    o
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn attrs(out: &mut String, list: &[(&str, Option<&str>)]) {
    for (k, v) in list {
        if let Some(v) = v {
            out.push_str(&format!(" {k}=\"{}\"", esc(v)));
        }
    }
}

fn write_coded(out: &mut String, name: &str, c: &CodedValue) {
    out.push_str(&format!("<{name}"));
    attrs(
        out,
        &[
            ("csd-code", Some(c.code.as_str())),
            ("codeSystemName", c.code_system_name.as_deref()),
            ("displayName", c.display_name.as_deref()),
            ("originalText", c.original_text.as_deref()),
        ],
    );
    out.push_str("/>");
}

/// The message as DICOM PS3.15 §A.5.1 XML, children in schema order.
pub fn write(m: &AuditMessage) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><AuditMessage>");
    if let Some(e) = &m.event {
        out.push_str("<EventIdentification");
        attrs(
            &mut out,
            &[
                ("EventActionCode", e.action_code.as_deref()),
                ("EventDateTime", e.date_time.as_deref()),
                ("EventOutcomeIndicator", e.outcome_indicator.as_deref()),
            ],
        );
        out.push('>');
        if let Some(id) = &e.event_id {
            write_coded(&mut out, "EventID", id);
        }
        for t in &e.event_type_codes {
            write_coded(&mut out, "EventTypeCode", t);
        }
        for d in &e.outcome_descriptions {
            out.push_str(&format!(
                "<EventOutcomeDescription>{}</EventOutcomeDescription>",
                esc(d)
            ));
        }
        for p in &e.purpose_of_use {
            write_coded(&mut out, "PurposeOfUse", p);
        }
        out.push_str("</EventIdentification>");
    }
    for p in &m.active_participants {
        out.push_str("<ActiveParticipant");
        attrs(
            &mut out,
            &[
                ("UserID", p.user_id.as_deref()),
                ("AlternativeUserID", p.alternative_user_id.as_deref()),
                ("UserName", p.user_name.as_deref()),
                ("UserIsRequestor", p.user_is_requestor.as_deref()),
                ("NetworkAccessPointID", p.network_access_point_id.as_deref()),
                (
                    "NetworkAccessPointTypeCode",
                    p.network_access_point_type_code.as_deref(),
                ),
            ],
        );
        out.push('>');
        for r in &p.role_id_codes {
            write_coded(&mut out, "RoleIDCode", r);
        }
        if let Some(mt) = &p.media_type {
            out.push_str("<MediaIdentifier>");
            write_coded(&mut out, "MediaType", mt);
            out.push_str("</MediaIdentifier>");
        }
        out.push_str("</ActiveParticipant>");
    }
    for s in &m.audit_sources {
        out.push_str("<AuditSourceIdentification");
        attrs(
            &mut out,
            &[
                (
                    "AuditEnterpriseSiteID",
                    s.audit_enterprise_site_id.as_deref(),
                ),
                ("AuditSourceID", s.audit_source_id.as_deref()),
            ],
        );
        out.push('>');
        for t in &s.type_codes {
            write_coded(&mut out, "AuditSourceTypeCode", t);
        }
        out.push_str("</AuditSourceIdentification>");
    }
    for o in &m.participant_objects {
        out.push_str("<ParticipantObjectIdentification");
        attrs(
            &mut out,
            &[
                ("ParticipantObjectID", o.id.as_deref()),
                ("ParticipantObjectTypeCode", o.type_code.as_deref()),
                ("ParticipantObjectTypeCodeRole", o.type_code_role.as_deref()),
                (
                    "ParticipantObjectDataLifeCycle",
                    o.data_life_cycle.as_deref(),
                ),
                ("ParticipantObjectSensitivity", o.sensitivity.as_deref()),
            ],
        );
        out.push('>');
        if let Some(t) = &o.id_type_code {
            write_coded(&mut out, "ParticipantObjectIDTypeCode", t);
        }
        if let Some(n) = &o.name {
            out.push_str(&format!(
                "<ParticipantObjectName>{}</ParticipantObjectName>",
                esc(n)
            ));
        }
        if let Some(q) = &o.query {
            out.push_str(&format!(
                "<ParticipantObjectQuery>{}</ParticipantObjectQuery>",
                esc(q)
            ));
        }
        for (t, v) in &o.details {
            out.push_str(&format!(
                "<ParticipantObjectDetail type=\"{}\" value=\"{}\"/>",
                esc(t),
                esc(v)
            ));
        }
        for d in &o.descriptions {
            out.push_str(&format!(
                "<ParticipantObjectDescription>{}</ParticipantObjectDescription>",
                esc(d)
            ));
        }
        for s in &o.sop_classes {
            out.push_str("<SOPClass");
            attrs(
                &mut out,
                &[
                    ("UID", s.uid.as_deref()),
                    ("NumberOfInstances", s.number_of_instances.as_deref()),
                ],
            );
            out.push('>');
            for i in &s.instances {
                out.push_str(&format!("<Instance UID=\"{}\"/>", esc(i)));
            }
            out.push_str("</SOPClass>");
        }
        for a in &o.accessions {
            out.push_str(&format!("<Accession Number=\"{}\"/>", esc(a)));
        }
        if !o.contains_studies.is_empty() {
            out.push_str("<ParticipantObjectContainsStudy>");
            for s in &o.contains_studies {
                out.push_str(&format!("<StudyIDs UID=\"{}\"/>", esc(s)));
            }
            out.push_str("</ParticipantObjectContainsStudy>");
        }
        out.push_str("</ParticipantObjectIdentification>");
    }
    out.push_str("</AuditMessage>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::audit::{DCM, IHE_TRANSACTIONS};

    pub(crate) fn sample() -> AuditMessage {
        AuditMessage {
            encoding: Encoding::DicomXml,
            event: Some(EventIdentification {
                event_id: Some(CodedValue::new("110112", DCM, "Query")),
                event_type_codes: vec![CodedValue::new(
                    "ITI-18",
                    IHE_TRANSACTIONS,
                    "Registry Stored Query",
                )],
                action_code: Some("E".into()),
                date_time: Some("2026-12-07T01:02:03.456Z".into()),
                outcome_indicator: Some("0".into()),
                ..EventIdentification::default()
            }),
            active_participants: vec![ActiveParticipant {
                user_id: Some("a&b<c>\"d'".into()),
                user_is_requestor: Some("true".into()),
                network_access_point_id: Some("10.0.0.1".into()),
                network_access_point_type_code: Some("2".into()),
                role_id_codes: vec![CodedValue::new("110153", DCM, "Source Role ID")],
                ..ActiveParticipant::default()
            }],
            audit_sources: vec![AuditSourceIdentification {
                audit_source_id: Some("src".into()),
                audit_enterprise_site_id: None,
                type_codes: vec![CodedValue::new("4", DCM, "Application Server")],
            }],
            participant_objects: vec![ParticipantObject {
                id: Some("1.2.3".into()),
                type_code: Some("2".into()),
                type_code_role: Some("3".into()),
                id_type_code: Some(CodedValue::new("110180", DCM, "Study Instance UID")),
                details: vec![("ContainsSOPClass".into(), "MS4yLjM=".into())],
                sop_classes: vec![SopClass {
                    uid: Some("1.2.840.10008.5.1.4.1.1.2".into()),
                    number_of_instances: Some("2".into()),
                    instances: vec!["1.2.3.4".into()],
                }],
                accessions: vec!["ACC1".into()],
                contains_studies: vec!["1.2.3".into()],
                name: Some("n".into()),
                query: Some("cXVlcnk=".into()),
                descriptions: vec!["d".into()],
                ..ParticipantObject::default()
            }],
            unexpected: Vec::new(),
            missing: Vec::new(),
        }
    }

    #[test]
    fn writes_and_reads_back() {
        let m = sample();
        let xml = m.to_xml();
        let back = parse(xml.as_bytes()).unwrap();
        assert_eq!(back, m);
        assert_eq!(
            back.participant_objects[0]
                .detail("ContainsSOPClass")
                .as_deref(),
            Some("1.2.3")
        );
    }

    #[test]
    fn unknown_parts_are_listed_not_refused() {
        let xml = br#"<AuditMessage foo="1"><EventIdentification EventDateTime="x" Bar="2"><EventID code="110112" codeSystemName="DCM"/><Extra/></EventIdentification><Other/></AuditMessage>"#;
        let m = parse(xml).unwrap();
        assert!(m.event_id().unwrap().rfc3881_code);
        assert_eq!(
            m.unexpected,
            vec![
                "AuditMessage/@foo",
                "EventIdentification/@Bar",
                "EventIdentification/Extra",
                "AuditMessage/Other"
            ]
        );
        let m = parse(b"<AuditMessage/>").unwrap();
        assert_eq!(m.missing, vec!["AuditMessage/EventIdentification"]);
    }

    #[test]
    fn hostile_xml_is_a_typed_error() {
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><AuditMessage>&lol2;</AuditMessage>"#;
        assert!(matches!(parse(bomb), Err(AuditError::Xml(_))));
        assert!(matches!(
            parse(b"<AuditMessage>\xFF</AuditMessage>"),
            Err(AuditError::Xml(_))
        ));
        assert!(matches!(
            parse(b"<AuditMessage><a>"),
            Err(AuditError::Xml(_))
        ));
        assert!(matches!(parse(b"not xml"), Err(AuditError::Xml(_))));
        assert!(matches!(
            parse(b"<Other/>"),
            Err(AuditError::NotAuditMessage { .. })
        ));
        let deep = format!(
            "<AuditMessage>{}{}</AuditMessage>",
            "<a>".repeat(50),
            "</a>".repeat(50)
        );
        assert!(matches!(parse(deep.as_bytes()), Err(AuditError::Xml(_))));
        let big = vec![b' '; limits().max_bytes + 1];
        assert!(matches!(parse(&big), Err(AuditError::Xml(_))));
    }
}
