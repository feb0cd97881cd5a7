//! The rules of an audit message a Secure Node or Secure Application sends with IHE ATNA Record
//! Audit Event (ITI-20): the syslog transport it came over (RFC 5424, RFC 5425 §4.3, ITI TF-2
//! §3.20.4.1.2), the DICOM audit message schema (DICOM PS3.15 §A.5.1, with the conventions of
//! §A.5.2) and, in [`transaction`], what the audit of each IHE or DICOM transaction must say (ITI
//! TF-2 §3.x.5.1, DICOM PS3.15 §A.5.3).
//!
//! [`validate_syslog`] judges one received syslog message end to end (header, MSGID, payload,
//! schema); [`framing`] turns what broke a stream ([`FrameError`]) into a violation;
//! [`validate_message`] judges a parsed [`AuditMessage`] against the schema;
//! [`transaction::validate`] judges it against a transaction's audit table. Each returns the
//! [`Violation`]s found, citing its rule; a SHOULD rule is a warning unless the run is strict.
//!
//! Readings, where the texts leave room:
//! - ITI TF-2 §3.20.4.1.2 says the MSGID "shall be set to IHE+RFC-3881" (Gazelle assertion
//!   ITI20-15, also for the DICOM schema that replaced RFC 3881's): [`MSGID`] is SHALL;
//!   [`Rules::accepted_msgids`] lets a deployment accept another value it agreed on.
//! - RFC 5424 §6.4 requires the BOM when MSG is encoded in UTF-8, yet ITI TF-2 does not repeat it
//!   and a MSG without BOM is a valid MSG-ANY: [`BOM`] is SHOULD.
//! - The DICOM schema admits no element or attribute it does not define, but receivers in the
//!   field accept extensions: [`EXTRA`] is SHOULD.
//! - The DICOM schema's `CodedValueType` requires `originalText`; RFC 3881's `code` attribute is
//!   not DICOM's `csd-code` ([`CODED`], SHALL, XML only: FHIR Codings carry no originalText).

pub mod family;
pub mod fhir;
#[cfg(test)]
mod tests;
pub mod transaction;

pub use family::{is_member, CHECKS};

use base64::Engine;

use crate::checks::rule::{rules, Violation};
use crate::model::audit::{self, AuditMessage, CodedValue, Encoding, DCM};
use crate::transport::syslog::{
    self, FrameError, SyslogMessage, FACILITY_AUTHPRIV, MSGID_IHE_AUDIT,
};

