//! One association served by the reference's DIMSE SCP, as every service sees it: the accepted
//! presentation contexts, receiving and sending messages (recorded for evidence, with the response
//! faults applied), C-CANCEL between responses, and each operation recorded as an inbound
//! [`Exchange`] in the inbox.
//!
//! Verification and Storage ([`super::scp`]), Query/Retrieve ([`super::query_retrieve`]) and the
//! C-STORE sub-operations ([`super::sub_operations`]) build on it; it depends on none of them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dicom_dictionary_std::uids;
use dicom_object::InMemDicomObject;
use dicom_ul::association::{AsyncAssociation, AsyncServerAssociation};
use dicom_ul::pdu::AssociationRJServiceProviderASCEReason as AsceReason;
use dicom_ul::pdu::AssociationRJServiceProviderPresentationReason as PresentationReason;
use dicom_ul::pdu::{
    AbortRQSource, AssociationRJ, AssociationRJResult, AssociationRJServiceUserReason,
    AssociationRJSource, PresentationContextResultReason,
};
use dicom_ul::Pdu;
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::dimse::command::{field, Command};
use crate::dimse::message::{self, DataSet, DimseError, Outgoing, ReceiveOptions, Received};
use crate::evidence::dimse::{DimseRecord, Flow, MessageRecord, Rejection};
use crate::evidence::{Body, Direction, Exchange, HttpRequest, HttpResponse};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::transaction::Transaction;
use crate::transport::http::shell_quote;

/// The actor the reference plays towards a DIMSE SCU.
pub const ACTOR: &str = "Image Manager/Image Archive (simulated)";

/// Configuration of the DIMSE SCP.
#[derive(Debug, Clone)]
pub struct DimseConfig {
    /// The SCP's AE title: the only called AE title it accepts.
    pub ae_title: String,
    /// C-MOVE destinations: AE title to address.
    pub move_destinations: BTreeMap<String, SocketAddr>,
    /// The longest wait for one PDU.
    pub timeout: Duration,
    /// DICOM TLS (PS3.15 §B.1): the server configuration of the public listener.
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    /// Who came through the TLS relay (filled by it, read by each association).
    pub relayed: std::sync::Arc<crate::transport::tls::relay::Relayed>,
    /// DICOM TLS for the C-MOVE sub-associations: a TLS SCP opens them over TLS with its own
    /// certificate (PS3.15 §B.1), trusting the CAs it trusts for its clients.
    pub move_tls: Option<crate::transport::tls::ClientTls>,
}

/// Resolves when the server's shutdown signal turns true (or its sender is gone).
pub(crate) async fn until_shutdown(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

pub(crate) use crate::evidence::now_rfc3339;

/// The evidence form of an A-ASSOCIATE-RJ.
pub(crate) fn rejection_of(rj: &AssociationRJ) -> Rejection {
    let result = match rj.result {
        AssociationRJResult::Permanent => 1,
        AssociationRJResult::Transient => 2,
    };
    let (source, reason) = match &rj.source {
        AssociationRJSource::ServiceUser(r) => (
            1,
            match r {
                AssociationRJServiceUserReason::NoReasonGiven => 1,
                AssociationRJServiceUserReason::ApplicationContextNameNotSupported => 2,
                AssociationRJServiceUserReason::CallingAETitleNotRecognized => 3,
                AssociationRJServiceUserReason::CalledAETitleNotRecognized => 7,
                AssociationRJServiceUserReason::Reserved(r) => *r,
            },
        ),
        AssociationRJSource::ServiceProviderASCE(r) => (
            2,
            match r {
                AsceReason::NoReasonGiven => 1,
                AsceReason::ProtocolVersionNotSupported => 2,
            },
        ),
        AssociationRJSource::ServiceProviderPresentation(r) => (
            3,
            match r {
                PresentationReason::TemporaryCongestion => 1,
                PresentationReason::LocalLimitExceeded => 2,
                PresentationReason::Reserved(r) => *r,
            },
        ),
    };
    Rejection {
        result,
        source,
        reason,
        text: rj.source.to_string(),
    }
}

/// What goes into a DIMSE exchange.
pub(crate) struct ExchangeParts {
    /// `C-FIND (Study Root)`, `association`, ...
    pub operation: String,
    /// The request command name.
    pub method: String,
    /// `dicom://CALLED@host:port`.
    pub url: String,
    /// Who initiated.
    pub direction: Direction,
    /// RFC 3339 start.
    pub started_at: String,
    /// Start.
    pub started: Instant,
    /// When the first response went out.
    pub first_response: Option<Duration>,
    /// Final status, if there was one.
    pub status: Option<u16>,
    /// The request's data set.
    pub body: Body,
    /// The record (its `dcmtk` line is the exchange's repro).
    pub record: DimseRecord,
}

/// Build a DIMSE exchange ([`Transaction::Dimse`]).
pub(crate) fn dimse_exchange(p: ExchangeParts) -> Exchange {
    let headers = vec![
        ("calling-ae".to_string(), p.record.calling_ae.clone()),
        ("called-ae".to_string(), p.record.called_ae.clone()),
    ];
    Exchange {
        seq: 0,
        transaction: Transaction::Dimse,
        operation: p.operation,
        actor: ACTOR.into(),
        direction: p.direction,
        started_at: p.started_at,
        time_to_headers: p.first_response,
        elapsed: p.started.elapsed(),
        request: HttpRequest {
            method: p.method,
            url: p.url,
            headers,
            body: p.body,
        },
        response: p.status.map(|s| HttpResponse {
            status: s,
            headers: Vec::new(),
            body: Body::default(),
        }),
        multipart: None,
        failure: None,
        repro: p.record.dcmtk.clone(),
        tls: p.record.tls.clone(),
        dimse: Some(Box::new(p.record)),
    }
}

/// An accepted presentation context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Id.
    pub id: u8,
    /// Abstract syntax.
    pub abstract_syntax: String,
    /// Transfer syntax.
    pub transfer_syntax: String,
}

