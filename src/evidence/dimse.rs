//! Evidence of a DICOM association: negotiation, every DIMSE message (decoded command set, data
//! set size, digest and summary, PDU sizes, timing) and how it ended, with the DCMTK command line
//! that repeats it (`echoscu`, `findscu`, `movescu`, `getscu`, `storescu`).
//!
//! A DIMSE exchange is recorded as an [`Exchange`](super::Exchange) like an HTTP one, so reports,
//! findings and the evidence folder treat both alike: `request.method` is the request command
//! (`C-FIND-RQ`), `request.url` is `dicom://CALLED@host:port`, `response.status` is the final
//! DIMSE status, and this record holds the rest.

use serde::Serialize;

use crate::dimse::command::Command;

/// A presentation context as proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedContext {
    /// Presentation context id (odd, 1–255).
    pub id: u8,
    /// Abstract syntax (SOP Class UID).
    pub abstract_syntax: String,
    /// Transfer syntaxes proposed.
    pub transfer_syntaxes: Vec<String>,
}

/// A presentation context as negotiated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NegotiatedContext {
    /// Presentation context id.
    pub id: u8,
    /// Abstract syntax.
    pub abstract_syntax: String,
    /// Result (PS3.8 §9.3.3.2): 0 acceptance, 1 user-rejection, 2 no-reason, 3
    /// abstract-syntax-not-supported, 4 transfer-syntaxes-not-supported.
    pub result: u8,
    /// The accepted transfer syntax.
    pub transfer_syntax: String,
}

impl NegotiatedContext {
    /// The contexts of an A-ASSOCIATE-AC as `dicom-ul` reports them.
    pub fn all_of(pcs: &[dicom_ul::pdu::PresentationContextNegotiated]) -> Vec<NegotiatedContext> {
        pcs.iter()
            .map(|pc| NegotiatedContext {
                id: pc.id,
                abstract_syntax: pc.abstract_syntax.clone(),
                result: pc.reason.clone() as u8,
                transfer_syntax: pc.transfer_syntax.clone(),
            })
            .collect()
    }
}

/// An A-ASSOCIATE-RJ (PS3.8 §9.3.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// 1 permanent, 2 transient.
    pub result: u8,
    /// 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation).
    pub source: u8,
    /// Reason / diagnostic.
    pub reason: u8,
    /// In words.
    pub text: String,
}

/// The direction of a DIMSE message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Sent by the harness.
    Sent,
    /// Received from the peer.
    Received,
}

/// One DIMSE message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRecord {
    /// Who sent it.
    pub flow: Flow,
    /// Presentation context.
    pub pc_id: u8,
    /// The command set, decoded.
    pub command: Command,
    /// Data set size, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_len: Option<u64>,
    /// SHA-256 of the data set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
    /// Attributes of the data set (identifier keys and values; for a stored object its UIDs and
    /// transfer syntax), as (keyword or tag, value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_summary: Vec<(String, String)>,
    /// P-DATA-TF PDUs.
    pub pdus: u32,
    /// Largest PDU variable field.
    pub largest_pdu: u32,
    /// Milliseconds since the association started.
    pub at_ms: u64,
    /// When a received message's first and last PDUs were read, on the process's monotonic
    /// clock, which times messages of different associations against each other (the C-STORE
    /// sub-operations of a C-MOVE against the C-MOVE-RQ); not in the evidence files.
    #[serde(skip)]
    pub pdus_at: Option<(std::time::Instant, std::time::Instant)>,
}

/// One association and what happened on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DimseRecord {
    /// `host:port` of the peer.
    pub peer: String,
    /// Calling AE title.
    pub calling_ae: String,
    /// Called AE title.
    pub called_ae: String,
    /// Presentation contexts proposed.
    pub proposed: Vec<ProposedContext>,
    /// Presentation contexts negotiated (empty when rejected).
    pub negotiated: Vec<NegotiatedContext>,
    /// The rejection, if the association was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// Maximum PDU length the harness announced.
    pub local_max_pdu: u32,
    /// Maximum PDU length the peer announced.
    pub peer_max_pdu: u32,
    /// SCP/SCU role selection proposed (SOP Class, SCU role, SCP role).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<(String, bool, bool)>,
    /// The messages, in order.
    pub messages: Vec<MessageRecord>,
    /// How the association ended: `released`, `aborted by the peer`, `aborted by the harness`,
    /// `closed`, `timeout`.
    pub ended: String,
    /// The DCMTK command line that repeats the exchange.
    pub dcmtk: String,
    /// Files the command line needs that live only as long as the run (re-identified copies the
    /// harness made), as (file name, bytes): the evidence folder keeps them in `NN-files/`, which
    /// the command line names as `@files/NAME`.
    #[serde(skip)]
    pub attachments: Vec<(String, bytes::Bytes)>,
    /// The DICOM TLS session (PS3.15 §B.1), when the association ran over TLS.
    #[serde(skip)]
    pub tls: Option<crate::transport::tls::TlsRecord>,
}

impl DimseRecord {
    /// The final response of the request with `message_id`: the last received response
    /// responding to it.
    pub fn final_response(&self, message_id: u16) -> Option<&MessageRecord> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.flow == Flow::Received && m.command.responded_to == Some(message_id))
    }

    /// Received messages with this command field.
    pub fn received(&self, field: u16) -> impl Iterator<Item = &MessageRecord> {
        self.messages
            .iter()
            .filter(move |m| m.flow == Flow::Received && m.command.field == field)
    }
}
