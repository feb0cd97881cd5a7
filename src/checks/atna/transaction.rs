//! What the audit message of one transaction must say: the audit tables of IHE ITI TF-2
//! (§3.18.5.1 Registry Stored Query, §3.41.5.1 Provide and Register Document Set-b, §3.43.5.1
//! Retrieve Document Set), of RAD TF-2 for RAD-68 and RAD-69, and of DICOM PS3.15 §A.5.3.7 (DICOM
//! Instances Transferred, for C-STORE and C-MOVE/C-GET) and §A.5.3.10 (Query, for C-FIND).
//!
//! [`validate`] judges an [`AuditMessage`] against the [`Spec`] of a transaction and side, and
//! against what the harness knows of the exchange it audits ([`AuditExpect`]: the patient, the
//! submission set, the query, the documents or studies): an audit of another exchange is not the
//! audit of this one.
//!
//! The MHD transactions (ITI-65..68) are judged on the event rules of the XDS transaction each
//! mirrors, typed with the MHD transaction, as SHOULD: their audit tables were not re-read.
//!
//! [`build`] writes the audit message a conformant actor sends for a transaction from the facts
//! of the exchange ([`AuditFacts`]): what the harness sends as a Secure Node, and what the
//! embedded reference can send to be judged.
//!
//! Readings: the ITI tables were read as the Gazelle assertions and IPF (oehf/ipf,
//! `commons/ihe/xds/.../audit`) apply them, the responder's `UserIsRequestor` false and the
//! network access points of both sides as the IHE audit table templates (wiki.ihe.net
//! `Template:AuditLogParticipant`: "EV FALSE"; the access point "shall be present") state them; the RAD-68 and RAD-69 tables were not at hand in the
//! pinned RAD TF-2 revision, so their event rules are those IPF applies (RAD-68 as ITI-41 with
//! EventTypeCode RAD-68, RAD-69 as DICOM Instances Transferred, action R) and are judged SHOULD
//! ([`Spec::uncertain`]) until the text is read.

use crate::checks::rule::{rules, Rule, Violation};
use crate::checks::Level;
use base64::Engine;

use crate::model::audit::{
    ActiveParticipant, AuditMessage, AuditSourceIdentification, CodedValue, EventIdentification,
    ParticipantObject, DCM, IHE_TRANSACTIONS,
};

rules! {
    EVENT_ID = ("ATNA-TXN-01", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1; RAD TF-2 4.68.5, 4.69.5; DICOM PS3.15 §A.5.3.7, §A.5.3.10", Shall,
        "The EventID is the one the transaction's audit table names for the auditing actor");
    ACTION = ("ATNA-TXN-02", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1; RAD TF-2 4.68.5, 4.69.5; DICOM PS3.15 §A.5.3.7, §A.5.3.10", Shall,
        "The EventActionCode is the one the transaction's audit table names");
    EVENT_TYPE = ("ATNA-TXN-03", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1; RAD TF-2 4.68.5, 4.69.5", Shall,
        "An EventTypeCode names the transaction (its id, codeSystemName IHE Transactions)");
    ROLES = ("ATNA-TXN-04", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1; DICOM PS3.15 §A.5.3.7, §A.5.3.10", Shall,
        "Exactly one active participant is the Source (RoleIDCode 110153) and one the Destination (110152)");
    REQUESTOR = ("ATNA-TXN-05", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1", Shall,
        "The responding side's active participant has UserIsRequestor false");
    NAP = ("ATNA-TXN-06", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1", Shall,
        "Source and Destination carry a NetworkAccessPointID with NetworkAccessPointTypeCode 1 (machine name) or 2 (IP address)");
    PATIENT = ("ATNA-TXN-07", "ITI TF-2 3.18.5.1, 3.41.5.1, 3.43.5.1; DICOM PS3.15 §A.5.3.7", Shall,
        "The patient participant object (type 1, role 1, IDTypeCode 2) is present where the table requires it and names the patient of the exchange");
    SUBMISSION_SET = ("ATNA-TXN-08", "ITI TF-2 3.41.5.1; RAD TF-2 4.68.5", Shall,
        "The submission set participant object (type 2, role 20, IDTypeCode urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd) names the submission set of the exchange");
    QUERY = ("ATNA-TXN-09", "ITI TF-2 3.18.5.1; DICOM PS3.15 §A.5.3.10", Shall,
        "The query participant object carries the query, base64, in ParticipantObjectQuery and identifies the query of the exchange");
    DOCUMENT = ("ATNA-TXN-10", "ITI TF-2 3.43.5.1", Shall,
        "Each document of the exchange is a participant object (type 2, role 3, IDTypeCode 9) with its Repository Unique Id detail");
    STUDY = ("ATNA-TXN-11", "DICOM PS3.15 §A.5.3.7; RAD TF-2 4.69.5", Shall,
        "Each study of the exchange is a participant object (type 2, role 3, IDTypeCode 110180) identified by its Study Instance UID");
}