/// Where an operation's messages start in the association record.
#[derive(Debug, Clone)]
pub(crate) struct OpStart {
    pub(super) index: usize,
    pub(super) started: Instant,
    pub(super) started_at: String,
    pub(super) first_response: Option<Duration>,
}

/// The outcome of one operation, for its exchange.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// The final status, if one was sent.
    pub status: Option<u16>,
    /// The DCMTK command line that repeats the request.
    pub dcmtk: String,
}

/// How long the cancel-ignored fault keeps going after it has read a C-CANCEL: longer than the
/// grace DIM-11 allows for responses that crossed the cancel in flight.
const CANCEL_IGNORED_DELAY: Duration = Duration::from_millis(1500);

/// An established association served by the SCP.
pub(crate) struct Session {
    pub(super) assoc: AsyncServerAssociation<TcpStream>,
    /// The reference's state.
    pub state: Shared,
    /// The SCP configuration.
    pub config: Arc<DimseConfig>,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) t0: Instant,
    pub(super) started_at: String,
    pub(super) record: DimseRecord,
    pub(super) recv: ReceiveOptions,
    pub(super) next_id: u16,
    pub(super) url: String,
    pub(super) local: SocketAddr,
}

/// Summarise a data set for evidence: keyword (or tag) and value of each top-level element.
pub(crate) fn summary_of(obj: &InMemDicomObject) -> Vec<(String, String)> {
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
    let dict = dicom_dictionary_std::StandardDataDictionary;
    obj.iter()
        .map(|e| {
            let tag = e.header().tag;
            let name = dict
                .by_tag(tag)
                .map(|d| d.alias().to_string())
                .unwrap_or_else(|| format!("({:04X},{:04X})", tag.group(), tag.element()));
            let value = match e.value() {
                dicom_core::DicomValue::Primitive(p) => {
                    let s = p.to_str();
                    let s = s.trim_end_matches(['\0', ' ']);
                    s.chars().take(128).collect()
                }
                _ => "(sequence)".to_string(),
            };
            (name, value)
        })
        .collect()
}

impl Session {
    /// Send an A-RELEASE-RQ (the find-no-final fault ends a C-FIND this way).
    pub(crate) async fn request_release(&mut self) {
        use dicom_ul::association::AsyncAssociation;
        let _ = AsyncAssociation::send(&mut self.assoc, &dicom_ul::Pdu::ReleaseRQ).await;
    }

    /// The calling AE title of the peer.
    pub fn calling_ae(&self) -> &str {
        &self.record.calling_ae
    }

    /// The accepted presentation contexts.
    pub fn contexts(&self) -> Vec<Context> {
        self.record
            .negotiated
            .iter()
            .filter(|c| c.result == PresentationContextResultReason::Acceptance as u8)
            .map(|c| Context {
                id: c.id,
                abstract_syntax: c.abstract_syntax.clone(),
                transfer_syntax: c.transfer_syntax.clone(),
            })
            .collect()
    }

    /// Does the requestor hold the SCP role for this SOP Class (PS3.7 D.3.3.4)?
    pub fn requestor_is_scp(&self, sop_class: &str) -> bool {
        dicom_ul::association::Association::requestor_roles_for(&self.assoc, sop_class).scp
    }

