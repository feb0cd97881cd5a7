use super::transaction::{self, AuditExpect, Audited, Side};
use super::*;
use crate::model::audit::{
    ActiveParticipant, AuditSourceIdentification, EventIdentification, ParticipantObject, SopClass,
    IHE_TRANSACTIONS,
};

fn participant(user: &str, role: &str, requestor: bool) -> ActiveParticipant {
    ActiveParticipant {
        user_id: Some(user.into()),
        user_is_requestor: Some(requestor.to_string()),
        network_access_point_id: Some("192.0.2.1".into()),
        network_access_point_type_code: Some("2".into()),
        role_id_codes: vec![CodedValue::new(
            role,
            DCM,
            if role == "110153" {
                "Source Role ID"
            } else {
                "Destination Role ID"
            },
        )],
        ..ActiveParticipant::default()
    }
}

fn object(id: &str, t: &str, role: &str, id_type: CodedValue) -> ParticipantObject {
    ParticipantObject {
        id: Some(id.into()),
        type_code: Some(t.into()),
        type_code_role: Some(role.into()),
        id_type_code: Some(id_type),
        ..ParticipantObject::default()
    }
}

fn patient() -> ParticipantObject {
    object(
        "PAT-1^^^&1.2.3&ISO",
        "1",
        "1",
        CodedValue::new("2", "RFC-3881", "Patient Number"),
    )
}

/// A correct audit message of `audited` as `side` audits it.
pub(crate) fn good(audited: Audited, side: Side) -> AuditMessage {
    let spec = transaction::Spec::of(audited, side);
    let (src_req, dst_req) = match spec.responder_role {
        Some("110152") => (true, false),
        Some(_) => (false, true),
        None => (true, false),
    };
    let objects = match audited {
        Audited::Iti18 | Audited::Iti66 | Audited::Iti67 => vec![
            patient(),
            ParticipantObject {
                query: Some("PHF1ZXJ5Lz4=".into()),
                details: vec![("QueryEncoding".into(), "VVRGLTg=".into())],
                ..object(
                    "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
                    "2",
                    "24",
                    CodedValue::new(
                        match audited {
                            Audited::Iti66 => "ITI-66",
                            Audited::Iti67 => "ITI-67",
                            _ => "ITI-18",
                        },
                        IHE_TRANSACTIONS,
                        "query",
                    ),
                )
            },
        ],
        Audited::Iti41 | Audited::Rad68 | Audited::Iti65 => vec![
            patient(),
            object(
                "1.2.3.4.5",
                "2",
                "20",
                CodedValue::new(
                    transaction::SUBMISSION_SET_ID_TYPE,
                    "IHE XDS Metadata",
                    "submission set classificationNode",
                ),
            ),
        ],
        Audited::Iti43 | Audited::Iti68 => vec![ParticipantObject {
            details: vec![("Repository Unique Id".into(), "MS4yLjM=".into())],
            ..object(
                "1.2.3.9",
                "2",
                "3",
                CodedValue::new("9", "RFC-3881", "Report Number"),
            )
        }],
        Audited::Rad69 | Audited::DicomInstancesTransferred => vec![
            patient(),
            ParticipantObject {
                sop_classes: vec![SopClass {
                    uid: Some("1.2.840.10008.5.1.4.1.1.2".into()),
                    number_of_instances: Some("1".into()),
                    instances: Vec::new(),
                }],
                ..object(
                    "1.2.3.7",
                    "2",
                    "3",
                    CodedValue::new("110180", DCM, "Study Instance UID"),
                )
            },
        ],
        Audited::DicomQuery => vec![ParticipantObject {
            query: Some("AAgAUgAAAAA=".into()),
            details: vec![("TransferSyntax".into(), "MS4yLjg0MC4xMDAwOC4xLjI=".into())],
            ..object(
                "1.2.840.10008.5.1.4.1.2.2.1",
                "2",
                "3",
                CodedValue::new("110181", DCM, "SOP Class UID"),
            )
        }],
    };
    AuditMessage {
        event: Some(EventIdentification {
            event_id: Some(CodedValue::new(spec.event_id.0, DCM, spec.event_id.1)),
            event_type_codes: spec
                .event_type
                .map(|t| CodedValue::new(t, IHE_TRANSACTIONS, t))
                .into_iter()
                .collect(),
            action_code: Some(spec.actions[0].into()),
            date_time: Some("2026-12-07T01:02:03.123+01:00".into()),
            outcome_indicator: Some("0".into()),
            ..EventIdentification::default()
        }),
        active_participants: vec![
            participant("http://client/ws", "110153", src_req),
            participant("http://server/ws", "110152", dst_req),
        ],
        audit_sources: vec![AuditSourceIdentification {
            audit_source_id: Some("node-1".into()),
            audit_enterprise_site_id: None,
            type_codes: vec![CodedValue::new("4", DCM, "Application Server Process")],
        }],
        participant_objects: objects,
        ..AuditMessage::default()
    }
}