rules! {
    HEADER = ("ATNA-SYSLOG-01", "RFC 5424 §6; ITI TF-2 3.20.4.1.2", Shall,
        "The audit message is an RFC 5424 syslog message (PRI, VERSION, header fields, STRUCTURED-DATA)");
    FRAMING = ("ATNA-SYSLOG-02", "RFC 5425 §4.3; ITI TF-2 3.20.4.1.1", Shall,
        "Over TLS (or TCP) each message is one octet-counted frame: MSG-LEN SP SYSLOG-MSG, within the receiver's limit");
    MSGID = ("ATNA-SYSLOG-03", "ITI TF-2 3.20.4.1.2", Shall,
        "The syslog MSGID of an audit message in the DICOM schema is IHE+RFC-3881");
    FACILITY = ("ATNA-SYSLOG-04", "ITI TF-2 3.20.4.1.2; DICOM PS3.15 §A.6", Shall,
        "The PRI uses facility 10 (security/authorization messages)");
    SEVERITY = ("ATNA-SYSLOG-05", "ITI TF-2 3.20.4.1.2", Should,
        "The PRI uses severity 5 (notice) or 4 (warning)");
    PAYLOAD = ("ATNA-SYSLOG-06", "ITI TF-2 3.20.4.1.2; DICOM PS3.15 §A.6", Shall,
        "The MSG is present and is a well-formed XML audit message (UTF-8, no DTD, root AuditMessage)");
    BOM = ("ATNA-SYSLOG-07", "RFC 5424 §6.4", Should,
        "A MSG encoded in UTF-8 starts with the UTF-8 byte order mark");
    EVENT = ("ATNA-MSG-01", "DICOM PS3.15 §A.5.1", Shall,
        "EventIdentification is present with EventID, EventDateTime and EventOutcomeIndicator");
    ACTION = ("ATNA-MSG-02", "DICOM PS3.15 §A.5.1", Shall,
        "EventActionCode, when present, is one of C, R, U, D, E");
    OUTCOME = ("ATNA-MSG-03", "DICOM PS3.15 §A.5.1", Shall,
        "EventOutcomeIndicator is one of 0, 4, 8, 12");
    DATETIME = ("ATNA-MSG-04", "DICOM PS3.15 §A.5.1; W3C XML Schema 1.0 Part 2 §3.2.7", Shall,
        "EventDateTime is an xs:dateTime");
    CODED = ("ATNA-MSG-05", "DICOM PS3.15 §A.5.1 (CodedValueType); §A.5.2", Shall,
        "Every coded value has csd-code, codeSystemName and originalText");
    EVENT_ID_DCM = ("ATNA-MSG-06", "DICOM PS3.15 §A.5.3; PS3.16 (DCM)", Should,
        "The EventID is a DICOM audit event (codeSystemName DCM)");
    PARTICIPANT = ("ATNA-MSG-07", "DICOM PS3.15 §A.5.1", Shall,
        "There is at least one ActiveParticipant, each with a UserID and UserIsRequestor true or false");
    NAP = ("ATNA-MSG-08", "DICOM PS3.15 §A.5.1", Shall,
        "NetworkAccessPointTypeCode, when present, is one of 1 to 5, and comes with a NetworkAccessPointID");
    SOURCE = ("ATNA-MSG-09", "DICOM PS3.15 §A.5.1", Shall,
        "AuditSourceIdentification is present, each with an AuditSourceID");
    OBJECT = ("ATNA-MSG-10", "DICOM PS3.15 §A.5.1", Shall,
        "Each ParticipantObjectIdentification has a ParticipantObjectID and a ParticipantObjectIDTypeCode; its TypeCode is 1 to 4, its TypeCodeRole 1 to 24, its DataLifeCycle 1 to 15");
    BASE64 = ("ATNA-MSG-11", "DICOM PS3.15 §A.5.1 (xs:base64Binary)", Shall,
        "ParticipantObjectQuery and each ParticipantObjectDetail value are base64");
    EXTRA = ("ATNA-MSG-12", "DICOM PS3.15 §A.5.1", Should,
        "The message holds no element or attribute the DICOM audit schema does not define, in no namespace");
}