/// The transactions whose audit is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audited {
    /// ITI-18 Registry Stored Query.
    Iti18,
    /// ITI-41 Provide and Register Document Set-b.
    Iti41,
    /// RAD-68 Provide and Register Imaging Document Set – MTOM/XOP.
    Rad68,
    /// ITI-43 Retrieve Document Set.
    Iti43,
    /// RAD-69 Retrieve Imaging Document Set.
    Rad69,
    /// DICOM C-STORE (and the stores of C-MOVE/C-GET): DICOM Instances Transferred.
    DicomInstancesTransferred,
    /// DICOM C-FIND: Query.
    DicomQuery,
    /// ITI-65 Provide Document Bundle (MHD).
    Iti65,
    /// ITI-66 Find Document Lists (MHD).
    Iti66,
    /// ITI-67 Find Document References (MHD).
    Iti67,
    /// ITI-68 Retrieve Document (MHD).
    Iti68,
}

impl Audited {
    /// Every audited transaction.
    pub const ALL: [Audited; 11] = [
        Audited::Iti18,
        Audited::Iti41,
        Audited::Rad68,
        Audited::Iti43,
        Audited::Rad69,
        Audited::DicomInstancesTransferred,
        Audited::DicomQuery,
        Audited::Iti65,
        Audited::Iti66,
        Audited::Iti67,
        Audited::Iti68,
    ];
}

/// Which side of the transaction sent the audit message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The initiator (Document Consumer, Document Source, Imaging Document Consumer, SCU).
    Initiator,
    /// The responder (Registry, Repository, Imaging Document Source, SCP).
    Responder,
}

/// Whether a participant object must be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// At least one (M).
    Required,
    /// Zero or more; judged only when present or when the exchange names it.
    Optional,
}

/// A kind of participant object a table asks for.
#[derive(Debug, Clone, Copy)]
pub struct ObjectSpec {
    /// The rule that judges it.
    pub rule: Rule,
    /// What it is, for messages.
    pub name: &'static str,
    /// ParticipantObjectTypeCode.
    pub type_code: &'static str,
    /// ParticipantObjectTypeCodeRole.
    pub role: &'static str,
    /// ParticipantObjectIDTypeCode csd-code.
    pub id_type: &'static str,
    /// Required or optional.
    pub presence: Presence,
    /// ParticipantObjectQuery is required.
    pub query: bool,
    /// A ParticipantObjectDetail of this type is required.
    pub detail: Option<&'static str>,
}

/// One row of the audit tables: what the auditing side's message holds.
#[derive(Debug, Clone)]
pub struct Spec {
    /// EventID csd-code (DCM) and its meaning.
    pub event_id: (&'static str, &'static str),
    /// The EventActionCodes allowed.
    pub actions: &'static [&'static str],
    /// The EventTypeCode required (codeSystemName IHE Transactions), if any.
    pub event_type: Option<&'static str>,
    /// RoleIDCode of the responder's participant (UserIsRequestor false), when the table says.
    pub responder_role: Option<&'static str>,
    /// The table requires network access points on Source and Destination.
    pub network_access_points: bool,
    /// The participant objects.
    pub objects: Vec<ObjectSpec>,
    /// The reading rests on IPF, not on the text: the event rules are judged SHOULD.
    pub uncertain: bool,
}

/// SOURCE Role ID (DCM 110153).
pub const SOURCE_ROLE: &str = "110153";
/// Destination Role ID (DCM 110152).
pub const DESTINATION_ROLE: &str = "110152";
/// The XDS submission set classification node, ParticipantObjectIDTypeCode of a submission set.
pub const SUBMISSION_SET_ID_TYPE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";