fn ids(v: &[Violation]) -> Vec<&'static str> {
    let mut ids: Vec<_> = v.iter().map(|x| x.rule).collect();
    ids.dedup();
    ids
}

fn wire(payload: &[u8]) -> Vec<u8> {
    SyslogMessage::audit("2026-12-07T01:02:03Z", "host", "app", payload.to_vec()).to_bytes()
}

fn syslog_ids(bytes: &[u8]) -> Vec<&'static str> {
    ids(&validate_syslog(bytes, &Rules::default()).violations)
}

#[test]
fn a_good_audit_message_over_syslog_passes() {
    let xml = good(Audited::Iti18, Side::Initiator).to_xml();
    let j = validate_syslog(&wire(xml.as_bytes()), &Rules::default());
    assert!(j.violations.is_empty(), "{:?}", j.violations);
    assert!(j.audit.is_some());
}

#[test]
fn each_transport_rule_fires_on_its_defect() {
    let xml = good(Audited::Iti18, Side::Initiator).to_xml();
    let ok = wire(xml.as_bytes());
    let s = String::from_utf8_lossy(&ok).into_owned();
    // ATNA-SYSLOG-01: not RFC 5424.
    assert_eq!(
        syslog_ids(b"<85>1 2026-12-07 host app - x -"),
        vec![HEADER.id]
    );
    // ATNA-SYSLOG-02: framing errors.
    let f = framing(&FrameError::Unframed);
    assert_eq!(f.rule, FRAMING.id);
    // ATNA-SYSLOG-03: MSGID; accepted when the deployment says so.
    let other = s.replacen("IHE+RFC-3881", "IHE+DICOM", 1);
    assert_eq!(syslog_ids(other.as_bytes()), vec![MSGID.id]);
    let accepting = Rules {
        accepted_msgids: vec!["IHE+DICOM".into()],
    };
    assert!(validate_syslog(other.as_bytes(), &accepting)
        .violations
        .is_empty());
    // A message that is no audit message is judged on its MSG, not on its MSGID.
    assert_eq!(
        syslog_ids(b"<85>1 - h a - OTHER - plain text"),
        vec![BOM.id, PAYLOAD.id]
    );
    // ATNA-SYSLOG-04 and -05: PRI 13 is facility 1 (user), severity 5; PRI 82 is facility 10,
    // severity 2.
    assert_eq!(
        syslog_ids(s.replacen("<85>", "<13>", 1).as_bytes()),
        vec![FACILITY.id]
    );
    assert_eq!(
        syslog_ids(s.replacen("<85>", "<82>", 1).as_bytes()),
        vec![SEVERITY.id]
    );
    assert!(syslog_ids(s.replacen("<85>", "<84>", 1).as_bytes()).is_empty());
    // ATNA-SYSLOG-06: no MSG, not XML, a DTD, not an AuditMessage.
    assert_eq!(
        syslog_ids(b"<85>1 - h a - IHE+RFC-3881 -"),
        vec![PAYLOAD.id]
    );
    assert_eq!(syslog_ids(&wire(b"<AuditMessage>")), vec![PAYLOAD.id]);
    let bomb = br#"<!DOCTYPE a [<!ENTITY x "x">]><AuditMessage>&x;</AuditMessage>"#;
    assert_eq!(syslog_ids(&wire(bomb)), vec![PAYLOAD.id]);
    assert_eq!(syslog_ids(&wire(b"<Audit/>")), vec![PAYLOAD.id]);
    // Invalid UTF-8 after a BOM breaks RFC 5424 itself.
    assert_eq!(
        syslog_ids(&wire(b"<AuditMessage>\xC3</AuditMessage>")),
        vec![HEADER.id]
    );
    // ATNA-SYSLOG-07: UTF-8 MSG without BOM.
    let mut no_bom =
        SyslogMessage::audit("2026-12-07T01:02:03Z", "h", "a", xml.clone().into_bytes());
    no_bom.bom = false;
    assert_eq!(syslog_ids(&no_bom.to_bytes()), vec![BOM.id]);
}

