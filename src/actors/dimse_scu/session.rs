//! The association-long state of one DIMSE SCU operation: the evidence being gathered, the
//! request/response loop shared by C-ECHO, C-FIND, C-MOVE and C-GET (with C-CANCEL and the
//! C-STORE sub-operations of C-GET), and how an association ends after an error: who failed
//! (the network, the harness, or the peer) decides between a `failure` and a verdict.

use std::path::Path;
use std::time::{Duration, Instant};

use dicom_core::Tag;
use dicom_ul::association::client::AsyncClientAssociation;
use dicom_ul::association::AsyncAssociation;
use dicom_ul::Pdu;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::dataset;
use crate::dimse::association::{self, AssociationError, Peer};
use crate::dimse::command::{field, status, Command};
use crate::dimse::message::{self, DimseError, Outgoing, ReceiveOptions, Received, SendStats};
use crate::evidence::dimse::{DimseRecord, Flow, MessageRecord};
use crate::evidence::{Body, Direction, Exchange, HttpRequest, HttpResponse, TransportFailure};
use crate::transaction::Transaction;

/// C-STORE status "Refused: Out of Resources" (PS3.4 §B.2.3), answered when a received
/// instance cannot be written.
const OUT_OF_RESOURCES: u16 = 0xA700;
/// The most bytes of data set summaries kept for one operation: a bound on memory whatever the
/// peer sends (a conformant C-FIND answer holds the keys asked for, a few hundred bytes a match).
const SUMMARY_BUDGET: usize = 16 * 1024 * 1024;

/// The association type of the SCU.
pub(super) type Assoc = AsyncClientAssociation<TcpStream>;

/// The accepted transfer syntax of presentation context `id`.
pub(super) fn context_ts(assoc: &Assoc, id: u8) -> Option<String> {
    assoc
        .presentation_contexts()
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.transfer_syntax.clone())
}

/// The first accepted presentation context for `class`, as (id, transfer syntax).
pub(super) fn context_for(assoc: &Assoc, class: &str) -> Option<(u8, String)> {
    assoc
        .presentation_contexts()
        .iter()
        .find(|p| p.abstract_syntax == class)
        .map(|p| (p.id, p.transfer_syntax.clone()))
}

/// What the exchange is, for its record.
pub(super) struct Meta {
    pub(super) operation: String,
    pub(super) actor: &'static str,
    pub(super) method: &'static str,
    pub(super) repro: String,
}

/// One association's worth of evidence being gathered.
pub(super) struct Session<'a> {
    pub(super) peer: &'a Peer,
    pub(super) record: DimseRecord,
    t0: Instant,
    pub(super) started_at: String,
    pub(super) first_response: Option<Duration>,
    pub(super) failure: Option<TransportFailure>,
    pub(super) status: Option<u16>,
    pub(super) notes: Vec<(String, String)>,
    pub(super) body: Body,
    pub(super) opts: ReceiveOptions,
    /// The request sent whole and not yet answered by a final response (its name): a peer that
    /// closes or aborts now broke the request/response contract (PEER-01).
    awaiting: Option<&'static str>,
    /// Bytes of data set summaries kept so far.
    kept: usize,
}