/// The requirement catalogue ids each rule (of this module and of [`transaction`]) enforces,
/// as the checks of [`family`] register them (entries in `requirements/catalogue.toml`).
pub const CATALOGUE_IDS: &[(&str, &[&str])] = &[
    ("ATNA-SYSLOG-01", &["RFC5424-6", "ITI2-3.20.4.1.2"]),
    ("ATNA-SYSLOG-02", &["RFC5425-4.3"]),
    ("ATNA-SYSLOG-03", &["ITI2-3.20.4.1.2"]),
    ("ATNA-SYSLOG-04", &["ITI2-3.20.4.1.2", "PS15-A.6"]),
    ("ATNA-SYSLOG-05", &["ITI2-3.20.4.1.2"]),
    ("ATNA-SYSLOG-06", &["ITI2-3.20.4.1.2", "PS15-A.6"]),
    ("ATNA-SYSLOG-07", &["RFC5424-6.4"]),
    ("ATNA-MSG-01", &["PS15-A.5.1"]),
    ("ATNA-MSG-02", &["PS15-A.5.1"]),
    ("ATNA-MSG-03", &["PS15-A.5.1"]),
    ("ATNA-MSG-04", &["PS15-A.5.1"]),
    ("ATNA-MSG-05", &["PS15-A.5.1"]),
    ("ATNA-MSG-06", &["PS15-A.5.3"]),
    ("ATNA-MSG-07", &["PS15-A.5.1"]),
    ("ATNA-MSG-08", &["PS15-A.5.1"]),
    ("ATNA-MSG-09", &["PS15-A.5.1"]),
    ("ATNA-MSG-10", &["PS15-A.5.1"]),
    ("ATNA-MSG-11", &["PS15-A.5.1"]),
    ("ATNA-MSG-12", &["PS15-A.5.1"]),
    (
        "ATNA-TXN-01",
        &[
            "ITI2-3.18.5.1",
            "ITI2-3.41.5.1",
            "ITI2-3.43.5.1",
            "RAD2-4.68.5",
            "RAD2-4.69.5",
            "PS15-A.5.3.7",
            "PS15-A.5.3.10",
            "ITI2-3.65.5.1",
        ],
    ),
    (
        "ATNA-TXN-02",
        &[
            "ITI2-3.18.5.1",
            "ITI2-3.41.5.1",
            "ITI2-3.43.5.1",
            "RAD2-4.68.5",
            "RAD2-4.69.5",
            "PS15-A.5.3.7",
            "PS15-A.5.3.10",
            "ITI2-3.65.5.1",
        ],
    ),
    (
        "ATNA-TXN-03",
        &[
            "ITI2-3.18.5.1",
            "ITI2-3.41.5.1",
            "ITI2-3.43.5.1",
            "RAD2-4.68.5",
            "RAD2-4.69.5",
            "ITI2-3.65.5.1",
        ],
    ),
    (
        "ATNA-TXN-04",
        &[
            "ITI2-3.18.5.1",
            "ITI2-3.41.5.1",
            "ITI2-3.43.5.1",
            "PS15-A.5.3.7",
            "PS15-A.5.3.10",
            "ITI2-3.65.5.1",
        ],
    ),
    (
        "ATNA-TXN-05",
        &[
            "ITI2-3.18.5.1",
            "ITI2-3.41.5.1",
            "ITI2-3.43.5.1",
            "ITI2-3.65.5.1",
        ],
    ),
    (
        "ATNA-TXN-06",
        &["ITI2-3.18.5.1", "ITI2-3.41.5.1", "ITI2-3.43.5.1"],
    ),
    (
        "ATNA-TXN-07",
        &[
            "ITI2-3.18.5.1",
            "ITI2-3.41.5.1",
            "ITI2-3.43.5.1",
            "PS15-A.5.3.7",
            "ITI2-3.65.5.1",
        ],
    ),
    (
        "ATNA-TXN-08",
        &["ITI2-3.41.5.1", "RAD2-4.68.5", "ITI2-3.65.5.1"],
    ),
    (
        "ATNA-TXN-09",
        &["ITI2-3.18.5.1", "PS15-A.5.3.10", "ITI2-3.65.5.1"],
    ),
    ("ATNA-TXN-10", &["ITI2-3.43.5.1", "ITI2-3.65.5.1"]),
    ("ATNA-TXN-11", &["PS15-A.5.3.7", "RAD2-4.69.5"]),
    ("ATNA-FHIR-01", &["ITI2-3.20.4.2", "FHIR-3.1.0.4"]),
    ("ATNA-FHIR-02", &["FHIR-3.1.0.1.10"]),
    ("ATNA-FHIR-03", &["ITI2-3.20.4.2", "FHIR-2.6"]),
    ("ATNA-FHIR-04", &["FHIR-AuditEvent"]),
    ("ATNA-FHIR-05", &["FHIR-2.24.0.1"]),
];

/// What [`validate_syslog`] accepts beyond the standard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// MSGIDs accepted besides `IHE+RFC-3881` (a deployment's agreed value).
    pub accepted_msgids: Vec<String>,
}

/// A received syslog message judged: the header and the audit message when they could be read,
/// and every violation.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The syslog header and MSG, when the bytes are RFC 5424.
    pub syslog: Option<SyslogMessage>,
    /// The audit message, when MSG is one.
    pub audit: Option<AuditMessage>,
    /// What breaks a rule.
    pub violations: Vec<Violation>,
}

/// The violation a framing error is (the stream cannot be read on).
pub fn framing(e: &FrameError) -> Violation {
    Violation::of(&FRAMING, e.to_string())
}

