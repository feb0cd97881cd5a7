//! DIMSE command sets (DICOM PS3.7 §9.3, §E.1): encoded in Implicit VR Little Endian, group 0000,
//! led by Command Group Length (0000,0000).
//!
//! Hand-written rather than built on `dicom-object`: a command set has a fixed, small vocabulary,
//! and decoding must survive anything a peer sends (a truncated element, a length past the end, a
//! missing required field) with an error, never a panic.

use std::fmt;

/// Command Field values (PS3.7 §E.1).
pub mod field {
    /// C-STORE-RQ.
    pub const C_STORE_RQ: u16 = 0x0001;
    /// C-STORE-RSP.
    pub const C_STORE_RSP: u16 = 0x8001;
    /// C-GET-RQ.
    pub const C_GET_RQ: u16 = 0x0010;
    /// C-GET-RSP.
    pub const C_GET_RSP: u16 = 0x8010;
    /// C-FIND-RQ.
    pub const C_FIND_RQ: u16 = 0x0020;
    /// C-FIND-RSP.
    pub const C_FIND_RSP: u16 = 0x8020;
    /// C-MOVE-RQ.
    pub const C_MOVE_RQ: u16 = 0x0021;
    /// C-MOVE-RSP.
    pub const C_MOVE_RSP: u16 = 0x8021;
    /// C-ECHO-RQ.
    pub const C_ECHO_RQ: u16 = 0x0030;
    /// C-ECHO-RSP.
    pub const C_ECHO_RSP: u16 = 0x8030;
    /// C-CANCEL-RQ.
    pub const C_CANCEL_RQ: u16 = 0x0FFF;

    /// The name of a command field, for evidence.
    pub fn name(f: u16) -> &'static str {
        match f {
            C_STORE_RQ => "C-STORE-RQ",
            C_STORE_RSP => "C-STORE-RSP",
            C_GET_RQ => "C-GET-RQ",
            C_GET_RSP => "C-GET-RSP",
            C_FIND_RQ => "C-FIND-RQ",
            C_FIND_RSP => "C-FIND-RSP",
            C_MOVE_RQ => "C-MOVE-RQ",
            C_MOVE_RSP => "C-MOVE-RSP",
            C_ECHO_RQ => "C-ECHO-RQ",
            C_ECHO_RSP => "C-ECHO-RSP",
            C_CANCEL_RQ => "C-CANCEL-RQ",
            _ => "unknown command",
        }
    }
}

/// Status values (PS3.7 Annex C, PS3.4 B.2.3, C.4).
pub mod status {
    /// Success.
    pub const SUCCESS: u16 = 0x0000;
    /// Cancel.
    pub const CANCEL: u16 = 0xFE00;
    /// Pending (matches / sub-operations continue).
    pub const PENDING: u16 = 0xFF00;
    /// Pending, optional keys not supported.
    pub const PENDING_WARNING: u16 = 0xFF01;
    /// Sub-operations complete, one or more failures or warnings.
    pub const SUB_OPERATIONS_FAILED: u16 = 0xB000;
    /// Move destination unknown.
    pub const MOVE_DESTINATION_UNKNOWN: u16 = 0xA801;
    /// Refused: SOP Class not supported.
    pub const SOP_CLASS_NOT_SUPPORTED: u16 = 0x0122;
    /// Identifier does not match SOP Class.
    pub const IDENTIFIER_DOES_NOT_MATCH: u16 = 0xA900;
    /// Unable to process.
    pub const UNABLE_TO_PROCESS: u16 = 0xC000;
    /// Out of resources: unable to perform sub-operations.
    pub const OUT_OF_RESOURCES_SUB_OPERATIONS: u16 = 0xA702;
    /// Duplicate SOP Instance (PS3.7 §C.5.8).
    pub const DUPLICATE_SOP_INSTANCE: u16 = 0x0111;

    /// True for the pending statuses FF00 and FF01.
    pub fn is_pending(s: u16) -> bool {
        s == PENDING || s == PENDING_WARNING
    }

    /// The category of a status: "success", "pending", "cancel", "warning" or "failure".
    pub fn category(s: u16) -> &'static str {
        match s {
            SUCCESS => "success",
            PENDING | PENDING_WARNING => "pending",
            CANCEL => "cancel",
            0x0001 | 0x0107 | 0x0116 | 0xB000..=0xBFFF => "warning",
            _ => "failure",
        }
    }
}