fn ev(m: &mut AuditMessage) -> &mut EventIdentification {
    m.event.get_or_insert_with(EventIdentification::default)
}

fn schema_ids(m: &AuditMessage) -> Vec<&'static str> {
    ids(&validate_message(m))
}

#[test]
fn each_schema_rule_fires_on_its_defect() {
    let good = good(Audited::Iti18, Side::Initiator);
    assert!(schema_ids(&good).is_empty());
    let mutate = |f: &dyn Fn(&mut AuditMessage)| {
        let mut m = good.clone();
        f(&mut m);
        schema_ids(&m)
    };
    assert_eq!(mutate(&|m| m.event = None), vec![EVENT.id]);
    assert_eq!(mutate(&|m| ev(m).date_time = None), vec![EVENT.id]);
    assert_eq!(mutate(&|m| ev(m).outcome_indicator = None), vec![EVENT.id]);
    assert_eq!(
        mutate(&|m| ev(m).action_code = Some("X".into())),
        vec![ACTION.id]
    );
    assert!(mutate(&|m| ev(m).action_code = None).is_empty());
    assert_eq!(
        mutate(&|m| ev(m).outcome_indicator = Some("1".into())),
        vec![OUTCOME.id]
    );
    for bad in [
        "2026-12-07",
        "2026-12-07 01:02:03",
        "2026-13-07T01:02:03Z",
        "07/12/2026",
    ] {
        assert_eq!(
            mutate(&|m| ev(m).date_time = Some(bad.into())),
            vec![DATETIME.id],
            "{bad}"
        );
    }
    for ok in [
        "2026-12-07T01:02:03",
        "2026-12-07T01:02:03.5Z",
        "2026-12-07T24:00:00-05:00",
    ] {
        assert!(is_xs_datetime(ok), "{ok}");
    }
    assert_eq!(
        mutate(&|m| ev(m).event_id.as_mut().unwrap().original_text = None),
        vec![CODED.id]
    );
    assert_eq!(
        mutate(&|m| ev(m).event_id.as_mut().unwrap().rfc3881_code = true),
        vec![CODED.id]
    );
    assert_eq!(
        mutate(&|m| ev(m).event_id = Some(CodedValue::new("110112", "99LOCAL", "Query"))),
        vec![EVENT_ID_DCM.id]
    );
    assert_eq!(
        mutate(&|m| m.active_participants.clear()),
        vec![PARTICIPANT.id]
    );
    assert_eq!(
        mutate(&|m| m.active_participants[0].user_id = None),
        vec![PARTICIPANT.id]
    );
    assert_eq!(
        mutate(&|m| m.active_participants[0].user_is_requestor = Some("yes".into())),
        vec![PARTICIPANT.id]
    );
    assert_eq!(
        mutate(&|m| m.active_participants[0].network_access_point_type_code = Some("6".into())),
        vec![NAP.id]
    );
    assert_eq!(
        mutate(&|m| m.active_participants[0].network_access_point_id = None),
        vec![NAP.id]
    );
    assert_eq!(mutate(&|m| m.audit_sources.clear()), vec![SOURCE.id]);
    assert_eq!(
        mutate(&|m| m.audit_sources[0].audit_source_id = None),
        vec![SOURCE.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[0].id = None),
        vec![OBJECT.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[0].id_type_code = None),
        vec![OBJECT.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[0].type_code = Some("5".into())),
        vec![OBJECT.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[0].type_code_role = Some("25".into())),
        vec![OBJECT.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[0].data_life_cycle = Some("0".into())),
        vec![OBJECT.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[1].query = Some("not base64!".into())),
        vec![BASE64.id]
    );
    assert_eq!(
        mutate(&|m| m.participant_objects[1].details[0].1 = "%%%".into()),
        vec![BASE64.id]
    );
    assert_eq!(
        mutate(&|m| m.unexpected.push("AuditMessage/Extra".into())),
        vec![EXTRA.id]
    );
}