impl<'a> Session<'a> {
    pub(super) fn new(peer: &'a Peer) -> Session<'a> {
        Session {
            peer,
            record: DimseRecord::default(),
            t0: Instant::now(),
            started_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            first_response: None,
            failure: None,
            status: None,
            notes: Vec::new(),
            body: Body::default(),
            opts: ReceiveOptions {
                max_data_set: peer.limits.max_data_set,
                deadline: Some(tokio::time::Instant::now() + peer.limits.timeout),
                ..ReceiveOptions::new(peer.read_timeout)
            },
            awaiting: None,
            kept: 0,
        }
    }

    fn at_ms(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    pub(super) fn fail(&mut self, kind: &str, message: String) {
        if self.failure.is_none() {
            self.failure = Some(TransportFailure {
                kind: kind.into(),
                message,
            });
        }
    }

    fn sent(
        &mut self,
        pc_id: u8,
        command: &Command,
        stats: SendStats,
        data_sha256: Option<String>,
        data_summary: Vec<(String, String)>,
    ) {
        if command.field & 0x8000 == 0 && command.field != field::C_CANCEL_RQ {
            self.awaiting = Some(command.name());
        }
        let at_ms = self.at_ms();
        self.record.messages.push(MessageRecord {
            flow: Flow::Sent,
            pc_id,
            command: command.clone(),
            data_len: data_sha256.as_ref().map(|_| stats.data_bytes),
            data_sha256,
            data_summary,
            pdus: stats.pdus,
            largest_pdu: stats.largest_pdu,
            at_ms,
            pdus_at: None,
        });
    }

    /// Record a received message; a data set spilled to a spool file is removed.
    fn received(&mut self, r: &Received, data_summary: Vec<(String, String)>) {
        if r.command.field & 0x8000 != 0 && !r.command.status.is_some_and(status::is_pending) {
            self.awaiting = None;
        }
        self.kept += data_summary
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
        if let Some(message::DataSet::File { path, .. }) = &r.data {
            let _ = std::fs::remove_file(path);
        }
        if self.first_response.is_none() {
            self.first_response = Some(self.t0.elapsed());
        }
        let at_ms = self.at_ms();
        self.record.messages.push(MessageRecord {
            flow: Flow::Received,
            pc_id: r.pc_id,
            command: r.command.clone(),
            data_len: r.data.as_ref().map(|d| d.len()),
            data_sha256: r.data_sha256.clone(),
            data_summary,
            pdus: r.pdus,
            largest_pdu: r.largest_pdu,
            at_ms,
            pdus_at: Some((r.first_pdu_at, r.last_pdu_at)),
        });
    }

    /// Open the association; on failure, record it (a verdict leaves `failure` empty).
    pub(super) async fn open(
        &mut self,
        contexts: &[(String, Vec<String>)],
        roles: &[(String, bool, bool)],
    ) -> Option<Assoc> {
        match association::open(self.peer, contexts, roles, &mut self.record).await {
            Ok(a) => Some(a),
            Err(e) => {
                if let Some(kind) = e.failure_kind() {
                    let message = match &e {
                        AssociationError::Connect { .. } => e.to_string(),
                        _ => format!("{}: {e}", self.peer.url()),
                    };
                    self.fail(kind, message);
                }
                None
            }
        }
    }

    /// Send a message and record it; the digest of a data set sent from a file is taken as it
    /// is sent when `data_sha256` does not give it.
    pub(super) async fn send(
        &mut self,
        assoc: &mut Assoc,
        pc_id: u8,
        command: &Command,
        data: Outgoing<'_>,
        data_sha256: Option<String>,
        summary: Vec<(String, String)>,
    ) -> Result<(), DimseError> {
        let mut stats = message::send(assoc, pc_id, command, data).await?;
        let digest = data_sha256.or(stats.data_sha256.take().map(hex::encode));
        self.sent(pc_id, command, stats, digest, summary);
        Ok(())
    }

    /// End the association after `e`, recording who failed.
    pub(super) async fn end_with(&mut self, mut assoc: Assoc, e: DimseError, during: &str) {
        let url = self.peer.url();
        match e {
            DimseError::Timeout(ms) => {
                let m = format!("timeout: no PDU from {url} within {ms} ms while {during}");
                self.fail("timeout", m.clone());
                association::abort(assoc, &mut self.record, &m).await;
            }
            DimseError::Deadline => {
                let m = format!(
                    "timeout: the operation with {url} did not end within {} ms ([dimse] timeout_ms) while {during}",
                    self.peer.limits.timeout.as_millis()
                );
                self.fail("timeout", m.clone());
                association::abort(assoc, &mut self.record, &m).await;
            }
            DimseError::Aborted => {
                match self.awaiting {
                    Some(rq) => self.fail(
                        crate::checks::peer::PEER_CLOSED,
                        format!(
                            "{url} aborted the association (A-ABORT) instead of answering the {rq} while {during}"
                        ),
                    ),
                    None => self.fail(
                        "aborted",
                        format!("{url} aborted the association while {during}"),
                    ),
                }
                self.record.ended = format!("aborted by the peer while {during}");
            }
            DimseError::ReleaseRequested => {
                let wait = self.peer.read_timeout;
                let _ =
                    tokio::time::timeout(wait, AsyncAssociation::send(&mut assoc, &Pdu::ReleaseRP))
                        .await;
                let _ = tokio::time::timeout(wait, assoc.inner_stream().shutdown()).await;
                self.record.ended = format!("released by the peer (A-RELEASE-RQ) while {during}");
            }
            e if e.is_peer_fault() => {
                let m = format!("protocol violation: {e} (while {during})");
                association::abort(assoc, &mut self.record, &m).await;
            }
            DimseError::Io(io) => {
                let m = format!("local file error while {during}: {io}");
                self.fail("io", m.clone());
                association::abort(assoc, &mut self.record, &m).await;
            }
            other => {
                let text = other.to_string();
                let lower = text.to_lowercase();
                if lower.contains("timed out") {
                    let m =
                        format!("timeout: {url} did not take or give a PDU in time while {during}");
                    self.fail("timeout", m.clone());
                    association::abort(assoc, &mut self.record, &m).await;
                } else if ["closed", "reset by peer", "broken pipe", "unexpected end"]
                    .iter()
                    .any(|w| lower.contains(w))
                {
                    // The TCP connection ended without an A-RELEASE or A-ABORT (A-P-ABORT).
                    match self.awaiting {
                        Some(rq) => self.fail(
                            crate::checks::peer::PEER_CLOSED,
                            format!(
                                "{url} closed the connection instead of answering the {rq} while {during}"
                            ),
                        ),
                        None => self.fail(
                            "aborted",
                            format!("{url} closed the connection while {during}"),
                        ),
                    }
                    self.record.ended = format!("closed by the peer while {during}");
                } else {
                    let m = format!("{text} while {during}");
                    self.fail("protocol", format!("{url}: {m}"));
                    association::abort(assoc, &mut self.record, &m).await;
                }
            }
        }
    }

    pub(super) fn finish(mut self, meta: Meta) -> Exchange {
        self.record.dcmtk = meta.repro.clone();
        Exchange {
            seq: 0,
            transaction: Transaction::Dimse,
            operation: meta.operation,
            actor: meta.actor.into(),
            direction: Direction::Outbound,
            started_at: self.started_at,
            time_to_headers: self.first_response,
            elapsed: self.t0.elapsed(),
            request: HttpRequest {
                method: meta.method.into(),
                url: self.peer.url(),
                headers: self.notes,
                body: self.body,
            },
            response: self.status.map(|s| HttpResponse {
                status: s,
                headers: vec![],
                body: Body::default(),
            }),
            multipart: None,
            failure: self.failure,
            repro: meta.repro,
            tls: self.record.tls.clone(),
            dimse: Some(Box::new(self.record)),
        }
    }
}

/// Where C-GET sub-operations are written.
pub(super) struct GetSink<'p> {
    pub(super) dir: &'p Path,
    pub(super) received: usize,
}

/// A request with its responses: what varies between C-ECHO, C-FIND, C-MOVE and C-GET.
pub(super) struct Request<'r> {
    pub(super) field: u16,
    pub(super) class: &'r str,
    pub(super) keys: Option<&'r [(Tag, String)]>,
    pub(super) move_destination: Option<&'r str>,
    pub(super) cancel_after: Option<usize>,
}