fn patient(presence: Presence) -> ObjectSpec {
    ObjectSpec {
        rule: PATIENT,
        name: "patient",
        type_code: "1",
        role: "1",
        id_type: "2",
        presence,
        query: false,
        detail: None,
    }
}

fn submission_set() -> ObjectSpec {
    ObjectSpec {
        rule: SUBMISSION_SET,
        name: "submission set",
        type_code: "2",
        role: "20",
        id_type: SUBMISSION_SET_ID_TYPE,
        presence: Presence::Required,
        query: false,
        detail: None,
    }
}

fn study() -> ObjectSpec {
    ObjectSpec {
        rule: STUDY,
        name: "study",
        type_code: "2",
        role: "3",
        id_type: "110180",
        presence: Presence::Required,
        query: false,
        detail: None,
    }
}

impl Spec {
    /// The table row for `audited` as audited by `side`.
    pub fn of(audited: Audited, side: Side) -> Spec {
        let export = ("110106", "Export");
        let import = ("110107", "Import");
        match audited {
            Audited::Iti18 => Spec {
                event_id: ("110112", "Query"),
                actions: &["E"],
                event_type: Some("ITI-18"),
                responder_role: Some(DESTINATION_ROLE),
                network_access_points: true,
                objects: vec![
                    patient(Presence::Optional),
                    ObjectSpec {
                        rule: QUERY,
                        name: "query",
                        type_code: "2",
                        role: "24",
                        id_type: "ITI-18",
                        presence: Presence::Required,
                        query: true,
                        detail: None,
                    },
                ],
                uncertain: false,
            },
            Audited::Iti41 | Audited::Rad68 => Spec {
                event_id: if side == Side::Initiator {
                    export
                } else {
                    import
                },
                actions: if side == Side::Initiator {
                    &["R"]
                } else {
                    &["C"]
                },
                event_type: Some(if audited == Audited::Iti41 {
                    "ITI-41"
                } else {
                    "RAD-68"
                }),
                responder_role: Some(DESTINATION_ROLE),
                network_access_points: true,
                objects: vec![patient(Presence::Required), submission_set()],
                uncertain: audited == Audited::Rad68,
            },
            Audited::Iti43 => Spec {
                event_id: if side == Side::Initiator {
                    import
                } else {
                    export
                },
                actions: if side == Side::Initiator {
                    &["C"]
                } else {
                    &["R"]
                },
                event_type: Some("ITI-43"),
                responder_role: Some(SOURCE_ROLE),
                network_access_points: true,
                objects: vec![
                    patient(Presence::Optional),
                    ObjectSpec {
                        rule: DOCUMENT,
                        name: "document",
                        type_code: "2",
                        role: "3",
                        id_type: "9",
                        presence: Presence::Required,
                        query: false,
                        detail: Some("Repository Unique Id"),
                    },
                ],
                uncertain: false,
            },
            Audited::Rad69 => Spec {
                event_id: ("110104", "DICOM Instances Transferred"),
                actions: &["R"],
                event_type: Some("RAD-69"),
                responder_role: Some(SOURCE_ROLE),
                network_access_points: true,
                objects: vec![patient(Presence::Optional), study()],
                uncertain: true,
            },
            Audited::DicomInstancesTransferred => Spec {
                event_id: ("110104", "DICOM Instances Transferred"),
                actions: &["C", "R", "U"],
                event_type: None,
                responder_role: None,
                network_access_points: false,
                objects: vec![patient(Presence::Required), study()],
                uncertain: false,
            },
            // MHD 4.2.x names its audit events after BALP's patterns: the events are those of
            // ITI-41, ITI-18 and ITI-43 with the MHD transaction as type. Not re-read in the
            // MHD text for this revision: judged SHOULD.
            Audited::Iti65 => Spec {
                event_type: Some("ITI-65"),
                network_access_points: false,
                uncertain: true,
                ..Spec::of(Audited::Iti41, side)
            },
            Audited::Iti66 | Audited::Iti67 => Spec {
                event_id: ("110112", "Query"),
                actions: &["E"],
                event_type: Some(if audited == Audited::Iti66 {
                    "ITI-66"
                } else {
                    "ITI-67"
                }),
                responder_role: Some(DESTINATION_ROLE),
                network_access_points: false,
                objects: vec![
                    patient(Presence::Optional),
                    ObjectSpec {
                        rule: QUERY,
                        name: "query",
                        type_code: "2",
                        role: "24",
                        id_type: if audited == Audited::Iti66 {
                            "ITI-66"
                        } else {
                            "ITI-67"
                        },
                        presence: Presence::Required,
                        query: true,
                        detail: None,
                    },
                ],
                uncertain: true,
            },
            Audited::Iti68 => Spec {
                event_type: Some("ITI-68"),
                network_access_points: false,
                objects: vec![
                    patient(Presence::Optional),
                    ObjectSpec {
                        rule: DOCUMENT,
                        name: "document",
                        type_code: "2",
                        role: "3",
                        id_type: "9",
                        presence: Presence::Required,
                        query: false,
                        detail: None,
                    },
                ],
                uncertain: true,
                ..Spec::of(Audited::Iti43, side)
            },
            Audited::DicomQuery => Spec {
                event_id: ("110112", "Query"),
                actions: &["E"],
                event_type: None,
                responder_role: None,
                network_access_points: false,
                objects: vec![ObjectSpec {
                    rule: QUERY,
                    name: "SOP queried",
                    type_code: "2",
                    role: "3",
                    id_type: "110181",
                    presence: Presence::Required,
                    query: true,
                    detail: None,
                }],
                uncertain: false,
            },
        }
    }
}