#[test]
fn schema_levels_follow_the_readings() {
    assert_eq!(EXTRA.level, crate::checks::Level::Should);
    assert_eq!(BOM.level, crate::checks::Level::Should);
    assert_eq!(MSGID.level, crate::checks::Level::Shall);
    // Every rule id is unique.
    let mut all: Vec<_> = RULES
        .iter()
        .chain(transaction::RULES)
        .map(|r| r.id)
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[test]
fn every_transaction_table_accepts_its_good_message() {
    for audited in Audited::ALL {
        for side in [Side::Initiator, Side::Responder] {
            let m = good(audited, side);
            let v = transaction::validate(&m, audited, side, &AuditExpect::default());
            assert!(v.is_empty(), "{audited:?} {side:?}: {v:?}");
            assert!(validate_message(&m).is_empty(), "{audited:?} {side:?}");
        }
    }
}

fn txn_ids(m: &AuditMessage, a: Audited, s: Side, e: &AuditExpect) -> Vec<&'static str> {
    ids(&transaction::validate(m, a, s, e))
}

#[test]
fn each_transaction_rule_fires_on_its_defect() {
    use transaction::*;
    let none = AuditExpect::default();
    let q = good(Audited::Iti18, Side::Initiator);
    let mutate = |a: Audited, s: Side, e: &AuditExpect, f: &dyn Fn(&mut AuditMessage)| {
        let mut m = good(a, s);
        f(&mut m);
        txn_ids(&m, a, s, e)
    };
    let i18 = Audited::Iti18;
    let ini = Side::Initiator;
    // ATNA-TXN-01: an Export is not a Query.
    assert_eq!(
        mutate(i18, ini, &none, &|m| m.event.as_mut().unwrap().event_id =
            Some(CodedValue::new("110106", DCM, "Export"))),
        vec![EVENT_ID.id]
    );
    // The repository's import is not the source's export.
    let import = good(Audited::Iti41, Side::Responder);
    assert_eq!(
        txn_ids(&import, Audited::Iti41, Side::Initiator, &none),
        vec![EVENT_ID.id, ACTION.id]
    );
    // ATNA-TXN-02.
    assert_eq!(
        mutate(i18, ini, &none, &|m| m
            .event
            .as_mut()
            .unwrap()
            .action_code = Some("R".into())),
        vec![ACTION.id]
    );
    // ATNA-TXN-03: no EventTypeCode, or another transaction's.
    assert_eq!(
        mutate(i18, ini, &none, &|m| m
            .event
            .as_mut()
            .unwrap()
            .event_type_codes
            .clear()),
        vec![EVENT_TYPE.id]
    );
    assert_eq!(
        mutate(i18, ini, &none, &|m| m
            .event
            .as_mut()
            .unwrap()
            .event_type_codes =
            vec![CodedValue::new(
                "ITI-43",
                IHE_TRANSACTIONS,
                "Retrieve Document Set"
            )]),
        vec![EVENT_TYPE.id]
    );
    // ATNA-TXN-04: no Destination; two Sources.
    assert_eq!(
        mutate(i18, ini, &none, &|m| {
            m.active_participants.pop();
        }),
        vec![ROLES.id]
    );
    assert_eq!(
        mutate(i18, ini, &none, &|m| m.active_participants[1]
            .role_id_codes[0]
            .code = "110153".into()),
        vec![ROLES.id, ROLES.id]
            .into_iter()
            .take(1)
            .collect::<Vec<_>>()
    );
    // ATNA-TXN-05: the registry claims to be the requestor.
    assert_eq!(
        mutate(i18, ini, &none, &|m| m.active_participants[1]
            .user_is_requestor =
            Some("true".into())),
        vec![REQUESTOR.id]
    );
    // ITI-43: the repository is the Source and must not be the requestor.
    assert_eq!(
        mutate(Audited::Iti43, ini, &none, &|m| m.active_participants[0]
            .user_is_requestor =
            Some("true".into())),
        vec![REQUESTOR.id]
    );
    // ATNA-TXN-06.
    assert_eq!(
        mutate(i18, ini, &none, &|m| m.active_participants[0]
            .network_access_point_type_code =
            Some("5".into())),
        vec![NAP.id]
    );
    assert!(mutate(Audited::DicomQuery, ini, &none, &|m| m
        .active_participants[0]
        .network_access_point_id =
        None)
    .is_empty());
    // ATNA-TXN-07: required for ITI-41; and it must be this exchange's patient.
    assert_eq!(
        mutate(Audited::Iti41, ini, &none, &|m| {
            m.participant_objects.remove(0);
        }),
        vec![PATIENT.id]
    );
    let pat = |p: &str| AuditExpect {
        patient_id: Some(p.into()),
        ..AuditExpect::default()
    };
    assert!(txn_ids(&q, i18, ini, &pat("PAT-1^^^&1.2.3&ISO")).is_empty());
    assert!(txn_ids(&q, i18, ini, &pat("PAT-1")).is_empty());
    assert_eq!(
        txn_ids(&q, i18, ini, &pat("PAT-2^^^&1.2.3&ISO")),
        vec![PATIENT.id]
    );
    assert_eq!(
        txn_ids(&q, i18, ini, &pat("PAT-1^^^&9.9&ISO")),
        vec![PATIENT.id]
    );
    // ATNA-TXN-08.
    assert_eq!(
        mutate(Audited::Iti41, ini, &none, &|m| m.participant_objects[1]
            .type_code_role =
            Some("3".into())),
        vec![SUBMISSION_SET.id]
    );
    let ss = AuditExpect {
        submission_set: Some("1.2.3.4.6".into()),
        ..AuditExpect::default()
    };
    assert_eq!(
        txn_ids(&good(Audited::Iti41, ini), Audited::Iti41, ini, &ss),
        vec![SUBMISSION_SET.id]
    );
    // ATNA-TXN-09: no query text; query not base64; another query id.
    assert_eq!(
        mutate(i18, ini, &none, &|m| m.participant_objects[1].query = None),
        vec![QUERY.id]
    );
    assert_eq!(
        mutate(Audited::DicomQuery, ini, &none, &|m| m
            .participant_objects[0]
            .query =
            Some("***".into())),
        vec![QUERY.id]
    );
    let qid = AuditExpect {
        query_id: Some("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3".into()),
        ..AuditExpect::default()
    };
    assert_eq!(txn_ids(&q, i18, ini, &qid), vec![QUERY.id]);
    // ATNA-TXN-10: no Repository Unique Id; a document of the exchange missing.
    assert_eq!(
        mutate(Audited::Iti43, ini, &none, &|m| m.participant_objects[0]
            .details
            .clear()),
        vec![DOCUMENT.id]
    );
    let docs = AuditExpect {
        documents: vec!["1.2.3.9".into(), "1.2.3.10".into()],
        ..AuditExpect::default()
    };
    assert_eq!(
        txn_ids(&good(Audited::Iti43, ini), Audited::Iti43, ini, &docs),
        vec![DOCUMENT.id]
    );
    // ATNA-TXN-11: study ID type wrong; a study of the exchange missing.
    let dit = Audited::DicomInstancesTransferred;
    assert_eq!(
        mutate(dit, ini, &none, &|m| m.participant_objects[1]
            .id_type_code =
            Some(CodedValue::new("110181", DCM, "SOP Class UID"))),
        vec![STUDY.id]
    );
    let st = AuditExpect {
        studies: vec!["1.2.3.8".into()],
        ..AuditExpect::default()
    };
    assert_eq!(txn_ids(&good(dit, ini), dit, ini, &st), vec![STUDY.id]);
}