impl Session<'_> {
    /// Send `rq` on `pc_id` and read responses up to the final one; returns its status.
    async fn run(
        &mut self,
        assoc: &mut Assoc,
        pc_id: u8,
        ts: &str,
        rq: &Request<'_>,
        identifier: Option<&[u8]>,
        mut sink: Option<&mut GetSink<'_>>,
    ) -> Result<u16, (DimseError, String)> {
        let message_id = next_message_id();
        let mut cmd = Command::request(rq.field, rq.class, message_id, identifier.is_some());
        cmd.move_destination = rq.move_destination.map(str::to_string);
        let summary: Vec<(String, String)> = rq
            .keys
            .unwrap_or_default()
            .iter()
            .map(|(t, v)| (dataset::keyword(*t), v.clone()))
            .collect();
        let (data, sha) = match identifier {
            Some(b) => {
                use sha2::Digest;
                (
                    Outgoing::Bytes(b),
                    Some(hex::encode(sha2::Sha256::digest(b))),
                )
            }
            None => (Outgoing::None, None),
        };
        let name = field::name(rq.field);
        self.send(assoc, pc_id, &cmd, data, sha, summary)
            .await
            .map_err(|e| (e, format!("sending {name}")))?;
        let rsp_field = rq.field | 0x8000;
        let rsp_name = field::name(rsp_field);
        let mut pending = 0usize;
        let max = self.peer.limits.max_messages;
        for _ in 0..max {
            let waiting = format!("waiting for {rsp_name} (after {pending} pending)");
            let r = message::receive(assoc, &self.opts)
                .await
                .map_err(|e| (e, waiting.clone()))?;
            if r.command.field == field::C_STORE_RQ {
                if let Some(s) = sink.as_deref_mut() {
                    self.store_sub_operation(assoc, r, s).await?;
                    continue;
                }
            }
            let summary = match (&r.data, r.command.field == rsp_field) {
                (Some(d), true) => {
                    let rts = context_ts(assoc, r.pc_id).unwrap_or_else(|| ts.to_string());
                    d.bytes()
                        .map(|b| dataset::summarize(&b, &rts))
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            self.received(&r, summary);
            if self.kept > SUMMARY_BUDGET {
                return Err((
                    DimseError::Protocol(format!(
                        "the identifiers of the answer exceed {SUMMARY_BUDGET} bytes"
                    )),
                    waiting,
                ));
            }
            if r.command.field != rsp_field || r.command.responded_to != Some(message_id) {
                let m = format!(
                    "{} (responding to {}) received while waiting for {rsp_name} to message {message_id}",
                    r.command.name(),
                    responding_to(&r.command)
                );
                return Err((DimseError::Protocol(m), waiting));
            }
            let Some(st) = r.command.status else {
                return Err((
                    DimseError::Protocol(format!("{rsp_name} without Status (0000,0900)")),
                    waiting,
                ));
            };
            if !status::is_pending(st) {
                return Ok(st);
            }
            pending += 1;
            if rq.cancel_after == Some(pending) {
                let cancel = Command::request(field::C_CANCEL_RQ, rq.class, message_id, false);
                self.send(assoc, pc_id, &cancel, Outgoing::None, None, Vec::new())
                    .await
                    .map_err(|e| (e, "sending C-CANCEL-RQ".to_string()))?;
            }
        }
        Err((
            DimseError::Protocol(format!(
                "more than {max} messages without a final {rsp_name} (the harness's limit, [dimse] max_responses)"
            )),
            format!("waiting for {rsp_name}"),
        ))
    }

    /// A C-STORE-RQ sub-operation of C-GET: write the instance, answer, record it.
    async fn store_sub_operation(
        &mut self,
        assoc: &mut Assoc,
        r: Received,
        sink: &mut GetSink<'_>,
    ) -> Result<(), (DimseError, String)> {
        let during = "receiving a C-STORE sub-operation".to_string();
        let mut r = r;
        let Some(data) = r.data.take() else {
            self.received(&r, Vec::new());
            let e = DimseError::Protocol("C-STORE-RQ without a data set".into());
            return Err((e, during));
        };
        sink.received += 1;
        let ts = context_ts(assoc, r.pc_id).unwrap_or_default();
        let class = r.command.affected_sop_class.clone().unwrap_or_default();
        let instance = r.command.affected_sop_instance.clone().unwrap_or_default();
        let path = sink
            .dir
            .join(dataset::file_name(Some(&instance), sink.received));
        let (pa, cl, ins, t) = (path.clone(), class.clone(), instance.clone(), ts.clone());
        let joined = tokio::task::spawn_blocking(move || {
            let written = dataset::write_part10(&pa, &cl, &ins, &t, &data);
            let mut identity = identity_of(&data, &t);
            // The image apart from the other attributes (DIM-08 compares it; the rest may be
            // coerced by the SCP, PS3.4 §B.4.1.3).
            if let Some(sha) = pixel_digest(&data, &t) {
                identity.push(("PixelDataSHA256".to_string(), sha));
            }
            (written, identity, data)
        })
        .await;
        // What the data set itself says it is (DIM-17 compares it with the command).
        let (written, mut summary) = match joined {
            Ok((written, identity, data)) => {
                r.data = Some(data);
                (written, identity)
            }
            Err(e) => (Err(e.into()), Vec::new()),
        };
        summary.push(("TransferSyntaxUID".to_string(), ts));
        let st = match written {
            Ok(_) => {
                summary.push(("File".into(), path.display().to_string()));
                status::SUCCESS
            }
            Err(e) => {
                summary.push(("NotWritten".into(), e.to_string()));
                self.fail("io", format!("cannot write a received instance: {e}"));
                OUT_OF_RESOURCES
            }
        };
        self.received(&r, summary);
        let rsp = Command::response_to(&r.command, st, false);
        self.send(assoc, r.pc_id, &rsp, Outgoing::None, None, Vec::new())
            .await
            .map_err(|e| (e, "sending C-STORE-RSP".to_string()))
    }

    /// Open, run `rq` on the context of its class, close: the common path of the Q/R and
    /// verification operations.
    pub(super) async fn request(
        &mut self,
        contexts: &[(String, Vec<String>)],
        roles: &[(String, bool, bool)],
        rq: &Request<'_>,
        sink: Option<&mut GetSink<'_>>,
    ) {
        let Some(mut assoc) = self.open(contexts, roles).await else {
            return;
        };
        let Some((pc_id, ts)) = context_for(&assoc, rq.class) else {
            association::close(assoc, &mut self.record).await;
            self.record.ended = format!(
                "{} (no presentation context accepted for {})",
                self.record.ended, rq.class
            );
            return;
        };
        let identifier = match rq.keys {
            Some(keys) => match dataset::encode_identifier(keys, &ts) {
                Ok(bytes) => {
                    self.body = Body::from_bytes(bytes.clone().into());
                    Some(bytes)
                }
                Err(e) => {
                    self.fail("request", format!("cannot build the identifier: {e}"));
                    association::abort(assoc, &mut self.record, "identifier not encodable").await;
                    return;
                }
            },
            None => None,
        };
        match self
            .run(&mut assoc, pc_id, &ts, rq, identifier.as_deref(), sink)
            .await
        {
            Ok(st) => {
                self.status = Some(st);
                association::close(assoc, &mut self.record).await;
            }
            Err((e, during)) => self.end_with(assoc, e, &during).await,
        }
    }
}

impl Session<'_> {
    /// Read the C-STORE-RSP to `message_id`.
    pub(super) async fn store_response(
        &mut self,
        assoc: &mut Assoc,
        message_id: u16,
    ) -> Result<u16, (DimseError, String)> {
        let during = format!("waiting for C-STORE-RSP to message {message_id}");
        let r = message::receive(assoc, &self.opts)
            .await
            .map_err(|e| (e, during.clone()))?;
        self.received(&r, Vec::new());
        if r.command.field != field::C_STORE_RSP || r.command.responded_to != Some(message_id) {
            let m = format!(
                "{} (responding to {}) received instead of C-STORE-RSP to message {message_id}",
                r.command.name(),
                responding_to(&r.command)
            );
            return Err((DimseError::Protocol(m), during));
        }
        r.command.status.ok_or_else(|| {
            (
                DimseError::Protocol("C-STORE-RSP without Status (0000,0900)".into()),
                during,
            )
        })
    }
}