/// Command Data Set Type (0000,0800) meaning "no data set".
pub const NO_DATA_SET: u16 = 0x0101;
/// The value this harness writes for "a data set follows" (any other value than 0x0101).
pub const DATA_SET_PRESENT: u16 = 0x0000;

/// Priority (0000,0700): medium.
pub const PRIORITY_MEDIUM: u16 = 0x0000;

/// A command set, with the fields of the DIMSE-C services.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Command {
    /// Command Field (0000,0100).
    pub field: u16,
    /// Affected SOP Class UID (0000,0002).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_sop_class: Option<String>,
    /// Requested SOP Class UID (0000,0003).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_sop_class: Option<String>,
    /// Message ID (0000,0110).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<u16>,
    /// Message ID Being Responded To (0000,0120).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responded_to: Option<u16>,
    /// Move Destination (0000,0600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_destination: Option<String>,
    /// Priority (0000,0700).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u16>,
    /// Command Data Set Type (0000,0800).
    pub data_set_type: u16,
    /// Status (0000,0900).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Error Comment (0000,0902).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_comment: Option<String>,
    /// Affected SOP Instance UID (0000,1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affected_sop_instance: Option<String>,
    /// Number of Remaining Sub-operations (0000,1020).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u16>,
    /// Number of Completed Sub-operations (0000,1021).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<u16>,
    /// Number of Failed Sub-operations (0000,1022).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<u16>,
    /// Number of Warning Sub-operations (0000,1023).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<u16>,
    /// Move Originator Application Entity Title (0000,1030).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_originator_ae: Option<String>,
    /// Move Originator Message ID (0000,1031).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_originator_id: Option<u16>,
    /// Elements of group 0000 this harness does not model, as (tag, length).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<(u32, u32)>,
}

impl Command {
    /// Does a data set follow this command?
    pub fn has_data_set(&self) -> bool {
        self.data_set_type != NO_DATA_SET
    }

    /// The command's name (`C-FIND-RSP`).
    pub fn name(&self) -> &'static str {
        field::name(self.field)
    }

    /// A request with a fresh message id.
    pub fn request(field: u16, sop_class: &str, message_id: u16, data_set: bool) -> Command {
        let mut c = Command {
            field,
            message_id: Some(message_id),
            data_set_type: if data_set {
                DATA_SET_PRESENT
            } else {
                NO_DATA_SET
            },
            ..Command::default()
        };
        if field == field::C_CANCEL_RQ {
            c.message_id = None;
            c.responded_to = Some(message_id);
        } else {
            c.affected_sop_class = Some(sop_class.to_string());
        }
        if matches!(
            field,
            field::C_STORE_RQ | field::C_FIND_RQ | field::C_MOVE_RQ | field::C_GET_RQ
        ) {
            c.priority = Some(PRIORITY_MEDIUM);
        }
        c
    }

    /// The response to `rq` with `status`.
    pub fn response_to(rq: &Command, status: u16, data_set: bool) -> Command {
        Command {
            field: rq.field | 0x8000,
            affected_sop_class: rq.affected_sop_class.clone(),
            responded_to: rq.message_id,
            data_set_type: if data_set {
                DATA_SET_PRESENT
            } else {
                NO_DATA_SET
            },
            status: Some(status),
            affected_sop_instance: if rq.field == field::C_STORE_RQ {
                rq.affected_sop_instance.clone()
            } else {
                None
            },
            ..Command::default()
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(s) = self.status {
            write!(f, " status {s:04X}")?;
        }
        Ok(())
    }
}

/// Why a command set could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The bytes end inside an element.
    #[error("command set truncated at byte {0}")]
    Truncated(usize),
    /// An element outside group 0000.
    #[error("element ({0:04X},{1:04X}) is not in the command group 0000")]
    NotCommandGroup(u16, u16),
    /// A required field is missing.
    #[error("command set lacks {0}")]
    Missing(&'static str),
    /// A value has the wrong length for its VR.
    #[error("element (0000,{0:04X}) has length {1}, not {2}")]
    BadLength(u16, u32, u32),
    /// Command Group Length disagrees with the group's length.
    #[error("Command Group Length is {0} but the group has {1} bytes")]
    GroupLength(u32, usize),
}