/// Judge one received syslog message (the bytes of one frame or one datagram).
pub fn validate_syslog(bytes: &[u8], rules: &Rules) -> Judged {
    let mut v = Vec::new();
    let m = match syslog::parse_message(bytes) {
        Ok(m) => m,
        Err(e) => {
            v.push(Violation::of(&HEADER, e.to_string()));
            return Judged {
                syslog: None,
                audit: None,
                violations: v,
            };
        }
    };
    if m.facility() != FACILITY_AUTHPRIV {
        v.push(Violation::at(
            &FACILITY,
            "PRI",
            format!(
                "PRI {} is facility {} (severity {}); expected facility 10",
                m.pri,
                m.facility(),
                m.severity()
            ),
        ));
    }
    if !matches!(m.severity(), 4 | 5) {
        v.push(Violation::at(
            &SEVERITY,
            "PRI",
            format!(
                "PRI {} is severity {}; expected 5 or 4",
                m.pri,
                m.severity()
            ),
        ));
    }
    // The MSGID is asked of audit messages in the DICOM schema: other messages may share the
    // connection (PS3.15 §A.6 note 1), so a MSG that is not an AuditMessage is judged on its MSG
    // (ATNA-SYSLOG-06) alone.
    let msgid = m.msgid.as_deref().unwrap_or(syslog::NILVALUE);
    let looks_like_audit = memchr::memmem::find(&m.msg, b"<AuditMessage").is_some();
    if looks_like_audit
        && msgid != MSGID_IHE_AUDIT
        && !rules.accepted_msgids.iter().any(|a| a == msgid)
    {
        v.push(Violation::at(
            &MSGID,
            "MSGID",
            format!("MSGID is {msgid}; expected {MSGID_IHE_AUDIT}"),
        ));
    }
    let audit = if m.msg.is_empty() {
        v.push(Violation::of(&PAYLOAD, "the message has no MSG"));
        None
    } else {
        if !m.bom && std::str::from_utf8(&m.msg).is_ok() {
            v.push(Violation::at(
                &BOM,
                "MSG",
                "the UTF-8 MSG does not start with the byte order mark EF BB BF",
            ));
        }
        match audit::dicom::parse(&m.msg) {
            Ok(a) => {
                v.extend(validate_message(&a));
                Some(a)
            }
            Err(e) => {
                v.push(Violation::at(&PAYLOAD, "MSG", e.to_string()));
                None
            }
        }
    };
    Judged {
        syslog: Some(m),
        audit,
        violations: v,
    }
}

/// How an audit message came, for [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Carrier {
    /// One RFC 5424 message (a UDP datagram or the SYSLOG-MSG of a frame).
    #[default]
    Syslog,
    /// A FHIR AuditEvent body (RESTful ATNA).
    FhirJson,
}

/// What a scenario expects of an audit message: how it comes and, when it audits a known
/// exchange, the transaction, the auditing side and what the exchange was about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtnaExpect {
    /// How the message came.
    pub carrier: Carrier,
    /// The transaction audited and the side that audits it, when known.
    pub audited: Option<(transaction::Audited, transaction::Side)>,
    /// What the audited exchange was about.
    pub exchange: transaction::AuditExpect,
    /// What the rules accept beyond the standard.
    pub rules: Rules,
}

/// Every violation of one received audit message, from its raw bytes: the transport and schema
/// rules and, when the expectation names the audited transaction, its table. The one entry point
/// a check needs (checks never parse twice: the validator runs once per message).
pub fn judge(raw: &[u8], expect: &AtnaExpect) -> Vec<Violation> {
    let (audit, mut v) = match expect.carrier {
        Carrier::Syslog => {
            let j = validate_syslog(raw, &expect.rules);
            (j.audit, j.violations)
        }
        Carrier::FhirJson => {
            let j = fhir::validate_body(raw, audit::fhir::MAX_BYTES);
            let mut v = j.violations;
            if let Some(a) = &j.audit {
                v.extend(validate_message(a));
            }
            (j.audit, v)
        }
    };
    if let (Some(a), Some((audited, side))) = (&audit, expect.audited) {
        v.extend(transaction::validate(a, audited, side, &expect.exchange));
    }
    v
}

/// True when `s` is an xs:dateTime (`-?YYYY-MM-DDThh:mm:ss(.s+)?(Z|±hh:mm)?`).
pub fn is_xs_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let b = b.strip_prefix(b"-").unwrap_or(b);
    let year_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_len < 4 || (year_len > 4 && b[0] == b'0') {
        return false;
    }
    let rest = &b[year_len..];
    let d = |r: &[u8], i: usize| r.get(i).is_some_and(u8::is_ascii_digit);
    let n2 = |r: &[u8], i: usize| u32::from(r[i] - b'0') * 10 + u32::from(r[i + 1] - b'0');
    if rest.len() < 15
        || rest[0] != b'-'
        || !(d(rest, 1) && d(rest, 2))
        || rest[3] != b'-'
        || !(d(rest, 4) && d(rest, 5))
        || rest[6] != b'T'
        || !(d(rest, 7) && d(rest, 8))
        || rest[9] != b':'
        || !(d(rest, 10) && d(rest, 11))
        || rest[12] != b':'
        || !(d(rest, 13) && d(rest, 14))
    {
        return false;
    }
    let (mo, da, h, mi, se) = (
        n2(rest, 1),
        n2(rest, 4),
        n2(rest, 7),
        n2(rest, 10),
        n2(rest, 13),
    );
    let end_of_day = h == 24 && mi == 0 && se == 0;
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&da)
        || (h > 23 && !end_of_day)
        || mi > 59
        || se > 59
    {
        return false;
    }
    let mut i = 15;
    if rest.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while d(rest, i) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match rest.get(i) {
        None => true,
        Some(b'Z') => i + 1 == rest.len(),
        Some(b'+' | b'-') => {
            i + 6 == rest.len()
                && d(rest, i + 1)
                && d(rest, i + 2)
                && rest[i + 3] == b':'
                && d(rest, i + 4)
                && d(rest, i + 5)
                && (n2(rest, i + 1) < 14 || (n2(rest, i + 1) == 14 && n2(rest, i + 4) == 0))
                && n2(rest, i + 4) <= 59
        }
        _ => false,
    }
}