#[test]
fn uncertain_tables_judge_their_event_rules_as_should() {
    let m = good(Audited::Rad69, Side::Responder);
    let mut wrong = m.clone();
    wrong.event.as_mut().unwrap().event_id = Some(CodedValue::new("110106", DCM, "Export"));
    let v = transaction::validate(
        &wrong,
        Audited::Rad69,
        Side::Responder,
        &AuditExpect::default(),
    );
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, transaction::EVENT_ID.id);
    assert_eq!(v[0].level, crate::checks::Level::Should);
}

#[test]
fn every_rule_is_a_check_naming_catalogue_entries_that_exist() {
    use crate::requirements::Catalogue;
    let shipped = Catalogue::embedded().unwrap();
    let rules: Vec<_> = RULES
        .iter()
        .chain(transaction::RULES)
        .chain(super::fhir::RULES)
        .collect();
    assert_eq!(CATALOGUE_IDS.len(), rules.len());
    assert_eq!(CHECKS.len(), rules.len());
    for r in &rules {
        let ids = CATALOGUE_IDS
            .iter()
            .find(|(id, _)| *id == r.id)
            .unwrap_or_else(|| panic!("{} has no catalogue ids", r.id));
        for id in ids.1 {
            assert!(
                shipped.get(id).is_some(),
                "{}: {id} is not in the catalogue",
                r.id
            );
        }
        let c = crate::checks::by_id(r.id).unwrap_or_else(|| panic!("{} is not registered", r.id));
        assert_eq!(c.requirements, ids.1, "{}", r.id);
        assert_eq!(c.level, r.level, "{}", r.id);
        assert_eq!(c.title, r.title, "{}", r.id);
    }
}