fn put_header(out: &mut Vec<u8>, element: u16, len: usize) {
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn put_us(out: &mut Vec<u8>, element: u16, v: u16) {
    put_header(out, element, 2);
    out.extend_from_slice(&v.to_le_bytes());
}

/// UI values pad with NUL, AE/LO/ST with space, to even length.
fn put_text(out: &mut Vec<u8>, element: u16, v: &str, pad: u8) {
    let mut bytes = v.as_bytes().to_vec();
    if bytes.len() % 2 == 1 {
        bytes.push(pad);
    }
    put_header(out, element, bytes.len());
    out.extend_from_slice(&bytes);
}

/// Encode a command set (Implicit VR Little Endian, with Command Group Length).
pub fn encode(c: &Command) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(v) = &c.affected_sop_class {
        put_text(&mut body, 0x0002, v, 0);
    }
    if let Some(v) = &c.requested_sop_class {
        put_text(&mut body, 0x0003, v, 0);
    }
    put_us(&mut body, 0x0100, c.field);
    if let Some(v) = c.message_id {
        put_us(&mut body, 0x0110, v);
    }
    if let Some(v) = c.responded_to {
        put_us(&mut body, 0x0120, v);
    }
    if let Some(v) = &c.move_destination {
        // AE: 16 characters at most, space padded.
        put_text(&mut body, 0x0600, v, b' ');
    }
    if let Some(v) = c.priority {
        put_us(&mut body, 0x0700, v);
    }
    put_us(&mut body, 0x0800, c.data_set_type);
    if let Some(v) = c.status {
        put_us(&mut body, 0x0900, v);
    }
    if let Some(v) = &c.error_comment {
        put_text(&mut body, 0x0902, v, b' ');
    }
    if let Some(v) = &c.affected_sop_instance {
        put_text(&mut body, 0x1000, v, 0);
    }
    for (el, v) in [
        (0x1020, c.remaining),
        (0x1021, c.completed),
        (0x1022, c.failed),
        (0x1023, c.warning),
    ] {
        if let Some(v) = v {
            put_us(&mut body, el, v);
        }
    }
    if let Some(v) = &c.move_originator_ae {
        put_text(&mut body, 0x1030, v, b' ');
    }
    if let Some(v) = c.move_originator_id {
        put_us(&mut body, 0x1031, v);
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    put_header(&mut out, 0x0000, 4);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v)
        .trim_end_matches(['\0', ' '])
        .trim_start()
        .to_string()
}