    /// Milliseconds since the association started.
    pub(super) fn ms(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    /// A message id for a request the SCP sends (C-GET sub-operations), never `avoid`.
    pub fn next_message_id(&mut self, avoid: u16) -> u16 {
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            if self.next_id != 0 && self.next_id != avoid {
                return self.next_id;
            }
        }
    }

    /// Receive the next message, recording it; aborted by the server's shutdown.
    pub async fn receive(&mut self) -> Result<Received, DimseError> {
        let mut shutdown = self.shutdown.clone();
        let rx = tokio::select! {
            r = message::receive(&mut self.assoc, &self.recv) => r?,
            _ = until_shutdown(&mut shutdown) => {
                return Err(DimseError::Ul("the reference server is shutting down".into()))
            }
        };
        let at_ms = self.ms();
        self.record.messages.push(MessageRecord {
            flow: Flow::Received,
            pc_id: rx.pc_id,
            command: rx.command.clone(),
            data_len: rx.data.as_ref().map(DataSet::len),
            data_sha256: rx.data_sha256.clone(),
            data_summary: Vec::new(),
            pdus: rx.pdus,
            largest_pdu: rx.largest_pdu,
            at_ms,
            pdus_at: Some((rx.first_pdu_at, rx.last_pdu_at)),
        });
        Ok(rx)
    }

    /// Attach a data set summary to the last received message.
    pub fn annotate_received(&mut self, summary: Vec<(String, String)>) {
        if let Some(m) = self
            .record
            .messages
            .iter_mut()
            .rev()
            .find(|m| m.flow == Flow::Received)
        {
            m.data_summary = summary;
        }
    }

    /// Send a message, recording it.
    pub async fn send(
        &mut self,
        pc_id: u8,
        cmd: &Command,
        data: Outgoing<'_>,
        summary: Vec<(String, String)>,
        op: Option<&mut OpStart>,
    ) -> Result<(), DimseError> {
        let sha = match data {
            Outgoing::Bytes(b) => {
                use sha2::Digest;
                Some(hex::encode(sha2::Sha256::digest(b)))
            }
            _ => None,
        };
        // The response faults: a wrong Message ID Being Responded To, or another context.
        let mut cmd = cmd.clone();
        let mut pc_id = pc_id;
        if cmd.field & 0x8000 != 0 {
            if self.state.has(Fault::DimseWrongRespondedTo) {
                cmd.responded_to = cmd.responded_to.map(|m| m.wrapping_add(1));
            }
            if self.state.has(Fault::DimseWrongAffectedClass) {
                cmd.affected_sop_class = Some(
                    if cmd.affected_sop_class.as_deref() == Some(uids::VERIFICATION) {
                        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND
                    } else {
                        uids::VERIFICATION
                    }
                    .to_string(),
                );
            }
            if cmd.field == field::C_STORE_RSP && self.state.has(Fault::DimseStoreWrongInstance) {
                cmd.affected_sop_instance = cmd
                    .affected_sop_instance
                    .as_deref()
                    .map(|u| format!("{}.1", &u[..u.len().min(62)]));
            }
            if self.state.has(Fault::DimseWrongContext) {
                pc_id = pc_id.wrapping_add(2);
            }
        }
        let cmd = &cmd;
        let stats = message::send(&mut self.assoc, pc_id, cmd, data).await?;
        if let Some(op) = op {
            if op.first_response.is_none() {
                op.first_response = Some(op.started.elapsed());
            }
        }
        let at_ms = self.ms();
        self.record.messages.push(MessageRecord {
            flow: Flow::Sent,
            pc_id,
            command: cmd.clone(),
            data_len: cmd.has_data_set().then_some(stats.data_bytes),
            data_sha256: sha,
            data_summary: summary,
            pdus: stats.pdus,
            largest_pdu: stats.largest_pdu,
            at_ms,
            pdus_at: None,
        });
        Ok(())
    }

    /// Has the peer sent a C-CANCEL-RQ for `message_id`? Looks at what has arrived without
    /// waiting; anything but a C-CANCEL-RQ while an operation is outstanding is a protocol error
    /// (no asynchronous operations are negotiated, PS3.7 D.3.3.3). A C-CANCEL-RQ for another
    /// message id is ignored.
    pub async fn cancel_requested(&mut self, message_id: u16) -> Result<bool, DimseError> {
        let ignore = self.state.has(Fault::DimseCancelIgnored);
        // Let the runtime poll the I/O driver, so that bytes already on the socket are seen.
        tokio::task::yield_now().await;
        let pending = {
            let (socket, buffer) = AsyncAssociation::get_mut(&mut self.assoc);
            if !buffer.is_empty() {
                true
            } else {
                match socket.try_read_buf(buffer) {
                    Ok(_) => true,
                    Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                }
            }
        };
        if !pending {
            return Ok(false);
        }
        let rx = self.receive().await?;
        if rx.command.field == field::C_CANCEL_RQ {
            if ignore {
                // The fault reads the C-CANCEL and carries on regardless, visibly later.
                tokio::time::sleep(CANCEL_IGNORED_DELAY).await;
                return Ok(false);
            }
            return Ok(rx.command.responded_to == Some(message_id));
        }
        Err(DimseError::Protocol(format!(
            "{} received while request {message_id} was outstanding (no asynchronous operations were negotiated)",
            rx.command.name()
        )))
    }