fn in_range(v: &str, lo: u32, hi: u32) -> bool {
    !v.is_empty()
        && v.len() <= 2
        && v.bytes().all(|b| b.is_ascii_digit())
        && !(v.len() > 1 && v.starts_with('0'))
        && v.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
}

fn is_base64(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .is_ok()
}

fn coded(v: &mut Vec<Violation>, at: &str, c: &CodedValue) {
    let mut missing = Vec::new();
    if c.rfc3881_code {
        missing.push("csd-code (RFC 3881's code attribute was sent instead)");
    } else if c.code.trim().is_empty() {
        missing.push("csd-code");
    }
    if c.code_system_name
        .as_deref()
        .is_none_or(|s| s.trim().is_empty())
    {
        missing.push("codeSystemName");
    }
    if c.original_text.is_none() {
        missing.push("originalText");
    }
    if !missing.is_empty() {
        v.push(Violation::at(
            &CODED,
            at,
            format!("coded value {c} lacks {}", missing.join(", ")),
        ));
    }
}

/// Judge an audit message against the DICOM audit message schema (PS3.15 §A.5.1). Rules that
/// only the XML encoding can break (coded value attributes, unknown elements) are skipped for a
/// FHIR AuditEvent.
pub fn validate_message(m: &AuditMessage) -> Vec<Violation> {
    let mut v = Vec::new();
    let xml = m.encoding == Encoding::DicomXml;
    match &m.event {
        None => v.push(Violation::at(
            &EVENT,
            "AuditMessage",
            "EventIdentification is missing",
        )),
        Some(e) => {
            let mut missing = Vec::new();
            if e.event_id.is_none() {
                missing.push("EventID");
            }
            if e.date_time.is_none() {
                missing.push("EventDateTime");
            }
            if e.outcome_indicator.is_none() {
                missing.push("EventOutcomeIndicator");
            }
            if !missing.is_empty() {
                v.push(Violation::at(
                    &EVENT,
                    "EventIdentification",
                    format!("missing {}", missing.join(", ")),
                ));
            }
            if let Some(a) = &e.action_code {
                if !matches!(a.as_str(), "C" | "R" | "U" | "D" | "E") {
                    v.push(Violation::at(
                        &ACTION,
                        "EventIdentification/@EventActionCode",
                        format!(
                            "EventActionCode is {}; expected one of C, R, U, D, E",
                            crate::evidence::quote(a)
                        ),
                    ));
                }
            }
            if let Some(o) = &e.outcome_indicator {
                if !matches!(o.as_str(), "0" | "4" | "8" | "12") {
                    v.push(Violation::at(
                        &OUTCOME,
                        "EventIdentification/@EventOutcomeIndicator",
                        format!(
                            "EventOutcomeIndicator is {}; expected one of 0, 4, 8, 12",
                            crate::evidence::quote(o)
                        ),
                    ));
                }
            }
            if let Some(t) = &e.date_time {
                if !is_xs_datetime(t.trim()) {
                    v.push(Violation::at(
                        &DATETIME,
                        "EventIdentification/@EventDateTime",
                        format!(
                            "EventDateTime {} is not an xs:dateTime",
                            crate::evidence::quote(t)
                        ),
                    ));
                }
            }
            if let Some(id) = &e.event_id {
                if xml {
                    coded(&mut v, "EventIdentification/EventID", id);
                }
                if xml && id.code_system_name.as_deref() != Some(DCM) {
                    v.push(Violation::at(
                        &EVENT_ID_DCM,
                        "EventIdentification/EventID",
                        format!("EventID {id} is not from DCM"),
                    ));
                }
            }
            if xml {
                for t in &e.event_type_codes {
                    coded(&mut v, "EventIdentification/EventTypeCode", t);
                }
                for p in &e.purpose_of_use {
                    coded(&mut v, "EventIdentification/PurposeOfUse", p);
                }
            }
        }
    }
    if m.active_participants.is_empty() {
        v.push(Violation::at(
            &PARTICIPANT,
            "AuditMessage",
            "no ActiveParticipant",
        ));
    }
    for (i, p) in m.active_participants.iter().enumerate() {
        let at = format!("ActiveParticipant[{}]", i + 1);
        // The schema types UserID as text: an empty value is valid, a missing one is not.
        if p.user_id.is_none() {
            v.push(Violation::at(&PARTICIPANT, &at, "UserID is missing"));
        }
        if p.is_requestor().is_none() {
            v.push(Violation::at(
                &PARTICIPANT,
                &at,
                match &p.user_is_requestor {
                    None => "UserIsRequestor is missing".to_string(),
                    Some(x) => format!(
                        "UserIsRequestor is {}; expected true or false",
                        crate::evidence::quote(x)
                    ),
                },
            ));
        }
        match (
            &p.network_access_point_type_code,
            &p.network_access_point_id,
        ) {
            (Some(t), _) if !in_range(t, 1, 5) => v.push(Violation::at(
                &NAP,
                &at,
                format!(
                    "NetworkAccessPointTypeCode is {}; expected 1 to 5",
                    crate::evidence::quote(t)
                ),
            )),
            (Some(_), None) => v.push(Violation::at(
                &NAP,
                &at,
                "NetworkAccessPointTypeCode without NetworkAccessPointID",
            )),
            _ => {}
        }
        if xml {
            for r in &p.role_id_codes {
                coded(&mut v, &format!("{at}/RoleIDCode"), r);
            }
        }
    }
    if m.audit_sources.is_empty() {
        v.push(Violation::at(
            &SOURCE,
            "AuditMessage",
            "AuditSourceIdentification is missing",
        ));
    }
    for (i, s) in m.audit_sources.iter().enumerate() {
        if s.audit_source_id.is_none() {
            v.push(Violation::at(
                &SOURCE,
                format!("AuditSourceIdentification[{}]", i + 1),
                "AuditSourceID is missing",
            ));
        }
    }
    for (i, o) in m.participant_objects.iter().enumerate() {
        let at = format!("ParticipantObjectIdentification[{}]", i + 1);
        let mut problems = Vec::new();
        // FHIR R4 makes entity.what optional (BALP's query entity has none).
        if o.id.is_none() && xml {
            problems.push("ParticipantObjectID is missing".to_string());
        }
        if o.id_type_code.is_none() && xml {
            problems.push("ParticipantObjectIDTypeCode is missing".to_string());
        }
        for (name, value, lo, hi) in [
            ("ParticipantObjectTypeCode", &o.type_code, 1, 4),
            ("ParticipantObjectTypeCodeRole", &o.type_code_role, 1, 24),
            ("ParticipantObjectDataLifeCycle", &o.data_life_cycle, 1, 15),
        ] {
            if let Some(x) = value {
                if !in_range(x, lo, hi) {
                    problems.push(format!(
                        "{name} is {}; expected {lo} to {hi}",
                        crate::evidence::quote(x)
                    ));
                }
            }
        }
        for p in problems {
            v.push(Violation::at(&OBJECT, &at, p));
        }
        if let (true, Some(c)) = (xml, &o.id_type_code) {
            coded(&mut v, &format!("{at}/ParticipantObjectIDTypeCode"), c);
        }
        if let Some(q) = &o.query {
            if !is_base64(q) {
                v.push(Violation::at(
                    &BASE64,
                    format!("{at}/ParticipantObjectQuery"),
                    "ParticipantObjectQuery is not base64",
                ));
            }
        }
        if xml {
            for (t, val) in &o.details {
                if !is_base64(val) {
                    v.push(Violation::at(
                        &BASE64,
                        format!("{at}/ParticipantObjectDetail"),
                        format!(
                            "the value of detail {} is not base64",
                            crate::evidence::quote(t)
                        ),
                    ));
                }
            }
        }
    }
    if xml && !m.unexpected.is_empty() {
        v.push(Violation::at(
            &EXTRA,
            "AuditMessage",
            format!("not in the DICOM schema: {}", m.unexpected.join(", ")),
        ));
    }
    v
}