/// Decode a command set. Unknown group-0000 elements are kept as (tag, length) in `other`.
pub fn decode(bytes: &[u8]) -> Result<Command, CommandError> {
    let mut c = Command {
        data_set_type: NO_DATA_SET,
        ..Command::default()
    };
    let mut field_seen = false;
    let mut dst_seen = false;
    let mut group_length: Option<(u32, usize)> = None;
    let mut i = 0usize;
    while i < bytes.len() {
        let head = bytes.get(i..i + 8).ok_or(CommandError::Truncated(i))?;
        let group = u16::from_le_bytes([head[0], head[1]]);
        let element = u16::from_le_bytes([head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if group != 0 {
            return Err(CommandError::NotCommandGroup(group, element));
        }
        let start = i + 8;
        let end = start
            .checked_add(len as usize)
            .filter(|e| *e <= bytes.len())
            .ok_or(CommandError::Truncated(start))?;
        let v = &bytes[start..end];
        let us = || -> Result<u16, CommandError> {
            if v.len() != 2 {
                return Err(CommandError::BadLength(element, len, 2));
            }
            Ok(u16::from_le_bytes([v[0], v[1]]))
        };
        match element {
            0x0000 => {
                if v.len() != 4 {
                    return Err(CommandError::BadLength(element, len, 4));
                }
                group_length = Some((u32::from_le_bytes([v[0], v[1], v[2], v[3]]), end));
            }
            0x0002 => c.affected_sop_class = Some(text(v)),
            0x0003 => c.requested_sop_class = Some(text(v)),
            0x0100 => {
                c.field = us()?;
                field_seen = true;
            }
            0x0110 => c.message_id = Some(us()?),
            0x0120 => c.responded_to = Some(us()?),
            0x0600 => c.move_destination = Some(text(v)),
            0x0700 => c.priority = Some(us()?),
            0x0800 => {
                c.data_set_type = us()?;
                dst_seen = true;
            }
            0x0900 => c.status = Some(us()?),
            0x0902 => c.error_comment = Some(text(v)),
            0x1000 => c.affected_sop_instance = Some(text(v)),
            0x1020 => c.remaining = Some(us()?),
            0x1021 => c.completed = Some(us()?),
            0x1022 => c.failed = Some(us()?),
            0x1023 => c.warning = Some(us()?),
            0x1030 => c.move_originator_ae = Some(text(v)),
            0x1031 => c.move_originator_id = Some(us()?),
            other => c.other.push((u32::from(other), len)),
        }
        i = end;
    }
    if !field_seen {
        return Err(CommandError::Missing("Command Field (0000,0100)"));
    }
    if !dst_seen {
        return Err(CommandError::Missing("Command Data Set Type (0000,0800)"));
    }
    if let Some((gl, after)) = group_length {
        let rest = bytes.len() - after;
        if gl as usize != rest {
            return Err(CommandError::GroupLength(gl, rest));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_field() {
        let c = Command {
            field: field::C_MOVE_RSP,
            affected_sop_class: Some("1.2.840.10008.5.1.4.1.2.2.2".into()),
            requested_sop_class: None,
            message_id: None,
            responded_to: Some(7),
            move_destination: Some("STORESCP".into()),
            priority: Some(0),
            data_set_type: NO_DATA_SET,
            status: Some(status::PENDING),
            error_comment: Some("odd".into()),
            affected_sop_instance: Some("1.2.3".into()),
            remaining: Some(3),
            completed: Some(1),
            failed: Some(0),
            warning: Some(0),
            move_originator_ae: Some("MOVER".into()),
            move_originator_id: Some(9),
            other: Vec::new(),
        };
        let bytes = encode(&c);
        assert_eq!(bytes.len() % 2, 0);
        assert_eq!(decode(&bytes).unwrap(), c);
    }

    #[test]
    fn echo_request_is_the_known_byte_sequence() {
        let c = Command::request(field::C_ECHO_RQ, "1.2.840.10008.1.1", 1, false);
        let bytes = encode(&c);
        // Group length 56: UI "1.2.840.10008.1.1\0" (18) + 3 US elements, each header 8 + 2.
        assert_eq!(&bytes[..12], &[0, 0, 0, 0, 4, 0, 0, 0, 56, 0, 0, 0]);
        assert_eq!(bytes.len(), 12 + 56);
        let back = decode(&bytes).unwrap();
        assert!(!back.has_data_set());
        assert_eq!(back.name(), "C-ECHO-RQ");
    }

    #[test]
    fn hostile_command_sets_are_errors_not_panics() {
        let good = encode(&Command::request(field::C_FIND_RQ, "1.2", 3, true));
        for cut in 0..good.len() {
            let _ = decode(&good[..cut]);
        }
        assert!(matches!(
            decode(&good[..good.len() - 1]),
            Err(CommandError::Truncated(_))
        ));
        let mut huge = good.clone();
        huge[12 + 4..12 + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
        let mut other_group = good.clone();
        other_group[12] = 8;
        assert!(matches!(
            decode(&other_group),
            Err(CommandError::NotCommandGroup(8, _))
        ));
        let mut bad_len = good.clone();
        bad_len[8] = 99;
        assert!(matches!(
            decode(&bad_len),
            Err(CommandError::GroupLength(99, _))
        ));
        assert!(matches!(decode(&[]), Err(CommandError::Missing(_))));
    }

    #[test]
    fn response_echoes_the_request() {
        let mut rq = Command::request(field::C_STORE_RQ, "1.2.840.10008.5.1.4.1.1.2", 5, true);
        rq.affected_sop_instance = Some("1.2.3.4".into());
        let rsp = Command::response_to(&rq, status::SUCCESS, false);
        assert_eq!(rsp.field, field::C_STORE_RSP);
        assert_eq!(rsp.responded_to, Some(5));
        assert_eq!(rsp.affected_sop_instance.as_deref(), Some("1.2.3.4"));
        assert_eq!(status::category(0xB000), "warning");
        assert_eq!(status::category(0xA801), "failure");
    }
}