    /// Wait for a C-STORE-RSP to `store_id` on this association (C-GET sub-operations),
    /// noting a C-CANCEL-RQ for `get_id` on the way.
    pub async fn receive_store_response(
        &mut self,
        store_id: u16,
        get_id: u16,
        cancelled: &mut bool,
    ) -> Result<Command, DimseError> {
        loop {
            let rx = self.receive().await?;
            let c = rx.command;
            if c.field == field::C_STORE_RSP && c.responded_to == Some(store_id) {
                return Ok(c);
            }
            if c.field == field::C_CANCEL_RQ {
                if c.responded_to == Some(get_id) && !self.state.has(Fault::DimseCancelIgnored) {
                    *cancelled = true;
                }
                continue;
            }
            return Err(DimseError::Protocol(format!(
                "{} received while waiting for the C-STORE-RSP to message {store_id}",
                c.name()
            )));
        }
    }

    /// Where the next operation's messages start (its request was just received).
    pub(super) fn op_start(&self) -> OpStart {
        OpStart {
            index: self.record.messages.len().saturating_sub(1),
            started: Instant::now(),
            started_at: now_rfc3339(),
            first_response: None,
        }
    }

    /// Record an operation as an inbound exchange.
    pub(super) fn push_operation(
        &self,
        op: &OpStart,
        operation: String,
        method: &str,
        outcome: &Outcome,
        body: Body,
    ) {
        let mut record = self.record.clone();
        record.messages = self.record.messages[op.index.min(self.record.messages.len())..].to_vec();
        record.ended = "open".into();
        record.dcmtk = outcome.dcmtk.clone();
        let ex = dimse_exchange(ExchangeParts {
            operation,
            method: method.to_string(),
            url: self.url.clone(),
            direction: Direction::Inbound,
            started_at: op.started_at.clone(),
            started: op.started,
            first_response: op.first_response,
            status: outcome.status,
            body,
            record,
        });
        self.state.inbox().push(ex);
    }

    /// `-aet CALLING -aec CALLED` and `host port` of a DCMTK line.
    pub fn dcmtk_ends(&self) -> (String, String) {
        (
            format!(
                "-aet {} -aec {}",
                shell_quote(&self.record.calling_ae),
                shell_quote(&self.record.called_ae)
            ),
            format!("{} {}", self.local.ip(), self.local.port()),
        )
    }

    /// Abort the association on a fault (A-ABORT, service-user) and return the error that ends
    /// its loop without a second abort.
    pub(crate) async fn abort_association(&mut self, when: &str) -> DimseError {
        self.abort(AbortRQSource::ServiceUser).await;
        DimseError::Ul(format!("aborted by the SCP {when} (fault)"))
    }

    pub(super) async fn abort(&mut self, source: AbortRQSource) {
        let _ = AsyncAssociation::send(&mut self.assoc, &Pdu::AbortRQ { source }).await;
    }

    /// The dimse-stall fault: wait for the stall time (or the server's shutdown).
    pub(super) async fn stall(&self) {
        let mut rx = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(self.state.stall()) => {}
            _ = until_shutdown(&mut rx) => {}
        }
    }
}

/// A data set summary: (keyword or tag, value) pairs.
pub(crate) type Summary = Vec<(String, String)>;

/// The summary of a C-STORE-RQ command for sub-operation evidence.
pub(crate) fn store_summary(cmd: &Command, ts: &str) -> Vec<(String, String)> {
    vec![
        (
            "SOPClassUID".into(),
            cmd.affected_sop_class.clone().unwrap_or_default(),
        ),
        (
            "SOPInstanceUID".into(),
            cmd.affected_sop_instance.clone().unwrap_or_default(),
        ),
        ("TransferSyntaxUID".into(), ts.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_reason_seven() {
        let rj = AssociationRJ {
            result: AssociationRJResult::Permanent,
            source: AssociationRJSource::ServiceUser(
                AssociationRJServiceUserReason::CalledAETitleNotRecognized,
            ),
        };
        let r = rejection_of(&rj);
        assert_eq!((r.result, r.source, r.reason), (1, 1, 7));
    }
}