/// The Message ID Being Responded To of a command, for messages.
fn responding_to(c: &Command) -> String {
    c.responded_to
        .map_or("no message".to_string(), |id| format!("message {id}"))
}

/// The digest of the image of a received data set ([`crate::dimse::pixels`]), when it has one and
/// is not larger than [`crate::dimse::pixels::MAX_DIGESTED`].
fn pixel_digest(data: &message::DataSet, ts: &str) -> Option<String> {
    use crate::dimse::pixels::{pixel_data_sha256, MAX_DIGESTED};
    match data {
        message::DataSet::Memory(v) => pixel_data_sha256(v, ts),
        message::DataSet::File { path, size } if *size <= MAX_DIGESTED => {
            pixel_data_sha256(&std::fs::read(path).ok()?, ts)
        }
        message::DataSet::File { .. } => None,
    }
}

/// The identifying attributes of a received data set, read from its first bytes.
fn identity_of(data: &message::DataSet, ts: &str) -> Vec<(String, String)> {
    use std::io::Read;
    let limit = dataset::IDENTITY_PREFIX;
    match data {
        message::DataSet::Memory(v) => {
            dataset::identity(&v[..v.len().min(limit)], ts, v.len() <= limit)
        }
        message::DataSet::File { path, size } => {
            let mut prefix = Vec::with_capacity(limit);
            let read = std::fs::File::open(path)
                .and_then(|f| f.take(limit as u64).read_to_end(&mut prefix));
            match read {
                Ok(_) => dataset::identity(&prefix, ts, *size <= limit as u64),
                Err(e) => vec![("(undecodable)".into(), format!("cannot read it back: {e}"))],
            }
        }
    }
}

/// Message IDs unique within the process (PS3.7 §9.1.1.1 asks only for uniqueness within an
/// association; process-wide ids also tell apart the sub-operations of concurrent C-MOVEs, which
/// carry the Move Originator Message ID).
fn next_message_id() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(1);
    loop {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        if id != 0 {
            return id;
        }
    }
}