/// What the harness knows of the audited exchange; empty fields are not compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditExpect {
    /// The patient (CX, `id^^^&oid&ISO`, or the bare id).
    pub patient_id: Option<String>,
    /// The submission set's uniqueId.
    pub submission_set: Option<String>,
    /// The stored query id (ITI-18) or the SOP Class queried (C-FIND).
    pub query_id: Option<String>,
    /// Every document uniqueId retrieved.
    pub documents: Vec<String>,
    /// Every Study Instance UID transferred.
    pub studies: Vec<String>,
}

/// The id part and the assigning authority OID of a CX, for comparing patient ids written with
/// or without the authority's type (`&ISO`).
fn cx_key(cx: &str) -> (String, Option<String>) {
    let mut parts = cx.trim().split('^');
    let id = parts.next().unwrap_or("").to_string();
    let authority = parts
        .nth(2)
        .and_then(|a| a.split('&').nth(1))
        .filter(|o| !o.is_empty())
        .map(str::to_string);
    (id, authority)
}

fn same_patient(found: &str, expected: &str) -> bool {
    let (fid, fauth) = cx_key(found);
    let (eid, eauth) = cx_key(expected);
    fid == eid && (fauth.is_none() || eauth.is_none() || fauth == eauth)
}

fn at_level(rule: &Rule, uncertain: bool) -> Rule {
    if uncertain {
        Rule {
            level: Level::Should,
            ..*rule
        }
    } else {
        *rule
    }
}