fn facts() -> transaction::AuditFacts {
    transaction::AuditFacts {
        date_time: "2026-12-07T01:02:03Z".into(),
        outcome: "0".into(),
        source: transaction::Party {
            user_id: "http://client/ws".into(),
            alternative_user_id: Some("42".into()),
            network_access_point: Some("192.0.2.1".into()),
        },
        destination: transaction::Party {
            user_id: "http://server/ws".into(),
            alternative_user_id: None,
            network_access_point: Some("server.example".into()),
        },
        audit_source_id: "harness".into(),
        patient_id: Some("PAT-1^^^&1.2.3&ISO".into()),
        submission_set: Some("1.2.3.4.5".into()),
        query_id: Some("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d".into()),
        query: b"<query/>".to_vec(),
        documents: vec![("1.2.3.9".into(), "1.2.3".into())],
        studies: vec!["1.2.3.7".into()],
    }
}

#[test]
fn built_messages_pass_their_table_and_name_their_exchange() {
    let f = facts();
    for audited in Audited::ALL {
        for side in [Side::Initiator, Side::Responder] {
            let m = transaction::build(audited, side, &f);
            let v = transaction::validate(&m, audited, side, &f.expect());
            assert!(v.is_empty(), "{audited:?} {side:?}: {v:?}");
            let xml = m.to_xml();
            let back = crate::model::audit::dicom::parse(xml.as_bytes()).unwrap();
            assert!(validate_message(&back).is_empty(), "{audited:?} {side:?}");
            assert!(transaction::validate(&back, audited, side, &f.expect()).is_empty());
        }
    }
    // Built for another exchange, it is not the audit of this one.
    let m = transaction::build(Audited::Iti43, Side::Initiator, &f);
    let other = transaction::AuditExpect {
        documents: vec!["9.9.9".into()],
        ..f.expect()
    };
    assert_eq!(
        txn_ids(&m, Audited::Iti43, Side::Initiator, &other),
        vec![transaction::DOCUMENT.id]
    );
}

#[test]
fn a_balp_style_fhir_query_audit_is_judged_by_type_and_role() {
    let json = br#"{
      "resourceType": "AuditEvent",
      "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110112", "display": "Query"},
      "subtype": [{"system": "urn:ihe:event-type-code", "code": "ITI-67"}],
      "action": "E", "recorded": "2026-12-07T01:02:03Z", "outcome": "0",
      "agent": [
        {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153"}]},
         "who": {"display": "client"}, "requestor": true},
        {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152"}]},
         "who": {"display": "https://server/fhir"}, "requestor": false}
      ],
      "source": {"observer": {"display": "server"}},
      "entity": [{"type": {"code": "2"}, "role": {"code": "24"}, "query": "cGF0aWVudD0x"}]
    }"#;
    let m = crate::model::audit::fhir::parse(json).unwrap();
    assert!(
        validate_message(&m).is_empty(),
        "{:?}",
        validate_message(&m)
    );
    let none = AuditExpect::default();
    assert!(txn_ids(&m, Audited::Iti67, Side::Responder, &none).is_empty());
    // An ITI-66 audit is not this one; MHD readings are SHOULD.
    let v = transaction::validate(&m, Audited::Iti66, Side::Responder, &none);
    assert_eq!(ids(&v), vec![transaction::EVENT_TYPE.id]);
    assert_eq!(v[0].level, crate::checks::Level::Should);
}

#[test]
fn judge_runs_every_rule_family_on_raw_bytes() {
    let f = facts();
    let m = transaction::build(Audited::Iti18, Side::Responder, &f);
    let raw = wire(m.to_xml().as_bytes());
    let mut e = AtnaExpect {
        audited: Some((Audited::Iti18, Side::Responder)),
        exchange: f.expect(),
        ..AtnaExpect::default()
    };
    assert!(judge(&raw, &e).is_empty());
    e.exchange.patient_id = Some("OTHER^^^&1.2.3&ISO".into());
    assert_eq!(ids(&judge(&raw, &e)), vec![transaction::PATIENT.id]);
    // The same message as a FHIR carrier is not JSON.
    e.carrier = Carrier::FhirJson;
    assert_eq!(ids(&judge(&raw, &e)), vec![super::fhir::RESOURCE.id]);
}