fn expected_ids<'a>(spec: &ObjectSpec, expect: &'a AuditExpect) -> Vec<&'a str> {
    match spec.rule.id {
        id if id == PATIENT.id => expect.patient_id.as_deref().into_iter().collect(),
        id if id == SUBMISSION_SET.id => expect.submission_set.as_deref().into_iter().collect(),
        id if id == QUERY.id => expect.query_id.as_deref().into_iter().collect(),
        id if id == DOCUMENT.id => expect.documents.iter().map(String::as_str).collect(),
        id if id == STUDY.id => expect.studies.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

fn judge_objects(
    m: &AuditMessage,
    spec: &ObjectSpec,
    expect: &AuditExpect,
    v: &mut Vec<Violation>,
) {
    let found: Vec<&ParticipantObject> = m.objects(spec.type_code, spec.role).collect();
    // A FHIR AuditEvent names its entities by reference and rarely types the identifier: type and
    // role alone tell the kind there.
    let fhir = m.encoding == crate::model::audit::Encoding::FhirJson;
    let of_kind: Vec<&ParticipantObject> = found
        .iter()
        .copied()
        .filter(|o| {
            fhir || o
                .id_type_code
                .as_ref()
                .is_some_and(|c| c.code == spec.id_type)
        })
        .collect();
    let wanted = expected_ids(spec, expect);
    if of_kind.is_empty() {
        if spec.presence == Presence::Required || !wanted.is_empty() {
            let near = if found.is_empty() {
                String::new()
            } else {
                format!(
                    " (objects of type {} role {} have IDTypeCode {})",
                    spec.type_code,
                    spec.role,
                    found
                        .iter()
                        .map(|o| o
                            .id_type_code
                            .as_ref()
                            .map(|c| c.code.clone())
                            .unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            v.push(Violation::of(
                &spec.rule,
                format!(
                    "no {} participant object (type {}, role {}, IDTypeCode {}){near}",
                    spec.name, spec.type_code, spec.role, spec.id_type
                ),
            ));
        }
        return;
    }
    for (i, o) in of_kind.iter().enumerate() {
        let at = format!("{} object {}", spec.name, i + 1);
        if spec.query {
            match o.query.as_deref().map(str::trim) {
                None | Some("") => v.push(Violation::at(
                    &spec.rule,
                    &at,
                    "ParticipantObjectQuery is missing",
                )),
                Some(q) => {
                    let compact: String = q.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                    if base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .is_err()
                    {
                        v.push(Violation::at(
                            &spec.rule,
                            &at,
                            "ParticipantObjectQuery is not base64",
                        ));
                    }
                }
            }
        }
        if let Some(d) = spec.detail {
            if !o.details.iter().any(|(t, _)| t == d) {
                v.push(Violation::at(
                    &spec.rule,
                    &at,
                    format!(
                        "no ParticipantObjectDetail of type {}",
                        crate::evidence::quote(d)
                    ),
                ));
            }
        }
    }
    for w in wanted {
        let hit = of_kind.iter().any(|o| {
            let id = o.id.as_deref().unwrap_or("");
            if spec.rule.id == PATIENT.id {
                same_patient(id, w)
            } else {
                id.trim() == w
            }
        });
        if !hit {
            v.push(Violation::of(
                &spec.rule,
                format!(
                    "no {} participant object names {} of this exchange (found {})",
                    spec.name,
                    crate::evidence::quote(w),
                    crate::evidence::quote_list(
                        of_kind.iter().map(|o| o.id.as_deref().unwrap_or(""))
                    )
                ),
            ));
        }
    }
}

/// Judge an audit message against the audit table of `audited` for `side`, and against the
/// exchange it should describe.
pub fn validate(
    m: &AuditMessage,
    audited: Audited,
    side: Side,
    expect: &AuditExpect,
) -> Vec<Violation> {
    let spec = Spec::of(audited, side);
    let mut v = Vec::new();
    let ev = m.event.as_ref();
    let event_id_rule = at_level(&EVENT_ID, spec.uncertain);
    let (code, meaning) = spec.event_id;
    match ev.and_then(|e| e.event_id.as_ref()) {
        Some(id)
            if id.code == code
                && id
                    .code_system_name
                    .as_deref()
                    .is_none_or(|s| s == "DCM" || s.ends_with("/DCM")) => {}
        Some(id) => v.push(Violation::at(
            &event_id_rule,
            "EventIdentification/EventID",
            format!("EventID is {id}; expected ({code}, DCM, \"{meaning}\")"),
        )),
        None => v.push(Violation::at(
            &event_id_rule,
            "EventIdentification/EventID",
            format!("EventID is missing; expected ({code}, DCM, \"{meaning}\")"),
        )),
    }
    let action = ev.and_then(|e| e.action_code.as_deref());
    if !action.is_some_and(|a| spec.actions.contains(&a)) {
        v.push(Violation::at(
            &at_level(&ACTION, spec.uncertain),
            "EventIdentification/@EventActionCode",
            format!(
                "EventActionCode is {}; expected {}",
                action
                    .map(crate::evidence::quote)
                    .unwrap_or_else(|| "missing".into()),
                spec.actions.join(" or ")
            ),
        ));
    }
    if let Some(t) = spec.event_type {
        let types = ev.map(|e| e.event_type_codes.as_slice()).unwrap_or(&[]);
        let ok = types.iter().any(|c| {
            c.code == t
                && c.code_system_name
                    .as_deref()
                    .is_none_or(|s| s == IHE_TRANSACTIONS || s == "urn:ihe:event-type-code")
        });
        if !ok {
            v.push(Violation::at(
                &at_level(&EVENT_TYPE, spec.uncertain),
                "EventIdentification/EventTypeCode",
                format!(
                    "no EventTypeCode ({t}, {IHE_TRANSACTIONS}); found {}",
                    if types.is_empty() {
                        "none".to_string()
                    } else {
                        types
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
            ));
        }
    }
    for (role, name) in [(SOURCE_ROLE, "Source"), (DESTINATION_ROLE, "Destination")] {
        let n = m.participants_with_role(role).count();
        if n != 1 {
            v.push(Violation::of(
                &ROLES,
                format!("{n} active participants have RoleIDCode ({role}, DCM, \"{name} Role ID\"); expected exactly 1"),
            ));
        }
    }
    if let Some(role) = spec.responder_role {
        for p in m.participants_with_role(role) {
            if p.is_requestor() != Some(false) {
                v.push(Violation::of(
                    &REQUESTOR,
                    format!(
                        "the responder ({}, RoleIDCode {role}) has UserIsRequestor {}; expected false",
                        p.user_id.as_deref().unwrap_or("no UserID"),
                        p.user_is_requestor.as_deref().unwrap_or("missing")
                    ),
                ));
            }
        }
    }
    if spec.network_access_points {
        for role in [SOURCE_ROLE, DESTINATION_ROLE] {
            for p in m.participants_with_role(role) {
                let ok = p
                    .network_access_point_id
                    .as_deref()
                    .is_some_and(|x| !x.trim().is_empty())
                    && matches!(p.network_access_point_type_code.as_deref(), Some("1" | "2"));
                if !ok {
                    v.push(Violation::of(
                        &NAP,
                        format!(
                            "participant {} (RoleIDCode {role}) has NetworkAccessPointID {} type {}; expected an id of type 1 or 2",
                            p.user_id.as_deref().unwrap_or("without UserID"),
                            p.network_access_point_id.as_deref().unwrap_or("missing"),
                            p.network_access_point_type_code.as_deref().unwrap_or("missing")
                        ),
                    ));
                }
            }
        }
    }
    for o in &spec.objects {
        judge_objects(m, o, expect, &mut v);
    }
    v
}

/// One side of the exchange, as an audit message names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// UserID: the SOAP endpoint or ReplyTo, the AE title, the FHIR base.
    pub user_id: String,
    /// AlternativeUserID (a process id).
    pub alternative_user_id: Option<String>,
    /// Host name or IP address; its type code follows from its form.
    pub network_access_point: Option<String>,
}

/// What an audit message of one exchange states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFacts {
    /// EventDateTime.
    pub date_time: String,
    /// EventOutcomeIndicator (`0` success, `4`, `8`, `12`).
    pub outcome: String,
    /// The side data flows from (RoleIDCode 110153).
    pub source: Party,
    /// The side data flows to (RoleIDCode 110152).
    pub destination: Party,
    /// AuditSourceID.
    pub audit_source_id: String,
    /// The patient (CX).
    pub patient_id: Option<String>,
    /// The submission set's uniqueId.
    pub submission_set: Option<String>,
    /// The stored query id (ITI-18), the search (MHD) or the SOP Class queried (C-FIND).
    pub query_id: Option<String>,
    /// The query as sent (AdhocQueryRequest, search URL, query data set); base64-encoded by
    /// [`build`].
    pub query: Vec<u8>,
    /// (document uniqueId, repositoryUniqueId) of each document.
    pub documents: Vec<(String, String)>,
    /// Study Instance UIDs.
    pub studies: Vec<String>,
}

impl AuditFacts {
    /// What [`validate`] compares with a received message to tell it is the audit of this exchange.
    pub fn expect(&self) -> AuditExpect {
        AuditExpect {
            patient_id: self.patient_id.clone(),
            submission_set: self.submission_set.clone(),
            query_id: self.query_id.clone(),
            documents: self.documents.iter().map(|(d, _)| d.clone()).collect(),
            studies: self.studies.clone(),
        }
    }
}

fn active(p: &Party, role: &str, requestor: bool) -> ActiveParticipant {
    let nap_type = p.network_access_point.as_deref().map(|n| {
        if n.parse::<std::net::IpAddr>().is_ok() {
            "2".to_string()
        } else {
            "1".to_string()
        }
    });
    ActiveParticipant {
        user_id: Some(p.user_id.clone()),
        alternative_user_id: p.alternative_user_id.clone(),
        user_is_requestor: Some(requestor.to_string()),
        network_access_point_id: p.network_access_point.clone(),
        network_access_point_type_code: nap_type,
        role_id_codes: vec![CodedValue::new(
            role,
            DCM,
            if role == SOURCE_ROLE {
                "Source Role ID"
            } else {
                "Destination Role ID"
            },
        )],
        ..ActiveParticipant::default()
    }
}

fn id_type(spec: &ObjectSpec) -> CodedValue {
    match spec.id_type {
        "2" => CodedValue::new("2", "RFC-3881", "Patient Number"),
        "9" => CodedValue::new("9", "RFC-3881", "Report Number"),
        "110180" => CodedValue::new("110180", DCM, "Study Instance UID"),
        "110181" => CodedValue::new("110181", DCM, "SOP Class UID"),
        SUBMISSION_SET_ID_TYPE => CodedValue::new(
            SUBMISSION_SET_ID_TYPE,
            "IHE XDS Metadata",
            "submission set classificationNode",
        ),
        other => CodedValue::new(other, IHE_TRANSACTIONS, other),
    }
}

/// The audit message a conformant actor on `side` sends for `audited`, stating `facts`.
pub fn build(audited: Audited, side: Side, facts: &AuditFacts) -> AuditMessage {
    let spec = Spec::of(audited, side);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let source_requests = spec.responder_role != Some(SOURCE_ROLE);
    let mut objects = Vec::new();
    for o in &spec.objects {
        let base = |id: &str| ParticipantObject {
            id: Some(id.to_string()),
            type_code: Some(o.type_code.into()),
            type_code_role: Some(o.role.into()),
            id_type_code: Some(id_type(o)),
            ..ParticipantObject::default()
        };
        match o.rule.id {
            id if id == PATIENT.id => objects.extend(facts.patient_id.as_deref().map(base)),
            id if id == SUBMISSION_SET.id => {
                objects.extend(facts.submission_set.as_deref().map(base))
            }
            id if id == QUERY.id => objects.push(ParticipantObject {
                query: Some(b64(&facts.query)),
                ..base(facts.query_id.as_deref().unwrap_or(""))
            }),
            id if id == DOCUMENT.id => {
                for (doc, repo) in &facts.documents {
                    objects.push(ParticipantObject {
                        details: vec![("Repository Unique Id".into(), b64(repo.as_bytes()))],
                        ..base(doc)
                    });
                }
            }
            id if id == STUDY.id => objects.extend(facts.studies.iter().map(|s| base(s))),
            _ => {}
        }
    }
    AuditMessage {
        event: Some(EventIdentification {
            event_id: Some(CodedValue::new(spec.event_id.0, DCM, spec.event_id.1)),
            event_type_codes: spec
                .event_type
                .map(|t| CodedValue::new(t, IHE_TRANSACTIONS, t))
                .into_iter()
                .collect(),
            action_code: spec.actions.first().map(|a| a.to_string()),
            date_time: Some(facts.date_time.clone()),
            outcome_indicator: Some(facts.outcome.clone()),
            ..EventIdentification::default()
        }),
        active_participants: vec![
            active(&facts.source, SOURCE_ROLE, source_requests),
            active(&facts.destination, DESTINATION_ROLE, !source_requests),
        ],
        audit_sources: vec![AuditSourceIdentification {
            audit_source_id: Some(facts.audit_source_id.clone()),
            audit_enterprise_site_id: None,
            type_codes: vec![CodedValue::new("4", DCM, "Application Server Process")],
        }],
        participant_objects: objects,
        ..AuditMessage::default()
    }
}

/// The facts of an ITI-18 query audited by a registry, shared by the unit tests of the audit
/// rules.
#[cfg(test)]
pub(crate) fn sample_query_facts() -> AuditFacts {
    AuditFacts {
        date_time: "2026-12-07T01:02:03Z".into(),
        outcome: "0".into(),
        source: Party {
            user_id: "http://client/ws".into(),
            alternative_user_id: None,
            network_access_point: Some("192.0.2.1".into()),
        },
        destination: Party {
            user_id: "http://server/registry".into(),
            alternative_user_id: None,
            network_access_point: Some("server.example".into()),
        },
        audit_source_id: "registry".into(),
        patient_id: Some("PAT-1^^^&1.2.3&ISO".into()),
        submission_set: None,
        query_id: Some("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d".into()),
        query: b"<query/>".to_vec(),
        documents: Vec::new(),
        studies: Vec::new(),
    }
}
